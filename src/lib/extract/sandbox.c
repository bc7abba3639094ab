/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Entering the extraction sandbox. */
#include "config.h"

#include <errno.h>
#include <sys/prctl.h>

#include "spec/caps.h"
#include "extract/sandbox.h"
#include "spec/seccomp.h"

int
ocip_sandbox_enter (ocip_error_t *err)
{
  static const char *const keep[] = {
    "cap_chown", "cap_dac_override", "cap_fowner", "cap_fsetid", "cap_mknod", "cap_setfcap", "cap_sys_admin", NULL,
  };
  int r;

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return ocip_error_set (err, errno, "sandbox: set no_new_privs");
  if ((r = ocip_caps_limit (keep, err)) < 0 || (r = ocip_seccomp_sandbox (err)) < 0)
    return ocip_error_wrap (err, "sandbox");
  return 0;
}
