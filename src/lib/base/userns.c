/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Entering a user namespace as an ordinary user: this process unshares, a helper left outside runs newuidmap/newgidmap on it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>
#include <oci-prep/userns.h>
#include "base/idmap.h"

/* What the helper reports: the newuidmap / newgidmap error text, at most this much.  */
#define HELPER_MESSAGE 512

/* The map of ID (the user's) to 0 and the subordinate ranges SUB from 1 up, as the
   argument vector of newuidmap / newgidmap for PID (PROGRAM first, NULL-terminated,
   owned).  */
static char **
helper_argv (const char *program, pid_t pid, uint32_t id, const struct ocip_idmap_list *sub)
{
  char **argv = xcalloc (3 + 3 * (sub->n + 1) + 1, sizeof *argv);
  uint32_t next = 1;
  size_t n = 0, i;

  argv[n++] = xstrdup (program);
  argv[n++] = xasprintf ("%d", (int) pid);
  argv[n++] = xstrdup ("0");
  argv[n++] = xasprintf ("%u", id);
  argv[n++] = xstrdup ("1");
  for (i = 0; i < sub->n; i++)
    {
      argv[n++] = xasprintf ("%u", next);
      argv[n++] = xasprintf ("%u", sub->v[i].host);
      argv[n++] = xasprintf ("%u", sub->v[i].size);
      next += sub->v[i].size;
    }
  return argv;
}

/* In the helper: run ARGV with its stderr on OUT; its exit status, or 127 when it could
   not be run.  */
static int
run_helper_program (char **argv, int out)
{
  int status;
  pid_t pid = fork ();

  if (pid < 0)
    return 127;
  if (pid == 0)
    {
      if (dup2 (out, STDERR_FILENO) < 0)
        _exit (127);
      execvp (argv[0], argv);
      dprintf (out, "%s: %s\n", argv[0], strerror (errno));
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return 127;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 127;
}

/* The subordinate ranges of the user UID (by name and number) in FILE.  */
static int
ranges (const char *file, const char *name, uid_t uid, struct ocip_idmap_list *ret, ocip_error_t *err)
{
  cleanup_free char *uid_text = xasprintf ("%u", (unsigned) uid);
  int r = ocip_idmap_subid_ranges (file, name, uid_text, ret, err);

  if (r == -ENOENT)
    return ocip_error_wrap (err, "a user who is not root needs subordinate IDs for an image's owners (usermod "
                                 "--add-subuids/--add-subgids)");
  return r;
}

int
ocip_userns_enter (bool *ret_entered, ocip_error_t *err)
{
  struct ocip_idmap_list subuid = { 0 }, subgid = { 0 };
  cleanup_free char *message = NULL;
  uid_t uid = getuid ();
  gid_t gid = getgid ();
  struct passwd *pw;
  int go[2] = { -1, -1 }, report[2] = { -1, -1 };
  char **uid_argv = NULL, **gid_argv = NULL;
  pid_t self = getpid (), helper;
  int status, r;
  ssize_t n;

  if (ret_entered)
    *ret_entered = false;
  if (geteuid () == 0 || ! ocip_idmap_in_initial_userns ())
    return 0;
  pw = getpwuid (uid);
  if (pw == NULL)
    return ocip_error_fail (err, ENOENT, "user namespace: uid %u has no name in the user database", (unsigned) uid);
  if ((r = ranges ("/etc/subuid", pw->pw_name, uid, &subuid, err)) < 0
      || (r = ranges ("/etc/subgid", pw->pw_name, uid, &subgid, err)) < 0)
    goto out;
  uid_argv = helper_argv ("newuidmap", self, uid, &subuid);
  gid_argv = helper_argv ("newgidmap", self, gid, &subgid);
  if (pipe2 (go, O_CLOEXEC) < 0 || pipe2 (report, O_CLOEXEC) < 0)
    {
      r = ocip_error_set (err, errno, "user namespace: pipe");
      goto out;
    }
  /* The helper stays in the host's namespace: a setuid program run from inside the new
     one would not get its privileges (host root is not mapped there).  */
  helper = fork ();
  if (helper < 0)
    {
      r = ocip_error_set (err, errno, "user namespace: start the helper");
      goto out;
    }
  if (helper == 0)
    {
      char c;
      close (go[1]);
      close (report[0]);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      /* EOF without a byte: the parent could not unshare.  */
      if (read (go[0], &c, 1) != 1)
        _exit (1);
      status = run_helper_program (uid_argv, report[1]);
      if (status == 0)
        status = run_helper_program (gid_argv, report[1]);
      _exit (status);
    }
  ocip_closep (&go[0]);
  ocip_closep (&report[1]);
  if (unshare (CLONE_NEWUSER) < 0)
    {
      r = ocip_error_set (err, errno, "user namespace: unshare");
      ocip_closep (&go[1]);
      while (waitpid (helper, &status, 0) < 0 && errno == EINTR)
        ;
      goto out;
    }
  if (write (go[1], "g", 1) != 1)
    abort (); /* the helper holds the other end until it exits */
  ocip_closep (&go[1]);
  message = xmalloc (HELPER_MESSAGE + 1);
  n = 0;
  for (ssize_t k; n < HELPER_MESSAGE && (k = read (report[0], message + n, HELPER_MESSAGE - n)) != 0;)
    if (k > 0)
      n += k;
    else if (errno != EINTR)
      break;
  message[n] = '\0';
  message[strcspn (message, "\n")] = '\0';
  while (waitpid (helper, &status, 0) < 0)
    if (errno != EINTR)
      {
        r = ocip_error_set (err, errno, "user namespace: wait for the helper");
        goto out;
      }
  /* Past this point a failure leaves this process in a namespace without a map: the
     caller must exit, as it does on any error.  */
  if (! WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      r = WIFEXITED (status) && WEXITSTATUS (status) == 127 && strstr (message, "No such file")
              ? ocip_error_fail (err, ENOENT, "user namespace: newuidmap and newgidmap are needed (Debian package "
                                              "uidmap): %s", message)
              : ocip_error_fail (err, EPERM, "user namespace: newuidmap/newgidmap failed: %s",
                                 *message ? message : "no message");
      goto out;
    }
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    {
      r = ocip_error_set (err, errno, "user namespace: become its root");
      goto out;
    }
  /* The user's other groups are not mapped: they would show as the overflow group.  */
  (void) setgroups (0, NULL);
  if (ret_entered)
    *ret_entered = true;
  r = 0;

out:
  ocip_closep (&go[0]);
  ocip_closep (&go[1]);
  ocip_closep (&report[0]);
  ocip_closep (&report[1]);
  ocip_strv_free (uid_argv);
  ocip_strv_free (gid_argv);
  free (subuid.v);
  free (subgid.v);
  return r;
}
