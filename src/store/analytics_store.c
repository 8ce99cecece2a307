/* Browser analytics: the SQL of store/analytics_store.h. */
#include "store/analytics_store.h"
#include "store/db.h"
#include <stdio.h>
#include <string.h>

#define EVENT_COLS 10
#define EVENTS_PER_INSERT 25 /* a browser's batch of 50 is two statements */

store_status store_analytics_events_add(db_conn *c, const store_analytics_event *events, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t k = n - done < EVENTS_PER_INSERT ? n - done : EVENTS_PER_INSERT;
        char sql[2048];
        multi_row_sql(sql, sizeof sql,
                      "INSERT INTO analytics_events (account_id, kind, cookie_id, event_time, received_at, ip_prefix,"
                      " product_kind, product_key, order_id, detail) VALUES ",
                      EVENT_COLS, k);
        db_param p[EVENT_COLS * EVENTS_PER_INSERT];
        for (size_t i = 0; i < k; i++) {
            const store_analytics_event *ev = &events[done + i];
            db_param *q = &p[EVENT_COLS * i];
            q[0] = DB_TEXT(ev->account_id), q[1] = DB_TEXT(ev->kind), q[2] = DB_TEXT(ev->cookie_id);
            q[3] = DB_INT(ev->event_time), q[4] = DB_INT(ev->received_at), q[5] = DB_TEXT(ev->ip_prefix);
            q[6] = DB_TEXT(ev->product_kind), q[7] = DB_TEXT(ev->product_key), q[8] = DB_TEXT(ev->order_id);
            q[9] = DB_TEXT(ev->detail);
        }
        db_status st = db_exec_deferred(c, sql, p, (int)(EVENT_COLS * k), DB_CONFLICT, NULL);
        if (st != DB_OK) return store_status_of(st);
        done += k;
    }
    return STORE_OK;
}

store_status store_analytics_count(db_conn *c, const char *account_id, int32_t day, const char *kind,
                                   const char *product_key, int64_t shard, int64_t n)
{
    return store_status_of(db_exec_deferred(
        c,
        "INSERT INTO analytics_daily (account_id, day, kind, product_key, shard, count) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (account_id, day, kind, product_key, shard) DO UPDATE"
        " SET count = analytics_daily.count + excluded.count",
        DB_ARGS(DB_TEXT(account_id), DB_INT(day), DB_TEXT(kind), DB_TEXT(product_key), DB_INT(shard), DB_INT(n)),
        DB_RETRY, NULL));
}

typedef struct {
    const char *account_id, *kind, *product_key;
    int32_t day;
    int64_t *count;
} daily_read;

static db_status daily_read_fn(db_conn *c, void *arg)
{
    daily_read *x = arg;
    return db_query_int(c,
                        "SELECT COALESCE(SUM(count), 0) FROM analytics_daily WHERE account_id = ? AND day = ?"
                        " AND kind = ? AND product_key = ?",
                        DB_ARGS(DB_TEXT(x->account_id), DB_INT(x->day), DB_TEXT(x->kind), DB_TEXT(x->product_key)),
                        x->count);
}

store_status store_analytics_daily_count(store *s, const char *account_id, int32_t day, const char *kind,
                                         const char *product_key, int64_t *count)
{
    *count = 0;
    daily_read x = {account_id, kind, product_key, day, count};
    return store_status_of(store_read(s, daily_read_fn, &x));
}

store_status store_analytics_rate_add(db_conn *c, const char *key, int64_t window_start, int64_t n, int64_t *count)
{
    return store_status_of(db_query_int(c,
                                        "INSERT INTO analytics_rates (key, window_start, count) VALUES (?, ?, ?)"
                                        " ON CONFLICT (key, window_start) DO UPDATE"
                                        " SET count = analytics_rates.count + excluded.count RETURNING count",
                                        DB_ARGS(DB_TEXT(key), DB_INT(window_start), DB_INT(n)), count));
}

typedef struct {
    const char *const *keys;
    size_t n;
    int64_t window_start;
    int64_t *counts;
} rate_read;

