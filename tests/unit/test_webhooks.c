/* The webhook delivery worker, on the database named by BOXOFFICE_TEST_DB
 * (default: a fresh SQLite file): an idle worker runs no write transaction; a
 * commit that records a delivery wakes it at once; a commit made through
 * another store (as another server process would) wakes it through LISTEN on
 * PostgreSQL and through the safety recheck on SQLite; events_wanted's cache
 * follows this process's subscription changes at once.
 * Those deliveries go to a closed port: each attempt fails at once and is
 * recorded, which is all these tests observe.
 * Formats: the engine knows no vendor. A format registered here (its own
 * payload, envelope and signature header) is the only one there is; a
 * subscription in it is delivered to a receiver on 127.0.0.1 exactly as the
 * format says. */
#include "fixture.h"
#include "core/internal.h"
#include "core/webhooks.h"
#include "util/json_read.h"
#include "util/secure.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "store/outbox.h"

#define DEAD_URL "http://127.0.0.1:1/hook"
#define TEST_FORMAT "test-plain"
#define TEST_SECRET "test-secret-123"

static store *ST;
static engine *E;
static account A;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
    const char *object_id;
    change_event ev;
    const char *object; /* the canonical object's JSON text, NULL for none */
} record_ctx;

static db_status record_event(db_conn *c, void *arg)
{
    record_ctx *x = arg;
    return events_record(c, A.id, x->ev, x->object_id, x->object);
}

/* ---------- a format of this test's own ---------- */

/* {delivery, type, at, url, data {kind, ref, account}}: its own payload,
 * URL and envelope around the recorded object. */
