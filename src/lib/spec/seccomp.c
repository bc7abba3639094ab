/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Seccomp profiles (the only user of libseccomp): the default allow-list and caller files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include <oci-prep/cleanup.h>
#include "base/json.h"
#include "base/fsutil.h"
#include <oci-prep/limits.h>
#include "spec/seccomp.h"

/* The spirit of moby's and podman's default profiles: what ordinary programs need (files,
   processes, memory, signals, time, sockets, polling, futexes, IPC), under every
   architecture's name for it.  Left out, so they fail with EPERM:
   mounting and namespace changes (mount, umount2, pivot_root, unshare, setns, the new
   mount API), module and kernel loading (init_module, finit_module, delete_module,
   kexec_*), bpf, ptrace and cross-process memory access (process_vm_*, kcmp,
   pidfd_getfd), perf_event_open, the kernel keyring (keyctl, add_key, request_key),
   reboot, swapon/swapoff, file handles (open_by_handle_at, the "shocker" escape, and
   name_to_handle_at), userfaultfd, acct, quotactl, syslog, personality, clock and
   time setting (clock_settime, settimeofday, stime), I/O ports (iopl, ioperm),
   lookup_dcookie, io_uring (a long list of kernel bugs) and the NUMA calls that move
   other processes' pages (migrate_pages, move_pages).  Names that exist on only some
   architectures are filtered per host by ocip_seccomp_default().  */
