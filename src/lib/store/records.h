/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store's records: the layer record, the bundle / hook state and its pin; one reader and one writer each. */
#ifndef OCIP_STORE_RECORDS_H
#define OCIP_STORE_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include <oci-prep/digest.h>
#include <oci-prep/error.h>
#include <oci-prep/store.h>
#include "base/idmap.h"
#include "rootfs/ovlformat.h"

/* Record formats.  A record without a "version" field was written by oci-prep before
   records carried one: it is format 1 and is read as it is (nothing is migrated).
   A version above the current one is refused (EPROTONOSUPPORT): an older oci-prep must
   not guess what a newer one meant.  */
#define OCIP_LAYER_RECORD_VERSION 2 /* 1: impliedDirs inline in meta.json */
#define OCIP_STATE_RECORD_VERSION 2 /* 1: same fields, no version */

/* layers/<alg>-<hex>/meta.json: what was recorded when the layer was committed.  The
   directories the layer only implied are not in it but in layers/<alg>-<hex>/implied
   (each path NUL-terminated, in the order extraction listed them), so that a layer
   implying any number of directories has a record of bounded size.  */
struct ocip_layer_record
{
  int64_t version;
  char *diff_id;
  char **chain_ids;          /* NULL-terminated, may be NULL */
  char **compressed_digests; /* the compressed blobs it was extracted from, may be NULL */
  char *media_type;          /* may be NULL, as content_digest */
  int64_t compressed_size;   /* -1 when unknown, as the next three */
  int64_t size;              /* uncompressed tar bytes */
  int64_t entries;
  int64_t created; /* seconds since the epoch */
  char *content_digest;
  int64_t content_format; /* of content_digest (ocip_treehash): 1 when the record names none */
  int64_t n_implied;      /* entries of implied (format 1: of impliedDirs); -1 when unknown */
  int64_t last_used;      /* read only: the mtime of meta.json (ocip_store_touch_layer) */
};

void ocip_layer_record_clear (struct ocip_layer_record *rec);

/* Write REC as LAYER_DIRFD/meta.json and IMPLIED (NULL-terminated, may be NULL) as
   LAYER_DIRFD/implied, the current format, into a work area that is not committed
   yet (ocip_store_begin_layer): not synced, not atomic, O_EXCL, no symlink followed.
   REC->version and REC->n_implied are ignored (written as the current version and the
   length of IMPLIED).  */
int ocip_records_layer_write_at (int layer_dirfd, const struct ocip_layer_record *rec, char *const *implied,
                                 ocip_error_t *err);
/* The same into the store's work area WORK_NAME (tmp/WORK_NAME).  */
int ocip_records_layer_write (struct ocip_store *store, const char *work_name, const struct ocip_layer_record *rec,
                              char *const *implied, ocip_error_t *err);

/* Read LAYER_DIRFD/meta.json (no symlink followed) into *RET (cleared by the caller
   with ocip_layer_record_clear; written only on success).  Errors name the file
   (WHAT, for messages, e.g. "layers/sha256-ab12…"): ENOENT absent, E2BIG over
   OCIP_LIMIT_LAYER_RECORD_SIZE, EINVAL damaged, EPROTONOSUPPORT a newer format.  The
   implied list is not read.  */
int ocip_records_layer_read_at (int layer_dirfd, const char *what, struct ocip_layer_record *ret, ocip_error_t *err);
/* The record of the committed layer DIFF_ID; EBADMSG if it names another diffID.  */
int ocip_records_layer_read (struct ocip_store *store, const struct ocip_digest *diff_id,
                             struct ocip_layer_record *ret, ocip_error_t *err);

/* STORE/overlay-xattrs: which xattrs the store's layers carry overlayfs' metadata in
   ("trusted\n" or "user\n"), so that a store made by root and one made by a user never
   mix: overlayfs mounted by root ignores user.overlay.*, and a user can neither write
   nor mount root's trusted.overlay.* layers.  A store from before the file existed
   was made by root (oci-prep only ran as root then).  */
#define OCIP_RECORDS_XATTRS_FILE "overlay-xattrs"

/* Read the store's record into *RET: ENOENT when there is none, EINVAL (naming the
   file) when it says anything else.  No symlink is followed.  */
int ocip_records_store_xattrs_read (int store_dirfd, enum ocip_ovlformat_xattrs *ret, ocip_error_t *err);
/* Write it (atomically, mode 0600).  */
int ocip_records_store_xattrs_write (int store_dirfd, enum ocip_ovlformat_xattrs xattrs, ocip_error_t *err);

/* Called for each implied directory (a relative path, borrowed for the call): a
   negative return stops the walk and is returned (with *ERR set).  */
typedef int (*ocip_records_implied_fn) (const char *path, void *ctx, ocip_error_t *err);

