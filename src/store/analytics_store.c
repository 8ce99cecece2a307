/* Browser analytics: the SQL of store/analytics_store.h. */
#include "store/analytics_store.h"
#include "store/db.h"

store_status store_analytics_event_add(db_conn *c, const store_analytics_event *ev)
{
    return store_status_of(db_exec(
        c,
        "INSERT INTO analytics_events (account_id, kind, cookie_id, event_time, received_at, ip_prefix, product_kind,"
        " product_key, order_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        DB_ARGS(DB_TEXT(ev->account_id), DB_TEXT(ev->kind), DB_TEXT(ev->cookie_id), DB_INT(ev->event_time),
                DB_INT(ev->received_at), DB_TEXT(ev->ip_prefix), DB_TEXT(ev->product_kind), DB_TEXT(ev->product_key),
                DB_TEXT(ev->order_id), DB_TEXT(ev->detail)),
        NULL));
}

store_status store_analytics_count(db_conn *c, const char *account_id, int32_t day, const char *kind,
                                   const char *product_key, int64_t n)
{
    return store_status_of(db_exec(c,
                                   "INSERT INTO analytics_daily (account_id, day, kind, product_key, count)"
                                   " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, day, kind, product_key)"
                                   " DO UPDATE SET count = analytics_daily.count + excluded.count",
                                   DB_ARGS(DB_TEXT(account_id), DB_INT(day), DB_TEXT(kind), DB_TEXT(product_key),
                                           DB_INT(n)),
                                   NULL));
}

store_status store_analytics_rate_add(db_conn *c, const char *key, int64_t window_start, int64_t n, int64_t *count)
{
    return store_status_of(db_query_int(c,
                                        "INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, ?)"
                                        " ON CONFLICT (key, window_start) DO UPDATE"
                                        " SET count = rate_limits.count + excluded.count RETURNING count",
                                        DB_ARGS(DB_TEXT(key), DB_INT(window_start), DB_INT(n)), count));
}

typedef struct {
    int64_t before_us;
    int32_t before_day;
    int64_t window_before;
    int64_t deleted;
} prune;

static db_status prune_fn(db_conn *c, void *arg)
{
    prune *p = arg;
    db_status st = db_exec(c, "DELETE FROM analytics_events WHERE received_at < ?", DB_ARGS(DB_INT(p->before_us)),
                           &p->deleted);
    if (st == DB_OK)
        st = db_exec(c, "DELETE FROM analytics_daily WHERE day < ?", DB_ARGS(DB_INT(p->before_day)), NULL);
    if (st == DB_OK)
        st = db_exec(c, "DELETE FROM rate_limits WHERE key LIKE 'cpa:%' AND window_start < ?",
                     DB_ARGS(DB_INT(p->window_before)), NULL);
    return st;
}

store_status store_analytics_prune(store *s, int64_t before_us, int32_t before_day, int64_t window_before,
                                   int *deleted)
{
    prune p = {before_us, before_day, window_before, 0};
    db_status st = store_write(s, prune_fn, &p);
    if (deleted) *deleted = st == DB_OK ? (int)p.deleted : 0;
    return store_status_of(st);
}
