/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI image layouts: the oci-layout marker, index.json, the IMAGE grammar, resolution. */
#ifndef OCIP_LAYOUT_H
#define OCIP_LAYOUT_H

#include <stdbool.h>

#include <oci-prep/context.h>
#include <oci-prep/error.h>
#include <oci-prep/image.h>

struct ocip_archive;

struct ocip_layout
{
  struct ocip_context *ctx;  /* whose caches its blob reads use; borrowed, may be NULL */
  int dirfd;                 /* the layout directory, O_PATH|O_DIRECTORY; -1 for an archive */
  char *path;                /* for messages only */
  struct ocip_index *index;  /* index.json */
  struct ocip_archive *archive; /* oci-archive: or docker-archive: (owned), else NULL */
};

/* Open the layout at PATH (following symlinks in PATH itself: the caller chose it):
   "oci-layout" must be a regular file with imageLayoutVersion "1.0.0", index.json a
   valid index.  Files inside are read through ocip_fsroot.  Errors: ENOENT/ENOTDIR
   for a missing layout, EINVAL for a bad marker or index, each naming PATH.  The
   documents read later go through the caches of CTX (NULL: none), which must outlive
   the layout.  *RET is owned by the caller (ocip_layout_free).  */
int ocip_layout_open (struct ocip_context *ctx, const char *path, struct ocip_layout **ret, ocip_error_t *err);
void ocip_layout_free (struct ocip_layout *layout);

/* Where an image is read from.  */
enum ocip_transport
{
  OCIP_TRANSPORT_LAYOUT,         /* [oci:]DIR: a layout directory */
  OCIP_TRANSPORT_OCI_ARCHIVE,    /* oci-archive:FILE: a tar of a layout (skopeo) */
  OCIP_TRANSPORT_DOCKER_ARCHIVE, /* docker-archive:FILE: docker save / podman save */
};

/* IMAGE := [oci:]LAYOUT_DIR[:REF] | [oci:]LAYOUT_DIR@ALG:HEX
          | oci-archive:FILE[:REF] | oci-archive:FILE@ALG:HEX
          | docker-archive:FILE[:REF] | docker-archive:FILE:@N.
   LAYOUT_DIR (FILE) is everything before the first ':' or '@' (a docker-archive's,
   before the first ':'), so it cannot contain either.  REF follows the image-layout ref
   grammar; in a docker-archive it is a RepoTags name ("busybox:latest") or "@N", the
   N-th entry of manifest.json (skopeo's syntax).  */
struct ocip_image_ref
{
  char *layout; /* owned: the directory or archive file */
  char *ref;    /* owned, NULL when absent */
  bool has_digest;
  struct ocip_digest digest;
  enum ocip_transport transport;
};

/* Parse S; EINVAL for an empty layout, an invalid REF or digest text.  */
int ocip_image_ref_parse (const char *s, struct ocip_image_ref *ret, ocip_error_t *err);
void ocip_image_ref_clear (struct ocip_image_ref *ref);

/* Open what REF->layout names with REF->transport: a layout directory as
   ocip_layout_open, or an archive read in place (its members indexed once, never
   unpacked; every blob is still checked against its digest when read).  Errors as
   ocip_layout_open, and those of a hostile archive: EINVAL naming the archive and the
   cause (truncated, corrupt header, duplicate member, a ".." or absolute name), ELOOP
   for a blob that is a link, E2BIG over a limit.  A docker-archive is seen as a layout
   whose index.json lists each manifest.json entry once per RepoTags name (a manifest
   and an OCI config descriptor synthesised from its config and layers); there a REF
   "@N", or no REF when manifest.json has one entry, is turned into REF->digest of
   that entry's manifest (REF is updated in place).  *RET is the caller's
   (ocip_layout_free).  */
int ocip_layout_open_image (struct ocip_context *ctx, struct ocip_image_ref *ref, struct ocip_layout **ret,
                            ocip_error_t *err);

/* Read a whole index or manifest blob through DESC with size and digest verified, and
   parse it as the media type DESC declares.  Results owned by the caller.  */
int ocip_layout_read_index (struct ocip_layout *layout, const struct ocip_descriptor *desc, struct ocip_index **ret,
                            ocip_error_t *err);
int ocip_layout_read_manifest (struct ocip_layout *layout, const struct ocip_descriptor *desc,
                               struct ocip_manifest **ret, ocip_error_t *err);

/* The entries REF names: index.json's entries whose ref name is REF->ref; without a
   ref, those named "latest", else the only entry; with a digest, the one index or
   manifest of that digest reachable from index.json.  Errors as ocip_layout_resolve.
   *RET (an array of *RET_N descriptors) is owned by the caller: ocip_descriptors_free.  */
int ocip_layout_select (struct ocip_layout *layout, const struct ocip_image_ref *ref, struct ocip_descriptor **ret,
                        size_t *ret_n, ocip_error_t *err);
void ocip_descriptors_free (struct ocip_descriptor *d, size_t n);

/* Pick the manifest REF names for PLATFORM.  Without REF or digest: the entry named
   "latest", else the only entry of index.json.  An index is searched depth-first
   (nested indexes included) for manifests whose descriptor platform matches.  A
   manifest reached directly (no index) carries no platform on its descriptor and is
   taken as is (ocip_plan_new checks its config when a platform was asked for).
   Errors name what exists: ENOENT "ref 'v2' not found in 'img' (available: latest, v1)",
   ENOENT for no matching platform (listing those present), EINVAL when two manifests
   match equally ("ambiguous").  *RET is a copy owned by the caller.  */
int ocip_layout_resolve (struct ocip_layout *layout, const struct ocip_image_ref *ref,
                         const struct ocip_platform *platform, struct ocip_descriptor *ret, ocip_error_t *err);

/* The referrers of SUBJECT in LAYOUT: the manifests reachable from index.json whose
   "subject" is SUBJECT (OCI 1.1: signatures, SBOMs, attestations pushed by cosign or
   oras), and those an index entry ties to it with buildx's vnd.docker.reference.digest
   annotation.  Each is returned as its descriptor with ARTIFACT_TYPE set to the
   artifact's type and ANNOTATIONS to the manifest's own (buildx: the index entry's).
   A manifest that cannot be read or parsed is passed over: it is not needed for
   SUBJECT.  Errors: those of walking the indexes (ocip_graph_walk).  *RET (an array of
   *RET_N, possibly 0) is owned by the caller: ocip_descriptors_free.  */
int ocip_layout_referrers (struct ocip_layout *layout, const struct ocip_digest *subject,
                           struct ocip_descriptor **ret, size_t *ret_n, ocip_error_t *err);

#endif
