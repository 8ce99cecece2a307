#include "store/db.h"
#include <stdlib.h>
#include <string.h>

#define DRV(c) (((struct db_conn_header *)(c))->driver)
#define RDRV(r) (((struct db_rows_header *)(r))->driver)

db_status db_exec(db_conn *c, const char *sql, const db_param *p, int n, int64_t *changes)
{
    return DRV(c)->exec(c, sql, p, n, changes);
}
db_status db_query(db_conn *c, const char *sql, const db_param *p, int n, db_rows **out)
{
    return DRV(c)->query(c, sql, p, n, out);
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
