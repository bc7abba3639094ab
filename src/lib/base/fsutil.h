/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small filesystem helpers: removal, atomic writes, and the one way a file is opened to be read. */
#ifndef OCIP_FSUTIL_H
#define OCIP_FSUTIL_H

#include <dirent.h>
#include <sys/types.h>

#include <oci-prep/error.h>

/* Remove NAME under the directory DIRFD and, if it is a directory, everything below it.
   Symlinks are removed, never followed; the walk never leaves NAME (each directory is
   opened O_NOFOLLOW relative to its parent's fd).  A missing NAME is success.
   Errors: negative errno with *ERR set, naming NAME.  */
int ocip_rmtree_at (int dirfd, const char *name, ocip_error_t *err);

/* Write LEN bytes at DATA to NAME (a relative path, trusted) under DIRFD atomically: a
   temporary file in the same directory renamed over NAME, so readers see the old file or
   the new one whole.  Not fsync'd: what these files describe (a bundle's mount, its pin,
   its config) does not outlive a crash either, and a warm bundle would spend most of its
   time waiting for the disk.  MODE for the new file.  */
int ocip_write_file_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode, ocip_error_t *err);

/* Read the open file FD whole: it must be a regular file (EINVAL: never a FIFO or a
   device, which could block or have side effects) of at most MAX bytes (E2BIG, also
   when it grows past MAX while read).  WHAT names it in messages ("seccomp profile
   '/p'").  *RET (NUL-terminated, *RET_LEN bytes) is owned by the caller.  */
int ocip_read_regular_fd (int fd, size_t max, const char *what, char **ret, size_t *ret_len, ocip_error_t *err);

/* Flags for ocip_open_regular_at().  */
enum
{
  /* DIRFD stands for "/": PATH is resolved by ocip_fsroot_open(), never leaving DIRFD
     (for everything an image or a layout names).  Without it PATH is resolved by the
     kernel as openat(2) does (trusted directories, a caller's path with AT_FDCWD).  */
  OCIP_OPEN_IN_ROOT = 1 << 0,
  /* A symlink as the last component is ELOOP instead of being followed.  */
  OCIP_OPEN_NOFOLLOW = 1 << 1,
};

/* Open PATH under DIRFD for reading, only if it is a regular file.  Every file oci-prep
   reads from an image, a layout, a bundle or a caller goes through here: the last
   component is opened O_PATH (which opens nothing: no device driver's open() runs, no
   FIFO blocks), checked with fstat(), and only then is that same inode reopened
   O_RDONLY|O_NOCTTY through /proc/self/fd (CVE-2024-9676).  Intermediate symlinks are
   followed (inside DIRFD with OCIP_OPEN_IN_ROOT), the last one too unless
   OCIP_OPEN_NOFOLLOW.  WHAT names the file in messages ("'/etc/passwd' in the rootfs");
   NULL means "'PATH'".
   Returns a new O_RDONLY|O_CLOEXEC fd owned by the caller, or a negative errno with *ERR
   set: the resolver's class (ENOENT for a missing file, ELOOP, EXDEV, ENOTDIR...), EINVAL
   for anything but a regular file (the message names its type), EOPNOTSUPP when /proc
   is not mounted (the reopen needs it; re-resolving the name instead would race), EIO
   when /proc/self/fd does not give back the checked inode.  DIRFD stays the
   caller's.  */
int ocip_open_regular_at (int dirfd, const char *path, unsigned how, const char *what, ocip_error_t *err);

/* A directory stream of NAME under DIRFD ("." for DIRFD itself) on a new fd of its own:
   DIRFD stays the caller's, its offset untouched.  A symlink at NAME is not followed
   (ELOOP or ENOTDIR).  Returns the stream (closedir, or cleanup_dir, closes its fd) or
   NULL with errno set and nothing left open, so that a caller words its own error.  */
DIR *ocip_opendir_at (int dirfd, const char *name);

/* Open NAME under DIRFD (trusted directories: the store, a bundle; a symlink at NAME is
   not followed, ELOOP) with ocip_open_regular_at() and read it as ocip_read_regular_fd
   does.  Open errors keep their class (ENOENT for a missing file; EINVAL for a device or
   a FIFO, which is never opened).  */
int ocip_read_file_at (int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, ocip_error_t *err);

/* Write LEN bytes at BUF to FD, retrying short writes and EINTR.  0, or a negative
   errno with *ERR set naming WHAT.  */
int ocip_write_fd (int fd, const void *buf, size_t len, const char *what, ocip_error_t *err);

#endif
