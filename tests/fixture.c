/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test fixture builder: writes OCI image layouts and (hostile) layer tars at test time.  */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "fixture.h"

/* Prints before aborting, so a broken fixture says where and why.  */
_Noreturn void
fx_check_failed (const char *file, int line, const char *what)
{
  int saved = errno;

  fprintf (stderr, "%s:%d: fixture check failed: %s (errno %d: %s)\n", file, line, what, saved, strerror (saved));
  fflush (stderr);
  abort ();
}

/* libarchive keeps its own error string; errno alone would say little.  */
#define AR_CHECK(a, expr) ((expr) ? (void) 0 : ar_check_failed (__FILE__, __LINE__, #expr, (a)))

static _Noreturn void
ar_check_failed (const char *file, int line, const char *what, struct archive *a)
{
  const char *msg = archive_error_string (a);

  fprintf (stderr, "%s:%d: fixture check failed: %s (libarchive: %s)\n", file, line, what,
           msg ? msg : "no message");
  fflush (stderr);
  abort ();
}

static void *
xmalloc0 (size_t n)
{
  void *p = calloc (1, n ? n : 1);

  FX_CHECK (p != NULL);
  return p;
}

static char *
xstrdup0 (const char *s)
{
  char *p = strdup (s);

  FX_CHECK (p != NULL);
  return p;
}

static char *
xasprintf0 (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static char *
xasprintf0 (const char *fmt, ...)
{
  va_list ap;
  char *s;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&s, fmt, ap);
  va_end (ap);
  FX_CHECK (r >= 0);
  return s;
}

/* Copy SRC into a fixed-size field, refusing to truncate.  */
static void
copy_field (char *dst, size_t size, const char *src)
{
  FX_CHECK (strlen (src) < size);
  strcpy (dst, src);
}

/* ---- files and directories ---- */

char *
fx_mkdtemp (void)
{
  char *dir = xstrdup0 ("/tmp/ocip-test-XXXXXX");

  FX_CHECK (mkdtemp (dir) != NULL);
  return dir;
}

static void rm_rf_at (int dfd, const char *name, dev_t dev);

static void
rm_children (int fd, dev_t dev)
{
  DIR *d = fdopendir (fd);
  struct dirent *de;

  FX_CHECK (d != NULL);
  for (;;)
    {
      errno = 0;
      de = readdir (d);
      if (de == NULL)
        break;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      rm_rf_at (dirfd (d), de->d_name, dev);
    }
  FX_CHECK (errno == 0);
  closedir (d);
}

static void
rm_rf_at (int dfd, const char *name, dev_t dev)
{
  struct stat st;
  int fd;

  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      FX_CHECK (errno == ENOENT);
      return;
    }
  if (!S_ISDIR (st.st_mode))
    {
      FX_CHECK (unlinkat (dfd, name, 0) == 0 || errno == ENOENT);
      return;
    }
  /* A test that leaves a mount behind is broken; deleting through the
     mount would reach into whatever is mounted there (e.g. a layer store).  */
  FX_CHECK (st.st_dev == dev);
  /* Tests write 0000 directories; without root they could not be emptied.  */
  if ((st.st_mode & 0700) != 0700)
    FX_CHECK (fchmodat (dfd, name, 0700, 0) == 0);
  fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  FX_CHECK (fd >= 0);
  rm_children (fd, dev);
  FX_CHECK (unlinkat (dfd, name, AT_REMOVEDIR) == 0);
}

void
fx_rm_rf (const char *path)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    {
      FX_CHECK (errno == ENOENT);
      return;
    }
  rm_rf_at (AT_FDCWD, path, st.st_dev);
}

void
fx_mkdir_p (const char *path)
{
  char *p = xstrdup0 (path);

  for (char *s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      FX_CHECK (mkdir (p, 0755) == 0 || errno == EEXIST);
      *s = '/';
    }
  FX_CHECK (mkdir (p, 0755) == 0 || errno == EEXIST);
  free (p);
}

