/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A bounded least-recently-used map from strings to byte buffers, O(1) per operation. */
#ifndef OCIP_LRU_H
#define OCIP_LRU_H

#include <stdbool.h>
#include <stddef.h>

struct ocip_lru;

/* A cache holding at most MAX_ENTRIES values and MAX_BYTES value bytes.  Not
   thread-safe by itself: callers that share one lock around it.  */
struct ocip_lru *ocip_lru_new (size_t max_entries, size_t max_bytes);
void ocip_lru_free (struct ocip_lru *lru);

/* The value of KEY (and its length), now the most recently used, or NULL.  The pointer
   stays valid until the next put or free.  */
const void *ocip_lru_get (struct ocip_lru *lru, const char *key, size_t *ret_len);

/* Store a copy of LEN bytes at VALUE under KEY (replacing an older value), evicting
   the least recently used entries until both bounds hold.  A value larger than the
   byte bound is not stored.  */
void ocip_lru_put (struct ocip_lru *lru, const char *key, const void *value, size_t len);

size_t ocip_lru_count (const struct ocip_lru *lru);
size_t ocip_lru_bytes (const struct ocip_lru *lru);

#endif
