/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming blob reader: the declared size and digest hold, or the read fails. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/blob.h"
#include <oci-prep/cleanup.h>
#include "base/fsutil.h"

struct ocip_blob
{
  int fd;
  bool own_fd;      /* false: the archive's fd, read with pread at BASE */
  int64_t base;     /* where the blob starts in FD */
  int64_t avail;    /* an archive member's size; -1: a file, read to its end */
  const char *mem;  /* a document an archive synthesised, or NULL */
  struct ocip_digest expected;
  int64_t size;
  int64_t offset;
  struct ocip_hasher *hasher;
  bool done;
};

int
ocip_blob_open (int layout_dirfd, const struct ocip_archive *archive, const struct ocip_descriptor *desc,
                struct ocip_blob **ret, ocip_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;
  struct ocip_blob *b;

  if (desc->unsupported_digest)
    return ocip_error_fail (err, ENOTSUP, "blob '%s': unsupported digest algorithm, it cannot be verified",
                            desc->unsupported_digest);
  if (archive)
    {
      struct ocip_archive_range range;
      int r;

      if ((r = ocip_archive_find_blob (archive, &desc->digest, &range, err)) < 0)
        return r;
      b = xzalloc (sizeof *b);
      b->fd = range.fd;
      b->base = range.offset;
      b->avail = range.size;
      b->mem = range.mem;
      b->expected = desc->digest;
      b->size = desc->size;
      *ret = b;
      return 0;
    }
  path = xasprintf ("blobs/%s/%s", ocip_digest_alg_name (desc->digest.alg), ocip_digest_hex (&desc->digest));

  /* A device node in blobs/ is refused without its driver's open() being called.  */
  fd = ocip_open_regular_at (layout_dirfd, path, OCIP_OPEN_IN_ROOT | OCIP_OPEN_NOFOLLOW, NULL, err);
  if (fd < 0)
    {
      if ((*err)->status == ENOENT)
        {
          ocip_error_release (err);
          return ocip_error_fail (err, ENOENT, "blob '%s': missing from the layout", desc->digest.str);
        }
      if ((*err)->status == ELOOP)
        {
          ocip_error_release (err);
          return ocip_error_fail (err, ELOOP, "blob '%s': is a symlink, not a regular file", desc->digest.str);
        }
      return ocip_error_wrap (err, "blob '%s'", desc->digest.str);
    }
  posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  b = xzalloc (sizeof *b);
  b->fd = steal_fd (&fd);
  b->own_fd = true;
  b->avail = -1;
  b->expected = desc->digest;
  b->size = desc->size;
  *ret = b;
  return 0;
}

/* The hasher is made on first use: a blob the verified-blob cache vouches for is read
   without one, and the warm path never initialises libcrypto.  */
static struct ocip_hasher *
hasher (struct ocip_blob *b)
{
  if (b->hasher == NULL)
    b->hasher = ocip_hasher_new (b->expected.alg);
  return b->hasher;
}

static int
finish (struct ocip_blob *b, ocip_error_t *err)
{
  struct ocip_digest actual;
  char extra;
  ssize_t n;

  /* One byte past the declared size tells a longer blob from an exact one.  */
  if (b->avail >= 0)
    n = b->avail > b->size;
  else
    {
      do
        n = read (b->fd, &extra, 1);
      while (n < 0 && errno == EINTR);
      if (n < 0)
        return ocip_error_set (err, errno, "blob '%s': read", b->expected.str);
    }
  if (n > 0)
    return ocip_error_fail (err, EBADMSG, "blob '%s': longer than its declared size of %lld bytes", b->expected.str,
                           (long long) b->size);
  ocip_hasher_final (hasher (b), &actual);
  if (! ocip_digest_equal (&actual, &b->expected))
    return ocip_error_fail (err, EBADMSG, "blob '%s': digest mismatch: content hashes to '%s'", b->expected.str,
                           actual.str);
  b->done = true;
  return 0;
}

ssize_t
ocip_blob_read (struct ocip_blob *b, void *buf, size_t len, ocip_error_t *err)
{
  int64_t left = b->size - b->offset;
  ssize_t n;

  if (b->done)
    return 0;
  if (left == 0)
    return finish (b, err);
  if ((int64_t) len > left)
    len = left;
  if (b->avail >= 0 && (int64_t) len > b->avail - b->offset)
    len = b->avail - b->offset;
  if (b->mem)
    {
      memcpy (buf, b->mem + b->offset, len);
      n = len;
    }
  else
    do
      n = b->avail >= 0 ? pread (b->fd, buf, len, b->base + b->offset) : read (b->fd, buf, len);
    while (n < 0 && errno == EINTR);
  if (n < 0)
    return ocip_error_set (err, errno, "blob '%s': read", b->expected.str);
  if (n == 0)
    return ocip_error_fail (err, EBADMSG, "blob '%s': shorter than its declared size: %lld of %lld bytes",
                           b->expected.str, (long long) b->offset, (long long) b->size);
  ocip_hasher_update (hasher (b), buf, n);
  b->offset += n;
  return n;
}