void
fx_write_file (const char *path, const void *data, size_t len)
{
  const char *p = data;
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  FX_CHECK (fd >= 0);
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);

      if (w < 0 && errno == EINTR)
        continue;
      FX_CHECK (w > 0);
      p += w;
      len -= (size_t) w;
    }
  FX_CHECK (close (fd) == 0);
}

char *
fx_read_file (const char *path, size_t *len)
{
  size_t cap = 4096, used = 0;
  char *buf = xmalloc0 (cap);
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  FX_CHECK (fd >= 0);
  for (;;)
    {
      ssize_t r;

      if (cap - used < 2)
        {
          cap *= 2;
          buf = realloc (buf, cap);
          FX_CHECK (buf != NULL);
        }
      r = read (fd, buf + used, cap - used - 1);
      if (r < 0 && errno == EINTR)
        continue;
      FX_CHECK (r >= 0);
      if (r == 0)
        break;
      used += (size_t) r;
    }
  close (fd);
  buf[used] = '\0';
  if (len)
    *len = used;
  return buf;
}

const char *
fx_host_arch (void)
{
  /* The arch oci-prep itself was built for, which is what it matches by default.  */
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__loongarch64)
  return "loong64";
#else
  static struct utsname u;

  FX_CHECK (uname (&u) == 0);
  return u.machine;
#endif
}

const char *
fx_host_os (void)
{
  return "linux";
}

/* ---- digests and compression ---- */

