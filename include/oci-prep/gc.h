/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Store maintenance: what the store holds (ls, du), garbage collection, checking and repair. */
#ifndef OCIP_GC_H
#define OCIP_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oci-prep/digest.h>
#include <oci-prep/error.h>
#include <oci-prep/store.h>

/* What a pin record (bundles/<id>.json) is worth as a GC root.  */
enum ocip_gc_pin_state
{
  OCIP_GC_PIN_LIVE,      /* the bundle exists and its state names this pin */
  OCIP_GC_PIN_PENDING,   /* no state yet, or one marked unfinished: being created (seen without the store lock) */
  OCIP_GC_PIN_NO_BUNDLE, /* the bundle directory no longer exists */
  OCIP_GC_PIN_NO_STATE,  /* no state, or one marked unfinished, under the store lock: its creation was interrupted */
  OCIP_GC_PIN_REPLACED,  /* the bundle's state names another pin (replaced) or is unreadable */
  OCIP_GC_PIN_DAMAGED,   /* the pin record itself cannot be read */
  /* A hook rootfs whose container is gone: the engine's bundle directory no longer
     exists, or its config.json names another rootfs, or the rootfs itself was removed
     (see docs/hooks.md for what is not detected).  */
  OCIP_GC_PIN_CONTAINER_GONE,
};

struct ocip_gc_pin
{
  char *id;          /* bundles/<id>.json */
  char *bundle;      /* the bundle directory, absolute (NULL when damaged) */
  char *image;       /* the image it was made from (may be NULL) */
  char *rootfs_path; /* absolute (may be NULL) */
  char *engine_bundle; /* a hook rootfs: the engine's bundle directory, else NULL */
  char **layers;     /* the diffIDs it pins, bottom first, NULL-terminated (NULL when damaged) */
  enum ocip_gc_pin_state state;
  bool mounted;  /* its rootfs is still a mount point */
  bool protects; /* its layers are kept: live, pending, or a rootfs still mounted */
};

/* A human-readable reason for STATE ("the bundle no longer exists"...), static.  */
const char *ocip_gc_pin_state_text (enum ocip_gc_pin_state state);

struct ocip_gc_layer
{
  struct ocip_digest diff_id;
  char *name;         /* the directory under layers/ */
  uint64_t disk_size; /* st_blocks * 512 over diff/, each inode counted once */
  int64_t last_used;  /* seconds since the epoch: mtime of meta.json (else of the directory) */
  int64_t created;    /* from meta.json; -1 when unknown, as the next three */
  int64_t size;       /* uncompressed tar bytes */
  int64_t compressed_size;
  int64_t entries;
  char *compressed_digest; /* from meta.json, or NULL, as the next two */
  char *media_type;
  char *content_digest;
  int64_t content_format; /* of content_digest: 1 when meta.json names none */
  char **chain_ids; /* the one recorded at extraction, then those of the pins' stacks */
  char **images;    /* images of the pins that hold it */
  char **bundles;   /* the bundles that hold it */
  size_t n_pins;    /* pins that protect it */
};

struct ocip_gc_inventory
{
  struct ocip_gc_layer *layers; /* least recently used first */
  size_t n_layers;
  struct ocip_gc_pin *pins; /* sorted by id */
  size_t n_pins;
  uint64_t total_size;  /* disk size of all layers */
  uint64_t pinned_size; /* of the layers some pin protects */
  size_t n_pinned;
};

/* What STORE holds: its layers (with their disk usage) and pins.  Read-only, and never
   waiting for the store lock: when a bundle is being made (the lock is busy), a pin
   whose bundle has no state yet counts as pending; a layer removed meanwhile by gc is
   left out.  Entries that are not layers are not
   listed (store fsck reports them).  *RET is owned by the caller.  */
int ocip_gc_inventory (struct ocip_store *store, struct ocip_gc_inventory **ret, ocip_error_t *err);
void ocip_gc_inventory_free (struct ocip_gc_inventory *inv);

struct ocip_gc_options
{
  bool have_max_size;
  uint64_t max_size; /* remove least recently used unpinned layers until the layers fit */
  bool have_older_than;
  int64_t older_than; /* remove unpinned layers not used for this many seconds */
  bool dry_run;       /* decide, report, remove nothing */
};

