/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decompressor: round trips, multi-member and multi-frame streams, hostile streams, bounded memory,
   gzip through each inflater. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include <oci-prep/cleanup.h>
#include "extract/decompress.h"
#include <oci-prep/error.h>

#define MIB (1024u * 1024)
#define LARGE_CHUNK (64u * 1024 + 7)
/* Bytes after every output buffer that no read may touch (ISA-L writes from assembly,
   where the sanitizers do not look).  */
#define GUARD 64

/* Every test with gzip in it runs twice: with the default inflater (ISA-L where it is
   built in) and as NAME_zlib with OCI_PREP_INFLATE=zlib, so that one build covers both.
   Criterion runs each test in its own process, so the variable stays in that test.  */
static void
force_zlib (void)
{
  cr_assert_eq (setenv ("OCI_PREP_INFLATE", "zlib", 1), 0);
}

#define GZIP_TEST(name, ...)                                                                                           \
  static void gzip_test_##name (void);                                                                                 \
  Test (decompress, name, ##__VA_ARGS__) { gzip_test_##name (); }                                                      \
  Test (decompress, name##_zlib, .init = force_zlib, ##__VA_ARGS__) { gzip_test_##name (); }                           \
  static void gzip_test_##name (void)

/* Whether ISA-L inflates gzip in this test.  Messages that differ between the inflaters are
   chosen with it, so that they also prove which one ran.  */
static bool
isal_inflates (void)
{
#ifdef HAVE_ISAL
  const char *inflater = getenv ("OCI_PREP_INFLATE");

  return inflater == NULL || strcmp (inflater, "zlib") != 0;
#else
  return false;
#endif
}

#define GZIP_MSG(zlib_msg, isal_msg) (isal_inflates () ? (isal_msg) : (zlib_msg))

/* A source reading from memory at most CHUNK bytes at a time, failing with FAIL_ERRNO once
   FAIL_AT bytes were returned (when FAIL_ERRNO is set).  */
struct mem_source
{
  const unsigned char *data;
  size_t len;
  size_t off;
  size_t chunk;
  size_t fail_at;
  int fail_errno;
  bool ended; /* it returned 0 */
};

static ssize_t
mem_read (void *ctx, void *buf, size_t len, ocip_error_t *err)
{
  struct mem_source *s = ctx;
  size_t n = s->len - s->off;

  cr_assert_gt (len, 0, "the decompressor asked the source for 0 bytes");
  if (s->fail_errno && s->off >= s->fail_at)
    return ocip_error_fail (err, s->fail_errno, "source: injected failure at %zu", s->off);
  if (n > len)
    n = len;
  if (n > s->chunk)
    n = s->chunk;
  if (s->fail_errno && n > s->fail_at - s->off)
    n = s->fail_at - s->off;
  if (n)
    memcpy (buf, s->data + s->off, n);
  s->off += n;
  if (n == 0)
    s->ended = true;
  return n;
}

/* A growing byte buffer.  */
struct bytes
{
  unsigned char *p;
  size_t len, cap;
};

static void
bytes_add (struct bytes *b, const void *data, size_t len)
{
  if (b->len + len > b->cap)
    {
      b->cap = (b->len + len) * 2 + 64;
      b->p = xrealloc (b->p, b->cap);
    }
  if (len)
    memcpy (b->p + b->len, data, len);
  b->len += len;
}

/* LEN bytes that compress somewhat but not trivially: 16-letter text with repeated runs.  */
static unsigned char *
sample (size_t len)
{
  unsigned char *p = xmalloc (len ? len : 1);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  size_t i;

  for (i = 0; i < len; i++)
    {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      if (i >= 4096 && (x >> 60) == 0)
        {
          size_t run = (x >> 20) % 200, from = i - 1 - (x >> 32) % 4000;
          for (; run && i < len; run--, i++, from++)
            p[i] = p[from];
          if (i == len)
            break;
        }
      p[i] = "abcdefghijklmnop"[x & 15];
    }
  return p;
}

/* One gzip member of DATA, as zlib writes it at LEVEL.  */
static void
gz_member_level (struct bytes *out, const void *data, size_t len, int level)
{
  unsigned char buf[16384];
  z_stream z = { 0 };
  int r;

  cr_assert_eq (deflateInit2 (&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  z.next_in = (unsigned char *) data;
  z.avail_in = len;
  do
    {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      r = deflate (&z, Z_FINISH);
      cr_assert (r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR, "deflate: %d", r);
      bytes_add (out, buf, sizeof buf - z.avail_out);
    }
  while (r != Z_STREAM_END);
  deflateEnd (&z);
}

static void
gz_member (struct bytes *out, const void *data, size_t len)
{
  gz_member_level (out, data, len, 6);
}

/* One zstd frame of DATA (with a content checksum).  */
static void
zs_frame (struct bytes *out, const void *data, size_t len)
{
  size_t bound = ZSTD_compressBound (len), n;
  cleanup_free unsigned char *buf = xmalloc (bound);
  ZSTD_CCtx *c = ZSTD_createCCtx ();

  cr_assert_not_null (c);
  cr_assert (! ZSTD_isError (ZSTD_CCtx_setParameter (c, ZSTD_c_checksumFlag, 1)));
  n = ZSTD_compress2 (c, buf, bound, data, len);
  cr_assert (! ZSTD_isError (n), "ZSTD_compress2: %s", ZSTD_getErrorName (n));
  ZSTD_freeCCtx (c);
  bytes_add (out, buf, n);
}

/* A hand-written zstd frame: header descriptor 0 (no checksum, no dictionary, not single
   segment), window descriptor WINDOW_BYTE (exponent << 3 | mantissa: window log = 10 +
   exponent), then PAYLOAD as one raw last block.  */
static void
zs_raw_frame (struct bytes *out, unsigned char window_byte, const char *payload)
{
  size_t len = strlen (payload);
  uint32_t block = 1 | (len << 3); /* Last_Block, Block_Type raw, Block_Size */
  unsigned char head[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x00, window_byte, block & 0xff, (block >> 8) & 0xff, block >> 16 };

  bytes_add (out, head, sizeof head);
  bytes_add (out, payload, len);
}

/* A zstd skippable frame carrying LEN bytes of PAYLOAD.  */
static void
zs_skippable (struct bytes *out, const char *payload)
{
  uint32_t len = strlen (payload);
  unsigned char head[] = { 0x5a, 0x2a, 0x4d, 0x18, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24 };

  bytes_add (out, head, sizeof head);
  bytes_add (out, payload, len);
}

/* Decode IN as COMPRESSION with source reads of at most CHUNK bytes and output reads of
   OUT_CHUNK bytes.  Returns the last read's status; *OUT holds everything returned.  */
static ssize_t
decode (enum ocip_compression compression, const void *in, size_t in_len, size_t chunk, size_t out_chunk,
        struct bytes *out, ocip_error_t *err)
{
  struct mem_source src = { .data = in, .len = in_len, .chunk = chunk };
  cleanup_decompress struct ocip_decompress *d = NULL;
  cleanup_free unsigned char *buf = xmalloc (out_chunk + GUARD);
  unsigned char guard[GUARD];
  ssize_t n;
  int r;

  memset (guard, 0xa5, GUARD);
  memset (buf + out_chunk, 0xa5, GUARD);
  r = ocip_decompress_new (compression, mem_read, &src, &d, err);
  cr_assert_eq (r, 0, "new: %s", *err ? (*err)->msg : "?");
  while ((n = ocip_decompress_read (d, buf, out_chunk, err)) > 0)
    {
      cr_assert_leq ((size_t) n, out_chunk);
      cr_assert (memcmp (buf + out_chunk, guard, GUARD) == 0, "a read of %zu bytes wrote past them", out_chunk);
      bytes_add (out, buf, n);
    }
  cr_assert (memcmp (buf + out_chunk, guard, GUARD) == 0, "a read of %zu bytes wrote past them", out_chunk);
  if (n == 0)
    {
      cr_assert (src.ended, "end of stream reported before the source ended");
      cr_assert_null (*err, "error set on success");
      /* The end is sticky.  */
      cr_assert_eq (ocip_decompress_read (d, buf, out_chunk, err), 0);
    }
  else
    {
      cr_assert_not_null (*err, "failure without an error");
      cr_assert_eq (n, -(*err)->status);
    }
  return n;
}

/* Decode IN, which must succeed and give exactly EXPECT, in every chunking.  */
static void
expect_ok (enum ocip_compression compression, const struct bytes *in, const void *expect, size_t expect_len)
{
  static const size_t chunks[][2] = { { 1, 1 }, { 1, MIB }, { LARGE_CHUNK, 1 }, { LARGE_CHUNK, MIB }, { 3, 4093 } };
  size_t i;

  for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
    {
      struct bytes out = { 0 };
      ocip_error_t err = NULL;
      ssize_t n = decode (compression, in->p, in->len, chunks[i][0], chunks[i][1], &out, &err);

      cr_assert_eq (n, 0, "%s, chunks %zu/%zu: %s", ocip_compression_name (compression), chunks[i][0], chunks[i][1],
                    err ? err->msg : "?");
      cr_assert_eq (out.len, expect_len, "%s, chunks %zu/%zu: %zu bytes instead of %zu",
                    ocip_compression_name (compression), chunks[i][0], chunks[i][1], out.len, expect_len);
      cr_assert (expect_len == 0 || memcmp (out.p, expect, expect_len) == 0, "%s, chunks %zu/%zu: content differs",
                 ocip_compression_name (compression), chunks[i][0], chunks[i][1]);
      free (out.p);
    }
}

/* Decode IN, which must fail with ERRNUM and MSG (when not NULL), in every chunking.  */
static void
expect_fail (enum ocip_compression compression, const struct bytes *in, int errnum, const char *msg)
{
  static const size_t chunks[][2] = { { 1, 1 }, { 1, MIB }, { LARGE_CHUNK, 1 }, { LARGE_CHUNK, MIB } };
  size_t i;

  for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
    {
      struct bytes out = { 0 };
      ocip_error_t err = NULL;
      ssize_t n = decode (compression, in->p, in->len, chunks[i][0], chunks[i][1], &out, &err);

      cr_assert_eq (n, -errnum, "%s, chunks %zu/%zu: got %zd (%s)", ocip_compression_name (compression), chunks[i][0],
                    chunks[i][1], n, err ? err->msg : "no error");
      if (msg)
        cr_assert_str_eq (err->msg, msg);
      ocip_error_release (&err);
      free (out.p);
    }
}

static void
round_trip (enum ocip_compression compression)
{
  static const size_t sizes[] = { 0, 1, MIB };
  size_t i;

  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    {
      cleanup_free unsigned char *data = sample (sizes[i]);
      struct bytes in = { 0 };

      if (compression == OCIP_COMPRESSION_GZIP)
        gz_member (&in, data, sizes[i]);
      else if (compression == OCIP_COMPRESSION_ZSTD)
        zs_frame (&in, data, sizes[i]);
      else
        bytes_add (&in, data, sizes[i]);
      if (compression != OCIP_COMPRESSION_NONE && sizes[i] == MIB)
        cr_assert_lt (in.len, sizes[i] * 3 / 4, "sample data does not exercise compression");
      expect_ok (compression, &in, data, sizes[i]);
      free (in.p);
    }
}

Test (decompress, round_trip_none)
{
  round_trip (OCIP_COMPRESSION_NONE);
}

GZIP_TEST (round_trip_gzip)
{
  round_trip (OCIP_COMPRESSION_GZIP);
}

Test (decompress, round_trip_zstd)
{
  round_trip (OCIP_COMPRESSION_ZSTD);
}

/* NONE is never a guess: compressed bytes come out as they are.  */
Test (decompress, none_passes_compressed_bytes_through)
{
  struct bytes in = { 0 };

  gz_member (&in, "hello", 5);
  expect_ok (OCIP_COMPRESSION_NONE, &in, in.p, in.len);
  free (in.p);
}

GZIP_TEST (gzip_multi_member)
{
  cleanup_free unsigned char *data = sample (300000);
  struct bytes in = { 0 };

  /* An empty member first and in the middle: the state machine must cross members that
     produce nothing.  */
  gz_member (&in, "", 0);
  gz_member (&in, data, 100000);
  gz_member (&in, "", 0);
  gz_member (&in, data + 100000, 1);
  gz_member (&in, data + 100001, 199999);
  expect_ok (OCIP_COMPRESSION_GZIP, &in, data, 300000);
  free (in.p);
}

GZIP_TEST (gzip_only_empty_members)
{
  struct bytes in = { 0 };

  gz_member (&in, "", 0);
  gz_member (&in, "", 0);
  expect_ok (OCIP_COMPRESSION_GZIP, &in, "", 0);
  free (in.p);
}

GZIP_TEST (gzip_trailing_garbage)
{
  struct bytes in = { 0 };

  gz_member (&in, "hello", 5);
  bytes_add (&in, "garbage", 7);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: trailing data after the end of the stream");
  free (in.p);
}

/* The gzip magic's first byte alone is accepted, the second checked on its own read.  */
GZIP_TEST (gzip_trailing_half_magic)
{
  struct bytes in = { 0 };

  gz_member (&in, "hello", 5);
  bytes_add (&in, "\x1f\x00\x00", 3);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: trailing data after the end of the stream");
  free (in.p);
}

GZIP_TEST (gzip_trailing_zeros)
{
  static const unsigned char zeros[512];
  struct bytes in = { 0 };

  gz_member (&in, "hello", 5);
  bytes_add (&in, zeros, sizeof zeros);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: trailing data after the end of the stream");
  in.len -= sizeof zeros - 1;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: trailing data after the end of the stream");
  free (in.p);
}

/* Every proper prefix of a valid stream is refused as truncated.  */
GZIP_TEST (gzip_truncated_anywhere)
{
  cleanup_free unsigned char *data = sample (20000);
  struct bytes in = { 0 };
  size_t first, cut;

  gz_member (&in, data, 6);
  first = in.len;
  gz_member (&in, data, 20000);
  for (cut = 1; cut < in.len; cut++)
    {
      struct bytes out = { 0 };
      ocip_error_t err = NULL;
      ssize_t n = decode (OCIP_COMPRESSION_GZIP, in.p, cut, cut % 2 ? 1 : LARGE_CHUNK, 4096, &out, &err);

      if (cut == first)
        {
          /* Exactly between the members: a valid, shorter stream.  */
          cr_assert_eq (n, 0, "cut between the members: %s", err ? err->msg : "?");
          cr_assert_eq (out.len, 6);
        }
      else
        {
          cr_assert_eq (n, -EBADMSG, "cut %zu: %zd", cut, n);
          cr_assert_str_eq (err->msg, "gzip: truncated stream", "cut %zu", cut);
        }
      ocip_error_release (&err);
      free (out.p);
    }
  free (in.p);
}

GZIP_TEST (gzip_empty_input)
{
  struct bytes in = { 0 };

  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: empty input, not a gzip stream");
}

GZIP_TEST (gzip_corrupt_crc_and_length)
{
  cleanup_free unsigned char *data = sample (10000);
  struct bytes in = { 0 };

  gz_member (&in, data, 10000);
  /* The trailer: CRC-32, then the length mod 2^32, both little-endian.  */
  in.p[in.len - 8] ^= 0x01;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: incorrect data check");
  in.p[in.len - 8] ^= 0x01;
  in.p[in.len - 4] ^= 0x01;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: incorrect length check");
  in.p[in.len - 4] ^= 0x01;
  expect_ok (OCIP_COMPRESSION_GZIP, &in, data, 10000);
  free (in.p);
}

GZIP_TEST (gzip_corrupt_data)
{
  struct bytes in = { 0 };

  gz_member (&in, "hello", 5);
  /* Right after the 10-byte header: BFINAL=1, BTYPE=11 is reserved.  ISA-L has one code
     for every bad block.  */
  in.p[10] = 0x07;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG,
               GZIP_MSG ("gzip: invalid block type", "gzip: invalid deflate block"));
  free (in.p);
}

GZIP_TEST (gzip_corrupt_second_member)
{
  struct bytes in = { 0 };

  gz_member (&in, "hello", 5);
  gz_member (&in, "world", 5);
  in.p[in.len - 8] ^= 0x80;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: incorrect data check");
  free (in.p);
}

/* Stored blocks (level 0, copied rather than decoded), and the fastest and best levels.  */
GZIP_TEST (gzip_levels_and_stored_blocks)
{
  static const int levels[] = { 0, 1, 9 };
  cleanup_free unsigned char *data = sample (370000);
  size_t i;

  for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
    {
      struct bytes in = { 0 };

      gz_member_level (&in, data, 300000, levels[i]);
      gz_member_level (&in, data + 300000, 70000, levels[i]);
      expect_ok (OCIP_COMPRESSION_GZIP, &in, data, 300000 + 70000);
      free (in.p);
    }
}

/* A member of DATA whose header has every optional field (RFC 1952 2.3.1): FEXTRA, FNAME,
   FCOMMENT and FHCRC.  Returns the header's length.  */
static size_t
gz_member_full_header (struct bytes *out, const void *data, size_t len)
{
  static const unsigned char base[] = { 0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 1, 2, 3, 4, 0, 3 };
  static const unsigned char extra[] = { 7, 0, 'A', 'p', 3, 0, 'x', 'y', 'z' }; /* XLEN, one subfield */
  struct bytes member = { 0 };
  size_t start = out->len;
  uLong crc;

  gz_member (&member, data, len);
  bytes_add (out, base, sizeof base);
  bytes_add (out, extra, sizeof extra);
  bytes_add (out, "layer.tar", 10);
  bytes_add (out, "a comment long enough to be cut in many places", 47);
  crc = crc32 (0, out->p + start, out->len - start);
  bytes_add (out, (unsigned char[]){ crc & 0xff, (crc >> 8) & 0xff }, 2);
  /* The deflate data and the trailer, after zlib's own 10-byte header.  */
  bytes_add (out, member.p + 10, member.len - 10);
  free (member.p);
  return sizeof base + sizeof extra + 10 + 47 + 2;
}

/* A header cut anywhere, even one byte at a time, must be resumed where it stopped: ISA-L's
   own isal_inflate loses the flags of a header cut after them.  */
GZIP_TEST (gzip_header_with_every_field)
{
  cleanup_free unsigned char *data = sample (50000);
  struct bytes in = { 0 };
  size_t first, header, cut;

  gz_member (&in, data, 1000);
  first = in.len;
  header = gz_member_full_header (&in, data + 1000, 49000);
  expect_ok (OCIP_COMPRESSION_GZIP, &in, data, 50000);

  for (cut = first + 1; cut <= first + header; cut++)
    {
      struct bytes out = { 0 };
      ocip_error_t err = NULL;
      ssize_t n = decode (OCIP_COMPRESSION_GZIP, in.p, cut, cut % 2 ? 1 : LARGE_CHUNK, 4096, &out, &err);

      cr_assert_eq (n, -EBADMSG, "cut %zu: %zd", cut, n);
      cr_assert_str_eq (err->msg, "gzip: truncated stream", "cut %zu", cut);
      ocip_error_release (&err);
      free (out.p);
    }

  /* A bit flipped in the extra field, the name, the header CRC itself.  */
  in.p[first + 12] ^= 0x20;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: header crc mismatch");
  in.p[first + 12] ^= 0x20;
  in.p[first + 20] ^= 0x20;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: header crc mismatch");
  in.p[first + 20] ^= 0x20;
  in.p[first + header - 1] ^= 0x01;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: header crc mismatch");
  in.p[first + header - 1] ^= 0x01;
  expect_ok (OCIP_COMPRESSION_GZIP, &in, data, 50000);

  /* CM 7 is not deflate.  */
  in.p[first + 2] = 7;
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: unknown compression method");
  free (in.p);
}

/* Deflate data written bit by bit (RFC 1951 3.1.1: fields from the least significant bit,
   Huffman codes from their most significant one).  */
struct bit_writer
{
  struct bytes *out;
  uint32_t acc;
  unsigned count;
};

static void
put_bits (struct bit_writer *w, uint32_t value, unsigned count)
{
  w->acc |= value << w->count;
  w->count += count;
  while (w->count >= 8)
    {
      unsigned char byte = w->acc & 0xff;

      bytes_add (w->out, &byte, 1);
      w->acc >>= 8;
      w->count -= 8;
    }
}

static void
put_code (struct bit_writer *w, uint32_t code, unsigned len)
{
  unsigned i;

  for (i = len; i > 0; i--)
    put_bits (w, (code >> (i - 1)) & 1, 1);
}

/* A literal/length symbol in the fixed Huffman code (RFC 1951 3.2.6).  */
static void
put_fixed_symbol (struct bit_writer *w, unsigned symbol)
{
  if (symbol < 144)
    put_code (w, 0x30 + symbol, 8);
  else if (symbol < 256)
    put_code (w, 0x190 + symbol - 144, 9);
  else if (symbol < 280)
    put_code (w, symbol - 256, 7);
  else
    put_code (w, 0xc0 + symbol - 280, 8);
}

/* A gzip member with one final fixed-Huffman block of SYMBOLS (a literal/length symbol,
   or a distance code after a length), then an end of block and a trailer of zeros.  */
static void
gz_fixed_member (struct bytes *out, const unsigned *symbols, size_t count)
{
  static const unsigned char header[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
  static const unsigned char trailer[8];
  struct bit_writer w = { .out = out };
  bool distance = false;
  size_t i;

  bytes_add (out, header, sizeof header);
  put_bits (&w, 1, 1); /* BFINAL */
  put_bits (&w, 1, 2); /* BTYPE 01: fixed Huffman codes */
  for (i = 0; i < count; i++)
    {
      if (distance)
        put_code (&w, symbols[i], 5);
      else
        put_fixed_symbol (&w, symbols[i]);
      distance = ! distance && symbols[i] > 256;
    }
  put_fixed_symbol (&w, 256);
  if (w.count)
    put_bits (&w, 0, 8 - w.count);
  bytes_add (out, trailer, sizeof trailer);
}

/* A match reaching before the first byte of output.  */
GZIP_TEST (gzip_distance_too_far_back)
{
  /* 'a', then length 3 (symbol 257) at distance 2 (code 1): only 1 byte precedes.  */
  static const unsigned symbols[] = { 'a', 257, 1 };
  static const unsigned fine[] = { 'a', 257, 0 };
  struct bytes in = { 0 };

  gz_fixed_member (&in, symbols, 3);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: invalid distance too far back");

  /* At distance 1 the same block is valid: "aaaa", refused only for its zero trailer.  */
  in.len = 0;
  gz_fixed_member (&in, fine, 3);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: incorrect data check");
  free (in.p);
}

/* Literal/length symbols 286 and 287 have a fixed code but no meaning.  */
GZIP_TEST (gzip_invalid_symbol)
{
  static const unsigned symbols[] = { 'a', 286 };
  struct bytes in = { 0 };

  gz_fixed_member (&in, symbols, 2);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG,
               GZIP_MSG ("gzip: invalid literal/length code", "gzip: invalid literal/length or distance code"));
  free (in.p);
}

/* A zlib stream is deflate too, but not what the media type says.  */
GZIP_TEST (gzip_refuses_zlib_and_plain)
{
  unsigned char z[64];
  uLongf zlen = sizeof z;
  struct bytes in = { 0 };

  cr_assert_eq (compress (z, &zlen, (const Bytef *) "hello", 5), Z_OK);
  bytes_add (&in, z, zlen);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: not a gzip stream");
  in.len = 0;
  bytes_add (&in, "hello, world", 12);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: not a gzip stream");
  free (in.p);
}

GZIP_TEST (zstd_as_gzip)
{
  struct bytes in = { 0 };

  zs_frame (&in, "hello", 5);
  expect_fail (OCIP_COMPRESSION_GZIP, &in, EBADMSG, "gzip: not a gzip stream");
  free (in.p);
}

Test (decompress, gzip_as_zstd)
{
  struct bytes in = { 0 };

  gz_member (&in, "hello", 5);
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, EBADMSG, "zstd: not a zstd stream");
  free (in.p);
}

Test (decompress, zstd_two_frames)
{
  cleanup_free unsigned char *data = sample (400000);
  struct bytes in = { 0 };

  zs_frame (&in, data, 150000);
  zs_frame (&in, data + 150000, 250000);
  expect_ok (OCIP_COMPRESSION_ZSTD, &in, data, 400000);
  free (in.p);
}

Test (decompress, zstd_skippable_frames)
{
  struct bytes in = { 0 };

  zs_skippable (&in, "metadata");
  zs_frame (&in, "hello, ", 7);
  zs_skippable (&in, "");
  zs_frame (&in, "", 0);
  zs_raw_frame (&in, 0x00, "world");
  zs_skippable (&in, "end");
  expect_ok (OCIP_COMPRESSION_ZSTD, &in, "hello, world", 12);
  free (in.p);
}

Test (decompress, zstd_trailing_garbage_and_zeros)
{
  static const unsigned char zeros[64];
  struct bytes in = { 0 };

  zs_frame (&in, "hello", 5);
  bytes_add (&in, "garbage", 7);
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, EBADMSG, "zstd: trailing data after the end of the stream");
  in.len -= 7;
  bytes_add (&in, zeros, sizeof zeros);
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, EBADMSG, "zstd: trailing data after the end of the stream");
  /* One stray byte: libzstd before 1.5 only sees a short, truncated frame header.  */
  in.len -= sizeof zeros - 1;
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, EBADMSG, NULL);
  free (in.p);
}

