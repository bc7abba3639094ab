/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The error object: creation, context wrapping, release. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/error.h>

/* The cause is named once, at the end of the message: a system error's strerror is
   part of it, a class oci-prep chose (EINVAL for "ref 'v2' not found ...") is not,
   since its strerror would repeat or contradict what the message already says.  */
static int
set_error (ocip_error_t *err, int errnum, bool system, const char *fmt, va_list ap)
{
  struct ocip_error *e;
  char *text;

  if (errnum <= 0)
    errnum = EIO;
  /* An error already pending would be lost: keep the first, it is the cause.  */
  if (*err != NULL)
    return -(*err)->status;

  if (vasprintf (&text, fmt, ap) < 0)
    abort ();
  e = xmalloc (sizeof *e);
  e->status = errnum;
  if (system)
    {
      e->msg = xasprintf ("%s: %s", text, strerror (errnum));
      free (text);
    }
  else
    e->msg = text;
  *err = e;
  return -errnum;
}

int
ocip_error_set (ocip_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = set_error (err, errnum, true, fmt, ap);
  va_end (ap);
  return r;
}

int
ocip_error_fail (ocip_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = set_error (err, errnum, false, fmt, ap);
  va_end (ap);
  return r;
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
