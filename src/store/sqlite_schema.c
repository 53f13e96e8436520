/*
 * sqlite_schema.c - the SQLite schema as numbered migrations. Migration N brings a database
 * from user_version N-1 to N; a released migration is never edited, only followed by another.
 * Columns must match the descriptors in model/kind.c (tests/unit/test_store.c checks it).
 */
#include <stddef.h>

#include "store/sqlite_int.h"

#define TIMES "created_at TEXT NOT NULL, updated_at TEXT NOT NULL"

static const char migration_1[] =
	"CREATE TABLE communities ("
	" id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
	" enhanced_integrations INTEGER NOT NULL DEFAULT 0, " TIMES ");"

	"CREATE TABLE projects ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active', " TIMES ","
	" UNIQUE (community_id, key));"

	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" email TEXT NOT NULL, first_name TEXT, last_name TEXT, username TEXT, phone TEXT,"
	" company TEXT, street1 TEXT, street2 TEXT, city TEXT, state TEXT, postal_code TEXT,"
	" country TEXT, " TIMES ", UNIQUE (community_id, email));"

	"CREATE TABLE participations ("
	" id INTEGER PRIMARY KEY,"
	" project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" status TEXT NOT NULL DEFAULT 'active', team TEXT, score INTEGER, " TIMES ","
	" UNIQUE (project_id, user_id));"
	"CREATE INDEX participations_user ON participations(user_id);"

	"CREATE TABLE user_notes ("
	" id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" body TEXT NOT NULL, source TEXT, created_at TEXT NOT NULL);"
	"CREATE INDEX user_notes_user ON user_notes(user_id);"

	"CREATE TABLE feedback_types ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,"
	" key TEXT NOT NULL, name TEXT NOT NULL, plural_name TEXT, prefix TEXT NOT NULL,"
	" digits INTEGER NOT NULL, start_number INTEGER NOT NULL, next_number INTEGER NOT NULL,"
	" statuses TEXT NOT NULL, default_status TEXT NOT NULL, " TIMES ","
	" UNIQUE (project_id, key), UNIQUE (community_id, prefix));"

	"CREATE TABLE feedback ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,"
	" type_id INTEGER NOT NULL REFERENCES feedback_types(id) ON DELETE RESTRICT,"
	" number INTEGER NOT NULL, title TEXT NOT NULL, description TEXT, severity TEXT,"
	" status TEXT NOT NULL,"
	" submitter_id INTEGER NOT NULL REFERENCES users(id) ON DELETE RESTRICT,"
	" tracking_id TEXT, " TIMES ", UNIQUE (type_id, number));"
	"CREATE INDEX feedback_project ON feedback(project_id);"
	"CREATE INDEX feedback_submitter ON feedback(submitter_id);"

	"CREATE TABLE feedback_replies ("
	" id INTEGER PRIMARY KEY,"
	" feedback_id INTEGER NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,"
	" body TEXT NOT NULL, author TEXT, created_at TEXT NOT NULL);"
	"CREATE INDEX feedback_replies_feedback ON feedback_replies(feedback_id);"

	"CREATE TABLE xdata_groups ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, name TEXT NOT NULL,"
	" target TEXT NOT NULL CHECK (target IN ('users', 'feedback', 'projects')), " TIMES ","
	" UNIQUE (community_id, key));"

	"CREATE TABLE xdata_fields ("
	" id INTEGER PRIMARY KEY,"
	" group_id INTEGER NOT NULL REFERENCES xdata_groups(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, label TEXT NOT NULL, param TEXT NOT NULL,"
	" type TEXT NOT NULL CHECK (type IN ('boolean', 'datetime', 'integer', 'string')),"
	" favorite INTEGER NOT NULL DEFAULT 0, position INTEGER NOT NULL, " TIMES ","
	" UNIQUE (group_id, key));"

