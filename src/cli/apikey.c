/* apikey.c - `hookbridge apikey create|list|disable`. */
#include <string.h>

#include "cli/records.h"
#include "model/apikey.h"

static int create(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {
		{"name", true, false, "key name"},
		{"description", true, false, "what it is for"},
		{"role", true, false, "community-manager or project-manager"},
		{"project", true, true, "a project a project-manager key may use (repeatable)"},
		{"allow-ip", true, true, "a CIDR range the key may be used from (repeatable)"},
		{NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge apikey create";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge apikey create --name N --role community-manager|project-manager "
		       "[--project P]… [--allow-ip CIDR]…\n\nThe key is printed once.\n");
		return 0;
	}
	if (a.npos)
		return hb_cli_usage(cli, "apikey create takes no arguments");
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	json_t *in = json_object();
	if (hb_args_get(&a, "name"))
		json_object_set_new(in, "name", json_string(hb_args_get(&a, "name")));
	if (hb_args_get(&a, "description"))
		json_object_set_new(in, "description", json_string(hb_args_get(&a, "description")));
	if (hb_args_get(&a, "role"))
		json_object_set_new(in, "role", json_string(hb_args_get(&a, "role")));
	json_t *projects = json_array(), *ips = json_array();
	const char *v;
	for (int i = 0; (v = hb_args_nth(&a, "project", i)); i++)
		json_array_append_new(projects, json_string(v));
	for (int i = 0; (v = hb_args_nth(&a, "allow-ip", i)); i++)
		json_array_append_new(ips, json_string(v));
	json_object_set_new(in, "projects", projects);
	json_object_set_new(in, "allow_ips", ips);
	char secret[HB_APIKEY_MAX];
	hb_row *row = NULL;
	hb_err rc = hb_apikey_create(&cli->ctx, in, &row, secret, sizeof secret, &e);
	json_decref(in);
	if (rc)
		return hb_cli_fail(cli, &e);
	json_t *o = hb_record_json(&cli->ctx, row);
	hb_row_free(&row);
	json_object_set_new(o, "key", json_string(secret));
	if (cli->json)
		hb_cli_print_json(o);
	else {
		hb_cli_print_details(o);
		printf("\nthe key is shown only this once: keep it safe\n");
		json_decref(o);
	}
	return 0;
}

static int list(hb_cli *cli)
{
	static const char *const cols[] = {"id", "prefix", "name", "role", "enabled", "last_used_at", "use_count"};
	return hb_cli_list_community(cli, HB_K_APIKEY, cols, 7, false);
}

static int disable(hb_cli *cli, const char *name)
{
	hb_error e = {0};
	hb_row *row = NULL;
	hb_err rc = hb_record_find(&cli->ctx, HB_K_APIKEY, cli->ctx.community_id, name, &row, &e);
	if (!rc) {
		json_t *ch = json_pack("{s:b}", "enabled", 0);
		rc = hb_record_update(&cli->ctx, row, ch, &e);
		json_decref(ch);
	}
	if (rc) {
		hb_row_free(&row);
		return hb_cli_fail(cli, &e);
	}
	if (cli->json)
		hb_cli_print_json(hb_record_json(&cli->ctx, row));
	else
		printf("disabled API key %s (%s)\n", name, hb_row_str(row, "name"));
	hb_row_free(&row);
	return 0;
}

int hb_cmd_apikey(hb_cli *cli, int argc, char **argv)
{
	hb_error e = {0};
	if (argc >= 1 && strcmp(argv[0], "create") == 0)
		return create(cli, argc - 1, argv + 1);
	if (argc >= 1 && (strcmp(argv[0], "list") == 0 || strcmp(argv[0], "disable") == 0)) {
		bool dis = argv[0][0] == 'd';
		cli->prog = dis ? "hookbridge apikey disable" : "hookbridge apikey list";
		hb_args a;
		if (hb_args_parse(argc - 1, argv + 1, NULL, &a, &e))
			return hb_cli_usage(cli, "%s", e.message);
		if (a.help) {
			printf("usage: %s%s\n", cli->prog, dis ? " ID|PREFIX" : "");
			return 0;
		}
		if (a.npos != (dis ? 1 : 0))
			return hb_cli_usage(cli, dis ? "expected the key's id or prefix" : "no arguments");
		if (hb_cli_open(cli, false, &e))
			return hb_cli_fail(cli, &e);
		return dis ? disable(cli, a.pos[0]) : list(cli);
	}
	printf("usage: hookbridge apikey create|list|disable …\n");
	return argc < 1 || strcmp(argv[0], "--help") ? 2 : 0;
}
