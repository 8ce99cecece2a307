/* Browser analytics of the Convious pricing API (core/inventory_refs.h):
 * a batch is checked against the rate limits of its network prefix and
 * cookies, then queued; the writer thread adds the queued batches' counts to
 * the daily counters and rate windows, records OrderCreated items as sales of
 * inventory references, and keeps the raw events: appended to the store's
 * log after the counts commit, or (no log) rows of the same transaction. */
#include "core/internal.h"
#include "core/inventory_refs.h"
#include "store/analytics_store.h"
#include "store/inventory_refs_store.h"
#include "util/log.h"
#include "util/timeutil.h"
#include <arpa/inet.h>
#include <glib.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANALYTICS_DEFAULT_RETENTION_DAYS 30
#define ANALYTICS_DEFAULT_PER_IP_PER_MINUTE 6000
#define ANALYTICS_DEFAULT_PER_COOKIE_PER_MINUTE 600

static const char *const kind_names[] = {
    [ANALYTICS_PAGE_VIEWED] = "PageViewed",
    [ANALYTICS_ENTERED_CHECKOUT] = "UserEnteredCheckout",
    [ANALYTICS_SELECTED_DATE] = "UserSelectedDate",
    [ANALYTICS_VIEWED_PRODUCTS] = "UserViewedProducts",
    [ANALYTICS_VIEWED_PRICES] = "UserViewedPrices",
    [ANALYTICS_ADDED_TO_CART] = "UserAddedItemToCart",
    [ANALYTICS_ORDER_CREATED] = "OrderCreated",
    [ANALYTICS_TRANSACTION] = "Transaction",
};

const char *analytics_kind_name(analytics_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "";
}

void analytics_ip_prefix(const char *ip, char out[64])
{
    out[0] = 0;
    if (!ip) return;
    unsigned char addr[16];
    char text[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, ip, addr) == 1) {
        snprintf(out, 64, "%u.%u.%u.0/24", addr[0], addr[1], addr[2]);
        return;
    }
    if (inet_pton(AF_INET6, ip, addr) != 1) return;
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(addr, v4_mapped, sizeof v4_mapped)) {
        snprintf(out, 64, "%u.%u.%u.0/24", addr[12], addr[13], addr[14]);
        return;
    }
    memset(addr + 6, 0, 10);
    if (inet_ntop(AF_INET6, addr, text, sizeof text)) snprintf(out, 64, "%s/48", text);
}

/* What an event's product id (or an item's) resolved to. */
typedef struct {
    const char *kind; /* "reference", "product" or "" */
    const char *key;  /* the id when resolved, else "" */
} resolved_product;

/* The product ids of a batch in slots: each event's own, then its items'. */
typedef struct {
    const analytics_event *events;
    size_t n;
    size_t *first_slot; /* per event */
    size_t slots;
    const account **slot_account;
    const char **slot_product; /* NULL: none */
    resolved_product *resolved;
} batch_products;

