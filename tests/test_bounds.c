/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every input an image controls, at its limit, costs seconds at most: a time bound, not a benchmark. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <oci-prep/limits.h>

#include "fixture.h"
#include "testutil.h"

/* Each case builds one image whose one hostile input sits at the limit oci-prep
   enforces for it (or, where that limit is a size the disk makes slow by nature, at a
   size whose cost per unit shows any superlinear step), then times the commands that
   consume it.  The work happens on a tmpfs: what is bounded is oci-prep's own
   algorithmic cost, not this disk's.  The bound is on CPU time (user + system of the
   command and its children), which the other suites running beside this one on the
   same two cores do not inflate; wall time is printed too.  A quadratic step anywhere
   (a linear scan per insert, a hole read back byte by byte) turns one of these into
   minutes, far past the bound; the bound itself is loose because it is a guard against
   that, not a performance target (those live in perf/).  */
#define CPU_BOUND_SECONDS 4.0

static char *tmp, *layout, *store;

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
  cr_assert_eq (mount ("bounds", tmp, "tmpfs", 0, "mode=0700,size=8g"), 0, "mount tmpfs on %s: %m", tmp);
}

static void
teardown (void)
{
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (bounds, .init = setup, .fini = teardown, .timeout = 600);

struct timing
{
  double cpu, wall;
};

static double
children_cpu (void)
{
  struct rusage ru;

  cr_assert_eq (getrusage (RUSAGE_CHILDREN, &ru), 0);
  return (double) ru.ru_utime.tv_sec + (double) ru.ru_stime.tv_sec
         + ((double) ru.ru_utime.tv_usec + (double) ru.ru_stime.tv_usec) / 1e6;
}

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double slowest_cpu;
static char slowest_name[128];

/* Run "oci-prep --store STORE ARGS..." and require EXPECTED_STATUS (and, when not NULL,
   an error line holding EXPECTED_ERROR); print and bound its cost under NAME.  */
static double
timed (const char *name, int expected_status, const char *expected_error, const char *const *args)
{
  struct tu_result r;
  double cpu0 = children_cpu (), wall0 = now ();
  double cpu, wall;

  tu_prep_store (&r, store, args);
  cpu = children_cpu () - cpu0;
  wall = now () - wall0;
  cr_log_info ("bounds: %-34s cpu %6.2f s  wall %6.2f s", name, cpu, wall);
  fprintf (stderr, "bounds: %-34s cpu %6.2f s  wall %6.2f s\n", name, cpu, wall);
  cr_assert_eq (r.status, expected_status, "%s: exit %d (expected %d): %s", name, r.status, expected_status,
                r.err);
  if (expected_error)
    tu_assert_error (&r, expected_error);
  if (cpu > slowest_cpu)
    {
      slowest_cpu = cpu;
      snprintf (slowest_name, sizeof slowest_name, "%s", name);
    }
  tu_result_free (&r);
  return cpu;
}

/* The same, for an input at its limit: at most CPU_BOUND_SECONDS.  */
static void
bounded (const char *name, int expected_status, const char *expected_error, const char *const *args)
{
  double cpu = timed (name, expected_status, expected_error, args);

  cr_expect (cpu < CPU_BOUND_SECONDS, "%s: %.2f s of CPU, over the %.1f s bound", name, cpu, CPU_BOUND_SECONDS);
}
#define TIMED(name, status, ...) bounded ((name), (status), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define TIMED_ERROR(name, needle, ...) bounded ((name), 1, (needle), (const char *const[]){ __VA_ARGS__, NULL })

static void
print_slowest (const char *suite)
{
  fprintf (stderr, "bounds: %s: slowest: %s (%.2f s of CPU)\n", suite, slowest_name, slowest_cpu);
}

/* A growing string.  */
struct text
{
  char *s;
  size_t len, cap;
};

static void
text_add (struct text *t, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
text_add (struct text *t, const char *fmt, ...)
{
  va_list ap;
  int n;

  for (;;)
    {
      size_t room = t->cap - t->len;

      va_start (ap, fmt);
      n = vsnprintf (t->s ? t->s + t->len : NULL, room, fmt, ap);
      va_end (ap);
      cr_assert (n >= 0);
      if ((size_t) n < room)
        break;
      t->cap = t->cap ? t->cap * 2 : 65536;
      while (t->cap - t->len <= (size_t) n)
        t->cap *= 2;
      t->s = realloc (t->s, t->cap);
      cr_assert_not_null (t->s);
    }
  t->len += (size_t) n;
}

/* Write LAYERS (uncompressed, N of them, bottom first) with CONFIG and CONFIG_EXTRA as the
   only image of the layout, ref "latest".  */
static void
write_image (const struct fx_layer *layers, size_t n, const char *config, const char *config_extra)
{
  struct fx_image img = { .dir = layout, .layers = layers, .n_layers = n, .config = config,
                          .config_extra = config_extra };
  struct fx_index_entry e = { .ref = "latest" };

  fx_layout_init (layout);
  fx_image_write (&img, &e.desc);
  fx_index_write (layout, &e, 1);
}

static void
write_one_layer (struct fx_tar *t, const char *config)
{
  struct fx_layer l = { .compression = "none" };
  void *tar;

  fx_tar_finish (t, &tar, &l.tar_len);
  l.tar = tar;
  write_image (&l, 1, config, NULL);
  free (tar);
}

/* load, bundle (overlay), rm, bundle --flat, rm of the layout's image, each timed;
   RET_CPU gets the CPU time of each of the five, in that order.  */
#define N_LAYER_COMMANDS 5
static void
time_layer_commands (const char *what, double ret_cpu[N_LAYER_COMMANDS])
{
  char *image = tu_fmt ("%s:latest", layout);
  char *bundle = tu_fmt ("%s/bundle", tmp);
  char *flat = tu_fmt ("%s/flat", tmp);
  const char *const steps[N_LAYER_COMMANDS][6] = {
    { "load", "load", image, NULL },
    { "bundle", "bundle", image, bundle, NULL },
    { "rm", "rm", bundle, NULL },
    { "bundle --flat", "bundle", "--flat", image, flat },
    { "rm flat", "rm", flat, NULL },
  };

  for (int i = 0; i < N_LAYER_COMMANDS; i++)
    {
      char *name = tu_fmt ("%s: %s", what, steps[i][0]);
      ret_cpu[i] = timed (name, 0, NULL, steps[i] + 1);
      free (name);
    }
  free (image);
  free (bundle);
  free (flat);
}

/* The same for an input at its limit: each command at most CPU_BOUND_SECONDS.  */
static void
bounded_layer_commands (const char *what)
{
  double cpu[N_LAYER_COMMANDS];

  time_layer_commands (what, cpu);
  for (int i = 0; i < N_LAYER_COMMANDS; i++)
    cr_expect (cpu[i] < CPU_BOUND_SECONDS, "%s: command %d: %.2f s of CPU, over the %.1f s bound", what, i, cpu[i],
               CPU_BOUND_SECONDS);
}

/* ---- layer contents ---- */

/* Inputs whose limit is a count of entries, each an inode the disk must create
   (OCIP_LIMIT_LAYER_ENTRIES is ten million: no disk makes that "a few seconds", and a
   real layer that large costs as much with any tool).  What must hold is that each
   entry costs the same however many there are: the commands run at MANY and at
   4 * MANY, and four times the entries may cost at most SCALE_BOUND times the CPU
   (linear work gives about 4, noise on a busy machine up to 7; a scan per entry 16).  */
#define MANY 10000
#define SCALE_BOUND 10.0
#define CMD "{\"Cmd\":[\"/bin/true\"]}"

/* Build the layers of one scaled case with N entries into the layout.  */
typedef void (*scaled_builder) (int n);

static void
scaled (const char *what, scaled_builder build)
{
  double cpu[2][N_LAYER_COMMANDS];

  for (int i = 0; i < 2; i++)
    {
      int n = i ? 4 * MANY : MANY;
      char *name = tu_fmt ("%d %s", n, what);

      fx_rm_rf (layout);
      fx_rm_rf (store);
      build (n);
      time_layer_commands (name, cpu[i]);
      free (name);
    }
  for (int c = 0; c < N_LAYER_COMMANDS; c++)
    {
      /* Commands that take milliseconds at either size say nothing about growth.  */
      double base = cpu[0][c] > 0.05 ? cpu[0][c] : 0.05;

      fprintf (stderr, "bounds: %s: command %d: 4x the entries, %.1fx the CPU\n", what, c, cpu[1][c] / base);
      cr_expect (cpu[1][c] <= SCALE_BOUND * base, "%s: command %d: %.2f s for %d entries, %.2f s for %d",
                 what, c, cpu[0][c], MANY, cpu[1][c], 4 * MANY);
    }
}

static void
finish_one_layer (struct fx_tar *t)
{
  write_one_layer (t, CMD);
}

static void
build_files (int n)
{
  struct fx_tar *t = fx_tar_new ();

  for (int d = 0; d < n / 1000; d++)
    {
      char dir[32];

      snprintf (dir, sizeof dir, "d%d", d);
      fx_tar_dir (t, dir, 0755);
      for (int f = 0; f < 1000; f++)
        {
          char path[64];

          snprintf (path, sizeof path, "d%d/f%d", d, f);
          fx_tar_file (t, path, 0644, "");
        }
    }
  finish_one_layer (t);
}

Test (bounds, files_in_one_layer)
{
  scaled ("files, 1 000 a directory", build_files);
  print_slowest ("files");
}

/* Every file implies its own directory: MANY implied directories to create, record
   and repair.  */
static void
build_implied (int n)
{
  struct fx_tar *t = fx_tar_new ();

  for (int i = 0; i < n; i++)
    {
      char path[64];

      snprintf (path, sizeof path, "i%d/f", i);
      fx_tar_file (t, path, 0644, "");
    }
  finish_one_layer (t);
}

Test (bounds, implied_directories)
{
  scaled ("implied directories", build_implied);
  print_slowest ("implied directories");
}

/* Two layers implying the same N directories: the repair looks each of the upper
   layer's up in the lower layer's list.  */
static void
build_implied_twice (int n)
{
  struct fx_tar *lower = fx_tar_new (), *upper = fx_tar_new ();
  struct fx_layer l[2] = { { .compression = "none" }, { .compression = "none" } };
  void *tars[2];

  for (int i = 0; i < n; i++)
    {
      char path[64];

      snprintf (path, sizeof path, "i%d/lower", i);
      fx_tar_file (lower, path, 0644, "");
      snprintf (path, sizeof path, "i%d/upper", i);
      fx_tar_file (upper, path, 0644, "");
    }
  fx_tar_finish (lower, &tars[0], &l[0].tar_len);
  fx_tar_finish (upper, &tars[1], &l[1].tar_len);
  l[0].tar = tars[0];
  l[1].tar = tars[1];
  write_image (l, 2, CMD, NULL);
  free (tars[0]);
  free (tars[1]);
}

Test (bounds, implied_directories_over_implied_ones)
{
  scaled ("implied directories in two layers", build_implied_twice);
  print_slowest ("implied directories in two layers");
}

static void
build_hardlinks (int n)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "target", 0644, "shared\n");
  for (int d = 0; d < 100; d++)
    {
      char dir[32];

      snprintf (dir, sizeof dir, "h%d", d);
      fx_tar_dir (t, dir, 0755);
    }
  for (int i = 0; i < n; i++)
    {
      char path[64];

      snprintf (path, sizeof path, "h%d/link%d", i % 100, i);
      fx_tar_hardlink (t, path, "target");
    }
  finish_one_layer (t);
}

