/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image archives: a tar indexed once by its headers, members served as byte ranges of the file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include "base/fsutil.h"
#include "base/json.h"
#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>

#define BLOCK 512

enum member_type
{
  MEMBER_FILE,
  MEMBER_DIR,
  MEMBER_LINK,
  MEMBER_OTHER,
};

struct member
{
  char *name;
  enum member_type type;
  int64_t offset; /* of the data */
  int64_t size;
};

/* A docker-archive blob: a member, or a document synthesised here.  */
struct blob
{
  struct ocip_digest digest;
  const struct member *member; /* NULL: MEM */
  char *mem;
  size_t mem_len;
};

struct ocip_archive
{
  enum ocip_archive_kind kind;
  int fd;
  char *path; /* for messages */
  int64_t file_size;
  struct member *members; /* sorted by name */
  size_t n_members;
  /* docker-archive only */
  struct blob *blobs;
  size_t n_blobs;
  char *index_json;
  size_t index_len;
  struct ocip_digest *manifests; /* one per manifest.json entry */
  size_t n_manifests;
};

static int
read_at (const struct ocip_archive *a, void *buf, size_t len, int64_t off, ocip_error_t *err)
{
  size_t done = 0;

  while (done < len)
    {
      ssize_t n = pread (a->fd, (char *) buf + done, len - done, off + done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ocip_error_set (err, errno, "archive '%s': read", a->path);
      if (n == 0)
        return ocip_error_fail (err, EINVAL, "archive '%s': truncated at byte %lld", a->path,
                                (long long) (off + done));
      done += n;
    }
  return 0;
}

/* A numeric header field: octal digits (space or NUL padded), or GNU base-256 when the
   first byte has its high bit set.  */
static bool
parse_number (const unsigned char *f, size_t len, int64_t *ret)
{
  uint64_t v = 0;
  size_t i = 0;

  if (f[0] & 0x80)
    {
      if (f[0] != 0x80)
        return false; /* negative, or over 2^63 */
      for (i = 1; i < len; i++)
        {
          if (v >> 55)
            return false;
          v = (v << 8) | f[i];
        }
      *ret = (int64_t) v;
      return true;
    }
  while (i < len && f[i] == ' ')
    i++;
  if (i == len || f[i] < '0' || f[i] > '7')
    return false;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++)
    {
      if (v >> 60)
        return false;
      v = v * 8 + (f[i] - '0');
    }
  for (; i < len; i++)
    if (f[i] != ' ' && f[i] != '\0')
      return false;
  *ret = (int64_t) v;
  return true;
}

static bool
checksum_ok (const unsigned char *h)
{
  int64_t want;
  unsigned long sum = 0;
  size_t i;

  if (! parse_number (h + 148, 8, &want))
    return false;
  for (i = 0; i < BLOCK; i++)
    sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return (int64_t) sum == want;
}

/* The canonical form of a member name: leading "./" dropped, a trailing "/" dropped.
   Anything that could name one file two ways or leave the archive is refused: an
   absolute name, an empty, "." or ".." component, a NUL inside.  */
static int
normalise_name (const struct ocip_archive *a, const char *raw, size_t len, char **ret, ocip_error_t *err)
{
  const char *p, *s;
  size_t n;

  if (len == 0 || memchr (raw, '\0', len) || len >= OCIP_LIMIT_PATH_LENGTH)
    return ocip_error_fail (err, EINVAL, "archive '%s': invalid member name '%.*s'", a->path, (int) strnlen (raw, len),
                            raw);
  while (len >= 2 && raw[0] == '.' && raw[1] == '/')
    {
      raw += 2;
      len -= 2;
    }
  if (len > 0 && raw[len - 1] == '/')
    len--;
  if (len == 0 || (len == 1 && raw[0] == '.'))
    {
      *ret = xstrdup ("");
      return 0;
    }
  if (raw[0] == '/')
    return ocip_error_fail (err, EINVAL, "archive '%s': member '%.*s' has an absolute name", a->path, (int) len, raw);
  for (p = raw; p < raw + len; p = s + 1)
    {
      s = memchr (p, '/', raw + len - p);
      if (s == NULL)
        s = raw + len;
      n = s - p;
      if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return ocip_error_fail (err, EINVAL, "archive '%s': member '%.*s': '..', '.' or empty path component",
                                a->path, (int) len, raw);
    }
  *ret = xstrndup (raw, len);
  return 0;
}

