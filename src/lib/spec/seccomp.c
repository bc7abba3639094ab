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
