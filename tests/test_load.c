/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep load end to end: the store, bad layers, bombs, concurrency, crash safety. */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <openssl/evp.h>

#include <oci-prep/limits.h>

#include "fixture.h"
#include "testutil.h"

static char *tmp, *layout, *store;

static void
setup (void)
{
  tmp = fx_mkdtemp ();
  FX_CHECK (asprintf (&layout, "%s/img", tmp) > 0);
  FX_CHECK (asprintf (&store, "%s/store", tmp) > 0);
}

static void
teardown (void)
{
  fx_rm_rf (tmp);
  free (tmp);
  free (layout);
  free (store);
}

TestSuite (load, .init = setup, .fini = teardown, .timeout = 120);

static void
load (struct tu_result *r, const char *image)
{
  tu_prep (r, (const char *const[]){ "--store", store, "--json", "load", image, NULL });
}

/* Entries of SUB under the store, "." and ".." excluded.  */
static int
count_entries (const char *sub)
{
  char *path = tu_fmt ("%s/%s", store, sub);
  int n = tu_count_entries (path);

  free (path);
  return n;
}

static int
count (const char *haystack, const char *needle)
{
  int n = 0;
  for (const char *p = haystack; (p = strstr (p, needle)) != NULL; p++)
    n++;
  return n;
}

static char *
layer_dir (const char *diff_id)
{
  char *p;
  FX_CHECK (asprintf (&p, "%s/layers/sha256-%s/diff", store, diff_id + 7) > 0);
  return p;
}

