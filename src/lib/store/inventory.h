/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the store holds, for gc and fsck: pins and their bundles, layers and their usage, short links. */
#ifndef OCIP_STORE_INVENTORY_H
#define OCIP_STORE_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include <oci-prep/error.h>
#include <oci-prep/gc.h>
#include <oci-prep/store.h>

/* The names in the directory NAME under DIRFD, sorted, "." and ".." left out (a new
   NULL-terminated vector).  A missing directory is empty.  */
int ocip_inventory_list_dir (int dirfd, const char *name, char ***ret, size_t *ret_n, ocip_error_t *err);

/* Detach (MNT_DETACH) the mount at PATH (absolute, trusted: a recorded rootfs); not a
   mount point is success.  */
int ocip_inventory_detach (const char *path, ocip_error_t *err);

/* Read the pin ID (its record, ocip_records_pin_read) into PIN (id set by the caller);
   ENOENT when it was removed meanwhile.  */
int ocip_inventory_read_pin (struct ocip_store *store, struct ocip_gc_pin *pin, ocip_error_t *err);
/* Set PIN's state, mounted and protects from its bundle (see struct ocip_gc_pin).
   EXCLUSIVE: the caller holds the store lock exclusive.  */
void ocip_inventory_check_pin (struct ocip_gc_pin *pin, bool exclusive);
void ocip_inventory_pin_clear (struct ocip_gc_pin *pin);

/* Release the hook rootfs of PIN (OCIP_GC_PIN_CONTAINER_GONE): detach its rootfs if
   mounted, remove its state directory (only one under this store's hooks/: EXDEV
   otherwise) and its pin.  The caller holds the store lock exclusive.  */
int ocip_inventory_release_hook (struct ocip_store *store, const struct ocip_gc_pin *pin, ocip_error_t *err);

/* Fill L (name and diff_id set) from its layer record; EBADMSG when the record names
   another diffID, the record reader's errors otherwise.  */
int ocip_inventory_read_layer (struct ocip_store *store, struct ocip_gc_layer *l, ocip_error_t *err);
void ocip_inventory_layer_clear (struct ocip_gc_layer *l);

/* Read the pins and layers of STORE.  EXCLUSIVE: the caller holds the store lock
   exclusive; else it is tried, without waiting, just for telling the pins apart.  */
int ocip_inventory_scan (struct ocip_store *store, bool exclusive, struct ocip_gc_inventory **ret,
                         ocip_error_t *err);

enum ocip_inventory_link
{
  OCIP_INVENTORY_LINK_OK,
  OCIP_INVENTORY_LINK_GONE,     /* removed meanwhile */
  OCIP_INVENTORY_LINK_DANGLING, /* its layer is not in the store */
  OCIP_INVENTORY_LINK_FOREIGN,  /* not something ocip_store_short_link makes */
};

/* What l/NAME (LINKS_FD is l/) is; *WHY (static) says what is wrong with it.  */
enum ocip_inventory_link ocip_inventory_classify_link (int links_fd, const char *name, const char **why);

#endif
