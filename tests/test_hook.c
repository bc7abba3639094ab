/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep hook precreate|poststop driven as an engine drives them: config on stdin, the
   runtime config on stdout, runc/crun run it, the container state to poststop; podman. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

/* TMP/img the layout, TMP/store the store, TMP/b the bundle (created empty by setup).  */
static char *tmp, *layout, *store, *bundle;

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
  bundle = tu_fmt ("%s/b", tmp);
  fx_mkdir_p (bundle);
}

/* Undo whatever a test left, even half-way: containers, then mounts (detached, so that
   removing TMP never reaches into the layer store).  */
static void
teardown (void)
{
  tu_workdir_free (&tmp, &layout, &store);
  free (bundle);
  bundle = NULL;
}

TestSuite (hook, .init = setup, .fini = teardown, .timeout = 180);

/* ---- the image ---- */

static const char *const applets[] = { "sh", "id", "cat", "ls", "env", "pwd", "echo", "sed", "test", NULL };

#define PASSWD                                                                                                         \
  "root:x:0:0:root:/root:/bin/sh\n"                                                                                    \
  "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"                                                                      \
  "bob:x:2000:3000:Bob:/home/bob:/bin/sh\n"
#define GROUP                                                                                                          \
  "root:x:0:\n"                                                                                                        \
  "alice:x:1000:\n"                                                                                                    \
  "bobs:x:3000:\n"                                                                                                     \
  "staff:x:50:alice\n"
#define MOTD "motd from the image"

/* What the "main" image's command prints.  */
#define MAIN_SCRIPT "echo ARGS $0; echo CWD $(pwd); id; env | sed 's/^/ENV /'; cat /etc/motd"

static const struct tu_ref_config image_configs[] = {
  { "main", "{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"" MAIN_SCRIPT "\",\"a0\"],"
            "\"Env\":[\"FOO=bar\",\"PATH=/bin:/image\",\"IMGONLY=1\"],\"WorkingDir\":\"/work\",\"User\":\"alice\","
            "\"Labels\":{\"org.example.label\":\"image\",\"shared.key\":\"image\"}}" },
  /* No Entrypoint, no Cmd: the engine has to bring the command.  */
  { "nocmd", "{\"Env\":[\"FOO=bar\"],\"WorkingDir\":\"/work\",\"User\":\"alice\"}" },
  /* A User the image's passwd lacks: only usable when the engine chooses the user.  */
  { "ghost", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"id\"],\"User\":\"ghost\"}" },
  /* Labels in the namespaces runtimes act on: crun would create run.oci.hooks.stdout on
     the host, as root, for a container with any hook.  */
  { "runtime", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"id\"],\"Labels\":{\"run.oci.hooks.stdout\":\"/tmp/pwned\","
               "\"run.oci.keep_original_groups\":\"1\",\"org.systemd.property.CollectMode\":\"x\","
               "\"io.kubernetes.cri-o.Devices\":\"/dev/sda\",\"io.oci-prep.image\":\"/elsewhere\","
               "\"team\":\"image\"}}" },
};

/* Layer 1: static busybox and applet links, passwd, group, home/alice.
   Layer 2: etc/motd and work/.  Every ref of image_configs over those two layers.  */
static void
busybox_image (void)
{
  struct fx_layer layers[2] = { { 0 } };
  struct fx_tar *t = fx_tar_new ();
  size_t l1, l2;
  void *t1, *t2;

  tu_tar_busybox (t, applets);
  tu_tar_users (t, PASSWD, GROUP);
  fx_tar_dir (t, "tmp", 01777);
  fx_tar_finish (t, &t1, &l1);

  t = fx_tar_new ();
  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/motd", 0644, MOTD "\n");
  fx_tar_dir (t, "work", 0755);
  fx_tar_finish (t, &t2, &l2);

  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1, .compression = "gzip" };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2, .compression = "none" };
  tu_images_per_config (layout, layers, 2, image_configs, sizeof image_configs / sizeof image_configs[0]);
  free (t1);
  free (t2);
}

/* ---- engine configs ---- */

#define ENGINE_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* The process members an engine writes when the user asked for nothing in particular.  */
#define DEFAULT_PROCESS                                                                                                \
  "\"terminal\": false,\n    \"user\": {\"uid\": 0, \"gid\": 0},\n    \"args\": [],\n"                                 \
  "    \"env\": [\"" ENGINE_PATH "\", \"TERM=xterm\", \"ENGINE=1\"],\n    \"cwd\": \"/\""
#define DEFAULT_ROOT "{\"path\": \"rootfs\", \"readonly\": false}"

/* The annotation naming REF of the layout.  */
static char *
image_annotation (const char *ref)
{
  return tu_fmt ("\"io.oci-prep.image\": \"%s:%s\"", layout, ref);
}

/* A runtime config as runc spec / podman write it: PROCESS are the first members of
   "process" (NULL: no "process" at all), ROOT the "root" object (NULL: no "root"),
   ANNOTATIONS the members of "annotations" (NULL: no "annotations").  */
static char *
engine_config (const char *process, const char *root, const char *annotations)
{
  char *p = process ? tu_fmt ("  \"process\": {\n    %s,\n"
                              "    \"capabilities\": {\n"
                              "      \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
                              "      \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
                              "      \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
                              "    },\n"
                              "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
                              "    \"noNewPrivileges\": true\n  },\n",
                              process)
                    : strdup ("");
  char *r = root ? tu_fmt ("  \"root\": %s,\n", root) : strdup ("");
  char *a = annotations ? tu_fmt ("  \"annotations\": {%s},\n", annotations) : strdup ("");
  char *c = tu_fmt ("{\n  \"ociVersion\": \"1.0.2\",\n%s%s"
                    "  \"hostname\": \"engine\",\n"
                    "  \"mounts\": [\n"
                    "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
                    "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
                    " \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
                    "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
                    " \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"]},\n"
                    "    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
                    " \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
                    "    {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
                    " \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
                    "    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
                    " \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}\n"
                    "  ],\n%s"
                    "  \"linux\": {\n"
                    "    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
                    " {\"type\": \"uts\"}, {\"type\": \"mount\"}],\n"
                    "    \"maskedPaths\": [\"/proc/kcore\", \"/proc/keys\", \"/sys/firmware\"],\n"
                    "    \"readonlyPaths\": [\"/proc/bus\", \"/proc/sys\", \"/proc/sysrq-trigger\"]\n"
                    "  }\n}\n",
                    p, r, a);
  free (p);
  free (r);
  free (a);
  return c;
}

