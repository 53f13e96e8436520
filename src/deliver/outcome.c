/*
 * outcome.c - writing attempt outcomes; see outcome.h.
 */
#include "deliver/outcome.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"

void hb_outcome_clear(hb_outcome *o)
{
	free(o->error);
	hb_buf_free(&o->request);
	hb_buf_free(&o->response);
	hb_buf_free(&o->capture);
	for (size_t i = 0; i < o->nvalues; i++)
		hb_coerced_clear(&o->values[i].v);
	free(o->values);
	hb_row_free(&o->row);
	memset(o, 0, sizeof *o);
}

/* The columns an outcome writes, by index: found once, as a lookup by name scans the kind's
   columns and an outcome sets about twenty. */
static struct {
	int status, attempts, due_at, last_status, last_error, updated_at; /* of a delivery */
	int delivery_id, number, started_at, duration_ms, request, http_status, response,
	    error_class, error, capture; /* of an attempt */
} col;

static void find_cols(void)
{
	const hb_kind *d = hb_kind_get(HB_K_DELIVERY), *a = hb_kind_get(HB_K_ATTEMPT);
	col.status = hb_kind_col(d, "status");
	col.attempts = hb_kind_col(d, "attempts");
	col.due_at = hb_kind_col(d, "due_at");
	col.last_status = hb_kind_col(d, "last_status");
	col.last_error = hb_kind_col(d, "last_error");
	col.updated_at = hb_kind_col(d, "updated_at");
	col.delivery_id = hb_kind_col(a, "delivery_id");
	col.number = hb_kind_col(a, "number");
	col.started_at = hb_kind_col(a, "started_at");
	col.duration_ms = hb_kind_col(a, "duration_ms");
	col.request = hb_kind_col(a, "request");
	col.http_status = hb_kind_col(a, "status");
	col.response = hb_kind_col(a, "response");
	col.error_class = hb_kind_col(a, "error_class");
	col.error = hb_kind_col(a, "error");
	col.capture = hb_kind_col(a, "capture");
}

static void have_cols(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, find_cols);
}

/* A JSON text log into column i, taken from log (left empty). */
static void take_text(hb_row *r, int i, hb_buf *log)
{
	if (!log->len)
		return;
	size_t n = log->len;
	hb_row_take(r, i, hb_buf_steal(log), n);
}

static hb_target plan_target(const hb_outcome *o)
{
	return o->plan ? o->plan->target : HB_TARGET_USERS;
}

/* What a batch of outcomes writes together, after each outcome's own writes: the attempts and
   the captured values, many per statement (a statement costs about as much as two rows).
   Values are written before any native action runs, as it may read them, and at the end. */
typedef struct batch {
	hb_ctx *c;
	hb_row **attempts;
	size_t nattempts;
	hb_xvalue *values;
	hb_target *targets; /* of each value */
	size_t nvalues, cap_values;
	char (*sources)[9 + HB_DECIMAL_MAX]; /* "delivery:<id>", by outcome */
} batch;

static void gather_attempt(batch *b, hb_outcome *o)
{
	hb_row *a = hb_row_new(hb_kind_get(HB_K_ATTEMPT));
	hb_row_set(a, col.delivery_id, hb_value_int(o->delivery_id));
	hb_row_set(a, col.number, hb_value_int(o->attempt));
	hb_row_set(a, col.started_at, hb_value_time(o->started_at));
	hb_row_set(a, col.duration_ms, hb_value_int(o->duration_ms));
	if (o->request.len)
		take_text(a, col.request, &o->request);
	else
		hb_row_set(a, col.request, hb_value_str("{}"));
	if (o->http_status)
		hb_row_set(a, col.http_status, hb_value_int(o->http_status));
	take_text(a, col.response, &o->response);
	if (o->error_class)
		hb_row_set(a, col.error_class, hb_value_str(o->error_class));
	if (o->error)
		hb_row_set(a, col.error, hb_value_str(o->error));
	take_text(a, col.capture, &o->capture);
	b->attempts[b->nattempts++] = a;
}

