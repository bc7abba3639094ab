/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The only user of zlib, ISA-L and libzstd: gzip, zstd or plain layer streams decoded in bounded memory. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include <oci-prep/cleanup.h>
#include "extract/decompress.h"

/* Compressed bytes go through one buffer of this size, allocated with the decoder: memory
   never grows with the stream.  libzstd suggests about 128 KiB (ZSTD_DStreamInSize).  */
#define OCIP_DECOMPRESS_BUFFER (128u * 1024)

/* A zstd frame sets its own window, the history the decoder must keep in memory, up to
   2 GiB (and its header can say more): a hostile layer would make every worker allocate
   that much.  2^27 = 128 MiB is what zstd(1) accepts without --memory; it is set explicitly
   so that a libzstd built with another default cannot raise it.  */
#define OCIP_DECOMPRESS_ZSTD_WINDOW_LOG 27

/* windowBits: 15 is deflate's largest window (32 KiB); +16 accepts the gzip wrapper only,
   never a zlib header or raw deflate.  */
#define OCIP_DECOMPRESS_GZIP_WINDOW_BITS (15 + 16)

/* Set to "zlib", this environment variable makes gzip layers go through zlib even where
   ISA-L is built in: a way round an ISA-L fault, and how the tests cover both inflaters.  */
#define OCIP_DECOMPRESS_INFLATE_ENV "OCI_PREP_INFLATE"

struct ocip_decompress
{
  enum ocip_compression compression;
  ocip_read_fn source;
  void *source_ctx;
  unsigned char *in; /* OCIP_DECOMPRESS_BUFFER bytes; NULL for a plain stream */
  uint64_t total_in; /* bytes the source returned so far */
  bool eof;          /* the source returned 0 */
  bool done;         /* the proper end was reached: reads return 0 */
  int failed;        /* errno class of an earlier failure: reads fail again */
  struct
  {
    z_stream z;
    bool ready;      /* inflateInit2 succeeded: inflateEnd is due */
    bool member_end; /* the member ended: the next byte, if any, must start a new member */
    bool later;      /* the current member is not the first */
    unsigned magic;  /* bytes of the current member's magic checked so far (0..2) */
#ifdef HAVE_ISAL
    /* ISA-L's state, when it inflates (NULL when zlib does).  About 85 KiB: allocated
       once, reset for each member.  */
    struct inflate_state *isal;
    /* The current member's header so far.  It must live across calls: isal_inflate parses
       the header into a local one, and so loses the flags of a header cut between two
       reads (ISA-L 2.30).  */
    struct isal_gzip_header header;
    bool header_done;      /* the member's header was read: isal_inflate takes the rest */
    uint64_t member_in;    /* bytes of the current member ISA-L consumed */
    unsigned char tail[8]; /* the last 8 bytes ISA-L consumed: at the end, the trailer */
#endif
  } gz;
  struct
  {
    ZSTD_DCtx *dctx;
    ZSTD_inBuffer in;
    size_t hint; /* last ZSTD_decompressStream result: 0 when a frame is complete and flushed */
    uint64_t frame_start; /* stream offset of the current frame */
    uint64_t checked;     /* stream offset up to which its magic was checked */
    unsigned char first;  /* the frame's first byte */
  } zs;
};

static const char *
codec_name (enum ocip_compression compression)
{
  switch (compression)
    {
    case OCIP_COMPRESSION_NONE:
      return "plain";
    case OCIP_COMPRESSION_GZIP:
      return "gzip";
    case OCIP_COMPRESSION_ZSTD:
      return "zstd";
    default:
      return NULL;
    }
}

/* Call the source.  Its errors are returned as it set them.  */
static ssize_t
source_read (struct ocip_decompress *d, void *buf, size_t len, ocip_error_t *err)
{
  ssize_t n;

  if (d->eof)
    return 0;
  n = d->source (d->source_ctx, buf, len, err);
  if (n < 0)
    {
      /* A source that forgot *ERR would leave the caller nothing to print.  */
      if (*err == NULL)
        ocip_error_set (err, n < -INT_MAX ? EIO : (int) -n, "%s: read the compressed stream",
                        codec_name (d->compression));
      return n;
    }
  /* Past LEN, the source has already overrun BUF; do not build on its count.  */
  if ((size_t) n > len)
    return ocip_error_fail (err, EIO, "%s: the source returned %zd bytes for a read of %zu", codec_name (d->compression),
                           n, len);
  if (n == 0)
    d->eof = true;
  d->total_in += n;
  return n;
}