/* engine_config with the annotation for REF plus EXTRA annotation members (or NULL).  */
static char *
engine_config_for (const char *process, const char *root, const char *ref, const char *extra)
{
  char *ann = image_annotation (ref);
  char *all = extra ? tu_fmt ("%s, %s", ann, extra) : strdup (ann);
  char *c = engine_config (process, root, all);
  free (ann);
  free (all);
  return c;
}

/* ---- running the hook ---- */

/* DIR/proposed.json := CONFIG.  */
static void
propose (const char *dir, const char *config)
{
  char *p = tu_fmt ("%s/proposed.json", dir);
  fx_write_file (p, config, strlen (config));
  free (p);
}

/* As an engine: cd DIR && oci-prep --store STORE hook precreate < proposed.json > config.json.
   R->out is empty (stdout is config.json); R->err the hook's stderr.  */
static void
precreate_in (struct tu_result *r, const char *dir)
{
  tu_sh (r, "cd '%s' && exec '%s' --store '%s' hook precreate < proposed.json > config.json", dir, OCIP_BINARY,
         store);
}

static void
precreate (struct tu_result *r)
{
  precreate_in (r, bundle);
}

/* The container state an engine gives poststop for BUNDLE_DIR.  */
static char *
state_json (const char *bundle_dir)
{
  return tu_fmt ("{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":\"stopped\",\"pid\":0,\"bundle\":\"%s\","
                 "\"annotations\":{\"io.oci-prep.image\":\"%s:main\"}}",
                 bundle_dir, layout);
}

/* oci-prep --store STORE hook poststop < STATE, from TMP (not the bundle): the engine
   calls it with the same hooks.d arguments as precreate, from wherever it runs.  */
static void
poststop_text (struct tu_result *r, const char *state)
{
  char *p = tu_fmt ("%s/state.json", tmp);

  fx_write_file (p, state, strlen (state));
  tu_sh (r, "cd '%s' && exec '%s' --store '%s' hook poststop < '%s'", tmp, OCIP_BINARY, store, p);
  free (p);
}

static void
poststop (struct tu_result *r, const char *bundle_dir)
{
  char *s = state_json (bundle_dir);
  poststop_text (r, s);
  free (s);
}

/* ---- inspecting results ---- */

static void
assert_mounted_overlay (const char *path)
{
  char *type = tu_mount_type (path);

  cr_assert (type != NULL, "nothing is mounted at %s", path);
  cr_assert_str_eq (type, "overlay", "%s is a %s mount, not overlay", path, type);
  free (type);
}

/* Nothing mounted under TMP, no state in BUNDLE_DIR, no pin in the store.  */
static void
assert_clean (const char *bundle_dir)
{
  char **mps = NULL;
  size_t n = tu_mount_points_under (tmp, &mps);

  cr_assert_eq (n, 0, "still mounted: %s", n ? mps[0] : "");
  free (mps);
  cr_assert (! tu_exists (bundle_dir, ".oci-prep"), "%s/.oci-prep was left behind", bundle_dir);
  cr_assert_eq (tu_count_pins (store), 0, "a pin was left in %s/bundles", store);
}

/* R is the one-line error of a failed hook: exit 1, stdout (config.json) empty,
   "oci-prep: ..." with NEEDLE in it (when not NULL).  */
static void
assert_hook_error (const struct tu_result *r, const char *dir, const char *needle)
{
  char *out = tu_fmt ("%s/config.json", dir);
  size_t len = 0;
  char *text = tu_exists (out, NULL) ? fx_read_file (out, &len) : NULL;

  tu_assert_error (r, needle);
  cr_assert_eq (len, 0, "a failed hook printed a config: %s", text ? text : "");
  free (text);
  free (out);
}

/* ---- the output config ---- */

#define assert_json(file, path, expected)                                                                              \
  do                                                                                                                   \
    {                                                                                                                  \
      char *got_ = tu_json_at ((file), (path));                                                                        \
      cr_assert_str_eq (got_, (expected), "%s: %s\n  got:      %s\n  expected: %s", (file), (path), got_, (expected)); \
      free (got_);                                                                                                     \
    }                                                                                                                  \
  while (0)

/* FILE parses with python3's json module, an independent parser.  */
static void
assert_python_parses (const char *file)
{
  struct tu_result r;

  if (! tu_have ("python3"))
    {
      cr_assert (! tu_in_ci (), "python3 is missing in CI");
      return;
    }
  tu_sh (&r, "python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); assert isinstance(c, dict)' '%s'",
         file);
  cr_assert_eq (r.status, 0, "python3 cannot read %s: %s", file, r.err);
  tu_result_free (&r);
}

/* cmp A B: byte for byte.  */
static void
assert_same_bytes (const char *a, const char *b)
{
  struct tu_result r;

  tu_sh (&r, "cmp '%s' '%s'", a, b);
  cr_assert_eq (r.status, 0, "%s and %s differ: %s%s", a, b, r.out, r.err);
  tu_result_free (&r);
}

/* ---- the round trip ---- */

/* The engine left args, cwd and user to the image: everything comes from it, runc runs
   it, poststop undoes it (twice).  */
