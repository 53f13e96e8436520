/*
 * record.c - the generic half of model.h: public input to rows (types, syntax, choices,
 * lengths, references), create/update/delete inside a transaction, lookups by what users
 * type, and rows back to public JSON. What is particular to one kind lives in rules.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "model/model.h"

hb_err hb_tx(hb_ctx *c, hb_err (*fn)(hb_ctx *, void *, hb_error *), void *ud, hb_error *e)
{
	if (c->in_tx) /* part of a larger transaction: it commits or rolls back as a whole */
		return fn(c, ud, e);
	hb_err rc = c->store->ops->begin(c->store, e);
	if (rc)
		return rc;
	c->in_tx = true;
	rc = fn(c, ud, e);
	c->in_tx = false;
	if (!rc)
		rc = c->store->ops->commit(c->store, e);
	if (rc)
		c->store->ops->rollback(c->store);
	return rc;
}

hb_err hb_ctx_load(hb_ctx *c, hb_store *s, const char *key, hb_error *e)
{
	const hb_kind *k = hb_kind_get(HB_K_COMMUNITY);
	hb_row *row = hb_row_new(k);
	hb_err rc;
	c->store = s;
	if (key) {
		hb_cond cond = {1, hb_value_str(key)};
		rc = s->ops->find(s, k, &cond, 1, row, e);
		if (rc == HB_ERR_NOT_FOUND)
			rc = hb_fail(e, HB_ERR_NOT_FOUND, "community", "no community '%s'", key);
	} else {
		int64_t n = 0;
		rc = s->ops->count(s, k, NULL, 0, &n, e);
		if (!rc && n == 0)
			rc = hb_fail(e, HB_ERR_NOT_FOUND, "community",
				     "the database has no community yet (run hookbridge init)");
		else if (!rc && n > 1)
			rc = hb_fail(e, HB_ERR_USAGE, "community",
				     "the database holds %lld communities: say which with --community KEY",
				     (long long)n);
		if (!rc)
			rc = s->ops->find(s, k, NULL, 0, row, e);
	}
	if (!rc) {
		c->community_id = hb_row_id(row);
		snprintf(c->community_key, sizeof c->community_key, "%s", hb_row_str(row, "key"));
		c->enhanced_integrations = hb_row_int(row, "enhanced_integrations") != 0;
	}
	hb_row_free(&row);
	return rc;
}

/* The value of `col` that scopes lookups of kind k from a row being filled, or the community. */
static int64_t scope_for(hb_ctx *c, const hb_kind *ref, const hb_row *row)
{
	if (ref->scope_col < 0)
		return 0;
	const char *scope_name = ref->cols[ref->scope_col].name;
	if (strcmp(scope_name, "community_id") == 0)
		return c->community_id;
	int i = hb_kind_col(row->kind, scope_name);
	if (i >= 0 && row->v[i].type == HB_TYPE_INT)
		return row->v[i].u.i;
	return -1; /* scope not known: lookups by name fail with a clear message */
}

