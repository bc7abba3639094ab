/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for fsutil: the checked open of regular files (no device is ever opened), the reader built on it, directory streams. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/fsutil.h"

#include "fixture.h"
#include "testutil.h"

/* BASE/root stands for a rootfs or a layout; BASE/host for the host outside it.  */
static char *base;
static int rootfd = -1;

static void
setup (void)
{
  base = fx_mkdtemp ();
  {
    cleanup_free char *root = tu_fmt ("%s/root", base);
    cleanup_free char *host = tu_fmt ("%s/host", base);
    cleanup_free char *file = tu_fmt ("%s/root/file", base);
    fx_mkdir_p (root);
    fx_mkdir_p (host);
    fx_write_file (file, "inside\n", 7);
    rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    FX_CHECK (rootfd >= 0);
  }
}

static void
teardown (void)
{
  ocip_closep (&rootfd);
  fx_rm_rf (base);
  free (base);
}

TestSuite (fsutil, .init = setup, .fini = teardown, .timeout = 10);

/* Opening REL (under BASE/root) with HOW fails with ERRNUM and a message holding WHAT.  */
static void
open_fails (const char *rel, unsigned how, int errnum, const char *what)
{
  ocip_error_t err = NULL;
  int fd = ocip_open_regular_at (rootfd, rel, how, NULL, &err);

  cr_assert_eq (fd, -errnum, "'%s': expected %d, got %d (%s)", rel, -errnum, fd, err ? err->msg : "");
  cr_assert_eq (err->status, errnum);
  cr_assert (strstr (err->msg, what), "'%s': message '%s' does not say '%s'", rel, err->msg, what);
  ocip_error_release (&err);
}

static char *
read_fd (int fd)
{
  char buf[64];
  ssize_t n = read (fd, buf, sizeof buf - 1);

  cr_assert_geq (n, 0, "read: %s", strerror (errno));
  buf[n] = '\0';
  return strdup (buf);
}

Test (fsutil, open_regular_gives_a_readable_fd_of_the_file)
{
  static const unsigned hows[] = { 0, OCIP_OPEN_NOFOLLOW, OCIP_OPEN_IN_ROOT, OCIP_OPEN_IN_ROOT | OCIP_OPEN_NOFOLLOW };
  size_t i;

  for (i = 0; i < sizeof hows / sizeof *hows; i++)
    {
      ocip_error_t err = NULL;
      cleanup_close int fd = ocip_open_regular_at (rootfd, "file", hows[i], NULL, &err);
      cleanup_free char *text = NULL;
      int fl;

      cr_assert_geq (fd, 0, "how %u: %s", hows[i], err ? err->msg : "");
      fl = fcntl (fd, F_GETFL);
      cr_assert_eq (fl & (O_ACCMODE | O_PATH | O_NONBLOCK), O_RDONLY, "how %u: flags %#o", hows[i], fl);
      cr_assert_eq (fcntl (fd, F_GETFD), FD_CLOEXEC);
      text = read_fd (fd);
      cr_assert_str_eq (text, "inside\n");
    }
}

/* A node of every other type is refused by name, and none is opened: a FIFO would
   block, a device's driver would run (CVE-2024-9676).  */
Test (fsutil, open_regular_refuses_every_other_type_without_opening_it)
{
  static const struct
  {
    const char *name;
    mode_t mode;
    const char *type;
  } nodes[] = {
    { "chr", S_IFCHR | 0644, "is a character device, not a regular file" },
    { "blk", S_IFBLK | 0644, "is a block device, not a regular file" },
    { "fifo", S_IFIFO | 0644, "is a FIFO, not a regular file" },
  };
  size_t i;

  for (i = 0; i < sizeof nodes / sizeof *nodes; i++)
    {
      cleanup_free char *path = tu_fmt ("%s/root/%s", base, nodes[i].name);
      cleanup_close int watch = -1;
      unsigned how;

      /* The block device names a loop device unlikely to exist: never opened anyway.  */
      cr_assert_eq (mknod (path, nodes[i].mode, S_ISCHR (nodes[i].mode) ? makedev (1, 3) : makedev (7, 250)), 0,
                    "mknod '%s': %s", path, strerror (errno));
      watch = tu_watch_opens (path);
      for (how = 0; how < 4; how++)
        open_fails (nodes[i].name, how, EINVAL, nodes[i].type);
      cr_assert_eq (tu_opens (watch), 0, "'%s' was opened", nodes[i].name);
    }
  {
    cleanup_free char *dir = tu_fmt ("%s/root/dir", base);
    cleanup_free char *sock = tu_fmt ("%s/root/sock", base);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    cleanup_close int s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    fx_mkdir_p (dir);
    open_fails ("dir", OCIP_OPEN_IN_ROOT, EINVAL, "'dir' is a directory, not a regular file");
    cr_assert_lt (strlen (sock), sizeof sa.sun_path);
    strcpy (sa.sun_path, sock);
    cr_assert_eq (bind (s, (struct sockaddr *) &sa, sizeof sa), 0, "bind: %s", strerror (errno));
    open_fails ("sock", 0, EINVAL, "'sock' is a socket, not a regular file");
  }
}