const char *const ocip_seccomp_allowed_syscalls[] = {
  "_llseek",
  "_newselect",
  "accept",
  "accept4",
  "access",
  "adjtimex",
  "alarm",
  "arch_prctl",
  "arm_fadvise64_64",
  "arm_sync_file_range",
  "bind",
  "breakpoint",
  "brk",
  "cacheflush",
  "capget",
  "capset",
  "chdir",
  "chmod",
  "chown",
  "chown32",
  "chroot",
  "clock_adjtime",
  "clock_adjtime64",
  "clock_getres",
  "clock_getres_time64",
  "clock_gettime",
  "clock_gettime64",
  "clock_nanosleep",
  "clock_nanosleep_time64",
  "clone",
  "clone3",
  "close",
  "close_range",
  "connect",
  "copy_file_range",
  "creat",
  "dup",
  "dup2",
  "dup3",
  "epoll_create",
  "epoll_create1",
  "epoll_ctl",
  "epoll_ctl_old",
  "epoll_pwait",
  "epoll_pwait2",
  "epoll_wait",
  "epoll_wait_old",
  "eventfd",
  "eventfd2",
  "execve",
  "execveat",
  "exit",
  "exit_group",
  "faccessat",
  "faccessat2",
  "fadvise64",
  "fadvise64_64",
  "fallocate",
  "fanotify_mark",
  "fchdir",
  "fchmod",
  "fchmodat",
  "fchown",
  "fchown32",
  "fchownat",
  "fcntl",
  "fcntl64",
  "fdatasync",
  "fgetxattr",
  "flistxattr",
  "flock",
  "fork",
  "fremovexattr",
  "fsetxattr",
  "fstat",
  "fstat64",
  "fstatat64",
  "fstatfs",
  "fstatfs64",
  "fsync",
  "ftruncate",
  "ftruncate64",
  "futex",
  "futex_time64",
  "futex_waitv",
  "futimesat",
  "get_mempolicy",
  "get_robust_list",
  "get_thread_area",
  "getcpu",
  "getcwd",
  "getdents",
  "getdents64",
  "getegid",
  "getegid32",
  "geteuid",
  "geteuid32",
  "getgid",
  "getgid32",
  "getgroups",
  "getgroups32",
  "getitimer",
  "getpeername",
  "getpgid",
  "getpgrp",
  "getpid",
  "getppid",
  "getpriority",
  "getrandom",
  "getresgid",
  "getresgid32",
  "getresuid",
  "getresuid32",
  "getrlimit",
  "getrusage",
  "getsid",
  "getsockname",
  "getsockopt",
  "gettid",
  "gettimeofday",
  "getuid",
  "getuid32",
  "getxattr",
  "inotify_add_watch",
  "inotify_init",
  "inotify_init1",
  "inotify_rm_watch",
  "io_cancel",
  "io_destroy",
  "io_getevents",
  "io_pgetevents",
  "io_pgetevents_time64",
  "io_setup",
  "io_submit",
  "ioctl",
  "ioprio_get",
  "ioprio_set",
  "ipc",
  "kill",
  "landlock_add_rule",
  "landlock_create_ruleset",
  "landlock_restrict_self",
  "lchown",
  "lchown32",
  "lgetxattr",
  "link",
  "linkat",
  "listen",
  "listxattr",
  "llistxattr",
  "lremovexattr",
  "lseek",
  "lsetxattr",
  "lstat",
  "lstat64",
  "madvise",
  "mbind",
  "membarrier",
  "memfd_create",
  "memfd_secret",
  "mincore",
  "mkdir",
  "mkdirat",
  "mknod",
  "mknodat",
  "mlock",
  "mlock2",
  "mlockall",
  "mmap",
  "mmap2",
  "modify_ldt",
  "mprotect",
  "mq_getsetattr",
  "mq_notify",
  "mq_open",
  "mq_timedreceive",
  "mq_timedreceive_time64",
  "mq_timedsend",
  "mq_timedsend_time64",
  "mq_unlink",
  "mremap",
  "msgctl",
  "msgget",
  "msgrcv",
  "msgsnd",
  "msync",
  "munlock",
  "munlockall",
  "munmap",
  "nanosleep",
  "newfstatat",
  "open",
  "openat",
  "openat2",
  "pause",
  "pidfd_open",
  "pidfd_send_signal",
  "pipe",
  "pipe2",
  "pkey_alloc",
  "pkey_free",
  "pkey_mprotect",
  "poll",
  "ppoll",
  "ppoll_time64",
  "prctl",
  "pread64",
  "preadv",
  "preadv2",
  "prlimit64",
  "process_mrelease",
  "pselect6",
  "pselect6_time64",
  "pwrite64",
  "pwritev",
  "pwritev2",
  "read",
  "readahead",
  "readlink",
  "readlinkat",
  "readv",
  "recv",
  "recvfrom",
  "recvmmsg",
  "recvmmsg_time64",
  "recvmsg",
  "remap_file_pages",
  "removexattr",
  "rename",
  "renameat",
  "renameat2",
  "restart_syscall",
  "rmdir",
  "rseq",
  "rt_sigaction",
  "rt_sigpending",
  "rt_sigprocmask",
  "rt_sigqueueinfo",
  "rt_sigreturn",
  "rt_sigsuspend",
  "rt_sigtimedwait",
  "rt_sigtimedwait_time64",
  "rt_tgsigqueueinfo",
  "sched_get_priority_max",
  "sched_get_priority_min",
  "sched_getaffinity",
  "sched_getattr",
  "sched_getparam",
  "sched_getscheduler",
  "sched_rr_get_interval",
  "sched_rr_get_interval_time64",
  "sched_setaffinity",
  "sched_setattr",
  "sched_setparam",
  "sched_setscheduler",
  "sched_yield",
  "seccomp",
  "select",
  "semctl",
  "semget",
  "semop",
  "semtimedop",
  "semtimedop_time64",
  "send",
  "sendfile",
  "sendfile64",
  "sendmmsg",
  "sendmsg",
  "sendto",
  "set_mempolicy",
  "set_robust_list",
  "set_thread_area",
  "set_tid_address",
  "set_tls",
  "setfsgid",
  "setfsgid32",
  "setfsuid",
  "setfsuid32",
  "setgid",
  "setgid32",
  "setgroups",
  "setgroups32",
  "setitimer",
  "setpgid",
  "setpriority",
  "setregid",
  "setregid32",
  "setresgid",
  "setresgid32",
  "setresuid",
  "setresuid32",
  "setreuid",
  "setreuid32",
  "setrlimit",
  "setsid",
  "setsockopt",
  "setuid",
  "setuid32",
  "setxattr",
  "shmat",
  "shmctl",
  "shmdt",
  "shmget",
  "shutdown",
  "sigaltstack",
  "signalfd",
  "signalfd4",
  "sigprocmask",
  "sigreturn",
  "socket",
  "socketcall",
  "socketpair",
  "splice",
  "stat",
  "stat64",
  "statfs",
  "statfs64",
  "statx",
  "symlink",
  "symlinkat",
  "sync",
  "sync_file_range",
  "sync_file_range2",
  "syncfs",
  "sysinfo",
  "tee",
  "tgkill",
  "time",
  "timer_create",
  "timer_delete",
  "timer_getoverrun",
  "timer_gettime",
  "timer_gettime64",
  "timer_settime",
  "timer_settime64",
  "timerfd_create",
  "timerfd_gettime",
  "timerfd_gettime64",
  "timerfd_settime",
  "timerfd_settime64",
  "times",
  "tkill",
  "truncate",
  "truncate64",
  "ugetrlimit",
  "umask",
  "uname",
  "unlink",
  "unlinkat",
  "utime",
  "utimensat",
  "utimensat_time64",
  "utimes",
  "vfork",
  "vmsplice",
  "wait4",
  "waitid",
  "waitpid",
  "write",
  "writev",
  NULL,
};