static char *test_body(engine *e, const account *a, const webhook_event_info *ev, const char *object)
{
    (void)e;
    json_t *canonical = json_loads(object, JSON_DECODE_ANY, NULL);
    const char *id = jstr(canonical, "id");
    char url[128];
    snprintf(url, sizeof url, "/test/%s/%s", ev->resource ? ev->resource : "?", id ? id : "?");
    json_t *payload = json_pack("{s:s?,s:s?,s:s}", "kind", ev->resource, "ref", id, "account", a->id);
    json_t *body = json_pack("{s:s,s:s,s:I,s:s,s:o}", "delivery", ev->id, "type", ev->event, "at",
                             (json_int_t)ev->created_at, "url", url, "data", payload);
    json_decref(canonical);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

static bool test_sign(const char *secret, const char *body, instant_us now, webhook_headers *out)
{
    char mac[65];
    hmac_sha256_hex(secret, strlen(secret), body, strlen(body), mac);
    return webhook_header_add(out, "X-Test-Signature: %s", mac) && webhook_header_add(out, "X-Test-Format: plain");
}

static const webhook_format test_format = {
    .name = TEST_FORMAT, .body = test_body, .sign = test_sign};

/* One HTTP request on 127.0.0.1, answered 200; the raw request is kept. */
typedef struct {
    int fd;
    int port;
    char request[16384];
    size_t len;
    bool got;
} receiver;

static void *receive_one(void *arg)
{
    receiver *rx = arg;
    int c = accept(rx->fd, NULL, NULL);
    if (c < 0) return NULL;
    size_t want = SIZE_MAX;
    bool continued = false;
    while (rx->len < want && rx->len < sizeof rx->request - 1) {
        ssize_t n = read(c, rx->request + rx->len, sizeof rx->request - 1 - rx->len);
        if (n <= 0) break;
        rx->len += (size_t)n;
        rx->request[rx->len] = 0;
        char *end = strstr(rx->request, "\r\n\r\n");
        if (!end) continue;
        const char *cl = strcasestr(rx->request, "\r\nContent-Length:");
        if (cl && cl < end) want = (size_t)(end + 4 - rx->request) + strtoul(cl + 17, NULL, 10);
        if (!continued && strcasestr(rx->request, "\r\nExpect: 100-continue")) {
            continued = true;
            if (write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) break;
        }
    }
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (write(c, ok, strlen(ok)) < 0) {}
    close(c);
    __atomic_store_n(&rx->got, true, __ATOMIC_RELEASE);
    return NULL;
}

static bool receiver_start(receiver *rx, pthread_t *t)
{
    memset(rx, 0, sizeof *rx);
    rx->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (rx->fd < 0 || bind(rx->fd, (struct sockaddr *)&sa, sizeof sa) || listen(rx->fd, 4) ||
        getsockname(rx->fd, (struct sockaddr *)&sa, &sl))
        return false;
    rx->port = ntohs(sa.sin_port);
    return pthread_create(t, NULL, receive_one, rx) == 0;
}

/* Value of header `name` in the raw request, into out. */
static bool header_of(const receiver *rx, const char *name, char *out, size_t len)
{
    char key[64];
    snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *p = strcasestr(rx->request, key), *end = strstr(rx->request, "\r\n\r\n");
    if (!p || p > end) return false;
    p += strlen(key);
    size_t n = strcspn(p, "\r");
    if (n >= len) return false;
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

static void test_formats(void)
{
    CHECK(!webhooks_register_format(E, &test_format), "a format name is registered only once");
    webhook_format unnamed = {.name = ""};
    CHECK(!webhooks_register_format(E, &unnamed), "a format needs a name");
    CHECK(webhooks_find_format(E, "tickettailor") == NULL, "the engine brings no vendor's format");

    webhook_subscription sub;
    bo_error err = {0};
    CHECK(webhook_subscription_create(E, &A, DEAD_URL, "nope", NULL, 0, NULL, NULL, &sub, &err) == BO_INVALID &&
              !strcmp(err.field, "format"),
          "an unregistered format is refused (field format)");
    memset(&err, 0, sizeof err);
    CHECK(webhook_subscription_create(E, &A, DEAD_URL, NULL, NULL, 0, NULL, NULL, &sub, &err) == BO_INVALID &&
              !strcmp(err.field, "format"),
          "a subscription needs a format");

    receiver rx;
    pthread_t t;
    bool listening = receiver_start(&rx, &t);
    CHECK(listening, "a receiver listens on 127.0.0.1");
    if (!listening) return;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/in", rx.port);
    const char *events[] = {"EVENT.UPDATED"};
    CHECK(webhook_subscription_create(E, &A, url, TEST_FORMAT, events, 1, TEST_SECRET, NULL, &sub, &err) == BO_OK,
          "a subscription in the test's format");
    if (!sub.id) return;
    CHECK(sub.format && !strcmp(sub.format, TEST_FORMAT) && sub.secret && !strcmp(sub.secret, TEST_SECRET) &&
              !strcmp(sub.events, "EVENT.UPDATED"),
          "the subscription shows its format, events and (this once) secret");
    char sub_id[48];
    snprintf(sub_id, sizeof sub_id, "%s", sub.id);
    webhook_subscription_free(&sub);

    record_ctx x = {.object_id = "fmt1", .ev = EV_EVENT_UPDATED, .object = "{\"id\":\"fmt1\",\"name\":\"Gala\"}"};
    CHECK(store_write(ST, record_event, &x) == DB_OK, "event recorded");
    double t0 = now_s();
    while (!__atomic_load_n(&rx.got, __ATOMIC_ACQUIRE) && now_s() - t0 < 5) sleep_ms(10);
    CHECK(__atomic_load_n(&rx.got, __ATOMIC_ACQUIRE), "the delivery reached the receiver");
    if (!__atomic_load_n(&rx.got, __ATOMIC_ACQUIRE)) shutdown(rx.fd, SHUT_RDWR); /* ends the accept */
    pthread_join(t, NULL);
    close(rx.fd);
    if (rx.got) {
        const char *body = strstr(rx.request, "\r\n\r\n");
        body = body ? body + 4 : "";
        char sig[128] = "", fmt[32] = "", want[65];
        hmac_sha256_hex(TEST_SECRET, strlen(TEST_SECRET), body, strlen(body), want);
        CHECK(header_of(&rx, "X-Test-Signature", sig, sizeof sig) && !strcmp(sig, want),
              "signed by the format's own function, over the body sent");
        CHECK(header_of(&rx, "X-Test-Format", fmt, sizeof fmt) && !strcmp(fmt, "plain"),
              "every header line the format gives is sent");
        CHECK(!strcasestr(rx.request, "tickettailor"), "nothing of another vendor's format is sent");
        json_t *doc = json_loads(body, 0, NULL);
        json_t *data = json_object_get(doc, "data");
        CHECK(doc && jstr(doc, "delivery") && !strncmp(jstr(doc, "delivery"), "wh_", 3) && jstr(doc, "type") &&
                  !strcmp(jstr(doc, "type"), "EVENT.UPDATED"),
              "the format's envelope, with the delivery's id and event");
        CHECK(jstr(doc, "url") && !strcmp(jstr(doc, "url"), "/test/event/fmt1") && jstr(data, "ref") &&
                  !strcmp(jstr(data, "ref"), "fmt1") && jstr(data, "account") && !strcmp(jstr(data, "account"), A.id),
              "the format's payload and resource URL, built from the canonical object");
        json_decref(doc);
    }
    /* the success is recorded */
    bool delivered = false;
    for (int i = 0; i < 100 && !delivered; i++) {
        webhook_delivery_list list;
        if (webhook_deliveries_list(E, &A, sub_id, &list) == BO_OK) {
            const webhook_delivery *d = list.n ? &list.items[0] : NULL;
            delivered = d && !strcmp(d->status, "delivered") && d->has_status_code && d->last_status_code == 200;
        }
        webhook_delivery_list_free(&list);
        if (!delivered) sleep_ms(20);
    }
    CHECK(delivered, "the delivery is recorded as delivered (200)");
    CHECK(webhook_subscription_delete(E, &A, sub_id, &err) == BO_OK, "format subscription deleted");
}

static db_status ask_wanted(db_conn *c, void *arg) { return events_wanted(c, A.id, arg); }

/* What a booking's transaction would be told. */
static bool wanted_now(void)
{
    bool any = false;
    return store_write(ST, ask_wanted, &any) == DB_OK && any;
}

/* Deliveries of the subscription attempted at least once. */
static int attempted(const char *sub_id)
{
    webhook_delivery_list list;
    int n = 0;
    if (webhook_deliveries_list(E, &A, sub_id, &list) != BO_OK) return 0;
    for (size_t i = 0; i < list.n; i++) n += list.items[i].attempts >= 1;
    webhook_delivery_list_free(&list);
    return n;
}

/* Seconds until n deliveries of the subscription were attempted, or -1
 * after timeout_s. */
static double attempted_after(const char *sub_id, int n, double timeout_s)
{
    double t0 = now_s();
    while (now_s() - t0 < timeout_s) {
        if (attempted(sub_id) >= n) return now_s() - t0;
        sleep_ms(10);
    }
    return -1;
}

static void test_idle(void)
{
    sleep_ms(300); /* the worker's first look */
    CHECK(writes_while_idle(ST, 1500) == 0, "an idle worker runs no write transaction");
}

static void test_wake_and_cache(const char *uri)
{
    CHECK(!wanted_now(), "events_wanted: no subscription yet");
    const char *events[] = {"EVENT.UPDATED"};
    webhook_subscription sub;
    bo_error err;
    CHECK(webhook_subscription_create(E, &A, DEAD_URL, TEST_FORMAT, events, 1, NULL, NULL, &sub, &err) == BO_OK,
          "subscription created");
    if (!sub.id) return;
    char sub_id[48];
    snprintf(sub_id, sizeof sub_id, "%s", sub.id);
    webhook_subscription_free(&sub);
    CHECK(wanted_now(), "events_wanted sees this process's new subscription at once");

    /* in this process: the commit hook */
    record_ctx x = {.object_id = "ev_local", .ev = EV_EVENT_UPDATED};
    CHECK(store_write(ST, record_event, &x) == DB_OK, "event recorded");
    double t = attempted_after(sub_id, 1, 5);
    printf("# local commit to attempt: %.3f s\n", t);
    CHECK(t >= 0 && t < 0.5, "a commit that records a delivery wakes the worker at once");
    sleep_ms(200); /* the attempt's record */
    CHECK(writes_while_idle(ST, 1500) == 0, "with only a retry due later the worker stays idle");

    /* another store on the same database, as a second server process: no
     * hook of ours runs, so only LISTEN (PostgreSQL) or the recheck wake us */
    char *e2 = NULL;
    store *other = store_open(uri, &e2);
    CHECK(other != NULL, "a second store opens");
    if (other) {
        x.object_id = "ev_remote";
        CHECK(store_write(other, record_event, &x) == DB_OK, "event recorded through the second store");
        bool pg = store_dialect(ST) == DB_DIALECT_POSTGRES;
        double t2 = attempted_after(sub_id, 2, 8);
        printf("# other store's commit to attempt: %.3f s\n", t2);
        if (pg) CHECK(t2 >= 0 && t2 < 1.0, "PostgreSQL: another process's commit wakes the worker (LISTEN)");
        else CHECK(t2 >= 0 && t2 < 7.0, "SQLite: another process's delivery is picked up by the recheck");
        store_close(other);
    }
    free(e2);

    CHECK(webhook_subscription_delete(E, &A, sub_id, &err) == BO_OK, "subscription deleted");
    CHECK(!wanted_now(), "events_wanted sees the deletion at once");
}

/* ---------- SSRF: private targets are refused ---------- */

static bool allowed_literal(const char *ip)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) v4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) v6->sin6_family = AF_INET6;
    else return false;
    return webhooks_address_allowed(E, (struct sockaddr *)&ss);
}

