/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for ID-mapped bundles: the mapping model (parsing, validation, subordinate ranges, allocation, userns fd). */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>
#include <oci-prep/spec.h>
#include "base/idmap.h"
#include "store/records.h"
#include "fixture.h"
#include "testutil.h"

/* ---- the mapping model ---- */

static int
parse (const char *text, struct ocip_idmap_range *range)
{
  ocip_error_t err = NULL;
  int r = ocip_idmap_range_parse (text, range, &err);

  if (r < 0)
    {
      cr_assert_eq (r, -EINVAL, "%s: %d", text, r);
      cr_assert_not_null (strstr (err->msg, text), "message names the text: %s", err->msg);
      ocip_error_release (&err);
    }
  return r;
}

Test (idmap, parse_reads_container_host_size)
{
  struct ocip_idmap_range r;

  cr_assert_eq (parse ("0:100000:65536", &r), 0);
  cr_assert_eq (r.container, 0);
  cr_assert_eq (r.host, 100000);
  cr_assert_eq (r.size, 65536);
  cr_assert_eq (parse ("0:0:4294967295", &r), 0, "the whole ID space but (u32) -1");
}

Test (idmap, parse_refuses_malformed_text)
{
  static const char *const bad[] = { "", "0", "0:1", "0:1:", ":1:1", "0:1:1:", "0:1:1x", "a:1:1", "-1:1:1",
                                     "0: 1:1", "0:1:+1", "0:1:4294967296", "99999999999:1:1", NULL };
  struct ocip_idmap_range r;
  size_t i;

  for (i = 0; bad[i]; i++)
    cr_assert_eq (parse (bad[i], &r), -EINVAL, "'%s' was accepted", bad[i]);
}

Test (idmap, parse_refuses_size_zero)
{
  struct ocip_idmap_range r;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_idmap_range_parse ("0:1000:0", &r, &err), -EINVAL);
  cr_assert_not_null (strstr (err->msg, "size is 0"), "%s", err->msg);
  ocip_error_release (&err);
}

Test (idmap, parse_refuses_ranges_that_overflow)
{
  struct ocip_idmap_range r;

  cr_assert_eq (parse ("4294967295:0:1", &r), -EINVAL, "(u32) -1 is no ID");
  cr_assert_eq (parse ("4294967290:0:6", &r), -EINVAL, "container side wraps");
  cr_assert_eq (parse ("0:4294967290:6", &r), -EINVAL, "host side wraps");
  cr_assert_eq (parse ("4294967290:0:5", &r), 0, "ends at 4294967294");
}

static int
add (struct ocip_idmap_list *l, uint32_t c, uint32_t h, uint32_t s, const char *needle)
{
  struct ocip_idmap_range range = { c, h, s };
  ocip_error_t err = NULL;
  int r = ocip_idmap_list_add (l, &range, &err);

  if (r < 0)
    {
      if (needle)
        cr_assert_not_null (strstr (err->msg, needle), "'%s' not in '%s'", needle, err->msg);
      ocip_error_release (&err);
    }
  return r;
}

Test (idmap, overlap_in_the_container_is_refused)
{
  struct ocip_idmap_list l = { 0 };

  cr_assert_eq (add (&l, 0, 100000, 1000, NULL), 0);
  cr_assert_eq (add (&l, 999, 300000, 10, "in the container"), -EINVAL);
  cr_assert_eq (add (&l, 1000, 300000, 10, NULL), 0, "adjacent is fine");
  cr_assert_eq (l.n, 2);
  free (l.v);
}

Test (idmap, overlap_on_the_host_is_refused)
{
  struct ocip_idmap_list l = { 0 };

  cr_assert_eq (add (&l, 0, 100000, 1000, NULL), 0);
  cr_assert_eq (add (&l, 5000, 100999, 1, "on the host"), -EINVAL);
  cr_assert_eq (add (&l, 5000, 99000, 1001, "on the host"), -EINVAL, "covering the start");
  cr_assert_eq (add (&l, 5000, 101000, 1, NULL), 0);
  cr_assert_eq (l.n, 2, "a refused range is not added");
  free (l.v);
}

