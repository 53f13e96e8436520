/* value.c - type names and small constructors of value.h. */
#include "core/value.h"

#include <string.h>

hb_value hb_value_str(const char *s)
{
	if (!s)
		return hb_value_null();
	return hb_value_strn(s, strlen(s));
}

static const char *const type_names[] = {
	[HB_TYPE_NULL] = "empty",   [HB_TYPE_BOOL] = "boolean",  [HB_TYPE_INT] = "integer",
	[HB_TYPE_TIME] = "datetime", [HB_TYPE_STRING] = "string",
};

const char *hb_type_name(hb_type t)
{
	if ((unsigned)t >= sizeof type_names / sizeof type_names[0])
		return "unknown";
	return type_names[t];
}

bool hb_type_parse(const char *name, hb_type *out)
{
	for (hb_type t = HB_TYPE_BOOL; t <= HB_TYPE_STRING; t++) {
		if (strcmp(name, type_names[t]) == 0) {
			*out = t;
			return true;
		}
	}
	return false;
}

bool hb_value_same(const hb_value *a, const hb_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case HB_TYPE_NULL:
		return true;
	case HB_TYPE_BOOL:
		return a->u.b == b->u.b;
	case HB_TYPE_INT:
	case HB_TYPE_TIME:
		return a->u.i == b->u.i;
	case HB_TYPE_STRING:
		return a->u.s.len == b->u.s.len &&
		       (!a->u.s.len || memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0);
	}
	return false;
}
