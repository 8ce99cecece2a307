/* The outbox. A change event and one delivery row per interested webhook
 * subscription are inserted in the transaction that made the change; the
 * delivery worker (src/core/webhooks.c) sends them later, at least once. */
#include "core/internal.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *event_names[] = {"ORDER.CREATED",          "ORDER.UPDATED",   "ISSUED_TICKET.CREATED",
                                    "ISSUED_TICKET.UPDATED",  "EVENT.CREATED",   "EVENT.UPDATED",
                                    "EVENT.DELETED"};

const char *change_event_name(change_event ev) { return event_names[ev]; }

static const char *resource_of(change_event ev)
{
    switch (ev) {
    case EV_ORDER_CREATED:
    case EV_ORDER_UPDATED: return "order";
    case EV_TICKET_CREATED:
    case EV_TICKET_UPDATED: return "issued_ticket";
    default: return "event";
    }
}

/* ---- whether anyone listens, cached ----
 * Every booking asks, inside its write transaction, and the answer changes
 * only with the account's subscriptions; so the answer is cached per account
 * with the account's webhook_versions.version it was read at, and that version
 * is re-read at most every EVENTS_RECHECK_MS: another process's new
 * subscription is seen within that time, this process's at once (through
 * events_subscriptions_changed).
 * The cache is process-wide rather than per engine because events_wanted
 * sees only a db_conn (its callers are many and keep that signature); it is
 * keyed by account id, and ids are random, so two databases served by one
 * process cannot mix. Guarded by wanted.lock. */
#define EVENTS_RECHECK_MS CATALOG_RECHECK_MS

typedef struct {
    char account_id[40];
    int64_t version;    /* the version `any` was read at; -1 before the first read */
    int64_t floor;      /* a committed version this process made; any older answer is stale */
    bool any;
    int64_t checked_ms; /* when `version` was last confirmed current; 0: confirm before use */
} wanted_entry;

static struct {
    pthread_mutex_t lock;
    wanted_entry *entries;
    size_t n;
} wanted = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The account's entry, created when absent; the caller holds wanted.lock. */
static wanted_entry *wanted_entry_of(const char *account_id)
{
    for (size_t i = 0; i < wanted.n; i++)
        if (!strcmp(wanted.entries[i].account_id, account_id)) return &wanted.entries[i];
    wanted.entries = realloc(wanted.entries, (wanted.n + 1) * sizeof *wanted.entries);
    wanted_entry *w = &wanted.entries[wanted.n++];
    *w = (wanted_entry){.version = -1};
    snprintf(w->account_id, sizeof w->account_id, "%s", account_id);
    return w;
}

/* The cached answer, if it may be used: confirmed within EVENTS_RECHECK_MS
 * (version NULL), or read at *version, which the caller just read (and which
 * then counts as a confirmation). */
static bool wanted_cached(const char *account_id, int64_t now_ms, const int64_t *version, bool *any)
{
    pthread_mutex_lock(&wanted.lock);
    wanted_entry *w = wanted_entry_of(account_id);
    bool usable = w->version >= 0 && w->version >= w->floor &&
                  (version ? w->version == *version : now_ms - w->checked_ms < EVENTS_RECHECK_MS);
    if (usable && version) w->checked_ms = now_ms;
    if (usable) *any = w->any;
    pthread_mutex_unlock(&wanted.lock);
    return usable;
}

static void wanted_remember(const char *account_id, int64_t version, bool any, int64_t now_ms)
{
    pthread_mutex_lock(&wanted.lock);
    wanted_entry *w = wanted_entry_of(account_id);
    /* an answer older than what is cached, or than a change this process
     * committed meanwhile, must not be cached as current */
    if (version >= w->version && version >= w->floor) {
        w->version = version;
        w->any = any;
        w->checked_ms = now_ms;
    }
    pthread_mutex_unlock(&wanted.lock);
}

void events_subscriptions_changed(const char *account_id, int64_t version)
{
    pthread_mutex_lock(&wanted.lock);
    wanted_entry *w = wanted_entry_of(account_id);
    if (version > w->floor) w->floor = version;
    w->checked_ms = 0;
    pthread_mutex_unlock(&wanted.lock);
}

