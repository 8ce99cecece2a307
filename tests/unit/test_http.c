/* The HTTP layer on its own: a server on a free loopback port with a small
 * route table, exercised with libcurl. */
#include "check.h"
#include "config.h"
#include "http/http.h"
#include "util/secure.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void echo_param(http_request *r, void *app)
{
    http_reply_json(r, 200, json_pack("{s:s,s:s?}", "id", http_path_param(r, "id"), "q", http_query(r, "q")));
}

static void echo_rest(http_request *r, void *app)
{
    http_reply_json(r, 200, json_pack("{s:s,s:s}", "id", http_path_param(r, "id"), "rest", http_path_param(r, "rest")));
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
    {"GET", "/codes/{id}/{rest*}", echo_rest, 0},
    {"POST", "/things/", echo_body, 0},
    {"POST", "/form", echo_form, 0},
    {"GET", "/forgets", forgets, 0},
    {"GET", "/secret", secret, 1},
    {"POST", "/secret", echo_body, 1},
};
static const http_route_table table = {"/api", routes, sizeof routes / sizeof routes[0], auth, table_error, NULL};

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

/* ---- raw sockets, for what curl will not do: half-sent requests, trickles ---- */

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int raw_connect(unsigned short port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void raw_send(int fd, const char *text) { (void)!send(fd, text, strlen(text), MSG_NOSIGNAL); }

/* Reads what arrives within `seconds` into buf; returns the bytes read, and
 * sets *closed when the server closed the connection. */
static size_t raw_read(int fd, char *buf, size_t cap, double seconds, bool *closed)
{
    size_t n = 0;
    *closed = false;
    double until = monotonic_s() + seconds;
    while (n + 1 < cap) {
        int left_ms = (int)((until - monotonic_s()) * 1000);
        if (left_ms <= 0) break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left_ms) <= 0) break;
        ssize_t got = recv(fd, buf + n, cap - 1 - n, 0);
        if (got <= 0) {
            *closed = true;
            break;
        }
        n += (size_t)got;
        buf[n] = 0;
        /* one whole reply is in: its headers and Content-Length bytes of body */
        const char *cl = strstr(buf, "Content-Length: "), *end = strstr(buf, "\r\n\r\n");
        if (end && (!cl || n >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))) break;
    }
    buf[n] = 0;
    return n;
}

/* Sends one byte every 200 ms until the server closes; returns the seconds it took (or -1 past `limit`). */
static double trickle_until_closed(int fd, double limit)
{
    double started = monotonic_s();
    while (monotonic_s() - started < limit) {
        if (send(fd, "X", 1, MSG_NOSIGNAL) < 0) return monotonic_s() - started;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) > 0) {
            char c;
            if (recv(fd, &c, 1, MSG_DONTWAIT) <= 0) return monotonic_s() - started;
        }
    }
    return -1;
}

/* Limits and deadlines on their own server: a 1 MiB body limit (so an
 * announced body can be far larger than what is drained), a 1 s request
 * timeout and 2 connections per address. */
