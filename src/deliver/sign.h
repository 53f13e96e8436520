/*
 * sign.h - Standard Webhooks signatures (https://www.standardwebhooks.com/).
 *
 * A signed webhook carries three headers: `webhook-id` (the delivery's stable id),
 * `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
 * ("v1," + base64 of HMAC-SHA256 over "<id>.<timestamp>.<body>", keyed with the
 * base64-decoded secret). Secrets are written "whsec_" + base64 of 24 to 64 random bytes.
 * The same code verifies signatures that providers send to inbound listeners.
 */
#ifndef HB_DELIVER_SIGN_H
#define HB_DELIVER_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define HB_SIGN_SECRET_PREFIX "whsec_"
#define HB_SIGN_KEY_MIN 24 /* bytes of key; the specification's minimum (192 bits) */
#define HB_SIGN_KEY_MAX 64 /* and its maximum (512 bits) */
/* Room for any valid secret: "whsec_" + base64 of 64 bytes (88) + NUL. */
#define HB_SIGN_SECRET_MAX 96
/* Room for one signature: "v1," + base64 of 32 bytes (44) + NUL. */
#define HB_SIGN_SIG_MAX 48
/* Longest webhook-id accepted. */
#define HB_SIGN_ID_MAX 256

/* Write a new secret of nbytes random bytes (24-64; 0 means 32) into out (at least
 * HB_SIGN_SECRET_MAX bytes). HB_ERR_INTERNAL if the random generator fails. */
hb_err hb_sign_secret_generate(size_t nbytes, char *out, size_t outsz, hb_error *e) HB_MUST_USE;
/* HB_OK if secret is "whsec_" + padded or unpadded base64 of 24-64 bytes; else HB_ERR_INVALID
 * saying what is wrong (the secret itself is never repeated in the message). */
hb_err hb_sign_secret_check(const char *secret, hb_error *e) HB_MUST_USE;

/* Sign one attempt: write "v1,<base64>" into out (at least HB_SIGN_SIG_MAX bytes). msg_id must
 * be 1-256 printable ASCII characters without '.' (a '.' would make the signed text ambiguous). */
hb_err hb_sign(const char *secret, const char *msg_id, int64_t timestamp, const void *body,
	       size_t body_len, char *out, size_t outsz, hb_error *e) HB_MUST_USE;

/* Verify a received webhook: signatures is the `webhook-signature` header (a space-separated
 * list; entries other than v1 are skipped), timestamp the `webhook-timestamp` header text.
 * HB_OK when one v1 signature matches and |now - timestamp| <= tolerance seconds; otherwise
 * HB_ERR_UNAUTHORIZED (or HB_ERR_INVALID for a bad secret) with the reason. */
hb_err hb_sign_verify(const char *secret, const char *msg_id, const char *timestamp,
		      const void *body, size_t body_len, const char *signatures, int64_t now,
		      int64_t tolerance, hb_error *e) HB_MUST_USE;

#endif
