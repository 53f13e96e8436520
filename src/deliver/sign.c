/*
 * sign.c - Standard Webhooks HMAC-SHA256 signatures (see sign.h), on OpenSSL's EVP_MAC,
 * RAND_bytes and EVP_EncodeBlock/EVP_DecodeBlock.
 */
#include "deliver/sign.h"

#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"

#define PREFIX_LEN (sizeof HB_SIGN_SECRET_PREFIX - 1)
#define MAC_LEN 32				/* SHA-256 */
#define B64_LEN(n) ((((n) + 2) / 3) * 4)	/* padded base64 length of n bytes */
#define SECRET_B64_MAX B64_LEN(HB_SIGN_KEY_MAX) /* 88 */

static bool is_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Decode the key of a "whsec_…" secret into key[HB_SIGN_KEY_MAX]. */
static hb_err decode_secret(const char *secret, unsigned char *key, size_t *keylen, hb_error *e)
{
	if (!secret || strncmp(secret, HB_SIGN_SECRET_PREFIX, PREFIX_LEN) != 0)
		return hb_fail(e, HB_ERR_INVALID, "signing_secret",
			       "signing secret must start with '" HB_SIGN_SECRET_PREFIX "'");
	const char *b64 = secret + PREFIX_LEN;
	size_t n = strlen(b64);
	if (n == 0)
		return hb_fail(e, HB_ERR_INVALID, "signing_secret",
			       "signing secret has no key after '" HB_SIGN_SECRET_PREFIX "'");
	size_t data = 0;
	while (data < n && is_b64_char(b64[data]))
		data++;
	size_t pad = n - data;
	for (size_t i = data; i < n; i++)
		if (b64[i] != '=')
			return hb_fail(e, HB_ERR_INVALID, "signing_secret",
				       "signing secret: character %zu after '" HB_SIGN_SECRET_PREFIX
				       "' is not base64 (A-Z a-z 0-9 + / and = padding)",
				       i + 1);
	if (pad > 2 || data % 4 == 1 || (pad > 0 && n % 4 != 0))
		return hb_fail(e, HB_ERR_INVALID, "signing_secret",
			       "signing secret: the base64 after '" HB_SIGN_SECRET_PREFIX
			       "' has a wrong length or padding");
	size_t bytes = data * 3 / 4;
	if (bytes < HB_SIGN_KEY_MIN || bytes > HB_SIGN_KEY_MAX)
		return hb_fail(e, HB_ERR_INVALID, "signing_secret",
			       "signing secret holds a %zu-byte key; Standard Webhooks needs %d to "
			       "%d bytes",
			       bytes, HB_SIGN_KEY_MIN, HB_SIGN_KEY_MAX);
	/* EVP_DecodeBlock wants whole 4-character groups and counts padding as zero bytes. */
	unsigned char in[SECRET_B64_MAX + 1], out[SECRET_B64_MAX];
	memcpy(in, b64, data);
	size_t padded = data;
	while (padded % 4)
		in[padded++] = '=';
	int got = EVP_DecodeBlock(out, in, (int)padded);
	if (got < 0 || (size_t)got < bytes)
		return hb_fail(e, HB_ERR_INVALID, "signing_secret",
			       "signing secret: the base64 after '" HB_SIGN_SECRET_PREFIX
			       "' does not decode");
	memcpy(key, out, bytes);
	*keylen = bytes;
	OPENSSL_cleanse(out, sizeof out);
	return HB_OK;
}

hb_err hb_sign_secret_check(const char *secret, hb_error *e)
{
	unsigned char key[HB_SIGN_KEY_MAX];
	size_t keylen;
	hb_err rc = decode_secret(secret, key, &keylen, e);
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

hb_err hb_sign_secret_generate(size_t nbytes, char *out, size_t outsz, hb_error *e)
{
	if (nbytes == 0)
		nbytes = 32;
	if (nbytes < HB_SIGN_KEY_MIN || nbytes > HB_SIGN_KEY_MAX)
		return hb_fail(e, HB_ERR_INVALID, "",
			       "a signing key must be %d to %d bytes, not %zu", HB_SIGN_KEY_MIN,
			       HB_SIGN_KEY_MAX, nbytes);
	if (outsz < PREFIX_LEN + B64_LEN(nbytes) + 1)
		return hb_fail(e, HB_ERR_INTERNAL, "", "no room for a signing secret");
	unsigned char key[HB_SIGN_KEY_MAX];
	if (RAND_bytes(key, (int)nbytes) != 1)
		return hb_fail(e, HB_ERR_INTERNAL, "", "the random number generator failed");
	memcpy(out, HB_SIGN_SECRET_PREFIX, PREFIX_LEN);
	EVP_EncodeBlock((unsigned char *)out + PREFIX_LEN, key, (int)nbytes);
	OPENSSL_cleanse(key, sizeof key);
	return HB_OK;
}

static hb_err check_id(const char *msg_id, hb_error *e)
{
	size_t n = msg_id ? strlen(msg_id) : 0;
	if (n == 0 || n > HB_SIGN_ID_MAX)
		return hb_fail(e, HB_ERR_INVALID, "webhook-id",
			       "webhook id must be 1-%d characters", HB_SIGN_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if (msg_id[i] <= ' ' || msg_id[i] > '~' || msg_id[i] == '.')
			return hb_fail(e, HB_ERR_INVALID, "webhook-id",
				       "webhook id may hold only printable ASCII without spaces or "
				       "'.' (character %zu)",
				       i + 1);
	return HB_OK;
}

/* mac = HMAC-SHA256(key, "<id>.<ts>.<body>"). */
static hb_err compute_mac(const unsigned char *key, size_t keylen, const char *msg_id,
			  const char *ts, const void *body, size_t body_len,
			  unsigned char mac[MAC_LEN], hb_error *e)
{
	hb_err rc = HB_ERR_INTERNAL;
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	size_t len = 0;
	if (!ctx || EVP_MAC_init(ctx, key, keylen, params) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)msg_id, strlen(msg_id)) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)".", 1) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)".", 1) != 1 ||
	    (body_len && EVP_MAC_update(ctx, body, body_len) != 1) ||
	    EVP_MAC_final(ctx, mac, &len, MAC_LEN) != 1 || len != MAC_LEN) {
		hb_fail(e, HB_ERR_INTERNAL, "", "HMAC-SHA256 failed in OpenSSL");
		goto out;
	}
	rc = HB_OK;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	return rc;
}

