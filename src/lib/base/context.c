/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The context of one command: options, the document cache, the store's verified-blob cache. */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>

#include "base/context.h"

struct ocip_context
{
  char *store_path; /* NULL: the default store */
  bool no_cache;
  unsigned jobs;
  struct ocip_load_progress *progress;
  struct ocip_document_cache *documents;

  pthread_mutex_t lock; /* the first use of the verified-blob cache */
  bool verified_tried;
  int store_dirfd; /* the verified-blob cache's, borrowed by it */
  struct ocip_verified_cache *verified;
};

struct ocip_context *
ocip_context_new (const struct ocip_context_options *opts)
{
  struct ocip_context *ctx = xzalloc (sizeof *ctx);

  ctx->store_path = opts->store ? xstrdup (opts->store) : NULL;
  ctx->no_cache = opts->no_cache;
  ctx->jobs = opts->jobs;
  ctx->progress = opts->progress;
  ctx->documents = opts->no_cache ? NULL : ocip_document_cache_new ();
  ctx->store_dirfd = -1;
  pthread_mutex_init (&ctx->lock, NULL);
  return ctx;
}

void
ocip_context_free (struct ocip_context *ctx)
{
  if (ctx == NULL)
    return;
  ocip_verified_cache_free (ctx->verified);
  ocip_closep (&ctx->store_dirfd);
  ocip_document_cache_free (ctx->documents);
  pthread_mutex_destroy (&ctx->lock);
  free (ctx->store_path);
  free (ctx);
}

const char *
ocip_context_store_path (const struct ocip_context *ctx)
{
  return ctx ? ctx->store_path : NULL;
}

unsigned
ocip_context_jobs (const struct ocip_context *ctx)
{
  return ctx ? ctx->jobs : 0;
}

struct ocip_load_progress *
ocip_context_progress (const struct ocip_context *ctx)
{
  return ctx ? ctx->progress : NULL;
}

struct ocip_document_cache *
ocip_context_documents (struct ocip_context *ctx)
{
  return ctx ? ctx->documents : NULL;
}

struct ocip_verified_cache *
ocip_context_verified (struct ocip_context *ctx)
{
  struct ocip_verified_cache *c;

  if (ctx == NULL || ctx->no_cache || ctx->store_path == NULL)
    return NULL;
  pthread_mutex_lock (&ctx->lock);
  if (! ctx->verified_tried)
    {
      ocip_error_t ignored = NULL;

      ctx->verified_tried = true;
      /* The caller's own path, followed like ocip_store_open follows it; never created
         here: verify uses an existing store but makes none.  */
      ctx->store_dirfd = open (ctx->store_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (ctx->store_dirfd >= 0 && ocip_verified_cache_open (ctx->store_dirfd, &ctx->verified, &ignored) < 0)
        ocip_error_release (&ignored);
    }
  c = ctx->verified;
  pthread_mutex_unlock (&ctx->lock);
  return c;
}

void
ocip_context_save (struct ocip_context *ctx)
{
  ocip_error_t ignored = NULL;

  if (ctx == NULL)
    return;
  pthread_mutex_lock (&ctx->lock);
  if (ctx->verified && ocip_verified_cache_save (ctx->verified, &ignored) < 0)
    ocip_error_release (&ignored);
  pthread_mutex_unlock (&ctx->lock);
}
