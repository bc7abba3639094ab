/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A content digest of an extracted directory tree, from a canonical walk. */
#ifndef OCIP_TREEHASH_H
#define OCIP_TREEHASH_H

#include <oci-prep/digest.h>
#include <oci-prep/error.h>

/* The digest (ALG) of the tree under DIRFD (a directory opened O_RDONLY, borrowed): what
   a layer's content was when it was committed, so that it can be checked later
   without the image (re-creating its tar is not byte-identical).
   The walk is canonical: parents before children, the entries of each directory in
   bytewise order of their names.  Each entry adds one record: its path relative to
   DIRFD, type, permission bits, owner, size, device number, symlink target, extended
   attributes (sorted by name; security.selinux, which the host's policy may relabel,
   is left out) and, for a regular file, the digest of its content.  Times and link
   counts are not part of it.  Symlinks are never followed, devices and FIFOs never
   opened.  Memory is bounded by the largest directory listing and one read buffer,
   whatever the size of the files; one fd is open per directory level.
   Errors: the errno of the failing call, naming the entry.  */
int ocip_treehash (int dirfd, enum ocip_digest_alg alg, struct ocip_digest *ret, ocip_error_t *err);

#endif
