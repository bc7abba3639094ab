/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layouts as real tools write them: signatures, SBOMs and attestations beside an image, digests of unknown algorithms, multi-platform index.json. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

static char *tmp;
static char *layout;
static char *store;

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
}

static void
teardown (void)
{
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (artifacts, .init = setup, .fini = teardown);

#define MT_SBOM "application/vnd.example.sbom+json"
#define MT_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
#define MT_IN_TOTO "application/vnd.in-toto+json"

/* What the layout holds besides the image.  */
struct world
{
  struct fx_desc image, sig, sbom, attestation, nested;
  char *sbom_layer; /* path of the SBOM's layer blob */
};

/* The simple image as "latest"; a legacy cosign signature as "sig" (an image config
   and a simplesigning layer, no subject); an SBOM pushed as oras does ("sbom": empty
   config, artifactType, subject = the image, an annotation); and "multi", a nested
   index as buildx writes it: the image for the host and an in-toto attestation
   manifest for platform unknown/unknown tied to it by vnd.docker.reference.*.  */
static void
build_world (struct world *w)
{
  static const char *const sig_layers[] = { "{\"critical\":{\"image\":{}}}" };
  static const char *const sbom_layers[] = { "{\"spdxVersion\":\"SPDX-2.3\"}" };
  static const char *const att_layers[] = { "{\"_type\":\"https://in-toto.io/Statement/v0.1\"}" };
  /* cosign's and buildx's configs, shortened: an image config that no runtime could use.  */
  struct fx_artifact sig = { .config_media_type = FX_MT_CONFIG,
                             .config_data = "{\"architecture\":\"\",\"os\":\"\",\"rootfs\":{\"type\":\"layers\"}}",
                             .layer_media_type = MT_SIMPLESIGNING, .layers = sig_layers, .n_layers = 1 };
  struct fx_artifact sbom = { .artifact_type = MT_SBOM, .layer_media_type = "application/spdx+json",
                              .layers = sbom_layers, .n_layers = 1,
                              .annotations = "\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"" };
  struct fx_artifact att = { .config_media_type = FX_MT_CONFIG,
                             .config_data = "{\"architecture\":\"unknown\",\"os\":\"unknown\"}",
                             .layer_media_type = MT_IN_TOTO, .layers = att_layers, .n_layers = 1 };
  struct fx_index_entry nested[2], top[4];
  char *extra, *doc, *p;

  fx_simple_image_ex (layout, "latest", &w->image);
  fx_artifact_write (layout, &sig, &w->sig);
  sbom.subject = &w->image;
  fx_artifact_write (layout, &sbom, &w->sbom);
  fx_artifact_write (layout, &att, &w->attestation);
  nested[0] = (struct fx_index_entry){ .desc = w->image, .os = fx_host_os (), .arch = fx_host_arch () };
  extra = tu_fmt ("\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\","
                  "\"vnd.docker.reference.digest\":\"%s\"}",
                  w->image.digest);
  nested[1] = (struct fx_index_entry){ .desc = w->attestation, .os = "unknown", .arch = "unknown", .extra = extra };
  fx_index_blob (layout, NULL, nested, 2, &w->nested);
  top[0] = (struct fx_index_entry){ .desc = w->image, .ref = "latest" };
  top[1] = (struct fx_index_entry){ .desc = w->sig, .ref = "sig" };
  top[2] = (struct fx_index_entry){ .desc = w->sbom, .ref = "sbom" };
  top[3] = (struct fx_index_entry){ .desc = w->nested, .ref = "multi" };
  fx_index_write (layout, top, 4);
  /* The SBOM's layer: the one blob of the manifest that is not its config.  */
  p = fx_blob_path (layout, w->sbom.digest);
  doc = fx_read_file (p, NULL);
  free (p);
  p = strstr (doc, "\"layers\":[{\"mediaType\":\"application/spdx+json\",\"digest\":\"");
  FX_CHECK (p != NULL);
  p += strlen ("\"layers\":[{\"mediaType\":\"application/spdx+json\",\"digest\":\"");
  *strchr (p, '"') = '\0';
  w->sbom_layer = fx_blob_path (layout, p);
  free (doc);
  free (extra);
}

static char *
image (const char *ref)
{
  return tu_fmt ("%s:%s", layout, ref);
}

Test (artifacts, verify_checks_artifacts_as_blobs)
{
  struct world w;
  struct tu_result r;

  build_world (&w);
  TU_PREP_STORE (&r, store, "verify", layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  /* image 4, signature 3, SBOM 3, nested index 1, attestation 3.  */
  cr_assert (strstr (r.out, "verified 14 blobs"), "%s", r.out);
  tu_result_free (&r);
  /* Every digest of an artifact is checked.  */
  fx_write_file (w.sbom_layer, "{\"spdxVersion\":\"SPDX-2.4\"}", 26);
  TU_PREP_STORE (&r, store, "--no-cache", "verify", layout);
  tu_assert_error (&r, "digest mismatch");
  tu_result_free (&r);
  free (w.sbom_layer);
}

Test (artifacts, inspect_lists_the_referrers_of_the_image)
{
  struct world w;
  struct tu_result r;
  char *img = image ("latest"), *line;

  build_world (&w);
  TU_PREP (&r, "inspect", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (tu_has_line (r.out, "referrers   2"), "%s", r.out);
  line = tu_fmt ("  " MT_SBOM " %s", w.sbom.digest);
  cr_assert (tu_has_line (r.out, line), "%s", r.out);
  free (line);
  line = tu_fmt ("  " MT_IN_TOTO " %s", w.attestation.digest);
  cr_assert (tu_has_line (r.out, line), "%s", r.out);
  free (line);
  cr_assert (tu_has_line (r.out, "    org.opencontainers.image.created=2024-01-01T00:00:00Z"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "    vnd.docker.reference.type=attestation-manifest"), "%s", r.out);
  /* The signature names no subject: it is no referrer.  */
  cr_assert (! strstr (r.out, w.sig.digest), "%s", r.out);
  tu_result_free (&r);

  TU_PREP (&r, "inspect", "--json", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "\"referrers\": ["), "%s", r.out);
  cr_assert (strstr (r.out, "\"artifactType\": \"" MT_SBOM "\""), "%s", r.out);
  cr_assert (strstr (r.out, "\"artifactType\": \"" MT_IN_TOTO "\""), "%s", r.out);
  cr_assert (strstr (r.out, "\"org.opencontainers.image.created\": \"2024-01-01T00:00:00Z\""), "%s", r.out);
  tu_result_free (&r);
  free (img);
  free (w.sbom_layer);
}

Test (artifacts, resolution_passes_over_an_attestation)
{
  struct world w;
  struct tu_result r;
  char *img = image ("multi"), *line;

  build_world (&w);
  TU_PREP (&r, "inspect", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  line = tu_fmt ("manifest    %s (" FX_MT_MANIFEST ", %lld bytes)", w.image.digest, w.image.size);
  cr_assert (tu_has_line (r.out, line), "%s", r.out);
  tu_result_free (&r);
  free (line);
  free (img);
  free (w.sbom_layer);
}

Test (artifacts, bundle_of_an_artifact_names_its_type)
{
  static const struct
  {
    const char *ref, *type;
  } cases[] = { { "sig", MT_SIMPLESIGNING }, { "sbom", MT_SBOM } };
  struct world w;
  struct tu_result r;
  size_t i;

  build_world (&w);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char *img = image (cases[i].ref), *bundle = tu_fmt ("%s/b", tmp);
      char *want = tu_fmt ("is an artifact of type '%s', not an image\n", cases[i].type);

      TU_PREP_STORE (&r, store, "bundle", img, bundle);
      tu_assert_error (&r, want);
      tu_result_free (&r);
      cr_assert_not (tu_exists (tmp, "b/config.json"));
      cr_assert_eq (tu_count_pins (store), 0);
      free (want);
      free (bundle);
      free (img);
    }
  free (w.sbom_layer);
}

/* ---- digests of algorithms oci-prep does not know ---- */

static void
index_with_unknown_algorithms (struct fx_desc *image_desc)
{
  struct fx_index_entry e[3];

  memset (e, 0, sizeof e);

  fx_simple_image_ex (layout, "latest", image_desc);
  e[0] = (struct fx_index_entry){ .desc = *image_desc, .ref = "latest" };
  e[1] = (struct fx_index_entry){ .desc = *image_desc, .ref = "future" };
  snprintf (e[1].desc.digest, sizeof e[1].desc.digest, "blake3:%s", strchr (image_desc->digest, ':') + 1);
  e[2] = (struct fx_index_entry){ .desc = *image_desc, .ref = "odd" };
  snprintf (e[2].desc.digest, sizeof e[2].desc.digest, "sha999:%s%s", strchr (image_desc->digest, ':') + 1,
            strchr (image_desc->digest, ':') + 1);
  fx_index_write (layout, e, 3);
}

Test (artifacts, unknown_digest_algorithm_in_another_entry_stops_nothing)
{
  struct fx_desc m;
  struct tu_result r;
  char *img = image ("latest"), *bundle = tu_fmt ("%s/b", tmp);

  index_with_unknown_algorithms (&m);
  TU_PREP (&r, "inspect", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "verify", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "verify", layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (tu_has_line (r.out, "skipped 2 descriptors of an unsupported digest algorithm (not needed by what was "
                                 "verified)"),
             "%s", r.out);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "--json", "verify", layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "\"unsupported\": 2"), "%s", r.out);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "bundle", "--flat", img, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (img);
  free (bundle);
}

Test (artifacts, an_entry_of_an_unknown_algorithm_is_an_error_when_needed)
{
  struct fx_desc m;
  struct tu_result r;
  char *img = image ("future");

  index_with_unknown_algorithms (&m);
  TU_PREP (&r, "inspect", img);
  tu_assert_error (&r, "unsupported digest algorithm 'blake3'");
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "verify", img);
  tu_assert_error (&r, "unsupported digest algorithm 'blake3'");
  tu_result_free (&r);
  free (img);
}

/* ---- index.json of one image for several platforms, without ref names ---- */

static const char *
other_arch (void)
{
  return strcmp (fx_host_arch (), "s390x") == 0 ? "amd64" : "s390x";
}

/* Two one-layer images, for the host and for other_arch(), listed in index.json with
   their platforms and no ref name.  */
static void
multi_platform_top_level (struct fx_desc *host, struct fx_desc *other, bool with_attestation)
{
  struct fx_index_entry e[3];

  memset (e, 0, sizeof e);
  struct fx_image im = { .dir = layout };
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layer;
  void *tar;
  size_t len;

  fx_tar_file (t, "a", 0644, "a");
  fx_tar_finish (t, &tar, &len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = len };
  im.layers = &layer;
  im.n_layers = 1;
  im.config = "{\"Cmd\":[\"/a\"]}";
  fx_layout_init (layout);
  fx_image_write (&im, host);
  im.arch = other_arch ();
  fx_image_write (&im, other);
  e[0] = (struct fx_index_entry){ .desc = *other, .os = "linux", .arch = other_arch () };
  e[1] = (struct fx_index_entry){ .desc = *host, .os = fx_host_os (), .arch = fx_host_arch () };
  if (with_attestation)
    {
      static const char *const att_layers[] = { "{}" };
      struct fx_artifact att = { .config_media_type = FX_MT_CONFIG, .layer_media_type = MT_IN_TOTO,
                                 .layers = att_layers, .n_layers = 1 };
      char *extra = tu_fmt ("\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\","
                            "\"vnd.docker.reference.digest\":\"%s\"}",
                            host->digest);
      fx_artifact_write (layout, &att, &e[2].desc);
      e[2].extra = extra;
      fx_index_write (layout, e, 3);
      free (extra);
    }
  else
    fx_index_write (layout, e, 2);
  free (tar);
}

Test (artifacts, top_level_index_without_refs_picks_the_host_platform)
{
  struct fx_desc host, other;
  struct tu_result r;
  char *platform = tu_fmt ("linux/%s", other_arch ()), *line;

  multi_platform_top_level (&host, &other, false);
  TU_PREP (&r, "inspect", layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  line = tu_fmt ("manifest    %s (" FX_MT_MANIFEST ", %lld bytes)", host.digest, host.size);
  cr_assert (tu_has_line (r.out, line), "%s", r.out);
  tu_result_free (&r);
  free (line);
  TU_PREP (&r, "inspect", "--platform", platform, layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  line = tu_fmt ("manifest    %s (" FX_MT_MANIFEST ", %lld bytes)", other.digest, other.size);
  cr_assert (tu_has_line (r.out, line), "%s", r.out);
  tu_result_free (&r);
  free (line);
  free (platform);
}

Test (artifacts, top_level_index_without_refs_passes_over_an_attestation)
{
  struct fx_desc host, other;
  struct tu_result r;
  char *line;

  multi_platform_top_level (&host, &other, true);
  TU_PREP (&r, "inspect", layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  line = tu_fmt ("manifest    %s (" FX_MT_MANIFEST ", %lld bytes)", host.digest, host.size);
  cr_assert (tu_has_line (r.out, line), "%s", r.out);
  cr_assert (tu_has_line (r.out, "referrers   1"), "%s", r.out);
  tu_result_free (&r);
  free (line);
}
