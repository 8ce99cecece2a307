/* Shared by the Ticket Tailor handlers: Basic auth with the API key, the
 * per-key hourly rate limit, the error shape, ids, dates and pagination. */
#include "api/tickettailor/tickettailor.h"
#include "util/utf8.h"
#include "util/secure.h"
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

engine *tt_engine(void *app_) { return ((app *)app_)->e; }

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Validation error";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

void tt_error(http_request *r, int status, const char *field, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_trim(msg);
    json_t *body = json_pack("{s:i,s:s,s:s}", "status", status, "error_code", reason_phrase(status), "message", msg);
    /* the doc: errors[] only accompanies validation failures */
    if (field && *field)
        json_object_set_new(body, "errors", json_pack("[{s:s,s:[s]}]", "field", field, "messages", msg));
    http_reply_json(r, status, body);
}

/* The engine's field names (engine.h) → Ticket Tailor's documented ones.
 * An event here is one dated occurrence, so whatever picks the occurrence
 * (date, start time) is its event_id. Names not listed are the same in both. */
static const struct {
    const char *engine, *tickettailor;
} tt_field_names[] = {
    {"product_id", "ticket_type_id"},
    {"occurrence_id", "event_id"},
    {"date", "event_id"},
    {"start_time", "event_id"},
    /* fields of discount documents */
    {"amount", "price"},
    {"percent_bp", "price_percent"},
    {"booking_fee_amount", "booking_fee"},
    {"booking_fee_percent_bp", "booking_fee_percent"},
    {"product_ids", "ticket_types"},
    {"expires_at", "expires"},
    /* of vouchers */
    {"event_ids", "event_series_ids"},
};

static const char *tt_wire_field(const char *engine_field)
{
    for (size_t i = 0; i < sizeof tt_field_names / sizeof tt_field_names[0]; i++)
        if (!strcmp(engine_field, tt_field_names[i].engine)) return tt_field_names[i].tickettailor;
    return engine_field;
}

void tt_missing(http_request *r, bo_status st)
{
    if (st == BO_INTERNAL) tt_error(r, 500, NULL, "storage failure; try again");
    else tt_error(r, 404, NULL, "The requested resource does not exist.");
}

void tt_fail(http_request *r, const bo_error *err)
{
    int status = err->status == BO_INVALID ? 422 : err->status == BO_NOT_FOUND ? 404
                 : err->status == BO_SOLD_OUT || err->status == BO_CONFLICT ? 422
                 : err->status == BO_RATE_LIMITED ? 429 : err->status == BO_UNAVAILABLE ? 503 : 500;
    if (status == 503) api_retry_later(r);
    tt_error(r, status, tt_wire_field(err->field), "%s", err->message);
}

json_t *tt_date(const account *a, instant_us t)
{
    civil_date day;
    int32_t secs;
    tz_instant_to_local(a->timezone, t, &day, &secs);
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    static const char *wd[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int h = secs / 3600, mi = (secs / 60) % 60;
    char date[11], formatted[64], iso[40], tod[16], off[7];
    date_format(day, date);
    snprintf(formatted, sizeof formatted, "%s %d %s %d %d:%02d %s", wd[date_weekday(day)], d, mo[m - 1], y,
             h % 12 ? h % 12 : 12, mi, h < 12 ? "AM" : "PM");
    iso_format_seconds(t, a->timezone, iso, sizeof iso);
    snprintf(tod, sizeof tod, "%02d:%02d", h, mi);
    tz_offset_format(tz_offset_at(a->timezone, t), off);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "date", date, "formatted", formatted, "iso", iso, "time", tod,
                     "timezone", off, "unix", (json_int_t)(t / US_PER_SEC));
}

json_t *tt_id(const char *prefix, const char *id)
{
    if (!id) return json_null();
    char buf[96];
    snprintf(buf, sizeof buf, "%s%s", prefix, id);
    return json_string(buf);
}

