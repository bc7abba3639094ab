/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for caps: name validation, the default set, podman's add/drop rules. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "spec/caps.h"
#include <oci-prep/cleanup.h>

#include "fixture.h"

#define V(...) ((char *const[]){ __VA_ARGS__, NULL })

static size_t
strv_len (char *const *v)
{
  size_t n = 0;

  while (v && v[n])
    n++;
  return n;
}

static bool
strv_has (char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

static char **
compute_ok (char *const *add, char *const *drop)
{
  ocip_error_t err = NULL;
  char **caps = NULL;
  size_t i;
  int r = ocip_caps_compute (add, drop, &caps, &err);

  cr_assert_eq (r, 0, "compute: %s", err ? err->msg : "?");
  cr_assert_null (err);
  cr_assert_not_null (caps);
  for (i = 0; caps[i]; i++)
    {
      cr_assert (strncmp (caps[i], "CAP_", 4) == 0, "'%s' is not a CAP_ name", caps[i]);
      if (i > 0)
        cr_assert_lt (strcmp (caps[i - 1], caps[i]), 0, "not sorted or duplicated: '%s', '%s'", caps[i - 1],
                      caps[i]);
    }
  return caps;
}

static void
compute_fails (char *const *add, char *const *drop, const char *what)
{
  ocip_error_t err = NULL;
  char **caps = (char **) 1;
  int r = ocip_caps_compute (add, drop, &caps, &err);

  cr_assert_eq (r, -EINVAL, "expected EINVAL, got %d", r);
  cr_assert_eq (caps, (char **) 1, "result written on failure");
  cr_assert_not_null (err);
  cr_assert_eq (err->status, EINVAL);
  cr_assert (strstr (err->msg, what) != NULL, "message '%s' does not say '%s'", err->msg, what);
  ocip_error_release (&err);
}

static void
normalize_is (const char *name, const char *want)
{
  ocip_error_t err = NULL;
  cleanup_free char *got = NULL;
  int r = ocip_caps_normalize (name, &got, &err);

  cr_assert_eq (r, 0, "normalize '%s': %s", name, err ? err->msg : "?");
  cr_assert_str_eq (got, want);
}

static void
normalize_fails (const char *name)
{
  ocip_error_t err = NULL;
  cleanup_free char *got = NULL;
  cleanup_free char *quoted = NULL;
  int r = ocip_caps_normalize (name, &got, &err);

  cr_assert_eq (r, -EINVAL, "normalize '%s': expected EINVAL, got %d", name, r);
  cr_assert_null (got);
  quoted = xasprintf ("'%s'", name);
  cr_assert (strstr (err->msg, quoted) != NULL, "message '%s' does not name %s", err->msg, quoted);
  ocip_error_release (&err);
}

Test (caps, default_set)
{
  cleanup_strv char **caps = compute_ok (NULL, NULL);
  static const char *const want[] = { "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",     "CAP_FSETID",
                                      "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
                                      "CAP_SETPCAP", "CAP_SETUID",       "CAP_SYS_CHROOT", NULL };
  size_t i;

  for (i = 0; want[i]; i++)
    {
      cr_assert_not_null (caps[i], "missing '%s'", want[i]);
      cr_assert_str_eq (caps[i], want[i]);
      cr_assert_str_eq (ocip_caps_default[i], want[i]);
    }
  cr_assert_null (caps[i], "extra capability '%s'", caps[i]);
  cr_assert_null (ocip_caps_default[i]);
}

Test (caps, names_in_every_spelling)
{
  normalize_is ("net_admin", "CAP_NET_ADMIN");
  normalize_is ("NET_ADMIN", "CAP_NET_ADMIN");
  normalize_is ("cap_net_admin", "CAP_NET_ADMIN");
  normalize_is ("CAP_NET_ADMIN", "CAP_NET_ADMIN");
  normalize_is ("Cap_Net_Admin", "CAP_NET_ADMIN");
  normalize_is ("sys_chroot", "CAP_SYS_CHROOT");
  normalize_is ("all", "ALL");
  normalize_is ("ALL", "ALL");
  normalize_is ("All", "ALL");
}

Test (caps, bad_names)
{
  normalize_fails ("");
  normalize_fails ("bogus");
  normalize_fails ("CAP_BOGUS");
  normalize_fails ("CAP_");
  normalize_fails ("cap_");
  /* cap_from_name() would take numbers: "5" is CAP_KILL.  */
  normalize_fails ("5");
  normalize_fails ("cap_5");
  normalize_fails ("net admin");
  normalize_fails ("chown,kill");
  normalize_fails ("CAP_ALL");
  normalize_fails ("allx");
}

Test (caps, add)
{
  cleanup_strv char **caps = compute_ok (V ("net_admin", "CAP_SYS_PTRACE", "Sys_Time", "chown"), NULL);

  cr_assert_eq (strv_len (caps), 14);
  cr_assert (strv_has (caps, "CAP_NET_ADMIN"));
  cr_assert (strv_has (caps, "CAP_SYS_PTRACE"));
  cr_assert (strv_has (caps, "CAP_SYS_TIME"));
  cr_assert (strv_has (caps, "CAP_CHOWN"));
}

Test (caps, add_duplicates_once)
{
  cleanup_strv char **caps = compute_ok (V ("net_admin", "NET_ADMIN", "cap_net_admin"), NULL);

  cr_assert_eq (strv_len (caps), 12);
}

Test (caps, drop)
{
  cleanup_strv char **caps = compute_ok (NULL, V ("chown", "CAP_KILL", "net_admin"));

  cr_assert_eq (strv_len (caps), 9);
  cr_assert_not (strv_has (caps, "CAP_CHOWN"));
  cr_assert_not (strv_has (caps, "CAP_KILL"));
  cr_assert (strv_has (caps, "CAP_SETUID"));
}

Test (caps, drop_all_keeps_only_added)
{
  cleanup_strv char **none = compute_ok (NULL, V ("ALL"));
  cleanup_strv char **some = compute_ok (V ("net_bind_service", "chown"), V ("all"));

  cr_assert_eq (strv_len (none), 0);
  cr_assert_eq (strv_len (some), 2);
  cr_assert_str_eq (some[0], "CAP_CHOWN");
  cr_assert_str_eq (some[1], "CAP_NET_BIND_SERVICE");
}

Test (caps, add_all)
{
  cleanup_strv char **all = compute_ok (V ("ALL"), NULL);
  cleanup_strv char **most = compute_ok (V ("all"), V ("sys_admin", "SYS_MODULE"));
  size_t i;

  cr_assert (strv_has (all, "CAP_SYS_ADMIN"));
  cr_assert (strv_has (all, "CAP_NET_ADMIN"));
  cr_assert (strv_has (all, "CAP_SYS_MODULE"));
  for (i = 0; ocip_caps_default[i]; i++)
    cr_assert (strv_has (all, ocip_caps_default[i]), "'%s' missing from ALL", ocip_caps_default[i]);
  /* Every capability up to CAP_AUDIT_READ (37) exists on any kernel we run on.  */
  cr_assert_geq (strv_len (all), 38);
  cr_assert_eq (strv_len (most), strv_len (all) - 2);
  cr_assert_not (strv_has (most, "CAP_SYS_ADMIN"));
  cr_assert_not (strv_has (most, "CAP_SYS_MODULE"));
}

Test (caps, unknown_names_are_refused)
{
  compute_fails (V ("net_admin", "cap_bogus"), NULL, "unknown capability 'cap_bogus'");
  compute_fails (NULL, V ("nope"), "unknown capability 'nope'");
  compute_fails (V ("7"), NULL, "'7'");
}

Test (caps, added_and_dropped_is_refused)
{
  compute_fails (V ("net_admin"), V ("CAP_NET_ADMIN"), "'CAP_NET_ADMIN'");
  compute_fails (V ("all"), V ("ALL"), "all capabilities");
}

Test (caps, process_has)
{
  /* Bit CAP_SYS_RESOURCE of CapEff in /proc/self/status says the same.  */
  cleanup_free char *status = fx_read_file ("/proc/self/status", NULL);
  const char *eff = strstr (status, "CapEff:\t");
  unsigned long long mask;

  cr_assert_not_null (eff);
  mask = strtoull (eff + 8, NULL, 16);
  cr_assert_eq (ocip_caps_process_has ("sys_resource"), (mask >> 24) & 1);
  cr_assert_eq (ocip_caps_process_has ("CAP_CHOWN"), mask & 1);
  cr_assert_not (ocip_caps_process_has ("bogus"));
  cr_assert_not (ocip_caps_process_has ("all"));
}
