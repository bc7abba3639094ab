/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for extract: layer tars applied under a root fd, faithfully, and hostile entries confined. */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/error.h>
#include "extract/extract.h"
#include "extract/sandbox.h"
#include "store/treehash.h"

extern void __lsan_do_leak_check (void) __attribute__ ((weak));
#include <oci-prep/limits.h>

#include "fixture.h"
#include "testutil.h"

/* Layout of every test: TMP/root is the (initially empty) layer root handed to
   ocip_extract_tar; TMP/sentinel lies beside it with known content (victim, dir/) and
   must come out of every extraction exactly as it went in.  Hostile entries aim at the
   sentinel both relatively ("../sentinel/victim") and by its real absolute path, so a
   path resolved by the host instead of inside the root WOULD hit it.  */
static char tmp[256];
static char sentinel[300];     /* absolute, symlink-free */
static char sentinel_rel[300]; /* the same without the leading "/" */
static int rootfd = -1;
static char *snapshot;
static ocip_error_t err;

#define MIB (1024u * 1024)

/* ---- paths and small assertions ---- */

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

static struct stat
lst (const char *rel)
{
  struct stat st;

  cr_assert_eq (lstat (P (rel), &st), 0, "lstat root/%s: %s", rel, strerror (errno));
  return st;
}

static bool
exists (const char *rel)
{
  struct stat st;
  return lstat (P (rel), &st) == 0;
}

static void
assert_content (const char *rel, const void *data, size_t len)
{
  struct stat st = lst (rel);
  size_t n;
  char *got;

  cr_assert (S_ISREG (st.st_mode), "root/%s is not a regular file (mode 0%o)", rel, st.st_mode);
  got = fx_read_file (P (rel), &n);
  cr_assert_eq (n, len, "root/%s has %zu bytes, expected %zu", rel, n, len);
  cr_assert (memcmp (got, data, len) == 0, "root/%s has other content", rel);
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
assert_owner (const char *rel, uid_t uid, gid_t gid)
{
  struct stat st = lst (rel);

  cr_assert_eq (st.st_uid, uid, "root/%s: uid %u, expected %u", rel, st.st_uid, uid);
  cr_assert_eq (st.st_gid, gid, "root/%s: gid %u, expected %u", rel, st.st_gid, gid);
}

static void
assert_mtime (const char *rel, long long sec, long nsec)
{
  struct stat st = lst (rel);

  cr_assert (st.st_mtim.tv_sec == sec && st.st_mtim.tv_nsec == nsec, "root/%s: mtime %lld.%09ld, expected %lld.%09ld",
             rel, (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec, sec, nsec);
}

static void
assert_symlink (const char *rel, const char *target)
{
  char buf[PATH_MAX];
  struct stat st = lst (rel);
  ssize_t n;

  cr_assert (S_ISLNK (st.st_mode), "root/%s is not a symlink (mode 0%o)", rel, st.st_mode);
  n = readlink (P (rel), buf, sizeof buf - 1);
  cr_assert_geq (n, 0);
  buf[n] = '\0';
  cr_assert_str_eq (buf, target, "root/%s -> '%s', expected '%s'", rel, buf, target);
}

static void
assert_whiteout (const char *rel)
{
  struct stat st = lst (rel);

  cr_assert (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0), "root/%s is not a 0/0 char device (mode 0%o)",
             rel, st.st_mode);
}

/* The xattr NAME of root/REL is VALUE (LEN bytes), or absent when VALUE is NULL.  */
static void
assert_xattr (const char *rel, const char *name, const void *value, size_t len)
{
  char buf[4096];
  ssize_t n = lgetxattr (P (rel), name, buf, sizeof buf);

  if (value == NULL)
    {
      cr_assert (n < 0 && errno == ENODATA, "root/%s carries the xattr %s (%zd bytes), it must be dropped", rel, name,
                 n);
      return;
    }
  cr_assert_geq (n, 0, "root/%s: xattr %s: %s", rel, name, strerror (errno));
  cr_assert_eq ((size_t) n, len, "root/%s: xattr %s has %zd bytes, expected %zu", rel, name, n, len);
  cr_assert (memcmp (buf, value, len) == 0, "root/%s: xattr %s has another value", rel, name);
}

/* Names directly in root/REL (not "." and ".."), for emptiness checks.  */
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

/* ---- the sentinel beside the root ---- */

/* Nothing outside the root changed: the sentinel is byte-for-byte and inode-for-inode
   what it was, and TMP holds nothing but root and sentinel.  */
static void
assert_outside_untouched (void)
{
  tu_sentinel_assert_untouched (snapshot, tmp, sentinel, "the layer root");
}

static void
setup (void)
{
  char path[PATH_MAX + 32];
  char *t, *real;

  if (geteuid () != 0)
    {
      /* chown, mknod and trusted.* xattrs need root; CI is root.  */
      if (getenv ("CI") != NULL)
        cr_assert_fail ("extraction tests need root");
      cr_skip_test ("extraction tests need root");
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

  snprintf (path, sizeof path, "%s/root", tmp);
  cr_assert_eq (mkdir (path, 0755), 0);
  rootfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (rootfd, 0);

  tu_sentinel_create (sentinel);
  snapshot = tu_sentinel_snapshot (tmp, sentinel);
  /* make check-sandbox: every case again inside the extraction sandbox (where
     LeakSanitizer's exit-time check, which needs ptrace, is done before entering).  */
  if (getenv ("OCIP_TEST_SANDBOX"))
    {
      if (__lsan_do_leak_check)
        __lsan_do_leak_check ();
      cr_assert_eq (ocip_sandbox_enter (&err), 0, "enter the sandbox: %s", err ? err->msg : "");
    }
}

static void
teardown (void)
{
  ocip_closep (&rootfd);
  ocip_error_release (&err);
  free (snapshot);
  snapshot = NULL;
  if (tmp[0])
    fx_rm_rf (tmp);
}

TestSuite (extract, .init = setup, .fini = teardown);

/* ---- feeding the extractor ---- */

/* A source reading from memory at most CHUNK bytes at a time, failing with FAIL_ERRNO once
   FAIL_AT bytes were returned (when FAIL_ERRNO is set).  */
struct mem_source
{
  const unsigned char *data;
  size_t len;
  size_t off;
  size_t chunk;
  size_t fail_at;
  int fail_errno;
};

static ssize_t
mem_read (void *ctx, void *buf, size_t len, ocip_error_t *e)
{
  struct mem_source *s = ctx;
  size_t n = s->len - s->off;

  cr_assert_gt (len, 0, "the extractor asked the source for 0 bytes");
  if (s->fail_errno && s->off >= s->fail_at)
    return ocip_error_fail (e, s->fail_errno, "source: injected failure at %zu", s->off);
  if (n > len)
    n = len;
  if (n > s->chunk)
    n = s->chunk;
  if (s->fail_errno && n > s->fail_at - s->off)
    n = s->fail_at - s->off;
  if (n)
    memcpy (buf, s->data + s->off, n);
  s->off += n;
  return (ssize_t) n;
}

static struct ocip_extract_stats stats;

/* Extract the LEN bytes at BUF, CHUNK bytes per read, under LIMITS (NULL: the defaults).
   The error, if any, stays in ERR for the test to inspect.  */
static int
run_source (struct mem_source *s, const struct ocip_extract_limits *limits)
{
  struct ocip_extract_limits def;

  if (limits == NULL)
    {
      ocip_extract_limits_default (&def);
      limits = &def;
    }
  ocip_error_release (&err);
  ocip_extract_stats_clear (&stats);
  memset (&stats, 0, sizeof stats);
  return ocip_extract_tar (rootfd, ocip_ovlformat_xattrs_for_process (), mem_read, s, limits, &stats, &err);
}

static int
run_buf (const void *buf, size_t len, size_t chunk, const struct ocip_extract_limits *limits)
{
  struct mem_source s = { .data = buf, .len = len, .chunk = chunk ? chunk : SIZE_MAX };
  return run_source (&s, limits);
}

/* Finish T and extract it.  */
static int
extract_ex (struct fx_tar *t, size_t chunk, const struct ocip_extract_limits *limits)
{
  void *buf;
  size_t len;
  int r;

  fx_tar_finish (t, &buf, &len);
  r = run_buf (buf, len, chunk, limits);
  free (buf);
  return r;
}

static int
extract (struct fx_tar *t)
{
  return extract_ex (t, 0, NULL);
}

#define ERRMSG (err ? err->msg : "(no error set)")

/* The suite also runs as root of a user namespace (scripts/check: an ordinary user
   under `unshare --map-auto --map-root-user`), where extraction writes a user's store:
   user.overlay.opaque, no device nodes, no trusted.* xattrs, only the mapped IDs.  */
static bool
in_userns (void)
{
  return ocip_ovlformat_xattrs_for_process () == OCIP_OVLFORMAT_XATTRS_USER;
}

/* The opaque xattr extraction writes here.  */
#define OPQ (in_userns () ? "user.overlay.opaque" : "trusted.overlay.opaque")

/* Skip a case that needs root of the initial user namespace, saying what for.  */
#define NEED_HOST_ROOT(why)                                                                                           \
  do                                                                                                                  \
    if (in_userns ())                                                                                                 \
      cr_skip_test ("in a user namespace: %s", why);                                                                  \
  while (0)

#define assert_ok(expr)                                                                                               \
  do                                                                                                                  \
    {                                                                                                                 \
      int r_ = (expr);                                                                                                \
      cr_assert_eq (r_, 0, "extraction failed: %d (%s): %s", r_, strerror (-r_), ERRMSG);                             \
      cr_assert_null (err, "success with an error set: %s", ERRMSG);                                                  \
    }                                                                                                                 \
  while (0)

#define assert_fails(expr, errnum)                                                                                    \
  do                                                                                                                  \
    {                                                                                                                 \
      int r_ = (expr);                                                                                                \
      cr_assert_eq (r_, -(errnum), "expected -%s, got %d (%s): %s", #errnum, r_, r_ ? strerror (-r_) : "success",     \
                    ERRMSG);                                                                                          \
      cr_assert_not_null (err, "failure without an error object");                                                    \
      cr_assert_eq (err->status, (errnum), "error class %d, expected %s: %s", err->status, #errnum, err->msg);        \
      cr_assert (err->msg && *err->msg, "error without a message");                                                   \
    }                                                                                                                 \
  while (0)

/* The error names the offending entry.  */
static void
assert_msg_names (const char *name)
{
  cr_assert_not_null (err);
  cr_assert_not_null (strstr (err->msg, name), "error '%s' does not name '%s'", err->msg, name);
}

/* ---- tar pieces the fixture does not write directly ---- */

static void
tar_entry (struct fx_tar *t, struct archive_entry *e, const void *data, size_t len)
{
  fx_tar_raw (t, e, data, len);
  archive_entry_free (e);
}

static void
tar_symlink_ex (struct fx_tar *t, const char *path, const char *target, long long uid, long long gid,
                long long mtime)
{
  struct archive_entry *e = fx_entry_new (path, AE_IFLNK, 0777);

  archive_entry_set_symlink (e, target);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  archive_entry_set_mtime (e, (time_t) mtime, 0);
  tar_entry (t, e, NULL, 0);
}

static void
tar_dir_time (struct fx_tar *t, const char *path, unsigned mode, long long sec, long nsec)
{
  struct archive_entry *e = fx_entry_new (path, AE_IFDIR, mode);

  archive_entry_set_mtime (e, (time_t) sec, nsec);
  tar_entry (t, e, NULL, 0);
}

/* A hand-made tar, for streams libarchive's writer refuses to produce.  */
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

/* One "LEN KEY=VALUE\n" pax record appended to REC.  */
static void
pax_record (struct rawtar *rec, const char *key, const char *value)
{
  size_t n = strlen (key) + strlen (value) + 3, len = n + 1;
  char num[32], line[1024];

  for (;;)
    {
      size_t digits = (size_t) snprintf (num, sizeof num, "%zu", len);
      if (digits + n == len)
        break;
      len = digits + n;
    }
  snprintf (line, sizeof line, "%zu %s=%s\n", len, key, value);
  cr_assert_eq (strlen (line), len);
  raw_add (rec, line, len);
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

/* A GNU 1.0 sparse file NAME in pax: REALSIZE declared, DATA_LEN bytes of 'X' at offset 0.  */
static void
raw_sparse (struct rawtar *r, const char *name, unsigned long long realsize, size_t data_len)
{
  struct rawtar rec = { 0 };
  char value[64], map[512] = { 0 };
  char *data = xmalloc (data_len);

  pax_record (&rec, "GNU.sparse.major", "1");
  pax_record (&rec, "GNU.sparse.minor", "0");
  pax_record (&rec, "GNU.sparse.name", name);
  snprintf (value, sizeof value, "%llu", realsize);
  pax_record (&rec, "GNU.sparse.realsize", value);
  raw_pax (r, &rec);
  free (rec.p);
  raw_header (r, "GNUSparseFile.0/x", '0', 512 + data_len, NULL);
  snprintf (map, sizeof map, "1\n0\n%zu\n", data_len);
  raw_add (r, map, sizeof map);
  memset (data, 'X', data_len);
  raw_add (r, data, data_len);
  raw_pad (r);
  free (data);
}

/* ==================================================================== */
/* Faithful extraction                                                   */
/* ==================================================================== */

Test (extract, empty_layer)
{
  assert_ok (extract (fx_tar_new ()));
  cr_assert_eq (count_entries (""), 0);
  cr_assert_eq (stats.entries, 0);
  cr_assert_eq (stats.bytes, 0);
  assert_outside_untouched ();
}

Test (extract, regular_file_content_owner_mode_mtime)
{
  struct fx_tar *t = fx_tar_new_format ("pax");
  size_t big_len = 300000 + 17;
  unsigned char *big = xmalloc (big_len);
  struct archive_entry *e;
  static const char bin[] = "a\0b\0\xff\x01 tail";

  for (size_t i = 0; i < big_len; i++)
    big[i] = (unsigned char) (i * 131 + (i >> 9));
  fx_tar_file_ex (t, "big", 0640, 1234, 5678, 1500000000, big, big_len);
  fx_tar_file_ex (t, "bin", 0600, 0, 0, FX_MTIME, bin, sizeof bin);
  fx_tar_file (t, "empty", 0444, "");
  e = fx_entry_new ("nsec", AE_IFREG, 0751);
  archive_entry_set_mtime (e, 1234567890, 987654321);
  archive_entry_set_size (e, 3);
  tar_entry (t, e, "abc", 3);

  /* Odd chunk sizes: headers and data straddle the source's reads.  */
  assert_ok (extract_ex (t, 4099, NULL));
  assert_content ("big", big, big_len);
  assert_mode ("big", S_IFREG, 0640);
  assert_owner ("big", 1234, 5678);
  assert_mtime ("big", 1500000000, 0);
  assert_content ("bin", bin, sizeof bin);
  assert_mode ("bin", S_IFREG, 0600);
  assert_content ("empty", "", 0);
  assert_mode ("empty", S_IFREG, 0444);
  assert_text ("nsec", "abc");
  assert_mode ("nsec", S_IFREG, 0751);
  assert_mtime ("nsec", 1234567890, 987654321);
  cr_assert_eq (stats.entries, 4);
  cr_assert_eq (stats.bytes, big_len + sizeof bin + 3);
  free (big);
  assert_outside_untouched ();
}

Test (extract, tiny_source_reads)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/f", 0644, "content read seven bytes at a time");
  fx_tar_symlink (t, "d/l", "f");
  assert_ok (extract_ex (t, 7, NULL));
  assert_text ("d/f", "content read seven bytes at a time");
  assert_symlink ("d/l", "f");
  assert_outside_untouched ();
}

Test (extract, setuid_setgid_sticky_survive_chown)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;

  fx_tar_file_ex (t, "suid", 04755, 1234, 5678, FX_MTIME, "x", 1);
  fx_tar_file_ex (t, "sgid", 02755, 1234, 5678, FX_MTIME, "x", 1);
  fx_tar_file_ex (t, "both", 06711, 1234, 5678, FX_MTIME, "x", 1);
  fx_tar_dir (t, "tmpdir", 01777);
  e = fx_entry_new ("sgiddir", AE_IFDIR, 02775);
  archive_entry_set_uid (e, 1234);
  archive_entry_set_gid (e, 5678);
  tar_entry (t, e, NULL, 0);

  assert_ok (extract (t));
  assert_mode ("suid", S_IFREG, 04755);
  assert_owner ("suid", 1234, 5678);
  assert_mode ("sgid", S_IFREG, 02755);
  assert_mode ("both", S_IFREG, 06711);
  assert_mode ("tmpdir", S_IFDIR, 01777);
  assert_mode ("sgiddir", S_IFDIR, 02775);
  assert_owner ("sgiddir", 1234, 5678);
  assert_outside_untouched ();
}

Test (extract, directory_mtime_set_after_children)
{
  struct fx_tar *t = fx_tar_new_format ("pax");

  tar_dir_time (t, "d", 0755, 1000000000, 111);
  tar_dir_time (t, "d/sub", 0750, 1100000000, 222);
  fx_tar_file (t, "d/f", 0644, "child");
  fx_tar_file (t, "d/sub/g", 0644, "grandchild");
  fx_tar_symlink (t, "d/sub/l", "g");
  fx_tar_whiteout (t, "d/gone");
  fx_tar_file (t, "d/implicit/h", 0644, "created in an unlisted dir");
  assert_ok (extract (t));
  assert_mtime ("d", 1000000000, 111);
  assert_mtime ("d/sub", 1100000000, 222);
  assert_mode ("d/sub", S_IFDIR, 0750);
  assert_outside_untouched ();
}

Test (extract, symlink_target_owner_mtime)
{
  struct fx_tar *t = fx_tar_new ();

  tar_symlink_ex (t, "rel", "some/where/../else", 1234, 5678, 1400000000);
  tar_symlink_ex (t, "abs", "/usr/lib/x", 0, 0, 1400000001);
  tar_symlink_ex (t, "dangling", "nope", 42, 43, 1400000002);
  assert_ok (extract (t));
  assert_symlink ("rel", "some/where/../else");
  assert_owner ("rel", 1234, 5678);
  assert_mtime ("rel", 1400000000, 0);
  assert_symlink ("abs", "/usr/lib/x");
  assert_mtime ("abs", 1400000001, 0);
  assert_symlink ("dangling", "nope");
  assert_owner ("dangling", 42, 43);
  assert_outside_untouched ();
}

Test (extract, hardlink_shares_inode)
{
  struct fx_tar *t = fx_tar_new ();
  struct stat a, b;

  fx_tar_dir (t, "d", 0755);
  fx_tar_file_ex (t, "d/a", 0640, 7, 8, FX_MTIME, "shared", 6);
  fx_tar_hardlink (t, "b", "d/a");
  fx_tar_hardlink (t, "d/c", "/d/a");
  assert_ok (extract (t));
  a = lst ("d/a");
  b = lst ("b");
  cr_assert_eq (a.st_ino, b.st_ino, "b is not a hard link of d/a");
  cr_assert_eq (a.st_nlink, 3);
  cr_assert_eq (lst ("d/c").st_ino, a.st_ino);
  assert_text ("b", "shared");
  assert_owner ("b", 7, 8);
  cr_assert_eq (stats.bytes, 6, "hardlinks count as bytes: %llu", (unsigned long long) stats.bytes);
  assert_outside_untouched ();
}

/* Rewriting a name that is a hard link replaces the name; it never writes into the
   inode shared with the other name.  */
Test (extract, hardlinked_name_replaced_not_written_through)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "a", 0644, "original");
  fx_tar_hardlink (t, "b", "a");
  fx_tar_file (t, "b", 0600, "replaced");
  assert_ok (extract (t));
  assert_text ("a", "original");
  assert_mode ("a", S_IFREG, 0644);
  cr_assert_eq (lst ("a").st_nlink, 1);
  assert_text ("b", "replaced");
  assert_outside_untouched ();
}