/* Read a pax extended header's records ("LEN key=value\n") for path and size.  */
static int
parse_pax (const struct ocip_archive *a, const char *buf, size_t len, char **path, int64_t *size, ocip_error_t *err)
{
  size_t off = 0;

  while (off < len)
    {
      const char *rec = buf + off, *eq, *sp;
      size_t rlen = 0, klen;
      const char *val;
      size_t vlen;

      for (sp = rec; sp < buf + len && *sp >= '0' && *sp <= '9' && rlen < len; sp++)
        rlen = rlen * 10 + (*sp - '0');
      if (sp == rec || sp >= buf + len || *sp != ' ' || rlen > len - off || rlen < (size_t) (sp - rec) + 3
          || rec[rlen - 1] != '\n')
        return ocip_error_fail (err, EINVAL, "archive '%s': corrupt pax header", a->path);
      eq = memchr (sp + 1, '=', rec + rlen - (sp + 1));
      if (eq == NULL)
        return ocip_error_fail (err, EINVAL, "archive '%s': corrupt pax header", a->path);
      klen = eq - (sp + 1);
      val = eq + 1;
      vlen = rec + rlen - 1 - val;
      if (klen == 4 && memcmp (sp + 1, "path", 4) == 0)
        {
          free (*path);
          *path = xstrndup (val, vlen);
          if (strlen (*path) != vlen)
            return ocip_error_fail (err, EINVAL, "archive '%s': NUL in a pax path", a->path);
        }
      else if (klen == 4 && memcmp (sp + 1, "size", 4) == 0)
        {
          cleanup_free char *v = xstrndup (val, vlen);
          char *end;

          errno = 0;
          *size = strtoll (v, &end, 10);
          if (vlen == 0 || *end || errno || *size < 0 || v[0] == '-' || v[0] == '+' || v[0] == ' ')
            return ocip_error_fail (err, EINVAL, "archive '%s': invalid pax size '%s'", a->path, v);
        }
      off += rlen;
    }
  return 0;
}

static int
compare_members (const void *x, const void *y)
{
  return strcmp (((const struct member *) x)->name, ((const struct member *) y)->name);
}

static void
members_free (struct member *m, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    free (m[i].name);
  free (m);
}

