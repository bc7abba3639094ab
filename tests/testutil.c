/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
/* Test helpers: child processes with captured output, runtimes, mounts, files, busybox images,
   the sentinel of the hostile-input suites. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive_entry.h>
#include <errno.h>
#include <oci-prep/cleanup.h>
#include <yajl/yajl_tree.h>

#include "fixture.h"
#include "testutil.h"

extern char **environ;

static char *
slurp_fd (int fd)
{
  size_t len = 0, cap = 4096;
  char *buf = malloc (cap);
  ssize_t n;

  FX_CHECK (buf != NULL);
  FX_CHECK (lseek (fd, 0, SEEK_SET) == 0);
  while ((n = read (fd, buf + len, cap - len - 1)) > 0)
    {
      len += n;
      if (cap - len < 2)
        {
          cap *= 2;
          buf = realloc (buf, cap);
          FX_CHECK (buf != NULL);
        }
    }
  FX_CHECK (n == 0);
  buf[len] = '\0';
  return buf;
}

static int
temp_fd (void)
{
  char name[] = "/tmp/ocip-test-out-XXXXXX";
  int fd = mkstemp (name);

  FX_CHECK (fd >= 0);
  unlink (name);
  return fd;
}

static void
run (struct tu_result *r, const char *path, char *const *argv)
{
  posix_spawn_file_actions_t fa;
  int out = temp_fd (), err = temp_fd (), status;
  pid_t pid;

  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, out, 1);
  posix_spawn_file_actions_adddup2 (&fa, err, 2);
  FX_CHECK (posix_spawn (&pid, path, &fa, NULL, argv, environ) == 0);
  posix_spawn_file_actions_destroy (&fa);
  FX_CHECK (waitpid (pid, &status, 0) == pid);
  r->status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  r->out = slurp_fd (out);
  r->err = slurp_fd (err);
  close (out);
  close (err);
}

void
tu_prep (struct tu_result *r, const char *const *args)
{
  /* Tests name their store with --store; one that forgets must not touch the machine's
     default store (and verify finds no store, so no cache, unless it is given one).  */
  setenv ("OCI_PREP_STORE", "/nonexistent/oci-prep-test-store", 0);
  const char *argv[64] = { OCIP_BINARY };
  size_t i;

  for (i = 0; args[i]; i++)
    {
      FX_CHECK (i + 2 < sizeof argv / sizeof argv[0]);
      argv[i + 1] = args[i];
    }
  run (r, OCIP_BINARY, (char *const *) argv);
}

void
tu_prep_store (struct tu_result *r, const char *store, const char *const *args)
{
  const char *argv[64] = { "--store", store };
  size_t i;

  for (i = 0; args[i]; i++)
    {
      FX_CHECK (i + 3 < sizeof argv / sizeof argv[0]);
      argv[i + 2] = args[i];
    }
  tu_prep (r, argv);
}

void
tu_sh (struct tu_result *r, const char *fmt, ...)
{
  char *cmd;
  va_list ap;

  va_start (ap, fmt);
  FX_CHECK (vasprintf (&cmd, fmt, ap) >= 0);
  va_end (ap);
  run (r, "/bin/sh", (char *const[]){ "sh", "-c", cmd, NULL });
  free (cmd);
}

void
tu_result_free (struct tu_result *r)
{
  free (r->out);
  free (r->err);
  r->out = r->err = NULL;
}

bool
tu_have (const char *program)
{
  struct tu_result r;
  bool ok;

  tu_sh (&r, "command -v '%s'", program);
  ok = r.status == 0;
  tu_result_free (&r);
  return ok;
}

bool
tu_in_ci (void)
{
  const char *ci = getenv ("CI");
  return ci && *ci && strcmp (ci, "false") != 0;
}

void
tu_need (const char *program, void (*cleanup) (void))
{
  if (tu_have (program))
    return;
  cr_assert (! tu_in_ci (), "%s is missing in CI: scripts/deps installs it", program);
  if (cleanup)
    cleanup ();
  cr_skip_test ("%s is not installed", program);
}

