#include "config.h"
/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for graph: post-order walk, once per node, cycles, depth limit, inconsistent references. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/digest.h>
#include <oci-prep/error.h>
#include "image/graph.h"
#include <oci-prep/image.h>

#define MT "application/vnd.test.node"
#define MT_OTHER "application/vnd.test.other"
#define MAX_CHILDREN 8
#define MAX_NODES 512

/* An edge: the child's name, and the size and media type the parent says it has.  */
struct edge
{
  const char *name;
  int64_t size;
  const char *media_type;
};

#define E(n) { n, 1, MT }

/* A node of a hand-made graph and the descriptors it refers to, in document order.  */
struct adj
{
  const char *name;
  struct edge children[MAX_CHILDREN];
};

struct graph_ctx
{
  const struct adj *table;
  size_t n_table;
  /* The digest of each table entry's name: the table is looked up by digest.  */
  struct ocip_digest digests[MAX_NODES];
  size_t calls[MAX_NODES];
  size_t order[MAX_NODES]; /* table indexes in the order CHILDREN was called */
  size_t n_calls;
  const char *fail_at; /* CHILDREN fails for this node */
};

static struct ocip_digest
digest_of (const char *name)
{
  struct ocip_digest d;

  ocip_digest_buffer (OCIP_DIGEST_SHA256, name, strlen (name), &d);
  return d;
}

static void
make_desc (const struct edge *e, struct ocip_descriptor *d)
{
  memset (d, 0, sizeof *d);
  d->media_type = xstrdup (e->media_type);
  d->digest = digest_of (e->name);
  d->size = e->size;
}

static void
ctx_init (struct graph_ctx *ctx, const struct adj *table, size_t n)
{
  size_t i;

  cr_assert_leq (n, MAX_NODES, "table too big");
  memset (ctx, 0, sizeof *ctx);
  ctx->table = table;
  ctx->n_table = n;
  for (i = 0; i < n; i++)
    ctx->digests[i] = digest_of (table[i].name);
}

static size_t
lookup (const struct graph_ctx *ctx, const struct ocip_digest *d)
{
  size_t i;

  for (i = 0; i < ctx->n_table; i++)
    if (ocip_digest_equal (&ctx->digests[i], d))
      return i;
  cr_assert_fail ("the walk asked for an unknown digest %s", d->str);
  return 0;
}

static int
table_children (void *opaque, const struct ocip_descriptor *node, struct ocip_descriptor **ret_children,
                size_t *ret_n, ocip_error_t *err)
{
  struct graph_ctx *ctx = opaque;
  size_t i = lookup (ctx, &node->digest), n;
  const struct adj *a = &ctx->table[i];
  struct ocip_descriptor *children;

  cr_assert_not_null (node->media_type, "node without media type");
  ctx->calls[i]++;
  ctx->order[ctx->n_calls++] = i;
  if (ctx->fail_at && strcmp (ctx->fail_at, a->name) == 0)
    return ocip_error_fail (err, EIO, "cannot read node '%s'", a->name);
  for (n = 0; n < MAX_CHILDREN && a->children[n].name; n++)
    ;
  if (n == 0)
    {
      *ret_children = NULL;
      *ret_n = 0;
      return 0;
    }
  children = xcalloc (n, sizeof *children);
  for (i = 0; i < n; i++)
    make_desc (&a->children[i], &children[i]);
  *ret_children = children;
  *ret_n = n;
  return 0;
}

/* Walk from the roots named in ROOTS (NULL-terminated), all size 1 and MT.  */
static int
walk (struct graph_ctx *ctx, const char *const *roots, size_t max_depth, struct ocip_graph **ret, ocip_error_t *err)
{
  struct ocip_descriptor descs[16] = { 0 };
  size_t n, i;
  int r;

  for (n = 0; roots[n]; n++)
    {
      struct edge e = E (roots[n]);
      make_desc (&e, &descs[n]);
    }
  *ret = NULL;
  r = ocip_graph_walk (descs, n, max_depth, table_children, ctx, ret, err);
  for (i = 0; i < n; i++)
    ocip_descriptor_clear (&descs[i]);
  return r;
}

