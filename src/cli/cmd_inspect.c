/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep inspect: what an IMAGE resolves to. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/plan.h>

#include "cli.h"

static void
gen_layers (struct ocip_json_gen *gen, const struct ocip_plan *plan)
{
  size_t i;

  ocip_json_gen_string (gen, "layers");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < plan->n_layers; i++)
    {
      const struct ocip_plan_layer *l = &plan->layers[i];
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "mediaType", l->blob.media_type);
      ocip_json_gen_kv_string (gen, "digest", l->blob.digest.str);
      ocip_json_gen_kv_int64 (gen, "size", l->blob.size);
      ocip_json_gen_kv_string (gen, "compression", ocip_compression_name (l->compression));
      ocip_json_gen_kv_string (gen, "diffID", l->diff_id.str);
      ocip_json_gen_kv_string (gen, "chainID", l->chain_id.str);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
}

static void
gen_config (struct ocip_json_gen *gen, const struct ocip_plan *plan)
{
  const struct ocip_image_config *c = plan->config;
  char **kv;

  ocip_json_gen_string (gen, "config");
  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "digest", plan->manifest->config.digest.str);
  ocip_json_gen_kv_string (gen, "mediaType", plan->manifest->config.media_type);
  ocip_json_gen_kv_int64 (gen, "size", plan->manifest->config.size);
  ocip_json_gen_kv_string (gen, "created", c->created);
  ocip_json_gen_kv_string (gen, "author", c->author);
  ocip_json_gen_kv_strv (gen, "entrypoint", c->entrypoint);
  ocip_json_gen_kv_strv (gen, "cmd", c->cmd);
  ocip_json_gen_kv_strv (gen, "env", c->env);
  ocip_json_gen_kv_string (gen, "user", c->user);
  ocip_json_gen_kv_string (gen, "workingDir", c->working_dir);
  ocip_json_gen_kv_string (gen, "stopSignal", c->stop_signal);
  ocip_json_gen_kv_strv (gen, "exposedPorts", c->exposed_ports);
  ocip_json_gen_kv_strv (gen, "volumes", c->volumes);
  if (c->labels)
    {
      ocip_json_gen_string (gen, "labels");
      ocip_json_gen_map_open (gen);
      for (kv = c->labels; *kv; kv += 2)
        ocip_json_gen_kv_string (gen, kv[0], kv[1]);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_map_close (gen);
}

/* "referrers": [{artifactType, mediaType, digest, size, annotations}] */
static void
gen_referrers (struct ocip_json_gen *gen, const struct ocip_descriptor *refs, size_t n)
{
  char **kv;
  size_t i;

  ocip_json_gen_string (gen, "referrers");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < n; i++)
    {
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "artifactType", refs[i].artifact_type);
      ocip_json_gen_kv_string (gen, "mediaType", refs[i].media_type);
      ocip_json_gen_kv_string (gen, "digest", refs[i].digest.str);
      ocip_json_gen_kv_int64 (gen, "size", refs[i].size);
      if (refs[i].annotations)
        {
          ocip_json_gen_string (gen, "annotations");
          ocip_json_gen_map_open (gen);
          for (kv = refs[i].annotations; *kv; kv += 2)
            ocip_json_gen_kv_string (gen, kv[0], kv[1]);
          ocip_json_gen_map_close (gen);
        }
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
}

static int
print_json (const struct ocip_plan *plan, const struct ocip_descriptor *refs, size_t n_refs, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  cleanup_free char *platform = ocip_platform_string (&plan->config->platform);

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "image", plan->image);
  ocip_json_gen_string (gen, "manifest");
  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "digest", plan->manifest_desc.digest.str);
  ocip_json_gen_kv_string (gen, "mediaType", plan->manifest_desc.media_type);
  ocip_json_gen_kv_int64 (gen, "size", plan->manifest_desc.size);
  ocip_json_gen_map_close (gen);
  ocip_json_gen_kv_string (gen, "platform", platform);
  gen_config (gen, plan);
  gen_layers (gen, plan);
  gen_referrers (gen, refs, n_refs);
  ocip_json_gen_map_close (gen);
  return cli_print_json (gen, err);
}

/* A string vector as ["a","b c"]: unambiguous for arguments with spaces.  Each element
   goes through cli_escape with '"' escaped too, so an argument cannot close its quotes
   or the line.  */
static void
print_strv (const char *label, char **v)
{
  if (v == NULL)
    return;
  cli_print (stdout, "%-11s [", label);
  for (; *v; v++)
    {
      fputc ('"', stdout);
      cli_escape (stdout, *v, "\"");
      fputs (v[1] ? "\"," : "\"", stdout);
    }
  fputs ("]\n", stdout);
}

