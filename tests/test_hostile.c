/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hostile-image catalogue continued: odd names, layers that disagree, stream tricks, limits. */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <archive.h>
#include <archive_entry.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/error.h>
#include "extract/extract.h"
#include <oci-prep/limits.h>

#include "fixture.h"
#include "testutil.h"

/* Layout of every test: TMP/root is the (initially empty) layer root handed to
   ocip_extract_tar; TMP/img holds the layouts, TMP/store the store and TMP/bundles the
   bundles of the tests that drive the oci-prep binary.  TMP/sentinel lies beside all of
   them with known content (victim, dir/) and must come out of every test exactly as it
   went in; TMP itself must keep its metadata and its five names.  Hostile entries aim
   at the sentinel both relatively and by its real absolute path, so a path resolved by
   the host instead of inside the root WOULD hit it.  */
static char tmp[256];
static char sentinel[300];     /* absolute, symlink-free */
static char sentinel_rel[300]; /* the same without the leading "/" */
static char imgdir[300], store[300], bundles[300];
static int rootfd = -1;
static char *snapshot;
static ocip_error_t err;
static struct ocip_extract_stats stats;

#define MIB (1024u * 1024)
#define GOOD_CMD "{\"Cmd\":[\"/bin/true\"]}"

static char *fmt (const char *f, ...) __attribute__ ((format (printf, 1, 2)));

static char *
fmt (const char *f, ...)
{
  va_list ap;
  char *s;
  int r;

  va_start (ap, f);
  r = vasprintf (&s, f, ap);
  va_end (ap);
  FX_CHECK (r >= 0);
  return s;
}

/* ---- paths and small assertions on the layer root ---- */

/* TMP/root/REL, in one of a few rotating buffers.  */
static const char *
P (const char *rel)
{
  static char bufs[8][PATH_MAX + 64];
  static unsigned i;
  char *b = bufs[i++ % 8];

  snprintf (b, sizeof bufs[0], "%s/root/%s", tmp, rel);
  return b;
}

/* lstat relative to the root fd: works for names longer than PATH_MAX once TMP/root is
   prepended.  */
static bool
lst_at (const char *rel, struct stat *st)
{
  return fstatat (rootfd, *rel ? rel : ".", st, AT_SYMLINK_NOFOLLOW) == 0;
}

static struct stat
lst (const char *rel)
{
  struct stat st;

  cr_assert (lst_at (rel, &st), "lstat root/%.200s: %s", rel, strerror (errno));
  return st;
}

static bool
exists (const char *rel)
{
  struct stat st;
  return lst_at (rel, &st);
}

static void
assert_content (const char *rel, const void *data, size_t len)
{
  struct stat st = lst (rel);
  char *got = xmalloc (len + 1);
  int fd;
  ssize_t n;

  cr_assert (S_ISREG (st.st_mode), "root/%.200s is not a regular file (mode 0%o)", rel, st.st_mode);
  fd = openat (rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cr_assert_geq (fd, 0, "open root/%.200s: %s", rel, strerror (errno));
  n = read (fd, got, len + 1);
  close (fd);
  cr_assert_eq (n, (ssize_t) len, "root/%.200s has %zd bytes, expected %zu", rel, n, len);
  cr_assert (memcmp (got, data, len) == 0, "root/%.200s has other content", rel);
  free (got);
}

#define assert_text(rel, text) assert_content ((rel), (text), strlen (text))

static void
assert_mode (const char *rel, unsigned type, unsigned perm)
{
  struct stat st = lst (rel);

  cr_assert_eq (st.st_mode & S_IFMT, type, "root/%s: type 0%o, expected 0%o", rel, st.st_mode & S_IFMT, type);
  cr_assert_eq (st.st_mode & 07777, perm, "root/%s: mode 0%o, expected 0%o", rel, st.st_mode & 07777, perm);
}

static void
assert_symlink (const char *rel, const char *target)
{
  char buf[PATH_MAX];
  struct stat st = lst (rel);
  ssize_t n;

  cr_assert (S_ISLNK (st.st_mode), "root/%s is not a symlink (mode 0%o)", rel, st.st_mode);
  n = readlinkat (rootfd, rel, buf, sizeof buf - 1);
  cr_assert_geq (n, 0);
  buf[n] = '\0';
  cr_assert_str_eq (buf, target, "root/%s -> '%s', expected '%s'", rel, buf, target);
}

static void
assert_whiteout (const char *rel)
{
  struct stat st = lst (rel);

  cr_assert (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0), "root/%.200s is not a 0/0 char device (mode 0%o)",
             rel, st.st_mode);
}

static void
assert_xattr (const char *rel, const char *name, const char *value)
{
  char buf[256];
  ssize_t n = lgetxattr (P (rel), name, buf, sizeof buf);

  cr_assert_geq (n, 0, "root/%s: xattr %s: %s", rel, name, strerror (errno));
  cr_assert (n == (ssize_t) strlen (value) && memcmp (buf, value, n) == 0, "root/%s: xattr %s is '%.*s', expected '%s'",
             rel, name, (int) n, buf, value);
}

/* Names directly in root/REL (not "." and "..").  */
static size_t
count_entries (const char *rel)
{
  DIR *d = opendir (P (rel));
  struct dirent *de;
  size_t n = 0;

  cr_assert_not_null (d, "opendir root/%s: %s", rel, strerror (errno));
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      n++;
  closedir (d);
  return n;
}

/* Empty the layer root between two extractions of one test (the root itself and TMP
   stay as they are).  */
static void
clear_root (void)
{
  DIR *d = opendir (P (""));
  struct dirent *de;

  cr_assert_not_null (d);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      fx_rm_rf (P (de->d_name));
  closedir (d);
  cr_assert_eq (count_entries (""), 0);
}

/* ---- the sentinel beside the root, the store and the bundles ---- */

/* Nothing outside the layer root, the store and the bundles changed: the sentinel is
   byte-for-byte and inode-for-inode what it was, TMP is untouched and holds its five
   names only.  */
static void
assert_outside_untouched (void)
{
  tu_sentinel_assert_untouched (snapshot, tmp, sentinel, "the targets");
}

/* The suite also runs as root of a user namespace (scripts/check: an ordinary user
   under `unshare --map-auto --map-root-user -m`): there the store is a user's, its
   opaque xattr user.overlay.opaque.  */
#define OPQ                                                                                                           \
  (ocip_ovlformat_xattrs_for_process () == OCIP_OVLFORMAT_XATTRS_USER ? "user.overlay.opaque"                         \
                                                                      : "trusted.overlay.opaque")

static void
setup (void)
{
  char path[PATH_MAX + 32];
  char *t, *real;

  if (geteuid () != 0)
    {
      /* chown, mknod, trusted.* xattrs and overlay mounts need root; CI is root.  */
      if (getenv ("CI") != NULL)
        cr_assert_fail ("hostile-image tests need root");
      cr_skip_test ("hostile-image tests need root");
    }
  t = fx_mkdtemp ();
  real = realpath (t, NULL);
  cr_assert_not_null (real);
  cr_assert_lt (strlen (real), sizeof tmp);
  strcpy (tmp, real);
  free (real);
  free (t);
  snprintf (sentinel, sizeof sentinel, "%s/sentinel", tmp);
  snprintf (sentinel_rel, sizeof sentinel_rel, "%s", sentinel + 1);
  snprintf (imgdir, sizeof imgdir, "%s/img", tmp);
  snprintf (store, sizeof store, "%s/store", tmp);
  snprintf (bundles, sizeof bundles, "%s/bundles", tmp);

  snprintf (path, sizeof path, "%s/root", tmp);
  cr_assert_eq (mkdir (path, 0755), 0);
  rootfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (rootfd, 0);
  cr_assert_eq (mkdir (imgdir, 0755), 0);
  cr_assert_eq (mkdir (store, 0700), 0);
  cr_assert_eq (mkdir (bundles, 0755), 0);

  tu_sentinel_create (sentinel);
  snapshot = tu_sentinel_snapshot (tmp, sentinel);
}

/* Undo whatever a test left, even when it failed half-way: mounts are detached first,
   so that removing TMP never reaches into a layer store.  */
static void
teardown (void)
{
  size_t n;
  char **mps;

  struct rlimit rl;

  /* A test may have lowered its soft fd limit; removing deep trees needs the fds back.  */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  ocip_closep (&rootfd);
  ocip_error_release (&err);
  ocip_extract_stats_clear (&stats);
  free (snapshot);
  snapshot = NULL;
  if (tmp[0] == '\0')
    return;
  while ((n = tu_mount_points_under (tmp, &mps)) > 0)
    {
      for (size_t i = n; i-- > 0;)
        {
          umount2 (mps[i], MNT_DETACH);
          free (mps[i]);
        }
      free (mps);
    }
  fx_rm_rf (tmp);
  tmp[0] = '\0';
}

TestSuite (hostile, .init = setup, .fini = teardown, .timeout = 120);

/* ==================================================================== */
/* Feeding the extractor directly                                        */
/* ==================================================================== */

struct mem_source
{
  const unsigned char *data;
  size_t len, off;
};

static ssize_t
mem_read (void *ctx, void *buf, size_t len, ocip_error_t *e)
{
  struct mem_source *s = ctx;
  size_t n = s->len - s->off;

  if (n > len)
    n = len;
  if (n)
    memcpy (buf, s->data + s->off, n);
  s->off += n;
  return (ssize_t) n;
}

/* Extract the LEN bytes at BUF with the default limits; the error stays in ERR.  */
static int
run_buf (const void *buf, size_t len)
{
  struct ocip_extract_limits limits;
  struct mem_source s = { .data = buf, .len = len };

  ocip_extract_limits_default (&limits);
  ocip_error_release (&err);
  ocip_extract_stats_clear (&stats);
  memset (&stats, 0, sizeof stats);
  return ocip_extract_tar (rootfd, ocip_ovlformat_xattrs_for_process (), mem_read, &s, &limits, &stats, &err);
}

static int
extract (struct fx_tar *t)
{
  void *buf;
  size_t len;
  int r;

  fx_tar_finish (t, &buf, &len);
  r = run_buf (buf, len);
  free (buf);
  return r;
}

#define ERRMSG (err ? err->msg : "(no error set)")

#define assert_ok(expr)                                                                                               \
  do                                                                                                                  \
    {                                                                                                                 \
      int r_ = (expr);                                                                                                \
      cr_assert_eq (r_, 0, "extraction failed: %d (%s): %s", r_, strerror (-r_), ERRMSG);                             \
      cr_assert_null (err, "success with an error set: %s", ERRMSG);                                                  \
    }                                                                                                                 \
  while (0)

