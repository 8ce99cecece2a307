/* Webhook subscriptions and the delivery worker (see webhooks.h). */
#include "core/webhooks.h"
#include "core/internal.h"
#include "store/outbox.h"
#include "util/log.h"
#include "util/objtext.h"
#include "util/secure.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* deliveries per claim and per record transaction: each is a write queued
 * behind the sale's writers on SQLite, so a busy moment needs few of them; a
 * pass is two such waits, so the worker keeps up with at most BATCH per two
 * write latencies (64 fell behind a 250/s sale at ~100 ms each) */
#define BATCH 128
/* idle connections kept open between batches: a batch's worth, so one busy
 * endpoint is not reconnected to. No cap per host: a capped batch would queue
 * its sends, and the queued time counts against each send's timeout */
#define KEPT_CONNECTIONS BATCH
/* sends in flight at once: a batch opens at most this many connections at a
 * time, so a receiver is not hit by a batch's worth of connects at once */
#define SENDS_AT_ONCE 16
/* longer than a pass of BATCH sends all timing out, SENDS_AT_ONCE at a time
 * (BATCH / SENDS_AT_ONCE * SEND_TIMEOUT_SECONDS = 80 s): a lease never runs
 * out while its send may still succeed */
#define LEASE_SECONDS 120
#define SEND_TIMEOUT_SECONDS 10

static const char *known_events[] = {"ORDER.CREATED",         "ORDER.UPDATED", "ISSUED_TICKET.CREATED",
                                     "ISSUED_TICKET.UPDATED", "EVENT.CREATED", "EVENT.UPDATED",
                                     "EVENT.DELETED",         "ORDER.PAID",    "ISSUED_TICKET.REFUND_REQUESTED",
                                     NULL};

/* ---------- formats ---------- */

bool webhooks_register_format(engine *e, const webhook_format *f)
{
    size_t n = atomic_load_explicit(&e->webhook_nformats, memory_order_acquire);
    if (!f || !f->name || !*f->name || n >= WEBHOOK_MAX_FORMATS || webhooks_find_format(e, f->name)) return false;
    e->webhook_formats[n] = *f;
    atomic_store_explicit(&e->webhook_nformats, n + 1, memory_order_release);
    return true;
}

const webhook_format *webhooks_find_format(engine *e, const char *name)
{
    size_t n = atomic_load_explicit(&e->webhook_nformats, memory_order_acquire);
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(e->webhook_formats[i].name, name)) return &e->webhook_formats[i];
    return NULL;
}

bool webhook_header_add(webhook_headers *h, const char *fmt, ...)
{
    if (h->n >= WEBHOOK_MAX_HEADERS) return false;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(h->line[h->n], WEBHOOK_HEADER_MAX, fmt, ap);
    va_end(ap);
    if (len < 0 || len >= WEBHOOK_HEADER_MAX || strpbrk(h->line[h->n], "\r\n")) return false;
    h->n++;
    return true;
}

/* ---------- where deliveries may go ---------- */

bool webhooks_parse_allow(const char *list, webhook_net *out, int max, int *n, const char **why)
{
    *n = 0;
    if (!list) return true;
    const char *p = list;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p)) p++;
        if (!*p) break;
        size_t len = strcspn(p, ", \t");
        char item[64];
        if (len >= sizeof item) return *why = "an entry is too long", false;
        memcpy(item, p, len);
        item[len] = 0;
        p += len;
        if (*n >= max) return *why = "too many entries", false;
        webhook_net *w = &out[*n];
        memset(w, 0, sizeof *w);
        char *slash = strchr(item, '/');
        if (slash) *slash = 0;
        if (inet_pton(AF_INET, item, w->addr) == 1) w->family = AF_INET, w->prefix = 32;
        else if (inet_pton(AF_INET6, item, w->addr) == 1) w->family = AF_INET6, w->prefix = 128;
        else return *why = "entries must be IP addresses or CIDR networks (127.0.0.1, ::1, 10.0.0.0/8)", false;
        if (slash) {
            char *end;
            long bits = strtol(slash + 1, &end, 10);
            if (end == slash + 1 || *end || bits < 0 || bits > w->prefix) return *why = "bad CIDR prefix length", false;
            w->prefix = (int)bits;
        }
        (*n)++;
    }
    return true;
}

