/* SPDX-License-Identifier: GPL-2.0-or-later */
/* treehash: one digest over a directory tree's content and metadata, walked canonically. */
#include "config.h"

#include <dirent.h>
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
#include <oci-prep/limits.h>
#include "store/treehash.h"

/* Changing what a record holds changes every digest: add a format with it (the first line
   digested names the format).  */
#define FORMAT_LINE "oci-prep treehash %d\n"
#define READ_BUFFER (128 * 1024)

struct walk
{
  enum ocip_digest_alg alg;
  enum ocip_treehash_format format;
  const struct ocip_file_content *known; /* sorted by inode number */
  size_t n_known;
  struct ocip_hasher *hasher;
  char *buf;  /* READ_BUFFER bytes: file content, xattr values, link targets */
  char *path; /* of the current entry, relative: ".", "./etc", "./etc/passwd" */
  size_t path_len, path_cap;
};

/* A record is a sequence of NUL-terminated fields (no field but an xattr value, which
   is preceded by its length, can hold a NUL) closed by a newline.  */
static void
put_string (struct walk *w, const char *s)
{
  ocip_hasher_update (w->hasher, s, strlen (s) + 1);
}

static void
put_number (struct walk *w, unsigned long long v)
{
  char text[32];
  int n = snprintf (text, sizeof text, "%llu", v);

  ocip_hasher_update (w->hasher, text, n + 1);
}

static void
path_push (struct walk *w, const char *name)
{
  size_t len = strlen (name);

  if (w->path_len + len + 2 > w->path_cap)
    {
      w->path_cap = (w->path_len + len + 2) * 2;
      w->path = xrealloc (w->path, w->path_cap);
    }
  w->path[w->path_len] = '/';
  memcpy (w->path + w->path_len + 1, name, len + 1);
  w->path_len += len + 1;
}

