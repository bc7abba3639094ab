/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading blobs of a layout with their declared size and digest enforced. */
#ifndef OCIP_BLOB_H
#define OCIP_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "image/cache.h"

#include <oci-prep/error.h>
#include <oci-prep/image.h>

struct ocip_blob;

/* Open the blob DESC names under the layout directory LAYOUT_DIRFD
   ("blobs/<alg>/<hex>", built only from the validated digest).  The parents resolve
   inside the layout (ocip_fsroot); the blob itself must be a regular file and is never a
   followed symlink (ELOOP), nor a FIFO, device or directory (EINVAL).  A missing blob is
   ENOENT.  Returns 0 and a reader owned by the caller, or a negative errno with *ERR set;
   every message names the digest.  */
int ocip_blob_open (int layout_dirfd, const struct ocip_descriptor *desc, struct ocip_blob **ret, ocip_error_t *err);

/* Read up to LEN bytes.  Returns the count (> 0), or 0 at the end once the blob proved
   to be exactly DESC's size with DESC's digest, or a negative errno: EBADMSG when the
   blob is shorter or longer than declared or its digest differs, else the read error.
   Bytes already returned before such an error must be discarded by the caller.  */
ssize_t ocip_blob_read (struct ocip_blob *b, void *buf, size_t len, ocip_error_t *err);
void ocip_blob_close (struct ocip_blob *b);

/* fstat of the open blob.  */
int ocip_blob_fstat (struct ocip_blob *b, struct stat *ret, ocip_error_t *err);

/* Read and verify a whole blob into memory.  A declared size over MAX is E2BIG before
   anything is read.  A document verified before in this process comes from the
   in-process cache (ocip_cache_document_get); one the process's verified-blob cache
   (ocip_cache_verified) vouches for is read without hashing.  *RET (NUL-terminated, *RET_LEN bytes) is
   owned by the caller.  */
int ocip_blob_read_all (int layout_dirfd, const struct ocip_descriptor *desc, size_t max, char **ret,
                        size_t *ret_len, ocip_error_t *err);

/* Read a whole blob and check its size and digest, unless CACHE (may be NULL) knows it
   verified and unchanged since (*RET_CACHED, optional, says so); a verified blob is
   added to CACHE.  */
int ocip_blob_verify (int layout_dirfd, const struct ocip_descriptor *desc, struct ocip_verified_cache *cache,
                      bool *ret_cached, ocip_error_t *err);

static inline void
ocip_blob_closep (struct ocip_blob **b)
{
  ocip_blob_close (*b);
}
#define cleanup_blob __attribute__ ((cleanup (ocip_blob_closep)))

#endif
