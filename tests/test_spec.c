/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for spec: conversion rules, defaults, and a generated config run by runc and crun. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/caps.h"
#include "spec/seccomp.h"
#include <oci-prep/cleanup.h>
#include <oci-prep/image.h>
#include "base/idmap.h"
#include "base/json.h"
#include <oci-prep/limits.h>
#include <oci-prep/spec.h>

#include "fixture.h"
#include "testutil.h"

#define V(...) ((char *[]){ __VA_ARGS__, NULL })

/* BASE/rootfs is the rootfs; other files in BASE (profiles, bundles) lie outside it.  */
static char *base;
static int rootfd = -1;

static char *
path_in (const char *rel)
{
  char *p;

  FX_CHECK (asprintf (&p, "%s/%s", base, rel) >= 0);
  return p;
}

static void
write_rel (const char *rel, const char *content)
{
  cleanup_free char *p = path_in (rel);
  fx_write_file (p, content, strlen (content));
}

static void
setup (void)
{
  cleanup_free char *etc = NULL;
  cleanup_free char *root = NULL;

  base = fx_mkdtemp ();
  etc = path_in ("rootfs/etc");
  fx_mkdir_p (etc);
  write_rel ("rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                  "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                                  "1000:x:5000:5000::/home/impostor:/bin/sh\n");
  write_rel ("rootfs/etc/group", "root:x:0:\nstaff:x:50:alice\nalice:x:1000:\n");
  root = path_in ("rootfs");
  rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  FX_CHECK (rootfd >= 0);
}

static void
teardown (void)
{
  ocip_closep (&rootfd);
  fx_rm_rf (base);
  free (base);
}

TestSuite (spec, .init = setup, .fini = teardown);

/* An image config whose "config" object is CONFIG (JSON) and whose top level also has
   the members in TOP (JSON members with a trailing comma, or "").  */
static struct ocip_image_config *
image (const char *top, const char *config)
{
  cleanup_free char *doc = xasprintf ("{\"architecture\":\"amd64\",\"os\":\"linux\",%s"
                                      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":%s}",
                                      top, config);
  struct ocip_image_config *c = NULL;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_image_config_parse (doc, strlen (doc), 0, &c, &err), 0, "image config %s: %s", doc,
                err ? err->msg : "");
  return c;
}

static void
image_freep (struct ocip_image_config **c)
{
  ocip_image_config_free (*c);
}

#define cleanup_image __attribute__ ((cleanup (image_freep)))

/* The smallest runnable image.  */
static struct ocip_image_config *
simple_image (void)
{
  return image ("", "{\"Cmd\":[\"/bin/sh\"]}");
}

/* Generate, check the text is complete JSON, and return it parsed.  *TEXT (if not NULL)
   gets the text.  */
static struct ocip_json *
generate_at (int fd, const struct ocip_image_config *c, const struct ocip_spec_options *o, char **text)
{
  ocip_error_t err = NULL;
  char *json = NULL;
  struct ocip_json *doc = NULL;
  int r = ocip_spec_generate (c, fd, o, &json, NULL, &err);

  cr_assert_eq (r, 0, "generate: %s", err ? err->msg : "?");
  cr_assert_null (err);
  cr_assert_not_null (json);
  cr_assert_eq (json[strlen (json) - 1], '\n');
  cr_assert_eq (ocip_json_parse (json, strlen (json), OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, &err), 0,
                "generated JSON does not parse: %s", err ? err->msg : "");
  cr_assert_eq (ocip_json_type (ocip_json_root (doc)), OCIP_JSON_OBJECT);
  if (text)
    *text = json;
  else
    free (json);
  return doc;
}

static struct ocip_json *
generate (const struct ocip_image_config *c, const struct ocip_spec_options *o)
{
  return generate_at (rootfd, c, o, NULL);
}

static void
generate_fails_at (int fd, const struct ocip_image_config *c, const struct ocip_spec_options *o, int errnum,
                   const char *what)
{
  ocip_error_t err = NULL;
  char *json = NULL;
  int r = ocip_spec_generate (c, fd, o, &json, NULL, &err);

  free (json);
  cr_assert_eq (r, -errnum, "expected %d, got %d (%s)", -errnum, r, err ? err->msg : "");
  cr_assert_null (json, "output written on failure");
  cr_assert_not_null (err);
  cr_assert_eq (err->status, errnum);
  cr_assert (strstr (err->msg, what) != NULL, "message '%s' does not say '%s'", err->msg, what);
  ocip_error_release (&err);
}

static void
generate_fails (const struct ocip_image_config *c, const struct ocip_spec_options *o, int errnum, const char *what)
{
  generate_fails_at (rootfd, c, o, errnum, what);
}

/* Walk object keys from NODE: get (root, "process", "user", "uid", NULL).  */
static const struct ocip_json_node *
get (const struct ocip_json_node *node, ...)
{
  va_list ap;
  const char *key;

  va_start (ap, node);
  while (node && (key = va_arg (ap, const char *)) != NULL)
    node = ocip_json_object_get (node, key);
  va_end (ap);
  return node;
}

#define ROOT(doc) ocip_json_root (doc)

static const char *
str (const struct ocip_json_node *node)
{
  cr_assert_not_null (node, "missing field");
  cr_assert_eq (ocip_json_type (node), OCIP_JSON_STRING, "not a string");
  return ocip_json_string (node);
}

static int64_t
num (const struct ocip_json_node *node)
{
  ocip_error_t err = NULL;
  int64_t v = 0;

  cr_assert_not_null (node, "missing field");
  cr_assert_eq (ocip_json_int64 (node, &v, &err), 0, "not an integer");
  return v;
}

/* The strings of the array NODE must be exactly WANT.  */
static void
assert_strv (const struct ocip_json_node *node, char *const *want)
{
  size_t i;

  cr_assert_not_null (node, "missing array");
  cr_assert_eq (ocip_json_type (node), OCIP_JSON_ARRAY);
  for (i = 0; want[i]; i++)
    {
      cr_assert_lt (i, ocip_json_array_len (node), "array too short: no '%s'", want[i]);
      cr_assert_str_eq (str (ocip_json_array_at (node, i)), want[i]);
    }
  cr_assert_eq (ocip_json_array_len (node), i, "array has %zu entries, expected %zu", ocip_json_array_len (node), i);
}

static bool
array_has (const struct ocip_json_node *node, const char *s)
{
  size_t i;

  for (i = 0; i < ocip_json_array_len (node); i++)
    {
      const char *item = ocip_json_string (ocip_json_array_at (node, i));
      if (item && strcmp (item, s) == 0)
        return true;
    }
  return false;
}

/* The mount whose destination is DEST, or NULL.  */
static const struct ocip_json_node *
mount_at (const struct ocip_json *doc, const char *dest)
{
  const struct ocip_json_node *mounts = get (ROOT (doc), "mounts", NULL);
  size_t i;

  for (i = 0; i < ocip_json_array_len (mounts); i++)
    if (strcmp (str (get (ocip_json_array_at (mounts, i), "destination", NULL)), dest) == 0)
      return ocip_json_array_at (mounts, i);
  return NULL;
}

static void
doc_freep (struct ocip_json **d)
{
  ocip_json_free (*d);
}

#define cleanup_doc __attribute__ ((cleanup (doc_freep)))

/* 1048576, unless this process could not raise its hard limit that far.  */
static int64_t
expected_nofile (void)
{
  struct rlimit rl;
  cleanup_free char *nr_open = fx_read_file ("/proc/sys/fs/nr_open", NULL);
  int64_t limit = 1048576;

  if (atoll (nr_open) < limit)
    limit = atoll (nr_open);
  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max < (rlim_t) limit && ! ocip_caps_process_has ("sys_resource"))
    limit = (int64_t) rl.rlim_max;
  return limit;
}

/* In a user namespace the container's root cannot raise a hard limit at all.  */
static int64_t
expected_nofile_userns (void)
{
  struct rlimit rl;
  int64_t limit = expected_nofile ();

  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &rl), 0);
  return rl.rlim_max != RLIM_INFINITY && (int64_t) rl.rlim_max < limit ? (int64_t) rl.rlim_max : limit;
}

