#include "config.h"
/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for image: media types, platforms, index/manifest/config parsing and chain IDs. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/digest.h>
#include <oci-prep/error.h>
#include <oci-prep/image.h>
#include <oci-prep/limits.h>

/* Digests of the texts "cfg", "l0", "l1", "m" (printf m | sha256sum).  */
#define DG_CFG "sha256:e67d23e7820c49a8051dac2831f38290f5e72f66c8db5079eeb60d82f14894c0"
#define DG_L0 "sha256:48dbc45a6738318c9e35db13781199f18495e5a61272ff94b60b30b8079da5c1"
#define DG_L1 "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740"
#define DG_M "sha256:62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a"

/* DiffIDs: sha256 of "layer0", "layer1", "layer2".  */
#define DIFF0 "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e"
#define DIFF1 "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
#define DIFF2 "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
/* printf '%s %s' DIFF0 DIFF1 | sha256sum, then printf '%s %s' CHAIN1 DIFF2 | sha256sum.  */
#define CHAIN1 "sha256:ef232af0eb422cdfd7917631657cd8ed2bfd5b9461b37c427aa0d3e0a19adf79"
#define CHAIN2 "sha256:7ad3896338947cc04ee0b35b50d400ff32538d63f42f85ec87feac78bf71a54d"

#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* A descriptor as JSON text.  */
#define DESC(mt, dg, size) "{\"mediaType\": \"" mt "\", \"digest\": \"" dg "\", \"size\": " #size "}"

static void
expect_error (int r, ocip_error_t *err, int errnum, const char *what)
{
  cr_assert_eq (r, -errnum, "expected %d, got %d", -errnum, r);
  cr_assert_not_null (*err, "no error set");
  cr_assert_eq ((*err)->status, errnum, "status %d, expected %d (%s)", (*err)->status, errnum, (*err)->msg);
  cr_assert (strstr ((*err)->msg, what) != NULL, "message '%s' does not say '%s'", (*err)->msg, what);
  ocip_error_release (err);
}

/* Media types.  */

