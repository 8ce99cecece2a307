/* Carts: capacity held for a customer until the cart expires, is deleted, or
 * becomes an order. Creating or changing a cart takes every pool it needs in
 * one transaction, so a cart is either wholly held or not at all. */
#include "core/schedule.h"
#include "util/log.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 50
#define MAX_QUANTITY 1000

typedef struct {
    const account *a;
    const char *cart_id;
    json_t *doc;           /* new cart document */
    pool_need *needs;
    size_t nneeds;
    instant_us now, expires_at;
    bool create;
    bool is_delete;
    bool sold_out;
    bool not_open;
} cart_write;

/* Checks the request and builds the cart document and its pool needs. */
static bo_status plan_cart(engine *e, const account *a, const cart_request *req, json_t **doc_out,
                           pool_need **needs, size_t *nneeds, bo_error *err)
{
    if (req->nlines == 0) return bo_fail(err, BO_INVALID, "empty_cart", "items", "a cart needs at least one item");
    if (req->nlines > MAX_LINES) return bo_fail(err, BO_INVALID, "too_many_items", "items", "at most %d items", MAX_LINES);
    for (size_t i = 0; i < req->nlines; i++) {
        if (!req->lines[i].product_id)
            return bo_fail(err, BO_INVALID, "missing_field", "productId", "every item needs a productId");
        if (req->lines[i].quantity <= 0 || req->lines[i].quantity > MAX_QUANTITY)
            return bo_fail(err, BO_INVALID, "invalid_amount", "amount", "amount must be between 1 and %d",
                           MAX_QUANTITY);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(req->lines[i].product_id, req->lines[j].product_id))
                return bo_fail(err, BO_INVALID, "duplicate_product", "productId",
                               "product %s appears twice; send one item with the total amount",
                               req->lines[i].product_id);
    }
    slot at;
    if (occurrence_resolve(e, a, req->lines[0].product_id, req->category_id, req->day, req->start_time,
                           req->occurrence_id, &at, err) != BO_OK)
        return err->status;
    for (size_t i = 1; i < req->nlines; i++) {
        slot other;
        if (occurrence_resolve(e, a, req->lines[i].product_id, req->category_id, req->day, req->start_time,
                               req->occurrence_id, &other, err) != BO_OK)
            return err->status;
        if (strcmp(other.key, at.key))
            return bo_fail(err, BO_INVALID, "mixed_occurrences", "items",
                           "all items of a cart must be for the same date and time");
    }
    if (!at.open) return bo_fail(err, BO_SOLD_OUT, "not_available", "eventDate", "not on sale for that date or time");
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    json_t *lines = json_array();
    money total = 0;
    bool includes_tax = true;
    for (size_t i = 0; i < req->nlines; i++) {
        const json_t *p = snapshot_find(cs, CAT_PRODUCT, req->lines[i].product_id);
        int64_t q = req->lines[i].quantity;
        int64_t minq = jint(p, "min_per_order", 0), maxq = jint(p, "max_per_order", -1);
        if (!jbool(p, "enabled", true)) {
            bo_fail(err, BO_INVALID, "product_disabled", "productId", "product %s is not for sale", jstr(p, "id"));
            goto fail;
        }
        if (q < minq || (maxq >= 0 && q > maxq)) {
            bo_fail(err, BO_INVALID, "invalid_amount", "amount", "product %s is sold in amounts of %lld to %lld",
                    jstr(p, "id"), (long long)minq, (long long)(maxq >= 0 ? maxq : MAX_QUANTITY));
            goto fail;
        }
        price_quote pq;
        if (price_for(e, a, jstr(p, "id"), &at, &pq, err) != BO_OK) goto fail;
        money unit = req->unit_prices ? req->unit_prices[i] : req->use_engine_prices ? pq.unit_price : 0;
        includes_tax = pq.includes_tax;
        total += unit * q;
        json_array_append_new(lines, json_pack("{s:s,s:I,s:I,s:I}", "product_id", jstr(p, "id"), "quantity",
                                               (json_int_t)q, "unit_price", (json_int_t)unit, "gate_price",
                                               (json_int_t)pq.gate_price));
    }
    int n = pool_needs_for(cs, at.key, req->lines, req->nlines, needs, err);
    if (n < 0) goto fail;
    *nneeds = (size_t)n;
    catalog_release(cs);
    json_t *doc = json_object();
    json_object_set_new(doc, "channel", json_string(req->channel ? req->channel : "api"));
    json_object_set_new(doc, "category_id", req->category_id ? json_string(req->category_id) : json_null());
    json_object_set_new(doc, "occurrence", json_string(at.key));
    char d[11];
    if (at.day >= 0) date_format(at.day, d);
    json_object_set_new(doc, "day", at.day >= 0 ? json_string(d) : json_null());
    json_object_set_new(doc, "start_time", at.time_from >= 0 ? json_integer(at.time_from) : json_null());
    json_object_set_new(doc, "end_time", at.time_to >= 0 ? json_integer(at.time_to) : json_null());
    json_object_set_new(doc, "starts_at", at.starts_at ? json_integer(at.starts_at) : json_null());
    json_object_set_new(doc, "ends_at", at.ends_at ? json_integer(at.ends_at) : json_null());
    json_object_set_new(doc, "external_id", req->external_id ? json_string(req->external_id) : json_null());
    json_object_set_new(doc, "extras", req->extras ? json_deep_copy(req->extras) : json_object());
    json_object_set_new(doc, "customer", req->customer ? json_deep_copy(req->customer) : json_null());
    json_object_set_new(doc, "lines", lines);
    json_object_set_new(doc, "priced", json_boolean(req->unit_prices || req->use_engine_prices));
    json_object_set_new(doc, "price_includes_tax", json_boolean(includes_tax));
    json_object_set_new(doc, "total", json_integer(total));
    json_object_set_new(doc, "currency", json_string(a->currency));
    *doc_out = doc;
    return BO_OK;