static bool is_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Split "EXA-0001" into prefix and number. */
static bool split_number(const char *s, char *prefix, size_t n, int64_t *num)
{
	const char *dash = strrchr(s, '-');
	if (!dash || dash == s || (size_t)(dash - s) >= n || !is_digits(dash + 1))
		return false;
	memcpy(prefix, s, (size_t)(dash - s));
	prefix[dash - s] = '\0';
	for (char *p = prefix; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return hb_text_to_int64(dash + 1, strlen(dash + 1), num);
}

static bool belongs_to_community(hb_ctx *c, const hb_row *row)
{
	int ci = hb_kind_col(row->kind, "community_id");
	if (ci >= 0)
		return row->v[ci].u.i == c->community_id;
	/* kinds without a community column are reached through a parent we already checked */
	return true;
}

hb_err hb_record_find(hb_ctx *c, hb_kind_id kid, int64_t scope_id, const char *name, hb_row **out,
		      hb_error *e)
{
	const hb_kind *k = hb_kind_get(kid);
	hb_store *s = c->store;
	hb_row *row = hb_row_new(k);
	hb_err rc;
	*out = NULL;
	if (kid == HB_K_FEEDBACK && !is_digits(name)) {
		char prefix[32];
		int64_t num;
		if (!split_number(name, prefix, sizeof prefix, &num)) {
			rc = hb_fail(e, HB_ERR_INVALID, "feedback",
				     "'%s' is not a ticket number (like EXA-0001)", name);
			goto out;
		}
		hb_row *type = hb_row_new(hb_kind_get(HB_K_FEEDBACK_TYPE));
		hb_cond tc[2] = {{1, hb_value_int(c->community_id)},
				 {hb_kind_col(type->kind, "prefix"), hb_value_str(prefix)}};
		rc = s->ops->find(s, type->kind, tc, 2, type, e);
		if (!rc) {
			hb_cond fc[2] = {{hb_kind_col(k, "type_id"), hb_value_int(hb_row_id(type))},
					 {hb_kind_col(k, "number"), hb_value_int(num)}};
			rc = s->ops->find(s, k, fc, 2, row, e);
		}
		hb_row_free(&type);
	} else if (is_digits(name) && k->lookup_col >= 0 &&
		   k->cols[k->lookup_col].type == HB_TYPE_STRING && kid != HB_K_ACTION) {
		int64_t id;
		if (!hb_text_to_int64(name, strlen(name), &id)) {
			rc = hb_fail(e, HB_ERR_NOT_FOUND, k->name, "no %s '%s'", k->name, name);
			goto out;
		}
		/* a key may be all digits: try it as a key first, then as an id */
		hb_cond kc[2] = {{k->lookup_col, hb_value_str(name)}, {k->scope_col, hb_value_int(scope_id)}};
		rc = s->ops->find(s, k, kc, k->scope_col >= 0 ? 2 : 1, row, e);
		if (rc == HB_ERR_NOT_FOUND) {
			hb_cond ic = {0, hb_value_int(id)};
			rc = s->ops->find(s, k, &ic, 1, row, e);
		}
	} else if (is_digits(name)) {
		int64_t id = 0;
		if (!hb_text_to_int64(name, strlen(name), &id))
			id = 0; /* no record has id 0 */
		hb_cond ic = {0, hb_value_int(id)};
		rc = s->ops->find(s, k, &ic, 1, row, e);
	} else if (k->lookup_col >= 0) {
		char lower[256];
		const char *key = name;
		if (k->cols[k->lookup_col].flags & HB_COL_EMAIL) {
			snprintf(lower, sizeof lower, "%s", name);
			for (char *p = lower; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			key = lower;
		}
		hb_cond kc[2] = {{k->lookup_col, hb_value_str(key)}, {k->scope_col, hb_value_int(scope_id)}};
		rc = s->ops->find(s, k, kc, k->scope_col >= 0 ? 2 : 1, row, e);
	} else {
		rc = HB_ERR_NOT_FOUND;
	}
	if (!rc && !belongs_to_community(c, row))
		rc = HB_ERR_NOT_FOUND; /* never visible across communities */
	if (rc == HB_ERR_NOT_FOUND)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, k->cols[k->lookup_col > 0 ? k->lookup_col : 0].input
				     ? k->cols[k->lookup_col].input : k->name,
			     "no %s '%s'", k->name, name);
out:
	if (rc)
		hb_row_free(&row);
	else
		*out = row;
	return rc;
}

static hb_err bad(hb_error *e, const hb_column *col, const char *fmt, const char *detail)
{
	return hb_fail(e, HB_ERR_INVALID, hb_col_public_name(col), fmt, hb_col_public_name(col),
		       detail);
}

/* Check a string for column col: UTF-8, control characters, length, syntax, choices. */
static hb_err check_text(const hb_column *col, char *s, size_t n, hb_error *e)
{
	size_t at;
	if (!hb_text_is_utf8(s, n, &at))
		return bad(e, col, "%s is not valid UTF-8 text%s", "");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		/* free text may hold any control character but NUL; one-line fields none */
		if ((ch < 0x20 && !(col->flags & HB_COL_MULTILINE)) || ch == 0)
			return bad(e, col, "%s must not contain control characters%s", "");
	}
	size_t max = col->max_len ? col->max_len : HB_TEXT_MAX;
	if (n > max)
		return hb_fail(e, HB_ERR_INVALID, hb_col_public_name(col),
			       "%s is too long (%zu bytes; at most %zu)", hb_col_public_name(col), n, max);
	if (col->flags & HB_COL_EMAIL) {
		for (size_t i = 0; i < n; i++)
			s[i] = (char)tolower((unsigned char)s[i]);
		if (!hb_text_is_email(s))
			return hb_fail(e, HB_ERR_INVALID, hb_col_public_name(col),
				       "'%s' is not a valid email address", s);
	}
	if ((col->flags & HB_COL_KEY) && !hb_text_is_key(s))
		return hb_fail(e, HB_ERR_INVALID, hb_col_public_name(col),
			       "'%s' is not a valid %s: use 1-64 of a-z, 0-9, '_' and '-', "
			       "starting with a letter or digit",
			       s, hb_col_public_name(col));
	if (!hb_col_choice_ok(col, s, n))
		return hb_fail(e, HB_ERR_INVALID, hb_col_public_name(col),
			       "'%s' is not a valid %s (one of: %s)", s, hb_col_public_name(col),
			       col->choices);
	return HB_OK;
}