Test (decompress, zstd_truncated_anywhere)
{
  cleanup_free unsigned char *data = sample (20000);
  struct bytes in = { 0 };
  size_t first, cut;

  zs_frame (&in, data, 6);
  first = in.len;
  zs_frame (&in, data, 20000);
  for (cut = 1; cut < in.len; cut++)
    {
      struct bytes out = { 0 };
      ocip_error_t err = NULL;
      ssize_t n = decode (OCIP_COMPRESSION_ZSTD, in.p, cut, cut % 2 ? 1 : LARGE_CHUNK, 4096, &out, &err);

      if (cut == first)
        {
          cr_assert_eq (n, 0, "cut between the frames: %s", err ? err->msg : "?");
          cr_assert_eq (out.len, 6);
        }
      else
        {
          cr_assert_eq (n, -EBADMSG, "cut %zu: %zd", cut, n);
          cr_assert_str_eq (err->msg, "zstd: truncated stream", "cut %zu", cut);
        }
      ocip_error_release (&err);
      free (out.p);
    }
  free (in.p);
}

Test (decompress, zstd_empty_input)
{
  struct bytes in = { 0 };

  expect_fail (OCIP_COMPRESSION_ZSTD, &in, EBADMSG, "zstd: empty input, not a zstd stream");
}