Test (bounds, hardlinks)
{
  scaled ("hardlinks to one file", build_hardlinks);
  print_slowest ("hardlinks");
}

/* A lower layer of N files and an upper one whiting out each of them.  */
static void
build_whiteouts (int n)
{
  struct fx_tar *lower = fx_tar_new (), *upper = fx_tar_new ();
  struct fx_layer l[2] = { { .compression = "none" }, { .compression = "none" } };
  void *tars[2];

  for (int d = 0; d < n / 1000; d++)
    {
      char dir[32];

      snprintf (dir, sizeof dir, "w%d", d);
      fx_tar_dir (lower, dir, 0755);
      fx_tar_dir (upper, dir, 0755);
      for (int f = 0; f < 1000; f++)
        {
          char path[64];

          snprintf (path, sizeof path, "w%d/f%d", d, f);
          fx_tar_file (lower, path, 0644, "");
          fx_tar_whiteout (upper, path);
        }
    }
  fx_tar_finish (lower, &tars[0], &l[0].tar_len);
  fx_tar_finish (upper, &tars[1], &l[1].tar_len);
  l[0].tar = tars[0];
  l[1].tar = tars[1];
  write_image (l, 2, CMD, NULL);
  free (tars[0]);
  free (tars[1]);
}

Test (bounds, whiteouts)
{
  scaled ("whiteouts over as many files", build_whiteouts);
  print_slowest ("whiteouts");
}