/* ---- runtimes ---- */

static char *containers[32];
static size_t n_containers;

/* "ocip-test-PID-N", remembered for tu_delete_containers.  */
static const char *
new_container_id (void)
{
  char *id;

  FX_CHECK (n_containers < sizeof containers / sizeof containers[0]);
  id = tu_fmt ("ocip-test-%d-%zu", (int) getpid (), n_containers);
  containers[n_containers++] = id;
  return id;
}

void
tu_runc_run (struct tu_result *r, const char *bundle)
{
  const char *id = new_container_id ();
  tu_sh (r, "cd '%s' && exec timeout 60 runc run --bundle . %s", bundle, id);
}

void
tu_crun_run (struct tu_result *r, const char *bundle)
{
  const char *id = new_container_id ();
  tu_sh (r,
         "exec timeout 60 unshare -m sh -c 'umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && "
         "exec crun --cgroup-manager=disabled run --bundle \"%s\" %s'",
         bundle, id);
}

void
tu_delete_containers (void)
{
  struct tu_result r;
  size_t i;

  for (i = 0; i < n_containers; i++)
    {
      tu_sh (&r, "runc delete -f %s; crun delete -f %s", containers[i], containers[i]);
      tu_result_free (&r);
      free (containers[i]);
    }
  n_containers = 0;
}

/* ---- strings and files ---- */

char *
tu_fmt (const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  FX_CHECK (vasprintf (&s, fmt, ap) >= 0);
  va_end (ap);
  return s;
}

bool
tu_has_line (const char *text, const char *line)
{
  size_t len = strlen (line);
  const char *p = text;

  while ((p = strstr (p, line)) != NULL)
    {
      if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
        return true;
      p++;
    }
  return false;
}

int
tu_count (const char *haystack, const char *needle)
{
  int n = 0;

  for (const char *p = haystack; (p = strstr (p, needle)) != NULL; p++)
    n++;
  return n;
}

bool
tu_exists (const char *dir, const char *rel)
{
  struct stat st;
  char *p = rel ? tu_fmt ("%s/%s", dir, rel) : strdup (dir);
  bool ok;

  FX_CHECK (p != NULL);
  ok = lstat (p, &st) == 0;
  free (p);
  return ok;
}

int
tu_count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      n++;
  closedir (d);
  return n;
}

int
tu_count_pins (const char *store)
{
  char *p = tu_fmt ("%s/bundles", store);
  int n = tu_count_entries (p);

  free (p);
  return n < 0 ? 0 : n;
}

char *
tu_source_dir (void)
{
#ifdef OCIP_SRCDIR
  char *p = strdup (OCIP_SRCDIR);

  FX_CHECK (p != NULL);
  return p;
#else
  char *copy = strdup (__FILE__), *p;

  FX_CHECK (copy != NULL);
  p = tu_fmt ("%s/..", dirname (copy));
  free (copy);
  return p;
#endif
}

static void
render (FILE *f, yajl_val v)
{
  size_t i;

  if (v == NULL)
    fputs ("(absent)", f);
  else if (YAJL_IS_STRING (v))
    fprintf (f, "\"%s\"", v->u.string);
  else if (YAJL_IS_INTEGER (v))
    fprintf (f, "%lld", YAJL_GET_INTEGER (v));
  else if (YAJL_IS_TRUE (v))
    fputs ("true", f);
  else if (YAJL_IS_FALSE (v))
    fputs ("false", f);
  else if (YAJL_IS_NULL (v))
    fputs ("null", f);
  else if (YAJL_IS_ARRAY (v))
    {
      fputc ('[', f);
      for (i = 0; i < v->u.array.len; i++)
        {
          if (i)
            fputc (',', f);
          render (f, v->u.array.values[i]);
        }
      fputc (']', f);
    }
  else if (YAJL_IS_OBJECT (v))
    {
      fputc ('{', f);
      for (i = 0; i < v->u.object.len; i++)
        {
          fprintf (f, "%s\"%s\":", i ? "," : "", v->u.object.keys[i]);
          render (f, v->u.object.values[i]);
        }
      fputc ('}', f);
    }
  else
    fputs ("(number)", f);
}

