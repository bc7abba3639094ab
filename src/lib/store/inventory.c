/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the store holds (store ls, du): pins and their bundles, layers and their disk usage, short links. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/image.h>
#include <oci-prep/limits.h>
#include "base/fsutil.h"
#include "base/json.h"
#include "store/inventory.h"
#include "store/records.h"
#include "store/store_internal.h"
#include "store/store_private.h"

/* The shortest short link ocip_store_short_link makes.  */
#define SHORT_LINK_MIN 12

/* ---- small helpers ---- */

/* Append S to the NULL-terminated vector *V unless it is there already.  */
static void
strv_add_unique (char ***v, const char *s)
{
  size_t n = 0;

  while (*v && (*v)[n])
    if (strcmp ((*v)[n++], s) == 0)
      return;
  *v = xreallocarray (*v, n + 2, sizeof **v);
  (*v)[n] = xstrdup (s);
  (*v)[n + 1] = NULL;
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in the directory NAME under DIRFD, sorted, "." and ".." left out.  A
   missing directory is empty.  */
int
ocip_inventory_list_dir (int dirfd, const char *name, char ***ret, size_t *ret_n, ocip_error_t *err)
{
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_dir DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
  cleanup_strv char **names = xcalloc (1, sizeof *names);
  size_t n = 0, cap = 1;
  struct dirent *de;

  if (dir == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      if (saved != ENOENT)
        return ocip_error_set (err, saved, "read '%s'", name);
    }
  for (errno = 0; dir && (de = readdir (dir)) != NULL; errno = 0)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (n + 2 > cap)
        {
          cap *= 2;
          names = xreallocarray (names, cap, sizeof *names);
        }
      names[n++] = xstrdup (de->d_name);
      names[n] = NULL;
    }
  if (dir && errno != 0)
    return ocip_error_set (err, errno, "read '%s'", name);
  qsort (names, n, sizeof *names, compare_strings);
  *ret = steal_pointer (&names);
  *ret_n = n;
  return 0;
}

/* Undo the octal escapes (\040 for a space...) of a mountinfo field, in place.  */
static void
unescape_mountinfo (char *s)
{
  char *out = s;

  for (; *s; s++)
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
      {
        *out++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
        s += 3;
      }
    else
      *out++ = *s;
  *out = '\0';
}

/* Whether PATH (absolute) is a mount point, from the mount table alone.  Never by a
   lookup of PATH itself: a path walk that crosses into the mount holds a reference to
   it, and an rm unmounting that bundle at the same moment gets EBUSY (1 in ~3000 with a
   gc loop).  The parent is made canonical (the table has canonical paths); a lookup
   of the parent stops before the mount.  When in doubt (the table cannot be read), a
   mount is assumed: the layers are kept.  */
static bool
path_is_mounted (const char *path)
{
  const char *slash = strrchr (path, '/');
  cleanup_free char *parent = NULL;
  cleanup_free char *target = NULL;
  cleanup_free char *line = NULL;
  cleanup_file FILE *f = NULL;
  char real[PATH_MAX];
  size_t cap = 0;

  if (slash == NULL || slash[1] == '\0')
    return false;
  parent = slash == path ? xstrdup ("/") : xstrndup (path, slash - path);
  if (realpath (parent, real) == NULL)
    return errno != ENOENT && errno != ENOTDIR;
  target = xasprintf ("%s/%s", strcmp (real, "/") == 0 ? "" : real, slash + 1);
  f = fopen ("/proc/self/mountinfo", "re");
  if (f == NULL)
    return true;
  while (getline (&line, &cap, f) > 0)
    {
      /* ID PARENT MAJ:MIN ROOT MOUNTPOINT ...  */
      char *field = line, *end = NULL;
      int i;

      for (i = 0; i < 4 && field; i++)
        {
          field = strchr (field, ' ');
          field = field ? field + 1 : NULL;
        }
      if (field == NULL || (end = strchr (field, ' ')) == NULL)
        continue;
      *end = '\0';
      unescape_mountinfo (field);
      if (strcmp (field, target) == 0)
        return true;
    }
  return false;
}

