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
    { NULL, 0, NULL, 0 },
  };
  bool force = false;
  int c, i, r;

  while ((c = getopt_long (argc, argv, "f", options, NULL)) != -1)
    switch (c)
      {
      case 'f':
        force = true;
        break;
      default:
        return cli_usage_error ("rm", "unknown option");
      }
  if (optind >= argc)
    return cli_usage_error ("rm", "expected BUNDLE...");
  for (i = optind; i < argc; i++)
    if ((r = ocip_bundle_remove (argv[i], force, err)) < 0)
      return r;
  return 0;
}
