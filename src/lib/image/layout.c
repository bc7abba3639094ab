/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image layouts: the marker file, index.json, the IMAGE grammar and reference resolution. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/blob.h"
#include <oci-prep/cleanup.h>
#include "base/fsutil.h"
#include "image/graph.h"
#include "base/json.h"
#include "base/strv.h"
#include <oci-prep/layout.h>
#include <oci-prep/limits.h>

/* Read the regular file NAME of the layout (directory DIRFD, or ARCHIVE when not
   NULL), at most MAX bytes.  */
static int
read_layout_file (int dirfd, const struct ocip_archive *archive, const char *name, size_t max, char **ret,
                  size_t *ret_len, ocip_error_t *err)
{
  cleanup_free char *what = xasprintf ("'%s'", name);
  cleanup_close int fd = -1;

  if (archive)
    return ocip_archive_read_file (archive, name, max, ret, ret_len, err);
  fd = ocip_open_regular_at (dirfd, name, OCIP_OPEN_IN_ROOT | OCIP_OPEN_NOFOLLOW, what, err);
  if (fd < 0)
    return ocip_error_wrap (err, "read '%s'", name);
  return ocip_read_regular_fd (fd, max, what, ret, ret_len, err);
}

static int
check_marker (int dirfd, const struct ocip_archive *archive, ocip_error_t *err)
{
  cleanup_free char *buf = NULL;
  cleanup_json struct ocip_json *doc = NULL;
  const char *version = NULL;
  size_t len;
  int r;

  if ((r = read_layout_file (dirfd, archive, "oci-layout", OCIP_LIMIT_OCI_LAYOUT_SIZE, &buf, &len, err)) < 0)
    return r;
  if ((r = ocip_json_parse (buf, len, OCIP_LIMIT_OCI_LAYOUT_SIZE, &doc, err)) < 0
      || (r = ocip_json_get_string (ocip_json_root (doc), "imageLayoutVersion", true, &version, err)) < 0)
    return ocip_error_wrap (err, "'oci-layout'");
  if (strcmp (version, "1.0.0") != 0)
    return ocip_error_fail (err, EINVAL, "'oci-layout': unsupported imageLayoutVersion '%s'", version);
  return 0;
}

/* The layout in DIRFD or ARCHIVE (the one not -1/NULL, whose ownership is taken, also
   on failure).  */
static int
layout_new (struct ocip_context *ctx, int dirfd, struct ocip_archive *archive, const char *path,
            struct ocip_layout **ret, ocip_error_t *err)
{
  cleanup_close int fd = dirfd;
  cleanup_free char *buf = NULL;
  struct ocip_index *index = NULL;
  struct ocip_layout *layout;
  size_t len;
  int r;

  /* A docker-archive has no marker: its index.json is the synthesised one.  */
  if ((! archive || ocip_archive_kind (archive) == OCIP_ARCHIVE_OCI) && (r = check_marker (fd, archive, err)) < 0)
    goto fail;
  if ((r = read_layout_file (fd, archive, "index.json", OCIP_LIMIT_JSON_DOCUMENT_SIZE, &buf, &len, err)) < 0)
    goto fail;
  if ((r = ocip_index_parse (buf, len, OCIP_MEDIA_TYPE_INDEX, &index, err)) < 0)
    {
      ocip_error_wrap (err, "'index.json'");
      goto fail;
    }

  layout = xzalloc (sizeof *layout);
  layout->ctx = ctx;
  layout->dirfd = steal_fd (&fd);
  layout->path = xstrdup (path);
  layout->index = index;
  layout->archive = archive;
  *ret = layout;
  return 0;

fail:
  ocip_archive_free (archive);
  return ocip_error_wrap (err, "%s '%s'", archive ? "archive" : "layout", path);
}

int
ocip_layout_open (struct ocip_context *ctx, const char *path, struct ocip_layout **ret, ocip_error_t *err)
{
  int dirfd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (dirfd < 0)
    return ocip_error_set (err, errno, "open layout '%s'", path);
  return layout_new (ctx, dirfd, NULL, path, ret, err);
}

