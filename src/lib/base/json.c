/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The only user of yajl: strict bounded parsing into a tree, typed getters, the generator. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include <oci-prep/cleanup.h>
#include "base/json.h"
#include "base/strv.h"
#include <oci-prep/limits.h>

struct ocip_json_node
{
  enum ocip_json_type type;
  union
  {
    bool boolean;
    char *text; /* strings, and numbers as written */
    struct
    {
      struct ocip_json_node **items;
      size_t n, cap;
    } array;
    struct
    {
      char **keys;
      struct ocip_json_node **values;
      size_t n, cap;
    } object;
  } u;
};

struct ocip_json
{
  struct ocip_json_node *root;
};

static void
node_free (struct ocip_json_node *node)
{
  size_t i;

  if (node == NULL)
    return;
  switch (node->type)
    {
    case OCIP_JSON_STRING:
    case OCIP_JSON_NUMBER:
      free (node->u.text);
      break;
    case OCIP_JSON_ARRAY:
      for (i = 0; i < node->u.array.n; i++)
        node_free (node->u.array.items[i]);
      free (node->u.array.items);
      break;
    case OCIP_JSON_OBJECT:
      for (i = 0; i < node->u.object.n; i++)
        {
          free (node->u.object.keys[i]);
          node_free (node->u.object.values[i]);
        }
      free (node->u.object.keys);
      free (node->u.object.values);
      break;
    default:
      break;
    }
  free (node);
}

void
ocip_json_free (struct ocip_json *doc)
{
  if (doc == NULL)
    return;
  node_free (doc->root);
  free (doc);
}

const struct ocip_json_node *
ocip_json_root (const struct ocip_json *doc)
{
  return doc->root;
}

/* Parser state shared by the yajl callbacks.  The stack holds the open containers;
   its bound is the nesting limit, which also bounds node_free()'s recursion.  */
struct builder
{
  struct ocip_json_node *root;
  struct ocip_json_node *stack[OCIP_LIMIT_JSON_DEPTH];
  size_t depth;
  char *key; /* pending object key */
  size_t values;
  int error;        /* errno class of a callback's refusal */
  const char *why;  /* its message */
};

static int
refuse (struct builder *b, int error, const char *why)
{
  b->error = error;
  b->why = why;
  return 0;
}

static int
add_node (struct builder *b, struct ocip_json_node *node)
{
  struct ocip_json_node *parent;

  if (++b->values > OCIP_LIMIT_JSON_VALUES)
    {
      node_free (node);
      return refuse (b, E2BIG, "too many values");
    }
  if (b->depth == 0)
    {
      b->root = node;
      return 1;
    }
  parent = b->stack[b->depth - 1];
  if (parent->type == OCIP_JSON_ARRAY)
    {
      if (parent->u.array.n == parent->u.array.cap)
        {
          parent->u.array.cap = parent->u.array.cap ? parent->u.array.cap * 2 : 4;
          parent->u.array.items = xreallocarray (parent->u.array.items, parent->u.array.cap, sizeof (void *));
        }
      parent->u.array.items[parent->u.array.n++] = node;
      return 1;
    }
  if (parent->u.object.n == parent->u.object.cap)
    {
      parent->u.object.cap = parent->u.object.cap ? parent->u.object.cap * 2 : 4;
      parent->u.object.keys = xreallocarray (parent->u.object.keys, parent->u.object.cap, sizeof (char *));
      parent->u.object.values = xreallocarray (parent->u.object.values, parent->u.object.cap, sizeof (void *));
    }
  parent->u.object.keys[parent->u.object.n] = steal_pointer (&b->key);
  parent->u.object.values[parent->u.object.n++] = node;
  return 1;
}

static struct ocip_json_node *
new_node (enum ocip_json_type type)
{
  struct ocip_json_node *node = xzalloc (sizeof *node);
  node->type = type;
  return node;
}

static int
on_null (void *ctx)
{
  return add_node (ctx, new_node (OCIP_JSON_NULL));
}

static int
on_boolean (void *ctx, int value)
{
  struct ocip_json_node *node = new_node (OCIP_JSON_BOOL);
  node->u.boolean = value != 0;
  return add_node (ctx, node);
}

