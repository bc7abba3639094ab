/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image's User: "user[:group]" resolved against the rootfs' own /etc/passwd and /etc/group. */
#ifndef OCIP_USER_H
#define OCIP_USER_H

#include <stddef.h>
#include <stdint.h>

#include <oci-prep/error.h>

/* The largest id accepted: 2^32-1 is (uid_t) -1, "no change" to setresuid(2).  */
#define OCIP_USER_ID_MAX 4294967294u

struct ocip_user
{
  uint32_t uid, gid;
  /* Supplementary groups, primary gid first; NULL and 0 when the spec gives a numeric
     user or an explicit group.  */
  uint32_t *additional_gids;
  size_t n_additional_gids;
  /* The home directory of the user's passwd entry, or "/" when there is none.  */
  char *home;
};

/* Resolve SPEC, one of "", "user", "uid", "user:group", "uid:gid", "user:gid",
   "uid:group", as image-spec config.md defines it.
   - "" is uid 0, gid 0.
   - Anything starting with a digit, '+' or '-' is a number, never a name (even when a
     passwd line is named "1000"); it must be all digits and at most OCIP_USER_ID_MAX.
   - A numeric user is not required to exist; its passwd entry, if any (looked up by
     uid), gives the gid when no group is given, and the home directory.
   - A named user takes uid, gid and home from /etc/passwd; without an explicit group its
     supplementary groups are its primary gid followed by every /etc/group entry that
     lists it as a member.
   - Names are looked up in ROOTFD's /etc/passwd and /etc/group only (never the host's:
     the files are opened with ocip_fsroot_open(), so symlinks resolve inside ROOTFD),
     which must be regular files of at most OCIP_LIMIT_ROOTFS_FILE_SIZE bytes: a FIFO or
     device is EINVAL (it is never read, so it cannot block), a larger file E2BIG.
     Malformed lines are skipped; the first matching line wins.
   ROOTFD may be negative (no rootfs): numeric specs then resolve without lookups and a
   name is EINVAL.  An unknown name, a missing file needed to resolve a name, or a
   malformed SPEC is EINVAL naming it.
   On success *RET is filled and owned by the caller (ocip_user_clear()); on failure it is
   untouched and *ERR is set.  */
int ocip_user_resolve (int rootfd, const char *spec, struct ocip_user *ret, ocip_error_t *err);

/* Free what U holds and reset it; a zeroed struct is fine.  */
void ocip_user_clear (struct ocip_user *u);

#define cleanup_user __attribute__ ((cleanup (ocip_user_clear)))

#endif
