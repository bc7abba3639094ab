/* SPDX-License-Identifier: GPL-2.0-or-later */
/* User specs resolved against the rootfs' own /etc/passwd and /etc/group, parsed here. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include "base/fsutil.h"
#include <oci-prep/limits.h>
#include "spec/user.h"

struct passwd_entry
{
  char *name, *home;
  uint32_t uid, gid;
};

struct group_entry
{
  char *name;
  uint32_t gid;
  char **members;
};

/* A parsed /etc/passwd or /etc/group.  MISSING: the rootfs has no such file.  */
struct db
{
  bool missing;
  struct passwd_entry *pw;
  size_t n_pw, pw_capacity;
  struct group_entry *gr;
  size_t n_gr, gr_capacity;
};

static void
db_clear (struct db *db)
{
  size_t i;

  for (i = 0; i < db->n_pw; i++)
    {
      free (db->pw[i].name);
      free (db->pw[i].home);
    }
  for (i = 0; i < db->n_gr; i++)
    {
      free (db->gr[i].name);
      ocip_strv_free (db->gr[i].members);
    }
  free (db->pw);
  free (db->gr);
  memset (db, 0, sizeof *db);
}

#define cleanup_db __attribute__ ((cleanup (db_clear)))

/* A decimal id: digits only (no sign, no space), at most OCIP_USER_ID_MAX.  */
static bool
parse_id (const char *s, uint32_t *ret)
{
  uint64_t v = 0;

  if (*s == '\0')
    return false;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '9')
        return false;
      v = v * 10 + (*s - '0');
      if (v > OCIP_USER_ID_MAX)
        return false;
    }
  *ret = (uint32_t) v;
  return true;
}

/* What the spec grammar calls numeric: a name never starts like a number, so "1a" and
   "-1" are malformed ids rather than names.  */
static bool
looks_numeric (const char *s)
{
  return (*s >= '0' && *s <= '9') || *s == '-' || *s == '+';
}

/* Read PATH inside ROOTFD whole.  A missing file is not an error: *RET is NULL.  A FIFO
   or a device planted by the image is refused without being opened
   (ocip_open_regular_at); the size limit bounds memory.  */
static int
read_rootfs_file (int rootfd, const char *path, char **ret, ocip_error_t *err)
{
  ocip_error_t local = NULL;
  cleanup_free char *what = xasprintf ("'%s' in the rootfs", path);
  cleanup_close int fd = ocip_open_regular_at (rootfd, path, OCIP_OPEN_IN_ROOT, NULL, &local);

  if (fd == -ENOENT)
    {
      ocip_error_release (&local);
      *ret = NULL;
      return 0;
    }
  if (fd < 0)
    {
      /* Hand the error over: its class (ELOOP, EXDEV, EINVAL for a device...) says what
         was wrong.  */
      if (*err == NULL)
        *err = steal_pointer (&local);
      ocip_error_release (&local);
      return ocip_error_wrap (err, "rootfs");
    }
  return ocip_read_regular_fd (fd, OCIP_LIMIT_ROOTFS_FILE_SIZE, what, ret, NULL, err);
}

/* Split LINE in place at ':' into exactly N fields; false when the count differs.  */
static bool
split_fields (char *line, char **fields, size_t n)
{
  size_t i = 0;
  char *p = line;

  for (;;)
    {
      char *colon = strchr (p, ':');
      if (i == n)
        return false;
      fields[i++] = p;
      if (colon == NULL)
        break;
      *colon = '\0';
      p = colon + 1;
    }
  return i == n;
}

/* Call PARSE_LINE on every line of BUF (modified in place).  BUF is a C string: a NUL
   byte ends it, and what follows is never looked at.  Empty lines are left to the line
   parser to reject.  */
static void
for_each_line (char *buf, void (*parse_line) (char *line, struct db *db), struct db *db)
{
  char *line = buf;

  while (line && *line)
    {
      char *nl = strchr (line, '\n');
      if (nl)
        *nl = '\0';
      parse_line (line, db);
      line = nl ? nl + 1 : NULL;
    }
}

/* name:password:uid:gid:gecos:home:shell.  NIS "+"/"-" lines and lines without a name
   or a valid id are skipped, as glibc's files backend does.  */
static void
parse_passwd_line (char *line, struct db *db)
{
  char *f[7];
  uint32_t uid, gid;

  if (! split_fields (line, f, 7) || f[0][0] == '\0' || f[0][0] == '+' || f[0][0] == '-'
      || ! parse_id (f[2], &uid) || ! parse_id (f[3], &gid))
    return;
  db->pw = xgrowarray (db->pw, &db->pw_capacity, db->n_pw + 1, sizeof *db->pw);
  db->pw[db->n_pw].name = xstrdup (f[0]);
  db->pw[db->n_pw].home = xstrdup (f[5]);
  db->pw[db->n_pw].uid = uid;
  db->pw[db->n_pw].gid = gid;
  db->n_pw++;
}

