/*
 * records.c - the record resources: projects, users, feedback types, feedback tickets and
 * External Data groups and fields, each a list, create, get, update and delete over the model
 * functions the command line uses (hb_record_*), plus a project's participants, a user's notes
 * and a ticket's replies.
 *
 * DESIGN. One table row per resource says how a path segment finds a record and which project
 * a record belongs to; access for project-manager keys follows from that. Writes by such keys
 * run inside one transaction with the access check on the record as the model resolved it,
 * so a refused write is rolled back whole.
 */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "api/packages.h"
#include "core/text.h"
#include "model/xdata.h"

typedef struct resource {
	hb_kind_id kind;
	const char *path; /* for Location headers */
	hb_err (*locate)(hb_req *r, const char *name, hb_row **out, hb_error *e);
	/* Project a record belongs to (0: community level); -1 for users (by participation). */
	int64_t (*project_of)(hb_req *r, const hb_row *row);
	bool community_readable; /* community-level records may be read by project managers */
} resource;

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static hb_err find_in_community(hb_req *r, hb_kind_id k, const char *name, hb_row **out,
				hb_error *e)
{
	return hb_record_find(r->c, k, r->c->community_id, name, out, e);
}

static hb_err loc_project(hb_req *r, const char *n, hb_row **out, hb_error *e)
{
	return find_in_community(r, HB_K_PROJECT, n, out, e);
}
static hb_err loc_user(hb_req *r, const char *n, hb_row **out, hb_error *e)
{
	return find_in_community(r, HB_K_USER, n, out, e);
}
static hb_err loc_xgroup(hb_req *r, const char *n, hb_row **out, hb_error *e)
{
	return find_in_community(r, HB_K_XGROUP, n, out, e);
}
static hb_err loc_ftype(hb_req *r, const char *n, hb_row **out, hb_error *e)
{
	if (!digits(n))
		return hb_fail(e, HB_ERR_NOT_FOUND, "id", "feedback types are named by id, not '%s'", n);
	return hb_record_find(r->c, HB_K_FEEDBACK_TYPE, 0, n, out, e);
}
static hb_err loc_feedback(hb_req *r, const char *n, hb_row **out, hb_error *e)
{
	hb_err rc = hb_record_find(r->c, HB_K_FEEDBACK, 0, n, out, e);
	return rc == HB_ERR_INVALID ? hb_fail(e, HB_ERR_NOT_FOUND, "number", "no feedback ticket "
					      "'%s'", n) : rc;
}
static hb_err loc_xfield(hb_req *r, const char *n, hb_row **out, hb_error *e)
{
	hb_xfield_info f;
	hb_target t;
	hb_err rc = hb_xdata_field(r->c, n, &f, &t, e);
	if (rc == HB_ERR_USAGE)
		rc = hb_fail(e, HB_ERR_NOT_FOUND, "field", "name the field as GROUP.FIELD, not '%s'", n);
	if (rc)
		return rc;
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)f.id);
	return hb_record_find(r->c, HB_K_XFIELD, 0, id, out, e);
}

static int64_t own_id(hb_req *r, const hb_row *row)
{
	(void)r;
	return hb_row_id(row);
}
static int64_t by_user(hb_req *r, const hb_row *row)
{
	(void)r;
	(void)row;
	return -1;
}
static int64_t project_col(hb_req *r, const hb_row *row)
{
	(void)r;
	return hb_row_int(row, "project_id");
}
static int64_t group_project(hb_req *r, const hb_row *row)
{
	hb_row *g = NULL;
	hb_error e;
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)hb_row_int(row, "group_id"));
	if (hb_record_find(r->c, HB_K_XGROUP, 0, id, &g, &e))
		return -2; /* not found: nobody but a manager */
	int64_t p = hb_row_int(g, "project_id");
	hb_row_free(&g);
	return p;
}

static const resource R_PROJECT = {HB_K_PROJECT, "/api/v1/projects/", loc_project, own_id, false};
static const resource R_USER = {HB_K_USER, "/api/v1/users/", loc_user, by_user, false};
static const resource R_FTYPE = {HB_K_FEEDBACK_TYPE, "/api/v1/feedback-types/", loc_ftype,
				 project_col, false};
static const resource R_FEEDBACK = {HB_K_FEEDBACK, "/api/v1/feedback/", loc_feedback,
				    project_col, false};
static const resource R_XGROUP = {HB_K_XGROUP, "/api/v1/xdata/groups/", loc_xgroup, project_col,
				  true};
static const resource R_XFIELD = {HB_K_XFIELD, "/api/v1/xdata/fields/", loc_xfield,
				  group_project, true};

