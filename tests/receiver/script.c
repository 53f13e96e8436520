/*
 * script.c - what the test receiver answers and what it remembers.
 *
 * DESIGN: one mutex guards the script (rules and how many answers each rule has handed out),
 * the record of requests and the log file. A request is recorded and its answer chosen in the
 * same critical section, so the record's order is the order in which scripted answers were
 * used. The answer is built and sent outside the lock, so a delayed or trickled answer never
 * holds up other connections.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "receiver.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *rules;	/* validated array of rule objects, or NULL */
static size_t *used;	/* per rule: answers handed out */
static json_t *records; /* array of request objects */
static unsigned long seq;
static FILE *log_file;

bool rx_state_init(const char *log_path)
{
	records = json_array();
	if (log_path) {
		log_file = fopen(log_path, "a");
		if (!log_file)
			return false;
	}
	return true;
}

void rx_state_flush(void)
{
	pthread_mutex_lock(&lock);
	if (log_file)
		fflush(log_file);
	pthread_mutex_unlock(&lock);
}

void rx_answer_free(rx_answer *ans)
{
	free(ans->headers);
	free(ans->body);
	memset(ans, 0, sizeof *ans);
}

void rx_answer_json(rx_answer *ans, int status, char *json_text)
{
	free(ans->headers);
	free(ans->body);
	ans->status = status;
	ans->headers = rx_xstrndup("Content-Type: application/json\r\n", 32);
	ans->has_length = false;
	ans->body = json_text;
	ans->body_len = strlen(json_text);
	ans->size = -1;
}

static void answer_obj(rx_answer *ans, int status, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(obj);
	if (!text)
		abort();
	rx_answer_json(ans, status, text);
}

static void answer_error(rx_answer *ans, int status, const char *msg)
{
	answer_obj(ans, status, json_pack("{s:s}", "error", msg));
}

/* ---- the record ---- */

