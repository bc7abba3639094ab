/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Apply one layer's tar stream under a directory fd, in overlayfs format. */
#ifndef OCIP_EXTRACT_H
#define OCIP_EXTRACT_H

#include <stdint.h>
#include <sys/types.h>

#include "base/content.h"
#include "rootfs/ovlformat.h"
#include <oci-prep/error.h>

/* Where the uncompressed tar bytes come from: the count (> 0), 0 at the end, or a
   negative errno with *ERR set.  */
typedef ssize_t (*ocip_extract_read_fn) (void *ctx, void *buf, size_t len, ocip_error_t *err);

struct ocip_extract_limits
{
  uint64_t max_bytes;   /* sum of the sizes entries declare */
  uint64_t max_entries;
};

void ocip_extract_limits_default (struct ocip_extract_limits *limits);

struct ocip_extract_stats
{
  uint64_t entries;
  uint64_t bytes; /* declared sizes of regular files */
  /* Directories the layer needed but never listed (a file "a/b/f" without "a/" or
     "a/b/" entries), created 0755 root:root.  Their metadata really belongs to the
     layers below, which a bundle restores.  Sorted, NULL-terminated, owned: free with
     ocip_extract_stats_clear.  */
  char **implied_dirs;
  /* The content digests of the regular files written, for the tree digest (format 3):
     sorted by inode number, one per inode, owned (freed by ocip_extract_stats_clear).
     A sparse file is in it (its holes hashed as zeros, without writing or reading
     them); a file whose data segments came out of order is not (it is read back).  */
  struct ocip_file_content *contents;
  size_t n_contents;
  /* Device nodes not created because the kernel refused them (EPERM) while extracting
     for a user store (OCIP_OVLFORMAT_XATTRS_USER: a user namespace may not create
     devices), in entry order, NULL-terminated; NULL when none.  Owned.  */
  char **skipped_devices;
};

void ocip_extract_stats_clear (struct ocip_extract_stats *stats);

/* Read a tar stream from SOURCE and apply it under ROOTFD (which must be an empty
   directory owned by the caller, opened O_RDONLY|O_DIRECTORY), as the layer's own
   directory in overlayfs format: ".wh.NAME" becomes a 0/0 character device NAME,
   ".wh..wh..opq" the xattr trusted.overlay.opaque="y" on its directory (with XATTRS
   OCIP_OVLFORMAT_XATTRS_USER: user.overlay.opaque="y", what overlayfs mounted with
   "userxattr" reads), other ".wh..wh.*" entries are ignored.  With XATTRS user, a
   device node the kernel refuses to create (EPERM, as in any user namespace) is
   skipped and listed in RET_STATS->skipped_devices instead of failing the layer.
   The stream is hostile: names are cleaned and a name climbing above the root is
   refused (EXDEV); parents resolve inside ROOTFD (ocip_fsroot) as they would in the
   container; the last component is always created relative to its parent's fd and an
   existing entry of another type is removed, never written through; hardlinks must
   point at an entry already extracted in this layer (never a directory); entries may
   not carry owners above OCIP_LIMIT_ID; image xattrs trusted.overlay.* and
   security.selinux are dropped.  Regular files, sparse files, directories, symlinks,
   hardlinks, devices and FIFOs keep owner, mode (setuid bits applied after the chown),
   mtime (directories after their children) and xattrs.
   Reading stops at the tar end-of-archive marker: the caller reads (and hashes) what
   follows.  RET_STATS (may be NULL) gets counts, the implied directories and the
   files' content digests.  On error the tree under ROOTFD is incomplete: discard it.
   Errors name the entry: EXDEV escape, EINVAL malformed, E2BIG over LIMITS, EBADMSG bad
   tar stream, errno of the failing call otherwise.  */
int ocip_extract_tar (int rootfd, enum ocip_ovlformat_xattrs xattrs, ocip_extract_read_fn source, void *source_ctx,
                      const struct ocip_extract_limits *limits, struct ocip_extract_stats *ret_stats,
                      ocip_error_t *err);

#endif
