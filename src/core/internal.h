/* Shared between the engine's modules; not for the dialects. */
#ifndef BO_CORE_INTERNAL_H
#define BO_CORE_INTERNAL_H
#include "core/engine.h"
#include <pthread.h>
#include <stdatomic.h>

/* An immutable copy of one account's catalog at one version; shared by
 * requests through a reference count, never modified once built. */
typedef struct catalog_snapshot {
    atomic_int refs;
    int64_t version;
    _Atomic int64_t checked_ms; /* when the version was last confirmed current */
    char account_id[40];
    json_t *objects[CAT__COUNT]; /* id -> doc, per kind */
} catalog_snapshot;

struct engine {
    store *st;
    engine_config cfg;
    pthread_mutex_t cache_lock; /* guards snapshots */
    catalog_snapshot **snapshots;
    size_t nsnapshots;
    pthread_t reaper;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
    bool reaper_running;
    /* webhook delivery (core/webhooks.c) */
    pthread_t webhook_thread;
    bool webhook_running;
    int webhook_wake[2]; /* self-pipe: a byte means "look again" (a commit recorded deliveries, or stop) */
    void *webhook_formatter; /* webhook_formatter; set before serving */
};

/* Current snapshot for the account (loads if stale); release with catalog_release.
 * The version is re-read from the database at most every CATALOG_RECHECK_MS, so
 * a catalog change made by another server process shows within that time;
 * this process's own changes show at once. */
#define CATALOG_RECHECK_MS 100
catalog_snapshot *catalog_acquire(engine *e, const account *a);
void catalog_release(catalog_snapshot *s);
/* Borrowed doc from a snapshot, NULL if absent. */
json_t *snapshot_find(const catalog_snapshot *s, catalog_kind k, const char *id);
/* Bumps the account's catalog version inside a write transaction. */
db_status catalog_touch(db_conn *c, const char *account_id);

/* Small JSON accessors over canonical docs. */
const char *jstr(const json_t *o, const char *key);           /* NULL if absent / not string */
int64_t jint(const json_t *o, const char *key, int64_t dflt);  /* dflt if absent / not integer */
bool jbool(const json_t *o, const char *key, bool dflt);

/* Inventory operations inside a write transaction. */
typedef struct {
    char pool_id[40];
    char occurrence[64];
    int64_t amount;
    int64_t capacity; /* -1: unknown here (a recorded hold); the row's own capacity applies */
} pool_need;
/* Collects the pool needs of lines at occurrence (merged per pool). Returns
 * count or -1 with err set (unknown product etc). *out malloc'd. */
int pool_needs_for(const catalog_snapshot *cs, const char *occurrence_key, const cart_line *lines, size_t n,
                   pool_need **out, bo_error *err);
/* Takes amount from each pool (conditional update); DB_ABORT when any pool lacks room. */
db_status inventory_take(db_conn *c, const char *account_id, const pool_need *needs, size_t n);
db_status inventory_give_back(db_conn *c, const pool_need *needs, size_t n);
/* Remaining per pool (missing row = capacity). */
db_status inventory_remaining(db_conn *c, const char *pool_id, const char *occurrence, int64_t capacity,
                              int64_t *remaining);

/* Whether any active webhook subscription of the account exists: callers skip
 * building event payloads when none does (the common case, and the hot path).
 * Answered from a per-account cache confirmed at most every
 * CATALOG_RECHECK_MS, so usually without a query (core/events.c). */
db_status events_wanted(db_conn *c, const char *account_id, bool *any);
/* Bumps the account's webhook subscription version inside the transaction
 * that changes a subscription; *version gets the new value. */
db_status events_subscriptions_touch(db_conn *c, const char *account_id, int64_t *version);
/* After that transaction committed: this process's events_wanted stops
 * trusting any answer older than version. */
void events_subscriptions_changed(const char *account_id, int64_t version);
/* Outbox: records a change event, with the canonical object as it is now, in
 * the current transaction, so a crash can neither lose nor invent one
 * (core/events.c). payload is borrowed; NULL records {"id": object_id}. */
db_status events_record(db_conn *c, const char *account_id, change_event ev, const char *object_id,
                        json_t *payload);

/* Canonical order / ticket JSON read through an open connection (core/orders.c). */
db_status order_load_json(db_conn *c, const char *account_id, const char *timezone, const char *order_id,
                          json_t **out);
db_status ticket_load_json(db_conn *c, const char *account_id, const char *ticket_id, json_t **out);
/* Records ORDER.UPDATED (+ TICKET.UPDATED for each ticket id given) after a change. */
db_status order_touch(db_conn *c, const account *a, const char *order_id, instant_us now);

/* Next value of a per-account counter inside a write transaction. */
db_status counter_next(db_conn *c, const char *account_id, const char *name, int64_t *out);

bo_status bo_from_db(db_status st, bo_error *err);

/* Background workers sleep here: false once the engine is stopping. */
bool engine_wait(engine *e, unsigned ms);

/* Reads an account by id through an open connection (core/accounts.c). */
db_status account_load(db_conn *c, const char *id, account *out);

/* Occurrence key from day + time (see engine.h). */
void occurrence_key(civil_date day, int32_t time_from, char out[64]);
#endif
