/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making every layer of a set of plans present in the store, extracting in parallel. */
#ifndef OCIP_LOAD_H
#define OCIP_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include <oci-prep/context.h>
#include <oci-prep/error.h>
#include <oci-prep/image.h>
#include <oci-prep/plan.h>
#include <oci-prep/store.h>

/* Counters a caller may watch while ocip_load runs (from another thread): compressed
   bytes read and layers finished, of those this call extracts.  Extraction runs in a
   child process, so they live in shared memory: get them from ocip_load_progress_new
   (never fails; free with ocip_load_progress_free) and hand them to the context
   (struct ocip_context_options).  */
struct ocip_load_progress
{
  _Atomic uint64_t done_bytes, total_bytes;
  _Atomic uint32_t done_layers, total_layers;
};

struct ocip_load_progress *ocip_load_progress_new (void);
void ocip_load_progress_free (struct ocip_load_progress *p);

/* How layers are extracted.  Layers at once and progress come from the context (its
   jobs, 0: two per CPU).  */
struct ocip_load_options
{
  bool no_sandbox;      /* extract in this process, unconfined (debugging, measuring) */
  uint64_t max_bytes;   /* per layer: the sum of the sizes entries declare, and the uncompressed stream */
  uint64_t max_entries; /* per layer */
};

/* The defaults: sandboxed, OCIP_LIMIT_LAYER_BYTES and OCIP_LIMIT_LAYER_ENTRIES.  */
void ocip_load_options_default (struct ocip_load_options *opts);

enum ocip_load_state
{
  OCIP_LOAD_PRESENT,   /* already in the store (perhaps extracted meanwhile by another process) */
  OCIP_LOAD_EXTRACTED, /* extracted and committed by this call */
  OCIP_LOAD_FAILED,
};

struct ocip_load_layer
{
  struct ocip_digest diff_id;
  struct ocip_digest blob_digest;
  int64_t blob_size;
  enum ocip_load_state state;
  uint64_t bytes;   /* uncompressed tar bytes (extracted layers) */
  uint64_t entries; /* tar entries (extracted layers) */
  char *error;      /* why it failed, naming the layer; NULL otherwise */
  int status;       /* and its errno class */
  /* Device nodes of the layer that were not created (extracted for a user's store:
     a user namespace may not make devices), paths inside the layer, NULL-terminated;
     NULL when none.  Owned by the report.  */
  char **skipped_devices;
};

struct ocip_load_report
{
  struct ocip_load_layer *layers; /* each distinct diffID once, in plan order */
  size_t n_layers;
  size_t n_failed;
};

/* Make the layers of PLANS present in STORE (open, of CTX's store path).  Missing
   layers are extracted at the same time, the context's jobs at once, each in one
   streaming pass: blob (size and digest
   enforced) -> decompressor chosen by media type -> diffID hash (trailing bytes
   included) -> ocip_extract_tar into a work area; a diffID mismatch discards it.
   All successful work areas are made durable with one syncfs, then committed.  Each
   batch is extracted by a child process confined by ocip_sandbox_enter (the untrusted
   bytes are parsed there), unless OPTS->no_sandbox.
   A layer that another process is extracting is waited for (its lock), never
   extracted twice; layers this process can take are never held up by it.
   Returns 0: every failure belongs to a layer (a lock, the extraction, the sync or
   the commit of that layer) and is in the report, and the others still commit.
   Layer blobs are opened as ocip_blob_open does (never a followed symlink).  *RET is
   owned by the caller.  */
int ocip_load (struct ocip_context *ctx, struct ocip_store *store, struct ocip_plan *const *plans, size_t n_plans,
               const struct ocip_load_options *opts, struct ocip_load_report **ret, ocip_error_t *err);

/* The load command: open CTX's store (created if missing, see ocip_store_open), plan
   each of the N_IMAGES IMAGES for PLATFORM (NULL: the host's) with CTX, and
   ocip_load them all at once.  Negative, with nothing loaded, when the store cannot
   be opened or an image cannot be planned (the error names it); else 0 with the
   per-layer outcome in *RET (owned by the caller), and the context's verified-blob
   cache saved.  */
int ocip_load_images (struct ocip_context *ctx, char *const *images, size_t n_images,
                      const struct ocip_platform *platform, const struct ocip_load_options *opts,
                      struct ocip_load_report **ret, ocip_error_t *err);
/* The outcome of REPORT as one error: 0 when no layer failed, else -status of the first
   failed layer (plan order) with *ERR set to "N of M layers failed to load" and that
   layer's message.  The class is that layer's own (ENOSPC from a full store, EBADMSG
   from a digest mismatch), never a summary class.  */
int ocip_load_report_error (const struct ocip_load_report *report, ocip_error_t *err);
void ocip_load_report_free (struct ocip_load_report *report);

#endif
