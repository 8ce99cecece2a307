/* The store's liveness and readiness probes (see store.h). */
#include "store/store.h"
#include <pthread.h>
#include <stdio.h>
#include <time.h>

/* A write refused for lack of room keeps the store unready this long, even
 * if the probe's one small row still fits where a booking did not. */
#define FULL_WINDOW_US (5 * 1000000LL)
#define PROBE_REUSE_US 1000000LL

static db_status ping(db_conn *c, void *ctx)
{
    int64_t one = 0;
    db_status st = db_query_int(c, "SELECT 1", DB_NOARGS, &one);
    return st == DB_OK && one != 1 ? DB_ERROR : st;
}

store_status store_ping(store *s) { return store_read(s, ping, NULL) == DB_OK ? STORE_OK : STORE_ERROR; }

static db_status cap_pages(db_conn *c, void *max_pages)
{
    /* runs on the writer, the only connection that grows the database */
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)*(int64_t *)max_pages);
    return db_exec(c, sql, DB_NOARGS, NULL);
}

store_status store_cap_pages(store *s, int64_t max_pages)
{
    if (store_dialect(s) != DB_DIALECT_SQLITE) return STORE_ERROR;
    return store_status_of(store_write(s, cap_pages, &max_pages));
}

static db_status touch_health_row(db_conn *c, void *now)
{
    int64_t changed = 0;
    db_status st = db_exec(c, "UPDATE health_probe SET probed_at = ? WHERE id = 1", DB_ARGS(DB_INT(*(int64_t *)now)),
                           &changed);
    return st == DB_OK && changed != 1 ? DB_ERROR : st;
}

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The last probe's answer, shared by every request thread so that however
 * many balancers ask, the database sees at most one probe write a second.
 * Keyed by store: a process with a second store never reads the first's. */
static struct {
    pthread_mutex_t lock;
    store *s;
    int64_t at;
    store_status answer;
} last_probe = {.lock = PTHREAD_MUTEX_INITIALIZER};

store_status store_writable(store *s)
{
    if (store_full_within(s, FULL_WINDOW_US)) return STORE_FULL;
    pthread_mutex_lock(&last_probe.lock);
    int64_t now = monotonic_us();
    if (last_probe.s != s || now - last_probe.at >= PROBE_REUSE_US) {
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        int64_t wall_us = (int64_t)wall.tv_sec * 1000000 + wall.tv_nsec / 1000;
        store_status st = store_status_of(store_write(s, touch_health_row, &wall_us));
        last_probe.s = s;
        last_probe.at = monotonic_us();
        last_probe.answer = st == STORE_OK || st == STORE_FULL ? st : STORE_ERROR;
    }
    store_status answer = last_probe.answer;
    pthread_mutex_unlock(&last_probe.lock);
    return answer;
}