/* Stream the implied directories of the layer in LAYER_DIRFD to FN, one at a time,
   without holding the list: from LAYER_DIRFD/implied, or, for a format 1 record, from
   its meta.json.  The list is bounded by the layer's own limits (at most
   OCIP_LIMIT_IMPLIED_DIRS paths, each shorter than OCIP_LIMIT_PATH_LENGTH, else
   E2BIG), never by a record size.  A path that is empty, absolute, or not
   NUL-terminated at the end of the file is EINVAL naming the file.  */
int ocip_records_layer_implied_at (int layer_dirfd, const char *what, ocip_records_implied_fn fn, void *ctx,
                                   ocip_error_t *err);
int ocip_records_layer_implied (struct ocip_store *store, const struct ocip_digest *diff_id,
                                ocip_records_implied_fn fn, void *ctx, ocip_error_t *err);

/* The state of a bundle or hook rootfs: BUNDLE/.oci-prep/state.json, and the same
   record as its pin, STORE/bundles/<id>.json (the GC root).  */
struct ocip_state_record
{
  int64_t version;
  char *id;          /* [0-9a-f]+: the pin's name */
  char *bundle;      /* the bundle (or hook state) directory, absolute */
  char *store;       /* the store holding the pin, absolute */
  char *image;       /* may be NULL, as manifest */
  char *manifest;
  bool flat;         /* a flat copy (nothing mounted, nothing pinned), else an overlay */
  char *rootfs_path; /* absolute: where the overlay is mounted, or the copy */
  bool rootfs_created; /* the rootfs directory was made by oci-prep */
  bool complete;     /* false from before the first change until the bundle is whole */
  int64_t created;
  char **layers;     /* diffIDs pinned, bottom first (empty for flat), NULL-terminated */
  char *engine_bundle; /* hook state: the engine's bundle directory (absolute), else NULL */
  /* An ID-mapped rootfs: the container's user namespace mappings ("uidMappings",
     "gidMappings"; absent, as in records written before them: no mapping).  Host
     ranges of live pins are what --userns auto allocates around.  */
  struct ocip_idmap idmap;
};

void ocip_state_record_clear (struct ocip_state_record *rec);

/* Where the state lives in a bundle directory.  */
#define OCIP_RECORDS_STATE_FILE OCIP_STORE_STATE_DIR "/state.json"

/* Write REC (version: the current one) atomically as BUNDLE_DIRFD/.oci-prep/state.json
   (the directory exists).  EINVAL when a path is not UTF-8 (JSON cannot hold it).  */
int ocip_records_state_write (int bundle_dirfd, const struct ocip_state_record *rec, ocip_error_t *err);
/* Read BUNDLE_DIRFD/.oci-prep/state.json (no symlink followed) into *RET (id, store and
   rootfs_path always set): ENOENT when there is none, E2BIG over
   OCIP_LIMIT_STATE_RECORD_SIZE, EINVAL damaged (the message names the file),
   EPROTONOSUPPORT a newer format.  */
int ocip_records_state_read (int bundle_dirfd, struct ocip_state_record *ret, ocip_error_t *err);

/* Record REC as the pin bundles/<REC->id>.json, atomically.  The temporary file is
   bundles/.<id>.json.tmp.<pid>: a writer killed before the rename leaves that, which
   ocip_records_pin_remove of the same id and ocip_records_pin_clean remove.  The
   caller holds the store lock shared.  */
int ocip_records_pin_write (struct ocip_store *store, const struct ocip_state_record *rec, ocip_error_t *err);
/* Read the pin ID into *RET (RET->id is ID): ENOENT when absent; EINVAL damaged
   (naming the file; also when its bundle path is not absolute or a layer is not a
   digest).  Only "bundle" and "layers" are required of a pin.  */
int ocip_records_pin_read (struct ocip_store *store, const char *id, struct ocip_state_record *ret,
                           ocip_error_t *err);
/* Drop the pin ID and any file its writer left half-written.  Absent: success.  */
int ocip_records_pin_remove (struct ocip_store *store, const char *id, ocip_error_t *err);

/* The host ranges every pin's mapping holds, uid and gid apart, appended to *RET_TAKEN
   (owned by the caller; the lists are not checked for overlaps, container IDs are
   meaningless): what --userns auto must stay clear of.  A pin that cannot be read is an
   error (it may hold a range).  The caller holds the store lock exclusive, so that no
   pin is being written.  */
int ocip_records_pins_idmaps (struct ocip_store *store, struct ocip_idmap *ret_taken, ocip_error_t *err);

/* Whether NAME (an entry of bundles/) is a pin ("<hex>.json"; *RET_ID, optional, a new
   string) or a pin writer's leftover (".<hex>.json.tmp.<digits>").  */
bool ocip_records_is_pin_name (const char *name, char **ret_id);
bool ocip_records_is_pin_leftover (const char *name);

/* Remove every pin writer's leftover in bundles/: only under the store lock held
   exclusive (no writer is running).  *RET_REMOVED (optional) counts them.  */
int ocip_records_pin_clean (struct ocip_store *store, size_t *ret_removed, ocip_error_t *err);

#endif
