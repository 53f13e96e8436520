/*
 * run.c - see run.h.
 */
#include "deliver/run.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/timeutil.h"
#include "deliver/outcome.h"
#include "query/filter.h"

#define BATCH 1000

void hb_delivery_key(const char *token, int64_t id, char *out, size_t n)
{
	snprintf(out, n, "hbd_%s_%lld", token, (long long)id);
}

hb_err hb_integrations_check(hb_ctx *c, hb_error *e)
{
	if (!c->enhanced_integrations)
		return hb_fail(e, HB_ERR_FORBIDDEN, "community",
			       "webhooks are off for community '%s': it does not have enhanced "
			       "integrations", c->community_key);
	const hb_kind *k = hb_kind_get(HB_K_APIKEY);
	hb_cond conds[] = {{hb_kind_col(k, "community_id"), hb_value_int(c->community_id)},
			   {hb_kind_col(k, "enabled"), hb_value_bool(true)}};
	bool any = false;
	hb_err rc = c->store->ops->exists(c->store, k, conds, 2, &any, e);
	if (!rc && !any)
		rc = hb_fail(e, HB_ERR_FORBIDDEN, "community",
			     "webhooks are off for community '%s': it has no enabled API key "
			     "(create one with: hookbridge apikey create)", c->community_key);
	return rc;
}

typedef struct run_job {
	const hb_row *macro;
	const hb_selection *sel;
	hb_plan *plan;
	hb_row *run;
	hb_run_progress_fn progress;
	void *ud;
	int64_t ids[BATCH];
	size_t n;
	int64_t cursor; /* for --all: last id of the listed kind */
	int64_t written;
} run_job;

static hb_err write_batch(hb_ctx *c, void *ud, hb_error *e)
{
	run_job *j = ud;
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	hb_row *d = hb_row_new(k);
	int64_t now = hb_time_now();
	int first = hb_plan_next_webhook(j->plan, 0);
	hb_err rc = HB_OK;
	for (size_t i = 0; i < j->n && !rc; i++) {
		rc = hb_native_run(c, j->plan, 0, j->ids[i], e);
		for (int pos = first; pos && !rc; pos = hb_plan_next_webhook(j->plan, pos)) {
			hb_row_clear(d);
			hb_row_set_int(d, "run_id", hb_row_id(j->run));
			hb_row_set_int(d, "record_id", j->ids[i]);
			hb_row_set_int(d, "position", pos);
			hb_row_set_str(d, "status", pos == first ? "pending" : "waiting");
			hb_row_set_int(d, "attempts", 0);
			hb_row_set_int(d, "due_at", now * 1000);
			hb_row_set_time(d, "created_at", now);
			hb_row_set_time(d, "updated_at", now);
			rc = c->store->ops->insert(c->store, d, e);
		}
		if (rc)
			hb_error_prefix(e, "record %lld", (long long)j->ids[i]);
	}
	hb_row_free(&d);
	if (!rc) {
		j->written += (int64_t)j->n;
		hb_row_set_int(j->run, "total", j->written);
		rc = c->store->ops->update(c->store, j->run, e);
	}
	return rc;
}

/* --all: the records the macro applies to, a page at a time. */
static hb_err take_id(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	run_job *j = ud;
	j->cursor = hb_row_id(row);
	if (row->kind->id == HB_K_PARTICIPATION)
		j->ids[j->n++] = hb_row_int(row, "user_id");
	else
		j->ids[j->n++] = hb_row_id(row);
	return HB_OK;
}

