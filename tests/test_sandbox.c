/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The extraction sandbox: what it forbids, and that extraction works inside it. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "extract/extract.h"
#include "extract/sandbox.h"

#include "fixture.h"
#include "testutil.h"

static void
need_root (void)
{
  if (geteuid () != 0)
    {
      cr_assert (! tu_in_ci (), "the sandbox tests need root; CI is root");
      cr_skip_test ("needs root");
    }
}

/* LeakSanitizer stops the world with ptrace at exit, which the sandbox forbids: under
   ASan, check for leaks now, which also turns the exit-time check off.  */
extern void __lsan_do_leak_check (void) __attribute__ ((weak));

/* Criterion runs every test in its own process: entering the sandbox is contained.  */
static void
enter (void)
{
  ocip_error_t err = NULL;

  need_root ();
  if (__lsan_do_leak_check)
    __lsan_do_leak_check ();
  cr_assert_eq (ocip_sandbox_enter (&err), 0, "%s", err ? err->msg : "");
}

static char *
status_field (const char *field)
{
  char *text = fx_read_file ("/proc/self/status", NULL), *p = strstr (text, field), *v;

  cr_assert_not_null (p, "%s missing from /proc/self/status", field);
  p += strlen (field);
  while (*p == ' ' || *p == '\t')
    p++;
  v = strndup (p, strcspn (p, "\n"));
  free (text);
  return v;
}

Test (sandbox, exec_fails_with_eperm)
{
  char *const argv[] = { (char *) "/bin/true", NULL };

  enter ();
  errno = 0;
  execv ("/bin/true", argv);
  cr_assert_eq (errno, EPERM, "execve inside the sandbox: errno %d", errno);
}

Test (sandbox, network_mounts_namespaces_ptrace_fail)
{
  enter ();
  cr_assert_eq (socket (AF_INET, SOCK_STREAM, 0), -1);
  cr_assert_eq (errno, EPERM, "socket");
  cr_assert_eq (mount ("none", "/mnt", "tmpfs", 0, NULL), -1);
  cr_assert_eq (errno, EPERM, "mount");
  cr_assert_eq (unshare (CLONE_NEWNS), -1);
  cr_assert_eq (errno, EPERM, "unshare");
  cr_assert_eq (ptrace (PTRACE_ATTACH, 1, NULL, NULL), -1);
  cr_assert_eq (errno, EPERM, "ptrace");
}

Test (sandbox, no_new_privs_and_a_small_bounding_set)
{
  char *nnp, *bnd, *eff;
  unsigned long long mask;

  enter ();
  nnp = status_field ("NoNewPrivs:");
  cr_assert_str_eq (nnp, "1");
  bnd = status_field ("CapBnd:");
  eff = status_field ("CapEff:");
  mask = strtoull (bnd, NULL, 16);
  /* CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, MKNOD 27, SETFCAP 31, SYS_ADMIN 21.  */
  cr_assert_eq (mask, (1ull << 0) | (1ull << 1) | (1ull << 3) | (1ull << 4) | (1ull << 27) | (1ull << 31) | (1ull << 21),
                "bounding set %s", bnd);
  cr_assert_eq (strtoull (eff, NULL, 16), mask, "effective set %s", eff);
  free (nnp);
  free (bnd);
  free (eff);
}

/* Enter the sandbox as the caller is now, whatever its capabilities.  */
static void
enter_as_is (void)
{
  ocip_error_t err = NULL;

  if (__lsan_do_leak_check)
    __lsan_do_leak_check ();
  cr_assert_eq (ocip_sandbox_enter (&err), 0, "%s", err ? err->msg : "");
}

/* Become nobody: no capability left, as an ordinary user runs oci-prep.  */
static void
become_nobody (void)
{
  need_root ();
  cr_assert_eq (setgroups (0, NULL), 0);
  cr_assert_eq (setresgid (65534, 65534, 65534), 0);
  cr_assert_eq (setresuid (65534, 65534, 65534), 0);
}

/* An ordinary user holds no CAP_SETPCAP and cannot shrink its bounding set: the
   sandbox still confines it (no_new_privs, the seccomp filter) instead of failing
   with "drop capability 0 from the bounding set: Operation not permitted".  */
Test (sandbox, enters_as_an_ordinary_user)
{
  char *const argv[] = { (char *) "/bin/true", NULL };
  char *nnp, *eff;

  become_nobody ();
  enter_as_is ();
  nnp = status_field ("NoNewPrivs:");
  eff = status_field ("CapEff:");
  cr_assert_str_eq (nnp, "1");
  cr_assert_eq (strtoull (eff, NULL, 16), 0, "effective set %s", eff);
  errno = 0;
  execv ("/bin/true", argv);
  cr_assert_eq (errno, EPERM, "execve inside the sandbox: errno %d", errno);
  cr_assert_eq (socket (AF_INET, SOCK_STREAM, 0), -1);
  free (nnp);
  free (eff);
}

/* Root without CAP_SETPCAP (a container that dropped it): the bounding set stays, the
   effective set is still reduced to what extraction uses.  */