int
ocip_layout_open_image (struct ocip_context *ctx, struct ocip_image_ref *ref, struct ocip_layout **ret,
                        ocip_error_t *err)
{
  struct ocip_archive *archive = NULL;
  struct ocip_layout *layout = NULL;
  int r;

  if (ref->transport == OCIP_TRANSPORT_LAYOUT)
    return ocip_layout_open (ctx, ref->layout, ret, err);
  if ((r = ocip_archive_open (ref->transport == OCIP_TRANSPORT_OCI_ARCHIVE ? OCIP_ARCHIVE_OCI : OCIP_ARCHIVE_DOCKER,
                              ref->layout, &archive, err))
      < 0)
    return r;
  if ((r = layout_new (ctx, -1, archive, ref->layout, &layout, err)) < 0)
    return r;
  if (ref->transport == OCIP_TRANSPORT_DOCKER_ARCHIVE && ! ref->has_digest
      && ((ref->ref && ref->ref[0] == '@') || (! ref->ref && ocip_archive_docker_count (archive) == 1)))
    {
      /* "@N" names a manifest.json entry, tagged or not: select it by the digest of
         the manifest synthesised for it.  */
      size_t n = ref->ref ? strtoul (ref->ref + 1, NULL, 10) : 0;

      if ((r = ocip_archive_docker_manifest (archive, n, &ref->digest, err)) < 0)
        {
          ocip_layout_free (layout);
          return r;
        }
      ref->has_digest = true;
      free (ref->ref);
      ref->ref = NULL;
    }
  *ret = layout;
  return 0;
}

void
ocip_layout_free (struct ocip_layout *layout)
{
  if (layout == NULL)
    return;
  if (layout->dirfd >= 0)
    close (layout->dirfd);
  ocip_archive_free (layout->archive);
  free (layout->path);
  ocip_index_free (layout->index);
  free (layout);
}

static bool
is_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ref ::= component ("/" component)*; component ::= alphanum (separator alphanum)*;
   alphanum ::= [A-Za-z0-9]+; separator ::= [-._:@+] | "--"  (image-layout.md)  */
static bool
valid_ref (const char *s)
{
  const char *p = s;

  if (*p == '\0')
    return false;
  for (;;)
    {
      /* One component.  */
      if (! is_alnum (*p))
        return false;
      while (is_alnum (*p))
        p++;
      while (*p && *p != '/')
        {
          if (p[0] == '-' && p[1] == '-')
            p += 2;
          else if (strchr ("-._:@+", *p))
            p++;
          else
            return false;
          if (! is_alnum (*p))
            return false;
          while (is_alnum (*p))
            p++;
        }
      if (*p == '\0')
        return true;
      p++; /* the '/' */
    }
}

/* "@N": a decimal index without sign or leading zero.  */
static bool
valid_entry_index (const char *s)
{
  size_t n = strspn (s + 1, "0123456789");
  return s[0] == '@' && n > 0 && n < 10 && s[1 + n] == '\0' && (n == 1 || s[1] != '0');
}

int
ocip_image_ref_parse (const char *s, struct ocip_image_ref *ret, ocip_error_t *err)
{
  const char *sep;
  int r;

  memset (ret, 0, sizeof *ret);
  if (strncmp (s, "oci:", 4) == 0)
    s += 4;
  else if (strncmp (s, "oci-archive:", 12) == 0)
    {
      s += 12;
      ret->transport = OCIP_TRANSPORT_OCI_ARCHIVE;
    }
  else if (strncmp (s, "docker-archive:", 15) == 0)
    {
      s += 15;
      ret->transport = OCIP_TRANSPORT_DOCKER_ARCHIVE;
    }
  sep = s + strcspn (s, ret->transport == OCIP_TRANSPORT_DOCKER_ARCHIVE ? ":" : ":@");
  if (sep == s)
    return ocip_error_fail (err, EINVAL, "invalid image '%s': no %s", s,
                            ret->transport == OCIP_TRANSPORT_LAYOUT ? "layout directory" : "archive file");
  if (ret->transport == OCIP_TRANSPORT_DOCKER_ARCHIVE && *sep == ':' && valid_entry_index (sep + 1))
    ret->ref = xstrdup (sep + 1);
  else if (*sep == '@')
    {
      if ((r = ocip_digest_parse (sep + 1, &ret->digest, err)) < 0)
        return ocip_error_wrap (err, "image '%s'", s);
      ret->has_digest = true;
    }
  else if (*sep == ':')
    {
      if (ret->transport == OCIP_TRANSPORT_DOCKER_ARCHIVE && sep[1] == '@')
        return ocip_error_fail (err, EINVAL, "invalid image '%s': bad manifest.json index '%s'", s, sep + 1);
      if (! valid_ref (sep + 1))
        return ocip_error_fail (err, EINVAL, "invalid image '%s': bad ref name '%s'", s, sep + 1);
      ret->ref = xstrdup (sep + 1);
    }
  ret->layout = xstrndup (s, sep - s);
  return 0;
}

