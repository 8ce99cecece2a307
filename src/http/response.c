/* Writing the reply: exactly one per request. */
#include "http/internal.h"
#include "util/log.h"
#include <stdlib.h>
#include <string.h>

void http_add_header(http_request *r, const char *name, const char *value)
{
    if (r->nheaders >= MAX_REPLY_HEADERS || !name || !value) return;
    /* header values must not smuggle line breaks */
    if (strpbrk(value, "\r\n")) return;
    r->header_names[r->nheaders] = http_strdup(r, name);
    r->header_values[r->nheaders] = strdup(value);
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

void http_reply_json(http_request *r, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        http_reply_raw(r, status, "application/json", "{}", 2);
        return;
    }
    if (r->replied) {
        log_error("%s: handler replied twice (%d ignored)", r->request_id, status);
        free(text);
        return;
    }
    r->replied = true;
    r->status = status;
    r->content_type = "application/json";
    r->reply_body = text;
    r->reply_bytes = strlen(text);
}

void http_reply_empty(http_request *r, int status) { http_reply_raw(r, status, NULL, "", 0); }

enum MHD_Result request_send(http_request *r)
{
    if (!r->replied) {
        log_error("%s: %s %s: handler did not reply", r->request_id, r->method, r->path);
        router_reply_error(r, 500, "internal_error", "the server failed to answer");
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->reply_bytes, r->reply_body, MHD_RESPMEM_MUST_FREE);
    r->reply_body = NULL; /* MHD owns it now */
    if (r->content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    for (int i = 0; i < r->nheaders; i++) MHD_add_response_header(resp, r->header_names[i], r->header_values[i]);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}
