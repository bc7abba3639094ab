/* SPDX-License-Identifier: GPL-2.0-or-later */
/* load: lock, extract in parallel, verify diffIDs, sync once, commit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/context.h"
#include "image/blob.h"
#include <oci-prep/cleanup.h>
#include "extract/decompress.h"
#include "extract/extract.h"
#include "base/fsutil.h"
#include "base/json.h"
#include <oci-prep/limits.h>
#include <oci-prep/load.h>
#include "base/pool.h"
#include "store/records.h"
#include "store/store_internal.h"
#include "store/treehash.h"
#include "extract/readahead.h"
#include "extract/libarchive.h"
#include "extract/sandbox.h"

#define DRAIN_BUFFER (128 * 1024)

/* One distinct layer and where its blob is.  */
struct job
{
  struct ocip_load_layer *out;
  const struct ocip_plan_layer *layer;
  int layout_dirfd;
  const struct ocip_archive *archive; /* the layout's, or NULL */
  int lock_fd;
  char *work_name; /* set while a work area exists */
};

/* What the workers read: the caller's options and the context's.  */
struct settings
{
  struct ocip_extract_limits limits; /* max_bytes also bounds the uncompressed stream */
  struct ocip_load_progress *progress;
  unsigned jobs;
  bool no_sandbox;
};

struct batch
{
  struct ocip_store *store;
  const struct settings *opts;
  struct job **jobs;
  size_t n_jobs;
};

/* blob -> decompressor -> byte count, on the read-ahead thread; -> diffID hasher -> the
   tar reader, on the layer's thread.  Hashing on the reader's side balances the two:
   inflating alone is the heavier half.  */
struct layer_stream
{
  struct ocip_load_progress *progress;
  struct ocip_blob *blob;
  struct ocip_decompress *decompress;
  struct ocip_readahead *readahead;
  struct ocip_hasher *hasher;
  uint64_t bytes, max_bytes;
};

static ssize_t
read_blob (void *ctx, void *buf, size_t len, ocip_error_t *err)
{
  struct layer_stream *s = ctx;
  ssize_t n = ocip_blob_read (s->blob, buf, len, err);

  if (n > 0 && s->progress)
    s->progress->done_bytes += n;
  return n;
}

static ssize_t
read_uncompressed (void *ctx, void *buf, size_t len, ocip_error_t *err)
{
  struct layer_stream *s = ctx;
  ssize_t n = ocip_decompress_read (s->decompress, buf, len, err);

  if (n <= 0)
    return n;
  s->bytes += n;
  if (s->bytes > s->max_bytes)
    return ocip_error_fail (err, E2BIG, "uncompressed layer exceeds %llu bytes",
                           (unsigned long long) s->max_bytes);
  return n;
}

static ssize_t
read_ahead (void *ctx, void *buf, size_t len, ocip_error_t *err)
{
  struct layer_stream *s = ctx;
  ssize_t n = ocip_readahead_read (s->readahead, buf, len, err);

  if (n > 0)
    ocip_hasher_update (s->hasher, buf, n);
  return n;
}

/* The layer record of JOB's layer, its fields borrowed from JOB, STATS and CONTENT.  */
static void
layer_record (const struct job *job, const struct ocip_extract_stats *stats, const struct ocip_digest *content,
              struct ocip_layer_record *rec, char **chain_ids, char **compressed)
{
  chain_ids[0] = (char *) job->layer->chain_id.str;
  chain_ids[1] = NULL;
  compressed[0] = (char *) job->layer->blob.digest.str;
  compressed[1] = NULL;
  *rec = (struct ocip_layer_record){
    .diff_id = (char *) job->layer->diff_id.str,
    .chain_ids = chain_ids,
    .compressed_digests = compressed,
    .media_type = (char *) job->layer->blob.media_type,
    .compressed_size = job->layer->blob.size,
    .size = (int64_t) job->out->bytes,
    .entries = (int64_t) stats->entries,
    .created = (int64_t) time (NULL),
    .content_digest = (char *) content->str,
    .content_format = OCIP_TREEHASH_FORMAT_CURRENT,
  };
}

