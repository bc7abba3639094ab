/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process capabilities for config.json: the default set, --cap-add and --cap-drop. */
#ifndef OCIP_CAPS_H
#define OCIP_CAPS_H

#include <stdbool.h>

#include <oci-prep/error.h>

/* The default set (podman's), as "CAP_X" names, sorted, NULL-terminated.  */
extern const char *const ocip_caps_default[];

/* Canonical form of the capability NAME: "NAME", "CAP_NAME" in any case give "CAP_NAME";
   "all" in any case gives "ALL".  The name must be one libcap knows (cap_from_name());
   numbers are refused.  *RET is a new string owned by the caller.  EINVAL naming NAME
   when it is unknown or malformed.  */
int ocip_caps_normalize (const char *name, char **ret, ocip_error_t *err);

/* The capability set: the default set, then ADD, then DROP (both NULL-terminated, may be
   NULL), with podman's rules: "ALL" in DROP leaves exactly ADD; "ALL" in ADD starts from
   every capability both libcap and the running kernel know; a capability both added and
   dropped (or "ALL" in both) is EINVAL.  *RET is a new sorted NULL-terminated vector of
   "CAP_X" names, owned by the caller (ocip_strv_free()).  */
int ocip_caps_compute (char *const *add, char *const *drop, char ***ret, ocip_error_t *err);

/* Whether this process has the capability NAME (any spelling ocip_caps_normalize()
   accepts) in its effective set; false for an unknown name.  */
bool ocip_caps_process_has (const char *name);

/* Keep only the capabilities KEEP (names as cap_from_name(3) takes them, NULL-terminated)
   in this process: dropped from the bounding set, the ambient set cleared, effective
   and permitted reduced to KEEP (those not held to begin with stay unheld).  Without
   CAP_SETPCAP (a user who is not root) the bounding set is left as it is, never an
   error: set no_new_privs first, so that exec cannot use it.  For the extraction
   sandbox.  Errors: EINVAL for an unknown name, else the failing call's.  */
int ocip_caps_limit (const char *const *keep, ocip_error_t *err);

#endif