/* Every string here but the digests (whose grammar was checked) comes from the image
   or the command line: cli_line escapes them all.  */
static void
print_text (const struct ocip_plan *plan, const struct ocip_descriptor *refs, size_t n_refs)
{
  const struct ocip_image_config *c = plan->config;
  cleanup_free char *platform = ocip_platform_string (&c->platform);
  char **p;
  size_t i;

  cli_line (stdout, "%-11s %s", "image", plan->image);
  cli_line (stdout, "%-11s %s (%s, %lld bytes)", "manifest", plan->manifest_desc.digest.str,
            plan->manifest_desc.media_type, (long long) plan->manifest_desc.size);
  cli_line (stdout, "%-11s %s", "platform", platform);
  cli_line (stdout, "%-11s %s (%lld bytes)", "config", plan->manifest->config.digest.str,
            (long long) plan->manifest->config.size);
  if (c->created)
    cli_line (stdout, "%-11s %s", "created", c->created);
  print_strv ("entrypoint", c->entrypoint);
  print_strv ("cmd", c->cmd);
  for (p = c->env; p && *p; p++)
    cli_line (stdout, "%-11s %s", "env", *p);
  if (c->user && *c->user)
    cli_line (stdout, "%-11s %s", "user", c->user);
  if (c->working_dir && *c->working_dir)
    cli_line (stdout, "%-11s %s", "workdir", c->working_dir);
  for (p = c->labels; p && *p; p += 2)
    {
      /* A key holding '=' would make "a=b" + "c" read as "a" + "b=c".  */
      cli_print (stdout, "%-11s ", "label");
      cli_escape (stdout, p[0], "=");
      cli_line (stdout, "=%s", p[1]);
    }
  cli_line (stdout, "%-11s %zu", "layers", plan->n_layers);
  for (i = 0; i < plan->n_layers; i++)
    {
      const struct ocip_plan_layer *l = &plan->layers[i];
      cli_line (stdout, "  %zu %s %lld bytes", i + 1, l->blob.media_type, (long long) l->blob.size);
      cli_line (stdout, "    digest  %s", l->blob.digest.str);
      cli_line (stdout, "    diffID  %s", l->diff_id.str);
      cli_line (stdout, "    chainID %s", l->chain_id.str);
    }
  if (n_refs > 0)
    cli_line (stdout, "%-11s %zu", "referrers", n_refs);
  for (i = 0; i < n_refs; i++)
    {
      cli_line (stdout, "  %s %s", refs[i].artifact_type, refs[i].digest.str);
      for (p = refs[i].annotations; p && *p; p += 2)
        {
          cli_print (stdout, "    ");
          cli_escape (stdout, p[0], "=");
          cli_line (stdout, "=%s", p[1]);
        }
    }
}

int
cmd_inspect (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "platform", required_argument, NULL, 'p' },
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  /* No store: reading an image needs neither it nor its verified-blob cache.  */
  cleanup_context struct ocip_context *ctx = cli_context (g, false, 0, NULL);
  cleanup_plan struct ocip_plan *plan = NULL;
  struct ocip_descriptor *refs = NULL;
  size_t n_refs = 0;
  struct cli_image_options io = { 0 };
  bool json = g->json;
  int c, r;

  while ((c = getopt_long (argc, argv, ":h", options, NULL)) != -1)
    switch (c)
      {
      case 'p':
        if ((r = cli_parse_platform ("inspect", optarg, &io)) != 0)
          return r;
        break;
      case 'j':
        json = true;
        break;
      case 'h':
        ocip_platform_clear (&io.platform);
        return cli_help ("inspect");
      default:
        ocip_platform_clear (&io.platform);
        return cli_bad_option ("inspect", c, argv);
      }
  if (optind != argc - 1)
    {
      ocip_platform_clear (&io.platform);
      if (optind == argc)
        return cli_usage_error ("inspect", "missing IMAGE argument");
      return cli_usage_error ("inspect", "unexpected argument '%s'", argv[optind + 1]);
    }

  r = ocip_plan_new (ctx, argv[optind], io.have_platform ? &io.platform : NULL, &plan, err);
  ocip_platform_clear (&io.platform);
  if (r < 0)
    return r;
  ocip_plan_chain_ids (plan);
  if ((r = ocip_layout_referrers (plan->layout, &plan->manifest_desc.digest, &refs, &n_refs, err)) < 0)
    return r;
  if (json)
    r = print_json (plan, refs, n_refs, err);
  else
    print_text (plan, refs, n_refs);
  ocip_descriptors_free (refs, n_refs);
  return r;
}
