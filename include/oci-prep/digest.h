/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Content digests: the image-spec "alg:encoded" grammar and streaming hashing. */
#ifndef OCIP_DIGEST_H
#define OCIP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <oci-prep/error.h>

enum ocip_digest_alg
{
  OCIP_DIGEST_SHA256,
  OCIP_DIGEST_SHA512,
};

/* "sha512:" + 128 hex + NUL.  */
#define OCIP_DIGEST_STRING_MAX (7 + 128 + 1)

/* A validated digest.  STR is its canonical text ("sha256:<64 lowercase hex>"), so a
   digest can be used to build a path ("blobs/sha256/<hex>") without further checks.  */
struct ocip_digest
{
  enum ocip_digest_alg alg;
  char str[OCIP_DIGEST_STRING_MAX];
};

/* Parse S per descriptor.md.  EINVAL for text that breaks the grammar or the registered
   algorithm's encoding (uppercase hex, wrong length), ENOTSUP for a well-formed digest
   of an algorithm other than sha256/sha512.  */
int ocip_digest_parse (const char *s, struct ocip_digest *ret, ocip_error_t *err);

/* "sha256" or "sha512" (a static string).  */
const char *ocip_digest_alg_name (enum ocip_digest_alg alg);
/* The encoded part (hex) of D: points into D.  */
const char *ocip_digest_hex (const struct ocip_digest *d);
bool ocip_digest_equal (const struct ocip_digest *a, const struct ocip_digest *b);
/* The digest of LEN bytes at DATA.  */
void ocip_digest_buffer (enum ocip_digest_alg alg, const void *data, size_t len, struct ocip_digest *ret);

/* Streaming hashing.  ocip_hasher_new never fails (out of memory aborts); the hasher
   is the caller's (ocip_hasher_free, NULL is fine) and is used by one thread at a
   time.  */
struct ocip_hasher;
struct ocip_hasher *ocip_hasher_new (enum ocip_digest_alg alg);
void ocip_hasher_update (struct ocip_hasher *h, const void *data, size_t len);
/* Finish into *RET; the hasher may not be updated afterwards.  */
void ocip_hasher_final (struct ocip_hasher *h, struct ocip_digest *ret);
void ocip_hasher_free (struct ocip_hasher *h);

static inline void
ocip_hasher_freep (struct ocip_hasher **h)
{
  ocip_hasher_free (*h);
}
#define cleanup_hasher __attribute__ ((cleanup (ocip_hasher_freep)))

#endif
