/* xparam.c - checks a field's response parameter when the field is saved. */
#include <string.h>

#include "model/rules.h"

hb_err hb_xfield_param_check(const char *text, hb_error *e)
{
	/* the full grammar arrives with engine/param.c; until then refuse only the empty parameter */
	if (!text || !*text)
		return hb_fail(e, HB_ERR_INVALID, "param", "param must not be empty");
	return HB_OK;
}
