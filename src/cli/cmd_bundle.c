/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep bundle: config.json and rootfs for runc or crun. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/bundle.h>
#include <oci-prep/cleanup.h>

#include "cli.h"

/* "-- ARGS...": the command line replaces the image's Entrypoint and Cmd.  */
static char **
copy_args (int argc, char **argv)
{
  char **v = xcalloc (argc + 1, sizeof *v);
  int i;

  for (i = 0; i < argc; i++)
    v[i] = xstrdup (argv[i]);
  return v;
}

static int
print_json (const char *bundle, const struct ocip_bundle_result *res, bool flat, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "bundle", bundle);
  ocip_json_gen_kv_string (gen, "id", res->id);
  ocip_json_gen_kv_string (gen, "rootfs", flat ? "flat" : "overlay");
  ocip_json_gen_kv_int64 (gen, "layers", (int64_t) res->n_layers);
  ocip_json_gen_kv_int64 (gen, "extracted", (int64_t) res->n_extracted);
  ocip_json_gen_map_close (gen);
  return cli_print_json (gen, err);
}

int
cmd_bundle (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "platform", required_argument, NULL, 'p' },
    { "flat", no_argument, NULL, 'F' },
    { "force", no_argument, NULL, 'f' },
    { "jobs", required_argument, NULL, 'J' },
    { "json", no_argument, NULL, 'j' },
    { "no-sandbox", no_argument, NULL, 'U' },
    { "uidmap", required_argument, NULL, 'M' },
    { "gidmap", required_argument, NULL, 'G' },
    { "userns", required_argument, NULL, 'N' },
    CLI_SPEC_OPTIONS,
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ocip_load_progress *progress = ocip_load_progress_new ();
  struct ocip_context *ctx = NULL;
  struct ocip_bundle_options opts = { 0 };
  struct ocip_bundle_result res = { 0 };
  struct cli_image_options io = { 0 };
  bool json = g->json;
  unsigned jobs = 0;
  int c, r;

  ocip_load_options_default (&opts.load);
  while ((c = getopt_long (argc, argv, "+:te:u:h", options, NULL)) != -1)
    {
      if ((r = cli_spec_option ("bundle", c, optarg, &opts.spec)) != 0)
        {
          if (r == CLI_USAGE)
            goto out;
          continue;
        }
      switch (c)
        {
        case 'p':
          if ((r = cli_parse_platform ("bundle", optarg, &io)) != 0)
            goto out;
          break;
        case 'F':
          opts.flat = true;
          break;
        case 'f':
          opts.force = true;
          break;
        case 'J':
          if ((r = cli_parse_jobs ("bundle", optarg, &jobs)) != 0)
            goto out;
          break;
        case 'j':
          json = true;
          break;
        case 'U':
          opts.load.no_sandbox = true;
          break;
        case 'M':
          cli_strv_push (&opts.uidmap, optarg);
          break;
        case 'G':
          cli_strv_push (&opts.gidmap, optarg);
          break;
        case 'N':
          opts.userns = optarg;
          break;
        case 'h':
          r = cli_help ("bundle");
          goto out;
        default:
          r = cli_bad_option ("bundle", c, argv);
          goto out;
        }
    }
  if (argc - optind < 2)
    {
      r = cli_usage_error ("bundle", "missing %s argument", argc == optind ? "IMAGE" : "BUNDLE");
      goto out;
    }
  if (argc - optind > 2)
    {
      if (strcmp (argv[optind + 2], "--") != 0 && strcmp (argv[optind - 1], "--") != 0)
        {
          r = cli_usage_error ("bundle", "unexpected argument '%s' (a command goes after --)", argv[optind + 2]);
          goto out;
        }
      opts.spec.args = copy_args (argc - optind - 2 - (strcmp (argv[optind + 2], "--") == 0),
                                  argv + optind + 2 + (strcmp (argv[optind + 2], "--") == 0));
    }
  opts.platform = io.have_platform ? &io.platform : NULL;
  /* An overlay mounted in oci-prep's own user namespace would be gone when it exits
     (and the host's mount namespace refuses it anyway): an ordinary user's bundle is a
     copy, which a rootless runtime runs as it is.  */
  if (g->userns)
    opts.flat = true;

  ctx = cli_context (g, true, jobs, progress);
  cli_progress_start (g, progress);
  r = ocip_bundle_create (ctx, argv[optind], argv[optind + 1], &opts, &res, err);
  cli_progress_stop ();
  if (r == 0)
    {
      cli_warn_dropped_labels (res.dropped_annotations);
      cli_warn_skipped_devices (res.skipped_devices);
    }
  if (r == 0 && json)
    r = print_json (argv[optind + 1], &res, opts.flat, err);
  else if (r == 0 && g->verbosity >= 0)
    cli_line (stdout, "bundle %s: %zu layers (%zu extracted), %s rootfs", argv[optind + 1], res.n_layers,
              res.n_extracted, opts.flat ? "flat" : "overlay");
  ocip_bundle_result_clear (&res);

out:
  ocip_context_free (ctx);
  cli_spec_options_clear (&opts.spec);
  ocip_strv_free (opts.uidmap);
  ocip_strv_free (opts.gidmap);
  ocip_platform_clear (&io.platform);
  ocip_load_progress_free (progress);
  return r;
}
