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

#define OCIP_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

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
  struct ocip_digest digest;
  int64_t size;
  bool has_platform;
  struct ocip_platform platform;
  char *ref_name; /* the org.opencontainers.image.ref.name annotation, or NULL */
};

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