static hb_err resolve_ref(hb_ctx *c, const hb_column *col, const hb_row *row, json_t *v,
			  int64_t *id, hb_error *e)
{
	const hb_kind *ref = hb_kind_get(col->ref);
	char name[300];
	if (json_is_integer(v))
		snprintf(name, sizeof name, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		snprintf(name, sizeof name, "%s", json_string_value(v));
	else
		return bad(e, col, "%s must be a %s", ref->lookup_name ? ref->lookup_name : "name");
	int64_t scope = scope_for(c, ref, row);
	hb_row *found = NULL;
	hb_err rc = hb_record_find(c, col->ref, scope, name, &found, e);
	if (rc == HB_ERR_NOT_FOUND) {
		const char *where = "";
		if (ref->scope_col >= 0 && strcmp(ref->cols[ref->scope_col].name, "project_id") == 0)
			where = " in this project";
		return hb_fail(e, HB_ERR_NOT_FOUND, hb_col_public_name(col), "no %s '%s'%s", ref->name,
			       name, where);
	}
	if (rc)
		return rc;
	*id = hb_row_id(found);
	hb_row_free(&found);
	return HB_OK;
}

/* Check text for a plain string column and store a copy in the row. */
static hb_err fill_text(hb_row *row, int i, const char *text, size_t n, hb_error *e)
{
	char *s = hb_strndup(text, n);
	hb_err rc = check_text(&row->kind->cols[i], s, n, e);
	if (rc)
		free(s);
	else
		hb_row_take(row, i, s, n);
	return rc;
}

/* Convert one JSON input value for column i into the row. */
static hb_err fill_one(hb_ctx *c, hb_row *row, int i, json_t *v, hb_error *e)
{
	const hb_column *col = &row->kind->cols[i];
	const char *pub = hb_col_public_name(col);
	if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
		if (col->flags & HB_COL_REQUIRED)
			return hb_fail(e, HB_ERR_INVALID, pub, "%s must not be empty", pub);
		hb_row_set(row, i, hb_value_null());
		return HB_OK;
	}
	if (col->flags & HB_COL_REF) {
		int64_t id = 0;
		hb_err rc = resolve_ref(c, col, row, v, &id, e);
		if (!rc)
			hb_row_set(row, i, hb_value_int(id));
		return rc;
	}
	if (col->flags & HB_COL_JSON) {
		char *txt = hb_json_dump(v, JSON_COMPACT | JSON_ENCODE_ANY);
		hb_row_set(row, i, hb_value_str(txt));
		free(txt);
		return HB_OK;
	}
	switch (col->type) {
	case HB_TYPE_STRING:
		if (!json_is_string(v))
			return hb_fail(e, HB_ERR_INVALID, pub, "%s must be a string", pub);
		return fill_text(row, i, json_string_value(v), json_string_length(v), e);
	case HB_TYPE_INT:
		if (!json_is_integer(v))
			return hb_fail(e, HB_ERR_INVALID, pub, "%s must be an integer", pub);
		hb_row_set(row, i, hb_value_int(json_integer_value(v)));
		return HB_OK;
	case HB_TYPE_BOOL:
		if (!json_is_boolean(v))
			return hb_fail(e, HB_ERR_INVALID, pub, "%s must be true or false", pub);
		hb_row_set(row, i, hb_value_bool(json_is_true(v)));
		return HB_OK;
	case HB_TYPE_TIME: {
		int64_t t;
		if (!json_is_string(v) ||
		    !hb_time_parse(json_string_value(v), json_string_length(v), &t))
			return hb_fail(e, HB_ERR_INVALID, pub,
				       "%s must be an RFC 3339 time like 2026-11-28T10:00:00Z", pub);
		hb_row_set(row, i, hb_value_time(t));
		return HB_OK;
	}
	default:
		return hb_fail(e, HB_ERR_INTERNAL, pub, "column type not handled");
	}
}

