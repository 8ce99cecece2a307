/* Routing: the longest matching table prefix, then the first route whose
 * pattern matches segment by segment ({name} captures one segment). A path
 * that matches with another method gets 405 and an Allow header. All of it,
 * authentication included, is settled on the request line and headers,
 * before the body is read (router_route), so a client that cannot
 * authenticate never has its body buffered; the handler runs later
 * (router_run). */
#include "http/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const http_route_table *find_table(http_request *r);

void router_reply_error(http_request *r, int status, const char *code, const char *message)
{
    if (!r->table && r->path) r->table = find_table(r);
    if (r->table && r->table->error) {
        r->table->error(r, status, code, message, r->server->app);
        if (r->replied) return;
    }
    http_reply_json(r, status, json_pack("{s:s,s:s}", "error", code, "message", message));
}

static const http_route_table *find_table(http_request *r)
{
    const http_route_table *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < r->server->ntables; i++) {
        const http_route_table *t = r->server->tables[i];
        size_t n = strlen(t->prefix);
        if (strncmp(r->path, t->prefix, n) || (r->path[n] && r->path[n] != '/' && n > 0)) continue;
        if (!best || n > best_len) {
            best = t;
            best_len = n;
        }
    }
    return best;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)(c | 0x20); /* a-f, A-F alike */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes the %XX of s (len bytes) into out, which has room for len + 1;
 * a % not followed by two hex digits stays as sent. */
static void percent_decode(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = s[i] == '%' && i + 2 < len ? hex_digit(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
}

/* Matches pattern against path; on success fills the request's params (the
 * values copied into the arena only then: most patterns tried do not match).
 * encoded: path is the raw path, each value decoded on its own. */
static bool match(http_request *r, const char *pattern, const char *path, bool encoded)
{
    int np = 0;
    const char *names[MAX_PATH_PARAMS], *values[MAX_PATH_PARAMS];
    size_t name_lens[MAX_PATH_PARAMS], value_lens[MAX_PATH_PARAMS];
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *end = strchr(s, '/');
            /* a last parameter named {name*} takes the rest of the path, slashes
             * included (a base64 value whose %2F the server decoded) */
            bool rest = close && close > p + 1 && close[-1] == '*' && !close[1];
            size_t len = end && !rest ? (size_t)(end - s) : strlen(s);
            if (!close || len == 0 || np >= MAX_PATH_PARAMS || close - p - 1 > 255) return false;
            names[np] = p + 1;
            name_lens[np] = (size_t)(close - p - 1 - rest);
            values[np] = s;
            value_lens[np] = len;
            np++;
            p = close + 1;
            s += len;
            continue;
        }
        if (*p != *s) return false;
        p++;
        s++;
    }
    if (*p || *s) return false;
    for (int i = 0; i < np; i++) {
        char *value = http_alloc(r, value_lens[i]);
        if (encoded) percent_decode(values[i], value_lens[i], value);
        else memcpy(value, values[i], value_lens[i]);
        /* no id is anything but UTF-8: such a segment names nothing, and the
         * handler answers its own "not found" without the database seeing it */
        if (!utf8_valid(value)) value[0] = 0;
        r->param_names[i] = names[i];
        r->param_name_lens[i] = (unsigned char)name_lens[i];
        r->param_values[i] = value;
    }
    r->nparams = np;
    return true;
}

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    bool *ok = cls;
    if ((key && !utf8_valid(key)) || (value && !utf8_valid(value))) *ok = false;
    return MHD_YES;
}

/* MHD decodes the path in place, so "%00" would cut it short: /orders/or_x%00junk
 * must not be read as /orders/or_x. The raw URI still says what was sent. */
static bool path_has_nul(const char *raw)
{
    for (const char *p = raw; *p && *p != '?'; p++)
        if (p[0] == '%' && p[1] == '0' && p[2] == '0') return true;
    return false;
}

/* The route of t for path and method, its params filled; NULL when none, with
 * the methods the path does allow added to allow. */
