/*
 * init.c - `hookbridge init`: create the database and the first community (or another one),
 * and print a community-manager API key once.
 */
#include <string.h>

#include "cli/cli.h"
#include "model/apikey.h"

int hb_cmd_init(hb_cli *cli, int argc, char **argv)
{
	static const hb_optspec opts[] = {
		{"community", true, false, "community key (default: default)"},
		{"name", true, false, "community name"},
		{"enhanced-integrations", true, false, "true or false (default true)"},
		{NULL}};
	hb_args a;
	hb_error e = {0};
	cli->prog = "hookbridge init";
	if (hb_args_parse(argc, argv, opts, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: hookbridge [--db PATH] init [--community KEY] [--name NAME]\n\n"
		       "Create the database (if needed) and a community, and print a community-manager\n"
		       "API key once: keep it, it is never shown again.\n");
		return 0;
	}
	if (a.npos)
		return hb_cli_usage(cli, "init takes no arguments");
	const char *key = hb_args_get(&a, "community");
	if (!key)
		key = cli->community ? cli->community : "default";
	const char *name = hb_args_get(&a, "name");
	const char *enh = hb_args_get(&a, "enhanced-integrations");
	hb_err rc = hb_store_open(cli->db, true, &cli->store, &e);
	if (rc)
		return hb_cli_fail(cli, &e);
	cli->ctx.store = cli->store;
	json_t *in = json_pack("{s:s, s:s, s:b}", "key", key, "name", name ? name : key,
			       "enhanced_integrations", !enh || strcmp(enh, "false") != 0);
	hb_row *community = NULL;
	rc = hb_record_create(&cli->ctx, HB_K_COMMUNITY, in, &community, &e);
	json_decref(in);
	if (rc)
		return hb_cli_fail(cli, &e);
	rc = hb_ctx_load(&cli->ctx, cli->store, key, &e);
	char secret[HB_APIKEY_MAX];
	hb_row *apikey = NULL;
	if (!rc) {
		json_t *kin = json_pack("{s:s, s:s}", "name", "initial key", "role", "community-manager");
		rc = hb_apikey_create(&cli->ctx, kin, &apikey, secret, sizeof secret, &e);
		json_decref(kin);
	}
	if (rc) {
		hb_row_free(&community);
		return hb_cli_fail(cli, &e);
	}
	if (cli->json) {
		json_t *o = hb_record_json(&cli->ctx, community);
		json_object_set_new(o, "api_key", json_string(secret));
		hb_cli_print_json(o);
	} else {
		printf("created community '%s' in %s\n", key, cli->db);
		printf("community-manager API key (shown once, keep it safe):\n  %s\n", secret);
	}
	hb_row_free(&community);
	hb_row_free(&apikey);
	return 0;
}
