/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep bundle end to end: bundles run by runc and crun, options, --flat, many layers, bad input, rm, pins. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "fixture.h"
#include "testutil.h"

static char *tmp, *layout, *store;

/* Background processes a test started, for teardown to end.  */
static pid_t background[8];
static size_t n_background;

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
  n_background = 0;
}

/* Undo whatever a test left, even when it failed half-way: processes, then containers
   and mounts (detached, so that removing TMP never reaches into a layer store).  */
static void
teardown (void)
{
  size_t i;

  if (tmp == NULL)
    return;
  for (i = 0; i < n_background; i++)
    {
      kill (background[i], SIGKILL);
      waitpid (background[i], NULL, 0);
    }
  n_background = 0;
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (bundle, .init = setup, .fini = teardown, .timeout = 120);

/* ---- images ---- */

static const char *const applets[] = { "sh",    "id",   "cat",   "ls",       "env",   "pwd",   "stat",
                                       "mount", "grep", "test",  "echo",     "sleep", "sort",  "wc",
                                       "sed",   "head", "touch", "hostname", "chown", "true",  NULL };

#define PASSWD                                                                                                         \
  "root:x:0:0:root:/root:/bin/sh\n"                                                                                    \
  "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"                                                                      \
  "2000:x:3000:3000:a user named 2000:/home/n2000:/bin/sh\n"                                                           \
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
#define GROUP                                                                                                          \
  "root:x:0:\n"                                                                                                        \
  "alice:x:1000:\n"                                                                                                    \
  "staff:x:50:alice\n"                                                                                                 \
  "wheel:x:10:alice\n"                                                                                                 \
  "grp:x:60:\n"

/* tests/probe.c built static (the image has no libc), read whole.  */
static char *
build_probe (size_t *len)
{
  struct tu_result r;
  char *top = tu_source_dir (), *src = tu_fmt ("%s/tests/probe.c", top), *bin = tu_fmt ("%s/probe", tmp), *data;

  tu_sh (&r, "cc -static -O2 -o '%s' '%s'", bin, src);
  cr_assert_eq (r.status, 0, "cannot build the probe from %s: %s%s", src, r.out, r.err);
  tu_result_free (&r);
  data = fx_read_file (bin, len);
  free (top);
  free (src);
  free (bin);
  return data;
}

/* Layer 1: busybox, the probe (when WITH_PROBE), passwd and group, home/alice,
   etc/victim and opq/{old1,old2} for layer 2 (tu_whiteout_layer), work/, tmp/.  */
static void
base_layer (bool with_probe, void **tar, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();

  tu_tar_busybox (t, applets);
  if (with_probe)
    {
      size_t plen;
      char *probe = build_probe (&plen);
      fx_tar_file_ex (t, "bin/probe", 0755, 0, 0, FX_MTIME, probe, plen);
      free (probe);
    }
  tu_tar_users (t, PASSWD, GROUP);
  tu_tar_whiteout_targets (t);
  fx_tar_dir (t, "work", 0755);
  fx_tar_dir (t, "tmp", 01777);
  fx_tar_finish (t, tar, len);
}

/* What the main image's command prints, one fact per line.  */
#define MAIN_SCRIPT                                                                                                    \
  "echo ARGS $0 $1; echo CWD $(pwd); id; env | sed 's/^/ENV /'; "                                                      \
  "test -e /etc/victim && echo VICTIM present || echo VICTIM absent; "                                                 \
  "echo OPQ $(ls -A /opq); cat /etc/top; grep ' /data ' /proc/mounts | sed 's/^/MNT /'; /bin/probe"

/* One config per ref over the same two layers.  */
static const struct tu_ref_config busybox_configs[] = {
  { "main", "{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"" MAIN_SCRIPT "\",\"a0\",\"a1\"],"
            "\"Env\":[\"FOO=bar\",\"EMPTY=\"],\"WorkingDir\":\"/work\",\"User\":\"alice\","
            "\"Volumes\":{\"/data\":{}},\"Labels\":{\"org.example.label\":\"v\"}}" },
  { "num", "{\"Entrypoint\":[\"/bin/sh\",\"-c\",\"id; echo HOME=$HOME; echo PATH=$PATH; env | grep -c ^PATH=\"],"
           "\"Env\":[\"PATH=/bin:/custom\"],\"User\":\"2000\"}" },
  { "grp", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"id; echo HOME=$HOME\"],\"User\":\"alice:grp\"}" },
  { "root", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"id\"]}" },
};

/* The busybox image in LAYOUT under the refs of busybox_configs.  */
static void
busybox_image (bool with_probe)
{
  struct fx_layer layers[2] = { { 0 } };
  void *t1, *t2;
  size_t l1, l2;

  base_layer (with_probe, &t1, &l1);
  tu_whiteout_layer (&t2, &l2);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1, .compression = "gzip" };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2, .compression = "none" };
  tu_images_per_config (layout, layers, 2, busybox_configs, sizeof busybox_configs / sizeof busybox_configs[0]);
  free (t1);
  free (t2);
}

/* An image of the busybox layer and one more layer, TAR, with CONFIG, as LAYOUT:REF.  */
static void
busybox_plus (const char *ref, const void *tar, size_t len, const char *config)
{
  const struct tu_ref_config image_config = { ref, config };
  struct fx_layer layers[2] = { { 0 } };
  void *t1;
  size_t l1;

  base_layer (false, &t1, &l1);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = tar, .tar_len = len };
  tu_images_per_config (layout, layers, 2, &image_config, 1);
  free (t1);
}

static char *
image (const char *ref)
{
  return tu_fmt ("%s:%s", layout, ref);
}

static char *
path_in (const char *rel)
{
  return tu_fmt ("%s/%s", tmp, rel);
}

/* ---- running things ---- */

/* oci-prep --store STORE ARGS...  */
#define PREP(r, ...) TU_PREP_STORE ((r), store, __VA_ARGS__)

/* oci-prep bundle ARGS..., which must succeed.  */
static void
bundle_ok_args (const char *const *args)
{
  struct tu_result r;

  tu_prep_store (&r, store, args);
  cr_assert_eq (r.status, 0, "oci-prep bundle failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
}
#define BUNDLE_OK(...) bundle_ok_args ((const char *const[]){ "bundle", __VA_ARGS__, NULL })

typedef void (*runner) (struct tu_result *r, const char *bundle);

static const struct
{
  const char *name;
  runner run;
} runtimes[] = { { "runc", tu_runc_run }, { "crun", tu_crun_run } };

static int
count_lines_starting (const char *text, const char *prefix)
{
  int n = 0;
  size_t len = strlen (prefix);

  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, prefix, len) == 0)
      n++;
  return n;
}

/* The "groups=" part of busybox id's output, up to the end of the line.  */
static char *
groups_of (const char *out)
{
  const char *g = strstr (out, "groups=");
  return g ? strndup (g + 7, strcspn (g + 7, "\n")) : strdup ("");
}

/* ---- failures ---- */

static void
assert_nothing_mounted (void)
{
  char **mps = NULL;
  size_t n = tu_mount_points_under (tmp, &mps);

  cr_assert_eq (n, 0, "%zu mounts left under %s, first: %s", n, tmp, n ? mps[0] : "");
  free (mps);
}

/* Everything about the tree at PATH (names, types, modes, owners, sizes, link targets,
   contents, mtimes of all but directories), or "ABSENT".  */
static char *
snapshot (const char *path)
{
  struct tu_result r;
  char *out;

  tu_sh (&r,
         "cd '%s' 2>/dev/null || { echo ABSENT; exit 0; }; "
         "{ find . -printf '%%p %%y %%m %%U:%%G %%s %%l\\n'; find . ! -type d -printf '%%p %%T@\\n'; "
         "find . -type f -exec sha256sum {} +; } | LC_ALL=C sort",
         path);
  cr_assert_eq (r.status, 0, "%s", r.err);
  out = r.out;
  free (r.err);
  return out;
}

/* Expect two snapshots (or manifests) to be equal; on a difference, show the first
   lines that differ.  */
static void
expect_same (const char *before, const char *after, const char *what)
{
  const char *a = before, *b = after;

  while (*a && *b)
    {
      size_t la = strcspn (a, "\n"), lb = strcspn (b, "\n");
      if (la != lb || memcmp (a, b, la) != 0)
        break;
      a += la + (a[la] != '\0');
      b += lb + (b[lb] != '\0');
    }
  cr_expect (*a == '\0' && *b == '\0', "%s\n  before: %.*s\n  after:  %.*s", what, (int) strcspn (a, "\n"),
             *a ? a : "(end)", (int) strcspn (b, "\n"), *b ? b : "(end)");
}

/* ---- 1. the image run by both runtimes ---- */

