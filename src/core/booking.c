/* Orders and tickets: booking a cart, cancelling, paying later, issuing and
 * voiding single tickets. Each is one transaction: capacity, order, tickets,
 * payments and the outbox events commit together or not at all. */
#include "core/internal.h"
#include "util/log.h"
#include "util/secure.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BARCODE_DIGITS 20 /* 66 bits from the CSPRNG */

/* ---------- ticket construction ---------- */

typedef struct {
    money gross, net, tax_total;
    json_t *taxes;
} ticket_price;

/* Gross, net and the tax lines of one ticket charged `amount` in the product's
 * tax mode (amount includes tax when the product's prices do). */
static ticket_price price_ticket(const json_t *product, money amount)
{
    ticket_price tp = {.taxes = json_array()};
    bool inclusive = jbool(product, "price_includes_tax", true);
    size_t i;
    json_t *tax;
    json_array_foreach(json_object_get(product, "taxes"), i, tax)
    {
        tax_split s = tax_compute(amount, (int32_t)jint(tax, "rate_bp", 0), (int32_t)jint(tax, "proportion_bp", 10000),
                                  inclusive);
        tp.tax_total += s.tax;
        json_array_append_new(tp.taxes, json_pack("{s:s,s:I,s:I,s:I,s:I}", "type", jstr(tax, "type"), "rate_bp",
                                                  (json_int_t)jint(tax, "rate_bp", 0), "proportion_bp",
                                                  (json_int_t)jint(tax, "proportion_bp", 10000), "taxable",
                                                  (json_int_t)s.taxable, "tax", (json_int_t)s.tax));
    }
    tp.gross = inclusive ? amount : amount + tp.tax_total;
    tp.net = inclusive ? amount - tp.tax_total : amount;
    return tp;
}

/* Validity window: the visit day (venue zone) for dated tickets, the
 * product's valid window or a duration from purchase for undated ones. */
static void validity(const json_t *product, const json_t *cart, const char *tz, instant_us now, instant_us *from,
                     instant_us *to)
{
    civil_date d;
    *from = 0;
    *to = 0;
    if (jstr(cart, "day") && date_parse(jstr(cart, "day"), &d)) {
        *from = tz_local_to_instant(tz, d, 0);
        *to = tz_local_to_instant(tz, d + 1, 0) - 1;
        instant_us ends = jint(cart, "ends_at", 0);
        if (ends > *to) *to = ends;
    } else {
        if (jstr(product, "valid_from") && date_parse(jstr(product, "valid_from"), &d))
            *from = tz_local_to_instant(tz, d, 0);
        if (jstr(product, "valid_to") && date_parse(jstr(product, "valid_to"), &d))
            *to = tz_local_to_instant(tz, d + 1, 0) - 1;
    }
    json_t *scan = json_object_get(product, "scan");
    int64_t dur = jint(scan, "validity_seconds", 0);
    if (dur > 0) {
        if (!*from) *from = now;
        instant_us until = now + dur * US_PER_SEC;
        if (!*to || until < *to) *to = until;
    }
}

typedef struct {
    const account *a;
    const char *order_id;     /* NULL for tickets without an order */
    const char *line_id;
    const json_t *product;
    const char *occurrence;
    const char *event_id;
    money unit, discount;
    instant_us valid_from, valid_to, now;
    json_t *holder;           /* borrowed */
    const char *status;       /* "valid" or "unpaid" */
    char id_out[40];
} ticket_spec;

