/* The Fourvenues webhook format: {id, event, payload} written as
 * JSON.stringify would (stringify.c), with the headers the vendor's receivers
 * check:
 *   x-webhook-id: <the body's id, the same on every retry>
 *   x-webhook-signature: <lower-case hex HMAC-SHA256(sign_secret, exact body bytes)>
 * ORDER.PAID is the channel's payment.success, ISSUED_TICKET.REFUND_REQUESTED
 * its ticket.request_refund; the engine's other events (a
 * subscription made through /admin/v1 with this format may ask for them) go
 * under their own names in lower case with the canonical object as payload. */
#include "api/fourvenues/fourvenues.h"
#include "core/webhooks.h"
#include "util/objtext.h"
#include "util/secure.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* payment.success's payload, read from the recorded order's text in place:
 * the worker sends one per paid checkout, and parsing the whole order (its
 * tickets' documents) for four of its members was most of its time. */
static json_t *payment_success(const account *a, const char *order)
{
    char *order_id = objtext_string(order, "id"), *extras_text = objtext_member(order, "extras");
    json_t *extras = extras_text ? json_loads(extras_text, 0, NULL) : NULL;
    free(extras_text);
    /* a checkout's payment has its own id (checkout.c); another order paid is its own payment */
    const char *checkout_payment = json_string_value(json_object_get(extras, "payment_id"));
    char payment_id[FV_ID_LEN + 1];
    if (checkout_payment && strlen(checkout_payment) == FV_ID_LEN)
        snprintf(payment_id, sizeof payment_id, "%s", checkout_payment);
    else
        fv_public_id("payment", order_id ? order_id : "", a->id, payment_id);
    free(order_id);
    json_t *ids = json_array();
    size_t len = 0, tickets_len = 0;
    const char *tickets = objtext_span(order, "tickets", &tickets_len), *t = NULL;
    while (tickets && objtext_next_element(tickets, &t, &len)) {
        char *status = objtext_string(t, "status"), *id = objtext_string(t, "id");
        if (id && !(status && !strcmp(status, "voided"))) {
            char channel_id[FV_ID_LEN + 1];
            fv_ticket_id(id, channel_id);
            json_array_append_new(ids, json_string(channel_id));
        }
        free(status);
        free(id);
    }
    json_t *metadata = json_object_get(extras, "metadata");
    json_t *send = json_object_get(extras, "send_resources");
    json_t *payload = json_pack("{s:s,s:s,s:o,s:o,s:b}", "payment_id", payment_id, "resource_type", "ticket",
                                "resource_ids", ids, "metadata",
                                json_is_object(metadata) ? json_incref(metadata) : json_object(), "send_resources",
                                json_is_true(send));
    json_decref(extras);
    return payload;
}

/* ticket.request_refund's payload: which ticket, of which payment, how much
 * it may get back, and when and why its holder asked. */
static json_t *request_refund(const account *a, const json_t *ticket)
{
    json_t *item = fv_ticket_json(a, ticket);
    if (!item) return json_null();
    char payment_id[FV_ID_LEN + 1];
    fv_ticket_payment_id(a, ticket, payment_id);
    const json_t *asked = json_object_get(ticket, "refund_request");
    const char *reason = json_string_value(json_object_get(asked, "reason"));
    json_t *payload = json_pack("{s:O,s:s,s:O,s:O,s:O,s:O,s:o,s:o}", "ticket_id", json_object_get(item, "_id"),
                                "payment_id", payment_id, "event_id", json_object_get(item, "event_id"),
                                "ticket_rate_id", json_object_get(item, "ticket_rate_id"), "qr_code",
                                json_object_get(item, "qr_code"), "refundable", json_object_get(item, "total_price"),
                                "requested_at", fv_time(json_integer_value(json_object_get(asked, "at"))), "reason",
                                reason ? json_string(reason) : json_null());
    json_decref(item);
    return payload ? payload : json_null();
}

static char *body(engine *e, const account *a, const webhook_event_info *ev, const char *recorded)
{
    (void)e;
    /* payment.success reads the order's text in place; the others parse it */
    bool paid = !strcmp(ev->event, "ORDER.PAID") && recorded && *recorded == '{';
    json_t *object = paid ? NULL : json_loads(recorded ? recorded : "null", JSON_DECODE_ANY, NULL);
    json_t *payload;
    char name[40];
    if (paid) {
        snprintf(name, sizeof name, "payment.success");
        payload = payment_success(a, recorded);
    } else if (!strcmp(ev->event, "ISSUED_TICKET.REFUND_REQUESTED") && json_is_object(object)) {
        snprintf(name, sizeof name, "ticket.request_refund");
        payload = request_refund(a, object);
    } else {
        size_t i = 0;
        for (; ev->event[i] && i + 1 < sizeof name; i++) name[i] = (char)tolower((unsigned char)ev->event[i]);
        name[i] = 0;
        payload = object ? json_incref(object) : json_null();
    }
    json_t *envelope = json_pack("{s:s,s:s,s:o}", "id", ev->id, "event", name, "payload", payload);
    json_decref(object);
    char *text = envelope ? fv_stringify(envelope, NULL) : NULL;
    json_decref(envelope);
    return text;
}

static bool sign(const char *secret, const char *body, instant_us now, webhook_headers *out)
{
    (void)now;
    /* the body is the envelope fv_stringify wrote: its id is the outbox's, plain ASCII */
    json_t *doc = json_loads(body, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "id"));
    char mac[65];
    hmac_sha256_hex(secret, strlen(secret), body, strlen(body), mac);
    bool ok = id && webhook_header_add(out, "x-webhook-id: %s", id) &&
              webhook_header_add(out, "x-webhook-signature: %s", mac);
    json_decref(doc);
    return ok;
}

static const webhook_format fourvenues_format = {.name = FOURVENUES_WEBHOOK_FORMAT, .body = body, .sign = sign};

void fourvenues_install(engine *e) { webhooks_register_format(e, &fourvenues_format); }
