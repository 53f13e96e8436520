/* pool.c - see pool.h. */
#include "core/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CLASS_MIN_SHIFT 5 /* 32 bytes */
#define NCLASS 8	  /* 32 … 4096 bytes */
/* The most a thread keeps of one size; nothing under AddressSanitizer, so that it sees when
   each block is freed and catches a use after it. */
#if defined(__SANITIZE_ADDRESS__)
#define LIST_BYTES 0u
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIST_BYTES 0u
#endif
#endif
#ifndef LIST_BYTES
#define LIST_BYTES (64u * 1024)
#endif
#define BIG UINT32_MAX		/* header class of a block from malloc */

_Static_assert(HB_POOL_CLASS_MAX == 1u << (CLASS_MIN_SHIFT + NCLASS - 1), "classes and max");

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
static bool have_exit_key;

static uint32_t class_size(uint32_t cls)
{
	return 1u << (cls + CLASS_MIN_SHIFT);
}

/* The smallest class holding n bytes, n at most HB_POOL_CLASS_MAX. */
static uint32_t class_of(size_t n)
{
	if (n <= class_size(0))
		return 0;
	return (uint32_t)(32 - __builtin_clz((unsigned)n - 1)) - CLASS_MIN_SHIFT;
}

/* A thread's lists back to malloc: at its exit (the key's destructor) and on request. */
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

static void make_exit_key(void)
{
	have_exit_key = pthread_key_create(&exit_key, release_lists) == 0;
}

void *hb_pool_alloc(size_t n)
{
	if (n == 0)
		n = 1;
	if (n > HB_POOL_CLASS_MAX) {
		if (n > UINT32_MAX - sizeof(header))
			return NULL;
		header *h = malloc(sizeof *h + n);
		if (!h)
			return NULL;
		h->h.cls = BIG;
		h->h.size = (uint32_t)n;
		return h + 1;
	}
	uint32_t c = class_of(n);
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

void hb_pool_free(void *p)
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
		static pthread_once_t once = PTHREAD_ONCE_INIT;
		pthread_once(&once, make_exit_key);
		if (!have_exit_key) {
			free(h);
			return;
		}
		lists.registered = true;
		pthread_setspecific(exit_key, &lists);
	}
	free_block *b = p;
	b->next = lists.head[c];
	lists.head[c] = b;
	lists.count[c]++;
}

size_t hb_pool_size(const void *p)
{
	return p ? ((const header *)p - 1)->h.size : 0;
}

void *hb_pool_realloc(void *p, size_t n)
{
	if (!p)
		return hb_pool_alloc(n);
	size_t have = hb_pool_size(p);
	if (n <= have && ((header *)p - 1)->h.cls != BIG)
		return p; /* still fits its class */
	void *q = hb_pool_alloc(n);
	if (q) {
		memcpy(q, p, have < n ? have : n);
		hb_pool_free(p);
	}
	return q;
}

size_t hb_pool_roundup(size_t n)
{
	if (n == 0)
		n = 1;
	if (n > HB_POOL_CLASS_MAX)
		return (n + 7) & ~(size_t)7;
	return class_size(class_of(n));
}

void hb_pool_release_thread(void)
{
	release_lists(&lists);
}
