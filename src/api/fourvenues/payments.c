/* GET /payments and GET /payments/{id}: the channel's checkouts (checkout.c).
 * A payment is an order booked through the channel's checkout, its id the
 * order's external_id; its status is that of the order's newest payment
 * session (core/payment.h). */
#include "api/fourvenues/fourvenues.h"
#include "api/order_json.h"
#include "core/payment.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The channel's status of a payment session: open is pending; a payment
 * that came after the deadline and went straight back is expired. */
static const char *payment_status(const payment_session *s)
{
    if (!strcmp(s->status, "open")) return s->due_at < clock_now() ? "expired" : "pending";
    if (!strcmp(s->status, "refunded")) return "expired";
    return s->status; /* paid, failed, cancelled, expired */
}

/* The payment of a canonical order of the checkout; NULL (*failed on a storage failure) when it is none. */
static json_t *payment_json(engine *e, const account *a, const json_t *order, bool *failed)
{
    const json_t *extras = json_object_get(order, "extras");
    const char *id = json_string_value(json_object_get(extras, "payment_id"));
    const char *order_id = json_string_value(json_object_get(order, "id"));
    if (!id || !order_id) return NULL;
    payment_session s;
    bo_status bs = payment_for_order(e, a, order_id, &s);
    if (bs == BO_NOT_FOUND) return NULL; /* booked, but its payment never started */
    if (bs != BO_OK) {
        *failed = true;
        return NULL;
    }
    json_t *ids = json_array();
    money fees = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(order, "tickets"), i, t)
    {
        json_array_append_new(ids, fv_ticket_id_json(json_object_get(t, "id")));
        fees += json_integer_value(json_object_get(t, "booking_fee"));
    }
    char organization_id[FV_ID_LEN + 1];
    fv_organization_id(a, organization_id);
    const char *status = payment_status(&s);
    json_t *metadata = json_object_get(extras, "metadata");
    return json_pack("{s:s,s:s,s:O,s:s,s:O,s:s,s:o,s:{s:o,s:o},s:b,s:o,s:s,s:o,s:o}", "_id", id, "status", status,
                     "rate_id", json_object_get(extras, "rate_id"), "organization_id", organization_id, "event_id",
                     json_object_get(extras, "event_id"), "resource_type", "ticket", "resource_ids", ids, "total",
                     "amount", fv_money(s.amount + s.fee, a->currency_decimals), "fees",
                     fv_money(fees, a->currency_decimals), "send_resources",
                     json_is_true(json_object_get(extras, "send_resources")), "metadata",
                     json_is_object(metadata) ? json_incref(metadata) : json_object(), "currency", s.currency, "paid_at",
                     fv_time(!strcmp(s.status, "paid") ? s.updated_at : 0), "expires_at", fv_time(s.due_at));
}

static bool hex_id(const char *s) { return s && strlen(s) == FV_ID_LEN && strspn(s, "0123456789abcdef") == FV_ID_LEN; }

#define ORDERS_PAGE 200

void fv_payments_list(http_request *r, void *app_)
{
    static const char *const params[] = {"organization_id", "event_id", "start_date", "end_date", "limit", "offset",
                                         NULL};
    size_t limit, offset;
    instant_us from = 0, to = 0;
    bool from_set, to_set;
    if (!fv_query_known(r, params) || !fv_page_args(r, &limit, &offset) ||
        !fv_query_instant(r, "start_date", &from, &from_set) || !fv_query_instant(r, "end_date", &to, &to_set))
        return;
    const char *organization = http_query(r, "organization_id"), *event_id = http_query(r, "event_id");
    if (organization && !hex_id(organization))
        return fv_error(r, 400, "invalid_parameter", "organization_id", "organization_id must be an id of 24 hex digits");
    if (event_id && !hex_id(event_id))
        return fv_error(r, 400, "invalid_parameter", "event_id", "event_id must be an id of 24 hex digits");
    if (from_set && to_set && to < from)
        return fv_error(r, 400, "invalid_parameter", "end_date", "end_date is before start_date");
    engine *e = fv_engine(app_);
    const account *a = api_account(r);
    char own[FV_ID_LEN + 1];
    fv_organization_id(a, own);
    json_t *out = json_array();
    if (organization && strcmp(organization, own)) return fv_reply(r, 200, out); /* the channel's one host only */
    order_query q;
    order_query_init(&q);
    q.sort = ORDER_BY_CREATED_DESC;
    q.limit = ORDERS_PAGE;
    q.channel = "fourvenues";
    if (event_id) q.extras_key = "event_id", q.extras_value = event_id;
    if (from_set) q.created_gte = from;
    if (to_set) q.created_lte = to;
    char after[48] = "";
    size_t matched = 0;
    bool failed = false;
    for (;;) {
        json_t *page = NULL;
        bool more = false;
        bo_error err = {0};
        if (orders_list_json(e, a, &q, &page, &more, &err) != BO_OK) {
            json_decref(out);
            return fv_fail(r, &err);
        }
        size_t i;
        json_t *o;
        json_array_foreach(page, i, o)
        {
            if (json_array_size(out) >= limit || failed) break;
            json_t *p = payment_json(e, a, o, &failed);
            if (p && matched++ >= offset)
                json_array_append(out, p);
            json_decref(p);
        }
        size_t n = json_array_size(page);
        if (n) snprintf(after, sizeof after, "%s", json_string_value(json_object_get(json_array_get(page, n - 1), "id")));
        json_decref(page);
        if (failed || !more || !n || json_array_size(out) >= limit) break;
        q.starting_after = after;
    }
    if (failed) {
        json_decref(out);
        return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    }
    fv_reply(r, 200, out);
}

void fv_payment_get(http_request *r, void *app_)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    const char *id = http_path_param(r, "id");
    if (!hex_id(id)) return fv_error(r, 404, "not_found", "id", "no such payment");
    engine *e = fv_engine(app_);
    const account *a = api_account(r);
    order_query q;
    order_query_init(&q);
    q.sort = ORDER_BY_CREATED_DESC;
    q.limit = 1;
    q.channel = "fourvenues";
    q.external_id = id;
    json_t *page = NULL;
    bool more = false, failed = false;
    bo_error err = {0};
    if (orders_list_json(e, a, &q, &page, &more, &err) != BO_OK) return fv_fail(r, &err);
    json_t *p = json_array_size(page) ? payment_json(e, a, json_array_get(page, 0), &failed) : NULL;
    json_decref(page);
    if (failed) return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    if (!p) return fv_error(r, 404, "not_found", "id", "no such payment");
    fv_reply(r, 200, p);
}
