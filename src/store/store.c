/* store.c - chooses the back end from the database address (see store.h). */
#include "store/store.h"

#include <string.h>

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