/* The extraction failed with the error class ERRNUM and a message containing NEEDLE.  */
#define assert_fails(expr, errnum, needle)                                                                            \
  do                                                                                                                  \
    {                                                                                                                 \
      int r_ = (expr);                                                                                                \
      cr_assert_eq (r_, -(errnum), "expected -%s, got %d (%s): %s", #errnum, r_, r_ ? strerror (-r_) : "success",     \
                    ERRMSG);                                                                                          \
      cr_assert_not_null (err, "failure without an error object");                                                    \
      cr_assert_eq (err->status, (errnum), "error class %d, expected %s: %s", err->status, #errnum, err->msg);        \
      cr_assert (strstr (err->msg, (needle)) != NULL, "error '%s' lacks '%s'", err->msg, (needle));                   \
    }                                                                                                                 \
  while (0)

static void
tar_entry (struct fx_tar *t, struct archive_entry *e, const void *data, size_t len)
{
  fx_tar_raw (t, e, data, len);
  archive_entry_free (e);
}

/* ---- hand-made tar streams, for what libarchive's writer refuses to produce ---- */

struct rawtar
{
  unsigned char *p;
  size_t len, cap;
};

static void
raw_add (struct rawtar *r, const void *data, size_t len)
{
  if (r->len + len > r->cap)
    {
      r->cap = (r->len + len) * 2 + 1024;
      r->p = xrealloc (r->p, r->cap);
    }
  memcpy (r->p + r->len, data, len);
  r->len += len;
}

static void
raw_pad (struct rawtar *r)
{
  static const unsigned char zero[512];
  if (r->len % 512)
    raw_add (r, zero, 512 - r->len % 512);
}

/* A ustar header: NAME (verbatim, even empty), TYPE, SIZE in the size field.  */
static void
raw_header (struct rawtar *r, const char *name, char type, unsigned long long size, const char *linkname)
{
  unsigned char h[512] = { 0 };
  unsigned sum = 0;

  memcpy (h, name, strnlen (name, 100));
  snprintf ((char *) h + 100, 8, "%07o", 0644);
  snprintf ((char *) h + 108, 8, "%07o", 0);
  snprintf ((char *) h + 116, 8, "%07o", 0);
  snprintf ((char *) h + 124, 12, "%011llo", size);
  snprintf ((char *) h + 136, 12, "%011llo", (unsigned long long) FX_MTIME);
  h[156] = (unsigned char) type;
  if (linkname)
    memcpy (h + 157, linkname, strnlen (linkname, 100));
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  memset (h + 148, ' ', 8);
  for (size_t i = 0; i < 512; i++)
    sum += h[i];
  snprintf ((char *) h + 148, 8, "%06o", sum);
  h[155] = ' ';
  raw_add (r, h, 512);
}

/* A regular file NAME with DATA (LEN bytes), padded.  */
static void
raw_file (struct rawtar *r, const char *name, const void *data, size_t len)
{
  raw_header (r, name, '0', len, NULL);
  raw_add (r, data, len);
  raw_pad (r);
}

/* One "LEN KEY=VALUE\n" pax record appended to REC; VALUE is VLEN bytes and may hold
   NUL bytes.  LEN counts its own digits.  */
static void
pax_record_n (struct rawtar *rec, const char *key, const void *value, size_t vlen)
{
  size_t n = strlen (key) + vlen + 3, len = n + 1; /* ' ', '=', '\n' */
  char num[32];

  for (;;)
    {
      size_t digits = (size_t) snprintf (num, sizeof num, "%zu", len);
      if (digits + n == len)
        break;
      len = digits + n;
    }
  raw_add (rec, num, strlen (num));
  raw_add (rec, " ", 1);
  raw_add (rec, key, strlen (key));
  raw_add (rec, "=", 1);
  raw_add (rec, value, vlen);
  raw_add (rec, "\n", 1);
}

static void
pax_record (struct rawtar *rec, const char *key, const char *value)
{
  pax_record_n (rec, key, value, strlen (value));
}

static void
raw_pax (struct rawtar *r, const struct rawtar *records)
{
  raw_header (r, "PaxHeaders/x", 'x', records->len, NULL);
  raw_add (r, records->p, records->len);
  raw_pad (r);
}

static void
raw_end (struct rawtar *r)
{
  static const unsigned char zero[1024];
  raw_add (r, zero, sizeof zero);
}

static int
run_raw (const struct rawtar *r)
{
  return run_buf (r->p, r->len);
}

/* ==================================================================== */
/* Entry names                                                           */
/* ==================================================================== */

/* A pax "path" record is length-counted and may carry a NUL byte: "a\0/../../x".
   libarchive stores the value as a C string, so the name ends at the NUL: the entry is
   "a", never "a/../../x" (which would climb out), and an empty result falls back to the
   ustar name, as for a pax header without "path".  A NUL hiding the tail of a climbing
   name does not help it either.  */
Test (hostile, pax_path_with_nul_byte_ends_at_the_nul)
{
  static const char climb[] = "a\0/../../sentinel/victim";
  static const char empty[] = "\0../sentinel/victim";
  static const char tail[] = "../sentinel/victim\0harmless";
  struct rawtar r = { 0 }, rec = { 0 };

  pax_record_n (&rec, "path", climb, sizeof climb - 1);
  cr_assert_eq (rec.len, 33, "the record '%.*s' has a wrong length", (int) rec.len, rec.p);
  cr_assert (memcmp (rec.p, "33 path=a\0/../../sentinel/victim\n", 33) == 0);
  raw_pax (&r, &rec);
  raw_file (&r, "ustar-name-1", "pwned", 5);
  free (rec.p);
  rec = (struct rawtar){ 0 };
  pax_record_n (&rec, "path", empty, sizeof empty - 1);
  raw_pax (&r, &rec);
  raw_file (&r, "ustar-name-2", "fallback", 8);
  raw_end (&r);
  assert_ok (run_raw (&r));
  assert_text ("a", "pwned");
  assert_text ("ustar-name-2", "fallback");
  cr_assert (! exists ("ustar-name-1"), "the pax path was ignored");
  cr_assert_eq (count_entries (""), 2);
  cr_assert_eq (stats.entries, 2);
  free (rec.p);
  free (r.p);

  r = (struct rawtar){ 0 };
  rec = (struct rawtar){ 0 };
  pax_record_n (&rec, "path", tail, sizeof tail - 1);
  raw_pax (&r, &rec);
  raw_file (&r, "ustar-name-3", "pwned", 5);
  raw_end (&r);
  clear_root ();
  assert_fails (run_raw (&r), EXDEV, "climbs above the layer root");
  cr_assert_eq (count_entries (""), 0);
  free (rec.p);
  free (r.p);
  assert_outside_untouched ();
}

/* "d/d/.../d/f": COMPONENTS one-byte components, 2 * COMPONENTS - 1 bytes.  */
static char *
deep_name (size_t components)
{
  char *name = xmalloc (2 * components);

  for (size_t i = 0; i < components - 1; i++)
    memcpy (name + 2 * i, "d/", 2);
  name[2 * components - 2] = 'f';
  name[2 * components - 1] = '\0';
  return name;
}

/* Remove NAME (a file, relative to the root) and every directory above it, deepest
   first, cutting NAME down in place: fx_rm_rf would hold one fd per level, more than
   the usual RLIMIT_NOFILE of 1024 for 2000 levels.  */
static void
remove_deep (char *name)
{
  char *slash;

  cr_assert_eq (unlinkat (rootfd, name, 0), 0, "%s", strerror (errno));
  while ((slash = strrchr (name, '/')) != NULL)
    {
      *slash = '\0';
      cr_assert_eq (unlinkat (rootfd, name, AT_REMOVEDIR), 0, "%s", strerror (errno));
    }
}

/* 2000 nested directories, a name of 3999 bytes: under OCIP_LIMIT_PATH_LENGTH, so a real
   (if odd) image; the resolver walks it without recursion or an fd per level.  */
Test (hostile, nesting_2000_deep_under_the_path_limit)
{
  struct fx_tar *t = fx_tar_new ();
  char *name = deep_name (2000);

  cr_assert_eq (strlen (name), 3999);
  fx_tar_file (t, name, 0640, "at the bottom");
  assert_ok (extract (t));
  assert_text (name, "at the bottom");
  assert_mode (name, S_IFREG, 0640);
  cr_assert_eq (stats.entries, 1);
  remove_deep (name);
  free (name);
  assert_outside_untouched ();
}

/* 2100 components, 4199 bytes: over the limit, refused before anything is created.  */
Test (hostile, nesting_2100_deep_over_the_path_limit)
{
  struct fx_tar *t = fx_tar_new ();
  char *name = deep_name (2100);

  cr_assert_eq (strlen (name), 4199);
  fx_tar_file (t, name, 0644, "too deep");
  assert_fails (extract (t), ENAMETOOLONG, "over 4096 bytes");
  cr_assert_eq (count_entries (""), 0, "a refused name left directories behind");
  free (name);
  assert_outside_untouched ();
}

/* N components of LEN bytes each ('p'), the last one LAST bytes, joined by '/'.  */
static char *
long_name (size_t n, size_t len, size_t last)
{
  char *name = xmalloc (n * (len + 1) + last + 1), *p = name;

  for (size_t i = 0; i < n; i++)
    {
      memset (p, 'p', i + 1 < n ? len : last);
      p += i + 1 < n ? len : last;
      *p++ = i + 1 < n ? '/' : '\0';
    }
  return name;
}

/* The limit is on bytes and exact: 4095 bytes (with the NUL, the kernel's PATH_MAX)
   extract, 4096 do not; long components keep the tree shallow, so this is the length
   check, not the depth.  */
Test (hostile, path_length_limit_is_exact)
{
  struct fx_tar *t = fx_tar_new ();
  char *name = long_name (17, 240, 239), *over = long_name (17, 240, 240);

  cr_assert_eq (strlen (name), OCIP_LIMIT_PATH_LENGTH - 1);
  cr_assert_eq (strlen (over), OCIP_LIMIT_PATH_LENGTH);
  fx_tar_file (t, name, 0644, "4095");
  assert_ok (extract (t));
  assert_text (name, "4095");
  remove_deep (name);

  t = fx_tar_new ();
  fx_tar_file (t, over, 0644, "4096");
  assert_fails (extract (t), ENAMETOOLONG, "over 4096 bytes");
  cr_assert_eq (count_entries (""), 0);
  free (name);
  free (over);
  assert_outside_untouched ();
}

/* A component of NAME_MAX + 1 bytes, in every position and for every kind of entry:
   ENAMETOOLONG from the resolver or the kernel, nothing outside.  */
Test (hostile, component_over_name_max_refused)
{
  char c256[257], name[600];
  struct fx_tar *t;
  struct archive_entry *e;

  memset (c256, 'n', 256);
  c256[256] = '\0';

  t = fx_tar_new ();
  snprintf (name, sizeof name, "d/%s", c256);
  fx_tar_file (t, name, 0644, "last component");
  assert_fails (extract (t), ENAMETOOLONG, c256);
  clear_root ();

  t = fx_tar_new ();
  snprintf (name, sizeof name, "%s/f", c256);
  fx_tar_file (t, name, 0644, "middle component");
  assert_fails (extract (t), ENAMETOOLONG, c256);
  cr_assert_eq (count_entries (""), 0);

  t = fx_tar_new ();
  fx_tar_dir (t, c256, 0755);
  assert_fails (extract (t), ENAMETOOLONG, c256);
  cr_assert_eq (count_entries (""), 0);

  t = fx_tar_new ();
  fx_tar_symlink (t, c256, sentinel);
  assert_fails (extract (t), ENAMETOOLONG, c256);
  cr_assert_eq (count_entries (""), 0);

  t = fx_tar_new ();
  fx_tar_file (t, "target", 0644, "t");
  fx_tar_hardlink (t, c256, "target");
  assert_fails (extract (t), ENAMETOOLONG, c256);
  clear_root ();

  t = fx_tar_new ();
  e = fx_entry_new (c256, AE_IFCHR, 0644);
  archive_entry_set_rdevmajor (e, 1);
  archive_entry_set_rdevminor (e, 3);
  tar_entry (t, e, NULL, 0);
  assert_fails (extract (t), ENAMETOOLONG, c256);
  cr_assert_eq (count_entries (""), 0);

  /* ".wh." + 256 bytes names a file that cannot exist.  */
  t = fx_tar_new ();
  fx_tar_whiteout (t, c256);
  assert_fails (extract (t), ENAMETOOLONG, c256);
  cr_assert_eq (count_entries (""), 0);
  assert_outside_untouched ();
}

/* Must accept: deleting a file with a 255-byte name gives a whiteout entry whose own
   last component is 259 bytes; it names a legal file.  */
Test (hostile, whiteout_of_a_255_byte_name_accepted)
{
  struct fx_tar *t = fx_tar_new ();
  char c255[256], name[300];

  memset (c255, 'w', 255);
  c255[255] = '\0';
  fx_tar_whiteout (t, c255);
  snprintf (name, sizeof name, "d/%s", c255);
  fx_tar_whiteout (t, name);
  assert_ok (extract (t));
  assert_whiteout (c255);
  assert_whiteout (name);
  assert_outside_untouched ();
}

/* ==================================================================== */
/* Symlinks with odd names                                               */
/* ==================================================================== */

/* A symlink named ".." (or "x/../.."): climbs above the root, refused ("a/..", the
   root itself, is test_extract's root_entry_as_symlink_refused).  One named "d/sub/.."
   is lexically "d": it replaces the directory d by a symlink (as a plain "d" entry
   would), and a later write through it resolves inside the root, where it dangles.  */
Test (hostile, symlink_named_dotdot)
{
  static const char *climbing[] = { "..", "x/../..", "./..", "../" };
  struct fx_tar *t;

  for (size_t i = 0; i < sizeof climbing / sizeof climbing[0]; i++)
    {
      t = fx_tar_new ();
      fx_tar_symlink (t, climbing[i], sentinel);
      fx_tar_file (t, "victim", 0666, "pwned");
      assert_fails (extract (t), EXDEV, "climbs above the layer root");
      cr_assert_eq (count_entries (""), 0, "'%s' left something behind", climbing[i]);
    }

  t = fx_tar_new ();
  fx_tar_dir (t, "d", 0755);
  fx_tar_dir (t, "d/sub", 0755);
  fx_tar_file (t, "d/sub/f", 0644, "f");
  fx_tar_symlink (t, "d/sub/..", sentinel);
  fx_tar_file (t, "d/victim", 0666, "pwned");
  /* The symlink dangles inside the root: writing through it is refused, not redirected
     to the host.  */
  assert_fails (extract (t), ENOENT, "d/victim");
  assert_symlink ("d", sentinel);
  cr_assert_eq (count_entries (""), 1);
  assert_outside_untouched ();
}

/* An entry with an empty name (ustar name field empty, no pax path): there is nothing
   to create, refused as malformed.  A pax "path" of "/" (which a ustar name field of
   "x" does not override) names the root, which a symlink may not replace.  */
Test (hostile, symlink_with_an_empty_name)
{
  struct rawtar r = { 0 }, rec = { 0 };

  raw_header (&r, "", '2', 0, sentinel_rel);
  raw_end (&r);
  assert_fails (run_raw (&r), EINVAL, "entry without a name");
  cr_assert_eq (count_entries (""), 0);
  free (r.p);

  r = (struct rawtar){ 0 };
  pax_record (&rec, "path", "/");
  pax_record (&rec, "linkpath", sentinel);
  raw_pax (&r, &rec);
  raw_header (&r, "x", '2', 0, "x");
  raw_end (&r);
  assert_fails (run_raw (&r), EXDEV, "would replace the layer root");
  cr_assert_eq (count_entries (""), 0);
  assert_mode ("", S_IFDIR, 0755);
  free (rec.p);
  free (r.p);
  assert_outside_untouched ();
}

/* ==================================================================== */
/* A later entry needs a directory where a file is                      */
/* ==================================================================== */

/* "a" is a file, then "a/b" (and every other kind of entry below a file, through a
   symlink to it too) wants it as a directory: ENOTDIR, the file is neither replaced nor
   opened as a directory.  */
Test (hostile, entry_below_a_file_is_enotdir)
{
  static const struct
  {
    const char *what, *name;
    char kind; /* f file, d dir, l symlink, w whiteout, o opaque marker */
  } cases[] = {
    { "file", "a/b", 'f' },          { "deeper file", "a/b/c", 'f' }, { "directory", "a/d", 'd' },
    { "symlink", "a/l", 'l' },       { "whiteout", "a/b", 'w' },      { "opaque marker", "a", 'o' },
    { "through a symlink", "s/b", 'f' },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct fx_tar *t = fx_tar_new ();

      fx_tar_file (t, "a", 0644, "a file");
      fx_tar_symlink (t, "s", "a");
      switch (cases[i].kind)
        {
        case 'f':
          fx_tar_file (t, cases[i].name, 0644, "below a file");
          break;
        case 'd':
          fx_tar_dir (t, cases[i].name, 0755);
          break;
        case 'l':
          fx_tar_symlink (t, cases[i].name, sentinel);
          break;
        case 'w':
          fx_tar_whiteout (t, cases[i].name);
          break;
        case 'o':
          fx_tar_opaque (t, cases[i].name);
          break;
        }
      assert_fails (extract (t), ENOTDIR, cases[i].kind == 'o' ? "'a'" : cases[i].name);
      assert_text ("a", "a file");
      assert_mode ("a", S_IFREG, 0644);
      cr_assert_eq (count_entries (""), 2, "%s: something was created below or beside the file", cases[i].what);
      clear_root ();
    }
  assert_outside_untouched ();
}

/* ==================================================================== */
/* Modes, owners, devices, times                                         */
/* ==================================================================== */

/* A literal character device 0/0 is extracted as what it says, and that IS overlayfs'
   whiteout format: in the layer directory the two are the same thing (Docker's and
   containerd's overlay snapshotters have the same equivalence).  Device 0/0 is no usable
   device (major 0 is the unnamed/reserved one), so an image loses nothing: the entry
   keeps its own mode, owner and time, and in a bundle it hides the lower file.  */
Test (hostile, literal_char_device_0_0_is_a_whiteout)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e = fx_entry_new ("dev00", AE_IFCHR, 0640);
  struct stat st;

  archive_entry_set_rdevmajor (e, 0);
  archive_entry_set_rdevminor (e, 0);
  archive_entry_set_uid (e, 12);
  archive_entry_set_gid (e, 34);
  tar_entry (t, e, NULL, 0);
  fx_tar_whiteout (t, "wh");
  assert_ok (extract (t));
  assert_whiteout ("dev00");
  assert_whiteout ("wh");
  st = lst ("dev00");
  cr_assert_eq (st.st_mode & 07777, 0640);
  cr_assert (st.st_uid == 12 && st.st_gid == 34);
  assert_outside_untouched ();
}

