/* sqlite_checkpoint.c - the WAL copied back into the database by a thread of its own.
 *
 * In WAL mode a commit appends pages to the -wal file; a checkpoint copies them back into the
 * database file and fsyncs both. SQLite runs it in the committing connection, after the commit
 * that takes the log past its threshold, so that connection waits on two fsyncs: during a run
 * of deliveries, about a twentieth of the wall time went by in fdatasync with nothing else
 * done. Here the store's connection only notices that the log is long (sqlite3_wal_hook, after
 * each commit) and wakes a checkpointer thread, which copies the pages through a second
 * connection of its own while the first goes on delivering.
 *
 * DESIGN. The thread runs PASSIVE checkpoints: they never wait for, nor block, readers and
 * writers, so the store's transactions go on as before; frames committed meanwhile are left
 * for the next one. SQLite begins the log again from its start once a writer finds it all
 * copied back, which a writer that never pauses may not give it a chance to find. The thread
 * starts at the first long log, so short commands never start it. So if the log outgrows four
 * times its threshold (the thread could not start, or the writer never pauses), the committing
 * connection waits for the thread's checkpoint to end, holds the thread back and copies the
 * rest itself, as SQLite would: its next transaction then begins the log again. Closing stops
 * and joins the thread before the store's connection closes; the last connection to close
 * checkpoints what is left, as SQLite always does. */
#include "store/sqlite_int.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/mem.h"

struct hb_checkpointer {
	char *path;
	int pages; /* the log length that asks for a checkpoint */
	bool started; /* the thread was created (only the committing thread reads and writes it) */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	/* under lock */
	bool wanted;   /* the committing connection asks for a checkpoint */
	bool running;  /* the thread is running one */
	bool held;     /* the committing connection is running one itself: the thread waits */
	bool stopping; /* the store is closing */
	bool broken;   /* the thread could not open its connection, and has ended */
};

static void *checkpoint_main(void *arg)
{
	hb_checkpointer *c = arg;
	sqlite3 *db = NULL;
	bool opened = sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				      hb_sqlite_vfs()) == SQLITE_OK &&
		      sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) == SQLITE_OK;
	pthread_mutex_lock(&c->lock);
	c->broken = !opened;
	while (opened) {
		while ((!c->wanted || c->held) && !c->stopping)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stopping)
			break;
		c->wanted = false;
		c->running = true;
		pthread_mutex_unlock(&c->lock);
		/* SQLITE_BUSY (another process's checkpoint under way) leaves it to the next time */
		sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->lock);
		c->running = false;
		pthread_cond_broadcast(&c->idle);
	}
	pthread_mutex_unlock(&c->lock);
	sqlite3_close(db);
	return NULL;
}

/* The thread, with every signal blocked: signals stay with the threads that wait for them. */
static bool start_thread(hb_checkpointer *c)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	bool ok = pthread_create(&c->thread, NULL, checkpoint_main, c) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

/* The log copied back by the committing connection itself, the thread (if any) waiting: after
   it, with nothing left to copy, the connection's next transaction begins the log again. */
static void checkpoint_here(hb_checkpointer *c, sqlite3 *db, const char *name)
{
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->held = true;
		c->wanted = false;
		while (c->running)
			pthread_cond_wait(&c->idle, &c->lock);
		pthread_mutex_unlock(&c->lock);
	}
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->held = false;
		pthread_mutex_unlock(&c->lock);
	}
}

/* sqlite3_wal_hook's callback: after each commit, with the log's length in pages. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int log_pages)
{
	hb_checkpointer *c = arg;
	if (log_pages < c->pages)
		return SQLITE_OK;
	if (!c->started)
		c->started = start_thread(c);
	bool handed = false;
	if (c->started && log_pages < 4 * c->pages) {
		pthread_mutex_lock(&c->lock);
		handed = !c->broken;
		c->wanted = handed;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
	/* no thread, or a log it has not kept short (a writer that never pauses keeps adding
	   pages while it copies): copied back here, as SQLite would */
	if (!handed)
		checkpoint_here(c, db, name);
	return SQLITE_OK;
}

hb_checkpointer *hb_checkpointer_attach(sqlite3 *db, const char *path, int pages)
{
	hb_checkpointer *c = hb_calloc(1, sizeof *c);
	c->path = hb_strdup(path);
	c->pages = pages;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->idle, NULL);
	sqlite3_wal_hook(db, on_commit, c);
	return c;
}

void hb_checkpointer_detach(hb_checkpointer **cp, sqlite3 *db)
{
	hb_checkpointer *c = *cp;
	if (!c)
		return;
	sqlite3_wal_hook(db, NULL, NULL);
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stopping = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->lock);
	free(c->path);
	free(c);
	*cp = NULL;
}
