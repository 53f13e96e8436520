/* rules.h - helpers of the per-kind rules that other modules use too. */
#ifndef HB_MODEL_RULES_H
#define HB_MODEL_RULES_H

#include <stdbool.h>

#include "core/error.h"

/* Is status one of a feedback type's statuses (given as their stored JSON array)? */
bool hb_status_allowed(const char *statuses_json, const char *status);
/* Is text a valid response parameter for an External Data field? (engine/param.c) */
hb_err hb_xfield_param_check(const char *text, hb_error *e);

#endif