void
ocip_image_ref_clear (struct ocip_image_ref *ref)
{
  free (ref->layout);
  free (ref->ref);
  ref->layout = ref->ref = NULL;
}

static int
read_document (struct ocip_layout *layout, const struct ocip_descriptor *desc, char **ret, size_t *ret_len,
               ocip_error_t *err)
{
  return ocip_blob_read_all (layout->ctx, layout->dirfd, layout->archive, desc, OCIP_LIMIT_JSON_DOCUMENT_SIZE, ret,
                             ret_len, err);
}

int
ocip_layout_read_index (struct ocip_layout *layout, const struct ocip_descriptor *desc, struct ocip_index **ret,
                        ocip_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  int r;

  if ((r = read_document (layout, desc, &buf, &len, err)) < 0)
    return r;
  if ((r = ocip_index_parse (buf, len, desc->media_type, ret, err)) < 0)
    return ocip_error_wrap (err, "index '%s'", desc->digest.str);
  return 0;
}

int
ocip_layout_read_manifest (struct ocip_layout *layout, const struct ocip_descriptor *desc,
                           struct ocip_manifest **ret, ocip_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  int r;

  if ((r = read_document (layout, desc, &buf, &len, err)) < 0)
    return r;
  if ((r = ocip_manifest_parse (buf, len, desc->media_type, ret, err)) < 0)
    return ocip_error_wrap (err, "manifest '%s'", desc->digest.str);
  return 0;
}

/* Children of indexes only: what resolution needs.  */
static int
index_children (void *ctx, const struct ocip_descriptor *node, struct ocip_descriptor **ret, size_t *ret_n,
                ocip_error_t *err)
{
  struct ocip_index *idx = NULL;
  int r;

  *ret = NULL;
  *ret_n = 0;
  if (ocip_media_type_kind (node->media_type) != OCIP_KIND_INDEX)
    return 0;
  if ((r = ocip_layout_read_index (ctx, node, &idx, err)) < 0)
    return r;
  *ret = steal_pointer (&idx->manifests);
  *ret_n = idx->n_manifests;
  idx->n_manifests = 0;
  ocip_index_free (idx);
  return 0;
}

/* Append S to the comma-separated LIST unless already there.  */
static void
list_add (char **list, const char *s)
{
  char *p;
  size_t len = strlen (s);

  for (p = *list; p && (p = strstr (p, s)); p += len)
    if ((p == *list || (p - *list >= 2 && p[-2] == ',' && p[-1] == ' ')) && (p[len] == '\0' || p[len] == ','))
      return;
  p = xasprintf ("%s%s%s", *list ? *list : "", *list ? ", " : "", s);
  free (*list);
  *list = p;
}

static char *
available_refs (const struct ocip_index *index)
{
  char *list = NULL;
  size_t i;

  for (i = 0; i < index->n_manifests; i++)
    if (index->manifests[i].ref_name)
      list_add (&list, index->manifests[i].ref_name);
  return list ? list : xstrdup ("none");
}