void
fx_hash (const char *alg, const void *data, size_t len, char out[200])
{
  const EVP_MD *md = EVP_get_digestbyname (alg);
  unsigned char bin[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  size_t off;

  FX_CHECK (strcmp (alg, "sha256") == 0 || strcmp (alg, "sha512") == 0);
  FX_CHECK (md != NULL);
  FX_CHECK (EVP_Digest (data, len, bin, &n, md, NULL) == 1);
  off = (size_t) snprintf (out, 200, "%s:", alg);
  for (unsigned int i = 0; i < n; i++)
    off += (size_t) snprintf (out + off, 200 - off, "%02x", bin[i]);
  FX_CHECK (off < 200);
}

/* A growing memory buffer that libarchive writes into.  */
struct membuf
{
  char *data;
  size_t len, cap;
};

static la_ssize_t
membuf_write (struct archive *a, void *client, const void *buf, size_t n)
{
  struct membuf *m = client;

  if (m->cap - m->len < n)
    {
      while (m->cap - m->len < n)
        m->cap = m->cap ? m->cap * 2 : 16384;
      m->data = realloc (m->data, m->cap);
      FX_CHECK (m->data != NULL);
    }
  memcpy (m->data + m->len, buf, n);
  m->len += n;
  return (la_ssize_t) n;
}

static void
membuf_open (struct archive *a, struct membuf *m)
{
  /* No padding after the last byte: a compressed stream followed by
     zeros is not what registries serve, and Go's gzip reader rejects it.  */
  AR_CHECK (a, archive_write_set_bytes_in_last_block (a, 1) == ARCHIVE_OK);
  AR_CHECK (a, archive_write_open (a, m, NULL, membuf_write, NULL) == ARCHIVE_OK);
}

void
fx_compress (const void *in, size_t len, const char *how, void **ret, size_t *ret_len)
{
  struct membuf m = { 0 };
  struct archive *a;
  struct archive_entry *e;

  if (strcmp (how, "none") == 0)
    {
      *ret = xmalloc0 (len);
      if (len)
        memcpy (*ret, in, len);
      *ret_len = len;
      return;
    }

  a = archive_write_new ();
  FX_CHECK (a != NULL);
  AR_CHECK (a, archive_write_set_format_raw (a) == ARCHIVE_OK);
  AR_CHECK (a, archive_write_add_filter_by_name (a, how) == ARCHIVE_OK);
  /* Same input, same digest: tests rely on it to share layers between images.  */
  if (strcmp (how, "gzip") == 0)
    AR_CHECK (a, archive_write_set_filter_option (a, "gzip", "timestamp", NULL) == ARCHIVE_OK);
  membuf_open (a, &m);

  e = archive_entry_new ();
  FX_CHECK (e != NULL);
  archive_entry_set_pathname (e, "data");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_size (e, (la_int64_t) len);
  AR_CHECK (a, archive_write_header (a, e) == ARCHIVE_OK);
  if (len)
    AR_CHECK (a, archive_write_data (a, in, len) == (la_ssize_t) len);
  archive_entry_free (e);
  AR_CHECK (a, archive_write_close (a) == ARCHIVE_OK);
  archive_write_free (a);

  *ret = m.data ? m.data : xmalloc0 (1);
  *ret_len = m.len;
}

/* ---- layouts and blobs ---- */

void
fx_layout_init (const char *dir)
{
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  char *p;

  fx_mkdir_p (dir);
  p = xasprintf0 ("%s/oci-layout", dir);
  fx_write_file (p, layout, strlen (layout));
  free (p);
  p = xasprintf0 ("%s/blobs/sha256", dir);
  fx_mkdir_p (p);
  free (p);
}

char *
fx_blob_path (const char *dir, const char *digest)
{
  const char *colon = strchr (digest, ':');

  FX_CHECK (colon != NULL);
  return xasprintf0 ("%s/blobs/%.*s/%s", dir, (int) (colon - digest), digest, colon + 1);
}

/* Describe DATA without writing it.  */
static void
desc_of (const char *alg, const char *media_type, const void *data, size_t len, struct fx_desc *out)
{
  memset (out, 0, sizeof *out);
  copy_field (out->media_type, sizeof out->media_type, media_type);
  fx_hash (alg, data, len, out->digest);
  out->size = (long long) len;
}

void
fx_blob_put (const char *dir, const char *alg, const char *media_type, const void *data, size_t len,
             struct fx_desc *out)
{
  struct fx_desc d;
  char *p;

  desc_of (alg, media_type, data, len, &d);
  p = xasprintf0 ("%s/blobs/%s", dir, alg);
  fx_mkdir_p (p);
  free (p);
  p = fx_blob_path (dir, d.digest);
  fx_write_file (p, data, len);
  free (p);
  *out = d;
}

/* ---- tar building ---- */

struct fx_tar
{
  struct archive *a;
  struct membuf m;
};

struct fx_tar *
fx_tar_new_format (const char *format)
{
  struct fx_tar *t = xmalloc0 (sizeof *t);

  t->a = archive_write_new ();
  FX_CHECK (t->a != NULL);
  AR_CHECK (t->a, archive_write_set_format_by_name (t->a, format) == ARCHIVE_OK);
  AR_CHECK (t->a, archive_write_add_filter_none (t->a) == ARCHIVE_OK);
  membuf_open (t->a, &t->m);
  return t;
}

struct fx_tar *
fx_tar_new (void)
{
  return fx_tar_new_format ("paxr");
}

struct archive_entry *
fx_entry_new (const char *path, unsigned filetype, unsigned mode)
{
  struct archive_entry *e = archive_entry_new ();

  FX_CHECK (e != NULL);
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, filetype);
  archive_entry_set_perm (e, mode & 07777);
  archive_entry_set_uid (e, 0);
  archive_entry_set_gid (e, 0);
  archive_entry_set_mtime (e, (time_t) FX_MTIME, 0);
  archive_entry_set_size (e, 0);
  return e;
}

void
fx_tar_raw (struct fx_tar *t, struct archive_entry *entry, const void *data, size_t len)
{
  /* ARCHIVE_WARN is fine: it is how libarchive reports a name it could not
     convert to UTF-8, which hostile tests write on purpose.  */
  AR_CHECK (t->a, archive_write_header (t->a, entry) >= ARCHIVE_WARN);
  if (len)
    AR_CHECK (t->a, archive_write_data (t->a, data, len) >= 0);
}

