/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capability names (the only user of libcap): validation, the default set, add and drop. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/capability.h>
#include <sys/prctl.h>

#include "spec/caps.h"
#include "base/strv.h"
#include <oci-prep/cleanup.h>

/* What podman grants by default: enough for a typical service to drop privileges and
   manage its own files, nothing that reaches the kernel or other processes' memory.  */
const char *const ocip_caps_default[] = {
  "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",     "CAP_KILL",       "CAP_NET_BIND_SERVICE",
  "CAP_SETFCAP", "CAP_SETGID",      "CAP_SETPCAP", "CAP_SETUID",    "CAP_SYS_CHROOT", NULL,
};

#define ALL "ALL"

static void
cap_t_freep (cap_t *p)
{
  if (*p)
    cap_free (*p);
}
#define cleanup_cap __attribute__ ((cleanup (cap_t_freep)))

static void
cap_freep (char **p)
{
  if (*p)
    cap_free (*p);
}

#define cleanup_cap_name __attribute__ ((cleanup (cap_freep)))

/* "CAP_" + the upper-cased libcap name of V, or NULL when libcap has no name for it
   (cap_to_name() then gives a number).  */
static char *
canonical_name (cap_value_t v)
{
  cleanup_cap_name char *name = cap_to_name (v);
  char *ret, *p;

  if (name == NULL || strncasecmp (name, "cap_", 4) != 0)
    return NULL;
  ret = xasprintf ("CAP_%s", name + 4);
  for (p = ret; *p; p++)
    *p = toupper ((unsigned char) *p);
  return ret;
}

