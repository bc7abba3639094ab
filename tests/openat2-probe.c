/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: report whether openat2(2) is available and which resolver fsroot then uses. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <oci-prep/error.h>
#include "base/fsroot.h"

/* Usage: openat2-probe fallback|openat2
   Prints what the kernel answers to a raw openat2 and which resolver fsroot chose for a
   path through an absolute symlink, and exits 0 only when that is the expected one:
   "make check-fallback" runs "no-openat2 openat2-probe fallback" to prove that its
   filter really sends the suite down the fallback walk.  Exit 1: not as expected;
   2: usage or setup error.  */
int
main (int argc, char **argv)
{
  char dir[] = "/tmp/ocip-openat2-probe-XXXXXX";
  struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
  ocip_error_t err = NULL;
  const char *used;
  bool want_fallback;
  int rootfd, fd, raw_errno = 0;
  long raw;

  if (argc != 2 || (strcmp (argv[1], "fallback") != 0 && strcmp (argv[1], "openat2") != 0))
    {
      fprintf (stderr, "usage: openat2-probe fallback|openat2\n");
      return 2;
    }
  want_fallback = strcmp (argv[1], "fallback") == 0;

#ifdef SYS_openat2
  raw = syscall (SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
  raw_errno = raw < 0 ? errno : 0;
  if (raw >= 0)
    close ((int) raw);
#else
  raw = -1;
  raw_errno = ENOSYS;
#endif
  printf ("openat2: %s\n", raw >= 0 ? "available" : strerror (raw_errno));

  /* ROOT/etc/f and ROOT/l -> /etc: "l/f" resolves only when absolute targets restart at
     the root, whichever resolver does it.  */
  if (mkdtemp (dir) == NULL || (rootfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0
      || mkdirat (rootfd, "etc", 0755) < 0 || (fd = openat (rootfd, "etc/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0
      || close (fd) < 0 || symlinkat ("/etc", rootfd, "l") < 0)
    {
      fprintf (stderr, "openat2-probe: set up '%s': %s\n", dir, strerror (errno));
      return 2;
    }
  fd = ocip_fsroot_open (rootfd, "l/f", O_RDONLY, 0, 0, &err);
  unlinkat (rootfd, "l", 0);
  unlinkat (rootfd, "etc/f", 0);
  unlinkat (rootfd, "etc", AT_REMOVEDIR);
  close (rootfd);
  rmdir (dir);
  if (fd < 0)
    {
      fprintf (stderr, "openat2-probe: fsroot: %s: %s\n", err->msg, strerror (err->status));
      ocip_error_release (&err);
      return 1;
    }
  close (fd);

  used = ocip_fsroot_have_openat2 () ? "openat2" : "fallback";
  printf ("fsroot: %s\n", used);
  if (want_fallback && (raw_errno != ENOSYS || strcmp (used, "fallback") != 0))
    return 1;
  if (!want_fallback && strcmp (used, "openat2") != 0)
    return 1;
  return 0;
}
