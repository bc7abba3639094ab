/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Path resolution confined to a root directory fd: openat2(RESOLVE_IN_ROOT) or a safe walk. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/openat2.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/error.h>
#include "base/fsroot.h"
#include <oci-prep/limits.h>

/* openat2 fails with EAGAIN when a rename or mount anywhere on the system raced a ".."
   step (the kernel cannot prove ".." stayed inside the root).  Retry a few times, then
   resolve this one path with the walk, which never hands ".." to the kernel.  */
#define OPENAT2_RETRIES 32

/* Directory fds the walk keeps open besides the root.  Shallower levels are closed
   and reopened by name from the root when ".." climbs back to them, so a deep hostile
   path cannot exhaust the descriptor table.  */
#define WALK_WINDOW 32

/* Flags openat2 accepts together with O_PATH (it refuses any other).  */
#define O_PATH_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

#ifdef SYS_openat2
static atomic_bool openat2_missing = false;
#else
static atomic_bool openat2_missing = true;
#endif

bool
ocip_fsroot_have_openat2 (void)
{
  return !atomic_load_explicit (&openat2_missing, memory_order_relaxed);
}

/* One directory on the walk's current path, the root being level 0.  */
struct level
{
  int fd;     /* O_PATH directory fd, -1 while closed (see WALK_WINDOW); the root's is borrowed */
  dev_t dev;  /* st_dev, to notice a mount crossing */
  char *name; /* the component that led here from the level below; NULL for the root */
};

struct walk
{
  int rootfd;
  struct level *v;
  size_t n; /* levels in use, >= 1 */
  size_t alloc;
  size_t lo;       /* v[i].fd is open exactly for lo <= i < n (and for the root) */
  const char *why; /* detail for a synthetic error, for the message */
};

static void
walk_release (struct walk *w)
{
  for (size_t i = 1; i < w->n; i++)
    {
      ocip_closep (&w->v[i].fd);
      free (w->v[i].name);
    }
  free (w->v);
  w->v = NULL;
  w->n = 0;
}

#define cleanup_walk __attribute__ ((cleanup (walk_release)))

/* Magic links (/proc/PID/fd/N, /proc/PID/root, ...) are the only links the kernel follows
   without reading a path; the walk reads every link as text, so it cannot be taken for
   such a jump, but to keep the contract it refuses to enter procfs at all.  */
static int
check_not_procfs (struct walk *w, int fd)
{
  struct statfs sfs;

  if (fstatfs (fd, &sfs) < 0)
    return -errno;
  if (sfs.f_type == PROC_SUPER_MAGIC)
    {
      w->why = "refusing to resolve inside procfs";
      return -EXDEV;
    }
  return 0;
}

