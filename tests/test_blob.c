/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The blob reader: declared size and digest enforced while streaming, file types refused. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/blob.h"

#include "fixture.h"
#include "testutil.h"

static char *dir;
static int dirfd = -1;

static void
setup (void)
{
  dir = fx_mkdtemp ();
  fx_layout_init (dir);
  dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  FX_CHECK (dirfd >= 0);
}

static void
teardown (void)
{
  close (dirfd);
  fx_rm_rf (dir);
  free (dir);
}

TestSuite (blob, .init = setup, .fini = teardown);

static struct ocip_descriptor
put (const char *alg, const char *data, size_t len, struct fx_desc *fx)
{
  struct ocip_descriptor d = { .media_type = (char *) "application/octet-stream" };
  ocip_error_t err = NULL;

  fx_blob_put (dir, alg, "application/octet-stream", data, len, fx);
  cr_assert_eq (ocip_digest_parse (fx->digest, &d.digest, &err), 0);
  d.size = fx->size;
  return d;
}

/* Read the whole blob in CHUNK-sized reads; returns the final status.  */
static int
read_chunks (const struct ocip_descriptor *d, size_t chunk, size_t *ret_total, ocip_error_t *err)
{
  struct ocip_blob *b = NULL;
  char buf[64];
  ssize_t n;
  int r;

  *ret_total = 0;
  if ((r = ocip_blob_open (dirfd, NULL, d, &b, err)) < 0)
    return r;
  while ((n = ocip_blob_read (b, buf, chunk, err)) > 0)
    *ret_total += n;
  ocip_blob_close (b);
  return (int) n;
}

Test (blob, exact_blob_reads_in_any_chunk_size)
{
  struct fx_desc fx;
  struct ocip_descriptor d = put ("sha256", "hello, blob", 11, &fx);
  ocip_error_t err = NULL;
  size_t total, chunk;

  for (chunk = 1; chunk <= 64; chunk *= 2)
    {
      cr_assert_eq (read_chunks (&d, chunk, &total, &err), 0, "chunk %zu: %s", chunk, err ? err->msg : "");
      cr_assert_eq (total, 11);
    }
}

Test (blob, empty_and_sha512)
{
  struct fx_desc fx;
  struct ocip_descriptor e = put ("sha256", "", 0, &fx);
  struct ocip_descriptor s = put ("sha512", "x", 1, &fx);
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_blob_verify (NULL, dirfd, NULL, &e, NULL, &err), 0);
  cr_assert_eq (ocip_blob_verify (NULL, dirfd, NULL, &s, NULL, &err), 0, "%s", err ? err->msg : "");
}

Test (blob, longer_shorter_and_mismatch)
{
  struct fx_desc fx;
  struct ocip_descriptor d = put ("sha256", "0123456789", 10, &fx);
  char *path = fx_blob_path (dir, fx.digest);
  ocip_error_t err = NULL;
  size_t total;

  fx_write_file (path, "0123456789A", 11);
  cr_assert_eq (read_chunks (&d, 4, &total, &err), -EBADMSG);
  cr_assert (strstr (err->msg, "longer than its declared size of 10 bytes"), "%s", err->msg);
  cr_assert (strstr (err->msg, fx.digest), "%s", err->msg);
  cr_assert_eq (total, 10, "never more than the declared size is returned");
  ocip_error_release (&err);

  fx_write_file (path, "012345678", 9);
  cr_assert_eq (read_chunks (&d, 4, &total, &err), -EBADMSG);
  cr_assert (strstr (err->msg, "shorter than its declared size: 9 of 10 bytes"), "%s", err->msg);
  ocip_error_release (&err);

  fx_write_file (path, "0123456788", 10);
  cr_assert_eq (read_chunks (&d, 64, &total, &err), -EBADMSG);
  cr_assert (strstr (err->msg, "digest mismatch"), "%s", err->msg);
  ocip_error_release (&err);
  free (path);
}

Test (blob, read_all_limit_before_reading)
{
  struct fx_desc fx;
  struct ocip_descriptor d = put ("sha256", "0123456789", 10, &fx);
  ocip_error_t err = NULL;
  char *buf = NULL;
  size_t len;

  cr_assert_eq (ocip_blob_read_all (NULL, dirfd, NULL, &d, 9, &buf, &len, &err), -E2BIG);
  cr_assert (strstr (err->msg, "over the limit of 9 bytes"), "%s", err->msg);
  ocip_error_release (&err);
  cr_assert_eq (ocip_blob_read_all (NULL, dirfd, NULL, &d, 10, &buf, &len, &err), 0);
  cr_assert_eq (len, 10);
  cr_assert_str_eq (buf, "0123456789");
  free (buf);
}

