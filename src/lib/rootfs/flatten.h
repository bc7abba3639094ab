/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --flat: store layers copied into one standalone directory. */
#ifndef OCIP_FLATTEN_H
#define OCIP_FLATTEN_H

#include <stddef.h>

#include <oci-prep/error.h>

/* Apply the layer directories LAYER_FDS[0..N) (bottom first, in overlayfs format as the
   store keeps them, rootfs/ovlformat.h; real fds, not O_PATH, owned by the caller) onto
   the empty directory TARGET_FD, so that it holds what an overlay of them would show: a
   whiteout (0/0 character device) removes the entry below, an opaque directory
   (trusted.overlay.opaque=y) replaces the directory below instead of merging, a layer
   whose root is opaque hides every layer below it, anything else replaces what it
   covers.
   Nothing in a layer is followed: entries are created relative to their parent's fd
   with O_NOFOLLOW semantics, so a symlink from one layer never redirects a later
   write (a directory over a symlink replaces it, as overlayfs shows it).  Hardlinked
   files stay hardlinked.  Content is reflinked (FICLONE) where the filesystem allows,
   else copied with copy_file_range, holes kept.  Owner, mode, xattrs (not
   overlayfs' own) and times are kept, except for the directories IMPLIED[i] (sorted,
   NULL-terminated; IMPLIED or an entry may be NULL) lists for layer i: those the layer
   only needed as parents keep the metadata the layers below gave them.  Errors name
   the path inside the rootfs.  */
int ocip_flatten (int target_fd, const int *layer_fds, char *const *const *implied, size_t n, ocip_error_t *err);

#endif
