/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The oci-prep binary on good and bad layouts: inspect, verify, exit codes, messages. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

static char *tmp;
static char *layout;

static void
setup (void)
{
  tmp = fx_mkdtemp ();
  FX_CHECK (asprintf (&layout, "%s/img", tmp) > 0);
}

static void
teardown (void)
{
  fx_rm_rf (tmp);
  free (tmp);
  free (layout);
}

TestSuite (cli, .init = setup, .fini = teardown);

/* Run oci-prep with ARGS and assert exit STATUS and, when not NULL, that stderr
   contains NEEDLE on one line (the one-line error rule).  */
static void
expect (int status, const char *needle, const char *const *args)
{
  struct tu_result r;

  tu_prep (&r, args);
  cr_assert_eq (r.status, status, "%s %s: exit %d, expected %d\nstdout: %s\nstderr: %s", args[0], args[1] ? args[1] : "", r.status,
                status, r.out, r.err);
  if (needle)
    {
      cr_assert (strstr (r.err, needle) != NULL, "stderr lacks '%s': %s", needle, r.err);
      cr_assert (strncmp (r.err, "oci-prep: ", 10) == 0, "error does not start with 'oci-prep: ': %s", r.err);
    }
  tu_result_free (&r);
}
#define EXPECT(status, needle, ...) expect ((status), (needle), (const char *const[]){ __VA_ARGS__, NULL })

static char *
path_in (const char *rel)
{
  char *p;
  FX_CHECK (asprintf (&p, "%s/%s", layout, rel) > 0);
  return p;
}

static void
write_in (const char *rel, const char *text)
{
  char *p = path_in (rel);
  fx_write_file (p, text, strlen (text));
  free (p);
}

/* The manifest of the simple image, to corrupt its blobs.  */
static struct fx_desc
simple (void)
{
  struct fx_desc m;
  fx_simple_image_ex (layout, "latest", &m);
  return m;
}

/* The path of layer N of the simple image (0 = bottom), read from its manifest.  */
static char *
layer_path (const struct fx_desc *manifest, int n)
{
  char *mpath = fx_blob_path (layout, manifest->digest);
  char *doc = fx_read_file (mpath, NULL);
  const char *p = strstr (doc, "\"layers\"");
  char digest[200];
  int i;

  for (i = 0; i <= n; i++)
    {
      p = strstr (p + 1, "\"digest\"");
      FX_CHECK (p != NULL);
    }
  FX_CHECK (sscanf (p, "\"digest\":\"%199[^\"]\"", digest) == 1 || sscanf (p, "\"digest\": \"%199[^\"]\"", digest) == 1);
  free (mpath);
  free (doc);
  return fx_blob_path (layout, digest);
}

Test (cli, inspect_simple_image)
{
  struct tu_result r;
  simple ();
  tu_prep (&r, (const char *const[]){ "inspect", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "[\"/usr/bin/tool\"]"), "%s", r.out);
  cr_assert (strstr (r.out, "env         PATH=/usr/bin:/bin"), "%s", r.out);
  cr_assert (strstr (r.out, "layers      2"), "%s", r.out);
  tu_result_free (&r);
}