/* Write E with DATA and free E; a short write is a fixture bug here.  */
static void
put_entry (struct fx_tar *t, struct archive_entry *e, const void *data, size_t len)
{
  archive_entry_set_size (e, (la_int64_t) len);
  AR_CHECK (t->a, archive_write_header (t->a, e) >= ARCHIVE_WARN);
  if (len)
    AR_CHECK (t->a, archive_write_data (t->a, data, len) == (la_ssize_t) len);
  archive_entry_free (e);
}

void
fx_tar_dir (struct fx_tar *t, const char *path, unsigned mode)
{
  put_entry (t, fx_entry_new (path, AE_IFDIR, mode), NULL, 0);
}

void
fx_tar_file_ex (struct fx_tar *t, const char *path, unsigned mode, long long uid, long long gid, long long mtime,
                const void *data, size_t len)
{
  struct archive_entry *e = fx_entry_new (path, AE_IFREG, mode);

  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  archive_entry_set_mtime (e, (time_t) mtime, 0);
  put_entry (t, e, data, len);
}

void
fx_tar_file (struct fx_tar *t, const char *path, unsigned mode, const char *content)
{
  put_entry (t, fx_entry_new (path, AE_IFREG, mode), content, strlen (content));
}

void
fx_tar_symlink (struct fx_tar *t, const char *path, const char *target)
{
  struct archive_entry *e = fx_entry_new (path, AE_IFLNK, 0777);

  archive_entry_set_symlink (e, target);
  put_entry (t, e, NULL, 0);
}

void
fx_tar_hardlink (struct fx_tar *t, const char *path, const char *target)
{
  struct archive_entry *e = fx_entry_new (path, AE_IFREG, 0644);

  archive_entry_set_hardlink (e, target);
  put_entry (t, e, NULL, 0);
}

void
fx_tar_whiteout (struct fx_tar *t, const char *path)
{
  char *p = xstrdup0 (path);
  size_t n = strlen (p);
  char *slash, *name;

  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  slash = strrchr (p, '/');
  if (slash)
    name = xasprintf0 ("%.*s.wh.%s", (int) (slash - p + 1), p, slash + 1);
  else
    name = xasprintf0 (".wh.%s", p);
  put_entry (t, fx_entry_new (name, AE_IFREG, 0644), NULL, 0);
  free (name);
  free (p);
}

void
fx_tar_opaque (struct fx_tar *t, const char *dir)
{
  size_t n = strlen (dir);
  char *name;

  if (n == 0)
    name = xstrdup0 (".wh..wh..opq");
  else
    name = xasprintf0 ("%s%s.wh..wh..opq", dir, dir[n - 1] == '/' ? "" : "/");
  put_entry (t, fx_entry_new (name, AE_IFREG, 0644), NULL, 0);
  free (name);
}

void
fx_tar_device (struct fx_tar *t, const char *path, char type, unsigned major, unsigned minor)
{
  unsigned ft;
  struct archive_entry *e;

  switch (type)
    {
    case 'c':
      ft = AE_IFCHR;
      break;
    case 'b':
      ft = AE_IFBLK;
      break;
    case 'p':
      ft = AE_IFIFO;
      break;
    default:
      fx_check_failed (__FILE__, __LINE__, "device type is one of 'c', 'b', 'p'");
    }
  e = fx_entry_new (path, ft, 0644);
  if (type != 'p')
    {
      archive_entry_set_rdevmajor (e, major);
      archive_entry_set_rdevminor (e, minor);
    }
  put_entry (t, e, NULL, 0);
}

void
fx_tar_xattr_file (struct fx_tar *t, const char *path, const char *name, const void *value, size_t len)
{
  struct archive_entry *e = fx_entry_new (path, AE_IFREG, 0644);

  archive_entry_xattr_add_entry (e, name, value, len);
  put_entry (t, e, NULL, 0);
}

