/*
 * value.h - a typed value: what a record field, an External Data value, a Data Engine path
 * and a filter literal all are. Strings are borrowed (pointer + length, not necessarily
 * NUL-terminated); whoever fills a value says who owns the bytes.
 */
#ifndef HB_CORE_VALUE_H
#define HB_CORE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hb_type {
	HB_TYPE_NULL = 0, /* no value (empty) */
	HB_TYPE_BOOL,
	HB_TYPE_INT,
	HB_TYPE_TIME,     /* Unix seconds, UTC */
	HB_TYPE_STRING,
} hb_type;

typedef struct hb_value {
	hb_type type;
	union {
		bool b;
		int64_t i; /* HB_TYPE_INT and HB_TYPE_TIME */
		struct {
			const char *ptr;
			size_t len;
		} s;
	} u;
} hb_value;

static inline hb_value hb_value_null(void)
{
	return (hb_value){.type = HB_TYPE_NULL};
}
static inline hb_value hb_value_bool(bool b)
{
	return (hb_value){.type = HB_TYPE_BOOL, .u.b = b};
}
static inline hb_value hb_value_int(int64_t i)
{
	return (hb_value){.type = HB_TYPE_INT, .u.i = i};
}
static inline hb_value hb_value_time(int64_t t)
{
	return (hb_value){.type = HB_TYPE_TIME, .u.i = t};
}
static inline hb_value hb_value_strn(const char *p, size_t n)
{
	return (hb_value){.type = HB_TYPE_STRING, .u.s = {p, n}};
}
hb_value hb_value_str(const char *s); /* NULL gives a null value */
/* a and b hold the same type and value (strings compared byte for byte). */
bool hb_value_same(const hb_value *a, const hb_value *b);

/* "boolean", "integer", "datetime", "string" ("empty" for null); the names users type. */
const char *hb_type_name(hb_type t);
/* Parse a type name as users type it; false when unknown. */
bool hb_type_parse(const char *name, hb_type *out);

#endif
