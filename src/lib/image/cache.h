/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Caches that only save work: verified documents in process, verified blobs across runs. */
#ifndef OCIP_CACHE_H
#define OCIP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <oci-prep/digest.h>
#include <oci-prep/error.h>

/* Both caches are pure speed-ups; --no-cache turns them off for the process.  */
void ocip_cache_set_enabled (bool enabled);
bool ocip_cache_enabled (void);

/* In-process LRU (bounded by entries and bytes) of documents (indexes, manifests,
   configs) already read and verified, keyed by digest, for invocations that handle many
   images.  get: a copy owned by the caller, or false.  Thread-safe.  */
bool ocip_cache_document_get (const struct ocip_digest *d, char **ret, size_t *ret_len);
void ocip_cache_document_put (const struct ocip_digest *d, const char *buf, size_t len);

/* Across invocations: blobs verified before and unchanged since (same device, inode,
   size, mtime and ctime; ctime cannot be set back from user space, so any change to
   the file shows) need not be hashed again.  Kept in STORE_DIR/cache/verified-blobs,
   one line per blob, appended; unreadable lines are ignored.  */
struct ocip_verified_cache;

/* Open the cache of the store directory STORE_DIR (a missing file is an empty cache).
   *RET owned by the caller.  */
int ocip_verified_cache_open (int store_dirfd, struct ocip_verified_cache **ret, ocip_error_t *err);
/* Whether D was verified as the file ST describes.  Thread-safe.  */
bool ocip_verified_cache_hit (struct ocip_verified_cache *c, const struct ocip_digest *d, const struct stat *st);
/* Remember that D verified as the file ST describes (written by ..._save).  Thread-safe.  */
void ocip_verified_cache_add (struct ocip_verified_cache *c, const struct ocip_digest *d, const struct stat *st);
/* The cache blob reads of this process consult and feed (ocip_blob_read_all): a
   command that has a store sets it for its duration; NULL: none.  */
void ocip_cache_set_verified (struct ocip_verified_cache *c);
struct ocip_verified_cache *ocip_cache_verified (void);

/* Append what was added.  */
int ocip_verified_cache_save (struct ocip_verified_cache *c, ocip_error_t *err);
void ocip_verified_cache_free (struct ocip_verified_cache *c);

#endif