void
fx_tar_sparse (struct fx_tar *t, const char *path, long long size, const struct fx_segment *data, size_t n)
{
  static const char zero[1 << 20];
  struct archive_entry *e = fx_entry_new (path, AE_IFREG, 0644);
  long long at = 0;
  size_t i;

  archive_entry_set_size (e, (la_int64_t) size);
  for (i = 0; i < n; i++)
    archive_entry_sparse_add_entry (e, (la_int64_t) data[i].offset, (la_int64_t) data[i].length);
  AR_CHECK (t->a, archive_write_header (t->a, e) >= ARCHIVE_WARN);
  /* The writer takes the whole logical content and skips what the map calls holes:
     holes are fed as zeros, without copying, data as FX_SPARSE_BYTE.  */
  for (i = 0; i <= n; i++)
    {
      long long end = i < n ? data[i].offset : size;
      for (; at < end; at += (long long) sizeof zero < end - at ? (long long) sizeof zero : end - at)
        AR_CHECK (t->a, archive_write_data (t->a, zero,
                                            (long long) sizeof zero < end - at ? sizeof zero : (size_t) (end - at))
                            >= 0);
      if (i < n)
        {
          char *bytes = xmalloc0 ((size_t) data[i].length + 1);
          memset (bytes, FX_SPARSE_BYTE, (size_t) data[i].length);
          AR_CHECK (t->a, archive_write_data (t->a, bytes, (size_t) data[i].length) == (la_ssize_t) data[i].length);
          free (bytes);
          at += data[i].length;
        }
    }
  archive_entry_free (e);
}

void
fx_tar_finish (struct fx_tar *t, void **ret_buf, size_t *ret_len)
{
  AR_CHECK (t->a, archive_write_close (t->a) == ARCHIVE_OK);
  archive_write_free (t->a);
  *ret_buf = t->m.data ? t->m.data : xmalloc0 (1);
  *ret_len = t->m.len;
  free (t);
}

/* ---- JSON ---- */

static FILE *
json_open (char **buf, size_t *len)
{
  FILE *f = open_memstream (buf, len);

  FX_CHECK (f != NULL);
  return f;
}

static void
json_close (FILE *f)
{
  FX_CHECK (!ferror (f));
  FX_CHECK (fclose (f) == 0);
}

/* S as a JSON string: quotes, backslashes and control bytes escaped, other
   bytes (UTF-8 or not) passed through.  */
static void
json_str (FILE *f, const char *s)
{
  fputc ('"', f);
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      switch (*p)
        {
        case '"':
          fputs ("\\\"", f);
          break;
        case '\\':
          fputs ("\\\\", f);
          break;
        case '\n':
          fputs ("\\n", f);
          break;
        case '\t':
          fputs ("\\t", f);
          break;
        case '\r':
          fputs ("\\r", f);
          break;
        default:
          if (*p < 0x20)
            fprintf (f, "\\u%04x", *p);
          else
            fputc (*p, f);
        }
    }
  fputc ('"', f);
}

static void
json_desc_members (FILE *f, const struct fx_desc *d)
{
  fputs ("\"mediaType\":", f);
  json_str (f, d->media_type);
  fputs (",\"digest\":", f);
  json_str (f, d->digest);
  fprintf (f, ",\"size\":%lld", d->size);
}

/* ---- images ---- */

static const char *
layer_media_type (const struct fx_layer *l, const char *how, bool docker, char other[128])
{
  if (l->media_type)
    return l->media_type;
  if (strcmp (how, "none") == 0)
    return docker ? FX_MT_DOCKER_LAYER : FX_MT_LAYER;
  if (strcmp (how, "gzip") == 0)
    return docker ? FX_MT_DOCKER_LAYER_GZIP : FX_MT_LAYER_GZIP;
  /* Docker has no zstd type; Docker and containerd push zstd with the OCI one.  */
  if (strcmp (how, "zstd") == 0)
    return FX_MT_LAYER_ZSTD;
  /* Not a registered type: what an unsupported-compression test wants.  */
  FX_CHECK (snprintf (other, 128, "%s+%s", FX_MT_LAYER, how) < 128);
  return other;
}

/* Make the blob named by D absent, so that "missing" really is missing
   even when an earlier image in the layout wrote the same bytes.  */
