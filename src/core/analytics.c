/* Browser analytics of the Convious pricing API (core/inventory_refs.h):
 * one transaction per batch stores the raw events, adds to the daily
 * counters, records OrderCreated items as sales of inventory references, and
 * counts the batch against the rate limits of its network prefix and cookies. */
#include "core/internal.h"
#include "core/inventory_refs.h"
#include "store/analytics_store.h"
#include "store/inventory_refs_store.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANALYTICS_DEFAULT_RETENTION_DAYS 30
#define ANALYTICS_DEFAULT_PER_IP_PER_MINUTE 6000
#define ANALYTICS_DEFAULT_PER_COOKIE_PER_MINUTE 600
/* rate_limits keys of the analytics start with this, so pruning finds them */
#define ANALYTICS_RATE_KEY "cpa:"

static const char *const kind_names[] = {
    [ANALYTICS_PAGE_VIEWED] = "PageViewed",
    [ANALYTICS_ENTERED_CHECKOUT] = "UserEnteredCheckout",
    [ANALYTICS_SELECTED_DATE] = "UserSelectedDate",
    [ANALYTICS_VIEWED_PRODUCTS] = "UserViewedProducts",
    [ANALYTICS_VIEWED_PRICES] = "UserViewedPrices",
    [ANALYTICS_ADDED_TO_CART] = "UserAddedItemToCart",
    [ANALYTICS_ORDER_CREATED] = "OrderCreated",
    [ANALYTICS_TRANSACTION] = "Transaction",
};

const char *analytics_kind_name(analytics_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "";
}

void analytics_ip_prefix(const char *ip, char out[64])
{
    out[0] = 0;
    if (!ip) return;
    unsigned char addr[16];
    char text[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, ip, addr) == 1) {
        snprintf(out, 64, "%u.%u.%u.0/24", addr[0], addr[1], addr[2]);
        return;
    }
    if (inet_pton(AF_INET6, ip, addr) != 1) return;
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(addr, v4_mapped, sizeof v4_mapped)) {
        snprintf(out, 64, "%u.%u.%u.0/24", addr[12], addr[13], addr[14]);
        return;
    }
    memset(addr + 6, 0, 10);
    if (inet_ntop(AF_INET6, addr, text, sizeof text)) snprintf(out, 64, "%s/48", text);
}

/* What an event's product id (or an item's) resolved to. */
typedef struct {
    const char *kind; /* "reference", "product" or "" */
    const char *key;  /* the id when resolved, else "" */
} resolved_product;

/* The product ids of a batch in slots: each event's own, then its items'. */
typedef struct {
    const analytics_event *events;
    size_t n;
    size_t *first_slot; /* per event */
    size_t slots;
    const account **slot_account;
    const char **slot_product; /* NULL: none */
    resolved_product *resolved;
} batch_products;

