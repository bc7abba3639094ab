/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runtime-spec config.json of a bundle: image-spec conversion rules plus safe defaults. */
#ifndef OCIP_SPEC_H
#define OCIP_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oci-prep/error.h>
#include <oci-prep/image.h>

/* The runtime-spec version written: the lowest that defines every field used (see
   ocip_spec_build), OCIP_SPEC_OCI_VERSION when nothing newer is, else 1.1.0 (the
   default seccomp profile's defaultErrnoRet is 1.1.0).  runc 1.1 and crun 1.8 accept both.  */
#define OCIP_SPEC_OCI_VERSION "1.0.2"
#define OCIP_SPEC_OCI_VERSION_1_1 "1.1.0"
#define OCIP_SPEC_DEFAULT_HOSTNAME "oci-prep"
#define OCIP_SPEC_DEFAULT_ROOT_PATH "rootfs"
#define OCIP_SPEC_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct ocip_idmap; /* the library's mapping model (base/idmap.h) */

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
  char **args;           /* replaces Entrypoint ++ Cmd entirely (when not NULL), or with
                            ENTRYPOINT set, the image's Cmd */
  char **entrypoint;     /* podman's --entrypoint (when not NULL, possibly empty):
                            replaces the image's Entrypoint and drops its Cmd */
  char **env;            /* "KEY=VALUE": replaces the variable KEY, or appends it */
  char **annotations;    /* "KEY=VALUE": replaces the annotation KEY, or adds it */
  char **cap_add, **cap_drop; /* see ocip_caps_compute() */
  const char *seccomp;   /* NULL or "default", "unconfined", or the path of a profile */
  const struct ocip_idmap *idmap; /* NULL: no user namespace; else its mappings */
};

/* The config model: what oci-prep decides for a config.json, before any JSON is
   written.  ocip_spec_build() decides it, ocip_spec_to_json() writes it (members in the
   order of this struct), and the precreate hook fills an engine's config from it.
   Everything in it is owned by the model and freed by ocip_spec_free(); string vectors
   are NULL-terminated.  A NULL string or vector is not written at all (an empty vector
   is written as []), nor is an array of structs whose count is 0.  */

/* The process's user, as the runtime sets it.  */
struct ocip_spec_user
{
  uint32_t uid, gid;
  uint32_t *additional_gids; /* primary gid first; not written when N_ADDITIONAL_GIDS is 0 */
  size_t n_additional_gids;
};

struct ocip_spec_rlimit
{
  char *type; /* "RLIMIT_NOFILE" */
  int64_t hard, soft;
};

struct ocip_spec_process
{
  bool terminal;
  struct ocip_spec_user user;
  char **args;
  char **env; /* "KEY=VALUE", in order; the image's duplicates are kept */
  char *cwd;
  /* capabilities: no inheritable or ambient set, so an exec'd program gains nothing */
  char **bounding, **effective, **permitted;
  struct ocip_spec_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
};

struct ocip_spec_mount
{
  char *destination, *type, *source;
  char **options;
};

/* Ordered, and no key twice: setting a key again replaces its value in place.  */
struct ocip_spec_annotations
{
  char **keys, **values;
  size_t n;
};

/* linux.resources.devices: one cgroup device rule.  */
struct ocip_spec_device
{
  bool allow;
  char *access; /* "rwm" */
};

/* linux.uidMappings / gidMappings: CONTAINER_ID.. is HOST_ID.. for SIZE IDs.  */
struct ocip_spec_id_mapping
{
  uint32_t container_id, host_id, size;
};

struct ocip_json;

enum ocip_spec_seccomp_kind
{
  OCIP_SPEC_SECCOMP_NONE,       /* no linux.seccomp: unconfined */
  OCIP_SPEC_SECCOMP_ALLOW_LIST, /* DEFAULT_ACTION for every syscall but SYSCALLS */
  OCIP_SPEC_SECCOMP_DOCUMENT,   /* a caller's profile, written back as it was parsed */
};

struct ocip_spec_seccomp
{
  enum ocip_spec_seccomp_kind kind;
  char *default_action;      /* ALLOW_LIST */
  int64_t default_errno_ret; /* ALLOW_LIST */
  char **architectures;      /* ALLOW_LIST */
  char **syscalls;           /* ALLOW_LIST: allowed */
  struct ocip_json *document; /* DOCUMENT: a JSON object (base/json.h) */
};

