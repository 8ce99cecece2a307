/* Shared by the Fourvenues channel handlers: the channel key, the envelope and
 * error shape, money, times, public ids, query arguments, and the route table. */
#include "api/fourvenues/fourvenues.h"
#include "util/secure.h"
#include "util/utf8.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

engine *fv_engine(void *app_) { return ((app *)app_)->e; }

/* The engine's field names (engine.h) → the channel API's. */
static const api_field_name fv_field_names[] = {
    {"product_id", "ticket_rate_id"},
    {"occurrence_id", "event_id"},
};
#define FV_FIELD(engine_field) api_wire_field(fv_field_names, sizeof fv_field_names / sizeof fv_field_names[0], engine_field)

static void reply_text(http_request *r, int status, json_t *whole)
{
    size_t len = 0;
    char *text = whole ? fv_stringify(whole, &len) : NULL;
    json_decref(whole);
    if (!text) {
        static const char failed[] = "{\"data\":null,\"success\":false,\"error\":{\"code\":\"internal_error\","
                                     "\"message\":\"reply failed\",\"fields\":[]}}";
        http_reply_raw(r, 500, "application/json", failed, sizeof failed - 1);
        return;
    }
    http_reply_owned(r, status, "application/json", text, len);
}

void fv_reply(http_request *r, int status, json_t *data)
{
    reply_text(r, status, json_pack("{s:o,s:b}", "data", data ? data : json_null(), "success", 1));
}

