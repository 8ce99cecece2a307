/* Shared by the HTTP layer's files only. */
#ifndef BO_HTTP_INTERNAL_H
#define BO_HTTP_INTERNAL_H
#include "http/http.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdint.h>

#define MAX_PATH_PARAMS 8
#define MAX_REPLY_HEADERS 16

struct http_server {
    struct MHD_Daemon *daemon;
    http_config cfg;
    const http_route_table *const *tables;
    size_t ntables;
    void *app;
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
    bool headers_seen, too_big;
    char *body;
    size_t body_len, body_cap;
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
};

http_request *request_new(void);
void request_free(http_request *r);
enum MHD_Result request_send(http_request *r);
void router_dispatch(http_request *r);
/* Strict UTF-8 (no overlongs, no surrogates); every text handed to handlers is. */
bool utf8_valid(const char *s);
/* Replies with the matched table's error shape (or plain JSON). */
void router_reply_error(http_request *r, int status, const char *code, const char *message);
#endif
