/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Iterative depth-first walk of the descriptor graph with three-colour marking. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include "image/graph.h"
#include <oci-prep/limits.h>

enum colour
{
  WHITE, /* never seen */
  GREY,  /* on the current path: meeting it again closes a cycle */
  BLACK, /* finished: its subtree is in the output */
};

struct mark
{
  const char *key; /* the digest text, owned by the descriptor in SEEN */
  size_t seen_index;
  enum colour colour;
};

/* Open addressing on the digest text; digests are uniformly distributed already.  */
struct marks
{
  struct mark *slots;
  size_t cap, used;
};

static size_t
hash_key (const char *s)
{
  size_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ull;
  return h;
}

static struct mark *
marks_lookup (struct marks *m, const char *key)
{
  size_t i = hash_key (key) & (m->cap - 1);

  while (m->slots[i].key && strcmp (m->slots[i].key, key) != 0)
    i = (i + 1) & (m->cap - 1);
  return &m->slots[i];
}

static void
marks_grow (struct marks *m)
{
  struct marks bigger = { .cap = m->cap ? m->cap * 2 : 64 };
  size_t i;

  bigger.slots = xcalloc (bigger.cap, sizeof *bigger.slots);
  for (i = 0; i < m->cap; i++)
    if (m->slots[i].key)
      *marks_lookup (&bigger, m->slots[i].key) = m->slots[i];
  bigger.used = m->used;
  free (m->slots);
  *m = bigger;
}

struct frame
{
  size_t seen_index; /* the node being expanded */
  struct ocip_descriptor *children;
  size_t n_children, next;
};

struct walk
{
  struct marks marks;
  /* Every node discovered, in discovery order; owns the descriptors.  */
  struct ocip_graph_node *seen;
  size_t n_seen;
  size_t *order; /* indexes into SEEN, post-order */
  size_t n_order;
  struct frame *stack;
  size_t depth, stack_cap;
  size_t n_unsupported;
};

static int
cycle_error (struct walk *w, size_t closing, ocip_error_t *err)
{
  cleanup_free char *path = NULL;
  size_t i, start = 0;

  for (i = 0; i < w->depth; i++)
    if (w->stack[i].seen_index == closing)
      start = i;
  for (i = start; i < w->depth; i++)
    {
      char *p = xasprintf ("%s%s -> ", path ? path : "", w->seen[w->stack[i].seen_index].desc.digest.str);
      free (path);
      path = p;
    }
  return ocip_error_fail (err, ELOOP, "descriptor cycle: %s%s", path ? path : "", w->seen[closing].desc.digest.str);
}

/* Record DESC as discovered at DEPTH, or check it against its earlier sighting.
   *RET_INDEX is its index in SEEN, *RET_MARK its mark.  */
static int
discover (struct walk *w, const struct ocip_descriptor *desc, size_t depth, struct mark **ret_mark,
          ocip_error_t *err)
{
  struct mark *mark;
  struct ocip_graph_node *node;

  if (w->marks.used * 2 >= w->marks.cap)
    marks_grow (&w->marks);
  mark = marks_lookup (&w->marks, desc->digest.str);
  if (mark->key)
    {
      const struct ocip_descriptor *first = &w->seen[mark->seen_index].desc;
      if (first->size != desc->size)
        return ocip_error_fail (err, EINVAL, "blob '%s' is referenced with sizes %lld and %lld", desc->digest.str,
                               (long long) first->size, (long long) desc->size);
      if (strcmp (first->media_type, desc->media_type) != 0)
        return ocip_error_fail (err, EINVAL, "blob '%s' is referenced as both '%s' and '%s'", desc->digest.str,
                               first->media_type, desc->media_type);
      *ret_mark = mark;
      return 0;
    }
  if (w->n_seen == OCIP_LIMIT_GRAPH_NODES)
    return ocip_error_fail (err, E2BIG, "more than %u blobs are reachable", OCIP_LIMIT_GRAPH_NODES);
  if ((w->n_seen & (w->n_seen - 1)) == 0)
    w->seen = xreallocarray (w->seen, w->n_seen ? w->n_seen * 2 : 1, sizeof *w->seen);
  node = &w->seen[w->n_seen];
  ocip_descriptor_copy (desc, &node->desc);
  node->depth = depth;
  /* SEEN may move when it grows: the key must point into a stable copy.  */
  mark->key = xstrdup (desc->digest.str);
  mark->seen_index = w->n_seen++;
  mark->colour = WHITE;
  w->marks.used++;
  *ret_mark = mark;
  return 0;
}

