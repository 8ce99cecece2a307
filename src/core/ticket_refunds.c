/* Refunding one ticket, in part or whole, as often as something is left
 * (docs/MODEL.md, "Ticket refunds"). The first refund takes the ticket out of
 * use (seats given back, barcode no longer scans, status refunded); each one
 * gives its amount back to the order's payments (store_order_refund_payments_to,
 * the rule a cancellation uses) and appends an entry to the ticket's
 * `refunds`, its `refund` holding the total. After the commit, the parts that
 * went back to a payment session are sent back through its provider. */
#include "core/internal.h"
#include "core/payment.h"
#include "util/jbuf.h"
#include "util/log.h"
#include "util/objtext.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    engine *e;
    const account *a;
    const char *ticket_id;
    const ticket_refund_request *req;
    instant_us now;
    bo_error refusal;            /* set (status != BO_OK) when the ticket's state refuses the refund */
    ticket_refund_result result;
    char order_id[40];
    store_refund_part *parts;    /* where the money went, for the providers */
    size_t nparts;
} refund_ctx;

/* What went back for the ticket before: its `refund.amount` (a cancellation's or earlier refunds'). */
static money refunded_before(const char *doc)
{
    char *refund = objtext_member(doc, "refund");
    char *amount = refund && refund[0] == '{' ? objtext_member(refund, "amount") : NULL;
    money v = amount ? strtoll(amount, NULL, 10) : 0;
    free(amount);
    free(refund);
    return v;
}

/* The ticket's document with this refund appended to `refunds` and the
 * total in `refund` (malloc'd text). */
static char *refunded_doc(const char *doc, const refund_ctx *x, money total)
{
    char *before = objtext_member(doc, "refunds");
    jbuf w;
    jb_init(&w, 256);
    jb_obj(&w);
    jb_key(&w, "refund"), jb_obj(&w);
    if (x->req->reason) jb_kstr(&w, "reason", x->req->reason);
    if (x->req->by) jb_kstr(&w, "by", x->req->by);
    jb_kint(&w, "at", x->now);
    jb_kint(&w, "amount", total);
    jb_kbool(&w, "paid", true);
    jb_obj_end(&w);
    jb_key(&w, "refunds"), jb_arr(&w);
    /* the earlier entries as stored: the text between the brackets, as one element */
    size_t len = before && before[0] == '[' ? strlen(before) : 0;
    if (len > 2) {
        before[len - 1] = 0;
        jb_raw(&w, before + 1);
    }
    jb_obj(&w);
    jb_kint(&w, "amount", x->req->amount);
    jb_kint(&w, "at", x->now);
    if (x->req->by) jb_kstr(&w, "by", x->req->by);
    if (x->req->channel) jb_kstr(&w, "channel", x->req->channel);
    jb_obj_end(&w);
    jb_arr_end(&w);
    jb_obj_end(&w);
    free(before);
    char *fields = jb_take(&w, NULL);
    char *text = fields ? objtext_merge(doc, fields) : NULL;
    free(fields);
    return text;
}

/* The ticket's state refuses the refund: nothing is written. */
static db_status refuse(refund_ctx *x, const char *code, const char *field, const char *message)
{
    bo_fail(&x->refusal, BO_INVALID, code, field, "%s", message);
    return DB_ABORT;
}

