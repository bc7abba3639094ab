/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Conformance with umoci: umoci unpack and oci-prep bundle (flat, overlay) give the same rootfs and config. */
#include "config.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive_entry.h>
#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include "fixture.h"
#include "testutil.h"

static char *tmp, *layout, *store;

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
}

/* Detach what a failed test left mounted, so removing TMP never reaches the store.  */
static void
teardown (void)
{
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (umoci, .init = setup, .fini = teardown, .timeout = 120);

/* ---- images ---- */

static const char *const applets[] = { "sh", "id", "cat", "ls", "env", "pwd", "stat", "grep", "test", "echo", NULL };

/* Layer 1 of the busybox image: busybox, passwd/group, home/alice, a file to white out
   and a directory to make opaque (layer 2 is tu_whiteout_layer), work/.  */
static void
busybox_base (void **tar, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();

  tu_tar_busybox (t, applets);
  tu_tar_users (t,
                "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                "2000:x:3000:3000:named 2000:/home/n:/bin/sh\n",
                "root:x:0:\nalice:x:1000:\nstaff:x:50:alice\nwheel:x:10:alice\ngrp:x:60:\n");
  tu_tar_whiteout_targets (t);
  fx_tar_dir (t, "work", 0755);
  fx_tar_finish (t, tar, len);
}

/* A file entry with every attribute chosen.  */
static void
file_entry (struct fx_tar *t, const char *path, unsigned mode, long long uid, long long gid, long long mtime,
            const char *content)
{
  fx_tar_file_ex (t, path, mode, uid, gid, mtime, content, strlen (content));
}

static void
dir_entry (struct fx_tar *t, const char *path, unsigned mode, long long uid, long long gid, long long mtime)
{
  struct archive_entry *e = fx_entry_new (path, AE_IFDIR, mode);

  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  archive_entry_set_mtime (e, (time_t) mtime, 0);
  fx_tar_raw (t, e, NULL, 0);
  archive_entry_free (e);
}

/* 255 bytes: the longest name a Linux filesystem takes.  */
static char *
long_name (char c, size_t n)
{
  char *s = malloc (n + 1);

  FX_CHECK (s != NULL);
  memset (s, c, n);
  s[n] = '\0';
  return s;
}

/* Layer 1 of the special-files image.  */
static void
special_base (void **tar, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();
  char *n255 = long_name ('n', 255), *d200 = long_name ('d', 200), *p;

  dir_entry (t, "d", 0755, 0, 0, FX_MTIME + 10);
  file_entry (t, "d/a", 0644, 0, 0, FX_MTIME + 11, "hardlinked\n");
  fx_tar_hardlink (t, "d/a-link", "d/a");
  fx_tar_hardlink (t, "d/a-link2", "d/a");
  file_entry (t, "d/b", 0644, 0, 0, FX_MTIME + 12, "b, linked, then replaced above\n");
  fx_tar_hardlink (t, "d/b-link", "d/b");
  file_entry (t, "suid", 04755, 0, 0, FX_MTIME + 13, "#!/bin/sh\n");
  file_entry (t, "sgid", 02750, 0, 50, FX_MTIME + 14, "#!/bin/sh\n");
  file_entry (t, "sticky-file", 01644, 0, 0, FX_MTIME, "");
  dir_entry (t, "sticky", 01777, 0, 0, FX_MTIME + 15);
  file_entry (t, "owned", 0600, 1000, 1000, FX_MTIME + 16, "alice's\n");
  dir_entry (t, "private", 0700, 1000, 50, FX_MTIME + 17);
  file_entry (t, "private/x", 0400, 1000, 50, FX_MTIME + 18, "x");
  fx_tar_symlink (t, "sym", "d/a");
  fx_tar_symlink (t, "abs", "/etc/passwd");
  fx_tar_symlink (t, "dangling", "no/such/file");
  fx_tar_symlink (t, "dotdot", "../../../../etc/shadow");
  fx_tar_device (t, "fifo", 'p', 0, 0);
  fx_tar_device (t, "null", 'c', 1, 3);
  fx_tar_device (t, "loop9", 'b', 7, 9);
  fx_tar_xattr_file (t, "xattr", "user.foo", "bar", 3);
  {
    struct archive_entry *e = fx_entry_new ("xattr2", AE_IFREG, 0640);
    archive_entry_xattr_add_entry (e, "user.one", "1", 1);
    archive_entry_xattr_add_entry (e, "user.bin", "\x00\x01\xff", 3);
    fx_tar_raw (t, e, NULL, 0);
    archive_entry_free (e);
  }
  /* Long names: a 255-byte name, and a path of over 1000 bytes (pax records).  */
  dir_entry (t, "long", 0755, 0, 0, FX_MTIME);
  p = tu_fmt ("long/%s", n255);
  file_entry (t, p, 0644, 0, 0, FX_MTIME, "255\n");
  free (p);
  p = tu_fmt ("long/%s", d200);
  dir_entry (t, p, 0755, 0, 0, FX_MTIME);
  free (p);
  p = tu_fmt ("long/%s/%s", d200, d200);
  dir_entry (t, p, 0755, 0, 0, FX_MTIME);
  free (p);
  p = tu_fmt ("long/%s/%s/%s", d200, d200, d200);
  dir_entry (t, p, 0755, 0, 0, FX_MTIME);
  free (p);
  p = tu_fmt ("long/%s/%s/%s/%s", d200, d200, d200, n255);
  file_entry (t, p, 0644, 0, 0, FX_MTIME, "deep\n");
  fx_tar_symlink (t, "long-link", p);
  free (p);
  /* Whiteout and opaque targets.  */
  file_entry (t, "gone", 0644, 0, 0, FX_MTIME, "gone\n");
  dir_entry (t, "gone-dir", 0755, 0, 0, FX_MTIME);
  file_entry (t, "gone-dir/inside", 0644, 0, 0, FX_MTIME, "inside\n");
  dir_entry (t, "opq", 0755, 0, 0, FX_MTIME + 20);
  file_entry (t, "opq/old", 0644, 0, 0, FX_MTIME, "old\n");
  dir_entry (t, "opq/olddir", 0755, 0, 0, FX_MTIME);
  file_entry (t, "opq/olddir/f", 0644, 0, 0, FX_MTIME, "f\n");
  dir_entry (t, "redo", 0755, 0, 0, FX_MTIME);
  file_entry (t, "redo/old", 0644, 0, 0, FX_MTIME, "old\n");
  fx_tar_finish (t, tar, len);
  free (n255);
  free (d200);
}

/* Layer 2: whiteouts of a file and a directory, an opaque directory with new entries, a
   directory replaced by a file, a hardlinked file replaced, changed metadata.  */
static void
special_top (void **tar, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_whiteout (t, "gone");
  fx_tar_whiteout (t, "gone-dir");
  fx_tar_opaque (t, "opq");
  file_entry (t, "opq/new", 0600, 0, 0, FX_MTIME + 30, "new\n");
  fx_tar_whiteout (t, "redo");
  file_entry (t, "redo", 0640, 0, 0, FX_MTIME + 31, "now a file\n");
  file_entry (t, "d/b", 0664, 1000, 1000, FX_MTIME + 32, "replaced\n");
  dir_entry (t, "sticky", 01770, 0, 60, FX_MTIME + 33);
  /* No entry for "private" (0700, 1000:50 below) or "d": parents implied by an entry.  */
  file_entry (t, "private/y", 0600, 1000, 50, FX_MTIME + 34, "y\n");
  fx_tar_finish (t, tar, len);
}

/* Both images in LAYOUT: "busybox" (CONFIG) and "special".  */
static void
write_images (const char *config)
{
  struct fx_index_entry entries[2] = { { .ref = "busybox" }, { .ref = "special" } };
  struct fx_layer layers[2] = { { 0 } };
  void *t1, *t2;
  size_t l1, l2;

  fx_layout_init (layout);
  busybox_base (&t1, &l1);
  tu_whiteout_layer (&t2, &l2);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2 };
  {
    struct fx_image img = { .dir = layout, .layers = layers, .n_layers = 2, .config = config };
    fx_image_write (&img, &entries[0].desc);
  }
  free (t1);
  free (t2);
  special_base (&t1, &l1);
  special_top (&t2, &l2);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2 };
  {
    struct fx_image img = { .dir = layout, .layers = layers, .n_layers = 2, .config = "{\"Cmd\":[\"/x\"]}" };
    fx_image_write (&img, &entries[1].desc);
  }
  free (t1);
  free (t2);
  fx_index_write (layout, entries, 2);
}

