/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The descriptor graph: depth-first walk, cycle detection, topological order, de-duplication. */
#ifndef OCIP_GRAPH_H
#define OCIP_GRAPH_H

#include <stddef.h>

#include <oci-prep/error.h>
#include <oci-prep/image.h>

/* Return in *RET_CHILDREN (an array owned by the walk afterwards, may be NULL when
   *RET_N is 0) the descriptors NODE refers to, in document order.  A negative return
   (with *ERR set) stops the walk.  */
typedef int (*ocip_graph_children_fn) (void *ctx, const struct ocip_descriptor *node,
                                       struct ocip_descriptor **ret_children, size_t *ret_n, ocip_error_t *err);

struct ocip_graph_node
{
  struct ocip_descriptor desc;
  size_t depth; /* edges from the nearest root on the path that discovered it */
};

struct ocip_graph
{
  /* Every distinct blob reachable from the roots once, children before parents
     (post-order of a depth-first walk that visits children in document order).  */
  struct ocip_graph_node *nodes;
  size_t n_nodes;
  /* Descriptors passed over because their digest's algorithm is unsupported
     (ocip_descriptor.unsupported_digest): counted, never a node, never read.  */
  size_t n_unsupported;
};

/* Walk depth-first from ROOTS, asking CHILDREN for each node's descriptors once per
   distinct digest (three-colour marking); descriptors with an unsupported digest
   algorithm are counted and passed over.  Errors: ELOOP for a cycle, naming the digests
   on it in order; E2BIG past OCIP_LIMIT_GRAPH_NODES nodes or MAX_DEPTH levels; EINVAL
   when one digest is referenced with two sizes or two media types; any error of
   CHILDREN.  On success *RET is owned by the caller (ocip_graph_free).  */
int ocip_graph_walk (const struct ocip_descriptor *roots, size_t n_roots, size_t max_depth,
                     ocip_graph_children_fn children, void *ctx, struct ocip_graph **ret, ocip_error_t *err);
void ocip_graph_free (struct ocip_graph *g);

#endif