static uint64_t text_hash(uint64_t h, const char *s)
{
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Each slot's product: an active inventory reference of the event's account
 * first, else a product of its catalog, else nothing. Read before the write
 * (a reference made or removed meanwhile only changes an attribution), each
 * distinct (account, id) once, so the write transaction holds no reads. */
static bo_status resolve_products(engine *e, batch_products *b)
{
    size_t cap = 16;
    while (cap < b->slots * 2) cap *= 2;
    size_t *table = calloc(cap, sizeof *table), *slot_distinct = calloc(b->slots, sizeof *slot_distinct);
    const char **ids = calloc(b->slots, sizeof *ids), **refs = calloc(b->slots, sizeof *refs);
    bool *active = calloc(b->slots, sizeof *active), *in_catalog = calloc(b->slots, sizeof *in_catalog);
    bo_status out = BO_OK;
    size_t distinct = 0;
    if (!table || !slot_distinct || !ids || !refs || !active || !in_catalog) out = BO_INTERNAL;
    catalog_view *view = NULL;
    const char *view_account = NULL;
    for (size_t i = 0; i < b->slots && out == BO_OK; i++) {
        const account *a = b->slot_account[i];
        const char *product = b->slot_product[i];
        if (!product) continue;
        if (!view || strcmp(view_account, a->id)) {
            if (view) catalog_view_close(view);
            view = catalog_view_open(e, a), view_account = a->id;
            if (!view) {
                out = BO_INTERNAL;
                break;
            }
        }
        in_catalog[i] = model_product(catalog_view_model(view), product) != NULL;
        size_t h = (size_t)text_hash(text_hash(14695981039346656037ULL, a->id), product) & (cap - 1);
        while (table[h] && (strcmp(ids[table[h] - 1], a->id) || strcmp(refs[table[h] - 1], product)))
            h = (h + 1) & (cap - 1);
        if (!table[h]) ids[distinct] = a->id, refs[distinct] = product, table[h] = ++distinct;
        slot_distinct[i] = table[h] - 1;
    }
    if (view) catalog_view_close(view);
    if (out == BO_OK && store_inventory_refs_active(e->st, ids, refs, distinct, active) != STORE_OK) out = BO_INTERNAL;
    for (size_t i = 0; i < b->slots && out == BO_OK; i++) {
        const char *product = b->slot_product[i];
        b->resolved[i] = (resolved_product){"", ""};
        if (product && active[slot_distinct[i]]) b->resolved[i] = (resolved_product){"reference", product};
        else if (product && in_catalog[i]) b->resolved[i] = (resolved_product){"product", product};
    }
    free(table), free(slot_distinct), free(ids), free(refs), free(active), free(in_catalog);
    return out;
}

/* A counted key of the batch: a rate-limit cookie or a daily counter. */
typedef struct {
    const account *acct;
    const char *text; /* the cookie, or the counter's product key */
    analytics_kind kind;
    int64_t n;
} batch_count;

static int count_order(const void *l, const void *r)
{
    const batch_count *a = l, *b = r;
    int c = strcmp(a->acct->id, b->acct->id);
    if (!c) c = (int)a->kind - (int)b->kind;
    return c ? c : strcmp(a->text, b->text);
}

/* Adds one to (acct, kind, text) among the n counts so far; returns the new n. */
static size_t count_add(batch_count *counts, size_t n, const account *acct, analytics_kind kind, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (counts[i].kind == kind && !strcmp(counts[i].acct->id, acct->id) && !strcmp(counts[i].text, text))
            return counts[i].n++, n;
    counts[n] = (batch_count){acct, text, kind, 1};
    return n + 1;
}

typedef struct {
    const batch_products *products;
    const char *ip_prefix;
    instant_us now;
    long per_ip, per_cookie;
    batch_count *cookies, *counters; /* sorted: rows are locked in one order, so batches never deadlock */
    size_t ncookies, ncounters;
    int64_t shard; /* of the spread counters this batch adds to */
    store_analytics_event *rows; /* the events as stored */
    bool limited;
} ingest;

/* Adds the batch to its rate windows; sets x->limited when one overflows.
 * Last in the transaction: the statements that need an answer send the
 * deferred writes with them. */
static db_status count_against_limits(ingest *x, db_conn *c)
{
    int64_t window = x->now / US_PER_SEC / 60 * 60, count = 0;
    char key[700];
    if (*x->ip_prefix) {
        char spread[STORE_RATE_SHARDS][100];
        const char *keys[STORE_RATE_SHARDS];
        for (size_t k = 0; k < STORE_RATE_SHARDS; k++)
            snprintf(spread[k], sizeof spread[k], ANALYTICS_RATE_KEY "ip:%s#%zu", x->ip_prefix, k), keys[k] = spread[k];
        store_status st = store_analytics_rate_add_spread(c, keys, (size_t)x->shard % STORE_RATE_SHARDS, window,
                                                          (int64_t)x->products->n, &count);
        if (st != STORE_OK) return store_db_status(st);
        if (count > x->per_ip) return x->limited = true, DB_ABORT;
    }
    for (size_t i = 0; i < x->ncookies; i++) {
        snprintf(key, sizeof key, ANALYTICS_RATE_KEY "cookie:%s:%s", x->cookies[i].acct->id, x->cookies[i].text);
        store_status st = store_analytics_rate_add(c, key, window, x->cookies[i].n, &count);
        if (st != STORE_OK) return store_db_status(st);
        if (count > x->per_cookie) return x->limited = true, DB_ABORT;
    }
    return DB_OK;
}

static store_status store_sales(ingest *x, db_conn *c, const analytics_event *ev, size_t first_item)
{
    store_status st = STORE_OK;
    for (size_t k = 0; k < ev->nitems && st == STORE_OK; k++) {
        const resolved_product *item = &x->products->resolved[first_item + k];
        if (strcmp(item->kind, "reference")) continue; /* Boxoffice products have their own sales */
        store_inventory_sale sale = {.line = (int64_t)k,
                                     .quantity = ev->items[k].amount,
                                     .unit_price = ev->items[k].price,
                                     .has_day = ev->items[k].has_day,
                                     .event_day = ev->items[k].day,
                                     .sold_at = x->now};
        snprintf(sale.order_id, sizeof sale.order_id, "%s", ev->order_id ? ev->order_id : "");
        st = store_inventory_sale_add(c, ev->acct->id, item->key, &sale);
    }
    return st;
}

static db_status ingest_fn(db_conn *c, void *arg)
{
    ingest *x = arg;
    x->limited = false;
    const batch_products *b = x->products;
    store_status st = store_analytics_events_add(c, x->rows, b->n);
    for (size_t i = 0; i < b->n && st == STORE_OK; i++) st = store_sales(x, c, &b->events[i], b->first_slot[i] + 1);
    for (size_t i = 0; i < x->ncounters && st == STORE_OK; i++) {
        const batch_count *k = &x->counters[i];
        civil_date day;
        int32_t secs;
        tz_instant_to_local(k->acct->timezone, x->now, &day, &secs);
        st = store_analytics_count(c, k->acct->id, day, analytics_kind_name(k->kind), k->text, x->shard, k->n);
    }
    if (st != STORE_OK) return store_db_status(st);
    return count_against_limits(x, c);
}

bo_status analytics_ingest(engine *e, const char *client_ip, const analytics_event *events, size_t n, bo_error *err)
{
    if (!n) return BO_OK;
    batch_products b = {events, n, calloc(n, sizeof(size_t)), 0, NULL, NULL, NULL};
    batch_count *cookies = calloc(n, sizeof *cookies), *counters = calloc(n, sizeof *counters);
    bo_status out = BO_OK;
    if (b.first_slot)
        for (size_t i = 0; i < n; i++) b.first_slot[i] = b.slots, b.slots += 1 + events[i].nitems;
    b.slot_account = calloc(b.slots ? b.slots : 1, sizeof *b.slot_account);
    b.slot_product = calloc(b.slots ? b.slots : 1, sizeof *b.slot_product);
    b.resolved = calloc(b.slots ? b.slots : 1, sizeof *b.resolved);
    if (!b.first_slot || !cookies || !counters || !b.slot_account || !b.slot_product || !b.resolved) out = BO_INTERNAL;
    for (size_t i = 0; i < n && out == BO_OK; i++) {
        size_t first = b.first_slot[i];
        b.slot_account[first] = events[i].acct, b.slot_product[first] = events[i].product_id;
        for (size_t k = 0; k < events[i].nitems; k++)
            b.slot_account[first + 1 + k] = events[i].acct, b.slot_product[first + 1 + k] = events[i].items[k].product_id;
    }
    if (out == BO_OK) out = resolve_products(e, &b);
    char prefix[64];
    analytics_ip_prefix(client_ip, prefix);
    ingest x = {&b, prefix, clock_now(),
                e->cfg.analytics_per_ip_per_minute > 0 ? e->cfg.analytics_per_ip_per_minute
                                                       : ANALYTICS_DEFAULT_PER_IP_PER_MINUTE,
                e->cfg.analytics_per_cookie_per_minute > 0 ? e->cfg.analytics_per_cookie_per_minute
                                                           : ANALYTICS_DEFAULT_PER_COOKIE_PER_MINUTE,
                cookies, counters, 0, 0, 0, NULL, false};
    /* the microsecond spreads concurrent batches over the shards well enough */
    x.shard = x.now % STORE_RATE_SHARDS;
    store_analytics_event *rows = calloc(n, sizeof *rows);
    if (!rows) out = BO_INTERNAL;
    x.rows = rows;
    for (size_t i = 0; i < n && out == BO_OK; i++) {
        const analytics_event *ev = &events[i];
        const resolved_product *p = &b.resolved[b.first_slot[i]];
        rows[i] = (store_analytics_event){ev->acct->id, analytics_kind_name(ev->kind), ev->cookie_id, ev->time, x.now,
                                          x.ip_prefix,  p->kind, p->key, ev->order_id, ev->detail ? ev->detail : ""};
        /* one cookie's count in every kind: the limit is per cookie */
        x.ncookies = count_add(cookies, x.ncookies, ev->acct, ANALYTICS_PAGE_VIEWED, ev->cookie_id);
        x.ncounters = count_add(counters, x.ncounters, ev->acct, ev->kind, p->key);
    }
    if (out == BO_OK) {
        qsort(cookies, x.ncookies, sizeof *cookies, count_order);
        qsort(counters, x.ncounters, sizeof *counters, count_order);
        db_status st = store_write(e->st, ingest_fn, &x);
        if (st == DB_ABORT && x.limited)
            out = bo_fail(err, BO_RATE_LIMITED, "rate_limited", "", "too many events; try again in a minute");
        else out = bo_from_db(st, err);
    } else {
        bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure, nothing was stored");
    }
    /* references sold: their prices are replanned as after a sale */
    for (size_t i = 0; i < n && out == BO_OK; i++)
        for (size_t k = 0; events[i].kind == ANALYTICS_ORDER_CREATED && k < events[i].nitems; k++)
            if (!strcmp(b.resolved[b.first_slot[i] + 1 + k].kind, "reference")) {
                pricing_references_sold(e, events[i].acct->id);
                break;
            }
    free(b.first_slot), free(b.slot_account), free(b.slot_product), free(b.resolved), free(cookies), free(counters);
    free(rows);
    return out;
}

bo_status analytics_daily_count(engine *e, const account *a, civil_date day, analytics_kind kind,
                                const char *product_key, int64_t *count)
{
    store_status st = store_analytics_daily_count(e->st, a->id, day, analytics_kind_name(kind), product_key, count);
    return st == STORE_OK ? BO_OK : BO_INTERNAL;
}

/* Raw events deleted per transaction, and transactions per call: a backlog
 * goes in steps that keep the writer free for ingest between them, and what
 * one call leaves waits for the next. */
#define ANALYTICS_PRUNE_STEP 10000
#define ANALYTICS_PRUNE_STEPS 100

bo_status analytics_prune(engine *e, instant_us now, int *deleted)
{
    int days = e->cfg.analytics_retention_days > 0 ? e->cfg.analytics_retention_days : ANALYTICS_DEFAULT_RETENTION_DAYS;
    instant_us before = now - (instant_us)days * 86400 * US_PER_SEC;
    civil_date before_day = (civil_date)(before / US_PER_SEC / 86400);
    int total = 0, step = ANALYTICS_PRUNE_STEP;
    for (int i = 0; i < ANALYTICS_PRUNE_STEPS && step == ANALYTICS_PRUNE_STEP; i++) {
        step = 0;
        if (store_analytics_prune(e->st, before, before_day, now / US_PER_SEC - 3600, ANALYTICS_PRUNE_STEP, &step) !=
            STORE_OK) {
            if (deleted) *deleted = total;
            return BO_INTERNAL;
        }
        total += step;
    }
    if (deleted) *deleted = total;
    return BO_OK;
}