Test (hook, precreate_fills_from_the_image_then_runc_runs_then_poststop_cleans)
{
  struct tu_result r;
  char *config = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "main",
                                    "\"shared.key\": \"engine\", \"org.example.engine\": \"e\"");
  char *out = tu_fmt ("%s/config.json", bundle), *rootfs = tu_fmt ("%s/rootfs", bundle);

  tu_need ("runc", teardown);
  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  cr_assert_str_eq (r.err, "", "a successful hook says nothing on stderr");
  tu_result_free (&r);

  assert_python_parses (out);
  assert_json (out, "process/args", "[\"/bin/sh\",\"-c\",\"" MAIN_SCRIPT "\",\"a0\"]");
  /* The engine's variables first and kept (its PATH wins), then the image's it lacks.  */
  assert_json (out, "process/env",
               "[\"" ENGINE_PATH "\",\"TERM=xterm\",\"ENGINE=1\",\"FOO=bar\",\"IMGONLY=1\",\"HOME=/home/alice\"]");
  assert_json (out, "process/cwd", "\"/work\"");
  assert_json (out, "process/user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,50]}");
  /* What the engine decided and the image has no say in.  */
  assert_json (out, "process/terminal", "false");
  assert_json (out, "process/noNewPrivileges", "true");
  assert_json (out, "process/capabilities/bounding", "[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]");
  assert_json (out, "root", "{\"path\":\"rootfs\",\"readonly\":false}");
  assert_json (out, "hostname", "\"engine\"");
  assert_json (out, "linux/namespaces",
               "[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
               "{\"type\":\"mount\"}]");
  assert_json (out, "linux/seccomp", "(absent)");
  assert_json (out, "mounts/5/destination", "\"/sys\"");
  assert_json (out, "mounts/6", "(absent)");
  /* Annotations: the engine's kept, the image's it lacks added.  */
  {
    char *expected = tu_fmt ("\"%s:main\"", layout);
    assert_json (out, "annotations/io.oci-prep.image", expected);
    free (expected);
  }
  assert_json (out, "annotations/shared.key", "\"engine\"");
  assert_json (out, "annotations/org.example.engine", "\"e\"");
  assert_json (out, "annotations/org.example.label", "\"image\"");
  assert_json (out, "annotations/org.opencontainers.image.os", "\"linux\"");

  assert_mounted_overlay (rootfs);
  cr_assert (! tu_exists (bundle, ".oci-prep"), "precreate wrote into the engine's bundle");
  cr_assert_eq (tu_count_pins (store), 1);

  tu_runc_run (&r, bundle);
  cr_assert_eq (r.status, 0, "runc run failed (%d): %s%s", r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, "ARGS a0"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "CWD /work"), "%s", r.out);
  cr_assert (strncmp (strstr (r.out, "uid=") ? strstr (r.out, "uid=") : "", "uid=1000(alice) gid=1000(alice)", 31)
                 == 0,
             "%s", r.out);
  cr_assert (tu_has_line (r.out, "ENV " ENGINE_PATH), "%s", r.out);
  cr_assert (tu_has_line (r.out, "ENV ENGINE=1"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "ENV FOO=bar"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "ENV IMGONLY=1"), "%s", r.out);
  cr_assert (! tu_has_line (r.out, "ENV PATH=/bin:/image"), "%s", r.out);
  cr_assert (tu_has_line (r.out, MOTD), "%s", r.out);
  tu_result_free (&r);

  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "poststop failed (%d): %s", r.status, r.err);
  cr_assert_str_eq (r.err, "");
  tu_result_free (&r);
  assert_clean (bundle);
  /* The rest of the bundle is the engine's: left alone.  */
  cr_assert (tu_exists (bundle, "config.json") && tu_exists (bundle, "proposed.json"));
  cr_assert (! tu_exists (rootfs, NULL), "the rootfs directory the hook made is left behind");

  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "poststop twice (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (out);
  free (rootfs);
}

/* The config `runc spec` writes, as an engine would hand it over (terminal off, args
   empty, the annotation added), readonly root and all.  */
Test (hook, runc_spec_config_round_trip)
{
  struct tu_result r;
  char *out = tu_fmt ("%s/config.json", bundle);

  tu_need ("runc", teardown);
  busybox_image ();
  tu_sh (&r,
         "cd '%s' && runc spec && "
         "sed -e 's/\"terminal\": true/\"terminal\": false/' "
         "-e '/\"args\": \\[/,/\\]/c\\\t\t\"args\": [],' "
         "-e 's#^\t\"ociVersion\": \\(.*\\)$#\t\"ociVersion\": \\1\\n\t\"annotations\": {\"io.oci-prep.image\": "
         "\"%s:main\"},#' "
         "config.json > proposed.json && rm config.json && grep -q '\"args\": \\[\\],' proposed.json "
         "&& grep -q io.oci-prep.image proposed.json",
         bundle, layout);
  cr_assert_eq (r.status, 0, "cannot make the proposed config from runc spec: %s%s", r.out, r.err);
  tu_result_free (&r);
  {
    char *in = tu_fmt ("%s/proposed.json", bundle);
    assert_python_parses (in);
    free (in);
  }

  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_python_parses (out);
  assert_json (out, "process/args/3", "\"a0\"");
  assert_json (out, "process/cwd", "\"/work\"");
  assert_json (out, "process/user/uid", "1000");
  assert_json (out, "root/readonly", "true");
  {
    char *rootfs = tu_fmt ("%s/rootfs", bundle);
    assert_mounted_overlay (rootfs);
    free (rootfs);
  }

  tu_runc_run (&r, bundle);
  cr_assert_eq (r.status, 0, "runc run failed (%d): %s%s", r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, "CWD /work"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "ENV FOO=bar"), "%s", r.out);
  cr_assert (tu_has_line (r.out, MOTD), "%s", r.out);
  tu_result_free (&r);

  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (out);
}

/* crun wants a pure cgroup2 hierarchy: give it one in a private mount namespace.  */
Test (hook, crun_runs_the_prepared_bundle)
{
  struct tu_result r;
  char *config = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "main", NULL);

  tu_need ("crun", teardown);
  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);

  tu_crun_run (&r, bundle);
  cr_assert_eq (r.status, 0, "crun run failed (%d): %s%s", r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, "CWD /work"), "%s", r.out);
  cr_assert (strstr (r.out, "uid=1000(alice)") != NULL, "%s", r.out);
  cr_assert (tu_has_line (r.out, "ENV FOO=bar"), "%s", r.out);
  cr_assert (tu_has_line (r.out, MOTD), "%s", r.out);
  tu_result_free (&r);

  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
}

/* root.path absolute: inside the bundle, and outside it (as podman's --rootfs gives).  */
static void
absolute_root (const char *rootfs, bool engine_made_it)
{
  struct tu_result r;
  char *root = tu_fmt ("{\"path\": \"%s\", \"readonly\": false}", rootfs);
  char *config = engine_config_for (DEFAULT_PROCESS, root, "main", NULL);
  char *out = tu_fmt ("%s/config.json", bundle);
  char *expected = tu_fmt ("\"%s\"", rootfs);

  tu_need ("runc", teardown);
  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_json (out, "root/path", expected);
  assert_mounted_overlay (rootfs);
  /* Engines run hooks from anywhere (podman: its own cwd): the state is in the store.  */
  cr_assert (! tu_exists (bundle, ".oci-prep"), "precreate wrote into the engine's bundle");
  {
    struct tu_result f;
    tu_sh (&f, "ls '%s'/hooks/*/.oci-prep/state.json", store);
    cr_assert_eq (f.status, 0, "no hook state in the store: %s", f.err);
    tu_result_free (&f);
  }

  tu_runc_run (&r, bundle);
  cr_assert_eq (r.status, 0, "runc run failed (%d): %s%s", r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, MOTD), "%s", r.out);
  tu_result_free (&r);

  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  /* The rootfs directory goes only if the hook made it.  */
  cr_assert_eq (tu_exists (rootfs, NULL), engine_made_it, "the rootfs directory %s",
                engine_made_it ? "is gone" : "is left");
  free (root);
  free (config);
  free (out);
  free (expected);
}