int
ocip_inventory_detach (const char *path, ocip_error_t *err)
{
  if (umount2 (path, UMOUNT_NOFOLLOW | MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return ocip_error_set (err, errno, "unmount '%s'", path);
  return 0;
}

/* ---- pins ---- */

const char *
ocip_gc_pin_state_text (enum ocip_gc_pin_state state)
{
  switch (state)
    {
    case OCIP_GC_PIN_LIVE:
      return "live";
    case OCIP_GC_PIN_PENDING:
      return "the bundle is being created";
    case OCIP_GC_PIN_NO_BUNDLE:
      return "the bundle no longer exists";
    case OCIP_GC_PIN_NO_STATE:
      return "the bundle has no state: its creation was interrupted";
    case OCIP_GC_PIN_REPLACED:
      return "the bundle now belongs to another pin";
    case OCIP_GC_PIN_CONTAINER_GONE:
      return "the container of this hook rootfs is gone";
    case OCIP_GC_PIN_DAMAGED:
    default:
      return "the pin record cannot be read";
    }
}

void
ocip_inventory_pin_clear (struct ocip_gc_pin *pin)
{
  free (pin->id);
  free (pin->bundle);
  free (pin->image);
  free (pin->rootfs_path);
  free (pin->engine_bundle);
  ocip_strv_free (pin->layers);
}

int
ocip_inventory_read_pin (struct ocip_store *store, struct ocip_gc_pin *pin, ocip_error_t *err)
{
  struct ocip_state_record rec = { 0 };
  int r;

  if ((r = ocip_records_pin_read (store, pin->id, &rec, err)) < 0)
    return r;
  pin->bundle = steal_pointer (&rec.bundle);
  pin->image = steal_pointer (&rec.image);
  pin->rootfs_path = steal_pointer (&rec.rootfs_path);
  pin->layers = steal_pointer (&rec.layers);
  pin->engine_bundle = steal_pointer (&rec.engine_bundle);
  ocip_state_record_clear (&rec);
  return 0;
}

/* Whether the container of the hook rootfs ST records is gone.  Only what says so for
   certain counts: the engine's bundle directory no longer exists, its config.json is a
   runtime config whose root.path is another rootfs, or the rootfs itself was removed.
   A config.json that is missing, unreadable or without root.path says nothing (the
   engine may not have written it yet, and an engine that runs hooks from its own
   working directory, as podman does, has none there).  */
static bool
container_gone (const struct ocip_state_record *st)
{
  cleanup_close int engine_fd = -1;
  cleanup_json struct ocip_json *doc = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *named = NULL;
  const struct ocip_json_node *root;
  const char *root_path;
  ocip_error_t err = NULL;
  struct stat sb;
  size_t len;

  /* Never a lookup of a mounted rootfs itself (see path_is_mounted).  */
  if (! path_is_mounted (st->rootfs_path) && lstat (st->rootfs_path, &sb) < 0 && (errno == ENOENT || errno == ENOTDIR))
    return true;
  engine_fd = open (st->engine_bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (engine_fd < 0)
    return errno == ENOENT || errno == ENOTDIR;
  if (ocip_read_file_at (engine_fd, "config.json", OCIP_LIMIT_JSON_DOCUMENT_SIZE, &text, &len, &err) < 0
      || ocip_json_parse (text, len, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, &err) < 0)
    {
      ocip_error_release (&err);
      return false;
    }
  root = ocip_json_object_get (ocip_json_root (doc), "root");
  root_path = root ? ocip_json_string (ocip_json_object_get (root, "path")) : NULL;
  if (root_path == NULL || *root_path == '\0')
    return false;
  /* As precreate made the rootfs path from it.  */
  named = root_path[0] == '/' ? xstrdup (root_path) : xasprintf ("%s/%s", st->engine_bundle, root_path);
  return strcmp (named, st->rootfs_path) != 0;
}

int
ocip_inventory_release_hook (struct ocip_store *store, const struct ocip_gc_pin *pin, ocip_error_t *err)
{
  const char *slash = strrchr (pin->bundle, '/');
  cleanup_free char *parent = slash && slash != pin->bundle ? xstrndup (pin->bundle, slash - pin->bundle) : NULL;
  cleanup_free char *rel = slash ? xasprintf ("hooks/%s", slash + 1) : NULL;
  struct stat recorded, hooks;
  int r;

  /* The pin names its state directory by path: only one in this store's hooks/ is
     removed.  */
  if (parent == NULL || stat (parent, &recorded) < 0
      || fstatat (store->dirfd, "hooks", &hooks, AT_SYMLINK_NOFOLLOW) < 0 || recorded.st_dev != hooks.st_dev
      || recorded.st_ino != hooks.st_ino)
    return ocip_error_fail (err, EXDEV, "hook state '%s' is not in store '%s'", pin->bundle, store->path);
  if (pin->rootfs_path && path_is_mounted (pin->rootfs_path)
      && (r = ocip_inventory_detach (pin->rootfs_path, err)) < 0)
    return r;
  if ((r = ocip_rmtree_at (store->dirfd, rel, err)) < 0)
    return ocip_error_wrap (err, "store '%s'", store->path);
  return ocip_records_pin_remove (store, pin->id, err);
}

void
ocip_inventory_check_pin (struct ocip_gc_pin *pin, bool exclusive)
{
  cleanup_close int bundle_fd = open (pin->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct ocip_state_record state = { 0 };
  ocip_error_t err = NULL;

  /* Without the store lock held EXCLUSIVE, a bundle without state may be one being
     created right now.  An error other than "not there" keeps the pin live: when in
     doubt, keep the layers.  */
  if (bundle_fd < 0)
    pin->state = errno == ENOENT || errno == ENOTDIR ? OCIP_GC_PIN_NO_BUNDLE : OCIP_GC_PIN_LIVE;
  else if (ocip_records_state_read (bundle_fd, &state, &err) < 0)
    {
      if (err->status == ENOENT)
        pin->state = exclusive ? OCIP_GC_PIN_NO_STATE : OCIP_GC_PIN_PENDING;
      else if (err->status == EINVAL)
        pin->state = OCIP_GC_PIN_REPLACED; /* written atomically: damaged, not half-written */
      else
        pin->state = OCIP_GC_PIN_LIVE;
    }
  else if (strcmp (state.id, pin->id) != 0)
    pin->state = OCIP_GC_PIN_REPLACED;
  else if (! state.complete)
    /* Marked unfinished: being made, unless the store lock says no bundle is.  */
    pin->state = exclusive ? OCIP_GC_PIN_NO_STATE : OCIP_GC_PIN_PENDING;
  else if (state.engine_bundle && container_gone (&state))
    pin->state = OCIP_GC_PIN_CONTAINER_GONE;
  else
    pin->state = OCIP_GC_PIN_LIVE;
  ocip_error_release (&err);
  ocip_state_record_clear (&state);
  /* A rootfs still mounted reads the layers, whoever it belongs to now.  */
  pin->mounted = pin->rootfs_path && path_is_mounted (pin->rootfs_path);
  pin->protects = pin->state == OCIP_GC_PIN_LIVE || pin->state == OCIP_GC_PIN_PENDING || pin->mounted;
}

/* Every record in bundles/ that has a pin's name, read and checked; a record that
   cannot be read is DAMAGED.  Other entries are left to fsck.  */
static int
scan_pins (struct ocip_store *store, bool exclusive, struct ocip_gc_inventory *inv, ocip_error_t *err)
{
  cleanup_strv char **names = NULL;
  size_t n, i;
  int r;

  if ((r = ocip_inventory_list_dir (store->dirfd, "bundles", &names, &n, err)) < 0)
    return ocip_error_wrap (err, "store '%s'", store->path);
  inv->pins = xcalloc (n + 1, sizeof *inv->pins);
  for (i = 0; i < n; i++)
    {
      struct ocip_gc_pin *pin = &inv->pins[inv->n_pins];
      ocip_error_t pin_err = NULL;

      if (! ocip_records_is_pin_name (names[i], &pin->id))
        continue;
      if (ocip_inventory_read_pin (store, pin, &pin_err) < 0)
        {
          if (pin_err->status == ENOENT)
            {
              /* unpinned meanwhile */
              ocip_error_release (&pin_err);
              ocip_inventory_pin_clear (pin);
              memset (pin, 0, sizeof *pin);
              continue;
            }
          ocip_error_release (&pin_err);
          pin->state = OCIP_GC_PIN_DAMAGED;
        }
      else
        ocip_inventory_check_pin (pin, exclusive);
      inv->n_pins++;
    }
  return 0;
}

/* ---- layers ---- */

/* Disk usage of a tree: st_blocks of every inode once.  */
struct usage
{
  uint64_t bytes;
  void *inodes; /* tsearch tree of the files with several links seen so far */
};

struct inode
{
  dev_t dev;
  ino_t ino;
};

static int
compare_inodes (const void *a, const void *b)
{
  const struct inode *x = a, *y = b;

  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Whether ST is seen for the first time.  */
static bool
first_sight (struct usage *u, const struct stat *st)
{
  struct inode *key = xmalloc (sizeof *key);
  struct inode **found;

  key->dev = st->st_dev;
  key->ino = st->st_ino;
  found = tsearch (key, &u->inodes, compare_inodes);
  if (found == NULL)
    abort (); /* out of memory */
  if (*found != key)
    {
      free (key);
      return false;
    }
  return true;
}

/* Add what is under the directory FD (borrowed) to U.  Depth is bounded by the tree,
   which oci-prep extracted under its own limits.  */
static int
usage_dir (struct usage *u, int fd, ocip_error_t *err)
{
  int dup_fd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *dir = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
  struct dirent *de;
  int r;

  if (dir == NULL)
    {
      int saved = errno;
      if (dup_fd >= 0)
        close (dup_fd);
      return ocip_error_set (err, saved, "read directory");
    }
  for (errno = 0; (de = readdir (dir)) != NULL; errno = 0)
    {
      cleanup_close int child = -1;
      struct stat st;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return ocip_error_set (err, errno, "stat '%s'", de->d_name);
      if (! S_ISDIR (st.st_mode) && st.st_nlink > 1 && ! first_sight (u, &st))
        continue;
      u->bytes += (uint64_t) st.st_blocks * 512;
      if (! S_ISDIR (st.st_mode))
        continue;
      child = openat (dirfd (dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0)
        return ocip_error_set (err, errno, "open '%s'", de->d_name);
      if ((r = usage_dir (u, child, err)) < 0)
        return ocip_error_wrap (err, "'%s'", de->d_name);
    }
  if (errno != 0)
    return ocip_error_set (err, errno, "read directory");
  return 0;
}

/* The disk usage of layers/NAME/diff.  */
static int
layer_usage (struct ocip_store *store, const char *name, uint64_t *ret, ocip_error_t *err)
{
  cleanup_free char *diff = xasprintf ("%s/diff", name);
  cleanup_close int fd = openat (store->layers_fd, diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct usage u = { 0 };
  struct stat st;
  int r;

  if (fd < 0)
    return ocip_error_set (err, errno, "open 'layers/%s'", diff);
  if (fstat (fd, &st) < 0)
    return ocip_error_set (err, errno, "stat 'layers/%s'", diff);
  u.bytes = (uint64_t) st.st_blocks * 512;
  r = usage_dir (&u, fd, err);
  tdestroy (u.inodes, free);
  if (r < 0)
    return ocip_error_wrap (err, "'layers/%s'", diff);
  *ret = u.bytes;
  return 0;
}

void
ocip_inventory_layer_clear (struct ocip_gc_layer *l)
{
  free (l->name);
  free (l->compressed_digest);
  free (l->media_type);
  free (l->content_digest);
  ocip_strv_free (l->chain_ids);
  ocip_strv_free (l->images);
  ocip_strv_free (l->bundles);
}

int
ocip_inventory_read_layer (struct ocip_store *store, struct ocip_gc_layer *l, ocip_error_t *err)
{
  struct ocip_layer_record rec = { 0 };
  size_t i;
  int r;

  if ((r = ocip_records_layer_read (store, &l->diff_id, &rec, err)) < 0)
    return r;
  for (i = 0; rec.chain_ids && rec.chain_ids[i]; i++)
    strv_add_unique (&l->chain_ids, rec.chain_ids[i]);
  l->compressed_digest = rec.compressed_digests && rec.compressed_digests[0] ? xstrdup (rec.compressed_digests[0])
                                                                             : NULL;
  l->media_type = steal_pointer (&rec.media_type);
  l->content_digest = steal_pointer (&rec.content_digest);
  l->content_format = rec.content_format;
  l->created = rec.created;
  l->size = rec.size;
  l->compressed_size = rec.compressed_size;
  l->entries = rec.entries;
  ocip_layer_record_clear (&rec);
  return 0;
}

/* Last use: the mtime of meta.json, which every load or bundle touches; without it,
   when the directory was committed.  */
static int64_t
last_used (struct ocip_store *store, const char *name, const struct stat *dir)
{
  cleanup_free char *path = xasprintf ("%s/meta.json", name);
  struct stat st;

  if (fstatat (store->layers_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return st.st_mtim.tv_sec;
  return dir->st_mtim.tv_sec;
}

static int
scan_layers (struct ocip_store *store, struct ocip_gc_inventory *inv, ocip_error_t *err)
{
  cleanup_strv char **names = NULL;
  size_t n, i;
  int r;

  if ((r = ocip_inventory_list_dir (store->dirfd, "layers", &names, &n, err)) < 0)
    return ocip_error_wrap (err, "store '%s'", store->path);
  inv->layers = xcalloc (n + 1, sizeof *inv->layers);
  for (i = 0; i < n; i++)
    {
      struct ocip_gc_layer *l = &inv->layers[inv->n_layers];
      ocip_error_t ignored = NULL;
      struct stat st;

      if (! ocip_store_layer_from_name (names[i], &l->diff_id)
          || fstatat (store->layers_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || ! S_ISDIR (st.st_mode))
        continue;
      l->name = xstrdup (names[i]);
      l->created = l->size = l->compressed_size = l->entries = -1;
      l->last_used = last_used (store, names[i], &st);
      if (ocip_inventory_read_layer (store, l, &ignored) < 0)
        ocip_error_release (&ignored);
      if (layer_usage (store, names[i], &l->disk_size, err) < 0)
        {
          bool gone = fstatat (store->layers_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
          ocip_inventory_layer_clear (l);
          if (! gone)
            return ocip_error_wrap (err, "store '%s'", store->path);
          ocip_error_release (err); /* removed meanwhile */
          memset (l, 0, sizeof *l);
          continue;
        }
      inv->n_layers++;
    }
  return 0;
}

static int
compare_layer_names (const void *a, const void *b)
{
  const struct ocip_gc_layer *x = a, *y = b;
  return strcmp (x->name, y->name);
}

static int
compare_lru (const void *a, const void *b)
{
  const struct ocip_gc_layer *x = a, *y = b;

  if (x->last_used != y->last_used)
    return x->last_used < y->last_used ? -1 : 1;
  return strcmp (x->name, y->name);
}

static struct ocip_gc_layer *
find_layer (struct ocip_gc_inventory *inv, const struct ocip_digest *diff_id)
{
  cleanup_free char *name = ocip_store_layer_name (diff_id);
  struct ocip_gc_layer key = { .name = name };

  return bsearch (&key, inv->layers, inv->n_layers, sizeof *inv->layers, compare_layer_names);
}

/* Count each protecting pin on its layers (once per layer), with the chainIDs, images
   and bundles it saw them in.  */
static void
link_pins (struct ocip_gc_inventory *inv)
{
  size_t i, j;

  qsort (inv->layers, inv->n_layers, sizeof *inv->layers, compare_layer_names);
  for (i = 0; i < inv->n_pins; i++)
    {
      const struct ocip_gc_pin *pin = &inv->pins[i];
      cleanup_free struct ocip_digest *diff_ids = NULL;
      cleanup_free struct ocip_digest *chain = NULL;
      size_t n = 0;

      if (! pin->protects || pin->layers == NULL)
        continue;
      while (pin->layers[n])
        n++;
      diff_ids = xcalloc (n + 1, sizeof *diff_ids);
      chain = xcalloc (n + 1, sizeof *chain);
      for (j = 0; j < n; j++)
        {
          ocip_error_t ignored = NULL;
          if (ocip_digest_parse (pin->layers[j], &diff_ids[j], &ignored) < 0)
            abort (); /* validated by the pin reader */
        }
      ocip_chain_ids (diff_ids, n, chain);
      for (j = 0; j < n; j++)
        {
          struct ocip_gc_layer *l = find_layer (inv, &diff_ids[j]);
          size_t k;

          if (l == NULL)
            continue;
          for (k = 0; k < j; k++)
            if (ocip_digest_equal (&diff_ids[k], &diff_ids[j]))
              break;
          if (k == j)
            l->n_pins++;
          strv_add_unique (&l->chain_ids, chain[j].str);
          if (pin->image)
            strv_add_unique (&l->images, pin->image);
          strv_add_unique (&l->bundles, pin->bundle);
        }
    }
}

int
ocip_inventory_scan (struct ocip_store *store, bool exclusive, struct ocip_gc_inventory **ret, ocip_error_t *err)
{
  struct ocip_gc_inventory *inv = xzalloc (sizeof *inv);
  ocip_error_t busy = NULL;
  bool locked_here = false;
  size_t i;
  int r;

  if (! exclusive)
    {
      locked_here = exclusive = ocip_store_lock_exclusive (store, false, &busy) == 0;
      ocip_error_release (&busy);
    }
  r = scan_pins (store, exclusive, inv, err);
  if (locked_here)
    ocip_store_unlock (store);
  if (r < 0 || (r = scan_layers (store, inv, err)) < 0)
    {
      ocip_gc_inventory_free (inv);
      return r;
    }
  link_pins (inv);
  qsort (inv->layers, inv->n_layers, sizeof *inv->layers, compare_lru);
  for (i = 0; i < inv->n_layers; i++)
    {
      inv->total_size += inv->layers[i].disk_size;
      if (inv->layers[i].n_pins)
        {
          inv->pinned_size += inv->layers[i].disk_size;
          inv->n_pinned++;
        }
    }
  *ret = inv;
  return 0;
}

int
ocip_gc_inventory (struct ocip_store *store, struct ocip_gc_inventory **ret, ocip_error_t *err)
{
  return ocip_inventory_scan (store, false, ret, err);
}

void
ocip_gc_inventory_free (struct ocip_gc_inventory *inv)
{
  size_t i;

  if (inv == NULL)
    return;
  for (i = 0; i < inv->n_layers; i++)
    ocip_inventory_layer_clear (&inv->layers[i]);
  for (i = 0; i < inv->n_pins; i++)
    ocip_inventory_pin_clear (&inv->pins[i]);
  free (inv->layers);
  free (inv->pins);
  free (inv);
}

/* ---- short links ---- */

enum ocip_inventory_link
ocip_inventory_classify_link (int links_fd, const char *name, const char **why)
{
  static const char prefix[] = "../layers/", suffix[] = "/diff";
  char target[256];
  struct ocip_digest d;
  struct stat st;
  ssize_t n;
  size_t len;

  if (fstatat (links_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return OCIP_INVENTORY_LINK_GONE;
  *why = "not a symbolic link";
  if (! S_ISLNK (st.st_mode))
    return OCIP_INVENTORY_LINK_FOREIGN;
  *why = "does not point at a layer's diff/ directory";
  n = readlinkat (links_fd, name, target, sizeof target - 1);
  if (n < 0)
    return OCIP_INVENTORY_LINK_FOREIGN;
  target[n] = '\0';
  len = (size_t) n;
  if (len <= strlen (prefix) + strlen (suffix) || strncmp (target, prefix, strlen (prefix)) != 0
      || strcmp (target + len - strlen (suffix), suffix) != 0)
    return OCIP_INVENTORY_LINK_FOREIGN;
  target[len - strlen (suffix)] = '\0';
  if (! ocip_store_layer_from_name (target + strlen (prefix), &d))
    return OCIP_INVENTORY_LINK_FOREIGN;
  *why = "is not named after its layer";
  if (strlen (name) < SHORT_LINK_MIN || strncmp (ocip_digest_hex (&d), name, strlen (name)) != 0)
    return OCIP_INVENTORY_LINK_FOREIGN;
  *why = "points at a layer that is not in the store";
  if (fstatat (links_fd, name, &st, 0) < 0 && errno == ENOENT)
    return OCIP_INVENTORY_LINK_DANGLING;
  return OCIP_INVENTORY_LINK_OK;
}