/* The nodes of G as a string of names: "D B E C A".  */
static char *
node_names (const struct graph_ctx *ctx, const struct ocip_graph *g)
{
  char *s = xstrdup (""), *t;
  size_t i;

  for (i = 0; i < g->n_nodes; i++)
    {
      t = xasprintf ("%s%s%s", s, i ? " " : "", ctx->table[lookup (ctx, &g->nodes[i].desc.digest)].name);
      free (s);
      s = t;
    }
  return s;
}

static size_t
depth_of (const struct graph_ctx *ctx, const struct ocip_graph *g, const char *name)
{
  struct ocip_digest d = digest_of (name);
  size_t i;

  for (i = 0; i < g->n_nodes; i++)
    if (ocip_digest_equal (&g->nodes[i].desc.digest, &d))
      return g->nodes[i].depth;
  cr_assert_fail ("node '%s' not in the graph", name);
  return 0;
}

static void
expect_calls_once (const struct graph_ctx *ctx, const char *const *names)
{
  size_t i, total = 0;

  for (i = 0; i < ctx->n_table; i++)
    total += ctx->calls[i];
  for (; *names; names++)
    {
      struct ocip_digest d = digest_of (*names);
      cr_assert_eq (ctx->calls[lookup (ctx, &d)], 1, "children of '%s' asked %zu times", *names,
                    ctx->calls[lookup (ctx, &d)]);
      total--;
    }
  cr_assert_eq (total, 0, "children asked for nodes not expected");
}

static void
expect_error (int r, ocip_error_t *err, int errnum, const char *what)
{
  cr_assert_eq (r, -errnum, "expected %d, got %d", -errnum, r);
  cr_assert_not_null (*err, "no error set");
  cr_assert_eq ((*err)->status, errnum, "status %d, expected %d (%s)", (*err)->status, errnum, (*err)->msg);
  cr_assert (strstr ((*err)->msg, what) != NULL, "message '%s' does not say '%s'", (*err)->msg, what);
  ocip_error_release (err);
}

#define N(t) (sizeof (t) / sizeof (t)[0])

/* A -> B, C; B -> D; C -> D, E: D is shared.  */
static const struct adj dag[] = {
  { "A", { E ("B"), E ("C") } },
  { "B", { E ("D") } },
  { "C", { E ("D"), E ("E") } },
  { "D", { { 0 } } },
  { "E", { { 0 } } },
  { "F", { E ("D") } },
};

Test (graph, dag_post_order_once_per_node)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *names = NULL;

  ctx_init (&ctx, dag, N (dag));
  cr_assert_eq (walk (&ctx, (const char *[]) { "A", NULL }, 10, &g, &err), 0, "walk: %s", err ? err->msg : "");
  cr_assert_eq (g->n_nodes, 5, "five distinct nodes, D once");
  names = node_names (&ctx, g);
  cr_assert_str_eq (names, "D B E C A", "post-order, children in document order");
  expect_calls_once (&ctx, (const char *[]) { "A", "B", "C", "D", "E", NULL });
  cr_assert_eq (depth_of (&ctx, g, "A"), 0, "root depth");
  cr_assert_eq (depth_of (&ctx, g, "B"), 1, "child depth");
  cr_assert_eq (depth_of (&ctx, g, "D"), 2, "grandchild depth");
  cr_assert_eq (depth_of (&ctx, g, "E"), 2, "grandchild depth");
  cr_assert_str_eq (g->nodes[0].desc.media_type, MT, "media type kept");
  cr_assert_eq (g->nodes[0].desc.size, 1, "size kept");
  ocip_graph_free (g);
}

Test (graph, callback_order_is_pre_order)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  static const char *const expected[] = { "A", "B", "D", "C", "E" };
  size_t i;

  ctx_init (&ctx, dag, N (dag));
  cr_assert_eq (walk (&ctx, (const char *[]) { "A", NULL }, 10, &g, &err), 0, "walk: %s", err ? err->msg : "");
  cr_assert_eq (ctx.n_calls, 5, "five calls");
  for (i = 0; i < 5; i++)
    cr_assert_str_eq (ctx.table[ctx.order[i]].name, expected[i], "call %zu", i);
  ocip_graph_free (g);
}

