/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Caches that only save work: verified documents in memory, verified blobs across runs. */
#ifndef OCIP_CACHE_H
#define OCIP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <oci-prep/digest.h>
#include <oci-prep/error.h>

/* Both caches are pure speed-ups, owned by a context (ocip_context_new), never by the
   process: two contexts, one with caching and one without, do not see each other's.
   Every function below takes a NULL cache as "no cache": a miss, or nothing done.  */

/* A memory LRU (bounded by entries and bytes) of documents (indexes, manifests,
   configs) already read and verified, keyed by digest, for invocations that handle
   many images.  Thread-safe.  */
struct ocip_document_cache;

struct ocip_document_cache *ocip_document_cache_new (void);
/* A copy (NUL-terminated, *RET_LEN bytes) owned by the caller, or false.  */
bool ocip_document_cache_get (struct ocip_document_cache *c, const struct ocip_digest *d, char **ret,
                              size_t *ret_len);
void ocip_document_cache_put (struct ocip_document_cache *c, const struct ocip_digest *d, const char *buf,
                              size_t len);
void ocip_document_cache_free (struct ocip_document_cache *c);

/* Across invocations: blobs verified before and unchanged since (same device, inode,
   size, mtime and ctime; ctime cannot be set back from user space, so any change to
   the file shows) need not be hashed again.  Kept in STORE_DIR/cache/verified-blobs,
   one line per blob, appended; unreadable lines are ignored.  */
struct ocip_verified_cache;

/* Open the cache of the store directory STORE_DIRFD (a missing file is an empty cache;
   the directory cache/ is created).  STORE_DIRFD is borrowed: it must stay open until
   ocip_verified_cache_free.  *RET owned by the caller.  Errors: the errno of mkdirat.  */
int ocip_verified_cache_open (int store_dirfd, struct ocip_verified_cache **ret, ocip_error_t *err);
/* Whether D was verified as the file ST describes.  Thread-safe.  */
bool ocip_verified_cache_hit (struct ocip_verified_cache *c, const struct ocip_digest *d, const struct stat *st);
/* Remember that D verified as the file ST describes (written by ..._save).  Thread-safe.  */
void ocip_verified_cache_add (struct ocip_verified_cache *c, const struct ocip_digest *d, const struct stat *st);
/* Append what was added since the last save (O_APPEND: processes saving at once keep
   each other's lines); nothing is written when nothing was added.  Not a symlink
   follower (O_NOFOLLOW).  */
int ocip_verified_cache_save (struct ocip_verified_cache *c, ocip_error_t *err);
void ocip_verified_cache_free (struct ocip_verified_cache *c);

#endif
