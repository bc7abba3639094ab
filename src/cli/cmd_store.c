/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-prep store ls|du|gc|fsck: list, measure, collect and check the shared layer store. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/gc.h>
#include <oci-prep/store.h>

#include "cli.h"

/* "1.5 MiB": sizes for people; --json gives bytes.  */
static const char *
human_size (uint64_t bytes, char buf[32])
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = (double) bytes;
  size_t u = 0;

  while (v >= 1024 && u + 1 < sizeof units / sizeof units[0])
    {
      v /= 1024;
      u++;
    }
  if (u == 0)
    snprintf (buf, 32, "%llu B", (unsigned long long) bytes);
  else
    snprintf (buf, 32, "%.1f %s", v, units[u]);
  return buf;
}

static const char *
local_time (int64_t t, char buf[32])
{
  time_t tt = (time_t) t;
  struct tm tm;

  if (t < 0 || localtime_r (&tt, &tm) == NULL || strftime (buf, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    return "-";
  return buf;
}

/* An age: digits and one of s, m, h, d, w (seconds without a unit).  */
static int
parse_age (const char *value, int64_t *ret)
{
  static const struct
  {
    char unit;
    int64_t seconds;
  } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 } };
  unsigned long long v;
  char *end;
  size_t i;

  errno = 0;
  v = strtoull (value, &end, 10);
  if (*value < '0' || *value > '9' || errno || v > (unsigned long long) INT64_MAX / (7 * 86400))
    return cli_usage_error ("store gc", "--older-than takes an age such as 30m, 12h or 7d");
  if (*end == '\0')
    {
      *ret = (int64_t) v;
      return 0;
    }
  for (i = 0; end[1] == '\0' && i < sizeof units / sizeof units[0]; i++)
    if (*end == units[i].unit)
      {
        *ret = (int64_t) v * units[i].seconds;
        return 0;
      }
  return cli_usage_error ("store gc", "--older-than takes an age such as 30m, 12h or 7d");
}

/* ", "-joined V, or "-".  */
static char *
join (char *const *v)
{
  size_t len = 2, i;
  char *s;

  for (i = 0; v && v[i]; i++)
    len += strlen (v[i]) + 2;
  s = xmalloc (len);
  strcpy (s, v && v[0] ? "" : "-");
  for (i = 0; v && v[i]; i++)
    {
      if (i)
        strcat (s, ", ");
      strcat (s, v[i]);
    }
  return s;
}

/* parse_json_only's return after printing the usage for --help: exit 0.  */
#define HELP_SHOWN 1

/* Only --json, for the commands that have no other option: 0 to go on, HELP_SHOWN,
   or CLI_USAGE.  */
static int
parse_json_only (const char *command, const struct cli_globals *g, int argc, char **argv, bool *json)
{
  static const struct option options[] = {
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  *json = g->json;
  while ((c = getopt_long (argc, argv, ":h", options, NULL)) != -1)
    if (c == 'j')
      *json = true;
    else if (c == 'h')
      {
        cli_help (command);
        return HELP_SHOWN;
      }
    else
      return cli_bad_option (command, c, argv);
  if (optind < argc)
    return cli_usage_error (command, "unexpected argument '%s'", argv[optind]);
  return 0;
}

static void
gen_int_or_null (struct ocip_json_gen *gen, const char *key, int64_t v)
{
  ocip_json_gen_string (gen, key);
  if (v < 0)
    ocip_json_gen_null (gen);
  else
    ocip_json_gen_int64 (gen, v);
}

static void
gen_pin (struct ocip_json_gen *gen, const struct ocip_gc_pin *pin)
{
  size_t n = 0;

  while (pin->layers && pin->layers[n])
    n++;
  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "id", pin->id);
  ocip_json_gen_kv_string (gen, "bundle", pin->bundle);
  ocip_json_gen_kv_string (gen, "image", pin->image);
  ocip_json_gen_kv_string (gen, "state", ocip_gc_pin_state_text (pin->state));
  ocip_json_gen_kv_bool (gen, "live", pin->state == OCIP_GC_PIN_LIVE);
  ocip_json_gen_kv_bool (gen, "mounted", pin->mounted);
  ocip_json_gen_kv_bool (gen, "protects", pin->protects);
  ocip_json_gen_kv_int64 (gen, "layers", (int64_t) n);
  ocip_json_gen_map_close (gen);
}

