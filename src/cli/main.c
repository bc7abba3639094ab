/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep: global options, the command table, and the one place errors are printed. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <oci-prep/cache.h>
#include <oci-prep/cleanup.h>

#include "cli.h"

static const struct
{
  const char *name;
  cli_handler handler;
  const char *summary;
} commands[] = {
  { "bundle", cmd_bundle, "write BUNDLE/config.json and BUNDLE/rootfs for IMAGE (overlay; --flat: a copy)" },
  { "config", cmd_config, "print the runtime config.json of IMAGE" },
  { "hook", cmd_hook, "runtime hook modes: precreate (stdin config -> stdout), poststop (stdin state)" },
  { "inspect", cmd_inspect, "show what IMAGE resolves to: manifest, config, layers, platform" },
  { "load", cmd_load, "extract the layers of each IMAGE into the store" },
  { "rm", cmd_rm, "unmount and remove BUNDLE, releasing its layers" },
  { "store", cmd_store, "manage the shared layer store: ls, du, gc [--max-size SIZE] [--older-than AGE], fsck" },
  { "verify", cmd_verify, "check digest and size of every blob reachable from LAYOUT or IMAGE" },
};

static void
usage (FILE *out)
{
  size_t i;

  fprintf (out, "Usage: oci-prep [--store DIR] [--json] [--no-cache] [-q|-v] COMMAND [ARGS]\n\n"
                "IMAGE := [oci:]LAYOUT_DIR[:REF] | [oci:]LAYOUT_DIR@sha256:HEX\n\nCommands:\n");
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nSee oci-prep(1).\n");
}

int
cli_usage_error (const char *command, const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "oci-prep %s: ", command);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nTry 'oci-prep --help'.\n");
  return CLI_USAGE;
}

/* Messages carry names from the image: control bytes (terminal escapes, newlines that
   would break the one-line rule) are printed as \xNN.  */
static void
print_escaped (FILE *out, const char *s)
{
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (c < 0x20 || c == 0x7f)
        fprintf (out, "\\x%02x", c);
      else
        fputc (c, out);
    }
}

void
cli_print_error (const char *msg, int status)
{
  fputs ("oci-prep: ", stderr);
  print_escaped (stderr, msg);
  if (status)
    fprintf (stderr, ": %s", strerror (status));
  fputc ('\n', stderr);
}

void
cli_warn_dropped_labels (char *const *keys)
{
  size_t i;

  if (keys == NULL || keys[0] == NULL)
    return;
  fputs ("oci-prep: warning: image labels not copied to annotations (a runtime acts on them; "
         "--annotation sets them):",
         stderr);
  for (i = 0; keys[i]; i++)
    {
      fputs (i ? ", '" : " '", stderr);
      print_escaped (stderr, keys[i]);
      fputc ('\'', stderr);
    }
  fputc ('\n', stderr);
}

int
cli_print_json (struct ocip_json_gen *gen, ocip_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  int r;

  if ((r = ocip_json_gen_finish (gen, &text, &len, err)) < 0)
    return r;
  if (fwrite (text, 1, len, stdout) != len)
    return ocip_error_set (err, errno, "write to stdout");
  return 0;
}

int
main (int argc, char **argv)
{
  static const struct option options[] = {
    { "store", required_argument, NULL, 's' },
    { "json", no_argument, NULL, 'j' },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "no-cache", no_argument, NULL, 'N' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  struct cli_globals g = { .store = getenv ("OCI_PREP_STORE") };
  struct rlimit nofile;
  ocip_error_t err = NULL;
  size_t i;
  int c, r;

  while ((c = getopt_long (argc, argv, "+qvh", options, NULL)) != -1)
    switch (c)
      {
      case 's':
        g.store = optarg;
        break;
      case 'j':
        g.json = true;
        break;
      case 'q':
        g.verbosity = -1;
        break;
      case 'v':
        g.verbosity = 1;
        break;
      case 'N':
        ocip_cache_set_enabled (false);
        break;
      case 'h':
        usage (stdout);
        return 0;
      case 'V':
        printf ("oci-prep %s\n", PACKAGE_VERSION);
        return 0;
      default:
        usage (stderr);
        return CLI_USAGE;
      }
  if (optind >= argc)
    {
      usage (stderr);
      return CLI_USAGE;
    }
  /* Walks of deep trees (up to 2048 levels within the path limit) hold a few fds per
     level: take the soft limit up to the hard one, as container engines do.  */
  if (getrlimit (RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max)
    {
      nofile.rlim_cur = nofile.rlim_max;
      setrlimit (RLIMIT_NOFILE, &nofile);
    }
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (argv[optind], commands[i].name) == 0)
      break;
  if (i == sizeof commands / sizeof commands[0])
    {
      fprintf (stderr, "oci-prep: unknown command '%s'\n", argv[optind]);
      usage (stderr);
      return CLI_USAGE;
    }

  argc -= optind;
  argv += optind;
  optind = 0; /* getopt_long restarts for the command's own options */
  r = commands[i].handler (&g, argc, argv, &err);
  if (r == CLI_USAGE)
    return CLI_USAGE;
  if (r < 0)
    {
      cli_print_error (err->msg, err->status);
      ocip_error_release (&err);
      return 1;
    }
  if (fflush (stdout) != 0)
    {
      perror ("oci-prep: write to stdout");
      return 1;
    }
  return 0;
}
