/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep load: every layer of each IMAGE present in the store. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/load.h>

#include "cli.h"

static const char *const state_names[] = {
  [OCIP_LOAD_PRESENT] = "present",
  [OCIP_LOAD_EXTRACTED] = "extracted",
  [OCIP_LOAD_FAILED] = "failed",
};

static int
print_json (const struct ocip_load_report *report, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  size_t i;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_string (gen, "layers");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < report->n_layers; i++)
    {
      const struct ocip_load_layer *l = &report->layers[i];
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "diffID", l->diff_id.str);
      ocip_json_gen_kv_string (gen, "digest", l->blob_digest.str);
      ocip_json_gen_kv_int64 (gen, "compressedSize", l->blob_size);
      ocip_json_gen_kv_string (gen, "state", state_names[l->state]);
      if (l->state == OCIP_LOAD_EXTRACTED)
        {
          ocip_json_gen_kv_int64 (gen, "size", (int64_t) l->bytes);
          ocip_json_gen_kv_int64 (gen, "entries", (int64_t) l->entries);
        }
      ocip_json_gen_kv_string (gen, "error", l->error);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
  ocip_json_gen_map_close (gen);
  return cli_print_json (gen, err);
}

/* A line per layer on stdout; with -v, a line per failed layer on stderr too (without
   -v the one error line main prints names the first).  */
static void
print_text (const struct cli_globals *g, const struct ocip_load_report *report)
{
  size_t i;

  for (i = 0; i < report->n_layers; i++)
    {
      const struct ocip_load_layer *l = &report->layers[i];
      if (l->state == OCIP_LOAD_EXTRACTED && g->verbosity >= 0)
        cli_line (stdout, "%-9s %s %llu bytes, %llu entries", state_names[l->state], l->diff_id.str,
                  (unsigned long long) l->bytes, (unsigned long long) l->entries);
      else if (l->state == OCIP_LOAD_PRESENT && g->verbosity >= 0)
        cli_line (stdout, "%-9s %s", state_names[l->state], l->diff_id.str);
      else if (l->state == OCIP_LOAD_FAILED && g->verbosity > 0)
        cli_print_error (l->error);
    }
}

/* One warning line for the device nodes of all the layers extracted.  */
static void
warn_skipped (const struct ocip_load_report *report)
{
  cleanup_free char **all = NULL;
  size_t n = 0, i, j;

  for (i = 0; i < report->n_layers; i++)
    for (j = 0; report->layers[i].skipped_devices && report->layers[i].skipped_devices[j]; j++)
      n++;
  if (n == 0)
    return;
  all = calloc (n + 1, sizeof *all);
  if (all == NULL)
    abort ();
  n = 0;
  for (i = 0; i < report->n_layers; i++)
    for (j = 0; report->layers[i].skipped_devices && report->layers[i].skipped_devices[j]; j++)
      all[n++] = report->layers[i].skipped_devices[j];
  cli_warn_skipped_devices (all);
}

int
cmd_load (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "json", no_argument, NULL, 'j' },
    { "jobs", required_argument, NULL, 'J' },
    { "platform", required_argument, NULL, 'p' },
    { "max-layer-size", required_argument, NULL, 'S' },
    { "max-entries", required_argument, NULL, 'E' },
    { "no-sandbox", no_argument, NULL, 'U' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ocip_load_progress *progress = ocip_load_progress_new ();
  struct ocip_context *ctx = NULL;
  struct ocip_load_options opts;
  struct cli_image_options io = { 0 };
  struct ocip_load_report *report = NULL;
  bool json = g->json;
  unsigned jobs = 0;
  int c, r;

  ocip_load_options_default (&opts);
  while ((c = getopt_long (argc, argv, ":h", options, NULL)) != -1)
    switch (c)
      {
      case 'j':
        json = true;
        break;
      case 'J':
        if ((r = cli_parse_jobs ("load", optarg, &jobs)) != 0)
          goto out;
        break;
      case 'p':
        if ((r = cli_parse_platform ("load", optarg, &io)) != 0)
          goto out;
        break;
      case 'S':
        if ((r = cli_parse_size ("load", "--max-layer-size", optarg, &opts.max_bytes)) != 0)
          goto out;
        break;
      case 'U':
        opts.no_sandbox = true;
        break;
      case 'E':
        if ((r = cli_parse_size ("load", "--max-entries", optarg, &opts.max_entries)) != 0)
          goto out;
        break;
      case 'h':
        r = cli_help ("load");
        goto out;
      default:
        r = cli_bad_option ("load", c, argv);
        goto out;
      }
  if (optind >= argc)
    {
      r = cli_usage_error ("load", "missing IMAGE argument");
      goto out;
    }

  ctx = cli_context (g, true, jobs, progress);
  cli_progress_start (g, progress);
  r = ocip_load_images (ctx, argv + optind, argc - optind, io.have_platform ? &io.platform : NULL, &opts, &report,
                        err);
  cli_progress_stop ();
  if (r < 0)
    goto out;

  if (json)
    r = print_json (report, err);
  else
    print_text (g, report);
  warn_skipped (report);
  /* One failure, one line on stderr: the first cause with its own errno class.  */
  if (r == 0)
    r = ocip_load_report_error (report, err);

out:
  ocip_load_report_free (report);
  ocip_context_free (ctx);
  ocip_platform_clear (&io.platform);
  ocip_load_progress_free (progress);
  return r;
}
