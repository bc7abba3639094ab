/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The overlay layer format: whiteout names, 0/0 devices, opaque xattrs, the root-opaque cut, implied-directory repair. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/fsroot.h"
#include "base/idmap.h"
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

enum ocip_ovlformat_xattrs
ocip_ovlformat_xattrs_for_process (void)
{
  return geteuid () == 0 && ocip_idmap_in_initial_userns () ? OCIP_OVLFORMAT_XATTRS_TRUSTED
                                                              : OCIP_OVLFORMAT_XATTRS_USER;
}

const char *
ocip_ovlformat_xattrs_name (enum ocip_ovlformat_xattrs xattrs)
{
  return xattrs == OCIP_OVLFORMAT_XATTRS_USER ? "user" : "trusted";
}

int
ocip_ovlformat_set_opaque (int fd, enum ocip_ovlformat_xattrs xattrs, const char *path, ocip_error_t *err)
{
  const char *name
      = xattrs == OCIP_OVLFORMAT_XATTRS_USER ? OCIP_OVLFORMAT_USER_OPAQUE_XATTR : OCIP_OVLFORMAT_OPAQUE_XATTR;

  if (fsetxattr (fd, name, "y", 1, 0) < 0)
    return ocip_error_set (err, errno, "opaque directory '%s': set xattr", path);
  return 0;
}

bool
ocip_ovlformat_is_opaque (int fd)
{
  char value[2];
  return (fgetxattr (fd, OCIP_OVLFORMAT_OPAQUE_XATTR, value, sizeof value) == 1 && value[0] == 'y')
         || (fgetxattr (fd, OCIP_OVLFORMAT_USER_OPAQUE_XATTR, value, sizeof value) == 1 && value[0] == 'y');
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

/* The directory a layer was last walked to.  A layer's implied directories come sorted,
   so the next path looked up in it mostly extends the last one: walking on from there,
   a path 2 000 levels deep costs 2 000 steps in all, not 2 000 for each of its 2 000
   implied ancestors.  */
struct walk
{
  char *dir;  /* its path, "" for the layer root; NULL: nothing walked yet */
  int fd;     /* its fd; -1 for the layer root, or when DEAD */
  bool hides; /* as layer_entry.hides, for what lies below DIR */
  bool dead;  /* DIR is not a directory of the layer: nothing below it is there */
};

static void
walk_clear (struct walk *w)
{
  free (w->dir);
  w->dir = NULL;
  ocip_closep (&w->fd);
  w->hides = w->dead = false;
}

/* Whether the directory DIR (LEN bytes of a path) is W's, or below it.  */
static bool
walk_covers (const struct walk *w, const char *dir, size_t len)
{
  size_t d = w->dir ? strlen (w->dir) : 0;

  return w->dir && d <= len && memcmp (dir, w->dir, d) == 0 && (d == 0 || d == len || dir[d] == '/');
}

static void
look_up (struct walk *w, int layer_fd, const char *path, struct layer_entry *ret)
{
  const char *last = strrchr (path, '/');
  size_t dir_len = last ? (size_t) (last - path) : 0;
  const char *name = last ? last + 1 : path, *p, *end = path + dir_len;
  char component[NAME_MAX + 1];
  int cur;
  bool hides;

  ret->exists = false;
  if (walk_covers (w, path, dir_len))
    {
      size_t d = strlen (w->dir);

      if (w->dead)
        {
          ret->hides = w->hides;
          return;
        }
      cur = steal_fd (&w->fd);
      hides = w->hides;
      p = d == dir_len ? end : path + d + (d > 0);
    }
  else
    {
      walk_clear (w);
      cur = -1;
      /* An opaque root hides every lower layer (see ocip_ovlformat_lowest_visible).  */
      hides = ocip_ovlformat_is_opaque (layer_fd);
      p = path;
    }
  free (w->dir);
  w->dir = NULL;
  while (p < end)
    {
      const char *slash = memchr (p, '/', (size_t) (end - p));
      size_t len = (size_t) ((slash ? slash : end) - p);
      int fd = -1;

      if (len <= NAME_MAX)
        {
          memcpy (component, p, len);
          component[len] = '\0';
          /* O_DIRECTORY: a device or FIFO is refused before it is opened.  */
          fd = openat (cur >= 0 ? cur : layer_fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          /* A file, a whiteout or a symlink on the way hides what lies below it.  */
          if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
            hides = true;
        }
      if (cur >= 0)
        close (cur);
      if (fd < 0)
        {
          *w = (struct walk){ .dir = xstrndup (path, (size_t) (p + len - path)), .fd = -1, .hides = hides, .dead = true };
          ret->hides = hides;
          return;
        }
      if (ocip_ovlformat_is_opaque (fd))
        hides = true;
      cur = fd;
      p = slash ? slash + 1 : end;
    }
  *w = (struct walk){ .dir = xstrndup (path, dir_len), .fd = cur, .hides = hides };
  ret->hides = hides;
  ret->exists = fstatat (cur >= 0 ? cur : layer_fd, name, &ret->st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The real directory PATH below layer K (one that a layer listed): its stat in *RET.
   IMPLIED[j] is sorted and holds N_IMPLIED[j] paths.  */
static bool
lower_directory (struct walk *walks, const int *layer_fds, char *const *const *implied, const size_t *n_implied,
                 size_t k, const char *path, struct stat *ret)
{
  size_t j;

  for (j = k; j-- > 0;)
    {
      struct layer_entry e;

      look_up (&walks[j], layer_fds[j], path, &e);
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
covered_above (struct walk *walks, const int *layer_fds, size_t n, size_t k, const char *path)
{
  size_t j;

  for (j = k + 1; j < n; j++)
    {
      struct layer_entry e;

      look_up (&walks[j], layer_fds[j], path, &e);
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
  struct walk *walks = xcalloc (n ? n : 1, sizeof *walks);
  struct fixup *fix = NULL;
  size_t n_fix = 0, cap_fix = 0, k, i, m;
  int r = 0;

  for (k = 0; k < n; k++)
    walks[k].fd = -1;

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

        if (covered_above (walks, layer_fds, n, k, path))
          continue;
        /* Below an opaque directory (or root) of its own layer, a directory has no lower
           one to take after, as in --flat.  */
        look_up (&walks[k], layer_fds[k], path, &own);
        if (own.hides || ! lower_directory (walks, layer_fds, implied, n_implied, k, path, &st))
          continue;
        if (n_fix == cap_fix)
          {
            cap_fix = cap_fix ? 2 * cap_fix : 64;
            fix = xreallocarray (fix, cap_fix, sizeof *fix);
          }
        fix[n_fix++] = (struct fixup){ xstrdup (path), st };
      }
  for (k = 0; k < n; k++)
    walk_clear (&walks[k]);
  free (walks);
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
