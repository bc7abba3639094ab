/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep store end to end: ls, du, gc, fsck; concurrent bundles, kill -9 and a full disk. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <oci-prep/gc.h>
#include <oci-prep/store.h>
#include "store/treehash.h"

#include "fixture.h"
#include "testutil.h"

static char *tmp, *layout, *store;

/* The images written to LAYOUT so far, for index.json.  */
static struct fx_index_entry entries[16];
static char refs[16][32];
static size_t n_entries;

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
  n_entries = 0;
  fx_layout_init (layout);
}

/* Undo what a test left even when it failed half-way: containers, mounts (detached,
   deepest first, so that removing TMP never reaches into a layer store).  */
/* What py() printed, freed at teardown (assertions use it inline).  */
static char *py_outputs[64];
static size_t n_py_outputs;

static void
teardown (void)
{
  while (n_py_outputs > 0)
    free (py_outputs[--n_py_outputs]);
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (store, .init = setup, .fini = teardown, .timeout = 120);

/* Root (mounts, runc) is required in CI; a developer machine without it skips.  */
static void
need_root (void)
{
  if (geteuid () == 0)
    return;
  cr_assert (! tu_in_ci (), "CI runs as root");
  teardown ();
  cr_skip_test ("needs root");
}

/* ---- running things ---- */

#define PREP(r, ...) TU_PREP_STORE ((r), store, __VA_ARGS__)

/* Run oci-prep, which must exit with STATUS; returns its stdout (malloc'd).  */
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
#define PREP_FAILS(...) prep_expect (1, (const char *const[]){ __VA_ARGS__, NULL })

/* EXPR evaluated by python3 over the JSON document JSON (as d), printed.  */
static char *
py (const char *json, const char *expr)
{
  char *doc = tu_fmt ("%s/doc.json", tmp), *script = tu_fmt ("%s/expr.py", tmp), *code, *out;
  struct tu_result r;
  size_t len;

  fx_write_file (doc, json, strlen (json));
  code = tu_fmt ("import json, sys\nd = json.load (open (sys.argv[1]))\nprint (%s)\n", expr);
  fx_write_file (script, code, strlen (code));
  tu_sh (&r, "python3 '%s' '%s'", script, doc);
  cr_assert_eq (r.status, 0, "python3 on %s: %s\n%s", expr, r.err, json);
  out = r.out;
  len = strlen (out);
  while (len > 0 && out[len - 1] == '\n')
    out[--len] = '\0';
  r.out = NULL;
  tu_result_free (&r);
  free (doc);
  free (script);
  free (code);
  if (n_py_outputs < sizeof py_outputs / sizeof py_outputs[0])
    py_outputs[n_py_outputs++] = out;
  return out;
}

static long
py_long (const char *json, const char *expr)
{
  return atol (py (json, expr));
}

/* Entries of SUB under the store ("." and ".." excluded); -1 if it does not exist.  */
static int
count_entries (const char *sub)
{
  char *path = tu_fmt ("%s/%s", store, sub);
  int n = tu_count_entries (path);

  free (path);
  return n;
}

static char *
layer_path (const char *diff_id, const char *rel)
{
  return tu_fmt ("%s/layers/sha256-%s%s%s", store, diff_id + 7, rel ? "/" : "", rel ? rel : "");
}

static bool
has_layer (const char *diff_id)
{
  char *p = layer_path (diff_id, "diff");
  struct stat st;
  bool r = stat (p, &st) == 0;

  free (p);
  return r;
}

/* Set the layer's last use AGO seconds back.  */
static void
set_last_used (const char *diff_id, long ago)
{
  char *p = layer_path (diff_id, "meta.json");
  struct timespec ts[2];

  ts[0].tv_sec = ts[1].tv_sec = time (NULL) - ago;
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  FX_CHECK (utimensat (AT_FDCWD, p, ts, 0) == 0);
  free (p);
}

/* ---- images ---- */

/* One layer holding FILE with SIZE bytes of content derived from SEED.  */
static void
data_tar (const char *file, size_t size, unsigned seed, void **tar, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();
  unsigned char *data = malloc (size ? size : 1);
  uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
  size_t i;

  FX_CHECK (data != NULL);
  for (i = 0; i < size; i++)
    {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      data[i] = (unsigned char) x;
    }
  fx_tar_dir (t, "etc", 0755);
  fx_tar_file_ex (t, file, 0644, 0, 0, FX_MTIME, data, size);
  fx_tar_finish (t, tar, len);
  free (data);
}

/* Write an image of LAYERS (bottom first) as LAYOUT:REF with CONFIG (NULL: a Cmd only); DIFF_IDS (may be
   NULL) get the layers' diffIDs.  Returns "LAYOUT:REF" (malloc'd).  */
static char *
add_image (const char *ref, const struct fx_layer *layers, size_t n, const char *config, char (*diff_ids)[200])
{
  struct fx_image img
      = { .dir = layout, .layers = layers, .n_layers = n, .config = config ? config : "{\"Cmd\":[\"/bin/true\"]}" };
  struct fx_image_result res;
  size_t i;

  FX_CHECK (n_entries < sizeof entries / sizeof entries[0]);
  fx_image_write_full (&img, &res);
  snprintf (refs[n_entries], sizeof refs[0], "%s", ref);
  entries[n_entries] = (struct fx_index_entry){ .desc = res.manifest, .ref = refs[n_entries] };
  n_entries++;
  fx_index_write (layout, entries, n_entries);
  for (i = 0; diff_ids && i < n; i++)
    strcpy (diff_ids[i], res.diff_ids[i]);
  fx_image_result_free (&res);
  return tu_fmt ("%s:%s", layout, ref);
}

/* A one-layer image REF: FILE of SIZE bytes (SEED).  */
static char *
data_image (const char *ref, const char *file, size_t size, unsigned seed, char diff_id[200])
{
  struct fx_layer layer = { .compression = "gzip" };
  char ids[1][200];
  void *tar;
  size_t len;
  char *image;

  data_tar (file, size, seed, &tar, &len);
  layer.tar = tar;
  layer.tar_len = len;
  image = add_image (ref, &layer, 1, NULL, ids);
  if (diff_id)
    strcpy (diff_id, ids[0]);
  free (tar);
  return image;
}

static const char *const applets[] = { "sh", "cat", "echo", "true", NULL };

/* bin/busybox (the host's static one) and a few applet links.  */
static void
busybox_tar (void **tar, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();

  tu_tar_busybox (t, applets);
  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/base", 0644, "base\n");
  fx_tar_finish (t, tar, len);
}

static void
text_tar (const char *file, const char *content, void **tar, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, file, 0644, content);
  fx_tar_finish (t, tar, len);
}

#define RUN_CONFIG "{\"Cmd\":[\"/bin/sh\",\"-c\",\"cat /etc/base /etc/mid /etc/top\"]}"

/* N_IMAGES busybox images "bbI": busybox (shared by all), a middle layer shared by
   pairs, a top layer of their own.  Returns the number of distinct layers.  */
