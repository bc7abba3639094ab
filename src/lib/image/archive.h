/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image archives read in place: oci-archive (a tar of a layout) and docker-archive (docker save). */
#ifndef OCIP_ARCHIVE_H
#define OCIP_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oci-prep/error.h>
#include <oci-prep/image.h>

struct ocip_archive;

enum ocip_archive_kind
{
  OCIP_ARCHIVE_OCI,    /* a tar of an image layout, as `skopeo copy ... oci-archive:` writes */
  OCIP_ARCHIVE_DOCKER, /* manifest.json + configs + layer tars, as `docker save` writes */
};

/* Open the tar archive at PATH (following symlinks in PATH: the caller chose it) and
   index its members once: headers are read, data is not.  The archive is hostile:
   a member name that is absolute, has a ".." (or "." or empty) component or is too
   long, two members of one name, a member running past the end of the file, a bad
   header checksum, a missing end-of-archive block or more than
   OCIP_LIMIT_ARCHIVE_MEMBERS members are EINVAL (E2BIG for the limits), naming PATH.
   Symlinks and hard links are indexed but never followed: a blob or file that is one
   is ELOOP when asked for.  For OCIP_ARCHIVE_DOCKER, manifest.json is read and an OCI
   view synthesised: each entry's config is hashed, its layers' digests are their
   diffIDs (config rootfs.diff_ids) when uncompressed or the hash of the compressed
   member, and a manifest and an index.json (one entry per RepoTags name) are made.
   *RET is owned by the caller (ocip_archive_free).  */
int ocip_archive_open (enum ocip_archive_kind kind, const char *path, struct ocip_archive **ret, ocip_error_t *err);
void ocip_archive_free (struct ocip_archive *a);

enum ocip_archive_kind ocip_archive_kind (const struct ocip_archive *a);

/* Read the regular member NAME ("index.json", "oci-layout"; for a docker archive also
   the synthesised "index.json") whole, at most MAX bytes (E2BIG over it).  ENOENT when
   absent, ELOOP for a link, EINVAL for another type.  *RET (NUL-terminated) is the
   caller's.  */
int ocip_archive_read_file (const struct ocip_archive *a, const char *name, size_t max, char **ret, size_t *ret_len,
                            ocip_error_t *err);

/* Where a blob's bytes are: SIZE bytes at OFFSET of FD (the archive's, borrowed: it
   lives as long as the archive, pread only, so threads may share it), or, for a
   document oci-prep synthesised, MEM.  */
struct ocip_archive_range
{
  int fd;
  int64_t offset;
  int64_t size;
  const char *mem; /* borrowed; NULL for a range of FD */
};

/* The blob DIGEST names: "blobs/<alg>/<hex>" in an oci-archive, the synthesised table
   in a docker-archive.  Its size and digest are not checked here (the blob reader
   does).  ENOENT when absent, ELOOP for a link, EINVAL for another type.  */
int ocip_archive_find_blob (const struct ocip_archive *a, const struct ocip_digest *digest,
                            struct ocip_archive_range *ret, ocip_error_t *err);

/* docker-archive: the number of manifest.json entries, and the synthesised manifest of
   entry N (ENOENT past the end).  */
size_t ocip_archive_docker_count (const struct ocip_archive *a);
int ocip_archive_docker_manifest (const struct ocip_archive *a, size_t n, struct ocip_digest *ret, ocip_error_t *err);

#endif
