/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for seccomp: the allow-list resolves, per-arch filtering, caller profile files. */
#include "config.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/json.h"
#include <oci-prep/limits.h>
#include "spec/seccomp.h"

#include "fixture.h"
#include "testutil.h"

static char *base;

static void
setup (void)
{
  base = fx_mkdtemp ();
}

static void
teardown (void)
{
  fx_rm_rf (base);
  free (base);
}

TestSuite (seccomp, .init = setup, .fini = teardown);

/* What the default profile must never allow: escapes, kernel reconfiguration, other
   processes' memory.  */
static const char *const forbidden[] = {
  "mount",         "umount2",       "umount",         "pivot_root",      "kexec_load",   "kexec_file_load",
  "init_module",   "finit_module",  "delete_module",  "bpf",             "ptrace",       "perf_event_open",
  "keyctl",        "add_key",       "request_key",    "reboot",          "swapon",       "swapoff",
  "unshare",       "setns",         "open_by_handle_at", "name_to_handle_at", "userfaultfd", "acct",
  "quotactl",      "quotactl_fd",   "syslog",         "personality",     "clock_settime", "clock_settime64",
  "settimeofday",  "stime",         "iopl",           "ioperm",          "lookup_dcookie", "kcmp",
  "process_vm_readv", "process_vm_writev", "pidfd_getfd", "fsopen",     "fsmount",      "move_mount",
  "open_tree",     "mount_setattr", "io_uring_setup", "io_uring_enter",  "vhangup",      "sethostname",
  "setdomainname", "uselib",        "migrate_pages",  "move_pages",      NULL,
};

