/* Orders and tickets in their canonical JSON shape (docs/MODEL.md), from the
 * typed records the engine reads (store/orders_store.h rows): every column,
 * and the free-form parts of the rows' docs (names, taxes, holder, refund,
 * customer, extras ...) embedded as they were written. */
#include "api/order_json.h"
#include "util/jbuf.h"
#include "util/objtext.h"
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

/* ---------- the outbox's renderer ----------
 * The outbox records every change's object on the single writer thread, so
 * it is written straight into text, the stored docs' members copied as
 * written (objtext_members), rather than built as a jansson tree from parsed
 * docs and dumped: that was a third of the writer's time per paid checkout
 * (docs/PERFORMANCE.md, "Fourvenues checkout"). The text is byte for byte
 * json_dumps(order_json(...), JSON_COMPACT) for docs jansson or jbuf wrote
 * (tests/unit/test_order_json.c); a doc that is no object, or holds what a
 * parser refuses, takes the tree's path. */

static char *compact(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return text;
}

/* One doc's members, by the index of their name in the caller's list. */
typedef struct {
    const char *value[24];
    size_t len[24];
} doc_members;

static bool doc_members_read(const char *doc, const char *const *keys, size_t n, doc_members *out)
{
    return objtext_members(doc ? doc : "{}", keys, n, out->value, out->len);
}

static bool member_is(const doc_members *d, size_t i, char first)
{
    return d->value[i] && d->value[i][0] == first;
}

/* The member as written, or `dflt` (JSON text) when absent. */
static void put_member(jbuf *w, const char *key, const doc_members *d, size_t i, const char *dflt)
{
    jb_key(w, key);
    if (d->value[i]) jb_raw_n(w, d->value[i], d->len[i]);
    else jb_raw(w, dflt);
}

/* doc_int's reading of a member as written: an integer literal, else dflt. */
static int64_t member_int(const doc_members *d, size_t i, int64_t dflt)
{
    const char *v = d->value[i];
    size_t n = d->len[i], k = v && n && *v == '-' ? 1 : 0;
    if (!v || k == n) return dflt;
    int64_t x = 0;
    for (size_t j = k; j < n; j++) {
        if (v[j] < '0' || v[j] > '9') return dflt;
        x = x * 10 + (v[j] - '0');
    }
    return k ? -x : x;
}

static void put_nullable_int(jbuf *w, const char *key, int64_t v)
{
    if (v == STORE_NULL_INT) jb_knull(w, key);
    else jb_kint(w, key, v);
}

enum {
    T_PRODUCT_NAME, T_BARCODE_FORMAT, T_DISCOUNTED_GROSS, T_DISCOUNTED_NET, T_GATE_PRICE, T_BOOKING_FEE, T_REFUND,
    T_TAXES, T_HOLDER, T_ANSWERS, T_ALLOW_OVERTIME, T_WHEN_PRESENT
};
static const char *const ticket_doc_keys[] = {
    "product_name", "barcode_format", "discounted_gross", "discounted_net", "gate_price", "booking_fee", "refund",
    "taxes", "holder", "answers", "allow_overtime",
    /* ticket_json's when_present, in its order */
    "options", "options_gross", "options_net", "apf", "refunds", "refund_request", "price_tier", "extras_gross",
    "sale_terms"};
#define TICKET_DOC_KEYS (sizeof ticket_doc_keys / sizeof ticket_doc_keys[0])

/* ticket_json's object written into w; false when its doc needs the parser. */
static bool ticket_write(jbuf *w, const ticket_record *r)
{
    doc_members d;
    if (!doc_members_read(r->doc, ticket_doc_keys, TICKET_DOC_KEYS, &d)) return false;
    /* a number of 19 digits or more may pass int64: the parser decides it */
    for (size_t i = T_DISCOUNTED_GROSS; i <= T_BOOKING_FEE; i++)
        if (d.value[i] && d.len[i] > 18) return false;
    jb_obj(w);
    jb_kstr(w, "id", r->id);
    jb_kstr(w, "order_id", r->order_id);
    jb_kstr(w, "line_id", r->line_id);
    jb_kstr(w, "product_id", r->product_id);
    put_member(w, "product_name", &d, T_PRODUCT_NAME, "{}");
    jb_kstr(w, "event_id", r->event_id);
    jb_kstr(w, "occurrence", r->occurrence);
    jb_kstr(w, "barcode", r->barcode);
    put_member(w, "barcode_format", &d, T_BARCODE_FORMAT, "null");
    jb_kstr(w, "status", r->status);
    jb_kint(w, "price_gross", r->price_gross);
    jb_kint(w, "price_net", r->price_net);
    jb_kint(w, "discount", r->discount);
    jb_kint(w, "discounted_gross", member_int(&d, T_DISCOUNTED_GROSS, r->price_gross - r->discount));
    jb_kint(w, "discounted_net", member_int(&d, T_DISCOUNTED_NET, r->price_net));
    jb_kint(w, "gate_price", member_int(&d, T_GATE_PRICE, r->price_gross));
    jb_kint(w, "booking_fee", member_int(&d, T_BOOKING_FEE, 0));
    put_nullable_int(w, "valid_from", r->valid_from);
    put_nullable_int(w, "valid_to", r->valid_to);
    put_nullable_int(w, "invalidated_at", r->invalidated_at);
    put_member(w, "refund", &d, T_REFUND, "null");
    put_member(w, "taxes", &d, T_TAXES, "[]");
    put_member(w, "holder", &d, T_HOLDER, "null");
    put_member(w, "answers", &d, T_ANSWERS, "[]");
    for (size_t i = T_WHEN_PRESENT; i < TICKET_DOC_KEYS; i++)
        if (d.value[i]) put_member(w, ticket_doc_keys[i], &d, i, "null");
    jb_key(w, "scan");
    jb_obj(w);
    jb_kstr(w, "limit", r->scan_limit);
    jb_kint(w, "times", r->scan_times);
    put_nullable_int(w, "max_scans", r->max_scans);
    put_nullable_int(w, "time_seconds", r->time_duration);
    jb_kint(w, "used", r->scans_used);
    jb_kbool(w, "inside", r->inside);
    put_nullable_int(w, "first_scan_at", r->first_scan_at);
    put_nullable_int(w, "last_scan_at", r->last_scan_at);
    put_nullable_int(w, "redeemed_at", r->redeemed_at);
    jb_kbool(w, "allow_overtime", d.value[T_ALLOW_OVERTIME] && d.len[T_ALLOW_OVERTIME] == 4 &&
                                      !memcmp(d.value[T_ALLOW_OVERTIME], "true", 4));
    jb_obj_end(w);
    jb_kint(w, "created_at", r->created_at);
    jb_kint(w, "updated_at", r->updated_at);
    jb_obj_end(w);
    return true;
}

