/*
 * catalog.c - the path table behind catalog.h: a flat array in insertion order (which is the
 * order the tags command prints) plus an open-addressing hash for lookups at compile time.
 */
#include "engine/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/text.h"

struct hb_catalog {
	hb_path_info *paths;
	size_t n, cap;
	int *hash; /* slot + 1, 0 = empty */
	size_t hcap;
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

hb_catalog *hb_catalog_new(void)
{
	return hb_calloc(1, sizeof(hb_catalog));
}

void hb_catalog_free(hb_catalog **cat)
{
	if (!cat || !*cat)
		return;
	hb_catalog *c = *cat;
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->paths[i].path);
		free((char *)c->paths[i].label);
	}
	free(c->paths);
	free(c->hash);
	free(c);
	*cat = NULL;
}

static void rehash(hb_catalog *c)
{
	free(c->hash);
	c->hcap = c->hcap ? c->hcap * 2 : 64;
	c->hash = hb_calloc(c->hcap, sizeof(int));
	for (size_t i = 0; i < c->n; i++) {
		const char *p = c->paths[i].path;
		size_t h = fnv1a(p, strlen(p)) & (c->hcap - 1);
		while (c->hash[h])
			h = (h + 1) & (c->hcap - 1);
		c->hash[h] = (int)i + 1;
	}
}

int hb_catalog_add(hb_catalog *c, const char *path, const char *label, hb_type type,
		   unsigned flags, long long ref)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->paths = hb_realloc(c->paths, c->cap * sizeof(hb_path_info));
	}
	int slot = (int)c->n;
	c->paths[c->n++] = (hb_path_info){
		.path = hb_strdup(path),
		.label = hb_strdup(label ? label : path),
		.type = type,
		.flags = flags,
		.slot = slot,
		.ref = ref,
	};
	if (c->n * 2 > c->hcap)
		rehash(c);
	else {
		size_t h = fnv1a(path, strlen(path)) & (c->hcap - 1);
		while (c->hash[h])
			h = (h + 1) & (c->hcap - 1);
		c->hash[h] = slot + 1;
	}
	return slot;
}

const hb_path_info *hb_catalog_find(const hb_catalog *c, const char *path, size_t n)
{
	if (!c->hcap)
		return NULL;
	size_t h = fnv1a(path, n) & (c->hcap - 1);
	while (c->hash[h]) {
		const hb_path_info *p = &c->paths[c->hash[h] - 1];
		if (strncmp(p->path, path, n) == 0 && p->path[n] == '\0')
			return p;
		h = (h + 1) & (c->hcap - 1);
	}
	return NULL;
}

size_t hb_catalog_nslots(const hb_catalog *c)
{
	return c->n;
}

const hb_path_info *hb_catalog_at(const hb_catalog *c, size_t i)
{
	return i < c->n ? &c->paths[i] : NULL;
}


void hb_catalog_suggest(const hb_catalog *c, const char *path, size_t len, char *out, size_t n)
{
	size_t best = (size_t)-1;
	const char *found = NULL;
	for (size_t i = 0; i < c->n; i++) {
		const char *p = c->paths[i].path;
		size_t d = hb_text_distance(path, len, p, strlen(p));
		if (d < best) {
			best = d;
			found = p;
		}
	}
	if (found && best <= 3 && best < len)
		snprintf(out, n, "%s", found);
	else if (n)
		out[0] = '\0';
}
