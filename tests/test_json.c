#include "config.h"
/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for json: strict bounded parsing, typed getters, strict integers and the generator. */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/error.h>
#include "base/json.h"
#include <oci-prep/limits.h>

#define BIG (16u * 1024 * 1024)

/* Parse LEN bytes at BUF, which must succeed.  */
static struct ocip_json *
parse_ok_len (const char *buf, size_t len)
{
  ocip_error_t err = NULL;
  struct ocip_json *doc = NULL;
  int r = ocip_json_parse (buf, len, BIG, &doc, &err);

  cr_assert_eq (r, 0, "parse '%.*s' failed: %s", (int) (len > 200 ? 200 : len), buf, err ? err->msg : "?");
  cr_assert_null (err, "error set on success");
  cr_assert_not_null (doc, "no document");
  cr_assert_not_null (ocip_json_root (doc), "no root");
  return doc;
}

static struct ocip_json *
parse_ok (const char *s)
{
  return parse_ok_len (s, strlen (s));
}

/* Parse LEN bytes at BUF with MAX_SIZE, which must fail with ERRNUM and a message
   containing WHAT.  */
static void
expect_parse_error_len (const char *buf, size_t len, size_t max_size, int errnum, const char *what)
{
  ocip_error_t err = NULL;
  struct ocip_json *doc = NULL;
  int r = ocip_json_parse (buf, len, max_size, &doc, &err);
  bool got_doc = doc != NULL;

  /* Free before asserting, so that a failed assertion leaks nothing.  */
  if (r == 0)
    ocip_json_free (doc);
  cr_assert_eq (r, -errnum, "parse '%.*s': expected %d, got %d", (int) (len > 200 ? 200 : len), buf, -errnum, r);
  cr_assert_not (got_doc, "document returned on failure");
  cr_assert_not_null (err, "no error set");
  cr_assert_eq (err->status, errnum, "status %d, expected %d", err->status, errnum);
  cr_assert (strstr (err->msg, what) != NULL, "message '%s' does not say '%s'", err->msg, what);
  ocip_error_release (&err);
}

static void
expect_parse_error (const char *s, int errnum, const char *what)
{
  expect_parse_error_len (s, strlen (s), BIG, errnum, what);
}

static void
expect_error (int r, ocip_error_t *err, int errnum, const char *what)
{
  cr_assert_eq (r, -errnum, "expected %d, got %d", -errnum, r);
  cr_assert_not_null (*err, "no error set");
  cr_assert_eq ((*err)->status, errnum, "status %d, expected %d", (*err)->status, errnum);
  cr_assert (strstr ((*err)->msg, what) != NULL, "message '%s' does not say '%s'", (*err)->msg, what);
  ocip_error_release (err);
}

/* A string of N copies of OPEN followed by N copies of CLOSE.  */
static char *
nested (size_t n, const char *open, const char *close)
{
  size_t lo = strlen (open), lc = strlen (close), i;
  char *s = xmalloc (n * (lo + lc) + 1), *p = s;

  for (i = 0; i < n; i++)
    p = mempcpy (p, open, lo);
  for (i = 0; i < n; i++)
    p = mempcpy (p, close, lc);
  *p = '\0';
  return s;
}

/* Parsing: every type.  */

Test (json, parse_object_of_every_type)
{
  cleanup_json struct ocip_json *doc
      = parse_ok ("{\"s\": \"str\", \"n\": 42, \"t\": true, \"f\": false, \"z\": null, \"a\": [1, \"x\"], "
                  "\"o\": {\"k\": \"v\"}}");
  const struct ocip_json_node *root = ocip_json_root (doc), *v;

  cr_assert_eq (ocip_json_type (root), OCIP_JSON_OBJECT, "root is an object");
  cr_assert_eq (ocip_json_object_len (root), 7, "7 members");
  cr_assert_str_eq (ocip_json_object_key_at (root, 0), "s", "keys in document order");
  cr_assert_str_eq (ocip_json_object_key_at (root, 6), "o", "keys in document order");
  cr_assert_null (ocip_json_object_key_at (root, 7), "out of range key");
  cr_assert_null (ocip_json_object_value_at (root, 7), "out of range value");
  cr_assert_str_eq (ocip_json_string (ocip_json_object_get (root, "s")), "str", "string member");
  cr_assert_eq (ocip_json_type (ocip_json_object_get (root, "n")), OCIP_JSON_NUMBER, "number member");
  cr_assert_eq (ocip_json_type (ocip_json_object_get (root, "t")), OCIP_JSON_BOOL, "true member");
  cr_assert_eq (ocip_json_type (ocip_json_object_get (root, "f")), OCIP_JSON_BOOL, "false member");
  cr_assert_eq (ocip_json_type (ocip_json_object_get (root, "z")), OCIP_JSON_NULL, "null member");
  v = ocip_json_object_get (root, "a");
  cr_assert_eq (ocip_json_type (v), OCIP_JSON_ARRAY, "array member");
  cr_assert_eq (ocip_json_array_len (v), 2, "array length");
  cr_assert_str_eq (ocip_json_string (ocip_json_array_at (v, 1)), "x", "array element");
  cr_assert_null (ocip_json_array_at (v, 2), "out of range element");
  v = ocip_json_object_get (root, "o");
  cr_assert_eq (ocip_json_type (v), OCIP_JSON_OBJECT, "object member");
  cr_assert_str_eq (ocip_json_string (ocip_json_object_get (v, "k")), "v", "nested member");
  cr_assert_eq (ocip_json_object_value_at (root, 6), v, "value_at matches get");
  cr_assert_null (ocip_json_object_get (root, "missing"), "absent key");
  cr_assert_null (ocip_json_object_get (ocip_json_object_get (root, "a"), "s"), "get on an array");
  cr_assert_null (ocip_json_string (ocip_json_object_get (root, "n")), "string of a number");
  cr_assert_eq (ocip_json_array_len (root), 0, "array_len of an object");
  cr_assert_eq (ocip_json_object_len (ocip_json_object_get (root, "a")), 0, "object_len of an array");
}

