/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: layouts on disk — index.json and nested blobs through resolution, planning and verify. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/context.h>
#include <oci-prep/digest.h>
#include <oci-prep/image.h>
#include <oci-prep/layout.h>
#include <oci-prep/limits.h>
#include <oci-prep/plan.h>
#include <oci-prep/verify.h>

#include "fuzz_common.h"

/* The input is up to MAX_SEGMENTS + 1 segments separated by NUL bytes (JSON text never
   holds one): segment 0 is index.json, segments 1..24 are written as blobs under their
   own sha256.  In a segment, "$D<c>" becomes the digest of blob <c> and "$S<c>" its size,
   where <c> names a later segment ('1'..'9' for 1..9, 'a'..'o' for 10..24: blobs form a
   DAG, as content addressing makes a real cycle impossible; nesting deeper than
   OCIP_LIMIT_INDEX_DEPTH is possible) or one of the fixed blobs written once per process:
     M  a good OCI manifest (config C, one gzip layer L)   C  its config   L  its layer
     I  an OCI index naming M for linux/amd64 with ref "latest"
     H  M again, stored as sha512
     B  a blob whose content does not hash to its name      P  a FIFO
     Y  a symlink to M's blob                               R  a directory
     G  a digest with no blob at all
   Anything else after '$' is left as it is.  */
#define MAX_SEGMENTS 24

struct blob
{
  bool set;
  struct ocip_digest digest;
  size_t size;
};

static int layoutfd = -1;
static char *layout_path;
static struct blob fixed[26]; /* by letter */

static struct blob *
fixed_blob (char c)
{
  return c >= 'A' && c <= 'Z' && fixed[c - 'A'].set ? &fixed[c - 'A'] : NULL;
}

static char *
blob_path (const struct ocip_digest *d)
{
  return xasprintf ("blobs/%s/%s", ocip_digest_alg_name (d->alg), ocip_digest_hex (d));
}

static void
set_fixed (char c, enum ocip_digest_alg alg, const char *content, size_t size)
{
  struct blob *b = &fixed[c - 'A'];

  ocip_digest_buffer (alg, content, strlen (content), &b->digest);
  b->size = size;
  b->set = true;
}

/* Write a fixed blob with CONTENT (hashed for its name).  */
static void
put_fixed (char c, enum ocip_digest_alg alg, const char *content)
{
  cleanup_free char *path = NULL;

  set_fixed (c, alg, content, strlen (content));
  path = blob_path (&fixed[c - 'A'].digest);
  fuzz_write_at (layoutfd, path, content, strlen (content));
}

static char *
descriptor (const char *media_type, char c, const char *extra)
{
  const struct blob *b = fixed_blob (c);
  return xasprintf ("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu%s}", media_type, b->digest.str, b->size,
                    extra);
}

static void
write_fixed_layout (void)
{
  cleanup_free char *config = NULL, *manifest = NULL, *index = NULL, *dc = NULL, *dl = NULL, *dm = NULL;
  cleanup_free char *path = NULL;
  static const char layer[] = "oci-prep fuzz layer: only its digest is ever checked\n";
  static const char promised[] = "the content the descriptor promised\n";

  fuzz_write_at (layoutfd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
  if (mkdirat (layoutfd, "blobs", 0755) < 0 || mkdirat (layoutfd, "blobs/sha256", 0755) < 0
      || mkdirat (layoutfd, "blobs/sha512", 0755) < 0)
    fuzz_fail (__FILE__, __LINE__, "mkdirat", "create blobs: %s", strerror (errno));

  put_fixed ('L', OCIP_DIGEST_SHA256, layer);
  config = xasprintf ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":\"1000:1000\","
                      "\"Env\":[\"PATH=/usr/bin:/bin\"],\"Cmd\":[\"/bin/sh\"]},"
                      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                      fixed_blob ('L')->digest.str);
  put_fixed ('C', OCIP_DIGEST_SHA256, config);
  dc = descriptor (OCIP_MEDIA_TYPE_CONFIG, 'C', "");
  dl = descriptor ("application/vnd.oci.image.layer.v1.tar+gzip", 'L', "");
  manifest = xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":%s,\"layers\":[%s]}",
                        OCIP_MEDIA_TYPE_MANIFEST, dc, dl);
  put_fixed ('M', OCIP_DIGEST_SHA256, manifest);
  put_fixed ('H', OCIP_DIGEST_SHA512, manifest);
  dm = descriptor (OCIP_MEDIA_TYPE_MANIFEST, 'M',
                   ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"},"
                   "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}");
  index = xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}", OCIP_MEDIA_TYPE_INDEX, dm);
  put_fixed ('I', OCIP_DIGEST_SHA256, index);

  /* B: named after PROMISED, holding something else of the same size.  */
  set_fixed ('B', OCIP_DIGEST_SHA256, promised, strlen (promised));
  path = blob_path (&fixed_blob ('B')->digest);
  fuzz_write_at (layoutfd, path, "THE CONTENT THE DESCRIPTOR PROMISED\n", strlen (promised));
  free (path);

  set_fixed ('P', OCIP_DIGEST_SHA256, "fifo", 4);
  path = blob_path (&fixed_blob ('P')->digest);
  if (mknodat (layoutfd, path, S_IFIFO | 0644, 0) < 0)
    fuzz_fail (__FILE__, __LINE__, "mknodat", "create the FIFO blob: %s", strerror (errno));
  free (path);

  set_fixed ('Y', OCIP_DIGEST_SHA256, "symlink", fixed_blob ('M')->size);
  path = blob_path (&fixed_blob ('Y')->digest);
  if (symlinkat (ocip_digest_hex (&fixed_blob ('M')->digest), layoutfd, path) < 0)
    fuzz_fail (__FILE__, __LINE__, "symlinkat", "create the symlink blob: %s", strerror (errno));
  free (path);

  set_fixed ('R', OCIP_DIGEST_SHA256, "directory", 9);
  path = blob_path (&fixed_blob ('R')->digest);
  if (mkdirat (layoutfd, path, 0755) < 0)
    fuzz_fail (__FILE__, __LINE__, "mkdirat", "create the directory blob: %s", strerror (errno));

  set_fixed ('G', OCIP_DIGEST_SHA256, "gone", 4);
}

