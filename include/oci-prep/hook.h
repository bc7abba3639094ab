/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runtime hook modes: an oci-hooks(5) precreate filter and a poststop cleanup. */
#ifndef OCIP_HOOK_H
#define OCIP_HOOK_H

#include <stddef.h>

#include <oci-prep/context.h>
#include <oci-prep/error.h>

/* The annotation that asks for an image: its value is an IMAGE string.  */
#define OCIP_HOOK_ANNOTATION "io.oci-prep.image"

/* precreate: CONFIG (LEN bytes) is the runtime config an engine proposes for the bundle
   BUNDLE (the hook's working directory).  Without the annotation OCIP_HOOK_ANNOTATION,
   *RET is a copy of CONFIG, byte for byte.  With it, the image's overlay rootfs is
   mounted at root.path (relative to BUNDLE) as ocip_bundle_prepare_rootfs() does, and
   *RET is the config with, from the image: process.args when empty, process.env
   variables the config lacks, process.cwd when empty or "/", process.user when absent
   or root without groups, and the image's annotations the config lacks (never a
   label that a runtime acts on: those keys are in *RET_DROPPED, optional, owned by the
   caller, NULL-terminated and empty when none; see ocip_spec_build()).  The image is
   planned and loaded with CTX; upper, work and state are kept in CTX's store under
   hooks/<hash of the rootfs path>, since engines run hooks from any directory.  A
   root.path that exists is mounted over (engines put files there first).  *RET
   (*RET_LEN bytes) is owned by the caller.  On failure nothing stays mounted and *ERR
   says why (invalid JSON, unknown image, mount failure...).  */
int ocip_hook_precreate (struct ocip_context *ctx, const char *config, size_t len, const char *bundle, char **ret,
                         size_t *ret_len, char ***ret_dropped, ocip_error_t *err);

/* poststop: STATE (LEN bytes) is the runtime-spec container state; what precreate
   prepared for the rootfs of its "bundle" (found through BUNDLE/config.json) is
   unmounted and released (CTX names the store precreate used).  Success with nothing
   done for a bundle oci-prep never touched, or already released.  */
int ocip_hook_poststop (struct ocip_context *ctx, const char *state, size_t len, ocip_error_t *err);

#endif