/* Outcome number i's captured values, to be written with the batch's. */
static void gather_values(batch *b, const hb_outcome *o, size_t i)
{
	char *source = b->sources[i];
	memcpy(source, "delivery:", 9);
	hb_text_decimal(source + 9, (long long)o->delivery_id);
	if (b->nvalues + o->nvalues > b->cap_values) {
		b->cap_values = 2 * (b->nvalues + o->nvalues);
		b->values = hb_realloc(b->values, b->cap_values * sizeof *b->values);
		b->targets = hb_realloc(b->targets, b->cap_values * sizeof *b->targets);
	}
	int64_t now = hb_time_now();
	for (size_t v = 0; v < o->nvalues; v++) {
		hb_xvalue *xv = &b->values[b->nvalues];
		*xv = (hb_xvalue){o->values[v].field_id, o->record_id, o->values[v].v.value, now, source};
		if (o->values[v].v.clear)
			xv->value = hb_value_null();
		b->targets[b->nvalues++] = plan_target(o);
	}
}

/* The values gathered so far, a run of one target at a time. A value whose record or field
   was deleted while the request was out has nothing to be stored on: it is left out. */
static hb_err flush_values(batch *b, hb_error *e)
{
	hb_store *s = b->c->store;
	hb_err rc = HB_OK;
	for (size_t i = 0, j; i < b->nvalues && !rc; i = j) {
		for (j = i + 1; j < b->nvalues && b->targets[j] == b->targets[i];)
			j++;
		rc = s->ops->xvalue_set_many(s, b->targets[i], b->values + i, j - i, e);
	}
	b->nvalues = 0;
	return rc;
}

/* The native actions after the webhook, as one step of the transaction: when one fails (a
   status the ticket type no longer has, a record deleted meanwhile) its writes are undone, the
   delivery fails with the reason, and the rest of the batch is recorded as usual. */
static hb_err run_native(hb_ctx *c, hb_outcome *o, bool *failed, hb_error *e)
{
	hb_store *s = c->store;
	hb_err rc = s->ops->step_begin(s, e);
	if (rc)
		return rc;
	hb_error why = {0};
	*failed = hb_native_run(o->plan->ctx, o->plan, o->position, o->record_id, &why) != HB_OK;
	if (*failed) {
		o->final = HB_FINAL_FAILED;
		o->error_class = "action";
		free(o->error);
		o->error = hb_strdup(why.message);
	}
	return s->ops->step_end(s, !*failed, e);
}

/* The record's later webhooks in this run: the next one becomes due, or all are skipped. */
static hb_err follow_on(hb_ctx *c, const hb_outcome *o, bool succeeded, hb_tally *t, hb_error *e)
{
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	hb_cond conds[] = {{hb_kind_col(k, "run_id"), hb_value_int(o->run_id)},
			   {hb_kind_col(k, "record_id"), hb_value_int(o->record_id)},
			   {hb_kind_col(k, "status"), hb_value_str("waiting")}};
	hb_row *next = hb_row_new(k);
	hb_err rc;
	while ((rc = c->store->ops->find(c->store, k, conds, 3, next, e)) == HB_OK) {
		hb_row_set_str(next, "status", succeeded ? "pending" : "skipped");
		hb_row_set_int(next, "due_at", succeeded ? hb_time_now() * 1000 : 0);
		hb_row_set_time(next, "updated_at", hb_time_now());
		if (!succeeded)
			hb_row_set_str(next, "last_error", "an earlier webhook of this record failed");
		rc = c->store->ops->update(c->store, next, e);
		if (!rc)
			hb_tally_move(t, o->run_id, HB_DS_WAITING,
				      succeeded ? HB_DS_PENDING : HB_DS_SKIPPED);
		if (rc || succeeded)
			break;
	}
	hb_row_free(&next);
	return rc == HB_ERR_NOT_FOUND ? HB_OK : rc;
}

/* The state an outcome leaves its delivery in. */
static hb_dstate final_state(const hb_outcome *o)
{
	switch (o->final) {
	case HB_FINAL_SUCCEEDED:
		return HB_DS_SUCCEEDED;
	case HB_FINAL_RETRY:
		return HB_DS_PENDING;
	default:
		return HB_DS_FAILED;
	}
}

/* The columns of a delivery an outcome writes (set_outcome_cols sets them). */
#define OUTCOME_NCOLS 6
static void outcome_cols(int cols[OUTCOME_NCOLS])
{
	const int all[OUTCOME_NCOLS] = {col.status,      col.attempts,   col.due_at,
					col.last_status, col.last_error, col.updated_at};
	memcpy(cols, all, sizeof all);
}

