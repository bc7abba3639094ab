/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Descriptors, indexes, manifests and image configs: parsing, validation, platforms. */
#ifndef OCIP_IMAGE_H
#define OCIP_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oci-prep/digest.h>
#include <oci-prep/error.h>

#define OCIP_MEDIA_TYPE_INDEX "application/vnd.oci.image.index.v1+json"
#define OCIP_MEDIA_TYPE_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCIP_MEDIA_TYPE_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCIP_MEDIA_TYPE_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define OCIP_MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define OCIP_MEDIA_TYPE_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

#define OCIP_MEDIA_TYPE_EMPTY "application/vnd.oci.empty.v1+json"

#define OCIP_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
/* What buildx writes on the index entry of an attestation manifest: its type
   ("attestation-manifest") and the digest of the image manifest it is about.  */
#define OCIP_ANNOTATION_DOCKER_REFERENCE_TYPE "vnd.docker.reference.type"
#define OCIP_ANNOTATION_DOCKER_REFERENCE_DIGEST "vnd.docker.reference.digest"

/* What a media type says a blob is.  */
enum ocip_blob_kind
{
  OCIP_KIND_UNKNOWN,
  OCIP_KIND_INDEX,
  OCIP_KIND_MANIFEST,
  OCIP_KIND_CONFIG,
  OCIP_KIND_LAYER,
};

/* How a layer's bytes are compressed, from its media type (never guessed from content).  */
enum ocip_compression
{
  OCIP_COMPRESSION_NONE,
  OCIP_COMPRESSION_GZIP,
  OCIP_COMPRESSION_ZSTD,
};

/* What MEDIA_TYPE names: OCIP_KIND_UNKNOWN for a type oci-prep does not know.  */
enum ocip_blob_kind ocip_media_type_kind (const char *media_type);
/* For a layer media type: 0 and *RET, or EINVAL naming an unknown layer media type.  */
int ocip_media_type_compression (const char *media_type, enum ocip_compression *ret, ocip_error_t *err);
const char *ocip_compression_name (enum ocip_compression c);

struct ocip_platform
{
  char *os;
  char *architecture;
  char *variant; /* NULL when absent */
};

/* Parse "OS/ARCH[/VARIANT]".  EINVAL on anything else.  The result is owned by the
   caller (ocip_platform_clear).  */
int ocip_platform_parse (const char *s, struct ocip_platform *ret, ocip_error_t *err);
/* The platform this process runs on, in GOOS/GOARCH terms (linux/amd64, linux/arm64/v8...).  */
void ocip_platform_host (struct ocip_platform *ret);
/* Whether HAVE satisfies WANT: same os and architecture, and the same variant once a
   missing one is read as the architecture's default, as containerd normalises it:
   "v8" on arm64, "v7" on arm, none elsewhere (so amd64 does not match amd64/v3).  */
bool ocip_platform_match (const struct ocip_platform *want, const struct ocip_platform *have);
/* "os/arch[/variant]", a new string owned by the caller.  */
char *ocip_platform_string (const struct ocip_platform *p);
void ocip_platform_copy (const struct ocip_platform *src, struct ocip_platform *dst);
void ocip_platform_clear (struct ocip_platform *p);

struct ocip_descriptor
{
  char *media_type;
  struct ocip_digest digest; /* unset when UNSUPPORTED_DIGEST is set */
  int64_t size;
  bool has_platform;
  struct ocip_platform platform;
  char *ref_name; /* the org.opencontainers.image.ref.name annotation, or NULL */
  /* A well-formed digest of an algorithm oci-prep cannot compute (descriptor.md asks
     implementations to accept it): the descriptor can be listed but its blob is never
     read.  NULL for sha256 and sha512.  */
  char *unsupported_digest;
  char *artifact_type;  /* the descriptor's artifactType (OCI 1.1), or NULL */
  char **annotations;   /* key, value, key, value, ..., NULL; NULL when none */
};

