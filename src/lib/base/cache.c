/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The document LRU and the verified-blob cache, each an object its owner passes down. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cache.h"
#include <oci-prep/cleanup.h>
#include "base/fsutil.h"
#include <oci-prep/limits.h>
#include "base/lru.h"

#define DOCUMENT_ENTRIES 256
#define DOCUMENT_BYTES (32u * 1024 * 1024)
#define VERIFIED_FILE "cache/verified-blobs"
/* Larger files are not read (the cache starts over): it is only a speed-up.  */
#define VERIFIED_FILE_LIMIT (16u * 1024 * 1024)
#define VERIFIED_ENTRIES 200000

struct ocip_document_cache
{
  pthread_mutex_t lock;
  struct ocip_lru *documents;
};

struct ocip_document_cache *
ocip_document_cache_new (void)
{
  struct ocip_document_cache *c = xzalloc (sizeof *c);

  pthread_mutex_init (&c->lock, NULL);
  c->documents = ocip_lru_new (DOCUMENT_ENTRIES, DOCUMENT_BYTES);
  return c;
}

bool
ocip_document_cache_get (struct ocip_document_cache *c, const struct ocip_digest *d, char **ret, size_t *ret_len)
{
  const void *value;
  size_t len;
  bool hit = false;

  if (c == NULL)
    return false;
  pthread_mutex_lock (&c->lock);
  if ((value = ocip_lru_get (c->documents, d->str, &len)) != NULL)
    {
      *ret = xmalloc (len + 1);
      memcpy (*ret, value, len);
      (*ret)[len] = '\0';
      *ret_len = len;
      hit = true;
    }
  pthread_mutex_unlock (&c->lock);
  return hit;
}

void
ocip_document_cache_put (struct ocip_document_cache *c, const struct ocip_digest *d, const char *buf, size_t len)
{
  if (c == NULL)
    return;
  pthread_mutex_lock (&c->lock);
  ocip_lru_put (c->documents, d->str, buf, len);
  pthread_mutex_unlock (&c->lock);
}

void
ocip_document_cache_free (struct ocip_document_cache *c)
{
  if (c == NULL)
    return;
  ocip_lru_free (c->documents);
  pthread_mutex_destroy (&c->lock);
  free (c);
}

/* The identity a verification is valid for.  */
struct identity
{
  uint64_t dev, ino, size;
  int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

struct ocip_verified_cache
{
  int store_dirfd;
  pthread_mutex_t lock;
  struct ocip_lru *known; /* digest -> struct identity */
  char *pending;          /* lines to append */
  size_t pending_len;
};

static void
identity_of (const struct stat *st, struct identity *id)
{
  memset (id, 0, sizeof *id);
  id->dev = st->st_dev;
  id->ino = st->st_ino;
  id->size = st->st_size;
  id->mtime_sec = st->st_mtim.tv_sec;
  id->mtime_nsec = st->st_mtim.tv_nsec;
  id->ctime_sec = st->st_ctim.tv_sec;
  id->ctime_nsec = st->st_ctim.tv_nsec;
}

static void
parse_line (struct ocip_verified_cache *c, char *line)
{
  struct ocip_digest d;
  struct identity id = { 0 };
  char digest[OCIP_DIGEST_STRING_MAX];
  ocip_error_t err = NULL;

  if (sscanf (line, "%135s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64, digest,
              &id.dev, &id.ino, &id.size, &id.mtime_sec, &id.mtime_nsec, &id.ctime_sec, &id.ctime_nsec)
      != 8)
    return;
  if (ocip_digest_parse (digest, &d, &err) < 0)
    {
      ocip_error_release (&err);
      return;
    }
  ocip_lru_put (c->known, d.str, &id, sizeof id);
}

int
ocip_verified_cache_open (int store_dirfd, struct ocip_verified_cache **ret, ocip_error_t *err)
{
  struct ocip_verified_cache *c = xzalloc (sizeof *c);
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  size_t len = 0;
  ssize_t n;
  char *line, *save = NULL;

  c->store_dirfd = store_dirfd;
  pthread_mutex_init (&c->lock, NULL);
  c->known = ocip_lru_new (VERIFIED_ENTRIES, VERIFIED_ENTRIES * sizeof (struct identity));
  if (mkdirat (store_dirfd, "cache", 0700) < 0 && errno != EEXIST)
    {
      int saved = errno;
      ocip_verified_cache_free (c);
      return ocip_error_set (err, saved, "create the store's cache directory");
    }
  fd = openat (store_dirfd, VERIFIED_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    {
      buf = xmalloc (VERIFIED_FILE_LIMIT + 1);
      while (len < VERIFIED_FILE_LIMIT && (n = read (fd, buf + len, VERIFIED_FILE_LIMIT - len)) > 0)
        len += n;
      buf[len] = '\0';
      for (line = strtok_r (buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
        parse_line (c, line);
    }
  *ret = c;
  return 0;
}

bool
ocip_verified_cache_hit (struct ocip_verified_cache *c, const struct ocip_digest *d, const struct stat *st)
{
  struct identity now;
  const struct identity *then;
  bool hit;

  if (c == NULL)
    return false;
  identity_of (st, &now);
  pthread_mutex_lock (&c->lock);
  then = ocip_lru_get (c->known, d->str, NULL);
  hit = then && memcmp (then, &now, sizeof now) == 0;
  pthread_mutex_unlock (&c->lock);
  return hit;
}

void
ocip_verified_cache_add (struct ocip_verified_cache *c, const struct ocip_digest *d, const struct stat *st)
{
  struct identity id;
  char line[256];
  int n;

  if (c == NULL)
    return;
  identity_of (st, &id);
  n = snprintf (line, sizeof line, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
                d->str, id.dev, id.ino, id.size, id.mtime_sec, id.mtime_nsec, id.ctime_sec, id.ctime_nsec);
  pthread_mutex_lock (&c->lock);
  ocip_lru_put (c->known, d->str, &id, sizeof id);
  c->pending = xrealloc (c->pending, c->pending_len + n + 1);
  memcpy (c->pending + c->pending_len, line, n);
  c->pending_len += n;
  pthread_mutex_unlock (&c->lock);
}

int
ocip_verified_cache_save (struct ocip_verified_cache *c, ocip_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat st;

  if (c == NULL || c->pending_len == 0)
    return 0;
  fd = openat (c->store_dirfd, VERIFIED_FILE, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return ocip_error_set (err, errno, "open '%s'", VERIFIED_FILE);
  /* A file grown past what is read back is started over.  */
  if (fstat (fd, &st) == 0 && st.st_size > (off_t) VERIFIED_FILE_LIMIT / 2 && ftruncate (fd, 0) < 0)
    return ocip_error_set (err, errno, "truncate '%s'", VERIFIED_FILE);
  /* O_APPEND: lines of processes saving at once do not overwrite each other.  */
  if (ocip_write_fd (fd, c->pending, c->pending_len, VERIFIED_FILE, err) < 0)
    return -(*err)->status;
  c->pending_len = 0;
  return 0;
}

void
ocip_verified_cache_free (struct ocip_verified_cache *c)
{
  if (c == NULL)
    return;
  ocip_lru_free (c->known);
  free (c->pending);
  pthread_mutex_destroy (&c->lock);
  free (c);
}
