/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test fixture builder: writes OCI image layouts and (hostile) layer tars at test time.  */
#ifndef OCIP_TESTS_FIXTURE_H
#define OCIP_TESTS_FIXTURE_H

/* Test-only code.  It depends on libc, libarchive's write API and
   libcrypto, never on the oci-prep library, so that a bug in oci-prep
   cannot hide itself by also being in the fixtures.  Every function
   aborts (after printing file:line and the reason) on any failure: a
   fixture that cannot be built is a broken test, not a test result.
   Nothing here follows or sanitises the paths it is given: tar entry
   names and link targets are written verbatim, however hostile.  */

#include <stdbool.h>
#include <stddef.h>

struct archive_entry;

/* Abort with FILE:LINE, the failed expression and errno when EXPR is false.  */
#define FX_CHECK(expr) ((expr) ? (void) 0 : fx_check_failed (__FILE__, __LINE__, #expr))
_Noreturn void fx_check_failed (const char *file, int line, const char *what);

/* Media types (image-spec and the Docker v2 schema 2 ones).  */
#define FX_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define FX_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define FX_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define FX_MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define FX_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define FX_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define FX_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define FX_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define FX_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define FX_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* Timestamp written for tar entries and the config's "created" unless told
   otherwise, so that the same inputs always give the same digests.  */
#define FX_MTIME 1700000000LL
#define FX_CREATED "2023-11-14T22:13:20Z"

/* A descriptor of a written blob.  Plain data: a test may edit it (wrong
   size, wrong digest, other media type) before referencing it.  */
struct fx_desc
{
  char media_type[128];
  char digest[200]; /* "<alg>:<hex>" */
  long long size;
};

/* ---- files and directories ---- */

/* Create a fresh directory "/tmp/ocip-test-XXXXXX".  Returns a malloc'd path.  */
char *fx_mkdtemp (void);
/* Remove PATH recursively (symlinks are removed, never followed).  Missing PATH is fine.  */
void fx_rm_rf (const char *path);
/* mkdir -p PATH with mode 0755.  */
void fx_mkdir_p (const char *path);
/* Write (create or truncate) PATH with DATA.  Follows a symlink at PATH.  */
void fx_write_file (const char *path, const void *data, size_t len);
/* Read PATH whole.  Returns a malloc'd buffer with a NUL byte after the
   content; *LEN (if LEN is not NULL) gets the length without it.  */
char *fx_read_file (const char *path, size_t *len);
/* Machine and OS in GOARCH/GOOS spelling ("amd64", "arm64", ...; "linux").  */
const char *fx_host_arch (void);
const char *fx_host_os (void);

/* ---- digests and compression ---- */

/* OUT = "<alg>:<hex>" of DATA; ALG is "sha256" or "sha512".  */
void fx_hash (const char *alg, const void *data, size_t len, char out[200]);

/* Compress IN with HOW, a libarchive filter name: "none", "gzip", "zstd",
   also "bzip2", "xz", "lz4"... for unsupported-compression tests.  The
   output is deterministic (gzip carries no timestamp).  *RET is malloc'd.  */
void fx_compress (const void *in, size_t len, const char *how, void **ret, size_t *ret_len);

/* ---- layouts and blobs ---- */

/* mkdir -p DIR, write DIR/oci-layout ({"imageLayoutVersion":"1.0.0"}) and
   create DIR/blobs/sha256 (blobs/sha512 is created by the first sha512 blob).  */
void fx_layout_init (const char *dir);

/* Write DATA as DIR/blobs/<ALG>/<hex> and describe it in *OUT.  */
void fx_blob_put (const char *dir, const char *alg, const char *media_type, const void *data, size_t len,
                  struct fx_desc *out);

/* malloc'd path of the blob DIGEST ("<alg>:<hex>") in layout DIR, to corrupt or delete it.  */
char *fx_blob_path (const char *dir, const char *digest);

/* ---- tar building ---- */

/* An archive being written to memory.  Entries get uid/gid 0 and mtime
   FX_MTIME unless said otherwise; MODE arguments are permission bits
   (07777 allowed), the file type is implied by the function.  */
struct fx_tar;

/* Default format: libarchive's restricted pax ("paxr": ustar headers, pax
   records only when needed, as Docker and Go write).  */
struct fx_tar *fx_tar_new (void);
/* FORMAT is a libarchive format name: "paxr", "pax", "gnutar", "ustar", "v7tar".  */
struct fx_tar *fx_tar_new_format (const char *format);

void fx_tar_dir (struct fx_tar *t, const char *path, unsigned mode);
void fx_tar_file (struct fx_tar *t, const char *path, unsigned mode, const char *content);
void fx_tar_file_ex (struct fx_tar *t, const char *path, unsigned mode, long long uid, long long gid,
                     long long mtime, const void *data, size_t len);
