/* Scanning v2: GET checks a barcode without redeeming it, POST redeems.
 * The reply is the doc's Scan Result Type with HTTP 200 either way: the
 * result's status and errorCode say whether the gate may open. */
#include "api/convious/convious.h"
#include "util/jbuf.h"
#include <string.h>

/* A member that is present (even JSON null) as itself, else null. */
static void member_or_null(jbuf *b, const char *key, const json_t *v)
{
    jb_key(b, key);
    jb_json(b, v);
}

static void json_time(jbuf *b, const json_t *secs)
{
    cv_jb_time(b, json_is_integer(secs), (int32_t)json_integer_value(secs));
}

static void json_instant(jbuf *b, const account *a, const json_t *micros)
{
    cv_jb_instant(b, a, json_is_integer(micros), json_integer_value(micros));
}

/* The Scan Result Type, written straight into the reply buffer (instants in
 * the venue zone or null). */
static char *scan_reply(const account *a, const scan_result *res, size_t *len)
{
    json_t *t = res->has_ticket ? scan_ticket_json(&res->ticket) : NULL;
    json_t *order = json_object_get(t, "order");
    bool ok = res->code == SCAN_SUCCESS;
    jbuf b;
    jb_init(&b, 1024);
    jb_obj(&b);
    jb_kstr(&b, "status", ok ? "success" : "error");
    jb_kstr(&b, "reason", res->reason);
    if (ok) jb_knull(&b, "errorCode");
    else jb_kstr(&b, "errorCode", scan_code_name(res->code));
    jb_kint(&b, "overtimeSeconds", res->overtime_seconds);
    if (res->remaining_seconds < 0) jb_knull(&b, "remainingSeconds");
    else jb_kint(&b, "remainingSeconds", res->remaining_seconds);
    if (!t) {
        jb_knull(&b, "product");
        jb_knull(&b, "order");
        jb_knull(&b, "ticket");
        jb_knull(&b, "customer");
        jb_obj_end(&b);
        return jb_take(&b, len);
    }
    jb_key(&b, "product");
    jb_obj(&b);
    member_or_null(&b, "id", json_object_get(t, "product_id"));
    member_or_null(&b, "name", json_object_get(t, "product_name"));
    jb_obj_end(&b);
    jb_key(&b, "order");
    jb_obj(&b);
    member_or_null(&b, "eventDate", json_object_get(order, "visit_date"));
    jb_key(&b, "startTime");
    json_time(&b, json_object_get(order, "visit_time"));
    jb_key(&b, "endTime");
    json_time(&b, json_object_get(order, "visit_end_time"));
    jb_obj_end(&b);
    json_t *holder = json_object_get(t, "holder");
    jb_key(&b, "ticket");
    jb_obj(&b);
    jb_key(&b, "validFrom");
    json_instant(&b, a, json_object_get(t, "valid_from"));
    jb_key(&b, "validTo");
    json_instant(&b, a, json_object_get(t, "valid_to"));
    jb_key(&b, "priceBeforeDiscount");
    cv_jb_money(&b, a, json_integer_value(json_object_get(t, "price_gross")));
    jb_key(&b, "price");
    cv_jb_money(&b, a, json_integer_value(json_object_get(t, "discounted_gross")));
    jb_key(&b, "extraInfo");
    if (json_is_object(holder)) jb_json(&b, holder);
    else {
        jb_obj(&b);
        jb_obj_end(&b);
    }
    jb_obj_end(&b);
    json_t *cust = json_object_get(order, "customer");
    jb_key(&b, "customer");
    jb_obj(&b);
    member_or_null(&b, "email", json_object_get(cust, "email"));
    member_or_null(&b, "language", json_object_get(cust, "language"));
    jb_obj_end(&b);
    jb_obj_end(&b);
    json_decref(t);
    return jb_take(&b, len);
}

/* at_name: the scan time's name where the client sent it (query or body), for errors */
static void scan(http_request *r, void *app_, const char *barcode, const char *at, const char *at_name,
                 const char *direction, bool force, bool redeem)
{
    const account *a = api_account(r);
    if (!barcode || !*barcode) return cv_error(r, 400, "missing_field", "barcode", "barcode is required");
    scan_request req = {.barcode = barcode, .force = force, .redeem = redeem};
    if (at && !iso_parse(at, a->timezone, &req.scanned_at))
        return cv_error(r, 400, "invalid_date", at_name, "%s must be an ISO 8601 date-time", at_name);
    if (direction && strcmp(direction, "in") && strcmp(direction, "out"))
        return cv_error(r, 400, "invalid_direction", "direction", "direction is \"in\" or \"out\"");
    req.direction_out = direction && !strcmp(direction, "out");
    scan_result res;
    bo_error err = {0};
    if (scan_barcode(cv_engine(app_), a, &req, &res, &err) != BO_OK) return cv_fail(r, &err);
    size_t len;
    char *text = scan_reply(a, &res, &len);
    scan_result_free(&res);
    if (!text) return cv_error(r, 500, "internal_error", NULL, "reply could not be written");
    http_reply_owned(r, 200, "application/json", text, len);
}

void cv_scan_check(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    scan(r, app_, http_query(r, "barcode"), http_query(r, "scanned_at"), "scanned_at", http_query(r, "direction"), false,
         false);
}

void cv_scan_redeem(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    json_t *body = cv_body(r);
    if (!body) return;
    const char *barcode = NULL, *at = NULL, *direction = NULL;
    bool force = false;
    /* scanned_at is an older spelling: scannedAt wins when both are present */
    const body_field fields[] = {
        {"barcode", BF_STRING, true, 0, BF_UNLIMITED, &barcode, NULL},
        {json_object_get(body, "scannedAt") ? "scannedAt" : "scanned_at", BF_STRING, false, 0, BF_UNLIMITED, &at,
         NULL},
        {"direction", BF_STRING, false, 0, BF_UNLIMITED, &direction, NULL},
        {"forceScan", BF_BOOL, false, 0, 0, &force, NULL},
    };
    static const cv_field_code codes[] = {
        {"barcode", "missing_field", NULL},
        {"scannedAt", "invalid_date", NULL},
        {"scanned_at", "invalid_date", "scannedAt"},
        {"direction", "invalid_direction", NULL},
        {NULL, NULL, NULL},
    };
    if (!CV_FIELDS(r, body, "", fields, codes)) return;
    scan(r, app_, barcode, at, "scannedAt", direction, force, true); /* the body's documented name, as in codes */
}