static uint64_t text_hash(uint64_t h, const char *s)
{
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Each slot's product: an active inventory reference of the event's account
 * first, else a product of its catalog, else nothing. Read before the write
 * (a reference made or removed meanwhile only changes an attribution), each
 * distinct (account, id) once, so the write transaction holds no reads. */
static bo_status resolve_products(engine *e, batch_products *b)
{
    size_t cap = 16;
    while (cap < b->slots * 2) cap *= 2;
    size_t *table = calloc(cap, sizeof *table), *slot_distinct = calloc(b->slots, sizeof *slot_distinct);
    const char **ids = calloc(b->slots, sizeof *ids), **refs = calloc(b->slots, sizeof *refs);
    bool *active = calloc(b->slots, sizeof *active), *in_catalog = calloc(b->slots, sizeof *in_catalog);
    bo_status out = BO_OK;
    size_t distinct = 0;
    if (!table || !slot_distinct || !ids || !refs || !active || !in_catalog) out = BO_INTERNAL;
    catalog_view *view = NULL;
    const char *view_account = NULL;
    for (size_t i = 0; i < b->slots && out == BO_OK; i++) {
        const account *a = b->slot_account[i];
        const char *product = b->slot_product[i];
        if (!product) continue;
        if (!view || strcmp(view_account, a->id)) {
            if (view) catalog_view_close(view);
            view = catalog_view_open(e, a), view_account = a->id;
            if (!view) {
                out = BO_INTERNAL;
                break;
            }
        }
        in_catalog[i] = model_product(catalog_view_model(view), product) != NULL;
        size_t h = (size_t)text_hash(text_hash(14695981039346656037ULL, a->id), product) & (cap - 1);
        while (table[h] && (strcmp(ids[table[h] - 1], a->id) || strcmp(refs[table[h] - 1], product)))
            h = (h + 1) & (cap - 1);
        if (!table[h]) ids[distinct] = a->id, refs[distinct] = product, table[h] = ++distinct;
        slot_distinct[i] = table[h] - 1;
    }
    if (view) catalog_view_close(view);
    if (out == BO_OK && store_inventory_refs_active(e->st, ids, refs, distinct, active) != STORE_OK) out = BO_INTERNAL;
    for (size_t i = 0; i < b->slots && out == BO_OK; i++) {
        const char *product = b->slot_product[i];
        b->resolved[i] = (resolved_product){"", ""};
        if (product && active[slot_distinct[i]]) b->resolved[i] = (resolved_product){"reference", product};
        else if (product && in_catalog[i]) b->resolved[i] = (resolved_product){"product", product};
    }
    free(table), free(slot_distinct), free(ids), free(refs), free(active), free(in_catalog);
    return out;
}

/* ---- The ingest queue ------------------------------------------------------
 * Analytics are not bookings: a batch is checked against the rate limits with
 * a read, accepted into a bounded queue in memory, and the queue's batches are
 * written together every ANALYTICS_FLUSH_MS by a low-priority writer thread,
 * with their counters summed, by store_write_analytics: on SQLite a
 * connection and a file of their own, so the store's writer and the bookings
 * on it never wait for them; PostgreSQL's hot counter rows see one
 * transaction per interval rather than one per browser batch. A batch accepted
 * (200) but not yet written is lost if the process is killed (kill -9, power
 * loss) within that interval; a clean stop writes the queue first. Losing a
 * fraction of a second of page views only blurs demand counters that are
 * statistical anyway; OrderCreated sales of references are the vendor's
 * signal too and are resent by its own retries. See docs/dialects/convious-pricing.md. */
#define ANALYTICS_FLUSH_MS 200
/* The queue's bound: beyond it a batch is refused (503, Retry-After) rather
 * than held, so a stalled database never grows memory without limit. */
#define ANALYTICS_QUEUE_MAX_EVENTS 50000
#define ANALYTICS_QUEUE_MAX_BYTES (32u << 20)
/* Above this many queued events an accepted batch's answer waits, up to
 * ANALYTICS_QUEUE_WAIT_SECONDS, for the writer to take the queue back below it.
 * The writer runs at SCHED_IDLE on SQLite: request threads kept busy by more
 * batches (a browser retries a 503 at once) would leave it no CPU and the
 * queue would fill for good; waiting, they leave it the cores. Bookings and
 * other requests do not wait, so they still come first. */
#define ANALYTICS_QUEUE_HIGH_EVENTS (ANALYTICS_QUEUE_MAX_EVENTS / 5)
#define ANALYTICS_QUEUE_WAIT_SECONDS 1
/* Events per write transaction (store_write_analytics, which no booking waits
 * for): a flush at 10,000 events/s is one; a backlog is written in several,
 * so that a failed one is retried, not the whole backlog. */
#define ANALYTICS_WRITE_CHUNK 5000

typedef struct {
    const char *account_id, *reference;
    store_inventory_sale sale;
} queued_sale;

typedef struct {
    const char *account_id;
    civil_date day;
    analytics_kind kind;
    const char *product_key;
    int64_t n;
} queued_count;

/* An analytics_rates key of the batch and its count; a key ending in '#' is the
 * network's count spread over STORE_RATE_SHARDS rows. */
typedef struct {
    const char *key;
    int64_t n;
} queued_rate;

typedef struct queued_batch {
    struct queued_batch *next;
    GStringChunk *text; /* every string of the batch: the request's memory is gone when it is written */
    size_t bytes;
    int64_t window, shard;
    store_analytics_event *rows;
    size_t n;
    queued_count *counters;
    size_t ncounters;
    queued_rate *rates;
    size_t nrates;
    queued_sale *sales;
    size_t nsales;
    const char **sold_accounts; /* accounts whose references sold: replanned after the write */
    size_t nsold;
} queued_batch;

struct analytics_queue {
    pthread_mutex_t lock; /* guards the list, its size and pending */
    queued_batch *head, **tail;
    size_t events, bytes;
    /* counts accepted but not yet committed, by "window|key": a limit is the
     * committed count (read) plus these, so a batch is never counted zero
     * times (at worst twice, between its commit and its removal here) */
    GHashTable *pending;
    uint64_t writes; /* successful flushes that took counts out of pending: a read older than one re-reads */
    pthread_mutex_t flush_lock; /* one flush at a time: batches commit in the order accepted */
    pthread_t writer;
    bool writing; /* the writer thread runs; else each batch is written as it comes */
    pthread_cond_t taken; /* the writer took batches out (CLOCK_MONOTONIC waits) */
};

static void batch_free(queued_batch *q)
{
    if (!q) return;
    if (q->text) g_string_chunk_free(q->text);
    free(q->rows), free(q->counters), free(q->rates), free(q->sales), free(q->sold_accounts), free(q);
}

static const char *keep(queued_batch *q, const char *s)
{
    if (!s) return NULL;
    q->bytes += strlen(s) + 1;
    return g_string_chunk_insert_const(q->text, s);
}

static char *pending_key(int64_t window, const char *key)
{
    return g_strdup_printf("%" PRId64 "|%s", window, key);
}

/* Adds sign * each rate count of q to pending. Under the queue's lock. */
static void pending_add(struct analytics_queue *aq, const queued_batch *q, int sign)
{
    for (size_t i = 0; i < q->nrates; i++) {
        char *key = pending_key(q->window, q->rates[i].key);
        int64_t *count = g_hash_table_lookup(aq->pending, key);
        if (!count) g_hash_table_insert(aq->pending, g_strdup(key), count = g_new0(int64_t, 1));
        *count += sign * q->rates[i].n;
        if (*count <= 0) g_hash_table_remove(aq->pending, key);
        g_free(key);
    }
}

static int64_t pending_of(struct analytics_queue *aq, int64_t window, const char *key)
{
    char *k = pending_key(window, key);
    int64_t *count = g_hash_table_lookup(aq->pending, k);
    g_free(k);
    return count ? *count : 0;
}

/* A rate window's count: an analytics_rates row (key, window_start). */
typedef struct {
    const char *key;
    int64_t window, n;
} window_count;

static int counter_order(const void *l, const void *r)
{
    const queued_count *a = l, *b = r;
    int c = strcmp(a->account_id, b->account_id);
    if (!c) c = (a->day > b->day) - (a->day < b->day);
    if (!c) c = (int)a->kind - (int)b->kind;
    return c ? c : strcmp(a->product_key, b->product_key);
}

static int window_order(const void *l, const void *r)
{
    const window_count *a = l, *b = r;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->window > b->window) - (a->window < b->window);
}