int
ocip_caps_normalize (const char *name, char **ret, ocip_error_t *err)
{
  cleanup_free char *lookup = NULL;
  const char *bare = name;
  cap_value_t v;
  char *canonical;

  if (strcasecmp (name, ALL) == 0)
    {
      *ret = xstrdup (ALL);
      return 0;
    }
  if (strncasecmp (bare, "cap_", 4) == 0)
    bare += 4;
  /* cap_from_name() also takes numbers ("5" is CAP_KILL): a name is required here.  */
  if (*bare == '\0' || isdigit ((unsigned char) *bare)
      || strspn (bare, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen (bare))
    return ocip_error_fail (err, EINVAL, "invalid capability '%s'", name);
  lookup = xasprintf ("cap_%s", bare);
  if (cap_from_name (lookup, &v) < 0 || (canonical = canonical_name (v)) == NULL)
    return ocip_error_fail (err, EINVAL, "unknown capability '%s'", name);
  *ret = canonical;
  return 0;
}

static bool
strv_contains (char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

static void
strv_add (char ***v, size_t *n, const char *s)
{
  if (strv_contains (*v, s))
    return;
  *v = xreallocarray (*v, *n + 2, sizeof (char *));
  (*v)[(*n)++] = xstrdup (s);
  (*v)[*n] = NULL;
}

static int
normalize_all (char *const *names, char ***ret, ocip_error_t *err)
{
  cleanup_strv char **v = xcalloc (1, sizeof (char *));
  size_t n = 0;

  for (; names && *names; names++)
    {
      cleanup_free char *c = NULL;
      int r = ocip_caps_normalize (*names, &c, err);
      if (r < 0)
        return r;
      strv_add (&v, &n, c);
    }
  *ret = steal_pointer (&v);
  return 0;
}

/* Every capability the running kernel has and libcap can name.  */
static char **
all_caps (void)
{
  char **v = xcalloc (1, sizeof (char *));
  int max = cap_max_bits ();
  size_t n = 0;
  cap_value_t c;

  for (c = 0; c < max; c++)
    {
      cleanup_free char *name = canonical_name (c);
      if (name)
        strv_add (&v, &n, name);
    }
  return v;
}

int
ocip_caps_compute (char *const *add, char *const *drop, char ***ret, ocip_error_t *err)
{
  cleanup_strv char **adds = NULL;
  cleanup_strv char **drops = NULL;
  cleanup_strv char **base = NULL;
  cleanup_strv char **caps = xcalloc (1, sizeof (char *));
  size_t i, n = 0;
  char **p;
  int r;

  if ((r = normalize_all (add, &adds, err)) < 0 || (r = normalize_all (drop, &drops, err)) < 0)
    return r;

  /* As podman: dropping ALL leaves exactly what is added.  */
  if (strv_contains (drops, ALL))
    {
      if (strv_contains (adds, ALL))
        return ocip_error_fail (err, EINVAL, "cannot both add and drop all capabilities");
      for (p = adds; *p; p++)
        strv_add (&caps, &n, *p);
    }
  else
    {
      for (p = adds; *p; p++)
        if (strv_contains (drops, *p))
          return ocip_error_fail (err, EINVAL, "capability '%s' cannot be both added and dropped", *p);
      if (strv_contains (adds, ALL))
        base = all_caps ();
      else
        {
          size_t nb = 0;
          base = xcalloc (1, sizeof (char *));
          for (i = 0; ocip_caps_default[i]; i++)
            strv_add (&base, &nb, ocip_caps_default[i]);
          for (p = adds; *p; p++)
            strv_add (&base, &nb, *p);
        }
      for (p = base; *p; p++)
        if (! strv_contains (drops, *p))
          strv_add (&caps, &n, *p);
    }
  qsort (caps, n, sizeof (char *), ocip_strv_compare);
  *ret = steal_pointer (&caps);
  return 0;
}

bool
ocip_caps_process_has (const char *name)
{
  ocip_error_t err = NULL;
  cleanup_free char *canonical = NULL;
  cleanup_free char *lookup = NULL;
  cap_flag_value_t value = CAP_CLEAR;
  cap_value_t v;
  cap_t caps;
  char *p;

  if (ocip_caps_normalize (name, &canonical, &err) < 0 || strcmp (canonical, ALL) == 0)
    {
      ocip_error_release (&err);
      return false;
    }
  lookup = xstrdup (canonical);
  for (p = lookup; *p; p++)
    *p = tolower ((unsigned char) *p);
  if (cap_from_name (lookup, &v) < 0 || (caps = cap_get_proc ()) == NULL)
    return false;
  if (cap_get_flag (caps, v, CAP_EFFECTIVE, &value) < 0)
    value = CAP_CLEAR;
  cap_free (caps);
  return value == CAP_SET;
}

int
ocip_caps_limit (const char *const *keep, ocip_error_t *err)
{
  cleanup_cap cap_t caps = cap_init ();
  cleanup_cap cap_t now = cap_get_proc ();
  cap_flag_value_t setpcap_held = CAP_CLEAR;
  cap_value_t values[64];
  bool setpcap;
  int n = 0, v;

  if (caps == NULL || now == NULL)
    return ocip_error_set (err, errno, "read the capability sets");
  for (; *keep && n < 64; keep++)
    {
      cap_flag_value_t held = CAP_CLEAR;
      if (cap_from_name (*keep, &values[n]) < 0)
        return ocip_error_fail (err, EINVAL, "unknown capability '%s'", *keep);
      /* Only what the process holds can be kept.  */
      if (cap_get_flag (now, values[n], CAP_PERMITTED, &held) == 0 && held == CAP_SET)
        n++;
    }
  /* The bounding set first (while CAP_SETPCAP is still ours), then what the process
     holds: nothing it does afterwards, exec included, can get the others back.
     Dropping from the bounding set takes CAP_SETPCAP, which a user who is not root
     does not have: such a process keeps its bounding set, which is harmless once
     no_new_privs is set (exec then grants no file capabilities, and without
     CAP_SETPCAP the inheritable set cannot grow past the permitted one, cleared
     below).  A capability already outside the bounding set needs no dropping.  */
  setpcap = cap_get_flag (now, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap_held) == 0 && setpcap_held == CAP_SET;
  for (v = 0; setpcap && v <= CAP_LAST_CAP; v++)
    {
      bool kept = false;
      for (int i = 0; i < n; i++)
        kept = kept || values[i] == v;
      if (kept || prctl (PR_CAPBSET_READ, v, 0, 0, 0) != 1)
        continue;
      if (prctl (PR_CAPBSET_DROP, v, 0, 0, 0) < 0 && errno != EINVAL)
        return ocip_error_set (err, errno, "drop capability %d from the bounding set", v);
    }
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return ocip_error_set (err, errno, "clear the ambient capabilities");
  if (n > 0
      && (cap_set_flag (caps, CAP_EFFECTIVE, n, values, CAP_SET) < 0
          || cap_set_flag (caps, CAP_PERMITTED, n, values, CAP_SET) < 0))
    return ocip_error_set (err, errno, "build a capability set");
  if (cap_set_proc (caps) < 0)
    return ocip_error_set (err, errno, "limit the capabilities");
  return 0;
}