static bool prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)bytes)) return false;
    if (!rest) return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[bytes] & mask) == (net[bytes] & mask);
}

/* Whether an IPv4 address (network order bytes) is public. */
static bool ipv4_public(const unsigned char *a)
{
    static const struct {
        unsigned char net[4];
        int bits;
    } blocked[] = {
        {{0, 0, 0, 0}, 8},       /* "this network", 0.0.0.0 */
        {{10, 0, 0, 0}, 8},      /* private */
        {{100, 64, 0, 0}, 10},   /* carrier-grade NAT */
        {{127, 0, 0, 0}, 8},     /* loopback */
        {{169, 254, 0, 0}, 16},  /* link-local, cloud metadata */
        {{172, 16, 0, 0}, 12},   /* private */
        {{192, 0, 0, 0}, 24},    /* IETF protocol assignments */
        {{192, 0, 2, 0}, 24},    /* documentation */
        {{192, 88, 99, 0}, 24},  /* 6to4 relay anycast */
        {{192, 168, 0, 0}, 16},  /* private */
        {{198, 18, 0, 0}, 15},   /* benchmarking */
        {{198, 51, 100, 0}, 24}, /* documentation */
        {{203, 0, 113, 0}, 24},  /* documentation */
        {{224, 0, 0, 0}, 4},     /* multicast */
        {{240, 0, 0, 0}, 4},     /* reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
        if (prefix_match(a, blocked[i].net, blocked[i].bits)) return false;
    return true;
}

static bool ipv6_public(const unsigned char *a)
{
    static const unsigned char zero[16] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) return ipv4_public(a + 12);
    if (!memcmp(a, zero, 12)) return false;                   /* ::, ::1, IPv4-compatible */
    if ((a[0] & 0xfe) == 0xfc) return false;                  /* fc00::/7 unique local */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return false;  /* fe80::/10 link-local */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return false;  /* fec0::/10 site-local */
    if (a[0] == 0xff) return false;                           /* multicast */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return false; /* documentation */
    if (a[0] == 0x20 && a[1] == 0x02) return ipv4_public(a + 2);                       /* 6to4 */
    return true;
}

bool webhooks_address_allowed(engine *e, const struct sockaddr *sa)
{
    unsigned char v4[4], v6[16];
    const unsigned char *a;
    int family;
    if (!sa) return false;
    if (sa->sa_family == AF_INET) {
        memcpy(v4, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        a = v4, family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(v6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(v6, mapped, 12)) memcpy(v4, v6 + 12, 4), a = v4, family = AF_INET; /* as the IPv4 it is */
        else a = v6, family = AF_INET6;
    } else {
        return false; /* no Unix sockets or anything else */
    }
    for (int i = 0; i < e->webhook_nallow; i++)
        if (e->webhook_allow[i].family == family && prefix_match(a, e->webhook_allow[i].addr, e->webhook_allow[i].prefix))
            return true;
    return family == AF_INET ? ipv4_public(a) : ipv6_public(a);
}

static void describe_address(const struct sockaddr *sa, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip, sizeof ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip, sizeof ip);
    snprintf(out, len, "%s", ip);
}

bool webhooks_host_allowed(engine *e, const char *host, const char *what, char *why, size_t why_len)
{
    char name[256];
    size_t len = strlen(host);
    if (host[0] == '[' && len > 2 && host[len - 1] == ']') snprintf(name, sizeof name, "%.*s", (int)(len - 2), host + 1);
    else snprintf(name, sizeof name, "%s", host);
    char *zone = strchr(name, '%'); /* an IPv6 zone id: link-local only, never allowed in the address test */
    if (zone) *zone = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(why, why_len, "the %s %.100s does not resolve", what, name);
        return false;
    }
    bool ok = false;
    char first[INET6_ADDRSTRLEN] = "";
    for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
        if (webhooks_address_allowed(e, ai->ai_addr)) ok = true;
        else if (!*first) describe_address(ai->ai_addr, first, sizeof first);
    }
    freeaddrinfo(res);
    if (!ok)
        snprintf(why, why_len, "the %s %.100s is a private, loopback or reserved address (%s); only public addresses are reached",
                 what, name, first);
    return ok;
}