Test (spec, defaults)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  cleanup_free char *text = NULL;
  cleanup_doc struct ocip_json *doc = generate_at (rootfd, c, NULL, &text);
  const struct ocip_json_node *root = ROOT (doc), *ns, *rl, *seccomp;
  static char *const mounts[]
      = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", NULL };
  size_t i;

  cr_assert_str_eq (str (get (root, "ociVersion", NULL)), "1.1.0");
  cr_assert_str_eq (str (get (root, "root", "path", NULL)), "rootfs");
  cr_assert_str_eq (str (get (root, "hostname", NULL)), "oci-prep");
  cr_assert_eq (ocip_json_type (get (root, "process", "terminal", NULL)), OCIP_JSON_BOOL);
  cr_assert (strstr (text, "\"terminal\": false") != NULL);
  cr_assert (strstr (text, "\"readonly\": false") != NULL);
  cr_assert (strstr (text, "\"noNewPrivileges\": true") != NULL);
  assert_strv (get (root, "process", "args", NULL), V ("/bin/sh"));
  cr_assert_str_eq (str (get (root, "process", "cwd", NULL)), "/");
  cr_assert_eq (num (get (root, "process", "user", "uid", NULL)), 0);
  cr_assert_eq (num (get (root, "process", "user", "gid", NULL)), 0);
  cr_assert_null (get (root, "process", "user", "additionalGids", NULL));
  assert_strv (get (root, "process", "env", NULL), V (OCIP_SPEC_DEFAULT_PATH, "HOME=/root"));

  rl = get (root, "process", "rlimits", NULL);
  cr_assert_eq (ocip_json_array_len (rl), 1);
  cr_assert_str_eq (str (get (ocip_json_array_at (rl, 0), "type", NULL)), "RLIMIT_NOFILE");
  cr_assert_eq (num (get (ocip_json_array_at (rl, 0), "hard", NULL)), expected_nofile ());
  cr_assert_eq (num (get (ocip_json_array_at (rl, 0), "soft", NULL)), expected_nofile ());

  {
    static char *const caps[] = { "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID",
                                  "CAP_KILL",   "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
                                  "CAP_SETPCAP", "CAP_SETUID",      "CAP_SYS_CHROOT", NULL };
    assert_strv (get (root, "process", "capabilities", "bounding", NULL), caps);
    assert_strv (get (root, "process", "capabilities", "effective", NULL), caps);
    assert_strv (get (root, "process", "capabilities", "permitted", NULL), caps);
    cr_assert_null (get (root, "process", "capabilities", "inheritable", NULL));
    cr_assert_null (get (root, "process", "capabilities", "ambient", NULL));
  }

  ns = get (root, "linux", "namespaces", NULL);
  cr_assert_eq (ocip_json_array_len (ns), 6);
  {
    static const char *const want[] = { "pid", "network", "ipc", "uts", "mount", "cgroup" };
    for (i = 0; i < 6; i++)
      cr_assert_str_eq (str (get (ocip_json_array_at (ns, i), "type", NULL)), want[i]);
  }
  cr_assert_null (get (ocip_json_array_at (ns, 0), "path", NULL), "a namespace path joins the host's");

  cr_assert_eq (ocip_json_array_len (get (root, "mounts", NULL)), 7);
  for (i = 0; mounts[i]; i++)
    cr_assert_str_eq (str (get (ocip_json_array_at (get (root, "mounts", NULL), i), "destination", NULL)), mounts[i]);
  cr_assert_str_eq (str (get (mount_at (doc, "/proc"), "type", NULL)), "proc");
  assert_strv (get (mount_at (doc, "/dev"), "options", NULL), V ("nosuid", "strictatime", "mode=755", "size=65536k"));
  assert_strv (get (mount_at (doc, "/dev/pts"), "options", NULL),
               V ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"));
  assert_strv (get (mount_at (doc, "/dev/shm"), "options", NULL),
               V ("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
  cr_assert_str_eq (str (get (mount_at (doc, "/dev/mqueue"), "type", NULL)), "mqueue");
  assert_strv (get (mount_at (doc, "/sys"), "options", NULL), V ("nosuid", "noexec", "nodev", "ro"));
  cr_assert_str_eq (str (get (mount_at (doc, "/sys/fs/cgroup"), "type", NULL)), "cgroup");
  assert_strv (get (mount_at (doc, "/sys/fs/cgroup"), "options", NULL),
               V ("nosuid", "noexec", "nodev", "relatime", "ro"));

  assert_strv (get (root, "linux", "maskedPaths", NULL),
               V ("/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                  "/sys/devices/virtual/powercap"));
  assert_strv (get (root, "linux", "readonlyPaths", NULL),
               V ("/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));

  seccomp = get (root, "linux", "seccomp", NULL);
  cr_assert_str_eq (str (get (seccomp, "defaultAction", NULL)), "SCMP_ACT_ERRNO");
  cr_assert_eq (num (get (seccomp, "defaultErrnoRet", NULL)), 1);
  cr_assert_gt (ocip_json_array_len (get (seccomp, "architectures", NULL)), 0);
  cr_assert_eq (ocip_json_array_len (get (seccomp, "syscalls", NULL)), 1);
  cr_assert_str_eq (str (get (ocip_json_array_at (get (seccomp, "syscalls", NULL), 0), "action", NULL)),
                    "SCMP_ACT_ALLOW");

  cr_assert_str_eq (str (get (root, "annotations", "org.opencontainers.image.os", NULL)), "linux");
  cr_assert_str_eq (str (get (root, "annotations", "org.opencontainers.image.architecture", NULL)), "amd64");
  cr_assert_null (get (root, "annotations", "org.opencontainers.image.created", NULL));
  cr_assert_null (get (root, "annotations", "org.opencontainers.image.exposedPorts", NULL));
}

Test (spec, seccomp_default_allows_read_not_mount)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  cleanup_doc struct ocip_json *doc = generate (c, NULL);
  const struct ocip_json_node *names
      = get (ocip_json_array_at (get (ROOT (doc), "linux", "seccomp", "syscalls", NULL), 0), "names", NULL);
  size_t i;

  cr_assert (array_has (names, "read"));
  cr_assert (array_has (names, "clone3"));
  cr_assert_not (array_has (names, "mount"));
  cr_assert_not (array_has (names, "ptrace"));
  cr_assert_not (array_has (names, "unshare"));
  cr_assert_not (array_has (names, "open_by_handle_at"));
  /* What runc and crun do with each name: resolve it for the native arch.  */
  for (i = 0; i < ocip_json_array_len (names); i++)
    cr_assert_neq (seccomp_syscall_resolve_name (str (ocip_json_array_at (names, i))), __NR_SCMP_ERROR,
                   "'%s' does not resolve", str (ocip_json_array_at (names, i)));
}

Test (spec, seccomp_unconfined)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  struct ocip_spec_options o = { .seccomp = "unconfined" };
  cleanup_doc struct ocip_json *doc = generate (c, &o);

  cr_assert_null (get (ROOT (doc), "linux", "seccomp", NULL));
  cr_assert_not_null (get (ROOT (doc), "linux", "maskedPaths", NULL));
}

Test (spec, seccomp_file_is_embedded)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  cleanup_free char *path = path_in ("profile.json");
  struct ocip_spec_options o = { .seccomp = path };
  cleanup_doc struct ocip_json *doc = NULL;
  const struct ocip_json_node *s, *rule, *arg;

  write_rel ("profile.json", "{\"defaultAction\":\"SCMP_ACT_LOG\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                             "\"listenerMetadata\":null,\"syscalls\":[{\"names\":[\"personality\"],"
                             "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":4294967295,"
                             "\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"mount\"],"
                             "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}],\"x-unknown\":{\"nested\":[[],{}]}}");
  doc = generate (c, &o);
  s = get (ROOT (doc), "linux", "seccomp", NULL);
  cr_assert_eq (ocip_json_object_len (s), 5);
  cr_assert_str_eq (str (get (s, "defaultAction", NULL)), "SCMP_ACT_LOG");
  cr_assert_null (get (s, "defaultErrnoRet", NULL));
  assert_strv (get (s, "architectures", NULL), V ("SCMP_ARCH_X86_64"));
  cr_assert_eq (ocip_json_type (get (s, "listenerMetadata", NULL)), OCIP_JSON_NULL);
  cr_assert_eq (ocip_json_array_len (get (s, "syscalls", NULL)), 2);
  rule = ocip_json_array_at (get (s, "syscalls", NULL), 0);
  assert_strv (get (rule, "names", NULL), V ("personality"));
  arg = ocip_json_array_at (get (rule, "args", NULL), 0);
  cr_assert_eq (num (get (arg, "index", NULL)), 0);
  cr_assert_eq (num (get (arg, "value", NULL)), 4294967295);
  cr_assert_str_eq (str (get (arg, "op", NULL)), "SCMP_CMP_EQ");
  cr_assert_eq (num (get (ocip_json_array_at (get (s, "syscalls", NULL), 1), "errnoRet", NULL)), 38);
  cr_assert_eq (ocip_json_array_len (get (s, "x-unknown", "nested", NULL)), 2);
}

Test (spec, seccomp_file_errors_and_booleans, .timeout = 10)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  cleanup_free char *array = path_in ("array.json");
  cleanup_free char *boolean = path_in ("bool.json");
  cleanup_free char *fifo = path_in ("fifo");
  cleanup_free char *missing = path_in ("missing.json");
  struct ocip_spec_options o = { 0 };

  write_rel ("array.json", "[]");
  write_rel ("bool.json", "{\"defaultAction\":\"SCMP_ACT_LOG\",\"x\":true}");
  cr_assert_eq (mkfifo (fifo, 0644), 0);
  o.seccomp = array;
  generate_fails (c, &o, EINVAL, "not a JSON object");
  o.seccomp = boolean;
  {
    /* Booleans and numbers are re-emitted as written.  */
    cleanup_doc struct ocip_json *d = generate (c, &o);
    const struct ocip_json_node *sec
        = ocip_json_object_get (ocip_json_object_get (ocip_json_root (d), "linux"), "seccomp");
    cr_assert (ocip_json_bool (ocip_json_object_get (sec, "x")), "the boolean was not kept");
  }
  o.seccomp = fifo;
  generate_fails (c, &o, EINVAL, "not a regular file");
  o.seccomp = missing;
  generate_fails (c, &o, ENOENT, "missing.json");
  o.seccomp = "";
  generate_fails (c, &o, EINVAL, "seccomp");
}

Test (spec, args_are_entrypoint_then_cmd)
{
  cleanup_image struct ocip_image_config *both
      = image ("", "{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"]}");
  cleanup_image struct ocip_image_config *entry = image ("", "{\"Entrypoint\":[\"/entry\"]}");
  cleanup_doc struct ocip_json *d1 = generate (both, NULL);
  cleanup_doc struct ocip_json *d2 = generate (entry, NULL);

  assert_strv (get (ROOT (d1), "process", "args", NULL), V ("/bin/sh", "-c", "echo hi"));
  assert_strv (get (ROOT (d2), "process", "args", NULL), V ("/entry"));
}

Test (spec, caller_args_replace_entrypoint_and_cmd)
{
  cleanup_image struct ocip_image_config *c = image ("", "{\"Entrypoint\":[\"/entry\"],\"Cmd\":[\"x\"]}");
  struct ocip_spec_options o = { .args = V ("/bin/true", "y") };
  cleanup_doc struct ocip_json *doc = generate (c, &o);

  assert_strv (get (ROOT (doc), "process", "args", NULL), V ("/bin/true", "y"));
}

Test (spec, no_command_is_an_error)
{
  cleanup_image struct ocip_image_config *none = image ("", "{}");
  cleanup_image struct ocip_image_config *empty = image ("", "{\"Entrypoint\":[],\"Cmd\":[]}");
  cleanup_image struct ocip_image_config *c = simple_image ();
  struct ocip_spec_options o = { .args = V (NULL) };

  generate_fails (none, NULL, EINVAL, "image has no command: set Entrypoint/Cmd or pass one");
  generate_fails (empty, NULL, EINVAL, "image has no command");
  generate_fails (c, &o, EINVAL, "image has no command");
}

Test (spec, working_dir)
{
  cleanup_image struct ocip_image_config *messy
      = image ("", "{\"Cmd\":[\"x\"],\"WorkingDir\":\"/srv/./app//../web/\"}");
  cleanup_image struct ocip_image_config *c = simple_image ();
  struct ocip_spec_options o = { .cwd = "/opt/x/" };
  cleanup_doc struct ocip_json *d1 = generate (messy, NULL);
  cleanup_doc struct ocip_json *d2 = generate (messy, &o);

  /* conversion.md: WorkingDir verbatim ("app" may be a symlink inside the container).  */
  cr_assert_str_eq (str (get (ROOT (d1), "process", "cwd", NULL)), "/srv/./app//../web/");
  cr_assert_str_eq (str (get (ROOT (d2), "process", "cwd", NULL)), "/opt/x/");
  o.cwd = "/";
  {
    cleanup_doc struct ocip_json *d3 = generate (c, &o);
    cr_assert_str_eq (str (get (ROOT (d3), "process", "cwd", NULL)), "/");
  }
}

Test (spec, working_dir_must_be_absolute_and_stay_below_root)
{
  cleanup_image struct ocip_image_config *dotdot = image ("", "{\"Cmd\":[\"x\"],\"WorkingDir\":\"../../x\"}");
  cleanup_image struct ocip_image_config *relative = image ("", "{\"Cmd\":[\"x\"],\"WorkingDir\":\"relative\"}");
  cleanup_image struct ocip_image_config *climb = image ("", "{\"Cmd\":[\"x\"],\"WorkingDir\":\"/a/../../x\"}");
  cleanup_image struct ocip_image_config *c = simple_image ();
  struct ocip_spec_options o = { .cwd = "/.." };

  generate_fails (dotdot, NULL, EINVAL, "'../../x'");
  generate_fails (relative, NULL, EINVAL, "working directory 'relative' is not an absolute path");
  generate_fails (climb, NULL, EINVAL, "working directory '/a/../../x' climbs above '/'");
  generate_fails (c, &o, EINVAL, "'/..'");
}

Test (spec, env_defaults_only_when_absent)
{
  cleanup_image struct ocip_image_config *with
      = image ("", "{\"Cmd\":[\"x\"],\"Env\":[\"FOO=bar\",\"PATH=/custom\",\"HOME=/h\",\"FOO=again\"]}");
  cleanup_image struct ocip_image_config *without = image ("", "{\"Cmd\":[\"x\"],\"Env\":[\"A=1\"]}");
  cleanup_doc struct ocip_json *d1 = generate (with, NULL);
  cleanup_doc struct ocip_json *d2 = generate (without, NULL);

  assert_strv (get (ROOT (d1), "process", "env", NULL), V ("FOO=bar", "PATH=/custom", "HOME=/h", "FOO=again"));
  assert_strv (get (ROOT (d2), "process", "env", NULL), V ("A=1", OCIP_SPEC_DEFAULT_PATH, "HOME=/root"));
}

Test (spec, env_home_follows_the_user)
{
  cleanup_image struct ocip_image_config *alice = image ("", "{\"Cmd\":[\"x\"],\"User\":\"alice\"}");
  cleanup_image struct ocip_image_config *nobody = image ("", "{\"Cmd\":[\"x\"],\"User\":\"4242\"}");
  cleanup_doc struct ocip_json *d1 = generate (alice, NULL);
  cleanup_doc struct ocip_json *d2 = generate (nobody, NULL);

  cr_assert (array_has (get (ROOT (d1), "process", "env", NULL), "HOME=/home/alice"));
  cr_assert (array_has (get (ROOT (d2), "process", "env", NULL), "HOME=/"));
}

Test (spec, env_term_only_with_tty)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  cleanup_image struct ocip_image_config *term = image ("", "{\"Cmd\":[\"x\"],\"Env\":[\"TERM=vt100\"]}");
  struct ocip_spec_options o = { .tty = true };
  cleanup_free char *text = NULL;
  cleanup_doc struct ocip_json *no_tty = generate (c, NULL);
  cleanup_doc struct ocip_json *tty = generate_at (rootfd, c, &o, &text);
  cleanup_doc struct ocip_json *kept = generate (term, &o);

  cr_assert_not (array_has (get (ROOT (no_tty), "process", "env", NULL), "TERM=xterm"));
  cr_assert (array_has (get (ROOT (tty), "process", "env", NULL), "TERM=xterm"));
  cr_assert (strstr (text, "\"terminal\": true") != NULL);
  cr_assert (array_has (get (ROOT (kept), "process", "env", NULL), "TERM=vt100"));
  cr_assert_not (array_has (get (ROOT (kept), "process", "env", NULL), "TERM=xterm"));
}

