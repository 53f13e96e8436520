/*
 * package.c - `hookbridge package save|list|show|delete|export`: data packages (SPEC §6),
 * saved rows (a filter) and columns (a view) over users or feedback, exported as paged JSON
 * or RFC 4180 CSV. Exports write to stdout as they go (query/package.h): a CSV export is read
 * and written a batch of rows at a time, so it holds one batch in memory whatever its size; a
 * JSON export holds the matching ids (8 bytes each) and one batch.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "query/package.h"

#define CSV_PIECE_MAX (64 * 1024 * 1024) /* one batch of rows as CSV text */

static hb_err write_stdout(void *ud, const char *p, size_t n, hb_error *e)
{
	(void)ud;
	if (fwrite(p, 1, n, stdout) != n)
		return hb_fail(e, HB_ERR_IO, "", "cannot write the export to standard output");
	return HB_OK;
}

static int export_package(hb_cli *cli, hb_args *a)
{
	hb_error e = {0};
	if (a->npos != 1)
		return hb_cli_usage(cli, "name one data package by its key");
	const char *format = hb_args_get(a, "format");
	if (format && strcmp(format, "json") && strcmp(format, "csv"))
		return hb_cli_usage(cli, "--format must be json or csv");
	const char *page = hb_args_get(a, "page"), *size = hb_args_get(a, "page-size");
	size_t pg, page_size;
	if (hb_package_paging(page, size, 0, &pg, &page_size, &e))
		return hb_cli_usage(cli, "--%s", e.message);
	if (page && !size)
		return hb_cli_usage(cli, "--page needs --page-size");
	hb_package p;
	hb_export *x = NULL;
	hb_err rc = hb_package_load(&cli->ctx, a->pos[0], &p, &e);
	if (rc)
		return hb_cli_fail(cli, &e);
	bool csv = format ? strcmp(format, "csv") == 0 : p.csv;
	rc = hb_package_export(&cli->ctx, &p, &x, &e);
	if (!rc && csv) {
		hb_buf b;
		hb_buf_init(&b, CSV_PIECE_MAX);
		hb_export_csv_stream(x, page_size ? (pg - 1) * page_size : 0, page_size);
		for (bool done = false; !rc && !done;) {
			hb_buf_reset(&b);
			rc = hb_export_csv_next(x, &b, &done, &e);
			if (!rc && b.len)
				rc = write_stdout(NULL, b.data, b.len, &e);
		}
		hb_buf_free(&b);
	} else if (!rc) {
		rc = hb_export_select(x, 0, 0, &e);
		if (!rc)
			rc = hb_export_json(x, pg, page_size, write_stdout, NULL, &e);
	}
	if (!rc && fflush(stdout))
		rc = hb_fail(&e, HB_ERR_IO, "", "cannot write the export to standard output");
	hb_export_free(&x);
	hb_package_clear(&p);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

static void print_package(hb_cli *cli, const hb_row *row)
{
	json_t *o = hb_record_json(&cli->ctx, row);
	if (cli->json)
		hb_cli_print_json(o);
	else {
		hb_cli_print_details(o);
		json_decref(o);
	}
}

static hb_err list_row(void *ud, const hb_row *row, hb_error *e)
{
	(void)e;
	void **s = ud;
	hb_cli *cli = s[0];
	json_t *o = hb_record_json(&cli->ctx, row);
	if (cli->json) {
		fputs(s[2] ? ",\n  " : "[\n  ", stdout);
		json_dumpf(o, stdout, JSON_COMPACT);
		s[2] = cli;
	} else {
		static const char *const cols[] = {"key", "name", "on", "project", "view", "format", "filter"};
		char bufs[7][512];
		const char *cells[7];
		for (int i = 0; i < 7; i++)
			cells[i] = hb_cell_text(json_object_get(o, cols[i]), bufs[i], sizeof bufs[i]);
		hb_table_add(s[1], cells);
	}
	json_decref(o);
	return HB_OK;
}

static int list_packages(hb_cli *cli, hb_args *a)
{
	hb_error e = {0};
	if (a->npos)
		return hb_cli_usage(cli, "list takes no arguments");
	static const char *const cols[] = {"key", "name", "on", "project", "view", "format", "filter"};
	hb_cond cond = {1, hb_value_int(cli->ctx.community_id)};
	hb_list_opts o = {.conds = &cond, .nconds = 1};
	void *s[3] = {cli, cli->json ? NULL : hb_table_new(cols, 7), NULL};
	hb_err rc = cli->store->ops->list(cli->store, hb_kind_get(HB_K_PACKAGE), &o, list_row, s, &e);
	if (cli->json)
		fputs(s[2] ? "\n]\n" : "[]\n", stdout);
	hb_table *t = s[1];
	hb_table_finish(&t);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

static int show_or_delete(hb_cli *cli, hb_args *a, bool delete)
{
	hb_error e = {0};
	if (a->npos != 1)
		return hb_cli_usage(cli, "name one data package by its key");
	hb_row *row = NULL;
	hb_err rc = hb_record_find(&cli->ctx, HB_K_PACKAGE, cli->ctx.community_id, a->pos[0], &row, &e);
	if (rc == HB_ERR_NOT_FOUND || rc == HB_ERR_INVALID)
		rc = hb_fail(&e, HB_ERR_NOT_FOUND, "package", "no data package '%s'", a->pos[0]);
	if (!rc && delete) {
		rc = hb_record_delete(&cli->ctx, row, &e);
		if (!rc && cli->json)
			hb_cli_print_json(json_pack("{s:b}", "deleted", 1));
		else if (!rc)
			printf("deleted data package %s\n", a->pos[0]);
	} else if (!rc) {
		print_package(cli, row);
	}
	hb_row_free(&row);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

/* Create the package, or change the one with that key (its records and project stay). */
static int save_package(hb_cli *cli, hb_args *a)
{
	hb_error e = {0};
	if (a->npos != 1)
		return hb_cli_usage(cli, "expected KEY");
	const char *on = hb_args_get(a, "on"), *name = hb_args_get(a, "name");
	json_t *in = json_pack("{s:s, s:s, s:s}", "key", a->pos[0], "name", name ? name : a->pos[0],
			       "on", on ? on : "users");
	static const char *const opts[] = {"project", "filter", "view", "format"};
	for (size_t i = 0; in && i < 4; i++) {
		const char *v = hb_args_get(a, opts[i]);
		json_t *s = v ? json_string(v) : NULL;
		if (v && !s) {
			json_decref(in);
			in = NULL;
		} else if (s) {
			json_object_set_new(in, opts[i], s);
		}
	}
	if (!in)
		return hb_cli_usage(cli, "arguments must be UTF-8 text");
	hb_row *row = NULL;
	hb_err rc = hb_package_check(&cli->ctx, in, &e);
	if (!rc) {
		rc = hb_record_find(&cli->ctx, HB_K_PACKAGE, cli->ctx.community_id, a->pos[0], &row, &e);
		if (rc == HB_ERR_NOT_FOUND) {
			rc = hb_record_create(&cli->ctx, HB_K_PACKAGE, in, &row, &e);
		} else if (!rc) {
			json_t *old = hb_record_json(&cli->ctx, row);
			json_t *was_p = json_object_get(old, "project"), *now_p = json_object_get(in, "project");
			if (!json_equal(json_object_get(old, "on"), json_object_get(in, "on")) ||
			    !json_equal(was_p ? was_p : json_null(), now_p ? now_p : json_null()))
				rc = hb_fail(&e, HB_ERR_CONFLICT, "key", "data package '%s' exists for other "
					     "records (on, project); delete it first or choose another key",
					     a->pos[0]);
			json_decref(old);
			json_object_del(in, "key");
			json_object_del(in, "on");
			json_object_del(in, "project");
			/* options left out are cleared: the package is what this command says */
			if (!json_object_get(in, "filter"))
				json_object_set_new(in, "filter", json_null());
			if (!json_object_get(in, "view"))
				json_object_set_new(in, "view", json_null());
			if (!rc)
				rc = hb_record_update(&cli->ctx, row, in, &e);
		}
	}
	if (!rc)
		print_package(cli, row);
	hb_row_free(&row);
	json_decref(in);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

static void usage(void)
{
	printf("usage: hookbridge package save KEY [--on users|feedback] [--project P] [--filter F]\n"
	       "                                  [--view V] [--format json|csv] [--name N]\n"
	       "       hookbridge package list | show KEY | delete KEY\n"
	       "       hookbridge package export KEY [--format json|csv] [--page N --page-size N]\n\n"
	       "Data packages: the records a filter (an expression or @SAVED) chooses, in the columns\n"
	       "of a view (default: every field of the record and its External Data), served as\n"
	       "paged JSON or CSV here and at /api/v1/…/data-packages/KEY. See docs/filters.md.\n");
}

int hb_cmd_package(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec save_opts[] = {
		{"on", true, false, "users or feedback (default users)"},
		{"project", true, false, "project key (omit for community level)"},
		{"filter", true, false, "rows: a filter expression or @SAVED (default: every record)"},
		{"view", true, false, "columns: a saved view (default: every field)"},
		{"format", true, false, "json (default) or csv"},
		{"name", true, false, "a name (default: the key)"},
		{NULL}};
	static const hb_optspec export_opts[] = {
		{"format", true, false, "json or csv (default: the package's)"},
		{"page", true, false, "page number, from 1"},
		{"page-size", true, false, "rows a page"},
		{NULL}};
	static char prog[64];
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		usage();
		return argc < 1 ? 2 : 0;
	}
	const char *verb = argv[0];
	snprintf(prog, sizeof prog, "hookbridge package %s", verb);
	cli->prog = prog;
	bool save = strcmp(verb, "save") == 0, export = strcmp(verb, "export") == 0;
	if (!save && !export && strcmp(verb, "list") && strcmp(verb, "show") && strcmp(verb, "delete"))
		return hb_cli_usage(cli, "unknown command '%s' (save, list, show, delete or export)", verb);
	hb_args a;
	hb_error e = {0};
	if (hb_args_parse(argc - 1, argv + 1, save ? save_opts : export ? export_opts : NULL, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		usage();
		return 0;
	}
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	if (save)
		return save_package(cli, &a);
	if (export)
		return export_package(cli, &a);
	if (strcmp(verb, "list") == 0)
		return list_packages(cli, &a);
	return show_or_delete(cli, &a, strcmp(verb, "delete") == 0);
}
