/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: gzip, zstd and plain layer streams decoded with ocip_decompress, read two ways and compared. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include "extract/decompress.h"
#include <oci-prep/digest.h>

#include "fuzz_common.h"

/* Each input is decoded as gzip, zstd and plain, twice: once with large reads on both
   sides, once with the source and the reader using small uneven pieces.  The two must
   agree (same bytes, or the same error class): how a stream is cut into reads may not
   change what it means.  Gzip is decoded a third time with zlib when ISA-L is the
   default inflater, and the two inflaters must agree too.  Output past OUTPUT_CAP is not looked at, so a small bomb
   cannot make one input take seconds.  */
#define OUTPUT_CAP (1u << 20)

struct source
{
  const uint8_t *data;
  size_t size, pos;
  bool small;
};

static ssize_t
read_input (void *ctx, void *buf, size_t len, ocip_error_t *err)
{
  struct source *s = ctx;
  size_t n = s->size - s->pos;

  FUZZ_CHECK (len > 0, "the decoder asked its source for 0 bytes");
  if (n > len)
    n = len;
  if (s->small && n > 1 + s->pos % 7)
    n = 1 + s->pos % 7;
  memcpy (buf, s->data + s->pos, n);
  s->pos += n;
  return n;
}

struct result
{
  int status; /* 0, or the error class */
  bool capped;
  size_t len; /* bytes, up to OUTPUT_CAP */
  struct ocip_digest digest;
};

static void
decode (enum ocip_compression c, const uint8_t *data, size_t size, bool small, struct result *res)
{
  static unsigned char buf[1 << 16];
  cleanup_decompress struct ocip_decompress *d = NULL;
  cleanup_hasher struct ocip_hasher *h = ocip_hasher_new (OCIP_DIGEST_SHA256);
  struct source src = { data, size, 0, small };
  ocip_error_t err = NULL;
  unsigned turn = 0;
  ssize_t n;

  memset (res, 0, sizeof *res);
  if (fuzz_check_result ("ocip_decompress_new", ocip_decompress_new (c, read_input, &src, &d, &err), &err) < 0)
    fuzz_fail (__FILE__, __LINE__, "new", "cannot set up compression %d", (int) c);
  for (;;)
    {
      size_t want = small ? 1 + (turn++ * 37) % 4099 : sizeof buf;
      n = fuzz_check_result ("ocip_decompress_read", ocip_decompress_read (d, buf, want, &err), &err);
      if (n <= 0)
        break;
      FUZZ_CHECK ((size_t) n <= want, "read %zd bytes into %zu", n, want);
      if (res->len + n > OUTPUT_CAP)
        {
          ocip_hasher_update (h, buf, OUTPUT_CAP - res->len);
          res->len = OUTPUT_CAP;
          res->capped = true;
          break;
        }
      ocip_hasher_update (h, buf, n);
      res->len += n;
    }
  ocip_hasher_final (h, &res->digest);
  if (res->capped)
    return;
  if (n == 0)
    {
      /* The end is sticky, and comes only once the source is exhausted.  */
      FUZZ_CHECK (src.pos == size, "end of stream with %zu input bytes unread", size - src.pos);
      n = fuzz_check_result ("ocip_decompress_read", ocip_decompress_read (d, buf, 1, &err), &err);
      FUZZ_CHECK (n == 0, "a read after the end returned %zd", n);
      return;
    }
  /* An error is sticky, with the same class.  */
  res->status = (int) -n;
  n = fuzz_check_result ("ocip_decompress_read", ocip_decompress_read (d, buf, 1, &err), &err);
  FUZZ_CHECK (n == -res->status, "a read after error %d returned %zd", res->status, n);
}

#ifdef HAVE_ISAL
/* Gzip has two inflaters (ISA-L when built with it, zlib), picked per decoder from
   OCI_PREP_INFLATE: they must agree on every stream, as to its bytes and as to the class
   of its error.  */
static void
compare_inflaters (const uint8_t *data, size_t size, const struct result *isal)
{
  struct result zlib;

  setenv ("OCI_PREP_INFLATE", "zlib", 1);
  decode (OCIP_COMPRESSION_GZIP, data, size, false, &zlib);
  unsetenv ("OCI_PREP_INFLATE");
  if (isal->capped || zlib.capped)
    {
      if (isal->capped && zlib.capped)
        FUZZ_CHECK (ocip_digest_equal (&isal->digest, &zlib.digest), "gzip: ISA-L and zlib differ in the first %u bytes",
                    OUTPUT_CAP);
      return;
    }
  FUZZ_CHECK (isal->status == zlib.status, "gzip: ISA-L gives status %d, zlib %d", isal->status, zlib.status);
  if (isal->status == 0)
    FUZZ_CHECK (isal->len == zlib.len && ocip_digest_equal (&isal->digest, &zlib.digest),
                "gzip: ISA-L gives %zu bytes, zlib %zu (or other bytes)", isal->len, zlib.len);
}
#endif

static void
compare (enum ocip_compression c, const uint8_t *data, size_t size)
{
  struct result big, small;

  decode (c, data, size, false, &big);
  decode (c, data, size, true, &small);
#ifdef HAVE_ISAL
  if (c == OCIP_COMPRESSION_GZIP)
    compare_inflaters (data, size, &big);
#endif
  if (big.capped || small.capped)
    {
      /* Both saw at least OUTPUT_CAP bytes, unless one failed before: then the first
         OUTPUT_CAP bytes cannot be compared, as bytes before an error are void.  */
      if (big.capped && small.capped)
        FUZZ_CHECK (ocip_digest_equal (&big.digest, &small.digest), "%s: the first %u bytes differ",
                    ocip_compression_name (c), OUTPUT_CAP);
      return;
    }
  FUZZ_CHECK (big.status == small.status, "%s: large reads give status %d, small ones %d",
              ocip_compression_name (c), big.status, small.status);
  if (big.status == 0)
    FUZZ_CHECK (big.len == small.len && ocip_digest_equal (&big.digest, &small.digest),
                "%s: large reads give %zu bytes, small ones %zu (or other bytes)", ocip_compression_name (c),
                big.len, small.len);
  if (c == OCIP_COMPRESSION_NONE)
    FUZZ_CHECK (big.status == 0 && big.len == (size > OUTPUT_CAP ? OUTPUT_CAP : size),
                "plain: %zu of %zu bytes, status %d", big.len, size, big.status);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  compare (OCIP_COMPRESSION_GZIP, data, size);
  compare (OCIP_COMPRESSION_ZSTD, data, size);
  compare (OCIP_COMPRESSION_NONE, data, size);
  return 0;
}
