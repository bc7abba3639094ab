/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for ovlformat: whiteout names, 0/0 devices, opaque xattrs, the root-opaque cut, implied-directory repair. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/error.h>
#include "rootfs/ovlformat.h"

#include "fixture.h"
#include "testutil.h"

/* Every test works in TMP: TMP/l0, TMP/l1... are hand-made layer directories (bottom
   first), TMP/merged stands for the merged view the repair writes through, TMP/host for
   a directory outside every layer.  */
static char *tmp;
static ocip_error_t err;

#define MAX_LAYERS 4
#define OLD_TIME 1000000000

static void
setup (void)
{
  if (geteuid () != 0)
    {
      /* mknod, chown and trusted.* xattrs need root; CI is root.  */
      if (getenv ("CI") != NULL)
        cr_assert_fail ("ovlformat tests need root");
      cr_skip_test ("ovlformat tests need root");
    }
  tmp = fx_mkdtemp ();
}

static void
teardown (void)
{
  ocip_error_release (&err);
  if (tmp)
    fx_rm_rf (tmp);
  free (tmp);
  tmp = NULL;
}

TestSuite (ovlformat, .init = setup, .fini = teardown, .timeout = 30);

/* ---- helpers ---- */

/* TMP/REL, in one of a few rotating buffers.  */
static const char *
P (const char *rel)
{
  static char bufs[8][PATH_MAX];
  static unsigned i;
  char *b = bufs[i++ % 8];

  snprintf (b, sizeof bufs[0], "%s/%s", tmp, rel);
  return b;
}

/* The directory TMP/REL (parents made 0755) with MODE, owner UID:GID and mtime MTIME.  */
static void
make_dir (const char *rel, mode_t mode, uid_t uid, gid_t gid, time_t mtime)
{
  struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

  fx_mkdir_p (P (rel));
  cr_assert_eq (chown (P (rel), uid, gid), 0, "chown %s: %s", rel, strerror (errno));
  cr_assert_eq (chmod (P (rel), mode), 0, "chmod %s: %s", rel, strerror (errno));
  cr_assert_eq (utimensat (AT_FDCWD, P (rel), ts, 0), 0, "utimensat %s: %s", rel, strerror (errno));
}

static void
make_opaque (const char *rel)
{
  cr_assert_eq (setxattr (P (rel), OCIP_OVLFORMAT_OPAQUE_XATTR, "y", 1, 0), 0, "setxattr %s: %s", rel,
                strerror (errno));
}