int
ocip_layout_select (struct ocip_layout *layout, const struct ocip_image_ref *ref, struct ocip_descriptor **ret,
                size_t *ret_n, ocip_error_t *err)
{
  const struct ocip_index *index = layout->index;
  const char *name = ref->ref;
  size_t i, n = 0;

  *ret = xcalloc (index->n_manifests + 1, sizeof **ret);
  if (ref->has_digest)
    {
      struct ocip_graph *g = NULL;
      int r;

      /* A digest may name any index or manifest reachable from index.json.  */
      if ((r = ocip_graph_walk (index->manifests, index->n_manifests, OCIP_LIMIT_INDEX_DEPTH, index_children, layout,
                                &g, err))
          < 0)
        return r;
      for (i = 0; i < g->n_nodes; i++)
        if (ocip_digest_equal (&g->nodes[i].desc.digest, &ref->digest))
          {
            ocip_descriptor_copy (&g->nodes[i].desc, &(*ret)[n++]);
            break;
          }
      ocip_graph_free (g);
      if (n == 0)
        return ocip_error_fail (err, ENOENT, "digest '%s' is not referenced from the index of '%s'", ref->digest.str,
                               layout->path);
      *ret_n = n;
      return 0;
    }

  if (name == NULL)
    {
      bool any_ref = false;

      for (i = 0; i < index->n_manifests; i++)
        {
          any_ref = any_ref || index->manifests[i].ref_name;
          if (index->manifests[i].ref_name && strcmp (index->manifests[i].ref_name, "latest") == 0)
            break;
        }
      if (i < index->n_manifests)
        name = "latest";
      else if (index->n_manifests == 1 || (index->n_manifests > 1 && ! any_ref))
        {
          /* One entry, or entries without any ref name: one image for several
             platforms (and what refers to it), as a nested index is; resolution
             picks by platform.  */
          for (i = 0; i < index->n_manifests; i++)
            ocip_descriptor_copy (&index->manifests[i], &(*ret)[i]);
          *ret_n = index->n_manifests;
          return 0;
        }
      else
        {
          cleanup_free char *refs = available_refs (index);
          return ocip_error_fail (err, index->n_manifests ? EINVAL : ENOENT,
                                 "'%s' has %zu manifests and no 'latest': name one (available: %s)", layout->path,
                                 index->n_manifests, refs);
        }
    }
  for (i = 0; i < index->n_manifests; i++)
    if (index->manifests[i].ref_name && strcmp (index->manifests[i].ref_name, name) == 0)
      {
        if (index->manifests[i].unsupported_digest)
          {
            *ret_n = n;
            return ocip_error_fail (err, ENOTSUP, "ref '%s' in '%s' names '%s': unsupported digest algorithm '%.*s'",
                                    name, layout->path, index->manifests[i].unsupported_digest,
                                    (int) strcspn (index->manifests[i].unsupported_digest, ":"),
                                    index->manifests[i].unsupported_digest);
          }
        ocip_descriptor_copy (&index->manifests[i], &(*ret)[n++]);
      }
  if (n == 0)
    {
      cleanup_free char *refs = available_refs (index);
      return ocip_error_fail (err, ENOENT, "ref '%s' not found in '%s' (available: %s)", name, layout->path, refs);
    }
  *ret_n = n;
  return 0;
}

void
ocip_descriptors_free (struct ocip_descriptor *d, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    ocip_descriptor_clear (&d[i]);
  free (d);
}

/* Candidates: manifests reachable from the selected entries.  Those whose descriptor
   names a matching platform come first in preference; manifests with no platform on
   their descriptor cannot be excluded and are kept as a second choice.  */
struct candidates
{
  const struct ocip_descriptor *match[2]; /* first two distinct platform matches */
  size_t n_match;
  const struct ocip_descriptor *unknown[2]; /* first two distinct platform-less ones */
  size_t n_unknown;
  /* Artifacts the descriptors say are not images (signatures, attestations): chosen
     only when nothing else is there, so that naming one gives "is an artifact".  */
  const struct ocip_descriptor *artifact[2];
  size_t n_artifact;
  char *seen_platforms;
};

static void
consider (struct candidates *c, const struct ocip_descriptor *d, const struct ocip_platform *want)
{
  const struct ocip_descriptor **slot;
  size_t *n;

  if (ocip_media_type_kind (d->media_type) != OCIP_KIND_MANIFEST)
    return;
  if (ocip_descriptor_is_artifact (d))
    {
      slot = c->artifact;
      n = &c->n_artifact;
    }
  else if (d->has_platform)
    {
      cleanup_free char *s = ocip_platform_string (&d->platform);
      list_add (&c->seen_platforms, s);
      if (! ocip_platform_match (want, &d->platform))
        return;
      slot = c->match;
      n = &c->n_match;
    }
  else
    {
      slot = c->unknown;
      n = &c->n_unknown;
    }
  if (*n == 1 && ocip_digest_equal (&slot[0]->digest, &d->digest))
    return;
  if (*n < 2)
    slot[*n] = d;
  (*n)++;
}