static const struct
{
  const char *media_type;
  enum ocip_blob_kind kind;
  enum ocip_compression compression;
} known_types[] = {
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

static const char *const unknown_types[] = {
  "application/json",
  "",
  "application/vnd.oci.image.layer.v1.tar+bzip2",
  "application/vnd.oci.image.layer.v1.tar+gzip ",
  "APPLICATION/VND.OCI.IMAGE.LAYER.V1.TAR",
  "application/vnd.oci.image.config.v1+json; charset=utf-8",
  "application/vnd.oci.empty.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
};

Test (image, media_type_kind_of_every_known_type)
{
  size_t i;

  for (i = 0; i < sizeof known_types / sizeof known_types[0]; i++)
    cr_assert_eq (ocip_media_type_kind (known_types[i].media_type), known_types[i].kind, "kind of '%s'",
                  known_types[i].media_type);
}

Test (image, media_type_kind_of_unknown_types)
{
  size_t i;

  for (i = 0; i < sizeof unknown_types / sizeof unknown_types[0]; i++)
    cr_assert_eq (ocip_media_type_kind (unknown_types[i]), OCIP_KIND_UNKNOWN, "kind of '%s'", unknown_types[i]);
}

Test (image, media_type_compression_of_every_layer_type)
{
  size_t i, n = 0;

  for (i = 0; i < sizeof known_types / sizeof known_types[0]; i++)
    {
      ocip_error_t err = NULL;
      enum ocip_compression c = 99;

      if (known_types[i].kind != OCIP_KIND_LAYER)
        continue;
      n++;
      cr_assert_eq (ocip_media_type_compression (known_types[i].media_type, &c, &err), 0, "'%s': %s",
                    known_types[i].media_type, err ? err->msg : "");
      cr_assert_eq (c, known_types[i].compression, "compression of '%s'", known_types[i].media_type);
    }
  cr_assert_eq (n, 9, "nine layer media types");
}

Test (image, media_type_compression_of_non_layer_is_einval)
{
  size_t i;

  for (i = 0; i < sizeof known_types / sizeof known_types[0]; i++)
    {
      ocip_error_t err = NULL;
      enum ocip_compression c = 99;

      if (known_types[i].kind == OCIP_KIND_LAYER)
        continue;
      expect_error (ocip_media_type_compression (known_types[i].media_type, &c, &err), &err, EINVAL,
                    known_types[i].media_type);
      cr_assert_eq (c, 99, "untouched on failure");
    }
}

Test (image, media_type_compression_of_unknown_is_einval)
{
  size_t i;

  for (i = 0; i < sizeof unknown_types / sizeof unknown_types[0]; i++)
    {
      ocip_error_t err = NULL;
      enum ocip_compression c;
      cleanup_free char *what = xasprintf ("unsupported layer media type '%s'", unknown_types[i]);

      expect_error (ocip_media_type_compression (unknown_types[i], &c, &err), &err, EINVAL, what);
    }
}

Test (image, compression_names)
{
  cr_assert_str_eq (ocip_compression_name (OCIP_COMPRESSION_NONE), "none", "none");
  cr_assert_str_eq (ocip_compression_name (OCIP_COMPRESSION_GZIP), "gzip", "gzip");
  cr_assert_str_eq (ocip_compression_name (OCIP_COMPRESSION_ZSTD), "zstd", "zstd");
}

/* Platforms.  */

Test (image, platform_parse_valid)
{
  ocip_error_t err = NULL;
  struct ocip_platform p;
  cleanup_free char *s1 = NULL;
  cleanup_free char *s2 = NULL;

  cr_assert_eq (ocip_platform_parse ("linux/amd64", &p, &err), 0, "linux/amd64: %s", err ? err->msg : "");
  cr_assert_str_eq (p.os, "linux", "os");
  cr_assert_str_eq (p.architecture, "amd64", "architecture");
  cr_assert_null (p.variant, "no variant");
  s1 = ocip_platform_string (&p);
  cr_assert_str_eq (s1, "linux/amd64", "string form");
  ocip_platform_clear (&p);
  cr_assert_null (p.os, "cleared");

  cr_assert_eq (ocip_platform_parse ("linux/arm64/v8", &p, &err), 0, "linux/arm64/v8: %s", err ? err->msg : "");
  cr_assert_str_eq (p.os, "linux", "os");
  cr_assert_str_eq (p.architecture, "arm64", "architecture");
  cr_assert_str_eq (p.variant, "v8", "variant");
  s2 = ocip_platform_string (&p);
  cr_assert_str_eq (s2, "linux/arm64/v8", "string form");
  ocip_platform_clear (&p);

  cr_assert_eq (ocip_platform_parse ("windows/x86_64.v2-x/v3", &p, &err), 0, "allowed punctuation");
  cr_assert_str_eq (p.architecture, "x86_64.v2-x", "architecture with punctuation");
  ocip_platform_clear (&p);
}

Test (image, platform_parse_invalid_is_einval)
{
  static const char *const cases[] = {
    "linux", "linux/", "/amd64", "a/b/c/d", "Linux/AMD64", "linux/AMD64", "", "/", "//", "linux//v8",
    "linux/arm64/", "linux/amd64 ", " linux/amd64", "linux/am d64", "linux/amd64/v8/", "linux/amd\xc3\xa9",
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      ocip_error_t err = NULL;
      struct ocip_platform p = { (char *) "x", (char *) "y", (char *) "z" };
      cleanup_free char *what = xasprintf ("invalid platform '%s'", cases[i]);

      expect_error (ocip_platform_parse (cases[i], &p, &err), &err, EINVAL, what);
      cr_assert_str_eq (p.os, "x", "'%s': output untouched on failure", cases[i]);
    }
}

Test (image, platform_host_is_linux)
{
  struct ocip_platform p;

  ocip_platform_host (&p);
  cr_assert_str_eq (p.os, "linux", "host os");
  cr_assert_not_null (p.architecture, "host architecture");
#if defined(__x86_64__)
  cr_assert_str_eq (p.architecture, "amd64", "GOARCH of x86_64");
  cr_assert_null (p.variant, "no variant on amd64");
#endif
  ocip_platform_clear (&p);
}

Test (image, platform_copy)
{
  struct ocip_platform src = { (char *) "linux", (char *) "arm", (char *) "v6" }, dst;

  ocip_platform_copy (&src, &dst);
  cr_assert_str_eq (dst.os, "linux", "os");
  cr_assert_str_eq (dst.variant, "v6", "variant");
  cr_assert_neq (dst.os, src.os, "a copy, not an alias");
  ocip_platform_clear (&dst);
}

static bool
match (const char *want, const char *have)
{
  ocip_error_t err = NULL;
  struct ocip_platform w, h;
  bool r;

  cr_assert_eq (ocip_platform_parse (want, &w, &err), 0, "parse %s", want);
  cr_assert_eq (ocip_platform_parse (have, &h, &err), 0, "parse %s", have);
  r = ocip_platform_match (&w, &h);
  ocip_platform_clear (&w);
  ocip_platform_clear (&h);
  return r;
}

Test (image, platform_match_exact)
{
  cr_assert (match ("linux/amd64", "linux/amd64"), "same platform");
  cr_assert (match ("linux/arm/v6", "linux/arm/v6"), "same variant");
  cr_assert_not (match ("linux/amd64", "windows/amd64"), "other os");
  cr_assert_not (match ("linux/amd64", "linux/arm64"), "other architecture");
  cr_assert_not (match ("linux/arm/v7", "linux/arm/v6"), "other variant");
}

Test (image, platform_match_arm64_default_variant)
{
  cr_assert (match ("linux/arm64", "linux/arm64/v8"), "arm64 with no variant accepts v8");
  cr_assert (match ("linux/arm64", "linux/arm64"), "arm64 with no variant accepts no variant");
  cr_assert_not (match ("linux/arm64", "linux/arm64/v9"), "arm64 with no variant rejects v9");
  cr_assert (match ("linux/arm64/v8", "linux/arm64/v8"), "v8 accepts v8");
}

Test (image, platform_match_amd64_variant)
{
  cr_assert_not (match ("linux/amd64", "linux/amd64/v3"), "amd64 with no variant rejects amd64/v3");
  cr_assert_not (match ("linux/amd64/v3", "linux/amd64"), "amd64/v3 rejects amd64 with no variant");
  cr_assert (match ("linux/amd64/v3", "linux/amd64/v3"), "amd64/v3 accepts amd64/v3");
}

Test (image, platform_match_arm_defaults_to_v7)
{
  /* image.h: a missing variant reads as the architecture's default, as containerd
     normalises it: v7 on arm.  */
  cr_assert (match ("linux/arm", "linux/arm"), "arm accepts arm");
  cr_assert_not (match ("linux/arm", "linux/arm/v6"), "arm with no variant rejects arm/v6");
  cr_assert (match ("linux/arm", "linux/arm/v7"), "arm with no variant means arm/v7");
  cr_assert (match ("linux/arm/v7", "linux/arm"), "an arm image with no variant is v7");
  cr_assert_not (match ("linux/arm/v6", "linux/arm"), "arm/v6 rejects arm, which means v7");
}

Test (image, platform_match_incomplete_have)
{
  struct ocip_platform want = { (char *) "linux", (char *) "amd64", NULL };
  struct ocip_platform no_arch = { (char *) "linux", NULL, NULL };
  struct ocip_platform no_os = { NULL, (char *) "amd64", NULL };

  cr_assert_not (ocip_platform_match (&want, &no_arch), "no architecture");
  cr_assert_not (ocip_platform_match (&want, &no_os), "no os");
}

/* Index.  */

static const char good_index[]
    = "{\"schemaVersion\": 2, \"mediaType\": \"" OCIP_MEDIA_TYPE_INDEX "\", \"manifests\": ["
      "{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST "\", \"digest\": \"" DG_M "\", \"size\": 1234, "
      "\"platform\": {\"os\": \"linux\", \"architecture\": \"arm64\", \"variant\": \"v8\", \"os.features\": []}, "
      "\"annotations\": {\"" OCIP_ANNOTATION_REF_NAME "\": \"latest\", \"other\": \"x\"}},"
      "{\"mediaType\": \"" OCIP_MEDIA_TYPE_INDEX "\", \"digest\": \"" DG_L0 "\", \"size\": 0, \"unknown\": 1}"
      "], \"annotations\": {\"a\": \"b\"}, \"unknownField\": [1]}";

static int
index_parse (const char *text, struct ocip_index **ret, ocip_error_t *err)
{
  return ocip_index_parse (text, strlen (text), OCIP_MEDIA_TYPE_INDEX, ret, err);
}

Test (image, index_parse_good)
{
  ocip_error_t err = NULL;
  struct ocip_index *idx = NULL;
  const struct ocip_descriptor *d;

  cr_assert_eq (index_parse (good_index, &idx, &err), 0, "good index: %s", err ? err->msg : "");
  cr_assert_eq (idx->n_manifests, 2, "two descriptors");
  d = &idx->manifests[0];
  cr_assert_str_eq (d->media_type, OCIP_MEDIA_TYPE_MANIFEST, "media type");
  cr_assert_str_eq (d->digest.str, DG_M, "digest");
  cr_assert_eq (d->digest.alg, OCIP_DIGEST_SHA256, "digest algorithm");
  cr_assert_eq (d->size, 1234, "size");
  cr_assert (d->has_platform, "platform");
  cr_assert_str_eq (d->platform.os, "linux", "platform os");
  cr_assert_str_eq (d->platform.architecture, "arm64", "platform architecture");
  cr_assert_str_eq (d->platform.variant, "v8", "platform variant");
  cr_assert_str_eq (d->ref_name, "latest", "ref name annotation extracted");
  d = &idx->manifests[1];
  cr_assert_str_eq (d->media_type, OCIP_MEDIA_TYPE_INDEX, "nested index");
  cr_assert_eq (d->size, 0, "size 0");
  cr_assert_not (d->has_platform, "no platform");
  cr_assert_null (d->platform.os, "no platform os");
  cr_assert_null (d->ref_name, "no ref name");
  ocip_index_free (idx);
}

Test (image, index_without_media_type_and_empty)
{
  static const char text[] = "{\"schemaVersion\": 2, \"manifests\": []}";
  ocip_error_t err = NULL;
  struct ocip_index *idx = NULL;

  cr_assert_eq (index_parse (text, &idx, &err), 0, "minimal index: %s", err ? err->msg : "");
  cr_assert_eq (idx->n_manifests, 0, "no descriptors");
  ocip_index_free (idx);
  ocip_index_free (NULL);
}

Test (image, index_docker_list)
{
  static const char text[] = "{\"schemaVersion\": 2, \"mediaType\": \"" OCIP_MEDIA_TYPE_DOCKER_LIST "\", "
                             "\"manifests\": [" DESC (OCIP_MEDIA_TYPE_DOCKER_MANIFEST, DG_M, 10) "]}";
  ocip_error_t err = NULL;
  struct ocip_index *idx = NULL;

  cr_assert_eq (ocip_index_parse (text, strlen (text), OCIP_MEDIA_TYPE_DOCKER_LIST, &idx, &err), 0,
                "Docker manifest list: %s", err ? err->msg : "");
  cr_assert_eq (idx->n_manifests, 1, "one descriptor");
  ocip_index_free (idx);
}

static void
expect_index_error (const char *text, int errnum, const char *what)
{
  ocip_error_t err = NULL;
  struct ocip_index *idx = NULL;
  int r = index_parse (text, &idx, &err);

  if (r == 0)
    ocip_index_free (idx);
  expect_error (r, &err, errnum, what);
}

Test (image, index_schema_version)
{
  expect_index_error ("{\"schemaVersion\": 1, \"manifests\": []}", EINVAL, "unsupported schemaVersion 1");
  expect_index_error ("{\"schemaVersion\": 3, \"manifests\": []}", EINVAL, "schemaVersion 3");
  expect_index_error ("{\"manifests\": []}", EINVAL, "missing field 'schemaVersion'");
  expect_index_error ("{\"schemaVersion\": \"2\", \"manifests\": []}", EINVAL, "field 'schemaVersion'");
  expect_index_error ("{\"schemaVersion\": 2.0, \"manifests\": []}", EINVAL, "field 'schemaVersion'");
}

Test (image, index_media_type_contradiction)
{
  expect_index_error ("{\"schemaVersion\": 2, \"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST "\", \"manifests\": []}",
                      EINVAL, "contradicts");
  expect_index_error ("{\"schemaVersion\": 2, \"mediaType\": \"" OCIP_MEDIA_TYPE_DOCKER_LIST "\", \"manifests\": []}",
                      EINVAL, "mediaType '" OCIP_MEDIA_TYPE_DOCKER_LIST "' contradicts");
  expect_index_error ("{\"schemaVersion\": 2, \"mediaType\": 5, \"manifests\": []}", EINVAL, "field 'mediaType'");
}

Test (image, index_with_manifest_fields)
{
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [], \"layers\": []}", EINVAL, "manifest fields");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [], \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG,
                                                                                      2) "}",
                      EINVAL, "manifest fields");
  /* Even a null "layers" makes the document ambiguous.  */
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [], \"layers\": null}", EINVAL, "manifest fields");
}