/* Times libarchive reads but most filesystems cannot store: year 1600 (negative), year
   300000, and the largest nanosecond value.  Extracted without error; the kernel clamps
   the seconds to the filesystem's range (utimensat(2) never refuses a valid timespec):
   ext4 keeps 1901..2446, XFS without bigtime 1901..2038, tmpfs everything.  */
Test (hostile, mtimes_out_of_range_are_clamped)
{
  static const long long y1600 = -11676096000LL, y300000 = 9404839526400LL;
  struct fx_tar *t = fx_tar_new_format ("pax");
  struct archive_entry *e;
  struct stat st;

  fx_tar_file_ex (t, "old", 0644, 0, 0, y1600, "old", 3);
  fx_tar_file_ex (t, "future", 0644, 0, 0, y300000, "future", 6);
  e = fx_entry_new ("nsec", AE_IFREG, 0644);
  archive_entry_set_mtime (e, 1234567890, 999999999);
  tar_entry (t, e, NULL, 0);
  e = fx_entry_new ("olddir", AE_IFDIR, 0755);
  archive_entry_set_mtime (e, (time_t) y1600, 999999999);
  tar_entry (t, e, NULL, 0);
  fx_tar_file (t, "olddir/child", 0644, "c");
  e = fx_entry_new ("futurelink", AE_IFLNK, 0777);
  archive_entry_set_symlink (e, "future");
  archive_entry_set_mtime (e, (time_t) y300000, 0);
  tar_entry (t, e, NULL, 0);
  e = fx_entry_new ("olddev", AE_IFIFO, 0644);
  archive_entry_set_mtime (e, (time_t) y1600, 0);
  tar_entry (t, e, NULL, 0);
  assert_ok (extract (t));

  assert_text ("old", "old");
  st = lst ("old");
  cr_assert_lt (st.st_mtim.tv_sec, 0, "year 1600 became %lld", (long long) st.st_mtim.tv_sec);
  cr_assert_geq (st.st_mtim.tv_sec, y1600);
  assert_text ("future", "future");
  st = lst ("future");
  cr_assert_geq (st.st_mtim.tv_sec, (time_t) INT32_MAX, "year 300000 became %lld", (long long) st.st_mtim.tv_sec);
  cr_assert_leq (st.st_mtim.tv_sec, y300000);
  st = lst ("nsec");
  cr_assert (st.st_mtim.tv_sec == 1234567890 && st.st_mtim.tv_nsec == 999999999, "nsec: %lld.%09ld",
             (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  st = lst ("olddir");
  cr_assert (S_ISDIR (st.st_mode));
  cr_assert_lt (st.st_mtim.tv_sec, 0, "the directory's year-1600 time became %lld", (long long) st.st_mtim.tv_sec);
  assert_text ("olddir/child", "c");
  assert_symlink ("futurelink", "future");
  cr_assert_geq (lst ("futurelink").st_mtim.tv_sec, (time_t) INT32_MAX);
  cr_assert (S_ISFIFO (lst ("olddev").st_mode));
  assert_outside_untouched ();
}

/* ==================================================================== */
/* Whiteouts inside one layer                                            */
/* ==================================================================== */

/* ".wh.f" and "f" in one layer, in both orders: a whiteout hides only the layers below
   (image-spec layer.md; umoci keeps what the layer extracted), never the layer's own
   entry.  A file stays a file; a directory after its whiteout, or before it, is opaque
   and keeps the layer's entries.  */
Test (hostile, whiteout_hides_only_lower_layers_in_either_order)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_whiteout (t, "f");
  fx_tar_file (t, "f", 0600, "file after whiteout");
  fx_tar_file (t, "g", 0600, "file before whiteout");
  fx_tar_whiteout (t, "g");
  fx_tar_dir (t, "d", 0755);
  fx_tar_whiteout (t, "d/h");
  fx_tar_dir (t, "d/h", 0700);
  fx_tar_file (t, "d/h/x", 0644, "x");
  fx_tar_dir (t, "d/i", 0700);
  fx_tar_file (t, "d/i/x", 0644, "x");
  fx_tar_whiteout (t, "d/i");
  assert_ok (extract (t));
  assert_text ("f", "file after whiteout");
  assert_mode ("f", S_IFREG, 0600);
  assert_text ("g", "file before whiteout");
  assert_mode ("d/h", S_IFDIR, 0700);
  assert_text ("d/h/x", "x");
  assert_mode ("d/i", S_IFDIR, 0700);
  assert_text ("d/i/x", "x");
  assert_xattr ("d/h", OPQ, "y");
  assert_xattr ("d/i", OPQ, "y");
  cr_assert_eq (count_entries (""), 3);
  assert_outside_untouched ();
}

/* An opaque marker among siblings, before and after it: the directory is opaque and
   every sibling this layer lists is kept.  */
Test (hostile, opaque_marker_keeps_its_siblings)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "d", 0750);
  fx_tar_file (t, "d/before", 0644, "before");
  fx_tar_dir (t, "d/subdir", 0755);
  fx_tar_file (t, "d/subdir/inner", 0644, "inner");
  fx_tar_opaque (t, "d");
  fx_tar_file (t, "d/after", 0644, "after");
  fx_tar_symlink (t, "d/link", "before");
  assert_ok (extract (t));
  assert_mode ("d", S_IFDIR, 0750);
  assert_xattr ("d", OPQ, "y");
  assert_text ("d/before", "before");
  assert_text ("d/after", "after");
  assert_text ("d/subdir/inner", "inner");
  assert_symlink ("d/link", "before");
  cr_assert_eq (count_entries ("d"), 4);
  assert_outside_untouched ();
}