static void limits_and_deadlines(void)
{
    const http_route_table *tables[] = {&table};
    http_config cfg = {.host = "127.0.0.1", .max_body_bytes = 1024 * 1024, .request_timeout_seconds = 1,
                       .max_connections_per_ip = 2};
    http_server *s = http_start(&cfg, tables, 1, NULL, NULL);
    CHECK(s != NULL, "limits server starts");
    if (!s) return;
    http_config in_force = http_limits(s);
    CHECK(in_force.max_connections > 0 && in_force.max_connections <= HTTP_DEFAULT_MAX_CONNECTIONS &&
              in_force.max_connections_per_ip == 2 && in_force.request_timeout_seconds == 1,
          "limits in force: defaults filled in, the given ones kept");
    unsigned short port = http_port(s);
    char buf[4096];
    bool closed;

    int fd = raw_connect(port);
    raw_send(fd, "POST /api/secret HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n");
    double t0 = monotonic_s();
    raw_read(fd, buf, sizeof buf, 0.8, &closed);
    CHECK(strstr(buf, " 401 ") && strstr(buf, "who are you") && monotonic_s() - t0 < 0.8,
          "failed auth answered on the headers: a big body is never waited for");
    raw_read(fd, buf, sizeof buf, 0.8, &closed);
    CHECK(closed, "and the connection is closed rather than read");
    close(fd);

    fd = raw_connect(port);
    raw_send(fd, "POST /api/secret HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n");
    usleep(100 * 1000);
    raw_send(fd, "{\"a\":123}");
    raw_read(fd, buf, sizeof buf, 0.8, &closed);
    CHECK(strstr(buf, " 401 ") != NULL, "failed auth with a small body: 401");
    raw_send(fd, "GET /api/things/7/ HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_read(fd, buf, sizeof buf, 0.8, &closed);
    CHECK(strstr(buf, " 200 ") && strstr(buf, "\"id\":\"7\""), "the small body was dropped and the connection kept");
    close(fd);

    fd = raw_connect(port);
    raw_send(fd, "POST /api/secret HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 11\r\n\r\n");
    usleep(100 * 1000);
    raw_send(fd, "{\"a\":");
    usleep(100 * 1000);
    raw_send(fd, "12345}");
    raw_read(fd, buf, sizeof buf, 0.8, &closed);
    CHECK(strstr(buf, " 201 ") && strstr(buf, "{\"a\":12345}"), "authenticated: the handler sees the whole body");
    close(fd);

    char *unauthenticated = malloc(20 * 1024 + 1);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", port); /* call()'s server from here on */
    memset(unauthenticated, ' ', 20 * 1024);
    memcpy(unauthenticated, "{\"a\":1}", 7);
    unauthenticated[10 * 1024] = 0;
    reply big = call("POST", "/api/things/", unauthenticated, "application/json", NULL);
    CHECK(big.status == 201, "a route without authentication takes a 10 KiB body");
    unauthenticated[10 * 1024] = ' ';
    unauthenticated[20 * 1024] = 0;
    big = call("POST", "/api/things/", unauthenticated, "application/json", NULL);
    CHECK(big.status == 413 && strstr(big.body, "error_code"),
          "but not 20 KiB: 413 in the table's shape, whatever the server's body limit");
    free(unauthenticated);

    unsigned long cut_before = http_connections_cut(s);
    fd = raw_connect(port);
    raw_send(fd, "GET /api/things/1/ HTTP/1.1\r\n");
    double took = trickle_until_closed(fd, 4);
    CHECK(took > 0.7 && took < 2.0, "headers trickled a byte every 200 ms: cut at the 1 s deadline");
    close(fd);
    fd = raw_connect(port);
    raw_send(fd, "POST /api/things/ HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{");
    took = trickle_until_closed(fd, 4);
    CHECK(took > 0.7 && took < 2.0, "a body trickled a byte every 200 ms: cut at the 1 s deadline");
    close(fd);
    CHECK(http_connections_cut(s) >= cut_before + 2, "cuts are counted");

    int a = raw_connect(port), b = raw_connect(port), c = raw_connect(port);
    raw_read(c, buf, sizeof buf, 0.5, &closed);
    CHECK(closed, "a third connection from one address is closed at once");
    close(c);
    raw_send(a, "GET /api/things/2/ HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_read(a, buf, sizeof buf, 0.8, &closed);
    CHECK(strstr(buf, " 200 ") != NULL, "the two within the limit are served");
    double idle = monotonic_s();
    raw_read(b, buf, sizeof buf, 3, &closed);
    CHECK(closed && monotonic_s() - idle < 2.0, "an idle connection is closed at the deadline");
    close(a);
    close(b);
    http_stop(s);
}

/* The settings that feed http_config: names, ranges and defaults. */
static void limit_settings(void)
{
    config c;
    const char *why = NULL;
    config_defaults(&c);
    CHECK(c.request_timeout == HTTP_DEFAULT_REQUEST_TIMEOUT && c.max_connections == HTTP_DEFAULT_MAX_CONNECTIONS &&
              c.max_connections_per_ip == HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP && !c.probe_host[0],
          "limit settings default to the HTTP layer's defaults, no probe listener");
    CHECK(config_set(&c, "request_timeout", "3", &why) && c.request_timeout == 3, "request_timeout set");
    CHECK(!config_set(&c, "request_timeout", "0", &why) && !config_set(&c, "request_timeout", "3601", &why),
          "request_timeout outside 1..3600 refused");
    CHECK(config_set(&c, "max_connections", "20000", &why) && c.max_connections == 20000, "max_connections set");
    CHECK(!config_set(&c, "max_connections", "15", &why), "max_connections below 16 refused");
    CHECK(config_set(&c, "max_connections_per_ip", "0", &why) && c.max_connections_per_ip == 0,
          "max_connections_per_ip 0 (no limit) accepted");
    CHECK(!config_set(&c, "max_connections_per_ip", "-1", &why), "a negative per-address limit refused");
    CHECK(config_set(&c, "probe_listen", "127.0.0.1:9090", &why) && !strcmp(c.probe_host, "127.0.0.1") &&
              c.probe_port == 9090,
          "probe_listen takes HOST:PORT");
    CHECK(!config_set(&c, "probe_listen", "9090", &why), "probe_listen without a host refused");
    CHECK(config_set(&c, "probe_listen", "", &why) && !c.probe_host[0], "an empty probe_listen turns it off");
    CHECK(config_set(&c, "listen", "0.0.0.0:8081", &why) && !strcmp(c.listen_host, "0.0.0.0") && c.listen_port == 8081,
          "listen still takes HOST:PORT");
}

int main(void)
{
    limit_settings();
    secure_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const http_route_table *tables[] = {&table};
    http_config cfg = {.host = "127.0.0.1", .port = 0, .threads = 4, .max_body_bytes = 1024, .request_timeout_seconds = 5};
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
    r = call("GET", "/api/codes/7/ab%2Fc/d=", NULL, NULL, NULL);
    CHECK(r.status == 200 && strstr(r.body, "\"id\":\"7\"") && strstr(r.body, "\"rest\":\"ab/c/d=\""),
          "a last {name*} takes the rest of the path, a decoded %2F and slashes included");
    r = call("GET", "/api/codes/7/", NULL, NULL, NULL);
    CHECK(r.status == 404, "a rest parameter is never empty");
    r = call("GET", "/api/things/a%2Fb%2f%C3%BC%25/", NULL, NULL, NULL);
    CHECK(r.status == 200 && strstr(r.body, "\"id\":\"a/b/\u00fc%\""),
          "an encoded slash stays inside its parameter, the rest decoded with it");
    r = call("GET", "/api/things/a%2F/x/", NULL, NULL, NULL);
    CHECK(r.status == 404, "a literal slash still separates segments");
    r = call("GET", "/api/codes/a%2Fb/c%2Fd/e", NULL, NULL, NULL);
    CHECK(r.status == 200 && strstr(r.body, "\"id\":\"a/b\"") && strstr(r.body, "\"rest\":\"c/d/e\""),
          "encoded slashes: a segment's stay in it, the rest parameter's too");
    r = call("GET", "/api/elsewhere", NULL, NULL, NULL);
    CHECK(r.status == 404, "unmatched path under the table");
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
    limits_and_deadlines();
    curl_global_cleanup();
    return check_summary();
}
