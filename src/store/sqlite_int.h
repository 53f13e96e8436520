/* sqlite_int.h - shared between the SQLite back end's files only. */
#ifndef HB_STORE_SQLITE_INT_H
#define HB_STORE_SQLITE_INT_H

/* hb_sqlite_migrations[N] brings user_version N-1 to N; [0] is unused. */
extern const char *const hb_sqlite_migrations[];
extern const int hb_sqlite_nmigrations;

#endif
