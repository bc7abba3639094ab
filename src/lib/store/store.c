/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The layer store: directory layout, per-layer locks, work areas and commits. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/fsutil.h"
#include <oci-prep/store.h>
#include "store/records.h"
#include "store/store_internal.h"
#include "store/store_private.h"

char *
ocip_store_default_path (void)
{
  const char *env = getenv ("OCI_PREP_STORE");
  const char *xdg = getenv ("XDG_DATA_HOME");
  const char *home = getenv ("HOME");

  if (env && *env)
    return xstrdup (env);
  /* Root of a user namespace (podman unshare, unshare --map-root-user) is a user whose
     store is their own: the kind of store is the test (see OCIP_RECORDS_XATTRS_FILE).  */
  if (ocip_ovlformat_xattrs_for_process () == OCIP_OVLFORMAT_XATTRS_TRUSTED)
    return xstrdup ("/var/lib/oci-prep");
  if (xdg && *xdg == '/')
    return xasprintf ("%s/oci-prep", xdg);
  return xasprintf ("%s/.local/share/oci-prep", home && *home ? home : "/tmp");
}

const char *
ocip_store_path (const struct ocip_store *store)
{
  return store->path;
}

int
ocip_store_dirfd (const struct ocip_store *store)
{
  return store->dirfd;
}

