/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for option values shared by several commands. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>

#include "cli.h"

struct ocip_context *
cli_context (const struct cli_globals *g, bool with_store, unsigned jobs, struct ocip_load_progress *progress)
{
  struct ocip_context_options opts = {
    .store = with_store ? g->store : NULL,
    .no_cache = g->no_cache,
    .jobs = jobs,
    .progress = progress,
  };

  return ocip_context_new (&opts);
}

int
cli_parse_platform (const char *command, const char *value, struct cli_image_options *io)
{
  ocip_error_t err = NULL;
  int r;

  if (io->have_platform)
    ocip_platform_clear (&io->platform);
  io->have_platform = false;
  if (ocip_platform_parse (value, &io->platform, &err) < 0)
    {
      r = cli_usage_error (command, "%s", err->msg);
      ocip_error_release (&err);
      return r;
    }
  io->have_platform = true;
  return 0;
}

int
cli_parse_jobs (const char *command, const char *value, unsigned *ret)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul (value, &end, 10);
  if (*value < '0' || *value > '9' || *end || errno || v < 1 || v > OCIP_LIMIT_JOBS)
    return cli_usage_error (command, "--jobs takes a number from 1 to %d", OCIP_LIMIT_JOBS);
  *ret = v;
  return 0;
}

int
cli_parse_size (const char *command, const char *option, const char *value, uint64_t *ret)
{
  static const char suffixes[] = "KMGT";
  unsigned long long v;
  const char *s;
  char *end;

  errno = 0;
  v = strtoull (value, &end, 10);
  if (*value < '0' || *value > '9' || errno)
    return cli_usage_error (command, "%s takes a size such as 512M", option);
  if (*end)
    {
      if (end[1] || (s = strchr (suffixes, *end)) == NULL)
        return cli_usage_error (command, "%s takes a size such as 512M", option);
      for (int shift = 10 * (int) (s - suffixes + 1); shift > 0; shift -= 10)
        {
          if (v > (~0ull >> 10))
            return cli_usage_error (command, "%s: '%s' is too large", option, value);
          v <<= 10;
        }
    }
  *ret = v;
  return 0;
}

void
cli_strv_push (char ***v, const char *s)
{
  size_t n = 0;

  while (*v && (*v)[n])
    n++;
  *v = xreallocarray (*v, n + 2, sizeof **v);
  (*v)[n] = xstrdup (s);
  (*v)[n + 1] = NULL;
}

int
cli_spec_option (const char *command, int code, const char *value, struct ocip_spec_options *spec)
{
  switch (code)
    {
    case 't':
    case CLI_OPT_TTY:
      spec->tty = true;
      return 1;
    case CLI_OPT_HOSTNAME:
      spec->hostname = value;
      return 1;
    case CLI_OPT_READ_ONLY:
      spec->read_only = true;
      return 1;
    case CLI_OPT_CAP_ADD:
      cli_strv_push (&spec->cap_add, value);
      return 1;
    case CLI_OPT_CAP_DROP:
      cli_strv_push (&spec->cap_drop, value);
      return 1;
    case CLI_OPT_SECCOMP:
      spec->seccomp = value;
      return 1;
    case 'e':
      code = CLI_OPT_ENV;
      /* fall through */
    case CLI_OPT_ENV:
    case CLI_OPT_ANNOTATION:
      if (strchr (value, '=') == NULL || *value == '=')
        return cli_usage_error (command, "--%s takes KEY=VALUE, not '%s'",
                                code == CLI_OPT_ENV ? "env" : "annotation", value);
      cli_strv_push (code == CLI_OPT_ENV ? &spec->env : &spec->annotations, value);
      return 1;
    case CLI_OPT_CWD:
      spec->cwd = value;
      return 1;
    case 'u':
    case CLI_OPT_USER:
      spec->user = value;
      return 1;
    case CLI_OPT_ENTRYPOINT:
      {
        ocip_error_t err = NULL;
        int r;

        ocip_strv_free (spec->entrypoint);
        spec->entrypoint = NULL;
        if (ocip_spec_entrypoint_parse (value, &spec->entrypoint, &err) < 0)
          {
            r = cli_usage_error (command, "%s", err->msg);
            ocip_error_release (&err);
            return r;
          }
        return 1;
      }
    default:
      return 0;
    }
}

void
cli_spec_options_clear (struct ocip_spec_options *spec)
{
  ocip_strv_free (spec->cap_add);
  ocip_strv_free (spec->cap_drop);
  ocip_strv_free (spec->env);
  ocip_strv_free (spec->annotations);
  ocip_strv_free (spec->args);
  ocip_strv_free (spec->entrypoint);
  spec->cap_add = spec->cap_drop = spec->env = spec->annotations = spec->args = spec->entrypoint = NULL;
}