Test (image, index_structure_errors)
{
  expect_index_error ("{\"schemaVersion\": 2}", EINVAL, "missing field 'manifests'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": {}}", EINVAL, "field 'manifests'");
  expect_index_error ("[]", EINVAL, "not a JSON object");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [}", EINVAL, "invalid JSON");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [\"x\"]}", EINVAL, "descriptor is not an object");
  expect_index_error ("{\"schemaVersion\": 2, \"schemaVersion\": 2, \"manifests\": []}", EINVAL, "duplicate");
}

Test (image, index_descriptor_bad_digest)
{
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, "sha256:../../x",
                                                                      1) "]}",
                      EINVAL, "invalid digest 'sha256:../../x'");
  /* The message says which descriptor.  */
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M, 1) ", " DESC (
                          OCIP_MEDIA_TYPE_MANIFEST, "sha256:ABC", 1) "]}",
                      EINVAL, "manifests[1]");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": 5, \"size\": 1}]}",
                      EINVAL, "field 'digest'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"size\": 1}]}",
                      EINVAL, "missing field 'digest'");
}

Test (image, index_descriptor_bad_size)
{
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M, -1) "]}",
                      EINVAL, "negative size -1");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M, "12") "]}",
                      EINVAL, "field 'size': expected number, got string");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M, 1.5) "]}",
                      EINVAL, "field 'size'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M, 1e3) "]}",
                      EINVAL, "not an integer");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M,
                                                                      9223372036854775808) "]}",
                      ERANGE, "field 'size'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": \"" DG_M "\"}]}",
                      EINVAL, "missing field 'size'");
}

