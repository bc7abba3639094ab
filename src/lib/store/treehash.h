/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A content digest of an extracted directory tree, from a canonical walk. */
#ifndef OCIP_TREEHASH_H
#define OCIP_TREEHASH_H

#include <stddef.h>

#include "base/content.h"
#include <oci-prep/digest.h>
#include <oci-prep/error.h>

/* The format of a tree digest, recorded beside it ("contentFormat" in a layer's
   meta.json; a record without one is format 1).  Format 1 digested every file's content
   with the record's algorithm, which cost a second read of every extracted byte and a
   SHA-256 of it; format 2 takes XXH3-128 (see content.h), which extraction computes on
   the bytes it writes; format 3 takes XXH3-128 of the file's blocks with runs of zeros
   counted, not hashed (OCIP_CONTENT_BLOCKS), so that a sparse file costs its data and
   not its declared size, when it is written and when it is checked.  A record keeps
   the format it was written with, and is checked with it.  */
enum ocip_treehash_format
{
  OCIP_TREEHASH_FORMAT_1 = 1,
  OCIP_TREEHASH_FORMAT_2 = 2,
  OCIP_TREEHASH_FORMAT_3 = 3,
};
#define OCIP_TREEHASH_FORMAT_CURRENT OCIP_TREEHASH_FORMAT_3

/* The digest (ALG) of the tree under DIRFD (a directory opened O_RDONLY, borrowed): what
   a layer's content was when it was committed, so that it can be checked later
   without the image (re-creating its tar is not byte-identical).
   The walk is canonical: parents before children, the entries of each directory in
   bytewise order of their names.  Each entry adds one record: its path relative to
   DIRFD, type, permission bits, owner, size, device number, symlink target, extended
   attributes (sorted by name; security.selinux, which the host's policy may relabel,
   is left out) and, for a regular file, the digest of its content: with ALG in
   FORMAT_1, XXH3-128 (ocip_content_hasher) of the bytes in FORMAT_2, of the blocks in
   FORMAT_3, where KNOWN (N_KNOWN entries sorted by inode number, unique, borrowed; may
   be NULL) gives the digests of files whose bytes the caller hashed as it wrote them:
   those files are not read.  A file's holes (SEEK_HOLE) are never read; in FORMAT_3
   they cost nothing.  Times and link counts are not part of it.  Symlinks are never
   followed, devices and FIFOs never opened.  Memory is bounded by the largest
   directory listing and one read buffer, whatever the size of the files; one fd is
   open per directory level.
   Returns 0 and fills *RET, or a negative errno: EINVAL for an unknown FORMAT or KNOWN
   digests with a format other than 3, else the errno of the failing call, naming the
   entry.  */
int ocip_treehash (int dirfd, enum ocip_digest_alg alg, enum ocip_treehash_format format,
                   const struct ocip_file_content *known, size_t n_known, struct ocip_digest *ret,
                   ocip_error_t *err);

#endif
