/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bundle: plan, load, assemble the rootfs, write config.json; and remove it again. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <oci-prep/bundle.h>
#include "base/context.h"
#include <oci-prep/cleanup.h>
#include "rootfs/flatten.h"
#include "base/fsroot.h"
#include "base/fsutil.h"
#include "base/idmap.h"
#include "base/strv.h"
#include <oci-prep/limits.h>
#include "rootfs/overlay.h"
#include "rootfs/ovlformat.h"
#include <oci-prep/plan.h>
#include <oci-prep/store.h>
#include "store/records.h"
#include "store/store_internal.h"

#define STATE_FILE OCIP_RECORDS_STATE_FILE
#define ROOTFS "rootfs"

/* What a bundle being built has done so far, so a failure can undo exactly that.  */
struct build
{
  const char *path;
  int parent_fd;
  char *name;
  int dirfd;
  bool created;      /* BUNDLE itself */
  mode_t old_mode;   /* of a BUNDLE that existed, given back on failure */
  bool state_dir;    /* BUNDLE/.oci-prep */
  char *rootfs_path; /* absolute, for the state */
  int rootfs_parent_fd;
  char *rootfs_name;
  bool rootfs_missing; /* to be created */
  bool rootfs_created;
  bool mounted;
  bool pinned;
  struct ocip_context *ctx;
  struct ocip_store *store;
  const char *engine_bundle; /* a hook's: recorded in the state */
  char id[33];
  struct ocip_idmap idmap; /* the container's mappings; empty: none */
  uint32_t auto_size;      /* --userns auto: the range's size, else 0 */
  int userns_fd;           /* carrying IDMAP, made when first needed */
  bool chowned;            /* BUNDLE given to the container's root (give_bundle) */
  int *mount_fds;          /* the detached ID-mapped layer mounts (idmap_layers) */
  size_t n_mount_fds;
};

/* The mapping the options ask for, into B (an auto range is chosen later, under the
   store lock): before anything is created, so bad input changes nothing.  */
static int
resolve_idmap (struct build *b, const struct ocip_bundle_options *opts, ocip_error_t *err)
{
  bool maps = (opts->uidmap && opts->uidmap[0]) || (opts->gidmap && opts->gidmap[0]);

  if (maps + (opts->userns != NULL) + (opts->idmap != NULL) > 1)
    return ocip_error_fail (err, EINVAL, "--userns auto, --uidmap/--gidmap: give one of them");
  if (opts->idmap)
    {
      ocip_idmap_copy (&b->idmap, opts->idmap);
      return 0;
    }
  if (opts->userns)
    {
      const char *p = opts->userns;
      char *end;
      unsigned long long n = OCIP_BUNDLE_AUTO_SIZE;

      if (strncmp (p, "auto", 4) != 0 || (p[4] != '\0' && strncmp (p + 4, ":size=", 6) != 0))
        return ocip_error_fail (err, EINVAL, "--userns '%s': only 'auto' and 'auto:size=N' are known", p);
      if (p[4] != '\0')
        {
          errno = 0;
          n = strtoull (p + 10, &end, 10);
          if (p[10] < '0' || p[10] > '9' || *end != '\0' || errno != 0 || n == 0 || n > OCIP_LIMIT_ID)
            return ocip_error_fail (err, EINVAL, "--userns '%s': the size is not a number from 1 to %u", p,
                                   OCIP_LIMIT_ID);
        }
      b->auto_size = (uint32_t) n;
      return 0;
    }
  return ocip_idmap_from_strings (opts->uidmap, opts->gidmap, &b->idmap, err);
}

/* --userns auto, under the store lock held exclusive: the lowest free host range of
   OCIP_BUNDLE_AUTO_USER's subordinate IDs, uid and gid each, mapped from container 0.
   "Free": held by no pin (every live bundle's mapping is in its pin).  */
static int
allocate_ids (struct build *b, ocip_error_t *err)
{
  struct ocip_idmap taken = { { 0 }, { 0 } };
  struct ocip_idmap_list subuid = { 0 }, subgid = { 0 };
  struct ocip_idmap_range u = { 0, 0, b->auto_size }, g = { 0, 0, b->auto_size };
  int r;

  if ((r = ocip_idmap_subid_ranges ("/etc/subuid", OCIP_BUNDLE_AUTO_USER, NULL, &subuid, err)) < 0
      || (r = ocip_idmap_subid_ranges ("/etc/subgid", OCIP_BUNDLE_AUTO_USER, NULL, &subgid, err)) < 0)
    r = ocip_error_wrap (err, "--userns auto: add subordinate IDs for the user '" OCIP_BUNDLE_AUTO_USER "'");
  else if ((r = ocip_records_pins_idmaps (b->store, &taken, err)) == 0
           && (r = ocip_idmap_find_free (&subuid, &taken.uid, b->auto_size, &u.host, err)) == 0
           && (r = ocip_idmap_find_free (&subgid, &taken.gid, b->auto_size, &g.host, err)) == 0
           && (r = ocip_idmap_list_add (&b->idmap.uid, &u, err)) == 0)
    r = ocip_idmap_list_add (&b->idmap.gid, &g, err);
  else if (r == -ENOSPC)
    ocip_error_wrap (err, "--userns auto: the subordinate IDs of '" OCIP_BUNDLE_AUTO_USER "' are all in use");
  free (subuid.v);
  free (subgid.v);
  ocip_idmap_clear (&taken);
  return r;
}

