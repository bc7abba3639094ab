/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep hook precreate|poststop: the runtime hook modes, stdin to stdout. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/hook.h>

#include "cli.h"

/* Hook input: the whole of stdin, at most 16 MiB.  */
#define HOOK_INPUT_LIMIT (16u * 1024 * 1024)

static int
read_stdin (char **ret, size_t *ret_len, ocip_error_t *err)
{
  size_t len = 0, cap = 65536;
  char *buf = xmalloc (cap + 1);
  ssize_t n;

  for (;;)
    {
      if (len == cap)
        {
          /* One byte of room past the limit tells "exactly the limit" from "over".  */
          cap = cap * 2 > HOOK_INPUT_LIMIT ? HOOK_INPUT_LIMIT + 1 : cap * 2;
          buf = xrealloc (buf, cap + 1);
        }
      n = read (STDIN_FILENO, buf + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          free (buf);
          return ocip_error_set (err, saved, "read the hook input");
        }
      if (n == 0)
        break;
      len += n;
      if (len > HOOK_INPUT_LIMIT)
        {
          free (buf);
          return ocip_error_fail (err, E2BIG, "hook input is over %u bytes", HOOK_INPUT_LIMIT);
        }
    }
  buf[len] = '\0';
  *ret = buf;
  *ret_len = len;
  return 0;
}

int
cmd_hook (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  cleanup_context struct ocip_context *ctx = cli_context (g, true, 0, NULL);
  cleanup_free char *in = NULL;
  cleanup_free char *out = NULL;
  cleanup_strv char **dropped = NULL;
  size_t in_len = 0, out_len = 0;
  int r;

  if (argc == 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    return cli_help ("hook");
  /* Accepted as by every command: precreate's output is JSON already, and poststop
     prints nothing (a runtime does not read a hook's output).  */
  if (argc >= 2 && strcmp (argv[1], "--json") == 0)
    argc--, argv++;
  if (argc < 2)
    return cli_usage_error ("hook", "missing MODE argument: precreate or poststop");
  if (strcmp (argv[1], "precreate") != 0 && strcmp (argv[1], "poststop") != 0)
    return cli_usage_error ("hook", "unknown mode '%s': expected precreate or poststop", argv[1]);
  if (argc > 2)
    return cli_usage_error ("hook", "unexpected argument '%s'", argv[2]);
  if ((r = read_stdin (&in, &in_len, err)) < 0)
    return r;
  if (strcmp (argv[1], "poststop") == 0)
    return ocip_hook_poststop (ctx, in, in_len, err);
  if ((r = ocip_hook_precreate (ctx, in, in_len, ".", &out, &out_len, &dropped, err)) < 0)
    return r;
  cli_warn_dropped_labels (dropped);
  if (fwrite (out, 1, out_len, stdout) != out_len)
    return ocip_error_set (err, errno, "write to stdout");
  return 0;
}