Test (json, parse_top_level_scalars)
{
  static const struct
  {
    const char *text;
    enum ocip_json_type type;
  } cases[] = {
    { "null", OCIP_JSON_NULL }, { "true", OCIP_JSON_BOOL },   { "false", OCIP_JSON_BOOL },
    { "7", OCIP_JSON_NUMBER },  { "\"s\"", OCIP_JSON_STRING }, { " [ ] ", OCIP_JSON_ARRAY },
    { "{}", OCIP_JSON_OBJECT },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_json struct ocip_json *doc = parse_ok (cases[i].text);
      cr_assert_eq (ocip_json_type (ocip_json_root (doc)), cases[i].type, "type of '%s'", cases[i].text);
    }
}

Test (json, type_names)
{
  cr_assert_str_eq (ocip_json_type_name (OCIP_JSON_NULL), "null", "null");
  cr_assert_str_eq (ocip_json_type_name (OCIP_JSON_BOOL), "boolean", "bool");
  cr_assert_str_eq (ocip_json_type_name (OCIP_JSON_NUMBER), "number", "number");
  cr_assert_str_eq (ocip_json_type_name (OCIP_JSON_STRING), "string", "string");
  cr_assert_str_eq (ocip_json_type_name (OCIP_JSON_ARRAY), "array", "array");
  cr_assert_str_eq (ocip_json_type_name (OCIP_JSON_OBJECT), "object", "object");
}

Test (json, string_escapes_decoded)
{
  cleanup_json struct ocip_json *doc = parse_ok ("[\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00/\"]");

  cr_assert_str_eq (ocip_json_string (ocip_json_array_at (ocip_json_root (doc), 0)),
                    "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/", "decoded escapes");
}

Test (json, free_null)
{
  ocip_json_free (NULL);
  cr_assert (true, "freeing NULL is a no-op");
}

/* Getters.  */

static const char getters_doc[]
    = "{\"name\": \"n\", \"num\": 12, \"neg\": -3, \"frac\": 1.5, \"obj\": {\"a\": 1}, \"arr\": [\"x\", \"y\"], "
      "\"empty\": [], \"mixed\": [\"x\", 1], \"nul\": null, \"big\": 9223372036854775808}";

Test (json, get_string)
{
  cleanup_json struct ocip_json *doc = parse_ok (getters_doc);
  const struct ocip_json_node *root = ocip_json_root (doc);
  ocip_error_t err = NULL;
  const char *s = "untouched";

  cr_assert_eq (ocip_json_get_string (root, "name", true, &s, &err), 0, "required present");
  cr_assert_str_eq (s, "n", "value");
  cr_assert_eq (ocip_json_get_string (root, "name", false, &s, &err), 0, "optional present");
  cr_assert_str_eq (s, "n", "value");
  s = "untouched";
  cr_assert_eq (ocip_json_get_string (root, "absent", false, &s, &err), 0, "optional absent");
  cr_assert_null (s, "absent optional string is NULL");
  s = "untouched";
  cr_assert_eq (ocip_json_get_string (root, "nul", false, &s, &err), 0, "optional null");
  cr_assert_null (s, "null optional string is NULL");
  cr_assert_null (err, "no error for successes");
  expect_error (ocip_json_get_string (root, "absent", true, &s, &err), &err, EINVAL, "missing field 'absent'");
  expect_error (ocip_json_get_string (root, "num", true, &s, &err), &err, EINVAL, "field 'num'");
  expect_error (ocip_json_get_string (root, "num", false, &s, &err), &err, EINVAL, "expected string, got number");
  expect_error (ocip_json_get_string (root, "obj", false, &s, &err), &err, EINVAL,
                "field 'obj': expected string, got object");
  /* null is absent only when optional: a required field must have a value.  */
  expect_error (ocip_json_get_string (root, "nul", true, &s, &err), &err, EINVAL, "'nul'");
}

Test (json, get_int64)
{
  cleanup_json struct ocip_json *doc = parse_ok (getters_doc);
  const struct ocip_json_node *root = ocip_json_root (doc);
  ocip_error_t err = NULL;
  int64_t v = 77;

  cr_assert_eq (ocip_json_get_int64 (root, "num", true, &v, &err), 0, "required present");
  cr_assert_eq (v, 12, "value");
  cr_assert_eq (ocip_json_get_int64 (root, "neg", false, &v, &err), 0, "optional present");
  cr_assert_eq (v, -3, "negative value");
  v = 77;
  cr_assert_eq (ocip_json_get_int64 (root, "absent", false, &v, &err), 0, "optional absent");
  cr_assert_eq (v, 77, "absent optional integer is untouched");
  cr_assert_eq (ocip_json_get_int64 (root, "nul", false, &v, &err), 0, "optional null");
  cr_assert_eq (v, 77, "null optional integer is untouched");
  cr_assert_null (err, "no error for successes");
  expect_error (ocip_json_get_int64 (root, "absent", true, &v, &err), &err, EINVAL, "missing field 'absent'");
  expect_error (ocip_json_get_int64 (root, "name", true, &v, &err), &err, EINVAL,
                "field 'name': expected number, got string");
  expect_error (ocip_json_get_int64 (root, "frac", true, &v, &err), &err, EINVAL, "field 'frac'");
  expect_error (ocip_json_get_int64 (root, "frac", false, &v, &err), &err, EINVAL, "'1.5' is not an integer");
  expect_error (ocip_json_get_int64 (root, "big", true, &v, &err), &err, ERANGE, "field 'big'");
  cr_assert_eq (v, 77, "failed getters leave the value untouched");
}

