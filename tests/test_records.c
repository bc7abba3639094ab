/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store's records: reader and writer of each, their versions and limits, and a store
   with huge or old records going through load, bundle, fsck and gc. */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <oci-prep/limits.h>
#include "store/records.h"
#include "fixture.h"
#include "testutil.h"

static char *tmp, *layout, *store;

/* Strings the tests build inline (paths mostly), freed at teardown.  */
static char *kept[128];
static size_t n_kept;

static char *P (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static char *
P (const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  FX_CHECK (vasprintf (&s, fmt, ap) >= 0);
  va_end (ap);
  FX_CHECK (n_kept < sizeof kept / sizeof kept[0]);
  kept[n_kept++] = s;
  return s;
}

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
  fx_layout_init (layout);
}

static void
teardown (void)
{
  while (n_kept > 0)
    free (kept[--n_kept]);
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (records, .init = setup, .fini = teardown, .timeout = 300);

static int
open_dir (const char *path)
{
  int fd;

  fx_mkdir_p (path);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  FX_CHECK (fd >= 0);
  return fd;
}

/* ---- layer record ---- */

#define DIFF "sha256:bbc53cecd77faa6af3a619007492fb3b104b6c359c885ba57df5ff60eb466555"
#define CHAIN "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define BLOB "sha256:68693c63b3611c1d242ac4cf295f39d285e60f90d5f37e4bc4c338c3f63aceb4"
#define CONTENT "sha256:c31cc6912ce89e11446b6aaa7be154006c125bedb74efff646d12433c3033577"

struct collected
{
  char **v;
  size_t n, cap;
};

static int
collect (const char *path, void *ctx, ocip_error_t *err)
{
  struct collected *c = ctx;

  (void) err;
  if (c->n == c->cap)
    {
      c->cap = c->cap ? 2 * c->cap : 64;
      c->v = realloc (c->v, c->cap * sizeof *c->v);
      FX_CHECK (c->v != NULL);
    }
  c->v[c->n++] = strdup (path);
  return 0;
}

static void
collected_free (struct collected *c)
{
  for (size_t i = 0; i < c->n; i++)
    free (c->v[i]);
  free (c->v);
}

static void
write_sample_layer (int fd, char *const *implied)
{
  char *chains[] = { CHAIN, NULL }, *blobs[] = { BLOB, NULL };
  struct ocip_layer_record rec = { .diff_id = DIFF, .chain_ids = chains, .compressed_digests = blobs,
                                   .media_type = "application/vnd.oci.image.layer.v1.tar+gzip",
                                   .compressed_size = 138, .size = 10240, .entries = 4, .created = 1796684534,
                                   .content_digest = CONTENT, .content_format = 3 };
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_records_layer_write_at (fd, &rec, implied, &err), 0, "%s", err ? err->msg : "");
}

