/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every limit an image can push against, in one place. */
#ifndef OCIP_LIMITS_H
#define OCIP_LIMITS_H

/* index.json, manifests and configs are read whole into memory.  */
#define OCIP_LIMIT_JSON_DOCUMENT_SIZE (4u * 1024 * 1024)
/* yajl frees its tree recursively: the nesting depth bounds that recursion.  */
#define OCIP_LIMIT_JSON_DEPTH 64
/* Values (strings, numbers, containers...) in one document: bounds the tree's memory.  */
#define OCIP_LIMIT_JSON_VALUES (1u << 19)
/* Files read from a rootfs to build config.json (/etc/passwd, /etc/group).  */
#define OCIP_LIMIT_ROOTFS_FILE_SIZE (4u * 1024 * 1024)
/* Groups of one user (primary included): the kernel's NGROUPS_MAX, what setgroups(2)
   takes.  An /etc/group listing the user in more is refused as soon as it is seen.  */
#define OCIP_LIMIT_USER_GROUPS 65536
/* Descriptors in one index, layers in one manifest.  */
#define OCIP_LIMIT_INDEX_ENTRIES 100000
#define OCIP_LIMIT_LAYERS 4096
/* Indexes nested inside indexes.  */
#define OCIP_LIMIT_INDEX_DEPTH 16
/* Distinct blobs reachable from one layout.  */
#define OCIP_LIMIT_GRAPH_NODES (1u << 20)
/* Symlinks followed while resolving one path, as the kernel's MAXSYMLINKS.  */
#define OCIP_LIMIT_SYMLINK_STEPS 40
/* Path length handled by the resolver.  */
#define OCIP_LIMIT_PATH_LENGTH 4096
/* Parallel blob or layer workers.  */
#define OCIP_LIMIT_JOBS 64
/* The oci-layout file.  */
#define OCIP_LIMIT_OCI_LAYOUT_SIZE 4096
/* Members of an oci-archive or docker-archive (its blobs and directories), and one pax
   extended header or GNU long name in it.  */
#define OCIP_LIMIT_ARCHIVE_MEMBERS (1u << 20)
#define OCIP_LIMIT_ARCHIVE_HEADER_SIZE (1u << 20)

/* One layer: defaults, overridable on the command line.  The tar stream's bytes (after
   decompression) and the sum of the sizes its entries declare (a sparse file can
   declare far more than it carries).  64 GiB: above the largest layer registries
   accept (Amazon ECR: 52 000 MiB; GitHub's: 10 GB), so no real image needs more, and
   it bounds what a 300-byte layer of sparse files makes anything that reads the
   rootfs without SEEK_HOLE (a scanner, a copy, a tar of it) go through.  */
#define OCIP_LIMIT_LAYER_BYTES (64ull << 30)
#define OCIP_LIMIT_LAYER_ENTRIES 10000000ull
/* The directories a layer only implied (layers/<…>/implied, streamed, never held
   whole): each entry implies at most one per level of its path.  */
#define OCIP_LIMIT_IMPLIED_DIRS (OCIP_LIMIT_LAYER_ENTRIES * (OCIP_LIMIT_PATH_LENGTH / 2))
/* The store's records (store/records.h).  A layer record (meta.json) is a few hundred
   bytes today; 4 MiB still reads the records of the previous format, which held the
   implied directories inline (and which bundle read with this limit).  A state / pin
   record names at most OCIP_LIMIT_LAYERS diffIDs and a few paths.  */
#define OCIP_LIMIT_LAYER_RECORD_SIZE (4u * 1024 * 1024)
#define OCIP_LIMIT_STATE_RECORD_SIZE (1u * 1024 * 1024)
/* A symlink target, an xattr name and value.  */
#define OCIP_LIMIT_LINK_TARGET 4095
#define OCIP_LIMIT_XATTR_NAME 255
#define OCIP_LIMIT_XATTR_VALUE 65536
/* Owners: 2^32-1 is (uid_t) -1, "no change" to chown(2).  */
#define OCIP_LIMIT_ID 4294967294u
/* Lines of one uid_map or gid_map: what the kernel takes (user_namespaces(7), Linux >= 4.15).  */
#define OCIP_LIMIT_IDMAP_RANGES 340

#endif