/* Whether a subscription may name this URL's host (webhooks_host_allowed).
 * False with why (a message) otherwise. */
static bool url_host_allowed(engine *e, const char *url, char *why, size_t why_len)
{
    CURLU *u = curl_url();
    char *host = NULL;
    bool ok = false;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        !host || !*host)
        snprintf(why, why_len, "url must be an http:// or https:// URL with a host");
    else
        ok = webhooks_host_allowed(e, host, "url's host", why, why_len);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

curl_socket_t webhooks_open_socket(engine *e, curlsocktype purpose, struct curl_sockaddr *address, char *why,
                                   size_t why_len)
{
    if (purpose != CURLSOCKTYPE_IPCXN || !webhooks_address_allowed(e, &address->addr)) {
        char ip[INET6_ADDRSTRLEN];
        describe_address(&address->addr, ip, sizeof ip);
        snprintf(why, why_len, "refused to connect to %s: a private, loopback or reserved address", ip);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* ---------- subscriptions ---------- */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

void webhook_subscription_free(webhook_subscription *s)
{
    if (!s) return;
    free(s->id);
    free(s->url);
    free(s->format);
    free(s->events);
    free(s->secret);
    free(s->name);
    memset(s, 0, sizeof *s);
}

void webhook_subscriptions_free(webhook_subscriptions *l)
{
    for (size_t i = 0; l && i < l->n; i++) webhook_subscription_free(&l->items[i]);
    if (l) free(l->items), l->items = NULL, l->n = 0;
}

static void sub_collect(void *ctx, const store_subscription *sub)
{
    webhook_subscriptions *l = ctx;
    webhook_subscription *grown = realloc(l->items, (l->n + 1) * sizeof *grown);
    if (!grown) return;
    l->items = grown;
    l->items[l->n++] = (webhook_subscription){
        .id = dup_or_null(sub->id), .url = dup_or_null(sub->url), .format = dup_or_null(sub->format),
        .events = dup_or_null(sub->events), .active = sub->active, .failing = sub->failing,
        .failing_since = sub->failing_since, .created_at = sub->created_at, .name = dup_or_null(sub->name)};
}

/* Whether a comma-separated list names `name`. */
static bool listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && !strncmp(p, name, len)) return true;
        p += n + (p[n] == ',');
    }
    return false;
}