Test (idmap, more_ranges_than_the_kernel_takes_are_refused)
{
  struct ocip_idmap_list l = { 0 };
  uint32_t i;

  for (i = 0; i < OCIP_LIMIT_IDMAP_RANGES; i++)
    cr_assert_eq (add (&l, i, 100000 + i, 1, NULL), 0);
  cr_assert_eq (add (&l, i, 100000 + i, 1, "340"), -E2BIG);
  cr_assert_eq (l.n, OCIP_LIMIT_IDMAP_RANGES);
  free (l.v);
}

Test (idmap, gidmap_defaults_to_uidmap)
{
  char *uid[] = { (char *) "0:100000:1000", (char *) "1000:200000:1", NULL };
  char *gid[] = { (char *) "0:300000:10", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;
  uint32_t h;

  cr_assert_eq (ocip_idmap_from_strings (uid, NULL, &m, &err), 0);
  cr_assert_eq (m.uid.n, 2);
  cr_assert_eq (m.gid.n, 2);
  cr_assert (ocip_idmap_to_host (&m.gid, 1000, &h));
  cr_assert_eq (h, 200000);
  cr_assert_not (ocip_idmap_to_host (&m.gid, 1001, &h));
  cr_assert (ocip_idmap_to_container (&m.uid, 100999, &h));
  cr_assert_eq (h, 999);
  ocip_idmap_clear (&m);

  cr_assert_eq (ocip_idmap_from_strings (uid, gid, &m, &err), 0);
  cr_assert_eq (m.gid.n, 1);
  cr_assert (ocip_idmap_to_host (&m.gid, 5, &h));
  cr_assert_eq (h, 300005);
  cr_assert_not (ocip_idmap_to_host (&m.gid, 10, &h));
  ocip_idmap_clear (&m);
  cr_assert (ocip_idmap_is_empty (&m));
}

Test (idmap, from_strings_names_the_bad_option)
{
  char *uid[] = { (char *) "0:100000:1000", NULL };
  char *gid[] = { (char *) "0:100000:0", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_idmap_from_strings (uid, gid, &m, &err), -EINVAL);
  cr_assert_not_null (strstr (err->msg, "--gidmap"), "%s", err->msg);
  cr_assert (ocip_idmap_is_empty (&m));
  ocip_error_release (&err);
  cr_assert_eq (ocip_idmap_from_strings (NULL, gid, &m, &err), -EINVAL, "--gidmap alone");
  ocip_error_release (&err);
}

/* ---- subordinate IDs and allocation ---- */

Test (idmap, subid_ranges_of_one_user)
{
  cleanup_free char *tmp = fx_mkdtemp ();
  cleanup_free char *file = tu_fmt ("%s/subuid", tmp);
  static const char text[] = "alice:100000:65536\n"
                             "containers:200000:1000\n"
                             "containers:bad\n"
                             "containers:300000:5000\n"
                             "containers:200500:10\n"; /* overlaps the first: ignored */
  struct ocip_idmap_list l = { 0 };
  ocip_error_t err = NULL;

  fx_write_file (file, text, strlen (text));
  cr_assert_eq (ocip_idmap_subid_ranges (file, "containers", NULL, &l, &err), 0);
  cr_assert_eq (l.n, 2);
  cr_assert_eq (l.v[0].host, 200000);
  cr_assert_eq (l.v[0].size, 1000);
  cr_assert_eq (l.v[1].host, 300000);
  free (l.v);
  cr_assert_eq (ocip_idmap_subid_ranges (file, "bob", NULL, &l, &err), -ENOENT);
  cr_assert_not_null (strstr (err->msg, "'bob'"), "%s", err->msg);
  ocip_error_release (&err);
  fx_rm_rf (tmp);
}

Test (idmap, find_free_skips_taken_ranges)
{
  struct ocip_idmap_range avail[] = { { 0, 100000, 1000 }, { 0, 500000, 100 } };
  struct ocip_idmap_range taken[] = { { 0, 100000, 300 }, { 0, 100500, 100 } };
  struct ocip_idmap_list a = { avail, 2 }, t = { taken, 2 };
  ocip_error_t err = NULL;
  uint32_t h;

  cr_assert_eq (ocip_idmap_find_free (&a, &t, 200, &h, &err), 0);
  cr_assert_eq (h, 100300, "the gap between the taken ranges");
  cr_assert_eq (ocip_idmap_find_free (&a, &t, 201, &h, &err), 0);
  cr_assert_eq (h, 100600);
  cr_assert_eq (ocip_idmap_find_free (&a, &t, 401, &h, &err), -ENOSPC);
  ocip_error_release (&err);
  t.n = 0;
  cr_assert_eq (ocip_idmap_find_free (&a, &t, 1000, &h, &err), 0);
  cr_assert_eq (h, 100000);
}

/* ---- the user namespace ---- */

Test (idmap, userns_fd_carries_the_mapping)
{
  char *uid[] = { (char *) "0:100000:1000", (char *) "5000:300000:2", NULL };
  char *gid[] = { (char *) "0:200000:500", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;
  int fd, status;
  pid_t pid;

  cr_assert_eq (ocip_idmap_from_strings (uid, gid, &m, &err), 0);
  fd = ocip_idmap_userns_fd (&m, &err);
  cr_assert_geq (fd, 0, "%s", fd < 0 ? err->msg : "");
  ocip_idmap_clear (&m);
  /* Join it in a child and read the maps back from inside.  */
  pid = fork ();
  if (pid == 0)
    {
      char buf[256];
      FILE *f;
      size_t n;
      if (setns (fd, CLONE_NEWUSER) < 0)
        _exit (10);
      f = fopen ("/proc/self/uid_map", "r");
      n = f ? fread (buf, 1, sizeof buf - 1, f) : 0;
      buf[n] = '\0';
      if (strstr (buf, "100000") == NULL || strstr (buf, "300000") == NULL || strstr (buf, "1000") == NULL)
        _exit (11);
      f = fopen ("/proc/self/gid_map", "r");
      n = f ? fread (buf, 1, sizeof buf - 1, f) : 0;
      buf[n] = '\0';
      _exit (strstr (buf, "200000") && strstr (buf, "500") ? 0 : 12);
    }
  cr_assert_gt (pid, 0);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status %d", status);
  close (fd);
}

Test (idmap, userns_fd_needs_both_maps)
{
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_idmap_userns_fd (&m, &err), -EINVAL);
  ocip_error_release (&err);
}

Test (idmap, userns_fd_leaves_no_child)
{
  char *uid[] = { (char *) "0:100000:10", NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  ocip_error_t err = NULL;
  int fd;

  cr_assert_eq (ocip_idmap_from_strings (uid, NULL, &m, &err), 0);
  fd = ocip_idmap_userns_fd (&m, &err);
  cr_assert_geq (fd, 0);
  close (fd);
  ocip_idmap_clear (&m);
  cr_assert_eq (waitpid (-1, NULL, WNOHANG), -1, "a child is left");
  cr_assert_eq (errno, ECHILD);
}

/* ---- the record ---- */

Test (idmap, state_record_keeps_the_mapping)
{
  cleanup_free char *dir = fx_mkdtemp ();
  cleanup_free char *state_dir = tu_fmt ("%s/.oci-prep", dir);
  char *uid[] = { (char *) "0:100000:1000", NULL };
  char *gid[] = { (char *) "0:200000:1000", NULL };
  char *layers[] = { NULL };
  struct ocip_state_record rec = { .id = (char *) "ab12", .bundle = (char *) "/b", .store = (char *) "/s",
                                   .rootfs_path = (char *) "/b/rootfs", .layers = layers };
  struct ocip_state_record back = { 0 };
  ocip_error_t err = NULL;
  int fd;

  cr_assert_eq (mkdir (state_dir, 0700), 0);
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq (ocip_records_state_write (fd, &rec, &err), 0);
  cr_assert_eq (ocip_records_state_read (fd, &back, &err), 0);
  cr_assert (ocip_idmap_is_empty (&back.idmap), "a record without mappings reads as no mapping");
  ocip_state_record_clear (&back);
  cr_assert_eq (ocip_idmap_from_strings (uid, gid, &rec.idmap, &err), 0);
  cr_assert_eq (ocip_records_state_write (fd, &rec, &err), 0);
  cr_assert_eq (ocip_records_state_read (fd, &back, &err), 0);
  cr_assert (ocip_idmap_equal (&back.idmap, &rec.idmap));
  ocip_state_record_clear (&back);
  ocip_idmap_clear (&rec.idmap);
  close (fd);
  fx_rm_rf (dir);
}

/* ---- the config ---- */

static struct ocip_spec *
spec_with (const char *uidmap)
{
  char *uid[] = { (char *) uidmap, NULL };
  struct ocip_idmap m = { { 0 }, { 0 } };
  struct ocip_image_config config = { 0 };
  char *args[] = { (char *) "/bin/true", NULL };
  struct ocip_spec_options o = { .args = args, .idmap = &m, .seccomp = "unconfined" };
  struct ocip_spec *spec = NULL;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_idmap_from_strings (uid, NULL, &m, &err), 0);
  cr_assert_eq (ocip_spec_build (&config, -1, &o, &spec, &err), 0, "%s", err ? err->msg : "");
  ocip_idmap_clear (&m);
  return spec;
}

static const struct ocip_spec_mount *
mount_at (const struct ocip_spec *spec, const char *destination)
{
  size_t i;

  for (i = 0; i < spec->n_mounts; i++)
    if (strcmp (spec->mounts[i].destination, destination) == 0)
      return &spec->mounts[i];
  cr_assert_fail ("no mount at %s", destination);
  return NULL;
}

static bool
has (char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

Test (idmap, config_gets_a_user_namespace_with_the_mappings)
{
  cleanup_spec struct ocip_spec *spec = spec_with ("0:100000:65536");

  cr_assert (has (spec->namespaces, "user"));
  cr_assert (has (spec->namespaces, "network"), "sysfs in a user namespace needs the container's own netns");
  cr_assert_eq (spec->n_uid_mappings, 1);
  cr_assert_eq (spec->uid_mappings[0].host_id, 100000);
  cr_assert_eq (spec->n_gid_mappings, 1);
  cr_assert_eq (spec->gid_mappings[0].size, 65536);
  cr_assert (has (mount_at (spec, "/dev/pts")->options, "gid=5"), "gid 5 is mapped");
}

Test (idmap, devpts_has_no_gid_5_when_gid_5_is_unmapped)
{
  cleanup_spec struct ocip_spec *spec = spec_with ("0:100000:5");

  cr_assert_not (has (mount_at (spec, "/dev/pts")->options, "gid=5"));
  cr_assert (has (mount_at (spec, "/dev/pts")->options, "newinstance"));
}

Test (idmap, rlimits_stay_within_what_the_namespace_can_set)
{
  cleanup_spec struct ocip_spec *spec = spec_with ("0:100000:65536");
  struct rlimit rl;

  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &rl), 0);
  cr_assert_eq (spec->process.n_rlimits, 1);
  if (rl.rlim_max != RLIM_INFINITY)
    cr_assert_leq (spec->process.rlimits[0].hard, (int64_t) rl.rlim_max,
                   "the container's root cannot raise a hard limit");
}

