/* SPDX-License-Identifier: GPL-2.0-or-later */
/* content: XXH3-128 of a regular file's bytes (the only user of libxxhash). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "base/content.h"

/* BLOCKS hashes a sequence of records: 'D' and the bytes of a block holding a non-zero
   byte (OCIP_CONTENT_BLOCK bytes, fewer for the file's last block), or 'Z' and the
   length (8 bytes, little endian) of a maximal run of zero blocks.  A 'D' record is as
   long as the rest of the stream allows up to a block, so the stream reads back one
   way only: two files with the same digest input have the same bytes.  */
struct ocip_content_hasher
{
  XXH3_state_t *state;
  enum ocip_content_kind kind;
  unsigned char block[OCIP_CONTENT_BLOCK]; /* the current block, so far */
  size_t block_len;
  uint64_t zero_run; /* zero bytes not yet hashed */
};

static const unsigned char zeros[64 * 1024];

struct ocip_content_hasher *
ocip_content_hasher_new (enum ocip_content_kind kind)
{
  struct ocip_content_hasher *h = calloc (1, sizeof *h);

  if (h == NULL || (h->state = XXH3_createState ()) == NULL)
    abort ();
  h->kind = kind;
  XXH3_128bits_reset (h->state);
  return h;
}

static bool
all_zero (const unsigned char *p, size_t len)
{
  return len == 0 || (p[0] == 0 && memcmp (p, p + 1, len - 1) == 0);
}

static void
flush_zero_run (struct ocip_content_hasher *h)
{
  unsigned char record[9] = { 'Z' };
  int i;

  if (h->zero_run == 0)
    return;
  for (i = 0; i < 8; i++)
    record[1 + i] = (unsigned char) (h->zero_run >> (8 * i));
  /* Only a NULL input with a length fails.  */
  (void) XXH3_128bits_update (h->state, record, sizeof record);
  h->zero_run = 0;
}

static void
put_block (struct ocip_content_hasher *h, const unsigned char *p, size_t len)
{
  if (all_zero (p, len))
    {
      h->zero_run += len;
      return;
    }
  flush_zero_run (h);
  (void) XXH3_128bits_update (h->state, "D", 1);
  (void) XXH3_128bits_update (h->state, p, len);
}

void
ocip_content_hasher_update (struct ocip_content_hasher *h, const void *data, size_t len)
{
  const unsigned char *p = data;

  if (h->kind == OCIP_CONTENT_PLAIN)
    {
      (void) XXH3_128bits_update (h->state, data, len);
      return;
    }
  while (len > 0)
    {
      size_t n;

      if (h->block_len == 0 && len >= OCIP_CONTENT_BLOCK)
        {
          put_block (h, p, OCIP_CONTENT_BLOCK);
          p += OCIP_CONTENT_BLOCK;
          len -= OCIP_CONTENT_BLOCK;
          continue;
        }
      n = OCIP_CONTENT_BLOCK - h->block_len < len ? OCIP_CONTENT_BLOCK - h->block_len : len;
      memcpy (h->block + h->block_len, p, n);
      h->block_len += n;
      p += n;
      len -= n;
      if (h->block_len == OCIP_CONTENT_BLOCK)
        {
          put_block (h, h->block, OCIP_CONTENT_BLOCK);
          h->block_len = 0;
        }
    }
}

void
ocip_content_hasher_zeros (struct ocip_content_hasher *h, uint64_t len)
{
  uint64_t whole;

  if (h->kind == OCIP_CONTENT_PLAIN)
    {
      while (len > 0)
        {
          size_t n = len < sizeof zeros ? (size_t) len : sizeof zeros;
          (void) XXH3_128bits_update (h->state, zeros, n);
          len -= n;
        }
      return;
    }
  if (h->block_len > 0)
    {
      size_t n = OCIP_CONTENT_BLOCK - h->block_len < len ? OCIP_CONTENT_BLOCK - h->block_len : (size_t) len;
      ocip_content_hasher_update (h, zeros, n);
      len -= n;
    }
  /* Now on a block boundary, or LEN is 0: whole blocks of zeros only lengthen the run.  */
  whole = len / OCIP_CONTENT_BLOCK * OCIP_CONTENT_BLOCK;
  h->zero_run += whole;
  ocip_content_hasher_update (h, zeros, (size_t) (len - whole));
}

void
ocip_content_hasher_final (struct ocip_content_hasher *h, char ret[OCIP_CONTENT_DIGEST_LEN + 1])
{
  XXH128_hash_t d;

  if (h->kind == OCIP_CONTENT_BLOCKS)
    {
      if (h->block_len > 0)
        put_block (h, h->block, h->block_len);
      flush_zero_run (h);
      h->block_len = 0;
    }
  d = XXH3_128bits_digest (h->state);
  snprintf (ret, OCIP_CONTENT_DIGEST_LEN + 1, "%016llx%016llx", (unsigned long long) d.high64,
            (unsigned long long) d.low64);
  XXH3_128bits_reset (h->state);
}

void
ocip_content_hasher_free (struct ocip_content_hasher *h)
{
  if (h == NULL)
    return;
  XXH3_freeState (h->state);
  free (h);
}
