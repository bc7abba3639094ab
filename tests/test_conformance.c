/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cross-check with an independent implementation: oci-image-tool and oci-prep verify agree. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

/* oci-image-tool 1.0.0-rc1 (Debian) knows neither zstd layers, Docker media types nor
   zero-layer images, and never reads diffIDs: the corpus sticks to what both tools
   define (sha256 and sha512, gzip and plain tar OCI images, nested indexes), so that
   any disagreement is a real one.  Two manifests under one ref are left out on
   purpose: oci-image-tool fails the layout, while verify checks blobs, all of which
   are intact; ambiguity is an error of inspect and bundle (test_cli).  */
struct case_
{
  const char *name;
  unsigned breaks;
  const char *compression;
  const char *alg;
  bool nested;
  bool good;
};

static const struct case_ cases[] = {
  { "gzip", 0, "gzip", "sha256", false, true },
  { "plain", 0, "none", "sha256", false, true },
  { "sha512", 0, "gzip", "sha512", false, true },
  { "nested-index", 0, "gzip", "sha256", true, true },
  { "layer-content", FX_BREAK_LAYER_CONTENT, "gzip", "sha256", false, false },
  { "layer-size", FX_BREAK_LAYER_SIZE, "gzip", "sha256", false, false },
  { "layer-missing", FX_BREAK_LAYER_MISSING, "gzip", "sha256", false, false },
  { "config-size", FX_BREAK_CONFIG_SIZE, "gzip", "sha256", false, false },
  { "config-missing", FX_BREAK_CONFIG_MISSING, "gzip", "sha256", false, false },
  { "schema-version-1", FX_BREAK_SCHEMA_VERSION, "gzip", "sha256", false, false },
  { "sha512-layer-content", FX_BREAK_LAYER_CONTENT, "gzip", "sha512", false, false },
  { "nested-layer-content", FX_BREAK_LAYER_CONTENT, "gzip", "sha256", true, false },
};

static void
build (const char *dir, const struct case_ *c)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layers[2];
  struct fx_image img = { .dir = dir, .alg = c->alg, .breaks = c->breaks, .config = "{\"Cmd\":[\"/bin/sh\"]}" };
  struct fx_index_entry e[1] = { { .ref = "latest" } };
  void *tar1, *tar2;
  size_t len1, len2;

  fx_layout_init (dir);
  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/a", 0644, "a\n");
  fx_tar_finish (t, &tar1, &len1);
  t = fx_tar_new ();
  fx_tar_file (t, "b", 0600, "b\n");
  fx_tar_finish (t, &tar2, &len2);
  layers[0] = (struct fx_layer){ .tar = tar1, .tar_len = len1, .compression = c->compression };
  layers[1] = (struct fx_layer){ .tar = tar2, .tar_len = len2, .compression = c->compression };
  img.layers = layers;
  img.n_layers = 2;
  fx_image_write (&img, &e[0].desc);
  if (c->nested)
    {
      struct fx_index_entry inner = { .desc = e[0].desc, .os = fx_host_os (), .arch = fx_host_arch () };
      fx_index_blob (dir, c->alg, &inner, 1, &e[0].desc);
    }
  fx_index_write (dir, e, 1);
  free (tar1);
  free (tar2);
}

Test (conformance, oci_image_tool_and_verify_agree)
{
  char *tmp = fx_mkdtemp ();
  size_t i;

  if (! tu_have ("oci-image-tool"))
    {
      cr_assert (! tu_in_ci (), "oci-image-tool is missing in CI: scripts/deps installs it");
      cr_skip_test ("oci-image-tool is not installed");
    }
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      const struct case_ *c = &cases[i];
      struct tu_result oit, prep, prep_image;
      char *dir, *image;

      FX_CHECK (asprintf (&dir, "%s/%s", tmp, c->name) > 0);
      FX_CHECK (asprintf (&image, "%s:latest", dir) > 0);
      build (dir, c);
      tu_sh (&oit, "oci-image-tool validate --type image --ref name=latest '%s'", dir);
      tu_prep (&prep, (const char *const[]){ "verify", dir, NULL });
      tu_prep (&prep_image, (const char *const[]){ "verify", image, NULL });

      cr_expect_eq (oit.status == 0, c->good, "%s: oci-image-tool says %d, expected %s\n%s%s", c->name, oit.status,
                    c->good ? "good" : "bad", oit.out, oit.err);
      cr_expect_eq (prep.status == 0, c->good, "%s: oci-prep verify LAYOUT says %d, expected %s\n%s", c->name,
                    prep.status, c->good ? "good" : "bad", prep.err);
      cr_expect_eq (prep_image.status == 0, c->good, "%s: oci-prep verify IMAGE says %d\n%s", c->name,
                    prep_image.status, prep_image.err);
      if (! c->good)
        cr_expect_eq (prep.status, 1, "%s: a bad layout must exit 1, not %d", c->name, prep.status);
      tu_result_free (&oit);
      tu_result_free (&prep);
      tu_result_free (&prep_image);
      free (dir);
      free (image);
    }
  fx_rm_rf (tmp);
  free (tmp);
}
