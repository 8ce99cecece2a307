/* What every /admin/v1 handler shares: the error shape, the one mapping of
 * engine outcomes onto HTTP, and the declarative body and query checks. */
#include "api/admin/admin.h"
#include "util/utf8.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ids and field names in messages come from the client and may be cut
 * mid-character or not be UTF-8 at all; JSON strings must be. */
static json_t *utf8_string(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *copy = strdup(s);
    utf8_scrub(copy);
    j = json_string(copy);
    free(copy);
    return j;
}

void admin_error(http_request *r, int status, const char *code, const char *field, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    utf8_trim(message);
    json_t *e = json_pack("{s:s,s:o,s:o}", "code", code, "message", utf8_string(message), "field",
                          field && *field ? utf8_string(field) : json_null());
    if (status == 401) http_add_header(r, "WWW-Authenticate", "Bearer realm=\"boxoffice-admin\"");
    http_reply_json(r, status, json_pack("{s:o}", "error", e));
}

/* The engine's field names (engine.h) → this API's. The admin API speaks the
 * engine's snake_case, so only the few inputs it names differently are here. */
static const struct {
    const char *engine, *admin;
} admin_field_names[] = {
    {"cursor", "starting_after"}, /* orders: the only page boundary we take */
    {"products", "product_id"},   /* availability is asked per product_id */
    {"date_to", "to"},            /* availability: the range's end is `to` */
    /* a product's scan rules: the engine names the count, the document nests it under scan */
    {"times", "scan.times"},
    {"max_scans", "scan.max_scans"},
    {"validity_seconds", "scan.validity_seconds"},
    {"time_seconds", "scan.time_seconds"},
    /* a cart item's options and after-payment answers, as the bodies nest them */
    {"option_id", "options.option_id"},
    {"option_quantity", "options.quantity"},
    {"apf_answers", "answers"},
    {"apf_answer", "answers"},
};

static const char *admin_wire_field(const char *engine_field)
{
    for (size_t i = 0; i < sizeof admin_field_names / sizeof admin_field_names[0]; i++)
        if (!strcmp(engine_field, admin_field_names[i].engine)) return admin_field_names[i].admin;
    return engine_field;
}

void admin_fail(http_request *r, const bo_error *err)
{
    const char *code = err->code[0] ? err->code : NULL;
    const char *field = admin_wire_field(err->field);
    const char *msg = err->message[0] ? err->message : NULL;
    switch (err->status) {
    case BO_OK: /* a handler bug: never reply success as an error */
    case BO_INTERNAL:
        admin_error(r, 500, "internal_error", NULL, "%s", msg ? msg : "internal error, nothing was changed");
        return;
    case BO_INVALID:
        admin_error(r, 400, code ? code : "invalid_request", field, "%s", msg ? msg : "invalid request");
        return;
    case BO_NOT_FOUND: admin_error(r, 404, "not_found", field, "%s", msg ? msg : "not found"); return;
    case BO_SOLD_OUT: admin_error(r, 409, code ? code : "sold_out", field, "%s", msg ? msg : "sold out"); return;
    case BO_CONFLICT: admin_error(r, 409, code ? code : "conflict", field, "%s", msg ? msg : "conflict"); return;
    case BO_UNAUTHORIZED: admin_error(r, 401, "unauthorized", NULL, "%s", msg ? msg : "unauthorized"); return;
    case BO_FORBIDDEN: admin_error(r, 403, "forbidden", NULL, "%s", msg ? msg : "forbidden"); return;
    case BO_RATE_LIMITED: admin_error(r, 429, "rate_limited", NULL, "%s", msg ? msg : "too many requests"); return;
    case BO_UNAVAILABLE:
        api_retry_later(r);
        admin_error(r, 503, code ? code : "unavailable", NULL, "%s", msg ? msg : "try again later");
        return;
    }
    admin_error(r, 500, "internal_error", NULL, "unexpected engine status %d", (int)err->status);
}

