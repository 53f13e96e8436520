/* xparam.c - checks a field's response parameter when the field is saved (engine/param.c). */
#include <stdio.h>

#include "engine/param.h"
#include "model/rules.h"

hb_err hb_xfield_param_check(const char *text, hb_error *e)
{
	hb_param *p = NULL;
	hb_err rc = hb_param_compile(text ? text : "", &p, e);
	if (rc && e)
		snprintf(e->field, sizeof e->field, "param");
	hb_param_free(&p);
	return rc;
}