Test (graph, several_roots_share_nodes)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *names = NULL;

  ctx_init (&ctx, dag, N (dag));
  cr_assert_eq (walk (&ctx, (const char *[]) { "A", "C", "F", "A", NULL }, 10, &g, &err), 0, "walk: %s",
                err ? err->msg : "");
  names = node_names (&ctx, g);
  cr_assert_str_eq (names, "D B E C A F", "each node once, roots in order");
  expect_calls_once (&ctx, (const char *[]) { "A", "B", "C", "D", "E", "F", NULL });
  cr_assert_eq (depth_of (&ctx, g, "F"), 0, "second root depth");
  cr_assert_eq (depth_of (&ctx, g, "C"), 1, "C was discovered under A first");
  ocip_graph_free (g);
}

Test (graph, shared_node_as_later_root)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *names = NULL;

  ctx_init (&ctx, dag, N (dag));
  cr_assert_eq (walk (&ctx, (const char *[]) { "D", "F", "A", NULL }, 10, &g, &err), 0, "walk: %s",
                err ? err->msg : "");
  names = node_names (&ctx, g);
  cr_assert_str_eq (names, "D F B E C A", "a finished root is not walked again");
  expect_calls_once (&ctx, (const char *[]) { "A", "B", "C", "D", "E", "F", NULL });
  cr_assert_eq (depth_of (&ctx, g, "D"), 0, "D discovered as a root");
  ocip_graph_free (g);
}

/* A -> B, C; B -> D; C -> D: a diamond.  */
static const struct adj diamond[] = {
  { "A", { E ("B"), E ("C") } },
  { "B", { E ("D") } },
  { "C", { E ("D") } },
  { "D", { { 0 } } },
};

Test (graph, diamond_is_not_a_cycle)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *names = NULL;

  ctx_init (&ctx, diamond, N (diamond));
  cr_assert_eq (walk (&ctx, (const char *[]) { "A", NULL }, 10, &g, &err), 0, "diamond: %s", err ? err->msg : "");
  names = node_names (&ctx, g);
  cr_assert_str_eq (names, "D B C A", "diamond in post-order");
  expect_calls_once (&ctx, (const char *[]) { "A", "B", "C", "D", NULL });
  ocip_graph_free (g);
}

Test (graph, same_child_twice_is_not_a_cycle)
{
  static const struct adj twice[] = {
    { "A", { E ("B"), E ("B"), E ("B") } },
    { "B", { { 0 } } },
  };
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;

  ctx_init (&ctx, twice, N (twice));
  cr_assert_eq (walk (&ctx, (const char *[]) { "A", NULL }, 10, &g, &err), 0, "repeated child: %s",
                err ? err->msg : "");
  cr_assert_eq (g->n_nodes, 2, "B once");
  expect_calls_once (&ctx, (const char *[]) { "A", "B", NULL });
  ocip_graph_free (g);
}

/* The ELOOP message for the cycle through NAMES, in order, back to the first.  */
static char *
cycle_message (const char *const *names)
{
  char *s = xstrdup ("descriptor cycle: "), *t;
  size_t i;

  for (i = 0; names[i]; i++)
    {
      t = xasprintf ("%s%s -> ", s, digest_of (names[i]).str);
      free (s);
      s = t;
    }
  t = xasprintf ("%s%s", s, digest_of (names[0]).str);
  free (s);
  return t;
}

Test (graph, self_loop_is_eloop)
{
  static const struct adj self[] = {
    { "S", { E ("S") } },
  };
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *msg = cycle_message ((const char *[]) { "S", NULL });

  ctx_init (&ctx, self, N (self));
  expect_error (walk (&ctx, (const char *[]) { "S", NULL }, 10, &g, &err), &err, ELOOP, msg);
  cr_assert_null (g, "no graph on failure");
}

/* R -> X; X -> Y; Y -> Z; Z -> W, X: the cycle X Y Z, entered from R.  */
static const struct adj cycle3[] = {
  { "R", { E ("X") } },
  { "X", { E ("Y") } },
  { "Y", { E ("Z") } },
  { "Z", { E ("W"), E ("X") } },
  { "W", { { 0 } } },
  { "A", { E ("B") } },
  { "B", { { 0 } } },
};

