/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep run by an ordinary user: load, bundle (a copy, in a user namespace of its own), rootless runc. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

/* The user scripts/check creates (useradd -m, with /etc/subuid and /etc/subgid ranges)
   and the host's uidmap package (newuidmap, newgidmap).  */
#define TEST_USER "ocip-rootless"

static char *tmp, *layout, *home;
static struct passwd user;

static void
setup (void)
{
  struct passwd *pw = getpwnam (TEST_USER);

  if (geteuid () != 0 || pw == NULL || ! tu_have ("newuidmap"))
    {
      cr_assert (! tu_in_ci (), "CI runs as root with the user '" TEST_USER "' and newuidmap (scripts/check)");
      cr_skip_test ("needs root, the user '" TEST_USER "' and newuidmap (scripts/check makes them)");
    }
  user = *pw;
  tmp = fx_mkdtemp ();
  /* The user reads the layout and works in a directory of their own.  */
  cr_assert_eq (chmod (tmp, 0755), 0);
  layout = tu_fmt ("%s/img", tmp);
  home = tu_fmt ("%s/user", tmp);
  cr_assert_eq (mkdir (home, 0700), 0);
  cr_assert_eq (chown (home, user.pw_uid, user.pw_gid), 0);
}

static void
teardown (void)
{
  struct tu_result r;

  if (tmp == NULL)
    return;
  /* The user's runc state and the flat rootfs hold files of the user's subordinate
     IDs: root removes them.  */
  tu_sh (&r, "runc --root '%s/runc' delete -f rootless-test >/dev/null 2>&1; rm -rf '%s'", home, tmp);
  tu_result_free (&r);
  free (tmp);
  free (layout);
  free (home);
  tmp = NULL;
}

TestSuite (rootless, .init = setup, .fini = teardown, .timeout = 180);

#define PASSWD                                                                                                         \
  "root:x:0:0:root:/root:/bin/sh\n"                                                                                    \
  "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
#define GROUP "root:x:0:\nalice:x:1000:\n"

/* What the container prints, one fact per line.  */
#define SCRIPT                                                                                                         \
  "echo ID $(id -u):$(id -g); "                                                                                        \
  "test -e /etc/victim && echo VICTIM present || echo VICTIM absent; "                                                 \
  "echo OPQ $(ls -A /opq); cat /etc/top; "                                                                             \
  "echo SUID $(stat -c %a:%u /bin/suid); "                                                                             \
  "echo HOME $(stat -c %u:%g /home/alice); "                                                                           \
  "echo PASSWD $(stat -c %u:%g /etc/passwd)"

/* Layer 1: busybox, users, a setuid file, the targets of layer 2; layer 2: a whiteout,
   an opaque directory, a device node; USER alice.  */
static void
image (void)
{
  static const char *const applets[] = { "sh", "id", "ls", "cat", "stat", "test", "echo", NULL };
  static const struct tu_ref_config config
      = { "latest", "{\"User\":\"alice\",\"Cmd\":[\"/bin/sh\",\"-c\",\"" SCRIPT "\"]}" };
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layers[3] = { { 0 } };
  void *t1, *t2, *t3;
  size_t l1, l2, l3;

  tu_tar_busybox (t, applets);
  tu_tar_users (t, PASSWD, GROUP);
  tu_tar_whiteout_targets (t);
  fx_tar_file_ex (t, "bin/suid", 04755, 0, 0, FX_MTIME, "#!/bin/sh\n", 10);
  fx_tar_finish (t, &t1, &l1);
  tu_whiteout_layer (&t2, &l2);
  t = fx_tar_new ();
  fx_tar_dir (t, "dev", 0755);
  fx_tar_device (t, "dev/sda", 'b', 8, 0);
  fx_tar_finish (t, &t3, &l3);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2, .compression = "zstd" };
  layers[2] = (struct fx_layer){ .tar = t3, .tar_len = l3 };
  tu_images_per_config (layout, layers, 3, &config, 1);
  free (t1);
  free (t2);
  free (t3);
}

/* Run the shell command CMD as the test user, in HOME, with XDG_DATA_HOME=HOME/data.  */
static void
as_user (struct tu_result *r, const char *cmd)
{
  tu_sh (r, "cd '%s' && exec setpriv --reuid=%u --regid=%u --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "
            "HOME='%s' USER=%s XDG_DATA_HOME='%s/data' sh -c '%s'",
         home, (unsigned) user.pw_uid, (unsigned) user.pw_gid, home, TEST_USER, home, cmd);
}

/* HOME/REL, in a static buffer.  */
static const char *
in_home (const char *rel)
{
  static char buf[4096];

  snprintf (buf, sizeof buf, "%s/%s", home, rel);
  return buf;
}

/* The first host ID of the user's subordinate range in FILE.  */
static unsigned
first_subid (const char *file)
{
  struct tu_result r;
  unsigned v;

  tu_sh (&r, "awk -F: '$1 == \"%s\" || $1 == \"%u\" { print $2; exit }' %s", TEST_USER, (unsigned) user.pw_uid, file);
  cr_assert_eq (sscanf (r.out, "%u", &v), 1, "no range of %s in %s", TEST_USER, file);
  tu_result_free (&r);
  return v;
}

