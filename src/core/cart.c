/* Carts: capacity held for a customer until the cart expires, is deleted, or
 * becomes an order. Creating or changing a cart takes every pool it needs in
 * one transaction (store_cart_create / store_cart_replace), so a cart is
 * either wholly held or not at all. */
#include "core/schedule.h"
#include "util/log.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 50
#define MAX_QUANTITY 1000

void cart_record_free(cart_record *c) { store_cart_free(c); }

static bo_status check_lines(const cart_request *req, bo_error *err)
{
    if (req->nlines == 0) return bo_fail(err, BO_INVALID, "empty_cart", "items", "a cart needs at least one item");
    if (req->nlines > MAX_LINES) return bo_fail(err, BO_INVALID, "too_many_items", "items", "at most %d items", MAX_LINES);
    for (size_t i = 0; i < req->nlines; i++) {
        if (!req->lines[i].product_id)
            return bo_fail(err, BO_INVALID, "missing_field", "product_id", "every item needs a productId");
        if (req->lines[i].quantity <= 0 || req->lines[i].quantity > MAX_QUANTITY)
            return bo_fail(err, BO_INVALID, "invalid_amount", "quantity", "amount must be between 1 and %d",
                           MAX_QUANTITY);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(req->lines[i].product_id, req->lines[j].product_id))
                return bo_fail(err, BO_INVALID, "duplicate_product", "product_id",
                               "product %s appears twice; send one item with the total amount",
                               req->lines[i].product_id);
    }
    return BO_OK;
}

/* A ticket of p at `unit` with its tax, as the booking will charge it: the
 * cart's total is the figure the order will show (total_gross). */
static money gross_of(const cat_product *p, money unit)
{
    money gross = unit;
    for (size_t i = 0; !p->price_includes_tax && i < p->ntaxes; i++)
        gross += tax_compute(unit, p->taxes[i].rate_bp, p->taxes[i].proportion_bp, false).tax;
    return gross;
}

/* An option of p at `unit` with its tax, as the booking charges it (taxed
 * with the option's own taxes, in the product's tax mode). */
static money option_gross_of(const cat_product *p, const cat_option *o, money unit)
{
    money gross = unit;
    for (size_t i = 0; !p->price_includes_tax && i < o->ntaxes; i++)
        gross += tax_compute(unit, o->taxes[i].rate_bp, o->taxes[i].proportion_bp, false).tax;
    return gross;
}

/* Checks a line's chosen options against its product and records them, priced
 * (0 in an unpriced cart, as its tickets are); *per_ticket gets their value
 * with tax for one ticket. */
static bo_status plan_options(const cat_product *p, const cart_line_options *in, bool priced, store_cart_line *l,
                              money *per_ticket, bo_error *err)
{
    *per_ticket = 0;
    if (!in) return BO_OK;
    if (in->n > STORE_LINE_OPTIONS_MAX)
        return bo_fail(err, BO_INVALID, "too_many_options", "options", "at most %d options per item",
                       STORE_LINE_OPTIONS_MAX);
    for (size_t k = 0; k < in->n; k++) {
        const cart_option *c = &in->options[k];
        const cat_option *o = product_option(p, c->option_id);
        if (!o)
            return bo_fail(err, BO_INVALID, "unknown_option", "option_id", "product %s has no option %s", p->id,
                           c->option_id ? c->option_id : "(none)");
        int64_t max = o->max_quantity >= 0 ? o->max_quantity : CART_OPTION_QUANTITY_MAX;
        if (c->quantity < 1 || c->quantity > max)
            return bo_fail(err, BO_INVALID, "invalid_option_quantity", "option_quantity",
                           "option %s is sold 1 to %lld times per ticket", o->id, (long long)max);
        for (size_t j = 0; j < k; j++)
            if (!strcmp(l->options[j].option_id, o->id))
                return bo_fail(err, BO_INVALID, "duplicate_option", "option_id",
                               "option %s appears twice; send it once with its number", o->id);
        store_cart_option *so = &l->options[l->noptions++];
        snprintf(so->option_id, sizeof so->option_id, "%s", o->id);
        so->quantity = c->quantity;
        so->unit_price = priced ? o->price : 0;
        *per_ticket += option_gross_of(p, o, so->unit_price * so->quantity);
    }
    return BO_OK;
}

/* The one slot every line of the cart is for. */
static bo_status resolve_slot(const catalog_model *m, const account *a, const cart_request *req, slot *at,
                              bo_error *err)
{
    for (size_t i = 0; i < req->nlines; i++) {
        const cat_product *p = model_product(m, req->lines[i].product_id);
        if (!p)
            return bo_fail(err, BO_INVALID, "unknown_product", "product_id", "no product with id %s",
                           req->lines[i].product_id);
        slot s;
        if (occurrence_resolve_in(m, a, p, req->category_id, req->day, req->start_time, req->occurrence_id, &s, err) !=
            BO_OK)
            return err->status;
        if (i == 0) *at = s;
        else if (strcmp(s.key, at->key))
            return bo_fail(err, BO_INVALID, "mixed_occurrences", "items",
                           "all items of a cart must be for the same date and time");
    }
    if (!at->open) return bo_fail(err, BO_SOLD_OUT, "not_available", "date", "not on sale for that date or time");
    return BO_OK;
}

