/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layouts and resolution: refs, digests, nested indexes, platforms, sha512, Docker, zstd. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/layout.h>
#include <oci-prep/plan.h>

#include "fixture.h"
#include "testutil.h"

static char *tmp;
static char *layout;

static void
setup (void)
{
  tmp = fx_mkdtemp ();
  FX_CHECK (asprintf (&layout, "%s/img", tmp) > 0);
  fx_layout_init (layout);
}

static void
teardown (void)
{
  fx_rm_rf (tmp);
  free (tmp);
  free (layout);
}

TestSuite (layout, .init = setup, .fini = teardown);

/* An image with one layer holding the file NAME; returns its manifest descriptor.  */
static struct fx_desc
one_layer_image (const char *name, const char *compression, const char *alg, const char *arch, bool docker)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layer = { .compression = compression };
  struct fx_image img = { .dir = layout, .alg = alg, .arch = arch, .docker_media_types = docker,
                          .config = "{\"Cmd\":[\"/bin/true\"]}" };
  struct fx_desc m;
  void *tar;
  size_t len;

  fx_tar_file (t, name, 0644, name);
  fx_tar_finish (t, &tar, &len);
  layer.tar = tar;
  layer.tar_len = len;
  img.layers = &layer;
  img.n_layers = 1;
  fx_image_write (&img, &m);
  free (tar);
  return m;
}

static struct ocip_plan *
plan_ok (const char *image, const char *platform)
{
  struct ocip_platform p = { 0 };
  struct ocip_plan *plan = NULL;
  ocip_error_t err = NULL;

  if (platform)
    cr_assert_eq (ocip_platform_parse (platform, &p, &err), 0);
  cr_assert_eq (ocip_plan_new (NULL, image, platform ? &p : NULL, &plan, &err), 0, "%s: %s", image, err ? err->msg : "");
  ocip_platform_clear (&p);
  return plan;
}

static void
plan_fails (const char *image, const char *platform, int status, const char *needle)
{
  struct ocip_platform p = { 0 };
  struct ocip_plan *plan = NULL;
  ocip_error_t err = NULL;

  if (platform)
    cr_assert_eq (ocip_platform_parse (platform, &p, &err), 0);
  cr_assert_lt (ocip_plan_new (NULL, image, platform ? &p : NULL, &plan, &err), 0, "%s resolved", image);
  cr_assert_eq (err->status, status, "%s: status %d: %s", image, err->status, err->msg);
  cr_assert (strstr (err->msg, needle), "%s: '%s' lacks '%s'", image, err->msg, needle);
  ocip_error_release (&err);
  ocip_platform_clear (&p);
}

static char *
image (const char *suffix)
{
  char *s;
  FX_CHECK (asprintf (&s, "%s%s", layout, suffix) > 0);
  return s;
}

Test (layout, image_ref_grammar)
{
  struct ocip_image_ref r;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_image_ref_parse ("oci:/a/b:v1.0-rc", &r, &err), 0);
  cr_assert_str_eq (r.layout, "/a/b");
  cr_assert_str_eq (r.ref, "v1.0-rc");
  ocip_image_ref_clear (&r);
  cr_assert_eq (ocip_image_ref_parse ("dir:a/b:c@d", &r, &err), 0);
  cr_assert_str_eq (r.ref, "a/b:c@d");
  ocip_image_ref_clear (&r);
  cr_assert_eq (ocip_image_ref_parse ("dir", &r, &err), 0);
  cr_assert_null (r.ref);
  cr_assert (! r.has_digest);
  ocip_image_ref_clear (&r);
  cr_assert_eq (ocip_image_ref_parse ("d@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &r,
                                      &err),
                0);
  cr_assert (r.has_digest);
  ocip_image_ref_clear (&r);

  static const char *const bad[] = { ":x", "d:", "d:-x", "d:a..b", "d:a/", "d:a b", "d@sha256:zz", "" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cr_assert_lt (ocip_image_ref_parse (bad[i], &r, &err), 0, "'%s' accepted", bad[i]);
      cr_assert_eq (err->status, EINVAL, "'%s'", bad[i]);
      ocip_error_release (&err);
    }
}

