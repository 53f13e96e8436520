/* test_outcome.c - writing a batch of outcomes (deliver/outcome.c): deliveries that end alike
   are written many to a statement, and a delivery no longer being sent is left as it is, with
   every count and attempt as if each had been written alone. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "deliver/outcome.h"
#include "harness.h"
#include "store/store.h"

/* A store with run 1 and deliveries [1, n] being sent, except those in done, already recorded
   as succeeded by someone else; path gets its file. */
static hb_store *sending_store(const char *name, int n, const int *done, size_t ndone, char *path,
			       size_t size)
{
	snprintf(path, size, "%s/%s", hb_test_tmpdir(), name);
	hb_store *s = NULL;
	hb_error e = {0};
	if (hb_store_open(path, true, &s, &e) != HB_OK) {
		hb_test_failf(__FILE__, __LINE__, "creating %s: %s", name, e.message);
		return NULL;
	}
	hb_store_close(&s);
	sqlite3 *db = NULL;
	sqlite3_open(path, &db);
	sqlite3_exec(
	    db,
	    "INSERT INTO communities (id, key, name, created_at, updated_at)"
	    " VALUES (1, 'acme', 'Acme', '', '');"
	    "INSERT INTO macros (id, community_id, key, name, target, created_at, updated_at)"
	    " VALUES (1, 1, 'push', 'Push', 'users', '', '');"
	    "INSERT INTO runs (id, community_id, macro_id, token, started_by, selection,"
	    " status, created_at) VALUES (1, 1, 1, 't1', 'test', '{}', 'running', "
	    "'2026-11-29T00:00:00Z');",
	    NULL, NULL, NULL);
	for (int i = 1; i <= n; i++) {
		char sql[300];
		bool by_other = false;
		for (size_t k = 0; k < ndone; k++)
			by_other |= done[k] == i;
		snprintf(sql, sizeof sql,
			 "INSERT INTO deliveries (id, run_id, record_id, position, status, due_at,"
			 " lease_until, created_at, updated_at) VALUES (%d, 1, %d, 1, '%s', %d, %s,"
			 " '', '')",
			 i, i, by_other ? "succeeded" : "sending", by_other ? 0 : 1,
			 by_other ? "NULL" : "5000");
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	char counts[200];
	snprintf(counts, sizeof counts,
		 "INSERT INTO run_counts (run_id, sending, succeeded) VALUES (1, %d, %zu)",
		 n - (int)ndone, ndone);
	sqlite3_exec(db, counts, NULL, NULL, NULL);
	sqlite3_close(db);
	if (hb_store_open(path, false, &s, &e) != HB_OK)
		hb_test_failf(__FILE__, __LINE__, "opening %s: %s", name, e.message);
	return s;
}

/* One text of every delivery: "id:status/attempts/last_status/last_error" joined by spaces. */
static void deliveries(const char *path, char *out, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3_open(path, &db);
	sqlite3_prepare_v2(db,
			   "SELECT id || ':' || status || '/' || attempts || '/' ||"
			   " coalesce(last_status, '-') || '/' || coalesce(last_error, '-')"
			   " FROM deliveries ORDER BY id",
			   -1, &st, NULL);
	size_t at = 0;
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && at < n)
		at += (size_t)snprintf(out + at, n - at, "%s%s", at ? " " : "",
				       (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Outcomes for deliveries [1, n]: answered 200, except those in failed (answered 500). */
static hb_outcome *answered(int n, const int *failed, size_t nfailed)
{
	hb_outcome *o = hb_calloc((size_t)n, sizeof *o);
	for (int i = 0; i < n; i++) {
		bool bad = false;
		for (size_t k = 0; k < nfailed; k++)
			bad |= failed[k] == i + 1;
		o[i].delivery_id = o[i].record_id = i + 1;
		o[i].run_id = 1;
		o[i].position = 1;
		o[i].attempt = 1;
		o[i].final = bad ? HB_FINAL_FAILED : HB_FINAL_SUCCEEDED;
		o[i].http_status = bad ? 500 : 200;
		o[i].error_class = bad ? "http" : NULL;
		o[i].error = bad ? hb_strdup("HTTP 500") : NULL;
		o[i].started_at = 1;
	}
	return o;
}

static hb_err write_all(hb_store *s, hb_outcome *o, size_t n, hb_error *e)
{
	hb_ctx c = {.store = s, .community_id = 1, .actor = "test"};
	hb_err rc = s->ops->begin(s, e);
	if (!rc)
		rc = hb_outcomes_write(&c, o, n, e);
	if (!rc)
		rc = s->ops->commit(s, e);
	else {
		s->ops->rollback(s);
		fprintf(stderr, "  writing outcomes: %s\n", e->message);
	}
	for (size_t i = 0; i < n; i++)
		hb_outcome_clear(&o[i]);
	free(o);
	return rc;
}

TEST(outcomes_alike_written_together)
{
	char path[300], got[2000];
	hb_store *s = sending_store("alike.db", 20, NULL, 0, path, sizeof path);
	CHECK(s != NULL);
	hb_error e = {0};
	/* 18 alike (sixteen to a statement, then two), 2 failed alike */
	CHECK_INT(write_all(s, answered(20, (const int[]){3, 20}, 2), 20, &e), HB_OK);
	deliveries(path, got, sizeof got);
	CHECK_STR(got, "1:succeeded/1/200/- 2:succeeded/1/200/- 3:failed/1/500/HTTP 500"
		       " 4:succeeded/1/200/- 5:succeeded/1/200/- 6:succeeded/1/200/-"
		       " 7:succeeded/1/200/- 8:succeeded/1/200/- 9:succeeded/1/200/-"
		       " 10:succeeded/1/200/- 11:succeeded/1/200/- 12:succeeded/1/200/-"
		       " 13:succeeded/1/200/- 14:succeeded/1/200/- 15:succeeded/1/200/-"
		       " 16:succeeded/1/200/- 17:succeeded/1/200/- 18:succeeded/1/200/-"
		       " 19:succeeded/1/200/- 20:failed/1/500/HTTP 500");
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM delivery_attempts"), 20);
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM deliveries WHERE due_at <> 0"), 0);
	CHECK_INT(
	    hb_test_sql_int(path, "SELECT succeeded * 100 + failed * 10 + sending FROM run_counts"),
	    1820);
	CHECK_INT(hb_test_sql_int(path, "SELECT status = 'finished' FROM runs WHERE id = 1"), 1);
	hb_store_close(&s);
}

TEST(outcomes_alike_leave_one_recorded_elsewhere)
{
	char path[300], got[2000];
	/* 4 was recorded by another worker (its lease ran out); the other nine are written */
	hb_store *s = sending_store("elsewhere.db", 10, (const int[]){4}, 1, path, sizeof path);
	CHECK(s != NULL);
	hb_error e = {0};
	CHECK_INT(write_all(s, answered(10, (const int[]){7, 8}, 2), 10, &e), HB_OK);
	deliveries(path, got, sizeof got);
	CHECK_STR(got, "1:succeeded/1/200/- 2:succeeded/1/200/- 3:succeeded/1/200/-"
		       " 4:succeeded/0/-/- 5:succeeded/1/200/- 6:succeeded/1/200/-"
		       " 7:failed/1/500/HTTP 500 8:failed/1/500/HTTP 500 9:succeeded/1/200/-"
		       " 10:succeeded/1/200/-");
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM delivery_attempts"), 9);
	CHECK_INT(
	    hb_test_sql_int(path, "SELECT count(*) FROM delivery_attempts WHERE delivery_id = 4"),
	    0);
	/* 4 counted once, by the one who recorded it */
	CHECK_INT(
	    hb_test_sql_int(path, "SELECT succeeded * 100 + failed * 10 + sending FROM run_counts"),
	    820);
	hb_store_close(&s);
}