Test (json, get_object_and_array)
{
  cleanup_json struct ocip_json *doc = parse_ok (getters_doc);
  const struct ocip_json_node *root = ocip_json_root (doc), *n = NULL;
  ocip_error_t err = NULL;

  cr_assert_eq (ocip_json_get_object (root, "obj", true, &n, &err), 0, "object present");
  cr_assert_eq (ocip_json_type (n), OCIP_JSON_OBJECT, "object node");
  cr_assert_eq (ocip_json_get_array (root, "arr", true, &n, &err), 0, "array present");
  cr_assert_eq (ocip_json_array_len (n), 2, "array node");
  cr_assert_eq (ocip_json_get_object (root, "absent", false, &n, &err), 0, "optional absent object");
  cr_assert_null (n, "absent optional object is NULL");
  n = root;
  cr_assert_eq (ocip_json_get_array (root, "nul", false, &n, &err), 0, "optional null array");
  cr_assert_null (n, "null optional array is NULL");
  cr_assert_null (err, "no error for successes");
  expect_error (ocip_json_get_object (root, "absent", true, &n, &err), &err, EINVAL, "missing field 'absent'");
  expect_error (ocip_json_get_object (root, "arr", true, &n, &err), &err, EINVAL,
                "field 'arr': expected object, got array");
  expect_error (ocip_json_get_array (root, "obj", false, &n, &err), &err, EINVAL,
                "field 'obj': expected array, got object");
  expect_error (ocip_json_get_array (root, "absent", true, &n, &err), &err, EINVAL, "missing field 'absent'");
}

Test (json, get_strv)
{
  cleanup_json struct ocip_json *doc = parse_ok (getters_doc);
  const struct ocip_json_node *root = ocip_json_root (doc);
  ocip_error_t err = NULL;
  char **v = NULL;

  cr_assert_eq (ocip_json_get_strv (root, "arr", true, &v, &err), 0, "strv present");
  cr_assert_not_null (v, "vector");
  cr_assert_str_eq (v[0], "x", "element 0");
  cr_assert_str_eq (v[1], "y", "element 1");
  cr_assert_null (v[2], "NULL-terminated");
  ocip_strv_free (v);
  v = NULL;
  cr_assert_eq (ocip_json_get_strv (root, "empty", true, &v, &err), 0, "empty array");
  cr_assert_not_null (v, "an empty array gives an empty vector, not NULL");
  cr_assert_null (v[0], "empty vector");
  ocip_strv_free (v);
  v = (char **) 1;
  cr_assert_eq (ocip_json_get_strv (root, "absent", false, &v, &err), 0, "optional absent");
  cr_assert_null (v, "absent optional vector is NULL");
  v = (char **) 1;
  cr_assert_eq (ocip_json_get_strv (root, "nul", false, &v, &err), 0, "optional null");
  cr_assert_null (v, "null optional vector is NULL");
  cr_assert_null (err, "no error for successes");
  expect_error (ocip_json_get_strv (root, "mixed", false, &v, &err), &err, EINVAL,
                "field 'mixed': element 1 is not a string");
  expect_error (ocip_json_get_strv (root, "name", false, &v, &err), &err, EINVAL,
                "field 'name': expected array, got string");
  expect_error (ocip_json_get_strv (root, "absent", true, &v, &err), &err, EINVAL, "missing field 'absent'");
}

Test (json, getters_on_non_object)
{
  cleanup_json struct ocip_json *doc = parse_ok ("[\"x\"]");
  ocip_error_t err = NULL;
  const char *s = NULL;

  expect_error (ocip_json_get_string (ocip_json_root (doc), "x", true, &s, &err), &err, EINVAL, "missing field 'x'");
  cr_assert_eq (ocip_json_get_string (ocip_json_root (doc), "x", false, &s, &err), 0, "optional on an array");
  cr_assert_null (s, "nothing found in an array");
}

/* Strict integers.  */

/* The integer value of the single number in "[TEXT]".  */
static int
int64_of (const char *text, int64_t *ret, ocip_error_t *err)
{
  cleanup_free char *buf = xasprintf ("[%s]", text);
  cleanup_json struct ocip_json *doc = parse_ok (buf);
  const struct ocip_json_node *n = ocip_json_array_at (ocip_json_root (doc), 0);

  cr_assert_eq (ocip_json_type (n), OCIP_JSON_NUMBER, "'%s' is a JSON number", text);
  return ocip_json_int64 (n, ret, err);
}

Test (json, int64_valid)
{
  static const struct
  {
    const char *text;
    int64_t value;
  } cases[] = {
    { "0", 0 },
    { "-0", 0 },
    { "1", 1 },
    { "-1", -1 },
    { "1234567890", 1234567890 },
    { "9223372036854775807", INT64_MAX },
    { "-9223372036854775808", INT64_MIN },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      ocip_error_t err = NULL;
      int64_t v = 42;
      int r = int64_of (cases[i].text, &v, &err);

      cr_assert_eq (r, 0, "'%s': %s", cases[i].text, err ? err->msg : "");
      cr_assert_eq (v, cases[i].value, "'%s' gave %" PRId64, cases[i].text, v);
    }
}

