/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A progress bar on stderr for long cold work, drawn by its own thread. */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define DELAY_MS 500
#define PERIOD_MS 100
#define WIDTH 30

static struct
{
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t stop;
  bool running, stopping, drawn;
  struct ocip_load_progress *p;
} bar = { .lock = PTHREAD_MUTEX_INITIALIZER, .stop = PTHREAD_COND_INITIALIZER };

static void
draw (void)
{
  uint64_t done = bar.p->done_bytes, total = bar.p->total_bytes;
  unsigned layers = bar.p->done_layers, n_layers = bar.p->total_layers;
  int filled = total ? (int) (done * WIDTH / total) : 0, i;
  char line[WIDTH + 1];

  if (total == 0)
    return;
  for (i = 0; i < WIDTH; i++)
    line[i] = i < filled ? '#' : '.';
  line[WIDTH] = '\0';
  fprintf (stderr, "\r[%s] %3d%% %7.1f/%.1f MB  %u/%u layers ", line, (int) (done * 100 / total), done / 1e6,
           total / 1e6, layers, n_layers);
  fflush (stderr);
  bar.drawn = true;
}

/* Wait MS milliseconds or until told to stop; true when told to stop.  */
static bool
wait_ms (int ms)
{
  struct timespec until;
  bool stopping;

  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_nsec += (long) ms * 1000000;
  until.tv_sec += until.tv_nsec / 1000000000;
  until.tv_nsec %= 1000000000;
  pthread_mutex_lock (&bar.lock);
  while (! bar.stopping && pthread_cond_timedwait (&bar.stop, &bar.lock, &until) == 0)
    ;
  stopping = bar.stopping;
  pthread_mutex_unlock (&bar.lock);
  return stopping;
}

static void *
run (void *arg)
{
  if (wait_ms (DELAY_MS))
    return NULL;
  do
    draw ();
  while (! wait_ms (PERIOD_MS));
  return NULL;
}

void
cli_progress_start (const struct cli_globals *g, struct ocip_load_progress *p)
{
  /* Only for a person watching: never when stderr is not a terminal, or with -q.  */
  if (g->verbosity < 0 || ! isatty (STDERR_FILENO))
    return;
  bar.p = p;
  bar.stopping = false;
  bar.drawn = false;
  bar.running = pthread_create (&bar.thread, NULL, run, NULL) == 0;
}

void
cli_progress_stop (void)
{
  if (! bar.running)
    return;
  pthread_mutex_lock (&bar.lock);
  bar.stopping = true;
  pthread_cond_signal (&bar.stop);
  pthread_mutex_unlock (&bar.lock);
  pthread_join (bar.thread, NULL);
  bar.running = false;
  if (bar.drawn)
    {
      draw ();
      fputs ("\n", stderr);
    }
}