/* The columns of a delivery an outcome writes, in row d. */
static void set_outcome_cols(hb_row *d, const hb_outcome *o)
{
	hb_row_set(d, col.status, hb_value_str(hb_dstate_names[final_state(o)]));
	hb_row_set(d, col.attempts, hb_value_int(o->attempt));
	hb_row_set(d, col.due_at, hb_value_int(o->final == HB_FINAL_RETRY ? o->due_at : 0));
	hb_row_set(d, col.last_status, o->http_status ? hb_value_int(o->http_status) : hb_value_null());
	hb_row_set(d, col.last_error, o->error ? hb_value_str(o->error) : hb_value_null());
	hb_row_set(d, col.updated_at, hb_value_time(hb_time_now()));
}

/* The delivery's row as the outcome leaves it, if it is still in state from (HB_ERR_NOT_FOUND
   if not), counted in t: only the columns an outcome changes, so the run, record and position
   indexes stay put. */
static hb_err write_row(hb_ctx *c, const hb_outcome *o, hb_row *d, hb_dstate from, hb_tally *t,
			hb_error *e)
{
	hb_dstate to = final_state(o);
	set_outcome_cols(d, o);
	int cols[OUTCOME_NCOLS];
	outcome_cols(cols);
	hb_cond expect = {col.status, hb_value_str(hb_dstate_names[from])};
	hb_err rc = c->store->ops->update_cols(c->store, d, cols, OUTCOME_NCOLS, &expect, e);
	if (!rc)
		hb_tally_move(t, o->run_id, from, to);
	return rc;
}

/* Outcomes that leave their deliveries alike: the same state, attempt, answer status and error
   (a batch answered 200, or refused for one reason). Retries are each due at their own time. */
static int cmp_alike(const void *pa, const void *pb)
{
	const hb_outcome *a = *(const hb_outcome *const *)pa, *b = *(const hb_outcome *const *)pb;
	int d = (int)final_state(a) - (int)final_state(b);
	if (!d)
		d = (a->attempt > b->attempt) - (a->attempt < b->attempt);
	if (!d)
		d = (a->http_status > b->http_status) - (a->http_status < b->http_status);
	if (!d)
		d = a->error && b->error ? strcmp(a->error, b->error) : !!a->error - !!b->error;
	return d;
}

/* Each group of two or more outcomes that leave their deliveries alike is written with a few
   UPDATEs of many rows (update_cols_many) and counted in t; marked[i] says outcome i is. A
   group where one delivery is no longer being sent (another worker took it over and recorded
   it first, or its run was deleted) is not written here but left to write_row, one at a time. */
static hb_err write_alike(hb_ctx *c, hb_outcome *o, size_t n, bool *marked, hb_tally *t,
			  hb_error *e)
{
	hb_store *s = c->store;
	hb_outcome **by = hb_calloc(n ? n : 1, sizeof *by);
	int64_t *ids = hb_calloc(n ? n : 1, sizeof *ids);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (o[i].final != HB_FINAL_RETRY)
			by[m++] = &o[i];
	qsort(by, m, sizeof *by, cmp_alike);
	hb_row *d = hb_row_new(hb_kind_get(HB_K_DELIVERY));
	hb_err rc = HB_OK;
	for (size_t i = 0, j; i < m && !rc; i = j) {
		for (j = i + 1; j < m && cmp_alike(&by[i], &by[j]) == 0;)
			j++;
		if (j - i < 2)
			continue;
		for (size_t k = i; k < j; k++)
			ids[k - i] = by[k]->delivery_id;
		hb_dstate to = final_state(by[i]);
		int cols[OUTCOME_NCOLS];
		outcome_cols(cols);
		set_outcome_cols(d, by[i]);
		hb_cond expect = {col.status, hb_value_str(hb_dstate_names[HB_DS_SENDING])};
		bool all = false;
		rc = s->ops->update_cols_many(s, d, cols, OUTCOME_NCOLS, &expect, ids, j - i, &all, e);
		for (size_t k = i; k < j && all && !rc; k++) {
			marked[by[k] - o] = true;
			hb_tally_move(t, by[k]->run_id, HB_DS_SENDING, to);
		}
	}
	hb_row_free(&d);
	free(ids);
	free(by);
	return rc;
}