struct ocip_gc_report
{
  struct ocip_gc_inventory *inventory; /* the store before */
  size_t *removed;                     /* indexes into inventory->layers: removed (or would be) */
  size_t n_removed;
  size_t *busy;                        /* chosen, but locked by a load or bundle: kept */
  size_t n_busy;
  uint64_t freed;                      /* disk size of the removed layers */
  uint64_t remaining;                  /* disk size of the layers left */
  size_t n_links;                      /* dangling short links removed (or that would be) */
  size_t n_hooks;                      /* hook rootfs whose container is gone: released (or would be) */
  size_t n_tmp;                        /* leftovers of dead processes removed from tmp/ (gc's store open too)
                                          and half-written pin records of bundles/ */
};

/* Remove unpinned layers of STORE, least recently used first: all of them when OPTS sets
   no limit, else those unused for OPTS->older_than seconds and, further, as many as it
   takes for the layers to fit in OPTS->max_size.  A layer is never removed while a pin
   protects it (see struct ocip_gc_pin: a pin of a bundle that is gone does not, unless
   its rootfs is still mounted), nor while a load or bundle holds its lock (it is
   skipped: busy).  The store-wide lock is held exclusive throughout, so no bundle is
   between finding its layers and pinning them.  Removal is crash-safe
   (ocip_store_remove_layer).  Dangling short links l/<id> go too, tmp/ leftovers of dead
   processes, and pin records a killed writer left half-written.  A hook rootfs whose
   container is gone (OCIP_GC_PIN_CONTAINER_GONE) is released first: its rootfs detached,
   its state directory under STORE/hooks/ removed, its pin dropped.  Other pin records
   are never deleted (store fsck --repair does).  A damaged pin record stops gc (EUCLEAN): it could
   be protecting anything.  *RET is owned by the caller.  */
int ocip_gc_run (struct ocip_store *store, const struct ocip_gc_options *opts, struct ocip_gc_report **ret,
                 ocip_error_t *err);
void ocip_gc_report_free (struct ocip_gc_report *report);

struct ocip_gc_fsck_options
{
  bool repair; /* fix what can be fixed */
  bool deep;   /* recompute each layer's content digest (ocip_treehash) and compare */
};

struct ocip_gc_problem
{
  char *object; /* "layer 'sha256:…'", "layers/NAME", "short link 'l/…'", "pin 'ID'", ... */
  char *what;   /* the problem */
  char *repair; /* what --repair did, or why it did not (NULL without --repair) */
  bool repaired;
};

struct ocip_gc_fsck_report
{
  struct ocip_gc_problem *problems;
  size_t n_problems;
  size_t n_unrepaired;
  size_t n_layers, n_links, n_pins; /* entries checked */
  size_t n_verified;                /* --deep: layers whose content matched */
  size_t n_unverified;              /* --deep: layers without a recorded content digest (older oci-prep) */
};

/* Check STORE, under its lock held exclusive: every layer directory is a valid name
   with a diff/ directory and a meta.json that parses and names the same diffID (with
   OPTS->deep: and whose "contentDigest" matches the tree now); every short link points
   at a layer; every pin record reads and its bundle is live; every live pin's layers
   are present; nothing else sits in layers/, l/ or bundles/.  With OPTS->repair: broken
   or foreign layer entries are removed (crash-safe, unless a protecting pin or a lock
   holder still uses them), dangling or foreign links and stale, damaged or leftover
   pin records dropped; a stale pin whose bundle's creation was interrupted (or whose
   bundle is gone) with its rootfs still mounted, and no live pin for that rootfs, has
   the rootfs detached (MNT_DETACH) first; a hook rootfs whose container is gone is
   released as store gc does.  A live pin's missing layer cannot be
   repaired.  Returns 0 even when problems are found: they are in *RET (owned by the
   caller).  */
int ocip_gc_fsck (struct ocip_store *store, const struct ocip_gc_fsck_options *opts, struct ocip_gc_fsck_report **ret,
                  ocip_error_t *err);
void ocip_gc_fsck_report_free (struct ocip_gc_fsck_report *report);

#endif
