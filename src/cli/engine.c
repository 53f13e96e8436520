/*
 * engine.c - the Data Engine at the command line: `hookbridge tags` lists every tag path with
 * its type; `hookbridge template render` renders a template for one record in a context, the
 * tool a person uses to check a template before putting it in a macro. A preview never shows a
 * secret: {{secret.NAME}} renders as "********" (and is refused in the plain text context).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "engine/template.h"
#include "model/tagctx.h"

/* --on and --project into a target and project id. */
static hb_err scope(hb_cli *cli, hb_args *a, hb_target *target, int64_t *project, hb_error *e)
{
	const char *on = hb_args_get(a, "on");
	if (!on)
		on = "users";
	if (strcmp(on, "users") && strcmp(on, "feedback"))
		return hb_fail(e, HB_ERR_USAGE, "on", "--on must be users or feedback, not '%s'", on);
	*target = strcmp(on, "feedback") == 0 ? HB_TARGET_FEEDBACK : HB_TARGET_USERS;
	*project = 0;
	const char *p = hb_args_get(a, "project");
	if (p) {
		hb_row *row = NULL;
		hb_err rc = hb_record_find(&cli->ctx, HB_K_PROJECT, cli->ctx.community_id, p, &row, e);
		if (rc)
			return rc;
		*project = hb_row_id(row);
		hb_row_free(&row);
	}
	return HB_OK;
}

int hb_cmd_tags(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {{"on", true, false, "users (default) or feedback"},
					  {"project", true, false, "include this project's groups"},
					  {NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge tags";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge tags [--on users|feedback] [--project KEY]\n\nList the dynamic "
		       "tag paths available to templates, filters and views, with their types.\n");
		return 0;
	}
	hb_target target;
	int64_t project;
	hb_tagctx *t = NULL;
	if (hb_cli_open(cli, false, &e) || scope(cli, &a, &target, &project, &e) ||
	    hb_tagctx_new(&cli->ctx, target, project, &t, &e))
		return hb_cli_fail(cli, &e);
	const hb_catalog *cat = hb_tagctx_catalog(t);
	static const char *const heads[] = {"tag", "type", "label"};
	hb_table *tab = cli->json ? NULL : hb_table_new(heads, 3);
	json_t *all = cli->json ? json_array() : NULL;
	for (size_t i = 0; i < hb_catalog_nslots(cat); i++) {
		const hb_path_info *p = hb_catalog_at(cat, i);
		if (all) {
			json_array_append_new(all, json_pack("{s:s, s:s, s:s}", "tag", p->path, "type",
							     hb_type_name(p->type), "label", p->label));
		} else {
			const char *cells[] = {p->path, hb_type_name(p->type), p->label};
			hb_table_add(tab, cells);
		}
	}
	if (all)
		hb_cli_print_json(all);
	else
		hb_table_finish(&tab);
	hb_tagctx_free(&t);
	return 0;
}

static char *read_file(const char *path, size_t *len, hb_error *e)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		hb_fail(e, HB_ERR_IO, "file", "cannot open %s", path);
		return NULL;
	}
	hb_buf b;
	hb_buf_init(&b, HB_TEMPLATE_MAX);
	char chunk[8192];
	size_t n;
	hb_err rc = HB_OK;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = hb_buf_add(&b, chunk, n);
	fclose(f);
	if (rc) {
		hb_buf_free(&b);
		hb_fail(e, HB_ERR_TOO_LARGE, "file", "%s is larger than %d bytes", path, HB_TEMPLATE_MAX);
		return NULL;
	}
	*len = b.len;
	return hb_buf_steal(&b);
}