static void
path_pop (struct walk *w)
{
  while (w->path_len > 1 && w->path[w->path_len - 1] != '/')
    w->path_len--;
  w->path_len--;
  w->path[w->path_len] = '\0';
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The extended attributes of the entry, through FD, or, when FD is negative, of NAME
   in the directory PARENT_FD without following it.  */
static int
put_xattrs (struct walk *w, int fd, int parent_fd, const char *name, ocip_error_t *err)
{
  cleanup_free char *list = NULL;
  cleanup_free char **names = NULL;
  char at[PATH_MAX];
  size_t n = 0, i;
  ssize_t len;
  char *p;

  if (fd < 0)
    snprintf (at, sizeof at, "/proc/self/fd/%d/%s", parent_fd, name);
  len = fd >= 0 ? flistxattr (fd, NULL, 0) : llistxattr (at, NULL, 0);
  if (len < 0 && errno != ENOTSUP)
    return ocip_error_set (err, errno, "'%s': list xattrs", w->path);
  if (len > 0)
    {
      list = xmalloc (len);
      len = fd >= 0 ? flistxattr (fd, list, len) : llistxattr (at, list, len);
      if (len < 0)
        return ocip_error_set (err, errno, "'%s': list xattrs", w->path);
      names = xcalloc (len, sizeof *names);
      for (p = list; p < list + len; p += strlen (p) + 1)
        if (strcmp (p, "security.selinux") != 0)
          names[n++] = p;
      qsort (names, n, sizeof *names, compare_names);
    }
  put_number (w, n);
  for (i = 0; i < n; i++)
    {
      ssize_t size = fd >= 0 ? fgetxattr (fd, names[i], w->buf, READ_BUFFER)
                             : lgetxattr (at, names[i], w->buf, READ_BUFFER);
      if (size < 0)
        return ocip_error_set (err, errno == ERANGE ? E2BIG : errno, "'%s': read xattr '%s'", w->path, names[i]);
      put_string (w, names[i]);
      put_number (w, size);
      ocip_hasher_update (w->hasher, w->buf, size);
    }
  return 0;
}

static int
compare_ino (const void *key, const void *elem)
{
  ino_t a = *(const ino_t *) key, b = ((const struct ocip_file_content *) elem)->ino;
  return a < b ? -1 : a > b;
}

/* The bytes of FD from OFF to END (a data segment), into SHA or XXH; a file shorter than
   its stat said ends early (and then hashes differently).  */
static int
put_segment (struct walk *w, int fd, off_t off, off_t end, struct ocip_hasher *sha,
             struct ocip_content_hasher *xxh, ocip_error_t *err)
{
  while (off < end)
    {
      size_t want = end - off < READ_BUFFER ? (size_t) (end - off) : READ_BUFFER;
      ssize_t n = pread (fd, w->buf, want, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ocip_error_set (err, errno, "'%s': read", w->path);
      if (n == 0)
        break;
      if (sha)
        ocip_hasher_update (sha, w->buf, n);
      else
        ocip_content_hasher_update (xxh, w->buf, n);
      off += n;
    }
  return 0;
}

/* LEN zero bytes (a hole) into SHA or XXH, without reading them.  */
static void
put_hole (struct walk *w, uint64_t len, struct ocip_hasher *sha, struct ocip_content_hasher *xxh)
{
  if (xxh)
    {
      ocip_content_hasher_zeros (xxh, len);
      return;
    }
  memset (w->buf, 0, READ_BUFFER);
  while (len > 0)
    {
      size_t n = len < READ_BUFFER ? (size_t) len : READ_BUFFER;
      ocip_hasher_update (sha, w->buf, n);
      len -= n;
    }
}

/* The digest of the regular file FD's content (inode INO, SIZE bytes), as text:
   format 1 a digest with the walk's algorithm, format 2 XXH3-128 of the bytes, format 3
   XXH3-128 of its blocks (OCIP_CONTENT_BLOCKS), taken from the known ones when it is
   there.  Only the data segments are read (SEEK_DATA/SEEK_HOLE; a filesystem without
   them reports the whole file as data): a hole is known to read as zeros, so a sparse
   file costs its data, not its size (in format 3, also in hashing time).  */
static int
put_content (struct walk *w, int fd, ino_t ino, off_t size, ocip_error_t *err)
{
  cleanup_hasher struct ocip_hasher *sha = NULL;
  cleanup_content_hasher struct ocip_content_hasher *xxh = NULL;
  char text[OCIP_CONTENT_DIGEST_LEN + 1];
  struct ocip_digest d;
  off_t off = 0;
  int r;

  if (w->n_known > 0)
    {
      const struct ocip_file_content *c = bsearch (&ino, w->known, w->n_known, sizeof *w->known, compare_ino);
      if (c)
        {
          put_string (w, c->digest);
          return 0;
        }
    }
  if (w->format == OCIP_TREEHASH_FORMAT_1)
    sha = ocip_hasher_new (w->alg);
  else
    xxh = ocip_content_hasher_new (w->format == OCIP_TREEHASH_FORMAT_2 ? OCIP_CONTENT_PLAIN : OCIP_CONTENT_BLOCKS);
  while (off < size)
    {
      off_t data = lseek (fd, off, SEEK_DATA), hole;

      if (data < 0 && errno != ENXIO)
        return ocip_error_set (err, errno, "'%s': seek", w->path);
      if (data < 0 || data > size)
        data = size; /* only a hole is left */
      put_hole (w, data - off, sha, xxh);
      if (data == size)
        break;
      hole = lseek (fd, data, SEEK_HOLE);
      if (hole < 0)
        return ocip_error_set (err, errno, "'%s': seek", w->path);
      if (hole > size)
        hole = size;
      if ((r = put_segment (w, fd, data, hole, sha, xxh, err)) < 0)
        return r;
      off = hole;
    }
  if (sha)
    {
      ocip_hasher_final (sha, &d);
      put_string (w, d.str);
    }
  else
    {
      ocip_content_hasher_final (xxh, text);
      put_string (w, text);
    }
  return 0;
}

static char
type_char (mode_t mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFDIR:
      return 'd';
    case S_IFREG:
      return 'f';
    case S_IFLNK:
      return 'l';
    case S_IFCHR:
      return 'c';
    case S_IFBLK:
      return 'b';
    case S_IFIFO:
      return 'p';
    case S_IFSOCK:
      return 's';
    default:
      return 0;
    }
}

/* One record for the entry ST at the current path: FD is an open fd of it (directory or
   regular file), or negative, and then it is NAME in PARENT_FD.  */
static int
put_entry (struct walk *w, int fd, int parent_fd, const char *name, const struct stat *st, ocip_error_t *err)
{
  char type;
  int r;

  if ((type = type_char (st->st_mode)) == 0)
    return ocip_error_fail (err, EINVAL, "'%s': unknown file type %o", w->path, (unsigned) (st->st_mode & S_IFMT));
  put_string (w, w->path);
  ocip_hasher_update (w->hasher, &type, 1);
  put_number (w, st->st_mode & 07777);
  put_number (w, st->st_uid);
  put_number (w, st->st_gid);
  put_number (w, S_ISREG (st->st_mode) || S_ISLNK (st->st_mode) ? (unsigned long long) st->st_size : 0);
  put_number (w, S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode) ? major (st->st_rdev) : 0);
  put_number (w, S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode) ? minor (st->st_rdev) : 0);
  if (S_ISLNK (st->st_mode))
    {
      ssize_t n = readlinkat (parent_fd, name, w->buf, OCIP_LIMIT_LINK_TARGET + 1);
      if (n < 0)
        return ocip_error_set (err, errno, "'%s': read link", w->path);
      if (n > OCIP_LIMIT_LINK_TARGET)
        return ocip_error_fail (err, E2BIG, "'%s': link target is over the size limit", w->path);
      w->buf[n] = '\0';
      put_string (w, w->buf);
    }
  else
    put_string (w, "");
  if (S_ISREG (st->st_mode))
    {
      if ((r = put_content (w, fd, st->st_ino, st->st_size, err)) < 0)
        return r;
    }
  else
    put_string (w, "");
  if ((r = put_xattrs (w, fd, parent_fd, name, err)) < 0)
    return r;
  ocip_hasher_update (w->hasher, "\n", 1);
  return 0;
}

