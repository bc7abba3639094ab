/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A runtime bundle from an image: the whole pipeline, and its undoing. */
#ifndef OCIP_BUNDLE_H
#define OCIP_BUNDLE_H

#include <stdbool.h>

#include <oci-prep/context.h>
#include <oci-prep/error.h>
#include <oci-prep/image.h>
#include <oci-prep/load.h>
#include <oci-prep/plan.h>
#include <oci-prep/spec.h>

/* BUNDLE/.oci-prep/ holds what oci-prep owns in a bundle: state.json, and for an
   overlay rootfs its upper and work directories.  */
#define OCIP_BUNDLE_STATE_DIR ".oci-prep"

/* --userns auto: the user whose /etc/subuid and /etc/subgid ranges are shared out
   (podman's convention), and the size of a range when none is asked for (every ID a
   distribution image uses, nobody 65534 included).  */
#define OCIP_BUNDLE_AUTO_USER "containers"
#define OCIP_BUNDLE_AUTO_SIZE 65536

struct ocip_idmap; /* the library's mapping model (base/idmap.h) */

struct ocip_bundle_options
{
  const struct ocip_platform *platform; /* NULL: the host's */
  bool flat;                            /* a standalone copy instead of an overlay */
  bool force;                           /* replace a bundle oci-prep made */
  /* ocip_bundle_prepare_rootfs for a hook: the engine's bundle directory (absolute),
     recorded in the state so that store fsck and gc can tell when its container is
     gone; NULL otherwise.  */
  const char *engine_bundle;
  /* The container's user namespace.  UIDMAP / GIDMAP: NULL-terminated
     "CONTAINER:HOST:SIZE" strings (podman's --uidmap / --gidmap; GIDMAP NULL takes
     UIDMAP's ranges).  USERNS: "auto" or "auto:size=N": N (default
     OCIP_BUNDLE_AUTO_SIZE) container IDs from 0 mapped to the lowest host range of
     OCIP_BUNDLE_AUTO_USER's /etc/subuid (/etc/subgid) entries that no pin of the store
     holds, chosen and pinned under the store lock held exclusive, released by
     ocip_bundle_remove.  IDMAP: a parsed mapping (library callers: the hook).  At most
     one of them; all NULL: no user namespace.  With a mapping the overlay's lower
     layers are ID-mapped mounts of the store's (which keeps its owners), upper and work
     belong to the container's root, a flat copy is written with shifted owners, and
     config.json gets a user namespace with the mappings.  */
  char **uidmap, **gidmap;
  const char *userns;
  const struct ocip_idmap *idmap;
  struct ocip_load_options load;        /* ocip_load_options_default for the defaults */
  struct ocip_spec_options spec;        /* root_path is ignored: always "rootfs" */
};

struct ocip_bundle_result
{
  char *id;             /* the bundle's id (pin name), owned */
  size_t n_layers;
  size_t n_extracted;   /* layers this call extracted into the store */
  char **dropped_annotations; /* image labels left out of config.json (see ocip_spec_generate), owned */
  char **skipped_devices;     /* device nodes of the layers extracted now that were not created
                                 (see ocip_load_layer), NULL-terminated or NULL, owned */
};

/* Write BUNDLE/config.json and BUNDLE/rootfs for IMAGE.  BUNDLE must not exist or be
   an empty directory owned by this process's euid (else EPERM); it is made 0700
   through its fd, whoever created it, so that no other user reaches the image's
   setuid files.  One that oci-prep made (finished or not) is replaced only with
   OPTS->force, and anything else is never touched (EEXIST).  BUNDLE/.oci-prep/state.json
   is written first, marked unfinished, and rewritten as finished once the rootfs is
   complete.  IMAGE is planned with CTX and its layers are loaded into CTX's store
   (ocip_load), the bundle is pinned there, and rootfs is an overlay of them (upper and
   work under BUNDLE/.oci-prep) or, with OPTS->flat, a copy (ocip_flatten; nothing
   pinned).  config.json comes from ocip_spec_generate with the rootfs for user lookup,
   written atomically, last.  On failure everything done is undone: nothing stays
   mounted, pinned or written, and a BUNDLE that existed is empty again, and the
   context's verified-blob cache is saved only on success.
   RET (optional) is filled on success; free with ocip_bundle_result_clear.  */
int ocip_bundle_create (struct ocip_context *ctx, const char *image, const char *bundle,
                        const struct ocip_bundle_options *opts, struct ocip_bundle_result *ret, ocip_error_t *err);
void ocip_bundle_result_clear (struct ocip_bundle_result *r);

/* Unmount BUNDLE's rootfs, release its pins and remove it.  A directory without
   BUNDLE/.oci-prep/state.json is refused (EINVAL: not made by oci-prep), unless it is
   what a bundle killed before writing its state leaves (only an empty .oci-prep).  A
   busy mount is EBUSY, and so is a bundle whose creation did not finish (its state says
   so: killed, or still being made); with FORCE the mount is detached instead and an
   unfinished bundle is removed too.  The store is the one recorded in the bundle's
   state.  BUNDLE itself is not followed if it is a symlink.  RET (optional) says what
   was removed, filled on success; free with ocip_bundle_removal_clear.  */
struct ocip_bundle_removal
{
  char *id;        /* the bundle's id (pin name), owned; NULL for an unfinished bundle without state */
  char *store;     /* the store its pin was in, owned; NULL as id */
  bool flat;       /* a flat copy: nothing was mounted or pinned */
  size_t n_layers; /* layers its pin held, now released */
};
int ocip_bundle_remove (const char *bundle, bool force, struct ocip_bundle_removal *ret, ocip_error_t *err);
void ocip_bundle_removal_clear (struct ocip_bundle_removal *r);

/* For a runtime hook: mount IMAGE's overlay rootfs at ROOTFS (absolute, or relative to
   BUNDLE; created if missing; an existing directory is mounted over, its content
   hidden, as engines put files there first) for the existing directory BUNDLE,
   keeping upper, work and state in BUNDLE/.oci-prep (EEXIST if that exists: prepared
   already).  The layers are loaded into CTX's store and pinned as for a bundle; no
   config.json is written.  *RET_PLAN (owned by the caller) is the image's plan, and
   *RET_ROOTFD (owned by the caller) an O_PATH fd of the mounted rootfs, for building
   the process fields.  On failure nothing stays mounted, pinned or created.  */
int ocip_bundle_prepare_rootfs (struct ocip_context *ctx, const char *image, const char *bundle, const char *rootfs,
                                const struct ocip_bundle_options *opts, struct ocip_plan **ret_plan,
                                int *ret_rootfd, ocip_error_t *err);

/* Undo ocip_bundle_prepare_rootfs: unmount the recorded rootfs (LAZY: detach a busy
   one), release the pins and remove BUNDLE/.oci-prep and the rootfs directory if it
   made it (and it is empty), leaving the rest of BUNDLE alone.  Idempotent: a BUNDLE without state (never prepared, or
   released already) is success with nothing done.  */
int ocip_bundle_release (const char *bundle, bool lazy, ocip_error_t *err);

#endif
