/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Usage: timeit ERRFILE CMD [ARG...]
   Run CMD (stdout to /dev/null, stderr to ERRFILE) and print "SECONDS MAXRSS_KIB".  The
   clock runs from just before the fork to the end of the wait: unlike wrapping the
   command in /usr/bin/time, no start-up of the timer itself is counted, which matters
   for the few milliseconds a warm bundle takes.  This process is small on purpose: the
   child's peak RSS includes what it was before exec.  Exits with CMD's status.  */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct timespec start, end;
  struct rusage usage;
  int status, devnull, errfd;
  pid_t pid;

  if (argc < 3)
    {
      fprintf (stderr, "usage: timeit ERRFILE CMD [ARG...]\n");
      return 2;
    }
  devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  errfd = open (argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (devnull < 0 || errfd < 0)
    {
      perror ("timeit: open");
      return 2;
    }
  clock_gettime (CLOCK_MONOTONIC, &start);
  pid = fork ();
  if (pid == 0)
    {
      if (dup2 (devnull, 1) < 0 || dup2 (errfd, 2) < 0)
        _exit (127);
      execvp (argv[2], argv + 2);
      _exit (127);
    }
  if (pid < 0 || wait4 (pid, &status, 0, &usage) < 0)
    {
      perror ("timeit");
      return 2;
    }
  clock_gettime (CLOCK_MONOTONIC, &end);
  printf ("%.6f %ld\n", (double) (end.tv_sec - start.tv_sec) + (double) (end.tv_nsec - start.tv_nsec) / 1e9,
          usage.ru_maxrss);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}