Test (hook, absolute_root_path_in_the_bundle)
{
  char *rootfs = tu_fmt ("%s/rootfs", bundle);
  absolute_root (rootfs, false);
  free (rootfs);
}

Test (hook, absolute_root_path_outside_the_bundle)
{
  char *rootfs = tu_fmt ("%s/elsewhere/rootfs", tmp);
  fx_mkdir_p (rootfs);
  absolute_root (rootfs, true);
  free (rootfs);
}

Test (hook, relative_root_path_in_a_subdirectory)
{
  struct tu_result r;
  char *config = engine_config_for (DEFAULT_PROCESS, "{\"path\": \"sub/dir/rootfs\"}", "main", NULL);
  char *rootfs = tu_fmt ("%s/sub/dir/rootfs", bundle);

  busybox_image ();
  fx_mkdir_p (rootfs);
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_mounted_overlay (rootfs);
  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (rootfs);
}

/* ---- an engine that failed after precreate ---- */

/* oci-prep --store STORE ARGS..., which must exit with STATUS; its stdout.  */
static char *
store_command (int status, const char *const *args)
{
  struct tu_result r;
  char *out;

  tu_prep_store (&r, store, args);
  cr_assert_eq (r.status, status, "oci-prep %s %s: exit %d\n%s%s", args[0], args[1] ? args[1] : "", r.status, r.out,
                r.err);
  out = r.out;
  r.out = NULL;
  tu_result_free (&r);
  return out;
}

static int
count_hook_dirs (void)
{
  char *hooks = tu_fmt ("%s/hooks", store);
  int n = tu_count_entries (hooks);

  free (hooks);
  return n < 0 ? 0 : n;
}

/* Precreate as podman does it: the rootfs outside the bundle (ROOTFS, made by the
   engine).  The hook rootfs is mounted and pinned.  */
static void
precreate_outside (const char *rootfs)
{
  struct tu_result r;
  char *root = tu_fmt ("{\"path\": \"%s\"}", rootfs);
  char *config = engine_config_for (DEFAULT_PROCESS, root, "main", NULL);

  busybox_image ();
  fx_mkdir_p (rootfs);
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_mounted_overlay (rootfs);
  cr_assert_eq (tu_count_pins (store), 1);
  free (root);
  free (config);
}

/* What a repair leaves once the container is gone: nothing mounted, pinned or kept.  */
static void
assert_released (const char *const *fsck_args)
{
  char *out = store_command (1, (const char *const[]){ "store", "fsck", NULL });

  cr_assert (strstr (out, "the container of this hook rootfs is gone"), "%s", out);
  free (out);
  out = store_command (0, fsck_args);
  cr_assert (strstr (out, "released") || strstr (out, "freed"), "%s", out);
  free (out);
  assert_clean (bundle);
  cr_assert_eq (count_hook_dirs (), 0, "the hook state stayed in %s/hooks", store);
  out = store_command (0, (const char *const[]){ "store", "fsck", NULL });
  cr_assert (strstr (out, " 0 problems"), "%s", out);
  free (out);
}

/* podman: "workdir does not exist", exit 126, after precreate: no poststop.  The engine
   removes its bundle directory; fsck --repair releases what precreate made.  */
Test (hook, fsck_repair_releases_a_hook_rootfs_whose_bundle_was_removed)
{
  char *rootfs = tu_fmt ("%s/containers/c1/merged", tmp);

  precreate_outside (rootfs);
  fx_rm_rf (bundle);
  assert_released ((const char *const[]){ "store", "fsck", "--repair", NULL });
  free (rootfs);
}

/* The bundle directory is still there, but its config.json now names another rootfs
   (the engine made a new container in it): gc releases the old one.  */
Test (hook, gc_releases_a_hook_rootfs_whose_config_names_another_rootfs)
{
  char *rootfs = tu_fmt ("%s/containers/c1/merged", tmp);
  char *config = tu_fmt ("%s/config.json", bundle);
  const char *other = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/elsewhere/rootfs\"}}";
  char *out;

  precreate_outside (rootfs);
  unlink (config);
  fx_write_file (config, other, strlen (other));
  out = store_command (0, (const char *const[]){ "store", "gc", "--dry-run", NULL });
  cr_assert (strstr (out, "would release 1 hook rootfs whose container is gone"), "%s", out);
  free (out);
  assert_mounted_overlay (rootfs);
  out = store_command (0, (const char *const[]){ "store", "gc", NULL });
  cr_assert (strstr (out, "released 1 hook rootfs whose container is gone"), "%s", out);
  cr_assert (strstr (out, "removed sha256:"), "the layers it pinned were kept: %s", out);
  free (out);
  assert_clean (bundle);
  cr_assert_eq (count_hook_dirs (), 0);
  free (rootfs);
  free (config);
}

/* A container still there (its bundle and config.json name the rootfs, or its
   config.json is not written yet) is never released.  */
Test (hook, fsck_and_gc_keep_a_hook_rootfs_whose_container_is_there)
{
  char *rootfs = tu_fmt ("%s/containers/c1/merged", tmp);
  char *config = tu_fmt ("%s/config.json", bundle);
  char *out;

  precreate_outside (rootfs);
  for (int pass = 0; pass < 2; pass++)
    {
      if (pass == 1)
        unlink (config); /* not written yet, or an engine running hooks elsewhere */
      out = store_command (0, (const char *const[]){ "store", "fsck", "--repair", NULL });
      cr_assert (strstr (out, " 0 problems"), "pass %d: %s", pass, out);
      free (out);
      out = store_command (0, (const char *const[]){ "store", "gc", NULL });
      cr_assert (! strstr (out, "released"), "pass %d: %s", pass, out);
      free (out);
      assert_mounted_overlay (rootfs);
      cr_assert_eq (tu_count_pins (store), 1);
    }
  free (rootfs);
  free (config);
}

/* ---- what the engine set is kept ---- */