static db_status insert_ticket(db_conn *c, const catalog_snapshot *cs, ticket_spec *t)
{
    ticket_price before = price_ticket(t->product, t->unit);
    ticket_price tp = price_ticket(t->product, t->unit - t->discount);
    json_decref(before.taxes);
    json_t *scan = json_object_get(t->product, "scan");
    const char *limit = jstr(scan, "limit") ? jstr(scan, "limit") : "once";
    json_t *pools = json_array();
    size_t i;
    json_t *use;
    json_array_foreach(json_object_get(t->product, "pools"), i, use)
    {
        const json_t *pool = snapshot_find(cs, CAT_POOL, jstr(use, "pool_id"));
        if (!pool || !json_is_integer(json_object_get(pool, "capacity"))) continue;
        const char *per = jstr(pool, "per");
        json_array_append_new(pools, json_pack("{s:s,s:s,s:I}", "pool_id", jstr(use, "pool_id"), "occurrence",
                                               per && !strcmp(per, "total") ? "" : t->occurrence, "amount",
                                               (json_int_t)jint(use, "amount", 1)));
    }
    json_t *doc = json_pack("{s:O,s:s,s:o,s:O,s:o,s:I,s:I,s:I}", "product_name", json_object_get(t->product, "name"),
                            "barcode_format",
                            jstr(t->product, "barcode_format") ? jstr(t->product, "barcode_format") : "code128",
                            "taxes", tp.taxes, "holder", t->holder ? t->holder : json_null(), "pools", pools,
                            "gate_price", (json_int_t)jint(t->product, "gate_price", t->unit), "booking_fee",
                            (json_int_t)jint(t->product, "booking_fee", 0), "tax_total", (json_int_t)tp.tax_total);
    json_object_set_new(doc, "allow_overtime", json_boolean(jbool(scan, "allow_overtime", false)));
    json_object_set_new(doc, "discounted_gross", json_integer(tp.gross));
    json_object_set_new(doc, "discounted_net", json_integer(tp.net));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    rand_uuid(t->id_out);
    char barcode[BARCODE_DIGITS + 1];
    rand_digits(barcode, BARCODE_DIGITS);
    int64_t times = !strcmp(limit, "times_per_day") ? jint(scan, "times", 1) : 1;
    json_t *max = json_object_get(scan, "max_scans");
    json_t *dur = json_object_get(scan, "time_seconds");
    db_status st = db_exec(
        c,
        "INSERT INTO tickets (id, account_id, order_id, line_id, product_id, event_id, occurrence, barcode, status,"
        " price_gross, price_net, discount, valid_from, valid_to, scan_limit, scan_times, max_scans, time_duration,"
        " allow_overtime, in_out, created_at, updated_at, doc)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        DB_ARGS(DB_TEXT(t->id_out), DB_TEXT(t->a->id), DB_TEXT(t->order_id), DB_TEXT(t->line_id),
                DB_TEXT(jstr(t->product, "id")), DB_TEXT(t->event_id), DB_TEXT(t->occurrence), DB_TEXT(barcode),
                DB_TEXT(t->status), DB_INT(before.gross), DB_INT(before.net), DB_INT(before.gross - tp.gross),
                t->valid_from ? DB_INT(t->valid_from) : DB_NULL, t->valid_to ? DB_INT(t->valid_to) : DB_NULL,
                DB_TEXT(limit), DB_INT(times), json_is_integer(max) ? DB_INT(json_integer_value(max)) : DB_NULL,
                json_is_integer(dur) ? DB_INT(json_integer_value(dur)) : DB_NULL,
                DB_INT(jbool(scan, "allow_overtime", false)), DB_INT(jbool(scan, "in_out", false)), DB_INT(t->now),
                DB_INT(t->now), DB_TEXT(text)),
        NULL);
    free(text);
    /* a barcode collision is astronomically unlikely; retrying makes new ones */
    return st == DB_CONFLICT ? DB_RETRY : st;
}

/* ---------- discounts ---------- */

static const json_t *find_discount(const catalog_snapshot *cs, const char *code)
{
    const char *id;
    json_t *d;
    json_object_foreach(cs->objects[CAT_DISCOUNT], id, d) if (jstr(d, "code") && !strcasecmp(jstr(d, "code"), code))
        return d;
    return NULL;
}

static bool discount_applies(const json_t *d, const char *product_id)
{
    json_t *ids = json_object_get(d, "product_ids");
    if (json_array_size(ids) == 0) return true;
    size_t i;
    json_t *x;
    json_array_foreach(ids, i, x) if (!strcmp(json_string_value(x), product_id)) return true;
    return false;
}

static money discount_per_ticket(const json_t *d, money unit)
{
    money off = !strcmp(jstr(d, "type"), "percentage") ? div_round(unit * jint(d, "percent_bp", 0), 10000)
                                                        : jint(d, "amount", 0);
    return off > unit ? unit : off;
}

/* ---------- booking ---------- */

typedef struct {
    const account *a;
    const book_request *req;
    const catalog_snapshot *cs;
    const json_t *discount;
    instant_us now;
    char order_id[40];
    bool created, closed, sold_out, discount_exhausted;
    const char *voucher_problem;
    money voucher_paid;
} book_ctx;

/* Pays up to `due` from a voucher code; the conditional update keeps two
 * orders from spending the same value. */