/* The taken batches' counts summed per row and sorted: each counter and rate
 * row is written once per flush, and every process locks them in the same
 * order, so flushes of several processes on PostgreSQL do not deadlock. */
static store_status write_counts(db_conn *c, const queued_batch *taken)
{
    size_t ncounters = 0, nrates = 0;
    for (const queued_batch *q = taken; q; q = q->next) ncounters += q->ncounters, nrates += q->nrates;
    queued_count *counters = calloc(ncounters ? ncounters : 1, sizeof *counters);
    window_count *rates = calloc(nrates ? nrates : 1, sizeof *rates);
    store_status st = counters && rates ? STORE_OK : STORE_ERROR;
    size_t nc = 0, nr = 0;
    for (const queued_batch *q = taken; q && st == STORE_OK; q = q->next) {
        memcpy(counters + nc, q->counters, q->ncounters * sizeof *counters), nc += q->ncounters;
        for (size_t i = 0; i < q->nrates; i++) rates[nr++] = (window_count){q->rates[i].key, q->window, q->rates[i].n};
    }
    qsort(counters, nc, sizeof *counters, counter_order);
    qsort(rates, nr, sizeof *rates, window_order);
    /* the shard of this flush: the first batch's, spread by its arrival microsecond */
    int64_t shard = taken->shard;
    for (size_t i = 0; i < nc && st == STORE_OK;) {
        queued_count sum = counters[i];
        while (++i < nc && !counter_order(&sum, &counters[i])) sum.n += counters[i].n;
        st = store_analytics_count(c, sum.account_id, sum.day, analytics_kind_name(sum.kind), sum.product_key, shard,
                                   sum.n);
    }
    for (size_t i = 0; i < nr && st == STORE_OK;) {
        window_count sum = rates[i];
        while (++i < nr && !window_order(&sum, &rates[i])) sum.n += rates[i].n;
        char shard_key[800];
        size_t len = strlen(sum.key);
        if (len && sum.key[len - 1] == '#') {
            snprintf(shard_key, sizeof shard_key, "%s%zu", sum.key, (size_t)shard % STORE_RATE_SHARDS);
            sum.key = shard_key;
        }
        int64_t total = 0;
        st = store_analytics_rate_add(c, sum.key, sum.window, sum.n, &total);
    }
    free(counters), free(rates);
    return st;
}