Test (layout, several_refs)
{
  struct fx_desc a = one_layer_image ("a", NULL, NULL, NULL, false);
  struct fx_desc b = one_layer_image ("b", NULL, NULL, NULL, false);
  struct fx_index_entry e[] = { { .desc = a, .ref = "v1" }, { .desc = b, .ref = "latest" }, { .desc = a, .ref = "x/y:z" } };
  struct ocip_plan *p;
  char *s;

  fx_index_write (layout, e, 3);
  p = plan_ok (layout, NULL);
  cr_assert_str_eq (p->manifest_desc.digest.str, b.digest, "no ref must pick 'latest'");
  ocip_plan_free (p);
  s = image (":v1");
  p = plan_ok (s, NULL);
  cr_assert_str_eq (p->manifest_desc.digest.str, a.digest);
  ocip_plan_free (p);
  free (s);
  s = image (":x/y:z");
  p = plan_ok (s, NULL);
  cr_assert_str_eq (p->manifest_desc.digest.str, a.digest);
  ocip_plan_free (p);
  free (s);
  s = image (":nope");
  plan_fails (s, NULL, ENOENT, "(available: v1, latest, x/y:z)");
  free (s);
}

Test (layout, single_unnamed_entry_is_the_default)
{
  struct fx_desc a = one_layer_image ("a", NULL, NULL, NULL, false);
  struct fx_index_entry e = { .desc = a };
  struct ocip_plan *p;

  fx_index_write (layout, &e, 1);
  p = plan_ok (layout, NULL);
  cr_assert_str_eq (p->manifest_desc.digest.str, a.digest);
  cr_assert_eq (p->n_layers, 1);
  ocip_plan_free (p);
}

Test (layout, empty_index)
{
  fx_index_write (layout, NULL, 0);
  plan_fails (layout, NULL, ENOENT, "0 manifests");
}

/* index.json -> "multi" index (amd64 manifest + nested index (arm64/v8, arm/v7)) .  */
Test (layout, multi_platform_nested_index)
{
  struct fx_desc amd = one_layer_image ("amd", NULL, NULL, "amd64", false);
  struct fx_desc arm64 = one_layer_image ("arm64", NULL, NULL, "arm64", false);
  struct fx_desc arm = one_layer_image ("arm", NULL, NULL, "arm", false);
  struct fx_index_entry inner[] = { { .desc = arm64, .os = "linux", .arch = "arm64", .variant = "v8" },
                                    { .desc = arm, .os = "linux", .arch = "arm", .variant = "v7" } };
  struct fx_desc nested, outer;
  struct fx_index_entry mid[2], top;
  struct ocip_plan *p;
  char *s = image (":multi");

  fx_index_blob (layout, "sha256", inner, 2, &nested);
  mid[0] = (struct fx_index_entry){ .desc = amd, .os = "linux", .arch = "amd64" };
  mid[1] = (struct fx_index_entry){ .desc = nested };
  fx_index_blob (layout, "sha256", mid, 2, &outer);
  top = (struct fx_index_entry){ .desc = outer, .ref = "multi" };
  fx_index_write (layout, &top, 1);

  p = plan_ok (s, "linux/amd64");
  cr_assert_str_eq (p->manifest_desc.digest.str, amd.digest);
  ocip_plan_free (p);
  p = plan_ok (s, "linux/arm64");
  cr_assert_str_eq (p->manifest_desc.digest.str, arm64.digest, "arm64 without variant means v8");
  ocip_plan_free (p);
  p = plan_ok (s, "linux/arm/v7");
  cr_assert_str_eq (p->manifest_desc.digest.str, arm.digest);
  ocip_plan_free (p);
  plan_fails (s, "linux/riscv64", ENOENT, "available: linux/amd64, linux/arm64/v8, linux/arm/v7");
  plan_fails (s, "linux/arm/v6", ENOENT, "no manifest for platform linux/arm/v6");
  free (s);

  /* The nested index and a manifest inside it can be named by digest.  */
  s = image ("@");
  {
    char *d;
    FX_CHECK (asprintf (&d, "%s%s", s, arm.digest) > 0);
    p = plan_ok (d, "linux/arm/v7");
    cr_assert_str_eq (p->manifest_desc.digest.str, arm.digest);
    ocip_plan_free (p);
    free (d);
    FX_CHECK (asprintf (&d, "%s%s", s, nested.digest) > 0);
    p = plan_ok (d, "linux/arm64/v8");
    cr_assert_str_eq (p->manifest_desc.digest.str, arm64.digest);
    ocip_plan_free (p);
    free (d);
    FX_CHECK (asprintf (&d, "%ssha256:%064d", s, 0) > 0);
    plan_fails (d, NULL, ENOENT, "is not referenced");
    free (d);
  }
  free (s);
}

