/* Browser analytics of the Convious pricing API: raw events, daily counters
 * and their rate-limit windows; the SQL of core/inventory_refs.h. The steps
 * taking a db_conn run inside a transaction of store_write_analytics: on
 * SQLite these tables are a file of their own that no other write touches.
 * The event and counter writes are deferred (db_exec_deferred): PostgreSQL
 * sends a batch's writes in one pipeline with the rate-limit statement that
 * ends it, so the hot rows (counters, rate windows) are locked for the
 * commit alone. */
#ifndef BO_STORE_ANALYTICS_H
#define BO_STORE_ANALYTICS_H
#include "store/store.h"

typedef struct {
    const char *account_id, *kind, *cookie_id;
    int64_t event_time, received_at;
    const char *ip_prefix;    /* "" when unknown */
    const char *product_kind; /* "reference", "product" or "" */
    const char *product_key;  /* "" when none */
    const char *order_id;     /* NULL when none */
    const char *detail;
} store_analytics_event;

/* Inserts n events into the analytics_events table, several rows per
 * statement: where no log is set (store_analytics_log). */
store_status store_analytics_events_add(db_conn *c, const store_analytics_event *events, size_t n);
/* Adds n to shard `shard` of the counter of (account, day, kind, product_key);
 * the counter is the sum of its shards. */
store_status store_analytics_count(db_conn *c, const char *account_id, int32_t day, const char *kind,
                                   const char *product_key, int64_t shard, int64_t n);
/* The counter of (account, day, kind, product_key): the sum of its shards. */
store_status store_analytics_daily_count(store *s, const char *account_id, int32_t day, const char *kind,
                                         const char *product_key, int64_t *count);
/* Adds n to key's count in the window (an analytics_rates row) and returns the new count. */
store_status store_analytics_rate_add(db_conn *c, const char *key, int64_t window_start, int64_t n, int64_t *count);
/* A network's count is spread over STORE_RATE_SHARDS rows, key#0..key#7
 * (a flush adds to one), so flushes of several processes rarely lock the same. */
#define STORE_RATE_SHARDS 8
/* The counts of the n keys in the window as committed (0 for a key without
 * a row), read in one read transaction: the queued ingest (core/analytics.c)
 * checks its limits with a read and adds its counts at flush time. A key
 * ending in '#' is a spread count: the sum of its STORE_RATE_SHARDS rows
 * key#0..key#7. */
store_status store_analytics_rate_read(store *s, const char *const *keys, size_t n, int64_t window_start,
                                       int64_t *counts);
/* Deletes at most `limit` raw events received before before_us (the oldest
 * first; *deleted says how many), counters of days before before_day, and
 * analytics rate windows that started before window_before, in one
 * transaction: a caller deletes a backlog in bounded steps. */
store_status store_analytics_prune(store *s, int64_t before_us, int32_t before_day, int64_t window_before, int limit,
                                   int *deleted);
/* The raw events' log (store/analytics_log.c): a directory of one gzip'd
 * JSON-lines file per UTC day of receipt, DIR/YYYY-MM-DD.ndjson.gz, in place
 * of the analytics_events table. Open makes the directory (one level) if it
 * is missing and sets it as the store's log; *err says why not. */
store_status store_analytics_log_open(store *s, const char *dir, char **err);
/* Takes n events, after the transaction that counted them committed. They
 * are compressed at once and appended to the day's file together with what
 * came in the next few seconds (ANALYTICS_LOG_APPEND_EVERY_US), never
 * fsynced: a crash may lose those seconds of raw events (the counters are
 * the database's). */
store_status store_analytics_log_append(store *s, const store_analytics_event *events, size_t n);
/* Appends what is held now (force), or if held long enough. */
store_status store_analytics_log_write(store *s, bool force);
/* Writes what is held and frees the log; NULL is fine. */
void store_analytics_log_close(analytics_log *log);
/* Removes the log's files of days before before_day; *removed counts them. */
store_status store_analytics_log_prune(store *s, int32_t before_day, int *removed);
#endif
