/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Index, manifest and image config documents: media types, validation, platforms. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/image.h>
#include "base/json.h"
#include "base/strv.h"
#include <oci-prep/limits.h>

static const struct
{
  const char *media_type;
  enum ocip_blob_kind kind;
  enum ocip_compression compression;
} media_types[] = {
  { OCIP_MEDIA_TYPE_INDEX, OCIP_KIND_INDEX, 0 },
  { OCIP_MEDIA_TYPE_DOCKER_LIST, OCIP_KIND_INDEX, 0 },
  { OCIP_MEDIA_TYPE_MANIFEST, OCIP_KIND_MANIFEST, 0 },
  { OCIP_MEDIA_TYPE_DOCKER_MANIFEST, OCIP_KIND_MANIFEST, 0 },
  { OCIP_MEDIA_TYPE_CONFIG, OCIP_KIND_CONFIG, 0 },
  { OCIP_MEDIA_TYPE_DOCKER_CONFIG, OCIP_KIND_CONFIG, 0 },
  { "application/vnd.oci.image.layer.v1.tar", OCIP_KIND_LAYER, OCIP_COMPRESSION_NONE },
  { "application/vnd.oci.image.layer.v1.tar+gzip", OCIP_KIND_LAYER, OCIP_COMPRESSION_GZIP },
  { "application/vnd.oci.image.layer.v1.tar+zstd", OCIP_KIND_LAYER, OCIP_COMPRESSION_ZSTD },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar", OCIP_KIND_LAYER, OCIP_COMPRESSION_NONE },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", OCIP_KIND_LAYER, OCIP_COMPRESSION_GZIP },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", OCIP_KIND_LAYER, OCIP_COMPRESSION_ZSTD },
  { "application/vnd.docker.image.rootfs.diff.tar", OCIP_KIND_LAYER, OCIP_COMPRESSION_NONE },
  { "application/vnd.docker.image.rootfs.diff.tar.gzip", OCIP_KIND_LAYER, OCIP_COMPRESSION_GZIP },
  { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", OCIP_KIND_LAYER, OCIP_COMPRESSION_GZIP },
};

#define N_MEDIA_TYPES (sizeof media_types / sizeof media_types[0])

enum ocip_blob_kind
ocip_media_type_kind (const char *media_type)
{
  size_t i;

  for (i = 0; i < N_MEDIA_TYPES; i++)
    if (strcmp (media_type, media_types[i].media_type) == 0)
      return media_types[i].kind;
  return OCIP_KIND_UNKNOWN;
}

int
ocip_media_type_compression (const char *media_type, enum ocip_compression *ret, ocip_error_t *err)
{
  size_t i;

  for (i = 0; i < N_MEDIA_TYPES; i++)
    if (media_types[i].kind == OCIP_KIND_LAYER && strcmp (media_type, media_types[i].media_type) == 0)
      {
        *ret = media_types[i].compression;
        return 0;
      }
  return ocip_error_fail (err, EINVAL, "unsupported layer media type '%s'", media_type);
}

const char *
ocip_compression_name (enum ocip_compression c)
{
  static const char *const names[] = { "none", "gzip", "zstd" };
  return names[c];
}

/* Platforms.  */

static bool
valid_platform_word (const char *s, size_t len)
{
  size_t i;

  if (len == 0 || len > 64)
    return false;
  for (i = 0; i < len; i++)
    if (! ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'
           || s[i] == '.'))
      return false;
  return true;
}

int
ocip_platform_parse (const char *s, struct ocip_platform *ret, ocip_error_t *err)
{
  const char *slash1 = strchr (s, '/');
  const char *slash2 = slash1 ? strchr (slash1 + 1, '/') : NULL;
  const char *arch_end = slash2 ? slash2 : s + strlen (s);

  if (slash1 == NULL || (slash2 && strchr (slash2 + 1, '/')) || ! valid_platform_word (s, slash1 - s)
      || ! valid_platform_word (slash1 + 1, arch_end - slash1 - 1)
      || (slash2 && ! valid_platform_word (slash2 + 1, strlen (slash2 + 1))))
    return ocip_error_fail (err, EINVAL, "invalid platform '%s': expected OS/ARCH[/VARIANT]", s);
  ret->os = xstrndup (s, slash1 - s);
  ret->architecture = xstrndup (slash1 + 1, arch_end - slash1 - 1);
  ret->variant = slash2 ? xstrdup (slash2 + 1) : NULL;
  return 0;
}

