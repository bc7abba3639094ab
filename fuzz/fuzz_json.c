/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the JSON parser, getters and generator (round trip), digest and IMAGE grammars. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/digest.h>
#include "base/json.h"
#include <oci-prep/layout.h>
#include <oci-prep/limits.h>

#include "fuzz_common.h"

/* Every typed getter on every key of OBJ: each either succeeds with the right type or
   fails naming the key, never both, never neither.  */
static void
walk_object_getters (const struct ocip_json_node *obj)
{
  size_t i, n = ocip_json_object_len (obj);

  for (i = 0; i < n; i++)
    {
      const char *key = ocip_json_object_key_at (obj, i);
      const struct ocip_json_node *value = ocip_json_object_value_at (obj, i);
      enum ocip_json_type type = ocip_json_type (value);
      const struct ocip_json_node *node = NULL;
      const char *s = NULL;
      ocip_error_t err = NULL;
      int64_t v;
      char **strv = NULL;
      long r;

      /* Duplicate keys are refused, so KEY finds exactly its own value.  */
      FUZZ_CHECK (ocip_json_object_get (obj, key) == value, "object_get('%s') found another value", key);

      r = fuzz_check_result ("get_string", ocip_json_get_string (obj, key, true, &s, &err), &err);
      FUZZ_CHECK ((r == 0) == (type == OCIP_JSON_STRING), "get_string('%s') on a %s returned %ld", key,
                  ocip_json_type_name (type), r);
      FUZZ_CHECK (r < 0 || strcmp (s, ocip_json_string (value)) == 0, "get_string('%s') gave another string", key);
      r = fuzz_check_result ("get_string", ocip_json_get_string (obj, key, false, &s, &err), &err);
      FUZZ_CHECK ((r == 0) == (type == OCIP_JSON_STRING || type == OCIP_JSON_NULL),
                  "optional get_string('%s') on a %s returned %ld", key, ocip_json_type_name (type), r);

      r = fuzz_check_result ("get_int64", ocip_json_get_int64 (obj, key, false, &v, &err), &err);
      if (r == 0 && type == OCIP_JSON_NUMBER)
        {
          /* An integer field is "-?[0-9]+" in int64 range: print it back to compare.  */
          cleanup_free char *text = xasprintf ("%lld", (long long) v);
          const char *orig = ocip_json_number_text (value);
          const char *digits = orig + (orig[0] == '-');
          while (digits[0] == '0' && digits[1] != '\0')
            digits++;
          FUZZ_CHECK (strcmp (text + (text[0] == '-'), digits) == 0, "number '%s' was read as %s", orig, text);
        }
      FUZZ_CHECK (r < 0 || type == OCIP_JSON_NUMBER || type == OCIP_JSON_NULL,
                  "get_int64('%s') accepted a %s", key, ocip_json_type_name (type));

      r = fuzz_check_result ("get_object", ocip_json_get_object (obj, key, false, &node, &err), &err);
      FUZZ_CHECK ((r == 0) == (type == OCIP_JSON_OBJECT || type == OCIP_JSON_NULL),
                  "get_object('%s') on a %s returned %ld", key, ocip_json_type_name (type), r);
      r = fuzz_check_result ("get_array", ocip_json_get_array (obj, key, true, &node, &err), &err);
      FUZZ_CHECK ((r == 0) == (type == OCIP_JSON_ARRAY), "get_array('%s') on a %s returned %ld", key,
                  ocip_json_type_name (type), r);

      r = fuzz_check_result ("get_strv", ocip_json_get_strv (obj, key, false, &strv, &err), &err);
      if (r == 0 && strv)
        {
          size_t k = 0;
          for (; strv[k]; k++)
            FUZZ_CHECK (strcmp (strv[k], ocip_json_string (ocip_json_array_at (value, k))) == 0,
                        "get_strv('%s')[%zu] differs", key, k);
          FUZZ_CHECK (k == ocip_json_array_len (value), "get_strv('%s') has %zu of %zu elements", key, k,
                      ocip_json_array_len (value));
        }
      ocip_strv_free (strv);
    }
}

/* Every node: its accessors agree with its type.  */
static void
walk (const struct ocip_json_node *node, size_t depth)
{
  ocip_error_t err = NULL;
  int64_t v;
  size_t i;

  FUZZ_CHECK (depth <= OCIP_LIMIT_JSON_DEPTH, "a tree %zu levels deep was accepted", depth);
  switch (ocip_json_type (node))
    {
    case OCIP_JSON_NUMBER:
      FUZZ_CHECK (ocip_json_number_text (node) != NULL, "a number without text");
      fuzz_check_result ("ocip_json_int64", ocip_json_int64 (node, &v, &err), &err);
      break;
    case OCIP_JSON_STRING:
      FUZZ_CHECK (ocip_json_string (node) != NULL, "a string without text");
      break;
    case OCIP_JSON_ARRAY:
      for (i = 0; i < ocip_json_array_len (node); i++)
        walk (ocip_json_array_at (node, i), depth + 1);
      FUZZ_CHECK (ocip_json_array_at (node, i) == NULL, "array_at past the end");
      break;
    case OCIP_JSON_OBJECT:
      walk_object_getters (node);
      for (i = 0; i < ocip_json_object_len (node); i++)
        walk (ocip_json_object_value_at (node, i), depth + 1);
      FUZZ_CHECK (ocip_json_object_key_at (node, i) == NULL, "object_key_at past the end");
      break;
    default:
      FUZZ_CHECK (ocip_json_string (node) == NULL && ocip_json_number_text (node) == NULL,
                  "a %s with text", ocip_json_type_name (ocip_json_type (node)));
      break;
    }
}

