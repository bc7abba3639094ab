/* SPDX-License-Identifier: GPL-2.0-or-later */
/* store fsck: check every layer, pin and short link of the store, and repair what can be. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/gc.h>
#include "base/fsutil.h"
#include "store/inventory.h"
#include "store/records.h"
#include "store/store_internal.h"
#include "store/store_private.h"
#include "store/treehash.h"

/* ---- fsck ---- */

struct fsck
{
  struct ocip_store *store;
  const struct ocip_gc_fsck_options *opts;
  struct ocip_gc_fsck_report *report;
  size_t cap;
  struct ocip_gc_pin *pins; /* the readable pin records left after the pin checks */
  size_t n_pins;
};

/* Record a problem: OBJECT and WHAT are taken over.  */
static struct ocip_gc_problem *
problem (struct fsck *f, char *object, char *what)
{
  struct ocip_gc_fsck_report *rep = f->report;
  struct ocip_gc_problem *p;

  if (rep->n_problems == f->cap)
    {
      f->cap = f->cap ? f->cap * 2 : 16;
      rep->problems = xreallocarray (rep->problems, f->cap, sizeof *rep->problems);
    }
  p = &rep->problems[rep->n_problems++];
  *p = (struct ocip_gc_problem){ .object = object, .what = what };
  rep->n_unrepaired++;
  return p;
}

/* What --repair did about P: REPAIRED or not, and TEXT (taken over) saying what.  */
static void
repaired (struct fsck *f, struct ocip_gc_problem *p, bool ok, char *text)
{
  p->repair = text;
  p->repaired = ok;
  if (ok)
    f->report->n_unrepaired--;
}

/* Repair P by ERR's outcome: R < 0 failed with *ERR (released), else DONE.  */
static void
repaired_by (struct fsck *f, struct ocip_gc_problem *p, int r, ocip_error_t *err, const char *done)
{
  if (r < 0)
    {
      repaired (f, p, false, xasprintf ("not repaired: %s", (*err)->msg));
      ocip_error_release (err);
    }
  else
    repaired (f, p, true, xstrdup (done));
}

/* Whether a live pin records ROOTFS as its rootfs.  */
static bool
rootfs_has_live_pin (const struct ocip_gc_pin *pins, size_t n, const char *rootfs)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (pins[i].state == OCIP_GC_PIN_LIVE && pins[i].rootfs_path && strcmp (pins[i].rootfs_path, rootfs) == 0)
      return true;
  return false;
}