void
ocip_platform_host (struct ocip_platform *ret)
{
  static const struct
  {
    const char *machine, *arch, *variant;
  } arches[] = {
    { "x86_64", "amd64", NULL },  { "aarch64", "arm64", NULL }, { "armv7l", "arm", "v7" },
    { "armv6l", "arm", "v6" },    { "i686", "386", NULL },      { "i386", "386", NULL },
    { "ppc64le", "ppc64le", NULL }, { "s390x", "s390x", NULL }, { "riscv64", "riscv64", NULL },
  };
  struct utsname u;
  size_t i;

  ret->os = xstrdup ("linux");
  ret->architecture = NULL;
  ret->variant = NULL;
  if (uname (&u) == 0)
    for (i = 0; i < sizeof arches / sizeof arches[0]; i++)
      if (strcmp (u.machine, arches[i].machine) == 0)
        {
          ret->architecture = xstrdup (arches[i].arch);
          ret->variant = arches[i].variant ? xstrdup (arches[i].variant) : NULL;
          break;
        }
  if (ret->architecture == NULL)
    ret->architecture = xstrdup (uname (&u) == 0 ? u.machine : "unknown");
}

/* The variant an architecture means when none is written (as containerd normalises).  */
static const char *
default_variant (const char *arch)
{
  if (strcmp (arch, "arm64") == 0)
    return "v8";
  if (strcmp (arch, "arm") == 0)
    return "v7";
  return "";
}

bool
ocip_platform_match (const struct ocip_platform *want, const struct ocip_platform *have)
{
  const char *want_variant, *have_variant;

  if (have->os == NULL || have->architecture == NULL)
    return false;
  if (strcmp (want->os, have->os) != 0 || strcmp (want->architecture, have->architecture) != 0)
    return false;
  want_variant = want->variant ? want->variant : default_variant (want->architecture);
  have_variant = have->variant ? have->variant : default_variant (have->architecture);
  return strcmp (want_variant, have_variant) == 0;
}

char *
ocip_platform_string (const struct ocip_platform *p)
{
  return xasprintf ("%s/%s%s%s", p->os ? p->os : "?", p->architecture ? p->architecture : "?",
                    p->variant ? "/" : "", p->variant ? p->variant : "");
}

void
ocip_platform_copy (const struct ocip_platform *src, struct ocip_platform *dst)
{
  dst->os = src->os ? xstrdup (src->os) : NULL;
  dst->architecture = src->architecture ? xstrdup (src->architecture) : NULL;
  dst->variant = src->variant ? xstrdup (src->variant) : NULL;
}

void
ocip_platform_clear (struct ocip_platform *p)
{
  free (p->os);
  free (p->architecture);
  free (p->variant);
  p->os = p->architecture = p->variant = NULL;
}

/* Descriptors.  */

void
ocip_descriptor_copy (const struct ocip_descriptor *src, struct ocip_descriptor *dst)
{
  *dst = *src;
  dst->media_type = xstrdup (src->media_type);
  ocip_platform_copy (&src->platform, &dst->platform);
  dst->ref_name = src->ref_name ? xstrdup (src->ref_name) : NULL;
  dst->unsupported_digest = src->unsupported_digest ? xstrdup (src->unsupported_digest) : NULL;
  dst->artifact_type = src->artifact_type ? xstrdup (src->artifact_type) : NULL;
  dst->annotations = ocip_strv_dup (src->annotations);
}

void
ocip_descriptor_clear (struct ocip_descriptor *d)
{
  free (d->media_type);
  free (d->ref_name);
  free (d->unsupported_digest);
  free (d->artifact_type);
  ocip_strv_free (d->annotations);
  ocip_platform_clear (&d->platform);
  d->media_type = d->ref_name = d->unsupported_digest = d->artifact_type = NULL;
  d->annotations = NULL;
}

const char *
ocip_descriptor_annotation (const struct ocip_descriptor *d, const char *key)
{
  char **kv;

  for (kv = d->annotations; kv && *kv; kv += 2)
    if (strcmp (kv[0], key) == 0)
      return kv[1];
  return NULL;
}

bool
ocip_descriptor_is_artifact (const struct ocip_descriptor *d)
{
  return d->artifact_type != NULL || ocip_descriptor_annotation (d, OCIP_ANNOTATION_DOCKER_REFERENCE_TYPE) != NULL;
}