static int
on_number (void *ctx, const char *text, size_t len)
{
  struct ocip_json_node *node = new_node (OCIP_JSON_NUMBER);
  node->u.text = xstrndup (text, len);
  return add_node (ctx, node);
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
   yajl checks only the shape of each sequence, and two readers that disagree on what
   a byte sequence means could see two different names.  */
static bool
valid_utf8 (const unsigned char *s, size_t len)
{
  size_t i = 0;

  while (i < len)
    {
      unsigned char c = s[i];
      size_t n;
      uint32_t cp;

      if (c < 0x80)
        {
          i++;
          continue;
        }
      if (c >= 0xc2 && c <= 0xdf)
        n = 1, cp = c & 0x1f;
      else if (c >= 0xe0 && c <= 0xef)
        n = 2, cp = c & 0x0f;
      else if (c >= 0xf0 && c <= 0xf4)
        n = 3, cp = c & 0x07;
      else
        return false;
      if (len - i <= n)
        return false;
      for (size_t k = 1; k <= n; k++)
        {
          if ((s[i + k] & 0xc0) != 0x80)
            return false;
          cp = (cp << 6) | (s[i + k] & 0x3f);
        }
      if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return false;
      i += n + 1;
    }
  return true;
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int k = 0; k < 4; k++)
    {
      char c = p[k];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return -1;
    }
  return v;
}

/* yajl turns a lone surrogate escape into '?' and glues a high surrogate to whatever
   \u escape follows: refuse both before it sees them.  Only escapes inside strings
   matter; everything else is yajl's to judge.  */
static bool
valid_surrogate_escapes (const char *buf, size_t len)
{
  bool in_string = false;
  size_t i;

  for (i = 0; i < len; i++)
    {
      if (! in_string)
        {
          in_string = buf[i] == '"';
          continue;
        }
      if (buf[i] == '"')
        in_string = false;
      else if (buf[i] == '\\' && i + 1 < len)
        {
          int v;
          if (buf[++i] != 'u' || len - i < 5 || (v = hex4 (buf + i + 1)) < 0)
            continue;
          i += 4;
          if (v >= 0xdc00 && v <= 0xdfff)
            return false;
          if (v >= 0xd800 && v <= 0xdbff)
            {
              int lo;
              if (len - i < 7 || buf[i + 1] != '\\' || buf[i + 2] != 'u' || (lo = hex4 (buf + i + 3)) < 0xdc00
                  || lo > 0xdfff)
                return false;
              i += 6;
            }
        }
    }
  return true;
}

/* A NUL inside a string would silently cut every C string made from it: an image could
   then show one name to a check and another to the code that uses it.  */
static int
on_string (void *ctx, const unsigned char *s, size_t len)
{
  struct ocip_json_node *node;

  if (memchr (s, '\0', len))
    return refuse (ctx, EINVAL, "string contains a NUL character");
  if (! valid_utf8 (s, len))
    return refuse (ctx, EINVAL, "string is not valid UTF-8");
  node = new_node (OCIP_JSON_STRING);
  node->u.text = xstrndup ((const char *) s, len);
  return add_node (ctx, node);
}

static int
open_container (struct builder *b, enum ocip_json_type type)
{
  struct ocip_json_node *node;

  if (b->depth == OCIP_LIMIT_JSON_DEPTH)
    return refuse (b, E2BIG, "nesting too deep");
  node = new_node (type);
  if (! add_node (b, node))
    return 0;
  b->stack[b->depth++] = node;
  return 1;
}

static int
on_start_map (void *ctx)
{
  return open_container (ctx, OCIP_JSON_OBJECT);
}

static int
on_map_key (void *ctx, const unsigned char *key, size_t len)
{
  struct builder *b = ctx;

  if (memchr (key, '\0', len))
    return refuse (b, EINVAL, "object key contains a NUL character");
  if (! valid_utf8 (key, len))
    return refuse (b, EINVAL, "object key is not valid UTF-8");
  free (b->key);
  b->key = xstrndup ((const char *) key, len);
  return 1;
}

/* Duplicate keys are refused: two parsers (ours and a runtime's, or a registry's) could
   pick different values for the same document.  */
