/*
 * rules.c - what is particular to each kind of record, checked after the generic fill and
 * before the row is written (inside the same transaction): ticket numbering and workflow
 * statuses, ID prefixes, field order, macro targets, API key roles.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "model/model.h"
#include "model/rules.h"

/* Statuses of a feedback type: a JSON array of 1-50 distinct non-empty names. */
static hb_err check_statuses(const char *txt, const char *dflt, hb_error *e)
{
	json_error_t je;
	json_t *a = json_loads(txt, JSON_DECODE_ANY, &je);
	hb_err rc = HB_OK;
	size_t i;
	json_t *s;
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 50) {
		rc = hb_fail(e, HB_ERR_INVALID, "statuses",
			     "statuses must be a list of 1 to 50 names, like \"New,Open,Closed\"");
		goto out;
	}
	json_array_foreach(a, i, s) {
		const char *name = json_string_value(s);
		if (!name || !*name || json_string_length(s) > 100) {
			rc = hb_fail(e, HB_ERR_INVALID, "statuses",
				     "status %zu must be a name of 1 to 100 characters", i + 1);
			goto out;
		}
		for (const char *p = name; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == ',') {
				rc = hb_fail(e, HB_ERR_INVALID, "statuses",
					     "status '%s' must not contain commas or control characters", name);
				goto out;
			}
		for (size_t k = 0; k < i; k++)
			if (strcmp(json_string_value(json_array_get(a, k)), name) == 0) {
				rc = hb_fail(e, HB_ERR_INVALID, "statuses", "status '%s' is listed twice", name);
				goto out;
			}
	}
	if (dflt && !hb_status_allowed(txt, dflt))
		rc = hb_fail(e, HB_ERR_INVALID, "default_status",
			     "default status '%s' is not one of the statuses", dflt);
out:
	json_decref(a);
	return rc;
}

bool hb_status_allowed(const char *statuses_json, const char *status)
{
	json_t *a = json_loads(statuses_json, JSON_DECODE_ANY, NULL);
	size_t i;
	json_t *s;
	bool ok = false;
	json_array_foreach(a, i, s) {
		if (json_is_string(s) && strcmp(json_string_value(s), status) == 0)
			ok = true;
	}
	json_decref(a);
	return ok;
}

static hb_err feedback_type_rules(hb_ctx *c, hb_row *row, const hb_row *before, hb_error *e)
{
	char prefix[32];
	const char *p = hb_row_str(row, "prefix");
	size_t n = strlen(p);
	if (n > 15)
		return hb_fail(e, HB_ERR_INVALID, "prefix", "prefix '%s' is longer than 15 characters", p);
	for (size_t i = 0; i <= n; i++)
		prefix[i] = (char)toupper((unsigned char)p[i]);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)prefix[i]) || (unsigned char)prefix[i] > 0x7f)
			return hb_fail(e, HB_ERR_INVALID, "prefix",
				       "prefix '%s' may hold only letters A-Z and digits", p);
	hb_row_set_str(row, "prefix", prefix);
	/* ticket numbers are looked up by prefix, so a prefix names one type in the community */
	hb_row *other = hb_row_new(row->kind);
	hb_cond pc[2] = {{hb_kind_col(row->kind, "community_id"), hb_value_int(c->community_id)},
			 {hb_kind_col(row->kind, "prefix"), hb_value_str(prefix)}};
	hb_err found = c->store->ops->find(c->store, row->kind, pc, 2, other, e);
	if (!found && hb_row_id(other) != hb_row_id(row)) {
		hb_fail(e, HB_ERR_CONFLICT, "prefix", "prefix '%s' is already used by feedback type '%s'",
			prefix, hb_row_str(other, "key"));
		hb_row_free(&other);
		return HB_ERR_CONFLICT;
	}
	hb_row_free(&other);
	if (found && found != HB_ERR_NOT_FOUND)
		return found;
	int64_t digits = hb_row_int(row, "digits"), start = hb_row_int(row, "start_number");
	if (digits < 1 || digits > 12)
		return hb_fail(e, HB_ERR_INVALID, "digits", "digits must be 1 to 12, not %lld",
			       (long long)digits);
	if (start < 0 || start > 999999999999LL)
		return hb_fail(e, HB_ERR_INVALID, "start_number",
			       "start_number must be 0 to 999999999999, not %lld", (long long)start);
	const char *statuses = hb_row_str(row, "statuses");
	if (!hb_row_str(row, "default_status")) {
		json_t *a = json_loads(statuses, JSON_DECODE_ANY, NULL);
		if (json_is_string(json_array_get(a, 0)))
			hb_row_set_str(row, "default_status", json_string_value(json_array_get(a, 0)));
		json_decref(a);
	}
	hb_err rc = check_statuses(statuses, hb_row_str(row, "default_status"), e);
	if (rc)
		return rc;
	int64_t next = before ? hb_row_int(before, "next_number") : start;
	hb_row_set_int(row, "next_number", next > start ? next : start);
	return HB_OK;
}