/* One side of a media type, RFC 6838 section 4.2: restricted-name = a letter or digit,
   then up to 126 of letters, digits and !#$&-^_.+  */
static bool
valid_restricted_name (const char *s, size_t len)
{
  static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t i;

  if (len == 0 || len > 127 || strchr (alnum, s[0]) == NULL)
    return false;
  for (i = 1; i < len; i++)
    if (s[i] == '\0' || (strchr (alnum, s[i]) == NULL && strchr ("!#$&-^_.+", s[i]) == NULL))
      return false;
  return true;
}

/* mediaType per RFC 6838: type "/" subtype, each a restricted-name (".foo/bar",
   "foo/.bar" and a side over 127 characters are not).  */
static bool
valid_media_type (const char *s)
{
  const char *slash = strchr (s, '/');

  return slash && valid_restricted_name (s, slash - s) && valid_restricted_name (slash + 1, strlen (slash + 1));
}

/* An absolute URI (RFC 3986): scheme ":" and a non-empty rest of URI characters only
   (no spaces, controls or non-ASCII, which must be percent-encoded).  */
static bool
valid_absolute_uri (const char *s)
{
  static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  static const char uri_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  "-._~:/?#[]@!$&'()*+,;=%";
  const char *colon = strchr (s, ':');
  const char *p;

  if (colon == NULL || colon == s || strchr (alpha, s[0]) == NULL || colon[1] == '\0')
    return false;
  for (p = s + 1; p < colon; p++)
    if (strchr (alpha, *p) == NULL && strchr ("0123456789+-.", *p) == NULL)
      return false;
  return strspn (colon + 1, uri_chars) == strlen (colon + 1);
}

/* The string members of the object KEY of OBJ as key, value, ..., NULL in *RET (NULL
   when absent); EINVAL for a value that is not a string.  */
static int
get_annotations (const struct ocip_json_node *obj, char ***ret, ocip_error_t *err)
{
  const struct ocip_json_node *node = NULL;
  size_t i, n;
  char **v;
  int r;

  *ret = NULL;
  if ((r = ocip_json_get_object (obj, "annotations", false, &node, err)) < 0 || node == NULL)
    return r;
  n = ocip_json_object_len (node);
  for (i = 0; i < n; i++)
    if (ocip_json_string (ocip_json_object_value_at (node, i)) == NULL)
      return ocip_error_fail (err, EINVAL, "annotation '%s' is not a string", ocip_json_object_key_at (node, i));
  v = xcalloc (2 * n + 1, sizeof *v);
  for (i = 0; i < n; i++)
    {
      v[2 * i] = xstrdup (ocip_json_object_key_at (node, i));
      v[2 * i + 1] = xstrdup (ocip_json_string (ocip_json_object_value_at (node, i)));
    }
  *ret = v;
  return 0;
}

