/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: index, manifest and image config parsing, media types and platforms. */
#include "config.h"

#include <string.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/image.h>
#include "base/json.h"
#include <oci-prep/limits.h>

#include "fuzz_common.h"

/* The media type the referrer claims, picked by the selector byte.  */
static const char *const expected_types[8] = {
  OCIP_MEDIA_TYPE_INDEX,
  OCIP_MEDIA_TYPE_DOCKER_LIST,
  OCIP_MEDIA_TYPE_MANIFEST,
  OCIP_MEDIA_TYPE_DOCKER_MANIFEST,
  OCIP_MEDIA_TYPE_CONFIG,
  OCIP_MEDIA_TYPE_DOCKER_CONFIG,
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/json",
};

static const struct ocip_platform wanted[] = {
  { (char *) "linux", (char *) "amd64", NULL },
  { (char *) "linux", (char *) "arm64", NULL },
  { (char *) "linux", (char *) "arm", (char *) "v7" },
  { (char *) "windows", (char *) "amd64", NULL },
};

static void
check_platform (const struct ocip_platform *p)
{
  cleanup_free char *s = ocip_platform_string (p);
  struct ocip_platform copy;
  size_t i;

  ocip_platform_copy (p, &copy);
  for (i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
    FUZZ_CHECK (ocip_platform_match (&wanted[i], p) == ocip_platform_match (&wanted[i], &copy),
                "a copy of platform '%s' matches differently", s);
  /* Matching is symmetric once both sides have an os and an architecture.  */
  if (p->os && p->architecture)
    for (i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
      FUZZ_CHECK (ocip_platform_match (&wanted[i], p) == ocip_platform_match (p, &wanted[i]),
                  "platform '%s' matches asymmetrically", s);
  ocip_platform_clear (&copy);
}

static void
check_descriptor (const struct ocip_descriptor *d)
{
  struct ocip_descriptor copy;
  enum ocip_compression c;
  ocip_error_t err = NULL;

  FUZZ_CHECK (d->media_type != NULL && d->size >= 0, "descriptor without media type or with a negative size");
  ocip_media_type_kind (d->media_type);
  if (fuzz_check_result ("ocip_media_type_compression", ocip_media_type_compression (d->media_type, &c, &err),
                         &err)
      == 0)
    FUZZ_CHECK (ocip_media_type_kind (d->media_type) == OCIP_KIND_LAYER && ocip_compression_name (c) != NULL,
                "'%s' has a compression but is no layer", d->media_type);
  if (d->has_platform)
    check_platform (&d->platform);
  ocip_descriptor_copy (d, &copy);
  FUZZ_CHECK (ocip_digest_equal (&copy.digest, &d->digest), "a descriptor copy has another digest");
  ocip_descriptor_clear (&copy);
}

/* The number of rootfs.diff_ids, so that the config gets past that check.  */
static size_t
count_diff_ids (const char *buf, size_t len)
{
  cleanup_json struct ocip_json *doc = NULL;
  ocip_error_t err = NULL;
  size_t n;

  if (ocip_json_parse (buf, len, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, &err) < 0)
    {
      ocip_error_release (&err);
      return 0;
    }
  n = ocip_json_array_len (ocip_json_object_get (ocip_json_object_get (ocip_json_root (doc), "rootfs"), "diff_ids"));
  return n > OCIP_LIMIT_LAYERS ? 0 : n;
}

static void
parse_index (const char *buf, size_t len, const char *expected)
{
  struct ocip_index *idx = NULL;
  ocip_error_t err = NULL;
  size_t i;

  if (fuzz_check_result ("ocip_index_parse", ocip_index_parse (buf, len, expected, &idx, &err), &err) < 0)
    return;
  FUZZ_CHECK (idx->n_manifests <= OCIP_LIMIT_INDEX_ENTRIES, "an index of %zu entries", idx->n_manifests);
  for (i = 0; i < idx->n_manifests; i++)
    check_descriptor (&idx->manifests[i]);
  ocip_index_free (idx);
}

static void
parse_manifest (const char *buf, size_t len, const char *expected)
{
  struct ocip_manifest *m = NULL;
  ocip_error_t err = NULL;
  size_t i;

  if (fuzz_check_result ("ocip_manifest_parse", ocip_manifest_parse (buf, len, expected, &m, &err), &err) < 0)
    return;
  FUZZ_CHECK (ocip_media_type_kind (m->config.media_type) == OCIP_KIND_CONFIG, "config media type '%s' accepted",
              m->config.media_type);
  FUZZ_CHECK (m->n_layers <= OCIP_LIMIT_LAYERS, "a manifest of %zu layers", m->n_layers);
  check_descriptor (&m->config);
  for (i = 0; i < m->n_layers; i++)
    {
      check_descriptor (&m->layers[i]);
      FUZZ_CHECK (ocip_media_type_kind (m->layers[i].media_type) == OCIP_KIND_LAYER, "layer media type '%s' accepted",
                  m->layers[i].media_type);
    }
  ocip_manifest_free (m);
}

static void
parse_config (const char *buf, size_t len, size_t n_layers)
{
  struct ocip_image_config *c = NULL;
  ocip_error_t err = NULL;

  if (fuzz_check_result ("ocip_image_config_parse", ocip_image_config_parse (buf, len, n_layers, &c, &err), &err)
      < 0)
    return;
  FUZZ_CHECK (c->n_diff_ids == n_layers, "%zu diff_ids for %zu layers", c->n_diff_ids, n_layers);
  FUZZ_CHECK (c->platform.os && c->platform.architecture, "config without os or architecture");
  check_platform (&c->platform);
  if (n_layers > 0)
    {
      cleanup_free struct ocip_digest *chain = xcalloc (n_layers, sizeof *chain);
      ocip_chain_ids (c->diff_ids, n_layers, chain);
      FUZZ_CHECK (ocip_digest_equal (&chain[0], &c->diff_ids[0]), "chainID of the first layer is not its diffID");
    }
  if (c->labels)
    {
      size_t i;
      for (i = 0; c->labels[i]; i += 2)
        FUZZ_CHECK (c->labels[i + 1] != NULL, "label '%s' without a value", c->labels[i]);
    }
  ocip_image_config_free (c);
}

static void
parse_platform (const char *s)
{
  struct ocip_platform p;
  ocip_error_t err = NULL;

  if (fuzz_check_result ("ocip_platform_parse", ocip_platform_parse (s, &p, &err), &err) < 0)
    return;
  {
    cleanup_free char *back = ocip_platform_string (&p);
    FUZZ_CHECK (strcmp (back, s) == 0, "platform '%s' prints back as '%s'", s, back);
  }
  check_platform (&p);
  ocip_platform_clear (&p);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

/* Byte 0 selects: bits 0-1 what to parse (index, manifest, config, platform), bits 2-4
   the media type the referrer claims; for a config, bit 5 set takes bits 6-7 as the
   layer count instead of the document's own count.  The rest is the document.  */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *buf;
  size_t len;
  unsigned sel;

  if (size < 1)
    return 0;
  sel = data[0];
  buf = (const char *) data + 1;
  len = size - 1;
  switch (sel & 3)
    {
    case 0:
      parse_index (buf, len, expected_types[(sel >> 2) & 7]);
      break;
    case 1:
      parse_manifest (buf, len, expected_types[(sel >> 2) & 7]);
      break;
    case 2:
      parse_config (buf, len, (sel & 0x20) ? sel >> 6 : count_diff_ids (buf, len));
      break;
    default:
      {
        cleanup_free char *s = fuzz_strndup (data + 1, size - 1);
        parse_platform (s);
        break;
      }
    }
  return 0;
}
