/*
 * Unit tests of src/model/tagctx.c over a real SQLite store: secret.<name> paths (flagged,
 * filled by the loader, masked or refused by templates), and macro.* / run.* filled by
 * hb_tagctx_set_run and kept across loads.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/timeutil.h"
#include "engine/template.h"
#include "harness.h"
#include "model/tagctx.h"

/* A fresh database with community "acme", users zoe and ann, and the given secrets. */
static hb_err setup(hb_ctx *c, const char *db, const char *const *secrets, hb_error *e)
{
	char path[300];
	snprintf(path, sizeof path, "%s/%s", hb_test_tmpdir(), db);
	hb_store *s = NULL;
	hb_err rc = hb_store_open(path, true, &s, e);
	if (rc)
		return rc;
	memset(c, 0, sizeof *c);
	c->store = s;
	json_t *in = json_pack("{s:s, s:s}", "key", "acme", "name", "Acme");
	rc = hb_record_create(c, HB_K_COMMUNITY, in, NULL, e);
	json_decref(in);
	if (!rc)
		rc = hb_ctx_load(c, s, "acme", e);
	const char *emails[] = {"zoe@example.com", "ann@example.com"};
	for (int i = 0; !rc && i < 2; i++) {
		in = json_pack("{s:s}", "email", emails[i]);
		rc = hb_record_create(c, HB_K_USER, in, NULL, e);
		json_decref(in);
	}
	for (int i = 0; !rc && secrets && secrets[i]; i += 2) {
		in = json_pack("{s:s, s:s}", "name", secrets[i], "value", secrets[i + 1]);
		rc = hb_record_create(c, HB_K_SECRET, in, NULL, e);
		json_decref(in);
	}
	return rc;
}

static int64_t user_id(hb_ctx *c, const char *email)
{
	hb_row *row = NULL;
	hb_error e = {0};
	if (hb_record_find(c, HB_K_USER, c->community_id, email, &row, &e))
		return -1;
	int64_t id = hb_row_id(row);
	hb_row_free(&row);
	return id;
}

/* Compile tpl in ctx against t, load record id and render with flags; "COMPILE: …" or
   "RENDER: …" on error. The result lives in a static buffer. */
static const char *render(hb_tagctx *t, int64_t id, const char *tpl, hb_context ctx, unsigned flags)
{
	static char out[2048];
	hb_template *tp = NULL;
	hb_error e = {0};
	const hb_value *slots = NULL;
	if (hb_template_compile(hb_tagctx_catalog(t), tpl, strlen(tpl), ctx, &tp, &e)) {
		snprintf(out, sizeof out, "COMPILE: %s", e.message);
		return out;
	}
	hb_buf b;
	hb_buf_init(&b, 1 << 20);
	if (hb_tagctx_load(t, id, &slots, &e) || hb_template_render(tp, slots, flags, &b, &e))
		snprintf(out, sizeof out, "RENDER: %s", e.message);
	else
		snprintf(out, sizeof out, "%s", hb_buf_str(&b));
	hb_buf_free(&b);
	hb_template_free(&tp);
	return out;
}

