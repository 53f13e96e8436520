/*
 * xdata.c - `hookbridge xdata group|field …` (generic record commands) and
 * `xdata set RECORD GROUP.FIELD VALUE` / `xdata clear RECORD GROUP.FIELD`, which coerce the
 * value exactly as a captured answer would be (engine/coerce.c).
 */
#include <string.h>

#include "cli/records.h"
#include "core/timeutil.h"
#include "engine/coerce.h"
#include "model/xdata.h"

static hb_err find_record(hb_cli *cli, hb_target t, const char *name, int64_t *id, hb_error *e)
{
	static const hb_kind_id kinds[] = {HB_K_USER, HB_K_FEEDBACK, HB_K_PROJECT};
	hb_row *row = NULL;
	hb_err rc = hb_record_find(&cli->ctx, kinds[t], cli->ctx.community_id, name, &row, e);
	if (!rc)
		*id = hb_row_id(row);
	hb_row_free(&row);
	return rc;
}

static int set_or_clear(hb_cli *cli, int argc, char **argv, bool clear)
{
	hb_args a;
	hb_error e = {0};
	cli->prog = clear ? "hookbridge xdata clear" : "hookbridge xdata set";
	if (hb_args_parse(argc, argv, NULL, &a, &e))
		return hb_cli_usage(cli, "%s", e.message);
	if (a.help) {
		printf("usage: %s RECORD GROUP.FIELD%s\n\nRECORD is a user's email, a ticket number "
		       "or a project key, as the group is stored against.\n%s",
		       cli->prog, clear ? "" : " VALUE",
		       clear ? "" : "VALUE is coerced to the field's type as a captured value would be.\n");
		return 0;
	}
	if (a.npos != (clear ? 2 : 3))
		return hb_cli_usage(cli, "expected RECORD GROUP.FIELD%s", clear ? "" : " VALUE");
	if (hb_cli_open(cli, false, &e))
		return hb_cli_fail(cli, &e);
	hb_xfield_info f;
	hb_target t;
	int64_t id;
	hb_err rc = hb_xdata_field(&cli->ctx, a.pos[1], &f, &t, &e);
	if (!rc)
		rc = find_record(cli, t, a.pos[0], &id, &e);
	hb_coerced v = {0};
	if (!rc && !clear) {
		json_t *j = json_string(a.pos[2]);
		rc = j ? hb_coerce(j, f.type, a.pos[1], &v, &e)
		       : hb_fail(&e, HB_ERR_INVALID, "value", "the value is not valid UTF-8");
		json_decref(j);
	}
	if (!rc) {
		hb_xvalue xv = {.field_id = f.id, .record_id = id,
				.value = clear || v.clear ? hb_value_null() : v.value,
				.set_at = hb_time_now(), .source = "cli"};
		char txt[HB_TIME_STR_MAX];
		if (xv.value.type == HB_TYPE_BOOL) /* stored as 0/1 */
			xv.value = hb_value_int(xv.value.u.b);
		else if (xv.value.type == HB_TYPE_TIME) /* stored as RFC 3339 text */
			xv.value = hb_value_str(hb_time_format(xv.value.u.i, txt));
		rc = cli->store->ops->xvalue_set(cli->store, t, &xv, &e);
	}
	hb_coerced_clear(&v);
	if (rc)
		return hb_cli_fail(cli, &e);
	json_t *all = hb_xdata_record_json(&cli->ctx, t, id, 0, &e);
	json_t *one = NULL;
	size_t i;
	json_t *item;
	json_array_foreach(all, i, item) if (strcmp(json_string_value(json_object_get(item, "field")),
						    a.pos[1]) == 0) one = json_incref(item);
	json_decref(all);
	if (!one)
		return 0;
	if (cli->json)
		hb_cli_print_json(one);
	else {
		hb_cli_print_details(one);
		json_decref(one);
	}
	return 0;
}

int hb_cmd_xdata(hb_cli *cli, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "group") == 0)
		return hb_cmd_records(cli, "xdata group", argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "field") == 0)
		return hb_cmd_records(cli, "xdata field", argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "set") == 0)
		return set_or_clear(cli, argc - 1, argv + 1, false);
	if (argc >= 1 && strcmp(argv[0], "clear") == 0)
		return set_or_clear(cli, argc - 1, argv + 1, true);
	printf("usage: hookbridge xdata group|field create|list|show|update|delete …\n"
	       "       hookbridge xdata set RECORD GROUP.FIELD VALUE\n"
	       "       hookbridge xdata clear RECORD GROUP.FIELD\n");
	return argc < 1 || strcmp(argv[0], "--help") ? 2 : 0;
}
