/* Writing the reply: exactly one per request. */
#include "http/internal.h"
#include "util/log.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_add_header(http_request *r, const char *name, const char *value)
{
    if (r->nheaders >= MAX_REPLY_HEADERS || !name || !value) return;
    /* header values must not smuggle line breaks */
    if (strpbrk(value, "\r\n")) return;
    r->header_names[r->nheaders] = http_strdup(r, name);
    r->header_values[r->nheaders] = http_strdup(r, value);
    r->nheaders++;
}

void http_reply_raw(http_request *r, int status, const char *content_type, const char *body, size_t len)
{
    if (r->replied) {
        log_error("%s: handler replied twice (%d ignored)", r->request_id, status);
        return;
    }
    r->replied = true;
    r->status = status;
    r->content_type = content_type;
    r->reply_body = malloc(len + 1);
    if (len) memcpy(r->reply_body, body, len);
    r->reply_body[len] = 0;
    r->reply_bytes = len;
}

typedef struct {
    char *p;
    size_t len, cap;
} dump_buf;

static int dump_cb(const char *s, size_t n, void *data)
{
    dump_buf *b = data;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap * 2;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

/* Dumps straight into the buffer MHD will send and free (json_dumps would
 * build its own, then copy it). */
void http_reply_json(http_request *r, int status, json_t *body)
{
    dump_buf b = {malloc(1024), 0, 1024};
    if (body && b.p && json_dump_callback(body, dump_cb, &b, JSON_COMPACT) == 0) b.p[b.len] = 0;
    else {
        free(b.p);
        b.p = NULL;
    }
    json_decref(body);
    if (!b.p) {
        http_reply_raw(r, status, "application/json", "{}", 2);
        return;
    }
    http_reply_owned(r, status, "application/json", b.p, b.len);
}

void http_reply_owned(http_request *r, int status, const char *content_type, char *body, size_t len)
{
    if (r->replied) {
        log_error("%s: handler replied twice (%d ignored)", r->request_id, status);
        free(body);
        return;
    }
    r->replied = true;
    r->status = status;
    r->content_type = content_type;
    r->reply_body = body;
    r->reply_bytes = len;
}

void http_reply_empty(http_request *r, int status) { http_reply_raw(r, status, NULL, "", 0); }

int http_reply_status(const http_request *r) { return r->replied ? r->status : 0; }

const char *http_reply_body(const http_request *r, size_t *len, const char **content_type)
{
    *len = r->replied ? r->reply_bytes : 0;
    if (content_type) *content_type = r->replied ? r->content_type : NULL;
    if (r->replied && r->shared) return r->shared->data;
    return r->replied && r->reply_body ? r->reply_body : "";
}

const char *http_reply_header(const http_request *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->header_names[i], name)) return r->header_values[i];
    return NULL;
}

void http_reply_retract(http_request *r)
{
    blob_unref(r->shared);
    r->shared = NULL;
    free(r->reply_body);
    r->reply_body = NULL;
    r->reply_bytes = 0;
    r->replied = false;
    r->status = 0;
    r->content_type = NULL;
}

enum MHD_Result request_send(http_request *r)
{
    if (!r->replied) {
        log_error("%s: %s %s: handler did not reply", r->request_id, r->method, r->path);
        router_reply_error(r, 500, "internal_error", "the server failed to answer");
    }
    reply_cache_keep(r);
    http_blob *shared = r->shared; /* r's reference, dropped with r */
    struct MHD_Response *resp;
    if (shared && etag_matches(http_header(r, "If-None-Match"), shared->etag)) {
        r->status = 304;
        r->reply_bytes = 0;
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    } else if (shared) {
        /* sent from the shared bytes; MHD drops its own reference when done */
        atomic_fetch_add(&shared->refs, 1);
        resp = MHD_create_response_from_buffer_with_free_callback_cls(shared->len, shared->data, blob_free_callback,
                                                                      shared);
    } else {
        resp = MHD_create_response_from_buffer(r->reply_bytes, r->reply_body, MHD_RESPMEM_MUST_FREE);
        r->reply_body = NULL; /* MHD owns it now */
    }
    if (shared) MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, shared->etag);
    if (r->content_type && r->status != 304)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    for (int i = 0; i < r->nheaders; i++) MHD_add_response_header(resp, r->header_names[i], r->header_values[i]);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}
