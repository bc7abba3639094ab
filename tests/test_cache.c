/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The LRU map, and the caches built on it: pure speed-ups that never change a result, owned by a context. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <oci-prep/bundle.h>
#include <oci-prep/context.h>
#include <oci-prep/load.h>
#include <oci-prep/verify.h>

#include "base/lru.h"

#include "fixture.h"
#include "testutil.h"

Test (lru, get_put_and_recency)
{
  struct ocip_lru *lru = ocip_lru_new (3, 1000);
  size_t len;

  ocip_lru_put (lru, "a", "1", 1);
  ocip_lru_put (lru, "b", "22", 2);
  ocip_lru_put (lru, "c", "333", 3);
  cr_assert_eq (ocip_lru_count (lru), 3);
  cr_assert_eq (ocip_lru_bytes (lru), 6);
  /* Touch "a": "b" becomes the oldest and goes first.  */
  cr_assert_not_null (ocip_lru_get (lru, "a", &len));
  cr_assert_eq (len, 1);
  ocip_lru_put (lru, "d", "4444", 4);
  cr_assert_null (ocip_lru_get (lru, "b", NULL), "the least recently used entry was kept");
  cr_assert_not_null (ocip_lru_get (lru, "a", NULL));
  cr_assert_not_null (ocip_lru_get (lru, "c", NULL));
  cr_assert_eq (memcmp (ocip_lru_get (lru, "d", NULL), "4444", 4), 0);
  cr_assert_eq (ocip_lru_count (lru), 3);
  ocip_lru_free (lru);
}

Test (lru, byte_bound_and_replacement)
{
  struct ocip_lru *lru = ocip_lru_new (100, 10);
  size_t len;

  ocip_lru_put (lru, "a", "12345", 5);
  ocip_lru_put (lru, "b", "12345", 5);
  ocip_lru_put (lru, "c", "123", 3);
  cr_assert_null (ocip_lru_get (lru, "a", NULL), "over the byte bound the oldest goes");
  cr_assert_leq (ocip_lru_bytes (lru), 10);
  ocip_lru_put (lru, "c", "1", 1);
  cr_assert_eq (*(const char *) ocip_lru_get (lru, "c", &len), '1');
  cr_assert_eq (len, 1, "a put replaces the older value");
  ocip_lru_put (lru, "huge", "12345678901", 11);
  cr_assert_null (ocip_lru_get (lru, "huge", NULL), "a value over the bound is not stored");
  cr_assert_not_null (ocip_lru_get (lru, "b", NULL), "nor does it evict anything");
  ocip_lru_free (lru);
}

Test (lru, churn_keeps_lookups_right)
{
  struct ocip_lru *lru = ocip_lru_new (64, 1 << 20);
  char key[32];
  int i;

  /* Many evictions leave tombstones behind: the index is rebuilt and stays correct.  */
  for (i = 0; i < 100000; i++)
    {
      snprintf (key, sizeof key, "k%d", i);
      ocip_lru_put (lru, key, &i, sizeof i);
    }
  cr_assert_eq (ocip_lru_count (lru), 64);
  for (i = 100000 - 64; i < 100000; i++)
    {
      const int *v;
      snprintf (key, sizeof key, "k%d", i);
      v = ocip_lru_get (lru, key, NULL);
      cr_assert_not_null (v, "%s lost", key);
      cr_assert_eq (*v, i);
    }
  cr_assert_null (ocip_lru_get (lru, "k0", NULL));
  ocip_lru_free (lru);
}

static char *tmp, *layout, *store;

static void
setup (void)
{
  tmp = fx_mkdtemp ();
  FX_CHECK (asprintf (&layout, "%s/img", tmp) > 0);
  FX_CHECK (asprintf (&store, "%s/store", tmp) > 0);
  fx_mkdir_p (store);
}

static void
teardown (void)
{
  fx_rm_rf (tmp);
  free (tmp);
  free (layout);
  free (store);
}

TestSuite (verified_cache, .init = setup, .fini = teardown);

static void
verify (struct tu_result *r, bool cache)
{
  if (cache)
    tu_prep (r, (const char *const[]){ "--store", store, "--json", "verify", layout, NULL });
  else
    tu_prep (r, (const char *const[]){ "--store", store, "--no-cache", "--json", "verify", layout, NULL });
}