static size_t
busybox_images (size_t n_images)
{
  void *base, *mid[8], *top[8];
  size_t base_len, mid_len[8], top_len[8], i;

  FX_CHECK (n_images <= 8);
  busybox_tar (&base, &base_len);
  for (i = 0; i < n_images; i++)
    {
      char *m = tu_fmt ("mid %zu\n", i / 2), *tp = tu_fmt ("top %zu\n", i);
      if (i % 2 == 0)
        text_tar ("etc/mid", m, &mid[i / 2], &mid_len[i / 2]);
      text_tar ("etc/top", tp, &top[i], &top_len[i]);
      free (m);
      free (tp);
    }
  for (i = 0; i < n_images; i++)
    {
      struct fx_layer layers[3] = {
        { .tar = base, .tar_len = base_len, .compression = "gzip" },
        { .tar = mid[i / 2], .tar_len = mid_len[i / 2], .compression = "zstd" },
        { .tar = top[i], .tar_len = top_len[i], .compression = "none" },
      };
      char *ref = tu_fmt ("bb%zu", i);
      free (add_image (ref, layers, 3, RUN_CONFIG, NULL));
      free (ref);
    }
  free (base);
  for (i = 0; i < n_images; i++)
    {
      free (top[i]);
      if (i % 2 == 0)
        free (mid[i / 2]);
    }
  return 1 + (n_images + 1) / 2 + n_images;
}

/* ---- treehash (library) ---- */

static struct ocip_digest
tree_digest (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ocip_error_t err = NULL;
  struct ocip_digest d;

  FX_CHECK (fd >= 0);
  cr_assert_eq (ocip_treehash (fd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_CURRENT, NULL, 0, &d, &err), 0, "%s",
                err ? err->msg : "");
  close (fd);
  return d;
}

Test (store, treehash_sees_content_and_metadata_not_times)
{
  char *a = tu_fmt ("%s/a", tmp), *b = tu_fmt ("%s/b", tmp), *p;
  struct ocip_digest da, db;
  struct tu_result r;

  tu_sh (&r,
         "set -e; for d in '%s' '%s'; do mkdir -p $d/etc/sub; printf hello > $d/etc/f; ln -s f $d/etc/l; "
         "mkfifo $d/etc/fifo; : > $d/z; done; touch -d @1000 '%s/etc/f'",
         a, b, b);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  da = tree_digest (a);
  db = tree_digest (b);
  cr_assert_str_eq (da.str, db.str, "times must not matter");

  p = tu_fmt ("%s/etc/f", b);
  fx_write_file (p, "hellO", 5);
  cr_assert_str_neq (tree_digest (b).str, da.str, "content");
  fx_write_file (p, "hello", 5);
  cr_assert_str_eq (tree_digest (b).str, da.str);
  FX_CHECK (chmod (p, 0600) == 0);
  cr_assert_str_neq (tree_digest (b).str, da.str, "mode");
  FX_CHECK (chmod (p, 0644) == 0);
  if (setxattr (p, "user.test", "v", 1, 0) == 0)
    {
      cr_assert_str_neq (tree_digest (b).str, da.str, "xattrs");
      FX_CHECK (removexattr (p, "user.test") == 0);
    }
  free (p);
  p = tu_fmt ("%s/etc/l", b);
  FX_CHECK (unlink (p) == 0 && symlink ("g", p) == 0);
  cr_assert_str_neq (tree_digest (b).str, da.str, "link target");
  FX_CHECK (unlink (p) == 0 && symlink ("f", p) == 0);
  free (p);
  p = tu_fmt ("%s/etc/sub/new", b);
  fx_write_file (p, "", 0);
  cr_assert_str_neq (tree_digest (b).str, da.str, "a new entry");
  FX_CHECK (unlink (p) == 0);
  cr_assert_str_eq (tree_digest (b).str, da.str);
  free (p);
  free (a);
  free (b);
}

/* ---- ls and du ---- */

Test (store, ls_and_du_report_layers_pins_and_sizes)
{
  char base[200], top[200];
  char *json, *expr, *out, *bundle = tu_fmt ("%s/bundle", tmp);
  void *t1, *t2;
  size_t l1, l2;
  struct fx_layer layers[2];
  char *img, *other;
  char ids[2][200];

  need_root ();
  /* 256 KiB and a hard link to it: counted once.  */
  {
    struct fx_tar *t = fx_tar_new ();
    char *data = calloc (1, 256 * 1024);
    memset (data, 'x', 256 * 1024);
    fx_tar_file_ex (t, "big", 0644, 0, 0, FX_MTIME, data, 256 * 1024);
    fx_tar_hardlink (t, "big-link", "big");
    fx_tar_finish (t, &t1, &l1);
    free (data);
  }
  text_tar ("etc/top", "top\n", &t2, &l2);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2 };
  img = add_image ("pinned", layers, 2, NULL, ids);
  strcpy (base, ids[0]);
  strcpy (top, ids[1]);
  other = data_image ("other", "etc/other", 1000, 7, NULL);

  free (PREP_OK ("load", other));
  free (PREP_OK ("bundle", img, bundle));

  json = PREP_OK ("store", "ls", "--json");
  cr_assert_eq (py_long (json, "len (d['layers'])"), 3, "%s", json);
  expr = tu_fmt ("[l for l in d['layers'] if l['diffID'] == '%s'][0]", base);
  out = tu_fmt ("%s['pins']", expr);
  cr_assert_eq (py_long (json, out), 1, "%s", json);
  free (out);
  out = tu_fmt ("%s['diskSize']", expr);
  {
    long size = py_long (json, out);
    cr_assert (size >= 256 * 1024 && size < 2 * 256 * 1024, "hard links are counted once: %ld", size);
  }
  free (out);
  out = tu_fmt ("'%s' in %s['images'] and '%s' in %s['chainIDs'] and len (%s['chainIDs']) == 1", img, expr, base, expr,
                expr);
  cr_assert_str_eq (py (json, out), "True", "%s", json);
  free (out);
  free (expr);
  expr = tu_fmt ("[l for l in d['layers'] if l['diffID'] == '%s'][0]", top);
  out = tu_fmt ("(%s['pins'], len (%s['chainIDs']), %s['contentDigest'][:7], %s['lastUsed'] > 0)", expr, expr, expr,
                expr);
  cr_assert_str_eq (py (json, out), "(1, 1, 'sha256:', True)", "%s", json);
  free (out);
  free (expr);
  cr_assert_eq (py_long (json, "sum (l['pins'] for l in d['layers'])"), 2, "%s", json);
  cr_assert_eq (py_long (json, "len ([p for p in d['pins'] if p['live']])"), 1, "%s", json);
  free (json);

  json = PREP_OK ("store", "du", "--json");
  cr_assert_eq (py_long (json, "d['layers']"), 3, "%s", json);
  cr_assert_eq (py_long (json, "d['pinned']['layers']"), 2, "%s", json);
  cr_assert_eq (py_long (json, "d['unpinned']['layers']"), 1, "%s", json);
  cr_assert_str_eq (py (json, "d['size'] == d['pinned']['size'] + d['unpinned']['size'] and d['unpinned']['size'] > 0"),
                    "True", "%s", json);
  cr_assert_eq (py_long (json, "d['pins']"), 1, "%s", json);
  free (json);

  out = PREP_OK ("store", "ls");
  cr_assert (strncmp (out, "DIFF ID", 7) == 0, "%s", out);
  cr_assert_eq (tu_count (out, "\nsha256:"), 3, "%s", out);
  cr_assert (strstr (out, img), "the image is listed: %s", out);
  free (out);
  out = PREP_OK ("store", "du");
  cr_assert (strstr (out, "pinned") && strstr (out, "2 layers") && strstr (out, "1 layers"), "%s", out);
  free (out);

  free (PREP_OK ("rm", bundle));
  free (t1);
  free (t2);
  free (img);
  free (other);
  free (bundle);
}

/* ---- gc ---- */