/* ---- ls ---- */

static int
print_ls_json (const struct ocip_gc_inventory *inv, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  size_t i;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_string (gen, "layers");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < inv->n_layers; i++)
    {
      const struct ocip_gc_layer *l = &inv->layers[i];
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "diffID", l->diff_id.str);
      ocip_json_gen_kv_int64 (gen, "diskSize", (int64_t) l->disk_size);
      ocip_json_gen_kv_int64 (gen, "lastUsed", l->last_used);
      ocip_json_gen_kv_int64 (gen, "pins", (int64_t) l->n_pins);
      ocip_json_gen_string (gen, "chainIDs");
      ocip_json_gen_array_open (gen);
      for (size_t j = 0; l->chain_ids && l->chain_ids[j]; j++)
        ocip_json_gen_string (gen, l->chain_ids[j]);
      ocip_json_gen_array_close (gen);
      ocip_json_gen_string (gen, "images");
      ocip_json_gen_array_open (gen);
      for (size_t j = 0; l->images && l->images[j]; j++)
        ocip_json_gen_string (gen, l->images[j]);
      ocip_json_gen_array_close (gen);
      ocip_json_gen_string (gen, "bundles");
      ocip_json_gen_array_open (gen);
      for (size_t j = 0; l->bundles && l->bundles[j]; j++)
        ocip_json_gen_string (gen, l->bundles[j]);
      ocip_json_gen_array_close (gen);
      ocip_json_gen_kv_string (gen, "compressedDigest", l->compressed_digest);
      ocip_json_gen_kv_string (gen, "mediaType", l->media_type);
      ocip_json_gen_kv_string (gen, "contentDigest", l->content_digest);
      gen_int_or_null (gen, "size", l->size);
      gen_int_or_null (gen, "compressedSize", l->compressed_size);
      gen_int_or_null (gen, "entries", l->entries);
      gen_int_or_null (gen, "created", l->created);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
  ocip_json_gen_string (gen, "pins");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < inv->n_pins; i++)
    gen_pin (gen, &inv->pins[i]);
  ocip_json_gen_array_close (gen);
  ocip_json_gen_map_close (gen);
  return cli_print_json (gen, err);
}

static void
print_ls_text (const struct ocip_gc_inventory *inv)
{
  char size[32], when[32];
  size_t i;

  cli_line (stdout, "%-71s  %10s  %-19s  %4s  %s", "DIFF ID", "SIZE", "LAST USED", "PINS", "IMAGES");
  for (i = 0; i < inv->n_layers; i++)
    {
      const struct ocip_gc_layer *l = &inv->layers[i];
      cleanup_free char *images = join (l->images);
      cli_line (stdout, "%-71s  %10s  %-19s  %4zu  %s", l->diff_id.str, human_size (l->disk_size, size),
                local_time (l->last_used, when), l->n_pins, images);
    }
}

static int
store_ls (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  cleanup_store struct ocip_store *store = NULL;
  struct ocip_gc_inventory *inv = NULL;
  bool json;
  int r;

  if ((r = parse_json_only ("store ls", g, argc, argv, &json)) != 0)
    return r == HELP_SHOWN ? 0 : r;
  if ((r = ocip_store_open (g->store, &store, err)) < 0 || (r = ocip_gc_inventory (store, &inv, err)) < 0)
    return r;
  if (json)
    r = print_ls_json (inv, err);
  else
    print_ls_text (inv);
  ocip_gc_inventory_free (inv);
  return r;
}

/* ---- du ---- */

