/* test_sqlite_vfs.c - the store's SQLite files. Its VFS (store/sqlite_vfs.c): a WAL commit is
   written in a few system calls, is complete for other connections as soon as it commits, and
   a process killed or refused a write never leaves half a commit behind. Its checkpointer
   (store/sqlite_checkpoint.c): the log is copied back by a thread of its own, and stays short. */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "store/sqlite_int.h"

#define ROW_BYTES 1000

static sqlite3 *open_db(const char *path, const char *vfs)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", NULL, NULL,
		     NULL);
	return db;
}

/* A database path in a fresh directory (each call makes a new one). */
static const char *db_path(const char *name)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", hb_test_tmpdir(), name);
	return path;
}

/* Inserts n rows of ROW_BYTES into t, in the transaction open or its own. */
static int insert_rows(sqlite3 *db, int n)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d)"
		 " INSERT INTO t (v) SELECT randomblob(%d) FROM k;",
		 n, ROW_BYTES);
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Adds n rows of ROW_BYTES to t in one transaction; the SQLite result of the commit. */
static int add_rows(sqlite3 *db, int n)
{
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = insert_rows(db, n);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* A new database at path, through the store's VFS, with table t holding rows rows. */
static sqlite3 *new_table(const char *path, int rows)
{
	sqlite3 *db = open_db(path, hb_sqlite_vfs());
	if (db && (sqlite3_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)", NULL, NULL,
				NULL) != SQLITE_OK ||
		   add_rows(db, rows) != SQLITE_OK)) {
		sqlite3_close(db);
		db = NULL;
	}
	return db;
}

static long long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long n = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static bool intact(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
		  sqlite3_step(st) == SQLITE_ROW &&
		  strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	return ok;
}

TEST(sqlite_vfs_gathers_a_commit_and_shows_it_at_once)
{
	const char *vfs = hb_sqlite_vfs();
	CHECK(vfs != NULL);
	const char *path = db_path("gather.db");
	sqlite3 *w = open_db(path, vfs);
	CHECK(w != NULL);
	CHECK_INT(
	    sqlite3_exec(w, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)", NULL, NULL, NULL),
	    SQLITE_OK);
	/* a reader on the plain unix VFS, as another process would be */
	sqlite3 *r = open_db(path, "unix");
	CHECK(r != NULL);
	CHECK_INT(count(r, "SELECT count(*) FROM t"), 0);

	unsigned long asked0, made0, asked1, made1;
	hb_sqlite_vfs_writes(&asked0, &made0);
	CHECK_INT(add_rows(w, 200), SQLITE_OK); /* about fifty pages */
	hb_sqlite_vfs_writes(&asked1, &made1);
	unsigned long asked = asked1 - asked0, made = made1 - made0;
	/* a header and a page per frame, asked; gathered 64 KiB at a time, made */
	CHECK(asked >= 100);
	CHECK(made <= asked / 8);
	CHECK_INT(count(r, "SELECT count(*) FROM t"), 200);
	CHECK_INT(count(r, "SELECT sum(length(v)) FROM t"), 200 * ROW_BYTES);

	/* small commits, one after another, each whole for the reader at once */
	for (int i = 1; i <= 20; i++) {
		CHECK_INT(add_rows(w, 1), SQLITE_OK);
		CHECK_INT(count(r, "SELECT count(*) FROM t"), 200 + i);
	}
	CHECK_INT(sqlite3_wal_checkpoint_v2(w, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
		  SQLITE_OK);
	CHECK_INT(add_rows(w, 30), SQLITE_OK); /* the log starts again from its header */
	CHECK_INT(count(r, "SELECT count(*) FROM t"), 250);
	CHECK(intact(r));
	sqlite3_close(r);
	sqlite3_close(w);
}

/* Runs child() in a child process; its exit status, or 128 + the signal that ended it. */
static int in_child(int (*child)(const char *), const char *path)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(path));
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* One commit, then a transaction large enough to spill frames into the log, then SIGKILL. */
static int commit_then_die(const char *path)
{
	sqlite3 *db = new_table(path, 100);
	if (!db)
		return 1;
	sqlite3_exec(db, "PRAGMA cache_size = 10", NULL, NULL, NULL);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    insert_rows(db, 400) != SQLITE_OK)
		return 3;
	kill(getpid(), SIGKILL);
	return 4;
}

TEST(sqlite_vfs_killed_process_keeps_whole_commits)
{
	const char *path = db_path("killed.db");
	CHECK_INT(in_child(commit_then_die, path), 128 + SIGKILL);
	sqlite3 *db = open_db(path, hb_sqlite_vfs());
	CHECK(db != NULL);
	CHECK_INT(count(db, "SELECT count(*) FROM t"), 100);
	CHECK(intact(db));
	CHECK_INT(add_rows(db, 5), SQLITE_OK);
	CHECK_INT(count(db, "SELECT count(*) FROM t"), 105);
	sqlite3_close(db);
}