static db_status spend_voucher(db_conn *c, book_ctx *b, const char *code, money due)
{
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, voucher_id, remaining, status FROM voucher_codes WHERE account_id = ? AND code = ?",
                            DB_ARGS(DB_TEXT(b->a->id), DB_TEXT(code)), &r);
    if (st != DB_OK) return st;
    if (!db_next(r)) {
        db_rows_free(r);
        b->voucher_problem = "unknown voucher code";
        return DB_ABORT;
    }
    char id[48], voucher_id[48];
    snprintf(id, sizeof id, "%s", db_text(r, 0));
    snprintf(voucher_id, sizeof voucher_id, "%s", db_text(r, 1));
    money remaining = db_int(r, 2);
    bool available = !strcmp(db_text(r, 3), "available");
    db_rows_free(r);
    const json_t *voucher = snapshot_find(b->cs, CAT_VOUCHER, voucher_id);
    instant_us expires;
    if (!voucher || !available || remaining <= 0) {
        b->voucher_problem = "voucher code is used up or void";
        return DB_ABORT;
    }
    if (jstr(voucher, "expires_at") && iso_parse(jstr(voucher, "expires_at"), NULL, &expires) && expires < b->now) {
        b->voucher_problem = "voucher has expired";
        return DB_ABORT;
    }
    money spend = remaining < due ? remaining : due;
    if (spend <= 0) return DB_OK;
    b->voucher_paid = spend;
    int64_t changed = 0;
    st = db_exec(c,
                 "UPDATE voucher_codes SET remaining = remaining - ?, updated_at = ?,"
                 " status = CASE WHEN remaining - ? = 0 THEN 'used' ELSE status END"
                 " WHERE id = ? AND status = 'available' AND remaining >= ?",
                 DB_ARGS(DB_INT(spend), DB_INT(b->now), DB_INT(spend), DB_TEXT(id), DB_INT(spend)), &changed);
    if (st != DB_OK) return st;
    if (changed != 1) return DB_RETRY; /* spent by a concurrent order: look again */
    st = db_exec(c,
                 "INSERT INTO payments (account_id, order_id, kind, provider, method, status, amount, reference,"
                 " created_at, updated_at) VALUES (?, ?, 'payment', 'voucher', 'voucher', 'paid', ?, ?, ?, ?)",
                 DB_ARGS(DB_TEXT(b->a->id), DB_TEXT(b->order_id), DB_INT(spend), DB_TEXT(code), DB_INT(b->now),
                         DB_INT(b->now)),
                 NULL);
    if (st == DB_OK)
        st = db_exec(c,
                     "INSERT INTO redemptions (account_id, object_kind, object_id, code, order_id, amount, created_at)"
                     " VALUES (?, 'voucher', ?, ?, ?, ?, ?)",
                     DB_ARGS(DB_TEXT(b->a->id), DB_TEXT(voucher_id), DB_TEXT(code), DB_TEXT(b->order_id),
                             DB_INT(spend), DB_INT(b->now)),
                     NULL);
    return st;
}

static json_t *merged_object(const json_t *base, const json_t *over)
{
    json_t *m = json_is_object(base) ? json_deep_copy(base) : json_object();
    if (json_is_object(over)) json_object_update(m, (json_t *)over);
    return m;
}