/* Replace each of the N layer fds in FDS by an ID-mapped view of it (B's mapping):
   stat through them shows the container's owners shifted to the host's, so the
   overlay's lowers, the upper's root, the implied directories and a flat copy all get
   shifted owners while the store keeps its own.  */
static int
idmap_layers (struct build *b, int *fds, size_t n, ocip_error_t *err)
{
  size_t i;

  if (ocip_idmap_is_empty (&b->idmap))
    return 0;
  if (b->userns_fd < 0 && (b->userns_fd = ocip_idmap_userns_fd (&b->idmap, err)) < 0)
    return b->userns_fd;
  b->mount_fds = xcalloc (n + 1, sizeof *b->mount_fds);
  for (i = 0; i < n; i++)
    {
      int fd = ocip_overlay_idmap_layer (fds[i], b->userns_fd, &b->mount_fds[b->n_mount_fds], err);
      if (fd < 0)
        return fd;
      b->n_mount_fds++;
      close (fds[i]);
      fds[i] = fd;
    }
  return 0;
}

static int
split_path (const char *path, int *ret_parent_fd, char **ret_name, ocip_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_free char *copy2 = xstrdup (path);
  const char *base = basename (copy);
  const char *dir = dirname (copy2);
  int fd;

  if (strcmp (base, "/") == 0 || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return ocip_error_fail (err, EINVAL, "bundle '%s': not a usable directory name", path);
  fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ocip_error_set (err, errno, "bundle '%s': open parent directory", path);
  *ret_parent_fd = fd;
  *ret_name = xstrdup (base);
  return 0;
}

/* Whether every entry of the directory DIRFD is one of NAMES, or a temporary file of
   ocip_write_file_at() for one of them (".NAME.tmp.PID").  */
static bool
only_entries (int dirfd, const char *const *names)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *de;

  if (dir == NULL)
    {
      if (fd >= 0)
        close (fd);
      return false;
    }
  while ((de = readdir (dir)) != NULL)
    {
      const char *const *n;
      bool known = strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0;

      for (n = names; *n && ! known; n++)
        {
          size_t len = strlen (*n);
          known = strcmp (de->d_name, *n) == 0
                  || (de->d_name[0] == '.' && strncmp (de->d_name + 1, *n, len) == 0
                      && strncmp (de->d_name + 1 + len, ".tmp.", 5) == 0);
        }
      if (! known)
        return false;
    }
  return true;
}

static bool
dir_is_empty (int dirfd)
{
  static const char *const none[] = { NULL };
  return only_entries (dirfd, none);
}

/* What a bundle killed before its state was written can hold: BUNDLE/.oci-prep, empty
   but for a state file being written (the state is written before anything else is
   made, see load_and_mount_rootfs()).  */