static void
check_main_output (const char *rt, const char *out)
{
  char *groups = groups_of (out);

  /* process.args = Entrypoint ++ Cmd.  */
  cr_expect (tu_has_line (out, "ARGS a0 a1"), "%s: args: %s", rt, out);
  cr_expect (tu_has_line (out, "CWD /work"), "%s: WorkingDir: %s", rt, out);
  cr_expect (strstr (out, "uid=1000(alice) gid=1000(alice) groups=") != NULL, "%s: user: %s", rt, out);
  cr_expect (strstr (groups, "10(wheel)") && strstr (groups, "50(staff)") && strstr (groups, "1000(alice)"),
             "%s: supplementary groups: %s", rt, groups);
  {
    int commas = 0;
    for (const char *p = groups; *p; p++)
      commas += *p == ',';
    cr_expect_eq (commas, 2, "%s: exactly three groups expected: %s", rt, groups);
  }
  cr_expect (tu_has_line (out, "ENV FOO=bar"), "%s: image Env: %s", rt, out);
  cr_expect (tu_has_line (out, "ENV EMPTY="), "%s: empty value kept: %s", rt, out);
  cr_expect (tu_has_line (out, "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
             "%s: default PATH: %s", rt, out);
  cr_expect_eq (count_lines_starting (out, "ENV PATH="), 1, "%s: one PATH: %s", rt, out);
  cr_expect (tu_has_line (out, "ENV HOME=/home/alice"), "%s: HOME from passwd: %s", rt, out);
  cr_expect (tu_has_line (out, "VICTIM absent"), "%s: whiteout: %s", rt, out);
  cr_expect (tu_has_line (out, "OPQ new"), "%s: opaque directory: %s", rt, out);
  cr_expect (tu_has_line (out, "top"), "%s: top layer file: %s", rt, out);
  cr_expect (strstr (out, "MNT tmpfs /data tmpfs ") != NULL, "%s: volume as tmpfs: %s", rt, out);
  /* The default profile: outside the allow-list is EPERM (errno 1).  */
  cr_expect (tu_has_line (out, "unshare ret=-1 errno=1"), "%s: seccomp unshare: %s", rt, out);
  cr_expect (tu_has_line (out, "personality ret=-1 errno=1"), "%s: seccomp personality: %s", rt, out);
  cr_expect (tu_has_line (out, "keyctl ret=-1 errno=1"), "%s: seccomp keyctl: %s", rt, out);
  cr_expect (tu_has_line (out, "bpf ret=-1 errno=1"), "%s: seccomp bpf: %s", rt, out);
  cr_expect (tu_has_line (out, "getppid ret=0 errno=0"), "%s: probe did not run: %s", rt, out);
  free (groups);
}

/* RUNTIME index I: run the main image, then the numeric-user and user:group images.  */
static void
run_busybox_images (size_t i)
{
  struct tu_result r;
  char *b_main = path_in ("main"), *b_num = path_in ("num"), *b_grp = path_in ("grp");
  char *i_main = image ("main"), *i_num = image ("num"), *i_grp = image ("grp");
  const char *rt = runtimes[i].name;

  tu_need (rt, teardown);
  busybox_image (true);
  BUNDLE_OK (i_main, b_main);
  runtimes[i].run (&r, b_main);
  cr_assert_eq (r.status, 0, "%s run failed (%d): %s%s", rt, r.status, r.out, r.err);
  check_main_output (rt, r.out);
  tu_result_free (&r);

  /* "2000" is a uid even though a user is named "2000" (uid 3000): numbers are never
     looked up as names.  No passwd entry for uid 2000: gid 0, HOME "/".  */
  BUNDLE_OK (i_num, b_num);
  runtimes[i].run (&r, b_num);
  cr_assert_eq (r.status, 0, "%s run failed (%d): %s%s", rt, r.status, r.out, r.err);
  cr_expect (strstr (r.out, "uid=2000 gid=0(root)") != NULL, "%s: numeric user: %s", rt, r.out);
  cr_expect (strstr (r.out, "3000") == NULL, "%s: the user named 2000 was looked up: %s", rt, r.out);
  cr_expect (tu_has_line (r.out, "HOME=/"), "%s: HOME without a passwd entry: %s", rt, r.out);
  /* The image's PATH is kept, and no second PATH is added.  */
  cr_expect (tu_has_line (r.out, "PATH=/bin:/custom"), "%s: image PATH: %s", rt, r.out);
  cr_expect (tu_has_line (r.out, "1"), "%s: PATH count: %s", rt, r.out);
  tu_result_free (&r);

  /* "alice:grp": that group only, no supplementary groups from /etc/group.  */
  BUNDLE_OK (i_grp, b_grp);
  runtimes[i].run (&r, b_grp);
  cr_assert_eq (r.status, 0, "%s run failed (%d): %s%s", rt, r.status, r.out, r.err);
  cr_expect (strstr (r.out, "uid=1000(alice) gid=60(grp)") != NULL, "%s: user:group: %s", rt, r.out);
  {
    char *groups = groups_of (r.out);
    cr_expect (strcmp (groups, "60(grp)") == 0 || strcmp (groups, "") == 0,
               "%s: alice:grp must have no group but 60: groups=%s", rt, groups);
    free (groups);
  }
  cr_expect (tu_has_line (r.out, "HOME=/home/alice"), "%s: HOME: %s", rt, r.out);
  tu_result_free (&r);

  free (b_main);
  free (b_num);
  free (b_grp);
  free (i_main);
  free (i_num);
  free (i_grp);
}

Test (bundle, runc_runs_the_image_as_converted)
{
  run_busybox_images (0);
}

Test (bundle, crun_runs_the_image_as_converted)
{
  run_busybox_images (1);
}

/* --seccomp unconfined installs no filter; --seccomp FILE installs that profile.  */
Test (bundle, seccomp_unconfined_and_profile_file)
{
  struct tu_result r;
  char *img = image ("main"), *b_unc = path_in ("unconfined"), *b_file = path_in ("file");
  char *profile = path_in ("profile.json");
  static const char profile_json[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"unshare\"],"
                                     "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}";
  size_t i;

  tu_need ("runc", teardown);
  tu_need ("crun", teardown);
  busybox_image (true);
  fx_write_file (profile, profile_json, strlen (profile_json));
  BUNDLE_OK ("--seccomp", "unconfined", img, b_unc, "--", "/bin/probe");
  BUNDLE_OK ("--seccomp", profile, img, b_file, "--", "/bin/probe");
  for (i = 0; i < 2; i++)
    {
      const char *rt = runtimes[i].name;

      runtimes[i].run (&r, b_unc);
      cr_assert_eq (r.status, 0, "%s: %s%s", rt, r.out, r.err);
      cr_expect (tu_has_line (r.out, "unshare ret=0 errno=0"), "%s unconfined: %s", rt, r.out);
      cr_expect (tu_has_line (r.out, "personality ret=0 errno=0"), "%s unconfined: %s", rt, r.out);
      cr_expect (strstr (r.out, "keyctl ret=-1 errno=1\n") == NULL, "%s unconfined: %s", rt, r.out);
      tu_result_free (&r);

      runtimes[i].run (&r, b_file);
      cr_assert_eq (r.status, 0, "%s: %s%s", rt, r.out, r.err);
      cr_expect (tu_has_line (r.out, "unshare ret=-1 errno=38"), "%s profile file: %s", rt, r.out);
      cr_expect (tu_has_line (r.out, "personality ret=0 errno=0"), "%s profile file: %s", rt, r.out);
      tu_result_free (&r);
    }
  free (img);
  free (b_unc);
  free (b_file);
  free (profile);
}

/* ---- 2. options ---- */

Test (bundle, options_replace_command_env_cwd_user)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b"), *cfg;

  tu_need ("runc", teardown);
  busybox_image (false);
  BUNDLE_OK ("--env", "FOO=override", "-e", "NEW=1", "--cwd", "/tmp/../etc", "--user", "2000:50", "--hostname",
             "testhost", "--read-only", "--annotation", "org.example.label=cli", img, b, "--", "/bin/sh", "-c",
             "echo ARGS $0 $#; env | sed 's/^/ENV /'; pwd; id; hostname; touch /x 2>/dev/null && echo RW || echo RO",
             "x0");
  cfg = tu_fmt ("%s/config.json", b);
  {
    char *args = tu_json_at (cfg, "process/args"), *ann = tu_json_at (cfg, "annotations/org.example.label");
    cr_expect_str_eq (args, "[\"/bin/sh\",\"-c\",\"echo ARGS $0 $#; env | sed 's/^/ENV /'; pwd; id; hostname; "
                            "touch /x 2>/dev/null && echo RW || echo RO\",\"x0\"]");
    /* --annotation replaces a label of the same key.  */
    cr_expect_str_eq (ann, "\"cli\"");
    free (ann);
    free (args);
  }
  tu_runc_run (&r, b);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_expect (tu_has_line (r.out, "ARGS x0 0"), "-- ARGS replaces Entrypoint and Cmd: %s", r.out);
  cr_expect (tu_has_line (r.out, "ENV FOO=override"), "%s", r.out);
  cr_expect_eq (count_lines_starting (r.out, "ENV FOO="), 1, "%s", r.out);
  cr_expect (tu_has_line (r.out, "ENV NEW=1"), "%s", r.out);
  cr_expect (tu_has_line (r.out, "/etc"), "--cwd, cleaned: %s", r.out);
  cr_expect (strstr (r.out, "uid=2000 gid=50(staff)") != NULL, "--user: %s", r.out);
  cr_expect (tu_has_line (r.out, "testhost"), "--hostname: %s", r.out);
  cr_expect (tu_has_line (r.out, "RO"), "--read-only: %s", r.out);
  cr_expect (tu_has_line (r.out, "ENV HOME=/"), "no passwd entry for 2000: %s", r.out);
  tu_result_free (&r);
  free (cfg);
  free (img);
  free (b);
}

Test (bundle, capabilities_added_and_dropped)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b");

  tu_need ("runc", teardown);
  busybox_image (false);
  BUNDLE_OK ("--user", "0", "--cap-drop", "chown", "--cap-add", "CAP_SYS_ADMIN", img, b, "--", "/bin/sh", "-c",
             "touch /f; chown 5 /f 2>/dev/null && echo CHOWN yes || echo CHOWN no; grep CapEff /proc/self/status");
  tu_runc_run (&r, b);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_expect (tu_has_line (r.out, "CHOWN no"), "--cap-drop chown: %s", r.out);
  {
    unsigned long long eff = 0;
    const char *p = strstr (r.out, "CapEff:");
    cr_assert (p != NULL && sscanf (p, "CapEff: %llx", &eff) == 1, "%s", r.out);
    cr_expect_eq (eff & (1ull << 0), 0, "CAP_CHOWN still effective: %llx", eff);
    cr_expect_neq (eff & (1ull << 21), 0, "CAP_SYS_ADMIN not added: %llx", eff);
    cr_expect_neq (eff & (1ull << 5), 0, "CAP_KILL (default) missing: %llx", eff);
  }
  tu_result_free (&r);
  free (img);
  free (b);
}