typedef struct {
    const queued_batch *taken;
    bool logged; /* the raw events go to the store's log after the commit, not into this transaction */
} flush_job;

/* The counts, and the raw events where there is no log: analytics tables alone. */
static db_status flush_fn(db_conn *c, void *arg)
{
    const flush_job *job = arg;
    store_status st = STORE_OK;
    for (const queued_batch *q = job->taken; q && st == STORE_OK && !job->logged; q = q->next)
        st = store_analytics_events_add(c, q->rows, q->n);
    if (st == STORE_OK) st = write_counts(c, job->taken);
    return store_db_status(st);
}

/* OrderCreated items as sales of references: the database's tables. */
static db_status sales_fn(db_conn *c, void *arg)
{
    store_status st = STORE_OK;
    for (const queued_batch *q = arg; q && st == STORE_OK; q = q->next)
        for (size_t i = 0; i < q->nsales && st == STORE_OK; i++)
            st = store_inventory_sale_add(c, q->sales[i].account_id, q->sales[i].reference, &q->sales[i].sale);
    return store_db_status(st);
}

/* Counted and committed: the chunk's raw events are appended to the store's
 * log, in one piece, here on the analytics thread rather than the writer's. */
static void log_chunk(engine *e, const queued_batch *taken, size_t events)
{
    store_analytics_event *rows = malloc(events * sizeof *rows);
    size_t n = 0;
    for (const queued_batch *q = taken; rows && q; q = q->next)
        memcpy(rows + n, q->rows, q->n * sizeof *rows), n += q->n;
    if (!rows || store_analytics_log_append(e->st, rows, n) != STORE_OK)
        log_warn("analytics: %zu raw event(s) counted but not logged", events);
    free(rows);
}

/* Writes the oldest queued batches, up to `chunk` events or one batch at
 * least: their sales, then their counts in one transaction; *written += their
 * events. */
