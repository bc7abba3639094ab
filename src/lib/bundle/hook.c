/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hooks: fill an engine's runtime config from an image, and undo it after the container. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/context.h"
#include <oci-prep/bundle.h>
#include <oci-prep/cleanup.h>
#include "base/fsutil.h"
#include "base/idmap.h"
#include <oci-prep/hook.h>
#include "base/json.h"
#include "base/strv.h"
#include "spec/spec_internal.h"
#include "store/store_internal.h"
#include <oci-prep/limits.h>
#include <oci-prep/plan.h>
#include <oci-prep/spec.h>
#include <oci-prep/store.h>

/* A runtime config carries the engine's seccomp profile and mounts: larger than an
   image document may be.  */
#define CONFIG_SIZE_LIMIT (16u * 1024 * 1024)

/* The engine's side of a merge, sorted for bsearch: an engine may list as many entries
   as the image has (podman copies the image's Env into the config it proposes), so a
   scan of it per image entry would be quadratic.  Env entries compare by their name
   (up to '='), annotation keys whole.  */
struct sorted_names
{
  const char **v;
  size_t n;
};

static int
compare_env_names (const void *a, const void *b)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  size_t xl = strcspn (x, "="), yl = strcspn (y, "=");
  int c = memcmp (x, y, xl < yl ? xl : yl);

  return c ? c : (xl > yl) - (xl < yl);
}

/* The strings of the array NODE (ENV) or the keys of the object NODE, sorted.  */
static void
sort_names (const struct ocip_json_node *node, bool env, struct sorted_names *ret)
{
  size_t i, n = env ? ocip_json_array_len (node) : ocip_json_object_len (node);

  ret->v = xcalloc (n ? n : 1, sizeof *ret->v);
  ret->n = 0;
  for (i = 0; i < n; i++)
    {
      const char *s = env ? ocip_json_string (ocip_json_array_at (node, i)) : ocip_json_object_key_at (node, i);
      if (s)
        ret->v[ret->n++] = s;
    }
  qsort (ret->v, ret->n, sizeof *ret->v, env ? compare_env_names : ocip_strv_compare);
}

static bool
has_name (const struct sorted_names *names, const char *name, bool env)
{
  return bsearch (&name, names->v, names->n, sizeof *names->v, env ? compare_env_names : ocip_strv_compare) != NULL;
}

static void
gen_strv (struct ocip_json_gen *gen, char *const *v)
{
  ocip_json_gen_array_open (gen);
  for (; v && *v; v++)
    ocip_json_gen_string (gen, *v);
  ocip_json_gen_array_close (gen);
}

/* The engine's variables, then the image's that the engine did not set.  */
static void
gen_env (struct ocip_json_gen *gen, const struct ocip_json_node *mine, char *const *image)
{
  struct sorted_names set;
  size_t i;

  sort_names (mine, true, &set);
  ocip_json_gen_array_open (gen);
  for (i = 0; i < ocip_json_array_len (mine); i++)
    ocip_json_gen_node (gen, ocip_json_array_at (mine, i));
  for (; image && *image; image++)
    if (! has_name (&set, *image, true))
      ocip_json_gen_string (gen, *image);
  ocip_json_gen_array_close (gen);
  free (set.v);
}

/* Root with no supplementary groups is what engines write when nobody chose a user.  */
static bool
user_is_default (const struct ocip_json_node *user)
{
  const struct ocip_json_node *gids = ocip_json_object_get (user, "additionalGids");
  const char *uid = ocip_json_number_text (ocip_json_object_get (user, "uid"));
  const char *gid = ocip_json_number_text (ocip_json_object_get (user, "gid"));

  return user == NULL
         || ((uid == NULL || strcmp (uid, "0") == 0) && (gid == NULL || strcmp (gid, "0") == 0)
             && ocip_json_array_len (gids) == 0 && ocip_json_object_get (user, "username") == NULL);
}

/* The image's value of a process member the engine left empty, or lacks.  */
static void
gen_image_process (struct ocip_json_gen *gen, const char *key, const struct ocip_spec_process *image)
{
  if (strcmp (key, "args") == 0)
    gen_strv (gen, image->args);
  else if (strcmp (key, "env") == 0)
    gen_strv (gen, image->env);
  else if (strcmp (key, "cwd") == 0)
    ocip_json_gen_string (gen, image->cwd);
  else
    ocip_spec_gen_user (gen, &image->user);
}