Test (records, layer_round_trip)
{
  int fd = open_dir (P ("%s/layer", tmp));
  char *implied[] = { "bin", "d", "d/0", "d/0/deep er", NULL };
  struct ocip_layer_record rec = { 0 };
  struct collected c = { 0 };
  ocip_error_t err = NULL;

  write_sample_layer (fd, implied);
  cr_assert_eq (ocip_records_layer_read_at (fd, "layer", &rec, &err), 0, "%s", err ? err->msg : "");
  cr_assert_str_eq (rec.diff_id, DIFF);
  cr_assert_str_eq (rec.chain_ids[0], CHAIN);
  cr_assert_null (rec.chain_ids[1]);
  cr_assert_str_eq (rec.compressed_digests[0], BLOB);
  cr_assert_str_eq (rec.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  cr_assert_eq (rec.compressed_size, 138);
  cr_assert_eq (rec.size, 10240);
  cr_assert_eq (rec.entries, 4);
  cr_assert_eq (rec.created, 1796684534);
  cr_assert_str_eq (rec.content_digest, CONTENT);
  cr_assert_eq (rec.content_format, 3);
  cr_assert_eq (rec.n_implied, 4);
  cr_assert_gt (rec.last_used, 0);
  ocip_layer_record_clear (&rec);

  cr_assert_eq (ocip_records_layer_implied_at (fd, "layer", collect, &c, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (c.n, 4);
  for (size_t i = 0; i < 4; i++)
    cr_assert_str_eq (c.v[i], implied[i]);
  collected_free (&c);
  close (fd);
}

/* The list is a file of its own: the record stays small however many there are.  */
Test (records, layer_record_size_does_not_grow_with_the_implied_list)
{
  int fd = open_dir (P ("%s/layer", tmp));
  size_t n = 200000, i;
  char **implied = calloc (n + 1, sizeof *implied);
  char *meta = P ("%s/layer/meta.json", tmp);
  struct collected c = { 0 };
  ocip_error_t err = NULL;
  struct stat st;

  for (i = 0; i < n; i++)
    implied[i] = tu_fmt ("usr/share/some/rather/long/directory/name/number/%zu", i);
  write_sample_layer (fd, implied);
  cr_assert_eq (stat (meta, &st), 0);
  cr_assert_lt (st.st_size, 4096, "meta.json is %lld bytes", (long long) st.st_size);
  cr_assert_eq (ocip_records_layer_implied_at (fd, "layer", collect, &c, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (c.n, n);
  cr_assert_str_eq (c.v[n - 1], implied[n - 1]);
  collected_free (&c);
  for (i = 0; i < n; i++)
    free (implied[i]);
  free (implied);
  close (fd);
}

Test (records, layer_record_carries_its_version)
{
  int fd = open_dir (P ("%s/layer", tmp));
  char *text;

  write_sample_layer (fd, NULL);
  text = fx_read_file (P ("%s/layer/meta.json", tmp), NULL);
  cr_assert (strstr (text, P ("\"version\": %d", OCIP_LAYER_RECORD_VERSION)), "%s", text);
  free (text);
  close (fd);
}

Test (records, layer_record_of_a_newer_version_is_refused)
{
  int fd = open_dir (P ("%s/layer", tmp));
  const char *text = "{\"version\": 99, \"diffID\": \"" DIFF "\", \"impliedDirs\": 0}";
  struct ocip_layer_record rec = { 0 };
  ocip_error_t err = NULL;

  fx_write_file (P ("%s/layer/meta.json", tmp), text, strlen (text));
  cr_assert_eq (ocip_records_layer_read_at (fd, "layers/x", &rec, &err), -EPROTONOSUPPORT);
  cr_assert (strstr (err->msg, "layers/x/meta.json") && strstr (err->msg, "99"), "%s", err->msg);
  ocip_error_release (&err);
  close (fd);
}

Test (records, damaged_layer_record_is_an_error_naming_the_file)
{
  int fd = open_dir (P ("%s/layer", tmp));
  const char *const bad[] = { "{\"diffID\":", "[]", "{\"version\": 2}", "{\"diffID\": \"sha256:12\"}",
                              "{\"version\": 2, \"diffID\": \"" DIFF "\"}" };
  struct ocip_layer_record rec = { 0 };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      ocip_error_t err = NULL;

      unlink (P ("%s/layer/meta.json", tmp));
      fx_write_file (P ("%s/layer/meta.json", tmp), bad[i], strlen (bad[i]));
      cr_assert_eq (ocip_records_layer_read_at (fd, "layers/x", &rec, &err), -EINVAL, "%s", bad[i]);
      cr_assert (strstr (err->msg, "layers/x/meta.json is damaged"), "%s: %s", bad[i], err->msg);
      ocip_error_release (&err);
    }
  close (fd);
}

Test (records, oversize_layer_record_is_e2big)
{
  int fd = open_dir (P ("%s/layer", tmp));
  size_t len = OCIP_LIMIT_LAYER_RECORD_SIZE + 1;
  char *text = malloc (len);
  struct ocip_layer_record rec = { 0 };
  ocip_error_t err = NULL;

  memset (text, ' ', len);
  text[0] = '{';
  text[len - 1] = '}';
  fx_write_file (P ("%s/layer/meta.json", tmp), text, len);
  cr_assert_eq (ocip_records_layer_read_at (fd, "layers/x", &rec, &err), -E2BIG);
  cr_assert (strstr (err->msg, "layers/x/meta.json"), "%s", err->msg);
  ocip_error_release (&err);
  free (text);
  close (fd);
}

Test (records, damaged_implied_list_is_an_error_naming_the_file)
{
  int fd = open_dir (P ("%s/layer", tmp));
  struct collected c = { 0 };
  ocip_error_t err = NULL;

  write_sample_layer (fd, NULL);
  fx_write_file (P ("%s/layer/implied", tmp), "a\0b", 3); /* the last path cut */
  cr_assert_eq (ocip_records_layer_implied_at (fd, "layers/x", collect, &c, &err), -EINVAL);
  cr_assert (strstr (err->msg, "layers/x/implied is damaged"), "%s", err->msg);
  ocip_error_release (&err);
  fx_write_file (P ("%s/layer/implied", tmp), "a\0/etc\0", 7);
  cr_assert_eq (ocip_records_layer_implied_at (fd, "layers/x", collect, &c, &err), -EINVAL);
  ocip_error_release (&err);
  collected_free (&c);
  close (fd);
}

/* meta.json as oci-prep wrote it before records had versions (commit ae3b06d), byte
   for byte: the implied directories inline.  */
static const char format1_meta[] = "{\n"
                                   "  \"diffID\": \"" DIFF "\",\n"
                                   "  \"chainID\": \"" CHAIN "\",\n"
                                   "  \"compressedDigest\": \"" BLOB "\",\n"
                                   "  \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n"
                                   "  \"compressedSize\": 138,\n"
                                   "  \"size\": 10240,\n"
                                   "  \"entries\": 4,\n"
                                   "  \"impliedDirs\": [\n"
                                   "    \"bin\",\n"
                                   "    \"d\",\n"
                                   "    \"d/0\"\n"
                                   "  ],\n"
                                   "  \"created\": 1796684534,\n"
                                   "  \"contentDigest\": \"" CONTENT "\",\n"
                                   "  \"contentFormat\": 3\n"
                                   "}";

Test (records, layer_record_of_format_1_is_read)
{
  int fd = open_dir (P ("%s/layer", tmp));
  struct ocip_layer_record rec = { 0 };
  struct collected c = { 0 };
  ocip_error_t err = NULL;

  fx_write_file (P ("%s/layer/meta.json", tmp), format1_meta, strlen (format1_meta));
  cr_assert_eq (ocip_records_layer_read_at (fd, "layer", &rec, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (rec.version, 1);
  cr_assert_str_eq (rec.chain_ids[0], CHAIN);
  cr_assert_str_eq (rec.compressed_digests[0], BLOB);
  cr_assert_eq (rec.n_implied, 3);
  cr_assert_eq (rec.content_format, 3);
  ocip_layer_record_clear (&rec);
  cr_assert_eq (ocip_records_layer_implied_at (fd, "layer", collect, &c, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (c.n, 3);
  cr_assert_str_eq (c.v[2], "d/0");
  collected_free (&c);
  close (fd);
}

/* ---- state and pin records ---- */

static void
sample_state (struct ocip_state_record *rec, char **layers)
{
  *rec = (struct ocip_state_record){ .id = "0974456dd614ab1c0d133f0c920df01d",
                                     .bundle = "/b1",
                                     .store = "/st",
                                     .image = "img",
                                     .manifest = BLOB,
                                     .rootfs_path = "/b1/rootfs",
                                     .rootfs_created = true,
                                     .complete = false,
                                     .created = 1796684534,
                                     .layers = layers };
}

Test (records, state_round_trip)
{
  int fd = open_dir (P ("%s/b/.oci-prep", tmp));
  char *layers[] = { DIFF, NULL };
  struct ocip_state_record rec, back = { 0 };
  ocip_error_t err = NULL;
  char *text;

  close (fd);
  fd = open_dir (P ("%s/b", tmp));
  sample_state (&rec, layers);
  rec.engine_bundle = "/engine/bundle";
  cr_assert_eq (ocip_records_state_write (fd, &rec, &err), 0, "%s", err ? err->msg : "");
  text = fx_read_file (P ("%s/b/.oci-prep/state.json", tmp), NULL);
  cr_assert (strstr (text, P ("\"version\": %d", OCIP_STATE_RECORD_VERSION)), "%s", text);
  free (text);
  cr_assert_eq (ocip_records_state_read (fd, &back, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (back.version, OCIP_STATE_RECORD_VERSION);
  cr_assert_str_eq (back.id, rec.id);
  cr_assert_str_eq (back.bundle, "/b1");
  cr_assert_str_eq (back.store, "/st");
  cr_assert_str_eq (back.image, "img");
  cr_assert_str_eq (back.manifest, BLOB);
  cr_assert_str_eq (back.rootfs_path, "/b1/rootfs");
  cr_assert_str_eq (back.engine_bundle, "/engine/bundle");
  cr_assert (back.rootfs_created && ! back.complete && ! back.flat);
  cr_assert_eq (back.created, 1796684534);
  cr_assert_str_eq (back.layers[0], DIFF);
  cr_assert_null (back.layers[1]);
  ocip_state_record_clear (&back);
  close (fd);
}

/* state.json (and the pin, the same text) as commit ae3b06d wrote it, byte for byte.  */
static const char format1_state[] = "{\n"
                                    "  \"id\": \"0974456dd614ab1c0d133f0c920df01d\",\n"
                                    "  \"bundle\": \"/tmp/h13r-compat/b1\",\n"
                                    "  \"store\": \"/tmp/h13r-compat/st\",\n"
                                    "  \"image\": \"img\",\n"
                                    "  \"manifest\": \"" BLOB "\",\n"
                                    "  \"rootfs\": \"overlay\",\n"
                                    "  \"rootfsPath\": \"/tmp/h13r-compat/b1/rootfs\",\n"
                                    "  \"rootfsCreated\": true,\n"
                                    "  \"complete\": true,\n"
                                    "  \"created\": 1796684534,\n"
                                    "  \"layers\": [\n"
                                    "    \"" DIFF "\"\n"
                                    "  ]\n"
                                    "}";

Test (records, state_record_of_format_1_is_read)
{
  int fd = open_dir (P ("%s/b/.oci-prep", tmp));
  struct ocip_state_record back = { 0 };
  ocip_error_t err = NULL;

  close (fd);
  fd = open_dir (P ("%s/b", tmp));
  fx_write_file (P ("%s/b/.oci-prep/state.json", tmp), format1_state, strlen (format1_state));
  cr_assert_eq (ocip_records_state_read (fd, &back, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (back.version, 1);
  cr_assert_str_eq (back.rootfs_path, "/tmp/h13r-compat/b1/rootfs");
  cr_assert (back.complete && back.rootfs_created && ! back.flat);
  cr_assert_null (back.engine_bundle);
  ocip_state_record_clear (&back);
  close (fd);
}

Test (records, state_record_of_a_newer_version_is_refused)
{
  int fd = open_dir (P ("%s/b/.oci-prep", tmp));
  const char *text = "{\"version\": 3, \"id\": \"ab\", \"bundle\": \"/b\", \"store\": \"/s\", \"rootfs\": \"overlay\", "
                     "\"rootfsPath\": \"/b/rootfs\", \"layers\": []}";
  struct ocip_state_record back = { 0 };
  ocip_error_t err = NULL;

  close (fd);
  fd = open_dir (P ("%s/b", tmp));
  fx_write_file (P ("%s/b/.oci-prep/state.json", tmp), text, strlen (text));
  cr_assert_eq (ocip_records_state_read (fd, &back, &err), -EPROTONOSUPPORT);
  cr_assert (strstr (err->msg, ".oci-prep/state.json"), "%s", err->msg);
  ocip_error_release (&err);
  close (fd);
}

Test (records, damaged_state_record_is_an_error_naming_the_file)
{
  int fd = open_dir (P ("%s/b/.oci-prep", tmp));
  const char *const bad[] = { "{\"id\":", "{\"id\": \"xyz\", \"bundle\": \"/b\", \"layers\": []}",
                              "{\"id\": \"ab\", \"bundle\": \"b\", \"layers\": []}",
                              "{\"id\": \"ab\", \"bundle\": \"/b\", \"layers\": [\"sha256:1\"]}",
                              "{\"id\": \"ab\", \"bundle\": \"/b\", \"store\": \"/s\", \"rootfsPath\": \"/r\"}" };
  struct ocip_state_record back = { 0 };

  close (fd);
  fd = open_dir (P ("%s/b", tmp));
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      ocip_error_t err = NULL;

      unlink (P ("%s/b/.oci-prep/state.json", tmp));
      fx_write_file (P ("%s/b/.oci-prep/state.json", tmp), bad[i], strlen (bad[i]));
      cr_assert_eq (ocip_records_state_read (fd, &back, &err), -EINVAL, "%s", bad[i]);
      cr_assert (strstr (err->msg, ".oci-prep/state.json' is damaged"), "%s: %s", bad[i], err->msg);
      ocip_error_release (&err);
    }
  close (fd);
}

Test (records, oversize_state_record_is_e2big)
{
  int fd = open_dir (P ("%s/b/.oci-prep", tmp));
  size_t len = OCIP_LIMIT_STATE_RECORD_SIZE + 1;
  char *text = malloc (len);
  struct ocip_state_record back = { 0 };
  ocip_error_t err = NULL;

  close (fd);
  fd = open_dir (P ("%s/b", tmp));
  memset (text, ' ', len);
  text[0] = '{';
  text[len - 1] = '}';
  fx_write_file (P ("%s/b/.oci-prep/state.json", tmp), text, len);
  cr_assert_eq (ocip_records_state_read (fd, &back, &err), -E2BIG);
  cr_assert (strstr (err->msg, ".oci-prep/state.json"), "%s", err->msg);
  ocip_error_release (&err);
  free (text);
  close (fd);
}

Test (records, pin_names_and_leftovers_are_told_apart)
{
  char *id = NULL;

  cr_assert (ocip_records_is_pin_name ("0974ab.json", &id));
  cr_assert_str_eq (id, "0974ab");
  free (id);
  cr_assert (! ocip_records_is_pin_name (".0974ab.json.tmp.12", NULL));
  cr_assert (! ocip_records_is_pin_name ("x.json", NULL));
  cr_assert (ocip_records_is_pin_leftover (".0974ab.json.tmp.12"));
  cr_assert (! ocip_records_is_pin_leftover (".0974ab.json.tmp."));
  cr_assert (! ocip_records_is_pin_leftover (".0974ab.json.tmp.1x"));
  cr_assert (! ocip_records_is_pin_leftover ("0974ab.json.tmp.12"));
  cr_assert (! ocip_records_is_pin_leftover (".xyz.json.tmp.12"));
}

/* ---- through the command line ---- */

#define PREP(r, ...) TU_PREP_STORE ((r), store, __VA_ARGS__)

static char *
prep_expect (int status, const char *const *args)
{
  struct tu_result r;
  char *out;

  tu_prep_store (&r, store, args);
  cr_assert_eq (r.status, status, "oci-prep %s %s: exit %d, expected %d\nstdout: %s\nstderr: %s", args[0],
                args[1] ? args[1] : "", r.status, status, r.out, r.err);
  out = r.out;
  r.out = NULL;
  tu_result_free (&r);
  return out;
}
#define PREP_OK(...) prep_expect (0, (const char *const[]){ __VA_ARGS__, NULL })

static void
need_root (void)
{
  if (geteuid () == 0)
    return;
  cr_assert (! tu_in_ci (), "CI runs as root");
  teardown ();
  cr_skip_test ("needs root");
}

/* LAYOUT:latest of the one layer T; its diffID in DIFF_ID.  */
static char *
one_layer_image (struct fx_tar *t, char diff_id[200])
{
  struct fx_layer layer = { .compression = "gzip" };
  struct fx_image img = { .dir = layout, .layers = &layer, .n_layers = 1, .config = "{\"Cmd\":[\"/bin/true\"]}" };
  struct fx_index_entry entry = { .ref = "latest" };
  struct fx_image_result res;
  void *tar;
  size_t len;

  fx_tar_finish (t, &tar, &len);
  layer.tar = tar;
  layer.tar_len = len;
  fx_image_write_full (&img, &res);
  entry.desc = res.manifest;
  fx_index_write (layout, &entry, 1);
  strcpy (diff_id, res.diff_ids[0]);
  fx_image_result_free (&res);
  free (tar);
  return P ("%s:latest", layout);
}

static void
assert_fsck_clean (const char *const *args)
{
  struct tu_result r;

  tu_prep_store (&r, store, args);
  cr_assert_eq (r.status, 0, "%s %s: %s%s", args[1], args[2] ? args[2] : "", r.out, r.err);
  cr_assert (strstr (r.out, " 0 problems"), "%s", r.out);
  tu_result_free (&r);
}

/* The layer store/fsck --repair used to delete (a meta.json over 64 KiB was "damaged"):
   100 000 implied directories.  Loads, bundles both ways, passes fsck (plain and deep)
   and survives fsck --repair and gc while pinned.  On a tmpfs: what is tested is the
   records, and 300 000 inodes on this disk would cost minutes of mkdirat alone.  */
Test (records, layer_with_100000_implied_dirs_survives_fsck_repair_and_gc, .timeout = 900)
{
  struct fx_tar *t = fx_tar_new ();
  char diff_id[200], *img, *bundle = P ("%s/b", tmp), *flat = P ("%s/flat", tmp);
  char *layer, *again = P ("%s/again", tmp);
  struct stat st;
  int i;

  need_root ();
  cr_assert_eq (mount ("records", tmp, "tmpfs", 0, "mode=0700,size=4g"), 0, "mount tmpfs on %s: %m", tmp);
  fx_layout_init (layout);
  for (i = 0; i < 100000; i++)
    {
      char path[64];
      snprintf (path, sizeof path, "d/%d/f", i);
      fx_tar_file (t, path, 0644, "x");
    }
  img = one_layer_image (t, diff_id);
  layer = P ("%s/layers/sha256-%s", store, diff_id + 7);
  free (PREP_OK ("load", img));
  cr_assert_eq (stat (P ("%s/implied", layer), &st), 0);
  cr_assert_gt (st.st_size, 100000 * 4);
  free (PREP_OK ("bundle", img, bundle));
  free (PREP_OK ("bundle", "--flat", img, flat));
  cr_assert_eq (stat (P ("%s/rootfs/d/99999/f", flat), &st), 0);
  cr_assert_eq (stat (P ("%s/rootfs/d/99999/f", bundle), &st), 0);

  assert_fsck_clean ((const char *const[]){ "store", "fsck", NULL });
  assert_fsck_clean ((const char *const[]){ "store", "fsck", "--deep", NULL });
  assert_fsck_clean ((const char *const[]){ "store", "fsck", "--repair", NULL });
  free (PREP_OK ("store", "gc"));
  cr_assert_eq (stat (P ("%s/diff/d/99999/f", layer), &st), 0, "the pinned layer was removed");
  free (PREP_OK ("bundle", img, again));
  cr_assert_eq (stat (P ("%s/rootfs/d/0/f", again), &st), 0);
  free (PREP_OK ("rm", again));
  free (PREP_OK ("rm", bundle));
  free (PREP_OK ("rm", flat));
}

/* Rewrite every record of the store in the format of commit ae3b06d, byte for byte
   (meta.json with the implied list inline, no versions), as a store that release left
   it.  Building that commit's binary inside the suite is impractical; the same check
   against the real binary of ae3b06d is in the issue note.  */
static void
downgrade_store (const char *bundle_dirs[], size_t n_bundles)
{
  struct tu_result r;

  tu_sh (&r,
         "set -e; cd '%s'; "
         "for l in layers/*; do python3 - \"$l\" <<'EOF'\n"
         "import json, sys, os\n"
         "l = sys.argv[1]\n"
         "m = json.load(open(l + '/meta.json'))\n"
         "implied = [p for p in open(l + '/implied', 'rb').read().decode().split('\\0') if p]\n"
         "old = {'diffID': m['diffID'], 'chainID': m['chainIDs'][0], 'compressedDigest': m['compressedDigests'][0],\n"
         "       'mediaType': m['mediaType'], 'compressedSize': m['compressedSize'], 'size': m['size'],\n"
         "       'entries': m['entries'], 'impliedDirs': implied, 'created': m['created'],\n"
         "       'contentDigest': m['contentDigest'], 'contentFormat': m['contentFormat']}\n"
         "os.unlink(l + '/implied')\n"
         "open(l + '/meta.json', 'w').write(json.dumps(old, indent=2))\n"
         "EOF\n"
         "done",
         store);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  for (size_t i = 0; i < n_bundles; i++)
    {
      tu_sh (&r,
             "set -e; for f in '%s'/.oci-prep/state.json '%s'/bundles/*.json; do python3 - \"$f\" <<'EOF'\n"
             "import json, sys\n"
             "d = json.load(open(sys.argv[1]))\n"
             "d.pop('version')\n"
             "open(sys.argv[1], 'w').write(json.dumps(d, indent=2))\n"
             "EOF\n"
             "done",
             bundle_dirs[i], store);
      cr_assert_eq (r.status, 0, "%s", r.err);
      tu_result_free (&r);
    }
}

Test (records, store_written_in_the_previous_format_is_read)
{
  struct fx_tar *t = fx_tar_new ();
  char diff_id[200], *img, *old = P ("%s/old", tmp), *new = P ("%s/new", tmp), *out;
  char *meta;
  struct stat st;

  need_root ();
  fx_tar_file (t, "a/b/c/f", 0644, "x");
  fx_tar_file (t, "bin/true", 0755, "y");
  img = one_layer_image (t, diff_id);
  free (PREP_OK ("bundle", img, old));
  downgrade_store ((const char *[]){ old }, 1);
  meta = fx_read_file (P ("%s/layers/sha256-%s/meta.json", store, diff_id + 7), NULL);
  cr_assert (strstr (meta, "\"impliedDirs\": [") && ! strstr (meta, "version"), "%s", meta);
  free (meta);

  out = PREP_OK ("store", "ls");
  cr_assert (strstr (out, diff_id), "%s", out);
  free (out);
  free (PREP_OK ("bundle", img, new));
  cr_assert_eq (stat (P ("%s/rootfs/a/b/c/f", new), &st), 0);
  assert_fsck_clean ((const char *const[]){ "store", "fsck", "--deep", NULL });
  free (PREP_OK ("store", "gc"));
  cr_assert_eq (stat (P ("%s/layers/sha256-%s/diff/a/b/c/f", store, diff_id + 7), &st), 0);
  free (PREP_OK ("rm", old));
  free (PREP_OK ("rm", new));
  free (PREP_OK ("store", "gc"));
  cr_assert_eq (tu_count_entries (P ("%s/layers", store)), 0);
  cr_assert_eq (tu_count_entries (P ("%s/bundles", store)), 0);
}

/* What a pin writer killed between its temporary file and the rename leaves.  */
static char *
leave_pin_leftover (const char *bundle)
{
  char *state = fx_read_file (P ("%s/.oci-prep/state.json", bundle), NULL);
  char *id = strstr (state, "\"id\": \""), *end, *path;

  cr_assert_not_null (id, "%s", state);
  id += strlen ("\"id\": \"");
  end = strchr (id, '"');
  *end = '\0';
  path = P ("%s/bundles/.%s.json.tmp.%d", store, id, 999999);
  fx_write_file (path, "{\"bun", 5);
  free (state);
  return path;
}

Test (records, pin_leftover_is_removed_by_rm_force)
{
  struct fx_tar *t = fx_tar_new ();
  char diff_id[200], *img, *b = P ("%s/b", tmp), *leftover;

  need_root ();
  fx_tar_file (t, "bin/true", 0755, "y");
  img = one_layer_image (t, diff_id);
  free (PREP_OK ("bundle", img, b));
  leftover = leave_pin_leftover (b);
  free (PREP_OK ("rm", "--force", b));
  cr_assert_neq (access (leftover, F_OK), 0, "the half-written pin stayed");
  cr_assert_eq (tu_count_entries (P ("%s/bundles", store)), 0);
  assert_fsck_clean ((const char *const[]){ "store", "fsck", NULL });
}

Test (records, pin_leftover_is_removed_by_gc)
{
  struct fx_tar *t = fx_tar_new ();
  char diff_id[200], *img, *b = P ("%s/b", tmp), *leftover, *other;

  need_root ();
  fx_tar_file (t, "bin/true", 0755, "y");
  img = one_layer_image (t, diff_id);
  free (PREP_OK ("bundle", img, b));
  leftover = leave_pin_leftover (b);
  other = P ("%s/bundles/unrelated", store);
  fx_write_file (other, "x", 1);
  free (PREP_OK ("store", "gc"));
  cr_assert_neq (access (leftover, F_OK), 0, "the half-written pin stayed");
  cr_assert_eq (access (other, F_OK), 0, "gc removed what is not a pin's leftover");
  cr_assert_eq (tu_count_entries (P ("%s/bundles", store)), 2);
  unlink (other);
  free (PREP_OK ("rm", b));
}
