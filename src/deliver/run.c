/*
 * run.c - see run.h.
 */
#include "deliver/run.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "deliver/outcome.h"
#include "query/filter.h"

#define BATCH 1000

void hb_delivery_key(const char *token, int64_t id, char *out, size_t n)
{
	/* hbd_<token>_<id>, joined by hand: one per request */
	char digits[HB_DECIMAL_MAX];
	size_t tl = strlen(token), dl = hb_text_decimal(digits, (long long)id);
	if (n < 4 + tl + 1 + dl + 1) { /* too small: cut, as snprintf would */
		snprintf(out, n, "hbd_%s_%s", token, digits);
		return;
	}
	memcpy(out, "hbd_", 4);
	memcpy(out + 4, token, tl);
	out[4 + tl] = '_';
	memcpy(out + 5 + tl, digits, dl + 1);
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
	hb_plan *plan;
	hb_row *run;
	hb_run_progress_fn progress;
	void *ud;
	/* the selection: ids, every record, or a filter's matches */
	const int64_t *sel_ids;
	size_t sel_n;
	bool all;
	hb_filter *filter;
	int64_t ids[BATCH]; /* the batch being written */
	size_t n;
	/* how far creation got: ids taken (a list), last row listed (all) or last record (filter) */
	int64_t cursor;
	int64_t lease; /* the lease this creator holds (Unix ms) */
	int64_t written;
} run_job;

/* Whether this creator still holds the run: another worker takes over a lease that ran out. */
static hb_err check_lease(hb_ctx *c, const run_job *j, hb_error *e)
{
	hb_row *now = hb_row_new(j->run->kind);
	hb_cond id = {0, hb_value_int(hb_row_id(j->run))};
	hb_err rc = c->store->ops->find(c->store, now->kind, &id, 1, now, e);
	if (!rc && (strcmp(hb_row_str(now, "status"), "creating") != 0 ||
		    hb_row_int(now, "lease_until") != j->lease))
		rc = hb_fail(e, HB_ERR_CONFLICT, "run",
			     "run %lld is no longer being created by this process (another worker "
			     "took it over after its lease ran out)", (long long)hb_row_id(j->run));
	hb_row_free(&now);
	return rc;
}