/* The names in the directory FD (borrowed), sorted.  */
static int
sorted_names (struct walk *w, int fd, char ***ret, size_t *ret_n, ocip_error_t *err)
{
  int dup_fd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *dir = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
  cleanup_strv char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;

  if (dir == NULL)
    {
      int saved = errno;
      if (dup_fd >= 0)
        close (dup_fd);
      return ocip_error_set (err, saved, "'%s': read directory", w->path);
    }
  for (errno = 0; (de = readdir (dir)) != NULL; errno = 0)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (n + 2 > cap)
        {
          cap = cap ? cap * 2 : 64;
          names = xreallocarray (names, cap, sizeof *names);
        }
      names[n++] = xstrdup (de->d_name);
      names[n] = NULL;
    }
  if (errno != 0)
    return ocip_error_set (err, errno, "'%s': read directory", w->path);
  if (n > 0)
    qsort (names, n, sizeof *names, compare_names);
  *ret = steal_pointer (&names);
  *ret_n = n;
  return 0;
}

static int
walk_dir (struct walk *w, int fd, ocip_error_t *err)
{
  cleanup_strv char **names = NULL;
  size_t n = 0, i;
  int r;

  if ((r = sorted_names (w, fd, &names, &n, err)) < 0)
    return r;
  for (i = 0; i < n; i++)
    {
      cleanup_close int child = -1;
      struct stat st;

      path_push (w, names[i]);
      if (fstatat (fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        return ocip_error_set (err, errno, "'%s': stat", w->path);
      if (S_ISDIR (st.st_mode) || S_ISREG (st.st_mode))
        {
          child = openat (fd, names[i],
                          (S_ISDIR (st.st_mode) ? O_DIRECTORY : O_NONBLOCK | O_NOCTTY) | O_RDONLY | O_NOFOLLOW
                              | O_CLOEXEC);
          if (child < 0)
            return ocip_error_set (err, errno, "'%s': open", w->path);
        }
      if ((r = put_entry (w, child, fd, names[i], &st, err)) < 0)
        return r;
      if (S_ISDIR (st.st_mode) && (r = walk_dir (w, child, err)) < 0)
        return r;
      path_pop (w);
    }
  return 0;
}

int
ocip_treehash (int dirfd, enum ocip_digest_alg alg, enum ocip_treehash_format format,
               const struct ocip_file_content *known, size_t n_known, struct ocip_digest *ret, ocip_error_t *err)
{
  struct walk w = { .alg = alg, .format = format, .known = known, .n_known = n_known };
  char line[64];
  struct stat st;
  int r;

  if (format < OCIP_TREEHASH_FORMAT_1 || format > OCIP_TREEHASH_FORMAT_3)
    return ocip_error_fail (err, EINVAL, "unknown tree digest format %d", (int) format);
  /* Extraction records digests of kind BLOCKS: a read of an older format would hash
     those files otherwise.  */
  if (n_known > 0 && format != OCIP_TREEHASH_FORMAT_3)
    return ocip_error_fail (err, EINVAL, "known file contents are format 3 digests, not format %d", (int) format);
  w.hasher = ocip_hasher_new (alg);
  w.buf = xmalloc (READ_BUFFER);
  w.path_cap = 256;
  w.path = xmalloc (w.path_cap);
  strcpy (w.path, ".");
  w.path_len = 1;
  snprintf (line, sizeof line, FORMAT_LINE, (int) format);
  ocip_hasher_update (w.hasher, line, strlen (line));
  if (fstat (dirfd, &st) < 0)
    r = ocip_error_set (err, errno, "'.': stat");
  else if (! S_ISDIR (st.st_mode))
    r = ocip_error_fail (err, ENOTDIR, "'.': not a directory");
  else if ((r = put_entry (&w, dirfd, -1, NULL, &st, err)) == 0 && (r = walk_dir (&w, dirfd, err)) == 0)
    ocip_hasher_final (w.hasher, ret);
  ocip_hasher_free (w.hasher);
  free (w.buf);
  free (w.path);
  return r;
}