static const http_route *scan(http_request *r, const http_route_table *t, const char *path, bool encoded,
                              const char *method, char allow[128])
{
    for (size_t i = 0; i < t->nroutes; i++) {
        const http_route *route = &t->routes[i];
        if (!match(r, route->pattern, path, encoded)) continue;
        if (!strcmp(route->method, method)) return route;
        if (!strstr(allow, route->method) && strlen(allow) + strlen(route->method) + 3 < 128) {
            if (*allow) strcat(allow, ", ");
            strcat(allow, route->method);
        }
    }
    return NULL;
}

/* An encoded slash (%2F) is data, not a separator (RFC 3986): MHD decodes
 * the path before routing, so a path sent with one is matched as sent
 * instead, each parameter decoded on its own (/admin/v1/pricing/references/
 * a%2Fb names the reference "a/b", and a%2Fexplain is no explain route).
 * True with *sub the raw path below t's prefix; false (*sub kept) for paths
 * without one, or whose raw form does not start with the prefix. */
static bool encoded_path(http_request *r, const http_route_table *t, const char **sub)
{
    size_t end = strcspn(r->raw_uri, "?#"), n = strlen(t->prefix);
    bool slash = false;
    for (size_t i = 0; i + 2 < end && !slash; i++)
        slash = r->raw_uri[i] == '%' && r->raw_uri[i + 1] == '2' && (r->raw_uri[i + 2] | 0x20) == 'f';
    if (!slash || end < n || strncmp(r->raw_uri, t->prefix, n)) return false;
    char *raw = http_alloc(r, end - n);
    memcpy(raw, r->raw_uri + n, end - n);
    *sub = raw;
    return true;
}

bool router_route(http_request *r)
{
    const http_route_table *t = find_table(r);
    r->table = t;
    bool ok = true;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &ok);
    if (!ok) {
        router_reply_error(r, 400, "invalid_encoding", "the query string must be UTF-8");
        return false;
    }
    if (path_has_nul(r->raw_uri)) {
        router_reply_error(r, 400, "invalid_encoding", "the path must not contain NUL characters");
        return false;
    }
    if (!t) {
        router_reply_error(r, 404, "not_found", "no such resource");
        return false;
    }
    const char *sub = r->path + strlen(t->prefix);
    bool encoded = encoded_path(r, t, &sub);
    if (!*sub) sub = "/";
    const char *method = !strcmp(r->method, "HEAD") ? "GET" : r->method;
    char allow[128] = "";
    const http_route *route = scan(r, t, sub, encoded, method, allow);
    /* One rule for every dialect: a path with one trailing slash more than its
     * pattern names the same resource (published clients of the vendors call
     * `/v1/orders/?limit=2`), when nothing matches it as sent. The other way
     * round stays 404: Convious' doc spells every path with its slash. */
    size_t sublen = strlen(sub);
    if (!route && !*allow && sublen > 1 && sub[sublen - 1] == '/' && sub[sublen - 2] != '/') {
        char *unslashed = http_strdup(r, sub);
        unslashed[sublen - 1] = 0;
        route = scan(r, t, unslashed, encoded, method, allow);
    }
    if (route) {
        if (route->auth_kind && t->authenticate && !t->authenticate(r, route->auth_kind, r->server->app)) {
            if (!r->replied) router_reply_error(r, 401, "unauthorized", "authentication required");
            return false;
        }
        r->route = route;
        return true;
    }
    if (*allow) {
        if (!strcmp(r->method, "OPTIONS")) {
            http_add_header(r, "Allow", allow);
            http_reply_empty(r, 204);
            return false;
        }
        http_add_header(r, "Allow", allow);
        router_reply_error(r, 405, "method_not_allowed", "method not allowed on this resource");
        return false;
    }
    router_reply_error(r, 404, "not_found", "no such resource");
    return false;
}

void router_run(http_request *r)
{
    if (r->table->around && r->route->auth_kind) r->table->around(r, r->route->handler, r->server->app);
    else r->route->handler(r, r->server->app);
}

void http_reply_error(http_request *r, int status, const char *code, const char *message)
{
    router_reply_error(r, status, code, message);
}