Test (spec, env_entry_without_equals_is_an_error)
{
  cleanup_image struct ocip_image_config *c = image ("", "{\"Cmd\":[\"x\"],\"Env\":[\"A=1\",\"NOVALUE\"]}");
  cleanup_image struct ocip_image_config *empty_key = image ("", "{\"Cmd\":[\"x\"],\"Env\":[\"=x\"]}");
  cleanup_image struct ocip_image_config *ok = simple_image ();
  struct ocip_spec_options o = { .env = V ("GOOD=1", "BAD") };

  generate_fails (c, NULL, EINVAL, "'NOVALUE'");
  generate_fails (empty_key, NULL, EINVAL, "'=x'");
  generate_fails (ok, &o, EINVAL, "'BAD'");
}

Test (spec, caller_env_replaces_or_appends)
{
  cleanup_image struct ocip_image_config *c
      = image ("", "{\"Cmd\":[\"x\"],\"Env\":[\"FOO=bar\",\"KEEP=1\",\"FOO=dup\"]}");
  struct ocip_spec_options o = { .env = V ("FOO=baz", "NEW=1", "PATH=/p", "HOME=/caller", "EMPTY=") };
  cleanup_doc struct ocip_json *doc = generate (c, &o);

  assert_strv (get (ROOT (doc), "process", "env", NULL),
               V ("FOO=baz", "KEEP=1", "PATH=/p", "HOME=/caller", "NEW=1", "EMPTY="));
}

Test (spec, user_named_with_groups)
{
  cleanup_image struct ocip_image_config *c = image ("", "{\"Cmd\":[\"x\"],\"User\":\"alice\"}");
  cleanup_doc struct ocip_json *doc = generate (c, NULL);
  const struct ocip_json_node *user = get (ROOT (doc), "process", "user", NULL), *gids;

  cr_assert_eq (num (get (user, "uid", NULL)), 1000);
  cr_assert_eq (num (get (user, "gid", NULL)), 1000);
  gids = get (user, "additionalGids", NULL);
  cr_assert_eq (ocip_json_array_len (gids), 2);
  cr_assert_eq (num (ocip_json_array_at (gids, 0)), 1000);
  cr_assert_eq (num (ocip_json_array_at (gids, 1)), 50);
}