static hb_err apply_default(hb_row *row, int i)
{
	const hb_column *col = &row->kind->cols[i];
	const char *d = col->dflt;
	int64_t n;
	switch (col->type) {
	case HB_TYPE_BOOL:
		hb_row_set(row, i, hb_value_bool(strcmp(d, "1") == 0));
		break;
	case HB_TYPE_INT:
		if (!hb_text_to_int64(d, strlen(d), &n))
			return HB_ERR_INTERNAL;
		hb_row_set(row, i, hb_value_int(n));
		break;
	default:
		hb_row_set(row, i, hb_value_str(d));
	}
	return HB_OK;
}

hb_err hb_record_fill(hb_ctx *c, hb_row *row, json_t *input, hb_fill_mode mode, hb_error *e)
{
	bool creating = mode == HB_FILL_CREATE;
	const hb_kind *k = row->kind;
	if (!json_is_object(input))
		return hb_fail(e, HB_ERR_INVALID, "", "a %s must be given as a JSON object", k->name);
	const char *name;
	json_t *v;
	json_object_foreach(input, name, v) {
		int i = hb_kind_col(k, name);
		if (i < 0 || (k->cols[i].flags & HB_COL_HIDDEN))
			return hb_fail(e, HB_ERR_INVALID, name, "unknown field '%s' for a %s", name,
				       k->name);
		if (i >= 0 && strcmp(name, k->cols[i].name) != 0 && k->cols[i].input &&
		    strcmp(name, k->cols[i].input) != 0)
			return hb_fail(e, HB_ERR_INVALID, name, "unknown field '%s'", name);
		if ((k->cols[i].flags & HB_COL_SYSTEM) && mode != HB_FILL_MATCH)
			return hb_fail(e, HB_ERR_INVALID, name, "%s is set by hookbridge and cannot be given",
				       name);
		if (mode == HB_FILL_UPDATE && (k->cols[i].flags & HB_COL_IMMUTABLE))
			return hb_fail(e, HB_ERR_INVALID, name, "%s cannot be changed once set", name);
	}
	/* in column order, so references see the scope columns resolved before them */
	for (size_t i = 0; i < k->ncols; i++) {
		const hb_column *col = &k->cols[i];
		v = json_object_get(input, hb_col_public_name(col));
		if (!v && col->input)
			v = json_object_get(input, col->name);
		if (v) {
			hb_err rc = fill_one(c, row, (int)i, v, e);
			if (rc)
				return rc;
		} else if (creating && (col->flags & HB_COL_REQUIRED)) {
			return hb_fail(e, HB_ERR_INVALID, hb_col_public_name(col), "%s is required for a %s",
				       hb_col_public_name(col), k->name);
		}
		if (creating && row->v[i].type == HB_TYPE_NULL && col->dflt &&
		    apply_default(row, (int)i))
			return hb_fail(e, HB_ERR_INTERNAL, col->name, "bad default");
	}
	return HB_OK;
}

static void stamp(hb_ctx *c, hb_row *row, bool creating)
{
	int64_t now = hb_time_now();
	int i;
	if (creating && (i = hb_kind_col(row->kind, "created_at")) >= 0)
		hb_row_set(row, i, hb_value_time(now));
	if ((i = hb_kind_col(row->kind, "updated_at")) >= 0)
		hb_row_set(row, i, hb_value_time(now));
	if (creating && (i = hb_kind_col(row->kind, "community_id")) >= 0 &&
	    row->kind->id != HB_K_COMMUNITY)
		hb_row_set(row, i, hb_value_int(c->community_id));
}

/* Say which record a duplicate would collide with. */
static hb_err explain_conflict(const hb_row *row, hb_error *e)
{
	const hb_kind *k = row->kind;
	if (k->lookup_col < 0)
		return HB_ERR_CONFLICT;
	const hb_value *v = &row->v[k->lookup_col];
	if (v->type == HB_TYPE_STRING)
		return hb_fail(e, HB_ERR_CONFLICT, hb_col_public_name(&k->cols[k->lookup_col]),
			       "a %s with %s '%.*s' already exists", k->name, k->lookup_name,
			       (int)v->u.s.len, v->u.s.ptr);
	return HB_ERR_CONFLICT;
}

typedef struct create_job {
	hb_kind_id kind;
	json_t *input;
	hb_row *row;
} create_job;

