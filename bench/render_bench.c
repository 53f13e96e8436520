/*
 * render_bench.c - how fast the template engine renders a JSON webhook body, beside a
 * hand-written C function that builds the same bytes with snprintf and an inline escaper.
 *
 *   render_bench --engine       render N records with a compiled template
 *   render_bench --handwritten  the same records with the hand-written function
 *   render_bench --generate     only build the records (the fixed cost inside both runs)
 *   render_bench --check        both ways for every record; exit 1 at the first difference
 *   --records N                 how many records (default 1,000,000)
 *
 * The body has 8 tags: three strings that need JSON escaping inside string literals (quotes,
 * backslashes, newlines, tabs, non-ASCII), a string in a value position, an integer, a boolean,
 * a datetime and a date formatted with strftime. bench/render.sh runs it under hyperfine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "engine/template.h"

enum { S_TITLE, S_NAME, S_EMAIL, S_DESC, S_ID, S_VALID, S_CREATED, S_UPDATED, S__COUNT };
enum { NSTR = 1024 };

static const char *tpl =
    "{\"text\":\"New feedback: {{feedback.title}}\","
    "\"user\":{\"name\":\"{{user.first_name}}\",\"email\":{{user.email}},\"id\":{{user.id}}},"
    "\"valid\":{{external.shipping.is_valid}},\"created\":{{feedback.created}},"
    "\"description\":\"{{feedback.description}}\","
    "\"day\":\"{{feedback.updated | date:\"%Y-%m-%d\"}}\"}";

/* ---- the hand-written reference */

/* Escape s into o (room for 6n+1 bytes) for a JSON string: what a careful programmer writes. */
static inline size_t esc(char *o, const char *s, size_t n)
{
	static const char hexl[] = "0123456789abcdef";
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			o[k++] = (char)c;
			continue;
		}
		o[k++] = '\\';
		switch (c) {
		case '"':
			o[k++] = '"';
			break;
		case '\\':
			o[k++] = '\\';
			break;
		case '\n':
			o[k++] = 'n';
			break;
		case '\r':
			o[k++] = 'r';
			break;
		case '\t':
			o[k++] = 't';
			break;
		case '\b':
			o[k++] = 'b';
			break;
		case '\f':
			o[k++] = 'f';
			break;
		default:
			memcpy(o + k, "u00", 3);
			o[k + 3] = hexl[c >> 4];
			o[k + 4] = hexl[c & 15];
			k += 5;
		}
	}
	o[k] = '\0';
	return k;
}