Test (idmap, config_without_mapping_has_no_user_namespace)
{
  struct ocip_image_config config = { 0 };
  char *args[] = { (char *) "/bin/true", NULL };
  struct ocip_spec_options o = { .args = args, .seccomp = "unconfined" };
  cleanup_spec struct ocip_spec *spec = NULL;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_spec_build (&config, -1, &o, &spec, &err), 0);
  cr_assert_not (has (spec->namespaces, "user"));
  cr_assert_eq (spec->n_uid_mappings, 0);
}

/* ---- bundles end to end ---- */

static char *tmp, *layout, *store;

static void
setup (void)
{
  tu_workdir_new (&tmp, &layout, &store);
  /* The runtime bind-mounts the rootfs from inside the container's user namespace:
     its root must be able to search the bundle's parents.  */
  cr_assert_eq (chmod (tmp, 0711), 0);
}

static void
teardown (void)
{
  tu_workdir_free (&tmp, &layout, &store);
}

TestSuite (idmap_bundle, .init = setup, .fini = teardown, .timeout = 120);

static const char *const applets[] = { "sh", "id", "stat", "touch", "cat", "ls", "echo", "test", NULL };

#define PASSWD "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
#define GROUP "root:x:0:\nalice:x:1000:\n"
#define SCRIPT                                                                                                         \
  "stat -c \\\"PASSWD %u:%g\\\" /etc/passwd; stat -c \\\"NOTE %u:%g\\\" /home/alice/note; "                               \
  "echo ID $(id -u):$(id -g); touch /tmp/made && echo MADE; "                                                        \
  "test -e /etc/victim && echo VICTIM present || echo VICTIM absent; echo OPQ $(ls -A /opq)"