/* ---- 3. --flat ---- */

Test (bundle, flat_runs_mounts_nothing_and_rm_removes_it)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("flat"), *rootfs;
  struct stat st;

  tu_need ("runc", teardown);
  busybox_image (true);
  BUNDLE_OK ("--flat", img, b);
  rootfs = tu_fmt ("%s/rootfs", b);
  cr_expect_eq (tu_mount_points_under (b, NULL), 0, "--flat mounted something under %s", b);
  cr_expect_eq (tu_count_pins (store), 0, "--flat pins nothing");
  /* The whiteout and the opaque marker are applied, not stored as overlay metadata.  */
  {
    char *victim = tu_fmt ("%s/etc/victim", rootfs), *old = tu_fmt ("%s/opq/old1", rootfs);
    cr_expect (lstat (victim, &st) < 0 && errno == ENOENT, "whited-out file in the flat rootfs");
    cr_expect (lstat (old, &st) < 0 && errno == ENOENT, "opaque directory kept a lower entry");
    free (victim);
    free (old);
  }
  tu_runc_run (&r, b);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  check_main_output ("runc --flat", r.out);
  tu_result_free (&r);
  cr_expect_eq (tu_mount_points_under (b, NULL), 0);

  PREP (&r, "rm", b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  cr_expect (lstat (b, &st) < 0 && errno == ENOENT, "rm left %s", b);
  free (rootfs);
  free (img);
  free (b);
}

/* ---- 4. many layers, and the mount(2) fallback ---- */

#define N_FILE_LAYERS 100

/* The busybox layer, then N layers adding fNNN (N >= 100); the one adding f051 also
   whites out f050.  TOP and BOTTOM get the diffIDs of the top and bottom layers.  */
static void
many_layers_image (size_t n, char top[200], char bottom[200])
{
  struct fx_image_result res;
  struct fx_layer *layers = calloc (n + 1, sizeof *layers);
  void **tars = calloc (n + 1, sizeof *tars);
  size_t *lens = calloc (n + 1, sizeof *lens), i;
  struct fx_index_entry entry = { .ref = "latest" };
  struct fx_image img = { 0 };

  FX_CHECK (layers && tars && lens && n >= 100);
  base_layer (false, &tars[0], &lens[0]);
  for (i = 1; i <= n; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      char name[32], content[32];

      snprintf (name, sizeof name, "f%03zu", i);
      snprintf (content, sizeof content, "%zu\n", i);
      fx_tar_file (t, name, 0644, content);
      if (i == 51)
        fx_tar_whiteout (t, "f050");
      fx_tar_finish (t, &tars[i], &lens[i]);
    }
  for (i = 0; i <= n; i++)
    layers[i] = (struct fx_layer){ .tar = tars[i], .tar_len = lens[i], .compression = i ? "none" : "gzip" };
  fx_layout_init (layout);
  img.dir = layout;
  img.layers = layers;
  img.n_layers = n + 1;
  img.config = "{\"Cmd\":[\"/bin/sh\",\"-c\",\"cat /f001 /f049 /f051 /f100; "
               "test -e /f050 && echo F050 present || echo F050 absent; ls / | grep -c '^f[0-9]'\"]}";
  fx_image_write_full (&img, &res);
  entry.desc = res.manifest;
  strcpy (top, res.diff_ids[n]);
  strcpy (bottom, res.diff_ids[0]);
  fx_image_result_free (&res);
  fx_index_write (layout, &entry, 1);
  for (i = 0; i <= n; i++)
    free (tars[i]);
  free (tars);
  free (lens);
  free (layers);
}

static void
check_many_layers_run (const char *bundle, size_t n)
{
  struct tu_result r;
  char *expected = tu_fmt ("1\n49\n51\n100\nF050 absent\n%zu\n", n - 1);

  tu_runc_run (&r, bundle);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_expect_str_eq (r.out, expected);
  tu_result_free (&r);
  free (expected);
}

