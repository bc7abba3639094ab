/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plan of one image: resolved manifest, config, and its layers bottom to top. */
#ifndef OCIP_PLAN_H
#define OCIP_PLAN_H

#include <stdbool.h>

#include <oci-prep/context.h>
#include <oci-prep/error.h>
#include <oci-prep/image.h>
#include <oci-prep/layout.h>

struct ocip_plan_layer
{
  struct ocip_descriptor blob;     /* the compressed blob, from the manifest */
  enum ocip_compression compression;
  struct ocip_digest diff_id;      /* from the config */
  struct ocip_digest chain_id;     /* after ocip_plan_chain_ids */
};

struct ocip_plan
{
  char *image;                     /* the IMAGE string as given */
  struct ocip_layout *layout;
  struct ocip_descriptor manifest_desc;
  struct ocip_manifest *manifest;
  struct ocip_image_config *config;
  struct ocip_plan_layer *layers;  /* bottom first */
  size_t n_layers;
  bool have_chain_ids;
};

/* Resolve IMAGE (DESIGN §4 grammar) for PLATFORM (NULL: the host's; when given, a
   manifest reached without an index is also checked against its config's platform),
   read and verify its manifest and config, and pair each layer with its diffID.  Layer
   blobs are not read.  Documents are read through the caches of CTX (NULL: none),
   which must outlive the plan.  Errors name IMAGE and the cause (see
   ocip_layout_open, ocip_layout_resolve).  *RET is owned by the caller.  */
int ocip_plan_new (struct ocip_context *ctx, const char *image, const struct ocip_platform *platform,
                   struct ocip_plan **ret, ocip_error_t *err);
void ocip_plan_free (struct ocip_plan *plan);

/* Fill in the layers' chainIDs (hashing: done only where they are used, not on the
   warm path).  */
void ocip_plan_chain_ids (struct ocip_plan *plan);

static inline void
ocip_plan_freep (struct ocip_plan **p)
{
  ocip_plan_free (*p);
}
#define cleanup_plan __attribute__ ((cleanup (ocip_plan_freep)))

#endif