void fx_tar_symlink (struct fx_tar *t, const char *path, const char *target);
/* A hard link PATH to the earlier entry TARGET (typeflag '1', size 0).  */
void fx_tar_hardlink (struct fx_tar *t, const char *path, const char *target);
/* An AUFS whiteout for PATH: the empty file dirname(PATH)/.wh.basename(PATH).  */
void fx_tar_whiteout (struct fx_tar *t, const char *path);
/* An opaque-directory marker: the empty file DIR/.wh..wh..opq.  */
void fx_tar_opaque (struct fx_tar *t, const char *dir);
/* TYPE 'c' (character device), 'b' (block device) or 'p' (FIFO; MAJOR and
   MINOR are ignored).  Mode 0644.  */
void fx_tar_device (struct fx_tar *t, const char *path, char type, unsigned major, unsigned minor);
/* An empty regular file (mode 0644) carrying one extended attribute
   (SCHILY.xattr.NAME, plus LIBARCHIVE.xattr.NAME in pax formats).  */
void fx_tar_xattr_file (struct fx_tar *t, const char *path, const char *name, const void *value, size_t len);
/* Write ENTRY as is, then LEN bytes of DATA (DATA may be NULL when LEN is 0).
   libarchive pads or truncates DATA to the size in ENTRY.  ENTRY stays the
   caller's; fx_entry_new() gives one with the fixture defaults.  */
void fx_tar_raw (struct fx_tar *t, struct archive_entry *entry, const void *data, size_t len);
/* A new entry: PATH, FILETYPE (AE_IFREG, AE_IFDIR...), permission bits MODE,
   uid/gid 0, mtime FX_MTIME, size 0.  Free with archive_entry_free().  */
struct archive_entry *fx_entry_new (const char *path, unsigned filetype, unsigned mode);
/* A sparse regular file PATH (0644) of SIZE bytes: the N segments of DATA (increasing,
   not overlapping) hold FX_SPARSE_BYTE, the rest is holes.  T must be a pax format
   ("pax", "paxr": GNU 1.0 sparse records).  Writing costs the data, not SIZE.  */
struct fx_segment
{
  long long offset, length;
};
#define FX_SPARSE_BYTE 'S'
void fx_tar_sparse (struct fx_tar *t, const char *path, long long size, const struct fx_segment *data, size_t n);
/* Close the archive and free T.  *RET_BUF (malloc'd) gets the tar bytes.  */
void fx_tar_finish (struct fx_tar *t, void **ret_buf, size_t *ret_len);

/* ---- images ---- */

struct fx_layer
{
  const void *tar; /* the uncompressed tar; its hash is the diffID */
  size_t tar_len;
  const char *compression; /* fx_compress() HOW; NULL means "gzip" */
  const char *media_type;  /* NULL: the OCI (or Docker) type for the compression */
};

/* Ways to write a deliberately broken image.  Bits of fx_image.breaks.  */
enum
{
  FX_BREAK_EXTRA_DIFF_ID = 1 << 0,     /* rootfs.diff_ids has one entry more than the layers */
  FX_BREAK_MISSING_DIFF_ID = 1 << 1,   /* rootfs.diff_ids lacks the last layer's */
  FX_BREAK_ROOTFS_TYPE = 1 << 2,       /* rootfs.type is "tarball", not "layers" */
  FX_BREAK_DIFF_ID = 1 << 3,           /* the first layer's diffID hashes other bytes */
  FX_BREAK_NO_ROOTFS = 1 << 4,         /* the config has no rootfs at all */
  FX_BREAK_LAYER_SIZE = 1 << 5,        /* the first layer descriptor's size is one too big */
  FX_BREAK_LAYER_CONTENT = 1 << 6,     /* the first layer blob's last byte is flipped after hashing */
  FX_BREAK_LAYER_MISSING = 1 << 7,     /* the first layer blob is absent (removed if present) */
  FX_BREAK_CONFIG_SIZE = 1 << 8,       /* the config descriptor's size is one too small */
  FX_BREAK_CONFIG_MISSING = 1 << 9,    /* the config blob is absent (removed if present) */
  FX_BREAK_SCHEMA_VERSION = 1 << 10,   /* the manifest says "schemaVersion": 1 */
  FX_BREAK_MANIFEST_MEDIA_TYPE = 1 << 11, /* the manifest has no "mediaType" member */
};

