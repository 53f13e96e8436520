/*
 * text.h - checks and conversions of small pieces of text: keys, email addresses, numbers.
 * Numbers are parsed with range and end checks (never atoi).
 */
#ifndef HB_CORE_TEXT_H
#define HB_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key as users type it: [a-z0-9][a-z0-9_-]{0,63}. */
bool hb_text_is_key(const char *s);
/* A plausible email address: local@domain.tld, no spaces or control characters, at most 254. */
bool hb_text_is_email(const char *s);
/* Whole-string base-10 int64, optional sign; false on junk, empty or overflow. */
bool hb_text_to_int64(const char *s, size_t n, int64_t *out);
/* Valid UTF-8 (no overlongs, no surrogates); false at the first bad byte, *bad_at set. */
bool hb_text_is_utf8(const char *s, size_t n, size_t *bad_at);

#define HB_DECIMAL_MAX 21 /* "-9223372036854775808" and its NUL */
/* v in decimal, as "%lld" writes it, into out with a NUL; its length. Without printf's cost:
   keys, sources and logs write one per delivery. */
size_t hb_text_decimal(char out[HB_DECIMAL_MAX], long long v);
/* Length of the valid UTF-8 sequence that starts s (n bytes available), with its code point in
   *cp when cp is not NULL; 0 when s starts no valid sequence (overlong, surrogate, cut short). */
size_t hb_text_utf8_seq(const char *s, size_t n, unsigned *cp);
/* Case-insensitive ASCII equality of s[0..n) with the NUL-terminated word. */
bool hb_text_ieq(const char *s, size_t n, const char *word);

/* Levenshtein edit distance of two short texts (over 128 bytes: 1000, "far apart"), for
   "did you mean" hints. */
size_t hb_text_distance(const char *a, size_t an, const char *b, size_t bn);

#endif