char *
tu_json_at (const char *file, const char *path)
{
  char *text = fx_read_file (file, NULL), errbuf[256];
  yajl_val root = yajl_tree_parse (text, errbuf, sizeof errbuf), v;
  char *copy = strdup (path), *save = NULL, *out = NULL;
  const char *parts[16] = { 0 };
  size_t n = 0, len;
  FILE *f;

  FX_CHECK (copy != NULL);
  cr_assert (root != NULL, "%s is not JSON: %s\n%s", file, errbuf, text);
  for (char *p = strtok_r (copy, "/", &save); p; p = strtok_r (NULL, "/", &save))
    {
      FX_CHECK (n < sizeof parts / sizeof parts[0]);
      parts[n++] = p;
    }
  /* yajl_tree_get knows object keys only: walk arrays by index here.  */
  v = root;
  for (size_t i = 0; i < n && v; i++)
    if (YAJL_IS_ARRAY (v))
      {
        char *end;
        unsigned long k = strtoul (parts[i], &end, 10);
        v = *end == '\0' && k < v->u.array.len ? v->u.array.values[k] : NULL;
      }
    else
      {
        const char *one[2] = { parts[i], NULL };
        v = yajl_tree_get (v, one, yajl_t_any);
      }
  f = open_memstream (&out, &len);
  FX_CHECK (f != NULL);
  render (f, v);
  fclose (f);
  yajl_tree_free (root);
  free (copy);
  free (text);
  return out;
}

