#include "config.h"
/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for digest: the descriptor.md digest grammar, registered algorithms and hashing. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <oci-prep/cleanup.h>
#include <oci-prep/digest.h>
#include <oci-prep/error.h>

/* Known answers, from "printf '' | sha256sum", "printf abc | sha512sum"...  */
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA512_EMPTY                                                                                                   \
  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a5" \
  "38327af927da3e"
#define SHA512_ABC                                                                                                     \
  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a" \
  "9ac94fa54ca49f"
#define SHA256_FOX "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
#define FOX "The quick brown fox jumps over the lazy dog"

/* Parse S, which must fail with ERRNUM and a message containing WHAT; the output
   digest must be left untouched.  */
static void
expect_parse_error (const char *s, int errnum, const char *what)
{
  ocip_error_t err = NULL;
  struct ocip_digest d;
  int r;

  memset (&d, 0x5a, sizeof d);
  r = ocip_digest_parse (s, &d, &err);
  cr_assert_eq (r, -errnum, "parse '%s': expected %d, got %d", s, -errnum, r);
  cr_assert_not_null (err, "parse '%s': no error set", s);
  cr_assert_eq (err->status, errnum, "parse '%s': status %d, expected %d", s, err->status, errnum);
  cr_assert (strstr (err->msg, what) != NULL, "parse '%s': message '%s' does not say '%s'", s, err->msg, what);
  cr_assert_eq (((unsigned char *) &d)[0], 0x5a, "parse '%s': output written on failure", s);
  ocip_error_release (&err);
  cr_assert_null (err, "ocip_error_release must reset the error");
}

static void
expect_parse_ok (const char *s, enum ocip_digest_alg alg, const char *hex)
{
  ocip_error_t err = NULL;
  struct ocip_digest d;
  int r;

  r = ocip_digest_parse (s, &d, &err);
  cr_assert_eq (r, 0, "parse '%s' failed: %s", s, err ? err->msg : "?");
  cr_assert_null (err, "parse '%s': error set on success", s);
  cr_assert_eq (d.alg, alg, "parse '%s': algorithm %d, expected %d", s, d.alg, alg);
  cr_assert_str_eq (d.str, s, "parse '%s': canonical text '%s'", s, d.str);
  cr_assert_str_eq (ocip_digest_hex (&d), hex, "parse '%s': hex '%s'", s, ocip_digest_hex (&d));
}

Test (digest, parse_valid_sha256)
{
  expect_parse_ok ("sha256:" SHA256_ABC, OCIP_DIGEST_SHA256, SHA256_ABC);
  expect_parse_ok ("sha256:" SHA256_EMPTY, OCIP_DIGEST_SHA256, SHA256_EMPTY);
}

Test (digest, parse_valid_sha512)
{
  expect_parse_ok ("sha512:" SHA512_ABC, OCIP_DIGEST_SHA512, SHA512_ABC);
}

Test (digest, alg_names)
{
  cr_assert_str_eq (ocip_digest_alg_name (OCIP_DIGEST_SHA256), "sha256", "sha256 name");
  cr_assert_str_eq (ocip_digest_alg_name (OCIP_DIGEST_SHA512), "sha512", "sha512 name");
}

Test (digest, uppercase_hex_is_einval)
{
  char s[] = "sha256:" SHA256_ABC;
  char *p;

  for (p = s + 7; *p; p++)
    if (*p >= 'a' && *p <= 'f')
      *p = *p - 'a' + 'A';
  expect_parse_error (s, EINVAL, "lowercase hex");
  expect_parse_error ("sha512:"
                      "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A2192992A274FC1A836BA3C23A3"
                      "FEEBBD454D4423643CE80E2A9AC94FA54CA49F",
                      EINVAL, "lowercase hex");
}

Test (digest, one_uppercase_hex_digit_is_einval)
{
  expect_parse_error ("sha256:" "Ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", EINVAL,
                      "lowercase hex");
}

Test (digest, wrong_length_is_einval)
{
  /* One digit short, one too many, and a sha512 length under the sha256 name.  */
  expect_parse_error ("sha256:" "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", EINVAL, "64");
  expect_parse_error ("sha256:" SHA256_ABC "0", EINVAL, "64");
  expect_parse_error ("sha256:" SHA512_ABC, EINVAL, "64");
  expect_parse_error ("sha512:" SHA256_ABC, EINVAL, "128");
  expect_parse_error ("sha256:abc", EINVAL, "sha256 needs 64");
}

Test (digest, non_hex_encoding_is_einval)
{
  /* Valid for the generic grammar ([a-zA-Z0-9=_-]), not for sha256.  */
  expect_parse_error ("sha256:" "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", EINVAL,
                      "lowercase hex");
  expect_parse_error ("sha256:" "=a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", EINVAL,
                      "lowercase hex");
}

