/* Checkout: POST /events/{event_uuid}/reservations/{order_id}/checkout and
 * .../orders/{order_id}/checkout (201). The reservation (an engine cart) is
 * booked as an open order of channel "cm" with the code its ?code put in the
 * cart's extras, then paid through the engine's payment step (core/payment.h)
 * with the chosen payment method's fee by the shop's formula (core/fees.h).
 * order_id on the path is the reservation's id (the cart's) or, once checked
 * out, the order's number, which is what checkout answers and what the
 * callbacks carry (docs/dialects/cm.md). */
#include "api/cm/cm.h"
#include "api/cm/reservation.h"
#include "api/pay/pay.h"
#include "core/fees.h"
#include "core/payment.h"
#include "util/objtext.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The body, checked before anything is booked. */
typedef struct {
    const cat_payment_method *method;
    payment_start_request start;
} checkout_input;

/* The doc's callback names, in the engine's order (success, failure, cancel, expired). */
static const char *const callback_names[4] = {"success_url", "failed_url", "cancelled_url", "expired_url"};

/* iDEAL is not one of the engine's payment method kinds: a method is iDEAL
 * when its name or external_id says so. */
static bool method_is_ideal(const cat_payment_method *pm)
{
    return !strcasecmp(pm->name, "ideal") || (pm->external_id && !strcasecmp(pm->external_id, "ideal"));
}

/* Reads and checks the body; false after replying 400. */
static bool checkout_parsed(http_request *r, const catalog_model *m, const cm_event *ce, const char *order_id,
                            checkout_input *in)
{
    json_t *body = cm_body_object(r);
    if (!body) return false;
    const json_t *body_order = json_object_get(body, "order_id");
    if (body_order && !json_is_null(body_order) &&
        (!json_is_string(body_order) || strcmp(json_string_value(body_order), order_id))) {
        cm_error(r, 400, "ORDER_ID_MISMATCH", "order_id", "the body's order_id must be the path's");
        return false;
    }
    const char *method_id = json_string_value(json_object_get(body, "payment_method_uuid"));
    const cat_payment_method *pm = method_id ? model_payment_method(m, method_id) : NULL;
    if (!pm || !payment_method_offered(ce->event, pm)) {
        cm_error(r, 400, "PAYMENT_METHOD_INVALID", "payment_method_uuid",
                 "payment_method_uuid is one of the event's payment_methods");
        return false;
    }
    if (method_is_ideal(pm) && !cm_ideal_issuer_known(json_string_value(json_object_get(body, "ideal_issuer_id")))) {
        cm_error(r, 400, "IDEAL_ISSUER_INVALID", "ideal_issuer_id", "iDEAL needs one of the event's ideal_issuers");
        return false;
    }
    const json_t *urls = json_object_get(body, "callback_urls");
    if (!json_is_object(urls)) {
        cm_error(r, 400, "CALLBACK_URLS_INVALID", "callback_urls",
                 "callback_urls is an object with success_url, failed_url, cancelled_url and expired_url");
        return false;
    }
    const char *url[4];
    for (size_t i = 0; i < 4; i++) {
        url[i] = json_string_value(json_object_get(urls, callback_names[i]));
        if (!payment_callback_url_ok(url[i])) {
            char field[48];
            snprintf(field, sizeof field, "callback_urls.%s", callback_names[i]);
            cm_error(r, 400, "CALLBACK_URL_INVALID", field, "an absolute http(s) URL of at most %d characters",
                     PAYMENT_URL_MAX);
            return false;
        }
    }
    in->method = pm;
    /* the method's id names it to the payment step: another method is another payment */
    in->start = (payment_start_request){.method = pm->id, .success_url = url[0], .failure_url = url[1],
                                        .cancel_url = url[2], .expired_url = url[3]};
    return true;
}

/* The fee the method adds to the order: Total − Sub_Total by the shop's
 * formula over the order's live tickets (price after discount, booking fee).
 * A payment_fee_fn of the method (payment_book_and_start). */
static bool method_fee(const order_record *o, void *method, money *fee)
{
    const cat_payment_method *pm = method;
    fee_line *lines = calloc(o->ntickets ? o->ntickets : 1, sizeof *lines);
    size_t n = 0;
    for (size_t i = 0; lines && i < o->ntickets; i++) {
        const store_ticket_row *t = &o->tickets[i];
        if (!strcmp(t->status, "voided") || !strcmp(t->status, "refunded")) continue;
        char *booking_fee = objtext_member(t->doc, "booking_fee");
        lines[n++] = (fee_line){t->price_gross - t->discount, booking_fee ? strtoll(booking_fee, NULL, 10) : 0, 1};
        free(booking_fee);
    }
    money sub_total = 0, total = 0;
    bool ok = lines && fee_total(lines, n, pm->fee_percent_bp, pm->fee_fixed, &sub_total, &total);
    free(lines);
    /* a voucher paid part at booking: the method's percentage is of what the payment charges */
    money voucher_paid = 0;
    for (size_t i = 0; i < o->npayments; i++) {
        const store_payment_row *p = &o->payments[i];
        if (!strcmp(p->kind, "payment") && !strcmp(p->status, "paid") && p->provider && !strcmp(p->provider, "voucher"))
            voucher_paid += p->amount;
    }
    if (ok && voucher_paid > 0) {
        fee_line rest = {sub_total > voucher_paid ? sub_total - voucher_paid : 0, 0, 1};
        ok = fee_total(&rest, 1, pm->fee_percent_bp, pm->fee_fixed, &sub_total, &total);
    }
    *fee = total - sub_total;
    return ok && *fee >= 0 && *fee <= PAYMENT_MAX_FEE;
}