/* May the caller read (write = false) or change this record? */
static hb_err access_ok(hb_req *r, const resource *res, const hb_row *row, bool write, hb_error *e)
{
	if (r->auth.manager)
		return HB_OK;
	int64_t p = res->project_of(r, row);
	if (p == -1)
		return hb_api_user_ok(r, hb_row_id(row), e);
	if (p == 0 && !write && res->community_readable)
		return HB_OK;
	return hb_api_project_ok(r, p, e);
}

static bool visible(hb_req *r, const resource *res, const hb_row *row)
{
	int64_t p = res->project_of(r, row);
	if (p == -1)
		return hb_api_user_visible(r, hb_row_id(row));
	if (p == 0)
		return res->community_readable;
	return hb_api_has_project(r, p);
}

#define VISIBLE(name, res)                                                                          \
	static bool name(hb_req *r, const hb_row *row)                                              \
	{                                                                                           \
		return visible(r, &res, row);                                                       \
	}
VISIBLE(vis_project, R_PROJECT)
VISIBLE(vis_user, R_USER)
VISIBLE(vis_ftype, R_FTYPE)
VISIBLE(vis_feedback, R_FEEDBACK)
VISIBLE(vis_xgroup, R_XGROUP)
VISIBLE(vis_xfield, R_XFIELD)

/* The path segment that names a record in its Location. */
static void location(hb_req *r, const resource *res, const hb_row *row)
{
	char name[160];
	const char *key = NULL;
	if (res->kind == HB_K_PROJECT || res->kind == HB_K_XGROUP)
		key = hb_row_str(row, "key");
	if (res->kind == HB_K_FEEDBACK) {
		hb_error e;
		if (!hb_feedback_number(r->c, row, name, sizeof name, &e))
			key = name;
	}
	if (res->kind == HB_K_XFIELD) {
		hb_row *g = NULL;
		hb_error e;
		char id[32];
		snprintf(id, sizeof id, "%lld", (long long)hb_row_int(row, "group_id"));
		if (!hb_record_find(r->c, HB_K_XGROUP, 0, id, &g, &e)) {
			snprintf(name, sizeof name, "%s.%s", hb_row_str(g, "key"), hb_row_str(row, "key"));
			key = name;
		}
		hb_row_free(&g);
	}
	if (key)
		snprintf(r->location, sizeof r->location, "%s%s", res->path, key);
	else
		snprintf(r->location, sizeof r->location, "%s%lld", res->path, (long long)hb_row_id(row));
}

typedef struct write_job {
	hb_req *r;
	const resource *res;
	hb_row *row;
	json_t *input;
	int op; /* 0 create, 1 update, 2 delete */
} write_job;

static hb_err do_write(hb_ctx *c, void *ud, hb_error *e)
{
	write_job *j = ud;
	hb_err rc;
	if (j->op == 0) {
		rc = hb_record_create(c, j->res->kind, j->input, &j->row, e);
		if (!rc && j->res->kind != HB_K_USER) /* a new user belongs to no project yet */
			rc = access_ok(j->r, j->res, j->row, true, e);
	} else if (j->op == 1) {
		rc = hb_record_update(c, j->row, j->input, e);
	} else {
		rc = hb_record_delete(c, j->row, e);
	}
	return rc;
}

hb_err hb_api_precheck_project(hb_req *r, hb_kind_id kind, hb_error *e)
{
	if (r->auth.manager || !json_is_object(r->body))
		return HB_OK;
	json_t *p = json_object_get(r->body, "project"), *g = json_object_get(r->body, "group");
	hb_row *row = NULL;
	hb_err rc = HB_OK;
	char name[64];
	if (kind == HB_K_XFIELD && json_is_string(g)) {
		if (hb_record_find(r->c, HB_K_XGROUP, r->c->community_id, json_string_value(g), &row, e))
			return HB_OK; /* the model says what is wrong with it */
		rc = hb_api_project_ok(r, hb_row_int(row, "project_id"), e);
	} else if (json_is_string(p) || json_is_integer(p)) {
		if (json_is_string(p))
			snprintf(name, sizeof name, "%s", json_string_value(p));
		else
			snprintf(name, sizeof name, "%lld", (long long)json_integer_value(p));
		if (hb_record_find(r->c, HB_K_PROJECT, r->c->community_id, name, &row, e))
			return HB_OK;
		rc = hb_api_project_ok(r, hb_row_id(row), e);
	} else if (!p && (kind == HB_K_XGROUP || kind == HB_K_MACRO)) {
		rc = hb_api_project_ok(r, 0, e); /* a community-level record */
	}
	hb_row_free(&row);
	hb_error_clear(e);
	return rc ? hb_fail(e, rc, "project", "this API key may not create records there") : HB_OK;
}