static int
extract_layer (struct batch *b, struct job *job, ocip_error_t *err)
{
  const struct ocip_plan_layer *layer = job->layer;
  struct layer_stream s = { .max_bytes = b->opts->limits.max_bytes, .progress = b->opts->progress };
  struct ocip_extract_stats stats = { 0 };
  struct ocip_digest actual, content;
  cleanup_close int diff_fd = -1;
  cleanup_free char *buf = NULL;
  struct ocip_layer_record rec;
  char *chain_ids[2], *compressed[2];
  ssize_t n;
  int r;

  if ((r = ocip_store_begin_layer (b->store, &layer->diff_id, &job->work_name, &diff_fd, err)) < 0)
    return r;
  if ((r = ocip_blob_open (job->layout_dirfd, job->archive, &layer->blob, &s.blob, err)) < 0)
    return r;
  if ((r = ocip_decompress_new (layer->compression, read_blob, &s, &s.decompress, err)) < 0)
    goto out;
  s.hasher = ocip_hasher_new (layer->diff_id.alg);
  /* Reading the blob (its digest) and decompressing run on their own thread, ahead of
     the diffID hash, the tar reader and the file writes.  */
  if ((r = ocip_readahead_start (read_uncompressed, &s, &s.readahead, err)) < 0)
    goto out;
  r = ocip_extract_tar (diff_fd, ocip_store_xattrs (b->store), read_ahead, &s, &b->opts->limits, &stats, err);
  if (r == 0)
    {
      /* What follows the end-of-archive marker is part of the diffID too, and reading
         to the end is what verifies the compressed blob's size and digest.  */
      buf = xmalloc (DRAIN_BUFFER);
      while ((n = read_ahead (&s, buf, DRAIN_BUFFER, err)) > 0)
        ;
      r = (int) n;
    }
  if (r == 0)
    r = ocip_readahead_finish (s.readahead, err);
  else
    {
      ocip_error_t ignored = NULL;
      ocip_readahead_finish (s.readahead, &ignored);
      ocip_error_release (&ignored);
    }
  if (r < 0)
    goto out;
  ocip_hasher_final (s.hasher, &actual);
  if (! ocip_digest_equal (&actual, &layer->diff_id))
    {
      r = ocip_error_fail (err, EBADMSG, "diffID mismatch: the uncompressed layer hashes to '%s'", actual.str);
      goto out;
    }
  job->out->bytes = s.bytes;
  job->out->entries = stats.entries;
  ocip_strv_free (job->out->skipped_devices);
  job->out->skipped_devices = steal_pointer (&stats.skipped_devices);
  /* What store fsck --deep checks the layer against later; the files' contents were
     hashed as they were written.  */
  if ((r = ocip_treehash (diff_fd, OCIP_DIGEST_SHA256, OCIP_TREEHASH_FORMAT_CURRENT, stats.contents,
                          stats.n_contents, &content, err)) < 0)
    goto out;
  layer_record (job, &stats, &content, &rec, chain_ids, compressed);
  r = ocip_records_layer_write (b->store, job->work_name, &rec, stats.implied_dirs, err);

out:
  ocip_extract_stats_clear (&stats);
  ocip_readahead_free (s.readahead);
  ocip_hasher_free (s.hasher);
  ocip_decompress_free (s.decompress);
  ocip_blob_close (s.blob);
  return r;
}

static void
record_failure (struct job *job, ocip_error_t *err)
{
  job->out->state = OCIP_LOAD_FAILED;
  job->out->status = (*err)->status;
  job->out->error = xasprintf ("layer '%s': %s", job->out->diff_id.str, (*err)->msg);
  ocip_error_release (err);
}

static void release_job (struct ocip_store *store, struct job *job);

/* Fail every job of B that has not failed yet with a copy of CAUSE (one cause for the
   whole batch: a sync, the sandbox, a fork), discarding their work areas and locks
   when RELEASE.  CAUSE is released.  */