bo_status webhook_subscription_create(engine *e, const account *a, const char *url, const char *format,
                                      const char *const *events, size_t nevents, const char *secret, const char *label,
                                      webhook_subscription *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    if (label && strlen(label) > 200) return bo_fail(err, BO_INVALID, "invalid_name", "name", "name is at most 200 bytes");
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || strlen(url) > 2000 || strpbrk(url, " \r\n"))
        return bo_fail(err, BO_INVALID, "invalid_url", "url", "url must be an http:// or https:// URL");
    char why[300];
    if (!url_host_allowed(e, url, why, sizeof why)) return bo_fail(err, BO_INVALID, "invalid_url", "url", "%s", why);
    if (!webhooks_find_format(e, format))
        return bo_fail(err, BO_INVALID, "invalid_format", "format", "unknown webhook format %.40s",
                       format ? format : "(none)");
    char list[512] = "";
    for (size_t i = 0; i < nevents; i++) {
        const char *name = events[i];
        int k;
        for (k = 0; name && known_events[k] && strcmp(known_events[k], name); k++) {}
        if (!name || !known_events[k])
            return bo_fail(err, BO_INVALID, "invalid_events", "events", "unknown event %.40s",
                           name ? name : "(not a string)");
        if (listed(list, name)) continue; /* each known name at most once, so the list fits */
        if (*list) strcat(list, ",");
        strcat(list, name);
    }
    if (!*list) strcpy(list, "*");
    char generated[80];
    if (!secret) {
        rand_token("whsec_", 24, generated, sizeof generated);
        secret = generated;
    } else if (strlen(secret) < 8 || strlen(secret) > 200) {
        return bo_fail(err, BO_INVALID, "invalid_secret", "secret", "secret must be 8 to 200 characters");
    }
    char id[48];
    rand_token("ws_", 12, id, sizeof id);
    char *sealed = secret_encrypt(secret);
    store_subscription sub = {.id = id, .account_id = a->id, .url = url, .format = format, .events = list,
                              .active = true, .name = label ? label : ""};
    int64_t version = 0;
    store_status st = store_subscription_create(e->st, &sub, sealed, clock_now(), &version);
    free(sealed);
    if (st != STORE_OK) return bo_from_store(st, err);
    events_subscriptions_changed(a->id, version);
    if (webhook_subscription_get(e, a, id, out) != BO_OK) return bo_fail(err, BO_INTERNAL, "internal_error", "", "?");
    out->secret = strdup(secret);
    return BO_OK;
}

bo_status webhook_subscription_list(engine *e, const account *a, webhook_subscriptions *out)
{
    memset(out, 0, sizeof *out);
    if (store_subscriptions_list(e->st, a->id, NULL, sub_collect, out) != STORE_OK) {
        webhook_subscriptions_free(out);
        return BO_INTERNAL;
    }
    return BO_OK;
}

bo_status webhook_subscription_get(engine *e, const account *a, const char *id, webhook_subscription *out)
{
    memset(out, 0, sizeof *out);
    if (!id) return BO_NOT_FOUND;
    webhook_subscriptions list = {0};
    store_status st = store_subscriptions_list(e->st, a->id, id, sub_collect, &list);
    bool found = st == STORE_OK && list.n > 0;
    if (found) {
        *out = list.items[0];
        list.items[0] = (webhook_subscription){0}; /* handed over */
    }
    webhook_subscriptions_free(&list);
    return found ? BO_OK : st == STORE_OK || st == STORE_NOT_FOUND ? BO_NOT_FOUND : BO_INTERNAL;
}

