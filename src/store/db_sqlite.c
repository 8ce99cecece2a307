/* SQLite driver. WAL mode; the write connection runs synchronous=NORMAL and
 * the store fsyncs the WAL itself before acknowledging a batch (store.c), so
 * the fsync overlaps the next batch's work instead of stalling it. Prepared statements are
 * cached per connection keyed by the SQL text. */
#include "store/db.h"
#include "util/log.h"
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE 256

typedef struct {
    char *sql; /* own copy: callers may build SQL in buffers that are reused */
    uint64_t hash;
    sqlite3_stmt *stmt;
} stmt_slot;

typedef struct {
    struct db_conn_header h;
    sqlite3 *db;
    stmt_slot cache[STMT_CACHE];
} sqlite_conn;

typedef struct {
    struct db_rows_header h;
    sqlite3_stmt *stmt;
    bool cached;
    bool started;
    bool done;
} sqlite_rows;

static db_status map_rc(sqlite3 *db, int rc, const char *sql)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return DB_OK;
    case SQLITE_CONSTRAINT:
        return DB_CONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DB_RETRY;
    default:
        log_error("sqlite: %s (rc=%d) in: %.200s", sqlite3_errmsg(db), rc, sql);
        /* SQLITE_FULL: what the OS's ENOSPC becomes, and a max_page_count reached */
        return (rc & 0xff) == SQLITE_FULL ? DB_FULL : DB_ERROR;
    }
}

/* SQLite keeps global allocation statistics by default, behind one mutex that
 * every allocation of every connection takes. Nothing reads them, and a
 * thread of low priority (the analytics writer runs at SCHED_IDLE) could be
 * preempted holding that mutex while the store's writer waits on it. */
static void sqlite_configure(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

static db_conn *sq_connect(const char *path, db_conn_role role, char **err)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, sqlite_configure);
    sqlite_conn *c = calloc(1, sizeof *c);
    c->h.driver = &db_driver_sqlite;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        if (err) *err = strdup(c->db ? sqlite3_errmsg(c->db) : "cannot open database");
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 5000);
    /* 2 KiB pages (new databases only): a booking dirties a few random index
     * pages (barcode, order number) and a savepoint copies each page it
     * touches; halving the page halves those bytes (measured: docs/PERFORMANCE.md). */
    const char *setup = role != DB_CONN_READ
                            ? "PRAGMA page_size=2048; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                              " PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-32000;"
                            : "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16000; PRAGMA query_only=1;";
    /* Convious pricing analytics live in a file of their own beside the
     * database (ANALYTICS_SUFFIX), written on a connection of their own
     * (store_write_analytics): a booking never waits for their writes, nor
     * does its fsync carry them (docs/ARCHITECTURE.md, "The one exception").
     * Unqualified names find its tables, so no statement names the schema. */
    bool memory = !*path || !strcmp(path, ":memory:");
    char *file = memory ? sqlite3_mprintf(":memory:") : sqlite3_mprintf("%s%s", path, DB_SQLITE_ANALYTICS_SUFFIX);
    char *attach = role == DB_CONN_WRITE ? sqlite3_mprintf("%s", "")
                   : sqlite3_mprintf("ATTACH DATABASE %Q AS analytics;%s", file,
                                     role == DB_CONN_WRITE_ALL
                                         ? "PRAGMA analytics.journal_mode=WAL; PRAGMA analytics.synchronous=NORMAL;"
                                         : "");
    sqlite3_free(file);
    char *msg = NULL;
    if (!attach || sqlite3_exec(c->db, attach, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(c->db, setup, NULL, NULL, &msg) != SQLITE_OK) {
        if (err) *err = strdup(msg ? msg : "pragma failed");
        sqlite3_free(msg);
        sqlite3_free(attach);
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    sqlite3_free(attach);
    return (db_conn *)c;
}

static void sq_disconnect(db_conn *conn)
{
    sqlite_conn *c = (sqlite_conn *)conn;
    if (!c) return;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (c->cache[i].stmt) sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

static uint64_t sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

/* Returns a reset statement; *cached tells whether the caller must finalize it. */
static sqlite3_stmt *prepare(sqlite_conn *c, const char *sql, bool *cached)
{
    uint64_t h = sql_hash(sql);
    for (int probe = 0; probe < 8; probe++) {
        stmt_slot *s = &c->cache[(h + (uint64_t)probe) % STMT_CACHE];
        if (s->sql && s->hash == h && !strcmp(s->sql, sql)) {
            sqlite3_reset(s->stmt);
            sqlite3_clear_bindings(s->stmt);
            *cached = true;
            return s->stmt;
        }
        if (!s->sql) {
            if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL) != SQLITE_OK) {
                map_rc(c->db, sqlite3_errcode(c->db), sql);
                s->stmt = NULL;
                return NULL;
            }
            s->sql = strdup(sql);
            s->hash = h;
            *cached = true;
            return s->stmt;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        map_rc(c->db, sqlite3_errcode(c->db), sql);
        return NULL;
    }
    *cached = false;
    return st;
}

/* Texts are bound without a copy when the statement finishes before the
 * call returns (db_exec): the caller's strings outlive it. A query's rows are
 * stepped later, so its texts are copied. */
static bool bind_all(sqlite3_stmt *st, const db_param *p, int n, bool copy_texts)
{
    for (int i = 0; i < n; i++) {
        int rc;
        switch (p[i].type) {
        case DBP_INT: rc = sqlite3_bind_int64(st, i + 1, p[i].i); break;
        case DBP_TEXT: rc = sqlite3_bind_text(st, i + 1, p[i].s, -1, copy_texts ? SQLITE_TRANSIENT : SQLITE_STATIC); break;
        default: rc = sqlite3_bind_null(st, i + 1); break;
        }
        if (rc != SQLITE_OK) return false;
    }
    return true;
}

static db_status sq_exec(db_conn *conn, const char *sql, const db_param *p, int n, int64_t *changes)
{
    sqlite_conn *c = (sqlite_conn *)conn;
    bool cached;
    sqlite3_stmt *st = prepare(c, sql, &cached);
    if (!st) return DB_ERROR;
    db_status status = DB_OK;
    if (!bind_all(st, p, n, false)) status = DB_ERROR;
    int rc = SQLITE_DONE;
    if (status == DB_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
        status = map_rc(c->db, rc, sql);
    }
    if (changes) *changes = sqlite3_changes64(c->db);
    if (cached) sqlite3_reset(st);
    else sqlite3_finalize(st);
    return status;
}

static db_status sq_query(db_conn *conn, const char *sql, const db_param *p, int n, db_rows **out)
{
    sqlite_conn *c = (sqlite_conn *)conn;
    bool cached;
    sqlite3_stmt *st = prepare(c, sql, &cached);
    if (!st) return DB_ERROR;
    if (!bind_all(st, p, n, true)) {
        if (cached) sqlite3_reset(st);
        else sqlite3_finalize(st);
        return DB_ERROR;
    }
    /* Step once now so errors (constraint, busy) surface from db_query itself. */
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_status s = map_rc(c->db, rc, sql);
        if (cached) sqlite3_reset(st);
        else sqlite3_finalize(st);
        return s;
    }
    sqlite_rows *r = calloc(1, sizeof *r);
    r->h.driver = &db_driver_sqlite;
    r->stmt = st;
    r->cached = cached;
    r->done = rc == SQLITE_DONE;
    *out = (db_rows *)r;
    return DB_OK;
}

