/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-archive: and docker-archive: images: archives podman and skopeo write bundled and run, hostile archives refused. */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"

#include <oci-prep/layout.h>

static char *tmp, *layout, *store;

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

TestSuite (archive, .init = setup, .fini = teardown, .timeout = 180);

static const char *const applets[] = { "sh", "echo", "cat", NULL };

/* A busybox image "main" in LAYOUT whose command prints "archive-ok" and a file of
   the layer.  */
static void
busybox_layout (void)
{
  static const struct tu_ref_config cfg = {
    "main", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo archive-ok; cat /etc/marker\"]}"
  };
  struct fx_tar *t = fx_tar_new ();
  struct fx_layer layer = { 0 };
  void *tar;
  size_t len;

  tu_tar_busybox (t, applets);
  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/marker", 0644, "marker-from-layer\n");
  fx_tar_finish (t, &tar, &len);
  layer = (struct fx_layer){ .tar = tar, .tar_len = len, .compression = "gzip" };
  tu_images_per_config (layout, &layer, 1, &cfg, 1);
  free (tar);
}

/* Load LAYOUT into a podman storage under TMP and save it as FORMAT into FILE.  podman
   derives the image name from the layout's path, which must be lower case: it is
   named relative to TMP.  */
static void
podman_save (const char *format, const char *file)
{
  struct tu_result r;

  tu_sh (&r,
         "cd '%s' && P='podman --root %s/podman --runroot %s/podman-run --storage-driver vfs' && "
         "$P pull -q oci:img:main >/dev/null && $P tag $($P images -q | head -n 1) localhost/arch:v1 && "
         "$P save -q --format %s -o '%s' localhost/arch:v1",
         tmp, tmp, tmp, format, file);
  cr_assert_eq (r.status, 0, "podman: %s%s", r.out, r.err);
  tu_result_free (&r);
}

static void
bundle_and_run (const char *image)
{
  struct tu_result r;
  char *b = tu_fmt ("%s/bundle-%d", tmp, (int) strlen (image));

  TU_PREP_STORE (&r, store, "bundle", image, b);
  cr_assert_eq (r.status, 0, "bundle %s: %s%s", image, r.out, r.err);
  tu_result_free (&r);
  tu_runc_run (&r, b);
  cr_assert_eq (r.status, 0, "runc %s: %s%s", image, r.out, r.err);
  cr_expect (tu_has_line (r.out, "archive-ok"), "%s: %s", image, r.out);
  cr_expect (tu_has_line (r.out, "marker-from-layer"), "%s: %s", image, r.out);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "rm", b);
  cr_expect_eq (r.status, 0, "rm: %s", r.err);
  tu_result_free (&r);
  free (b);
}

Test (archive, oci_archive_from_podman_bundles_and_runs_under_runc)
{
  char *file = tu_fmt ("%s/oci.tar", tmp), *image;
  struct tu_result r;

  tu_need ("podman", teardown);
  tu_need ("runc", teardown);
  busybox_layout ();
  podman_save ("oci-archive", file);
  image = tu_fmt ("oci-archive:%s", file);
  TU_PREP (&r, "verify", image);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  tu_result_free (&r);
  bundle_and_run (image);
  free (image);
  /* The ref podman wrote in index.json.  */
  image = tu_fmt ("oci-archive:%s:localhost/arch:v1", file);
  TU_PREP (&r, "inspect", image);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  tu_result_free (&r);
  free (image);
  free (file);
}

Test (archive, docker_archive_from_podman_bundles_and_runs_under_runc)
{
  char *file = tu_fmt ("%s/docker.tar", tmp), *by_tag, *by_index, *bare, *wrong_tag, *wrong_index;
  struct tu_result r;

  tu_need ("podman", teardown);
  tu_need ("runc", teardown);
  busybox_layout ();
  podman_save ("docker-archive", file);
  by_tag = tu_fmt ("docker-archive:%s:localhost/arch:v1", file);
  by_index = tu_fmt ("docker-archive:%s:@0", file);
  bare = tu_fmt ("docker-archive:%s", file);
  wrong_tag = tu_fmt ("docker-archive:%s:localhost/arch:v2", file);
  wrong_index = tu_fmt ("docker-archive:%s:@1", file);
  TU_PREP (&r, "verify", bare);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  tu_result_free (&r);
  TU_PREP (&r, "config", by_index);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  cr_expect (strstr (r.out, "archive-ok") != NULL, "%s", r.out);
  tu_result_free (&r);
  bundle_and_run (by_tag);
  TU_PREP (&r, "inspect", "--json", wrong_tag);
  tu_assert_error (&r, "ref 'localhost/arch:v2' not found");
  tu_result_free (&r);
  TU_PREP (&r, "inspect", wrong_index);
  tu_assert_error (&r, "no image @1");
  tu_result_free (&r);
  free (wrong_tag);
  free (wrong_index);
  free (by_tag);
  free (by_index);
  free (bare);
  free (file);
}

