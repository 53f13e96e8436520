/*
 * people.c - the commands beyond create/list/show/update/delete for users and tickets:
 * `user join PROJECT EMAIL…`, `user note EMAIL TEXT`, `feedback reply EXA-0001 TEXT`.
 * Everything else of `user` and `feedback` goes to the generic record commands.
 */
#include <string.h>

#include "cli/records.h"

static hb_err join_all(hb_ctx *c, void *ud, hb_error *e);

static int join(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {
		{"status", true, false, "candidate, invited, active, inactive or removed (default active)"},
		{"team", true, false, "team name"},
		{NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge user join";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge user join PROJECT EMAIL… [--status S] [--team T]\n\n"
		       "Add users to a project (all or none).\n");
		return 0;
	}
	if (a.npos < 2)
		return hb_cli_usage(cli, "expected PROJECT EMAIL…");
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	hb_err rc = hb_tx(&cli->ctx, join_all, &a, &e);
	if (rc)
		return hb_cli_fail(cli, &e);
	if (cli->json)
		hb_cli_print_json(json_pack("{s:s, s:i}", "project", a.pos[0], "joined", a.npos - 1));
	else
		printf("%d user(s) joined project %s\n", a.npos - 1, a.pos[0]);
	return 0;
}

static hb_err join_all(hb_ctx *c, void *ud, hb_error *e)
{
	hb_args *ap = ud;
	hb_args a = *ap;
	hb_err rc = HB_OK;
	for (int i = 1; i < a.npos && !rc; i++) {
		json_t *in = json_pack("{s:s, s:s}", "project", a.pos[0], "user", a.pos[i]);
		if (hb_args_get(&a, "status"))
			json_object_set_new(in, "status", json_string(hb_args_get(&a, "status")));
		if (hb_args_get(&a, "team"))
			json_object_set_new(in, "team", json_string(hb_args_get(&a, "team")));
		rc = hb_record_create(c, HB_K_PARTICIPATION, in, NULL, e);
		if (rc == HB_ERR_CONFLICT)
			hb_fail(e, rc, "user", "%s is already in project '%s'", a.pos[i], a.pos[0]);
		json_decref(in);
	}
	return rc;
}

/* `user note EMAIL TEXT` and `feedback reply NUMBER TEXT`. */
static int add_child(hb_cli *cli, int argc, char **argv, hb_kind_id kind, const char *parent,
		     const char *prog, const char *usage)
{
	hb_args a;
	hb_error e = {0};
	cli->prog = prog;
	if (hb_args_parse(argc, argv, NULL, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: %s %s\n", prog, usage);
		return 0;
	}
	if (a.npos != 2)
		return hb_cli_usage(cli, "expected %s", usage);
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	json_t *in = json_pack("{s:s, s:s}", parent, a.pos[0], "body", a.pos[1]);
	json_object_set_new(in, kind == HB_K_NOTE ? "source" : "author", json_string("cli"));
	hb_row *row = NULL;
	hb_err rc = hb_record_create(&cli->ctx, kind, in, &row, &e);
	json_decref(in);
	if (rc)
		return hb_cli_fail(cli, &e);
	json_t *o = hb_record_json(&cli->ctx, row);
	hb_row_free(&row);
	if (cli->json)
		hb_cli_print_json(o);
	else {
		hb_cli_print_details(o);
		json_decref(o);
	}
	return 0;
}

int hb_cmd_user(hb_cli *cli, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "join") == 0)
		return join(cli, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "note") == 0)
		return add_child(cli, argc - 1, argv + 1, HB_K_NOTE, "user", "hookbridge user note",
				 "EMAIL TEXT");
	if (argc >= 1 && strcmp(argv[0], "import") == 0)
		return hb_cmd_user_import(cli, argc - 1, argv + 1);
	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		printf("usage: hookbridge user create|list|show|update|delete|join|note|import …\n");
		return argc < 1 ? 2 : 0;
	}
	return hb_cmd_records(cli, "user", argc, argv);
}

int hb_cmd_feedback(hb_cli *cli, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "reply") == 0)
		return add_child(cli, argc - 1, argv + 1, HB_K_REPLY, "feedback",
				 "hookbridge feedback reply", "EXA-0001 TEXT");
	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		printf("usage: hookbridge feedback create|list|show|update|delete|reply …\n");
		return argc < 1 ? 2 : 0;
	}
	return hb_cmd_records(cli, "feedback", argc, argv);
}