/* ==================================================================== */
/* The tar stream                                                        */
/* ==================================================================== */

/* A tar cut right after the last entry's data (no end-of-archive blocks), or with one
   zero block of the two: libarchive reads a clean end of input at a header boundary as
   the end of the archive, so the stream is accepted (GNU tar does the same, with a
   warning).  Harmless: the diffID covers exactly the bytes there are.  Cut anywhere else
   it is a truncated stream (test_extract's truncated_* cases).  */
Test (hostile, missing_end_blocks_accepted)
{
  struct rawtar r = { 0 };
  static const unsigned char zero[512];

  raw_file (&r, "first", "1", 1);
  raw_file (&r, "last", "last entry", 10);
  assert_ok (run_raw (&r));
  assert_text ("first", "1");
  assert_text ("last", "last entry");
  cr_assert_eq (stats.entries, 2);
  clear_root ();

  raw_add (&r, zero, sizeof zero);
  assert_ok (run_raw (&r));
  assert_text ("last", "last entry");
  cr_assert_eq (stats.entries, 2);
  free (r.p);
  assert_outside_untouched ();
}

/* The pax "size" record overrides the ustar size field, and libarchive reads the stream
   the pax way only.  A ustar-only reader would see one 1536-byte file; libarchive sees
   a 5-byte file and then a header hidden in that file's data.  The hidden entry is an
   entry like any other: created inside the root when harmless, refused when it climbs.
   The other way round (pax size larger than the data) swallows the next header as data
   and then finds garbage where a header should be: a bad stream.  */
static void
smuggling_tar (struct rawtar *r, const char *hidden_name)
{
  struct rawtar rec = { 0 }, hidden = { 0 };
  unsigned char data[1536] = { 0 };

  pax_record (&rec, "size", "5");
  raw_pax (r, &rec);
  memcpy (data, "hello", 5);
  raw_file (&hidden, hidden_name, "smuggled", 8);
  cr_assert_eq (hidden.len, 1024);
  memcpy (data + 512, hidden.p, 1024);
  raw_header (r, "f", '0', sizeof data, NULL);
  raw_add (r, data, sizeof data);
  raw_end (r);
  free (rec.p);
  free (hidden.p);
}

Test (hostile, pax_size_contradicts_the_ustar_size)
{
  struct rawtar r = { 0 }, rec = { 0 };
  char evil[PATH_MAX];

  smuggling_tar (&r, "hidden");
  assert_ok (run_raw (&r));
  assert_text ("f", "hello");
  assert_text ("hidden", "smuggled");
  cr_assert_eq (stats.entries, 2);
  free (r.p);

  clear_root ();
  r = (struct rawtar){ 0 };
  smuggling_tar (&r, "../sentinel/victim");
  assert_fails (run_raw (&r), EXDEV, "../sentinel/victim");
  free (r.p);

  clear_root ();
  r = (struct rawtar){ 0 };
  snprintf (evil, sizeof evil, "%s/victim", sentinel);
  smuggling_tar (&r, evil);
  assert_ok (run_raw (&r));
  snprintf (evil, sizeof evil, "%s/victim", sentinel_rel);
  assert_text (evil, "smuggled");
  free (r.p);

  clear_root ();
  r = (struct rawtar){ 0 };
  pax_record (&rec, "size", "1024");
  raw_pax (&r, &rec);
  raw_file (&r, "g", "hello", 5);
  raw_file (&r, "next", "next", 4);
  raw_end (&r);
  assert_fails (run_raw (&r), EBADMSG, "bad tar stream");
  cr_assert (! exists ("next"), "the swallowed header was applied");
  free (rec.p);
  free (r.p);

  /* A negative size is no size.  */
  clear_root ();
  r = (struct rawtar){ 0 };
  rec = (struct rawtar){ 0 };
  pax_record (&rec, "size", "-512");
  raw_pax (&r, &rec);
  raw_file (&r, "neg", "hello", 5);
  raw_end (&r);
  assert_fails (run_raw (&r), EBADMSG, "bad tar stream");
  free (rec.p);
  free (r.p);
  assert_outside_untouched ();
}

/* Typeflags tar does not define.  POSIX says an unknown type is read as a regular file,
   and libarchive does so: 'Z' with data is a file with that data ('7', contiguous, is
   one by definition).  'A' is Solaris' ACL header: libarchive parses its data as an ACL
   for the next entry; garbage there is only a warning ("Malformed Solaris ACL
   attribute").  oci-prep takes every libarchive warning but a charset conversion as a
   bad stream, as containerd and Docker refuse these headers: nothing is extracted.  */
Test (hostile, unknown_typeflags)
{
  struct rawtar r = { 0 };

  raw_header (&r, "zfile", 'Z', 3, NULL);
  raw_add (&r, "zzz", 3);
  raw_pad (&r);
  raw_header (&r, "sevenfile", '7', 5, NULL);
  raw_add (&r, "seven", 5);
  raw_pad (&r);
  raw_end (&r);
  assert_ok (run_raw (&r));
  assert_text ("zfile", "zzz");
  assert_mode ("zfile", S_IFREG, 0644);
  assert_text ("sevenfile", "seven");
  cr_assert_eq (stats.entries, 2);
  free (r.p);

  clear_root ();
  r = (struct rawtar){ 0 };
  raw_header (&r, "../sentinel/afile", 'A', 16, NULL);
  raw_add (&r, "this is no ACL!!", 16);
  raw_pad (&r);
  raw_file (&r, "after", "after", 5);
  raw_end (&r);
  assert_fails (run_raw (&r), EBADMSG, "Malformed Solaris ACL");
  cr_assert_eq (count_entries (""), 0, "something was extracted from a refused stream");
  free (r.p);
  assert_outside_untouched ();
}

/* A pax header with a malformed record (its length runs past the header): libarchive
   only warns ("Ignoring malformed pax extended attribute") and would apply half of it.
   Refused, as Go's archive/tar (containerd, Docker) refuses it.  */
Test (hostile, malformed_pax_record_is_refused)
{
  struct rawtar r = { 0 }, rec = { 0 };

  pax_record (&rec, "uid", "123456");
  raw_add (&rec, "99 path=../sentinel/x\n", 22);
  pax_record (&rec, "gid", "4242");
  raw_pax (&r, &rec);
  raw_file (&r, "ustar-name", "hello", 5);
  raw_end (&r);
  assert_fails (run_raw (&r), EBADMSG, "malformed pax");
  cr_assert_eq (count_entries (""), 0, "half a pax header was applied");
  free (rec.p);
  free (r.p);
  assert_outside_untouched ();
}

/* ==================================================================== */
/* Through the binary: load and bundle                                   */
/* ==================================================================== */

/* TMP/img/NAME, a new layout.  */
static char *
layout_dir (const char *name)
{
  char *dir = fmt ("%s/%s", imgdir, name);
  fx_layout_init (dir);
  return dir;
}

/* An image of the N layer tars TARS (gzip unless LAYER_COMPRESSION says otherwise) with
   CONFIG, as TMP/img/NAME:latest.  Returns the image reference; *RES (may be NULL) gets
   what was written.  */
static const char *layer_compression; /* NULL: gzip */

static char *
make_image (const char *name, void *const *tars, const size_t *lens, size_t n, const char *config,
            struct fx_image_result *res)
{
  char *dir = layout_dir (name), *ref;
  struct fx_layer *layers = xcalloc (n, sizeof *layers);
  struct fx_image img = { .dir = dir, .layers = layers, .n_layers = n, .config = config };
  struct fx_image_result local;
  struct fx_index_entry e = { .ref = "latest" };

  for (size_t i = 0; i < n; i++)
    layers[i] = (struct fx_layer){ .tar = tars[i], .tar_len = lens[i], .compression = layer_compression };
  fx_image_write_full (&img, res ? res : &local);
  e.desc = (res ? res : &local)->manifest;
  fx_index_write (dir, &e, 1);
  if (res == NULL)
    fx_image_result_free (&local);
  ref = fmt ("%s:latest", dir);
  free (layers);
  free (dir);
  return ref;
}

/* A one-layer image written by hand in TMP/img/NAME: the layer blob BLOB (LEN bytes,
   MEDIA_TYPE) whose config claims DIFF_ID.  */
static char *
image_of_blob (const char *name, const void *blob, size_t len, const char *media_type, const char *diff_id)
{
  char *dir = layout_dir (name), *config, *manifest, *ref;
  struct fx_desc layer, c;
  struct fx_index_entry e = { .ref = "latest" };

  fx_blob_put (dir, "sha256", media_type, blob, len, &layer);
  config = fmt ("{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":" GOOD_CMD
                ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                fx_host_arch (), diff_id);
  fx_blob_put (dir, "sha256", FX_MT_CONFIG, config, strlen (config), &c);
  manifest = fmt ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
                  "\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}]}",
                  FX_MT_MANIFEST, FX_MT_CONFIG, c.digest, c.size, layer.media_type, layer.digest, layer.size);
  fx_blob_put (dir, "sha256", FX_MT_MANIFEST, manifest, strlen (manifest), &e.desc);
  fx_index_write (dir, &e, 1);
  ref = fmt ("%s:latest", dir);
  free (config);
  free (manifest);
  free (dir);
  return ref;
}