#define XVALUES(table, records)                                                             \
	"CREATE TABLE " table " ("                                                          \
	" field_id INTEGER NOT NULL REFERENCES xdata_fields(id) ON DELETE CASCADE,"          \
	" record_id INTEGER NOT NULL REFERENCES " records "(id) ON DELETE CASCADE,"          \
	" v_int INTEGER, v_text TEXT, set_at TEXT NOT NULL, source TEXT,"                    \
	" PRIMARY KEY (field_id, record_id)) WITHOUT ROWID;"                                 \
	"CREATE INDEX " table "_record ON " table "(record_id);"                             \
	"CREATE INDEX " table "_int ON " table "(field_id, v_int);"                          \
	"CREATE INDEX " table "_text ON " table "(field_id, v_text);"
	XVALUES("user_xvalues", "users")
	XVALUES("feedback_xvalues", "feedback")
	XVALUES("project_xvalues", "projects")

	"CREATE TABLE macros ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,"
	" feedback_type_id INTEGER REFERENCES feedback_types(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, name TEXT NOT NULL, description TEXT,"
	" target TEXT NOT NULL CHECK (target IN ('users', 'feedback')),"
	" enabled INTEGER NOT NULL DEFAULT 1, " TIMES ", UNIQUE (community_id, key));"

	"CREATE TABLE macro_actions ("
	" id INTEGER PRIMARY KEY,"
	" macro_id INTEGER NOT NULL REFERENCES macros(id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL, type TEXT NOT NULL, method TEXT, url TEXT, headers TEXT,"
	" content_type TEXT, body TEXT,"
	" capture_group_id INTEGER REFERENCES xdata_groups(id) ON DELETE RESTRICT,"
	" signing_secret TEXT, timeout_ms INTEGER, retry_schedule TEXT, params TEXT,"
	" UNIQUE (macro_id, position));"

	"CREATE TABLE api_keys ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, description TEXT, prefix TEXT NOT NULL UNIQUE,"
	" secret_hash TEXT NOT NULL, role TEXT NOT NULL, projects TEXT, allow_ips TEXT,"
	" enabled INTEGER NOT NULL DEFAULT 1, last_used_at TEXT, use_count INTEGER NOT NULL DEFAULT 0,"
	" " TIMES ");";

/* Version 2: the secret store, runs, durable deliveries and their attempts. A delivery is one
   webhook action for one record; `due_at` (Unix milliseconds) is when a pending delivery is
   next due, or when the lease of a delivery being sent runs out. */
static const char migration_2[] =
	"CREATE TABLE secrets ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, value TEXT NOT NULL, " TIMES ", UNIQUE (community_id, name));"

	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" macro_id INTEGER NOT NULL REFERENCES macros(id) ON DELETE CASCADE,"
	" token TEXT NOT NULL, started_by TEXT NOT NULL, selection TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('creating', 'running', 'finished')),"
	" total INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, finished_at TEXT);"
	"CREATE INDEX runs_macro ON runs(macro_id, id);"

	"CREATE TABLE deliveries ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	" record_id INTEGER NOT NULL, position INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN"
	"  ('waiting', 'pending', 'sending', 'succeeded', 'failed', 'skipped')),"
	" attempts INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL,"
	" last_status INTEGER, last_error TEXT, " TIMES ","
	" UNIQUE (run_id, record_id, position));"
	"CREATE INDEX deliveries_due ON deliveries(due_at) WHERE status IN ('pending', 'sending');"
	"CREATE INDEX deliveries_status ON deliveries(run_id, status);"
	/* only failed ones: every other change of state leaves this index alone */
	"CREATE INDEX deliveries_failed ON deliveries(updated_at) WHERE status = 'failed';"

	"CREATE TABLE delivery_attempts ("
	" id INTEGER PRIMARY KEY,"
	" delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,"
	" number INTEGER NOT NULL, started_at TEXT NOT NULL, duration_ms INTEGER NOT NULL,"
	" request TEXT NOT NULL, status INTEGER, response TEXT, error_class TEXT, error TEXT,"
	" capture TEXT, UNIQUE (delivery_id, number));";

/* Version 3: saved filters and views (query/filter.h, docs/filters.md). */
static const char migration_3[] =
	"CREATE TABLE filters ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, name TEXT NOT NULL,"
	" target TEXT NOT NULL CHECK (target IN ('users', 'feedback')),"
	" project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,"
	" expression TEXT NOT NULL, " TIMES ", UNIQUE (community_id, key));"

	"CREATE TABLE views ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, name TEXT NOT NULL,"
	" target TEXT NOT NULL CHECK (target IN ('users', 'feedback')),"
	" columns TEXT NOT NULL, " TIMES ", UNIQUE (community_id, key));";

/* Version 4: data packages (query/package.h, docs/filters.md). A view in use by a package
   cannot be deleted (RESTRICT); the package's filter is text, checked when it is used. */
static const char migration_4[] =
	"CREATE TABLE packages ("
	" id INTEGER PRIMARY KEY,"
	" community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, name TEXT NOT NULL,"
	" target TEXT NOT NULL CHECK (target IN ('users', 'feedback')),"
	" project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,"
	" filter TEXT,"
	" view_id INTEGER REFERENCES views(id) ON DELETE RESTRICT,"
	" format TEXT NOT NULL CHECK (format IN ('json', 'csv')),"
	" " TIMES ", UNIQUE (community_id, key));";

