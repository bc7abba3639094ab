/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Worker pool: threads take the next item index from a shared counter. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>
#include "base/pool.h"

struct batch
{
  atomic_size_t next;
  size_t n;
  void (*fn) (void *ctx, size_t i);
  void *ctx;
};

static void *
worker (void *arg)
{
  struct batch *b = arg;
  size_t i;

  while ((i = atomic_fetch_add (&b->next, 1)) < b->n)
    b->fn (b->ctx, i);
  return NULL;
}

void
ocip_pool_run (unsigned jobs, size_t n, void (*fn) (void *ctx, size_t i), void *ctx)
{
  struct batch b = { .n = n, .fn = fn, .ctx = ctx };
  cleanup_free pthread_t *threads = NULL;
  unsigned i, started = 0;

  atomic_init (&b.next, 0);
  if (jobs > n)
    jobs = n;
  if (jobs > 1)
    {
      threads = xcalloc (jobs - 1, sizeof *threads);
      /* A thread that cannot start only means less parallelism: the caller's thread
         still drains the whole batch.  */
      for (i = 0; i < jobs - 1; i++)
        if (pthread_create (&threads[started], NULL, worker, &b) == 0)
          started++;
    }
  worker (&b);
  for (i = 0; i < started; i++)
    pthread_join (threads[i], NULL);
}

unsigned
ocip_pool_default_jobs (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);

  if (n < 1)
    return 1;
  return n > OCIP_LIMIT_JOBS ? OCIP_LIMIT_JOBS : (unsigned) n;
}