static db_status book_fn(db_conn *c, void *arg)
{
    book_ctx *b = arg;
    const book_request *req = b->req;
    b->created = false;
    b->voucher_problem = NULL;
    b->voucher_paid = 0;
    db_rows *r;
    db_status st = db_query(c, "SELECT status, order_id, doc FROM carts WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(req->cart_id), DB_TEXT(b->a->id)), &r);
    if (st != DB_OK) return st;
    if (!db_next(r)) {
        db_rows_free(r);
        return DB_NOTFOUND;
    }
    char status[16];
    snprintf(status, sizeof status, "%s", db_text(r, 0));
    if (!db_isnull(r, 1)) {
        snprintf(b->order_id, sizeof b->order_id, "%s", db_text(r, 1));
        db_rows_free(r);
        return DB_OK; /* booked before: the same order again */
    }
    json_t *cart = json_loads(db_text(r, 2), 0, NULL);
    db_rows_free(r);
    if (!cart) return DB_ERROR;
    if (strcmp(status, "open") && strcmp(status, "expired")) {
        json_decref(cart);
        b->closed = true;
        return DB_ABORT;
    }
    /* Claim the cart in the state just read: a concurrent booking, delete or
     * the reaper that got there first makes this run again and see it. */
    rand_uuid(b->order_id);
    int64_t claimed = 0;
    st = db_exec(c, "UPDATE carts SET status = 'booked', order_id = ?, updated_at = ? WHERE id = ? AND status = ?",
                 DB_ARGS(DB_TEXT(b->order_id), DB_INT(b->now), DB_TEXT(req->cart_id), DB_TEXT(status)), &claimed);
    if (st != DB_OK || claimed != 1) {
        json_decref(cart);
        return st != DB_OK ? st : DB_RETRY;
    }
    /* an expired cart's seats were given back by the reaper: take them again */
    if (!strcmp(status, "expired")) {
        db_rows *hr;
        st = db_query(c, "SELECT pool_id, occurrence, amount FROM cart_holds WHERE cart_id = ?",
                      DB_ARGS(DB_TEXT(req->cart_id)), &hr);
        if (st != DB_OK) {
            json_decref(cart);
            return st;
        }
        pool_need *needs = NULL;
        size_t nneeds = 0;
        while (db_next(hr)) {
            needs = realloc(needs, (nneeds + 1) * sizeof *needs);
            memset(&needs[nneeds], 0, sizeof *needs);
            snprintf(needs[nneeds].pool_id, sizeof needs->pool_id, "%s", db_text(hr, 0));
            snprintf(needs[nneeds].occurrence, sizeof needs->occurrence, "%s", db_text(hr, 1));
            needs[nneeds].amount = db_int(hr, 2);
            needs[nneeds].capacity = -1;
            nneeds++;
        }
        db_rows_free(hr);
        st = inventory_take(c, b->a->id, needs, nneeds);
        if (st == DB_ABORT) b->sold_out = true;
        free(needs);
        if (st != DB_OK) {
            json_decref(cart);
            return st;
        }
    }

    char number[12];
    rand_digits(number, 8);
    const char *occurrence = jstr(cart, "occurrence");
    money total_gross = 0, total_net = 0, discount_total = 0, after_gross = 0, after_net = 0, fee_total = 0;
    int64_t quantity = 0;
    const char *event_id = NULL, *category_id = jstr(cart, "category_id");
    instant_us vf = 0, vt = 0;
    size_t i;
    json_t *line;
    json_array_foreach(json_object_get(cart, "lines"), i, line)
    {
        const json_t *product = snapshot_find(b->cs, CAT_PRODUCT, jstr(line, "product_id"));
        if (!product) {
            json_decref(cart);
            return DB_ERROR;
        }
        if (!event_id) event_id = jstr(product, "event_id");
        if (!category_id && json_array_size(json_object_get(product, "category_ids")))
            category_id = json_string_value(json_array_get(json_object_get(product, "category_ids"), 0));
        char line_id[37];
        rand_uuid(line_id);
        money unit = jint(line, "unit_price", 0);
        money off = b->discount && discount_applies(b->discount, jstr(product, "id"))
                        ? discount_per_ticket(b->discount, unit)
                        : 0;
        int64_t q = jint(line, "quantity", 0);
        validity(product, cart, b->a->timezone, b->now, &vf, &vt);
        for (int64_t k = 0; k < q; k++) {
            ticket_spec t = {b->a, b->order_id, line_id, product, occurrence, event_id, unit, off, vf, vt, b->now,
                             NULL, req->status && !strcmp(req->status, "open") ? "unpaid" : "valid", {0}};
            st = insert_ticket(c, b->cs, &t);
            if (st != DB_OK) {
                json_decref(cart);
                return st;
            }
        }
        ticket_price tp = price_ticket(product, unit);
        ticket_price after = price_ticket(product, unit - off);
        json_decref(tp.taxes);
        json_decref(after.taxes);
        total_gross += tp.gross * q;
        total_net += tp.net * q;
        discount_total += (tp.gross - after.gross) * q;
        after_gross += after.gross * q;
        after_net += after.net * q;
        fee_total += jint(product, "booking_fee", 0) * q;
        quantity += q;
    }
    if (b->discount) {
        char counter[80];
        snprintf(counter, sizeof counter, "discount:%s", jstr(b->discount, "id"));
        int64_t used;
        st = counter_next(c, b->a->id, counter, &used);
        json_t *max = json_object_get(b->discount, "max_redemptions");
        if (st == DB_OK && json_is_integer(max) && used > json_integer_value(max)) {
            b->discount_exhausted = true;
            st = DB_ABORT;
        }
        if (st == DB_OK)
            st = db_exec(c,
                         "INSERT INTO redemptions (account_id, object_kind, object_id, code, order_id, amount,"
                         " created_at) VALUES (?, 'discount', ?, ?, ?, ?, ?)",
                         DB_ARGS(DB_TEXT(b->a->id), DB_TEXT(jstr(b->discount, "id")),
                                 DB_TEXT(jstr(b->discount, "code")), DB_TEXT(b->order_id), DB_INT(discount_total),
                                 DB_INT(b->now)),
                         NULL);
        if (st != DB_OK) {
            json_decref(cart);
            return st;
        }
    }
    json_t *customer = merged_object(json_object_get(cart, "customer"), req->customer);
    json_t *extras = merged_object(json_object_get(cart, "extras"), req->extras);
    json_t *discounts = json_array();
    if (b->discount)
        json_array_append_new(discounts,
                              json_pack("{s:s,s:s,s:s,s:I,s:s?}", "code", jstr(b->discount, "code"), "type",
                                        jstr(b->discount, "type"), "name",
                                        jstr(b->discount, "name") ? jstr(b->discount, "name") : jstr(b->discount, "code"),
                                        "amount", (json_int_t)discount_total, "external_id",
                                        jstr(b->discount, "external_id")));
    json_t *doc = json_pack("{s:o,s:o,s:s?,s:O,s:O,s:O,s:s?,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "customer", customer,
                            "extras", extras, "category_id", category_id, "visit_time",
                            json_object_get(cart, "start_time"), "visit_end_time", json_object_get(cart, "end_time"),
                            "starts_at", json_object_get(cart, "starts_at"), "occurrence", occurrence, "quantity",
                            (json_int_t)quantity, "total_after_discount_gross", (json_int_t)after_gross,
                            "total_after_discount_net", (json_int_t)after_net, "booking_fee_total",
                            (json_int_t)fee_total, "pricing_tax_included",
                            (json_int_t)jbool(cart, "price_includes_tax", true), "discounts", discounts,
                            "reseller", json_pack("{s:s?,s:s?}", "id", req->reseller_id, "name", req->reseller_name));
    json_object_set_new(doc, "event_id", event_id ? json_string(event_id) : json_null());
    char *doc_text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    const char *email = jstr(req->customer, "email") ? jstr(req->customer, "email")
                                                      : jstr(json_object_get(cart, "customer"), "email");
    const char *name = jstr(req->customer, "name") ? jstr(req->customer, "name")
                                                    : jstr(json_object_get(cart, "customer"), "name");
    const char *order_status = req->status && !strcmp(req->status, "open") ? "open" : "confirmed";
    const char *channel = req->channel ? req->channel : jstr(cart, "channel");
    if (req->voucher_code && *req->voucher_code) {
        st = spend_voucher(c, b, req->voucher_code, after_gross + fee_total);
        if (st != DB_OK) {
            free(doc_text);
            json_decref(cart);
            return st;
        }
    }
    money due = after_gross + fee_total - b->voucher_paid;
    if (req->payment && (req->payment->amount >= 0 || due > 0 || !b->voucher_paid)) {
        const payment_input *p = req->payment;
        money amount = p->amount >= 0 ? p->amount : due;
        st = db_exec(c,
                     "INSERT INTO payments (account_id, order_id, kind, provider, method, status, amount, reference,"
                     " created_at, updated_at) VALUES (?, ?, 'payment', ?, ?, ?, ?, ?, ?, ?)",
                     DB_ARGS(DB_TEXT(b->a->id), DB_TEXT(b->order_id), DB_TEXT(p->provider), DB_TEXT(p->method),
                             DB_TEXT(p->status ? p->status : "paid"), DB_INT(amount), DB_TEXT(p->reference),
                             DB_INT(b->now), DB_INT(b->now)),
                     NULL);
    }
    /* The account's change counter is a hot row: take it last, so its lock is
     * held for one statement and the commit only. */
    int64_t seq = 0;
    if (st == DB_OK) st = counter_next(c, b->a->id, "order_change", &seq);
    if (st == DB_OK)
        st = db_exec(c,
                     "INSERT INTO orders (id, account_id, number, status, channel, cart_id, external_id, email,"
                     " customer_name, reseller_id, visit_date, currency, total_gross, total_net, discount_total,"
                     " created_at, updated_at, change_seq, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                     " ?, ?, ?, ?)",
                     DB_ARGS(DB_TEXT(b->order_id), DB_TEXT(b->a->id), DB_TEXT(number), DB_TEXT(order_status),
                             DB_TEXT(channel), DB_TEXT(req->cart_id), DB_TEXT(jstr(cart, "external_id")),
                             DB_TEXT(email), DB_TEXT(name), DB_TEXT(req->reseller_id), DB_TEXT(jstr(cart, "day")),
                             DB_TEXT(b->a->currency), DB_INT(total_gross), DB_INT(total_net), DB_INT(discount_total),
                             DB_INT(b->now), DB_INT(b->now), DB_INT(seq), DB_TEXT(doc_text)),
                     NULL);
    free(doc_text);
    json_decref(cart);
    if (st == DB_CONFLICT) return DB_RETRY; /* order number taken, or a concurrent booking of this cart won */
    if (st != DB_OK) return st;
    bool wanted;
    st = events_wanted(c, b->a->id, &wanted);
    if (st != DB_OK || !wanted) {
        if (st == DB_OK) b->created = true;
        return st;
    }
    json_t *order;
    st = order_load_json(c, b->a->id, b->a->timezone, b->order_id, &order);
    if (st != DB_OK) return st;
    st = events_record(c, b->a->id, EV_ORDER_CREATED, b->order_id, order);
    json_t *t;
    json_array_foreach(json_object_get(order, "tickets"), i, t)
    {
        if (st == DB_OK) st = events_record(c, b->a->id, EV_TICKET_CREATED, jstr(t, "id"), t);
    }
    json_decref(order);
    if (st == DB_OK) b->created = true;
    return st;
}

