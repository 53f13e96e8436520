/*
 * error.c - names, HTTP statuses and exit statuses of hb_err, and the helpers that fill an
 * hb_error. The table is the single place a code's meaning is written down.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int http;
	int exit;
} err_table[HB_ERR__COUNT] = {
	[HB_OK] = {"ok", 200, 0},
	[HB_ERR_USAGE] = {"usage", 400, 2},
	[HB_ERR_INVALID] = {"invalid", 422, 2},
	[HB_ERR_NOT_FOUND] = {"not_found", 404, 2},
	[HB_ERR_CONFLICT] = {"conflict", 409, 2},
	[HB_ERR_UNAUTHORIZED] = {"unauthorized", 401, 2},
	[HB_ERR_FORBIDDEN] = {"forbidden", 403, 2},
	[HB_ERR_TOO_LARGE] = {"too_large", 413, 2},
	[HB_ERR_STORE] = {"store_error", 500, 1},
	[HB_ERR_IO] = {"io_error", 500, 1},
	[HB_ERR_NOMEM] = {"out_of_memory", 500, 1},
	[HB_ERR_VERSION] = {"version_mismatch", 500, 1},
	[HB_ERR_PARSE] = {"parse_error", 400, 2},
	[HB_ERR_COERCE] = {"coercion_error", 422, 2},
	[HB_ERR_UNSUPPORTED] = {"unsupported", 400, 2},
	[HB_ERR_INTERNAL] = {"internal", 500, 1},
	[HB_ERR_RATE_LIMITED] = {"rate_limited", 429, 1},
	[HB_ERR_MEDIA_TYPE] = {"unsupported_media_type", 415, 2},
	[HB_ERR_METHOD] = {"method_not_allowed", 405, 2},
	[HB_ERR_BAD_REQUEST] = {"bad_request", 400, 2},
	[HB_ERR_UNAVAILABLE] = {"unavailable", 503, 1},
};

const char *hb_err_name(hb_err code)
{
	if ((unsigned)code >= HB_ERR__COUNT)
		return "internal";
	return err_table[code].name;
}

int hb_err_http_status(hb_err code)
{
	if ((unsigned)code >= HB_ERR__COUNT)
		return 500;
	return err_table[code].http;
}

int hb_err_exit_status(hb_err code)
{
	if ((unsigned)code >= HB_ERR__COUNT)
		return 1;
	return err_table[code].exit;
}

hb_err hb_fail(hb_error *e, hb_err code, const char *field, const char *fmt, ...)
{
	if (!e)
		return code;
	e->code = code;
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return code;
}

void hb_error_prefix(hb_error *e, const char *fmt, ...)
{
	if (!e)
		return;
	char joined[2 * HB_ERROR_MSG_MAX + 2];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(joined, HB_ERROR_MSG_MAX, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t at = strlen(joined);
	memcpy(joined + at, ": ", 2);
	memcpy(joined + at + 2, e->message, sizeof e->message);
	joined[sizeof joined - 1] = '\0';
	memcpy(e->message, joined, sizeof e->message - 1);
	e->message[sizeof e->message - 1] = '\0';
}

void hb_error_clear(hb_error *e)
{
	if (!e)
		return;
	e->code = HB_OK;
	e->field[0] = '\0';
	e->message[0] = '\0';
}
