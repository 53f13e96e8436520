/* sqlite_mem.c - SQLite's memory: small blocks from the per-thread pool (core/pool.h).
 *
 * SQLite normally keeps a connection's short-lived allocations (cursors, records being built,
 * copies of bound strings) in its lookaside buffer. Debian's libsqlite3 is built with
 * SQLITE_OMIT_LOOKASIDE, so each of them is a malloc and a free: about fifty of each per
 * delivery, and glibc's small-block cache holds only seven blocks of a size, so most frees took
 * its slow path. The pool, installed with SQLITE_CONFIG_MALLOC before SQLite starts, plays
 * lookaside's part.
 *
 * It also turns SQLite's memory statistics off (SQLITE_CONFIG_MEMSTATUS): hookbridge reads none,
 * and keeping them took a global mutex around every allocation. */
#include "store/sqlite_int.h"

#include <pthread.h>
#include <sqlite3.h>

#include "core/pool.h"

static void *mem_malloc(int n)
{
	return n > 0 ? hb_pool_alloc((size_t)n) : NULL;
}

static int mem_size(void *p)
{
	return (int)hb_pool_size(p);
}

static void *mem_realloc(void *p, int n)
{
	return n > 0 ? hb_pool_realloc(p, (size_t)n) : NULL;
}

static int mem_roundup(int n)
{
	return n > 0 ? (int)hb_pool_roundup((size_t)n) : 0;
}

static int mem_init(void *unused)
{
	(void)unused;
	return SQLITE_OK;
}

static void mem_shutdown(void *unused)
{
	(void)unused;
	hb_pool_release_thread();
}

static void configure(void)
{
	static const sqlite3_mem_methods methods = {
		.xMalloc = mem_malloc,
		.xFree = hb_pool_free,
		.xRealloc = mem_realloc,
		.xSize = mem_size,
		.xRoundup = mem_roundup,
		.xInit = mem_init,
		.xShutdown = mem_shutdown,
	};
	/* both fail harmlessly (SQLITE_MISUSE) if SQLite has already started: it then keeps
	   malloc and its statistics, which is slower but the same */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
}

void hb_sqlite_mem_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, configure);
}
