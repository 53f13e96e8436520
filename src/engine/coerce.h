/*
 * coerce.h - turning a value found in a webhook's answer into an External Data field's type
 * (SPEC §4). The rules, with examples, are the table in docs/capture.md:
 *
 *   boolean   JSON true/false; strings true/false/yes/no/1/0 (any case); numbers 0 and 1
 *   integer   JSON integers; numeric strings ("42", " -7 ", "4.0"); numbers with no fraction
 *   datetime  RFC 3339 / ISO 8601 strings, stored as UTC; JSON numbers as Unix seconds
 *   string    strings as they are; numbers and booleans as text; objects and arrays as
 *             compact JSON
 *
 * JSON null clears the stored value whatever the type. "Missing" is the caller's business
 * (hb_param_find returned NULL): nothing is coerced and the stored value stays.
 */
#ifndef HB_ENGINE_COERCE_H
#define HB_ENGINE_COERCE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/value.h"

/* Longest string a captured value may be stored as, in bytes. */
#define HB_COERCE_STRING_MAX (64 * 1024)
/* How many characters of the offending value an error message shows. */
#define HB_COERCE_ECHO_CHARS 40

/* The outcome of a coercion: clear the stored value, or store value. */
typedef struct hb_coerced {
	bool clear;	/* the answer held JSON null */
	hb_value value; /* HB_TYPE_NULL when clear */
	char *owned;	/* backs value.u.s for strings; freed by hb_coerced_clear */
} hb_coerced;

/*
 * Coerce v (never NULL: the caller handles "missing") to type; field names the field in
 * messages ("shipping.is_valid"). On failure (HB_ERR_COERCE) out is empty and e->message says
 * which field, which value (cut short, as JSON text) and why, e.g.
 * "field shipping.is_valid: cannot store \"maybe\" as a boolean (expected true/false, yes/no
 * or 1/0)". On success the caller owns out (hb_coerced_clear).
 */
hb_err hb_coerce(const json_t *v, hb_type type, const char *field, hb_coerced *out,
		 hb_error *e) HB_MUST_USE;
void hb_coerced_clear(hb_coerced *c);

#endif