void
ocip_blob_close (struct ocip_blob *b)
{
  if (b == NULL)
    return;
  if (b->own_fd)
    close (b->fd);
  ocip_hasher_free (b->hasher);
  free (b);
}

int
ocip_blob_read_all (struct ocip_context *ctx, int layout_dirfd, const struct ocip_archive *archive,
                    const struct ocip_descriptor *desc, size_t max, char **ret, size_t *ret_len, ocip_error_t *err)
{
  struct ocip_document_cache *documents = ocip_context_documents (ctx);
  struct ocip_verified_cache *verified = ocip_context_verified (ctx);
  cleanup_blob struct ocip_blob *b = NULL;
  cleanup_free char *buf = NULL;
  struct stat st = { 0 };
  size_t len = 0;
  ssize_t n;
  int r;

  if (desc->size > (int64_t) max)
    return ocip_error_fail (err, E2BIG, "blob '%s': size %lld is over the limit of %zu bytes", desc->digest.str,
                           (long long) desc->size, max);
  {
    /* Outputs are written only on success: a cached copy of another size is no answer.  */
    char *cached = NULL;
    size_t cached_len = 0;
    if (ocip_document_cache_get (documents, &desc->digest, &cached, &cached_len))
      {
        if ((int64_t) cached_len == desc->size)
          {
            *ret = cached;
            *ret_len = cached_len;
            return 0;
          }
        free (cached);
      }
  }
  if ((r = ocip_blob_open (layout_dirfd, archive, desc, &b, err)) < 0
      || (! archive && (r = ocip_blob_fstat (b, &st, err)) < 0))
    return r;
  buf = xmalloc (desc->size + 1);
  /* An archive member has no identity of its own for the verified-blob cache: it is
     hashed every time.  */
  if (! archive && st.st_size == desc->size && ocip_verified_cache_hit (verified, &desc->digest, &st))
    {
      /* Verified before, unchanged since: its exact size is all there is to check.  */
      while (len < (size_t) desc->size && (n = pread (b->fd, buf + len, desc->size - len, len)) > 0)
        len += n;
      if (len != (size_t) desc->size)
        return ocip_error_fail (err, EBADMSG, "blob '%s': changed while read", desc->digest.str);
    }
  else
    {
      while ((n = ocip_blob_read (b, buf + len, desc->size - len, err)) > 0)
        len += n;
      if (n < 0)
        return n;
      if (! archive)
        ocip_verified_cache_add (verified, &desc->digest, &st);
    }
  buf[len] = '\0';
  ocip_document_cache_put (documents, &desc->digest, buf, len);
  *ret = steal_pointer (&buf);
  *ret_len = len;
  return 0;
}

int
ocip_blob_fstat (struct ocip_blob *b, struct stat *ret, ocip_error_t *err)
{
  if (fstat (b->fd, ret) < 0)
    return ocip_error_set (err, errno, "blob '%s': stat", b->expected.str);
  return 0;
}

int
ocip_blob_verify (struct ocip_context *ctx, int layout_dirfd, const struct ocip_archive *archive,
                  const struct ocip_descriptor *desc, bool *ret_cached, ocip_error_t *err)
{
  struct ocip_verified_cache *cache = ocip_context_verified (ctx);
  cleanup_blob struct ocip_blob *b = NULL;
  cleanup_free char *buf = NULL;
  struct stat st = { 0 };
  ssize_t n;
  int r;

  if (ret_cached)
    *ret_cached = false;
  if ((r = ocip_blob_open (layout_dirfd, archive, desc, &b, err)) < 0
      || (! archive && (r = ocip_blob_fstat (b, &st, err)) < 0))
    return r;
  if (! archive && st.st_size == desc->size && ocip_verified_cache_hit (cache, &desc->digest, &st))
    {
      if (ret_cached)
        *ret_cached = true;
      return 0;
    }
  buf = xmalloc (1 << 20);
  while ((n = ocip_blob_read (b, buf, 1 << 20, err)) > 0)
    ;
  if (n < 0)
    return (int) n;
  if (! archive)
    ocip_verified_cache_add (cache, &desc->digest, &st);
  return 0;
}