Test (digest, empty_is_einval)
{
  expect_parse_error ("", EINVAL, "invalid digest");
}

Test (digest, no_colon_is_einval)
{
  expect_parse_error (SHA256_ABC, EINVAL, "no ':' separator");
  expect_parse_error ("sha256", EINVAL, "no ':' separator");
}

Test (digest, path_traversal_is_einval)
{
  expect_parse_error ("sha256:../../etc/passwd", EINVAL, "invalid digest 'sha256:../../etc/passwd'");
  expect_parse_error ("sha256:" "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/", EINVAL,
                      "invalid digest");
  expect_parse_error ("../sha256:" SHA256_ABC, EINVAL, "invalid digest");
  expect_parse_error ("sha256/../x:" SHA256_ABC, EINVAL, "invalid digest");
}

Test (digest, second_colon_is_einval)
{
  expect_parse_error ("sha256:" SHA256_ABC ":x", EINVAL, "invalid digest");
}

Test (digest, whitespace_is_einval)
{
  expect_parse_error ("sha256:" SHA256_ABC " ", EINVAL, "invalid digest");
  expect_parse_error (" sha256:" SHA256_ABC, EINVAL, "invalid digest");
  expect_parse_error ("sha256:" SHA256_ABC "\n", EINVAL, "invalid digest");
}

Test (digest, uppercase_algorithm_is_einval)
{
  /* Uppercase breaks the algorithm grammar: EINVAL, not "unsupported".  */
  expect_parse_error ("SHA256:" SHA256_ABC, EINVAL, "invalid digest");
  expect_parse_error ("Sha256:" SHA256_ABC, EINVAL, "invalid digest");
}

Test (digest, sha384_is_enotsup)
{
  /* printf abc | sha384sum: 96 hex digits.  */
  expect_parse_error ("sha384:"
                      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                      "8086072ba1e7cc2358baeca134c825a7",
                      ENOTSUP, "unsupported digest algorithm");
}

Test (digest, blake3_is_enotsup)
{
  expect_parse_error ("blake3:abc", ENOTSUP, "unsupported digest algorithm 'blake3'");
}

Test (digest, separated_algorithm_is_enotsup)
{
  /* algorithm-component (algorithm-separator algorithm-component)*: valid grammar.  */
  expect_parse_error ("a+b:xyz", ENOTSUP, "unsupported digest algorithm 'a+b'");
  expect_parse_error ("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", ENOTSUP,
                      "unsupported digest algorithm");
  expect_parse_error ("a.b_c-d:x=_-Y", ENOTSUP, "unsupported digest algorithm 'a.b_c-d'");
  /* A registered name as a prefix is still another algorithm.  */
  expect_parse_error ("sha256+x:" SHA256_ABC, ENOTSUP, "unsupported digest algorithm 'sha256+x'");
}

Test (digest, bad_algorithm_grammar_is_einval)
{
  expect_parse_error ("a++b:x", EINVAL, "invalid digest 'a++b:x'");
  expect_parse_error ("+a:x", EINVAL, "invalid digest '+a:x'");
  expect_parse_error ("a+:x", EINVAL, "invalid digest 'a+:x'");
  expect_parse_error ("a:", EINVAL, "invalid digest 'a:'");
  expect_parse_error (":abc", EINVAL, "invalid digest ':abc'");
  expect_parse_error (":", EINVAL, "invalid digest");
  expect_parse_error ("sha256:", EINVAL, "invalid digest 'sha256:'");
  expect_parse_error ("a/b:x", EINVAL, "invalid digest");
}

Test (digest, bad_encoded_grammar_is_einval)
{
  expect_parse_error ("blake3:a+b", EINVAL, "invalid digest");
  expect_parse_error ("blake3:a.b", EINVAL, "invalid digest");
  expect_parse_error ("blake3:a/b", EINVAL, "invalid digest");
}

Test (digest, first_error_is_kept)
{
  ocip_error_t err = NULL;
  struct ocip_digest d;

  cr_assert_eq (ocip_digest_parse ("nope", &d, &err), -EINVAL, "first parse must fail");
  cr_assert_eq (ocip_digest_parse ("blake3:abc", &d, &err), -EINVAL,
                "a second failure returns the pending error's class");
  cr_assert (strstr (err->msg, "nope") != NULL, "the first error must be kept, got '%s'", err->msg);
  ocip_error_release (&err);
}

Test (digest, hash_sha256_vectors)
{
  struct ocip_digest d;

  ocip_digest_buffer (OCIP_DIGEST_SHA256, "", 0, &d);
  cr_assert_eq (d.alg, OCIP_DIGEST_SHA256, "algorithm of the empty hash");
  cr_assert_str_eq (d.str, "sha256:" SHA256_EMPTY, "sha256 of ''");
  ocip_digest_buffer (OCIP_DIGEST_SHA256, "abc", 3, &d);
  cr_assert_str_eq (d.str, "sha256:" SHA256_ABC, "sha256 of 'abc'");
  ocip_digest_buffer (OCIP_DIGEST_SHA256, FOX, strlen (FOX), &d);
  cr_assert_str_eq (d.str, "sha256:" SHA256_FOX, "sha256 of the fox");
}