Test (bounds, deepest_path)
{
  struct fx_tar *t = fx_tar_new ();
  struct text path = { 0 };

  /* As deep as the path limit allows: every component one letter.  */
  while (path.len + 4 < OCIP_LIMIT_PATH_LENGTH - 2)
    text_add (&path, "a/");
  text_add (&path, "f");
  fx_tar_file (t, path.s, 0644, "deep\n");
  write_one_layer (t, CMD);
  bounded_layer_commands ("path of 2 046 levels");
  print_slowest ("deepest path");
  free (path.s);
}

/* The same path in two layers, each implying its 2 046 ancestors: the bundle's repair
   looks each of the upper layer's up in the lower layer.  */
Test (bounds, deepest_path_in_two_layers)
{
  struct fx_tar *t[2] = { fx_tar_new (), fx_tar_new () };
  struct fx_layer l[2] = { { .compression = "none" }, { .compression = "none" } };
  struct text path = { 0 };
  void *tars[2];

  while (path.len + 4 < OCIP_LIMIT_PATH_LENGTH - 2)
    text_add (&path, "a/");
  text_add (&path, "f");
  for (int i = 0; i < 2; i++)
    {
      fx_tar_file (t[i], path.s, 0644, i ? "upper\n" : "lower\n");
      fx_tar_finish (t[i], &tars[i], &l[i].tar_len);
      l[i].tar = tars[i];
    }
  write_image (l, 2, CMD, NULL);
  free (tars[0]);
  free (tars[1]);
  bounded_layer_commands ("path of 2 046 levels, two layers");
  print_slowest ("deepest path in two layers");
  free (path.s);
}