/* A ticket group's max_per_order counts the tickets of all its products in
 * the cart together. */
static bo_status check_group_limits(const catalog_model *m, const cart_request *req, bo_error *err)
{
    for (size_t i = 0; i < req->nlines; i++) {
        const cat_product *p = model_product(m, req->lines[i].product_id);
        const cat_ticket_group *g = p ? model_ticket_group(m, p->group_id) : NULL;
        if (!g || g->max_per_order < 0) continue;
        int64_t in_group = 0;
        for (size_t j = 0; j < req->nlines; j++) {
            const cat_product *q = model_product(m, req->lines[j].product_id);
            if (q && q->group_id && !strcmp(q->group_id, g->id)) in_group += req->lines[j].quantity;
        }
        if (in_group > g->max_per_order)
            return bo_fail(err, BO_INVALID, "invalid_amount", "quantity",
                           "at most %lld tickets of group %s per order", (long long)g->max_per_order, g->id);
    }
    return BO_OK;
}

/* Checks the request against the catalog and fills the cart's content and
 * the seats it must hold. */
static bo_status plan_cart(engine *e, const account *a, const cart_request *req, cart_record *cart, store_hold **holds,
                           size_t *nholds, bo_error *err)
{
    if (check_lines(req, err) != BO_OK) return err->status;
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    slot at;
    bo_status bs = resolve_slot(cs->model, a, req, &at, err);
    cart->lines = bs == BO_OK ? calloc(req->nlines, sizeof *cart->lines) : NULL;
    for (size_t i = 0; bs == BO_OK && i < req->nlines; i++) {
        const cat_product *p = model_product(cs->model, req->lines[i].product_id);
        int64_t q = req->lines[i].quantity;
        if (!p->enabled) {
            bs = bo_fail(err, BO_INVALID, "product_disabled", "product_id", "product %s is not for sale", p->id);
            break;
        }
        if (q < p->min_per_order || (p->max_per_order >= 0 && q > p->max_per_order)) {
            bs = bo_fail(err, BO_INVALID, "invalid_amount", "quantity", "product %s is sold in amounts of %lld to %lld",
                         p->id, (long long)p->min_per_order,
                         (long long)(p->max_per_order >= 0 ? p->max_per_order : MAX_QUANTITY));
            break;
        }
        price_quote pq = engine_price_at(e, a, p, &at, q);
        money unit = req->unit_prices ? req->unit_prices[i] : req->use_engine_prices ? pq.unit_price : 0;
        store_cart_line *l = &cart->lines[cart->nlines++];
        snprintf(l->product_id, sizeof l->product_id, "%s", p->id);
        l->quantity = q;
        l->unit_price = unit;
        l->gate_price = pq.gate_price;
        l->booking_fee = p->booking_fee;
        cart->price_includes_tax = pq.includes_tax;
        money options_gross;
        bs = plan_options(p, req->line_options ? &req->line_options[i] : NULL, req->unit_prices || req->use_engine_prices,
                          l, &options_gross, err);
        if (bs != BO_OK) break;
        cart->total += (gross_of(p, unit) + options_gross) * q;
    }
    if (bs == BO_OK) bs = check_group_limits(cs->model, req, err);
    int n = bs == BO_OK ? pool_needs_for(cs->model, at.key, req->lines, req->nlines, holds, err) : -1;
    if (n >= 0 && req->discount_code) n = discount_use_hold(cs->model, req->discount_code, holds, n, err);
    catalog_release(cs);
    if (bs != BO_OK) return bs;
    if (n < 0) return err->status;
    *nholds = (size_t)n;
    snprintf(cart->account_id, sizeof cart->account_id, "%s", a->id);
    snprintf(cart->status, sizeof cart->status, "open");
    snprintf(cart->channel, sizeof cart->channel, "%s", req->channel ? req->channel : "api");
    snprintf(cart->category_id, sizeof cart->category_id, "%s", req->category_id ? req->category_id : "");
    snprintf(cart->occurrence, sizeof cart->occurrence, "%s", at.key);
    snprintf(cart->currency, sizeof cart->currency, "%s", a->currency);
    cart->day = at.day;
    cart->start_time = at.time_from;
    cart->end_time = at.time_to;
    cart->starts_at = at.starts_at;
    cart->ends_at = at.ends_at;
    cart->external_id = req->external_id ? strdup(req->external_id) : NULL;
    cart->extras = strdup(req->extras ? req->extras : "{}");
    cart->customer = req->customer ? strdup(req->customer) : NULL;
    cart->priced = req->unit_prices || req->use_engine_prices;
    return BO_OK;
}

static int64_t hold_for(const engine *e, const account *a, const cart_request *req)
{
    if (req->hold_seconds > 0) return req->hold_seconds;
    return a->hold_seconds > 0 ? a->hold_seconds : e->cfg.default_hold_seconds;
}

