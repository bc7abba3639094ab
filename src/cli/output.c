/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How human-readable text leaves oci-prep: every line escaped by one function, errors one line each. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oci-prep/cleanup.h>

#include "cli.h"

/* Length of the well-formed UTF-8 sequence at S (RFC 3629: no overlong forms, no
   surrogates, nothing past U+10FFFF) with its code point in *CP, or 0 when S does not
   start one.  S is NUL-terminated, so a truncated sequence stops at the NUL.  */
static size_t
utf8_sequence (const unsigned char *s, uint32_t *cp)
{
  size_t n, i;
  uint32_t v;

  if (s[0] < 0x80)
    n = 1, v = s[0];
  else if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2, v = s[0] & 0x1f;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3, v = s[0] & 0x0f;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4, v = s[0] & 0x07;
  else
    return 0;
  for (i = 1; i < n; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      v = (v << 6) | (s[i] & 0x3f);
    }
  if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) || (v >= 0xd800 && v <= 0xdfff))
    return 0;
  *cp = v;
  return n;
}

/* Printable code points that still act on a terminal or on how a line reads: the C1
   controls (U+009B is CSI on terminals that honour 8-bit controls), the line and
   paragraph separators, and the bidirectional formatting characters that reorder what
   is shown (the Trojan Source class, CVE-2021-42574).  */
static bool
is_invisible_control (uint32_t cp)
{
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e)
         || (cp >= 0x2066 && cp <= 0x2069);
}

void
cli_escape (FILE *out, const char *s, const char *also)
{
  const unsigned char *p = (const unsigned char *) s;
  uint32_t cp;
  size_t n;

  while (*p)
    {
      n = utf8_sequence (p, &cp);
      if (n == 0)
        {
          fprintf (out, "\\x%02x", *p);
          p++;
          continue;
        }
      if (n > 1)
        {
          if (is_invisible_control (cp))
            fprintf (out, "\\u%04x", (unsigned) cp);
          else
            fwrite (p, 1, n, out);
          p += n;
          continue;
        }
      switch (*p)
        {
        case '\\':
          fputs ("\\\\", out);
          break;
        case '\n':
          fputs ("\\n", out);
          break;
        case '\r':
          fputs ("\\r", out);
          break;
        case '\t':
          fputs ("\\t", out);
          break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            fprintf (out, "\\x%02x", *p);
          else if (also && strchr (also, *p))
            fprintf (out, "\\%c", *p);
          else
            fputc (*p, out);
        }
      p++;
    }
}

static void
vprint (FILE *out, bool newline, const char *fmt, va_list ap)
{
  cleanup_free char *text = NULL;

  cleanup_free char *escaped = NULL;
  size_t len = 0;
  FILE *buf;

  if (vasprintf (&text, fmt, ap) < 0)
    abort ();
  /* Escaped into memory, then written at once: stderr is unbuffered, and a byte at a
     time would be a system call per byte of an image's long names.  */
  buf = open_memstream (&escaped, &len);
  if (buf == NULL)
    abort ();
  cli_escape (buf, text, NULL);
  if (newline)
    fputc ('\n', buf);
  if (fclose (buf) != 0)
    abort ();
  fwrite (escaped, 1, len, out);
}

void
cli_print (FILE *out, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vprint (out, false, fmt, ap);
  va_end (ap);
}

void
cli_line (FILE *out, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vprint (out, true, fmt, ap);
  va_end (ap);
}

void
cli_print_error (const char *msg)
{
  cli_line (stderr, "oci-prep: %s", msg);
}

void
cli_print_warning (const char *msg)
{
  cli_line (stderr, "oci-prep: warning: %s", msg);
}

int
cli_usage_error (const char *command, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  if (command)
    cli_line (stderr, "oci-prep: %s: %s (see 'oci-prep %s --help')", command, msg, command);
  else
    cli_line (stderr, "oci-prep: %s (see 'oci-prep --help')", msg);
  return CLI_USAGE;
}

int
cli_bad_option (const char *command, int code, char **argv)
{
  /* getopt's own messages are off (opterr = 0): they would be a second line.  With ':'
     leading the option string, a missing value is ':'; anything else is unknown.  The
     offending word is argv[optind - 1] for long options and for a short one that ends
     its word; inside a cluster ("-qx") only optopt names it.  */
  const char *word = optind > 0 ? argv[optind - 1] : "";

  const char *eq = strchr (word, '=');

  if (code == ':')
    return cli_usage_error (command, "option '%s' needs a value", word);
  if (strncmp (word, "--", 2) == 0 && eq && optopt != 0)
    return cli_usage_error (command, "option '%.*s' takes no value", (int) (eq - word), word);
  if (strncmp (word, "--", 2) == 0 || optopt == 0)
    return cli_usage_error (command, "unknown option '%s'", word);
  return cli_usage_error (command, "unknown option '-%c'", optopt);
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

/* Names a warning lists; the rest are counted.  */
#define WARNING_NAMES 8

/* One warning line "WHAT: 'a', 'b' and 3 more" for KEYS; nothing for none.  */
static void
warn_names (const char *what, char *const *keys)
{
  cleanup_free char *list = NULL;
  size_t len = 0, i;
  FILE *f;

  if (keys == NULL || keys[0] == NULL)
    return;
  f = open_memstream (&list, &len);
  if (f == NULL)
    abort ();
  for (i = 0; keys[i] && i < WARNING_NAMES; i++)
    fprintf (f, "%s'%s'", i ? ", " : "", keys[i]);
  if (keys[i])
    {
      size_t more = 0;

      while (keys[i + more])
        more++;
      fprintf (f, " and %zu more", more);
    }
  if (fclose (f) != 0)
    abort ();
  cli_line (stderr, "oci-prep: warning: %s: %s", what, list);
}

void
cli_warn_dropped_labels (char *const *keys)
{
  warn_names ("image labels not copied to annotations (a runtime acts on them; --annotation sets them)", keys);
}

void
cli_warn_skipped_devices (char *const *paths)
{
  warn_names ("device nodes not created (a user namespace cannot make them; the runtime provides /dev)", paths);
}