Test (extract, devices_and_fifo)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;
  struct stat st;

  NEED_HOST_ROOT ("a user namespace cannot make devices (in_a_user_namespace_* covers that)");

  fx_tar_device (t, "null", 'c', 1, 3);
  fx_tar_device (t, "loop0", 'b', 7, 0);
  fx_tar_device (t, "big", 'c', 4095, 1048575);
  fx_tar_device (t, "fifo", 'p', 0, 0);
  e = fx_entry_new ("tty", AE_IFCHR, 0620);
  archive_entry_set_rdevmajor (e, 4);
  archive_entry_set_rdevminor (e, 1);
  archive_entry_set_uid (e, 1234);
  archive_entry_set_gid (e, 5);
  archive_entry_set_mtime (e, 1300000000, 0);
  tar_entry (t, e, NULL, 0);

  assert_ok (extract (t));
  st = lst ("null");
  cr_assert (S_ISCHR (st.st_mode));
  cr_assert (major (st.st_rdev) == 1 && minor (st.st_rdev) == 3);
  assert_mode ("null", S_IFCHR, 0644);
  st = lst ("loop0");
  cr_assert (S_ISBLK (st.st_mode));
  cr_assert (major (st.st_rdev) == 7 && minor (st.st_rdev) == 0);
  st = lst ("big");
  cr_assert (major (st.st_rdev) == 4095 && minor (st.st_rdev) == 1048575, "big is %u:%u", major (st.st_rdev),
             minor (st.st_rdev));
  assert_mode ("fifo", S_IFIFO, 0644);
  st = lst ("tty");
  cr_assert (major (st.st_rdev) == 4 && minor (st.st_rdev) == 1);
  assert_mode ("tty", S_IFCHR, 0620);
  assert_owner ("tty", 1234, 5);
  assert_mtime ("tty", 1300000000, 0);
  assert_outside_untouched ();
}

/* A v2 file capability: magic_etc (revision 2 | effective), then permitted/inheritable
   for words 0 and 1, little endian.  CAP_NET_BIND_SERVICE (10) permitted.  */
static const unsigned char cap_v2[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
                                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

Test (extract, xattrs_on_files_and_directories)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;

  NEED_HOST_ROOT ("trusted.* xattrs are left out there (in_a_user_namespace_* covers that)");

  fx_tar_xattr_file (t, "user", "user.foo", "bar", 3);
  fx_tar_xattr_file (t, "cap", "security.capability", cap_v2, sizeof cap_v2);
  e = fx_entry_new ("dir", AE_IFDIR, 0755);
  archive_entry_xattr_add_entry (e, "user.dirattr", "dv", 2);
  archive_entry_xattr_add_entry (e, "trusted.other", "t", 1);
  tar_entry (t, e, NULL, 0);
  assert_ok (extract (t));
  assert_xattr ("user", "user.foo", "bar", 3);
  assert_xattr ("cap", "security.capability", cap_v2, sizeof cap_v2);
  assert_xattr ("dir", "user.dirattr", "dv", 2);
  assert_xattr ("dir", "trusted.other", "t", 1);
  assert_outside_untouched ();
}