Test (fsutil, open_regular_nofollow_refuses_a_last_symlink)
{
  cleanup_free char *link = tu_fmt ("%s/root/link", base);
  cleanup_close int fd = -1;
  ocip_error_t err = NULL;

  cr_assert_eq (symlink ("file", link), 0);
  open_fails ("link", OCIP_OPEN_NOFOLLOW, ELOOP, "symlink");
  open_fails ("link", OCIP_OPEN_IN_ROOT | OCIP_OPEN_NOFOLLOW, ELOOP, "link");
  fd = ocip_open_regular_at (rootfd, "link", 0, NULL, &err);
  cr_assert_geq (fd, 0, "%s", err ? err->msg : "");
}

/* With OCIP_OPEN_IN_ROOT an absolute symlink is resolved inside the root: the host
   file it names is never read, the root's copy is.  */
Test (fsutil, open_regular_in_root_stays_in_the_root)
{
  cleanup_free char *host_file = tu_fmt ("%s/host/secret", base);
  cleanup_free char *link = tu_fmt ("%s/root/link", base);
  cleanup_free char *inside = tu_fmt ("%s/root%s/host", base, base);
  cleanup_free char *inside_file = tu_fmt ("%s/secret", inside);
  cleanup_free char *text = NULL;
  cleanup_close int fd = -1;
  ocip_error_t err = NULL;

  fx_write_file (host_file, "host\n", 5);
  cr_assert_eq (symlink (host_file, link), 0);
  open_fails ("link", OCIP_OPEN_IN_ROOT, ENOENT, "link");
  fx_mkdir_p (inside);
  fx_write_file (inside_file, "copy\n", 5);
  fd = ocip_open_regular_at (rootfd, "link", OCIP_OPEN_IN_ROOT, NULL, &err);
  cr_assert_geq (fd, 0, "%s", err ? err->msg : "");
  text = read_fd (fd);
  cr_assert_str_eq (text, "copy\n");
}

Test (fsutil, open_regular_unknown_flags_are_einval)
{
  open_fails ("file", 1u << 7, EINVAL, "unknown flags");
}

/* Without /proc the checked inode cannot be reopened: an error of its own class (never
   ENOENT, which a caller would take for a missing file), and nothing opened by name.  */
Test (fsutil, open_regular_without_proc_is_eopnotsupp)
{
  pid_t pid = fork ();
  int status;

  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      ocip_error_t err = NULL;
      int fd;

      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
          || umount2 ("/proc", MNT_DETACH) < 0)
        _exit (2);
      fd = ocip_open_regular_at (rootfd, "file", OCIP_OPEN_IN_ROOT, NULL, &err);
      _exit (fd == -EOPNOTSUPP && strstr (err->msg, "/proc") ? 0 : 1);
    }
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status), "the child died");
  cr_assert_neq (WEXITSTATUS (status), 2, "could not unmount /proc in a private mount namespace");
  cr_assert_eq (WEXITSTATUS (status), 0, "without /proc: not EOPNOTSUPP");
}

/* ocip_read_file_at (the store's and a bundle's records) goes through the same check.  */
Test (fsutil, read_file_at_never_opens_a_device)
{
  cleanup_free char *dev = tu_fmt ("%s/root/state.json", base);
  cleanup_close int watch = tu_device_watched (dev);
  cleanup_free char *buf = NULL;
  ocip_error_t err = NULL;
  size_t len;

  int r = ocip_read_file_at (rootfd, "state.json", 4096, &buf, &len, &err);

  cr_assert_eq (tu_opens (watch), 0, "the device node was opened");
  cr_assert_eq (r, -EINVAL);
  cr_assert (strstr (err->msg, "'state.json' is a character device, not a regular file"), "%s", err->msg);
  ocip_error_release (&err);
  cr_assert_null (buf);
  cr_assert_eq (ocip_read_file_at (rootfd, "file", 4096, &buf, &len, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (len, 7);
  cr_assert_str_eq (buf, "inside\n");
}

Test (fsutil, opendir_at_has_its_own_fd_and_offset)
{
  cleanup_dir DIR *first = ocip_opendir_at (rootfd, ".");
  cleanup_dir DIR *second = NULL;
  struct dirent *de;
  int n = 0;

  cr_assert_not_null (first, "%s", strerror (errno));
  cr_assert_neq (dirfd (first), rootfd);
  while (readdir (first) != NULL)
    n++;
  /* Reading one stream to its end moves neither ROOTFD nor a second stream.  */
  second = ocip_opendir_at (rootfd, ".");
  cr_assert_not_null (second);
  cr_assert_not_null ((de = readdir (second)), "the second stream starts at the end of the first");
  cr_assert_neq (dirfd (second), dirfd (first));
  cr_assert_geq (n, 3, "'.', '..' and 'file'");
}

Test (fsutil, opendir_at_does_not_follow_a_symlink)
{
  int before = tu_count_entries ("/proc/self/fd");

  cr_assert_eq (symlinkat ("/", rootfd, "link"), 0);
  errno = 0;
  cr_assert_null (ocip_opendir_at (rootfd, "link"));
  cr_assert (errno == ELOOP || errno == ENOTDIR, "%s", strerror (errno));
  cr_assert_null (ocip_opendir_at (rootfd, "missing"));
  cr_assert_eq (errno, ENOENT);
  cr_assert_null (ocip_opendir_at (rootfd, "file"));
  cr_assert_eq (errno, ENOTDIR);
  cr_assert_eq (tu_count_entries ("/proc/self/fd"), before, "a failed open left an fd behind");
}