static void
blob_remove (const char *dir, const struct fx_desc *d)
{
  char *p = fx_blob_path (dir, d->digest);

  FX_CHECK (unlink (p) == 0 || errno == ENOENT);
  free (p);
}

static void
blob_flip_last_byte (const char *dir, const struct fx_desc *d)
{
  char *p = fx_blob_path (dir, d->digest);
  size_t len;
  char *data = fx_read_file (p, &len);

  if (len == 0)
    fx_write_file (p, "x", 1);
  else
    {
      data[len - 1] ^= 0x01;
      fx_write_file (p, data, len);
    }
  free (data);
  free (p);
}

void
fx_image_write_full (const struct fx_image *img, struct fx_image_result *ret)
{
  const char *alg = img->alg ? img->alg : "sha256";
  bool docker = img->docker_media_types;
  unsigned br = img->breaks;
  size_t n = img->n_layers;
  char *config = NULL, *manifest = NULL;
  size_t config_len = 0, manifest_len = 0, n_ids;
  FILE *f;

  memset (ret, 0, sizeof *ret);
  ret->n_layers = n;
  ret->layers = xmalloc0 (n * sizeof *ret->layers);
  ret->diff_ids = xmalloc0 (n * sizeof *ret->diff_ids);

  for (size_t i = 0; i < n; i++)
    {
      const struct fx_layer *l = &img->layers[i];
      const char *how = l->compression ? l->compression : "gzip";
      char mt_buf[128];
      const char *mt = layer_media_type (l, how, docker, mt_buf);
      void *blob;
      size_t blob_len;

      fx_hash (alg, l->tar, l->tar_len, ret->diff_ids[i]);
      fx_compress (l->tar, l->tar_len, how, &blob, &blob_len);
      if (i == 0 && (br & FX_BREAK_LAYER_MISSING))
        {
          desc_of (alg, mt, blob, blob_len, &ret->layers[i]);
          blob_remove (img->dir, &ret->layers[i]);
        }
      else
        fx_blob_put (img->dir, alg, mt, blob, blob_len, &ret->layers[i]);
      if (i == 0 && (br & FX_BREAK_LAYER_CONTENT))
        blob_flip_last_byte (img->dir, &ret->layers[i]);
      if (i == 0 && (br & FX_BREAK_LAYER_SIZE))
        ret->layers[i].size++;
      free (blob);
    }

  f = json_open (&config, &config_len);
  fputs ("{\"created\":", f);
  json_str (f, img->created ? img->created : FX_CREATED);
  fputs (",\"architecture\":", f);
  json_str (f, img->arch ? img->arch : fx_host_arch ());
  fputs (",\"os\":", f);
  json_str (f, img->os ? img->os : fx_host_os ());
  if (img->variant)
    {
      fputs (",\"variant\":", f);
      json_str (f, img->variant);
    }
  if (img->config)
    fprintf (f, ",\"config\":%s", img->config);
  if (!(br & FX_BREAK_NO_ROOTFS))
    {
      fprintf (f, ",\"rootfs\":{\"type\":\"%s\",\"diff_ids\":[", (br & FX_BREAK_ROOTFS_TYPE) ? "tarball" : "layers");
      n_ids = n;
      if ((br & FX_BREAK_MISSING_DIFF_ID) && n_ids > 0)
        n_ids--;
      for (size_t i = 0; i < n_ids; i++)
        {
          char lie[200];
          const char *id = ret->diff_ids[i];

          if (i == 0 && (br & FX_BREAK_DIFF_ID))
            {
              fx_hash (alg, "not this layer", 14, lie);
              id = lie;
            }
          if (i > 0)
            fputc (',', f);
          json_str (f, id);
        }
      if (br & FX_BREAK_EXTRA_DIFF_ID)
        {
          char extra[200];

          fx_hash (alg, "extra", 5, extra);
          if (n_ids > 0)
            fputc (',', f);
          json_str (f, extra);
        }
      fputs ("]}", f);
    }
  if (img->config_extra)
    fprintf (f, ",%s", img->config_extra);
  fputc ('}', f);
  json_close (f);

  if (br & FX_BREAK_CONFIG_MISSING)
    {
      desc_of (alg, docker ? FX_MT_DOCKER_CONFIG : FX_MT_CONFIG, config, config_len, &ret->config);
      blob_remove (img->dir, &ret->config);
    }
  else
    fx_blob_put (img->dir, alg, docker ? FX_MT_DOCKER_CONFIG : FX_MT_CONFIG, config, config_len, &ret->config);
  if (br & FX_BREAK_CONFIG_SIZE)
    ret->config.size--;
  free (config);

  f = json_open (&manifest, &manifest_len);
  fprintf (f, "{\"schemaVersion\":%d", (br & FX_BREAK_SCHEMA_VERSION) ? 1 : 2);
  if (!(br & FX_BREAK_MANIFEST_MEDIA_TYPE))
    {
      fputs (",\"mediaType\":", f);
      json_str (f, docker ? FX_MT_DOCKER_MANIFEST : FX_MT_MANIFEST);
    }
  fputs (",\"config\":{", f);
  json_desc_members (f, &ret->config);
  fputs ("},\"layers\":[", f);
  for (size_t i = 0; i < n; i++)
    {
      fputs (i ? ",{" : "{", f);
      json_desc_members (f, &ret->layers[i]);
      fputc ('}', f);
    }
  fputc (']', f);
  if (img->manifest_extra)
    fprintf (f, ",%s", img->manifest_extra);
  fputc ('}', f);
  json_close (f);
  fx_blob_put (img->dir, alg, docker ? FX_MT_DOCKER_MANIFEST : FX_MT_MANIFEST, manifest, manifest_len,
               &ret->manifest);
  free (manifest);
}