void admin_fail_status(http_request *r, bo_status st, const char *what)
{
    bo_error err = {.status = st};
    if (st == BO_NOT_FOUND) snprintf(err.message, sizeof err.message, "no such %s", what);
    admin_fail(r, &err);
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

void admin_reply_created(http_request *r, const char *collection, const char *id, json_t *body)
{
    size_t n = strlen(ADMIN_PREFIX) + strlen(collection) + 3 * strlen(id) + 3;
    char *loc = http_alloc(r, n), *p = loc;
    p += sprintf(p, "%s/%s/", ADMIN_PREFIX, collection);
    for (const unsigned char *s = (const unsigned char *)id; *s; s++)
        p += unreserved(*s) ? sprintf(p, "%c", *s) : sprintf(p, "%%%02X", *s);
    http_add_header(r, "Location", loc);
    http_reply_json(r, 201, body);
}

json_t *admin_list(json_t *items, const bool *has_more)
{
    json_int_t count = (json_int_t)json_array_size(items);
    json_t *o = json_pack("{s:o,s:I}", "data", items, "count", count);
    if (has_more) json_object_set_new(o, "has_more", json_boolean(*has_more));
    return o;
}

bool admin_body_optional(http_request *r, json_t **out)
{
    size_t len = 0;
    http_body(r, &len);
    *out = len ? admin_body(r) : NULL;
    return len == 0 || *out;
}

json_t *admin_body(http_request *r)
{
    size_t len = 0;
    http_body(r, &len);
    if (len == 0) {
        admin_error(r, 400, "invalid_json", NULL, "a JSON object body is required");
        return NULL;
    }
    const char *why = NULL;
    json_t *body = http_body_json(r, &why);
    if (!body) {
        admin_error(r, 400, "invalid_json", NULL, "malformed JSON: %s", why ? why : "parse error");
        return NULL;
    }
    if (!json_is_object(body)) {
        admin_error(r, 400, "invalid_body", NULL, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

bool admin_fields(http_request *r, json_t *obj, const char *prefix, const body_field *fields, size_t n)
{
    body_error e;
    if (body_fields(obj, prefix, fields, n, true, &e)) return true;
    admin_error(r, 400, e.code, e.field, "%s", e.message);
    return false;
}

bool admin_customer(http_request *r, json_t *customer)
{
    if (!customer) return true;
    const body_field fields[] = {
        {"email", BF_STRING, false, 3, 254, NULL, NULL},        {"name", BF_STRING, false, 1, 200, NULL, NULL},
        {"first_name", BF_STRING, false, 1, 100, NULL, NULL},   {"last_name", BF_STRING, false, 1, 100, NULL, NULL},
        {"language", BF_STRING, false, 2, 16, NULL, NULL},      {"phone", BF_STRING, false, 1, 64, NULL, NULL},
        {"marketing_opt_in", BF_BOOL, false, 0, 0, NULL, NULL},
    };
    return ADMIN_FIELDS(r, customer, "customer.", fields);
}

bool admin_query_known(http_request *r, const char *const *allowed)
{
    const char *q = http_query_string(r);
    while (q && *q) {
        size_t seg = strcspn(q, "&");
        size_t klen = strcspn(q, "=&");
        if (klen > 0) {
            bool known = false;
            for (const char *const *a = allowed; *a && !known; a++) known = strlen(*a) == klen && !strncmp(*a, q, klen);
            if (!known) {
                /* the field names the parameter at fault, like every other 400 here */
                char name[65];
                snprintf(name, sizeof name, "%.*s", (int)(klen > 64 ? 64 : klen), q);
                admin_error(r, 400, "unknown_parameter", name, "unknown query parameter %s", name);
                return false;
            }
        }
        q += seg;
        if (*q == '&') q++;
    }
    return true;
}

bool admin_query_int(http_request *r, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = http_query(r, name);
    if (!v) return true;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        admin_error(r, 400, "invalid_parameter", name, "%s must be an integer from %lld to %lld", name, (long long)lo,
                    (long long)hi);
        return false;
    }
    *out = x;
    return true;
}

bool admin_query_date(http_request *r, const char *name, civil_date *out)
{
    const char *v = http_query(r, name);
    if (!v) return true;
    if (!date_parse(v, out)) {
        admin_error(r, 400, "invalid_parameter", name, "%s must be a date YYYY-MM-DD", name);
        return false;
    }
    return true;
}

bool admin_query_instant(http_request *r, const char *name, instant_us *out)
{
    const char *v = http_query(r, name);
    *out = 0;
    if (!v) return true;
    if (strlen(v) > 64 || !iso_parse(v, api_account(r)->timezone, out)) {
        admin_error(r, 400, "invalid_parameter", name, "%s must be an ISO 8601 date-time", name);
        return false;
    }
    return true;
}