void fv_error(http_request *r, int status, const char *code, const char *field, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    api_message_v(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a message or field echoing a client's bytes may not be UTF-8: jansson refuses such text */
    json_t *message = json_string(msg), *name = field && *field ? json_string(field) : NULL;
    json_t *fields = json_array();
    if (name) json_array_append_new(fields, name);
    if (status == 503) api_retry_later(r);
    reply_text(r, status,
               json_pack("{s:n,s:b,s:{s:s,s:o,s:o}}", "data", "success", 0, "error", "code", code, "message",
                         message ? message : json_string("the request could not be read"), "fields", fields));
}

void fv_fail(http_request *r, const bo_error *err)
{
    switch (err->status) {
    case BO_NOT_FOUND: return fv_error(r, 404, err->code, FV_FIELD(err->field), "%s", err->message);
    case BO_INVALID: return fv_error(r, 400, err->code, FV_FIELD(err->field), "%s", err->message);
    case BO_SOLD_OUT:
    case BO_CONFLICT: return fv_error(r, 409, err->code, FV_FIELD(err->field), "%s", err->message);
    case BO_UNAVAILABLE: return fv_error(r, 503, "unavailable", NULL, "the database has no room; try again later");
    default: return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    }
}

json_t *fv_money(money amount, int decimals)
{
    int64_t unit = money_unit(decimals);
    if (amount % unit == 0) return json_integer(amount / unit);
    return json_real((double)amount / (double)unit);
}

void fv_jb_money(jbuf *b, money amount, int decimals)
{
    int64_t unit = money_unit(decimals);
    if (amount % unit == 0) return jb_int(b, amount / unit);
    char number[40];
    fv_js_number((double)amount / (double)unit, number);
    jb_raw(b, number);
}

/* "2022-01-01T00:00:00.000Z" into out; false for 0 (no instant). */
static bool time_text(instant_us t, char out[32])
{
    if (!t) return false;
    civil_date day;
    int32_t secs;
    tz_instant_to_local("UTC", t, &day, &secs);
    char date[11], clock[9];
    date_format(day, date);
    time_of_day_format(secs, clock);
    int64_t ms = (t / 1000) % 1000;
    snprintf(out, 32, "%sT%s.%03dZ", date, clock, (int)(ms < 0 ? ms + 1000 : ms));
    return true;
}

json_t *fv_time(instant_us t)
{
    char out[32];
    return time_text(t, out) ? json_string(out) : json_null();
}

void fv_jb_time(jbuf *b, instant_us t)
{
    char out[32];
    if (time_text(t, out)) jb_str(b, out);
    else jb_null(b);
}

void fv_public_id(const char *purpose, const char *part1, const char *part2, char out[FV_ID_LEN + 1])
{
    unsigned char digest[FV_ID_LEN / 2];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    /* the NULs keep ("ab", "c") and ("a", "bc") apart */
    crypto_generichash_update(&st, (const unsigned char *)purpose, strlen(purpose) + 1);
    crypto_generichash_update(&st, (const unsigned char *)part1, strlen(part1) + 1);
    if (part2) crypto_generichash_update(&st, (const unsigned char *)part2, strlen(part2) + 1);
    crypto_generichash_final(&st, digest, sizeof digest);
    sodium_bin2hex(out, FV_ID_LEN + 1, digest, sizeof digest);
}

void fv_numeric_id(const char *purpose, const char *part1, const char *part2, char out[21])
{
    char hex[FV_ID_LEN + 1];
    fv_public_id(purpose, part1, part2, hex);
    unsigned long long v = 0;
    for (int i = 0; i < 12; i++) v = v * 16 + (unsigned long long)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    snprintf(out, 21, "%llu", v % 1000000000000000ULL);
}

void fv_ticket_id(const char *engine_id, char out[FV_ID_LEN + 1])
{
    /* engine ticket ids are UUIDs; were one not, a hash still shows no UUID (and is found by no lookup) */
    if (!uuid_hex24(engine_id, out)) fv_public_id("ticket", engine_id ? engine_id : "", NULL, out);
}

json_t *fv_ticket_id_json(const json_t *engine_id)
{
    char id[FV_ID_LEN + 1];
    fv_ticket_id(json_string_value(engine_id), id);
    return json_string(id);
}

/* Tickets older than time_uuid96 ids (time_uuid's UUIDv7, rand_uuid's v4
 * before it) show 96 of their bits: the ids sharing the digits up to the
 * variant digit are few (one millisecond's and 12 random bits' worth), and
 * the one whose 24 digits match is the ticket. */
#define FV_OLD_TICKET_CANDIDATES 32

static bo_status old_ticket_find(engine *e, const account *a, const char *fv_id, json_t **ticket)
{
    static const char versions[] = {'7', '4'};
    for (size_t v = 0; v < sizeof versions; v++) {
        char lo[37], hi[37], ids[FV_OLD_TICKET_CANDIDATES][37];
        size_t n = 0;
        uuid_from_hex24(fv_id, versions[v], '8', "000000", lo);
        uuid_from_hex24(fv_id, versions[v], 'b', "ffffff", hi);
        bo_status st = ticket_ids_between(e, a, lo, hi, ids, FV_OLD_TICKET_CANDIDATES, &n);
        if (st != BO_OK) return st;
        for (size_t i = 0; i < n; i++) {
            char shown[FV_ID_LEN + 1];
            if (uuid_hex24(ids[i], shown) && !strcmp(shown, fv_id)) return ticket_get_json(e, a, ids[i], ticket);
        }
    }
    return BO_NOT_FOUND;
}

bo_status fv_ticket_find(engine *e, const account *a, const char *fv_id, json_t **ticket)
{
    *ticket = NULL;
    char id[37];
    /* a UUID, or any other spelling, is no channel ticket id */
    if (!uuid_from_hex24(fv_id, '7', '8', "000000", id)) return BO_NOT_FOUND;
    bo_status st = ticket_get_json(e, a, id, ticket);
    return st == BO_NOT_FOUND ? old_ticket_find(e, a, fv_id, ticket) : st;
}

void fv_organization_id(const account *a, char out[FV_ID_LEN + 1]) { fv_public_id("organization", a->id, NULL, out); }

void fv_slugify(const char *name, char *out, size_t n)
{
    size_t len = 0;
    bool dash = false;
    for (const char *p = name ? name : ""; *p && len + 2 < n; p++) {
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (dash && len) out[len++] = '-';
            out[len++] = ch;
            dash = false;
        } else {
            dash = true;
        }
    }
    out[len] = 0;
}

bool fv_query_known(http_request *r, const char *const *allowed)
{
    const char *qs = http_query_string(r);
    for (const char *p = qs ? qs : ""; *p;) {
        size_t len = strcspn(p, "=&");
        bool known = !len;
        for (size_t i = 0; allowed && allowed[i] && !known; i++)
            known = strlen(allowed[i]) == len && !strncmp(allowed[i], p, len);
        if (!known) {
            char name[41];
            snprintf(name, sizeof name, "%.*s", (int)(len < 40 ? len : 40), p);
            utf8_trim(name);
            fv_error(r, 400, "invalid_parameter", name, "unknown query parameter");
            return false;
        }
        p += strcspn(p, "&");
        if (*p) p++;
    }
    return true;
}

/* A whole decimal number in [min, max]; no sign, no spaces. */
static bool parse_count(const char *text, long min, long max, long *out)
{
    if (!text || !*text || strlen(text) > 9) return false;
    long v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + (*p - '0');
    }
    if (v < min || v > max) return false;
    *out = v;
    return true;
}

