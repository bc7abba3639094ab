/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Arrays of strings: the one comparator, sorting, lookup in a sorted array. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include "base/strv.h"

int
ocip_strv_compare (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

void
ocip_strv_sort (char **v, size_t n)
{
  if (n > 0)
    qsort (v, n, sizeof *v, ocip_strv_compare);
}

bool
ocip_strv_sorted_has (char *const *v, size_t n, const char *s)
{
  return n > 0 && bsearch (&s, v, n, sizeof *v, ocip_strv_compare) != NULL;
}

char **
ocip_strv_dup (char *const *v)
{
  size_t n = 0, i;
  char **copy;

  if (v == NULL)
    return NULL;
  while (v[n])
    n++;
  copy = xcalloc (n + 1, sizeof *copy);
  for (i = 0; i < n; i++)
    copy[i] = xstrdup (v[i]);
  return copy;
}

char **
ocip_strv_concat (char *const *a, char *const *b)
{
  size_t na = 0, nb = 0, i;
  char **out;

  while (a && a[na])
    na++;
  while (b && b[nb])
    nb++;
  out = xcalloc (na + nb + 1, sizeof *out);
  for (i = 0; i < na; i++)
    out[i] = xstrdup (a[i]);
  for (i = 0; i < nb; i++)
    out[na + i] = xstrdup (b[i]);
  return out;
}