static hb_err load_type(hb_ctx *c, const hb_row *ticket, hb_row **type, hb_error *e)
{
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)hb_row_int(ticket, "type_id"));
	return hb_record_find(c, HB_K_FEEDBACK_TYPE, 0, id, type, e);
}

static hb_err feedback_rules(hb_ctx *c, hb_row *row, const hb_row *before, hb_error *e)
{
	hb_row *type = NULL;
	hb_err rc = load_type(c, row, &type, e);
	if (rc)
		return rc;
	if (!hb_row_str(row, "status"))
		hb_row_set_str(row, "status", hb_row_str(type, "default_status"));
	const char *status = hb_row_str(row, "status");
	if (!hb_status_allowed(hb_row_str(type, "statuses"), status)) {
		rc = hb_fail(e, HB_ERR_INVALID, "status",
			     "'%s' is not a status of feedback type '%s' (statuses: %s)", status,
			     hb_row_str(type, "key"), hb_row_str(type, "statuses"));
		goto out;
	}
	if (!before) { /* a new ticket takes the type's next number */
		int64_t next = hb_row_int(type, "next_number");
		hb_row_set_int(row, "number", next);
		hb_row_set_int(type, "next_number", next + 1);
		rc = c->store->ops->update(c->store, type, e);
	}
out:
	hb_row_free(&type);
	return rc;
}

static hb_err xfield_rules(hb_ctx *c, hb_row *row, const hb_row *before, hb_error *e)
{
	hb_err rc = hb_xfield_param_check(hb_row_str(row, "param"), e);
	if (rc)
		return rc;
	if (!before) {
		int64_t n = 0;
		hb_cond cond = {hb_kind_col(row->kind, "group_id"), hb_row_get(row, "group_id")};
		rc = c->store->ops->count(c->store, row->kind, &cond, 1, &n, e);
		hb_row_set_int(row, "position", n + 1);
	}
	return rc;
}

static hb_err macro_rules(hb_row *row, hb_error *e)
{
	const char *target = hb_row_str(row, "target");
	bool has_type = hb_row_get(row, "feedback_type_id").type != HB_TYPE_NULL;
	if (strcmp(target, "feedback") == 0 && !has_type)
		return hb_fail(e, HB_ERR_INVALID, "feedback_type",
			       "a feedback macro belongs to a feedback type: give \"feedback_type\"");
	if (strcmp(target, "users") == 0 && has_type)
		return hb_fail(e, HB_ERR_INVALID, "feedback_type",
			       "a user macro has no feedback type");
	return HB_OK;
}

static hb_err apikey_rules(hb_row *row, hb_error *e)
{
	const char *role = hb_row_str(row, "role");
	const char *projects = hb_row_str(row, "projects");
	bool has_projects = projects && strcmp(projects, "[]") != 0;
	if (strcmp(role, "project-manager") == 0 && !has_projects)
		return hb_fail(e, HB_ERR_INVALID, "projects",
			       "a project-manager key needs at least one project (--project KEY)");
	if (strcmp(role, "community-manager") == 0 && has_projects)
		return hb_fail(e, HB_ERR_INVALID, "projects",
			       "a community-manager key covers every project; do not list projects");
	return HB_OK;
}

hb_err hb_rules_check(hb_ctx *c, hb_row *row, const hb_row *before, hb_error *e)
{
	switch (row->kind->id) {
	case HB_K_FEEDBACK_TYPE:
		return feedback_type_rules(c, row, before, e);
	case HB_K_FEEDBACK:
		return feedback_rules(c, row, before, e);
	case HB_K_XFIELD:
		return xfield_rules(c, row, before, e);
	case HB_K_MACRO:
		return macro_rules(row, e);
	case HB_K_APIKEY:
		return apikey_rules(row, e);
	default:
		return HB_OK;
	}
}