static char *
tar_bytes (struct fx_tar *t, size_t *len)
{
  void *buf;

  fx_tar_finish (t, &buf, len);
  return buf;
}

/* oci-prep --store STORE ARGS...  */
#define PREP(r, ...) tu_prep_store ((r), store, (const char *const[]){ __VA_ARGS__, NULL })

/* Entries of STORE/SUB ("." and ".." excluded), -1 when it does not exist.  */
static int
store_entries (const char *sub)
{
  char *path = fmt ("%s/%s", store, sub);
  DIR *d = opendir (path);
  struct dirent *de;
  int n = 0;

  free (path);
  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      n++;
  closedir (d);
  return n;
}

/* A failed load left no layer and no work area.  */
static void
assert_store_clean (void)
{
  cr_assert_leq (store_entries ("layers"), 0, "a failed layer is in the store");
  cr_assert_leq (store_entries ("tmp"), 0, "a failed layer left its work area");
}

static char *
bundle_path (const char *name)
{
  return fmt ("%s/%s", bundles, name);
}

static char *
in_rootfs (const char *bundle, const char *rel)
{
  return fmt ("%s/%s/rootfs/%s", bundles, bundle, rel);
}

/* oci-prep bundle [--flat] IMG TMP/bundles/NAME, which must succeed.  */
static void
bundle_ok (const char *img, const char *name, bool flat)
{
  struct tu_result r;
  char *b = bundle_path (name);

  if (flat)
    PREP (&r, "bundle", "--flat", img, b);
  else
    PREP (&r, "bundle", img, b);
  cr_assert_eq (r.status, 0, "oci-prep bundle%s failed (%d): %s", flat ? " --flat" : "", r.status, r.err);
  tu_result_free (&r);
  free (b);
}

static void
bundle_rm (const char *name)
{
  struct tu_result r;
  char *b = bundle_path (name);

  PREP (&r, "rm", b);
  cr_assert_eq (r.status, 0, "oci-prep rm %s: %s", b, r.err);
  tu_result_free (&r);
  cr_assert_eq (tu_mount_points_under (tmp, NULL), 0, "rm left a mount");
  free (b);
}

/* Everything about the rootfs of bundle NAME but times, inode numbers and directory
   sizes (which overlayfs and a plain directory report differently), sorted.  */
static char *
tree_of (const char *name)
{
  struct tu_result r;
  char *out;

  tu_sh (&r,
         "cd '%s/%s/rootfs' && { find . -mindepth 1 ! -type d -printf '%%p %%y %%m %%U:%%G %%s %%l\\n'; "
         "find . -mindepth 1 -type d -printf '%%p %%y %%m %%U:%%G\\n'; "
         "find . -type f -exec sha256sum {} +; } | LC_ALL=C sort",
         bundles, name);
  cr_assert_eq (r.status, 0, "%s", r.err);
  out = r.out;
  free (r.err);
  return out;
}

/* Bundle IMG as TMP/bundles/ovl (overlay) and TMP/bundles/flat (--flat) and assert that
   both rootfs show the same tree.  */
static void
bundle_both_agree (const char *img)
{
  char *ovl, *flat;

  bundle_ok (img, "ovl", false);
  bundle_ok (img, "flat", true);
  ovl = tree_of ("ovl");
  flat = tree_of ("flat");
  cr_assert_str_eq (ovl, flat, "overlay and --flat disagree:\n--- overlay\n%s--- flat\n%s", ovl, flat);
  free (ovl);
  free (flat);
}

static void
bundles_rm (void)
{
  bundle_rm ("ovl");
  bundle_rm ("flat");
}

/* In both bundles, REL is a regular file holding TEXT.  */
static void
expect_file_in_both (const char *rel, const char *text)
{
  static const char *const names[] = { "ovl", "flat" };

  for (size_t i = 0; i < 2; i++)
    {
      char *p = in_rootfs (names[i], rel), *got;
      struct stat st;

      cr_assert_eq (lstat (p, &st), 0, "%s: %s is missing: %s", names[i], rel, strerror (errno));
      cr_assert (S_ISREG (st.st_mode), "%s: %s is not a regular file (0%o)", names[i], rel, st.st_mode);
      got = fx_read_file (p, NULL);
      cr_assert_str_eq (got, text, "%s: %s", names[i], rel);
      free (got);
      free (p);
    }
}

static void
expect_absent_in_both (const char *rel)
{
  static const char *const names[] = { "ovl", "flat" };

  for (size_t i = 0; i < 2; i++)
    {
      char *p = in_rootfs (names[i], rel);
      struct stat st;

      cr_assert (lstat (p, &st) < 0 && errno == ENOENT, "%s: %s is there (mode 0%o)", names[i], rel, st.st_mode);
      free (p);
    }
}

static void
expect_dir_in_both (const char *rel)
{
  static const char *const names[] = { "ovl", "flat" };

  for (size_t i = 0; i < 2; i++)
    {
      char *p = in_rootfs (names[i], rel);
      struct stat st;

      cr_assert_eq (lstat (p, &st), 0, "%s: %s is missing", names[i], rel);
      cr_assert (S_ISDIR (st.st_mode), "%s: %s is not a directory (0%o)", names[i], rel, st.st_mode);
      free (p);
    }
}

/* ==================================================================== */
/* Symlinks across layers                                                */
/* ==================================================================== */

/* Layer 1 plants symlinks out of the rootfs (absolute to the sentinel, relative up to
   TMP and to the sentinel); layer 2 writes, whites out and marks opaque "through" them.  Layer 2 is extracted on its
   own, so it holds directories of those names: in the overlay they shadow the lower
   symlinks (an upper directory over a lower non-directory), and --flat replaces the
   symlink by the directory, never writing through it.  Both views agree, and nothing
   beside the bundle is touched.  */
Test (hostile, symlink_in_a_lower_layer_written_through_in_an_upper_one)
{
  struct fx_tar *t = fx_tar_new ();
  void *tars[2];
  size_t lens[2];
  char *img;
  static const char *const names[] = { "ovl", "flat" };

  fx_tar_symlink (t, "evil", sentinel);
  fx_tar_symlink (t, "evil2", "../../..");
  fx_tar_symlink (t, "evil3", "../../../sentinel");
  fx_tar_symlink (t, "evil4", sentinel);
  tars[0] = tar_bytes (t, &lens[0]);
  t = fx_tar_new ();
  fx_tar_file (t, "evil/x", 0644, "x via evil\n");
  fx_tar_file (t, "evil/victim", 0666, "pwned\n");
  fx_tar_file (t, "evil2/x", 0644, "x via evil2\n");
  fx_tar_whiteout (t, "evil2/sentinel");
  fx_tar_opaque (t, "evil3");
  fx_tar_file (t, "evil3/victim", 0666, "pwned\n");
  fx_tar_dir (t, "evil4", 0700);
  fx_tar_file (t, "evil4/victim", 0666, "pwned\n");
  tars[1] = tar_bytes (t, &lens[1]);
  img = make_image ("img", tars, lens, 2, GOOD_CMD, NULL);

  bundle_both_agree (img);
  expect_dir_in_both ("evil");
  expect_file_in_both ("evil/x", "x via evil\n");
  expect_file_in_both ("evil/victim", "pwned\n");
  expect_dir_in_both ("evil2");
  expect_file_in_both ("evil2/x", "x via evil2\n");
  expect_absent_in_both ("evil2/sentinel");
  expect_dir_in_both ("evil3");
  expect_file_in_both ("evil3/victim", "pwned\n");
  expect_absent_in_both ("evil3/dir");
  expect_dir_in_both ("evil4");
  expect_file_in_both ("evil4/victim", "pwned\n");
  for (size_t i = 0; i < 2; i++)
    {
      char *p = in_rootfs (names[i], "evil4");
      struct stat st;
      cr_assert_eq (lstat (p, &st), 0);
      cr_assert_eq (st.st_mode & 07777, 0700, "%s: the upper directory's mode is not shown", names[i]);
      free (p);
      p = in_rootfs (names[i], "evil/victim");
      cr_assert_eq (lstat (p, &st), 0);
      cr_assert_eq (st.st_mode & 07777, 0666);
      free (p);
    }
  assert_outside_untouched ();
  bundles_rm ();
  assert_outside_untouched ();
  free (img);
  free (tars[0]);
  free (tars[1]);
}

/* ==================================================================== */
/* Whiteouts across layers                                               */
/* ==================================================================== */

/* The 0/0 device of literal_char_device_0_0_is_a_whiteout, in a bundle: it hides the
   lower file in the overlay, and --flat treats it the same way.  */
Test (hostile, literal_char_device_0_0_hides_the_lower_file)
{
  struct fx_tar *t = fx_tar_new ();
  void *tars[2];
  size_t lens[2];
  char *img;

  fx_tar_file (t, "f", 0644, "lower\n");
  fx_tar_file (t, "g", 0644, "kept\n");
  tars[0] = tar_bytes (t, &lens[0]);
  t = fx_tar_new ();
  fx_tar_device (t, "f", 'c', 0, 0);
  tars[1] = tar_bytes (t, &lens[1]);
  img = make_image ("img", tars, lens, 2, GOOD_CMD, NULL);
  bundle_both_agree (img);
  expect_absent_in_both ("f");
  expect_file_in_both ("g", "kept\n");
  bundles_rm ();
  assert_outside_untouched ();
  free (img);
  free (tars[0]);
  free (tars[1]);
}

/* whiteout_hides_only_lower_layers_in_either_order, seen through a bundle over a lower
   layer that has both names.  */
Test (hostile, whiteout_and_file_in_one_layer_over_a_lower_one)
{
  struct fx_tar *t = fx_tar_new ();
  void *tars[2];
  size_t lens[2];
  char *img;

  fx_tar_file (t, "f", 0644, "lower f\n");
  fx_tar_file (t, "g", 0644, "lower g\n");
  tars[0] = tar_bytes (t, &lens[0]);
  t = fx_tar_new ();
  fx_tar_whiteout (t, "f");
  fx_tar_file (t, "f", 0644, "upper f\n");
  fx_tar_file (t, "g", 0644, "upper g\n");
  fx_tar_whiteout (t, "g");
  tars[1] = tar_bytes (t, &lens[1]);
  img = make_image ("img", tars, lens, 2, GOOD_CMD, NULL);
  bundle_both_agree (img);
  expect_file_in_both ("f", "upper f\n");
  expect_file_in_both ("g", "upper g\n");
  bundles_rm ();
  assert_outside_untouched ();
  free (img);
  free (tars[0]);
  free (tars[1]);
}