static hb_err next_page(hb_ctx *c, run_job *j, hb_error *e)
{
	j->n = 0;
	int64_t project = hb_row_int(j->macro, "project_id");
	int64_t type = hb_row_int(j->macro, "feedback_type_id");
	hb_kind_id kid = j->plan->target == HB_TARGET_FEEDBACK ? HB_K_FEEDBACK
			 : project				 ? HB_K_PARTICIPATION
								 : HB_K_USER;
	const hb_kind *k = hb_kind_get(kid);
	hb_cond conds[2];
	size_t n = 0;
	if (kid == HB_K_PARTICIPATION) {
		conds[n++] = (hb_cond){hb_kind_col(k, "project_id"), hb_value_int(project)};
	} else {
		conds[n++] = (hb_cond){hb_kind_col(k, "community_id"), hb_value_int(c->community_id)};
		if (kid == HB_K_FEEDBACK && type)
			conds[n++] = (hb_cond){hb_kind_col(k, "type_id"), hb_value_int(type)};
		else if (kid == HB_K_FEEDBACK && project)
			conds[n++] = (hb_cond){hb_kind_col(k, "project_id"), hb_value_int(project)};
	}
	hb_list_opts lo = {conds, n, j->cursor, BATCH};
	return c->store->ops->list(c->store, k, &lo, take_id, j, e);
}

/* --filter: the matches arrive in batches while the store is idle. */
static hb_err filter_batch(void *ud, const int64_t *ids, size_t n, hb_error *e)
{
	hb_ctx *c = ((void **)ud)[0];
	run_job *j = ((void **)ud)[1];
	j->n = n;
	memcpy(j->ids, ids, n * sizeof *ids);
	hb_err rc = hb_tx(c, write_batch, j, e);
	if (!rc && j->progress)
		j->progress(j->ud, j->written);
	return rc;
}

/* The filter's text, narrowed to the macro's feedback type when it has one. */
static hb_err filter_text(hb_ctx *c, const hb_row *macro, const char *filter, char **out,
			  hb_error *e)
{
	int64_t type = hb_row_int(macro, "feedback_type_id");
	if (!type) {
		*out = hb_strdup(filter);
		return HB_OK;
	}
	hb_row *t = hb_row_new(hb_kind_get(HB_K_FEEDBACK_TYPE));
	hb_cond id = {0, hb_value_int(type)};
	hb_err rc = c->store->ops->find(c->store, t->kind, &id, 1, t, e);
	if (!rc) {
		size_t n = strlen(filter) + 128;
		*out = hb_calloc(1, n);
		snprintf(*out, n, "(%s) and feedback.type = \"%s\"", filter, hb_row_str(t, "key"));
	}
	hb_row_free(&t);
	return rc;
}

static hb_err create_run(hb_ctx *c, void *ud, hb_error *e)
{
	run_job *j = ud;
	return c->store->ops->insert(c->store, j->run, e);
}

static hb_err set_status(hb_ctx *c, void *ud, hb_error *e)
{
	run_job *j = ud;
	hb_err rc = c->store->ops->update(c->store, j->run, e);
	return rc ? rc : hb_run_settle(c, hb_row_id(j->run), e);
}

