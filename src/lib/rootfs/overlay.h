/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mounting a stack of store layers as one overlayfs, and unmounting it. */
#ifndef OCIP_OVERLAY_H
#define OCIP_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>

#include <oci-prep/error.h>
#include "rootfs/ovlformat.h"

/* overlayfs refuses more lower layers than this.  */
#define OCIP_OVERLAY_MAX_LAYERS 500

/* Mount an overlay on TARGET_FD (a directory) with LOWER_FDS[0..N) as lower layers,
   TOP FIRST, and UPPER_FD / WORK_FD as upper and work directories (same filesystem,
   empty work directory).  All fds are directories owned by the caller.  With the new
   mount API every layer is added on its own (fsconfig "lowerdir+": no option-length
   limit; by fd where the kernel allows it, Linux >= 6.12, else by /proc/self/fd path,
   Linux >= 6.8); older kernels get mount(2) with one lowerdir= option built from
   SHORT_NAMES[i] (paths relative to the directory SHORT_BASE_FD, e.g. "l/ABC"), which
   must fit in one page (else E2BIG).  SHORT_NAMES NULL (ID-mapped lowers, which only
   the new API can take) means no fallback: such a kernel gets EOPNOTSUPP.  N must be at least 1 (an image without layers
   gets one empty directory from the caller); more than OCIP_OVERLAY_MAX_LAYERS is
   E2BIG, with a hint to use --flat.  XATTRS says which xattrs the layers keep overlayfs'
   metadata in: OCIP_OVLFORMAT_XATTRS_USER mounts with "userxattr" (user.overlay.*, the
   only kind overlayfs reads when mounted inside a user namespace).  */
int ocip_overlay_mount (int target_fd, const int *lower_fds, const char *const *short_names, size_t n,
                        int short_base_fd, int upper_fd, int work_fd, enum ocip_ovlformat_xattrs xattrs,
                        ocip_error_t *err);

/* An ID-mapped view of the directory LAYER_FD (not followed if a symlink: it is an fd)
   for an overlay lower layer or a flat copy: a detached bind mount of it
   (open_tree(OPEN_TREE_CLONE)) given USERNS_FD's mapping (mount_setattr
   MOUNT_ATTR_IDMAP), so that stat through it shows the owners shifted and the files
   under LAYER_FD keep theirs.  Returns an O_RDONLY|O_DIRECTORY|O_CLOEXEC fd of its root,
   and *RET_MOUNT_FD the open_tree fd, both owned by the caller: closing *RET_MOUNT_FD
   dissolves the detached mount (the other fd then sees a mount overlayfs refuses), so
   it stays open until the overlay is mounted or the copy made.  A kernel or file
   system that cannot do it: EOPNOTSUPP with what it lacks.  */
int ocip_overlay_idmap_layer (int layer_fd, int userns_fd, int *ret_mount_fd, ocip_error_t *err);

/* Unmount what is mounted at NAME under DIRFD (not following a symlink at NAME).
   EBUSY is reported as such; with LAZY the mount is detached (MNT_DETACH) instead.
   Not mounted (EINVAL from umount2) is success.  */
int ocip_overlay_unmount (int dirfd, const char *name, bool lazy, ocip_error_t *err);

/* Whether the directory NAME under DIRFD is a mount point (a different mount than its
   parent).  */
bool ocip_overlay_is_mounted (int dirfd, const char *name);

#endif