Test (load, extracts_then_reuses)
{
  struct tu_result r;
  struct stat st;
  char *path;

  fx_simple_image (layout, "latest");
  load (&r, layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_eq (count (r.out, "\"extracted\""), 2, "%s", r.out);
  tu_result_free (&r);

  cr_assert_eq (stat (store, &st), 0);
  cr_assert_eq (st.st_mode & 07777, 0700, "a store readable by others exposes setuid binaries");
  cr_assert_eq (count_entries ("layers"), 2);
  cr_assert_eq (count_entries ("tmp"), 0);

  FX_CHECK (asprintf (&path, "%s/layers", store) > 0);
  {
    struct tu_result f;
    tu_sh (&f, "cat %s/*/diff/etc/hello && readlink %s/*/diff/hello-link && stat -c %%a %s/*/diff/usr/bin/tool", path,
           path, path);
    cr_assert_eq (f.status, 0, "%s", f.err);
    cr_assert_str_eq (f.out, "hello\netc/hello\n755\n");
    tu_result_free (&f);
  }
  free (path);

  load (&r, layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_eq (count (r.out, "\"present\""), 2, "second load must reuse: %s", r.out);
  cr_assert_eq (count (r.out, "\"extracted\""), 0);
  tu_result_free (&r);
}

Test (load, store_is_tightened_to_0700)
{
  struct tu_result r;
  struct stat st;

  fx_simple_image (layout, "latest");
  fx_mkdir_p (store);
  FX_CHECK (chmod (store, 0755) == 0);
  load (&r, layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_eq (stat (store, &st), 0);
  cr_assert_eq (st.st_mode & 07777, 0700);
  tu_result_free (&r);
}

/* Two images sharing their bottom layer: one load, the shared layer once.  */
Test (load, shared_layers_are_extracted_once)
{
  struct fx_tar *t;
  void *base, *a, *b;
  size_t base_len, a_len, b_len;
  struct fx_layer la[2], lb[2];
  struct fx_index_entry e[2] = { { .ref = "a" }, { .ref = "b" } };
  struct fx_image ia = { .dir = layout, .layers = la, .n_layers = 2 };
  struct fx_image ib = { .dir = layout, .layers = lb, .n_layers = 2 };
  struct tu_result r;
  char *img_a, *img_b;

  t = fx_tar_new ();
  fx_tar_file (t, "base", 0644, "base");
  fx_tar_finish (t, &base, &base_len);
  t = fx_tar_new ();
  fx_tar_file (t, "a", 0644, "a");
  fx_tar_finish (t, &a, &a_len);
  t = fx_tar_new ();
  fx_tar_file (t, "b", 0644, "b");
  fx_tar_finish (t, &b, &b_len);
  la[0] = lb[0] = (struct fx_layer){ .tar = base, .tar_len = base_len };
  la[1] = (struct fx_layer){ .tar = a, .tar_len = a_len };
  lb[1] = (struct fx_layer){ .tar = b, .tar_len = b_len, .compression = "zstd" };
  fx_layout_init (layout);
  fx_image_write (&ia, &e[0].desc);
  fx_image_write (&ib, &e[1].desc);
  fx_index_write (layout, e, 2);
  FX_CHECK (asprintf (&img_a, "%s:a", layout) > 0);
  FX_CHECK (asprintf (&img_b, "%s:b", layout) > 0);

  tu_prep (&r, (const char *const[]){ "--store", store, "--json", "load", img_a, img_b, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_eq (count (r.out, "\"diffID\""), 3, "the shared layer must be listed once: %s", r.out);
  cr_assert_eq (count (r.out, "\"extracted\""), 3, "%s", r.out);
  cr_assert_eq (count_entries ("layers"), 3);
  tu_result_free (&r);
  free (img_a);
  free (img_b);
  free (base);
  free (a);
  free (b);
}

static void
broken (unsigned breaks, const char *compression)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layers[2];
  struct fx_image img = { .dir = layout, .layers = layers, .n_layers = 2, .breaks = breaks };
  struct fx_index_entry e = { .ref = "latest" };
  void *t1, *t2;
  size_t l1, l2;

  fx_tar_file (t, "first", 0644, "first layer, broken on purpose");
  fx_tar_finish (t, &t1, &l1);
  t = fx_tar_new ();
  fx_tar_file (t, "second", 0644, "second layer, fine");
  fx_tar_finish (t, &t2, &l2);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1, .compression = compression };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2, .compression = compression };
  fx_layout_init (layout);
  fx_image_write (&img, &e.desc);
  fx_index_write (layout, &e, 1);
  free (t1);
  free (t2);
}

static void
expect_one_failure (const char *needle)
{
  struct tu_result r;

  tu_prep (&r, (const char *const[]){ "--store", store, "load", layout, NULL });
  cr_assert_eq (r.status, 1, "%s", r.err);
  cr_assert (strstr (r.err, needle), "stderr lacks '%s': %s", needle, r.err);
  cr_assert (strstr (r.err, "1 of 2 layers failed to load"), "%s", r.err);
  /* The good layer is committed, the bad one left nothing behind.  */
  cr_assert_eq (count_entries ("layers"), 1);
  cr_assert_eq (count_entries ("tmp"), 0);
  tu_result_free (&r);
}

Test (load, diff_id_mismatch_discards_the_layer)
{
  broken (FX_BREAK_DIFF_ID, NULL);
  expect_one_failure ("diffID mismatch");
}

Test (load, diff_id_mismatch_zstd)
{
  broken (FX_BREAK_DIFF_ID, "zstd");
  expect_one_failure ("diffID mismatch");
}

Test (load, digest_mismatch_discards_the_layer)
{
  broken (FX_BREAK_LAYER_CONTENT, NULL);
  /* A flipped byte: gzip's CRC or the digest catches it, either way the layer fails.  */
  expect_one_failure ("layer 'sha256:");
}

Test (load, missing_blob)
{
  broken (FX_BREAK_LAYER_MISSING, NULL);
  expect_one_failure ("missing from the layout");
}

/* A ustar header for one regular file NAME of SIZE bytes.  */
static void
ustar_header (char h[512], const char *name, unsigned long long size)
{
  unsigned sum = 0;
  int i;

  memset (h, 0, 512);
  snprintf (h, 100, "%s", name);
  snprintf (h + 100, 8, "%07o", 0644);
  snprintf (h + 108, 8, "%07o", 0);
  snprintf (h + 116, 8, "%07o", 0);
  snprintf (h + 124, 12, "%011llo", size);
  snprintf (h + 136, 12, "%011llo", (unsigned long long) FX_MTIME);
  h[156] = '0';
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  memset (h + 148, ' ', 8);
  for (i = 0; i < 512; i++)
    sum += (unsigned char) h[i];
  snprintf (h + 148, 8, "%06o", sum);
}

/* Write a layer blob holding one file of SIZE zero bytes, compressed with HOW, streaming
   so that a bomb never sits in memory; *DESC describes the blob, DIFF_ID the tar.  */
static void
write_bomb (const char *how, unsigned long long size, struct fx_desc *desc, char diff_id[200])
{
  static char zeros[1 << 16];
  char header[512];
  EVP_MD_CTX *tar_hash = EVP_MD_CTX_new ();
  size_t cap = 1 << 20, len = 0;
  unsigned char *out = malloc (cap), md[EVP_MAX_MD_SIZE];
  unsigned md_len, i;
  unsigned long long left = size + (512 - size % 512) % 512 + 1024;
  z_stream z = { 0 };
  ZSTD_CCtx *zc = NULL;
  bool gzip = strcmp (how, "gzip") == 0;

  FX_CHECK (out && tar_hash && EVP_DigestInit_ex (tar_hash, EVP_sha256 (), NULL));
  if (gzip)
    FX_CHECK (deflateInit2 (&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  else
    FX_CHECK ((zc = ZSTD_createCCtx ()) != NULL);
  ustar_header (header, "zero", size);

  for (int first = 1; first || left > 0; first = 0)
    {
      const char *in = first ? header : zeros;
      size_t n = first ? 512 : (left < sizeof zeros ? left : sizeof zeros);
      bool last = ! first && left == n;
      if (! first)
        left -= n;
      EVP_DigestUpdate (tar_hash, in, n);
      if (gzip)
        {
          z.next_in = (unsigned char *) in;
          z.avail_in = n;
          do
            {
              if (cap - len < 65536)
                FX_CHECK ((out = realloc (out, cap *= 2)) != NULL);
              z.next_out = out + len;
              z.avail_out = cap - len;
              FX_CHECK (deflate (&z, last ? Z_FINISH : Z_NO_FLUSH) != Z_STREAM_ERROR);
              len = cap - z.avail_out;
            }
          while (z.avail_in > 0 || (last && z.avail_out == 0));
        }
      else
        {
          ZSTD_inBuffer zin = { in, n, 0 };
          size_t rem;
          do
            {
              if (cap - len < 65536)
                FX_CHECK ((out = realloc (out, cap *= 2)) != NULL);
              ZSTD_outBuffer zout = { out + len, cap - len, 0 };
              rem = ZSTD_compressStream2 (zc, &zout, &zin, last ? ZSTD_e_end : ZSTD_e_continue);
              FX_CHECK (! ZSTD_isError (rem));
              len += zout.pos;
            }
          while (zin.pos < zin.size || (last && rem != 0));
        }
    }
  if (gzip)
    deflateEnd (&z);
  else
    ZSTD_freeCCtx (zc);
  EVP_DigestFinal_ex (tar_hash, md, &md_len);
  EVP_MD_CTX_free (tar_hash);
  strcpy (diff_id, "sha256:");
  for (i = 0; i < md_len; i++)
    sprintf (diff_id + 7 + 2 * i, "%02x", md[i]);
  fx_blob_put (layout, "sha256", gzip ? FX_MT_LAYER_GZIP : FX_MT_LAYER_ZSTD, out, len, desc);
  free (out);
}

/* A one-layer image whose layer is LAYER (diffID DIFF_ID), written by hand.  */
static void
image_of_blob (const struct fx_desc *layer, const char *diff_id)
{
  char config[1024], manifest[2048];
  struct fx_desc c;
  struct fx_index_entry e = { .ref = "latest" };

  snprintf (config, sizeof config,
            "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
            fx_host_arch (), diff_id);
  fx_blob_put (layout, "sha256", FX_MT_CONFIG, config, strlen (config), &c);
  snprintf (manifest, sizeof manifest,
            "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld},"
            "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}]}",
            FX_MT_MANIFEST, FX_MT_CONFIG, c.digest, c.size, layer->media_type, layer->digest, layer->size);
  fx_blob_put (layout, "sha256", FX_MT_MANIFEST, manifest, strlen (manifest), &e.desc);
  fx_index_write (layout, &e, 1);
}

static void
bomb (const char *how)
{
  struct fx_desc layer;
  char diff_id[200];
  struct tu_result r;

  fx_layout_init (layout);
  write_bomb (how, 256ull << 20, &layer, diff_id);
  image_of_blob (&layer, diff_id);
  tu_prep (&r, (const char *const[]){ "--store", store, "load", "--max-layer-size", "16M", layout, NULL });
  cr_assert_eq (r.status, 1, "a %s bomb was accepted: %s", how, r.err);
  cr_assert (strstr (r.err, "exceed"), "%s", r.err);
  cr_assert_eq (count_entries ("layers"), 0);
  cr_assert_eq (count_entries ("tmp"), 0);
  tu_result_free (&r);

  /* The same stream within a generous limit is a valid layer.  */
  tu_prep (&r, (const char *const[]){ "--store", store, "load", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
}

Test (load, gzip_bomb_stops_at_the_limit)
{
  bomb ("gzip");
}

Test (load, zstd_bomb_stops_at_the_limit)
{
  bomb ("zstd");
}

Test (load, truncated_compressed_stream)
{
  struct fx_tar *t = fx_tar_new ();
  void *tar, *gz;
  size_t tar_len, gz_len;
  struct fx_desc layer;
  char diff_id[200];
  struct tu_result r;

  fx_tar_file (t, "file", 0644, "some content that compresses");
  fx_tar_finish (t, &tar, &tar_len);
  fx_compress (tar, tar_len, "gzip", &gz, &gz_len);
  fx_hash ("sha256", tar, tar_len, diff_id);
  fx_layout_init (layout);
  /* The blob's digest matches its (truncated) bytes: only the decompressor can tell.  */
  fx_blob_put (layout, "sha256", FX_MT_LAYER_GZIP, gz, gz_len - 12, &layer);
  image_of_blob (&layer, diff_id);
  tu_prep (&r, (const char *const[]){ "--store", store, "load", layout, NULL });
  cr_assert_eq (r.status, 1, "%s", r.err);
  cr_assert (strstr (r.err, "gzip"), "%s", r.err);
  cr_assert_eq (count_entries ("layers"), 0);
  cr_assert_eq (count_entries ("tmp"), 0);
  tu_result_free (&r);
  free (tar);
  free (gz);
}

Test (load, media_type_decides_the_decompressor)
{
  struct fx_tar *t = fx_tar_new ();
  void *tar, *zst;
  size_t tar_len, zst_len;
  struct fx_desc layer;
  char diff_id[200];
  struct tu_result r;

  fx_tar_file (t, "file", 0644, "zstd data labelled gzip");
  fx_tar_finish (t, &tar, &tar_len);
  fx_compress (tar, tar_len, "zstd", &zst, &zst_len);
  fx_hash ("sha256", tar, tar_len, diff_id);
  fx_layout_init (layout);
  fx_blob_put (layout, "sha256", FX_MT_LAYER_GZIP, zst, zst_len, &layer);
  image_of_blob (&layer, diff_id);
  tu_prep (&r, (const char *const[]){ "--store", store, "load", layout, NULL });
  cr_assert_eq (r.status, 1, "zstd bytes under a gzip media type were accepted");
  cr_assert (strstr (r.err, "gzip"), "%s", r.err);
  tu_result_free (&r);
  free (tar);
  free (zst);
}

/* One layer with enough files to take a while to extract.  */
static void
big_image (int files, size_t file_size)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layer = { .compression = "gzip" };
  struct fx_image img = { .dir = layout, .layers = &layer, .n_layers = 1 };
  struct fx_index_entry e = { .ref = "latest" };
  char *data = malloc (file_size);
  void *tar;
  size_t len;
  int i;

  for (size_t j = 0; j < file_size; j++)
    data[j] = (char) (j * 7 + j / 4096);
  for (i = 0; i < files; i++)
    {
      char name[64];
      snprintf (name, sizeof name, "d%02d/file%05d", i % 50, i);
      data[0] = (char) i;
      fx_tar_file_ex (t, name, 0644, 0, 0, FX_MTIME, data, file_size);
    }
  fx_tar_finish (t, &tar, &len);
  layer.tar = tar;
  layer.tar_len = len;
  fx_layout_init (layout);
  fx_image_write (&img, &e.desc);
  fx_index_write (layout, &e, 1);
  free (tar);
  free (data);
}

Test (load, concurrent_loads_extract_each_layer_once)
{
  struct tu_result r;

  big_image (4000, 8192);
  tu_sh (&r,
         "'%s' --store '%s' --json load '%s' > '%s/a.json' 2>&1 & "
         "'%s' --store '%s' --json load '%s' > '%s/b.json' 2>&1 & "
         "wait %%1; a=$?; wait %%2; b=$?; echo $a $b; cat '%s/a.json' '%s/b.json'",
         OCIP_BINARY, store, layout, tmp, OCIP_BINARY, store, layout, tmp, tmp, tmp);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strncmp (r.out, "0 0\n", 4) == 0, "both loads must succeed: %s", r.out);
  cr_assert_eq (count (r.out, "\"extracted\""), 1, "the layer must be extracted exactly once: %s", r.out);
  cr_assert_eq (count (r.out, "\"present\""), 1, "%s", r.out);
  cr_assert_eq (count_entries ("layers"), 1);
  cr_assert_eq (count_entries ("tmp"), 0);
  tu_result_free (&r);
}

Test (load, kill_in_the_middle_leaves_no_partial_layer)
{
  char *tmpdir;
  struct tu_result r;
  pid_t pid;
  int status, i;

  big_image (20000, 4096);
  FX_CHECK (asprintf (&tmpdir, "%s/tmp", store) > 0);
  pid = fork ();
  FX_CHECK (pid >= 0);
  if (pid == 0)
    {
      int null = open ("/dev/null", O_WRONLY);
      dup2 (null, 1);
      dup2 (null, 2);
      execl (OCIP_BINARY, OCIP_BINARY, "--store", store, "load", layout, (char *) NULL);
      _exit (127);
    }
  /* Wait until the work area holds part of the layer, then kill -9.  */
  for (i = 0; i < 2000; i++)
    {
      struct tu_result du;
      long kb = 0;
      tu_sh (&du, "du -sk '%s' 2>/dev/null | cut -f1", tmpdir);
      kb = atol (du.out);
      tu_result_free (&du);
      if (kb > 2000)
        break;
      usleep (5000);
    }
  kill (pid, SIGKILL);
  FX_CHECK (waitpid (pid, &status, 0) == pid);
  cr_assert (WIFSIGNALED (status), "load finished before it could be killed: make the layer bigger");
  cr_assert_eq (count_entries ("layers"), 0, "a partial layer is visible under layers/");
  cr_assert_gt (count_entries ("tmp"), 0, "the killed load left no work area (the test proves nothing)");

  tu_prep (&r, (const char *const[]){ "--store", store, "--json", "load", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_eq (count (r.out, "\"extracted\""), 1, "%s", r.out);
  cr_assert_eq (count_entries ("layers"), 1);
  cr_assert_eq (count_entries ("tmp"), 0, "stale work areas must be cleaned");
  tu_result_free (&r);
  free (tmpdir);
}

/* What real images do must keep working.  */
Test (load, must_accept_real_image_shapes)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layers[2];
  struct fx_image img = { .dir = layout, .layers = layers, .n_layers = 2 };
  struct fx_index_entry e = { .ref = "latest" };
  struct tu_result r, f;
  char longname[400], *diff;
  void *t1, *t2;
  size_t l1, l2;
  struct fx_image_result res;

  snprintf (longname, sizeof longname, "usr/%0150d/%0150d", 1, 2);
  fx_tar_dir (t, "usr", 0755);
  fx_tar_dir (t, "usr/lib", 0755);
  fx_tar_dir (t, "usr/lib", 0755); /* duplicate directory entries */
  fx_tar_symlink (t, "lib", "usr/lib");
  fx_tar_symlink (t, "lib64", "/usr/lib");
  fx_tar_file (t, "lib/libc.so", 0755, "libc");
  fx_tar_file_ex (t, "usr/bin-su", 04755, 0, 0, FX_MTIME, "su", 2);
  fx_tar_hardlink (t, "usr/bin-su-link", "usr/bin-su");
  fx_tar_file (t, longname, 0644, "long");
  fx_tar_finish (t, &t1, &l1);
  t = fx_tar_new ();
  fx_tar_whiteout (t, "never-existed");
  fx_tar_finish (t, &t2, &l2);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2 };
  fx_layout_init (layout);
  fx_image_write_full (&img, &res);
  e.desc = res.manifest;
  fx_index_write (layout, &e, 1);

  tu_prep (&r, (const char *const[]){ "--store", store, "load", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  diff = layer_dir (res.diff_ids[0]);
  tu_sh (&f, "cd '%s' && cat usr/lib/libc.so && readlink lib64 && stat -c '%%a %%h' usr/bin-su && cat '%s'", diff,
         longname);
  cr_assert_eq (f.status, 0, "%s", f.err);
  cr_assert_str_eq (f.out, "libc/usr/lib\n4755 2\nlong", "%s", f.out);
  tu_result_free (&f);
  tu_result_free (&r);
  free (diff);
  fx_image_result_free (&res);
  free (t1);
  free (t2);
}

/* A one-layer image (gzip) holding "after" (5 bytes) then a sparse file "sparse" of
   SIZE bytes with one 4 KiB data segment in the middle: its files declare SIZE + 5
   bytes.  *DIFF_ID its diffID, *TAR_LEN the size of its tar.  */
static void
sparse_image (long long size, char diff_id[200], size_t *tar_len)
{
  struct fx_tar *t = fx_tar_new_format ("pax");
  struct fx_segment seg = { size / 2 / 4096 * 4096, 4096 };
  struct fx_layer layer = { 0 };
  struct fx_image img = { .dir = layout, .layers = &layer, .n_layers = 1 };
  struct fx_index_entry e = { .ref = "latest" };
  struct fx_image_result res;
  void *tar;

  fx_tar_file (t, "after", 0644, "after");
  fx_tar_sparse (t, "sparse", size, &seg, 1);
  fx_tar_finish (t, &tar, tar_len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = *tar_len };
  fx_layout_init (layout);
  fx_image_write_full (&img, &res);
  e.desc = res.manifest;
  fx_index_write (layout, &e, 1);
  strcpy (diff_id, res.diff_ids[0]);
  fx_image_result_free (&res);
  free (tar);
}

static double
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A layer of a few KiB declaring a sparse file at the size limit loads, and is checked
   by fsck --deep, in the time its data takes, not its size: the content digest skips
   the holes (it took 13 s per GiB declared, 14 minutes at the old 256 GiB limit).  */
Test (load, sparse_file_at_the_limit_costs_its_data_not_its_size)
{
  long long size = (long long) OCIP_LIMIT_LAYER_BYTES - 5;
  char diff_id[200], *diff, *p, *out;
  unsigned char block[4096];
  struct tu_result r;
  struct stat st;
  size_t tar_len;
  double t0, load_s, fsck_s;
  int fd;

  sparse_image (size, diff_id, &tar_len);
  t0 = now_seconds ();
  tu_prep (&r, (const char *const[]){ "--store", store, "load", layout, NULL });
  load_s = now_seconds () - t0;
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  t0 = now_seconds ();
  tu_prep (&r, (const char *const[]){ "--store", store, "store", "fsck", "--deep", NULL });
  fsck_s = now_seconds () - t0;
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_assert (strstr (r.out, "content verified for 1 layers"), "%s", r.out);
  tu_result_free (&r);
  fprintf (stderr, "load: a %zu-byte layer declaring a %lld-byte sparse file: load %.2f s, fsck --deep %.2f s\n",
           tar_len, size, load_s, fsck_s);
  cr_assert_lt (load_s, 10.0, "load took %.2f s", load_s);
  cr_assert_lt (fsck_s, 10.0, "fsck --deep took %.2f s", fsck_s);

  diff = layer_dir (diff_id);
  p = tu_fmt ("%s/sparse", diff);
  FX_CHECK ((fd = open (p, O_RDONLY | O_CLOEXEC)) >= 0);
  FX_CHECK (fstat (fd, &st) == 0);
  cr_assert_eq (st.st_size, size);
  cr_assert_lt (st.st_blocks, 1024, "the sparse file takes %lld blocks", (long long) st.st_blocks);
  FX_CHECK (pread (fd, block, sizeof block, size / 2 / 4096 * 4096) == (ssize_t) sizeof block);
  cr_assert (block[0] == FX_SPARSE_BYTE && block[4095] == FX_SPARSE_BYTE);
  close (fd);

  /* A byte changed inside a hole is seen.  */
  FX_CHECK ((fd = open (p, O_WRONLY | O_CLOEXEC)) >= 0);
  FX_CHECK (pwrite (fd, "x", 1, size / 4) == 1);
  close (fd);
  tu_prep (&r, (const char *const[]){ "--store", store, "store", "fsck", "--deep", NULL });
  cr_assert_eq (r.status, 1, "%s%s", r.out, r.err);
  out = tu_fmt ("%s%s", r.out, r.err);
  cr_assert (strstr (out, "its content changed since it was extracted"), "%s", out);
  free (out);
  tu_result_free (&r);
  free (p);
  free (diff);
}

/* One byte over the default limit, 64 GiB, is refused, naming the file and the limit;
   the store keeps nothing.  */
Test (load, sparse_file_over_the_limit_is_refused)
{
  char diff_id[200], *limit = tu_fmt ("%llu", 64ull << 30);
  struct tu_result r;
  size_t tar_len;

  sparse_image ((64ll << 30) - 4, diff_id, &tar_len);
  tu_prep (&r, (const char *const[]){ "--store", store, "load", layout, NULL });
  cr_assert_eq (r.status, 1, "%s", r.err);
  cr_assert (strstr (r.err, "entry 'sparse': the layer's files exceed"), "%s", r.err);
  cr_assert (strstr (r.err, limit), "%s", r.err);
  cr_assert_eq (count_entries ("layers"), 0);
  cr_assert_eq (count_entries ("tmp"), 0);
  tu_result_free (&r);
  free (limit);
}

/* Loaded by root of a user namespace (`unshare --map-root-user`, as a user's
   `unshare --map-auto --map-root-user` or `podman unshare`): the sandbox works without
   the caller's capabilities over the host, the store is a user's (user.overlay.* for
   the opaque directory), and the device node the namespace may not create is skipped
   with one warning line naming it instead of failing the layer.  */
Test (load, in_a_user_namespace_skips_device_nodes_with_one_warning)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layer;
  struct fx_image img = { .dir = layout, .layers = &layer, .n_layers = 1 };
  struct fx_index_entry e = { .ref = "latest" };
  struct tu_result r;
  char value[4];
  char *diff, *opq;
  void *tar;
  size_t len;

  tu_need ("unshare", NULL);
  fx_tar_dir (t, "dev", 0755);
  fx_tar_device (t, "dev/null", 'c', 1, 3);
  fx_tar_device (t, "dev/sda", 'b', 8, 0);
  fx_tar_dir (t, "o", 0755);
  fx_tar_opaque (t, "o");
  fx_tar_whiteout (t, "gone");
  fx_tar_file (t, "f", 0644, "f");
  fx_tar_finish (t, &tar, &len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = len };
  fx_layout_init (layout);
  fx_image_write (&img, &e.desc);
  fx_index_write (layout, &e, 1);

  tu_sh (&r, "unshare --user --map-root-user '%s' --store '%s' load '%s' 2>&1", OCIP_BINARY, store, layout);
  cr_assert_eq (r.status, 0, "%s", r.out);
  cr_assert_eq (count (r.out, "warning:"), 1, "one warning line: %s", r.out);
  cr_assert (strstr (r.out, "device nodes not created") && strstr (r.out, "'dev/null', 'dev/sda'"), "%s", r.out);
  tu_result_free (&r);
  diff = tu_fmt ("%s/layers", store);
  tu_sh (&r, "echo %s/*/diff", diff);
  opq = tu_fmt ("%.*s/o", (int) strcspn (r.out, "\n"), r.out);
  cr_assert_eq (getxattr (opq, "user.overlay.opaque", value, sizeof value), 1, "%s: %s", opq, strerror (errno));
  cr_assert_eq (getxattr (opq, "trusted.overlay.opaque", value, sizeof value), -1);
  tu_result_free (&r);
  free (diff);
  free (opq);
  free (tar);
}

/* Root of a user namespace is a user: its default store is $XDG_DATA_HOME/oci-prep,
   never root's /var/lib/oci-prep (which it could not write, and may not mix with).  */
Test (load, in_a_user_namespace_the_default_store_is_the_users)
{
  struct tu_result r;

  fx_simple_image (layout, "latest");
  tu_sh (&r, "env -u OCI_PREP_STORE XDG_DATA_HOME='%s/data' unshare --user --map-root-user '%s' load '%s' 2>&1", tmp,
         OCIP_BINARY, layout);
  cr_assert_eq (r.status, 0, "%s", r.out);
  tu_result_free (&r);
  cr_assert (tu_exists (tmp, "data/oci-prep/layers"), "the store must be $XDG_DATA_HOME/oci-prep");
}