Test (json, int64_not_integer_is_einval)
{
  static const char *const cases[] = { "1e3", "1E3", "1.0", "-1.5", "1e-3", "0.0", "-0.0", "1E+2" };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      ocip_error_t err = NULL;
      int64_t v = 42;

      expect_error (int64_of (cases[i], &v, &err), &err, EINVAL, "is not an integer");
      cr_assert_eq (v, 42, "'%s': value untouched on failure", cases[i]);
    }
}

Test (json, int64_out_of_range_is_erange)
{
  static const char *const cases[] = { "9223372036854775808", "-9223372036854775809", "18446744073709551616",
                                       "99999999999999999999999999999" };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      ocip_error_t err = NULL;
      int64_t v = 42;

      expect_error (int64_of (cases[i], &v, &err), &err, ERANGE, "out of range");
      cr_assert_eq (v, 42, "'%s': value untouched on failure", cases[i]);
    }
}

Test (json, int64_of_non_number_is_einval)
{
  cleanup_json struct ocip_json *doc = parse_ok ("[\"1\", null]");
  ocip_error_t err = NULL;
  int64_t v;

  expect_error (ocip_json_int64 (ocip_json_array_at (ocip_json_root (doc), 0), &v, &err), &err, EINVAL,
                "expected an integer");
  expect_error (ocip_json_int64 (ocip_json_array_at (ocip_json_root (doc), 1), &v, &err), &err, EINVAL,
                "expected an integer");
  expect_error (ocip_json_int64 (NULL, &v, &err), &err, EINVAL, "expected an integer");
}

Test (json, leading_zeros_rejected)
{
  /* JSON has no leading zeros: whatever rejects them, "01" is never the integer 1.  */
  static const char *const cases[] = { "[01]", "[-01]", "{\"a\": 00}", "[0123]" };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_parse_error (cases[i], EINVAL, "invalid JSON");
}

/* Invalid documents.  */

