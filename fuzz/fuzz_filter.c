/*
 * fuzz_filter.c - libFuzzer target for the filter language's parser (src/query/parse.c).
 *
 * The input is filter text as a user or an API client might send it. Whatever it is, parsing
 * against a fixed catalogue must either succeed with a tree whose comparisons all name known
 * paths and carry values of their path's type, or fail with HB_ERR_INVALID / HB_ERR_TOO_LARGE,
 * no tree, and a message that is valid UTF-8 and says where ("line N, column M").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "query/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void check(const hb_fexpr *x, const hb_catalog *cat)
{
	if (x->path) {
		REQUIRE(hb_catalog_find(cat, x->path->path, strlen(x->path->path)) == x->path);
		for (size_t i = 0; i < x->nvals; i++)
			REQUIRE(x->vals[i].type == x->path->type);
	}
	for (size_t i = 0; i < x->nkids; i++)
		check(&x->kids[i], cat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static hb_catalog *cat;
	if (!cat) {
		cat = hb_catalog_new();
		hb_catalog_add(cat, "user.email", NULL, HB_TYPE_STRING, 0, 0);
		hb_catalog_add(cat, "user.created_at", NULL, HB_TYPE_TIME, 0, 0);
		hb_catalog_add(cat, "external.shipping.is_valid", NULL, HB_TYPE_BOOL, HB_PATH_EXTERNAL, 0);
		hb_catalog_add(cat, "external.ship-2.score", NULL, HB_TYPE_INT, HB_PATH_EXTERNAL, 0);
		hb_catalog_add(cat, "now", NULL, HB_TYPE_TIME, 0, 0);
	}
	hb_fparse *p = NULL;
	hb_error e = {0};
	hb_err rc = hb_filter_parse(cat, (const char *)data, size, 1767225600, &p, &e);
	if (rc == HB_OK) {
		REQUIRE(p != NULL);
		check(hb_fparse_root(p), cat);
		free(hb_fexpr_describe(hb_fparse_root(p)));
	} else {
		REQUIRE(rc == HB_ERR_INVALID || rc == HB_ERR_TOO_LARGE);
		REQUIRE(p == NULL);
		REQUIRE(hb_text_is_utf8(e.message, strlen(e.message), NULL) || strlen(e.message) == 0);
		REQUIRE(rc == HB_ERR_TOO_LARGE || strncmp(e.message, "line ", 5) == 0);
	}
	hb_fparse_free(&p);
	return 0;
}