Test (image, index_descriptor_bad_media_type)
{
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"digest\": \"" DG_M "\", \"size\": 1}]}", EINVAL,
                      "missing field 'mediaType'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC ("nonsense", DG_M, 1) "]}", EINVAL,
                      "invalid mediaType 'nonsense'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC ("a/b c", DG_M, 1) "]}", EINVAL,
                      "invalid mediaType");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC ("/x", DG_M, 1) "]}", EINVAL,
                      "invalid mediaType");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": null, \"digest\": \"" DG_M
                      "\", \"size\": 1}]}",
                      EINVAL, "'mediaType'");
}

Test (image, index_descriptor_annotations)
{
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": \"" DG_M "\", \"size\": 1, \"annotations\": {\"a\": \"ok\", \"n\": 1}}]}",
                      EINVAL, "annotation 'n' is not a string");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": \"" DG_M "\", \"size\": 1, \"annotations\": {\"" OCIP_ANNOTATION_REF_NAME
                      "\": null}}]}",
                      EINVAL, "annotation '" OCIP_ANNOTATION_REF_NAME "' is not a string");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": \"" DG_M "\", \"size\": 1, \"annotations\": [\"x\"]}]}",
                      EINVAL, "field 'annotations'");
}

Test (image, index_descriptor_bad_platform)
{
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": \"" DG_M "\", \"size\": 1, \"platform\": {\"architecture\": \"amd64\"}}]}",
                      EINVAL, "platform: missing field 'os'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": \"" DG_M "\", \"size\": 1, \"platform\": {\"os\": \"linux\"}}]}",
                      EINVAL, "platform: missing field 'architecture'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": \"" DG_M "\", \"size\": 1, \"platform\": {\"os\": \"linux\", "
                      "\"architecture\": \"arm\", \"variant\": 7}}]}",
                      EINVAL, "field 'variant'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                      "\", \"digest\": \"" DG_M "\", \"size\": 1, \"platform\": \"linux/amd64\"}]}",
                      EINVAL, "field 'platform'");
}

/* Manifests.  */

static const char good_manifest[]
    = "{\"schemaVersion\": 2, \"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST "\", "
      "\"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG, 321) ", "
      "\"layers\": [" DESC (MT_LAYER_GZIP, DG_L0, 100) ", {\"mediaType\": \"" MT_LAYER_ZSTD "\", \"digest\": \"" DG_L1
      "\", \"size\": 200, \"annotations\": {\"" OCIP_ANNOTATION_REF_NAME "\": \"l1\"}}], "
      "\"annotations\": {\"x\": \"y\"}, \"subject\": " DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M, 5) "}";

static void
expect_manifest_error (const char *text, const char *expected, int errnum, const char *what)
{
  ocip_error_t err = NULL;
  struct ocip_manifest *m = NULL;
  int r = ocip_manifest_parse (text, strlen (text), expected, &m, &err);

  if (r == 0)
    ocip_manifest_free (m);
  expect_error (r, &err, errnum, what);
}

Test (image, manifest_parse_good)
{
  ocip_error_t err = NULL;
  struct ocip_manifest *m = NULL;

  cr_assert_eq (ocip_manifest_parse (good_manifest, strlen (good_manifest), OCIP_MEDIA_TYPE_MANIFEST, &m, &err), 0,
                "good manifest: %s", err ? err->msg : "");
  cr_assert_str_eq (m->config.media_type, OCIP_MEDIA_TYPE_CONFIG, "config media type");
  cr_assert_str_eq (m->config.digest.str, DG_CFG, "config digest");
  cr_assert_eq (m->config.size, 321, "config size");
  cr_assert_eq (m->n_layers, 2, "two layers");
  cr_assert_str_eq (m->layers[0].media_type, MT_LAYER_GZIP, "layer 0 media type");
  cr_assert_str_eq (m->layers[0].digest.str, DG_L0, "layer 0 digest");
  cr_assert_eq (m->layers[0].size, 100, "layer 0 size");
  cr_assert_str_eq (m->layers[1].media_type, MT_LAYER_ZSTD, "layer 1 media type");
  cr_assert_str_eq (m->layers[1].digest.str, DG_L1, "layer 1 digest");
  cr_assert_eq (m->layers[1].size, 200, "layer 1 size");
  cr_assert_str_eq (m->layers[1].ref_name, "l1", "annotation of a layer");
  ocip_manifest_free (m);
  ocip_manifest_free (NULL);
}

Test (image, manifest_parse_docker)
{
  static const char text[]
      = "{\"schemaVersion\": 2, \"mediaType\": \"" OCIP_MEDIA_TYPE_DOCKER_MANIFEST "\", "
        "\"config\": " DESC (OCIP_MEDIA_TYPE_DOCKER_CONFIG, DG_CFG, 3) ", "
        "\"layers\": [" DESC (MT_DOCKER_LAYER_GZIP, DG_L0, 1) ", " DESC (
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", DG_L1, 2) ", " DESC ("application/vnd.docker."
                                                                                            "image.rootfs.diff.tar",
                                                                                            DG_M, 3) "]}";
  ocip_error_t err = NULL;
  struct ocip_manifest *m = NULL;

  cr_assert_eq (ocip_manifest_parse (text, strlen (text), OCIP_MEDIA_TYPE_DOCKER_MANIFEST, &m, &err), 0,
                "Docker manifest: %s", err ? err->msg : "");
  cr_assert_str_eq (m->config.media_type, OCIP_MEDIA_TYPE_DOCKER_CONFIG, "Docker config type");
  cr_assert_eq (m->n_layers, 3, "three layers");
  cr_assert_str_eq (m->layers[0].media_type, MT_DOCKER_LAYER_GZIP, "Docker layer type");
  ocip_manifest_free (m);
}