static bool sq_next(db_rows *rows)
{
    sqlite_rows *r = (sqlite_rows *)rows;
    if (!r->started) {
        r->started = true;
        return !r->done;
    }
    if (r->done) return false;
    int rc = sqlite3_step(r->stmt);
    if (rc != SQLITE_ROW) r->done = true;
    return rc == SQLITE_ROW;
}

static bool sq_isnull(db_rows *rows, int col)
{
    return sqlite3_column_type(((sqlite_rows *)rows)->stmt, col) == SQLITE_NULL;
}
static int64_t sq_int(db_rows *rows, int col) { return sqlite3_column_int64(((sqlite_rows *)rows)->stmt, col); }
static const char *sq_text(db_rows *rows, int col)
{
    const unsigned char *t = sqlite3_column_text(((sqlite_rows *)rows)->stmt, col);
    return t ? (const char *)t : "";
}

static void sq_rows_free(db_rows *rows)
{
    sqlite_rows *r = (sqlite_rows *)rows;
    if (r->cached) sqlite3_reset(r->stmt);
    else sqlite3_finalize(r->stmt);
    free(r);
}

static db_status sq_exec_script(db_conn *conn, const char *sql)
{
    sqlite_conn *c = (sqlite_conn *)conn;
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error("sqlite script: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return map_rc(c->db, rc, "script");
    }
    return DB_OK;
}

const db_driver db_driver_sqlite = {
    .name = "sqlite",
    .dialect = DB_DIALECT_SQLITE,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .exec = sq_exec,
    .query = sq_query,
    .next = sq_next,
    .isnull = sq_isnull,
    .get_int = sq_int,
    .get_text = sq_text,
    .rows_free = sq_rows_free,
    .exec_script = sq_exec_script,
};
