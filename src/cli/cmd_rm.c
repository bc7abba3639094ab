/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep rm: unmount and remove a bundle oci-prep made, releasing its pins. */
#include "config.h"

#include <getopt.h>

#include <oci-prep/bundle.h>

#include "cli.h"

int
cmd_rm (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool force = false;
  int c, i, r;

  while ((c = getopt_long (argc, argv, ":fh", options, NULL)) != -1)
    switch (c)
      {
      case 'f':
        force = true;
        break;
      case 'h':
        return cli_help ("rm");
      default:
        return cli_bad_option ("rm", c, argv);
      }
  if (optind >= argc)
    return cli_usage_error ("rm", "missing BUNDLE argument");
  for (i = optind; i < argc; i++)
    if ((r = ocip_bundle_remove (argv[i], force, err)) < 0)
      return r;
  return 0;
}