Test (verified_cache, second_verify_reads_nothing_unchanged)
{
  struct tu_result r;

  fx_simple_image (layout, "latest");
  verify (&r, true);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "\"cached\": 0"), "%s", r.out);
  tu_result_free (&r);
  verify (&r, true);
  cr_assert_eq (r.status, 0, "%s", r.err);
  /* The config and both layers; documents are always read to walk the graph.  */
  cr_assert (strstr (r.out, "\"cached\": 3"), "%s", r.out);
  tu_result_free (&r);
  verify (&r, false);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "\"cached\": 0"), "--no-cache must hash everything: %s", r.out);
  tu_result_free (&r);
}

Test (verified_cache, changed_blob_is_verified_again)
{
  struct fx_image_result res;
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layer;
  struct fx_image img = { .dir = layout, .layers = &layer, .n_layers = 1 };
  struct fx_index_entry e = { .ref = "latest" };
  struct tu_result r;
  void *tar;
  size_t len;
  char *path, *data;

  fx_tar_file (t, "a", 0644, "content");
  fx_tar_finish (t, &tar, &len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = len };
  fx_layout_init (layout);
  fx_image_write_full (&img, &res);
  e.desc = res.manifest;
  fx_index_write (layout, &e, 1);
  verify (&r, true);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);

  /* Same bytes written again: the identity changed (ctime), so it is hashed again.  */
  path = fx_blob_path (layout, res.layers[0].digest);
  data = fx_read_file (path, &len);
  fx_write_file (path, data, len);
  verify (&r, true);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "\"cached\": 1"), "only the config may come from the cache: %s", r.out);
  tu_result_free (&r);

  /* Corrupt, same size: rejected, with or without the cache.  */
  data[len / 2] ^= 1;
  fx_write_file (path, data, len);
  verify (&r, true);
  cr_assert_eq (r.status, 1, "a corrupt blob passed through the cache: %s", r.out);
  cr_assert (strstr (r.out, "digest mismatch"), "%s", r.out);
  tu_result_free (&r);
  verify (&r, false);
  cr_assert_eq (r.status, 1);
  tu_result_free (&r);
  free (data);
  free (path);
  free (tar);
  fx_image_result_free (&res);
}

Test (verified_cache, batch_load_is_identical_without_caches)
{
  struct tu_result a, b;
  char *img, *store2;

  fx_simple_image (layout, "latest");
  FX_CHECK (asprintf (&img, "%s:latest", layout) > 0);
  FX_CHECK (asprintf (&store2, "%s/store2", tmp) > 0);
  /* The same image named three times: planned three times, documents from the LRU.  */
  tu_prep (&a, (const char *const[]){ "--store", store, "--json", "load", layout, img, img, NULL });
  tu_prep (&b, (const char *const[]){ "--store", store2, "--no-cache", "--json", "load", layout, img, img, NULL });
  cr_assert_eq (a.status, 0, "%s", a.err);
  cr_assert_eq (b.status, 0, "%s", b.err);
  cr_assert_str_eq (a.out, b.out, "results differ with the caches off");
  tu_result_free (&a);
  tu_result_free (&b);
  free (img);
  free (store2);
}

/* Contexts: the caches belong to one, never to the process.  */

TestSuite (context, .init = setup, .fini = teardown, .timeout = 120);

static struct ocip_context *
context (bool no_cache)
{
  return ocip_context_new (&(struct ocip_context_options){ .store = store, .no_cache = no_cache });
}