struct fx_image
{
  const char *dir; /* the layout, already initialised (fx_layout_init) */
  const char *alg; /* blob and diffID algorithm; NULL means "sha256" */
  const struct fx_layer *layers; /* bottom first */
  size_t n_layers;
  /* Members of the config's "config" object, as a JSON object text, e.g.
     "{\"Entrypoint\":[\"/bin/sh\"],\"Env\":[\"A=b\"]}".  NULL: no "config".  */
  const char *config;
  const char *os;      /* NULL: fx_host_os () */
  const char *arch;    /* NULL: fx_host_arch () */
  const char *variant; /* NULL: none */
  const char *created; /* NULL: FX_CREATED */
  bool docker_media_types;
  unsigned breaks; /* FX_BREAK_* */
  /* Raw JSON members (no braces, no leading comma), inserted verbatim at
     the end of the config / manifest object, e.g. "\"history\":[]" or
     "\"annotations\":{\"a\":\"b\"}".  NULL: none.  */
  const char *config_extra;
  const char *manifest_extra;
};

/* Everything fx_image_write_full() wrote.  Free with fx_image_result_free().  */
struct fx_image_result
{
  struct fx_desc manifest;
  struct fx_desc config;
  size_t n_layers;
  struct fx_desc *layers;   /* as referenced by the manifest */
  char (*diff_ids)[200];    /* the true diffIDs (even when FX_BREAK_DIFF_ID lies) */
};

/* Write the layer blobs, the config (rootfs.diff_ids computed from the
   uncompressed tars) and the manifest of IMG into IMG->dir.  index.json is
   not touched: reference the manifest with fx_index_write().  */
void fx_image_write (const struct fx_image *img, struct fx_desc *ret_manifest);
void fx_image_write_full (const struct fx_image *img, struct fx_image_result *ret);
void fx_image_result_free (struct fx_image_result *r);

/* ---- indexes ---- */

struct fx_index_entry
{
  struct fx_desc desc;
  const char *ref; /* org.opencontainers.image.ref.name annotation, or NULL */
  const char *os;  /* platform; omitted when os and arch are both NULL */
  const char *arch;
  const char *variant;
  const char *extra; /* raw JSON members added to the descriptor object, or NULL */
};

/* Write DIR/index.json listing ENTRIES (N may be 0).  */
void fx_index_write (const char *dir, const struct fx_index_entry *entries, size_t n);
/* Write the same document as a blob (a nested index); *OUT describes it.  */
void fx_index_blob (const char *dir, const char *alg, const struct fx_index_entry *entries, size_t n,
                    struct fx_desc *out);

/* ---- artifacts (OCI 1.1 referrers, signatures, attestations) ---- */

#define FX_MT_EMPTY "application/vnd.oci.empty.v1+json"

/* A manifest that is no image: what cosign, oras and buildx write beside one.  */
struct fx_artifact
{
  const char *artifact_type;     /* the manifest's artifactType, or NULL */
  const char *config_media_type; /* NULL: FX_MT_EMPTY with the empty config "{}" */
  const char *config_data;       /* the config blob's bytes; NULL: "{}" */
  const char *layer_media_type;  /* of every layer */
  const char *const *layers;     /* N_LAYERS blobs, as text */
  size_t n_layers;
  const struct fx_desc *subject; /* the manifest it refers to, or NULL */
  const char *annotations;       /* members of the manifest's "annotations" object, or NULL */
};

/* Write A's config, layers and manifest (FX_MT_MANIFEST) into the layout DIR; *OUT
   describes the manifest.  index.json is not touched.  */
void fx_artifact_write (const char *dir, const struct fx_artifact *a, struct fx_desc *out);

/* ---- the default good image ---- */

/* Contents of fx_simple_image(), for assertions.
   Layer 1: dir "etc/" 0755, file "etc/hello" 0644 FX_SIMPLE_HELLO,
            symlink "hello-link" -> "etc/hello".
   Layer 2: dir "usr/" 0755, dir "usr/bin/" 0755,
            file "usr/bin/tool" 0755 FX_SIMPLE_TOOL,
            symlink "usr/bin/tool-link" -> "tool".
   Config: Entrypoint ["/usr/bin/tool"], Env ["PATH=/usr/bin:/bin"],
           WorkingDir "/", host os/arch.  */
#define FX_SIMPLE_HELLO "hello\n"
#define FX_SIMPLE_TOOL "#!/bin/sh\necho tool\n"

/* Initialise the layout DIR and write a valid one-image layout: two gzip
   layers (above), sha256, index.json with one manifest annotated REF
   (no annotation when REF is NULL).  */
void fx_simple_image (const char *dir, const char *ref);
/* The same; *RET_MANIFEST (if not NULL) gets the manifest descriptor.  */
void fx_simple_image_ex (const char *dir, const char *ref, struct fx_desc *ret_manifest);

#endif