static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t k = c < 0x80	    ? 0
			   : (c >> 5) == 6  ? 1
			   : (c >> 4) == 14 ? 2
			   : (c >> 3) == 30 ? 3
					    : 9;
		if (k == 9 || i + k >= n)
			return false;
		uint32_t cp = k == 0 ? c : k == 1 ? c & 0x1f : k == 2 ? c & 0x0f : c & 0x07;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static char *base64(const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = rx_xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* "2026-11-28T15:26:59.123Z" */
static void now_text(char *out, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char day[32];
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03ldZ", day, ts.tv_nsec / 1000000L);
}

/* A JSON string of s, with '?' for bytes of a malformed UTF-8 head (jansson wants UTF-8). */
static json_t *safe_string(const char *s)
{
	size_t n = strlen(s);
	if (valid_utf8((const unsigned char *)s, n))
		return json_stringn(s, n);
	char *t = rx_xstrndup(s, n);
	for (char *p = t; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	json_t *j = json_stringn(t, n);
	free(t);
	return j;
}

static json_t *make_record(const rx_request *rq)
{
	char when[48];
	now_text(when, sizeof when);
	json_t *headers = json_object();
	for (size_t i = 0; i < rq->nheaders; i++) {
		const rx_header *h = &rq->headers[i];
		json_t *old = json_object_get(headers, h->name);
		if (!old) {
			json_object_set_new(headers, h->name, safe_string(h->value));
			continue;
		}
		size_t n = json_string_length(old) + strlen(h->value) + 3;
		char *joined = rx_xmalloc(n);
		snprintf(joined, n, "%s, %s", json_string_value(old), h->value);
		json_object_set_new(headers, h->name, safe_string(joined));
		free(joined);
	}
	json_t *rec = json_pack("{s:o, s:o, s:o, s:o, s:s, s:I, s:I}", "method",
				safe_string(rq->method), "path", safe_string(rq->path), "query",
				safe_string(rq->query), "headers", headers, "time", when, "conn",
				(json_int_t)rq->conn_id, "body_size", (json_int_t)rq->body_len);
	if (!rec)
		abort();
	if (valid_utf8((const unsigned char *)rq->body, rq->body_len)) {
		json_object_set_new(rec, "body", json_stringn(rq->body, rq->body_len));
	} else {
		char *b = base64((const unsigned char *)rq->body, rq->body_len);
		json_object_set_new(rec, "body_b64", json_string(b));
		free(b);
	}
	return rec;
}

/* ---- the script ---- */

static bool path_matches(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '*')
		return strncmp(pattern, path, n - 1) == 0;
	return strcmp(pattern, path) == 0;
}

/* Choose the scripted answer (under the lock): a new reference to the response object, or
 * NULL for the default answer; *rule_index is the rule used or -1; *exhausted when the rule
 * has no answer left. */
static json_t *choose(const rx_request *rq, long *rule_index, bool *exhausted)
{
	*rule_index = -1;
	*exhausted = false;
	size_t i;
	json_t *rule;
	json_array_foreach(rules, i, rule)
	{
		const char *m = json_string_value(json_object_get(rule, "method"));
		const char *p = json_string_value(json_object_get(rule, "path"));
		if (m && strcmp(m, "*") != 0 && strcasecmp(m, rq->method) != 0)
			continue;
		if (!path_matches(p, rq->path))
			continue;
		*rule_index = (long)i;
		json_t *resps = json_object_get(rule, "responses");
		size_t n = json_array_size(resps);
		size_t k = used[i]++;
		if (k >= n) {
			if (!json_is_true(json_object_get(rule, "repeat_last"))) {
				*exhausted = true;
				return NULL;
			}
			k = n - 1;
		}
		return json_incref(json_array_get(resps, k));
	}
	return NULL;
}

static const char *const response_keys[] = {
    "status", "headers", "body", "json",       "form",	      "delay_ms",
    "reset",  "close",	 "size", "trickle_ms", "retry_after", NULL,
};

static bool text_ok_in_header(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

/* Check one response object; false with a message in err. */
static bool check_response(json_t *r, char *err, size_t n)
{
	if (!json_is_object(r)) {
		snprintf(err, n, "must be an object");
		return false;
	}
	const char *key;
	json_t *v;
	json_object_foreach(r, key, v)
	{
		bool known = false;
		for (size_t i = 0; response_keys[i]; i++)
			known = known || strcmp(key, response_keys[i]) == 0;
		if (!known) {
			snprintf(err, n, "unknown key '%s'", key);
			return false;
		}
	}
	json_t *st = json_object_get(r, "status");
	if (st && (!json_is_integer(st) || json_integer_value(st) < 200 ||
		   json_integer_value(st) > 599)) {
		snprintf(err, n, "status must be an integer 200-599");
		return false;
	}
	static const char *const counts[] = {"delay_ms", "trickle_ms", "size", NULL};
	for (size_t i = 0; counts[i]; i++) {
		json_t *c = json_object_get(r, counts[i]);
		if (c && (!json_is_integer(c) || json_integer_value(c) < 0)) {
			snprintf(err, n, "%s must be a non-negative integer", counts[i]);
			return false;
		}
	}
	static const char *const flags[] = {"reset", "close", NULL};
	for (size_t i = 0; flags[i]; i++) {
		json_t *f = json_object_get(r, flags[i]);
		if (f && !json_is_boolean(f)) {
			snprintf(err, n, "%s must be true or false", flags[i]);
			return false;
		}
	}
	int bodies = !!json_object_get(r, "body") + !!json_object_get(r, "json") +
		     !!json_object_get(r, "form");
	if (bodies > 1) {
		snprintf(err, n, "give at most one of body, json and form");
		return false;
	}
	json_t *b = json_object_get(r, "body");
	if (b && !json_is_string(b)) {
		snprintf(err, n, "body must be a string (use json for JSON values)");
		return false;
	}
	json_t *h = json_object_get(r, "headers");
	if (h && !json_is_object(h)) {
		snprintf(err, n, "headers must be an object of strings");
		return false;
	}
	json_object_foreach(h, key, v)
	{
		if (!json_is_string(v) || !text_ok_in_header(key) ||
		    !text_ok_in_header(json_string_value(v)) || !*key || strchr(key, ':')) {
			snprintf(err, n, "header '%s' must be a string without line breaks", key);
			return false;
		}
	}
	json_t *f = json_object_get(r, "form");
	if (f && !json_is_object(f)) {
		snprintf(err, n, "form must be an object");
		return false;
	}
	json_t *ra = json_object_get(r, "retry_after");
	if (ra && !json_is_integer(ra) &&
	    !(json_is_string(ra) && text_ok_in_header(json_string_value(ra)))) {
		snprintf(err, n, "retry_after must be an integer or a string");
		return false;
	}
	return true;
}

/* Check the uploaded script; a new reference to the rules array, or NULL with err filled. */
static json_t *check_script(json_t *doc, char *err, size_t n)
{
	json_t *arr = json_is_object(doc) ? json_object_get(doc, "rules") : doc;
	if (!json_is_array(arr)) {
		snprintf(err, n, "the script must be a JSON array of rules (or {\"rules\":[…]})");
		return NULL;
	}
	size_t i;
	json_t *rule;
	json_array_foreach(arr, i, rule)
	{
		char why[256];
		if (!json_is_object(rule)) {
			snprintf(err, n, "rule %zu: must be an object", i + 1);
			return NULL;
		}
		const char *key;
		json_t *v;
		json_object_foreach(rule, key, v)
		{
			if (strcmp(key, "method") && strcmp(key, "path") &&
			    strcmp(key, "responses") && strcmp(key, "repeat_last")) {
				snprintf(err, n, "rule %zu: unknown key '%s'", i + 1, key);
				return NULL;
			}
		}
		json_t *m = json_object_get(rule, "method");
		if (m && !json_is_string(m)) {
			snprintf(err, n, "rule %zu: method must be a string", i + 1);
			return NULL;
		}
		if (!json_is_string(json_object_get(rule, "path"))) {
			snprintf(err, n, "rule %zu: path (a string) is required", i + 1);
			return NULL;
		}
		json_t *rl = json_object_get(rule, "repeat_last");
		if (rl && !json_is_boolean(rl)) {
			snprintf(err, n, "rule %zu: repeat_last must be true or false", i + 1);
			return NULL;
		}
		json_t *resps = json_object_get(rule, "responses");
		if (!json_is_array(resps) || json_array_size(resps) == 0) {
			snprintf(err, n, "rule %zu: responses must be a non-empty array", i + 1);
			return NULL;
		}
		size_t j;
		json_t *r;
		json_array_foreach(resps, j, r)
		{
			if (!check_response(r, why, sizeof why)) {
				snprintf(err, n, "rule %zu, response %zu: %s", i + 1, j + 1, why);
				return NULL;
			}
		}
	}
	/* Store a copy with repeat_last filled in (default true). */
	json_t *copy = json_deep_copy(arr);
	json_array_foreach(copy, i, rule)
	{
		if (!json_object_get(rule, "repeat_last"))
			json_object_set_new(rule, "repeat_last", json_true());
	}
	return copy;
}

static void form_encode(json_t *form, char **out, size_t *len)
{
	size_t cap = 256, n = 0;
	char *s = rx_xmalloc(cap);
	const char *key;
	json_t *v;
	json_object_foreach(form, key, v)
	{
		char num[64];
		const char *parts[2] = {key, ""};
		if (json_is_string(v))
			parts[1] = json_string_value(v);
		else if (json_is_number(v)) {
			if (json_is_integer(v))
				snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
					 json_integer_value(v));
			else
				snprintf(num, sizeof num, "%.17g", json_real_value(v));
			parts[1] = num;
		} else if (json_is_boolean(v))
			parts[1] = json_is_true(v) ? "true" : "false";
		for (int p = 0; p < 2; p++) {
			size_t need = strlen(parts[p]) * 3 + 4;
			if (n + need >= cap) {
				cap = (n + need) * 2;
				char *t = realloc(s, cap);
				if (!t)
					abort();
				s = t;
			}
			if (p == 0 && n > 0)
				s[n++] = '&';
			for (const unsigned char *c = (const unsigned char *)parts[p]; *c; c++) {
				if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || strchr("-._~", *c))
					s[n++] = (char)*c;
				else if (*c == ' ')
					s[n++] = '+';
				else
					n += (size_t)snprintf(s + n, 4, "%%%02X", *c);
			}
			if (p == 0)
				s[n++] = '=';
		}
	}
	s[n] = '\0';
	*out = s;
	*len = n;
}