/* chown(2) clears both setuid and security.capability: both must be there at the end.  */
Test (extract, setuid_file_with_capability)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e = fx_entry_new ("ping", AE_IFREG, 04755);

  archive_entry_set_uid (e, 1234);
  archive_entry_set_gid (e, 5678);
  archive_entry_xattr_add_entry (e, "security.capability", cap_v2, sizeof cap_v2);
  archive_entry_set_size (e, 4);
  tar_entry (t, e, "ELF!", 4);
  assert_ok (extract (t));
  assert_mode ("ping", S_IFREG, 04755);
  assert_owner ("ping", 1234, 5678);
  assert_xattr ("ping", "security.capability", cap_v2, sizeof cap_v2);
  assert_outside_untouched ();
}

/* The contract: devices, FIFOs and symlinks keep their xattrs too.  */
Test (extract, xattrs_on_symlink_fifo_device)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;

  NEED_HOST_ROOT ("trusted.* xattrs and devices are left out there");

  e = fx_entry_new ("l", AE_IFLNK, 0777);
  archive_entry_set_symlink (e, "target");
  archive_entry_xattr_add_entry (e, "trusted.link", "L", 1);
  tar_entry (t, e, NULL, 0);
  e = fx_entry_new ("p", AE_IFIFO, 0644);
  archive_entry_xattr_add_entry (e, "trusted.fifo", "F", 1);
  tar_entry (t, e, NULL, 0);
  e = fx_entry_new ("c", AE_IFCHR, 0644);
  archive_entry_set_rdevmajor (e, 1);
  archive_entry_set_rdevminor (e, 3);
  archive_entry_xattr_add_entry (e, "trusted.dev", "D", 1);
  tar_entry (t, e, NULL, 0);
  assert_ok (extract (t));
  assert_xattr ("l", "trusted.link", "L", 1);
  assert_xattr ("p", "trusted.fifo", "F", 1);
  assert_xattr ("c", "trusted.dev", "D", 1);
  assert_outside_untouched ();
}

/* An image may not set overlayfs' own xattrs (opaque, redirect, metacopy...) nor an
   SELinux label; the other xattrs of the same entry are kept.  */
Test (extract, overlay_and_selinux_xattrs_dropped)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;

  e = fx_entry_new ("d", AE_IFDIR, 0755);
  archive_entry_xattr_add_entry (e, OPQ, "y", 1);
  archive_entry_xattr_add_entry (e, "trusted.overlay.redirect", "/etc", 4);
  archive_entry_xattr_add_entry (e, "user.keep", "k", 1);
  tar_entry (t, e, NULL, 0);
  e = fx_entry_new ("f", AE_IFREG, 0644);
  archive_entry_xattr_add_entry (e, "trusted.overlay.metacopy", "", 0);
  archive_entry_xattr_add_entry (e, OPQ, "y", 1);
  archive_entry_xattr_add_entry (e, "security.selinux", "system_u:object_r:shadow_t:s0", 29);
  archive_entry_xattr_add_entry (e, "user.keep", "k", 1);
  tar_entry (t, e, NULL, 0);
  fx_tar_xattr_file (t, "only-opaque", OPQ, "y", 1);
  fx_tar_xattr_file (t, "only-selinux", "security.selinux", "unconfined_u:object_r:bin_t:s0", 30);
  assert_ok (extract (t));
  assert_xattr ("d", "trusted.overlay.opaque", NULL, 0);
  assert_xattr ("d", "trusted.overlay.redirect", NULL, 0);
  assert_xattr ("d", "user.keep", "k", 1);
  assert_xattr ("f", "trusted.overlay.metacopy", NULL, 0);
  assert_xattr ("f", "trusted.overlay.opaque", NULL, 0);
  assert_xattr ("f", "security.selinux", NULL, 0);
  assert_xattr ("f", "user.keep", "k", 1);
  assert_xattr ("only-opaque", "trusted.overlay.opaque", NULL, 0);
  assert_xattr ("only-selinux", "security.selinux", NULL, 0);
  assert_outside_untouched ();
}

Test (extract, whiteout_becomes_char_device)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_whiteout (t, "foo");
  fx_tar_dir (t, "d", 0755);
  fx_tar_whiteout (t, "d/bar");
  fx_tar_whiteout (t, "implicit/baz");
  assert_ok (extract (t));
  assert_whiteout ("foo");
  assert_whiteout ("d/bar");
  assert_whiteout ("implicit/baz");
  cr_assert (! exists (".wh.foo"));
  cr_assert (! exists ("d/.wh.bar"));
  cr_assert (! exists ("implicit/.wh.baz"));
  assert_outside_untouched ();
}

/* A whiteout hides only the layers below (layer.md), never what this layer put there
   before it: a file stays, a directory stays with its entries and becomes opaque (the
   lower ones are hidden), as umoci unpacks it.  */
Test (extract, whiteout_after_an_entry_hides_only_lower_layers)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "x", 0755);
  fx_tar_file (t, "x/y", 0644, "y");
  fx_tar_symlink (t, "x/out", sentinel);
  fx_tar_symlink (t, "x/rel", "../../sentinel");
  fx_tar_file (t, "f", 0644, "f");
  fx_tar_file (t, "r/s/new", 0644, "new");
  fx_tar_whiteout (t, "x");
  fx_tar_whiteout (t, "f");
  fx_tar_whiteout (t, "r");
  fx_tar_whiteout (t, "w");
  fx_tar_whiteout (t, "w");
  assert_ok (extract (t));
  assert_mode ("x", S_IFDIR, 0755);
  assert_xattr ("x", OPQ, "y", 1);
  assert_text ("x/y", "y");
  assert_text ("f", "f");
  assert_xattr ("r", OPQ, "y", 1);
  assert_xattr ("r/s", OPQ, NULL, 0);
  assert_text ("r/s/new", "new");
  assert_whiteout ("w");
  assert_outside_untouched ();
}

/* ".wh.a" then "a/b/new" in one layer (rejected with ENOTDIR before): the whiteout
   becomes a directory that hides the lower "a", holding this layer's "a/b/new"; it is
   new, not implied (none of the lower "a"'s metadata), while "a/b" is implied.  The same
   for a listed directory ("q/") and for a path through a symlink; a file replaces the
   whiteout; a whiteout under a whiteout is hidden already.  */
Test (extract, whiteout_before_its_children_becomes_an_opaque_directory)
{
  struct fx_tar *t = fx_tar_new ();
  size_t i;

  fx_tar_whiteout (t, "a");
  fx_tar_file (t, "a/b/new", 0600, "new");
  fx_tar_whiteout (t, "q");
  fx_tar_dir (t, "q", 0700);
  fx_tar_file (t, "q/y", 0644, "y");
  fx_tar_dir (t, "d", 0755);
  fx_tar_symlink (t, "l", "d");
  fx_tar_whiteout (t, "d/s");
  fx_tar_file (t, "l/s/t/new", 0644, "via the link");
  fx_tar_whiteout (t, "f");
  fx_tar_file (t, "f", 0644, "a file now");
  fx_tar_whiteout (t, "w");
  fx_tar_whiteout (t, "w/inner");
  fx_tar_whiteout (t, "o");
  fx_tar_opaque (t, "o");
  assert_ok (extract (t));
  assert_mode ("a", S_IFDIR, 0755);
  assert_owner ("a", 0, 0);
  assert_xattr ("a", OPQ, "y", 1);
  assert_mode ("a/b", S_IFDIR, 0755);
  assert_xattr ("a/b", OPQ, NULL, 0);
  assert_text ("a/b/new", "new");
  assert_mode ("q", S_IFDIR, 0700);
  assert_xattr ("q", OPQ, "y", 1);
  assert_text ("q/y", "y");
  assert_xattr ("d/s", OPQ, "y", 1);
  assert_text ("d/s/t/new", "via the link");
  assert_mode ("f", S_IFREG, 0644);
  assert_xattr ("f", OPQ, NULL, 0);
  assert_whiteout ("w");
  assert_mode ("o", S_IFDIR, 0755);
  assert_xattr ("o", OPQ, "y", 1);
  for (i = 0; stats.implied_dirs[i]; i++)
    cr_assert (strcmp (stats.implied_dirs[i], "a") != 0 && strcmp (stats.implied_dirs[i], "d/s") != 0
                   && strcmp (stats.implied_dirs[i], "o") != 0,
               "'%s' replaced a whiteout: it is not implied", stats.implied_dirs[i]);
  cr_assert_str_eq (stats.implied_dirs[0], "a/b");
  cr_assert_eq (i, 2, "implied: a/b and s/t (as named through the link)");
  assert_outside_untouched ();
}

/* An opaque marker at the root, as "/.wh..wh..opq" or "./.wh..wh..opq", marks the layer's
   root directory (which a bundle reads to hide every lower layer).  */
Test (extract, root_opaque_marker_marks_the_layer_root)
{
  static const char *const forms[] = { "/", ".", "" };
  size_t i;

  for (i = 0; i < sizeof forms / sizeof *forms; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      char buf[8];

      if (i > 0)
        FX_CHECK (lremovexattr (P (""), OPQ) == 0 && unlink (P ("new")) == 0);
      fx_tar_opaque (t, forms[i]);
      fx_tar_file (t, "new", 0644, "new");
      assert_ok (extract (t));
      cr_assert_eq (lgetxattr (P (""), OPQ, buf, sizeof buf), 1, "form '%s'", forms[i]);
      cr_assert (! exists (".wh..wh..opq"));
      assert_text ("new", "new");
    }
  assert_outside_untouched ();
}

Test (extract, opaque_marker_sets_xattr)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "d", 0755);
  fx_tar_opaque (t, "d");
  fx_tar_file (t, "d/kept", 0644, "k");
  fx_tar_opaque (t, "never/listed");
  assert_ok (extract (t));
  assert_mode ("d", S_IFDIR, 0755);
  assert_xattr ("d", OPQ, "y", 1);
  assert_text ("d/kept", "k");
  cr_assert (! exists ("d/.wh..wh..opq"));
  assert_mode ("never/listed", S_IFDIR, 0755);
  assert_xattr ("never/listed", OPQ, "y", 1);
  cr_assert (! exists ("never/listed/.wh..wh..opq"));
  assert_outside_untouched ();
}

Test (extract, aufs_meta_entries_ignored)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, ".wh..wh.plnk", 0644, "");
  fx_tar_file (t, ".wh..wh.aufs", 0644, "");
  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/.wh..wh.plnk", 0644, "");
  fx_tar_file (t, "real", 0644, "r");
  assert_ok (extract (t));
  cr_assert (! exists (".wh..wh.plnk"));
  cr_assert (! exists (".wh..wh.aufs"));
  cr_assert (! exists ("plnk"));
  cr_assert (! exists ("d/.wh..wh.plnk"));
  assert_text ("real", "r");
  cr_assert_eq (count_entries (""), 2);
  assert_outside_untouched ();
}

/* AUFS keeps hardlink targets in the directory /.wh..wh.plnk: the entries under it are
   AUFS metadata too (Docker skips them); they are not part of the layer's tree.  */