bo_status webhook_subscription_delete(engine *e, const account *a, const char *id, bo_error *err)
{
    int64_t version = 0;
    store_status st = store_subscription_delete(e->st, a->id, id, &version);
    if (st == STORE_NOT_FOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such subscription");
    if (st != STORE_OK) return bo_from_store(st, err);
    events_subscriptions_changed(a->id, version);
    return BO_OK;
}

#define DELIVERIES_LIMIT 500

void webhook_delivery_list_free(webhook_delivery_list *l)
{
    for (size_t i = 0; l && i < l->n; i++) {
        free(l->items[i].event_id);
        free(l->items[i].event);
        free(l->items[i].status);
        free(l->items[i].last_error);
    }
    if (l) free(l->items), l->items = NULL, l->n = 0;
}

static void delivery_collect(void *ctx, const store_delivery *d)
{
    webhook_delivery_list *l = ctx;
    webhook_delivery *grown = realloc(l->items, (l->n + 1) * sizeof *grown);
    if (!grown) return;
    l->items = grown;
    l->items[l->n++] = (webhook_delivery){
        .event_id = dup_or_null(d->event_id), .event = dup_or_null(d->event), .status = dup_or_null(d->status),
        .attempts = d->attempts, .has_status_code = d->has_status_code, .last_status_code = d->last_status_code,
        .last_error = dup_or_null(d->last_error), .attempted = d->attempted, .last_attempt_at = d->last_attempt_at,
        .next_due = d->next_due, .created_at = d->created_at};
}

bo_status webhook_deliveries_list(engine *e, const account *a, const char *subscription_id, webhook_delivery_list *out)
{
    memset(out, 0, sizeof *out);
    store_status st = store_deliveries_list(e->st, a->id, subscription_id, DELIVERIES_LIMIT, delivery_collect, out);
    if (st != STORE_OK) {
        webhook_delivery_list_free(out);
        return st == STORE_NOT_FOUND ? BO_NOT_FOUND : BO_INTERNAL;
    }
    return BO_OK;
}

/* ---------- delivery ---------- */

typedef struct {
    char event_id[48], sub_id[48];
    int64_t attempts;
    /* loaded */
    char *url, *secret, *body;
    char account_id[40];
    const webhook_format *format;
    /* sent */
    long status_code;
    char error[128];
    bool ok;
    bool refused; /* a connection to a disallowed address was refused; error says which */
    engine *e;
    CURL *curl;
    struct curl_slist *headers;
} delivery;

/* The account a batch's deliveries belong to, read once per account and
 * batch rather than once per delivery. */
typedef struct {
    char id[40];
    bool found;
    account a;
} account_memo;

static const account *memo_account(engine *e, account_memo *m, const char *id)
{
    if (strcmp(m->id, id)) {
        snprintf(m->id, sizeof m->id, "%s", id);
        m->found = account_by_id(e, id, &m->a) == BO_OK;
    }
    return m->found ? &m->a : NULL;
}

/* The request body of one claimed delivery (x, read with the claim), in its
 * subscription's format; false with d->error set when it cannot be built. */
static bool prepare(engine *e, delivery *d, store_delivery_job *x, account_memo *accounts)
{
    snprintf(d->account_id, sizeof d->account_id, "%s", x->account_id);
    d->url = x->url;
    x->url = NULL; /* d's now */
    d->format = webhooks_find_format(e, x->format);
    if (!d->format) snprintf(d->error, sizeof d->error, "webhook format %.40s is not registered", x->format);
    d->secret = secret_decrypt(x->secret_sealed);
    /* the outbox recorded {resource, object_id, account_id, object} */
    char *object = objtext_member(x->payload, "object");
    char *resource = objtext_string(x->payload, "resource");
    const account *a = d->format && d->format->body ? memo_account(e, accounts, d->account_id) : NULL;
    if (a) {
        webhook_event_info ev = {.id = d->event_id, .event = x->event, .resource = resource,
                                 .resource_url = x->resource_url, .created_at = x->created_at};
        d->body = d->format->body(e, a, &ev, object ? object : "null");
    } else if (d->format && !d->format->body) {
        d->body = strdup(object ? object : "null");
    }
    free(object);
    free(resource);
    store_delivery_job_free(x);
    if (d->format && !d->secret) snprintf(d->error, sizeof d->error, "the signing secret could not be unsealed");
    else if (d->format && !d->body) snprintf(d->error, sizeof d->error, "the webhook body could not be built");
    return d->format && d->secret && d->body;
}

static size_t discard(char *p, size_t s, size_t n, void *u) { return s * n; }

/* Every connection a delivery makes passes here with the address curl is
 * about to connect to (after its own DNS lookup, so what was checked at
 * subscription cannot have changed since): a disallowed one is never opened. */
static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
    delivery *d = arg;
    curl_socket_t fd = webhooks_open_socket(d->e, purpose, address, d->error, sizeof d->error);
    if (fd == CURL_SOCKET_BAD) d->refused = true;
    return fd;
}

/* A multi handle for one batch: the engine's kept one (its connection cache
 * holds the keep-alive connections of earlier batches) when free, else a
 * fresh one. *kept says which, for done_with_multi. */
