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

/* One field's entry of the capture log: {"field":…,"outcome":…[,"value":…][,"error":…]}. The
   log is JSON text, like the attempt's request and answer logs. */
static void field_log(hb_buf *log, const char *field, const char *outcome, const hb_value *value,
		      const char *error)
{
	hb_err rc = hb_buf_adds(log, log->len > 1 ? ",{" : "{");
	if (!rc)
		rc = hb_json_write_key(log, "field", true);
	if (!rc)
		rc = hb_json_write_string(log, field, strlen(field), true);
	if (!rc)
		rc = hb_json_write_key(log, "outcome", false);
	if (!rc)
		rc = hb_json_write_string(log, outcome, strlen(outcome), true);
	if (!rc && value)
		rc = hb_json_write_key(log, "value", false);
	if (!rc && value)
		rc = hb_json_write_value(log, value);
	if (!rc && error)
		rc = hb_json_write_key(log, "error", false);
	if (!rc && error)
		rc = hb_json_write_string(log, error, strlen(error), true);
	if (!rc)
		rc = hb_buf_addc(log, '}');
	(void)rc; /* the log has no cap: only running out of memory fails, and that aborts */
}

/* Each field's value from a 2xx answer into o->values, and its entry into log. */
static void capture_fields(const hb_plan_action *a, hb_outcome *o, hb_buf *log,
			   const hb_header *headers, size_t nheaders, const char *body, size_t len)
{
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
				field_log(log, f->name, "stored", &c->v.value, NULL);
		} else {
			field_log(log, f->name, "error", NULL, ce.message);
		}
		json_decref(found);
	}
	json_decref(parsed);
}

void hb_capture(const hb_plan_action *a, hb_outcome *o, const hb_header *headers, size_t nheaders,
		const char *body, size_t len, bool truncated)
{
	if (a->nfields == 0)
		return;
	hb_buf *log = &o->capture;
	hb_buf_init(log, HB_BUF_UNLIMITED);
	if (hb_buf_addc(log, '[') != HB_OK)
		return;
	if (truncated)
		for (size_t i = 0; i < a->nfields; i++)
			field_log(log, a->fields[i].name, "error", NULL,
				  "the answer is larger than 1 MiB: nothing captured");
	else
		capture_fields(a, o, log, headers, nheaders, body, len);
	if (hb_buf_addc(log, ']') != HB_OK)
		hb_buf_free(log);
}