Test (hook, the_engines_choices_are_kept)
{
  struct tu_result r;
  char *config = engine_config_for ("\"terminal\": false, \"user\": {\"uid\": 2000, \"gid\": 3000},"
                                    " \"args\": [\"/bin/sh\", \"-c\", \"echo ENGINE ARGS; id; pwd; echo FOO=$FOO\"],"
                                    " \"env\": [\"" ENGINE_PATH "\", \"FOO=engine\"], \"cwd\": \"/etc\"",
                                    DEFAULT_ROOT, "main", "\"org.example.label\": \"engine\"");
  char *out = tu_fmt ("%s/config.json", bundle);

  tu_need ("runc", teardown);
  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_json (out, "process/args", "[\"/bin/sh\",\"-c\",\"echo ENGINE ARGS; id; pwd; echo FOO=$FOO\"]");
  assert_json (out, "process/user", "{\"uid\":2000,\"gid\":3000}");
  assert_json (out, "process/cwd", "\"/etc\"");
  assert_json (out, "process/env/0", "\"" ENGINE_PATH "\"");
  assert_json (out, "process/env/1", "\"FOO=engine\"");
  assert_json (out, "process/env/2", "\"IMGONLY=1\"");
  assert_json (out, "annotations/org.example.label", "\"engine\"");
  assert_json (out, "annotations/shared.key", "\"image\"");

  tu_runc_run (&r, bundle);
  cr_assert_eq (r.status, 0, "runc run failed (%d): %s%s", r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, "ENGINE ARGS"), "%s", r.out);
  cr_assert (strstr (r.out, "uid=2000(bob) gid=3000(bobs)") != NULL, "%s", r.out);
  cr_assert (tu_has_line (r.out, "/etc"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "FOO=engine"), "%s", r.out);
  tu_result_free (&r);

  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (out);
}

/* The image's labels that a runtime acts on are not merged into the config, and one
   warning line names them; the engine's own annotations in those namespaces stay.  */
Test (hook, runtime_labels_are_not_merged_and_are_named)
{
  struct tu_result r;
  char *config = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "runtime",
                                    "\"run.oci.keep_original_groups\": \"0\"");
  char *out = tu_fmt ("%s/config.json", bundle), *text;

  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  cr_assert_eq (tu_count (r.err, "\n"), 1, "one line on stderr: %s", r.err);
  cr_assert (strncmp (r.err, "oci-prep: warning: ", 19) == 0, "%s", r.err);
  cr_assert (strstr (r.err, "'run.oci.hooks.stdout'") && strstr (r.err, "'run.oci.keep_original_groups'")
                 && strstr (r.err, "'org.systemd.property.CollectMode'")
                 && strstr (r.err, "'io.kubernetes.cri-o.Devices'") && strstr (r.err, "'io.oci-prep.image'"),
             "the warning names every dropped label: %s", r.err);
  tu_result_free (&r);
  text = fx_read_file (out, NULL);
  cr_assert_null (strstr (text, "run.oci.hooks"), "%s", text);
  cr_assert_null (strstr (text, "org.systemd.property"), "%s", text);
  cr_assert_null (strstr (text, "cri-o"), "%s", text);
  cr_assert_null (strstr (text, "/elsewhere"), "%s", text);
  assert_json (out, "annotations/run.oci.keep_original_groups", "\"0\"");
  assert_json (out, "annotations/team", "\"image\"");
  free (text);

  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (out);
}

/* Root, but with supplementary groups, is a choice: kept.  So is a named user.  */
Test (hook, root_with_groups_is_a_choice)
{
  struct tu_result r;
  char *config = engine_config_for ("\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [50]},"
                                    " \"args\": [], \"cwd\": \"\"",
                                    DEFAULT_ROOT, "main", NULL);
  char *out = tu_fmt ("%s/config.json", bundle);

  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_json (out, "process/user", "{\"uid\":0,\"gid\":0,\"additionalGids\":[50]}");
  /* Empty cwd and an absent env are filled.  */
  assert_json (out, "process/cwd", "\"/work\"");
  assert_json (out, "process/env/0", "\"FOO=bar\"");
  assert_json (out, "process/env/1", "\"PATH=/bin:/image\"");
  assert_json (out, "process/env/2", "\"IMGONLY=1\"");
  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (out);
}

/* No "process" at all: the image's args, env, cwd and user.  */
Test (hook, no_process_at_all)
{
  struct tu_result r;
  char *config = engine_config_for (NULL, DEFAULT_ROOT, "main", NULL);
  char *out = tu_fmt ("%s/config.json", bundle);

  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_python_parses (out);
  assert_json (out, "process/args/3", "\"a0\"");
  assert_json (out, "process/cwd", "\"/work\"");
  assert_json (out, "process/user/uid", "1000");
  assert_json (out, "process/env/0", "\"FOO=bar\"");
  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (out);
}

/* An image without Entrypoint/Cmd is fine when the engine brings the command (podman run
   IMAGE CMD...): process.args is only needed from the image when the engine's is empty.  */
Test (hook, image_without_command_when_the_engine_has_one)
{
  struct tu_result r;
  char *config = engine_config_for ("\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},"
                                    " \"args\": [\"/bin/sh\", \"-c\", \"echo from the engine\"], \"cwd\": \"/\"",
                                    DEFAULT_ROOT, "nocmd", NULL);
  char *out = tu_fmt ("%s/config.json", bundle);

  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate of an image without a command, args given by the engine (%d): %s",
                r.status, r.err);
  tu_result_free (&r);
  assert_json (out, "process/args", "[\"/bin/sh\",\"-c\",\"echo from the engine\"]");
  assert_json (out, "process/cwd", "\"/work\"");
  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (out);
}

/* The engine chose the user (podman run --user): the image's User is not used, so one that
   does not resolve in the rootfs must not fail the hook.  */
Test (hook, unresolvable_image_user_when_the_engine_chose_one)
{
  struct tu_result r;
  char *config = engine_config_for ("\"terminal\": false, \"user\": {\"uid\": 2000, \"gid\": 3000},"
                                    " \"args\": [], \"cwd\": \"/\"",
                                    DEFAULT_ROOT, "ghost", NULL);
  char *out = tu_fmt ("%s/config.json", bundle);

  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate with the engine's user and an image User that does not resolve (%d): %s",
                r.status, r.err);
  tu_result_free (&r);
  assert_json (out, "process/user", "{\"uid\":2000,\"gid\":3000}");
  assert_json (out, "process/args", "[\"/bin/sh\",\"-c\",\"id\"]");
  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (out);
}

/* ---- pass-through ---- */