/* Required fields present, defaults applied: what a row needs before it is first written. */
static hb_err complete(hb_row *row, hb_error *e)
{
	const hb_kind *k = row->kind;
	for (size_t i = 0; i < k->ncols; i++) {
		const hb_column *col = &k->cols[i];
		if (row->v[i].type != HB_TYPE_NULL)
			continue;
		if (col->flags & HB_COL_REQUIRED)
			return hb_fail(e, HB_ERR_INVALID, hb_col_public_name(col), "%s is required for a %s",
				       hb_col_public_name(col), k->name);
		if (col->dflt && apply_default(row, (int)i))
			return hb_fail(e, HB_ERR_INTERNAL, col->name, "bad default");
	}
	return HB_OK;
}

hb_err hb_record_set_text(hb_ctx *c, hb_row *row, int i, const char *s, size_t n, hb_error *e)
{
	const hb_column *col = &row->kind->cols[i];
	if (n > 0 && col->type == HB_TYPE_STRING && !(col->flags & (HB_COL_REF | HB_COL_JSON)))
		return fill_text(row, i, s, n, e); /* the common case, without a JSON detour */
	json_t *v = json_stringn(s, n);
	if (!v)
		return hb_fail(e, HB_ERR_INVALID, hb_col_public_name(&row->kind->cols[i]),
			       "%s is not valid UTF-8 text", hb_col_public_name(&row->kind->cols[i]));
	hb_err rc = fill_one(c, row, i, v, e);
	json_decref(v);
	return rc;
}

static hb_err do_create(hb_ctx *c, void *ud, hb_error *e)
{
	create_job *j = ud;
	hb_err rc = j->input ? hb_record_fill(c, j->row, j->input, HB_FILL_CREATE, e)
			     : complete(j->row, e);
	if (rc)
		return rc;
	stamp(c, j->row, true);
	rc = hb_rules_check(c, j->row, NULL, e);
	if (rc)
		return rc;
	rc = c->store->ops->insert(c->store, j->row, e);
	if (rc == HB_ERR_CONFLICT)
		explain_conflict(j->row, e);
	return rc;
}

hb_err hb_record_create(hb_ctx *c, hb_kind_id k, json_t *input, hb_row **out, hb_error *e)
{
	create_job j = {k, input, hb_row_new(hb_kind_get(k))};
	hb_err rc = hb_tx(c, do_create, &j, e);
	if (rc || !out)
		hb_row_free(&j.row);
	else
		*out = j.row;
	return rc;
}

hb_err hb_record_create_into(hb_ctx *c, hb_row *row, json_t *input, hb_error *e)
{
	create_job j = {row->kind->id, input, row};
	return hb_tx(c, do_create, &j, e);
}

typedef struct update_job {
	hb_row *row;
	json_t *changes;
} update_job;

/* Write the columns of row that differ from before (the record as read): an index none of whose
   columns changed is left alone, which makes a one-field change (a macro's set_field after each
   webhook) about half as costly as writing the whole row. updated_at always goes, so the
   UPDATE also finds out whether the record is still there. */
static hb_err write_changes(hb_ctx *c, const hb_row *row, const hb_row *before, hb_error *e)
{
	const hb_kind *k = row->kind;
	int *cols = hb_calloc(k->ncols, sizeof *cols);
	size_t n = 0;
	int stamped = hb_kind_col(k, "updated_at");
	for (size_t i = 1; i < k->ncols; i++)
		if ((int)i == stamped || !hb_value_same(&row->v[i], &before->v[i]))
			cols[n++] = (int)i;
	hb_err rc = n ? c->store->ops->update_cols(c->store, row, cols, n, NULL, e)
		      : c->store->ops->update(c->store, row, e);
	free(cols);
	return rc;
}

static hb_err do_update(hb_ctx *c, void *ud, hb_error *e)
{
	update_job *j = ud;
	hb_row *before = hb_row_new(j->row->kind);
	hb_row_copy(before, j->row);
	hb_err rc = hb_record_fill(c, j->row, j->changes, HB_FILL_UPDATE, e);
	if (!rc) {
		stamp(c, j->row, false);
		rc = hb_rules_check(c, j->row, before, e);
	}
	if (!rc)
		rc = write_changes(c, j->row, before, e);
	if (rc == HB_ERR_CONFLICT)
		explain_conflict(j->row, e);
	if (rc)
		hb_row_copy(j->row, before);
	hb_row_free(&before);
	return rc;
}

hb_err hb_record_update(hb_ctx *c, hb_row *row, json_t *changes, hb_error *e)
{
	update_job j = {row, changes};
	return hb_tx(c, do_update, &j, e);
}

