/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scope-bound cleanup attributes, ownership hand-over helpers and aborting allocators. */
#ifndef OCIP_CLEANUP_H
#define OCIP_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
ocip_freep (void *p)
{
  free (*(void **) p);
}

static inline void
ocip_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
  *fd = -1;
}

static inline void
ocip_closedirp (DIR **d)
{
  if (*d)
    {
      int saved = errno;
      closedir (*d);
      errno = saved;
    }
}

static inline void
ocip_fclosep (FILE **f)
{
  if (*f)
    {
      int saved = errno;
      fclose (*f);
      errno = saved;
    }
}

/* Free a NULL-terminated array of strings and the array itself.  */
static inline void
ocip_strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free (*p);
  free (v);
}

static inline void
ocip_strv_freep (char ***v)
{
  ocip_strv_free (*v);
}

#define cleanup_free __attribute__ ((cleanup (ocip_freep)))
#define cleanup_close __attribute__ ((cleanup (ocip_closep)))
#define cleanup_dir __attribute__ ((cleanup (ocip_closedirp)))
#define cleanup_file __attribute__ ((cleanup (ocip_fclosep)))
#define cleanup_strv __attribute__ ((cleanup (ocip_strv_freep)))

/* Take the value out of *P and leave NULL behind: the caller now owns it.  */
#define steal_pointer(pp)                                                                                              \
  ({                                                                                                                   \
    __typeof__ (*(pp)) _stolen = *(pp);                                                                                \
    *(pp) = NULL;                                                                                                      \
    _stolen;                                                                                                           \
  })

static inline int
steal_fd (int *fd)
{
  int ret = *fd;
  *fd = -1;
  return ret;
}

/* Out of memory is fatal for a one-shot tool: these never return NULL.  */
void *xmalloc (size_t size);
void *xzalloc (size_t size);
void *xcalloc (size_t n, size_t size);
void *xrealloc (void *p, size_t size);
void *xreallocarray (void *p, size_t n, size_t size);
/* P with room for at least N elements of SIZE bytes; *CAPACITY (0 for a NULL P) is how
   many it has, and grows geometrically, so that appending one element at a time costs
   amortised O(1): growing by one each time is quadratic wherever realloc copies (every
   sanitizer, musl, a fragmented heap).  */
void *xgrowarray (void *p, size_t *capacity, size_t n, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
