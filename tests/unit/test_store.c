/* Unit tests of the store: descriptors match the migrated schema; migrations and versions. */
#include <sqlite3.h>
#include <stdio.h>

#include "harness.h"
#include "model/kind.h"
#include "store/store.h"

TEST(store_schema_matches_descriptors)
{
	char path[300];
	snprintf(path, sizeof path, "%s/a.db", hb_test_tmpdir());
	hb_store *s = NULL;
	hb_error e = {0};
	CHECK_INT(hb_store_open(path, true, &s, &e), HB_OK);
	hb_store_close(&s);
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
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
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(hb_store_open(path, false, &s, &e), HB_ERR_VERSION);
	CHECK_CONTAINS(e.message, "schema version 7");
	CHECK(s == NULL);
}

TEST(store_refuses_postgres_until_built)
{
	hb_store *s = NULL;
	hb_error e = {0};
	CHECK_INT(hb_store_open("postgresql://localhost/x", true, &s, &e), HB_ERR_UNSUPPORTED);
	CHECK_CONTAINS(e.message, "PostgreSQL storage is not available");
}