static CURLM *multi_for_batch(engine *e, bool *kept)
{
    *kept = pthread_mutex_trylock(&e->webhook_pool_lock) == 0;
    if (*kept && !e->webhook_pool) {
        e->webhook_pool = curl_multi_init();
        if (e->webhook_pool) curl_multi_setopt(e->webhook_pool, CURLMOPT_MAXCONNECTS, (long)KEPT_CONNECTIONS);
    }
    if (*kept && e->webhook_pool) return e->webhook_pool;
    if (*kept) pthread_mutex_unlock(&e->webhook_pool_lock);
    *kept = false;
    return curl_multi_init();
}

static void done_with_multi(engine *e, CURLM *multi, bool kept)
{
    if (kept) pthread_mutex_unlock(&e->webhook_pool_lock);
    else curl_multi_cleanup(multi);
}

static void finish(CURLM *multi, CURLMsg *m);

/* Sends the prepared deliveries concurrently. A connection is checked when it
 * is opened (open_checked); a kept one was checked then, and the allow list
 * does not change while the engine runs, so reusing it crosses no rule. */
static void send_all(engine *e, delivery *d, int n)
{
    bool kept;
    CURLM *multi = multi_for_batch(e, &kept);
    if (!multi) {
        for (int i = 0; i < n; i++) snprintf(d[i].error, sizeof d[i].error, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!d[i].body) continue;
        webhook_headers signature = {.n = 0};
        if (d[i].format->sign && !d[i].format->sign(d[i].secret, d[i].body, clock_now(), &signature)) {
            snprintf(d[i].error, sizeof d[i].error, "the webhook body could not be signed");
            continue;
        }
        d[i].headers = curl_slist_append(NULL, "Content-Type: application/json");
        for (int h = 0; h < signature.n; h++) d[i].headers = curl_slist_append(d[i].headers, signature.line[h]);
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, d[i].url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, d[i].body);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, d[i].headers);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)SEND_TIMEOUT_SECONDS);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_PROXY, ""); /* straight to the checked address: no proxy from the environment */
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &d[i]);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_PRIVATE, &d[i]);
        d[i].curl = c;
    }
    /* at most SENDS_AT_ONCE in flight, the next added as one finishes: a
     * handle's timeout runs from when it is added, so none spends it queued */
    int next = 0, in_flight = 0;
    for (;;) {
        for (; next < n && in_flight < SENDS_AT_ONCE; next++)
            if (d[next].curl && curl_multi_add_handle(multi, d[next].curl) == CURLM_OK) in_flight++;
            else if (d[next].curl) snprintf(d[next].error, sizeof d[next].error, "the send could not be started");
        if (!in_flight) break;
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        bool finished = false;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            finished = true;
            in_flight--;
            finish(multi, m);
        }
        if (!finished && running) curl_multi_poll(multi, NULL, 0, 200, NULL);
    }
    for (int i = 0; i < n; i++) {
        if (d[i].curl) curl_easy_cleanup(d[i].curl); /* never added */
        curl_slist_free_all(d[i].headers);
    }
    done_with_multi(e, multi, kept);
}

/* Judges one finished send, and hands its connection back to the multi's
 * cache for the next send to the same host. */
static void finish(CURLM *multi, CURLMsg *m)
{
    delivery *d1;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&d1);
    curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &d1->status_code);
    if (m->data.result != CURLE_OK && d1->refused) {
        /* d1->error names the refused address */
    } else if (m->data.result != CURLE_OK)
        snprintf(d1->error, sizeof d1->error, "%s", curl_easy_strerror(m->data.result));
    else if (d1->status_code >= 300 && d1->status_code < 400)
        snprintf(d1->error, sizeof d1->error, "redirect (%ld) is not followed", d1->status_code);
    else if (d1->status_code < 200 || d1->status_code >= 300)
        snprintf(d1->error, sizeof d1->error, "HTTP %ld", d1->status_code);
    d1->ok = m->data.result == CURLE_OK && d1->status_code >= 200 && d1->status_code < 300;
    curl_multi_remove_handle(multi, d1->curl);
    curl_easy_cleanup(d1->curl);
    d1->curl = NULL;
}