Test (graph, three_cycle_is_eloop)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *msg = cycle_message ((const char *[]) { "X", "Y", "Z", NULL });

  ctx_init (&ctx, cycle3, N (cycle3));
  expect_error (walk (&ctx, (const char *[]) { "X", NULL }, 10, &g, &err), &err, ELOOP, msg);
  cr_assert_null (g, "no graph on failure");
}

Test (graph, cycle_below_root_lists_only_the_cycle)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *msg = cycle_message ((const char *[]) { "X", "Y", "Z", NULL });
  struct ocip_digest r = digest_of ("R");
  int ret;

  ctx_init (&ctx, cycle3, N (cycle3));
  ret = walk (&ctx, (const char *[]) { "R", NULL }, 10, &g, &err);
  cr_assert_eq (ret, -ELOOP, "cycle below the root");
  cr_assert_str_eq (err->msg, msg, "the message lists the cycle in order");
  cr_assert_null (strstr (err->msg, r.str), "the root is not on the cycle");
  ocip_error_release (&err);
}

Test (graph, cycle_through_second_root_is_eloop)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *msg = cycle_message ((const char *[]) { "X", "Y", "Z", NULL });
  struct ocip_digest a = digest_of ("A");

  ctx_init (&ctx, cycle3, N (cycle3));
  expect_error (walk (&ctx, (const char *[]) { "A", "R", NULL }, 10, &g, &err), &err, ELOOP, msg);
  cr_assert_null (g, "no graph on failure");
  cr_assert_eq (ctx.calls[lookup (&ctx, &a)], 1, "the first root was walked");
}

Test (graph, two_node_cycle_between_roots_is_eloop)
{
  static const struct adj two[] = {
    { "P", { E ("Q") } },
    { "Q", { E ("P") } },
  };
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *msg = cycle_message ((const char *[]) { "P", "Q", NULL });

  ctx_init (&ctx, two, N (two));
  expect_error (walk (&ctx, (const char *[]) { "P", "Q", NULL }, 10, &g, &err), &err, ELOOP, msg);
}

/* C1 -> C2 -> C3 -> C4: four levels.  */
static const struct adj chain[] = {
  { "C1", { E ("C2") } },
  { "C2", { E ("C3") } },
  { "C3", { E ("C4") } },
  { "C4", { { 0 } } },
};

Test (graph, depth_at_max_is_fine)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *names = NULL;

  ctx_init (&ctx, chain, N (chain));
  cr_assert_eq (walk (&ctx, (const char *[]) { "C1", NULL }, 4, &g, &err), 0, "four levels with max_depth 4: %s",
                err ? err->msg : "");
  names = node_names (&ctx, g);
  cr_assert_str_eq (names, "C4 C3 C2 C1", "chain in post-order");
  cr_assert_eq (depth_of (&ctx, g, "C4"), 3, "three edges from the root");
  ocip_graph_free (g);
}

Test (graph, depth_over_max_is_e2big)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *what = xasprintf ("blob '%s' is nested more than 3 levels deep", digest_of ("C4").str);

  ctx_init (&ctx, chain, N (chain));
  expect_error (walk (&ctx, (const char *[]) { "C1", NULL }, 3, &g, &err), &err, E2BIG, what);
  cr_assert_null (g, "no graph on failure");
  ctx_init (&ctx, chain, N (chain));
  expect_error (walk (&ctx, (const char *[]) { "C1", NULL }, 1, &g, &err), &err, E2BIG, "nested more than 1");
  ctx_init (&ctx, chain, N (chain));
  expect_error (walk (&ctx, (const char *[]) { "C4", NULL }, 0, &g, &err), &err, E2BIG, "nested more than 0");
}

Test (graph, unbounded_max_depth)
{
  /* SIZE_MAX is the natural "no limit of my own" (OCIP_LIMIT_GRAPH_NODES still
     bounds the walk): it must not wrap the frame stack's size to nothing.  */
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *names = NULL;

  ctx_init (&ctx, chain, N (chain));
  cr_assert_eq (walk (&ctx, (const char *[]) { "C1", NULL }, SIZE_MAX, &g, &err), 0, "max_depth SIZE_MAX: %s",
                err ? err->msg : "");
  names = node_names (&ctx, g);
  cr_assert_str_eq (names, "C4 C3 C2 C1", "chain in post-order");
  ocip_graph_free (g);
}

