/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fixed pool of worker threads running independent items of one batch. */
#ifndef OCIP_POOL_H
#define OCIP_POOL_H

#include <stddef.h>

/* Run FN (CTX, i) for every i in [0, N) on at most JOBS threads (the caller's thread
   is one of them), each item exactly once, and return when all are done.  FN must be
   thread-safe with respect to CTX; results and errors go through CTX.  */
void ocip_pool_run (unsigned jobs, size_t n, void (*fn) (void *ctx, size_t i), void *ctx);

/* The default number of workers: online CPUs, at least 1, at most OCIP_LIMIT_JOBS.  */
unsigned ocip_pool_default_jobs (void);

#endif