static hb_err create(hb_req *r, const resource *res, hb_error *e)
{
	/* refused before the model can answer "already exists" about another project */
	hb_err rc = res->kind == HB_K_USER ? HB_OK : hb_api_precheck_project(r, res->kind, e);
	if (rc)
		return rc;
	write_job j = {r, res, NULL, r->body, 0};
	rc = hb_tx(r->c, do_write, &j, e);
	if (!rc) {
		location(r, res, j.row);
		hb_api_reply(r, 201, hb_api_row_json(r, j.row));
	}
	hb_row_free(&j.row);
	return rc;
}

static hb_err locate(hb_req *r, const resource *res, bool write, hb_row **row, hb_error *e)
{
	hb_err rc = res->locate(r, r->params[0], row, e);
	if (!rc && (rc = access_ok(r, res, *row, write, e)))
		hb_row_free(row);
	return rc;
}

static hb_err get(hb_req *r, const resource *res, hb_error *e)
{
	hb_row *row = NULL;
	hb_err rc = locate(r, res, false, &row, e);
	if (!rc)
		hb_api_reply(r, 200, hb_api_row_json(r, row));
	hb_row_free(&row);
	return rc;
}

static hb_err update(hb_req *r, const resource *res, hb_error *e)
{
	hb_row *row = NULL;
	if (json_is_object(r->body) && json_object_size(r->body) == 0)
		return hb_fail(e, HB_ERR_BAD_REQUEST, "", "nothing to change: give the fields to set");
	hb_err rc = locate(r, res, true, &row, e);
	if (!rc) {
		write_job j = {r, res, row, r->body, 1};
		rc = hb_tx(r->c, do_write, &j, e);
	}
	if (!rc)
		hb_api_reply(r, 200, hb_api_row_json(r, row));
	hb_row_free(&row);
	return rc;
}

static hb_err delete(hb_req *r, const resource *res, hb_error *e)
{
	hb_row *row = NULL;
	hb_err rc = locate(r, res, true, &row, e);
	if (!rc) {
		write_job j = {r, res, row, NULL, 2};
		rc = hb_tx(r->c, do_write, &j, e);
	}
	if (!rc)
		hb_api_reply(r, 204, NULL);
	hb_row_free(&row);
	return rc;
}

static hb_err list(hb_req *r, hb_kind_id k, bool (*vis)(hb_req *, const hb_row *), hb_error *e)
{
	if ((k == HB_K_USER || k == HB_K_FEEDBACK) && hb_api_wants_query(r)) /* api/packages.c */
		return hb_api_list_query(r, k == HB_K_USER ? HB_TARGET_USERS : HB_TARGET_FEEDBACK, e);
	hb_page_spec spec = {.kind = k, .visible = vis};
	return hb_api_list(r, &spec, e);
}

#define RESOURCE(prefix, plural, res, vis)                                                          \
	hb_err hb_h_##plural##_list(hb_req *r, hb_error *e)                                         \
	{                                                                                           \
		return list(r, res.kind, vis, e);                                                   \
	}                                                                                           \
	hb_err hb_h_##plural##_create(hb_req *r, hb_error *e)                                       \
	{                                                                                           \
		return create(r, &res, e);                                                          \
	}                                                                                           \
	hb_err hb_h_##prefix##_get(hb_req *r, hb_error *e)                                          \
	{                                                                                           \
		return get(r, &res, e);                                                             \
	}                                                                                           \
	hb_err hb_h_##prefix##_update(hb_req *r, hb_error *e)                                       \
	{                                                                                           \
		return update(r, &res, e);                                                          \
	}                                                                                           \
	hb_err hb_h_##prefix##_delete(hb_req *r, hb_error *e)                                       \
	{                                                                                           \
		return delete(r, &res, e);                                                          \
	}

RESOURCE(project, projects, R_PROJECT, vis_project)
RESOURCE(user, users, R_USER, vis_user)
RESOURCE(ftype, ftypes, R_FTYPE, vis_ftype)
RESOURCE(feedback, feedback, R_FEEDBACK, vis_feedback)
RESOURCE(xgroup, xgroups, R_XGROUP, vis_xgroup)
RESOURCE(xfield, xfields, R_XFIELD, vis_xfield)

/* ---- children: participants, notes, replies ---- */

/* List kind k's rows whose column col is the parent's id (access checked on the parent). */
static hb_err list_children(hb_req *r, const resource *parent, hb_kind_id k, const char *col,
			    hb_error *e)
{
	hb_row *row = NULL;
	hb_err rc = locate(r, parent, false, &row, e);
	if (rc)
		return rc;
	hb_page_spec spec = {.kind = k, .no_filters = true};
	spec.conds[spec.nconds++] =
		(hb_cond){hb_kind_col(hb_kind_get(k), col), hb_value_int(hb_row_id(row))};
	hb_row_free(&row);
	return hb_api_list(r, &spec, e);
}