static bo_status write_chunk(engine *e, size_t chunk, size_t *written)
{
    struct analytics_queue *aq = e->analytics;
    pthread_mutex_lock(&aq->lock);
    queued_batch *taken = aq->head, **end = &aq->head;
    size_t events = 0;
    while (*end && (events == 0 || events + (*end)->n <= chunk))
        events += (*end)->n, end = &(*end)->next;
    aq->head = *end;
    if (!aq->head) aq->tail = &aq->head;
    *end = NULL;
    pthread_mutex_unlock(&aq->lock);
    if (!taken) return BO_OK;
    flush_job job = {taken, store_analytics_log(e->st) != NULL};
    /* the sales first: a sale is written once however often it is sent (its
     * order and line are its key), so if the counts then fail, the retry of
     * the whole chunk adds no sale twice */
    bool sold = false;
    for (const queued_batch *q = taken; q && !sold; q = q->next) sold = q->nsales > 0;
    db_status st = sold ? store_write_background(e->st, sales_fn, taken) : DB_OK;
    if (st == DB_OK) st = store_write_analytics(e->st, flush_fn, &job);
    if (st == DB_OK && job.logged) log_chunk(e, taken, events);
    pthread_mutex_lock(&aq->lock);
    if (st != DB_OK) {
        /* back in front, in order: the next flush tries again; meanwhile the bound refuses new batches */
        *end = aq->head;
        if (!aq->head) aq->tail = end;
        aq->head = taken;
        pthread_mutex_unlock(&aq->lock);
        return BO_INTERNAL;
    }
    aq->writes++;
    pthread_cond_broadcast(&aq->taken);
    for (queued_batch *q = taken; q; q = q->next) {
        pending_add(aq, q, -1);
        aq->events -= q->n, aq->bytes -= q->bytes;
    }
    pthread_mutex_unlock(&aq->lock);
    *written += events;
    while (taken) {
        queued_batch *next = taken->next;
        for (size_t i = 0; i < taken->nsold; i++) pricing_references_sold(e, taken->sold_accounts[i]);
        batch_free(taken);
        taken = next;
    }
    return BO_OK;
}

/* Writes what was queued when it began, in chunks; *written counts it. */
static bo_status write_queue(engine *e, size_t *written)
{
    struct analytics_queue *aq = e->analytics;
    size_t done = 0;
    bo_status out = BO_OK;
    pthread_mutex_lock(&aq->flush_lock);
    pthread_mutex_lock(&aq->lock);
    size_t queued = aq->events;
    pthread_mutex_unlock(&aq->lock);
    /* what was queued when it began, in chunks: batches accepted meanwhile wait for the next flush */
    while (out == BO_OK && done < queued) {
        size_t before = done;
        out = write_chunk(e, ANALYTICS_WRITE_CHUNK, &done);
        if (done == before) break;
    }
    pthread_mutex_unlock(&aq->flush_lock);
    if (written) *written = done;
    return out;
}

bo_status analytics_flush(engine *e, size_t *written)
{
    bo_status st = write_queue(e, written);
    /* and the raw events the log holds: whoever asks for a flush reads them next */
    if (store_analytics_log_write(e->st, true) != STORE_OK) log_warn("analytics: raw events counted but not logged");
    return st;
}

static void *writer_main(void *arg)
{
    engine *e = arg;
    /* Below the request threads: a busy machine serves bookings first. Where
     * its writes hold nothing a request waits on (SQLite: a connection of
     * their own to a file of their own; store_analytics_writes_apart), it
     * runs at SCHED_IDLE: a waking request thread then takes a core that runs
     * only this one as if it were idle, at once. At nice 10, summing, formatting
     * and compressing 10,000 events a second moved the bookings' p99 by +40%
     * to +85%; at SCHED_IDLE by 0% to +27% (docs/PERFORMANCE.md). On
     * PostgreSQL it holds a pooled connection through its transaction, which
     * a starved thread must not: nice 10 there. */
    struct sched_param idle = {0};
    bool lowered = store_analytics_writes_apart(e->st)
                       ? pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle) == 0
                       : setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) == 0;
    if (!lowered) log_warn("analytics writer: priority not lowered");
    while (engine_wait(e, ANALYTICS_FLUSH_MS)) {
        if (write_queue(e, NULL) != BO_OK) log_warn("analytics: queued events not written, will retry");
        /* the log's held raw events go once they are old enough, also when no more come */
        if (store_analytics_log_write(e->st, false) != STORE_OK) log_warn("analytics: raw events counted but not logged");
    }
    return NULL;
}

void analytics_queue_open(engine *e)
{
    struct analytics_queue *aq = calloc(1, sizeof *aq);
    if (!aq) abort();
    pthread_mutex_init(&aq->lock, NULL);
    pthread_mutex_init(&aq->flush_lock, NULL);
    monotonic_cond_init(&aq->taken);
    aq->tail = &aq->head;
    aq->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    e->analytics = aq;
    if (e->cfg.start_workers) {
        aq->writing = pthread_create(&aq->writer, NULL, writer_main, e) == 0;
        if (aq->writing) pthread_setname_np(aq->writer, "bo-analytics");
    }
}