Test (sandbox, enters_without_cap_setpcap)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  unsigned long long keep = (1ull << 0) | (1ull << 1) | (1ull << 3) | (1ull << 4) | (1ull << 27) | (1ull << 31)
                            | (1ull << 21);
  char *bnd_before, *bnd, *eff;

  need_root ();
  cr_assert_eq (syscall (SYS_capget, &hdr, data), 0);
  data[0].effective &= ~(1u << CAP_SETPCAP);
  data[0].permitted &= ~(1u << CAP_SETPCAP);
  cr_assert_eq (syscall (SYS_capset, &hdr, data), 0);
  bnd_before = status_field ("CapBnd:");
  enter_as_is ();
  bnd = status_field ("CapBnd:");
  eff = status_field ("CapEff:");
  cr_assert_str_eq (bnd, bnd_before);
  cr_assert_eq (strtoull (eff, NULL, 16), keep, "effective set %s", eff);
  free (bnd_before);
  free (bnd);
  free (eff);
}

struct mem
{
  const char *buf;
  size_t len, off;
};

static ssize_t
mem_read (void *ctx, void *buf, size_t len, ocip_error_t *err)
{
  struct mem *m = ctx;
  size_t n = m->len - m->off < len ? m->len - m->off : len;

  memcpy (buf, m->buf + m->off, n);
  m->off += n;
  return n;
}

/* Every kind of entry still extracts inside the sandbox: owners, setuid, devices,
   xattrs (user.* and the trusted.overlay.opaque conversion), links.  */
Test (sandbox, extraction_works_inside)
{
  char *tmp = fx_mkdtemp (), *root;
  struct fx_tar *t = fx_tar_new ();
  struct ocip_extract_limits limits;
  struct ocip_extract_stats stats = { 0 };
  ocip_error_t err = NULL;
  struct mem m = { 0 };
  struct stat st;
  char value[8];
  void *tar;
  size_t len;
  int rootfd;

  need_root ();
  FX_CHECK (asprintf (&root, "%s/root", tmp) > 0);
  fx_mkdir_p (root);
  rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  fx_tar_dir (t, "d", 0750);
  fx_tar_file_ex (t, "d/su", 04755, 1234, 5678, FX_MTIME, "su", 2);
  fx_tar_hardlink (t, "d/su-link", "d/su");
  fx_tar_symlink (t, "l", "/d/su");
  fx_tar_device (t, "null", 'c', 1, 3);
  fx_tar_device (t, "fifo", 'p', 0, 0);
  fx_tar_xattr_file (t, "x", "user.k", "v", 1);
  fx_tar_opaque (t, "o");
  fx_tar_whiteout (t, "gone");
  fx_tar_finish (t, &tar, &len);
  m.buf = tar;
  m.len = len;
  ocip_extract_limits_default (&limits);

  enter ();
  cr_assert_eq (ocip_extract_tar (rootfd, OCIP_OVLFORMAT_XATTRS_TRUSTED, mem_read, &m, &limits, &stats, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (fstatat (rootfd, "d/su", &st, 0), 0);
  cr_assert_eq (st.st_mode & 07777, 04755);
  cr_assert_eq (st.st_uid, 1234);
  cr_assert_eq (st.st_nlink, 2);
  cr_assert_eq (fstatat (rootfd, "null", &st, AT_SYMLINK_NOFOLLOW), 0);
  cr_assert (S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3));
  cr_assert_eq (fstatat (rootfd, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
  cr_assert (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0));
  {
    char *x, *o;
    FX_CHECK (asprintf (&x, "%s/x", root) > 0);
    FX_CHECK (asprintf (&o, "%s/o", root) > 0);
    cr_assert_eq (getxattr (x, "user.k", value, sizeof value), 1);
    cr_assert_eq (getxattr (o, "trusted.overlay.opaque", value, sizeof value), 1);
    cr_assert_eq (value[0], 'y');
    free (x);
    free (o);
  }
  ocip_extract_stats_clear (&stats);
  close (rootfd);
  fx_rm_rf (tmp);
  free (tmp);
  free (root);
  free (tar);
}

/* oci-prep load extracts inside the sandbox and gives the same store as without it.  */
Test (sandbox, load_is_identical_with_and_without)
{
  char *tmp = fx_mkdtemp (), *layout, *a, *b;
  struct tu_result r;

  need_root ();
  FX_CHECK (asprintf (&layout, "%s/img", tmp) > 0);
  FX_CHECK (asprintf (&a, "%s/a", tmp) > 0);
  FX_CHECK (asprintf (&b, "%s/b", tmp) > 0);
  fx_simple_image (layout, "latest");
  tu_prep (&r, (const char *const[]){ "--store", a, "load", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  tu_prep (&r, (const char *const[]){ "--store", b, "load", "--no-sandbox", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  tu_sh (&r, "cd '%s/layers' && find . -printf '%%p %%y %%m %%U %%G %%s %%l\\n' | sort > ../../a.txt && "
             "cd '%s/layers' && find . -printf '%%p %%y %%m %%U %%G %%s %%l\\n' | sort > ../../b.txt && "
             "cmp '%s/a.txt' '%s/b.txt'",
         a, b, tmp, tmp);
  cr_assert_eq (r.status, 0, "the trees differ: %s%s", r.out, r.err);
  tu_result_free (&r);
  fx_rm_rf (tmp);
  free (tmp);
  free (layout);
  free (a);
  free (b);
}