fail:
    json_decref(lines);
    catalog_release(cs);
    return err->status;
}

static db_status load_holds(db_conn *c, const char *cart_id, pool_need **out, size_t *n)
{
    db_rows *r;
    db_status st = db_query(c, "SELECT pool_id, occurrence, amount FROM cart_holds WHERE cart_id = ?",
                            DB_ARGS(DB_TEXT(cart_id)), &r);
    if (st != DB_OK) return st;
    pool_need *needs = NULL;
    size_t count = 0;
    while (db_next(r)) {
        needs = realloc(needs, (count + 1) * sizeof *needs);
        memset(&needs[count], 0, sizeof needs[count]);
        snprintf(needs[count].pool_id, sizeof needs[count].pool_id, "%s", db_text(r, 0));
        snprintf(needs[count].occurrence, sizeof needs[count].occurrence, "%s", db_text(r, 1));
        needs[count].amount = db_int(r, 2);
        needs[count].capacity = -1;
        count++;
    }
    db_rows_free(r);
    *out = needs;
    *n = count;
    return DB_OK;
}

static db_status save_holds(db_conn *c, const char *cart_id, const pool_need *needs, size_t n, bool fresh)
{
    db_status st = fresh ? DB_OK : db_exec(c, "DELETE FROM cart_holds WHERE cart_id = ?", DB_ARGS(DB_TEXT(cart_id)), NULL);
    for (size_t i = 0; i < n && st == DB_OK; i++)
        st = db_exec(c, "INSERT INTO cart_holds (cart_id, pool_id, occurrence, amount) VALUES (?, ?, ?, ?)",
                     DB_ARGS(DB_TEXT(cart_id), DB_TEXT(needs[i].pool_id), DB_TEXT(needs[i].occurrence),
                             DB_INT(needs[i].amount)),
                     NULL);
    return st;
}

/* Releases what an open cart holds. Expired carts already gave it back. */
static db_status release_open_cart(db_conn *c, const char *cart_id)
{
    pool_need *old = NULL;
    size_t nold = 0;
    db_status st = load_holds(c, cart_id, &old, &nold);
    if (st == DB_OK) st = inventory_give_back(c, old, nold);
    free(old);
    return st;
}