bool fv_page_args(http_request *r, size_t *limit, size_t *offset)
{
    long l = 50, o = 0;
    const char *lt = http_query(r, "limit"), *ot = http_query(r, "offset");
    if (lt && !parse_count(lt, 1, 100, &l)) {
        fv_error(r, 400, "invalid_parameter", "limit", "limit must be a whole number from 1 to 100");
        return false;
    }
    if (ot && !parse_count(ot, 0, 100000000, &o)) {
        fv_error(r, 400, "invalid_parameter", "offset", "offset must be a whole number of at least 0");
        return false;
    }
    *limit = (size_t)l, *offset = (size_t)o;
    return true;
}

bool fv_query_instant(http_request *r, const char *name, instant_us *out, bool *set)
{
    const char *text = http_query(r, name);
    *set = text != NULL;
    if (!text) return true;
    /* a time without zone or offset is UTC, as the vendor's own times are */
    if (iso_parse(text, "UTC", out)) return true;
    fv_error(r, 400, "invalid_parameter", name, "%s must be a date (YYYY-MM-DD) or an ISO 8601 time", name);
    return false;
}

json_t *fv_body_object(http_request *r)
{
    const char *ctype = http_header(r, "Content-Type");
    if (!ctype || strncasecmp(ctype, "application/json", 16)) {
        fv_error(r, 400, "invalid_body", NULL, "send the body as application/json");
        return NULL;
    }
    const char *why = NULL;
    json_t *body = http_body_json(r, &why);
    if (!json_is_object(body)) {
        fv_error(r, 400, "invalid_body", NULL, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

json_t *fv_body_fields(http_request *r, const char *const *allowed)
{
    json_t *body = fv_body_object(r);
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++) known = !strcmp(key, allowed[i]);
        if (!known) {
            fv_error(r, 400, "invalid_field", *key && strlen(key) < 60 ? key : NULL, "unknown field");
            return NULL;
        }
    }
    return body;
}

static bool authenticate(http_request *r, int kind, void *app_)
{
    (void)kind;
    switch (api_authenticate(r, app_, CRED_CHANNEL_KEY, http_header(r, "X-Api-Key"))) {
    case BO_OK: return true;
    case BO_INTERNAL: fv_error(r, 500, "internal_error", NULL, "credentials could not be checked"); return false;
    default: fv_error(r, 401, "unauthorized", NULL, "send a valid X-Api-Key header"); return false;
    }
}

static void table_error(http_request *r, int status, const char *code, const char *message, void *app_)
{
    (void)app_;
    if (status == 404) return fv_error(r, 404, "not_found", NULL, "no such endpoint");
    if (status == 405) return fv_error(r, 405, "method_not_allowed", NULL, "this method is not allowed here");
    if (status == 413) return fv_error(r, 413, "payload_too_large", NULL, "the request body is too large");
    /* the layers' own codes (idempotency_key_reused, invalid_encoding, ...) */
    fv_error(r, status, code && *code ? code : "bad_request", NULL, "%s", message ? message : "bad request");
}

#define K FV_AUTH_CHANNEL_KEY
static const http_route routes[] = {
    {"GET", "/auth", fv_auth_get, K},
    {"GET", "/events", fv_events_list, K},
    {"GET", "/events/{id}", fv_event_get, K},
    {"GET", "/events/by-slug/{slug}", fv_event_by_slug, K},
    {"GET", "/ticket-rates", fv_ticket_rates_list, K},
    {"GET", "/ticket-rates/{id}", fv_ticket_rate_get, K},
    {"GET", "/ticket-rates/by-slug/{slug}", fv_ticket_rate_by_slug, K},
    {"GET", "/list-rates", fv_list_rates_list, K},
    {"GET", "/list-rates/by-slug/{slug}", fv_list_rate_by_slug, K},
    {"GET", "/tickets", fv_tickets_list, K},
    {"GET", "/tickets/{id}", fv_ticket_get, K},
    {"PUT", "/tickets/{id}/refund", fv_ticket_refund, K},
    {"POST", "/webhooks/endpoints", fv_webhook_endpoint_create, K},
    {"GET", "/webhooks/endpoints", fv_webhook_endpoints_list, K},
    {"DELETE", "/webhooks/endpoints/{id}", fv_webhook_endpoint_delete, K},
    {"POST", "/tickets/checkout", fv_checkout, K},
    {"GET", "/payments", fv_payments_list, K},
    {"GET", "/payments/{id}", fv_payment_get, K},
};

static const http_route_table table = {"/fourvenues", routes, sizeof routes / sizeof routes[0], authenticate,
                                       table_error, api_idempotent};

const http_route_table *fourvenues_routes(void) { return &table; }
