/* The HTTP layer: libmicrohttpd underneath, a router of route tables on top.
 * It knows requests, responses and routes; it never learns what a cart is.
 *
 * The route and its authentication are decided from the request line and
 * headers, before any body is read: a request that fails them is answered
 * without its body being buffered. A handler runs once the whole body has
 * arrived (bodies over the configured limit get 413 before any handler runs).
 * It must call exactly one http_reply_* function. Memory handed to http_alloc
 * / http_strdup dies with the request. */
#ifndef BO_HTTP_H
#define BO_HTTP_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_request http_request;
typedef struct http_server http_server;

typedef void (*http_handler)(http_request *req, void *app);
/* Called when the route's auth kind is non-zero, as soon as the headers have
 * arrived (the body is not read yet: it may use headers, the query and path
 * parameters, never the body); returns false after replying itself (401/403
 * in the dialect's shape). */
typedef bool (*http_auth_fn)(http_request *req, int auth_kind, void *app);
/* Replies with a dialect-shaped error for unmatched routes (status 404 or 405). */
typedef void (*http_error_fn)(http_request *req, int status, const char *code, const char *message, void *app);

/* Runs around the handler of every authenticated route of a table, once the
 * request is authenticated and its whole body is in: calls handler(req, app)
 * itself, or replies instead of it (the dialects' Idempotency-Key,
 * src/api/idempotency.c). */
typedef void (*http_around_fn)(http_request *req, http_handler handler, void *app);

typedef struct {
    const char *method;   /* "GET", "POST", ... */
    const char *pattern;  /* below the table's prefix: "/api/v1/orders/{order_id}/"; a last {name*} takes the rest, slashes too */
    http_handler handler;
    int auth_kind;        /* 0 = public; otherwise passed to the table's auth fn */
} http_route;

typedef struct {
    const char *prefix;   /* "/convious", "/admin/v1", "" */
    const http_route *routes;
    size_t nroutes;
    http_auth_fn authenticate;
    http_error_fn error;  /* NULL: a plain JSON {"error":...} */
    http_around_fn around; /* NULL: handlers run directly */
} http_route_table;

/* Defaults for the zero values of http_config (docs/ARCHITECTURE.md, "The HTTP server"). */
#define HTTP_DEFAULT_MAX_CONNECTIONS 4096
#define HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP 256
#define HTTP_DEFAULT_REQUEST_TIMEOUT 10
/* A route without authentication (auth_kind 0: an OAuth token request) keeps at
 * most this much of a body: before a client has proved who it is, it never
 * holds more of the server's memory. Beyond it the body is read, dropped and
 * answered with 413. */
#define HTTP_PUBLIC_BODY_MAX (16 * 1024)

typedef struct {
    const char *host;          /* "127.0.0.1" */
    unsigned short port;       /* 0 = pick a free port (see http_port) */
    unsigned threads;          /* 0: one thread per connection; else an epoll pool of that many threads */
    size_t max_body_bytes;     /* 413 beyond this */
    /* A client has this long to send a whole request (headers and body),
     * counted from its connect or from the end of its previous reply, and
     * this long to take a reply; sending a byte now and then does not extend
     * it. An idle keep-alive connection is closed after it too. The time a
     * handler runs is not counted. 0: HTTP_DEFAULT_REQUEST_TIMEOUT. */
    unsigned request_timeout_seconds;
    unsigned max_connections;  /* open at once; 0: HTTP_DEFAULT_MAX_CONNECTIONS (lowered to the open-file limit) */
    int max_connections_per_ip; /* from one client address; 0: HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP, < 0: no limit */
    bool access_log;
} http_config;

http_server *http_start(const http_config *cfg, const http_route_table *const *tables, size_t ntables, void *app,
                        char **err);
unsigned short http_port(http_server *s);
/* The limits in force (defaults filled in, max_connections lowered to what
 * the open-file limit allows). */
http_config http_limits(const http_server *s);
/* Connections cut so far because their request or reply overran the request timeout. */
unsigned long http_connections_cut(http_server *s);
/* Stops accepting, lets in-flight requests finish, then returns. */
void http_stop(http_server *s);

