/* SPDX-License-Identifier: GPL-2.0-or-later */
/* content: XXH3-128 of a regular file's bytes (the only user of libxxhash). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <xxhash.h>

#include <oci-prep/content.h>

struct ocip_content_hasher
{
  XXH3_state_t *state;
};

struct ocip_content_hasher *
ocip_content_hasher_new (void)
{
  struct ocip_content_hasher *h = malloc (sizeof *h);

  if (h == NULL || (h->state = XXH3_createState ()) == NULL)
    abort ();
  XXH3_128bits_reset (h->state);
  return h;
}

void
ocip_content_hasher_update (struct ocip_content_hasher *h, const void *data, size_t len)
{
  /* Only a NULL input with a length fails.  */
  (void) XXH3_128bits_update (h->state, data, len);
}

void
ocip_content_hasher_final (struct ocip_content_hasher *h, char ret[OCIP_CONTENT_DIGEST_LEN + 1])
{
  XXH128_hash_t d = XXH3_128bits_digest (h->state);

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
