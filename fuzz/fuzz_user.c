/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the image's User resolved against a rootfs' /etc/passwd and /etc/group made from the input. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/fsutil.h"
#include "spec/user.h"

#include "fuzz_common.h"

/* Input: byte 0 picks how the rootfs' files look (below); then the User spec up to the
   first NUL; then /etc/passwd up to the first 0x1e (ASCII record separator) and
   /etc/group after it.  NUL bytes may appear inside both files.
   Byte 0, low 3 bits: 0 plain files; 1 /etc/passwd is the absolute symlink
   "/etc/group"; 2 no /etc/passwd; 3 no /etc/group; 4 /etc/passwd is a FIFO (must be
   refused, never read, never block); 5 /etc/group is a directory; 6 /etc is a symlink
   "../../../x/etc" (resolved inside the rootfs, to /x/etc); 7 both files are symlinks
   climbing out ("../../../../../../x/etc/passwd"), which must stay inside the rootfs
   (to /x/etc/passwd: the host has no /x).  Modes 6 and 7 must resolve exactly as 0.  */

static int rootfd = -1;

static void
reset_rootfs (void)
{
  ocip_error_t err = NULL;

  if (ocip_rmtree_at (rootfd, "etc", &err) < 0 || ocip_rmtree_at (rootfd, "x", &err) < 0)
    fuzz_fail (__FILE__, __LINE__, "rmtree", "reset the rootfs: %s", err->msg);
}

static void
make_dir (const char *path)
{
  if (mkdirat (rootfd, path, 0755) < 0 && errno != EEXIST)
    fuzz_fail (__FILE__, __LINE__, "mkdirat", "create '%s': %s", path, strerror (errno));
}

static void
make_symlink (const char *target, const char *path)
{
  if (symlinkat (target, rootfd, path) < 0)
    fuzz_fail (__FILE__, __LINE__, "symlinkat", "create '%s': %s", path, strerror (errno));
}

static void
build_rootfs (unsigned mode, const uint8_t *passwd, size_t passwd_len, const uint8_t *group, size_t group_len)
{
  const char *etc = "etc";

  reset_rootfs ();
  if (mode == 6)
    {
      make_dir ("x");
      make_dir ("x/etc");
      make_symlink ("../../../x/etc", "etc");
      etc = "x/etc";
    }
  else
    make_dir ("etc");

  {
    cleanup_free char *pw = xasprintf ("%s/passwd", etc);
    cleanup_free char *gr = xasprintf ("%s/group", etc);

    switch (mode)
      {
      case 1:
        make_symlink ("/etc/group", pw);
        break;
      case 2:
        break;
      case 4:
        if (mknodat (rootfd, pw, S_IFIFO | 0644, 0) < 0)
          fuzz_fail (__FILE__, __LINE__, "mknodat", "create the FIFO: %s", strerror (errno));
        break;
      case 7:
        make_dir ("x");
        make_dir ("x/etc");
        fuzz_write_at (rootfd, "x/etc/passwd", passwd, passwd_len);
        make_symlink ("../../../../../../x/etc/passwd", pw);
        break;
      default:
        fuzz_write_at (rootfd, pw, passwd, passwd_len);
        break;
      }
    switch (mode)
      {
      case 1:
        fuzz_write_at (rootfd, gr, group, group_len);
        break;
      case 3:
        break;
      case 5:
        make_dir (gr);
        break;
      case 7:
        fuzz_write_at (rootfd, "x/etc/group", group, group_len);
        make_symlink ("../../../../../../x/etc/group", gr);
        break;
      default:
        fuzz_write_at (rootfd, gr, group, group_len);
        break;
      }
  }
}

