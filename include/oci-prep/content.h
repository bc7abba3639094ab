/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The digest of one regular file's bytes, as the tree digest (treehash) records it. */
#ifndef OCIP_CONTENT_H
#define OCIP_CONTENT_H

#include <stddef.h>
#include <sys/types.h>

/* XXH3-128 in hex.  Not cryptographic, on purpose: it guards a layer in the store
   against corruption and stray edits (store fsck --deep), and whoever can rewrite a
   layer's files can rewrite the meta.json that records the digest too.  It runs at
   memory speed, so extraction computes it on the bytes it writes, for free.  */
#define OCIP_CONTENT_DIGEST_LEN 32

struct ocip_content_hasher;

/* A hasher, ready for a first file.  Never NULL (aborts when out of memory); free with
   ocip_content_hasher_free.  */
struct ocip_content_hasher *ocip_content_hasher_new (void);
void ocip_content_hasher_update (struct ocip_content_hasher *h, const void *data, size_t len);
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

/* A regular file whose content digest extraction computed, by inode number: the tree
   digest of the layer just written takes it from here instead of reading the file.  */
struct ocip_file_content
{
  ino_t ino;
  char digest[OCIP_CONTENT_DIGEST_LEN + 1];
};

#endif
