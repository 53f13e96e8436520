/*
 * capture.c - capture of External Data from a webhook's answer (SPEC §4); see outcome.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsonw.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "deliver/outcome.h"
#include "engine/answer.h"

static void field_log(json_t *log, const char *field, const char *outcome, json_t *value,
		      const char *error)
{
	json_t *o = json_pack("{s:s, s:s}", "field", field, "outcome", outcome);
	if (value)
		json_object_set_new(o, "value", value);
	if (error)
		json_object_set_new(o, "error", json_string(error));
	json_array_append_new(log, o);
}

void hb_capture(const hb_plan_action *a, hb_outcome *o, const hb_header *headers, size_t nheaders,
		const char *body, size_t len, bool truncated)
{
	if (a->nfields == 0)
		return;
	json_t *log = json_array();
	o->capture = log;
	if (truncated) {
		for (size_t i = 0; i < a->nfields; i++)
			field_log(log, a->fields[i].name, "error", NULL,
				  "the answer is larger than 1 MiB: nothing captured");
		return;
	}
	const char *ctype = NULL;
	for (size_t i = 0; i < nheaders; i++)
		if (strcasecmp(headers[i].name, "content-type") == 0)
			ctype = headers[i].value;
	json_t *parsed = NULL;
	hb_error pe = {0};
	bool bad_body = hb_answer_parse_body(body, len, ctype, &parsed, &pe) != HB_OK;
	hb_answer ans = {o->http_status, headers, nheaders, parsed};
	o->values = hb_calloc(a->nfields, sizeof *o->values);
	for (size_t i = 0; i < a->nfields; i++) {
		const hb_plan_field *f = &a->fields[i];
		const char *ptext = hb_param_text(f->param);
		bool from_body = ptext[0] != '@' || strcmp(ptext, "@body") == 0;
		if (bad_body && from_body) { /* @status and @header.X still work */
			char msg[HB_ERROR_MSG_MAX + 40];
			snprintf(msg, sizeof msg, "the answer body could not be read: %s", pe.message);
			field_log(log, f->name, "error", NULL, msg);
			continue;
		}
		json_t *found = hb_param_find(f->param, &ans);
		if (!found) {
			field_log(log, f->name, "missing", NULL, NULL);
			continue;
		}
		hb_captured *c = &o->values[o->nvalues];
		hb_error ce = {0};
		if (hb_coerce(found, f->type, f->name, &c->v, &ce) == HB_OK) {
			c->field_id = f->id;
			o->nvalues++;
			if (c->v.clear)
				field_log(log, f->name, "cleared", NULL, NULL);
			else
				field_log(log, f->name, "stored", hb_value_json(&c->v.value), NULL);
		} else {
			field_log(log, f->name, "error", NULL, ce.message);
		}
		json_decref(found);
	}
	json_decref(parsed);
}
