/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The LRU map, and the caches built on it: pure speed-ups that never change a result. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
