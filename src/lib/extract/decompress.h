/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming decompression of layer blobs (gzip, zstd or none, as the media type says) in bounded memory. */
#ifndef OCIP_DECOMPRESS_H
#define OCIP_DECOMPRESS_H

#include <stddef.h>
#include <sys/types.h>

#include <oci-prep/error.h>
#include <oci-prep/image.h>

/* Where the compressed bytes come from (a blob reader, say).  Reads up to LEN (> 0) bytes
   into BUF and returns the count (> 0, never more than LEN), 0 at the end, or a negative
   errno with *ERR set.  */
typedef ssize_t (*ocip_read_fn) (void *ctx, void *buf, size_t len, ocip_error_t *err);

struct ocip_decompress;

/* Start decoding the bytes SOURCE returns (called with SOURCE_CTX) as COMPRESSION, which
   the caller takes from the layer's media type: the content is never sniffed, and no
   external program is ever run.  The decoder keeps SOURCE and SOURCE_CTX, which must
   outlive it; it does not own SOURCE_CTX.  Memory does not depend on the stream's length:
   a 128 KiB input buffer, plus for gzip ISA-L's 85 KiB inflate state (zlib's 32 KiB window
   where ISA-L is not used), plus for zstd the window each frame declares, refused over
   128 MiB.  Gzip is inflated by ISA-L's igzip when oci-prep was built with it (configure
   --with-isal, the default when libisal is found), else by zlib; the environment variable
   OCI_PREP_INFLATE=zlib, read here, forces zlib (the tests run every gzip test both ways).
   Both follow the contract below; only the wording of some corrupt-data messages differs.
   Returns 0 and a decoder owned by the caller (free it with ocip_decompress_free), or
   -EINVAL for an unknown COMPRESSION, or -EIO if the compression library cannot be set up,
   with *ERR set.  */
int ocip_decompress_new (enum ocip_compression compression, ocip_read_fn source, void *source_ctx,
                         struct ocip_decompress **ret, ocip_error_t *err);

/* Read up to LEN (> 0) uncompressed bytes into BUF.  Returns the count (> 0), or 0 at the
   proper end of the stream, or a negative errno with *ERR set.  0 is returned only once
   SOURCE itself returned 0 (so a verifying source has checked its whole input), and then
   again on every later call.
   GZIP: every member must be followed by the end or by another gzip member.  EBADMSG for
   an empty input, a first member that is not gzip, data after the last member that is not
   a gzip member ("gzip: trailing data after the end of the stream", zero padding
   included), a truncated stream, corrupt data or a bad CRC or length.
   ZSTD: any number of frames, skippable ones included.  E2BIG for a frame whose window is
   over 128 MiB; EBADMSG for an empty input, garbage, trailing data, a truncated stream or
   a bad checksum.
   NONE: the source's bytes, read straight into BUF.
   Messages start with "gzip: ", "zstd: " or "plain: " so that the caller can wrap them with
   the layer's name.  An error from SOURCE is returned as SOURCE set it, unchanged.  A zero
   LEN is EINVAL.  After an error, every later call fails with the same class.  Bytes
   already returned before an error must be discarded by the caller.  */
ssize_t ocip_decompress_read (struct ocip_decompress *d, void *buf, size_t len, ocip_error_t *err);

/* Free D and its compression state (NULL is fine).  The source is not touched.  */
void ocip_decompress_free (struct ocip_decompress *d);

static inline void
ocip_decompress_freep (struct ocip_decompress **d)
{
  ocip_decompress_free (*d);
}
#define cleanup_decompress __attribute__ ((cleanup (ocip_decompress_freep)))

#endif