static bool
half_made (int dirfd)
{
  static const char *const top[] = { OCIP_BUNDLE_STATE_DIR, NULL };
  static const char *const inside[] = { "state.json", NULL };
  cleanup_close int state_dir = -1;

  if (! only_entries (dirfd, top))
    return false;
  state_dir = openat (dirfd, OCIP_BUNDLE_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return state_dir >= 0 && only_entries (state_dir, inside);
}

static bool
made_by_us (int dirfd)
{
  struct stat st;
  return (fstatat (dirfd, STATE_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode)) || half_made (dirfd);
}

static int remove_bundle (const char *bundle, bool lazy, bool unfinished, struct ocip_bundle_removal *ret,
                          ocip_error_t *err);

/* BUNDLE 0700 through its fd, whoever made it: the rootfs under it is mounted suid,dev
   (or copied with its modes), so any local user who could reach it could run the
   image's setuid-root programs (the CVE-2021-41091 class).  0700 rather than
   containerd's 0711 over a 0700 rootfs: an overlay's root shows the image's "/" mode,
   which oci-prep must not change, and only root (the runtime) needs to reach it.  A
   directory someone else owns is refused: its owner could open it up again.  */
static int
make_private (struct build *b, ocip_error_t *err)
{
  struct stat st;

  if (fstat (b->dirfd, &st) < 0)
    return ocip_error_set (err, errno, "stat the directory");
  if (st.st_uid != geteuid ())
    return ocip_error_fail (err, EPERM, "the directory belongs to uid %u, who could open it to other users",
                           (unsigned) st.st_uid);
  b->old_mode = st.st_mode & 07777;
  if ((st.st_mode & 07777) != 0700 && fchmod (b->dirfd, 0700) < 0)
    return ocip_error_set (err, errno, "make the directory 0700");
  return 0;
}

/* BUNDLE exists as an empty directory or is created; an oci-prep bundle is replaced
   only when forced; anything else is left alone.  */
static int
prepare_dir (struct build *b, bool force, ocip_error_t *err)
{
  struct stat st;
  int r;

  if ((r = split_path (b->path, &b->parent_fd, &b->name, err)) < 0)
    return r;
  if (fstatat (b->parent_fd, b->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (! S_ISDIR (st.st_mode))
        return ocip_error_fail (err, EEXIST, "it exists and is not a directory");
      b->dirfd = openat (b->parent_fd, b->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (b->dirfd < 0)
        return ocip_error_set (err, errno, "open the directory");
      if (dir_is_empty (b->dirfd))
        return make_private (b, err);
      if (! made_by_us (b->dirfd))
        return ocip_error_fail (err, EEXIST, "it is not empty (and was not made by oci-prep)");
      if (! force)
        return ocip_error_fail (err, EEXIST, "it exists: use --force to replace it");
      ocip_closep (&b->dirfd);
      /* An unfinished one too: a killed bundle is what --force is for.  */
      if ((r = remove_bundle (b->path, false, true, NULL, err)) < 0)
        return r;
    }
  else if (errno != ENOENT)
    return ocip_error_set (err, errno, "stat");
  if (mkdirat (b->parent_fd, b->name, 0700) < 0)
    return ocip_error_set (err, errno, "create the directory");
  b->created = true;
  b->dirfd = openat (b->parent_fd, b->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (b->dirfd < 0)
    return ocip_error_set (err, errno, "open the directory");
  return make_private (b, err);
}

static void
undo (struct build *b)
{
  ocip_error_t ignored = NULL;

  if (b->mounted && ocip_overlay_unmount (b->rootfs_parent_fd, b->rootfs_name, true, &ignored) < 0)
    ocip_error_release (&ignored);
  if (b->pinned && ocip_records_pin_remove (b->store, b->id, &ignored) < 0)
    ocip_error_release (&ignored);
  if (b->dirfd < 0 || (b->rootfs_name && ocip_overlay_is_mounted (b->rootfs_parent_fd, b->rootfs_name)))
    return; /* never remove through a mount that is still there */
  if (b->created)
    ocip_rmtree_at (b->parent_fd, b->name, &ignored);
  else
    {
      if (b->rootfs_created)
        ocip_rmtree_at (b->rootfs_parent_fd, b->rootfs_name, &ignored);
      ocip_error_release (&ignored);
      if (b->state_dir)
        ocip_rmtree_at (b->dirfd, OCIP_BUNDLE_STATE_DIR, &ignored);
      if (b->old_mode)
        fchmod (b->dirfd, b->old_mode);
      /* Best effort: the directory is empty again, whoever owns it.  */
      if (b->chowned)
        (void) ! fchown (b->dirfd, geteuid (), getegid ());
    }
  ocip_error_release (&ignored);
}

/* The context's store, opened before planning: on a first run it is created, so that
   the context's verified-blob cache, kept in it, learns the documents the plan
   verifies.  */
static int
open_store (struct build *b, ocip_error_t *err)
{
  if (b->store)
    return 0;
  return ocip_store_open (ocip_context_store_path (b->ctx), &b->store, err);
}

static void
build_clear (struct build *b)
{
  ocip_store_free (b->store);
  ocip_closep (&b->dirfd);
  ocip_closep (&b->parent_fd);
  ocip_closep (&b->rootfs_parent_fd);
  ocip_closep (&b->userns_fd);
  while (b->n_mount_fds > 0)
    ocip_closep (&b->mount_fds[--b->n_mount_fds]);
  free (b->mount_fds);
  ocip_idmap_clear (&b->idmap);
  free (b->name);
  free (b->rootfs_name);
  free (b->rootfs_path);
}

static void
new_id (char id[33])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char bytes[16];
  size_t i;

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    abort ();
  for (i = 0; i < sizeof bytes; i++)
    {
      id[2 * i] = hex[bytes[i] >> 4];
      id[2 * i + 1] = hex[bytes[i] & 15];
    }
  id[32] = '\0';
}

static char *
absolute (const char *path)
{
  char buf[PATH_MAX];
  return xstrdup (realpath (path, buf) ? buf : path);
}

/* The state of the bundle (and, as a pin, of the store): which store and layers.
   Strings are new (ocip_state_record_clear).  */
static void
state_record (const struct build *b, const struct ocip_plan *plan, bool flat, bool complete,
              struct ocip_state_record *rec)
{
  size_t i;

  *rec = (struct ocip_state_record){
    .id = xstrdup (b->id),
    .bundle = absolute (b->path),
    .store = absolute (ocip_store_path (b->store)),
    .image = xstrdup (plan->image),
    .manifest = xstrdup (plan->manifest_desc.digest.str),
    .flat = flat,
    .rootfs_path = xstrdup (b->rootfs_path),
    .rootfs_created = b->rootfs_created || b->rootfs_missing,
    /* false from before the first change until the bundle is whole: rm --force and
       bundle --force then know what a killed bundle may have left (a mount, a pin).  */
    .complete = complete,
    .created = (int64_t) time (NULL),
    .layers = xcalloc (plan->n_layers + 1, sizeof *rec->layers),
    .engine_bundle = b->engine_bundle ? xstrdup (b->engine_bundle) : NULL,
  };
  ocip_idmap_copy (&rec->idmap, &b->idmap);
  for (i = 0; i < plan->n_layers && ! flat; i++)
    rec->layers[i] = xstrdup (plan->layers[i].diff_id.str);
}

static int
load_layers (struct build *b, struct ocip_plan *plan, const struct ocip_bundle_options *opts,
             struct ocip_bundle_result *ret, ocip_error_t *err)
{
  struct ocip_load_report *report = NULL;
  size_t i;
  int r;

  if ((r = ocip_load (b->ctx, b->store, &plan, 1, &opts->load, &report, err)) < 0)
    return r;
  for (i = 0; i < report->n_layers; i++)
    {
      if (report->layers[i].state == OCIP_LOAD_EXTRACTED)
        ret->n_extracted++;
      if (report->layers[i].skipped_devices)
        {
          char **all = ocip_strv_concat (ret->skipped_devices, report->layers[i].skipped_devices);
          ocip_strv_free (ret->skipped_devices);
          ret->skipped_devices = all;
        }
      if (report->layers[i].error && r == 0)
        r = ocip_error_fail (err, report->layers[i].status, "%s", report->layers[i].error);
    }
  ocip_load_report_free (report);
  return r;
}

/* Open the layers' diff/ directories, bottom first.  */
static int
open_layers (struct build *b, const struct ocip_plan *plan, int *fds, ocip_error_t *err)
{
  size_t i;

  for (i = 0; i < plan->n_layers; i++)
    {
      cleanup_close int path_fd = ocip_store_open_layer (b->store, &plan->layers[i].diff_id, err);
      if (path_fd < 0)
        return path_fd;
      fds[i] = openat (path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fds[i] < 0)
        return ocip_error_set (err, errno, "layer '%s': open", plan->layers[i].diff_id.str);
    }
  return 0;
}

/* Collects an implied list into a vector.  */
struct implied_list
{
  char **v;
  size_t n, cap;
};

static int
add_implied (const char *path, void *ctx, ocip_error_t *err)
{
  struct implied_list *l = ctx;

  (void) err;
  if (l->n + 2 > l->cap)
    {
      l->cap = l->cap ? l->cap * 2 : 16;
      l->v = xreallocarray (l->v, l->cap, sizeof *l->v);
    }
  l->v[l->n++] = xstrdup (path);
  l->v[l->n] = NULL;
  return 0;
}

/* The directories each layer only implied (its layer record), bottom first: an array
   of N sorted, NULL-terminated vectors (NULL for none), owned by the caller.  */
static int
read_implied (struct build *b, const struct ocip_plan *plan, char ****ret, ocip_error_t *err)
{
  char ***implied = xcalloc (plan->n_layers + 1, sizeof *implied);
  size_t i;
  int r = 0;

  for (i = 0; i < plan->n_layers && r == 0; i++)
    {
      struct implied_list l = { 0 };

      r = ocip_records_layer_implied (b->store, &plan->layers[i].diff_id, add_implied, &l, err);
      implied[i] = l.v;
      if (r < 0)
        ocip_error_wrap (err, "layer '%s'", plan->layers[i].diff_id.str);
    }
  if (r < 0)
    {
      for (i = 0; i < plan->n_layers; i++)
        ocip_strv_free (implied[i]);
      free (implied);
      return r;
    }
  *ret = implied;
  return 0;
}

static void
free_implied (char ***implied, size_t n)
{
  size_t i;

  if (implied == NULL)
    return;
  for (i = 0; i < n; i++)
    ocip_strv_free (implied[i]);
  free (implied);
}

/* The implied directories' metadata, through the mount: the upper directory takes it.  */
static int
fix_implied_dirs (const struct build *b, const int *layer_fds, char ***implied, size_t n, ocip_error_t *err)
{
  cleanup_close int rootfd
      = openat (b->rootfs_parent_fd, b->rootfs_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (rootfd < 0)
    return ocip_error_set (err, errno, "open rootfs '%s'", b->rootfs_path);
  if (ocip_ovlformat_fix_implied_dirs (rootfd, layer_fds, (char *const *const *) implied, n, err) < 0)
    return ocip_error_wrap (err, "rootfs '%s'", b->rootfs_path);
  return 0;
}

static int
mkdir_in (int dirfd, const char *name, mode_t mode, ocip_error_t *err)
{
  cleanup_close int fd = -1;

  if (mkdirat (dirfd, name, mode) < 0)
    return ocip_error_set (err, errno, "create '%s'", name);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ocip_error_set (err, errno, "open '%s'", name);
  return steal_fd (&fd);
}

/* The rootfs as one overlay: lower layers top first, upper and work in .oci-prep.  */
static int
mount_overlay (struct build *b, const struct ocip_plan *plan, const int *layer_fds, ocip_error_t *err)
{
  size_t n = plan->n_layers ? plan->n_layers : 1, i, lowest;
  cleanup_free int *lowers = xcalloc (n, sizeof *lowers);
  cleanup_strv char **names = xcalloc (n + 1, sizeof *names);
  cleanup_close int upper = -1;
  cleanup_close int work = -1;
  cleanup_close int empty = -1;
  cleanup_close int target = -1;
  int base_fd = ocip_store_dirfd (b->store), r;
  bool mapped = ! ocip_idmap_is_empty (&b->idmap);
  uint32_t root_uid = 0, root_gid = 0;
  struct stat top;

  if ((upper = r = mkdir_in (b->dirfd, OCIP_BUNDLE_STATE_DIR "/upper", 0755, err)) < 0
      || (work = r = mkdir_in (b->dirfd, OCIP_BUNDLE_STATE_DIR "/work", 0700, err)) < 0)
    return r;
  if (plan->n_layers == 0)
    {
      if ((empty = r = mkdir_in (b->dirfd, OCIP_BUNDLE_STATE_DIR "/empty", 0755, err)) < 0)
        return r;
      lowers[0] = empty;
      names[0] = xstrdup (OCIP_BUNDLE_STATE_DIR "/empty");
      base_fd = b->dirfd;
    }
  /* Top first, down to the lowest layer the stack shows.  A layer that appears twice in
     the stack is stacked once, at its topmost place: overlayfs refuses a lower directory
     twice (ELOOP), and the higher copy shadows all the lower one would show.  */
  if (plan->n_layers > 0)
    n = 0;
  lowest = ocip_ovlformat_lowest_visible (layer_fds, plan->n_layers);
  for (i = plan->n_layers; i-- > lowest;)
    {
      size_t j;
      for (j = i + 1; j < plan->n_layers; j++)
        if (ocip_digest_equal (&plan->layers[j].diff_id, &plan->layers[i].diff_id))
          break;
      if (j < plan->n_layers)
        continue;
      lowers[n] = layer_fds[i];
      if (! mapped && (r = ocip_store_short_link (b->store, &plan->layers[i].diff_id, &names[n], err)) < 0)
        return r;
      n++;
    }
  /* The container's root owns upper and work: what it creates lands in the upper
     directory with its host IDs, and overlayfs checks work against the mounter.  */
  errno = 0;
  if (mapped
      && (! ocip_idmap_to_host (&b->idmap.uid, 0, &root_uid) || ! ocip_idmap_to_host (&b->idmap.gid, 0, &root_gid)
          || fchown (work, root_uid, root_gid) < 0 || (empty >= 0 && fchown (empty, root_uid, root_gid) < 0)))
    return ocip_error_set (err, errno ? errno : EINVAL,
                           "give upper and work to the container's root (is container ID 0 mapped?)");
  /* overlayfs shows the upper directory's attributes for "/": give it the top layer's.  */
  if (fstat (lowers[0], &top) < 0 || fchown (upper, top.st_uid, top.st_gid) < 0
      || fchmod (upper, top.st_mode & 07777) < 0 || futimens (upper, (struct timespec[]){ top.st_atim, top.st_mtim }) < 0)
    return ocip_error_set (err, errno, "prepare the upper directory");
  target = openat (b->rootfs_parent_fd, b->rootfs_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0)
    return ocip_error_set (err, errno, "open rootfs '%s'", b->rootfs_path);
  if ((r = ocip_overlay_mount (target, lowers, mapped ? NULL : (const char *const *) names, n, base_fd, upper, work,
                               ocip_store_xattrs (b->store), err))
      < 0)
    return r;
  b->mounted = true;
  return 0;
}

static int
copy_flat (struct build *b, const struct ocip_plan *plan, const int *layer_fds, char ***implied, ocip_error_t *err)
{
  cleanup_close int target
      = openat (b->rootfs_parent_fd, b->rootfs_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (target < 0)
    return ocip_error_set (err, errno, "open rootfs '%s'", b->rootfs_path);
  return ocip_flatten (target, layer_fds, (char *const *const *) implied, plan->n_layers, err);
}

static int
write_config (struct build *b, const struct ocip_plan *plan, const struct ocip_bundle_options *opts,
              struct ocip_bundle_result *ret, ocip_error_t *err)
{
  struct ocip_spec_options spec = opts->spec;
  cleanup_close int rootfd
      = openat (b->rootfs_parent_fd, b->rootfs_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct ocip_idmap own = { { 0 }, { 0 } };
  cleanup_spec struct ocip_spec *model = NULL;
  cleanup_free char *json = NULL;
  bool rootless = false;
  int r;

  if (rootfd < 0)
    return ocip_error_set (err, errno, "open rootfs '%s'", b->rootfs_path);
  spec.root_path = ROOTFS;
  if (! ocip_idmap_is_empty (&b->idmap))
    spec.idmap = &b->idmap;
  /* Made inside a user namespace (a user's, or one oci-prep entered for them): the
     rootfs holds that namespace's view of the owners, so the container gets a user
     namespace with the same mappings, which a rootless runtime (started by the user,
     outside it) sets up with newuidmap as this one was.  */
  else if (! ocip_idmap_in_initial_userns ())
    {
      if ((r = ocip_idmap_current (&own, err)) < 0)
        return ocip_error_wrap (err, "the user namespace's mappings for config.json");
      spec.idmap = &own;
      rootless = true;
    }
  r = ocip_spec_build (plan->config, rootfd, &spec, &model, err);
  ocip_idmap_clear (&own);
  if (r < 0)
    return r;
  /* A rootless runtime cannot set supplementary groups (runc refuses them outright:
     "cannot set any additional groups in a rootless container"): the user's container
     runs with its primary group only, as under runc's own rootless spec.  */
  if (rootless)
    model->process.user.n_additional_gids = 0;
  if ((r = ocip_spec_to_json (model, &json, err)) < 0)
    return r;
  ret->dropped_annotations = steal_pointer (&model->dropped_labels);
  return ocip_write_file_at (b->dirfd, "config.json", json, strlen (json), 0600, err);
}

static size_t
distinct_layers (const struct ocip_plan *plan)
{
  size_t i, j, n = 0;

  for (i = 0; i < plan->n_layers; i++)
    {
      for (j = 0; j < i; j++)
        if (ocip_digest_equal (&plan->layers[j].diff_id, &plan->layers[i].diff_id))
          break;
      n += j == i;
    }
  return n;
}

/* The rootfs directory when set_rootfs() found none.  0700: under the mount it is
   hidden, and a flat copy's "/" takes the image's mode from ocip_flatten().  */
static int
create_rootfs_dir (struct build *b, ocip_error_t *err)
{
  if (! b->rootfs_missing)
    return 0;
  if (mkdirat (b->rootfs_parent_fd, b->rootfs_name, 0700) < 0)
    return ocip_error_set (err, errno, "create rootfs '%s'", b->rootfs_path);
  b->rootfs_missing = false;
  b->rootfs_created = true;
  return 0;
}

/* Load PLAN's layers into the store, pin and mount them (or copy them, --flat) at the
   build's rootfs; record the state.  */
static int
load_and_mount_rootfs (struct build *b, struct ocip_plan *plan, const struct ocip_bundle_options *opts,
                       struct ocip_bundle_result *ret, ocip_error_t *err)
{
  cleanup_free int *layer_fds = NULL;
  struct ocip_state_record state = { 0 };
  char ***implied = NULL;
  size_t i;
  int r;

  /* Refuse before extracting what could never be mounted.  */
  if (! opts->flat && distinct_layers (plan) > OCIP_OVERLAY_MAX_LAYERS)
    return ocip_error_fail (err, E2BIG, "%zu layers are more than overlayfs stacks (%d): use --flat",
                           distinct_layers (plan), OCIP_OVERLAY_MAX_LAYERS);
  if (mkdirat (b->dirfd, OCIP_BUNDLE_STATE_DIR, 0700) < 0)
    return ocip_error_set (err, errno, "create '%s'", OCIP_BUNDLE_STATE_DIR);
  b->state_dir = true;
  /* Shared store lock from before the layers are looked for until the pin and the
     state are written: store gc cannot remove a layer this bundle is about to pin.
     --userns auto takes it exclusive until its range is pinned: no other bundle can
     be choosing one meanwhile.  */
  if ((r = open_store (b, err)) < 0
      || (r = b->auto_size ? ocip_store_lock_exclusive (b->store, true, err) : ocip_store_lock_shared (b->store, err))
             < 0)
    return r;
  new_id (b->id);
  /* The state first, marked unfinished, before the rootfs, the pin and the mount: a
     process killed from here on leaves a bundle that says what it may hold.  */
  state_record (b, plan, opts->flat, false, &state);
  r = ocip_records_state_write (b->dirfd, &state, err);
  ocip_state_record_clear (&state);
  if (r == 0 && b->auto_size)
    {
      /* The range is the pin's from here on (a flat bundle is pinned for it too);
         then the lock goes back to shared for the long part.  */
      if ((r = allocate_ids (b, err)) == 0)
        {
          state_record (b, plan, opts->flat, false, &state);
          if ((r = ocip_records_state_write (b->dirfd, &state, err)) == 0
              && (r = ocip_records_pin_write (b->store, &state, err)) == 0)
            b->pinned = true;
          ocip_state_record_clear (&state);
        }
      if (r == 0)
        r = ocip_store_lock_shared (b->store, err);
    }
  if (r < 0 || (r = create_rootfs_dir (b, err)) < 0 || (r = load_layers (b, plan, opts, ret, err)) < 0)
    return r;
  ret->n_layers = plan->n_layers;
  state_record (b, plan, opts->flat, true, &state);

  layer_fds = xcalloc (plan->n_layers + 1, sizeof *layer_fds);
  for (i = 0; i <= plan->n_layers; i++)
    layer_fds[i] = -1;
  r = open_layers (b, plan, layer_fds, err);
  if (r == 0)
    r = idmap_layers (b, layer_fds, plan->n_layers, err);
  if (r == 0)
    r = read_implied (b, plan, &implied, err);
  if (r == 0 && ! opts->flat)
    {
      if ((r = ocip_records_pin_write (b->store, &state, err)) == 0)
        {
          b->pinned = true;
          if ((r = mount_overlay (b, plan, layer_fds, err)) == 0)
            r = fix_implied_dirs (b, layer_fds, implied, plan->n_layers, err);
        }
    }
  else if (r == 0 && (r = copy_flat (b, plan, layer_fds, implied, err)) == 0 && b->pinned)
    r = ocip_records_pin_write (b->store, &state, err);
  free_implied (implied, plan->n_layers);
  for (i = 0; i < plan->n_layers; i++)
    ocip_closep (&layer_fds[i]);
  if (r == 0)
    r = ocip_records_state_write (b->dirfd, &state, err);
  ocip_state_record_clear (&state);
  if (r < 0)
    return r;
  ocip_store_unlock (b->store);
  ret->id = xstrdup (b->id);
  return 0;
}

/* ROOTFS (relative to the bundle, or absolute) as the build's rootfs: missing (then
   create_rootfs_dir() creates it), else it must be an empty directory.  */
static int
set_rootfs (struct build *b, const char *rootfs, bool may_be_used, ocip_error_t *err)
{
  cleanup_free char *bundle = absolute (b->path);
  struct stat st;
  int r;

  b->rootfs_path = rootfs[0] == '/' ? xstrdup (rootfs) : xasprintf ("%s/%s", bundle, rootfs);
  if ((r = split_path (b->rootfs_path, &b->rootfs_parent_fd, &b->rootfs_name, err)) < 0)
    return r;
  if (fstatat (b->rootfs_parent_fd, b->rootfs_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        return ocip_error_set (err, errno, "rootfs '%s'", b->rootfs_path);
      b->rootfs_missing = true;
      return 0;
    }
  if (! S_ISDIR (st.st_mode))
    return ocip_error_fail (err, ENOTDIR, "rootfs '%s' is not a directory", b->rootfs_path);
  if (may_be_used)
    return 0;
  {
    cleanup_close int fd = openat (b->rootfs_parent_fd, b->rootfs_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || ! dir_is_empty (fd))
      return ocip_error_set (err, fd < 0 ? errno : EEXIST, "rootfs '%s' is not an empty directory", b->rootfs_path);
  }
  return 0;
}

/* A container in a user namespace has its runtime bind-mount the rootfs from inside
   that namespace, whose root must be able to reach it: BUNDLE (0700) goes to the
   container's root rather than being opened to everyone, which would put the image's
   setuid files in other users' reach.  */
static int
give_bundle (struct build *b, ocip_error_t *err)
{
  uint32_t uid, gid;

  if (ocip_idmap_is_empty (&b->idmap))
    return 0;
  if (! ocip_idmap_to_host (&b->idmap.uid, 0, &uid) || ! ocip_idmap_to_host (&b->idmap.gid, 0, &gid))
    return ocip_error_fail (err, EINVAL, "the mapping has no container ID 0: its root could not reach the rootfs");
  if (fchown (b->dirfd, uid, gid) < 0)
    return ocip_error_set (err, errno, "give the directory to the container's root");
  b->chowned = true;
  return 0;
}

int
ocip_bundle_create (struct ocip_context *ctx, const char *image, const char *bundle,
                    const struct ocip_bundle_options *opts, struct ocip_bundle_result *ret, ocip_error_t *err)
{
  struct build b
      = { .path = bundle, .parent_fd = -1, .dirfd = -1, .rootfs_parent_fd = -1, .ctx = ctx, .userns_fd = -1 };
  struct ocip_bundle_result result = { 0 };
  cleanup_plan struct ocip_plan *plan = NULL;
  int r;

  if ((r = resolve_idmap (&b, opts, err)) == 0 && (r = open_store (&b, err)) == 0 && (r = ocip_plan_new (ctx, image, opts->platform, &plan, err)) == 0
      && (r = prepare_dir (&b, opts->force, err)) == 0 && (r = set_rootfs (&b, ROOTFS, false, err)) == 0
      && (r = load_and_mount_rootfs (&b, plan, opts, &result, err)) == 0 && (r = give_bundle (&b, err)) == 0)
    r = write_config (&b, plan, opts, &result, err);
  if (r < 0)
    {
      undo (&b);
      ocip_bundle_result_clear (&result);
      ocip_error_wrap (err, "bundle '%s'", bundle);
    }
  else
    {
      ocip_context_save (ctx);
      if (ret)
        *ret = result;
      else
        ocip_bundle_result_clear (&result);
    }
  build_clear (&b);
  return r;
}

int
ocip_bundle_prepare_rootfs (struct ocip_context *ctx, const char *image, const char *bundle, const char *rootfs,
                            const struct ocip_bundle_options *opts, struct ocip_plan **ret_plan, int *ret_rootfd,
                            ocip_error_t *err)
{
  struct build b
      = { .path = bundle, .parent_fd = -1, .dirfd = -1, .rootfs_parent_fd = -1, .ctx = ctx, .userns_fd = -1 };
  struct ocip_bundle_result result = { 0 };
  struct ocip_bundle_options overlay = *opts;
  cleanup_plan struct ocip_plan *plan = NULL;
  int r, rootfd = -1;

  overlay.flat = false;
  b.engine_bundle = opts->engine_bundle;
  b.dirfd = open (bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (b.dirfd < 0)
    r = ocip_error_set (err, errno, "open the directory");
  else if ((r = resolve_idmap (&b, opts, err)) < 0)
    ;
  else if ((r = open_store (&b, err)) == 0 && (r = ocip_plan_new (ctx, image, opts->platform, &plan, err)) == 0
           && (r = set_rootfs (&b, rootfs, true, err)) == 0
           && (r = load_and_mount_rootfs (&b, plan, &overlay, &result, err)) == 0)
    {
      rootfd = openat (b.rootfs_parent_fd, b.rootfs_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (rootfd < 0)
        r = ocip_error_set (err, errno, "open rootfs '%s'", b.rootfs_path);
    }
  if (r < 0)
    {
      undo (&b);
      ocip_error_wrap (err, "bundle '%s'", bundle);
    }
  else
    {
      ocip_context_save (ctx);
      *ret_plan = steal_pointer (&plan);
      *ret_rootfd = rootfd;
    }
  ocip_bundle_result_clear (&result);
  build_clear (&b);
  return r;
}


void
ocip_bundle_result_clear (struct ocip_bundle_result *r)
{
  free (r->id);
  r->id = NULL;
  ocip_strv_free (r->dropped_annotations);
  r->dropped_annotations = NULL;
  ocip_strv_free (r->skipped_devices);
  r->skipped_devices = NULL;
}

/* Read BUNDLE's state: 0, or ENOENT when there is none, or another error.  */
static int
read_state (int dirfd, const char *path, struct ocip_state_record *ret, ocip_error_t *err)
{
  int r = ocip_records_state_read (dirfd, ret, err);

  return r < 0 ? ocip_error_wrap (err, "bundle '%s'", path) : 0;
}

/* Unmount the recorded rootfs, unpin, remove the state directory.  */
static int
release (int dirfd, const char *path, const struct ocip_state_record *st, bool lazy, ocip_error_t *err)
{
  cleanup_store struct ocip_store *store = NULL;
  cleanup_free char *rootfs_name = NULL;
  cleanup_close int rootfs_parent = -1;
  int r;

  if (! st->flat)
    {
      if ((r = split_path (st->rootfs_path, &rootfs_parent, &rootfs_name, err)) < 0)
        return r;
      if ((r = ocip_overlay_unmount (rootfs_parent, rootfs_name, lazy, err)) < 0)
        return ocip_error_wrap (err, "bundle '%s'", path);
      if (ocip_overlay_is_mounted (rootfs_parent, rootfs_name))
        return ocip_error_fail (err, EBUSY, "bundle '%s': rootfs '%s' is still mounted", path, st->rootfs_path);
    }
  /* A flat copy is pinned only for an ID range (--userns auto), which its removal
     gives back.  */
  if (! st->flat || ! ocip_idmap_is_empty (&st->idmap))
    {
      /* The store may be gone; the bundle can still be released.  */
      if (access (st->store, F_OK) == 0
          && ((r = ocip_store_open (st->store, &store, err)) < 0
              || (r = ocip_records_pin_remove (store, st->id, err)) < 0))
        return ocip_error_wrap (err, "bundle '%s'", path);
    }
  if ((r = ocip_rmtree_at (dirfd, OCIP_BUNDLE_STATE_DIR, err)) < 0)
    return ocip_error_wrap (err, "bundle '%s'", path);
  /* A rootfs directory made for the mount goes with it (only if empty: it is the
     engine's to fill otherwise).  */
  if (st->rootfs_created && rootfs_parent >= 0)
    unlinkat (rootfs_parent, rootfs_name, AT_REMOVEDIR);
  return 0;
}

int
ocip_bundle_release (const char *bundle, bool lazy, ocip_error_t *err)
{
  cleanup_close int dirfd = open (bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct ocip_state_record st = { 0 };
  int r;

  if (dirfd < 0)
    return errno == ENOENT ? 0 : ocip_error_set (err, errno, "open bundle '%s'", bundle);
  if ((r = read_state (dirfd, bundle, &st, err)) < 0)
    {
      if ((*err)->status != ENOENT)
        return r;
      ocip_error_release (err);
      return 0;
    }
  r = release (dirfd, bundle, &st, lazy, err);
  ocip_state_record_clear (&st);
  return r;
}

/* Remove BUNDLE; LAZY: detach a busy mount; UNFINISHED: also a bundle whose creation
   never finished (a killed oci-prep), which is otherwise refused since it may be
   one being made right now.  */
static int
remove_bundle (const char *bundle, bool lazy, bool unfinished, struct ocip_bundle_removal *ret, ocip_error_t *err)
{
  struct ocip_bundle_removal removal = { 0 };
  cleanup_close int parent = -1;
  cleanup_close int dirfd = -1;
  cleanup_free char *name = NULL;
  struct ocip_state_record st = { 0 };
  int r;

  if ((r = split_path (bundle, &parent, &name, err)) < 0)
    return r;
  dirfd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0)
    return ocip_error_set (err, errno, "open bundle '%s'", bundle);
  if ((r = read_state (dirfd, bundle, &st, err)) < 0)
    {
      if ((*err)->status != ENOENT)
        return r;
      ocip_error_release (err);
      /* Killed before its state was written: nothing else was made yet.  */
      if (! half_made (dirfd))
        return ocip_error_fail (err, EINVAL, "'%s' was not made by oci-prep (no %s)", bundle, STATE_FILE);
      if (! unfinished)
        return ocip_error_fail (err, EBUSY,
                               "bundle '%s': its creation did not finish (no state recorded yet): use --force "
                               "to remove it",
                               bundle);
    }
  else
    {
      if (! st.complete && ! unfinished)
        {
          ocip_state_record_clear (&st);
          return ocip_error_fail (err, EBUSY,
                                 "bundle '%s': its creation did not finish (interrupted, or still running): use "
                                 "--force to remove it",
                                 bundle);
        }
      r = release (dirfd, bundle, &st, lazy, err);
      if (r == 0)
        {
          removal.id = steal_pointer (&st.id);
          removal.store = steal_pointer (&st.store);
          removal.flat = st.flat;
          for (removal.n_layers = 0; st.layers && st.layers[removal.n_layers]; removal.n_layers++)
            ;
        }
      ocip_state_record_clear (&st);
      if (r < 0)
        return r;
    }
  if ((r = ocip_rmtree_at (parent, name, err)) < 0)
    {
      ocip_bundle_removal_clear (&removal);
      return ocip_error_wrap (err, "bundle '%s'", bundle);
    }
  if (ret)
    *ret = removal;
  else
    ocip_bundle_removal_clear (&removal);
  return 0;
}

int
ocip_bundle_remove (const char *bundle, bool force, struct ocip_bundle_removal *ret, ocip_error_t *err)
{
  return remove_bundle (bundle, force, force, ret, err);
}

void
ocip_bundle_removal_clear (struct ocip_bundle_removal *r)
{
  free (r->id);
  free (r->store);
  r->id = r->store = NULL;
}