Test (spec, user_numeric_stays_numeric_and_caller_user_wins)
{
  cleanup_image struct ocip_image_config *c = image ("", "{\"Cmd\":[\"x\"],\"User\":\"alice\"}");
  struct ocip_spec_options o = { .user = "1000:7" };
  cleanup_doc struct ocip_json *doc = generate (c, &o);
  const struct ocip_json_node *user = get (ROOT (doc), "process", "user", NULL);

  /* The rootfs has a passwd line named "1000" with uid 5000.  */
  cr_assert_eq (num (get (user, "uid", NULL)), 1000);
  cr_assert_eq (num (get (user, "gid", NULL)), 7);
  cr_assert_null (get (user, "additionalGids", NULL));
}

Test (spec, user_errors)
{
  cleanup_image struct ocip_image_config *big = image ("", "{\"Cmd\":[\"x\"],\"User\":\"4294967295\"}");
  cleanup_image struct ocip_image_config *unknown = image ("", "{\"Cmd\":[\"x\"],\"User\":\"mallory\"}");
  cleanup_image struct ocip_image_config *named = image ("", "{\"Cmd\":[\"x\"],\"User\":\"alice\"}");
  cleanup_image struct ocip_image_config *numeric = image ("", "{\"Cmd\":[\"x\"],\"User\":\"1:2\"}");

  generate_fails (big, NULL, EINVAL, "'4294967295'");
  generate_fails (unknown, NULL, EINVAL, "unknown user 'mallory'");
  generate_fails_at (-1, named, NULL, EINVAL, "a rootfs is needed");
  {
    cleanup_doc struct ocip_json *doc = generate_at (-1, numeric, NULL, NULL);
    cr_assert_eq (num (get (ROOT (doc), "process", "user", "gid", NULL)), 2);
  }
}

Test (spec, annotations_from_the_image)
{
  cleanup_image struct ocip_image_config *c
      = image ("\"variant\":\"v2\",\"os.version\":\"10.0.1\",\"os.features\":[\"a\",\"b\"],\"author\":\"Ann\","
               "\"created\":\"2024-01-02T03:04:05Z\",",
               "{\"Cmd\":[\"x\"],\"StopSignal\":\"SIGTERM\",\"ExposedPorts\":{\"8080/tcp\":{},\"443/tcp\":{},"
               "\"80/udp\":{}},\"Labels\":{\"org.opencontainers.image.author\":\"Label Author\",\"team\":\"x\"}}");
  cleanup_doc struct ocip_json *doc = generate (c, NULL);
  const struct ocip_json_node *a = get (ROOT (doc), "annotations", NULL);

#define ANN(key) str (get (a, "org.opencontainers.image." key, NULL))
  cr_assert_str_eq (ANN ("os"), "linux");
  cr_assert_str_eq (ANN ("architecture"), "amd64");
  cr_assert_str_eq (ANN ("variant"), "v2");
  cr_assert_str_eq (ANN ("os.version"), "10.0.1");
  cr_assert_str_eq (ANN ("os.features"), "a,b");
  cr_assert_str_eq (ANN ("created"), "2024-01-02T03:04:05Z");
  cr_assert_str_eq (ANN ("stopSignal"), "SIGTERM");
  cr_assert_str_eq (ANN ("exposedPorts"), "443/tcp,80/udp,8080/tcp");
  /* The label replaces the implicit annotation.  */
  cr_assert_str_eq (ANN ("author"), "Label Author");
#undef ANN
  cr_assert_str_eq (str (get (a, "team", NULL)), "x");
  cr_assert_eq (ocip_json_object_len (a), 10);
}

Test (spec, caller_annotations_override)
{
  cleanup_image struct ocip_image_config *c
      = image ("", "{\"Cmd\":[\"x\"],\"Labels\":{\"team\":\"x\",\"org.opencontainers.image.os\":\"plan9\"}}");
  struct ocip_spec_options o = { .annotations = V ("team=y", "org.opencontainers.image.os=haiku", "new=a=b") };
  struct ocip_spec_options bad = { .annotations = V ("novalue") };
  cleanup_doc struct ocip_json *doc = generate (c, &o);
  const struct ocip_json_node *a = get (ROOT (doc), "annotations", NULL);

  cr_assert_str_eq (str (get (a, "team", NULL)), "y");
  cr_assert_str_eq (str (get (a, "org.opencontainers.image.os", NULL)), "haiku");
  cr_assert_str_eq (str (get (a, "new", NULL)), "a=b");
  generate_fails (c, &bad, EINVAL, "annotation 'novalue'");
}

/* Image labels in the namespaces runtimes act on (crun's run.oci.hooks.stdout creates a
   host path as root; org.systemd.property.* sets unit properties...) never become
   annotations; the caller's --annotation still sets them.  */
static const char *const runtime_labels[] = {
  "run.oci.hooks.stdout",        "run.oci.keep_original_groups", "RUN.OCI.seccomp_fail_unknown_syscall",
  "module.wasm.image/variant",   "org.systemd.property.CollectMode", "org.criu.config",
  "bundle",                      "io.kubernetes.cri-o.Devices",  "io.kubernetes.cri.container-type",
  "cpu-load-balancing.crio.io",  "seccomp-profile.kubernetes.cri-o.io/c", "io.containers.trace-syscall",
  "io.containerd.runc.v2.group", "io.katacontainers.config.hypervisor.path", "dev.gvisor.spec.mount.x.share",
  "io.oci-prep.image",
};