static void
fsck_pins (struct fsck *f)
{
  struct ocip_store *store = f->store;
  cleanup_strv char **names = NULL;
  cleanup_free bool *unmount = NULL;
  ocip_error_t err = NULL;
  size_t n, i, kept = 0;

  if (ocip_inventory_list_dir (store->dirfd, "bundles", &names, &n, &err) < 0)
    {
      problem (f, xstrdup ("bundles/"), xasprintf ("cannot be read: %s", err->msg));
      ocip_error_release (&err);
      return;
    }
  f->pins = xcalloc (n + 1, sizeof *f->pins);
  for (i = 0; i < n; i++)
    {
      struct ocip_gc_pin *pin = &f->pins[f->n_pins];
      struct ocip_gc_problem *p;

      if (! ocip_records_is_pin_name (names[i], &pin->id))
        {
          bool temp = ocip_records_is_pin_leftover (names[i]);
          p = problem (f, xasprintf ("bundles/%s", names[i]),
                       xstrdup (temp ? "a pin record left half-written" : "not a pin record (unexpected entry)"));
          if (f->opts->repair)
            repaired_by (f, p, ocip_rmtree_at (store->bundles_fd, names[i], &err), &err, "removed");
          continue;
        }
      f->report->n_pins++;
      if (ocip_inventory_read_pin (store, pin, &err) < 0)
        {
          p = problem (f, xasprintf ("pin '%s'", pin->id),
                       xasprintf ("the record cannot be read: %s", err->msg));
          ocip_error_release (&err);
          if (f->opts->repair)
            repaired_by (f, p, ocip_rmtree_at (store->bundles_fd, names[i], &err), &err, "dropped");
          ocip_inventory_pin_clear (pin);
          memset (pin, 0, sizeof *pin);
          continue;
        }
      ocip_inventory_check_pin (pin, true);
      f->n_pins++;
    }

  /* Stale pins, once every pin is known: a rootfs may belong to a live one.  */
  unmount = xcalloc (f->n_pins + 1, sizeof *unmount);
  for (i = 0; i < f->n_pins; i++)
    unmount[i] = f->pins[i].state != OCIP_GC_PIN_LIVE && f->pins[i].mounted
                 && ! rootfs_has_live_pin (f->pins, f->n_pins, f->pins[i].rootfs_path);
  for (i = 0; i < f->n_pins; i++)
    {
      struct ocip_gc_pin *pin = &f->pins[i];
      struct ocip_gc_problem *p;

      if (pin->state == OCIP_GC_PIN_LIVE)
        {
          f->pins[kept++] = *pin;
          continue;
        }
      p = problem (f, xasprintf ("pin '%s'", pin->id),
                   xasprintf ("stale: %s (bundle '%s')%s", ocip_gc_pin_state_text (pin->state), pin->bundle,
                              pin->mounted ? "; its rootfs is still mounted" : ""));
      if (! f->opts->repair)
        {
          f->pins[kept++] = *pin;
          continue;
        }
      if (pin->state == OCIP_GC_PIN_CONTAINER_GONE)
        {
          /* Its rootfs, state directory and pin, as poststop would have.  */
          if (pin->mounted && ! unmount[i])
            repaired (f, p, false, xasprintf ("not repaired: a live bundle uses rootfs '%s'", pin->rootfs_path));
          else if (ocip_inventory_release_hook (store, pin, &err) < 0)
            repaired_by (f, p, -1, &err, NULL);
          else
            {
              repaired (f, p, true, xasprintf ("hook rootfs '%s' released", pin->rootfs_path));
              ocip_inventory_pin_clear (pin);
              continue;
            }
          f->pins[kept++] = *pin;
          continue;
        }
      if (unmount[i] && ocip_inventory_detach (pin->rootfs_path, &err) < 0)
        {
          repaired_by (f, p, -1, &err, NULL);
          f->pins[kept++] = *pin;
          continue;
        }
      if (ocip_records_pin_remove (store, pin->id, &err) < 0)
        {
          repaired_by (f, p, -1, &err, NULL);
          f->pins[kept++] = *pin;
          continue;
        }
      repaired (f, p, true,
                unmount[i] ? xasprintf ("rootfs '%s' detached, pin dropped", pin->rootfs_path)
                           : xstrdup ("pin dropped"));
      ocip_inventory_pin_clear (pin);
    }
  f->n_pins = kept;
}

/* A pin among the ones left that keeps DIFF_ID.  */
static const struct ocip_gc_pin *
pinned_by (struct fsck *f, const struct ocip_digest *diff_id)
{
  size_t i, j;

  for (i = 0; i < f->n_pins; i++)
    if (f->pins[i].protects)
      for (j = 0; f->pins[i].layers[j]; j++)
        if (strcmp (f->pins[i].layers[j], diff_id->str) == 0)
          return &f->pins[i];
  return NULL;
}

static int
count_implied (const char *path, void *ctx, ocip_error_t *err)
{
  (void) path;
  (void) err;
  ++*(int64_t *) ctx;
  return 0;
}

/* What is wrong with the implied list of the layer L, as a new string, or NULL: it must
   read, and hold as many paths as its record says (a list cut short would leave
   directories of a bundle with the wrong owner or mode).  */
static char *
check_implied (struct fsck *f, const struct ocip_gc_layer *l)
{
  struct ocip_layer_record rec = { 0 };
  ocip_error_t err = NULL;
  int64_t n = 0;
  char *what = NULL;

  if (ocip_records_layer_read (f->store, &l->diff_id, &rec, &err) < 0
      || ocip_records_layer_implied (f->store, &l->diff_id, count_implied, &n, &err) < 0)
    {
      what = xasprintf ("its implied directories cannot be read: %s", err->msg);
      ocip_error_release (&err);
    }
  else if (rec.n_implied >= 0 && rec.n_implied != n)
    what = xasprintf ("its implied directory list holds %lld paths, its record says %lld", (long long) n,
                      (long long) rec.n_implied);
  ocip_layer_record_clear (&rec);
  return what;
}

