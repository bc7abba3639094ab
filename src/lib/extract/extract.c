/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Secure application of a layer tar under a root fd, whiteouts in overlayfs format. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>


#include <oci-prep/cleanup.h>
#include "base/content.h"
#include "extract/extract.h"
#include "extract/libarchive.h"
#include "base/fsroot.h"
#include "base/fsutil.h"
#include "base/strv.h"
#include <oci-prep/limits.h>
#include "rootfs/ovlformat.h"

#define READ_BUFFER (128 * 1024)
/* Files from this size on hold most of a layer's bytes (in the benchmark's realistic
   image, the 574 files of 128 KiB or more are 69% of them): their writeback starts as
   soon as they are written, and every WRITEBACK_CHUNK bytes while they are.  */
#define EARLY_WRITEBACK_MIN (64 * 1024)
#define WRITEBACK_CHUNK (8 * 1024 * 1024)

/* A directory whose mtime is set once its children are in place.  */
struct dir_time
{
  char *path;
  struct timespec mtime;
};

struct extraction
{
  int rootfd;
  enum ocip_ovlformat_xattrs xattrs; /* overlayfs' metadata in trusted.* or user.* */
  const struct ocip_extract_limits *limits;
  struct ocip_extract_stats stats;
  ocip_extract_read_fn source;
  void *source_ctx;
  ocip_error_t source_err; /* an error of SOURCE, reported instead of libarchive's */
  char *buf;
  struct dir_time *dirs;
  size_t n_dirs;
  char **implied; /* directories created because an entry needed them */
  size_t n_implied, implied_capacity;
  struct ocip_content_hasher *content;
  struct ocip_file_content *contents; /* in creation order */
  size_t n_contents;
  char **skipped; /* device nodes a user namespace may not create, in entry order */
  size_t n_skipped;
};

void
ocip_extract_limits_default (struct ocip_extract_limits *limits)
{
  limits->max_bytes = OCIP_LIMIT_LAYER_BYTES;
  limits->max_entries = OCIP_LIMIT_LAYER_ENTRIES;
}

static la_ssize_t
archive_read_cb (struct archive *a, void *opaque, const void **ret)
{
  struct extraction *x = opaque;
  ssize_t n;

  n = x->source (x->source_ctx, x->buf, READ_BUFFER, &x->source_err);
  if (n < 0)
    {
      sym_archive_set_error (a, -n, "%s", x->source_err->msg);
      return -1;
    }
  *ret = x->buf;
  return n;
}

/* The whiteout NAME in PARENT becomes a directory (0755, as an implied one) that hides
   the layers below: ".wh.a" then "a/b/new" in one layer.  The whiteout deleted the lower
   "a", and a whiteout hides only lower layers (image-spec layer.md), so the layer's own
   "a/b/new" shows, in an "a" that has nothing else and none of the lower "a"'s
   metadata (so it is not recorded as implied).  */
static int
replace_whiteout (struct extraction *x, int parent, const char *name, const char *path, ocip_error_t *err)
{
  cleanup_close int fd = -1;

  if (unlinkat (parent, name, 0) < 0)
    return ocip_error_set (err, errno, "replace the whiteout '%s'", path);
  if (mkdirat (parent, name, 0755) < 0)
    return ocip_error_set (err, errno, "create directory '%s'", path);
  fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ocip_error_set (err, errno, "open directory '%s'", path);
  if (fchmod (fd, 0755) < 0)
    return ocip_error_set (err, errno, "create directory '%s': chmod", path);
  return ocip_ovlformat_set_opaque (fd, x->xattrs, path, err);
}

/* Whether a directory on the way to PATH is a whiteout of this layer (the layer's
   directory starts empty, so a whiteout found there was made by this layer).  */
static bool
under_whiteout (struct extraction *x, const char *path)
{
  cleanup_free char *prefix = xstrdup (path);
  char *slash = prefix;

  while ((slash = strchr (slash, '/')) != NULL)
    {
      cleanup_free char *name = NULL;
      cleanup_close int parent = -1;
      ocip_error_t ignored = NULL;

      *slash = '\0';
      parent = ocip_fsroot_open_parent (x->rootfd, prefix, &name, &ignored);
      ocip_error_release (&ignored);
      if (parent >= 0 && ocip_ovlformat_whiteout_at (parent, name))
        return true;
      *slash++ = '/';
    }
  return false;
}

/* Create the directory NAME in PARENT for an entry that needs it (PATH for messages and
   the record of implied directories).  It is 0755 whatever the umask: a layer in the
   store must not depend on who extracted it.  */