/* opaque_marker_keeps_its_siblings, in a bundle: the lower directory's entries are gone,
   the siblings of the marker are there.  */
Test (hostile, opaque_directory_with_siblings_over_a_lower_one)
{
  struct fx_tar *t = fx_tar_new ();
  void *tars[2];
  size_t lens[2];
  char *img;

  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/old", 0644, "old\n");
  fx_tar_file (t, "d/same", 0644, "lower same\n");
  fx_tar_dir (t, "d/olddir", 0755);
  fx_tar_file (t, "d/olddir/x", 0644, "x\n");
  tars[0] = tar_bytes (t, &lens[0]);
  t = fx_tar_new ();
  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/a", 0644, "a\n");
  fx_tar_opaque (t, "d");
  fx_tar_file (t, "d/b", 0644, "b\n");
  fx_tar_file (t, "d/same", 0644, "upper same\n");
  tars[1] = tar_bytes (t, &lens[1]);
  img = make_image ("img", tars, lens, 2, GOOD_CMD, NULL);
  bundle_both_agree (img);
  expect_file_in_both ("d/a", "a\n");
  expect_file_in_both ("d/b", "b\n");
  expect_file_in_both ("d/same", "upper same\n");
  expect_absent_in_both ("d/old");
  expect_absent_in_both ("d/olddir");
  expect_absent_in_both ("d/.wh..wh..opq");
  bundles_rm ();
  assert_outside_untouched ();
  free (img);
  free (tars[0]);
  free (tars[1]);
}

/* ==================================================================== */
/* The tar stream through load                                           */
/* ==================================================================== */

/* Bytes after the end-of-archive blocks are part of the layer: its diffID is the hash
   of the whole uncompressed stream.  A config that hashes them in loads; one that
   leaves them out is a diffID mismatch.  */
Test (hostile, trailing_bytes_after_the_end_blocks_count_in_the_diff_id)
{
  struct fx_tar *t = fx_tar_new ();
  static const char trailer[] = "trailing bytes after the end of the archive";
  size_t tar_len, all_len, gz_len;
  char *tar, *all, with[200], without[200], *img;
  void *gz;
  struct tu_result r;

  fx_tar_file (t, "f", 0644, "content\n");
  tar = tar_bytes (t, &tar_len);
  all_len = tar_len + sizeof trailer - 1;
  all = xmalloc (all_len);
  memcpy (all, tar, tar_len);
  memcpy (all + tar_len, trailer, sizeof trailer - 1);
  fx_hash ("sha256", all, all_len, with);
  fx_hash ("sha256", tar, tar_len, without);
  fx_compress (all, all_len, "gzip", &gz, &gz_len);

  img = image_of_blob ("with", gz, gz_len, FX_MT_LAYER_GZIP, with);
  PREP (&r, "load", img);
  cr_assert_eq (r.status, 0, "the trailing bytes hashed in must load: %s", r.err);
  tu_result_free (&r);
  free (img);
  {
    char *f = fmt ("%s/layers/sha256-%s/diff/f", store, with + 7), *got = fx_read_file (f, NULL);
    cr_assert_str_eq (got, "content\n");
    free (got);
    free (f);
  }

  img = image_of_blob ("without", gz, gz_len, FX_MT_LAYER_GZIP, without);
  PREP (&r, "load", img);
  tu_assert_error (&r, "diffID mismatch");
  cr_assert (strstr (r.err, with + 7) != NULL, "the error names another hash: %s", r.err);
  tu_result_free (&r);
  cr_assert_eq (store_entries ("layers"), 1);
  cr_assert_leq (store_entries ("tmp"), 0);
  assert_outside_untouched ();
  free (img);
  free (gz);
  free (all);
  free (tar);
}

/* missing_end_blocks_accepted through load: the layer is what its bytes are.  */
Test (hostile, layer_without_end_blocks_loads)
{
  struct rawtar raw = { 0 };
  char diff_id[200], *img;
  void *gz;
  size_t gz_len;
  struct tu_result r;

  raw_file (&raw, "f", "no end blocks\n", 14);
  fx_hash ("sha256", raw.p, raw.len, diff_id);
  fx_compress (raw.p, raw.len, "gzip", &gz, &gz_len);
  img = image_of_blob ("img", gz, gz_len, FX_MT_LAYER_GZIP, diff_id);
  PREP (&r, "load", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  assert_outside_untouched ();
  free (img);
  free (gz);
  free (raw.p);
}

/* A cpio "newc" archive of one file NAME with DATA.  */
static void
cpio_newc (struct rawtar *out, const char *name, const char *data)
{
  static const unsigned char zero[4];

  for (int i = 0; i < 2; i++)
    {
      const char *n = i == 0 ? name : "TRAILER!!!";
      size_t size = i == 0 ? strlen (data) : 0;
      char h[111];

      snprintf (h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", i + 1u,
                i == 0 ? 0100644u : 0u, 0u, 0u, 1u, (unsigned) FX_MTIME, (unsigned) size, 0u, 0u, 0u, 0u,
                (unsigned) strlen (n) + 1, 0u);
      raw_add (out, h, 110);
      raw_add (out, n, strlen (n) + 1);
      if (out->len % 4)
        raw_add (out, zero, 4 - out->len % 4);
      raw_add (out, data, size);
      if (out->len % 4)
        raw_add (out, zero, 4 - out->len % 4);
    }
}

static void
le16 (struct rawtar *r, unsigned v)
{
  unsigned char b[2] = { v & 0xff, (v >> 8) & 0xff };
  raw_add (r, b, 2);
}

static void
le32 (struct rawtar *r, unsigned long v)
{
  unsigned char b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff };
  raw_add (r, b, 4);
}

/* A zip archive of one stored (uncompressed) file NAME with DATA.  */
static void
zip_stored (struct rawtar *out, const char *name, const char *data)
{
  unsigned long crc = crc32 (0, (const unsigned char *) data, strlen (data));
  size_t cd_offset, cd_size;

  le32 (out, 0x04034b50);
  le16 (out, 20);
  le16 (out, 0);
  le16 (out, 0);
  le16 (out, 0);
  le16 (out, 0x21);
  le32 (out, crc);
  le32 (out, strlen (data));
  le32 (out, strlen (data));
  le16 (out, strlen (name));
  le16 (out, 0);
  raw_add (out, name, strlen (name));
  raw_add (out, data, strlen (data));
  cd_offset = out->len;
  le32 (out, 0x02014b50);
  le16 (out, 20);
  le16 (out, 20);
  le16 (out, 0);
  le16 (out, 0);
  le16 (out, 0);
  le16 (out, 0x21);
  le32 (out, crc);
  le32 (out, strlen (data));
  le32 (out, strlen (data));
  le16 (out, strlen (name));
  le16 (out, 0);
  le16 (out, 0);
  le16 (out, 0);
  le16 (out, 0);
  le32 (out, 0);
  le32 (out, 0);
  raw_add (out, name, strlen (name));
  cd_size = out->len - cd_offset;
  le32 (out, 0x06054b50);
  le16 (out, 0);
  le16 (out, 0);
  le16 (out, 1);
  le16 (out, 1);
  le32 (out, cd_size);
  le32 (out, cd_offset);
  le16 (out, 0);
}

/* Another archive format inside a layer: extraction reads tar only (libarchive's other
   formats are never enabled), whatever the bytes look like.  */
Test (hostile, non_tar_archive_in_a_layer_refused)
{
  static const char *const kinds[] = { "cpio", "zip" };

  for (size_t i = 0; i < 2; i++)
    {
      struct rawtar a = { 0 };
      char diff_id[200], *img;
      void *gz;
      size_t gz_len;
      struct tu_result r;

      if (i == 0)
        cpio_newc (&a, "etc/passwd", "root::0:0::/:/bin/sh\n");
      else
        zip_stored (&a, "etc/passwd", "root::0:0::/:/bin/sh\n");
      /* Both are well-formed enough for libarchive's own readers of their format:
         it is the format support, not the bytes, that refuses them.  */
      {
        struct archive *ar = archive_read_new ();
        struct archive_entry *e;
        if (i == 0)
          archive_read_support_format_cpio (ar);
        else
          archive_read_support_format_zip (ar);
        cr_assert_eq (archive_read_open_memory (ar, a.p, a.len), ARCHIVE_OK);
        cr_assert_eq (archive_read_next_header (ar, &e), ARCHIVE_OK, "%s: %s", kinds[i], archive_error_string (ar));
        cr_assert_str_eq (archive_entry_pathname (e), "etc/passwd");
        archive_read_free (ar);
      }
      fx_hash ("sha256", a.p, a.len, diff_id);
      fx_compress (a.p, a.len, "gzip", &gz, &gz_len);
      img = image_of_blob (kinds[i], gz, gz_len, FX_MT_LAYER_GZIP, diff_id);
      PREP (&r, "load", img);
      tu_assert_error (&r, "not a tar stream");
      /* The message states the cause: no strerror of its class (EBADMSG) after it.  */
      cr_assert (strstr (r.err, "Bad message") == NULL, "%s: the cause is named twice: %s", kinds[i], r.err);
      tu_result_free (&r);
      assert_store_clean ();
      free (img);
      free (gz);
      free (a.p);
    }
  assert_outside_untouched ();
}

/* ==================================================================== */
/* Compression                                                           */
/* ==================================================================== */

/* The media type alone picks the decompressor: gzip bytes labelled zstd are a bad zstd
   stream (the reverse is test_load's media_type_decides_the_decompressor).  */
Test (hostile, gzip_bytes_under_a_zstd_media_type)
{
  struct fx_tar *t = fx_tar_new ();
  size_t tar_len, gz_len;
  char *tar, diff_id[200], *img;
  void *gz;
  struct tu_result r;

  fx_tar_file (t, "f", 0644, "gzip data labelled zstd");
  tar = tar_bytes (t, &tar_len);
  fx_hash ("sha256", tar, tar_len, diff_id);
  fx_compress (tar, tar_len, "gzip", &gz, &gz_len);
  img = image_of_blob ("img", gz, gz_len, FX_MT_LAYER_ZSTD, diff_id);
  PREP (&r, "load", img);
  tu_assert_error (&r, "zstd: ");
  cr_assert (strstr (r.err, "Bad message") == NULL, "the cause is named twice: %s", r.err);
  tu_result_free (&r);
  assert_store_clean ();
  assert_outside_untouched ();
  free (img);
  free (gz);
  free (tar);
}

/* A gzip member whose CRC-32 (or ISIZE) is wrong, in a blob whose digest matches its
   bytes: the digest says the blob is intact, gzip's own check still refuses it.  The
   data decompresses to the right tar, so only the trailer check can catch it.  */