/* Version 5: a run's creation can be resumed, and lists page without sorting. spec says how the records were chosen (JSON:
   {"all":true}, {"filter":TEXT} or {"ids":[…]}), cursor how far creation got in it, and
   lease_until (Unix ms) how long its creator holds it; a creator that stops renewing its lease
   has died, and a worker carries the creation on (deliver/run.h). */
static const char migration_5[] =
	"ALTER TABLE runs ADD COLUMN spec TEXT;"
	"ALTER TABLE runs ADD COLUMN cursor INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE runs ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;"
	/* Lists page in id order under an equality (a community's users, a run's deliveries): an
	   index on the equality column alone ends in the rowid, so a page is one range read. The
	   unique indexes have another column between the two, which made every page sort the
	   whole set (a million-record run took minutes to create). */
	"CREATE INDEX users_community ON users(community_id);"
	"CREATE INDEX feedback_community ON feedback(community_id);"
	"CREATE INDEX feedback_type ON feedback(type_id);"
	"CREATE INDEX participations_project ON participations(project_id);"
	"CREATE INDEX deliveries_run ON deliveries(run_id);";

/* Version 6: cheaper writes of deliveries and External Data, same meaning.
 * - A delivery's status CHECK lists its six states with OR instead of IN: SQLite builds a
 *   temporary table for an IN list of more than two values each time a CHECK is evaluated,
 *   which was about a quarter of the cost of updating a delivery. The text of the table's
 *   definition is changed in place (SQLite's documented way to change a CHECK: no row is
 *   rewritten, and every stored status passes both forms); RESET reloads it here, and the
 *   index statements after it change the schema cookie, so other connections reload it too.
 * - A value is either an integer (booleans too) or text, never both, so each (field, value)
 *   index holds only the values of its own column: a value written updates one of them instead
 *   of both. A comparison on v_int or v_text implies that it is not null, so filters still use
 *   them (sqlite_query.c).
 * - The partial delivery indexes test `+status`, not `status`: SQLite compares a bound status
 *   in any query with a partial index's condition on that column, and then prepares the
 *   statement again at every use (a run's next webhook, a list filtered by state), which cost
 *   more than the query. The queries meant for these indexes say `+status` too. */
#define PARTIAL_XVALUES(table)                                                               \
	"DROP INDEX " table "_int; DROP INDEX " table "_text;"                                \
	"CREATE INDEX " table "_int ON " table "(field_id, v_int) WHERE v_int IS NOT NULL;"  \
	"CREATE INDEX " table "_text ON " table "(field_id, v_text) WHERE v_text IS NOT NULL;"
static const char migration_6[] =
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	" 'CHECK (status IN  (''waiting'', ''pending'', ''sending'', ''succeeded'', ''failed'', ''skipped''))',"
	" 'CHECK (status = ''waiting'' OR status = ''pending'' OR status = ''sending'''"
	" || ' OR status = ''succeeded'' OR status = ''failed'' OR status = ''skipped'')')"
	" WHERE type = 'table' AND name = 'deliveries';"
	"PRAGMA writable_schema = RESET;"
	PARTIAL_XVALUES("user_xvalues") PARTIAL_XVALUES("feedback_xvalues")
	PARTIAL_XVALUES("project_xvalues")
	"DROP INDEX deliveries_due; DROP INDEX deliveries_failed;"
	"CREATE INDEX deliveries_due ON deliveries(due_at) WHERE +status IN ('pending', 'sending');"
	"CREATE INDEX deliveries_failed ON deliveries(updated_at) WHERE +status = 'failed';";

/* Version 7: a run's deliveries are counted by state in run_counts, kept by the writes that
 * change a delivery's state (store.h: run_counts_add), instead of read from an index on
 * (run_id, status). Every delivery changes state at least twice (claimed, then answered), and
 * each change moved its entry in that index: about a third of the SQLite work of a delivery,
 * where the counts are one row per run, written once per batch. The counts start from the
 * deliveries there are. */
static const char migration_7[] =
	"CREATE TABLE run_counts ("
	" run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
	" waiting INTEGER NOT NULL DEFAULT 0, pending INTEGER NOT NULL DEFAULT 0,"
	" sending INTEGER NOT NULL DEFAULT 0, succeeded INTEGER NOT NULL DEFAULT 0,"
	" failed INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO run_counts (run_id, waiting, pending, sending, succeeded, failed, skipped)"
	" SELECT id, (SELECT count(*) FROM deliveries WHERE run_id = runs.id AND status = 'waiting'),"
	" (SELECT count(*) FROM deliveries WHERE run_id = runs.id AND status = 'pending'),"
	" (SELECT count(*) FROM deliveries WHERE run_id = runs.id AND status = 'sending'),"
	" (SELECT count(*) FROM deliveries WHERE run_id = runs.id AND status = 'succeeded'),"
	" (SELECT count(*) FROM deliveries WHERE run_id = runs.id AND status = 'failed'),"
	" (SELECT count(*) FROM deliveries WHERE run_id = runs.id AND status = 'skipped')"
	" FROM runs;"
	"DROP INDEX deliveries_status;";