static void
check_user (const char *spec, const struct ocip_user *u)
{
  size_t i, j;

  FUZZ_CHECK (u->uid <= OCIP_USER_ID_MAX && u->gid <= OCIP_USER_ID_MAX, "'%s' gave %u:%u", spec, u->uid, u->gid);
  FUZZ_CHECK (u->home != NULL && u->home[0] != '\0', "'%s' gave no home directory", spec);
  FUZZ_CHECK ((u->additional_gids == NULL) == (u->n_additional_gids == 0), "'%s': gid list and count disagree",
              spec);
  FUZZ_CHECK (u->n_additional_gids <= NGROUPS_MAX, "'%s' has %zu groups", spec, u->n_additional_gids);
  if (u->n_additional_gids)
    FUZZ_CHECK (u->additional_gids[0] == u->gid, "'%s': the primary gid %u does not come first (%u)", spec, u->gid,
                u->additional_gids[0]);
  for (i = 0; i < u->n_additional_gids; i++)
    for (j = 0; j < i; j++)
      FUZZ_CHECK (u->additional_gids[i] != u->additional_gids[j], "'%s': gid %u listed twice", spec,
                  u->additional_gids[i]);
  if (*spec == '\0')
    FUZZ_CHECK (u->uid == 0 && u->gid == 0, "the empty spec gave %u:%u", u->uid, u->gid);
  /* A numeric user is its own uid, whatever the passwd file says.  */
  if (*spec >= '0' && *spec <= '9')
    FUZZ_CHECK (strtoull (spec, NULL, 10) == u->uid, "'%s' gave uid %u", spec, u->uid);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  int basefd;

  fuzz_scratch_dir ("user", &basefd);
  fuzz_maybe_disable_openat2 ();
  if (mkdirat (basefd, "root", 0755) < 0)
    fuzz_fail (__FILE__, __LINE__, "mkdirat", "create the rootfs: %s", strerror (errno));
  rootfd = openat (basefd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    fuzz_fail (__FILE__, __LINE__, "openat", "open the rootfs: %s", strerror (errno));
  close (basefd);
  return 0;
}

/* Resolve SPEC in the rootfs and without one; returns the first result's status.  */
static int
resolve (const char *spec, struct ocip_user *ret)
{
  struct ocip_user u = { 0 };
  ocip_error_t err = NULL;
  int r;

  memset (ret, 0, sizeof *ret);
  r = fuzz_check_result ("ocip_user_resolve", ocip_user_resolve (rootfd, spec, ret, &err), &err);
  if (r == 0)
    check_user (spec, ret);
  /* Without a rootfs only numbers resolve.  */
  if (fuzz_check_result ("ocip_user_resolve", ocip_user_resolve (-1, spec, &u, &err), &err) == 0)
    {
      check_user (spec, &u);
      FUZZ_CHECK (u.n_additional_gids == 0, "'%s' got groups without a rootfs", spec);
      ocip_user_clear (&u);
    }
  return r;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd_mark = fuzz_fd_mark ();
  const uint8_t *p, *end = data + size, *nul, *sep, *group;
  cleanup_free char *spec = NULL;
  cleanup_user struct ocip_user u = { 0 };
  cleanup_user struct ocip_user plain = { 0 };
  size_t passwd_len, group_len;
  unsigned mode;
  int r, r_plain;

  if (size < 1)
    return 0;
  mode = data[0] & 7;
  p = data + 1;
  nul = memchr (p, '\0', end - p);
  spec = fuzz_strndup (p, (nul ? nul : end) - p);
  p = nul ? nul + 1 : end;
  sep = memchr (p, 0x1e, end - p);
  passwd_len = (sep ? sep : end) - p;
  group = sep ? sep + 1 : end;
  group_len = end - group;

  build_rootfs (mode, p, passwd_len, group, group_len);
  r = resolve (spec, &u);
  if (mode == 6 || mode == 7)
    {
      /* Symlinks inside the rootfs change nothing: the same files, the same answer.  */
      build_rootfs (0, p, passwd_len, group, group_len);
      r_plain = resolve (spec, &plain);
      FUZZ_CHECK (r == r_plain, "'%s': %d through symlinks (mode %u), %d with plain files", spec, r, mode, r_plain);
      if (r == 0)
        FUZZ_CHECK (u.uid == plain.uid && u.gid == plain.gid && strcmp (u.home, plain.home) == 0
                        && u.n_additional_gids == plain.n_additional_gids
                        && (u.n_additional_gids == 0
                            || memcmp (u.additional_gids, plain.additional_gids,
                                       u.n_additional_gids * sizeof *u.additional_gids)
                                   == 0),
                    "'%s' resolves differently through symlinks (mode %u)", spec, mode);
    }
  fuzz_check_fds (fd_mark);
  return 0;
}