static int
parse_descriptor (const struct ocip_json_node *node, struct ocip_descriptor *ret, ocip_error_t *err)
{
  const struct ocip_json_node *platform = NULL, *urls = NULL;
  const char *media_type = NULL, *digest = NULL, *artifact_type = NULL;
  cleanup_strv char **annotations = NULL;
  ocip_error_t digest_err = NULL;
  size_t i;
  int r;

  memset (ret, 0, sizeof *ret);
  if (ocip_json_type (node) != OCIP_JSON_OBJECT)
    return ocip_error_fail (err, EINVAL, "descriptor is not an object");
  if ((r = ocip_json_get_string (node, "mediaType", true, &media_type, err)) < 0
      || (r = ocip_json_get_string (node, "digest", true, &digest, err)) < 0
      || (r = ocip_json_get_int64 (node, "size", true, &ret->size, err)) < 0
      || (r = ocip_json_get_object (node, "platform", false, &platform, err)) < 0
      || (r = ocip_json_get_string (node, "artifactType", false, &artifact_type, err)) < 0
      || (r = ocip_json_get_array (node, "urls", false, &urls, err)) < 0
      || (r = get_annotations (node, &annotations, err)) < 0)
    return r;
  if (! valid_media_type (media_type))
    return ocip_error_fail (err, EINVAL, "invalid mediaType '%s'", media_type);
  if (artifact_type && ! valid_media_type (artifact_type))
    return ocip_error_fail (err, EINVAL, "invalid artifactType '%s'", artifact_type);
  for (i = 0; urls && i < ocip_json_array_len (urls); i++)
    {
      const char *url = ocip_json_string (ocip_json_array_at (urls, i));
      if (url == NULL || ! valid_absolute_uri (url))
        return ocip_error_fail (err, EINVAL, "urls[%zu] is not an absolute URI", i);
    }
  if (ret->size < 0)
    return ocip_error_fail (err, EINVAL, "negative size %lld", (long long) ret->size);
  /* An algorithm we do not know, in valid grammar, is listed but never read: only
     the blobs actually needed must be verifiable (descriptor.md).  */
  if ((r = ocip_digest_parse (digest, &ret->digest, &digest_err)) < 0)
    {
      if (digest_err->status != ENOTSUP)
        {
          *err = digest_err;
          return r;
        }
      ocip_error_release (&digest_err);
      ret->unsupported_digest = xstrdup (digest);
    }
  if (platform)
    {
      const char *os = NULL, *arch = NULL, *variant = NULL;
      if ((r = ocip_json_get_string (platform, "os", true, &os, err)) < 0
          || (r = ocip_json_get_string (platform, "architecture", true, &arch, err)) < 0
          || (r = ocip_json_get_string (platform, "variant", false, &variant, err)) < 0)
        return ocip_error_wrap (err, "platform");
      ret->has_platform = true;
      ret->platform.os = xstrdup (os);
      ret->platform.architecture = xstrdup (arch);
      ret->platform.variant = variant ? xstrdup (variant) : NULL;
    }
  ret->media_type = xstrdup (media_type);
  ret->artifact_type = artifact_type ? xstrdup (artifact_type) : NULL;
  ret->annotations = steal_pointer (&annotations);
  ret->ref_name = ocip_descriptor_annotation (ret, OCIP_ANNOTATION_REF_NAME)
                      ? xstrdup (ocip_descriptor_annotation (ret, OCIP_ANNOTATION_REF_NAME))
                      : NULL;
  return 0;
}

/* Shared checks of index and manifest documents: schemaVersion 2, and a "mediaType"
   field, when present, equal to what the referrer said.  */
static int
check_document (const struct ocip_json_node *root, const char *expected, ocip_error_t *err)
{
  const char *media_type = NULL;
  int64_t version = 0;
  int r;

  if (ocip_json_type (root) != OCIP_JSON_OBJECT)
    return ocip_error_fail (err, EINVAL, "document is not a JSON object");
  if ((r = ocip_json_get_int64 (root, "schemaVersion", true, &version, err)) < 0)
    return r;
  if (version != 2)
    return ocip_error_fail (err, EINVAL, "unsupported schemaVersion %lld (expected 2)", (long long) version);
  if ((r = ocip_json_get_string (root, "mediaType", false, &media_type, err)) < 0)
    return r;
  if (media_type && strcmp (media_type, expected) != 0)
    return ocip_error_fail (err, EINVAL, "mediaType '%s' contradicts the descriptor's '%s'", media_type, expected);
  return 0;
}

static int
parse_descriptor_array (const struct ocip_json_node *array, const char *what, size_t limit,
                        struct ocip_descriptor **ret, size_t *ret_n, ocip_error_t *err)
{
  size_t i, n = ocip_json_array_len (array);
  struct ocip_descriptor *d;
  int r;

  if (n > limit)
    return ocip_error_fail (err, E2BIG, "%zu %s is over the limit of %zu", n, what, limit);
  d = xcalloc (n, sizeof *d);
  for (i = 0; i < n; i++)
    if ((r = parse_descriptor (ocip_json_array_at (array, i), &d[i], err)) < 0)
      {
        size_t failed = i;
        ocip_descriptor_clear (&d[i]);
        while (i > 0)
          ocip_descriptor_clear (&d[--i]);
        free (d);
        return ocip_error_wrap (err, "%s[%zu]", what, failed);
      }
  *ret = d;
  *ret_n = n;
  return 0;
}