static void handwritten(const hb_value *r, hb_buf *out)
{
	char title[4096], name[1024], email[1024], desc[8192], created[32], day[16], body[16384];
	esc(title, r[S_TITLE].u.s.ptr, r[S_TITLE].u.s.len);
	esc(name, r[S_NAME].u.s.ptr, r[S_NAME].u.s.len);
	esc(email, r[S_EMAIL].u.s.ptr, r[S_EMAIL].u.s.len);
	esc(desc, r[S_DESC].u.s.ptr, r[S_DESC].u.s.len);
	struct tm tm;
	time_t t = (time_t)r[S_CREATED].u.i;
	gmtime_r(&t, &tm);
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
	t = (time_t)r[S_UPDATED].u.i;
	gmtime_r(&t, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	int n =
	    snprintf(body, sizeof body,
		     "{\"text\":\"New feedback: %s\",\"user\":{\"name\":\"%s\",\"email\":\"%s\","
		     "\"id\":%lld},\"valid\":%s,\"created\":\"%s\",\"description\":\"%s\","
		     "\"day\":\"%s\"}",
		     title, name, email, (long long)r[S_ID].u.i, r[S_VALID].u.b ? "true" : "false",
		     created, desc, day);
	if (n < 0 || (size_t)n >= sizeof body || hb_buf_add(out, body, (size_t)n)) {
		fprintf(stderr, "render_bench: body too large\n");
		exit(1);
	}
}

/* ---- data */

static char *make_text(unsigned seed, size_t len)
{
	static const char *const bits[] = {
	    "Crash ",	"when ",  "saving ",	"\"draft\" ", "C:\\Users\\", "zoë ",
	    "naïve ",	"line\n", "tab\there ", "🎉 ",	      "}} ",	     "<b>",
	    "O'Brien ", "& Co ",  "42% ",	"ok. ",
	};
	hb_buf b;
	hb_buf_init(&b, 1 << 20);
	while (b.len < len) {
		seed = seed * 1103515245u + 12345u;
		if (hb_buf_adds(&b, bits[(seed >> 16) % 16]))
			abort();
	}
	return hb_buf_steal(&b);
}

static hb_value *make_records(size_t n, char **pool)
{
	for (unsigned i = 0; i < NSTR; i++)
		pool[i] = make_text(i * 7919u + 1, 16 + i % 120);
	hb_value *recs = hb_malloc(n * S__COUNT * sizeof(hb_value));
	for (size_t i = 0; i < n; i++) {
		hb_value *r = recs + i * S__COUNT;
		r[S_TITLE] = hb_value_str(pool[i % NSTR]);
		r[S_NAME] = hb_value_str(pool[(i * 3 + 1) % NSTR] + 0);
		r[S_NAME].u.s.len = r[S_NAME].u.s.len > 12 ? 12 : r[S_NAME].u.s.len;
		while (r[S_NAME].u.s.len &&
		       ((unsigned char)r[S_NAME].u.s.ptr[r[S_NAME].u.s.len] & 0xc0) == 0x80)
			r[S_NAME].u.s.len--; /* do not cut a character */
		r[S_EMAIL] =
		    hb_value_str(i % 2 ? "zoe.obrien@example.com" : "qa+\"beta\"@example.org");
		r[S_DESC] = hb_value_str(pool[(i * 7 + 3) % NSTR]);
		r[S_ID] = hb_value_int((int64_t)i * 7919 - 500000);
		r[S_VALID] = hb_value_bool(i % 3 == 0);
		r[S_CREATED] = hb_value_time(1700000000 + (int64_t)i * 37);
		r[S_UPDATED] = hb_value_time(1795852800 + (int64_t)i * 611);
	}
	return recs;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	size_t n = 1000000;
	if (argc > 3 && strcmp(argv[2], "--records") == 0)
		n = (size_t)strtoull(argv[3], NULL, 10);
	if (strcmp(mode, "--engine") && strcmp(mode, "--handwritten") && strcmp(mode, "--check") &&
	    strcmp(mode, "--generate")) {
		fprintf(stderr, "usage: render_bench --engine|--handwritten|--check|--generate "
				"[--records N]\n");
		return 2;
	}
	hb_catalog *cat = hb_catalog_new();
	hb_catalog_add(cat, "feedback.title", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "user.first_name", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "user.email", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "feedback.description", NULL, HB_TYPE_STRING, 0, 0);
	hb_catalog_add(cat, "user.id", NULL, HB_TYPE_INT, 0, 0);
	hb_catalog_add(cat, "external.shipping.is_valid", NULL, HB_TYPE_BOOL, 0, 0);
	hb_catalog_add(cat, "feedback.created", NULL, HB_TYPE_TIME, 0, 0);
	hb_catalog_add(cat, "feedback.updated", NULL, HB_TYPE_TIME, 0, 0);
	hb_template *t = NULL;
	hb_error e = {0};
	if (hb_template_compile(cat, tpl, strlen(tpl), HB_CTX_JSON, &t, &e)) {
		fprintf(stderr, "render_bench: %s\n", e.message);
		return 1;
	}
	char *pool[NSTR];
	hb_value *recs = make_records(n, pool);
	hb_buf out, ref;
	hb_buf_init(&out, 1 << 20);
	hb_buf_init(&ref, 1 << 20);
	unsigned long long sum = 0;
	double t0 = now_s();
	for (size_t i = 0; i < n && strcmp(mode, "--generate"); i++) {
		const hb_value *r = recs + i * S__COUNT;
		hb_buf_reset(&out);
		if (mode[2] == 'h') {
			handwritten(r, &out);
		} else if (hb_template_render(t, r, 0, &out, &e)) {
			fprintf(stderr, "render_bench: record %zu: %s\n", i, e.message);
			return 1;
		}
		if (mode[2] == 'c') {
			hb_buf_reset(&ref);
			handwritten(r, &ref);
			if (ref.len != out.len || memcmp(ref.data, out.data, out.len) != 0) {
				fprintf(stderr,
					"render_bench: record %zu differs\nengine:      %s\n"
					"handwritten: %s\n",
					i, hb_buf_str(&out), hb_buf_str(&ref));
				return 1;
			}
		}
		sum += out.len + (unsigned char)out.data[out.len / 2];
	}
	double dt = now_s() - t0;
	if (strcmp(mode, "--generate"))
		printf("%s: %zu records, %.0f renders/s (in-process), checksum %llu\n", mode + 2, n,
		       (double)n / dt, sum);
	if (mode[2] == 'c')
		printf("check: all %zu records identical\n", n);
	hb_buf_free(&out);
	hb_buf_free(&ref);
	free(recs);
	for (unsigned i = 0; i < NSTR; i++)
		free(pool[i]);
	hb_template_free(&t);
	hb_catalog_free(&cat);
	return 0;
}
