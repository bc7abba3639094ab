/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Digest grammar and hashing; the only user of libcrypto. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/digest.h>

static const struct
{
  const char *name;
  size_t hex_len;
} algorithms[] = {
  [OCIP_DIGEST_SHA256] = { "sha256", 64 },
  [OCIP_DIGEST_SHA512] = { "sha512", 128 },
};

const char *
ocip_digest_alg_name (enum ocip_digest_alg alg)
{
  return algorithms[alg].name;
}

const char *
ocip_digest_hex (const struct ocip_digest *d)
{
  return d->str + strlen (algorithms[d->alg].name) + 1;
}

bool
ocip_digest_equal (const struct ocip_digest *a, const struct ocip_digest *b)
{
  return a->alg == b->alg && strcmp (a->str, b->str) == 0;
}

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* algorithm ::= component (separator component)*, component ::= [a-z0-9]+,
   separator ::= [+._-]  */
static bool
valid_algorithm (const char *s, size_t len)
{
  size_t i;
  bool after_separator = true;

  if (len == 0)
    return false;
  for (i = 0; i < len; i++)
    {
      if (is_lower_alnum (s[i]))
        after_separator = false;
      else if (strchr ("+._-", s[i]) && ! after_separator)
        after_separator = true;
      else
        return false;
    }
  return ! after_separator;
}

/* encoded ::= [a-zA-Z0-9=_-]+  */
static bool
valid_encoded (const char *s)
{
  return *s && strspn (s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=_-") == strlen (s);
}

int
ocip_digest_parse (const char *s, struct ocip_digest *ret, ocip_error_t *err)
{
  const char *colon = strchr (s, ':');
  const char *hex;
  size_t alg_len, i;

  if (colon == NULL)
    return ocip_error_fail (err, EINVAL, "invalid digest '%s': no ':' separator", s);
  alg_len = colon - s;
  hex = colon + 1;
  if (! valid_algorithm (s, alg_len) || ! valid_encoded (hex))
    return ocip_error_fail (err, EINVAL, "invalid digest '%s'", s);

  for (i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++)
    {
      if (strlen (algorithms[i].name) != alg_len || strncmp (s, algorithms[i].name, alg_len) != 0)
        continue;
      /* The registered algorithms are lowercase hex of a fixed length.  */
      if (strlen (hex) != algorithms[i].hex_len || strspn (hex, "0123456789abcdef") != algorithms[i].hex_len)
        return ocip_error_fail (err, EINVAL, "invalid digest '%s': %s needs %zu lowercase hex digits", s,
                               algorithms[i].name, algorithms[i].hex_len);
      ret->alg = (enum ocip_digest_alg) i;
      memcpy (ret->str, s, alg_len + 1 + algorithms[i].hex_len + 1);
      return 0;
    }
  return ocip_error_fail (err, ENOTSUP, "unsupported digest algorithm '%.*s' in '%s'", (int) alg_len, s, s);
}

struct ocip_hasher
{
  enum ocip_digest_alg alg;
  EVP_MD_CTX *ctx;
};

struct ocip_hasher *
ocip_hasher_new (enum ocip_digest_alg alg)
{
  struct ocip_hasher *h = xmalloc (sizeof *h);

  h->alg = alg;
  h->ctx = EVP_MD_CTX_new ();
  if (h->ctx == NULL
      || ! EVP_DigestInit_ex (h->ctx, alg == OCIP_DIGEST_SHA256 ? EVP_sha256 () : EVP_sha512 (), NULL))
    abort ();
  return h;
}

void
ocip_hasher_update (struct ocip_hasher *h, const void *data, size_t len)
{
  if (! EVP_DigestUpdate (h->ctx, data, len))
    abort ();
}

void
ocip_hasher_final (struct ocip_hasher *h, struct ocip_digest *ret)
{
  static const char hexdigits[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0, i;
  char *p;

  if (! EVP_DigestFinal_ex (h->ctx, md, &md_len))
    abort ();
  ret->alg = h->alg;
  p = stpcpy (ret->str, algorithms[h->alg].name);
  *p++ = ':';
  for (i = 0; i < md_len; i++)
    {
      *p++ = hexdigits[md[i] >> 4];
      *p++ = hexdigits[md[i] & 0xf];
    }
  *p = '\0';
}

void
ocip_hasher_free (struct ocip_hasher *h)
{
  if (h == NULL)
    return;
  EVP_MD_CTX_free (h->ctx);
  free (h);
}

void
ocip_digest_buffer (enum ocip_digest_alg alg, const void *data, size_t len, struct ocip_digest *ret)
{
  cleanup_hasher struct ocip_hasher *h = ocip_hasher_new (alg);

  ocip_hasher_update (h, data, len);
  ocip_hasher_final (h, ret);
}
