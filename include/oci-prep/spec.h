/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runtime-spec config.json of a bundle: image-spec conversion rules plus safe defaults. */
#ifndef OCIP_SPEC_H
#define OCIP_SPEC_H

#include <stdbool.h>

#include <oci-prep/error.h>
#include <oci-prep/image.h>

/* The runtime-spec version written: what runc 1.1 and crun 1.8 accept.  */
#define OCIP_SPEC_OCI_VERSION "1.0.2"
#define OCIP_SPEC_DEFAULT_HOSTNAME "oci-prep"
#define OCIP_SPEC_DEFAULT_ROOT_PATH "rootfs"
#define OCIP_SPEC_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What the caller changes.  NULL / false everywhere means the image's values and the
   defaults.  String vectors are NULL-terminated.  */
struct ocip_spec_options
{
  bool tty;              /* process.terminal, and TERM=xterm unless Env sets TERM */
  bool read_only;        /* root.readonly */
  const char *hostname;  /* default OCIP_SPEC_DEFAULT_HOSTNAME */
  const char *root_path; /* root.path, default OCIP_SPEC_DEFAULT_ROOT_PATH */
  const char *user;      /* replaces the image's User */
  const char *cwd;       /* replaces the image's WorkingDir */
  char **args;           /* replaces Entrypoint ++ Cmd entirely (when not NULL) */
  char **env;            /* "KEY=VALUE": replaces the variable KEY, or appends it */
  char **annotations;    /* "KEY=VALUE": replaces the annotation KEY, or adds it */
  char **cap_add, **cap_drop; /* see ocip_caps_compute() */
  const char *seccomp;   /* NULL or "default", "unconfined", or the path of a profile */
};

/* Build config.json for an image whose config is CONFIG and whose rootfs is the
   directory ROOTFD (negative: no rootfs; a User given by name is then EINVAL).
   Only /etc/passwd and /etc/group are read from ROOTFD, inside it (see
   ocip_user_resolve()); OPTS->seccomp, a caller's file, is read by path.
   Conversion (image-spec conversion.md):
   - process.args = Entrypoint ++ Cmd (or OPTS->args); empty is EINVAL.
   - process.cwd = WorkingDir (or OPTS->cwd; default "/") verbatim; EINVAL when it is
     relative or a ".." climbs above "/" even lexically.
   - process.env = the image's Env (every entry KEY=VALUE, else EINVAL), then PATH,
     HOME (the user's home, "/" without a passwd entry) and, with a tty, TERM=xterm,
     each only when absent; then OPTS->env.
   - process.user from User (or OPTS->user), see ocip_user_resolve().
   - annotations: org.opencontainers.image.{os,architecture,variant,os.version,
     os.features,author,created,stopSignal,exposedPorts} from the config (absent
     values omitted; ports sorted, comma-separated), then Labels (a label replaces an
     implicit annotation of the same key) except those a runtime acts on (see
     ocip_spec_runtime_annotation()), then OPTS->annotations (never filtered: the
     caller's choice).
   - every Volume becomes a tmpfs mount (nosuid, nodev, mode=755), never a bind of the
     host: the path must be absolute, ".." is EINVAL, it is cleaned, and it may not be
     "/" or lie in /proc, /sys or /dev (EINVAL).
   Defaults: namespaces pid, network, ipc, uts, mount, cgroup; /proc, /dev, /dev/pts,
   /dev/shm, /dev/mqueue, /sys, /sys/fs/cgroup mounts; masked and read-only paths;
   noNewPrivileges; RLIMIT_NOFILE 1048576 (lowered to fs.nr_open, and to this process's
   hard limit when it lacks CAP_SYS_RESOURCE to raise it, as podman does); the capabilities of ocip_caps_compute() in
   bounding, effective and permitted; the seccomp profile of ocip_seccomp_default()
   (OPTS->seccomp "unconfined": none; a path: that file's object, re-emitted).
   On success *RET_JSON is the pretty-printed document, NUL-terminated and ending in a
   newline, owned by the caller; *RET_DROPPED (optional) the keys of the labels left
   out, in the image's order, NULL-terminated (empty when none), owned by the caller
   (ocip_strv_free): the caller tells the user.  On failure a negative errno with *ERR
   set, and neither output written.  */
int ocip_spec_generate (const struct ocip_image_config *config, int rootfd, const struct ocip_spec_options *opts,
                        char **ret_json, char ***ret_dropped, ocip_error_t *err);

/* Whether an annotation KEY is one that a runtime, an engine or a hook interprets
   (crun's run.oci.*, runc's org.systemd.property.*, CRI-O's, containerd's...; the one
   list is in spec.c): the name of who reads it (static), or NULL.  */
const char *ocip_spec_runtime_annotation (const char *key);

#endif