Test (extract, aufs_plnk_directory_contents_ignored)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, ".wh..wh.plnk", 0700);
  fx_tar_file (t, ".wh..wh.plnk/1234.5678", 0644, "aufs internal");
  fx_tar_file (t, "real", 0644, "r");
  assert_ok (extract (t));
  cr_assert (! exists (".wh..wh.plnk"), "the AUFS plink directory was extracted into the layer");
  assert_text ("real", "r");
  assert_outside_untouched ();
}

Test (extract, sparse_file)
{
  struct fx_tar *t = fx_tar_new_format ("pax");
  struct archive_entry *e = fx_entry_new ("sparse", AE_IFREG, 0644);
  size_t size = 4 * MIB;
  char *data = xzalloc (size), *got;
  size_t n;
  struct stat st;

  memset (data + MIB, 'S', 4096);
  memcpy (data + MIB, "begin", 5);
  memcpy (data + MIB + 4091, "end!!", 5);
  archive_entry_set_size (e, (la_int64_t) size);
  archive_entry_sparse_add_entry (e, MIB, 4096);
  tar_entry (t, e, data, size);
  fx_tar_file (t, "after", 0644, "after the sparse file");

  assert_ok (extract_ex (t, 1000, NULL));
  st = lst ("sparse");
  cr_assert_eq (st.st_size, (off_t) size, "sparse size %lld", (long long) st.st_size);
  got = fx_read_file (P ("sparse"), &n);
  cr_assert_eq (n, size);
  cr_assert (memcmp (got, data, size) == 0, "the sparse file's content differs");
  cr_assert (memcmp (got + MIB, "begin", 5) == 0 && memcmp (got + MIB + 4091, "end!!", 5) == 0);
  /* The holes stayed holes.  */
  cr_assert_lt (st.st_blocks * 512, (blkcnt_t) MIB, "the sparse file takes %lld bytes", (long long) st.st_blocks * 512);
  assert_text ("after", "after the sparse file");
  cr_assert_eq (stats.bytes, size + strlen ("after the sparse file"));
  free (got);
  free (data);
  assert_outside_untouched ();
}

/* The hand-made GNU sparse encoding used by the sparse bomb test, at a harmless size:
   proves that the bomb is refused for its size, not for its form.  */
Test (extract, handmade_sparse_is_valid)
{
  struct rawtar r = { 0 };
  struct stat st;
  char *got;
  size_t n;

  raw_sparse (&r, "small", 8192, 1);
  raw_end (&r);
  assert_ok (run_buf (r.p, r.len, 0, NULL));
  st = lst ("small");
  cr_assert_eq (st.st_size, 8192);
  got = fx_read_file (P ("small"), &n);
  cr_assert_eq (got[0], 'X');
  for (size_t i = 1; i < n; i++)
    cr_assert_eq (got[i], 0);
  free (got);
  free (r.p);
  assert_outside_untouched ();
}

Test (extract, long_names)
{
  struct fx_tar *t = fx_tar_new ();
  char over100[256], over255[512], comp255[256], in_dir[300];
  char c60[61];

  memset (c60, 'c', 60);
  c60[60] = '\0';
  snprintf (over100, sizeof over100, "d1-%s/d2-%s/file", c60, c60);
  snprintf (over255, sizeof over255, "e1-%s/e2-%s/e3-%s/e4-%s/e5-%s", c60, c60, c60, c60, c60);
  memset (comp255, 'n', 255);
  comp255[255] = '\0';
  snprintf (in_dir, sizeof in_dir, "x/%s", comp255);
  cr_assert_gt (strlen (over100), 100);
  cr_assert_gt (strlen (over255), 255);

  fx_tar_file (t, over100, 0644, "over 100");
  fx_tar_file (t, over255, 0644, "over 255");
  fx_tar_file (t, comp255, 0644, "255 byte name");
  fx_tar_file (t, in_dir, 0644, "255 byte name in a dir");
  fx_tar_symlink (t, "longlink", over255);
  assert_ok (extract (t));
  assert_text (over100, "over 100");
  assert_text (over255, "over 255");
  assert_text (comp255, "255 byte name");
  assert_text (in_dir, "255 byte name in a dir");
  assert_symlink ("longlink", over255);
  assert_outside_untouched ();
}

Test (extract, duplicate_directory_mode_last_wins)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "d", 0700);
  fx_tar_file (t, "d/f", 0644, "kept");
  fx_tar_dir (t, "d", 0755);
  assert_ok (extract (t));
  assert_mode ("d", S_IFDIR, 0755);
  assert_text ("d/f", "kept");
  assert_outside_untouched ();
}

Test (extract, duplicate_directory_mtime_last_wins)
{
  struct fx_tar *t = fx_tar_new ();

  tar_dir_time (t, "d", 0700, 1000000000, 0);
  fx_tar_file (t, "d/f", 0644, "kept");
  tar_dir_time (t, "d", 0755, 1200000000, 0);
  assert_ok (extract (t));
  assert_mode ("d", S_IFDIR, 0755);
  assert_mtime ("d", 1200000000, 0);
  assert_outside_untouched ();
}

Test (extract, file_replaced_by_directory)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "x", 0644, "file first");
  fx_tar_dir (t, "x", 0711);
  fx_tar_file (t, "x/inner", 0644, "inner");
  assert_ok (extract (t));
  assert_mode ("x", S_IFDIR, 0711);
  assert_text ("x/inner", "inner");
  assert_outside_untouched ();
}

/* The removed tree holds symlinks to the sentinel: they are removed, never followed.  */
Test (extract, directory_replaced_by_file)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "x", 0755);
  fx_tar_file (t, "x/a", 0644, "a");
  fx_tar_dir (t, "x/sub", 0755);
  fx_tar_symlink (t, "x/sub/abs", sentinel);
  fx_tar_symlink (t, "x/sub/rel", "../../../sentinel");
  fx_tar_symlink (t, "x/sub/victim", "../../../sentinel/victim");
  fx_tar_file (t, "x", 0600, "file now");
  assert_ok (extract (t));
  assert_text ("x", "file now");
  assert_mode ("x", S_IFREG, 0600);
  cr_assert_eq (count_entries (""), 1);
  assert_outside_untouched ();
}

Test (extract, symlinked_parent_resolves_inside_root)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "usr", 0755);
  fx_tar_dir (t, "usr/lib", 0755);
  fx_tar_symlink (t, "lib", "/usr/lib");
  fx_tar_symlink (t, "lib64", "usr/lib");
  fx_tar_file (t, "lib/x", 0644, "via absolute");
  fx_tar_file (t, "lib64/y", 0644, "via relative");
  assert_ok (extract (t));
  assert_symlink ("lib", "/usr/lib");
  assert_symlink ("lib64", "usr/lib");
  assert_text ("usr/lib/x", "via absolute");
  assert_text ("usr/lib/y", "via relative");
  assert_outside_untouched ();
}

Test (extract, unlisted_parents_created)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "a/b/c/file", 0644, "deep");
  assert_ok (extract (t));
  assert_text ("a/b/c/file", "deep");
  assert_mode ("a", S_IFDIR, 0755);
  assert_mode ("a/b", S_IFDIR, 0755);
  assert_mode ("a/b/c", S_IFDIR, 0755);
  assert_owner ("a/b", 0, 0);
  assert_outside_untouched ();
}

/* Layers are shared in the store by diffID: what a layer's directory holds may not
   depend on the umask of whichever process extracted it.  */
Test (extract, unlisted_parents_ignore_umask)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "a/b/file", 0644, "deep");
  umask (077);
  assert_ok (extract (t));
  umask (022);
  assert_text ("a/b/file", "deep");
  assert_mode ("a", S_IFDIR, 0755);
  assert_mode ("a/b", S_IFDIR, 0755);
  assert_outside_untouched ();
}

/* Files and directories are created with their own permission bits and chown/chmod
   are skipped when nothing would change: what the umask took away, and the group and
   setgid bit a setgid parent hands down, must still be set right.  */
Test (extract, modes_and_owners_ignore_umask_and_setgid_parents)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e = fx_entry_new ("sg", AE_IFDIR, 02775);

  archive_entry_set_gid (e, 1234);
  tar_entry (t, e, NULL, 0);
  fx_tar_file (t, "sg/f", 0664, "in a setgid directory");
  fx_tar_dir (t, "sg/sub", 0755);
  fx_tar_file_ex (t, "sg/mine", 0750, 1000, 1000, FX_MTIME, "x", 1);
  fx_tar_file (t, "open", 0666, "world-writable");
  fx_tar_dir (t, "opendir", 0777);
  umask (077);
  assert_ok (extract (t));
  umask (022);
  assert_mode ("sg", S_IFDIR, 02775);
  assert_owner ("sg", 0, 1234);
  assert_mode ("sg/f", S_IFREG, 0664);
  assert_owner ("sg/f", 0, 0);
  assert_mode ("sg/sub", S_IFDIR, 0755);
  assert_owner ("sg/sub", 0, 0);
  assert_mode ("sg/mine", S_IFREG, 0750);
  assert_owner ("sg/mine", 1000, 1000);
  assert_mode ("open", S_IFREG, 0666);
  assert_mode ("opendir", S_IFDIR, 0777);
  assert_outside_untouched ();
}

Test (extract, root_entry_sets_root_metadata)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e = fx_entry_new ("./", AE_IFDIR, 0750);

  archive_entry_set_uid (e, 1234);
  archive_entry_set_gid (e, 5678);
  archive_entry_set_mtime (e, 1100000000, 0);
  tar_entry (t, e, NULL, 0);
  fx_tar_file (t, "./child", 0644, "c");
  assert_ok (extract (t));
  assert_mode ("", S_IFDIR, 0750);
  assert_owner ("", 1234, 5678);
  assert_mtime ("", 1100000000, 0);
  assert_text ("child", "c");
  assert_outside_untouched ();
}

Test (extract, absolute_entry_names_land_in_root)
{
  struct fx_tar *t = fx_tar_new ();
  char name[PATH_MAX], host[PATH_MAX], inside[PATH_MAX];
  struct stat st;

  /* A name no host has: if it were resolved by the host, it would appear at "/".  */
  snprintf (name, sizeof name, "/%s-abs/path", strrchr (tmp, '/') + 1);
  snprintf (host, sizeof host, "/%s-abs", strrchr (tmp, '/') + 1);
  fx_tar_file (t, name, 0644, "absolute");
  fx_tar_file (t, "//double//slash", 0644, "double");
  assert_ok (extract (t));
  snprintf (inside, sizeof inside, "%s", name + 1);
  assert_text (inside, "absolute");
  assert_text ("double/slash", "double");
  cr_assert (lstat (host, &st) < 0 && errno == ENOENT, "%s was created on the host", host);
  assert_outside_untouched ();
}

/* Reading stops at the end-of-archive marker: entries after it are not applied.  */
Test (extract, stops_at_end_of_archive)
{
  struct fx_tar *t1 = fx_tar_new (), *t2 = fx_tar_new ();
  void *b1, *b2;
  size_t l1, l2;
  unsigned char *both;

  fx_tar_file (t1, "first", 0644, "1");
  fx_tar_file (t2, "second", 0644, "2");
  fx_tar_finish (t1, &b1, &l1);
  fx_tar_finish (t2, &b2, &l2);
  both = xmalloc (l1 + l2);
  memcpy (both, b1, l1);
  memcpy (both + l1, b2, l2);
  assert_ok (run_buf (both, l1 + l2, 0, NULL));
  assert_text ("first", "1");
  cr_assert (! exists ("second"), "an entry after the end-of-archive marker was applied");
  cr_assert_eq (stats.entries, 1);
  free (both);
  free (b1);
  free (b2);
  assert_outside_untouched ();
}

