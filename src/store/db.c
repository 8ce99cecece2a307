#include "store/db.h"
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DRV(c) (((struct db_conn_header *)(c))->driver)
#define RDRV(r) (((struct db_rows_header *)(r))->driver)

/* Statement counters (db_stats_get). Process-wide globals rather than per
 * connection or per store: a benchmark wants the total across the writer, the
 * readers and every store, and a relaxed atomic add costs a few nanoseconds
 * against a statement's microseconds, so it needs no lock and no opt-in. The
 * counts are statistics only: nothing reads them to decide anything. */
static atomic_uint_fast64_t stat_reads, stat_writes, stat_control;

static void count_statement(const char *sql)
{
    while (isspace((unsigned char)*sql)) sql++;
    static const char *const control[] = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END"};
    static const char *const writes[] = {"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"};
    atomic_uint_fast64_t *counter = &stat_reads;
    for (size_t i = 0; i < sizeof control / sizeof *control; i++)
        if (!strncasecmp(sql, control[i], strlen(control[i]))) counter = &stat_control;
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++)
        if (!strncasecmp(sql, writes[i], strlen(writes[i]))) counter = &stat_writes;
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

void db_stats_get(db_stats *out)
{
    out->reads = atomic_load_explicit(&stat_reads, memory_order_relaxed);
    out->writes = atomic_load_explicit(&stat_writes, memory_order_relaxed);
    out->control = atomic_load_explicit(&stat_control, memory_order_relaxed);
}

db_status db_exec(db_conn *c, const char *sql, const db_param *p, int n, int64_t *changes)
{
    count_statement(sql);
    return DRV(c)->exec(c, sql, p, n, changes);
}
db_status db_query(db_conn *c, const char *sql, const db_param *p, int n, db_rows **out)
{
    count_statement(sql);
    return DRV(c)->query(c, sql, p, n, out);
}
db_status db_exec_deferred(db_conn *c, const char *sql, const db_param *p, int n, db_status on_conflict,
                           db_status *outcome)
{
    count_statement(sql);
    if (DRV(c)->exec_deferred) return DRV(c)->exec_deferred(c, sql, p, n, on_conflict, outcome);
    db_status st = DRV(c)->exec(c, sql, p, n, NULL);
    if (st == DB_CONFLICT) st = on_conflict;
    if (outcome) *outcome = st;
    return st;
}
void db_commit_early(db_conn *c)
{
    if (DRV(c)->commit_early) DRV(c)->commit_early(c);
}
bool db_next(db_rows *r) { return RDRV(r)->next(r); }
bool db_isnull(db_rows *r, int col) { return RDRV(r)->isnull(r, col); }
int64_t db_int(db_rows *r, int col) { return RDRV(r)->get_int(r, col); }
const char *db_text(db_rows *r, int col) { return RDRV(r)->get_text(r, col); }
void db_rows_free(db_rows *r)
{
    if (r) RDRV(r)->rows_free(r);
}
db_status db_exec_script(db_conn *c, const char *sql) { return DRV(c)->exec_script(c, sql); }
db_dialect db_conn_dialect(db_conn *c) { return DRV(c)->dialect; }

db_status db_query_int(db_conn *c, const char *sql, const db_param *p, int n, int64_t *out)
{
    db_rows *r;
    db_status st = db_query(c, sql, p, n, &r);
    if (st != DB_OK) return st;
    if (db_next(r) && !db_isnull(r, 0)) *out = db_int(r, 0);
    else st = DB_NOTFOUND;
    db_rows_free(r);
    return st;
}

db_status db_query_text(db_conn *c, const char *sql, const db_param *p, int n, char **out)
{
    db_rows *r;
    db_status st = db_query(c, sql, p, n, &r);
    if (st != DB_OK) return st;
    if (db_next(r) && !db_isnull(r, 0)) *out = strdup(db_text(r, 0));
    else st = DB_NOTFOUND;
    db_rows_free(r);
    return st;
}

/* "INSERT INTO t (cols) VALUES (?,..),(?,..)" for n rows of ncols each. */
void multi_row_sql(char *out, size_t outlen, const char *head, int ncols, size_t n)
{
    size_t len = (size_t)snprintf(out, outlen, "%s", head);
    for (size_t r = 0; r < n && len < outlen; r++) {
        len += (size_t)snprintf(out + len, outlen - len, r ? ",(" : "(");
        for (int k = 0; k < ncols && len < outlen; k++) len += (size_t)snprintf(out + len, outlen - len, k ? ",?" : "?");
        if (len < outlen) len += (size_t)snprintf(out + len, outlen - len, ")");
    }
}