Test (cli, inspect_json_is_machine_readable)
{
  struct tu_result r, jq;
  char *file;
  simple ();
  tu_prep (&r, (const char *const[]){ "--json", "inspect", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  FX_CHECK (asprintf (&file, "%s/out.json", tmp) > 0);
  fx_write_file (file, r.out, strlen (r.out));
  /* python3's json module is an independent parser.  */
  tu_sh (&jq, "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
              "assert len(d[\"layers\"])==2; assert d[\"config\"][\"entrypoint\"]==[\"/usr/bin/tool\"]; "
              "assert d[\"layers\"][0][\"diffID\"]==d[\"layers\"][0][\"chainID\"]; print(d[\"platform\"])' %s",
         file);
  cr_assert_eq (jq.status, 0, "%s%s", jq.out, jq.err);
  tu_result_free (&jq);
  tu_result_free (&r);
  free (file);
}

Test (cli, verify_good_layout)
{
  struct tu_result r;
  simple ();
  tu_prep (&r, (const char *const[]){ "verify", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "verified 4 blobs"), "%s", r.out);
  tu_result_free (&r);
}

Test (cli, usage_errors_exit_2)
{
  EXPECT (2, NULL, "inspect");
  EXPECT (2, NULL, "no-such-command");
  EXPECT (2, NULL, "inspect", "--bogus", "x");
  EXPECT (2, NULL, "--json");
}

Test (cli, missing_layout)
{
  EXPECT (1, "open layout", "inspect", layout);
}

Test (cli, missing_oci_layout_file)
{
  char *p;
  simple ();
  p = path_in ("oci-layout");
  unlink (p);
  free (p);
  EXPECT (1, "'oci-layout'", "inspect", layout);
  EXPECT (1, "'oci-layout'", "verify", layout);
}

Test (cli, invalid_oci_layout_file)
{
  simple ();
  write_in ("oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}");
  EXPECT (1, "unsupported imageLayoutVersion '2.0.0'", "inspect", layout);
  write_in ("oci-layout", "{\"imageLayoutVersion\":");
  EXPECT (1, "'oci-layout': invalid JSON", "inspect", layout);
  write_in ("oci-layout", "{}");
  EXPECT (1, "missing field 'imageLayoutVersion'", "inspect", layout);
}

Test (cli, invalid_index_json)
{
  simple ();
  write_in ("index.json", "{\"schemaVersion\":2,\"manifests\":[}");
  EXPECT (1, "'index.json': invalid JSON", "inspect", layout);
  write_in ("index.json", "{\"schemaVersion\":2,\"manif");
  EXPECT (1, "'index.json': invalid JSON", "verify", layout);
  write_in ("index.json", "[]");
  EXPECT (1, "not a JSON object", "inspect", layout);
}

Test (cli, oversized_index_json)
{
  size_t n = 5u << 20;
  char *big = malloc (n + 1);
  simple ();
  memset (big, ' ', n);
  memcpy (big, "{\"schemaVersion\":2,\"manifests\":[]}", 34);
  big[n] = '\0';
  write_in ("index.json", big);
  free (big);
  EXPECT (1, "over the limit", "inspect", layout);
}

Test (cli, deeply_nested_index_json)
{
  char doc[512] = "{\"schemaVersion\":2,\"manifests\":[],\"x\":";
  int i;
  simple ();
  for (i = 0; i < 100; i++)
    strcat (doc, "[");
  for (i = 0; i < 100; i++)
    strcat (doc, "]");
  strcat (doc, "}");
  write_in ("index.json", doc);
  EXPECT (1, "nesting too deep", "inspect", layout);
}

Test (cli, wrong_schema_version)
{
  simple ();
  write_in ("index.json", "{\"schemaVersion\":1,\"manifests\":[]}");
  EXPECT (1, "unsupported schemaVersion 1", "inspect", layout);
}

Test (cli, manifest_schema_version_and_media_type)
{
  struct fx_image img = { .dir = layout, .breaks = FX_BREAK_SCHEMA_VERSION };
  struct fx_index_entry e = { .ref = "latest" };
  void *tar;
  size_t len;
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layer;

  fx_tar_file (t, "a", 0644, "a");
  fx_tar_finish (t, &tar, &len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = len };
  img.layers = &layer;
  img.n_layers = 1;
  fx_layout_init (layout);
  fx_image_write (&img, &e.desc);
  fx_index_write (layout, &e, 1);
  EXPECT (1, "unsupported schemaVersion 1", "inspect", layout);
  EXPECT (1, "unsupported schemaVersion 1", "verify", layout);

  /* The index says index, the blob says manifest: CVE-2021-41190.  */
  snprintf (e.desc.media_type, sizeof e.desc.media_type, "%s", FX_MT_INDEX);
  img.breaks = 0;
  fx_image_write (&img, &e.desc);
  snprintf (e.desc.media_type, sizeof e.desc.media_type, "%s", FX_MT_INDEX);
  fx_index_write (layout, &e, 1);
  EXPECT (1, "contradicts the descriptor's", "inspect", layout);
  EXPECT (1, "contradicts the descriptor's", "verify", layout);
  free (tar);
}

static void
index_with_digest (const char *digest)
{
  char doc[1024];
  snprintf (doc, sizeof doc,
            "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":10,"
            "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}",
            FX_MT_MANIFEST, digest);
  write_in ("index.json", doc);
}

Test (cli, bad_digest_grammar)
{
  simple ();
  index_with_digest ("sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789");
  EXPECT (1, "needs 64 lowercase hex digits", "inspect", layout);
  index_with_digest ("sha256:abc");
  EXPECT (1, "needs 64 lowercase hex digits", "verify", layout);
  index_with_digest ("sha256:../../etc/passwd");
  EXPECT (1, "invalid digest 'sha256:../../etc/passwd'", "inspect", layout);
  index_with_digest ("md5:d41d8cd98f00b204e9800998ecf8427e");
  EXPECT (1, "unsupported digest algorithm 'md5'", "inspect", layout);
}

Test (cli, blob_shorter_longer_mismatch_missing)
{
  struct fx_desc m = simple ();
  char *top = layer_path (&m, 1);
  size_t len;
  char *data = fx_read_file (top, &len);
  char *bad = malloc (len + 1);

  /* Longer.  */
  memcpy (bad, data, len);
  bad[len] = 'x';
  fx_write_file (top, bad, len + 1);
  EXPECT (1, "longer than its declared size", "verify", layout);
  /* Shorter.  */
  fx_write_file (top, data, len - 1);
  EXPECT (1, "shorter than its declared size", "verify", layout);
  /* Same size, other content.  */
  memcpy (bad, data, len);
  bad[len / 2] ^= 0x55;
  fx_write_file (top, bad, len);
  EXPECT (1, "digest mismatch", "verify", layout);
  /* Gone.  */
  unlink (top);
  EXPECT (1, "missing from the layout", "verify", layout);
  free (bad);
  free (data);
  free (top);
}

Test (cli, verify_reports_every_failure)
{
  struct fx_desc m = simple ();
  char *l0 = layer_path (&m, 0), *l1 = layer_path (&m, 1);
  struct tu_result r;

  fx_write_file (l0, "x", 1);
  unlink (l1);
  tu_prep (&r, (const char *const[]){ "verify", layout, NULL });
  cr_assert_eq (r.status, 1);
  cr_assert (strstr (r.err, "shorter than its declared size"), "%s", r.err);
  cr_assert (strstr (r.err, "missing from the layout"), "%s", r.err);
  cr_assert (strstr (r.err, "2 of 4 blobs failed verification"), "%s", r.err);
  tu_result_free (&r);
  free (l0);
  free (l1);
}

Test (cli, manifest_digest_mismatch_is_reported)
{
  struct fx_desc m = simple ();
  char *p = fx_blob_path (layout, m.digest);
  size_t len;
  char *data = fx_read_file (p, &len);

  data[len - 2] = data[len - 2] == ' ' ? '\t' : ' ';
  fx_write_file (p, data, len);
  EXPECT (1, "digest mismatch", "verify", layout);
  EXPECT (1, "digest mismatch", "inspect", layout);
  free (data);
  free (p);
}

Test (cli, blob_symlink_out_of_layout)
{
  struct fx_desc m = simple ();
  char *top = layer_path (&m, 1);
  unlink (top);
  FX_CHECK (symlink ("/etc/passwd", top) == 0);
  EXPECT (1, "is a symlink, not a regular file", "verify", layout);
  unlink (top);
  FX_CHECK (symlink ("../../../../../../../../etc/passwd", top) == 0);
  EXPECT (1, "is a symlink, not a regular file", "verify", layout);
  free (top);
}

Test (cli, blob_fifo_and_directory)
{
  struct fx_desc m = simple ();
  char *top = layer_path (&m, 1);
  unlink (top);
  FX_CHECK (mkfifo (top, 0644) == 0);
  EXPECT (1, "not a regular file", "verify", layout);
  unlink (top);
  FX_CHECK (mkdir (top, 0755) == 0);
  EXPECT (1, "not a regular file", "verify", layout);
  free (top);
}

Test (cli, unknown_and_ambiguous_refs)
{
  struct fx_desc a, b;
  struct fx_index_entry e[3];
  char *img;

  fx_simple_image_ex (layout, "v1", &a);
  fx_simple_image_ex (layout, "x", &b);
  /* Two different manifests named "dup" for the same platform.  */
  {
    struct fx_tar *t = fx_tar_new ();
    void *tar;
    size_t len;
    struct fx_layer layer;
    struct fx_image im = { .dir = layout };
    fx_tar_file (t, "other", 0644, "other");
    fx_tar_finish (t, &tar, &len);
    layer = (struct fx_layer){ .tar = tar, .tar_len = len };
    im.layers = &layer;
    im.n_layers = 1;
    fx_image_write (&im, &b);
    free (tar);
  }
  e[0] = (struct fx_index_entry){ .desc = a, .ref = "v1" };
  e[1] = (struct fx_index_entry){ .desc = a, .ref = "dup", .os = fx_host_os (), .arch = fx_host_arch () };
  e[2] = (struct fx_index_entry){ .desc = b, .ref = "dup", .os = fx_host_os (), .arch = fx_host_arch () };
  fx_index_write (layout, e, 3);

  FX_CHECK (asprintf (&img, "%s:v2", layout) > 0);
  EXPECT (1, "ref 'v2' not found in", "inspect", img);
  EXPECT (1, "(available: v1, dup)", "inspect", img);
  free (img);
  FX_CHECK (asprintf (&img, "%s:dup", layout) > 0);
  EXPECT (1, "is ambiguous", "inspect", img);
  free (img);
  /* No ref, no "latest", several entries.  */
  EXPECT (1, "no 'latest'", "inspect", layout);
  FX_CHECK (asprintf (&img, "%s:v1", layout) > 0);
  EXPECT (0, NULL, "inspect", img);
  free (img);
}

Test (cli, unknown_platform)
{
  struct fx_desc m;
  struct fx_index_entry e;
  char *img;

  fx_simple_image_ex (layout, "latest", &m);
  e = (struct fx_index_entry){ .desc = m, .ref = "latest", .os = "linux", .arch = "s390x" };
  fx_index_write (layout, &e, 1);
  FX_CHECK (asprintf (&img, "%s:latest", layout) > 0);
  EXPECT (1, "has no manifest for platform", "inspect", img);
  EXPECT (1, "(available: linux/s390x)", "inspect", img);
  EXPECT (0, NULL, "inspect", "--platform", "linux/s390x", img);
  EXPECT (2, NULL, "inspect", "--platform", "linux", img);
  free (img);
}

static void
broken_image (unsigned breaks)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_image img = { .dir = layout, .breaks = breaks };
  struct fx_index_entry e = { .ref = "latest" };
  struct fx_layer layer;
  void *tar;
  size_t len;

  fx_tar_file (t, "a", 0644, "a");
  fx_tar_finish (t, &tar, &len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = len };
  img.layers = &layer;
  img.n_layers = 1;
  fx_layout_init (layout);
  fx_image_write (&img, &e.desc);
  fx_index_write (layout, &e, 1);
  free (tar);
}

Test (cli, diff_ids_count_mismatch)
{
  broken_image (FX_BREAK_EXTRA_DIFF_ID);
  EXPECT (1, "rootfs.diff_ids has 2 entries for 1 layers", "inspect", layout);
  broken_image (FX_BREAK_MISSING_DIFF_ID);
  EXPECT (1, "rootfs.diff_ids has 0 entries for 1 layers", "inspect", layout);
}

Test (cli, wrong_rootfs_type)
{
  broken_image (FX_BREAK_ROOTFS_TYPE);
  EXPECT (1, "rootfs.type is 'tarball', not 'layers'", "inspect", layout);
  broken_image (FX_BREAK_NO_ROOTFS);
  EXPECT (1, "missing field 'rootfs'", "inspect", layout);
}

Test (cli, config_size_and_missing_config)
{
  broken_image (FX_BREAK_CONFIG_SIZE);
  EXPECT (1, "longer than its declared size", "inspect", layout);
  broken_image (FX_BREAK_CONFIG_MISSING);
  EXPECT (1, "missing from the layout", "inspect", layout);
}
