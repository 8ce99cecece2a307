/* Webhook subscriptions and the delivery worker (see webhooks.h). */
#include "core/webhooks.h"
#include "core/internal.h"
#include "util/log.h"
#include "util/secure.h"
#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 16
#define LEASE_SECONDS 60
#define SEND_TIMEOUT_SECONDS 10

static const char *known_events[] = {"ORDER.CREATED",         "ORDER.UPDATED", "ISSUED_TICKET.CREATED",
                                     "ISSUED_TICKET.UPDATED", "EVENT.CREATED", "EVENT.UPDATED",
                                     "EVENT.DELETED",         NULL};

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

/* ---------- subscriptions ---------- */

typedef struct {
    const account *a;
    const char *id, *url, *format, *events, *sealed;
    json_t *out;
    int64_t changes;
    int64_t version; /* the account's subscription version after a change */
} sub_ctx;

static json_t *sub_from_row(db_rows *r)
{
    const char *events = db_text(r, 2);
    json_t *list = json_array();
    char *copy = strdup(events);
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcmp(t, "*")) json_array_append_new(list, json_string(t));
    free(copy);
    return json_pack("{s:s,s:s,s:s,s:o,s:b,s:o,s:I}", "id", db_text(r, 0), "url", db_text(r, 1), "format",
                     db_text(r, 6), "events", list, "active", (int)db_int(r, 3), "failing_since",
                     db_isnull(r, 4) ? json_null() : json_integer(db_int(r, 4)), "created_at",
                     (json_int_t)db_int(r, 5));
}

static db_status insert_sub(db_conn *c, void *arg)
{
    sub_ctx *x = arg;
    instant_us now = clock_now();
    db_status st = db_exec(c,
                           "INSERT INTO webhook_subscriptions (id, account_id, url, format, events, secret_sealed,"
                           " active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                           DB_ARGS(DB_TEXT(x->id), DB_TEXT(x->a->id), DB_TEXT(x->url), DB_TEXT(x->format),
                                   DB_TEXT(x->events), DB_TEXT(x->sealed), DB_INT(now), DB_INT(now)),
                           NULL);
    return st == DB_OK ? events_subscriptions_touch(c, x->a->id, &x->version) : st;
}

bo_status webhook_subscription_create(engine *e, const account *a, const char *url, const char *format,
                                      json_t *events, const char *secret, json_t **out, bo_error *err)
{
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || strlen(url) > 2000 || strpbrk(url, " \r\n"))
        return bo_fail(err, BO_INVALID, "invalid_url", "url", "url must be an http:// or https:// URL");
    if (!webhooks_find_format(e, format))
        return bo_fail(err, BO_INVALID, "invalid_format", "format", "unknown webhook format %.40s",
                       format ? format : "(none)");
    char list[512] = "";
    if (events && !json_is_null(events)) {
        if (!json_is_array(events)) return bo_fail(err, BO_INVALID, "invalid_events", "events", "events must be a list");
        size_t i;
        json_t *ev;
        json_array_foreach(events, i, ev)
        {
            const char *name = json_string_value(ev);
            int k;
            for (k = 0; name && known_events[k] && strcmp(known_events[k], name); k++) {}
            if (!name || !known_events[k])
                return bo_fail(err, BO_INVALID, "invalid_events", "events", "unknown event %.40s",
                               name ? name : "(not a string)");
            if (*list) strcat(list, ",");
            strcat(list, name);
        }
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
    sub_ctx x = {.a = a, .id = id, .url = url, .format = format, .events = list, .sealed = sealed};
    db_status st = store_write(e->st, insert_sub, &x);
    free(sealed);
    if (st != DB_OK) return bo_from_db(st, err);
    events_subscriptions_changed(a->id, x.version);
    if (webhook_subscription_get(e, a, id, out) != BO_OK) return bo_fail(err, BO_INTERNAL, "internal_error", "", "?");
    json_object_set_new(*out, "secret", json_string(secret));
    return BO_OK;
}