const char *tt_unprefix(http_request *r, const char *value, const char *prefix)
{
    (void)r;
    size_t n = strlen(prefix);
    if (!value || strncmp(value, prefix, n) || !value[n] || strlen(value) > 100) return NULL;
    return value + n;
}

bool tt_page_args(http_request *r, const char *prefix, int *limit, const char **after, const char **before)
{
    *limit = 100;
    const char *v = http_query(r, "limit");
    if (v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 100) {
            tt_error(r, 400, "limit", "limit must be a number from 1 to 100");
            return false;
        }
        *limit = (int)n;
    }
    *after = *before = NULL;
    const char *a = http_query(r, "starting_after"), *b = http_query(r, "ending_before");
    /* the doc: when both are given, only ending_before is used */
    if (b) {
        if (!(*before = tt_unprefix(r, b, prefix))) {
            tt_error(r, 400, "ending_before", "ending_before must be an id like %s123", prefix);
            return false;
        }
    } else if (a && !(*after = tt_unprefix(r, a, prefix))) {
        tt_error(r, 400, "starting_after", "starting_after must be an id like %s123", prefix);
        return false;
    }
    return true;
}

bool tt_created_args(http_request *r, instant_us *gt, instant_us *gte, instant_us *lt, instant_us *lte)
{
    static const char *names[] = {"created_at", "created_at.gt", "created_at.gte", "created_at.lt", "created_at.lte"};
    instant_us vals[5] = {0};
    for (int i = 0; i < 5; i++) {
        const char *v = http_query(r, names[i]);
        if (!v) continue;
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end || n < 0 || n > 99999999999LL) {
            tt_error(r, 400, names[i], "%s must be a unix timestamp", names[i]);
            return false;
        }
        vals[i] = (instant_us)n * US_PER_SEC;
    }
    *gt = vals[1];
    *gte = vals[2];
    *lt = vals[3];
    *lte = vals[4];
    if (vals[0]) { /* an exact second */
        *gte = vals[0];
        *lt = vals[0] + US_PER_SEC;
    }
    return true;
}

bool tt_range_args(http_request *r, const char *base, instant_us v[5])
{
    static const char *suffix[] = {"", ".gt", ".gte", ".lt", ".lte"};
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s%s", base, suffix[i]);
        const char *s = http_query(r, name);
        v[i] = -1;
        if (!s) continue;
        char *end;
        long long n = strtoll(s, &end, 10);
        if (*end || !*s || n < 0) {
            tt_error(r, 400, name, "%s must be a unix timestamp", name);
            return false;
        }
        v[i] = n;
    }
    return true;
}

bool tt_in_range(instant_us t, const instant_us v[5])
{
    int64_t s = t / US_PER_SEC;
    return (v[0] < 0 || s == v[0]) && (v[1] < 0 || s > v[1]) && (v[2] < 0 || s >= v[2]) && (v[3] < 0 || s < v[3]) &&
           (v[4] < 0 || s <= v[4]);
}

json_t *tt_page(http_request *r, const char *path, json_t *data, bool has_more, bool had_after, bool had_before)
{
    json_t *next = json_null(), *prev = json_null();
    size_t n = json_array_size(data);
    char buf[200];
    /* newest first: "next" goes to older objects, "previous" to newer ones */
    if (n && (has_more && !had_before ? true : had_before)) {
        snprintf(buf, sizeof buf, "%s?starting_after=%s", path,
                 json_string_value(json_object_get(json_array_get(data, n - 1), "id")));
        next = json_string(buf);
    }
    if (n && (had_after || (had_before && has_more))) {
        snprintf(buf, sizeof buf, "%s?ending_before=%s", path,
                 json_string_value(json_object_get(json_array_get(data, 0), "id")));
        prev = json_string(buf);
    }
    (void)r;
    return json_pack("{s:o,s:{s:o,s:o}}", "data", data, "links", "next", next, "previous", prev);
}

