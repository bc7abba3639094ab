/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planning: from an IMAGE string to the ordered layers of one verified manifest. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/blob.h"
#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>
#include <oci-prep/plan.h>

static int
read_config (struct ocip_plan *plan, ocip_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  int r;

  if ((r = ocip_blob_read_all (plan->layout->ctx, plan->layout->dirfd, plan->layout->archive, &plan->manifest->config,
                               OCIP_LIMIT_JSON_DOCUMENT_SIZE, &buf, &len, err))
      < 0)
    return r;
  if ((r = ocip_image_config_parse (buf, len, plan->manifest->n_layers, &plan->config, err)) < 0)
    return ocip_error_wrap (err, "config '%s'", plan->manifest->config.digest.str);
  return 0;
}

static int
build_layers (struct ocip_plan *plan, ocip_error_t *err)
{
  size_t i, n = plan->manifest->n_layers;
  int r;

  plan->layers = xcalloc (n, sizeof *plan->layers);
  for (i = 0; i < n; i++)
    {
      struct ocip_plan_layer *l = &plan->layers[i];
      ocip_descriptor_copy (&plan->manifest->layers[i], &l->blob);
      plan->n_layers++;
      if ((r = ocip_media_type_compression (l->blob.media_type, &l->compression, err)) < 0)
        return r;
      l->diff_id = plan->config->diff_ids[i];
    }
  return 0;
}

int
ocip_plan_new (struct ocip_context *ctx, const char *image, const struct ocip_platform *platform,
               struct ocip_plan **ret, ocip_error_t *err)
{
  struct ocip_image_ref ref;
  struct ocip_platform host = { 0 };
  struct ocip_plan *plan;
  int r;

  if ((r = ocip_image_ref_parse (image, &ref, err)) < 0)
    return r;
  plan = xzalloc (sizeof *plan);
  plan->image = xstrdup (image);
  if ((r = ocip_layout_open_image (ctx, &ref, &plan->layout, err)) < 0)
    goto out;
  if (platform == NULL)
    ocip_platform_host (&host);
  if ((r = ocip_layout_resolve (plan->layout, &ref, platform ? platform : &host, &plan->manifest_desc, err)) < 0
      || (r = ocip_layout_read_manifest (plan->layout, &plan->manifest_desc, &plan->manifest, err)) < 0)
    goto out;
  if (plan->manifest->artifact_type)
    {
      r = ocip_error_fail (err, EINVAL, "manifest '%s' is an artifact of type '%s', not an image",
                           plan->manifest_desc.digest.str, plan->manifest->artifact_type);
      goto out;
    }
  if ((r = read_config (plan, err)) < 0 || (r = build_layers (plan, err)) < 0)
    goto out;
  if (platform && ! plan->manifest_desc.has_platform && ! ocip_platform_match (platform, &plan->config->platform))
    {
      cleanup_free char *want = ocip_platform_string (platform);
      cleanup_free char *have = ocip_platform_string (&plan->config->platform);
      r = ocip_error_fail (err, ENOENT, "image is for platform %s, not %s", have, want);
      goto out;
    }

out:
  ocip_platform_clear (&host);
  ocip_image_ref_clear (&ref);
  if (r < 0)
    {
      ocip_error_wrap (err, "image '%s'", image);
      ocip_plan_free (plan);
      return r;
    }
  *ret = plan;
  return 0;
}

void
ocip_plan_chain_ids (struct ocip_plan *plan)
{
  cleanup_free struct ocip_digest *chain = NULL;
  size_t i;

  if (plan->have_chain_ids || plan->n_layers == 0)
    return;
  chain = xcalloc (plan->n_layers, sizeof *chain);
  ocip_chain_ids (plan->config->diff_ids, plan->n_layers, chain);
  for (i = 0; i < plan->n_layers; i++)
    plan->layers[i].chain_id = chain[i];
  plan->have_chain_ids = true;
}

void
ocip_plan_free (struct ocip_plan *plan)
{
  size_t i;

  if (plan == NULL)
    return;
  free (plan->image);
  ocip_layout_free (plan->layout);
  if (plan->manifest_desc.media_type)
    ocip_descriptor_clear (&plan->manifest_desc);
  ocip_manifest_free (plan->manifest);
  ocip_image_config_free (plan->config);
  for (i = 0; i < plan->n_layers; i++)
    ocip_descriptor_clear (&plan->layers[i].blob);
  free (plan->layers);
  free (plan);
}