int
ocip_index_parse (const char *buf, size_t len, const char *expected_media_type, struct ocip_index **ret,
                  ocip_error_t *err)
{
  cleanup_json struct ocip_json *doc = NULL;
  const struct ocip_json_node *root, *manifests = NULL;
  struct ocip_index *idx;
  int r;

  if ((r = ocip_json_parse (buf, len, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, err)) < 0)
    return r;
  root = ocip_json_root (doc);
  if ((r = check_document (root, expected_media_type, err)) < 0)
    return r;
  if (ocip_json_object_get (root, "config") || ocip_json_object_get (root, "layers"))
    return ocip_error_fail (err, EINVAL, "index has manifest fields ('config', 'layers')");
  if ((r = ocip_json_get_array (root, "manifests", true, &manifests, err)) < 0)
    return r;
  idx = xzalloc (sizeof *idx);
  if ((r = parse_descriptor_array (manifests, "manifests", OCIP_LIMIT_INDEX_ENTRIES, &idx->manifests,
                                   &idx->n_manifests, err))
      < 0)
    {
      free (idx);
      return r;
    }
  *ret = idx;
  return 0;
}

/* Whether every layer of M (one at least) is a JSON document of a type that is no
   layer: a cosign signature (application/vnd.dev.cosign.simplesigning.v1+json) or an
   in-toto attestation (application/vnd.in-toto+json) has an image config and such
   layers, and is an artifact, not an image with layers of unknown types.  */
static bool
json_layers_only (const struct ocip_manifest *m)
{
  size_t i, len;

  if (m->n_layers == 0)
    return false;
  for (i = 0; i < m->n_layers; i++)
    {
      len = strlen (m->layers[i].media_type);
      if (ocip_media_type_kind (m->layers[i].media_type) != OCIP_KIND_UNKNOWN || len < 5
          || strcmp (m->layers[i].media_type + len - 5, "+json") != 0)
        return false;
    }
  return true;
}

int
ocip_manifest_parse (const char *buf, size_t len, const char *expected_media_type, struct ocip_manifest **ret,
                     ocip_error_t *err)
{
  cleanup_json struct ocip_json *doc = NULL;
  const struct ocip_json_node *root, *config = NULL, *layers = NULL, *subject = NULL;
  const char *artifact_type = NULL;
  struct ocip_manifest *m;
  size_t i;
  int r;

  if ((r = ocip_json_parse (buf, len, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, err)) < 0)
    return r;
  root = ocip_json_root (doc);
  if ((r = check_document (root, expected_media_type, err)) < 0)
    return r;
  if (ocip_json_object_get (root, "manifests"))
    return ocip_error_fail (err, EINVAL, "manifest has an index field ('manifests')");
  if ((r = ocip_json_get_object (root, "config", true, &config, err)) < 0
      || (r = ocip_json_get_array (root, "layers", true, &layers, err)) < 0)
    return r;

  m = xzalloc (sizeof *m);
  if ((r = parse_descriptor (config, &m->config, err)) < 0)
    {
      ocip_error_wrap (err, "config");
      goto fail;
    }
  if ((r = ocip_json_get_string (root, "artifactType", false, &artifact_type, err)) < 0
      || (r = ocip_json_get_object (root, "subject", false, &subject, err)) < 0
      || (r = get_annotations (root, &m->annotations, err)) < 0)
    goto fail;
  if (artifact_type && ! valid_media_type (artifact_type))
    {
      r = ocip_error_fail (err, EINVAL, "invalid artifactType '%s'", artifact_type);
      goto fail;
    }
  if (subject)
    {
      if ((r = parse_descriptor (subject, &m->subject, err)) < 0)
        {
          ocip_error_wrap (err, "subject");
          goto fail;
        }
      m->has_subject = true;
    }
  if ((r = parse_descriptor_array (layers, "layers", OCIP_LIMIT_LAYERS, &m->layers, &m->n_layers, err)) < 0)
    goto fail;
  if (artifact_type)
    m->artifact_type = xstrdup (artifact_type);
  else if (strcmp (m->config.media_type, OCIP_MEDIA_TYPE_EMPTY) == 0)
    {
      /* image-spec: artifactType MUST be set when the config is the empty one.  */
      r = ocip_error_fail (err, EINVAL, "config mediaType '%s' is not an image config (and no artifactType is set)",
                           m->config.media_type);
      goto fail;
    }
  else if (ocip_media_type_kind (m->config.media_type) == OCIP_KIND_UNKNOWN)
    m->artifact_type = xstrdup (m->config.media_type); /* oras, helm: the config's type names the artifact */
  else if (ocip_media_type_kind (m->config.media_type) != OCIP_KIND_CONFIG)
    {
      /* An index, manifest or layer type as config is a confusion, not an artifact.  */
      r = ocip_error_fail (err, EINVAL, "config mediaType '%s' is not an image config", m->config.media_type);
      goto fail;
    }
  else if (json_layers_only (m))
    m->artifact_type = xstrdup (m->layers[0].media_type);
  if (m->artifact_type)
    {
      *ret = m;
      return 0;
    }
  for (i = 0; i < m->n_layers; i++)
    {
      enum ocip_compression c;
      if ((r = ocip_media_type_compression (m->layers[i].media_type, &c, err)) < 0)
        {
          ocip_error_wrap (err, "layers[%zu]", i);
          goto fail;
        }
    }
  *ret = m;
  return 0;

fail:
  ocip_manifest_free (m);
  return r;
}