TEST(tagctx_secret_paths)
{
	hb_ctx c;
	hb_error e = {0};
	const char *const secrets[] = {"shippo", "shippo_live_abc", "jira-token", "j:t/1", NULL};
	CHECK_INT(setup(&c, "s.db", secrets, &e), HB_OK);
	hb_tagctx *t = NULL;
	CHECK_INT(hb_tagctx_new(&c, HB_TARGET_USERS, 0, &t, &e), HB_OK);
	const hb_catalog *cat = hb_tagctx_catalog(t);
	const hb_path_info *p = hb_catalog_find(cat, "secret.shippo", 13);
	CHECK(p != NULL);
	CHECK_INT(p->type, HB_TYPE_STRING);
	CHECK(p->flags & HB_PATH_SECRET);
	CHECK(hb_catalog_find(cat, "secret.jira-token", 17) != NULL);
	CHECK(hb_catalog_find(cat, "secret.nope", 11) == NULL);
	CHECK(!(hb_catalog_find(cat, "user.email", 10)->flags & HB_PATH_SECRET));
	/* no path of the catalogue carries a value in its label */
	for (size_t i = 0; i < hb_catalog_nslots(cat); i++)
		CHECK(!strstr(hb_catalog_at(cat, i)->label, "shippo_live"));

	int64_t zoe = user_id(&c, "zoe@example.com");
	const char *hdr = "Authorization: ShippoToken {{secret.shippo}}\nX-User: {{user.email}}";
	CHECK_STR(render(t, zoe, hdr, HB_CTX_HEADER, HB_RENDER_MASK_SECRETS),
		  "Authorization: ShippoToken ********\nX-User: zoe@example.com");
	CHECK_STR(render(t, zoe, hdr, HB_CTX_HEADER, 0),
		  "Authorization: ShippoToken shippo_live_abc\nX-User: zoe@example.com");
	CHECK_STR(render(t, zoe, "https://x.example/{{secret.jira-token}}", HB_CTX_URL, 0),
		  "https://x.example/j%3At%2F1");
	CHECK_STR(
	    render(t, zoe, "{\"k\":{{secret.jira-token}}}", HB_CTX_JSON, HB_RENDER_MASK_SECRETS),
	    "{\"k\":\"********\"}");
	CHECK_STR(render(t, zoe, "Hi {{user.email}},\n  key {{ secret.shippo }}", HB_CTX_TEXT, 0),
		  "COMPILE: line 2, column 7: a secret cannot be used in plain text, only in the "
		  "URL, headers and body of a webhook");
	hb_tagctx_free(&t);
	CHECK(t == NULL);
	hb_store_close(&c.store);
}

TEST(tagctx_no_secrets_no_paths)
{
	hb_ctx c;
	hb_error e = {0};
	CHECK_INT(setup(&c, "n.db", NULL, &e), HB_OK);
	hb_tagctx *t = NULL;
	CHECK_INT(hb_tagctx_new(&c, HB_TARGET_FEEDBACK, 0, &t, &e), HB_OK);
	const hb_catalog *cat = hb_tagctx_catalog(t);
	for (size_t i = 0; i < hb_catalog_nslots(cat); i++) {
		CHECK(strncmp(hb_catalog_at(cat, i)->path, "secret.", 7) != 0);
		CHECK(!(hb_catalog_at(cat, i)->flags & HB_PATH_SECRET));
	}
	/* the run paths are there for feedback too */
	CHECK(hb_catalog_find(cat, "run.started_at", 14) != NULL);
	CHECK_INT(hb_catalog_find(cat, "run.started_at", 14)->type, HB_TYPE_TIME);
	hb_tagctx_free(&t);
	hb_store_close(&c.store);
}

TEST(tagctx_run_paths_types)
{
	hb_ctx c;
	hb_error e = {0};
	CHECK_INT(setup(&c, "p.db", NULL, &e), HB_OK);
	hb_tagctx *t = NULL;
	CHECK_INT(hb_tagctx_new(&c, HB_TARGET_USERS, 0, &t, &e), HB_OK);
	const hb_catalog *cat = hb_tagctx_catalog(t);
	static const struct {
		const char *path;
		hb_type type;
	} want[] = {
	    {"macro.id", HB_TYPE_INT},	      {"macro.key", HB_TYPE_STRING},
	    {"macro.name", HB_TYPE_STRING},   {"macro.description", HB_TYPE_STRING},
	    {"run.id", HB_TYPE_INT},	      {"run.started_by", HB_TYPE_STRING},
	    {"run.started_at", HB_TYPE_TIME}, {"run.selection", HB_TYPE_STRING},
	    {"run.total", HB_TYPE_INT},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const hb_path_info *p = hb_catalog_find(cat, want[i].path, strlen(want[i].path));
		if (!p)
			hb_test_failf(__FILE__, __LINE__, "no path %s", want[i].path);
		CHECK(p != NULL);
		CHECK_INT(p->type, want[i].type);
		CHECK_INT(p->flags, 0);
	}
	hb_tagctx_free(&t);
	hb_store_close(&c.store);
}

