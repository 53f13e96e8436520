/* sqlite_vfs.c - SQLite's files, with a WAL commit written in a few system calls.
 *
 * In WAL mode SQLite appends each page of a commit to the -wal file as a frame: a 24-byte
 * header and the page, each its own write(2). A batch of deliveries commits some fifty pages,
 * so about a hundred small system calls, which cost more than the bytes they carry. This VFS
 * wraps the platform's default one (unix) and changes one thing: on a WAL file, writes that
 * continue one another are gathered in a 64 KiB buffer and written together.
 *
 * DESIGN. Other connections see frames only once the writer publishes the new end of the log
 * in the shared WAL index, after it has written them; so a frame may stay in the buffer only
 * while SQLite is still appending. The buffer is written out:
 *   - right after the page of a commit frame (a frame header whose "database size" field is not
 *     zero, SQLite's documented WAL format), so the commit's last write(2) fails or succeeds
 *     before SQLite publishes it, and its error becomes the commit's;
 *   - before any other operation on the WAL file (read, sync, truncate, size, file control,
 *     close) and before a write that does not continue the buffer or would overflow it;
 *   - before any operation of the same connection on the shared WAL index (lock, map,
 *     barrier), which goes through its database file: publishing needs them, so nothing
 *     buffered can be published even if a later SQLite wrote its frames differently. A
 *     database file knows its WAL file from sqlite3_database_file_object().
 * A process killed with bytes in the buffer loses only a commit SQLite had not yet published,
 * as if it had been killed a moment earlier. */
#include "store/sqlite_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* The unix VFS writes at most 128 KiB at once (it was written for single pages). */
#define GATHER_BYTES (64 * 1024)
#define FRAME_HEADER 24

typedef struct gfile gfile;
struct gfile {
	sqlite3_file base;  /* our methods */
	sqlite3_file *real; /* the unix VFS's file, allocated right after this struct */
	gfile *pair;	    /* a database file's open WAL file, and a WAL file's database file */
	char *buf;	    /* WAL files only: bytes written but not yet passed on */
	int len;
	sqlite3_int64 off; /* where buf[0] goes */
	bool commit_page;  /* the last write was a commit frame's header: its page comes next */
};

static sqlite3_vfs *inner;
static sqlite3_vfs gather_vfs;
static _Atomic unsigned long writes_asked, writes_made;
static _Thread_local unsigned long db_syncs; /* of files other than logs, by this thread */

static int pass_on(gfile *f)
{
	if (!f->len)
		return SQLITE_OK;
	int rc = f->real->pMethods->xWrite(f->real, f->buf, f->len, f->off);
	f->len = 0;
	writes_made++;
	return rc;
}

/* Before anything but an append: the WAL file's own bytes, or a database file's WAL's. */
static int settle(sqlite3_file *p)
{
	gfile *f = (gfile *)p;
	if (!f->buf)
		f = f->pair && f->pair->buf ? f->pair : NULL;
	return f ? pass_on(f) : SQLITE_OK;
}

#define REAL(p) (((gfile *)(p))->real)
#define METHOD(p, m) (REAL(p)->pMethods->m)

static int g_close(sqlite3_file *p)
{
	gfile *f = (gfile *)p;
	int rc = pass_on(f);
	free(f->buf);
	f->buf = NULL;
	if (f->pair)
		f->pair->pair = NULL;
	int closed = METHOD(p, xClose)(f->real);
	return rc ? rc : closed;
}

static int g_write(sqlite3_file *p, const void *data, int n, sqlite3_int64 at)
{
	gfile *f = (gfile *)p;
	writes_asked++;
	if (f->len && (at != f->off + f->len || f->len + n > GATHER_BYTES)) {
		int rc = pass_on(f);
		if (rc)
			return rc;
	}
	if (!f->buf || n > GATHER_BYTES) {
		writes_made++;
		return METHOD(p, xWrite)(f->real, data, n, at);
	}
	if (!f->len)
		f->off = at;
	memcpy(f->buf + f->len, data, (size_t)n);
	f->len += n;
	if (f->commit_page) {
		f->commit_page = false;
		return pass_on(f);
	}
	if (n == FRAME_HEADER) {
		const unsigned char *h = data;
		f->commit_page = (h[4] | h[5] | h[6] | h[7]) != 0;
	}
	return SQLITE_OK;
}