static db_status read_subs(db_conn *c, void *arg)
{
    sub_ctx *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, url, events, active, failing_since, created_at, format FROM webhook_subscriptions"
                            " WHERE account_id = ? AND (CAST(? AS TEXT) IS NULL OR id = ?) ORDER BY created_at, id",
                            DB_ARGS(DB_TEXT(x->a->id), DB_TEXT(x->id), DB_TEXT(x->id)), &r);
    if (st != DB_OK) return st;
    x->out = json_array();
    while (db_next(r)) json_array_append_new(x->out, sub_from_row(r));
    db_rows_free(r);
    return DB_OK;
}

bo_status webhook_subscription_list(engine *e, const account *a, json_t **out)
{
    sub_ctx x = {.a = a};
    if (store_read(e->st, read_subs, &x) != DB_OK) return BO_INTERNAL;
    *out = x.out;
    return BO_OK;
}

bo_status webhook_subscription_get(engine *e, const account *a, const char *id, json_t **out)
{
    sub_ctx x = {.a = a, .id = id};
    if (!id || store_read(e->st, read_subs, &x) != DB_OK) return BO_NOT_FOUND;
    json_t *one = json_array_get(x.out, 0);
    if (one) *out = json_incref(one);
    json_decref(x.out);
    return one ? BO_OK : BO_NOT_FOUND;
}

static db_status delete_sub(db_conn *c, void *arg)
{
    sub_ctx *x = arg;
    db_status st = db_exec(c, "DELETE FROM webhook_subscriptions WHERE id = ? AND account_id = ?",
                           DB_ARGS(DB_TEXT(x->id), DB_TEXT(x->a->id)), &x->changes);
    if (st == DB_OK && x->changes)
        st = db_exec(c, "UPDATE webhook_deliveries SET status = 'cancelled' WHERE subscription_id = ? AND status = 'pending'",
                     DB_ARGS(DB_TEXT(x->id)), NULL);
    if (st == DB_OK && x->changes) st = events_subscriptions_touch(c, x->a->id, &x->version);
    return st;
}

bo_status webhook_subscription_delete(engine *e, const account *a, const char *id, bo_error *err)
{
    sub_ctx x = {.a = a, .id = id};
    db_status st = store_write(e->st, delete_sub, &x);
    if (st != DB_OK) return bo_from_db(st, err);
    if (x.changes) events_subscriptions_changed(a->id, x.version);
    return x.changes ? BO_OK : bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such subscription");
}

static db_status read_deliveries(db_conn *c, void *arg)
{
    sub_ctx *x = arg;
    int64_t owned = 0;
    db_status st = db_query_int(c, "SELECT COUNT(*) FROM webhook_subscriptions WHERE id = ? AND account_id = ?",
                                DB_ARGS(DB_TEXT(x->id), DB_TEXT(x->a->id)), &owned);
    if (st != DB_OK) return st;
    if (!owned) return DB_NOTFOUND;
    db_rows *r;
    st = db_query(c,
                  "SELECT d.event_id, e.event, d.status, d.attempts, d.last_status_code, d.last_error,"
                  " d.last_attempt_at, d.next_due, e.created_at FROM webhook_deliveries d JOIN webhook_events e"
                  " ON e.id = d.event_id WHERE d.subscription_id = ? ORDER BY e.created_at DESC, d.event_id LIMIT 500",
                  DB_ARGS(DB_TEXT(x->id)), &r);
    if (st != DB_OK) return st;
    x->out = json_array();
    while (db_next(r)) {
        bool pending = !strcmp(db_text(r, 2), "pending");
        json_array_append_new(
            x->out, json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:I}", "id", db_text(r, 0), "event", db_text(r, 1),
                              "status", db_text(r, 2), "attempts", (json_int_t)db_int(r, 3), "last_status_code",
                              db_isnull(r, 4) ? json_null() : json_integer(db_int(r, 4)), "last_error",
                              db_isnull(r, 5) ? json_null() : json_string(db_text(r, 5)), "last_attempt_at",
                              db_isnull(r, 6) ? json_null() : json_integer(db_int(r, 6)), "next_due",
                              pending ? json_integer(db_int(r, 7)) : json_null(), "created_at",
                              (json_int_t)db_int(r, 8)));
    }
    db_rows_free(r);
    return DB_OK;
}

