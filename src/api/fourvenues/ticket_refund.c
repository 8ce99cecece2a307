/* PUT /tickets/{id}/refund {amount}: gives part or all of what was paid for
 * a ticket back (ticket_refund), as often as something is left; the first
 * refund voids the ticket. Answers the ticket as GET /tickets/{id} shows it,
 * its `refunds` ending with this one. */
#include "api/fourvenues/fourvenues.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The body's amount (a JSON number of major units, at most the currency's
 * decimals) in minor units; false when it is not one. */
static bool amount_minor(const json_t *v, int decimals, money *out)
{
    if (!json_is_number(v)) return false;
    double scaled = json_number_value(v) * (double)money_unit(decimals);
    /* a million million major units is no ticket's price; it also keeps llround exact */
    if (!isfinite(scaled) || fabs(scaled) > 1e15) return false;
    long long minor = llround(scaled);
    if (fabs(scaled - (double)minor) > 1e-6 * (fabs(scaled) > 1 ? fabs(scaled) : 1)) return false;
    *out = minor;
    return true;
}

/* The engine id of the account's ticket the channel's `id` names, if it is a
 * channel event's (what GET /tickets/{id} serves). */
static bo_status channel_ticket(engine *e, const account *a, const char *id, char engine_id[48])
{
    json_t *t = NULL;
    bo_status st = fv_ticket_find(e, a, id, &t);
    if (st == BO_OK && (!json_is_string(json_object_get(t, "event_id")) || !json_is_string(json_object_get(t, "occurrence"))))
        st = BO_NOT_FOUND;
    if (st == BO_OK) snprintf(engine_id, 48, "%s", json_string_value(json_object_get(t, "id")));
    json_decref(t);
    return st;
}

void fv_ticket_refund(http_request *r, void *app_)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    static const char *const fields[] = {"amount", NULL};
    json_t *body = fv_body_fields(r, fields);
    if (!body) return;
    const account *a = api_account(r);
    money amount = 0;
    json_t *given = json_object_get(body, "amount");
    if (!given) return fv_error(r, 400, "invalid_field", "amount", "amount is required");
    if (!amount_minor(given, a->currency_decimals, &amount))
        return fv_error(r, 400, "invalid_field", "amount",
                        "amount must be a number of %s with at most %d decimals", a->currency, a->currency_decimals);
    char channel[FV_ID_LEN + 1];
    fv_channel_id(r, channel);
    const char *id = http_path_param(r, "id");
    char engine_id[48];
    switch (channel_ticket(fv_engine(app_), a, id, engine_id)) {
    case BO_OK: break;
    case BO_NOT_FOUND: return fv_error(r, 404, "not_found", "id", "no such ticket");
    default: return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    }
    ticket_refund_request req = {.amount = amount, .by = "fourvenues", .channel = channel};
    bo_error err = {0};
    if (ticket_refund(fv_engine(app_), a, engine_id, &req, NULL, &err) != BO_OK) {
        if (err.status == BO_NOT_FOUND) return fv_error(r, 404, "not_found", "id", "no such ticket");
        return fv_fail(r, &err);
    }
    fv_ticket_reply(r, fv_engine(app_), id);
}