static hb_err write_batch(hb_ctx *c, void *ud, hb_error *e)
{
	run_job *j = ud;
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	hb_err rc = check_lease(c, j, e);
	if (rc)
		return rc;
	hb_row *d = hb_row_new(k);
	int64_t now = hb_time_now();
	int first = hb_plan_next_webhook(j->plan, 0);
	hb_tally added = {0};
	for (size_t i = 0; i < j->n && !rc; i++) {
		rc = hb_native_run(c, j->plan, 0, j->ids[i], e);
		for (int pos = first; pos && !rc; pos = hb_plan_next_webhook(j->plan, pos)) {
			hb_dstate state = pos == first ? HB_DS_PENDING : HB_DS_WAITING;
			hb_row_clear(d);
			hb_row_set_int(d, "run_id", hb_row_id(j->run));
			hb_row_set_int(d, "record_id", j->ids[i]);
			hb_row_set_int(d, "position", pos);
			hb_row_set_str(d, "status", hb_dstate_names[state]);
			hb_row_set_int(d, "attempts", 0);
			hb_row_set_int(d, "due_at", state == HB_DS_PENDING ? now * 1000 : 0);
			hb_row_set_time(d, "created_at", now);
			hb_row_set_time(d, "updated_at", now);
			rc = c->store->ops->insert(c->store, d, e);
			hb_tally_move(&added, hb_row_id(j->run), HB_DS_COUNT, state);
		}
		if (rc)
			hb_error_prefix(e, "record %lld", (long long)j->ids[i]);
	}
	hb_row_free(&d);
	if (!rc)
		rc = hb_tally_write(&added, c->store, e);
	hb_tally_free(&added);
	if (!rc) { /* the batch, its counts, how far it got and a renewed lease commit together */
		j->written += (int64_t)j->n;
		j->lease = hb_time_now_ms() + HB_RUN_CREATE_LEASE_MS;
		hb_row_set_int(j->run, "total", j->written);
		hb_row_set_int(j->run, "cursor", j->cursor);
		hb_row_set_int(j->run, "lease_until", j->lease);
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

static hb_err write_and_report(hb_ctx *c, run_job *j, hb_error *e)
{
	hb_err rc = hb_tx(c, write_batch, j, e);
	if (!rc && j->progress)
		j->progress(j->ud, j->written);
	return rc;
}

/* --filter: the matches arrive in batches, in id order; a resumed creation skips those it
   already wrote. */
static hb_err filter_batch(void *ud, const int64_t *ids, size_t n, hb_error *e)
{
	hb_ctx *c = ((void **)ud)[0];
	run_job *j = ((void **)ud)[1];
	j->n = 0;
	for (size_t i = 0; i < n; i++)
		if (ids[i] > j->cursor)
			j->ids[j->n++] = ids[i];
	if (j->n == 0)
		return HB_OK;
	j->cursor = j->ids[j->n - 1];
	return write_and_report(c, j, e);
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

static hb_err set_running(hb_ctx *c, void *ud, hb_error *e)
{
	run_job *j = ud;
	hb_err rc = j->lease ? check_lease(c, j, e) : HB_OK;
	hb_row_set_str(j->run, "status", "running");
	hb_row_set_int(j->run, "lease_until", 0);
	if (!rc)
		rc = c->store->ops->update(c->store, j->run, e);
	return rc ? rc : hb_run_settle(c, hb_row_id(j->run), e);
}

/* Write the deliveries of the selection from j->cursor on, then let the run be sent. */
static hb_err create_deliveries(hb_ctx *c, run_job *j, hb_error *e)
{
	/* native actions before the first webhook see run.* too */
	hb_tagctx_set_run(j->plan->tags, j->plan->macro, j->run);
	j->plan->run_id = hb_row_id(j->run);
	hb_err rc = HB_OK;
	if (j->filter) {
		void *ud2[] = {c, j};
		rc = hb_filter_each_batch(c, j->filter, BATCH, filter_batch, ud2, e);
	}
	while (!rc && !j->filter) {
		if (j->all) {
			rc = next_page(c, j, e);
		} else {
			size_t at = (size_t)j->cursor;
			j->n = j->sel_n - at < BATCH ? j->sel_n - at : BATCH;
			memcpy(j->ids, j->sel_ids + at, j->n * sizeof *j->ids);
			j->cursor = (int64_t)(at + j->n);
		}
		if (rc || j->n == 0)
			break;
		rc = write_and_report(c, j, e);
	}
	return rc ? rc : hb_tx(c, set_running, j, e);
}

/* How the records were chosen, so that another process can carry the creation on. */
static json_t *selection_spec(const run_job *j, const char *filter)
{
	if (filter)
		return json_pack("{s:s}", "filter", filter);
	if (j->all)
		return json_pack("{s:b}", "all", 1);
	json_t *ids = json_array();
	for (size_t i = 0; i < j->sel_n; i++)
		json_array_append_new(ids, json_integer(j->sel_ids[i]));
	return json_pack("{s:o}", "ids", ids);
}

static void job_free(run_job *j)
{
	hb_filter_free(&j->filter);
	hb_plan_free(&j->plan);
	hb_row_free(&j->run);
	free(j);
}

hb_err hb_run_start(hb_ctx *c, const hb_row *macro, const hb_selection *sel,
		    hb_run_progress_fn progress, void *ud, hb_row **run_out, hb_error *e)
{
	if (hb_row_int(macro, "enabled") == 0)
		return hb_fail(e, HB_ERR_CONFLICT, "macro", "macro '%s' is disabled",
			       hb_row_str(macro, "key"));
	run_job *j = hb_calloc(1, sizeof *j);
	j->macro = macro;
	j->progress = progress;
	j->ud = ud;
	j->sel_ids = sel->ids;
	j->sel_n = sel->nids;
	j->all = sel->all;
	hb_plan_opts po = {.timeout_ms = 15000};
	hb_schedule_default(&po.schedule);
	hb_err rc = hb_plan_load(c, hb_row_id(macro), &po, &j->plan, e);
	if (!rc && hb_plan_next_webhook(j->plan, 0))
		rc = hb_integrations_check(c, e);
	char *text = NULL;
	if (!rc && sel->filter) { /* a bad filter is refused before the run exists */
		rc = filter_text(c, macro, sel->filter, &text, e);
		if (!rc)
			rc = hb_filter_compile(c, j->plan->target, hb_row_int(macro, "project_id"), text,
					       strlen(text), &j->filter, e);
	}
	unsigned char rnd[6];
	char token[16];
	if (!rc && RAND_bytes(rnd, sizeof rnd) != 1)
		rc = hb_fail(e, HB_ERR_INTERNAL, "", "the random generator failed");
	if (rc) {
		free(text);
		job_free(j);
		return rc;
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	j->run = hb_row_new(hb_kind_get(HB_K_RUN));
	hb_row_set_int(j->run, "community_id", c->community_id);
	hb_row_set_int(j->run, "macro_id", hb_row_id(macro));
	hb_row_set_str(j->run, "token", token);
	hb_row_set_str(j->run, "started_by", c->actor ? c->actor : "cli");
	hb_row_set_str(j->run, "selection", sel->describe ? sel->describe : "");
	hb_row_set_str(j->run, "status", "creating");
	hb_row_set_int(j->run, "total", 0);
	hb_row_set_time(j->run, "created_at", hb_time_now());
	json_t *spec = selection_spec(j, text);
	char *spec_text = hb_json_dump(spec, JSON_COMPACT);
	hb_row_set_str(j->run, "spec", spec_text);
	free(spec_text);
	json_decref(spec);
	free(text);
	hb_row_set_int(j->run, "cursor", 0);
	j->lease = hb_time_now_ms() + HB_RUN_CREATE_LEASE_MS;
	hb_row_set_int(j->run, "lease_until", j->lease);
	rc = hb_tx(c, create_run, j, e);
	if (!rc)
		rc = create_deliveries(c, j, e);
	if (!rc && run_out) {
		*run_out = hb_row_new(j->run->kind);
		hb_cond id = {0, hb_value_int(hb_row_id(j->run))};
		rc = c->store->ops->find(c->store, j->run->kind, &id, 1, *run_out, e);
	}
	job_free(j);
	return rc;
}

/* ---- creations whose creator died */

/* Take over run (a row of HB_K_RUN whose lease ran out) if nobody did meanwhile. */
static hb_err take_over(hb_ctx *c, void *ud, hb_error *e)
{
	run_job *j = ud;
	hb_err rc = check_lease(c, j, e); /* j->lease is the stale lease seen */
	if (rc)
		return rc;
	j->lease = hb_time_now_ms() + HB_RUN_CREATE_LEASE_MS;
	hb_row_set_int(j->run, "lease_until", j->lease);
	return c->store->ops->update(c->store, j->run, e);
}

/* Parse spec into the job's selection; ids are owned by *ids. */
static hb_err read_spec(hb_ctx *c, run_job *j, const char *spec, int64_t **ids, hb_error *e)
{
	json_t *o = spec ? json_loads(spec, 0, NULL) : NULL;
	json_t *list = json_object_get(o, "ids");
	const char *filter = json_string_value(json_object_get(o, "filter"));
	hb_err rc = HB_OK;
	if (json_is_true(json_object_get(o, "all"))) {
		j->all = true;
	} else if (filter) {
		rc = hb_filter_compile(c, j->plan->target, hb_row_int(j->macro, "project_id"), filter,
				       strlen(filter), &j->filter, e);
	} else if (json_is_array(list)) {
		j->sel_n = json_array_size(list);
		*ids = hb_calloc(j->sel_n + 1, sizeof **ids);
		for (size_t i = 0; i < j->sel_n; i++)
			(*ids)[i] = json_integer_value(json_array_get(list, i));
		j->sel_ids = *ids;
	} else {
		rc = hb_fail(e, HB_ERR_INVALID, "run", "the run does not say how its records were chosen");
	}
	json_decref(o);
	return rc;
}

/* Carry on the creation of run (taken over), in the context of its community. */
static hb_err resume_one(hb_ctx *c, hb_row *run, hb_error *e)
{
	run_job *j = hb_calloc(1, sizeof *j);
	j->run = run;
	j->lease = hb_row_int(run, "lease_until");
	j->cursor = hb_row_int(run, "cursor");
	j->written = hb_row_int(run, "total");
	hb_row *macro = hb_row_new(hb_kind_get(HB_K_MACRO));
	hb_cond id = {0, hb_value_int(hb_row_int(run, "macro_id"))};
	int64_t *ids = NULL;
	hb_err rc = hb_tx(c, take_over, j, e);
	if (!rc)
		rc = c->store->ops->find(c->store, macro->kind, &id, 1, macro, e);
	j->macro = macro;
	hb_plan_opts po = {.timeout_ms = 15000};
	hb_schedule_default(&po.schedule);
	if (!rc)
		rc = hb_plan_load(c, hb_row_id(macro), &po, &j->plan, e);
	if (!rc)
		rc = read_spec(c, j, hb_row_str(run, "spec"), &ids, e);
	if (!rc)
		rc = create_deliveries(c, j, e);
	if (rc && rc != HB_ERR_CONFLICT) {
		/* it cannot be carried on (its filter no longer compiles, it predates resuming, a
		   batch keeps failing): what was written is sent, and the run says it stopped short
		   rather than being tried again and again */
		char note[600];
		snprintf(note, sizeof note, "%s (creation stopped after %lld records: %s)",
			 hb_row_str(run, "selection"), (long long)j->written, e->message);
		hb_row_set_str(run, "selection", note);
		rc = hb_tx(c, set_running, j, e);
	}
	j->run = NULL; /* the caller's */
	job_free(j);
	hb_row_free(&macro);
	free(ids);
	return rc;
}

typedef struct stale_scan {
	hb_row **rows;
	size_t n;
} stale_scan;

static hb_err keep_run(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	stale_scan *s = ud;
	s->rows = hb_realloc(s->rows, (s->n + 1) * sizeof *s->rows);
	s->rows[s->n] = hb_row_new(row->kind);
	hb_row_copy(s->rows[s->n++], row);
	return HB_OK;
}

hb_err hb_run_resume_stale(hb_ctx *c, hb_run_ctx_fn ctx_for, void *ud, size_t *creating,
			   hb_error *e)
{
	const hb_kind *k = hb_kind_get(HB_K_RUN);
	hb_cond cond = {hb_kind_col(k, "status"), hb_value_str("creating")};
	hb_list_opts lo = {&cond, 1, 0, 0};
	stale_scan s = {0};
	hb_err rc = c->store->ops->list(c->store, k, &lo, keep_run, &s, e);
	*creating = 0;
	for (size_t i = 0; i < s.n && !rc; i++) {
		if (hb_row_int(s.rows[i], "lease_until") > hb_time_now_ms()) {
			(*creating)++; /* its creator is alive */
			continue;
		}
		hb_ctx *rc_ctx = ctx_for(ud, hb_row_int(s.rows[i], "community_id"), e);
		rc = rc_ctx ? resume_one(rc_ctx, s.rows[i], e) : HB_ERR_NOT_FOUND;
		if (rc == HB_ERR_CONFLICT) /* another worker was quicker */
			rc = HB_OK;
		if (rc)
			hb_error_prefix(e, "carrying on the creation of run %lld",
					(long long)hb_row_id(s.rows[i]));
	}
	for (size_t i = 0; i < s.n; i++)
		hb_row_free(&s.rows[i]);
	free(s.rows);
	return rc;
}

static void add_count(void *ud, const char *status, int64_t n)
{
	hb_run_counts *c = ud;
	static const char *const names[] = {"waiting", "pending", "sending", "succeeded", "failed",
					    "skipped"};
	int64_t *slots[] = {&c->waiting, &c->pending, &c->sending, &c->succeeded, &c->failed,
			    &c->skipped};
	for (size_t i = 0; i < 6; i++)
		if (strcmp(status, names[i]) == 0)
			*slots[i] = n;
	c->total += n;
}

hb_err hb_run_counts_get(hb_ctx *c, int64_t run_id, hb_run_counts *out, hb_error *e)
{
	memset(out, 0, sizeof *out);
	return c->store->ops->delivery_counts(c->store, run_id, add_count, out, e);
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