Test (extract, stats_count_entries_and_declared_bytes)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/a", 0644, "12345");
  fx_tar_file (t, "d/b", 0644, "1234567890");
  fx_tar_symlink (t, "l", "d/a");
  fx_tar_hardlink (t, "h", "d/a");
  fx_tar_whiteout (t, "w");
  assert_ok (extract (t));
  cr_assert_eq (stats.entries, 6);
  cr_assert_eq (stats.bytes, 15);
  assert_outside_untouched ();
}

/* ==================================================================== */
/* Hostile layers                                                        */
/* ==================================================================== */

/* Either the extraction failed, or it succeeded with the file REL inside the root.  */
static void
assert_refused_or_confined (int r, const char *rel, const char *content)
{
  if (r < 0)
    {
      cr_assert_not_null (err);
      cr_assert_eq (err->status, -r);
    }
  else
    {
      cr_assert_eq (r, 0);
      assert_text (rel, content);
    }
  assert_outside_untouched ();
}

Test (extract, dotdot_name_refused)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "../sentinel/victim", 0666, "pwned");
  assert_fails (extract (t), EXDEV);
  assert_msg_names ("../sentinel/victim");
  assert_outside_untouched ();
}

Test (extract, dotdot_inside_name_refused)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "a", 0755);
  fx_tar_file (t, "a/../../sentinel/victim", 0666, "pwned");
  assert_fails (extract (t), EXDEV);
  assert_outside_untouched ();
}

Test (extract, dotdot_new_file_refused)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "../sentinel/new", 0666, "pwned");
  assert_fails (extract (t), EXDEV);
  assert_outside_untouched ();
}

Test (extract, absolute_dotdot_name)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "/../../sentinel/x", 0666, "pwned");
  assert_refused_or_confined (extract (t), "sentinel/x", "pwned");
  if (err)
    cr_assert_eq (err->status, EXDEV, "%s", err->msg);
}

Test (extract, dotdot_directory_and_symlink_entries_refused)
{
  static const struct
  {
    unsigned type;
    const char *name;
  } cases[] = {
    { AE_IFDIR, "../sentinel/dir" },
    { AE_IFLNK, "../sentinel/victim" },
    { AE_IFCHR, "../sentinel/victim" },
    { AE_IFIFO, "../sentinel/newfifo" },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      struct archive_entry *e = fx_entry_new (cases[i].name, cases[i].type, 0777);
      if (cases[i].type == AE_IFLNK)
        archive_entry_set_symlink (e, "/etc/shadow");
      tar_entry (t, e, NULL, 0);
      assert_fails (extract (t), EXDEV);
      cr_assert_eq (count_entries (""), 0);
    }
  assert_outside_untouched ();
}

/* A relative symlink climbing out, then a write through it: resolved inside the root
   it names root/sentinel, which this layer created.  */
Test (extract, write_through_relative_symlink_confined)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "sentinel", 0755);
  fx_tar_symlink (t, "evil", "../sentinel");
  fx_tar_file (t, "evil/victim", 0666, "pwned");
  assert_ok (extract (t));
  assert_symlink ("evil", "../sentinel");
  assert_text ("sentinel/victim", "pwned");
  assert_outside_untouched ();
}

/* The same when nothing in the root is called "sentinel": refusing is fine, reaching
   the host's sentinel is not.  */
Test (extract, write_through_dangling_relative_symlink)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_symlink (t, "evil", "../sentinel");
  fx_tar_file (t, "evil/victim", 0666, "pwned");
  assert_refused_or_confined (extract (t), "sentinel/victim", "pwned");
}

Test (extract, write_through_absolute_symlink_confined)
{
  struct fx_tar *t = fx_tar_new ();
  char dir[PATH_MAX], file[PATH_MAX];

  snprintf (dir, sizeof dir, "%s", sentinel_rel);
  snprintf (file, sizeof file, "%s/victim", sentinel_rel);
  fx_tar_dir (t, dir, 0755);
  fx_tar_symlink (t, "abs", sentinel);
  fx_tar_file (t, "abs/victim", 0666, "pwned");
  fx_tar_file (t, "abs/new", 0666, "new");
  assert_ok (extract (t));
  assert_text (file, "pwned");
  snprintf (file, sizeof file, "%s/new", sentinel_rel);
  assert_text (file, "new");
  assert_outside_untouched ();
}

Test (extract, write_through_dangling_absolute_symlink)
{
  struct fx_tar *t = fx_tar_new ();
  char file[PATH_MAX];

  snprintf (file, sizeof file, "%s/victim", sentinel_rel);
  fx_tar_symlink (t, "abs", sentinel);
  fx_tar_file (t, "abs/victim", 0666, "pwned");
  assert_refused_or_confined (extract (t), file, "pwned");
}

/* Absolute symlinks to the host's sentinel file itself, then regular, directory and
   device entries at the link's name: the link is replaced, never written through.  */
Test (extract, entry_over_symlink_to_host_file_replaces_link)
{
  char target[PATH_MAX];
  struct fx_tar *t = fx_tar_new ();

  snprintf (target, sizeof target, "%s/victim", sentinel);
  fx_tar_symlink (t, "f", target);
  fx_tar_file (t, "f", 04777, "pwned");
  fx_tar_symlink (t, "d", sentinel);
  fx_tar_dir (t, "d", 0777);
  fx_tar_symlink (t, "c", target);
  fx_tar_device (t, "c", 'c', 1, 3);
  fx_tar_symlink (t, "r", "../sentinel/victim");
  fx_tar_file (t, "r", 0666, "pwned too");
  assert_ok (extract (t));
  assert_text ("f", "pwned");
  assert_mode ("d", S_IFDIR, 0777);
  if (in_userns ())
    cr_assert (! exists ("c"), "a device node is skipped, the link it replaced gone");
  else
    assert_mode ("c", S_IFCHR, 0644);
  assert_text ("r", "pwned too");
  assert_outside_untouched ();
}

Test (extract, write_through_two_hop_chain_confined)
{
  struct fx_tar *t = fx_tar_new ();
  char file[PATH_MAX];

  snprintf (file, sizeof file, "%s/victim", sentinel_rel);
  fx_tar_dir (t, sentinel_rel, 0755);
  fx_tar_symlink (t, "a", "b");
  fx_tar_symlink (t, "b", sentinel);
  fx_tar_file (t, "a/victim", 0666, "pwned");
  assert_ok (extract (t));
  assert_text (file, "pwned");
  assert_outside_untouched ();
}

Test (extract, write_through_dangling_two_hop_chain)
{
  struct fx_tar *t = fx_tar_new ();
  char file[PATH_MAX];

  snprintf (file, sizeof file, "%s/victim", sentinel_rel);
  fx_tar_symlink (t, "a", "b");
  fx_tar_symlink (t, "b", sentinel);
  fx_tar_file (t, "a/victim", 0666, "pwned");
  assert_refused_or_confined (extract (t), file, "pwned");
}

/* A directory swapped for a symlink in the middle of the layer: later entries under
   its name follow the symlink inside the root.  */
Test (extract, directory_swapped_for_symlink_mid_layer)
{
  struct fx_tar *t = fx_tar_new ();
  char file[PATH_MAX];

  snprintf (file, sizeof file, "%s/y", sentinel_rel);
  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/x", 0644, "x");
  fx_tar_symlink (t, "d", sentinel);
  fx_tar_file (t, "d/y", 0666, "pwned");
  fx_tar_file (t, "d/victim", 0666, "pwned");
  fx_tar_dir (t, "d/dir", 0777);
  assert_refused_or_confined (extract (t), file, "pwned");
  if (err == NULL)
    assert_symlink ("d", sentinel);
}

Test (extract, directory_swapped_for_relative_symlink_mid_layer)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/x", 0644, "x");
  fx_tar_symlink (t, "d", "../sentinel");
  fx_tar_file (t, "d/victim", 0666, "pwned");
  assert_refused_or_confined (extract (t), "sentinel/victim", "pwned");
}

/* Every other entry kind through a symlinked parent.  */
Test (extract, all_entry_kinds_through_symlinked_parent)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;

  fx_tar_dir (t, sentinel_rel, 0755);
  fx_tar_dir (t, "sentinel", 0755);
  fx_tar_symlink (t, "p", sentinel);
  fx_tar_symlink (t, "q", "../../sentinel");
  fx_tar_symlink (t, "p/victim", "/etc/shadow");
  fx_tar_dir (t, "p/dir", 0777);
  fx_tar_device (t, "p/dev", 'c', 1, 3);
  fx_tar_device (t, "q/fifo", 'p', 0, 0);
  fx_tar_whiteout (t, "q/victim");
  e = fx_entry_new ("q/dir", AE_IFDIR, 0777);
  archive_entry_set_uid (e, 1234);
  tar_entry (t, e, NULL, 0);
  assert_ok (extract (t));
  assert_outside_untouched ();
}

Test (extract, hardlink_dotdot_refused)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_hardlink (t, "h", "../sentinel/victim");
  assert_fails (extract (t), EXDEV);
  assert_msg_names ("h");
  cr_assert (! exists ("h"));
  assert_outside_untouched ();
}

Test (extract, hardlink_absolute_host_path_not_linked)
{
  struct fx_tar *t = fx_tar_new ();
  char target[PATH_MAX];
  int r;

  snprintf (target, sizeof target, "%s/victim", sentinel);
  fx_tar_hardlink (t, "h", target);
  r = extract (t);
  cr_assert_lt (r, 0, "a hardlink to a name this layer never wrote succeeded");
  cr_assert (! exists ("h"));
  assert_outside_untouched ();
}

Test (extract, hardlink_through_symlinked_parent)
{
  struct fx_tar *t = fx_tar_new ();
  int r;

  fx_tar_symlink (t, "p", sentinel);
  fx_tar_symlink (t, "q", "../sentinel");
  fx_tar_hardlink (t, "h", "p/victim");
  r = extract (t);
  cr_assert_lt (r, 0, "hardlink through p succeeded");
  cr_assert (! exists ("h"));
  assert_outside_untouched ();

  t = fx_tar_new ();
  fx_tar_hardlink (t, "h2", "q/victim");
  r = extract (t);
  cr_assert_lt (r, 0, "hardlink through q succeeded");
  cr_assert (! exists ("h2"));
  assert_outside_untouched ();
}

/* CVE-2021-32760: a hardlink to a symlink pointing at a host file, with a mode and owner
   of its own.  Applying them through the link would chmod/chown the host file.  */
Test (extract, hardlink_to_symlink_metadata_not_applied_through)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;
  char target[PATH_MAX];
  int r;

  snprintf (target, sizeof target, "%s/victim", sentinel);
  fx_tar_symlink (t, "s", target);
  fx_tar_symlink (t, "rs", "../sentinel/victim");
  fx_tar_file (t, "inside", 0644, "inside");
  fx_tar_symlink (t, "is", "inside");
  e = fx_entry_new ("h", AE_IFREG, 07777);
  archive_entry_set_hardlink (e, "s");
  archive_entry_set_uid (e, 1234);
  archive_entry_set_gid (e, 5678);
  tar_entry (t, e, NULL, 0);
  e = fx_entry_new ("rh", AE_IFREG, 07777);
  archive_entry_set_hardlink (e, "rs");
  archive_entry_set_uid (e, 1234);
  tar_entry (t, e, NULL, 0);
  e = fx_entry_new ("ih", AE_IFREG, 07777);
  archive_entry_set_hardlink (e, "is");
  archive_entry_set_uid (e, 1234);
  tar_entry (t, e, NULL, 0);
  r = extract (t);
  if (r == 0)
    {
      assert_symlink ("h", target);
      assert_symlink ("rh", "../sentinel/victim");
      assert_symlink ("ih", "inside");
      assert_mode ("inside", S_IFREG, 0644);
      assert_owner ("inside", 0, 0);
    }
  assert_outside_untouched ();
}