static void test_ssrf_subscribe(void)
{
    /* this engine allows 127.0.0.1 only */
    static const char *refused[] = {
        "http://10.0.0.1/h",          "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/h",
        "http://0.0.0.0:80/",         "http://192.168.1.1/h",  "http://172.16.5.4/h",  "http://100.64.0.1/h",
        "http://127.0.0.2:9/h",       "https://[fc00::1]/h",   "http://[fe80::1]/h",   "http://[::ffff:10.0.0.1]/h",
        "http://[::]/h",              "http://0/h",            "http://2130706434/h", /* 127.0.0.2 */
        "http://no-such-host.invalid/h",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        webhook_subscription sub;
        bo_error err = {0};
        bo_status st = webhook_subscription_create(E, &A, refused[i], TEST_FORMAT, NULL, 0, NULL, NULL, &sub, &err);
        char what[160];
        snprintf(what, sizeof what, "subscription to %s is refused (invalid_url, field url)", refused[i]);
        CHECK(st == BO_INVALID && !strcmp(err.code, "invalid_url") && !strcmp(err.field, "url"), what);
        webhook_subscription_free(&sub);
    }
    CHECK(allowed_literal("127.0.0.1"), "an address on the allow list is allowed");
    CHECK(allowed_literal("::ffff:127.0.0.1"), "... also IPv4-mapped");
    CHECK(!allowed_literal("127.0.0.2") && !allowed_literal("::1") && !allowed_literal("10.1.2.3") &&
              !allowed_literal("172.31.255.255") && !allowed_literal("169.254.169.254") &&
              !allowed_literal("100.127.0.1") && !allowed_literal("0.0.0.0") && !allowed_literal("fd12::1") &&
              !allowed_literal("fe80::1") && !allowed_literal("::") && !allowed_literal("::ffff:192.168.0.1") &&
              !allowed_literal("64:ff9b::a00:1") && !allowed_literal("224.0.0.1") && !allowed_literal("ff02::1"),
          "loopback, private, link-local, CGNAT, unspecified and multicast addresses are not");
    CHECK(allowed_literal("8.8.8.8") && allowed_literal("172.32.0.1") && allowed_literal("100.128.0.1") &&
              allowed_literal("2606:4700:4700::1111"),
          "public addresses are (classified only; nothing is sent)");
    webhook_net nets[WEBHOOK_MAX_ALLOW];
    int n = 0;
    const char *why = NULL;
    CHECK(webhooks_parse_allow(" 127.0.0.1, ::1 ,10.1.0.0/16", nets, WEBHOOK_MAX_ALLOW, &n, &why) && n == 3 &&
              nets[2].prefix == 16,
          "an allow list parses (addresses and CIDR)");
    CHECK(!webhooks_parse_allow("localhost", nets, WEBHOOK_MAX_ALLOW, &n, &why) &&
              !webhooks_parse_allow("10.0.0.0/33", nets, WEBHOOK_MAX_ALLOW, &n, &why),
          "an allow list of names or bad prefixes is refused");
}

