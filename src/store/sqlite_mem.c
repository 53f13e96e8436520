/* sqlite_mem.c - SQLite's memory: small blocks from per-thread free lists.
 *
 * SQLite normally keeps a connection's short-lived allocations (cursors, records being built,
 * copies of bound strings) in its lookaside buffer. Debian's libsqlite3 is built with
 * SQLITE_OMIT_LOOKASIDE, so each of them is a malloc and a free: about fifty of each per
 * delivery, and glibc's small-block cache holds only seven blocks of a size, so most frees took
 * its slow path. This allocator, installed with SQLITE_CONFIG_MALLOC before SQLite starts, plays
 * lookaside's part: blocks up to HB_MEM_CLASS_MAX bytes are rounded to a power of two and, when
 * freed, kept on the freeing thread's list for that size, up to LIST_BYTES per list; larger
 * blocks go straight to malloc. No lock is needed: a thread only touches its own lists, and a
 * block may be freed by any thread because its header says its size. A thread's lists are
 * returned to malloc when it exits.
 *
 * It also turns SQLite's memory statistics off (SQLITE_CONFIG_MEMSTATUS): hookbridge reads none,
 * and keeping them took a global mutex around every allocation. */
#include "store/sqlite_int.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CLASS_MIN_SHIFT 5 /* 32 bytes */
#define NCLASS 8	  /* 32 … 4096 bytes */
#define HB_MEM_CLASS_MAX (1u << (CLASS_MIN_SHIFT + NCLASS - 1))
#define LIST_BYTES (64u * 1024) /* the most a thread keeps of one size */
#define BIG UINT32_MAX		/* header class of a block from malloc */

/* Before every block; 16 bytes, so the block keeps malloc's alignment. */
typedef union header {
	struct {
		uint32_t cls;  /* size class, or BIG */
		uint32_t size; /* bytes usable */
	} h;
	max_align_t align;
} header;

typedef struct free_block {
	struct free_block *next;
} free_block;

typedef struct thread_lists {
	free_block *head[NCLASS];
	uint32_t count[NCLASS];
	bool registered; /* the exit destructor knows this thread */
} thread_lists;

static _Thread_local thread_lists lists;
static pthread_key_t exit_key;

static uint32_t class_size(uint32_t cls)
{
	return 1u << (cls + CLASS_MIN_SHIFT);
}

/* The smallest class holding n bytes, n at most HB_MEM_CLASS_MAX. */
static uint32_t class_of(size_t n)
{
	if (n <= class_size(0))
		return 0;
	return (uint32_t)(32 - __builtin_clz((unsigned)n - 1)) - CLASS_MIN_SHIFT;
}

/* A thread's lists back to malloc: at its exit (the key's destructor) and at shutdown. */
static void release_lists(void *arg)
{
	thread_lists *l = arg;
	for (int c = 0; c < NCLASS; c++) {
		while (l->head[c]) {
			free_block *b = l->head[c];
			l->head[c] = b->next;
			free((header *)b - 1);
		}
		l->count[c] = 0;
	}
}

static void *mem_malloc(int n)
{
	if (n <= 0)
		return NULL;
	size_t want = (size_t)n;
	if (want > HB_MEM_CLASS_MAX) {
		header *h = malloc(sizeof *h + want);
		if (!h)
			return NULL;
		h->h.cls = BIG;
		h->h.size = (uint32_t)want;
		return h + 1;
	}
	uint32_t c = class_of(want);
	free_block *b = lists.head[c];
	if (b) {
		lists.head[c] = b->next;
		lists.count[c]--;
		return b;
	}
	header *h = malloc(sizeof *h + class_size(c));
	if (!h)
		return NULL;
	h->h.cls = c;
	h->h.size = class_size(c);
	return h + 1;
}

static void mem_free(void *p)
{
	if (!p)
		return;
	header *h = (header *)p - 1;
	uint32_t c = h->h.cls;
	if (c == BIG || lists.count[c] >= LIST_BYTES / class_size(c)) {
		free(h);
		return;
	}
	if (!lists.registered) { /* first block kept by this thread: free its lists at exit */
		lists.registered = true;
		pthread_setspecific(exit_key, &lists);
	}
	free_block *b = p;
	b->next = lists.head[c];
	lists.head[c] = b;
	lists.count[c]++;
}

static int mem_size(void *p)
{
	return p ? (int)((header *)p - 1)->h.size : 0;
}

static void *mem_realloc(void *p, int n)
{
	if (!p)
		return mem_malloc(n);
	if (n <= 0)
		return NULL;
	int have = mem_size(p);
	if ((size_t)n <= (size_t)have && ((header *)p - 1)->h.cls != BIG)
		return p; /* still fits its class */
	void *q = mem_malloc(n);
	if (q) {
		memcpy(q, p, (size_t)(have < n ? have : n));
		mem_free(p);
	}
	return q;
}

static int mem_roundup(int n)
{
	if (n <= 0)
		return 0;
	if ((size_t)n > HB_MEM_CLASS_MAX)
		return (n + 7) & ~7;
	return (int)class_size(class_of((size_t)n));
}

static int mem_init(void *unused)
{
	(void)unused;
	return pthread_key_create(&exit_key, release_lists) == 0 ? SQLITE_OK : SQLITE_NOMEM;
}

static void mem_shutdown(void *unused)
{
	(void)unused;
	release_lists(&lists);
}

static void configure(void)
{
	static const sqlite3_mem_methods methods = {
		.xMalloc = mem_malloc,
		.xFree = mem_free,
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
