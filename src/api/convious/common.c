/* Shared by the Convious handlers: authentication, error shape, formatting. */
#include "api/convious/convious.h"
#include "util/utf8.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

engine *cv_engine(void *app_) { return ((app *)app_)->e; }

void cv_error(http_request *r, int status, const char *code, const char *field, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_trim(msg);
    json_t *body = json_pack("{s:s,s:s}", "error", code, "message", msg);
    if (field && *field) json_object_set_new(body, "field", json_string(field));
    http_reply_json(r, status, body);
}

/* The engine's field names (engine.h) → Convious' documented ones. Names not
 * listed are the same in both (items, products, customer, extras, barcode ...). */
static const struct {
    const char *engine, *convious;
} cv_field_names[] = {
    {"cart_id", "cartId"},
    {"product_id", "productId"},
    {"category_id", "categoryId"},
    {"date", "eventDate"},
    {"start_time", "startTime"},
    {"quantity", "amount"},
    {"pricing_token", "pricingToken"},
    {"reason", "statusReason"},
    {"options", "items.options"},
    {"option_id", "items.options.optionId"},
    {"option_quantity", "items.options.numberOfItems"},
    {"ticket_id", "items.id"},
    {"apf_answers", "items.afterPaymentForm"},
    {"apf_answer", "items.afterPaymentForm"},
};

static const char *cv_wire_field(const char *engine_field)
{
    for (size_t i = 0; i < sizeof cv_field_names / sizeof cv_field_names[0]; i++)
        if (!strcmp(engine_field, cv_field_names[i].engine)) return cv_field_names[i].convious;
    return engine_field;
}

void cv_missing(http_request *r, bo_status st)
{
    if (st == BO_NOT_FOUND) cv_error(r, 404, "not_found", NULL, "Not found.");
    else cv_error(r, 500, "internal_error", NULL, "storage failure; try again");
}

void cv_fail(http_request *r, const bo_error *err)
{
    int status;
    switch (err->status) {
    case BO_INVALID: status = 400; break;
    case BO_NOT_FOUND: status = 404; break;
    case BO_SOLD_OUT: status = 409; break;
    case BO_CONFLICT: status = 409; break;
    case BO_UNAUTHORIZED: status = 401; break;
    case BO_FORBIDDEN: status = 403; break;
    case BO_RATE_LIMITED: status = 429; break;
    case BO_UNAVAILABLE: status = 503; api_retry_later(r); break;
    default: status = 500; break;
    }
    cv_error(r, status, *err->code ? err->code : "error", cv_wire_field(err->field), "%s", err->message);
}

bool cv_own_slug(http_request *r)
{
    const char *slug = http_path_param(r, "account_slug");
    if (slug && !strcmp(slug, api_account(r)->slug)) return true;
    cv_error(r, 404, "account_not_found", "account_slug", "no such account");
    return false;
}