void tt_cursor_unknown(http_request *r, const char *cursor, bool before)
{
    tt_error(r, 422, before ? "ending_before" : "starting_after", "unknown object %.*s", utf8_prefix(cursor, 60), cursor);
}

void tt_list_fail(http_request *r, const bo_error *err, bool before, const char *cursor)
{
    if (err->status == BO_INVALID && !strcmp(err->field, "cursor")) return tt_cursor_unknown(r, cursor, before);
    tt_fail(r, err);
}

/* How many listed objects (oldest first) stand before `cursor` in list order,
 * when the cursor names an object of kind k that is not listed (deleted since,
 * or filtered out): a page resumed after it continues from its place. False
 * when the account never had such an object, or storage failed (*failed). */
static bool unlisted_place(engine *e, const account *a, catalog_kind k, json_t *oldest_first, const char *cursor,
                           size_t *listed_before, bool *failed)
{
    catalog_place *places;
    size_t nplaces;
    *failed = catalog_places(e, a, k, &places, &nplaces) != BO_OK;
    if (*failed) return false;
    size_t at;
    for (at = 0; at < nplaces && strcmp(places[at].id, cursor); at++) {}
    bool found = at < nplaces;
    *listed_before = 0;
    if (found) {
        json_t *place_of = json_object(); /* id → its index in places */
        for (size_t i = 0; i < nplaces; i++) json_object_set_new(place_of, places[i].id, json_integer((json_int_t)i));
        size_t i;
        json_t *doc;
        json_array_foreach(oldest_first, i, doc)
        {
            json_t *place = json_object_get(place_of, json_string_value(json_object_get(doc, "id")));
            if (place && (size_t)json_integer_value(place) < at) ++*listed_before;
        }
        json_decref(place_of);
    }
    free(places);
    return found;
}

void tt_reply_catalog_page(http_request *r, engine *e, catalog_kind k, json_t *oldest_first, const char *path,
                           const char *prefix, json_t *(*render)(engine *, const account *, json_t *))
{
    int limit;
    const char *after, *before;
    if (!tt_page_args(r, prefix, &limit, &after, &before)) return;
    size_t n = json_array_size(oldest_first), first = 0;
    const char *cursor = before ? before : after;
    /* positions count newest first: i-th newest is oldest_first[n - 1 - i] */
#define NEWEST(i) json_array_get(oldest_first, n - 1 - (i))
    if (cursor) {
        size_t i;
        for (i = 0; i < n && strcmp(json_string_value(json_object_get(NEWEST(i), "id")), cursor); i++) {}
        if (i < n) first = before ? (i > (size_t)limit ? i - (size_t)limit : 0) : i + 1;
        else {
            size_t older;
            bool failed;
            if (!unlisted_place(e, api_account(r), k, oldest_first, cursor, &older, &failed))
                return failed ? tt_error(r, 500, NULL, "storage failure; try again") : tt_cursor_unknown(r, cursor, before != NULL);
            i = n - older; /* the newest-first position the unlisted object would have had */
            first = before ? (i > (size_t)limit ? i - (size_t)limit : 0) : i;
        }
        if (before) n = i;
    }
    size_t total = json_array_size(oldest_first), last = first + (size_t)limit < n ? first + (size_t)limit : n;
    json_t *data = json_array();
    for (size_t i = first; i < last; i++)
        json_array_append_new(data, render(e, api_account(r), json_array_get(oldest_first, total - 1 - i)));
#undef NEWEST
    bool more = before ? first > 0 : last < n;
    http_reply_json(r, 200, tt_page(r, path, data, more, after != NULL, before != NULL));
}

bool tt_given(http_request *r, const char *name)
{
    if (http_body_is_form(r)) return http_form(r, name) != NULL;
    return json_object_get(http_body_json(r, NULL), name) != NULL;
}

