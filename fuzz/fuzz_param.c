/*
 * fuzz_param.c - libFuzzer target for parameter parsing (src/engine/param.c).
 *
 * The input is a parameter as a user might type it. Whatever it is, compiling must either
 * succeed, keep the text and look up without trouble in a fixed answer, or fail with
 * HB_ERR_INVALID, no parameter, and a message that is valid UTF-8 and names the parameter.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "engine/param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char BODY[] =
    "{\"validation_results\":{\"is_valid\":false,\"reasons\":[\"zip\",null]},"
    "\"results\":[{\"name\":\"first\"},{\"name\":\"second\",\"tags\":[[1,2],[3]]}],"
    "\"x.y\":{\"b\":\"dotted\"},\"a/b\":1,\"m~n\":2,\"\":\"empty\",\"0\":[true],\"n\":null}";
static const hb_header HEADERS[] = {
    {"Content-Type", "application/json"}, {"X-Request-Id", "abc"}, {"X-Raw", "caf\xe9"}};

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static hb_answer answer;
	if (!answer.body) {
		json_error_t err;
		answer = (hb_answer){.status = 201,
				     .headers = HEADERS,
				     .nheaders = 3,
				     .body = json_loads(BODY, 0, &err)};
		REQUIRE(answer.body);
	}
	char *text = malloc(size + 1);
	REQUIRE(text);
	memcpy(text, data, size);
	text[size] = '\0';

	hb_param *p = NULL;
	hb_error e;
	hb_error_clear(&e);
	hb_err rc = hb_param_compile(text, &p, &e);
	if (rc == HB_OK) {
		REQUIRE(p);
		REQUIRE(strcmp(hb_param_text(p), text) == 0);
		for (int round = 0; round < 2; round++) { /* lookups do not change anything */
			json_t *v = hb_param_find(p, &answer);
			if (v) {
				REQUIRE(v->refcount >= 1);
				json_decref(v);
			}
		}
		REQUIRE(answer.body->refcount == 1);
		hb_param_free(&p);
		REQUIRE(p == NULL);
	} else {
		REQUIRE(rc == HB_ERR_INVALID);
		REQUIRE(p == NULL);
		size_t n = strlen(e.message);
		REQUIRE(n > 0 && n + 1 < sizeof e.message);
		REQUIRE(strncmp(e.message, "parameter ", 10) == 0);
		REQUIRE(hb_text_is_utf8(e.message, n, NULL));
	}
	free(text);
	return 0;
}