static int
store_du (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  cleanup_store struct ocip_store *store = NULL;
  struct ocip_gc_inventory *inv = NULL;
  size_t live = 0, i;
  char a[32], b[32], c[32];
  bool json;
  int r;

  if ((r = parse_json_only ("store du", g, argc, argv, &json)) != 0)
    return r == HELP_SHOWN ? 0 : r;
  if ((r = ocip_store_open (g->store, &store, err)) < 0 || (r = ocip_gc_inventory (store, &inv, err)) < 0)
    return r;
  for (i = 0; i < inv->n_pins; i++)
    if (inv->pins[i].state == OCIP_GC_PIN_LIVE || inv->pins[i].state == OCIP_GC_PIN_PENDING)
      live++;
  if (json)
    {
      cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "store", ocip_store_path (store));
      ocip_json_gen_kv_int64 (gen, "layers", (int64_t) inv->n_layers);
      ocip_json_gen_kv_int64 (gen, "size", (int64_t) inv->total_size);
      ocip_json_gen_string (gen, "pinned");
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_int64 (gen, "layers", (int64_t) inv->n_pinned);
      ocip_json_gen_kv_int64 (gen, "size", (int64_t) inv->pinned_size);
      ocip_json_gen_map_close (gen);
      ocip_json_gen_string (gen, "unpinned");
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_int64 (gen, "layers", (int64_t) (inv->n_layers - inv->n_pinned));
      ocip_json_gen_kv_int64 (gen, "size", (int64_t) (inv->total_size - inv->pinned_size));
      ocip_json_gen_map_close (gen);
      ocip_json_gen_kv_int64 (gen, "pins", (int64_t) live);
      ocip_json_gen_kv_int64 (gen, "stalePins", (int64_t) (inv->n_pins - live));
      ocip_json_gen_map_close (gen);
      r = cli_print_json (gen, err);
    }
  else
    {
      cli_line (stdout, "total     %10s  %zu layers", human_size (inv->total_size, a), inv->n_layers);
      cli_line (stdout, "pinned    %10s  %zu layers", human_size (inv->pinned_size, b), inv->n_pinned);
      cli_line (stdout, "unpinned  %10s  %zu layers", human_size (inv->total_size - inv->pinned_size, c),
                inv->n_layers - inv->n_pinned);
      cli_line (stdout, "pins      %zu live, %zu stale", live, inv->n_pins - live);
    }
  ocip_gc_inventory_free (inv);
  return r;
}

/* ---- gc ---- */

static bool
is_stale (const struct ocip_gc_pin *pin)
{
  return pin->state != OCIP_GC_PIN_LIVE && pin->state != OCIP_GC_PIN_PENDING;
}

static int
print_gc_json (const struct ocip_gc_report *rep, bool dry_run, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  const struct ocip_gc_inventory *inv = rep->inventory;
  size_t i;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_bool (gen, "dryRun", dry_run);
  ocip_json_gen_string (gen, "removed");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < rep->n_removed; i++)
    {
      const struct ocip_gc_layer *l = &inv->layers[rep->removed[i]];
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "diffID", l->diff_id.str);
      ocip_json_gen_kv_int64 (gen, "diskSize", (int64_t) l->disk_size);
      ocip_json_gen_kv_int64 (gen, "lastUsed", l->last_used);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
  ocip_json_gen_string (gen, "busy");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < rep->n_busy; i++)
    ocip_json_gen_string (gen, inv->layers[rep->busy[i]].diff_id.str);
  ocip_json_gen_array_close (gen);
  ocip_json_gen_string (gen, "stalePins");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < inv->n_pins; i++)
    if (is_stale (&inv->pins[i]))
      gen_pin (gen, &inv->pins[i]);
  ocip_json_gen_array_close (gen);
  ocip_json_gen_kv_int64 (gen, "freed", (int64_t) rep->freed);
  ocip_json_gen_kv_int64 (gen, "remaining", (int64_t) rep->remaining);
  ocip_json_gen_kv_int64 (gen, "links", (int64_t) rep->n_links);
  ocip_json_gen_kv_int64 (gen, "tmp", (int64_t) rep->n_tmp);
  ocip_json_gen_kv_int64 (gen, "hooks", (int64_t) rep->n_hooks);
  ocip_json_gen_map_close (gen);
  return cli_print_json (gen, err);
}

