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

static void
teardown (void)
{
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (cli_usage, .init = setup, .fini = teardown);

/* The IMAGE of the simple image.  */
static char *
simple_image (void)
{
  struct fx_desc m;

  fx_simple_image_ex (layout, "latest", &m);
  return tu_fmt ("%s:latest", layout);
}

/* ---- error lines: the object and the cause, once ---- */

Test (cli_usage, a_stated_cause_gets_no_errno_text)
{
  char *img;
  struct tu_result r;

  simple_image ();
  img = tu_fmt ("%s:v2", layout);
  TU_PREP (&r, "inspect", img);
  tu_assert_error (&r, NULL);
  cr_assert_str_eq (r.err, tu_fmt ("oci-prep: image '%s': ref 'v2' not found in '%s' (available: latest)\n", img, layout));
  tu_result_free (&r);
  free (img);
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