/* Three layers: busybox, users, home/alice (1000:1000) and what the whiteout layer
   removes; then alice's file home/alice/note (1000:1000); then tu_whiteout_layer (a
   whiteout and an opaque directory, which overlayfs must still see through ID-mapped
   lowers).  USER alice.  */
static void
alice_image (void)
{
  static const struct tu_ref_config config
      = { "alice", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"" SCRIPT "\"],\"User\":\"alice\"}" };
  struct fx_layer layers[3] = { { 0 } };
  struct fx_tar *t = fx_tar_new ();
  void *t1, *t2, *t3;
  size_t l1, l2, l3;

  tu_tar_busybox (t, applets);
  tu_tar_users (t, PASSWD, GROUP);
  tu_tar_whiteout_targets (t);
  fx_tar_dir (t, "tmp", 01777);
  fx_tar_finish (t, &t1, &l1);
  t = fx_tar_new ();
  fx_tar_dir (t, "home", 0755);
  fx_tar_file_ex (t, "home/alice/note", 0640, 1000, 1000, FX_MTIME, "mine\n", 5);
  fx_tar_finish (t, &t2, &l2);
  layers[0] = (struct fx_layer){ .tar = t1, .tar_len = l1 };
  layers[1] = (struct fx_layer){ .tar = t2, .tar_len = l2, .compression = "none" };
  tu_whiteout_layer (&t3, &l3);
  layers[2] = (struct fx_layer){ .tar = t3, .tar_len = l3 };
  tu_images_per_config (layout, layers, 3, &config, 1);
  free (t1);
  free (t2);
  free (t3);
}