Test (bundle, hundred_layers_in_one_overlay)
{
  struct tu_result r;
  char *b = path_in ("b"), *rootfs = tu_fmt ("%s/rootfs", b), *opts;

  char top[200], bottom[200], *first, *last;

  tu_need ("runc", teardown);
  many_layers_image (N_FILE_LAYERS, top, bottom);
  PREP (&r, "--json", "bundle", layout, b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_expect (strstr (r.out, "\"layers\": 101") != NULL || strstr (r.out, "\"layers\":101") != NULL, "%s", r.out);
  tu_result_free (&r);
  opts = tu_mount_options (rootfs);
  cr_assert (opts != NULL, "%s is not a mount point", rootfs);
  /* One overlay, every layer in it: the new mount API adds them one by one, top first.  */
  cr_expect_eq (tu_mount_points_under (b, NULL), 1);
  cr_expect_eq (tu_count (opts, "lowerdir+="), N_FILE_LAYERS + 1, "%s", opts);
  first = strstr (opts, "lowerdir+=");
  last = first;
  while (last && strstr (last + 1, "lowerdir+="))
    last = strstr (last + 1, "lowerdir+=");
  cr_expect (first && strncmp (strstr (first, "/layers/") ?: "", "/layers/sha256-", 15) == 0
                 && strncmp (strstr (first, "/layers/") + 15, top + 7, 64) == 0,
             "the first lower layer is not the top one (%s): %.200s", top, first);
  cr_expect (last && strstr (last, "/layers/") && strncmp (strstr (last, "/layers/") + 15, bottom + 7, 64) == 0,
             "the last lower layer is not the bottom one (%s): %.200s", bottom, last);
  check_many_layers_run (b, N_FILE_LAYERS);
  PREP (&r, "rm", b);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_nothing_mounted ();
  free (opts);
  free (rootfs);
  free (b);
}

/* 300 layers: within overlayfs' 500, and the bundle's state lists every one; rm must
   still read it back.  */
Test (bundle, three_hundred_layers_bundle_runs_and_is_removed)
{
  struct tu_result r;
  char *b = path_in ("b");
  char top[200], bottom[200];

  tu_need ("runc", teardown);
  many_layers_image (300, top, bottom);
  PREP (&r, "bundle", layout, b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  check_many_layers_run (b, 300);
  PREP (&r, "rm", b);
  cr_expect_eq (r.status, 0, "rm of a 300-layer bundle: %s", r.err);
  tu_result_free (&r);
  assert_nothing_mounted ();
  cr_expect_eq (tu_count_pins (store), 0);
  free (b);
}

/* Run oci-prep with fsopen(2) failing with ENOSYS (a kernel without the new mount
   API), through a seccomp filter installed in the child before exec.  */
static void
prep_without_new_mount_api (struct tu_result *r, const char *const *args)
{
  char *out_path = path_in ("legacy.out"), *err_path = path_in ("legacy.err");
  const char *argv[64] = { OCIP_BINARY, "--store", store };
  int status;
  size_t i;
  pid_t pid;

  for (i = 0; args[i]; i++)
    argv[i + 3] = args[i];
  pid = fork ();
  FX_CHECK (pid >= 0);
  if (pid == 0)
    {
      scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
      int fd_out = open (out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int fd_err = open (err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

      if (ctx == NULL || fd_out < 0 || fd_err < 0 || dup2 (fd_out, 1) < 0 || dup2 (fd_err, 2) < 0
          || seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (fsopen), 0) < 0 || seccomp_load (ctx) < 0)
        _exit (127);
      execv (OCIP_BINARY, (char *const *) argv);
      _exit (127);
    }
  FX_CHECK (waitpid (pid, &status, 0) == pid);
  r->status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  r->out = fx_read_file (out_path, NULL);
  r->err = fx_read_file (err_path, NULL);
  free (out_path);
  free (err_path);
}

Test (bundle, mount2_fallback_without_new_mount_api)
{
  struct tu_result r;
  char *b = path_in ("b"), *rootfs = tu_fmt ("%s/rootfs", b), *opts, *lower;

  char top[200], bottom[200];

  tu_need ("runc", teardown);
  many_layers_image (N_FILE_LAYERS, top, bottom);
  prep_without_new_mount_api (&r, (const char *const[]){ "bundle", layout, b, NULL });
  cr_assert_eq (r.status, 0, "bundle without the new mount API failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  opts = tu_mount_options (rootfs);
  cr_assert (opts != NULL, "%s is not a mount point", rootfs);
  /* mount(2) with short names relative to the store: "lowerdir=l/<id>:l/<id>:..."  */
  lower = strstr (opts, "lowerdir=l/");
  cr_assert (lower != NULL, "not the legacy mount(2) path: %s", opts);
  {
    char *list = strndup (lower + 9, strcspn (lower + 9, ","));
    cr_expect_eq (tu_count (list, "l/"), N_FILE_LAYERS + 1, "lowerdir=%s", list);
    /* Short names are diffID prefixes, top layer first.  */
    cr_expect (strncmp (list + 2, top + 7, 12) == 0, "the first lower layer is not the top one (%s): %.40s", top,
               list);
    cr_expect (strncmp (strrchr (list, ':') + 3, bottom + 7, 12) == 0,
               "the last lower layer is not the bottom one (%s): %s", bottom, strrchr (list, ':'));
    cr_expect (strstr (opts, "lowerdir+") == NULL, "%s", opts);
    free (list);
  }
  check_many_layers_run (b, N_FILE_LAYERS);
  PREP (&r, "rm", b);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_nothing_mounted ();
  free (opts);
  free (rootfs);
  free (b);
}

/* A layer whose entry "home/alice/new" implies its parents (no entry for "home/alice"
   itself) leaves the lower layer's directory as it was: 0750, 1000:1000, its mtime.  Docker, containerd and
   umoci create a missing parent, never reset an existing one; a private directory must
   not become world-readable because a later layer added a file to it.  */
Test (bundle, implied_parent_keeps_the_lower_directory)
{
  struct fx_tar *t = fx_tar_new ();
  char *img, *flat = path_in ("flat"), *ovl = path_in ("ovl");
  void *tar;
  size_t len, i;
  struct tu_result r;

  fx_tar_file_ex (t, "home/alice/new", 0600, 1000, 1000, FX_MTIME + 5, "new\n", 4);
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("implied", tar, len, "{\"Cmd\":[\"/bin/true\"]}");
  free (tar);
  img = image ("implied");
  BUNDLE_OK ("--flat", img, flat);
  BUNDLE_OK (img, ovl);
  for (i = 0; i < 2; i++)
    {
      char *dir = tu_fmt ("%s/rootfs/home/alice", i ? ovl : flat);
      struct stat st;

      cr_assert_eq (lstat (dir, &st), 0, "%s", dir);
      cr_expect_eq (st.st_mode & 07777, 0750, "%s: mode %o, the lower layer says 0750", i ? "overlay" : "flat",
                    st.st_mode & 07777);
      cr_expect (st.st_uid == 1000 && st.st_gid == 1000, "%s: owner %u:%u, the lower layer says 1000:1000",
                 i ? "overlay" : "flat", st.st_uid, st.st_gid);
      cr_expect_eq (st.st_mtim.tv_sec, FX_MTIME, "%s: mtime %lld, the lower layer says %lld", i ? "overlay" : "flat",
                    (long long) st.st_mtim.tv_sec, (long long) FX_MTIME);
      free (dir);
    }
  PREP (&r, "rm", ovl);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (img);
  free (flat);
  free (ovl);
}

/* What is visible under BUNDLE/rootfs: one line per path, sorted, with type and mode.  */
static char *
visible (const char *bundle)
{
  struct tu_result r;
  char *out;

  tu_sh (&r, "cd '%s/rootfs' && find . -mindepth 1 -printf '%%p %%y %%m\\n' | LC_ALL=C sort", bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  out = r.out;
  free (r.err);
  return out;
}

/* Bundle IMAGE as overlay and --flat; each rootfs must show exactly EXPECTED (visible ()).  */
static void
expect_visible (const char *ref, const char *expected)
{
  char *img = image (ref), *flat = path_in ("flat"), *ovl = path_in ("ovl"), *got;
  struct tu_result r;

  BUNDLE_OK ("--flat", img, flat);
  BUNDLE_OK (img, ovl);
  got = visible (flat);
  cr_expect_str_eq (got, expected, "--flat shows:\n%s", got);
  free (got);
  got = visible (ovl);
  cr_expect_str_eq (got, expected, "overlay shows:\n%s", got);
  free (got);
  PREP (&r, "rm", ovl);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  PREP (&r, "rm", flat);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (img);
  free (flat);
  free (ovl);
}

/* Three layers: BOTTOM, MIDDLE, then "above" (a file).  */
static void
three_layers (const char *ref, const void *middle, size_t middle_len)
{
  const struct tu_ref_config config = { ref, "{\"Cmd\":[\"/bin/true\"]}" };
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layers[3] = { { 0 } };
  void *t1, *t3;
  size_t l1, l3;

  fx_tar_dir (t, "lower", 0755);
  fx_tar_file (t, "lower/f", 0644, "f");
  fx_tar_file (t, "lower/g", 0644, "g");
  fx_tar_file (t, "keep-me", 0644, "k");
  fx_tar_dir (t, "a", 0750);
  fx_tar_dir (t, "a/b", 0755);
  fx_tar_file (t, "a/b/c", 0644, "c");
  fx_tar_file (t, "a/keep", 0644, "k");
  fx_tar_file (t, "f", 0644, "a file below");
  fx_tar_dir (t, "r", 0755);
  fx_tar_dir (t, "r/s", 0755);
  fx_tar_file (t, "r/s/t", 0644, "t");
  fx_tar_file (t, "r/u", 0644, "u");
  fx_tar_finish (t, &t1, &l1);
  t = fx_tar_new ();
  fx_tar_file (t, "above", 0644, "above");
  fx_tar_finish (t, &t3, &l3);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = middle, .tar_len = middle_len };
  layers[2] = (struct fx_layer){ .tar = t3, .tar_len = l3 };
  tu_images_per_config (layout, layers, 3, &config, 1);
  free (t1);
  free (t3);
}

/* "/.wh..wh..opq" (or "./.wh..wh..opq") hides every lower layer, in overlay (which
   ignores the opaque xattr on a lower layer's root: oci-prep leaves the layers below out)
   and in --flat; the layers above still show.  Both showed the lower files before.  */
Test (bundle, root_opaque_marker_hides_every_lower_layer)
{
  static const char *const forms[] = { "/", "." };
  size_t i;

  for (i = 0; i < 2; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      void *tar;
      size_t len;

      fx_tar_opaque (t, forms[i]);
      fx_tar_file (t, "lower/g", 0600, "new g");
      fx_tar_file (t, "new", 0644, "new");
      fx_tar_finish (t, &tar, &len);
      three_layers ("rootopq", tar, len);
      free (tar);
      expect_visible ("rootopq", "./above f 644\n./lower d 755\n./lower/g f 600\n./new f 644\n");
    }
}

/* Whiteouts before and after entries of the same layer, over a lower a/{b/c,keep}, a
   file f and r/{s/t,u}: ".wh.a" then "a/b/new" shows a/b/new alone in a new a (it was
   rejected with ENOTDIR); ".wh.f" then "f/x" turns the file into a directory;
   "r/s/new" then ".wh.r" keeps the layer's own r/s/new and hides the lower r/s/t and
   r/u, as umoci does.  */
Test (bundle, whiteouts_before_and_after_their_children)
{
  struct fx_tar *t = fx_tar_new ();
  void *tar;
  size_t len;

  fx_tar_whiteout (t, "a");
  fx_tar_file (t, "a/b/new", 0644, "new");
  fx_tar_whiteout (t, "f");
  fx_tar_file (t, "f/x", 0644, "x");
  fx_tar_file (t, "r/s/new", 0644, "new");
  fx_tar_whiteout (t, "r");
  fx_tar_finish (t, &tar, &len);
  three_layers ("whiteouts", tar, len);
  free (tar);
  expect_visible ("whiteouts", "./a d 755\n./a/b d 755\n./a/b/new f 644\n./above f 644\n./f d 755\n./f/x f 644\n"
                               "./keep-me f 644\n./lower d 755\n./lower/f f 644\n./lower/g f 644\n./r d 755\n"
                               "./r/s d 755\n./r/s/new f 644\n");
}

/* --flat copies a sparse file of 4 GiB by its data segments: the copy is as sparse as
   the store's and takes the time its data takes; so does the tree digest of the layer
   it comes from (load).  (Not at the size limit: a copy that wrote the holes would
   fill that much disk before the test times out.)  */
Test (bundle, flat_copy_of_a_sparse_file_stays_sparse)
{
  struct fx_tar *t = fx_tar_new_format ("pax");
  long long size = 4ll << 30;
  struct fx_segment seg = { size / 2 / 4096 * 4096, 4096 };
  char *img, *flat = path_in ("flat"), *file;
  unsigned char block[4096];
  struct timespec t0, t1;
  struct stat st;
  double s;
  void *tar;
  size_t len;
  int fd;

  fx_tar_sparse (t, "sparse", size, &seg, 1);
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("sparse", tar, len, "{\"Cmd\":[\"/bin/true\"]}");
  free (tar);
  img = image ("sparse");
  clock_gettime (CLOCK_MONOTONIC, &t0);
  BUNDLE_OK ("--flat", img, flat);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  s = (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf (stderr, "bundle --flat of a %zu-byte layer declaring a %lld-byte sparse file: %.2f s\n", len, size, s);
  cr_expect_lt (s, 10.0, "bundle --flat took %.2f s", s);
  file = tu_fmt ("%s/rootfs/sparse", flat);
  FX_CHECK ((fd = open (file, O_RDONLY | O_CLOEXEC)) >= 0);
  FX_CHECK (fstat (fd, &st) == 0);
  cr_expect_eq (st.st_size, size);
  cr_expect_lt (st.st_blocks, 1024, "the flat copy takes %lld blocks", (long long) st.st_blocks);
  FX_CHECK (pread (fd, block, sizeof block, seg.offset) == (ssize_t) sizeof block);
  cr_expect (block[0] == FX_SPARSE_BYTE && block[4095] == FX_SPARSE_BYTE, "the data segment was not copied");
  FX_CHECK (pread (fd, block, sizeof block, seg.offset + 4096) == (ssize_t) sizeof block);
  cr_expect (block[0] == 0 && block[4095] == 0, "a hole reads as data");
  close (fd);
  free (file);
  free (img);
  free (flat);
}

/* conversion.md: WorkingDir is copied to process.cwd verbatim.  Cleaning it lexically is
   not the same directory when ".." follows a symlink: "/link/../data" with
   /link -> /srv/app is /srv/data to the kernel (and to runc), "/data" once cleaned.  */
Test (bundle, working_dir_with_dotdot_after_a_symlink)
{
  struct fx_tar *t = fx_tar_new ();
  char *img, *b = path_in ("b");
  void *tar;
  size_t len;
  struct tu_result r;

  tu_need ("runc", teardown);
  fx_tar_dir (t, "srv", 0755);
  fx_tar_dir (t, "srv/app", 0755);
  fx_tar_dir (t, "srv/data", 0755);
  fx_tar_symlink (t, "link", "/srv/app");
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("wdlink", tar, len, "{\"Cmd\":[\"/bin/sh\",\"-c\",\"pwd -P\"],\"WorkingDir\":\"/link/../data\"}");
  free (tar);
  img = image ("wdlink");
  BUNDLE_OK (img, b);
  tu_runc_run (&r, b);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_expect_str_eq (r.out, "/srv/data\n", "WorkingDir /link/../data (link -> /srv/app) ran in %s", r.out);
  tu_result_free (&r);
  PREP (&r, "rm", b);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (img);
  free (b);
}

/* --platform picks from a nested index, --tty and --jobs reach config.json, --json and
   the plain summary, and usage errors exit 2.  */
Test (bundle, platform_tty_jobs_json_and_usage)
{
  struct tu_result r;
  struct fx_layer layers[2] = { { 0 } };
  struct fx_index_entry inner[2] = { { .os = "linux" }, { .os = "linux", .arch = "s390x" } };
  struct fx_index_entry outer = { .ref = "multi" };
  char *img, *b1 = path_in ("host"), *b2 = path_in ("s390x"), *cfg;
  void *t1, *t2;
  size_t l1, l2;

  base_layer (false, &t1, &l1);
  tu_whiteout_layer (&t2, &l2);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2 };
  fx_layout_init (layout);
  {
    struct fx_image host = { .dir = layout, .layers = layers, .n_layers = 2, .config = "{\"Cmd\":[\"host\"]}" };
    struct fx_image other
        = { .dir = layout, .layers = layers, .n_layers = 2, .arch = "s390x", .config = "{\"Cmd\":[\"s390x\"]}" };
    fx_image_write (&host, &inner[0].desc);
    fx_image_write (&other, &inner[1].desc);
  }
  inner[0].arch = fx_host_arch ();
  fx_index_blob (layout, NULL, inner, 2, &outer.desc);
  fx_index_write (layout, &outer, 1);
  free (t1);
  free (t2);
  img = image ("multi");

  PREP (&r, "bundle", "--jobs", "3", "-t", img, b1);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_expect (strstr (r.out, "2 layers") != NULL && strstr (r.out, "overlay") != NULL, "summary: %s", r.out);
  tu_result_free (&r);
  cfg = tu_fmt ("%s/config.json", b1);
  {
    char *args = tu_json_at (cfg, "process/args"), *term = tu_json_at (cfg, "process/terminal"),
         *env = tu_json_at (cfg, "process/env");
    cr_expect_str_eq (args, "[\"host\"]", "the host's platform by default");
    cr_expect_str_eq (term, "true", "--tty");
    cr_expect (strstr (env, "\"TERM=xterm\"") != NULL, "--tty sets TERM: %s", env);
    free (args);
    free (term);
    free (env);
  }
  free (cfg);

  PREP (&r, "--json", "bundle", "--platform", "linux/s390x", "--flat", img, b2);
  cr_assert_eq (r.status, 0, "%s", r.err);
  {
    char *jf = path_in ("out.json"), *rootfs, *layers_n;
    fx_write_file (jf, r.out, strlen (r.out));
    rootfs = tu_json_at (jf, "rootfs");
    layers_n = tu_json_at (jf, "layers");
    cr_expect_str_eq (rootfs, "\"flat\"", "%s", r.out);
    cr_expect_str_eq (layers_n, "2", "%s", r.out);
    free (rootfs);
    free (layers_n);
    free (jf);
  }
  tu_result_free (&r);
  cfg = tu_fmt ("%s/config.json", b2);
  {
    char *args = tu_json_at (cfg, "process/args");
    char *arch = tu_json_at (cfg, "annotations/org.opencontainers.image.architecture");
    cr_expect_str_eq (args, "[\"s390x\"]", "--platform linux/s390x");
    cr_expect_str_eq (arch, "\"s390x\"");
    free (args);
    free (arch);
  }
  free (cfg);

  {
    /* Refused: an unknown platform (exit 1), usage errors (exit 2); nothing created.  */
    char *none = path_in ("none"), *u1 = path_in ("u1"), *u2 = path_in ("u2"), *u3 = path_in ("u3");
    struct stat st;

    PREP (&r, "bundle", "--platform", "linux/mips64", img, none);
    tu_assert_error (&r, "mips64");
    tu_result_free (&r);
    PREP (&r, "bundle", img);
    cr_expect_eq (r.status, 2, "missing BUNDLE: %d %s", r.status, r.err);
    tu_result_free (&r);
    PREP (&r, "bundle", img, u1, "extra");
    cr_expect_eq (r.status, 2, "a command without --: %d %s", r.status, r.err);
    tu_result_free (&r);
    PREP (&r, "bundle", "--jobs", "0", img, u2);
    cr_expect_eq (r.status, 2, "--jobs 0: %d %s", r.status, r.err);
    tu_result_free (&r);
    PREP (&r, "bundle", "--env", "NOEQUALS", img, u3);
    cr_expect_eq (r.status, 2, "--env without '=': %d %s", r.status, r.err);
    tu_result_free (&r);
    cr_expect (lstat (u1, &st) < 0 && lstat (u2, &st) < 0 && lstat (u3, &st) < 0 && lstat (none, &st) < 0,
               "a refused command created its bundle directory");
    free (none);
    free (u1);
    free (u2);
    free (u3);
  }
  PREP (&r, "rm", b1, b2);
  cr_expect_eq (r.status, 0, "rm of two bundles: %s", r.err);
  tu_result_free (&r);
  assert_nothing_mounted ();
  free (img);
  free (b1);
  free (b2);
}

/* ---- 5. lifecycle and bad input ---- */

Test (bundle, refuses_a_non_empty_directory_and_leaves_it_alone)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b"), *before, *after;

  busybox_image (false);
  /* What a bundle of another tool looks like: config.json, rootfs/, and a note.  */
  fx_mkdir_p (b);
  {
    char *note = tu_fmt ("%s/note", b), *cfg = tu_fmt ("%s/config.json", b), *rootfs = tu_fmt ("%s/rootfs/bin", b);
    char *keep = tu_fmt ("%s/rootfs/bin/keep", b), *state = tu_fmt ("%s/.oci-prep", b);
    fx_write_file (note, "mine\n", 5);
    fx_write_file (cfg, "{}\n", 3);
    fx_mkdir_p (rootfs);
    fx_write_file (keep, "keep\n", 5);
    fx_mkdir_p (state);
    free (note);
    free (cfg);
    free (rootfs);
    free (keep);
    free (state);
  }
  before = snapshot (b);
  PREP (&r, "bundle", img, b);
  tu_assert_error (&r, "not empty");
  tu_result_free (&r);
  after = snapshot (b);
  expect_same (before, after, "a directory oci-prep did not make was changed");
  assert_nothing_mounted ();
  cr_expect_eq (tu_count_pins (store), 0);
  free (before);
  free (after);
  free (img);
  free (b);
}

/* A bundle oci-prep made is replaced only with --force.  */
static void
existing_bundle (bool flat)
{
  struct tu_result r;
  char *img = image ("main"), *other = image ("root"), *b = path_in ("b"), *before, *after, *cfg, *args;
  const char *flat_arg = flat ? "--flat" : "--jobs=2";

  busybox_image (false);
  BUNDLE_OK (flat_arg, img, b);
  before = snapshot (b);
  PREP (&r, "bundle", flat_arg, other, b);
  tu_assert_error (&r, "--force");
  tu_result_free (&r);
  after = snapshot (b);
  expect_same (before, after, "the existing bundle was changed by a refused bundle");
  cr_expect_eq (tu_count_pins (store), flat ? 0 : 1);
  cr_expect_eq (tu_mount_points_under (b, NULL), flat ? 0 : 1);
  free (after);

  PREP (&r, "bundle", "--force", flat_arg, other, b);
  cr_assert_eq (r.status, 0, "--force: %s", r.err);
  tu_result_free (&r);
  cfg = tu_fmt ("%s/config.json", b);
  args = tu_json_at (cfg, "process/args");
  cr_expect_str_eq (args, "[\"/bin/sh\",\"-c\",\"id\"]", "not replaced");
  cr_expect_eq (tu_count_pins (store), flat ? 0 : 1, "the old bundle's pin must go");
  cr_expect_eq (tu_mount_points_under (b, NULL), flat ? 0 : 1, "one rootfs mount, not two");
  PREP (&r, "rm", b);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_nothing_mounted ();
  cr_expect_eq (tu_count_pins (store), 0);
  free (args);
  free (cfg);
  free (before);
  free (img);
  free (other);
  free (b);
}

Test (bundle, existing_overlay_bundle_needs_force)
{
  existing_bundle (false);
}

Test (bundle, existing_flat_bundle_needs_force)
{
  existing_bundle (true);
}

/* A failure after the rootfs was mounted undoes everything: IMAGE_REF bundled into a
   pre-existing empty directory (and into a new one) fails with NEEDLE.  */
static void
fails_cleanly (const char *image_ref, const char *needle, const char *const *extra)
{
  struct tu_result r;
  char *img = image (image_ref), *b = path_in ("empty"), *nb = path_in ("new"), *before;
  const char *args[32] = { "bundle" };
  size_t n = 1, i, j;
  struct stat st;

  fx_mkdir_p (b);
  before = snapshot (b);
  for (j = 0; j < 2; j++)
    {
      n = 1;
      for (i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
      args[n++] = img;
      args[n++] = j == 0 ? b : nb;
      args[n] = NULL;
      tu_prep_store (&r, store, args);
      tu_assert_error (&r, needle);
      tu_result_free (&r);
      assert_nothing_mounted ();
      cr_expect_eq (tu_count_pins (store), 0, "a failed bundle left its pin");
    }
  {
    char *after = snapshot (b);
    expect_same (before, after, "the empty bundle directory is not empty again");
    free (after);
  }
  cr_expect (lstat (nb, &st) < 0 && errno == ENOENT, "a failed bundle left the directory it created");
  free (before);
  free (img);
  free (b);
  free (nb);
}

Test (bundle, unknown_user_fails_cleanly)
{
  busybox_image (false);
  fails_cleanly ("main", "unknown user 'mallory'", (const char *const[]){ "--user", "mallory", NULL });
}

Test (bundle, relative_working_dir_fails_cleanly)
{
  void *tar;
  size_t len;
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "x", 0644, "x\n");
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("wd", tar, len, "{\"Cmd\":[\"/bin/true\"],\"WorkingDir\":\"../../x\"}");
  fails_cleanly ("wd", "'../../x'", NULL);
  free (tar);
}

Test (bundle, env_without_equals_fails_cleanly)
{
  void *tar;
  size_t len;
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "x", 0644, "x\n");
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("env", tar, len, "{\"Cmd\":[\"/bin/true\"],\"Env\":[\"GOOD=1\",\"NOEQUALS\"]}");
  fails_cleanly ("env", "'NOEQUALS'", NULL);
  free (tar);
}

#define HOSTONLY "hostonlyuser:x:4242:4242::/hostonly:/bin/sh\n"

/* /etc/passwd is a symlink to an absolute path: it is resolved inside the rootfs, never
   on the host.  */
Test (bundle, passwd_symlink_never_reads_the_host)
{
  struct tu_result r;
  char *hostdir = path_in ("hostside"), *hostfile = tu_fmt ("%s/passwd", hostdir);
  char *b = path_in ("b"), *img, *cfg, *uid, *env;
  struct fx_tar *t = fx_tar_new ();
  void *tar;
  size_t len;

  /* On the host, outside the rootfs: a user only the host file knows.  */
  fx_mkdir_p (hostdir);
  fx_write_file (hostfile, HOSTONLY, strlen (HOSTONLY));
  /* In the image: /etc/passwd -> HOSTFILE, and at HOSTFILE inside the rootfs another
     file with a user only the image knows.  */
  fx_tar_symlink (t, "etc/passwd", hostfile);
  {
    char *in_root = strdup (hostfile + 1), *p;
    for (p = strchr (in_root, '/'); p; p = strchr (p + 1, '/'))
      {
        *p = '\0';
        fx_tar_dir (t, in_root, 0755);
        *p = '/';
      }
    fx_tar_file (t, in_root, 0644, "imageuser:x:777:778::/imagehome:/bin/sh\n");
    free (in_root);
  }
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("abs", tar, len, "{\"Cmd\":[\"/bin/id\"],\"User\":\"root\"}");
  free (tar);
  img = image ("abs");

  fails_cleanly ("abs", "unknown user 'hostonlyuser'", (const char *const[]){ "--user", "hostonlyuser", NULL });
  /* The image's own "root" is gone (passwd replaced by the link); the link leads to
     the rootfs' file, which has no root either.  */
  PREP (&r, "bundle", img, b);
  tu_assert_error (&r, "unknown user 'root'");
  tu_result_free (&r);
  BUNDLE_OK ("--user", "imageuser", img, b);
  cfg = tu_fmt ("%s/config.json", b);
  uid = tu_json_at (cfg, "process/user");
  env = tu_json_at (cfg, "process/env");
  cr_expect (strncmp (uid, "{\"uid\":777,\"gid\":778", 20) == 0, "the rootfs' own file is read: %s", uid);
  cr_expect (strstr (env, "HOME=/imagehome") != NULL, "%s", env);
  PREP (&r, "rm", b);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (uid);
  free (env);
  free (cfg);
  free (img);
  free (b);
  free (hostdir);
  free (hostfile);
}

/* The same with a link to the host's very own /etc/passwd: inside the rootfs the link
   points at itself, a loop.  Success could only mean the host's file was read.  */
Test (bundle, passwd_link_to_host_passwd_is_an_error)
{
  struct fx_tar *t = fx_tar_new ();
  void *tar;
  size_t len;

  fx_tar_symlink (t, "etc/passwd", "/etc/passwd");
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("self", tar, len, "{\"Cmd\":[\"/bin/id\"],\"User\":\"root\"}");
  free (tar);
  fails_cleanly ("self", "'/etc/passwd'", NULL);
}

/* A FIFO at /etc/group (or /etc/passwd) would block a reader forever: refused.  */
Test (bundle, fifo_group_is_an_error_not_a_hang, .timeout = 30)
{
  static const char *const files[] = { "etc/group", "etc/passwd" };

  for (size_t i = 0; i < 2; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      void *tar;
      size_t len;
      char *rootfs_path = tu_fmt ("'/%s'", files[i]);

      fx_tar_device (t, files[i], 'p', 0, 0);
      fx_tar_finish (t, &tar, &len);
      busybox_plus ("fifo", tar, len, "{\"Cmd\":[\"/bin/id\"],\"User\":\"alice\"}");
      free (tar);
      fails_cleanly ("fifo", rootfs_path, NULL);
      free (rootfs_path);
    }
}

Test (bundle, rm_refuses_a_directory_oci_prep_did_not_make)
{
  struct tu_result r;
  char *d = path_in ("d"), *f = tu_fmt ("%s/rootfs", d), *before, *after;

  fx_mkdir_p (f);
  free (f);
  f = tu_fmt ("%s/config.json", d);
  fx_write_file (f, "{}\n", 3);
  before = snapshot (d);
  PREP (&r, "rm", d);
  tu_assert_error (&r, "not made by oci-prep");
  tu_result_free (&r);
  PREP (&r, "rm", "--force", d);
  tu_assert_error (&r, "not made by oci-prep");
  tu_result_free (&r);
  after = snapshot (d);
  expect_same (before, after, "rm changed a directory it refused");
  free (before);
  free (after);
  free (f);
  free (d);
}

Test (bundle, rm_of_a_busy_rootfs_is_ebusy_and_force_detaches)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b"), *rootfs, *before, *after;
  struct stat st;
  pid_t pid;

  busybox_image (false);
  BUNDLE_OK (img, b);
  rootfs = tu_fmt ("%s/rootfs/work", b);
  /* A process whose cwd is in the rootfs keeps the mount busy.  */
  pid = fork ();
  FX_CHECK (pid >= 0);
  if (pid == 0)
    {
      if (chdir (rootfs) < 0)
        _exit (1);
      execl ("/bin/sleep", "sleep", "60", (char *) NULL);
      _exit (1);
    }
  background[n_background++] = pid;
  {
    /* Wait until the child is in there.  */
    char *cwd = tu_fmt ("/proc/%d/cwd", (int) pid), target[4096];
    int tries;
    for (tries = 0; tries < 200; tries++)
      {
        ssize_t n = readlink (cwd, target, sizeof target - 1);
        if (n > 0 && (target[n] = '\0', strcmp (target, rootfs) == 0))
          break;
        usleep (10000);
      }
    free (cwd);
  }
  before = snapshot (b);
  PREP (&r, "rm", b);
  tu_assert_error (&r, "in use");
  tu_result_free (&r);
  after = snapshot (b);
  expect_same (before, after, "a refused rm changed the bundle");
  cr_expect_eq (tu_count_pins (store), 1, "a refused rm dropped the pin");
  cr_expect_eq (tu_mount_points_under (b, NULL), 1);

  PREP (&r, "rm", "--force", b);
  cr_expect_eq (r.status, 0, "rm --force: %s", r.err);
  tu_result_free (&r);
  cr_expect (lstat (b, &st) < 0 && errno == ENOENT, "rm --force left %s", b);
  assert_nothing_mounted ();
  cr_expect_eq (tu_count_pins (store), 0);
  free (before);
  free (after);
  free (rootfs);
  free (img);
  free (b);
}

Test (bundle, rm_twice_names_the_bundle)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b");

  busybox_image (false);
  BUNDLE_OK (img, b);
  PREP (&r, "rm", b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  PREP (&r, "rm", b);
  tu_assert_error (&r, b);
  tu_result_free (&r);
  free (img);
  free (b);
}

/* After a reboot the rootfs is no longer mounted: rm still removes the bundle and its
   pin.  */
Test (bundle, rm_after_the_mount_is_gone)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b"), *rootfs = tu_fmt ("%s/rootfs", b);
  struct stat st;

  busybox_image (false);
  BUNDLE_OK (img, b);
  cr_assert_eq (umount2 (rootfs, 0), 0, "umount %s: %s", rootfs, strerror (errno));
  PREP (&r, "rm", b);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  cr_expect (lstat (b, &st) < 0 && errno == ENOENT, "rm left %s", b);
  cr_expect_eq (tu_count_pins (store), 0);
  free (rootfs);
  free (img);
  free (b);
}