Test (store, gc_never_removes_pinned_layers)
{
  char *bundle = tu_fmt ("%s/bundle", tmp), *json, *img;
  char a[200];
  size_t n_layers;

  need_root ();
  n_layers = busybox_images (2);
  img = tu_fmt ("%s:bb0", layout);
  free (data_image ("loose", "etc/loose", 4096, 1, a));
  {
    char *arg = tu_fmt ("%s:loose", layout);
    free (PREP_OK ("load", arg));
    free (arg);
  }
  {
    char *arg = tu_fmt ("%s:bb1", layout);
    free (PREP_OK ("load", arg));
    free (arg);
  }
  cr_assert_eq (count_entries ("layers"), (int) n_layers, "all but bb0's top, and the loose one");
  free (PREP_OK ("bundle", img, bundle));
  cr_assert_gt (count_entries ("l"), 0, "the bundle made short links");

  json = PREP_OK ("store", "gc", "--json");
  /* bb0's three layers stay (bb1 shares two of them); the loose layer and bb1's top go.  */
  cr_assert_eq (py_long (json, "len (d['removed'])"), 2, "the loose layer and bb1's top: %s", json);
  cr_assert_eq (count_entries ("layers"), 3);
  cr_assert (! has_layer (a));
  free (json);
  free (PREP_OK ("store", "fsck"));

  /* Released: nothing holds them any more, and their short links go with them.  */
  free (PREP_OK ("rm", bundle));
  json = PREP_OK ("store", "gc", "--json");
  cr_assert_eq (py_long (json, "len (d['removed'])"), 3, "%s", json);
  cr_assert_gt (py_long (json, "d['links']"), 0, "%s", json);
  cr_assert_eq (count_entries ("layers"), 0);
  cr_assert_eq (count_entries ("l"), 0, "dangling short links must be removed");
  cr_assert_eq (count_entries ("tmp"), 0);
  free (json);
  free (img);
  free (bundle);
}

Test (store, a_removal_interrupted_by_a_crash_is_finished_later)
{
  char id[200], *from, *to, *json;

  {
    char *img = data_image ("x", "etc/x", 5000, 3, id);
    free (PREP_OK ("load", img));
    free (img);
  }
  /* What a gc killed between its rename and the end of its rmtree leaves.  */
  from = layer_path (id, NULL);
  to = tu_fmt ("%s/tmp/sha256-%s.gc-0000abcd", store, id + 7);
  FX_CHECK (rename (from, to) == 0);
  json = PREP_OK ("store", "gc", "--json");
  cr_assert_eq (py_long (json, "d['tmp']"), 1, "%s", json);
  cr_assert_eq (count_entries ("tmp"), 0);
  cr_assert_eq (count_entries ("layers"), 0);
  free (json);
  free (PREP_OK ("store", "fsck"));
  free (from);
  free (to);
}

/* Three unpinned layers of about the same size, used 3 days, 2 days and 1 hour ago.  */
static void
three_aged_layers (char ids[3][200])
{
  static const long ago[3] = { 3 * 86400, 2 * 86400, 3600 };
  size_t i;

  for (i = 0; i < 3; i++)
    {
      char *ref = tu_fmt ("l%zu", i), *img = data_image (ref, "etc/data", 100000, (unsigned) i, ids[i]);
      free (PREP_OK ("load", img));
      free (ref);
      free (img);
    }
  /* Touched out of order, so that LRU cannot be confused with creation order.  */
  set_last_used (ids[1], ago[1]);
  set_last_used (ids[2], ago[2]);
  set_last_used (ids[0], ago[0]);
}

Test (store, gc_max_size_removes_least_recently_used_first)
{
  char ids[3][200], *json, *expr, *max;
  long sizes[3];
  size_t i;

  three_aged_layers (ids);
  json = PREP_OK ("store", "ls", "--json");
  for (i = 0; i < 3; i++)
    {
      expr = tu_fmt ("[l for l in d['layers'] if l['diffID'] == '%s'][0]['diskSize']", ids[i]);
      sizes[i] = py_long (json, expr);
      cr_assert_gt (sizes[i], 90000);
      free (expr);
    }
  cr_assert_str_eq (py (json, "[l['diffID'] for l in d['layers']] == sorted ([l['diffID'] for l in d['layers']], "
                              "key = lambda x: [m['lastUsed'] for m in d['layers'] if m['diffID'] == x][0])"),
                    "True", "ls lists least recently used first: %s", json);
  free (json);

  /* Room for one and a half layers: the two least recently used go, in that order.  */
  max = tu_fmt ("%ld", sizes[2] + sizes[1] / 2);
  json = PREP_OK ("store", "gc", "--json", "--dry-run", "--max-size", max);
  expr = tu_fmt ("[l['diffID'] for l in d['removed']] == ['%s', '%s'] and d['dryRun']", ids[0], ids[1]);
  cr_assert_str_eq (py (json, expr), "True", "%s", json);
  cr_assert_eq (count_entries ("layers"), 3, "--dry-run removes nothing");
  free (json);
  free (expr);
  json = PREP_OK ("store", "gc", "--json", "--max-size", max);
  expr = tu_fmt ("[l['diffID'] for l in d['removed']] == ['%s', '%s'] and d['remaining'] == %ld and not d['dryRun']",
                 ids[0], ids[1], sizes[2]);
  cr_assert_str_eq (py (json, expr), "True", "%s", json);
  cr_assert (! has_layer (ids[0]) && ! has_layer (ids[1]) && has_layer (ids[2]));
  free (expr);
  free (json);

  /* It fits now: nothing more goes.  */
  json = PREP_OK ("store", "gc", "--json", "--max-size", max);
  cr_assert_eq (py_long (json, "len (d['removed'])"), 0, "%s", json);
  free (json);
  free (max);

  /* A load is a use: the layer is extracted again and counts as new.  */
  {
    char *arg = tu_fmt ("%s:l0", layout);
    free (PREP_OK ("load", arg));
    free (arg);
  }
  json = PREP_OK ("store", "gc", "--json", "--max-size", "1");
  expr = tu_fmt ("[l['diffID'] for l in d['removed']] == ['%s', '%s']", ids[2], ids[0]);
  cr_assert_str_eq (py (json, expr), "True", "%s", json);
  free (expr);
  free (json);
}

Test (store, gc_older_than)
{
  char ids[3][200], *json, *expr, *out;

  three_aged_layers (ids);
  json = PREP_OK ("store", "gc", "--json", "--older-than", "60h");
  expr = tu_fmt ("[l['diffID'] for l in d['removed']] == ['%s']", ids[0]);
  cr_assert_str_eq (py (json, expr), "True", "%s", json);
  free (expr);
  free (json);
  json = PREP_OK ("store", "gc", "--json", "--older-than", "2h");
  expr = tu_fmt ("[l['diffID'] for l in d['removed']] == ['%s']", ids[1]);
  cr_assert_str_eq (py (json, expr), "True", "%s", json);
  free (expr);
  free (json);
  cr_assert (has_layer (ids[2]));

  /* A second is the unit without a suffix; text output names what went.  */
  out = PREP_OK ("store", "gc", "--older-than", "7d");
  cr_assert (strstr (out, "freed 0 B"), "%s", out);
  free (out);
  {
    struct tu_result r;
    PREP (&r, "store", "gc", "--older-than", "3x");
    cr_assert_eq (r.status, 2, "a bad age is a usage error: %s", r.err);
    tu_result_free (&r);
  }
}

