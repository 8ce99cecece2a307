/* Shared by the /convious-pricing handlers: the version header, the bearer
 * token, CORS, per-event errors and decimals. */
#include "api/convious_pricing/convious_pricing.h"
#include "util/money.h"
#include "util/utf8.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CP_SUPPORTED_VERSION "1.0.0"

void cp_event_error(http_request *r, int status, const char *code, size_t index, const char *field, const char *fmt,
                    ...)
{
    char msg[300], where[200];
    va_list ap;
    va_start(ap, fmt);
    api_message_v(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "[%zu].%s", index, field);
    utf8_trim(where);
    http_reply_json(r, status,
                    json_pack("{s:s,s:s,s:s,s:I}", "error", code, "message", msg, "field", where, "index",
                              (json_int_t)index));
}

bool cp_refuse(const cp_event_at *at, const char *code, const char *field, const char *why)
{
    cp_event_error(at->r, 400, code, at->index, field, "%s", why);
    return false;
}

int cp_type_index(const char *type, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && !strcmp(type, names[i])) return (int)i;
    return -1;
}

void cp_cors(http_request *r)
{
    http_add_header(r, "Access-Control-Allow-Origin", "*");
    http_add_header(r, "Access-Control-Allow-Methods", "POST, OPTIONS");
    http_add_header(r, "Access-Control-Allow-Headers", "Content-Type, Accept-Version");
    http_add_header(r, "Access-Control-Max-Age", "86400");
}

bool cp_decimal(const json_t *v, int decimals, int64_t *out)
{
    char text[64];
    const char *s;
    if (json_is_string(v)) s = json_string_value(v);
    else if (json_is_integer(v)) snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v)), s = text;
    else if (json_is_real(v)) snprintf(text, sizeof text, "%.15g", json_real_value(v)), s = text;
    else return false;
    /* money_parse takes a sign; a price never has one */
    if (*s == '-' || *s == '+' || strlen(s) > 30) return false;
    money m;
    if (!money_parse(s, decimals, &m) || m < 0 || m > 1000000000000LL) return false;
    *out = m;
    return true;
}

size_t cp_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xc0) != 0x80; /* continuation bytes are not characters */
    return n;
}

json_t *cp_member(json_t *event, json_t *payload, const char *name)
{
    json_t *v = payload ? json_object_get(payload, name) : NULL;
    return v ? v : json_object_get(event, name);
}

/* "1.0.0", or any 1.0.x: the versions whose wire this server speaks. */
static bool version_supported(const char *v)
{
    if (strncmp(v, "1.0.", 4)) return false;
    const char *patch = v + 4;
    size_t digits = strspn(patch, "0123456789");
    return digits > 0 && digits <= 6 && !patch[digits];
}

static bool version_checked(http_request *r)
{
    const char *v = http_header(r, "Accept-Version");
    if (v && version_supported(v)) return true;
    json_t *body = json_pack("{s:s,s:s,s:s,s:[s]}", "error", v ? "unsupported_version" : "missing_version", "message",
                             v ? "Accept-Version names a version this server does not support; supported: "
                                 CP_SUPPORTED_VERSION " (any 1.0.x)"
                               : "the Accept-Version header is required; supported: " CP_SUPPORTED_VERSION
                                 " (any 1.0.x)",
                             "field", "Accept-Version", "supported_versions", CP_SUPPORTED_VERSION);
    http_reply_json(r, 400, body);
    return false;
}

bool cp_authenticate(http_request *r, int kind, void *app_)
{
    if (kind == CP_AUTH_OPTIONAL) cp_cors(r); /* a browser reads no reply without them, errors included */
    if (!version_checked(r)) return false;
    if (kind == CP_AUTH_OPTIONAL && !http_header(r, "Authorization")) return true; /* analytics: scoped by accountId */
    return cv_bearer(r, app_);
}

void cp_table_error(http_request *r, int status, const char *code, const char *message, void *app_)
{
    (void)app_;
    cv_error(r, status, code, NULL, "%s", message);
}
