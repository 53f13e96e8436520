/*
 * main.c - the `hookbridge` command line: global flags, then one command from the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/engine_opts.h"
#include "cli/query.h"
#include "core/jsonw.h"
#include "deliver/curl_setup.h"

static int cmd_project(hb_cli *cli, int argc, char **argv)
{
	return hb_cmd_records(cli, "project", argc, argv);
}

static int cmd_feedback_type(hb_cli *cli, int argc, char **argv)
{
	return hb_cmd_records(cli, "feedback-type", argc, argv);
}

static const struct command {
	const char *name;
	int (*run)(hb_cli *cli, int argc, char **argv);
	const char *help;
} commands[] = {
	{"init", hb_cmd_init, "create the database and a community; print an API key once"},
	{"serve", hb_cmd_serve, "run the HTTP server: the REST API, health and metrics"},
	{"project", cmd_project, "projects: create, list, show, update, delete"},
	{"user", hb_cmd_user, "users: create, list, show, update, delete, join, note, import"},
	{"feedback-type", cmd_feedback_type, "feedback types and their workflows"},
	{"feedback", hb_cmd_feedback, "feedback tickets and replies"},
	{"xdata", hb_cmd_xdata, "External Data groups, fields and values"},
	{"macro", hb_cmd_macro, "macros: create, update, list, show, delete, run, log"},
	{"delivery", hb_cmd_delivery, "deliveries: list, show every attempt, retry"},
	{"worker", hb_cmd_worker, "send due deliveries (no HTTP server)"},
	{"apikey", hb_cmd_apikey, "API keys: create, list, disable"},
	{"tags", hb_cmd_tags, "list the dynamic tags (Data Engine paths) and their types"},
	{"template", hb_cmd_template, "render a template for one record: template render …"},
	{"secret", hb_cmd_secret, "secrets for {{secret.NAME}}: set, list (names only), delete"},
	{"filter", hb_cmd_filter, "saved filters: save, list, show, delete (use as --filter @KEY)"},
	{"view", hb_cmd_view, "saved views (columns of a list): save, list, show, delete"},
	{"report", hb_cmd_report, "count users or feedback grouped by any path, per period"},
	{"package", hb_cmd_package, "data packages: save, list, show, delete, export (JSON or CSV)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: hookbridge [--db PATH] [--community KEY] [--json] COMMAND …\n\n"
		     "commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nEvery command takes --help. The database is --db PATH, or $HOOKBRIDGE_DB, "
		     "or ./hookbridge.db.\n");
}

int main(int argc, char **argv)
{
	hb_json_setup();
	if (!hb_curl_setup()) {
		fprintf(stderr, "hookbridge: libcurl could not start (out of memory?)\n");
		return 1;
	}
	hb_cli cli = {0};
	cli.db = getenv("HOOKBRIDGE_DB");
	cli.community = getenv("HOOKBRIDGE_COMMUNITY");
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--json") == 0) {
			cli.json = true;
		} else if (strcmp(a, "--db") == 0 || strcmp(a, "--community") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "hookbridge: %s needs a value\n", a);
				return 2;
			}
			*(strcmp(a, "--db") == 0 ? &cli.db : &cli.community) = argv[++i];
		} else if (strncmp(a, "--db=", 5) == 0) {
			cli.db = a + 5;
		} else if (strncmp(a, "--community=", 12) == 0) {
			cli.community = a + 12;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("hookbridge %s\n", HB_VERSION);
			return 0;
		} else {
			fprintf(stderr, "hookbridge: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	/* --json may also follow the command ("hookbridge user list --json") */
	int kept = i;
	for (int k = i; k < argc; k++) {
		if (strcmp(argv[k], "--") == 0) {
			while (k < argc)
				argv[kept++] = argv[k++];
			break;
		}
		if (strcmp(argv[k], "--json") == 0)
			cli.json = true;
		else
			argv[kept++] = argv[k];
	}
	argc = kept;
	if (!cli.db || !*cli.db)
		cli.db = "./hookbridge.db";
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
		if (strcmp(commands[c].name, argv[i]) == 0) {
			int status = commands[c].run(&cli, argc - i - 1, argv + i + 1);
			hb_cli_close(&cli);
			return status;
		}
	}
	fprintf(stderr, "hookbridge: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