/* A subscription whose host was fine when made but is not now (as after a
 * changed DNS answer): stored directly, bypassing the subscription check. Its
 * delivery must never connect: the receiver on 127.0.0.2 (loopback, not on the
 * allow list) sees no connection, and the attempt fails naming the refusal. */
static void test_ssrf_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr);
    socklen_t sl = sizeof sa;
    bool listening = fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof sa) && !listen(fd, 4) &&
                     !getsockname(fd, (struct sockaddr *)&sa, &sl);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.2:%d/in", listening ? ntohs(sa.sin_port) : 9);
    char *sealed = secret_encrypt(TEST_SECRET);
    store_subscription sub = {.id = "ws_ssrf_connect", .account_id = A.id, .url = url, .format = TEST_FORMAT,
                              .events = "EVENT.UPDATED", .active = true};
    int64_t version = 0;
    CHECK(store_subscription_create(ST, &sub, sealed, clock_now(), &version) == STORE_OK,
          "a subscription to 127.0.0.2 stored past the check");
    free(sealed);
    events_subscriptions_changed(A.id, version);
    record_ctx x = {.object_id = "ev_ssrf", .ev = EV_EVENT_UPDATED};
    CHECK(store_write(ST, record_event, &x) == DB_OK, "event recorded");
    CHECK(attempted_after(sub.id, 1, 8) >= 0, "its delivery is attempted");
    webhook_delivery_list list = {0};
    const char *last_error = NULL;
    if (webhook_deliveries_list(E, &A, sub.id, &list) == BO_OK && list.n) last_error = list.items[0].last_error;
    printf("# last_error: %s\n", last_error ? last_error : "(none)");
    CHECK(last_error && strstr(last_error, "refused") && strstr(last_error, "127.0.0.2"),
          "the attempt failed naming the refused address");
    CHECK(list.n == 1 && !strcmp(list.items[0].status, "pending"),
          "a refused connect counts as a failed attempt (retried later)");
    webhook_delivery_list_free(&list);
    if (listening) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        CHECK(poll(&p, 1, 0) == 0, "nothing connected to the disallowed address");
    }
    if (fd >= 0) close(fd);
    bo_error err;
    CHECK(webhook_subscription_delete(E, &A, sub.id, &err) == BO_OK, "subscription deleted");
}

int main(void)
{
    secure_init();
    test_server_key(7);
    char path[128];
    const char *uri = test_db_uri("webhooks", path);
    ST = test_store_open(uri);
    if (!ST) return check_summary();
    /* no reaper (test_reaper covers it); the receivers here are on 127.0.0.1 */
    engine_config cfg = {.default_hold_seconds = 900, .start_workers = true, .webhook_allow = "127.0.0.1",
                         .catalog_codec = &catalog_doc_json_codec};
    E = engine_open(ST, &cfg);
    CHECK(test_account(E, "w", "Hooks", &A), "account created");
    CHECK(webhooks_register_format(E, &test_format), "the test's format registers");
    test_idle();
    test_wake_and_cache(uri);
    test_formats();
    test_ssrf_subscribe();
    test_ssrf_connect();
    return test_finish(E, ST, uri, path);
}