Test (json, invalid_json_is_einval)
{
  static const char *const cases[] = {
    "",        " ",     "{",          "}",           "[1,]",      "{\"a\":1,}",   "{a:1}",      "{'a':1}",
    "[1 2]",   "nul",   "True",       "[NaN]",       "[Infinity]", "[+1]",        "[.5]",       "[\"\\x41\"]",
    "{\"a\"}", "[\"a]", "{\"a\" 1}",  "\"\t\"",      "[0x10]",    "[1.]",
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_parse_error (cases[i], EINVAL, "invalid JSON");
}

Test (json, truncated_json_is_einval)
{
  static const char full[] = "{\"a\": [1, \"two\", {\"b\": null}], \"c\": true}";
  size_t len;

  for (len = 0; len < sizeof full - 1; len++)
    expect_parse_error_len (full, len, BIG, EINVAL, "invalid JSON");
}

Test (json, trailing_garbage_is_einval)
{
  static const char *const cases[] = { "{} x", "{}{}", "[] []", "{}]", "1 2", "\"a\" \"b\"", "{},", "null x" };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_parse_error (cases[i], EINVAL, "invalid JSON");
  /* Trailing whitespace is no garbage.  */
  {
    cleanup_json struct ocip_json *doc = parse_ok ("{} \n\t\r ");
    cr_assert_eq (ocip_json_type (ocip_json_root (doc)), OCIP_JSON_OBJECT, "whitespace after the value");
  }
}

Test (json, comments_rejected)
{
  expect_parse_error ("{\"a\": 1 /* c */}", EINVAL, "comment");
  expect_parse_error ("// c\n{}", EINVAL, "comment");
  expect_parse_error ("{} // c", EINVAL, "invalid JSON");
}

Test (json, nul_byte_in_buffer_is_einval)
{
  static const char in_string[] = "{\"a\": \"x\0y\"}";
  static const char in_key[] = "{\"a\0b\": 1}";
  static const char between[] = "{\"a\":\0 1}";
  static const char after[] = "{\"a\": 1}\0";
  static const char after_ws[] = "{\"a\": 1} \0 ";

  expect_parse_error_len (in_string, sizeof in_string - 1, BIG, EINVAL, "invalid JSON");
  expect_parse_error_len (in_key, sizeof in_key - 1, BIG, EINVAL, "invalid JSON");
  expect_parse_error_len (between, sizeof between - 1, BIG, EINVAL, "invalid JSON");
  expect_parse_error_len (after, sizeof after - 1, BIG, EINVAL, "invalid JSON");
  expect_parse_error_len (after_ws, sizeof after_ws - 1, BIG, EINVAL, "invalid JSON");
}

Test (json, escaped_nul_in_string_is_einval)
{
  expect_parse_error ("{\"a\": \"x\\u0000y\"}", EINVAL, "string contains a NUL character");
  expect_parse_error ("[\"\\u0000\"]", EINVAL, "string contains a NUL character");
}

Test (json, escaped_nul_in_key_is_einval)
{
  /* "a\u0000b" would otherwise be the key "a" to every C string user.  */
  expect_parse_error ("{\"a\\u0000b\": 1}", EINVAL, "object key contains a NUL character");
  expect_parse_error ("{\"a\": 1, \"a\\u0000\": 2}", EINVAL, "NUL character");
}

Test (json, invalid_utf8_is_einval)
{
  static const char *const cases[] = {
    "[\"\xff\"]",             /* never valid */
    "[\"\xc3\"]",             /* truncated sequence */
    "[\"\x80\"]",             /* lone continuation byte */
    "[\"a\xe2\x82\"]",        /* truncated three-byte sequence */
    "{\"\xfe\": 1}",          /* in a key */
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_parse_error (cases[i], EINVAL, "invalid JSON");
}

Test (json, non_shortest_utf8_is_einval)
{
  /* RFC 3629: overlong forms are invalid UTF-8.  "\xc0\xaf" is an overlong '/',
     "\xc0\x80" an overlong NUL: a lenient decoder downstream would see "/" or NUL
     where every check here saw something else.  */
  expect_parse_error ("[\"a\xc0\xaf" "b\"]", EINVAL, "invalid JSON");
  expect_parse_error ("[\"a\xc0\x80" "b\"]", EINVAL, "invalid JSON");
  expect_parse_error ("[\"\xe0\x80\xaf\"]", EINVAL, "invalid JSON");
  expect_parse_error ("{\"\xc0\xaf\": 1}", EINVAL, "invalid JSON");
}

Test (json, utf8_surrogates_and_beyond_unicode_are_einval)
{
  /* RFC 3629: U+D800..U+DFFF and code points over U+10FFFF are not UTF-8.  */
  expect_parse_error ("[\"\xed\xa0\x80\"]", EINVAL, "invalid JSON");
  expect_parse_error ("[\"\xf4\x90\x80\x80\"]", EINVAL, "invalid JSON");
  expect_parse_error ("[\"\xf5\x80\x80\x80\"]", EINVAL, "invalid JSON");
}

Test (json, lone_surrogate_escapes_are_einval)
{
  /* "\ud800" encodes no character: a parser that turns it into "?" (or, followed by
     "\u0041", into U+10041) shows the image one string and another parser a different
     one, the confusion duplicate keys and NUL characters are refused for.  */
  expect_parse_error ("[\"\\ud800\"]", EINVAL, "invalid JSON");
  expect_parse_error ("[\"\\udc00\"]", EINVAL, "invalid JSON");
  expect_parse_error ("[\"\\ud800\\u0041\"]", EINVAL, "invalid JSON");
}

Test (json, surrogate_pair_escape_accepted)
{
  cleanup_json struct ocip_json *doc = parse_ok ("[\"\\ud83d\\ude00\"]");

  cr_assert_str_eq (ocip_json_string (ocip_json_array_at (ocip_json_root (doc), 0)), "\xf0\x9f\x98\x80",
                    "U+1F600 from its surrogate pair");
}

Test (json, valid_utf8_accepted)
{
  cleanup_json struct ocip_json *doc = parse_ok ("{\"\xc3\xa9t\xc3\xa9\": \"\xe2\x82\xac \xf0\x9f\x98\x80\"}");
  const struct ocip_json_node *root = ocip_json_root (doc);

  cr_assert_str_eq (ocip_json_object_key_at (root, 0), "\xc3\xa9t\xc3\xa9", "UTF-8 key");
  cr_assert_str_eq (ocip_json_string (ocip_json_object_value_at (root, 0)), "\xe2\x82\xac \xf0\x9f\x98\x80",
                    "UTF-8 value");
}

Test (json, duplicate_keys_are_einval)
{
  expect_parse_error ("{\"a\": 1, \"a\": 2}", EINVAL, "duplicate");
  expect_parse_error ("{\"a\": 1, \"b\": 2, \"c\": 3, \"b\": 4}", EINVAL, "duplicate");
  expect_parse_error ("{\"x\": {\"k\": 1, \"k\": 1}}", EINVAL, "duplicate");
  expect_parse_error ("[{}, {\"k\": null, \"j\": 0, \"k\": null}]", EINVAL, "duplicate");
  /* Equal after escape decoding is the same key.  */
  expect_parse_error ("{\"a\": 1, \"\\u0061\": 2}", EINVAL, "duplicate");
}

Test (json, same_key_in_sibling_objects_is_fine)
{
  cleanup_json struct ocip_json *doc = parse_ok ("{\"a\": {\"k\": 1}, \"b\": {\"k\": 2}, \"k\": 3, \"K\": 4}");

  cr_assert_eq (ocip_json_object_len (ocip_json_root (doc)), 4, "four members");
}

Test (json, depth_64_accepted)
{
  cleanup_free char *arrays = nested (OCIP_LIMIT_JSON_DEPTH, "[", "]");
  cleanup_free char *leaves = NULL;
  const struct ocip_json_node *n;
  size_t depth;

  cr_assert_eq (OCIP_LIMIT_JSON_DEPTH, 64, "the limit this test was written for");
  {
    cleanup_json struct ocip_json *doc = parse_ok (arrays);
    for (n = ocip_json_root (doc), depth = 1; ocip_json_array_len (n) == 1; depth++)
      n = ocip_json_array_at (n, 0);
    cr_assert_eq (depth, 64, "64 levels of arrays kept");
  }
  /* Scalars inside the 64th level are no deeper nesting.  */
  leaves = xasprintf ("%.*s1, \"x\", null%s", OCIP_LIMIT_JSON_DEPTH, arrays, arrays + OCIP_LIMIT_JSON_DEPTH);
  {
    cleanup_json struct ocip_json *doc = parse_ok (leaves);
    for (n = ocip_json_root (doc), depth = 1; ocip_json_type (ocip_json_array_at (n, 0)) == OCIP_JSON_ARRAY; depth++)
      n = ocip_json_array_at (n, 0);
    cr_assert_eq (depth, 64, "64 levels of arrays");
    cr_assert_eq (ocip_json_array_len (n), 3, "three leaves at the bottom");
  }
}

/* N nested objects {"a":{"a":...{"a":1}...}}.  */
static char *
nested_objects (size_t n)
{
  char *s = xmalloc (n * 6 + 2), *p = s;
  size_t i;

  for (i = 0; i < n; i++)
    p = mempcpy (p, "{\"a\":", 5);
  *p++ = '1';
  for (i = 0; i < n; i++)
    *p++ = '}';
  *p = '\0';
  return s;
}

Test (json, depth_64_objects_and_mixed_accepted)
{
  cleanup_free char *objects = nested_objects (OCIP_LIMIT_JSON_DEPTH);
  cleanup_free char *mixed = NULL;
  cleanup_free char *opens = nested (OCIP_LIMIT_JSON_DEPTH / 2, "[{\"k\":", "}]");
  cleanup_json struct ocip_json *doc = parse_ok (objects);
  const struct ocip_json_node *n = ocip_json_root (doc);
  size_t depth = 0;

  while (ocip_json_type (n) == OCIP_JSON_OBJECT)
    {
      n = ocip_json_object_get (n, "a");
      depth++;
    }
  cr_assert_eq (depth, 64, "64 levels of objects kept");
  cr_assert_eq (ocip_json_type (n), OCIP_JSON_NUMBER, "leaf at the bottom");

  /* [{"k":[{"k": ... [{"k":1}] ... }]}]: 32 arrays and 32 objects alternating.  */
  mixed = xasprintf ("%.*s1%s", OCIP_LIMIT_JSON_DEPTH / 2 * 6, opens, opens + OCIP_LIMIT_JSON_DEPTH / 2 * 6);
  {
    cleanup_json struct ocip_json *doc2 = parse_ok (mixed);
    n = ocip_json_root (doc2);
    for (depth = 0; ocip_json_type (n) != OCIP_JSON_NUMBER; depth++)
      n = ocip_json_type (n) == OCIP_JSON_ARRAY ? ocip_json_array_at (n, 0) : ocip_json_object_get (n, "k");
    cr_assert_eq (depth, 64, "64 levels of alternating arrays and objects");
  }
}

Test (json, depth_65_is_e2big)
{
  cleanup_free char *arrays = nested (OCIP_LIMIT_JSON_DEPTH + 1, "[", "]");
  cleanup_free char *objects = nested_objects (OCIP_LIMIT_JSON_DEPTH + 1);
  cleanup_free char *deep = nested (100000, "[", "]");

  expect_parse_error (arrays, E2BIG, "nesting too deep");
  expect_parse_error (objects, E2BIG, "nesting too deep");
  expect_parse_error (deep, E2BIG, "nesting too deep");
}

Test (json, size_limit_is_e2big)
{
  static const char doc[] = "{\"a\": \"0123456789\"}";
  size_t len = sizeof doc - 1;
  ocip_error_t err = NULL;
  struct ocip_json *out = NULL;

  cr_assert_eq (ocip_json_parse (doc, len, len, &out, &err), 0, "exactly at the limit: %s", err ? err->msg : "");
  ocip_json_free (out);
  expect_parse_error_len (doc, len, len - 1, E2BIG, "over the limit");
  expect_parse_error_len (doc, len, 0, E2BIG, "over the limit");
}

/* "[0,0,...,0]" holding N values in all (the array and N-1 zeros).  */
static char *
many_values (size_t n, size_t *ret_len)
{
  char *s = xmalloc (2 * n + 2), *p = s;
  size_t i;

  *p++ = '[';
  for (i = 0; i + 1 < n; i++)
    {
      *p++ = '0';
      *p++ = ',';
    }
  if (n > 1)
    p--;
  *p++ = ']';
  *p = '\0';
  *ret_len = p - s;
  return s;
}

Test (json, value_count_limit_is_e2big)
{
  size_t len;
  cleanup_free char *at = many_values (OCIP_LIMIT_JSON_VALUES, &len);
  cleanup_free char *over = NULL;

  {
    cleanup_json struct ocip_json *doc = parse_ok_len (at, len);
    cr_assert_eq (ocip_json_array_len (ocip_json_root (doc)), OCIP_LIMIT_JSON_VALUES - 1,
                  "exactly at the value limit");
  }
  over = many_values (OCIP_LIMIT_JSON_VALUES + 1, &len);
  expect_parse_error_len (over, len, BIG, E2BIG, "too many values");
}

Test (json, value_count_includes_containers)
{
  /* [[],[],...]: the limit counts containers, not only scalars.  */
  size_t n = OCIP_LIMIT_JSON_VALUES, i;
  char *s = xmalloc (3 * n + 2), *p = s;

  *p++ = '[';
  for (i = 0; i < n; i++)
    p = mempcpy (p, "[],", 3);
  p[-1] = ']';
  *p = '\0';
  expect_parse_error_len (s, p - s, BIG, E2BIG, "too many values");
  free (s);
}

/* Generator.  */

/* Finish GEN, which must succeed; returns the text.  */
static char *
finish_ok (struct ocip_json_gen *gen, size_t *ret_len)
{
  ocip_error_t err = NULL;
  char *out = NULL;
  size_t len = 0;

  cr_assert_eq (ocip_json_gen_finish (gen, &out, &len, &err), 0, "finish failed: %s", err ? err->msg : "");
  cr_assert_not_null (out, "no text");
  cr_assert_eq (strlen (out), len, "length matches the text");
  cr_assert_eq (out[len - 1], '\n', "text ends with a newline");
  if (ret_len)
    *ret_len = len;
  return out;
}

static void
finish_fails (struct ocip_json_gen *gen, const char *what)
{
  ocip_error_t err = NULL;
  char *out = NULL;
  size_t len = 12345;
  int r = ocip_json_gen_finish (gen, &out, &len, &err);
  cleanup_free char *text = out;

  cr_assert_eq (r, -EINVAL, "%s: finish must fail with EINVAL, got %d (text '%s')", what, r, text ? text : "");
  cr_assert_null (text, "%s: no text on failure", what);
  cr_assert_not_null (err, "%s: no error set", what);
  cr_assert_eq (err->status, EINVAL, "%s: status", what);
  cr_assert (strstr (err->msg, "generate JSON") != NULL, "%s: message '%s'", what, err->msg);
  ocip_error_release (&err);
}

Test (json, gen_round_trip)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
  char *const strv[] = { "a", "b c", NULL };
  char *const empty[] = { NULL };
  cleanup_free char *text = NULL;
  const struct ocip_json_node *root, *n;
  size_t len;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "s", "v");
  ocip_json_gen_kv_int64 (gen, "max", INT64_MAX);
  ocip_json_gen_kv_int64 (gen, "min", INT64_MIN);
  ocip_json_gen_kv_bool (gen, "t", true);
  ocip_json_gen_kv_bool (gen, "f", false);
  ocip_json_gen_kv_strv (gen, "v", strv);
  ocip_json_gen_kv_strv (gen, "e", empty);
  ocip_json_gen_string (gen, "nested");
  ocip_json_gen_array_open (gen);
  ocip_json_gen_array_open (gen);
  ocip_json_gen_int64 (gen, 1);
  ocip_json_gen_array_open (gen);
  ocip_json_gen_array_close (gen);
  ocip_json_gen_array_close (gen);
  ocip_json_gen_map_open (gen);
  ocip_json_gen_string (gen, "k");
  ocip_json_gen_null (gen);
  ocip_json_gen_map_close (gen);
  ocip_json_gen_bool (gen, true);
  ocip_json_gen_array_close (gen);
  ocip_json_gen_map_close (gen);
  text = finish_ok (gen, &len);

  cr_assert_str_eq (text,
                    "{\"s\":\"v\",\"max\":9223372036854775807,\"min\":-9223372036854775808,\"t\":true,\"f\":false,"
                    "\"v\":[\"a\",\"b c\"],\"e\":[],\"nested\":[[1,[]],{\"k\":null},true]}\n",
                    "compact text");
  {
    cleanup_json struct ocip_json *doc = parse_ok_len (text, len);
    ocip_error_t err = NULL;
    int64_t v;

    root = ocip_json_root (doc);
    cr_assert_eq (ocip_json_object_len (root), 8, "8 members");
    cr_assert_eq (ocip_json_get_int64 (root, "min", true, &v, &err), 0, "min parses back");
    cr_assert_eq (v, INT64_MIN, "min value");
    n = ocip_json_object_get (root, "nested");
    cr_assert_eq (ocip_json_array_len (n), 3, "nested array");
    cr_assert_eq (ocip_json_array_len (ocip_json_array_at (n, 0)), 2, "inner array");
    cr_assert_eq (ocip_json_type (ocip_json_object_get (ocip_json_array_at (n, 1), "k")), OCIP_JSON_NULL,
                  "null inside");
  }
}