static char *
image (void)
{
  return tu_fmt ("%s:alice", layout);
}

/* Every owner in the store's layers, one "uid:gid path" line each, sorted.  */
static char *
store_owners (void)
{
  struct tu_result r;
  char *out;

  tu_sh (&r, "cd '%s/layers' && find . -printf '%%U:%%G %%p\\n' | sort", store);
  cr_assert_eq (r.status, 0, "%s", r.err);
  out = r.out;
  r.out = NULL;
  tu_result_free (&r);
  return out;
}

static void
prep_ok (const char *const *args)
{
  struct tu_result r;

  tu_prep_store (&r, store, args);
  cr_assert_eq (r.status, 0, "oci-prep failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
}
#define PREP_OK(...) prep_ok ((const char *const[]){ __VA_ARGS__, NULL })

static void
owner_is (const char *path, unsigned uid, unsigned gid)
{
  struct stat st;

  cr_assert_eq (lstat (path, &st), 0, "%s: %s", path, strerror (errno));
  cr_assert (st.st_uid == uid && st.st_gid == gid, "%s is %u:%u, expected %u:%u", path, (unsigned) st.st_uid,
             (unsigned) st.st_gid, uid, gid);
}

/* Bundle the image ID-mapped to 200000, run it with RUN: the container sees the image's
   owners, the host sees what it made as 200000 + its uid, the store is untouched.  */
static void
run_mapped (void (*run) (struct tu_result *, const char *), const char *name)
{
  cleanup_free char *img = image ();
  cleanup_free char *b = tu_fmt ("%s/b-%s", tmp, name);
  cleanup_free char *made = tu_fmt ("%s/.oci-prep/upper/tmp/made", b);
  cleanup_free char *before = NULL;
  cleanup_free char *after = NULL;
  struct tu_result r;

  tu_need (name, teardown);
  alice_image ();
  PREP_OK ("load", img);
  before = store_owners ();
  PREP_OK ("bundle", "--uidmap", "0:200000:65536", img, b);
  run (&r, b);
  cr_assert_eq (r.status, 0, "%s run failed (%d): %s%s", name, r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, "PASSWD 0:0"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "NOTE 1000:1000"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "ID 1000:1000"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "MADE"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "VICTIM absent"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "OPQ new"), "%s", r.out);
  tu_result_free (&r);
  owner_is (made, 201000, 201000);
  after = store_owners ();
  cr_assert_str_eq (after, before, "the store's owners changed");
  PREP_OK ("rm", b);
}

