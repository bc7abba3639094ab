/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The overlay layer format: whiteout names, 0/0 devices, opaque xattrs, the root-opaque cut, implied-directory repair. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/fsroot.h"
#include "base/strv.h"
#include "rootfs/ovlformat.h"

static bool
has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

enum ocip_ovlformat_entry
ocip_ovlformat_classify (const char *path, const char **ret_base)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *target;

  if (ret_base)
    *ret_base = base;
  /* AUFS keeps its metadata (.wh..wh.plnk/, .wh..wh.aufs) at the root: none of it, nor
     anything below it, is content.  */
  if (has_prefix (path, OCIP_OVLFORMAT_META_PREFIX) && strcmp (path, OCIP_OVLFORMAT_OPAQUE_MARKER) != 0)
    return OCIP_OVLFORMAT_IGNORED;
  if (! has_prefix (base, OCIP_OVLFORMAT_WHITEOUT_PREFIX))
    return OCIP_OVLFORMAT_CONTENT;
  if (strcmp (base, OCIP_OVLFORMAT_OPAQUE_MARKER) == 0)
    return OCIP_OVLFORMAT_OPAQUE;
  if (has_prefix (base, OCIP_OVLFORMAT_META_PREFIX))
    return OCIP_OVLFORMAT_IGNORED;
  target = base + strlen (OCIP_OVLFORMAT_WHITEOUT_PREFIX);
  if (*target == '\0' || strcmp (target, ".") == 0 || strcmp (target, "..") == 0)
    return OCIP_OVLFORMAT_INVALID;
  return OCIP_OVLFORMAT_WHITEOUT;
}

bool
ocip_ovlformat_is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

bool
ocip_ovlformat_whiteout_at (int dirfd, const char *name)
{
  struct stat st;
  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && ocip_ovlformat_is_whiteout (&st);
}

int
ocip_ovlformat_make_whiteout (int dirfd, const char *name, const char *path, ocip_error_t *err)
{
  if (mknodat (dirfd, name, S_IFCHR | 0600, makedev (0, 0)) < 0)
    return ocip_error_set (err, errno, "whiteout '%s': mknod", path);
  return 0;
}

int
ocip_ovlformat_set_opaque (int fd, const char *path, ocip_error_t *err)
{
  if (fsetxattr (fd, OCIP_OVLFORMAT_OPAQUE_XATTR, "y", 1, 0) < 0)
    return ocip_error_set (err, errno, "opaque directory '%s': set xattr", path);
  return 0;
}

bool
ocip_ovlformat_is_opaque (int fd)
{
  char value[2];
  return fgetxattr (fd, OCIP_OVLFORMAT_OPAQUE_XATTR, value, sizeof value) == 1 && value[0] == 'y';
}

bool
ocip_ovlformat_is_overlay_xattr (const char *name)
{
  return has_prefix (name, OCIP_OVLFORMAT_XATTR_PREFIX) || has_prefix (name, OCIP_OVLFORMAT_USER_XATTR_PREFIX);
}

size_t
ocip_ovlformat_lowest_visible (const int *layer_fds, size_t n)
{
  size_t i;

  for (i = n; i-- > 0;)
    if (ocip_ovlformat_is_opaque (layer_fds[i]))
      return i;
  return 0;
}

/* What one layer directory holds at a path, looked up as overlayfs looks it up in each
   layer: component by component, never following a symlink.  Following one here would
   read outside the layer (an absolute target is the host's), and overlayfs does not:
   a symlink is a non-directory, which hides the layers below.  */
struct layer_entry
{
  bool exists;    /* the path is in the layer, every ancestor a directory */
  bool hides;     /* an ancestor (the root included) hides the layers below there */
  struct stat st; /* the path's, when it exists */
};

