/*
 * filter.c - `filter save|list|show|delete` (saved filters) and the filtered form of
 * `user list` / `feedback list`: --filter EXPR or --filter @SAVED, --project P, --view V,
 * --count, with --limit/--after paging.
 *
 * DESIGN. The filter is compiled once (query/filter.h); the store's query op gives the matching
 * ids in one statement (8 bytes a match are kept), then records are loaded and printed in
 * batches while no statement is open, so a listing never holds more than one batch of records.
 * A batch is read in one read transaction; through a view, its columns are read with one
 * statement each for the whole batch (query/rows.h) rather than record by record.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/query.h"
#include "cli/records.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "model/tagctx.h"
#include "query/rows.h"

#define LIST_BATCH HB_ROWS_BATCH

void hb_csv_write_field(FILE *out, const char *s, size_t n)
{
	bool quote = n && (s[0] == ' ' || s[n - 1] == ' ');
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		fwrite(s, 1, n, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

static hb_err find_project(hb_cli *cli, const char *key, int64_t *id, hb_error *e)
{
	hb_row *p = NULL;
	hb_err rc = hb_record_find(&cli->ctx, HB_K_PROJECT, cli->ctx.community_id, key, &p, e);
	if (!rc)
		*id = hb_row_id(p);
	hb_row_free(&p);
	return rc;
}

static const char *target_name(hb_target t)
{
	return t == HB_TARGET_FEEDBACK ? "feedback" : "users";
}

hb_err hb_cli_filter_from_args(hb_cli *cli, hb_target target, const char *filter,
			       const char *project, hb_filter **out, int64_t *project_id, hb_error *e)
{
	*out = NULL;
	*project_id = 0;
	char *text = NULL;
	hb_err rc = HB_OK;
	if (project && (rc = find_project(cli, project, project_id, e)))
		return rc;
	if (filter && filter[0] == '@') {
		hb_target saved_target;
		int64_t saved_project;
		if ((rc = hb_saved_filter_load(&cli->ctx, filter + 1, &saved_target, &saved_project,
					       &text, e)))
			return rc;
		if (saved_target != target) {
			free(text);
			return hb_fail(e, HB_ERR_INVALID, "filter", "saved filter '%s' chooses %s, not %s",
				       filter + 1, target_name(saved_target), target_name(target));
		}
		if (!project)
			*project_id = saved_project;
		filter = text;
	}
	rc = hb_filter_compile(&cli->ctx, target, *project_id, filter, filter ? strlen(filter) : 0,
			       out, e);
	if (rc)
		hb_error_prefix(e, "--filter");
	free(text);
	return rc;
}

bool hb_cli_list_wants_query(hb_kind_id kind, hb_args *a)
{
	return hb_args_has(a, "filter") || hb_args_has(a, "view") || hb_args_has(a, "count") ||
	       hb_args_has(a, "format") ||
	       (kind == HB_K_USER && hb_args_has(a, "project"));
}

typedef struct lister {
	hb_cli *cli;
	hb_kind_id kind;
	hb_target target;
	hb_tagctx *tags;        /* with a view */
	hb_rows *rows;          /* with a view: its columns for a batch of records */
	hb_view_col *vcols;
	size_t nvcols;
	const char *cols[32];   /* without a view */
	size_t ncols;
	hb_table *table;
	bool csv;               /* --format csv: RFC 4180 with a header row */
	bool first;
	int64_t *ids;           /* the matches, chosen by one query */
	size_t nids, cap;
	bool counting;          /* --count: only nids */
} lister;

static hb_err collect(void *ud, const hb_qrow *row, hb_error *e)
{
	(void)e;
	lister *l = ud;
	if (l->counting) {
		l->nids++;
		return HB_OK;
	}
	if (l->nids == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->ids = hb_realloc(l->ids, l->cap * sizeof *l->ids);
	}
	l->ids[l->nids++] = row->id;
	return HB_OK;
}

static void csv_row(const char *const *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', stdout);
		hb_csv_write_field(stdout, cells[i], strlen(cells[i]));
	}
	fputs("\r\n", stdout);
}

