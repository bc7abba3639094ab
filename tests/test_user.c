/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for user: User spec grammar, passwd/group parsing, lookups confined to the rootfs. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/fsroot.h"
#include <oci-prep/limits.h>
#include "spec/user.h"

#include "fixture.h"
#include "testutil.h"

/* BASE/rootfs is the rootfs; BASE/host stands for the host, outside it.  */
static char *base;
static int rootfd = -1;

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                             "bob:x:1001:1001::/home/bob:/bin/sh\n"
                             "nohome:x:1002:1002:::/bin/sh\n";

static const char group[] = "root:x:0:\n"
                            "wheel:x:10:root,bob\n"
                            "audio:x:29:alice\n"
                            "staff:x:50:bob,alice,carol\n"
                            "alice:x:1000:\n"
                            "bob:x:1001:\n";

static char *
path_in (const char *rel)
{
  char *p;

  FX_CHECK (asprintf (&p, "%s/%s", base, rel) >= 0);
  return p;
}

static void
write_rel (const char *rel, const char *content)
{
  cleanup_free char *p = path_in (rel);
  fx_write_file (p, content, strlen (content));
}

static void
setup (void)
{
  cleanup_free char *etc = NULL;
  cleanup_free char *host = NULL;

  base = fx_mkdtemp ();
  etc = path_in ("rootfs/etc");
  host = path_in ("host");
  fx_mkdir_p (etc);
  fx_mkdir_p (host);
  write_rel ("rootfs/etc/passwd", passwd);
  write_rel ("rootfs/etc/group", group);
  {
    cleanup_free char *root = path_in ("rootfs");
    rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    FX_CHECK (rootfd >= 0);
  }
}

static void
teardown (void)
{
  ocip_closep (&rootfd);
  fx_rm_rf (base);
  free (base);
}

TestSuite (user, .init = setup, .fini = teardown);

/* Make openat2 fail with ENOSYS in this test's process, so fsroot takes its
   component-by-component fallback.  */
static void
disable_openat2 (void)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);

  cr_assert_not_null (ctx);
  cr_assert_eq (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (openat2), 0), 0);
  cr_assert_eq (seccomp_load (ctx), 0);
  seccomp_release (ctx);
}

/* The rootfs-confinement checks run through openat2 and through fsroot's fallback.  */
#define ROOTFS_TEST(name)                                                                                              \
  static void check_##name (void);                                                                                     \
  Test (user, name, .timeout = 10)                                                                                     \
  {                                                                                                                    \
    check_##name ();                                                                                                   \
  }                                                                                                                    \
  Test (user_fallback, name, .init = setup, .fini = teardown, .timeout = 10)                                           \
  {                                                                                                                    \
    disable_openat2 ();                                                                                                \
    check_##name ();                                                                                                   \
    cr_assert_not (ocip_fsroot_have_openat2 (), "the fallback was not used");                                          \
  }

ROOTFS_TEST (passwd_symlink_to_host_path_stays_in_rootfs)
ROOTFS_TEST (passwd_symlink_absolute_resolves_to_rootfs_copy)
ROOTFS_TEST (passwd_symlink_to_etc_passwd_is_a_loop)
ROOTFS_TEST (group_fifo_is_refused_without_blocking)
ROOTFS_TEST (passwd_device_is_refused_without_being_opened)
ROOTFS_TEST (group_device_is_refused_without_being_opened)

static void
resolve_ok_at (int fd, const char *spec, struct ocip_user *u)
{
  ocip_error_t err = NULL;
  int r = ocip_user_resolve (fd, spec, u, &err);

  cr_assert_eq (r, 0, "resolve '%s': %s", spec, err ? err->msg : "?");
  cr_assert_null (err);
  cr_assert_not_null (u->home);
}

static void
resolve_ok (const char *spec, struct ocip_user *u)
{
  resolve_ok_at (rootfd, spec, u);
}

/* Resolving SPEC fails with ERRNUM and a message containing WHAT; *RET stays untouched.  */
static void
resolve_fails_at (int fd, const char *spec, int errnum, const char *what)
{
  ocip_error_t err = NULL;
  struct ocip_user u = { .uid = 77, .home = NULL };
  int r = ocip_user_resolve (fd, spec, &u, &err);

  cr_assert_eq (r, -errnum, "resolve '%s': expected %d, got %d (%s)", spec, -errnum, r, err ? err->msg : "");
  cr_assert_not_null (err);
  cr_assert_eq (err->status, errnum);
  cr_assert (strstr (err->msg, what) != NULL, "message '%s' does not say '%s'", err->msg, what);
  cr_assert_eq (u.uid, 77, "result written on failure");
  cr_assert_null (u.home);
  ocip_error_release (&err);
}