/* CONFIG without our annotation comes out byte for byte, and nothing is made.  */
static void
assert_passes_through (const char *name, const char *config, size_t len)
{
  struct tu_result r;
  char *dir = tu_fmt ("%s/%s", tmp, name);
  char *in = tu_fmt ("%s/proposed.json", dir), *out = tu_fmt ("%s/config.json", dir);

  fx_mkdir_p (dir);
  fx_write_file (in, config, len);
  precreate_in (&r, dir);
  cr_assert_eq (r.status, 0, "%s: pass-through failed (%d): %s", name, r.status, r.err);
  cr_assert_str_eq (r.err, "", "%s", name);
  tu_result_free (&r);
  assert_same_bytes (in, out);
  cr_assert_eq (tu_count_entries (dir), 2, "%s: the hook made something in the bundle", name);
  cr_assert_eq (tu_mount_points_under (tmp, NULL), 0, "%s: something got mounted", name);
  cr_assert_eq (tu_count_pins (store), 0, "%s", name);
  free (dir);
  free (in);
  free (out);
}

Test (hook, without_the_annotation_the_config_passes_through_byte_for_byte)
{
  static const char odd[]
      = "\n\t {  \"z\"  :1.50e+3 ,\"annotations\" :{ \"io.oci-prep.imagex\":\"not ours\",\r\n"
        "\"IO.OCI-PREP.IMAGE\" : \"not ours either\", \"other\" : \"x\"} ,\n"
        "  \"process\":{\"args\":[ ],\"env\":[\"A=\\u00e9\\\"\\/\", "
        "\"B=h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb3\"],"
        "\"user\":{\"uid\":0,\"gid\":0},\"cwd\":\"/\"},"
        "\"root\":{\"path\":\"rootfs\"},\"empty\":{},\"n\":null,\"t\":true,\"neg\":-0.0 }  \n\n";
  char *plain = engine_config (DEFAULT_PROCESS, DEFAULT_ROOT, "\"org.example\": \"x\"");
  char *none = engine_config (DEFAULT_PROCESS, DEFAULT_ROOT, NULL);
  char *empty_ann = engine_config (DEFAULT_PROCESS, DEFAULT_ROOT, "");

  busybox_image ();
  assert_passes_through ("plain", plain, strlen (plain));
  assert_passes_through ("no-annotations", none, strlen (none));
  assert_passes_through ("empty-annotations", empty_ann, strlen (empty_ann));
  assert_passes_through ("odd", odd, sizeof odd - 1);
  assert_passes_through ("compact", "{}", 2);
  /* No trailing newline, and a value that names the image under another key.  */
  {
    char *c = tu_fmt ("{\"annotations\":{\"image\":\"%s:main\"},\"root\":{\"path\":\"rootfs\"}}", layout);
    assert_passes_through ("other-key", c, strlen (c));
    free (c);
  }
  free (plain);
  free (none);
  free (empty_ann);
}

/* Larger than the first read buffer: still byte for byte.  */
Test (hook, a_large_config_passes_through)
{
  size_t len = 300 * 1024, i;
  char *big = malloc (len);
  const char *head = "{\"annotations\":{\"k\":\"v\"},\"pad\":\"", *tail = "\"}\n";

  FX_CHECK (big != NULL);
  memcpy (big, head, strlen (head));
  for (i = strlen (head); i < len - strlen (tail); i++)
    big[i] = "abcdefghij"[i % 10];
  memcpy (big + len - strlen (tail), tail, strlen (tail));
  assert_passes_through ("large", big, len);
  free (big);
}

/* A document of S bytes: {"pad":"xxx..."}.  */
static char *
sized_config (size_t s)
{
  char *c = malloc (s);
  const char *head = "{\"pad\":\"", *tail = "\"}";

  FX_CHECK (c != NULL && s > 10);
  memcpy (c, head, strlen (head));
  memset (c + strlen (head), 'x', s - strlen (head) - strlen (tail));
  memcpy (c + s - strlen (tail), tail, strlen (tail));
  return c;
}

/* "at most 16 MiB" of input: 16 MiB exactly is accepted (the JSON parser's limit is the
   same and inclusive).  */
Test (hook, exactly_16_mib_is_accepted)
{
  size_t s = 16u * 1024 * 1024;
  char *c = sized_config (s);

  assert_passes_through ("16mib", c, s);
  free (c);
}

Test (hook, over_16_mib_is_refused)
{
  struct tu_result r;
  size_t s = 16u * 1024 * 1024 + 1;
  char *c = sized_config (s);

  {
    char *p = tu_fmt ("%s/proposed.json", bundle);
    fx_write_file (p, c, s);
    free (p);
  }
  precreate (&r);
  assert_hook_error (&r, bundle, "16777216");
  tu_result_free (&r);
  free (c);
}

/* ---- errors: exit 1, one line, nothing left ---- */

/* Run precreate on CONFIG in a fresh bundle NAME; expect an error containing NEEDLE.  */
static void
assert_precreate_fails (const char *name, const char *config, const char *needle)
{
  struct tu_result r;
  char *dir = tu_fmt ("%s/%s", tmp, name);

  fx_mkdir_p (dir);
  propose (dir, config);
  precreate_in (&r, dir);
  cr_assert_eq (r.status, 1, "%s: expected exit 1, got %d: %s", name, r.status, r.err);
  assert_hook_error (&r, dir, needle);
  tu_result_free (&r);
  assert_clean (dir);
  free (dir);
}

Test (hook, invalid_input_is_an_error)
{
  char *truncated = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "main", NULL);

  busybox_image ();
  truncated[strlen (truncated) / 2] = '\0';
  assert_precreate_fails ("truncated", truncated, "invalid JSON");
  assert_precreate_fails ("empty", "", "invalid JSON");
  assert_precreate_fails ("garbage", "{} {}", "invalid JSON");
  assert_precreate_fails ("array", "[]", "not a JSON object");
  assert_precreate_fails ("bad-utf8", "{\"annotations\":{\"a\":\"\xff\"}}", NULL);
  {
    char *c = tu_fmt ("{\"annotations\":{\"io.oci-prep.image\":5},\"root\":{\"path\":\"rootfs\"}}");
    assert_precreate_fails ("not-a-string", c, "io.oci-prep.image");
    free (c);
  }
  assert_precreate_fails ("annotations-array", "{\"annotations\":[]}", "annotations");
  free (truncated);
}