static hb_err write_one(hb_ctx *c, batch *b, size_t i, hb_outcome *o, bool marked, hb_tally *t,
			hb_error *e)
{
	const hb_kind *k = hb_kind_get(HB_K_DELIVERY);
	hb_row *d = o->row;
	o->row = NULL;
	hb_err rc = HB_OK;
	if (!d) {
		d = hb_row_new(k);
		hb_cond id = {0, hb_value_int(o->delivery_id)};
		rc = c->store->ops->find(c->store, k, &id, 1, d, e);
	}
	if (!rc && !marked)
		rc = write_row(c, o, d, HB_DS_SENDING, t, e);
	/* its run was deleted meanwhile, or it is no longer being sent (another worker took it
	   over when its lease ran out, and recorded it first): nothing to record */
	if (rc == HB_ERR_NOT_FOUND) {
		hb_row_free(&d);
		return HB_OK;
	}
	if (!rc && o->final == HB_FINAL_SUCCEEDED)
		gather_values(b, o, i);
	bool native_failed = false;
	if (!rc && o->final == HB_FINAL_SUCCEEDED && o->plan &&
	    hb_plan_natives_after(o->plan, o->position)) {
		rc = flush_values(b, e); /* the actions may read what was captured */
		if (!rc)
			rc = run_native(c, o, &native_failed, e);
	}
	if (!rc && native_failed)
		rc = write_row(c, o, d, HB_DS_SUCCEEDED, t, e);
	hb_row_free(&d);
	if (!rc)
		gather_attempt(b, o);
	/* later webhooks of the record wait on this one (none when the plan has no later one) */
	if (!rc && o->final != HB_FINAL_RETRY && (!o->plan || hb_plan_next_webhook(o->plan, o->position)))
		rc = follow_on(c, o, o->final == HB_FINAL_SUCCEEDED, t, e);
	return rc;
}

hb_err hb_run_settle(hb_ctx *c, int64_t run_id, hb_error *e)
{
	bool open_left = false;
	hb_err rc = c->store->ops->delivery_open(c->store, run_id, &open_left, e);
	if (rc || open_left)
		return rc;
	const hb_kind *rk = hb_kind_get(HB_K_RUN);
	hb_row *run = hb_row_new(rk);
	hb_cond id = {0, hb_value_int(run_id)};
	rc = c->store->ops->find(c->store, rk, &id, 1, run, e);
	if (!rc && strcmp(hb_row_str(run, "status"), "running") == 0) {
		hb_row_set_str(run, "status", "finished");
		hb_row_set_time(run, "finished_at", hb_time_now());
		rc = c->store->ops->update(c->store, run, e);
	}
	hb_row_free(&run);
	return rc == HB_ERR_NOT_FOUND ? HB_OK : rc;
}

hb_err hb_outcomes_write(hb_ctx *c, hb_outcome *o, size_t n, hb_error *e)
{
	have_cols();
	int64_t last_run = 0;
	hb_tally t = {0};
	batch b = {c, hb_calloc(n ? n : 1, sizeof *b.attempts), 0, NULL, NULL, 0, 0,
		   hb_calloc(n ? n : 1, sizeof *b.sources)};
	bool *marked = hb_calloc(n ? n : 1, sizeof *marked);
	hb_err rc = write_alike(c, o, n, marked, &t, e);
	if (rc)
		hb_error_prefix(e, "recording deliveries");
	for (size_t i = 0; i < n && !rc; i++) {
		rc = write_one(c, &b, i, &o[i], marked[i], &t, e);
		if (rc)
			hb_error_prefix(e, "recording delivery %lld", (long long)o[i].delivery_id);
	}
	if (!rc)
		rc = flush_values(&b, e);
	if (!rc)
		rc = c->store->ops->insert_many(c->store, b.attempts, b.nattempts, e);
	if (!rc) /* before settling: a run is settled by its counts */
		rc = hb_tally_write(&t, c->store, e);
	hb_tally_free(&t);
	free(marked);
	for (size_t i = 0; i < b.nattempts; i++)
		hb_row_free(&b.attempts[i]);
	free(b.attempts);
	free(b.values);
	free(b.targets);
	free(b.sources);
	if (rc)
		return rc;
	/* settle each run touched once (outcomes of one run tend to come together) */
	for (size_t i = 0; i < n; i++) {
		if (o[i].final == HB_FINAL_RETRY || o[i].run_id == last_run)
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = o[j].run_id == o[i].run_id && o[j].final != HB_FINAL_RETRY;
		last_run = o[i].run_id;
		if (seen)
			continue;
		rc = hb_run_settle(c, o[i].run_id, e);
		if (rc)
			return rc;
	}
	return HB_OK;
}