Test (decompress, zstd_garbage)
{
  struct bytes in = { 0 };

  bytes_add (&in, "hello, world", 12);
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, EBADMSG, "zstd: not a zstd stream");
  free (in.p);
}

Test (decompress, zstd_corrupt_checksum)
{
  cleanup_free unsigned char *data = sample (10000);
  struct bytes in = { 0 };

  zs_frame (&in, data, 10000);
  in.p[in.len - 1] ^= 0x01;
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, EBADMSG, "zstd: Restored data doesn't match checksum");
  free (in.p);
}

/* The window is the memory a frame makes the decoder keep: 128 MiB is the most granted.  */
Test (decompress, zstd_window_over_128_mib_refused)
{
  /* Window descriptors: exponent 17 (log 27, 128 MiB), 17 with mantissa 1 (144 MiB),
     18 (log 28), 21 (log 31), 31 (log 41: more than libzstd can ever use).  */
  static const unsigned char too_large[] = { 17 << 3 | 1, 18 << 3, 21 << 3, 31 << 3 | 7 };
  struct bytes in = { 0 };
  size_t i;

  zs_raw_frame (&in, 17 << 3, "fits");
  expect_ok (OCIP_COMPRESSION_ZSTD, &in, "fits", 4);
  for (i = 0; i < sizeof too_large; i++)
    {
      in.len = 0;
      zs_raw_frame (&in, too_large[i], "too large");
      expect_fail (OCIP_COMPRESSION_ZSTD, &in, E2BIG, "zstd: frame needs a window larger than 128 MiB");
    }

  /* After a frame that fits.  */
  in.len = 0;
  zs_frame (&in, "fine", 4);
  zs_raw_frame (&in, 21 << 3, "too large");
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, E2BIG, "zstd: frame needs a window larger than 128 MiB");
  free (in.p);
}

