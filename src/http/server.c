/* The HTTP server: libmicrohttpd, one thread per connection by default. Each
 * request gets a context (created in the URI-log callback, freed in the
 * completion callback) holding its body, per-request arena and reply. The
 * router (router.c) picks the route and authenticates on the headers; the
 * handler runs once the whole body has arrived. Connection limits and the
 * request deadline are set here and enforced with deadline.c. */
#include "http/internal.h"
#include "util/log.h"
#include <sodium.h>
#include <stdarg.h>
#include <sys/resource.h>
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

int64_t http_now_ms(void) { return (int64_t)now_ms(); }

/* A request answered on its headers (401, 404, ...) whose announced body is
 * at most this long has it read and dropped, never kept: the connection stays
 * open for the next request, and a client still sending is not reset before
 * it reads the answer. A larger or chunked body is not read at all: MHD
 * sends the answer and closes the connection. */
#define DRAIN_BODY_MAX (64 * 1024)

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
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    r->watch = info ? info->socket_context : NULL;
    return r;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    http_request *r = *con_cls;
    if (!r) return;
    if (r->watch) conn_enter(r->watch, CONN_WAITING); /* the next request's time starts now */
    if (s->cfg.access_log && r->method) {
        const char *q = strchr(r->raw_uri, '?');
        log_info("%s %s %s %d %zub q=%zu %.1fms%s", r->request_id, r->method, r->path ? r->path : "-", r->status,
                 r->reply_bytes, q ? strlen(q + 1) : 0, now_ms() - r->started_ms,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    }
    request_free(r);
    *con_cls = NULL;
}

static enum MHD_Result send_reply(http_request *r)
{
    if (r->watch) conn_enter(r->watch, CONN_SENDING);
    return request_send(r);
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
        unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
        if (announced > s->cfg.max_body_bytes) {
            router_reply_error(r, 413, "payload_too_large", "request body exceeds the limit");
            return send_reply(r);
        }
        int64_t waited = r->watch ? conn_pause(r->watch) : 0;
        bool to_handler = router_route(r);
        r->body_limit = s->cfg.max_body_bytes;
        if (to_handler && !r->route->auth_kind && r->body_limit > HTTP_PUBLIC_BODY_MAX)
            r->body_limit = HTTP_PUBLIC_BODY_MAX;
        if (!to_handler && !(announced && announced <= DRAIN_BODY_MAX)) return send_reply(r);
        if (r->watch) conn_resume(r->watch, waited);
        r->discard_body = !to_handler;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->discard_body && !r->too_big && r->body_len + *upload_data_size > r->body_limit) r->too_big = true;
        if (!r->discard_body && !r->too_big) {
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
    if (r->discard_body) {
        r->discard_body = false;
        return send_reply(r);
    }
    if (r->replied) return MHD_YES;
    if (r->too_big) {
        router_reply_error(r, 413, "payload_too_large", "request body exceeds the limit");
        return send_reply(r);
    }
    if (r->watch) conn_enter(r->watch, CONN_HANDLING);
    router_run(r);
    return send_reply(r);
}

/* Raises the soft open-file limit to the hard one and returns how many
 * connections it leaves room for, after descriptors for the database, logs,
 * webhooks and MHD's own. */
static unsigned connections_the_fd_limit_allows(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return HTTP_DEFAULT_MAX_CONNECTIONS;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        struct rlimit raised = {want, rl.rlim_max};
        if (!setrlimit(RLIMIT_NOFILE, &raised)) rl.rlim_cur = want;
    }
    rlim_t spare = 128;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576) return 1048576;
    return rl.rlim_cur > 2 * spare ? (unsigned)(rl.rlim_cur - spare) : (unsigned)(rl.rlim_cur / 2);
}

http_server *http_start(const http_config *cfg, const http_route_table *const *tables, size_t ntables, void *app,
                        char **err)
{
    http_server *s = calloc(1, sizeof *s);
    s->cfg = *cfg;
    if (!s->cfg.max_body_bytes) s->cfg.max_body_bytes = 1024 * 1024;
    if (!s->cfg.request_timeout_seconds) s->cfg.request_timeout_seconds = HTTP_DEFAULT_REQUEST_TIMEOUT;
    if (!s->cfg.max_connections) s->cfg.max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    if (!s->cfg.max_connections_per_ip) s->cfg.max_connections_per_ip = HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP;
    unsigned fd_room = connections_the_fd_limit_allows();
    if (s->cfg.max_connections > fd_room) {
        log_info("at most %u connections: the open-file limit allows no more (%u asked)", fd_room,
                 s->cfg.max_connections);
        s->cfg.max_connections = fd_room;
    }
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
    /* MHD's own timeout is one of inactivity, which a client sending a byte
     * now and then resets: the watchdog (deadline.c) enforces the request
     * timeout as a deadline; MHD's stays as a backstop for a watchdog that
     * could not start. At the connection limit MHD stops accepting (new
     * clients wait in the backlog); over the per-address limit it accepts
     * and closes at once. */
    deadlines_start(s);
    /* The per-connection pool holds the request line, headers and the reply's
     * headers (bodies are read in chunks and replies sent from their own
     * buffer); MHD zeroes it between requests, so it is kept small. */
    s->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE,
        s->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.request_timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024, MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        s->cfg.max_connections_per_ip > 0 ? (unsigned)s->cfg.max_connections_per_ip : 0u,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, deadlines_notify, s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_END);
    if (!s->daemon) {
        if (err) *err = strdup("cannot start the HTTP server (address in use?)");
        deadlines_stop(s);
        free(s);
        return NULL;
    }
    return s;
}

http_config http_limits(const http_server *s) { return s->cfg; }

unsigned long http_connections_cut(http_server *s) { return atomic_load(&s->deadlines.cut); }

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
    /* after MHD: connections still finishing stay under the deadline */
    deadlines_stop(s);
    free(s);
}