static bool has_header(json_t *headers, const char *name)
{
	const char *key;
	json_t *v;
	json_object_foreach(headers, key, v) if (strcasecmp(key, name) == 0) return true;
	return false;
}

/* Build the answer that the response object r describes. */
static void build_answer(json_t *r, rx_answer *ans)
{
	memset(ans, 0, sizeof *ans);
	json_t *st = json_object_get(r, "status");
	ans->status = st ? (int)json_integer_value(st) : 200;
	ans->size =
	    json_object_get(r, "size") ? json_integer_value(json_object_get(r, "size")) : -1;
	ans->delay_ms = (long)json_integer_value(json_object_get(r, "delay_ms"));
	ans->trickle_ms = (long)json_integer_value(json_object_get(r, "trickle_ms"));
	ans->reset = json_is_true(json_object_get(r, "reset"));
	ans->close = json_is_true(json_object_get(r, "close"));
	const char *ctype = NULL;
	json_t *v;
	if ((v = json_object_get(r, "json"))) {
		ans->body = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		ans->body_len = strlen(ans->body);
		ctype = "application/json";
	} else if ((v = json_object_get(r, "form"))) {
		form_encode(v, &ans->body, &ans->body_len);
		ctype = "application/x-www-form-urlencoded";
	} else if ((v = json_object_get(r, "body"))) {
		ans->body_len = json_string_length(v);
		ans->body = rx_xstrndup(json_string_value(v), ans->body_len);
		ctype = "text/plain; charset=utf-8";
	} else if (ans->size >= 0) {
		ctype = "text/plain";
	}
	json_t *headers = json_object_get(r, "headers");
	size_t cap = 256, n = 0;
	const char *key;
	json_object_foreach(headers, key, v) cap += strlen(key) + json_string_length(v) + 4;
	char *h = rx_xmalloc(cap);
	h[0] = '\0';
	if (ctype && !has_header(headers, "content-type"))
		n += (size_t)snprintf(h + n, cap - n, "Content-Type: %s\r\n", ctype);
	json_t *ra = json_object_get(r, "retry_after");
	if (json_is_integer(ra))
		n += (size_t)snprintf(h + n, cap - n, "Retry-After: %" JSON_INTEGER_FORMAT "\r\n",
				      json_integer_value(ra));
	else if (json_is_string(ra))
		n += (size_t)snprintf(h + n, cap - n, "Retry-After: %.160s\r\n",
				      json_string_value(ra));
	json_object_foreach(headers, key, v) n +=
	    (size_t)snprintf(h + n, cap - n, "%s: %s\r\n", key, json_string_value(v));
	ans->headers = h;
	ans->has_length = has_header(headers, "content-length");
	if (!ans->body)
		ans->body = rx_xstrndup("", 0);
}

