/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resolve paths inside a root directory fd, as if that directory were "/". */
#ifndef OCIP_FSROOT_H
#define OCIP_FSROOT_H

#include <stdbool.h>
#include <sys/types.h>

#include <oci-prep/error.h>

/* Resolution flags for ocip_fsroot_open().  */
enum
{
  /* The last component must not be a symlink: fail with ELOOP instead of following it
     (ENOTDIR when O_DIRECTORY is also given: the kernel checks that first).  O_NOFOLLOW
     in FLAGS means the same, so even O_PATH never returns an fd to a symlink.  */
  OCIP_FSROOT_NOFOLLOW = 1 << 0,
};

/* Open PATH relative to the directory ROOTFD, which stands for "/": absolute symlink
   targets restart at ROOTFD and ".." never climbs above it, so nothing outside ROOTFD is
   ever reached, even while another process renames or replaces entries.  Magic links
   (/proc/self/fd/...) are refused: ELOOP with openat2; the fallback refuses to enter a
   procfs mount at all (EXDEV).  Symlinks in intermediate components are followed
   (within the root); the last one too unless OCIP_FSROOT_NOFOLLOW.  More than
   OCIP_LIMIT_SYMLINK_STEPS symlinks is ELOOP.  Mount points inside the root are crossed.
   "", "/" and "." name the root itself.  A trailing slash makes the last component an
   intermediate one, as in the kernel: it is followed even with OCIP_FSROOT_NOFOLLOW and
   must be a directory (ENOTDIR); with O_CREAT it is EISDIR.
   FLAGS and MODE are those of openat(2); O_CLOEXEC is always added.  O_CREAT is allowed
   only together with O_EXCL (a create never goes through a symlink: an existing last
   component, a dangling symlink included, is EEXIST); otherwise EINVAL.  O_PATH may only
   be combined with O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC (EINVAL).  As with open(2),
   opening a FIFO without O_NONBLOCK blocks.
   RESOLVE is 0 or OCIP_FSROOT_NOFOLLOW (other bits: EINVAL).  ROOTFD may be an O_PATH fd;
   it stays owned by the caller.
   Returns a new fd owned by the caller, or a negative errno with *ERR set (ENOENT,
   ENOTDIR, ELOOP, EEXIST, EISDIR, EACCES, EXDEV, ENAMETOOLONG when PATH has
   OCIP_LIMIT_PATH_LENGTH bytes or more or a component is longer than NAME_MAX, ...).
   Uses openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) when the kernel has it, else an
   equivalent component-by-component walk (also used for one call when openat2 keeps
   failing with EAGAIN because of concurrent renames).  Thread-safe.  */
int ocip_fsroot_open (int rootfd, const char *path, int flags, mode_t mode, unsigned resolve, ocip_error_t *err);

/* Resolve the parent directory of PATH inside ROOTFD (symlinks in it followed within the
   root, as above) and return an O_PATH|O_DIRECTORY fd to it, owned by the caller.
   *RET_NAME receives the last component (a new string, owned by the caller; never "",
   "." or ".."; trailing slashes are dropped, so "a/b/" gives "b"): create or change it
   with *at() calls on the returned fd.  The last component itself is neither followed
   nor checked; it need not exist.  PATH is not cleaned lexically first: in "l/../x",
   ".." is the parent of what the symlink "l" points at, as the kernel would have it.
   A PATH that names the root itself (e.g. "", "/", ".", "a/..") or ends in "." or ".."
   is EINVAL.  Errors: negative errno with *ERR set, *RET_NAME untouched.  */
int ocip_fsroot_open_parent (int rootfd, const char *path, char **ret_name, ocip_error_t *err);

/* Normalise PATH lexically: strip leading "/", drop "." and empty components, apply ".."
   against the preceding component.  Returns a new string owned by the caller ("" for the
   root) or NULL when a ".." would climb above the root.  Never touches the filesystem,
   so it knows nothing of symlinks: use it for names, not to resolve.  */
char *ocip_fsroot_clean_path (const char *path);

/* Whether openat2(2) is used (false after the kernel answered ENOSYS once, e.g. under the
   fallback-test seccomp filter).  */
bool ocip_fsroot_have_openat2 (void);

#endif