Test (spec, runtime_annotation_labels_are_dropped_and_named)
{
  cleanup_free char *labels = xstrdup ("");
  cleanup_free char *json = NULL;
  cleanup_strv char **dropped = NULL;
  cleanup_image struct ocip_image_config *c = NULL;
  cleanup_doc struct ocip_json *doc = NULL;
  const struct ocip_json_node *a;
  ocip_error_t err = NULL;
  size_t i, n = sizeof runtime_labels / sizeof runtime_labels[0];

  for (i = 0; i < n; i++)
    {
      char *more = xasprintf ("%s\"%s\":\"/tmp/x\",", labels, runtime_labels[i]);
      free (labels);
      labels = more;
    }
  {
    char *cfg = xasprintf ("{\"Cmd\":[\"x\"],\"Labels\":{%s\"team\":\"x\",\"run.ocix\":\"1\",\"bundles\":\"1\","
                           "\"xcrio.io/a\":\"1\",\"org.opencontainers.image.title\":\"t\"}}",
                           labels);
    c = image ("", cfg);
    free (cfg);
  }
  cr_assert_eq (ocip_spec_generate (c, -1, NULL, &json, &dropped, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (ocip_json_parse (json, strlen (json), OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, &err), 0);
  a = get (ROOT (doc), "annotations", NULL);
  for (i = 0; i < n; i++)
    {
      cr_assert_null (ocip_json_object_get (a, runtime_labels[i]), "label '%s' became an annotation",
                      runtime_labels[i]);
      cr_assert_str_eq (dropped[i], runtime_labels[i], "dropped %zu", i);
      cr_assert_not_null (ocip_spec_runtime_annotation (runtime_labels[i]));
    }
  cr_assert_null (dropped[n]);
  /* Lookalikes outside the namespaces stay.  */
  cr_assert_str_eq (str (get (a, "team", NULL)), "x");
  cr_assert_str_eq (str (get (a, "run.ocix", NULL)), "1");
  cr_assert_str_eq (str (get (a, "bundles", NULL)), "1");
  cr_assert_str_eq (str (get (a, "xcrio.io/a", NULL)), "1");
  cr_assert_str_eq (str (get (a, "org.opencontainers.image.title", NULL)), "t");
}

Test (spec, caller_sets_runtime_annotations)
{
  cleanup_image struct ocip_image_config *c
      = image ("", "{\"Cmd\":[\"x\"],\"Labels\":{\"run.oci.keep_original_groups\":\"0\"}}");
  struct ocip_spec_options o = { .annotations = V ("run.oci.keep_original_groups=1", "org.systemd.property.A=b") };
  cleanup_free char *json = NULL;
  cleanup_strv char **dropped = NULL;
  cleanup_json struct ocip_json *doc = NULL;
  ocip_error_t err = NULL;
  const struct ocip_json_node *a;

  cr_assert_eq (ocip_spec_generate (c, -1, &o, &json, &dropped, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (ocip_json_parse (json, strlen (json), OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, &err), 0);
  a = get (ROOT (doc), "annotations", NULL);
  cr_assert_str_eq (str (get (a, "run.oci.keep_original_groups", NULL)), "1");
  cr_assert_str_eq (str (get (a, "org.systemd.property.A", NULL)), "b");
  cr_assert_str_eq (dropped[0], "run.oci.keep_original_groups");
  cr_assert_null (dropped[1]);
}

Test (spec, volumes_become_tmpfs)
{
  cleanup_image struct ocip_image_config *c
      = image ("", "{\"Cmd\":[\"x\"],\"Volumes\":{\"/var/lib/db/\":{},\"/data\":{},\"/data//\":{},\"/a/./b\":{}}}");
  cleanup_doc struct ocip_json *doc = generate (c, NULL);
  const struct ocip_json_node *mounts = get (ROOT (doc), "mounts", NULL);
  static const char *const want[] = { "/a/b", "/data", "/var/lib/db" };
  size_t i;

  cr_assert_eq (ocip_json_array_len (mounts), 7 + 3);
  for (i = 0; i < 3; i++)
    {
      const struct ocip_json_node *m = ocip_json_array_at (mounts, 7 + i);
      cr_assert_str_eq (str (get (m, "destination", NULL)), want[i]);
      cr_assert_str_eq (str (get (m, "type", NULL)), "tmpfs");
      cr_assert_str_eq (str (get (m, "source", NULL)), "tmpfs");
      assert_strv (get (m, "options", NULL), V ("nosuid", "nodev", "mode=755"));
    }
  for (i = 0; i < ocip_json_array_len (mounts); i++)
    {
      const struct ocip_json_node *m = ocip_json_array_at (mounts, i);
      cr_assert_neq (strcmp (str (get (m, "type", NULL)), "bind"), 0);
      cr_assert_not (array_has (get (m, "options", NULL), "bind"));
      cr_assert_not (array_has (get (m, "options", NULL), "rbind"));
    }
}

Test (spec, bad_volumes)
{
  static const char *const bad[][2] = {
    { "relative", "not an absolute path" },  { "/a/../b", "'..'" },   { "/../etc", "'..'" },
    { "/", "whole rootfs" },                  { "//", "whole rootfs" }, { "/proc", "'/proc'" },
    { "/proc/sys/kernel", "'/proc'" },        { "/sys/x", "'/sys'" },   { "/dev/shm", "'/dev'" },
  };
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_free char *config = xasprintf ("{\"Cmd\":[\"x\"],\"Volumes\":{\"%s\":{}}}", bad[i][0]);
      cleanup_image struct ocip_image_config *c = image ("", config);
      generate_fails (c, NULL, EINVAL, bad[i][1]);
    }
  {
    /* "/procfs" and "/devices" are not in /proc or /dev.  */
    cleanup_image struct ocip_image_config *c
        = image ("", "{\"Cmd\":[\"x\"],\"Volumes\":{\"/procfs\":{},\"/devices\":{}}}");
    cleanup_doc struct ocip_json *doc = generate (c, NULL);
    cr_assert_not_null (mount_at (doc, "/procfs"));
    cr_assert_not_null (mount_at (doc, "/devices"));
  }
}

Test (spec, capabilities_add_and_drop)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  struct ocip_spec_options o = { .cap_add = V ("net_admin", "CAP_SYS_TIME"), .cap_drop = V ("chown", "Cap_Kill") };
  struct ocip_spec_options unknown = { .cap_add = V ("cap_bogus") };
  struct ocip_spec_options unknown_drop = { .cap_drop = V ("bogus") };
  cleanup_doc struct ocip_json *doc = generate (c, &o);
  static const char *const sets[] = { "bounding", "effective", "permitted" };
  size_t i;

  for (i = 0; i < 3; i++)
    {
      const struct ocip_json_node *set = get (ROOT (doc), "process", "capabilities", sets[i], NULL);
      cr_assert (array_has (set, "CAP_NET_ADMIN"));
      cr_assert (array_has (set, "CAP_SYS_TIME"));
      cr_assert (array_has (set, "CAP_SETUID"));
      cr_assert_not (array_has (set, "CAP_CHOWN"));
      cr_assert_not (array_has (set, "CAP_KILL"));
      cr_assert_eq (ocip_json_array_len (set), 11);
    }
  generate_fails (c, &unknown, EINVAL, "unknown capability 'cap_bogus'");
  generate_fails (c, &unknown_drop, EINVAL, "unknown capability 'bogus'");
}

Test (spec, drop_all_capabilities)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  struct ocip_spec_options o = { .cap_drop = V ("ALL") };
  cleanup_doc struct ocip_json *doc = generate (c, &o);

  cr_assert_eq (ocip_json_array_len (get (ROOT (doc), "process", "capabilities", "bounding", NULL)), 0);
}

Test (spec, hostname_root_and_read_only)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  struct ocip_spec_options o = { .hostname = "box", .root_path = "/abs/rootfs", .read_only = true };
  /* 65 bytes: one more than the kernel takes.  */
  struct ocip_spec_options long_name
      = { .hostname = "01234567890123456789012345678901234567890123456789012345678901234" };
  struct ocip_spec_options empty = { .hostname = "" };
  cleanup_free char *text = NULL;
  cleanup_doc struct ocip_json *doc = generate_at (rootfd, c, &o, &text);

  cr_assert_str_eq (str (get (ROOT (doc), "hostname", NULL)), "box");
  cr_assert_str_eq (str (get (ROOT (doc), "root", "path", NULL)), "/abs/rootfs");
  cr_assert (strstr (text, "\"readonly\": true") != NULL);
  generate_fails (c, &long_name, EINVAL, "hostname");
  generate_fails (c, &empty, EINVAL, "hostname");
}

/* A second parser agrees the output is JSON, with the right booleans.  */
Test (spec, python_parses_the_config)
{
  cleanup_image struct ocip_image_config *c
      = image ("\"created\":\"2024-01-02T03:04:05Z\",", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo \\\"quoted\\\" \\u00e9\"],"
                                                        "\"User\":\"alice\",\"Labels\":{\"k\":\"v\\n\"},"
                                                        "\"Volumes\":{\"/data\":{}}}");
  struct ocip_spec_options o = { .tty = true, .read_only = true };
  cleanup_free char *text = NULL;
  cleanup_doc struct ocip_json *doc = generate_at (rootfd, c, &o, &text);
  cleanup_free char *path = path_in ("config.json");

  cr_assert_not_null (doc);
  struct tu_result r;

  if (! tu_have ("python3"))
    {
      cr_assert (! tu_in_ci (), "python3 is missing in CI");
      cr_skip_test ("python3 is not installed");
    }
  fx_write_file (path, text, strlen (text));
  tu_sh (&r,
         "python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); "
         "assert c[\"process\"][\"terminal\"] is True; assert c[\"root\"][\"readonly\"] is True; "
         "assert c[\"process\"][\"noNewPrivileges\"] is True; "
         "assert c[\"linux\"][\"resources\"][\"devices\"][0][\"allow\"] is False; "
         "assert c[\"process\"][\"args\"][2] == \"echo \\\"quoted\\\" \\u00e9\"; "
         "assert c[\"annotations\"][\"k\"] == \"v\\n\"; print(\"ok\")' '%s'",
         path);
  cr_assert_eq (r.status, 0, "python3: %s%s", r.out, r.err);
  cr_assert_str_eq (r.out, "ok\n");
  tu_result_free (&r);
}

/* Build BASE/bundle with a busybox rootfs (alice, staff) and run it with RUNTIME: the
   config must be accepted by a real runtime and mean what it says.  */