static void
print_gc_text (const struct ocip_gc_report *rep, const struct ocip_gc_options *opts)
{
  const struct ocip_gc_inventory *inv = rep->inventory;
  char size[32], when[32];
  size_t i;

  for (i = 0; i < rep->n_removed; i++)
    {
      const struct ocip_gc_layer *l = &inv->layers[rep->removed[i]];
      cli_line (stdout, "%s %s (%s, last used %s)", opts->dry_run ? "would remove" : "removed", l->diff_id.str,
                human_size (l->disk_size, size), local_time (l->last_used, when));
    }
  for (i = 0; i < rep->n_busy; i++)
    cli_line (stdout, "kept %s: a load or bundle is using it", inv->layers[rep->busy[i]].diff_id.str);
  if (rep->n_hooks)
    cli_line (stdout, "%s %zu hook rootfs whose container is gone", opts->dry_run ? "would release" : "released",
              rep->n_hooks);
  for (i = 0; i < inv->n_pins; i++)
    if (is_stale (&inv->pins[i]))
      cli_line (stdout, "stale pin %s: %s (bundle '%s')%s; 'oci-prep store fsck --repair' drops it", inv->pins[i].id,
                ocip_gc_pin_state_text (inv->pins[i].state), inv->pins[i].bundle,
                inv->pins[i].mounted ? ", its rootfs is still mounted" : "");
  if (rep->n_links)
    cli_line (stdout, "%s %zu dangling short link%s", opts->dry_run ? "would remove" : "removed", rep->n_links,
              rep->n_links == 1 ? "" : "s");
  cli_line (stdout, "%s %s; the layers %s %s%s", opts->dry_run ? "would free" : "freed", human_size (rep->freed, size),
            opts->dry_run ? "would take" : "now take", human_size (rep->remaining, when),
            opts->have_max_size && rep->remaining > opts->max_size ? ", over --max-size: the rest is pinned or in use"
                                                                   : "");
}

static int
store_gc (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "json", no_argument, NULL, 'j' },
    { "max-size", required_argument, NULL, 'm' },
    { "older-than", required_argument, NULL, 'o' },
    { "dry-run", no_argument, NULL, 'n' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_store struct ocip_store *store = NULL;
  struct ocip_gc_options opts = { 0 };
  struct ocip_gc_report *report = NULL;
  bool json = g->json;
  int c, r;

  while ((c = getopt_long (argc, argv, ":nh", options, NULL)) != -1)
    switch (c)
      {
      case 'j':
        json = true;
        break;
      case 'm':
        if ((r = cli_parse_size ("store gc", "--max-size", optarg, &opts.max_size)) != 0)
          return r;
        opts.have_max_size = true;
        break;
      case 'o':
        if ((r = parse_age (optarg, &opts.older_than)) != 0)
          return r;
        opts.have_older_than = true;
        break;
      case 'n':
        opts.dry_run = true;
        break;
      case 'h':
        return cli_help ("store gc");
      default:
        return cli_bad_option ("store gc", c, argv);
      }
  if (optind < argc)
    return cli_usage_error ("store gc", "unexpected argument '%s'", argv[optind]);
  if ((r = ocip_store_open (g->store, &store, err)) < 0 || (r = ocip_gc_run (store, &opts, &report, err)) < 0)
    return r;
  if (json)
    r = print_gc_json (report, opts.dry_run, err);
  else if (g->verbosity >= 0)
    print_gc_text (report, &opts);
  ocip_gc_report_free (report);
  return r;
}

/* ---- fsck ---- */