/* The value of annotation KEY of D, or NULL.  */
const char *ocip_descriptor_annotation (const struct ocip_descriptor *d, const char *key);
/* Whether D points at something that is not an image to run: an OCI 1.1 artifact
   (artifactType set) or a buildx attestation (vnd.docker.reference.type).  Platform
   resolution passes over such entries.  */
bool ocip_descriptor_is_artifact (const struct ocip_descriptor *d);

/* A deep copy of SRC into DST, owned by the caller (ocip_descriptor_clear, which frees
   what D holds, not D itself).  */
void ocip_descriptor_copy (const struct ocip_descriptor *src, struct ocip_descriptor *dst);
void ocip_descriptor_clear (struct ocip_descriptor *d);

struct ocip_index
{
  struct ocip_descriptor *manifests;
  size_t n_manifests;
};

struct ocip_manifest
{
  struct ocip_descriptor config;
  struct ocip_descriptor *layers;
  size_t n_layers;
  /* Not NULL for an artifact, not an image: its type (artifactType, else the config's
     media type when that is no image config, else the media type of its layers when
     they are all JSON documents, as a cosign signature's or an in-toto attestation's
     are).  An artifact's layers are any blobs, never unpacked.  */
  char *artifact_type;
  bool has_subject;
  struct ocip_descriptor subject; /* the manifest this one refers to (OCI 1.1 referrers) */
  char **annotations;             /* the manifest's own: key, value, ..., NULL; or NULL */
};

struct ocip_image_config
{
  char *created, *author;
  struct ocip_platform platform;
  char *os_version;
  char **os_features;
  /* The "config" object (all optional).  */
  char *user;
  char **env;
  char **entrypoint;
  char **cmd;
  char *working_dir;
  char *stop_signal;
  char **exposed_ports; /* keys of ExposedPorts, in document order */
  char **volumes;       /* keys of Volumes */
  char **labels;        /* key, value, key, value, ..., NULL */
  /* rootfs.diff_ids, bottom layer first.  */
  struct ocip_digest *diff_ids;
  size_t n_diff_ids;
};

/* Parse LEN bytes at BUF as the document a descriptor of media type MEDIA_TYPE refers
   to.  EXPECTED_MEDIA_TYPE is what the reference said (the index descriptor's, or for
   index.json the OCI index type).  A document whose own "mediaType" contradicts it, or
   that carries both manifest and index fields, is EINVAL (the CVE-2021-41190
   confusion).  schemaVersion must be 2.  Unknown fields are ignored.  Results are owned
   by the caller: free with the matching *_free().  */
int ocip_index_parse (const char *buf, size_t len, const char *expected_media_type, struct ocip_index **ret,
                      ocip_error_t *err);
int ocip_manifest_parse (const char *buf, size_t len, const char *expected_media_type, struct ocip_manifest **ret,
                         ocip_error_t *err);
/* An image manifest's config must be an image config and its layers layer media types
   (else EINVAL); an artifact (see struct ocip_manifest) is parsed without those
   checks, but an empty config (OCIP_MEDIA_TYPE_EMPTY) without artifactType is EINVAL,
   as the image-spec requires.  Media types follow RFC 6838's restricted-name grammar
   and "urls" must be absolute URIs (EINVAL).  */

/* The config of MANIFEST (rootfs.type "layers", one diff_id per layer of the manifest:
   N_LAYERS).  */
int ocip_image_config_parse (const char *buf, size_t len, size_t n_layers, struct ocip_image_config **ret,
                             ocip_error_t *err);
void ocip_index_free (struct ocip_index *idx);
void ocip_manifest_free (struct ocip_manifest *m);
void ocip_image_config_free (struct ocip_image_config *c);

/* chainID of layers 0..N-1 per config.md: ChainID(L0) = DiffID(L0),
   ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).  RET gets N entries.  */
void ocip_chain_ids (const struct ocip_digest *diff_ids, size_t n, struct ocip_digest *ret);

#endif
