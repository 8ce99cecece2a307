/* The HTTP layer on its own: a server on a free loopback port with a small
 * route table, exercised with libcurl. */
#include "check.h"
#include "http/http.h"
#include "util/secure.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void echo_param(http_request *r, void *app)
{
    http_reply_json(r, 200, json_pack("{s:s,s:s?}", "id", http_path_param(r, "id"), "q", http_query(r, "q")));
}

static void echo_body(http_request *r, void *app)
{
    const char *err = NULL;
    json_t *body = http_body_json(r, &err);
    if (!body) {
        http_reply_json(r, 400, json_pack("{s:s}", "error", err));
        return;
    }
    http_add_header(r, "X-Seen", "yes");
    http_reply_json(r, 201, json_incref(body));
}

static void echo_form(http_request *r, void *app)
{
    http_reply_json(r, 200, json_pack("{s:s?,s:s?,s:b,s:s}", "a", http_form(r, "a"), "b", http_form(r, "b"), "form",
                                      http_body_is_form(r), "raw", http_query_string(r)));
}

static void forgets(http_request *r, void *app) {}

static void secret(http_request *r, void *app) { http_reply_json(r, 200, json_pack("{s:s}", "user", (char *)http_user(r))); }

static bool auth(http_request *r, int kind, void *app)
{
    const char *h = http_header(r, "Authorization");
    if (h && !strcmp(h, "Bearer good")) {
        http_set_user(r, http_strdup(r, "alice"));
        return true;
    }
    http_reply_json(r, 401, json_pack("{s:s}", "detail", "who are you"));
    return false;
}

static void table_error(http_request *r, int status, const char *code, const char *message, void *app)
{
    http_reply_json(r, status, json_pack("{s:i,s:s}", "status", status, "error_code", code));
}

static const http_route routes[] = {
    {"GET", "/things/{id}/", echo_param, 0},
    {"POST", "/things/", echo_body, 0},
    {"POST", "/form", echo_form, 0},
    {"GET", "/forgets", forgets, 0},
    {"GET", "/secret", secret, 1},
};
static const http_route_table table = {"/api", routes, sizeof routes / sizeof routes[0], auth, table_error};

static char base[64];

typedef struct {
    long status;
    char body[8192];
    size_t len;
    char headers[4096];
    size_t hlen;
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    reply *r = ud;
    size_t k = sz * n;
    if (r->len + k < sizeof r->body) {
        memcpy(r->body + r->len, p, k);
        r->len += k;
        r->body[r->len] = 0;
    }
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    reply *r = ud;
    size_t k = sz * n;
    if (r->hlen + k < sizeof r->headers) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = 0;
    }
    return k;
}

static reply call(const char *method, const char *path, const char *body, const char *ctype, const char *auth_header)
{
    reply r = {0};
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    struct curl_slist *h = NULL;
    if (ctype) {
        char line[128];
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        h = curl_slist_append(h, line);
    }
    if (auth_header) h = curl_slist_append(h, auth_header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

static void *parallel(void *arg)
{
    int *ok = arg;
    for (int i = 0; i < 50; i++) {
        reply r = call("GET", "/api/things/x/", NULL, NULL, NULL);
        if (r.status == 200) (*ok)++;
    }
    return NULL;
}

int main(void)
{
    secure_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const http_route_table *tables[] = {&table};
    http_config cfg = {.host = "127.0.0.1", .port = 0, .threads = 4, .max_body_bytes = 1024, .timeout_seconds = 5};
    char *err = NULL;
    http_server *s = http_start(&cfg, tables, 1, NULL, &err);
    CHECK(s != NULL, "server starts on a free port");
    if (!s) return check_summary();
    snprintf(base, sizeof base, "http://127.0.0.1:%u", http_port(s));

    reply r = call("GET", "/api/things/42/?q=a%2bb%40c", NULL, NULL, NULL);
    CHECK(r.status == 200 && strstr(r.body, "\"id\":\"42\"") && strstr(r.body, "\"q\":\"a+b@c\""),
          "path parameter and %2b-encoded query");
    CHECK(strstr(r.headers, "X-Request-Id: ") != NULL, "every reply has a request id");
    r = call("GET", "/api/things/42", NULL, NULL, NULL);
    CHECK(r.status == 404 && strstr(r.body, "error_code"), "trailing slash is significant; 404 in the table's shape");
    r = call("DELETE", "/api/things/42/", NULL, NULL, NULL);
    CHECK(r.status == 405 && strstr(r.headers, "Allow: GET"), "wrong method: 405 with Allow");
    r = call("GET", "/elsewhere", NULL, NULL, NULL);
    CHECK(r.status == 404 && strstr(r.body, "not_found"), "no table: plain 404");
    r = call("POST", "/api/things/", "{\"name\":\"x\"}", "application/json", NULL);
    CHECK(r.status == 201 && strstr(r.body, "\"name\":\"x\"") && strstr(r.headers, "X-Seen: yes"),
          "JSON body and extra header");
    r = call("POST", "/api/things/", "{\"name\":", "application/json", NULL);
    CHECK(r.status == 400 && strstr(r.body, "not valid JSON"), "malformed JSON reported");
    r = call("POST", "/api/things/", "", "application/json", NULL);
    CHECK(r.status == 400 && strstr(r.body, "empty"), "empty body reported");
    char big[4096];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    r = call("POST", "/api/things/", big, "application/json", NULL);
    CHECK(r.status == 413 && strstr(r.body, "error_code"), "oversized body: 413 in the table's shape");
    r = call("POST", "/api/form?x=1&y=2", "a=hello+world&b=%41%26%3D", "application/x-www-form-urlencoded", NULL);
    CHECK(r.status == 200 && strstr(r.body, "\"a\":\"hello world\"") && strstr(r.body, "\"b\":\"A&=\"") &&
              strstr(r.body, "\"form\":true") && strstr(r.body, "\"raw\":\"x=1&y=2\""),
          "form body decoding and raw query string");
    r = call("GET", "/api/things/42/?q=%ff%fe", NULL, NULL, NULL);
    CHECK(r.status == 400 && strstr(r.body, "error_code"), "invalid UTF-8 in the query: 400 in the table's shape");
    r = call("GET", "/api/forgets", NULL, NULL, NULL);
    CHECK(r.status == 500, "handler that does not reply: 500");
    r = call("GET", "/api/secret", NULL, NULL, NULL);
    CHECK(r.status == 401 && strstr(r.body, "who are you"), "auth fn replies 401 itself");
    r = call("GET", "/api/secret", NULL, NULL, "Authorization: Bearer good");
    CHECK(r.status == 200 && strstr(r.body, "alice"), "auth fn sets the user");
    int ok[4] = {0};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, parallel, &ok[i]);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    CHECK(ok[0] + ok[1] + ok[2] + ok[3] == 200, "200 requests from 4 threads");
    http_stop(s);
    curl_global_cleanup();
    return check_summary();
}
