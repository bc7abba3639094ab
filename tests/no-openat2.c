/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: run a command with openat2(2) failing with ENOSYS, as on a kernel before 5.6. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

/* Install the filter, then exec argv[1..].  A seccomp filter survives fork and execve and
   cannot be removed, so the command and every process it starts (Criterion's workers,
   the oci-prep binary the tests run) see a kernel without openat2: "make check-fallback"
   exercises fsroot's component-by-component walk with the whole suite.  */
int
main (int argc, char **argv)
{
  scmp_filter_ctx ctx;
  int r;

  if (argc < 2)
    {
      fprintf (stderr, "usage: no-openat2 COMMAND [ARG...]\n");
      return 2;
    }

  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    {
      fprintf (stderr, "no-openat2: seccomp_init failed\n");
      return 1;
    }
  r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (openat2), 0);
  if (r < 0)
    {
      fprintf (stderr, "no-openat2: add the openat2 rule: %s\n", strerror (-r));
      seccomp_release (ctx);
      return 1;
    }
  /* Without no_new_privs when we may (CAP_SYS_ADMIN): the runtimes the suite starts must
     behave as they do outside the filter.  Unprivileged, the kernel requires it.  */
  r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r == 0)
    r = seccomp_load (ctx);
  if (r < 0)
    {
      r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 1);
      if (r == 0)
        r = seccomp_load (ctx);
    }
  seccomp_release (ctx);
  if (r < 0)
    {
      fprintf (stderr, "no-openat2: load the filter: %s\n", strerror (-r));
      return 1;
    }

  execvp (argv[1], argv + 1);
  fprintf (stderr, "no-openat2: exec '%s': %s\n", argv[1], strerror (errno));
  return 127;
}