/* --- request accessors (all strings are owned by the request) --- */
const char *http_method(const http_request *r);
const char *http_path(const http_request *r);       /* without the query string */
const char *http_request_id(const http_request *r);
const char *http_header(const http_request *r, const char *name);
const char *http_query(const http_request *r, const char *name);    /* decoded; NULL if absent */
const char *http_path_param(const http_request *r, const char *name);
/* Full original query string part after '?', "" if none (for building links). */
const char *http_query_string(const http_request *r);
const char *http_body(const http_request *r, size_t *len);
/* Body parsed as JSON; NULL (and *err set to a message) if empty or malformed.
 * The result is owned by the request. */
json_t *http_body_json(http_request *r, const char **err);
/* A field of an application/x-www-form-urlencoded body; NULL if absent. */
const char *http_form(http_request *r, const char *name);
/* True when the body is form-encoded (so dialects accepting both can choose). */
bool http_body_is_form(const http_request *r);

/* Per-request storage for the handler: an authenticated principal, etc. */
void http_set_user(http_request *r, void *user);
void *http_user(const http_request *r);
void *http_alloc(http_request *r, size_t n);      /* zeroed; freed with the request */
char *http_strdup(http_request *r, const char *s);
/* The peer's address as text ("203.0.113.7", "2001:db8::1"); NULL when
 * unknown. A proxy in front is the peer: forwarded headers are not trusted. */
const char *http_client_ip(http_request *r);
/* The base URL the client used: "http://host:port" from the Host header. */
const char *http_base_url(http_request *r);

/* --- replies: exactly one per request --- */
void http_add_header(http_request *r, const char *name, const char *value);
/* Takes ownership of `body` (a reference is stolen). */
void http_reply_json(http_request *r, int status, json_t *body);
void http_reply_raw(http_request *r, int status, const char *content_type, const char *body, size_t len);
/* Takes `body` (malloc'd, len bytes, freed by the server once sent). */
void http_reply_owned(http_request *r, int status, const char *content_type, char *body, size_t len);
/* 204-style empty reply. */
void http_reply_empty(http_request *r, int status);
/* Replies with the matched table's error shape (its error fn), else plain JSON. */
void http_reply_error(http_request *r, int status, const char *code, const char *message);

/* --- cached replies (reply_cache.c) ---
 * Read endpoints keep their rendered 200 replies: a handler calls
 * http_reply_cached first, with the scope of what it reads (an account) and a
 * stamp of the versions of everything its reply depends on. A hit answers the
 * request from shared bytes; a miss arms the request, and the 200 the handler
 * then gives is kept under (scope, method, URI with query, body). Every reply
 * that went through it carries an ETag, and an If-None-Match naming it gets 304.
 * An entry serves at most max_age_ms, which bounds how stale a reply can be for
 * changes the stamp does not see (other processes' writes). */
typedef struct http_reply_cache http_reply_cache;
typedef struct {
    uint64_t v[4];
} http_cache_stamp;
typedef struct {
    size_t entries, bytes, budget;
    unsigned long hits, misses;
} http_reply_cache_figures;
/* NULL (no caching) when budget_bytes is 0. */
http_reply_cache *http_reply_cache_new(size_t budget_bytes, int64_t max_age_ms);
void http_reply_cache_free(http_reply_cache *c);
void http_reply_cache_stats(http_reply_cache *c, http_reply_cache_figures *out);
/* True when r was answered from the cache (c NULL: never). */
bool http_reply_cached(http_request *r, http_reply_cache *c, const char *scope, const http_cache_stamp *stamp);

/* --- the reply as written so far (for an around fn) --- */
/* Its status; 0 before any http_reply_*. */
int http_reply_status(const http_request *r);
/* Its body (len bytes, NUL-terminated) and content type (NULL if none). */
const char *http_reply_body(const http_request *r, size_t *len, const char **content_type);
/* The value of a header added with http_add_header, NULL if none. */
const char *http_reply_header(const http_request *r, const char *name);
/* Forgets the reply (its status and body, not its headers) so another can be given. */
void http_reply_retract(http_request *r);
#endif
