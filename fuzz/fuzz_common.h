/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the libFuzzer harnesses: oracles for the library's contracts, scratch directories. */
#ifndef OCIP_FUZZ_COMMON_H
#define OCIP_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <oci-prep/error.h>

/* The libFuzzer entry points every harness defines.  */
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* An oracle that failed: print why and abort, so that libFuzzer keeps the input as a
   crash and prints the stack.  */
#define FUZZ_CHECK(cond, ...)                                                                                          \
  do                                                                                                                   \
    {                                                                                                                  \
      if (! (cond))                                                                                                    \
        fuzz_fail (__FILE__, __LINE__, #cond, __VA_ARGS__);                                                            \
    }                                                                                                                  \
  while (0)

void fuzz_fail (const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__ ((noreturn, format (printf, 4, 5)));

/* The error contract of STYLE.md: a failing call returns a negative errno and sets
   *ERR with that class; a successful one leaves *ERR alone.  R is the call's return.
   Releases ERR.  Returns R.  With OCIP_FUZZ_VERBOSE set in the environment, prints
   every result and error message (to see what a seed reaches).  */
long fuzz_check_result (const char *what, long r, ocip_error_t *err);

/* A NUL-terminated copy of LEN bytes at DATA (cut at the first NUL), owned by the
   caller.  */
char *fuzz_strndup (const uint8_t *data, size_t len);

/* Create a scratch directory "<base>/ocip-fuzz-NAME.<pid>" (base: /dev/shm, else
   $TMPDIR or /tmp), removed again at exit; those of dead processes are removed first.  Returns its path (static storage) and an
   O_RDONLY|O_DIRECTORY fd to it in *RET_FD; aborts on failure.  */
const char *fuzz_scratch_dir (const char *name, int *ret_fd);

/* Write LEN bytes at DATA to NAME under DIRFD, replacing whatever NAME is (the tree of a
   directory included).  Aborts on failure: these are the harness' own files.  */
void fuzz_write_at (int dirfd, const char *name, const void *data, size_t len);

/* File descriptor leaks: fuzz_fd_mark() at the start of an input returns the lowest free
   fd; fuzz_check_fds(MARK) at its end checks that it did not grow (a leaked fd takes
   the lowest free slot).  Not a count of all fds: libFuzzer's symbolizer may open pipes
   between inputs.  */
int fuzz_fd_mark (void);
void fuzz_check_fds (int mark);

/* Make openat2(2) fail with ENOSYS in this process, so that ocip_fsroot resolves paths
   with its fallback walk.  Done when the environment has OCIP_FUZZ_NO_OPENAT2=1;
   returns whether it was.  */
bool fuzz_maybe_disable_openat2 (void);

#endif