static void
run_in_runtime (const char *runtime, const char *command)
{
  static const char script[]
      = "/bin/busybox id; /bin/busybox pwd; /bin/busybox grep Seccomp: /proc/self/status; "
        "/bin/busybox grep ' /data ' /proc/mounts; /bin/busybox grep '^CapEff' /proc/self/status; "
        "/bin/busybox unshare -U /bin/busybox true && echo unshare-allowed || echo unshare-denied; "
        "/bin/busybox grep -E ' /proc/(acpi|kcore|keys|timer_list|sys) | /sys/firmware ' /proc/mounts";
  cleanup_image struct ocip_image_config *c
      = image ("", "{\"Cmd\":[\"/bin/busybox\",\"id\"],\"User\":\"alice\",\"WorkingDir\":\"/home/alice\","
                   "\"Volumes\":{\"/data\":{}},\"Env\":[\"PATH=/bin\"]}");
  struct ocip_spec_options o = { .args = V ("/bin/busybox", "sh", "-c", (char *) script) };
  cleanup_free char *bundle = path_in ("bundle");
  cleanup_free char *state = path_in ("state");
  cleanup_free char *text = NULL;
  cleanup_free char *busybox = NULL;
  cleanup_free char *config = NULL;
  cleanup_doc struct ocip_json *doc = NULL;
  size_t len = 0;
  struct tu_result r;
  static const char *const masked[]
      = { "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware" };
  static const char *const dirs[] = { "bin", "etc", "home/alice", "proc", "sys", "dev", "tmp", "data", NULL };
  int bundle_rootfd;
  size_t i;

  if (geteuid () != 0 || ! tu_have (runtime) || access ("/bin/busybox", X_OK) != 0)
    {
      cr_assert (! tu_in_ci (), "CI must run %s as root with busybox-static", runtime);
      cr_skip_test ("needs root, %s and /bin/busybox (busybox-static)", runtime);
    }

  for (i = 0; dirs[i]; i++)
    {
      cleanup_free char *d = xasprintf ("%s/rootfs/%s", bundle, dirs[i]);
      fx_mkdir_p (d);
    }
  {
    cleanup_free char *home = xasprintf ("%s/rootfs/home/alice", bundle);
    cr_assert_eq (chown (home, 1000, 1000), 0);
  }
  busybox = fx_read_file ("/bin/busybox", &len);
  {
    cleanup_free char *dst = xasprintf ("%s/rootfs/bin/busybox", bundle);
    fx_write_file (dst, busybox, len);
    cr_assert_eq (chmod (dst, 0755), 0);
  }
  {
    cleanup_free char *pw = xasprintf ("%s/rootfs/etc/passwd", bundle);
    cleanup_free char *gr = xasprintf ("%s/rootfs/etc/group", bundle);
    static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    static const char group[] = "root:x:0:\nstaff:x:50:alice\nalice:x:1000:\n";
    fx_write_file (pw, passwd, strlen (passwd));
    fx_write_file (gr, group, strlen (group));
  }
  {
    cleanup_free char *rootfs = xasprintf ("%s/rootfs", bundle);
    bundle_rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq (bundle_rootfd, 0);
  }
  doc = generate_at (bundle_rootfd, c, &o, &text);
  close (bundle_rootfd);
  config = xasprintf ("%s/config.json", bundle);
  fx_write_file (config, text, strlen (text));

  tu_sh (&r, "%s --root '%s' run --bundle '%s' ocip-spec-test-%d", command, state, bundle, (int) getpid ());
  cr_assert_eq (r.status, 0, "%s run failed (%d): %s%s", runtime, r.status, r.out, r.err);
  /* The kernel sorts the supplementary groups.  */
  cr_assert (strstr (r.out, "uid=1000(alice) gid=1000(alice) groups=50(staff),1000(alice)\n") != NULL,
             "id says: %s", r.out);
  cr_assert (strstr (r.out, "\n/home/alice\n") != NULL, "cwd: %s", r.out);
  cr_assert (strstr (r.out, "Seccomp:\t2") != NULL, "no seccomp filter: %s", r.out);
  cr_assert (strstr (r.out, "tmpfs /data tmpfs rw,nosuid,nodev") != NULL, "no /data tmpfs: %s", r.out);
  /* A non-root user keeps no effective capabilities.  */
  cr_assert (strstr (r.out, "CapEff:\t0000000000000000") != NULL, "capabilities: %s", r.out);
  /* Unprivileged user namespaces are open on the host, but unshare is not allowed.  */
  cr_assert (strstr (r.out, "unshare-denied") != NULL, "unshare: %s", r.out);
  /* maskedPaths and readonlyPaths were applied.  */
  for (i = 0; i < sizeof masked / sizeof masked[0]; i++)
    if (access (masked[i], F_OK) == 0)
      {
        cleanup_free char *mounted = xasprintf (" %s ", masked[i]);
        cr_assert (strstr (r.out, mounted) != NULL, "%s not masked: %s", masked[i], r.out);
      }
  cr_assert (strstr (r.out, " /proc/sys proc ro,") != NULL, "/proc/sys not read-only: %s", r.out);
  tu_result_free (&r);
}

Test (spec, runc_runs_the_config, .timeout = 120)
{
  run_in_runtime ("runc", "runc");
}

Test (spec, crun_runs_the_config, .timeout = 120)
{
  cleanup_free char *controllers = NULL;
  cleanup_free char *wrapper = path_in ("crun-legacy");
  cleanup_free char *command = NULL;
  static const char script[] = "#!/bin/sh\numount /sys/fs/cgroup/unified || exit 1\nexec crun \"$@\"\n";

  /* crun 1.8 refuses a hybrid cgroup host whose cgroup2 hierarchy has controllers
     ("drop all controllers from cgroupv2"), whatever the config says.  Such a host is
     shown to crun as plain cgroup v1, in a private mount namespace of its own.  */
  if (access ("/sys/fs/cgroup/unified/cgroup.controllers", R_OK) == 0)
    controllers = fx_read_file ("/sys/fs/cgroup/unified/cgroup.controllers", NULL);
  if (controllers && strspn (controllers, " \n") != strlen (controllers))
    {
      fx_write_file (wrapper, script, strlen (script));
      cr_assert_eq (chmod (wrapper, 0755), 0);
      command = xasprintf ("unshare -m '%s'", wrapper);
    }
  run_in_runtime ("crun", command ? command : "crun");
}

/* Today's config.json, byte for byte, for a few configs: the expectations are the files
   tests/golden/spec-*.json, written by the single-pass generator this module had before
   it built a model, with what depends on the host as placeholders: @NOFILE@ (the
   RLIMIT_NOFILE value), @ARCHITECTURES@ and @SYSCALLS@ (the default seccomp profile's
   lists, one string a line at the indentation the placeholder stands at).  */
static char *
expand_golden (const char *tmpl)
{
  static const char *const placeholders[] = { "@NOFILE@", "@ARCHITECTURES@", "@SYSCALLS@", "@NOFILE_USERNS@" };
  cleanup_seccomp_profile struct ocip_seccomp_profile profile = { 0 };
  ocip_error_t err = NULL;
  const char *p = tmpl, *line = tmpl;
  char *out = NULL;
  size_t len = 0, i, k;
  FILE *f = open_memstream (&out, &len);

  cr_assert_not_null (f);
  cr_assert_eq (ocip_seccomp_default (&profile, &err), 0, "%s", err ? err->msg : "");
  while (*p)
    {
      char *const *list;
      int indent = (int) (p - line);

      for (k = 0; k < 4 && strncmp (p, placeholders[k], strlen (placeholders[k])) != 0; k++)
        ;
      if (k == 4)
        {
          if (*p == '\n')
            line = p + 1;
          fputc (*p++, f);
          continue;
        }
      p += strlen (placeholders[k]);
      if (k == 0 || k == 3)
        {
          fprintf (f, "%lld", (long long) (k == 0 ? expected_nofile () : expected_nofile_userns ()));
          continue;
        }
      list = k == 1 ? profile.architectures : profile.syscalls;
      for (i = 0; list[i]; i++)
        fprintf (f, "%s%*s\"%s\"%s", i ? "\n" : "", i ? indent : 0, "", list[i], list[i + 1] ? "," : "");
    }
  cr_assert_eq (fclose (f), 0);
  return out;
}

static void
assert_golden (int fd, const struct ocip_image_config *c, const struct ocip_spec_options *o, const char *name,
               char *const *want_dropped)
{
  cleanup_free char *src = tu_source_dir ();
  cleanup_free char *file = xasprintf ("%s/tests/golden/%s", src, name);
  cleanup_free char *tmpl = fx_read_file (file, NULL);
  cleanup_free char *want = expand_golden (tmpl);
  cleanup_free char *json = NULL;
  cleanup_strv char **dropped = NULL;
  ocip_error_t err = NULL;
  const char *line;
  int lineno = 1;
  size_t i;

  cr_assert_eq (ocip_spec_generate (c, fd, o, &json, &dropped, &err), 0, "%s", err ? err->msg : "");
  line = json;
  for (i = 0; json[i] && json[i] == want[i]; i++)
    if (json[i] == '\n')
      line = json + i + 1, lineno++;
  cr_assert (json[i] == want[i], "%s, line %d: got '%.*s', expected '%.*s'", file, lineno,
             (int) strcspn (line, "\n"), line, (int) strcspn (want + (line - json), "\n"), want + (line - json));
  for (i = 0; want_dropped[i]; i++)
    cr_assert_str_eq (dropped[i], want_dropped[i]);
  cr_assert_null (dropped[i]);
}

Test (spec, output_of_the_defaults_is_unchanged)
{
  cleanup_image struct ocip_image_config *c = simple_image ();

  assert_golden (rootfd, c, NULL, "spec-defaults.json", V (NULL));
}

Test (spec, output_of_every_conversion_rule_is_unchanged)
{
  cleanup_image struct ocip_image_config *c
      = image ("\"variant\":\"v2\",\"os.version\":\"10.0.1\",\"os.features\":[\"b\",\"a\"],\"author\":\"Ann\","
               "\"created\":\"2024-01-02T03:04:05Z\",",
               "{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo \\\"hi\\\" \\u00e9\\t\"],"
               "\"Env\":[\"FOO=bar\",\"FOO=dup\",\"PATH=/bin\",\"EMPTY=\"],\"User\":\"alice\","
               "\"WorkingDir\":\"/link/../data\",\"StopSignal\":\"SIGTERM\","
               "\"Volumes\":{\"/var/log/\":{},\"/data\":{},\"/var//log\":{},\"/a/./b\":{}},"
               "\"ExposedPorts\":{\"8080/tcp\":{},\"443/tcp\":{}},"
               "\"Labels\":{\"org.opencontainers.image.author\":\"Label Author\",\"run.oci.hooks.stdout\":\"/x\","
               "\"team\":\"x\",\"bundle\":\"/b\",\"k\":\"v\\n\"}}");
  struct ocip_spec_options o = { .tty = true,
                                 .read_only = true,
                                 .hostname = "box",
                                 .root_path = "/abs/rootfs",
                                 .env = V ("FOO=baz", "NEW=1"),
                                 .annotations = V ("team=y", "run.oci.keep_original_groups=1"),
                                 .cap_add = V ("net_admin"),
                                 .cap_drop = V ("chown", "kill"),
                                 .seccomp = "unconfined" };

  assert_golden (rootfd, c, &o, "spec-full.json", V ("run.oci.hooks.stdout", "bundle"));
}