bo_status order_book(engine *e, const account *a, const book_request *req, char order_id[40], bool *created,
                     bo_error *err)
{
    if (!req->cart_id || strlen(req->cart_id) > 64)
        return bo_fail(err, BO_INVALID, "missing_field", "cartId", "cartId is required");
    if (req->customer && !json_is_object(req->customer))
        return bo_fail(err, BO_INVALID, "invalid_field", "customer", "customer must be an object");
    if (req->extras && !json_is_object(req->extras))
        return bo_fail(err, BO_INVALID, "invalid_field", "extras", "extras must be an object");
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    book_ctx b = {.a = a, .req = req, .cs = cs, .now = clock_now()};
    if (req->discount_code && *req->discount_code) {
        b.discount = find_discount(cs, req->discount_code);
        instant_us exp;
        if (!b.discount) {
            catalog_release(cs);
            return bo_fail(err, BO_INVALID, "invalid_discount", "discount_code", "unknown discount code");
        }
        if (jstr(b.discount, "expires_at") && iso_parse(jstr(b.discount, "expires_at"), NULL, &exp) && exp < b.now) {
            catalog_release(cs);
            return bo_fail(err, BO_INVALID, "discount_expired", "discount_code", "discount code has expired");
        }
    }
    db_status st = store_write(e->st, book_fn, &b);
    catalog_release(cs);
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "cart_not_found", "cartId", "no such cart");
    if (b.closed) return bo_fail(err, BO_CONFLICT, "cart_closed", "cartId", "the cart was deleted");
    if (b.sold_out)
        return bo_fail(err, BO_SOLD_OUT, "sold_out", "cartId", "the cart expired and its tickets were sold meanwhile");
    if (b.discount_exhausted)
        return bo_fail(err, BO_CONFLICT, "discount_exhausted", "discount_code", "discount code was used up");
    if (b.voucher_problem) return bo_fail(err, BO_INVALID, "invalid_voucher", "voucher_code", "%s", b.voucher_problem);
    if (st != DB_OK) return bo_from_db(st, err);
    memcpy(order_id, b.order_id, 40);
    if (created) *created = b.created;
    return BO_OK;
}

