/* Orders and tickets in their canonical JSON shape (docs/MODEL.md), built
 * from the typed rows of store/orders_store.h: the SQL lives there. */
#include "core/internal.h"
#include "store/orders_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *nullable_int(int64_t v) { return v == STORE_NULL_INT ? json_null() : json_integer(v); }
static json_t *nullable_text(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *ticket_json(const store_ticket_row *r)
{
    json_t *doc = json_loads(r->doc, 0, NULL);
    if (!doc) doc = json_object();
    json_t *t = json_object();
    json_object_set_new(t, "id", json_string(r->id));
    json_object_set_new(t, "order_id", nullable_text(r->order_id));
    json_object_set_new(t, "line_id", json_string(r->line_id));
    json_object_set_new(t, "product_id", json_string(r->product_id));
    json_object_set(t, "product_name", json_object_get(doc, "product_name") ? json_object_get(doc, "product_name")
                                                                              : json_object());
    json_object_set_new(t, "event_id", nullable_text(r->event_id));
    json_object_set_new(t, "occurrence", json_string(r->occurrence));
    json_object_set_new(t, "barcode", json_string(r->barcode));
    json_object_set(t, "barcode_format", json_object_get(doc, "barcode_format"));
    json_object_set_new(t, "status", json_string(r->status));
    json_object_set_new(t, "price_gross", json_integer(r->price_gross));
    json_object_set_new(t, "price_net", json_integer(r->price_net));
    json_object_set_new(t, "discount", json_integer(r->discount));
    json_object_set_new(t, "discounted_gross",
                        json_integer(jint(doc, "discounted_gross", r->price_gross - r->discount)));
    json_object_set_new(t, "discounted_net", json_integer(jint(doc, "discounted_net", r->price_net)));
    json_object_set_new(t, "gate_price", json_integer(jint(doc, "gate_price", r->price_gross)));
    json_object_set_new(t, "booking_fee", json_integer(jint(doc, "booking_fee", 0)));
    json_object_set_new(t, "valid_from", nullable_int(r->valid_from));
    json_object_set_new(t, "valid_to", nullable_int(r->valid_to));
    json_object_set_new(t, "invalidated_at", nullable_int(r->invalidated_at));
    json_object_set(t, "refund", json_object_get(doc, "refund") ? json_object_get(doc, "refund") : json_null());
    json_object_set(t, "taxes", json_object_get(doc, "taxes") ? json_object_get(doc, "taxes") : json_array());
    json_object_set(t, "holder", json_object_get(doc, "holder") ? json_object_get(doc, "holder") : json_null());
    json_t *scan = json_object();
    json_object_set_new(scan, "limit", json_string(r->scan_limit));
    json_object_set_new(scan, "times", json_integer(r->scan_times));
    json_object_set_new(scan, "max_scans", nullable_int(r->max_scans));
    json_object_set_new(scan, "time_seconds", nullable_int(r->time_duration));
    json_object_set_new(scan, "used", json_integer(r->scans_used));
    json_object_set_new(scan, "inside", json_boolean(r->inside));
    json_object_set_new(scan, "first_scan_at", nullable_int(r->first_scan_at));
    json_object_set_new(scan, "last_scan_at", nullable_int(r->last_scan_at));
    json_object_set_new(scan, "redeemed_at", nullable_int(r->redeemed_at));
    json_object_set_new(scan, "allow_overtime", json_boolean(jbool(doc, "allow_overtime", false)));
    json_object_set_new(t, "scan", scan);
    json_object_set_new(t, "created_at", json_integer(r->created_at));
    json_object_set_new(t, "updated_at", json_integer(r->updated_at));
    json_decref(doc);
    return t;
}

/* What a scan reply shows of the ticket's order. */
static json_t *scan_order_json(const char *visit_date, const char *order_doc)
{
    json_t *doc = json_loads(order_doc, 0, NULL);
    json_t *order = json_object();
    json_object_set_new(order, "visit_date", nullable_text(visit_date));
    json_t *vt = json_object_get(doc, "visit_time"), *ve = json_object_get(doc, "visit_end_time");
    json_object_set(order, "visit_time", vt ? vt : json_null());
    json_object_set(order, "visit_end_time", ve ? ve : json_null());
    json_t *cust = json_object_get(doc, "customer");
    json_object_set_new(order, "customer", cust ? json_incref(cust) : json_object());
    json_decref(doc);
    return order;
}

static json_t *payment_json(const store_payment_row *p)
{
    return json_pack("{s:I,s:s,s:o,s:o,s:s,s:I,s:o,s:I,s:I}", "id", (json_int_t)p->id, "kind", p->kind, "provider",
                     nullable_text(p->provider), "method", nullable_text(p->method), "status", p->status, "amount",
                     (json_int_t)p->amount, "reference", nullable_text(p->reference), "created_at",
                     (json_int_t)p->created_at, "updated_at", (json_int_t)p->updated_at);
}

json_t *order_json(const store_order_detail *d, const char *account_id, const char *timezone)
{
    const store_order_row *r = &d->order;
    json_t *doc = json_loads(r->doc, 0, NULL);
    if (!doc) doc = json_object();
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "number", json_string(r->number));
    json_object_set_new(o, "account_id", json_string(account_id));
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "channel", json_string(r->channel));
    json_object_set_new(o, "product_type", json_string(r->product_type));
    json_object_set_new(o, "external_id", nullable_text(r->external_id));
    json_object_set_new(o, "visit_date", nullable_text(r->visit_date));
    json_object_set_new(o, "currency", json_string(r->currency));
    json_object_set_new(o, "total_gross", json_integer(r->total_gross));
    json_object_set_new(o, "total_net", json_integer(r->total_net));
    json_object_set_new(o, "discount_total", json_integer(r->discount_total));
    json_object_set_new(o, "created_at", json_integer(r->created_at));
    json_object_set_new(o, "updated_at", json_integer(r->updated_at));
    json_object_set_new(o, "change_seq", json_integer(r->change_seq));
    json_object_set_new(o, "cart_id", nullable_text(r->cart_id));
    json_object_set_new(o, "timezone", json_string(timezone));
    const char *copy[] = {"category_id", "event_id", "occurrence", "visit_time", "visit_end_time", "starts_at",
                          "quantity", "total_after_discount_gross", "total_after_discount_net", "booking_fee_total",
                          "customer", "extras", "discounts", "reseller", "status_reason", "cancelled_at",
                          "cancelled_by"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        json_t *v = json_object_get(doc, copy[i]);
        json_object_set(o, copy[i], v ? v : json_null());
    }
    if (!json_is_object(json_object_get(o, "customer"))) json_object_set_new(o, "customer", json_object());
    if (!json_is_object(json_object_get(o, "extras"))) json_object_set_new(o, "extras", json_object());
    if (!json_is_array(json_object_get(o, "discounts"))) json_object_set_new(o, "discounts", json_array());
    json_decref(doc);
    json_t *tickets = json_array();
    for (size_t i = 0; i < d->ntickets; i++) json_array_append_new(tickets, ticket_json(&d->tickets[i]));
    json_object_set_new(o, "tickets", tickets);
    json_t *payments = json_array();
    for (size_t i = 0; i < d->npayments; i++) json_array_append_new(payments, payment_json(&d->payments[i]));
    json_object_set_new(o, "payments", payments);
    return o;
}

