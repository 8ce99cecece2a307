/* Shared by the CM.com shop handlers: the product token, the error shape,
 * money, times and translated texts, the event a path names, and the route
 * table. */
#include "api/cm/cm.h"
#include "util/utf8.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

engine *cm_engine(void *app_) { return ((app *)app_)->e; }

/* The engine's field names (engine.h) → the shop doc's. Names not listed are the same in both. */
static const api_field_name cm_field_names[] = {
    {"product_id", "uuid"},
    {"event_id", "event_uuid"},
    {"access_key", "key"},
    {"discount_code", "code"},
};

static const char *cm_wire_field(const char *engine_field)
{
    return api_wire_field(cm_field_names, sizeof cm_field_names / sizeof cm_field_names[0], engine_field);
}

char *cm_dumps(const json_t *body)
{
    /* 15 significant digits print every amount below 10^13 minor units
     * exactly as its decimal (0.68, not 0.68000000000000005) */
    return json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

void cm_reply(http_request *r, int status, json_t *body)
{
    char *text = cm_dumps(body);
    json_decref(body);
    if (!text) {
        http_reply_raw(r, 500, "application/json", "{\"message\":\"reply failed\",\"code\":\"INTERNAL_ERROR\",\"errors\":[]}",
                       62);
        return;
    }
    http_reply_owned(r, status, "application/json", text, strlen(text));
}

void cm_error(http_request *r, int status, const char *code, const char *field, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_trim(msg);
    utf8_scrub(msg);
    json_t *errors = json_array();
    if (field && *field) json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", msg));
    if (status == 503) api_retry_later(r);
    cm_reply(r, status, json_pack("{s:s,s:s,s:o}", "message", msg, "code", code, "errors", errors));
}

json_t *cm_body_object(http_request *r)
{
    const char *ctype = http_header(r, "Content-Type");
    if (!ctype || strncasecmp(ctype, "application/json", 16)) {
        cm_error(r, 400, "CONTENT_TYPE_INVALID", NULL, "send the body as application/json");
        return NULL;
    }
    const char *why = NULL;
    json_t *body = http_body_json(r, &why);
    if (!json_is_object(body)) {
        cm_error(r, 400, "BODY_INVALID", NULL, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

/* The engine's and the HTTP layer's codes are snake_case; the shop's are upper case. */
static void upper_code(const char *code, char out[48])
{
    size_t i = 0;
    for (; code && code[i] && i + 1 < 48; i++) out[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 32 : code[i]);
    out[i] = 0;
    if (!i) snprintf(out, 48, "BAD_REQUEST");
}

void cm_fail(http_request *r, const bo_error *err)
{
    int status = err->status == BO_NOT_FOUND ? 404 : err->status == BO_INVALID || err->status == BO_SOLD_OUT ||
                                                             err->status == BO_CONFLICT
                                                         ? 400
                 : err->status == BO_UNAVAILABLE ? 503
                                                 : 500;
    char code[48];
    upper_code(err->code, code);
    if (status == 500) return cm_error(r, 500, "INTERNAL_ERROR", NULL, "storage failure; try again");
    cm_error(r, status, code, cm_wire_field(err->field), "%s", err->message);
}

json_t *cm_money(money amount, int decimals)
{
    int64_t unit = money_unit(decimals);
    if (amount % unit == 0) return json_integer(amount / unit);
    return json_real((double)amount / (double)unit);
}

json_t *cm_percent(int32_t bp) { return cm_money(bp, 2); }

json_t *cm_time(instant_us t)
{
    if (!t) return json_null();
    char iso[40];
    iso_format_seconds(t, "UTC", iso, sizeof iso);
    return json_string(iso);
}

static const char *const cm_languages[] = {"nl", "en", "fr", "de"};

json_t *cm_texts(const json_t *texts)
{
    json_t *out = json_object();
    for (size_t i = 0; i < 4; i++) {
        const char *t = json_is_string(texts) ? json_string_value(texts)
                                              : json_string_value(json_object_get(texts, cm_languages[i]));
        json_object_set_new(out, cm_languages[i], json_string(t ? t : ""));
    }
    return out;
}

json_t *cm_texts4(const char *nl, const char *en, const char *fr, const char *de)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "nl", nl, "en", en, "fr", fr, "de", de);
}

const char *cm_event_timezone(const account *a, const cm_event *ce)
{
    return event_timezone(ce->event, a->timezone);
}

bool cm_event_resolve(const account *a, const catalog_model *m, size_t index, cm_event *out)
{
    const cat_event *ev = model_object_at(m, CAT_EVENT, index);
    if (!ev || ev->status != EVENT_PUBLISHED) return false;
    *out = (cm_event){.event = ev, .doc = model_decoded_at(m, CAT_EVENT, index)};
    const char *tz = cm_event_timezone(a, out);
    size_t live = 0;
    bool chosen_upcoming = false;
    for (size_t i = 0; i < ev->noccurrences; i++) {
        const cat_occurrence *oc = &ev->occurrences[i];
        instant_us start = 0, end = 0;
        if (oc->cancelled || !oc->start_text || !iso_parse(oc->start_text, tz, &start)) continue;
        if (!oc->end_text || !iso_parse(oc->end_text, tz, &end)) end = start;
        if (!live++ || start < out->start) out->start = start;
        if (end > out->end) out->end = end;
        bool upcoming = end >= clock_now();
        if (!out->occurrence_id || (upcoming && !chosen_upcoming)) out->occurrence_id = oc->id;
        chosen_upcoming = chosen_upcoming || upcoming;
    }
    /* an event without dated occurrences is sold per day or slot of its schedule (CM's calendar) */
    out->calendar = !live && (ev->schedule || (ev->category && ev->category->schedule));
    /* nothing to sell: no occurrence and no schedule */
    return live || out->calendar;
}

catalog_view *cm_event_open(http_request *r, engine *e, cm_event *out)
{
    const account *a = api_account(r);
    catalog_view *v = catalog_view_open(e, a);
    if (!v) {
        cm_error(r, 500, "INTERNAL_ERROR", NULL, "storage failure; try again");
        return NULL;
    }
    const catalog_model *m = catalog_view_model(v);
    const char *uuid = http_path_param(r, "event_uuid");
    size_t found = model_count(m, CAT_EVENT);
    for (size_t i = 0; uuid && i < model_count(m, CAT_EVENT); i++) {
        const cat_event *ev = model_object_at(m, CAT_EVENT, i);
        if (!strcmp(ev->id, uuid)) found = i;
    }
    event_lock *locks = NULL;
    size_t nlocks = 0;
    if (found == model_count(m, CAT_EVENT) || !cm_event_resolve(a, m, found, out))
        cm_error(r, 404, "EVENT_NOT_FOUND", "event_uuid", "no such event");
    else if (event_access_locks(e, a, http_query(r, "key"), &locks, &nlocks) != BO_OK)
        cm_error(r, 500, "INTERNAL_ERROR", NULL, "storage failure; try again");
    else if (!event_access_open(locks, nlocks, out->event->id))
        cm_error(r, 400, "ACCESS_KEY_INVALID", "key", "this event needs a valid access key");
    else {
        free(locks);
        return v;
    }
    free(locks);
    catalog_view_close(v);
    return NULL;
}

static bool authenticate(http_request *r, int kind, void *app_)
{
    (void)kind;
    const char *token = http_header(r, "X-CM-PRODUCTTOKEN");
    account *a = http_alloc(r, sizeof *a);
    bo_status st = token && *token && strlen(token) <= 256 ? auth_lookup(cm_engine(app_), CRED_PRODUCT_TOKEN, token, a)
                                                          : BO_UNAUTHORIZED;
    if (st == BO_INTERNAL) {
        cm_error(r, 500, "INTERNAL_ERROR", NULL, "credentials could not be checked");
        return false;
    }
    if (st != BO_OK) {
        cm_error(r, 401, "UNAUTHORIZED", NULL, "send a valid X-CM-PRODUCTTOKEN header");
        return false;
    }
    http_set_user(r, a);
    return true;
}

static void table_error(http_request *r, int status, const char *code, const char *message, void *app_)
{
    (void)code, (void)app_;
    if (status == 404) return cm_error(r, 404, "NOT_FOUND", NULL, "no such endpoint");
    if (status == 405) return cm_error(r, 405, "METHOD_NOT_ALLOWED", NULL, "%s is not allowed here", http_method(r));
    if (status == 413) return cm_error(r, 413, "PAYLOAD_TOO_LARGE", NULL, "the request body is too large");
    /* the layers' own codes (idempotency_key_reused, invalid_encoding, ...) */
    char upper[48];
    upper_code(code, upper);
    cm_error(r, status, upper, NULL, "%s", message ? message : "bad request");
}

#define T CM_AUTH_PRODUCT_TOKEN
static const http_route routes[] = {
    {"GET", "/ticketingapi/v2.0/ticketshop/events", cm_events_list, T},
    {"GET", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}", cm_event_get, T},
    {"GET", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/codes/{code*}", cm_code_get, T},
    {"POST", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/reservations", cm_reservation_create, T},
    {"POST", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/reservations/generate", cm_reservation_generate, T},
    {"PUT", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/reservations/{order_id}", cm_reservation_update, T},
    {"POST", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/reservations/{order_id}/checkout", cm_checkout, T},
    {"POST", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/orders/{order_id}/checkout", cm_checkout, T},
    {"GET", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/calendar/{year}/{month}", cm_calendar_get, T},
    {"GET", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/calendar/{year}/{month}/{day}", cm_calendar_get, T},
    {"GET", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/timeslots/{year}/{month}", cm_calendar_get, T},
    {"GET", "/ticketingapi/v2.0/ticketshop/events/{event_uuid}/timeslots/{year}/{month}/{day}", cm_calendar_get, T},
};

static const http_route_table table = {"/cm", routes, sizeof routes / sizeof routes[0], authenticate, table_error,
                                       api_idempotent};

const http_route_table *cm_routes(void) { return &table; }
