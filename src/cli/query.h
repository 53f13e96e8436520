/*
 * query.h - the command line of filters, views and reports: `filter …`, `view …`, `report …`,
 * and `user list` / `feedback list` with --filter, --view, --project and --count.
 */
#ifndef HB_CLI_QUERY_H
#define HB_CLI_QUERY_H

#include "cli/cli.h"
#include "core/jsonw.h"
#include "query/saved.h"

int hb_cmd_filter(hb_cli *cli, int argc, char **argv);
int hb_cmd_view(hb_cli *cli, int argc, char **argv);
int hb_cmd_report(hb_cli *cli, int argc, char **argv);

/* Is this list one for hb_cli_list_query (it uses --filter, --view, --count, --format or, for
   users, --project)? */
bool hb_cli_list_wants_query(hb_kind_id kind, hb_args *a);
/* `user list` / `feedback list` through a filter (the store is open); prints a table with
   default_cols, or the view's columns; returns the exit status. */
int hb_cli_list_query(hb_cli *cli, hb_kind_id kind, hb_args *a, const char *default_cols);

/* Resolve --filter TEXT or --filter @SAVED and --project P into a compiled filter for kind.
   Caller owns *out. */
hb_err hb_cli_filter_from_args(hb_cli *cli, hb_target target, const char *filter,
			       const char *project, hb_filter **out, int64_t *project_id,
			       hb_error *e) HB_MUST_USE;

/* One RFC 4180 field (quoted when it must be) on out. */
void hb_csv_write_field(FILE *out, const char *s, size_t n);

#endif
