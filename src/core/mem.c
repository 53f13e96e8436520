/* mem.c - aborting allocators (see mem.h for when they are the right choice). */
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "hookbridge: out of memory (wanted %zu bytes)\n", n);
	abort();
}

void *hb_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *hb_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *hb_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *hb_strdup(const char *s)
{
	return hb_strndup(s, strlen(s));
}

char *hb_strndup(const char *s, size_t n)
{
	char *p = hb_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