hb_err hb_run_start(hb_ctx *c, const hb_row *macro, const hb_selection *sel,
		    hb_run_progress_fn progress, void *ud, hb_row **run_out, hb_error *e)
{
	if (hb_row_int(macro, "enabled") == 0)
		return hb_fail(e, HB_ERR_CONFLICT, "macro", "macro '%s' is disabled",
			       hb_row_str(macro, "key"));
	run_job *j = hb_calloc(1, sizeof *j);
	j->macro = macro;
	j->sel = sel;
	j->progress = progress;
	j->ud = ud;
	hb_plan_opts po = {.timeout_ms = 15000};
	hb_schedule_default(&po.schedule);
	hb_err rc = hb_plan_load(c, hb_row_id(macro), &po, &j->plan, e);
	if (!rc && hb_plan_next_webhook(j->plan, 0))
		rc = hb_integrations_check(c, e);
	hb_filter *filter = NULL;
	if (!rc && sel->filter) { /* a bad filter is refused before the run exists */
		char *text = NULL;
		rc = filter_text(c, macro, sel->filter, &text, e);
		if (!rc)
			rc = hb_filter_compile(c, j->plan->target, hb_row_int(macro, "project_id"), text,
					       strlen(text), &filter, e);
		free(text);
	}
	if (rc)
		goto out;
	unsigned char rnd[6];
	char token[16];
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		rc = hb_fail(e, HB_ERR_INTERNAL, "", "the random generator failed");
		goto out;
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	int64_t now = hb_time_now();
	j->run = hb_row_new(hb_kind_get(HB_K_RUN));
	hb_row_set_int(j->run, "community_id", c->community_id);
	hb_row_set_int(j->run, "macro_id", hb_row_id(macro));
	hb_row_set_str(j->run, "token", token);
	hb_row_set_str(j->run, "started_by", c->actor ? c->actor : "cli");
	hb_row_set_str(j->run, "selection", sel->describe ? sel->describe : "");
	hb_row_set_str(j->run, "status", "creating");
	hb_row_set_int(j->run, "total", 0);
	hb_row_set_time(j->run, "created_at", now);
	rc = hb_tx(c, create_run, j, e);
	if (!rc) { /* native actions before the first webhook see run.* too */
		hb_tagctx_set_run(j->plan->tags, j->plan->macro, j->run);
		j->plan->run_id = hb_row_id(j->run);
	}
	if (!rc && filter) {
		void *ud2[] = {c, j};
		rc = hb_filter_each_batch(c, filter, BATCH, filter_batch, ud2, e);
	}
	for (size_t at = 0; !rc && !filter;) {
		if (sel->all) {
			rc = next_page(c, j, e);
		} else {
			j->n = sel->nids - at < BATCH ? sel->nids - at : BATCH;
			memcpy(j->ids, sel->ids + at, j->n * sizeof *j->ids);
			at += j->n;
		}
		if (rc || j->n == 0)
			break;
		rc = hb_tx(c, write_batch, j, e);
		if (!rc && progress)
			progress(ud, j->written);
	}
	if (!rc) {
		hb_row_set_str(j->run, "status", "running");
		rc = hb_tx(c, set_status, j, e);
	}
	if (!rc && run_out) {
		*run_out = hb_row_new(j->run->kind);
		hb_cond id = {0, hb_value_int(hb_row_id(j->run))};
		rc = c->store->ops->find(c->store, j->run->kind, &id, 1, *run_out, e);
	}
out:
	hb_filter_free(&filter);
	hb_plan_free(&j->plan);
	hb_row_free(&j->run);
	free(j);
	return rc;
}

hb_err hb_run_counts_get(hb_ctx *c, int64_t run_id, hb_run_counts *out, hb_error *e)
{
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	static const char *const names[] = {"waiting", "pending", "sending", "succeeded", "failed",
					    "skipped"};
	int64_t *slots[] = {&out->waiting, &out->pending, &out->sending, &out->succeeded,
			    &out->failed, &out->skipped};
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < 6; i++) {
		hb_cond conds[] = {{hb_kind_col(k, "run_id"), hb_value_int(run_id)},
				   {hb_kind_col(k, "status"), hb_value_str(names[i])}};
		hb_err rc = c->store->ops->count(c->store, k, conds, 2, slots[i], e);
		if (rc)
			return rc;
		out->total += *slots[i];
	}
	return HB_OK;
}

json_t *hb_run_json(hb_ctx *c, const hb_row *run)
{
	json_t *o = hb_record_json(c, run);
	hb_run_counts n;
	hb_error e;
	if (hb_run_counts_get(c, hb_row_id(run), &n, &e) == HB_OK)
		json_object_set_new(o, "deliveries",
				    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "total",
					      (json_int_t)n.total, "waiting", (json_int_t)n.waiting,
					      "pending", (json_int_t)n.pending, "sending",
					      (json_int_t)n.sending, "succeeded",
					      (json_int_t)n.succeeded, "failed", (json_int_t)n.failed,
					      "skipped", (json_int_t)n.skipped));
	return o;
}
