/* The HTTP server: libmicrohttpd with an epoll thread pool. Each request gets
 * a context (created in the URI-log callback, freed in the completion
 * callback) holding its body, per-request arena and reply; the router
 * (router.c) picks the handler once the whole body has arrived. */
#include "http/internal.h"
#include "util/log.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Request ids only need to be unique enough to find a request in the logs:
 * a per-thread splitmix64 seeded once from the system's random source, not a
 * getrandom-backed draw per request. */
static void request_id(char out[17])
{
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    if (!seeded) {
        randombytes_buf(&state, sizeof state);
        seeded = true;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) out[i] = hex[(z >> (60 - 4 * i)) & 0xf];
    out[16] = 0;
}

/* MHD calls this first for every request, with the raw URI (query string
 * included), before it parses anything: the natural place to create the
 * request context. */
static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server *s = cls;
    http_request *r = request_new();
    r->server = s;
    r->conn = conn;
    r->started_ms = now_ms();
    /* copied: MHD decodes the URL in place after this callback */
    r->raw_uri = http_strdup(r, uri ? uri : "/");
    request_id(r->request_id);
    return r;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    http_request *r = *con_cls;
    if (!r) return;
    if (s->cfg.access_log && r->method) {
        const char *q = strchr(r->raw_uri, '?');
        log_info("%s %s %s %d %zub q=%zu %.1fms%s", r->request_id, r->method, r->path ? r->path : "-", r->status,
                 r->reply_bytes, q ? strlen(q + 1) : 0, now_ms() - r->started_ms,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    }
    request_free(r);
    *con_cls = NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    http_server *s = cls;
    http_request *r = *con_cls;
    if (!r) { /* no URI callback happened (should not): make one now */
        r = uri_logger(s, url, conn);
        *con_cls = r;
    }
    if (!r->headers_seen) {
        r->headers_seen = true;
        r->method = http_strdup(r, method);
        r->path = http_strdup(r, url);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body_bytes) {
            router_reply_error(r, 413, "payload_too_large", "request body exceeds the limit");
            return request_send(r);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->too_big && r->body_len + *upload_data_size > s->cfg.max_body_bytes) r->too_big = true;
        if (!r->too_big) {
            if (r->body_len + *upload_data_size + 1 > r->body_cap) {
                r->body_cap = (r->body_len + *upload_data_size + 1) * 2;
                r->body = realloc(r->body, r->body_cap);
            }
            memcpy(r->body + r->body_len, upload_data, *upload_data_size);
            r->body_len += *upload_data_size;
            r->body[r->body_len] = 0;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->replied) return MHD_YES;
    if (r->too_big) {
        router_reply_error(r, 413, "payload_too_large", "request body exceeds the limit");
        return request_send(r);
    }
    router_dispatch(r);
    return request_send(r);
}

http_server *http_start(const http_config *cfg, const http_route_table *const *tables, size_t ntables, void *app,
                        char **err)
{
    http_server *s = calloc(1, sizeof *s);
    s->cfg = *cfg;
    if (!s->cfg.max_body_bytes) s->cfg.max_body_bytes = 1024 * 1024;
    if (!s->cfg.timeout_seconds) s->cfg.timeout_seconds = 30;
    s->tables = tables;
    s->ntables = ntables;
    s->app = app;
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->host ? cfg->host : "127.0.0.1", &addr.sin_addr) != 1) {
        if (err) *err = strdup("listen host must be an IPv4 address");
        free(s);
        return NULL;
    }
    /* Handlers block until their commit is durable, so a thread must never
     * hold more than one busy connection: with threads = 0 (the default) each
     * connection gets its own thread, which reads, handles and writes with no
     * hand-off. A pool (threads > 0) pins each connection to one epoll thread,
     * so two busy connections on one thread wait for each other.
     * TURBO: read, write and accept before asking poll/epoll whether they
     * would block, and no shutdown() before close(). ITC: quiesce works in
     * every mode. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TURBO | MHD_USE_ITC;
    if (!s->cfg.threads) flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    else flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
    /* The per-connection pool holds the request line, headers and the reply's
     * headers (bodies are read in chunks and replies sent from their own
     * buffer); MHD zeroes it between requests, so it is kept small. */
    s->daemon = MHD_start_daemon(flags, cfg->port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
                                 s->cfg.timeout_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                                 MHD_OPTION_URI_LOG_CALLBACK, uri_logger, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_END);
    if (!s->daemon) {
        if (err) *err = strdup("cannot start the HTTP server (address in use?)");
        free(s);
        return NULL;
    }
    return s;
}

unsigned short http_port(http_server *s)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void http_stop(http_server *s)
{
    if (!s) return;
    /* stop accepting first; MHD_stop_daemon then waits for in-flight handlers */
    MHD_quiesce_daemon(s->daemon);
    MHD_stop_daemon(s->daemon);
    free(s);
}