static void
resolve_fails (const char *spec, int errnum, const char *what)
{
  resolve_fails_at (rootfd, spec, errnum, what);
}

static void
assert_gids (const struct ocip_user *u, const uint32_t *want, size_t n)
{
  size_t i;

  cr_assert_eq (u->n_additional_gids, n, "%zu additional gids, expected %zu", u->n_additional_gids, n);
  for (i = 0; i < n; i++)
    cr_assert_eq (u->additional_gids[i], want[i], "additional gid %zu is %u, expected %u", i,
                  u->additional_gids[i], want[i]);
}

Test (user, empty_spec_is_root_with_its_home)
{
  cleanup_user struct ocip_user u = { 0 };

  resolve_ok ("", &u);
  cr_assert_eq (u.uid, 0);
  cr_assert_eq (u.gid, 0);
  cr_assert_str_eq (u.home, "/root");
  assert_gids (&u, NULL, 0);
}

Test (user, null_spec_is_root)
{
  cleanup_user struct ocip_user u = { 0 };

  resolve_ok (NULL, &u);
  cr_assert_eq (u.uid, 0);
  cr_assert_eq (u.gid, 0);
  cr_assert_str_eq (u.home, "/root");
}

Test (user, empty_spec_without_passwd_has_home_slash)
{
  cleanup_user struct ocip_user u = { 0 };
  cleanup_free char *p = path_in ("rootfs/etc/passwd");

  cr_assert_eq (unlink (p), 0);
  resolve_ok ("", &u);
  cr_assert_eq (u.uid, 0);
  cr_assert_eq (u.gid, 0);
  cr_assert_str_eq (u.home, "/");
}

Test (user, named_user_gets_primary_and_supplementary_groups)
{
  cleanup_user struct ocip_user u = { 0 };
  /* Primary gid first, then group-file order: audio (29), staff (50).  */
  static const uint32_t want[] = { 1000, 29, 50 };

  resolve_ok ("alice", &u);
  cr_assert_eq (u.uid, 1000);
  cr_assert_eq (u.gid, 1000);
  cr_assert_str_eq (u.home, "/home/alice");
  assert_gids (&u, want, 3);
}

/* CVE-2023-25173: the primary gid is listed even when no /etc/group line names it.  */
Test (user, primary_gid_included_without_a_group_line)
{
  cleanup_user struct ocip_user u = { 0 };
  static const uint32_t want[] = { 1000, 29 };

  write_rel ("rootfs/etc/group", "audio:x:29:alice\nother:x:30:bob\n");
  resolve_ok ("alice", &u);
  cr_assert_eq (u.gid, 1000);
  assert_gids (&u, want, 2);
}

Test (user, named_user_without_group_file_gets_primary_gid_only)
{
  cleanup_user struct ocip_user u = { 0 };
  cleanup_free char *p = path_in ("rootfs/etc/group");
  static const uint32_t want[] = { 1001 };

  cr_assert_eq (unlink (p), 0);
  resolve_ok ("bob", &u);
  cr_assert_eq (u.uid, 1001);
  assert_gids (&u, want, 1);
}

Test (user, named_user_explicit_group_has_no_supplementary_groups)
{
  cleanup_user struct ocip_user a = { 0 };
  cleanup_user struct ocip_user b = { 0 };

  resolve_ok ("alice:staff", &a);
  cr_assert_eq (a.uid, 1000);
  cr_assert_eq (a.gid, 50);
  cr_assert_str_eq (a.home, "/home/alice");
  assert_gids (&a, NULL, 0);

  resolve_ok ("alice:4000", &b);
  cr_assert_eq (b.uid, 1000);
  cr_assert_eq (b.gid, 4000);
  assert_gids (&b, NULL, 0);
}

Test (user, root_wheel)
{
  cleanup_user struct ocip_user u = { 0 };

  resolve_ok ("root:wheel", &u);
  cr_assert_eq (u.uid, 0);
  cr_assert_eq (u.gid, 10);
  cr_assert_str_eq (u.home, "/root");
  assert_gids (&u, NULL, 0);
}

