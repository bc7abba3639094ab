/* SPDX-License-Identifier: GPL-2.0-or-later */
/* User-namespace ID mappings: podman's CONTAINER:HOST:SIZE, subordinate ranges, free-range allocation, a userns fd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/limits.h>
#include "base/idmap.h"
#include "base/json.h"

/* A decimal uint32 from *P up to the next STOP (or the end when STOP is '\0').  */
static bool
parse_u32 (const char **p, char stop, uint32_t *ret)
{
  uint64_t v = 0;
  const char *s = *p;

  if (*s < '0' || *s > '9')
    return false;
  for (; *s >= '0' && *s <= '9'; s++)
    {
      v = v * 10 + (uint64_t) (*s - '0');
      if (v > UINT32_MAX)
        return false;
    }
  if (*s != stop)
    return false;
  *p = stop ? s + 1 : s;
  *ret = (uint32_t) v;
  return true;
}

/* The kernel refuses an extent whose end wraps, and (u32) -1 is no ID: the last ID of
   a range is at most OCIP_LIMIT_ID.  */
static bool
fits (uint32_t first, uint32_t size)
{
  return size > 0 && (uint64_t) first + size - 1 <= OCIP_LIMIT_ID;
}

int
ocip_idmap_range_parse (const char *text, struct ocip_idmap_range *ret, ocip_error_t *err)
{
  struct ocip_idmap_range r;
  const char *p = text;

  if (! parse_u32 (&p, ':', &r.container) || ! parse_u32 (&p, ':', &r.host) || ! parse_u32 (&p, '\0', &r.size))
    return ocip_error_fail (err, EINVAL, "ID mapping '%s': not CONTAINER:HOST:SIZE (decimal numbers)", text);
  if (r.size == 0)
    return ocip_error_fail (err, EINVAL, "ID mapping '%s': the size is 0", text);
  if (! fits (r.container, r.size) || ! fits (r.host, r.size))
    return ocip_error_fail (err, EINVAL, "ID mapping '%s': the range runs past the last ID %u", text, OCIP_LIMIT_ID);
  *ret = r;
  return 0;
}

static bool
overlap (uint32_t a, uint32_t a_size, uint32_t b, uint32_t b_size)
{
  return (uint64_t) a < (uint64_t) b + b_size && (uint64_t) b < (uint64_t) a + a_size;
}

int
ocip_idmap_list_add (struct ocip_idmap_list *list, const struct ocip_idmap_range *range, ocip_error_t *err)
{
  size_t i;

  if (! fits (range->container, range->size) || ! fits (range->host, range->size))
    return ocip_error_fail (err, EINVAL, "ID mapping %u:%u:%u: empty, or past the last ID %u", range->container,
                           range->host, range->size, OCIP_LIMIT_ID);
  if (list->n >= OCIP_LIMIT_IDMAP_RANGES)
    return ocip_error_fail (err, E2BIG, "more than %d ID mapping ranges (the kernel's limit)", OCIP_LIMIT_IDMAP_RANGES);
  /* The kernel refuses overlaps on either side (map_write(): mappings_overlap()): a
     host ID reached from two container IDs would make ownership ambiguous.  */
  for (i = 0; i < list->n; i++)
    {
      const struct ocip_idmap_range *o = &list->v[i];
      if (overlap (o->container, o->size, range->container, range->size))
        return ocip_error_fail (err, EINVAL, "ID mapping %u:%u:%u overlaps %u:%u:%u in the container",
                               range->container, range->host, range->size, o->container, o->host, o->size);
      if (overlap (o->host, o->size, range->host, range->size))
        return ocip_error_fail (err, EINVAL, "ID mapping %u:%u:%u overlaps %u:%u:%u on the host", range->container,
                               range->host, range->size, o->container, o->host, o->size);
    }
  list->v = xrealloc (list->v, (list->n + 1) * sizeof *list->v);
  list->v[list->n++] = *range;
  return 0;
}

static int
list_from_strings (char *const *texts, const char *what, struct ocip_idmap_list *ret, ocip_error_t *err)
{
  size_t i;
  int r;

  for (i = 0; texts && texts[i]; i++)
    {
      struct ocip_idmap_range range;
      if ((r = ocip_idmap_range_parse (texts[i], &range, err)) < 0 || (r = ocip_idmap_list_add (ret, &range, err)) < 0)
        return ocip_error_wrap (err, "%s", what);
    }
  return 0;
}

