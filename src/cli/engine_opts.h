/* engine_opts.h - delivery engine settings as every delivering command reads them. */
#ifndef HB_CLI_ENGINE_OPTS_H
#define HB_CLI_ENGINE_OPTS_H

#include "cli/cli.h"
#include "deliver/engine.h"

/* --allow-target (repeatable; also HOOKBRIDGE_ALLOW_TARGET, comma-separated), --concurrency
   (HOOKBRIDGE_CONCURRENCY), --per-host, --retry-schedule (HOOKBRIDGE_RETRY_SCHEDULE): five
   entries with the NULL end, to copy into a command's own option table. */
extern const hb_optspec hb_engine_optspecs[];
/* Read them into o; *guard (owned by the caller, hb_guard_free) is set even on error. */
hb_err hb_engine_opts_read(hb_args *a, hb_engine_opts *o, hb_guard **guard, hb_error *e)
	HB_MUST_USE;

int hb_cmd_macro_runs(hb_cli *cli, int argc, char **argv); /* macro run | macro log */
int hb_cmd_worker(hb_cli *cli, int argc, char **argv);
int hb_cmd_delivery(hb_cli *cli, int argc, char **argv);

#endif
