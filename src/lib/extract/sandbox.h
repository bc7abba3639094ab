/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The confinement extraction runs in: no_new_privs, few capabilities, a seccomp filter. */
#ifndef OCIP_SANDBOX_H
#define OCIP_SANDBOX_H

#include <oci-prep/error.h>

/* Confine this process for parsing and writing untrusted layers, irreversibly:
   no_new_privs; the capability bounding, effective and permitted sets reduced to what
   extraction uses (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, MKNOD, SETFCAP, and SYS_ADMIN
   for trusted.* xattrs such as overlayfs' opaque marker); the seccomp filter of
   ocip_seccomp_sandbox().  Call it in a child process before any thread starts.  */
int ocip_sandbox_enter (ocip_error_t *err);

#endif
