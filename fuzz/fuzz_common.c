/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the libFuzzer harnesses: oracles for the library's contracts, scratch directories. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include <oci-prep/cleanup.h>
#include "base/fsroot.h"
#include "base/fsutil.h"

#include "fuzz_common.h"

/* UBSan stops at its first report, as ASan does.  The checks are built recoverable only
   so that fuzz/run can suppress a known report (fuzz/ubsan.supp) while it is being
   fixed; everywhere else, UB aborts and libFuzzer keeps the input.  */
const char *__ubsan_default_options (void);

const char *
__ubsan_default_options (void)
{
  return "halt_on_error=1:print_stacktrace=1";
}

void
fuzz_fail (const char *file, int line, const char *cond, const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "==oci-prep-fuzz== %s:%d: check '%s' failed: ", file, line, cond);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  abort ();
}

long
fuzz_check_result (const char *what, long r, ocip_error_t *err)
{
  static int verbose = -1;

  if (verbose < 0)
    verbose = getenv ("OCIP_FUZZ_VERBOSE") != NULL;
  if (verbose)
    fprintf (stderr, "oci-prep-fuzz: %s: %ld%s%s\n", what, r, *err ? ": " : "", *err ? (*err)->msg : "");
  if (r < 0)
    {
      FUZZ_CHECK (*err != NULL, "%s returned %ld without setting the error", what, r);
      FUZZ_CHECK ((*err)->msg != NULL, "%s set an error without a message", what);
      FUZZ_CHECK ((*err)->status == -r, "%s returned %ld but its error has class %d (%s)", what, r,
                  (*err)->status, (*err)->msg);
    }
  else
    FUZZ_CHECK (*err == NULL, "%s succeeded (%ld) but set an error: %s", what, r, (*err)->msg);
  ocip_error_release (err);
  return r;
}

char *
fuzz_strndup (const uint8_t *data, size_t len)
{
  return xstrndup ((const char *) data, len);
}

static char scratch_path[256];

static void
remove_scratch (void)
{
  ocip_error_t err = NULL;

  if (scratch_path[0])
    ocip_rmtree_at (AT_FDCWD, scratch_path, &err);
  ocip_error_release (&err);
}

/* Scratch directories of processes that are gone: libFuzzer's fork mode ends its
   children without running atexit handlers, and a crash never runs them.  */
static void
remove_stale_scratch (const char *base, const char *name)
{
  cleanup_dir DIR *dir = opendir (base);
  cleanup_free char *prefix = xasprintf ("ocip-fuzz-%s.", name);
  struct dirent *de;

  if (dir == NULL)
    return;
  while ((de = readdir (dir)) != NULL)
    {
      char *end;
      long pid;
      if (strncmp (de->d_name, prefix, strlen (prefix)) != 0)
        continue;
      pid = strtol (de->d_name + strlen (prefix), &end, 10);
      if (*end == '\0' && pid > 0 && kill ((pid_t) pid, 0) < 0 && errno == ESRCH)
        {
          ocip_error_t err = NULL;
          ocip_rmtree_at (dirfd (dir), de->d_name, &err);
          ocip_error_release (&err);
        }
    }
}

const char *
fuzz_scratch_dir (const char *name, int *ret_fd)
{
  struct stat st;
  const char *base = "/dev/shm";
  int fd;

  if (stat (base, &st) < 0 || ! S_ISDIR (st.st_mode) || access (base, W_OK) < 0)
    base = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
  remove_stale_scratch (base, name);
  snprintf (scratch_path, sizeof scratch_path, "%s/ocip-fuzz-%s.%d", base, name, (int) getpid ());
  remove_scratch ();
  if (mkdir (scratch_path, 0700) < 0)
    fuzz_fail (__FILE__, __LINE__, "mkdir", "create '%s': %s", scratch_path, strerror (errno));
  fd = open (scratch_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fuzz_fail (__FILE__, __LINE__, "open", "open '%s': %s", scratch_path, strerror (errno));
  atexit (remove_scratch);
  *ret_fd = fd;
  return scratch_path;
}

void
fuzz_write_at (int dirfd, const char *name, const void *data, size_t len)
{
  ocip_error_t err = NULL;
  const char *p = data;
  int fd;

  if (ocip_rmtree_at (dirfd, name, &err) < 0)
    fuzz_fail (__FILE__, __LINE__, "rmtree", "remove '%s': %s", name, err->msg);
  fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    fuzz_fail (__FILE__, __LINE__, "openat", "create '%s': %s", name, strerror (errno));
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        fuzz_fail (__FILE__, __LINE__, "write", "write '%s': %s", name, strerror (errno));
      p += n;
      len -= n;
    }
  close (fd);
}

int
fuzz_fd_mark (void)
{
  int fd = dup (2);

  FUZZ_CHECK (fd >= 0, "dup: %s", strerror (errno));
  close (fd);
  return fd;
}

void
fuzz_check_fds (int mark)
{
  int now = fuzz_fd_mark ();

  FUZZ_CHECK (now <= mark, "a file descriptor leaked: the lowest free fd is %d, it was %d before the input", now,
              mark);
}

bool
fuzz_maybe_disable_openat2 (void)
{
  const char *v = getenv ("OCIP_FUZZ_NO_OPENAT2");
  scmp_filter_ctx ctx;

  if (v == NULL || strcmp (v, "1") != 0)
    return false;
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL || seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (openat2), 0) < 0
      || seccomp_load (ctx) < 0)
    fuzz_fail (__FILE__, __LINE__, "seccomp", "cannot install the openat2 filter");
  seccomp_release (ctx);
  fprintf (stderr, "oci-prep-fuzz: openat2 disabled, paths resolve through the fallback walk\n");
  return true;
}