TEST(tagctx_set_run_survives_loads)
{
	hb_ctx c;
	hb_error e = {0};
	CHECK_INT(setup(&c, "r.db", NULL, &e), HB_OK);
	hb_tagctx *t = NULL;
	CHECK_INT(hb_tagctx_new(&c, HB_TARGET_USERS, 0, &t, &e), HB_OK);
	int64_t zoe = user_id(&c, "zoe@example.com"), ann = user_id(&c, "ann@example.com");
	const char *tpl = "{{macro.id}}|{{macro.key}}|{{macro.name}}|{{macro.description}}|"
			  "{{run.id}}|{{run.started_by}}|{{run.started_at}}|{{run.selection}}|"
			  "{{run.total}}|{{user.email}}";

	/* before any run is set, the paths are empty */
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "|||||||||zoe@example.com");

	hb_row *macro = hb_row_new(hb_kind_get(HB_K_MACRO));
	hb_row_set_int(macro, "id", 7);
	hb_row_set_str(macro, "key", "validate-address");
	hb_row_set_str(macro, "name", "Validate shipping address");
	hb_row_set_str(macro, "description", "Checks each address");
	hb_row *run = hb_row_new(hb_kind_get(HB_K_RUN));
	hb_row_set_int(run, "id", 42);
	hb_row_set_int(run, "macro_id", 7);
	hb_row_set_str(run, "started_by", "api:hb_ab12");
	hb_row_set_str(run, "selection", "--all");
	hb_row_set_int(run, "total", 3);
	hb_row_set_time(run, "created_at", 1795852800); /* 2026-11-28T08:00:00Z */
	hb_tagctx_set_run(t, macro, run);
	hb_row_free(&macro); /* the context keeps copies */
	hb_row_free(&run);

	const char *want_zoe = "7|validate-address|Validate shipping address|Checks each address|"
			       "42|api:hb_ab12|2026-11-28T08:00:00Z|--all|3|zoe@example.com";
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), want_zoe);
	/* many loads later the run is still there */
	for (int i = 0; i < 3; i++)
		CHECK_STR(render(t, ann, tpl, HB_CTX_TEXT, 0),
			  "7|validate-address|Validate shipping address|Checks each address|"
			  "42|api:hb_ab12|2026-11-28T08:00:00Z|--all|3|ann@example.com");
	CHECK_STR(
	    render(t, zoe,
		   "{\"run\":{{run.id}},\"at\":\"{{run.started_at | date:'%Y'}}\","
		   "\"by\":{{run.started_by}},\"d\":{{macro.description | upper}}}",
		   HB_CTX_JSON, 0),
	    "{\"run\":42,\"at\":\"2026\",\"by\":\"api:hb_ab12\",\"d\":\"CHECKS EACH ADDRESS\"}");

	/* a macro without a run (a preview): run.* empty, JSON null where a value stands */
	macro = hb_row_new(hb_kind_get(HB_K_MACRO));
	hb_row_set_int(macro, "id", 8);
	hb_row_set_str(macro, "key", "ping");
	hb_row_set_str(macro, "name", "Ping");
	hb_tagctx_set_run(t, macro, NULL);
	hb_row_free(&macro);
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "8|ping|Ping|||||||zoe@example.com");
	CHECK_STR(render(t, zoe, "{\"r\":{{run.id}},\"t\":{{run.total}}}", HB_CTX_JSON, 0),
		  "{\"r\":null,\"t\":null}");

	/* rows of the wrong kind count as none; both NULL clears everything */
	hb_row *user = hb_row_new(hb_kind_get(HB_K_USER));
	hb_row_set_int(user, "id", 99);
	hb_tagctx_set_run(t, user, user);
	hb_row_free(&user);
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "|||||||||zoe@example.com");
	hb_tagctx_set_run(t, NULL, NULL);
	CHECK_STR(render(t, ann, tpl, HB_CTX_TEXT, 0), "|||||||||ann@example.com");
	hb_tagctx_free(&t);
	hb_store_close(&c.store);
}