static hb_err do_delete(hb_ctx *c, void *ud, hb_error *e)
{
	const hb_row *row = ud;
	hb_err rc = c->store->ops->remove(c->store, row->kind, hb_row_id(row), e);
	if (rc == HB_ERR_CONFLICT) {
		const hb_kind *k = row->kind;
		const hb_value *v = k->lookup_col >= 0 ? &row->v[k->lookup_col] : NULL;
		if (v && v->type == HB_TYPE_STRING)
			hb_fail(e, HB_ERR_CONFLICT, "", "cannot delete %s '%.*s': other records still "
				"refer to it (feedback tickets, macros or capture settings); delete or "
				"move them first", k->name, (int)v->u.s.len, v->u.s.ptr);
		else
			hb_fail(e, HB_ERR_CONFLICT, "", "cannot delete this %s: other records still "
				"refer to it", k->name);
	}
	return rc;
}

hb_err hb_record_delete(hb_ctx *c, const hb_row *row, hb_error *e)
{
	return hb_tx(c, do_delete, (void *)row, e);
}

hb_err hb_feedback_number(hb_ctx *c, const hb_row *ticket, char *out, size_t n, hb_error *e)
{
	hb_row *type = NULL;
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)hb_row_int(ticket, "type_id"));
	hb_err rc = hb_record_find(c, HB_K_FEEDBACK_TYPE, 0, id, &type, e);
	if (rc)
		return rc;
	snprintf(out, n, "%s-%0*lld", hb_row_str(type, "prefix"), (int)hb_row_int(type, "digits"),
		 (long long)hb_row_int(ticket, "number"));
	hb_row_free(&type);
	return HB_OK;
}

/* The public name of the record with this id (key, email, ticket number), or its id. */
static json_t *ref_name(hb_ctx *c, hb_kind_id kid, int64_t id)
{
	char txt[64];
	snprintf(txt, sizeof txt, "%lld", (long long)id);
	hb_row *r = NULL;
	hb_error e;
	if (hb_record_find(c, kid, 0, txt, &r, &e))
		return json_integer(id);
	json_t *out;
	if (kid == HB_K_FEEDBACK) {
		char num[64];
		out = hb_feedback_number(c, r, num, sizeof num, &e) ? json_integer(id) : json_string(num);
	} else if (r->kind->lookup_col >= 0 && r->v[r->kind->lookup_col].type == HB_TYPE_STRING) {
		out = json_string(hb_row_str(r, r->kind->cols[r->kind->lookup_col].name));
	} else {
		out = json_integer(id);
	}
	hb_row_free(&r);
	return out;
}

json_t *hb_record_json(hb_ctx *c, const hb_row *row)
{
	const hb_kind *k = row->kind;
	json_t *o = json_object();
	char t[HB_TIME_STR_MAX];
	for (size_t i = 0; i < k->ncols; i++) {
		const hb_column *col = &k->cols[i];
		const hb_value *v = &row->v[i];
		json_t *j = NULL;
		if (col->flags & (HB_COL_HIDDEN | HB_COL_SECRET))
			continue;
		if (v->type == HB_TYPE_NULL)
			j = json_null();
		else if (col->flags & HB_COL_REF)
			j = ref_name(c, col->ref, v->u.i);
		else if (col->flags & HB_COL_JSON)
			j = json_loadb(v->u.s.ptr, v->u.s.len, JSON_DECODE_ANY, NULL);
		else if (v->type == HB_TYPE_STRING)
			j = json_stringn(v->u.s.ptr, v->u.s.len);
		else if (v->type == HB_TYPE_INT)
			j = json_integer(v->u.i);
		else if (v->type == HB_TYPE_BOOL)
			j = json_boolean(v->u.b);
		else if (v->type == HB_TYPE_TIME)
			j = json_string(hb_time_format(v->u.i, t));
		if (k->id == HB_K_APIKEY && strcmp(col->name, "projects") == 0 && json_is_array(j)) {
			size_t pi;
			json_t *pid;
			json_array_foreach(j, pi, pid) /* ids → project keys */
				json_array_set_new(j, pi, ref_name(c, HB_K_PROJECT, json_integer_value(pid)));
		}
		if (k->id == HB_K_FEEDBACK && strcmp(col->name, "number") == 0) {
			char num[64];
			hb_error e;
			if (!hb_feedback_number(c, row, num, sizeof num, &e)) {
				json_decref(j);
				j = json_string(num);
			}
		}
		json_object_set_new(o, hb_col_public_name(col), j ? j : json_null());
	}
	return o;
}
