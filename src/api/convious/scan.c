/* Scanning v2: GET checks a barcode without redeeming it, POST redeems.
 * The reply is the doc's Scan Result Type with HTTP 200 either way: the
 * result's status and errorCode say whether the gate may open. */
#include "api/convious/convious.h"
#include <string.h>

static json_t *scan_reply(const account *a, const scan_result *res)
{
    json_t *t = res->ticket;
    json_t *order = json_object_get(t, "order");
    json_t *x = json_object();
    bool ok = res->code == SCAN_SUCCESS;
    json_object_set_new(x, "status", json_string(ok ? "success" : "error"));
    json_object_set_new(x, "reason", json_string(res->reason));
    json_object_set_new(x, "errorCode", ok ? json_null() : json_string(scan_code_name(res->code)));
    json_object_set_new(x, "overtimeSeconds", json_integer(res->overtime_seconds));
    json_object_set_new(x, "remainingSeconds",
                        res->remaining_seconds < 0 ? json_null() : json_integer(res->remaining_seconds));
    if (!t) {
        json_object_set_new(x, "product", json_null());
        json_object_set_new(x, "order", json_null());
        json_object_set_new(x, "ticket", json_null());
        json_object_set_new(x, "customer", json_null());
        return x;
    }
    json_object_set_new(x, "product", json_pack("{s:O?,s:O?}", "id", json_object_get(t, "product_id"), "name",
                                                json_object_get(t, "product_name")));
    json_object_set_new(x, "order",
                        json_pack("{s:O?,s:o,s:o}", "eventDate",
                                  json_object_get(order, "visit_date") ? json_object_get(order, "visit_date") : json_null(),
                                  "startTime", cv_time_of_day(json_object_get(order, "visit_time")), "endTime",
                                  cv_time_of_day(json_object_get(order, "visit_end_time"))));
    json_t *holder = json_object_get(t, "holder");
    json_object_set_new(
        x, "ticket",
        json_pack("{s:o,s:o,s:o,s:o,s:o}", "validFrom", cv_instant(a, json_object_get(t, "valid_from")), "validTo",
                  cv_instant(a, json_object_get(t, "valid_to")), "priceBeforeDiscount",
                  cv_money(a, json_integer_value(json_object_get(t, "price_gross"))), "price",
                  cv_money(a, json_integer_value(json_object_get(t, "discounted_gross"))), "extraInfo",
                  json_is_object(holder) ? json_deep_copy(holder) : json_object()));
    json_t *cust = json_object_get(order, "customer");
    json_object_set_new(x, "customer", json_pack("{s:O?,s:O?}", "email",
                                                 json_object_get(cust, "email") ? json_object_get(cust, "email")
                                                                                : json_null(),
                                                 "language",
                                                 json_object_get(cust, "language") ? json_object_get(cust, "language")
                                                                                   : json_null()));
    return x;
}

static void scan(http_request *r, void *app_, const char *barcode, const char *at, const char *direction, bool force,
                 bool redeem)
{
    const account *a = api_account(r);
    if (!barcode || !*barcode) return cv_error(r, 400, "missing_field", "barcode", "barcode is required");
    scan_request req = {.barcode = barcode, .force = force, .redeem = redeem};
    if (at && !iso_parse(at, a->timezone, &req.scanned_at))
        return cv_error(r, 400, "invalid_date", "scanned_at", "scanned_at must be an ISO 8601 date-time");
    if (direction && strcmp(direction, "in") && strcmp(direction, "out"))
        return cv_error(r, 400, "invalid_direction", "direction", "direction is \"in\" or \"out\"");
    req.direction_out = direction && !strcmp(direction, "out");
    scan_result res;
    bo_error err = {0};
    if (scan_barcode(cv_engine(app_), a, &req, &res, &err) != BO_OK) return cv_fail(r, &err);
    http_reply_json(r, 200, scan_reply(a, &res));
    json_decref(res.ticket);
}

void cv_scan_check(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    scan(r, app_, http_query(r, "barcode"), http_query(r, "scanned_at"), http_query(r, "direction"), false, false);
}

void cv_scan_redeem(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    json_t *body = cv_body(r);
    if (!body) return;
    json_t *barcode = json_object_get(body, "barcode"), *dir = json_object_get(body, "direction");
    json_t *at = json_object_get(body, "scannedAt");
    if (!at) at = json_object_get(body, "scanned_at");
    json_t *force = json_object_get(body, "forceScan");
    if (!json_is_string(barcode)) return cv_error(r, 400, "missing_field", "barcode", "barcode must be a string");
    if (at && !json_is_null(at) && !json_is_string(at))
        return cv_error(r, 400, "invalid_date", "scannedAt", "scannedAt must be an ISO 8601 string");
    if (dir && !json_is_null(dir) && !json_is_string(dir))
        return cv_error(r, 400, "invalid_direction", "direction", "direction is \"in\" or \"out\"");
    if (force && !json_is_null(force) && !json_is_boolean(force))
        return cv_error(r, 400, "invalid_field", "forceScan", "forceScan must be true or false");
    scan(r, app_, json_string_value(barcode), json_string_value(at), json_string_value(dir), json_is_true(force), true);
}