Test (graph, deep_cycle_is_eloop_or_e2big)
{
  /* A cycle is never walked forever, whatever MAX_DEPTH.  */
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;

  ctx_init (&ctx, cycle3, N (cycle3));
  expect_error (walk (&ctx, (const char *[]) { "R", NULL }, 2, &g, &err), &err, E2BIG, "nested more than 2");
}

Test (graph, same_digest_two_sizes_is_einval)
{
  static const struct adj sizes[] = {
    { "A", { E ("B"), E ("C") } },
    { "B", { E ("D") } },
    { "C", { { "D", 2, MT } } },
    { "D", { { 0 } } },
  };
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *what = xasprintf ("blob '%s' is referenced with sizes 1 and 2", digest_of ("D").str);

  ctx_init (&ctx, sizes, N (sizes));
  expect_error (walk (&ctx, (const char *[]) { "A", NULL }, 10, &g, &err), &err, EINVAL, what);
  cr_assert_null (g, "no graph on failure");
}

Test (graph, same_digest_two_media_types_is_einval)
{
  static const struct adj types[] = {
    { "A", { E ("B"), { "B", 1, MT_OTHER } } },
    { "B", { { 0 } } },
  };
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  cleanup_free char *what
      = xasprintf ("blob '%s' is referenced as both '" MT "' and '" MT_OTHER "'", digest_of ("B").str);

  ctx_init (&ctx, types, N (types));
  expect_error (walk (&ctx, (const char *[]) { "A", NULL }, 10, &g, &err), &err, EINVAL, what);
}

Test (graph, root_and_child_disagree_is_einval)
{
  /* The root says size 1; A refers to it with size 5.  */
  static const struct adj back[] = {
    { "A", { { "B", 5, MT } } },
    { "B", { { 0 } } },
  };
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;

  ctx_init (&ctx, back, N (back));
  expect_error (walk (&ctx, (const char *[]) { "B", "A", NULL }, 10, &g, &err), &err, EINVAL, "sizes 1 and 5");
}

Test (graph, roots_disagree_is_einval)
{
  static const struct adj one[] = {
    { "A", { { 0 } } },
  };
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  struct ocip_descriptor roots[2];
  struct edge e1 = E ("A"), e2 = { "A", 1, MT_OTHER };

  ctx_init (&ctx, one, N (one));
  make_desc (&e1, &roots[0]);
  make_desc (&e2, &roots[1]);
  expect_error (ocip_graph_walk (roots, 2, 10, table_children, &ctx, &g, &err), &err, EINVAL,
                "referenced as both");
  ocip_descriptor_clear (&roots[0]);
  ocip_descriptor_clear (&roots[1]);
}

Test (graph, callback_error_stops_the_walk)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  struct ocip_digest e = digest_of ("E"), f = digest_of ("F");

  ctx_init (&ctx, dag, N (dag));
  ctx.fail_at = "C";
  expect_error (walk (&ctx, (const char *[]) { "A", "F", NULL }, 10, &g, &err), &err, EIO,
                "cannot read node 'C'");
  cr_assert_null (g, "no graph on failure");
  cr_assert_eq (ctx.n_calls, 4, "A B D C asked, nothing after the failure");
  cr_assert_eq (ctx.calls[lookup (&ctx, &e)], 0, "E never asked");
  cr_assert_eq (ctx.calls[lookup (&ctx, &f)], 0, "the next root never walked");
}

Test (graph, callback_error_at_root)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;

  ctx_init (&ctx, dag, N (dag));
  ctx.fail_at = "A";
  expect_error (walk (&ctx, (const char *[]) { "A", NULL }, 10, &g, &err), &err, EIO, "cannot read node 'A'");
  cr_assert_eq (ctx.n_calls, 1, "one call");
}

