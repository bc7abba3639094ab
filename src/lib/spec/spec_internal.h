/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spec module's calls for the library's other stages (the hook): not exported. */
#ifndef OCIP_SPEC_INTERNAL_H
#define OCIP_SPEC_INTERNAL_H

#include <oci-prep/spec.h>

struct ocip_json_gen;

/* Write USER as ocip_spec_to_json() writes process.user, into the open generator GEN
   (base/json.h): for a caller merging the model into a document of its own.  */
void ocip_spec_gen_user (struct ocip_json_gen *gen, const struct ocip_spec_user *user);

#endif