static const char *const order_doc_keys[] = {
    /* order_json's copy list, in its order */
    "category_id", "event_id", "occurrence", "visit_time", "visit_end_time", "starts_at", "quantity",
    "total_after_discount_gross", "total_after_discount_net", "booking_fee_total", "customer", "extras", "discounts",
    "reseller", "status_reason", "cancelled_at", "cancelled_by",
    /* then */
    "answers", "test"};
enum { O_COPIED = 17, O_ANSWERS = 17, O_TEST = 18 };

/* order_json's object as text; NULL when a doc needs the parser. */
static char *order_text_direct(const order_record *o, const account *a)
{
    const store_order_row *r = &o->order;
    doc_members d;
    if (!doc_members_read(r->doc, order_doc_keys, sizeof order_doc_keys / sizeof order_doc_keys[0], &d)) return NULL;
    jbuf w;
    jb_init(&w, 2048 + 1536 * o->ntickets);
    jb_obj(&w);
    jb_kstr(&w, "id", r->id);
    jb_kstr(&w, "number", r->number);
    jb_kstr(&w, "account_id", a->id);
    jb_kstr(&w, "status", r->status);
    jb_kstr(&w, "channel", r->channel);
    jb_kstr(&w, "product_type", r->product_type);
    jb_kstr(&w, "external_id", r->external_id);
    jb_kstr(&w, "visit_date", r->visit_date);
    jb_kstr(&w, "currency", r->currency);
    jb_kint(&w, "total_gross", r->total_gross);
    jb_kint(&w, "total_net", r->total_net);
    jb_kint(&w, "discount_total", r->discount_total);
    jb_kint(&w, "created_at", r->created_at);
    jb_kint(&w, "updated_at", r->updated_at);
    jb_kint(&w, "change_seq", r->change_seq);
    jb_kstr(&w, "cart_id", r->cart_id);
    jb_kstr(&w, "timezone", a->timezone);
    for (size_t i = 0; i < O_COPIED; i++) {
        const char *key = order_doc_keys[i];
        /* customer and extras are objects, discounts a list, whatever the doc says */
        char kind = !strcmp(key, "customer") || !strcmp(key, "extras") ? '{' : !strcmp(key, "discounts") ? '[' : 0;
        if (kind && !member_is(&d, i, kind)) jb_key(&w, key), jb_raw(&w, kind == '{' ? "{}" : "[]");
        else put_member(&w, key, &d, i, "null");
    }
    put_member(&w, "answers", &d, O_ANSWERS, "[]");
    jb_kbool(&w, "test", d.value[O_TEST] && d.len[O_TEST] == 4 && !memcmp(d.value[O_TEST], "true", 4));
    jb_key(&w, "tickets");
    jb_arr(&w);
    for (size_t i = 0; i < o->ntickets; i++)
        if (!ticket_write(&w, &o->tickets[i])) {
            jb_free(&w);
            return NULL;
        }
    jb_arr_end(&w);
    jb_key(&w, "payments");
    jb_arr(&w);
    for (size_t i = 0; i < o->npayments; i++) {
        const store_payment_row *p = &o->payments[i];
        jb_obj(&w);
        jb_kint(&w, "id", p->id);
        jb_kstr(&w, "kind", p->kind);
        jb_kstr(&w, "provider", p->provider);
        jb_kstr(&w, "method", p->method);
        jb_kstr(&w, "status", p->status);
        jb_kint(&w, "amount", p->amount);
        jb_kstr(&w, "reference", p->reference);
        jb_kint(&w, "created_at", p->created_at);
        jb_kint(&w, "updated_at", p->updated_at);
        jb_obj_end(&w);
    }
    jb_arr_end(&w);
    jb_key(&w, "confirmation_mail");
    if (o->mail.queued) {
        jb_obj(&w);
        jb_kstr(&w, "status", o->mail.status);
        jb_kint(&w, "attempts", o->mail.attempts);
        jb_kstr(&w, "last_error", o->mail.last_error);
        jb_key(&w, "sent_at");
        if (o->mail.sent_at) jb_int(&w, o->mail.sent_at);
        else jb_null(&w);
        jb_obj_end(&w);
    } else {
        jb_null(&w);
    }
    jb_obj_end(&w);
    return jb_take(&w, NULL);
}

char *order_text(const order_record *o, const account *a)
{
    char *text = order_text_direct(o, a);
    return text ? text : compact(order_json(o, a));
}

char *ticket_text(const ticket_record *t)
{
    jbuf w;
    jb_init(&w, 1536);
    if (ticket_write(&w, t)) return jb_take(&w, NULL);
    jb_free(&w);
    return compact(ticket_json(t));
}

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
