/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verification of every blob reachable from a layout or one image. */
#ifndef OCIP_VERIFY_H
#define OCIP_VERIFY_H

#include <stdint.h>

#include <oci-prep/context.h>
#include <oci-prep/error.h>
#include <oci-prep/image.h>
#include <oci-prep/layout.h>

struct ocip_verify_blob
{
  struct ocip_descriptor desc;
  char *failure; /* NULL when the blob is good; else why, naming the digest */
  int status;    /* and its errno class: EBADMSG a size or digest mismatch, ENOENT missing, ... */
};

struct ocip_verify_report
{
  struct ocip_verify_blob *blobs; /* children before parents, each blob once */
  size_t n_blobs;
  size_t n_failed;
  int64_t bytes; /* declared bytes of all blobs checked */
  size_t n_cached; /* blobs the verified-blob cache vouched for, not read */
  /* Descriptors whose digest algorithm oci-prep cannot compute: not blobs of the
     report, not failures (descriptor.md asks to accept them); nothing needed them.  */
  size_t n_unsupported;
};

/* Check the size and digest of every blob reachable from ROOTS (e.g. index.json's
   entries, or one resolved manifest) in LAYOUT, reading each blob once: indexes and
   manifests while walking the graph (a bad one is reported and not descended into),
   configs and layers afterwards on the jobs of LAYOUT's context (default: one per
   CPU).  Failures of single blobs are collected in the report, not returned; the
   return is negative only when the walk itself fails (a cycle, a limit).  The
   context's verified-blob cache spares re-hashing leaves that are unchanged since
   they last verified, and learns the others; nothing is saved (see
   ocip_verify_layout).  Blobs are never followed symlinks (ocip_blob_open).  *RET is
   owned by the caller.  */
int ocip_verify (struct ocip_layout *layout, const struct ocip_descriptor *roots, size_t n_roots,
                 struct ocip_verify_report **ret, ocip_error_t *err);

/* The verify command: TARGET is a layout directory (everything index.json reaches) or
   an IMAGE (what its ref or digest names, for every platform), opened with CTX and
   verified by ocip_verify.  When the walk succeeds the context's verified-blob cache
   is saved (the good blobs stay vouched for even when others failed).  Negative only
   for a bad TARGET (EINVAL), a layout that cannot be opened, a ref that selects
   nothing (ENOENT) or a failed walk.  *RET is owned by the caller.  */
int ocip_verify_layout (struct ocip_context *ctx, const char *target, struct ocip_verify_report **ret,
                        ocip_error_t *err);
/* The outcome of REPORT as one error: 0 when every blob is good, else -status of the
   first failed blob (in report order) with *ERR set to "N of M blobs failed
   verification" and that blob's message.  The class is the first failure's own (ENOENT
   for a missing blob, EIO for a read error), so that one line names the real cause.  */
int ocip_verify_report_error (const struct ocip_verify_report *report, ocip_error_t *err);
void ocip_verify_report_free (struct ocip_verify_report *report);

#endif