Test (store, gc_dry_run_removes_nothing)
{
  char ids[3][200], *json, *out;

  three_aged_layers (ids);
  {
    char *arg = tu_fmt ("%s:l0", layout);
    free (PREP_OK ("load", arg));
    free (arg);
  }
  json = PREP_OK ("store", "gc", "--json", "--dry-run");
  cr_assert_eq (py_long (json, "len (d['removed'])"), 3, "%s", json);
  cr_assert_str_eq (py (json, "d['freed'] > 0 and d['remaining'] == 0"), "True", "%s", json);
  free (json);
  out = PREP_OK ("store", "gc", "-n");
  cr_assert_eq (tu_count (out, "would remove sha256:"), 3, "%s", out);
  free (out);
  cr_assert_eq (count_entries ("layers"), 3);
  cr_assert (has_layer (ids[0]) && has_layer (ids[1]) && has_layer (ids[2]));
}

Test (store, gc_skips_a_layer_whose_lock_is_held)
{
  char id[200], *lock, *json;
  int ready[2], go[2];
  pid_t pid;
  char c;

  {
    char *img = data_image ("x", "etc/x", 5000, 3, id);
    free (PREP_OK ("load", img));
    free (img);
  }
  lock = tu_fmt ("%s/locks/sha256-%s", store, id + 7);
  FX_CHECK (pipe (ready) == 0 && pipe (go) == 0);
  pid = fork ();
  FX_CHECK (pid >= 0);
  if (pid == 0)
    {
      int fd = open (lock, O_RDWR | O_CREAT, 0600);
      if (fd < 0 || flock (fd, LOCK_EX) < 0)
        _exit (1);
      if (write (ready[1], "r", 1) != 1 || read (go[0], &c, 1) != 1)
        _exit (1);
      _exit (0);
    }
  FX_CHECK (read (ready[0], &c, 1) == 1);
  json = PREP_OK ("store", "gc", "--json");
  cr_assert_eq (py_long (json, "len (d['removed'])"), 0, "%s", json);
  {
    char *expr = tu_fmt ("d['busy'] == ['%s']", id);
    cr_assert_str_eq (py (json, expr), "True", "%s", json);
    free (expr);
  }
  cr_assert (has_layer (id), "a locked layer must never be removed");
  free (json);
  FX_CHECK (write (go[1], "g", 1) == 1);
  FX_CHECK (waitpid (pid, NULL, 0) == pid);

  json = PREP_OK ("store", "gc", "--json");
  cr_assert_eq (py_long (json, "len (d['removed'])"), 1, "%s", json);
  cr_assert (! has_layer (id));
  free (json);
  {
    struct stat st;
    cr_assert (stat (lock, &st) < 0, "the removed layer's lock file goes with it");
  }
  free (lock);
}

Test (store, stale_pins_do_not_protect_and_are_reported)
{
  char id[200], *pin, *record, *json, *out;

  {
    char *img = data_image ("x", "etc/x", 5000, 3, id);
    free (PREP_OK ("load", img));
    free (img);
  }
  pin = tu_fmt ("%s/bundles/0123abcd.json", store);
  record = tu_fmt ("{\"id\":\"0123abcd\",\"bundle\":\"%s/gone\",\"rootfsPath\":\"%s/gone/rootfs\",\"image\":\"x\","
                   "\"layers\":[\"%s\"]}",
                   tmp, tmp, id);
  fx_write_file (pin, record, strlen (record));

  json = PREP_OK ("store", "ls", "--json");
  cr_assert_eq (py_long (json, "d['layers'][0]['pins']"), 0, "%s", json);
  cr_assert_str_eq (py (json, "d['pins'][0]['state']"), "the bundle no longer exists", "%s", json);
  free (json);
  out = PREP_OK ("store", "gc");
  cr_assert (strstr (out, "stale pin 0123abcd"), "%s", out);
  cr_assert (strstr (out, "removed sha256:"), "%s", out);
  free (out);
  cr_assert (! has_layer (id));
  cr_assert_eq (access (pin, F_OK), 0, "gc leaves pin records to fsck --repair");

  out = PREP_FAILS ("store", "fsck");
  cr_assert (strstr (out, "pin '0123abcd': stale: the bundle no longer exists"), "%s", out);
  free (out);
  free (PREP_OK ("store", "fsck", "--repair"));
  cr_assert (access (pin, F_OK) < 0);
  free (PREP_OK ("store", "fsck"));

  /* A record that cannot be read could pin anything: gc stops until it is repaired.  */
  fx_write_file (pin, "{\"bundle\":", 10);
  {
    struct tu_result r;
    PREP (&r, "store", "gc");
    cr_assert_eq (r.status, 1);
    cr_assert (strstr (r.err, "fsck --repair"), "%s", r.err);
    tu_result_free (&r);
  }
  free (PREP_OK ("store", "fsck", "--repair"));
  free (PREP_OK ("store", "gc"));
  free (pin);
  free (record);
}

/* ---- fsck ---- */

Test (store, fsck_finds_and_repairs_missing_meta_and_dangling_links)
{
  char a[200], b[200], *p, *out, *json;

  {
    char *img = data_image ("a", "etc/a", 3000, 1, a);
    free (PREP_OK ("load", img));
    free (img);
  }
  {
    char *img = data_image ("b", "etc/b", 3000, 2, b);
    free (PREP_OK ("load", img));
    free (img);
  }
  out = PREP_OK ("store", "fsck");
  cr_assert (strstr (out, "checked 2 layers, 0 short links, 0 pins: 0 problems"), "%s", out);
  free (out);

  p = layer_path (a, "meta.json");
  FX_CHECK (unlink (p) == 0);
  free (p);
  p = tu_fmt ("%s/l", store);
  mkdir (p, 0700);
  free (p);
  p = tu_fmt ("%s/l/0123456789ab", store);
  FX_CHECK (symlink ("../layers/sha256-0123456789ab0123456789ab0123456789ab0123456789ab0123456789ab0123/diff", p)
            == 0);
  free (p);
  p = tu_fmt ("%s/layers/sha256-half.written", store);
  fx_mkdir_p (p);
  free (p);

  json = PREP_FAILS ("store", "fsck", "--json");
  cr_assert_eq (py_long (json, "len (d['problems'])"), 3, "%s", json);
  free (json);
  out = PREP_FAILS ("store", "fsck");
  p = tu_fmt ("layer '%s': its meta.json is missing\n", a);
  cr_assert (strstr (out, p), "%s", out);
  free (p);
  cr_assert (strstr (out, "short link 'l/0123456789ab': points at a layer that is not in the store\n"), "%s", out);
  cr_assert (strstr (out, "layers/sha256-half.written: not a layer"), "%s", out);
  free (out);

  out = PREP_OK ("store", "fsck", "--repair");
  cr_assert_eq (tu_count (out, ": removed"), 3, "%s", out);
  free (out);
  free (PREP_OK ("store", "fsck"));
  cr_assert (! has_layer (a) && has_layer (b));
  cr_assert_eq (count_entries ("l"), 0);
  cr_assert_eq (count_entries ("tmp"), 0);

  /* The repaired layer is simply extracted again.  */
  {
    char *arg = tu_fmt ("%s:a", layout);
    json = PREP_OK ("--json", "load", arg);
    free (arg);
  }
  cr_assert_eq (tu_count (json, "\"extracted\""), 1, "%s", json);
  free (json);
}

