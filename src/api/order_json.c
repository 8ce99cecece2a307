/* Orders and tickets in their canonical JSON shape (docs/MODEL.md), from the
 * typed records the engine reads (store/orders_store.h rows): every column,
 * and the free-form parts of the rows' docs (names, taxes, holder, refund,
 * customer, extras ...) embedded as they were written. */
#include "api/order_json.h"
#include <stdlib.h>
#include <string.h>

static json_t *nullable_int(int64_t v) { return v == STORE_NULL_INT ? json_null() : json_integer(v); }
static json_t *nullable_text(const char *s) { return s ? json_string(s) : json_null(); }

/* A stored document, parsed; {} when it is none. */
static json_t *doc_of(const char *text)
{
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    if (json_is_object(doc)) return doc;
    json_decref(doc);
    return json_object();
}

/* The document's member, or dflt (a new reference) when absent. */
static void copy_member(json_t *to, const char *key, const json_t *doc, json_t *dflt)
{
    json_t *v = json_object_get(doc, key);
    if (v) {
        json_object_set(to, key, v);
        json_decref(dflt);
    } else {
        json_object_set_new(to, key, dflt);
    }
}

static int64_t doc_int(const json_t *doc, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(doc, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

json_t *ticket_json(const ticket_record *r)
{
    json_t *doc = doc_of(r->doc);
    json_t *t = json_object();
    json_object_set_new(t, "id", json_string(r->id));
    json_object_set_new(t, "order_id", nullable_text(r->order_id));
    json_object_set_new(t, "line_id", json_string(r->line_id));
    json_object_set_new(t, "product_id", json_string(r->product_id));
    copy_member(t, "product_name", doc, json_object());
    json_object_set_new(t, "event_id", nullable_text(r->event_id));
    json_object_set_new(t, "occurrence", json_string(r->occurrence));
    json_object_set_new(t, "barcode", json_string(r->barcode));
    copy_member(t, "barcode_format", doc, json_null());
    json_object_set_new(t, "status", json_string(r->status));
    json_object_set_new(t, "price_gross", json_integer(r->price_gross));
    json_object_set_new(t, "price_net", json_integer(r->price_net));
    json_object_set_new(t, "discount", json_integer(r->discount));
    json_object_set_new(t, "discounted_gross", json_integer(doc_int(doc, "discounted_gross", r->price_gross - r->discount)));
    json_object_set_new(t, "discounted_net", json_integer(doc_int(doc, "discounted_net", r->price_net)));
    json_object_set_new(t, "gate_price", json_integer(doc_int(doc, "gate_price", r->price_gross)));
    json_object_set_new(t, "booking_fee", json_integer(doc_int(doc, "booking_fee", 0)));
    json_object_set_new(t, "valid_from", nullable_int(r->valid_from));
    json_object_set_new(t, "valid_to", nullable_int(r->valid_to));
    json_object_set_new(t, "invalidated_at", nullable_int(r->invalidated_at));
    copy_member(t, "refund", doc, json_null());
    copy_member(t, "taxes", doc, json_array());
    copy_member(t, "holder", doc, json_null());
    copy_member(t, "answers", doc, json_array());
    /* what only some tickets carry: their options, their after-payment answers, their refunds one by one,
     * the terms a sales channel sold them on */
    static const char *const when_present[] = {"options", "options_gross", "options_net", "apf", "refunds",
                                               "refund_request", "price_tier", "extras_gross", "sale_terms"};
    for (size_t i = 0; i < sizeof when_present / sizeof when_present[0]; i++) {
        json_t *v = json_object_get(doc, when_present[i]);
        if (v) json_object_set(t, when_present[i], v);
    }
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
    json_object_set_new(scan, "allow_overtime", json_boolean(json_is_true(json_object_get(doc, "allow_overtime"))));
    json_object_set_new(t, "scan", scan);
    json_object_set_new(t, "created_at", json_integer(r->created_at));
    json_object_set_new(t, "updated_at", json_integer(r->updated_at));
    json_decref(doc);
    return t;
}

json_t *ticket_listed_json(const store_ticket_listed *l)
{
    json_t *t = ticket_json(&l->ticket);
    if (l->has_order) { /* the order's buyer */
        json_object_set_new(t, "order_email", nullable_text(l->order_email));
        json_object_set_new(t, "order_name", nullable_text(l->order_name));
    }
    return t;
}

json_t *scan_ticket_json(const scan_ticket *s)
{
    json_t *t = ticket_json(&s->ticket);
    if (!s->has_order) return t;
    json_t *doc = doc_of(s->order_doc);
    json_t *order = json_object();
    json_object_set_new(order, "visit_date", nullable_text(s->order_visit_date));
    copy_member(order, "visit_time", doc, json_null());
    copy_member(order, "visit_end_time", doc, json_null());
    copy_member(order, "customer", doc, json_object());
    json_decref(doc);
    json_object_set_new(t, "order", order);
    return t;
}

static json_t *payment_json(const store_payment_row *p)
{
    return json_pack("{s:I,s:s,s:o,s:o,s:s,s:I,s:o,s:I,s:I}", "id", (json_int_t)p->id, "kind", p->kind, "provider",
                     nullable_text(p->provider), "method", nullable_text(p->method), "status", p->status, "amount",
                     (json_int_t)p->amount, "reference", nullable_text(p->reference), "created_at",
                     (json_int_t)p->created_at, "updated_at", (json_int_t)p->updated_at);
}

/* The order's confirmation mail (core/mail.h): null when none was queued. */
static json_t *confirmation_mail_json(const store_order_mail *m)
{
    if (!m->queued) return json_null();
    return json_pack("{s:s,s:I,s:o,s:o}", "status", m->status, "attempts", (json_int_t)m->attempts, "last_error",
                     nullable_text(m->last_error), "sent_at", m->sent_at ? json_integer(m->sent_at) : json_null());
}

json_t *order_json(const order_record *d, const account *a)
{
    const store_order_row *r = &d->order;
    json_t *doc = doc_of(r->doc);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "number", json_string(r->number));
    json_object_set_new(o, "account_id", json_string(a->id));
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
    json_object_set_new(o, "timezone", json_string(a->timezone));
    static const char *const copy[] = {"category_id", "event_id", "occurrence", "visit_time", "visit_end_time",
                                       "starts_at", "quantity", "total_after_discount_gross",
                                       "total_after_discount_net", "booking_fee_total", "customer", "extras",
                                       "discounts", "reseller", "status_reason", "cancelled_at", "cancelled_by"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) copy_member(o, copy[i], doc, json_null());
    if (!json_is_object(json_object_get(o, "customer"))) json_object_set_new(o, "customer", json_object());
    if (!json_is_object(json_object_get(o, "extras"))) json_object_set_new(o, "extras", json_object());
    if (!json_is_array(json_object_get(o, "discounts"))) json_object_set_new(o, "discounts", json_array());
    copy_member(o, "answers", doc, json_array());
    /* paid through a test-mode provider (docs/PAYMENTS.md): no money moved */
    json_object_set_new(o, "test", json_boolean(json_is_true(json_object_get(doc, "test"))));
    json_decref(doc);
    json_t *tickets = json_array();
    for (size_t i = 0; i < d->ntickets; i++) json_array_append_new(tickets, ticket_json(&d->tickets[i]));
    json_object_set_new(o, "tickets", tickets);
    json_t *payments = json_array();
    for (size_t i = 0; i < d->npayments; i++) json_array_append_new(payments, payment_json(&d->payments[i]));
    json_object_set_new(o, "payments", payments);
    json_object_set_new(o, "confirmation_mail", confirmation_mail_json(&d->mail));
    return o;
}

/* ---------- the outbox's renderer ---------- */

static char *compact(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return text;
}

static char *order_text(const order_record *o, const account *a) { return compact(order_json(o, a)); }
static char *ticket_text(const ticket_record *t) { return compact(ticket_json(t)); }

void order_json_install(engine *e)
{
    static const outbox_renderer renderer = {.order = order_text, .ticket = ticket_text};
    events_set_renderer(e, &renderer);
}

/* ---------- reads, rendered ---------- */

typedef bo_status (*order_read)(engine *e, const account *a, const char *key, order_record *out);

static bo_status order_read_json(order_read read, engine *e, const account *a, const char *key, json_t **out)
{
    order_record o;
    bo_status st = read(e, a, key, &o);
    if (st == BO_OK) *out = order_json(&o, a);
    order_record_free(&o);
    return st;
}

bo_status order_get_json(engine *e, const account *a, const char *order_id, json_t **out)
{
    return order_read_json(order_get, e, a, order_id, out);
}

bo_status order_get_by_number_json(engine *e, const account *a, const char *number, json_t **out)
{
    return order_read_json(order_get_by_number, e, a, number, out);
}

bo_status ticket_get_json(engine *e, const account *a, const char *ticket_id, json_t **out)
{
    ticket_record t;
    bo_status st = ticket_get(e, a, ticket_id, &t);
    if (st == BO_OK) *out = ticket_json(&t);
    ticket_record_free(&t);
    return st;
}

bo_status orders_list_json(engine *e, const account *a, const order_query *q, json_t **out, bool *has_more,
                           bo_error *err)
{
    order_page page;
    bo_status st = orders_list(e, a, q, &page, err);
    if (st != BO_OK) return st;
    json_t *list = json_array();
    for (size_t i = 0; i < page.n; i++) json_array_append_new(list, order_json(&page.orders[i], a));
    *out = list;
    if (has_more) *has_more = page.has_more;
    order_page_free(&page);
    return BO_OK;
}

bo_status tickets_list_json(engine *e, const account *a, const ticket_query *q, json_t **out, bool *has_more,
                            bo_error *err)
{
    ticket_page page;
    bo_status st = tickets_list(e, a, q, &page, err);
    if (st != BO_OK) return st;
    json_t *list = json_array();
    for (size_t i = 0; i < page.n; i++) json_array_append_new(list, ticket_listed_json(&page.tickets[i]));
    *out = list;
    if (has_more) *has_more = page.has_more;
    ticket_page_free(&page);
    return BO_OK;
}