static bool
strv_has (char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

/* "SCMP_ARCH_X86_64" -> the libseccomp token of "x86_64".  */
static uint32_t
arch_token (const char *name)
{
  char lower[64];
  size_t i;
  uint32_t token;

  cr_assert (strncmp (name, "SCMP_ARCH_", 10) == 0, "'%s'", name);
  for (i = 0; name[10 + i] && i < sizeof lower - 1; i++)
    lower[i] = tolower ((unsigned char) name[10 + i]);
  lower[i] = '\0';
  token = seccomp_arch_resolve_name (lower);
  cr_assert_neq (token, 0, "libseccomp does not know '%s'", name);
  return token;
}

static void
default_ok (struct ocip_seccomp_profile *p)
{
  ocip_error_t err = NULL;
  int r = ocip_seccomp_default (p, &err);

  cr_assert_eq (r, 0, "default profile: %s", err ? err->msg : "?");
  cr_assert_not_null (p->architectures);
  cr_assert_not_null (p->syscalls);
}

/* Catches typos: a name libseccomp cannot resolve would be silently dropped.  */
Test (seccomp, every_table_name_resolves_on_the_native_arch)
{
  size_t i;

  for (i = 0; ocip_seccomp_allowed_syscalls[i]; i++)
    cr_assert_neq (seccomp_syscall_resolve_name_arch (SCMP_ARCH_NATIVE, ocip_seccomp_allowed_syscalls[i]),
                   __NR_SCMP_ERROR, "'%s' is not a syscall libseccomp knows", ocip_seccomp_allowed_syscalls[i]);
  cr_assert_gt (i, 200);
}

Test (seccomp, table_is_sorted_without_duplicates)
{
  size_t i;

  for (i = 1; ocip_seccomp_allowed_syscalls[i]; i++)
    cr_assert_lt (strcmp (ocip_seccomp_allowed_syscalls[i - 1], ocip_seccomp_allowed_syscalls[i]), 0,
                  "'%s' before '%s'", ocip_seccomp_allowed_syscalls[i - 1], ocip_seccomp_allowed_syscalls[i]);
}

Test (seccomp, table_allows_nothing_dangerous)
{
  size_t i;

  for (i = 0; forbidden[i]; i++)
    cr_assert_not (strv_has ((char *const *) ocip_seccomp_allowed_syscalls, forbidden[i]), "'%s' is allowed",
                   forbidden[i]);
}

Test (seccomp, default_profile_architectures)
{
  struct ocip_seccomp_profile p = { 0 };
  struct utsname u;

  default_ok (&p);
  cr_assert_eq (uname (&u), 0);
  cr_assert_eq (arch_token (p.architectures[0]), seccomp_arch_native (), "native arch not first");
  if (strcmp (u.machine, "x86_64") == 0)
    {
      cr_assert_str_eq (p.architectures[0], "SCMP_ARCH_X86_64");
      cr_assert_str_eq (p.architectures[1], "SCMP_ARCH_X86");
      cr_assert_str_eq (p.architectures[2], "SCMP_ARCH_X32");
      cr_assert_null (p.architectures[3]);
    }
  else if (strcmp (u.machine, "aarch64") == 0)
    {
      cr_assert_str_eq (p.architectures[0], "SCMP_ARCH_AARCH64");
      cr_assert_str_eq (p.architectures[1], "SCMP_ARCH_ARM");
      cr_assert_null (p.architectures[2]);
    }
  ocip_seccomp_profile_clear (&p);
  cr_assert_null (p.architectures);
  cr_assert_null (p.syscalls);
}

Test (seccomp, default_profile_allows_ordinary_calls_only)
{
  cleanup_seccomp_profile struct ocip_seccomp_profile p = { 0 };
  static const char *const needed[] = { "read",  "write",  "openat", "close",     "execve", "exit_group",
                                        "clone", "clone3", "futex",  "epoll_wait", "mmap",  "rt_sigreturn",
                                        "socket", "connect", "wait4", "getrandom", NULL };
  size_t i;

  default_ok (&p);
  for (i = 0; needed[i]; i++)
    cr_assert (strv_has (p.syscalls, needed[i]), "'%s' is not allowed", needed[i]);
  for (i = 0; forbidden[i]; i++)
    cr_assert_not (strv_has (p.syscalls, forbidden[i]), "'%s' is allowed", forbidden[i]);
}

/* Every emitted name is one a runtime can resolve (runc and crun look names up for the
   native arch) and is a real syscall on at least one of the profile's architectures.  */
Test (seccomp, every_emitted_name_resolves)
{
  cleanup_seccomp_profile struct ocip_seccomp_profile p = { 0 };
  size_t i, a;

  default_ok (&p);
  for (i = 0; p.syscalls[i]; i++)
    {
      bool real = false;
      cr_assert_neq (seccomp_syscall_resolve_name (p.syscalls[i]), __NR_SCMP_ERROR, "'%s' does not resolve",
                     p.syscalls[i]);
      for (a = 0; p.architectures[a]; a++)
        real = real || seccomp_syscall_resolve_name_arch (arch_token (p.architectures[a]), p.syscalls[i]) >= 0;
      cr_assert (real, "'%s' is no syscall on any of the profile's architectures", p.syscalls[i]);
    }
}

/* Names of other architectures are dropped, compat-ABI ones kept.  */
Test (seccomp, names_are_filtered_per_arch)
{
  cleanup_seccomp_profile struct ocip_seccomp_profile p = { 0 };
  struct utsname u;

  default_ok (&p);
  cr_assert_eq (uname (&u), 0);
  if (strcmp (u.machine, "x86_64") == 0)
    {
      cr_assert (strv_has (p.syscalls, "arch_prctl"));
      cr_assert (strv_has (p.syscalls, "socketcall"), "i386's socketcall is dropped");
      cr_assert_not (strv_has (p.syscalls, "set_tls"), "ARM-only set_tls is kept");
      cr_assert_not (strv_has (p.syscalls, "arm_fadvise64_64"));
    }
  else if (strcmp (u.machine, "aarch64") == 0)
    {
      cr_assert (strv_has (p.syscalls, "set_tls"));
      cr_assert_not (strv_has (p.syscalls, "arch_prctl"));
    }
  else
    cr_skip_test ("no expectations for %s", u.machine);
}

/* Build the filter the way runc does (resolve natively, add one ALLOW rule per name, on
   every architecture of the profile): libseccomp must accept every rule.  */
Test (seccomp, libseccomp_accepts_the_default_profile)
{
  cleanup_seccomp_profile struct ocip_seccomp_profile p = { 0 };
  scmp_filter_ctx ctx;
  size_t i;

  default_ok (&p);
  ctx = seccomp_init (SCMP_ACT_ERRNO (OCIP_SECCOMP_DEFAULT_ERRNO));
  cr_assert_not_null (ctx);
  for (i = 0; p.architectures[i]; i++)
    {
      uint32_t token = arch_token (p.architectures[i]);
      if (token != seccomp_arch_native ())
        cr_assert_eq (seccomp_arch_add (ctx, token), 0, "arch '%s'", p.architectures[i]);
    }
  for (i = 0; p.syscalls[i]; i++)
    {
      int nr = seccomp_syscall_resolve_name (p.syscalls[i]);
      int r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, nr, 0);
      cr_assert_eq (r, 0, "rule for '%s' (%d): %s", p.syscalls[i], nr, strerror (-r));
    }
  seccomp_release (ctx);
}

static char *
write_profile (const char *name, const char *content)
{
  char *path;

  FX_CHECK (asprintf (&path, "%s/%s", base, name) >= 0);
  fx_write_file (path, content, strlen (content));
  return path;
}

static void
load_fails (const char *path, int errnum, const char *what)
{
  ocip_error_t err = NULL;
  struct ocip_json *doc = NULL;
  int r = ocip_seccomp_load_file (path, &doc, &err);

  cr_assert_eq (r, -errnum, "load '%s': expected %d, got %d (%s)", path, -errnum, r, err ? err->msg : "");
  cr_assert_null (doc);
  cr_assert_eq (err->status, errnum);
  cr_assert (strstr (err->msg, what) != NULL, "message '%s' does not say '%s'", err->msg, what);
  ocip_error_release (&err);
}

