/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the fixture builder: it writes what it claims, as libarchive's reader, oci-image-tool and umoci see it.  */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>

#include "fixture.h"

static char *tmp;

static void
setup (void)
{
  tmp = fx_mkdtemp ();
}

static void
teardown (void)
{
  if (tmp == NULL)
    return;
  fx_rm_rf (tmp);
  free (tmp);
  tmp = NULL;
}

TestSuite (fixture, .init = setup, .fini = teardown);

/* A path under the test's temp dir; malloc'd.  */
static char *
at (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static char *
at (const char *fmt, ...)
{
  va_list ap;
  char *rel, *p;

  va_start (ap, fmt);
  cr_assert_geq (vasprintf (&rel, fmt, ap), 0);
  va_end (ap);
  cr_assert_geq (asprintf (&p, "%s/%s", tmp, rel), 0);
  free (rel);
  return p;
}

/* Skip when PROG is missing on a developer machine; in CI (CI set and not
   "false") a missing tool is a failure, never a skip.  */
static void
need (const char *prog)
{
  const char *ci = getenv ("CI");
  char *cmd;
  int r;

  cr_assert_geq (asprintf (&cmd, "command -v '%s' >/dev/null 2>&1", prog), 0);
  r = system (cmd);
  free (cmd);
  if (r == 0)
    return;
  cr_assert (!(ci && *ci && strcmp (ci, "false") != 0), "%s is not installed (CI)", prog);
  /* A skipped test does not reach .fini.  */
  teardown ();
  cr_skip_test ("%s is not installed", prog);
}

/* Run a shell command and check whether it succeeded; its output is shown
   only when the outcome is not the expected one.  */
static void
expect_exit (bool success, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
expect_exit (bool success, const char *fmt, ...)
{
  va_list ap;
  char *cmd, *full, *log = at ("run.log");
  char *out;
  int r;

  va_start (ap, fmt);
  cr_assert_geq (vasprintf (&cmd, fmt, ap), 0);
  va_end (ap);
  cr_assert_geq (asprintf (&full, "%s >%s 2>&1", cmd, log), 0);
  r = system (full);
  out = fx_read_file (log, NULL);
  cr_assert_eq (r == 0, success, "'%s' exited %d, expected %s:\n%s", cmd, r, success ? "success" : "failure", out);
  free (out);
  free (full);
  free (cmd);
  free (log);
}

/* The blob a descriptor names, read back; checks it hashes to its name.  */
static char *
blob_read_verified (const char *dir, const struct fx_desc *d, size_t *len)
{
  char *p = fx_blob_path (dir, d->digest);
  char got[200], alg[16];
  char *data = fx_read_file (p, len);

  cr_assert_eq (sscanf (d->digest, "%15[^:]", alg), 1);
  fx_hash (alg, data, *len, got);
  cr_assert_str_eq (got, d->digest, "blob %s hashes to %s", p, got);
  cr_assert_eq ((long long) *len, d->size);
  free (p);
  return data;
}

/* Everything a decompressing reader gets out of IN.  */
static void *
decompress (const void *in, size_t len, size_t *ret_len)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  size_t cap = 65536, used = 0;
  char *out = malloc (cap);
  int r;

  cr_assert_not_null (out);
  archive_read_support_filter_all (a);
  archive_read_support_format_raw (a);
  /* Raw cannot bid on an empty stream; "empty" does.  */
  archive_read_support_format_empty (a);
  cr_assert_eq (archive_read_open_memory (a, in, len), ARCHIVE_OK, "%s", archive_error_string (a));
  r = archive_read_next_header (a, &e);
  cr_assert (r == ARCHIVE_OK || r == ARCHIVE_EOF, "%s", archive_error_string (a));
  while (r == ARCHIVE_OK)
    {
      la_ssize_t n;

      if (cap - used < 65536)
        {
          cap *= 2;
          out = realloc (out, cap);
          cr_assert_not_null (out);
        }
      n = archive_read_data (a, out + used, cap - used);
      cr_assert_geq (n, 0, "%s", archive_error_string (a));
      if (n == 0)
        break;
      used += (size_t) n;
    }
  archive_read_free (a);
  *ret_len = used;
  return out;
}

static struct archive *
tar_reader (const void *buf, size_t len)
{
  struct archive *a = archive_read_new ();

  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  cr_assert_eq (archive_read_open_memory (a, buf, len), ARCHIVE_OK, "%s", archive_error_string (a));
  return a;
}

/* FILETYPE 0: a hard link, which libarchive's reader gives no file type.  */
static struct archive_entry *
tar_next (struct archive *a, const char *path, unsigned filetype)
{
  struct archive_entry *e;

  cr_assert_eq (archive_read_next_header (a, &e), ARCHIVE_OK, "%s", archive_error_string (a));
  cr_assert_str_eq (archive_entry_pathname (e), path);
  cr_assert_eq (archive_entry_filetype (e), filetype, "%s: type %o", path, archive_entry_filetype (e));
  if (filetype == 0)
    cr_assert_not_null (archive_entry_hardlink (e), "%s is not a hard link", path);
  return e;
}

static void
tar_data_eq (struct archive *a, const void *want, size_t len)
{
  char buf[4096];
  la_ssize_t n = archive_read_data (a, buf, sizeof buf);

  cr_assert_eq (n, (la_ssize_t) len);
  cr_assert_eq (memcmp (buf, want, len), 0);
}

Test (fixture, layout_init_writes_oci_layout)
{
  char *dir = at ("a/b/layout");
  char *p = at ("a/b/layout/oci-layout");
  struct stat st;
  char *s;

  fx_layout_init (dir);
  s = fx_read_file (p, NULL);
  cr_assert_str_eq (s, "{\"imageLayoutVersion\":\"1.0.0\"}");
  free (p);
  p = at ("a/b/layout/blobs/sha256");
  cr_assert_eq (stat (p, &st), 0);
  cr_assert (S_ISDIR (st.st_mode));
  free (p);
  /* sha512 appears with the first sha512 blob, not before.  */
  p = at ("a/b/layout/blobs/sha512");
  cr_assert_eq (stat (p, &st), -1);
  free (p);
  free (s);
  free (dir);
}

Test (fixture, hash_matches_known_vectors)
{
  char out[200];

  fx_hash ("sha256", "abc", 3, out);
  cr_assert_str_eq (out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  fx_hash ("sha256", "", 0, out);
  cr_assert_str_eq (out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  fx_hash ("sha512", "abc", 3, out);
  cr_assert_str_eq (out, "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                         "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

Test (fixture, blob_content_hashes_to_its_name)
{
  static const char data[] = "some blob\0with a NUL";
  const char *algs[] = { "sha256", "sha512" };
  char *dir = at ("layout");

  fx_layout_init (dir);
  for (size_t i = 0; i < 2; i++)
    {
      struct fx_desc d;
      char *p, *content;
      size_t len;

      fx_blob_put (dir, algs[i], "application/x-test", data, sizeof data, &d);
      cr_assert_str_eq (d.media_type, "application/x-test");
      cr_assert_eq (d.size, (long long) sizeof data);
      cr_assert_eq (strncmp (d.digest, algs[i], strlen (algs[i])), 0);
      p = fx_blob_path (dir, d.digest);
      cr_assert_eq (strncmp (p, dir, strlen (dir)), 0);
      cr_assert_str_eq (strrchr (p, '/') + 1, strchr (d.digest, ':') + 1);
      content = blob_read_verified (dir, &d, &len);
      cr_assert_eq (len, sizeof data);
      cr_assert_eq (memcmp (content, data, len), 0);
      free (content);
      free (p);
    }
  free (dir);
}

Test (fixture, read_file_returns_binary_content_nul_terminated)
{
  char *p = at ("f");
  size_t len;
  char *s;

  fx_write_file (p, "a\0b", 3);
  s = fx_read_file (p, &len);
  cr_assert_eq (len, 3);
  cr_assert_eq (memcmp (s, "a\0b", 4), 0);
  free (s);
  fx_write_file (p, "", 0);
  s = fx_read_file (p, &len);
  cr_assert_eq (len, 0);
  cr_assert_eq (s[0], '\0');
  free (s);
  free (p);
}

Test (fixture, tar_entries_read_back_as_written)
{
  static const char bin[] = "bin\0ary";
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;
  struct archive *a;
  const char *name;
  const void *value;
  size_t vlen, len;
  void *buf;

  fx_tar_dir (t, "d", 0750);
  fx_tar_file (t, "d/f", 0644, "hello\n");
  fx_tar_file_ex (t, "d/suid", 04755, 1000, 2000, 12345, bin, sizeof bin);
  fx_tar_symlink (t, "d/sym", "../elsewhere/f");
  fx_tar_hardlink (t, "d/hard", "d/f");
  fx_tar_whiteout (t, "d/gone");
  fx_tar_whiteout (t, "top/");
  fx_tar_opaque (t, "d");
  fx_tar_opaque (t, "e/");
  fx_tar_device (t, "d/null", 'c', 1, 3);
  fx_tar_device (t, "d/sda", 'b', 8, 0);
  fx_tar_device (t, "d/fifo", 'p', 0, 0);
  fx_tar_xattr_file (t, "d/x", "security.capability", "\x01\0\0\x02", 4);
  e = fx_entry_new ("d/raw", AE_IFREG, 0600);
  archive_entry_set_size (e, 3);
  fx_tar_raw (t, e, "raw", 3);
  archive_entry_free (e);
  fx_tar_finish (t, &buf, &len);
  cr_assert_eq (len % 512, 0);

  a = tar_reader (buf, len);
  e = tar_next (a, "d/", AE_IFDIR);
  cr_assert_eq (archive_entry_perm (e), 0750);
  cr_assert_eq (archive_entry_uid (e), 0);
  cr_assert_eq (archive_entry_mtime (e), FX_MTIME);

  e = tar_next (a, "d/f", AE_IFREG);
  cr_assert_eq (archive_entry_perm (e), 0644);
  cr_assert_eq (archive_entry_size (e), 6);
  tar_data_eq (a, "hello\n", 6);

  e = tar_next (a, "d/suid", AE_IFREG);
  cr_assert_eq (archive_entry_perm (e), 04755);
  cr_assert_eq (archive_entry_uid (e), 1000);
  cr_assert_eq (archive_entry_gid (e), 2000);
  cr_assert_eq (archive_entry_mtime (e), 12345);
  tar_data_eq (a, bin, sizeof bin);

  e = tar_next (a, "d/sym", AE_IFLNK);
  cr_assert_str_eq (archive_entry_symlink (e), "../elsewhere/f");

  e = tar_next (a, "d/hard", 0);
  cr_assert_str_eq (archive_entry_hardlink (e), "d/f");
  cr_assert_eq (archive_entry_size (e), 0);

  e = tar_next (a, "d/.wh.gone", AE_IFREG);
  cr_assert_eq (archive_entry_size (e), 0);
  tar_next (a, ".wh.top", AE_IFREG);
  tar_next (a, "d/.wh..wh..opq", AE_IFREG);
  tar_next (a, "e/.wh..wh..opq", AE_IFREG);

  e = tar_next (a, "d/null", AE_IFCHR);
  cr_assert_eq (archive_entry_rdevmajor (e), 1);
  cr_assert_eq (archive_entry_rdevminor (e), 3);
  e = tar_next (a, "d/sda", AE_IFBLK);
  cr_assert_eq (archive_entry_rdevmajor (e), 8);
  cr_assert_eq (archive_entry_rdevminor (e), 0);
  tar_next (a, "d/fifo", AE_IFIFO);

  e = tar_next (a, "d/x", AE_IFREG);
  cr_assert_geq (archive_entry_xattr_reset (e), 1);
  cr_assert_eq (archive_entry_xattr_next (e, &name, &value, &vlen), ARCHIVE_OK);
  cr_assert_str_eq (name, "security.capability");
  cr_assert_eq (vlen, 4);
  cr_assert_eq (memcmp (value, "\x01\0\0\x02", 4), 0);
  /* The record Go's archive/tar (umoci, containerd) reads.  */
  cr_assert_not_null (memmem (buf, len, "SCHILY.xattr.security.capability=", 33));

  e = tar_next (a, "d/raw", AE_IFREG);
  cr_assert_eq (archive_entry_perm (e), 0600);
  tar_data_eq (a, "raw", 3);

  cr_assert_eq (archive_read_next_header (a, &e), ARCHIVE_EOF);
  archive_read_free (a);
  free (buf);
}

Test (fixture, tar_hostile_names_are_written_verbatim)
{
  const char *formats[] = { "paxr", "pax", "gnutar" };
  char long_name[400];

  memset (long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  for (size_t i = 100; i < sizeof long_name - 1; i += 50)
    long_name[i] = '/';

  for (size_t f = 0; f < sizeof formats / sizeof *formats; f++)
    {
      struct fx_tar *t = fx_tar_new_format (formats[f]);
      struct archive_entry *e;
      struct archive *a;
      size_t len;
      void *buf;

      fx_tar_file (t, "../../etc/passwd", 0644, "root::0:0::/:/bin/sh\n");
      fx_tar_file (t, "/etc/shadow", 0600, "x");
      fx_tar_symlink (t, "a/./b/../../c", "/../../etc");
      fx_tar_hardlink (t, "h", "../outside");
      fx_tar_file (t, long_name, 0644, "");
      fx_tar_symlink (t, "longlink", long_name);
      fx_tar_file (t, "same", 0644, "first");
      fx_tar_dir (t, "same", 0755);
      fx_tar_finish (t, &buf, &len);

      a = tar_reader (buf, len);
      tar_next (a, "../../etc/passwd", AE_IFREG);
      tar_next (a, "/etc/shadow", AE_IFREG);
      e = tar_next (a, "a/./b/../../c", AE_IFLNK);
      cr_assert_str_eq (archive_entry_symlink (e), "/../../etc");
      e = tar_next (a, "h", 0);
      cr_assert_str_eq (archive_entry_hardlink (e), "../outside");
      tar_next (a, long_name, AE_IFREG);
      e = tar_next (a, "longlink", AE_IFLNK);
      cr_assert_str_eq (archive_entry_symlink (e), long_name);
      tar_next (a, "same", AE_IFREG);
      tar_next (a, "same/", AE_IFDIR);
      cr_assert_eq (archive_read_next_header (a, &e), ARCHIVE_EOF, "format %s", formats[f]);
      archive_read_free (a);
      free (buf);
    }
}

Test (fixture, tar_raw_entry_pads_short_data_to_the_header_size)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e = fx_entry_new ("short", AE_IFREG, 0644);
  struct archive *a;
  char got[200];
  size_t len;
  void *buf;

  archive_entry_set_size (e, 100);
  fx_tar_raw (t, e, "0123456789", 10);
  archive_entry_free (e);
  fx_tar_finish (t, &buf, &len);

  a = tar_reader (buf, len);
  e = tar_next (a, "short", AE_IFREG);
  cr_assert_eq (archive_entry_size (e), 100);
  cr_assert_eq (archive_read_data (a, got, sizeof got), 100);
  cr_assert_eq (memcmp (got, "0123456789", 10), 0);
  for (int i = 10; i < 100; i++)
    cr_assert_eq (got[i], 0);
  archive_read_free (a);
  free (buf);
}

Test (fixture, compression_round_trips)
{
  const char *hows[] = { "none", "gzip", "zstd", "xz", "bzip2" };
  const unsigned char gzip_magic[] = { 0x1f, 0x8b }, zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };
  size_t in_len = 300000;
  unsigned char *in = malloc (in_len);
  unsigned x = 1;

  cr_assert_not_null (in);
  /* Half noise, half text: compressible but not trivially.  */
  for (size_t i = 0; i < in_len; i++)
    in[i] = i < in_len / 2 ? (unsigned char) ((x = x * 1103515245u + 12345u) >> 24) : (unsigned char) ('a' + i % 26);

  for (size_t h = 0; h < sizeof hows / sizeof *hows; h++)
    for (size_t sz = 0; sz <= in_len; sz += in_len)
      {
        void *c, *d;
        size_t c_len, d_len;

        fx_compress (in, sz, hows[h], &c, &c_len);
        if (strcmp (hows[h], "none") == 0)
          {
            cr_assert_eq (c_len, sz);
            cr_assert_eq (memcmp (c, in, sz), 0);
            free (c);
            continue;
          }
        if (strcmp (hows[h], "gzip") == 0)
          cr_assert_eq (memcmp (c, gzip_magic, 2), 0);
        if (strcmp (hows[h], "zstd") == 0)
          cr_assert_eq (memcmp (c, zstd_magic, 4), 0);
        d = decompress (c, c_len, &d_len);
        cr_assert_eq (d_len, sz, "%s of %zu bytes gave %zu", hows[h], sz, d_len);
        cr_assert_eq (memcmp (d, in, sz), 0, "%s", hows[h]);
        free (d);
        free (c);
      }
  free (in);
}

Test (fixture, gzip_is_deterministic_and_unpadded)
{
  static const char in[] = "the same bytes, the same digest";
  unsigned char *a, *b;
  size_t a_len, b_len;
  unsigned isize;

  fx_compress (in, sizeof in, "gzip", (void **) &a, &a_len);
  fx_compress (in, sizeof in, "gzip", (void **) &b, &b_len);
  cr_assert_eq (a_len, b_len);
  cr_assert_eq (memcmp (a, b, a_len), 0);
  /* MTIME (bytes 4-7) is zero.  */
  cr_assert_eq (a[4] | a[5] | a[6] | a[7], 0);
  /* The stream ends with ISIZE: no block padding follows it.  */
  isize = a[a_len - 4] | a[a_len - 3] << 8 | a[a_len - 2] << 16 | (unsigned) a[a_len - 1] << 24;
  cr_assert_eq (isize, sizeof in);
  free (a);
  free (b);
}

/* Two layers, the first plain, the second zstd; returns their tars.  */
static void
two_layers (struct fx_layer layers[2], void *tars[2])
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/a", 0644, "a\n");
  fx_tar_finish (t, &tars[0], &layers[0].tar_len);
  t = fx_tar_new ();
  fx_tar_whiteout (t, "etc/a");
  fx_tar_file (t, "etc/b", 0644, "b\n");
  fx_tar_finish (t, &tars[1], &layers[1].tar_len);
  layers[0].tar = tars[0];
  layers[0].compression = "none";
  layers[0].media_type = NULL;
  layers[1].tar = tars[1];
  layers[1].compression = "zstd";
  layers[1].media_type = NULL;
}

static char *
strf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static char *
strf (const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  cr_assert_geq (vasprintf (&s, fmt, ap), 0);
  va_end (ap);
  return s;
}

static void
assert_contains (const char *hay, const char *needle)
{
  cr_assert_not_null (strstr (hay, needle), "'%s' not in '%s'", needle, hay);
}

Test (fixture, image_write_references_what_it_wrote)
{
  struct fx_layer layers[2];
  void *tars[2];
  char *dir = at ("layout");
  struct fx_image img = { 0 };
  struct fx_image_result r;
  char *manifest, *config, *want;
  size_t m_len, c_len;

  two_layers (layers, tars);
  fx_layout_init (dir);
  img.dir = dir;
  img.alg = "sha512";
  img.layers = layers;
  img.n_layers = 2;
  img.config = "{\"Entrypoint\":[\"/bin/sh\"],\"Env\":[\"A=b\"]}";
  img.os = "linux";
  img.arch = "arm";
  img.variant = "v7";
  img.config_extra = "\"history\":[{\"created_by\":\"x\"}]";
  img.manifest_extra = "\"annotations\":{\"k\":\"v\"}";
  fx_image_write_full (&img, &r);

  cr_assert_str_eq (r.manifest.media_type, FX_MT_MANIFEST);
  cr_assert_str_eq (r.config.media_type, FX_MT_CONFIG);
  cr_assert_str_eq (r.layers[0].media_type, FX_MT_LAYER);
  cr_assert_str_eq (r.layers[1].media_type, FX_MT_LAYER_ZSTD);
  manifest = blob_read_verified (dir, &r.manifest, &m_len);
  config = blob_read_verified (dir, &r.config, &c_len);

  want = strf ("{\"schemaVersion\":2,\"mediaType\":\"%s\","
               "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld},"
               "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld},"
               "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}],"
               "\"annotations\":{\"k\":\"v\"}}",
               FX_MT_MANIFEST, FX_MT_CONFIG, r.config.digest, r.config.size, FX_MT_LAYER, r.layers[0].digest,
               r.layers[0].size, FX_MT_LAYER_ZSTD, r.layers[1].digest, r.layers[1].size);
  cr_assert_str_eq (manifest, want);
  free (want);

  for (int i = 0; i < 2; i++)
    {
      char id[200];
      size_t b_len, d_len;
      char *b = blob_read_verified (dir, &r.layers[i], &b_len);
      void *d = decompress (b, b_len, &d_len);

      fx_hash ("sha512", tars[i], layers[i].tar_len, id);
      cr_assert_str_eq (r.diff_ids[i], id);
      cr_assert_eq (d_len, layers[i].tar_len);
      cr_assert_eq (memcmp (d, tars[i], d_len), 0);
      free (d);
      free (b);
    }
  want = strf ("{\"created\":\"%s\",\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
               "\"config\":{\"Entrypoint\":[\"/bin/sh\"],\"Env\":[\"A=b\"]},"
               "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]},"
               "\"history\":[{\"created_by\":\"x\"}]}",
               FX_CREATED, r.diff_ids[0], r.diff_ids[1]);
  cr_assert_str_eq (config, want);
  free (want);

  fx_image_result_free (&r);
  free (config);
  free (manifest);
  free (tars[0]);
  free (tars[1]);
  free (dir);
}

Test (fixture, image_write_docker_media_types)
{
  struct fx_layer layers[2];
  void *tars[2];
  char *dir = at ("layout");
  struct fx_image img = { 0 };
  struct fx_image_result r;
  char *manifest;
  size_t len;

  two_layers (layers, tars);
  layers[1].compression = "gzip";
  fx_layout_init (dir);
  img.dir = dir;
  img.layers = layers;
  img.n_layers = 2;
  img.docker_media_types = true;
  fx_image_write_full (&img, &r);
  cr_assert_str_eq (r.manifest.media_type, FX_MT_DOCKER_MANIFEST);
  cr_assert_str_eq (r.config.media_type, FX_MT_DOCKER_CONFIG);
  cr_assert_str_eq (r.layers[0].media_type, FX_MT_DOCKER_LAYER);
  cr_assert_str_eq (r.layers[1].media_type, FX_MT_DOCKER_LAYER_GZIP);
  manifest = blob_read_verified (dir, &r.manifest, &len);
  assert_contains (manifest, "\"mediaType\":\"" FX_MT_DOCKER_MANIFEST "\"");
  assert_contains (manifest, "\"mediaType\":\"" FX_MT_DOCKER_CONFIG "\"");
  assert_contains (manifest, "\"mediaType\":\"" FX_MT_DOCKER_LAYER_GZIP "\"");
  fx_image_result_free (&r);
  free (manifest);
  free (tars[0]);
  free (tars[1]);
  free (dir);
}

/* Write the two-layer image with BREAKS; the config and manifest texts as
   written (read straight from the files, the digests may lie).  */
static void
broken_image (unsigned breaks, const char *dir, struct fx_image_result *r, char **config, char **manifest)
{
  struct fx_layer layers[2];
  void *tars[2];
  struct fx_image img = { 0 };
  char *p;

  two_layers (layers, tars);
  fx_layout_init (dir);
  img.dir = dir;
  img.layers = layers;
  img.n_layers = 2;
  img.breaks = breaks;
  fx_image_write_full (&img, r);
  p = fx_blob_path (dir, r->manifest.digest);
  *manifest = fx_read_file (p, NULL);
  free (p);
  if (breaks & FX_BREAK_CONFIG_MISSING)
    *config = NULL;
  else
    {
      p = fx_blob_path (dir, r->config.digest);
      *config = fx_read_file (p, NULL);
      free (p);
    }
  free (tars[0]);
  free (tars[1]);
}

Test (fixture, breaks_in_the_config_do_what_they_say)
{
  const unsigned flags[] = { 0, FX_BREAK_EXTRA_DIFF_ID, FX_BREAK_MISSING_DIFF_ID, FX_BREAK_ROOTFS_TYPE,
                             FX_BREAK_DIFF_ID, FX_BREAK_NO_ROOTFS };

  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
    {
      char *dir = at ("layout%zu", i);
      struct fx_image_result r;
      char *config, *manifest, *want = NULL, *other;

      broken_image (flags[i], dir, &r, &config, &manifest);
      switch (flags[i])
        {
        case 0:
          want = strf ("\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}", r.diff_ids[0], r.diff_ids[1]);
          break;
        case FX_BREAK_EXTRA_DIFF_ID:
          fx_hash ("sha256", "extra", 5, (other = malloc (200)));
          want = strf ("\"diff_ids\":[\"%s\",\"%s\",\"%s\"]}", r.diff_ids[0], r.diff_ids[1], other);
          free (other);
          break;
        case FX_BREAK_MISSING_DIFF_ID:
          want = strf ("\"diff_ids\":[\"%s\"]}", r.diff_ids[0]);
          break;
        case FX_BREAK_ROOTFS_TYPE:
          want = strf ("\"rootfs\":{\"type\":\"tarball\",\"diff_ids\":[\"%s\",", r.diff_ids[0]);
          break;
        case FX_BREAK_DIFF_ID:
          cr_assert_null (strstr (config, r.diff_ids[0]));
          want = strf ("\",\"%s\"]}", r.diff_ids[1]);
          break;
        case FX_BREAK_NO_ROOTFS:
          cr_assert_null (strstr (config, "rootfs"));
          cr_assert_null (strstr (config, "diff_ids"));
          want = strf ("\"os\":\"%s\"", fx_host_os ());
          break;
        }
      assert_contains (config, want);
      free (want);
      fx_image_result_free (&r);
      free (config);
      free (manifest);
      free (dir);
    }
}

Test (fixture, breaks_in_blobs_and_manifest_do_what_they_say)
{
  const unsigned flags[] = { FX_BREAK_LAYER_SIZE, FX_BREAK_LAYER_CONTENT, FX_BREAK_LAYER_MISSING,
                             FX_BREAK_CONFIG_SIZE, FX_BREAK_CONFIG_MISSING, FX_BREAK_SCHEMA_VERSION,
                             FX_BREAK_MANIFEST_MEDIA_TYPE };

  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
    {
      char *dir = at ("layout%zu", i);
      struct fx_image_result r;
      char *config, *manifest, *lp, *cp, *data, *want, got[200];
      struct stat st;
      size_t len;

      broken_image (flags[i], dir, &r, &config, &manifest);
      lp = fx_blob_path (dir, r.layers[0].digest);
      cp = fx_blob_path (dir, r.config.digest);
      /* The manifest always says what the result says.  */
      want = strf ("\"digest\":\"%s\",\"size\":%lld}", r.layers[0].digest, r.layers[0].size);
      assert_contains (manifest, want);
      free (want);
      want = strf ("\"digest\":\"%s\",\"size\":%lld}", r.config.digest, r.config.size);
      assert_contains (manifest, want);
      free (want);
      switch (flags[i])
        {
        case FX_BREAK_LAYER_SIZE:
          cr_assert_eq (stat (lp, &st), 0);
          cr_assert_eq (r.layers[0].size, (long long) st.st_size + 1);
          break;
        case FX_BREAK_LAYER_CONTENT:
          data = fx_read_file (lp, &len);
          cr_assert_eq ((long long) len, r.layers[0].size);
          fx_hash ("sha256", data, len, got);
          cr_assert_str_neq (got, r.layers[0].digest);
          free (data);
          break;
        case FX_BREAK_LAYER_MISSING:
          cr_assert_eq (stat (lp, &st), -1);
          cr_assert_eq (errno, ENOENT);
          /* ...but the descriptor is the honest one: the plain first layer's hash.  */
          cr_assert_str_eq (r.layers[0].digest, r.diff_ids[0]);
          break;
        case FX_BREAK_CONFIG_SIZE:
          cr_assert_eq (stat (cp, &st), 0);
          cr_assert_eq (r.config.size, (long long) st.st_size - 1);
          break;
        case FX_BREAK_CONFIG_MISSING:
          cr_assert_eq (stat (cp, &st), -1);
          cr_assert_eq (errno, ENOENT);
          break;
        case FX_BREAK_SCHEMA_VERSION:
          cr_assert_eq (strncmp (manifest, "{\"schemaVersion\":1,", 19), 0);
          break;
        case FX_BREAK_MANIFEST_MEDIA_TYPE:
          cr_assert_eq (strncmp (manifest, "{\"schemaVersion\":2,\"config\":", 28), 0);
          break;
        }
      fx_image_result_free (&r);
      free (lp);
      free (cp);
      free (config);
      free (manifest);
      free (dir);
    }
}

Test (fixture, index_lists_entries_with_platform_ref_and_extra)
{
  char *dir = at ("layout");
  char *p = at ("layout/index.json");
  struct fx_index_entry es[2] = { 0 };
  struct fx_desc nested;
  char *s, *want, *blob;
  size_t len;

  fx_layout_init (dir);
  fx_blob_put (dir, "sha256", FX_MT_MANIFEST, "{}", 2, &es[0].desc);
  es[0].ref = "v1";
  es[0].os = "linux";
  es[0].arch = "arm64";
  es[0].variant = "v8";
  es[1].desc = es[0].desc;
  es[1].extra = "\"urls\":[\"https://example.invalid/\"]";
  fx_index_write (dir, es, 2);
  s = fx_read_file (p, NULL);
  want = strf ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
               "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":2,"
               "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"},"
               "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}},"
               "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":2,\"urls\":[\"https://example.invalid/\"]}]}",
               FX_MT_INDEX, FX_MT_MANIFEST, es[0].desc.digest, FX_MT_MANIFEST, es[0].desc.digest);
  cr_assert_str_eq (s, want);

  /* The nested index is the same document, as a blob.  */
  fx_index_blob (dir, "sha512", es, 2, &nested);
  cr_assert_str_eq (nested.media_type, FX_MT_INDEX);
  blob = blob_read_verified (dir, &nested, &len);
  cr_assert_str_eq (blob, want);

  free (blob);
  free (want);
  free (s);
  free (p);
  free (dir);
}

Test (fixture, json_strings_are_escaped)
{
  char *dir = at ("layout");
  char *p = at ("layout/index.json");
  struct fx_index_entry e = { 0 };
  char *s;

  fx_layout_init (dir);
  fx_blob_put (dir, "sha256", FX_MT_MANIFEST, "{}", 2, &e.desc);
  e.ref = "q\"b\\s\nn\x01\x1f/\xc3\xa9";
  fx_index_write (dir, &e, 1);
  s = fx_read_file (p, NULL);
  assert_contains (s, "\"org.opencontainers.image.ref.name\":\"q\\\"b\\\\s\\nn\\u0001\\u001f/\xc3\xa9\"");
  free (s);
  free (p);
  free (dir);
}

Test (fixture, rm_rf_empties_unreadable_dirs_and_keeps_symlink_targets)
{
  char *top = at ("top");
  char *locked = at ("top/locked");
  char *inner = at ("top/locked/f");
  char *link = at ("top/link");
  char *outside = at ("outside");
  struct stat st;

  fx_mkdir_p (locked);
  fx_write_file (inner, "x", 1);
  fx_write_file (outside, "keep", 4);
  cr_assert_eq (symlink (outside, link), 0);
  cr_assert_eq (chmod (locked, 0), 0);
  fx_rm_rf (top);
  cr_assert_eq (lstat (top, &st), -1);
  cr_assert_eq (stat (outside, &st), 0);
  fx_rm_rf (top);
  free (top);
  free (locked);
  free (inner);
  free (link);
  free (outside);
}

Test (fixture, simple_image_passes_oci_image_tool)
{
  char *dir = at ("layout");
  struct fx_desc m;
  char *p, *data;
  size_t len;

  need ("oci-image-tool");
  fx_simple_image_ex (dir, "latest", &m);
  /* oci-image-tool 1.0.0-rc1 spells it "--type image" and "--ref name=REF";
     it checks every reachable blob's size and digest.  */
  expect_exit (true, "oci-image-tool validate --type image --ref name=latest %s", dir);
  expect_exit (false, "oci-image-tool validate --type image --ref name=nosuch %s", dir);

  /* The control: the same layout with one byte of the manifest changed fails.  */
  p = fx_blob_path (dir, m.digest);
  data = fx_read_file (p, &len);
  data[len - 1] = ' ';
  fx_write_file (p, data, len);
  expect_exit (false, "oci-image-tool validate --type image --ref name=latest %s", dir);
  free (data);
  free (p);
  free (dir);
}

static void
assert_file (const char *path, const char *content, unsigned mode)
{
  struct stat st;
  size_t len;
  char *s;

  cr_assert_eq (lstat (path, &st), 0, "%s: %s", path, strerror (errno));
  cr_assert (S_ISREG (st.st_mode));
  cr_assert_eq (st.st_mode & 07777, mode, "%s: mode %o", path, st.st_mode & 07777);
  s = fx_read_file (path, &len);
  cr_assert_str_eq (s, content);
  free (s);
}

static void
assert_symlink (const char *path, const char *target)
{
  char buf[4096];
  ssize_t n = readlink (path, buf, sizeof buf - 1);

  cr_assert_geq (n, 0, "%s: %s", path, strerror (errno));
  buf[n] = '\0';
  cr_assert_str_eq (buf, target);
}

static const char *
umoci_rootless (void)
{
  return geteuid () == 0 ? "" : " --rootless";
}

Test (fixture, simple_image_unpacks_with_umoci)
{
  char *dir = at ("layout");
  char *bundle = at ("bundle");
  char *p;

  need ("umoci");
  fx_simple_image (dir, "latest");
  expect_exit (true, "umoci stat --image %s:latest", dir);
  expect_exit (true, "umoci unpack%s --image %s:latest %s", umoci_rootless (), dir, bundle);

  p = at ("bundle/rootfs/etc/hello");
  assert_file (p, FX_SIMPLE_HELLO, 0644);
  free (p);
  p = at ("bundle/rootfs/hello-link");
  assert_symlink (p, "etc/hello");
  free (p);
  p = at ("bundle/rootfs/usr/bin/tool");
  assert_file (p, FX_SIMPLE_TOOL, 0755);
  free (p);
  p = at ("bundle/rootfs/usr/bin/tool-link");
  assert_symlink (p, "tool");
  free (p);
  p = at ("bundle/config.json");
  {
    char *s = fx_read_file (p, NULL);

    assert_contains (s, "/usr/bin/tool");
    assert_contains (s, "PATH=/usr/bin:/bin");
    free (s);
  }
  free (p);
  free (bundle);
  free (dir);
}

/* Whiteouts and opaque markers as the fixture spells them are what an
   independent implementation applies.  */
Test (fixture, umoci_applies_fixture_whiteouts)
{
  char *dir = at ("layout");
  char *bundle = at ("bundle");
  struct fx_index_entry e = { .ref = "latest" };
  struct fx_image img = { 0 };
  struct fx_layer layers[2] = { { 0 } };
  void *tars[2];
  struct fx_tar *t;
  struct stat st;
  char *p;

  need ("umoci");
  t = fx_tar_new ();
  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/keep", 0644, "keep\n");
  fx_tar_file (t, "etc/gone", 0644, "gone\n");
  fx_tar_dir (t, "opq", 0755);
  fx_tar_file (t, "opq/old", 0644, "old\n");
  fx_tar_file (t, "data", 0640, "data\n");
  fx_tar_finish (t, &tars[0], &layers[0].tar_len);
  t = fx_tar_new ();
  fx_tar_whiteout (t, "etc/gone");
  fx_tar_opaque (t, "opq");
  fx_tar_file (t, "opq/new", 0644, "new\n");
  fx_tar_hardlink (t, "data-link", "data");
  fx_tar_finish (t, &tars[1], &layers[1].tar_len);
  layers[0].tar = tars[0];
  layers[1].tar = tars[1];
  layers[1].compression = "none";

  fx_layout_init (dir);
  img.dir = dir;
  img.layers = layers;
  img.n_layers = 2;
  fx_image_write (&img, &e.desc);
  fx_index_write (dir, &e, 1);
  expect_exit (true, "umoci unpack%s --image %s:latest %s", umoci_rootless (), dir, bundle);

  p = at ("bundle/rootfs/etc/keep");
  assert_file (p, "keep\n", 0644);
  free (p);
  p = at ("bundle/rootfs/etc/gone");
  cr_assert_eq (lstat (p, &st), -1);
  free (p);
  p = at ("bundle/rootfs/etc/.wh.gone");
  cr_assert_eq (lstat (p, &st), -1);
  free (p);
  p = at ("bundle/rootfs/opq/old");
  cr_assert_eq (lstat (p, &st), -1);
  free (p);
  p = at ("bundle/rootfs/opq/new");
  assert_file (p, "new\n", 0644);
  free (p);
  p = at ("bundle/rootfs/data-link");
  assert_file (p, "data\n", 0640);
  cr_assert_eq (lstat (p, &st), 0);
  cr_assert_eq (st.st_nlink, 2);
  free (p);
  free (tars[0]);
  free (tars[1]);
  free (bundle);
  free (dir);
}