/* The archives skopeo writes from a layout (`skopeo copy oci:... oci-archive:...` and
   `docker-archive:...`): verified, bundled by their ref and run.  */
Test (archive, archives_from_skopeo_bundle_and_run_under_runc)
{
  static const char *const formats[] = { "oci-archive", "docker-archive" };
  struct tu_result r;
  size_t i;

  tu_need ("skopeo", teardown);
  tu_need ("runc", teardown);
  busybox_layout ();
  for (i = 0; i < 2; i++)
    {
      char *file = tu_fmt ("%s/skopeo-%s.tar", tmp, formats[i]);
      char *image = tu_fmt ("%s:%s:localhost/arch:v1", formats[i], file);

      tu_sh (&r, "skopeo copy -q 'oci:%s:main' '%s'", layout, image);
      cr_assert_eq (r.status, 0, "skopeo copy to %s: %s%s", formats[i], r.out, r.err);
      tu_result_free (&r);
      TU_PREP (&r, "verify", image);
      cr_assert_eq (r.status, 0, "verify %s: %s%s", image, r.out, r.err);
      tu_result_free (&r);
      bundle_and_run (image);
      free (image);
      free (file);
    }
}

/* ---- hostile archives, written with libarchive from the fixture layout ---- */

enum tamper
{
  T_NONE,
  T_DOTDOT,         /* an extra member "../escape" */
  T_DUPLICATE,      /* index.json twice */
  T_WRONG_DIGEST,   /* the smallest blob (a document: read before anything parses it) altered */
  T_LONGER_BLOB,    /* the largest blob with a byte more than its descriptor says */
  T_SYMLINK_BLOB,   /* the largest blob a symlink to index.json */
  T_ABSOLUTE,       /* an extra member "/etc/escape" */
};

static char *
read_at_dir (const char *dir, const char *name, size_t *len)
{
  char *p = tu_fmt ("%s/%s", dir, name), *data = fx_read_file (p, len);
  free (p);
  return data;
}

/* The layout LAYOUT as an oci-archive FILE, tampered with as HOW says.  */
static void
write_oci_archive (const char *file, enum tamper how)
{
  struct fx_tar *t = fx_tar_new ();
  char *blobs = tu_fmt ("%s/blobs/sha256", layout), *data, *names[16];
  size_t len, largest_len = 0, smallest_len = (size_t) -1, n = 0, i, largest = 0, smallest = 0;
  struct dirent *de;
  DIR *d;
  void *buf;

  data = read_at_dir (layout, "oci-layout", &len);
  fx_tar_file_ex (t, "oci-layout", 0644, 0, 0, FX_MTIME, data, len);
  free (data);
  data = read_at_dir (layout, "index.json", &len);
  fx_tar_file_ex (t, "index.json", 0644, 0, 0, FX_MTIME, data, len);
  if (how == T_DUPLICATE)
    fx_tar_file_ex (t, "./index.json", 0644, 0, 0, FX_MTIME, "{}", 2);
  free (data);
  fx_tar_dir (t, "blobs", 0755);
  fx_tar_dir (t, "blobs/sha256", 0755);
  d = opendir (blobs);
  cr_assert_not_null (d);
  while ((de = readdir (d)) && n < 16)
    if (de->d_name[0] != '.')
      {
        struct stat st;
        names[n] = tu_fmt ("blobs/sha256/%s", de->d_name);
        cr_assert_eq (fstatat (dirfd (d), de->d_name, &st, 0), 0);
        if ((size_t) st.st_size > largest_len)
          largest_len = st.st_size, largest = n;
        if ((size_t) st.st_size < smallest_len)
          smallest_len = st.st_size, smallest = n;
        n++;
      }
  closedir (d);
  for (i = 0; i < n; i++)
    {
      data = read_at_dir (layout, names[i], &len);
      if (i == largest && how == T_SYMLINK_BLOB)
        fx_tar_symlink (t, names[i], "../../index.json");
      else if (i == largest && how == T_LONGER_BLOB)
        {
          data = realloc (data, len + 1);
          data[len] = 'x';
          fx_tar_file_ex (t, names[i], 0644, 0, 0, FX_MTIME, data, len + 1);
        }
      else
        {
          if (i == smallest && how == T_WRONG_DIGEST)
            data[len - 2] ^= 1;
          fx_tar_file_ex (t, names[i], 0644, 0, 0, FX_MTIME, data, len);
        }
      free (data);
      free (names[i]);
    }
  if (how == T_DOTDOT)
    fx_tar_file (t, "blobs/../../escape", 0644, "x");
  if (how == T_ABSOLUTE)
    fx_tar_file (t, "/etc/escape", 0644, "x");
  fx_tar_finish (t, &buf, &len);
  fx_write_file (file, buf, len);
  free (buf);
  free (blobs);
}