db_status ticket_load_json(db_conn *c, const char *account_id, const char *ticket_id, json_t **out)
{
    store_ticket_row t;
    store_status st = store_ticket_load(c, account_id, ticket_id, &t);
    if (st != STORE_OK) return store_db_status(st);
    *out = ticket_json(&t);
    store_ticket_row_free(&t);
    return DB_OK;
}

json_t *ticket_scan_json(const store_ticket_scan *t)
{
    json_t *out = ticket_json(&t->ticket);
    if (t->has_order) json_object_set_new(out, "order", scan_order_json(t->order_visit_date, t->order_doc));
    return out;
}

db_status order_load_json(db_conn *c, const char *account_id, const char *timezone, const char *order_id,
                          json_t **out)
{
    store_order_detail d;
    store_status st = store_order_load(c, account_id, order_id, &d);
    if (st != STORE_OK) return store_db_status(st);
    *out = order_json(&d, account_id, timezone);
    store_order_detail_free(&d);
    return DB_OK;
}

static bo_status get_status(store_status st)
{
    return st == STORE_OK ? BO_OK : st == STORE_NOT_FOUND ? BO_NOT_FOUND : BO_INTERNAL;
}

static bool key_ok(const char *key) { return key && strlen(key) <= 64; }

bo_status order_get(engine *e, const account *a, const char *order_id, json_t **out)
{
    if (!key_ok(order_id)) return BO_NOT_FOUND;
    store_order_detail d;
    store_status st = store_order_get(e->st, a->id, order_id, &d);
    if (st == STORE_OK) *out = order_json(&d, a->id, a->timezone);
    store_order_detail_free(&d);
    return get_status(st);
}