Test (bounds, xattrs)
{
  struct fx_tar *t = fx_tar_new ();
  static char value[OCIP_LIMIT_XATTR_VALUE];

  /* Values at the size limit on many files: tmpfs keeps user xattrs up to its own
     per-inode budget, so each file carries one.  */
  memset (value, 'x', sizeof value);
  for (int i = 0; i < 2000; i++)
    {
      char path[64], name[OCIP_LIMIT_XATTR_NAME + 1];

      snprintf (path, sizeof path, "x%d", i);
      memset (name, 'n', OCIP_LIMIT_XATTR_NAME);
      memcpy (name, "user.", 5);
      name[OCIP_LIMIT_XATTR_NAME] = '\0';
      fx_tar_xattr_file (t, path, name, value, i % 2 ? sizeof value : 4096);
    }
  write_one_layer (t, CMD);
  bounded_layer_commands ("2 000 files with big xattrs");
  print_slowest ("xattrs");
}

Test (bounds, many_layers)
{
  size_t n = OCIP_LIMIT_LAYERS;
  struct fx_layer *l = calloc (n, sizeof *l);
  void **tars = calloc (n, sizeof *tars);
  char *image = tu_fmt ("%s:latest", layout);
  char *bundle = tu_fmt ("%s/bundle", tmp);

  cr_assert (l && tars);
  for (size_t i = 0; i < n; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      char path[64];

      snprintf (path, sizeof path, "layer%zu", i);
      fx_tar_file (t, path, 0644, path);
      fx_tar_finish (t, &tars[i], &l[i].tar_len);
      l[i].tar = tars[i];
      l[i].compression = "none";
    }
  write_image (l, n, CMD, NULL);
  for (size_t i = 0; i < n; i++)
    free (tars[i]);
  free (tars);
  free (l);
  TIMED ("4 096 layers: inspect", 0, "inspect", image);
  TIMED ("4 096 layers: load", 0, "load", image);
  /* More layers than overlayfs stacks (500) is an error, found before any mount; the
     flat copy takes them all.  */
  TIMED ("4 096 layers: bundle --flat", 0, "bundle", "--flat", image, bundle);
  TIMED ("4 096 layers: rm", 0, "rm", bundle);
  print_slowest ("layers");
  free (image);
  free (bundle);
}

/* ---- config and index inputs ---- */

/* The config document at its size limit, filled by one member KEY: an array (OPEN '[')
   or an object (OPEN '{') of as many entries PREFIX<n>SUFFIX as fit.  */