/* The command fails with one line naming NEEDLE, for verify and for bundle.  */
static void
assert_refused (const char *image, const char *needle)
{
  struct tu_result r;
  char *b = tu_fmt ("%s/bundle", tmp);

  TU_PREP (&r, "verify", image);
  tu_assert_error (&r, needle);
  tu_result_free (&r);
  TU_PREP_STORE (&r, store, "bundle", image, b);
  tu_assert_error (&r, needle);
  tu_result_free (&r);
  cr_expect (! tu_exists (b, "config.json"), "no bundle from a refused archive");
  free (b);
}

static char *
hostile (enum tamper how)
{
  char *file = tu_fmt ("%s/hostile.tar", tmp), *image = tu_fmt ("oci-archive:%s:main", file);

  busybox_layout ();
  write_oci_archive (file, how);
  free (file);
  return image;
}

Test (archive, fixture_oci_archive_is_accepted)
{
  char *image = hostile (T_NONE);
  struct tu_result r;

  TU_PREP (&r, "verify", image);
  cr_assert_eq (r.status, 0, "%s%s", r.out, r.err);
  tu_result_free (&r);
  free (image);
}

/* One test per way of tampering: the archive is refused with NEEDLE in the error.  */
#define HOSTILE_TEST(name, how, needle)                                                                                \
  Test (archive, name)                                                                                                 \
  {                                                                                                                    \
    char *image = hostile (how);                                                                                       \
    assert_refused (image, needle);                                                                                    \
    free (image);                                                                                                      \
  }

HOSTILE_TEST (dotdot_member_name_is_refused, T_DOTDOT,
              "member 'blobs/../../escape': '..', '.' or empty path component")
HOSTILE_TEST (absolute_member_name_is_refused, T_ABSOLUTE, "member '/etc/escape' has an absolute name")
HOSTILE_TEST (duplicate_member_is_refused, T_DUPLICATE, "duplicate member 'index.json'")
HOSTILE_TEST (member_with_wrong_digest_is_refused, T_WRONG_DIGEST, "digest mismatch")
HOSTILE_TEST (member_longer_than_its_descriptor_is_refused, T_LONGER_BLOB, "longer than its declared size")
HOSTILE_TEST (symlink_blob_is_not_followed, T_SYMLINK_BLOB, "is a link in the archive, not a regular file")

Test (archive, truncated_archive_is_refused)
{
  char *image = hostile (T_NONE), *file = tu_fmt ("%s/hostile.tar", tmp);
  struct stat st;

  cr_assert_eq (stat (file, &st), 0);
  cr_assert_eq (truncate (file, st.st_size / 2), 0);
  assert_refused (image, "truncated");
  free (file);
  free (image);
}

/* A member whose header declares more bytes than the file holds (an oversized member):
   refused when indexing, never read past the end.  */
Test (archive, member_size_past_the_end_is_refused)
{
  char *image = hostile (T_NONE), *file = tu_fmt ("%s/hostile.tar", tmp);
  size_t len;
  unsigned char *data = (unsigned char *) fx_read_file (file, &len);
  unsigned sum = 0;
  size_t i;

  /* The first member is oci-layout: declare 077777777777 bytes, fix the checksum.  */
  memcpy (data + 124, "77777777777", 11);
  memset (data + 148, ' ', 8);
  for (i = 0; i < 512; i++)
    sum += data[i];
  snprintf ((char *) data + 148, 8, "%06o", sum);
  fx_write_file (file, data, len);
  assert_refused (image, "truncated: member at byte 0 declares 8589934591 bytes");
  free (data);
  free (file);
  free (image);
}

Test (archive, corrupt_header_checksum_is_refused)
{
  char *image = hostile (T_NONE), *file = tu_fmt ("%s/hostile.tar", tmp);
  size_t len;
  char *data = fx_read_file (file, &len);

  data[100] ^= 1; /* the mode field of the first header */
  fx_write_file (file, data, len);
  assert_refused (image, "corrupt header at byte 0 (bad checksum)");
  free (data);
  free (file);
  free (image);
}