static void emit(lister *l, json_t *o, const char *const *keys, size_t n)
{
	if (l->csv) {
		char bufs[HB_VIEW_MAX_COLUMNS][256];
		const char *cells[HB_VIEW_MAX_COLUMNS];
		for (size_t i = 0; i < n; i++) {
			json_t *v = json_object_get(o, keys[i]);
			cells[i] = json_is_boolean(v) ? (json_is_true(v) ? "true" : "false")
			  : json_is_string(v) ? json_string_value(v) : hb_cell_text(v, bufs[i], sizeof bufs[i]);
		}
		csv_row(cells, n);
	} else if (l->cli->json) {
		fputs(l->first ? "[\n  " : ",\n  ", stdout);
		json_dumpf(o, stdout, JSON_COMPACT);
	} else {
		char bufs[HB_VIEW_MAX_COLUMNS][256];
		const char *cells[HB_VIEW_MAX_COLUMNS];
		for (size_t i = 0; i < n; i++)
			cells[i] = hb_cell_text(json_object_get(o, keys[i]), bufs[i], sizeof bufs[i]);
		hb_table_add(l->table, cells);
	}
	l->first = false;
}

/* Load and print ids[from, to): records are read while no query is open. */
static hb_err print_range(lister *l, size_t from, size_t to, hb_error *e)
{
	hb_ctx *c = &l->cli->ctx;
	hb_kind_id kid = l->kind;
	if (l->rows) {
		hb_err rc = hb_rows_load(l->rows, l->ids + from, to - from, false, e);
		for (size_t i = 0; !rc && i < to - from; i++) {
			const hb_value *vals = hb_rows_at(l->rows, i);
			json_t *o = json_object();
			const char *keys[HB_VIEW_MAX_COLUMNS];
			for (size_t k = 0; k < l->nvcols; k++) {
				json_object_set_new(o, l->vcols[k].path, hb_value_json(&vals[k]));
				keys[k] = l->vcols[k].path;
			}
			emit(l, o, keys, l->nvcols);
			json_decref(o);
		}
		return rc;
	}
	hb_err rc = c->store->ops->begin_read(c->store, e);
	for (size_t i = from; !rc && i < to; i++) {
		char name[32];
		snprintf(name, sizeof name, "%lld", (long long)l->ids[i]);
		hb_row *row = NULL;
		if ((rc = hb_record_find(c, kid, 0, name, &row, e)))
			break;
		json_t *o = hb_record_json(c, row);
		hb_row_free(&row);
		emit(l, o, l->cols, l->ncols);
		json_decref(o);
	}
	if (rc) {
		c->store->ops->rollback(c->store);
		return rc;
	}
	return c->store->ops->commit(c->store, e);
}