void analytics_queue_close(engine *e)
{
    struct analytics_queue *aq = e->analytics;
    if (!aq) return;
    if (aq->writing) pthread_join(aq->writer, NULL); /* e->stopping is set: it returns after its wait */
    if (analytics_flush(e, NULL) != BO_OK) log_warn("analytics: queued events lost at shutdown: storage failure");
    for (queued_batch *q = aq->head, *next; q; q = next) next = q->next, batch_free(q);
    g_hash_table_destroy(aq->pending);
    pthread_mutex_destroy(&aq->lock), pthread_mutex_destroy(&aq->flush_lock);
    pthread_cond_destroy(&aq->taken);
    free(aq);
    e->analytics = NULL;
}

/* The batch as it will be written: every string copied, counts gathered. */
static queued_batch *batch_build(const analytics_event *events, size_t n, const batch_products *b,
                                 const char *prefix, instant_us now)
{
    queued_batch *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->text = g_string_chunk_new(4096);
    q->window = now / US_PER_SEC / 60 * 60;
    q->shard = now % STORE_RATE_SHARDS; /* the microsecond spreads concurrent batches over the shards */
    q->n = n;
    size_t items = 0;
    for (size_t i = 0; i < n; i++) items += events[i].nitems;
    q->rows = calloc(n, sizeof *q->rows);
    q->counters = calloc(n, sizeof *q->counters);
    q->rates = calloc(n + 1, sizeof *q->rates);
    q->sales = calloc(items ? items : 1, sizeof *q->sales);
    q->sold_accounts = calloc(n, sizeof *q->sold_accounts);
    if (!q->rows || !q->counters || !q->rates || !q->sales || !q->sold_accounts) return batch_free(q), NULL;
    char key[700];
    if (*prefix) {
        snprintf(key, sizeof key, "ip:%s#", prefix);
        q->rates[q->nrates++] = (queued_rate){keep(q, key), (int64_t)n};
    }
    size_t first_cookie = q->nrates;
    for (size_t i = 0; i < n; i++) {
        const analytics_event *ev = &events[i];
        const resolved_product *p = &b->resolved[b->first_slot[i]];
        const char *acct = keep(q, ev->acct->id);
        q->rows[i] = (store_analytics_event){acct,
                                             analytics_kind_name(ev->kind),
                                             keep(q, ev->cookie_id),
                                             ev->time,
                                             now,
                                             keep(q, prefix),
                                             p->kind,
                                             keep(q, p->key),
                                             keep(q, ev->order_id),
                                             keep(q, ev->detail ? ev->detail : "")};
        /* one cookie's count in every kind: the limit is per cookie */
        snprintf(key, sizeof key, "cookie:%s:%s", ev->acct->id, ev->cookie_id);
        size_t r = first_cookie;
        while (r < q->nrates && strcmp(q->rates[r].key, key)) r++;
        if (r == q->nrates) q->rates[q->nrates++] = (queued_rate){keep(q, key), 0};
        q->rates[r].n++;
        civil_date day;
        int32_t secs;
        tz_instant_to_local(ev->acct->timezone, now, &day, &secs);
        size_t k = 0;
        while (k < q->ncounters && !(q->counters[k].kind == ev->kind && q->counters[k].account_id == acct &&
                                     q->counters[k].day == day && !strcmp(q->counters[k].product_key, p->key)))
            k++;
        if (k == q->ncounters) q->counters[q->ncounters++] = (queued_count){acct, day, ev->kind, keep(q, p->key), 0};
        q->counters[k].n++;
        bool sold = false;
        for (size_t j = 0; j < ev->nitems; j++) {
            const resolved_product *item = &b->resolved[b->first_slot[i] + 1 + j];
            if (strcmp(item->kind, "reference")) continue; /* Boxoffice products have their own sales */
            queued_sale *sale = &q->sales[q->nsales++];
            sale->account_id = acct, sale->reference = keep(q, item->key);
            sale->sale = (store_inventory_sale){.line = (int64_t)j,
                                                .quantity = ev->items[j].amount,
                                                .unit_price = ev->items[j].price,
                                                .has_day = ev->items[j].has_day,
                                                .event_day = ev->items[j].day,
                                                .sold_at = now};
            snprintf(sale->sale.order_id, sizeof sale->sale.order_id, "%s", ev->order_id ? ev->order_id : "");
            sold = ev->kind == ANALYTICS_ORDER_CREATED;
        }
        size_t s = 0;
        while (s < q->nsold && q->sold_accounts[s] != acct) s++;
        if (sold && s == q->nsold) q->sold_accounts[q->nsold++] = acct;
    }
    q->bytes += sizeof *q + n * (sizeof *q->rows + sizeof *q->counters + sizeof *q->rates) + items * sizeof *q->sales;
    return q;
}