static void
gen_process (struct ocip_json_gen *gen, const struct ocip_json_node *mine, const struct ocip_spec_process *image)
{
  static const char *const filled[] = { "args", "env", "cwd", "user" };
  size_t i, k;

  ocip_json_gen_map_open (gen);
  for (i = 0; i < ocip_json_object_len (mine); i++)
    {
      const char *key = ocip_json_object_key_at (mine, i);
      const struct ocip_json_node *value = ocip_json_object_value_at (mine, i);
      const char *cwd = ocip_json_string (value);

      ocip_json_gen_string (gen, key);
      if ((strcmp (key, "args") == 0 && ocip_json_array_len (value) == 0)
          || (strcmp (key, "cwd") == 0 && (cwd == NULL || *cwd == '\0' || strcmp (cwd, "/") == 0))
          || (strcmp (key, "user") == 0 && user_is_default (value)))
        gen_image_process (gen, key, image);
      else if (strcmp (key, "env") == 0)
        gen_env (gen, value, image->env);
      else
        ocip_json_gen_node (gen, value);
    }
  for (k = 0; k < sizeof filled / sizeof filled[0]; k++)
    if (ocip_json_object_get (mine, filled[k]) == NULL)
      {
        ocip_json_gen_string (gen, filled[k]);
        gen_image_process (gen, filled[k], image);
      }
  ocip_json_gen_map_close (gen);
}

/* The engine's annotations, then the image's it lacks.  */
static void
gen_annotations (struct ocip_json_gen *gen, const struct ocip_json_node *mine,
                 const struct ocip_spec_annotations *image)
{
  struct sorted_names set;
  size_t i;

  sort_names (mine, false, &set);
  ocip_json_gen_map_open (gen);
  for (i = 0; i < ocip_json_object_len (mine); i++)
    {
      ocip_json_gen_string (gen, ocip_json_object_key_at (mine, i));
      ocip_json_gen_node (gen, ocip_json_object_value_at (mine, i));
    }
  for (i = 0; i < image->n; i++)
    if (! has_name (&set, image->keys[i], false))
      ocip_json_gen_kv_string (gen, image->keys[i], image->values[i]);
  ocip_json_gen_map_close (gen);
  free (set.v);
}

/* The engine's command and user, as spec options.  */
static void
engine_spec (const struct ocip_json_node *config, struct ocip_spec_options *spec)
{
  const struct ocip_json_node *process = ocip_json_object_get (config, "process");
  const struct ocip_json_node *args = ocip_json_object_get (process, "args");
  const struct ocip_json_node *user = ocip_json_object_get (process, "user");
  size_t i, n = ocip_json_array_len (args);

  memset (spec, 0, sizeof *spec);
  if (n > 0)
    {
      spec->args = xcalloc (n + 1, sizeof *spec->args);
      for (i = 0; i < n; i++)
        {
          const char *a = ocip_json_string (ocip_json_array_at (args, i));
          spec->args[i] = xstrdup (a ? a : "");
        }
    }
  if (user && ! user_is_default (user))
    {
      const char *uid = ocip_json_number_text (ocip_json_object_get (user, "uid"));
      const char *gid = ocip_json_number_text (ocip_json_object_get (user, "gid"));
      spec->user = xasprintf ("%s:%s", uid ? uid : "0", gid ? gid : "0");
    }
}

static void
engine_spec_clear (struct ocip_spec_options *spec)
{
  ocip_strv_free (spec->args);
  free ((char *) spec->user);
}

/* The engine's document MINE, every member in its order and untouched, with its empty
   process fields and missing annotations filled from the image's model.  */
static int
merge (const struct ocip_json_node *mine, const struct ocip_spec *image, char **ret, size_t *ret_len,
       ocip_error_t *err)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  size_t i;

  ocip_json_gen_map_open (gen);
  for (i = 0; i < ocip_json_object_len (mine); i++)
    {
      const char *key = ocip_json_object_key_at (mine, i);
      const struct ocip_json_node *value = ocip_json_object_value_at (mine, i);

      ocip_json_gen_string (gen, key);
      if (strcmp (key, "process") == 0)
        gen_process (gen, value, &image->process);
      else if (strcmp (key, "annotations") == 0)
        gen_annotations (gen, value, &image->annotations);
      else
        ocip_json_gen_node (gen, value);
    }
  if (ocip_json_object_get (mine, "process") == NULL)
    {
      ocip_json_gen_string (gen, "process");
      gen_process (gen, NULL, &image->process);
    }
  ocip_json_gen_map_close (gen);
  return ocip_json_gen_finish (gen, ret, ret_len, err);
}

/* Engines run hooks wherever they like (podman: its own working directory), and
   precreate sees no bundle path: what it prepares is kept in the store, under a name
   derived from the rootfs path, which poststop finds again through the bundle's
   config.json.  */