static void
append (char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
  if (*len + n + 1 > *cap)
    {
      *cap = (*len + n + 1) * 2;
      *buf = xrealloc (*buf, *cap);
    }
  memcpy (*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = '\0';
}

/* The segment a placeholder character names, or 0.  */
static size_t
segment_of (char c)
{
  if (c >= '1' && c <= '9')
    return c - '0';
  if (c >= 'a' && c < 'a' + MAX_SEGMENTS - 9)
    return c - 'a' + 10;
  return 0;
}

/* Segment SELF with its placeholders replaced; SEGS holds the later segments' blobs.  */
static char *
expand (const char *s, size_t n, size_t self, const struct blob *segs, size_t *ret_len)
{
  char *out = NULL;
  size_t len = 0, cap = 0, i = 0;

  append (&out, &len, &cap, "", 0);
  while (i < n)
    {
      const struct blob *b = NULL;
      if (s[i] == '$' && i + 2 < n && (s[i + 1] == 'D' || s[i + 1] == 'S'))
        {
          char c = s[i + 2];
          size_t k = segment_of (c);
          if (k > self && segs[k].set)
            b = &segs[k];
          else
            b = fixed_blob (c);
        }
      if (b == NULL)
        {
          append (&out, &len, &cap, s + i, 1);
          i++;
          continue;
        }
      if (s[i + 1] == 'D')
        append (&out, &len, &cap, b->digest.str, strlen (b->digest.str));
      else
        {
          char num[32];
          int k = snprintf (num, sizeof num, "%zu", b->size);
          append (&out, &len, &cap, num, k);
        }
      i += 3;
    }
  *ret_len = len;
  return out;
}

static bool
is_fixed_name (const struct ocip_digest *d)
{
  size_t i;

  for (i = 0; i < 26; i++)
    if (fixed[i].set && ocip_digest_equal (&fixed[i].digest, d))
      return true;
  return false;
}

static void
check_plan (struct ocip_plan *plan)
{
  size_t i;

  ocip_plan_chain_ids (plan);
  FUZZ_CHECK (ocip_media_type_kind (plan->manifest_desc.media_type) == OCIP_KIND_MANIFEST,
              "resolved to a '%s'", plan->manifest_desc.media_type);
  FUZZ_CHECK (plan->n_layers == plan->manifest->n_layers && plan->n_layers == plan->config->n_diff_ids,
              "%zu planned layers, %zu in the manifest, %zu diff_ids", plan->n_layers, plan->manifest->n_layers,
              plan->config->n_diff_ids);
  for (i = 0; i < plan->n_layers; i++)
    FUZZ_CHECK (ocip_digest_equal (&plan->layers[i].diff_id, &plan->config->diff_ids[i]),
                "layer %zu has another diffID", i);
  FUZZ_CHECK (plan->n_layers == 0 || ocip_digest_equal (&plan->layers[0].chain_id, &plan->layers[0].diff_id),
              "the bottom layer's chainID is not its diffID");
}

/* One context per input, so its document cache is exercised within an input but
   never carries over to the next (a crash must reproduce from its input alone).  One
   job: a fuzzer wants no threads of its own.  */
static struct ocip_context *ctx;

static void
try_plan (const char *image, const struct ocip_platform *platform)
{
  struct ocip_plan *plan = NULL;
  ocip_error_t err = NULL;

  if (fuzz_check_result ("ocip_plan_new", ocip_plan_new (ctx, image, platform, &plan, &err), &err) < 0)
    return;
  check_plan (plan);
  ocip_plan_free (plan);
}

static void
try_verify (void)
{
  struct ocip_layout *layout = NULL;
  struct ocip_verify_report *report = NULL;
  ocip_error_t err = NULL;
  size_t i, j, failed = 0;

  if (fuzz_check_result ("ocip_layout_open", ocip_layout_open (ctx, layout_path, &layout, &err), &err) < 0)
    return;
  if (fuzz_check_result ("ocip_verify",
                         ocip_verify (layout, layout->index->manifests, layout->index->n_manifests, &report, &err),
                         &err)
      == 0)
    {
      for (i = 0; i < report->n_blobs; i++)
        {
          failed += report->blobs[i].failure != NULL;
          for (j = 0; j < i; j++)
            FUZZ_CHECK (! ocip_digest_equal (&report->blobs[i].desc.digest, &report->blobs[j].desc.digest),
                        "blob '%s' reported twice", report->blobs[i].desc.digest.str);
        }
      FUZZ_CHECK (failed == report->n_failed, "%zu failures counted as %zu", failed, report->n_failed);
      ocip_verify_report_free (report);
    }
  ocip_layout_free (layout);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  int basefd;
  const char *base = fuzz_scratch_dir ("resolve", &basefd);

  fuzz_maybe_disable_openat2 ();
  if (mkdirat (basefd, "layout", 0755) < 0)
    fuzz_fail (__FILE__, __LINE__, "mkdirat", "create the layout: %s", strerror (errno));
  layoutfd = openat (basefd, "layout", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (layoutfd < 0)
    fuzz_fail (__FILE__, __LINE__, "openat", "open the layout: %s", strerror (errno));
  close (basefd);
  layout_path = xasprintf ("%s/layout", base);
  write_fixed_layout ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd_mark = fuzz_fd_mark ();
  struct blob segs[MAX_SEGMENTS + 1] = { 0 };
  char *written[MAX_SEGMENTS + 1] = { NULL };
  const char *start[MAX_SEGMENTS + 1];
  size_t len[MAX_SEGMENTS + 1], n = 0, i;
  const char *p = (const char *) data, *end = p + size;
  static const struct ocip_platform arm64 = { (char *) "linux", (char *) "arm64", NULL };
  static const struct ocip_platform amd64 = { (char *) "linux", (char *) "amd64", NULL };

  ctx = ocip_context_new (&(struct ocip_context_options){ .jobs = 1 });
  /* Split into segments.  */
  while (n <= MAX_SEGMENTS)
    {
      const char *nul = memchr (p, '\0', end - p);
      start[n] = p;
      len[n++] = (nul ? nul : end) - p;
      if (nul == NULL)
        break;
      p = nul + 1;
    }

  /* Later segments first: each may name the ones after it.  */
  for (i = n; i-- > 0;)
    {
      size_t text_len;
      cleanup_free char *text = expand (start[i], len[i], i, segs, &text_len);

      if (i == 0)
        {
          fuzz_write_at (layoutfd, "index.json", text, text_len);
          break;
        }
      ocip_digest_buffer (OCIP_DIGEST_SHA256, text, text_len, &segs[i].digest);
      segs[i].size = text_len;
      segs[i].set = true;
      if (is_fixed_name (&segs[i].digest))
        continue;
      written[i] = blob_path (&segs[i].digest);
      fuzz_write_at (layoutfd, written[i], text, text_len);
    }

  {
    cleanup_free char *latest = xasprintf ("%s:latest", layout_path);
    try_plan (latest, NULL);
    try_plan (layout_path, &arm64);
    if (segs[1].set)
      {
        cleanup_free char *by_digest = xasprintf ("%s@%s", layout_path, segs[1].digest.str);
        try_plan (by_digest, &amd64);
      }
  }
  try_verify ();
  ocip_context_free (ctx);
  ctx = NULL;

  for (i = 1; i <= MAX_SEGMENTS; i++)
    if (written[i])
      {
        unlinkat (layoutfd, written[i], 0);
        free (written[i]);
      }
  fuzz_check_fds (fd_mark);
  return 0;
}