static int
make_implied_dir (struct extraction *x, int parent, const char *name, const char *path, ocip_error_t *err)
{
  if (mkdirat (parent, name, 0755) < 0 && errno != EEXIST)
    return ocip_error_set (err, errno, "create directory '%s'", path);
  if (fchmodat (parent, name, 0755, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
    return ocip_error_set (err, errno, "create directory '%s': chmod", path);
  x->implied = xgrowarray (x->implied, &x->implied_capacity, x->n_implied + 1, sizeof *x->implied);
  x->implied[x->n_implied++] = xstrdup (path);
  return 0;
}

/* From the component at FROM on, each prefix resolved inside the root on its own: the
   way through symlinks.  */
static int
make_parents_slow (struct extraction *x, const char *path, size_t from, ocip_error_t *err)
{
  cleanup_free char *prefix = xstrdup (path);
  char *slash = prefix + from;

  while ((slash = strchr (slash, '/')) != NULL)
    {
      cleanup_close int fd = -1;
      *slash = '\0';
      fd = ocip_fsroot_open (x->rootfd, prefix, O_PATH | O_DIRECTORY, 0, 0, err);
      if (fd < 0 && (*err)->status == ENOENT)
        {
          cleanup_free char *name = NULL;
          cleanup_close int parent = -1;
          int r;

          ocip_error_release (err);
          parent = ocip_fsroot_open_parent (x->rootfd, prefix, &name, err);
          if (parent < 0)
            return parent;
          if ((r = make_implied_dir (x, parent, name, prefix, err)) < 0)
            return r;
        }
      else if (fd < 0)
        {
          cleanup_free char *name = NULL;
          cleanup_close int parent = -1;
          int r;

          if ((*err)->status != ENOTDIR)
            return -(*err)->status;
          ocip_error_release (err);
          parent = ocip_fsroot_open_parent (x->rootfd, prefix, &name, err);
          if (parent >= 0 && ocip_ovlformat_whiteout_at (parent, name))
            {
              if ((r = replace_whiteout (x, parent, name, prefix, err)) < 0)
                return r;
            }
          else
            {
              if (parent < 0)
                ocip_error_release (err);
              return ocip_error_fail (err, ENOTDIR, "parent '%s' is not a directory", prefix);
            }
        }
      *slash++ = '/';
    }
  return 0;
}

/* Make every directory of PATH's parent exist inside the root, following existing
   symlinks within the root like the container would.  */
static int
make_parents (struct extraction *x, const char *path, ocip_error_t *err)
{
  cleanup_free char *prefix = xstrdup (path);
  cleanup_close int cur = openat (x->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  char *name = prefix, *slash;
  int r;

  if (cur < 0)
    return ocip_error_set (err, errno, "open the layer root");
  /* One step per component from the last directory, never following anything: linear
     in the depth.  A symlink on the way is resolved inside the root, once.  */
  while ((slash = strchr (name, '/')) != NULL)
    {
      int fd;

      *slash = '\0';
      fd = openat (cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        {
          if ((r = make_implied_dir (x, cur, name, prefix, err)) < 0)
            return r;
          fd = openat (cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      else if (fd < 0 && errno == ENOTDIR && ocip_ovlformat_whiteout_at (cur, name))
        {
          if ((r = replace_whiteout (x, cur, name, prefix, err)) < 0)
            return r;
          fd = openat (cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (fd < 0)
        {
          int saved = errno;
          struct stat st;

          if ((saved == ENOTDIR || saved == ELOOP) && fstatat (cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0
              && S_ISLNK (st.st_mode))
            {
              /* Resolve the symlink inside the root once and go on from where it leads;
                 one that dangles takes the per-prefix way (it creates nothing).  */
              fd = ocip_fsroot_open (x->rootfd, prefix, O_PATH | O_DIRECTORY, 0, 0, err);
              if (fd < 0)
                {
                  ocip_error_release (err);
                  *slash = '/';
                  return make_parents_slow (x, path, name - prefix, err);
                }
            }
          else if (saved == ENOTDIR)
            return ocip_error_fail (err, ENOTDIR, "parent '%s' is not a directory", prefix);
          else
            return ocip_error_set (err, saved, "open directory '%s'", prefix);
        }
      ocip_closep (&cur);
      cur = fd;
      *slash = '/';
      name = slash + 1;
    }
  return 0;
}

/* The parent of PATH as an O_PATH fd, created if missing; *RET_NAME its last component.  */
static int
open_parent (struct extraction *x, const char *path, char **ret_name, ocip_error_t *err)
{
  int fd = ocip_fsroot_open_parent (x->rootfd, path, ret_name, err);
  int r;

  /* ENOTDIR: a parent may be a whiteout of this layer, which make_parents replaces
     (and otherwise names).  */
  if (fd >= 0 || ((*err)->status != ENOENT && (*err)->status != ENOTDIR))
    return fd;
  ocip_error_release (err);
  if ((r = make_parents (x, path, err)) < 0)
    return r;
  return ocip_fsroot_open_parent (x->rootfd, path, ret_name, err);
}

/* Clear the way for a new entry NAME in PARENT: an existing entry is removed (a whole
   tree for a directory) unless both are directories.  Returns 1 when an existing
   directory is kept.  */
static int
make_room (int parent, const char *name, bool new_is_dir, const char *path, ocip_error_t *err)
{
  struct stat st;

  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return ocip_error_set (err, errno, "entry '%s': stat", path);
    }
  if (S_ISDIR (st.st_mode))
    {
      if (new_is_dir)
        return 1;
      return ocip_rmtree_at (parent, name, err);
    }
  if (unlinkat (parent, name, 0) < 0)
    return ocip_error_set (err, errno, "entry '%s': replace", path);
  return 0;
}

static bool
xattr_allowed (const char *name)
{
  /* security.selinux labels belong to the host's policy, not the image's; an image's
     own overlayfs xattrs would change how overlayfs reads this layer.  */
  return strcmp (name, "security.selinux") != 0 && ! ocip_ovlformat_is_overlay_xattr (name);
}

/* Set the entry's xattrs through FD, or, when FD is negative, on NAME in the directory
   PARENT_FD without following it (symlinks, devices and FIFOs are never opened).  */
static int
apply_xattrs (int fd, int parent_fd, const char *entry_name, struct archive_entry *entry, const char *path,
              ocip_error_t *err)
{
  const char *name;
  const void *value;
  size_t size;
  char at[PATH_MAX];

  if (fd < 0)
    snprintf (at, sizeof at, "/proc/self/fd/%d/%s", parent_fd, entry_name);

  sym_archive_entry_xattr_reset (entry);
  while (sym_archive_entry_xattr_next (entry, &name, &value, &size) == ARCHIVE_OK)
    {
      if (! xattr_allowed (name))
        continue;
      if (strlen (name) > OCIP_LIMIT_XATTR_NAME || size > OCIP_LIMIT_XATTR_VALUE)
        return ocip_error_fail (err, E2BIG, "entry '%s': xattr '%.64s' is over the size limit", path, name);
      if ((fd >= 0 ? fsetxattr (fd, name, value, size, 0) : lsetxattr (at, name, value, size, 0)) < 0)
        {
          /* trusted.* is root's of the initial user namespace only: a user's extraction
             leaves such image xattrs out, as umoci --rootless does, rather than fail
             the layer over metadata no user can hold.  */
          if (errno == EPERM && strncmp (name, "trusted.", 8) == 0
              && ocip_ovlformat_xattrs_for_process () == OCIP_OVLFORMAT_XATTRS_USER)
            continue;
          return ocip_error_set (err, errno, "entry '%s': set xattr '%.64s'", path, name);
        }
    }
  return 0;
}

static int
entry_owner (struct archive_entry *entry, const char *path, uid_t *uid, gid_t *gid, ocip_error_t *err)
{
  la_int64_t u = sym_archive_entry_uid (entry), g = sym_archive_entry_gid (entry);

  if (u < 0 || g < 0 || u > OCIP_LIMIT_ID || g > OCIP_LIMIT_ID)
    return ocip_error_fail (err, EINVAL, "entry '%s': owner %lld:%lld is out of range", path, (long long) u,
                           (long long) g);
  *uid = (uid_t) u;
  *gid = (gid_t) g;
  return 0;
}

static void
entry_times (struct archive_entry *entry, struct timespec ts[2])
{
  ts[1].tv_sec = sym_archive_entry_mtime (entry);
  ts[1].tv_nsec = sym_archive_entry_mtime_nsec (entry);
  if (sym_archive_entry_atime_is_set (entry))
    {
      ts[0].tv_sec = sym_archive_entry_atime (entry);
      ts[0].tv_nsec = sym_archive_entry_atime_nsec (entry);
    }
  else
    ts[0] = ts[1];
}

/* Owner, then mode (chown(2) clears setuid/setgid, so the mode goes second), then
   xattrs, all through FD, a real (not O_PATH) fd of the new file or directory, whose
   stat is ST.  A chown or chmod that would change nothing is skipped: each dirties the
   inode, and on a busy ext4 that is a good part of what a file costs.  */
static int
apply_metadata (int fd, const struct stat *st, struct archive_entry *entry, const char *path, ocip_error_t *err)
{
  mode_t want = sym_archive_entry_perm (entry) & 07777, now = st->st_mode & 07777;
  uid_t uid;
  gid_t gid;
  int r;

  if ((r = entry_owner (entry, path, &uid, &gid, err)) < 0)
    return r;
  if (st->st_uid != uid || st->st_gid != gid)
    {
      if (fchown (fd, uid, gid) < 0)
        return ocip_error_set (err, errno, "entry '%s': chown", path);
      if (! S_ISDIR (st->st_mode))
        now &= ~(mode_t) (S_ISUID | S_ISGID);
    }
  if (now != want && fchmod (fd, want) < 0)
    return ocip_error_set (err, errno, "entry '%s': chmod", path);
  return apply_xattrs (fd, -1, NULL, entry, path, err);
}

/* Start writing FD's bytes from *STARTED to END to disk now rather than at the caller's
   syncfs, so that the disk works while the rest of the layer is extracted.  Only a
   start: a failure here shows again in the syncfs that decides the commit, which also
   waits for these writes and writes the small files in one batch.  */
static void
start_writeback (int fd, la_int64_t *started, la_int64_t end)
{
  if (end > *started)
    (void) sync_file_range (fd, *started, end - *started, SYNC_FILE_RANGE_WRITE);
  *started = end;
}

/* Write the entry's data into FD, hashing it for the tree digest on the way (a sparse
   file's holes as zeros, in O(1)); the digest goes to *RET_DIGEST when the data arrived
   in order and covers the whole file, else *RET_DIGEST is empty (the tree digest reads
   the file back).  */
static int
write_data (struct extraction *x, struct archive *a, int fd, struct archive_entry *entry, const char *path,
            char ret_digest[OCIP_CONTENT_DIGEST_LEN + 1], ocip_error_t *err)
{
  const void *block;
  size_t size;
  la_int64_t offset, end = 0, started = 0;
  uint64_t written = 0;
  bool in_order = true;
  int r;

  while ((r = sym_archive_read_data_block (a, &block, &size, &offset)) == ARCHIVE_OK)
    {
      const char *p = block;
      if (offset < end)
        in_order = false;
      else if (in_order)
        {
          ocip_content_hasher_zeros (x->content, offset - end);
          ocip_content_hasher_update (x->content, block, size);
        }
      while (size > 0)
        {
          ssize_t n = pwrite (fd, p, size, offset);
          if (n < 0)
            {
              if (errno == EINTR)
                continue;
              return ocip_error_set (err, errno, "entry '%s': write", path);
            }
          p += n;
          offset += n;
          size -= n;
          written += n;
        }
      if (offset > end)
        end = offset;
      if (end - started >= WRITEBACK_CHUNK)
        start_writeback (fd, &started, end);
    }
  if (r != ARCHIVE_EOF)
    {
      if (x->source_err)
        return ocip_error_fail (err, x->source_err->status, "%s", x->source_err->msg);
      return ocip_error_fail (err, EBADMSG, "entry '%s': %s", path, sym_archive_error_string (a));
    }
  /* A sparse file may end in a hole.  */
  if (sym_archive_entry_size_is_set (entry) && sym_archive_entry_size (entry) != end)
    {
      if (sym_archive_entry_size (entry) < end)
        in_order = false;
      else
        ocip_content_hasher_zeros (x->content, sym_archive_entry_size (entry) - end);
      if (ftruncate (fd, sym_archive_entry_size (entry)) < 0)
        return ocip_error_set (err, errno, "entry '%s': truncate", path);
    }
  if (written >= EARLY_WRITEBACK_MIN)
    start_writeback (fd, &started, end);
  ocip_content_hasher_final (x->content, ret_digest);
  if (! in_order)
    *ret_digest = '\0';
  return 0;
}

/* Remember the content digest of the regular file (inode INO) for the tree digest.  */
static void
record_content (struct extraction *x, ino_t ino, const char *digest)
{
  if (*digest == '\0')
    return;
  if ((x->n_contents & (x->n_contents - 1)) == 0)
    x->contents = xreallocarray (x->contents, x->n_contents ? x->n_contents * 2 : 1, sizeof *x->contents);
  x->contents[x->n_contents].ino = ino;
  memcpy (x->contents[x->n_contents].digest, digest, OCIP_CONTENT_DIGEST_LEN + 1);
  x->n_contents++;
}

static int
create_regular (struct extraction *x, struct archive *a, int parent, const char *name,
                struct archive_entry *entry, const char *path, ocip_error_t *err)
{
  cleanup_close int fd = -1;
  mode_t perm = sym_archive_entry_perm (entry) & 0777;
  char digest[OCIP_CONTENT_DIGEST_LEN + 1];
  struct timespec ts[2];
  struct stat st;
  int r;

  /* Most names are new: try to create first, clear the way only when something is
     there (O_EXCL never writes through an existing entry, a symlink included).  Created
     with the entry's permission bits (less the umask), so that most files need no
     chmod; setuid and setgid bits come after the owner, in apply_metadata.  */
  fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
  if (fd < 0 && errno == EEXIST)
    {
      if ((r = make_room (parent, name, false, path, err)) < 0)
        return r;
      fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
    }
  if (fd < 0)
    return ocip_error_set (err, errno, "entry '%s': create", path);
  if (fstat (fd, &st) < 0)
    return ocip_error_set (err, errno, "entry '%s': stat", path);
  if ((r = write_data (x, a, fd, entry, path, digest, err)) < 0
      || (r = apply_metadata (fd, &st, entry, path, err)) < 0)
    return r;
  record_content (x, st.st_ino, digest);
  entry_times (entry, ts);
  if (futimens (fd, ts) < 0)
    return ocip_error_set (err, errno, "entry '%s': set times", path);
  return 0;
}

static void
defer_dir_time (struct extraction *x, const char *path, struct archive_entry *entry)
{
  struct timespec ts[2];

  entry_times (entry, ts);
  if ((x->n_dirs & (x->n_dirs - 1)) == 0)
    x->dirs = xreallocarray (x->dirs, x->n_dirs ? x->n_dirs * 2 : 1, sizeof *x->dirs);
  x->dirs[x->n_dirs].path = xstrdup (path);
  x->dirs[x->n_dirs].mtime = ts[1];
  x->n_dirs++;
}

static int
create_directory (struct extraction *x, int parent, const char *name, struct archive_entry *entry,
                  const char *path, ocip_error_t *err)
{
  cleanup_close int fd = -1;
  bool replaces_whiteout = ocip_ovlformat_whiteout_at (parent, name);
  struct stat st;
  int r;

  if ((r = make_room (parent, name, true, path, err)) < 0)
    return r;
  if (r == 0 && mkdirat (parent, name, sym_archive_entry_perm (entry) & 0777) < 0)
    return ocip_error_set (err, errno, "entry '%s': mkdir", path);
  fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ocip_error_set (err, errno, "entry '%s': open directory", path);
  if (fstat (fd, &st) < 0)
    return ocip_error_set (err, errno, "entry '%s': stat", path);
  if ((r = apply_metadata (fd, &st, entry, path, err)) < 0)
    return r;
  /* ".wh.a" then "a/": the lower "a" is deleted and this one is new, with nothing of
     the lower one in it.  */
  if (replaces_whiteout && (r = ocip_ovlformat_set_opaque (fd, x->xattrs, path, err)) < 0)
    return r;
  defer_dir_time (x, path, entry);
  return 0;
}

/* Symlinks, device nodes and FIFOs are never opened (opening a device has side
   effects): their owner, mode (not a symlink's, which has none), xattrs and times are
   set by name, without following it, on the entry NAME just created in PARENT, which
   only this process writes.  */
static int
set_metadata_by_name (int parent, const char *name, uid_t uid, gid_t gid, struct archive_entry *entry, const char *path,
                      ocip_error_t *err)
{
  struct timespec ts[2];
  int r;

  if (fchownat (parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return ocip_error_set (err, errno, "entry '%s': chown", path);
  if (sym_archive_entry_filetype (entry) != AE_IFLNK && fchmodat (parent, name, sym_archive_entry_perm (entry) & 07777, 0) < 0)
    return ocip_error_set (err, errno, "entry '%s': chmod", path);
  if ((r = apply_xattrs (-1, parent, name, entry, path, err)) < 0)
    return r;
  entry_times (entry, ts);
  if (utimensat (parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return ocip_error_set (err, errno, "entry '%s': set times", path);
  return 0;
}

static int
create_symlink (int parent, const char *name, struct archive_entry *entry, const char *path, ocip_error_t *err)
{
  const char *target = sym_archive_entry_symlink (entry);
  uid_t uid;
  gid_t gid;
  int r;

  /* The target is stored as is: it is only ever resolved inside a root (the container's,
     or ours through ocip_fsroot), never by the host.  */
  if (target == NULL || *target == '\0')
    return ocip_error_fail (err, EINVAL, "entry '%s': symlink with an empty target", path);
  if (strlen (target) > OCIP_LIMIT_LINK_TARGET)
    return ocip_error_fail (err, E2BIG, "entry '%s': symlink target is over %d bytes", path, OCIP_LIMIT_LINK_TARGET);
  if ((r = entry_owner (entry, path, &uid, &gid, err)) < 0 || (r = make_room (parent, name, false, path, err)) < 0)
    return r;
  if (symlinkat (target, parent, name) < 0)
    return ocip_error_set (err, errno, "entry '%s': symlink", path);
  return set_metadata_by_name (parent, name, uid, gid, entry, path, err);
}

/* A device node the kernel refuses in a user namespace (only root of the initial one
   may create devices, other than the 0/0 whiteout) is skipped and listed, as umoci
   --rootless does: a rootless container gets its /dev from the runtime, and an
   image's device nodes are almost always such leftovers.  Root's store never skips:
   there EPERM is a real error (a container without CAP_MKNOD).  */
static int
create_node (struct extraction *x, int parent, const char *name, mode_t type, dev_t dev,
             struct archive_entry *entry, const char *path, ocip_error_t *err)
{
  uid_t uid;
  gid_t gid;
  int r;

  if ((r = entry_owner (entry, path, &uid, &gid, err)) < 0 || (r = make_room (parent, name, false, path, err)) < 0)
    return r;
  if (mknodat (parent, name, type | 0600, dev) < 0)
    {
      if (errno == EPERM && type != S_IFIFO && x->xattrs == OCIP_OVLFORMAT_XATTRS_USER)
        {
          if (x->n_skipped % 16 == 0)
            x->skipped = xreallocarray (x->skipped, x->n_skipped + 17, sizeof *x->skipped);
          x->skipped[x->n_skipped++] = xstrdup (path);
          x->skipped[x->n_skipped] = NULL;
          return 0;
        }
      return ocip_error_set (err, errno, "entry '%s': mknod", path);
    }
  return set_metadata_by_name (parent, name, uid, gid, entry, path, err);
}

static int
create_hardlink (struct extraction *x, int parent, const char *name, struct archive_entry *entry,
                 const char *path, ocip_error_t *err)
{
  cleanup_free char *target = ocip_fsroot_clean_path (sym_archive_entry_hardlink (entry));
  cleanup_free char *target_name = NULL;
  cleanup_close int target_parent = -1;
  struct stat st;
  int r;

  if (target == NULL || *target == '\0')
    return ocip_error_fail (err, EXDEV, "entry '%s': hardlink target '%s' is outside the layer", path,
                           sym_archive_entry_hardlink (entry));
  /* A hardlink entry carrying data would have to write through the link into its
     target: refuse instead of guessing which of the two the writer meant.  */
  if (sym_archive_entry_size_is_set (entry) && sym_archive_entry_size (entry) > 0)
    return ocip_error_fail (err, EINVAL, "entry '%s': hardlink carries data", path);
  target_parent = ocip_fsroot_open_parent (x->rootfd, target, &target_name, err);
  if (target_parent < 0)
    return ocip_error_wrap (err, "entry '%s': hardlink target", path);
  if (fstatat (target_parent, target_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return ocip_error_set (err, errno, "entry '%s': hardlink target '%s' is not in this layer", path, target);
  if (S_ISDIR (st.st_mode))
    return ocip_error_fail (err, EPERM, "entry '%s': hardlink to the directory '%s'", path, target);
  if ((r = make_room (parent, name, false, path, err)) < 0)
    return r;
  /* No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself, and the
     entry's mode and owner are never applied through it (CVE-2021-32760).  */
  if (linkat (target_parent, target_name, parent, name, 0) < 0)
    return ocip_error_set (err, errno, "entry '%s': hardlink to '%s'", path, target);
  return 0;
}

/* ".wh..wh..opq" in DIR: mark DIR opaque.  */
static int
mark_opaque (struct extraction *x, const char *dir, ocip_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *probe = xasprintf ("%s%s%s", dir, *dir ? "/" : "", OCIP_OVLFORMAT_OPAQUE_MARKER);
  int r;

  if (*dir && (r = make_parents (x, probe, err)) < 0)
    return r;
  fd = ocip_fsroot_open (x->rootfd, dir, O_RDONLY | O_DIRECTORY, 0, OCIP_FSROOT_NOFOLLOW, err);
  if (fd < 0)
    return ocip_error_wrap (err, "opaque marker in '%s'", dir);
  return ocip_ovlformat_set_opaque (fd, x->xattrs, *dir ? dir : "/", err);
}

/* ".wh.NAME": a 0/0 character device NAME, overlayfs' whiteout.  A whiteout hides only
   the layers below (image-spec layer.md), never this layer's own NAME listed before it:
   a file, link or device of this layer hides the lower NAME by itself, a directory is
   made opaque, so that it keeps this layer's entries and shows none of the lower ones
   (as umoci keeps what the layer extracted and removes the rest).  */
static int
make_whiteout (struct extraction *x, int parent, const char *name, struct archive_entry *entry, const char *path, ocip_error_t *err)
{
  struct timespec ts[2];
  struct stat st;
  int r;

  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      cleanup_close int fd = -1;

      if (! S_ISDIR (st.st_mode))
        return 0;
      fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return ocip_error_set (err, errno, "whiteout '%s': open the directory", path);
      return ocip_ovlformat_set_opaque (fd, x->xattrs, path, err);
    }
  if (errno != ENOENT)
    return ocip_error_set (err, errno, "whiteout '%s': stat", path);
  if ((r = ocip_ovlformat_make_whiteout (parent, name, path, err)) < 0)
    return r;
  entry_times (entry, ts);
  if (utimensat (parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return ocip_error_set (err, errno, "whiteout '%s': set times", path);
  return 0;
}

static int
apply_root_entry (struct extraction *x, struct archive_entry *entry, const char *raw, ocip_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat st;

  /* A "." or "/" entry that is not a directory would replace the root with a symlink
     or file (umoci CVE-2021-29136).  */
  if (sym_archive_entry_filetype (entry) != AE_IFDIR || sym_archive_entry_hardlink (entry))
    return ocip_error_fail (err, EXDEV, "entry '%s' would replace the layer root", raw);
  fd = openat (x->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return ocip_error_set (err, errno, "entry '%s': open the layer root", raw);
  defer_dir_time (x, "", entry);
  return apply_metadata (fd, &st, entry, raw, err);
}

static int
apply_entry (struct extraction *x, struct archive *a, struct archive_entry *entry, ocip_error_t *err)
{
  const char *raw = sym_archive_entry_pathname (entry);
  cleanup_free char *path = NULL;
  cleanup_free char *name = NULL;
  cleanup_close int parent = -1;
  const char *base;

  if (raw == NULL || *raw == '\0')
    return ocip_error_fail (err, EINVAL, "entry without a name");
  if (strlen (raw) >= OCIP_LIMIT_PATH_LENGTH)
    return ocip_error_fail (err, ENAMETOOLONG, "entry '%.64s...' has a name over %d bytes", raw,
                           OCIP_LIMIT_PATH_LENGTH);
  if (++x->stats.entries > x->limits->max_entries)
    return ocip_error_fail (err, E2BIG, "layer has more than %llu entries",
                           (unsigned long long) x->limits->max_entries);
  if (sym_archive_entry_size_is_set (entry) && sym_archive_entry_size (entry) > 0 && ! sym_archive_entry_hardlink (entry))
    {
      x->stats.bytes += sym_archive_entry_size (entry);
      if (x->stats.bytes > x->limits->max_bytes)
        return ocip_error_fail (err, E2BIG, "entry '%s': the layer's files exceed %llu bytes", raw,
                               (unsigned long long) x->limits->max_bytes);
    }
  path = ocip_fsroot_clean_path (raw);
  if (path == NULL)
    return ocip_error_fail (err, EXDEV, "entry '%s' climbs above the layer root", raw);
  if (*path == '\0')
    return apply_root_entry (x, entry, raw, err);

  switch (ocip_ovlformat_classify (path, &base))
    {
    case OCIP_OVLFORMAT_CONTENT:
      break;
    case OCIP_OVLFORMAT_IGNORED:
      return 0; /* AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): meaningless here */
    case OCIP_OVLFORMAT_INVALID:
      return ocip_error_fail (err, EINVAL, "entry '%s': invalid whiteout", raw);
    case OCIP_OVLFORMAT_OPAQUE:
      path[base - path - (base > path ? 1 : 0)] = '\0';
      return mark_opaque (x, path, err);
    case OCIP_OVLFORMAT_WHITEOUT:
      {
        const char *target = base + strlen (OCIP_OVLFORMAT_WHITEOUT_PREFIX);
        cleanup_free char *victim = xasprintf ("%.*s%s", (int) (base - path), path, target);
        /* Under a whiteout of this layer ("a/.wh.b" after ".wh.a"): hidden already.  */
        parent = ocip_fsroot_open_parent (x->rootfd, victim, &name, err);
        if (parent < 0 && (*err)->status == ENOTDIR && under_whiteout (x, victim))
          {
            ocip_error_release (err);
            return 0;
          }
        if (parent < 0 && (*err)->status == ENOENT)
          {
            ocip_error_release (err);
            parent = open_parent (x, victim, &name, err);
          }
        if (parent < 0)
          return ocip_error_wrap (err, "whiteout '%s'", raw);
        return make_whiteout (x, parent, name, entry, victim, err);
      }
    }

  parent = open_parent (x, path, &name, err);
  if (parent < 0)
    return ocip_error_wrap (err, "entry '%s'", raw);

  if (sym_archive_entry_hardlink (entry))
    return create_hardlink (x, parent, name, entry, path, err);
  switch (sym_archive_entry_filetype (entry))
    {
    case AE_IFREG:
      return create_regular (x, a, parent, name, entry, path, err);
    case AE_IFDIR:
      return create_directory (x, parent, name, entry, path, err);
    case AE_IFLNK:
      return create_symlink (parent, name, entry, path, err);
    case AE_IFCHR:
    case AE_IFBLK:
      {
        dev_t dev = makedev (sym_archive_entry_rdevmajor (entry), sym_archive_entry_rdevminor (entry));
        if (major (dev) != sym_archive_entry_rdevmajor (entry) || minor (dev) != sym_archive_entry_rdevminor (entry))
          return ocip_error_fail (err, EINVAL, "entry '%s': device number out of range", raw);
        return create_node (x, parent, name, sym_archive_entry_filetype (entry) == AE_IFCHR ? S_IFCHR : S_IFBLK, dev,
                            entry, path, err);
      }
    case AE_IFIFO:
      return create_node (x, parent, name, S_IFIFO, 0, entry, path, err);
    default:
      return ocip_error_fail (err, EINVAL, "entry '%s': unsupported file type 0%o", raw,
                             (unsigned) sym_archive_entry_filetype (entry));
    }
}

/* Directory mtimes last: creating children changed them.  In entry order, so that a
   directory listed twice keeps the last entry's time.  A directory replaced by something
   else later in the layer is skipped.  */
static int
fix_dir_times (struct extraction *x, ocip_error_t *err)
{
  size_t i;

  for (i = 0; i < x->n_dirs; i++)
    {
      cleanup_close int fd = -1;
      struct timespec ts[2] = { x->dirs[i].mtime, x->dirs[i].mtime };
      ocip_error_t ignored = NULL;

      fd = ocip_fsroot_open (x->rootfd, x->dirs[i].path, O_RDONLY | O_DIRECTORY, 0, OCIP_FSROOT_NOFOLLOW, &ignored);
      if (fd < 0)
        {
          ocip_error_release (&ignored);
          continue;
        }
      if (futimens (fd, ts) < 0)
        return ocip_error_set (err, errno, "entry '%s': set times", x->dirs[i].path);
    }
  return 0;
}

/* The implied directories that no entry of the layer listed after all, sorted.  */
static char **
implied_dirs (struct extraction *x)
{
  cleanup_free char **listed = xcalloc (x->n_dirs + 1, sizeof *listed);
  char **out = xcalloc (x->n_implied + 1, sizeof *out);
  size_t i, n = 0;

  for (i = 0; i < x->n_dirs; i++)
    listed[i] = x->dirs[i].path;
  ocip_strv_sort (listed, x->n_dirs);
  ocip_strv_sort (x->implied, x->n_implied);
  for (i = 0; i < x->n_implied; i++)
    {
      if (n > 0 && strcmp (out[n - 1], x->implied[i]) == 0)
        continue;
      if (ocip_strv_sorted_has (listed, x->n_dirs, x->implied[i]))
        continue;
      out[n++] = xstrdup (x->implied[i]);
    }
  return out;
}

static int
compare_content_order (const void *a, const void *b, void *ctx)
{
  const struct ocip_file_content *contents = ctx;
  size_t i = *(const size_t *) a, j = *(const size_t *) b;

  if (contents[i].ino != contents[j].ino)
    return contents[i].ino < contents[j].ino ? -1 : 1;
  return i < j ? -1 : i > j;
}

/* The recorded contents sorted by inode number, one per inode: the last one recorded,
   as an inode freed by a replaced file can be reused by a later one.  */
static struct ocip_file_content *
file_contents (struct extraction *x, size_t *ret_n)
{
  cleanup_free size_t *order = xcalloc (x->n_contents + 1, sizeof *order);
  struct ocip_file_content *out = xcalloc (x->n_contents + 1, sizeof *out);
  size_t i, n = 0;

  for (i = 0; i < x->n_contents; i++)
    order[i] = i;
  if (x->n_contents > 0)
    qsort_r (order, x->n_contents, sizeof *order, compare_content_order, x->contents);
  for (i = 0; i < x->n_contents; i++)
    {
      const struct ocip_file_content *c = &x->contents[order[i]];
      if (n > 0 && out[n - 1].ino == c->ino)
        n--;
      out[n++] = *c;
    }
  *ret_n = n;
  return out;
}

void
ocip_extract_stats_clear (struct ocip_extract_stats *stats)
{
  ocip_strv_free (stats->implied_dirs);
  stats->implied_dirs = NULL;
  free (stats->contents);
  stats->contents = NULL;
  stats->n_contents = 0;
  ocip_strv_free (stats->skipped_devices);
  stats->skipped_devices = NULL;
}

int
ocip_extract_tar (int rootfd, enum ocip_ovlformat_xattrs xattrs, ocip_extract_read_fn source, void *source_ctx,
                  const struct ocip_extract_limits *limits, struct ocip_extract_stats *ret_stats,
                  ocip_error_t *err)
{
  struct extraction x
      = { .rootfd = rootfd, .xattrs = xattrs, .limits = limits, .source = source, .source_ctx = source_ctx };
  struct archive *a;
  struct archive_entry *entry;
  size_t i;
  int r = 0, ar;

  if ((r = ocip_libarchive_load (err)) < 0)
    return r;
  a = sym_archive_read_new ();
  if (a == NULL)
    abort ();
  x.buf = xmalloc (READ_BUFFER);
  x.content = ocip_content_hasher_new (OCIP_CONTENT_BLOCKS);
  /* Tar only (ustar, pax, GNU), no filters: decompression happened before, by media
     type, and nothing here may guess a format from content.  */
  sym_archive_read_support_format_tar (a);
  if (sym_archive_read_open (a, &x, NULL, archive_read_cb, NULL) != ARCHIVE_OK)
    {
      r = x.source_err ? ocip_error_fail (err, x.source_err->status, "%s", x.source_err->msg)
                       : ocip_error_fail (err, EBADMSG, "not a tar stream: %s", sym_archive_error_string (a));
      goto out;
    }
  while ((ar = sym_archive_read_next_header (a, &entry)) != ARCHIVE_EOF)
    {
      /* ARCHIVE_RETRY (a damaged header) comes with an empty entry: it is as fatal as
         ARCHIVE_FATAL here, never something to resynchronise past.  A warning is fatal
         too (a malformed pax record is half applied, an ACL header garbled), as in
         Docker's and containerd's readers, except a name libarchive could not convert
         to the locale's charset: it keeps the bytes, which is what we want.  */
      if (ar == ARCHIVE_WARN && sym_archive_error_string (a) && strstr (sym_archive_error_string (a), "convert"))
        ar = ARCHIVE_OK;
      if (ar != ARCHIVE_OK)
        {
          r = x.source_err ? ocip_error_fail (err, x.source_err->status, "%s", x.source_err->msg)
                           : ocip_error_fail (err, EBADMSG, "bad tar stream after %llu entries: %s",
                                             (unsigned long long) x.stats.entries, sym_archive_error_string (a));
          goto out;
        }
      if ((r = apply_entry (&x, a, entry, err)) < 0)
        goto out;
    }
  r = fix_dir_times (&x, err);
  if (r == 0 && ret_stats)
    {
      *ret_stats = x.stats;
      ret_stats->implied_dirs = implied_dirs (&x);
      ret_stats->contents = file_contents (&x, &ret_stats->n_contents);
      ret_stats->skipped_devices = steal_pointer (&x.skipped);
    }

out:
  sym_archive_read_free (a);
  for (i = 0; i < x.n_dirs; i++)
    free (x.dirs[i].path);
  free (x.dirs);
  for (i = 0; i < x.n_implied; i++)
    free (x.implied[i]);
  free (x.implied);
  free (x.contents);
  ocip_strv_free (x.skipped);
  ocip_content_hasher_free (x.content);
  free (x.buf);
  ocip_error_release (&x.source_err);
  return r;
}