static ssize_t
fill (struct ocip_decompress *d, ocip_error_t *err)
{
  return source_read (d, d->in, OCIP_DECOMPRESS_BUFFER, err);
}

static const unsigned char gzip_magic[2] = { 0x1f, 0x8b };

/* inflate reports a member that does not start with the gzip magic as a corrupt header
   ("incorrect header check"), which tells nothing about bytes after the last member.
   So the first two bytes of every member are checked before the inflater sees them.
   NEXT_IN and AVAIL_IN are the bytes the inflater has not consumed yet, MEMBER_IN the
   count it consumed from the current member (zlib's total_in, which inflateReset sets to
   0).  While MAGIC is under 2, every byte the inflater was given has been checked, hence
   MEMBER_IN <= MAGIC.  */
static int
gzip_check_magic (struct ocip_decompress *d, const unsigned char *next_in, uint64_t avail_in, uint64_t member_in,
                  ocip_error_t *err)
{
  while (d->gz.magic < 2 && d->gz.magic - member_in < avail_in)
    {
      if (next_in[d->gz.magic - member_in] != gzip_magic[d->gz.magic])
        {
          if (d->gz.later)
            return ocip_error_fail (err, EBADMSG, "gzip: trailing data after the end of the stream");
          return ocip_error_fail (err, EBADMSG, "gzip: not a gzip stream");
        }
      d->gz.magic++;
    }
  return 0;
}

static ssize_t
gzip_read (struct ocip_decompress *d, void *buf, size_t len, ocip_error_t *err)
{
  z_stream *z = &d->gz.z;
  ssize_t n;
  int r;

  if (len > UINT_MAX)
    len = UINT_MAX;
  z->next_out = buf;
  z->avail_out = len;
  for (;;)
    {
      if (z->avail_in == 0)
        {
          if ((n = fill (d, err)) < 0)
            return n;
          z->next_in = d->in;
          z->avail_in = n;
        }
      if (d->gz.member_end)
        {
          /* The source ended right after a member: the proper end.  */
          if (z->avail_in == 0)
            return 0;
          /* Concatenated members are one valid gzip stream (RFC 1952 2.2, pigz, docker).  */
          if (inflateReset (z) != Z_OK)
            return ocip_error_fail (err, EIO, "gzip: reset the inflater");
          d->gz.member_end = false;
          d->gz.later = true;
          d->gz.magic = 0;
        }
      if ((r = gzip_check_magic (d, z->next_in, z->avail_in, z->total_in, err)) < 0)
        return r;
      if (z->avail_in == 0)
        {
          if (d->total_in == 0)
            return ocip_error_fail (err, EBADMSG, "gzip: empty input, not a gzip stream");
          return ocip_error_fail (err, EBADMSG, "gzip: truncated stream");
        }

      r = inflate (z, Z_NO_FLUSH);
      switch (r)
        {
        case Z_OK:
          break;
        case Z_STREAM_END:
          d->gz.member_end = true;
          break;
        case Z_DATA_ERROR:
          /* Corrupt deflate data, a bad header, CRC-32 or length.  */
          return ocip_error_fail (err, EBADMSG, "gzip: %s", z->msg ? z->msg : "corrupt data");
        case Z_NEED_DICT:
          return ocip_error_fail (err, EBADMSG, "gzip: member needs a preset dictionary");
        case Z_MEM_ERROR:
          abort ();
        default:
          /* With input and output space, inflate always progresses: Z_BUF_ERROR cannot
             happen, and looping on it would never end.  */
          return ocip_error_fail (err, EIO, "gzip: inflate failed with status %d", r);
        }
      if (z->avail_out < len)
        return len - z->avail_out;
    }
}

#ifdef HAVE_ISAL
/* Unless OCIP_DECOMPRESS_INFLATE_ENV says "zlib", ISA-L inflates gzip layers.  */
static bool
gzip_use_isal (void)
{
  const char *inflater = getenv (OCIP_DECOMPRESS_INFLATE_ENV);

  return inflater == NULL || strcmp (inflater, "zlib") != 0;
}

/* Get ready for a member's header: after isal_inflate_init or isal_inflate_reset (which
   keeps crc_flag).  The header is zeroed first: isal_gzip_header_init leaves its flags
   unset, and a header cut after its flags byte resumes from them.  */
static void
isal_member_start (struct ocip_decompress *d)
{
  memset (&d->gz.header, 0, sizeof d->gz.header);
  isal_gzip_header_init (&d->gz.header);
  d->gz.header_done = false;
  d->gz.member_in = 0;
  d->gz.magic = 0;
}