/* A single-segment frame has no window descriptor: its window is its declared content size.  */
Test (decompress, zstd_single_segment_over_128_mib_refused)
{
  /* Descriptor 0xa0: 4-byte content size, single segment.  Content size 1 GiB.  */
  static const unsigned char head[] = { 0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00 };
  struct bytes in = { 0 };

  bytes_add (&in, head, sizeof head);
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, E2BIG, "zstd: frame needs a window larger than 128 MiB");
  free (in.p);
}

/* The same, from libzstd's own encoder asked for a 256 MiB window.  */
Test (decompress, zstd_encoder_window_log_28_refused)
{
  ZSTD_CCtx *c = ZSTD_createCCtx ();
  ZSTD_inBuffer zin = { "hello, big window", 17, 0 };
  unsigned char buf[256];
  ZSTD_outBuffer zout = { buf, sizeof buf, 0 };
  struct bytes in = { 0 };
  size_t r;

  cr_assert (! ZSTD_isError (ZSTD_CCtx_setParameter (c, ZSTD_c_windowLog, 28)));
  /* Not one ZSTD_e_end call: that would let the encoder shrink the window to the input.  */
  cr_assert (! ZSTD_isError (ZSTD_compressStream2 (c, &zout, &zin, ZSTD_e_continue)));
  r = ZSTD_compressStream2 (c, &zout, &zin, ZSTD_e_end);
  cr_assert_eq (r, 0, "%s", ZSTD_isError (r) ? ZSTD_getErrorName (r) : "more to flush");
  ZSTD_freeCCtx (c);
  bytes_add (&in, buf, zout.pos);
  expect_fail (OCIP_COMPRESSION_ZSTD, &in, E2BIG, "zstd: frame needs a window larger than 128 MiB");
  free (in.p);
}

