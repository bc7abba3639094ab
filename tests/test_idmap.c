/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for ID-mapped bundles: the mapping model (parsing, validation, subordinate ranges, allocation, userns fd). */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>
#include "base/idmap.h"
#include "fixture.h"
#include "testutil.h"

/* ---- the mapping model ---- */

static int
parse (const char *text, struct ocip_idmap_range *range)
{
  ocip_error_t err = NULL;
  int r = ocip_idmap_range_parse (text, range, &err);

  if (r < 0)
    {
      cr_assert_eq (r, -EINVAL, "%s: %d", text, r);
      cr_assert_not_null (strstr (err->msg, text), "message names the text: %s", err->msg);
      ocip_error_release (&err);
    }
  return r;
}

Test (idmap, parse_reads_container_host_size)
{
  struct ocip_idmap_range r;

  cr_assert_eq (parse ("0:100000:65536", &r), 0);
  cr_assert_eq (r.container, 0);
  cr_assert_eq (r.host, 100000);
  cr_assert_eq (r.size, 65536);
  cr_assert_eq (parse ("0:0:4294967295", &r), 0, "the whole ID space but (u32) -1");
}

Test (idmap, parse_refuses_malformed_text)
{
  static const char *const bad[] = { "", "0", "0:1", "0:1:", ":1:1", "0:1:1:", "0:1:1x", "a:1:1", "-1:1:1",
                                     "0: 1:1", "0:1:+1", "0:1:4294967296", "99999999999:1:1", NULL };
  struct ocip_idmap_range r;
  size_t i;

  for (i = 0; bad[i]; i++)
    cr_assert_eq (parse (bad[i], &r), -EINVAL, "'%s' was accepted", bad[i]);
}

Test (idmap, parse_refuses_size_zero)
{
  struct ocip_idmap_range r;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_idmap_range_parse ("0:1000:0", &r, &err), -EINVAL);
  cr_assert_not_null (strstr (err->msg, "size is 0"), "%s", err->msg);
  ocip_error_release (&err);
}

Test (idmap, parse_refuses_ranges_that_overflow)
{
  struct ocip_idmap_range r;

  cr_assert_eq (parse ("4294967295:0:1", &r), -EINVAL, "(u32) -1 is no ID");
  cr_assert_eq (parse ("4294967290:0:6", &r), -EINVAL, "container side wraps");
  cr_assert_eq (parse ("0:4294967290:6", &r), -EINVAL, "host side wraps");
  cr_assert_eq (parse ("4294967290:0:5", &r), 0, "ends at 4294967294");
}

static int
add (struct ocip_idmap_list *l, uint32_t c, uint32_t h, uint32_t s, const char *needle)
{
  struct ocip_idmap_range range = { c, h, s };
  ocip_error_t err = NULL;
  int r = ocip_idmap_list_add (l, &range, &err);

  if (r < 0)
    {
      if (needle)
        cr_assert_not_null (strstr (err->msg, needle), "'%s' not in '%s'", needle, err->msg);
      ocip_error_release (&err);
    }
  return r;
}

Test (idmap, overlap_in_the_container_is_refused)
{
  struct ocip_idmap_list l = { 0 };

  cr_assert_eq (add (&l, 0, 100000, 1000, NULL), 0);
  cr_assert_eq (add (&l, 999, 300000, 10, "in the container"), -EINVAL);
  cr_assert_eq (add (&l, 1000, 300000, 10, NULL), 0, "adjacent is fine");
  cr_assert_eq (l.n, 2);
  free (l.v);
}

Test (idmap, overlap_on_the_host_is_refused)
{
  struct ocip_idmap_list l = { 0 };

  cr_assert_eq (add (&l, 0, 100000, 1000, NULL), 0);
  cr_assert_eq (add (&l, 5000, 100999, 1, "on the host"), -EINVAL);
  cr_assert_eq (add (&l, 5000, 99000, 1001, "on the host"), -EINVAL, "covering the start");
  cr_assert_eq (add (&l, 5000, 101000, 1, NULL), 0);
  cr_assert_eq (l.n, 2, "a refused range is not added");
  free (l.v);
}

Test (idmap, more_ranges_than_the_kernel_takes_are_refused)
{
  struct ocip_idmap_list l = { 0 };
  uint32_t i;

  for (i = 0; i < OCIP_LIMIT_IDMAP_RANGES; i++)
    cr_assert_eq (add (&l, i, 100000 + i, 1, NULL), 0);
  cr_assert_eq (add (&l, i, 100000 + i, 1, "340"), -E2BIG);
  cr_assert_eq (l.n, OCIP_LIMIT_IDMAP_RANGES);
  free (l.v);
}