Test (digest, hash_sha512_vectors)
{
  struct ocip_digest d;

  ocip_digest_buffer (OCIP_DIGEST_SHA512, "", 0, &d);
  cr_assert_eq (d.alg, OCIP_DIGEST_SHA512, "algorithm of the empty hash");
  cr_assert_str_eq (d.str, "sha512:" SHA512_EMPTY, "sha512 of ''");
  ocip_digest_buffer (OCIP_DIGEST_SHA512, "abc", 3, &d);
  cr_assert_str_eq (d.str, "sha512:" SHA512_ABC, "sha512 of 'abc'");
}

Test (digest, hash_output_parses_back)
{
  ocip_error_t err = NULL;
  struct ocip_digest d, parsed;

  ocip_digest_buffer (OCIP_DIGEST_SHA512, "abc", 3, &d);
  cr_assert_eq (ocip_digest_parse (d.str, &parsed, &err), 0, "hash output must parse: %s", err ? err->msg : "");
  cr_assert (ocip_digest_equal (&d, &parsed), "parsed copy must equal the original");
  cr_assert_str_eq (ocip_digest_hex (&parsed), SHA512_ABC, "hex of the parsed digest");
}

Test (digest, streaming_equals_one_shot)
{
  static const enum ocip_digest_alg algs[] = { OCIP_DIGEST_SHA256, OCIP_DIGEST_SHA512 };
  size_t a, step;
  char data[1000];

  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (char) (i * 7 + 3);
  for (a = 0; a < 2; a++)
    for (step = 1; step <= sizeof data; step = step * 3 + 1)
      {
        cleanup_hasher struct ocip_hasher *h = ocip_hasher_new (algs[a]);
        struct ocip_digest one, streamed;
        size_t off;

        ocip_digest_buffer (algs[a], data, sizeof data, &one);
        for (off = 0; off < sizeof data; off += step)
          ocip_hasher_update (h, data + off, off + step > sizeof data ? sizeof data - off : step);
        ocip_hasher_update (h, data, 0);
        ocip_hasher_final (h, &streamed);
        cr_assert (ocip_digest_equal (&one, &streamed), "alg %zu step %zu: '%s' != '%s'", a, step, streamed.str,
                   one.str);
      }
}

Test (digest, streaming_abc_in_pieces)
{
  cleanup_hasher struct ocip_hasher *h = ocip_hasher_new (OCIP_DIGEST_SHA256);
  struct ocip_digest d;

  ocip_hasher_update (h, "a", 1);
  ocip_hasher_update (h, "", 0);
  ocip_hasher_update (h, "bc", 2);
  ocip_hasher_final (h, &d);
  cr_assert_str_eq (d.str, "sha256:" SHA256_ABC, "streamed sha256 of 'a'+'bc'");
}

Test (digest, hex_points_after_colon)
{
  struct ocip_digest d;

  ocip_digest_buffer (OCIP_DIGEST_SHA256, "abc", 3, &d);
  cr_assert_eq (ocip_digest_hex (&d), d.str + 7, "hex must point into the digest, after 'sha256:'");
  cr_assert_str_eq (ocip_digest_hex (&d), SHA256_ABC, "sha256 hex");
  ocip_digest_buffer (OCIP_DIGEST_SHA512, "abc", 3, &d);
  cr_assert_eq (ocip_digest_hex (&d), d.str + 7, "hex must point into the digest, after 'sha512:'");
  cr_assert_eq (strlen (ocip_digest_hex (&d)), 128, "sha512 hex length");
}

Test (digest, equal_compares_alg_and_text)
{
  struct ocip_digest a, b, c;

  ocip_digest_buffer (OCIP_DIGEST_SHA256, "abc", 3, &a);
  ocip_digest_buffer (OCIP_DIGEST_SHA256, "abc", 3, &b);
  ocip_digest_buffer (OCIP_DIGEST_SHA256, "abd", 3, &c);
  cr_assert (ocip_digest_equal (&a, &b), "same content, same digest");
  cr_assert_not (ocip_digest_equal (&a, &c), "different content, different digest");
  ocip_digest_buffer (OCIP_DIGEST_SHA512, "abc", 3, &c);
  cr_assert_not (ocip_digest_equal (&a, &c), "different algorithms");
}

Test (digest, hasher_free_null)
{
  ocip_hasher_free (NULL);
  cr_assert (true, "freeing NULL is a no-op");
}
