/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --flat: store layers copied into one directory, whiteouts and opaque dirs applied. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "rootfs/flatten.h"
#include "base/fsroot.h"
#include "base/fsutil.h"
#include "base/strv.h"
#include <oci-prep/limits.h>
#include "rootfs/ovlformat.h"

#define COPY_CHUNK (1 << 20)

/* Files with several links inside one layer: the first copy's path, so the others
   become links to it again.  */
struct link_seen
{
  dev_t dev;
  ino_t ino;
  char *path;
};

struct flat
{
  int root_fd; /* the target */
  char *const *implied; /* the current layer's implied directories, sorted */
  size_t n_implied;
  struct link_seen *links;
  size_t n_links, links_capacity;
  char *buf; /* read/write fallback */
};

/* Extended attributes of SRC_FD onto DST_FD, except overlayfs' own.  */
static int
copy_xattrs (int src_fd, int dst_fd, const char *path, ocip_error_t *err)
{
  cleanup_free char *names = NULL;
  cleanup_free char *value = NULL;
  ssize_t len, n;
  char *name;

  len = flistxattr (src_fd, NULL, 0);
  if (len <= 0)
    return len < 0 && errno != ENOTSUP ? ocip_error_set (err, errno, "'%s': list xattrs", path) : 0;
  names = xmalloc (len);
  len = flistxattr (src_fd, names, len);
  if (len < 0)
    return ocip_error_set (err, errno, "'%s': list xattrs", path);
  value = xmalloc (OCIP_LIMIT_XATTR_VALUE);
  for (name = names; name < names + len; name += strlen (name) + 1)
    {
      if (ocip_ovlformat_is_overlay_xattr (name))
        continue;
      n = fgetxattr (src_fd, name, value, OCIP_LIMIT_XATTR_VALUE);
      if (n < 0)
        return ocip_error_set (err, errno, "'%s': read xattr '%s'", path, name);
      if (fsetxattr (dst_fd, name, value, n, 0) < 0)
        return ocip_error_set (err, errno, "'%s': set xattr '%s'", path, name);
    }
  return 0;
}

/* Owner, then mode (chown clears setuid), xattrs and times, through DST_FD.  */
static int
copy_metadata (int src_fd, int dst_fd, const struct stat *st, const char *path, ocip_error_t *err)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  int r;

  if (fchown (dst_fd, st->st_uid, st->st_gid) < 0)
    return ocip_error_set (err, errno, "'%s': chown", path);
  if (fchmod (dst_fd, st->st_mode & 07777) < 0)
    return ocip_error_set (err, errno, "'%s': chmod", path);
  if ((r = copy_xattrs (src_fd, dst_fd, path, err)) < 0)
    return r;
  if (futimens (dst_fd, ts) < 0)
    return ocip_error_set (err, errno, "'%s': set times", path);
  return 0;
}

/* Copy LEN bytes at offset OFF: copy_file_range where the kernel can (it reflinks on
   filesystems that share extents), else read and write.  */
