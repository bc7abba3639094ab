/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helpers: run the built oci-prep binary, a shell command or a runtime and capture what it says;
   mounts, files and busybox images the end-to-end suites share. */
#ifndef OCIP_TESTS_TESTUTIL_H
#define OCIP_TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

struct fx_tar;
struct fx_layer;

struct tu_result
{
  int status; /* exit status, or 128 + signal */
  char *out;  /* stdout, NUL-terminated */
  char *err;  /* stderr, NUL-terminated */
};

/* Run the oci-prep binary under test with the NULL-terminated ARGS (without argv[0]).  */
void tu_prep (struct tu_result *r, const char *const *args);
#define TU_PREP(r, ...) tu_prep ((r), (const char *const[]){ __VA_ARGS__, NULL })
/* The same as "oci-prep --store STORE ARGS...".  */
void tu_prep_store (struct tu_result *r, const char *store, const char *const *args);
#define TU_PREP_STORE(r, store, ...) tu_prep_store ((r), (store), (const char *const[]){ __VA_ARGS__, NULL })
/* Run "sh -c CMD" with stdout and stderr captured.  */
void tu_sh (struct tu_result *r, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void tu_result_free (struct tu_result *r);

/* Whether PROGRAM is on PATH.  */
bool tu_have (const char *program);
/* In CI (CI=true) a missing capability is a failure, never a skip.  */
bool tu_in_ci (void);
/* Go on only when PROGRAM is on PATH.  Without it the test fails in CI; elsewhere
   CLEANUP (the suite's .fini, which a skipped test does not reach; may be NULL) runs
   and the test is skipped.  */
void tu_need (const char *program, void (*cleanup) (void));

/* ---- runtimes ---- */

/* runc run (at most 60 s) the bundle at BUNDLE as a new container, remembered for
   tu_delete_containers.  */
void tu_runc_run (struct tu_result *r, const char *bundle);
/* The same with crun, in a private mount namespace with a pure cgroup2 hierarchy
   (crun wants one) and no cgroup manager.  */
void tu_crun_run (struct tu_result *r, const char *bundle);
/* runc delete -f and crun delete -f every container tu_runc_run and tu_crun_run
   started, and forget them: for a suite's .fini.  */
void tu_delete_containers (void);

/* ---- strings and files ---- */

/* printf into a new string (malloc'd).  */
char *tu_fmt (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Whether TEXT has LINE as one whole line.  */
bool tu_has_line (const char *text, const char *line);
/* How many times NEEDLE occurs in HAYSTACK, overlapping occurrences included.  */
int tu_count (const char *haystack, const char *needle);
/* Whether DIR/REL (DIR itself when REL is NULL) exists; a symlink is not followed.  */
bool tu_exists (const char *dir, const char *rel);
/* Entries of DIR other than "." and ".."; -1 when DIR cannot be opened.  */
int tu_count_entries (const char *dir);
/* Bundles pinned in the store STORE: every entry of STORE/bundles (a leftover
   temporary file counts: gc would read it as a pin); 0 for a store never created.  */
int tu_count_pins (const char *store);
/* The top source directory (OCIP_SRCDIR when the build defines it, else the parent
   of this file's directory), malloc'd.  */
char *tu_source_dir (void);

/* The member at PATH of the JSON file FILE, read with yajl (not oci-prep's json
   module) and rendered compactly ("(absent)" when there is none).  PATH is keys and
   array indexes separated by "/" ("process/args", "mounts/5/destination"); keys may
   contain dots.  A FILE that is not JSON fails the test.  */
char *tu_json_at (const char *file, const char *path);
/* R is the one-line error of a failed command: exit 1, "oci-prep: ...", NEEDLE in it
   (when not NULL).  */
void tu_assert_error (const struct tu_result *r, const char *needle);

/* ---- mounts, read from /proc/self/mountinfo ---- */

/* How many mount points are at or under PATH; *RET (when RET is not NULL) gets them,
   malloc'd, in the kernel's order (deepest last).  */
size_t tu_mount_points_under (const char *path, char ***ret);
/* The file system type, and the super options, of the mount at exactly PATH (the
   last one listed), malloc'd; NULL when nothing is mounted there.  */
char *tu_mount_type (const char *path);
char *tu_mount_options (const char *path);

/* ---- a test's working directory ---- */

/* For a suite's .init: *TMP a fresh directory (fx_mkdtemp), *LAYOUT "TMP/img" and
   *STORE "TMP/store" (neither created), all malloc'd.  */
void tu_workdir_new (char **tmp, char **layout, char **store);
/* For a suite's .fini, also when the test failed half-way: tu_delete_containers, then
   every mount at or under *TMP detached (MNT_DETACH, deepest first, until none is left,
   so that removing *TMP never reaches into a layer store), then *TMP removed; the
   three strings are freed and set to NULL.  Nothing is done when *TMP is NULL.  */
void tu_workdir_free (char **tmp, char **layout, char **store);

/* ---- busybox images ---- */

/* The host's static /bin/busybox as bin/busybox (bin/ 0755, the file 0755) and a link
   bin/NAME -> busybox for each NAME of the NULL-terminated APPLETS.  */
void tu_tar_busybox (struct fx_tar *t, const char *const *applets);
/* etc/ (0755), etc/passwd with PASSWD and etc/group with GROUP (0644), then home/
   (0755) and home/alice (0750, 1000:1000): the home of alice, uid 1000, whom every
   PASSWD given here has.  */
void tu_tar_users (struct fx_tar *t, const char *passwd, const char *group);
/* What tu_whiteout_layer deletes and hides: etc/victim (0644) and opq/ (0755) with
   opq/old1 and opq/old2.  etc/ must be there already (tu_tar_users).  */
void tu_tar_whiteout_targets (struct fx_tar *t);
/* A layer over tu_tar_whiteout_targets: whites out etc/victim, makes opq/ opaque with
   one new entry, opq/new ("new\n"), and adds etc/top ("top\n").  *TAR is malloc'd.  */
void tu_whiteout_layer (void **tar, size_t *len);

/* A ref and its image's config (fx_image.config).  */
struct tu_ref_config
{
  const char *ref, *config;
};
/* Initialise the layout DIR and write one image per entry of CONFIGS (N of them): the
   N_LAYERS LAYERS (bottom first) with that entry's config, named by its ref in
   index.json.  */
void tu_images_per_config (const char *dir, const struct fx_layer *layers, size_t n_layers,
                           const struct tu_ref_config *configs, size_t n);

/* The sentinel beside the targets of hostile-input tests: a directory holding "victim"
   (a file reading "victim", 0644) and "dir/", root-owned, all with this mtime.  */
#define TU_SENTINEL_MTIME 1600000000LL
#define TU_SENTINEL_NSEC 123456789L
void tu_sentinel_create (const char *sentinel);
/* TMP's own metadata and names, and one line per entry under SENTINEL: everything
   lstat says but the atime, the content's hash or the symlink's target, and the xattrs;
   sorted.  Malloc'd.  */
char *tu_sentinel_snapshot (const char *tmp, const char *sentinel);
/* Fail the test unless a new snapshot equals BEFORE (inode for inode, byte for byte)
   and the victim still reads "victim"; WHAT names the targets in the message.  */
void tu_sentinel_assert_untouched (const char *before, const char *tmp, const char *sentinel, const char *what);

/* ---- device nodes that must never be opened (CVE-2024-9676) ---- */

/* An inotify fd (non-blocking) watching the existing PATH for IN_OPEN.  */
int tu_watch_opens (const char *path);
/* Replace PATH (removed first if it exists) with a character device node of /dev/null's
   numbers (1:3, mknod needs root; CI is root), whose open() succeeds and is harmless,
   and return tu_watch_opens (PATH).  */
int tu_device_watched (const char *path);
/* How many times the node watched by the inotify fd FD was opened since the last call.
   An O_PATH open opens nothing and is not counted; a real open is, even when the opener
   then refuses the file.  The event is queued by the open itself, so a count taken
   right after the code under test returns is complete.  Closes nothing.  */
int tu_opens (int fd);

#endif