/* ---------- changes to existing orders and tickets ---------- */

db_status order_touch(db_conn *c, const account *a, const char *order_id, instant_us now)
{
    int64_t seq;
    db_status st = counter_next(c, a->id, "order_change", &seq);
    if (st == DB_OK)
        st = db_exec(c, "UPDATE orders SET updated_at = ?, change_seq = ? WHERE id = ?",
                     DB_ARGS(DB_INT(now), DB_INT(seq), DB_TEXT(order_id)), NULL);
    bool wanted;
    if (st == DB_OK) st = events_wanted(c, a->id, &wanted);
    if (st != DB_OK || !wanted) return st;
    json_t *order;
    st = order_load_json(c, a->id, a->timezone, order_id, &order);
    if (st != DB_OK) return st;
    st = events_record(c, a->id, EV_ORDER_UPDATED, order_id, order);
    json_decref(order);
    return st;
}

/* Gives a ticket's seats back and marks it with new_status. */
static db_status release_ticket(db_conn *c, const account *a, const char *ticket_id, const char *new_status,
                                json_t *refund, instant_us now)
{
    char *doc_text = NULL;
    db_status st = db_query_text(c, "SELECT doc FROM tickets WHERE id = ? AND account_id = ?",
                                 DB_ARGS(DB_TEXT(ticket_id), DB_TEXT(a->id)), &doc_text);
    if (st != DB_OK) return st;
    json_t *doc = json_loads(doc_text, 0, NULL);
    free(doc_text);
    if (!doc) return DB_ERROR;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "pools"), i, p)
    {
        pool_need n = {0};
        snprintf(n.pool_id, sizeof n.pool_id, "%s", jstr(p, "pool_id"));
        snprintf(n.occurrence, sizeof n.occurrence, "%s", jstr(p, "occurrence"));
        n.amount = jint(p, "amount", 1);
        if (st == DB_OK) st = inventory_give_back(c, &n, 1);
    }
    if (refund) json_object_set(doc, "refund", refund);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (st == DB_OK)
        st = db_exec(c,
                     "UPDATE tickets SET status = ?, invalidated_at = ?, updated_at = ?, version = version + 1,"
                     " doc = ? WHERE id = ?",
                     DB_ARGS(DB_TEXT(new_status), DB_INT(now), DB_INT(now), DB_TEXT(text), DB_TEXT(ticket_id)), NULL);
    free(text);
    bool wanted;
    if (st == DB_OK) st = events_wanted(c, a->id, &wanted);
    if (st != DB_OK || !wanted) return st;
    json_t *t;
    st = ticket_load_json(c, a->id, ticket_id, &t);
    if (st == DB_OK) st = events_record(c, a->id, EV_TICKET_UPDATED, ticket_id, t);
    json_decref(t);
    return st;
}

typedef struct {
    const account *a;
    const char *order_id, *reason, *by;
    instant_us now;
    bool already;
} cancel_ctx;

