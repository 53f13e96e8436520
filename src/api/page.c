/*
 * page.c - cursor paging of every list: `limit` (1-200, default 50) and an opaque `cursor`
 * that encodes the last id of the previous page, so a page is an indexed range scan however
 * deep it is. Other query parameters filter by field, checked by the model exactly as the
 * command line's --FIELD VALUE options are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/text.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url of "c1:<id>" without padding */
void hb_cursor_encode(int64_t id, char *out, size_t n)
{
	char txt[40];
	int len = snprintf(txt, sizeof txt, "c1:%lld", (long long)id);
	size_t o = 0;
	for (int i = 0; i < len && o + 5 < n; i += 3) {
		unsigned v = (unsigned char)txt[i] << 16;
		int k = len - i;
		if (k > 1)
			v |= (unsigned char)txt[i + 1] << 8;
		if (k > 2)
			v |= (unsigned char)txt[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (k > 1)
			out[o++] = b64[(v >> 6) & 63];
		if (k > 2)
			out[o++] = b64[v & 63];
	}
	out[o] = '\0';
}

bool hb_cursor_decode(const char *s, int64_t *id)
{
	char txt[40];
	size_t n = strlen(s), o = 0;
	if (n == 0 || n > 48 || n % 4 == 1)
		return false;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(b64, s[i]);
		if (!p || !s[i])
			return false;
		acc = (acc << 6) | (unsigned)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= sizeof txt)
				return false;
			txt[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	txt[o] = '\0';
	if (o < 4 || memcmp(txt, "c1:", 3) != 0 || !hb_text_to_int64(txt + 3, o - 3, id) || *id < 0)
		return false;
	for (size_t i = 3; i < o; i++) /* digits only: no sign, no spaces */
		if (txt[i] < '0' || txt[i] > '9')
			return false;
	return true;
}

static hb_err parse_paging(hb_req *r, size_t *limit, int64_t *after, hb_error *e)
{
	const char *l = hb_api_query(r, "limit"), *c = hb_api_query(r, "cursor");
	int64_t n;
	*limit = HB_API_PAGE_DEFAULT;
	*after = 0;
	if (l) {
		if (!hb_text_to_int64(l, strlen(l), &n) || n < 1 || n > HB_API_PAGE_MAX)
			return hb_fail(e, HB_ERR_BAD_REQUEST, "limit",
				       "limit must be a whole number from 1 to %d", HB_API_PAGE_MAX);
		*limit = (size_t)n;
	}
	if (c && !hb_cursor_decode(c, after))
		return hb_fail(e, HB_ERR_BAD_REQUEST, "cursor",
			       "the cursor is not one this server handed out");
	return HB_OK;
}

/* A query parameter's text as public JSON input for column col. */
static hb_err filter_value(const hb_column *col, const char *s, json_t **out, hb_error *e)
{
	const char *pub = hb_col_public_name(col);
	int64_t n;
	*out = NULL;
	if (col->flags & (HB_COL_JSON | HB_COL_SECRET))
		return hb_fail(e, HB_ERR_BAD_REQUEST, pub, "cannot filter by %s", pub);
	if (col->flags & HB_COL_REF)
		*out = json_string(s);
	else if (col->type == HB_TYPE_INT) {
		if (!hb_text_to_int64(s, strlen(s), &n))
			return hb_fail(e, HB_ERR_INVALID, pub, "%s must be a whole number", pub);
		*out = json_integer(n);
	} else if (col->type == HB_TYPE_BOOL) {
		if (strcmp(s, "true") && strcmp(s, "false"))
			return hb_fail(e, HB_ERR_INVALID, pub, "%s must be true or false", pub);
		*out = json_boolean(s[0] == 't');
	} else {
		*out = json_string(s);
	}
	if (!*out)
		return hb_fail(e, HB_ERR_INVALID, pub, "%s is not valid UTF-8 text", pub);
	return HB_OK;
}

typedef struct filter_job {
	hb_req *r;
	hb_page_spec *spec;
	json_t *input;
	hb_error *e;
	hb_err rc;
} filter_job;

static bool reserved(const hb_page_spec *spec, const char *k)
{
	if (!strcmp(k, "limit") || !strcmp(k, "cursor") || !strcmp(k, "apiKey"))
		return true;
	for (const char *const *p = spec->reserved; p && *p; p++)
		if (strcmp(*p, k) == 0)
			return true;
	return false;
}

static enum MHD_Result add_filter(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	(void)kind;
	filter_job *j = cls;
	if (j->rc || reserved(j->spec, k))
		return MHD_YES;
	const hb_kind *kd = hb_kind_get(j->spec->kind);
	int col = hb_kind_col(kd, k);
	if (j->spec->no_filters || col < 0 || (kd->cols[col].flags & HB_COL_HIDDEN)) {
		j->rc = hb_fail(j->e, HB_ERR_BAD_REQUEST, k, "unknown query parameter '%s'", k);
		return MHD_NO;
	}
	if (json_object_get(j->input, k)) {
		j->rc = hb_fail(j->e, HB_ERR_BAD_REQUEST, k, "the query parameter '%s' is given twice", k);
		return MHD_NO;
	}
	json_t *jv = NULL;
	j->rc = filter_value(&kd->cols[col], v ? v : "", &jv, j->e);
	if (!j->rc)
		json_object_set_new(j->input, k, jv);
	return j->rc ? MHD_NO : MHD_YES;
}

/* Rows a filtered page (a project manager's view) may scan: the work of one request stays
   bounded however few rows the key may see; the cursor then marks how far the scan got. */
#define SCAN_MAX 2000

typedef struct page_job {
	hb_req *r;
	hb_page_spec *spec;
	json_t *data;
	size_t limit;
	int64_t last_id;
	int64_t last_scanned;
	size_t scanned;
	bool more;
} page_job;

static hb_err take_row(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	page_job *j = ud;
	j->scanned++;
	j->last_scanned = hb_row_id(row);
	if (!j->r->auth.manager && j->spec->visible && !j->spec->visible(j->r, row))
		return HB_OK;
	if (json_array_size(j->data) == j->limit) {
		j->more = true;
		return HB_ERR__COUNT; /* one past the page: there is a next one */
	}
	json_t *o = j->spec->to_json ? j->spec->to_json(j->r, row) : hb_api_row_json(j->r, row);
	json_array_append_new(j->data, o);
	j->last_id = hb_row_id(row);
	return HB_OK;
}

hb_err hb_api_list(hb_req *r, hb_page_spec *spec, hb_error *e)
{
	const hb_kind *k = hb_kind_get(spec->kind);
	size_t limit;
	int64_t after;
	hb_err rc = parse_paging(r, &limit, &after, e);
	if (rc)
		return rc;
	filter_job fj = {r, spec, json_object(), e, HB_OK};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_filter, &fj);
	rc = fj.rc;
	hb_row *match = hb_row_new(k);
	if (!rc && json_object_size(fj.input))
		rc = hb_record_fill(r->c, match, fj.input, HB_FILL_MATCH, e);
	if (rc == HB_ERR_NOT_FOUND) { /* filtering by a record that does not exist: no rows */
		rc = hb_api_reply(r, 200, json_pack("{s:[], s:n}", "data", "next_cursor"));
		goto out;
	}
	if (rc)
		goto out;
	const char *name;
	json_t *v;
	json_object_foreach(fj.input, name, v) {
		int col = hb_kind_col(k, name);
		if (spec->nconds < sizeof spec->conds / sizeof spec->conds[0])
			spec->conds[spec->nconds++] = (hb_cond){col, match->v[col]};
	}
	int ci = hb_kind_col(k, "community_id");
	if (ci >= 0 && spec->nconds < sizeof spec->conds / sizeof spec->conds[0])
		spec->conds[spec->nconds++] = (hb_cond){ci, hb_value_int(r->c->community_id)};
	bool filtered = !r->auth.manager && spec->visible;
	page_job pj = {r, spec, json_array(), limit, 0, 0, 0, false};
	hb_list_opts lo = {spec->conds, spec->nconds, after, filtered ? SCAN_MAX : limit + 1};
	rc = r->c->store->ops->list(r->c->store, k, &lo, take_row, &pj, e);
	if (rc == HB_ERR__COUNT)
		rc = HB_OK;
	else if (!rc && filtered && pj.scanned == SCAN_MAX) { /* page not full, scan not done */
		pj.more = true;
		pj.last_id = pj.last_scanned;
	}
	if (rc) {
		json_decref(pj.data);
		goto out;
	}
	char cur[64];
	hb_cursor_encode(pj.last_id, cur, sizeof cur);
	hb_api_reply(r, 200, json_pack("{s:o, s:o}", "data", pj.data, "next_cursor",
				       pj.more ? json_string(cur) : json_null()));
out:
	hb_row_free(&match);
	json_decref(fj.input);
	return rc;
}
