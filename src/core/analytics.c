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

typedef struct {
    engine *e;
    const analytics_event *events;
    size_t n;
    const bool *in_catalog; /* per product slot_index: a Boxoffice product of the event's account */
    const size_t *first_slot;  /* per event: its product's slot_index; its items' follow */
    resolved_product *resolved;
    const char *ip_prefix;
    instant_us now;
    long per_ip, per_cookie;
    bool limited;
} ingest;

static void resolve_slot(ingest *x, db_conn *c, size_t slot_index, const account *a, const char *product_id,
                         store_status *st)
{
    resolved_product *r = &x->resolved[slot_index];
    *r = (resolved_product){"", ""};
    if (!product_id || *st != STORE_OK) return;
    bool active = false;
    *st = store_inventory_ref_active(c, a->id, product_id, &active);
    if (active) *r = (resolved_product){"reference", product_id};
    else if (x->in_catalog[slot_index]) *r = (resolved_product){"product", product_id};
}

/* Adds the batch to its rate windows; sets x->limited when one overflows. */
static db_status count_against_limits(ingest *x, db_conn *c)
{
    int64_t window = x->now / US_PER_SEC / 60 * 60, count = 0;
    char key[700];
    if (*x->ip_prefix) {
        snprintf(key, sizeof key, ANALYTICS_RATE_KEY "ip:%s", x->ip_prefix);
        store_status st = store_analytics_rate_add(c, key, window, (int64_t)x->n, &count);
        if (st != STORE_OK) return store_db_status(st);
        if (count > x->per_ip) return x->limited = true, DB_ABORT;
    }
    for (size_t i = 0; i < x->n; i++) {
        const analytics_event *ev = &x->events[i];
        bool seen = false;
        int64_t n = 0;
        for (size_t j = 0; j < x->n && !seen; j++) {
            const analytics_event *other = &x->events[j];
            if (strcmp(other->cookie_id, ev->cookie_id) || strcmp(other->acct->id, ev->acct->id)) continue;
            seen = j < i, n++;
        }
        if (seen) continue; /* counted with its first event */
        snprintf(key, sizeof key, ANALYTICS_RATE_KEY "cookie:%s:%s", ev->acct->id, ev->cookie_id);
        store_status st = store_analytics_rate_add(c, key, window, n, &count);
        if (st != STORE_OK) return store_db_status(st);
        if (count > x->per_cookie) return x->limited = true, DB_ABORT;
    }
    return DB_OK;
}

static db_status count_daily(ingest *x, db_conn *c)
{
    for (size_t i = 0; i < x->n; i++) {
        const analytics_event *ev = &x->events[i];
        const char *key = x->resolved[x->first_slot[i]].key, *kind = analytics_kind_name(ev->kind);
        bool seen = false;
        int64_t n = 0;
        for (size_t j = 0; j < x->n && !seen; j++) {
            const analytics_event *other = &x->events[j];
            if (other->kind != ev->kind || strcmp(other->acct->id, ev->acct->id) ||
                strcmp(x->resolved[x->first_slot[j]].key, key))
                continue;
            seen = j < i, n++;
        }
        if (seen) continue;
        civil_date day;
        int32_t secs;
        tz_instant_to_local(ev->acct->timezone, x->now, &day, &secs);
        store_status st = store_analytics_count(c, ev->acct->id, day, kind, key, n);
        if (st != STORE_OK) return store_db_status(st);
    }
    return DB_OK;
}