bo_status webhook_deliveries_list(engine *e, const account *a, const char *subscription_id, json_t **out)
{
    sub_ctx x = {.a = a, .id = subscription_id};
    db_status st = store_read(e->st, read_deliveries, &x);
    if (st == DB_NOTFOUND) return BO_NOT_FOUND;
    if (st != DB_OK) return BO_INTERNAL;
    *out = x.out;
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
    CURL *curl;
    struct curl_slist *headers;
} delivery;

typedef struct {
    delivery d[BATCH];
    int n;
    instant_us now;
} claim_ctx;

/* Leases due deliveries so that other server processes skip them meanwhile. */
static db_status claim(db_conn *c, void *arg)
{
    claim_ctx *x = arg;
    x->n = 0;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT event_id, subscription_id, attempts, next_due FROM webhook_deliveries"
                            " WHERE status = 'pending' AND next_due <= ? ORDER BY next_due LIMIT ?",
                            DB_ARGS(DB_INT(x->now), DB_INT(BATCH)), &r);
    if (st != DB_OK) return st;
    struct {
        char e[48], s[48];
        int64_t attempts, due;
    } rows[BATCH];
    int n = 0;
    while (db_next(r) && n < BATCH) {
        snprintf(rows[n].e, sizeof rows[n].e, "%s", db_text(r, 0));
        snprintf(rows[n].s, sizeof rows[n].s, "%s", db_text(r, 1));
        rows[n].attempts = db_int(r, 2);
        rows[n].due = db_int(r, 3);
        n++;
    }
    db_rows_free(r);
    for (int i = 0; i < n; i++) {
        int64_t got = 0;
        st = db_exec(c,
                     "UPDATE webhook_deliveries SET next_due = ? WHERE event_id = ? AND subscription_id = ?"
                     " AND status = 'pending' AND next_due = ?",
                     DB_ARGS(DB_INT(x->now + LEASE_SECONDS * US_PER_SEC), DB_TEXT(rows[i].e), DB_TEXT(rows[i].s),
                             DB_INT(rows[i].due)),
                     &got);
        if (st != DB_OK) return st;
        if (got != 1) continue;
        delivery *d = &x->d[x->n++];
        memset(d, 0, sizeof *d);
        memcpy(d->event_id, rows[i].e, sizeof d->event_id);
        memcpy(d->sub_id, rows[i].s, sizeof d->sub_id);
        d->attempts = rows[i].attempts;
    }
    return DB_OK;
}

typedef struct {
    engine *e;
    delivery *d;
    char *event, *resource_url, *payload;
    instant_us created_at;
    char *sealed, *format;
} load_ctx;

static db_status load(db_conn *c, void *arg)
{
    load_ctx *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT e.account_id, e.event, e.resource_url, e.payload, e.created_at, s.url,"
                            " s.secret_sealed, s.format FROM webhook_events e JOIN webhook_subscriptions s ON s.id = ?"
                            " WHERE e.id = ?",
                            DB_ARGS(DB_TEXT(x->d->sub_id), DB_TEXT(x->d->event_id)), &r);
    if (st != DB_OK) return st;
    st = DB_NOTFOUND;
    if (db_next(r)) {
        snprintf(x->d->account_id, sizeof x->d->account_id, "%s", db_text(r, 0));
        x->event = strdup(db_text(r, 1));
        x->resource_url = strdup(db_text(r, 2));
        x->payload = strdup(db_text(r, 3));
        x->created_at = db_int(r, 4);
        x->d->url = strdup(db_text(r, 5));
        x->sealed = strdup(db_text(r, 6));
        x->format = strdup(db_text(r, 7));
        st = DB_OK;
    }
    db_rows_free(r);
    return st;
}