Test (idmap_bundle, runc_sees_the_image_owners_and_the_host_sees_shifted_ones)
{
  run_mapped (tu_runc_run, "runc");
}

Test (idmap_bundle, crun_sees_the_image_owners_and_the_host_sees_shifted_ones)
{
  run_mapped (tu_crun_run, "crun");
}

Test (idmap_bundle, overlay_lowers_are_idmapped_and_upper_belongs_to_the_mapped_root)
{
  cleanup_free char *img = image ();
  cleanup_free char *b = tu_fmt ("%s/b", tmp);
  cleanup_free char *passwd = tu_fmt ("%s/rootfs/etc/passwd", b);
  cleanup_free char *note = tu_fmt ("%s/rootfs/home/alice/note", b);
  cleanup_free char *upper = tu_fmt ("%s/.oci-prep/upper", b);
  cleanup_free char *work = tu_fmt ("%s/.oci-prep/work", b);
  cleanup_free char *cfg = tu_fmt ("%s/config.json", b);
  cleanup_free char *ns = NULL;
  cleanup_free char *maps = NULL;

  alice_image ();
  PREP_OK ("bundle", "--uidmap", "0:200000:65536", "--gidmap", "0:300000:65536", img, b);
  owner_is (passwd, 200000, 300000);
  owner_is (note, 201000, 301000);
  owner_is (upper, 200000, 300000);
  owner_is (work, 200000, 300000);
  owner_is (b, 200000, 300000);
  ns = tu_json_at (cfg, "linux/namespaces/6/type");
  cr_assert_str_eq (ns, "\"user\"");
  maps = tu_json_at (cfg, "linux/gidMappings");
  cr_assert_str_eq (maps, "[{\"containerID\":0,\"hostID\":300000,\"size\":65536}]");
  PREP_OK ("rm", b);
  cr_assert_not (tu_exists (b, NULL));
}