/* Whether q fits the limits: the committed counts (read by the caller
 * without the lock, into committed[]) plus what is accepted and not yet
 * written. Under the queue's lock. */
static bool within_limits(engine *e, const queued_batch *q, const int64_t *committed)
{
    long per_ip = e->cfg.analytics_per_ip_per_minute > 0 ? e->cfg.analytics_per_ip_per_minute
                                                         : ANALYTICS_DEFAULT_PER_IP_PER_MINUTE;
    long per_cookie = e->cfg.analytics_per_cookie_per_minute > 0 ? e->cfg.analytics_per_cookie_per_minute
                                                                 : ANALYTICS_DEFAULT_PER_COOKIE_PER_MINUTE;
    for (size_t i = 0; i < q->nrates; i++) {
        const char *key = q->rates[i].key;
        bool network = key[strlen(key) - 1] == '#';
        if (committed[i] + pending_of(e->analytics, q->window, key) + q->rates[i].n > (network ? per_ip : per_cookie))
            return false;
    }
    return true;
}

/* Reads the committed counts of q's rate keys, then takes the queue's lock:
 * if a flush committed meanwhile (its counts may be in neither the read nor
 * pending any more), reads again. Returns with the lock held, or false (not
 * held) on a storage failure. */
static bool lock_with_committed_counts(engine *e, const queued_batch *q, int64_t *committed)
{
    struct analytics_queue *aq = e->analytics;
    const char **keys = calloc(q->nrates ? q->nrates : 1, sizeof *keys);
    if (!keys) return false;
    for (size_t i = 0; i < q->nrates; i++) keys[i] = q->rates[i].key;
    for (;;) {
        pthread_mutex_lock(&aq->lock);
        uint64_t writes = aq->writes;
        pthread_mutex_unlock(&aq->lock);
        if (store_analytics_rate_read(e->st, keys, q->nrates, q->window, committed) != STORE_OK) {
            free(keys);
            return false;
        }
        pthread_mutex_lock(&aq->lock);
        if (aq->writes == writes) break;
        pthread_mutex_unlock(&aq->lock);
    }
    free(keys);
    return true;
}