int
ocip_layout_resolve (struct ocip_layout *layout, const struct ocip_image_ref *ref,
                     const struct ocip_platform *platform, struct ocip_descriptor *ret, ocip_error_t *err)
{
  struct ocip_descriptor *entries = NULL;
  struct ocip_graph *g = NULL;
  struct candidates c = { 0 };
  const struct ocip_descriptor *pick = NULL;
  cleanup_free char *want = ocip_platform_string (platform);
  const char *what = ref->ref ? ref->ref : ref->has_digest ? ref->digest.str : "the default image";
  size_t n_entries = 0, i;
  int r;

  if ((r = ocip_layout_select (layout, ref, &entries, &n_entries, err)) < 0)
    goto out;
  if ((r = ocip_graph_walk (entries, n_entries, OCIP_LIMIT_INDEX_DEPTH, index_children, layout, &g, err)) < 0)
    goto out;
  for (i = 0; i < g->n_nodes; i++)
    consider (&c, &g->nodes[i].desc, platform);

  if (c.n_match == 1 || (c.n_match == 0 && c.n_unknown == 1))
    pick = c.n_match ? c.match[0] : c.unknown[0];
  else if (c.n_match == 0 && c.n_unknown == 0 && c.n_artifact == 1)
    pick = c.artifact[0];
  else if (c.n_match > 1 || c.n_unknown > 1)
    {
      const struct ocip_descriptor **both = c.n_match ? c.match : c.unknown;
      r = ocip_error_fail (err, EINVAL, "'%s' in '%s' is ambiguous: %zu manifests match %s ('%s', '%s', ...)", what,
                          layout->path, c.n_match ? c.n_match : c.n_unknown, want, both[0]->digest.str,
                          both[1]->digest.str);
      goto out;
    }
  else if (c.n_match == 0 && c.n_unknown == 0 && c.n_artifact == 0 && c.seen_platforms == NULL
           && g->n_unsupported > 0)
    {
      r = ocip_error_fail (err, ENOTSUP, "'%s' in '%s' names only blobs of an unsupported digest algorithm", what,
                           layout->path);
      goto out;
    }
  else
    {
      r = ocip_error_fail (err, ENOENT, "'%s' in '%s' has no manifest for platform %s (available: %s)", what,
                          layout->path, want, c.seen_platforms ? c.seen_platforms : "none");
      goto out;
    }
  ocip_descriptor_copy (pick, ret);
  r = 0;

out:
  free (c.seen_platforms);
  ocip_graph_free (g);
  ocip_descriptors_free (entries, n_entries);
  return r;
}

/* index_children, passing over an index that cannot be read: looking for referrers
   must not fail on a part of the layout the image does not need.  */
static int
readable_index_children (void *ctx, const struct ocip_descriptor *node, struct ocip_descriptor **ret, size_t *ret_n,
                         ocip_error_t *err)
{
  ocip_error_t ignored = NULL;

  (void) err;
  if (index_children (ctx, node, ret, ret_n, &ignored) < 0)
    ocip_error_release (&ignored);
  return 0;
}

int
ocip_layout_referrers (struct ocip_layout *layout, const struct ocip_digest *subject,
                       struct ocip_descriptor **ret, size_t *ret_n, ocip_error_t *err)
{
  const struct ocip_index *index = layout->index;
  struct ocip_graph *g = NULL;
  struct ocip_descriptor *found = NULL;
  size_t i, n = 0;
  int r;

  if ((r = ocip_graph_walk (index->manifests, index->n_manifests, OCIP_LIMIT_INDEX_DEPTH, readable_index_children,
                            layout, &g, err))
      < 0)
    return r;
  found = xcalloc (g->n_nodes + 1, sizeof *found);
  for (i = 0; i < g->n_nodes; i++)
    {
      const struct ocip_descriptor *d = &g->nodes[i].desc;
      const char *docker_ref = ocip_descriptor_annotation (d, OCIP_ANNOTATION_DOCKER_REFERENCE_DIGEST);
      struct ocip_manifest *m = NULL;
      ocip_error_t ignored = NULL;
      bool by_annotation;

      if (ocip_media_type_kind (d->media_type) != OCIP_KIND_MANIFEST || ocip_digest_equal (&d->digest, subject))
        continue;
      by_annotation = docker_ref && strcmp (docker_ref, subject->str) == 0;
      if (ocip_layout_read_manifest (layout, d, &m, &ignored) < 0)
        {
          ocip_error_release (&ignored);
          continue;
        }
      if (by_annotation || (m->has_subject && ! m->subject.unsupported_digest
                            && ocip_digest_equal (&m->subject.digest, subject)))
        {
          struct ocip_descriptor *out = &found[n++];

          ocip_descriptor_copy (d, out);
          free (out->artifact_type);
          out->artifact_type = xstrdup (m->artifact_type ? m->artifact_type
                                        : d->artifact_type ? d->artifact_type
                                                           : m->config.media_type);
          if (! by_annotation)
            {
              ocip_strv_free (out->annotations);
              out->annotations = ocip_strv_dup (m->annotations);
            }
        }
      ocip_manifest_free (m);
    }
  ocip_graph_free (g);
  *ret = found;
  *ret_n = n;
  return 0;
}
