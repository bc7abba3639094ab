/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A user namespace for a user who is not root, entered as podman does (newuidmap/newgidmap). */
#ifndef OCI_PREP_USERNS_H
#define OCI_PREP_USERNS_H

#include <stdbool.h>

#include <oci-prep/error.h>

/* Run the rest of this process as root of a new user namespace when it is an ordinary
   user (not root, in the initial user namespace), so that extraction can give an
   image's files their owners: the user's own uid and gid become 0, and the user's
   subordinate ranges (subuid(5), subgid(5): their lines by name or by number, in file
   order) become 1, 2, ... after it, written by the setuid helpers newuidmap(1) and
   newgidmap(1) (Debian's uidmap), which check the ranges against /etc/subuid and
   /etc/subgid.  Supplementary groups are dropped.  Only the user namespace is new: a
   mount made afterwards belongs to the host's mount namespace, which this namespace
   does not own (overlay mounts are refused: use a copy, --flat).
   Root, or a process already inside a user namespace (podman unshare, unshare
   --map-auto, rootlesskit), is left as it is: *RET_ENTERED (may be NULL) false.
   Must be called before any thread starts.  Errors (nothing entered): ENOENT naming
   the file when the user has no subordinate range, ENOENT when newuidmap is not
   installed, otherwise the helper's status and message.  */
int ocip_userns_enter (bool *ret_entered, ocip_error_t *err);

#endif