static db_status ingest_fn(db_conn *c, void *arg)
{
    ingest *x = arg;
    x->limited = false;
    db_status dst = count_against_limits(x, c);
    if (dst != DB_OK) return dst;
    store_status st = STORE_OK;
    for (size_t i = 0; i < x->n && st == STORE_OK; i++) {
        const analytics_event *ev = &x->events[i];
        size_t slot_index = x->first_slot[i];
        resolve_slot(x, c, slot_index, ev->acct, ev->product_id, &st);
        for (size_t k = 0; k < ev->nitems; k++) resolve_slot(x, c, slot_index + 1 + k, ev->acct, ev->items[k].product_id, &st);
        if (st != STORE_OK) break;
        const resolved_product *p = &x->resolved[slot_index];
        store_analytics_event row = {ev->acct->id, analytics_kind_name(ev->kind), ev->cookie_id, ev->time, x->now,
                                     x->ip_prefix,  p->kind, p->key, ev->order_id, ev->detail ? ev->detail : ""};
        st = store_analytics_event_add(c, &row);
        for (size_t k = 0; k < ev->nitems && st == STORE_OK; k++) {
            const resolved_product *item = &x->resolved[slot_index + 1 + k];
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
    }
    if (st != STORE_OK) return store_db_status(st);
    return count_daily(x, c);
}

/* Marks each product slot_index that names a product of its event's catalog. */
static bo_status mark_catalog_products(engine *e, const analytics_event *events, size_t n, const size_t *first_slot,
                                       bool *in_catalog)
{
    catalog_view *view = NULL;
    const char *view_account = NULL;
    for (size_t i = 0; i < n; i++) {
        const analytics_event *ev = &events[i];
        if (!ev->product_id && !ev->nitems) continue;
        if (!view || strcmp(view_account, ev->acct->id)) {
            if (view) catalog_view_close(view);
            view = catalog_view_open(e, ev->acct);
            view_account = ev->acct->id;
            if (!view) return BO_INTERNAL;
        }
        const catalog_model *m = catalog_view_model(view);
        size_t slot_index = first_slot[i];
        in_catalog[slot_index] = ev->product_id && model_product(m, ev->product_id);
        for (size_t k = 0; k < ev->nitems; k++) in_catalog[slot_index + 1 + k] = model_product(m, ev->items[k].product_id);
    }
    if (view) catalog_view_close(view);
    return BO_OK;
}

bo_status analytics_ingest(engine *e, const char *client_ip, const analytics_event *events, size_t n, bo_error *err)
{
    if (!n) return BO_OK;
    size_t *first_slot = calloc(n, sizeof *first_slot), slots = 0;
    if (!first_slot) return bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    for (size_t i = 0; i < n; i++) first_slot[i] = slots, slots += 1 + events[i].nitems;
    bool *in_catalog = calloc(slots, sizeof *in_catalog);
    resolved_product *resolved = calloc(slots, sizeof *resolved);
    char prefix[64];
    analytics_ip_prefix(client_ip, prefix);
    ingest x = {e, events, n, in_catalog, first_slot, resolved, prefix, clock_now(),
                e->cfg.analytics_per_ip_per_minute > 0 ? e->cfg.analytics_per_ip_per_minute
                                                       : ANALYTICS_DEFAULT_PER_IP_PER_MINUTE,
                e->cfg.analytics_per_cookie_per_minute > 0 ? e->cfg.analytics_per_cookie_per_minute
                                                           : ANALYTICS_DEFAULT_PER_COOKIE_PER_MINUTE,
                false};
    bo_status out;
    if (!in_catalog || !resolved) out = bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    else if (mark_catalog_products(e, events, n, first_slot, in_catalog) != BO_OK)
        out = bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure, nothing was stored");
    else {
        db_status st = store_write(e->st, ingest_fn, &x);
        if (st == DB_ABORT && x.limited)
            out = bo_fail(err, BO_RATE_LIMITED, "rate_limited", "", "too many events; try again in a minute");
        else out = bo_from_db(st, err);
    }
    free(first_slot), free(in_catalog), free(resolved);
    return out;
}

bo_status analytics_prune(engine *e, instant_us now, int *deleted)
{
    int days = e->cfg.analytics_retention_days > 0 ? e->cfg.analytics_retention_days : ANALYTICS_DEFAULT_RETENTION_DAYS;
    instant_us before = now - (instant_us)days * 86400 * US_PER_SEC;
    civil_date before_day = (civil_date)(before / US_PER_SEC / 86400);
    store_status st = store_analytics_prune(e->st, before, before_day, now / US_PER_SEC - 3600, deleted);
    return st == STORE_OK ? BO_OK : BO_INTERNAL;
}