static void
fail_batch (struct batch *b, ocip_error_t *cause, bool release)
{
  size_t i;

  for (i = 0; i < b->n_jobs; i++)
    {
      if (b->jobs[i]->out->state != OCIP_LOAD_FAILED)
        {
          ocip_error_t copy = NULL;
          ocip_error_fail (&copy, (*cause)->status, "%s", (*cause)->msg);
          record_failure (b->jobs[i], &copy);
        }
      if (release)
        release_job (b->store, b->jobs[i]);
    }
  ocip_error_release (cause);
}

static void
run_job (void *ctx, size_t i)
{
  struct batch *b = ctx;
  struct job *job = b->jobs[i];
  ocip_error_t err = NULL;

  if (extract_layer (b, job, &err) < 0)
    record_failure (job, &err);
  if (b->opts->progress)
    b->opts->progress->done_layers++;
}

static void
release_job (struct ocip_store *store, struct job *job)
{
  ocip_error_t ignored = NULL;

  if (job->work_name)
    {
      ocip_store_discard (store, job->work_name, &ignored);
      ocip_error_release (&ignored);
      free (job->work_name);
      job->work_name = NULL;
    }
  ocip_closep (&job->lock_fd);
}

/* Each layer is a two-thread pipeline (inflate; parse, hash and write) whose halves
   wait on each other by turns: two layers per CPU keep the CPUs busy (the realistic
   benchmark image loads 5% faster than with one per CPU).  */
static unsigned
default_layers_at_once (void)
{
  unsigned n = 2 * ocip_pool_default_jobs ();

  return n > OCIP_LIMIT_JOBS ? OCIP_LIMIT_JOBS : n;
}

/* Extract the locked jobs of B in parallel, then sync once and commit the good ones.  */
static void
run_batch (struct batch *b)
{
  ocip_error_t err = NULL;
  size_t i;

  if (b->opts->progress)
    for (i = 0; i < b->n_jobs; i++)
      {
        b->opts->progress->total_bytes += b->jobs[i]->layer->blob.size;
        b->opts->progress->total_layers++;
      }
  ocip_pool_run (b->opts->jobs ? b->opts->jobs : default_layers_at_once (), b->n_jobs, run_job, b);
  if (ocip_store_sync (b->store, &err) < 0)
    fail_batch (b, &err, false);
  for (i = 0; i < b->n_jobs; i++)
    {
      struct job *job = b->jobs[i];
      if (job->out->state != OCIP_LOAD_FAILED)
        {
          if (ocip_store_commit_layer (b->store, job->work_name, &job->out->diff_id, &err) < 0)
            record_failure (job, &err);
          else
            {
              job->out->state = OCIP_LOAD_EXTRACTED;
              free (job->work_name);
              job->work_name = NULL;
            }
        }
      release_job (b->store, job);
    }
}

/* What the sandboxed child reports for each job, in order, on a pipe.  */
struct job_report
{
  int32_t state, status;
  uint64_t bytes, entries;
  uint32_t error_len;   /* followed by that many bytes of message */
  uint32_t skipped_len; /* then the skipped devices' paths, each NUL-terminated */
};