bo_status analytics_ingest(engine *e, const char *client_ip, const analytics_event *events, size_t n, bo_error *err)
{
    if (!n) return BO_OK;
    batch_products b = {events, n, calloc(n, sizeof(size_t)), 0, NULL, NULL, NULL};
    bo_status out = BO_OK;
    if (b.first_slot)
        for (size_t i = 0; i < n; i++) b.first_slot[i] = b.slots, b.slots += 1 + events[i].nitems;
    b.slot_account = calloc(b.slots ? b.slots : 1, sizeof *b.slot_account);
    b.slot_product = calloc(b.slots ? b.slots : 1, sizeof *b.slot_product);
    b.resolved = calloc(b.slots ? b.slots : 1, sizeof *b.resolved);
    if (!b.first_slot || !b.slot_account || !b.slot_product || !b.resolved) out = BO_INTERNAL;
    for (size_t i = 0; i < n && out == BO_OK; i++) {
        size_t first = b.first_slot[i];
        b.slot_account[first] = events[i].acct, b.slot_product[first] = events[i].product_id;
        for (size_t k = 0; k < events[i].nitems; k++)
            b.slot_account[first + 1 + k] = events[i].acct, b.slot_product[first + 1 + k] = events[i].items[k].product_id;
    }
    if (out == BO_OK) out = resolve_products(e, &b);
    char prefix[64];
    analytics_ip_prefix(client_ip, prefix);
    queued_batch *q = out == BO_OK ? batch_build(events, n, &b, prefix, clock_now()) : NULL;
    free(b.first_slot), free(b.slot_account), free(b.slot_product), free(b.resolved);
    if (!q) return bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure, nothing was stored");
    struct analytics_queue *aq = e->analytics;
    int64_t *committed = calloc(q->nrates ? q->nrates : 1, sizeof *committed);
    if (!committed || !lock_with_committed_counts(e, q, committed)) {
        free(committed), batch_free(q);
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure, nothing was stored");
    }
    if (aq->events + n > ANALYTICS_QUEUE_MAX_EVENTS || aq->bytes + q->bytes > ANALYTICS_QUEUE_MAX_BYTES)
        out = bo_fail(err, BO_UNAVAILABLE, "unavailable", "", "too many events waiting to be stored; try again soon");
    else if (!within_limits(e, q, committed))
        out = bo_fail(err, BO_RATE_LIMITED, "rate_limited", "", "too many events; try again in a minute");
    free(committed);
    if (out == BO_OK) {
        pending_add(aq, q, +1);
        aq->events += n, aq->bytes += q->bytes;
        *aq->tail = q, aq->tail = &q->next;
        q = NULL;
    }
    if (out == BO_OK && aq->writing && aq->events > ANALYTICS_QUEUE_HIGH_EVENTS) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += ANALYTICS_QUEUE_WAIT_SECONDS;
        int timed_out = 0;
        while (!timed_out && aq->events > ANALYTICS_QUEUE_HIGH_EVENTS)
            timed_out = pthread_cond_timedwait(&aq->taken, &aq->lock, &until);
    }
    bool write_now = out == BO_OK && !aq->writing;
    pthread_mutex_unlock(&aq->lock);
    batch_free(q);
    /* no writer thread (tools, unit tests): written before the answer, as a batch of its own */
    if (write_now && analytics_flush(e, NULL) != BO_OK)
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure; the events are kept and retried");
    return out;
}

bo_status analytics_daily_count(engine *e, const account *a, civil_date day, analytics_kind kind,
                                const char *product_key, int64_t *count)
{
    if (analytics_flush(e, NULL) != BO_OK) return BO_INTERNAL; /* what was accepted is counted */
    store_status st = store_analytics_daily_count(e->st, a->id, day, analytics_kind_name(kind), product_key, count);
    return st == STORE_OK ? BO_OK : BO_INTERNAL;
}

/* Raw events deleted per transaction, and transactions per call: a backlog
 * goes in steps that keep the writer free for ingest between them, and what
 * one call leaves waits for the next. */
#define ANALYTICS_PRUNE_STEP 10000
#define ANALYTICS_PRUNE_STEPS 100

bo_status analytics_prune(engine *e, instant_us now, int *deleted)
{
    int days = e->cfg.analytics_retention_days > 0 ? e->cfg.analytics_retention_days : ANALYTICS_DEFAULT_RETENTION_DAYS;
    instant_us before = now - (instant_us)days * 86400 * US_PER_SEC;
    civil_date before_day = (civil_date)(before / US_PER_SEC / 86400);
    int total = 0, step = ANALYTICS_PRUNE_STEP;
    for (int i = 0; i < ANALYTICS_PRUNE_STEPS && step == ANALYTICS_PRUNE_STEP; i++) {
        step = 0;
        if (store_analytics_prune(e->st, before, before_day, now / US_PER_SEC - 3600, ANALYTICS_PRUNE_STEP, &step) !=
            STORE_OK) {
            if (deleted) *deleted = total;
            return BO_INTERNAL;
        }
        total += step;
    }
    int files = 0;
    if (store_analytics_log_prune(e->st, before_day, &files) != STORE_OK) log_warn("analytics log: not pruned");
    else if (files > 0) log_info("analytics log: removed %d day file(s) past retention", files);
    if (deleted) *deleted = total;
    return BO_OK;
}
