/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Read-ahead thread: a producer fills a ring of buffers that the consumer drains. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include "extract/readahead.h"

#define N_BUFFERS 4
#define BUFFER_SIZE (256 * 1024)

struct buffer
{
  char *data;
  size_t len;
};

struct ocip_readahead
{
  ocip_read_fn source;
  void *source_ctx;
  pthread_t thread;
  bool joined;

  pthread_mutex_t lock;
  pthread_cond_t changed;
  struct buffer ring[N_BUFFERS];
  size_t head, count; /* the consumer reads ring[head]; COUNT buffers are full */
  size_t offset;      /* consumed bytes of ring[head] */
  bool done;          /* the producer stopped: end of stream or error */
  bool cancel;        /* the consumer wants it to stop */
  int status;         /* 0 at a clean end, else negative errno */
  ocip_error_t error; /* the producer's error */
};

static void *
produce (void *arg)
{
  struct ocip_readahead *ra = arg;
  ocip_error_t err = NULL;

  for (;;)
    {
      struct buffer *b;
      ssize_t n;

      pthread_mutex_lock (&ra->lock);
      while (ra->count == N_BUFFERS && ! ra->cancel)
        pthread_cond_wait (&ra->changed, &ra->lock);
      if (ra->cancel)
        {
          ra->status = -ECANCELED;
          ocip_error_fail (&ra->error, ECANCELED, "stream reading stopped early");
          break;
        }
      b = &ra->ring[(ra->head + ra->count) % N_BUFFERS];
      pthread_mutex_unlock (&ra->lock);

      /* The slot after the full ones is the producer's alone until it is published.  */
      n = ra->source (ra->source_ctx, b->data, BUFFER_SIZE, &err);

      pthread_mutex_lock (&ra->lock);
      if (n <= 0)
        {
          ra->status = (int) n;
          ra->error = err;
          break;
        }
      b->len = n;
      ra->count++;
      pthread_cond_broadcast (&ra->changed);
      pthread_mutex_unlock (&ra->lock);
    }
  ra->done = true;
  pthread_cond_broadcast (&ra->changed);
  pthread_mutex_unlock (&ra->lock);
  return NULL;
}

int
ocip_readahead_start (ocip_read_fn source, void *source_ctx, struct ocip_readahead **ret, ocip_error_t *err)
{
  struct ocip_readahead *ra = xzalloc (sizeof *ra);
  size_t i;
  int r;

  ra->source = source;
  ra->source_ctx = source_ctx;
  for (i = 0; i < N_BUFFERS; i++)
    ra->ring[i].data = xmalloc (BUFFER_SIZE);
  pthread_mutex_init (&ra->lock, NULL);
  pthread_cond_init (&ra->changed, NULL);
  r = pthread_create (&ra->thread, NULL, produce, ra);
  if (r != 0)
    {
      ra->joined = true;
      ocip_readahead_free (ra);
      return ocip_error_set (err, r, "start the read-ahead thread");
    }
  *ret = ra;
  return 0;
}

ssize_t
ocip_readahead_read (struct ocip_readahead *ra, void *buf, size_t len, ocip_error_t *err)
{
  struct buffer *b;
  size_t n;

  pthread_mutex_lock (&ra->lock);
  while (ra->count == 0 && ! ra->done)
    pthread_cond_wait (&ra->changed, &ra->lock);
  if (ra->count == 0)
    {
      int status = ra->status;
      if (status < 0)
        ocip_error_fail (err, -status, "%s", ra->error ? ra->error->msg : "read-ahead failed");
      pthread_mutex_unlock (&ra->lock);
      return status;
    }
  b = &ra->ring[ra->head];
  pthread_mutex_unlock (&ra->lock);

  /* A full buffer is the consumer's alone until it is handed back.  */
  n = b->len - ra->offset < len ? b->len - ra->offset : len;
  memcpy (buf, b->data + ra->offset, n);
  ra->offset += n;
  if (ra->offset == b->len)
    {
      pthread_mutex_lock (&ra->lock);
      ra->offset = 0;
      ra->head = (ra->head + 1) % N_BUFFERS;
      ra->count--;
      pthread_cond_broadcast (&ra->changed);
      pthread_mutex_unlock (&ra->lock);
    }
  return n;
}

int
ocip_readahead_finish (struct ocip_readahead *ra, ocip_error_t *err)
{
  int status;

  pthread_mutex_lock (&ra->lock);
  if (! ra->done)
    ra->cancel = true;
  pthread_cond_broadcast (&ra->changed);
  pthread_mutex_unlock (&ra->lock);
  if (! ra->joined)
    pthread_join (ra->thread, NULL);
  ra->joined = true;
  status = ra->status;
  if (status < 0)
    ocip_error_fail (err, -status, "%s", ra->error ? ra->error->msg : "read-ahead failed");
  return status < 0 ? status : 0;
}

void
ocip_readahead_free (struct ocip_readahead *ra)
{
  size_t i;

  if (ra == NULL)
    return;
  if (! ra->joined)
    {
      ocip_error_t ignored = NULL;
      ocip_readahead_finish (ra, &ignored);
      ocip_error_release (&ignored);
    }
  for (i = 0; i < N_BUFFERS; i++)
    free (ra->ring[i].data);
  ocip_error_release (&ra->error);
  pthread_mutex_destroy (&ra->lock);
  pthread_cond_destroy (&ra->changed);
  free (ra);
}