/* What is wrong with the layer L (name and diffID set), as a new string, or NULL.  */
static char *
check_layer (struct fsck *f, struct ocip_gc_layer *l)
{
  cleanup_free char *diff = xasprintf ("%s/diff", l->name);
  cleanup_close int diff_fd = -1;
  ocip_error_t err = NULL;
  struct ocip_digest recorded, now;
  struct stat st;
  char *what;

  if (fstatat (f->store->layers_fd, l->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return xasprintf ("cannot be examined: %s", strerror (errno));
  if (! S_ISDIR (st.st_mode))
    return xstrdup ("not a directory");
  if (fstatat (f->store->layers_fd, diff, &st, AT_SYMLINK_NOFOLLOW) < 0 || ! S_ISDIR (st.st_mode))
    return xstrdup ("its diff/ directory is missing");
  if (ocip_inventory_read_layer (f->store, l, &err) < 0)
    {
      if (err->status == ENOENT)
        what = xstrdup ("its meta.json is missing");
      else
        what = xasprintf ("its meta.json is damaged: %s", err->msg);
      ocip_error_release (&err);
      return what;
    }
  if ((what = check_implied (f, l)) != NULL)
    return what;
  if (! f->opts->deep)
    return NULL;
  if (l->content_digest == NULL)
    {
      f->report->n_unverified++;
      return NULL;
    }
  if (ocip_digest_parse (l->content_digest, &recorded, &err) < 0)
    {
      what = xasprintf ("its recorded content digest is damaged: %s", err->msg);
      ocip_error_release (&err);
      return what;
    }
  diff_fd = openat (f->store->layers_fd, diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (diff_fd < 0)
    return xasprintf ("its diff/ directory cannot be opened: %s", strerror (errno));
  if (ocip_treehash (diff_fd, recorded.alg, (enum ocip_treehash_format) l->content_format, NULL, 0, &now, &err) < 0)
    {
      what = xasprintf ("its content cannot be read: %s", err->msg);
      ocip_error_release (&err);
      return what;
    }
  if (! ocip_digest_equal (&recorded, &now))
    return xasprintf ("its content changed since it was extracted: recorded '%s', found '%s'", recorded.str,
                      now.str);
  f->report->n_verified++;
  return NULL;
}

static void
repair_layer (struct fsck *f, struct ocip_gc_problem *p, const struct ocip_digest *diff_id)
{
  const struct ocip_gc_pin *pin = pinned_by (f, diff_id);
  cleanup_close int lock = -1;
  ocip_error_t err = NULL;

  if (pin)
    {
      repaired (f, p, false,
                xasprintf ("not repaired: bundle '%s' uses it (remove that bundle, then repair)", pin->bundle));
      return;
    }
  lock = ocip_store_lock_layer (f->store, diff_id, false, &err);
  if (lock < 0)
    {
      if (err->status == EWOULDBLOCK)
        {
          ocip_error_release (&err);
          repaired (f, p, false, xstrdup ("not repaired: a load or bundle is using it"));
        }
      else
        repaired_by (f, p, -1, &err, NULL);
      return;
    }
  repaired_by (f, p, ocip_store_remove_layer (f->store, diff_id, &err), &err,
               "removed (it is extracted again when an image needs it)");
}

static void
fsck_layers (struct fsck *f)
{
  struct ocip_store *store = f->store;
  cleanup_strv char **names = NULL;
  ocip_error_t err = NULL;
  size_t n, i, j;

  if (ocip_inventory_list_dir (store->dirfd, "layers", &names, &n, &err) < 0)
    {
      problem (f, xstrdup ("layers/"), xasprintf ("cannot be read: %s", err->msg));
      ocip_error_release (&err);
      return;
    }
  for (i = 0; i < n; i++)
    {
      struct ocip_gc_layer l = { .name = xstrdup (names[i]) };
      struct ocip_gc_problem *p;
      char *what;

      if (! ocip_store_layer_from_name (names[i], &l.diff_id))
        {
          p = problem (f, xasprintf ("layers/%s", names[i]), xstrdup ("not a layer (unexpected entry)"));
          if (f->opts->repair)
            repaired_by (f, p, ocip_store_remove_junk (store, names[i], &err), &err, "removed");
        }
      else
        {
          f->report->n_layers++;
          if ((what = check_layer (f, &l)) != NULL)
            {
              p = problem (f, xasprintf ("layer '%s'", l.diff_id.str), what);
              if (f->opts->repair)
                repair_layer (f, p, &l.diff_id);
            }
        }
      ocip_inventory_layer_clear (&l);
    }

  for (i = 0; i < f->n_pins; i++)
    for (j = 0; f->pins[i].protects && f->pins[i].layers[j]; j++)
      {
        struct ocip_digest d;
        struct ocip_gc_problem *p;

        if (ocip_digest_parse (f->pins[i].layers[j], &d, &err) < 0)
          abort (); /* validated by the pin reader */
        if (ocip_store_has_layer (store, &d))
          continue;
        p = problem (f, xasprintf ("pin '%s'", f->pins[i].id),
                     xasprintf ("bundle '%s' uses layer '%s', which is missing from the store", f->pins[i].bundle,
                                d.str));
        if (f->opts->repair)
          repaired (f, p, false, xstrdup ("cannot be repaired: remove the bundle (oci-prep rm), then make it again"));
      }
}

static void
fsck_links (struct fsck *f)
{
  struct ocip_store *store = f->store;
  cleanup_strv char **names = NULL;
  cleanup_close int links_fd = -1;
  ocip_error_t err = NULL;
  size_t n, i;

  if (ocip_inventory_list_dir (store->dirfd, "l", &names, &n, &err) < 0)
    {
      problem (f, xstrdup ("l/"), xasprintf ("cannot be read: %s", err->msg));
      ocip_error_release (&err);
      return;
    }
  if (n == 0)
    return;
  links_fd = openat (store->dirfd, "l", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  for (i = 0; i < n && links_fd >= 0; i++)
    {
      const char *why = NULL;
      enum ocip_inventory_link state = ocip_inventory_classify_link (links_fd, names[i], &why);
      struct ocip_gc_problem *p;

      if (state == OCIP_INVENTORY_LINK_GONE)
        continue;
      f->report->n_links++;
      if (state == OCIP_INVENTORY_LINK_OK)
        continue;
      p = problem (f, xasprintf ("short link 'l/%s'", names[i]), xstrdup (why));
      if (f->opts->repair)
        repaired_by (f, p, ocip_rmtree_at (links_fd, names[i], &err), &err, "removed");
    }
}

int
ocip_gc_fsck (struct ocip_store *store, const struct ocip_gc_fsck_options *opts,
              struct ocip_gc_fsck_report **ret, ocip_error_t *err)
{
  struct fsck f = { .store = store, .opts = opts, .report = xzalloc (sizeof *f.report) };
  size_t i;
  int r;

  /* Exclusive: no bundle is between finding its layers and writing its state, so a
     pin without state is a creation that died, and nothing is repaired under a user.  */
  if ((r = ocip_store_lock_exclusive (store, true, err)) < 0)
    {
      ocip_gc_fsck_report_free (f.report);
      return r;
    }
  fsck_pins (&f);
  fsck_layers (&f);
  fsck_links (&f);
  ocip_store_unlock (store);
  for (i = 0; i < f.n_pins; i++)
    ocip_inventory_pin_clear (&f.pins[i]);
  free (f.pins);
  *ret = f.report;
  return 0;
}

void
ocip_gc_fsck_report_free (struct ocip_gc_fsck_report *report)
{
  size_t i;

  if (report == NULL)
    return;
  for (i = 0; i < report->n_problems; i++)
    {
      free (report->problems[i].object);
      free (report->problems[i].what);
      free (report->problems[i].repair);
    }
  free (report->problems);
  free (report);
}