int hb_cli_list_query(hb_cli *cli, hb_kind_id kind, hb_args *a, const char *default_cols)
{
	hb_error e = {0};
	lister l = {.cli = cli, .kind = kind, .first = true};
	l.target = kind == HB_K_FEEDBACK ? HB_TARGET_FEEDBACK : HB_TARGET_USERS;
	hb_filter *f = NULL;
	int64_t project_id = 0, n;
	char *colspec = NULL;
	int status = 0;
	hb_query q;
	for (int i = 0; i < a->nopt; i++) {
		const char *o = a->opt[i].name;
		if (strcmp(o, "filter") && strcmp(o, "view") && strcmp(o, "count") && strcmp(o, "project") &&
		    strcmp(o, "limit") && strcmp(o, "after") && strcmp(o, "format"))
			return hb_cli_usage(cli, "--%s cannot be combined with --filter, --view or --count; "
					    "write the condition in the filter", o);
	}
	hb_err rc = hb_cli_filter_from_args(cli, l.target, hb_args_get(a, "filter"),
					    hb_args_get(a, "project"), &f, &project_id, &e);
	if (rc)
		goto fail;
	q = *hb_filter_query(f);
	const char *limit = hb_args_get(a, "limit"), *after = hb_args_get(a, "after");
	if (limit && (!hb_text_to_int64(limit, strlen(limit), &n) || n < 1)) {
		status = hb_cli_usage(cli, "--limit must be a positive whole number");
		goto out;
	}
	size_t want = limit ? (size_t)n : 0;
	if (after && (!hb_text_to_int64(after, strlen(after), &n) || n < 0)) {
		status = hb_cli_usage(cli, "--after must be a record id");
		goto out;
	}
	q.after_id = after ? n : 0;
	const char *format = hb_args_get(a, "format");
	if (format && strcmp(format, "csv") && strcmp(format, "json") && strcmp(format, "table")) {
		status = hb_cli_usage(cli, "--format must be table, json or csv");
		goto out;
	}
	l.csv = format && strcmp(format, "csv") == 0;
	if (format && strcmp(format, "json") == 0)
		cli->json = true;
	else if (format)
		cli->json = false;
	if (hb_args_has(a, "count")) {
		if (hb_args_has(a, "view")) {
			status = hb_cli_usage(cli, "--count prints a number; it takes no --view");
			goto out;
		}
		l.counting = true;
		q.limit = want;
		if ((rc = cli->store->ops->query(cli->store, &q, collect, &l, &e)))
			goto fail;
		if (cli->json)
			hb_cli_print_json(json_pack("{s:I}", "count", (json_int_t)l.nids));
		else
			printf("%zu\n", l.nids);
		goto out;
	}
	const char *view = hb_args_get(a, "view");
	if (view) {
		hb_target vt;
		if ((rc = hb_view_load(&cli->ctx, view, &vt, &l.vcols, &l.nvcols, &e)))
			goto fail;
		if (vt != l.target) {
			rc = hb_fail(&e, HB_ERR_INVALID, "view", "view '%s' shows %s, not %s", view,
				     target_name(vt), target_name(l.target));
			goto fail;
		}
		if ((rc = hb_tagctx_new(&cli->ctx, l.target, project_id, &l.tags, &e)))
			goto fail;
		const hb_catalog *cat = hb_tagctx_catalog(l.tags);
		if ((rc = hb_view_check_paths(cat, l.vcols, l.nvcols, &e))) {
			hb_error_prefix(&e, "view '%s'", view);
			goto fail;
		}
		const char *heads[HB_VIEW_MAX_COLUMNS], *paths[HB_VIEW_MAX_COLUMNS];
		for (size_t i = 0; i < l.nvcols; i++) {
			paths[i] = l.vcols[i].path;
			heads[i] = l.vcols[i].heading;
		}
		if ((rc = hb_rows_new(&cli->ctx, f, l.tags, paths, l.nvcols, &l.rows, &e)))
			goto fail;
		if (l.csv)
			csv_row(heads, l.nvcols);
		else if (!cli->json)
			l.table = hb_table_new(heads, l.nvcols);
	} else {
		colspec = hb_strdup(default_cols);
		for (char *tok = colspec, *comma; tok && l.ncols < 32; tok = comma ? comma + 1 : NULL) {
			comma = strchr(tok, ',');
			if (comma)
				*comma = '\0';
			l.cols[l.ncols++] = tok;
		}
		if (l.csv)
			csv_row(l.cols, l.ncols);
		else if (!cli->json)
			l.table = hb_table_new(l.cols, l.ncols);
	}
	q.limit = want;
	rc = cli->store->ops->query(cli->store, &q, collect, &l, &e);
	for (size_t at = 0; !rc && at < l.nids; at += LIST_BATCH)
		rc = print_range(&l, at, l.nids - at < LIST_BATCH ? l.nids : at + LIST_BATCH, &e);
	if (cli->json && !l.csv)
		fputs(l.first ? "[]\n" : "\n]\n", stdout);
	else
		hb_table_finish(&l.table);
	if (rc)
		goto fail;
	goto out;
fail:
	status = hb_cli_fail(cli, &e);
out:
	hb_table_finish(&l.table);
	hb_rows_free(&l.rows);
	hb_tagctx_free(&l.tags);
	hb_view_cols_free(&l.vcols, l.nvcols);
	free(l.ids);
	free(colspec);
	hb_filter_free(&f);
	return status;
}

/* ---- filter save|list|show|delete, shared with views ---- */

static void print_saved(hb_cli *cli, const hb_row *row)
{
	json_t *o = hb_record_json(&cli->ctx, row);
	if (cli->json) {
		hb_cli_print_json(o);
		return;
	}
	json_t *cols = json_object_get(o, "columns");
	if (json_is_array(cols)) { /* a view: one "path  heading" line per column */
		json_t *shown = json_copy(o);
		char *lines = NULL;
		size_t len = 0, i;
		FILE *m = open_memstream(&lines, &len);
		json_t *c;
		json_array_foreach(cols, i, c) fprintf(m, "%s%s (%s)", i ? "\n" : "",
						       json_string_value(json_object_get(c, "path")),
						       json_string_value(json_object_get(c, "heading")));
		fclose(m);
		json_object_set_new(shown, "columns", json_string(lines));
		free(lines);
		hb_cli_print_details(shown);
		json_decref(shown);
	} else {
		hb_cli_print_details(o);
	}
	json_decref(o);
}

