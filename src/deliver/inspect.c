/*
 * inspect.c - see inspect.h.
 */
#include "deliver/inspect.h"

#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"

static hb_err find_by_id(hb_ctx *c, hb_kind_id k, int64_t id, hb_row *out, hb_error *e)
{
	hb_cond cond = {0, hb_value_int(id)};
	return c->store->ops->find(c->store, hb_kind_get(k), &cond, 1, out, e);
}

hb_err hb_delivery_find(hb_ctx *c, int64_t id, hb_row **out, hb_error *e)
{
	*out = hb_row_new(hb_kind_get(HB_K_DELIVERY));
	hb_err rc = find_by_id(c, HB_K_DELIVERY, id, *out, e);
	hb_row *run = hb_row_new(hb_kind_get(HB_K_RUN));
	if (!rc && (find_by_id(c, HB_K_RUN, hb_row_int(*out, "run_id"), run, e) ||
		    hb_row_int(run, "community_id") != c->community_id))
		rc = HB_ERR_NOT_FOUND;
	hb_row_free(&run);
	if (rc == HB_ERR_NOT_FOUND)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "id", "no delivery %lld", (long long)id);
	if (rc)
		hb_row_free(out);
	return rc;
}

typedef struct attempts_job {
	hb_ctx *c;
	json_t *arr;
} attempts_job;

static hb_err add_attempt(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	attempts_job *j = ud;
	json_t *o = hb_record_json(j->c, row);
	json_object_del(o, "delivery");
	json_array_append_new(j->arr, o);
	return HB_OK;
}

json_t *hb_delivery_json(hb_ctx *c, const hb_row *d, bool with_attempts)
{
	json_t *o = hb_record_json(c, d);
	hb_row *run = hb_row_new(hb_kind_get(HB_K_RUN));
	hb_row *m = hb_row_new(hb_kind_get(HB_K_MACRO));
	hb_error e;
	if (find_by_id(c, HB_K_RUN, hb_row_int(d, "run_id"), run, &e) == HB_OK &&
	    find_by_id(c, HB_K_MACRO, hb_row_int(run, "macro_id"), m, &e) == HB_OK) {
		json_object_set_new(o, "macro", json_string(hb_row_str(m, "key")));
		bool fb = strcmp(hb_row_str(m, "target"), "feedback") == 0;
		hb_row *r = NULL;
		char name[24], num[64];
		snprintf(name, sizeof name, "%lld", (long long)hb_row_int(d, "record_id"));
		if (hb_record_find(c, fb ? HB_K_FEEDBACK : HB_K_USER, 0, name, &r, &e) == HB_OK) {
			if (fb && hb_feedback_number(c, r, num, sizeof num, &e) == HB_OK)
				json_object_set_new(o, "record", json_string(num));
			else if (!fb)
				json_object_set_new(o, "record", json_string(hb_row_str(r, "email")));
		}
		hb_row_free(&r);
	}
	hb_row_free(&m);
	hb_row_free(&run);
	int64_t due = hb_row_int(d, "due_at");
	char t[HB_TIME_STR_MAX];
	if (strcmp(hb_row_str(d, "status"), "pending") == 0 && due)
		json_object_set_new(o, "next_attempt_at", json_string(hb_time_format(due / 1000, t)));
	if (with_attempts) {
		attempts_job j = {c, json_array()};
		const hb_kind *k = hb_kind_get(HB_K_ATTEMPT);
		hb_cond cond = {hb_kind_col(k, "delivery_id"), hb_value_int(hb_row_id(d))};
		hb_list_opts lo = {.conds = &cond, .nconds = 1};
		if (c->store->ops->list(c->store, k, &lo, add_attempt, &j, &e) == HB_OK)
			json_object_set_new(o, "attempts_log", j.arr);
		else
			json_decref(j.arr);
	}
	return o;
}

hb_err hb_delivery_requeue(hb_ctx *c, hb_row *d, hb_error *e)
{
	hb_dstate was = hb_dstate_of(hb_row_str(d, "status"));
	if (was != HB_DS_FAILED && was != HB_DS_SKIPPED)
		return hb_fail(e, HB_ERR_CONFLICT, "id", "delivery %lld is %s: only failed or skipped "
			       "deliveries are retried", (long long)hb_row_id(d),
			       hb_row_str(d, "status"));
	const hb_kind *k = d->kind;
	hb_row_set_str(d, "status", "pending");
	hb_row_set_int(d, "due_at", hb_time_now() * 1000);
	hb_row_set_time(d, "updated_at", hb_time_now());
	int cols[] = {hb_kind_col(k, "status"), hb_kind_col(k, "due_at"), hb_kind_col(k, "updated_at")};
	hb_cond expect = {cols[0], hb_value_str(hb_dstate_names[was])};
	hb_err rc = c->store->ops->update_cols(c->store, d, cols, 3, &expect, e);
	if (rc == HB_ERR_NOT_FOUND) /* changed since it was read */
		return hb_fail(e, HB_ERR_CONFLICT, "id", "delivery %lld changed meanwhile; try again",
			       (long long)hb_row_id(d));
	hb_tally t = {0};
	hb_tally_move(&t, hb_row_int(d, "run_id"), was, HB_DS_PENDING);
	if (!rc)
		rc = hb_tally_write(&t, c->store, e);
	hb_tally_free(&t);
	hb_row *run = hb_row_new(hb_kind_get(HB_K_RUN));
	if (!rc)
		rc = find_by_id(c, HB_K_RUN, hb_row_int(d, "run_id"), run, e);
	if (!rc && strcmp(hb_row_str(run, "status"), "finished") == 0) {
		hb_row_set_str(run, "status", "running");
		hb_row_set_null(run, "finished_at");
		rc = c->store->ops->update(c->store, run, e);
	}
	hb_row_free(&run);
	return rc;
}

typedef struct failed_job {
	hb_ctx *c;
	int64_t count;
	hb_row *run;
} failed_job;

static hb_err requeue_one(void *ud, const hb_row *row, hb_error *e)
{
	failed_job *j = ud;
	if (hb_row_id(j->run) != hb_row_int(row, "run_id") && /* this community's runs only */
	    find_by_id(j->c, HB_K_RUN, hb_row_int(row, "run_id"), j->run, e) != HB_OK)
		return HB_OK;
	if (hb_row_int(j->run, "community_id") != j->c->community_id)
		return HB_OK;
	hb_row *d = hb_row_new(row->kind);
	hb_row_copy(d, row);
	hb_err rc = hb_delivery_requeue(j->c, d, e);
	hb_row_free(&d);
	j->count += !rc;
	return rc;
}

hb_err hb_delivery_requeue_failed(hb_ctx *c, int64_t since, int64_t *count, hb_error *e)
{
	failed_job j = {c, 0, hb_row_new(hb_kind_get(HB_K_RUN))};
	hb_err rc = c->store->ops->delivery_failed(c->store, since, requeue_one, &j, e);
	hb_row_free(&j.run);
	*count = j.count;
	return rc;
}