/* hb_tagctx_need: a load fills only the named slots (and still fails for a missing record). */
TEST(tagctx_need_reads_only_named_slots)
{
	hb_ctx c;
	hb_error e = {0};
	CHECK_INT(setup(&c, "n.db", NULL, &e), HB_OK);
	hb_tagctx *t = NULL;
	CHECK_INT(hb_tagctx_new(&c, HB_TARGET_USERS, 0, &t, &e), HB_OK);
	int64_t zoe = user_id(&c, "zoe@example.com");
	char id[32];
	snprintf(id, sizeof id, "%lld|zoe@example.com|acme", (long long)zoe);
	const char *tpl = "{{user.id}}|{{user.email}}|{{community.key}}";
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), id); /* before: every slot */
	const hb_path_info *email = hb_catalog_find(hb_tagctx_catalog(t), "user.email", 10);
	CHECK(email != NULL);
	if (!email)
		return;
	hb_tagctx_need(t, &email->slot, 1);
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "|zoe@example.com|");
	CHECK_STR(render(t, 999999, tpl, HB_CTX_TEXT, 0), "RENDER: user 999999 no longer exists");
	hb_tagctx_free(&t);
	hb_store_close(&c.store);
}

/* Sets a user's first name through the model, as another writer would. */
static hb_err rename_user(hb_ctx *c, const char *email, const char *first, hb_error *e)
{
	hb_row *row = NULL;
	hb_err rc = hb_record_find(c, HB_K_USER, c->community_id, email, &row, e);
	json_t *in = json_pack("{s:s}", "first_name", first);
	if (!rc)
		rc = hb_record_update(c, row, in, e);
	json_decref(in);
	hb_row_free(&row);
	return rc;
}

TEST(tagctx_read_ahead_takes_what_it_read)
{
	hb_ctx c;
	hb_error e = {0};
	CHECK_INT(setup(&c, "ahead.db", NULL, &e), HB_OK);
	const char *more[] = {"bob@example.com", "cy@example.com"};
	for (int i = 0; i < 2; i++) {
		json_t *in = json_pack("{s:s, s:s}", "email", more[i], "first_name", "First");
		CHECK_INT(hb_record_create(&c, HB_K_USER, in, NULL, &e), HB_OK);
		json_decref(in);
	}
	CHECK_INT(rename_user(&c, "zoe@example.com", "Zoe", &e), HB_OK);
	hb_tagctx *t = NULL;
	CHECK_INT(hb_tagctx_new(&c, HB_TARGET_USERS, 0, &t, &e), HB_OK);
	int64_t zoe = user_id(&c, "zoe@example.com"), ann = user_id(&c, "ann@example.com");
	int64_t bob = user_id(&c, "bob@example.com"), cy = user_id(&c, "cy@example.com");
	const char *tpl = "{{user.email}} {{user.first_name}}";
	/* zoe, ann and bob are read ahead; zoe's name changes after: the load takes what was read */
	hb_tagctx_read_ahead(t, (const int64_t[]){bob, zoe, ann}, 3);
	CHECK_INT(rename_user(&c, "zoe@example.com", "Zoë", &e), HB_OK);
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "zoe@example.com Zoe");
	CHECK_STR(render(t, bob, tpl, HB_CTX_TEXT, 0), "bob@example.com First");
	CHECK_STR(render(t, cy, tpl, HB_CTX_TEXT, 0), "cy@example.com First"); /* not asked: read */
	/* taken once: a second load of zoe reads her again */
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "zoe@example.com Zoë");
	/* dropped: ann is read again, as she is now */
	CHECK_INT(rename_user(&c, "ann@example.com", "Ann", &e), HB_OK);
	hb_tagctx_drop_ahead(t);
	CHECK_STR(render(t, ann, tpl, HB_CTX_TEXT, 0), "ann@example.com Ann");
	/* ids far apart are not read ahead: each load reads its own */
	hb_tagctx_read_ahead(t, (const int64_t[]){zoe, 1000000}, 2);
	CHECK_INT(rename_user(&c, "zoe@example.com", "Zo", &e), HB_OK);
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "zoe@example.com Zo");
	hb_tagctx_drop_ahead(t);
	hb_tagctx_free(&t);
	hb_store_close(&c.store);
}