typedef struct saved_list {
	hb_cli *cli;
	hb_table *table;
	bool first;
	const char *cols[5];
} saved_list;

static hb_err list_saved_row(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	saved_list *s = ud;
	json_t *o = hb_record_json(&s->cli->ctx, row);
	if (s->cli->json) {
		fputs(s->first ? "[\n  " : ",\n  ", stdout);
		json_dumpf(o, stdout, JSON_COMPACT);
	} else {
		char bufs[4][512];
		const char *cells[4];
		for (int i = 0; i < 4; i++)
			cells[i] = hb_cell_text(json_object_get(o, s->cols[i]), bufs[i], sizeof bufs[i]);
		hb_table_add(s->table, cells);
	}
	s->first = false;
	json_decref(o);
	return HB_OK;
}

/* list, show and delete of saved filters and views. */
static int saved_common(hb_cli *cli, hb_kind_id kind, const char *verb, hb_args *a)
{
	hb_error e = {0};
	const hb_kind *k = hb_kind_get(kind);
	if (strcmp(verb, "list") == 0) {
		if (a->npos)
			return hb_cli_usage(cli, "list takes no arguments");
		hb_cond cond = {1, hb_value_int(cli->ctx.community_id)};
		hb_list_opts o = {.conds = &cond, .nconds = 1};
		saved_list s = {cli, NULL, true, {"key", "name", "on", kind == HB_K_FILTER ? "expression" : "columns"}};
		if (!cli->json)
			s.table = hb_table_new(s.cols, 4);
		hb_err rc = cli->store->ops->list(cli->store, k, &o, list_saved_row, &s, &e);
		if (cli->json)
			fputs(s.first ? "[]\n" : "\n]\n", stdout);
		hb_table_finish(&s.table);
		return rc ? hb_cli_fail(cli, &e) : 0;
	}
	if (a->npos != 1)
		return hb_cli_usage(cli, "name one %s by its key", k->name);
	hb_row *row = NULL;
	hb_err rc = hb_record_find(&cli->ctx, kind, cli->ctx.community_id, a->pos[0], &row, &e);
	if (rc == HB_ERR_NOT_FOUND)
		hb_fail(&e, rc, k->name, "no saved %s '%s'", k->name, a->pos[0]);
	if (!rc && strcmp(verb, "delete") == 0) {
		rc = hb_record_delete(&cli->ctx, row, &e);
		if (!rc && cli->json)
			hb_cli_print_json(json_pack("{s:b}", "deleted", 1));
		else if (!rc)
			printf("deleted %s %s\n", k->name, a->pos[0]);
	} else if (!rc) {
		print_saved(cli, row);
	}
	hb_row_free(&row);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

/* Create the saved record, or change name and body of the one with that key. */
static int save(hb_cli *cli, hb_kind_id kind, json_t *in, hb_err (*check)(hb_ctx *, json_t *, hb_error *))
{
	hb_error e = {0};
	const hb_kind *k = hb_kind_get(kind);
	const char *key = json_string_value(json_object_get(in, "key"));
	hb_row *row = NULL;
	hb_err rc = check(&cli->ctx, in, &e);
	if (!rc) {
		rc = hb_record_find(&cli->ctx, kind, cli->ctx.community_id, key, &row, &e);
		if (rc == HB_ERR_NOT_FOUND) {
			rc = hb_record_create(&cli->ctx, kind, in, &row, &e);
		} else if (!rc) {
			json_t *old = hb_record_json(&cli->ctx, row);
			json_t *was_on = json_object_get(old, "on"), *was_p = json_object_get(old, "project");
			json_t *now_p = json_object_get(in, "project");
			if (!json_equal(was_on, json_object_get(in, "on")) ||
			    (kind == HB_K_FILTER && !json_equal(was_p ? was_p : json_null(),
								now_p ? now_p : json_null())))
				rc = hb_fail(&e, HB_ERR_CONFLICT, "key", "%s '%s' exists for other records "
					     "(on, project); delete it first or choose another key", k->name, key);
			json_decref(old);
			json_object_del(in, "key");
			json_object_del(in, "on");
			json_object_del(in, "project");
			if (!rc)
				rc = hb_record_update(&cli->ctx, row, in, &e);
		}
	}
	if (!rc)
		print_saved(cli, row);
	hb_row_free(&row);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

static int run_saved(hb_cli *cli, hb_kind_id kind, int argc, char **argv)
{
	const bool filters = kind == HB_K_FILTER;
	static const hb_optspec filter_opts[] = {
		{"on", true, false, "users or feedback (default users)"},
		{"filter", true, false, "the filter expression"},
		{"name", true, false, "a name (default: the key)"},
		{"project", true, false, "project key (omit for community level)"},
		{NULL}};
	static const hb_optspec view_opts[] = {
		{"on", true, false, "users or feedback (default users)"},
		{"columns", true, false, "PATH[=Heading],… or a JSON list of {path, heading}"},
		{"name", true, false, "a name (default: the key)"},
		{NULL}};
	static char prog[64];
	const char *group = filters ? "filter" : "view";
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		if (filters)
			printf("usage: hookbridge filter save KEY [--on users|feedback] --filter EXPR "
			       "[--name N] [--project P]\n       hookbridge filter list | show KEY | delete KEY"
			       "\n\nSaved filters: use one with --filter @KEY. The language: docs/filters.md.\n");
		else
			printf("usage: hookbridge view save KEY [--on users|feedback] --columns "
			       "\"PATH[=Heading],…\" [--name N]\n       hookbridge view list | show KEY | "
			       "delete KEY\n\nViews: the columns of a list, used with --view KEY.\n");
		return argc < 1 ? 2 : 0;
	}
	const char *verb = argv[0];
	snprintf(prog, sizeof prog, "hookbridge %s %s", group, verb);
	cli->prog = prog;
	bool saving = strcmp(verb, "save") == 0;
	if (!saving && strcmp(verb, "list") && strcmp(verb, "show") && strcmp(verb, "delete"))
		return hb_cli_usage(cli, "unknown command '%s' (save, list, show or delete)", verb);
	hb_args a;
	hb_error e = {0};
	if (hb_args_parse(argc - 1, argv + 1, saving ? (filters ? filter_opts : view_opts) : NULL, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		char *args[] = {"--help"};
		return run_saved(cli, kind, 1, args);
	}
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	if (!saving)
		return saved_common(cli, kind, verb, &a);
	if (a.npos != 1)
		return hb_cli_usage(cli, "expected KEY");
	const char *body = hb_args_get(&a, filters ? "filter" : "columns");
	if (!body)
		return hb_cli_usage(cli, "--%s is required", filters ? "filter" : "columns");
	const char *on = hb_args_get(&a, "on");
	const char *name = hb_args_get(&a, "name");
	json_t *in = json_pack("{s:s, s:s, s:s}", "key", a.pos[0], "name", name ? name : a.pos[0],
			       "on", on ? on : "users");
	if (!in)
		return hb_cli_usage(cli, "arguments must be UTF-8 text");
	if (filters) {
		json_t *x = json_string(body);
		if (!x) {
			json_decref(in);
			return hb_cli_usage(cli, "--filter must be UTF-8 text");
		}
		json_object_set_new(in, "expression", x);
		if (hb_args_get(&a, "project"))
			json_object_set_new(in, "project", json_string(hb_args_get(&a, "project")));
	} else if (body[0] == '[') {
		json_error_t je;
		json_t *cols = json_loads(body, 0, &je);
		if (!cols) {
			json_decref(in);
			return hb_cli_usage(cli, "--columns: invalid JSON: %s", je.text);
		}
		json_object_set_new(in, "columns", cols);
	} else { /* PATH[=Heading],… */
		json_t *cols = json_array();
		char *spec = hb_strdup(body);
		for (char *tok = spec, *comma; tok; tok = comma ? comma + 1 : NULL) {
			comma = strchr(tok, ',');
			if (comma)
				*comma = '\0';
			while (*tok == ' ')
				tok++;
			char *eq = strchr(tok, '=');
			if (eq)
				*eq = '\0';
			for (char *end = tok + strlen(tok); end > tok && end[-1] == ' ';)
				*--end = '\0';
			json_t *c = json_pack("{s:s?, s:s?}", "path", tok, "heading", eq ? eq + 1 : NULL);
			if (c)
				json_array_append_new(cols, c);
		}
		free(spec);
		json_object_set_new(in, "columns", cols);
	}
	int status = save(cli, kind, in, filters ? hb_saved_filter_check : hb_saved_view_check);
	json_decref(in);
	return status;
}

int hb_cmd_filter(hb_cli *cli, int argc, char **argv)
{
	return run_saved(cli, HB_K_FILTER, argc, argv);
}

int hb_cmd_view(hb_cli *cli, int argc, char **argv)
{
	return run_saved(cli, HB_K_VIEW, argc, argv);
}