Test (layout, explicit_platform_checks_a_direct_manifest)
{
  struct fx_desc a = one_layer_image ("a", NULL, NULL, "arm64", false);
  struct fx_index_entry e = { .desc = a, .ref = "latest" };

  fx_index_write (layout, &e, 1);
  /* Without --platform a manifest named directly is taken as is (inspect works).  */
  ocip_plan_free (plan_ok (layout, NULL));
  plan_fails (layout, "linux/amd64", ENOENT, "image is for platform linux/arm64");
}

Test (layout, sha512_blobs)
{
  struct fx_desc a = one_layer_image ("a", "gzip", "sha512", NULL, false);
  struct fx_index_entry e = { .desc = a, .ref = "latest" };
  struct ocip_plan *p;

  cr_assert (strncmp (a.digest, "sha512:", 7) == 0);
  fx_index_write (layout, &e, 1);
  p = plan_ok (layout, NULL);
  cr_assert_eq (p->layers[0].blob.digest.alg, OCIP_DIGEST_SHA512);
  cr_assert_eq (p->layers[0].diff_id.alg, OCIP_DIGEST_SHA512);
  /* chainIDs are computed on demand; the bottom layer's is its diffID.  */
  ocip_plan_chain_ids (p);
  cr_assert_str_eq (p->layers[0].chain_id.str, p->layers[0].diff_id.str);
  ocip_plan_free (p);
}

Test (layout, docker_media_types)
{
  struct fx_desc a = one_layer_image ("a", "gzip", NULL, NULL, true);
  struct fx_index_entry e = { .desc = a, .ref = "latest" };
  struct ocip_plan *p;

  cr_assert_str_eq (a.media_type, FX_MT_DOCKER_MANIFEST);
  fx_index_write (layout, &e, 1);
  p = plan_ok (layout, NULL);
  cr_assert_str_eq (p->manifest->config.media_type, FX_MT_DOCKER_CONFIG);
  cr_assert_str_eq (p->layers[0].blob.media_type, FX_MT_DOCKER_LAYER_GZIP);
  cr_assert_eq (p->layers[0].compression, OCIP_COMPRESSION_GZIP);
  ocip_plan_free (p);
}

Test (layout, zstd_and_plain_layers)
{
  struct fx_desc a = one_layer_image ("a", "zstd", NULL, NULL, false);
  struct fx_desc b = one_layer_image ("b", "none", NULL, NULL, false);
  struct fx_index_entry e[] = { { .desc = a, .ref = "z" }, { .desc = b, .ref = "p" } };
  struct ocip_plan *p;
  char *s;

  fx_index_write (layout, e, 2);
  s = image (":z");
  p = plan_ok (s, NULL);
  cr_assert_str_eq (p->layers[0].blob.media_type, FX_MT_LAYER_ZSTD);
  cr_assert_eq (p->layers[0].compression, OCIP_COMPRESSION_ZSTD);
  ocip_plan_free (p);
  free (s);
  s = image (":p");
  p = plan_ok (s, NULL);
  cr_assert_eq (p->layers[0].compression, OCIP_COMPRESSION_NONE);
  ocip_plan_free (p);
  free (s);
}

