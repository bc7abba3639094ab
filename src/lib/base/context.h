/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the library's stages read from a context (the public half is <oci-prep/context.h>). */
#ifndef OCIP_CONTEXT_PRIVATE_H
#define OCIP_CONTEXT_PRIVATE_H

#include <oci-prep/context.h>
#include <oci-prep/error.h>

#include "base/cache.h"

/* Every getter takes a NULL CTX as a context with default options, no store and no
   caches, so that a stage can be called without one (tests, fuzzers).  */

/* The store path CTX was made with (NULL: the default store); owned by CTX.  */
const char *ocip_context_store_path (const struct ocip_context *ctx);
/* The options' jobs (0: the stage's default) and progress counters (may be NULL).  */
unsigned ocip_context_jobs (const struct ocip_context *ctx);
struct ocip_load_progress *ocip_context_progress (const struct ocip_context *ctx);

/* The document cache, or NULL with no_cache.  Owned by CTX.  */
struct ocip_document_cache *ocip_context_documents (struct ocip_context *ctx);
/* The verified-blob cache, read on the first call (thread-safe); NULL with no_cache,
   without a store path, or when the store directory does not exist or cannot be
   opened (a cache is only a speed-up: such errors are not reported).  Owned by CTX.  */
struct ocip_verified_cache *ocip_context_verified (struct ocip_context *ctx);

/* Append what the verified-blob cache learned since the last save: entry points call
   it once, when they succeed.  A failure to write is ignored, as the cache only saves
   work.  */
void ocip_context_save (struct ocip_context *ctx);

#endif