/* The signature of the attempt as "v1,<base64>" in out (HB_SIGN_SIG_MAX bytes). */
static hb_err sign_text(const char *secret, const char *msg_id, const char *ts, const void *body,
			size_t body_len, char out[HB_SIGN_SIG_MAX], hb_error *e)
{
	unsigned char key[HB_SIGN_KEY_MAX], mac[MAC_LEN];
	size_t keylen = 0;
	hb_err rc = decode_secret(secret, key, &keylen, e);
	if (rc == HB_OK)
		rc = compute_mac(key, keylen, msg_id, ts, body, body_len, mac, e);
	if (rc == HB_OK) {
		memcpy(out, "v1,", 3);
		EVP_EncodeBlock((unsigned char *)out + 3, mac, MAC_LEN);
	}
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

hb_err hb_sign(const char *secret, const char *msg_id, int64_t timestamp, const void *body,
	       size_t body_len, char *out, size_t outsz, hb_error *e)
{
	if (outsz < HB_SIGN_SIG_MAX)
		return hb_fail(e, HB_ERR_INTERNAL, "", "no room for a signature");
	hb_err rc = check_id(msg_id, e);
	if (rc != HB_OK)
		return rc;
	if (timestamp < 0)
		return hb_fail(e, HB_ERR_INVALID, "webhook-timestamp",
			       "webhook timestamp must not be negative");
	char ts[24];
	snprintf(ts, sizeof ts, "%" PRId64, timestamp);
	return sign_text(secret, msg_id, ts, body, body_len, out, e);
}

hb_err hb_sign_verify(const char *secret, const char *msg_id, const char *timestamp,
		      const void *body, size_t body_len, const char *signatures, int64_t now,
		      int64_t tolerance, hb_error *e)
{
	if (hb_sign_secret_check(secret, e) != HB_OK)
		return HB_ERR_INVALID;
	if (check_id(msg_id, e) != HB_OK)
		return hb_fail(e, HB_ERR_UNAUTHORIZED, "webhook-id",
			       "webhook-id header is missing or malformed");
	int64_t ts;
	size_t tslen = timestamp ? strlen(timestamp) : 0;
	if (tslen == 0 || tslen > 19 || timestamp[0] == '-' || timestamp[0] == '+' ||
	    !hb_text_to_int64(timestamp, tslen, &ts))
		return hb_fail(e, HB_ERR_UNAUTHORIZED, "webhook-timestamp",
			       "webhook-timestamp header is missing or not Unix seconds");
	if (ts < now - tolerance || ts > now + tolerance)
		return hb_fail(e, HB_ERR_UNAUTHORIZED, "webhook-timestamp",
			       "webhook-timestamp is %" PRId64
			       " seconds from now (allowed: %" PRId64 ")",
			       ts - now, tolerance);
	char want[HB_SIGN_SIG_MAX];
	hb_err rc = sign_text(secret, msg_id, timestamp, body, body_len, want, e);
	if (rc != HB_OK)
		return rc;
	size_t want_len = strlen(want);
	bool seen_v1 = false;
	const char *p = signatures ? signatures : "";
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n >= 3 && memcmp(p, "v1,", 3) == 0) {
			seen_v1 = true;
			if (n == want_len && CRYPTO_memcmp(p, want, n) == 0)
				return HB_OK;
		}
		p += n;
	}
	return hb_fail(e, HB_ERR_UNAUTHORIZED, "webhook-signature",
		       seen_v1 ? "no signature in webhook-signature matches"
			       : "webhook-signature header has no v1 signature");
}