Test (user, numeric_user_uses_its_passwd_entry_but_no_groups)
{
  cleanup_user struct ocip_user u = { 0 };

  resolve_ok ("1001", &u);
  cr_assert_eq (u.uid, 1001);
  cr_assert_eq (u.gid, 1001);
  cr_assert_str_eq (u.home, "/home/bob");
  assert_gids (&u, NULL, 0);
}

Test (user, numeric_user_and_group)
{
  cleanup_user struct ocip_user a = { 0 };
  cleanup_user struct ocip_user b = { 0 };

  resolve_ok ("1000:1234", &a);
  cr_assert_eq (a.uid, 1000);
  cr_assert_eq (a.gid, 1234);
  assert_gids (&a, NULL, 0);

  resolve_ok ("1000:staff", &b);
  cr_assert_eq (b.uid, 1000);
  cr_assert_eq (b.gid, 50);
  assert_gids (&b, NULL, 0);
}

Test (user, numeric_user_without_entry)
{
  cleanup_user struct ocip_user u = { 0 };

  resolve_ok ("4242", &u);
  cr_assert_eq (u.uid, 4242);
  cr_assert_eq (u.gid, 0);
  cr_assert_str_eq (u.home, "/");
  assert_gids (&u, NULL, 0);
}

/* A passwd line named "1000" must not turn the number 1000 into uid 5000.  */
Test (user, numeric_user_matching_a_passwd_name_stays_numeric)
{
  cleanup_user struct ocip_user u = { 0 };
  cleanup_user struct ocip_user g = { 0 };

  write_rel ("rootfs/etc/passwd", "1000:x:5000:5000::/home/impostor:/bin/sh\nroot:x:0:0::/root:/bin/sh\n");
  write_rel ("rootfs/etc/group", "1000:x:6000:\n");
  resolve_ok ("1000", &u);
  cr_assert_eq (u.uid, 1000);
  cr_assert_eq (u.gid, 0);
  cr_assert_str_eq (u.home, "/");

  resolve_ok ("0:1000", &g);
  cr_assert_eq (g.gid, 1000);
}

Test (user, id_range)
{
  cleanup_user struct ocip_user u = { 0 };

  resolve_ok ("4294967294:4294967294", &u);
  cr_assert_eq (u.uid, 4294967294u);
  cr_assert_eq (u.gid, 4294967294u);
  resolve_fails ("4294967295", EINVAL, "'4294967295'");
  resolve_fails ("0:4294967295", EINVAL, "'4294967295'");
  resolve_fails ("18446744073709551617", EINVAL, "'18446744073709551617'");
}

Test (user, malformed_specs)
{
  resolve_fails ("1a", EINVAL, "'1a'");
  resolve_fails ("-1", EINVAL, "'-1'");
  resolve_fails ("+1", EINVAL, "'+1'");
  resolve_fails ("alice:1x", EINVAL, "'1x'");
  resolve_fails (":", EINVAL, "':'");
  resolve_fails (":0", EINVAL, "':0'");
  resolve_fails ("alice:", EINVAL, "'alice:'");
  resolve_fails ("0:", EINVAL, "'0:'");
}

Test (user, unknown_names)
{
  resolve_fails ("mallory", EINVAL, "unknown user 'mallory'");
  resolve_fails ("alice:nogroup", EINVAL, "unknown group 'nogroup'");
  resolve_fails ("0:nogroup", EINVAL, "unknown group 'nogroup'");
}

Test (user, named_user_without_passwd_file)
{
  cleanup_free char *p = path_in ("rootfs/etc/passwd");

  cr_assert_eq (unlink (p), 0);
  resolve_fails ("alice", EINVAL, "unknown user 'alice'");
}

Test (user, named_group_without_group_file)
{
  cleanup_free char *p = path_in ("rootfs/etc/group");

  cr_assert_eq (unlink (p), 0);
  resolve_fails ("alice:staff", EINVAL, "unknown group 'staff'");
}