static char *
hook_dir (const char *store, const char *rootfs)
{
  cleanup_free char *base = store ? xstrdup (store) : ocip_store_default_path ();
  struct ocip_digest d;

  ocip_digest_buffer (OCIP_DIGEST_SHA256, rootfs, strlen (rootfs), &d);
  return xasprintf ("%s/hooks/%.32s", base, ocip_digest_hex (&d));
}

static char *
absolute_rootfs (const char *bundle, const char *root_path)
{
  char cwd[PATH_MAX];

  if (root_path[0] == '/')
    return xstrdup (root_path);
  if (realpath (bundle, cwd) == NULL)
    snprintf (cwd, sizeof cwd, "%s", bundle);
  return xasprintf ("%s/%s", cwd, root_path);
}

static int
make_hook_dir (const char *store, const char *dir, ocip_error_t *err)
{
  cleanup_store struct ocip_store *s = NULL;
  int r;

  if ((r = ocip_store_open (store, &s, err)) < 0)
    return r;
  return ocip_store_make_hook_dir (s, strrchr (dir, '/') + 1, err);
}

/* The mappings of the config's new user namespace (linux.namespaces has "user" without
   a path, as podman --userns/--uidmap proposes, and linux.uidMappings/gidMappings say
   how): the rootfs must be ID-mapped with them.  None (*RET empty) otherwise: a user
   namespace joined by path has its mappings already, which only the engine knows.  */
static int
config_idmap (const struct ocip_json_node *root, struct ocip_idmap *ret, ocip_error_t *err)
{
  const struct ocip_json_node *linux_obj = NULL, *namespaces = NULL;
  struct ocip_idmap map = { { 0 }, { 0 } };
  bool user = false;
  size_t i;
  int r;

  if ((r = ocip_json_get_object (root, "linux", false, &linux_obj, err)) < 0 || linux_obj == NULL
      || (r = ocip_json_get_array (linux_obj, "namespaces", false, &namespaces, err)) < 0 || namespaces == NULL)
    return r;
  for (i = 0; i < ocip_json_array_len (namespaces); i++)
    {
      const struct ocip_json_node *ns = ocip_json_array_at (namespaces, i);
      const char *type = NULL, *path = NULL;

      if (ocip_json_type (ns) != OCIP_JSON_OBJECT)
        continue;
      if ((r = ocip_json_get_string (ns, "type", false, &type, err)) < 0
          || (r = ocip_json_get_string (ns, "path", false, &path, err)) < 0)
        return r;
      user = user || (type && strcmp (type, "user") == 0 && (path == NULL || *path == '\0'));
    }
  if (! user)
    return 0;
  if ((r = ocip_idmap_parse_list (linux_obj, "uidMappings", &map.uid, err)) < 0
      || (r = ocip_idmap_parse_list (linux_obj, "gidMappings", &map.gid, err)) < 0)
    {
      ocip_idmap_clear (&map);
      return ocip_error_wrap (err, "linux");
    }
  *ret = map;
  return 0;
}