static db_status cancel_fn(db_conn *c, void *arg)
{
    cancel_ctx *x = arg;
    char *status = NULL;
    db_status st = db_query_text(c, "SELECT status FROM orders WHERE id = ? AND account_id = ?",
                                 DB_ARGS(DB_TEXT(x->order_id), DB_TEXT(x->a->id)), &status);
    if (st != DB_OK) return st;
    bool cancelled = !strcmp(status, "cancelled");
    free(status);
    if (cancelled) {
        x->already = true;
        return DB_ABORT;
    }
    /* refund every paid payment in full */
    money paid = 0;
    db_rows *r;
    st = db_query(c,
                  "SELECT COALESCE(SUM(amount), 0) FROM payments WHERE order_id = ? AND kind = 'payment'"
                  " AND status = 'paid'",
                  DB_ARGS(DB_TEXT(x->order_id)), &r);
    if (st != DB_OK) return st;
    if (db_next(r)) paid = db_int(r, 0);
    db_rows_free(r);
    /* a cancellation refunds in full: every paid payment (even of 0.00) is
     * marked refunded, and a refund row records any money going back */
    st = db_exec(c, "UPDATE payments SET status = 'refunded', updated_at = ? WHERE order_id = ? AND kind = 'payment'"
                    " AND status = 'paid'",
                 DB_ARGS(DB_INT(x->now), DB_TEXT(x->order_id)), NULL);
    if (st != DB_OK) return st;
    if (paid > 0) {
        st = db_exec(c,
                         "INSERT INTO payments (account_id, order_id, kind, provider, method, status, amount,"
                         " created_at, updated_at) VALUES (?, ?, 'refund', NULL, NULL, 'refunded', ?, ?, ?)",
                         DB_ARGS(DB_TEXT(x->a->id), DB_TEXT(x->order_id), DB_INT(paid), DB_INT(x->now),
                                 DB_INT(x->now)),
                         NULL);
        if (st != DB_OK) return st;
    }
    st = db_query(c, "SELECT id, price_gross - discount FROM tickets WHERE order_id = ? AND status IN ('valid', 'unpaid')",
                  DB_ARGS(DB_TEXT(x->order_id)), &r);
    if (st != DB_OK) return st;
    char (*ids)[40] = NULL;
    money *amounts = NULL;
    size_t n = 0;
    while (db_next(r)) {
        ids = realloc(ids, (n + 1) * sizeof *ids);
        amounts = realloc(amounts, (n + 1) * sizeof *amounts);
        snprintf(ids[n], 40, "%s", db_text(r, 0));
        amounts[n++] = db_int(r, 1);
    }
    db_rows_free(r);
    for (size_t i = 0; i < n && st == DB_OK; i++) {
        json_t *refund = json_pack("{s:s?,s:s?,s:I,s:I,s:b}", "reason", x->reason, "by", x->by, "at",
                                   (json_int_t)x->now, "amount", (json_int_t)amounts[i], "paid", paid > 0);
        st = release_ticket(c, x->a, ids[i], "refunded", refund, x->now);
        json_decref(refund);
    }
    free(ids);
    free(amounts);
    if (st != DB_OK) return st;
    char *doc_text = NULL;
    st = db_query_text(c, "SELECT doc FROM orders WHERE id = ?", DB_ARGS(DB_TEXT(x->order_id)), &doc_text);
    if (st != DB_OK) return st;
    json_t *doc = json_loads(doc_text, 0, NULL);
    free(doc_text);
    if (!doc) doc = json_object();
    json_object_set_new(doc, "status_reason", x->reason ? json_string(x->reason) : json_null());
    json_object_set_new(doc, "cancelled_at", json_integer(x->now));
    json_object_set_new(doc, "cancelled_by", x->by ? json_string(x->by) : json_null());
    doc_text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    st = db_exec(c, "UPDATE orders SET status = 'cancelled', doc = ? WHERE id = ?",
                 DB_ARGS(DB_TEXT(doc_text), DB_TEXT(x->order_id)), NULL);
    free(doc_text);
    if (st == DB_OK) st = order_touch(c, x->a, x->order_id, x->now);
    return st;
}

bo_status order_cancel(engine *e, const account *a, const char *order_id, const char *reason, const char *by,
                       bo_error *err)
{
    if (!order_id || strlen(order_id) > 64) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    if (reason && strlen(reason) > 500)
        return bo_fail(err, BO_INVALID, "invalid_field", "statusReason", "reason is at most 500 characters");
    cancel_ctx x = {a, order_id, reason, by, clock_now(), false};
    db_status st = store_write(e->st, cancel_fn, &x);
    if (x.already) return bo_fail(err, BO_CONFLICT, "already_cancelled", "status", "the order is already cancelled");
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    return bo_from_db(st, err);
}

typedef struct {
    const account *a;
    const char *order_id;
    const payment_input *p;
    instant_us now;
    bool not_open;
} paid_ctx;

static db_status mark_paid_fn(db_conn *c, void *arg)
{
    paid_ctx *x = arg;
    char *status = NULL;
    db_status st = db_query_text(c, "SELECT status FROM orders WHERE id = ? AND account_id = ?",
                                 DB_ARGS(DB_TEXT(x->order_id), DB_TEXT(x->a->id)), &status);
    if (st != DB_OK) return st;
    bool open = !strcmp(status, "open");
    free(status);
    if (!open) {
        x->not_open = true;
        return DB_ABORT;
    }
    money total = 0;
    st = db_query_int(c, "SELECT COALESCE(SUM(price_gross - discount), 0) FROM tickets WHERE order_id = ?",
                      DB_ARGS(DB_TEXT(x->order_id)), &total);
    if (st == DB_OK)
        st = db_exec(c,
                     "INSERT INTO payments (account_id, order_id, kind, provider, method, status, amount, reference,"
                     " created_at, updated_at) VALUES (?, ?, 'payment', ?, ?, 'paid', ?, ?, ?, ?)",
                     DB_ARGS(DB_TEXT(x->a->id), DB_TEXT(x->order_id), DB_TEXT(x->p ? x->p->provider : NULL),
                             DB_TEXT(x->p ? x->p->method : NULL),
                             DB_INT(x->p && x->p->amount >= 0 ? x->p->amount : total),
                             DB_TEXT(x->p ? x->p->reference : NULL), DB_INT(x->now), DB_INT(x->now)),
                     NULL);
    if (st == DB_OK)
        st = db_exec(c, "UPDATE tickets SET status = 'valid', updated_at = ? WHERE order_id = ? AND status = 'unpaid'",
                     DB_ARGS(DB_INT(x->now), DB_TEXT(x->order_id)), NULL);
    if (st == DB_OK)
        st = db_exec(c, "UPDATE orders SET status = 'confirmed' WHERE id = ?", DB_ARGS(DB_TEXT(x->order_id)), NULL);
    if (st == DB_OK) st = order_touch(c, x->a, x->order_id, x->now);
    return st;
}

