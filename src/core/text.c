/* text.c - see text.h. */
#include "core/text.h"

#include <string.h>

bool hb_text_is_key(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  (i > 0 && (c == '_' || c == '-'));
		if (!ok)
			return false;
	}
	return true;
}

bool hb_text_is_email(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 254)
		return false;
	const char *at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@'))
		return false;
	size_t local = (size_t)(at - s);
	if (local > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || c == '(' || c == ')' || c == ',' || c == ':' ||
		    c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c == '"')
			return false;
	}
	if (s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
		return false;
	const char *dom = at + 1;
	const char *dot = strrchr(dom, '.');
	if (!dot || dot == dom || dot[1] == '\0' || dom[0] == '-' || dom[0] == '.')
		return false;
	return true;
}

bool hb_text_to_int64(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == n)
		return false;
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

size_t hb_text_utf8_seq(const char *str, size_t n, unsigned *cp_out)
{
	const unsigned char *s = (const unsigned char *)str;
	if (n == 0)
		return 0;
	unsigned c = s[0];
	size_t len;
	unsigned cp;
	if (c < 0x80) {
		len = 1;
		cp = c;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp_out)
		*cp_out = cp;
	return len;
}

bool hb_text_is_utf8(const char *s, size_t n, size_t *bad_at)
{
	size_t i = 0;
	while (i < n) {
		uint64_t w;
		if (n - i >= 8 && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080u))) {
			i += 8; /* ASCII runs, the common case, eight bytes at a time */
			continue;
		}
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		size_t len = hb_text_utf8_seq(s + i, n - i, NULL);
		if (len == 0) {
			if (bad_at)
				*bad_at = i;
			return false;
		}
		i += len;
	}
	return true;
}

bool hb_text_ieq(const char *s, size_t n, const char *word)
{
	size_t wn = strlen(word);
	if (wn != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = s[i], b = word[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

size_t hb_text_distance(const char *a, size_t an, const char *b, size_t bn)
{
	size_t row[129];
	if (an > 128 || bn > 128)
		return 1000;
	for (size_t j = 0; j <= bn; j++)
		row[j] = j;
	for (size_t i = 1; i <= an; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= bn; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[bn];
}

size_t hb_text_decimal(char out[HB_DECIMAL_MAX], long long v)
{
	char digits[HB_DECIMAL_MAX];
	char *p = digits + sizeof digits;
	/* in unsigned arithmetic, so that LLONG_MIN has a magnitude */
	unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + m % 10);
	while (m /= 10);
	if (v < 0)
		*--p = '-';
	size_t n = (size_t)(digits + sizeof digits - p);
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}