/* The request body of one delivery, in its subscription's format; false with
 * d->error set when it cannot be built. */
static bool prepare(engine *e, delivery *d)
{
    load_ctx x = {e, d, NULL, NULL, NULL, 0, NULL, NULL};
    if (store_read(e->st, load, &x) != DB_OK) {
        snprintf(d->error, sizeof d->error, "event or subscription is gone");
        return false;
    }
    d->format = webhooks_find_format(e, x.format);
    if (!d->format) snprintf(d->error, sizeof d->error, "webhook format %.40s is not registered", x.format);
    d->secret = secret_decrypt(x.sealed);
    json_t *stored = json_loads(x.payload, 0, NULL);
    json_t *object = json_object_get(stored, "object");
    const char *resource = json_string_value(json_object_get(stored, "resource"));
    json_t *payload = NULL;
    char url[300];
    snprintf(url, sizeof url, "%s", x.resource_url);
    account a;
    if (d->format && d->format->payload && account_by_id(e, d->account_id, &a) == BO_OK)
        payload = d->format->payload(e, &a, resource, object, url, sizeof url);
    if (!payload) payload = json_incref(object ? object : json_null());
    json_t *body = NULL;
    if (d->format && d->format->envelope) {
        webhook_event_info ev = {.id = d->event_id, .event = x.event, .resource = resource, .resource_url = url,
                                 .created_at = x.created_at};
        body = d->format->envelope(&ev, payload);
    } else if (d->format) {
        body = json_incref(payload);
    }
    if (body) d->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_decref(payload);
    json_decref(stored);
    free(x.event);
    free(x.resource_url);
    free(x.payload);
    free(x.sealed);
    free(x.format);
    if (d->format && !d->secret) snprintf(d->error, sizeof d->error, "the signing secret could not be unsealed");
    else if (d->format && !d->body) snprintf(d->error, sizeof d->error, "the webhook body could not be built");
    return d->format && d->secret && d->body;
}

static size_t discard(char *p, size_t s, size_t n, void *u) { return s * n; }

static void send_all(delivery *d, int n)
{
    CURLM *multi = curl_multi_init();
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
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_PRIVATE, &d[i]);
        d[i].curl = c;
        curl_multi_add_handle(multi, c);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(multi, &running);
        if (running) curl_multi_poll(multi, NULL, 0, 200, NULL);
    }
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        delivery *d1;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&d1);
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &d1->status_code);
        if (m->data.result != CURLE_OK)
            snprintf(d1->error, sizeof d1->error, "%s", curl_easy_strerror(m->data.result));
        else if (d1->status_code >= 300 && d1->status_code < 400)
            snprintf(d1->error, sizeof d1->error, "redirect (%ld) is not followed", d1->status_code);
        else if (d1->status_code < 200 || d1->status_code >= 300)
            snprintf(d1->error, sizeof d1->error, "HTTP %ld", d1->status_code);
        d1->ok = m->data.result == CURLE_OK && d1->status_code >= 200 && d1->status_code < 300;
    }
    for (int i = 0; i < n; i++) {
        if (d[i].curl) {
            curl_multi_remove_handle(multi, d[i].curl);
            curl_easy_cleanup(d[i].curl);
        }
        curl_slist_free_all(d[i].headers);
    }
    curl_multi_cleanup(multi);
}

/* Marks the subscription failing; one failing for WEBHOOK_DISABLE_AFTER_SECONDS
 * is disabled, which changes who listens: that bumps the account's
 * subscription version (events_wanted's cache). */
