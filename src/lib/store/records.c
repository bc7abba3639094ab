/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store's records: the layer record, the bundle / hook state and its pin; one reader and one writer each. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>
#include "base/fsutil.h"
#include "base/json.h"
#include "store/records.h"
#include "store/store_internal.h"
#include "store/store_private.h"

#define META_FILE "meta.json"
#define IMPLIED_FILE "implied"

/* ---- common ---- */

/* The "version" of ROOT: 1 when absent (records from before versions); a version this
   code does not know is refused.  */
static int
get_version (const struct ocip_json_node *root, int64_t current, int64_t *ret, ocip_error_t *err)
{
  int64_t v = 1;
  int r;

  if ((r = ocip_json_get_int64 (root, "version", false, &v, err)) < 0)
    return r;
  if (v < 1)
    return ocip_error_fail (err, EINVAL, "format version %lld is not valid", (long long) v);
  if (v > current)
    return ocip_error_fail (err, EPROTONOSUPPORT, "format version %lld is newer than this oci-prep knows (%lld)",
                           (long long) v, (long long) current);
  *ret = v;
  return 0;
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

static void
gen_strv (struct ocip_json_gen *gen, const char *key, char *const *v)
{
  static char *const none[] = { NULL };
  ocip_json_gen_kv_strv (gen, key, v ? v : none);
}

/* An optional string array of ROOT, each element a valid digest.  */
static int
get_digests (const struct ocip_json_node *root, const char *key, char ***ret, ocip_error_t *err)
{
  cleanup_strv char **v = NULL;
  size_t i;
  int r;

  if ((r = ocip_json_get_strv (root, key, false, &v, err)) < 0)
    return r;
  for (i = 0; v && v[i]; i++)
    {
      struct ocip_digest d;
      if ((r = ocip_digest_parse (v[i], &d, err)) < 0)
        return ocip_error_wrap (err, "'%s' %zu", key, i);
    }
  *ret = steal_pointer (&v);
  return 0;
}

/* ---- layer record ---- */

void
ocip_layer_record_clear (struct ocip_layer_record *rec)
{
  free (rec->diff_id);
  ocip_strv_free (rec->chain_ids);
  ocip_strv_free (rec->compressed_digests);
  free (rec->media_type);
  free (rec->content_digest);
  memset (rec, 0, sizeof *rec);
}

int
ocip_records_layer_write_at (int layer_dirfd, const struct ocip_layer_record *rec, char *const *implied,
                             ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  cleanup_free char *text = NULL;
  cleanup_close int meta_fd = -1;
  cleanup_close int implied_fd = -1;
  cleanup_file FILE *out = NULL;
  size_t len, n = 0;
  int r;

  while (implied && implied[n])
    n++;
  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_int64 (gen, "version", OCIP_LAYER_RECORD_VERSION);
  ocip_json_gen_kv_string (gen, "diffID", rec->diff_id);
  gen_strv (gen, "chainIDs", rec->chain_ids);
  gen_strv (gen, "compressedDigests", rec->compressed_digests);
  if (rec->media_type)
    ocip_json_gen_kv_string (gen, "mediaType", rec->media_type);
  ocip_json_gen_kv_int64 (gen, "compressedSize", rec->compressed_size);
  ocip_json_gen_kv_int64 (gen, "size", rec->size);
  ocip_json_gen_kv_int64 (gen, "entries", rec->entries);
  ocip_json_gen_kv_int64 (gen, "impliedDirs", (int64_t) n);
  ocip_json_gen_kv_int64 (gen, "created", rec->created);
  if (rec->content_digest)
    {
      ocip_json_gen_kv_string (gen, "contentDigest", rec->content_digest);
      ocip_json_gen_kv_int64 (gen, "contentFormat", rec->content_format);
    }
  ocip_json_gen_map_close (gen);
  if ((r = ocip_json_gen_finish (gen, &text, &len, err)) < 0)
    return ocip_error_wrap (err, "write '" META_FILE "'");
  if (len > OCIP_LIMIT_LAYER_RECORD_SIZE)
    return ocip_error_fail (err, E2BIG, "'" META_FILE "' would be %zu bytes, over the limit of %u", len,
                           OCIP_LIMIT_LAYER_RECORD_SIZE);

  /* The list first: a meta.json is only ever next to its complete list.  */
  implied_fd = openat (layer_dirfd, IMPLIED_FILE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (implied_fd < 0)
    return ocip_error_set (err, errno, "create '" IMPLIED_FILE "'");
  out = fdopen (implied_fd, "w");
  if (out == NULL)
    return ocip_error_set (err, errno, "write '" IMPLIED_FILE "'");
  implied_fd = -1;
  for (size_t i = 0; i < n; i++)
    if (fwrite (implied[i], 1, strlen (implied[i]) + 1, out) != strlen (implied[i]) + 1)
      return ocip_error_set (err, errno ? errno : EIO, "write '" IMPLIED_FILE "'");
  if (fflush (out) != 0 || ferror (out))
    return ocip_error_set (err, errno ? errno : EIO, "write '" IMPLIED_FILE "'");

  meta_fd = openat (layer_dirfd, META_FILE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (meta_fd < 0)
    return ocip_error_set (err, errno, "create '" META_FILE "'");
  return ocip_write_fd (meta_fd, text, len, "'" META_FILE "'", err);
}

int
ocip_records_layer_write (struct ocip_store *store, const char *work_name, const struct ocip_layer_record *rec,
                          char *const *implied, ocip_error_t *err)
{
  cleanup_close int fd = openat (store->tmp_fd, work_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return ocip_error_set (err, errno, "store '%s': open 'tmp/%s'", store->path, work_name);
  if (ocip_records_layer_write_at (fd, rec, implied, err) < 0)
    return ocip_error_wrap (err, "store '%s': 'tmp/%s'", store->path, work_name);
  return 0;
}

static int
get_optional_int (const struct ocip_json_node *root, const char *key, int64_t *ret, ocip_error_t *err)
{
  *ret = -1;
  return ocip_json_get_int64 (root, key, false, ret, err);
}

/* Parse a layer record's text.  */
static int
parse_layer (const struct ocip_json_node *root, struct ocip_layer_record *rec, ocip_error_t *err)
{
  const char *diff_id = NULL, *chain_id = NULL, *compressed = NULL, *media_type = NULL, *content = NULL;
  const struct ocip_json_node *implied;
  struct ocip_digest d;
  int r;

  if ((r = get_version (root, OCIP_LAYER_RECORD_VERSION, &rec->version, err)) < 0
      || (r = ocip_json_get_string (root, "diffID", true, &diff_id, err)) < 0
      || (r = ocip_json_get_string (root, "mediaType", false, &media_type, err)) < 0
      || (r = ocip_json_get_string (root, "contentDigest", false, &content, err)) < 0
      || (r = get_optional_int (root, "created", &rec->created, err)) < 0
      || (r = get_optional_int (root, "size", &rec->size, err)) < 0
      || (r = get_optional_int (root, "compressedSize", &rec->compressed_size, err)) < 0
      || (r = get_optional_int (root, "entries", &rec->entries, err)) < 0
      || (r = get_optional_int (root, "contentFormat", &rec->content_format, err)) < 0)
    return r;
  if ((r = ocip_digest_parse (diff_id, &d, err)) < 0)
    return ocip_error_wrap (err, "'diffID'");
  rec->diff_id = xstrdup (diff_id);
  rec->media_type = dup_or_null (media_type);
  rec->content_digest = dup_or_null (content);
  if (rec->content_format < 0)
    rec->content_format = 1;
  rec->n_implied = -1;
  implied = ocip_json_object_get (root, "impliedDirs");
  if (rec->version == 1)
    {
      /* Format 1: one chainID and one compressed digest, the list inline.  */
      if ((r = ocip_json_get_string (root, "chainID", false, &chain_id, err)) < 0
          || (r = ocip_json_get_string (root, "compressedDigest", false, &compressed, err)) < 0)
        return r;
      if (chain_id)
        {
          rec->chain_ids = xcalloc (2, sizeof *rec->chain_ids);
          rec->chain_ids[0] = xstrdup (chain_id);
        }
      if (compressed)
        {
          rec->compressed_digests = xcalloc (2, sizeof *rec->compressed_digests);
          rec->compressed_digests[0] = xstrdup (compressed);
        }
      if (implied && ocip_json_type (implied) == OCIP_JSON_ARRAY)
        rec->n_implied = (int64_t) ocip_json_array_len (implied);
      return 0;
    }
  if ((r = get_digests (root, "chainIDs", &rec->chain_ids, err)) < 0
      || (r = get_digests (root, "compressedDigests", &rec->compressed_digests, err)) < 0
      || (r = ocip_json_get_int64 (root, "impliedDirs", true, &rec->n_implied, err)) < 0)
    return r;
  if (rec->n_implied < 0 || (uint64_t) rec->n_implied > OCIP_LIMIT_IMPLIED_DIRS)
    return ocip_error_fail (err, EINVAL, "'impliedDirs' %lld is out of range", (long long) rec->n_implied);
  return 0;
}

/* Read and parse LAYER_DIRFD/meta.json; *RET_DOC is kept for a format 1 list.  */
static int
load_layer (int layer_dirfd, const char *what, struct ocip_layer_record *rec, struct ocip_json **ret_doc,
            ocip_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_json struct ocip_json *doc = NULL;
  struct stat st;
  size_t len;
  int r;

  if ((r = ocip_read_file_at (layer_dirfd, META_FILE, OCIP_LIMIT_LAYER_RECORD_SIZE, &text, &len, err)) < 0)
    return ocip_error_wrap (err, "%s/" META_FILE, what);
  if ((r = ocip_json_parse (text, len, OCIP_LIMIT_LAYER_RECORD_SIZE, &doc, err)) < 0
      || (r = parse_layer (ocip_json_root (doc), rec, err)) < 0)
    {
      ocip_layer_record_clear (rec);
      if (r == -EPROTONOSUPPORT)
        return ocip_error_wrap (err, "%s/" META_FILE, what);
      return ocip_error_wrap (err, "%s/" META_FILE " is damaged", what);
    }
  rec->last_used = fstatat (layer_dirfd, META_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mtim.tv_sec : -1;
  if (ret_doc)
    *ret_doc = steal_pointer (&doc);
  return 0;
}

int
ocip_records_layer_read_at (int layer_dirfd, const char *what, struct ocip_layer_record *ret, ocip_error_t *err)
{
  struct ocip_layer_record rec = { 0 };
  int r;

  if ((r = load_layer (layer_dirfd, what, &rec, NULL, err)) < 0)
    return r;
  *ret = rec;
  return 0;
}

static int
open_layer_dir (struct ocip_store *store, const struct ocip_digest *diff_id, char **ret_what, ocip_error_t *err)
{
  cleanup_free char *name = ocip_store_layer_name (diff_id);
  int fd = openat (store->layers_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return ocip_error_set (err, errno, "store '%s': open 'layers/%s'", store->path, name);
  *ret_what = xasprintf ("store '%s': 'layers/%s'", store->path, name);
  return fd;
}

int
ocip_records_layer_read (struct ocip_store *store, const struct ocip_digest *diff_id,
                         struct ocip_layer_record *ret, ocip_error_t *err)
{
  cleanup_free char *what = NULL;
  cleanup_close int fd = open_layer_dir (store, diff_id, &what, err);
  struct ocip_layer_record rec = { 0 };
  int r;

  if (fd < 0)
    return fd;
  if ((r = load_layer (fd, what, &rec, NULL, err)) < 0)
    return r;
  if (strcmp (rec.diff_id, diff_id->str) != 0)
    {
      r = ocip_error_fail (err, EBADMSG, "%s/" META_FILE " is for diffID '%s'", what, rec.diff_id);
      ocip_layer_record_clear (&rec);
      return r;
    }
  *ret = rec;
  return 0;
}

/* A path of the implied list: relative, non-empty, within the path limit.  */
static int
check_implied (const char *path, size_t len, const char *what, ocip_error_t *err)
{
  if (len == 0 || path[0] == '/' || strlen (path) != len)
    return ocip_error_fail (err, EINVAL, "%s/" IMPLIED_FILE " is damaged: a path is empty, absolute or cut", what);
  if (len >= OCIP_LIMIT_PATH_LENGTH)
    return ocip_error_fail (err, E2BIG, "%s/" IMPLIED_FILE ": a path of %zu bytes is over the limit of %d", what,
                           len, OCIP_LIMIT_PATH_LENGTH);
  return 0;
}

/* Format 1: the list inside meta.json.  */
static int
implied_legacy (int layer_dirfd, const char *what, ocip_records_implied_fn fn, void *ctx, ocip_error_t *err)
{
  struct ocip_layer_record rec = { 0 };
  cleanup_json struct ocip_json *doc = NULL;
  const struct ocip_json_node *list;
  size_t i, n;
  int r;

  if ((r = load_layer (layer_dirfd, what, &rec, &doc, err)) < 0)
    return r;
  ocip_layer_record_clear (&rec);
  list = ocip_json_object_get (ocip_json_root (doc), "impliedDirs");
  if (list == NULL)
    return 0;
  if (ocip_json_type (list) != OCIP_JSON_ARRAY)
    return ocip_error_fail (err, EINVAL, "%s/" META_FILE " is damaged: 'impliedDirs' is not an array", what);
  n = ocip_json_array_len (list);
  for (i = 0; i < n; i++)
    {
      const struct ocip_json_node *node = ocip_json_array_at (list, i);
      const char *path = ocip_json_type (node) == OCIP_JSON_STRING ? ocip_json_string (node) : NULL;

      if (path == NULL)
        return ocip_error_fail (err, EINVAL, "%s/" META_FILE " is damaged: 'impliedDirs' %zu is not a string", what, i);
      if ((r = check_implied (path, strlen (path), what, err)) < 0 || (r = fn (path, ctx, err)) < 0)
        return r;
    }
  return 0;
}

int
ocip_records_layer_implied_at (int layer_dirfd, const char *what, ocip_records_implied_fn fn, void *ctx,
                               ocip_error_t *err)
{
  int fd = openat (layer_dirfd, IMPLIED_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  cleanup_file FILE *in = NULL;
  cleanup_free char *line = NULL;
  size_t cap = 0, count = 0;
  struct stat st;
  ssize_t n;
  int r;

  if (fd < 0)
    {
      if (errno == ENOENT)
        return implied_legacy (layer_dirfd, what, fn, ctx, err);
      return ocip_error_set (err, errno, "%s: open '" IMPLIED_FILE "'", what);
    }
  if (fstat (fd, &st) < 0 || ! S_ISREG (st.st_mode))
    {
      int saved = errno;
      close (fd);
      return ocip_error_set (err, S_ISREG (st.st_mode) ? saved : EINVAL, "%s/" IMPLIED_FILE " is not a regular file",
                             what);
    }
  in = fdopen (fd, "r");
  if (in == NULL)
    {
      int saved = errno;
      close (fd);
      return ocip_error_set (err, saved, "%s: read '" IMPLIED_FILE "'", what);
    }
  for (errno = 0; (n = getdelim (&line, &cap, '\0', in)) > 0; errno = 0)
    {
      size_t len = (size_t) n;

      if (line[len - 1] != '\0')
        return ocip_error_fail (err, EINVAL, "%s/" IMPLIED_FILE " is damaged: its last path is cut", what);
      if (++count > OCIP_LIMIT_IMPLIED_DIRS)
        return ocip_error_fail (err, E2BIG, "%s/" IMPLIED_FILE " lists more than %llu directories", what,
                               OCIP_LIMIT_IMPLIED_DIRS);
      if ((r = check_implied (line, len - 1, what, err)) < 0 || (r = fn (line, ctx, err)) < 0)
        return r;
    }
  if (ferror (in))
    return ocip_error_set (err, errno ? errno : EIO, "%s: read '" IMPLIED_FILE "'", what);
  return 0;
}

int
ocip_records_layer_implied (struct ocip_store *store, const struct ocip_digest *diff_id, ocip_records_implied_fn fn,
                            void *ctx, ocip_error_t *err)
{
  cleanup_free char *what = NULL;
  cleanup_close int fd = open_layer_dir (store, diff_id, &what, err);

  if (fd < 0)
    return fd;
  return ocip_records_layer_implied_at (fd, what, fn, ctx, err);
}

/* ---- state and pin records ---- */

void
ocip_state_record_clear (struct ocip_state_record *rec)
{
  free (rec->id);
  free (rec->bundle);
  free (rec->store);
  free (rec->image);
  free (rec->manifest);
  free (rec->rootfs_path);
  ocip_strv_free (rec->layers);
  free (rec->engine_bundle);
  ocip_idmap_clear (&rec->idmap);
  memset (rec, 0, sizeof *rec);
}

static bool
is_id (const char *id)
{
  return id && *id && strspn (id, "0123456789abcdef") == strlen (id);
}

static int
state_text (const struct ocip_state_record *rec, char **ret, size_t *ret_len, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  int r;

  if (! is_id (rec->id))
    return ocip_error_fail (err, EINVAL, "state: id '%s' is not valid", rec->id ? rec->id : "");
  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_int64 (gen, "version", OCIP_STATE_RECORD_VERSION);
  ocip_json_gen_kv_string (gen, "id", rec->id);
  ocip_json_gen_kv_string (gen, "bundle", rec->bundle);
  ocip_json_gen_kv_string (gen, "store", rec->store);
  if (rec->image)
    ocip_json_gen_kv_string (gen, "image", rec->image);
  if (rec->manifest)
    ocip_json_gen_kv_string (gen, "manifest", rec->manifest);
  ocip_json_gen_kv_string (gen, "rootfs", rec->flat ? "flat" : "overlay");
  ocip_json_gen_kv_string (gen, "rootfsPath", rec->rootfs_path);
  ocip_json_gen_kv_bool (gen, "rootfsCreated", rec->rootfs_created);
  ocip_json_gen_kv_bool (gen, "complete", rec->complete);
  ocip_json_gen_kv_int64 (gen, "created", rec->created);
  gen_strv (gen, "layers", rec->layers);
  if (rec->engine_bundle)
    ocip_json_gen_kv_string (gen, "engineBundle", rec->engine_bundle);
  /* Written only when there is a mapping: an older oci-prep reads such a record as
     before (unknown fields are ignored), and a record without them means none.  */
  if (! ocip_idmap_is_empty (&rec->idmap))
    {
      ocip_idmap_gen_list (gen, "uidMappings", &rec->idmap.uid);
      ocip_idmap_gen_list (gen, "gidMappings", &rec->idmap.gid);
    }
  ocip_json_gen_map_close (gen);
  /* Only a path that is not UTF-8 can fail here: such a bundle could not be pinned
     (a pin the store cannot read protects nothing), so it is refused.  */
  if ((r = ocip_json_gen_finish (gen, ret, ret_len, err)) < 0)
    return ocip_error_wrap (err, "record the state (are the bundle and store paths UTF-8?)");
  if (*ret_len > OCIP_LIMIT_STATE_RECORD_SIZE)
    {
      free (steal_pointer (ret));
      return ocip_error_fail (err, E2BIG, "the state record would be %zu bytes, over the limit of %u", *ret_len,
                             OCIP_LIMIT_STATE_RECORD_SIZE);
    }
  return 0;
}

static int
parse_state (const struct ocip_json_node *root, struct ocip_state_record *rec, ocip_error_t *err)
{
  const char *id = NULL, *bundle = NULL, *store = NULL, *image = NULL, *manifest = NULL, *rootfs = NULL;
  const char *rootfs_path = NULL, *engine = NULL;
  const struct ocip_json_node *node;
  int r;

  if ((r = get_version (root, OCIP_STATE_RECORD_VERSION, &rec->version, err)) < 0
      || (r = ocip_json_get_string (root, "id", false, &id, err)) < 0
      || (r = ocip_json_get_string (root, "bundle", true, &bundle, err)) < 0
      || (r = ocip_json_get_string (root, "store", false, &store, err)) < 0
      || (r = ocip_json_get_string (root, "image", false, &image, err)) < 0
      || (r = ocip_json_get_string (root, "manifest", false, &manifest, err)) < 0
      || (r = ocip_json_get_string (root, "rootfs", false, &rootfs, err)) < 0
      || (r = ocip_json_get_string (root, "rootfsPath", false, &rootfs_path, err)) < 0
      || (r = ocip_json_get_string (root, "engineBundle", false, &engine, err)) < 0
      || (r = get_optional_int (root, "created", &rec->created, err)) < 0
      || (r = get_digests (root, "layers", &rec->layers, err)) < 0
      || (r = ocip_idmap_parse_list (root, "uidMappings", &rec->idmap.uid, err)) < 0
      || (r = ocip_idmap_parse_list (root, "gidMappings", &rec->idmap.gid, err)) < 0)
    return r;
  if (id && ! is_id (id))
    return ocip_error_fail (err, EINVAL, "'id' is not valid");
  if (bundle[0] != '/' || (rootfs_path && rootfs_path[0] != '/') || (engine && engine[0] != '/'))
    return ocip_error_fail (err, EINVAL, "a recorded path is not absolute");
  if (rootfs && strcmp (rootfs, "flat") != 0 && strcmp (rootfs, "overlay") != 0)
    return ocip_error_fail (err, EINVAL, "'rootfs' is neither 'flat' nor 'overlay'");
  if (ocip_json_object_get (root, "layers") == NULL)
    return ocip_error_fail (err, EINVAL, "missing field 'layers'");
  rec->id = dup_or_null (id);
  rec->bundle = xstrdup (bundle);
  rec->store = dup_or_null (store);
  rec->image = dup_or_null (image);
  rec->manifest = dup_or_null (manifest);
  rec->flat = rootfs && strcmp (rootfs, "flat") == 0;
  rec->rootfs_path = dup_or_null (rootfs_path);
  rec->engine_bundle = dup_or_null (engine);
  if (rec->layers == NULL)
    rec->layers = xcalloc (1, sizeof *rec->layers);
  rec->rootfs_created = (node = ocip_json_object_get (root, "rootfsCreated")) != NULL && ocip_json_bool (node);
  /* Absent in format 1 states written before it was recorded: those were written last.  */
  rec->complete = (node = ocip_json_object_get (root, "complete")) == NULL || ocip_json_bool (node);
  return 0;
}

/* Read and parse DIRFD/NAME; WHAT names it in messages.  */
static int
read_state_at (int dirfd, const char *name, const char *what, struct ocip_state_record *ret, ocip_error_t *err)
{
  struct ocip_state_record rec = { 0 };
  cleanup_json struct ocip_json *doc = NULL;
  cleanup_free char *text = NULL;
  size_t len;
  int r;

  if ((r = ocip_read_file_at (dirfd, name, OCIP_LIMIT_STATE_RECORD_SIZE, &text, &len, err)) < 0)
    return ocip_error_wrap (err, "%s", what);
  if ((r = ocip_json_parse (text, len, OCIP_LIMIT_STATE_RECORD_SIZE, &doc, err)) < 0
      || (r = parse_state (ocip_json_root (doc), &rec, err)) < 0)
    {
      ocip_state_record_clear (&rec);
      if (r == -EPROTONOSUPPORT)
        return ocip_error_wrap (err, "%s", what);
      return ocip_error_wrap (err, "%s is damaged", what);
    }
  *ret = rec;
  return 0;
}

int
ocip_records_store_xattrs_read (int store_dirfd, enum ocip_ovlformat_xattrs *ret, ocip_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  int r;

  if ((r = ocip_read_file_at (store_dirfd, OCIP_RECORDS_XATTRS_FILE, 64, &text, &len, err)) < 0)
    return r;
  if (strcmp (text, "trusted\n") == 0)
    *ret = OCIP_OVLFORMAT_XATTRS_TRUSTED;
  else if (strcmp (text, "user\n") == 0)
    *ret = OCIP_OVLFORMAT_XATTRS_USER;
  else
    return ocip_error_fail (err, EINVAL, "'" OCIP_RECORDS_XATTRS_FILE "' is damaged: neither 'trusted' nor 'user'");
  return 0;
}

int
ocip_records_store_xattrs_write (int store_dirfd, enum ocip_ovlformat_xattrs xattrs, ocip_error_t *err)
{
  cleanup_free char *text = xasprintf ("%s\n", ocip_ovlformat_xattrs_name (xattrs));

  return ocip_write_file_at (store_dirfd, OCIP_RECORDS_XATTRS_FILE, text, strlen (text), 0600, err);
}

int
ocip_records_state_write (int bundle_dirfd, const struct ocip_state_record *rec, ocip_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  int r;

  if ((r = state_text (rec, &text, &len, err)) < 0)
    return r;
  return ocip_write_file_at (bundle_dirfd, OCIP_RECORDS_STATE_FILE, text, len, 0600, err);
}

int
ocip_records_state_read (int bundle_dirfd, struct ocip_state_record *ret, ocip_error_t *err)
{
  struct ocip_state_record rec = { 0 };
  int r;

  if ((r = read_state_at (bundle_dirfd, OCIP_RECORDS_STATE_FILE, "'" OCIP_RECORDS_STATE_FILE "'", &rec, err)) < 0)
    return r;
  /* What undoing the bundle needs.  */
  if (rec.id == NULL || rec.store == NULL || rec.rootfs_path == NULL)
    {
      ocip_state_record_clear (&rec);
      return ocip_error_fail (err, EINVAL, "'" OCIP_RECORDS_STATE_FILE "' is damaged: no id, store or rootfsPath");
    }
  *ret = rec;
  return 0;
}

bool
ocip_records_is_pin_name (const char *name, char **ret_id)
{
  size_t n = strspn (name, "0123456789abcdef");

  if (n == 0 || strcmp (name + n, ".json") != 0)
    return false;
  if (ret_id)
    *ret_id = xstrndup (name, n);
  return true;
}

bool
ocip_records_is_pin_leftover (const char *name)
{
  size_t n;

  /* ocip_write_file_at's temporary name for "<id>.json": ".<id>.json.tmp.<pid>".  */
  if (name[0] != '.')
    return false;
  n = strspn (name + 1, "0123456789abcdef");
  if (n == 0 || strncmp (name + 1 + n, ".json.tmp.", 10) != 0)
    return false;
  name += 1 + n + 10;
  return *name && strspn (name, "0123456789") == strlen (name);
}

int
ocip_records_pin_write (struct ocip_store *store, const struct ocip_state_record *rec, ocip_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_free char *name = NULL;
  size_t len;
  int r;

  if ((r = state_text (rec, &text, &len, err)) < 0)
    return ocip_error_wrap (err, "store '%s': pin bundle", store->path);
  name = xasprintf ("%s.json", rec->id);
  if ((r = ocip_write_file_at (store->bundles_fd, name, text, len, 0600, err)) < 0)
    return ocip_error_wrap (err, "store '%s': pin bundle", store->path);
  return 0;
}

int
ocip_records_pin_read (struct ocip_store *store, const char *id, struct ocip_state_record *ret, ocip_error_t *err)
{
  cleanup_free char *name = xasprintf ("%s.json", id);
  cleanup_free char *what = xasprintf ("store '%s': pin 'bundles/%s'", store->path, name);
  struct ocip_state_record rec = { 0 };
  int r;

  if (! is_id (id))
    return ocip_error_fail (err, EINVAL, "pin '%s': not a valid id", id);
  if ((r = read_state_at (store->bundles_fd, name, what, &rec, err)) < 0)
    return r;
  /* The name is the pin's id (what its bundle's state names), whatever the record
     holds: pins written by hand or before ids were recorded have none.  */
  free (rec.id);
  rec.id = xstrdup (id);
  *ret = rec;
  return 0;
}

/* bundles/, for reading its entries.  */
static int
open_bundles (struct ocip_store *store, DIR **ret, ocip_error_t *err)
{
  int fd = openat (store->bundles_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;

  if (dir == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      return ocip_error_set (err, saved, "store '%s': read 'bundles'", store->path);
    }
  *ret = dir;
  return 0;
}

static void
append_ranges (struct ocip_idmap_list *dst, const struct ocip_idmap_list *src)
{
  if (src->n == 0)
    return;
  dst->v = xreallocarray (dst->v, dst->n + src->n, sizeof *dst->v);
  memcpy (dst->v + dst->n, src->v, src->n * sizeof *src->v);
  dst->n += src->n;
}

int
ocip_records_pins_idmaps (struct ocip_store *store, struct ocip_idmap *ret_taken, ocip_error_t *err)
{
  cleanup_dir DIR *dir = NULL;
  struct dirent *de;
  int r;

  if ((r = open_bundles (store, &dir, err)) < 0)
    return r;
  for (errno = 0; (de = readdir (dir)) != NULL; errno = 0)
    {
      cleanup_free char *id = NULL;
      struct ocip_state_record rec = { 0 };

      if (! ocip_records_is_pin_name (de->d_name, &id))
        continue;
      if ((r = ocip_records_pin_read (store, id, &rec, err)) < 0)
        {
          if (r == -ENOENT)
            {
              ocip_error_release (err);
              continue;
            }
          return r;
        }
      append_ranges (&ret_taken->uid, &rec.idmap.uid);
      append_ranges (&ret_taken->gid, &rec.idmap.gid);
      ocip_state_record_clear (&rec);
    }
  if (errno != 0)
    return ocip_error_set (err, errno, "store '%s': read 'bundles'", store->path);
  return 0;
}

/* Remove the pin writer's leftovers in bundles/: of ID only, or all when ID is NULL.  */
static int
clean_leftovers (struct ocip_store *store, const char *id, size_t *ret_removed, ocip_error_t *err)
{
  cleanup_dir DIR *dir = NULL;
  size_t removed = 0;
  struct dirent *de;
  int r;

  if ((r = open_bundles (store, &dir, err)) < 0)
    return r;
  for (errno = 0; (de = readdir (dir)) != NULL; errno = 0)
    {
      if (! ocip_records_is_pin_leftover (de->d_name))
        continue;
      if (id && (strncmp (de->d_name + 1, id, strlen (id)) != 0 || de->d_name[1 + strlen (id)] != '.'))
        continue;
      if (unlinkat (store->bundles_fd, de->d_name, 0) < 0 && errno != ENOENT)
        return ocip_error_set (err, errno, "store '%s': remove 'bundles/%s'", store->path, de->d_name);
      removed++;
    }
  if (errno != 0)
    return ocip_error_set (err, errno, "store '%s': read 'bundles'", store->path);
  if (ret_removed)
    *ret_removed = removed;
  return 0;
}

int
ocip_records_pin_remove (struct ocip_store *store, const char *id, ocip_error_t *err)
{
  cleanup_free char *name = xasprintf ("%s.json", id);

  if (! is_id (id))
    return ocip_error_fail (err, EINVAL, "pin '%s': not a valid id", id);
  if (unlinkat (store->bundles_fd, name, 0) < 0 && errno != ENOENT)
    return ocip_error_set (err, errno, "store '%s': unpin bundle '%s'", store->path, id);
  /* A writer of this pin killed mid-write (a bundle being removed is not being made).  */
  return clean_leftovers (store, id, NULL, err);
}

int
ocip_records_pin_clean (struct ocip_store *store, size_t *ret_removed, ocip_error_t *err)
{
  return clean_leftovers (store, NULL, ret_removed, err);
}