Test (hostile, gzip_bad_crc_with_a_matching_digest)
{
  struct fx_tar *t = fx_tar_new ();
  size_t tar_len, gz_len;
  char *tar, diff_id[200];
  void *gz;
  static const struct
  {
    size_t from_end;
    const char *needle;
  } cases[] = { { 8, "gzip: incorrect data check" }, { 4, "gzip: incorrect length check" } };

  fx_tar_file (t, "f", 0644, "the data is fine, the trailer is not");
  tar = tar_bytes (t, &tar_len);
  fx_hash ("sha256", tar, tar_len, diff_id);
  fx_compress (tar, tar_len, "gzip", &gz, &gz_len);
  for (size_t i = 0; i < 2; i++)
    {
      unsigned char *bad = xmalloc (gz_len);
      char *img, *name = fmt ("img%zu", i);
      struct tu_result r;

      memcpy (bad, gz, gz_len);
      bad[gz_len - cases[i].from_end] ^= 0x01;
      img = image_of_blob (name, bad, gz_len, FX_MT_LAYER_GZIP, diff_id);
      PREP (&r, "load", img);
      tu_assert_error (&r, cases[i].needle);
      tu_result_free (&r);
      assert_store_clean ();
      free (img);
      free (name);
      free (bad);
    }
  assert_outside_untouched ();
  free (gz);
  free (tar);
}

/* ==================================================================== */
/* Layout and graph limits                                               */
/* ==================================================================== */

/* A 20 MB index.json of 100k descriptors: refused by its size before it is parsed,
   quickly, never an OOM or a hang.  */