static long
max_rss_kib (void)
{
  struct rusage ru;

  cr_assert_eq (getrusage (RUSAGE_SELF, &ru), 0);
  return ru.ru_maxrss;
}

/* Decode a compressed 1 GiB of zeros with 64 KiB reads: exactly 1 GiB comes out and the
   process grows by far less than the output.  */
static void
expect_bomb_bounded (enum ocip_compression compression, const struct bytes *in)
{
  struct mem_source src = { .data = in->p, .len = in->len, .chunk = 64 * 1024 };
  cleanup_decompress struct ocip_decompress *d = NULL;
  cleanup_free unsigned char *buf = xmalloc (64 * 1024);
  cleanup_free unsigned char *zeros = xzalloc (64 * 1024);
  ocip_error_t err = NULL;
  uint64_t total = 0;
  bool all_zeros = true;
  long before = max_rss_kib ();
  ssize_t n;

  cr_assert_eq (ocip_decompress_new (compression, mem_read, &src, &d, &err), 0);
  while ((n = ocip_decompress_read (d, buf, 64 * 1024, &err)) > 0)
    {
      all_zeros = all_zeros && memcmp (buf, zeros, n) == 0;
      total += n;
    }
  cr_assert_eq (n, 0, "%s", err ? err->msg : "?");
  cr_assert_eq (total, 1ull << 30);
  cr_assert (all_zeros);
  cr_assert_lt (max_rss_kib () - before, 64 * 1024, "decoding grew the process by %ld KiB", max_rss_kib () - before);
}

