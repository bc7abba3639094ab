/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test containers run this (built static at test time): syscalls a seccomp profile may deny, and what they return. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* <linux/keyctl.h> values, spelled out so that the probe needs no kernel headers.  */
#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_SESSION_KEYRING -3

/* RET is evaluated (the syscall made) before the body runs, so errno is the syscall's.  */
static void
report (const char *name, long ret)
{
  printf ("%s ret=%ld errno=%d\n", name, ret < 0 ? -1L : ret, ret < 0 ? errno : 0);
}

int
main (void)
{
  /* Each of these needs no privilege, so without seccomp none of them fails with EPERM
     (bpf may, without CAP_BPF, when unprivileged bpf is disabled: not asserted then).  */
  report ("unshare", syscall (SYS_unshare, 0));
  report ("personality", syscall (SYS_personality, 0xffffffffUL));
  report ("keyctl", syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  report ("bpf", syscall (SYS_bpf, -1, NULL, 0));
  /* Allowed by every profile: proves the probe itself ran under the filter.  */
  report ("getppid", syscall (SYS_getppid) >= 0 ? 0 : -1);
  fflush (stdout);
  return 0;
}