static void
config_filled_with (const char *key, char open, const char *prefix, const char *suffix)
{
  struct text c = { 0 };
  char *image = tu_fmt ("%s:latest", layout);
  char *name = tu_fmt ("%s at the document limit: config", key);
  struct fx_tar *t = fx_tar_new ();

  text_add (&c, "{\"Cmd\":[\"/bin/true\"],\"%s\":%c", key, open);
  for (int i = 0; c.len < OCIP_LIMIT_JSON_DOCUMENT_SIZE - 4096; i++)
    {
      /* In an array, one in eight repeats an earlier entry: a duplicate check that scans
         is quadratic.  (A JSON object cannot repeat a key.)  */
      int k = open == '[' && i % 8 == 7 ? i / 2 : i;

      if (i)
        text_add (&c, ",");
      text_add (&c, "%s%d%s", prefix, k, suffix);
    }
  text_add (&c, "%c}", open == '[' ? ']' : '}');
  fx_tar_dir (t, "etc", 0755);
  write_one_layer (t, c.s);
  TIMED (name, 0, "config", image);
  free (name);
  free (image);
  free (c.s);
}

Test (bounds, env)
{
  config_filled_with ("Env", '[', "\"K", "=v\"");
  print_slowest ("env");
}

Test (bounds, labels)
{
  config_filled_with ("Labels", '{', "\"k", "\":\"v\"");
  print_slowest ("labels");
}

/* Labels a runtime acts on are dropped, each named in one warning line.  */
Test (bounds, dropped_labels)
{
  config_filled_with ("Labels", '{', "\"run.oci.k", "\":\"v\"");
  print_slowest ("dropped labels");
}

Test (bounds, volumes)
{
  config_filled_with ("Volumes", '{', "\"/v", "\":{}");
  print_slowest ("volumes");
}

Test (bounds, exposed_ports)
{
  config_filled_with ("ExposedPorts", '{', "\"", "/tcp\":{}");
  print_slowest ("exposed ports");
}

Test (bounds, command_arguments)
{
  config_filled_with ("Entrypoint", '[', "\"a", "\"");
  print_slowest ("command arguments");
}

Test (bounds, group_memberships)
{
  char *rootfs = tu_fmt ("%s/rootfs", tmp);
  char *etc = tu_fmt ("%s/etc", rootfs);
  char *file = tu_fmt ("%s/group", etc);
  char *passwd = tu_fmt ("%s/passwd", etc);
  char *image = tu_fmt ("%s:latest", layout);
  struct text g = { 0 };
  struct fx_tar *t = fx_tar_new ();
  int i;

  /* /etc/group at its size limit, every line naming the user: far more memberships
     than NGROUPS_MAX, many of them the same gid twice.  */
  for (i = 0; g.len < OCIP_LIMIT_ROOTFS_FILE_SIZE - 64; i++)
    text_add (&g, "g%d:x:%d:u\n", i, i % 2 ? i : i / 2);
  fx_mkdir_p (etc);
  fx_write_file (file, g.s, g.len);
  fx_write_file (passwd, "u:x:1000:1000::/:/bin/sh\n", 25);
  fx_tar_dir (t, "etc", 0755);
  write_one_layer (t, "{\"User\":\"u\",\"Cmd\":[\"/bin/true\"]}");
  /* Over NGROUPS_MAX memberships is refused: the bound is on reaching that verdict.  */
  TIMED_ERROR ("/etc/group at its size limit: config", "groups, over the limit", "config", "--rootfs", rootfs, image);
  print_slowest ("groups");
  free (g.s);
  free (rootfs);
  free (etc);
  free (file);
  free (passwd);
  free (image);
}

Test (bounds, index_entries)
{
  struct fx_index_entry *e;
  struct fx_desc m;
  size_t n = 0, cap = OCIP_LIMIT_INDEX_ENTRIES;
  size_t bytes = 0;
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer l = { .compression = "none" };
  struct fx_image img = { .layers = &l, .n_layers = 1 };
  char *image;
  void *tar;

  fx_layout_init (layout);
  img.dir = layout;
  fx_tar_dir (t, "etc", 0755);
  fx_tar_finish (t, &tar, &l.tar_len);
  l.tar = tar;
  fx_image_write (&img, &m);
  free (tar);
  e = calloc (cap, sizeof *e);
  cr_assert_not_null (e);
  /* As many refs as index.json holds within the document size limit (each descriptor
     is some 200 bytes, so the document limit comes before the entry limit).  */
  while (n < cap && bytes < OCIP_LIMIT_JSON_DOCUMENT_SIZE - 16384)
    {
      char *ref = tu_fmt ("ref-%zu", n);

      e[n].desc = m;
      e[n].ref = ref;
      bytes += 190 + strlen (ref) + strlen (m.digest);
      n++;
    }
  fx_index_write (layout, e, n);
  image = tu_fmt ("%s:ref-%zu", layout, n - 1);
  TIMED ("index at the document limit: inspect", 0, "inspect", image);
  TIMED ("index at the document limit: verify", 0, "verify", layout);
  for (size_t i = 0; i < n; i++)
    free ((char *) e[i].ref);
  free (e);
  free (image);
  print_slowest ("index entries");
}