Test (idmap, gidmap_defaults_to_uidmap)
{
  char *uid[] = { (char *) "0:100000:1000", (char *) "1000:200000:1", NULL };
  char *gid[] = { (char *) "0:300000:10", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;
  uint32_t h;

  cr_assert_eq (ocip_idmap_from_strings (uid, NULL, &m, &err), 0);
  cr_assert_eq (m.uid.n, 2);
  cr_assert_eq (m.gid.n, 2);
  cr_assert (ocip_idmap_to_host (&m.gid, 1000, &h));
  cr_assert_eq (h, 200000);
  cr_assert_not (ocip_idmap_to_host (&m.gid, 1001, &h));
  cr_assert (ocip_idmap_to_container (&m.uid, 100999, &h));
  cr_assert_eq (h, 999);
  ocip_idmap_clear (&m);

  cr_assert_eq (ocip_idmap_from_strings (uid, gid, &m, &err), 0);
  cr_assert_eq (m.gid.n, 1);
  cr_assert (ocip_idmap_to_host (&m.gid, 5, &h));
  cr_assert_eq (h, 300005);
  cr_assert_not (ocip_idmap_to_host (&m.gid, 10, &h));
  ocip_idmap_clear (&m);
  cr_assert (ocip_idmap_is_empty (&m));
}

Test (idmap, from_strings_names_the_bad_option)
{
  char *uid[] = { (char *) "0:100000:1000", NULL };
  char *gid[] = { (char *) "0:100000:0", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_idmap_from_strings (uid, gid, &m, &err), -EINVAL);
  cr_assert_not_null (strstr (err->msg, "--gidmap"), "%s", err->msg);
  cr_assert (ocip_idmap_is_empty (&m));
  ocip_error_release (&err);
  cr_assert_eq (ocip_idmap_from_strings (NULL, gid, &m, &err), -EINVAL, "--gidmap alone");
  ocip_error_release (&err);
}

/* ---- subordinate IDs and allocation ---- */

Test (idmap, subid_ranges_of_one_user)
{
  cleanup_free char *tmp = fx_mkdtemp ();
  cleanup_free char *file = tu_fmt ("%s/subuid", tmp);
  static const char text[] = "alice:100000:65536\n"
                             "containers:200000:1000\n"
                             "containers:bad\n"
                             "containers:300000:5000\n"
                             "containers:200500:10\n"; /* overlaps the first: ignored */
  struct ocip_idmap_list l = { 0 };
  ocip_error_t err = NULL;

  fx_write_file (file, text, strlen (text));
  cr_assert_eq (ocip_idmap_subid_ranges (file, "containers", NULL, &l, &err), 0);
  cr_assert_eq (l.n, 2);
  cr_assert_eq (l.v[0].host, 200000);
  cr_assert_eq (l.v[0].size, 1000);
  cr_assert_eq (l.v[1].host, 300000);
  free (l.v);
  cr_assert_eq (ocip_idmap_subid_ranges (file, "bob", NULL, &l, &err), -ENOENT);
  cr_assert_not_null (strstr (err->msg, "'bob'"), "%s", err->msg);
  ocip_error_release (&err);
  fx_rm_rf (tmp);
}

Test (idmap, find_free_skips_taken_ranges)
{
  struct ocip_idmap_range avail[] = { { 0, 100000, 1000 }, { 0, 500000, 100 } };
  struct ocip_idmap_range taken[] = { { 0, 100000, 300 }, { 0, 100500, 100 } };
  struct ocip_idmap_list a = { avail, 2 }, t = { taken, 2 };
  ocip_error_t err = NULL;
  uint32_t h;

  cr_assert_eq (ocip_idmap_find_free (&a, &t, 200, &h, &err), 0);
  cr_assert_eq (h, 100300, "the gap between the taken ranges");
  cr_assert_eq (ocip_idmap_find_free (&a, &t, 201, &h, &err), 0);
  cr_assert_eq (h, 100600);
  cr_assert_eq (ocip_idmap_find_free (&a, &t, 401, &h, &err), -ENOSPC);
  ocip_error_release (&err);
  t.n = 0;
  cr_assert_eq (ocip_idmap_find_free (&a, &t, 1000, &h, &err), 0);
  cr_assert_eq (h, 100000);
}

/* ---- the user namespace ---- */

Test (idmap, userns_fd_carries_the_mapping)
{
  char *uid[] = { (char *) "0:100000:1000", (char *) "5000:300000:2", NULL };
  char *gid[] = { (char *) "0:200000:500", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;
  int fd, status;
  pid_t pid;

  cr_assert_eq (ocip_idmap_from_strings (uid, gid, &m, &err), 0);
  fd = ocip_idmap_userns_fd (&m, &err);
  cr_assert_geq (fd, 0, "%s", fd < 0 ? err->msg : "");
  ocip_idmap_clear (&m);
  /* Join it in a child and read the maps back from inside.  */
  pid = fork ();
  if (pid == 0)
    {
      char buf[256];
      FILE *f;
      size_t n;
      if (setns (fd, CLONE_NEWUSER) < 0)
        _exit (10);
      f = fopen ("/proc/self/uid_map", "r");
      n = f ? fread (buf, 1, sizeof buf - 1, f) : 0;
      buf[n] = '\0';
      if (strstr (buf, "100000") == NULL || strstr (buf, "300000") == NULL || strstr (buf, "1000") == NULL)
        _exit (11);
      f = fopen ("/proc/self/gid_map", "r");
      n = f ? fread (buf, 1, sizeof buf - 1, f) : 0;
      buf[n] = '\0';
      _exit (strstr (buf, "200000") && strstr (buf, "500") ? 0 : 12);
    }
  cr_assert_gt (pid, 0);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status %d", status);
  close (fd);
}

Test (idmap, userns_fd_needs_both_maps)
{
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_idmap_userns_fd (&m, &err), -EINVAL);
  ocip_error_release (&err);
}

Test (idmap, userns_fd_leaves_no_child)
{
  char *uid[] = { (char *) "0:100000:10", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;
  int fd;

  cr_assert_eq (ocip_idmap_from_strings (uid, NULL, &m, &err), 0);
  fd = ocip_idmap_userns_fd (&m, &err);
  cr_assert_geq (fd, 0);
  close (fd);
  ocip_idmap_clear (&m);
  cr_assert_eq (waitpid (-1, NULL, WNOHANG), -1, "a child is left");
  cr_assert_eq (errno, ECHILD);
}