static db_status note_failure(db_conn *c, const char *sub_id, instant_us now)
{
    db_status st =
        db_exec(c, "UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, ?) WHERE id = ?",
                DB_ARGS(DB_INT(now), DB_TEXT(sub_id)), NULL);
    if (st != DB_OK) return st;
    char *account_id = NULL;
    st = db_query_text(c,
                       "UPDATE webhook_subscriptions SET active = 0 WHERE id = ? AND active = 1"
                       " AND ? - failing_since >= ? RETURNING account_id",
                       DB_ARGS(DB_TEXT(sub_id), DB_INT(now), DB_INT(WEBHOOK_DISABLE_AFTER_SECONDS * US_PER_SEC)),
                       &account_id);
    if (st == DB_NOTFOUND) return DB_OK;
    int64_t version;
    if (st == DB_OK) st = events_subscriptions_touch(c, account_id, &version);
    free(account_id);
    return st;
}

static db_status record(db_conn *c, void *arg)
{
    claim_ctx *x = arg;
    for (int i = 0; i < x->n; i++) {
        delivery *d = &x->d[i];
        int64_t attempts = d->attempts + 1;
        const char *status = d->ok ? "delivered" : attempts >= WEBHOOK_MAX_ATTEMPTS ? "failed" : "pending";
        /* attempt n (n >= 2) comes n^4 seconds after the one before */
        int64_t wait = (attempts + 1) * (attempts + 1) * (attempts + 1) * (attempts + 1);
        db_status st = db_exec(c,
                               "UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status_code = ?,"
                               " last_error = ?, last_attempt_at = ?, next_due = ? WHERE event_id = ?"
                               " AND subscription_id = ?",
                               DB_ARGS(DB_TEXT(status), DB_INT(attempts), d->status_code ? DB_INT(d->status_code) : DB_NULL,
                                       DB_TEXT(d->ok ? NULL : d->error), DB_INT(x->now),
                                       DB_INT(d->ok ? x->now : x->now + wait * US_PER_SEC), DB_TEXT(d->event_id),
                                       DB_TEXT(d->sub_id)),
                               NULL);
        if (st == DB_OK && d->ok)
            st = db_exec(c, "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = ?",
                         DB_ARGS(DB_TEXT(d->sub_id)), NULL);
        if (st == DB_OK && !d->ok) st = note_failure(c, d->sub_id, x->now);
        if (st != DB_OK) return st;
    }
    return DB_OK;
}

int webhooks_deliver_due(engine *e)
{
    claim_ctx *x = calloc(1, sizeof *x);
    x->now = clock_now();
    if (store_write(e->st, claim, x) != DB_OK || x->n == 0) {
        free(x);
        return 0;
    }
    for (int i = 0; i < x->n; i++)
        if (!prepare(e, &x->d[i])) {
            free(x->d[i].body); /* not sent */
            x->d[i].body = NULL;
        }
    send_all(x->d, x->n);
    x->now = clock_now();
    if (store_write(e->st, record, x) != DB_OK) log_warn("webhooks: could not record %d attempt(s)", x->n);
    int n = x->n;
    for (int i = 0; i < n; i++) {
        free(x->d[i].url);
        free(x->d[i].secret);
        free(x->d[i].body);
    }
    free(x);
    return n;
}

/* ---------- the worker: idle means idle ----------
 * Claiming is a write transaction (an fsync on SQLite), so the worker claims
 * only when a read says something is due. It sleeps until the earliest
 * pending delivery is due, and is woken early by a commit that recorded
 * deliveries: in this process through the store's commit hook, from other
 * PostgreSQL server processes through LISTEN. Every RECHECK_MS it reads again
 * anyway, which catches what nobody announces: another process's retries, an
 * SQLite database shared by several processes, the leases of a crashed one. */
#define RECHECK_MS 5000
/* The server clock may jump ahead (the test clock): compare against it at
 * least this often while waiting for a due time; that costs no query. */
#define CLOCK_CHECK_MS 1000
/* Something due but nothing claimed (another process was first, or the
 * database failed): look again after this rather than at once. */
#define RETRY_PAUSE_MS 250
#define NOTHING_DUE INT64_MAX

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(void *arg)
{
    engine *e = arg;
    /* a full pipe already says "look again" */
    if (write(e->webhook_wake[1], "w", 1) < 0) {}
}