static db_status rate_read_fn(db_conn *c, void *arg)
{
    rate_read *x = arg;
    db_status st = DB_OK;
    for (size_t i = 0; i < x->n && st == DB_OK; i++) {
        const char *key = x->keys[i];
        size_t len = strlen(key);
        x->counts[i] = 0;
        if (len && key[len - 1] == '#') {
            char shard[STORE_RATE_SHARDS][800];
            for (size_t k = 0; k < STORE_RATE_SHARDS; k++) snprintf(shard[k], sizeof shard[k], "%s%zu", key, k);
            st = db_query_int(c,
                              "SELECT COALESCE(SUM(count), 0) FROM analytics_rates WHERE window_start = ?"
                              " AND key IN (?, ?, ?, ?, ?, ?, ?, ?)",
                              DB_ARGS(DB_INT(x->window_start), DB_TEXT(shard[0]), DB_TEXT(shard[1]),
                                      DB_TEXT(shard[2]), DB_TEXT(shard[3]), DB_TEXT(shard[4]), DB_TEXT(shard[5]),
                                      DB_TEXT(shard[6]), DB_TEXT(shard[7])),
                              &x->counts[i]);
        } else {
            st = db_query_int(c, "SELECT COALESCE(SUM(count), 0) FROM analytics_rates WHERE key = ? AND window_start = ?",
                              DB_ARGS(DB_TEXT(key), DB_INT(x->window_start)), &x->counts[i]);
        }
    }
    return st;
}

store_status store_analytics_rate_read(store *s, const char *const *keys, size_t n, int64_t window_start,
                                       int64_t *counts)
{
    rate_read x = {keys, n, window_start, counts};
    return store_status_of(store_read(s, rate_read_fn, &x));
}

typedef struct {
    int64_t before_us;
    int32_t before_day;
    int64_t window_before;
    int limit;
    int64_t deleted;
} prune;

static db_status prune_fn(db_conn *c, void *arg)
{
    prune *p = arg;
    db_status st = db_exec(c,
                           "DELETE FROM analytics_events WHERE id IN (SELECT id FROM analytics_events"
                           " WHERE received_at < ? ORDER BY received_at LIMIT ?)",
                           DB_ARGS(DB_INT(p->before_us), DB_INT(p->limit)), &p->deleted);
    if (st == DB_OK)
        st = db_exec(c, "DELETE FROM analytics_daily WHERE day < ?", DB_ARGS(DB_INT(p->before_day)), NULL);
    if (st == DB_OK)
        st = db_exec(c, "DELETE FROM analytics_rates WHERE window_start < ?",
                     DB_ARGS(DB_INT(p->window_before)), NULL);
    return st;
}

static db_status prune_check_fn(db_conn *c, void *arg)
{
    prune *p = arg;
    return db_query_int(c,
                        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM analytics_events WHERE received_at < ? LIMIT 1) e)"
                        " + (SELECT COUNT(*) FROM (SELECT 1 FROM analytics_daily WHERE day < ? LIMIT 1) d)"
                        " + (SELECT COUNT(*) FROM (SELECT 1 FROM analytics_rates WHERE window_start < ? LIMIT 1) r)",
                        DB_ARGS(DB_INT(p->before_us), DB_INT(p->before_day), DB_INT(p->window_before)), &p->deleted);
}

store_status store_analytics_prune(store *s, int64_t before_us, int32_t before_day, int64_t window_before, int limit,
                                   int *deleted)
{
    prune p = {before_us, before_day, window_before, limit, 0};
    if (deleted) *deleted = 0;
    /* read first: an idle server writes nothing */
    store_status check = store_status_of(store_read(s, prune_check_fn, &p));
    if (check != STORE_OK || p.deleted == 0) return check;
    p.deleted = 0;
    db_status st = store_write_analytics(s, prune_fn, &p);
    if (deleted) *deleted = st == DB_OK ? (int)p.deleted : 0;
    return store_status_of(st);
}