/* Methods that touch the file or the shared index see every earlier write first. */
static int g_read(sqlite3_file *p, void *out, int n, sqlite3_int64 at)
{
	int rc = settle(p);
	return rc ? rc : METHOD(p, xRead)(REAL(p), out, n, at);
}

static int g_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	int rc = settle(p);
	return rc ? rc : METHOD(p, xTruncate)(REAL(p), size);
}

static int g_sync(sqlite3_file *p, int flags)
{
	if (!((gfile *)p)->buf)
		db_syncs++;
	int rc = settle(p);
	return rc ? rc : METHOD(p, xSync)(REAL(p), flags);
}

static int g_size(sqlite3_file *p, sqlite3_int64 *size)
{
	int rc = settle(p);
	return rc ? rc : METHOD(p, xFileSize)(REAL(p), size);
}

static int g_control(sqlite3_file *p, int op, void *arg)
{
	int rc = settle(p);
	return rc ? rc : METHOD(p, xFileControl)(REAL(p), op, arg);
}

static int g_shm_map(sqlite3_file *p, int page, int size, int extend, void volatile **out)
{
	int rc = settle(p);
	return rc ? rc : METHOD(p, xShmMap)(REAL(p), page, size, extend, out);
}

static int g_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
	int rc = settle(p);
	return rc ? rc : METHOD(p, xShmLock)(REAL(p), offset, n, flags);
}

static void g_shm_barrier(sqlite3_file *p)
{
	/* nothing is buffered here after a commit frame; if it were and could not be written,
	   publishing it would corrupt the log for every reader, so stopping is the only safe way */
	if (settle(p) != SQLITE_OK)
		abort();
	METHOD(p, xShmBarrier)(REAL(p));
}

static int g_shm_unmap(sqlite3_file *p, int delete_flag)
{
	int rc = settle(p);
	return rc ? rc : METHOD(p, xShmUnmap)(REAL(p), delete_flag);
}

static int g_fetch(sqlite3_file *p, sqlite3_int64 at, int n, void **out)
{
	int rc = settle(p);
	return rc ? rc : METHOD(p, xFetch)(REAL(p), at, n, out);
}

/* Locks, sizes and characteristics pass straight through. */
static int g_lock(sqlite3_file *p, int level)
{
	return METHOD(p, xLock)(REAL(p), level);
}

static int g_unlock(sqlite3_file *p, int level)
{
	return METHOD(p, xUnlock)(REAL(p), level);
}

static int g_reserved(sqlite3_file *p, int *out)
{
	return METHOD(p, xCheckReservedLock)(REAL(p), out);
}

static int g_sector_size(sqlite3_file *p)
{
	return METHOD(p, xSectorSize)(REAL(p));
}

static int g_device(sqlite3_file *p)
{
	return METHOD(p, xDeviceCharacteristics)(REAL(p));
}

static int g_unfetch(sqlite3_file *p, sqlite3_int64 at, void *page)
{
	return METHOD(p, xUnfetch)(REAL(p), at, page);
}

static const sqlite3_io_methods gather_methods = {
    .iVersion = 3,
    .xClose = g_close,
    .xRead = g_read,
    .xWrite = g_write,
    .xTruncate = g_truncate,
    .xSync = g_sync,
    .xFileSize = g_size,
    .xLock = g_lock,
    .xUnlock = g_unlock,
    .xCheckReservedLock = g_reserved,
    .xFileControl = g_control,
    .xSectorSize = g_sector_size,
    .xDeviceCharacteristics = g_device,
    .xShmMap = g_shm_map,
    .xShmLock = g_shm_lock,
    .xShmBarrier = g_shm_barrier,
    .xShmUnmap = g_shm_unmap,
    .xFetch = g_fetch,
    .xUnfetch = g_unfetch,
};

