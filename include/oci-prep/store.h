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

/* The default store: OCI_PREP_STORE, else /var/lib/oci-prep for root (of the initial
   user namespace), else $XDG_DATA_HOME/oci-prep or ~/.local/share/oci-prep (a user,
   root of any other user namespace too).  A new string.  */
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

static inline void
ocip_store_freep (struct ocip_store **s)
{
  ocip_store_free (*s);
}
#define cleanup_store __attribute__ ((cleanup (ocip_store_freep)))

#endif
