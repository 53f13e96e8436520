/*
 * error.h - the one error vocabulary of hookbridge.
 *
 * Every fallible function returns an hb_err. The human message, and the name of the field
 * that was wrong when there is one, go into a caller-owned hb_error; the CLI prints it on
 * stderr and the API turns it into {"error":{"code":…,"message":…,"field":…}}. Numbers are
 * never reused: add new codes at the end.
 */
#ifndef HB_CORE_ERROR_H
#define HB_CORE_ERROR_H

#include <stddef.h>

#define HB_MUST_USE __attribute__((warn_unused_result))
#define HB_PRINTF(a, b) __attribute__((format(printf, a, b)))

typedef enum hb_err {
	HB_OK = 0,
	HB_ERR_USAGE = 1,       /* bad command line */
	HB_ERR_INVALID = 2,     /* a value fails validation */
	HB_ERR_NOT_FOUND = 3,   /* a named record does not exist */
	HB_ERR_CONFLICT = 4,    /* duplicate key, or state that forbids the change */
	HB_ERR_UNAUTHORIZED = 5,
	HB_ERR_FORBIDDEN = 6,
	HB_ERR_TOO_LARGE = 7,   /* input over a named cap */
	HB_ERR_STORE = 8,       /* the database failed */
	HB_ERR_IO = 9,          /* a file or socket failed */
	HB_ERR_NOMEM = 10,
	HB_ERR_VERSION = 11,    /* database written by a newer hookbridge */
	HB_ERR_PARSE = 12,      /* malformed JSON, CSV or template text */
	HB_ERR_COERCE = 13,     /* a captured value does not fit its field's type */
	HB_ERR_UNSUPPORTED = 14,
	HB_ERR_INTERNAL = 15,
	HB_ERR_RATE_LIMITED = 16, /* too many requests for one key */
	HB_ERR_MEDIA_TYPE = 17,   /* a body that is not JSON */
	HB_ERR_METHOD = 18,       /* the route exists, the method does not */
	HB_ERR_BAD_REQUEST = 19,  /* a malformed request: query parameter, cursor, missing body */
	HB_ERR_UNAVAILABLE = 20,  /* the server cannot answer now (store unreachable, stopping) */
	HB_ERR__COUNT
} hb_err;

#define HB_ERROR_MSG_MAX 512
#define HB_ERROR_FIELD_MAX 96

/* What went wrong, in words; owned by the caller, filled by the failing function. */
typedef struct hb_error {
	hb_err code;
	char field[HB_ERROR_FIELD_MAX]; /* the input field at fault, or "" */
	char message[HB_ERROR_MSG_MAX];
} hb_error;

/* Stable lower-case name of a code ("not_found"), used in API errors and logs. */
const char *hb_err_name(hb_err code);
/* HTTP status that an API answer carries for this code. */
int hb_err_http_status(hb_err code);
/* Process exit status for the CLI: 2 for usage and validation, 1 for runtime failures. */
int hb_err_exit_status(hb_err code);

/* Fill e (if not NULL) and return code: `return hb_fail(e, HB_ERR_INVALID, "email", "…")`. */
hb_err hb_fail(hb_error *e, hb_err code, const char *field, const char *fmt, ...) HB_PRINTF(4, 5);
/* Put "prefix: " in front of the message already in e (keeps code and field). */
void hb_error_prefix(hb_error *e, const char *fmt, ...) HB_PRINTF(2, 3);
void hb_error_clear(hb_error *e);

#endif