static int
on_end_map (void *ctx)
{
  struct builder *b = ctx;
  struct ocip_json_node *node = b->stack[--b->depth];
  size_t i, n = node->u.object.n;
  cleanup_free char **sorted = NULL;

  if (n < 2)
    return 1;
  sorted = xreallocarray (NULL, n, sizeof (char *));
  memcpy (sorted, node->u.object.keys, n * sizeof (char *));
  ocip_strv_sort (sorted, n);
  for (i = 1; i < n; i++)
    if (strcmp (sorted[i - 1], sorted[i]) == 0)
      return refuse (b, EINVAL, "duplicate object key");
  return 1;
}

static int
on_start_array (void *ctx)
{
  return open_container (ctx, OCIP_JSON_ARRAY);
}

static int
on_end_array (void *ctx)
{
  struct builder *b = ctx;
  b->depth--;
  return 1;
}

static const yajl_callbacks callbacks = {
  .yajl_null = on_null,
  .yajl_boolean = on_boolean,
  .yajl_number = on_number,
  .yajl_string = on_string,
  .yajl_start_map = on_start_map,
  .yajl_map_key = on_map_key,
  .yajl_end_map = on_end_map,
  .yajl_start_array = on_start_array,
  .yajl_end_array = on_end_array,
};

int
ocip_json_parse (const char *buf, size_t len, size_t max_size, struct ocip_json **ret, ocip_error_t *err)
{
  struct builder b = { 0 };
  struct ocip_json *doc;
  yajl_handle handle;
  yajl_status status;
  int r = 0;

  if (len > max_size)
    return ocip_error_fail (err, E2BIG, "document of %zu bytes is over the limit of %zu", len, max_size);

  if (! valid_surrogate_escapes (buf, len))
    return ocip_error_fail (err, EINVAL, "invalid JSON: unpaired surrogate escape in a string");
  handle = yajl_alloc (&callbacks, NULL, &b);
  if (handle == NULL)
    abort ();
  status = yajl_parse (handle, (const unsigned char *) buf, len);
  if (status == yajl_status_ok)
    status = yajl_complete_parse (handle);
  if (status != yajl_status_ok)
    {
      if (b.error)
        r = ocip_error_fail (err, b.error, "invalid JSON at byte %zu: %s", yajl_get_bytes_consumed (handle), b.why);
      else
        {
          unsigned char *msg = yajl_get_error (handle, 0, NULL, 0);
          char *nl = strchr ((char *) msg, '\n');
          if (nl)
            *nl = '\0';
          r = ocip_error_fail (err, EINVAL, "invalid JSON: %s", (char *) msg);
          yajl_free_error (handle, msg);
        }
    }
  yajl_free (handle);
  free (b.key);
  if (r < 0)
    {
      node_free (b.root);
      return r;
    }
  doc = xmalloc (sizeof *doc);
  doc->root = b.root;
  *ret = doc;
  return 0;
}

enum ocip_json_type
ocip_json_type (const struct ocip_json_node *node)
{
  return node->type;
}

const char *
ocip_json_type_name (enum ocip_json_type type)
{
  static const char *const names[] = { "null", "boolean", "number", "string", "array", "object" };
  return names[type];
}

const char *
ocip_json_string (const struct ocip_json_node *node)
{
  return node && node->type == OCIP_JSON_STRING ? node->u.text : NULL;
}

size_t
ocip_json_array_len (const struct ocip_json_node *node)
{
  return node && node->type == OCIP_JSON_ARRAY ? node->u.array.n : 0;
}

const struct ocip_json_node *
ocip_json_array_at (const struct ocip_json_node *node, size_t i)
{
  return i < ocip_json_array_len (node) ? node->u.array.items[i] : NULL;
}

size_t
ocip_json_object_len (const struct ocip_json_node *node)
{
  return node && node->type == OCIP_JSON_OBJECT ? node->u.object.n : 0;
}

const char *
ocip_json_object_key_at (const struct ocip_json_node *node, size_t i)
{
  return i < ocip_json_object_len (node) ? node->u.object.keys[i] : NULL;
}

const struct ocip_json_node *
ocip_json_object_value_at (const struct ocip_json_node *node, size_t i)
{
  return i < ocip_json_object_len (node) ? node->u.object.values[i] : NULL;
}