Test (bounds, index_depth)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer l = { .compression = "none" };
  struct fx_image img = { .layers = &l, .n_layers = 1 };
  struct fx_index_entry e = { 0 };
  char *image = tu_fmt ("%s:latest", layout);
  void *tar;

  fx_layout_init (layout);
  img.dir = layout;
  fx_tar_dir (t, "etc", 0755);
  fx_tar_finish (t, &tar, &l.tar_len);
  l.tar = tar;
  fx_image_write (&img, &e.desc);
  free (tar);
  e.os = fx_host_os ();
  e.arch = fx_host_arch ();
  /* OCIP_LIMIT_INDEX_DEPTH indexes, each naming the one below it: the deepest chain
     that resolves.  */
  for (int d = 0; d < OCIP_LIMIT_INDEX_DEPTH - 1; d++)
    {
      struct fx_index_entry up = { .os = NULL };

      fx_index_blob (layout, "sha256", &e, 1, &up.desc);
      e = up;
    }
  e.ref = "latest";
  fx_index_write (layout, &e, 1);
  TIMED ("indexes nested to the depth limit: inspect", 0, "inspect", image);
  TIMED ("indexes nested to the depth limit: verify", 0, "verify", layout);
  print_slowest ("index depth");
  free (image);
}

/* The hook merges the engine's config with the image's: an engine such as podman copies
   the image's Env into the config it proposes, so both sides hold every entry.  Env and
   Labels share the image config's size limit; the engine's config has its own.  */
Test (bounds, hook_merge)
{
  struct text image_config = { 0 }, engine = { 0 };
  struct fx_tar *t = fx_tar_new ();
  char *bundle = tu_fmt ("%s/engine-bundle", tmp);
  char *proposed = tu_fmt ("%s/proposed.json", bundle);
  const int n_env = 150000, n_labels = 60000;
  struct tu_result r;
  double cpu0, cpu;

  text_add (&image_config, "{\"Cmd\":[\"/bin/true\"],\"Env\":[");
  for (int i = 0; i < n_env; i++)
    text_add (&image_config, "%s\"E%d=v\"", i ? "," : "", i);
  text_add (&image_config, "],\"Labels\":{");
  for (int i = 0; i < n_labels; i++)
    text_add (&image_config, "%s\"l%d\":\"v\"", i ? "," : "", i);
  text_add (&image_config, "}}");
  cr_assert_lt (image_config.len, OCIP_LIMIT_JSON_DOCUMENT_SIZE);
  fx_tar_dir (t, "etc", 0755);
  write_one_layer (t, image_config.s);

  text_add (&engine, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                     "\"process\":{\"args\":[],\"cwd\":\"/\",\"env\":[");
  for (int i = 0; i < n_env; i++)
    text_add (&engine, "%s\"E%d=v\"", i ? "," : "", i);
  text_add (&engine, "]},\"annotations\":{\"io.oci-prep.image\":\"%s:latest\"", layout);
  for (int i = 0; i < n_labels; i++)
    text_add (&engine, ",\"a%d\":\"v\"", i);
  text_add (&engine, "}}");
  fx_mkdir_p (bundle);
  fx_write_file (proposed, engine.s, engine.len);

  cpu0 = children_cpu ();
  tu_sh (&r, "cd '%s' && exec '%s' --store '%s' hook precreate < proposed.json > config.json", bundle, OCIP_BINARY,
         store);
  cpu = children_cpu () - cpu0;
  fprintf (stderr, "bounds: %-34s cpu %6.2f s\n", "hook precreate, Env and Labels at the limit", cpu);
  cr_assert_eq (r.status, 0, "hook precreate: %s", r.err);
  cr_expect (cpu < CPU_BOUND_SECONDS, "hook precreate: %.2f s of CPU, over the %.1f s bound", cpu,
             CPU_BOUND_SECONDS);
  tu_result_free (&r);
  free (image_config.s);
  free (engine.s);
  free (bundle);
  free (proposed);
}