static int
get_object_keys (const struct ocip_json_node *obj, const char *key, char ***ret, ocip_error_t *err)
{
  const struct ocip_json_node *node = NULL;
  size_t i, n;
  int r;

  *ret = NULL;
  if ((r = ocip_json_get_object (obj, key, false, &node, err)) < 0 || node == NULL)
    return r;
  n = ocip_json_object_len (node);
  *ret = xcalloc (n + 1, sizeof (char *));
  for (i = 0; i < n; i++)
    (*ret)[i] = xstrdup (ocip_json_object_key_at (node, i));
  return 0;
}

static int
get_labels (const struct ocip_json_node *obj, char ***ret, ocip_error_t *err)
{
  const struct ocip_json_node *node = NULL;
  size_t i, n;
  int r;

  *ret = NULL;
  if ((r = ocip_json_get_object (obj, "Labels", false, &node, err)) < 0 || node == NULL)
    return r;
  n = ocip_json_object_len (node);
  for (i = 0; i < n; i++)
    if (ocip_json_string (ocip_json_object_value_at (node, i)) == NULL)
      return ocip_error_fail (err, EINVAL, "label '%s' is not a string", ocip_json_object_key_at (node, i));
  *ret = xcalloc (2 * n + 1, sizeof (char *));
  for (i = 0; i < n; i++)
    {
      (*ret)[2 * i] = xstrdup (ocip_json_object_key_at (node, i));
      (*ret)[2 * i + 1] = xstrdup (ocip_json_string (ocip_json_object_value_at (node, i)));
    }
  return 0;
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

static int
parse_exec_config (const struct ocip_json_node *config, struct ocip_image_config *c, ocip_error_t *err)
{
  const char *user = NULL, *working_dir = NULL, *stop_signal = NULL;
  int r;

  if ((r = ocip_json_get_string (config, "User", false, &user, err)) < 0
      || (r = ocip_json_get_string (config, "WorkingDir", false, &working_dir, err)) < 0
      || (r = ocip_json_get_string (config, "StopSignal", false, &stop_signal, err)) < 0
      || (r = ocip_json_get_strv (config, "Env", false, &c->env, err)) < 0
      || (r = ocip_json_get_strv (config, "Entrypoint", false, &c->entrypoint, err)) < 0
      || (r = ocip_json_get_strv (config, "Cmd", false, &c->cmd, err)) < 0
      || (r = get_object_keys (config, "ExposedPorts", &c->exposed_ports, err)) < 0
      || (r = get_object_keys (config, "Volumes", &c->volumes, err)) < 0
      || (r = get_labels (config, &c->labels, err)) < 0)
    return ocip_error_wrap (err, "config");
  c->user = dup_or_null (user);
  c->working_dir = dup_or_null (working_dir);
  c->stop_signal = dup_or_null (stop_signal);
  return 0;
}

int
ocip_image_config_parse (const char *buf, size_t len, size_t n_layers, struct ocip_image_config **ret,
                         ocip_error_t *err)
{
  cleanup_json struct ocip_json *doc = NULL;
  const struct ocip_json_node *root, *config = NULL, *rootfs = NULL, *diff_ids = NULL;
  const char *created = NULL, *author = NULL, *os = NULL, *arch = NULL, *variant = NULL, *os_version = NULL,
             *rootfs_type = NULL;
  struct ocip_image_config *c;
  size_t i;
  int r;

  if ((r = ocip_json_parse (buf, len, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, err)) < 0)
    return r;
  root = ocip_json_root (doc);
  if (ocip_json_type (root) != OCIP_JSON_OBJECT)
    return ocip_error_fail (err, EINVAL, "document is not a JSON object");
  if ((r = ocip_json_get_string (root, "created", false, &created, err)) < 0
      || (r = ocip_json_get_string (root, "author", false, &author, err)) < 0
      || (r = ocip_json_get_string (root, "os", true, &os, err)) < 0
      || (r = ocip_json_get_string (root, "architecture", true, &arch, err)) < 0
      || (r = ocip_json_get_string (root, "variant", false, &variant, err)) < 0
      || (r = ocip_json_get_string (root, "os.version", false, &os_version, err)) < 0
      || (r = ocip_json_get_object (root, "config", false, &config, err)) < 0
      || (r = ocip_json_get_object (root, "rootfs", true, &rootfs, err)) < 0)
    return r;
  if ((r = ocip_json_get_string (rootfs, "type", true, &rootfs_type, err)) < 0
      || (r = ocip_json_get_array (rootfs, "diff_ids", true, &diff_ids, err)) < 0)
    return ocip_error_wrap (err, "rootfs");
  if (strcmp (rootfs_type, "layers") != 0)
    return ocip_error_fail (err, EINVAL, "rootfs.type is '%s', not 'layers'", rootfs_type);
  if (ocip_json_array_len (diff_ids) != n_layers)
    return ocip_error_fail (err, EINVAL, "rootfs.diff_ids has %zu entries for %zu layers",
                           ocip_json_array_len (diff_ids), n_layers);

  c = xzalloc (sizeof *c);
  c->diff_ids = xcalloc (n_layers, sizeof *c->diff_ids);
  c->n_diff_ids = n_layers;
  for (i = 0; i < n_layers; i++)
    {
      const char *s = ocip_json_string (ocip_json_array_at (diff_ids, i));
      if (s == NULL)
        {
          r = ocip_error_fail (err, EINVAL, "rootfs.diff_ids[%zu] is not a string", i);
          goto fail;
        }
      if ((r = ocip_digest_parse (s, &c->diff_ids[i], err)) < 0)
        {
          ocip_error_wrap (err, "rootfs.diff_ids[%zu]", i);
          goto fail;
        }
    }
  if ((r = ocip_json_get_strv (root, "os.features", false, &c->os_features, err)) < 0)
    goto fail;
  if (config && (r = parse_exec_config (config, c, err)) < 0)
    goto fail;
  c->created = dup_or_null (created);
  c->author = dup_or_null (author);
  c->platform.os = xstrdup (os);
  c->platform.architecture = xstrdup (arch);
  c->platform.variant = dup_or_null (variant);
  c->os_version = dup_or_null (os_version);
  *ret = c;
  return 0;

fail:
  ocip_image_config_free (c);
  return r;
}

void
ocip_index_free (struct ocip_index *idx)
{
  size_t i;

  if (idx == NULL)
    return;
  for (i = 0; i < idx->n_manifests; i++)
    ocip_descriptor_clear (&idx->manifests[i]);
  free (idx->manifests);
  free (idx);
}

void
ocip_manifest_free (struct ocip_manifest *m)
{
  size_t i;

  if (m == NULL)
    return;
  ocip_descriptor_clear (&m->config);
  for (i = 0; i < m->n_layers; i++)
    ocip_descriptor_clear (&m->layers[i]);
  free (m->layers);
  free (m->artifact_type);
  ocip_descriptor_clear (&m->subject);
  ocip_strv_free (m->annotations);
  free (m);
}

void
ocip_image_config_free (struct ocip_image_config *c)
{
  if (c == NULL)
    return;
  free (c->created);
  free (c->author);
  ocip_platform_clear (&c->platform);
  free (c->os_version);
  ocip_strv_free (c->os_features);
  free (c->user);
  ocip_strv_free (c->env);
  ocip_strv_free (c->entrypoint);
  ocip_strv_free (c->cmd);
  free (c->working_dir);
  free (c->stop_signal);
  ocip_strv_free (c->exposed_ports);
  ocip_strv_free (c->volumes);
  ocip_strv_free (c->labels);
  free (c->diff_ids);
  free (c);
}

void
ocip_chain_ids (const struct ocip_digest *diff_ids, size_t n, struct ocip_digest *ret)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      cleanup_free char *text = NULL;
      if (i == 0)
        {
          ret[0] = diff_ids[0];
          continue;
        }
      text = xasprintf ("%s %s", ret[i - 1].str, diff_ids[i].str);
      ocip_digest_buffer (OCIP_DIGEST_SHA256, text, strlen (text), &ret[i]);
    }
}