/* spec-idmap.json: the defaults with a user namespace whose mapping leaves out gid 5.  */
Test (spec, output_with_an_id_mapping)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  char *uid[] = { (char *) "0:100000:5", (char *) "6:100006:65530", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  struct ocip_spec_options o = { .idmap = &m };
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_idmap_from_strings (uid, NULL, &m, &err), 0);
  assert_golden (rootfd, c, &o, "spec-idmap.json", V (NULL));
  ocip_idmap_clear (&m);
}

Test (spec, output_with_a_seccomp_file_is_unchanged)
{
  cleanup_image struct ocip_image_config *c = image ("", "{\"Cmd\":[\"x\"],\"User\":\"1000:7\"}");
  cleanup_free char *path = path_in ("profile.json");
  struct ocip_spec_options o = { .seccomp = path, .args = V ("/bin/true", "y"), .user = "5:6", .cwd = "/opt/x/" };

  write_rel ("profile.json", "{\"defaultAction\":\"SCMP_ACT_LOG\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                             "\"listenerMetadata\":null,\"syscalls\":[{\"names\":[\"personality\"],"
                             "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":4294967295,"
                             "\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"mount\"],"
                             "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}],\"x\":{\"n\":[[],{},true,1.5e3]}}");
  assert_golden (-1, c, &o, "spec-seccomp-file.json", V (NULL));
}

/* ---- the config model ---- */

static struct ocip_spec *
build_at (int fd, const struct ocip_image_config *c, const struct ocip_spec_options *o)
{
  struct ocip_spec *spec = NULL;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_spec_build (c, fd, o, &spec, &err), 0, "build: %s", err ? err->msg : "");
  cr_assert_null (err);
  cr_assert_not_null (spec);
  return spec;
}

/* The NULL-terminated V must be exactly WANT.  */
static void
assert_model_strv (char *const *v, char *const *want)
{
  size_t i;

  cr_assert_not_null (v);
  for (i = 0; want[i]; i++)
    {
      cr_assert_not_null (v[i], "vector too short: no '%s'", want[i]);
      cr_assert_str_eq (v[i], want[i]);
    }
  cr_assert_null (v[i], "vector longer than expected: '%s'", v[i]);
}

Test (spec, build_decides_process_root_and_mounts)
{
  cleanup_image struct ocip_image_config *c
      = image ("", "{\"Entrypoint\":[\"/bin/sh\"],\"Cmd\":[\"-c\",\"id\"],\"Env\":[\"A=1\",\"A=2\"],\"User\":\"alice\","
                   "\"WorkingDir\":\"/w/./x\",\"Volumes\":{\"/v/\":{},\"/a\":{}}}");
  struct ocip_spec_options o = { .tty = true, .read_only = true, .hostname = "h", .root_path = "r",
                                 .cap_drop = V ("ALL"), .env = V ("A=3") };
  cleanup_spec struct ocip_spec *spec = build_at (rootfd, c, &o);
  const struct ocip_spec_process *p = &spec->process;

  cr_assert_str_eq (spec->oci_version, OCIP_SPEC_OCI_VERSION_1_1); /* the default seccomp profile */
  cr_assert (p->terminal);
  assert_model_strv (p->args, V ("/bin/sh", "-c", "id"));
  /* The caller's A replaces the first and drops the image's duplicate.  */
  assert_model_strv (p->env, V ("A=3", OCIP_SPEC_DEFAULT_PATH, "HOME=/home/alice", "TERM=xterm"));
  cr_assert_str_eq (p->cwd, "/w/./x");
  cr_assert_eq (p->user.uid, 1000);
  cr_assert_eq (p->user.gid, 1000);
  cr_assert_eq (p->user.n_additional_gids, 2);
  cr_assert_eq (p->user.additional_gids[0], 1000);
  cr_assert_eq (p->user.additional_gids[1], 50);
  /* Dropping every capability is an empty set, written as [], not an absent one.  */
  assert_model_strv (p->bounding, V (NULL));
  assert_model_strv (p->effective, V (NULL));
  assert_model_strv (p->permitted, V (NULL));
  cr_assert_eq (p->n_rlimits, 1);
  cr_assert_str_eq (p->rlimits[0].type, "RLIMIT_NOFILE");
  cr_assert_eq (p->rlimits[0].hard, expected_nofile ());
  cr_assert_eq (p->rlimits[0].soft, expected_nofile ());
  cr_assert (p->no_new_privileges);
  cr_assert_str_eq (spec->root_path, "r");
  cr_assert (spec->root_readonly);
  cr_assert_str_eq (spec->hostname, "h");
  cr_assert_eq (spec->n_mounts, 9);
  cr_assert_str_eq (spec->mounts[0].destination, "/proc");
  cr_assert_str_eq (spec->mounts[7].destination, "/a");
  cr_assert_str_eq (spec->mounts[8].destination, "/v");
  cr_assert_str_eq (spec->mounts[8].type, "tmpfs");
  assert_model_strv (spec->mounts[8].options, V ("nosuid", "nodev", "mode=755"));
}

Test (spec, build_decides_annotations_and_names_the_dropped_labels)
{
  cleanup_image struct ocip_image_config *c
      = image ("", "{\"Cmd\":[\"x\"],\"Labels\":{\"b\":\"1\",\"run.oci.hooks.stdout\":\"/x\","
                   "\"org.opencontainers.image.os\":\"plan9\",\"a\":\"2\",\"bundle\":\"/b\"}}");
  struct ocip_spec_options o = { .annotations = V ("b=3", "c=4") };
  cleanup_spec struct ocip_spec *spec = build_at (-1, c, &o);
  static const char *const keys[]
      = { "org.opencontainers.image.os", "org.opencontainers.image.architecture", "b", "a", "c" };
  static const char *const values[] = { "plan9", "amd64", "3", "2", "4" };
  size_t i;

  /* In order, each key once: a later value replaces an earlier one in place.  */
  cr_assert_eq (spec->annotations.n, 5);
  for (i = 0; i < 5; i++)
    {
      cr_assert_str_eq (spec->annotations.keys[i], keys[i]);
      cr_assert_str_eq (spec->annotations.values[i], values[i]);
    }
  assert_model_strv (spec->dropped_labels, V ("run.oci.hooks.stdout", "bundle"));
}

Test (spec, build_decides_linux_and_seccomp)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  cleanup_free char *path = path_in ("profile.json");
  struct ocip_spec_options unconfined = { .seccomp = "unconfined" }, file = { .seccomp = path };
  cleanup_spec struct ocip_spec *def = build_at (rootfd, c, NULL);
  cleanup_spec struct ocip_spec *none = build_at (rootfd, c, &unconfined);
  cleanup_spec struct ocip_spec *doc = NULL;

  cr_assert_eq (def->n_devices, 1);
  cr_assert_not (def->devices[0].allow);
  cr_assert_str_eq (def->devices[0].access, "rwm");
  assert_model_strv (def->namespaces, V ("pid", "network", "ipc", "uts", "mount", "cgroup"));
  cr_assert_str_eq (def->masked_paths[0], "/proc/acpi");
  cr_assert_str_eq (def->readonly_paths[0], "/proc/asound");
  assert_model_strv (def->dropped_labels, V (NULL));
  cr_assert_eq (def->seccomp.kind, OCIP_SPEC_SECCOMP_ALLOW_LIST);
  cr_assert_str_eq (def->seccomp.default_action, "SCMP_ACT_ERRNO");
  cr_assert_eq (def->seccomp.default_errno_ret, 1);
  cr_assert_not_null (def->seccomp.architectures[0]);
  cr_assert_not_null (def->seccomp.syscalls[0]);
  cr_assert_null (def->seccomp.document);

  cr_assert_eq (none->seccomp.kind, OCIP_SPEC_SECCOMP_NONE);
  cr_assert_null (none->seccomp.syscalls);

  write_rel ("profile.json", "{\"defaultAction\":\"SCMP_ACT_LOG\"}");
  doc = build_at (rootfd, c, &file);
  cr_assert_eq (doc->seccomp.kind, OCIP_SPEC_SECCOMP_DOCUMENT);
  cr_assert_str_eq (str (get (ocip_json_root (doc->seccomp.document), "defaultAction", NULL)), "SCMP_ACT_LOG");
}

/* A failure, before or after the model is allocated, leaves *RET as it was.  */
Test (spec, build_failure_writes_no_model)
{
  cleanup_image struct ocip_image_config *c = simple_image ();
  struct ocip_spec_options bad_cap = { .cap_add = V ("cap_bogus") }, missing = { .seccomp = "/nonexistent/p.json" };
  struct ocip_spec *spec = (struct ocip_spec *) &spec;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_spec_build (c, rootfd, &bad_cap, &spec, &err), -EINVAL);
  cr_assert_eq (spec, (struct ocip_spec *) &spec);
  ocip_error_release (&err);
  cr_assert_eq (ocip_spec_build (c, rootfd, &missing, &spec, &err), -ENOENT);
  cr_assert_eq (spec, (struct ocip_spec *) &spec);
  ocip_error_release (&err);
}

