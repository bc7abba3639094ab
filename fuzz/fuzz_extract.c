/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: a hostile layer tar applied with ocip_extract_tar, with sentinels that catch escapes. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "extract/extract.h"
#include "base/fsutil.h"
#include "rootfs/ovlformat.h"
#include "store/treehash.h"

#include "fuzz_common.h"

/* Every input is extracted into SCRATCH/root, a fresh directory on tmpfs, removed again
   afterwards.  DESIGN §5: nothing may create, change, chmod, chown or link anything
   outside it.  Sentinels watch the places an escape would reach:
     SCRATCH itself            must hold nothing but "sentinel" once root is removed;
     SCRATCH/sentinel/victim   a file next to the root ("../sentinel/victim");
     /dev/shm/ocip-fuzz-sentinel/victim  a fixed absolute path an image can name;
     "/" and "/etc"            a host path resolved outside the root.
   Any change of their inode, type, mode, owner, link count, size, mtime or ctime aborts.  */

#define SHARED_SENTINEL_DIR "/dev/shm/ocip-fuzz-sentinel"

struct watched
{
  const char *path; /* relative to DIRFD */
  int dirfd;
  struct stat st;
};

static int basefd = -1;
static struct watched watched[6];
static size_t n_watched;

static void
watch (int dirfd, const char *path)
{
  struct watched *w = &watched[n_watched++];

  w->dirfd = dirfd;
  w->path = path;
  if (fstatat (dirfd, path, &w->st, AT_SYMLINK_NOFOLLOW) < 0)
    fuzz_fail (__FILE__, __LINE__, "fstatat", "stat sentinel '%s': %s", path, strerror (errno));
}