Test (image, manifest_without_media_type_and_layers)
{
  static const char text[]
      = "{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG, 3) ", \"layers\": []}";
  ocip_error_t err = NULL;
  struct ocip_manifest *m = NULL;

  cr_assert_eq (ocip_manifest_parse (text, strlen (text), OCIP_MEDIA_TYPE_MANIFEST, &m, &err), 0,
                "manifest without mediaType: %s", err ? err->msg : "");
  cr_assert_eq (m->n_layers, 0, "no layers");
  ocip_manifest_free (m);
}

Test (image, manifest_with_index_field)
{
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG,
                                                                     3) ", \"layers\": [], \"manifests\": []}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "index field ('manifests')");
}

Test (image, manifest_media_type_contradiction)
{
  /* The CVE-2021-41190 confusion: the referrer says manifest, the document says index.  */
  expect_manifest_error ("{\"schemaVersion\": 2, \"mediaType\": \"" OCIP_MEDIA_TYPE_INDEX "\", \"config\": " DESC (
                             OCIP_MEDIA_TYPE_CONFIG, DG_CFG, 3) ", \"layers\": []}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "contradicts");
  /* An OCI manifest referred to as a Docker one.  */
  expect_manifest_error (good_manifest, OCIP_MEDIA_TYPE_DOCKER_MANIFEST, EINVAL,
                         "mediaType '" OCIP_MEDIA_TYPE_MANIFEST "' contradicts the descriptor's '"
                         OCIP_MEDIA_TYPE_DOCKER_MANIFEST "'");
  expect_manifest_error ("{\"schemaVersion\": 1, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG,
                                                                     3) ", \"layers\": []}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "schemaVersion 1");
}

Test (image, manifest_config_with_non_config_media_type)
{
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (MT_LAYER, DG_CFG, 3) ", \"layers\": []}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "config mediaType '" MT_LAYER "' is not an image config");
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_CFG,
                                                                     3) ", \"layers\": []}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "is not an image config");
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC ("application/vnd.oci.empty.v1+json", DG_CFG,
                                                                     2) ", \"layers\": []}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "is not an image config");
}

Test (image, manifest_unknown_layer_media_type)
{
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG,
                                                                     3) ", \"layers\": [" DESC (MT_LAYER, DG_L0,
                                                                                                1) ", " DESC (
                             "application/vnd.example.layer+bzip2", DG_L1, 1) "]}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "'application/vnd.example.layer+bzip2'");
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG,
                                                                     3) ", \"layers\": [" DESC (MT_LAYER, DG_L0,
                                                                                                1) ", " DESC (
                             "application/vnd.example.layer+bzip2", DG_L1, 1) "]}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "layers[1]");
  /* A config or manifest is no layer either.  */
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG,
                                                                     3) ", \"layers\": [" DESC (OCIP_MEDIA_TYPE_CONFIG,
                                                                                                DG_L0, 1) "]}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "unsupported layer media type");
}

Test (image, manifest_structure_errors)
{
  expect_manifest_error ("{\"schemaVersion\": 2, \"layers\": []}", OCIP_MEDIA_TYPE_MANIFEST, EINVAL,
                         "missing field 'config'");
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG, 3) "}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "missing field 'layers'");
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": [], \"layers\": []}", OCIP_MEDIA_TYPE_MANIFEST,
                         EINVAL, "field 'config'");
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, "sha256:1",
                                                                     3) ", \"layers\": []}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "config: invalid digest");
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG,
                                                                     3) ", \"layers\": [" DESC (MT_LAYER, DG_L0,
                                                                                                -5) "]}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "layers[0]: negative size");
  expect_manifest_error ("\"manifest\"", OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "not a JSON object");
}

/* A manifest with N layers.  */
static char *
manifest_with_layers (size_t n)
{
  static const char head[]
      = "{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG, 3) ", \"layers\": [";
  static const char layer[] = DESC (MT_LAYER, DG_L0, 1) ",";
  char *s = xmalloc (sizeof head + n * (sizeof layer - 1) + 3), *p = s;
  size_t i;

  p = mempcpy (p, head, sizeof head - 1);
  for (i = 0; i < n; i++)
    p = mempcpy (p, layer, sizeof layer - 1);
  if (n)
    p--;
  strcpy (p, "]}");
  return s;
}

Test (image, manifest_layer_limit)
{
  cleanup_free char *at = manifest_with_layers (OCIP_LIMIT_LAYERS);
  cleanup_free char *over = manifest_with_layers (OCIP_LIMIT_LAYERS + 1);
  ocip_error_t err = NULL;
  struct ocip_manifest *m = NULL;

  cr_assert_eq (ocip_manifest_parse (at, strlen (at), OCIP_MEDIA_TYPE_MANIFEST, &m, &err), 0,
                "%d layers: %s", OCIP_LIMIT_LAYERS, err ? err->msg : "");
  cr_assert_eq (m->n_layers, OCIP_LIMIT_LAYERS, "every layer kept");
  ocip_manifest_free (m);
  expect_manifest_error (over, OCIP_MEDIA_TYPE_MANIFEST, E2BIG, "over the limit");
}

/* Image configs.  */

