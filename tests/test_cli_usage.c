/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line as a user meets it: help for every command, --json for every command, error lines, --entrypoint. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

static char *tmp;
static char *layout;
static char *store;

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
}

/* Strings the assertions build inline, freed at teardown (an assertion that fails
   ends the test before any free after it).  */
static char *kept[32];
static size_t n_kept;

static char *
keep (char *s)
{
  cr_assert_lt (n_kept, sizeof kept / sizeof kept[0]);
  kept[n_kept++] = s;
  return s;
}

static void
teardown (void)
{
  while (n_kept > 0)
    free (kept[--n_kept]);
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (cli_usage, .init = setup, .fini = teardown);

/* Every command of the table, with arguments that would be valid before a --help.  */
static const char *const commands[][4] = {
  { "bundle", "img", "dir", NULL }, { "config", "img", NULL }, { "hook", "precreate", NULL },
  { "inspect", "img", NULL },       { "load", "a", "b", NULL },  { "rm", "dir", NULL },
  { "store", "gc", NULL },          { "verify", "img", NULL },   { "help", NULL },
};

/* The usage "oci-prep NAME --help" prints.  */
static char *
help_of (const char *name)
{
  struct tu_result r;
  char *out;

  TU_PREP (&r, name, "--help");
  cr_assert_eq (r.status, 0, "%s --help: exit %d: %s", name, r.status, r.err);
  out = strdup (r.out);
  tu_result_free (&r);
  return out;
}

Test (cli_usage, help_command_prints_the_commands_usage)
{
  struct tu_result r;
  size_t i;

  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    {
      char *want = help_of (commands[i][0]);
      char *head = tu_fmt ("oci-prep %s: ", commands[i][0]);

      TU_PREP (&r, "help", commands[i][0]);
      cr_assert_eq (r.status, 0, "help %s: exit %d: %s", commands[i][0], r.status, r.err);
      cr_assert_str_eq (r.err, "");
      cr_assert_str_eq (r.out, want, "help %s", commands[i][0]);
      cr_assert (strncmp (r.out, head, strlen (head)) == 0, "help %s: %s", commands[i][0], r.out);
      tu_result_free (&r);
      free (want);
      free (head);
    }
  /* "help" alone is oci-prep's own usage, as --help is.  */
  TU_PREP (&r, "help");
  cr_assert_eq (r.status, 0);
  cr_assert (strncmp (r.out, "Usage: oci-prep ", 16) == 0, "%s", r.out);
  cr_assert (strstr (r.out, "\n  help "), "help is not listed: %s", r.out);
  tu_result_free (&r);
  TU_PREP (&r, "help", "store", "gc");
  cr_assert_eq (r.status, 0);
  cr_assert (strstr (r.out, "store gc [--max-size SIZE]"), "%s", r.out);
  tu_result_free (&r);
}

Test (cli_usage, help_anywhere_before_the_double_dash)
{
  struct tu_result r;
  size_t i, n;

  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    {
      const char *args[8] = { 0 };
      char *want = help_of (commands[i][0]);

      for (n = 0; commands[i][n]; n++)
        args[n] = commands[i][n];
      args[n] = "--help";
      tu_prep (&r, args);
      cr_assert_eq (r.status, 0, "%s ... --help: exit %d: %s", commands[i][0], r.status, r.err);
      cr_assert_str_eq (r.err, "");
      cr_assert_str_eq (r.out, want, "%s ... --help", commands[i][0]);
      tu_result_free (&r);
      free (want);
    }
  /* After --, it is the container's argument.  */
  TU_PREP (&r, "bundle", "nowhere", "dir", "--", "--help");
  cr_assert_eq (r.status, 1, "%s", r.out);
  tu_result_free (&r);
}

Test (cli_usage, help_of_an_unknown_command_is_a_usage_error)
{
  struct tu_result r;

  TU_PREP (&r, "help", "frob");
  cr_assert_eq (r.status, 2);
  cr_assert_str_eq (r.err, "oci-prep: help: unknown command 'frob' (see 'oci-prep help --help')\n");
  cr_assert_str_eq (r.out, "");
  tu_result_free (&r);
}

/* The IMAGE of the simple image.  */
static char *
simple_image (void)
{
  struct fx_desc m;

  fx_simple_image_ex (layout, "latest", &m);
  return tu_fmt ("%s:latest", layout);
}

Test (cli_usage, rm_json_names_what_it_removed)
{
  char *img = simple_image (), *bundle = tu_fmt ("%s/b", tmp), *id;
  struct tu_result r;

  TU_PREP_STORE (&r, store, "--json", "bundle", img, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  id = strstr (r.out, "\"id\"");
  cr_assert_not_null (id, "%s", r.out);
  id = strndup (id, strchr (id, ',') - id);
  tu_result_free (&r);

  TU_PREP_STORE (&r, store, "rm", "--json", bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "\"removed\""), "%s", r.out);
  cr_assert (strstr (r.out, id), "rm --json does not name %s: %s", id, r.out);
  cr_assert (strstr (r.out, keep (tu_fmt ("\"bundle\": \"%s\"", bundle))), "%s", r.out);
  cr_assert (strstr (r.out, "\"layers\": 2"), "%s", r.out);
  cr_assert (strstr (r.out, "\"rootfs\": \"overlay\""), "%s", r.out);
  cr_assert_eq (tu_count_pins (store), 0);
  tu_result_free (&r);
  free (id);
  free (img);
  free (bundle);
}

Test (cli_usage, rm_without_json_prints_nothing)
{
  char *img = simple_image (), *bundle = tu_fmt ("%s/b", tmp);
  struct tu_result r;

  TU_PREP_STORE (&r, store, "-q", "bundle", img, bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "rm", bundle);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_str_eq (r.out, "");
  tu_result_free (&r);
  free (img);
  free (bundle);
}

Test (cli_usage, every_command_accepts_json)
{
  char *img = simple_image ();
  struct tu_result r;

  TU_PREP (&r, "config", "--json", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert (strstr (r.out, "\"ociVersion\""), "%s", r.out);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "inspect", "--json", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "verify", "--json", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "load", "--json", img);
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "store", "ls", "--json");
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  free (img);
}