static db_status refund_fn(db_conn *c, void *arg)
{
    refund_ctx *x = arg;
    x->refusal.status = BO_OK;
    store_refund_parts_free(x->parts, x->nparts), x->parts = NULL, x->nparts = 0;
    store_ticket_state t;
    store_status ss = store_ticket_state_get(c, x->a->id, x->ticket_id, &t);
    if (ss == STORE_NOT_FOUND) {
        bo_fail(&x->refusal, BO_NOT_FOUND, "not_found", "ticket_id", "no such ticket");
        store_ticket_state_free(&t);
        return DB_ABORT;
    }
    db_status st = store_db_status(ss);
    bool live = st == DB_OK && !strcmp(t.status, "valid");
    if (st == DB_OK && !live && strcmp(t.status, "refunded")) {
        st = !strcmp(t.status, "unpaid") ? refuse(x, "not_paid", "", "the ticket is not paid")
                                         : refuse(x, "not_refundable", "", "the ticket was voided without a refund");
    }
    if (st == DB_OK && !*t.order_id) st = refuse(x, "not_paid", "", "the ticket was issued without an order");
    money before = st == DB_OK ? refunded_before(t.doc) : 0, payable = 0;
    if (st == DB_OK) st = store_db_status(store_order_refundable(c, x->a->id, t.order_id, &payable));
    if (st == DB_OK) {
        money left = ticket_charged(&t) - before;
        if (payable < left) left = payable;
        if (left < 0) left = 0;
        if (left == 0 && before == 0) {
            st = refuse(x, "not_paid", "", "nothing was paid for the ticket");
        } else if (x->req->amount > left) {
            bo_fail(&x->refusal, BO_INVALID, "amount_too_large", "amount",
                    "more than is left to refund: at most %lld minor units", (long long)left);
            st = DB_ABORT;
        } else {
            x->result.left = left - x->req->amount;
        }
    }
    money refunded = 0;
    if (st == DB_OK)
        st = store_db_status(store_order_refund_payments_to(c, x->a->id, t.order_id, x->req->amount, x->now,
                                                            &refunded, &x->parts, &x->nparts));
    if (st == DB_OK && refunded != x->req->amount) st = DB_RETRY; /* a payment changed since it was read */
    char *doc = st == DB_OK ? refunded_doc(t.doc, x, before + refunded) : NULL;
    if (st == DB_OK && !doc) st = DB_ERROR;
    if (st == DB_OK && live) {
        st = release_ticket(x->e, c, x->a, &t, "refunded", doc, x->now, &ss);
        if (ss == STORE_CONFLICT) st = DB_RETRY; /* refunded or voided meanwhile: read it again */
    } else if (st == DB_OK) {
        st = store_db_status(store_ticket_refunded_doc_set(c, x->a->id, t.id, t.doc, doc, x->now));
        if (st == DB_OK) st = events_record_ticket(x->e, c, x->a->id, EV_TICKET_UPDATED, t.id);
    }
    free(doc);
    if (st == DB_OK) st = order_touch(x->e, c, x->a, t.order_id, x->now);
    if (st == DB_OK) {
        x->result.refunded = before + refunded;
        snprintf(x->order_id, sizeof x->order_id, "%s", t.order_id);
    }
    store_ticket_state_free(&t);
    return st;
}

/* Sends each part that went back to a payment session back through its provider. */
static void provider_refunds(engine *e, const account *a, const refund_ctx *x)
{
    payment_session *s = malloc(sizeof *s);
    for (size_t i = 0; s && i < x->nparts; i++) {
        const store_refund_part *part = &x->parts[i];
        const payment_provider *p = payment_provider_find(part->provider);
        if (!p || !part->reference || payment_get(e, a, part->reference, s) != BO_OK) continue;
        bo_error err = {0};
        payment_credentials cred = {0};
        if (payment_credentials_load(e, a, p, &cred) != BO_OK ||
            p->refund(&cred, s, part->amount, x->req->reason ? x->req->reason : "ticket refund", &err) != BO_OK)
            log_warn("refunds: provider %s did not take back %lld of payment %s: %s", p->name, (long long)part->amount,
                     s->id, *err.message ? err.message : "its settings could not be opened");
        payment_credentials_free(&cred);
    }
    free(s);
}

bo_status ticket_refund(engine *e, const account *a, const char *ticket_id, const ticket_refund_request *req,
                        ticket_refund_result *out, bo_error *err)
{
    if (!ticket_id || strlen(ticket_id) > 64) return bo_fail(err, BO_NOT_FOUND, "not_found", "ticket_id", "no such ticket");
    if (req->amount <= 0) return bo_fail(err, BO_INVALID, "invalid_amount", "amount", "amount must be above 0");
    if (req->reason && strlen(req->reason) > 500)
        return bo_fail(err, BO_INVALID, "invalid_field", "reason", "reason is at most 500 characters");
    refund_ctx *x = calloc(1, sizeof *x);
    if (!x) return bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    *x = (refund_ctx){.e = e, .a = a, .ticket_id = ticket_id, .req = req, .now = clock_now()};
    db_status st = store_write(e->st, refund_fn, x);
    bo_status bs = BO_OK;
    if (x->refusal.status != BO_OK) *err = x->refusal, bs = err->status;
    else if (st != DB_OK) bs = bo_from_db(st, err);
    if (bs == BO_OK) {
        provider_refunds(e, a, x);
        if (out) *out = x->result;
    }
    store_refund_parts_free(x->parts, x->nparts);
    free(x);
    return bs;
}

/* ---------- refund requests under a warranty ---------- */

/* The hours before its event until which the ticket's warranty lets its
 * holder ask for a refund: its document's sale_terms.warranty.hours (the
 * channel that sold it records what was bought); -1 when it has none. */
static int64_t warranty_hours(const char *doc)
{
    char *terms = objtext_member(doc, "sale_terms");
    char *warranty = terms && terms[0] == '{' ? objtext_member(terms, "warranty") : NULL;
    char *hours = warranty && warranty[0] == '{' ? objtext_member(warranty, "hours") : NULL;
    char *end = NULL;
    int64_t v = hours ? strtoll(hours, &end, 10) : -1;
    if (!hours || end == hours || *end || v < 0) v = -1;
    free(hours);
    free(warranty);
    free(terms);
    return v;
}