Test (hook, an_unknown_image_is_an_error)
{
  char *missing_layout, *missing_ref, *ann;

  busybox_image ();
  ann = tu_fmt ("\"io.oci-prep.image\": \"%s/nope:main\"", tmp);
  missing_layout = engine_config (DEFAULT_PROCESS, DEFAULT_ROOT, ann);
  free (ann);
  missing_ref = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "no-such-ref", NULL);
  assert_precreate_fails ("missing-layout", missing_layout, "nope");
  assert_precreate_fails ("missing-ref", missing_ref, "no-such-ref");
  cr_assert (! tu_exists (tmp, "missing-layout/rootfs"), "a failed hook created the rootfs");
  cr_assert (! tu_exists (tmp, "missing-ref/rootfs"), "a failed hook created the rootfs");
  free (missing_layout);
  free (missing_ref);
}

/* Engines put files in root.path before precreate (podman: etc/mtab): the overlay is
   mounted over them, and they are there again, untouched, once poststop is done.  */
Test (hook, a_used_root_path_is_mounted_over_and_restored)
{
  char *config = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "main", NULL);
  char *dir = tu_fmt ("%s/used", tmp);
  char *keep = tu_fmt ("%s/used/rootfs/etc/mtab", tmp);
  char *etc = tu_fmt ("%s/used/rootfs/etc", tmp);
  struct tu_result r;

  busybox_image ();
  fx_mkdir_p (etc);
  fx_write_file (keep, "engine\n", 7);
  propose (dir, config);
  precreate_in (&r, dir);
  cr_assert_eq (r.status, 0, "precreate over a used root.path failed: %s", r.err);
  tu_result_free (&r);
  cr_assert (! tu_exists (keep, NULL), "the engine's file shows through the image's rootfs");
  poststop (&r, dir);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  cr_assert (tu_exists (keep, NULL), "the engine's file is gone after poststop");
  assert_clean (dir);
  free (config);
  free (dir);
  free (keep);
  free (etc);
}

Test (hook, a_bad_root_is_an_error)
{
  char *config = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "main", NULL);
  char *no_path = engine_config_for (DEFAULT_PROCESS, "{\"readonly\": false}", "main", NULL);
  char *no_root = engine_config_for (DEFAULT_PROCESS, NULL, "main", NULL);
  char *p;

  busybox_image ();
  /* root.path is a file.  */
  p = tu_fmt ("%s/file", tmp);
  fx_mkdir_p (p);
  free (p);
  p = tu_fmt ("%s/file/rootfs", tmp);
  fx_write_file (p, "x", 1);
  assert_precreate_fails ("file", config, "rootfs");
  free (p);
  assert_precreate_fails ("no-path", no_path, "path");
  assert_precreate_fails ("no-root", no_root, "root");
  free (config);
  free (no_path);
  free (no_root);
}

/* The same bundle twice: the second refuses and leaves the first as it was.  */
/* The state of the one rootfs the hook prepared, read from the store.  */
static char *
hook_state (void)
{
  struct tu_result f;
  char *text;

  tu_sh (&f, "cat '%s'/hooks/*/.oci-prep/state.json", store);
  cr_assert_eq (f.status, 0, "no hook state in the store: %s", f.err);
  text = strdup (f.out);
  tu_result_free (&f);
  return text;
}

/* A second precreate for the same rootfs is refused and changes nothing.  */
Test (hook, twice_for_the_same_rootfs_is_refused)
{
  struct tu_result r;
  char *config = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "main", NULL);
  char *rootfs = tu_fmt ("%s/rootfs", bundle), *first = tu_fmt ("%s/first.json", bundle);
  char *state_before, *state_after;

  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  {
    char *out = tu_fmt ("%s/config.json", bundle);
    FX_CHECK (rename (out, first) == 0);
    free (out);
  }
  state_before = hook_state ();

  precreate (&r);
  assert_hook_error (&r, bundle, "File exists");
  tu_result_free (&r);

  assert_mounted_overlay (rootfs);
  cr_assert_eq (tu_mount_points_under (tmp, NULL), 1, "only the first rootfs is mounted");
  state_after = hook_state ();
  cr_assert_str_eq (state_after, state_before, "the first precreate's state changed");
  cr_assert_eq (tu_count_pins (store), 1);
  {
    char *motd = tu_fmt ("%s/etc/motd", rootfs);
    char *text = fx_read_file (motd, NULL);
    cr_assert_str_eq (text, MOTD "\n");
    free (text);
    free (motd);
  }

  {
    char *out = tu_fmt ("%s/config.json", bundle);
    FX_CHECK (rename (first, out) == 0);
    free (out);
  }
  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (rootfs);
  free (first);
  free (state_before);
  free (state_after);
}

/* A failure after the mount (here: the image has no command and the engine gave none):
   unmounted, unpinned, and the rootfs directory the hook created is not left behind.  */
Test (hook, a_failure_after_the_mount_undoes_everything)
{
  struct tu_result r;
  char *config = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "nocmd", NULL);

  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  assert_hook_error (&r, bundle, "no command");
  tu_result_free (&r);
  assert_clean (bundle);
  cr_assert (! tu_exists (bundle, "rootfs"), "the hook created rootfs/ and left it after failing");
  free (config);
}

/* ---- poststop ---- */

Test (hook, poststop_for_a_bundle_never_touched_does_nothing)
{
  struct tu_result r;
  char *missing = tu_fmt ("%s/no-such-bundle", tmp);
  char *keep = tu_fmt ("%s/rootfs/keep", bundle);

  {
    char *rootfs = tu_fmt ("%s/rootfs", bundle);
    fx_mkdir_p (rootfs);
    free (rootfs);
  }
  fx_write_file (keep, "keep\n", 5);
  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "poststop of an untouched bundle (%d): %s", r.status, r.err);
  cr_assert_str_eq (r.err, "");
  tu_result_free (&r);
  cr_assert (tu_exists (keep, NULL));
  cr_assert_eq (tu_count_entries (bundle), 1);

  poststop (&r, missing);
  cr_assert_eq (r.status, 0, "poststop of a missing bundle (%d): %s", r.status, r.err);
  tu_result_free (&r);
  free (missing);
  free (keep);
}

/* The bundle's config.json is read to find the rootfs: a device node there is not ours,
   and its driver's open() is never called (CVE-2024-9676).  */
Test (hook, poststop_never_opens_a_device_config)
{
  struct tu_result r;
  char *config = tu_fmt ("%s/config.json", bundle);
  int watch = tu_device_watched (config);

  poststop (&r, bundle);
  cr_assert_eq (r.status, 0, "poststop (%d): %s", r.status, r.err);
  cr_assert_str_eq (r.err, "");
  tu_result_free (&r);
  cr_assert_eq (tu_opens (watch), 0, "the device node was opened");
  close (watch);
  free (config);
}