Test (idmap_bundle, flat_copy_has_shifted_owners)
{
  cleanup_free char *img = image ();
  cleanup_free char *b = tu_fmt ("%s/b", tmp);
  cleanup_free char *passwd = tu_fmt ("%s/rootfs/etc/passwd", b);
  cleanup_free char *note = tu_fmt ("%s/rootfs/home/alice/note", b);
  cleanup_free char *before = NULL;
  cleanup_free char *after = NULL;
  struct tu_result r;

  alice_image ();
  PREP_OK ("load", img);
  before = store_owners ();
  PREP_OK ("bundle", "--flat", "--uidmap", "0:400000:65536", img, b);
  owner_is (passwd, 400000, 400000);
  owner_is (note, 401000, 401000);
  after = store_owners ();
  cr_assert_str_eq (after, before);
  tu_runc_run (&r, b);
  cr_assert_eq (r.status, 0, "runc run failed (%d): %s%s", r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, "NOTE 1000:1000"), "%s", r.out);
  tu_result_free (&r);
}

Test (idmap_bundle, bad_mappings_are_refused_before_anything_is_made)
{
  cleanup_free char *img = image ();
  cleanup_free char *b = tu_fmt ("%s/b", tmp);
  struct tu_result r;

  alice_image ();
  TU_PREP_STORE (&r, store, "bundle", "--uidmap", "0:100000:10", "--uidmap", "5:100005:1", img, b);
  tu_assert_error (&r, "overlaps");
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "bundle", "--uidmap", "0:100000:0", img, b);
  tu_assert_error (&r, "size is 0");
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "bundle", "--userns", "auto", "--uidmap", "0:1:1", img, b);
  tu_assert_error (&r, "one of them");
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "bundle", "--gidmap", "0:1:1", img, b);
  tu_assert_error (&r, "--gidmap: needs --uidmap too");
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "bundle", "--userns", "auto", "--gidmap", "0:1:1", img, b);
  tu_assert_error (&r, "one of them");
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "bundle", "--userns", "keep-id", img, b);
  tu_assert_error (&r, "--userns 'keep-id'");
  tu_result_free (&r);
  cr_assert_not (tu_exists (b, NULL));
}

/* ---- --userns auto (sizes above 1000: alice's files must be mapped, or even root
   cannot open her 0750 home through the ID-mapped mount), with /etc/subuid and /etc/subgid bound over in a private mount
   namespace (so the machine's are never touched): flat bundles, whose rootfs does not
   depend on the namespace outliving the command.  ---- */

static void
auto_sh (struct tu_result *r, const char *subid, const char *script)
{
  cleanup_free char *file = tu_fmt ("%s/subid", tmp);

  fx_write_file (file, subid, strlen (subid));
  tu_sh (r,
         "unshare -m sh -c 'mount --bind \"%s\" /etc/subuid && mount --bind \"%s\" /etc/subgid && "
         "P=\"%s --store %s\"; I=\"%s:alice\"; T=\"%s\"; %s'",
         file, file, OCIP_BINARY, store, layout, tmp, script);
}

static char *
host_of (const char *bundle)
{
  cleanup_free char *cfg = tu_fmt ("%s/%s/config.json", tmp, bundle);
  return tu_json_at (cfg, "linux/uidMappings/0/hostID");
}

Test (idmap_bundle, userns_auto_gives_disjoint_ranges_and_rm_releases)
{
  cleanup_free char *h1 = NULL;
  cleanup_free char *h2 = NULL;
  cleanup_free char *h3 = NULL;
  cleanup_free char *g1 = NULL;
  cleanup_free char *cfg1 = tu_fmt ("%s/b1/config.json", tmp);
  struct tu_result r;

  alice_image ();
  auto_sh (&r, "alice:1:5\ncontainers:500000:5000\n",
           "$P bundle --flat --userns auto:size=2000 $I $T/b1 && $P bundle --flat --userns auto:size=2000 $I $T/b2");
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  tu_result_free (&r);
  h1 = host_of ("b1");
  h2 = host_of ("b2");
  g1 = tu_json_at (cfg1, "linux/gidMappings/0/hostID");
  cr_assert_str_eq (h1, "500000");
  cr_assert_str_eq (g1, "500000");
  cr_assert_str_eq (h2, "502000", "the second range follows the first");
  cr_assert_eq (tu_count_pins (store), 2, "each range is pinned");

  auto_sh (&r, "containers:500000:5000\n", "$P bundle --flat --userns auto:size=2000 $I $T/b3");
  tu_assert_error (&r, "all in use");
  tu_result_free (&r);

  auto_sh (&r, "containers:500000:5000\n", "$P rm $T/b1 && $P bundle --flat --userns auto:size=2000 $I $T/b3");
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  tu_result_free (&r);
  h3 = host_of ("b3");
  cr_assert_str_eq (h3, "500000", "rm gave the first range back");
}

