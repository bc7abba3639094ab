/* SPDX-License-Identifier: GPL-2.0-or-later */
/* overlayfs: one mount for all lower layers, new mount API first, mount(2) as fallback. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "rootfs/overlay.h"

static int
proc_fd_path (char *buf, size_t size, int fd)
{
  return snprintf (buf, size, "/proc/self/fd/%d", fd);
}

/* Add a layer option KEY ("lowerdir+", "upperdir", "workdir") for the directory FD:
   by fd where the kernel takes it, else by its /proc/self/fd path.  */
static int
set_layer (int fs, const char *key, int fd, bool *by_fd)
{
  char path[64];

  if (*by_fd)
    {
      if (fsconfig (fs, FSCONFIG_SET_FD, key, NULL, fd) == 0)
        return 0;
      if (errno != EINVAL)
        return -1;
      *by_fd = false;
    }
  proc_fd_path (path, sizeof path, fd);
  return fsconfig (fs, FSCONFIG_SET_STRING, key, path, 0);
}

/* Returns 0, or -1 with errno; ENOSYS/EINVAL on "lowerdir+" mean "use mount(2)".  */
static int
mount_new_api (int target_fd, const int *lower_fds, size_t n, int upper_fd, int work_fd, bool userxattr,
               const char **why)
{
  cleanup_close int fs = -1;
  cleanup_close int mnt = -1;
  bool by_fd = true;
  size_t i;

  fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    {
      *why = "fsopen";
      return -1;
    }
  if (userxattr && fsconfig (fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
    {
      *why = "fsconfig userxattr";
      return -1;
    }
  for (i = 0; i < n; i++)
    if (set_layer (fs, "lowerdir+", lower_fds[i], &by_fd) < 0)
      {
        *why = "fsconfig lowerdir+";
        return -1;
      }
  /* upperdir/workdir take a path string (or, like lowerdir+, an fd on new kernels).  */
  if (set_layer (fs, "upperdir", upper_fd, &by_fd) < 0 || set_layer (fs, "workdir", work_fd, &by_fd) < 0)
    {
      *why = "fsconfig upperdir/workdir";
      return -1;
    }
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    {
      *why = "create the overlay";
      return -1;
    }
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0)
    {
      *why = "fsmount";
      return -1;
    }
  if (move_mount (mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    {
      *why = "move_mount";
      return -1;
    }
  return 0;
}

/* mount(2) with "lowerdir=A:B:C" relative to SHORT_BASE_FD, entered with fchdir for
   the call so that the short names keep the options within one page.  */
static int
mount_legacy (int target_fd, const char *const *short_names, size_t n, int short_base_fd, int upper_fd,
              int work_fd, bool userxattr, ocip_error_t *err)
{
  char target[64], upper[64], work[64];
  cleanup_free char *options = NULL;
  cleanup_close int cwd = -1;
  size_t i, len = 0, page = (size_t) sysconf (_SC_PAGESIZE);
  int r, saved;

  proc_fd_path (target, sizeof target, target_fd);
  proc_fd_path (upper, sizeof upper, upper_fd);
  proc_fd_path (work, sizeof work, work_fd);
  options = xmalloc (page + 1);
  len = snprintf (options, page + 1, "%supperdir=%s,workdir=%s,lowerdir=", userxattr ? "userxattr," : "", upper,
                  work);
  for (i = 0; i < n && len <= page; i++)
    len += snprintf (options + len, page + 1 - len, "%s%s", i ? ":" : "", short_names[i]);
  if (len >= page)
    return ocip_error_fail (err, E2BIG,
                           "overlay options for %zu layers do not fit in one page without lowerdir+ (Linux < 6.8): "
                           "use --flat",
                           n);
  cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0 || fchdir (short_base_fd) < 0)
    return ocip_error_set (err, errno, "overlay: enter the store");
  r = mount ("overlay", target, "overlay", 0, options);
  saved = errno;
  if (fchdir (cwd) < 0)
    abort (); /* the process would go on in the wrong directory */
  if (r < 0)
    return ocip_error_set (err, saved, "mount overlay of %zu layers", n);
  return 0;
}

int
ocip_overlay_mount (int target_fd, const int *lower_fds, const char *const *short_names, size_t n,
                    int short_base_fd, int upper_fd, int work_fd, enum ocip_ovlformat_xattrs xattrs,
                    ocip_error_t *err)
{
  bool userxattr = xattrs == OCIP_OVLFORMAT_XATTRS_USER;
  const char *why = NULL;

  if (n == 0)
    return ocip_error_fail (err, EINVAL, "mount overlay: no lower layer");
  if (n > OCIP_OVERLAY_MAX_LAYERS)
    return ocip_error_fail (err, E2BIG, "%zu layers are more than overlayfs stacks (%d): use --flat", n,
                           OCIP_OVERLAY_MAX_LAYERS);
  if (mount_new_api (target_fd, lower_fds, n, upper_fd, work_fd, userxattr, &why) == 0)
    return 0;
  /* ENOSYS: no new mount API; EINVAL: an overlayfs without "lowerdir+" (< 6.8).  */
  if (errno != ENOSYS && errno != EINVAL)
    return ocip_error_set (err, errno, "mount overlay of %zu layers: %s", n, why);
  /* mount(2) names lowers by path, and a detached ID-mapped mount has none.  */
  if (short_names == NULL)
    return ocip_error_fail (err, EOPNOTSUPP,
                           "mount overlay of %zu ID-mapped layers: %s: this kernel's overlayfs does not take "
                           "ID-mapped lower layers by fd (Linux >= 6.8 needed)",
                           n, why);
  return mount_legacy (target_fd, short_names, n, short_base_fd, upper_fd, work_fd, userxattr, err);
}

int
ocip_overlay_idmap_layer (int layer_fd, int userns_fd, int *ret_mount_fd, ocip_error_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns_fd };
  cleanup_close int tree = open_tree (layer_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  int fd;

  if (tree < 0)
    return ocip_error_set (err, errno == ENOSYS ? EOPNOTSUPP : errno,
                           "clone a layer mount (open_tree, Linux >= 5.2)%s",
                           errno == ENOSYS ? ": the kernel lacks it" : "");
  if (mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    {
      int saved = errno;
      if (saved == ENOSYS || saved == EINVAL || saved == EOPNOTSUPP)
        return ocip_error_fail (err, EOPNOTSUPP,
                               "ID-map a layer mount (mount_setattr MOUNT_ATTR_IDMAP): the kernel (Linux >= 5.12) "
                               "or the store's file system does not support ID-mapped mounts (%s)",
                               strerror (saved));
      return ocip_error_set (err, saved, "ID-map a layer mount (mount_setattr)");
    }
  fd = openat (tree, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ocip_error_set (err, errno, "open an ID-mapped layer mount");
  *ret_mount_fd = steal_fd (&tree);
  return fd;
}

int
ocip_overlay_unmount (int dirfd, const char *name, bool lazy, ocip_error_t *err)
{
  char path[PATH_MAX];

  /* By path through the parent: an fd on the mount itself would keep it busy.  */
  snprintf (path, sizeof path, "/proc/self/fd/%d/%s", dirfd, name);
  if (umount2 (path, UMOUNT_NOFOLLOW | (lazy ? MNT_DETACH : 0)) < 0)
    {
      if (errno == EINVAL || errno == ENOENT)
        return 0; /* not a mount point */
      if (errno == EBUSY)
        return ocip_error_fail (err, EBUSY, "unmount '%s': it is in use (a running container?)", name);
      return ocip_error_set (err, errno, "unmount '%s'", name);
    }
  return 0;
}

bool
ocip_overlay_is_mounted (int dirfd, const char *name)
{
  struct stat st, parent;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || fstat (dirfd, &parent) < 0)
    return false;
  return st.st_dev != parent.st_dev;
}