Test (json, gen_pretty_round_trip)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (true);
  cleanup_free char *text = NULL;
  size_t len;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "a", "b");
  ocip_json_gen_string (gen, "l");
  ocip_json_gen_array_open (gen);
  ocip_json_gen_int64 (gen, 1);
  ocip_json_gen_int64 (gen, 2);
  ocip_json_gen_array_close (gen);
  ocip_json_gen_map_close (gen);
  text = finish_ok (gen, &len);
  cr_assert (strstr (text, "\n  \"a\": \"b\"") != NULL, "two-space indentation: '%s'", text);
  cr_assert_neq (text[len - 2], '\n', "exactly one final newline: '%s'", text);
  {
    cleanup_json struct ocip_json *doc = parse_ok_len (text, len);
    cr_assert_eq (ocip_json_array_len (ocip_json_object_get (ocip_json_root (doc), "l")), 2, "pretty parses back");
  }
}

Test (json, gen_string_escapes_round_trip)
{
  static const char *const strings[] = {
    "quote \" backslash \\ slash /",
    "newline\nreturn\rtab\tbackspace\bformfeed\f",
    "\x01\x1f control",
    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 unicode",
    "",
    "</script>",
  };
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
  cleanup_free char *text = NULL;
  size_t i, len;

  ocip_json_gen_map_open (gen);
  for (i = 0; i < sizeof strings / sizeof strings[0]; i++)
    {
      char key[16];
      snprintf (key, sizeof key, "k%zu", i);
      ocip_json_gen_kv_string (gen, key, strings[i]);
    }
  /* Keys are escaped too.  */
  ocip_json_gen_kv_string (gen, "key \"with\"\nquote", "x");
  ocip_json_gen_map_close (gen);
  text = finish_ok (gen, &len);
  cr_assert_null (memchr (text, '\n', len - 1), "no raw newline inside compact text: '%s'", text);
  {
    cleanup_json struct ocip_json *doc = parse_ok_len (text, len);
    const struct ocip_json_node *root = ocip_json_root (doc);

    for (i = 0; i < sizeof strings / sizeof strings[0]; i++)
      cr_assert_str_eq (ocip_json_string (ocip_json_object_value_at (root, i)), strings[i], "string %zu", i);
    cr_assert_str_eq (ocip_json_object_key_at (root, i), "key \"with\"\nquote", "escaped key");
  }
}

