/* Unit tests of the store: descriptors match the migrated schema; migrations and versions. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "model/kind.h"
#include "store/sqlite_int.h"
#include "store/store.h"

/* A new database at the temporary directory's name, migrated by the store, opened raw (its
   path in path). */
static sqlite3 *migrated_db(const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", hb_test_tmpdir(), name);
	hb_store *s = NULL;
	hb_error e = {0};
	sqlite3 *db = NULL;
	if (hb_store_open(path, true, &s, &e) != HB_OK)
		hb_test_failf(__FILE__, __LINE__, "creating %s: %s", name, e.message);
	hb_store_close(&s);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		hb_test_failf(__FILE__, __LINE__, "opening %s", name);
	return db;
}

/* A new, empty store in the test's directory. */
static hb_store *new_store(const char *name)
{
	char path[300];
	snprintf(path, sizeof path, "%s/%s", hb_test_tmpdir(), name);
	hb_store *s = NULL;
	hb_error e = {0};
	if (hb_store_open(path, true, &s, &e) != HB_OK)
		hb_test_failf(__FILE__, __LINE__, "creating %s: %s", name, e.message);
	return s;
}

TEST(store_schema_matches_descriptors)
{
	char path[300];
	sqlite3 *db = migrated_db("a.db", path, sizeof path);
	for (int k = 0; k < HB_K__COUNT; k++) {
		const hb_kind *kind = hb_kind_get((hb_kind_id)k);
		char sql[200];
		snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s') ORDER BY cid", kind->table);
		sqlite3_stmt *st;
		CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
		size_t i = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *col = (const char *)sqlite3_column_text(st, 0);
			if (i >= kind->ncols || strcmp(col, kind->cols[i].name) != 0)
				hb_test_failf(__FILE__, __LINE__, "%s column %zu is %s in the schema", kind->table, i, col);
			i++;
		}
		sqlite3_finalize(st);
		CHECK_INT(i, kind->ncols);
	}
	sqlite3_close(db);
}

/* Whether the statement's program builds a temporary table each time it runs. */
static bool builds_temp_table(sqlite3 *db, const char *sql)
{
	char explain[512];
	snprintf(explain, sizeof explain, "EXPLAIN %s", sql);
	sqlite3_stmt *st;
	bool found = false;
	if (sqlite3_prepare_v2(db, explain, -1, &st, NULL) != SQLITE_OK)
		return true;
	while (sqlite3_step(st) == SQLITE_ROW)
		found |= strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
	sqlite3_finalize(st);
	return found;
}