/* Whiteouts at the layer root and before or after their children (image-spec
   layer.md): "whiteouts" over a lower a/{b/c,keep}, a file f, r/{s/t,u}, q/old and a
   dozen files; "rootopq" (the same lower layer) hides it all with "./.wh..wh..opq".
   Each has a third layer on top.  */
static void
write_whiteout_images (void)
{
  struct fx_index_entry entries[2] = { { .ref = "whiteouts" }, { .ref = "rootopq" } };
  struct fx_layer layers[3] = { { 0 } };
  void *tars[4];
  size_t lens[4], i;
  struct fx_tar *t = fx_tar_new ();

  dir_entry (t, "a", 0750, 1000, 1000, FX_MTIME + 1);
  dir_entry (t, "a/b", 0755, 0, 0, FX_MTIME + 2);
  file_entry (t, "a/b/c", 0644, 0, 0, FX_MTIME, "c\n");
  file_entry (t, "a/keep", 0644, 0, 0, FX_MTIME, "keep\n");
  file_entry (t, "f", 0644, 0, 0, FX_MTIME, "a file below\n");
  dir_entry (t, "r", 0711, 0, 50, FX_MTIME + 3);
  dir_entry (t, "r/s", 0755, 0, 0, FX_MTIME + 4);
  file_entry (t, "r/s/t", 0644, 0, 0, FX_MTIME, "t\n");
  file_entry (t, "r/u", 0644, 0, 0, FX_MTIME, "u\n");
  dir_entry (t, "q", 0755, 0, 0, FX_MTIME + 5);
  file_entry (t, "q/old", 0644, 0, 0, FX_MTIME, "old\n");
  for (i = 0; i < 12; i++)
    {
      char *p = tu_fmt ("file%02zu", i);
      file_entry (t, p, 0644, 0, 0, FX_MTIME + (long long) i, p);
      free (p);
    }
  fx_tar_finish (t, &tars[0], &lens[0]);

  /* ".wh.a" then "a/b/new" (a new a/, a/b/ implied); ".wh.f" then "f/x" (a file
     becomes a directory); a listed r/s/ with r/s/new, then ".wh.r" (the layer's own
     entries stay, the lower r/s/t and r/u go); ".wh.q" then a listed q/ and q/y.  */
  t = fx_tar_new ();
  fx_tar_whiteout (t, "a");
  file_entry (t, "a/b/new", 0600, 0, 0, FX_MTIME + 40, "new\n");
  fx_tar_whiteout (t, "f");
  file_entry (t, "f/x", 0644, 0, 0, FX_MTIME + 41, "x\n");
  dir_entry (t, "r/s", 0750, 0, 0, FX_MTIME + 42);
  file_entry (t, "r/s/new", 0644, 0, 0, FX_MTIME + 43, "new\n");
  fx_tar_whiteout (t, "r");
  fx_tar_whiteout (t, "q");
  dir_entry (t, "q", 0700, 0, 0, FX_MTIME + 44);
  file_entry (t, "q/y", 0644, 0, 0, FX_MTIME + 45, "y\n");
  fx_tar_finish (t, &tars[1], &lens[1]);

  /* The root made opaque, then a dozen new files; the layer above adds one more.  */
  t = fx_tar_new ();
  fx_tar_opaque (t, ".");
  dir_entry (t, "n", 0755, 0, 0, FX_MTIME + 50);
  for (i = 0; i < 12; i++)
    {
      char *p = tu_fmt ("n/new%02zu", i);
      file_entry (t, p, 0644, 0, 0, FX_MTIME + 50, p);
      free (p);
    }
  file_entry (t, "file00", 0600, 0, 0, FX_MTIME + 51, "replaced\n");
  fx_tar_finish (t, &tars[2], &lens[2]);
  t = fx_tar_new ();
  file_entry (t, "above", 0644, 0, 0, FX_MTIME + 60, "above\n");
  fx_tar_finish (t, &tars[3], &lens[3]);

  fx_layout_init (layout);
  for (i = 0; i < 2; i++)
    {
      struct fx_image img = { .dir = layout, .layers = layers, .n_layers = 3, .config = "{\"Cmd\":[\"/x\"]}" };
      layers[0] = (struct fx_layer){ .tar = tars[0], .tar_len = lens[0] };
      layers[1] = (struct fx_layer){ .tar = tars[1 + i], .tar_len = lens[1 + i] };
      layers[2] = (struct fx_layer){ .tar = tars[3], .tar_len = lens[3] };
      fx_image_write (&img, &entries[i].desc);
    }
  fx_index_write (layout, entries, 2);
  for (i = 0; i < 4; i++)
    free (tars[i]);
}

