/* Reading a request: headers, query, path parameters, body as JSON or form. */
#include "http/internal.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One allocation holds the request and its first arena block. It is a few
 * kilobytes, and glibc answers a request of that size by first merging every
 * small chunk freed since (malloc_consolidate): the last request's, which the
 * next would have reused. That was 3-5% of a small reply's CPU, so each thread
 * keeps its last request's allocation for its next one; a thread's spare is
 * freed when the thread ends (a connection's thread, in the default mode). */
static pthread_key_t spare_request;
static pthread_once_t spare_request_once = PTHREAD_ONCE_INIT;
static void spare_request_key(void) { pthread_key_create(&spare_request, free); }

http_request *request_new(void)
{
    size_t head = (sizeof(http_request) + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) * _Alignof(max_align_t);
    pthread_once(&spare_request_once, spare_request_key);
    http_request *r = pthread_getspecific(spare_request);
    if (r) pthread_setspecific(spare_request, NULL);
    else r = malloc(head + sizeof(arena_block) + ARENA_FIRST_BYTES);
    if (!r) abort();
    memset(r, 0, sizeof *r);
    arena_block *b = (arena_block *)((char *)r + head);
    b->next = NULL;
    b->used = 0;
    b->cap = ARENA_FIRST_BYTES;
    r->arena = b;
    return r;
}

void *http_alloc(http_request *r, size_t n)
{
    size_t need = (n + 1 + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) * _Alignof(max_align_t);
    arena_block *b = r->arena;
    if (b->cap - b->used < need) {
        size_t cap = need > 4096 ? need : 4096;
        arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) abort();
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        r->arena = b = nb;
    }
    char *p = (char *)b->data + b->used;
    b->used += need;
    memset(p, 0, n + 1);
    return p;
}

char *http_strdup(http_request *r, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    char *p = http_alloc(r, n);
    memcpy(p, s, n + 1);
    return p;
}

void request_free(http_request *r)
{
    reply_cache_keep(r); /* a render abandoned without a reply still ends (its key is in the arena) */
    /* every block but the last in the chain (the first, inside r) was malloc'd */
    for (arena_block *b = r->arena, *next; b && b->next; b = next) {
        next = b->next;
        free(b);
    }
    json_decref(r->json);
    free(r->body);
    free(r->reply_body);
    blob_unref(r->shared);
    pthread_once(&spare_request_once, spare_request_key);
    if (!pthread_getspecific(spare_request) && !pthread_setspecific(spare_request, r)) return;
    free(r);
}

const char *http_method(const http_request *r) { return r->method; }
const char *http_path(const http_request *r) { return r->path; }
const char *http_request_id(const http_request *r) { return r->request_id; }
void http_set_user(http_request *r, void *user) { r->user = user; }
void *http_user(const http_request *r) { return r->user; }

const char *http_header(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_query_string(const http_request *r)
{
    const char *q = strchr(r->raw_uri, '?');
    return q ? q + 1 : "";
}

const char *http_path_param(const http_request *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++)
        if (!strncmp(r->param_names[i], name, r->param_name_lens[i]) && !name[r->param_name_lens[i]])
            return r->param_values[i];
    return NULL;
}

const char *http_body(const http_request *r, size_t *len)
{
    if (len) *len = r->body_len;
    return r->body ? r->body : "";
}

json_t *http_body_json(http_request *r, const char **err)
{
    if (!r->json_parsed) {
        r->json_parsed = true;
        if (r->body_len) {
            json_error_t je;
            r->json = json_loadb(r->body, r->body_len, 0, &je);
        }
    }
    if (!r->json && err) *err = r->body_len ? "request body is not valid JSON" : "request body is empty";
    return r->json;
}

bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int n = (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (*p == 0xc0 || *p == 0xc1) || *p > 0xf4) return false;
        unsigned cp = *p & (0x3f >> n);
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes in place ('+' is a space in form bodies). */
static void form_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') *o++ = ' ';
        else if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            /* a decoded NUL would cut the value short: make it a byte that is
             * never UTF-8, so the pair is dropped like any other non-text */
            int c = hexval(p[1]) * 16 + hexval(p[2]);
            *o++ = c ? (char)c : (char)0xff;
            p += 2;
        } else *o++ = *p;
    }
    *o = 0;
}

bool http_body_is_form(const http_request *r)
{
    const char *ct = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    return ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33);
}

const char *http_form(http_request *r, const char *name)
{
    if (!r->form_parsed) {
        r->form_parsed = true;
        size_t pairs = 1;
        for (size_t i = 0; i < r->body_len; i++) pairs += r->body[i] == '&';
        r->form = http_alloc(r, (pairs * 2 + 1) * sizeof *r->form);
        char *copy = http_alloc(r, r->body_len + 1);
        memcpy(copy, r->body ? r->body : "", r->body_len);
        size_t n = 0;
        for (char *save = NULL, *tok = strtok_r(copy, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(tok, '=');
            if (eq) *eq = 0;
            form_decode(tok);
            char *value = eq ? eq + 1 : tok + strlen(tok);
            if (eq) form_decode(value);
            if (!utf8_valid(tok) || !utf8_valid(value)) continue; /* as if absent: handlers see only text */
            r->form[n++] = tok;
            r->form[n++] = value;
        }
        r->form[n] = NULL;
    }
    for (size_t i = 0; r->form[i]; i += 2)
        if (!strcmp(r->form[i], name)) return r->form[i + 1];
    return NULL;
}

const char *http_base_url(http_request *r)
{
    if (r->base_url) return r->base_url;
    const char *host = http_header(r, MHD_HTTP_HEADER_HOST);
    char clean[256];
    size_t n = 0;
    /* the Host header ends up in Location URLs: keep only host characters */
    for (const char *p = host; p && *p && n < sizeof clean - 1; p++)
        if (isalnum((unsigned char)*p) || strchr(".:-[]", *p)) clean[n++] = *p;
    clean[n] = 0;
    if (!n) {
        char port[16];
        snprintf(port, sizeof port, "%u", http_port(r->server));
        snprintf(clean, sizeof clean, "127.0.0.1:%s", port);
    }
    char *url = http_alloc(r, strlen(clean) + 8);
    strcpy(url, "http://");
    strcat(url, clean);
    return r->base_url = url;
}

const char *http_client_ip(http_request *r)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return NULL;
    char text[INET6_ADDRSTRLEN];
    const struct sockaddr *sa = info->client_addr;
    const void *addr = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                       : sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                                   : NULL;
    if (!addr || !inet_ntop(sa->sa_family, addr, text, sizeof text)) return NULL;
    return http_strdup(r, text);
}