/* name:password:gid:member,member,...  */
static void
parse_group_line (char *line, struct db *db)
{
  char *f[4], *member, *save = NULL;
  size_t n = 0, capacity = 0;
  uint32_t gid;
  char **members = NULL;

  if (! split_fields (line, f, 4) || f[0][0] == '\0' || f[0][0] == '+' || f[0][0] == '-' || ! parse_id (f[2], &gid))
    return;
  members = xgrowarray (members, &capacity, 1, sizeof (char *));
  members[0] = NULL;
  for (member = strtok_r (f[3], ",", &save); member; member = strtok_r (NULL, ",", &save))
    {
      members = xgrowarray (members, &capacity, n + 2, sizeof (char *));
      members[n++] = xstrdup (member);
      members[n] = NULL;
    }
  db->gr = xgrowarray (db->gr, &db->gr_capacity, db->n_gr + 1, sizeof *db->gr);
  db->gr[db->n_gr].name = xstrdup (f[0]);
  db->gr[db->n_gr].gid = gid;
  db->gr[db->n_gr].members = members;
  db->n_gr++;
}

static int
load_db (int rootfd, const char *path, void (*parse_line) (char *line, struct db *db), struct db *ret,
         ocip_error_t *err)
{
  cleanup_free char *buf = NULL;
  int r;

  if ((r = read_rootfs_file (rootfd, path, &buf, err)) < 0)
    return r;
  if (buf == NULL)
    ret->missing = true;
  else
    for_each_line (buf, parse_line, ret);
  return 0;
}

static const struct passwd_entry *
find_passwd (const struct db *db, const char *name, uint32_t uid)
{
  size_t i;

  for (i = 0; i < db->n_pw; i++)
    if (name ? strcmp (db->pw[i].name, name) == 0 : db->pw[i].uid == uid)
      return &db->pw[i];
  return NULL;
}

static const struct group_entry *
find_group (const struct db *db, const char *name)
{
  size_t i;

  for (i = 0; i < db->n_gr; i++)
    if (strcmp (db->gr[i].name, name) == 0)
      return &db->gr[i];
  return NULL;
}

_Static_assert (OCIP_LIMIT_USER_GROUPS <= NGROUPS_MAX, "more groups than setgroups(2) takes");

/* The gids collected so far, in order, and an open-addressing hash set of them, so a
   duplicate is found in O(1): an image's /etc/group may list the user in hundreds of
   thousands of groups, and a scan per insert was quadratic (14 s for 300 000).  The
   set has a power-of-two size at least twice the count; UINT32_MAX (never an id,
   OCIP_USER_ID_MAX is below it) marks a free slot.  */
struct gid_set
{
  uint32_t *gids;
  size_t n;
  uint32_t *slots;
  size_t n_slots;
};

static void
gid_set_clear (struct gid_set *s)
{
  free (s->gids);
  free (s->slots);
  memset (s, 0, sizeof *s);
}

#define cleanup_gid_set __attribute__ ((cleanup (gid_set_clear)))

static uint32_t *
gid_slot (uint32_t *slots, size_t n_slots, uint32_t gid)
{
  /* Fibonacci hashing spreads consecutive gids; linear probing from there.  */
  size_t i = (size_t) (gid * 2654435761u) & (n_slots - 1);

  while (slots[i] != UINT32_MAX && slots[i] != gid)
    i = (i + 1) & (n_slots - 1);
  return &slots[i];
}

/* Add GID unless already there; false when that would make more than MAX gids.  */
static bool
gid_set_add (struct gid_set *s, uint32_t gid, size_t max)
{
  uint32_t *slot;

  if (2 * (s->n + 1) > s->n_slots)
    {
      size_t n_slots = s->n_slots ? 2 * s->n_slots : 64, i;
      uint32_t *slots = xreallocarray (NULL, n_slots, sizeof *slots);

      memset (slots, 0xff, n_slots * sizeof *slots);
      for (i = 0; i < s->n; i++)
        *gid_slot (slots, n_slots, s->gids[i]) = s->gids[i];
      free (s->slots);
      s->slots = slots;
      s->n_slots = n_slots;
      s->gids = xreallocarray (s->gids, n_slots / 2, sizeof *s->gids);
    }
  slot = gid_slot (s->slots, s->n_slots, gid);
  if (*slot == gid)
    return true;
  if (s->n == max)
    return false;
  *slot = gid;
  s->gids[s->n++] = gid;
  return true;
}

/* The primary gid, then every group listing NAME as a member.  The primary gid is
   listed explicitly: with additionalGids set, runtimes call setgroups() with exactly
   that list, and a user left out of its own primary group could keep files readable
   through a group it was meant to have (CVE-2023-25173).  The limit is checked on
   each insert: past it nothing more is worth reading.  */
