/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for strv: the shared comparator, sorting and lookup of string arrays. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/strv.h"

Test (strv, sort_orders_as_strcmp)
{
  char a[] = "b", b[] = "a/b", c[] = "a", d[] = "B";
  char *v[] = { a, b, c, d };
  size_t i;

  ocip_strv_sort (v, 4);
  for (i = 1; i < 4; i++)
    cr_assert_lt (strcmp (v[i - 1], v[i]), 0, "'%s' before '%s'", v[i - 1], v[i]);
  cr_assert_str_eq (v[0], "B");
  cr_assert_str_eq (v[3], "b");
}

Test (strv, empty_array_may_be_null)
{
  ocip_strv_sort (NULL, 0);
  cr_assert_not (ocip_strv_sorted_has (NULL, 0, "a"));
}

Test (strv, sorted_has_finds_only_members)
{
  char a[] = "etc", b[] = "etc/ssl", c[] = "usr";
  char *v[] = { c, a, b };

  ocip_strv_sort (v, 3);
  cr_assert (ocip_strv_sorted_has (v, 3, "etc"));
  cr_assert (ocip_strv_sorted_has (v, 3, "etc/ssl"));
  cr_assert (ocip_strv_sorted_has (v, 3, "usr"));
  cr_assert_not (ocip_strv_sorted_has (v, 3, "etc/"));
  cr_assert_not (ocip_strv_sorted_has (v, 3, "us"));
  cr_assert_not (ocip_strv_sorted_has (v, 3, ""));
}

Test (strv, compare_is_a_qsort_comparator_of_pointers)
{
  const char *x = "a", *y = "b";

  cr_assert_lt (ocip_strv_compare (&x, &y), 0);
  cr_assert_gt (ocip_strv_compare (&y, &x), 0);
  cr_assert_eq (ocip_strv_compare (&x, &x), 0);
}
