/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helpers: run the built oci-prep binary or a shell command and capture what it says. */
#ifndef OCIP_TESTS_TESTUTIL_H
#define OCIP_TESTS_TESTUTIL_H

#include <stdbool.h>

struct tu_result
{
  int status; /* exit status, or 128 + signal */
  char *out;  /* stdout, NUL-terminated */
  char *err;  /* stderr, NUL-terminated */
};

/* Run the oci-prep binary under test with the NULL-terminated ARGS (without argv[0]).  */
void tu_prep (struct tu_result *r, const char *const *args);
#define TU_PREP(r, ...) tu_prep ((r), (const char *const[]){ __VA_ARGS__, NULL })
/* Run "sh -c CMD" with stdout and stderr captured.  */
void tu_sh (struct tu_result *r, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void tu_result_free (struct tu_result *r);

/* Whether PROGRAM is on PATH.  */
bool tu_have (const char *program);
/* In CI (CI=true) a missing capability is a failure, never a skip.  */
bool tu_in_ci (void);

#endif