/* Walk the headers once.  Only names, types, offsets and sizes are kept.  */
static int
index_members (struct ocip_archive *a, ocip_error_t *err)
{
  unsigned char h[BLOCK];
  int64_t off = 0;
  size_t alloc = 0;
  cleanup_free char *next_path = NULL; /* from a pax 'x' or GNU 'L' header */
  int64_t next_size = -1;
  size_t i;
  int r;

  for (;;)
    {
      int64_t size, data;
      char type;
      cleanup_free char *raw = NULL;
      struct member m = { 0 };

      if (off + BLOCK > a->file_size)
        return ocip_error_fail (err, EINVAL, "archive '%s': truncated: no end-of-archive block", a->path);
      if ((r = read_at (a, h, BLOCK, off, err)) < 0)
        return r;
      if (h[0] == '\0')
        {
          static const unsigned char zero[BLOCK];
          if (memcmp (h, zero, BLOCK) != 0)
            return ocip_error_fail (err, EINVAL, "archive '%s': corrupt header at byte %lld", a->path,
                                    (long long) off);
          break;
        }
      if (! checksum_ok (h))
        return ocip_error_fail (err, EINVAL, "archive '%s': corrupt header at byte %lld (bad checksum)", a->path,
                                (long long) off);
      if (! parse_number (h + 124, 12, &size))
        return ocip_error_fail (err, EINVAL, "archive '%s': corrupt header at byte %lld (bad size)", a->path,
                                (long long) off);
      type = (char) h[156];
      if (next_size >= 0 && type != 'x' && type != 'L')
        size = next_size;
      data = off + BLOCK;
      if (size > a->file_size - data)
        return ocip_error_fail (err, EINVAL, "archive '%s': truncated: member at byte %lld declares %lld bytes",
                                a->path, (long long) off, (long long) size);
      off = data + ((size + BLOCK - 1) / BLOCK) * BLOCK;

      if (type == 'x' || type == 'L')
        {
          cleanup_free char *buf = NULL;

          if (size > (int64_t) OCIP_LIMIT_ARCHIVE_HEADER_SIZE)
            return ocip_error_fail (err, E2BIG, "archive '%s': extended header of %lld bytes is over the limit",
                                    a->path, (long long) size);
          buf = xmalloc (size + 1);
          if ((r = read_at (a, buf, size, data, err)) < 0)
            return r;
          buf[size] = '\0';
          if (type == 'L')
            {
              free (next_path);
              next_path = xstrndup (buf, strnlen (buf, size));
            }
          else if ((r = parse_pax (a, buf, size, &next_path, &next_size, err)) < 0)
            return r;
          continue;
        }
      if (type == 'g' || type == 'K')
        continue; /* global pax defaults, GNU long link targets: nothing we use */

      if (next_path)
        raw = steal_pointer (&next_path);
      else
        {
          size_t nlen = strnlen ((const char *) h, 100);
          size_t plen = memcmp (h + 257, "ustar", 5) == 0 ? strnlen ((const char *) h + 345, 155) : 0;
          raw = plen ? xasprintf ("%.*s/%.*s", (int) plen, h + 345, (int) nlen, h)
                     : xstrndup ((const char *) h, nlen);
        }
      next_size = -1;
      if ((r = normalise_name (a, raw, strlen (raw), &m.name, err)) < 0)
        return r;
      switch (type)
        {
        case '0':
        case '\0':
        case '7':
          m.type = MEMBER_FILE;
          break;
        case '5':
          m.type = MEMBER_DIR;
          break;
        case '1':
        case '2':
          m.type = MEMBER_LINK;
          break;
        default:
          m.type = MEMBER_OTHER;
          break;
        }
      m.offset = data;
      m.size = m.type == MEMBER_FILE ? size : 0;
      if (m.type == MEMBER_DIR && m.name[0] == '\0')
        {
          free (m.name);
          continue;
        }
      if (a->n_members == OCIP_LIMIT_ARCHIVE_MEMBERS)
        {
          free (m.name);
          return ocip_error_fail (err, E2BIG, "archive '%s': more than %u members", a->path,
                                  (unsigned) OCIP_LIMIT_ARCHIVE_MEMBERS);
        }
      if (a->n_members == alloc)
        {
          alloc = alloc ? alloc * 2 : 64;
          a->members = xreallocarray (a->members, alloc, sizeof *a->members);
        }
      a->members[a->n_members++] = m;
    }
  if (next_path || next_size >= 0)
    return ocip_error_fail (err, EINVAL, "archive '%s': extended header without a member", a->path);

  qsort (a->members, a->n_members, sizeof *a->members, compare_members);
  /* Two members of one name would let what was verified differ from what is read.  */
  for (i = 1; i < a->n_members; i++)
    if (strcmp (a->members[i - 1].name, a->members[i].name) == 0)
      return ocip_error_fail (err, EINVAL, "archive '%s': duplicate member '%s'", a->path, a->members[i].name);
  return 0;
}

static const struct member *
lookup (const struct ocip_archive *a, const char *name)
{
  struct member key = { .name = (char *) name };
  return bsearch (&key, a->members, a->n_members, sizeof *a->members, compare_members);
}

/* The regular member NAME; WHAT names it in messages.  */
static int
find_file (const struct ocip_archive *a, const char *name, const char *what, const struct member **ret,
           ocip_error_t *err)
{
  const struct member *m = lookup (a, name);

  if (m == NULL)
    return ocip_error_fail (err, ENOENT, "%s: missing from the archive", what);
  if (m->type == MEMBER_LINK)
    return ocip_error_fail (err, ELOOP, "%s: is a link in the archive, not a regular file", what);
  if (m->type != MEMBER_FILE)
    return ocip_error_fail (err, EINVAL, "%s: not a regular file in the archive", what);
  *ret = m;
  return 0;
}

