/* sqlite_int.h - shared between the SQLite back end's files only. */
#ifndef HB_STORE_SQLITE_INT_H
#define HB_STORE_SQLITE_INT_H

/* hb_sqlite_migrations[N] brings user_version N-1 to N; [0] is unused. */
extern const char *const hb_sqlite_migrations[];
extern const int hb_sqlite_nmigrations;

#include "store/store.h"

struct sqlite3;
/* The connection behind a SQLite store (sqlite.c). */
struct sqlite3 *hb_sqlite_handle(hb_store *s);
struct sqlite3_stmt;
/* Bind value v at position at (1-based); strings copied when copy, else bound in place. */
int hb_sqlite_bind(struct sqlite3_stmt *st, int at, const hb_value *v, bool copy);
/* Give SQLite its allocator (sqlite_mem.c); once per process, before SQLite's first use. */
void hb_sqlite_mem_setup(void);
/* The VFS the store opens its databases with (sqlite_vfs.c): the platform's, with the pages of
   a WAL commit gathered into few writes. Returns its name, or NULL for the default VFS if it
   could not be installed; installs it on first use. */
#define HB_SQLITE_VFS "hookbridge"
const char *hb_sqlite_vfs(void);
/* Writes SQLite asked of the VFS's files and writes passed on to the system, since start. */
void hb_sqlite_vfs_writes(unsigned long *asked, unsigned long *made);
/* Syncs of database files (not of their logs) the calling thread asked of the VFS: in WAL mode
   only a checkpoint syncs the database file. */
unsigned long hb_sqlite_vfs_db_syncs(void);
/* A connection's WAL copied back into its database by a thread of its own once the log holds
   pages pages (sqlite_checkpoint.c), instead of by the committing connection. attach replaces
   the connection's automatic checkpoints; detach, before the connection closes, stops the
   thread and frees *c. */
typedef struct hb_checkpointer hb_checkpointer;
hb_checkpointer *hb_checkpointer_attach(struct sqlite3 *db, const char *path, int pages);
void hb_checkpointer_detach(hb_checkpointer **c, struct sqlite3 *db);
/* The query op of store.h (sqlite_query.c). */
hb_err hb_sqlite_query(hb_store *s, const hb_query *q, hb_qrow_fn fn, void *ud, hb_error *e);

#endif