/* Claims (leases) what is due, sends it, records each attempt: a failure
 * marks its subscription failing, and one failing for
 * WEBHOOK_DISABLE_AFTER_SECONDS is disabled (which bumps the account's
 * subscription version, events_wanted's cache). */
int webhooks_deliver_due(engine *e)
{
    store_delivery_claimed *claims = calloc(BATCH, sizeof *claims);
    int n = 0;
    instant_us now = clock_now();
    if (!claims || store_deliveries_claim_jobs(e->st, now, now + LEASE_SECONDS * US_PER_SEC, claims, BATCH, &n) !=
                       STORE_OK || n == 0) {
        free(claims);
        return 0;
    }
    delivery *d = calloc((size_t)n, sizeof *d);
    account_memo accounts = {.id = ""};
    for (int i = 0; d && i < n; i++) {
        memcpy(d[i].event_id, claims[i].claim.event_id, sizeof d[i].event_id);
        memcpy(d[i].sub_id, claims[i].claim.subscription_id, sizeof d[i].sub_id);
        d[i].attempts = claims[i].claim.attempts;
        d[i].e = e;
        if (!claims[i].found) {
            snprintf(d[i].error, sizeof d[i].error, "event or subscription is gone");
        } else if (!prepare(e, &d[i], &claims[i].job, &accounts)) {
            free(d[i].body); /* not sent */
            d[i].body = NULL;
        }
    }
    for (int i = 0; i < n; i++) store_delivery_job_free(&claims[i].job);
    free(claims);
    if (!d) return 0; /* leased: retried when the lease ends */
    send_all(e, d, n);
    now = clock_now();
    store_delivery_result results[BATCH];
    for (int i = 0; i < n; i++) {
        int64_t attempts = d[i].attempts + 1;
        /* attempt n (n >= 2) comes n^4 seconds after the one before */
        int64_t wait = (attempts + 1) * (attempts + 1) * (attempts + 1) * (attempts + 1);
        results[i] = (store_delivery_result){
            .event_id = d[i].event_id,
            .subscription_id = d[i].sub_id,
            .ok = d[i].ok,
            .status = d[i].ok ? "delivered" : attempts >= WEBHOOK_MAX_ATTEMPTS ? "failed" : "pending",
            .attempts = attempts,
            .status_code = d[i].status_code,
            .error = d[i].ok ? NULL : d[i].error,
            .next_due = d[i].ok ? now : now + wait * US_PER_SEC,
        };
    }
    if (store_delivery_results_record(e->st, results, (size_t)n, now, WEBHOOK_DISABLE_AFTER_SECONDS * US_PER_SEC) !=
        STORE_OK)
        log_warn("webhooks: could not record %d attempt(s)", n);
    for (int i = 0; i < n; i++) {
        free(d[i].url);
        free(d[i].secret);
        free(d[i].body);
    }
    free(d);
    return n;
}

/* ---------- the worker (core/sender.c runs the loop) ---------- */

void webhooks_start(engine *e)
{
    e->webhook_sender = (sender){.name = "bo-webhooks", .next_due = store_deliveries_next_due,
                                 .deliver_due = webhooks_deliver_due};
    sender_start(&e->webhook_sender, e);
}

/* After engine_close set e->stopping. */
void webhooks_stop(engine *e)
{
    sender_stop(&e->webhook_sender);
    pthread_mutex_lock(&e->webhook_pool_lock);
    if (e->webhook_pool) curl_multi_cleanup(e->webhook_pool);
    e->webhook_pool = NULL;
    pthread_mutex_unlock(&e->webhook_pool_lock);
}
