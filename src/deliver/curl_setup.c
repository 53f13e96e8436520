/* curl_setup.c - see curl_setup.h. */
#include "deliver/curl_setup.h"

#include <curl/curl.h>
#include <string.h>

#include "core/pool.h"

static void *pool_calloc(size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		return NULL;
	void *p = hb_pool_alloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static char *pool_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = hb_pool_alloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

bool hb_curl_setup(void)
{
	return curl_global_init_mem(CURL_GLOBAL_DEFAULT, hb_pool_alloc, hb_pool_free,
				    hb_pool_realloc, pool_strdup, pool_calloc) == CURLE_OK;
}
