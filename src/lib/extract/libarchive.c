/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <oci-prep/cleanup.h>
#include "extract/libarchive.h"

#define OCIP_LIBARCHIVE_DEFINE(f) __typeof__ (f) *sym_##f;
OCIP_LIBARCHIVE_FUNCTIONS (OCIP_LIBARCHIVE_DEFINE)
#undef OCIP_LIBARCHIVE_DEFINE

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status;
static char *load_why; /* what failed, for every caller; never freed (the process's) */

static void
load (void)
{
  void *dl = dlopen (LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);

  if (dl == NULL)
    {
      load_status = -ENOENT;
      load_why = xasprintf ("load %s: %s", LIBARCHIVE_SONAME, dlerror ());
      return;
    }
  /* Resolved into locals first: the pointers are published all at once or not at all.  */
#define OCIP_LIBARCHIVE_RESOLVE(f)                                                                                     \
  __typeof__ (f) *resolved_##f = (__typeof__ (f) *) dlsym (dl, #f);                                                    \
  if (resolved_##f == NULL)                                                                                            \
    {                                                                                                                  \
      load_status = -ENOSYS;                                                                                           \
      load_why = xasprintf ("%s has no %s: older than the libarchive oci-prep was built with", LIBARCHIVE_SONAME, #f); \
      dlclose (dl);                                                                                                    \
      return;                                                                                                          \
    }
  OCIP_LIBARCHIVE_FUNCTIONS (OCIP_LIBARCHIVE_RESOLVE)
#undef OCIP_LIBARCHIVE_RESOLVE
#define OCIP_LIBARCHIVE_PUBLISH(f) sym_##f = resolved_##f;
  OCIP_LIBARCHIVE_FUNCTIONS (OCIP_LIBARCHIVE_PUBLISH)
#undef OCIP_LIBARCHIVE_PUBLISH
}

int
ocip_libarchive_load (ocip_error_t *err)
{
  pthread_once (&load_once, load);
  if (load_status < 0)
    return ocip_error_fail (err, -load_status, "%s", load_why);
  return 0;
}