static const char full_config[]
    = "{\"created\": \"2023-11-14T22:13:20Z\", \"author\": \"someone\", \"architecture\": \"arm64\", "
      "\"variant\": \"v8\", \"os\": \"linux\", \"os.version\": \"10.0.1\", \"os.features\": [\"f1\", \"f2\"], "
      "\"config\": {\"User\": \"1000:1000\", \"ExposedPorts\": {\"80/tcp\": {}, \"53/udp\": {}}, "
      "\"Env\": [\"PATH=/usr/bin\", \"A=b=c\"], \"Entrypoint\": [\"/bin/sh\", \"-c\"], \"Cmd\": [\"echo hi\"], "
      "\"Volumes\": {\"/data\": {}, \"/cache\": {}}, \"WorkingDir\": \"/srv\", "
      "\"Labels\": {\"l1\": \"v1\", \"l2\": \"\"}, \"StopSignal\": \"SIGTERM\", \"ArgsEscaped\": true}, "
      "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"" DIFF0 "\", \"" DIFF1 "\", \"" DIFF2 "\"]}, "
      "\"history\": [{\"created_by\": \"x\"}]}";

static void
expect_strv (char **v, const char *const *want, const char *what)
{
  size_t i;

  cr_assert_not_null (v, "%s: no vector", what);
  for (i = 0; want[i]; i++)
    {
      cr_assert_not_null (v[i], "%s: too short at %zu", what, i);
      cr_assert_str_eq (v[i], want[i], "%s[%zu]", what, i);
    }
  cr_assert_null (v[i], "%s: too long", what);
}

static void
expect_config_error (const char *text, size_t n_layers, int errnum, const char *what)
{
  ocip_error_t err = NULL;
  struct ocip_image_config *c = NULL;
  int r = ocip_image_config_parse (text, strlen (text), n_layers, &c, &err);

  if (r == 0)
    ocip_image_config_free (c);
  expect_error (r, &err, errnum, what);
}

Test (image, config_parse_every_field)
{
  ocip_error_t err = NULL;
  struct ocip_image_config *c = NULL;

  cr_assert_eq (ocip_image_config_parse (full_config, strlen (full_config), 3, &c, &err), 0, "full config: %s",
                err ? err->msg : "");
  cr_assert_str_eq (c->created, "2023-11-14T22:13:20Z", "created");
  cr_assert_str_eq (c->author, "someone", "author");
  cr_assert_str_eq (c->platform.os, "linux", "os");
  cr_assert_str_eq (c->platform.architecture, "arm64", "architecture");
  cr_assert_str_eq (c->platform.variant, "v8", "variant");
  cr_assert_str_eq (c->os_version, "10.0.1", "os.version");
  expect_strv (c->os_features, (const char *const[]) { "f1", "f2", NULL }, "os.features");
  cr_assert_str_eq (c->user, "1000:1000", "User");
  expect_strv (c->env, (const char *const[]) { "PATH=/usr/bin", "A=b=c", NULL }, "Env");
  expect_strv (c->entrypoint, (const char *const[]) { "/bin/sh", "-c", NULL }, "Entrypoint");
  expect_strv (c->cmd, (const char *const[]) { "echo hi", NULL }, "Cmd");
  cr_assert_str_eq (c->working_dir, "/srv", "WorkingDir");
  cr_assert_str_eq (c->stop_signal, "SIGTERM", "StopSignal");
  expect_strv (c->exposed_ports, (const char *const[]) { "80/tcp", "53/udp", NULL }, "ExposedPorts, document order");
  expect_strv (c->volumes, (const char *const[]) { "/data", "/cache", NULL }, "Volumes, document order");
  expect_strv (c->labels, (const char *const[]) { "l1", "v1", "l2", "", NULL }, "Labels");
  cr_assert_eq (c->n_diff_ids, 3, "three diff_ids");
  cr_assert_str_eq (c->diff_ids[0].str, DIFF0, "diff_ids[0], bottom layer first");
  cr_assert_str_eq (c->diff_ids[2].str, DIFF2, "diff_ids[2]");
  ocip_image_config_free (c);
  ocip_image_config_free (NULL);
}

Test (image, config_parse_minimal)
{
  static const char text[] = "{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": null, "
                             "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}";
  ocip_error_t err = NULL;
  struct ocip_image_config *c = NULL;

  cr_assert_eq (ocip_image_config_parse (text, strlen (text), 0, &c, &err), 0, "minimal config: %s",
                err ? err->msg : "");
  cr_assert_str_eq (c->platform.architecture, "amd64", "architecture");
  cr_assert_null (c->platform.variant, "no variant");
  cr_assert_null (c->created, "no created");
  cr_assert_null (c->os_features, "no os.features");
  cr_assert_null (c->env, "no Env");
  cr_assert_null (c->entrypoint, "no Entrypoint");
  cr_assert_null (c->cmd, "no Cmd");
  cr_assert_null (c->user, "no User");
  cr_assert_null (c->exposed_ports, "no ExposedPorts");
  cr_assert_null (c->labels, "no Labels");
  cr_assert_eq (c->n_diff_ids, 0, "no layers");
  ocip_image_config_free (c);
}

Test (image, config_null_fields_are_absent)
{
  static const char text[]
      = "{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {\"Env\": null, \"Cmd\": null, "
        "\"Entrypoint\": null, \"User\": null, \"Labels\": null, \"Volumes\": null, \"ExposedPorts\": null}, "
        "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"" DIFF0 "\"]}}";
  ocip_error_t err = NULL;
  struct ocip_image_config *c = NULL;

  cr_assert_eq (ocip_image_config_parse (text, strlen (text), 1, &c, &err), 0, "nulls: %s", err ? err->msg : "");
  cr_assert_null (c->env, "null Env");
  cr_assert_null (c->cmd, "null Cmd");
  cr_assert_null (c->labels, "null Labels");
  cr_assert_null (c->volumes, "null Volumes");
  ocip_image_config_free (c);
}

Test (image, config_rootfs_type)
{
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"type\": \"foo\", "
                       "\"diff_ids\": []}}",
                       0, EINVAL, "rootfs.type is 'foo'");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"diff_ids\": []}}", 0, EINVAL,
                       "rootfs: missing field 'type'");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"type\": \"layers\"}}", 0,
                       EINVAL, "rootfs: missing field 'diff_ids'");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\"}", 0, EINVAL, "missing field 'rootfs'");
}