void
tu_assert_error (const struct tu_result *r, const char *needle)
{
  cr_assert_eq (r->status, 1, "expected exit 1, got %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
  cr_assert (strncmp (r->err, "oci-prep: ", 10) == 0, "error does not start with 'oci-prep: ': %s", r->err);
  cr_assert (strchr (r->err, '\n') == r->err + strlen (r->err) - 1, "error is not one line: %s", r->err);
  if (needle)
    cr_assert (strstr (r->err, needle) != NULL, "error lacks '%s': %s", needle, r->err);
}

/* ---- mounts ---- */

/* mountinfo writes a space, tab, newline and backslash of a path as \NNN (octal):
   decode S in place, so that a mount at a path holding them is found and detached.  */
static void
mountinfo_unescape (char *s)
{
  char *out = s;

  for (; *s; s++)
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
      {
        *out++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
        s += 3;
      }
    else
      *out++ = *s;
  *out = '\0';
}

size_t
tu_mount_points_under (const char *path, char ***ret)
{
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  size_t len = strlen (path), n = 0, cap = 0;
  char *line = NULL;
  char **v = NULL;

  FX_CHECK (f != NULL);
  while (getline (&line, &cap, f) > 0)
    {
      char mp[4096];

      if (sscanf (line, "%*s %*s %*s %*s %4095s", mp) != 1)
        continue;
      mountinfo_unescape (mp);
      if (strncmp (mp, path, len) == 0 && (mp[len] == '\0' || mp[len] == '/'))
        {
          if (ret)
            {
              v = realloc (v, (n + 1) * sizeof *v);
              FX_CHECK (v != NULL);
              v[n] = strdup (mp);
              FX_CHECK (v[n] != NULL);
            }
          n++;
        }
    }
  free (line);
  fclose (f);
  if (ret)
    *ret = v;
  return n;
}

/* Field FIELD after the separator of the last mountinfo line of the mount at exactly
   PATH ("... - fstype source superoptions": 0 the type, 2 the options), malloc'd; NULL
   when there is none.  */
static char *
mount_field (const char *path, int field)
{
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  char *line = NULL, *found = NULL;
  size_t cap = 0;

  FX_CHECK (f != NULL);
  while (getline (&line, &cap, f) > 0)
    {
      char mp[4096];
      const char *p;
      int i;

      if (sscanf (line, "%*s %*s %*s %*s %4095s", mp) != 1)
        continue;
      mountinfo_unescape (mp);
      if (strcmp (mp, path) != 0)
        continue;
      p = strstr (line, " - ");
      for (i = 0, p = p ? p + 3 : NULL; p && i < field; i++)
        p = strchr (p, ' ') ? strchr (p, ' ') + 1 : NULL;
      if (p == NULL || strcspn (p, " \n") == 0)
        continue;
      free (found);
      found = strndup (p, strcspn (p, " \n"));
      FX_CHECK (found != NULL);
    }
  free (line);
  fclose (f);
  return found;
}

char *
tu_mount_type (const char *path)
{
  return mount_field (path, 0);
}

char *
tu_mount_options (const char *path)
{
  return mount_field (path, 2);
}

/* ---- a test's working directory ---- */

void
tu_workdir_new (char **tmp, char **layout, char **store)
{
  *tmp = fx_mkdtemp ();
  *layout = tu_fmt ("%s/img", *tmp);
  *store = tu_fmt ("%s/store", *tmp);
}

void
tu_workdir_free (char **tmp, char **layout, char **store)
{
  size_t i, n;
  char **mps;

  if (*tmp == NULL)
    return;
  tu_delete_containers ();
  while ((n = tu_mount_points_under (*tmp, &mps)) > 0)
    {
      for (i = n; i-- > 0;)
        {
          umount2 (mps[i], MNT_DETACH);
          free (mps[i]);
        }
      free (mps);
    }
  fx_rm_rf (*tmp);
  free (*tmp);
  free (*layout);
  free (*store);
  *tmp = *layout = *store = NULL;
}

/* ---- busybox images ---- */

void
tu_tar_busybox (struct fx_tar *t, const char *const *applets)
{
  size_t len, i;
  char *bb = fx_read_file ("/bin/busybox", &len);

  fx_tar_dir (t, "bin", 0755);
  fx_tar_file_ex (t, "bin/busybox", 0755, 0, 0, FX_MTIME, bb, len);
  for (i = 0; applets[i]; i++)
    {
      char *p = tu_fmt ("bin/%s", applets[i]);
      fx_tar_symlink (t, p, "busybox");
      free (p);
    }
  free (bb);
}

void
tu_tar_users (struct fx_tar *t, const char *passwd, const char *group)
{
  struct archive_entry *e = fx_entry_new ("home/alice", AE_IFDIR, 0750);

  fx_tar_dir (t, "etc", 0755);
  fx_tar_file (t, "etc/passwd", 0644, passwd);
  fx_tar_file (t, "etc/group", 0644, group);
  fx_tar_dir (t, "home", 0755);
  archive_entry_set_uid (e, 1000);
  archive_entry_set_gid (e, 1000);
  fx_tar_raw (t, e, NULL, 0);
  archive_entry_free (e);
}

void
tu_tar_whiteout_targets (struct fx_tar *t)
{
  fx_tar_file (t, "etc/victim", 0644, "whited out by layer 2\n");
  fx_tar_dir (t, "opq", 0755);
  fx_tar_file (t, "opq/old1", 0644, "old1\n");
  fx_tar_file (t, "opq/old2", 0644, "old2\n");
}

void
tu_whiteout_layer (void **tar, size_t *len)
{
  struct fx_tar *t = fx_tar_new ();

  fx_tar_whiteout (t, "etc/victim");
  fx_tar_opaque (t, "opq");
  fx_tar_file (t, "opq/new", 0644, "new\n");
  fx_tar_file (t, "etc/top", 0644, "top\n");
  fx_tar_finish (t, tar, len);
}

void
tu_images_per_config (const char *dir, const struct fx_layer *layers, size_t n_layers,
                      const struct tu_ref_config *configs, size_t n)
{
  struct fx_index_entry *entries = calloc (n ? n : 1, sizeof *entries);
  size_t i;

  FX_CHECK (entries != NULL);
  fx_layout_init (dir);
  for (i = 0; i < n; i++)
    {
      struct fx_image img = { .dir = dir, .layers = layers, .n_layers = n_layers, .config = configs[i].config };
      fx_image_write (&img, &entries[i].desc);
      entries[i].ref = configs[i].ref;
    }
  fx_index_write (dir, entries, n);
  free (entries);
}

/* ---- the sentinel: what hostile-input tests check nothing touched ---- */

void
tu_sentinel_create (const char *sentinel)
{
  struct timespec ts[2] = { { TU_SENTINEL_MTIME, TU_SENTINEL_NSEC }, { TU_SENTINEL_MTIME, TU_SENTINEL_NSEC } };
  char path[PATH_MAX];

  cr_assert_eq (mkdir (sentinel, 0755), 0);
  snprintf (path, sizeof path, "%s/victim", sentinel);
  fx_write_file (path, "victim", 6);
  cr_assert_eq (chmod (path, 0644), 0);
  cr_assert_eq (lchown (path, 0, 0), 0);
  cr_assert_eq (utimensat (AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
  snprintf (path, sizeof path, "%s/dir", sentinel);
  cr_assert_eq (mkdir (path, 0755), 0);
  cr_assert_eq (utimensat (AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
  cr_assert_eq (utimensat (AT_FDCWD, sentinel, ts, AT_SYMLINK_NOFOLLOW), 0);
}


struct lines
{
  char **v;
  size_t n, cap;
};

static void
lines_add (struct lines *l, char *s)
{
  if (l->n == l->cap)
    {
      l->cap = l->cap ? l->cap * 2 : 16;
      l->v = xreallocarray (l->v, l->cap, sizeof *l->v);
    }
  l->v[l->n++] = s;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* "name=hexvalue;..." for every xattr of ABS, without following it.  */
static char *
describe_xattrs (const char *abs)
{
  char names[4096], value[4096];
  ssize_t len = llistxattr (abs, names, sizeof names);
  size_t used = 0, cap = 1;
  char *out = xzalloc (1);

  cr_assert_geq (len, 0, "llistxattr %s: %s", abs, strerror (errno));
  for (char *name = names; name < names + len; name += strlen (name) + 1)
    {
      ssize_t n = lgetxattr (abs, name, value, sizeof value);
      cr_assert_geq (n, 0, "lgetxattr %s %s: %s", abs, name, strerror (errno));
      cap = used + strlen (name) + 2 * (size_t) n + 3;
      out = xrealloc (out, cap);
      used += (size_t) sprintf (out + used, "%s=", name);
      for (ssize_t i = 0; i < n; i++)
        used += (size_t) sprintf (out + used, "%02x", (unsigned char) value[i]);
      out[used++] = ';';
      out[used] = '\0';
    }
  return out;
}

/* One line per entry under ABS (REL is its name in the snapshot): everything lstat says
   but the atime, the content's hash or the symlink's target, and the xattrs.  */
static void
snapshot_walk (const char *abs, const char *rel, struct lines *l)
{
  struct stat st;
  char what[PATH_MAX + 256] = "";
  cleanup_free char *xattrs = NULL;

  cr_assert_eq (lstat (abs, &st), 0, "lstat %s: %s", abs, strerror (errno));
  if (S_ISREG (st.st_mode))
    {
      size_t n;
      char *data = fx_read_file (abs, &n);
      fx_hash ("sha256", data, n, what);
      free (data);
    }
  else if (S_ISLNK (st.st_mode))
    {
      ssize_t n = readlink (abs, what, sizeof what - 1);
      cr_assert_geq (n, 0);
      what[n] = '\0';
    }
  xattrs = describe_xattrs (abs);
  lines_add (l, xasprintf ("%s mode=0%o uid=%u gid=%u size=%lld nlink=%lu ino=%lu rdev=%lu mtime=%lld.%09ld "
                           "ctime=%lld.%09ld [%s] {%s}",
                           rel, st.st_mode, st.st_uid, st.st_gid, (long long) st.st_size, (unsigned long) st.st_nlink,
                           (unsigned long) st.st_ino, (unsigned long) st.st_rdev, (long long) st.st_mtim.tv_sec,
                           st.st_mtim.tv_nsec, (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec, what, xattrs));
  if (S_ISDIR (st.st_mode))
    {
      DIR *d = opendir (abs);
      struct dirent *de;

      cr_assert_not_null (d, "opendir %s: %s", abs, strerror (errno));
      while ((de = readdir (d)) != NULL)
        {
          char child_abs[PATH_MAX], child_rel[PATH_MAX];
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
          snprintf (child_abs, sizeof child_abs, "%s/%s", abs, de->d_name);
          snprintf (child_rel, sizeof child_rel, "%s/%s", rel, de->d_name);
          snapshot_walk (child_abs, child_rel, l);
        }
      closedir (d);
    }
}

char *
tu_sentinel_snapshot (const char *tmp, const char *sentinel)
{
  struct lines l = { 0 };
  struct stat st;
  DIR *d;
  struct dirent *de;
  size_t total = 1;
  char *out;

  cr_assert_eq (lstat (tmp, &st), 0);
  lines_add (&l, xasprintf (". mode=0%o uid=%u gid=%u mtime=%lld.%09ld ctime=%lld.%09ld", st.st_mode, st.st_uid,
                            st.st_gid, (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long) st.st_ctim.tv_sec,
                            st.st_ctim.tv_nsec));
  d = opendir (tmp);
  cr_assert_not_null (d);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      lines_add (&l, xasprintf ("name-in-tmp %s", de->d_name));
  closedir (d);
  snapshot_walk (sentinel, "sentinel", &l);

  qsort (l.v, l.n, sizeof *l.v, cmp_str);
  for (size_t i = 0; i < l.n; i++)
    total += strlen (l.v[i]) + 1;
  out = xzalloc (total);
  for (size_t i = 0; i < l.n; i++)
    {
      strcat (out, l.v[i]);
      strcat (out, "\n");
      free (l.v[i]);
    }
  free (l.v);
  return out;
}

void
tu_sentinel_assert_untouched (const char *before, const char *tmp, const char *sentinel, const char *what)
{
  cleanup_free char *now = tu_sentinel_snapshot (tmp, sentinel);
  cleanup_free char *victim = NULL;
  char path[PATH_MAX];

  cr_assert_str_eq (now, before, "something outside %s changed:\n--- before\n%s--- after\n%s", what, before, now);
  snprintf (path, sizeof path, "%s/victim", sentinel);
  victim = fx_read_file (path, NULL);
  cr_assert_str_eq (victim, "victim");
}

int
tu_watch_opens (const char *path)
{
  int fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);

  cr_assert_geq (fd, 0, "inotify_init1: %s", strerror (errno));
  cr_assert_geq (inotify_add_watch (fd, path, IN_OPEN), 0, "watch '%s': %s", path, strerror (errno));
  return fd;
}

int
tu_device_watched (const char *path)
{
  if (unlink (path) < 0 && errno != ENOENT)
    cr_assert_fail ("unlink '%s': %s", path, strerror (errno));
  cr_assert_eq (mknod (path, S_IFCHR | 0644, makedev (1, 3)), 0, "mknod '%s': %s", path, strerror (errno));
  return tu_watch_opens (path);
}

int
tu_opens (int fd)
{
  char buf[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  const struct inotify_event *ev;
  int n = 0;
  ssize_t len;

  while ((len = read (fd, buf, sizeof buf)) > 0)
    for (char *p = buf; p < buf + len; p += sizeof *ev + ev->len)
      {
        ev = (const struct inotify_event *) p;
        if (ev->mask & IN_OPEN)
          n++;
      }
  cr_assert (len < 0 && errno == EAGAIN, "read inotify events: %s", len < 0 ? strerror (errno) : "end of file");
  return n;
}
