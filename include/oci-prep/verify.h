/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verification of every blob reachable from a layout or one image. */
#ifndef OCIP_VERIFY_H
#define OCIP_VERIFY_H

#include <stdint.h>

#include "image/cache.h"
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
};

/* Check the size and digest of every blob reachable from ROOTS (e.g. index.json's
   entries, or one resolved manifest) in LAYOUT, reading each blob once: indexes and
   manifests while walking the graph (a bad one is reported and not descended into),
   configs and layers afterwards on JOBS threads.  Failures of single blobs are
   collected in the report, not returned; the return is negative only when the walk
   itself fails (a cycle, a limit).  CACHE (may be NULL) spares re-hashing leaves that
   are unchanged since they last verified.  *RET is owned by the caller.  */
int ocip_verify (struct ocip_layout *layout, const struct ocip_descriptor *roots, size_t n_roots, unsigned jobs,
                 struct ocip_verified_cache *cache, struct ocip_verify_report **ret, ocip_error_t *err);
/* The outcome of REPORT as one error: 0 when every blob is good, else -status of the
   first failed blob (in report order) with *ERR set to "N of M blobs failed
   verification" and that blob's message.  The class is the first failure's own (ENOENT
   for a missing blob, EIO for a read error), so that one line names the real cause.  */
int ocip_verify_report_error (const struct ocip_verify_report *report, ocip_error_t *err);
void ocip_verify_report_free (struct ocip_verify_report *report);

#endif