Test (json, gen_kv_null_writes_nothing)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
  cleanup_free char *text = NULL;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "absent", NULL);
  ocip_json_gen_kv_strv (gen, "absent_v", NULL);
  ocip_json_gen_kv_string (gen, "x", "y");
  ocip_json_gen_kv_string (gen, "absent2", NULL);
  ocip_json_gen_map_close (gen);
  text = finish_ok (gen, NULL);
  cr_assert_str_eq (text, "{\"x\":\"y\"}\n", "NULL values leave no key behind");
}

Test (json, gen_kv_null_only_is_empty_map)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
  cleanup_free char *text = NULL;

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "absent", NULL);
  ocip_json_gen_map_close (gen);
  text = finish_ok (gen, NULL);
  cr_assert_str_eq (text, "{}\n", "an empty map");
}

Test (json, gen_finish_without_length)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
  ocip_error_t err = NULL;
  cleanup_free char *text = NULL;

  ocip_json_gen_array_open (gen);
  ocip_json_gen_array_close (gen);
  cr_assert_eq (ocip_json_gen_finish (gen, &text, NULL, &err), 0, "RET_LEN may be NULL");
  cr_assert_str_eq (text, "[]\n", "empty array");
}

Test (json, gen_close_without_open_fails)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);

  ocip_json_gen_map_close (gen);
  finish_fails (gen, "close without open");
}