Test (blob, missing_symlink_fifo_directory)
{
  struct fx_desc fx;
  struct ocip_descriptor d = put ("sha256", "data", 4, &fx);
  char *path = fx_blob_path (dir, fx.digest);
  ocip_error_t err = NULL;
  size_t total;

  unlink (path);
  cr_assert_eq (read_chunks (&d, 8, &total, &err), -ENOENT);
  cr_assert (strstr (err->msg, "missing from the layout"), "%s", err->msg);
  ocip_error_release (&err);

  /* A symlink to a file that has the right content is still refused.  */
  {
    char *other;
    FX_CHECK (asprintf (&other, "%s/outside", dir) > 0);
    fx_write_file (other, "data", 4);
    FX_CHECK (symlink (other, path) == 0);
    cr_assert_eq (read_chunks (&d, 8, &total, &err), -ELOOP);
    cr_assert (strstr (err->msg, "is a symlink"), "%s", err->msg);
    ocip_error_release (&err);
    unlink (path);
    free (other);
  }

  FX_CHECK (mkfifo (path, 0600) == 0);
  cr_assert_eq (read_chunks (&d, 8, &total, &err), -EINVAL, "a FIFO must not block or be read");
  cr_assert (strstr (err->msg, "not a regular file"), "%s", err->msg);
  ocip_error_release (&err);
  unlink (path);

  FX_CHECK (mkdir (path, 0755) == 0);
  cr_assert_eq (read_chunks (&d, 8, &total, &err), -EINVAL);
  ocip_error_release (&err);
  free (path);
}

/* A character device in place of a blob: refused without its driver's open() being
   called (CVE-2024-9676), whether read in chunks or whole.  */
Test (blob, device_node_is_refused_without_being_opened)
{
  struct fx_desc fx;
  struct ocip_descriptor d = put ("sha256", "data", 4, &fx);
  char *path = fx_blob_path (dir, fx.digest);
  int watch = tu_device_watched (path);
  ocip_error_t err = NULL;
  size_t total;
  char *buf = NULL;
  int r;

  r = read_chunks (&d, 8, &total, &err);
  cr_assert_eq (tu_opens (watch), 0, "the device node was opened");
  cr_assert_eq (r, -EINVAL);
  cr_assert (strstr (err->msg, "is a character device, not a regular file"), "%s", err->msg);
  ocip_error_release (&err);
  r = ocip_blob_read_all (NULL, dirfd, NULL, &d, 64, &buf, &total, &err);
  cr_assert_eq (tu_opens (watch), 0, "the device node was opened by read_all");
  cr_assert_eq (r, -EINVAL);
  ocip_error_release (&err);
  cr_assert_null (buf);
  close (watch);
  free (path);
}

Test (blob, symlinked_blobs_directory_stays_inside_the_layout)
{
  struct fx_desc fx;
  struct ocip_descriptor d = put ("sha256", "data", 4, &fx);
  char *blobs, *sha, *outside;
  ocip_error_t err = NULL;
  size_t total;

  /* blobs/sha256 -> /tmp/...outside (absolute): resolved inside the layout, so the
     outside copy of the blob is never reached.  */
  FX_CHECK (asprintf (&blobs, "%s/blobs/sha256", dir) > 0);
  FX_CHECK (asprintf (&sha, "%s/blobs/real", dir) > 0);
  FX_CHECK (asprintf (&outside, "%s-outside", dir) > 0);
  FX_CHECK (rename (blobs, sha) == 0);
  fx_mkdir_p (outside);
  {
    char *copy;
    FX_CHECK (asprintf (&copy, "%s/%s", outside, fx.digest + 7) > 0);
    fx_write_file (copy, "data", 4);
    free (copy);
  }
  FX_CHECK (symlink (outside, blobs) == 0);
  cr_assert_lt (read_chunks (&d, 8, &total, &err), 0, "a blob outside the layout was read");
  ocip_error_release (&err);
  fx_rm_rf (outside);
  free (blobs);
  free (sha);
  free (outside);
}