/* ---- error lines: the object and the cause, once ---- */

Test (cli_usage, a_stated_cause_gets_no_errno_text)
{
  char *img;
  struct tu_result r;

  free (simple_image ());
  img = keep (tu_fmt ("%s:v2", layout));
  TU_PREP (&r, "inspect", img);
  tu_assert_error (&r, NULL);
  cr_assert_str_eq (r.err, keep (tu_fmt ("oci-prep: image '%s': ref 'v2' not found in '%s' (available: latest)\n", img, layout)));
  tu_result_free (&r);
}

Test (cli_usage, a_system_cause_is_named_once)
{
  char *missing = tu_fmt ("%s/nothing-here", tmp);
  struct tu_result r;

  TU_PREP (&r, "inspect", missing);
  tu_assert_error (&r, "No such file or directory\n");
  cr_assert_eq (tu_count (r.err, "No such file or directory"), 1, "%s", r.err);
  cr_assert (strstr (r.err, "nothing-here"), "the object is not named: %s", r.err);
  tu_result_free (&r);
  free (missing);
}

Test (cli_usage, a_digest_mismatch_says_so_once)
{
  struct fx_desc m;
  char *path;
  struct tu_result r;

  fx_simple_image_ex (layout, "latest", &m);
  path = fx_blob_path (layout, m.digest);
  /* Same size, other bytes.  */
  {
    size_t len;
    char *doc = fx_read_file (path, &len);
    doc[len - 1] = doc[len - 1] == ' ' ? '\n' : ' ';
    fx_write_file (path, doc, len);
    free (doc);
  }
  TU_PREP (&r, "inspect", layout);
  tu_assert_error (&r, "digest mismatch");
  cr_assert (! strstr (r.err, "Bad message"), "%s", r.err);
  tu_result_free (&r);
  free (path);
}

Test (cli_usage, a_missing_blob_says_so_once)
{
  struct fx_desc m;
  char *path;
  struct tu_result r;

  fx_simple_image_ex (layout, "latest", &m);
  path = fx_blob_path (layout, m.digest);
  cr_assert_eq (unlink (path), 0);
  TU_PREP (&r, "inspect", layout);
  tu_assert_error (&r, "': missing from the layout\n");
  tu_result_free (&r);
  free (path);
}

/* ---- --entrypoint ---- */

/* A one-layer image with Entrypoint ["/ep","x"] and Cmd ["c1","c2"], as "latest".  */
static char *
entrypoint_image (void)
{
  struct fx_tar *t = fx_tar_new ();
  struct fx_image im = { .dir = layout, .config = "{\"Entrypoint\":[\"/ep\",\"x\"],\"Cmd\":[\"c1\",\"c2\"]}" };
  struct fx_index_entry e = { .ref = "latest" };
  struct fx_layer layer;
  void *tar;
  size_t len;

  fx_tar_file (t, "a", 0644, "a");
  fx_tar_finish (t, &tar, &len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = len };
  im.layers = &layer;
  im.n_layers = 1;
  fx_layout_init (layout);
  fx_image_write (&im, &e.desc);
  fx_index_write (layout, &e, 1);
  free (tar);
  return tu_fmt ("%s:latest", layout);
}

