/* The store's liveness probe (see store.h). */
#include "store/store.h"

static db_status ping(db_conn *c, void *ctx)
{
    int64_t one = 0;
    db_status st = db_query_int(c, "SELECT 1", DB_NOARGS, &one);
    return st == DB_OK && one != 1 ? DB_ERROR : st;
}

store_status store_ping(store *s) { return store_read(s, ping, NULL) == DB_OK ? STORE_OK : STORE_ERROR; }
