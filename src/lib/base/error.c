/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The error object: creation, context wrapping, release. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/error.h>

int
ocip_error_set (ocip_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  struct ocip_error *e;

  if (errnum <= 0)
    errnum = EIO;

  e = xmalloc (sizeof *e);
  e->status = errnum;
  va_start (ap, fmt);
  if (vasprintf (&e->msg, fmt, ap) < 0)
    abort ();
  va_end (ap);

  /* An error already pending would be lost: keep the first, it is the cause.  */
  if (*err != NULL)
    {
      free (e->msg);
      free (e);
      return -(*err)->status;
    }
  *err = e;
  return -errnum;
}

int
ocip_error_wrap (ocip_error_t *err, const char *fmt, ...)
{
  va_list ap;
  cleanup_free char *ctx = NULL;
  char *msg;

  if (*err == NULL)
    abort ();
  va_start (ap, fmt);
  if (vasprintf (&ctx, fmt, ap) < 0)
    abort ();
  va_end (ap);
  msg = xasprintf ("%s: %s", ctx, (*err)->msg);
  free ((*err)->msg);
  (*err)->msg = msg;
  return -(*err)->status;
}

void
ocip_error_release (ocip_error_t *err)
{
  if (*err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}