/* process.args of "oci-prep config ARGS... IMG" (kept: freed at teardown).  */
static char *
config_args (const char *img, const char *const *opts)
{
  const char *argv[10] = { "config" };
  char *file = tu_fmt ("%s/config.json", tmp), *args;
  struct tu_result r;
  size_t n = 1;

  for (; *opts; opts++)
    argv[n++] = *opts;
  argv[n++] = img;
  tu_prep (&r, argv);
  cr_assert_eq (r.status, 0, "%s", r.err);
  fx_write_file (file, r.out, strlen (r.out));
  tu_result_free (&r);
  args = keep (tu_json_at (file, "process/args"));
  free (file);
  return args;
}

Test (cli_usage, entrypoint_json_array_replaces_entrypoint_and_drops_cmd)
{
  char *img = entrypoint_image ();

  cr_assert_str_eq (config_args (img, (const char *const[]){ NULL }), "[\"/ep\",\"x\",\"c1\",\"c2\"]");
  cr_assert_str_eq (config_args (img, (const char *const[]){ "--entrypoint", "[\"/bin/sh\",\"-c\",\"a b\"]", NULL }),
                    "[\"/bin/sh\",\"-c\",\"a b\"]");
  free (img);
}

Test (cli_usage, entrypoint_string_is_one_program)
{
  char *img = entrypoint_image ();

  cr_assert_str_eq (config_args (img, (const char *const[]){ "--entrypoint", "/bin/true --x", NULL }),
                    "[\"/bin/true --x\"]");
  free (img);
}

Test (cli_usage, entrypoint_then_args_after_double_dash)
{
  char *img = entrypoint_image (), *bundle = tu_fmt ("%s/b", tmp), *file = tu_fmt ("%s/config.json", bundle);
  struct tu_result r;

  TU_PREP_STORE (&r, store, "bundle", "--flat", "--entrypoint", "[\"/bin/echo\"]", img, bundle, "--", "a", "b");
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  cr_assert_str_eq (keep (tu_json_at (file, "process/args")), "[\"/bin/echo\",\"a\",\"b\"]");
  free (img);
  free (bundle);
  free (file);
}

Test (cli_usage, entrypoint_empty_without_args_is_no_command)
{
  char *img = entrypoint_image ();
  struct tu_result r;

  TU_PREP (&r, "config", "--entrypoint", "", img);
  tu_assert_error (&r, "image has no command");
  tu_result_free (&r);
  free (img);
}

Test (cli_usage, entrypoint_bad_json_is_a_usage_error)
{
  static const char *const bad[] = { "[1]", "[\"a\"", "[\"a\",{}]" };
  char *img = entrypoint_image ();
  struct tu_result r;
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      TU_PREP (&r, "config", "--entrypoint", bad[i], img);
      cr_assert_eq (r.status, 2, "%s: %s", bad[i], r.err);
      cr_assert (strstr (r.err, "--entrypoint"), "%s", r.err);
      cr_assert (strstr (r.err, " --help')\n"), "%s", r.err);
      tu_result_free (&r);
    }
  free (img);
}

/* ---- --seccomp FILE ---- */

Test (cli_usage, bundle_with_a_misspelt_syscall_fails_at_bundle_time)
{
  char *img = simple_image (), *bundle = tu_fmt ("%s/b", tmp), *profile = tu_fmt ("%s/p.json", tmp);
  const char *text = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\",\"wirte\"],"
                     "\"action\":\"SCMP_ACT_ALLOW\"}]}";
  struct tu_result r;

  fx_write_file (profile, text, strlen (text));
  TU_PREP_STORE (&r, store, "bundle", "--seccomp", profile, img, bundle);
  tu_assert_error (&r, "unknown syscall 'wirte'");
  tu_result_free (&r);
  cr_assert_not (tu_exists (tmp, "b/config.json"), "a bundle was made");
  cr_assert_eq (tu_count_pins (store), 0);
  free (img);
  free (bundle);
  free (profile);
}

Test (cli_usage, hook_accepts_json)
{
  struct tu_result r;

  tu_sh (&r, "printf '{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}' | '%s' --store '%s' hook --json precreate",
         OCIP_BINARY, store);
  cr_assert_eq (r.status, 0, "%s", r.err);
  cr_assert_str_eq (r.out, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}");
  tu_result_free (&r);
}