Test (archive, compressed_archive_is_refused_with_a_hint)
{
  char *image = hostile (T_NONE), *file = tu_fmt ("%s/hostile.tar", tmp);
  size_t len, zlen;
  char *data = fx_read_file (file, &len);
  void *z;

  fx_compress (data, len, "gzip", &z, &zlen);
  fx_write_file (file, z, zlen);
  assert_refused (image, "compressed (gzip); it is read in place, decompress it first");
  free (z);
  free (data);
  free (file);
  free (image);
}

/* A docker-archive's layer must hash to its config's diffID.  */
Test (archive, docker_archive_layer_with_wrong_diff_id_is_refused)
{
  struct fx_tar *t = fx_tar_new (), *layer = fx_tar_new ();
  char *file = tu_fmt ("%s/docker.tar", tmp), *image = tu_fmt ("docker-archive:%s", file);
  char config[1024], manifest[512], diff_id[200], config_digest[200];
  void *ltar, *buf;
  size_t llen, len;

  fx_tar_file (layer, "hello", 0644, "hi\n");
  fx_tar_finish (layer, &ltar, &llen);
  fx_hash ("sha256", ltar, llen, diff_id);
  /* The file's content, which no tar checksum covers: still a valid tar, but not the
     one the diffID names.  */
  cr_assert_eq (memcmp ((char *) ltar + 512, "hi\n", 3), 0);
  ((char *) ltar)[513] = 'o';
  snprintf (config, sizeof config,
            "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
            "\"diff_ids\":[\"%s\"]}}",
            fx_host_arch (), diff_id);
  fx_hash ("sha256", config, strlen (config), config_digest);
  snprintf (manifest, sizeof manifest, "[{\"Config\":\"%s.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l.tar\"]}]",
            config_digest + 7);
  fx_tar_file (t, "manifest.json", 0644, manifest);
  {
    char *name = tu_fmt ("%s.json", config_digest + 7);
    fx_tar_file (t, name, 0644, config);
    free (name);
  }
  fx_tar_file_ex (t, "l.tar", 0644, 0, 0, FX_MTIME, ltar, llen);
  fx_tar_finish (t, &buf, &len);
  fx_write_file (file, buf, len);
  assert_refused (image, "digest mismatch");
  free (buf);
  free (ltar);
  free (file);
  free (image);
}

/* A docker-archive config whose name says another digest than its content.  */
Test (archive, docker_archive_config_named_by_another_digest_is_refused)
{
  struct fx_tar *t = fx_tar_new ();
  char *file = tu_fmt ("%s/docker.tar", tmp), *image = tu_fmt ("docker-archive:%s", file);
  static const char wrong[] = "0000000000000000000000000000000000000000000000000000000000000000";
  char *manifest = tu_fmt ("[{\"Config\":\"%s.json\",\"RepoTags\":null,\"Layers\":[]}]", wrong);
  char *name = tu_fmt ("%s.json", wrong);
  void *buf;
  size_t len;

  fx_tar_file (t, "manifest.json", 0644, manifest);
  fx_tar_file (t, name, 0644, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
  fx_tar_finish (t, &buf, &len);
  fx_write_file (file, buf, len);
  assert_refused (image, "digest mismatch: content hashes to");
  free (buf);
  free (name);
  free (manifest);
  free (file);
  free (image);
}

Test (archive, image_ref_transports_parse)
{
  struct ocip_image_ref ref;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_image_ref_parse ("oci-archive:/a/b.tar:v1", &ref, &err), 0);
  cr_expect_eq (ref.transport, OCIP_TRANSPORT_OCI_ARCHIVE);
  cr_expect_str_eq (ref.layout, "/a/b.tar");
  cr_expect_str_eq (ref.ref, "v1");
  ocip_image_ref_clear (&ref);
  cr_assert_eq (ocip_image_ref_parse ("docker-archive:/a/b.tar:docker.io/library/busybox:latest", &ref, &err), 0);
  cr_expect_eq (ref.transport, OCIP_TRANSPORT_DOCKER_ARCHIVE);
  cr_expect_str_eq (ref.layout, "/a/b.tar");
  cr_expect_str_eq (ref.ref, "docker.io/library/busybox:latest");
  ocip_image_ref_clear (&ref);
  cr_assert_eq (ocip_image_ref_parse ("docker-archive:b@x.tar:@12", &ref, &err), 0);
  cr_expect_str_eq (ref.layout, "b@x.tar");
  cr_expect_str_eq (ref.ref, "@12");
  ocip_image_ref_clear (&ref);
  cr_expect_lt (ocip_image_ref_parse ("docker-archive:b.tar:@01", &ref, &err), 0);
  ocip_error_release (&err);
  cr_expect_lt (ocip_image_ref_parse ("docker-archive:", &ref, &err), 0);
  ocip_error_release (&err);
}
