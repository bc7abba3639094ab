/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for fsroot: each scenario runs with openat2, without it, and with it always busy. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <criterion/criterion.h>
#include <seccomp.h>
/* gcc says __SANITIZE_ADDRESS__, clang __has_feature (address_sanitizer).  */
#if defined(__SANITIZE_ADDRESS__)
#define OCIP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OCIP_ASAN 1
#endif
#endif
#ifdef OCIP_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#include <oci-prep/cleanup.h>
#include <oci-prep/error.h>
#include "base/fsroot.h"
#include <oci-prep/limits.h>

/* Layout of every test: BASE/root is the root handed to fsroot; BASE/sentinel (and
   whatever else a test puts in BASE) lies outside it and must never be reached.  */
static char base[64];
static int basefd = -1;
static int rootfd = -1;
static bool proc_mounted;
static int fds_at_start;
/* Set by the variants that resolve through the walk rather than openat2.  */
static bool via_walk;

static int
rm_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
teardown (void)
{
  char proc[PATH_MAX];

  if (proc_mounted)
    {
      snprintf (proc, sizeof proc, "%s/root/proc", base);
      umount2 (proc, MNT_DETACH);
      proc_mounted = false;
    }
  ocip_closep (&rootfd);
  ocip_closep (&basefd);
  if (base[0])
    nftw (base, rm_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  base[0] = '\0';
}

/* Criterion does not run .fini for a skipped test.  */
#define skip_test(...)                                                                                                 \
  do                                                                                                                   \
    {                                                                                                                  \
      teardown ();                                                                                                     \
      cr_skip_test (__VA_ARGS__);                                                                                      \
    }                                                                                                                  \
  while (0)

static void
write_at (int dirfd, const char *path, const char *content)
{
  int fd = openat (dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  size_t len = strlen (content);

  cr_assert_geq (fd, 0, "create %s: %s", path, strerror (errno));
  cr_assert_eq (write (fd, content, len), (ssize_t)len);
  close (fd);
}

/* Inside the root.  */
static void
mkfile (const char *path, const char *content)
{
  write_at (rootfd, path, content);
}

static void
mkdirs (const char *path)
{
  char buf[PATH_MAX];

  snprintf (buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++)
    if (*p == '/' || *p == '\0')
      {
        char c = *p;

        *p = '\0';
        cr_assert (mkdirat (rootfd, buf, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", buf, strerror (errno));
        if (c == '\0')
          break;
        *p = c;
      }
}

static void
mklink (const char *target, const char *path)
{
  cr_assert_eq (symlinkat (target, rootfd, path), 0, "symlink %s: %s", path, strerror (errno));
}

static int
count_fds (void)
{
  cleanup_dir DIR *d = opendir ("/proc/self/fd");
  int n = 0;

  cr_assert_not_null (d);
  while (readdir (d))
    n++;
  return n;
}

/* Every fd the resolver opened is closed again or handed to us (and we closed it), and,
   in a sanitizer build, nothing it allocated is lost.  */
static void
expect_no_leaks (void)
{
  cr_assert_eq (count_fds (), fds_at_start, "file descriptors leaked");
#ifdef OCIP_ASAN
  cr_assert_eq (__lsan_do_recoverable_leak_check (), 0, "memory leaked");
#endif
}

static void
setup (void)
{
  umask (022);
  snprintf (base, sizeof base, "/tmp/test-fsroot-XXXXXX");
  cr_assert_not_null (mkdtemp (base), "mkdtemp: %s", strerror (errno));
  basefd = open (base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (basefd, 0);
  cr_assert_eq (mkdirat (basefd, "root", 0755), 0);
  /* An O_PATH root: the resolver must work with the weakest kind of directory fd.  */
  rootfd = openat (basefd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (rootfd, 0);
  write_at (basefd, "sentinel", "SENTINEL");
  fds_at_start = count_fds ();
}

static bool
kernel_has_openat2 (void)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC };
  int fd = syscall (SYS_openat2, AT_FDCWD, "/", &how, sizeof how);

  if (fd < 0)
    return false;
  close (fd);
  return true;
}

/* Make openat2 fail with ENOSYS in this test process (Criterion runs each test in its own
   process) so that the fallback walk is what gets tested.  */
static void
disable_openat2 (void)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);

  cr_assert_not_null (ctx);
  cr_assert_eq (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (openat2), 0), 0);
  cr_assert_eq (seccomp_load (ctx), 0);
  seccomp_release (ctx);
  cr_assert_not (kernel_has_openat2 ());
}

/* Make openat2 always fail with EAGAIN, as it does when renames race a ".." step: the
   resolver must give up retrying and use the walk for that call, without disabling
   openat2 for good.  */
static void
starve_openat2 (void)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);

  cr_assert_not_null (ctx);
  cr_assert_eq (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EAGAIN), SCMP_SYS (openat2), 0), 0);
  cr_assert_eq (seccomp_load (ctx), 0);
  seccomp_release (ctx);
}