int
ocip_store_make_hook_dir (struct ocip_store *store, const char *name, ocip_error_t *err)
{
  cleanup_free char *rel = xasprintf ("hooks/%s", name);

  if (strchr (name, '/') || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return ocip_error_fail (err, EINVAL, "hook directory '%s': not one name", name);
  if ((mkdirat (store->dirfd, "hooks", 0700) < 0 && errno != EEXIST)
      || (mkdirat (store->dirfd, rel, 0700) < 0 && errno != EEXIST))
    return ocip_error_set (err, errno, "store '%s': create '%s'", store->path, rel);
  return 0;
}

void
ocip_store_discard_layer_work (struct ocip_store *store, const struct ocip_digest *diff_id)
{
  cleanup_free char *prefix = ocip_store_layer_name (diff_id);
  int fd = openat (store->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
  size_t len = strlen (prefix);
  struct dirent *de;

  if (dir == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  while ((de = readdir (dir)) != NULL)
    if (strncmp (de->d_name, prefix, len) == 0 && de->d_name[len] == '.')
      {
        ocip_error_t ignored = NULL;
        if (ocip_rmtree_at (store->tmp_fd, de->d_name, &ignored) < 0)
          ocip_error_release (&ignored);
      }
}

char *
ocip_store_layer_name (const struct ocip_digest *diff_id)
{
  return xasprintf ("%s-%s", ocip_digest_alg_name (diff_id->alg), ocip_digest_hex (diff_id));
}

/* mkdir -p of the store directory itself (the caller's path, trusted), mode 0700.  */
static int
make_store_dir (const char *path, ocip_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  char *p;

  for (p = copy + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (copy, 0755) < 0 && errno != EEXIST)
          return ocip_error_set (err, errno, "create store parent '%s'", copy);
        *p = '/';
      }
  if (mkdir (copy, 0700) < 0 && errno != EEXIST)
    return ocip_error_set (err, errno, "create store '%s'", path);
  return 0;
}

static int
open_subdir (struct ocip_store *store, const char *name, ocip_error_t *err)
{
  int fd;

  if (mkdirat (store->dirfd, name, 0700) < 0 && errno != EEXIST)
    return ocip_error_set (err, errno, "store '%s': create '%s'", store->path, name);
  fd = openat (store->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ocip_error_set (err, errno, "store '%s': open '%s'", store->path, name);
  return fd;
}

/* Open and lock locks/NAME.  A holder may remove its lock file (with the layer): a
   lock taken on a file that is no longer at NAME guards nothing, so it is taken again
   on the file that is there now.  */
static int
lock_name (struct ocip_store *store, const char *name, bool wait, ocip_error_t *err)
{
  for (;;)
    {
      cleanup_close int fd = openat (store->locks_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      struct stat held, now;
      int r;

      if (fd < 0)
        return ocip_error_set (err, errno, "open lock '%s'", name);
      do
        r = flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB));
      while (r < 0 && errno == EINTR);
      if (r < 0)
        return ocip_error_set (err, errno, "lock '%s'", name);
      if (fstat (fd, &held) < 0)
        return ocip_error_set (err, errno, "lock '%s': stat", name);
      if (fstatat (store->locks_fd, name, &now, AT_SYMLINK_NOFOLLOW) == 0)
        {
          if (now.st_ino == held.st_ino && now.st_dev == held.st_dev)
            return steal_fd (&fd);
        }
      else if (errno != ENOENT)
        return ocip_error_set (err, errno, "lock '%s': stat", name);
    }
}

/* tmp/<alg>-<hex>.<random> (and tmp/<alg>-<hex>.gc-<random>, a layer being removed):
   the owner holds locks/<alg>-<hex> while it works.  A work area whose lock can be
   taken belongs to a process that died.  */
int
ocip_store_clean_tmp (struct ocip_store *store, size_t *ret_removed, ocip_error_t *err)
{
  cleanup_dir DIR *dir = NULL;
  struct dirent *de;
  size_t removed = 0;
  int fd, r;

  fd = openat (store->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return ocip_error_set (err, errno, "store '%s': read 'tmp'", store->path);
    }
  while ((de = readdir (dir)) != NULL)
    {
      cleanup_free char *layer = NULL;
      cleanup_close int lock = -1;
      char *dot;

      if (de->d_name[0] == '.')
        continue;
      layer = xstrdup (de->d_name);
      dot = strrchr (layer, '.');
      if (dot)
        *dot = '\0';
      lock = lock_name (store, layer, false, err);
      if (lock < 0)
        {
          if ((*err)->status != EWOULDBLOCK)
            return ocip_error_wrap (err, "store '%s'", store->path);
          ocip_error_release (err);
          continue; /* in progress */
        }
      if ((r = ocip_rmtree_at (store->tmp_fd, de->d_name, err)) < 0)
        return ocip_error_wrap (err, "store '%s': clean 'tmp'", store->path);
      removed++;
    }
  if (ret_removed)
    *ret_removed = removed;
  return 0;
}

static bool
has_layers (struct ocip_store *store)
{
  cleanup_dir DIR *dir = ocip_opendir_at (store->dirfd, "layers");
  struct dirent *de;

  while (dir && (de = readdir (dir)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return true;
  return false;
}

/* Root's store and a user's never mix (see OCIP_RECORDS_XATTRS_FILE): the first
   process to use the store records which xattrs its layers use, and a process that
   would write (or mount) the other kind is refused, before it touches anything.  */
static int
check_xattrs (struct ocip_store *store, ocip_error_t *err)
{
  enum ocip_ovlformat_xattrs mine = ocip_ovlformat_xattrs_for_process (), theirs;
  int r;

  r = ocip_records_store_xattrs_read (store->dirfd, &theirs, err);
  if (r == -ENOENT)
    {
      ocip_error_release (err);
      /* Layers without the record were extracted by root, before users could.  */
      theirs = has_layers (store) ? OCIP_OVLFORMAT_XATTRS_TRUSTED : mine;
      if (theirs == mine && (r = ocip_records_store_xattrs_write (store->dirfd, mine, err)) < 0)
        return ocip_error_wrap (err, "store '%s'", store->path);
    }
  else if (r < 0)
    return ocip_error_wrap (err, "store '%s'", store->path);
  if (theirs != mine)
    return theirs == OCIP_OVLFORMAT_XATTRS_TRUSTED
               ? ocip_error_fail (err, EPERM,
                                  "store '%s' was made by root (its layers keep overlayfs' metadata in trusted.* "
                                  "xattrs): a user who is not root needs a store of their own",
                                  store->path)
               : ocip_error_fail (err, EPERM,
                                  "store '%s' was made by a user who is not root or in a user namespace (its layers "
                                  "keep overlayfs' metadata in user.* xattrs): root needs a store of its own",
                                  store->path);
  store->xattrs = mine;
  return 0;
}

enum ocip_ovlformat_xattrs
ocip_store_xattrs (const struct ocip_store *store)
{
  return store->xattrs;
}

int
ocip_store_open (const char *path, struct ocip_store **ret, ocip_error_t *err)
{
  cleanup_free char *default_path = path ? NULL : ocip_store_default_path ();
  struct ocip_store *store;
  struct stat st;
  int r;

  if (path == NULL)
    path = default_path;
  if ((r = make_store_dir (path, err)) < 0)
    return r;
  store = xzalloc (sizeof *store);
  store->layers_fd = store->locks_fd = store->tmp_fd = store->bundles_fd = store->lock_fd = -1;
  store->path = xstrdup (path);
  store->dirfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (store->dirfd < 0)
    {
      r = ocip_error_set (err, errno, "open store '%s'", path);
      goto fail;
    }
  if (fstat (store->dirfd, &st) < 0)
    {
      r = ocip_error_set (err, errno, "stat store '%s'", path);
      goto fail;
    }
  if ((st.st_mode & 077) && fchmod (store->dirfd, st.st_mode & 07700) < 0)
    {
      r = ocip_error_set (err, errno, "store '%s': restrict to mode 0700", path);
      goto fail;
    }
  if ((store->layers_fd = r = open_subdir (store, "layers", err)) < 0
      || (store->locks_fd = r = open_subdir (store, "locks", err)) < 0
      || (store->tmp_fd = r = open_subdir (store, "tmp", err)) < 0
      || (store->bundles_fd = r = open_subdir (store, "bundles", err)) < 0
      || (r = check_xattrs (store, err)) < 0
      || (r = ocip_store_clean_tmp (store, &store->n_cleaned, err)) < 0)
    goto fail;
  *ret = store;
  return 0;

fail:
  ocip_store_free (store);
  return r;
}

void
ocip_store_free (struct ocip_store *store)
{
  if (store == NULL)
    return;
  ocip_closep (&store->dirfd);
  ocip_closep (&store->layers_fd);
  ocip_closep (&store->locks_fd);
  ocip_closep (&store->tmp_fd);
  ocip_closep (&store->bundles_fd);
  ocip_closep (&store->lock_fd);
  free (store->path);
  free (store);
}

bool
ocip_store_layer_from_name (const char *name, struct ocip_digest *ret)
{
  const char *dash = strchr (name, '-');
  cleanup_free char *text = NULL;
  ocip_error_t err = NULL;

  if (dash == NULL)
    return false;
  text = xasprintf ("%.*s:%s", (int) (dash - name), name, dash + 1);
  if (ocip_digest_parse (text, ret, &err) < 0)
    {
      ocip_error_release (&err);
      return false;
    }
  return true;
}

bool
ocip_store_has_layer (struct ocip_store *store, const struct ocip_digest *diff_id)
{
  cleanup_free char *name = ocip_store_layer_name (diff_id);
  struct stat st;

  return fstatat (store->layers_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

int
ocip_store_open_layer (struct ocip_store *store, const struct ocip_digest *diff_id, ocip_error_t *err)
{
  cleanup_free char *name = ocip_store_layer_name (diff_id);
  cleanup_free char *diff = xasprintf ("%s/diff", name);
  int fd = openat (store->layers_fd, diff, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return ocip_error_set (err, errno, "layer '%s': open in store '%s'", diff_id->str, store->path);
  return fd;
}

int
ocip_store_lock_layer (struct ocip_store *store, const struct ocip_digest *diff_id, bool wait, ocip_error_t *err)
{
  cleanup_free char *name = ocip_store_layer_name (diff_id);
  int fd = lock_name (store, name, wait, err);

  return fd < 0 ? ocip_error_wrap (err, "layer '%s'", diff_id->str) : fd;
}

static int
lock_store (struct ocip_store *store, int how, ocip_error_t *err)
{
  int r;

  if (store->lock_fd < 0)
    {
      store->lock_fd = openat (store->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (store->lock_fd < 0)
        return ocip_error_set (err, errno, "store '%s': open 'lock'", store->path);
    }
  do
    r = flock (store->lock_fd, how);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return ocip_error_set (err, errno, "store '%s': lock", store->path);
  return 0;
}

int
ocip_store_lock_shared (struct ocip_store *store, ocip_error_t *err)
{
  return lock_store (store, LOCK_SH, err);
}

int
ocip_store_lock_exclusive (struct ocip_store *store, bool wait, ocip_error_t *err)
{
  return lock_store (store, LOCK_EX | (wait ? 0 : LOCK_NB), err);
}

void
ocip_store_unlock (struct ocip_store *store)
{
  ocip_closep (&store->lock_fd);
}

void
ocip_store_touch_layer (struct ocip_store *store, const struct ocip_digest *diff_id)
{
  cleanup_free char *name = ocip_store_layer_name (diff_id);
  cleanup_free char *meta = xasprintf ("%s/meta.json", name);

  utimensat (store->layers_fd, meta, NULL, AT_SYMLINK_NOFOLLOW);
}

/* Rename layers/NAME to tmp/<PREFIX>.gc-<random>, then delete it.  The rename is the
   removal: a crash afterwards leaves only a work area in tmp/, which is removed once
   the lock PREFIX (held by the caller meanwhile) is free.  */
static int
remove_entry (struct ocip_store *store, const char *name, const char *prefix, ocip_error_t *err)
{
  cleanup_free char *work = NULL;
  int attempt;

  for (attempt = 0;; attempt++)
    {
      free (work);
      work = xasprintf ("%s.gc-%08lx", prefix, (unsigned long) random () ^ (unsigned long) getpid () << 8);
      if (renameat2 (store->layers_fd, name, store->tmp_fd, work, RENAME_NOREPLACE) == 0)
        break;
      if (errno == ENOENT)
        return 0;
      if (errno != EEXIST || attempt == 100)
        return ocip_error_set (err, errno, "store '%s': move 'layers/%s' to 'tmp'", store->path, name);
    }
  if (ocip_rmtree_at (store->tmp_fd, work, err) < 0)
    return ocip_error_wrap (err, "store '%s': remove 'layers/%s'", store->path, name);
  return 0;
}

int
ocip_store_remove_layer (struct ocip_store *store, const struct ocip_digest *diff_id, ocip_error_t *err)
{
  cleanup_free char *name = ocip_store_layer_name (diff_id);
  int r;

  if ((r = remove_entry (store, name, name, err)) < 0)
    return r;
  /* Still holding the lock: whoever waits on this file will find it gone and lock the
     new one (lock_name).  */
  if (unlinkat (store->locks_fd, name, 0) < 0 && errno != ENOENT)
    return ocip_error_set (err, errno, "store '%s': remove lock '%s'", store->path, name);
  return 0;
}

int
ocip_store_remove_junk (struct ocip_store *store, const char *name, ocip_error_t *err)
{
  cleanup_close int lock = lock_name (store, "gc", true, err);

  if (lock < 0)
    return ocip_error_wrap (err, "store '%s'", store->path);
  return remove_entry (store, name, "gc", err);
}

int
ocip_store_begin_layer (struct ocip_store *store, const struct ocip_digest *diff_id, char **ret_name,
                        int *ret_diff_fd, ocip_error_t *err)
{
  cleanup_free char *layer = ocip_store_layer_name (diff_id);
  cleanup_free char *name = NULL;
  cleanup_close int work = -1;
  int diff, attempt;

  for (attempt = 0;; attempt++)
    {
      free (name);
      name = xasprintf ("%s.%08lx", layer, (unsigned long) random () ^ (unsigned long) getpid () << 8);
      if (mkdirat (store->tmp_fd, name, 0700) == 0)
        break;
      if (errno != EEXIST || attempt == 100)
        return ocip_error_set (err, errno, "layer '%s': create work area in '%s/tmp'", diff_id->str, store->path);
    }
  work = openat (store->tmp_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (work < 0 || mkdirat (work, "diff", 0755) < 0)
    {
      int saved = errno;
      unlinkat (store->tmp_fd, name, AT_REMOVEDIR);
      return ocip_error_set (err, saved, "layer '%s': create work area", diff_id->str);
    }
  diff = openat (work, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (diff < 0)
    return ocip_error_set (err, errno, "layer '%s': open work area", diff_id->str);
  /* The layer root is 0755 unless the layer says otherwise, whatever the umask.  */
  if (fchmod (diff, 0755) < 0)
    {
      int saved = errno;
      close (diff);
      return ocip_error_set (err, saved, "layer '%s': chmod work area", diff_id->str);
    }
  *ret_name = steal_pointer (&name);
  *ret_diff_fd = diff;
  return 0;
}

int
ocip_store_sync (struct ocip_store *store, ocip_error_t *err)
{
  if (syncfs (store->dirfd) < 0)
    return ocip_error_set (err, errno, "store '%s': syncfs", store->path);
  return 0;
}

int
ocip_store_commit_layer (struct ocip_store *store, const char *work_name, const struct ocip_digest *diff_id,
                         ocip_error_t *err)
{
  cleanup_free char *name = ocip_store_layer_name (diff_id);

  /* RENAME_NOREPLACE: a layer, once committed, is never swapped under a reader.  */
  if (renameat2 (store->tmp_fd, work_name, store->layers_fd, name, RENAME_NOREPLACE) < 0)
    {
      int saved = errno;
      ocip_error_t ignored = NULL;
      ocip_store_discard (store, work_name, &ignored);
      ocip_error_release (&ignored);
      return ocip_error_set (err, saved, "layer '%s': commit into '%s/layers'", diff_id->str, store->path);
    }
  return 0;
}

int
ocip_store_short_link (struct ocip_store *store, const struct ocip_digest *diff_id, char **ret, ocip_error_t *err)
{
  static const size_t lengths[] = { 12, 24, 0 };
  cleanup_free char *layer = ocip_store_layer_name (diff_id);
  cleanup_free char *target = xasprintf ("../layers/%s/diff", layer);
  const char *hex = ocip_digest_hex (diff_id);
  size_t i;

  if (mkdirat (store->dirfd, "l", 0700) < 0 && errno != EEXIST)
    return ocip_error_set (err, errno, "store '%s': create 'l'", store->path);
  /* The id is a prefix of the diffID; two layers sharing one take a longer prefix.  */
  for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
    {
      cleanup_free char *name = xasprintf ("l/%.*s", (int) (lengths[i] ? lengths[i] : strlen (hex)), hex);
      char existing[256];
      ssize_t n;

      if (symlinkat (target, store->dirfd, name) == 0)
        {
          *ret = steal_pointer (&name);
          return 0;
        }
      if (errno != EEXIST)
        return ocip_error_set (err, errno, "layer '%s': create short link", diff_id->str);
      n = readlinkat (store->dirfd, name, existing, sizeof existing - 1);
      if (n > 0 && (size_t) n == strlen (target) && memcmp (existing, target, n) == 0)
        {
          *ret = steal_pointer (&name);
          return 0;
        }
    }
  return ocip_error_fail (err, EEXIST, "layer '%s': its short links are taken by other layers", diff_id->str);
}

int
ocip_store_discard (struct ocip_store *store, const char *work_name, ocip_error_t *err)
{
  return ocip_rmtree_at (store->tmp_fd, work_name, err);
}
