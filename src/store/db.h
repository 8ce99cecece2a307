/* A dialect-neutral database connection: the one surface the store's SQL is
 * written against. SQL uses `?` placeholders and the portable subset of SQLite
 * and PostgreSQL (BIGINT/TEXT columns, ON CONFLICT, RETURNING); the PostgreSQL
 * driver rewrites `?` to `$n`. Both drivers cache prepared statements per
 * connection, keyed by the SQL text. A parameter used only in `? IS NULL` needs
 * a type for PostgreSQL: write `CAST(? AS TEXT) IS NULL`. */
#ifndef BO_DB_H
#define BO_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    DB_OK = 0,
    DB_NOTFOUND,  /* a query expected a row and found none (set by callers) */
    DB_CONFLICT,  /* unique / check constraint violated */
    DB_RETRY,     /* serialization failure, deadlock, busy: run the transaction again */
    DB_ERROR,     /* anything else; logged by the driver */
    DB_ABORT,     /* the transaction's function decided to roll back (domain failure) */
    DB_FULL,      /* the disk (or a size limit) left no room: nothing was written; retry later */
} db_status;

typedef enum { DB_DIALECT_SQLITE, DB_DIALECT_POSTGRES } db_dialect;
/* SQLite: the file of the `analytics` schema, the database's path with this
 * appended (db_sqlite.c attaches it to the connections that use it). */
#define DB_SQLITE_ANALYTICS_SUFFIX "-analytics"
/* What a connection is for. PostgreSQL: read-only or not. SQLite: which files
 * it opens too: the store's writer must not have the analytics file attached,
 * since its BEGIN IMMEDIATE would then also wait for that file's write lock,
 * held by the analytics writes (store_write_analytics). */
typedef enum {
    DB_CONN_READ,      /* read-only: the database and (SQLite) the analytics file */
    DB_CONN_WRITE,     /* the database alone */
    DB_CONN_WRITE_ALL, /* the database and the analytics file, writable: migrations, analytics writes */
} db_conn_role;

typedef enum { DBP_NULL, DBP_INT, DBP_TEXT } db_param_type;
typedef struct {
    db_param_type type;
    int64_t i;
    const char *s;
} db_param;

static inline db_param db_text_param(const char *s) { return (db_param){s ? DBP_TEXT : DBP_NULL, 0, s}; }
#define DB_INT(x) ((db_param){DBP_INT, (int64_t)(x), NULL})
#define DB_TEXT(x) db_text_param(x) /* NULL becomes SQL NULL */
#define DB_NULL ((db_param){DBP_NULL, 0, NULL})
/* DB_ARGS(DB_INT(1), DB_TEXT(s)) expands to `array, count` for db_exec/db_query. */
#define DB_ARGS(...) (const db_param[]){__VA_ARGS__}, (int)(sizeof((db_param[]){__VA_ARGS__}) / sizeof(db_param))
#define DB_NOARGS NULL, 0

typedef struct db_conn db_conn;
typedef struct db_rows db_rows;

/* Runs a statement; *changes (may be NULL) gets the number of rows affected. */
db_status db_exec(db_conn *c, const char *sql, const db_param *params, int nparams, int64_t *changes);
/* Runs a statement whose result the caller does not need before the commit.
 * PostgreSQL queues it (parameters copied) and sends it in one pipeline with
 * the next statement that needs a result, or with the COMMIT: one round trip
 * for several statements. SQLite runs it at once. Its own outcome is stored
 * in *outcome (may be NULL) when it runs; DB_CONFLICT is reported as
 * on_conflict, so a collision can still ask for the transaction to run again
 * (DB_RETRY). Statements after a failed one are not run (outcome DB_ABORT). */
db_status db_exec_deferred(db_conn *c, const char *sql, const db_param *params, int nparams, db_status on_conflict,
                           db_status *outcome);
/* Inside store_write, once the transaction has written all it will: PostgreSQL
 * sends the COMMIT in the next statement's round trip, ahead of it, so a hot
 * row locked earlier is released without waiting for one more round trip, and
 * that statement and any after it run outside the transaction, on their own,
 * seeing what it committed. Only reads may follow (and the store's commit
 * notification); a failure of the commit shows in the next statement's status
 * and in the store_write's. SQLite ignores it. */
void db_commit_early(db_conn *c);
/* Runs a query; iterate with db_next, then db_rows_free. */
db_status db_query(db_conn *c, const char *sql, const db_param *params, int nparams, db_rows **out);
bool db_next(db_rows *r);
bool db_isnull(db_rows *r, int col);
int64_t db_int(db_rows *r, int col);
/* Valid until the next db_next or db_rows_free; "" for NULL. */
const char *db_text(db_rows *r, int col);
void db_rows_free(db_rows *r);
/* Convenience: first row's first column as integer / text copy (caller frees). */
db_status db_query_int(db_conn *c, const char *sql, const db_param *p, int n, int64_t *out);
db_status db_query_text(db_conn *c, const char *sql, const db_param *p, int n, char **out);
/* "INSERT INTO t (cols) VALUES (?,..),(?,..)": head, then n rows of ncols
 * placeholders each (several rows in one statement). */
void multi_row_sql(char *out, size_t outlen, const char *head, int ncols, size_t n);
/* Runs several ;-separated statements without parameters (migrations). */
db_status db_exec_script(db_conn *c, const char *sql);
db_dialect db_conn_dialect(db_conn *c);

/* Process-wide counts of db_exec/db_query calls since start, by the SQL's first
 * keyword, for benchmarks (take two readings and subtract). Transaction control
 * is counted apart from domain statements; db_exec_script is not counted. */
typedef struct {
    uint64_t reads;   /* SELECT (and anything else that is not below) */
    uint64_t writes;  /* INSERT, UPDATE, DELETE, CREATE, ... (INSERT ... RETURNING too) */
    uint64_t control; /* BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE */
} db_stats;
void db_stats_get(db_stats *out);

/* What a driver provides; each driver fills one of these. */
typedef struct db_driver {
    const char *name;
    db_dialect dialect;
    db_conn *(*connect)(const char *target, db_conn_role role, char **err);
    void (*disconnect)(db_conn *c);
    db_status (*exec)(db_conn *c, const char *sql, const db_param *p, int n, int64_t *changes);
    db_status (*query)(db_conn *c, const char *sql, const db_param *p, int n, db_rows **out);
    bool (*next)(db_rows *r);
    bool (*isnull)(db_rows *r, int col);
    int64_t (*get_int)(db_rows *r, int col);
    const char *(*get_text)(db_rows *r, int col);
    void (*rows_free)(db_rows *r);
    db_status (*exec_script)(db_conn *c, const char *sql);
    /* NULL: db_exec_deferred runs the statement at once */
    db_status (*exec_deferred)(db_conn *c, const char *sql, const db_param *p, int n, db_status on_conflict,
                               db_status *outcome);
    void (*commit_early)(db_conn *c); /* NULL: nothing to do */
} db_driver;

/* Every connection struct starts with this header so db.c can dispatch. */
struct db_conn_header {
    const db_driver *driver;
    bool notify; /* the open transaction asked to notify on commit (store_notify_on_commit) */
    struct store_touches *touches; /* inventory the open transaction changed; store.c owns it */
    int inventory_shards; /* sub-rows a new pool occurrence is spread over (PostgreSQL; SQLite 1) */
};
struct db_rows_header {
    const db_driver *driver;
};

extern const db_driver db_driver_sqlite;
extern const db_driver db_driver_postgres;
#endif
