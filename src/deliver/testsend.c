/*
 * testsend.c - see testsend.h.
 */
#include "deliver/testsend.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/timeutil.h"
#include "deliver/run.h"
#include "deliver/transfer.h"

typedef struct store_job {
	hb_outcome *o;
	hb_target target;
	const char *macro;
} store_job;

/* A JSON text log as a value (null when there is none). */
static json_t *log_json(const hb_buf *log)
{
	json_t *v = log->len ? json_loadb(log->data, log->len, 0, NULL) : NULL;
	return v ? v : json_null();
}

static hb_err store_values(hb_ctx *c, void *ud, hb_error *e)
{
	store_job *j = ud;
	char source[96];
	snprintf(source, sizeof source, "test:%s", j->macro);
	for (size_t i = 0; i < j->o->nvalues; i++) {
		hb_captured *v = &j->o->values[i];
		hb_xvalue xv = {v->field_id, j->o->record_id, v->v.clear ? hb_value_null() : v->v.value,
				hb_time_now(), source};
		hb_err rc = c->store->ops->xvalue_set(c->store, j->target, &xv, e);
		if (rc)
			return rc;
	}
	return HB_OK;
}

hb_err hb_macro_test(hb_ctx *c, const hb_row *macro, int64_t record_id, const hb_test_opts *o,
		     json_t **out, hb_error *e)
{
	hb_plan_opts po = {.timeout_ms = 15000};
	hb_schedule_default(&po.schedule);
	hb_plan *p = NULL;
	hb_err rc = hb_integrations_check(c, e);
	if (!rc)
		rc = hb_plan_load(c, hb_row_id(macro), &po, &p, e);
	if (rc)
		return rc;
	int pos = o->position ? o->position : hb_plan_next_webhook(p, 0);
	const hb_plan_action *a = pos ? hb_plan_action_at(p, pos) : NULL;
	if (!a || strcmp(a->type, "webhook") != 0) {
		rc = o->position ? hb_fail(e, HB_ERR_NOT_FOUND, "action",
					   "macro '%s' has no webhook at action %d",
					   hb_row_str(macro, "key"), o->position)
				 : hb_fail(e, HB_ERR_NOT_FOUND, "action", "macro '%s' has no webhook",
					   hb_row_str(macro, "key"));
		hb_plan_free(&p);
		return rc;
	}
	const hb_value *slots;
	rc = hb_tagctx_load(p->tags, record_id, &slots, e);
	if (rc) {
		hb_plan_free(&p);
		return rc;
	}
	hb_outcome oc = {.record_id = record_id, .position = pos, .attempt = 1, .plan = p};
	hb_request req;
	json_t *res = json_pack("{s:i, s:b, s:b}", "action", pos, "sent", 0, "stored", 0);
	char key[64];
	snprintf(key, sizeof key, "hbt_%lld_%lld", (long long)hb_row_id(macro), (long long)time(NULL));
	hb_error re = {0};
	bool built = hb_request_build(a, slots, key, hb_time_now(), &req, &re) == HB_OK;
	json_object_set_new(res, "request", log_json(&req.log));
	if (!built) {
		json_object_set_new(res, "error_class", json_string("render"));
		json_object_set_new(res, "error", json_string(re.message));
	} else if (!o->dry_run) {
		hb_transfer t;
		hb_transfer_init(&t);
		hb_transfer_prepare(&t, a, &req, o->guard);
		int64_t t0 = hb_time_mono_ms();
		CURLcode cr = curl_easy_perform(t.easy);
		oc.duration_ms = hb_time_mono_ms() - t0;
		bool retryable;
		int64_t retry_after;
		hb_transfer_outcome(&t, cr, a, &oc, &retryable, &retry_after);
		hb_transfer_free(&t);
		json_object_set_new(res, "sent", json_true());
		json_object_set_new(res, "duration_ms", json_integer((json_int_t)oc.duration_ms));
		json_object_set_new(res, "response", log_json(&oc.response));
		if (oc.error_class) {
			json_object_set_new(res, "error_class", json_string(oc.error_class));
			json_object_set_new(res, "error", json_string(oc.error));
			if (retryable)
				json_object_set_new(res, "would_retry", json_true());
		}
		if (oc.capture.len)
			json_object_set_new(res, "capture", log_json(&oc.capture));
		if (o->store && oc.final == HB_FINAL_SUCCEEDED && oc.nvalues) {
			store_job sj = {&oc, p->target, hb_row_str(macro, "key")};
			rc = hb_tx(c, store_values, &sj, e);
			if (!rc)
				json_object_set_new(res, "stored", json_true());
		}
	}
	hb_request_free(&req);
	hb_outcome_clear(&oc);
	hb_plan_free(&p);
	if (rc) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return HB_OK;
}
