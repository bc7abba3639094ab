/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store handle's insides, for the store module's own files (store/) only. */
#ifndef OCIP_STORE_PRIVATE_H
#define OCIP_STORE_PRIVATE_H

#include <stddef.h>

#include "rootfs/ovlformat.h"

struct ocip_store
{
  int dirfd;    /* the store directory */
  int layers_fd;
  int locks_fd;
  int tmp_fd;
  int bundles_fd;
  int lock_fd;  /* the store-wide lock while this handle holds it, else -1 */
  size_t n_cleaned; /* work areas of dead processes ocip_store_open removed */
  char *path;   /* for messages */
  enum ocip_ovlformat_xattrs xattrs; /* what its layers use (OCIP_RECORDS_XATTRS_FILE) */
};

#endif