Test (json, gen_extra_close_fails)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);

  ocip_json_gen_array_open (gen);
  ocip_json_gen_array_close (gen);
  ocip_json_gen_array_close (gen);
  finish_fails (gen, "one close too many");
}

Test (json, gen_mismatched_close_fails)
{
  /* "{]" and "[}" are unbalanced: the close must match the open.  */
  {
    cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
    ocip_json_gen_map_open (gen);
    ocip_json_gen_array_close (gen);
    finish_fails (gen, "map closed as an array");
  }
  {
    cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
    ocip_json_gen_array_open (gen);
    ocip_json_gen_map_close (gen);
    finish_fails (gen, "array closed as a map");
  }
}

Test (json, gen_unclosed_container_fails)
{
  /* "EINVAL if any call failed (unbalanced, ...)": an open map never closed is an
     unbalanced, incomplete document, not "{\n".  */
  {
    cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
    ocip_json_gen_map_open (gen);
    ocip_json_gen_kv_string (gen, "a", "b");
    finish_fails (gen, "map never closed");
  }
  {
    cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
    ocip_json_gen_array_open (gen);
    finish_fails (gen, "array never closed");
  }
}

Test (json, gen_key_without_value_fails)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);

  ocip_json_gen_map_open (gen);
  ocip_json_gen_string (gen, "dangling");
  ocip_json_gen_map_close (gen);
  finish_fails (gen, "key without a value");
}

Test (json, gen_invalid_utf8_fails)
{
  {
    cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
    ocip_json_gen_map_open (gen);
    ocip_json_gen_kv_string (gen, "k", "bad \xff byte");
    ocip_json_gen_map_close (gen);
    finish_fails (gen, "invalid UTF-8 value");
  }
  {
    cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
    ocip_json_gen_map_open (gen);
    ocip_json_gen_kv_string (gen, "\xc3", "v");
    ocip_json_gen_map_close (gen);
    finish_fails (gen, "invalid UTF-8 key");
  }
  {
    char *const v[] = { "ok", "\x80", NULL };
    cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);
    ocip_json_gen_map_open (gen);
    ocip_json_gen_kv_strv (gen, "v", v);
    ocip_json_gen_map_close (gen);
    finish_fails (gen, "invalid UTF-8 array element");
  }
}

Test (json, gen_non_shortest_utf8_fails)
{
  /* The generator validates UTF-8 too: an overlong '/' is not UTF-8 either.  */
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);

  ocip_json_gen_map_open (gen);
  ocip_json_gen_kv_string (gen, "k", "a\xc0\xaf" "b");
  ocip_json_gen_map_close (gen);
  finish_fails (gen, "overlong UTF-8 value");
}

Test (json, gen_first_failure_is_kept)
{
  /* A later valid call must not hide an earlier failure.  */
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);

  ocip_json_gen_map_open (gen);
  ocip_json_gen_int64 (gen, 1); /* a key must be a string */
  ocip_json_gen_kv_string (gen, "a", "b");
  ocip_json_gen_map_close (gen);
  finish_fails (gen, "integer as a key");
}

Test (json, gen_second_top_level_value_fails)
{
  cleanup_json_gen struct ocip_json_gen *gen = ocip_json_gen_new (false);

  ocip_json_gen_map_open (gen);
  ocip_json_gen_map_close (gen);
  ocip_json_gen_map_open (gen);
  ocip_json_gen_map_close (gen);
  finish_fails (gen, "two top-level values");
}

Test (json, gen_free_null)
{
  ocip_json_gen_free (NULL);
  cr_assert (true, "freeing NULL is a no-op");
}