/* ---- the tree manifest ---- */

/* One line per path, "\t"-separated "key=value" fields after the path.  Never follows a
   symlink (lstat, readlink, llistxattr/lgetxattr; nftw with FTW_PHYS).  */
struct manifest
{
  char **lines;
  size_t n;
};

static struct manifest *walking;
static const char *walk_root;

/* Regular files with more than one link, by line: hardlink groups are computed once the
   whole tree is seen, among the paths visible in it.  */
struct linked
{
  dev_t dev;
  ino_t ino;
  size_t line;
};
static struct linked *linked;
static size_t n_linked;

static void
hex (FILE *f, const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    fprintf (f, "%02x", p[i]);
}

static void
sha256_file (FILE *out, const char *path)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  FILE *f = fopen (path, "re");
  size_t r;

  FX_CHECK (ctx != NULL && f != NULL);
  FX_CHECK (EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL) == 1);
  while ((r = fread (buf, 1, sizeof buf, f)) > 0)
    FX_CHECK (EVP_DigestUpdate (ctx, buf, r) == 1);
  FX_CHECK (! ferror (f));
  FX_CHECK (EVP_DigestFinal_ex (ctx, md, &n) == 1);
  fclose (f);
  EVP_MD_CTX_free (ctx);
  hex (out, md, n);
}