/* ISA-L consumed the N bytes at FROM: count them and keep the last 8.  */
static void
isal_consumed (struct ocip_decompress *d, const unsigned char *from, size_t n)
{
  size_t keep;

  if (n >= sizeof d->gz.tail)
    memcpy (d->gz.tail, from + n - sizeof d->gz.tail, sizeof d->gz.tail);
  else if (n > 0)
    {
      keep = sizeof d->gz.tail - n;
      memmove (d->gz.tail, d->gz.tail + n, keep);
      memcpy (d->gz.tail + keep, from, n);
    }
  d->gz.member_in += n;
}

static uint32_t
load_le32 (const unsigned char *p)
{
  return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static int
isal_error (struct ocip_decompress *d, int r, ocip_error_t *err)
{
  const struct inflate_state *s = d->gz.isal;

  switch (r)
    {
    case ISAL_INVALID_BLOCK:
      return ocip_error_fail (err, EBADMSG, "gzip: invalid deflate block");
    case ISAL_INVALID_SYMBOL:
      return ocip_error_fail (err, EBADMSG, "gzip: invalid literal/length or distance code");
    case ISAL_INVALID_LOOKBACK:
      return ocip_error_fail (err, EBADMSG, "gzip: invalid distance too far back");
    case ISAL_INVALID_WRAPPER:
      return ocip_error_fail (err, EBADMSG, "gzip: incorrect header check");
    case ISAL_UNSUPPORTED_METHOD:
      return ocip_error_fail (err, EBADMSG, "gzip: unknown compression method");
    case ISAL_INCORRECT_CHECKSUM:
      if (! d->gz.header_done)
        return ocip_error_fail (err, EBADMSG, "gzip: header crc mismatch");
      /* isal_inflate checked the member's trailer, the last 8 bytes it consumed: say which
         half is wrong, as zlib does.  */
      if (load_le32 (d->gz.tail) == s->crc && load_le32 (d->gz.tail + 4) != s->total_out)
        return ocip_error_fail (err, EBADMSG, "gzip: incorrect length check");
      return ocip_error_fail (err, EBADMSG, "gzip: incorrect data check");
    default:
      return ocip_error_fail (err, EIO, "gzip: isal_inflate failed with status %d", r);
    }
}

static ssize_t
isal_fill (struct ocip_decompress *d, ocip_error_t *err)
{
  ssize_t n = fill (d, err);

  if (n >= 0)
    {
      d->gz.isal->next_in = d->in;
      d->gz.isal->avail_in = n;
    }
  return n;
}

/* The same contract as gzip_read, with ISA-L.  Unlike zlib, ISA-L buffers input (up to 8
   bytes of bits, a cut header or trailer) and output (up to 64 KiB): with no input left it
   may still have output to give, and the end of the input is a truncation only once a
   call gave nothing.  */
static ssize_t
isal_gzip_read (struct ocip_decompress *d, void *buf, size_t len, ocip_error_t *err)
{
  struct inflate_state *s = d->gz.isal;
  unsigned char *before;
  ssize_t n;
  int r;

  if (len > UINT32_MAX)
    len = UINT32_MAX;
  s->next_out = buf;
  s->avail_out = len;
  for (;;)
    {
      if (d->gz.member_end)
        {
          if (s->avail_in == 0)
            {
              if ((n = isal_fill (d, err)) < 0)
                return n;
              /* The source ended right after a member: the proper end.  */
              if (n == 0)
                return 0;
            }
          /* Concatenated members are one valid gzip stream (RFC 1952 2.2, pigz, docker).
             isal_inflate_reset keeps the crc_flag.  */
          isal_inflate_reset (s);
          isal_member_start (d);
          d->gz.member_end = false;
          d->gz.later = true;
        }
      if ((r = gzip_check_magic (d, s->next_in, s->avail_in, d->gz.member_in, err)) < 0)
        return r;

      before = s->next_in;
      if (! d->gz.header_done)
        {
          r = isal_read_gzip_header (s, &d->gz.header);
          isal_consumed (d, before, s->next_in - before);
          if (r == ISAL_DECOMP_OK)
            d->gz.header_done = true; /* and wrapper_flag is set: isal_inflate skips it */
          else if (r != ISAL_END_INPUT)
            return isal_error (d, r, err);
          before = s->next_in;
        }
      if (d->gz.header_done)
        {
          r = isal_inflate (s);
          isal_consumed (d, before, s->next_in - before);
          if (r != ISAL_DECOMP_OK)
            return isal_error (d, r, err);
          if (s->avail_out < len)
            return len - s->avail_out;
          if (s->block_state == ISAL_BLOCK_FINISH)
            {
              d->gz.member_end = true;
              continue;
            }
        }

      /* Nothing came out: ISA-L took all it was given and waits for more.  */
      if (s->avail_in != 0)
        return ocip_error_fail (err, EIO, "gzip: isal_inflate stopped with %u bytes of input left", s->avail_in);
      if ((n = isal_fill (d, err)) < 0)
        return n;
      if (n == 0)
        {
          if (d->total_in == 0)
            return ocip_error_fail (err, EBADMSG, "gzip: empty input, not a gzip stream");
          return ocip_error_fail (err, EBADMSG, "gzip: truncated stream");
        }
    }
}
#endif

static int
zstd_error (size_t r, bool at_frame_boundary, ocip_error_t *err)
{
  switch (ZSTD_getErrorCode (r))
    {
    case ZSTD_error_frameParameter_windowTooLarge:
      return ocip_error_fail (err, E2BIG, "zstd: frame needs a window larger than %u MiB",
                             (1u << OCIP_DECOMPRESS_ZSTD_WINDOW_LOG) >> 20);
    case ZSTD_error_memory_allocation:
      /* The size comes from the frame, so this is the image's doing: an error, not an abort.  */
      return ocip_error_fail (err, ENOMEM, "zstd: %s", ZSTD_getErrorName (r));
    case ZSTD_error_prefix_unknown:
      if (at_frame_boundary)
        return ocip_error_fail (err, EBADMSG, "zstd: trailing data after the end of the stream");
      return ocip_error_fail (err, EBADMSG, "zstd: %s", ZSTD_getErrorName (r));
    default:
      return ocip_error_fail (err, EBADMSG, "zstd: %s", ZSTD_getErrorName (r));
    }
}

/* libzstd also decodes the legacy formats (v0.5-v0.7), but looks for their magic only
   in its current input buffer, so whether a legacy frame is taken depended on read
   sizes.  Only zstd frames (28 b5 2f fd) and skippable frames (5? 2a 4d 18) are layer
   data: each frame's four magic bytes are checked, one by one as they arrive, before
   libzstd sees them.  */
static int
zstd_check_magic (struct ocip_decompress *d, ocip_error_t *err)
{
  static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
  static const unsigned char skippable_magic[4] = { 0x50, 0x2a, 0x4d, 0x18 };
  uint64_t at = d->total_in - (d->zs.in.size - d->zs.in.pos);
  const unsigned char *in = d->zs.in.src;

  for (; d->zs.checked < d->zs.frame_start + 4 && d->zs.checked < d->total_in; d->zs.checked++)
    {
      unsigned k = (unsigned) (d->zs.checked - d->zs.frame_start);
      unsigned char c = in[d->zs.in.pos + (d->zs.checked - at)];
      bool ok;

      if (d->zs.checked < at)
        continue; /* consumed already: checked when it was in the buffer */
      if (k == 0)
        d->zs.first = c;
      ok = d->zs.first == zstd_magic[0] ? c == zstd_magic[k]
                                         : (k == 0 ? (c & 0xf0) == skippable_magic[0] : c == skippable_magic[k]);
      if (! ok)
        return ocip_error_fail (err, EBADMSG, d->zs.frame_start ? "zstd: trailing data after the end of the stream"
                                                               : "zstd: not a zstd stream");
    }
  return 0;
}

static ssize_t
zstd_read (struct ocip_decompress *d, void *buf, size_t len, ocip_error_t *err)
{
  ZSTD_outBuffer out = { buf, len, 0 };
  bool at_frame_boundary;
  ssize_t n;
  size_t r;

  for (;;)
    {
      if (d->zs.in.pos == d->zs.in.size)
        {
          if ((n = fill (d, err)) < 0)
            return n;
          d->zs.in.src = d->in;
          d->zs.in.size = n;
          d->zs.in.pos = 0;
        }
      if (d->total_in == 0)
        return ocip_error_fail (err, EBADMSG, "zstd: empty input, not a zstd stream");
      /* The last frame is complete and flushed, and nothing follows it: the proper end.  */
      at_frame_boundary = d->zs.hint == 0;
      if (at_frame_boundary && d->zs.in.pos == d->zs.in.size)
        return 0;

      if (zstd_check_magic (d, err) < 0)
        return -EBADMSG;
      /* Without new input this still flushes what a full output buffer left behind.  */
      r = ZSTD_decompressStream (d->zs.dctx, &out, &d->zs.in);
      if (ZSTD_isError (r))
        return zstd_error (r, at_frame_boundary, err);
      d->zs.hint = r;
      if (r == 0)
        d->zs.frame_start = d->zs.checked = d->total_in - (d->zs.in.size - d->zs.in.pos);
      if (out.pos > 0)
        return out.pos;
      if (r != 0 && d->zs.in.pos == d->zs.in.size && d->eof)
        return ocip_error_fail (err, EBADMSG, "zstd: truncated stream");
    }
}

int
ocip_decompress_new (enum ocip_compression compression, ocip_read_fn source, void *source_ctx,
                     struct ocip_decompress **ret, ocip_error_t *err)
{
  cleanup_decompress struct ocip_decompress *d = NULL;
  size_t zr;
  int r;

  if (codec_name (compression) == NULL)
    return ocip_error_fail (err, EINVAL, "decompress: unknown compression %d", (int) compression);

  d = xzalloc (sizeof *d);
  d->compression = compression;
  d->source = source;
  d->source_ctx = source_ctx;
  switch (compression)
    {
    case OCIP_COMPRESSION_GZIP:
      d->in = xmalloc (OCIP_DECOMPRESS_BUFFER);
#ifdef HAVE_ISAL
      if (gzip_use_isal ())
        {
          d->gz.isal = xmalloc (sizeof *d->gz.isal);
          isal_inflate_init (d->gz.isal);
          /* Parse each member's header, check its CRC-32 and ISIZE.  */
          d->gz.isal->crc_flag = ISAL_GZIP;
          /* Never NULL, even with nothing read yet: ISA-L copies from it.  */
          d->gz.isal->next_in = d->in;
          isal_member_start (d);
          break;
        }
#endif
      r = inflateInit2 (&d->gz.z, OCIP_DECOMPRESS_GZIP_WINDOW_BITS);
      if (r == Z_MEM_ERROR)
        abort ();
      if (r != Z_OK)
        return ocip_error_fail (err, EIO, "gzip: set up zlib %s: %s", zlibVersion (),
                               d->gz.z.msg ? d->gz.z.msg : zError (r));
      d->gz.ready = true;
      break;
    case OCIP_COMPRESSION_ZSTD:
      d->in = xmalloc (OCIP_DECOMPRESS_BUFFER);
      d->zs.dctx = ZSTD_createDCtx ();
      if (d->zs.dctx == NULL)
        abort ();
      zr = ZSTD_DCtx_setParameter (d->zs.dctx, ZSTD_d_windowLogMax, OCIP_DECOMPRESS_ZSTD_WINDOW_LOG);
      if (ZSTD_isError (zr))
        return ocip_error_fail (err, EIO, "zstd: set the window limit: %s", ZSTD_getErrorName (zr));
      d->zs.hint = 1; /* no frame yet */
      break;
    default:
      break;
    }
  *ret = steal_pointer (&d);
  return 0;
}

ssize_t
ocip_decompress_read (struct ocip_decompress *d, void *buf, size_t len, ocip_error_t *err)
{
  ssize_t n;

  if (d->failed)
    return ocip_error_fail (err, d->failed, "%s: read after an earlier error", codec_name (d->compression));
  /* 0 means the end: a zero-length read could not be told from it.  */
  if (len == 0)
    return ocip_error_fail (err, EINVAL, "%s: read of zero bytes", codec_name (d->compression));
  if (d->done)
    return 0;
  if (len > SSIZE_MAX)
    len = SSIZE_MAX;

  switch (d->compression)
    {
    case OCIP_COMPRESSION_GZIP:
#ifdef HAVE_ISAL
      if (d->gz.isal)
        {
          n = isal_gzip_read (d, buf, len, err);
          break;
        }
#endif
      n = gzip_read (d, buf, len, err);
      break;
    case OCIP_COMPRESSION_ZSTD:
      n = zstd_read (d, buf, len, err);
      break;
    default:
      n = source_read (d, buf, len, err);
      break;
    }
  if (n < 0)
    d->failed = n < -INT_MAX ? EIO : (int) -n;
  else if (n == 0)
    d->done = true;
  return n;
}

void
ocip_decompress_free (struct ocip_decompress *d)
{
  if (d == NULL)
    return;
  if (d->gz.ready)
    inflateEnd (&d->gz.z);
#ifdef HAVE_ISAL
  free (d->gz.isal);
#endif
  ZSTD_freeDCtx (d->zs.dctx);
  free (d->in);
  free (d);
}
