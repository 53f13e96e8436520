/*
 * param.h - External Data parameters: where a field's value is found in a webhook's answer.
 *
 * A parameter is typed by a user when an External Data field is saved (SPEC §4) and compiled
 * once; capture then looks it up in each 2xx answer. Forms:
 *
 *   validation_results.is_valid   dotted path into the parsed body
 *   results[0].name               array indexes in brackets
 *   a["x.y"].b                    quoted keys for names with odd characters
 *   /results/0/name               JSON Pointer (RFC 6901, ~0 is '~' and ~1 is '/')
 *   @status                       the HTTP status code (an integer)
 *   @header.Content-Type          a response header (case-insensitive name, first occurrence)
 *   @body                         the whole parsed body
 *
 * The full grammar and its error messages are in docs/capture.md.
 */
#ifndef HB_ENGINE_PARAM_H
#define HB_ENGINE_PARAM_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

/* Longest parameter accepted, in bytes. */
#define HB_PARAM_MAX_LEN 1024

typedef struct hb_param hb_param;

/*
 * Parse a parameter as typed by a user; on error (HB_ERR_INVALID) the message gives the column
 * (1-based, in characters) and why, e.g.
 * "parameter 'results[x].name', column 9: array index must be a number". Caller owns *out.
 */
hb_err hb_param_compile(const char *text, hb_param **out, hb_error *e) HB_MUST_USE;
void hb_param_free(hb_param **p);
/* The text the parameter was compiled from; owned by p. */
const char *hb_param_text(const hb_param *p);

typedef struct hb_header {
	const char *name;
	const char *value;
} hb_header;

/* What a receiver answered, as capture sees it. Everything is borrowed from the caller. */
typedef struct hb_answer {
	int status;
	const hb_header *headers;
	size_t nheaders;
	json_t *body; /* parsed body (object/array/...), NULL if none */
} hb_answer;

/*
 * The value the parameter addresses: a NEW json reference (caller decrefs), or NULL when
 * missing. A JSON null in the answer comes back as json_null() (present: it clears), distinct
 * from missing (NULL). @status gives an integer; @header.Name a string (bytes as received, so
 * they may not be valid UTF-8: string coercion checks).
 */
json_t *hb_param_find(const hb_param *p, const hb_answer *a);

#endif
