/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the command handlers share: global options, the handler type, output helpers. */
#ifndef OCIP_CLI_H
#define OCIP_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <oci-prep/context.h>
#include <oci-prep/error.h>
#include <oci-prep/image.h>
#include "base/json.h"
#include <oci-prep/load.h>
#include <oci-prep/spec.h>

/* A handler's return for a usage error it already reported: exit status 2.  */
#define CLI_USAGE 2

struct cli_globals
{
  const char *store; /* never NULL: --store, OCI_PREP_STORE or the default */
  bool no_cache;
  bool json;
  int verbosity; /* -1 quiet, 0 normal, 1 verbose */
  bool userns;   /* oci-prep entered a user namespace of its own (ocip_userns_enter) */
};

/* Returns 0, CLI_USAGE, or a negative errno with *ERR set (printed once by main).  */
typedef int (*cli_handler) (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);

int cmd_bundle (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);
int cmd_config (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);
int cmd_hook (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);
int cmd_inspect (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);
int cmd_rm (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);
int cmd_store (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);
int cmd_load (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);
int cmd_verify (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err);

/* Options shared by the commands that resolve images.  */
struct cli_image_options
{
  bool have_platform;
  struct ocip_platform platform; /* owned: ocip_platform_clear */
};

/* The config.json options of bundle and config: add CLI_SPEC_OPTIONS to a command's
   option table and hand every option code to cli_spec_option().  */
enum
{
  CLI_OPT_TTY = 1000,
  CLI_OPT_HOSTNAME,
  CLI_OPT_READ_ONLY,
  CLI_OPT_CAP_ADD,
  CLI_OPT_CAP_DROP,
  CLI_OPT_SECCOMP,
  CLI_OPT_ENV,
  CLI_OPT_ANNOTATION,
  CLI_OPT_CWD,
  CLI_OPT_USER,
  CLI_OPT_ENTRYPOINT,
};

#define CLI_SPEC_OPTIONS                                                                                               \
  { "tty", no_argument, NULL, CLI_OPT_TTY }, { "hostname", required_argument, NULL, CLI_OPT_HOSTNAME },                \
      { "read-only", no_argument, NULL, CLI_OPT_READ_ONLY }, { "cap-add", required_argument, NULL, CLI_OPT_CAP_ADD },  \
      { "cap-drop", required_argument, NULL, CLI_OPT_CAP_DROP }, { "seccomp", required_argument, NULL, CLI_OPT_SECCOMP }, \
      { "env", required_argument, NULL, CLI_OPT_ENV }, { "annotation", required_argument, NULL, CLI_OPT_ANNOTATION },  \
      { "cwd", required_argument, NULL, CLI_OPT_CWD }, { "user", required_argument, NULL, CLI_OPT_USER },           \
      { "entrypoint", required_argument, NULL, CLI_OPT_ENTRYPOINT }

/* Returns 1 when CODE was a spec option (a CLI_OPT_* code, or the short options 't', 'e',
   'u'; stored in *SPEC, vectors owned by it), 0 if not, CLI_USAGE on a bad value.  */
int cli_spec_option (const char *command, int code, const char *value, struct ocip_spec_options *spec);
/* Append a copy of S to the NULL-terminated vector *V (NULL: a new one).  */
void cli_strv_push (char ***v, const char *s);
/* Free the vectors cli_spec_option() built.  */
void cli_spec_options_clear (struct ocip_spec_options *spec);

/* The context of a command: the global store (or none, for commands that only read
   an image: no verified-blob cache is read for them) and --no-cache, with JOBS and
   PROGRESS (may be NULL).  Owned by the caller (ocip_context_free).  */
struct ocip_context *cli_context (const struct cli_globals *g, bool with_store, unsigned jobs,
                                  struct ocip_load_progress *progress);

/* Option value parsers: 0 on success, else CLI_USAGE after printing the problem.  */
int cli_parse_platform (const char *command, const char *value, struct cli_image_options *io);
int cli_parse_jobs (const char *command, const char *value, unsigned *ret);
/* A byte count or count: digits with an optional K, M, G or T suffix (powers of 1024).  */
int cli_parse_size (const char *command, const char *option, const char *value, uint64_t *ret);

/* A usage error: one line on stderr, "oci-prep: COMMAND: MSG (see 'oci-prep COMMAND
   --help')" (without COMMAND when it is NULL), escaped as cli_escape does.  Returns
   CLI_USAGE.  */
int cli_usage_error (const char *command, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* The usage error for what getopt_long returned as CODE ('?' or ':'; the option string
   must start with ':' after any '+'), naming the option.  Returns CLI_USAGE.  */
int cli_bad_option (const char *command, int code, char **argv);
/* COMMAND's usage on stdout (for --help and -h); returns 0.  COMMAND is a name of the
   command table, optionally followed by a subcommand ("store gc").  */
int cli_help (const char *command);

/* Draw P as a progress bar on stderr after half a second, until stopped; nothing when
   stderr is not a terminal or with -q.  One bar at a time.  */
void cli_progress_start (const struct cli_globals *g, struct ocip_load_progress *p);
void cli_progress_stop (void);

/* The one escaping of human-readable output.  Text from an image, a layout, the store
   or the command line may hold terminal escape sequences and newlines that forge
   output lines (the terminal injection class of CVE-2021-25743).  S is written to OUT
   with: a backslash doubled; newline, carriage return and tab as backslash-n, -r, -t;
   other C0 bytes and DEL as backslash-xNN; each byte that is not part of well-formed
   UTF-8 as backslash-xNN; C1 controls, line and paragraph separators and bidirectional
   formatting characters as backslash-uXXXX; every other character, printable
   non-ASCII included, as is.  The ASCII characters of ALSO (may be NULL) get a
   backslash before them.  The result is one line whatever S holds, and two different
   S never look the same.  --json output never goes through this: JSON strings carry
   the exact bytes.  */
void cli_escape (FILE *out, const char *s, const char *also);
/* printf to OUT with all of the formatted text escaped (cli_escape); cli_line ends it
   with a newline.  Every human-readable line is written by these, so FMT holds no
   newline of its own.  */
void cli_print (FILE *out, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void cli_line (FILE *out, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* One error line on stderr: "oci-prep: MSG", escaped.  MSG is an error's whole message:
   the library names the cause in it once (ocip_error_set adds a system error's
   strerror), so nothing is appended here.  */
void cli_print_error (const char *msg);
/* One warning line on stderr: "oci-prep: warning: MSG", escaped.  */
void cli_print_warning (const char *msg);
/* One warning line naming the image labels ocip_spec_generate left out of the
   annotations (each escaped); nothing for an empty or NULL list.  */
void cli_warn_dropped_labels (char *const *keys);
/* One warning line naming the device nodes extraction skipped for a user's store
   (ocip_load_layer.skipped_devices); nothing for an empty or NULL list.  */
void cli_warn_skipped_devices (char *const *paths);

/* Write GEN's document to stdout.  */
int cli_print_json (struct ocip_json_gen *gen, ocip_error_t *err);

#endif