/* Text for an integer or boolean field as that type (a new reference), so the
 * table checks form values (always text) and JSON's "10" alike; NULL when
 * there is nothing to convert, and text that is not one is left for
 * body_fields to refuse. */
static json_t *from_text(const body_field *f, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s) return NULL;
    if (f->type == BF_INT) {
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        return *s && !*end && !errno ? json_integer(n) : NULL;
    }
    if (f->type == BF_BOOL) {
        bool yes = !strcmp(s, "true") || !strcmp(s, "1"), no = !strcmp(s, "false") || !strcmp(s, "0");
        return yes || no ? json_boolean(yes) : NULL;
    }
    return NULL;
}

/* The declared fields of a form body as JSON text. Lists and objects cannot
 * be said in a form (a handler reads `name[]` itself); nor could the view,
 * which dies here, lend them out. */
static json_t *form_view(http_request *r, const body_field *t, size_t n)
{
    json_t *view = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *v = t[i].type == BF_ARRAY || t[i].type == BF_OBJECT ? NULL : http_form(r, t[i].name);
        if (v) json_object_set_new(view, t[i].name, json_string(v)); /* http_form gives UTF-8 only */
    }
    return view;
}

bool tt_fields(http_request *r, const body_field *t, size_t n)
{
    bool form = http_body_is_form(r);
    json_t *view;
    if (form) view = form_view(r, t, n);
    else {
        const char *why = NULL;
        json_t *body = http_body_json(r, &why);
        if (!json_is_object(body)) {
            tt_error(r, 400, NULL, "%s", why ? why : "the body must be a JSON object or a form");
            return false;
        }
        view = json_copy(body); /* shallow: the values stay the request's */
    }
    for (size_t i = 0; i < n; i++) {
        json_t *typed = from_text(&t[i], json_object_get(view, t[i].name));
        if (typed) json_object_set_new(view, t[i].name, typed);
    }
    body_error e;
    bool ok = body_fields(view, "", t, n, false, &e);
    if (ok && form) /* strings must outlive the view: point them at the request's own copy */
        for (size_t i = 0; i < n; i++)
            if (t[i].type == BF_STRING && t[i].dest && json_is_string(json_object_get(view, t[i].name)))
                *(const char **)t[i].dest = http_form(r, t[i].name);
    json_decref(view);
    if (!ok) tt_error(r, 422, e.field, "%s", e.message);
    return ok;
}

/* ---- authentication and the rate limit ---- */

