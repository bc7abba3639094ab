/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A reader thread that runs a stream ahead of its consumer, through a few fixed buffers. */
#ifndef OCIP_READAHEAD_H
#define OCIP_READAHEAD_H

#include <sys/types.h>

#include "extract/decompress.h"
#include <oci-prep/error.h>

struct ocip_readahead;

/* Start a thread that calls SOURCE (SOURCE_CTX) until it returns 0 or fails, into a
   ring of fixed buffers (memory bounded, independent of the stream), so that producing
   (reading, decompressing, hashing) overlaps consuming.  SOURCE_CTX is used by that
   thread only until ocip_readahead_finish() returns.  *RET is owned by the caller.  */
int ocip_readahead_start (ocip_read_fn source, void *source_ctx, struct ocip_readahead **ret, ocip_error_t *err);

/* Up to LEN bytes in order: the count, 0 at the end of the stream, or the source's
   error (class and message as the source set them).  Consumer thread only.  */
ssize_t ocip_readahead_read (struct ocip_readahead *ra, void *buf, size_t len, ocip_error_t *err);

/* Stop the producer (it finishes the call in progress) and join it.  Returns 0 if the
   source was read to its end without error, else the negative errno of what stopped it
   (ECANCELED when stopped early) with *ERR set.  Safe to call once; then free.  */
int ocip_readahead_finish (struct ocip_readahead *ra, ocip_error_t *err);
void ocip_readahead_free (struct ocip_readahead *ra);

#endif
