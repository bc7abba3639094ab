/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Allocators that abort on exhaustion: oci-prep is a one-shot tool. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>

static void *
check (void *p)
{
  if (p == NULL)
    abort ();
  return p;
}

void *
xmalloc (size_t size)
{
  return check (malloc (size ? size : 1));
}

void *
xzalloc (size_t size)
{
  return check (calloc (1, size ? size : 1));
}

void *
xcalloc (size_t n, size_t size)
{
  return check (calloc (n ? n : 1, size ? size : 1));
}

void *
xrealloc (void *p, size_t size)
{
  return check (realloc (p, size ? size : 1));
}

void *
xreallocarray (void *p, size_t n, size_t size)
{
  return check (reallocarray (p, n ? n : 1, size ? size : 1));
}

void *
xgrowarray (void *p, size_t *capacity, size_t n, size_t size)
{
  size_t want;

  if (n <= *capacity && p != NULL)
    return p;
  want = *capacity < 8 ? 8 : *capacity;
  while (want < n)
    {
      if (want > SIZE_MAX / 2)
        abort ();
      want *= 2;
    }
  p = xreallocarray (p, want, size);
  *capacity = want;
  return p;
}

char *
xstrdup (const char *s)
{
  return check (strdup (s));
}

char *
xstrndup (const char *s, size_t n)
{
  return check (strndup (s, n));
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return s;
}
