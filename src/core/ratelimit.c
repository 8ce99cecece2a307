/* Request rate limits: a counter per key and fixed hourly window, kept in the
 * database so that every server process sharing it counts the same requests. */
#include "core/internal.h"
#include <stdio.h>

typedef struct {
    const char *key;
    int64_t window;
    int64_t count;
} hit_ctx;

static db_status hit(db_conn *c, void *arg)
{
    hit_ctx *h = arg;
    db_status st = db_query_int(c,
                                "INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)"
                                " ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1"
                                " RETURNING count",
                                DB_ARGS(DB_TEXT(h->key), DB_INT(h->window)), &h->count);
    /* old windows are dead weight: drop this key's, now and then */
    if (st == DB_OK && h->count == 1)
        st = db_exec(c, "DELETE FROM rate_limits WHERE key = ? AND window_start < ?",
                     DB_ARGS(DB_TEXT(h->key), DB_INT(h->window)), NULL);
    return st;
}

bo_status ratelimit_hit(engine *e, const char *key, long limit, long *remaining, long *reset_seconds)
{
    int64_t now = clock_now() / US_PER_SEC;
    hit_ctx h = {key, now - now % 3600, 0};
    db_status st = store_write(e->st, hit, &h);
    *reset_seconds = (long)(h.window + 3600 - now);
    if (st != DB_OK) {
        *remaining = limit; /* fail open: a storage hiccup must not lock clients out */
        return BO_INTERNAL;
    }
    *remaining = limit - (long)h.count;
    return *remaining < 0 ? BO_RATE_LIMITED : BO_OK;
}