static size_t
cached_by (struct ocip_context *ctx)
{
  struct ocip_verify_report *report = NULL;
  ocip_error_t err = NULL;
  size_t n;

  cr_assert_eq (ocip_verify_layout (ctx, layout, &report, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (report->n_failed, 0);
  n = report->n_cached;
  ocip_verify_report_free (report);
  return n;
}

/* The lines of the store's verified-blob cache file; -1 when there is none.  */
static int
cache_lines (void)
{
  char *path, *text;
  size_t len;
  int n;

  FX_CHECK (asprintf (&path, "%s/cache/verified-blobs", store) > 0);
  if (access (path, F_OK) < 0)
    {
      free (path);
      return -1;
    }
  text = fx_read_file (path, &len);
  n = tu_count (text, "\n");
  free (text);
  free (path);
  return n;
}

Test (context, two_contexts_keep_their_own_cache_settings)
{
  struct ocip_context *on = context (false);
  struct ocip_context *off = context (true);
  struct ocip_context *later;

  fx_simple_image (layout, "latest");
  cr_assert_eq (cached_by (on), 0);
  /* A context without caches made and used in between changes nothing for the other
     (with a process-wide switch, it turned caching off for everyone).  */
  cr_assert_eq (cached_by (off), 0);
  cr_assert_eq (cached_by (on), 3, "the context with caches lost them to the one without");
  /* And the one without never reads what the other saved.  */
  cr_assert_eq (cached_by (off), 0, "a context without caches used the store's");
  later = context (false);
  cr_assert_eq (cached_by (later), 3, "the cache was not saved for the next context");
  ocip_context_free (later);
  ocip_context_free (off);
  ocip_context_free (on);
}

Test (context, cache_is_saved_once_on_success)
{
  struct ocip_context *ctx = context (false);
  struct ocip_load_options opts;
  struct ocip_load_report *report = NULL;
  char *images[] = { layout, layout };
  ocip_error_t err = NULL;
  int saved;

  ocip_load_options_default (&opts);
  opts.no_sandbox = true;
  fx_simple_image (layout, "latest");
  cr_assert_eq (ocip_load_images (ctx, images, 2, NULL, &opts, &report, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (report->n_failed, 0);
  ocip_load_report_free (report);
  /* The manifest and the config, each once although the image was planned twice.  */
  saved = cache_lines ();
  cr_assert_eq (saved, 2, "%d lines saved", saved);
  cr_assert_eq (ocip_load_images (ctx, images, 1, NULL, &opts, &report, &err), 0, "%s", err ? err->msg : "");
  ocip_load_report_free (report);
  cr_assert_eq (cache_lines (), saved, "a second success saved the same blobs again");
  ocip_context_free (ctx);
}

Test (context, cache_is_not_saved_on_failure)
{
  struct ocip_context *ctx = context (false);
  struct ocip_load_options opts;
  struct ocip_load_report *report = NULL;
  char *missing, *images[2];
  ocip_error_t err = NULL;

  ocip_load_options_default (&opts);
  opts.no_sandbox = true;
  fx_simple_image (layout, "latest");
  FX_CHECK (asprintf (&missing, "%s:nosuchref", layout) > 0);
  images[0] = layout;
  images[1] = missing;
  /* The first image's documents verified, then planning the second failed.  */
  cr_assert_eq (ocip_load_images (ctx, images, 2, NULL, &opts, &report, &err), -ENOENT);
  cr_assert_null (report);
  ocip_error_release (&err);
  cr_assert_eq (cache_lines (), -1, "a failed load saved the cache");
  /* What it learned is kept for a success of the same context.  */
  cr_assert_eq (ocip_load_images (ctx, images, 1, NULL, &opts, &report, &err), 0, "%s", err ? err->msg : "");
  ocip_load_report_free (report);
  cr_assert_eq (cache_lines (), 2);
  free (missing);
  ocip_context_free (ctx);
}

Test (context, failed_bundle_saves_no_cache)
{
  struct ocip_context *ctx = context (false);
  struct ocip_bundle_options opts = { 0 };
  char *bundle, *file;
  ocip_error_t err = NULL;

  ocip_load_options_default (&opts.load);
  fx_simple_image (layout, "latest");
  FX_CHECK (asprintf (&bundle, "%s/bundle", tmp) > 0);
  FX_CHECK (asprintf (&file, "%s/someone-elses", bundle) > 0);
  fx_mkdir_p (bundle);
  fx_write_file (file, "x", 1);
  /* Planned (its documents verified), then refused: the directory is not empty.  */
  cr_assert_eq (ocip_bundle_create (ctx, layout, bundle, &opts, NULL, &err), -EEXIST);
  ocip_error_release (&err);
  cr_assert_eq (cache_lines (), -1, "a failed bundle saved the cache");
  free (file);
  free (bundle);
  ocip_context_free (ctx);
}