static db_status write_cart(db_conn *c, void *arg)
{
    cart_write *w = arg;
    db_status st;
    if (!w->create) {
        char *status = NULL;
        st = db_query_text(c, "SELECT status FROM carts WHERE id = ? AND account_id = ?",
                           DB_ARGS(DB_TEXT(w->cart_id), DB_TEXT(w->a->id)), &status);
        if (st != DB_OK) return st;
        bool open = !strcmp(status, "open"), expired = !strcmp(status, "expired");
        if (!open && !expired) {
            free(status);
            w->not_open = true;
            return DB_ABORT;
        }
        /* Lock the row in the state just read; if the reaper or another
         * request changed it meanwhile, start over (on PostgreSQL). */
        int64_t locked = 0;
        st = db_exec(c, "UPDATE carts SET updated_at = ? WHERE id = ? AND status = ?",
                     DB_ARGS(DB_INT(w->now), DB_TEXT(w->cart_id), DB_TEXT(status)), &locked);
        free(status);
        if (st != DB_OK) return st;
        if (locked != 1) return DB_RETRY;
        if (open) {
            st = release_open_cart(c, w->cart_id);
            if (st != DB_OK) return st;
        }
        if (w->is_delete) {
            st = db_exec(c, "DELETE FROM cart_holds WHERE cart_id = ?", DB_ARGS(DB_TEXT(w->cart_id)), NULL);
            if (st == DB_OK)
                st = db_exec(c, "UPDATE carts SET status = 'released', updated_at = ? WHERE id = ?",
                             DB_ARGS(DB_INT(w->now), DB_TEXT(w->cart_id)), NULL);
            return st;
        }
    }
    char *text = json_dumps(w->doc, JSON_COMPACT);
    if (w->create)
        st = db_exec(c,
                     "INSERT INTO carts (id, account_id, status, channel, occurrence, expires_at, created_at,"
                     " updated_at, doc) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?)",
                     DB_ARGS(DB_TEXT(w->cart_id), DB_TEXT(w->a->id), DB_TEXT(jstr(w->doc, "channel")),
                             DB_TEXT(jstr(w->doc, "occurrence")), DB_INT(w->expires_at), DB_INT(w->now),
                             DB_INT(w->now), DB_TEXT(text)),
                     NULL);
    else
        st = db_exec(c,
                     "UPDATE carts SET status = 'open', occurrence = ?, expires_at = ?, updated_at = ?, doc = ?"
                     " WHERE id = ?",
                     DB_ARGS(DB_TEXT(jstr(w->doc, "occurrence")), DB_INT(w->expires_at), DB_INT(w->now),
                             DB_TEXT(text), DB_TEXT(w->cart_id)),
                     NULL);
    free(text);
    if (st == DB_OK) st = save_holds(c, w->cart_id, w->needs, w->nneeds, w->create);
    /* the pool rows are the contended ones: lock them last, just before commit */
    if (st == DB_OK) st = inventory_take(c, w->a->id, w->needs, w->nneeds);
    if (st == DB_ABORT) w->sold_out = true;
    return st;
}

static bo_status finish_write(engine *e, cart_write *w, bo_error *err)
{
    db_status st = store_write(e->st, write_cart, w);
    free(w->needs);
    json_decref(w->doc);
    if (st == DB_OK) return BO_OK;
    if (w->sold_out) return bo_fail(err, BO_SOLD_OUT, "sold_out", "items", "not enough tickets left; nothing was held");
    if (w->not_open) return bo_fail(err, BO_CONFLICT, "cart_closed", "cartId", "the cart was booked or deleted");
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "cartId", "no such cart");
    return bo_from_db(st, err);
}

static int64_t hold_for(const engine *e, const account *a, const cart_request *req)
{
    if (req->hold_seconds > 0) return req->hold_seconds;
    return a->hold_seconds > 0 ? a->hold_seconds : e->cfg.default_hold_seconds;
}

bo_status cart_create(engine *e, const account *a, const cart_request *req, char cart_id[40], bo_error *err)
{
    cart_write w = {.a = a, .create = true, .now = clock_now()};
    if (plan_cart(e, a, req, &w.doc, &w.needs, &w.nneeds, err) != BO_OK) return err->status;
    rand_uuid(cart_id);
    w.cart_id = cart_id;
    w.expires_at = w.now + hold_for(e, a, req) * US_PER_SEC;
    return finish_write(e, &w, err);
}

bo_status cart_update(engine *e, const account *a, const char *cart_id, const cart_request *req, bo_error *err)
{
    json_t *old = NULL;
    if (cart_get(e, a, cart_id, &old) != BO_OK) return bo_fail(err, BO_NOT_FOUND, "not_found", "cartId", "no such cart");
    /* keep what the update does not restate */
    cart_request merged = *req;
    civil_date day = -1;
    int32_t t = -1;
    if (merged.day < 0 && jstr(old, "day")) date_parse(jstr(old, "day"), &day), merged.day = day;
    if (merged.start_time < 0 && json_is_integer(json_object_get(old, "start_time")))
        t = (int32_t)jint(old, "start_time", -1), merged.start_time = t;
    if (!merged.category_id) merged.category_id = jstr(old, "category_id");
    if (!merged.external_id) merged.external_id = jstr(old, "external_id");
    if (!merged.extras) merged.extras = json_object_get(old, "extras");
    if (!merged.customer && json_is_object(json_object_get(old, "customer")))
        merged.customer = json_object_get(old, "customer");
    if (!merged.channel) merged.channel = jstr(old, "channel");
    if (!merged.occurrence_id && !jstr(old, "day") && jstr(old, "occurrence") && *jstr(old, "occurrence"))
        merged.occurrence_id = jstr(old, "occurrence");
    cart_write w = {.a = a, .cart_id = cart_id, .now = clock_now()};
    bo_status bs = plan_cart(e, a, &merged, &w.doc, &w.needs, &w.nneeds, err);
    if (bs == BO_OK) {
        w.expires_at = w.now + hold_for(e, a, req) * US_PER_SEC;
        bs = finish_write(e, &w, err);
    }
    json_decref(old);
    return bs;
}