Test (layout, unknown_layer_media_type)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layer = { .compression = "gzip", .media_type = "application/vnd.example.layer.v1.tar+lz4" };
  struct fx_image img = { .dir = layout };
  struct fx_index_entry e = { .ref = "latest" };
  void *tar;
  size_t len;

  fx_tar_file (t, "a", 0644, "a");
  fx_tar_finish (t, &tar, &len);
  layer.tar = tar;
  layer.tar_len = len;
  img.layers = &layer;
  img.n_layers = 1;
  fx_image_write (&img, &e.desc);
  fx_index_write (layout, &e, 1);
  plan_fails (layout, NULL, EINVAL, "unsupported layer media type 'application/vnd.example.layer.v1.tar+lz4'");
  free (tar);
}

Test (layout, index_cycle_is_an_error_not_a_hang)
{
  /* A real cycle cannot be hashed into existence; a self-referencing descriptor whose
     digest does not match is refused on read, which must be the error, not a loop.  */
  char doc[600];
  struct fx_desc self;
  struct fx_index_entry top;

  snprintf (doc, sizeof doc,
            "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"sha256:%064d\","
            "\"size\":1}]}",
            FX_MT_INDEX, FX_MT_INDEX, 0);
  fx_blob_put (layout, "sha256", FX_MT_INDEX, doc, strlen (doc), &self);
  top = (struct fx_index_entry){ .desc = self, .ref = "latest" };
  fx_index_write (layout, &top, 1);
  plan_fails (layout, NULL, ENOENT, "missing from the layout");
}

Test (layout, too_deep_index_nesting)
{
  struct fx_desc m = one_layer_image ("a", NULL, NULL, NULL, false), cur = m;
  struct fx_index_entry e;
  int i;

  for (i = 0; i < 20; i++)
    {
      e = (struct fx_index_entry){ .desc = cur };
      fx_index_blob (layout, "sha256", &e, 1, &cur);
    }
  e = (struct fx_index_entry){ .desc = cur, .ref = "latest" };
  fx_index_write (layout, &e, 1);
  plan_fails (layout, NULL, E2BIG, "levels deep");
}

/* NAME of the layout replaced by a character device: opening the layout fails with
   EINVAL naming it, and the device's driver is never called (CVE-2024-9676).  */
static void
layout_device_refused (const char *name)
{
  struct fx_desc m = one_layer_image ("f", "gzip", "sha256", NULL, false);
  struct ocip_layout *l = NULL;
  ocip_error_t err = NULL;
  char *path;
  int watch, r;

  (void) m;
  FX_CHECK (asprintf (&path, "%s/%s", layout, name) > 0);
  watch = tu_device_watched (path);
  r = ocip_layout_open (NULL, layout, &l, &err);
  cr_assert_eq (tu_opens (watch), 0, "the device node '%s' was opened", name);
  cr_assert_eq (r, -EINVAL, "%s: %s", name, err ? err->msg : "opened");
  cr_assert (strstr (err->msg, "is a character device, not a regular file") && strstr (err->msg, name), "%s",
             err->msg);
  cr_assert_null (l);
  ocip_error_release (&err);
  close (watch);
  free (path);
}

Test (layout, index_json_device_is_refused_without_being_opened)
{
  layout_device_refused ("index.json");
}

Test (layout, oci_layout_device_is_refused_without_being_opened)
{
  layout_device_refused ("oci-layout");
}