db_status events_subscriptions_touch(db_conn *c, const char *account_id, int64_t *version)
{
    return db_query_int(c,
                        "INSERT INTO webhook_versions (account_id, version) VALUES (?, 1) ON CONFLICT (account_id)"
                        " DO UPDATE SET version = webhook_versions.version + 1 RETURNING version",
                        DB_ARGS(DB_TEXT(account_id)), version);
}

db_status events_wanted(db_conn *c, const char *account_id, bool *any)
{
    int64_t now = monotonic_ms();
    if (wanted_cached(account_id, now, NULL, any)) return DB_OK;
    int64_t version = 0;
    db_status st = db_query_int(c, "SELECT version FROM webhook_versions WHERE account_id = ?",
                                DB_ARGS(DB_TEXT(account_id)), &version);
    if (st != DB_OK && st != DB_NOTFOUND) return st;
    if (wanted_cached(account_id, now, &version, any)) return DB_OK;
    /* one statement, so the count belongs to the version on PostgreSQL too */
    db_rows *r;
    st = db_query(c,
                  "SELECT COALESCE((SELECT version FROM webhook_versions WHERE account_id = ?), 0),"
                  " (SELECT COUNT(*) FROM webhook_subscriptions WHERE account_id = ? AND active = 1)",
                  DB_ARGS(DB_TEXT(account_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    if (db_next(r)) {
        version = db_int(r, 0);
        *any = db_int(r, 1) > 0;
    } else {
        st = DB_ERROR;
    }
    db_rows_free(r);
    if (st == DB_OK) wanted_remember(account_id, version, *any, now);
    return st;
}

db_status events_record(db_conn *c, const char *account_id, change_event ev, const char *object_id, json_t *payload)
{
    /* Only accounts with subscriptions pay for the outbox row. */
    db_rows *r;
    db_status st = db_query(c, "SELECT id, events FROM webhook_subscriptions WHERE account_id = ? AND active = 1",
                            DB_ARGS(DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    char (*subs)[40] = NULL;
    size_t n = 0;
    const char *name = event_names[ev];
    while (db_next(r)) {
        const char *events = db_text(r, 1);
        bool wants = !strcmp(events, "*");
        /* events is a comma-separated list of names */
        for (const char *p = events; !wants && p && *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            wants = len == strlen(name) && !strncmp(p, name, len);
            p = comma ? comma + 1 : NULL;
        }
        if (wants) {
            subs = realloc(subs, (n + 1) * sizeof *subs);
            snprintf(subs[n++], 40, "%s", db_text(r, 0));
        }
    }
    db_rows_free(r);
    if (n == 0) return DB_OK;
    char id[48];
    rand_token("wh_", 12, id, sizeof id);
    json_t *body = json_pack("{s:s,s:s,s:s,s:O}", "resource", resource_of(ev), "object_id", object_id, "account_id",
                             account_id, "object", payload ? payload : json_null());
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    instant_us now = clock_now();
    char resource_url[160];
    snprintf(resource_url, sizeof resource_url, "%s/%s", resource_of(ev), object_id);
    st = db_exec(c,
                 "INSERT INTO webhook_events (id, account_id, event, resource_url, payload, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)",
                 DB_ARGS(DB_TEXT(id), DB_TEXT(account_id), DB_TEXT(name), DB_TEXT(resource_url), DB_TEXT(text),
                         DB_INT(now)),
                 NULL);
    free(text);
    for (size_t i = 0; i < n && st == DB_OK; i++)
        st = db_exec(c,
                     "INSERT INTO webhook_deliveries (event_id, subscription_id, status, attempts, next_due)"
                     " VALUES (?, ?, 'pending', 0, ?)",
                     DB_ARGS(DB_TEXT(id), DB_TEXT(subs[i]), DB_INT(now)), NULL);
    free(subs);
    /* wakes the delivery worker once this commits (core/webhooks.c) */
    if (st == DB_OK) store_notify_on_commit(c);
    return st;
}
