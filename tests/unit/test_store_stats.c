/* The store's statement and transaction counters (db_stats_get,
 * store_stats_get) on the database named by BOXOFFICE_TEST_DB (default: a
 * fresh SQLite file). Counts only, never timings. */
#include "fixture.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static db_status write_fn(db_conn *c, void *ctx)
{
    int64_t n;
    db_status st = db_exec(c, "UPDATE schema_migrations SET name = name WHERE version = -1", DB_NOARGS, NULL);
    return st == DB_OK ? db_query_int(c, "SELECT COUNT(*) FROM schema_migrations", DB_NOARGS, &n) : st;
}

static db_status read_fn(db_conn *c, void *ctx)
{
    int64_t n;
    return db_query_int(c, "SELECT COUNT(*) FROM schema_migrations", DB_NOARGS, &n);
}

int main(void)
{
    char path[128];
    const char *uri = test_db_uri("stats", path);
    store *st = test_store_open(uri);
    if (!st) return check_summary();
    db_stats d0, d1;
    store_stats t0, t1;
    db_stats_get(&d0);
    store_stats_get(st, &t0);
    CHECK(store_write(st, write_fn, NULL) == DB_OK, "write transaction runs");
    CHECK(store_read(st, read_fn, NULL) == DB_OK, "read transaction runs");
    db_stats_get(&d1);
    store_stats_get(st, &t1);
    CHECK(d1.writes - d0.writes == 1, "one UPDATE counted as a write");
    CHECK(d1.reads - d0.reads == 2, "two SELECTs counted as reads");
    CHECK(d1.control - d0.control >= 4, "BEGIN/COMMIT (and SAVEPOINT/RELEASE) counted apart");
    CHECK(t1.writes - t0.writes == 1 && t1.reads - t0.reads == 1, "one store_write and one store_read counted");
    return test_finish(NULL, st, uri, path);
}