/* When the ticket's event occurrence starts; 0 when it is no event's. */
static instant_us occurrence_start(engine *e, const account *a, const char *event_id, const char *occurrence)
{
    catalog_snapshot *cs = event_id ? catalog_acquire(e, a) : NULL;
    const cat_event *ev = cs ? model_event(cs->model, event_id) : NULL;
    instant_us start = 0;
    for (size_t i = 0; ev && i < ev->noccurrences && !start; i++)
        if (!strcmp(ev->occurrences[i].id, occurrence) &&
            !iso_parse(ev->occurrences[i].start_text, event_timezone(ev, a->timezone), &start))
            start = 0;
    if (cs) catalog_release(cs);
    return start;
}

typedef struct {
    engine *e;
    const account *a;
    const char *ticket_id, *reason;
    instant_us now, starts_at;
    bo_error refusal;
    ticket_refund_request_result result;
} request_ctx;

static db_status request_fn(db_conn *c, void *arg)
{
    request_ctx *x = arg;
    x->refusal.status = BO_OK;
    store_ticket_state t;
    db_status st = store_db_status(store_ticket_state_get(c, x->a->id, x->ticket_id, &t));
    int64_t hours = st == DB_OK ? warranty_hours(t.doc) : -1;
    char *asked = st == DB_OK ? objtext_member(t.doc, "refund_request") : NULL;
    char *asked_at = asked && asked[0] == '{' ? objtext_member(asked, "at") : NULL;
    if (st != DB_OK) {
        /* nothing read: st says why */
    } else if (strcmp(t.status, "valid")) {
        bo_fail(&x->refusal, BO_CONFLICT, "not_refundable", "", "only a paid, unused-up ticket that was not refunded can be");
        st = DB_ABORT;
    } else if (hours < 0 || !x->starts_at) {
        bo_fail(&x->refusal, BO_CONFLICT, "no_warranty", "", "the ticket was bought without a refund warranty");
        st = DB_ABORT;
    } else if (asked_at) {
        x->result = (ticket_refund_request_result){strtoll(asked_at, NULL, 10), x->starts_at - hours * 3600000000LL,
                                                   false};
    } else if (x->now > x->starts_at - hours * 3600000000LL) {
        bo_fail(&x->refusal, BO_CONFLICT, "warranty_expired", "",
                "the warranty allowed a refund request until %lld hours before the event", (long long)hours);
        st = DB_ABORT;
    } else {
        jbuf w;
        jb_init(&w, 128);
        jb_obj(&w);
        jb_key(&w, "refund_request"), jb_obj(&w);
        jb_kint(&w, "at", x->now);
        if (x->reason) jb_kstr(&w, "reason", x->reason);
        jb_obj_end(&w);
        jb_obj_end(&w);
        char *fields = jb_take(&w, NULL);
        char *doc = fields ? objtext_merge(t.doc, fields) : NULL;
        free(fields);
        st = doc ? store_db_status(store_ticket_set_doc(c, x->a->id, t.id, t.doc, doc, x->now)) : DB_ERROR;
        free(doc);
        if (st == DB_OK) st = events_record_ticket(x->e, c, x->a->id, EV_TICKET_REFUND_REQUESTED, t.id);
        x->result = (ticket_refund_request_result){x->now, x->starts_at - hours * 3600000000LL, true};
    }
    free(asked_at);
    free(asked);
    store_ticket_state_free(&t);
    return st;
}

bo_status ticket_request_refund(engine *e, const account *a, const char *ticket_id, const char *reason,
                                ticket_refund_request_result *out, bo_error *err)
{
    if (reason && strlen(reason) > 500)
        return bo_fail(err, BO_INVALID, "invalid_field", "reason", "reason is at most 500 characters");
    ticket_record t;
    bo_status bs = ticket_get(e, a, ticket_id, &t);
    if (bs == BO_NOT_FOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "ticket_id", "no such ticket");
    if (bs != BO_OK) return bo_fail(err, bs, "internal_error", "", "storage failure");
    request_ctx x = {.e = e, .a = a, .ticket_id = ticket_id, .reason = reason, .now = clock_now(),
                     .starts_at = occurrence_start(e, a, t.event_id, t.occurrence)};
    ticket_record_free(&t);
    db_status st = store_write(e->st, request_fn, &x);
    if (x.refusal.status != BO_OK) {
        *err = x.refusal;
        return err->status;
    }
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "ticket_id", "no such ticket");
    if (st != DB_OK) return bo_from_db(st, err);
    if (out) *out = x.result;
    return BO_OK;
}
