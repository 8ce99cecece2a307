/* What the fuzz targets that drive http_request share: a request built from
 * bytes, with no socket and no libmicrohttpd connection underneath.
 *
 * The HTTP layer reads headers and query arguments through
 * MHD_lookup_connection_value and MHD_get_connection_values; a fuzz binary
 * defines both (and MHD_get_daemon_info) itself, and the linker takes the
 * executable's definitions before libmicrohttpd's, so r->conn is a
 * fake_conn here. Everything else a handler touches (router, arena, body,
 * form parsing, replies) is the server's own code, unchanged.
 *
 * Input format, one request:
 *     METHOD SP TARGET LF            e.g. "POST /tickettailor/v1/discounts?x=1"
 *     Name: value LF                 zero or more headers
 *     LF
 *     body                           the rest, byte for byte
 * CR before LF is dropped; a missing blank line means an empty body. */
#ifndef BO_FUZZ_REQUEST_H
#define BO_FUZZ_REQUEST_H
#include "http/internal.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FAKE_MAX_VALUES 64

typedef struct {
    const char *key, *value;
} fake_value;

typedef struct {
    fake_value headers[FAKE_MAX_VALUES];
    int nheaders;
    fake_value args[FAKE_MAX_VALUES];
    int nargs;
} fake_conn;

_Static_assert(sizeof(fake_value) == 2 * sizeof(char *), "fake_value is two pointers");

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind, const char *key)
{
    fake_conn *c = (fake_conn *)connection;
    if (!c) return NULL;
    if (kind == MHD_HEADER_KIND) {
        for (int i = 0; i < c->nheaders; i++)
            if (key && !strcasecmp(c->headers[i].key, key)) return c->headers[i].value;
    } else if (kind == MHD_GET_ARGUMENT_KIND) {
        for (int i = 0; i < c->nargs; i++)
            if (key && !strcmp(c->args[i].key, key)) return c->args[i].value;
    }
    return NULL;
}

int MHD_get_connection_values(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator iterator, void *iterator_cls)
{
    fake_conn *c = (fake_conn *)connection;
    if (!c) return -1;
    const fake_value *v = kind == MHD_HEADER_KIND ? c->headers : kind == MHD_GET_ARGUMENT_KIND ? c->args : NULL;
    int n = kind == MHD_HEADER_KIND ? c->nheaders : kind == MHD_GET_ARGUMENT_KIND ? c->nargs : 0;
    for (int i = 0; i < n; i++)
        if (iterator && iterator(iterator_cls, kind, v[i].key, v[i].value) != MHD_YES) return i + 1;
    return n;
}

/* http_port (for a request without a Host header) asks the daemon: there is none. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon, enum MHD_DaemonInfoType info_type, ...)
{
    return NULL;
}

static int fake_hex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes in place as libmicrohttpd does for the path and query
 * arguments: a decoded NUL ends the string (as it does for MHD's callers). */
static void fake_unescape(char *s, bool plus_is_space)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (plus_is_space && *p == '+') *o++ = ' ';
        else if (*p == '%' && fake_hex(p[1]) >= 0 && fake_hex(p[2]) >= 0) {
            *o++ = (char)(fake_hex(p[1]) * 16 + fake_hex(p[2]));
            p += 2;
        } else *o++ = *p;
    }
    *o = 0;
}

/* Splits a query string into the connection's arguments (arena memory). */
static void fake_parse_query(http_request *r, fake_conn *c, const char *query)
{
    char *copy = http_strdup(r, query);
    for (char *save = NULL, *tok = strtok_r(copy, "&", &save); tok && c->nargs < FAKE_MAX_VALUES;
         tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        if (eq) *eq = 0;
        fake_unescape(tok, true);
        if (eq) fake_unescape(eq + 1, true);
        c->args[c->nargs].key = tok;
        c->args[c->nargs].value = eq ? eq + 1 : NULL;
        c->nargs++;
    }
}

/* One line of data[*pos..len) without its LF (and a CR before it), copied into the arena. */
static char *fake_line(http_request *r, const uint8_t *data, size_t len, size_t *pos)
{
    size_t start = *pos, end = start;
    while (end < len && data[end] != '\n') end++;
    *pos = end < len ? end + 1 : end;
    size_t n = end - start;
    if (n && data[start + n - 1] == '\r') n--;
    char *line = http_alloc(r, n);
    memcpy(line, data + start, n);
    return line;
}

/* Builds a request from the input; *body_at is where the body begins. The
 * request line and headers are text: a NUL in them ends them (as no HTTP
 * parser would pass one on). */
static http_request *fake_request(http_server *server, fake_conn *c, const uint8_t *data, size_t len,
                                  size_t *body_at)
{
    memset(c, 0, sizeof *c);
    http_request *r = request_new();
    r->server = server;
    r->conn = (struct MHD_Connection *)c;
    snprintf(r->request_id, sizeof r->request_id, "fuzz");
    size_t pos = 0;
    char *line = fake_line(r, data, len, &pos);
    char *sp = strchr(line, ' ');
    if (sp) *sp = 0;
    r->method = line;
    r->raw_uri = sp ? sp + 1 : http_strdup(r, "/");
    char *path = http_strdup(r, r->raw_uri);
    char *q = strchr(path, '?');
    if (q) {
        *q = 0;
        fake_parse_query(r, c, q + 1);
    }
    fake_unescape(path, false);
    r->path = path;
    while (pos < len) {
        line = fake_line(r, data, len, &pos);
        if (!*line) break;
        char *colon = strchr(line, ':');
        if (!colon || c->nheaders >= FAKE_MAX_VALUES) continue;
        *colon = 0;
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t') value++;
        c->headers[c->nheaders].key = line;
        c->headers[c->nheaders].value = value;
        c->nheaders++;
    }
    *body_at = pos;
    return r;
}

/* Hands the body to the request as the server does once it has arrived. */
static void fake_body(http_request *r, const uint8_t *data, size_t len)
{
    r->body = malloc(len + 1);
    if (!r->body) abort();
    memcpy(r->body, data, len);
    r->body[len] = 0;
    r->body_len = len;
    r->body_cap = len + 1;
}
#endif