Test (graph, no_roots)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;

  ctx_init (&ctx, dag, N (dag));
  cr_assert_eq (walk (&ctx, (const char *[]) { NULL }, 10, &g, &err), 0, "empty walk");
  cr_assert_not_null (g, "a graph");
  cr_assert_eq (g->n_nodes, 0, "no nodes");
  cr_assert_eq (ctx.n_calls, 0, "no calls");
  ocip_graph_free (g);
  ocip_graph_free (NULL);
}

/* A wide graph, more nodes than the first mark table holds: "n0" -> n1..n300,
   n_i -> n(301 + i % 50) and n(301 + (i + 7) % 50).  */
#define WIDE_MID 300
#define WIDE_LEAVES 50
#define WIDE_NODES (1 + WIDE_MID + WIDE_LEAVES)

static char wide_names[WIDE_NODES][8];
static struct adj wide_table[WIDE_NODES];

static void
wide_init (void)
{
  size_t i, k;

  for (i = 0; i < WIDE_NODES; i++)
    {
      snprintf (wide_names[i], sizeof wide_names[i], "n%zu", i);
      memset (&wide_table[i], 0, sizeof wide_table[i]);
      wide_table[i].name = wide_names[i];
    }
  /* n0 has too many children for the static table: the callback handles it.  */
  for (i = 1; i <= WIDE_MID; i++)
    for (k = 0; k < 2; k++)
      {
        struct edge e = { wide_names[1 + WIDE_MID + (i + 7 * k) % WIDE_LEAVES], 1, MT };
        wide_table[i].children[k] = e;
      }
}

static int
wide_children (void *opaque, const struct ocip_descriptor *node, struct ocip_descriptor **ret_children,
               size_t *ret_n, ocip_error_t *err)
{
  struct graph_ctx *ctx = opaque;
  size_t i;

  if (lookup (ctx, &node->digest) != 0)
    return table_children (opaque, node, ret_children, ret_n, err);
  ctx->calls[0]++;
  ctx->order[ctx->n_calls++] = 0;
  *ret_children = xcalloc (WIDE_MID, sizeof **ret_children);
  for (i = 0; i < WIDE_MID; i++)
    {
      struct edge e = { wide_names[i + 1], 1, MT };
      make_desc (&e, &(*ret_children)[i]);
    }
  *ret_n = WIDE_MID;
  return 0;
}

Test (graph, wide_graph_topological_order)
{
  struct graph_ctx ctx;
  struct ocip_graph *g = NULL;
  ocip_error_t err = NULL;
  struct ocip_descriptor root;
  struct edge e;
  size_t i, k, pos[WIDE_NODES];

  wide_init ();
  ctx_init (&ctx, wide_table, WIDE_NODES);
  e = (struct edge) E (wide_names[0]);
  make_desc (&e, &root);
  cr_assert_eq (ocip_graph_walk (&root, 1, 10, wide_children, &ctx, &g, &err), 0, "wide walk: %s",
                err ? err->msg : "");
  ocip_descriptor_clear (&root);
  cr_assert_eq (g->n_nodes, WIDE_NODES, "every node once");
  for (i = 0; i < WIDE_NODES; i++)
    {
      cr_assert_eq (ctx.calls[i], 1, "children of '%s' asked %zu times", wide_names[i], ctx.calls[i]);
      pos[i] = SIZE_MAX;
    }
  for (i = 0; i < g->n_nodes; i++)
    {
      size_t n = lookup (&ctx, &g->nodes[i].desc.digest);
      cr_assert_eq (pos[n], SIZE_MAX, "'%s' twice in the output", wide_names[n]);
      pos[n] = i;
    }
  for (i = 1; i <= WIDE_MID; i++)
    {
      cr_assert_lt (pos[i], pos[0], "'%s' before the root", wide_names[i]);
      for (k = 0; k < 2; k++)
        {
          struct ocip_digest d = digest_of (wide_table[i].children[k].name);
          cr_assert_lt (pos[lookup (&ctx, &d)], pos[i], "child of '%s' before it", wide_names[i]);
        }
    }
  cr_assert_eq (pos[0], WIDE_NODES - 1, "root last");
  /* The first leaf is the first node finished: n1's first child.  */
  cr_assert_str_eq (wide_names[lookup (&ctx, &g->nodes[0].desc.digest)], wide_table[1].children[0].name,
                    "first node finished");
  ocip_graph_free (g);
}