int hb_cmd_template(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {
		{"on", true, false, "users (default) or feedback"},
		{"user", true, false, "the user's email (with --on users)"},
		{"feedback", true, false, "the ticket number (with --on feedback)"},
		{"project", true, false, "project whose fields and tags apply"},
		{"text", true, false, "the template"},
		{"file", true, false, "read the template from this file"},
		{"context", true, false, "url, header, form, json or text (default text)"},
		{"macro", true, false, "fill macro.* from this macro (run.* stay empty)"},
		{NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge template render";
	if (argc < 1 || strcmp(argv[0], "render") != 0) {
		if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
			printf("usage: hookbridge template render …\n");
			return 0;
		}
		return hb_cli_usage(cli, "expected: template render …");
	}
	if (hb_args_parse(argc - 1, argv + 1, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge template render --on users|feedback (--user EMAIL | --feedback "
		       "EXA-0001)\n         (--text TEMPLATE | --file FILE) --context "
		       "url|header|form|json|text [--macro KEY]\n\nRender a template for one record, "
		       "escaped for the context it will stand in.\nSecrets show as ********. --macro "
		       "fills macro.* from that macro; run.* stay empty\n(a preview belongs to no "
		       "run).\n");
		return 0;
	}
	hb_context ctx = HB_CTX_TEXT;
	const char *cname = hb_args_get(&a, "context");
	if (cname && !hb_context_parse(cname, &ctx))
		return hb_cli_usage(cli, "--context must be url, header, form, json or text, not '%s'", cname);
	const char *text = hb_args_get(&a, "text"), *file = hb_args_get(&a, "file");
	if (!!text == !!file)
		return hb_cli_usage(cli, "give the template with --text or --file (one of them)");
	hb_target target;
	int64_t project;
	if (hb_cli_open(cli, false, &e) || scope(cli, &a, &target, &project, &e))
		return hb_cli_fail(cli, &e);
	const char *who = hb_args_get(&a, target == HB_TARGET_USERS ? "user" : "feedback");
	if (!who)
		return hb_cli_usage(cli, "name the record with %s",
				    target == HB_TARGET_USERS ? "--user EMAIL" : "--feedback EXA-0001");
	size_t len = text ? strlen(text) : 0;
	char *src = text ? NULL : read_file(file, &len, &e);
	if (file && !src)
		return hb_cli_fail(cli, &e);
	hb_tagctx *t = NULL;
	hb_template *tpl = NULL;
	hb_row *rec = NULL, *macro = NULL;
	const hb_value *slots;
	const char *macro_key = hb_args_get(&a, "macro");
	hb_buf out;
	hb_buf_init(&out, 16 * 1024 * 1024);
	int status = 0;
	hb_err rc = hb_tagctx_new(&cli->ctx, target, project, &t, &e);
	if (!rc)
		rc = hb_template_compile(hb_tagctx_catalog(t), text ? text : src, len, ctx, &tpl, &e);
	if (!rc && macro_key) {
		rc = hb_record_find(&cli->ctx, HB_K_MACRO, cli->ctx.community_id, macro_key, &macro,
				    &e);
		if (!rc)
			hb_tagctx_set_run(t, macro, NULL); /* a preview belongs to no run */
	}
	if (!rc)
		rc = hb_record_find(&cli->ctx, target == HB_TARGET_USERS ? HB_K_USER : HB_K_FEEDBACK,
				    cli->ctx.community_id, who, &rec, &e);
	if (!rc)
		rc = hb_tagctx_load(t, hb_row_id(rec), &slots, &e);
	if (!rc)
		rc = hb_template_render(tpl, slots, HB_RENDER_MASK_SECRETS, &out, &e);
	if (rc)
		status = hb_cli_fail(cli, &e);
	else if (cli->json)
		hb_cli_print_json(json_pack("{s:s, s:s%}", "context", hb_context_name(ctx), "rendered",
					    hb_buf_str(&out), out.len));
	else
		fwrite(hb_buf_str(&out), 1, out.len, stdout), putchar('\n');
	hb_buf_free(&out);
	hb_row_free(&rec);
	hb_row_free(&macro);
	hb_template_free(&tpl);
	hb_tagctx_free(&t);
	free(src);
	return status;
}