static void
look_up (int layer_fd, const char *path, struct layer_entry *ret)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_close int cur = -1;
  char *name = copy, *slash;

  ret->exists = false;
  /* An opaque root hides every lower layer (see ocip_ovlformat_lowest_visible).  */
  ret->hides = ocip_ovlformat_is_opaque (layer_fd);
  while ((slash = strchr (name, '/')) != NULL)
    {
      int fd;

      *slash = '\0';
      /* O_DIRECTORY: a device or FIFO is refused before it is opened.  */
      fd = openat (cur >= 0 ? cur : layer_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          /* A file, a whiteout or a symlink on the way hides what lies below it.  */
          if (errno == ENOTDIR || errno == ELOOP)
            ret->hides = true;
          return;
        }
      if (ocip_ovlformat_is_opaque (fd))
        ret->hides = true;
      ocip_closep (&cur);
      cur = fd;
      name = slash + 1;
    }
  ret->exists = fstatat (cur >= 0 ? cur : layer_fd, name, &ret->st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The real directory PATH below layer K (one that a layer listed): its stat in *RET.
   IMPLIED[j] is sorted and holds N_IMPLIED[j] paths.  */
static bool
lower_directory (const int *layer_fds, char *const *const *implied, const size_t *n_implied, size_t k,
                 const char *path, struct stat *ret)
{
  size_t j;

  for (j = k; j-- > 0;)
    {
      struct layer_entry e;

      look_up (layer_fds[j], path, &e);
      if (e.exists)
        {
          if (! S_ISDIR (e.st.st_mode))
            return false;
          if (! ocip_strv_sorted_has (implied[j], n_implied[j], path))
            {
              *ret = e.st;
              return true;
            }
        }
      if (e.hides)
        return false;
    }
  return false;
}

/* Whether a layer above K holds PATH, or hides it: then that layer decides what shows.  */
static bool
covered_above (const int *layer_fds, size_t n, size_t k, const char *path)
{
  size_t j;

  for (j = k + 1; j < n; j++)
    {
      struct layer_entry e;

      look_up (layer_fds[j], path, &e);
      if (e.exists || e.hides)
        return true;
    }
  return false;
}

struct fixup
{
  char *path;
  struct stat st;
};

static int
compare_fixups_deepest_first (const void *a, const void *b)
{
  return -strcmp (((const struct fixup *) a)->path, ((const struct fixup *) b)->path);
}

int
ocip_ovlformat_fix_implied_dirs (int rootfd, const int *layer_fds, char *const *const *implied, size_t n,
                                 ocip_error_t *err)
{
  cleanup_free size_t *n_implied = xcalloc (n ? n : 1, sizeof *n_implied);
  struct fixup *fix = NULL;
  size_t n_fix = 0, cap_fix = 0, k, i, m;
  int r = 0;

  /* Counted once: a layer may imply hundreds of thousands of directories, and each is
     looked for in the lists of the layers below it.  */
  for (k = 0; implied && k < n; k++)
    while (implied[k] && implied[k][n_implied[k]])
      n_implied[k]++;
  for (k = n; implied && k-- > 0;)
    for (i = 0; implied[k] && implied[k][i]; i++)
      {
        const char *path = implied[k][i];
        struct layer_entry own;
        struct stat st;

        if (covered_above (layer_fds, n, k, path))
          continue;
        /* Below an opaque directory (or root) of its own layer, a directory has no lower
           one to take after, as in --flat.  */
        look_up (layer_fds[k], path, &own);
        if (own.hides || ! lower_directory (layer_fds, implied, n_implied, k, path, &st))
          continue;
        if (n_fix == cap_fix)
          {
            cap_fix = cap_fix ? 2 * cap_fix : 64;
            fix = xreallocarray (fix, cap_fix, sizeof *fix);
          }
        fix[n_fix++] = (struct fixup){ xstrdup (path), st };
      }
  if (n_fix > 0)
    qsort (fix, n_fix, sizeof *fix, compare_fixups_deepest_first);
  for (m = 0; m < n_fix && r == 0; m++)
    {
      struct timespec ts[2] = { fix[m].st.st_atim, fix[m].st.st_mtim };
      cleanup_close int fd = ocip_fsroot_open (rootfd, fix[m].path, O_RDONLY | O_DIRECTORY, 0, OCIP_FSROOT_NOFOLLOW,
                                               err);
      if (fd < 0)
        {
          /* Hidden in the merged view after all: nothing to fix.  */
          ocip_error_release (err);
          continue;
        }
      if (fchown (fd, fix[m].st.st_uid, fix[m].st.st_gid) < 0 || fchmod (fd, fix[m].st.st_mode & 07777) < 0
          || futimens (fd, ts) < 0)
        r = ocip_error_set (err, errno, "restore the metadata of '%s'", fix[m].path);
    }
  for (m = 0; m < n_fix; m++)
    free (fix[m].path);
  free (fix);
  return r;
}