hb_err hb_h_participants_list(hb_req *r, hb_error *e)
{
	return list_children(r, &R_PROJECT, HB_K_PARTICIPATION, "project_id", e);
}
hb_err hb_h_notes_list(hb_req *r, hb_error *e)
{
	return list_children(r, &R_USER, HB_K_NOTE, "user_id", e);
}
hb_err hb_h_replies_list(hb_req *r, hb_error *e)
{
	return list_children(r, &R_FEEDBACK, HB_K_REPLY, "feedback_id", e);
}

/* Add a note to a user or a reply to a ticket: body {body, source|author}. */
static hb_err add_child(hb_req *r, const resource *parent, hb_kind_id k, const char *parent_field,
			const char *who_field, hb_error *e)
{
	const char *allowed[] = {"body", who_field, NULL};
	hb_err rc = hb_api_body_only(r, allowed, e);
	hb_row *p = NULL, *row = NULL;
	if (!rc)
		rc = locate(r, parent, true, &p, e);
	if (rc)
		return rc;
	json_t *in = json_deep_copy(r->body);
	json_object_set_new(in, parent_field, json_integer(hb_row_id(p)));
	if (!json_object_get(in, who_field))
		json_object_set_new(in, who_field, json_string(r->auth.actor));
	rc = hb_record_create(r->c, k, in, &row, e);
	json_decref(in);
	if (!rc) {
		hb_api_reply(r, 201, hb_api_row_json(r, row));
		hb_row_free(&row);
	}
	hb_row_free(&p);
	return rc;
}

hb_err hb_h_notes_create(hb_req *r, hb_error *e)
{
	return add_child(r, &R_USER, HB_K_NOTE, "user", "source", e);
}
hb_err hb_h_replies_create(hb_req *r, hb_error *e)
{
	return add_child(r, &R_FEEDBACK, HB_K_REPLY, "feedback", "author", e);
}

typedef struct join_job {
	hb_req *r;
	const hb_row *project;
	json_t *out;
} join_job;

static hb_err join_all(hb_ctx *c, void *ud, hb_error *e)
{
	join_job *j = ud;
	json_t *users = json_object_get(j->r->body, "users");
	size_t i;
	json_t *u;
	json_array_foreach(users, i, u) {
		if (!json_is_string(u) && !json_is_integer(u))
			return hb_fail(e, HB_ERR_INVALID, "users", "users must be emails or user ids");
		json_t *in = json_pack("{s:I, s:O}", "project", (json_int_t)hb_row_id(j->project),
				       "user", u);
		json_t *v;
		if ((v = json_object_get(j->r->body, "status")))
			json_object_set(in, "status", v);
		if ((v = json_object_get(j->r->body, "team")))
			json_object_set(in, "team", v);
		hb_row *row = NULL;
		hb_err rc = hb_record_create(c, HB_K_PARTICIPATION, in, &row, e);
		json_decref(in);
		if (rc == HB_ERR_CONFLICT)
			hb_fail(e, rc, "users", "%s is already in project '%s'",
				json_is_string(u) ? json_string_value(u) : "the user",
				hb_row_str(j->project, "key"));
		if (rc)
			return rc;
		json_array_append_new(j->out, hb_api_row_json(j->r, row));
		hb_row_free(&row);
	}
	return HB_OK;
}

hb_err hb_h_participants_join(hb_req *r, hb_error *e)
{
	static const char *const allowed[] = {"users", "status", "team", NULL};
	hb_err rc = hb_api_body_only(r, allowed, e);
	if (rc)
		return rc;
	json_t *users = json_object_get(r->body, "users");
	if (!json_is_array(users) || json_array_size(users) == 0 || json_array_size(users) > 1000)
		return hb_fail(e, HB_ERR_INVALID, "users", "users must be a list of 1 to 1000 emails");
	hb_row *p = NULL;
	if ((rc = locate(r, &R_PROJECT, true, &p, e)))
		return rc;
	join_job j = {r, p, json_array()};
	rc = hb_tx(r->c, join_all, &j, e);
	if (!rc)
		hb_api_reply(r, 201, json_pack("{s:O}", "data", j.out));
	json_decref(j.out);
	hb_row_free(&p);
	return rc;
}

hb_err hb_api_find_target(hb_req *r, hb_target t, const char *name, bool write, hb_row **out,
			  hb_error *e)
{
	static const resource *const res[] = {&R_USER, &R_FEEDBACK, &R_PROJECT};
	hb_err rc = res[t]->locate(r, name, out, e);
	if (rc == HB_ERR_NOT_FOUND)
		snprintf(e->field, sizeof e->field, "record");
	if (!rc && (rc = access_ok(r, res[t], *out, write, e)))
		hb_row_free(out);
	return rc;
}