static int
read_member (const struct ocip_archive *a, const struct member *m, const char *what, size_t max, char **ret,
             size_t *ret_len, ocip_error_t *err)
{
  cleanup_free char *buf = NULL;
  int r;

  if (m->size > (int64_t) max)
    return ocip_error_fail (err, E2BIG, "%s: %lld bytes is over the limit of %zu", what, (long long) m->size, max);
  buf = xmalloc (m->size + 1);
  if ((r = read_at (a, buf, m->size, m->offset, err)) < 0)
    return r;
  buf[m->size] = '\0';
  *ret = steal_pointer (&buf);
  *ret_len = m->size;
  return 0;
}

int
ocip_archive_read_file (const struct ocip_archive *a, const char *name, size_t max, char **ret, size_t *ret_len,
                        ocip_error_t *err)
{
  cleanup_free char *what = xasprintf ("'%s'", name);
  const struct member *m;
  int r;

  if (a->kind == OCIP_ARCHIVE_DOCKER && strcmp (name, "index.json") == 0)
    {
      *ret = xstrndup (a->index_json, a->index_len);
      *ret_len = a->index_len;
      return 0;
    }
  if ((r = find_file (a, name, what, &m, err)) < 0)
    return r;
  return read_member (a, m, what, max, ret, ret_len, err);
}

static void
add_blob (struct ocip_archive *a, const struct ocip_digest *d, const struct member *m, char *mem, size_t mem_len)
{
  size_t i;

  for (i = 0; i < a->n_blobs; i++)
    if (ocip_digest_equal (&a->blobs[i].digest, d))
      {
        /* The same layer twice (one base in two images): the first copy serves, and
           is verified against the digest whenever it is read.  */
        free (mem);
        return;
      }
  a->blobs = xreallocarray (a->blobs, a->n_blobs + 1, sizeof *a->blobs);
  a->blobs[a->n_blobs++] = (struct blob){ .digest = *d, .member = m, .mem = mem, .mem_len = mem_len };
}

static int
hash_member (const struct ocip_archive *a, const struct member *m, struct ocip_digest *ret, ocip_error_t *err)
{
  struct ocip_hasher *h = ocip_hasher_new (OCIP_DIGEST_SHA256);
  cleanup_free char *buf = xmalloc (1 << 20);
  int64_t done = 0;
  int r = 0;

  while (done < m->size)
    {
      size_t n = m->size - done > (1 << 20) ? (1 << 20) : (size_t) (m->size - done);
      if ((r = read_at (a, buf, n, m->offset + done, err)) < 0)
        break;
      ocip_hasher_update (h, buf, n);
      done += n;
    }
  if (r == 0)
    ocip_hasher_final (h, ret);
  ocip_hasher_free (h);
  return r;
}

/* The hex digest a docker-archive member's name carries ("<hex>.json", "<hex>.tar",
   "blobs/sha256/<hex>"), or NULL.  */
static const char *
name_hex (const char *name, char buf[65])
{
  const char *base = strrchr (name, '/');
  size_t i;

  base = base ? base + 1 : name;
  for (i = 0; i < 64; i++)
    if (! ((base[i] >= '0' && base[i] <= '9') || (base[i] >= 'a' && base[i] <= 'f')))
      return NULL;
  if (base[64] != '\0' && base[64] != '.')
    return NULL;
  memcpy (buf, base, 64);
  buf[64] = '\0';
  return buf;
}

/* The start of a synthesised index or manifest: its schemaVersion and mediaType.  */
static struct ocip_json_gen *
document_new (const char *media_type)
{
  struct ocip_json_gen *gen = ocip_json_gen_new (false);

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_int64 (gen, "schemaVersion", 2);
  ocip_json_gen_kv_string (gen, "mediaType", media_type);
  return gen;
}

/* A descriptor's three required members, in an object the caller opened.  */
static void
descriptor_members (struct ocip_json_gen *gen, const char *media_type, const struct ocip_digest *digest, int64_t size)
{
  ocip_json_gen_kv_string (gen, "mediaType", media_type);
  ocip_json_gen_kv_string (gen, "digest", digest->str);
  ocip_json_gen_kv_int64 (gen, "size", size);
}

