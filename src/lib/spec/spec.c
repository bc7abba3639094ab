/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.json from an image config and caller options: decide a model, then write it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "spec/caps.h"
#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>
#include "base/fsroot.h"
#include "base/idmap.h"
#include "base/json.h"
#include "base/strv.h"
#include "spec/seccomp.h"
#include "spec/spec_internal.h"
#include <oci-prep/spec.h>
#include "spec/user.h"

#define ANNOTATION(name) "org.opencontainers.image." name

/* The kernel's limit (HOST_NAME_MAX): sethostname() refuses longer names.  */
#define HOSTNAME_MAX 64

/* The mounts every container gets, as podman and runc's "spec" write them.  /sys/fs/cgroup
   is read-only: the container must not reconfigure the host's cgroups.  */
static const struct
{
  const char *destination, *type, *source;
  const char *options[8];
} default_mounts[] = {
  { "/proc", "proc", "proc", { "nosuid", "noexec", "nodev", NULL } },
  { "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
  { "/dev/pts",
    "devpts",
    "devpts",
    { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
  { "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
  { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
  { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
  { "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

/* Kernel interfaces that leak host information or let a process poke the host (runc's
   and podman's defaults): hidden, or mounted read-only.  */
static const char *const masked_paths[] = {
  "/proc/acpi",        "/proc/kcore",       "/proc/keys",         "/proc/latency_stats",
  "/proc/timer_list",  "/proc/timer_stats", "/proc/sched_debug",  "/proc/scsi",
  "/sys/firmware",     "/sys/devices/virtual/powercap",           NULL,
};

static const char *const readonly_paths[] = {
  "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char *const namespaces[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };

/* A volume becomes an empty tmpfs: the image may ask for a place to write, never for a
   piece of the host.  */
static const char *const volume_options[] = { "nosuid", "nodev", "mode=755", NULL };

/* Where a volume may not go: the runtime's own mounts of kernel interfaces.  */
static const char *const reserved_paths[] = { "/proc", "/sys", "/dev", NULL };

#define RLIMIT_NOFILE_DEFAULT 1048576

/* RLIMIT_NOFILE as podman sets it, lowered to what a runtime started from here can set:
   no limit may exceed fs.nr_open, and raising a hard limit takes CAP_SYS_RESOURCE (which
   podman's rootless mode and a confined root lack).  A higher value makes the runtime
   fail at start with EPERM.  */
static int64_t
nofile_limit (bool userns)
{
  cleanup_file FILE *f = fopen ("/proc/sys/fs/nr_open", "re");
  unsigned long long nr_open;
  int64_t limit = RLIMIT_NOFILE_DEFAULT;
  struct rlimit rl;

  if (f && fscanf (f, "%llu", &nr_open) == 1 && nr_open < (unsigned long long) limit)
    limit = (int64_t) nr_open;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t) limit
      && (userns || ! ocip_caps_process_has ("CAP_SYS_RESOURCE")))
    limit = (int64_t) rl.rlim_max;
  return limit;
}

/* A growable NULL-terminated string vector.  */
struct strv
{
  char **v;
  size_t n;
};

static void
strv_clear (struct strv *s)
{
  ocip_strv_free (s->v);
  s->v = NULL;
  s->n = 0;
}

#define cleanup_strv_buf __attribute__ ((cleanup (strv_clear)))

static void
strv_push (struct strv *s, char *owned)
{
  s->v = xreallocarray (s->v, s->n + 2, sizeof (char *));
  s->v[s->n++] = owned;
  s->v[s->n] = NULL;
}

static void
strv_remove (struct strv *s, size_t i)
{
  free (s->v[i]);
  memmove (&s->v[i], &s->v[i + 1], (s->n - i) * sizeof (char *));
  s->n--;
}

/* Ordered key/value pairs with unique keys: setting a key again replaces its value in
   place.  An image sets one per label, hundreds of thousands within the config's size
   limit, so keys are found through an open-addressing index (SLOTS hold a pair's
   position + 1, 0 for a free slot), never by a scan per insert.  */
struct kv
{
  char **keys, **values;
  size_t n;
  size_t *slots;
  size_t cap; /* a power of two, at least twice N; 0 before the first key */
};

static void
kv_clear (struct kv *kv)
{
  size_t i;

  for (i = 0; i < kv->n; i++)
    {
      free (kv->keys[i]);
      free (kv->values[i]);
    }
  free (kv->keys);
  free (kv->values);
  free (kv->slots);
  memset (kv, 0, sizeof *kv);
}

#define cleanup_kv __attribute__ ((cleanup (kv_clear)))

static size_t
kv_hash (const char *key, size_t key_len)
{
  size_t h = 1469598103934665603ull;

  while (key_len--)
    h = (h ^ (unsigned char) *key++) * 1099511628211ull;
  return h;
}

/* The slot of KEY: the one holding it, or the free slot where it would go.  */
static size_t *
kv_slot (const struct kv *kv, const char *key, size_t key_len)
{
  size_t i = kv_hash (key, key_len) & (kv->cap - 1);

  for (;; i = (i + 1) & (kv->cap - 1))
    {
      size_t *slot = &kv->slots[i];
      const char *k;

      if (*slot == 0)
        return slot;
      k = kv->keys[*slot - 1];
      if (strncmp (k, key, key_len) == 0 && k[key_len] == '\0')
        return slot;
    }
}

static void
kv_grow (struct kv *kv)
{
  size_t i;

  free (kv->slots);
  kv->cap = kv->cap ? kv->cap * 2 : 32;
  kv->slots = xcalloc (kv->cap, sizeof *kv->slots);
  /* Room for the CAP / 2 keys the table may hold before it grows again.  */
  kv->keys = xreallocarray (kv->keys, kv->cap / 2, sizeof (char *));
  kv->values = xreallocarray (kv->values, kv->cap / 2, sizeof (char *));
  for (i = 0; i < kv->n; i++)
    *kv_slot (kv, kv->keys[i], strlen (kv->keys[i])) = i + 1;
}

static void
kv_set (struct kv *kv, const char *key, size_t key_len, const char *value)
{
  size_t *slot;

  if (value == NULL)
    return;
  if (2 * (kv->n + 1) > kv->cap)
    kv_grow (kv);
  slot = kv_slot (kv, key, key_len);
  if (*slot)
    {
      free (kv->values[*slot - 1]);
      kv->values[*slot - 1] = xstrdup (value);
      return;
    }
  kv->keys[kv->n] = xstrndup (key, key_len);
  kv->values[kv->n] = xstrdup (value);
  kv->n++;
  *slot = kv->n;
}

/* V joined with ",", NULL for an empty or absent vector; SORTED: in strcmp order.  */
static char *
join (char *const *v, bool sorted)
{
  cleanup_free char **copy = NULL;
  size_t i, n = 0, len = 0;
  char *ret, *p;

  for (; v && v[n]; n++)
    len += strlen (v[n]) + 1;
  if (n == 0)
    return NULL;
  copy = xcalloc (n, sizeof (char *));
  memcpy (copy, v, n * sizeof (char *));
  if (sorted)
    qsort (copy, n, sizeof (char *), ocip_strv_compare);
  p = ret = xmalloc (len);
  for (i = 0; i < n; i++)
    {
      p = stpcpy (p, copy[i]);
      *p++ = ',';
    }
  p[-1] = '\0';
  return ret;
}

/* KEY=VALUE with a non-empty KEY; WHAT names the source in the message.  */
static int
check_assignment (const char *entry, const char *what, ocip_error_t *err)
{
  const char *eq = strchr (entry, '=');

  if (eq == NULL)
    return ocip_error_fail (err, EINVAL, "invalid %s '%s': expected KEY=VALUE", what, entry);
  if (eq == entry)
    return ocip_error_fail (err, EINVAL, "invalid %s '%s': empty key", what, entry);
  return 0;
}

/* Index of the first variable named KEY (KEY_LEN bytes) in ENV, or -1.  */
static ssize_t
env_find (const struct strv *env, const char *key, size_t key_len)
{
  size_t i;

  for (i = 0; i < env->n; i++)
    if (strncmp (env->v[i], key, key_len) == 0 && env->v[i][key_len] == '=')
      return (ssize_t) i;
  return -1;
}

/* Replace the variable of ENTRY (and drop later duplicates of it), or append it.  */
static void
env_set (struct strv *env, const char *entry)
{
  size_t key_len = strchr (entry, '=') - entry;
  ssize_t at = env_find (env, entry, key_len);
  size_t i;

  if (at < 0)
    {
      strv_push (env, xstrdup (entry));
      return;
    }
  free (env->v[at]);
  env->v[at] = xstrdup (entry);
  for (i = at + 1; i < env->n;)
    if (strncmp (env->v[i], entry, key_len + 1) == 0)
      strv_remove (env, i);
    else
      i++;
}

static void
env_default (struct strv *env, const char *key, const char *value)
{
  if (env_find (env, key, strlen (key)) < 0)
    strv_push (env, xasprintf ("%s=%s", key, value));
}

static int
build_env (const struct ocip_image_config *config, const struct ocip_spec_options *opts, const char *home,
           struct strv *env, ocip_error_t *err)
{
  char **p;
  int r;

  /* The image's entries verbatim, duplicates included: conversion.md copies Env as is.  */
  for (p = config->env; p && *p; p++)
    {
      if ((r = check_assignment (*p, "image Env entry", err)) < 0)
        return r;
      strv_push (env, xstrdup (*p));
    }
  if (env_find (env, "PATH", 4) < 0)
    strv_push (env, xstrdup (OCIP_SPEC_DEFAULT_PATH));
  env_default (env, "HOME", home);
  if (opts->tty)
    env_default (env, "TERM", "xterm");
  for (p = opts->env; p && *p; p++)
    {
      if ((r = check_assignment (*p, "environment variable", err)) < 0)
        return r;
      env_set (env, *p);
    }
  return 0;
}

static int
build_args (const struct ocip_image_config *config, const struct ocip_spec_options *opts, struct strv *args,
            ocip_error_t *err)
{
  char **p;

  if (opts->entrypoint)
    {
      for (p = opts->entrypoint; *p; p++)
        strv_push (args, xstrdup (*p));
      for (p = opts->args; p && *p; p++)
        strv_push (args, xstrdup (*p));
    }
  else if (opts->args)
    for (p = opts->args; *p; p++)
      strv_push (args, xstrdup (*p));
  else
    {
      for (p = config->entrypoint; p && *p; p++)
        strv_push (args, xstrdup (*p));
      for (p = config->cmd; p && *p; p++)
        strv_push (args, xstrdup (*p));
    }
  if (args->n == 0)
    return ocip_error_fail (err, EINVAL, "image has no command: set Entrypoint/Cmd or pass one");
  return 0;
}

int
ocip_spec_entrypoint_parse (const char *value, char ***ret, ocip_error_t *err)
{
  cleanup_json struct ocip_json *doc = NULL;
  const struct ocip_json_node *root;
  char **v;
  size_t i, n;
  int r;

  if (value[0] != '[')
    {
      v = xcalloc (2, sizeof *v);
      if (*value)
        v[0] = xstrdup (value);
      *ret = v;
      return 0;
    }
  if ((r = ocip_json_parse (value, strlen (value), OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, err)) < 0)
    return ocip_error_wrap (err, "--entrypoint '%s'", value);
  root = ocip_json_root (doc);
  if (ocip_json_type (root) != OCIP_JSON_ARRAY)
    return ocip_error_fail (err, EINVAL, "--entrypoint '%s': not a JSON array of strings", value);
  n = ocip_json_array_len (root);
  for (i = 0; i < n; i++)
    if (ocip_json_type (ocip_json_array_at (root, i)) != OCIP_JSON_STRING)
      return ocip_error_fail (err, EINVAL, "--entrypoint '%s': element %zu is not a string", value, i);
  v = xcalloc (n + 1, sizeof *v);
  for (i = 0; i < n; i++)
    v[i] = xstrdup (ocip_json_string (ocip_json_array_at (root, i)));
  *ret = v;
  return 0;
}

/* PATH made canonical ("/a/./b//" is "/a/b"); WHAT names it in messages.  A relative path
   would be resolved against whatever the runtime's cwd is; a ".." above "/" is a path
   that only makes sense as an escape attempt.  */
static int
clean_absolute (const char *path, const char *what, char **ret, ocip_error_t *err)
{
  cleanup_free char *clean = NULL;

  if (path[0] != '/')
    return ocip_error_fail (err, EINVAL, "%s '%s' is not an absolute path", what, path);
  clean = ocip_fsroot_clean_path (path);
  if (clean == NULL)
    return ocip_error_fail (err, EINVAL, "%s '%s' climbs above '/'", what, path);
  *ret = xasprintf ("/%s", clean);
  return 0;
}

/* conversion.md copies WorkingDir verbatim: "/link/../data" must stay as it is, for the
   runtime resolves ".." after "link" inside the container.  It must still be absolute
   and may not climb above "/" even lexically.  Empty means "/".  */
static int
working_dir (const char *path, char **ret, ocip_error_t *err)
{
  cleanup_free char *checked = NULL;
  int r;

  if (path == NULL || *path == '\0')
    {
      *ret = xstrdup ("/");
      return 0;
    }
  if ((r = clean_absolute (path, "working directory", &checked, err)) < 0)
    return r;
  *ret = xstrdup (path);
  return 0;
}

static bool
has_dotdot (const char *path)
{
  const char *p = path;

  while ((p = strstr (p, "..")) != NULL)
    {
      if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
        return true;
      p += 2;
    }
  return false;
}

/* The image's Volumes as clean absolute paths, sorted so that a parent is mounted
   before what lies under it, without duplicates.  */
static int
build_volumes (const struct ocip_image_config *config, struct strv *ret, ocip_error_t *err)
{
  size_t i, j;
  char **p;
  int r;

  for (p = config->volumes; p && *p; p++)
    {
      char *clean = NULL;
      if (has_dotdot (*p))
        return ocip_error_fail (err, EINVAL, "volume '%s' has a '..' component", *p);
      if ((r = clean_absolute (*p, "volume", &clean, err)) < 0)
        return r;
      strv_push (ret, clean);
      if (strcmp (clean, "/") == 0)
        return ocip_error_fail (err, EINVAL, "volume '%s' would hide the whole rootfs", *p);
      for (j = 0; reserved_paths[j]; j++)
        {
          size_t len = strlen (reserved_paths[j]);
          if (strncmp (clean, reserved_paths[j], len) == 0 && (clean[len] == '\0' || clean[len] == '/'))
            return ocip_error_fail (err, EINVAL, "volume '%s' is in '%s', which the runtime mounts", *p,
                                   reserved_paths[j]);
        }
    }
  if (ret->n == 0)
    return 0;
  qsort (ret->v, ret->n, sizeof (char *), ocip_strv_compare);
  for (i = 1; i < ret->n;)
    if (strcmp (ret->v[i - 1], ret->v[i]) == 0)
      strv_remove (ret, i);
    else
      i++;
  return 0;
}

/* Annotation keys that a runtime, an engine or a hook acts on: an image's label never
   becomes one of them (conversion.md lets a converter drop annotations it deems unsafe),
   only the caller's --annotation does.  Otherwise the image picks host paths that crun
   creates as root (run.oci.hooks.stdout), its own supplementary groups, systemd unit
   properties of its scope, a CRIU config file, or an engine's record of the container.
   Compared without case: a runtime that ever folds case must not be a way around this.
   PREFIX: the key starts with it.  DOMAIN: the key's name part before a '/' (or the
   whole key) is it or ends in "." and it, the Kubernetes style "x.crio.io/y".  EXACT:
   the whole key.  The list is published as ocip_spec_runtime_annotation().  */
enum match
{
  PREFIX,
  DOMAIN,
  EXACT,
};

static const struct
{
  const char *key;
  enum match match;
  const char *reader;
} runtime_annotations[] = {
  /* hooks.stdout/stderr, keep_original_groups, systemd.*, seccomp*, handler, ...  */
  { "run.oci.", PREFIX, "crun" },
  /* crun's wasm handler: the entrypoint is run by a wasm engine of the host.  */
  { "module.wasm.image/variant", EXACT, "crun" },
  /* unit properties of the container's scope under the systemd cgroup driver.  */
  { "org.systemd.property.", PREFIX, "runc, crun" },
  /* org.criu.config: the CRIU configuration file (a host path) for checkpoint/restore.  */
  { "org.criu.", PREFIX, "runc, crun" },
  /* runc hands this to hooks as the bundle path (its features list it as unsafe).  */
  { "bundle", EXACT, "runc" },
  /* io.kubernetes.cri-o.* (CRI-O restores its containers from them),
     io.kubernetes.cri.* (containerd's CRI; crun reads cri.container-type).  */
  { "io.kubernetes.", PREFIX, "CRI-O, containerd, crun" },
  /* cpu-load-balancing.crio.io, irq-load-balancing.crio.io, cpu-quota.crio.io...  */
  { "crio.io", DOMAIN, "CRI-O" },
  { "cri-o.io", DOMAIN, "CRI-O" },
  /* io.containers.trace-syscall: an OCI hook writing to a host path.  */
  { "io.containers.", PREFIX, "CRI-O, podman" },
  { "io.containerd.", PREFIX, "containerd" },
  /* hypervisor, kernel and agent paths and options.  */
  { "io.katacontainers.", PREFIX, "Kata Containers" },
  /* mount sharing and flag overrides.  */
  { "dev.gvisor.", PREFIX, "gVisor (runsc)" },
  /* io.oci-prep.image: the layout (a host path) the precreate hook mounts.  */
  { "io.oci-prep.", PREFIX, "oci-prep's hooks" },
};

const char *
ocip_spec_runtime_annotation (const char *key)
{
  size_t i, name_len = strcspn (key, "/"), len;

  for (i = 0; i < sizeof runtime_annotations / sizeof runtime_annotations[0]; i++)
    {
      const char *k = runtime_annotations[i].key;

      len = strlen (k);
      switch (runtime_annotations[i].match)
        {
        case PREFIX:
          if (strncasecmp (key, k, len) == 0)
            return runtime_annotations[i].reader;
          break;
        case EXACT:
          if (strcasecmp (key, k) == 0)
            return runtime_annotations[i].reader;
          break;
        case DOMAIN:
          if (name_len >= len && strncasecmp (key + name_len - len, k, len) == 0
              && (name_len == len || key[name_len - len - 1] == '.'))
            return runtime_annotations[i].reader;
          break;
        }
    }
  return NULL;
}

static void
build_annotations (const struct ocip_image_config *config, struct kv *kv, struct strv *dropped)
{
  cleanup_free char *features = join (config->os_features, false);
  cleanup_free char *ports = join (config->exposed_ports, true);
  size_t i;

#define SET(key, value) kv_set (kv, key, strlen (key), value)
  SET (ANNOTATION ("os"), config->platform.os);
  SET (ANNOTATION ("architecture"), config->platform.architecture);
  SET (ANNOTATION ("variant"), config->platform.variant);
  SET (ANNOTATION ("os.version"), config->os_version);
  SET (ANNOTATION ("os.features"), features);
  SET (ANNOTATION ("author"), config->author);
  SET (ANNOTATION ("created"), config->created);
  SET (ANNOTATION ("stopSignal"), config->stop_signal);
  SET (ANNOTATION ("exposedPorts"), ports);
#undef SET
  /* conversion.md: Labels are copied last and win over the implicit annotations.  */
  for (i = 0; config->labels && config->labels[i]; i += 2)
    if (ocip_spec_runtime_annotation (config->labels[i]))
      strv_push (dropped, xstrdup (config->labels[i]));
    else
      kv_set (kv, config->labels[i], strlen (config->labels[i]), config->labels[i + 1]);
}

/* A copy of V (NULL stays NULL: not written).  */
static char **
strv_dup (const char *const *v)
{
  size_t i, n = 0;
  char **ret;

  if (v == NULL)
    return NULL;
  while (v[n])
    n++;
  ret = xcalloc (n + 1, sizeof (char *));
  for (i = 0; i < n; i++)
    ret[i] = xstrdup (v[i]);
  return ret;
}

static void
set_mount (struct ocip_spec_mount *m, const char *destination, const char *type, const char *source,
           const char *const *options)
{
  m->destination = xstrdup (destination);
  m->type = xstrdup (type);
  m->source = xstrdup (source);
  m->options = strv_dup (options);
}

/* The default mounts, then one tmpfs per volume.  */
static void
decide_mounts (const struct strv *volumes, struct ocip_spec *spec)
{
  size_t i, n_default = sizeof default_mounts / sizeof default_mounts[0];

  spec->mounts = xcalloc (n_default + volumes->n, sizeof *spec->mounts);
  for (i = 0; i < n_default; i++, spec->n_mounts++)
    set_mount (&spec->mounts[i], default_mounts[i].destination, default_mounts[i].type, default_mounts[i].source,
               default_mounts[i].options);
  for (i = 0; i < volumes->n; i++, spec->n_mounts++)
    set_mount (&spec->mounts[spec->n_mounts], volumes->v[i], "tmpfs", "tmpfs", volume_options);
}

/* The process's user; the home directory only served HOME.  */
static void
decide_user (struct ocip_user *user, struct ocip_spec_user *ret)
{
  ret->uid = user->uid;
  ret->gid = user->gid;
  ret->additional_gids = steal_pointer (&user->additional_gids);
  ret->n_additional_gids = user->n_additional_gids;
  user->n_additional_gids = 0;
}

/* Like podman: no inheritable or ambient set, so an exec'd program gains nothing; and
   one RLIMIT_NOFILE.  */
static void
decide_privileges (char **caps, bool userns, struct ocip_spec_process *process)
{
  process->bounding = strv_dup ((const char *const *) caps);
  process->effective = strv_dup ((const char *const *) caps);
  process->permitted = strv_dup ((const char *const *) caps);
  process->rlimits = xcalloc (1, sizeof *process->rlimits);
  process->rlimits[0].type = xstrdup ("RLIMIT_NOFILE");
  process->rlimits[0].hard = process->rlimits[0].soft = nofile_limit (userns);
  process->n_rlimits = 1;
  process->no_new_privileges = true;
}

static int
decide_seccomp (const char *mode, struct ocip_spec_seccomp *ret, ocip_error_t *err)
{
  int r;

  if (strcmp (mode, "unconfined") == 0)
    return 0;
  if (strcmp (mode, "default") != 0)
    {
      if ((r = ocip_seccomp_load_file (mode, &ret->document, err)) < 0)
        return r;
      ret->kind = OCIP_SPEC_SECCOMP_DOCUMENT;
      return 0;
    }
  {
    cleanup_seccomp_profile struct ocip_seccomp_profile profile = { 0 };

    if ((r = ocip_seccomp_default (&profile, err)) < 0)
      return r;
    ret->kind = OCIP_SPEC_SECCOMP_ALLOW_LIST;
    ret->default_action = xstrdup (OCIP_SECCOMP_DEFAULT_ACTION);
    ret->default_errno_ret = OCIP_SECCOMP_DEFAULT_ERRNO;
    ret->architectures = steal_pointer (&profile.architectures);
    ret->syscalls = steal_pointer (&profile.syscalls);
  }
  return 0;
}

/* Whether OBJ has KEY with a value other than null (which runtimes read as absent).  */
static bool
has_member (const struct ocip_json_node *obj, const char *key)
{
  const struct ocip_json_node *n = ocip_json_object_get (obj, key);

  return n && ocip_json_type (n) != OCIP_JSON_NULL;
}

/* Whether the array KEY of OBJ holds the string VALUE.  */
static bool
array_has (const struct ocip_json_node *obj, const char *key, const char *value)
{
  const struct ocip_json_node *a = ocip_json_object_get (obj, key);
  const char *s;
  size_t i;

  for (i = 0; a && ocip_json_type (a) == OCIP_JSON_ARRAY && i < ocip_json_array_len (a); i++)
    if ((s = ocip_json_string (ocip_json_array_at (a, i))) && strcmp (s, value) == 0)
      return true;
  return false;
}

static bool
string_is (const struct ocip_json_node *obj, const char *key, const char *value)
{
  const struct ocip_json_node *n = ocip_json_object_get (obj, key);

  return n && ocip_json_string (n) && strcmp (ocip_json_string (n), value) == 0;
}

/* Whether the seccomp document of a caller uses what runtime-spec 1.1.0 added:
   defaultErrnoRet, the notify listener, the KILL_PROCESS, KILL_THREAD and NOTIFY
   actions, the WAIT_KILLABLE_RECV flag, the RISCV64 architecture.  */
static bool
seccomp_document_needs_1_1 (const struct ocip_json_node *s)
{
  static const char *const new_actions[] = { "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_NOTIFY", NULL };
  const struct ocip_json_node *rules = ocip_json_object_get (s, "syscalls");
  const char *const *p;
  size_t i;

  if (has_member (s, "defaultErrnoRet") || has_member (s, "listenerPath") || has_member (s, "listenerMetadata")
      || array_has (s, "flags", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
      || array_has (s, "architectures", "SCMP_ARCH_RISCV64"))
    return true;
  for (p = new_actions; *p; p++)
    {
      if (string_is (s, "defaultAction", *p))
        return true;
      for (i = 0; rules && ocip_json_type (rules) == OCIP_JSON_ARRAY && i < ocip_json_array_len (rules); i++)
        if (string_is (ocip_json_array_at (rules, i), "action", *p))
          return true;
    }
  return false;
}

/* The lowest runtime-spec version that defines every field SPEC writes, so that a
   runtime that checks the version (or a validator) never meets a field newer than the
   document claims.  1.0.2 covers everything but the seccomp fields of 1.1.0; a field
   added to the model that a later version introduced must be counted here.  */
static const char *
spec_version (const struct ocip_spec *spec)
{
  if (spec->seccomp.kind == OCIP_SPEC_SECCOMP_ALLOW_LIST && spec->seccomp.default_errno_ret != 0)
    return OCIP_SPEC_OCI_VERSION_1_1;
  if (spec->seccomp.kind == OCIP_SPEC_SECCOMP_DOCUMENT
      && seccomp_document_needs_1_1 (ocip_json_root (spec->seccomp.document)))
    return OCIP_SPEC_OCI_VERSION_1_1;
  return OCIP_SPEC_OCI_VERSION;
}

/* Deny every device (the runtime adds back the standard ones: null, zero, tty...); the
   default namespaces, masked and read-only paths.  */
static void
decide_linux (struct ocip_spec *spec)
{
  spec->devices = xcalloc (1, sizeof *spec->devices);
  spec->devices[0].allow = false;
  spec->devices[0].access = xstrdup ("rwm");
  spec->n_devices = 1;
  spec->namespaces = strv_dup (namespaces);
  spec->masked_paths = strv_dup (masked_paths);
  spec->readonly_paths = strv_dup (readonly_paths);
}

static struct ocip_spec_id_mapping *
mappings_of (const struct ocip_idmap_list *list, size_t *ret_n)
{
  struct ocip_spec_id_mapping *v = xcalloc (list->n + 1, sizeof *v);
  size_t i;

  for (i = 0; i < list->n; i++)
    v[i] = (struct ocip_spec_id_mapping){ list->v[i].container, list->v[i].host, list->v[i].size };
  *ret_n = list->n;
  return v;
}

/* A user namespace (runc's "spec --rootless" and podman --userns make the same
   changes): the namespace and its mappings, and devpts's gid=5 only when the
   container has a gid 5 (the kernel refuses to mount devpts with an unmapped gid).  */
static void
decide_userns (const struct ocip_idmap *idmap, struct ocip_spec *spec)
{
  uint32_t host;
  size_t i, n = 0;

  while (spec->namespaces[n])
    n++;
  spec->namespaces = xreallocarray (spec->namespaces, n + 2, sizeof *spec->namespaces);
  spec->namespaces[n] = xstrdup ("user");
  spec->namespaces[n + 1] = NULL;
  spec->uid_mappings = mappings_of (&idmap->uid, &spec->n_uid_mappings);
  spec->gid_mappings = mappings_of (&idmap->gid, &spec->n_gid_mappings);
  if (ocip_idmap_to_host (&idmap->gid, 5, &host))
    return;
  for (i = 0; i < spec->n_mounts; i++)
    if (strcmp (spec->mounts[i].type, "devpts") == 0)
      {
        char **o = spec->mounts[i].options, **w = o;
        for (; *o; o++)
          if (strcmp (*o, "gid=5") == 0)
            free (*o);
          else
            *w++ = *o;
        *w = NULL;
      }
}

static char **
steal_strv (struct strv *s)
{
  char **v = s->v ? s->v : xcalloc (1, sizeof (char *));

  s->v = NULL;
  s->n = 0;
  return v;
}

int
ocip_spec_build (const struct ocip_image_config *config, int rootfd, const struct ocip_spec_options *opts,
                 struct ocip_spec **ret, ocip_error_t *err)
{
  static const struct ocip_spec_options no_options;
  cleanup_spec struct ocip_spec *spec = NULL;
  cleanup_user struct ocip_user user = { 0 };
  cleanup_strv_buf struct strv args = { 0 };
  cleanup_strv_buf struct strv env = { 0 };
  cleanup_strv_buf struct strv volumes = { 0 };
  cleanup_strv_buf struct strv dropped = { 0 };
  cleanup_strv char **caps = NULL;
  cleanup_kv struct kv annotations = { 0 };
  cleanup_free char *cwd = NULL;
  const char *hostname, *root_path, *seccomp_mode;
  char **p;
  int r;

  if (opts == NULL)
    opts = &no_options;
  hostname = opts->hostname ? opts->hostname : OCIP_SPEC_DEFAULT_HOSTNAME;
  root_path = opts->root_path ? opts->root_path : OCIP_SPEC_DEFAULT_ROOT_PATH;
  seccomp_mode = opts->seccomp ? opts->seccomp : "default";

  if (*hostname == '\0' || strlen (hostname) > HOSTNAME_MAX)
    return ocip_error_fail (err, EINVAL, "invalid hostname '%s': expected 1 to %d bytes", hostname, HOSTNAME_MAX);
  if (*root_path == '\0')
    return ocip_error_fail (err, EINVAL, "empty root path");
  if (*seccomp_mode == '\0')
    return ocip_error_fail (err, EINVAL, "empty seccomp profile: expected default, unconfined or a file");

  if ((r = build_args (config, opts, &args, err)) < 0)
    return r;
  if ((r = working_dir (opts->cwd ? opts->cwd : config->working_dir, &cwd, err)) < 0)
    return r;
  if ((r = ocip_user_resolve (rootfd, opts->user ? opts->user : config->user, &user, err)) < 0)
    return r;
  if ((r = build_env (config, opts, user.home, &env, err)) < 0)
    return r;
  if ((r = build_volumes (config, &volumes, err)) < 0)
    return r;
  if ((r = ocip_caps_compute (opts->cap_add, opts->cap_drop, &caps, err)) < 0)
    return r;
  build_annotations (config, &annotations, &dropped);
  for (p = opts->annotations; p && *p; p++)
    {
      if ((r = check_assignment (*p, "annotation", err)) < 0)
        return r;
      kv_set (&annotations, *p, strchr (*p, '=') - *p, strchr (*p, '=') + 1);
    }

  spec = xcalloc (1, sizeof *spec);
  if ((r = decide_seccomp (seccomp_mode, &spec->seccomp, err)) < 0)
    return r;
  spec->oci_version = xstrdup (spec_version (spec));
  spec->process.terminal = opts->tty;
  decide_user (&user, &spec->process.user);
  spec->process.args = steal_strv (&args);
  spec->process.env = steal_strv (&env);
  spec->process.cwd = steal_pointer (&cwd);
  decide_privileges (caps, opts->idmap != NULL, &spec->process);
  spec->root_path = xstrdup (root_path);
  spec->root_readonly = opts->read_only;
  spec->hostname = xstrdup (hostname);
  decide_mounts (&volumes, spec);
  spec->annotations.keys = steal_pointer (&annotations.keys);
  spec->annotations.values = steal_pointer (&annotations.values);
  spec->annotations.n = annotations.n;
  annotations.n = 0;
  decide_linux (spec);
  if (opts->idmap)
    decide_userns (opts->idmap, spec);
  spec->dropped_labels = steal_strv (&dropped);
  *ret = steal_pointer (&spec);
  return 0;
}

void
ocip_spec_gen_user (struct ocip_json_gen *gen, const struct ocip_spec_user *user)
{
  size_t i;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_int64 (gen, "uid", user->uid);
  ocip_json_gen_kv_int64 (gen, "gid", user->gid);
  if (user->n_additional_gids > 0)
    {
      ocip_json_gen_string (gen, "additionalGids");
      ocip_json_gen_array_open (gen);
      for (i = 0; i < user->n_additional_gids; i++)
        ocip_json_gen_int64 (gen, user->additional_gids[i]);
      ocip_json_gen_array_close (gen);
    }
  ocip_json_gen_map_close (gen);
}

static void
gen_process (struct ocip_json_gen *gen, const struct ocip_spec_process *process)
{
  size_t i;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_bool (gen, "terminal", process->terminal);
  ocip_json_gen_string (gen, "user");
  ocip_spec_gen_user (gen, &process->user);
  ocip_json_gen_kv_strv (gen, "args", process->args);
  ocip_json_gen_kv_strv (gen, "env", process->env);
  ocip_json_gen_kv_string (gen, "cwd", process->cwd);
  if (process->bounding || process->effective || process->permitted)
    {
      ocip_json_gen_string (gen, "capabilities");
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_strv (gen, "bounding", process->bounding);
      ocip_json_gen_kv_strv (gen, "effective", process->effective);
      ocip_json_gen_kv_strv (gen, "permitted", process->permitted);
      ocip_json_gen_map_close (gen);
    }
  if (process->n_rlimits > 0)
    {
      ocip_json_gen_string (gen, "rlimits");
      ocip_json_gen_array_open (gen);
      for (i = 0; i < process->n_rlimits; i++)
        {
          ocip_json_gen_map_open (gen);
          ocip_json_gen_kv_string (gen, "type", process->rlimits[i].type);
          ocip_json_gen_kv_int64 (gen, "hard", process->rlimits[i].hard);
          ocip_json_gen_kv_int64 (gen, "soft", process->rlimits[i].soft);
          ocip_json_gen_map_close (gen);
        }
      ocip_json_gen_array_close (gen);
    }
  ocip_json_gen_kv_bool (gen, "noNewPrivileges", process->no_new_privileges);
  ocip_json_gen_map_close (gen);
}

static void
gen_mounts (struct ocip_json_gen *gen, const struct ocip_spec *spec)
{
  size_t i;

  if (spec->n_mounts == 0)
    return;
  ocip_json_gen_string (gen, "mounts");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < spec->n_mounts; i++)
    {
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "destination", spec->mounts[i].destination);
      ocip_json_gen_kv_string (gen, "type", spec->mounts[i].type);
      ocip_json_gen_kv_string (gen, "source", spec->mounts[i].source);
      ocip_json_gen_kv_strv (gen, "options", spec->mounts[i].options);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
}

static void
gen_seccomp (struct ocip_json_gen *gen, const struct ocip_spec_seccomp *seccomp)
{
  switch (seccomp->kind)
    {
    case OCIP_SPEC_SECCOMP_NONE:
      return;
    case OCIP_SPEC_SECCOMP_DOCUMENT:
      ocip_json_gen_string (gen, "seccomp");
      ocip_json_gen_node (gen, ocip_json_root (seccomp->document));
      return;
    case OCIP_SPEC_SECCOMP_ALLOW_LIST:
      ocip_json_gen_string (gen, "seccomp");
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "defaultAction", seccomp->default_action);
      ocip_json_gen_kv_int64 (gen, "defaultErrnoRet", seccomp->default_errno_ret);
      ocip_json_gen_kv_strv (gen, "architectures", seccomp->architectures);
      ocip_json_gen_string (gen, "syscalls");
      ocip_json_gen_array_open (gen);
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_strv (gen, "names", seccomp->syscalls);
      ocip_json_gen_kv_string (gen, "action", "SCMP_ACT_ALLOW");
      ocip_json_gen_map_close (gen);
      ocip_json_gen_array_close (gen);
      ocip_json_gen_map_close (gen);
      return;
    }
}

static void
gen_mappings (struct ocip_json_gen *gen, const char *key, const struct ocip_spec_id_mapping *v, size_t n)
{
  size_t i;

  ocip_json_gen_string (gen, key);
  ocip_json_gen_array_open (gen);
  for (i = 0; i < n; i++)
    {
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_int64 (gen, "containerID", v[i].container_id);
      ocip_json_gen_kv_int64 (gen, "hostID", v[i].host_id);
      ocip_json_gen_kv_int64 (gen, "size", v[i].size);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
}

static void
gen_linux (struct ocip_json_gen *gen, const struct ocip_spec *spec)
{
  size_t i;

  ocip_json_gen_map_open (gen);
  if (spec->n_devices > 0)
    {
      ocip_json_gen_string (gen, "resources");
      ocip_json_gen_map_open (gen);
      ocip_json_gen_string (gen, "devices");
      ocip_json_gen_array_open (gen);
      for (i = 0; i < spec->n_devices; i++)
        {
          ocip_json_gen_map_open (gen);
          ocip_json_gen_kv_bool (gen, "allow", spec->devices[i].allow);
          ocip_json_gen_kv_string (gen, "access", spec->devices[i].access);
          ocip_json_gen_map_close (gen);
        }
      ocip_json_gen_array_close (gen);
      ocip_json_gen_map_close (gen);
    }
  if (spec->namespaces)
    {
      ocip_json_gen_string (gen, "namespaces");
      ocip_json_gen_array_open (gen);
      for (i = 0; spec->namespaces[i]; i++)
        {
          ocip_json_gen_map_open (gen);
          ocip_json_gen_kv_string (gen, "type", spec->namespaces[i]);
          ocip_json_gen_map_close (gen);
        }
      ocip_json_gen_array_close (gen);
    }
  if (spec->n_uid_mappings > 0)
    gen_mappings (gen, "uidMappings", spec->uid_mappings, spec->n_uid_mappings);
  if (spec->n_gid_mappings > 0)
    gen_mappings (gen, "gidMappings", spec->gid_mappings, spec->n_gid_mappings);
  gen_seccomp (gen, &spec->seccomp);
  ocip_json_gen_kv_strv (gen, "maskedPaths", spec->masked_paths);
  ocip_json_gen_kv_strv (gen, "readonlyPaths", spec->readonly_paths);
  ocip_json_gen_map_close (gen);
}

int
ocip_spec_to_json (const struct ocip_spec *spec, char **ret_json, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  size_t i;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "ociVersion", spec->oci_version);
  ocip_json_gen_string (gen, "process");
  gen_process (gen, &spec->process);
  ocip_json_gen_string (gen, "root");
  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "path", spec->root_path);
  ocip_json_gen_kv_bool (gen, "readonly", spec->root_readonly);
  ocip_json_gen_map_close (gen);
  ocip_json_gen_kv_string (gen, "hostname", spec->hostname);
  gen_mounts (gen, spec);
  ocip_json_gen_string (gen, "annotations");
  ocip_json_gen_map_open (gen);
  for (i = 0; i < spec->annotations.n; i++)
    ocip_json_gen_kv_string (gen, spec->annotations.keys[i], spec->annotations.values[i]);
  ocip_json_gen_map_close (gen);
  ocip_json_gen_string (gen, "linux");
  gen_linux (gen, spec);
  ocip_json_gen_map_close (gen);
  return ocip_json_gen_finish (gen, ret_json, NULL, err);
}

void
ocip_spec_free (struct ocip_spec *spec)
{
  struct ocip_spec_process *process;
  size_t i;

  if (spec == NULL)
    return;
  process = &spec->process;
  free (spec->oci_version);
  free (process->user.additional_gids);
  ocip_strv_free (process->args);
  ocip_strv_free (process->env);
  free (process->cwd);
  ocip_strv_free (process->bounding);
  ocip_strv_free (process->effective);
  ocip_strv_free (process->permitted);
  for (i = 0; i < process->n_rlimits; i++)
    free (process->rlimits[i].type);
  free (process->rlimits);
  free (spec->root_path);
  free (spec->hostname);
  for (i = 0; i < spec->n_mounts; i++)
    {
      free (spec->mounts[i].destination);
      free (spec->mounts[i].type);
      free (spec->mounts[i].source);
      ocip_strv_free (spec->mounts[i].options);
    }
  free (spec->mounts);
  for (i = 0; i < spec->annotations.n; i++)
    {
      free (spec->annotations.keys[i]);
      free (spec->annotations.values[i]);
    }
  free (spec->annotations.keys);
  free (spec->annotations.values);
  for (i = 0; i < spec->n_devices; i++)
    free (spec->devices[i].access);
  free (spec->devices);
  ocip_strv_free (spec->namespaces);
  free (spec->uid_mappings);
  free (spec->gid_mappings);
  free (spec->seccomp.default_action);
  ocip_strv_free (spec->seccomp.architectures);
  ocip_strv_free (spec->seccomp.syscalls);
  ocip_json_free (spec->seccomp.document);
  ocip_strv_free (spec->masked_paths);
  ocip_strv_free (spec->readonly_paths);
  ocip_strv_free (spec->dropped_labels);
  free (spec);
}

int
ocip_spec_generate (const struct ocip_image_config *config, int rootfd, const struct ocip_spec_options *opts,
                    char **ret_json, char ***ret_dropped, ocip_error_t *err)
{
  cleanup_spec struct ocip_spec *spec = NULL;
  int r;

  if ((r = ocip_spec_build (config, rootfd, opts, &spec, err)) < 0
      || (r = ocip_spec_to_json (spec, ret_json, err)) < 0)
    return r;
  if (ret_dropped)
    *ret_dropped = steal_pointer (&spec->dropped_labels);
  return 0;
}