static int
supplementary_groups (const struct db *groups, const char *name, uint32_t gid, struct ocip_user *u,
                      ocip_error_t *err)
{
  cleanup_gid_set struct gid_set set = { 0 };
  size_t i;

  gid_set_add (&set, gid, OCIP_LIMIT_USER_GROUPS);
  for (i = 0; i < groups->n_gr; i++)
    {
      char **m;
      for (m = groups->gr[i].members; *m; m++)
        if (strcmp (*m, name) == 0)
          {
            if (! gid_set_add (&set, groups->gr[i].gid, OCIP_LIMIT_USER_GROUPS))
              return ocip_error_fail (err, E2BIG, "user '%s' is in more than %d groups, over the limit", name,
                                     OCIP_LIMIT_USER_GROUPS);
            break;
          }
    }
  u->additional_gids = steal_pointer (&set.gids);
  u->n_additional_gids = set.n;
  return 0;
}

int
ocip_user_resolve (int rootfd, const char *spec, struct ocip_user *ret, ocip_error_t *err)
{
  cleanup_free char *user_part = NULL;
  cleanup_db struct db passwd = { 0 };
  cleanup_db struct db groups = { 0 };
  cleanup_user struct ocip_user u = { 0 };
  const char *group_part = NULL, *colon;
  const struct passwd_entry *pw = NULL;
  bool user_numeric, group_numeric = false;
  int r;

  if (spec == NULL)
    spec = "";
  colon = strchr (spec, ':');
  /* The empty spec is root.  */
  user_part = colon ? xstrndup (spec, colon - spec) : xstrdup (*spec ? spec : "0");
  group_part = colon ? colon + 1 : NULL;

  if (*user_part == '\0')
    return ocip_error_fail (err, EINVAL, "invalid user '%s': no user name or id", spec);
  if (group_part && *group_part == '\0')
    return ocip_error_fail (err, EINVAL, "invalid user '%s': no group name or id after ':'", spec);

  user_numeric = looks_numeric (user_part);
  if (user_numeric && ! parse_id (user_part, &u.uid))
    return ocip_error_fail (err, EINVAL, "invalid user id '%s': expected 0 to %u", user_part, OCIP_USER_ID_MAX);
  if (group_part)
    {
      group_numeric = looks_numeric (group_part);
      if (group_numeric && ! parse_id (group_part, &u.gid))
        return ocip_error_fail (err, EINVAL, "invalid group id '%s': expected 0 to %u", group_part,
                               OCIP_USER_ID_MAX);
    }

  if (rootfd < 0)
    {
      if (! user_numeric)
        return ocip_error_fail (err, EINVAL, "cannot resolve user '%s': a rootfs is needed to resolve names",
                               user_part);
      if (group_part && ! group_numeric)
        return ocip_error_fail (err, EINVAL, "cannot resolve group '%s': a rootfs is needed to resolve names",
                               group_part);
    }
  else if ((r = load_db (rootfd, "/etc/passwd", parse_passwd_line, &passwd, err)) < 0)
    return r;

  pw = find_passwd (&passwd, user_numeric ? NULL : user_part, u.uid);
  if (! user_numeric && pw == NULL)
    return ocip_error_fail (err, EINVAL, "unknown user '%s': not in the rootfs' /etc/passwd%s", user_part,
                           passwd.missing ? " (there is none)" : "");
  if (pw)
    u.uid = pw->uid;

  if (group_part && ! group_numeric)
    {
      const struct group_entry *gr;
      if ((r = load_db (rootfd, "/etc/group", parse_group_line, &groups, err)) < 0)
        return r;
      gr = find_group (&groups, group_part);
      if (gr == NULL)
        return ocip_error_fail (err, EINVAL, "unknown group '%s': not in the rootfs' /etc/group%s", group_part,
                               groups.missing ? " (there is none)" : "");
      u.gid = gr->gid;
    }
  else if (group_part == NULL)
    /* The empty spec is root:root whatever the passwd file says.  */
    u.gid = pw && *spec != '\0' ? pw->gid : 0;

  if (! user_numeric && group_part == NULL)
    {
      if ((r = load_db (rootfd, "/etc/group", parse_group_line, &groups, err)) < 0)
        return r;
      if ((r = supplementary_groups (&groups, user_part, u.gid, &u, err)) < 0)
        return r;
    }

  u.home = xstrdup (pw && pw->home[0] ? pw->home : "/");
  *ret = u;
  memset (&u, 0, sizeof u);
  return 0;
}

void
ocip_user_clear (struct ocip_user *u)
{
  free (u->additional_gids);
  free (u->home);
  memset (u, 0, sizeof *u);
}