/* The seccomp architecture names of a host: its own ABI first, then the ones its
   kernel also runs (a 64-bit x86 kernel runs i386 and x32 binaries).  */
static const struct
{
  uint32_t native;
  uint32_t arches[3];
  const char *names[3];
} host_arches[] = {
  { SCMP_ARCH_X86_64,
    { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 },
    { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" } },
  { SCMP_ARCH_AARCH64, { SCMP_ARCH_AARCH64, SCMP_ARCH_ARM }, { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM" } },
  { SCMP_ARCH_X86, { SCMP_ARCH_X86 }, { "SCMP_ARCH_X86" } },
  { SCMP_ARCH_ARM, { SCMP_ARCH_ARM }, { "SCMP_ARCH_ARM" } },
  { SCMP_ARCH_PPC64LE, { SCMP_ARCH_PPC64LE }, { "SCMP_ARCH_PPC64LE" } },
  { SCMP_ARCH_S390X, { SCMP_ARCH_S390X, SCMP_ARCH_S390 }, { "SCMP_ARCH_S390X", "SCMP_ARCH_S390" } },
  { SCMP_ARCH_RISCV64, { SCMP_ARCH_RISCV64 }, { "SCMP_ARCH_RISCV64" } },
};

int
ocip_seccomp_default (struct ocip_seccomp_profile *ret, ocip_error_t *err)
{
  uint32_t native = seccomp_arch_native ();
  cleanup_strv char **arches = NULL;
  cleanup_strv char **syscalls = NULL;
  size_t h, i, a, n_arches = 0, n = 0;

  for (h = 0; h < sizeof host_arches / sizeof host_arches[0]; h++)
    if (host_arches[h].native == native)
      break;
  if (h == sizeof host_arches / sizeof host_arches[0])
    return ocip_error_fail (err, ENOTSUP, "no default seccomp profile for this architecture (seccomp token 0x%x)",
                           native);

  arches = xcalloc (4, sizeof (char *));
  for (a = 0; a < 3 && host_arches[h].names[a]; a++)
    arches[n_arches++] = xstrdup (host_arches[h].names[a]);

  /* A name kept must be a real syscall (a number >= 0, not one of libseccomp's negative
     pseudo-numbers) on at least one of the architectures; the runtime's libseccomp then
     knows it.  */
  syscalls = xcalloc (sizeof ocip_seccomp_allowed_syscalls / sizeof ocip_seccomp_allowed_syscalls[0],
                      sizeof (char *));
  for (i = 0; ocip_seccomp_allowed_syscalls[i]; i++)
    for (a = 0; a < n_arches; a++)
      if (seccomp_syscall_resolve_name_arch (host_arches[h].arches[a], ocip_seccomp_allowed_syscalls[i]) >= 0)
        {
          syscalls[n++] = xstrdup (ocip_seccomp_allowed_syscalls[i]);
          break;
        }

  ret->architectures = steal_pointer (&arches);
  ret->syscalls = steal_pointer (&syscalls);
  return 0;
}

void
ocip_seccomp_profile_clear (struct ocip_seccomp_profile *p)
{
  ocip_strv_free (p->architectures);
  ocip_strv_free (p->syscalls);
  p->architectures = p->syscalls = NULL;
}

/* The actions of the runtime-spec, by name: 0, -1 for an unknown name, -2 for an
   errnoRet out of its range (an errno: 0 to 4095; a ptrace message: 16 bits).  */
static int
parse_action (const char *name, int64_t errno_ret, bool has_errno_ret, uint32_t *ret)
{
  static const struct
  {
    const char *name;
    uint32_t action;
  } fixed[] = {
    { "SCMP_ACT_KILL", SCMP_ACT_KILL },
    { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
    { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
    { "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
    { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
    { "SCMP_ACT_LOG", SCMP_ACT_LOG },
    { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY },
  };
  size_t i;

  /* ERRNO and TRACE carry a 16-bit value; runc and crun default it to EPERM.  */
  if (strcmp (name, "SCMP_ACT_ERRNO") == 0)
    {
      if (has_errno_ret && (errno_ret < 0 || errno_ret > 4095))
        return -2;
      *ret = SCMP_ACT_ERRNO ((uint16_t) (has_errno_ret ? errno_ret : EPERM));
      return 0;
    }
  if (strcmp (name, "SCMP_ACT_TRACE") == 0)
    {
      if (has_errno_ret && (errno_ret < 0 || errno_ret > UINT16_MAX))
        return -2;
      *ret = SCMP_ACT_TRACE ((uint16_t) (has_errno_ret ? errno_ret : EPERM));
      return 0;
    }
  for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (strcmp (name, fixed[i].name) == 0)
      {
        *ret = fixed[i].action;
        return 0;
      }
  return -1;
}

static int
parse_op (const char *name, enum scmp_compare *ret)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },       { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE },       { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  size_t i;

  for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp (name, ops[i].name) == 0)
      {
        *ret = ops[i].op;
        return 0;
      }
  return -1;
}

/* The architectures libseccomp knows, to tell a syscall of another architecture (kept,
   as runc keeps it) from a name that is no syscall anywhere (a typo).  */
static const uint32_t every_arch[] = {
  SCMP_ARCH_X86,     SCMP_ARCH_X86_64,  SCMP_ARCH_X32,     SCMP_ARCH_ARM,         SCMP_ARCH_AARCH64,
  SCMP_ARCH_MIPS,    SCMP_ARCH_MIPS64,  SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPSEL,    SCMP_ARCH_MIPSEL64,
  SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC, SCMP_ARCH_PPC64,   SCMP_ARCH_PPC64LE,     SCMP_ARCH_S390,
  SCMP_ARCH_S390X,   SCMP_ARCH_PARISC,  SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64,
};

static bool
syscall_exists_somewhere (const char *name)
{
  size_t i;

  for (i = 0; i < sizeof every_arch / sizeof every_arch[0]; i++)
    if (seccomp_syscall_resolve_name_arch (every_arch[i], name) != __NR_SCMP_ERROR)
      return true;
  return false;
}

/* A JSON number as an unsigned 64-bit value (runtime-spec's uint64 "value"s may
   exceed INT64_MAX).  */
static int
get_u64 (const struct ocip_json_node *obj, const char *key, bool required, uint64_t *ret)
{
  const struct ocip_json_node *n = ocip_json_object_get (obj, key);
  const char *text;
  char *end;

  if (n == NULL)
    return required ? -1 : 0;
  if (ocip_json_type (n) != OCIP_JSON_NUMBER || (text = ocip_json_number_text (n)) == NULL || *text == '-')
    return -1;
  errno = 0;
  *ret = strtoull (text, &end, 10);
  return *end || errno ? -1 : 0;
}

/* Add the rule RULE (a member of "syscalls") to CTX for NAME, as runc does: the
   comparisons of "args" in one rule, or one rule per comparison when two test the
   same argument (libseccomp allows one test per argument in a rule).  */
static int
add_rule (scmp_filter_ctx ctx, uint32_t action, int nr, const char *name, const struct ocip_json_node *args,
          const char *path, ocip_error_t *err)
{
  size_t i, n = args ? ocip_json_array_len (args) : 0;
  cleanup_free struct scmp_arg_cmp *cmps = xcalloc (n + 1, sizeof *cmps);
  bool seen[6] = { 0 }, repeated = false;
  int r = 0;

  for (i = 0; i < n; i++)
    {
      const struct ocip_json_node *a = ocip_json_array_at (args, i);
      const char *op = NULL;
      uint64_t index = 0, value = 0, two = 0;
      ocip_error_t ignored = NULL;

      if (ocip_json_type (a) != OCIP_JSON_OBJECT || get_u64 (a, "index", true, &index) < 0 || index > 5
          || get_u64 (a, "value", true, &value) < 0 || get_u64 (a, "valueTwo", false, &two) < 0
          || ocip_json_get_string (a, "op", true, &op, &ignored) < 0)
        {
          ocip_error_release (&ignored);
          return ocip_error_fail (err, EINVAL,
                                  "seccomp profile '%s': syscall '%s': args[%zu] needs index (0-5), value, op", path,
                                  name, i);
        }
      cmps[i] = (struct scmp_arg_cmp){ .arg = (unsigned) index, .datum_a = value, .datum_b = two };
      if (parse_op (op, &cmps[i].op) < 0)
        return ocip_error_fail (err, EINVAL, "seccomp profile '%s': syscall '%s': unknown op '%s'", path, name, op);
      repeated = repeated || seen[index];
      seen[index] = true;
    }
  if (! repeated)
    r = seccomp_rule_add_array (ctx, action, nr, (unsigned) n, cmps);
  else
    for (i = 0; i < n && r == 0; i++)
      r = seccomp_rule_add_array (ctx, action, nr, 1, &cmps[i]);
  if (r < 0)
    return ocip_error_set (err, -r, "seccomp profile '%s': rule for syscall '%s'", path, name);
  return 0;
}

/* Build PROFILE's filter with libseccomp, without loading it, so that what a runtime
   would refuse (or silently ignore: a misspelt syscall) is an error now, when the
   bundle is made, rather than when the container starts.  */
static int
compile_profile (const struct ocip_json_node *profile, const char *path, ocip_error_t *err)
{
  static const char *const known_flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                             "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
  const struct ocip_json_node *arches = NULL, *syscalls = NULL, *flags = NULL;
  const char *default_name = NULL;
  int64_t default_errno = 0;
  uint32_t default_action;
  scmp_filter_ctx ctx = NULL;
  ocip_error_t e = NULL;
  size_t i, j;
  int r = 0;

  if (ocip_json_get_string (profile, "defaultAction", true, &default_name, &e) < 0
      || ocip_json_get_int64 (profile, "defaultErrnoRet", false, &default_errno, &e) < 0
      || ocip_json_get_array (profile, "architectures", false, &arches, &e) < 0
      || ocip_json_get_array (profile, "flags", false, &flags, &e) < 0
      || ocip_json_get_array (profile, "syscalls", false, &syscalls, &e) < 0)
    {
      r = ocip_error_fail (err, EINVAL, "seccomp profile '%s': %s", path, e->msg);
      ocip_error_release (&e);
      return r;
    }
  r = parse_action (default_name, default_errno, ocip_json_object_get (profile, "defaultErrnoRet") != NULL,
                    &default_action);
  if (r == -2)
    return ocip_error_fail (err, EINVAL, "seccomp profile '%s': defaultErrnoRet %lld is out of range", path,
                            (long long) default_errno);
  if (r < 0)
    return ocip_error_fail (err, EINVAL, "seccomp profile '%s': unknown defaultAction '%s'", path, default_name);
  r = 0;
  for (i = 0; flags && i < ocip_json_array_len (flags); i++)
    {
      const char *flag = ocip_json_string (ocip_json_array_at (flags, i));

      for (j = 0; flag && known_flags[j] && strcmp (flag, known_flags[j]) != 0; j++)
        ;
      if (flag == NULL || known_flags[j] == NULL)
        return ocip_error_fail (err, EINVAL, "seccomp profile '%s': unknown flag '%s'", path, flag ? flag : "?");
    }
  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return ocip_error_fail (err, EINVAL, "seccomp profile '%s': libseccomp refuses defaultAction '%s'", path,
                            default_name);
  for (i = 0; arches && i < ocip_json_array_len (arches); i++)
    {
      const char *name = ocip_json_string (ocip_json_array_at (arches, i));
      cleanup_free char *lower = NULL;
      uint32_t token;

      if (name == NULL || strncmp (name, "SCMP_ARCH_", 10) != 0)
        {
          r = ocip_error_fail (err, EINVAL, "seccomp profile '%s': unknown architecture '%s'", path,
                               name ? name : "?");
          goto out;
        }
      lower = xstrdup (name + 10);
      for (char *p = lower; *p; p++)
        *p = (char) (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
      token = seccomp_arch_resolve_name (lower);
      if (token == 0)
        {
          r = ocip_error_fail (err, EINVAL, "seccomp profile '%s': unknown architecture '%s'", path, name);
          goto out;
        }
      if ((r = seccomp_arch_add (ctx, token)) < 0 && r != -EEXIST)
        {
          r = ocip_error_set (err, -r, "seccomp profile '%s': architecture '%s'", path, name);
          goto out;
        }
      r = 0;
    }
  for (i = 0; syscalls && i < ocip_json_array_len (syscalls); i++)
    {
      const struct ocip_json_node *rule = ocip_json_array_at (syscalls, i), *names = NULL, *args = NULL;
      const char *action_name = NULL;
      int64_t errno_ret = 0;
      uint32_t action;

      if (ocip_json_type (rule) != OCIP_JSON_OBJECT || ocip_json_get_array (rule, "names", true, &names, &e) < 0
          || ocip_json_get_string (rule, "action", true, &action_name, &e) < 0
          || ocip_json_get_int64 (rule, "errnoRet", false, &errno_ret, &e) < 0
          || ocip_json_get_array (rule, "args", false, &args, &e) < 0)
        {
          r = ocip_error_fail (err, EINVAL, "seccomp profile '%s': syscalls[%zu]: %s", path, i,
                               e ? e->msg : "not an object");
          ocip_error_release (&e);
          goto out;
        }
      r = parse_action (action_name, errno_ret, ocip_json_object_get (rule, "errnoRet") != NULL, &action);
      if (r < 0)
        {
          if (r == -2)
            r = ocip_error_fail (err, EINVAL, "seccomp profile '%s': syscalls[%zu]: errnoRet %lld is out of range",
                                 path, i, (long long) errno_ret);
          else
            r = ocip_error_fail (err, EINVAL, "seccomp profile '%s': syscalls[%zu]: unknown action '%s'", path, i,
                                 action_name);
          goto out;
        }
      for (j = 0; j < ocip_json_array_len (names); j++)
        {
          const char *name = ocip_json_string (ocip_json_array_at (names, j));
          int nr;

          if (name == NULL)
            {
              r = ocip_error_fail (err, EINVAL, "seccomp profile '%s': syscalls[%zu]: a name is not a string", path,
                                   i);
              goto out;
            }
          nr = seccomp_syscall_resolve_name (name);
          if (nr == __NR_SCMP_ERROR)
            {
              if (syscall_exists_somewhere (name))
                continue; /* another architecture's: runtimes skip it on this one */
              r = ocip_error_fail (err, EINVAL, "seccomp profile '%s': unknown syscall '%s'", path, name);
              goto out;
            }
          /* A rule that does what the default does is refused by libseccomp and
             skipped by runtimes.  */
          if (action == default_action)
            continue;
          if ((r = add_rule (ctx, action, nr, name, args, path, err)) < 0)
            goto out;
        }
    }
out:
  seccomp_release (ctx);
  return r;
}

int
ocip_seccomp_load_file (const char *path, struct ocip_json **ret, ocip_error_t *err)
{
  /* A FIFO or a device given by mistake is refused without being opened.  */
  cleanup_free char *what = xasprintf ("seccomp profile '%s'", path);
  cleanup_close int fd = ocip_open_regular_at (AT_FDCWD, path, 0, what, err);
  cleanup_free char *buf = NULL;
  cleanup_json struct ocip_json *doc = NULL;
  size_t len = 0;
  int r;

  if (fd < 0)
    return fd;
  if ((r = ocip_read_regular_fd (fd, OCIP_LIMIT_JSON_DOCUMENT_SIZE, what, &buf, &len, err)) < 0)
    return r;
  if ((r = ocip_json_parse (buf, len, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, err)) < 0)
    return ocip_error_wrap (err, "seccomp profile '%s'", path);
  if (ocip_json_type (ocip_json_root (doc)) != OCIP_JSON_OBJECT)
    return ocip_error_fail (err, EINVAL, "seccomp profile '%s' is not a JSON object", path);
  if ((r = compile_profile (ocip_json_root (doc), path, err)) < 0)
    return r;
  *ret = steal_pointer (&doc);
  return 0;
}

/* What extraction never needs and an exploited parser would want: running programs,
   touching other processes, mounts and namespaces, the network, the kernel's keyring,
   modules and BPF.  */
static const char *const sandbox_denied[] = {
  "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "mount",
  "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
  "mount_setattr", "unshare", "setns", "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
  "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "init_module", "finit_module", "delete_module",
  "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "userfaultfd", "open_by_handle_at",
  "name_to_handle_at", "io_uring_setup", "iopl", "ioperm", "acct", "quotactl", "syslog", "personality", NULL,
};

int
ocip_seccomp_sandbox (ocip_error_t *err)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  const char *const *name;
  int r;

  if (ctx == NULL)
    return ocip_error_fail (err, ENOMEM, "create the sandbox's seccomp filter");
  /* The compat ABIs too, or a 32-bit execve would walk past the filter.  */
#if defined(__x86_64__)
  seccomp_arch_add (ctx, SCMP_ARCH_X86);
  seccomp_arch_add (ctx, SCMP_ARCH_X32);
#elif defined(__aarch64__)
  seccomp_arch_add (ctx, SCMP_ARCH_ARM);
#endif
  for (name = sandbox_denied; *name; name++)
    {
      int nr = seccomp_syscall_resolve_name (*name);
      if (nr == __NR_SCMP_ERROR)
        continue; /* not a syscall of this architecture */
      if ((r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), nr, 0)) < 0)
        {
          seccomp_release (ctx);
          return ocip_error_set (err, -r, "seccomp: deny '%s'", *name);
        }
    }
  r = seccomp_load (ctx);
  seccomp_release (ctx);
  if (r < 0)
    return ocip_error_set (err, -r, "load the sandbox's seccomp filter");
  return 0;
}
