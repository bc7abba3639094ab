/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON: bounded parsing into a read-only tree with typed getters, and a checked generator. */
#ifndef OCIP_JSON_H
#define OCIP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oci-prep/error.h>

/* A parsed document and its nodes.  Nodes belong to the document and live until
   ocip_json_free() of it.  */
struct ocip_json;
struct ocip_json_node;

enum ocip_json_type
{
  OCIP_JSON_NULL,
  OCIP_JSON_BOOL,
  OCIP_JSON_NUMBER,
  OCIP_JSON_STRING,
  OCIP_JSON_ARRAY,
  OCIP_JSON_OBJECT,
};

/* Parse LEN bytes at BUF.  Rejected with EINVAL: invalid JSON or UTF-8, a NUL byte,
   trailing data, duplicate keys in an object; with E2BIG: LEN over MAX_SIZE or nesting
   deeper than OCIP_LIMIT_JSON_DEPTH.  Returns 0 and a document owned by the caller in
   *RET, or a negative errno with *ERR set.  */
int ocip_json_parse (const char *buf, size_t len, size_t max_size, struct ocip_json **ret, ocip_error_t *err);
void ocip_json_free (struct ocip_json *doc);
const struct ocip_json_node *ocip_json_root (const struct ocip_json *doc);

enum ocip_json_type ocip_json_type (const struct ocip_json_node *node);
const char *ocip_json_type_name (enum ocip_json_type type);

/* Accessors: NULL / 0 when NODE is not of the right type.  */
const char *ocip_json_string (const struct ocip_json_node *node);
size_t ocip_json_array_len (const struct ocip_json_node *node);
const struct ocip_json_node *ocip_json_array_at (const struct ocip_json_node *node, size_t i);
size_t ocip_json_object_len (const struct ocip_json_node *node);
const char *ocip_json_object_key_at (const struct ocip_json_node *node, size_t i);
const struct ocip_json_node *ocip_json_object_value_at (const struct ocip_json_node *node, size_t i);
/* The value of KEY in the object NODE, or NULL if absent (or NODE is no object).  */
const struct ocip_json_node *ocip_json_object_get (const struct ocip_json_node *node, const char *key);

/* A boolean's value (false for anything else), a number's text as written.  */
bool ocip_json_bool (const struct ocip_json_node *node);
const char *ocip_json_number_text (const struct ocip_json_node *node);

/* Integer from the number's own text: only "-?[0-9]+" in int64 range, else EINVAL/ERANGE.  */
int ocip_json_int64 (const struct ocip_json_node *node, int64_t *ret, ocip_error_t *err);

/* Typed field getters for the object OBJ.  A missing field is an error only when
   REQUIRED (then EINVAL "missing field 'KEY'"); a field of the wrong type is always
   EINVAL naming it.  On success *RET points into the document (strings) or is set
   (integers); for an absent optional field *RET is NULL / untouched and 0 is returned.
   JSON null counts as absent for optional fields.  */
int ocip_json_get_string (const struct ocip_json_node *obj, const char *key, bool required, const char **ret,
                          ocip_error_t *err);
int ocip_json_get_int64 (const struct ocip_json_node *obj, const char *key, bool required, int64_t *ret,
                         ocip_error_t *err);
/* An object or array field: *RET is the node (NULL if absent and optional).  */
int ocip_json_get_object (const struct ocip_json_node *obj, const char *key, bool required,
                          const struct ocip_json_node **ret, ocip_error_t *err);
int ocip_json_get_array (const struct ocip_json_node *obj, const char *key, bool required,
                         const struct ocip_json_node **ret, ocip_error_t *err);
/* An array of strings as a new NULL-terminated vector owned by the caller (*RET NULL if
   absent and optional; an empty array gives an empty vector).  */
int ocip_json_get_strv (const struct ocip_json_node *obj, const char *key, bool required, char ***ret,
                        ocip_error_t *err);

/* The generator.  Calls never fail by themselves: the first failure is kept and
   reported by ocip_json_gen_finish(), so every status is checked without cluttering
   callers.  */
struct ocip_json_gen;
struct ocip_json_gen *ocip_json_gen_new (bool pretty);
void ocip_json_gen_free (struct ocip_json_gen *gen);
void ocip_json_gen_map_open (struct ocip_json_gen *gen);
void ocip_json_gen_map_close (struct ocip_json_gen *gen);
void ocip_json_gen_array_open (struct ocip_json_gen *gen);
void ocip_json_gen_array_close (struct ocip_json_gen *gen);
void ocip_json_gen_string (struct ocip_json_gen *gen, const char *s);
void ocip_json_gen_int64 (struct ocip_json_gen *gen, int64_t v);
void ocip_json_gen_bool (struct ocip_json_gen *gen, bool v);
void ocip_json_gen_null (struct ocip_json_gen *gen);
/* NODE (of any document) and everything below it, as parsed: numbers keep their text.  */
void ocip_json_gen_node (struct ocip_json_gen *gen, const struct ocip_json_node *node);
/* Key then value, in an open map.  A NULL string value writes nothing at all.  */
void ocip_json_gen_kv_string (struct ocip_json_gen *gen, const char *key, const char *value);
void ocip_json_gen_kv_int64 (struct ocip_json_gen *gen, const char *key, int64_t value);
void ocip_json_gen_kv_bool (struct ocip_json_gen *gen, const char *key, bool value);
/* Key then a string array (nothing when V is NULL).  */
void ocip_json_gen_kv_strv (struct ocip_json_gen *gen, const char *key, char *const *v);
/* Finish: *RET is a NUL-terminated copy of the text, owned by the caller, ending in a
   newline.  EINVAL if any call failed (unbalanced, invalid UTF-8, ...).  */
int ocip_json_gen_finish (struct ocip_json_gen *gen, char **ret, size_t *ret_len, ocip_error_t *err);

#define cleanup_json __attribute__ ((cleanup (ocip_json_freep)))
#define cleanup_json_gen __attribute__ ((cleanup (ocip_json_gen_freep)))
static inline void
ocip_json_freep (struct ocip_json **p)
{
  ocip_json_free (*p);
}
static inline void
ocip_json_gen_freep (struct ocip_json_gen **p)
{
  ocip_json_gen_free (*p);
}

#endif