struct ocip_spec
{
  char *oci_version;
  struct ocip_spec_process process;
  char *root_path;
  bool root_readonly;
  char *hostname;
  struct ocip_spec_mount *mounts;
  size_t n_mounts;
  struct ocip_spec_annotations annotations; /* always written, {} when empty */
  /* linux */
  struct ocip_spec_device *devices;
  size_t n_devices;
  char **namespaces; /* types only: a path would join a namespace of the host */
  struct ocip_spec_id_mapping *uid_mappings, *gid_mappings; /* with a "user" namespace */
  size_t n_uid_mappings, n_gid_mappings;
  struct ocip_spec_seccomp seccomp;
  char **masked_paths, **readonly_paths;
  /* Not written: the keys of the image's labels left out of ANNOTATIONS because a
     runtime acts on them, in the image's order (empty when none).  The caller tells the
     user.  */
  char **dropped_labels;
};

/* Decide the model for an image whose config is CONFIG and whose rootfs is the directory
   ROOTFD (negative: no rootfs; a User given by name is then EINVAL).
   Only /etc/passwd and /etc/group are read from ROOTFD, inside it (see
   ocip_user_resolve()); OPTS->seccomp, a caller's file, is read by path.
   Conversion (image-spec conversion.md):
   - process.args = Entrypoint ++ Cmd (or OPTS->args); with OPTS->entrypoint,
     OPTS->entrypoint ++ OPTS->args (the image's Cmd is not used, as in podman); empty
     is EINVAL.
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
   With OPTS->idmap (a user namespace; the rootfs must be ID-mapped to match): a "user"
   namespace and linux.uidMappings/gidMappings; devpts without "gid=5" when container
   gid 5 is not mapped (the kernel would refuse the mount); RLIMIT_NOFILE no higher than
   this process's hard limit (raising one takes CAP_SYS_RESOURCE in the host's user
   namespace, which the container's root lacks); sysfs stays (the container has its
   own network namespace, which sysfs needs in a user namespace) and so does the
   cgroup mount (a cgroup namespace owned by the container's user namespace).
   Defaults: namespaces pid, network, ipc, uts, mount, cgroup; /proc, /dev, /dev/pts,
   /dev/shm, /dev/mqueue, /sys, /sys/fs/cgroup mounts; masked and read-only paths;
   noNewPrivileges; RLIMIT_NOFILE 1048576 (lowered to fs.nr_open, and to this process's
   hard limit when it lacks CAP_SYS_RESOURCE to raise it, as podman does); the capabilities of ocip_caps_compute() in
   bounding, effective and permitted; the seccomp profile of ocip_seccomp_default()
   (OPTS->seccomp "unconfined": none; a path: that file's object, re-emitted).
   ociVersion is the lowest runtime-spec version defining every field written:
   OCIP_SPEC_OCI_VERSION, or OCIP_SPEC_OCI_VERSION_1_1 with the default profile
   (defaultErrnoRet) or a caller's profile using a field or value 1.1.0 added.
   The labels left out are named in (*RET)->dropped_labels.
   On success *RET is the model, owned by the caller (ocip_spec_free()).  On failure a
   negative errno with *ERR set, and *RET untouched.  */
int ocip_spec_build (const struct ocip_image_config *config, int rootfd, const struct ocip_spec_options *opts,
                     struct ocip_spec **ret, ocip_error_t *err);

/* Parse podman's --entrypoint VALUE: a JSON array of strings ('["/bin/sh","-c"]'), or
   else one string taken as the whole program ("" clears the Entrypoint: an empty
   vector).  VALUE starting with '[' must be a valid array of strings (EINVAL naming
   what is wrong).  *RET is a NULL-terminated vector owned by the caller.  */
int ocip_spec_entrypoint_parse (const char *value, char ***ret, ocip_error_t *err);

/* Write SPEC as config.json: *RET_JSON is the pretty-printed document, NUL-terminated
   and ending in a newline, owned by the caller.  EINVAL (and *RET_JSON untouched) when
   the generator refuses a string (invalid UTF-8).  */
int ocip_spec_to_json (const struct ocip_spec *spec, char **ret_json, ocip_error_t *err);

/* Free SPEC and all it holds; NULL and a half-built model are fine.  */
void ocip_spec_free (struct ocip_spec *spec);

static inline void
ocip_spec_freep (struct ocip_spec **spec)
{
  ocip_spec_free (*spec);
}

#define cleanup_spec __attribute__ ((cleanup (ocip_spec_freep)))

/* ocip_spec_build() then ocip_spec_to_json(): *RET_JSON is the document, *RET_DROPPED
   (optional) the model's dropped_labels, both owned by the caller (free(),
   ocip_strv_free()).  On failure a negative errno with *ERR set, and neither output
   written.  */
int ocip_spec_generate (const struct ocip_image_config *config, int rootfd, const struct ocip_spec_options *opts,
                        char **ret_json, char ***ret_dropped, ocip_error_t *err);

/* Whether an annotation KEY is one that a runtime, an engine or a hook interprets
   (crun's run.oci.*, runc's org.systemd.property.*, CRI-O's, containerd's...; the one
   list is in spec.c): the name of who reads it (static), or NULL.  */
const char *ocip_spec_runtime_annotation (const char *key);

#endif