Test (user, no_rootfs)
{
  cleanup_user struct ocip_user u = { 0 };

  resolve_ok_at (-1, "1000:1000", &u);
  cr_assert_eq (u.uid, 1000);
  cr_assert_eq (u.gid, 1000);
  cr_assert_str_eq (u.home, "/");
  resolve_fails_at (-1, "alice", EINVAL, "a rootfs is needed");
  resolve_fails_at (-1, "1000:staff", EINVAL, "a rootfs is needed");
}

Test (user, malformed_lines_are_skipped)
{
  cleanup_user struct ocip_user u = { 0 };

  write_rel ("rootfs/etc/passwd", "garbage\n"
                                  "\n"
                                  "short:x:1:1\n"
                                  "long:x:1:1:a:b:c:d\n"
                                  "badid:x:abc:1::/:/bin/sh\n"
                                  "neg:x:-1:1::/:/bin/sh\n"
                                  "big:x:4294967295:1::/:/bin/sh\n"
                                  "+nis:x:7:7::/:/bin/sh\n"
                                  ":x:8:8::/:/bin/sh\n"
                                  "alice:x:1000:1000:Alice:/home/alice:/bin/sh");
  write_rel ("rootfs/etc/group", "bad\nbadgid:x:x:alice\nstaff:x:50:alice\n");
  resolve_ok ("alice", &u);
  cr_assert_eq (u.uid, 1000);
  cr_assert_str_eq (u.home, "/home/alice");
  cr_assert_eq (u.n_additional_gids, 2);
  cr_assert_eq (u.additional_gids[1], 50);
  resolve_fails ("short", EINVAL, "unknown user 'short'");
  resolve_fails ("long", EINVAL, "unknown user 'long'");
  resolve_fails ("badid", EINVAL, "unknown user 'badid'");
  resolve_fails ("neg", EINVAL, "unknown user 'neg'");
  resolve_fails ("big", EINVAL, "unknown user 'big'");
  /* "+nis" is not even a name: a leading '+' makes it a malformed id.  */
  resolve_fails ("+nis", EINVAL, "invalid user id '+nis'");
  resolve_fails ("alice:badgid", EINVAL, "unknown group 'badgid'");
}

Test (user, first_matching_line_wins)
{
  cleanup_user struct ocip_user u = { 0 };

  write_rel ("rootfs/etc/passwd", "alice:x:1000:1000::/first:/bin/sh\nalice:x:0:0::/second:/bin/sh\n");
  resolve_ok ("alice", &u);
  cr_assert_eq (u.uid, 1000);
  cr_assert_str_eq (u.home, "/first");
}

Test (user, empty_home_field_is_slash)
{
  cleanup_user struct ocip_user u = { 0 };

  resolve_ok ("nohome", &u);
  cr_assert_str_eq (u.home, "/");
}

/* /etc/passwd a symlink to a host path, absolute: it is resolved inside the rootfs, so
   the host file planted at BASE/host/passwd is never read.  */
static void
check_passwd_symlink_to_host_path_stays_in_rootfs (void)
{
  cleanup_user struct ocip_user u = { 0 };
  cleanup_free char *host_passwd = path_in ("host/passwd");
  cleanup_free char *link = path_in ("rootfs/etc/passwd");

  write_rel ("host/passwd", "hostonly:x:4242:4242::/host-secret:/bin/sh\n");
  cr_assert_eq (unlink (link), 0);
  cr_assert_eq (symlink (host_passwd, link), 0);

  resolve_fails ("hostonly", EINVAL, "unknown user 'hostonly'");
  resolve_ok ("4242", &u);
  cr_assert_str_eq (u.home, "/", "host passwd entry was read: home '%s'", u.home);
  cr_assert_eq (u.gid, 0);
}

/* Same link, but the rootfs has a file at that path: that one is read.  */
static void
check_passwd_symlink_absolute_resolves_to_rootfs_copy (void)
{
  cleanup_user struct ocip_user u = { 0 };
  cleanup_free char *host_passwd = path_in ("host/passwd");
  cleanup_free char *link = path_in ("rootfs/etc/passwd");
  cleanup_free char *inside_dir = NULL;
  cleanup_free char *inside = NULL;

  write_rel ("host/passwd", "hostonly:x:4242:4242::/host-secret:/bin/sh\n");
  FX_CHECK (asprintf (&inside_dir, "%s/rootfs%s/host", base, base) >= 0);
  FX_CHECK (asprintf (&inside, "%s/passwd", inside_dir) >= 0);
  fx_mkdir_p (inside_dir);
  fx_write_file (inside, "insider:x:7:7::/inside:/bin/sh\n", strlen ("insider:x:7:7::/inside:/bin/sh\n"));
  cr_assert_eq (unlink (link), 0);
  cr_assert_eq (symlink (host_passwd, link), 0);

  resolve_ok ("insider", &u);
  cr_assert_eq (u.uid, 7);
  cr_assert_str_eq (u.home, "/inside");
  resolve_fails ("hostonly", EINVAL, "unknown user 'hostonly'");
}

