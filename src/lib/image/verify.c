/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify: walk the graph, hash the documents on the way and the leaves in parallel. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/context.h"
#include "image/blob.h"
#include <oci-prep/cleanup.h>
#include "image/graph.h"
#include <oci-prep/limits.h>
#include "base/pool.h"
#include <oci-prep/verify.h>

/* Documents that failed while walking, by digest.  */
struct walk_ctx
{
  struct ocip_layout *layout;
  struct ocip_digest *failed;
  char **why;
  int *status;
  size_t n_failed;
};

static void
record_failure (struct walk_ctx *ctx, const struct ocip_digest *d, ocip_error_t *err)
{
  ctx->failed = xreallocarray (ctx->failed, ctx->n_failed + 1, sizeof *ctx->failed);
  ctx->why = xreallocarray (ctx->why, ctx->n_failed + 1, sizeof *ctx->why);
  ctx->status = xreallocarray (ctx->status, ctx->n_failed + 1, sizeof *ctx->status);
  ctx->failed[ctx->n_failed] = *d;
  ctx->status[ctx->n_failed] = (*err)->status;
  ctx->why[ctx->n_failed++] = steal_pointer (&(*err)->msg);
  ocip_error_release (err);
}

static int
verify_children (void *opaque, const struct ocip_descriptor *node, struct ocip_descriptor **ret, size_t *ret_n,
                 ocip_error_t *err)
{
  struct walk_ctx *ctx = opaque;
  ocip_error_t local = NULL;
  int r = 0;

  *ret = NULL;
  *ret_n = 0;
  switch (ocip_media_type_kind (node->media_type))
    {
    case OCIP_KIND_INDEX:
      {
        struct ocip_index *idx = NULL;
        if ((r = ocip_layout_read_index (ctx->layout, node, &idx, &local)) < 0)
          break;
        *ret = steal_pointer (&idx->manifests);
        *ret_n = idx->n_manifests;
        idx->n_manifests = 0;
        ocip_index_free (idx);
        break;
      }
    case OCIP_KIND_MANIFEST:
      {
        struct ocip_manifest *m = NULL;
        size_t i;
        if ((r = ocip_layout_read_manifest (ctx->layout, node, &m, &local)) < 0)
          break;
        *ret = xcalloc (m->n_layers + 1, sizeof **ret);
        (*ret)[0] = m->config;
        memset (&m->config, 0, sizeof m->config);
        for (i = 0; i < m->n_layers; i++)
          (*ret)[i + 1] = m->layers[i];
        *ret_n = m->n_layers + 1;
        m->n_layers = 0;
        ocip_manifest_free (m);
        break;
      }
    default:
      break;
    }
  if (r < 0)
    record_failure (ctx, &node->digest, &local);
  return 0;
}

struct leaf_ctx
{
  struct ocip_layout *layout;
  struct ocip_verify_blob *blobs;
  bool *cached;
};

static void
verify_leaf (void *opaque, size_t i)
{
  struct leaf_ctx *ctx = opaque;
  struct ocip_verify_blob *b = &ctx->blobs[i];
  ocip_error_t err = NULL;

  if (b->failure)
    return;
  switch (ocip_media_type_kind (b->desc.media_type))
    {
    case OCIP_KIND_INDEX:
    case OCIP_KIND_MANIFEST:
      return; /* verified while walking */
    default:
      break;
    }
  if (ocip_blob_verify (ctx->layout->ctx, ctx->layout->dirfd, ctx->layout->archive, &b->desc, &ctx->cached[i], &err) < 0)
    {
      b->status = err->status;
      b->failure = steal_pointer (&err->msg);
      ocip_error_release (&err);
    }
}

int
ocip_verify (struct ocip_layout *layout, const struct ocip_descriptor *roots, size_t n_roots,
             struct ocip_verify_report **ret, ocip_error_t *err)
{
  unsigned jobs = ocip_context_jobs (layout->ctx);
  struct walk_ctx wctx = { .layout = layout };
  struct ocip_graph *g = NULL;
  struct ocip_verify_report *report;
  struct leaf_ctx lctx;
  size_t i, j;
  int r;