void
fx_image_result_free (struct fx_image_result *r)
{
  free (r->layers);
  free (r->diff_ids);
  r->layers = NULL;
  r->diff_ids = NULL;
  r->n_layers = 0;
}

void
fx_image_write (const struct fx_image *img, struct fx_desc *ret_manifest)
{
  struct fx_image_result r;

  fx_image_write_full (img, &r);
  *ret_manifest = r.manifest;
  fx_image_result_free (&r);
}

/* ---- indexes ---- */

static char *
index_doc (const struct fx_index_entry *entries, size_t n, size_t *ret_len)
{
  char *doc = NULL;
  FILE *f = json_open (&doc, ret_len);

  fputs ("{\"schemaVersion\":2,\"mediaType\":\"" FX_MT_INDEX "\",\"manifests\":[", f);
  for (size_t i = 0; i < n; i++)
    {
      const struct fx_index_entry *e = &entries[i];

      fputs (i ? ",{" : "{", f);
      json_desc_members (f, &e->desc);
      if (e->os || e->arch)
        {
          const char *sep = "";

          fputs (",\"platform\":{", f);
          if (e->arch)
            {
              fputs ("\"architecture\":", f);
              json_str (f, e->arch);
              sep = ",";
            }
          if (e->os)
            {
              fprintf (f, "%s\"os\":", sep);
              json_str (f, e->os);
            }
          if (e->variant)
            {
              fputs (",\"variant\":", f);
              json_str (f, e->variant);
            }
          fputc ('}', f);
        }
      if (e->ref)
        {
          fputs (",\"annotations\":{\"org.opencontainers.image.ref.name\":", f);
          json_str (f, e->ref);
          fputc ('}', f);
        }
      if (e->extra)
        fprintf (f, ",%s", e->extra);
      fputc ('}', f);
    }
  fputs ("]}", f);
  json_close (f);
  return doc;
}

void
fx_index_write (const char *dir, const struct fx_index_entry *entries, size_t n)
{
  size_t len;
  char *doc = index_doc (entries, n, &len);
  char *p = xasprintf0 ("%s/index.json", dir);

  fx_write_file (p, doc, len);
  free (p);
  free (doc);
}