/* A model put together by hand is written member by member in the model's order; a NULL
   vector or string and a zero count are left out, an empty vector is [].  */
Test (spec, a_hand_built_model_is_written_as_it_is)
{
  uint32_t gids[] = { 7, 8 };
  struct ocip_spec_rlimit rlimit = { .type = (char *) "RLIMIT_CORE", .hard = 2, .soft = 1 };
  struct ocip_spec_mount mount
      = { .destination = (char *) "/m", .type = (char *) "tmpfs", .source = (char *) "tmpfs", .options = V (NULL) };
  struct ocip_spec spec = {
    .oci_version = (char *) "9.9",
    .process = { .terminal = true,
                 .user = { .uid = 5, .gid = 6, .additional_gids = gids, .n_additional_gids = 2 },
                 .args = V ("/bin/x", "\"q\"\t\xc3\xa9"),
                 .env = V ("K=V"),
                 .bounding = V ("CAP_KILL"),
                 .effective = V (NULL),
                 .rlimits = &rlimit,
                 .n_rlimits = 1 },
    .root_path = (char *) "/r",
    .mounts = &mount,
    .n_mounts = 1,
    .annotations = { .keys = V ("k"), .values = V ("v"), .n = 1 },
    .readonly_paths = V ("/ro"),
    .dropped_labels = V ("not.written"),
  };
  static const char want[] = "{\n"
                             "  \"ociVersion\": \"9.9\",\n"
                             "  \"process\": {\n"
                             "    \"terminal\": true,\n"
                             "    \"user\": {\n"
                             "      \"uid\": 5,\n"
                             "      \"gid\": 6,\n"
                             "      \"additionalGids\": [\n"
                             "        7,\n"
                             "        8\n"
                             "      ]\n"
                             "    },\n"
                             "    \"args\": [\n"
                             "      \"/bin/x\",\n"
                             "      \"\\\"q\\\"\\t\xc3\xa9\"\n"
                             "    ],\n"
                             "    \"env\": [\n"
                             "      \"K=V\"\n"
                             "    ],\n"
                             "    \"capabilities\": {\n"
                             "      \"bounding\": [\n"
                             "        \"CAP_KILL\"\n"
                             "      ],\n"
                             "      \"effective\": [\n"
                             "\n"
                             "      ]\n"
                             "    },\n"
                             "    \"rlimits\": [\n"
                             "      {\n"
                             "        \"type\": \"RLIMIT_CORE\",\n"
                             "        \"hard\": 2,\n"
                             "        \"soft\": 1\n"
                             "      }\n"
                             "    ],\n"
                             "    \"noNewPrivileges\": false\n"
                             "  },\n"
                             "  \"root\": {\n"
                             "    \"path\": \"/r\",\n"
                             "    \"readonly\": false\n"
                             "  },\n"
                             "  \"mounts\": [\n"
                             "    {\n"
                             "      \"destination\": \"/m\",\n"
                             "      \"type\": \"tmpfs\",\n"
                             "      \"source\": \"tmpfs\",\n"
                             "      \"options\": [\n"
                             "\n"
                             "      ]\n"
                             "    }\n"
                             "  ],\n"
                             "  \"annotations\": {\n"
                             "    \"k\": \"v\"\n"
                             "  },\n"
                             "  \"linux\": {\n"
                             "    \"readonlyPaths\": [\n"
                             "      \"/ro\"\n"
                             "    ]\n"
                             "  }\n"
                             "}\n";
  cleanup_free char *json = NULL;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_spec_to_json (&spec, &json, &err), 0, "%s", err ? err->msg : "");
  cr_assert_str_eq (json, want);
}

/* What is written reads back as the model that was built.  */
Test (spec, a_built_model_reads_back_from_its_json)
{
  cleanup_image struct ocip_image_config *c
      = image ("\"author\":\"A\",", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo \\u00e9\"],\"User\":\"alice\","
                                    "\"Volumes\":{\"/data\":{}},\"Labels\":{\"k\":\"v\\n\",\"run.oci.x\":\"1\"}}");
  cleanup_spec struct ocip_spec *spec = build_at (rootfd, c, NULL);
  cleanup_free char *json = NULL;
  cleanup_doc struct ocip_json *doc = NULL;
  const struct ocip_json_node *root, *a, *mounts, *gids;
  ocip_error_t err = NULL;
  size_t i;

  cr_assert_eq (ocip_spec_to_json (spec, &json, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (ocip_json_parse (json, strlen (json), OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, &err), 0);
  root = ROOT (doc);
  cr_assert_str_eq (str (get (root, "ociVersion", NULL)), spec->oci_version);
  assert_strv (get (root, "process", "args", NULL), spec->process.args);
  assert_strv (get (root, "process", "env", NULL), spec->process.env);
  cr_assert_str_eq (str (get (root, "process", "cwd", NULL)), spec->process.cwd);
  cr_assert_eq (num (get (root, "process", "user", "uid", NULL)), spec->process.user.uid);
  cr_assert_eq (num (get (root, "process", "user", "gid", NULL)), spec->process.user.gid);
  gids = get (root, "process", "user", "additionalGids", NULL);
  cr_assert_eq (ocip_json_array_len (gids), spec->process.user.n_additional_gids);
  for (i = 0; i < spec->process.user.n_additional_gids; i++)
    cr_assert_eq (num (ocip_json_array_at (gids, i)), spec->process.user.additional_gids[i]);
  assert_strv (get (root, "process", "capabilities", "bounding", NULL), spec->process.bounding);
  assert_strv (get (root, "process", "capabilities", "permitted", NULL), spec->process.permitted);
  cr_assert_str_eq (str (get (root, "root", "path", NULL)), spec->root_path);
  cr_assert_str_eq (str (get (root, "hostname", NULL)), spec->hostname);
  mounts = get (root, "mounts", NULL);
  cr_assert_eq (ocip_json_array_len (mounts), spec->n_mounts);
  for (i = 0; i < spec->n_mounts; i++)
    {
      cr_assert_str_eq (str (get (ocip_json_array_at (mounts, i), "destination", NULL)), spec->mounts[i].destination);
      assert_strv (get (ocip_json_array_at (mounts, i), "options", NULL), spec->mounts[i].options);
    }
  a = get (root, "annotations", NULL);
  cr_assert_eq (ocip_json_object_len (a), spec->annotations.n);
  for (i = 0; i < spec->annotations.n; i++)
    {
      cr_assert_str_eq (ocip_json_object_key_at (a, i), spec->annotations.keys[i]);
      cr_assert_str_eq (str (ocip_json_object_value_at (a, i)), spec->annotations.values[i]);
    }
  cr_assert_null (get (a, "run.oci.x", NULL));
  assert_strv (get (root, "linux", "seccomp", "architectures", NULL), spec->seccomp.architectures);
  assert_strv (get (ocip_json_array_at (get (root, "linux", "seccomp", "syscalls", NULL), 0), "names", NULL),
               spec->seccomp.syscalls);
  assert_strv (get (root, "linux", "maskedPaths", NULL), spec->masked_paths);
}

/* ociVersion is the lowest version defining every field written: 1.0.2 without
   seccomp or with a profile of 1.0.2 fields, 1.1.0 with defaultErrnoRet (the default
   profile) or another field 1.1.0 added.  */
Test (spec, oci_version_matches_the_fields_used)
{
  static const struct
  {
    const char *profile, *version;
  } cases[] = {
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}", "1.0.2" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"listenerMetadata\":null}", "1.0.2" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38}", "1.1.0" },
    { "{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\"}", "1.1.0" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}", "1.1.0" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}", "1.1.0" },
  };
  cleanup_image struct ocip_image_config *c = simple_image ();
  cleanup_free char *path = path_in ("profile.json");
  size_t i;

  {
    struct ocip_spec_options o = { .seccomp = "unconfined" };
    cleanup_doc struct ocip_json *doc = generate (c, &o);
    cr_assert_str_eq (str (get (ROOT (doc), "ociVersion", NULL)), "1.0.2");
  }
  {
    struct ocip_spec_options o = { 0 };
    cleanup_doc struct ocip_json *doc = generate (c, &o);
    cr_assert_str_eq (str (get (ROOT (doc), "ociVersion", NULL)), "1.1.0");
    cr_assert_not_null (get (ROOT (doc), "linux", "seccomp", "defaultErrnoRet", NULL));
  }
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct ocip_spec_options o = { .seccomp = path };
      write_rel ("profile.json", cases[i].profile);
      {
        cleanup_doc struct ocip_json *doc = generate (c, &o);
        cr_assert_str_eq (str (get (ROOT (doc), "ociVersion", NULL)), cases[i].version, "%s", cases[i].profile);
      }
    }
}