int
ocip_idmap_from_strings (char *const *uidmap, char *const *gidmap, struct ocip_idmap *ret, ocip_error_t *err)
{
  struct ocip_idmap map = { { 0 }, { 0 } };
  bool has_gid = gidmap && gidmap[0];
  int r;

  if (has_gid && ! (uidmap && uidmap[0]))
    return ocip_error_fail (err, EINVAL, "--gidmap: needs --uidmap too");
  if ((r = list_from_strings (uidmap, "--uidmap", &map.uid, err)) < 0
      || (r = list_from_strings (has_gid ? gidmap : uidmap, has_gid ? "--gidmap" : "--uidmap", &map.gid, err)) < 0)
    {
      ocip_idmap_clear (&map);
      return r;
    }
  *ret = map;
  return 0;
}

bool
ocip_idmap_is_empty (const struct ocip_idmap *map)
{
  return map == NULL || (map->uid.n == 0 && map->gid.n == 0);
}

bool
ocip_idmap_to_host (const struct ocip_idmap_list *list, uint32_t id, uint32_t *ret)
{
  size_t i;

  for (i = 0; i < list->n; i++)
    if (id >= list->v[i].container && id - list->v[i].container < list->v[i].size)
      {
        *ret = list->v[i].host + (id - list->v[i].container);
        return true;
      }
  return false;
}

bool
ocip_idmap_to_container (const struct ocip_idmap_list *list, uint32_t id, uint32_t *ret)
{
  size_t i;

  for (i = 0; i < list->n; i++)
    if (id >= list->v[i].host && id - list->v[i].host < list->v[i].size)
      {
        *ret = list->v[i].container + (id - list->v[i].host);
        return true;
      }
  return false;
}

static bool
list_equal (const struct ocip_idmap_list *a, const struct ocip_idmap_list *b)
{
  return a->n == b->n && (a->n == 0 || memcmp (a->v, b->v, a->n * sizeof *a->v) == 0);
}

bool
ocip_idmap_equal (const struct ocip_idmap *a, const struct ocip_idmap *b)
{
  return list_equal (&a->uid, &b->uid) && list_equal (&a->gid, &b->gid);
}

static void
list_copy (struct ocip_idmap_list *dst, const struct ocip_idmap_list *src)
{
  dst->n = src->n;
  dst->v = NULL;
  if (src->n)
    dst->v = memcpy (xcalloc (src->n, sizeof *src->v), src->v, src->n * sizeof *src->v);
}

void
ocip_idmap_copy (struct ocip_idmap *dst, const struct ocip_idmap *src)
{
  list_copy (&dst->uid, &src->uid);
  list_copy (&dst->gid, &src->gid);
}

void
ocip_idmap_clear (struct ocip_idmap *map)
{
  free (map->uid.v);
  free (map->gid.v);
  memset (map, 0, sizeof *map);
}