/* ---- 6. pins ---- */

/* The value of the first "KEY": "VALUE" in TEXT.  */
static char *
json_string_field (const char *text, const char *key)
{
  char *pattern = tu_fmt ("\"%s\"", key);
  const char *p = strstr (text, pattern), *q;

  free (pattern);
  if (p == NULL || (p = strchr (p + strlen (key) + 2, '"')) == NULL || (q = strchr (p + 1, '"')) == NULL)
    return NULL;
  return strndup (p + 1, q - p - 1);
}

Test (bundle, pins_follow_the_bundle)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b"), *flat = path_in ("flat"), *id, *pin, *text;
  struct fx_image_result res;
  struct stat st;

  busybox_image (false);
  PREP (&r, "--json", "bundle", img, b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  id = json_string_field (r.out, "id");
  cr_assert (id != NULL, "%s", r.out);
  tu_result_free (&r);
  pin = tu_fmt ("%s/bundles/%s.json", store, id);
  cr_assert_eq (stat (pin, &st), 0, "no pin %s", pin);
  cr_expect_eq (tu_count_pins (store), 1);
  text = fx_read_file (pin, NULL);
  {
    /* Both layers (the same bytes as the image's, so the same diffIDs) are pinned.  */
    void *t1, *t2;
    size_t l1, l2;
    struct fx_layer layers[2];
    char *dir2 = path_in ("img2");
    struct fx_image im = { .dir = dir2, .layers = layers, .n_layers = 2 };

    base_layer (false, &t1, &l1);
    tu_whiteout_layer (&t2, &l2);
    layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
    layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2 };
    fx_layout_init (dir2);
    fx_image_write_full (&im, &res);
    for (size_t i = 0; i < 2; i++)
      cr_expect (strstr (text, res.diff_ids[i]) != NULL, "layer %zu (%s) not pinned: %s", i, res.diff_ids[i], text);
    fx_image_result_free (&res);
    free (t1);
    free (t2);
    free (dir2);
  }
  /* --flat pins nothing.  */
  BUNDLE_OK ("--flat", img, flat);
  cr_expect_eq (tu_count_pins (store), 1, "--flat added a pin");
  PREP (&r, "rm", b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  cr_expect (stat (pin, &st) < 0 && errno == ENOENT, "rm left the pin %s", pin);
  cr_expect_eq (tu_count_pins (store), 0);
  PREP (&r, "rm", flat);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (text);
  free (pin);
  free (id);
  free (img);
  free (b);
  free (flat);
}

