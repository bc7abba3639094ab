/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Garbage collection: remove unpinned layers, least recently used first, and what dead processes left. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/gc.h>
#include "store/inventory.h"
#include "store/records.h"
#include "store/store_internal.h"
#include "store/store_private.h"

/* Remove the dangling links of l/ (count them only, with DRY_RUN).  */
static int
prune_links (struct ocip_store *store, bool dry_run, size_t *ret_n, ocip_error_t *err)
{
  cleanup_strv char **names = NULL;
  cleanup_close int links_fd = -1;
  const char *why;
  size_t n, i;
  int r;

  *ret_n = 0;
  if ((r = ocip_inventory_list_dir (store->dirfd, "l", &names, &n, err)) < 0)
    return ocip_error_wrap (err, "store '%s'", store->path);
  if (n == 0)
    return 0;
  links_fd = openat (store->dirfd, "l", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (links_fd < 0)
    return ocip_error_set (err, errno, "store '%s': open 'l'", store->path);
  for (i = 0; i < n; i++)
    {
      if (ocip_inventory_classify_link (links_fd, names[i], &why) != OCIP_INVENTORY_LINK_DANGLING)
        continue;
      if (! dry_run && unlinkat (links_fd, names[i], 0) < 0 && errno != ENOENT)
        return ocip_error_set (err, errno, "store '%s': remove 'l/%s'", store->path, names[i]);
      (*ret_n)++;
    }
  return 0;
}

/* ---- gc ---- */

/* Release the hook rootfs of INV whose container is gone (count them only, with
   DRY_RUN): an engine that failed after precreate never calls poststop, and its
   mount would pin the layers forever.  */
static int
release_gone_hooks (struct ocip_store *store, const struct ocip_gc_inventory *inv, bool dry_run, size_t *ret_n,
                    ocip_error_t *err)
{
  size_t i;
  int r;

  *ret_n = 0;
  for (i = 0; i < inv->n_pins; i++)
    {
      if (inv->pins[i].state != OCIP_GC_PIN_CONTAINER_GONE)
        continue;
      if (! dry_run && (r = ocip_inventory_release_hook (store, &inv->pins[i], err)) < 0)
        return ocip_error_wrap (err, "release the hook rootfs '%s'", inv->pins[i].rootfs_path);
      (*ret_n)++;
    }
  return 0;
}

int
ocip_gc_run (struct ocip_store *store, const struct ocip_gc_options *opts, struct ocip_gc_report **ret,
             ocip_error_t *err)
{
  struct ocip_gc_report *report = xzalloc (sizeof *report);
  bool everything = ! opts->have_max_size && ! opts->have_older_than;
  struct ocip_gc_inventory *inv;
  int64_t now = time (NULL);
  uint64_t total;
  size_t i;
  int r;

  if ((r = ocip_store_lock_exclusive (store, true, err)) < 0)
    goto fail;
  if (! opts->dry_run && (r = ocip_store_clean_tmp (store, &report->n_tmp, err)) < 0)
    goto fail;
  report->n_tmp += store->n_cleaned;
  /* No pin is being written under the exclusive lock: a half-written one is a dead
     writer's.  */
  if (! opts->dry_run)
    {
      size_t n_pins = 0;
      if ((r = ocip_records_pin_clean (store, &n_pins, err)) < 0)
        goto fail;
      report->n_tmp += n_pins;
    }
  if ((r = ocip_inventory_scan (store, true, &report->inventory, err)) < 0
      || (r = release_gone_hooks (store, report->inventory, opts->dry_run, &report->n_hooks, err)) < 0)
    goto fail;
  if (report->n_hooks > 0 && ! opts->dry_run)
    {
      /* Their pins are gone: what they held is unpinned now.  */
      ocip_gc_inventory_free (report->inventory);
      report->inventory = NULL;
      if ((r = ocip_inventory_scan (store, true, &report->inventory, err)) < 0)
        goto fail;
    }
  inv = report->inventory;
  for (i = 0; i < inv->n_pins; i++)
    if (inv->pins[i].state == OCIP_GC_PIN_DAMAGED)
      {
        r = ocip_error_fail (err, EUCLEAN,
                            "store '%s': pin '%s' cannot be read, so nothing is known to be unused: run 'oci-prep "
                            "store fsck --repair'",
                            store->path, inv->pins[i].id);
        goto fail;
      }

  report->removed = xcalloc (inv->n_layers + 1, sizeof *report->removed);
  report->busy = xcalloc (inv->n_layers + 1, sizeof *report->busy);
  total = inv->total_size;
  for (i = 0; i < inv->n_layers; i++)
    {
      struct ocip_gc_layer *l = &inv->layers[i];
      bool old = opts->have_older_than && now - l->last_used >= opts->older_than;
      bool over = opts->have_max_size && total > opts->max_size;
      cleanup_close int lock = -1;

      if (l->n_pins > 0 || ! (everything || old || over))
        continue;
      /* A load or bundle holding the layer's lock is extracting or using it.  */
      lock = ocip_store_lock_layer (store, &l->diff_id, false, err);
      if (lock < 0)
        {
          if ((*err)->status != EWOULDBLOCK)
            {
              r = -(*err)->status;
              goto fail;
            }
          ocip_error_release (err);
          report->busy[report->n_busy++] = i;
          continue;
        }
      if (! opts->dry_run && (r = ocip_store_remove_layer (store, &l->diff_id, err)) < 0)
        goto fail;
      report->removed[report->n_removed++] = i;
      report->freed += l->disk_size;
      total -= l->disk_size;
    }
  report->remaining = total;
  if ((r = prune_links (store, opts->dry_run, &report->n_links, err)) < 0)
    goto fail;
  ocip_store_unlock (store);
  *ret = report;
  return 0;

fail:
  ocip_store_unlock (store);
  ocip_gc_report_free (report);
  return r;
}

void
ocip_gc_report_free (struct ocip_gc_report *report)
{
  if (report == NULL)
    return;
  ocip_gc_inventory_free (report->inventory);
  free (report->removed);
  free (report->busy);
  free (report);
}
