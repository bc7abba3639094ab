/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Arrays of strings: the one comparator, sorting, lookup in a sorted array. */
#ifndef OCIP_STRV_H
#define OCIP_STRV_H

#include <stdbool.h>
#include <stddef.h>

/* qsort/bsearch comparator of two elements of a char * array (strcmp order).  */
int ocip_strv_compare (const void *a, const void *b);

/* Sort the N strings of V in place (V may be NULL when N is 0: qsort's base is declared
   nonnull even for no elements).  */
void ocip_strv_sort (char **v, size_t n);

/* Whether S is one of the N strings of V, sorted by ocip_strv_sort (V may be NULL when
   N is 0).  */
bool ocip_strv_sorted_has (char *const *v, size_t n, const char *s);

/* A deep copy of the NULL-terminated V, owned by the caller (ocip_strv_free); NULL for
   NULL.  */
char **ocip_strv_dup (char *const *v);

/* A new NULL-terminated vector of copies of A's strings then B's (either may be
   NULL), owned by the caller (ocip_strv_free).  */
char **ocip_strv_concat (char *const *a, char *const *b);

#endif
