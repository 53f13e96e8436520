/* records.h - the generic record commands' table (records.c) and per-kind extras (extras.c). */
#ifndef HB_CLI_RECORDS_H
#define HB_CLI_RECORDS_H

#include "cli/cli.h"

typedef struct hb_recspec {
	const char *group;           /* "feedback-type" */
	hb_kind_id kind;
	const char *create_pos[3];   /* public fields given as arguments of create, in order */
	const char *locate[2];       /* two arguments that name a record (parent, key), or {NULL}: one */
	const char *columns;         /* columns of the list table */
	const char *plural;          /* "feedback types" */
	const char *create_usage;
} hb_recspec;

const hb_recspec *hb_recspec_get(const char *group);
/* Find the record named by the positional arguments of show/update/delete. */
hb_err hb_recspec_locate(hb_cli *cli, const hb_recspec *sp, char **pos, int npos, hb_row **out,
			 hb_error *e);
/* A command-line value for column c as public JSON input (new reference in *out). */
hb_err hb_cli_value(const hb_column *c, const char *s, json_t **out, hb_error *e);
/* Add the sections that belong with one record (External Data, notes, replies, …) to obj. */
void hb_cli_add_extras(hb_cli *cli, const hb_recspec *sp, const hb_row *row, json_t *obj);
/* Print a shown record: its fields, then each array section as a small table. */
void hb_cli_print_extras_table(json_t *obj);

#endif
