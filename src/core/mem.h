/*
 * mem.h - allocation that aborts on out-of-memory, for small fixed-size allocations.
 * Anything whose size the outside world chooses goes through hb_buf with a cap instead.
 */
#ifndef HB_CORE_MEM_H
#define HB_CORE_MEM_H

#include <stddef.h>

void *hb_malloc(size_t n);
void *hb_calloc(size_t n, size_t size);
void *hb_realloc(void *p, size_t n);
char *hb_strdup(const char *s);
char *hb_strndup(const char *s, size_t n);

#endif