static bool authenticate(http_request *r, int kind, void *app_)
{
    app *ap = app_;
    const char *h = http_header(r, "Authorization");
    char key[300] = "";
    if (h && !strncasecmp(h, "Basic ", 6) && strlen(h + 6) < 400) {
        unsigned char raw[300];
        size_t len = 0;
        if (sodium_base642bin(raw, sizeof raw - 1, h + 6, strlen(h + 6), " ", &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0) {
            raw[len] = 0;
            /* the key is the user name; the password is empty (docs/dialects/tickettailor.md):
             * a NUL anywhere, or any password, is not this key */
            char *colon = memchr(raw, ':', len);
            if (!memchr(raw, 0, len) && (!colon || colon == (char *)raw + len - 1)) {
                if (colon) *colon = 0;
                snprintf(key, sizeof key, "%s", (char *)raw);
            }
        }
    }
    account *a = http_alloc(r, sizeof *a);
    if (!*key || auth_lookup(ap->e, CRED_API_KEY, key, a) != BO_OK) {
        tt_error(r, 401, NULL, "Your request was not authenticated correctly.");
        return false;
    }
    http_set_user(r, a);
    char hash[65], limit_s[24], remaining_s[24], reset_s[24];
    secret_hash(key, hash);
    long limit = ap->rate_limit_per_hour > 0 ? ap->rate_limit_per_hour : 2000, remaining, reset;
    bo_status st = ratelimit_hit(ap->e, hash, limit, &remaining, &reset);
    snprintf(limit_s, sizeof limit_s, "%ld", limit);
    snprintf(remaining_s, sizeof remaining_s, "%ld", remaining > 0 ? remaining : 0);
    snprintf(reset_s, sizeof reset_s, "%ld", reset);
    http_add_header(r, "X-Rate-Limit-Limit", limit_s);
    http_add_header(r, "X-Rate-Limit-Remaining", remaining_s);
    http_add_header(r, "X-Rate-Limit-Reset", reset_s);
    if (st == BO_RATE_LIMITED) {
        http_add_header(r, "Retry-After", reset_s);
        tt_error(r, 429, NULL, "Too many requests hit the API too quickly.");
        return false;
    }
    return true;
}

static void table_error(http_request *r, int status, const char *code, const char *message, void *app_)
{
    /* an unknown collection answers as the doc's 404 does, word for word */
    if (status == 404) return tt_error(r, 404, NULL, "The requested resource does not exist.");
    tt_error(r, status, NULL, "%s", message);
}

static const http_route routes[] = {
    {"GET", "/v1/ping", tt_ping, TT_AUTH_KEY},
    {"GET", "/v1/orders", tt_orders_list, TT_AUTH_KEY},
    {"GET", "/v1/orders/{order_id}", tt_order_get, TT_AUTH_KEY},
    {"GET", "/v1/issued_tickets", tt_tickets_list, TT_AUTH_KEY},
    {"POST", "/v1/issued_tickets", tt_ticket_create, TT_AUTH_KEY},
    {"GET", "/v1/issued_tickets/{ticket_id}", tt_ticket_get, TT_AUTH_KEY},
    {"POST", "/v1/issued_tickets/{ticket_id}/void", tt_ticket_void, TT_AUTH_KEY},
    {"GET", "/v1/events", tt_events_list, TT_AUTH_KEY},
    {"GET", "/v1/events/{event_id}", tt_event_get, TT_AUTH_KEY},
    {"GET", "/v1/event_series", tt_event_series_list, TT_AUTH_KEY},
    {"GET", "/v1/event_series/{event_series_id}", tt_event_series_get, TT_AUTH_KEY},
    {"GET", "/v1/check_ins", tt_check_ins_list, TT_AUTH_KEY},
    {"GET", "/v1/discounts", tt_discounts_list, TT_AUTH_KEY},
    {"POST", "/v1/discounts", tt_discount_create, TT_AUTH_KEY},
    {"GET", "/v1/discounts/{discount_id}", tt_discount_get, TT_AUTH_KEY},
    {"POST", "/v1/discounts/{discount_id}", tt_discount_update, TT_AUTH_KEY},
    {"DELETE", "/v1/discounts/{discount_id}", tt_discount_delete, TT_AUTH_KEY},
    {"GET", "/v1/vouchers", tt_vouchers_list, TT_AUTH_KEY},
    {"POST", "/v1/vouchers", tt_voucher_create, TT_AUTH_KEY},
    {"GET", "/v1/vouchers/{voucher_id}", tt_voucher_get, TT_AUTH_KEY},
    {"POST", "/v1/vouchers/{voucher_id}", tt_voucher_update, TT_AUTH_KEY},
    {"DELETE", "/v1/vouchers/{voucher_id}", tt_voucher_delete, TT_AUTH_KEY},
    {"GET", "/v1/vouchers/{voucher_id}/codes", tt_voucher_codes, TT_AUTH_KEY},
    {"POST", "/v1/vouchers/{voucher_id}/codes/{voucher_code_id}/void", tt_voucher_code_void, TT_AUTH_KEY},
};

static const http_route_table table = {"/tickettailor", routes, sizeof routes / sizeof routes[0], authenticate,
                                       table_error, api_idempotent};

const http_route_table *tickettailor_routes(void) { return &table; }

void tt_ping(http_request *r, void *app_) { http_reply_json(r, 200, json_pack("{s:s}", "version", "pong")); }