static int
print_fsck_json (const struct ocip_gc_fsck_report *rep, ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  size_t i;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_string (gen, "problems");
  ocip_json_gen_array_open (gen);
  for (i = 0; i < rep->n_problems; i++)
    {
      ocip_json_gen_map_open (gen);
      ocip_json_gen_kv_string (gen, "object", rep->problems[i].object);
      ocip_json_gen_kv_string (gen, "problem", rep->problems[i].what);
      ocip_json_gen_kv_string (gen, "repair", rep->problems[i].repair);
      ocip_json_gen_kv_bool (gen, "repaired", rep->problems[i].repaired);
      ocip_json_gen_map_close (gen);
    }
  ocip_json_gen_array_close (gen);
  ocip_json_gen_kv_int64 (gen, "unrepaired", (int64_t) rep->n_unrepaired);
  ocip_json_gen_kv_int64 (gen, "layers", (int64_t) rep->n_layers);
  ocip_json_gen_kv_int64 (gen, "links", (int64_t) rep->n_links);
  ocip_json_gen_kv_int64 (gen, "pins", (int64_t) rep->n_pins);
  ocip_json_gen_kv_int64 (gen, "verified", (int64_t) rep->n_verified);
  ocip_json_gen_kv_int64 (gen, "unverified", (int64_t) rep->n_unverified);
  ocip_json_gen_map_close (gen);
  return cli_print_json (gen, err);
}

static int
store_fsck (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct option options[] = {
    { "json", no_argument, NULL, 'j' },
    { "repair", no_argument, NULL, 'r' },
    { "deep", no_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_store struct ocip_store *store = NULL;
  struct ocip_gc_fsck_options opts = { 0 };
  struct ocip_gc_fsck_report *report = NULL;
  bool json = g->json;
  size_t i;
  int c, r;

  while ((c = getopt_long (argc, argv, ":h", options, NULL)) != -1)
    switch (c)
      {
      case 'j':
        json = true;
        break;
      case 'r':
        opts.repair = true;
        break;
      case 'd':
        opts.deep = true;
        break;
      case 'h':
        return cli_help ("store fsck");
      default:
        return cli_bad_option ("store fsck", c, argv);
      }
  if (optind < argc)
    return cli_usage_error ("store fsck", "unexpected argument '%s'", argv[optind]);
  if ((r = ocip_store_open (g->store, &store, err)) < 0 || (r = ocip_gc_fsck (store, &opts, &report, err)) < 0)
    return r;
  if (json)
    r = print_fsck_json (report, err);
  else
    {
      /* One line per problem, even with -q: they are the result.  */
      for (i = 0; i < report->n_problems; i++)
        {
          const struct ocip_gc_problem *p = &report->problems[i];
          if (p->repair)
            cli_line (stdout, "%s: %s: %s", p->object, p->what, p->repair);
          else
            cli_line (stdout, "%s: %s", p->object, p->what);
        }
      if (g->verbosity >= 0)
        {
          cli_print (stdout, "checked %zu layers, %zu short links, %zu pins: %zu problem%s", report->n_layers,
                     report->n_links, report->n_pins, report->n_problems, report->n_problems == 1 ? "" : "s");
          if (opts.repair)
            cli_print (stdout, ", %zu repaired", report->n_problems - report->n_unrepaired);
          if (opts.deep)
            cli_print (stdout, "; content verified for %zu layers, %zu without a recorded content digest",
                       report->n_verified, report->n_unverified);
          fputc ('\n', stdout);
        }
    }
  if (r == 0 && report->n_unrepaired > 0)
    r = ocip_error_fail (err, EUCLEAN, "store '%s': %zu problem%s%s", ocip_store_path (store),
                        report->n_unrepaired, report->n_unrepaired == 1 ? "" : "s",
                        opts.repair ? " left" : " found");
  ocip_gc_fsck_report_free (report);
  return r;
}

int
cmd_store (const struct cli_globals *g, int argc, char **argv, ocip_error_t *err)
{
  static const struct
  {
    const char *name;
    cli_handler handler;
  } subcommands[] = {
    { "ls", store_ls },
    { "du", store_du },
    { "gc", store_gc },
    { "fsck", store_fsck },
  };
  size_t i;

  if (argc < 2)
    return cli_usage_error ("store", "missing SUBCOMMAND argument: ls, du, gc or fsck");
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    return cli_help ("store");
  for (i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (strcmp (argv[1], subcommands[i].name) == 0)
      {
        optind = 0; /* the subcommand's own options */
        return subcommands[i].handler (g, argc - 1, argv + 1, err);
      }
  return cli_usage_error ("store", "unknown subcommand '%s': expected ls, du, gc or fsck", argv[1]);
}