Test (idmap_bundle, userns_auto_without_a_containers_entry_says_so)
{
  cleanup_free char *b = tu_fmt ("%s/b1", tmp);
  struct tu_result r;

  alice_image ();
  auto_sh (&r, "alice:100000:65536\n", "$P bundle --flat --userns auto $I $T/b1");
  tu_assert_error (&r, "subordinate IDs for the user 'containers'");
  tu_result_free (&r);
  cr_assert_not (tu_exists (b, NULL));
}

/* ---- the hook ---- */

Test (idmap_bundle, hook_precreate_idmaps_the_rootfs_for_the_configs_user_namespace)
{
  cleanup_free char *img = image ();
  cleanup_free char *b = tu_fmt ("%s/engine", tmp);
  cleanup_free char *proposed = tu_fmt ("%s/proposed.json", b);
  cleanup_free char *out = tu_fmt ("%s/config.json", b);
  cleanup_free char *note = tu_fmt ("%s/rootfs/home/alice/note", b);
  cleanup_free char *passwd = tu_fmt ("%s/rootfs/etc/passwd", b);
  cleanup_free char *before = NULL;
  cleanup_free char *after = NULL;
  cleanup_free char *config = NULL;
  struct tu_result r;

  tu_need ("runc", teardown);
  alice_image ();
  PREP_OK ("load", img);
  before = store_owners ();
  /* As podman --uidmap proposes it: a new user namespace and its mappings, the
     bundle directory given to the container's root.  */
  config = tu_fmt ("{\"ociVersion\":\"1.0.2\",\"process\":{\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
                   "\"root\":{\"path\":\"rootfs\"},\"hostname\":\"h\","
                   "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
                   "\"annotations\":{\"io.oci-prep.image\":\"%s:alice\"},"
                   "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"user\"},"
                   "{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}],"
                   "\"uidMappings\":[{\"containerID\":0,\"hostID\":600000,\"size\":65536}],"
                   "\"gidMappings\":[{\"containerID\":0,\"hostID\":700000,\"size\":65536}]}}",
                   layout);
  fx_mkdir_p (b);
  cr_assert_eq (chown (b, 600000, 700000), 0);
  fx_write_file (proposed, config, strlen (config));
  tu_sh (&r, "cd '%s' && exec '%s' --store '%s' hook precreate < proposed.json > config.json", b, OCIP_BINARY, store);
  cr_assert_eq (r.status, 0, "precreate failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  owner_is (passwd, 600000, 700000);
  owner_is (note, 601000, 701000);
  after = store_owners ();
  cr_assert_str_eq (after, before);

  tu_runc_run (&r, b);
  cr_assert_eq (r.status, 0, "runc run failed (%d): %s%s", r.status, r.out, r.err);
  cr_assert (tu_has_line (r.out, "PASSWD 0:0"), "%s", r.out);
  cr_assert (tu_has_line (r.out, "NOTE 1000:1000"), "%s", r.out);
  tu_result_free (&r);

  tu_sh (&r, "exec '%s' --store '%s' hook poststop <<'E'\n{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":"
         "\"stopped\",\"pid\":0,\"bundle\":\"%s\",\"annotations\":{\"io.oci-prep.image\":\"%s:alice\"}}\nE\n",
         OCIP_BINARY, store, b, layout);
  cr_assert_eq (r.status, 0, "poststop failed (%d): %s", r.status, r.err);
  tu_result_free (&r);
  cr_assert_eq (tu_count_pins (store), 0);
}