Test (hostile, index_json_of_20mb_refused, .timeout = 30)
{
  char *dir = layout_dir ("img"), *path = fmt ("%s/index.json", dir);
  size_t cap = 25u * MIB, len = 0;
  char *doc = xmalloc (cap);
  struct tu_result r;
  struct timespec t0, t1;

  len += (size_t) sprintf (doc + len, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[", FX_MT_INDEX);
  for (int i = 0; i < 100000; i++)
    len += (size_t) sprintf (doc + len,
                             "%s{\"mediaType\":\"%s\",\"digest\":\"sha256:%064x\",\"size\":%d,"
                             "\"annotations\":{\"org.opencontainers.image.ref.name\":\"r%06d\"}}",
                             i ? "," : "", FX_MT_MANIFEST, i, 1000 + i, i);
  len += (size_t) sprintf (doc + len, "]}");
  cr_assert_gt (len, 20u * 1000 * 1000);
  fx_write_file (path, doc, len);
  clock_gettime (CLOCK_MONOTONIC, &t0);
  PREP (&r, "load", dir);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  tu_assert_error (&r, "over the limit");
  cr_assert (strstr (r.err, "index.json") && ! strstr (r.err, "Argument list too long"), "%s", r.err);
  cr_assert_lt (t1.tv_sec - t0.tv_sec, 10, "refusing a 20 MB index took %lld s", (long long) (t1.tv_sec - t0.tv_sec));
  tu_result_free (&r);
  assert_outside_untouched ();
  free (doc);
  free (path);
  free (dir);
}

/* Under the size limit, one descriptor over the entry limit: E2BIG on the count, before
   any descriptor is looked at; at the limit the count passes and the (empty)
   descriptors are what fails.  */
Test (hostile, index_entries_over_the_limit_under_the_size_limit)
{
  char *dir = layout_dir ("img"), *path = fmt ("%s/index.json", dir);
  struct tu_result r;

  for (int over = 1; over >= 0; over--)
    {
      size_t n = OCIP_LIMIT_INDEX_ENTRIES + (size_t) over, len = 0;
      char *doc = xmalloc (3 * n + 64);

      len += (size_t) sprintf (doc, "{\"schemaVersion\":2,\"manifests\":[");
      for (size_t i = 0; i < n; i++)
        {
          memcpy (doc + len, i ? ",{}" : "{}", i ? 3 : 2);
          len += i ? 3 : 2;
        }
      memcpy (doc + len, "]}", 2);
      len += 2;
      cr_assert_lt (len, OCIP_LIMIT_JSON_DOCUMENT_SIZE);
      fx_write_file (path, doc, len);
      PREP (&r, "inspect", dir);
      if (over)
        {
          tu_assert_error (&r, "100001 manifests is over the limit of 100000");
          cr_assert (! strstr (r.err, "Argument list too long"), "the cause is named twice: %s", r.err);
        }
      else
        {
          cr_assert_eq (r.status, 1);
          cr_assert (strstr (r.err, "over the limit") == NULL, "100000 entries are within the limit: %s", r.err);
          cr_assert (strstr (r.err, "manifests[0]") != NULL, "%s", r.err);
        }
      tu_result_free (&r);
      free (doc);
    }
  assert_outside_untouched ();
  free (path);
  free (dir);
}

/* A manifest of N_LAYERS copies of one layer (and a config with as many diffIDs), in
   TMP/img/NAME.  */
static char *
many_layers_manifest (const char *name, size_t n_layers)
{
  char *dir = layout_dir (name), *ref;
  struct fx_tar *t = fx_tar_new ();
  size_t tar_len, cap = 256 * n_layers + 4096, len = 0;
  char *tar = tar_bytes (t, &tar_len), diff_id[200];
  char *config = xmalloc (cap), *manifest = xmalloc (cap);
  struct fx_desc layer, c;
  struct fx_index_entry e = { .ref = "latest" };

  fx_hash ("sha256", tar, tar_len, diff_id);
  fx_blob_put (dir, "sha256", FX_MT_LAYER, tar, tar_len, &layer);
  len = (size_t) sprintf (config,
                          "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[",
                          fx_host_arch ());
  for (size_t i = 0; i < n_layers; i++)
    len += (size_t) sprintf (config + len, "%s\"%s\"", i ? "," : "", diff_id);
  len += (size_t) sprintf (config + len, "]}}");
  fx_blob_put (dir, "sha256", FX_MT_CONFIG, config, len, &c);
  len = (size_t) sprintf (manifest,
                          "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                          "\"digest\":\"%s\",\"size\":%lld},\"layers\":[",
                          FX_MT_MANIFEST, FX_MT_CONFIG, c.digest, c.size);
  for (size_t i = 0; i < n_layers; i++)
    len += (size_t) sprintf (manifest + len, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}", i ? "," : "",
                             FX_MT_LAYER, layer.digest, layer.size);
  len += (size_t) sprintf (manifest + len, "]}");
  fx_blob_put (dir, "sha256", FX_MT_MANIFEST, manifest, len, &e.desc);
  fx_index_write (dir, &e, 1);
  ref = fmt ("%s:latest", dir);
  free (config);
  free (manifest);
  free (tar);
  free (dir);
  return ref;
}

Test (hostile, manifest_of_5000_layers_refused)
{
  char *over = many_layers_manifest ("over", 5000), *at = many_layers_manifest ("at", OCIP_LIMIT_LAYERS);
  struct tu_result r;

  PREP (&r, "load", over);
  tu_assert_error (&r, "5000 layers is over the limit of 4096");
  cr_assert (! strstr (r.err, "Argument list too long"), "the cause is named twice: %s", r.err);
  tu_result_free (&r);
  assert_store_clean ();

  /* 4096 is within the limit: inspect reads the whole image.  */
  PREP (&r, "inspect", at);
  cr_assert_eq (r.status, 0, "4096 layers must be within the limit: %s", r.err);
  cr_assert (strstr (r.out, "4096") != NULL, "%s", r.out);
  tu_result_free (&r);
  assert_outside_untouched ();
  free (over);
  free (at);
}

/* A config of LABELS labels of VALUE_LEN bytes each, as TMP/img/NAME:latest.  */
static char *
labelled_image (const char *name, size_t labels, size_t value_len)
{
  struct fx_tar *t = fx_tar_new ();
  size_t tar_len, len = 0;
  char *tar, *config = xmalloc (labels * (value_len + 64) + 256), *value = xmalloc (value_len + 1), *img;
  void *tars[1];

  fx_tar_file (t, "f", 0644, "f");
  tar = tar_bytes (t, &tar_len);
  memset (value, 'v', value_len);
  value[value_len] = '\0';
  len += (size_t) sprintf (config, "{\"Cmd\":[\"/bin/true\"],\"Labels\":{");
  for (size_t i = 0; i < labels; i++)
    len += (size_t) sprintf (config + len, "%s\"label.%06zu\":\"%s\"", i ? "," : "", i, value);
  len += (size_t) sprintf (config + len, "}}");
  tars[0] = tar;
  img = make_image (name, tars, &tar_len, 1, config, NULL);
  free (config);
  free (value);
  free (tar);
  return img;
}

/* One 5 MiB label: the config blob is over the 4 MiB document limit, refused by its
   declared size before it is read.  */
Test (hostile, config_label_of_5mib_refused)
{
  char *img = labelled_image ("img", 1, 5 * MIB);
  struct tu_result r;

  PREP (&r, "config", img);
  tu_assert_error (&r, "over the limit of 4194304 bytes");
  cr_assert (! strstr (r.err, "Argument list too long"), "the cause is named twice: %s", r.err);
  tu_result_free (&r);
  PREP (&r, "load", img);
  tu_assert_error (&r, "over the limit of 4194304 bytes");
  tu_result_free (&r);
  assert_store_clean ();
  assert_outside_untouched ();
  free (img);
}

/* Must accept: 3 MiB of labels (under 4 MiB, 1024 values of 3 KiB) are a big config,
   not a hostile one: they reach config.json's annotations.  */
Test (hostile, config_with_3mib_of_labels_accepted)
{
  char *img = labelled_image ("img", 1024, 3 * 1024);
  struct tu_result r;

  PREP (&r, "config", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_gt (strlen (r.out), 3 * MIB);
  cr_assert (strstr (r.out, "\"label.000000\"") && strstr (r.out, "\"label.001023\""), "labels are missing");
  tu_result_free (&r);
  assert_outside_untouched ();
  free (img);
}

/* ==================================================================== */
/* Config                                                                */
/* ==================================================================== */

/* WorkingDir "/../../etc" is absolute but climbs above "/" lexically: no meaning but an
   escape attempt, refused by config and by bundle, which leaves nothing behind.  */
Test (hostile, working_dir_climbing_above_root_refused)
{
  struct fx_tar *t = fx_tar_new ();
  size_t len;
  void *tars[1];
  char *img, *b = bundle_path ("b");
  struct tu_result r;
  struct stat st;

  fx_tar_dir (t, "etc", 0755);
  tars[0] = tar_bytes (t, &len);
  img = make_image ("img", tars, &len, 1, "{\"Cmd\":[\"/bin/true\"],\"WorkingDir\":\"/../../etc\"}", NULL);
  PREP (&r, "config", img);
  tu_assert_error (&r, "working directory '/../../etc' climbs above '/'");
  tu_result_free (&r);
  PREP (&r, "bundle", img, b);
  tu_assert_error (&r, "working directory '/../../etc' climbs above '/'");
  tu_result_free (&r);
  cr_assert (lstat (b, &st) < 0 && errno == ENOENT, "a failed bundle left its directory");
  cr_assert_eq (tu_mount_points_under (tmp, NULL), 0);
  assert_outside_untouched ();
  free (img);
  free (b);
  free (tars[0]);
}

/* ==================================================================== */
/* Must accept                                                           */
/* ==================================================================== */

/* Whiteouts of names no lower layer has (Docker writes them when a file is created and
   deleted in one build step's layers): the bundle works and shows nothing there.  */
Test (hostile, whiteout_of_a_file_no_lower_layer_has)
{
  struct fx_tar *t = fx_tar_new ();
  void *tars[2];
  size_t lens[2];
  char *img;

  fx_tar_file (t, "kept", 0644, "kept\n");
  tars[0] = tar_bytes (t, &lens[0]);
  t = fx_tar_new ();
  fx_tar_whiteout (t, "never-existed");
  fx_tar_whiteout (t, "nodir/never-existed");
  fx_tar_opaque (t, "new-opaque");
  tars[1] = tar_bytes (t, &lens[1]);
  img = make_image ("img", tars, lens, 2, GOOD_CMD, NULL);
  bundle_both_agree (img);
  expect_file_in_both ("kept", "kept\n");
  expect_absent_in_both ("never-existed");
  expect_absent_in_both ("nodir/never-existed");
  expect_dir_in_both ("new-opaque");
  bundles_rm ();
  assert_outside_untouched ();
  free (img);
  free (tars[0]);
  free (tars[1]);
}

/* Hardlinked binaries in two layers (busybox-style applets, replaced by an upgrade):
   the upper pair wins in both views, and --flat keeps it one inode.  */
Test (hostile, hardlinked_binaries_in_two_layers)
{
  struct fx_tar *t = fx_tar_new ();
  void *tars[2];
  size_t lens[2];
  char *img, *a, *b;
  struct stat sa, sb;

  fx_tar_dir (t, "bin", 0755);
  fx_tar_file (t, "bin/tool", 0755, "v1\n");
  fx_tar_hardlink (t, "bin/alias", "bin/tool");
  fx_tar_hardlink (t, "bin/alias2", "bin/tool");
  tars[0] = tar_bytes (t, &lens[0]);
  t = fx_tar_new ();
  fx_tar_file (t, "bin/tool", 0755, "v2\n");
  fx_tar_hardlink (t, "bin/alias", "bin/tool");
  tars[1] = tar_bytes (t, &lens[1]);
  img = make_image ("img", tars, lens, 2, GOOD_CMD, NULL);
  bundle_ok (img, "ovl", false);
  bundle_ok (img, "flat", true);
  expect_file_in_both ("bin/tool", "v2\n");
  expect_file_in_both ("bin/alias", "v2\n");
  expect_file_in_both ("bin/alias2", "v1\n");
  a = in_rootfs ("flat", "bin/tool");
  b = in_rootfs ("flat", "bin/alias");
  cr_assert (lstat (a, &sa) == 0 && lstat (b, &sb) == 0);
  cr_assert (sa.st_ino == sb.st_ino && sa.st_nlink == 2, "--flat split the upper pair: ino %lu/%lu nlink %lu",
             (unsigned long) sa.st_ino, (unsigned long) sb.st_ino, (unsigned long) sa.st_nlink);
  cr_assert_eq (sa.st_mode & 07777, 0755);
  free (a);
  free (b);
  bundles_rm ();
  assert_outside_untouched ();
  free (img);
  free (tars[0]);
  free (tars[1]);
}

/* An empty layer (what `ENV` or `WORKDIR` build steps produce) in the middle of a stack. */
Test (hostile, empty_layer_in_the_middle)
{
  struct fx_tar *t = fx_tar_new ();
  void *tars[3];
  size_t lens[3];
  char *img;

  fx_tar_file (t, "bottom", 0644, "bottom\n");
  tars[0] = tar_bytes (t, &lens[0]);
  tars[1] = tar_bytes (fx_tar_new (), &lens[1]);
  t = fx_tar_new ();
  fx_tar_file (t, "top", 0644, "top\n");
  tars[2] = tar_bytes (t, &lens[2]);
  img = make_image ("img", tars, lens, 3, GOOD_CMD, NULL);
  bundle_both_agree (img);
  expect_file_in_both ("bottom", "bottom\n");
  expect_file_in_both ("top", "top\n");
  cr_assert_eq (store_entries ("layers"), 3);
  bundles_rm ();
  assert_outside_untouched ();
  for (size_t i = 0; i < 3; i++)
    free (tars[i]);
  free (img);
}

/* Must accept: one layer twice in a stack (two empty layers, or a layer re-added by a
   rebase or an append tool).  The OCI spec allows repeated diffIDs and containerd and
   Docker apply them; --flat applies the layer twice.  The overlay must show the same
   tree; since the higher copy shadows everything the lower one contributes, keeping only
   the topmost occurrence of a repeated lower directory is the same view.  */
Test (hostile, same_layer_twice_in_a_stack)
{
  struct fx_tar *t = fx_tar_new ();
  void *tars[5];
  size_t lens[5];
  char *img;

  fx_tar_file (t, "a", 0644, "A\n");
  fx_tar_whiteout (t, "gone");
  tars[0] = tar_bytes (t, &lens[0]);
  tars[1] = tar_bytes (fx_tar_new (), &lens[1]);
  t = fx_tar_new ();
  fx_tar_file (t, "a", 0644, "B\n");
  fx_tar_file (t, "b", 0644, "B\n");
  fx_tar_file (t, "gone", 0644, "back\n");
  tars[2] = tar_bytes (t, &lens[2]);
  tars[3] = tars[1];
  lens[3] = lens[1];
  tars[4] = tars[0];
  lens[4] = lens[0];
  img = make_image ("img", tars, lens, 5, GOOD_CMD, NULL);

  bundle_ok (img, "flat", true);
  {
    char *a = in_rootfs ("flat", "a"), *gone = in_rootfs ("flat", "gone"), *got = fx_read_file (a, NULL);
    struct stat st;
    cr_assert_str_eq (got, "A\n", "--flat: the top copy of the layer must win");
    cr_assert (lstat (gone, &st) < 0 && errno == ENOENT, "--flat: the top copy's whiteout must apply");
    free (got);
    free (a);
    free (gone);
  }
  cr_assert_eq (store_entries ("layers"), 3);
  bundle_ok (img, "ovl", false);
  {
    char *ovl = tree_of ("ovl"), *flat = tree_of ("flat");
    cr_assert_str_eq (ovl, flat, "overlay and --flat disagree:\n--- overlay\n%s--- flat\n%s", ovl, flat);
    free (ovl);
    free (flat);
  }
  expect_file_in_both ("a", "A\n");
  expect_file_in_both ("b", "B\n");
  expect_absent_in_both ("gone");
  bundles_rm ();
  assert_outside_untouched ();
  free (tars[0]);
  free (tars[1]);
  free (tars[2]);
  free (img);
}

/* More layers than overlayfs stacks (500): the overlay bundle is refused up front with
   E2BIG and the way out, leaves nothing mounted or written; --flat takes them.  */
Test (hostile, more_layers_than_overlayfs_stacks)
{
  enum { N = 501 };
  void **tars = xcalloc (N, sizeof *tars);
  size_t *lens = xcalloc (N, sizeof *lens);
  char *img, *b = bundle_path ("ovl");
  struct tu_result r;
  struct stat st;

  for (size_t i = 0; i < N; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      char name[32], content[32];

      snprintf (name, sizeof name, "f%03zu", i);
      snprintf (content, sizeof content, "%zu\n", i);
      fx_tar_file (t, name, 0644, content);
      tars[i] = tar_bytes (t, &lens[i]);
    }
  layer_compression = "none";
  img = make_image ("img", tars, lens, N, GOOD_CMD, NULL);
  layer_compression = NULL;
  PREP (&r, "bundle", img, b);
  tu_assert_error (&r, "501 layers are more than overlayfs stacks (500): use --flat");
  cr_assert (! strstr (r.err, "Argument list too long"), "the cause is named twice: %s", r.err);
  tu_result_free (&r);
  cr_assert (lstat (b, &st) < 0 && errno == ENOENT, "a refused bundle left its directory");
  cr_assert_eq (tu_mount_points_under (tmp, NULL), 0);
  bundle_ok (img, "flat", true);
  {
    char *f = in_rootfs ("flat", "f500"), *got = fx_read_file (f, NULL);
    cr_assert_str_eq (got, "500\n");
    free (got);
    free (f);
  }
  bundle_rm ("flat");
  assert_outside_untouched ();
  for (size_t i = 0; i < N; i++)
    free (tars[i]);
  free (tars);
  free (lens);
  free (img);
  free (b);
}

/* Must accept: the 2000-deep layer of nesting_2000_deep_under_the_path_limit, loaded
   and bundled with the soft RLIMIT_NOFILE most hosts start programs with (1024: systemd's
   DefaultLimitNOFILE, login shells).  Extraction accepts names up to 4095 bytes, i.e.
   2047 levels, so every walk of a layer (its content hash at load, --flat's copy,
   removals) must cope with that depth without one fd per level.  A failure must at
   least leave the store usable for other images.  */
Test (hostile, deep_layer_under_the_usual_fd_limit)
{
  struct fx_tar *t = fx_tar_new ();
  char *name = deep_name (2000), *img, *other;
  void *tars[1];
  size_t lens[1];
  struct tu_result r;
  struct rlimit rl;

  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 8192)
    {
      /* A skipped test does not reach .fini.  */
      teardown ();
      cr_skip_test ("the hard fd limit (%llu) is too low to clean up a 2000-deep tree",
                    (unsigned long long) rl.rlim_max);
    }
  fx_tar_file (t, name, 0644, "deep\n");
  tars[0] = tar_bytes (t, &lens[0]);
  img = make_image ("deep", tars, lens, 1, GOOD_CMD, NULL);
  free (tars[0]);
  t = fx_tar_new ();
  fx_tar_file (t, "innocent", 0644, "innocent\n");
  tars[0] = tar_bytes (t, &lens[0]);
  other = make_image ("other", tars, lens, 1, GOOD_CMD, NULL);
  rl.rlim_cur = 1024;
  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &rl), 0);

  PREP (&r, "load", img);
  cr_expect_eq (r.status, 0, "a layer extraction accepts does not load: %.400s", r.err);
  tu_result_free (&r);
  cr_expect_leq (store_entries ("tmp"), 0, "the failed load left its work area in the store");

  /* Another image must not suffer from it.  */
  bundle_ok (other, "flat", true);
  {
    char *p = in_rootfs ("flat", "innocent"), *got = fx_read_file (p, NULL);
    cr_assert_str_eq (got, "innocent\n");
    free (got);
    free (p);
  }
  bundle_rm ("flat");

  bundle_ok (img, "flat", true);
  {
    char *p = fmt ("%s/flat/rootfs", bundles);
    int fd = open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    cr_assert_geq (fd, 0);
    cr_assert_eq (fstatat (fd, name, &st, AT_SYMLINK_NOFOLLOW), 0, "the deep file is missing from --flat");
    close (fd);
    free (p);
  }
  bundle_rm ("flat");
  assert_outside_untouched ();
  free (name);
  free (img);
  free (other);
  free (tars[0]);
}