/* The plan SQLite picks for sql, its details joined by "; ". */
static void query_plan(sqlite3 *db, const char *sql, char *out, size_t n)
{
	char explain[512];
	snprintf(explain, sizeof explain, "EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *st;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, explain, -1, &st, NULL) != SQLITE_OK)
		return;
	size_t at = 0;
	while (sqlite3_step(st) == SQLITE_ROW && at < n)
		at += (size_t)snprintf(out + at, n - at, "%s; ", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
}

/* Migration 6: the delivery status CHECK still refuses unknown states but costs no temporary
   table per write; each (field, value) index of External Data holds only its own column. */
TEST(store_cheap_delivery_writes_keep_their_checks)
{
	char path[300];
	sqlite3 *db = migrated_db("cheap.db", path, sizeof path);
	CHECK(!builds_temp_table(db, "UPDATE deliveries SET status = 'failed' WHERE id = 1"));
	CHECK(!builds_temp_table(db, "INSERT INTO deliveries (run_id, record_id, position, status,"
				     " due_at, created_at, updated_at) VALUES (1, 1, 1, 'pending', 5, '', '')"));
	CHECK(sqlite3_exec(db, "PRAGMA foreign_keys = OFF; INSERT INTO deliveries (run_id, record_id,"
			       " position, status, due_at, created_at, updated_at)"
			       " VALUES (1, 1, 1, 'pending', 5, '', '')", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE deliveries SET status = 'lost'", NULL, NULL, NULL) ==
	      SQLITE_CONSTRAINT);
	/* migration 9: due_at > 0 exactly while pending or sending (the due index holds those) */
	static const char *const states[] = {"waiting", "sending", "succeeded", "failed", "skipped"};
	for (size_t i = 0; i < 5; i++) {
		bool queued = strcmp(states[i], "sending") == 0;
		char sql[96];
		snprintf(sql, sizeof sql, "UPDATE deliveries SET status = '%s', due_at = %d", states[i],
			 queued ? 5 : 0);
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
		snprintf(sql, sizeof sql, "UPDATE deliveries SET status = '%s', due_at = %d", states[i],
			 queued ? 0 : 5);
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_CONSTRAINT);
	}
	CHECK(sqlite3_exec(db, "UPDATE deliveries SET status = 'pending', due_at = 0", NULL, NULL,
			   NULL) == SQLITE_CONSTRAINT);
	/* the claim's read goes through the due index in due order, and a new time bound to it
	   does not make SQLite prepare it again */
	const char *claim = "SELECT id FROM deliveries INDEXED BY deliveries_due WHERE due_at > 0"
			    " AND due_at <= ?1 AND (status = 'pending' OR lease_until <= ?1)"
			    " ORDER BY due_at LIMIT 10";
	char plan[300];
	query_plan(db, claim, plan, sizeof plan);
	CHECK_STR(plan, "SEARCH deliveries USING INDEX deliveries_due (due_at>? AND due_at<?); ");
	sqlite3_stmt *cs;
	CHECK(sqlite3_prepare_v2(db, claim, -1, &cs, NULL) == SQLITE_OK);
	for (int t = 1; t < 5; t++) {
		sqlite3_bind_int64(cs, 1, t * 1000);
		while (sqlite3_step(cs) == SQLITE_ROW)
			;
		sqlite3_reset(cs);
	}
	CHECK_INT(sqlite3_stmt_status(cs, SQLITE_STMTSTATUS_REPREPARE, 0), 0);
	sqlite3_finalize(cs);
	/* a status bound as a parameter does not make SQLite prepare the statement again */
	sqlite3_stmt *st;
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM deliveries WHERE run_id = ? AND status = ?",
				 -1, &st, NULL) == SQLITE_OK);
	for (size_t i = 0; i < 5; i++) {
		sqlite3_bind_int64(st, 1, 1);
		sqlite3_bind_text(st, 2, states[i], -1, SQLITE_STATIC);
		CHECK(sqlite3_step(st) == SQLITE_ROW);
		sqlite3_reset(st);
	}
	CHECK_INT(sqlite3_stmt_status(st, SQLITE_STMTSTATUS_REPREPARE, 0), 0);
	sqlite3_finalize(st);
	/* migration 8: each External Data table has one index besides its key */
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*), sum(sql LIKE '%xvalues(field_id, v_int, v_text)')"
				     " FROM sqlite_schema WHERE type = 'index' AND tbl_name LIKE '%xvalues'"
				     " AND sql IS NOT NULL", -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 3);
	CHECK_INT(sqlite3_column_int(st, 1), 3);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Migration 8: External Data keyed by (record, field), one (field, v_int, v_text) index; the
   lookups of filters, of a record's values and of both cascades use one or the other. */
TEST(store_external_data_lookups_use_key_or_index)
{
	char path[300], plan[1024];
	sqlite3 *db = migrated_db("xplan.db", path, sizeof path);
	query_plan(db, "SELECT record_id FROM user_xvalues WHERE field_id = 1 AND v_int IS NULL"
		       " AND v_text = 'x'", plan, sizeof plan);
	CHECK_CONTAINS(plan, "user_xvalues_value (field_id=? AND v_int=? AND v_text=?)");
	query_plan(db, "SELECT record_id FROM user_xvalues WHERE field_id = 1 AND v_int > 3", plan,
		   sizeof plan);
	CHECK_CONTAINS(plan, "user_xvalues_value (field_id=? AND v_int>?)");
	query_plan(db, "SELECT field_id FROM user_xvalues WHERE record_id = 7", plan, sizeof plan);
	CHECK_CONTAINS(plan, "PRIMARY KEY (record_id=?)");
	/* the cascades look the children up by key or index, not by a scan */
	query_plan(db, "DELETE FROM user_xvalues WHERE field_id = 1", plan, sizeof plan);
	CHECK_CONTAINS(plan, "user_xvalues_value (field_id=?)");
	sqlite3_close(db);
}

