/* Shared by the HTTP layer's files only. */
#ifndef BO_HTTP_INTERNAL_H
#define BO_HTTP_INTERNAL_H
#include "http/http.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define MAX_PATH_PARAMS 8
#define MAX_REPLY_HEADERS 16

/* What an open connection is doing, for the deadline watchdog (deadline.c). */
typedef enum {
    CONN_WAITING,  /* for a whole request: reading its headers and body, or idle between requests */
    CONN_HANDLING, /* in a handler: the server's time, not the client's */
    CONN_SENDING,  /* a reply queued, the client still taking it */
    CONN_CUT,      /* shut down by the watchdog; MHD closes it */
} conn_phase;

/* One per open connection (MHD's socket context), on the server's list from
 * MHD's "started" to its "closed" notification, which comes before MHD closes
 * the socket: so the watchdog, holding the list lock, never shuts down a
 * descriptor that was closed and reused. phase and since are written by the
 * connection's thread without the lock. */
typedef struct conn_watch {
    struct conn_watch *prev, *next;
    int fd;
    _Atomic int phase;          /* conn_phase */
    _Atomic int64_t since_ms;   /* monotonic time the phase began */
} conn_watch;

typedef struct {
    pthread_mutex_t lock;       /* guards the list and shutdown() of its sockets */
    conn_watch *head;
    pthread_t thread;
    bool running;
    pthread_cond_t wake;        /* signalled to stop the watchdog */
    bool stopping;
    atomic_ulong cut;
} conn_deadlines;

struct http_server {
    struct MHD_Daemon *daemon;
    http_config cfg;
    const http_route_table *const *tables;
    size_t ntables;
    void *app;
    conn_deadlines deadlines;
};

/* The per-request arena: bump allocation in blocks; the first block lives in
 * the same allocation as the request itself. */
typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
} arena_block;
#define ARENA_FIRST_BYTES 3072

struct http_request {
    http_server *server;
    struct MHD_Connection *conn;
    char request_id[24];
    double started_ms;
    char *raw_uri, *method, *path;
    conn_watch *watch;     /* the connection's, NULL if MHD gave none */
    bool headers_seen, too_big;
    bool discard_body;     /* answered on its headers: the body is read and dropped, never kept */
    const http_route *route; /* chosen on the headers, run once the body is in */
    char *body;
    size_t body_len, body_cap;
    size_t body_limit;     /* bytes of body kept; beyond, 413 (smaller on routes without authentication) */
    json_t *json;          /* parsed body, owned */
    bool json_parsed;
    char **form;           /* name, value, name, value, ..., NULL; arena memory */
    bool form_parsed;
    const char *param_names[MAX_PATH_PARAMS]; /* into the route's pattern, not NUL-terminated */
    unsigned char param_name_lens[MAX_PATH_PARAMS];
    char *param_values[MAX_PATH_PARAMS];
    int nparams;
    const http_route_table *table; /* matched table, for error replies */
    void *user;
    arena_block *arena;    /* current block, chained to older ones; the first follows the request */
    const char *header_names[MAX_REPLY_HEADERS];
    char *header_values[MAX_REPLY_HEADERS];
    int nheaders;
    /* the reply, filled by http_reply_*, sent by request_send */
    bool replied;
    int status;
    char *reply_body;
    size_t reply_bytes;
    const char *content_type;
    const char *base_url;  /* http_base_url's answer, once asked */
    /* a reply shared with the reply cache (reply_cache.c): sent from its bytes, not reply_body */
    struct http_blob *shared;
    http_reply_cache *cache;  /* set with cache_key on a miss: a 200 reply is kept */
    char *cache_key;
    http_cache_stamp cache_stamp;
    int64_t cache_read_us;
    bool cache_renders;       /* this request is its key's one render in flight */
};

/* A rendered reply, immutable once made; freed with its last reference. */
typedef struct http_blob {
    _Atomic int refs;
    int status;
    char *data;
    size_t len;
    char content_type[64];
    char etag[36]; /* "<32 hex digits of its BLAKE2b hash>" with the quotes */
} http_blob;
void blob_unref(http_blob *b);
void blob_free_callback(void *cls); /* MHD's free callback for a response made from a blob */
/* The cache's clock: monotonic microseconds (read_us of reply_cache_store). */
int64_t reply_cache_now_us(void);
/* The entry for key if its stamp equals stamp and it is young enough: a new reference. */
http_blob *reply_cache_lookup(http_reply_cache *c, const char *key, const http_cache_stamp *stamp);
/* Makes a blob of data (taken) and keeps it under key unless it alone exceeds
 * the budget (c may be NULL: the blob only). Returns one reference. */
http_blob *reply_cache_store(http_reply_cache *c, const char *key, const http_cache_stamp *stamp, int64_t read_ms,
                             int status, const char *content_type, char *data, size_t len);
/* After the handler, once: keeps r's 200 reply if a miss armed it, and shares
 * it; ends r's render in flight whatever its status (request_free calls it too). */
void reply_cache_keep(http_request *r);
bool etag_matches(const char *if_none_match, const char *etag);

http_request *request_new(void);
void request_free(http_request *r);
enum MHD_Result request_send(http_request *r);
/* On the headers: chooses the route and authenticates. False when the
 * request has been answered already (bad encoding, 404, 405, OPTIONS,
 * failed authentication); true when r->route is to run once the body is in. */
bool router_route(http_request *r);
/* Runs the chosen route's handler. */
void router_run(http_request *r);
/* Strict UTF-8 (no overlongs, no surrogates); every text handed to handlers is. */
bool utf8_valid(const char *s);
/* Replies with the matched table's error shape (or plain JSON). */
void router_reply_error(http_request *r, int status, const char *code, const char *message);

int64_t http_now_ms(void);
/* deadline.c: the watchdog that cuts connections overrunning the request timeout */
void deadlines_start(http_server *s);
void deadlines_stop(http_server *s);
void deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);
void conn_enter(conn_watch *w, conn_phase phase);
/* Server work in the middle of reading a request (authenticating on the
 * headers may wait for the database) does not count against the client:
 * conn_pause stops its clock and returns the time it had used, conn_resume
 * starts it again from there. */
int64_t conn_pause(conn_watch *w);
void conn_resume(conn_watch *w, int64_t waited);
#endif
