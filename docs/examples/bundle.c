/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Example: make a runtime bundle through liboci-prep.

   Usage: bundle IMAGE BUNDLE
     IMAGE   [oci:]LAYOUT_DIR[:REF] or LAYOUT_DIR@sha256:HEX
     BUNDLE  a directory to create (or an empty one): BUNDLE/config.json and
             BUNDLE/rootfs, ready for "runc run -b BUNDLE ID"
   The store is OCI_PREP_STORE when set, else oci-prep's default one.
   Exit status: 0 on success, 1 on failure (the cause on stderr), 2 on a usage error.

   Build: cc -o bundle bundle.c $(pkg-config --cflags --libs oci-prep)
   Undo:  oci-prep rm BUNDLE (or ocip_bundle_remove).  */
#include <stdio.h>
#include <stdlib.h>

#include <oci-prep/oci-prep.h>

int
main (int argc, char **argv)
{
  struct ocip_context_options copts = { 0 };
  struct ocip_bundle_options bopts = { 0 };
  struct ocip_bundle_result res = { 0 };
  struct ocip_context *ctx;
  ocip_error_t err = NULL;
  char *store;
  int r;

  if (argc != 3)
    {
      fprintf (stderr, "usage: %s IMAGE BUNDLE\n", argv[0]);
      return 2;
    }

  /* The store path decides where layers are kept and where the verified-blob cache
     lives: name it, rather than leave it NULL (which would skip that cache).  */
  store = ocip_store_default_path ();
  copts.store = store;
  ctx = ocip_context_new (&copts);

  /* Every option zero means the defaults: the host's platform, an overlay rootfs,
     the image's own process, user, environment and working directory.  */
  ocip_load_options_default (&bopts.load);

  r = ocip_bundle_create (ctx, argv[1], argv[2], &bopts, &res, &err);
  if (r < 0)
    {
      /* The message names the object and the cause; err->status is its errno class.  */
      fprintf (stderr, "bundle: %s\n", err->msg);
      ocip_error_release (&err);
    }
  else
    {
      printf ("bundle %s: %zu layers (%zu extracted now), store %s\n", argv[2], res.n_layers, res.n_extracted,
              store);
      for (char **l = res.dropped_annotations; l && *l; l++)
        fprintf (stderr, "bundle: image label '%s' left out of config.json\n", *l);
      ocip_bundle_result_clear (&res);
    }

  ocip_context_free (ctx);
  free (store);
  return r < 0 ? 1 : 0;
}