bo_status cart_delete(engine *e, const account *a, const char *cart_id, bo_error *err)
{
    cart_write w = {.a = a, .cart_id = cart_id, .is_delete = true, .now = clock_now()};
    db_status st = store_write(e->st, write_cart, &w);
    if (st == DB_OK) return BO_OK;
    if (w.not_open) return bo_fail(err, BO_CONFLICT, "cart_closed", "cartId", "the cart was booked or deleted");
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "cartId", "no such cart");
    return bo_from_db(st, err);
}

typedef struct {
    const account *a;
    const char *cart_id;
    json_t *out;
} cart_read;

static db_status read_cart(db_conn *c, void *arg)
{
    cart_read *r = arg;
    db_rows *rows;
    db_status st = db_query(c,
                            "SELECT status, expires_at, created_at, updated_at, order_id, doc FROM carts"
                            " WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(r->cart_id), DB_TEXT(r->a->id)), &rows);
    if (st != DB_OK) return st;
    if (!db_next(rows)) {
        db_rows_free(rows);
        return DB_NOTFOUND;
    }
    json_t *doc = json_loads(db_text(rows, 5), 0, NULL);
    if (!doc) doc = json_object();
    const char *status = db_text(rows, 0);
    instant_us expires = db_int(rows, 1);
    /* a cart past its expiry reads as expired even before the reaper ran */
    if (!strcmp(status, "open") && expires <= clock_now()) status = "expired";
    json_object_set_new(doc, "id", json_string(r->cart_id));
    json_object_set_new(doc, "status", json_string(status));
    json_object_set_new(doc, "expires_at", json_integer(expires));
    json_object_set_new(doc, "created_at", json_integer(db_int(rows, 2)));
    json_object_set_new(doc, "updated_at", json_integer(db_int(rows, 3)));
    json_object_set_new(doc, "order_id", db_isnull(rows, 4) ? json_null() : json_string(db_text(rows, 4)));
    db_rows_free(rows);
    r->out = doc;
    return DB_OK;
}

bo_status cart_get(engine *e, const account *a, const char *cart_id, json_t **out)
{
    if (!cart_id || strlen(cart_id) > 64) return BO_NOT_FOUND;
    cart_read r = {a, cart_id, NULL};
    db_status st = store_read(e->st, read_cart, &r);
    if (st == DB_NOTFOUND) return BO_NOT_FOUND;
    if (st != DB_OK) return BO_INTERNAL;
    json_object_set_new(r.out, "timezone", json_string(a->timezone));
    *out = r.out;
    return BO_OK;
}

typedef struct {
    instant_us now;
    int released;
} reap_ctx;

static db_status reap(db_conn *c, void *arg)
{
    reap_ctx *rc = arg;
    db_rows *r;
    db_status st = db_query(c, "SELECT id FROM carts WHERE status = 'open' AND expires_at <= ? LIMIT 200",
                            DB_ARGS(DB_INT(rc->now)), &r);
    if (st != DB_OK) return st;
    char (*ids)[40] = NULL;
    size_t n = 0;
    while (db_next(r)) {
        ids = realloc(ids, (n + 1) * sizeof *ids);
        snprintf(ids[n++], 40, "%s", db_text(r, 0));
    }
    db_rows_free(r);
    for (size_t i = 0; i < n && st == DB_OK; i++) {
        /* Claim first: a booking, update or delete that got to the cart
         * meanwhile owns its seats now, and giving them back would oversell.
         * cart_holds stay: booking an expired cart takes the same amounts again. */
        int64_t claimed = 0;
        st = db_exec(c,
                     "UPDATE carts SET status = 'expired', updated_at = ? WHERE id = ? AND status = 'open'"
                     " AND expires_at <= ?",
                     DB_ARGS(DB_INT(rc->now), DB_TEXT(ids[i]), DB_INT(rc->now)), &claimed);
        if (st == DB_OK && claimed == 1) st = release_open_cart(c, ids[i]);
    }
    free(ids);
    rc->released = (int)n;
    return st;
}

int cart_reap_expired(engine *e)
{
    int total = 0;
    for (int round = 0; round < 50; round++) {
        reap_ctx rc = {clock_now(), 0};
        if (store_write(e->st, reap, &rc) != DB_OK) {
            log_warn("reaper: release failed, will retry");
            break;
        }
        total += rc.released;
        if (rc.released < 200) break;
    }
    return total;
}