Test (image, config_diff_ids_count_mismatch)
{
  static const char two[] = "{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"type\": \"layers\", "
                            "\"diff_ids\": [\"" DIFF0 "\", \"" DIFF1 "\"]}}";

  expect_config_error (two, 3, EINVAL, "rootfs.diff_ids has 2 entries for 3 layers");
  expect_config_error (two, 1, EINVAL, "rootfs.diff_ids has 2 entries for 1 layers");
  expect_config_error (two, 0, EINVAL, "2 entries for 0 layers");
}

Test (image, config_diff_ids_bad)
{
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"type\": \"layers\", "
                       "\"diff_ids\": [\"" DIFF0 "\", \"sha256:nothex\"]}}",
                       2, EINVAL, "rootfs.diff_ids[1]: invalid digest 'sha256:nothex'");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"type\": \"layers\", "
                       "\"diff_ids\": [42]}}",
                       1, EINVAL, "rootfs.diff_ids[0] is not a string");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": {\"type\": \"layers\", "
                       "\"diff_ids\": [\"sha384:abc\"]}}",
                       1, ENOTSUP, "rootfs.diff_ids[0]");
}

Test (image, config_missing_os_or_architecture)
{
  expect_config_error ("{\"architecture\": \"amd64\", \"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}", 0,
                       EINVAL, "missing field 'os'");
  expect_config_error ("{\"os\": \"linux\", \"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}", 0, EINVAL,
                       "missing field 'architecture'");
  expect_config_error ("{\"os\": \"linux\", \"architecture\": 64, \"rootfs\": {\"type\": \"layers\", "
                       "\"diff_ids\": []}}",
                       0, EINVAL, "field 'architecture'");
  expect_config_error ("[]", 0, EINVAL, "not a JSON object");
}

Test (image, config_env_not_array_of_strings)
{
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {\"Env\": [\"A=1\", 2]}, "
                       "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}",
                       0, EINVAL, "config: field 'Env': element 1 is not a string");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {\"Env\": \"A=1\"}, "
                       "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}",
                       0, EINVAL, "field 'Env': expected array, got string");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {\"Cmd\": [null]}, "
                       "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}",
                       0, EINVAL, "field 'Cmd'");
}

Test (image, config_other_field_types)
{
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {\"Labels\": {\"a\": 1}}, "
                       "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}",
                       0, EINVAL, "label 'a' is not a string");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {\"User\": 0}, "
                       "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}",
                       0, EINVAL, "field 'User'");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {\"Volumes\": [\"/x\"]}, "
                       "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}",
                       0, EINVAL, "field 'Volumes'");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"os.features\": \"x\", "
                       "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}",
                       0, EINVAL, "field 'os.features'");
  expect_config_error ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": [], "
                       "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}",
                       0, EINVAL, "field 'config'");
}

/* Chain IDs.  */

Test (image, chain_ids_of_three_layers)
{
  static const char *const diffs[] = { DIFF0, DIFF1, DIFF2 };
  struct ocip_digest diff_ids[3], chain[3];
  ocip_error_t err = NULL;
  size_t i;

  for (i = 0; i < 3; i++)
    cr_assert_eq (ocip_digest_parse (diffs[i], &diff_ids[i], &err), 0, "diff %zu", i);
  ocip_chain_ids (diff_ids, 3, chain);
  cr_assert_str_eq (chain[0].str, DIFF0, "ChainID(L0) = DiffID(L0)");
  cr_assert_str_eq (chain[1].str, CHAIN1, "ChainID(L1) = sha256(DiffID(L0) + ' ' + DiffID(L1))");
  cr_assert_str_eq (chain[2].str, CHAIN2, "ChainID(L2) = sha256(ChainID(L1) + ' ' + DiffID(L2))");
  cr_assert_eq (chain[2].alg, OCIP_DIGEST_SHA256, "chain IDs are sha256");
}

Test (image, chain_ids_of_one_and_none)
{
  struct ocip_digest diff, chain[1];
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_digest_parse (DIFF1, &diff, &err), 0, "diff");
  ocip_chain_ids (&diff, 1, chain);
  cr_assert_str_eq (chain[0].str, DIFF1, "a single layer's chain ID is its DiffID");
  ocip_chain_ids (NULL, 0, NULL);
}

Test (image, descriptor_copy_and_clear)
{
  ocip_error_t err = NULL;
  struct ocip_index *idx = NULL;
  struct ocip_descriptor copy;

  cr_assert_eq (index_parse (good_index, &idx, &err), 0, "good index");
  ocip_descriptor_copy (&idx->manifests[0], &copy);
  ocip_index_free (idx);
  cr_assert_str_eq (copy.media_type, OCIP_MEDIA_TYPE_MANIFEST, "copied media type outlives the index");
  cr_assert_str_eq (copy.digest.str, DG_M, "copied digest");
  cr_assert_str_eq (copy.platform.variant, "v8", "copied platform");
  cr_assert_str_eq (copy.ref_name, "latest", "copied ref name");
  ocip_descriptor_clear (&copy);
  cr_assert_null (copy.media_type, "cleared");
  cr_assert_null (copy.ref_name, "cleared");
}

/* ---- issue 16: what real tools write ---- */

#define MT_EMPTY "application/vnd.oci.empty.v1+json"
#define DG_EMPTY "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

static struct ocip_manifest *
manifest_ok (const char *text)
{
  ocip_error_t err = NULL;
  struct ocip_manifest *m = NULL;

  cr_assert_eq (ocip_manifest_parse (text, strlen (text), OCIP_MEDIA_TYPE_MANIFEST, &m, &err), 0, "%s: %s", text,
                err ? err->msg : "");
  return m;
}