Test (seccomp, load_file)
{
  cleanup_free char *path
      = write_profile ("p.json", "{\"defaultAction\":\"SCMP_ACT_LOG\",\"syscalls\":[{\"names\":[\"read\"],"
                                 "\"action\":\"SCMP_ACT_ALLOW\"}]}");
  cleanup_json struct ocip_json *doc = NULL;
  ocip_error_t err = NULL;
  const char *action = NULL;

  cr_assert_eq (ocip_seccomp_load_file (path, &doc, &err), 0, "%s", err ? err->msg : "");
  cr_assert_eq (ocip_json_get_string (ocip_json_root (doc), "defaultAction", true, &action, &err), 0);
  cr_assert_str_eq (action, "SCMP_ACT_LOG");
}

Test (seccomp, load_file_refuses_bad_profiles, .timeout = 10)
{
  cleanup_free char *array = write_profile ("array.json", "[]");
  cleanup_free char *invalid = write_profile ("invalid.json", "{\"defaultAction\":");
  cleanup_free char *big = write_profile ("big.json", "{}");
  cleanup_free char *fifo = NULL;
  cleanup_free char *missing = NULL;

  FX_CHECK (asprintf (&fifo, "%s/fifo", base) >= 0);
  FX_CHECK (asprintf (&missing, "%s/missing.json", base) >= 0);
  cr_assert_eq (mkfifo (fifo, 0644), 0);
  cr_assert_eq (truncate (big, (off_t) OCIP_LIMIT_JSON_DOCUMENT_SIZE + 1), 0);

  load_fails (array, EINVAL, "not a JSON object");
  load_fails (invalid, EINVAL, "invalid JSON");
  load_fails (fifo, EINVAL, "not a regular file");
  load_fails (big, E2BIG, "over the limit");
  load_fails (missing, ENOENT, "missing.json");
  load_fails (base, EINVAL, "not a regular file");
}

/* --seccomp /dev/watchdog by mistake: refused without the driver's open() running.  */
Test (seccomp, load_file_never_opens_a_device)
{
  cleanup_free char *dev = NULL;
  cleanup_close int watch = -1;

  struct ocip_json *doc = NULL;
  ocip_error_t err = NULL;
  int r;

  FX_CHECK (asprintf (&dev, "%s/dev", base) >= 0);
  watch = tu_device_watched (dev);
  r = ocip_seccomp_load_file (dev, &doc, &err);
  cr_assert_eq (tu_opens (watch), 0, "the device node was opened");
  cr_assert_eq (r, -EINVAL, "%d: %s", r, err ? err->msg : "");
  cr_assert_null (doc);
  ocip_error_release (&err);
  load_fails (dev, EINVAL, "is a character device, not a regular file");
}

/* What a runtime would refuse or silently ignore is an error when the profile is read,
   naming the culprit.  */
Test (seccomp, load_file_compiles_the_profile)
{
  static const struct
  {
    const char *profile, *what;
  } bad[] = {
    { "{\"defaultAction\":\"SCMP_ACT_FROB\"}", "unknown defaultAction 'SCMP_ACT_FROB'" },
    { "{\"syscalls\":[]}", "defaultAction" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALOW\"}]}",
      "syscalls[0]: unknown action 'SCMP_ACT_ALOW'" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\",\"raed\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
      "unknown syscall 'raed'" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_Z80\"]}", "unknown architecture 'SCMP_ARCH_Z80'" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
      "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]}]}",
      "unknown op 'SCMP_CMP_ABOUT'" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
      "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
      "args[0] needs index (0-5)" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\","
      "\"errnoRet\":-1}]}",
      "errnoRet -1 is out of range" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}", "defaultErrnoRet 5000 is out of range" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"flags\":[\"SECCOMP_FILTER_FLAG_FAST\"]}",
      "unknown flag 'SECCOMP_FILTER_FLAG_FAST'" },
  };
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_free char *path = write_profile ("bad.json", bad[i].profile);
      load_fails (path, EINVAL, bad[i].what);
    }
}

/* A syscall of another architecture (docker's profile lists arm's and s390's on every
   host) is accepted: runtimes skip it where it does not exist.  A rule with the
   default action is skipped as runc skips it, and repeated args become one rule each.  */
Test (seccomp, load_file_accepts_real_profiles)
{
  cleanup_free char *path = write_profile (
      "ok.json", "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":[\"SCMP_ARCH_X86_64\","
                 "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],\"syscalls\":["
                 "{\"names\":[\"read\",\"arm_fadvise64_64\",\"s390_pci_mmio_read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                 "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                 "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["
                 "{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},"
                 "{\"index\":0,\"value\":18446744073709551615,\"valueTwo\":8,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
                 "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_NOTIFY\"},{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_TRACE\","
                 "\"errnoRet\":7}]}");
  cleanup_json struct ocip_json *doc = NULL;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_seccomp_load_file (path, &doc, &err), 0, "%s", err ? err->msg : "");
}
