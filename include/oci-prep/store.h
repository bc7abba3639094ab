/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The layer store shared by every invocation: layout, locks, crash-safe commits. */
#ifndef OCIP_STORE_H
#define OCIP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oci-prep/digest.h>
#include <oci-prep/error.h>

/* store/
     layers/<alg>-<hex>/diff/       one extracted layer, overlay format
     layers/<alg>-<hex>/meta.json   the layer record (store/records.h)
     layers/<alg>-<hex>/implied     the directories the layer only implied
     locks/<alg>-<hex>              per-layer lock files (flock)
     l/<id> -> ../layers/<alg>-<hex>/diff   short names for mount(2) options
     bundles/<id>.json              the layers a live bundle pins (GC roots)
     hooks/<hash>/                  the state of a rootfs prepared by a runtime hook
     tmp/<alg>-<hex>.<random>/      extractions in progress
     tmp/<alg>-<hex>.gc-<random>    a layer being removed
     lock                           store-wide lock file
   A directory under layers/ exists only once its content was completely extracted,
   its diffID verified and the filesystem synced: it is renamed there from tmp/.
   The last use of a layer is the mtime of its meta.json.

   The store-wide lock keeps garbage collection away from bundles being made: a bundle
   holds it shared from the moment it looks for its layers until it is pinned (and its
   state written), and gc or fsck hold it exclusive while they decide and remove.  So
   under the exclusive lock every pin whose bundle has no state belongs to a creation
   that was interrupted.  */
struct ocip_store; /* opaque: the store module's own (store/store_private.h) */

/* Where oci-prep keeps what it owns in a bundle directory (and in a hook's state
   directory under STORE/hooks/): the state record, and an overlay's upper and work
   directories.  */
#define OCIP_STORE_STATE_DIR ".oci-prep"

/* The default store: OCI_PREP_STORE, else /var/lib/oci-prep for root, else
   $XDG_DATA_HOME/oci-prep or ~/.local/share/oci-prep.  A new string.  */
char *ocip_store_default_path (void);

/* Open (creating if needed, mode 0700: a store readable by others would expose the
   setuid binaries of its images, moby CVE-2021-41091) the store at PATH, or at the
   default path when PATH is NULL.  Leftovers in tmp/ whose layer lock is free (their
   owner died) are removed.  An existing store directory with group/other access is
   tightened to 0700.  *RET is owned by the caller (ocip_store_free).  */
int ocip_store_open (const char *path, struct ocip_store **ret, ocip_error_t *err);
void ocip_store_free (struct ocip_store *store);

/* The store's path as it was opened (borrowed, for messages and records).  */
const char *ocip_store_path (const struct ocip_store *store);

/* The store directory's fd (borrowed: valid until ocip_store_free), for what keeps its
   own files in the store (the verified-blob cache) and as the base that the short
   links l/<id> of overlay mount options are relative to.  */
int ocip_store_dirfd (const struct ocip_store *store);

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

static inline void
ocip_store_freep (struct ocip_store **s)
{
  ocip_store_free (*s);
}
#define cleanup_store __attribute__ ((cleanup (ocip_store_freep)))

#endif