static int
compare_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
xattrs (FILE *out, const char *path)
{
  char names[4096], *name;
  char *list[64];
  size_t n = 0, i;
  ssize_t len = llistxattr (path, names, sizeof names);

  FX_CHECK (len >= 0 || errno == ENOTSUP);
  for (name = names; len > 0 && name < names + len; name += strlen (name) + 1)
    if (strncmp (name, "user.", 5) == 0)
      {
        FX_CHECK (n < 64);
        list[n++] = name;
      }
  qsort (list, n, sizeof list[0], compare_str);
  for (i = 0; i < n; i++)
    {
      unsigned char value[4096];
      ssize_t vlen = lgetxattr (path, list[i], value, sizeof value);

      FX_CHECK (vlen >= 0);
      fprintf (out, "\txattr.%s=", list[i]);
      hex (out, value, (size_t) vlen);
    }
}

static int
visit (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  const char *rel = path + strlen (walk_root);
  char *line = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&line, &len);
  char type;

  (void) flag;
  (void) ftw;
  FX_CHECK (f != NULL);
  while (*rel == '/')
    rel++;
  switch (st->st_mode & S_IFMT)
    {
    case S_IFREG: type = 'f'; break;
    case S_IFDIR: type = 'd'; break;
    case S_IFLNK: type = 'l'; break;
    case S_IFCHR: type = 'c'; break;
    case S_IFBLK: type = 'b'; break;
    case S_IFIFO: type = 'p'; break;
    case S_IFSOCK: type = 's'; break;
    default: type = '?';
    }
  fprintf (f, "%s\ttype=%c\tmode=%04o\tuid=%u\tgid=%u", *rel ? rel : ".", type, (unsigned) (st->st_mode & 07777),
           (unsigned) st->st_uid, (unsigned) st->st_gid);
  if (type == 'f' || type == 'l')
    fprintf (f, "\tsize=%lld", (long long) st->st_size);
  if (type == 'f')
    {
      fputs ("\tsha256=", f);
      sha256_file (f, path);
    }
  if (type == 'l')
    {
      char target[8192];
      ssize_t n = readlink (path, target, sizeof target - 1);
      FX_CHECK (n >= 0);
      target[n] = '\0';
      fprintf (f, "\ttarget=%s", target);
    }
  if (type == 'c' || type == 'b')
    fprintf (f, "\trdev=%u,%u", major (st->st_rdev), minor (st->st_rdev));
  fprintf (f, "\tmtime=%lld.%09ld", (long long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
  if (type == 'f' && st->st_nlink > 1)
    {
      linked = realloc (linked, (n_linked + 1) * sizeof *linked);
      FX_CHECK (linked != NULL);
      linked[n_linked++] = (struct linked){ st->st_dev, st->st_ino, walking->n };
    }
  xattrs (f, path);
  fclose (f);
  walking->lines = realloc (walking->lines, (walking->n + 1) * sizeof *walking->lines);
  FX_CHECK (walking->lines != NULL);
  walking->lines[walking->n++] = line;
  return 0;
}

/* The path of LINE (up to the first tab), a new string.  */
static char *
path_of (const char *line)
{
  return strndup (line, strcspn (line, "\t"));
}

/* The manifest of the tree at ROOT, sorted by path.  A regular file sharing its inode
   with other paths of the tree gets "link=" the first of them in sorted order (the
   link count itself is not compared: through overlayfs it counts links in the layer,
   including paths a later layer hid).  */
static struct manifest *
manifest_of (const char *root)
{
  struct manifest *m = calloc (1, sizeof *m);
  size_t i, j;

  FX_CHECK (m != NULL);
  walking = m;
  walk_root = root;
  FX_CHECK (nftw (root, visit, 64, FTW_PHYS) == 0);
  for (i = 0; i < n_linked; i++)
    {
      char *first = NULL;
      size_t members = 0;

      for (j = 0; j < n_linked; j++)
        if (linked[j].dev == linked[i].dev && linked[j].ino == linked[i].ino)
          {
            char *p = path_of (m->lines[linked[j].line]);
            members++;
            if (first == NULL || strcmp (p, first) < 0)
              {
                free (first);
                first = p;
              }
            else
              free (p);
          }
      if (members > 1)
        {
          char *line = tu_fmt ("%s\tlink=%s", m->lines[linked[i].line], first);
          free (m->lines[linked[i].line]);
          m->lines[linked[i].line] = line;
        }
      free (first);
    }
  qsort (m->lines, m->n, sizeof *m->lines, compare_str);
  free (linked);
  linked = NULL;
  n_linked = 0;
  walking = NULL;
  return m;
}

static void
manifest_free (struct manifest *m)
{
  for (size_t i = 0; i < m->n; i++)
    free (m->lines[i]);
  free (m->lines);
  free (m);
}

/* ---- comparing ---- */

/* A difference that is umoci's behaviour (or a fact of the filesystem), not a fault of
   oci-prep: accepted only for exactly this image, view, path and field, and only with
   these values (NULL: any value).  Everything not listed here must be equal.  */
struct accepted
{
  const char *image; /* "busybox", "special", "busybox:num"... */
  const char *view;  /* "flat", "overlay" (rootfs trees) or "config" */
  const char *path;  /* a path in the rootfs, or a config field */
  const char *field; /* "mtime", "mode", "value"...; a path on one side only has "(absent)" fields */
  const char *umoci, *ours;
  const char *reason;
};

static const struct accepted accepted[] = {
  { "*", "flat", ".", "mtime", "0.000000000", NULL,
    "no layer has an entry for the root directory; umoci 0.4.7 sets the rootfs directory's times to the Unix "
    "epoch, oci-prep leaves the time it created it (flat)" },
  { "*", "overlay", ".", "mtime", "0.000000000", NULL,
    "as for flat; the overlay root shows the upper directory, which oci-prep gives the top layer's root times (its "
    "extraction time, as no layer has an entry for '/')" },
#define NEW_DIR_TIME                                                                                                   \
  "a directory that replaced a whiteout of the same layer (or is implied below one) has no entry: umoci and "      \
  "oci-prep both give it the time they created it"
  { "whiteouts", "flat", "a", "mtime", NULL, NULL, NEW_DIR_TIME },
  { "whiteouts", "overlay", "a", "mtime", NULL, NULL, NEW_DIR_TIME },
  { "whiteouts", "flat", "a/b", "mtime", NULL, NULL, NEW_DIR_TIME },
  { "whiteouts", "overlay", "a/b", "mtime", NULL, NULL, NEW_DIR_TIME },
  { "whiteouts", "flat", "f", "mtime", NULL, NULL, NEW_DIR_TIME },
  { "whiteouts", "overlay", "f", "mtime", NULL, NULL, NEW_DIR_TIME },
#define WHITEOUT_WALK_TIME                                                                                             \
  "umoci applies a whiteout by removing the lower entries one by one at unpack time and keeps the times that "    \
  "leaves; oci-prep shows the entries' times (the listed r/s, the lower r under its implied r, the root as for "    \
  "every image)"
  { "whiteouts", "flat", ".", "mtime", NULL, NULL, WHITEOUT_WALK_TIME },
  { "whiteouts", "overlay", ".", "mtime", NULL, NULL, WHITEOUT_WALK_TIME },
  { "whiteouts", "flat", "r", "mtime", NULL, "1700000003.000000000", WHITEOUT_WALK_TIME },
  { "whiteouts", "overlay", "r", "mtime", NULL, "1700000003.000000000", WHITEOUT_WALK_TIME },
  { "whiteouts", "flat", "r/s", "mtime", NULL, "1700000042.000000000", WHITEOUT_WALK_TIME },
  { "whiteouts", "overlay", "r/s", "mtime", NULL, "1700000042.000000000", WHITEOUT_WALK_TIME },
  { "*", "config", "process.env TERM", "value", "xterm", "(absent)",
    "umoci starts from runtime-tools' default spec (terminal: true, TERM=xterm); oci-prep writes terminal: false "
    "and adds TERM only with --tty" },
  { "busybox", "config", "process.user.additionalGids", "value", "[10,50]", "[10,50,1000]",
    "oci-prep lists the primary gid explicitly: runtimes call setgroups() with exactly additionalGids "
    "(CVE-2023-25173); umoci leaves it out" },
  { "busybox", "config", "annotations org.opencontainers.image.created", "value", "2023-11-14T22:13:20Z",
    "label-wins",
    "a label with the same key as an implicit annotation: conversion.md says Config.Labels MUST take precedence; "
    "umoci 0.4.7 lets the implicit value win" },
  { "*", "config", "annotations org.opencontainers.image.author", "value", "", "(absent)",
    "the config has no author: umoci writes an empty annotation, oci-prep omits annotations of absent values" },
  { "*", "config", "annotations org.opencontainers.image.stopSignal", "value", "", "(absent)",
    "the config has no StopSignal: as for author" },
  { "*", "config", "annotations org.opencontainers.image.exposedPorts", "value", "", "(absent)",
    "the config has no ExposedPorts: as for author" },
  { "busybox:num", "config", "process.env HOME", "value", "(absent)", "/",
    "no passwd entry for uid 2000: umoci sets no HOME, oci-prep sets HOME=/ (what runc and Docker give a user "
    "without one)" },
  { "busybox:grp", "config", "process.cwd", "value", "/home/./alice/", "/home/alice",
    "WorkingDir has '.' and a trailing '/': umoci copies it verbatim, oci-prep cleans it lexically (the same "
    "directory here; see bundle.working_dir_with_dotdot_after_a_symlink for where it is not)" },
};

/* What is never compared, and why: filesystem facts that are not image content.  */
static const struct
{
  const char *what, *reason;
} not_compared[] = {
  { "st_size of directories", "depends on the filesystem (ext4 block multiples, overlayfs' merged view)" },
  { "st_nlink", "through overlayfs a lower file counts links in its layer, including paths a later layer hid; "
                "hardlinks are compared as groups of visible paths sharing an inode instead ('link=')" },
  { "atime, ctime, inode numbers, st_dev", "set by the filesystem when the tree is written or read" },
  { "xattrs outside user.*",
    "trusted.overlay.* is overlayfs' own metadata (hidden through the mount, applied in the flat copy); "
    "security.* depends on the host's LSM" },
  { "umoci.json and sha256_*.mtree", "umoci's own files beside rootfs/, outside the rootfs" },
  { "process.env order", "umoci puts its defaults (PATH, TERM) before Config.Env and HOME after; oci-prep keeps "
                         "Config.Env first; env is compared per variable, and a repeated name is a difference" },
};

static bool
matches (const char *pattern, const char *value)
{
  return pattern == NULL || strcmp (pattern, value) == 0;
}

static const struct accepted *
find_accepted (const char *image, const char *view, const char *path, const char *field, const char *u,
               const char *o)
{
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
    {
      const struct accepted *a = &accepted[i];
      if ((strcmp (a->image, "*") == 0 || strcmp (a->image, image) == 0) && strcmp (a->view, view) == 0
          && strcmp (a->path, path) == 0 && strcmp (a->field, field) == 0 && matches (a->umoci, u)
          && matches (a->ours, o))
        return a;
    }
  return NULL;
}

/* The value of FIELD in LINE ("path\tk=v\tk=v..."), or "(absent)"; a new string.  */
static char *
field_of (const char *line, const char *field)
{
  size_t len = strlen (field);

  for (const char *p = strchr (line, '\t'); p; p = strchr (p + 1, '\t'))
    if (strncmp (p + 1, field, len) == 0 && p[1 + len] == '=')
      return strndup (p + 2 + len, strcspn (p + 2 + len, "\t"));
  return strdup ("(absent)");
}

/* Every field name of A and B (after the path), without duplicates.  */
static size_t
field_names (const char *a, const char *b, char **names, size_t max)
{
  size_t n = 0;
  const char *lines[2] = { a, b };

  for (int k = 0; k < 2; k++)
    for (const char *p = lines[k] ? strchr (lines[k], '\t') : NULL; p; p = strchr (p + 1, '\t'))
      {
        char *name = strndup (p + 1, strcspn (p + 1, "=\t"));
        size_t i;
        for (i = 0; i < n; i++)
          if (strcmp (names[i], name) == 0)
            break;
        if (i < n || n == max)
          free (name);
        else
          names[n++] = name;
      }
  return n;
}

/* Compare umoci's manifest U with oci-prep's O line by line (both sorted by path).
   Differences listed in ACCEPTED are logged; the others fail the test, the first ones
   shown whole.  */
static void
compare (const struct manifest *u, const struct manifest *o, const char *image, const char *view)
{
  size_t i = 0, j = 0, failures = 0;

  while (i < u->n || j < o->n)
    {
      char *pu = i < u->n ? path_of (u->lines[i]) : NULL, *po = j < o->n ? path_of (o->lines[j]) : NULL;
      int c = pu == NULL ? 1 : po == NULL ? -1 : strcmp (pu, po);
      const char *lu = c <= 0 ? u->lines[i] : NULL, *lo = c >= 0 ? o->lines[j] : NULL;
      const char *path = c <= 0 ? pu : po;
      bool line_failed = false;

      /* A path on one side only compares as a line whose every field is "(absent)".  */
      if (c != 0 || strcmp (lu, lo) != 0)
        {
          char *names[32];
          size_t n = field_names (lu, lo, names, 32);

          for (size_t k = 0; k < n; k++)
            {
              char *vu = lu ? field_of (lu, names[k]) : strdup ("(absent)");
              char *vo = lo ? field_of (lo, names[k]) : strdup ("(absent)");
              if (strcmp (vu, vo) != 0)
                {
                  const struct accepted *a = find_accepted (image, view, path, names[k], vu, vo);
                  if (a)
                    cr_log_info ("%s %s: accepted: %s %s: umoci '%s', oci-prep '%s': %s", image, view, path, names[k],
                                 vu, vo, a->reason);
                  else
                    {
                      if (failures < 12)
                        cr_log_error ("%s %s: %s: %s differs: umoci '%s', oci-prep '%s'", image, view, path, names[k],
                                      vu, vo);
                      line_failed = true;
                    }
                }
              free (vu);
              free (vo);
              free (names[k]);
            }
        }
      if (line_failed)
        {
          if (failures < 12)
            cr_log_error ("%s %s: first differing lines:\n  umoci:    %.400s\n  oci-prep: %.400s", image, view,
                          lu ? lu : "(none)", lo ? lo : "(none)");
          failures++;
        }
      if (c <= 0)
        i++;
      if (c >= 0)
        j++;
      free (pu);
      free (po);
    }
  cr_expect_eq (failures, 0, "%s %s: %zu paths differ from umoci (see the log above)", image, view, failures);
}

/* ---- config.json fields, read with yajl directly ---- */

static void
render (FILE *f, yajl_val v)
{
  if (v == NULL)
    fputs ("(absent)", f);
  else if (YAJL_IS_STRING (v))
    fputs (v->u.string, f);
  else if (YAJL_IS_INTEGER (v))
    fprintf (f, "%lld", YAJL_GET_INTEGER (v));
  else if (YAJL_IS_ARRAY (v))
    {
      fputc ('[', f);
      for (size_t i = 0; i < v->u.array.len; i++)
        {
          if (i)
            fputc (',', f);
          if (YAJL_IS_STRING (v->u.array.values[i]))
            fprintf (f, "\"%s\"", v->u.array.values[i]->u.string);
          else
            render (f, v->u.array.values[i]);
        }
      fputc (']', f);
    }
  else
    fputs ("(other)", f);
}

static void
add_line (struct manifest *m, const char *field, const char *value)
{
  m->lines = realloc (m->lines, (m->n + 1) * sizeof *m->lines);
  FX_CHECK (m->lines != NULL);
  m->lines[m->n++] = tu_fmt ("%s\tvalue=%s", field, value);
}

static void
add_rendered (struct manifest *m, const char *field, yajl_val v)
{
  char *text = NULL;
  size_t len;
  FILE *f = open_memstream (&text, &len);

  render (f, v);
  fclose (f);
  add_line (m, field, text);
  free (text);
}

static int
compare_ints (const void *a, const void *b)
{
  long long x = (*(yajl_val const *) a)->u.number.i, y = (*(yajl_val const *) b)->u.number.i;
  return x < y ? -1 : x > y;
}

static const char *const default_mounts[]
    = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", NULL };

/* The compared fields of the config.json FILE, one line each: process.args, cwd, user
   uid/gid and additionalGids (as a set), each env variable, each annotation, and the
   type of each mount that is not one of the runtime's standard ones (the volumes).  */
static struct manifest *
config_manifest (const char *file)
{
  struct manifest *m = calloc (1, sizeof *m);
  char *text = fx_read_file (file, NULL), errbuf[256];
  yajl_val root = yajl_tree_parse (text, errbuf, sizeof errbuf), v;
  size_t i;

  FX_CHECK (m != NULL);
  cr_assert (root != NULL, "%s: %s", file, errbuf);
  add_rendered (m, "process.args", yajl_tree_get (root, (const char *[]){ "process", "args", NULL }, yajl_t_any));
  add_rendered (m, "process.cwd", yajl_tree_get (root, (const char *[]){ "process", "cwd", NULL }, yajl_t_any));
  add_rendered (m, "process.user.uid",
                yajl_tree_get (root, (const char *[]){ "process", "user", "uid", NULL }, yajl_t_any));
  add_rendered (m, "process.user.gid",
                yajl_tree_get (root, (const char *[]){ "process", "user", "gid", NULL }, yajl_t_any));
  v = yajl_tree_get (root, (const char *[]){ "process", "user", "additionalGids", NULL }, yajl_t_array);
  if (v)
    qsort (v->u.array.values, v->u.array.len, sizeof (yajl_val), compare_ints);
  add_rendered (m, "process.user.additionalGids", v);
  v = yajl_tree_get (root, (const char *[]){ "process", "env", NULL }, yajl_t_array);
  for (i = 0; v && i < v->u.array.len; i++)
    {
      const char *e = YAJL_GET_STRING (v->u.array.values[i]);
      char *name = strndup (e, strcspn (e, "=")), *field = tu_fmt ("process.env %s", name);
      add_line (m, field, strchr (e, '=') ? strchr (e, '=') + 1 : "(no '=')");
      free (name);
      free (field);
    }
  v = yajl_tree_get (root, (const char *[]){ "annotations", NULL }, yajl_t_object);
  for (i = 0; v && i < v->u.object.len; i++)
    {
      char *field = tu_fmt ("annotations %s", v->u.object.keys[i]);
      add_rendered (m, field, v->u.object.values[i]);
      free (field);
    }
  v = yajl_tree_get (root, (const char *[]){ "mounts", NULL }, yajl_t_array);
  for (i = 0; v && i < v->u.array.len; i++)
    {
      yajl_val mnt = v->u.array.values[i];
      const char *dest = YAJL_GET_STRING (yajl_tree_get (mnt, (const char *[]){ "destination", NULL }, yajl_t_string));
      size_t k;

      for (k = 0; default_mounts[k] && strcmp (default_mounts[k], dest) != 0; k++)
        ;
      if (default_mounts[k] == NULL)
        {
          char *field = tu_fmt ("mount %s type", dest);
          add_rendered (m, field, yajl_tree_get (mnt, (const char *[]){ "type", NULL }, yajl_t_any));
          free (field);
        }
    }
  /* A variable named twice shows as two lines with one field name: a difference.  */
  qsort (m->lines, m->n, sizeof *m->lines, compare_str);
  yajl_tree_free (root);
  free (text);
  return m;
}

/* ---- running ---- */

#define PREP(r, ...) TU_PREP_STORE ((r), store, __VA_ARGS__)

#define BUSYBOX_CONFIG                                                                                                 \
  "{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\",\"a0\"],\"Env\":[\"FOO=bar\",\"EMPTY=\"],"              \
  "\"WorkingDir\":\"/work\",\"User\":\"alice\",\"Volumes\":{\"/data\":{}},"                                          \
  "\"Labels\":{\"org.example.label\":\"v\",\"org.opencontainers.image.created\":\"label-wins\"},"                    \
  "\"StopSignal\":\"SIGTERM\",\"ExposedPorts\":{\"80/tcp\":{}}}"

/* umoci unpack, oci-prep bundle --flat and oci-prep bundle of LAYOUT:REF; the three
   rootfs trees compared.  */
static void
compare_trees (const char *ref)
{
  struct tu_result r;
  char *img = tu_fmt ("%s:%s", layout, ref), *ub = tu_fmt ("%s/umoci", tmp), *fb = tu_fmt ("%s/flat", tmp),
       *ob = tu_fmt ("%s/overlay", tmp), *p;
  struct manifest *mu, *mf, *mo;

  tu_sh (&r, "umoci unpack --image '%s' '%s'", img, ub);
  cr_assert_eq (r.status, 0, "umoci unpack: %s%s", r.out, r.err);
  tu_result_free (&r);
  PREP (&r, "bundle", "--flat", img, fb);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  PREP (&r, "bundle", img, ob);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);

  p = tu_fmt ("%s/rootfs", ub);
  mu = manifest_of (p);
  free (p);
  p = tu_fmt ("%s/rootfs", fb);
  mf = manifest_of (p);
  free (p);
  p = tu_fmt ("%s/rootfs", ob);
  mo = manifest_of (p);
  free (p);
  cr_expect_gt (mu->n, 10, "umoci's tree is nearly empty: %zu paths", mu->n);
  compare (mu, mf, ref, "flat");
  compare (mu, mo, ref, "overlay");

  PREP (&r, "rm", ob);
  cr_expect_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  manifest_free (mu);
  manifest_free (mf);
  manifest_free (mo);
  free (img);
  free (ub);
  free (fb);
  free (ob);
}