void
ocip_idmap_gen_list (struct ocip_json_gen *gen, const char *key, const struct ocip_idmap_list *list)
{
  size_t i;

  ocip_json_gen_string (gen, key);
  ocip_json_gen_array_open (gen);
  for (i = 0; i < list->n; i++)
    {
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_int64 (gen, "containerID", list->v[i].container);
      ocip_json_gen_kv_int64 (gen, "hostID", list->v[i].host);
      ocip_json_gen_kv_int64 (gen, "size", list->v[i].size);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
}

static int
get_u32 (const struct ocip_json_node *obj, const char *key, uint32_t *ret, ocip_error_t *err)
{
  int64_t v;
  int r;

  if ((r = ocip_json_get_int64 (obj, key, true, &v, err)) < 0)
    return r;
  if (v < 0 || v > UINT32_MAX)
    return ocip_error_fail (err, EINVAL, "'%s' %lld is not an ID", key, (long long) v);
  *ret = (uint32_t) v;
  return 0;
}

int
ocip_idmap_parse_list (const struct ocip_json_node *obj, const char *key, struct ocip_idmap_list *ret,
                       ocip_error_t *err)
{
  const struct ocip_json_node *array = NULL;
  struct ocip_idmap_list list = { 0 };
  size_t i, n;
  int r;

  if ((r = ocip_json_get_array (obj, key, false, &array, err)) < 0)
    return r;
  n = array ? ocip_json_array_len (array) : 0;
  for (i = 0; i < n; i++)
    {
      const struct ocip_json_node *e = ocip_json_array_at (array, i);
      struct ocip_idmap_range range;

      if (ocip_json_type (e) != OCIP_JSON_OBJECT)
        r = ocip_error_fail (err, EINVAL, "not an object");
      else if ((r = get_u32 (e, "containerID", &range.container, err)) == 0
               && (r = get_u32 (e, "hostID", &range.host, err)) == 0 && (r = get_u32 (e, "size", &range.size, err)) == 0)
        r = ocip_idmap_list_add (&list, &range, err);
      if (r < 0)
        {
          free (list.v);
          return ocip_error_wrap (err, "'%s' %zu", key, i);
        }
    }
  *ret = list;
  return 0;
}

/* The text of a uid_map / gid_map: one "CONTAINER HOST SIZE" line per range.  */
static char *
map_text (const struct ocip_idmap_list *list)
{
  char *text = xmalloc (list->n * 36 + 1);
  size_t i, len = 0;

  text[0] = '\0';
  for (i = 0; i < list->n; i++)
    len += (size_t) sprintf (text + len, "%u %u %u\n", list->v[i].container, list->v[i].host, list->v[i].size);
  return text;
}

static int
write_map (pid_t pid, const char *file, const struct ocip_idmap_list *list, ocip_error_t *err)
{
  cleanup_free char *path = xasprintf ("/proc/%d/%s", (int) pid, file);
  cleanup_free char *text = map_text (list);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);

  /* The kernel takes the whole map in one write(2), or nothing.  */
  if (fd < 0 || write (fd, text, strlen (text)) != (ssize_t) strlen (text))
    return ocip_error_set (err, errno, "user namespace: write %s", file);
  return 0;
}

#define HOLD_STACK_SIZE (64 * 1024)

/* The namespace's first process: it blocks (no memory of its own, no errno touched
   on the way) until SIGKILL.  */
static int
hold_child (void *arg)
{
  const int *fds = arg;
  char c;

  for (;;)
    syscall (SYS_read, fds[0], &c, 1);
  return 0;
}

static void
reap (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
}

