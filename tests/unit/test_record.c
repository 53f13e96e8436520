/* test_record.c - updating a record (model/record.c) writes what changed and keeps the rest;
   a change to a unique key still meets the key, and a record deleted meanwhile is not found.
   A row (model/row.c) packs the strings it borrows into storage of its own. */
#include <stdio.h>

#include "harness.h"
#include "model/model.h"

static hb_err make_user(hb_ctx *c, const char *email, const char *city, hb_error *e)
{
	json_t *in =
	    json_pack("{s:s, s:s, s:s}", "email", email, "city", city, "company", "Initech");
	hb_err rc = hb_record_create(c, HB_K_USER, in, NULL, e);
	json_decref(in);
	return rc;
}

static hb_row *user(hb_ctx *c, const char *email)
{
	hb_row *row = NULL;
	hb_error e = {0};
	return hb_record_find(c, HB_K_USER, c->community_id, email, &row, &e) ? NULL : row;
}

static hb_err update(hb_ctx *c, hb_row *row, const char *field, const char *value, hb_error *e)
{
	json_t *in = json_pack("{s:s}", field, value);
	hb_err rc = hb_record_update(c, row, in, e);
	json_decref(in);
	return rc;
}

TEST(record_update_writes_what_changed)
{
	char path[300];
	snprintf(path, sizeof path, "%s/records.db", hb_test_tmpdir());
	hb_ctx c = {0};
	hb_error e = {0};
	CHECK_INT(hb_store_open(path, true, &c.store, &e), HB_OK);
	json_t *in = json_pack("{s:s, s:s}", "key", "acme", "name", "Acme");
	CHECK_INT(hb_record_create(&c, HB_K_COMMUNITY, in, NULL, &e), HB_OK);
	json_decref(in);
	CHECK_INT(hb_ctx_load(&c, c.store, "acme", &e), HB_OK);
	CHECK_INT(make_user(&c, "zoe@example.com", "Bergen", &e), HB_OK);
	CHECK_INT(make_user(&c, "ann@example.com", "Tromso", &e), HB_OK);

	hb_row *zoe = user(&c, "zoe@example.com");
	CHECK(zoe != NULL);
	CHECK_INT(update(&c, zoe, "city", "Oslo", &e), HB_OK);
	hb_row_free(&zoe);
	zoe = user(&c, "zoe@example.com");
	CHECK(zoe != NULL);
	CHECK_STR(hb_row_str(zoe, "city"), "Oslo");
	CHECK_STR(hb_row_str(zoe, "company"), "Initech");
	CHECK_STR(hb_row_str(zoe, "email"), "zoe@example.com");

	/* a unique key changed to one in use is refused, and nothing of it is written */
	CHECK_INT(update(&c, zoe, "email", "ann@example.com", &e), HB_ERR_CONFLICT);
	hb_row_free(&zoe);
	zoe = user(&c, "zoe@example.com");
	CHECK(zoe != NULL);
	CHECK_STR(hb_row_str(zoe, "city"), "Oslo");
	hb_row *ann = user(&c, "ann@example.com");
	CHECK(ann != NULL);
	CHECK_STR(hb_row_str(ann, "city"), "Tromso");

	/* a record deleted since it was read: not found, even when nothing else changes */
	CHECK_INT(hb_record_delete(&c, ann, &e), HB_OK);
	CHECK_INT(update(&c, ann, "city", "Tromso", &e), HB_ERR_NOT_FOUND);
	hb_row_free(&ann);
	hb_row_free(&zoe);
	hb_store_close(&c.store);
}

TEST(row_pack_owns_borrowed_strings)
{
	const hb_kind *k = hb_kind_get(HB_K_USER);
	int email = hb_kind_col(k, "email"), city = hb_kind_col(k, "city");
	int company = hb_kind_col(k, "company");
	hb_row *r = hb_row_new(k);
	char a[] = "zoe@example.com", b[] = "Paris";
	hb_row_borrow(r, email, hb_value_str(a));
	hb_row_borrow(r, city, hb_value_strn(b, 0)); /* an empty string stays one */
	hb_row_set(r, company, hb_value_str("Initech")); /* owned already: left as it is */
	hb_row_pack(r);
	a[0] = 'X', b[0] = 'X'; /* the borrowed bytes change: the row's do not */
	CHECK_STR(hb_row_str(r, "email"), "zoe@example.com");
	CHECK_STR(hb_row_str(r, "city"), "");
	CHECK_STR(hb_row_str(r, "company"), "Initech");
	/* packed again with one string borrowed from its own storage: still whole */
	hb_row_borrow(r, city, r->v[email]);
	hb_row_pack(r);
	CHECK_STR(hb_row_str(r, "city"), "zoe@example.com");
	CHECK_STR(hb_row_str(r, "email"), "zoe@example.com");
	hb_row_clear(r);
	CHECK(r->packed == NULL);
	CHECK(hb_row_str(r, "email") == NULL);
	hb_row_free(&r);
}