Test (hook, poststop_with_bad_input_is_an_error)
{
  static const char *const bad[] = { "", "not json", "[]", "{}", "{\"bundle\": 5}", NULL };
  size_t i;

  for (i = 0; bad[i]; i++)
    {
      struct tu_result r;

      poststop_text (&r, bad[i]);
      cr_assert_eq (r.status, 1, "poststop < '%s': exit %d", bad[i], r.status);
      cr_assert (strncmp (r.err, "oci-prep: ", 10) == 0, "'%s': %s", bad[i], r.err);
      cr_assert (strchr (r.err, '\n') == r.err + strlen (r.err) - 1, "'%s': not one line: %s", bad[i], r.err);
      tu_result_free (&r);
    }
}

/* Once the container is gone (the engine calls poststop after delete) the rootfs is
   released; a process still holding the mount does not make poststop fail.  */
Test (hook, poststop_detaches_a_busy_rootfs)
{
  struct tu_result r;
  char *config = engine_config_for (DEFAULT_PROCESS, DEFAULT_ROOT, "main", NULL);
  char *rootfs = tu_fmt ("%s/rootfs", bundle);

  busybox_image ();
  propose (bundle, config);
  precreate (&r);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  /* A process whose cwd is in the rootfs keeps it busy while poststop runs.  */
  {
    char *s = state_json (bundle), *p = tu_fmt ("%s/state.json", tmp);
    fx_write_file (p, s, strlen (s));
    tu_sh (&r, "cd '%s/work' && (sleep 3 &) && cd / && exec '%s' --store '%s' hook poststop < '%s'", rootfs,
           OCIP_BINARY, store, p);
    free (s);
    free (p);
  }
  cr_assert_eq (r.status, 0, "poststop with a busy rootfs (%d): %s", r.status, r.err);
  tu_result_free (&r);
  assert_clean (bundle);
  free (config);
  free (rootfs);
}

/* ---- podman ---- */

/* Replace the one occurrence of FROM in TEXT by TO; a missing FROM fails the test.  */
static char *
replace (const char *text, const char *from, const char *to, const char *what)
{
  const char *at = strstr (text, from);

  cr_assert (at != NULL, "%s does not contain %s", what, from);
  return tu_fmt ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

/* DIR/<file> from docs/hooks.d/<file>, with the built binary and this test's store.  */
static void
install_hook_file (const char *dir, const char *file)
{
  char *src = tu_source_dir ();
  char *path = tu_fmt ("%s/docs/hooks.d/%s", src, file);
  char *text, *a, *b, *to_args, *dest = tu_fmt ("%s/%s", dir, file);

  cr_assert (tu_exists (path, NULL), "%s is missing (built away from the sources? define OCIP_SRCDIR)", path);
  text = fx_read_file (path, NULL);
  a = replace (text, "\"/usr/local/bin/oci-prep\"", "\"" OCIP_BINARY "\"", path);
  to_args = tu_fmt ("\"oci-prep\", \"--store\", \"%s\", \"hook\"", store);
  b = replace (a, "\"oci-prep\", \"hook\"", to_args, path);
  fx_write_file (dest, b, strlen (b));
  free (src);
  free (path);
  free (text);
  free (a);
  free (b);
  free (to_args);
  free (dest);
}

/* podman run --annotation io.oci-prep.image=... --rootfs EMPTY CMD with the hooks.d files
   of docs/: the image's rootfs and process fields, and nothing left afterwards.  */
Test (hook, podman_runs_the_image_through_the_hooks)
{
  struct tu_result r;
  char *hooks = tu_fmt ("%s/hooks.d", tmp), *rootfs = tu_fmt ("%s/prootfs", tmp), *cwd = tu_fmt ("%s/pcwd", tmp);

  tu_need ("podman", teardown);
  tu_need ("runc", teardown);
  busybox_image ();
  fx_mkdir_p (hooks);
  fx_mkdir_p (rootfs);
  fx_mkdir_p (cwd);
  install_hook_file (hooks, "oci-prep-precreate.json");
  install_hook_file (hooks, "oci-prep-poststop.json");

  /* Podman's own storage in TMP; no network; ulimits within this machine's hard limits
     (podman's default RLIMIT_NOFILE of 1048576 is refused where the hard limit is lower).  */
  tu_sh (&r,
         "cd '%s' && exec timeout 120 podman --root '%s/podman-root' --runroot '%s/podman-run' --storage-driver vfs "
         "--cgroup-manager cgroupfs --events-backend file --hooks-dir '%s' --runtime runc "
         "run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "
         "--annotation io.oci-prep.image='%s:main' --rootfs '%s' /bin/sh -c 'cat /etc/motd; id; pwd'",
         cwd, tmp, tmp, hooks, layout, rootfs);
  if (r.status != 0)
    {
      /* podman does not show the hook's stderr: say what the rootfs held.  */
      struct tu_result f;
      tu_sh (&f, "cd '%s' && find . | head -20", rootfs);
      cr_assert_eq (r.status, 0, "podman run failed (%d):\n%s%s\nthe --rootfs directory after the run: %s", r.status,
                    r.out, r.err, f.out);
    }
  cr_assert (tu_has_line (r.out, MOTD), "%s", r.out);
  cr_assert (strstr (r.out, "uid=1000(alice)") != NULL, "%s", r.out);
  cr_assert (tu_has_line (r.out, "/work"), "%s", r.out);
  tu_result_free (&r);

  /* conmon runs podman's exit command ("container cleanup") after "run" returns, and it
     still writes into podman's storage in TMP: wait for every process naming that
     storage to end, so that the teardown's removal of TMP does not race it.  The
     bracket keeps the pattern from matching the shell that runs pgrep.  */
  tu_sh (&r, "for i in $(seq 600); do pgrep -f -- '%s/podman-(roo[t]|ru[n])' > /dev/null || exit 0; sleep 0.1; done; "
             "exit 1",
         tmp);
  cr_assert_eq (r.status, 0, "podman's processes did not end within 60 s");
  tu_result_free (&r);

  cr_assert_eq (tu_mount_points_under (rootfs, NULL), 0, "poststop left the rootfs mounted");
  cr_assert_eq (tu_count_pins (store), 0, "poststop left a pin");
  cr_assert_eq (tu_count_entries (cwd), 0, "the hook wrote into podman's working directory");
  free (hooks);
  free (rootfs);
  free (cwd);
}