void
fx_index_blob (const char *dir, const char *alg, const struct fx_index_entry *entries, size_t n, struct fx_desc *out)
{
  size_t len;
  char *doc = index_doc (entries, n, &len);

  fx_blob_put (dir, alg ? alg : "sha256", FX_MT_INDEX, doc, len, out);
  free (doc);
}

/* ---- artifacts ---- */

static void
desc_json (FILE *f, const struct fx_desc *d)
{
  fprintf (f, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}", d->media_type, d->digest, d->size);
}

void
fx_artifact_write (const char *dir, const struct fx_artifact *a, struct fx_desc *out)
{
  const char *config = a->config_data ? a->config_data : "{}";
  char *doc = NULL;
  size_t len = 0, i;
  struct fx_desc d;
  FILE *f = open_memstream (&doc, &len);

  FX_CHECK (f != NULL);
  fx_blob_put (dir, "sha256", a->config_media_type ? a->config_media_type : FX_MT_EMPTY, config, strlen (config), &d);
  fprintf (f, "{\"schemaVersion\":2,\"mediaType\":\"%s\",", FX_MT_MANIFEST);
  if (a->artifact_type)
    fprintf (f, "\"artifactType\":\"%s\",", a->artifact_type);
  fprintf (f, "\"config\":");
  desc_json (f, &d);
  fprintf (f, ",\"layers\":[");
  for (i = 0; i < a->n_layers; i++)
    {
      fx_blob_put (dir, "sha256", a->layer_media_type, a->layers[i], strlen (a->layers[i]), &d);
      fprintf (f, "%s", i ? "," : "");
      desc_json (f, &d);
    }
  fprintf (f, "]");
  if (a->subject)
    {
      fprintf (f, ",\"subject\":");
      desc_json (f, a->subject);
    }
  if (a->annotations)
    fprintf (f, ",\"annotations\":{%s}", a->annotations);
  fprintf (f, "}");
  FX_CHECK (fclose (f) == 0);
  fx_blob_put (dir, "sha256", FX_MT_MANIFEST, doc, len, out);
  free (doc);
}

/* ---- the default good image ---- */

void
fx_simple_image_ex (const char *dir, const char *ref, struct fx_desc *ret_manifest)
{
  struct fx_layer layers[2] = { { 0 } };
  struct fx_index_entry entry = { 0 };
  struct fx_image img = { 0 };
  struct fx_tar *t;
  void *tar1, *tar2;
  size_t len1, len2;

  t = fx_tar_new ();
  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/hello", 0644, FX_SIMPLE_HELLO);
  fx_tar_symlink (t, "hello-link", "etc/hello");
  fx_tar_finish (t, &tar1, &len1);

  t = fx_tar_new ();
  fx_tar_dir (t, "usr", 0755);
  fx_tar_dir (t, "usr/bin", 0755);
  fx_tar_file (t, "usr/bin/tool", 0755, FX_SIMPLE_TOOL);
  fx_tar_symlink (t, "usr/bin/tool-link", "tool");
  fx_tar_finish (t, &tar2, &len2);

  layers[0] = (struct fx_layer) { .tar = tar1, .tar_len = len1, .compression = "gzip" };
  layers[1] = (struct fx_layer) { .tar = tar2, .tar_len = len2, .compression = "gzip" };

  fx_layout_init (dir);
  img.dir = dir;
  img.layers = layers;
  img.n_layers = 2;
  img.config = "{\"Entrypoint\":[\"/usr/bin/tool\"],\"Env\":[\"PATH=/usr/bin:/bin\"],\"WorkingDir\":\"/\"}";
  fx_image_write (&img, &entry.desc);
  entry.ref = ref;
  fx_index_write (dir, &entry, 1);
  if (ret_manifest)
    *ret_manifest = entry.desc;
  free (tar1);
  free (tar2);
}

void
fx_simple_image (const char *dir, const char *ref)
{
  fx_simple_image_ex (dir, ref, NULL);
}