Test (extract, hardlink_to_directory_refused)
{
  struct fx_tar *t = fx_tar_new ();
  int r;

  fx_tar_dir (t, "d", 0755);
  fx_tar_hardlink (t, "h", "d");
  r = extract (t);
  cr_assert_lt (r, 0, "a hardlink to a directory succeeded");
  cr_assert (! exists ("h"));
  assert_outside_untouched ();
}

/* Through a symlink to a directory: the target's last component is the symlink, so the
   link is to the symlink (or refused), never to the directory.  */
Test (extract, hardlink_to_symlinked_directory)
{
  struct fx_tar *t = fx_tar_new ();
  int r;

  fx_tar_dir (t, "d", 0755);
  fx_tar_symlink (t, "s", "d");
  fx_tar_symlink (t, "out", sentinel);
  fx_tar_hardlink (t, "h", "s");
  fx_tar_hardlink (t, "h2", "out");
  r = extract (t);
  if (r == 0)
    {
      assert_symlink ("h", "d");
      assert_symlink ("h2", sentinel);
    }
  assert_outside_untouched ();
}

Test (extract, hardlink_forward_reference_refused)
{
  struct fx_tar *t = fx_tar_new ();
  int r;

  fx_tar_hardlink (t, "h", "later");
  fx_tar_file (t, "later", 0644, "later");
  r = extract (t);
  cr_assert_lt (r, 0, "a hardlink to a later entry succeeded");
  cr_assert (! exists ("h"));
  assert_outside_untouched ();
}

Test (extract, hardlink_to_itself_or_root_refused)
{
  static const char *targets[] = { ".", "/", "", "a/.." };

  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      struct archive_entry *e = fx_entry_new ("h", AE_IFREG, 0644);
      archive_entry_set_hardlink (e, targets[i]);
      tar_entry (t, e, NULL, 0);
      /* An empty link name is just a regular file for libarchive.  */
      if (*targets[i] == '\0')
        {
          assert_ok (extract (t));
          unlinkat (rootfd, "h", 0);
          continue;
        }
      cr_assert_lt (extract (t), 0, "a hardlink to '%s' succeeded", targets[i]);
    }
  assert_outside_untouched ();
}

/* A hardlink carrying data (pax allows it) would write into its target.  */
Test (extract, hardlink_with_data_refused)
{
  struct rawtar r = { 0 }, rec = { 0 };
  char five[512] = "hello";

  raw_header (&r, "a", '0', 3, NULL);
  raw_add (&r, "abc", 3);
  raw_pad (&r);
  pax_record (&rec, "comment", "makes this a pax interchange archive");
  raw_pax (&r, &rec);
  raw_header (&r, "h", '1', 5, "a");
  raw_add (&r, five, 5);
  raw_pad (&r);
  raw_end (&r);
  assert_fails (run_buf (r.p, r.len, 0, NULL), EINVAL);
  assert_msg_names ("h");
  assert_text ("a", "abc");
  free (r.p);
  free (rec.p);
  assert_outside_untouched ();
}

Test (extract, symlink_loop_refused)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_symlink (t, "a", "b");
  fx_tar_symlink (t, "b", "a");
  fx_tar_file (t, "a/x", 0644, "x");
  assert_fails (extract (t), ELOOP);
  cr_assert_eq (count_entries (""), 2);
  assert_outside_untouched ();
}

static void
symlink_chain (struct fx_tar *t, int links)
{
  /* l0 -> l1 -> ... -> l<links-1> -> real: LINKS symlinks to follow.  */
  fx_tar_dir (t, "real", 0755);
  for (int i = 0; i < links; i++)
    {
      char name[32], target[32];
      snprintf (name, sizeof name, "l%d", i);
      if (i == links - 1)
        snprintf (target, sizeof target, "/real");
      else
        snprintf (target, sizeof target, "l%d", i + 1);
      fx_tar_symlink (t, name, target);
    }
}

Test (extract, symlink_chain_of_40_followed)
{
  struct fx_tar *t = fx_tar_new ();

  symlink_chain (t, OCIP_LIMIT_SYMLINK_STEPS);
  fx_tar_file (t, "l0/x", 0644, "end of chain");
  assert_ok (extract (t));
  assert_text ("real/x", "end of chain");
  assert_outside_untouched ();
}

Test (extract, symlink_chain_of_41_refused)
{
  struct fx_tar *t = fx_tar_new ();

  symlink_chain (t, OCIP_LIMIT_SYMLINK_STEPS + 1);
  fx_tar_file (t, "l0/x", 0644, "end of chain");
  assert_fails (extract (t), ELOOP);
  cr_assert (! exists ("real/x"));
  assert_outside_untouched ();
}

/* umoci CVE-2021-29136: the root entry itself as a symlink (or file) would replace the
   directory everything else is written into.  */
Test (extract, root_entry_as_symlink_refused)
{
  static const char *names[] = { "./", ".", "/", "a/.." };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      fx_tar_symlink (t, names[i], sentinel);
      fx_tar_file (t, "victim", 0666, "pwned");
      assert_fails (extract (t), EXDEV);
      assert_mode ("", S_IFDIR, 0755);
      cr_assert_eq (count_entries (""), 0);
    }
  assert_outside_untouched ();
}

Test (extract, root_entry_as_file_or_hardlink_refused)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, ".", 0644, "not a dir");
  assert_fails (extract (t), EXDEV);

  t = fx_tar_new ();
  fx_tar_file (t, "f", 0644, "f");
  fx_tar_hardlink (t, "./", "f");
  assert_fails (extract (t), EXDEV);

  t = fx_tar_new ();
  fx_tar_device (t, "/", 'c', 1, 3);
  assert_fails (extract (t), EXDEV);
  assert_mode ("", S_IFDIR, 0755);
  assert_outside_untouched ();
}

Test (extract, invalid_whiteouts_refused)
{
  static const char *names[] = { ".wh.", ".wh..", ".wh...", "d/.wh.", "d/.wh..", "d/.wh..." };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    {
      struct fx_tar *t = fx_tar_new ();
      fx_tar_file (t, names[i], 0644, "");
      assert_fails (extract (t), EINVAL);
      cr_assert_eq (count_entries (""), 0, "'%s' left something behind", names[i]);
    }
  assert_outside_untouched ();
}

/* "d/.wh..." names "d/..", i.e. the root: it may not whiteout (remove) the root's parent
   or the root.  Checked with content present, so a removal would show.  */
Test (extract, invalid_whiteout_does_not_remove_anything)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/keep", 0644, "keep");
  fx_tar_file (t, "d/.wh...", 0644, "");
  assert_fails (extract (t), EINVAL);
  assert_text ("d/keep", "keep");
  assert_outside_untouched ();
}

Test (extract, whiteout_through_symlinked_parent_confined)
{
  struct fx_tar *t = fx_tar_new ();
  int r;

  fx_tar_symlink (t, "p", sentinel);
  fx_tar_symlink (t, "q", "../sentinel");
  fx_tar_whiteout (t, "p/victim");
  fx_tar_whiteout (t, "p/dir");
  fx_tar_whiteout (t, "q/victim");
  fx_tar_opaque (t, "p/dir");
  r = extract (t);
  if (r < 0)
    cr_assert_not_null (err);
  assert_outside_untouched ();
}

Test (extract, whiteout_dotdot_refused)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_file (t, "../sentinel/.wh.victim", 0644, "");
  assert_fails (extract (t), EXDEV);
  t = fx_tar_new ();
  fx_tar_file (t, "../sentinel/.wh..wh..opq", 0644, "");
  assert_fails (extract (t), EXDEV);
  assert_outside_untouched ();
}

Test (extract, opaque_marker_through_symlink_not_applied_outside)
{
  struct fx_tar *t = fx_tar_new ();
  char dir[PATH_MAX];
  int r;

  snprintf (dir, sizeof dir, "%s/dir", sentinel);
  fx_tar_symlink (t, "o", dir);
  fx_tar_opaque (t, "o");
  r = extract (t);
  if (r < 0)
    cr_assert_not_null (err);
  assert_outside_untouched ();
}

static void
owner_case (long long uid, long long gid, unsigned type, const char *format)
{
  struct fx_tar *t = fx_tar_new_format (format);
  struct archive_entry *e = fx_entry_new ("owned", type, 0644);

  if (type == AE_IFLNK)
    archive_entry_set_symlink (e, "x");
  if (type == AE_IFCHR)
    {
      archive_entry_set_rdevmajor (e, 1);
      archive_entry_set_rdevminor (e, 3);
    }
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  tar_entry (t, e, NULL, 0);
  assert_fails (extract (t), EINVAL);
  assert_msg_names ("owned");
  unlinkat (rootfd, "owned", 0);
  unlinkat (rootfd, "owned", AT_REMOVEDIR);
}

Test (extract, owner_out_of_range_refused)
{
  static const unsigned types[] = { AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO };

  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    {
      owner_case (4294967295LL, 0, types[i], "paxr");
      owner_case (0, 4294967295LL, types[i], "paxr");
      owner_case (1LL << 40, 0, types[i], "pax");
      owner_case (0, (1LL << 40) + 5, types[i], "pax");
    }
  assert_outside_untouched ();
}

Test (extract, owner_at_limit_accepted)
{
  struct fx_tar *t = fx_tar_new ();

  NEED_HOST_ROOT ("only the mapped IDs exist");

  fx_tar_file_ex (t, "f", 0644, OCIP_LIMIT_ID, OCIP_LIMIT_ID, FX_MTIME, "x", 1);
  assert_ok (extract (t));
  assert_owner ("f", OCIP_LIMIT_ID, OCIP_LIMIT_ID);
  assert_outside_untouched ();
}

Test (extract, device_number_out_of_range)
{
  struct fx_tar *t = fx_tar_new ();
  struct archive_entry *e;
  int r;

  /* 2^20 fits libarchive's ustar field, not the kernel's 12-bit major.  */
  fx_tar_device (t, "huge", 'c', 1u << 20, 0);
  r = extract (t);
  if (r == 0)
    {
      struct stat st = lst ("huge");
      cr_assert_eq (major (st.st_rdev), 1u << 20, "device major truncated to %u", major (st.st_rdev));
    }
  else
    assert_fails (r, EINVAL);

  /* 2^32 + 1 truncated to 32 bits would be 1:1, /dev/mem.  */
  t = fx_tar_new_format ("pax");
  e = fx_entry_new ("mem", AE_IFCHR, 0666);
  archive_entry_set_rdevmajor (e, (dev_t) ((1ULL << 32) + 1));
  archive_entry_set_rdevminor (e, 1);
  tar_entry (t, e, NULL, 0);
  assert_fails (extract (t), EINVAL);
  cr_assert (! exists ("mem"), "a device was created for major 2^32+1");

  t = fx_tar_new_format ("pax");
  e = fx_entry_new ("mem2", AE_IFBLK, 0666);
  archive_entry_set_rdevmajor (e, 1);
  archive_entry_set_rdevminor (e, (dev_t) ((1ULL << 32) + 1));
  tar_entry (t, e, NULL, 0);
  assert_fails (extract (t), EINVAL);
  cr_assert (! exists ("mem2"));
  assert_outside_untouched ();
}

