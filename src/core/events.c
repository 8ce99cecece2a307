/* The outbox. A change event and one delivery row per interested webhook
 * subscription are inserted in the transaction that made the change; the
 * delivery worker (src/core/webhooks.c) sends them later, at least once. */
#include "core/internal.h"
#include "store/orders_store.h"
#include "store/outbox.h"
#include "util/jbuf.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *event_names[] = {"ORDER.CREATED",          "ORDER.UPDATED",   "ISSUED_TICKET.CREATED",
                                    "ISSUED_TICKET.UPDATED",  "EVENT.CREATED",   "EVENT.UPDATED",
                                    "EVENT.DELETED",          "ORDER.PAID",      "ISSUED_TICKET.REFUND_REQUESTED"};

const char *change_event_name(change_event ev) { return event_names[ev]; }

static const char *resource_of(change_event ev)
{
    switch (ev) {
    case EV_ORDER_CREATED:
    case EV_ORDER_UPDATED:
    case EV_ORDER_PAID: return "order";
    case EV_TICKET_CREATED:
    case EV_TICKET_UPDATED:
    case EV_TICKET_REFUND_REQUESTED: return "issued_ticket";
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

db_status events_wanted(db_conn *c, const char *account_id, bool *any)
{
    int64_t now = monotonic_ms();
    if (wanted_cached(account_id, now, NULL, any)) return DB_OK;
    int64_t version = 0;
    store_status st = store_webhook_version_get(c, account_id, &version);
    if (st != STORE_OK && st != STORE_NOT_FOUND) return store_db_status(st);
    if (wanted_cached(account_id, now, &version, any)) return DB_OK;
    st = store_webhook_listening(c, account_id, &version, any);
    if (st == STORE_OK) wanted_remember(account_id, version, *any, now);
    return store_db_status(st);
}

/* The account's active subscriptions and the events each wants, read once
 * per change: a booking asks for up to three events and then records them,
 * an order's change asks and records, and each of those used to read the
 * subscriptions again. */
typedef struct {
    char (*ids)[48];
    char **events; /* comma-separated names, or "*" */
    size_t n;
} account_subscriptions;

static void add_subscription(void *ctx, const char *subscription_id, const char *events)
{
    account_subscriptions *x = ctx;
    char(*ids)[48] = realloc(x->ids, (x->n + 1) * sizeof *x->ids);
    if (ids) x->ids = ids;
    char **evs = realloc(x->events, (x->n + 1) * sizeof *x->events);
    if (evs) x->events = evs;
    char *copy = strdup(events ? events : "");
    if (!ids || !evs || !copy) {
        free(copy);
        return; /* out of memory: this one is skipped, as a failed realloc always was */
    }
    snprintf(x->ids[x->n], sizeof *x->ids, "%s", subscription_id);
    x->events[x->n++] = copy;
}

static void subscriptions_free(account_subscriptions *x)
{
    for (size_t i = 0; i < x->n; i++) free(x->events[i]);
    free(x->events);
    free(x->ids);
    *x = (account_subscriptions){0};
}

static db_status subscriptions_load(db_conn *c, const char *account_id, account_subscriptions *out)
{
    *out = (account_subscriptions){0};
    store_status st = store_outbox_subscribers(c, account_id, add_subscription, out);
    if (st != STORE_OK) subscriptions_free(out);
    return store_db_status(st);
}

/* Whether a subscription's events (a comma-separated list of names, or "*") include name. */
static bool events_include(const char *events, const char *name)
{
    if (!strcmp(events, "*")) return true;
    for (const char *p = events; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == strlen(name) && !strncmp(p, name, len)) return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* The subscriptions that want ev, into ids (room for subs->n); how many. */
static size_t wanting(const account_subscriptions *subs, change_event ev, const char **ids)
{
    size_t n = 0;
    for (size_t i = 0; i < subs->n; i++)
        if (events_include(subs->events[i], event_names[ev])) {
            if (ids) ids[n] = subs->ids[i];
            n++;
        }
    return n;
}

/* Whether an active subscription of the account wants ev: the object an
 * event carries is only rendered (an order read back, decoded and encoded)
 * for an event someone hears, since record_for drops the others. */
static bool subscribed(const account_subscriptions *subs, change_event ev) { return wanting(subs, ev, NULL) > 0; }

/* events_record with the account's subscriptions already read. */
static db_status record_for(db_conn *c, const account_subscriptions *subs, const char *account_id, change_event ev,
                            const char *object_id, const char *object)
{
    /* Only accounts with subscriptions pay for the outbox row. */
    if (!subscribed(subs, ev)) return DB_OK;
    const char **ids = malloc(subs->n * sizeof *ids);
    if (!ids) return DB_ERROR;
    size_t n = wanting(subs, ev, ids);
    char id[48];
    rand_token("wh_", 12, id, sizeof id);
    jbuf w;
    jb_init(&w, object ? strlen(object) + 256 : 256);
    jb_obj(&w);
    jb_kstr(&w, "resource", resource_of(ev));
    jb_kstr(&w, "object_id", object_id);
    jb_kstr(&w, "account_id", account_id);
    jb_key(&w, "object"), jb_raw(&w, object);
    jb_obj_end(&w);
    char *text = jb_take(&w, NULL);
    if (!text) {
        free(ids);
        return DB_ERROR;
    }
    char resource_url[160];
    snprintf(resource_url, sizeof resource_url, "%s/%s", resource_of(ev), object_id);
    store_outbox_event row = {.id = id, .account_id = account_id, .event = event_names[ev],
                              .resource_url = resource_url, .payload = text, .created_at = clock_now()};
    store_status st = store_outbox_record(c, &row, ids, n);
    free(ids);
    free(text);
    return store_db_status(st);
}

db_status events_record(db_conn *c, const char *account_id, change_event ev, const char *object_id, const char *object)
{
    account_subscriptions subs;
    db_status st = subscriptions_load(c, account_id, &subs);
    if (st == DB_OK) st = record_for(c, &subs, account_id, ev, object_id, object);
    subscriptions_free(&subs);
    return st;
}

/* ---- the objects events carry ---- */

void events_set_renderer(engine *e, const outbox_renderer *r)
{
    if (!r || atomic_load_explicit(&e->outbox_renderer_set, memory_order_acquire)) return;
    e->outbox_render = *r;
    atomic_store_explicit(&e->outbox_renderer_set, true, memory_order_release);
}

static const outbox_renderer *renderer(engine *e)
{
    return atomic_load_explicit(&e->outbox_renderer_set, memory_order_acquire) ? &e->outbox_render : NULL;
}

static db_status record_ticket(engine *e, db_conn *c, const account_subscriptions *subs, const char *account_id,
                               change_event ev, const ticket_record *t)
{
    const outbox_renderer *r = renderer(e);
    char *object = r && r->ticket ? r->ticket(t) : NULL;
    db_status st = record_for(c, subs, account_id, ev, t->id, object);
    free(object);
    return st;
}

/* Booked paid: confirmed with a payment that went through (an order booked
 * open, or confirmed with nothing paid, becomes paid through order_mark_paid). */
static bool order_paid(const order_record *o)
{
    if (!o->order.status || strcmp(o->order.status, "confirmed")) return false;
    for (size_t i = 0; i < o->npayments; i++) {
        const store_payment_row *p = &o->payments[i];
        if (p->kind && !strcmp(p->kind, "payment") && p->status && !strcmp(p->status, "paid")) return true;
    }
    return false;
}

db_status events_record_booking(engine *e, db_conn *c, const account *a, const order_record *o)
{
    const outbox_renderer *r = renderer(e);
    account_subscriptions subs;
    db_status st = subscriptions_load(c, a->id, &subs);
    bool created = st == DB_OK && subscribed(&subs, EV_ORDER_CREATED);
    bool paid = st == DB_OK && order_paid(o) && subscribed(&subs, EV_ORDER_PAID);
    bool tickets = st == DB_OK && subscribed(&subs, EV_TICKET_CREATED);
    char *object = st == DB_OK && (created || paid) && r && r->order ? r->order(o, a) : NULL;
    if (st == DB_OK && created) st = record_for(c, &subs, a->id, EV_ORDER_CREATED, o->order.id, object);
    if (st == DB_OK && paid) st = record_for(c, &subs, a->id, EV_ORDER_PAID, o->order.id, object);
    free(object);
    for (size_t i = 0; tickets && i < o->ntickets && st == DB_OK; i++)
        st = record_ticket(e, c, &subs, a->id, EV_TICKET_CREATED, &o->tickets[i]);
    subscriptions_free(&subs);
    return st;
}

db_status events_record_order(engine *e, db_conn *c, const account *a, change_event ev, const char *order_id)
{
    bool any;
    db_status st = events_wanted(c, a->id, &any);
    if (st != DB_OK || !any) return st;
    account_subscriptions subs;
    st = subscriptions_load(c, a->id, &subs);
    if (st != DB_OK || !subscribed(&subs, ev)) {
        subscriptions_free(&subs);
        return st;
    }
    order_record o;
    st = store_db_status(store_order_load(c, a->id, order_id, &o));
    const outbox_renderer *r = renderer(e);
    char *object = st == DB_OK && r && r->order ? r->order(&o, a) : NULL;
    if (st == DB_OK) st = record_for(c, &subs, a->id, ev, order_id, object);
    free(object);
    store_order_detail_free(&o);
    subscriptions_free(&subs);
    return st;
}

db_status events_record_ticket(engine *e, db_conn *c, const char *account_id, change_event ev, const char *ticket_id)
{
    bool any;
    db_status st = events_wanted(c, account_id, &any);
    if (st != DB_OK || !any) return st;
    account_subscriptions subs;
    st = subscriptions_load(c, account_id, &subs);
    if (st != DB_OK || !subscribed(&subs, ev)) {
        subscriptions_free(&subs);
        return st;
    }
    ticket_record t;
    st = store_db_status(store_ticket_load(c, account_id, ticket_id, &t));
    if (st == DB_OK) st = record_ticket(e, c, &subs, account_id, ev, &t);
    store_ticket_row_free(&t);
    subscriptions_free(&subs);
    return st;
}