/* Open NAME in DIRFD (which lies on device DIRDEV) without following it, and stat it.  */
static int
step_open (struct walk *w, int dirfd, dev_t dirdev, const char *name, int *ret_fd, struct stat *ret_st)
{
  cleanup_close int fd = openat (dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int r;

  if (fd < 0)
    return -errno;
  if (fstat (fd, ret_st) < 0)
    return -errno;
  /* procfs is always its own mount: only a change of device can lead into it.  */
  if (ret_st->st_dev != dirdev)
    {
      r = check_not_procfs (w, fd);
      if (r < 0)
        return r;
    }
  *ret_fd = steal_fd (&fd);
  return 0;
}

static int
walk_init (struct walk *w, int rootfd)
{
  struct stat st;
  int r;

  if (fstat (rootfd, &st) < 0)
    return -errno;
  if (!S_ISDIR (st.st_mode))
    return -ENOTDIR;
  r = check_not_procfs (w, rootfd);
  if (r < 0)
    return r;

  w->rootfd = rootfd;
  w->alloc = 16;
  w->v = xcalloc (w->alloc, sizeof *w->v);
  w->v[0].fd = rootfd;
  w->v[0].dev = st.st_dev;
  w->v[0].name = NULL;
  w->n = 1;
  w->lo = 1;
  return 0;
}

static int
walk_top_fd (struct walk *w)
{
  return w->v[w->n - 1].fd;
}

static dev_t
walk_top_dev (struct walk *w)
{
  return w->v[w->n - 1].dev;
}

/* Descend into the directory FD (ownership passes to W) reached through NAME.  */
static void
walk_push (struct walk *w, int fd, dev_t dev, const char *name)
{
  if (w->n == w->alloc)
    {
      w->v = xreallocarray (w->v, w->alloc * 2, sizeof *w->v);
      w->alloc *= 2;
    }
  w->v[w->n].fd = fd;
  w->v[w->n].dev = dev;
  w->v[w->n].name = xstrdup (name);
  w->n++;
  if (w->n - w->lo > WALK_WINDOW)
    {
      ocip_closep (&w->v[w->lo].fd);
      w->lo++;
    }
}

/* Reopen every level from the root by the names recorded on the way down, keeping
   the deepest WALK_WINDOW open.  Each name is opened with O_NOFOLLOW from a directory
   we hold, so even if the tree changed meanwhile the result is inside the root.  */
static int
walk_reopen (struct walk *w)
{
  size_t top = w->n - 1;
  size_t lo = top >= WALK_WINDOW ? top + 1 - WALK_WINDOW : 1;
  cleanup_close int passing = -1;
  int dirfd = w->rootfd;
  dev_t dev = w->v[0].dev;

  for (size_t i = 1; i <= top; i++)
    {
      struct stat st;
      int fd;
      int r;

      r = step_open (w, dirfd, dev, w->v[i].name, &fd, &st);
      if (r < 0)
        return r;
      if (!S_ISDIR (st.st_mode))
        {
          close (fd);
          return -ENOTDIR;
        }
      w->v[i].dev = st.st_dev;
      if (i >= lo)
        w->v[i].fd = fd;
      else
        {
          ocip_closep (&passing);
          passing = fd;
        }
      dirfd = fd;
      dev = st.st_dev;
    }
  w->lo = lo;
  return 0;
}

/* "..": go back to the directory we came from; at the root, stay there.  The kernel
   never sees "..", so a directory moved out of the root while we are inside it cannot
   lead us out.  */
static int
walk_pop (struct walk *w)
{
  if (w->n == 1)
    return 0;
  ocip_closep (&w->v[w->n - 1].fd);
  free (w->v[w->n - 1].name);
  w->v[w->n - 1].name = NULL;
  w->n--;
  if (w->lo > w->n)
    w->lo = w->n;
  if (w->n > 1 && w->v[w->n - 1].fd < 0)
    return walk_reopen (w);
  return 0;
}

/* An absolute symlink target: start again at the root.  */
static void
walk_reset (struct walk *w)
{
  while (w->n > 1)
    {
      ocip_closep (&w->v[w->n - 1].fd);
      free (w->v[w->n - 1].name);
      w->v[w->n - 1].name = NULL;
      w->n--;
    }
  w->lo = 1;
}

/* The component-by-component resolver used when openat2 is missing.  Every step is one
   openat(O_PATH|O_NOFOLLOW) of a single name relative to a directory fd we hold; symlinks
   are read as text and spliced in front of the rest of the path, absolute ones
   restarting at the root; ".." pops our own stack.  Returns an fd or a negative errno
   (W->why may explain a synthetic one).  */
static int
walk_open (struct walk *w, int rootfd, const char *path, int flags, mode_t mode, bool nofollow)
{
  cleanup_free char *buf = xstrdup (path);
  char target[OCIP_LIMIT_PATH_LENGTH];
  char name[NAME_MAX + 1];
  unsigned links = 0;
  size_t pos = 0;
  int r;

  r = walk_init (w, rootfd);
  if (r < 0)
    return r;

  for (;;)
    {
      cleanup_close int fd = -1;
      const char *rest;
      struct stat st;
      size_t len;
      bool last;

      while (buf[pos] == '/')
        pos++;
      if (buf[pos] == '\0')
        break;
      len = strcspn (buf + pos, "/");
      if (len > NAME_MAX)
        return -ENAMETOOLONG;
      memcpy (name, buf + pos, len);
      name[len] = '\0';
      pos += len;
      rest = buf + pos;
      /* A trailing slash makes the component an intermediate one, as in the kernel: it
         is followed and must be a directory.  */
      last = *rest == '\0';

      if (strcmp (name, ".") == 0)
        continue;
      if (strcmp (name, "..") == 0)
        {
          r = walk_pop (w);
          if (r < 0)
            return r;
          continue;
        }

      if (last && (flags & O_CREAT))
        {
          /* O_EXCL (checked by the caller) with O_NOFOLLOW: an existing entry, a
             dangling symlink included, is EEXIST; nothing is created through a link.  */
          fd = openat (walk_top_fd (w), name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
          if (fd < 0)
            return -errno;
          return steal_fd (&fd);
        }

      r = step_open (w, walk_top_fd (w), walk_top_dev (w), name, &fd, &st);
      if (r < 0)
        return r;

      if (S_ISLNK (st.st_mode))
        {
          ssize_t tlen;
          size_t restlen;
          char *spliced;

          if (last && nofollow)
            {
              /* As the kernel: O_DIRECTORY is checked first.  */
              if (flags & O_DIRECTORY)
                return -ENOTDIR;
              w->why = "last component is a symlink";
              return -ELOOP;
            }
          if (++links > OCIP_LIMIT_SYMLINK_STEPS)
            {
              w->why = "too many symlinks";
              return -ELOOP;
            }
          /* The O_PATH fd is the link itself: what we read is what we stat-ed.  */
          tlen = readlinkat (fd, "", target, sizeof target);
          if (tlen < 0)
            return -errno;
          if ((size_t)tlen >= sizeof target)
            return -ENAMETOOLONG;
          if (tlen == 0)
            return -ENOENT;
          if (target[0] == '/')
            walk_reset (w);
          restlen = strlen (rest);
          spliced = xmalloc ((size_t)tlen + restlen + 1);
          memcpy (spliced, target, (size_t)tlen);
          memcpy (spliced + tlen, rest, restlen + 1);
          free (buf);
          buf = spliced;
          pos = 0;
          continue;
        }

      if (last)
        {
          if (flags & O_PATH)
            {
              if ((flags & O_DIRECTORY) && !S_ISDIR (st.st_mode))
                return -ENOTDIR;
              return steal_fd (&fd);
            }
          /* Reopen by name with O_NOFOLLOW: if the entry became a symlink since we
             looked, this fails (ELOOP) rather than following it.  */
          r = openat (walk_top_fd (w), name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
          if (r < 0)
            return -errno;
          return r;
        }

      if (!S_ISDIR (st.st_mode))
        return -ENOTDIR;
      walk_push (w, steal_fd (&fd), st.st_dev, name);
    }

  /* The path ended on a directory we hold: "", "/", ".", ".." or a trailing slash.
     It exists, so O_CREAT|O_EXCL is EEXIST, as in the kernel.  */
  if (flags & O_CREAT)
    return -EEXIST;
  r = openat (walk_top_fd (w), ".", flags | O_CLOEXEC, mode);
  if (r < 0)
    return -errno;
  return r;
}

/* Returns an fd, a negative errno, or -ENOSYS when the kernel has no openat2.  */
static int
openat2_open (int rootfd, const char *path, int flags, mode_t mode, bool nofollow)
{
#ifdef SYS_openat2
  struct open_how how = {
    .flags = (unsigned)flags | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
    .mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };

  for (int i = 0; i < OPENAT2_RETRIES; i++)
    {
      cleanup_close int fd = syscall (SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
      struct stat st;

      if (fd < 0)
        {
          if (errno == EAGAIN)
            continue;
          return -errno;
        }
      /* With O_PATH|O_NOFOLLOW the kernel hands out the link itself; the contract is
         ELOOP, as for every other open mode.  */
      if (nofollow && (flags & O_PATH))
        {
          if (fstat (fd, &st) < 0)
            return -errno;
          if (S_ISLNK (st.st_mode))
            return -ELOOP;
        }
      return steal_fd (&fd);
    }
  return -EAGAIN;
#else
  return -ENOSYS;
#endif
}

/* Resolve PATH and open it.  Returns an fd or a negative errno; *WHY may receive a static
   detail string for a synthetic error.  */
static int
resolve_in_root (int rootfd, const char *path, int flags, mode_t mode, bool nofollow, const char **why)
{
  cleanup_walk struct walk w = { 0 };
  int r;

  if (!atomic_load_explicit (&openat2_missing, memory_order_relaxed))
    {
      r = openat2_open (rootfd, path, flags, mode, nofollow);
      if (r != -ENOSYS && r != -EAGAIN)
        return r;
      if (r == -ENOSYS)
        atomic_store_explicit (&openat2_missing, true, memory_order_relaxed);
    }

  r = walk_open (&w, rootfd, path, flags, mode, nofollow);
  if (r < 0)
    *why = w.why;
  return r;
}

static int
path_error (ocip_error_t *err, int errnum, const char *action, const char *path, const char *why)
{
  /* The path comes from the image: do not let it make a message of any length.  */
  size_t len = strlen (path);
  int shown = len > 256 ? 256 : (int)len;
  const char *more = len > 256 ? "..." : "";

  if (why)
    return ocip_error_fail (err, errnum, "%s '%.*s%s': %s", action, shown, path, more, why);
  return ocip_error_set (err, errnum, "%s '%.*s%s'", action, shown, path, more);
}

int
ocip_fsroot_open (int rootfd, const char *path, int flags, mode_t mode, unsigned resolve, ocip_error_t *err)
{
  const char *why = NULL;
  bool nofollow;
  size_t len;
  int r;

  if (path == NULL)
    return ocip_error_fail (err, EINVAL, "open: no path");
  len = strlen (path);
  if (len >= OCIP_LIMIT_PATH_LENGTH)
    return path_error (err, ENAMETOOLONG, "open", path, "path too long");
  if (resolve & ~(unsigned)OCIP_FSROOT_NOFOLLOW)
    return path_error (err, EINVAL, "open", path, "unknown resolve flags");
  if ((flags & O_CREAT) && !(flags & O_EXCL))
    return path_error (err, EINVAL, "open", path, "O_CREAT without O_EXCL");
  if ((flags & O_PATH) && (flags & ~O_PATH_FLAGS))
    return path_error (err, EINVAL, "open", path, "O_PATH with other open flags");
  if ((flags & O_CREAT) && len > 0 && path[len - 1] == '/')
    return path_error (err, EISDIR, "open", path, "cannot create a directory path");

  nofollow = (resolve & OCIP_FSROOT_NOFOLLOW) || (flags & O_NOFOLLOW);
  flags &= ~O_NOFOLLOW;

  r = resolve_in_root (rootfd, path, flags, mode, nofollow, &why);
  if (r < 0)
    return path_error (err, -r, "open", path, why);
  return r;
}

int
ocip_fsroot_open_parent (int rootfd, const char *path, char **ret_name, ocip_error_t *err)
{
  cleanup_free char *dir = NULL;
  const char *why = NULL;
  size_t start, end;
  int r;

  if (path == NULL)
    return ocip_error_fail (err, EINVAL, "open parent: no path");
  end = strlen (path);
  if (end >= OCIP_LIMIT_PATH_LENGTH)
    return path_error (err, ENAMETOOLONG, "open parent of", path, "path too long");

  /* The last component is split off the raw path: cleaning "a/../b" lexically would be
     wrong when "a" is a symlink.  */
  while (end > 0 && path[end - 1] == '/')
    end--;
  start = end;
  while (start > 0 && path[start - 1] != '/')
    start--;
  if (end == start || (end - start == 1 && path[start] == '.')
      || (end - start == 2 && path[start] == '.' && path[start + 1] == '.'))
    return path_error (err, EINVAL, "open parent of", path, "path names no entry below the root");

  dir = xstrndup (path, start);
  r = resolve_in_root (rootfd, dir, O_PATH | O_DIRECTORY, 0, false, &why);
  if (r < 0)
    return path_error (err, -r, "open parent of", path, why);
  *ret_name = xstrndup (path + start, end - start);
  return r;
}

char *
ocip_fsroot_clean_path (const char *path)
{
  cleanup_free char *out = xmalloc (strlen (path) + 1);
  size_t n = 0;
  const char *p = path;

  for (;;)
    {
      size_t len;

      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      len = strcspn (p, "/");
      if (len == 1 && p[0] == '.')
        ;
      else if (len == 2 && p[0] == '.' && p[1] == '.')
        {
          char *slash;

          if (n == 0)
            return NULL;
          out[n] = '\0';
          slash = strrchr (out, '/');
          n = slash ? (size_t)(slash - out) : 0;
        }
      else
        {
          if (n > 0)
            out[n++] = '/';
          memcpy (out + n, p, len);
          n += len;
        }
      p += len;
    }
  out[n] = '\0';
  return steal_pointer (&out);
}
