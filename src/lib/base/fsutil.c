/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Recursive removal, atomic file replacement and checked opens of regular files, relative to directory fds. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/fsroot.h"
#include "base/fsutil.h"

DIR *
ocip_opendir_at (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *dir;

  if (fd < 0)
    return NULL;
  dir = fdopendir (fd);
  if (dir == NULL)
    close (fd); /* preserves errno (glibc's close does not touch it on success) */
  return dir;
}

/* Empty the directory FD (which this function closes).  Depth is bounded by the tree,
   which oci-prep built itself under its own limits.  */
static int
empty_dir (int fd, const char *name, ocip_error_t *err)
{
  cleanup_dir DIR *dir = fdopendir (fd);
  struct dirent *de;
  int r;

  if (dir == NULL)
    {
      int saved = errno;
      close (fd);
      return ocip_error_set (err, saved, "remove '%s': fdopendir", name);
    }
  for (errno = 0; (de = readdir (dir)) != NULL; errno = 0)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if ((r = ocip_rmtree_at (dirfd (dir), de->d_name, err)) < 0)
        return r;
    }
  if (errno != 0)
    return ocip_error_set (err, errno, "remove '%s': readdir", name);
  return 0;
}

int
ocip_rmtree_at (int dirfd, const char *name, ocip_error_t *err)
{
  int fd, r;

  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return ocip_error_set (err, errno, "remove '%s'", name);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return 0;
      return ocip_error_set (err, errno, "remove '%s': open", name);
    }
  if ((r = empty_dir (fd, name, err)) < 0)
    return r;
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return ocip_error_set (err, errno, "remove directory '%s'", name);
  return 0;
}

int
ocip_write_file_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode, ocip_error_t *err)
{
  const char *slash = strrchr (name, '/');
  const char *base = slash ? slash + 1 : name;
  cleanup_free char *tmp = xasprintf ("%.*s.%s.tmp.%d", (int) (base - name), name, base, (int) getpid ());
  cleanup_close int fd = -1;

  unlinkat (dirfd, tmp, 0);
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return ocip_error_set (err, errno, "create '%s'", tmp);
  if (ocip_write_fd (fd, data, len, name, err) < 0)
    {
      unlinkat (dirfd, tmp, 0);
      return -(*err)->status;
    }
  if (renameat (dirfd, tmp, dirfd, name) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, tmp, 0);
      return ocip_error_set (err, saved, "replace '%s'", name);
    }
  return 0;
}

int
ocip_read_regular_fd (int fd, size_t max, const char *what, char **ret, size_t *ret_len, ocip_error_t *err)
{
  cleanup_free char *buf = NULL;
  struct stat st;
  size_t len = 0, cap;
  ssize_t n;

  if (fstat (fd, &st) < 0)
    return ocip_error_set (err, errno, "stat %s", what);
  if (! S_ISREG (st.st_mode))
    return ocip_error_fail (err, EINVAL, "%s is not a regular file", what);
  if ((uint64_t) st.st_size > max)
    return ocip_error_fail (err, E2BIG, "%s is %lld bytes, over the limit of %zu", what, (long long) st.st_size, max);
  /* Sized by the file, growing if the file does, up to one byte past the limit: a file
     growing while read is caught too.  */
  cap = (size_t) st.st_size + 1;
  buf = xmalloc (cap + 1);
  while (len <= max)
    {
      if (len == cap)
        {
          cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
          buf = xrealloc (buf, cap + 1);
        }
      n = read (fd, buf + len, cap - len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return ocip_error_set (err, errno, "read %s", what);
        }
      if (n == 0)
        break;
      len += n;
    }
  if (len > max)
    return ocip_error_fail (err, E2BIG, "%s is over the limit of %zu bytes", what, max);
  buf[len] = '\0';
  *ret = steal_pointer (&buf);
  if (ret_len)
    *ret_len = len;
  return 0;
}

static const char *
file_type_name (mode_t mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFIFO:
      return "a FIFO";
    case S_IFSOCK:
      return "a socket";
    case S_IFDIR:
      return "a directory";
    case S_IFLNK:
      return "a symlink";
    default:
      return "of an unknown type";
    }
}