static int
copy_range (struct flat *f, int src, int dst, off_t off, off_t len, const char *path, ocip_error_t *err)
{
  bool plain = false;

  while (len > 0)
    {
      ssize_t n;
      if (! plain)
        {
          loff_t in = off, out = off;
          n = copy_file_range (src, &in, dst, &out, len > COPY_CHUNK ? COPY_CHUNK : len, 0);
          if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            {
              plain = true;
              continue;
            }
        }
      else
        {
          n = pread (src, f->buf, len > COPY_CHUNK ? COPY_CHUNK : len, off);
          if (n > 0)
            {
              ssize_t w = 0, k;
              while (w < n)
                {
                  k = pwrite (dst, f->buf + w, n - w, off + w);
                  if (k < 0 && errno == EINTR)
                    continue;
                  if (k < 0)
                    return ocip_error_set (err, errno, "'%s': write", path);
                  w += k;
                }
            }
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ocip_error_set (err, errno, "'%s': copy", path);
      if (n == 0)
        return ocip_error_fail (err, EIO, "'%s': the store's copy ended early", path);
      off += n;
      len -= n;
    }
  return 0;
}

/* File content: a reflink (FICLONE) when the filesystem shares extents, else the data
   ranges one by one so that holes stay holes.  */
static int
copy_content (struct flat *f, int src, int dst, const struct stat *st, const char *path, ocip_error_t *err)
{
  off_t off = 0;
  int r;

  if (st->st_size == 0 || ioctl (dst, FICLONE, src) == 0)
    return 0;
  while (off < st->st_size)
    {
      off_t data = lseek (src, off, SEEK_DATA), hole;
      if (data < 0)
        {
          if (errno == ENXIO)
            break; /* only a hole is left */
          return ocip_error_set (err, errno, "'%s': seek", path);
        }
      hole = lseek (src, data, SEEK_HOLE);
      if (hole < 0)
        return ocip_error_set (err, errno, "'%s': seek", path);
      if ((r = copy_range (f, src, dst, data, hole - data, path, err)) < 0)
        return r;
      off = hole;
    }
  if (ftruncate (dst, st->st_size) < 0)
    return ocip_error_set (err, errno, "'%s': truncate", path);
  return 0;
}

static struct link_seen *
find_link (struct flat *f, const struct stat *st)
{
  size_t i;
  for (i = 0; i < f->n_links; i++)
    if (f->links[i].dev == st->st_dev && f->links[i].ino == st->st_ino)
      return &f->links[i];
  return NULL;
}

static void
forget_links (struct flat *f)
{
  size_t i;
  for (i = 0; i < f->n_links; i++)
    free (f->links[i].path);
  free (f->links);
  f->links = NULL;
  f->n_links = 0;
  f->links_capacity = 0;
}

/* A second name of a file already copied in this layer: link to the copy.  */
static int
relink (struct flat *f, const struct link_seen *first, int dst, const char *name, const char *path,
        ocip_error_t *err)
{
  cleanup_free char *first_name = NULL;
  cleanup_close int first_parent = ocip_fsroot_open_parent (f->root_fd, first->path, &first_name, err);

  if (first_parent < 0)
    return first_parent;
  if (linkat (first_parent, first_name, dst, name, 0) < 0)
    return ocip_error_set (err, errno, "'%s': link to '%s'", path, first->path);
  return 0;
}

static int
copy_regular (struct flat *f, int src_dir, int dst, const char *name, const struct stat *st, const char *path,
              ocip_error_t *err)
{
  cleanup_close int src = -1;
  cleanup_close int out = -1;
  int r;

  if (st->st_nlink > 1)
    {
      struct link_seen *first = find_link (f, st);
      if (first)
        return relink (f, first, dst, name, path, err);
      f->links = xgrowarray (f->links, &f->links_capacity, f->n_links + 1, sizeof *f->links);
      f->links[f->n_links++] = (struct link_seen){ st->st_dev, st->st_ino, xstrdup (path) };
    }
  src = openat (src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0)
    return ocip_error_set (err, errno, "'%s': open in the store", path);
  out = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return ocip_error_set (err, errno, "'%s': create", path);
  if ((r = copy_content (f, src, out, st, path, err)) < 0)
    return r;
  return copy_metadata (src, out, st, path, err);
}

/* Symlinks, devices and FIFOs: recreated by name, never opened.  */
static int
copy_special (int src_dir, int dst, const char *name, const struct stat *st, const char *path, ocip_error_t *err)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };

  if (S_ISLNK (st->st_mode))
    {
      char target[OCIP_LIMIT_LINK_TARGET + 1];
      ssize_t n = readlinkat (src_dir, name, target, sizeof target);
      if (n < 0 || n == (ssize_t) sizeof target)
        return ocip_error_set (err, n < 0 ? errno : ENAMETOOLONG, "'%s': read symlink", path);
      target[n] = '\0';
      if (symlinkat (target, dst, name) < 0)
        return ocip_error_set (err, errno, "'%s': symlink", path);
    }
  else
    {
      if (mknodat (dst, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
        return ocip_error_set (err, errno, "'%s': mknod", path);
      if (fchmodat (dst, name, st->st_mode & 07777, 0) < 0)
        return ocip_error_set (err, errno, "'%s': chmod", path);
    }
  if (fchownat (dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return ocip_error_set (err, errno, "'%s': chown", path);
  if (utimensat (dst, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return ocip_error_set (err, errno, "'%s': set times", path);
  return 0;
}

static int apply_dir (struct flat *f, int src, int dst, const char *path, ocip_error_t *err);

static bool
is_implied (const struct flat *f, const char *path)
{
  return ocip_strv_sorted_has (f->implied, f->n_implied, path);
}

/* The directory NAME of the layer over whatever the target has there: merged into an
   existing directory, unless the layer marks it opaque or the target has something
   else there (then it replaces it, as overlayfs would show it).  */
static int
apply_subdir (struct flat *f, int src_dir, int dst, const char *name, const char *path, ocip_error_t *err)
{
  cleanup_close int src = openat (src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int sub = -1;
  struct stat st, src_st;
  bool existed, keep_lower;
  int r;

  if (src < 0 || fstat (src, &src_st) < 0)
    return ocip_error_set (err, errno, "'%s': open in the store", path);
  existed = fstatat (dst, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
  /* A directory the layer only implied keeps what the layers below gave it, as
     applying the layer over them would.  */
  keep_lower = existed && S_ISDIR (st.st_mode) && is_implied (f, path);
  if (existed && (! S_ISDIR (st.st_mode) || ocip_ovlformat_is_opaque (src)))
    {
      if ((r = ocip_rmtree_at (dst, name, err)) < 0)
        return r;
    }
  if (mkdirat (dst, name, 0700) < 0 && errno != EEXIST)
    return ocip_error_set (err, errno, "'%s': mkdir", path);
  sub = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0)
    return ocip_error_set (err, errno, "'%s': open", path);
  if ((r = apply_dir (f, src, sub, path, err)) < 0)
    return r;
  if (keep_lower)
    {
      struct timespec ts[2] = { st.st_atim, st.st_mtim };
      if (fchown (sub, st.st_uid, st.st_gid) < 0 || fchmod (sub, st.st_mode & 07777) < 0 || futimens (sub, ts) < 0)
        return ocip_error_set (err, errno, "'%s': keep the lower directory's metadata", path);
      return 0;
    }
  /* The upper directory's attributes are what overlayfs shows; times go last.  */
  return copy_metadata (src, sub, &src_st, path, err);
}

static int
apply_dir (struct flat *f, int src, int dst, const char *path, ocip_error_t *err)
{
  cleanup_dir DIR *dir = ocip_opendir_at (src, ".");
  struct dirent *de;
  int r;

  if (dir == NULL)
    return ocip_error_set (err, errno, "'%s': read the store's directory", *path ? path : "/");
  for (errno = 0; (de = readdir (dir)) != NULL; errno = 0)
    {
      cleanup_free char *child = NULL;
      struct stat st, existing;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = xasprintf ("%s%s%s", path, *path ? "/" : "", de->d_name);
      if (fstatat (src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return ocip_error_set (err, errno, "'%s': stat in the store", child);
      if (S_ISDIR (st.st_mode))
        {
          if ((r = apply_subdir (f, src, dst, de->d_name, child, err)) < 0)
            return r;
          continue;
        }
      /* Anything else replaces what the lower layers had, a whiteout just removes it.  */
      if (fstatat (dst, de->d_name, &existing, AT_SYMLINK_NOFOLLOW) == 0
          && (r = ocip_rmtree_at (dst, de->d_name, err)) < 0)
        return r;
      if (ocip_ovlformat_is_whiteout (&st))
        continue;
      r = S_ISREG (st.st_mode) ? copy_regular (f, src, dst, de->d_name, &st, child, err)
                               : copy_special (src, dst, de->d_name, &st, child, err);
      if (r < 0)
        return r;
    }
  if (errno != 0)
    return ocip_error_set (err, errno, "'%s': read the store's directory", *path ? path : "/");
  return 0;
}

int
ocip_flatten (int target_fd, const int *layer_fds, char *const *const *implied, size_t n, ocip_error_t *err)
{
  struct flat f = { .root_fd = target_fd };
  size_t i;
  int r = 0;

  f.buf = xmalloc (COPY_CHUNK);
  /* A layer whose root is opaque ("/.wh..wh..opq") hides every layer below: the copy
     starts there, as the overlay's stack does.  */
  for (i = ocip_ovlformat_lowest_visible (layer_fds, n); i < n && r == 0; i++)
    {
      struct stat st;
      cleanup_close int src = openat (layer_fds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

      f.implied = implied ? implied[i] : NULL;
      for (f.n_implied = 0; f.implied && f.implied[f.n_implied]; f.n_implied++)
        ;
      if (src < 0 || fstat (src, &st) < 0)
        r = ocip_error_set (err, errno, "layer %zu: open in the store", i + 1);
      else if ((r = apply_dir (&f, src, target_fd, "", err)) == 0)
        r = copy_metadata (src, target_fd, &st, "/", err);
      if (r < 0)
        ocip_error_wrap (err, "flatten layer %zu of %zu", i + 1, n);
      forget_links (&f);
    }
  free (f.buf);
  return r;
}