/* With slots named, a load fills those only: a named External Data value is there for the
   record that has it and empty for the next that has none; a value not named stays empty. */
TEST(tagctx_need_fills_named_external_values_per_record)
{
	hb_ctx c;
	hb_error e = {0};
	CHECK_INT(setup(&c, "nx.db", NULL, &e), HB_OK);
	const char *defs[] = {"{\"key\":\"ship\",\"name\":\"Ship\",\"on\":\"users\"}",
			      "{\"group\":\"ship\",\"key\":\"carrier\",\"label\":\"C\","
			      "\"param\":\"c\",\"type\":\"string\"}",
			      "{\"group\":\"ship\",\"key\":\"score\",\"label\":\"S\","
			      "\"param\":\"s\",\"type\":\"integer\"}"};
	for (int i = 0; i < 3; i++) {
		json_t *in = json_loads(defs[i], 0, NULL);
		CHECK_INT(hb_record_create(&c, i ? HB_K_XFIELD : HB_K_XGROUP, in, NULL, &e), HB_OK);
		json_decref(in);
	}
	int64_t zoe = user_id(&c, "zoe@example.com"), ann = user_id(&c, "ann@example.com");
	const char *names[] = {"ship.carrier", "ship.score"};
	for (int i = 0; i < 2; i++) {
		hb_xfield_info f;
		hb_target target;
		CHECK_INT(hb_xdata_field(&c, names[i], &f, &target, &e), HB_OK);
		hb_xvalue xv = {.field_id = f.id, .record_id = zoe,
				.value = i ? hb_value_int(7) : hb_value_str("UPS"),
				.set_at = hb_time_now()};
		CHECK_INT(c.store->ops->xvalue_set(c.store, HB_TARGET_USERS, &xv, &e), HB_OK);
	}
	hb_tagctx *t = NULL;
	CHECK_INT(hb_tagctx_new(&c, HB_TARGET_USERS, 0, &t, &e), HB_OK);
	const hb_catalog *cat = hb_tagctx_catalog(t);
	const hb_path_info *carrier = hb_catalog_find(cat, "external.ship.carrier", 21);
	const hb_path_info *score = hb_catalog_find(cat, "external.ship.score", 19);
	CHECK(carrier != NULL && score != NULL);
	if (!carrier || !score)
		return;
	const char *tpl = "[{{external.ship.carrier}}]";
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "[UPS]"); /* before: every slot */
	hb_tagctx_need(t, &carrier->slot, 1);
	const hb_value *slots = NULL;
	CHECK_INT(hb_tagctx_load(t, zoe, &slots, &e), HB_OK);
	CHECK_INT(slots[carrier->slot].type, HB_TYPE_STRING);
	CHECK_INT(slots[score->slot].type, HB_TYPE_NULL); /* not named */
	CHECK_STR(render(t, zoe, tpl, HB_CTX_TEXT, 0), "[UPS]");
	CHECK_STR(render(t, ann, tpl, HB_CTX_TEXT, 0), "[]"); /* none for ann: not zoe's */
	CHECK_INT(hb_tagctx_load(t, ann, &slots, &e), HB_OK);
	CHECK_INT(slots[carrier->slot].type, HB_TYPE_NULL);
	hb_tagctx_free(&t);
	hb_store_close(&c.store);
}