static bool objtext_has_voucher(const char *extras)
{
    char *code = extras ? objtext_string(extras, "voucher_code") : NULL;
    bool has = code != NULL;
    free(code);
    return has;
}

/* A voucher paid for everything: the order is complete, the buyer goes straight to success_url. */
static void reply_completed(http_request *r, const order_record *o, const checkout_input *in)
{
    payment_session done = {0};
    snprintf(done.status, sizeof done.status, "paid");
    snprintf(done.success_url, sizeof done.success_url, "%s", in->start.success_url);
    char url[PAYMENT_URL_MAX + 128];
    payment_callback_url(&done, o->order.number, url, sizeof url);
    cm_reply(r, 201, json_pack("{s:s,s:n,s:s,s:s}", "order_id", o->order.number, "due_at", "status", "PAID",
                               "redirect_url", url));
}

#define TEST_MODE_ONLY "this shop takes no payments yet (the test provider serves accounts in test mode only)"

static void checkout_refused(http_request *r, const bo_error *err);

/* False after replying when the reservation can no longer be checked out. */
static bool reservation_open(http_request *r, const cart_record *cart)
{
    if (!strcmp(cart->status, "open") && cart->expires_at >= clock_now()) return true;
    cm_error(r, 400, "RESERVATION_EXPIRED", "order_id", "the reservation has expired");
    return false;
}

/* The booking of a reservation, with the codes its ?code put in the cart's
 * extras (pointers into extras). A voucher that pays everything completes the
 * order (booked confirmed). */
static book_request cart_booking(const cart_record *cart, const json_t *extras, order_record *o)
{
    const char *voucher = json_string_value(json_object_get(extras, "voucher_code"));
    return (book_request){.cart_id = cart->id, .channel = "cm", .status = voucher ? "confirmed" : "open",
                          .discount_code = json_string_value(json_object_get(extras, "discount_code")),
                          .voucher_code = voucher, .order_out = o};
}

/* The order a checked-out reservation became, or the cart's booking now;
 * false after replying. */
static bool order_booked(http_request *r, engine *e, const account *a, const cart_record *cart, order_record *o)
{
    if (*cart->order_id) {
        if (order_get(e, a, cart->order_id, o) == BO_OK) return true;
        cm_error(r, 500, "INTERNAL_ERROR", NULL, "storage failure; try again");
        return false;
    }
    if (!reservation_open(r, cart)) return false;
    json_t *extras = json_loads(cart->extras ? cart->extras : "{}", 0, NULL);
    /* a voucher that pays part of the order (payment_required) is booked
     * open, its part spent, and the payment step charges the rest
     * (docs/dialects/cm.md, "Vouchers at checkout") */
    book_request booking = cart_booking(cart, extras, o);
    char order_id[40];
    bool created = false, test_mode = false;
    bo_error err = {0};
    bo_status st = order_book(e, a, &booking, order_id, &created, &err);
    if (st != BO_OK && !strcmp(err.code, "payment_required") && account_test_mode_get(e, a, &test_mode) == BO_OK &&
        test_mode) {
        booking.status = "open";
        st = order_book(e, a, &booking, order_id, &created, &err);
    }
    json_decref(extras);
    if (st == BO_OK) return true;
    checkout_refused(r, &err);
    return false;
}

/* A refusal of the booking or of the payment step, in the shop's words. */
static void checkout_refused(http_request *r, const bo_error *err)
{
    if (!strcmp(err->code, "not_open"))
        cm_error(r, 400, "RESERVATION_EXPIRED", "order_id", "the order is paid, cancelled or past its deadline");
    else if (!strcmp(err->code, "test_mode_required"))
        cm_error(r, 400, "PAYMENT_METHOD_UNAVAILABLE", "payment_method_uuid", "%s", TEST_MODE_ONLY);
    else if (err->status == BO_INVALID && !strcmp(err->field, "fee"))
        cm_error(r, 400, "PAYMENT_METHOD_INVALID", "payment_method_uuid", "the method's fee is out of range");
    else if (!strcmp(err->code, "payment_required"))
        cm_error(r, 400, "VOUCHER_INSUFFICIENT", "code", "%s; this shop takes no payments for the rest", err->message);
    else if (!strcmp(err->code, "invalid_voucher") || !strcmp(err->code, "voucher_not_valid_for_event"))
        cm_error(r, 400, "CODE_INVALID", "code", "%s", err->message);
    else if (!strcmp(err->code, "discount_exhausted"))
        cm_error(r, 400, "CODE_SOLD_OUT", "code", "this code has no uses left");
    else if (err->status == BO_SOLD_OUT || !strcmp(err->code, "cart_closed"))
        cm_error(r, 400, "RESERVATION_EXPIRED", "order_id", "the reservation has expired");
    else
        cm_fail(r, err);
}

