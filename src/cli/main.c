/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep: global options, the command table with each command's usage, and the one place errors are printed. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/store.h>
#include <oci-prep/userns.h>

#include "cli.h"

static const struct
{
  const char *name;
  cli_handler handler;
  const char *summary;
  const char *usage; /* what follows "Usage: oci-prep NAME " */
  bool userns;       /* uses the store: an ordinary user runs it in a user namespace */
} commands[] = {
  { "bundle", cmd_bundle, "write BUNDLE/config.json and BUNDLE/rootfs for IMAGE (overlay; --flat: a copy)",
    "[--platform P] [--flat] [--force] [--jobs N] [--json] [--no-sandbox] [SPEC OPTIONS]\n"
    "       [--uidmap C:H:S]... [--gidmap C:H:S]... [--userns auto[:size=N]] IMAGE BUNDLE [-- ARGS...]\n\n"
    "SPEC OPTIONS: -t|--tty, --hostname NAME, --read-only, --cap-add CAP, --cap-drop CAP,\n"
    "  --seccomp default|unconfined|FILE, -e|--env KEY=VALUE, --annotation KEY=VALUE,\n"
    "  --cwd DIR, -u|--user USER[:GROUP], --entrypoint '[\"PROG\",\"ARG\"]'|PROG\n"
    "  (--entrypoint replaces the image's Entrypoint and drops its Cmd; ARGS after -- follow it;\n"
    "  without it, ARGS replace Entrypoint and Cmd)\n", true },
  { "config", cmd_config, "print the runtime config.json of IMAGE",
    "[--platform P] [--rootfs DIR] [--json] [SPEC OPTIONS] IMAGE\n\n"
    "SPEC OPTIONS: as for 'oci-prep bundle --help'.\n" },
  { "help", NULL, "show oci-prep's usage, or COMMAND's", "[COMMAND [SUBCOMMAND]]\n" },
  { "hook", cmd_hook, "runtime hook modes: precreate (stdin config -> stdout), poststop (stdin state)",
    "[--json] precreate|poststop\n", true },
  { "inspect", cmd_inspect, "show what IMAGE resolves to: manifest, config, layers, platform",
    "[--platform OS/ARCH[/VARIANT]] [--json] IMAGE\n" },
  { "load", cmd_load, "extract the layers of each IMAGE into the store",
    "[--platform P] [--jobs N] [--max-layer-size SIZE] [--max-entries N] [--json]\n"
    "       [--no-sandbox] IMAGE...\n", true },
  { "rm", cmd_rm, "unmount and remove BUNDLE, releasing its layers", "[-f|--force] [--json] BUNDLE...\n", true },
  { "store", cmd_store, "manage the shared layer store: ls, du, gc [--max-size SIZE] [--older-than AGE], fsck",
    "ls [--json]\n"
    "       oci-prep store du [--json]\n"
    "       oci-prep store gc [--max-size SIZE] [--older-than AGE] [-n|--dry-run] [--json]\n"
    "       oci-prep store fsck [--repair] [--deep] [--json]\n", true },
  { "verify", cmd_verify, "check digest and size of every blob reachable from LAYOUT or IMAGE",
    "[--jobs N] [--json] LAYOUT|IMAGE\n" },
};

static void
usage (FILE *out)
{
  size_t i;

  fprintf (out, "Usage: oci-prep [--store DIR] [--json] [--no-cache] [-q|-v] COMMAND [ARGS]\n\n"
                "IMAGE := [oci:]LAYOUT_DIR[:REF] | [oci:]LAYOUT_DIR@sha256:HEX\n\nCommands:\n");
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n'oci-prep COMMAND --help' shows a command's options. See oci-prep(1).\n");
}

int
cli_help (const char *command)
{
  size_t len = strcspn (command, " "), i;

  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strlen (commands[i].name) == len && strncmp (commands[i].name, command, len) == 0)
      {
        printf ("oci-prep %s: %s.\n\nUsage: oci-prep %s %s\nSee oci-prep(1).\n", commands[i].name, commands[i].summary,
                commands[i].name, commands[i].usage);
        return 0;
      }
  usage (stdout);
  return 0;
}

/* "oci-prep help [COMMAND [SUBCOMMAND]]".  */
static int
help_command (int argc, char **argv)
{
  cleanup_free char *name = NULL;
  size_t i;

  if (argc == 1)
    {
      usage (stdout);
      return 0;
    }
  if (argc > 3)
    return cli_usage_error ("help", "unexpected argument '%s'", argv[3]);
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      break;
  if (i == sizeof commands / sizeof commands[0])
    return cli_usage_error ("help", "unknown command '%s'", argv[1]);
  name = argc == 3 ? xasprintf ("%s %s", argv[1], argv[2]) : xstrdup (argv[1]);
  return cli_help (name);
}

/* Whether a command's arguments ask for its help: "--help" or "-h" anywhere before
   "--" (after it, words belong to the container's command), so that "oci-prep bundle
   IMG DIR --help" shows the usage as "oci-prep bundle --help" does, for every command
   alike, instead of each command's parser seeing it in its own place.  */
static bool
asks_for_help (int argc, char **argv)
{
  int i;

  for (i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        return false;
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        return true;
    }
  return false;
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
  cleanup_free char *default_store = NULL;
  struct rlimit nofile;
  ocip_error_t err = NULL;
  size_t i;
  int c, r;

  /* getopt's own messages would be a second line: every usage error is one line.  */
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:qvh", options, NULL)) != -1)
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
        g.no_cache = true;
        break;
      case 'h':
        usage (stdout);
        return 0;
      case 'V':
        printf ("oci-prep %s\n", PACKAGE_VERSION);
        return 0;
      default:
        return cli_bad_option (NULL, c, argv);
      }
  if (optind >= argc)
    return cli_usage_error (NULL, "missing COMMAND argument");
  /* Named once for every command: the verified-blob cache lives in the store.  */
  if (g.store == NULL)
    g.store = default_store = ocip_store_default_path ();
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
    return cli_usage_error (NULL, "unknown command '%s'", argv[optind]);

  argc -= optind;
  argv += optind;
  /* "store gc --help" shows the usage of store as a whole: its subcommands share it.  */
  if (asks_for_help (argc, argv))
    return cli_help (commands[i].name);
  if (commands[i].handler == NULL)
    return help_command (argc, argv);
  /* An ordinary user's store commands run as root of a user namespace of their own,
     which gives an image's owners the user's subordinate IDs.  After the default store
     is named (as this user's) and before any thread starts.  */
  if (commands[i].userns && ocip_userns_enter (&g.userns, &err) < 0)
    {
      cli_print_error (err->msg);
      ocip_error_release (&err);
      return 1;
    }
  optind = 0; /* getopt_long restarts for the command's own options */
  r = commands[i].handler (&g, argc, argv, &err);
  if (r == CLI_USAGE)
    return CLI_USAGE;
  if (r < 0)
    {
      cli_print_error (err->msg);
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
