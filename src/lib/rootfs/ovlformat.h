/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The overlay layer format: a tar's whiteouts as overlayfs stores them, and what a stack of such layers shows. */
#ifndef OCIP_OVLFORMAT_H
#define OCIP_OVLFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <oci-prep/error.h>

/* The names a layer tar uses (image-spec layer.md, "Whiteouts").  */
#define OCIP_OVLFORMAT_WHITEOUT_PREFIX ".wh."
#define OCIP_OVLFORMAT_OPAQUE_MARKER ".wh..wh..opq"
#define OCIP_OVLFORMAT_META_PREFIX ".wh..wh."

/* overlayfs' own xattrs (the trusted namespace; "user.overlay." with the userxattr
   mount option) and the one of them a layer directory in the store carries.  */
#define OCIP_OVLFORMAT_XATTR_PREFIX "trusted.overlay."
#define OCIP_OVLFORMAT_USER_XATTR_PREFIX "user.overlay."
#define OCIP_OVLFORMAT_OPAQUE_XATTR OCIP_OVLFORMAT_XATTR_PREFIX "opaque"
#define OCIP_OVLFORMAT_USER_OPAQUE_XATTR OCIP_OVLFORMAT_USER_XATTR_PREFIX "opaque"

/* Which xattrs a store's layer directories carry overlayfs' metadata in.  trusted.*
   takes CAP_SYS_ADMIN in the initial user namespace: root's store.  A user who is not
   root (or root of a user namespace) can only write user.*, which overlayfs reads when
   mounted with "userxattr", the only way it can be mounted in a user namespace.  */
enum ocip_ovlformat_xattrs
{
  OCIP_OVLFORMAT_XATTRS_TRUSTED, /* trusted.overlay.* */
  OCIP_OVLFORMAT_XATTRS_USER,    /* user.overlay.* */
};

/* The xattrs this process writes layers with: trusted for root in the initial user
   namespace, user for everyone else (an ordinary user, any user namespace).  */
enum ocip_ovlformat_xattrs ocip_ovlformat_xattrs_for_process (void);

/* "trusted" or "user", as the store records it.  */
const char *ocip_ovlformat_xattrs_name (enum ocip_ovlformat_xattrs xattrs);

/* What a layer tar entry's name means.  */
enum ocip_ovlformat_entry
{
  OCIP_OVLFORMAT_CONTENT,  /* an ordinary entry */
  OCIP_OVLFORMAT_WHITEOUT, /* ".wh.NAME": NAME of the layers below is deleted */
  OCIP_OVLFORMAT_OPAQUE,   /* ".wh..wh..opq": its directory shows nothing of the layers below */
  OCIP_OVLFORMAT_IGNORED,  /* AUFS metadata: another ".wh..wh.*" name, or anything under one at the root */
  OCIP_OVLFORMAT_INVALID,  /* a whiteout that names nothing: ".wh.", ".wh..", ".wh..." */
};

/* Classify the entry PATH, a name cleaned by ocip_fsroot_clean_path() (no leading "/",
   no "." or ".." components, not ""; the root entry is the caller's).  *RET_BASE (may
   be NULL) points at PATH's last component: for a whiteout the deleted name follows
   OCIP_OVLFORMAT_WHITEOUT_PREFIX there, for the opaque marker PATH's directory part
   ends just before it.  Only the name is looked at; never fails.  */
enum ocip_ovlformat_entry ocip_ovlformat_classify (const char *path, const char **ret_base);

/* Whether ST (of an entry in a layer directory) is overlayfs' whiteout: a 0/0
   character device.  */
bool ocip_ovlformat_is_whiteout (const struct stat *st);

/* Whether NAME in the directory DIRFD is a whiteout (not following a symlink at NAME).  */
bool ocip_ovlformat_whiteout_at (int dirfd, const char *name);

/* Create the whiteout NAME in the directory DIRFD (a 0/0 character device, mode 0600;
   EEXIST when NAME exists, nothing is replaced).  PATH names it in messages.  0, or a
   negative errno with *ERR set.  */
int ocip_ovlformat_make_whiteout (int dirfd, const char *name, const char *path, ocip_error_t *err);

/* Mark the directory FD (a real fd, not O_PATH) opaque: overlayfs then shows none of the
   layers below in it.  XATTRS says in which namespace (trusted.overlay.opaque or
   user.overlay.opaque).  PATH names it in messages.  0, or a negative errno with *ERR
   set (EPERM for trusted.* without CAP_SYS_ADMIN: those xattrs are the superuser's).  */
int ocip_ovlformat_set_opaque (int fd, enum ocip_ovlformat_xattrs xattrs, const char *path, ocip_error_t *err);

/* Whether the directory FD (a real fd, not O_PATH) is marked opaque, in either
   namespace: a store's layers use one of them only, and an image's own overlay xattrs
   never reach a layer directory (extraction drops both), so either is ours.  */
bool ocip_ovlformat_is_opaque (int fd);

/* Whether the xattr NAME is overlayfs' own (trusted.overlay.*, user.overlay.*): an
   image's would change how overlayfs reads the layer (opaque directories, redirects,
   metacopy), so only the whiteout conversion sets them, and a copy never carries them.  */
bool ocip_ovlformat_is_overlay_xattr (const char *name);

/* The index of the lowest layer a stack of the layer directories LAYER_FDS[0..N)
   (bottom first, real fds owned by the caller) shows: the topmost one whose root is
   opaque ("/.wh..wh..opq" hides every layer below), else 0.  overlayfs ignores the
   opaque xattr on a lower layer's root, so a mount stacks only the layers from there
   up, and a copy applies only those.  N == 0 gives 0.  */
size_t ocip_ovlformat_lowest_visible (const int *layer_fds, size_t n);

/* Repair the directories the layers only implied (a file "a/b/f" without an "a/b/"
   entry: created 0755 root:root by extraction, IMPLIED[i] listing layer i's, sorted,
   NULL-terminated; IMPLIED[i] may be NULL).  overlayfs shows a directory's attributes
   from the topmost layer holding it; where that layer only implied it, the directory
   under ROOTFD (the merged view, any directory fd owned by the caller) gets the owner,
   mode and times of the real directory below, unless its own layer hides the lower
   ones there (an opaque ancestor or root) or no layer below has a real directory
   there.  Layers are read as overlayfs looks paths up, component by component, never
   following a symlink (a symlink on the way hides what is below it, as any
   non-directory does).  Children go first, so that fixing one never changes a
   parent's times; a path ROOTFD does not show (resolved inside it, the last component
   not followed) is left alone.  0, or a negative errno with *ERR set naming the path.  */
int ocip_ovlformat_fix_implied_dirs (int rootfd, const int *layer_fds, char *const *const *implied, size_t n,
                                     ocip_error_t *err);

#endif
