/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep config: the runtime config.json of an image, printed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/plan.h>

#include "cli.h"

int
cmd_config (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "platform", required_argument, NULL, 'p' },
    { "rootfs", required_argument, NULL, 'r' },
    { "json", no_argument, NULL, 'j' },
    CLI_SPEC_OPTIONS,
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ocip_spec_options spec = { 0 };
  struct cli_image_options io = { 0 };
  /* No store: reading an image needs neither it nor its verified-blob cache.  */
  cleanup_context struct ocip_context *ctx = cli_context (g, false, 0, NULL);
  cleanup_plan struct ocip_plan *plan = NULL;
  cleanup_free char *json = NULL;
  cleanup_strv char **dropped = NULL;
  cleanup_close int rootfd = -1;
  const char *rootfs = NULL;
  int c, r;

  while ((c = getopt_long (argc, argv, "+:te:u:h", options, NULL)) != -1)
    {
      if ((r = cli_spec_option ("config", c, optarg, &spec)) != 0)
        {
          if (r == CLI_USAGE)
            goto out;
          continue;
        }
      switch (c)
        {
        case 'p':
          if ((r = cli_parse_platform ("config", optarg, &io)) != 0)
            goto out;
          break;
        case 'r':
          rootfs = optarg;
          break;
        case 'j':
          /* Accepted as by every command: what config prints is JSON already.  */
          break;
        case 'h':
          r = cli_help ("config");
          goto out;
        default:
          r = cli_bad_option ("config", c, argv);
          goto out;
        }
    }
  if (argc - optind != 1)
    {
      if (argc == optind)
        r = cli_usage_error ("config", "missing IMAGE argument");
      else
        r = cli_usage_error ("config", "unexpected argument '%s'", argv[optind + 1]);
      goto out;
    }
  if (rootfs && (rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
      r = ocip_error_set (err, errno, "open rootfs '%s'", rootfs);
      goto out;
    }
  if ((r = ocip_plan_new (ctx, argv[optind], io.have_platform ? &io.platform : NULL, &plan, err)) < 0
      || (r = ocip_spec_generate (plan->config, rootfd, &spec, &json, &dropped, err)) < 0)
    goto out;
  cli_warn_dropped_labels (dropped);
  if (fputs (json, stdout) == EOF)
    r = ocip_error_set (err, errno, "write to stdout");

out:
  cli_spec_options_clear (&spec);
  ocip_platform_clear (&io.platform);
  return r;
}