/* Open the inode behind the O_PATH fd PATH_FD, whose stat is ST, for reading.  The
   magic link /proc/self/fd/N names that very inode, not a path that could be swapped
   in the meantime, so what was checked is what gets opened.  Without /proc there is no
   such reopen: resolving the name again would race with a rename that puts a device in
   its place, which is the open this whole dance avoids, so that is an error
   (EOPNOTSUPP; never ENOENT, which callers read as "no such file").  */
static int
reopen_checked (int path_fd, const struct stat *st, const char *what, ocip_error_t *err)
{
  char proc[sizeof "/proc/self/fd/" + 3 * sizeof (int)];
  cleanup_close int fd = -1;
  struct stat now;

  snprintf (proc, sizeof proc, "/proc/self/fd/%d", path_fd);
  fd = open (proc, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      if (saved == ENOENT && access ("/proc/self/fd", F_OK) < 0)
        return ocip_error_fail (err, EOPNOTSUPP, "reopen %s: /proc/self/fd is missing (is /proc mounted?), and "
                                                "without it a checked file cannot be reopened safely", what);
      return ocip_error_set (err, saved, "reopen %s", what);
    }
  if (fstat (fd, &now) < 0)
    return ocip_error_set (err, errno, "stat %s", what);
  /* Only a /proc that is not procfs could hand back another file: say so rather than
     read it.  */
  if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
    return ocip_error_fail (err, EIO, "reopen %s: /proc/self/fd gave another file (is /proc a procfs?)", what);
  return steal_fd (&fd);
}

int
ocip_open_regular_at (int dirfd, const char *path, unsigned how, const char *what, ocip_error_t *err)
{
  cleanup_free char *quoted = NULL;
  cleanup_close int path_fd = -1;
  bool nofollow = how & OCIP_OPEN_NOFOLLOW;
  struct stat st;

  if (what == NULL)
    what = quoted = xasprintf ("'%s'", path);
  if (how & ~(unsigned) (OCIP_OPEN_IN_ROOT | OCIP_OPEN_NOFOLLOW))
    return ocip_error_fail (err, EINVAL, "open %s: unknown flags", what);
  /* O_PATH opens no file: the driver of a device node is not called, a FIFO does not
     block (CVE-2024-9676: an image's /etc/passwd made a character device).  */
  if (how & OCIP_OPEN_IN_ROOT)
    {
      path_fd = ocip_fsroot_open (dirfd, path, O_PATH, 0, nofollow ? OCIP_FSROOT_NOFOLLOW : 0, err);
      if (path_fd < 0)
        return path_fd;
    }
  else
    {
      path_fd = openat (dirfd, path, O_PATH | (nofollow ? O_NOFOLLOW : 0) | O_CLOEXEC);
      if (path_fd < 0)
        return ocip_error_set (err, errno, "open %s", what);
    }
  if (fstat (path_fd, &st) < 0)
    return ocip_error_set (err, errno, "stat %s", what);
  /* O_PATH|O_NOFOLLOW returns the symlink itself; open(2) would have said ELOOP.  */
  if (S_ISLNK (st.st_mode) && nofollow)
    return ocip_error_fail (err, ELOOP, "open %s: is a symlink", what);
  if (! S_ISREG (st.st_mode))
    return ocip_error_fail (err, EINVAL, "%s is %s, not a regular file", what, file_type_name (st.st_mode));
  return reopen_checked (path_fd, &st, what, err);
}

int
ocip_read_file_at (int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, ocip_error_t *err)
{
  cleanup_free char *what = xasprintf ("'%s'", name);
  cleanup_close int fd = ocip_open_regular_at (dirfd, name, OCIP_OPEN_NOFOLLOW, what, err);

  if (fd < 0)
    return fd;
  return ocip_read_regular_fd (fd, max, what, ret, ret_len, err);
}

int
ocip_write_fd (int fd, const void *buf, size_t len, const char *what, ocip_error_t *err)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ocip_error_set (err, errno, "write %s", what);
      p += n;
      len -= n;
    }
  return 0;
}