/* "/etc/passwd" -> "/etc/passwd": inside the rootfs that is a loop, never the host's
   file (which would resolve "root").  */
static void
check_passwd_symlink_to_etc_passwd_is_a_loop (void)
{
  cleanup_free char *link = path_in ("rootfs/etc/passwd");

  cr_assert_eq (unlink (link), 0);
  cr_assert_eq (symlink ("/etc/passwd", link), 0);
  resolve_fails ("root", ELOOP, "/etc/passwd");
}

static void
check_group_fifo_is_refused_without_blocking (void)
{
  cleanup_free char *p = path_in ("rootfs/etc/group");

  cr_assert_eq (unlink (p), 0);
  cr_assert_eq (mkfifo (p, 0644), 0);
  resolve_fails ("alice", EINVAL, "rootfs: '/etc/group' is a FIFO, not a regular file");
  resolve_fails ("alice:staff", EINVAL, "not a regular file");
}

/* A character device as /etc/passwd: refused, and its driver's open() never called
   (CVE-2024-9676: opened O_NONBLOCK and only then fstat'd, a watchdog or a tape device
   would already have acted).  */
static void
resolve_refuses_device (int watch, const char *spec, const char *what)
{
  ocip_error_t err = NULL;
  cleanup_user struct ocip_user u = { 0 };
  int r = ocip_user_resolve (rootfd, spec, &u, &err);

  /* First: refusing the device after opening it is the bug.  */
  cr_assert_eq (tu_opens (watch), 0, "resolve '%s' opened the device node", spec);
  cr_assert_eq (r, -EINVAL, "resolve '%s': %d (%s)", spec, r, err ? err->msg : "");
  cr_assert (strstr (err->msg, what), "message '%s' does not say '%s'", err->msg, what);
  ocip_error_release (&err);
}

static void
check_passwd_device_is_refused_without_being_opened (void)
{
  cleanup_free char *p = path_in ("rootfs/etc/passwd");
  cleanup_close int watch = tu_device_watched (p);

  resolve_refuses_device (watch, "alice", "rootfs: '/etc/passwd' is a character device, not a regular file");
  resolve_refuses_device (watch, "1000", "character device");
  resolve_refuses_device (watch, "", "character device");
}

/* Both ways /etc/group is read: supplementary groups and a named group.  */
static void
check_group_device_is_refused_without_being_opened (void)
{
  cleanup_free char *p = path_in ("rootfs/etc/group");
  cleanup_close int watch = tu_device_watched (p);

  resolve_refuses_device (watch, "alice", "rootfs: '/etc/group' is a character device, not a regular file");
  resolve_refuses_device (watch, "alice:staff", "character device");
}

Test (user, passwd_fifo_is_refused_without_blocking, .timeout = 10)
{
  cleanup_free char *p = path_in ("rootfs/etc/passwd");

  cr_assert_eq (unlink (p), 0);
  cr_assert_eq (mkfifo (p, 0644), 0);
  resolve_fails ("alice", EINVAL, "not a regular file");
  resolve_fails ("1000", EINVAL, "not a regular file");
}

Test (user, passwd_directory_is_refused)
{
  cleanup_free char *p = path_in ("rootfs/etc/passwd");

  cr_assert_eq (unlink (p), 0);
  cr_assert_eq (mkdir (p, 0755), 0);
  resolve_fails ("alice", EINVAL, "not a regular file");
}

Test (user, oversized_passwd_is_e2big)
{
  cleanup_free char *p = path_in ("rootfs/etc/passwd");

  cr_assert_eq (truncate (p, (off_t) OCIP_LIMIT_ROOTFS_FILE_SIZE + 1), 0);
  resolve_fails ("alice", E2BIG, "over the limit");
  resolve_fails ("", E2BIG, "over the limit");
}