/* A test's three variants.  The fallback one checks that the first resolution noticed
   the missing syscall; the normal one that openat2 was really used where it exists.  */
#define FSROOT_TEST(name)                                                                                              \
  Test (fsroot, name, .fini = teardown)                                                                                \
  {                                                                                                                    \
    setup ();                                                                                                          \
    via_walk = !kernel_has_openat2 ();                                                                                 \
    check_##name ();                                                                                                   \
    expect_no_leaks ();                                                                                                \
    cr_assert_eq (ocip_fsroot_have_openat2 (), !via_walk);                                                             \
  }                                                                                                                    \
  Test (fsroot_fallback, name, .fini = teardown)                                                                       \
  {                                                                                                                    \
    setup ();                                                                                                          \
    disable_openat2 ();                                                                                                \
    via_walk = true;                                                                                                   \
    cr_assert (ocip_fsroot_have_openat2 ());                                                                           \
    check_##name ();                                                                                                   \
    expect_no_leaks ();                                                                                                \
    cr_assert_not (ocip_fsroot_have_openat2 ());                                                                       \
  }                                                                                                                    \
  Test (fsroot_eagain, name, .fini = teardown)                                                                         \
  {                                                                                                                    \
    if (!kernel_has_openat2 ())                                                                                        \
      cr_skip_test ("the kernel has no openat2");                                                                      \
    setup ();                                                                                                          \
    starve_openat2 ();                                                                                                 \
    via_walk = true;                                                                                                   \
    check_##name ();                                                                                                   \
    expect_no_leaks ();                                                                                                \
    cr_assert (ocip_fsroot_have_openat2 ());                                                                           \
  }

static int
open_ok (const char *path, int flags, unsigned resolve)
{
  ocip_error_t err = NULL;
  int fd = ocip_fsroot_open (rootfd, path, flags, 0644, resolve, &err);

  cr_assert_geq (fd, 0, "%s: open '%.100s': %.300s", strerror (err ? err->status : 0), path, err ? err->msg : "?");
  cr_assert_null (err);
  cr_assert (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  return fd;
}

static void
check_error (ocip_error_t *err, int r, const char *path, int errnum)
{
  char quoted[PATH_MAX + 2];

  cr_assert_eq (r, -errnum, "'%s': got %d (%s), want -%d (%s)", path, r, strerror (r < 0 ? -r : 0), errnum,
                strerror (errnum));
  cr_assert_not_null (*err);
  cr_assert_eq ((*err)->status, errnum);
  snprintf (quoted, sizeof quoted, "'%s'", path);
  cr_assert_not_null (strstr ((*err)->msg, quoted), "message '%s' does not name %s", (*err)->msg, quoted);
  ocip_error_release (err);
}

static void
open_fails (const char *path, int flags, unsigned resolve, int errnum)
{
  ocip_error_t err = NULL;
  int r = ocip_fsroot_open (rootfd, path, flags, 0644, resolve, &err);

  if (r >= 0)
    close (r);
  check_error (&err, r, path, errnum);
}

static void
expect_content (int fd, const char *want)
{
  char buf[256];
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);

  cr_assert_geq (n, 0, "read: %s", strerror (errno));
  buf[n] = '\0';
  cr_assert_str_eq (buf, want);
}

/* PATH opens, read-only, to a file holding WANT.  */
static void
expect_file (const char *path, unsigned resolve, const char *want)
{
  int fd = open_ok (path, O_RDONLY, resolve);

  expect_content (fd, want);
  close (fd);
}

static void
expect_same (int fd, int dirfd, const char *path)
{
  struct stat a, b;

  cr_assert_eq (fstat (fd, &a), 0);
  cr_assert_eq (fstatat (dirfd, path, &b, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), 0, "stat %s", path);
  cr_assert (a.st_dev == b.st_dev && a.st_ino == b.st_ino, "not the same inode as '%s'", path);
}

/* PATH opens as a directory, and it is root/WANT ("" for the root).  */
static void
expect_dir (const char *path, const char *want)
{
  int fd = open_ok (path, O_RDONLY | O_DIRECTORY, 0);

  expect_same (fd, rootfd, want);
  close (fd);
}