const struct ocip_json_node *
ocip_json_object_get (const struct ocip_json_node *node, const char *key)
{
  size_t i, n = ocip_json_object_len (node);

  for (i = 0; i < n; i++)
    if (strcmp (node->u.object.keys[i], key) == 0)
      return node->u.object.values[i];
  return NULL;
}

bool
ocip_json_bool (const struct ocip_json_node *node)
{
  return node && node->type == OCIP_JSON_BOOL && node->u.boolean;
}

const char *
ocip_json_number_text (const struct ocip_json_node *node)
{
  return node && node->type == OCIP_JSON_NUMBER ? node->u.text : NULL;
}

int
ocip_json_int64 (const struct ocip_json_node *node, int64_t *ret, ocip_error_t *err)
{
  const char *p;
  char *end;
  long long v;

  if (node == NULL || node->type != OCIP_JSON_NUMBER)
    return ocip_error_fail (err, EINVAL, "expected an integer");
  /* JSON allows 1e3 and 1.0; an integer field allows neither.  */
  p = node->u.text;
  if (*p == '-')
    p++;
  if (*p == '\0' || strspn (p, "0123456789") != strlen (p))
    return ocip_error_fail (err, EINVAL, "'%s' is not an integer", node->u.text);
  errno = 0;
  v = strtoll (node->u.text, &end, 10);
  if (errno == ERANGE)
    return ocip_error_fail (err, ERANGE, "integer '%s' is out of range", node->u.text);
  *ret = v;
  return 0;
}

/* Look KEY up in OBJ and check its type.  Returns 1 with *RET set when present, 0 when
   absent (or null) and optional, negative on error.  */
static int
get_typed (const struct ocip_json_node *obj, const char *key, enum ocip_json_type type, bool required,
           const struct ocip_json_node **ret, ocip_error_t *err)
{
  const struct ocip_json_node *node = ocip_json_object_get (obj, key);

  if (node == NULL || (node->type == OCIP_JSON_NULL && ! required))
    {
      if (required)
        return ocip_error_fail (err, EINVAL, "missing field '%s'", key);
      return 0;
    }
  if (node->type != type)
    return ocip_error_fail (err, EINVAL, "field '%s': expected %s, got %s", key, ocip_json_type_name (type),
                           ocip_json_type_name (node->type));
  *ret = node;
  return 1;
}

int
ocip_json_get_string (const struct ocip_json_node *obj, const char *key, bool required, const char **ret,
                      ocip_error_t *err)
{
  const struct ocip_json_node *node = NULL;
  int r = get_typed (obj, key, OCIP_JSON_STRING, required, &node, err);

  if (r < 0)
    return r;
  *ret = node ? node->u.text : NULL;
  return 0;
}

int
ocip_json_get_int64 (const struct ocip_json_node *obj, const char *key, bool required, int64_t *ret,
                     ocip_error_t *err)
{
  const struct ocip_json_node *node = NULL;
  int r = get_typed (obj, key, OCIP_JSON_NUMBER, required, &node, err);

  if (r <= 0)
    return r;
  r = ocip_json_int64 (node, ret, err);
  if (r < 0)
    return ocip_error_wrap (err, "field '%s'", key);
  return 0;
}

int
ocip_json_get_object (const struct ocip_json_node *obj, const char *key, bool required,
                      const struct ocip_json_node **ret, ocip_error_t *err)
{
  const struct ocip_json_node *node = NULL;
  int r = get_typed (obj, key, OCIP_JSON_OBJECT, required, &node, err);

  if (r < 0)
    return r;
  *ret = node;
  return 0;
}

int
ocip_json_get_array (const struct ocip_json_node *obj, const char *key, bool required,
                     const struct ocip_json_node **ret, ocip_error_t *err)
{
  const struct ocip_json_node *node = NULL;
  int r = get_typed (obj, key, OCIP_JSON_ARRAY, required, &node, err);

  if (r < 0)
    return r;
  *ret = node;
  return 0;
}

