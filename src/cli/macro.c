/*
 * macro.c - `hookbridge macro create|update --file F.json`, `macro list|show|delete KEY`.
 * `macro run` and `macro log` are in deliver.c.
 */
#include <string.h>

#include "cli/engine_opts.h"
#include "cli/records.h"
#include "model/macro.h"

#define MACRO_FILE_MAX (1024 * 1024)

static int save(hb_cli *cli, int argc, char **argv, bool replace)
{
	static const hb_optspec opts[] = {{"file", true, false, "the macro definition (JSON; - for stdin)"},
					  {NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = replace ? "hookbridge macro update" : "hookbridge macro create";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: %s --file F.json\n\nThe definition is documented in docs/macros.md. Every "
		       "template is checked when the macro is saved.\n", cli->prog);
		return 0;
	}
	const char *path = hb_args_get(&a, "file");
	if (!path || a.npos)
		return hb_cli_usage(cli, "expected --file F.json");
	json_error_t je;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: cannot open %s: %m\n", cli->prog, path);
		return 1;
	}
	json_t *def = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	long size = ftell(f);
	if (f != stdin)
		fclose(f);
	if (!def) {
		fprintf(stderr, "%s: %s line %d, column %d: %s\n", cli->prog, path, je.line, je.column,
			je.text);
		return 2;
	}
	if (size > MACRO_FILE_MAX) {
		json_decref(def);
		fprintf(stderr, "%s: %s is larger than %d bytes\n", cli->prog, path, MACRO_FILE_MAX);
		return 2;
	}
	hb_row *m = NULL;
	int status = 0;
	if (hb_cli_open(cli, false, &e) || hb_macro_save(&cli->ctx, def, replace, &m, &e))
		status = hb_cli_fail(cli, &e);
	else if (cli->json)
		hb_cli_print_json(hb_macro_json(&cli->ctx, m));
	else {
		json_t *o = hb_macro_json(&cli->ctx, m);
		hb_cli_print_extras_table(o);
		json_decref(o);
	}
	hb_row_free(&m);
	json_decref(def);
	return status;
}

static int one(hb_cli *cli, int argc, char **argv, const char *verb)
{
	hb_args a;
	hb_error e = {0};
	char prog[64];
	snprintf(prog, sizeof prog, "hookbridge macro %s", verb);
	cli->prog = prog;
	bool listing = strcmp(verb, "list") == 0;
	if (hb_args_parse(argc, argv, NULL, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: %s%s\n", prog, listing ? "" : " KEY");
		return 0;
	}
	if (a.npos != (listing ? 0 : 1))
		return hb_cli_usage(cli, listing ? "list takes no arguments" : "expected the macro's KEY");
	if (listing) { /* the generic listing opens the store itself */
		char *args[] = {"list"};
		return hb_cmd_records(cli, "macro", 1, args);
	}
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	hb_row *m = NULL;
	hb_err rc = hb_record_find(&cli->ctx, HB_K_MACRO, cli->ctx.community_id, a.pos[0], &m, &e);
	if (!rc && strcmp(verb, "delete") == 0) {
		rc = hb_record_delete(&cli->ctx, m, &e);
		if (!rc)
			cli->json ? hb_cli_print_json(json_pack("{s:b}", "deleted", 1))
				  : (void)printf("deleted macro %s\n", a.pos[0]);
	} else if (!rc) {
		json_t *o = hb_macro_json(&cli->ctx, m);
		if (cli->json)
			hb_cli_print_json(o);
		else {
			hb_cli_print_extras_table(o);
			json_decref(o);
		}
	}
	hb_row_free(&m);
	return rc ? hb_cli_fail(cli, &e) : 0;
}

int hb_cmd_macro(hb_cli *cli, int argc, char **argv)
{
	if (argc >= 1 && (strcmp(argv[0], "create") == 0 || strcmp(argv[0], "update") == 0))
		return save(cli, argc - 1, argv + 1, argv[0][0] == 'u');
	if (argc >= 1 && (strcmp(argv[0], "list") == 0 || strcmp(argv[0], "show") == 0 ||
			  strcmp(argv[0], "delete") == 0))
		return one(cli, argc - 1, argv + 1, argv[0]);
	if (argc >= 1 && (strcmp(argv[0], "run") == 0 || strcmp(argv[0], "log") == 0 ||
			  strcmp(argv[0], "test") == 0))
		return hb_cmd_macro_runs(cli, argc, argv);
	printf("usage: hookbridge macro create|update --file F.json\n"
	       "       hookbridge macro list|show|delete [KEY]\n"
	       "       hookbridge macro run KEY (--user E… | --feedback N… | --all) [--wait]\n"
	       "       hookbridge macro test KEY (--user E | --feedback N) [--dry-run] [--store]\n"
	       "       hookbridge macro log KEY\n");
	return argc < 1 || strcmp(argv[0], "--help") ? 2 : 0;
}