json_t *cv_body(http_request *r)
{
    const char *why = NULL;
    json_t *body = http_body_json(r, &why);
    if (!body) {
        cv_error(r, 400, "invalid_json", NULL, "%s", why ? why : "invalid JSON");
        return NULL;
    }
    if (!json_is_object(body)) {
        cv_error(r, 400, "invalid_json", NULL, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

bool cv_fields(http_request *r, json_t *obj, const char *prefix, const body_field *t, size_t n,
               const cv_field_code *codes)
{
    body_error e;
    if (body_fields(obj, prefix, t, n, false, &e)) return true;
    const char *code = e.code, *field = e.field;
    for (; codes && codes->field; codes++)
        if (!strcmp(codes->field, e.field)) {
            if (codes->code) code = codes->code;
            if (codes->as) field = codes->as;
            break;
        }
    cv_error(r, 400, code, field, "%s", e.message);
    return false;
}

json_t *cv_money(const account *a, money amount)
{
    char buf[32];
    money_format(amount, a->currency_decimals, buf, sizeof buf);
    return json_string(buf);
}

json_t *cv_rate(int64_t bp)
{
    char buf[16];
    rate_format((int32_t)bp, buf, sizeof buf);
    return json_string(buf);
}

json_t *cv_time_of_day(const json_t *secs)
{
    if (!json_is_integer(secs)) return json_null();
    char buf[9];
    time_of_day_format((int32_t)json_integer_value(secs), buf);
    return json_string(buf);
}

bool cv_date_arg(http_request *r, const char *text, const char *field, civil_date *out)
{
    if (text && date_parse(text, out)) return true;
    cv_error(r, 400, "invalid_date", field, "%s must be a valid date YYYY-MM-DD", field);
    return false;
}

bool cv_includes(http_request *r, const char *const *known, unsigned *out)
{
    *out = 0;
    const char *inc = http_query(r, "include");
    if (!inc || !*inc) return true;
    if (strlen(inc) > 1000) {
        cv_error(r, 400, "invalid_include", "include", "include is too long");
        return false;
    }
    char *copy = http_strdup(r, inc);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        int i;
        for (i = 0; known[i] && strcmp(known[i], tok); i++) {}
        if (!known[i]) {
            cv_error(r, 400, "invalid_include", "include", "unknown include %.*s", utf8_prefix(tok, 60), tok);
            return false;
        }
        *out |= 1u << i;
    }
    return true;
}

/* ---- authentication and routing glue ---- */

bool cv_bearer(http_request *r, void *app_)
{
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) {
        cv_error(r, 401, "not_authenticated", NULL, "Authentication credentials were not provided.");
        return false;
    }
    account *a = http_alloc(r, sizeof *a);
    if (auth_lookup(cv_engine(app_), CRED_ACCESS_TOKEN, h + 7, a) != BO_OK) {
        cv_error(r, 401, "authentication_failed", NULL, "Invalid or expired access token.");
        return false;
    }
    http_set_user(r, a);
    return true;
}

static bool authenticate(http_request *r, int kind, void *app_)
{
    (void)kind;
    if (!cv_bearer(r, app_)) return false;
    const account *a = api_account(r);
    /* an explicit account filter naming another account sees nothing of it */
    const char *acct = http_query(r, "account");
    if (acct && *acct && strcmp(acct, a->slug)) {
        cv_error(r, 403, "permission_denied", "account", "You do not have access to this account.");
        return false;
    }
    return true;
}

static void table_error(http_request *r, int status, const char *code, const char *message, void *app_)
{
    cv_error(r, status, code, NULL, "%s", message);
}

static const http_route routes[] = {
    {"POST", "/oauth/token/", cv_oauth_token, 0},
    {"GET", "/api/v1/orders/", cv_orders_list, CV_AUTH_TOKEN},
    {"GET", "/api/v1/orders/{order_id}/", cv_order_get, CV_AUTH_TOKEN},
    {"POST", "/api/v1/orders/{order_id}/status/", cv_order_status, CV_AUTH_TOKEN},
    {"GET", "/api/v1/orders/{order_id}/apf/", cv_order_apf_get, CV_AUTH_TOKEN},
    {"POST", "/api/v1/orders/{order_id}/apf/", cv_order_apf_post, CV_AUTH_TOKEN},
    {"POST", "/api/v1/accounts/{account_slug}/carts/", cv_cart_create, CV_AUTH_TOKEN},
    {"GET", "/api/v1/accounts/{account_slug}/carts/{cart_id}/", cv_cart_get, CV_AUTH_TOKEN},
    {"PATCH", "/api/v1/accounts/{account_slug}/carts/{cart_id}/", cv_cart_update, CV_AUTH_TOKEN},
    {"DELETE", "/api/v1/accounts/{account_slug}/carts/{cart_id}/", cv_cart_delete, CV_AUTH_TOKEN},
    {"POST", "/api/v1/accounts/{account_slug}/bookings/", cv_booking_create, CV_AUTH_TOKEN},
    {"GET", "/api/v1/products/", cv_products_list, CV_AUTH_TOKEN},
    {"GET", "/api/v1/products/{product_id}/", cv_product_get, CV_AUTH_TOKEN},
    {"GET", "/api/v1/products/{product_id}/availability/", cv_product_availability, CV_AUTH_TOKEN},
    {"POST", "/api/v1/accounts/{account_slug}/availability/for_period/{date_from}/{date_to}/", cv_availability_period,
     CV_AUTH_TOKEN},
    {"POST", "/api/v1/accounts/{account_slug}/availability/{date}/", cv_availability_day, CV_AUTH_TOKEN},
    {"GET", "/api/v1/categories/", cv_categories_list, CV_AUTH_TOKEN},
    {"POST", "/api/v1/accounts/{account_slug}/pricing/for_period/{date_from}/{date_to}/", cv_pricing_period,
     CV_AUTH_TOKEN},
    {"POST", "/api/v1/accounts/{account_slug}/pricing/{date}/", cv_pricing_day, CV_AUTH_TOKEN},
    {"GET", "/api/v2/accounts/{account_slug}/barcode/scan/", cv_scan_check, CV_AUTH_TOKEN},
    {"POST", "/api/v2/accounts/{account_slug}/barcode/scan/", cv_scan_redeem, CV_AUTH_TOKEN},
};

static const http_route_table table = {"/convious", routes, sizeof routes / sizeof routes[0], authenticate,
                                       table_error, api_idempotent};

const http_route_table *convious_routes(void) { return &table; }

void cv_jb_money(jbuf *b, const account *a, money amount)
{
    jb_money(b, amount, a->currency_decimals);
}

void cv_jb_instant(jbuf *b, const account *a, bool present, instant_us t)
{
    if (!present) return jb_null(b);
    char buf[48];
    iso_format(t, a->timezone, buf, sizeof buf);
    jb_str(b, buf);
}

void cv_jb_time(jbuf *b, bool present, int32_t secs)
{
    if (!present) return jb_null(b);
    char buf[9];
    time_of_day_format(secs, buf);
    jb_plain(b, buf, 8);
}

void cv_jb_page_open(jbuf *b)
{
    jb_init(b, 1024);
    jb_obj(b);
    jb_knull(b, "next");
    jb_knull(b, "previous");
    jb_key(b, "results");
    jb_arr(b);
}

void cv_reply_page(http_request *r, jbuf *b)
{
    jb_arr_end(b);
    jb_obj_end(b);
    cv_reply_jbuf(r, b);
}

void cv_reply_jbuf(http_request *r, jbuf *b)
{
    size_t len;
    char *text = jb_take(b, &len);
    if (!text) return cv_error(r, 500, "internal_error", NULL, "reply could not be written");
    http_reply_owned(r, 200, "application/json", text, len);
}