int
ocip_idmap_userns_fd (const struct ocip_idmap *map, ocip_error_t *err)
{
  cleanup_free char *ns = NULL;
  cleanup_free char *stack = NULL;
  int hold[2], fd = -1, r = 0;
  pid_t pid;

  if (map->uid.n == 0 || map->gid.n == 0)
    return ocip_error_fail (err, EINVAL, "user namespace: no uid or gid mapping");
  if (pipe2 (hold, O_CLOEXEC) < 0)
    return ocip_error_set (err, errno, "user namespace: pipe");
  /* clone(2) straight into the new namespace, sharing this process's memory
     (CLONE_VM) on a small stack of its own: the child only blocks until it is killed,
     and its exit then has no copy of the address space to tear down (a fork-like
     child's took about 19 ms, longer than the rest of a warm bundle).  */
  stack = xmalloc (HOLD_STACK_SIZE);
  pid = clone (hold_child, stack + HOLD_STACK_SIZE, CLONE_VM | CLONE_NEWUSER | SIGCHLD, &hold[0]);
  if (pid < 0)
    {
      int saved = errno;
      close (hold[0]);
      close (hold[1]);
      return ocip_error_set (err, saved, "user namespace: clone");
    }
  ns = xasprintf ("/proc/%d/ns/user", (int) pid);
  if ((r = write_map (pid, "uid_map", &map->uid, err)) == 0 && (r = write_map (pid, "gid_map", &map->gid, err)) == 0)
    {
      fd = open (ns, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        r = ocip_error_set (err, errno, "user namespace: open '%s'", ns);
    }
  kill (pid, SIGKILL);
  /* The child runs on STACK until it is reaped: reaped here, always.  */
  reap (pid);
  close (hold[0]);
  close (hold[1]);
  return r < 0 ? r : fd;
}

int
ocip_idmap_subid_ranges (const char *file, const char *user, const char *uid_text, struct ocip_idmap_list *ret,
                         ocip_error_t *err)
{
  cleanup_file FILE *in = fopen (file, "re");
  cleanup_free char *line = NULL;
  struct ocip_idmap_list list = { 0 };
  size_t cap = 0;
  ssize_t n;

  if (in == NULL)
    {
      if (errno == ENOENT)
        return ocip_error_fail (err, ENOENT, "'%s' does not exist: no subordinate IDs for '%s'", file, user);
      return ocip_error_set (err, errno, "read '%s'", file);
    }
  while ((n = getline (&line, &cap, in)) > 0)
    {
      char *name = line, *colon = strchr (line, ':');
      const char *p;
      struct ocip_idmap_range range = { 0, 0, 0 };

      if (line[n - 1] == '\n')
        line[n - 1] = '\0';
      if (colon == NULL)
        continue;
      *colon = '\0';
      if (strcmp (name, user) != 0 && ! (uid_text && strcmp (name, uid_text) == 0))
        continue;
      p = colon + 1;
      if (! parse_u32 (&p, ':', &range.host) || ! parse_u32 (&p, '\0', &range.size) || ! fits (range.host, range.size))
        continue;
      /* Several lines may give the same user overlapping ranges: keep the first.  */
      if (list.n < OCIP_LIMIT_IDMAP_RANGES)
        {
          size_t i;
          bool dup = false;
          for (i = 0; i < list.n; i++)
            dup = dup || overlap (list.v[i].host, list.v[i].size, range.host, range.size);
          if (! dup)
            {
              list.v = xrealloc (list.v, (list.n + 1) * sizeof *list.v);
              list.v[list.n++] = range;
            }
        }
    }
  if (list.n == 0)
    return ocip_error_fail (err, ENOENT, "'%s' has no range for '%s'", file, user);
  *ret = list;
  return 0;
}

int
ocip_idmap_find_free (const struct ocip_idmap_list *available, const struct ocip_idmap_list *taken, uint32_t size,
                      uint32_t *ret_host, ocip_error_t *err)
{
  uint64_t best = UINT64_MAX;
  size_t i, j;

  /* A candidate start is the start of an available range or the end of a taken one:
     the lowest free fit begins at one of them.  */
  for (i = 0; i < available->n; i++)
    {
      const struct ocip_idmap_range *a = &available->v[i];
      uint64_t a_end = (uint64_t) a->host + a->size;

      for (j = 0; j <= taken->n; j++)
        {
          uint64_t start = j == taken->n ? a->host : (uint64_t) taken->v[j].host + taken->v[j].size;
          size_t k;
          bool free_here = start >= a->host && start + size <= a_end;

          for (k = 0; k < taken->n && free_here; k++)
            free_here = ! overlap ((uint32_t) start, size, taken->v[k].host, taken->v[k].size);
          if (free_here && start < best)
            best = start;
        }
    }
  if (best == UINT64_MAX)
    return ocip_error_fail (err, ENOSPC, "no free range of %u subordinate IDs left", size);
  *ret_host = (uint32_t) best;
  return 0;
}

bool
ocip_idmap_in_initial_userns (void)
{
  cleanup_file FILE *f = fopen ("/proc/self/uid_map", "re");
  unsigned long container, host, size;
  int c;

  if (f == NULL || fscanf (f, "%lu %lu %lu", &container, &host, &size) != 3)
    return false;
  /* One line only: a second one means a namespace with several ranges.  */
  while ((c = fgetc (f)) == ' ' || c == '\n')
    ;
  return c == EOF && container == 0 && host == 0 && size == 4294967295ul;
}

static int
read_current (const char *file, struct ocip_idmap_list *ret, ocip_error_t *err)
{
  cleanup_file FILE *f = fopen (file, "re");
  struct ocip_idmap_list list = { 0 };
  unsigned long c, h, s;
  int r;

  if (f == NULL)
    return ocip_error_set (err, errno, "open '%s'", file);
  while (fscanf (f, "%lu %lu %lu", &c, &h, &s) == 3)
    {
      struct ocip_idmap_range range = { (uint32_t) c, (uint32_t) h, (uint32_t) s };
      if ((r = ocip_idmap_list_add (&list, &range, err)) < 0)
        {
          free (list.v);
          return ocip_error_wrap (err, "'%s'", file);
        }
    }
  *ret = list;
  return 0;
}

int
ocip_idmap_current (struct ocip_idmap *ret, ocip_error_t *err)
{
  struct ocip_idmap map = { { 0 }, { 0 } };
  int r;

  if ((r = read_current ("/proc/self/uid_map", &map.uid, err)) < 0
      || (r = read_current ("/proc/self/gid_map", &map.gid, err)) < 0)
    {
      ocip_idmap_clear (&map);
      return r;
    }
  *ret = map;
  return 0;
}
