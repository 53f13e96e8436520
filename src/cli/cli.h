/*
 * cli.h - what every command of the `hookbridge` command line shares: the parsed global
 * flags, an argument parser, opening the store and community, printing records as an aligned
 * table or JSON, and reporting errors (message on stderr, exit 2 for usage and validation,
 * 1 for runtime failures).
 */
#ifndef HB_CLI_CLI_H
#define HB_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "model/model.h"

typedef struct hb_cli {
	const char *db;        /* --db or HOOKBRIDGE_DB, default ./hookbridge.db */
	const char *community; /* --community or HOOKBRIDGE_COMMUNITY */
	bool json;             /* --json */
	hb_store *store;
	hb_ctx ctx;
	const char *prog;      /* "hookbridge user create", for messages */
} hb_cli;

/* One parsed command line: options by name and positional arguments. */
#define HB_ARGS_MAX 64
typedef struct hb_args {
	int npos;
	char *pos[HB_ARGS_MAX];
	int nopt;
	struct {
		const char *name; /* without the leading "--" */
		const char *value; /* NULL for a bare switch */
		bool used;
	} opt[HB_ARGS_MAX];
	bool help;
} hb_args;

/* What options a command takes: names, whether each takes a value, whether it may repeat. */
typedef struct hb_optspec {
	const char *name;
	bool takes_value;
	bool repeat;
	const char *help;
} hb_optspec;

/* Parse argv against specs (NULL-terminated by name); unknown options are usage errors. */
hb_err hb_args_parse(int argc, char **argv, const hb_optspec *specs, hb_args *a, hb_error *e);
/* Value of option name (the last one given), or NULL. */
const char *hb_args_get(hb_args *a, const char *name);
bool hb_args_has(hb_args *a, const char *name);
/* The i-th value of a repeated option, or NULL past the end. */
const char *hb_args_nth(hb_args *a, const char *name, int i);

/* Open the store (creating only when create) and the community. */
hb_err hb_cli_open(hb_cli *cli, bool create, hb_error *e) HB_MUST_USE;
void hb_cli_close(hb_cli *cli);
/* Print e on stderr and return the exit status for it. */
int hb_cli_fail(hb_cli *cli, const hb_error *e);
/* Print a usage error ("hookbridge user create: …") and return 2. */
int hb_cli_usage(hb_cli *cli, const char *fmt, ...) HB_PRINTF(2, 3);

/* Print a JSON value on stdout (pretty), then a newline. Steals the reference. */
void hb_cli_print_json(json_t *v);
/* Print an object as aligned "name  value" lines (one record's details). */
void hb_cli_print_details(json_t *obj);

/* An aligned table printed in batches so a long listing never sits in memory. */
typedef struct hb_table hb_table;
hb_table *hb_table_new(const char *const *headings, size_t ncols);
/* Add a row of ncols cells (copied). */
void hb_table_add(hb_table *t, const char *const *cells);
/* Print what is left and free the table. */
void hb_table_finish(hb_table **t);
/* Text of a JSON scalar as a table cell ("" for null); into buf of size n. */
const char *hb_cell_text(json_t *v, char *buf, size_t n);

#define HB_LIST_COLS_MAX 16
/* List the community's records of kind: a table of cols (at most HB_LIST_COLS_MAX), or with
   --json each record's JSON (only cols when only). Returns the exit status. */
int hb_cli_list_community(hb_cli *cli, hb_kind_id kind, const char *const *cols, size_t ncols,
			  bool only);

/* Command groups (one file each). Each returns the process exit status. */
int hb_cmd_init(hb_cli *cli, int argc, char **argv);
int hb_cmd_records(hb_cli *cli, const char *group, int argc, char **argv);
int hb_cmd_user(hb_cli *cli, int argc, char **argv);
int hb_cmd_feedback(hb_cli *cli, int argc, char **argv);
int hb_cmd_xdata(hb_cli *cli, int argc, char **argv);
int hb_cmd_macro(hb_cli *cli, int argc, char **argv);
int hb_cmd_apikey(hb_cli *cli, int argc, char **argv);
int hb_cmd_serve(hb_cli *cli, int argc, char **argv);
int hb_cmd_user_import(hb_cli *cli, int argc, char **argv);
int hb_cmd_tags(hb_cli *cli, int argc, char **argv);
int hb_cmd_template(hb_cli *cli, int argc, char **argv);
int hb_cmd_secret(hb_cli *cli, int argc, char **argv);
int hb_cmd_package(hb_cli *cli, int argc, char **argv);

#endif