GZIP_TEST (gzip_bomb_bounded_memory)
{
  cleanup_free unsigned char *zeros = xzalloc (64 * 1024);
  unsigned char buf[65536];
  z_stream z = { 0 };
  struct bytes in = { 0 };
  size_t i;
  int r;

  /* Level 1: twice as fast as 9 on zeros, at 4.5 MiB instead of 1 MiB.  */
  cr_assert_eq (deflateInit2 (&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  for (i = 0; i <= (1u << 30) / (64 * 1024); i++)
    {
      int flush = i == (1u << 30) / (64 * 1024) ? Z_FINISH : Z_NO_FLUSH;

      z.next_in = zeros;
      z.avail_in = flush == Z_FINISH ? 0 : 64 * 1024;
      do
        {
          z.next_out = buf;
          z.avail_out = sizeof buf;
          r = deflate (&z, flush);
          cr_assert (r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR);
          bytes_add (&in, buf, sizeof buf - z.avail_out);
        }
      while (z.avail_out == 0);
    }
  cr_assert_eq (r, Z_STREAM_END);
  cr_assert_eq (z.total_in, 1ul << 30);
  deflateEnd (&z);
  cr_assert_lt (in.len, 8 * MIB);
  expect_bomb_bounded (OCIP_COMPRESSION_GZIP, &in);
  free (in.p);
}

Test (decompress, zstd_bomb_bounded_memory)
{
  cleanup_free unsigned char *zeros = xzalloc (64 * 1024);
  unsigned char buf[65536];
  ZSTD_CCtx *c = ZSTD_createCCtx ();
  struct bytes in = { 0 };
  size_t i, r;

  for (i = 0; i <= (1u << 30) / (64 * 1024); i++)
    {
      ZSTD_EndDirective end = i == (1u << 30) / (64 * 1024) ? ZSTD_e_end : ZSTD_e_continue;
      ZSTD_inBuffer zin = { zeros, end == ZSTD_e_end ? 0 : 64 * 1024, 0 };

      do
        {
          ZSTD_outBuffer zout = { buf, sizeof buf, 0 };

          r = ZSTD_compressStream2 (c, &zout, &zin, end);
          cr_assert (! ZSTD_isError (r), "%s", ZSTD_getErrorName (r));
          bytes_add (&in, buf, zout.pos);
        }
      while (end == ZSTD_e_end ? r != 0 : zin.pos < zin.size);
    }
  ZSTD_freeCCtx (c);
  cr_assert_lt (in.len, 4 * MIB);
  expect_bomb_bounded (OCIP_COMPRESSION_ZSTD, &in);
  free (in.p);
}

/* The source's own error comes back as it set it: class and message.  */
static void
expect_source_error (enum ocip_compression compression, const struct bytes *in, size_t fail_at)
{
  struct mem_source src = { .data = in->p, .len = in->len, .chunk = 1000, .fail_at = fail_at, .fail_errno = EIO };
  cleanup_decompress struct ocip_decompress *d = NULL;
  cleanup_free char *msg = xasprintf ("source: injected failure at %zu", fail_at);
  unsigned char buf[100];
  ocip_error_t err = NULL;
  ssize_t n;

  cr_assert_eq (ocip_decompress_new (compression, mem_read, &src, &d, &err), 0);
  while ((n = ocip_decompress_read (d, buf, sizeof buf, &err)) > 0)
    ;
  cr_assert_eq (n, -EIO, "%s at %zu: %zd", ocip_compression_name (compression), fail_at, n);
  cr_assert_str_eq (err->msg, msg);
  ocip_error_release (&err);

  /* The decoder is not usable after a failure.  */
  cr_assert_eq (ocip_decompress_read (d, buf, sizeof buf, &err), -EIO);
  cr_assert_not_null (err);
  ocip_error_release (&err);
}

GZIP_TEST (source_error_passes_through)
{
  cleanup_free unsigned char *data = sample (100000);
  struct bytes plain = { 0 }, gz = { 0 }, zs = { 0 };

  bytes_add (&plain, data, 100000);
  gz_member (&gz, data, 100000);
  zs_frame (&zs, data, 100000);
  expect_source_error (OCIP_COMPRESSION_NONE, &plain, 0);
  expect_source_error (OCIP_COMPRESSION_NONE, &plain, 5000);
  expect_source_error (OCIP_COMPRESSION_GZIP, &gz, 0);
  expect_source_error (OCIP_COMPRESSION_GZIP, &gz, 5000);
  expect_source_error (OCIP_COMPRESSION_GZIP, &gz, gz.len);
  expect_source_error (OCIP_COMPRESSION_ZSTD, &zs, 0);
  expect_source_error (OCIP_COMPRESSION_ZSTD, &zs, 5000);
  expect_source_error (OCIP_COMPRESSION_ZSTD, &zs, zs.len);
  free (plain.p);
  free (gz.p);
  free (zs.p);
}

GZIP_TEST (failure_is_sticky)
{
  struct bytes in = { 0 };
  struct mem_source src;
  cleanup_decompress struct ocip_decompress *d = NULL;
  unsigned char buf[64];
  ocip_error_t err = NULL;

  gz_member (&in, "hello", 5);
  bytes_add (&in, "x", 1);
  src = (struct mem_source){ .data = in.p, .len = in.len, .chunk = LARGE_CHUNK };
  cr_assert_eq (ocip_decompress_new (OCIP_COMPRESSION_GZIP, mem_read, &src, &d, &err), 0);
  cr_assert_eq (ocip_decompress_read (d, buf, sizeof buf, &err), 5);
  cr_assert_eq (ocip_decompress_read (d, buf, sizeof buf, &err), -EBADMSG);
  ocip_error_release (&err);
  cr_assert_eq (ocip_decompress_read (d, buf, sizeof buf, &err), -EBADMSG);
  cr_assert_str_eq (err->msg, "gzip: read after an earlier error");
  ocip_error_release (&err);
  free (in.p);
}

Test (decompress, bad_arguments)
{
  struct mem_source src = { .data = (const unsigned char *) "x", .len = 1, .chunk = 1 };
  cleanup_decompress struct ocip_decompress *d = NULL;
  struct ocip_decompress *none = NULL;
  unsigned char buf[1];
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_decompress_new ((enum ocip_compression) 7, mem_read, &src, &none, &err), -EINVAL);
  cr_assert_null (none);
  cr_assert_str_eq (err->msg, "decompress: unknown compression 7");
  ocip_error_release (&err);

  cr_assert_eq (ocip_decompress_new (OCIP_COMPRESSION_NONE, mem_read, &src, &d, &err), 0);
  cr_assert_eq (ocip_decompress_read (d, buf, 0, &err), -EINVAL);
  ocip_error_release (&err);
  /* A zero-length read is the caller's mistake, not the stream's: reading goes on.  */
  cr_assert_eq (ocip_decompress_read (d, buf, 1, &err), 1);
  cr_assert_eq (ocip_decompress_read (d, buf, 1, &err), 0);
  cr_assert_null (err);
  ocip_decompress_free (NULL);
}

/* Streams written by gzip(1) and zstd(1), independent of the libraries the decoder uses.  */
static bool
have (const char *program)
{
  cleanup_free char *cmd = xasprintf ("command -v %s >/dev/null 2>&1", program);

  return system (cmd) == 0;
}

static void
run (struct bytes *out, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
run (struct bytes *out, const char *fmt, ...)
{
  cleanup_free char *cmd = NULL;
  unsigned char buf[65536];
  va_list ap;
  FILE *p;
  size_t n;

  va_start (ap, fmt);
  cr_assert_geq (vasprintf (&cmd, fmt, ap), 0);
  va_end (ap);
  p = popen (cmd, "r");
  cr_assert_not_null (p, "popen %s", cmd);
  while ((n = fread (buf, 1, sizeof buf, p)) > 0)
    bytes_add (out, buf, n);
  cr_assert_eq (pclose (p), 0, "%s failed", cmd);
}

static char tool_dir[] = "/tmp/test-decompress-XXXXXX";

/* Runs after a failed assertion too (not after a skip: the directory is made after the
   skip check).  */
static void
tool_dir_teardown (void)
{
  cleanup_free char *path = xasprintf ("%s/data", tool_dir);

  if (strstr (tool_dir, "XXXXXX"))
    return;
  unlink (path);
  rmdir (tool_dir);
}

GZIP_TEST (streams_from_command_line_tools, .fini = tool_dir_teardown)
{
  cleanup_free unsigned char *data = sample (500000);
  cleanup_free char *path = NULL;
  struct bytes in = { 0 }, twice = { 0 };
  FILE *f;

  if (! have ("gzip") || ! have ("zstd"))
    {
      cr_assert_null (getenv ("CI"), "gzip(1) and zstd(1) are needed in CI");
      cr_skip_test ("gzip(1) or zstd(1) missing");
    }
  cr_assert_not_null (mkdtemp (tool_dir));
  path = xasprintf ("%s/data", tool_dir);
  f = fopen (path, "we");
  cr_assert_not_null (f);
  cr_assert_eq (fwrite (data, 1, 500000, f), 500000);
  cr_assert_eq (fclose (f), 0);
  bytes_add (&twice, data, 500000);
  bytes_add (&twice, data, 500000);

  run (&in, "gzip -9 -c '%s'", path);
  expect_ok (OCIP_COMPRESSION_GZIP, &in, data, 500000);
  in.len = 0;
  run (&in, "gzip -1 -c '%s'; gzip -c < '%s'", path, path);
  expect_ok (OCIP_COMPRESSION_GZIP, &in, twice.p, twice.len);
  in.len = 0;
  run (&in, "zstd -q -19 -c '%s'", path);
  expect_ok (OCIP_COMPRESSION_ZSTD, &in, data, 500000);
  in.len = 0;
  run (&in, "zstd -q -c '%s' '%s'", path, path);
  expect_ok (OCIP_COMPRESSION_ZSTD, &in, twice.p, twice.len);
  in.len = 0;
  run (&in, "zstd -q --no-check -c < '%s'", path);
  expect_ok (OCIP_COMPRESSION_ZSTD, &in, data, 500000);
  free (in.p);
  free (twice.p);
}