/* oci-prep config IMAGE --rootfs DIR writes the same document as bundle does.  */
Test (bundle, config_command_agrees_with_bundle)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b"), *rootfs, *cfg, *text;

  busybox_image (false);
  BUNDLE_OK ("-e", "X=1", img, b);
  rootfs = tu_fmt ("%s/rootfs", b);
  cfg = tu_fmt ("%s/config.json", b);
  PREP (&r, "config", "-e", "X=1", "--rootfs", rootfs, img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  text = fx_read_file (cfg, NULL);
  cr_expect_str_eq (r.out, text);
  tu_result_free (&r);
  /* Without a rootfs a user name cannot be resolved.  */
  PREP (&r, "config", img);
  tu_assert_error (&r, "alice");
  tu_result_free (&r);
  PREP (&r, "rm", b);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (text);
  free (cfg);
  free (rootfs);
  free (img);
  free (b);
}

/* ---- image labels that runtimes act on ---- */

/* An image's labels in the namespaces runtimes interpret (crun's run.oci.hooks.stdout
   makes crun create that host path as root; org.systemd.property.* sets properties of
   the container's unit...) are not copied to config.json, by bundle and by config, and
   one warning line names them, escaped; --annotation still sets them.  */
Test (bundle, runtime_labels_are_dropped_with_one_warning)
{
  struct fx_tar *t = fx_tar_new ();
  struct tu_result r;
  void *tar;
  size_t len;
  char *img = image ("labels"), *b = path_in ("b"), *cfg = tu_fmt ("%s/config.json", b), *text;

  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/top", 0644, "top\n");
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("labels", tar, len,
                "{\"Cmd\":[\"/bin/sh\",\"-c\",\"id\"],\"Labels\":{\"run.oci.hooks.stdout\":\"/tmp/pwned\","
                "\"run.oci.keep_original_groups\":\"1\",\"org.systemd.property.CollectMode\":\"x\","
                "\"io.containerd.runc.v2.group\":\"g\",\"run.oci.\\u001b[31m\":\"1\",\"team\":\"a\"}}");
  free (tar);

  PREP (&r, "bundle", img, b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_eq (tu_count (r.err, "\n"), 1, "one line on stderr: %s", r.err);
  cr_assert (strncmp (r.err, "oci-prep: warning: ", 19) == 0, "%s", r.err);
  cr_assert (strstr (r.err, "'run.oci.hooks.stdout', 'run.oci.keep_original_groups', "
                            "'org.systemd.property.CollectMode', 'io.containerd.runc.v2.group', "
                            "'run.oci.\\x1b[31m'"),
             "the warning names the labels, escaped: %s", r.err);
  cr_assert_null (strchr (r.err, '\x1b'), "a raw escape reached the terminal");
  tu_result_free (&r);
  text = fx_read_file (cfg, NULL);
  cr_assert_null (strstr (text, "run.oci."), "%s", text);
  cr_assert_null (strstr (text, "org.systemd.property."), "%s", text);
  cr_assert_null (strstr (text, "io.containerd."), "%s", text);
  cr_assert (strstr (text, "\"team\": \"a\""), "%s", text);
  free (text);

  /* config prints the same document, and the same warning.  */
  PREP (&r, "config", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_null (strstr (r.out, "run.oci."), "%s", r.out);
  cr_assert (strstr (r.err, "oci-prep: warning: ") && strstr (r.err, "'run.oci.hooks.stdout'"), "%s", r.err);
  tu_result_free (&r);

  /* The caller may set them.  */
  PREP (&r, "bundle", "--force", "--annotation", "run.oci.keep_original_groups=1", img, b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  text = tu_json_at (cfg, "annotations/run.oci.keep_original_groups");
  cr_assert_str_eq (text, "\"1\"");
  free (text);
  PREP (&r, "rm", b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (cfg);
  free (img);
  free (b);
}

/* ---- who can reach the rootfs ---- */

/* errno of opening PATH (O_PATH) as uid/gid 65534 without groups, 0 on success.  */
static int
errno_as_nobody (const char *path)
{
  pid_t pid = fork ();
  int status;

  FX_CHECK (pid >= 0);
  if (pid == 0)
    {
      if (setgroups (0, NULL) < 0 || setresgid (65534, 65534, 65534) < 0 || setresuid (65534, 65534, 65534) < 0)
        _exit (255);
      _exit (open (path, O_PATH | O_CLOEXEC) < 0 ? errno : 0);
    }
  FX_CHECK (waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) != 255);
  return WEXITSTATUS (status);
}

/* A BUNDLE that exists empty and 0755 becomes 0700, overlay or flat: the image's
   setuid-root file is out of other users' reach (CVE-2021-41091 class), and runc still
   runs the bundle.  */
static void
existing_0755_bundle_becomes_private (bool flat)
{
  struct fx_tar *t = fx_tar_new ();
  struct tu_result r;
  struct stat st;
  void *tar;
  size_t len;
  char *img = image ("suid"), *b = path_in ("b"), *suid = tu_fmt ("%s/rootfs/bin/suid", b);
  char *rootfs = tu_fmt ("%s/rootfs", b);

  tu_need ("runc", teardown);
  fx_tar_dir (t, "bin", 0755);
  fx_tar_file_ex (t, "bin/suid", 04755, 0, 0, FX_MTIME, "#!/bin/sh\n", 10);
  fx_tar_finish (t, &tar, &len);
  busybox_plus ("suid", tar, len, "{\"Cmd\":[\"/bin/sh\",\"-c\",\"stat -c '%a %u' /bin/suid\"]}");
  free (tar);
  /* The work directory is 0700: open it so that only BUNDLE's own mode decides.  */
  FX_CHECK (chmod (tmp, 0755) == 0);
  FX_CHECK (mkdir (b, 0755) == 0 && chmod (b, 0755) == 0);
  cr_assert_eq (errno_as_nobody (b), 0, "the test needs a directory nobody can reach first");

  if (flat)
    BUNDLE_OK ("--flat", img, b);
  else
    BUNDLE_OK (img, b);
  FX_CHECK (stat (b, &st) == 0);
  cr_assert_eq (st.st_mode & 07777, 0700, "%s is %o", b, st.st_mode & 07777);
  FX_CHECK (stat (suid, &st) == 0);
  cr_assert_eq (st.st_mode & 07777, 04755, "the image's setuid file is there (%o)", st.st_mode & 07777);
  cr_assert_eq (errno_as_nobody (rootfs), EACCES, "uid 65534 reached the rootfs");
  cr_assert_eq (errno_as_nobody (suid), EACCES, "uid 65534 reached the setuid file");

  tu_runc_run (&r, b);
  cr_assert_eq (r.status, 0, "runc run failed (%d): %s%s", r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, "4755 0"), "%s", r.out);
  tu_result_free (&r);
  PREP (&r, "rm", b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (rootfs);
  free (suid);
  free (img);
  free (b);
}

Test (bundle, existing_0755_bundle_becomes_private_overlay)
{
  existing_0755_bundle_becomes_private (false);
}

Test (bundle, existing_0755_bundle_becomes_private_flat)
{
  existing_0755_bundle_becomes_private (true);
}

/* An empty BUNDLE that another user owns is refused and left as it was: its owner
   could always make it reachable again.  */
Test (bundle, bundle_owned_by_another_user_is_refused)
{
  struct tu_result r;
  struct stat st;
  char *img = image ("main"), *b = path_in ("b");

  busybox_image (false);
  FX_CHECK (mkdir (b, 0755) == 0 && chown (b, 65534, 65534) == 0 && chmod (b, 0755) == 0);
  PREP (&r, "bundle", img, b);
  tu_assert_error (&r, "belongs to uid 65534");
  tu_result_free (&r);
  FX_CHECK (stat (b, &st) == 0);
  cr_assert_eq (st.st_mode & 07777, 0755);
  cr_assert_eq (tu_count_entries (b), 0);
  cr_assert_eq (tu_count_pins (store), 0);
  free (img);
  free (b);
}

/* ---- a bundle whose creation did not finish ---- */

/* What a bundle killed between its mount and its last step leaves (its state marked
   unfinished, the pin, the mount): rm says so and refuses, store fsck reports the
   interrupted creation, rm --force removes everything.  */
Test (bundle, unfinished_bundle_is_named_by_rm_and_removed_by_force)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b"), *state = tu_fmt ("%s/.oci-prep/state.json", b);
  char *text, *at, *unfinished;

  busybox_image (false);
  BUNDLE_OK (img, b);
  text = fx_read_file (state, NULL);
  at = strstr (text, "\"complete\": true");
  cr_assert_not_null (at, "%s", text);
  *at = '\0';
  unfinished = tu_fmt ("%s\"complete\": false%s", text, at + strlen ("\"complete\": true"));
  fx_write_file (state, unfinished, strlen (unfinished));
  free (unfinished);
  free (text);

  PREP (&r, "rm", b);
  tu_assert_error (&r, "did not finish");
  tu_result_free (&r);
  cr_assert_eq (tu_mount_points_under (b, NULL), 1, "rm without --force changed nothing");
  PREP (&r, "store", "fsck");
  cr_assert (strstr (r.out, "interrupted"), "fsck reports the interrupted creation: %s%s", r.out, r.err);
  tu_result_free (&r);
  PREP (&r, "rm", "--force", b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_nothing_mounted ();
  cr_assert_eq (tu_count_pins (store), 0);
  cr_assert (access (b, F_OK) != 0);
  free (state);
  free (img);
  free (b);
}

/* Killed before its state was written, a bundle holds only an empty .oci-prep: rm names
   it, rm --force removes it, bundle --force replaces it.  */
Test (bundle, bundle_without_state_yet_is_removed_by_force)
{
  struct tu_result r;
  char *img = image ("main"), *b = path_in ("b"), *dot = tu_fmt ("%s/.oci-prep", b);

  busybox_image (false);
  FX_CHECK (mkdir (b, 0700) == 0 && mkdir (dot, 0700) == 0);
  PREP (&r, "rm", b);
  tu_assert_error (&r, "did not finish");
  tu_result_free (&r);
  PREP (&r, "bundle", img, b);
  tu_assert_error (&r, "--force");
  tu_result_free (&r);
  PREP (&r, "rm", "--force", b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  cr_assert (access (b, F_OK) != 0);

  FX_CHECK (mkdir (b, 0700) == 0 && mkdir (dot, 0700) == 0);
  BUNDLE_OK ("--force", img, b);
  PREP (&r, "rm", b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (dot);
  free (img);
  free (b);
}