/* One manifest.json entry: its config and layers as an OCI manifest.  */
static int
docker_entry (struct ocip_archive *a, size_t idx, const struct ocip_json_node *entry, struct ocip_json_gen *index,
              ocip_error_t *err)
{
  const struct ocip_json_node *layers = NULL, *tags = NULL, *rootfs = NULL, *diff_ids = NULL;
  const char *config_name = NULL;
  const struct member *cm, *lm;
  cleanup_free char *config = NULL, *what = NULL, *manifest = NULL;
  cleanup_json struct ocip_json *doc = NULL;
  cleanup_json_gen struct ocip_json_gen *gen = NULL;
  struct ocip_digest config_digest, manifest_digest;
  size_t config_len, manifest_len, i;
  char hex[65];
  int r;

  if (ocip_json_type (entry) != OCIP_JSON_OBJECT)
    return ocip_error_fail (err, EINVAL, "'manifest.json' entry %zu: not an object", idx);
  if ((r = ocip_json_get_string (entry, "Config", true, &config_name, err)) < 0
      || (r = ocip_json_get_array (entry, "Layers", true, &layers, err)) < 0)
    return ocip_error_wrap (err, "'manifest.json' entry %zu", idx);
  tags = ocip_json_object_get (entry, "RepoTags");
  if (tags && ocip_json_type (tags) != OCIP_JSON_ARRAY && ocip_json_type (tags) != OCIP_JSON_NULL)
    return ocip_error_fail (err, EINVAL, "'manifest.json' entry %zu: RepoTags is not an array", idx);

  what = xasprintf ("config '%s'", config_name);
  {
    cleanup_free char *norm = NULL;
    if ((r = normalise_name (a, config_name, strlen (config_name), &norm, err)) < 0
        || (r = find_file (a, norm, what, &cm, err)) < 0
        || (r = read_member (a, cm, what, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &config, &config_len, err)) < 0)
      return r;
  }
  ocip_digest_buffer (OCIP_DIGEST_SHA256, config, config_len, &config_digest);
  if (name_hex (cm->name, hex) && strcmp (hex, ocip_digest_hex (&config_digest)) != 0)
    return ocip_error_fail (err, EBADMSG, "%s: digest mismatch: content hashes to '%s'", what, config_digest.str);
  if ((r = ocip_json_parse (config, config_len, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, err)) < 0
      || (r = ocip_json_get_object (ocip_json_root (doc), "rootfs", true, &rootfs, err)) < 0
      || (r = ocip_json_get_array (rootfs, "diff_ids", true, &diff_ids, err)) < 0)
    return ocip_error_wrap (err, "%s", what);
  if (ocip_json_array_len (diff_ids) != ocip_json_array_len (layers))
    return ocip_error_fail (err, EINVAL, "'manifest.json' entry %zu: %zu layers but %zu diff_ids in its config", idx,
                            ocip_json_array_len (layers), ocip_json_array_len (diff_ids));
  if (ocip_json_array_len (layers) > OCIP_LIMIT_LAYERS)
    return ocip_error_fail (err, E2BIG, "'manifest.json' entry %zu: more than %u layers", idx,
                            (unsigned) OCIP_LIMIT_LAYERS);
  add_blob (a, &config_digest, cm, NULL, 0);

  gen = document_new (OCIP_MEDIA_TYPE_MANIFEST);
  ocip_json_gen_string (gen, "config");
  ocip_json_gen_map_open (gen);
  descriptor_members (gen, OCIP_MEDIA_TYPE_CONFIG, &config_digest, (int64_t) config_len);
  ocip_json_gen_map_close (gen);
  ocip_json_gen_string (gen, "layers");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < ocip_json_array_len (layers); i++)
    {
      const struct ocip_json_node *ln = ocip_json_array_at (layers, i), *dn = ocip_json_array_at (diff_ids, i);
      cleanup_free char *norm = NULL, *lwhat = NULL;
      struct ocip_digest diff_id, digest;
      unsigned char magic[4] = { 0 };
      const char *media_type = "application/vnd.oci.image.layer.v1.tar";
      bool compressed = true;

      if (ocip_json_type (ln) != OCIP_JSON_STRING || ocip_json_type (dn) != OCIP_JSON_STRING)
        return ocip_error_fail (err, EINVAL, "'manifest.json' entry %zu: layer %zu is not a string", idx, i);
      lwhat = xasprintf ("layer '%s'", ocip_json_string (ln));
      if ((r = ocip_digest_parse (ocip_json_string (dn), &diff_id, err)) < 0)
        return ocip_error_wrap (err, "%s: diff_id", lwhat);
      if ((r = normalise_name (a, ocip_json_string (ln), strlen (ocip_json_string (ln)), &norm, err)) < 0
          || (r = find_file (a, norm, lwhat, &lm, err)) < 0)
        return r;
      if (lm->size >= 4 && (r = read_at (a, magic, 4, lm->offset, err)) < 0)
        return r;
      if (magic[0] == 0x1f && magic[1] == 0x8b)
        media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
      else if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        media_type = "application/vnd.oci.image.layer.v1.tar+zstd";
      else
        compressed = false;
      if (! compressed)
        digest = diff_id; /* the tar as it is: checked against its diffID when read */
      else if ((r = hash_member (a, lm, &digest, err)) < 0)
        return ocip_error_wrap (err, "%s", lwhat);
      add_blob (a, &digest, lm, NULL, 0);
      ocip_json_gen_map_open (gen);
      descriptor_members (gen, media_type, &digest, lm->size);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
  ocip_json_gen_map_close (gen);
  if ((r = ocip_json_gen_finish (gen, &manifest, &manifest_len, err)) < 0)
    return r;
  ocip_digest_buffer (OCIP_DIGEST_SHA256, manifest, manifest_len, &manifest_digest);
  a->manifests[idx] = manifest_digest;

  /* index.json: the entry once per tag (its ref name), or once without a name.  */
  for (i = 0; i == 0 || (tags && i < ocip_json_array_len (tags)); i++)
    {
      const struct ocip_json_node *t = tags ? ocip_json_array_at (tags, i) : NULL;

      if (t && ocip_json_type (t) != OCIP_JSON_STRING)
        return ocip_error_fail (err, EINVAL, "'manifest.json' entry %zu: RepoTags holds a non-string", idx);
      ocip_json_gen_map_open (index);
      descriptor_members (index, OCIP_MEDIA_TYPE_MANIFEST, &manifest_digest, (int64_t) manifest_len);
      if (t)
        {
          ocip_json_gen_string (index, "annotations");
          ocip_json_gen_map_open (index);
          ocip_json_gen_kv_string (index, OCIP_ANNOTATION_REF_NAME, ocip_json_string (t));
          ocip_json_gen_map_close (index);
        }
      ocip_json_gen_map_close (index);
    }
  add_blob (a, &manifest_digest, NULL, steal_pointer (&manifest), manifest_len);
  return 0;
}