static int
read_all (int fd, void *buf, size_t len)
{
  char *p = buf;

  while (len > 0)
    {
      ssize_t n = read (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      p += n;
      len -= n;
    }
  return 0;
}

/* V's strings one after the other, each NUL-terminated (*RET_LEN bytes in all); NULL
   with 0 when V is NULL.  */
static char *
join_nul (char *const *v, uint32_t *ret_len)
{
  size_t len = 0, i;
  char *out, *p;

  *ret_len = 0;
  if (v == NULL)
    return NULL;
  for (i = 0; v[i]; i++)
    len += strlen (v[i]) + 1;
  p = out = xmalloc (len + 1);
  for (i = 0; v[i]; i++)
    p = stpcpy (p, v[i]) + 1;
  *ret_len = (uint32_t) len;
  return out;
}

/* The inverse of join_nul, from the parent's side of the pipe: BUF (LEN bytes, the last
   one NUL, else the bytes after the last NUL are dropped) as a NULL-terminated vector.  */
static char **
split_nul (const char *buf, size_t len)
{
  char **v = xcalloc (len + 1, sizeof *v);
  size_t n = 0, off = 0;

  while (off < len)
    {
      size_t l = strnlen (buf + off, len - off);
      if (off + l == len)
        break;
      v[n++] = xstrdup (buf + off);
      off += l + 1;
    }
  return v;
}

/* In the child: confine, run the batch, report every job.  Never returns.  */
static _Noreturn void
sandboxed_child (struct batch *b, int out)
{
  ocip_error_t err = NULL;
  size_t i;

  if (ocip_sandbox_enter (&err) < 0)
    fail_batch (b, &err, true);
  else
    run_batch (b);
  for (i = 0; i < b->n_jobs; i++)
    {
      const struct ocip_load_layer *l = b->jobs[i]->out;
      struct job_report rep;
      /* Zeroed whole: the padding goes down the pipe too.  */
      memset (&rep, 0, sizeof rep);
      rep.state = l->state;
      rep.status = l->status;
      rep.bytes = l->bytes;
      rep.entries = l->entries;
      rep.error_len = l->error ? (uint32_t) strlen (l->error) : 0;
      cleanup_free char *skipped = join_nul (l->skipped_devices, &rep.skipped_len);
      ocip_error_t ignored = NULL;
      if (ocip_write_fd (out, &rep, sizeof rep, "the report", &ignored) < 0
          || (rep.error_len && ocip_write_fd (out, l->error, rep.error_len, "the report", &ignored) < 0)
          || (rep.skipped_len && ocip_write_fd (out, skipped, rep.skipped_len, "the report", &ignored) < 0))
        _exit (1);
    }
  _exit (0);
}

/* Parse, decompress and write the untrusted layers in a confined child; this process
   only reads its report.  A child that dies fails every job it did not report.  */
static void
run_batch_sandboxed (struct batch *b)
{
  int fds[2], status = 0;
  size_t i, reported = 0;
  pid_t pid, parent = getpid ();
  ocip_error_t load_err = NULL;

  /* Before the fork: the sandbox's filter is not meant to let the child map new code.  */
  if (ocip_libarchive_load (&load_err) < 0)
    {
      fail_batch (b, &load_err, true);
      return;
    }
  if (pipe2 (fds, O_CLOEXEC) < 0 || (pid = fork ()) < 0)
    {
      ocip_error_t err = NULL;
      ocip_error_set (&err, errno, "start the extraction process");
      fail_batch (b, &err, true);
      return;
    }
  if (pid == 0)
    {
      /* A load that is killed takes its extraction with it: nothing may be committed
         behind the back of a process that is gone.  */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
        _exit (1);
      close (fds[0]);
      sandboxed_child (b, fds[1]);
    }
  close (fds[1]);
  for (i = 0; i < b->n_jobs; i++, reported++)
    {
      struct ocip_load_layer *l = b->jobs[i]->out;
      struct job_report rep;
      if (read_all (fds[0], &rep, sizeof rep) < 0)
        break;
      l->state = rep.state;
      l->status = rep.status;
      l->bytes = rep.bytes;
      l->entries = rep.entries;
      if (rep.error_len)
        {
          l->error = xmalloc (rep.error_len + 1);
          if (read_all (fds[0], l->error, rep.error_len) < 0)
            break;
          l->error[rep.error_len] = '\0';
        }
      if (rep.skipped_len)
        {
          cleanup_free char *skipped = xmalloc (rep.skipped_len);
          if (read_all (fds[0], skipped, rep.skipped_len) < 0)
            break;
          l->skipped_devices = split_nul (skipped, rep.skipped_len);
        }
    }
  close (fds[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  for (i = reported; i < b->n_jobs; i++)
    {
      struct job *job = b->jobs[i];
      free (job->out->error);
      job->out->state = OCIP_LOAD_FAILED;
      job->out->status = EIO;
      job->out->error = WIFSIGNALED (status)
                            ? xasprintf ("layer '%s': the extraction process died of signal %d",
                                         job->out->diff_id.str, WTERMSIG (status))
                            : xasprintf ("layer '%s': the extraction process exited early", job->out->diff_id.str);
      /* This process holds the layer's lock: any work area of it is the dead child's.  */
      ocip_store_discard_layer_work (b->store, &job->out->diff_id);
    }
  for (i = 0; i < b->n_jobs; i++)
    ocip_closep (&b->jobs[i]->lock_fd);
}

struct ocip_load_progress *
ocip_load_progress_new (void)
{
  void *p = mmap (NULL, sizeof (struct ocip_load_progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

  if (p == MAP_FAILED)
    abort ();
  return p; /* zero-filled */
}

void
ocip_load_progress_free (struct ocip_load_progress *p)
{
  if (p)
    munmap (p, sizeof *p);
}

/* Collect each distinct diffID once, in plan order.  */
static struct job *
collect_jobs (struct ocip_plan *const *plans, size_t n_plans, struct ocip_load_report *report, size_t *ret_n)
{
  size_t total = 0, i, j, k, n = 0;
  struct job *jobs;

  for (i = 0; i < n_plans; i++)
    total += plans[i]->n_layers;
  jobs = xcalloc (total, sizeof *jobs);
  report->layers = xcalloc (total, sizeof *report->layers);
  for (i = 0; i < n_plans; i++)
    for (j = 0; j < plans[i]->n_layers; j++)
      {
        const struct ocip_plan_layer *l = &plans[i]->layers[j];
        for (k = 0; k < n; k++)
          if (ocip_digest_equal (&jobs[k].layer->diff_id, &l->diff_id))
            break;
        if (k < n)
          continue;
        jobs[n].layer = l;
        jobs[n].layout_dirfd = plans[i]->layout->dirfd;
        jobs[n].archive = plans[i]->layout->archive;
        jobs[n].lock_fd = -1;
        jobs[n].out = &report->layers[n];
        report->layers[n].diff_id = l->diff_id;
        report->layers[n].blob_digest = l->blob.digest;
        report->layers[n].blob_size = l->blob.size;
        n++;
      }
  report->n_layers = n;
  *ret_n = n;
  return jobs;
}

void
ocip_load_options_default (struct ocip_load_options *opts)
{
  struct ocip_extract_limits limits;

  ocip_extract_limits_default (&limits);
  opts->no_sandbox = false;
  opts->max_bytes = limits.max_bytes;
  opts->max_entries = limits.max_entries;
}

int
ocip_load (struct ocip_context *ctx, struct ocip_store *store, struct ocip_plan *const *plans, size_t n_plans,
           const struct ocip_load_options *opts, struct ocip_load_report **ret, ocip_error_t *err)
{
  const struct settings settings = {
    .limits = { .max_bytes = opts->max_bytes, .max_entries = opts->max_entries },
    .progress = ocip_context_progress (ctx),
    .jobs = ocip_context_jobs (ctx),
    .no_sandbox = opts->no_sandbox,
  };
  struct ocip_load_report *report = xzalloc (sizeof *report);
  cleanup_free struct job *jobs = NULL;
  cleanup_free struct job **remaining = NULL;
  cleanup_free struct job **busy = NULL;
  cleanup_free struct job **locked = NULL;
  size_t n_jobs, n_remaining = 0, i;
  bool block = false;

  jobs = collect_jobs (plans, n_plans, report, &n_jobs);
  remaining = xcalloc (n_jobs + 1, sizeof *remaining);
  busy = xcalloc (n_jobs + 1, sizeof *busy);
  locked = xcalloc (n_jobs + 1, sizeof *locked);
  for (i = 0; i < n_jobs; i++)
    if (ocip_store_has_layer (store, &jobs[i].out->diff_id))
      jobs[i].out->state = OCIP_LOAD_PRESENT;
    else
      remaining[n_remaining++] = &jobs[i];

  /* The records of extracted layers name their chainIDs.  */
  if (n_remaining > 0)
    for (i = 0; i < n_plans; i++)
      ocip_plan_chain_ids (plans[i]);

  /* Take what can be locked now and extract it; what another process holds is
     waited for only when there is nothing left to do here, holding no lock, so two
     processes can never wait on each other.  */
  while (n_remaining > 0)
    {
      struct batch b = { .store = store, .opts = &settings, .jobs = locked, .n_jobs = 0 };
      size_t n_busy = 0;

      for (i = 0; i < n_remaining; i++)
        {
          struct job *job = remaining[i];
          ocip_error_t lock_err = NULL;

          job->lock_fd = ocip_store_lock_layer (store, &job->out->diff_id, block && i == 0, &lock_err);
          if (job->lock_fd < 0)
            {
              if (lock_err->status == EWOULDBLOCK)
                {
                  ocip_error_release (&lock_err);
                  busy[n_busy++] = job;
                }
              else
                record_failure (job, &lock_err);
              continue;
            }
          if (ocip_store_has_layer (store, &job->out->diff_id))
            {
              job->out->state = OCIP_LOAD_PRESENT;
              ocip_closep (&job->lock_fd);
              continue;
            }
          /* The lock is ours: a work area of this layer is a dead process's (one killed
             while its extraction child still held the lock when the store was opened).  */
          ocip_store_discard_layer_work (store, &job->out->diff_id);
          locked[b.n_jobs++] = job;
        }
      if (b.n_jobs > 0)
        {
          if (settings.no_sandbox)
            run_batch (&b);
          else
            run_batch_sandboxed (&b);
        }
      block = b.n_jobs == 0;
      memcpy (remaining, busy, n_busy * sizeof *busy);
      n_remaining = n_busy;
    }

  for (i = 0; i < report->n_layers; i++)
    if (report->layers[i].state == OCIP_LOAD_FAILED)
      report->n_failed++;
    else
      ocip_store_touch_layer (store, &report->layers[i].diff_id);
  *ret = report;
  return 0;
}

int
ocip_load_images (struct ocip_context *ctx, char *const *images, size_t n_images,
                  const struct ocip_platform *platform, const struct ocip_load_options *opts,
                  struct ocip_load_report **ret, ocip_error_t *err)
{
  cleanup_store struct ocip_store *store = NULL;
  struct ocip_plan **plans = xcalloc (n_images + 1, sizeof *plans);
  size_t n_plans = 0, i;
  int r;

  /* The store first: the verified-blob cache the plans read through lives in it.  */
  if ((r = ocip_store_open (ocip_context_store_path (ctx), &store, err)) < 0)
    goto out;
  for (i = 0; i < n_images; i++)
    if ((r = ocip_plan_new (ctx, images[i], platform, &plans[n_plans++], err)) < 0)
      goto out;
  if ((r = ocip_load (ctx, store, plans, n_plans, opts, ret, err)) == 0)
    ocip_context_save (ctx);

out:
  for (i = 0; i < n_plans; i++)
    ocip_plan_free (plans[i]);
  free (plans);
  return r;
}

int
ocip_load_report_error (const struct ocip_load_report *report, ocip_error_t *err)
{
  size_t i;

  for (i = 0; i < report->n_layers; i++)
    if (report->layers[i].state == OCIP_LOAD_FAILED)
      {
        const struct ocip_load_layer *l = &report->layers[i];
        return ocip_error_fail (err, l->status > 0 ? l->status : EIO, "%zu of %zu layers failed to load%s%s",
                               report->n_failed, report->n_layers, report->n_failed > 1 ? ", the first: " : ": ",
                               l->error ? l->error : "unknown failure");
      }
  return 0;
}

void
ocip_load_report_free (struct ocip_load_report *report)
{
  size_t i;

  if (report == NULL)
    return;
  for (i = 0; i < report->n_layers; i++)
    {
      free (report->layers[i].error);
      ocip_strv_free (report->layers[i].skipped_devices);
    }
  free (report->layers);
  free (report);
}
