/*
 * Unit tests of src/deliver/sign: Standard Webhooks secrets, signing and verification.
 *
 * The vector is the one every library of the specification tests against, e.g.
 * standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts ("sign function
 * works") and libraries/go/webhook_test.go (TestWebhookSign):
 *   key       whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
 *   msg id    msg_p5jXN8AQM9LWM0D4loKWxJek
 *   timestamp 1614265330
 *   payload   {"test": 2432232314}
 *   expected  v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
 * and "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=" is the libraries' known-wrong signature.
 */
#include <string.h>

#include "deliver/sign.h"
#include "harness.h"

#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS 1614265330
#define VEC_BODY "{\"test\": 2432232314}"
#define VEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define WRONG_SIG "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="

TEST(sign_standard_webhooks_vector)
{
	char sig[HB_SIGN_SIG_MAX];
	hb_error e;
	CHECK_INT(
	    hb_sign(VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig, sizeof sig, &e),
	    HB_OK);
	CHECK_STR(sig, VEC_SIG);
	/* Any change of id, time or body changes the signature. */
	CHECK_INT(hb_sign(VEC_SECRET, VEC_ID, VEC_TS + 1, VEC_BODY, strlen(VEC_BODY), sig,
			  sizeof sig, &e),
		  HB_OK);
	CHECK(strcmp(sig, VEC_SIG) != 0);
	CHECK_INT(hb_sign(VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY) - 1, sig,
			  sizeof sig, &e),
		  HB_OK);
	CHECK(strcmp(sig, VEC_SIG) != 0);
	CHECK_INT(hb_sign(VEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJel", VEC_TS, VEC_BODY,
			  strlen(VEC_BODY), sig, sizeof sig, &e),
		  HB_OK);
	CHECK(strcmp(sig, VEC_SIG) != 0);
	/* An empty body is signed as "<id>.<ts>." */
	CHECK_INT(hb_sign(VEC_SECRET, VEC_ID, VEC_TS, NULL, 0, sig, sizeof sig, &e), HB_OK);
	CHECK_INT(strlen(sig), 47);
	CHECK(memcmp(sig, "v1,", 3) == 0);
}

TEST(sign_verify_vector_and_rejections)
{
	hb_error e;
	const char *body = VEC_BODY;
	size_t n = strlen(body);
	CHECK_INT(
	    hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", body, n, VEC_SIG, VEC_TS, 300, &e),
	    HB_OK);
	/* A list with other versions and wrong signatures around the right one (key rotation). */
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", body, n,
				 WRONG_SIG
				 " v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " VEC_SIG
				 " " WRONG_SIG,
				 VEC_TS + 299, 300, &e),
		  HB_OK);
	CHECK_INT(
	    hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", body, n, WRONG_SIG, VEC_TS, 300, &e),
	    HB_ERR_UNAUTHORIZED);
	CHECK_STR(e.message, "no signature in webhook-signature matches");
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", body, n, "v1,", VEC_TS, 300, &e),
		  HB_ERR_UNAUTHORIZED);
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", body, n, "v1,g0hM9SsE", VEC_TS,
				 300, &e),
		  HB_ERR_UNAUTHORIZED);
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", body, n, "", VEC_TS, 300, &e),
		  HB_ERR_UNAUTHORIZED);
	CHECK_STR(e.message, "webhook-signature header has no v1 signature");
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", "{\"test\": 2432232315}", n,
				 VEC_SIG, VEC_TS, 300, &e),
		  HB_ERR_UNAUTHORIZED);
	/* Timestamps: outside the tolerance either way, missing, not a number. */
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", body, n, VEC_SIG, VEC_TS + 301,
				 300, &e),
		  HB_ERR_UNAUTHORIZED);
	CHECK_STR(e.message, "webhook-timestamp is -301 seconds from now (allowed: 300)");
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, "1614265330", body, n, VEC_SIG, VEC_TS - 301,
				 300, &e),
		  HB_ERR_UNAUTHORIZED);
	CHECK_STR(e.message, "webhook-timestamp is 301 seconds from now (allowed: 300)");
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, "hello", body, n, VEC_SIG, VEC_TS, 300, &e),
		  HB_ERR_UNAUTHORIZED);
	CHECK_STR(e.message, "webhook-timestamp header is missing or not Unix seconds");
	CHECK_INT(hb_sign_verify(VEC_SECRET, VEC_ID, NULL, body, n, VEC_SIG, VEC_TS, 300, &e),
		  HB_ERR_UNAUTHORIZED);
	CHECK_INT(hb_sign_verify(VEC_SECRET, NULL, "1614265330", body, n, VEC_SIG, VEC_TS, 300, &e),
		  HB_ERR_UNAUTHORIZED);
	CHECK_STR(e.message, "webhook-id header is missing or malformed");
	CHECK_INT(hb_sign_verify("whsec_", VEC_ID, "1614265330", body, n, VEC_SIG, VEC_TS, 300, &e),
		  HB_ERR_INVALID);
}