static int
docker_view (struct ocip_archive *a, ocip_error_t *err)
{
  cleanup_free char *buf = NULL;
  cleanup_json struct ocip_json *doc = NULL;
  cleanup_json_gen struct ocip_json_gen *index = NULL;
  const struct ocip_json_node *root;
  const struct member *m;
  size_t len, i;
  int r;

  if ((r = find_file (a, "manifest.json", "'manifest.json'", &m, err)) < 0
      || (r = read_member (a, m, "'manifest.json'", OCIP_LIMIT_JSON_DOCUMENT_SIZE, &buf, &len, err)) < 0
      || (r = ocip_json_parse (buf, len, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, err)) < 0)
    return r;
  root = ocip_json_root (doc);
  if (ocip_json_type (root) != OCIP_JSON_ARRAY || ocip_json_array_len (root) == 0)
    return ocip_error_fail (err, EINVAL, "'manifest.json': not a non-empty array");
  if (ocip_json_array_len (root) > OCIP_LIMIT_INDEX_ENTRIES)
    return ocip_error_fail (err, E2BIG, "'manifest.json': more than %u entries", (unsigned) OCIP_LIMIT_INDEX_ENTRIES);
  a->n_manifests = ocip_json_array_len (root);
  a->manifests = xcalloc (a->n_manifests, sizeof *a->manifests);
  index = document_new (OCIP_MEDIA_TYPE_INDEX);
  ocip_json_gen_string (index, "manifests");
  ocip_json_gen_array_open (index);
  for (i = 0; i < a->n_manifests; i++)
    if ((r = docker_entry (a, i, ocip_json_array_at (root, i), index, err)) < 0)
      return r;
  ocip_json_gen_array_close (index);
  ocip_json_gen_map_close (index);
  return ocip_json_gen_finish (index, &a->index_json, &a->index_len, err);
}