int
ocip_json_get_strv (const struct ocip_json_node *obj, const char *key, bool required, char ***ret,
                    ocip_error_t *err)
{
  const struct ocip_json_node *array = NULL;
  char **v;
  size_t i;
  int r = get_typed (obj, key, OCIP_JSON_ARRAY, required, &array, err);

  if (r < 0)
    return r;
  if (array == NULL)
    {
      *ret = NULL;
      return 0;
    }
  for (i = 0; i < array->u.array.n; i++)
    if (array->u.array.items[i]->type != OCIP_JSON_STRING)
      return ocip_error_fail (err, EINVAL, "field '%s': element %zu is not a string", key, i);
  v = xcalloc (array->u.array.n + 1, sizeof (char *));
  for (i = 0; i < array->u.array.n; i++)
    v[i] = xstrdup (array->u.array.items[i]->u.text);
  *ret = v;
  return 0;
}

/* The generator keeps its own account of the document's structure: yajl 2.1 counts
   depth only, and would emit "{]" or a key without a value without complaint.  */
struct ocip_json_gen
{
  yajl_gen gen;
  const char *failure;                    /* the first misuse or yajl failure */
  char open[OCIP_LIMIT_JSON_DEPTH];       /* '{' or '[' per open container */
  bool want_key[OCIP_LIMIT_JSON_DEPTH];   /* in a map: the next string is a key */
  size_t depth;
  bool complete;                          /* a whole top-level value was written */
};

struct ocip_json_gen *
ocip_json_gen_new (bool pretty)
{
  struct ocip_json_gen *g = xzalloc (sizeof *g);

  g->gen = yajl_gen_alloc (NULL);
  if (g->gen == NULL)
    abort ();
  yajl_gen_config (g->gen, yajl_gen_beautify, pretty ? 1 : 0);
  if (pretty)
    yajl_gen_config (g->gen, yajl_gen_indent_string, "  ");
  return g;
}

void
ocip_json_gen_free (struct ocip_json_gen *g)
{
  if (g == NULL)
    return;
  yajl_gen_free (g->gen);
  free (g);
}

static void
fail (struct ocip_json_gen *g, const char *why)
{
  if (g->failure == NULL)
    g->failure = why;
}

static void
keep (struct ocip_json_gen *g, yajl_gen_status status)
{
  if (status != yajl_gen_status_ok)
    fail (g, "yajl refused a value");
}

/* Account for a value about to be written; false when it may not stand here.  */
static bool
begin_value (struct ocip_json_gen *g)
{
  if (g->failure)
    return false;
  if (g->depth == 0)
    {
      if (g->complete)
        fail (g, "a second top-level value");
      return g->failure == NULL;
    }
  if (g->open[g->depth - 1] == '{')
    {
      if (g->want_key[g->depth - 1])
        {
          fail (g, "a value where a key is expected");
          return false;
        }
      g->want_key[g->depth - 1] = true;
    }
  return true;
}

static void
end_value (struct ocip_json_gen *g)
{
  if (g->depth == 0)
    g->complete = true;
}

static void
gen_open (struct ocip_json_gen *g, char kind)
{
  if (! begin_value (g))
    return;
  if (g->depth == OCIP_LIMIT_JSON_DEPTH)
    {
      fail (g, "nesting too deep");
      return;
    }
  g->open[g->depth] = kind;
  g->want_key[g->depth] = kind == '{';
  g->depth++;
  keep (g, kind == '{' ? yajl_gen_map_open (g->gen) : yajl_gen_array_open (g->gen));
}

static void
gen_close (struct ocip_json_gen *g, char kind)
{
  if (g->failure)
    return;
  if (g->depth == 0 || g->open[g->depth - 1] != kind || (kind == '{' && ! g->want_key[g->depth - 1]))
    {
      fail (g, "a close that does not match what is open");
      return;
    }
  g->depth--;
  keep (g, kind == '{' ? yajl_gen_map_close (g->gen) : yajl_gen_array_close (g->gen));
  end_value (g);
}

void
ocip_json_gen_map_open (struct ocip_json_gen *g)
{
  gen_open (g, '{');
}

void
ocip_json_gen_map_close (struct ocip_json_gen *g)
{
  gen_close (g, '{');
}

void
ocip_json_gen_array_open (struct ocip_json_gen *g)
{
  gen_open (g, '[');
}

void
ocip_json_gen_array_close (struct ocip_json_gen *g)
{
  gen_close (g, '[');
}