static void
files (struct fx_tar *t, int n)
{
  for (int i = 0; i < n; i++)
    {
      char name[32];
      snprintf (name, sizeof name, "f%d", i);
      fx_tar_file (t, name, 0644, "");
    }
}

Test (extract, entries_limit)
{
  struct ocip_extract_limits limits;
  struct fx_tar *t = fx_tar_new ();

  ocip_extract_limits_default (&limits);
  limits.max_entries = 10;
  files (t, 10);
  assert_ok (extract_ex (t, 0, &limits));
  cr_assert_eq (stats.entries, 10);
  for (int i = 0; i < 10; i++)
    {
      char name[32];
      snprintf (name, sizeof name, "f%d", i);
      cr_assert_eq (unlinkat (rootfd, name, 0), 0);
    }

  t = fx_tar_new ();
  files (t, 11);
  assert_fails (extract_ex (t, 0, &limits), E2BIG);
  cr_assert (! exists ("f10"));
  assert_outside_untouched ();
}

Test (extract, bytes_limit)
{
  struct ocip_extract_limits limits;
  struct fx_tar *t;
  char data[2000];

  memset (data, 'b', sizeof data);
  ocip_extract_limits_default (&limits);
  limits.max_bytes = 1000;

  t = fx_tar_new ();
  fx_tar_file_ex (t, "exact", 0644, 0, 0, FX_MTIME, data, 1000);
  assert_ok (extract_ex (t, 0, &limits));
  cr_assert_eq (stats.bytes, 1000);

  t = fx_tar_new ();
  fx_tar_file_ex (t, "big", 0644, 0, 0, FX_MTIME, data, 2000);
  assert_fails (extract_ex (t, 0, &limits), E2BIG);
  assert_msg_names ("big");
  cr_assert (! exists ("big"));

  /* The sum counts, not each file.  */
  t = fx_tar_new ();
  fx_tar_file_ex (t, "half1", 0644, 0, 0, FX_MTIME, data, 600);
  fx_tar_file_ex (t, "half2", 0644, 0, 0, FX_MTIME, data, 600);
  assert_fails (extract_ex (t, 0, &limits), E2BIG);
  cr_assert (! exists ("half2"));
  assert_outside_untouched ();
}

/* A sparse file declaring 1 TiB with one byte of data: the declared size counts.  */
static bool
has_content_record (ino_t ino)
{
  size_t i;

  for (i = 0; i < stats.n_contents; i++)
    if (stats.contents[i].ino == ino)
      return true;
  return false;
}

/* The content digests extraction computes while writing are the ones a read of the
   tree gives: files of one and of many blocks, an empty file, a file replaced by a later
   entry of the same name (its inode may be reused), hardlinks, a sparse file.  */
Test (extract, content_digests_match_a_read_back)
{
  struct fx_tar *t = fx_tar_new_format ("pax");
  struct archive_entry *e = fx_entry_new ("sparse", AE_IFREG, 0644);
  static const char *const written[] = { "d/small", "d/link-to-small", "d/big", "d/empty", "d/replaced", "d/x1",
                                         "sparse" };
  size_t big_len = 700 * 1024, i;
  char *big = xmalloc (big_len + 1), *sparse = xzalloc (MIB);
  struct ocip_digest read_back, known;
  struct stat st;

  for (i = 0; i < big_len; i++)
    big[i] = (char) ('a' + (i * 7 + i / 4093) % 26);
  big[big_len] = '\0';
  memcpy (sparse + 512 * 1024, "data", 4);
  fx_tar_dir (t, "d", 0755);
  fx_tar_file (t, "d/small", 0644, "small");
  fx_tar_file (t, "d/big", 0644, big);
  fx_tar_file (t, "d/empty", 0600, "");
  fx_tar_file (t, "d/replaced", 0644, "first version");
  fx_tar_hardlink (t, "d/link-to-small", "d/small");
  fx_tar_file (t, "d/replaced", 0644, "second version, longer");
  fx_tar_file (t, "d/x1", 0644, "x1");
  fx_tar_file (t, "d/x1", 0644, "x1 again");
  archive_entry_set_size (e, (la_int64_t) MIB);
  archive_entry_sparse_add_entry (e, 512 * 1024, 4096);
  tar_entry (t, e, sparse, MIB);
  assert_ok (extract_ex (t, 777, NULL));

  /* Sorted, one record per inode; every file written is there.  The replaced versions'
     inodes were freed: their records may remain (no file has those inodes, unless a
     later file reused one, whose record then wins).  */
  for (i = 0; i < stats.n_contents; i++)
    {
      cr_assert_eq (strlen (stats.contents[i].digest), OCIP_CONTENT_DIGEST_LEN);
      if (i > 0)
        cr_assert_lt (stats.contents[i - 1].ino, stats.contents[i].ino, "sorted, one per inode");
    }
  cr_assert_leq (stats.n_contents, 8, "%zu records", stats.n_contents);
  for (i = 0; i < sizeof written / sizeof *written; i++)
    {
      st = lst (written[i]);
      cr_assert (has_content_record (st.st_ino), "no record for '%s'", written[i]);
    }

  cr_assert_eq (ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_3, NULL, 0, &read_back, &err), 0,
                "%s", err ? err->msg : "");
  cr_assert_eq (ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_3, stats.contents,
                               stats.n_contents, &known, &err),
                0, "%s", err ? err->msg : "");
  cr_assert_str_eq (known.str, read_back.str);

  /* Formats 1 (SHA-256 per file) and 2 (XXH3 of the bytes), read back, are other
     digests of the same tree; the recorded digests are format 3's only.  */
  cr_assert_eq (ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_1, NULL, 0, &read_back, &err), 0,
                "%s", err ? err->msg : "");
  cr_assert_str_neq (known.str, read_back.str);
  cr_assert_eq (ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_2, NULL, 0, &read_back, &err), 0,
                "%s", err ? err->msg : "");
  cr_assert_str_neq (known.str, read_back.str);
  cr_assert_eq (ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_2, stats.contents,
                               stats.n_contents, &read_back, &err),
                -EINVAL);
  ocip_error_release (&err);
  cr_assert_eq (ocip_treehash (rootfd, OCIP_DIGEST_SHA256, 4, NULL, 0, &read_back, &err), -EINVAL);
  free (big);
  free (sparse);
}

/* The digest of a file's content depends on its bytes only: a sparse file (unaligned
   data segments, a segment of zeros, a hole at the end), recorded while it is written,
   and read back hole by hole, has the digest of the same bytes written densely; the
   holes stay holes.  */
Test (extract, sparse_file_digest_is_the_digest_of_its_bytes)
{
  struct fx_tar *t = fx_tar_new_format ("pax");
  struct archive_entry *e = fx_entry_new ("sparse", AE_IFREG, 0644);
  size_t size = 3 * MIB + 123, i;
  unsigned char *bytes = xzalloc (size);
  cleanup_content_hasher struct ocip_content_hasher *h = ocip_content_hasher_new (OCIP_CONTENT_BLOCKS);
  char expected[OCIP_CONTENT_DIGEST_LEN + 1];
  struct ocip_digest known, read_back;
  struct stat dense, sparse;

  for (i = 100; i < 110; i++)
    bytes[i] = (unsigned char) i;
  for (i = 5000; i < 14000; i++)
    bytes[i] = (unsigned char) (i * 7 + 1);
  bytes[MIB + 4095] = 1;
  fx_tar_file_ex (t, "dense", 0644, 0, 0, FX_MTIME, bytes, size);
  archive_entry_set_size (e, (la_int64_t) size);
  archive_entry_sparse_add_entry (e, 100, 10);
  archive_entry_sparse_add_entry (e, 5000, 9000);
  archive_entry_sparse_add_entry (e, MIB, 4096);
  archive_entry_sparse_add_entry (e, 2 * MIB, 8192); /* data that is zeros */
  tar_entry (t, e, bytes, size);
  assert_ok (extract_ex (t, 777, NULL));
  assert_content ("sparse", bytes, size);
  dense = lst ("dense");
  sparse = lst ("sparse");
  cr_assert_lt (sparse.st_blocks, dense.st_blocks / 8, "the sparse file takes %lld blocks, the dense one %lld",
                (long long) sparse.st_blocks, (long long) dense.st_blocks);

  ocip_content_hasher_update (h, bytes, size);
  ocip_content_hasher_final (h, expected);
  cr_assert_eq (stats.n_contents, 2);
  cr_assert_str_eq (stats.contents[0].digest, expected);
  cr_assert_str_eq (stats.contents[1].digest, expected);
  /* Runs of zeros count once however they are cut.  */
  ocip_content_hasher_update (h, bytes, 7);
  ocip_content_hasher_zeros (h, 93);
  ocip_content_hasher_update (h, bytes + 100, 4900);
  ocip_content_hasher_update (h, bytes + 5000, size - 5000 - 123 - MIB);
  ocip_content_hasher_zeros (h, MIB + 123);
  ocip_content_hasher_final (h, expected);
  cr_assert_str_eq (stats.contents[0].digest, expected);

  cr_assert_eq (ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_3, stats.contents,
                               stats.n_contents, &known, &err),
                0, "%s", ERRMSG);
  cr_assert_eq (ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_3, NULL, 0, &read_back, &err), 0,
                "%s", ERRMSG);
  cr_assert_str_eq (known.str, read_back.str);
  free (bytes);
}

Test (extract, sparse_bomb_refused)
{
  struct ocip_extract_limits limits;
  struct rawtar r = { 0 };
  struct stat st;

  raw_sparse (&r, "bomb", 1ULL << 40, 1);
  raw_end (&r);
  ocip_extract_limits_default (&limits);
  limits.max_bytes = 1ULL << 30;
  assert_fails (run_buf (r.p, r.len, 0, &limits), E2BIG);
  assert_msg_names ("bomb");
  cr_assert (lstat (P ("bomb"), &st) < 0 || st.st_size < (off_t) (1ULL << 30));

  /* The default limit (64 GiB) refuses it too.  */
  assert_fails (run_buf (r.p, r.len, 0, NULL), E2BIG);
  cr_assert (lstat (P ("bomb"), &st) < 0 || st.st_size < (off_t) (1ULL << 30));
  free (r.p);
  assert_outside_untouched ();
}

static void
tar_two_files (void **buf, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();
  char data[10000];

  memset (data, 'd', sizeof data);
  fx_tar_file_ex (t, "first", 0644, 0, 0, FX_MTIME, data, sizeof data);
  fx_tar_file (t, "second", 0644, "2");
  fx_tar_finish (t, buf, len);
}

Test (extract, truncated_in_file_data)
{
  void *buf;
  size_t len;

  tar_two_files (&buf, &len);
  assert_fails (run_buf (buf, 512 + 5000, 0, NULL), EBADMSG);
  assert_fails (run_buf (buf, 512 + 5000, 333, NULL), EBADMSG);
  free (buf);
  assert_outside_untouched ();
}

Test (extract, truncated_in_header)
{
  void *buf;
  size_t len;
  size_t second = 512 + 10240; /* header of "second" */

  tar_two_files (&buf, &len);
  cr_assert_str_eq ((char *) buf + second, "second");
  assert_fails (run_buf (buf, second + 100, 0, NULL), EBADMSG);
  assert_fails (run_buf (buf, 100, 0, NULL), EBADMSG);
  free (buf);
  assert_outside_untouched ();
}