Test (image, index_accepts_an_unsupported_digest_algorithm)
{
  static const char text[] = "{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M, 1) ", " DESC (
      OCIP_MEDIA_TYPE_MANIFEST, "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262", 1) ", " DESC (
      OCIP_MEDIA_TYPE_MANIFEST, "md5:d41d8cd98f00b204e9800998ecf8427e", 1) "]}";
  ocip_error_t err = NULL;
  struct ocip_index *idx = NULL;

  cr_assert_eq (index_parse (text, &idx, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (idx->n_manifests, 3);
  cr_assert_null (idx->manifests[0].unsupported_digest);
  cr_assert_str_eq (idx->manifests[1].unsupported_digest,
                    "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  cr_assert_str_eq (idx->manifests[2].unsupported_digest, "md5:d41d8cd98f00b204e9800998ecf8427e");
  ocip_index_free (idx);
  /* The grammar still applies to every algorithm.  */
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (OCIP_MEDIA_TYPE_MANIFEST, "md5:a/b", 1) "]}",
                      EINVAL, "invalid digest 'md5:a/b'");
}

Test (image, media_types_follow_rfc6838)
{
  char long_side[200];

  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC (".foo/bar", DG_M, 1) "]}", EINVAL,
                      "invalid mediaType '.foo/bar'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC ("foo/.bar", DG_M, 1) "]}", EINVAL,
                      "invalid mediaType 'foo/.bar'");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC ("foo/bar baz", DG_M, 1) "]}", EINVAL,
                      "invalid mediaType");
  expect_index_error ("{\"schemaVersion\": 2, \"manifests\": [" DESC ("foo/", DG_M, 1) "]}", EINVAL,
                      "invalid mediaType");
  memset (long_side, 'a', 128);
  long_side[128] = '\0';
  {
    char *doc = xasprintf ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"application/%s\", \"digest\": \""
                           DG_M "\", \"size\": 1}]}", long_side);
    expect_index_error (doc, EINVAL, "invalid mediaType");
    free (doc);
    long_side[127] = '\0';
    doc = xasprintf ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"application/%s\", \"digest\": \"" DG_M
                     "\", \"size\": 1}]}", long_side);
    {
      ocip_error_t err = NULL;
      struct ocip_index *idx = NULL;
      cr_assert_eq (index_parse (doc, &idx, &err), 0, "127 characters are allowed: %s", err ? err->msg : "");
      ocip_index_free (idx);
    }
    free (doc);
  }
}

Test (image, urls_must_be_absolute_uris)
{
  static const char *const bad[] = { "/relative/path", "no-scheme", "1http://x", "http://a b", "http:", "http://\\u00e9" };
  ocip_error_t err = NULL;
  struct ocip_index *idx = NULL;
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char *doc = xasprintf ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                             "\", \"digest\": \"" DG_M "\", \"size\": 1, \"urls\": [\"https://ok.example/x\", \"%s\"]}]}",
                             bad[i]);
      expect_index_error (doc, EINVAL, "urls[1] is not an absolute URI");
      free (doc);
    }
  cr_assert_eq (index_parse ("{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST
                             "\", \"digest\": \"" DG_M "\", \"size\": 1, \"urls\": [\"https://ok.example/a?b=c%20d\"]}]}",
                             &idx, &err),
                0, "%s", err ? err->msg : "");
  ocip_index_free (idx);
}

Test (image, oci_artifact_with_empty_config)
{
  struct ocip_manifest *m = manifest_ok (
      "{\"schemaVersion\": 2, \"mediaType\": \"" OCIP_MEDIA_TYPE_MANIFEST "\", \"artifactType\": "
      "\"application/vnd.example.sbom+json\", \"config\": " DESC (MT_EMPTY, DG_EMPTY, 2) ", \"layers\": [" DESC (
          "application/spdx+json", DG_L0, 10) "], \"subject\": " DESC (OCIP_MEDIA_TYPE_MANIFEST, DG_M, 5) ", "
      "\"annotations\": {\"org.opencontainers.image.created\": \"2024-01-01T00:00:00Z\"}}");

  cr_assert_str_eq (m->artifact_type, "application/vnd.example.sbom+json");
  cr_assert (m->has_subject);
  cr_assert_str_eq (m->subject.digest.str, DG_M);
  cr_assert_str_eq (m->annotations[0], "org.opencontainers.image.created");
  cr_assert_str_eq (m->layers[0].media_type, "application/spdx+json");
  ocip_manifest_free (m);
}

Test (image, oras_artifact_typed_by_its_config)
{
  struct ocip_manifest *m = manifest_ok ("{\"schemaVersion\": 2, \"config\": " DESC (
      "application/vnd.cncf.helm.config.v1+json", DG_CFG, 3) ", \"layers\": [" DESC ("application/vnd.cncf.helm.chart."
                                                                                    "content.v1.tar+gzip",
                                                                                    DG_L0, 10) "]}");

  cr_assert_str_eq (m->artifact_type, "application/vnd.cncf.helm.config.v1+json");
  ocip_manifest_free (m);
}

Test (image, cosign_signature_and_in_toto_attestation_are_artifacts)
{
  struct ocip_manifest *m = manifest_ok ("{\"schemaVersion\": 2, \"config\": " DESC (
      OCIP_MEDIA_TYPE_CONFIG, DG_CFG, 3) ", \"layers\": [" DESC ("application/vnd.dev.cosign.simplesigning.v1+json",
                                                                   DG_L0, 10) "]}");

  cr_assert_str_eq (m->artifact_type, "application/vnd.dev.cosign.simplesigning.v1+json");
  ocip_manifest_free (m);
  m = manifest_ok ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG, 3) ", \"layers\": [" DESC (
      "application/vnd.in-toto+json", DG_L0, 10) ", " DESC ("application/vnd.in-toto+json", DG_L1, 10) "]}");
  cr_assert_str_eq (m->artifact_type, "application/vnd.in-toto+json");
  ocip_manifest_free (m);
  /* An image is still an image: a JSON layer beside a tar layer is an error.  */
  expect_manifest_error ("{\"schemaVersion\": 2, \"config\": " DESC (OCIP_MEDIA_TYPE_CONFIG, DG_CFG, 3) ", \"layers\": [" DESC (
                             MT_LAYER, DG_L0, 1) ", " DESC ("application/vnd.in-toto+json", DG_L1, 1) "]}",
                         OCIP_MEDIA_TYPE_MANIFEST, EINVAL, "unsupported layer media type 'application/vnd.in-toto+json'");
}
