/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The context of one command: which store, its caches, and the options every stage reads. */
#ifndef OCIP_CONTEXT_H
#define OCIP_CONTEXT_H

#include <stdbool.h>

struct ocip_load_progress;

struct ocip_context_options
{
  /* The store directory, copied.  NULL: the default store for loading and bundling
     (ocip_store_default_path), but then no verified-blob cache, whose place the
     context cannot know: a caller that wants it passes the default path itself.  */
  const char *store;
  bool no_cache;                       /* no verified-blob cache, no document cache */
  unsigned jobs;                       /* threads of verify, layers at once of load; 0: each stage's default */
  struct ocip_load_progress *progress; /* counted by load (NULL: not); borrowed, must outlive the context */
};

/* What plan, load, verify and bundle share within one command, in place of process
   globals: the options, a memory cache of verified documents, and the store's
   verified-blob cache, read from STORE/cache/verified-blobs on first use (a store that
   does not exist yet is not created for it: the cache is then empty) and appended to
   once by each entry point that succeeds (ocip_load_images, ocip_verify_layout,
   ocip_bundle_create, ...), never by one that fails.  The store itself is opened by
   the entry points that need it (a handle of the store module is above this one).
   Creating a context does no I/O and never fails; *RET is owned by the caller.
   Thread-safety: the stages of one entry point use it from several threads; two entry
   points must not run on one context at the same time.  Contexts are independent:
   nothing one caches or is told is seen by another.  */
struct ocip_context *ocip_context_new (const struct ocip_context_options *opts);
/* Free CTX and its caches without saving anything (a NULL CTX is a no-op).  Objects
   made with CTX that read through it (layouts, plans) must be freed first.  */
void ocip_context_free (struct ocip_context *ctx);

static inline void
ocip_context_freep (struct ocip_context **ctx)
{
  ocip_context_free (*ctx);
}
#define cleanup_context __attribute__ ((cleanup (ocip_context_freep)))

#endif
