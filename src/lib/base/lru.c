/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LRU map: an open-addressing hash index over a doubly linked recency list. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include "base/lru.h"

struct entry
{
  char *key;
  void *value;
  size_t len;
  struct entry *newer, *older;
};

/* Slots hold entries or TOMBSTONE (a removed entry: lookups go on past it).  */
#define TOMBSTONE ((struct entry *) (uintptr_t) 1)

struct ocip_lru
{
  struct entry **slots;
  size_t cap;        /* power of two, at least twice the entry bound */
  size_t count, bytes, tombstones;
  size_t max_entries, max_bytes;
  struct entry *newest, *oldest;
};

static size_t
hash (const char *s)
{
  size_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ull;
  return h;
}

struct ocip_lru *
ocip_lru_new (size_t max_entries, size_t max_bytes)
{
  struct ocip_lru *lru = xzalloc (sizeof *lru);

  lru->max_entries = max_entries ? max_entries : 1;
  lru->max_bytes = max_bytes;
  for (lru->cap = 8; lru->cap < 4 * lru->max_entries; lru->cap *= 2)
    ;
  lru->slots = xcalloc (lru->cap, sizeof *lru->slots);
  return lru;
}

static void
free_entry (struct entry *e)
{
  free (e->key);
  free (e->value);
  free (e);
}

void
ocip_lru_free (struct ocip_lru *lru)
{
  struct entry *e, *next;

  if (lru == NULL)
    return;
  for (e = lru->newest; e; e = next)
    {
      next = e->older;
      free_entry (e);
    }
  free (lru->slots);
  free (lru);
}

/* The slot of KEY, or where it would go (the first tombstone or empty slot seen).  */
static struct entry **
find (struct ocip_lru *lru, const char *key)
{
  size_t i = hash (key) & (lru->cap - 1);
  struct entry **free_slot = NULL;

  for (;; i = (i + 1) & (lru->cap - 1))
    {
      struct entry *e = lru->slots[i];
      if (e == NULL)
        return free_slot ? free_slot : &lru->slots[i];
      if (e == TOMBSTONE)
        {
          if (free_slot == NULL)
            free_slot = &lru->slots[i];
        }
      else if (strcmp (e->key, key) == 0)
        return &lru->slots[i];
    }
}

static void
unlink_entry (struct ocip_lru *lru, struct entry *e)
{
  if (e->newer)
    e->newer->older = e->older;
  else
    lru->newest = e->older;
  if (e->older)
    e->older->newer = e->newer;
  else
    lru->oldest = e->newer;
  e->newer = e->older = NULL;
}

static void
push_newest (struct ocip_lru *lru, struct entry *e)
{
  e->older = lru->newest;
  e->newer = NULL;
  if (lru->newest)
    lru->newest->newer = e;
  lru->newest = e;
  if (lru->oldest == NULL)
    lru->oldest = e;
}

static void
remove_entry (struct ocip_lru *lru, struct entry **slot)
{
  struct entry *e = *slot;

  unlink_entry (lru, e);
  *slot = TOMBSTONE;
  lru->tombstones++;
  lru->count--;
  lru->bytes -= e->len;
  free_entry (e);
}

/* Tombstones accumulate with churn: rebuild the index when they would slow lookups.  */
static void
rehash (struct ocip_lru *lru)
{
  struct entry *e;

  memset (lru->slots, 0, lru->cap * sizeof *lru->slots);
  lru->tombstones = 0;
  for (e = lru->newest; e; e = e->older)
    *find (lru, e->key) = e;
}

const void *
ocip_lru_get (struct ocip_lru *lru, const char *key, size_t *ret_len)
{
  struct entry **slot = find (lru, key);
  struct entry *e = *slot;

  if (e == NULL || e == TOMBSTONE)
    return NULL;
  unlink_entry (lru, e);
  push_newest (lru, e);
  if (ret_len)
    *ret_len = e->len;
  return e->value;
}

void
ocip_lru_put (struct ocip_lru *lru, const char *key, const void *value, size_t len)
{
  struct entry **slot = find (lru, key);
  struct entry *e;

  if (*slot && *slot != TOMBSTONE)
    remove_entry (lru, slot);
  if (len > lru->max_bytes)
    return;
  while (lru->oldest && (lru->count + 1 > lru->max_entries || lru->bytes + len > lru->max_bytes))
    remove_entry (lru, find (lru, lru->oldest->key));

  if (lru->tombstones > lru->cap / 4)
    rehash (lru);

  e = xzalloc (sizeof *e);
  e->key = xstrdup (key);
  e->value = xmalloc (len ? len : 1);
  memcpy (e->value, value, len);
  e->len = len;
  slot = find (lru, key);
  if (*slot == TOMBSTONE)
    lru->tombstones--;
  *slot = e;
  push_newest (lru, e);
  lru->count++;
  lru->bytes += len;
}

size_t
ocip_lru_count (const struct ocip_lru *lru)
{
  return lru->count;
}

size_t
ocip_lru_bytes (const struct ocip_lru *lru)
{
  return lru->bytes;
}