int
ocip_hook_precreate (struct ocip_context *ctx, const char *config, size_t len, const char *bundle, char **ret,
                     size_t *ret_len, char ***ret_dropped, ocip_error_t *err)
{
  const char *store = ocip_context_store_path (ctx);
  cleanup_json struct ocip_json *doc = NULL;
  cleanup_spec struct ocip_spec *from_image = NULL;
  cleanup_plan struct ocip_plan *plan = NULL;
  cleanup_close int rootfd = -1;
  struct ocip_bundle_options opts = { 0 };
  struct ocip_spec_options spec;
  cleanup_free char *rootfs = NULL;
  cleanup_free char *engine = NULL;
  cleanup_free char *dir = NULL;
  const struct ocip_json_node *root, *annotations = NULL, *rootobj = NULL;
  const char *image = NULL, *root_path = NULL;
  struct ocip_idmap idmap = { { 0 }, { 0 } };
  int r;

  if ((r = ocip_json_parse (config, len, CONFIG_SIZE_LIMIT, &doc, err)) < 0)
    return ocip_error_wrap (err, "precreate: runtime config");
  root = ocip_json_root (doc);
  if (ocip_json_type (root) != OCIP_JSON_OBJECT)
    return ocip_error_fail (err, EINVAL, "precreate: the runtime config is not a JSON object");
  if ((r = ocip_json_get_object (root, "annotations", false, &annotations, err)) < 0
      || (annotations && (r = ocip_json_get_string (annotations, OCIP_HOOK_ANNOTATION, false, &image, err)) < 0))
    return ocip_error_wrap (err, "precreate: runtime config");
  if (image == NULL)
    {
      /* Not ours: pass through untouched, byte for byte.  */
      *ret = xmalloc (len + 1);
      memcpy (*ret, config, len);
      (*ret)[len] = '\0';
      *ret_len = len;
      if (ret_dropped)
        *ret_dropped = xcalloc (1, sizeof (char *));
      return 0;
    }
  if ((r = ocip_json_get_object (root, "root", true, &rootobj, err)) < 0
      || (r = ocip_json_get_string (rootobj, "path", true, &root_path, err)) < 0)
    return ocip_error_wrap (err, "precreate: runtime config");

  rootfs = absolute_rootfs (bundle, root_path);
  engine = realpath (bundle, NULL);
  /* Recorded, so that store fsck and gc find this rootfs once the engine removed the
     bundle (or its config.json names another rootfs): a failed engine never calls
     poststop.  */
  opts.engine_bundle = engine;
  dir = hook_dir (store, rootfs);
  if ((r = make_hook_dir (store, dir, err)) < 0)
    return ocip_error_wrap (err, "precreate");
  ocip_load_options_default (&opts.load);
  if ((r = config_idmap (root, &idmap, err)) < 0)
    {
      rmdir (dir);
      return ocip_error_wrap (err, "precreate: runtime config");
    }
  opts.idmap = ocip_idmap_is_empty (&idmap) ? NULL : &idmap;
  r = ocip_bundle_prepare_rootfs (ctx, image, dir, rootfs, &opts, &plan, &rootfd, err);
  ocip_idmap_clear (&idmap);
  if (r < 0)
    {
      rmdir (dir);
      return ocip_error_wrap (err, "precreate: image '%s'", image);
    }
  /* The image's side: the model a bundle's config.json is written from, merged as a
     struct, never written and parsed back.  What the engine chose (a command, a user)
     stands in for the image's, so that an image without a command or with a user the
     engine overrides still works.  */
  engine_spec (root, &spec);
  if ((r = ocip_spec_build (plan->config, rootfd, &spec, &from_image, err)) < 0
      || (r = merge (root, from_image, ret, ret_len, err)) < 0)
    {
      ocip_error_t ignored = NULL;
      ocip_closep (&rootfd);
      if (ocip_bundle_release (dir, true, &ignored) < 0)
        ocip_error_release (&ignored);
      rmdir (dir);
      engine_spec_clear (&spec);
      return ocip_error_wrap (err, "precreate: image '%s'", image);
    }
  engine_spec_clear (&spec);
  if (ret_dropped)
    *ret_dropped = steal_pointer (&from_image->dropped_labels);
  return 0;
}

/* The bundle's own config.json says where its rootfs was.  Anything but a regular file
   there (a device node above all) is never opened: not ours.  */
static char *
bundle_rootfs (const char *bundle)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle);
  cleanup_json struct ocip_json *doc = NULL;
  cleanup_free char *buf = NULL;
  ocip_error_t err = NULL;
  const char *root_path;
  size_t len;

  if (ocip_read_file_at (AT_FDCWD, path, CONFIG_SIZE_LIMIT, &buf, &len, &err) < 0
      || ocip_json_parse (buf, len, CONFIG_SIZE_LIMIT, &doc, &err) < 0)
    {
      ocip_error_release (&err);
      return NULL;
    }
  root_path = ocip_json_string (ocip_json_object_get (ocip_json_object_get (ocip_json_root (doc), "root"), "path"));
  return root_path ? absolute_rootfs (bundle, root_path) : NULL;
}

int
ocip_hook_poststop (struct ocip_context *ctx, const char *state, size_t len, ocip_error_t *err)
{
  const char *store = ocip_context_store_path (ctx);
  cleanup_json struct ocip_json *doc = NULL;
  cleanup_free char *rootfs = NULL;
  cleanup_free char *dir = NULL;
  const char *bundle = NULL;
  int r;

  if ((r = ocip_json_parse (state, len, CONFIG_SIZE_LIMIT, &doc, err)) < 0
      || (r = ocip_json_get_string (ocip_json_root (doc), "bundle", true, &bundle, err)) < 0)
    return ocip_error_wrap (err, "poststop: container state");
  rootfs = bundle_rootfs (bundle);
  if (rootfs == NULL)
    return 0; /* no config.json there: nothing of ours */
  dir = hook_dir (store, rootfs);
  /* The container is gone; a mount still busy is detached rather than left behind.  */
  if ((r = ocip_bundle_release (dir, true, err)) < 0)
    return ocip_error_wrap (err, "poststop");
  rmdir (dir);
  return 0;
}
