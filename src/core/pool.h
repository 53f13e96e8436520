/* pool.h - small blocks from per-thread free lists, for the libraries whose allocations sit on
 * the delivery path (SQLite, libcurl).
 *
 * A block up to HB_POOL_CLASS_MAX bytes is rounded up to a power of two and, when freed, kept on
 * the freeing thread's list for its size (up to a cap per list) for the next allocation of that
 * size; larger blocks come straight from malloc. No lock: a thread touches only its own lists,
 * and any thread may free any block because the block's header records its size. A thread's
 * lists go back to malloc when it exits.
 *
 * Only what came from hb_pool_alloc or hb_pool_realloc may be given to hb_pool_free, and such a
 * block never to free(). */
#ifndef HB_CORE_POOL_H
#define HB_CORE_POOL_H

#include <stddef.h>

#define HB_POOL_CLASS_MAX 4096u

/* n bytes (at least one), aligned as malloc's; NULL when memory runs out. */
void *hb_pool_alloc(size_t n);
void hb_pool_free(void *p);
/* p resized to n bytes as realloc does (p may be NULL); a block that still fits its size class
   stays where it is. NULL, p unchanged, when memory runs out. */
void *hb_pool_realloc(void *p, size_t n);
/* The bytes usable in p (at least what was asked). */
size_t hb_pool_size(const void *p);
/* What an allocation of n bytes really gets. */
size_t hb_pool_roundup(size_t n);
/* Give this thread's kept blocks back to malloc now (at shutdown; a thread's exit does it). */
void hb_pool_release_thread(void);

#endif