/* Version 8: each External Data table is keyed by (record, field) and has one index,
 * (field, v_int, v_text), instead of a (field, record) key with three indexes (record, and one
 * partial (field, value) index per value column). A captured value was written to the table
 * and two indexes, plus a check of a third's condition; now to the table and one index, about
 * a quarter less work. The key answers a record's values, the joins of views and reports and
 * the cascade when a record is deleted; the index answers every filter (a field's values:
 * `field_id = ?`, then `v_int` for booleans and integers, or `v_int IS NULL` and `v_text` for
 * strings and times, sqlite_query.c) and the cascade when a field is deleted. Each table is
 * rebuilt, its rows copied as they are. */
#define REKEY_XVALUES(table, records)                                                       \
	"CREATE TABLE " table "_new ("                                                      \
	" field_id INTEGER NOT NULL REFERENCES xdata_fields(id) ON DELETE CASCADE,"          \
	" record_id INTEGER NOT NULL REFERENCES " records "(id) ON DELETE CASCADE,"          \
	" v_int INTEGER, v_text TEXT, set_at TEXT NOT NULL, source TEXT,"                    \
	" PRIMARY KEY (record_id, field_id)) WITHOUT ROWID;"                                 \
	"INSERT INTO " table "_new (field_id, record_id, v_int, v_text, set_at, source)"    \
	" SELECT field_id, record_id, v_int, v_text, set_at, source FROM " table ";"         \
	"DROP TABLE " table ";"                                                              \
	"ALTER TABLE " table "_new RENAME TO " table ";"                                     \
	"CREATE INDEX " table "_value ON " table "(field_id, v_int, v_text);"
static const char migration_8[] = REKEY_XVALUES("user_xvalues", "users")
	REKEY_XVALUES("feedback_xvalues", "feedback") REKEY_XVALUES("project_xvalues", "projects");

/* Version 9: a claimed delivery stays where it is in the due index. The index held the
 * deliveries pending or being sent by `+status`, and a claim both changed the state and set
 * due_at to the end of its lease, so it moved every claimed delivery's entry (a delete and an
 * insert, about half the claim's work). Now the index holds the rows with due_at > 0, and
 * due_at > 0 exactly while a delivery is pending or being sent (a CHECK says so; every other
 * state has due_at = 0); a claim keeps due_at and writes the lease into lease_until, which no
 * index holds. A claim reads the due rows in due order and takes the pending ones and those
 * being sent whose lease has run out. lease_until means something only while sending. The
 * CHECK is added in place by SQLite's writable_schema procedure (as in version 6), after the
 * rows are made to satisfy it: a delivery being sent keeps its lease (until its old due_at),
 * one pending or being sent with due_at 0 becomes due at once, and the others get 0. */
static const char migration_9[] =
	"ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;"
	"UPDATE deliveries SET lease_until = due_at WHERE status = 'sending';"
	"UPDATE deliveries SET due_at = 1"
	" WHERE (status = 'pending' OR status = 'sending') AND due_at <= 0;"
	"UPDATE deliveries SET due_at = 0"
	" WHERE NOT (status = 'pending' OR status = 'sending') AND due_at <> 0;"
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(sql, 'UNIQUE (run_id, record_id, position))',"
	" 'UNIQUE (run_id, record_id, position),"
	" CHECK ((due_at > 0) = (status = ''pending'' OR status = ''sending'')))')"
	" WHERE type = 'table' AND name = 'deliveries';"
	"PRAGMA writable_schema = RESET;"
	"DROP INDEX deliveries_due;"
	"CREATE INDEX deliveries_due ON deliveries(due_at) WHERE due_at > 0;";

const char *const hb_sqlite_migrations[] = {
	NULL, /* version 0: the empty database */
	migration_1,
	migration_2,
	migration_3,
	migration_4,
	migration_5,
	migration_6,
	migration_7,
	migration_8,
	migration_9,
};
const int hb_sqlite_nmigrations = (int)(sizeof hb_sqlite_migrations / sizeof hb_sqlite_migrations[0]) - 1;