bo_status order_mark_paid(engine *e, const account *a, const char *order_id, const payment_input *p, bo_error *err)
{
    paid_ctx x = {a, order_id, p, clock_now(), false};
    db_status st = store_write(e->st, mark_paid_fn, &x);
    if (x.not_open) return bo_fail(err, BO_CONFLICT, "not_open", "status", "only open orders can be paid");
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    return bo_from_db(st, err);
}

typedef struct {
    const account *a;
    const catalog_snapshot *cs;
    const json_t *product;
    const slot *at;
    json_t *holder;
    money price;
    instant_us now;
    char ticket_id[40];
    bool sold_out;
} issue_ctx;

static db_status issue_fn(db_conn *c, void *arg)
{
    issue_ctx *x = arg;
    cart_line line = {jstr(x->product, "id"), 1};
    pool_need *needs;
    bo_error err;
    int n = pool_needs_for(x->cs, x->at->key, &line, 1, &needs, &err);
    if (n < 0) return DB_ERROR;
    db_status st = inventory_take(c, x->a->id, needs, (size_t)n);
    if (st == DB_ABORT) x->sold_out = true;
    free(needs);
    if (st != DB_OK) return st;
    char line_id[37];
    rand_uuid(line_id);
    json_t *cart = json_object();
    char d[11];
    if (x->at->day >= 0) {
        date_format(x->at->day, d);
        json_object_set_new(cart, "day", json_string(d));
        json_object_set_new(cart, "ends_at", json_integer(x->at->ends_at));
    }
    instant_us vf, vt;
    validity(x->product, cart, x->a->timezone, x->now, &vf, &vt);
    json_decref(cart);
    ticket_spec t = {x->a, NULL, line_id, x->product, x->at->key, jstr(x->product, "event_id"), x->price, 0, vf, vt,
                     x->now, x->holder, "valid", {0}};
    st = insert_ticket(c, x->cs, &t);
    if (st != DB_OK) return st;
    memcpy(x->ticket_id, t.id_out, sizeof x->ticket_id);
    bool wanted;
    st = events_wanted(c, x->a->id, &wanted);
    if (st != DB_OK || !wanted) return st;
    json_t *tj;
    st = ticket_load_json(c, x->a->id, x->ticket_id, &tj);
    if (st == DB_OK) st = events_record(c, x->a->id, EV_TICKET_CREATED, x->ticket_id, tj);
    json_decref(tj);
    return st;
}

bo_status ticket_issue(engine *e, const account *a, const char *product_id, const char *occurrence_id,
                       civil_date day, int32_t start_time, json_t *holder, const char *channel, char ticket_id[40],
                       bo_error *err)
{
    (void)channel;
    slot at;
    if (occurrence_resolve(e, a, product_id, NULL, day, start_time, occurrence_id, &at, err) != BO_OK)
        return err->status;
    if (!at.open) return bo_fail(err, BO_SOLD_OUT, "not_available", "event_id", "not on sale");
    price_quote pq;
    if (price_for(e, a, product_id, &at, &pq, err) != BO_OK) return err->status;
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    issue_ctx x = {a, cs, snapshot_find(cs, CAT_PRODUCT, product_id), &at, holder, pq.unit_price, clock_now(), {0},
                   false};
    db_status st = store_write(e->st, issue_fn, &x);
    catalog_release(cs);
    if (x.sold_out) return bo_fail(err, BO_SOLD_OUT, "sold_out", "ticket_type_id", "no tickets left");
    if (st != DB_OK) return bo_from_db(st, err);
    memcpy(ticket_id, x.ticket_id, 40);
    return BO_OK;
}

typedef struct {
    const account *a;
    const char *ticket_id;
    instant_us now;
    bool already;
} void_ctx;

static db_status void_fn(db_conn *c, void *arg)
{
    void_ctx *x = arg;
    db_rows *r;
    db_status st = db_query(c, "SELECT status, order_id FROM tickets WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(x->ticket_id), DB_TEXT(x->a->id)), &r);
    if (st != DB_OK) return st;
    if (!db_next(r)) {
        db_rows_free(r);
        return DB_NOTFOUND;
    }
    bool live = !strcmp(db_text(r, 0), "valid") || !strcmp(db_text(r, 0), "unpaid");
    char order_id[40] = "";
    if (!db_isnull(r, 1)) snprintf(order_id, sizeof order_id, "%s", db_text(r, 1));
    db_rows_free(r);
    if (!live) {
        x->already = true;
        return DB_ABORT;
    }
    st = release_ticket(c, x->a, x->ticket_id, "voided", NULL, x->now);
    if (st == DB_OK && *order_id) st = order_touch(c, x->a, order_id, x->now);
    return st;
}

bo_status ticket_void(engine *e, const account *a, const char *ticket_id, bo_error *err)
{
    if (!ticket_id || strlen(ticket_id) > 64) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such ticket");
    void_ctx x = {a, ticket_id, clock_now(), false};
    db_status st = store_write(e->st, void_fn, &x);
    if (x.already) return bo_fail(err, BO_CONFLICT, "already_void", "", "the ticket is already void");
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such ticket");
    return bo_from_db(st, err);
}