TEST(sign_secret_check_messages)
{
	hb_error e;
	CHECK_INT(hb_sign_secret_check(VEC_SECRET, &e), HB_OK);
	/* 32 bytes: padded, and the same without its padding. */
	CHECK_INT(hb_sign_secret_check("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &e),
		  HB_OK);
	CHECK_INT(hb_sign_secret_check("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &e),
		  HB_OK);
	CHECK_INT(hb_sign_secret_check("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "signing secret must start with 'whsec_'");
	CHECK_STR(e.field, "signing_secret");
	CHECK_INT(hb_sign_secret_check(NULL, &e), HB_ERR_INVALID);
	CHECK_INT(hb_sign_secret_check("whsec_", &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "signing secret has no key after 'whsec_'");
	CHECK_INT(hb_sign_secret_check("whsec_MfKQ9r8GKYqrTwjUPD8I!PZIo2LaLaSw", &e),
		  HB_ERR_INVALID);
	CHECK_STR(e.message, "signing secret: character 21 after 'whsec_' is not base64 "
			     "(A-Z a-z 0-9 + / and = padding)");
	CHECK_INT(hb_sign_secret_check("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=", &e),
		  HB_ERR_INVALID);
	CHECK_STR(e.message, "signing secret: the base64 after 'whsec_' has a wrong length or "
			     "padding");
	CHECK_INT(hb_sign_secret_check("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", &e),
		  HB_ERR_INVALID);
	CHECK_STR(e.message, "signing secret holds a 23-byte key; Standard Webhooks needs 24 to "
			     "64 bytes");
	CHECK_INT(hb_sign_secret_check("whsec_dGVzdA==", &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "signing secret holds a 4-byte key; Standard Webhooks needs 24 to 64 "
			     "bytes");
	/* 65 bytes is one too many. */
	char big[HB_SIGN_SECRET_MAX + 8] = "whsec_";
	memset(big + 6, 'A', 88);
	big[6 + 87] = '\0'; /* 87 characters: 65 bytes */
	CHECK_INT(hb_sign_secret_check(big, &e), HB_ERR_INVALID);
	CHECK_CONTAINS(e.message, "holds a 65-byte key");
	/* The message never repeats the secret. */
	CHECK(strstr(e.message, "AAAA") == NULL);
}

TEST(sign_secret_generate_round_trip)
{
	hb_error e;
	char a[HB_SIGN_SECRET_MAX], b[HB_SIGN_SECRET_MAX];
	CHECK_INT(hb_sign_secret_generate(0, a, sizeof a, &e), HB_OK);
	CHECK_INT(strlen(a), 6 + 44); /* 32 bytes */
	CHECK(memcmp(a, "whsec_", 6) == 0);
	CHECK_INT(hb_sign_secret_check(a, &e), HB_OK);
	CHECK_INT(hb_sign_secret_generate(24, b, sizeof b, &e), HB_OK);
	CHECK_INT(strlen(b), 6 + 32);
	CHECK_INT(hb_sign_secret_check(b, &e), HB_OK);
	CHECK_INT(hb_sign_secret_generate(64, b, sizeof b, &e), HB_OK);
	CHECK_INT(strlen(b), 6 + 88);
	CHECK_INT(hb_sign_secret_check(b, &e), HB_OK);
	CHECK_INT(hb_sign_secret_generate(0, b, sizeof b, &e), HB_OK);
	CHECK(strcmp(a, b) != 0); /* random */
	CHECK_INT(hb_sign_secret_generate(16, b, sizeof b, &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "a signing key must be 24 to 64 bytes, not 16");
	CHECK_INT(hb_sign_secret_generate(32, b, 40, &e), HB_ERR_INTERNAL);

	/* A generated secret signs and verifies. */
	char sig[HB_SIGN_SIG_MAX];
	CHECK_INT(hb_sign(a, "delivery_42", 1700000000, "{}", 2, sig, sizeof sig, &e), HB_OK);
	CHECK_INT(hb_sign_verify(a, "delivery_42", "1700000000", "{}", 2, sig, 1700000010, 300, &e),
		  HB_OK);
	CHECK_INT(hb_sign_verify(b, "delivery_42", "1700000000", "{}", 2, sig, 1700000010, 300, &e),
		  HB_ERR_UNAUTHORIZED);
}

TEST(sign_rejects_bad_ids_and_times)
{
	hb_error e;
	char sig[HB_SIGN_SIG_MAX];
	CHECK_INT(hb_sign(VEC_SECRET, "msg.1", VEC_TS, "", 0, sig, sizeof sig, &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "webhook id may hold only printable ASCII without spaces or '.' "
			     "(character 4)");
	CHECK_INT(hb_sign(VEC_SECRET, "", VEC_TS, "", 0, sig, sizeof sig, &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "webhook id must be 1-256 characters");
	CHECK_INT(hb_sign(VEC_SECRET, "a b", VEC_TS, "", 0, sig, sizeof sig, &e), HB_ERR_INVALID);
	CHECK_INT(hb_sign(VEC_SECRET, VEC_ID, -1, "", 0, sig, sizeof sig, &e), HB_ERR_INVALID);
	CHECK_STR(e.message, "webhook timestamp must not be negative");
	CHECK_INT(hb_sign("whsec_c2hvcnQ=", VEC_ID, VEC_TS, "", 0, sig, sizeof sig, &e),
		  HB_ERR_INVALID);
	CHECK_CONTAINS(e.message, "Standard Webhooks needs 24 to 64 bytes");
	CHECK_INT(hb_sign(VEC_SECRET, VEC_ID, VEC_TS, "", 0, sig, 10, &e), HB_ERR_INTERNAL);
}
