/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The oci-prep binary on good and bad layouts: inspect, verify, exit codes, messages. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
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

/* tu_workdir_free detaches what a test mounted under tmp (the tmpfs store) first.  */
static void
teardown (void)
{
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (cli, .init = setup, .fini = teardown);

/* Lines of TEXT (each ends with a newline; a last one without counts too).  */
static int
count_lines (const char *text)
{
  int n = 0;

  for (; *text; text++)
    if (*text == '\n' || text[1] == '\0')
      n++;
  return n;
}

/* Run oci-prep with ARGS and assert exit STATUS and, on failure, that stderr is one
   line starting with "oci-prep: " (the one-line error rule) holding NEEDLE when that
   is not NULL.  */
static void
expect (int status, const char *needle, const char *const *args)
{
  struct tu_result r;

  tu_prep (&r, args);
  cr_assert_eq (r.status, status, "%s %s: exit %d, expected %d\nstdout: %s\nstderr: %s", args[0], args[1] ? args[1] : "", r.status,
                status, r.out, r.err);
  if (status != 0)
    {
      cr_assert (strncmp (r.err, "oci-prep: ", 10) == 0, "error does not start with 'oci-prep: ': %s", r.err);
      cr_assert_eq (count_lines (r.err), 1, "%s %s: the error is not one line: %s", args[0], args[1] ? args[1] : "",
                    r.err);
    }
  if (needle)
    cr_assert (strstr (r.err, needle) != NULL, "stderr lacks '%s': %s", needle, r.err);
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
  /* Every failure is a line of its own with -v; without, only the first is named.  */
  tu_prep (&r, (const char *const[]){ "-v", "verify", layout, NULL });
  cr_assert_eq (r.status, 1);
  cr_assert_eq (count_lines (r.err), 3, "%s", r.err);
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

/* Write a one-layer image with the config members CONFIG (fx_image.config) broken as
   BREAKS says, as "latest"; *CONFIG_PATH (when not NULL) gets its config blob's path.  */
static void
one_layer_image (const char *config, unsigned breaks, char **config_path)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_image img = { .dir = layout, .config = config, .breaks = breaks };
  struct fx_index_entry e = { .ref = "latest" };
  struct fx_image_result res;
  struct fx_layer layer;
  void *tar;
  size_t len;

  fx_tar_file (t, "a", 0644, "a");
  fx_tar_finish (t, &tar, &len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = len };
  img.layers = &layer;
  img.n_layers = 1;
  fx_layout_init (layout);
  fx_image_write_full (&img, &res);
  e.desc = res.manifest;
  fx_index_write (layout, &e, 1);
  if (config_path)
    *config_path = fx_blob_path (layout, res.config.digest);
  fx_image_result_free (&res);
  free (tar);
}

static void
broken_image (unsigned breaks)
{
  one_layer_image (NULL, breaks, NULL);
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

/* ---- human-readable output is escaped (issue 12, item 10) ---- */

/* TEXT reaches a terminal: no C0 byte but the newline ending each line, no DEL, no C1
   control (U+0080..U+009F, UTF-8 C2 80..C2 9F), no bidirectional override U+202E.  */
static void
assert_no_raw_controls (const char *what, const char *text)
{
  const unsigned char *p;

  for (p = (const unsigned char *) text; *p; p++)
    {
      cr_assert (*p >= 0x20 || *p == '\n', "%s: raw byte 0x%02x at %zu: %s", what, *p,
                 (size_t) (p - (const unsigned char *) text), text);
      cr_assert (*p != 0x7f, "%s: raw DEL: %s", what, text);
      cr_assert (! (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f), "%s: raw C1 control: %s", what, text);
      cr_assert (! (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae), "%s: raw U+202E: %s", what, text);
    }
}

/* A config whose every printed string carries terminal escapes (ESC sequences, the CSI
   of C1, an OSC that retitles the window), carriage returns, DEL, a bidirectional
   override, and newlines followed by a forged line of inspect's own format.  */
#define HOSTILE_CONFIG                                                                                                 \
  "{\"Env\":[\"PATH=/bin\",\"ESC=\\u001b[31mred\\u001b[0m\",\"NL=a\\nenv         FORGED=1\",\"CR=x\\ry\"],"     \
  "\"User\":\"u\\u001b]0;owned\\u0007\",\"WorkingDir\":\"/w\\nworkdir     /forged\","                             \
  "\"Cmd\":[\"sh\",\"-c\",\"echo \\u001b[2J\\u009b1m\\u007f\"],\"Entrypoint\":[\"/e\\r\\n\\t\\\"q\\\\\"],"       \
  "\"Labels\":{\"k\\nlabel       forged\":\"v\\u001b[1m\",\"uni\":\"caf\\u00e9 \\u202eevil\"}}"

Test (cli, inspect_escapes_control_bytes_from_the_image)
{
  struct tu_result r;
  char *config;

  one_layer_image (HOSTILE_CONFIG, 0, &config);
  tu_prep (&r, (const char *const[]){ "inspect", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  assert_no_raw_controls ("inspect", r.out);
  /* image, manifest, platform, config, created, entrypoint, cmd, 4 env, user, workdir,
     2 labels, layers, and 4 lines for the layer: a newline in a value adds none.  */
  cr_assert_eq (count_lines (r.out), 20, "%s", r.out);
  cr_assert (! tu_has_line (r.out, "env         FORGED=1"), "forged line: %s", r.out);
  cr_assert (! tu_has_line (r.out, "workdir     /forged"), "forged line: %s", r.out);
  cr_assert (! tu_has_line (r.out, "label       forged=v\\x1b[1m"), "forged line: %s", r.out);
  cr_assert (tu_has_line (r.out, "env         ESC=\\x1b[31mred\\x1b[0m"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "env         NL=a\\nenv         FORGED=1"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "env         CR=x\\ry"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "user        u\\x1b]0;owned\\x07"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "workdir     /w\\nworkdir     /forged"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "cmd         [\"sh\",\"-c\",\"echo \\x1b[2J\\u009b1m\\x7f\"]"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "entrypoint  [\"/e\\r\\n\\t\\\"q\\\\\"]"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "label       k\\nlabel       forged=v\\x1b[1m"), "%s", r.out);
  /* Printable non-ASCII stays as it is; the override that would reverse it does not.  */
  cr_assert (tu_has_line (r.out, "label       uni=caf\xc3\xa9 \\u202eevil"), "%s", r.out);
  tu_result_free (&r);
  free (config);
}

Test (cli, inspect_json_keeps_the_exact_bytes)
{
  struct tu_result r, py;
  char *config, *file = tu_fmt ("%s/out.json", tmp);

  one_layer_image (HOSTILE_CONFIG, 0, &config);
  tu_prep (&r, (const char *const[]){ "inspect", "--json", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  fx_write_file (file, r.out, strlen (r.out));
  /* python3's json module reads both the config blob and the output: every string is
     the image's, byte for byte.  */
  tu_sh (&py,
         "python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))[\"config\"]; "
         "d=json.load(open(sys.argv[2]))[\"config\"]; "
         "assert d[\"env\"]==c[\"Env\"], d[\"env\"]; assert d[\"user\"]==c[\"User\"]; "
         "assert d[\"workingDir\"]==c[\"WorkingDir\"]; assert d[\"cmd\"]==c[\"Cmd\"]; "
         "assert d[\"entrypoint\"]==c[\"Entrypoint\"]; assert d[\"labels\"]==c[\"Labels\"]; "
         "assert \"\\x1b\" in d[\"user\"] and \"\\n\" in d[\"workingDir\"]' %s %s",
         config, file);
  cr_assert_eq (py.status, 0, "%s%s", py.out, py.err);
  tu_result_free (&py);
  tu_result_free (&r);
  free (config);
  free (file);
}

/* Errors and usage errors carry the same escaping: a ref name from index.json or an
   argument from the command line cannot add a line or reach the terminal raw.  */
Test (cli, errors_and_usage_errors_escape_control_bytes)
{
  struct fx_desc m = simple ();
  struct fx_index_entry e = { .desc = m, .ref = "a\x1b[2Jb\nforged line" };
  char *img = tu_fmt ("%s:nope", layout);
  struct tu_result r;

  fx_index_write (layout, &e, 1);
  tu_prep (&r, (const char *const[]){ "inspect", img, NULL });
  tu_assert_error (&r, "a\\x1b[2Jb\\nforged line");
  assert_no_raw_controls ("error", r.err);
  tu_result_free (&r);
  tu_prep (&r, (const char *const[]){ "inspect", layout, "x\x1b]0;t\x07\ny", NULL });
  cr_assert_eq (r.status, 2);
  cr_assert_eq (count_lines (r.err), 1, "%s", r.err);
  cr_assert (strstr (r.err, "unexpected argument 'x\\x1b]0;t\\x07\\ny'"), "%s", r.err);
  assert_no_raw_controls ("usage error", r.err);
  tu_result_free (&r);
  tu_prep (&r, (const char *const[]){ "no\x1b[31m\ncommand", NULL });
  cr_assert_eq (r.status, 2);
  cr_assert_str_eq (r.err, "oci-prep: unknown command 'no\\x1b[31m\\ncommand' (see 'oci-prep --help')\n");
  tu_result_free (&r);
  /* Invalid UTF-8 is shown byte by byte.  */
  tu_prep (&r, (const char *const[]){ "inspect", "--\xff\xc3", NULL });
  cr_assert_eq (r.status, 2);
  cr_assert (strstr (r.err, "unknown option '--\\xff\\xc3'"), "%s", r.err);
  tu_result_free (&r);
  free (img);
}

/* bundle's summary, store ls and store gc print the bundle path and the IMAGE string
   (kept in the pin): a layout directory and a bundle named with escapes and newlines.  */
Test (cli, bundle_and_store_output_escape_names)
{
  char *dir = tu_fmt ("%s/img\x1b[31m\nforged", tmp), *bundle = tu_fmt ("%s/b\x1b]0;x\x07\nforged", tmp), *rootfs;
  struct tu_result r;

  fx_simple_image (dir, "latest");
  TU_PREP_STORE (&r, store, "bundle", dir, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  assert_no_raw_controls ("bundle", r.out);
  cr_assert_eq (count_lines (r.out), 1, "%s", r.out);
  cr_assert (strstr (r.out, "b\\x1b]0;x\\x07\\nforged"), "%s", r.out);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "store", "ls");
  cr_assert_eq (r.status, 0, "%s", r.err);
  assert_no_raw_controls ("store ls", r.out);
  cr_assert_eq (count_lines (r.out), 3, "header and two layers: %s", r.out);
  cr_assert (strstr (r.out, "img\\x1b[31m\\nforged"), "%s", r.out);
  tu_result_free (&r);
  /* The bundle is gone, its pin is stale: gc names it.  */
  rootfs = tu_fmt ("%s/rootfs", bundle);
  cr_assert_eq (umount2 (rootfs, MNT_DETACH), 0, "%s", strerror (errno));
  fx_rm_rf (bundle);
  TU_PREP_STORE (&r, store, "store", "gc", "--dry-run");
  cr_assert_eq (r.status, 0, "%s", r.err);
  assert_no_raw_controls ("store gc", r.out);
  cr_assert (strstr (r.out, "(bundle '") && strstr (r.out, "b\\x1b]0;x\\x07\\nforged"), "%s", r.out);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "store", "fsck");
  assert_no_raw_controls ("store fsck", r.out);
  assert_no_raw_controls ("store fsck", r.err);
  tu_result_free (&r);
  free (rootfs);
  free (dir);
  free (bundle);
}

/* ---- one failure, one line (issue 12, item 11) ---- */

/* Flip a byte in the middle of each layer blob of the simple image: same size, both
   digests wrong.  */
static void
corrupt_both_layers (void)
{
  struct fx_desc m = simple ();
  int i;

  for (i = 0; i < 2; i++)
    {
      char *p = layer_path (&m, i);
      size_t len;
      char *data = fx_read_file (p, &len);
      data[len / 2] ^= 0x55;
      fx_write_file (p, data, len);
      free (data);
      free (p);
    }
}

/* The error of the first failure that --json reports (FIELD of the first entry of
   the array ARRAY that has one), read by python3, malloc'd.  */
static char *
first_json_error (const char *json, const char *array)
{
  char *file = tu_fmt ("%s/report.json", tmp), *ret;
  struct tu_result py;

  fx_write_file (file, json, strlen (json));
  tu_sh (&py,
         "python3 -c 'import json,sys; print([x[\"error\"] for x in json.load(open(sys.argv[1]))[sys.argv[2]] "
         "if x.get(\"error\")][0], end=\"\")' %s %s",
         file, array);
  cr_assert_eq (py.status, 0, "%s%s", py.out, py.err);
  ret = strdup (py.out);
  tu_result_free (&py);
  free (file);
  return ret;
}

Test (cli, verify_prints_one_line_for_two_bad_blobs)
{
  struct tu_result r;
  char *first, *line;

  corrupt_both_layers ();
  tu_prep (&r, (const char *const[]){ "--json", "verify", layout, NULL });
  cr_assert_eq (r.status, 1);
  cr_assert_eq (count_lines (r.err), 1, "%s", r.err);
  first = first_json_error (r.out, "failures");
  tu_result_free (&r);

  tu_prep (&r, (const char *const[]){ "verify", layout, NULL });
  line = tu_fmt ("oci-prep: '%s': 2 of 4 blobs failed verification, the first: %s\n", layout, first);
  cr_assert_eq (r.status, 1);
  cr_assert_str_eq (r.err, line);
  cr_assert_str_eq (r.out, "");
  tu_result_free (&r);
  /* -v: each failure, then the same summary.  */
  tu_prep (&r, (const char *const[]){ "-v", "verify", layout, NULL });
  cr_assert_eq (r.status, 1);
  cr_assert_eq (count_lines (r.err), 3, "%s", r.err);
  cr_assert_eq (tu_count (r.err, "digest mismatch"), 3, "%s", r.err);
  cr_assert (strstr (r.err, line), "%s", r.err);
  tu_result_free (&r);
  free (line);
  free (first);
}

Test (cli, verify_names_the_cause_of_the_first_failure)
{
  struct fx_desc m = simple ();
  char *l0 = layer_path (&m, 0);
  struct tu_result r;

  unlink (l0);
  tu_prep (&r, (const char *const[]){ "verify", layout, NULL });
  tu_assert_error (&r, "1 of 4 blobs failed verification: blob 'sha256:");
  cr_assert (strstr (r.err, "': missing from the layout\n"), "%s", r.err);
  tu_result_free (&r);
  free (l0);
}

Test (cli, load_prints_one_line_for_two_bad_layers)
{
  struct tu_result r;
  char *first, *line;

  corrupt_both_layers ();
  TU_PREP_STORE (&r, store, "--json", "load", layout);
  cr_assert_eq (r.status, 1);
  cr_assert_eq (count_lines (r.err), 1, "%s", r.err);
  first = first_json_error (r.out, "layers");
  tu_result_free (&r);

  TU_PREP_STORE (&r, store, "load", layout);
  line = tu_fmt ("oci-prep: 2 of 2 layers failed to load, the first: %s\n", first);
  cr_assert_eq (r.status, 1);
  cr_assert_str_eq (r.err, line);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "-v", "load", layout);
  cr_assert_eq (r.status, 1);
  cr_assert_eq (count_lines (r.err), 3, "%s", r.err);
  cr_assert_eq (tu_count (r.err, "layer 'sha256:"), 3, "%s", r.err);
  cr_assert (strstr (r.err, line), "%s", r.err);
  tu_result_free (&r);
  free (line);
  free (first);
}

/* A store on a 1 MiB tmpfs and a layer holding 3 MiB of random bytes: the layer fails
   with ENOSPC, and the one line says so (it used to say "Bad message").  The tmpfs is
   mounted in a mount namespace of this test's own, so nothing outlives it.  */
Test (cli, load_into_a_full_store_says_no_space)
{
  size_t len = 3u << 20;
  char *data = malloc (len), *tar;
  struct fx_tar *t = fx_tar_new ();
  struct fx_image img = { .dir = layout };
  struct fx_index_entry e = { .ref = "latest" };
  struct fx_layer layer;
  struct tu_result r;
  size_t tar_len;
  FILE *f;

  cr_assert_eq (unshare (CLONE_NEWNS), 0, "unshare: %s", strerror (errno));
  cr_assert_eq (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror (errno));
  fx_mkdir_p (store);
  cr_assert_eq (mount ("tmpfs", store, "tmpfs", 0, "size=1M"), 0, "mount tmpfs: %s", strerror (errno));
  f = fopen ("/dev/urandom", "re");
  FX_CHECK (f && fread (data, 1, len, f) == len);
  fclose (f);
  fx_tar_file_ex (t, "big", 0644, 0, 0, FX_MTIME, data, len);
  fx_tar_finish (t, (void **) &tar, &tar_len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = tar_len };
  img.layers = &layer;
  img.n_layers = 1;
  fx_layout_init (layout);
  fx_image_write (&img, &e.desc);
  fx_index_write (layout, &e, 1);

  TU_PREP_STORE (&r, store, "load", layout);
  tu_assert_error (&r, "1 of 1 layers failed to load: layer 'sha256:");
  cr_assert (strstr (r.err, ": No space left on device\n"), "%s", r.err);
  cr_assert (! strstr (r.err, "Bad message"), "%s", r.err);
  tu_result_free (&r);
  umount2 (store, MNT_DETACH);
  free (tar);
  free (data);
}

Test (cli, usage_error_is_one_line)
{
  static const char *const cases[][5] = {
    { "bundle", NULL },
    { "bundle", "img", NULL },
    { "bundle", "--platform", NULL },
    { "bundle", "--bogus", "a", "b", NULL },
    { "inspect", NULL },
    { "inspect", "-x", "a", NULL },
    { "inspect", "--json=1", "a", NULL },
    { "inspect", "a", "b", NULL },
    { "verify", NULL },
    { "load", "--jobs", "0", "a", NULL },
    { "load", "--max-layer-size", "1Q", "a", NULL },
    { "config", "--platform", "linux", "a", NULL },
    { "rm", NULL },
    { "store", NULL },
    { "store", "frob", NULL },
    { "store", "gc", "--older-than", "soon", NULL },
    { "store", "ls", "extra", NULL },
    { "hook", NULL },
    { "hook", "prestart", NULL },
    { "--bogus", "inspect", NULL },
    { "--json", NULL },
    { "no-such-command", NULL },
  };
  struct tu_result r;
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      tu_prep (&r, cases[i]);
      cr_assert_eq (r.status, 2, "%s %s: exit %d: %s", cases[i][0], cases[i][1] ? cases[i][1] : "", r.status, r.err);
      cr_assert_eq (count_lines (r.err), 1, "%s %s: %s", cases[i][0], cases[i][1] ? cases[i][1] : "", r.err);
      cr_assert (strncmp (r.err, "oci-prep: ", 10) == 0, "%s", r.err);
      cr_assert (strstr (r.err, " --help')\n"), "%s", r.err);
      cr_assert_str_eq (r.out, "");
      tu_result_free (&r);
    }
  tu_prep (&r, (const char *const[]){ "bundle", "img", NULL });
  cr_assert_str_eq (r.err, "oci-prep: bundle: missing BUNDLE argument (see 'oci-prep bundle --help')\n");
  tu_result_free (&r);
}

Test (cli, help_of_every_command_exits_0)
{
  static const char *const commands[] = {
    "bundle", "config", "hook", "inspect", "load", "rm", "store", "verify", "store ls", "store du", "store gc", "store fsck",
  };
  struct tu_result r;
  size_t i;
  int h;

  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    for (h = 0; h < 2; h++)
      {
        char *cmd = strdup (commands[i]), *sub = strchr (cmd, ' ');
        const char *flag = h ? "-h" : "--help";
        char *head = tu_fmt ("oci-prep %.*s: ", (int) (sub ? sub - cmd : (long) strlen (cmd)), cmd);

        if (sub)
          *sub++ = '\0';
        if (sub)
          tu_prep (&r, (const char *const[]){ cmd, sub, flag, NULL });
        else
          tu_prep (&r, (const char *const[]){ cmd, flag, NULL });
        cr_assert_eq (r.status, 0, "%s %s: exit %d: %s", commands[i], flag, r.status, r.err);
        cr_assert_str_eq (r.err, "", "%s %s", commands[i], flag);
        cr_assert (strncmp (r.out, head, strlen (head)) == 0, "%s %s: %s", commands[i], flag, r.out);
        cr_assert (strstr (r.out, "\nUsage: oci-prep "), "%s", r.out);
        tu_result_free (&r);
        free (head);
        free (cmd);
      }
}

/* The commands that do not extract never load libarchive (and the dozen libraries it
   brings): the binary does not link it, extraction loads it on first use.  */
Test (cli, only_extraction_loads_libarchive)
{
  struct tu_result r;
  char *img = tu_fmt ("%s:latest", layout);

  simple ();
  tu_sh (&r, "LD_DEBUG=files '%s' --help 2>&1 >/dev/null | grep -c 'libarchive' || :", OCIP_BINARY);
  cr_assert_eq (atoi (r.out), 0, "--help loaded libarchive");
  tu_result_free (&r);
  tu_sh (&r, "LD_DEBUG=files '%s' --store '%s' load '%s' 2>&1 >/dev/null | grep -c 'file=libarchive.so.*dynamically loaded' || :",
         OCIP_BINARY, store, img);
  cr_assert_gt (atoi (r.out), 0, "load extracted a layer without loading libarchive:\n%s", r.out);
  tu_result_free (&r);
  tu_sh (&r, "LD_DEBUG=files '%s' --store '%s' bundle '%s' '%s/b' 2>&1 >/dev/null | grep -c 'libarchive' || :",
         OCIP_BINARY, store, img, tmp);
  cr_assert_eq (atoi (r.out), 0, "a warm bundle loaded libarchive");
  tu_result_free (&r);
  free (img);
}