/* One commit; then the files may grow by 16 KiB only, and a commit of 200 KiB must fail. */
static int commit_past_limit(const char *path)
{
	sqlite3 *db = new_table(path, 10);
	if (!db)
		return 1;
	char wal[512];
	snprintf(wal, sizeof wal, "%s-wal", path);
	FILE *f = fopen(wal, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0)
		return 3;
	long size = ftell(f);
	fclose(f);
	signal(SIGXFSZ, SIG_IGN); /* a write past the limit then fails with EFBIG */
	struct rlimit lim = {.rlim_cur = (rlim_t)size + 16384, .rlim_max = RLIM_INFINITY};
	if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
		return 4;
	int rc = add_rows(db, 200);
	if (rc == SQLITE_OK)
		return 5;
	if (count(db, "SELECT count(*) FROM t") != 10)
		return 6;
	sqlite3_close(db);
	return 0;
}

TEST(sqlite_vfs_refused_write_fails_the_commit)
{
	const char *path = db_path("limited.db");
	CHECK_INT(in_child(commit_past_limit, path), 0);
	sqlite3 *db = open_db(path, hb_sqlite_vfs());
	CHECK(db != NULL);
	CHECK_INT(count(db, "SELECT count(*) FROM t"), 10);
	CHECK(intact(db));
	sqlite3_close(db);
}

/* 300 commits of 1 to 60 rows of ROW_BYTES, each with its row count in `batches`. */
static int commit_batches(const char *path)
{
	sqlite3 *db = open_db(path, hb_sqlite_vfs());
	if (!db)
		return 1;
	sqlite3_busy_timeout(db, 5000);
	for (int i = 0; i < 300; i++) {
		char sql[64];
		int n = 1 + (i * 37) % 60;
		snprintf(sql, sizeof sql, "INSERT INTO batches (n) VALUES (%d)", n);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    insert_rows(db, n) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return 2;
	}
	sqlite3_close(db);
	return 0;
}

TEST(sqlite_vfs_another_process_sees_only_whole_commits)
{
	const char *path = db_path("shared.db");
	sqlite3 *r = open_db(path, "unix");
	CHECK(r != NULL);
	CHECK_INT(
	    sqlite3_exec(r,
			 "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);"
			 " CREATE TABLE batches (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_busy_timeout(r, 5000);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(commit_batches(path));
	CHECK(pid > 0);
	/* while the writer commits, every snapshot read here has as many rows as its batches say */
	long long reads = 0, torn = 0;
	int status = 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		long long gap = count(r, "SELECT (SELECT count(*) FROM t) -"
					 " (SELECT coalesce(sum(n), 0) FROM batches)");
		reads++;
		torn += gap != 0;
	}
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	CHECK(reads > 10);
	CHECK_INT(torn, 0);
	CHECK_INT(count(r, "SELECT count(*) FROM batches"), 300);
	CHECK_INT(count(r, "SELECT count(*) FROM t"), count(r, "SELECT sum(n) FROM batches"));
	CHECK(intact(r));
	sqlite3_close(r);
}

#define CKPT_PAGES 64 /* a small threshold, so that the tests write little */

static long long file_bytes(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

TEST(sqlite_checkpoint_runs_off_the_committing_thread)
{
	const char *path = db_path("ckpt.db");
	sqlite3 *db = new_table(path, 0);
	CHECK(db != NULL);
	hb_checkpointer *c = hb_checkpointer_attach(db, path, CKPT_PAGES);
	long long before = file_bytes(path);
	unsigned long syncs = hb_sqlite_vfs_db_syncs();
	for (int i = 0; i < 12; i++) /* about a hundred pages, ten a commit */
		CHECK_INT(add_rows(db, 40), SQLITE_OK);
	/* the pages reach the database file, copied by the thread: in WAL mode nothing else writes
	   it, and this thread synced no database file */
	for (int i = 0; i < 1000 && file_bytes(path) < before + CKPT_PAGES * 4096; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	CHECK(file_bytes(path) >= before + CKPT_PAGES * 4096);
	CHECK_INT(hb_sqlite_vfs_db_syncs(), syncs);
	hb_checkpointer_detach(&c, db);
	CHECK(c == NULL);
	sqlite3_close(db);
	sqlite3 *r = open_db(path, "unix");
	CHECK_INT(count(r, "SELECT count(*) FROM t"), 1 + 12 * 40); /* new_table makes one */
	CHECK(intact(r));
	sqlite3_close(r);
}

TEST(sqlite_checkpoint_keeps_the_log_short)
{
	const char *path = db_path("short.db");
	char wal[600];
	snprintf(wal, sizeof wal, "%s-wal", path);
	sqlite3 *db = new_table(path, 0);
	CHECK(db != NULL);
	hb_checkpointer *c = hb_checkpointer_attach(db, path, CKPT_PAGES);
	/* sixteen times the threshold, in commits of three pages, with no pause for the thread */
	long long longest = 0;
	for (int i = 0; i < 400; i++) {
		CHECK_INT(add_rows(db, 10), SQLITE_OK);
		long long n = file_bytes(wal);
		longest = n > longest ? n : longest;
	}
	/* at four times the threshold the committing connection copies the log back itself, and
	   its next transaction begins the log again: four times, and a commit */
	CHECK(longest < (4 * CKPT_PAGES + 16) * (4096 + 24));
	hb_checkpointer_detach(&c, db);
	sqlite3_close(db);
	sqlite3 *r = open_db(path, "unix");
	CHECK_INT(count(r, "SELECT count(*) FROM t"), 1 + 4000);
	CHECK(intact(r));
	sqlite3_close(r);
}
