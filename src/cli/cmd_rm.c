/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep rm: unmount and remove a bundle oci-prep made, releasing its pins. */
#include "config.h"

#include <getopt.h>

#include <oci-prep/bundle.h>
#include <oci-prep/cleanup.h>

#include "cli.h"

/* {"removed": [{"bundle", "id", "store", "rootfs", "layers"}]}: written once every
   bundle is removed; on a failure the ones before it are gone, which the error names.  */
static void
gen_removal (struct ocip_json_gen *gen, const char *bundle, const struct ocip_bundle_removal *rm)
{
  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "bundle", bundle);
  ocip_json_gen_kv_string (gen, "id", rm->id);
  ocip_json_gen_kv_string (gen, "store", rm->store);
  ocip_json_gen_kv_string (gen, "rootfs", rm->id == NULL ? NULL : rm->flat ? "flat" : "overlay");
  ocip_json_gen_kv_int64 (gen, "layers", (int64_t) rm->n_layers);
  ocip_json_gen_map_close (gen);
}

int
cmd_rm (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "force", no_argument, NULL, 'f' },
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_json_gen struct ocip_json_gen *gen = NULL;
  bool force = false, json = g->json;
  int c, i, r;

  while ((c = getopt_long (argc, argv, ":fh", options, NULL)) != -1)
    switch (c)
      {
      case 'f':
        force = true;
        break;
      case 'j':
        json = true;
        break;
      case 'h':
        return cli_help ("rm");
      default:
        return cli_bad_option ("rm", c, argv);
      }
  if (optind >= argc)
    return cli_usage_error ("rm", "missing BUNDLE argument");
  if (json)
    {
      gen = ocip_json_gen_new (true);
      ocip_json_gen_map_open (gen);
      ocip_json_gen_string (gen, "removed");
      ocip_json_gen_array_open (gen);
    }
  for (i = optind; i < argc; i++)
    {
      struct ocip_bundle_removal rm = { 0 };

      if ((r = ocip_bundle_remove (argv[i], force, &rm, err)) < 0)
        return r;
      if (json)
        gen_removal (gen, argv[i], &rm);
      else if (g->verbosity > 0)
        cli_line (stdout, "removed bundle %s (%zu layers released)", argv[i], rm.n_layers);
      ocip_bundle_removal_clear (&rm);
    }
  if (! json)
    return 0;
  ocip_json_gen_array_close (gen);
  ocip_json_gen_map_close (gen);
  return cli_print_json (gen, err);
}