TEST(store_refuses_newer_schema_and_missing_file)
{
	char path[300];
	snprintf(path, sizeof path, "%s/b.db", hb_test_tmpdir());
	hb_store *s = NULL;
	hb_error e = {0};
	CHECK_INT(hb_store_open(path, false, &s, &e), HB_ERR_NOT_FOUND);
	CHECK_CONTAINS(e.message, "no database at");
	CHECK_INT(hb_store_open(path, true, &s, &e), HB_OK);
	hb_store_close(&s);
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	char newer[64], says[64]; /* a version this build does not know yet */
	snprintf(newer, sizeof newer, "PRAGMA user_version = %d", HB_SCHEMA_VERSION + 1);
	snprintf(says, sizeof says, "schema version %d", HB_SCHEMA_VERSION + 1);
	CHECK(sqlite3_exec(db, newer, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(hb_store_open(path, false, &s, &e), HB_ERR_VERSION);
	CHECK_CONTAINS(e.message, says);
	CHECK(s == NULL);
}

TEST(store_refuses_postgres_until_built)
{
	hb_store *s = NULL;
	hb_error e = {0};
	CHECK_INT(hb_store_open("postgresql://localhost/x", true, &s, &e), HB_ERR_UNSUPPORTED);
	CHECK_CONTAINS(e.message, "PostgreSQL storage is not available");
}

static hb_row *community_row(const char *key, const char *name)
{
	hb_row *r = hb_row_new(hb_kind_get(HB_K_COMMUNITY));
	hb_row_set_str(r, "key", key);
	hb_row_set_str(r, "name", name);
	hb_row_set_bool(r, "enhanced_integrations", false);
	hb_row_set_time(r, "created_at", 1700000000);
	hb_row_set_time(r, "updated_at", 1700000000);
	return r;
}

TEST(store_update_cols_writes_only_those_columns)
{
	hb_store *s = new_store("cols.db");
	hb_error e = {0};
	const hb_kind *k = hb_kind_get(HB_K_COMMUNITY);
	hb_row *r = community_row("acme", "Acme");
	CHECK_INT(s->ops->insert(s, r, &e), HB_OK);
	/* both columns change in memory; only the name is written */
	hb_row_set_str(r, "key", "other");
	hb_row_set_str(r, "name", "Acme Labs");
	int cols[] = {hb_kind_col(k, "name")};
	CHECK_INT(s->ops->update_cols(s, r, cols, 1, NULL, &e), HB_OK);
	hb_row *got = hb_row_new(k);
	hb_cond id = {0, hb_row_get(r, "id")};
	CHECK_INT(s->ops->find(s, k, &id, 1, got, &e), HB_OK);
	CHECK_STR(hb_row_str(got, "name"), "Acme Labs");
	CHECK_STR(hb_row_str(got, "key"), "acme");
	/* with an expectation: written only while the row still matches it */
	hb_cond was_other = {hb_kind_col(k, "key"), hb_value_str("other")};
	hb_row_set_str(r, "name", "Not Written");
	CHECK_INT(s->ops->update_cols(s, r, cols, 1, &was_other, &e), HB_ERR_NOT_FOUND);
	hb_cond was_acme = {hb_kind_col(k, "key"), hb_value_str("acme")};
	hb_row_set_str(r, "name", "Acme Inc");
	CHECK_INT(s->ops->update_cols(s, r, cols, 1, &was_acme, &e), HB_OK);
	CHECK_INT(s->ops->find(s, k, &id, 1, got, &e), HB_OK);
	CHECK_STR(hb_row_str(got, "name"), "Acme Inc");
	/* a row that is gone is reported, not silently skipped */
	hb_row_set_int(r, "id", 999);
	CHECK_INT(s->ops->update_cols(s, r, cols, 1, NULL, &e), HB_ERR_NOT_FOUND);
	hb_row_free(&got);
	hb_row_free(&r);
	hb_store_close(&s);
}

/* The names of communities 1..n as one string: "name name …". */
static void community_names(hb_store *s, int n, char *out, size_t size)
{
	const hb_kind *k = hb_kind_get(HB_K_COMMUNITY);
	hb_row *got = hb_row_new(k);
	hb_error e = {0};
	size_t at = 0;
	out[0] = '\0';
	for (int i = 1; i <= n && at < size; i++) {
		hb_cond id = {0, hb_value_int(i)};
		bool found = s->ops->find(s, k, &id, 1, got, &e) == HB_OK;
		at += (size_t)snprintf(out + at, size - at, "%s%s", i > 1 ? " " : "",
				       found ? hb_row_str(got, "name") : "?");
	}
	hb_row_free(&got);
}

/* update_cols_many names its rows by stretches of consecutive ids and by lists, in any order,
   and writes all of them or, when one no longer matches, none. */
TEST(store_update_cols_many_by_stretch_and_list)
{
	hb_store *s = new_store("many.db");
	hb_error e = {0};
	const hb_kind *k = hb_kind_get(HB_K_COMMUNITY);
	for (int i = 1; i <= 60; i++) {
		char key[16];
		snprintf(key, sizeof key, "c%d", i);
		hb_row *r = community_row(key, "-");
		CHECK_INT(s->ops->insert(s, r, &e), HB_OK);
		hb_row_free(&r);
	}
	/* a stretch longer than a list (1..40), ids apart (45 47 49), a short stretch (55 56),
	   given out of order */
	int64_t ids[48];
	size_t n = 0;
	for (int i = 40; i >= 1; i--)
		ids[n++] = i;
	const int64_t apart[] = {56, 47, 45, 55, 49};
	for (size_t i = 0; i < 5; i++)
		ids[n++] = apart[i];
	hb_row *r = community_row("x", "w");
	int cols[] = {hb_kind_col(k, "name")};
	hb_cond plain = {hb_kind_col(k, "enhanced_integrations"), hb_value_bool(false)};
	bool all = false;
	CHECK_INT(s->ops->update_cols_many(s, r, cols, 1, &plain, ids, n, &all, &e), HB_OK);
	CHECK(all);
	char got[400], want[400];
	size_t at = 0;
	for (int i = 1; i <= 60; i++) {
		bool named = i <= 40 || i == 45 || i == 47 || i == 49 || i == 55 || i == 56;
		at += (size_t)snprintf(want + at, sizeof want - at, "%s%s", i > 1 ? " " : "",
				       named ? "w" : "-");
	}
	community_names(s, 60, got, sizeof got);
	CHECK_STR(got, want);
	/* 20, in the stretch, or 49, in a list, no longer matches: nothing is written */
	hb_row *one = community_row("y", "w");
	int flag[] = {hb_kind_col(k, "enhanced_integrations")};
	hb_row_set_str(r, "name", "z");
	for (int i = 0; i < 2; i++) {
		hb_row_set_int(one, "id", i ? 49 : 20);
		hb_row_set_bool(one, "enhanced_integrations", true);
		CHECK_INT(s->ops->update_cols(s, one, flag, 1, NULL, &e), HB_OK);
		CHECK_INT(s->ops->update_cols_many(s, r, cols, 1, &plain, ids, n, &all, &e), HB_OK);
		CHECK(!all);
		community_names(s, 60, got, sizeof got);
		CHECK_STR(got, want);
		hb_row_set_bool(one, "enhanced_integrations", false);
		CHECK_INT(s->ops->update_cols(s, one, flag, 1, NULL, &e), HB_OK);
	}
	hb_row_free(&one);
	hb_row_free(&r);
	hb_store_close(&s);
}

TEST(store_read_reads_only_the_columns_asked)
{
	hb_store *s = new_store("read.db");
	hb_error e = {0};
	const hb_kind *k = hb_kind_get(HB_K_COMMUNITY);
	hb_row *r = community_row("acme", "Acme");
	CHECK_INT(s->ops->insert(s, r, &e), HB_OK);
	int64_t id = hb_row_id(r);
	hb_row *got = hb_row_new(k);
	uint64_t name_only = (uint64_t)1 << hb_kind_col(k, "name");
	CHECK_INT(s->ops->read(s, k, id, name_only, got, &e), HB_OK);
	CHECK_STR(hb_row_str(got, "name"), "Acme");
	CHECK_INT(hb_row_get(got, "key").type, HB_TYPE_NULL);
	CHECK_INT(hb_row_get(got, "id").type, HB_TYPE_NULL);
	/* the same statement shape with other columns is another statement */
	CHECK_INT(s->ops->read(s, k, id, 1 | (uint64_t)1 << hb_kind_col(k, "key"), got, &e), HB_OK);
	CHECK_INT(hb_row_id(got), id);
	CHECK_STR(hb_row_str(got, "key"), "acme");
	CHECK_INT(hb_row_get(got, "name").type, HB_TYPE_NULL);
	CHECK_INT(s->ops->read(s, k, id, 0, got, &e), HB_OK); /* 0: every column */
	CHECK_STR(hb_row_str(got, "key"), "acme");
	CHECK_STR(hb_row_str(got, "name"), "Acme");
	CHECK_INT(s->ops->read(s, k, id + 1, name_only, got, &e), HB_ERR_NOT_FOUND);
	hb_row_free(&got);
	hb_row_free(&r);
	hb_store_close(&s);
}

TEST(store_exists_matches_count)
{
	hb_store *s = new_store("exists.db");
	hb_error e = {0};
	const hb_kind *k = hb_kind_get(HB_K_COMMUNITY);
	hb_cond by_name = {hb_kind_col(k, "name"), hb_value_str("Acme")};
	bool any = true;
	CHECK_INT(s->ops->exists(s, k, &by_name, 1, &any, &e), HB_OK);
	CHECK(!any);
	hb_row *r = community_row("acme", "Acme");
	CHECK_INT(s->ops->insert(s, r, &e), HB_OK);
	CHECK_INT(s->ops->exists(s, k, &by_name, 1, &any, &e), HB_OK);
	CHECK(any);
	hb_cond by_key = {hb_kind_col(k, "key"), hb_value_str("' OR 1=1 --")};
	CHECK_INT(s->ops->exists(s, k, &by_key, 1, &any, &e), HB_OK);
	CHECK(!any);
	/* a read transaction sees the same and ends with commit */
	CHECK_INT(s->ops->begin_read(s, &e), HB_OK);
	CHECK_INT(s->ops->exists(s, k, NULL, 0, &any, &e), HB_OK);
	CHECK(any);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	/* a read begun inside an open transaction joins it: its end leaves the outer one open */
	CHECK_INT(s->ops->begin(s, &e), HB_OK);
	CHECK_INT(s->ops->begin_read(s, &e), HB_OK);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	hb_row *r2 = community_row("beta", "Beta");
	CHECK_INT(s->ops->insert(s, r2, &e), HB_OK);
	s->ops->rollback(s);
	hb_cond beta = {hb_kind_col(k, "key"), hb_value_str("beta")};
	CHECK_INT(s->ops->exists(s, k, &beta, 1, &any, &e), HB_OK);
	CHECK(!any); /* the rollback undid the insert: the outer transaction was still open */
	hb_row_free(&r2);
	hb_row_free(&r);
	hb_store_close(&s);
}

static void note_count(void *ud, const char *status, int64_t n)
{
	char *out = ud;
	size_t at = strlen(out);
	snprintf(out + at, 200 - at, "%s%s=%lld", at ? " " : "", status, (long long)n);
}

static hb_err count_claimed(void *ud, const hb_row *row, hb_error *e)
{
	(void)row;
	(void)e;
	(*(int64_t *)ud)++;
	return HB_OK;
}

/* A database at schema version 6 (the last without run_counts), opened raw. */
static sqlite3 *version6_db(const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", hb_test_tmpdir(), name);
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		hb_test_failf(__FILE__, __LINE__, "opening %s", name);
	for (int v = 1; v <= 6; v++)
		if (sqlite3_exec(db, hb_sqlite_migrations[v], NULL, NULL, NULL) != SQLITE_OK)
			hb_test_failf(__FILE__, __LINE__, "migration %d: %s", v, sqlite3_errmsg(db));
	sqlite3_exec(db, "PRAGMA user_version = 6", NULL, NULL, NULL);
	return db;
}

/* Each delivery's status, due_at and lease (when sending), in id order: "1:sending@5+1000 …". */
static void delivery_states(const char *path, char *out, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	out[0] = '\0';
	sqlite3_open(path, &db);
	sqlite3_prepare_v2(db, "SELECT id, status, due_at, lease_until FROM deliveries ORDER BY id", -1,
			   &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t at = strlen(out);
		at += (size_t)snprintf(out + at, n - at, "%s%lld:%s@%lld", at ? " " : "",
				       (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
				       (long long)sqlite3_column_int64(st, 2));
		if (strcmp((const char *)sqlite3_column_text(st, 1), "sending") == 0)
			snprintf(out + at, n - at, "+%lld", (long long)sqlite3_column_int64(st, 3));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A claim takes exactly the due deliveries, at most max, in due order (stretches of
   consecutive ids are marked together): pending ones due now and lapsed leases, never one
   finished, not yet due, or past max. A claimed delivery keeps its due_at (migration 9 made
   the ones due at 0 due at 1) and gets its lease. */
TEST(store_claim_marks_exactly_the_due)
{
	char path[300];
	sqlite3 *db = version6_db("claim.db", path, sizeof path);
	const char *fill =
	    "PRAGMA foreign_keys = OFF;"
	    "INSERT INTO runs (id, community_id, macro_id, token, started_by, selection, status,"
	    " created_at) VALUES (1, 1, 1, 't1', 'test', '{}', 'running', '');"
	    "INSERT INTO deliveries (id, run_id, record_id, position, status, due_at, created_at,"
	    " updated_at) VALUES (1, 1, 1, 1, 'pending', 0, '', ''), (2, 1, 2, 1, 'pending', 0, '', ''),"
	    " (3, 1, 3, 1, 'succeeded', 0, '', ''), (4, 1, 4, 1, 'pending', 0, '', ''),"
	    " (5, 1, 5, 1, 'pending', 9999, '', ''), (6, 1, 6, 1, 'pending', 0, '', ''),"
	    " (7, 1, 7, 1, 'sending', 50, '', ''), (8, 1, 8, 1, 'failed', 0, '', ''),"
	    " (9, 1, 9, 1, 'pending', 60, '', '');";
	CHECK(sqlite3_exec(db, fill, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	hb_store *s = NULL;
	hb_error e = {0};
	CHECK_INT(hb_store_open(path, false, &s, &e), HB_OK);
	int64_t claimed = 0;
	CHECK_INT(s->ops->begin(s, &e), HB_OK);
	CHECK_INT(s->ops->delivery_claim(s, 100, 1000, 5, count_claimed, &claimed, &e), HB_OK);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	CHECK_INT(claimed, 5); /* 9 is due too, after the five before it */
	char got[400];
	delivery_states(path, got, sizeof got);
	CHECK_STR(got, "1:sending@1+1000 2:sending@1+1000 3:succeeded@0 4:sending@1+1000"
		       " 5:pending@9999 6:sending@1+1000 7:sending@50+1000 8:failed@0 9:pending@60");
	char seen[200] = "";
	CHECK_INT(s->ops->delivery_counts(s, 1, note_count, seen, &e), HB_OK);
	CHECK_STR(seen, "pending=2 sending=5 succeeded=1 failed=1");
	/* due but leased: passed over until the lease runs out */
	claimed = 0;
	CHECK_INT(s->ops->begin(s, &e), HB_OK);
	CHECK_INT(s->ops->delivery_claim(s, 200, 1200, 10, count_claimed, &claimed, &e), HB_OK);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	CHECK_INT(claimed, 1); /* 9 */
	claimed = 0;
	CHECK_INT(s->ops->begin(s, &e), HB_OK);
	CHECK_INT(s->ops->delivery_claim(s, 1100, 3000, 10, count_claimed, &claimed, &e), HB_OK);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	CHECK_INT(claimed, 5); /* the first five again; 9's lease runs until 1200 */
	delivery_states(path, got, sizeof got);
	CHECK_STR(got, "1:sending@1+3000 2:sending@1+3000 3:succeeded@0 4:sending@1+3000"
		       " 5:pending@9999 6:sending@1+3000 7:sending@50+3000 8:failed@0 9:sending@60+1200");
	seen[0] = '\0';
	CHECK_INT(s->ops->delivery_counts(s, 1, note_count, seen, &e), HB_OK);
	CHECK_STR(seen, "pending=1 sending=6 succeeded=1 failed=1");
	hb_store_close(&s);
}

/* A run's counts by status: counted from the deliveries there were by the migration that
   brings them in, then kept by the writes (claim and release count their own); whether a run
   has open deliveries; and a step of a transaction undone alone. */
TEST(store_delivery_counts_open_and_steps)
{
	char path[300];
	sqlite3 *db = version6_db("counts.db", path, sizeof path);
	hb_store *s = NULL;
	hb_error e = {0};
	const char *fill =
	    "PRAGMA foreign_keys = OFF;"
	    "INSERT INTO runs (id, community_id, macro_id, token, started_by, selection, status,"
	    " created_at) VALUES (1, 1, 1, 't1', 'test', '{}', 'running', ''),"
	    " (2, 1, 1, 't2', 'test', '{}', 'running', ''), (3, 1, 1, 't3', 'test', '{}', 'running', ''),"
	    " (4, 1, 1, 't4', 'test', '{}', 'finished', '');"
	    "INSERT INTO deliveries (run_id, record_id, position, status, due_at, created_at, updated_at)"
	    " VALUES (1, 1, 1, 'succeeded', 0, '', ''), (1, 2, 1, 'succeeded', 0, '', ''),"
	    " (1, 3, 1, 'failed', 0, '', ''), (1, 3, 2, 'skipped', 0, '', ''),"
	    " (2, 1, 1, 'waiting', 0, '', ''), (3, 1, 1, 'sending', 0, '', ''),"
	    " (3, 2, 1, 'pending', 5, '', ''), (3, 3, 1, 'pending', 9999, '', '');";
	CHECK(sqlite3_exec(db, fill, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(hb_store_open(path, false, &s, &e), HB_OK);
	char seen[200] = "";
	CHECK_INT(s->ops->delivery_counts(s, 1, note_count, seen, &e), HB_OK);
	CHECK_STR(seen, "succeeded=2 failed=1 skipped=1");
	bool open = true;
	CHECK_INT(s->ops->delivery_open(s, 1, &open, &e), HB_OK);
	CHECK(!open);
	CHECK_INT(s->ops->delivery_open(s, 2, &open, &e), HB_OK);
	CHECK(open);
	CHECK_INT(s->ops->delivery_open(s, 3, &open, &e), HB_OK);
	CHECK(open);
	CHECK_INT(s->ops->delivery_open(s, 4, &open, &e), HB_OK);
	CHECK(!open);
	/* added up per run, written once */
	hb_tally t = {0};
	hb_tally_move(&t, 2, HB_DS_WAITING, HB_DS_PENDING);
	hb_tally_move(&t, 4, HB_DS_COUNT, HB_DS_PENDING);
	hb_tally_move(&t, 2, HB_DS_COUNT, HB_DS_WAITING);
	CHECK_INT(t.n, 2);
	CHECK_INT(hb_tally_write(&t, s, &e), HB_OK);
	CHECK_INT(t.n, 0);
	hb_tally_free(&t);
	seen[0] = '\0';
	CHECK_INT(s->ops->delivery_counts(s, 2, note_count, seen, &e), HB_OK);
	CHECK_STR(seen, "waiting=1 pending=1");
	seen[0] = '\0';
	CHECK_INT(s->ops->delivery_counts(s, 4, note_count, seen, &e), HB_OK); /* a new row */
	CHECK_STR(seen, "pending=1");
	/* a claim counts the pending deliveries it takes; one being sent whose lease ran out is
	   taken again and still counts once */
	int64_t claimed = 0;
	CHECK_INT(s->ops->begin(s, &e), HB_OK);
	CHECK_INT(s->ops->delivery_claim(s, 100, 1000, 10, count_claimed, &claimed, &e), HB_OK);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	CHECK_INT(claimed, 2); /* run 3's lapsed 'sending' one and its pending one due at 5 */
	seen[0] = '\0';
	CHECK_INT(s->ops->delivery_counts(s, 3, note_count, seen, &e), HB_OK);
	CHECK_STR(seen, "pending=1 sending=2");
	int64_t released = 0;
	CHECK_INT(s->ops->delivery_release(s, 2000, &released, &e), HB_OK);
	CHECK_INT(released, 2);
	seen[0] = '\0';
	CHECK_INT(s->ops->delivery_counts(s, 3, note_count, seen, &e), HB_OK);
	CHECK_STR(seen, "pending=3");
	/* a step undone takes back its own writes only */
	const hb_kind *k = hb_kind_get(HB_K_COMMUNITY);
	CHECK_INT(s->ops->begin(s, &e), HB_OK);
	hb_row *kept = community_row("kept", "Kept"), *undone = community_row("undone", "Undone");
	CHECK_INT(s->ops->insert(s, kept, &e), HB_OK);
	CHECK_INT(s->ops->step_begin(s, &e), HB_OK);
	CHECK_INT(s->ops->insert(s, undone, &e), HB_OK);
	CHECK_INT(s->ops->step_end(s, false, &e), HB_OK);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	bool any = false;
	hb_cond by_key = {hb_kind_col(k, "key"), hb_value_str("kept")};
	CHECK_INT(s->ops->exists(s, k, &by_key, 1, &any, &e), HB_OK);
	CHECK(any);
	by_key.value = hb_value_str("undone");
	CHECK_INT(s->ops->exists(s, k, &by_key, 1, &any, &e), HB_OK);
	CHECK(!any);
	hb_row_free(&kept);
	hb_row_free(&undone);
	hb_store_close(&s);
}

/* Batches: insert_many writes every row, sixteen to a statement and the rest one by one;
   xvalue_set_many stores values in order as xvalue_set would (a later one for the same record
   and field wins, a null one clears), and leaves out only a value whose record or field is gone,
   also when it shares a statement with others. */
TEST(store_batches_of_attempts_and_values)
{
	char path[300];
	sqlite3 *db = migrated_db("batch.db", path, sizeof path);
	const char *fill =
	    "PRAGMA foreign_keys = OFF;"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)"
	    " INSERT INTO users (id, community_id, email, created_at, updated_at)"
	    " SELECT i, 1, 'u' || i || '@example.com', '', '' FROM n;"
	    "INSERT INTO xdata_fields (id, group_id, key, label, param, type, position, created_at,"
	    " updated_at) VALUES (1, 1, 'id', 'Id', 'id', 'string', 1, '', ''),"
	    " (2, 1, 'ok', 'Ok', 'ok', 'boolean', 2, '', '');"
	    "INSERT INTO deliveries (id, run_id, record_id, position, status, due_at, created_at,"
	    " updated_at) VALUES (1, 1, 1, 1, 'succeeded', 0, '', '');";
	CHECK(sqlite3_exec(db, fill, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	hb_store *s = NULL;
	hb_error e = {0};
	CHECK_INT(hb_store_open(path, false, &s, &e), HB_OK);
	/* 37 attempts: two statements of sixteen, then five */
	hb_row *rows[37];
	for (int i = 0; i < 37; i++) {
		rows[i] = hb_row_new(hb_kind_get(HB_K_ATTEMPT));
		hb_row_set_int(rows[i], "delivery_id", 1);
		hb_row_set_int(rows[i], "number", i + 1);
		hb_row_set_time(rows[i], "started_at", 1700000000);
		hb_row_set_int(rows[i], "duration_ms", i);
		hb_row_set_str(rows[i], "request", "{}");
	}
	CHECK_INT(s->ops->begin(s, &e), HB_OK);
	CHECK_INT(s->ops->insert_many(s, rows, 37, &e), HB_OK);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM delivery_attempts"), 37);
	CHECK_INT(hb_test_sql_int(path, "SELECT sum(number * 100 + duration_ms) FROM delivery_attempts"),
		  37 * 38 / 2 * 100 + 36 * 37 / 2);
	/* the same numbers again: the unique (delivery, number) refuses them */
	CHECK_INT(s->ops->insert_many(s, rows, 16, &e), HB_ERR_CONFLICT);
	for (int i = 0; i < 37; i++)
		hb_row_free(&rows[i]);
	/* 40 values: records 1..20, both fields each; record 99 and field 9 do not exist */
	hb_xvalue xv[44];
	size_t n = 0;
	for (int64_t r = 1; r <= 20; r++) {
		xv[n++] = (hb_xvalue){1, r, hb_value_str("ABC"), 1700000000, "test"};
		xv[n++] = (hb_xvalue){2, r, hb_value_int(1), 1700000000, NULL};
	}
	xv[5] = (hb_xvalue){1, 99, hb_value_str("gone"), 1700000000, "test"};	/* first statement */
	xv[20] = (hb_xvalue){9, 11, hb_value_int(5), 1700000000, "test"};	/* second statement */
	xv[n++] = (hb_xvalue){1, 4, hb_value_str("later"), 1700000000, "test"}; /* wins */
	xv[n++] = (hb_xvalue){2, 5, hb_value_null(), 1700000000, NULL};	/* clears */
	CHECK_INT(s->ops->begin(s, &e), HB_OK);
	CHECK_INT(s->ops->xvalue_set_many(s, HB_TARGET_USERS, xv, n, &e), HB_OK);
	CHECK_INT(s->ops->commit(s, &e), HB_OK);
	/* 40 - 2 gone - 1 cleared = 37 */
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM user_xvalues"), 37);
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM user_xvalues WHERE record_id = 99 OR"
				   " field_id = 9"), 0);
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM user_xvalues WHERE record_id = 4 AND"
				   " field_id = 1 AND v_text = 'later'"), 1);
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM user_xvalues WHERE record_id = 5 AND"
				   " field_id = 2"), 0);
	CHECK_INT(hb_test_sql_int(path, "SELECT count(*) FROM user_xvalues WHERE field_id = 2 AND"
				   " v_int = 1 AND source IS NULL"), 18);
	hb_store_close(&s);
}

/* More distinct statements than the statement cache holds: the oldest are dropped and the
   rest found again, each still answering its own query. */
TEST(store_statement_cache_evicts_and_finds)
{
	hb_store *s = new_store("cache.db");
	hb_error e = {0};
	hb_row *r = community_row("acme", "Acme");
	CHECK_INT(s->ops->insert(s, r, &e), HB_OK);
	const hb_kind *ck = hb_kind_get(HB_K_COMMUNITY);
	hb_cond acme = {hb_kind_col(ck, "key"), hb_value_str("acme")};
	for (int round = 0; round < 3; round++) {
		size_t distinct = 0;
		for (int k = 0; k < HB_K__COUNT; k++) { /* a statement per kind and column */
			const hb_kind *kind = hb_kind_get((hb_kind_id)k);
			for (size_t i = 1; i < kind->ncols; i++, distinct++) {
				hb_cond none = {(int)i, hb_value_null()};
				int64_t n = -1;
				CHECK_INT(s->ops->count(s, kind, &none, 1, &n, &e), HB_OK);
				CHECK(n >= 0);
			}
			int64_t n = -1;
			CHECK_INT(s->ops->count(s, ck, &acme, 1, &n, &e), HB_OK);
			CHECK_INT(n, 1);
		}
		CHECK(distinct > 128); /* more than the cache's CACHE_SLOTS */
	}
	hb_row_free(&r);
	hb_store_close(&s);
}
