/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep verify: digest and size of every reachable blob; one line for the first failure, all with -v or --json. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/verify.h>

#include "cli.h"

static int
print_json (const struct ocip_verify_report *report, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  size_t i;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_int64 (gen, "blobs", (int64_t) report->n_blobs);
  ocip_json_gen_kv_int64 (gen, "bytes", report->bytes);
  ocip_json_gen_kv_int64 (gen, "cached", (int64_t) report->n_cached);
  ocip_json_gen_kv_int64 (gen, "unsupported", (int64_t) report->n_unsupported);
  ocip_json_gen_string (gen, "failures");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < report->n_blobs; i++)
    if (report->blobs[i].failure)
      {
        ocip_json_gen_map_open (gen);
        ocip_json_gen_kv_string (gen, "digest", report->blobs[i].desc.digest.str);
        ocip_json_gen_kv_string (gen, "mediaType", report->blobs[i].desc.media_type);
        ocip_json_gen_kv_string (gen, "error", report->blobs[i].failure);
        ocip_json_gen_map_close (gen);
      }
  ocip_json_gen_array_close (gen);
  ocip_json_gen_map_close (gen);
  return cli_print_json (gen, err);
}

int
cmd_verify (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "json", no_argument, NULL, 'j' },
    { "jobs", required_argument, NULL, 'J' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ocip_verify_report *report = NULL;
  struct ocip_context *ctx = NULL;
  unsigned jobs = 0;
  bool json = g->json;
  size_t i;
  int c, r;

  while ((c = getopt_long (argc, argv, ":h", options, NULL)) != -1)
    switch (c)
      {
      case 'j':
        json = true;
        break;
      case 'J':
        if ((r = cli_parse_jobs ("verify", optarg, &jobs)) != 0)
          return r;
        break;
      case 'h':
        return cli_help ("verify");
      default:
        return cli_bad_option ("verify", c, argv);
      }
  if (optind == argc)
    return cli_usage_error ("verify", "missing LAYOUT or IMAGE argument");
  if (optind != argc - 1)
    return cli_usage_error ("verify", "unexpected argument '%s'", argv[optind + 1]);

  /* The verified-blob cache lives in the store; verify uses an existing store but never
     creates one.  Without it (or with --no-cache) everything is hashed.  */
  ctx = cli_context (g, true, jobs, NULL);
  if ((r = ocip_verify_layout (ctx, argv[optind], &report, err)) < 0)
    goto out;

  if (json)
    r = print_json (report, err);
  else if (g->verbosity >= 0 && report->n_failed == 0)
    {
      cli_line (stdout, "verified %zu blobs, %lld bytes (%zu unchanged since verified before)", report->n_blobs,
                (long long) report->bytes, report->n_cached);
      if (report->n_unsupported)
        cli_line (stdout, "skipped %zu descriptors of an unsupported digest algorithm (not needed by what was verified)",
                  report->n_unsupported);
    }
  /* One failure, one line on stderr (main prints the first); every one with -v.  */
  if (r == 0 && ! json && g->verbosity > 0)
    for (i = 0; i < report->n_blobs; i++)
      if (report->blobs[i].failure)
        cli_print_error (report->blobs[i].failure);
  if (r == 0 && ocip_verify_report_error (report, err) < 0)
    r = ocip_error_wrap (err, "'%s'", argv[optind]);

out:
  ocip_verify_report_free (report);
  ocip_context_free (ctx);
  return r;
}
