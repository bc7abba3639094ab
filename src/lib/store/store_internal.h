/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store's calls for the library's other stages (load, bundle, hook, gc): not exported. */
#ifndef OCIP_STORE_INTERNAL_H
#define OCIP_STORE_INTERNAL_H

#include <stdbool.h>

#include <oci-prep/digest.h>
#include <oci-prep/error.h>
#include <oci-prep/store.h>
#include "rootfs/ovlformat.h"

/* The store directory's fd (borrowed: valid until ocip_store_free), for what keeps its
   own files in the store (the verified-blob cache) and as the base that the short
   links l/<id> of overlay mount options are relative to.  */
int ocip_store_dirfd (const struct ocip_store *store);

/* Which xattrs the store's layers carry overlayfs' metadata in (checked against this
   process by ocip_store_open): what extraction writes and overlay mounts read.  */
enum ocip_ovlformat_xattrs ocip_store_xattrs (const struct ocip_store *store);

/* Create the directory hooks/NAME (and hooks/), mode 0700, if missing: where a runtime
   hook keeps the state of a rootfs it prepared.  NAME is one component.  */
int ocip_store_make_hook_dir (struct ocip_store *store, const char *name, ocip_error_t *err);

/* Remove the work areas tmp/<alg>-<hex>.* of layer DIFF_ID (best effort): the caller
   holds the layer's lock, so any there were left by a worker that died.  */
void ocip_store_discard_layer_work (struct ocip_store *store, const struct ocip_digest *diff_id);

/* The directory name of a layer: "<alg>-<hex>" (a new string).  */
char *ocip_store_layer_name (const struct ocip_digest *diff_id);

/* The diffID a directory name under layers/ stands for: false if NAME is not of the
   form "<alg>-<hex>" of a valid digest.  */
bool ocip_store_layer_from_name (const char *name, struct ocip_digest *ret);

/* Whether the layer DIFF_ID is committed.  */
bool ocip_store_has_layer (struct ocip_store *store, const struct ocip_digest *diff_id);

/* Open the committed layer's diff/ directory (O_PATH|O_DIRECTORY, caller owns it).
   ENOENT when absent.  */
int ocip_store_open_layer (struct ocip_store *store, const struct ocip_digest *diff_id, ocip_error_t *err);

/* Take the lock of layer DIFF_ID: blocking when WAIT, else EWOULDBLOCK when another
   process holds it.  Returns the lock fd (closing it releases the lock).  A lock file
   removed by its holder (with its layer) is never trusted: the lock is taken again on
   the file now at that name.  */
int ocip_store_lock_layer (struct ocip_store *store, const struct ocip_digest *diff_id, bool wait,
                           ocip_error_t *err);

/* Take the store-wide lock (the file STORE/lock, flock) shared, waiting for it: for a
   bundle from before it looks for its layers until its pin and state are written.  */
int ocip_store_lock_shared (struct ocip_store *store, ocip_error_t *err);
/* Take the store-wide lock exclusive: blocking when WAIT, else EWOULDBLOCK.  For gc and
   fsck, while they decide what to remove and remove it.  */
int ocip_store_lock_exclusive (struct ocip_store *store, bool wait, ocip_error_t *err);
/* Release the store-wide lock (a no-op when not held).  ocip_store_free releases it too.  */
void ocip_store_unlock (struct ocip_store *store);

/* Record that layer DIFF_ID was used now (the mtime of its meta.json), for gc's least
   recently used order.  Best effort: a layer that is absent or cannot be touched keeps
   its old time.  */
void ocip_store_touch_layer (struct ocip_store *store, const struct ocip_digest *diff_id);

/* Remove the committed layer DIFF_ID, crash-safe: layers/<alg>-<hex> is renamed to
   tmp/<alg>-<hex>.gc-<random> (it disappears at once and for good; a crash leaves a
   work area that the next ocip_store_open removes), then deleted, and its lock file
   removed.  The caller holds the layer's lock and, so that no bundle can be relying on
   it, the store-wide lock exclusive.  An absent layer is success.  */
int ocip_store_remove_layer (struct ocip_store *store, const struct ocip_digest *diff_id, ocip_error_t *err);

/* The same for NAME, an entry of layers/ that is not a layer (a foreign or damaged
   entry).  The caller holds the store-wide lock exclusive.  */
int ocip_store_remove_junk (struct ocip_store *store, const char *name, ocip_error_t *err);

/* Remove work areas of tmp/ whose owner died (their layer lock is free), as
   ocip_store_open does.  *RET_REMOVED (optional) counts them.  */
int ocip_store_clean_tmp (struct ocip_store *store, size_t *ret_removed, ocip_error_t *err);

/* A work area for extracting DIFF_ID: tmp/<alg>-<hex>.XXXXXX with an empty diff/
   inside.  The caller must hold the layer lock.  *RET_NAME (owned by the caller) is
   the work area's name under tmp/; *RET_DIFF_FD an fd of its diff/ directory.  */
int ocip_store_begin_layer (struct ocip_store *store, const struct ocip_digest *diff_id, char **ret_name,
                            int *ret_diff_fd, ocip_error_t *err);

/* Make everything written so far durable: one syncfs of the store's filesystem, for a
   whole batch of work areas, before any of them is committed.  */
int ocip_store_sync (struct ocip_store *store, ocip_error_t *err);

/* Commit a synced work area as layer DIFF_ID (rename into layers/).  EEXIST if it
   is there already (the work area is then discarded).  */
int ocip_store_commit_layer (struct ocip_store *store, const char *work_name, const struct ocip_digest *diff_id,
                             ocip_error_t *err);

/* A short name for the committed layer DIFF_ID's diff/ directory, for mount options
   that must fit in a page: the symlink l/<id> -> ../layers/<alg>-<hex>/diff, created
   if missing.  *RET (owned by the caller) is "l/<id>", relative to the store.  */
int ocip_store_short_link (struct ocip_store *store, const struct ocip_digest *diff_id, char **ret,
                           ocip_error_t *err);

/* Remove a work area (after a failure).  */
int ocip_store_discard (struct ocip_store *store, const char *work_name, ocip_error_t *err);

#endif