Test (user, passwd_at_the_size_limit_is_read)
{
  cleanup_user struct ocip_user u = { 0 };
  cleanup_free char *p = path_in ("rootfs/etc/passwd");

  /* The tail is NUL bytes: the line parser stops at the first one.  */
  cr_assert_eq (truncate (p, (off_t) OCIP_LIMIT_ROOTFS_FILE_SIZE), 0);
  resolve_ok ("alice", &u);
  cr_assert_eq (u.uid, 1000);
}

/* /etc/group with N_DISTINCT lines listing USER, gids FIRST, FIRST+1, ..., followed
   every STRIDE lines (0: never) by a line repeating an earlier gid, and a line for
   USER's primary group PRIMARY in the middle.  */
static void
write_many_groups (const char *user, uint32_t primary, uint32_t first, size_t n_distinct, size_t stride)
{
  cleanup_free char *p = path_in ("rootfs/etc/group");
  FILE *f = fopen (p, "we");
  size_t i;

  cr_assert_not_null (f);
  for (i = 0; i < n_distinct; i++)
    {
      fprintf (f, "g:x:%u:%s\n", (unsigned) (first + i), user);
      if (stride && i % stride == 0)
        fprintf (f, "d:x:%u:bob,%s\n", (unsigned) (first + i / 2), user);
      if (i == n_distinct / 2)
        fprintf (f, "p:x:%u:%s\n", (unsigned) primary, user);
    }
  cr_assert_eq (fclose (f), 0);
}

/* The CPU a resolve at the groups limit may cost, sanitized builds included: a guard
   against a quadratic step (minutes), not a speed target.  */
#define GROUPS_CPU_BOUND 3.0

/* CPU seconds of this test process since START: the bound is on work done, which the
   suites running beside this one on the same cores do not inflate as they do wall time.  */
static double
seconds_since (const struct timespec *start)
{
  struct timespec now;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &now);
  return (double) (now.tv_sec - start->tv_sec) + (double) (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* 300 000 memberships: E2BIG, and quickly.  A scan per insert with the limit checked
   after the loop took 14 s (26 s of CPU on a loaded CI machine).  */
Test (user, group_memberships_over_the_limit_fail_fast, .timeout = 60)
{
  struct timespec start;
  double took;

  /* A one-letter user and short gids keep 300 000 lines under the file size limit.  */
  write_rel ("rootfs/etc/passwd", "u:x:7:7::/:/bin/sh\n");
  write_many_groups ("u", 7, 1, 300000, 0);
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &start);
  resolve_fails ("u", E2BIG, "user 'u' is in more than 65536 groups, over the limit");
  took = seconds_since (&start);
  cr_assert_lt (took, GROUPS_CPU_BOUND, "300 000 memberships took %.2f s of CPU", took);
}

/* One past the limit: the primary group and OCIP_LIMIT_USER_GROUPS others.  */
Test (user, group_memberships_one_over_the_limit_are_e2big)
{
  write_many_groups ("alice", 1000, 100000, OCIP_LIMIT_USER_GROUPS, 1000);
  resolve_fails ("alice", E2BIG, "over the limit");
}

/* The largest legal case: the primary group and OCIP_LIMIT_USER_GROUPS - 1 others, with
   thousands of duplicates (the primary among them): every gid once, in the order first
   seen, the primary first; and fast.  */
Test (user, group_memberships_at_the_limit_with_duplicates_resolve, .timeout = 60)
{
  cleanup_user struct ocip_user u = { 0 };
  struct timespec start;
  double took;
  size_t i;

  write_many_groups ("alice", 1000, 100000, OCIP_LIMIT_USER_GROUPS - 1, 2);
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &start);
  resolve_ok ("alice", &u);
  took = seconds_since (&start);
  cr_assert_lt (took, GROUPS_CPU_BOUND, "%d memberships took %.2f s of CPU", OCIP_LIMIT_USER_GROUPS, took);
  cr_assert_eq (u.gid, 1000);
  cr_assert_eq (u.n_additional_gids, (size_t) OCIP_LIMIT_USER_GROUPS);
  cr_assert_eq (u.additional_gids[0], 1000);
  for (i = 1; i < u.n_additional_gids; i++)
    cr_assert_eq (u.additional_gids[i], 100000 + i - 1, "gid %zu is %u", i, u.additional_gids[i]);
}