bo_status order_get_by_number(engine *e, const account *a, const char *number, json_t **out)
{
    if (!key_ok(number)) return BO_NOT_FOUND;
    store_order_detail d;
    store_status st = store_order_get_by_number(e->st, a->id, number, &d);
    if (st == STORE_OK) *out = order_json(&d, a->id, a->timezone);
    store_order_detail_free(&d);
    return get_status(st);
}

bo_status ticket_get(engine *e, const account *a, const char *ticket_id, json_t **out)
{
    if (!key_ok(ticket_id)) return BO_NOT_FOUND;
    store_ticket_row t;
    store_status st = store_ticket_get(e->st, a->id, ticket_id, &t);
    if (st == STORE_OK) *out = ticket_json(&t);
    store_ticket_row_free(&t);
    return get_status(st);
}

void order_query_init(order_query *q)
{
    memset(q, 0, sizeof *q);
    q->limit = 100;
    q->visit_from = -1;
    q->visit_to = -1;
}

static int page_limit(int limit) { return limit < 1 ? 1 : limit > 1000 ? 1000 : limit; }

/* A list's storage outcome: an unknown cursor object is the caller's error. */
static bo_status list_status(store_status st, bo_error *err)
{
    if (st == STORE_NOT_FOUND) return bo_fail(err, BO_INVALID, "invalid_cursor", "cursor", "unknown cursor object");
    return bo_from_store(st, err);
}

bo_status orders_list(engine *e, const account *a, const order_query *q, json_t **out, bool *has_more, bo_error *err)
{
    store_order_filter f = {
        .by_change_seq = q->sort == ORDER_BY_CHANGE_ASC,
        .after_change_seq = q->after_change_seq,
        .starting_after = q->starting_after,
        .ending_before = q->ending_before,
        .limit = page_limit(q->limit),
        .number = q->number,
        .email = q->email,
        .external_id = q->external_id,
        .reseller_id = q->reseller_id,
        .channel = q->channel,
        .product_type = q->product_type,
        .name = q->name,
        .event_id = q->event_id,
        .barcode = q->barcode,
        .occurrence = q->occurrence,
        .updated_from = q->updated_from,
        .created_gt = q->created_gt,
        .created_gte = q->created_gte,
        .created_lt = q->created_lt,
        .created_lte = q->created_lte,
        .visit_from = q->visit_from,
        .visit_to = q->visit_to,
    };
    memcpy(f.statuses, q->statuses, sizeof f.statuses);
    memcpy(f.product_ids, q->product_ids, sizeof f.product_ids); /* the first 8 */
    store_order_page page;
    store_status st = store_orders_page(e->st, a->id, &f, &page);
    if (st != STORE_OK) return list_status(st, err);
    json_t *list = json_array();
    for (size_t i = 0; i < page.n; i++) json_array_append_new(list, order_json(&page.orders[i], a->id, a->timezone));
    *out = list;
    if (has_more) *has_more = page.has_more;
    store_order_page_free(&page);
    return BO_OK;
}

bo_status tickets_list(engine *e, const account *a, const ticket_query *q, json_t **out, bool *has_more,
                       bo_error *err)
{
    /* ticket_query.event_id names an occurrence key (Ticket Tailor's event) */
    store_ticket_filter f = {
        .starting_after = q->starting_after,
        .ending_before = q->ending_before,
        .limit = page_limit(q->limit),
        .order_id = q->order_id,
        .occurrence = q->event_id,
        .barcode = q->barcode,
        .status = q->status,
        .email = q->email,
        .name = q->name,
        .created_gt = q->created_gt,
        .created_gte = q->created_gte,
        .created_lt = q->created_lt,
        .created_lte = q->created_lte,
    };
    store_ticket_page page;
    store_status st = store_tickets_page(e->st, a->id, &f, &page);
    if (st != STORE_OK) return list_status(st, err);
    json_t *list = json_array();
    for (size_t i = 0; i < page.n; i++) {
        const store_ticket_listed *t = &page.tickets[i];
        json_t *tj = ticket_json(&t->ticket);
        if (t->has_order) { /* the order's buyer */
            json_object_set_new(tj, "order_email", nullable_text(t->order_email));
            json_object_set_new(tj, "order_name", nullable_text(t->order_name));
        }
        json_array_append_new(list, tj);
    }
    *out = list;
    if (has_more) *has_more = page.has_more;
    store_ticket_page_free(&page);
    return BO_OK;
}