void
ocip_json_gen_string (struct ocip_json_gen *g, const char *s)
{
  size_t len = strlen (s);

  if (g->failure)
    return;
  if (! valid_utf8 ((const unsigned char *) s, len))
    {
      fail (g, "a string that is not valid UTF-8");
      return;
    }
  if (g->depth > 0 && g->open[g->depth - 1] == '{' && g->want_key[g->depth - 1])
    g->want_key[g->depth - 1] = false;
  else if (! begin_value (g))
    return;
  keep (g, yajl_gen_string (g->gen, (const unsigned char *) s, len));
  end_value (g);
}

void
ocip_json_gen_int64 (struct ocip_json_gen *g, int64_t v)
{
  if (! begin_value (g))
    return;
  keep (g, yajl_gen_integer (g->gen, v));
  end_value (g);
}

void
ocip_json_gen_bool (struct ocip_json_gen *g, bool v)
{
  if (! begin_value (g))
    return;
  keep (g, yajl_gen_bool (g->gen, v));
  end_value (g);
}

void
ocip_json_gen_null (struct ocip_json_gen *g)
{
  if (! begin_value (g))
    return;
  keep (g, yajl_gen_null (g->gen));
  end_value (g);
}

void
ocip_json_gen_node (struct ocip_json_gen *g, const struct ocip_json_node *node)
{
  size_t i;

  switch (node->type)
    {
    case OCIP_JSON_NULL:
      ocip_json_gen_null (g);
      break;
    case OCIP_JSON_BOOL:
      ocip_json_gen_bool (g, node->u.boolean);
      break;
    case OCIP_JSON_NUMBER:
      if (begin_value (g))
        {
          keep (g, yajl_gen_number (g->gen, node->u.text, strlen (node->u.text)));
          end_value (g);
        }
      break;
    case OCIP_JSON_STRING:
      ocip_json_gen_string (g, node->u.text);
      break;
    case OCIP_JSON_ARRAY:
      ocip_json_gen_array_open (g);
      for (i = 0; i < node->u.array.n; i++)
        ocip_json_gen_node (g, node->u.array.items[i]);
      ocip_json_gen_array_close (g);
      break;
    case OCIP_JSON_OBJECT:
      ocip_json_gen_map_open (g);
      for (i = 0; i < node->u.object.n; i++)
        {
          ocip_json_gen_string (g, node->u.object.keys[i]);
          ocip_json_gen_node (g, node->u.object.values[i]);
        }
      ocip_json_gen_map_close (g);
      break;
    }
}

void
ocip_json_gen_kv_string (struct ocip_json_gen *g, const char *key, const char *value)
{
  if (value == NULL)
    return;
  ocip_json_gen_string (g, key);
  ocip_json_gen_string (g, value);
}

void
ocip_json_gen_kv_int64 (struct ocip_json_gen *g, const char *key, int64_t value)
{
  ocip_json_gen_string (g, key);
  ocip_json_gen_int64 (g, value);
}

void
ocip_json_gen_kv_bool (struct ocip_json_gen *g, const char *key, bool value)
{
  ocip_json_gen_string (g, key);
  ocip_json_gen_bool (g, value);
}

void
ocip_json_gen_kv_strv (struct ocip_json_gen *g, const char *key, char *const *v)
{
  if (v == NULL)
    return;
  ocip_json_gen_string (g, key);
  ocip_json_gen_array_open (g);
  for (; *v; v++)
    ocip_json_gen_string (g, *v);
  ocip_json_gen_array_close (g);
}

int
ocip_json_gen_finish (struct ocip_json_gen *g, char **ret, size_t *ret_len, ocip_error_t *err)
{
  const unsigned char *buf;
  size_t len;
  char *out;

  if (g->failure == NULL && (g->depth > 0 || ! g->complete))
    fail (g, "an incomplete document");
  if (g->failure)
    return ocip_error_fail (err, EINVAL, "generate JSON: %s", g->failure);
  if (yajl_gen_get_buf (g->gen, &buf, &len) != yajl_gen_status_ok)
    return ocip_error_fail (err, EINVAL, "generate JSON: yajl has no buffer");
  out = xmalloc (len + 2);
  memcpy (out, buf, len);
  if (len == 0 || out[len - 1] != '\n')
    out[len++] = '\n';
  out[len] = '\0';
  *ret = out;
  if (ret_len)
    *ret_len = len;
  return 0;
}