int
ocip_archive_open (enum ocip_archive_kind kind, const char *path, struct ocip_archive **ret, ocip_error_t *err)
{
  struct ocip_archive *a;
  unsigned char magic[2];
  struct stat st;
  int r;

  a = xzalloc (sizeof *a);
  a->kind = kind;
  a->path = xstrdup (path);
  /* As every file oci-prep reads: a device or FIFO named as the archive is refused
     without being opened.  */
  {
    cleanup_free char *what = xasprintf ("archive '%s'", path);
    a->fd = r = ocip_open_regular_at (AT_FDCWD, path, 0, what, err);
  }
  if (a->fd < 0)
    goto fail;
  if (fstat (a->fd, &st) < 0)
    {
      r = ocip_error_set (err, errno, "archive '%s': stat", path);
      goto fail;
    }
  a->file_size = st.st_size;
  if (a->file_size >= 2 && read_at (a, magic, 2, 0, err) == 0 && magic[0] == 0x1f && magic[1] == 0x8b)
    {
      r = ocip_error_fail (err, EINVAL, "archive '%s': compressed (gzip); it is read in place, decompress it first",
                           path);
      goto fail;
    }
  if ((r = index_members (a, err)) < 0)
    goto fail;
  if (kind == OCIP_ARCHIVE_DOCKER && (r = docker_view (a, err)) < 0)
    {
      ocip_error_wrap (err, "archive '%s'", path);
      goto fail;
    }
  *ret = a;
  return 0;

fail:
  ocip_archive_free (a);
  return r;
}

void
ocip_archive_free (struct ocip_archive *a)
{
  size_t i;

  if (a == NULL)
    return;
  if (a->fd >= 0)
    close (a->fd);
  members_free (a->members, a->n_members);
  for (i = 0; i < a->n_blobs; i++)
    free (a->blobs[i].mem);
  free (a->blobs);
  free (a->index_json);
  free (a->manifests);
  free (a->path);
  free (a);
}

enum ocip_archive_kind
ocip_archive_kind (const struct ocip_archive *a)
{
  return a->kind;
}

int
ocip_archive_find_blob (const struct ocip_archive *a, const struct ocip_digest *digest,
                        struct ocip_archive_range *ret, ocip_error_t *err)
{
  const struct member *m = NULL;
  cleanup_free char *what = xasprintf ("blob '%s'", digest->str);
  int r;

  if (a->kind == OCIP_ARCHIVE_OCI)
    {
      cleanup_free char *name = xasprintf ("blobs/%s/%s", ocip_digest_alg_name (digest->alg), ocip_digest_hex (digest));
      if ((r = find_file (a, name, what, &m, err)) < 0)
        return r;
    }
  else
    {
      size_t i;
      for (i = 0; i < a->n_blobs; i++)
        if (ocip_digest_equal (&a->blobs[i].digest, digest))
          break;
      if (i == a->n_blobs)
        return ocip_error_fail (err, ENOENT, "%s: missing from the archive", what);
      if (a->blobs[i].member == NULL)
        {
          *ret = (struct ocip_archive_range){ .fd = -1, .size = a->blobs[i].mem_len, .mem = a->blobs[i].mem };
          return 0;
        }
      m = a->blobs[i].member;
    }
  *ret = (struct ocip_archive_range){ .fd = a->fd, .offset = m->offset, .size = m->size };
  return 0;
}

size_t
ocip_archive_docker_count (const struct ocip_archive *a)
{
  return a->n_manifests;
}

int
ocip_archive_docker_manifest (const struct ocip_archive *a, size_t n, struct ocip_digest *ret, ocip_error_t *err)
{
  if (n >= a->n_manifests)
    return ocip_error_fail (err, ENOENT, "archive '%s' has %zu images: no image @%zu", a->path, a->n_manifests, n);
  *ret = a->manifests[n];
  return 0;
}