Test (store, fsck_deep_finds_a_corrupted_file)
{
  char a[200], *p, *out, *json;

  {
    char *img = data_image ("a", "etc/a", 70000, 1, a);
    free (PREP_OK ("load", img));
    free (img);
  }
  out = PREP_OK ("store", "fsck", "--deep");
  cr_assert (strstr (out, "content verified for 1 layers, 0 without"), "%s", out);
  free (out);

  /* One byte changed in place: same size, same times: only the content digest sees it.  */
  p = layer_path (a, "diff/etc/a");
  {
    int fd = open (p, O_WRONLY);
    struct stat st;
    struct timespec ts[2];
    FX_CHECK (fd >= 0 && fstat (fd, &st) == 0);
    FX_CHECK (pwrite (fd, "\xff\xfe", 2, 1234) == 2);
    ts[0] = st.st_atim;
    ts[1] = st.st_mtim;
    FX_CHECK (futimens (fd, ts) == 0);
    close (fd);
  }
  free (p);
  free (PREP_OK ("store", "fsck"));
  out = PREP_FAILS ("store", "fsck", "--deep");
  cr_assert (strstr (out, "its content changed since it was extracted"), "%s", out);
  free (out);
  out = PREP_OK ("store", "fsck", "--deep", "--repair");
  cr_assert (strstr (out, "1 repaired"), "%s", out);
  free (out);
  cr_assert (! has_layer (a));
  free (PREP_OK ("store", "fsck", "--deep"));
  {
    char *arg = tu_fmt ("%s:a", layout);
    json = PREP_OK ("--json", "load", arg);
    free (arg);
  }
  cr_assert_eq (tu_count (json, "\"extracted\""), 1, "%s", json);
  free (json);
  free (PREP_OK ("store", "fsck", "--deep"));
}

/* A layer recorded by an earlier version in FORMAT (1: SHA-256 of every file, no
   "contentFormat" in meta.json; 2: XXH3-128 of every file's bytes) is still verified,
   with its own format, a sparse file included, and a change is still seen.  */
