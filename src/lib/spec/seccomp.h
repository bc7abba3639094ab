/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The seccomp profile of config.json: the built-in default allow-list, or a caller's file. */
#ifndef OCIP_SECCOMP_H
#define OCIP_SECCOMP_H

#include <stdbool.h>

#include <oci-prep/error.h>
#include "base/json.h"

/* The default profile's defaultAction and defaultErrnoRet: EPERM for everything that is
   not allowed.  */
#define OCIP_SECCOMP_DEFAULT_ACTION "SCMP_ACT_ERRNO"
#define OCIP_SECCOMP_DEFAULT_ERRNO 1

/* The built-in allow-list, before filtering per architecture: syscall names,
   NULL-terminated.  */
extern const char *const ocip_seccomp_allowed_syscalls[];

struct ocip_seccomp_profile
{
  char **architectures; /* "SCMP_ARCH_X86_64", ...: the host's, native first */
  char **syscalls;      /* the allowed names that exist on at least one of them */
};

/* The default profile for the host: its architectures (x86_64: X86_64, X86, X32;
   aarch64: AARCH64, ARM; others: the native one and its compat ABI when there is one),
   and the names of ocip_seccomp_allowed_syscalls that are a real syscall on at least one
   of them, so a runtime never meets a name its libseccomp cannot resolve.  ENOTSUP when
   the host architecture has no known seccomp name.  *RET is owned by the caller
   (ocip_seccomp_profile_clear()).  */
int ocip_seccomp_default (struct ocip_seccomp_profile *ret, ocip_error_t *err);
void ocip_seccomp_profile_clear (struct ocip_seccomp_profile *p);

#define cleanup_seccomp_profile __attribute__ ((cleanup (ocip_seccomp_profile_clear)))

/* Read the caller's profile at PATH (a trusted path: symlinks are followed): it must be
   a regular file of at most OCIP_LIMIT_JSON_DOCUMENT_SIZE bytes (EINVAL / E2BIG) holding
   a JSON object (EINVAL) that libseccomp compiles into a filter, as a runtime would
   (not loaded): an unknown defaultAction, action, op, flag or architecture, a syscall
   name that is a syscall on no architecture libseccomp knows, or malformed args are
   EINVAL naming them, so the mistake shows when the bundle is made.  Names of another
   architecture's syscalls are accepted (runtimes skip them).  *RET is the parsed
   document, owned by the caller.  */
int ocip_seccomp_load_file (const char *path, struct ocip_json **ret, ocip_error_t *err);

/* Install in this process (and the threads it creates afterwards) a filter that makes
   execve, ptrace, mount and namespace calls, sockets, bpf, the keyring, module loading
   and the like fail with EPERM, for every ABI of the host.  Needs no_new_privs or
   CAP_SYS_ADMIN.  Irreversible.  */
int ocip_seccomp_sandbox (ocip_error_t *err);

#endif
