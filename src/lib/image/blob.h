/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading blobs of a layout with their declared size and digest enforced. */
#ifndef OCIP_BLOB_H
#define OCIP_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/context.h"

#include <oci-prep/error.h>
#include <oci-prep/image.h>

struct ocip_blob;
struct ocip_archive;

/* Open the blob DESC names under the layout directory LAYOUT_DIRFD
   ("blobs/<alg>/<hex>", built only from the validated digest), or, when ARCHIVE is not
   NULL, in that archive (ocip_archive_find_blob: a member, never a link, read in place
   with pread, so readers on several threads may share the archive; ARCHIVE must
   outlive the reader).  The parents resolve
   inside the layout (ocip_fsroot); the blob itself must be a regular file and is never a
   followed symlink (ELOOP), nor a FIFO, device or directory (EINVAL).  A missing blob is
   ENOENT.  Returns 0 and a reader owned by the caller, or a negative errno with *ERR set;
   every message names the digest.  */
int ocip_blob_open (int layout_dirfd, const struct ocip_archive *archive, const struct ocip_descriptor *desc,
                    struct ocip_blob **ret, ocip_error_t *err);

/* Read up to LEN bytes.  Returns the count (> 0), or 0 at the end once the blob proved
   to be exactly DESC's size with DESC's digest, or a negative errno: EBADMSG when the
   blob is shorter or longer than declared or its digest differs, else the read error.
   Bytes already returned before such an error must be discarded by the caller.  */
ssize_t ocip_blob_read (struct ocip_blob *b, void *buf, size_t len, ocip_error_t *err);
void ocip_blob_close (struct ocip_blob *b);

/* fstat of the open blob (a layout file's, not an archive's).  */
int ocip_blob_fstat (struct ocip_blob *b, struct stat *ret, ocip_error_t *err);

/* Read and verify a whole blob into memory.  A declared size over MAX is E2BIG before
   anything is read.  A document CTX (may be NULL: no caches) verified before comes
   from its document cache; one its verified-blob cache vouches for is read without
   hashing, and one hashed here is added to both.  *RET (NUL-terminated, *RET_LEN
   bytes) is owned by the caller.  Errors and symlinks as ocip_blob_open and
   ocip_blob_read.  A blob of an ARCHIVE is always hashed (the verified-blob cache
   knows files, not members).  */
int ocip_blob_read_all (struct ocip_context *ctx, int layout_dirfd, const struct ocip_archive *archive,
                        const struct ocip_descriptor *desc, size_t max, char **ret, size_t *ret_len,
                        ocip_error_t *err);

/* Read a whole blob and check its size and digest, unless the verified-blob cache of
   CTX (may be NULL: none) knows it verified and unchanged since (*RET_CACHED,
   optional, says so); a verified blob is added to that cache.  */
int ocip_blob_verify (struct ocip_context *ctx, int layout_dirfd, const struct ocip_archive *archive,
                      const struct ocip_descriptor *desc, bool *ret_cached, ocip_error_t *err);

static inline void
ocip_blob_closep (struct ocip_blob **b)
{
  ocip_blob_close (*b);
}
#define cleanup_blob __attribute__ ((cleanup (ocip_blob_closep)))

#endif