static void
fsck_deep_verifies_an_older_record (enum ocip_treehash_format format)
{
  struct fx_tar *t = fx_tar_new_format ("pax");
  struct fx_segment seg = { 1 << 20, 5000 };
  struct fx_layer layer = { .compression = "gzip" };
  char ids[1][200], *img, *diff, *meta, *out, *p;
  struct ocip_digest old, current;
  ocip_error_t err = NULL;
  struct tu_result r;
  void *tar;
  int fd;

  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/a", 0644, "some content");
  fx_tar_sparse (t, "etc/sparse", 8 << 20, &seg, 1);
  fx_tar_finish (t, &tar, &layer.tar_len);
  layer.tar = tar;
  img = add_image ("a", &layer, 1, NULL, ids);
  free (tar);
  free (PREP_OK ("load", img));
  free (img);
  diff = layer_path (ids[0], "diff");
  meta = layer_path (ids[0], "meta.json");
  fd = open (diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  FX_CHECK (fd >= 0);
  cr_assert_eq (ocip_treehash (fd, OCIP_DIGEST_SHA256, format, NULL, 0, &old, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (ocip_treehash (fd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_CURRENT, NULL, 0, &current, &err), 0,
                "%s", err ? err->msg : "");
  cr_assert_str_neq (old.str, current.str);
  close (fd);
  tu_sh (&r,
         "python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m.pop(\"contentFormat\") == %d; "
         "m[\"contentDigest\"]=sys.argv[2]; f=int(sys.argv[3]); "
         "m.update({\"contentFormat\": f} if f > 1 else {}); json.dump(m, open(sys.argv[1], \"w\"))' '%s' '%s' %d",
         (int) OCIP_TREEHASH_FORMAT_CURRENT, meta, old.str, (int) format);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  out = PREP_OK ("store", "fsck", "--deep");
  cr_assert (strstr (out, "content verified for 1 layers"), "%s", out);
  free (out);

  p = layer_path (ids[0], "diff/etc/sparse");
  fd = open (p, O_WRONLY | O_CLOEXEC);
  FX_CHECK (fd >= 0 && pwrite (fd, "x", 1, 3 << 20) == 1);
  close (fd);
  out = PREP_FAILS ("store", "fsck", "--deep");
  cr_assert (strstr (out, "its content changed since it was extracted"), "%s", out);
  free (out);
  free (p);
  free (diff);
  free (meta);
}

Test (store, fsck_deep_verifies_format_1_records)
{
  fsck_deep_verifies_an_older_record (OCIP_TREEHASH_FORMAT_1);
}

Test (store, fsck_deep_verifies_format_2_records)
{
  fsck_deep_verifies_an_older_record (OCIP_TREEHASH_FORMAT_2);
}

Test (store, fsck_repair_keeps_a_broken_layer_a_live_bundle_uses)
{
  char *bundle = tu_fmt ("%s/bundle", tmp), *img, *p, *out;
  char id[200];

  need_root ();
  img = data_image ("a", "etc/a", 3000, 1, id);
  free (PREP_OK ("bundle", img, bundle));
  p = layer_path (id, "meta.json");
  FX_CHECK (unlink (p) == 0);
  free (p);
  out = PREP_FAILS ("store", "fsck", "--repair");
  cr_assert (strstr (out, "not repaired: bundle '"), "%s", out);
  free (out);
  cr_assert (has_layer (id));
  free (PREP_OK ("rm", bundle));
  free (PREP_OK ("store", "fsck", "--repair"));
  free (PREP_OK ("store", "fsck"));
  free (img);
  free (bundle);
}

Test (store, fsck_repair_drops_pins_of_deleted_and_interrupted_bundles)
{
  char *bundle = tu_fmt ("%s/bundle", tmp), *rootfs = tu_fmt ("%s/bundle/rootfs", tmp), *img, *out, *state;

  need_root ();
  busybox_images (1);
  img = tu_fmt ("%s:bb0", layout);
  free (PREP_OK ("bundle", img, bundle));
  free (PREP_OK ("store", "fsck"));
  /* Deleted behind oci-prep's back.  */
  FX_CHECK (umount2 (rootfs, MNT_DETACH) == 0);
  fx_rm_rf (bundle);
  out = PREP_FAILS ("store", "fsck");
  cr_assert (strstr (out, "stale: the bundle no longer exists"), "%s", out);
  free (out);
  free (PREP_OK ("store", "fsck", "--repair"));
  cr_assert_eq (count_entries ("bundles"), 0);
  free (PREP_OK ("store", "fsck"));

  /* A creation that died after mounting, before writing its state: the rootfs of a
     bundle nobody can remove is detached by the repair.  */
  free (PREP_OK ("bundle", img, bundle));
  state = tu_fmt ("%s/.oci-prep/state.json", bundle);
  FX_CHECK (unlink (state) == 0);
  cr_assert_eq (tu_mount_points_under (rootfs, NULL), 1);
  out = PREP_OK ("store", "ls", "--json");
  cr_assert_str_eq (py (out, "(d['pins'][0]['state'], d['pins'][0]['protects'], d['layers'][0]['pins'])"),
                    "('the bundle has no state: its creation was interrupted', True, 1)",
                    "no bundle is being made: the pin is stale, but its mounted rootfs keeps the layers: %s", out);
  free (out);
  out = PREP_FAILS ("store", "fsck");
  cr_assert (strstr (out, "its creation was interrupted") && strstr (out, "its rootfs is still mounted"), "%s", out);
  free (out);
  out = PREP_OK ("store", "fsck", "--repair");
  cr_assert (strstr (out, "detached, pin dropped"), "%s", out);
  free (out);
  cr_assert_eq (tu_mount_points_under (rootfs, NULL), 0);
  cr_assert_eq (count_entries ("bundles"), 0);
  free (PREP_OK ("store", "fsck"));
  free (state);
  free (img);
  free (bundle);
  free (rootfs);
}

/* ---- concurrency, crashes, a full disk ---- */

Test (store, concurrent_bundles_and_gc_loop, .timeout = 240)
{
  char loose[200];
  struct tu_result r;
  size_t n_layers, i;
  long extracted = 0;
  char *json;

  need_root ();
  tu_need ("runc", teardown);
  n_layers = busybox_images (4);
  /* Something for gc to remove meanwhile.  */
  {
    char *img = data_image ("loose", "etc/loose", 50000, 9, loose);
    free (PREP_OK ("load", img));
    free (img);
  }

  /* gc runs in a loop from before the first bundle starts until the last one ends;
     each run logs a line, and a failed run the word "fail".  The runs are counted once
     the loop is over: the one under way while the bundles were made is finished, so at
     least two are, however fast the bundles were.  */
  tu_sh (&r,
         "cd '%s' || exit 1; P='%s'; S='%s'; L='%s'; "
         "( while [ ! -e stop ]; do \"$P\" --store \"$S\" --json store gc >> gc.json 2>> gc.err "
         "  || echo fail >> gc.err; echo run >> gc.runs; done ) & gc=$!; "
         "while [ ! -s gc.runs ]; do sleep 0.01; done; "
         "for i in 0 1 2 3 4 5 6 7; do \"$P\" --store \"$S\" --json bundle \"$L:bb$((i / 2))\" b$i > b$i.json "
         "2> b$i.err & eval p$i=$!; done; "
         "st=''; for i in 0 1 2 3 4 5 6 7; do eval wait \\$p$i; st=\"$st$?\"; done; "
         "touch stop; wait $gc; runs=$(wc -l < gc.runs); echo \"$st $runs\"; cat b*.err gc.err",
         tmp, OCIP_BINARY, store, layout);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strncmp (r.out, "00000000 ", 9) == 0, "all 8 bundles must succeed: %s", r.out);
  cr_assert_gt (atol (r.out + 9), 1, "gc must have run while the bundles were made: %s", r.out);
  cr_assert_eq (strchr (r.out, '\n')[1], '\0', "no bundle or gc said anything on stderr: %s", r.out);
  tu_result_free (&r);

  /* No layer extracted twice: every extraction is counted once over all bundles.  */
  for (i = 0; i < 8; i++)
    {
      char *path = tu_fmt ("%s/b%zu.json", tmp, i);
      char *text = fx_read_file (path, NULL);
      extracted += py_long (text, "d['extracted']");
      free (text);
      free (path);
    }
  cr_assert_eq (extracted, (long) n_layers, "each of the %zu layers extracted exactly once, not %ld", n_layers,
                extracted);
  cr_assert_eq (count_entries ("layers"), (int) n_layers, "every pinned layer is there, the loose one is gone");
  cr_assert (! has_layer (loose));
  free (PREP_OK ("store", "fsck", "--deep"));
  json = PREP_OK ("store", "du", "--json");
  cr_assert_eq (py_long (json, "d['pinned']['layers']"), (long) n_layers, "%s", json);
  cr_assert_eq (py_long (json, "d['pins']"), 8, "%s", json);
  free (json);

  for (i = 0; i < 8; i++)
    {
      char *expect = tu_fmt ("base\nmid %zu\ntop %zu\n", i / 4, i / 2), *b = tu_fmt ("%s/b%zu", tmp, i);
      tu_runc_run (&r, b);
      cr_assert_eq (r.status, 0, "runc run b%zu: %s%s", i, r.out, r.err);
      cr_assert_str_eq (r.out, expect, "b%zu", i);
      tu_result_free (&r);
      tu_delete_containers ();
      free (expect);
      free (b);
    }
  for (i = 0; i < 8; i++)
    {
      char *b = tu_fmt ("%s/b%zu", tmp, i);
      free (PREP_OK ("rm", b));
      free (b);
    }
  free (PREP_OK ("store", "gc"));
  cr_assert_eq (count_entries ("layers"), 0);
}

/* busybox, a layer of many small files (extracting it takes a good part of the 300 ms
   the kills are spread over), and a small top layer, as LAYOUT:slow.  */
static char *
slow_image (void)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layers[3] = { { .compression = "gzip" }, { .compression = "gzip" }, { .compression = "none" } };
  void *tars[3];
  size_t lens[3], i;
  char *img;

  busybox_tar (&tars[0], &lens[0]);
  for (i = 0; i < 8000; i++)
    {
      char name[64], content[64];
      snprintf (name, sizeof name, "bulk/d%02zu/f%04zu", i % 40, i);
      snprintf (content, sizeof content, "file %zu\n", i);
      fx_tar_file (t, name, 0644, content);
    }
  fx_tar_finish (t, &tars[1], &lens[1]);
  text_tar ("etc/top", "top\n", &tars[2], &lens[2]);
  for (i = 0; i < 3; i++)
    {
      layers[i].tar = tars[i];
      layers[i].tar_len = lens[i];
    }
  img = add_image ("slow", layers, 3, RUN_CONFIG, NULL);
  for (i = 0; i < 3; i++)
    free (tars[i]);
  return img;
}

static bool
is_mount_point (const char *path)
{
  return tu_mount_points_under (path, NULL) > 0;
}

/* oci-prep bundle IMG BUNDLE in the background, its output discarded: its pid.  */
static pid_t
start_bundle (const char *img, const char *bundle)
{
  pid_t pid = fork ();

  FX_CHECK (pid >= 0);
  if (pid == 0)
    {
      int null = open ("/dev/null", O_WRONLY);
      dup2 (null, 1);
      dup2 (null, 2);
      execl (OCIP_BINARY, OCIP_BINARY, "--store", store, "bundle", img, bundle, (char *) NULL);
      _exit (127);
    }
  return pid;
}

Test (store, kill_9_during_bundle_then_bundle_fsck_and_rm_recover, .timeout = 240)
{
  char *img;
  int trial, killed_midway = 0, repaired = 0, finished = 0;

  need_root ();
  img = slow_image ();
  /* What is tested is process death, not power loss: on tmpfs, syncfs does not wait for
     a busy disk, and a cold bundle takes about 100 ms instead of seconds.  */
  fx_mkdir_p (store);
  FX_CHECK (mount ("tmpfs", store, "tmpfs", 0, "size=256m,mode=0700") == 0);
  srand (42);
  for (trial = 0; trial < 30; trial++)
    {
      char *killed = tu_fmt ("%s/k%d", tmp, trial), *ok = tu_fmt ("%s/ok%d", tmp, trial), *state, *out;
      useconds_t delay = (useconds_t) (rand () % 300001);
      struct tu_result r;
      pid_t pid;
      int status;

      pid = start_bundle (img, killed);
      usleep (delay);
      kill (pid, SIGKILL);
      FX_CHECK (waitpid (pid, &status, 0) == pid);
      killed_midway += WIFSIGNALED (status);

      PREP (&r, "bundle", img, ok);
      cr_assert_eq (r.status, 0, "trial %d (kill after %u us): the next bundle failed: %s", trial, delay, r.err);
      tu_result_free (&r);
      PREP (&r, "store", "fsck", "--repair");
      cr_assert (r.status == 0, "trial %d: fsck --repair: %s%s", trial, r.out, r.err);
      if (strstr (r.out, " 0 problems") == NULL)
        {
          repaired++;
          cr_log_info ("trial %d: fsck --repair: %s", trial, r.out);
        }
      tu_result_free (&r);
      PREP (&r, "store", "fsck");
      cr_assert_eq (r.status, 0, "trial %d: fsck after repair: %s%s", trial, r.out, r.err);
      tu_result_free (&r);

      /* What the killed bundle left: a finished bundle is removed by rm --force; an
         unfinished one was unmounted by fsck --repair (or never mounted).  */
      state = tu_fmt ("%s/.oci-prep/state.json", killed);
      if (access (state, F_OK) == 0)
        {
          finished++;
          PREP (&r, "rm", "--force", killed);
          cr_assert_eq (r.status, 0, "trial %d: rm --force: %s", trial, r.err);
          tu_result_free (&r);
        }
      else
        {
          cr_assert (! is_mount_point (killed), "trial %d: an unfinished bundle stayed mounted", trial);
          fx_rm_rf (killed);
        }
      free (PREP_OK ("rm", "--force", ok));
      cr_assert_eq (tu_mount_points_under (tmp, NULL), 1, "trial %d: something besides the store stayed mounted",
                    trial);
      /* Cold again, so that the next kill may land in an extraction.  */
      out = PREP_OK ("store", "gc");
      free (out);
      cr_assert_eq (count_entries ("layers"), 0, "trial %d", trial);
      free (state);
      free (killed);
      free (ok);
    }
  free (PREP_OK ("store", "fsck", "--deep"));
  cr_assert_eq (count_entries ("tmp"), 0);
  cr_assert_eq (count_entries ("bundles"), 0);
  cr_log_info ("kill -9: %d of 30 bundles killed midway, %d left something for fsck --repair, %d had their state",
               killed_midway, repaired, finished);
  cr_assert_gt (killed_midway, 0, "no bundle was killed before it finished: the test proves nothing");
  free (img);
}

Test (store, disk_full_during_extraction)
{
  char id[200], *img;
  struct tu_result r;

  need_root ();
  img = data_image ("big", "etc/big", 20u << 20, 5, id);
  fx_mkdir_p (store);
  FX_CHECK (mount ("tmpfs", store, "tmpfs", 0, "size=8m,mode=0700") == 0);

  PREP (&r, "load", img);
  cr_assert_eq (r.status, 1, "%s", r.err);
  cr_assert (strstr (r.err, "No space left on device"), "the error says why: %s", r.err);
  tu_result_free (&r);
  cr_assert_eq (count_entries ("layers"), 0, "no partial layer is committed");
  cr_assert_eq (count_entries ("tmp"), 0, "the work area is removed");

  FX_CHECK (mount ("tmpfs", store, "tmpfs", MS_REMOUNT, "size=64m") == 0);
  free (PREP_OK ("load", img));
  cr_assert (has_layer (id));
  free (PREP_OK ("store", "fsck", "--deep"));
  free (img);
}

/* Whether the kill point KIND of a bundle being made at BUNDLE has come: 0 its
   .oci-prep exists, 1 its state, 2 its pin in the store, 3 its rootfs is mounted.  */
static bool
kill_point (int kind, const char *bundle)
{
  char *p = tu_fmt ("%s/%s", bundle, kind == 0 ? ".oci-prep" : kind == 1 ? ".oci-prep/state.json" : "rootfs");
  struct stat st, parent;
  bool reached = false;

  if (kind <= 1)
    reached = stat (p, &st) == 0;
  else if (kind == 2)
    reached = count_entries ("bundles") > 0;
  else
    reached = stat (p, &st) == 0 && stat (bundle, &parent) == 0 && st.st_dev != parent.st_dev;
  free (p);
  return reached;
}

/* A bundle killed at any point (before its state, during the extraction, between its
   pin and its mount, after the mount...) leaves a directory that "rm" names as
   unfinished, and that "rm --force" and "bundle --force" both clean up: nothing
   mounted or pinned after, fsck clean.  Kill points: as soon as an event is seen, and
   after random delays.  */
Test (store, killed_bundle_is_removed_by_rm_force_and_replaced_by_bundle_force, .timeout = 300)
{
  char *img;
  int trial, unfinished = 0, mounted = 0, stateless = 0;

  need_root ();
  img = slow_image ();
  fx_mkdir_p (store);
  FX_CHECK (mount ("tmpfs", store, "tmpfs", 0, "size=256m,mode=0700") == 0);
  srand (7);
  for (trial = 0; trial < 15; trial++)
    {
      char *killed = tu_fmt ("%s/k%d", tmp, trial), *state = tu_fmt ("%s/.oci-prep/state.json", killed), *text;
      int kind = trial % 5;
      useconds_t delay = (useconds_t) (rand () % 250001);
      struct tu_result r;
      pid_t pid;
      int status;

      pid = start_bundle (img, killed);
      if (kind == 4)
        usleep (delay);
      else
        while (! kill_point (kind, killed) && waitpid (pid, &status, WNOHANG) == 0)
          ;
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      if (access (killed, F_OK) != 0)
        {
          free (state);
          free (killed);
          continue; /* killed before it made anything */
        }
      text = access (state, F_OK) == 0 ? fx_read_file (state, NULL) : NULL;
      if (text == NULL || strstr (text, "\"complete\": false"))
        {
          size_t mounts = tu_mount_points_under (killed, NULL);
          unfinished++;
          mounted += mounts > 0;
          stateless += text == NULL;
          cr_log_info ("trial %d (kill point %d, %u us): unfinished, %s state, %zu mounts", trial, kind,
                       kind == 4 ? delay : 0, text ? "with" : "without", mounts);
          PREP (&r, "rm", killed);
          cr_assert_eq (r.status, 1, "trial %d: rm of an unfinished bundle: %s", trial, r.err);
          cr_assert (strstr (r.err, "did not finish") && strstr (r.err, "--force"), "trial %d: %s", trial, r.err);
          tu_result_free (&r);
        }
      if (trial % 2 == 0)
        {
          PREP (&r, "rm", "--force", killed);
          cr_assert_eq (r.status, 0, "trial %d (kill point %d): rm --force: %s", trial, kind, r.err);
          tu_result_free (&r);
        }
      else
        {
          PREP (&r, "bundle", "--force", img, killed);
          cr_assert_eq (r.status, 0, "trial %d (kill point %d): bundle --force: %s", trial, kind, r.err);
          tu_result_free (&r);
          free (PREP_OK ("rm", killed));
        }
      cr_assert (access (killed, F_OK) != 0, "trial %d: %s is still there", trial, killed);
      cr_assert_eq (tu_mount_points_under (tmp, NULL), 1, "trial %d: something besides the store stayed mounted",
                    trial);
      cr_assert_eq (count_entries ("bundles"), 0, "trial %d: a pin stayed", trial);
      {
        char *out = PREP_OK ("store", "fsck");
        cr_assert (strstr (out, " 0 problems"), "trial %d: fsck: %s", trial, out);
        free (out);
      }
      free (PREP_OK ("store", "gc"));
      free (text);
      free (state);
      free (killed);
    }
  cr_log_info ("kill -9: %d of 15 bundles left unfinished, %d of them mounted, %d without a state", unfinished,
               mounted, stateless);
  cr_assert_gt (unfinished, 5, "too few bundles were killed midway: the test proves little");
  free (img);
}

/* rm against a gc loop: gc decides whether a pinned rootfs is still mounted from the
   mount table, never by a lookup that crosses into the mount, so it never holds a
   reference while rm unmounts (that made rm fail with EBUSY, about 1 in 3000 before).
   The loop reads the pins in-process, without the cost of a command per round, so the
   old race had many chances per rm.  Bounded: 400 rounds or 20 s.  */
Test (store, rm_never_fails_while_gc_runs, .timeout = 300)
{
  struct fx_layer layers[2] = { { .compression = "none" }, { .compression = "none" } };
  void *t1, *t2;
  size_t l1, l2;
  char *img, *b = tu_fmt ("%s/b", tmp);
  int round, failures = 0;
  time_t start = time (NULL);
  pid_t gc;

  need_root ();
  text_tar ("etc/base", "base\n", &t1, &l1);
  text_tar ("etc/top", "top\n", &t2, &l2);
  layers[0].tar = t1;
  layers[0].tar_len = l1;
  layers[1].tar = t2;
  layers[1].tar_len = l2;
  img = add_image ("tiny", layers, 2, NULL, NULL);
  free (t1);
  free (t2);
  free (PREP_OK ("load", img));

  gc = fork ();
  FX_CHECK (gc >= 0);
  if (gc == 0)
    {
      struct ocip_gc_options opts = { .have_older_than = true, .older_than = 3600 };
      unsigned long i;

      for (i = 0;; i++)
        {
          struct ocip_store *s = NULL;
          ocip_error_t err = NULL;

          if (ocip_store_open (store, &s, &err) < 0)
            _exit (3);
          if (i % 8 == 0)
            {
              struct ocip_gc_report *report = NULL;
              if (ocip_gc_run (s, &opts, &report, &err) == 0)
                ocip_gc_report_free (report);
            }
          else
            {
              struct ocip_gc_inventory *inv = NULL;
              if (ocip_gc_inventory (s, &inv, &err) == 0)
                ocip_gc_inventory_free (inv);
            }
          ocip_error_release (&err);
          ocip_store_free (s);
        }
    }
  /* 20 s of rounds, but at least 60 however slow the machine (a sanitized build beside
     three other lanes on two cores managed 40 in 20 s), within the timeout.  */
  for (round = 0; round < 400 && (time (NULL) - start < 20 || (round < 60 && time (NULL) - start < 240)); round++)
    {
      struct tu_result r;

      PREP (&r, "bundle", img, b);
      cr_assert_eq (r.status, 0, "round %d: bundle: %s", round, r.err);
      tu_result_free (&r);
      PREP (&r, "rm", b);
      if (r.status != 0)
        {
          failures++;
          cr_log_error ("round %d: rm: %s", round, r.err);
          tu_result_free (&r);
          free (PREP_OK ("rm", "--force", b));
          continue;
        }
      tu_result_free (&r);
    }
  kill (gc, SIGKILL);
  FX_CHECK (waitpid (gc, NULL, 0) == gc);
  cr_log_info ("rm against a gc loop: %d rounds, %d failures", round, failures);
  cr_assert_eq (failures, 0, "rm failed %d times in %d rounds while gc ran", failures, round);
  cr_assert_gt (round, 50, "too few rounds to say anything");
  cr_assert_eq (tu_mount_points_under (tmp, NULL), 0);
  free (img);
  free (b);
}

/* The same race, made frequent: while a loop of gc's pin checks runs, the pinned rootfs
   gets a tmpfs mounted over it and unmounted (without MNT_DETACH) 20 000 times.  Any
   lookup of the rootfs by gc would hold that mount at some umount2 and make it EBUSY;
   gc reads the mount table instead, so none is.  */
Test (store, gc_never_holds_a_pinned_rootfs_mount, .timeout = 120)
{
  struct fx_layer layers[1] = { { .compression = "none" } };
  char *img, *b = tu_fmt ("%s/b", tmp), *rootfs = tu_fmt ("%s/b/rootfs", tmp);
  int i, busy = 0, n = 20000;
  pid_t gc;
  void *t;
  size_t l;

  need_root ();
  text_tar ("etc/base", "base\n", &t, &l);
  layers[0].tar = t;
  layers[0].tar_len = l;
  img = add_image ("tiny", layers, 1, NULL, NULL);
  free (t);
  free (PREP_OK ("bundle", img, b));

  gc = fork ();
  FX_CHECK (gc >= 0);
  if (gc == 0)
    for (;;)
      {
        struct ocip_store *s = NULL;
        struct ocip_gc_inventory *inv = NULL;
        ocip_error_t err = NULL;

        if (ocip_store_open (store, &s, &err) < 0)
          _exit (3);
        if (ocip_gc_inventory (s, &inv, &err) == 0)
          ocip_gc_inventory_free (inv);
        ocip_error_release (&err);
        ocip_store_free (s);
      }
  for (i = 0; i < n; i++)
    {
      FX_CHECK (mount ("tmpfs", rootfs, "tmpfs", 0, "size=64k") == 0);
      if (umount2 (rootfs, UMOUNT_NOFOLLOW) < 0)
        {
          FX_CHECK (errno == EBUSY);
          busy++;
          FX_CHECK (umount2 (rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) == 0);
        }
    }
  kill (gc, SIGKILL);
  FX_CHECK (waitpid (gc, NULL, 0) == gc);
  cr_log_info ("umount2 under a gc loop: %d of %d EBUSY", busy, n);
  cr_assert_eq (busy, 0, "gc held the pinned rootfs mount at %d of %d unmounts", busy, n);
  free (PREP_OK ("rm", b));
  free (rootfs);
  free (img);
  free (b);
}

/* A new store records that its layers keep overlayfs' metadata in trusted.* (root) or
   user.* (anyone else); a store of the other kind is refused with a clear error, before
   anything is written.  */
Test (store, root_and_user_stores_never_mix)
{
  struct ocip_store *s = NULL;
  ocip_error_t err = NULL;
  char *file = tu_fmt ("%s/overlay-xattrs", store), *text;
  pid_t pid;
  int status;

  need_root ();
  cr_assert_eq (ocip_store_open (store, &s, &err), 0, "%s", err ? err->msg : "");
  ocip_store_free (s);
  text = fx_read_file (file, NULL);
  cr_assert_str_eq (text, "trusted\n");
  free (text);

  /* A user (here: root of a new user namespace) pointing --store at root's store.  */
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      if (unshare (CLONE_NEWUSER) < 0)
        _exit (2);
      _exit (ocip_store_open (store, &s, &err) == -EPERM && strstr (err->msg, "made by root") ? 0 : 1);
    }
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "a user's process must be refused root's store");

  /* And root pointed at a user's store.  */
  fx_write_file (file, "user\n", 5);
  cr_assert_eq (ocip_store_open (store, &s, &err), -EPERM);
  cr_assert (strstr (err->msg, "not root"), "%s", err->msg);
  ocip_error_release (&err);

  /* A store from before the record, with layers, was made by root.  */
  cr_assert_eq (unlink (file), 0);
  text = tu_fmt ("%s/layers/sha256-00", store);
  fx_mkdir_p (text);
  free (text);
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    _exit (unshare (CLONE_NEWUSER) == 0 && ocip_store_open (store, &s, &err) == -EPERM ? 0 : 1);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "a store without the record but with layers is root's");
  cr_assert_eq (ocip_store_open (store, &s, &err), 0, "%s", err ? err->msg : "");
  ocip_store_free (s);
  text = fx_read_file (file, NULL);
  cr_assert_str_eq (text, "trusted\n");
  free (text);
  free (file);
}