/* Generate NODE; a parsed tree is always valid output.  Returns the text.  */
static char *
generate (const struct ocip_json_node *node, bool pretty, size_t *ret_len)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (pretty);
  ocip_error_t err = NULL;
  char *text = NULL;

  ocip_json_gen_node (gen, node);
  if (ocip_json_gen_finish (gen, &text, ret_len, &err) < 0)
    fuzz_fail (__FILE__, __LINE__, "gen_finish", "a parsed document cannot be generated again: %s", err->msg);
  FUZZ_CHECK (strlen (text) == *ret_len, "generated text has a NUL byte");
  return text;
}

static void
fuzz_document (const uint8_t *data, size_t size)
{
  cleanup_json struct ocip_json *doc = NULL;
  cleanup_json struct ocip_json *again = NULL;
  cleanup_free char *compact = NULL, *pretty = NULL, *compact2 = NULL;
  size_t compact_len, pretty_len, compact2_len;
  ocip_error_t err = NULL;
  int r;

  r = ocip_json_parse ((const char *) data, size, OCIP_LIMIT_JSON_DOCUMENT_SIZE, &doc, &err);
  if (fuzz_check_result ("ocip_json_parse", r, &err) < 0)
    return;
  walk (ocip_json_root (doc), 0);

  /* Round trip: what we generate parses, and generates the same text again.  */
  compact = generate (ocip_json_root (doc), false, &compact_len);
  pretty = generate (ocip_json_root (doc), true, &pretty_len);
  r = ocip_json_parse (compact, compact_len, SIZE_MAX, &again, &err);
  if (r < 0)
    fuzz_fail (__FILE__, __LINE__, "reparse", "generated JSON does not parse: %s\n%s", err->msg, compact);
  compact2 = generate (ocip_json_root (again), false, &compact2_len);
  FUZZ_CHECK (compact_len == compact2_len && memcmp (compact, compact2, compact_len) == 0,
              "generate(parse(generate(x))) differs:\n%s\n%s", compact, compact2);
  ocip_json_free (again);
  again = NULL;
  r = ocip_json_parse (pretty, pretty_len, SIZE_MAX, &again, &err);
  if (r < 0)
    fuzz_fail (__FILE__, __LINE__, "reparse", "generated pretty JSON does not parse: %s", err->msg);
}

/* Grammar checks on the first line of the input as a C string.  */
static void
fuzz_strings (const uint8_t *data, size_t size)
{
  const uint8_t *nl = memchr (data, '\n', size);
  cleanup_free char *s = fuzz_strndup (data, nl ? (size_t) (nl - data) : size);
  struct ocip_digest d;
  struct ocip_image_ref ref;
  ocip_error_t err = NULL;
  long r;

  r = fuzz_check_result ("ocip_digest_parse", ocip_digest_parse (s, &d, &err), &err);
  if (r == 0)
    {
      /* The grammar only accepts the canonical text.  */
      FUZZ_CHECK (strcmp (d.str, s) == 0, "digest '%s' became '%s'", s, d.str);
      FUZZ_CHECK (strlen (ocip_digest_hex (&d)) == (d.alg == OCIP_DIGEST_SHA256 ? 64u : 128u),
                  "digest '%s' has a hex part of the wrong length", s);
      FUZZ_CHECK (ocip_digest_equal (&d, &d), "a digest differs from itself");
    }

  r = fuzz_check_result ("ocip_image_ref_parse", ocip_image_ref_parse (s, &ref, &err), &err);
  if (r == 0)
    {
      /* IMAGE prints back as it was written, less an "oci:" prefix.  */
      const char *body = strncmp (s, "oci:", 4) == 0 ? s + 4 : s;
      cleanup_free char *back = xasprintf ("%s%s%s", ref.layout, ref.ref ? ":" : ref.has_digest ? "@" : "",
                                           ref.ref ? ref.ref : ref.has_digest ? ref.digest.str : "");
      FUZZ_CHECK (*ref.layout != '\0' && strpbrk (ref.layout, ":@") == NULL, "bad layout part '%s' of '%s'",
                  ref.layout, s);
      FUZZ_CHECK (! (ref.ref && ref.has_digest), "'%s' has both a ref and a digest", s);
      FUZZ_CHECK (strcmp (back, body) == 0, "image '%s' prints back as '%s'", s, back);
      ocip_image_ref_clear (&ref);
    }
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_document (data, size);
  fuzz_strings (data, size);
  return 0;
}