static bool stopping(engine *e)
{
    pthread_mutex_lock(&e->stop_lock);
    bool stop = e->stopping;
    pthread_mutex_unlock(&e->stop_lock);
    return stop;
}

static db_status read_next_due(db_conn *c, void *arg)
{
    int64_t *due = arg;
    *due = NOTHING_DUE;
    db_status st = db_query_int(c, "SELECT MIN(next_due) FROM webhook_deliveries WHERE status = 'pending'", DB_NOARGS,
                                due);
    return st == DB_NOTFOUND ? DB_OK : st;
}

/* Waits until `due` (server clock) or monotonic `recheck_ms`, whichever is
 * first, or until woken. Returns false when the engine stops. */
static bool sleep_until(engine *e, store_listener **listener, int64_t due, int64_t recheck_ms)
{
    for (;;) {
        int64_t left = recheck_ms - monotonic_ms();
        if (due != NOTHING_DUE) {
            int64_t to_due = (due - clock_now() + 999) / 1000;
            if (to_due < left) left = to_due;
            if (left > CLOCK_CHECK_MS) left = CLOCK_CHECK_MS;
        }
        if (left <= 0) return !stopping(e);
        struct pollfd fds[2] = {{.fd = e->webhook_wake[0], .events = POLLIN},
                                {.fd = *listener ? store_listener_fd(*listener) : -1, .events = POLLIN}};
        int n = poll(fds, 2, (int)left);
        if (stopping(e)) return false;
        if (n <= 0) continue;
        bool woken = false;
        if (fds[0].revents) {
            char buf[64];
            while (read(e->webhook_wake[0], buf, sizeof buf) > 0) {}
            woken = true;
        }
        if (fds[1].revents) {
            /* a notification, or a lost connection: either way look again */
            if (!store_listener_drain(*listener)) {
                store_listener_close(*listener);
                *listener = NULL;
            }
            woken = true;
        }
        if (woken) return true;
    }
}

static void *worker(void *arg)
{
    engine *e = arg;
    bool postgres = store_dialect(e->st) == DB_DIALECT_POSTGRES;
    store_listener *listener = NULL;
    int64_t listen_tried_ms = INT64_MIN / 2;
    for (;;) {
        int64_t now_ms = monotonic_ms();
        if (postgres && !listener && now_ms - listen_tried_ms >= RECHECK_MS) {
            /* (again) before the read below, so nothing committed between them is missed */
            listen_tried_ms = now_ms;
            listener = store_listen(e->st);
        }
        int64_t due;
        if (store_read(e->st, read_next_due, &due) != DB_OK) due = clock_now() + RETRY_PAUSE_MS * 1000LL;
        if (due <= clock_now()) {
            if (webhooks_deliver_due(e) > 0) continue;
            due = clock_now() + RETRY_PAUSE_MS * 1000LL;
        }
        if (!sleep_until(e, &listener, due, now_ms + RECHECK_MS)) break;
    }
    store_listener_close(listener);
    return NULL;
}

void webhooks_start(engine *e)
{
    if (pipe2(e->webhook_wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        log_error("webhooks: no wake pipe; deliveries are not sent");
        return;
    }
    store_set_commit_hook(e->st, wake, e);
    e->webhook_running = pthread_create(&e->webhook_thread, NULL, worker, e) == 0;
    if (e->webhook_running) {
        pthread_setname_np(e->webhook_thread, "bo-webhooks");
        return;
    }
    store_set_commit_hook(e->st, NULL, NULL);
    close(e->webhook_wake[0]);
    close(e->webhook_wake[1]);
}

/* After engine_close set e->stopping. */
void webhooks_stop(engine *e)
{
    if (!e->webhook_running) return;
    store_set_commit_hook(e->st, NULL, NULL);
    wake(e);
    pthread_join(e->webhook_thread, NULL);
    e->webhook_running = false;
    close(e->webhook_wake[0]);
    close(e->webhook_wake[1]);
}