static bool
exists_at (int dirfd, const char *path)
{
  struct stat st;

  return fstatat (dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
check_nested_open (void)
{
  mkdirs ("a/b/c");
  mkfile ("a/b/c/file", "nested");

  expect_file ("a/b/c/file", 0, "nested");
  expect_file ("/a/b/c/file", 0, "nested");
  expect_file ("a//b/./c/file", 0, "nested");
  expect_file ("a/b/../b/c/file", 0, "nested");
  expect_dir ("a/b/c", "a/b/c");
  expect_dir ("a/b/c/", "a/b/c");
  expect_dir ("a/b/c/.", "a/b/c");
  expect_dir ("", "");
  expect_dir ("/", "");
  expect_dir (".", "");
  open_fails ("a/b/c/missing", O_RDONLY, 0, ENOENT);
  open_fails ("a/x/c/file", O_RDONLY, 0, ENOENT);
  open_fails ("a/b/c/file", O_RDONLY | O_DIRECTORY, 0, ENOTDIR);
  open_fails ("a/b/c", O_WRONLY, 0, EISDIR);

  /* O_PATH results.  */
  {
    int fd = open_ok ("a/b/c/file", O_PATH, 0);

    expect_same (fd, rootfd, "a/b/c/file");
    close (fd);
    open_fails ("a/b/c/file", O_PATH | O_DIRECTORY, 0, ENOTDIR);
    open_fails ("a/b/c/file", O_PATH | O_RDWR, 0, EINVAL);
  }

  /* An ordinary (not O_PATH) root fd works as well.  */
  {
    ocip_error_t err = NULL;
    int dfd = openat (basefd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = ocip_fsroot_open (dfd, "../a/b/c/file", O_RDONLY, 0, 0, &err);

    cr_assert_geq (fd, 0);
    expect_content (fd, "nested");
    close (fd);
    close (dfd);
  }

  /* Writing through a returned fd writes the file in the root.  */
  {
    int fd = open_ok ("a/b/c/file", O_WRONLY | O_TRUNC, 0);

    cr_assert_eq (write (fd, "new", 3), 3);
    close (fd);
    expect_file ("a/b/c/file", 0, "new");
  }
}
FSROOT_TEST (nested_open)

static void
check_absolute_symlink_inside (void)
{
  mkdirs ("etc");
  mkfile ("etc/target", "inside");
  mklink ("/etc/target", "link");
  mklink ("/etc", "etclink");
  mklink ("/", "slash");
  mkdirs ("x/y");
  mklink ("/etc/target", "x/y/deep");

  expect_file ("link", 0, "inside");
  expect_file ("/link", 0, "inside");
  expect_file ("etclink/target", 0, "inside");
  expect_file ("slash/etc/target", 0, "inside");
  expect_file ("slash/slash/slash/link", 0, "inside");
  expect_file ("x/y/deep", 0, "inside");
  expect_dir ("slash", "");
  expect_dir ("etclink", "etc");
}
FSROOT_TEST (absolute_symlink_inside)

static void
check_absolute_symlink_host_only (void)
{
  char hostpath[PATH_MAX];

  /* The target exists on the host, not in the root: the answer is ENOENT, never the host file.  */
  cr_assert_eq (access ("/etc/passwd", F_OK), 0);
  mklink ("/etc/passwd", "passwd");
  mklink ("/etc", "etclink");
  open_fails ("passwd", O_RDONLY, 0, ENOENT);
  open_fails ("etclink/passwd", O_RDONLY, 0, ENOENT);
  open_fails ("/etc/passwd", O_RDONLY, 0, ENOENT);

  /* A link straight at the sentinel, by its absolute host path.  */
  snprintf (hostpath, sizeof hostpath, "%s/sentinel", base);
  mklink (hostpath, "tosentinel");
  open_fails ("tosentinel", O_RDONLY, 0, ENOENT);
  open_fails (hostpath, O_RDONLY, 0, ENOENT);
  mklink (base, "tobase");
  open_fails ("tobase/sentinel", O_RDONLY, 0, ENOENT);

  /* Once the root has the same path, that is what is opened.  */
  mkdirs (base + 1);
  mkfile (hostpath + 1, "inside");
  expect_file ("tosentinel", 0, "inside");
  expect_file ("tobase/sentinel", 0, "inside");
}
FSROOT_TEST (absolute_symlink_host_only)

static void
check_relative_symlink_clamped (void)
{
  mkdirs ("a/b");
  mkfile ("sentinel", "inside");
  mklink ("../../../sentinel", "a/b/up3");
  mklink ("../../../../../../../../sentinel", "a/b/up8");
  mklink ("../../../..", "a/b/updir");
  mklink ("../sentinel", "top");

  expect_file ("a/b/up3", 0, "inside");
  expect_file ("a/b/up8", 0, "inside");
  expect_file ("a/b/updir/sentinel", 0, "inside");
  expect_file ("top", 0, "inside");
  expect_dir ("a/b/updir", "");
  expect_dir ("a/b/updir/a", "a");
}
FSROOT_TEST (relative_symlink_clamped)

static void
check_dotdot_clamped (void)
{
  mkdirs ("a/b");
  mkfile ("sentinel", "inside");

  expect_file ("../sentinel", 0, "inside");
  expect_file ("/../../sentinel", 0, "inside");
  expect_file ("a/../../../sentinel", 0, "inside");
  expect_file ("a/b/../../../../../../sentinel", 0, "inside");
  expect_dir ("..", "");
  expect_dir ("../..", "");
  expect_dir ("a/b/../../..", "");
  expect_dir ("a/b/..", "a");
  expect_dir ("../a/../a/b/../b", "a/b");
}
FSROOT_TEST (dotdot_clamped)

static void
check_symlink_chain (void)
{
  mkdirs ("a/real");
  mkfile ("a/real/target", "chained");
  mklink ("l2", "l1");
  mklink ("/a/real/target", "l2");
  mklink ("d2", "d1");
  mklink ("a/real", "d2");
  mklink ("../d1", "a/rel");
  /* "dir/.." after a symlinked dir is physical: the parent of the target.  */
  mkfile ("a/beside", "beside");

  expect_file ("l1", 0, "chained");
  expect_file ("d1/target", 0, "chained");
  expect_file ("a/rel/target", 0, "chained");
  expect_file ("d1/../beside", 0, "beside");
  expect_dir ("d1", "a/real");
  expect_dir ("a/rel/..", "a");
}
FSROOT_TEST (symlink_chain)

static void
check_symlink_loop (void)
{
  mklink ("loop2", "loop1");
  mklink ("loop1", "loop2");
  mklink ("self", "self");
  mklink ("/loopdir/x", "loopdir");

  open_fails ("loop1", O_RDONLY, 0, ELOOP);
  open_fails ("self", O_RDONLY, 0, ELOOP);
  open_fails ("self/x", O_RDONLY, 0, ELOOP);
  open_fails ("loopdir", O_RDONLY, 0, ELOOP);
  open_fails ("loopdir/y", O_RDONLY, 0, ELOOP);
}
FSROOT_TEST (symlink_loop)

/* PREFIX0 -> PREFIX1 -> ... -> PREFIX<N-1> -> target: opening PREFIX0 follows N links.
   Odd links are absolute, even ones relative.  */
static void
make_chain (const char *prefix, int n)
{
  char name[64], target[64];

  for (int i = 0; i < n; i++)
    {
      snprintf (name, sizeof name, "%s%d", prefix, i);
      if (i == n - 1)
        snprintf (target, sizeof target, "target");
      else
        snprintf (target, sizeof target, "%s%s%d", i % 2 ? "/" : "", prefix, i + 1);
      mklink (target, name);
    }
}

static void
check_symlink_limit (void)
{
  cr_assert_eq (OCIP_LIMIT_SYMLINK_STEPS, 40);
  mkdirs ("dir");
  mkfile ("target", "end");
  mkfile ("dir/file", "in dir");
  make_chain ("ok", 40);
  make_chain ("over", 41);

  /* The kernel's own limit (MAXSYMLINKS): 40 links are followed, the 41st is ELOOP.  */
  expect_file ("ok0", 0, "end");
  open_fails ("over0", O_RDONLY, 0, ELOOP);

  expect_file ("over1", 0, "end");

  /* Links in intermediate components count towards the same limit.  */
  cr_assert_eq (unlinkat (rootfd, "ok39", 0), 0);
  mklink ("/dir", "ok39");
  expect_file ("ok0/file", 0, "in dir");
  mklink ("ok1/file", "via40");
  expect_file ("via40", 0, "in dir");
  mklink ("ok0/file", "via41");
  open_fails ("via41", O_RDONLY, 0, ELOOP);
  mklink ("via40", "via41b");
  open_fails ("via41b", O_RDONLY, 0, ELOOP);
}
FSROOT_TEST (symlink_limit)

static void
check_nofollow_final_symlink (void)
{
  mkdirs ("dir");
  mkfile ("dir/file", "data");
  mklink ("dir/file", "link");
  mklink ("/dir", "dirlink");
  mklink ("nowhere", "dangling");

  open_fails ("link", O_RDONLY, OCIP_FSROOT_NOFOLLOW, ELOOP);
  open_fails ("link", O_RDONLY | O_NOFOLLOW, 0, ELOOP);
  open_fails ("link", O_PATH, OCIP_FSROOT_NOFOLLOW, ELOOP);
  open_fails ("link", O_PATH | O_NOFOLLOW, 0, ELOOP);
  open_fails ("dirlink", O_RDONLY, OCIP_FSROOT_NOFOLLOW, ELOOP);
  open_fails ("dirlink", O_PATH, OCIP_FSROOT_NOFOLLOW, ELOOP);
  /* With O_DIRECTORY the kernel says ENOTDIR, and so does the walk.  */
  open_fails ("dirlink", O_RDONLY | O_DIRECTORY, OCIP_FSROOT_NOFOLLOW, ENOTDIR);
  open_fails ("dirlink", O_PATH | O_DIRECTORY, OCIP_FSROOT_NOFOLLOW, ENOTDIR);
  open_fails ("dangling", O_RDONLY, OCIP_FSROOT_NOFOLLOW, ELOOP);
  open_fails ("dangling", O_RDONLY, 0, ENOENT);
  /* Only the last component is concerned.  */
  expect_file ("dirlink/file", OCIP_FSROOT_NOFOLLOW, "data");
  expect_file ("dir/file", OCIP_FSROOT_NOFOLLOW, "data");
  expect_file ("link", 0, "data");
  /* A trailing slash makes the link an intermediate component: followed, as the kernel does.  */
  expect_dir ("dirlink/", "dir");
  {
    int fd = open_ok ("dirlink/", O_PATH | O_NOFOLLOW, 0);

    expect_same (fd, rootfd, "dir");
    close (fd);
  }
  open_fails ("link/", O_RDONLY, OCIP_FSROOT_NOFOLLOW, ENOTDIR);
  /* Unknown resolve flags are refused.  */
  open_fails ("dir/file", O_RDONLY, 1u << 7, EINVAL);
}
FSROOT_TEST (nofollow_final_symlink)

static void
check_create_excl (void)
{
  char hostname[PATH_MAX];
  int fd;

  mklink ("/", "slash");
  mklink ("/etc", "etclink");
  mklink ("/created-through-link", "dangling");
  mklink (base, "tobase");
  mkdirs ("dir");

  /* Through a parent symlinked to "/": lands in the root.  */
  fd = open_ok ("slash/new", O_WRONLY | O_CREAT | O_EXCL, 0);
  cr_assert_eq (write (fd, "created", 7), 7);
  close (fd);
  expect_file ("new", 0, "created");
  cr_assert_not (exists_at (AT_FDCWD, "/new"));

  fd = open_ok ("slash/../../dir/../new2", O_WRONLY | O_CREAT | O_EXCL, 0);
  close (fd);
  cr_assert (exists_at (rootfd, "new2"));
  {
    struct stat st;

    cr_assert_eq (fstatat (rootfd, "new2", &st, 0), 0);
    cr_assert_eq (st.st_mode & 07777, 0644);
  }

  /* O_TMPFILE: MODE is passed on, the file is in the root's directory.  */
  {
    struct stat st, dir;

    fd = open_ok ("slash/dir", O_TMPFILE | O_WRONLY, 0);
    cr_assert_eq (fstat (fd, &st), 0);
    close (fd);
    cr_assert_eq (fstatat (rootfd, "dir", &dir, 0), 0);
    cr_assert (S_ISREG (st.st_mode) && st.st_nlink == 0 && st.st_dev == dir.st_dev);
    cr_assert_eq (st.st_mode & 07777, 0644);
  }

  /* A parent that points at the host: ENOENT, nothing created on the host.  */
  open_fails ("tobase/escaped", O_WRONLY | O_CREAT | O_EXCL, 0, ENOENT);
  cr_assert_not (exists_at (basefd, "escaped"));
  open_fails ("etclink/oci-prep-test-escaped", O_WRONLY | O_CREAT | O_EXCL, 0, ENOENT);
  cr_assert_not (exists_at (AT_FDCWD, "/etc/oci-prep-test-escaped"));

  /* A create never goes through a last-component symlink, dangling or not.  */
  open_fails ("dangling", O_WRONLY | O_CREAT | O_EXCL, 0, EEXIST);
  cr_assert_not (exists_at (rootfd, "created-through-link"));
  open_fails ("slash", O_WRONLY | O_CREAT | O_EXCL, 0, EEXIST);
  open_fails ("new", O_WRONLY | O_CREAT | O_EXCL, 0, EEXIST);
  open_fails ("dir", O_WRONLY | O_CREAT | O_EXCL, 0, EEXIST);
  open_fails ("dir/", O_WRONLY | O_CREAT | O_EXCL, 0, EISDIR);
  open_fails ("/", O_WRONLY | O_CREAT | O_EXCL, 0, EISDIR);
  open_fails ("", O_WRONLY | O_CREAT | O_EXCL, 0, EEXIST);
  open_fails ("dir/..", O_WRONLY | O_CREAT | O_EXCL, 0, EEXIST);
  open_fails ("dir/.", O_WRONLY | O_CREAT | O_EXCL, 0, EEXIST);

  snprintf (hostname, sizeof hostname, "%s/sentinel", base);
  open_fails (hostname, O_WRONLY | O_CREAT | O_EXCL, 0, ENOENT);
}
FSROOT_TEST (create_excl)

static void
check_create_without_excl (void)
{
  mkdirs ("dir");
  mkfile ("existing", "old");

  open_fails ("dir/new", O_WRONLY | O_CREAT, 0, EINVAL);
  open_fails ("existing", O_WRONLY | O_CREAT | O_TRUNC, 0, EINVAL);
  cr_assert_not (exists_at (rootfd, "dir/new"));
  expect_file ("existing", 0, "old");
}
FSROOT_TEST (create_without_excl)

static void
check_enotdir_through_file (void)
{
  mkfile ("file", "data");
  mklink ("file", "filelink");
  mklink ("/file/x", "through");

  open_fails ("file/x", O_RDONLY, 0, ENOTDIR);
  open_fails ("file/", O_RDONLY, 0, ENOTDIR);
  open_fails ("file/.", O_RDONLY, 0, ENOTDIR);
  open_fails ("file/..", O_RDONLY, 0, ENOTDIR);
  open_fails ("filelink/x", O_RDONLY, 0, ENOTDIR);
  open_fails ("through", O_RDONLY, 0, ENOTDIR);
  open_fails ("file/x", O_WRONLY | O_CREAT | O_EXCL, 0, ENOTDIR);
}
FSROOT_TEST (enotdir_through_file)

static void
expect_parent (const char *path, const char *want_dir, const char *want_name)
{
  ocip_error_t err = NULL;
  char *name = NULL;
  int fd = ocip_fsroot_open_parent (rootfd, path, &name, &err);
  int fl;

  cr_assert_geq (fd, 0, "open parent of '%s': %s", path, err ? err->msg : "?");
  cr_assert_null (err);
  cr_assert_str_eq (name, want_name);
  expect_same (fd, rootfd, want_dir);
  fl = fcntl (fd, F_GETFL);
  cr_assert (fl & O_PATH);
  cr_assert (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  free (name);
  close (fd);
}

static void
parent_fails (const char *path, int errnum)
{
  ocip_error_t err = NULL;
  char *name = (char *)"untouched";
  int r = ocip_fsroot_open_parent (rootfd, path, &name, &err);

  if (r >= 0)
    close (r);
  cr_assert_str_eq (name, "untouched");
  check_error (&err, r, path, errnum);
}

static void
check_open_parent (void)
{
  ocip_error_t err = NULL;
  char *name = NULL;
  int fd;

  mkdirs ("a/b/c");
  mkdirs ("x");
  mkfile ("a/b/c/file", "data");
  mkfile ("plain", "data");
  mklink ("/a/b", "blink");
  mklink ("/", "slash");
  mklink ("a/b/c/file", "flink");

  expect_parent ("a/b/c/file", "a/b/c", "file");
  expect_parent ("/a/b/c/file", "a/b/c", "file");
  expect_parent ("a/b/c/", "a/b", "c");
  expect_parent ("a/b/c//", "a/b", "c");
  expect_parent ("x", "", "x");
  expect_parent ("/x", "", "x");
  expect_parent ("new", "", "new");
  expect_parent ("blink/c/new", "a/b/c", "new");
  expect_parent ("slash/slash/a/new", "a", "new");
  expect_parent ("../../a/new", "a", "new");
  /* The last component itself is not followed.  */
  expect_parent ("flink", "", "flink");
  expect_parent ("blink", "", "blink");
  /* Not cleaned lexically: "blink/.." is the parent of what blink points at.  */
  expect_parent ("blink/../new", "a", "new");

  parent_fails ("/", EINVAL);
  parent_fails ("", EINVAL);
  parent_fails (".", EINVAL);
  parent_fails ("..", EINVAL);
  parent_fails ("a/..", EINVAL);
  parent_fails ("a/.", EINVAL);
  parent_fails ("a/./", EINVAL);
  parent_fails ("//", EINVAL);
  parent_fails ("missing/name", ENOENT);
  parent_fails ("plain/name", ENOTDIR);

  /* The returned fd is good for creating the name with *at() calls, inside the root.  */
  fd = ocip_fsroot_open_parent (rootfd, "slash/a/newdir", &name, &err);
  cr_assert_geq (fd, 0);
  cr_assert_eq (mkdirat (fd, name, 0755), 0);
  cr_assert (exists_at (rootfd, "a/newdir"));
  free (name);
  close (fd);
}
FSROOT_TEST (open_parent)

#define DEEP 1200

/* Nested deeper than the descriptor table allows (the limit is lowered for this test
   process), descended and climbed back through "..": the walk must keep a bounded number
   of directories open.  */
static void
check_long_paths (void)
{
  struct rlimit rl;
  char path[OCIP_LIMIT_PATH_LENGTH + 16];
  char target[OCIP_LIMIT_PATH_LENGTH];
  ocip_error_t err = NULL;
  char *p;
  int fd, r;

  fd = dup (rootfd);
  for (int i = 0; i < DEEP; i++)
    {
      int next;

      cr_assert_eq (mkdirat (fd, "d", 0755), 0);
      next = openat (fd, "d", O_PATH | O_DIRECTORY | O_CLOEXEC);
      cr_assert_geq (next, 0);
      close (fd);
      fd = next;
    }
  write_at (fd, "deep", "deep");
  mkfile ("top", "top");
  /* DEEP levels up, to the root.  */
  p = target;
  for (int i = 0; i < DEEP; i++)
    p += sprintf (p, "../");
  sprintf (p, "top");
  cr_assert_eq (symlinkat (target, fd, "up"), 0);
  /* Half way up and down again.  */
  p = target;
  for (int i = 0; i < DEEP / 2; i++)
    p += sprintf (p, "../");
  for (int i = 0; i < DEEP / 2; i++)
    p += sprintf (p, "d/");
  sprintf (p, "deep");
  cr_assert_eq (symlinkat (target, fd, "updown"), 0);
  /* A directory half way up.  */
  p = target;
  for (int i = 0; i < DEEP / 2; i++)
    p += sprintf (p, "../");
  cr_assert_eq (symlinkat (target, fd, "half"), 0);
  close (fd);

  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &rl), 0);
  rl.rlim_cur = 256;
  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &rl), 0, "setrlimit: %s", strerror (errno));

  p = path;
  for (int i = 0; i < DEEP; i++)
    p += sprintf (p, "d/");
  strcpy (p, "deep");
  expect_file (path, 0, "deep");
  strcpy (p, "up");
  expect_file (path, 0, "top");
  strcpy (p, "updown");
  expect_file (path, 0, "deep");
  p += sprintf (p, "half");
  for (int i = 0; i < DEEP / 2; i++)
    p += sprintf (p, "/d");
  strcpy (p, "/deep");
  expect_file (path, 0, "deep");

  memset (path, 'a', OCIP_LIMIT_PATH_LENGTH);
  path[OCIP_LIMIT_PATH_LENGTH] = '\0';
  r = ocip_fsroot_open (rootfd, path, O_RDONLY, 0, 0, &err);
  cr_assert_eq (r, -ENAMETOOLONG);
  cr_assert_lt (strlen (err->msg), 400);
  ocip_error_release (&err);

  memset (path, 'a', NAME_MAX + 1);
  path[NAME_MAX + 1] = '\0';
  open_fails (path, O_RDONLY, 0, ENAMETOOLONG);
}
FSROOT_TEST (long_paths)

