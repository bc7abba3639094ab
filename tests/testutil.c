/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
/* Test helpers: child processes with captured output. */

#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

extern char **environ;

static char *
slurp_fd (int fd)
{
  size_t len = 0, cap = 4096;
  char *buf = malloc (cap);
  ssize_t n;

  FX_CHECK (buf != NULL);
  FX_CHECK (lseek (fd, 0, SEEK_SET) == 0);
  while ((n = read (fd, buf + len, cap - len - 1)) > 0)
    {
      len += n;
      if (cap - len < 2)
        {
          cap *= 2;
          buf = realloc (buf, cap);
          FX_CHECK (buf != NULL);
        }
    }
  FX_CHECK (n == 0);
  buf[len] = '\0';
  return buf;
}

static int
temp_fd (void)
{
  char name[] = "/tmp/ocip-test-out-XXXXXX";
  int fd = mkstemp (name);

  FX_CHECK (fd >= 0);
  unlink (name);
  return fd;
}

static void
run (struct tu_result *r, const char *path, char *const *argv)
{
  posix_spawn_file_actions_t fa;
  int out = temp_fd (), err = temp_fd (), status;
  pid_t pid;

  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, out, 1);
  posix_spawn_file_actions_adddup2 (&fa, err, 2);
  FX_CHECK (posix_spawn (&pid, path, &fa, NULL, argv, environ) == 0);
  posix_spawn_file_actions_destroy (&fa);
  FX_CHECK (waitpid (pid, &status, 0) == pid);
  r->status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  r->out = slurp_fd (out);
  r->err = slurp_fd (err);
  close (out);
  close (err);
}

void
tu_prep (struct tu_result *r, const char *const *args)
{
  /* Tests name their store with --store; one that forgets must not touch the machine's
     default store (and verify finds no store, so no cache, unless it is given one).  */
  setenv ("OCI_PREP_STORE", "/nonexistent/oci-prep-test-store", 0);
  const char *argv[64] = { OCIP_BINARY };
  size_t i;

  for (i = 0; args[i]; i++)
    {
      FX_CHECK (i + 2 < sizeof argv / sizeof argv[0]);
      argv[i + 1] = args[i];
    }
  run (r, OCIP_BINARY, (char *const *) argv);
}

void
tu_sh (struct tu_result *r, const char *fmt, ...)
{
  char *cmd;
  va_list ap;

  va_start (ap, fmt);
  FX_CHECK (vasprintf (&cmd, fmt, ap) >= 0);
  va_end (ap);
  run (r, "/bin/sh", (char *const[]){ "sh", "-c", cmd, NULL });
  free (cmd);
}

void
tu_result_free (struct tu_result *r)
{
  free (r->out);
  free (r->err);
  r->out = r->err = NULL;
}

bool
tu_have (const char *program)
{
  struct tu_result r;
  bool ok;

  tu_sh (&r, "command -v '%s'", program);
  ok = r.status == 0;
  tu_result_free (&r);
  return ok;
}

bool
tu_in_ci (void)
{
  const char *ci = getenv ("CI");
  return ci && *ci && strcmp (ci, "false") != 0;
}