static void reply_started(http_request *r, const order_record *o, const payment_session *s)
{
    cm_reply(r, 201, json_pack("{s:s,s:o,s:s,s:o}", "order_id", o->order.number, "due_at", cm_time(s->due_at),
                               "status", "OPEN", "redirect_url", api_absolute_url(r, s->redirect_url)));
}

/* A reservation's first checkout when it is to be paid: the booking and the
 * payment's start in one write transaction (payment_book_and_start). */
static void checkout_first(http_request *r, engine *e, const account *a, const cart_record *cart,
                           const checkout_input *in)
{
    if (!reservation_open(r, cart)) return;
    json_t *extras = json_loads(cart->extras ? cart->extras : "{}", 0, NULL);
    order_record o;
    book_request booking = cart_booking(cart, extras, &o);
    payment_session *s = http_alloc(r, sizeof *s);
    bo_error err = {0};
    bo_status st = payment_book_and_start(e, a, &booking, &in->start, method_fee, (void *)in->method, s, NULL, &err);
    json_decref(extras);
    if (st != BO_OK) return checkout_refused(r, &err);
    pay_page_remember(r, s, &o, a); /* the buyer's next step is its page */
    reply_started(r, &o, s);
    order_record_free(&o);
}

/* The reservation of the path's order_id: its id, or the number of the order it became. */
static bool reservation_of(http_request *r, engine *e, const account *a, const catalog_model *m, const cm_event *ce,
                           const char *order_id, cart_record *cart)
{
    /* order numbers are digits; reservation ids are UUIDs, which skip the lookup */
    order_record by_number;
    size_t len = strlen(order_id);
    if (len && len <= 16 && strspn(order_id, "0123456789") == len &&
        order_get_by_number(e, a, order_id, &by_number) == BO_OK) {
        bool cm_order = by_number.order.cart_id && !strcmp(by_number.order.channel, "cm");
        const char *cart_id = cm_order ? http_strdup(r, by_number.order.cart_id) : NULL;
        order_record_free(&by_number);
        if (cart_id) return cm_reservation_find(r, e, a, m, ce, cart_id, cart);
    }
    return cm_reservation_find(r, e, a, m, ce, order_id, cart);
}

void cm_checkout(http_request *r, void *app_)
{
    engine *e = cm_engine(app_);
    const account *a = api_account(r);
    const char *order_id = http_path_param(r, "order_id");
    cm_event ce;
    catalog_view *v = cm_event_open(r, e, &ce);
    if (!v) return;
    const catalog_model *m = catalog_view_model(v);
    cart_record cart = {0};
    checkout_input in = {0};
    order_record o;
    bool test_mode = false;
    if (!reservation_of(r, e, a, m, &ce, order_id, &cart)) return catalog_view_close(v);
    bool ready = checkout_parsed(r, m, &ce, order_id, &in);
    in.start.test_server = ((app *)app_)->test_clock;
    /* a reservation checked out for the first time, to be paid: booked and
     * its payment started in one transaction, so neither happens alone */
    if (ready && !*cart.order_id && !objtext_has_voucher(cart.extras)) {
        checkout_first(r, e, a, &cart, &in);
        cart_record_free(&cart);
        return catalog_view_close(v);
    }
    /* refused before booking, so a checkout that cannot pay books nothing
     * (a voucher that pays everything needs no payment) */
    if (ready && !objtext_has_voucher(cart.extras) && (account_test_mode_get(e, a, &test_mode) != BO_OK || !test_mode)) {
        cm_error(r, 400, "PAYMENT_METHOD_UNAVAILABLE", "payment_method_uuid", TEST_MODE_ONLY);
        ready = false;
    }
    if (!ready || !order_booked(r, e, a, &cart, &o)) {
        cart_record_free(&cart);
        return catalog_view_close(v);
    }
    payment_session *s = http_alloc(r, sizeof *s);
    bo_error err = {0};
    if (!strcmp(o.order.status, "confirmed") && o.npayments && !strcmp(o.payments[0].provider ?: "", "voucher")) {
        reply_completed(r, &o, &in);
    } else if (strcmp(o.order.status, "open")) {
        bool cancelled = !strcmp(o.order.status, "cancelled");
        cm_error(r, 400, cancelled ? "RESERVATION_EXPIRED" : "RESERVATION_COMPLETED", "order_id",
                 cancelled ? "the reservation has expired" : "the order is paid");
    } else if (!method_fee(&o, (void *)in.method, &in.start.fee)) {
        cm_error(r, 400, "PAYMENT_METHOD_INVALID", "payment_method_uuid", "the method's fee is out of range");
    } else if (payment_start(e, a, o.order.id, &in.start, s, NULL, &err) != BO_OK) {
        checkout_refused(r, &err);
    } else {
        reply_started(r, &o, s);
    }
    order_record_free(&o);
    cart_record_free(&cart);
    catalog_view_close(v);
}