static bo_status cart_outcome(store_status st, bo_error *err)
{
    switch (st) {
    case STORE_OK: return BO_OK;
    case STORE_SOLD_OUT: return bo_fail(err, BO_SOLD_OUT, "sold_out", "items", "not enough tickets left; nothing was held");
    case STORE_CONFLICT: return bo_fail(err, BO_CONFLICT, "cart_closed", "cart_id", "the cart was booked or deleted");
    case STORE_NOT_FOUND: return bo_fail(err, BO_NOT_FOUND, "not_found", "cart_id", "no such cart");
    case STORE_RETRY:
    case STORE_FULL:
    case STORE_ERROR: break;
    }
    return bo_from_store(st, err);
}

bo_status cart_prepare(engine *e, const account *a, const cart_request *req, cart_record *out, store_hold **holds,
                       size_t *nholds, bo_error *err)
{
    memset(out, 0, sizeof *out);
    *holds = NULL;
    *nholds = 0;
    bo_status bs = plan_cart(e, a, req, out, holds, nholds, err);
    if (bs != BO_OK) {
        free(*holds);
        *holds = NULL;
        store_cart_free(out);
        return bs;
    }
    time_uuid(out->id);
    out->created_at = out->updated_at = clock_now();
    out->expires_at = out->created_at + hold_for(e, a, req) * US_PER_SEC;
    return BO_OK;
}

bo_status cart_create(engine *e, const account *a, const cart_request *req, cart_record *out, bo_error *err)
{
    store_hold *holds;
    size_t nholds;
    bo_status bs = cart_prepare(e, a, req, out, &holds, &nholds, err);
    if (bs == BO_OK) bs = cart_outcome(store_cart_create(e->st, out, holds, nholds), err);
    free(holds);
    if (bs != BO_OK) store_cart_free(out);
    return bs;
}

bo_status cart_update(engine *e, const account *a, const char *cart_id, const cart_request *req, cart_record *out,
                      bo_error *err)
{
    cart_record old;
    bo_status bs = cart_get(e, a, cart_id, &old);
    if (bs == BO_NOT_FOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "cart_id", "no such cart");
    if (bs != BO_OK) return bo_from_store(STORE_ERROR, err);
    /* keep what the update does not restate */
    cart_request merged = *req;
    if (merged.day < 0) merged.day = old.day;
    if (merged.start_time < 0) merged.start_time = old.start_time;
    if (!merged.category_id && *old.category_id) merged.category_id = old.category_id;
    if (!merged.external_id) merged.external_id = old.external_id;
    if (!merged.extras) merged.extras = old.extras;
    if (!merged.customer) merged.customer = old.customer;
    if (!merged.channel) merged.channel = old.channel;
    if (!merged.occurrence_id && old.day < 0 && *old.occurrence) merged.occurrence_id = old.occurrence;
    memset(out, 0, sizeof *out);
    store_hold *holds = NULL;
    size_t nholds = 0;
    bs = plan_cart(e, a, &merged, out, &holds, &nholds, err);
    if (bs == BO_OK) {
        snprintf(out->id, sizeof out->id, "%s", old.id);
        out->created_at = old.created_at;
        out->updated_at = clock_now();
        out->expires_at = req->keep_expiry ? old.expires_at : out->updated_at + hold_for(e, a, req) * US_PER_SEC;
        bs = cart_outcome(store_cart_replace(e->st, out, holds, nholds), err);
    }
    free(holds);
    store_cart_free(&old);
    if (bs != BO_OK) store_cart_free(out);
    return bs;
}

bo_status cart_delete(engine *e, const account *a, const char *cart_id, bo_error *err)
{
    if (!cart_id || strlen(cart_id) > 64) return bo_fail(err, BO_NOT_FOUND, "not_found", "cart_id", "no such cart");
    return cart_outcome(store_cart_release(e->st, a->id, cart_id, clock_now()), err);
}

bo_status cart_get(engine *e, const account *a, const char *cart_id, cart_record *out)
{
    memset(out, 0, sizeof *out);
    if (!cart_id || strlen(cart_id) > 64) return BO_NOT_FOUND;
    switch (store_cart_get(e->st, a->id, cart_id, clock_now(), out)) {
    case STORE_OK: return BO_OK;
    case STORE_NOT_FOUND: return BO_NOT_FOUND;
    default: return BO_INTERNAL;
    }
}

int cart_reap_expired(engine *e)
{
    /* read first: an idle reaper writes nothing */
    bool any = false;
    if (store_carts_expired_exist(e->st, clock_now(), &any) != STORE_OK) {
        log_warn("reaper: expiry check failed, will retry");
        return 0;
    }
    if (!any) return 0;
    int total = 0;
    for (int round = 0; round < 50; round++) {
        int released = 0;
        if (store_carts_reap(e->st, clock_now(), 200, &released) != STORE_OK) {
            log_warn("reaper: release failed, will retry");
            break;
        }
        total += released;
        if (released < 200) break;
    }
    return total;
}