/* The whole rootless path: the default store ($XDG_DATA_HOME/oci-prep), load with one
   warning for the device node, bundle (a copy, the default for a user) whose
   config.json maps the user's IDs, rootless runc running it as the image's USER with
   the layers' whiteouts, opaque directory and setuid bit, then rm and the store.  */
Test (rootless, user_loads_bundles_and_runc_runs_it)
{
  char *bin = tu_fmt ("%s", OCIP_BINARY), *cmd;
  unsigned subuid = first_subid ("/etc/subuid"), subgid = first_subid ("/etc/subgid");
  struct tu_result r;
  struct stat st;

  image ();
  cmd = tu_fmt ("%s load %s 2>&1", bin, layout);
  as_user (&r, cmd);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_assert_eq (tu_count (r.out, "warning:"), 1, "%s", r.out);
  cr_assert (strstr (r.out, "device nodes not created") && strstr (r.out, "'dev/sda'"), "%s", r.out);
  cr_assert_eq (tu_count (r.out, "extracted"), 3, "%s", r.out);
  tu_result_free (&r);
  free (cmd);
  cr_assert (tu_exists (home, "data/oci-prep/layers"), "the default store is $XDG_DATA_HOME/oci-prep");

  cmd = tu_fmt ("%s bundle %s b 2>&1", bin, layout);
  as_user (&r, cmd);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_assert (strstr (r.out, "flat rootfs"), "a user's bundle is a copy: %s", r.out);
  tu_result_free (&r);
  free (cmd);

  /* From the host: the image's root is the user, alice (1000) the subordinate ID 999
     past the range's start (container 1 is its first ID).  */
  cr_assert_eq (stat (in_home ("b/rootfs/etc/passwd"), &st), 0);
  cr_assert_eq (st.st_uid, user.pw_uid);
  cr_assert_eq (stat (in_home ("b/rootfs/home/alice"), &st), 0);
  cr_assert_eq (st.st_uid, subuid + 999);
  cr_assert_eq (st.st_gid, subgid + 999);
  cr_assert_eq (stat (in_home ("b/rootfs/bin/suid"), &st), 0);
  cr_assert_eq (st.st_mode & 07777, 04755);

  as_user (&r, "runc --root \"$HOME/runc\" run -b b rootless-test </dev/null 2>&1");
  cr_assert_eq (r.status, 0, "rootless runc: %s%s", r.out, r.err);
  cr_assert (tu_has_line (r.out, "ID 1000:1000"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "VICTIM absent"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "OPQ new"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "top"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "SUID 4755:0"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "HOME 1000:1000"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "PASSWD 0:0"), "%s", r.out);
  tu_result_free (&r);

  cmd = tu_fmt ("%s store ls && %s rm b && %s store fsck", bin, bin, bin);
  as_user (&r, cmd);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_assert (! tu_exists (home, "b"), "rm removes the bundle");
  tu_result_free (&r);
  free (cmd);
  free (bin);
}

/* A user pointing --store at root's store gets a clear error, not a half-written
   store.  */
Test (rootless, user_cannot_use_roots_store)
{
  char *store = tu_fmt ("%s/user/roots", tmp), *cmd;
  struct tu_result r;

  image ();
  tu_prep (&r, (const char *const[]){ "--store", store, "load", layout, NULL });
  cr_assert_eq (r.status, 0, "%s", r.err);
  tu_result_free (&r);
  /* Readable by the user, as a copied or shared store could be.  */
  tu_sh (&r, "chown -R %u '%s'", (unsigned) user.pw_uid, store);
  tu_result_free (&r);
  cmd = tu_fmt ("%s --store %s load %s 2>&1", OCIP_BINARY, store, layout);
  as_user (&r, cmd);
  cr_assert_eq (r.status, 1, "%s", r.out);
  cr_assert (strstr (r.out, "was made by root"), "%s", r.out);
  tu_result_free (&r);
  free (cmd);
  free (store);
}

/* Rootless crun needs a unified cgroup hierarchy: on a hybrid one it stops with
   "cgroups in hybrid mode not supported" (and a user cannot remount /sys/fs/cgroup).  */
Test (rootless, crun_runs_the_bundle_where_cgroup2_is_unified)
{
  struct statfs fs;
  struct tu_result r;
  char *cmd;

  if (statfs ("/sys/fs/cgroup", &fs) < 0 || fs.f_type != 0x63677270 /* CGROUP2_SUPER_MAGIC */)
    cr_skip_test ("rootless crun refuses this machine's hybrid cgroup hierarchy "
                  "(\"cgroups in hybrid mode not supported\")");
  tu_need ("crun", NULL);
  image ();
  cmd = tu_fmt ("%s bundle %s b && crun --root \"$HOME/crun\" run -b b rootless-crun </dev/null 2>&1", OCIP_BINARY,
                layout);
  as_user (&r, cmd);
  cr_assert_eq (r.status, 0, "rootless crun: %s%s", r.out, r.err);
  cr_assert (tu_has_line (r.out, "ID 1000:1000"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "PASSWD 0:0"), "%s", r.out);
  tu_result_free (&r);
  free (cmd);
}