static int g_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags, int *out)
{
	(void)vfs;
	gfile *f = (gfile *)p;
	memset(f, 0, (size_t)gather_vfs.szOsFile);
	f->real = (sqlite3_file *)(f + 1);
	int rc = inner->xOpen(inner, name, f->real, flags, out);
	if (!f->real->pMethods)
		return rc; /* base.pMethods stays NULL: SQLite does not close it */
	f->base.pMethods = &gather_methods; /* SQLite closes it, even if opening failed */
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_file *db = flags & SQLITE_OPEN_WAL ? sqlite3_database_file_object(name) : NULL;
	if (db && db->pMethods == &gather_methods) {
		f->buf = malloc(GATHER_BYTES); /* without it, writes pass straight on */
		f->pair = (gfile *)db;
		f->pair->pair = f;
	}
	return SQLITE_OK;
}

/* The rest of the VFS is the inner one's. */
static int g_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	(void)v;
	return inner->xDelete(inner, name, sync_dir);
}

static int g_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return inner->xAccess(inner, name, flags, out);
}

static int g_full_path(sqlite3_vfs *v, const char *name, int size, char *out)
{
	(void)v;
	return inner->xFullPathname(inner, name, size, out);
}

static void *g_dl_open(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return inner->xDlOpen(inner, name);
}

static void g_dl_error(sqlite3_vfs *v, int size, char *out)
{
	(void)v;
	inner->xDlError(inner, size, out);
}

static void (*g_dl_sym(sqlite3_vfs *v, void *lib, const char *name))(void)
{
	(void)v;
	return inner->xDlSym(inner, lib, name);
}

static void g_dl_close(sqlite3_vfs *v, void *lib)
{
	(void)v;
	inner->xDlClose(inner, lib);
}

static int g_random(sqlite3_vfs *v, int size, char *out)
{
	(void)v;
	return inner->xRandomness(inner, size, out);
}

static int g_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return inner->xSleep(inner, us);
}

static int g_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return inner->xCurrentTime(inner, out);
}

static int g_last_error(sqlite3_vfs *v, int size, char *out)
{
	(void)v;
	return inner->xGetLastError(inner, size, out);
}

static int g_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return inner->xCurrentTimeInt64(inner, out);
}

static void install(void)
{
	hb_sqlite_mem_setup(); /* before SQLite starts, which finding a VFS does */
	/* the methods above are written for unix's files (version 3 methods) */
	inner = sqlite3_vfs_find("unix");
	if (!inner || inner->iVersion < 2)
		return;
	gather_vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)sizeof(gfile) + inner->szOsFile,
	    .mxPathname = inner->mxPathname,
	    .zName = HB_SQLITE_VFS,
	    .xOpen = g_open,
	    .xDelete = g_delete,
	    .xAccess = g_access,
	    .xFullPathname = g_full_path,
	    .xDlOpen = g_dl_open,
	    .xDlError = g_dl_error,
	    .xDlSym = g_dl_sym,
	    .xDlClose = g_dl_close,
	    .xRandomness = g_random,
	    .xSleep = g_sleep,
	    .xCurrentTime = g_time,
	    .xGetLastError = g_last_error,
	    .xCurrentTimeInt64 = g_time64,
	};
	sqlite3_vfs_register(&gather_vfs, 0);
}

const char *hb_sqlite_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, install);
	return gather_vfs.zName; /* NULL (the default VFS) if it could not be installed */
}

unsigned long hb_sqlite_vfs_db_syncs(void)
{
	return db_syncs;
}

void hb_sqlite_vfs_writes(unsigned long *asked, unsigned long *made)
{
	*asked = writes_asked;
	*made = writes_made;
}