/* A header whose checksum does not match is a bad stream, not some other entry.  */
Test (extract, damaged_header_refused)
{
  void *buf;
  size_t len;
  size_t second = 512 + 10240;

  tar_two_files (&buf, &len);
  ((char *) buf)[second] = 'S';
  assert_fails (run_buf (buf, len, 0, NULL), EBADMSG);
  cr_assert (! exists ("Second") && ! exists ("second"));
  free (buf);
  assert_outside_untouched ();
}

Test (extract, not_a_tar_stream)
{
  unsigned char noise[8192];
  uint32_t x = 2463534242u;
  struct fx_tar *t = fx_tar_new ();
  void *tar, *gz;
  size_t tar_len, gz_len;

  for (size_t i = 0; i < sizeof noise; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      noise[i] = (unsigned char) x;
    }
  assert_fails (run_buf (noise, sizeof noise, 0, NULL), EBADMSG);

  fx_tar_file (t, "f", 0644, "compressed");
  fx_tar_finish (t, &tar, &tar_len);
  fx_compress (tar, tar_len, "gzip", &gz, &gz_len);
  assert_fails (run_buf (gz, gz_len, 0, NULL), EBADMSG);
  cr_assert_eq (count_entries (""), 0);
  free (tar);
  free (gz);
  assert_outside_untouched ();
}

Test (extract, source_error_returned)
{
  struct fx_tar *t = fx_tar_new ();
  size_t big_len = 400000;
  char *big = xmalloc (big_len);
  void *buf;
  size_t len;

  memset (big, 'z', big_len);
  fx_tar_file_ex (t, "big", 0644, 0, 0, FX_MTIME, big, big_len);
  files (t, 50);
  fx_tar_finish (t, &buf, &len);

  {
    /* Failing in the middle of the file's data.  */
    struct mem_source s = { .data = buf, .len = len, .chunk = 4096, .fail_at = 200000, .fail_errno = EIO };
    assert_fails (run_source (&s, NULL), EIO);
  }
  {
    /* At the first read.  */
    struct mem_source s = { .data = buf, .len = len, .chunk = SIZE_MAX, .fail_at = 0, .fail_errno = EIO };
    assert_fails (run_source (&s, NULL), EIO);
  }
  {
    /* Among the headers after the big file.  */
    struct mem_source s
        = { .data = buf, .len = len, .chunk = 512, .fail_at = 512 + big_len + 512 * 20, .fail_errno = EIO };
    assert_fails (run_source (&s, NULL), EIO);
  }
  free (buf);
  free (big);
  assert_outside_untouched ();
}

Test (extract, name_too_long_refused)
{
  struct fx_tar *t = fx_tar_new ();
  char *name = xmalloc (5001);
  char comp[257];
  int r;

  for (size_t i = 0; i < 5000; i++)
    name[i] = (i % 100 == 99) ? '/' : 'a';
  name[5000] = '\0';
  fx_tar_file (t, name, 0644, "long");
  assert_fails (extract (t), ENAMETOOLONG);
  free (name);

  memset (comp, 'c', 256);
  comp[256] = '\0';
  t = fx_tar_new ();
  fx_tar_file (t, comp, 0644, "256-byte component");
  r = extract (t);
  cr_assert_lt (r, 0, "a 256-byte component was accepted");
  assert_outside_untouched ();
}

Test (extract, symlink_target_too_long_refused)
{
  struct fx_tar *t = fx_tar_new ();
  char *target = xmalloc (OCIP_LIMIT_LINK_TARGET + 2);

  memset (target, 't', OCIP_LIMIT_LINK_TARGET + 1);
  target[OCIP_LIMIT_LINK_TARGET + 1] = '\0';
  fx_tar_symlink (t, "l", target);
  assert_fails (extract (t), E2BIG);
  cr_assert (! exists ("l"));
  free (target);
  assert_outside_untouched ();
}

Test (extract, xattr_over_size_limit_refused)
{
  struct fx_tar *t = fx_tar_new_format ("pax");
  size_t len = OCIP_LIMIT_XATTR_VALUE + 1;
  char *value = xmalloc (len);

  memset (value, 'v', len);
  fx_tar_xattr_file (t, "f", "user.big", value, len);
  assert_fails (extract (t), E2BIG);
  assert_msg_names ("f");
  free (value);
  assert_outside_untouched ();
}

/* ---- extraction for a user's store, inside a user namespace ---- */

/* Host IDs the test's user namespace maps its 0..65535 to.  */
#define USERNS_HOST 200000u

static void
write_proc (pid_t pid, const char *file, const char *text)
{
  char path[64];
  int fd;

  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  cr_assert_geq (fd, 0, "open %s: %s", path, strerror (errno));
  cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text), "write %s: %s", path, strerror (errno));
  close (fd);
}

/* In a child: enter a new user namespace that the parent maps (0 is USERNS_HOST), become
   its root, extract BUF as a user's store does, and check what only the namespace sees.
   Exits 0, or 1 after a line on stderr.  */
static _Noreturn void
userns_child (int ready, int go, const void *buf, size_t len)
{
  struct mem_source s = { .data = buf, .len = len, .chunk = SIZE_MAX };
  struct ocip_extract_limits limits;
  struct stat st;
  char value[4], c;
  ssize_t n;
  int fd;

#define CHILD_CHECK(cond, ...)                                                                                        \
  do                                                                                                                  \
    if (! (cond))                                                                                                     \
      {                                                                                                               \
        fprintf (stderr, __VA_ARGS__);                                                                                \
        fputc ('\n', stderr);                                                                                         \
        _exit (1);                                                                                                    \
      }                                                                                                               \
  while (0)

  CHILD_CHECK (unshare (CLONE_NEWUSER) == 0, "unshare: %s", strerror (errno));
  CHILD_CHECK (write (ready, "r", 1) == 1 && read (go, &c, 1) == 1, "sync with the parent");
  CHILD_CHECK (setresgid (0, 0, 0) == 0 && setresuid (0, 0, 0) == 0, "become the namespace's root: %s",
               strerror (errno));
  CHILD_CHECK (ocip_ovlformat_xattrs_for_process () == OCIP_OVLFORMAT_XATTRS_USER,
               "a user namespace must write user.overlay.*");
  ocip_extract_limits_default (&limits);
  CHILD_CHECK (ocip_extract_tar (rootfd, OCIP_OVLFORMAT_XATTRS_USER, mem_read, &s, &limits, &stats, &err) == 0,
               "extract: %s", ERRMSG);
  CHILD_CHECK (stats.skipped_devices && stats.skipped_devices[0] && strcmp (stats.skipped_devices[0], "dev/null") == 0
                   && stats.skipped_devices[1] == NULL,
               "the device node must be listed as skipped");
  CHILD_CHECK (fstatat (rootfd, "dev/null", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
               "no dev/null may be left");
  CHILD_CHECK (fstatat (rootfd, "tx", &st, AT_SYMLINK_NOFOLLOW) == 0, "an image's trusted.* xattr is left out");
  CHILD_CHECK (fstatat (rootfd, "dev/fifo", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISFIFO (st.st_mode),
               "a FIFO is no device: it is created");
  CHILD_CHECK (fstatat (rootfd, "gone", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR (st.st_mode)
                   && st.st_rdev == makedev (0, 0),
               "the whiteout is a 0/0 character device");
  CHILD_CHECK (fstatat (rootfd, "d/su", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == 1234 && st.st_gid == 5678
                   && (st.st_mode & 07777) == 06755,
               "d/su: owner %u:%u mode %o", st.st_uid, st.st_gid, st.st_mode & 07777);
  /* Through the layer's fd: the test's temp directory is not the namespace's to enter.  */
  fd = openat (rootfd, "o", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  n = fd < 0 ? -1 : fgetxattr (fd, "user.overlay.opaque", value, sizeof value);
  CHILD_CHECK (n == 1 && value[0] == 'y', "o: user.overlay.opaque: %s", strerror (errno));
  _exit (0);
#undef CHILD_CHECK
}

/* What `unshare --map-auto --map-root-user` gives a user: extraction writes overlayfs'
   metadata in user.overlay.* (what a "userxattr" overlay reads), keeps 0/0 whiteouts
   (the kernel allows them there), owners and setuid/setgid bits inside the mapping, and
   skips the device node it may not create, listing it, instead of failing with
   "mknod: Operation not permitted".  */
Test (extract, in_a_user_namespace_user_xattrs_and_skipped_devices)
{
  struct fx_tar *t = fx_tar_new ();
  int ready[2], go[2], status;
  char map[64], c, value[4];
  struct stat st;
  void *buf;
  size_t len;
  pid_t pid;

  NEED_HOST_ROOT ("it maps a namespace of its own, which takes host root");

  /* The sandbox forbids new namespaces: this case runs outside it only.  */
  if (getenv ("OCIP_TEST_SANDBOX"))
    cr_skip_test ("the extraction sandbox forbids unshare");
  fx_tar_dir (t, "d", 0755);
  fx_tar_file_ex (t, "d/su", 06755, 1234, 5678, FX_MTIME, "su", 2);
  fx_tar_dir (t, "dev", 0755);
  fx_tar_device (t, "dev/null", 'c', 1, 3);
  fx_tar_device (t, "dev/fifo", 'p', 0, 0);
  fx_tar_opaque (t, "o");
  fx_tar_whiteout (t, "gone");
  fx_tar_xattr_file (t, "tx", "trusted.k", "v", 1);
  fx_tar_finish (t, &buf, &len);
  /* The namespace's root owns the layer directory, as a user owns their store.  */
  cr_assert_eq (fchown (rootfd, USERNS_HOST, USERNS_HOST), 0);
  cr_assert_eq (pipe2 (ready, O_CLOEXEC), 0);
  cr_assert_eq (pipe2 (go, O_CLOEXEC), 0);
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    userns_child (ready[1], go[0], buf, len);
  cr_assert_eq (read (ready[0], &c, 1), 1, "the child did not enter its namespace");
  snprintf (map, sizeof map, "0 %u 65536\n", USERNS_HOST);
  write_proc (pid, "uid_map", map);
  write_proc (pid, "gid_map", map);
  cr_assert_eq (write (go[1], "g", 1), 1);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "the child failed (its stderr says why)");
  /* Seen from the host: the owners shifted, no trusted.* xattr written.  */
  cr_assert_eq (fstatat (rootfd, "d/su", &st, AT_SYMLINK_NOFOLLOW), 0);
  cr_assert_eq (st.st_uid, USERNS_HOST + 1234);
  cr_assert_eq (st.st_gid, USERNS_HOST + 5678);
  cr_assert_eq (st.st_mode & 07777, 06755);
  cr_assert_eq (getxattr (P ("o"), "trusted.overlay.opaque", value, sizeof value), -1);
  cr_assert_eq (errno, ENODATA);
  assert_outside_untouched ();
  free (buf);
}

/* Root's store never skips a device node: EPERM there is a real error.  */
Test (extract, device_nodes_are_never_skipped_for_roots_store)
{
  struct fx_tar *t = fx_tar_new ();

  NEED_HOST_ROOT ("this is root's store case");

  fx_tar_device (t, "null", 'c', 1, 3);
  assert_ok (extract (t));
  cr_assert_null (stats.skipped_devices);
  cr_assert (S_ISCHR (lst ("null").st_mode));
}