static void
free_children (struct frame *f)
{
  size_t i;
  for (i = 0; i < f->n_children; i++)
    ocip_descriptor_clear (&f->children[i]);
  free (f->children);
  f->children = NULL;
  f->n_children = 0;
}

/* Colour NODE grey, ask for its children and push its frame.  */
static int
enter (struct walk *w, size_t seen_index, struct mark *mark, size_t max_depth, ocip_graph_children_fn children,
       void *ctx, ocip_error_t *err)
{
  struct frame *f;
  int r;

  if (w->depth >= max_depth)
    return ocip_error_fail (err, E2BIG, "blob '%s' is nested more than %zu levels deep",
                           w->seen[seen_index].desc.digest.str, max_depth);
  mark->colour = GREY;
  if (w->depth == w->stack_cap)
    {
      w->stack_cap = w->stack_cap ? w->stack_cap * 2 : 8;
      w->stack = xreallocarray (w->stack, w->stack_cap, sizeof *w->stack);
    }
  f = &w->stack[w->depth];
  memset (f, 0, sizeof *f);
  f->seen_index = seen_index;
  /* CHILDREN may not see SEEN's storage: it can move while the walk grows it.  */
  {
    struct ocip_descriptor copy;
    ocip_descriptor_copy (&w->seen[seen_index].desc, &copy);
    r = children (ctx, &copy, &f->children, &f->n_children, err);
    ocip_descriptor_clear (&copy);
  }
  if (r < 0)
    return r;
  w->depth++;
  return 0;
}

int
ocip_graph_walk (const struct ocip_descriptor *roots, size_t n_roots, size_t max_depth,
                 ocip_graph_children_fn children, void *ctx, struct ocip_graph **ret, ocip_error_t *err)
{
  struct walk w = { 0 };
  struct ocip_graph *g;
  size_t i;
  int r = 0;

  for (i = 0; i < n_roots && r == 0; i++)
    {
      struct mark *mark;

      if (roots[i].unsupported_digest)
        {
          w.n_unsupported++;
          continue;
        }
      if ((r = discover (&w, &roots[i], 0, &mark, err)) < 0)
        break;
      if (mark->colour != WHITE)
        continue;
      if ((r = enter (&w, mark->seen_index, mark, max_depth, children, ctx, err)) < 0)
        break;
      while (w.depth > 0)
        {
          struct frame *top = &w.stack[w.depth - 1];
          struct ocip_descriptor *child;

          if (top->next == top->n_children)
            {
              marks_lookup (&w.marks, w.seen[top->seen_index].desc.digest.str)->colour = BLACK;
              if ((w.n_order & (w.n_order - 1)) == 0)
                w.order = xreallocarray (w.order, w.n_order ? w.n_order * 2 : 1, sizeof *w.order);
              w.order[w.n_order++] = top->seen_index;
              free_children (top);
              w.depth--;
              continue;
            }
          child = &top->children[top->next++];
          if (child->unsupported_digest)
            {
              w.n_unsupported++;
              continue;
            }
          if ((r = discover (&w, child, w.depth, &mark, err)) < 0)
            break;
          if (mark->colour == GREY)
            {
              r = cycle_error (&w, mark->seen_index, err);
              break;
            }
          if (mark->colour == BLACK)
            continue;
          if ((r = enter (&w, mark->seen_index, mark, max_depth, children, ctx, err)) < 0)
            break;
        }
    }

  for (i = 0; i < w.depth; i++)
    free_children (&w.stack[i]);
  free (w.stack);
  for (i = 0; i < w.marks.cap; i++)
    free ((char *) w.marks.slots[i].key);
  free (w.marks.slots);

  g = xzalloc (sizeof *g);
  if (r == 0)
    {
      /* Keep the nodes in post-order; every discovered node was finished.  */
      g->nodes = xcalloc (w.n_order, sizeof *g->nodes);
      for (i = 0; i < w.n_order; i++)
        g->nodes[i] = w.seen[w.order[i]];
      g->n_nodes = w.n_order;
      g->n_unsupported = w.n_unsupported;
    }
  else
    for (i = 0; i < w.n_seen; i++)
      ocip_descriptor_clear (&w.seen[i].desc);
  free (w.seen);
  free (w.order);
  if (r < 0)
    {
      free (g);
      return r;
    }
  *ret = g;
  return 0;
}

void
ocip_graph_free (struct ocip_graph *g)
{
  size_t i;

  if (g == NULL)
    return;
  for (i = 0; i < g->n_nodes; i++)
    ocip_descriptor_clear (&g->nodes[i].desc);
  free (g->nodes);
  free (g);
}
