/* store.c - chooses the back end from the database address (see store.h). */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

const char *const hb_dstate_names[HB_DS_COUNT] = {"waiting",   "pending", "sending",
						  "succeeded", "failed",  "skipped"};

hb_dstate hb_dstate_of(const char *name)
{
	for (int i = 0; i < HB_DS_COUNT; i++)
		if (strcmp(name, hb_dstate_names[i]) == 0)
			return (hb_dstate)i;
	return HB_DS_COUNT;
}

void hb_tally_move(hb_tally *t, int64_t run_id, hb_dstate from, hb_dstate to)
{
	if (from == to)
		return;
	size_t i = t->n;
	while (i > 0 && t->runs[i - 1].run_id != run_id) /* the latest run first: runs come together */
		i--;
	if (i == 0) {
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 4;
			t->runs = hb_realloc(t->runs, t->cap * sizeof *t->runs);
		}
		t->runs[t->n] = (hb_tally_run){.run_id = run_id};
		i = ++t->n;
	}
	hb_tally_run *r = &t->runs[i - 1];
	if (from != HB_DS_COUNT)
		r->delta[from]--;
	if (to != HB_DS_COUNT)
		r->delta[to]++;
}

hb_err hb_tally_write(hb_tally *t, hb_store *s, hb_error *e)
{
	hb_err rc = HB_OK;
	for (size_t i = 0; i < t->n && !rc; i++)
		rc = s->ops->run_counts_add(s, t->runs[i].run_id, t->runs[i].delta, e);
	t->n = 0;
	return rc;
}

void hb_tally_free(hb_tally *t)
{
	free(t->runs);
	*t = (hb_tally){0};
}

hb_err hb_store_open(const char *address, bool create, hb_store **out, hb_error *e)
{
	*out = NULL;
	if (!address || !*address)
		return hb_fail(e, HB_ERR_USAGE, "db", "no database given (use --db PATH or HOOKBRIDGE_DB)");
	if (strncmp(address, "postgresql://", 13) == 0 || strncmp(address, "postgres://", 11) == 0)
		return hb_fail(e, HB_ERR_UNSUPPORTED, "db",
			       "PostgreSQL storage is not available in this build yet; use a SQLite file path");
	return hb_sqlite_open(address, create, out, e);
}

void hb_store_close(hb_store **s)
{
	if (!s || !*s)
		return;
	(*s)->ops->close(*s);
	*s = NULL;
}
