/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The error object every fallible library call fills: an errno class plus a message chain. */
#ifndef OCIP_ERROR_H
#define OCIP_ERROR_H

#include <stdarg.h>

struct ocip_error
{
  int status; /* positive errno class: EINVAL bad input, EBADMSG digest/size mismatch, ... */
  char *msg;  /* "outer context: inner context: cause", owned; complete: the cause is
                 named once, so a caller prints it as is, without strerror (status) */
};

typedef struct ocip_error *ocip_error_t;

/* A system error: ERRNUM (> 0) is an errno a call returned, and the message is what
   was being done.  Sets *ERR to a new error of class ERRNUM whose message is the
   formatted text followed by ": strerror (ERRNUM)", and returns -ERRNUM, so that
   "return ocip_error_set (err, errno, "open '%s'", name);" is one line.  If *ERR is
   already set, it is kept: the first error is the cause.  */
int ocip_error_set (ocip_error_t *err, int errnum, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

/* An error oci-prep decides: the message states the cause ("ref 'v2' not found in
   'img' (available: latest)") and ERRNUM (> 0) is only its class for callers (EINVAL
   bad input, EBADMSG mismatch, E2BIG over a limit...); no strerror is added.  Otherwise
   as ocip_error_set.  */
int ocip_error_fail (ocip_error_t *err, int errnum, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

/* Prefix the message of *ERR with context ("layer 'sha256:…': ...") and keep its class.
   Returns -status, so a caller can "return ocip_error_wrap (err, ...)".  */
int ocip_error_wrap (ocip_error_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Free *ERR (NULL is fine) and reset it to NULL.  */
void ocip_error_release (ocip_error_t *err);

#endif