/* procfs mounted inside the root (only possible for a privileged caller, but the
   contract holds anyway): magic links such as /proc/self/root must not be followed.  */
static void
check_magic_links (void)
{
  char proc[PATH_MAX], path[PATH_MAX];
  int want;

  mkdirs ("proc");
  mkfile ("file", "data");
  expect_file ("file", 0, "data");
  /* openat2 refuses the magic link itself; the walk refuses to enter procfs at all.  */
  want = via_walk ? EXDEV : ELOOP;

  snprintf (proc, sizeof proc, "%s/root/proc", base);
  if (unshare (CLONE_NEWNS) < 0 || mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0
      || mount ("proc", proc, "proc", 0, NULL) < 0)
    {
      const char *why = strerror (errno);

      skip_test ("cannot mount procfs in a private mount namespace: %s", why);
    }
  proc_mounted = true;
  /* The fds opened before unshare() point into the old namespace's mounts, where
     nothing is mounted on root/proc.  */
  ocip_closep (&rootfd);
  ocip_closep (&basefd);
  basefd = open (base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  rootfd = openat (basefd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (rootfd, 0);
  cr_assert (exists_at (rootfd, "proc/self"));

  mklink ("/proc/self/root", "procroot");
  snprintf (path, sizeof path, "proc/self/root%s/sentinel", base);
  open_fails (path, O_RDONLY, 0, want);
  snprintf (path, sizeof path, "procroot%s/sentinel", base);
  open_fails (path, O_RDONLY, 0, want);
  snprintf (path, sizeof path, "proc/self/fd/%d", basefd);
  open_fails (path, O_PATH, 0, want);
  snprintf (path, sizeof path, "proc/thread-self/cwd");
  open_fails (path, O_PATH | O_DIRECTORY, 0, want);
}
FSROOT_TEST (magic_links)

/* Another thread keeps swapping root/d between a real directory and a symlink to the
   host's BASE, and keeps moving root/a/b out of the root and back.  A resolver that let
   the kernel follow either (or climb ".." out of a moved directory) would sooner or
   later open BASE/file ("SENTINEL"); ours may fail, but whatever it opens is inside.  */
static atomic_bool race_stop;

static void *
race_attacker (void *arg)
{
  int outfd = *(int *)arg;
  unsigned long i = 0;

  while (!atomic_load (&race_stop))
    {
      renameat2 (rootfd, "d", rootfd, "dswap", RENAME_EXCHANGE);
      if (i++ % 2)
        renameat (rootfd, "a/b", outfd, "b");
      else
        renameat (outfd, "b", rootfd, "a/b");
    }
  return NULL;
}

static void
check_race (void)
{
  pthread_t attacker;
  int outfd, opened = 0;

  mkdirs ("d");
  mkdirs ("a/b/c");
  mkfile ("d/file", "INSIDE");
  mkfile ("file", "INSIDE");
  write_at (basefd, "file", "SENTINEL");
  mklink (base, "dswap");
  cr_assert_eq (mkdirat (basefd, "out", 0755), 0);
  outfd = openat (basefd, "out", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (outfd, 0);
  /* Without a race, both paths open the inside file.  */
  expect_file ("d/file", 0, "INSIDE");
  expect_file ("a/b/c/../../../file", 0, "INSIDE");

  atomic_store (&race_stop, false);
  cr_assert_eq (pthread_create (&attacker, NULL, race_attacker, &outfd), 0);
  for (int i = 0; i < 20000; i++)
    {
      const char *path = i % 2 ? "d/file" : "a/b/c/../../../file";
      ocip_error_t err = NULL;
      int fd = ocip_fsroot_open (rootfd, path, O_RDONLY, 0, 0, &err);

      if (fd >= 0)
        {
          char buf[16] = { 0 };

          cr_assert_geq (pread (fd, buf, sizeof buf - 1, 0), 0);
          close (fd);
          if (strcmp (buf, "INSIDE") != 0)
            {
              atomic_store (&race_stop, true);
              pthread_join (attacker, NULL);
              cr_assert_fail ("'%s' opened '%s' outside the root", path, buf);
            }
          opened++;
        }
      else
        {
          /* Never EAGAIN: when openat2 keeps saying so, the walk takes over.  */
          cr_assert (fd == -ENOENT || fd == -EXDEV, "'%s': %s", path, err->msg);
          ocip_error_release (&err);
        }
    }
  atomic_store (&race_stop, true);
  pthread_join (attacker, NULL);
  close (outfd);
  cr_assert_gt (opened, 0);
}
FSROOT_TEST (race)

Test (fsroot, clean_path)
{
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "/a/./b//c/", "a/b/c" },
    { "a/b/c", "a/b/c" },
    { "a/../../x", NULL },
    { "../x", NULL },
    { "..", NULL },
    { "/..", NULL },
    { "/", "" },
    { "", "" },
    { ".", "" },
    { "./", "" },
    { "a/..", "" },
    { "a/b/../c", "a/c" },
    { "a/b/../../c", "c" },
    { "a/b/../../..", NULL },
    { "///a///", "a" },
    { "a/.../b", "a/.../b" },
    { "..a/b..", "..a/b.." },
    { "a/./../b/.", "b" },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char *got = ocip_fsroot_clean_path (cases[i].in);

      if (cases[i].out == NULL)
        cr_assert_null (got, "clean '%s': got '%s', want NULL", cases[i].in, got);
      else
        {
          cr_assert_not_null (got, "clean '%s': got NULL, want '%s'", cases[i].in, cases[i].out);
          cr_assert_str_eq (got, cases[i].out, "clean '%s'", cases[i].in);
        }
      free (got);
    }
}