static bool
same_time (struct timespec a, struct timespec b)
{
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void
check_sentinels (void)
{
  cleanup_dir DIR *dir = NULL;
  struct dirent *de;
  size_t i;
  int fd;

  for (i = 0; i < n_watched; i++)
    {
      const struct stat *a = &watched[i].st;
      struct stat b;
      FUZZ_CHECK (fstatat (watched[i].dirfd, watched[i].path, &b, AT_SYMLINK_NOFOLLOW) == 0,
                  "ESCAPE: sentinel '%s' is gone", watched[i].path);
      FUZZ_CHECK (a->st_ino == b.st_ino && a->st_mode == b.st_mode && a->st_uid == b.st_uid && a->st_gid == b.st_gid
                      && a->st_nlink == b.st_nlink && a->st_size == b.st_size && same_time (a->st_mtim, b.st_mtim)
                      && same_time (a->st_ctim, b.st_ctim),
                  "ESCAPE: sentinel '%s' changed (mode 0%o->0%o, owner %u:%u->%u:%u, links %lu->%lu, size %lld->%lld)",
                  watched[i].path, a->st_mode, b.st_mode, a->st_uid, a->st_gid, b.st_uid, b.st_gid,
                  (unsigned long) a->st_nlink, (unsigned long) b.st_nlink, (long long) a->st_size,
                  (long long) b.st_size);
    }

  /* Nothing but the sentinel is left beside the (removed) root.  */
  fd = openat (basefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  FUZZ_CHECK (fd >= 0, "open the scratch directory: %s", strerror (errno));
  dir = fdopendir (fd);
  FUZZ_CHECK (dir != NULL, "fdopendir: %s", strerror (errno));
  while ((de = readdir (dir)) != NULL)
    FUZZ_CHECK (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0
                    || strcmp (de->d_name, "sentinel") == 0,
                "ESCAPE: '%s' appeared beside the layer root", de->d_name);
}

static void
make_sentinel (int dirfd, const char *dir)
{
  cleanup_free char *victim = xasprintf ("%s/victim", dir);
  cleanup_free char *sub = xasprintf ("%s/dir", dir);
  struct timespec ts[2] = { { 1600000000, 123456789 }, { 1600000000, 123456789 } };

  if (mkdirat (dirfd, dir, 0755) < 0 && errno != EEXIST)
    fuzz_fail (__FILE__, __LINE__, "mkdirat", "create '%s': %s", dir, strerror (errno));
  if (faccessat (dirfd, victim, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    {
      fuzz_write_at (dirfd, victim, "SENTINEL\n", 9);
      utimensat (dirfd, victim, ts, AT_SYMLINK_NOFOLLOW);
    }
  if (mkdirat (dirfd, sub, 0755) == 0)
    utimensat (dirfd, sub, ts, AT_SYMLINK_NOFOLLOW);
  watch (dirfd, xstrdup (dir));
  watch (dirfd, xstrdup (victim));
}

struct source
{
  const uint8_t *data;
  size_t size, pos;
};

/* Hand the input over in uneven pieces, so that entries straddle reads.  */
static ssize_t
read_input (void *ctx, void *buf, size_t len, ocip_error_t *err)
{
  struct source *s = ctx;
  size_t n = s->size - s->pos;
  size_t piece = 1 + (s->pos * 2654435761u >> 7) % 65536;

  if (n > len)
    n = len;
  if (n > piece)
    n = piece;
  memcpy (buf, s->data + s->pos, n);
  s->pos += n;
  return n;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_scratch_dir ("extract", &basefd);
  fuzz_maybe_disable_openat2 ();
  make_sentinel (basefd, "sentinel");
  make_sentinel (AT_FDCWD, SHARED_SENTINEL_DIR);
  watch (AT_FDCWD, "/");
  watch (AT_FDCWD, "/etc");
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd_mark = fuzz_fd_mark ();
  struct source src = { data, size, 0 };
  struct ocip_extract_limits limits = { .max_bytes = 1ull << 30, .max_entries = 4096 };
  struct ocip_extract_stats stats = { 0 };
  ocip_error_t err = NULL;
  int rootfd;
  long r;

  if (mkdirat (basefd, "root", 0755) < 0)
    fuzz_fail (__FILE__, __LINE__, "mkdirat", "create the root: %s", strerror (errno));
  rootfd = openat (basefd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    fuzz_fail (__FILE__, __LINE__, "openat", "open the root: %s", strerror (errno));

  r = fuzz_check_result ("ocip_extract_tar",
                         ocip_extract_tar (rootfd, ocip_ovlformat_xattrs_for_process (), read_input, &src, &limits,
                                           &stats, &err),
                         &err);
  if (r == 0)
    {
      size_t i;

      FUZZ_CHECK (stats.entries <= limits.max_entries && stats.bytes <= limits.max_bytes,
                  "limits passed: %llu entries, %llu bytes", (unsigned long long) stats.entries,
                  (unsigned long long) stats.bytes);
      /* Implied directories: sorted, distinct, relative.  */
      for (i = 0; stats.implied_dirs && stats.implied_dirs[i]; i++)
        {
          FUZZ_CHECK (i == 0 || strcmp (stats.implied_dirs[i - 1], stats.implied_dirs[i]) < 0,
                      "implied directories not sorted or repeated: '%s', '%s'", stats.implied_dirs[i - 1],
                      stats.implied_dirs[i]);
          FUZZ_CHECK (stats.implied_dirs[i][0] != '\0' && stats.implied_dirs[i][0] != '/',
                      "implied directory '%s'", stats.implied_dirs[i]);
        }
      /* The content digests taken while writing are what reading the tree back gives
         (both walks may fail alike, say on fds for a very deep tree).  */
      {
        struct ocip_digest known, read_back;
        int with_known, without;

        with_known = ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_CURRENT, stats.contents,
                                    stats.n_contents, &known, &err);
        ocip_error_release (&err);
        without = ocip_treehash (rootfd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_CURRENT, NULL, 0, &read_back, &err);
        ocip_error_release (&err);
        FUZZ_CHECK (with_known == without, "tree digest: %d with the recorded contents, %d read back", with_known,
                    without);
        FUZZ_CHECK (with_known < 0 || strcmp (known.str, read_back.str) == 0,
                    "tree digest with the recorded contents '%s', read back '%s'", known.str, read_back.str);
      }
    }
  ocip_extract_stats_clear (&stats);
  close (rootfd);

  if (ocip_rmtree_at (basefd, "root", &err) < 0)
    fuzz_fail (__FILE__, __LINE__, "rmtree", "remove the extracted tree: %s", err->msg);
  check_sentinels ();
  fuzz_check_fds (fd_mark);
  return 0;
}