  /* Depth: nested indexes, then a manifest, then its config and layers.  */
  r = ocip_graph_walk (roots, n_roots, OCIP_LIMIT_INDEX_DEPTH + 2, verify_children, &wctx, &g, err);
  if (r < 0)
    goto out;

  report = xzalloc (sizeof *report);
  report->n_unsupported = g->n_unsupported;
  report->blobs = xcalloc (g->n_nodes, sizeof *report->blobs);
  report->n_blobs = g->n_nodes;
  for (i = 0; i < g->n_nodes; i++)
    {
      report->blobs[i].desc = g->nodes[i].desc;
      memset (&g->nodes[i].desc, 0, sizeof g->nodes[i].desc);
      report->bytes += report->blobs[i].desc.size;
      for (j = 0; j < wctx.n_failed; j++)
        if (ocip_digest_equal (&wctx.failed[j], &report->blobs[i].desc.digest))
          {
            report->blobs[i].failure = steal_pointer (&wctx.why[j]);
            report->blobs[i].status = wctx.status[j];
          }
    }
  g->n_nodes = 0;

  lctx.layout = layout;
  lctx.blobs = report->blobs;
  lctx.cached = xcalloc (report->n_blobs + 1, sizeof *lctx.cached);
  ocip_pool_run (jobs ? jobs : ocip_pool_default_jobs (), report->n_blobs, verify_leaf, &lctx);
  for (i = 0; i < report->n_blobs; i++)
    {
      report->n_failed += report->blobs[i].failure != NULL;
      report->n_cached += lctx.cached[i];
    }
  free (lctx.cached);
  *ret = report;

out:
  ocip_graph_free (g);
  for (j = 0; j < wctx.n_failed; j++)
    free (wctx.why[j]);
  free (wctx.why);
  free (wctx.status);
  free (wctx.failed);
  return r;
}

int
ocip_verify_layout (struct ocip_context *ctx, const char *target, struct ocip_verify_report **ret, ocip_error_t *err)
{
  struct ocip_image_ref ref = { 0 };
  struct ocip_layout *layout = NULL;
  struct ocip_descriptor *entries = NULL;
  size_t n_entries = 0;
  int r;

  if ((r = ocip_image_ref_parse (target, &ref, err)) < 0)
    return r;
  if ((r = ocip_layout_open_image (ctx, &ref, &layout, err)) < 0)
    goto out;
  /* A bare layout means all of it; a ref or digest, what it names (every platform).  */
  if ((ref.ref || ref.has_digest) && (r = ocip_layout_select (layout, &ref, &entries, &n_entries, err)) < 0)
    goto out;
  r = ocip_verify (layout, entries ? entries : layout->index->manifests,
                   entries ? n_entries : layout->index->n_manifests, ret, err);
  /* The blobs that verified stay verified, whatever became of the others.  */
  if (r == 0)
    ocip_context_save (ctx);

out:
  ocip_descriptors_free (entries, n_entries);
  ocip_layout_free (layout);
  ocip_image_ref_clear (&ref);
  return r;
}

int
ocip_verify_report_error (const struct ocip_verify_report *report, ocip_error_t *err)
{
  size_t i;

  for (i = 0; i < report->n_blobs; i++)
    if (report->blobs[i].failure)
      {
        const struct ocip_verify_blob *b = &report->blobs[i];
        return ocip_error_fail (err, b->status > 0 ? b->status : EIO, "%zu of %zu blobs failed verification%s%s",
                               report->n_failed, report->n_blobs, report->n_failed > 1 ? ", the first: " : ": ",
                               b->failure);
      }
  return 0;
}

void
ocip_verify_report_free (struct ocip_verify_report *report)
{
  size_t i;

  if (report == NULL)
    return;
  for (i = 0; i < report->n_blobs; i++)
    {
      ocip_descriptor_clear (&report->blobs[i].desc);
      free (report->blobs[i].failure);
    }
  free (report->blobs);
  free (report);
}