/* ---- the /_control API ---- */

static void control(const rx_request *rq, rx_answer *ans)
{
	const char *m = rq->method;
	if (strcmp(rq->path, "/_control/script") == 0 &&
	    (strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0)) {
		json_error_t jerr;
		json_t *doc = json_loadb(rq->body, rq->body_len, JSON_DECODE_ANY, &jerr);
		if (!doc) {
			char msg[300];
			snprintf(msg, sizeof msg, "script is not JSON: %s (line %d)", jerr.text,
				 jerr.line);
			answer_error(ans, 400, msg);
			return;
		}
		char err[400];
		json_t *checked = check_script(doc, err, sizeof err);
		json_decref(doc);
		if (!checked) {
			answer_error(ans, 400, err);
			return;
		}
		size_t n = json_array_size(checked);
		pthread_mutex_lock(&lock);
		json_decref(rules);
		free(used);
		rules = checked;
		used = calloc(n ? n : 1, sizeof *used);
		pthread_mutex_unlock(&lock);
		answer_obj(ans, 200, json_pack("{s:b, s:I}", "ok", 1, "rules", (json_int_t)n));
	} else if (strcmp(rq->path, "/_control/script") == 0 && strcmp(m, "DELETE") == 0) {
		pthread_mutex_lock(&lock);
		json_decref(rules);
		free(used);
		rules = NULL;
		used = NULL;
		pthread_mutex_unlock(&lock);
		answer_obj(ans, 200, json_pack("{s:b}", "ok", 1));
	} else if (strcmp(rq->path, "/_control/script") == 0 && strcmp(m, "GET") == 0) {
		pthread_mutex_lock(&lock);
		json_t *copy = rules ? json_deep_copy(rules) : json_array();
		pthread_mutex_unlock(&lock);
		answer_obj(ans, 200, copy);
	} else if (strcmp(rq->path, "/_control/requests") == 0 && strcmp(m, "GET") == 0) {
		pthread_mutex_lock(&lock);
		char *text = json_dumps(records, JSON_COMPACT);
		pthread_mutex_unlock(&lock);
		rx_answer_json(ans, 200, text);
	} else if (strcmp(rq->path, "/_control/requests") == 0 && strcmp(m, "DELETE") == 0) {
		pthread_mutex_lock(&lock);
		json_array_clear(records);
		pthread_mutex_unlock(&lock);
		answer_obj(ans, 200, json_pack("{s:b}", "ok", 1));
	} else if (strcmp(rq->path, "/_control/count") == 0 && strcmp(m, "GET") == 0) {
		pthread_mutex_lock(&lock);
		size_t n = json_array_size(records);
		pthread_mutex_unlock(&lock);
		answer_obj(ans, 200, json_pack("{s:I}", "count", (json_int_t)n));
	} else {
		answer_error(ans, 404, "unknown control endpoint (see docs/receiver.md)");
	}
}

void rx_handle(const rx_request *rq, rx_answer *ans)
{
	if (strncmp(rq->path, "/_control/", 10) == 0) {
		control(rq, ans);
		return;
	}
	json_t *rec = make_record(rq);
	long rule_index;
	bool exhausted;
	pthread_mutex_lock(&lock);
	json_t *resp = choose(rq, &rule_index, &exhausted);
	json_object_set_new(rec, "seq", json_integer((json_int_t)++seq));
	json_object_set_new(rec, "rule",
			    rule_index >= 0 ? json_integer(rule_index + 1) : json_null());
	json_array_append(records, rec);
	if (log_file) {
		json_dumpf(rec, log_file, JSON_COMPACT);
		fputc('\n', log_file);
		fflush(log_file); /* tests read it while the receiver runs */
	}
	pthread_mutex_unlock(&lock);
	json_decref(rec);
	if (resp) {
		build_answer(resp, ans);
		json_decref(resp);
	} else if (exhausted) {
		answer_error(ans, 404, "no scripted response left for this rule");
	} else {
		answer_obj(ans, 200, json_pack("{s:b}", "ok", 1));
	}
}
