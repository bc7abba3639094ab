/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The digest of one regular file's bytes, as the tree digest (treehash) records it. */
#ifndef OCIP_CONTENT_H
#define OCIP_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* XXH3-128 in hex.  Not cryptographic, on purpose: it guards a layer in the store
   against corruption and stray edits (store fsck --deep), and whoever can rewrite a
   layer's files can rewrite the meta.json that records the digest too.  It runs at
   memory speed, so extraction computes it on the bytes it writes, for free.  */
#define OCIP_CONTENT_DIGEST_LEN 32

/* What the digest is taken over.  PLAIN: the file's bytes (tree digest format 2).
   BLOCKS: the file cut into OCIP_CONTENT_BLOCK-byte blocks at fixed offsets, each
   block of zeros counted instead of hashed, each run of them hashed as one length
   (format 3).  Both are functions of the bytes alone, whatever holes the filesystem
   keeps; BLOCKS makes a hole (or any run of zeros) cost O(1) instead of its size, so
   a layer declaring a huge sparse file is not read or hashed byte by byte (a
   300-byte layer declaring 4 GiB took 13 s in format 2).  */
enum ocip_content_kind
{
  OCIP_CONTENT_PLAIN,
  OCIP_CONTENT_BLOCKS,
};
/* No filesystem keeps holes smaller than this, so the holes SEEK_HOLE reports start and
   end on block boundaries, but at the end of the file.  */
#define OCIP_CONTENT_BLOCK 4096

struct ocip_content_hasher;

/* A hasher of KIND, ready for a first file.  Never NULL (aborts when out of memory);
   free with ocip_content_hasher_free.  */
struct ocip_content_hasher *ocip_content_hasher_new (enum ocip_content_kind kind);
/* The next LEN bytes of the file.  */
void ocip_content_hasher_update (struct ocip_content_hasher *h, const void *data, size_t len);
/* The next LEN bytes of the file are zeros (a hole): the same digest as passing them
   to ocip_content_hasher_update, in O(1) time for BLOCKS (O(LEN), nothing read, for
   PLAIN).  */
void ocip_content_hasher_zeros (struct ocip_content_hasher *h, uint64_t len);
/* Write the digest of what was added as OCIP_CONTENT_DIGEST_LEN hex digits and a NUL
   into RET, and start over for the next file.  */
void ocip_content_hasher_final (struct ocip_content_hasher *h, char ret[OCIP_CONTENT_DIGEST_LEN + 1]);
void ocip_content_hasher_free (struct ocip_content_hasher *h);

static inline void
ocip_content_hasher_freep (struct ocip_content_hasher **h)
{
  ocip_content_hasher_free (*h);
}
#define cleanup_content_hasher __attribute__ ((cleanup (ocip_content_hasher_freep)))

/* A regular file whose content digest extraction computed (kind BLOCKS), by inode
   number: the tree digest of the layer just written takes it from here instead of
   reading the file.  */
struct ocip_file_content
{
  ino_t ino;
  char digest[OCIP_CONTENT_DIGEST_LEN + 1];
};

#endif