Test (umoci, busybox_rootfs_matches)
{
  tu_need ("umoci", teardown);
  write_images (BUSYBOX_CONFIG);
  compare_trees ("busybox");
}

Test (umoci, special_files_rootfs_matches)
{
  tu_need ("umoci", teardown);
  write_images (BUSYBOX_CONFIG);
  compare_trees ("special");
}

Test (umoci, whiteouts_before_and_after_children_rootfs_matches)
{
  tu_need ("umoci", teardown);
  write_whiteout_images ();
  compare_trees ("whiteouts");
}

Test (umoci, root_opaque_marker_rootfs_matches)
{
  tu_need ("umoci", teardown);
  write_whiteout_images ();
  compare_trees ("rootopq");
}

/* The compared fields of config.json for the main busybox config, a numeric User
   (with PATH in Env) and a user:group User.  */
Test (umoci, config_fields_match)
{
  static const struct
  {
    const char *name, *config;
  } configs[] = {
    { "busybox", BUSYBOX_CONFIG },
    { "busybox:num", "{\"Cmd\":[\"/bin/id\"],\"Env\":[\"PATH=/bin:/custom\"],\"User\":\"2000\"}" },
    { "busybox:grp", "{\"Cmd\":[\"/bin/id\"],\"User\":\"alice:grp\",\"WorkingDir\":\"/home/./alice/\"}" },
  };

  tu_need ("umoci", teardown);
  for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
    {
      struct tu_result r;
      char *img = tu_fmt ("%s:busybox", layout), *ub = tu_fmt ("%s/umoci%zu", tmp, i),
           *ob = tu_fmt ("%s/ours%zu", tmp, i);
      char *p;
      struct manifest *mu, *mo;

      write_images (configs[i].config);
      tu_sh (&r, "umoci unpack --image '%s' '%s'", img, ub);
      cr_assert_eq (r.status, 0, "umoci unpack: %s%s", r.out, r.err);
      tu_result_free (&r);
      PREP (&r, "bundle", "--flat", img, ob);
      cr_assert_eq (r.status, 0, "%s", r.err);
      tu_result_free (&r);
      p = tu_fmt ("%s/config.json", ub);
      mu = config_manifest (p);
      free (p);
      p = tu_fmt ("%s/config.json", ob);
      mo = config_manifest (p);
      free (p);
      compare (mu, mo, configs[i].name, "config");
      manifest_free (mu);
      manifest_free (mo);
      free (img);
      free (ub);
      free (ob);
    }
  for (size_t i = 0; i < sizeof not_compared / sizeof not_compared[0]; i++)
    cr_log_info ("not compared: %s: %s", not_compared[i].what, not_compared[i].reason);
}