/* The layers TMP/l0 .. TMP/l<N-1>, opened as bundle.c opens them (real fds).  */
static void
open_layers (int *fds, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      cleanup_free char *rel = tu_fmt ("l%zu", i);
      fds[i] = open (P (rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      cr_assert_geq (fds[i], 0, "open %s: %s", rel, strerror (errno));
    }
}

static void
close_layers (int *fds, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    ocip_closep (&fds[i]);
}

/* Run the repair over TMP/l0..l<N-1> with IMPLIED, TMP/merged as the merged view.  */
static void
fix (char *const *const *implied, size_t n)
{
  int fds[MAX_LAYERS];
  cleanup_close int rootfd = open (P ("merged"), O_PATH | O_DIRECTORY | O_CLOEXEC);

  cr_assert_geq (rootfd, 0);
  open_layers (fds, n);
  cr_assert_eq (ocip_ovlformat_fix_implied_dirs (rootfd, fds, implied, n, &err), 0, "%s",
                err ? err->msg : "");
  close_layers (fds, n);
}

static struct stat
lst (const char *rel)
{
  struct stat st;

  cr_assert_eq (lstat (P (rel), &st), 0, "lstat %s: %s", rel, strerror (errno));
  return st;
}

static void
assert_dir (const char *rel, mode_t mode, uid_t uid, gid_t gid, time_t mtime)
{
  struct stat st = lst (rel);

  cr_assert (S_ISDIR (st.st_mode), "%s is not a directory", rel);
  cr_expect_eq (st.st_mode & 07777, mode, "%s: mode 0%o, expected 0%o", rel, st.st_mode & 07777, mode);
  cr_expect_eq (st.st_uid, uid, "%s: uid %u, expected %u", rel, st.st_uid, uid);
  cr_expect_eq (st.st_gid, gid, "%s: gid %u, expected %u", rel, st.st_gid, gid);
  cr_expect_eq (st.st_mtim.tv_sec, mtime, "%s: mtime %lld, expected %lld", rel, (long long) st.st_mtim.tv_sec,
                (long long) mtime);
}

/* What extraction makes of "home/user/f" without "home/" or "home/user/" entries, in
   the layer directory REL (and in the merged view, where that layer is on top).  */
static void
make_implied_home (const char *layer)
{
  cleanup_free char *dir = tu_fmt ("%s/home/user", layer);
  cleanup_free char *home = tu_fmt ("%s/home", layer);
  cleanup_free char *file = tu_fmt ("%s/home/user/f", layer);

  fx_mkdir_p (P (dir));
  fx_write_file (P (file), "f", 1);
  make_dir (dir, 0755, 0, 0, OLD_TIME + 99);
  make_dir (home, 0755, 0, 0, OLD_TIME + 99);
}

static char *implied_home[] = { "home", "home/user", NULL };

/* ---- names ---- */

static void
expect_kind (const char *path, enum ocip_ovlformat_entry kind)
{
  const char *base = NULL;

  cr_expect_eq (ocip_ovlformat_classify (path, &base), kind, "'%s': kind %d, expected %d", path,
                (int) ocip_ovlformat_classify (path, NULL), (int) kind);
  cr_expect (base && base >= path && base <= path + strlen (path) && (base == path || base[-1] == '/'),
             "'%s': the base does not start a component", path);
}

Test (ovlformat, names_that_merely_start_like_a_whiteout_are_content)
{
  expect_kind ("a", OCIP_OVLFORMAT_CONTENT);
  expect_kind ("a/b", OCIP_OVLFORMAT_CONTENT);
  expect_kind (".wh", OCIP_OVLFORMAT_CONTENT);
  expect_kind (".whatever", OCIP_OVLFORMAT_CONTENT);
  expect_kind ("a/.wh", OCIP_OVLFORMAT_CONTENT);
  expect_kind ("a/.whx.b", OCIP_OVLFORMAT_CONTENT);
  expect_kind ("a/b.wh.c", OCIP_OVLFORMAT_CONTENT);
  expect_kind ("x.wh..wh..opq", OCIP_OVLFORMAT_CONTENT);
  /* Only the last component decides: a directory named like a whiteout is content.  */
  expect_kind (".wh.a/b", OCIP_OVLFORMAT_CONTENT);
}

Test (ovlformat, whiteout_names_the_entry_it_deletes)
{
  const char *base = NULL;

  cr_assert_eq (ocip_ovlformat_classify (".wh.a", &base), OCIP_OVLFORMAT_WHITEOUT);
  cr_assert_str_eq (base + strlen (OCIP_OVLFORMAT_WHITEOUT_PREFIX), "a");
  cr_assert_eq (ocip_ovlformat_classify ("x/y/.wh.b c", &base), OCIP_OVLFORMAT_WHITEOUT);
  cr_assert_str_eq (base, ".wh.b c");
  /* Three dots are a name like any other.  */
  cr_assert_eq (ocip_ovlformat_classify (".wh....", &base), OCIP_OVLFORMAT_WHITEOUT);
  cr_assert_str_eq (base + strlen (OCIP_OVLFORMAT_WHITEOUT_PREFIX), "...");
  /* A whiteout of a name that itself starts with ".wh" (but not ".wh..wh.").  */
  cr_assert_eq (ocip_ovlformat_classify ("a/.wh..whx", &base), OCIP_OVLFORMAT_WHITEOUT);
  cr_assert_str_eq (base + strlen (OCIP_OVLFORMAT_WHITEOUT_PREFIX), ".whx");
}

Test (ovlformat, whiteout_that_names_nothing_is_invalid)
{
  expect_kind (".wh.", OCIP_OVLFORMAT_INVALID);
  expect_kind ("a/.wh.", OCIP_OVLFORMAT_INVALID);
  expect_kind (".wh..", OCIP_OVLFORMAT_INVALID);
  expect_kind ("a/b/.wh..", OCIP_OVLFORMAT_INVALID);
  expect_kind (".wh...", OCIP_OVLFORMAT_INVALID);
  expect_kind ("a/.wh...", OCIP_OVLFORMAT_INVALID);
}

Test (ovlformat, opaque_marker_at_the_root_and_nested)
{
  const char *path = "a/b/.wh..wh..opq", *base = NULL;

  cr_assert_eq (ocip_ovlformat_classify (OCIP_OVLFORMAT_OPAQUE_MARKER, &base), OCIP_OVLFORMAT_OPAQUE);
  cr_assert_eq (base - OCIP_OVLFORMAT_OPAQUE_MARKER, 0, "the root's marker has no directory part");
  cr_assert_eq (ocip_ovlformat_classify (path, &base), OCIP_OVLFORMAT_OPAQUE);
  cr_assert_eq (base - path, 4, "the directory part is \"a/b/\"");
  expect_kind ("a/.wh..wh..opq", OCIP_OVLFORMAT_OPAQUE);
}

Test (ovlformat, aufs_metadata_is_ignored)
{
  expect_kind (".wh..wh.plnk", OCIP_OVLFORMAT_IGNORED);
  expect_kind (".wh..wh.aufs", OCIP_OVLFORMAT_IGNORED);
  expect_kind (".wh..wh.", OCIP_OVLFORMAT_IGNORED);
  expect_kind ("a/.wh..wh.plnk", OCIP_OVLFORMAT_IGNORED);
  /* Anything under AUFS's metadata at the root, whiteouts and markers included.  */
  expect_kind (".wh..wh.plnk/123.456", OCIP_OVLFORMAT_IGNORED);
  expect_kind (".wh..wh.plnk/a/.wh.b", OCIP_OVLFORMAT_IGNORED);
  expect_kind (".wh..wh..opq/x", OCIP_OVLFORMAT_IGNORED);
}

/* ---- the format on disk ---- */

Test (ovlformat, whiteout_is_a_0_0_character_device)
{
  cleanup_close int dirfd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;

  cr_assert_geq (dirfd, 0);
  cr_assert_eq (ocip_ovlformat_make_whiteout (dirfd, "gone", "a/gone", &err), 0, "%s", err ? err->msg : "");
  st = lst ("gone");
  cr_assert (S_ISCHR (st.st_mode) && major (st.st_rdev) == 0 && minor (st.st_rdev) == 0);
  cr_assert (ocip_ovlformat_is_whiteout (&st));
  cr_assert (ocip_ovlformat_whiteout_at (dirfd, "gone"));

  /* Never replaces what is there.  */
  cr_assert_eq (ocip_ovlformat_make_whiteout (dirfd, "gone", "a/gone", &err), -EEXIST);
  cr_assert (strstr (err->msg, "whiteout 'a/gone'"), "%s", err->msg);
}

Test (ovlformat, only_a_0_0_character_device_is_a_whiteout)
{
  cleanup_close int dirfd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  cr_assert_geq (dirfd, 0);
  cr_assert_eq (mknod (P ("null"), S_IFCHR | 0600, makedev (1, 3)), 0, "%s", strerror (errno));
  cr_assert_eq (mknod (P ("minor"), S_IFCHR | 0600, makedev (0, 1)), 0, "%s", strerror (errno));
  cr_assert_eq (mknod (P ("block"), S_IFBLK | 0600, makedev (0, 0)), 0, "%s", strerror (errno));
  cr_assert_eq (mknod (P ("wh"), S_IFCHR | 0600, makedev (0, 0)), 0, "%s", strerror (errno));
  cr_assert_eq (symlink ("wh", P ("link")), 0);
  fx_write_file (P ("file"), "", 0);
  cr_expect (! ocip_ovlformat_whiteout_at (dirfd, "null"));
  cr_expect (! ocip_ovlformat_whiteout_at (dirfd, "minor"));
  cr_expect (! ocip_ovlformat_whiteout_at (dirfd, "block"));
  cr_expect (! ocip_ovlformat_whiteout_at (dirfd, "file"));
  cr_expect (! ocip_ovlformat_whiteout_at (dirfd, "missing"));
  cr_expect (! ocip_ovlformat_whiteout_at (dirfd, "link"), "a symlink to a whiteout is followed");
  cr_expect (ocip_ovlformat_whiteout_at (dirfd, "wh"));
}

Test (ovlformat, opaque_directory_is_marked_y)
{
  cleanup_close int fd = -1;
  char value[8];

  make_dir ("d", 0755, 0, 0, OLD_TIME);
  make_dir ("n", 0755, 0, 0, OLD_TIME);
  make_dir ("yy", 0755, 0, 0, OLD_TIME);
  fd = open (P ("d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  cr_assert (! ocip_ovlformat_is_opaque (fd));
  cr_assert_eq (ocip_ovlformat_set_opaque (fd, OCIP_OVLFORMAT_XATTRS_TRUSTED, "d", &err), 0, "%s", err ? err->msg : "");
  cr_assert (ocip_ovlformat_is_opaque (fd));
  cr_assert_eq (getxattr (P ("d"), "trusted.overlay.opaque", value, sizeof value), 1);
  cr_assert_eq (value[0], 'y');

  /* Only "y" means opaque, as overlayfs reads it.  */
  cr_assert_eq (setxattr (P ("n"), "trusted.overlay.opaque", "n", 1, 0), 0);
  cr_assert_eq (setxattr (P ("yy"), "trusted.overlay.opaque", "yy", 2, 0), 0);
  ocip_closep (&fd);
  fd = open (P ("n"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_expect (! ocip_ovlformat_is_opaque (fd));
  ocip_closep (&fd);
  fd = open (P ("yy"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_expect (! ocip_ovlformat_is_opaque (fd));
}

/* A user's store: user.overlay.opaque, which overlayfs mounted with "userxattr" reads;
   the reader accepts either namespace.  */
Test (ovlformat, opaque_directory_of_a_users_store_is_user_xattr)
{
  cleanup_close int fd = -1;
  char value[8];

  make_dir ("d", 0755, 0, 0, OLD_TIME);
  fd = open (P ("d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  cr_assert_eq (ocip_ovlformat_set_opaque (fd, OCIP_OVLFORMAT_XATTRS_USER, "d", &err), 0, "%s", err ? err->msg : "");
  cr_assert (ocip_ovlformat_is_opaque (fd));
  cr_assert_eq (getxattr (P ("d"), "user.overlay.opaque", value, sizeof value), 1);
  cr_assert_eq (value[0], 'y');
  cr_assert_eq (getxattr (P ("d"), "trusted.overlay.opaque", value, sizeof value), -1);
  cr_assert_eq (errno, ENODATA);
}

/* Root in the initial user namespace writes trusted.*; anyone else user.*.  */
Test (ovlformat, xattrs_for_process)
{
  pid_t pid;
  int status;

  cr_assert_eq (ocip_ovlformat_xattrs_for_process (),
                geteuid () == 0 ? OCIP_OVLFORMAT_XATTRS_TRUSTED : OCIP_OVLFORMAT_XATTRS_USER);
  cr_assert_str_eq (ocip_ovlformat_xattrs_name (OCIP_OVLFORMAT_XATTRS_USER), "user");
  cr_assert_str_eq (ocip_ovlformat_xattrs_name (OCIP_OVLFORMAT_XATTRS_TRUSTED), "trusted");
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    _exit (unshare (CLONE_NEWUSER) == 0 && ocip_ovlformat_xattrs_for_process () == OCIP_OVLFORMAT_XATTRS_USER ? 0 : 1);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "a user namespace must choose user.*");
}

Test (ovlformat, overlay_xattrs_are_overlayfs_own)
{
  cr_expect (ocip_ovlformat_is_overlay_xattr ("trusted.overlay.opaque"));
  cr_expect (ocip_ovlformat_is_overlay_xattr ("trusted.overlay.redirect"));
  cr_expect (ocip_ovlformat_is_overlay_xattr ("user.overlay.opaque"));
  cr_expect (ocip_ovlformat_is_overlay_xattr ("user.overlay.metacopy"));
  cr_expect (! ocip_ovlformat_is_overlay_xattr ("trusted.overlayx"));
  cr_expect (! ocip_ovlformat_is_overlay_xattr ("trusted.overla"));
  cr_expect (! ocip_ovlformat_is_overlay_xattr ("user.overlayfs"));
  cr_expect (! ocip_ovlformat_is_overlay_xattr ("user.mime_type"));
  cr_expect (! ocip_ovlformat_is_overlay_xattr ("security.capability"));
}

/* ---- the stack ---- */

Test (ovlformat, stack_starts_at_the_topmost_opaque_root)
{
  int fds[MAX_LAYERS];

  make_dir ("l0", 0755, 0, 0, OLD_TIME);
  make_dir ("l1", 0755, 0, 0, OLD_TIME);
  make_dir ("l2", 0755, 0, 0, OLD_TIME);
  make_dir ("l3/sub", 0755, 0, 0, OLD_TIME);
  open_layers (fds, 4);
  cr_expect_eq (ocip_ovlformat_lowest_visible (fds, 0), 0);
  cr_expect_eq (ocip_ovlformat_lowest_visible (fds, 4), 0, "no opaque root: every layer shows");
  close_layers (fds, 4);

  /* An opaque directory below the root cuts nothing.  */
  make_opaque ("l3/sub");
  make_opaque ("l1");
  make_opaque ("l2");
  open_layers (fds, 4);
  cr_expect_eq (ocip_ovlformat_lowest_visible (fds, 4), 2);
  cr_expect_eq (ocip_ovlformat_lowest_visible (fds, 2), 1);
  cr_expect_eq (ocip_ovlformat_lowest_visible (fds, 1), 0);
  close_layers (fds, 4);
}

/* ---- implied directories ---- */

Test (ovlformat, implied_directory_takes_the_lower_directory_metadata)
{
  char **implied[] = { NULL, implied_home };

  make_dir ("l0/home/user", 0750, 1000, 1001, OLD_TIME + 2);
  make_dir ("l0/home", 0711, 0, 0, OLD_TIME + 1);
  make_implied_home ("l1");
  make_implied_home ("merged");
  fix ((char *const *const *) implied, 2);
  assert_dir ("merged/home/user", 0750, 1000, 1001, OLD_TIME + 2);
  assert_dir ("merged/home", 0711, 0, 0, OLD_TIME + 1);
}

Test (ovlformat, implied_directory_skips_lower_implied_ones)
{
  char **implied[] = { NULL, implied_home, implied_home };

  make_dir ("l0/home/user", 0750, 1000, 1001, OLD_TIME + 2);
  make_dir ("l0/home", 0711, 0, 0, OLD_TIME + 1);
  make_implied_home ("l1");
  make_implied_home ("l2");
  make_implied_home ("merged");
  fix ((char *const *const *) implied, 3);
  assert_dir ("merged/home/user", 0750, 1000, 1001, OLD_TIME + 2);
}

Test (ovlformat, implied_directory_under_a_listed_one_above_is_left)
{
  char **implied[] = { NULL, implied_home, NULL };

  make_dir ("l0/home/user", 0750, 1000, 1001, OLD_TIME + 2);
  make_implied_home ("l1");
  make_dir ("l2/home/user", 0700, 7, 7, OLD_TIME + 3);
  make_dir ("merged/home/user", 0700, 7, 7, OLD_TIME + 3);
  fix ((char *const *const *) implied, 3);
  assert_dir ("merged/home/user", 0700, 7, 7, OLD_TIME + 3);
}

Test (ovlformat, implied_directory_below_an_opaque_one_of_its_layer_is_left)
{
  char **implied[] = { NULL, implied_home };

  make_dir ("l0/home/user", 0750, 1000, 1001, OLD_TIME + 2);
  make_implied_home ("l1");
  make_opaque ("l1/home");
  make_implied_home ("merged");
  fix ((char *const *const *) implied, 2);
  assert_dir ("merged/home/user", 0755, 0, 0, OLD_TIME + 99);
}

Test (ovlformat, implied_directory_stops_at_an_opaque_root)
{
  char **implied[] = { NULL, NULL, implied_home };

  make_dir ("l0/home/user", 0750, 1000, 1001, OLD_TIME + 2);
  make_dir ("l1", 0755, 0, 0, OLD_TIME);
  make_opaque ("l1");
  make_implied_home ("l2");
  make_implied_home ("merged");
  fix ((char *const *const *) implied, 3);
  assert_dir ("merged/home/user", 0755, 0, 0, OLD_TIME + 99);
  assert_dir ("merged/home", 0755, 0, 0, OLD_TIME + 99);
}

Test (ovlformat, implied_directory_over_a_lower_whiteout_is_left)
{
  char **implied[] = { NULL, NULL, implied_home };

  make_dir ("l0/home/user", 0750, 1000, 1001, OLD_TIME + 2);
  make_dir ("l1/home", 0755, 0, 0, OLD_TIME);
  cr_assert_eq (mknod (P ("l1/home/user"), S_IFCHR | 0600, makedev (0, 0)), 0, "%s", strerror (errno));
  make_implied_home ("l2");
  make_implied_home ("merged");
  fix ((char *const *const *) implied, 3);
  assert_dir ("merged/home/user", 0755, 0, 0, OLD_TIME + 99);
}

/* A symlink in a lower layer is never followed: overlayfs looks "a/ssl" up in that
   layer as "a" (a symlink: nothing below it shows) and never reads where it points.
   Following it read the stat of the host's directory (an absolute target resolves from
   the host's "/") into the merged view.  */
Test (ovlformat, implied_directory_never_follows_a_lower_symlink)
{
  char *implied_a[] = { "a", "a/ssl", NULL };
  char **implied[] = { NULL, implied_a };
  cleanup_free char *host = tu_fmt ("%s/host", tmp);

  make_dir ("host/ssl", 0701, 4242, 4242, OLD_TIME + 5);
  make_dir ("l0", 0755, 0, 0, OLD_TIME);
  cr_assert_eq (symlink (host, P ("l0/a")), 0, "%s", strerror (errno));
  make_dir ("l1/a/ssl", 0755, 0, 0, OLD_TIME + 99);
  make_dir ("merged/a/ssl", 0755, 0, 0, OLD_TIME + 99);
  fix ((char *const *const *) implied, 2);
  assert_dir ("merged/a/ssl", 0755, 0, 0, OLD_TIME + 99);
}

Test (ovlformat, implied_directory_that_the_merged_view_lacks_is_skipped)
{
  char **implied[] = { NULL, implied_home };

  make_dir ("l0/home/user", 0750, 1000, 1001, OLD_TIME + 2);
  make_implied_home ("l1");
  make_dir ("merged", 0755, 0, 0, OLD_TIME);
  fix ((char *const *const *) implied, 2);
  cr_assert (! tu_exists (tmp, "merged/home"));
}
