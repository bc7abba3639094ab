/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the descriptor graph walk on synthetic graphs, cycles and conflicts included. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/digest.h>
#include "image/graph.h"
#include <oci-prep/image.h>

#include "fuzz_common.h"

/* Content addressing keeps real layouts acyclic (a blob cannot contain its own digest),
   so cycles, conflicting references and depth limits are fuzzed here on graphs the input
   describes directly, through the same ocip_graph_walk the layout code uses.
   Input: byte 0: max depth 1 + b % 20; byte 1: root count 1 + b % 4; then that many root
   bytes; then the edges: each byte E names a child of the current node (ids 0..15 in
   order, starting at 0), E == 0xff moves on to the next node.  An edge byte's low nibble is
   the child's id; bit 4 gives it another size, bit 5 another media type (a conflict
   with an earlier reference to the same digest); bit 6 is ignored.  Ids 0..7 are indexes
   (they have children), 8..15 manifests.  A root byte is read like an edge byte.  */
#define N_IDS 16
#define MAX_EDGES 64

struct graph
{
  unsigned char edges[N_IDS][MAX_EDGES];
  size_t n_edges[N_IDS];
  unsigned calls[N_IDS]; /* CHILDREN calls per id */
};

static struct ocip_digest digests[N_IDS];

static int
id_of (const struct ocip_descriptor *d)
{
  int i;

  for (i = 0; i < N_IDS; i++)
    if (ocip_digest_equal (&digests[i], &d->digest))
      return i;
  return -1;
}

static void
make_descriptor (unsigned char e, struct ocip_descriptor *d)
{
  unsigned id = e & 15;

  memset (d, 0, sizeof *d);
  d->digest = digests[id];
  d->size = 100 + id + ((e & 0x10) ? 1000 : 0);
  if (id < 8)
    d->media_type = xstrdup ((e & 0x20) ? OCIP_MEDIA_TYPE_DOCKER_LIST : OCIP_MEDIA_TYPE_INDEX);
  else
    d->media_type = xstrdup ((e & 0x20) ? OCIP_MEDIA_TYPE_DOCKER_MANIFEST : OCIP_MEDIA_TYPE_MANIFEST);
}

static int
children (void *ctx, const struct ocip_descriptor *node, struct ocip_descriptor **ret, size_t *ret_n,
          ocip_error_t *err)
{
  struct graph *g = ctx;
  int id = id_of (node);
  size_t i;

  FUZZ_CHECK (id >= 0, "children asked for an unknown digest '%s'", node->digest.str);
  g->calls[id]++;
  FUZZ_CHECK (g->calls[id] == 1, "children asked twice for node %d", id);
  *ret = NULL;
  *ret_n = 0;
  if (ocip_media_type_kind (node->media_type) != OCIP_KIND_INDEX || g->n_edges[id] == 0)
    return 0;
  *ret = xcalloc (g->n_edges[id], sizeof **ret);
  for (i = 0; i < g->n_edges[id]; i++)
    make_descriptor (g->edges[id][i], &(*ret)[i]);
  *ret_n = g->n_edges[id];
  return 0;
}

/* Whether a cycle is reachable from ID, by plain recursion (16 nodes at most).  */
static bool
has_cycle (const struct graph *g, unsigned id, unsigned char *state)
{
  size_t i;

  if (state[id] == 1)
    return true;
  if (state[id] == 2)
    return false;
  state[id] = 1;
  if (id < 8)
    for (i = 0; i < g->n_edges[id]; i++)
      if (has_cycle (g, g->edges[id][i] & 15, state))
        return true;
  state[id] = 2;
  return false;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  int i;

  for (i = 0; i < N_IDS; i++)
    {
      char text[16];
      snprintf (text, sizeof text, "node %d", i);
      ocip_digest_buffer (OCIP_DIGEST_SHA256, text, strlen (text), &digests[i]);
    }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct graph g = { 0 };
  struct ocip_descriptor roots[4];
  struct ocip_graph *out = NULL;
  ocip_error_t err = NULL;
  unsigned char state[N_IDS] = { 0 };
  size_t max_depth, n_roots, i, j, pos, node = 0;
  bool cycle = false;
  long r;

  if (size < 2)
    return 0;
  max_depth = 1 + data[0] % 20;
  n_roots = 1 + data[1] % 4;
  if (size < 2 + n_roots)
    return 0;
  for (pos = 2 + n_roots; pos < size && node < N_IDS; pos++)
    {
      if (data[pos] == 0xff)
        node++;
      else if (g.n_edges[node] < MAX_EDGES)
        g.edges[node][g.n_edges[node]++] = data[pos];
    }
  for (i = 0; i < n_roots; i++)
    {
      make_descriptor (data[2 + i], &roots[i]);
      cycle = cycle || has_cycle (&g, data[2 + i] & 15, state);
    }

  r = fuzz_check_result ("ocip_graph_walk",
                         ocip_graph_walk (roots, n_roots, max_depth, children, &g, &out, &err), &err);
  if (r == 0)
    {
      bool seen[N_IDS] = { false };

      FUZZ_CHECK (! cycle, "a graph with a reachable cycle was walked without error");
      for (i = 0; i < out->n_nodes; i++)
        {
          int id = id_of (&out->nodes[i].desc);
          FUZZ_CHECK (id >= 0 && ! seen[id], "node %d listed twice or unknown", id);
          /* Post-order: every child of a node comes before it.  */
          if (id < 8)
            for (j = 0; j < g.n_edges[id]; j++)
              FUZZ_CHECK (seen[g.edges[id][j] & 15], "node %d listed before its child %d", id, g.edges[id][j] & 15);
          FUZZ_CHECK (out->nodes[i].depth < max_depth, "node %d at depth %zu past the limit %zu", id,
                      out->nodes[i].depth, max_depth);
          seen[id] = true;
        }
      /* Every node reachable from the roots is listed.  */
      for (i = 0; i < N_IDS; i++)
        FUZZ_CHECK ((state[i] != 0) == seen[i], "node %zu reachable: %d, listed: %d", i, state[i] != 0, seen[i]);
      ocip_graph_free (out);
    }
  else
    FUZZ_CHECK (r != -ELOOP || cycle, "a cycle reported in an acyclic graph");
  for (i = 0; i < n_roots; i++)
    ocip_descriptor_clear (&roots[i]);
  return 0;
}
