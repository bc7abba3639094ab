/* SPDX-License-Identifier: GPL-2.0-or-later */
/* liboci-prep's whole public interface: #include <oci-prep/oci-prep.h>, link with
   $(pkg-config --cflags --libs oci-prep).

   What it does, one call each (docs/library.md walks through them):
     resolve and inspect an image   ocip_plan_new (plan.h), ocip_layout_* (layout.h)
     verify a layout or an image    ocip_verify_layout (verify.h)
     load images into a store       ocip_load_images (load.h)
     create / remove a bundle       ocip_bundle_create, ocip_bundle_remove (bundle.h)
     generate a runtime config      ocip_spec_generate (spec.h)
     store maintenance              ocip_gc_inventory, ocip_gc_run, ocip_gc_fsck (gc.h)

   Conventions, for every function of these headers:
   - Errors: a fallible function takes "ocip_error_t *err" last (initialise it to
     NULL).  On failure it returns a negative errno (or NULL) and sets *ERR, which the
     caller reads (err->status, the positive errno class; err->msg, one line naming the
     object and the cause) and frees with ocip_error_release.  On success *ERR is not
     touched.  The library never prints, never exits and never changes the process's
     signal handling; running out of memory aborts.
   - Ownership: "*RET is owned by the caller" means the caller frees it with the
     matching ocip_*_free (NULL is accepted by every one of them); outputs are written
     only on success.  Strings given as input are copied when kept.
   - Symlinks: paths the caller gives (a layout, a store, a bundle directory) are
     followed as the caller wrote them; nothing read from an image or a layout ever is.
   - Threads: the library is thread-safe as long as one object (a context, a layout, a
     plan, a store handle) is used by one thread at a time; independent objects may be
     used from different threads at once.  Some calls start threads and (load) a child
     process of their own and wait for them before returning.
   - Privileges: loading layers and making overlay bundles need root, or a user
     namespace with CAP_SYS_ADMIN and CAP_MKNOD over the store and bundle directories.

   Only the functions declared in these headers are exported; their ABI changes only
   with the library's soname.  Structures that the headers define are part of it.  */
#ifndef OCIP_OCI_PREP_H
#define OCIP_OCI_PREP_H

#include <oci-prep/error.h>
#include <oci-prep/digest.h>
#include <oci-prep/image.h>
#include <oci-prep/context.h>
#include <oci-prep/layout.h>
#include <oci-prep/plan.h>
#include <oci-prep/verify.h>
#include <oci-prep/store.h>
#include <oci-prep/load.h>
#include <oci-prep/spec.h>
#include <oci-prep/bundle.h>
#include <oci-prep/gc.h>
#include <oci-prep/userns.h>

#endif
