/* Inventory references and browser analytics (core/inventory_refs.h): events
 * applied all or none, the seats-left rule, reading a reference for pricing,
 * the sales history from OrderCreated, IP prefixes, rate limits and pruning,
 * scoped by account; on BOXOFFICE_TEST_DB or a fresh SQLite file. */
#include "check.h"
#include "fixture.h"
#include "core/inventory_refs.h"
#include "store/analytics_store.h"
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static price_settings settings(int64_t min, int64_t max)
{
    return (price_settings){.dynamic = true, .min_price = min, .max_price = max, .step = 1, .gate_price = max};
}

static inventory_event created(const char *ref, int64_t availability, int64_t min, int64_t max)
{
    return (inventory_event){.kind = INVENTORY_PRODUCT_CREATED, .reference = ref, .name = "Boat tour",
                             .unlimited = availability < 0, .availability = availability, .settings = settings(min, max)};
}

static inventory_event seats(const char *ref, civil_date day, int32_t start, int64_t left)
{
    return (inventory_event){.kind = INVENTORY_AVAILABILITY_CHANGED, .reference = ref, .day = day, .start_time = start,
                             .availability = left};
}

static void test_ip_prefix(void)
{
    char out[64];
    analytics_ip_prefix("203.0.113.77", out);
    CHECK(!strcmp(out, "203.0.113.0/24"), "ip: v4 keeps its /24");
    analytics_ip_prefix("2001:db8:abcd:12::1", out);
    CHECK(!strcmp(out, "2001:db8:abcd::/48"), "ip: v6 keeps its /48");
    analytics_ip_prefix("::ffff:198.51.100.9", out);
    CHECK(!strcmp(out, "198.51.100.0/24"), "ip: a v4-mapped v6 address is its v4 /24");
    analytics_ip_prefix("not an address", out);
    CHECK(!strcmp(out, ""), "ip: garbage keeps nothing");
    analytics_ip_prefix(NULL, out);
    CHECK(!strcmp(out, ""), "ip: none keeps nothing");
}

static void test_seats_rule(void)
{
    inventory_ref_seats rows[] = {{100, INVENTORY_WHOLE_DAY, 5}, {100, 36000, 2}, {101, 36000, 0}, {101, 39600, 3}};
    inventory_ref_view v = {.presence = INVENTORY_REF_ACTIVE, .availability = 9, .seats = rows, .nseats = 4};
    CHECK(inventory_ref_seats_left(&v, 100, 36000) == 2, "seats: a start time's own");
    CHECK(inventory_ref_seats_left(&v, 100, 43200) == 5, "seats: else the day's");
    CHECK(inventory_ref_seats_left(&v, 100, INVENTORY_WHOLE_DAY) == 5, "seats: the day's for the whole day");
    CHECK(inventory_ref_seats_left(&v, 101, INVENTORY_WHOLE_DAY) == 3, "seats: the whole day sells while a time does");
    CHECK(inventory_ref_seats_left(&v, 101, 43200) == 9, "seats: a time with none of its own: the reference's");
    CHECK(inventory_ref_seats_left(&v, 102, 36000) == 9, "seats: a day with none: the reference's");
    v.unlimited = true;
    CHECK(inventory_ref_seats_left(&v, 102, 36000) == -1, "seats: unlimited is -1");
}

static void test_events(engine *e, const account *a, const account *b)
{
    bo_error err = {0};
    size_t failed = 99;
    civil_date day = date_from_ymd(2030, 6, 1);
    inventory_event batch[] = {created("tour", 40, 1250, 1800), seats("tour", day, 36000, 4),
                               seats("tour", day, INVENTORY_WHOLE_DAY, 10),
                               {.kind = INVENTORY_PRICING_CHANGED, .reference = "ghost", .settings = settings(1, 2)}};
    CHECK(inventory_events_apply(e, a, batch, 4, &failed, &err) == BO_NOT_FOUND && failed == 3 &&
              !strcmp(err.code, "unknown_product"),
          "events: an unknown reference refuses the batch and names its index");
    inventory_ref_view v;
    CHECK(inventory_ref_read(e, a, "tour", day, day, &v) == BO_OK && v.presence == INVENTORY_REF_UNKNOWN,
          "events: nothing of a refused batch is applied");
    inventory_ref_view_free(&v);
    CHECK(inventory_events_apply(e, a, batch, 3, &failed, &err) == BO_OK, "events: a good batch applies");
    CHECK(inventory_events_apply(e, a, batch, 3, &failed, &err) == BO_OK, "events: and applies again (a retry)");
    CHECK(inventory_ref_read(e, a, "tour", day, day, &v) == BO_OK && v.presence == INVENTORY_REF_ACTIVE &&
              v.settings.dynamic && v.settings.min_price == 1250 && v.settings.max_price == 1800 &&
              v.settings.gate_price == 1800 && !strcmp(v.name, "Boat tour") && !v.unlimited && v.availability == 40,
          "read: the settings map onto price_settings");
    CHECK(v.nseats == 2 && inventory_ref_seats_left(&v, day, 36000) == 4 &&
              inventory_ref_seats_left(&v, day, 40000) == 10 && inventory_ref_seats_left(&v, day + 1, 36000) == 40,
          "read: seats left by day and start time");
    inventory_ref_view_free(&v);
    CHECK(inventory_ref_read(e, a, "tour", day + 1, day + 5, &v) == BO_OK && v.nseats == 0,
          "read: only the days asked for");
    inventory_ref_view_free(&v);
    CHECK(inventory_ref_read(e, b, "tour", day, day, &v) == BO_OK && v.presence == INVENTORY_REF_UNKNOWN,
          "read: another account's reference is unknown");
    inventory_ref_view_free(&v);
    inventory_event removed = {.kind = INVENTORY_PRODUCT_REMOVED, .reference = "tour"};
    CHECK(inventory_events_apply(e, b, &removed, 1, &failed, &err) == BO_NOT_FOUND,
          "events: another account cannot remove it");
    CHECK(inventory_events_apply(e, a, &removed, 1, &failed, &err) == BO_OK, "events: removed");
    CHECK(inventory_ref_read(e, a, "tour", day, day, &v) == BO_OK && v.presence == INVENTORY_REF_REMOVED,
          "read: a removed reference says so");
    inventory_ref_view_free(&v);
    inventory_event again = created("tour", -1, 100, 200);
    CHECK(inventory_events_apply(e, a, &again, 1, &failed, &err) == BO_OK &&
              inventory_ref_read(e, a, "tour", day, day, &v) == BO_OK && v.presence == INVENTORY_REF_ACTIVE &&
              v.unlimited && inventory_ref_seats_left(&v, day + 1, INVENTORY_WHOLE_DAY) == -1,
          "events: created again it is back, unlimited");
    inventory_ref_view_free(&v);
    char long_ref[INVENTORY_REF_MAX * 5];
    memset(long_ref, 'x', sizeof long_ref - 1), long_ref[sizeof long_ref - 1] = 0;
    CHECK(inventory_ref_read(e, a, long_ref, day, day, &v) == BO_OK && v.presence == INVENTORY_REF_UNKNOWN,
          "read: a reference longer than any stored one is unknown");
    inventory_ref_view_free(&v);
}

static void test_analytics(engine *e, const account *a, const account *b)
{
    bo_error err = {0};
    size_t failed;
    inventory_event ref = created("kayak", 10, 500, 900);
    CHECK(inventory_events_apply(e, a, &ref, 1, &failed, &err) == BO_OK, "analytics: a reference to sell");
    char order[48];
    test_id(order, sizeof order, "order");
    analytics_item items[] = {{"kayak", 2, 650, true, date_from_ymd(2030, 7, 1)}, {"not-a-product", 1, 100, false, 0}};
    analytics_event events[] = {
        {.kind = ANALYTICS_PAGE_VIEWED, .acct = a, .cookie_id = "cookie-1", .time = 1, .detail = "{}"},
        {.kind = ANALYTICS_ORDER_CREATED, .acct = a, .cookie_id = "cookie-1", .time = 2, .order_id = order,
         .items = items, .nitems = 2, .detail = "{}"},
        {.kind = ANALYTICS_VIEWED_PRICES, .acct = b, .cookie_id = "cookie-1", .time = 3, .product_id = "kayak"},
    };
    instant_us before = clock_now();
    CHECK(analytics_ingest(e, "192.0.2.5", events, 3, &err) == BO_OK, "analytics: a batch is stored");
    CHECK(analytics_ingest(e, "192.0.2.5", events + 1, 1, &err) == BO_OK, "analytics: a retried order is fine");
    inventory_ref_sale *sales;
    size_t n;
    CHECK(inventory_ref_sales(e, a, "kayak", before, &sales, &n) == BO_OK && n == 1 && sales[0].quantity == 2 &&
              sales[0].unit_price == 650 && sales[0].has_day && sales[0].event_day == date_from_ymd(2030, 7, 1) &&
              !strcmp(sales[0].order_id, order) && sales[0].sold_at >= before,
          "analytics: an order's reference items are its sales, once");
    free(sales);
    CHECK(inventory_ref_sales(e, b, "kayak", 0, &sales, &n) == BO_OK && n == 0,
          "analytics: another account has no sales of it");
    free(sales);
    CHECK(inventory_ref_sales(e, a, "kayak", clock_now() + US_PER_SEC, &sales, &n) == BO_OK && n == 0,
          "analytics: sales since a later instant: none");
    free(sales);

    /* the cookie limit counts a batch whole: the batch over it stores nothing */
    char cookie[48];
    test_id(cookie, sizeof cookie, "flood");
    size_t many = 600;
    analytics_event *flood = calloc(many + 1, sizeof *flood);
    for (size_t i = 0; i <= many; i++)
        flood[i] = (analytics_event){.kind = ANALYTICS_VIEWED_PRODUCTS, .acct = a, .cookie_id = cookie, .detail = ""};
    CHECK(analytics_ingest(e, NULL, flood, many, &err) == BO_OK, "limit: 600 events of one cookie in a minute");
    CHECK(analytics_ingest(e, NULL, flood, 1, &err) == BO_RATE_LIMITED && !strcmp(err.code, "rate_limited"),
          "limit: the 601st is refused");
    free(flood);

    int deleted = -1;
    CHECK(analytics_prune(e, clock_now(), &deleted) == BO_OK && deleted == 0, "prune: recent events stay");
    CHECK(analytics_prune(e, clock_now() + 31LL * 86400 * US_PER_SEC, &deleted) == BO_OK && deleted >= 603,
          "prune: events past the retention go");
}

/* Concurrent batches of one account and network, adding to the same
 * counters: none is lost or refused (the rows are spread and locked in one
 * order, so no batch deadlocks another). */
#define INGEST_THREADS 4
#define INGEST_BATCHES 20
#define INGEST_EVENTS 50

typedef struct {
    engine *e;
    const account *a;
    const char *ip; /* a network of this run's own: the windows are shared by every run on the database */
    int failures;
} ingest_worker;

static void *ingest_batches(void *arg)
{
    ingest_worker *w = arg;
    analytics_event events[INGEST_EVENTS];
    char cookie[48];
    for (int b = 0; b < INGEST_BATCHES; b++) {
        test_id(cookie, sizeof cookie, "busy");
        for (int i = 0; i < INGEST_EVENTS; i++)
            events[i] = (analytics_event){.kind = (analytics_kind)(i % 5), .acct = w->a, .cookie_id = cookie,
                                          .time = i, .detail = "{}"};
        bo_error err = {0};
        if (analytics_ingest(w->e, w->ip, events, INGEST_EVENTS, &err) != BO_OK) {
            printf("# ingest: %s\n", err.message);
            w->failures++;
        }
    }
    return NULL;
}

static void test_concurrent_ingest(engine *e)
{
    account a;
    CHECK(test_account(e, "invc", "C", &a), "concurrent: an account of its own");
    ingest_worker workers[INGEST_THREADS];
    pthread_t threads[INGEST_THREADS];
    char ip[32];
    snprintf(ip, sizeof ip, "10.%u.%u.20", rand_below(256), rand_below(256));
    for (int t = 0; t < INGEST_THREADS; t++) {
        workers[t] = (ingest_worker){e, &a, ip, 0};
        pthread_create(&threads[t], NULL, ingest_batches, &workers[t]);
    }
    int failures = 0;
    for (int t = 0; t < INGEST_THREADS; t++) pthread_join(threads[t], NULL), failures += workers[t].failures;
    CHECK(failures == 0, "concurrent: every batch is taken");
    civil_date day;
    int32_t secs;
    tz_instant_to_local(a.timezone, clock_now(), &day, &secs);
    int64_t total = 0, count = 0;
    for (int k = 0; k < 5; k++) {
        /* a batch that began before midnight counts on the day before */
        int64_t today = 0, before = 0;
        analytics_daily_count(e, &a, day, (analytics_kind)k, "", &today);
        analytics_daily_count(e, &a, day - 1, (analytics_kind)k, "", &before);
        total += today + before;
    }
    CHECK(total == INGEST_THREADS * INGEST_BATCHES * INGEST_EVENTS, "concurrent: the counters add up");
    CHECK(analytics_daily_count(e, &a, day, ANALYTICS_TRANSACTION, "", &count) == BO_OK && count == 0,
          "concurrent: a kind never sent counts 0");
}

/* The queued ingest: an engine with workers answers from its queue and its
 * writer thread writes it; the per-cookie limit counts what one engine has
 * queued and what another has written, and a clean close writes the rest. */
static void test_queued_ingest(store *s)
{
    engine_config with_writer = {.default_hold_seconds = 900,
                                 .catalog_codec = &catalog_doc_json_codec,
                                 .start_workers = true,
                                 .analytics_per_cookie_per_minute = 3};
    engine_config inline_writes = with_writer;
    inline_writes.start_workers = false;
    engine *queued = engine_open(s, &with_writer), *other = engine_open(s, &inline_writes);
    account a;
    CHECK(test_account(other, "invq", "Q", &a), "queued: an account of its own");
    char cookie[48];
    test_id(cookie, sizeof cookie, "queued");
    analytics_event two[2];
    for (int i = 0; i < 2; i++)
        two[i] = (analytics_event){.kind = ANALYTICS_PAGE_VIEWED, .acct = &a, .cookie_id = cookie, .detail = "{}"};
    bo_error err = {0};
    CHECK(analytics_ingest(queued, NULL, two, 2, &err) == BO_OK, "queued: a batch is accepted");
    CHECK(analytics_ingest(queued, NULL, two, 2, &err) == BO_RATE_LIMITED,
          "queued: its count holds the next one back, written or not");
    size_t written = 99;
    CHECK(analytics_flush(queued, &written) == BO_OK && written <= 2, "queued: a flush writes what is left");
    CHECK(analytics_ingest(other, NULL, two, 2, &err) == BO_RATE_LIMITED,
          "queued: another engine counts what the first wrote");
    CHECK(analytics_ingest(other, NULL, two, 1, &err) == BO_OK, "queued: up to the limit");
    char later[48];
    test_id(later, sizeof later, "close");
    analytics_event last = {.kind = ANALYTICS_PAGE_VIEWED, .acct = &a, .cookie_id = later, .detail = "{}"};
    CHECK(analytics_ingest(queued, NULL, &last, 1, &err) == BO_OK, "queued: one more, then a clean stop");
    engine_close(queued);
    civil_date day;
    int32_t secs;
    tz_instant_to_local(a.timezone, clock_now(), &day, &secs);
    int64_t today = 0, before = 0;
    analytics_daily_count(other, &a, day, ANALYTICS_PAGE_VIEWED, "", &today);
    analytics_daily_count(other, &a, day - 1, ANALYTICS_PAGE_VIEWED, "", &before);
    CHECK(today + before == 4, "queued: every accepted event is written, the last at the close");
    engine_close(other);
}

/* A burst beyond the queue's bound (50,000 events) from one busy thread: every
 * batch is taken, its answer waiting for the writer thread above a fifth of the
 * bound, none refused. The writer runs at SCHED_IDLE on SQLite, and the busy
 * thread alone would leave it no CPU. */
static void test_burst_waits_for_the_writer(store *s)
{
    engine_config cfg = {.default_hold_seconds = 900,
                         .catalog_codec = &catalog_doc_json_codec,
                         .start_workers = true,
                         .analytics_per_ip_per_minute = 100000000,
                         .analytics_per_cookie_per_minute = 100000000};
    engine *e = engine_open(s, &cfg);
    account a;
    CHECK(test_account(e, "invw", "W", &a), "burst: an account of its own");
    char cookie[48];
    test_id(cookie, sizeof cookie, "burst");
    enum { BURST_BATCH = 500, BURST_BATCHES = 130 };
    analytics_event *batch = calloc(BURST_BATCH, sizeof *batch);
    for (int i = 0; batch && i < BURST_BATCH; i++)
        batch[i] = (analytics_event){.kind = ANALYTICS_PAGE_VIEWED, .acct = &a, .cookie_id = cookie, .detail = "{}"};
    int refused = 0;
    bo_error err = {0};
    for (int i = 0; batch && i < BURST_BATCHES; i++)
        if (analytics_ingest(e, "10.9.9.9", batch, BURST_BATCH, &err) != BO_OK) refused++;
    if (refused) printf("# %d of %d batches refused\n", refused, (int)BURST_BATCHES);
    CHECK(batch && refused == 0, "burst: 65,000 events at once are all taken, none refused");
    free(batch);
    engine_close(e);
}

/* The lines of a day file of the raw events' log that name cookie; -1 if unreadable. */
static int log_lines(const char *dir, civil_date day, const char *cookie, char *first, size_t n)
{
    char path[512], date[11], line[4096];
    date_format(day, date);
    snprintf(path, sizeof path, "%s/%s.ndjson.gz", dir, date);
    gzFile f = gzopen(path, "rb");
    if (!f) return -1;
    int found = 0;
    while (gzgets(f, line, sizeof line))
        if (strstr(line, cookie) && found++ == 0) snprintf(first, n, "%s", line);
    gzclose(f);
    return found;
}

/* Raw events in the log (store/analytics_log.c) instead of the table: one
 * JSON line each in the day's gzip file, every field and the payload as
 * sent; pruning removes whole days past the retention and nothing else. */
static void test_analytics_log(store *s)
{
    char dir[] = "/tmp/bo-analytics-log-XXXXXX", sub[64], file[128], first[4096] = "";
    CHECK(mkdtemp(dir) != NULL, "log: a directory of its own");
    snprintf(sub, sizeof sub, "%s/events", dir);
    char *err = NULL;
    snprintf(file, sizeof file, "%s/plain-file", dir);
    FILE *plain = fopen(file, "w");
    if (plain) fclose(plain);
    snprintf(file, sizeof file, "%s/plain-file/events", dir);
    CHECK(store_analytics_log_open(s, file, &err) == STORE_ERROR && err && strstr(err, file),
          "log: a directory that cannot be made is refused, named");
    free(err), err = NULL;
    CHECK(store_analytics_log_open(s, sub, &err) == STORE_OK && store_analytics_log(s), "log: made and set");
    engine_config inline_writes = {.default_hold_seconds = 900, .catalog_codec = &catalog_doc_json_codec};
    engine *e = engine_open(s, &inline_writes);
    account a;
    CHECK(test_account(e, "invl", "L", &a), "log: an account of its own");
    char cookie[48];
    test_id(cookie, sizeof cookie, "logged");
    analytics_event two[2] = {
        {.kind = ANALYTICS_PAGE_VIEWED, .acct = &a, .cookie_id = cookie, .time = 7,
         .detail = "{\"currentUrl\":\"https://shop.example.com/\\\"\\n\u00e9\"}"},
        {.kind = ANALYTICS_TRANSACTION, .acct = &a, .cookie_id = cookie, .time = 8, .order_id = "o-1", .detail = "{}"},
    };
    bo_error berr = {0};
    CHECK(analytics_ingest(e, "198.51.100.7", two, 2, &berr) == BO_OK, "log: a batch is accepted");
    civil_date today = (civil_date)(clock_now() / US_PER_SEC / 86400);
    civil_date day = today;
    int lines = log_lines(sub, day, cookie, first, sizeof first);
    if (lines != 2) lines = log_lines(sub, --day, cookie, first, sizeof first); /* written just before midnight */
    CHECK(lines == 2, "log: both events are lines of the day's file");
    char again[4096] = "";
    CHECK(analytics_ingest(e, "198.51.100.7", two, 2, &berr) == BO_OK &&
              (log_lines(sub, day, cookie, again, sizeof again) == 4 || log_lines(sub, day + 1, cookie, again, sizeof again) == 2),
          "log: a second member, from the compressor and text buffer kept from the first, reads back whole after it");
    char want[512];
    snprintf(want, sizeof want, "\"account_id\":\"%s\",\"kind\":\"PageViewed\",\"cookie_id\":\"%s\",\"event_time_us\":7,"
             "\"ip_prefix\":\"198.51.100.0/24\",\"product_kind\":\"\",\"product_key\":\"\",\"order_id\":null,"
             "\"detail\":{\"currentUrl\":\"https://shop.example.com/\\\"\\n\u00e9\"}}\n", a.id, cookie);
    CHECK(strstr(first, want) != NULL && !strncmp(first, "{\"received_at_us\":", 18),
          "log: a line holds every field and the payload as sent");

    snprintf(file, sizeof file, "%s/2000-01-01.ndjson.gz", sub);
    FILE *old = fopen(file, "w");
    if (old) fclose(old);
    char notes[128];
    snprintf(notes, sizeof notes, "%s/1999-01-01.ndjson.gz.notes", sub);
    FILE *other = fopen(notes, "w");
    if (other) fclose(other);
    int deleted = -1;
    CHECK(analytics_prune(e, clock_now(), &deleted) == BO_OK && access(file, F_OK) != 0 &&
              log_lines(sub, today, cookie, first, sizeof first) >= 0,
          "log: a day past the retention goes, today stays");
    CHECK(analytics_prune(e, clock_now() + 32LL * 86400 * US_PER_SEC, &deleted) == BO_OK &&
              log_lines(sub, today, cookie, first, sizeof first) == -1 && access(notes, F_OK) == 0,
          "log: after the retention today goes too; files not the log's stay");
    /* a log that cannot be written (its directory gone) costs the raw events, never the batch or its counts */
    civil_date local;
    int32_t secs;
    tz_instant_to_local(a.timezone, clock_now(), &local, &secs);
    int64_t before = 0, after = 0;
    analytics_daily_count(e, &a, local, ANALYTICS_PAGE_VIEWED, "", &before);
    char gone[80];
    snprintf(gone, sizeof gone, "%s-gone", sub);
    CHECK(rename(sub, gone) == 0, "log: its directory taken away");
    CHECK(analytics_ingest(e, "198.51.100.7", two, 1, &berr) == BO_OK, "log: unwritable, the batch is still taken");
    analytics_daily_count(e, &a, local, ANALYTICS_PAGE_VIEWED, "", &after);
    CHECK(after == before + 1 && access(sub, F_OK) != 0, "log: and counted, with nothing made in its place");
    engine_close(e);
    store_set_analytics_log(s, NULL);
    snprintf(notes, sizeof notes, "%s/1999-01-01.ndjson.gz.notes", gone);
    unlink(notes), rmdir(gone);
    snprintf(file, sizeof file, "%s/plain-file", dir);
    unlink(file), rmdir(dir);
}

/* Pricing a reference (inventory_ref_price): the gate on the grid until the
 * cell is planned, plans within the bounds and on the grid, the seats left now
 * moving the price, sales raising it, scoped by account; removed: no price. */
static bool batch_agrees = true; /* inventory_ref_prices answered as inventory_ref_price, every cell so far */

static money ref_price(engine *e, const account *a, const char *ref, civil_date day, int32_t start, int64_t quantity,
                       int64_t seats, bool *planned)
{
    inventory_ref_view v;
    if (inventory_ref_read(e, a, ref, day, day, &v) != BO_OK) return -2;
    if (seats == -3) seats = inventory_ref_seats_left(&v, day, start); /* -3: as stored */
    money price = inventory_ref_price(e, a, &v, day, start, seats, quantity, planned);
    /* rtp's batch call answers the same for the cell, and nothing for a sold-out one beside it */
    inventory_ref_cell cells[] = {{day, start, seats}, {day, start, 0}};
    money batch[2];
    bool batch_planned[2];
    inventory_ref_prices(e, a, &v, cells, 2, quantity, batch, batch_planned);
    batch_agrees &= batch[0] == price && batch[1] == -1 && (!planned || batch_planned[0] == *planned);
    inventory_ref_view_free(&v);
    return price;
}

static civil_date local_today(const account *a)
{
    civil_date today;
    int32_t ignored;
    tz_instant_to_local(a->timezone, clock_now(), &today, &ignored);
    return today;
}

static void test_pricing(engine *e, const account *a, const account *b)
{
    bo_error err = {0};
    size_t failed;
    /* Four days ahead the lead time always lies in the 48-96 h pace band with at
     * least a day of that band still to come, so the sales below raise the
     * price at any hour; at three days, in the venue's last hour before
     * midnight, they fell in a band with under an hour left to sell in. */
    civil_date today = local_today(a), day = today + 4;
    inventory_event made[] = {created("boat", 100, 1250, 1800), seats("boat", day, 36000, 100)};
    inventory_event theirs = created("boat", 5, 100, 200);
    CHECK(inventory_events_apply(e, a, made, 2, &failed, &err) == BO_OK &&
              inventory_events_apply(e, b, &theirs, 1, &failed, &err) == BO_OK,
          "pricing: a reference in each account, the same id");
    bool planned = true;
    CHECK(ref_price(e, a, "boat", day, 36000, 2, -3, &planned) == 1800 && !planned,
          "pricing: unplanned, the gate price on the grid");
    CHECK(ref_price(e, a, "boat", day, 36000, 2, 0, NULL) == -1, "pricing: no seats, no price");
    CHECK(ref_price(e, a, "boat", day, 36000, 2, 1, NULL) == -1, "pricing: fewer seats than items, no price");
    CHECK(ref_price(e, a, "boat", today - 1, INVENTORY_WHOLE_DAY, 1, -3, NULL) == -1, "pricing: a past day, no price");
    CHECK(ref_price(e, b, "boat", day, 36000, 2, -3, NULL) == 200, "pricing: another account's own settings");
    CHECK(ref_price(e, a, "boat", day, INVENTORY_WHOLE_DAY, 1, -3, NULL) == 1800, "pricing: the whole day wanted too");
    CHECK(pricing_recompute(e, a, NULL, &err) == BO_OK, "pricing: the worker's recompute");
    money many = ref_price(e, a, "boat", day, 36000, 1, -3, &planned);
    CHECK(planned && many >= 1250 && many <= 1800, "pricing: planned, within the bounds");
    money few = ref_price(e, a, "boat", day, 36000, 1, 2, &planned);
    CHECK(planned && few > many && few <= 1800, "pricing: fewer seats left, a higher price");
    CHECK(ref_price(e, b, "boat", day, 36000, 2, -3, &planned) == 200 && !planned,
          "pricing: one account's recompute plans none of another's");
    ref_price(e, a, "boat", day, 36000, 1, 500, &planned);
    CHECK(!planned, "pricing: more seats than planned with: replanned");
    money whole = ref_price(e, a, "boat", day, INVENTORY_WHOLE_DAY, 1, -3, &planned);
    CHECK(planned && whole >= 1250 && whole <= 1800, "pricing: the whole day planned");

    /* sales for that day: its pace and the fitted level rise, and so does its price */
    analytics_item items[] = {{"boat", 4, 1800, true, day}};
    analytics_event orders[40];
    char ids[40][32];
    for (int i = 0; i < 40; i++) {
        snprintf(ids[i], sizeof ids[i], "boat-order-%d-%lld", i, (long long)clock_now());
        orders[i] = (analytics_event){.kind = ANALYTICS_ORDER_CREATED, .acct = a, .cookie_id = ids[i],
                                      .time = clock_now(), .order_id = ids[i], .items = items, .nitems = 1,
                                      .detail = "{}"};
    }
    CHECK(analytics_ingest(e, "192.0.2.9", orders, 40, &err) == BO_OK, "pricing: orders of the reference");
    CHECK(pricing_recompute(e, a, NULL, &err) == BO_OK, "pricing: recompute after sales");
    money busy = ref_price(e, a, "boat", day, INVENTORY_WHOLE_DAY, 1, 100, &planned);
    CHECK(planned && busy > whole && busy <= 1800, "pricing: sales raise the day's price");

    inventory_event removed = {.kind = INVENTORY_PRODUCT_REMOVED, .reference = "boat"};
    CHECK(inventory_events_apply(e, a, &removed, 1, &failed, &err) == BO_OK &&
              pricing_recompute(e, a, NULL, &err) == BO_OK,
          "pricing: removed, and recomputed");
    CHECK(ref_price(e, a, "boat", day, 36000, 1, -3, NULL) == -1, "pricing: a removed reference has no price");
    char id[64], key[24];
    inventory_ref_pricing_id("boat", id, sizeof id);
    CHECK(strcmp(id, "boat") != 0, "pricing: a reference's id never names a product");
    inventory_ref_cell_key(date_from_ymd(2030, 6, 1), 36000, key);
    CHECK(!strcmp(key, "2030-06-01T10:00"), "pricing: a start time's key is a product's");
    inventory_ref_cell_key(date_from_ymd(2030, 6, 1), 36005, key);
    CHECK(!strcmp(key, "2030-06-01T10:00:05"), "pricing: seconds when there are any");
    inventory_ref_cell_key(date_from_ymd(2030, 6, 1), INVENTORY_WHOLE_DAY, key);
    CHECK(!strcmp(key, "2030-06-01"), "pricing: the whole day's key is the day");
    CHECK(batch_agrees, "pricing: inventory_ref_prices answers each cell as inventory_ref_price does");
}

/* Why a reference has its price (inventory_ref_explain, inventory_ref_model_get):
 * the price inventory_ref_price answers for one item, from the same lookup,
 * with the seats left now; unknown, removed or another account's: not found. */
static void test_explain(engine *e, const account *a, const account *b)
{
    bo_error err = {0};
    size_t failed;
    civil_date today = local_today(a), day = today + 4;
    pricing_explain_info x;
    pricing_model_info m;
    inventory_ref_view v;
    CHECK(inventory_ref_explain(e, a, "canoe", day, 36000, &x, &err) == BO_NOT_FOUND &&
              !strcmp(err.field, "reference") && inventory_ref_model_get(e, a, "canoe", &v, &m, &err) == BO_NOT_FOUND,
          "explain: an unknown reference is not found");
    inventory_event made[] = {created("canoe", 100, 1250, 1800), seats("canoe", day, 36000, 100)};
    CHECK(inventory_events_apply(e, a, made, 2, &failed, &err) == BO_OK, "explain: a reference");
    CHECK(inventory_ref_explain(e, b, "canoe", day, 36000, &x, &err) == BO_NOT_FOUND &&
              inventory_ref_model_get(e, b, "canoe", &v, &m, &err) == BO_NOT_FOUND,
          "explain: another account's is not found");
    CHECK(inventory_ref_explain(e, a, "canoe", day, 36000, &x, &err) == BO_OK && x.dynamic && !x.planned &&
              x.price == 1800 && x.at_max && !x.at_min && x.seats_left == 100 &&
              x.at.day == day && x.at.time_from == 36000,
          "explain: unplanned, the gate on the grid, at the maximum, the seats left now");
    char key[24];
    inventory_ref_cell_key(day, 36000, key);
    CHECK(!strcmp(x.at.key, key), "explain: the cell's key");
    CHECK(inventory_ref_model_get(e, a, "canoe", &v, &m, &err) == BO_OK && !m.fitted &&
              v.settings.min_price == 1250 && v.settings.max_price == 1800 && v.availability == 100 &&
              !strcmp(v.reference, "canoe") && m.model.reference_price == 1800,
          "model: the settings as mapped, the prior at the gate before a fit");
    inventory_ref_view_free(&v);
    CHECK(pricing_recompute(e, a, NULL, &err) == BO_OK, "explain: the worker's recompute");
    bool planned = false;
    money rtp = ref_price(e, a, "canoe", day, 36000, 1, -3, &planned);
    CHECK(inventory_ref_explain(e, a, "canoe", day, 36000, &x, &err) == BO_OK && planned && x.planned &&
              x.price == rtp && x.wanted == rtp && x.seats_left == 100 && x.planned_at > 0 &&
              x.at_min == (rtp == 1250) && !x.rate_limited,
          "explain: planned, the price rtp answers");
    CHECK(inventory_ref_model_get(e, a, "canoe", &v, &m, &err) == BO_OK && m.fitted && m.planned_occurrences >= 1 &&
              m.category_sales == 0,
          "model: fitted, with its planned cells");
    inventory_ref_view_free(&v);
    inventory_event fewer = seats("canoe", day, 36000, 2);
    CHECK(inventory_events_apply(e, a, &fewer, 1, &failed, &err) == BO_OK &&
              inventory_ref_explain(e, a, "canoe", day, 36000, &x, &err) == BO_OK && x.planned &&
              x.seats_left == 2 && x.price >= rtp && x.price == ref_price(e, a, "canoe", day, 36000, 1, -3, NULL),
          "explain: fewer seats left now, the price (higher or equal) rtp answers");
    inventory_event none = seats("canoe", day, 36000, 0);
    CHECK(inventory_events_apply(e, a, &none, 1, &failed, &err) == BO_OK &&
              inventory_ref_explain(e, a, "canoe", day, 36000, &x, &err) == BO_OK && !x.planned && x.price == -1 &&
              x.seats_left == 0,
          "explain: sold out, no price");
    CHECK(inventory_ref_explain(e, a, "canoe", today - 1, INVENTORY_WHOLE_DAY, &x, &err) == BO_OK &&
              x.price == -1 && !x.planned,
          "explain: a past day, no price");
    char *long_ref = malloc(4000);
    memset(long_ref, 'k', 3999), long_ref[3999] = 0;
    CHECK(inventory_ref_explain(e, a, long_ref, day, 36000, &x, &err) == BO_NOT_FOUND &&
              inventory_ref_model_get(e, a, long_ref, &v, &m, &err) == BO_NOT_FOUND,
          "explain: longer than any reference, not found");
    free(long_ref);
    inventory_event removed = {.kind = INVENTORY_PRODUCT_REMOVED, .reference = "canoe"};
    CHECK(inventory_events_apply(e, a, &removed, 1, &failed, &err) == BO_OK &&
              inventory_ref_explain(e, a, "canoe", day, 36000, &x, &err) == BO_NOT_FOUND &&
              inventory_ref_model_get(e, a, "canoe", &v, &m, &err) == BO_NOT_FOUND,
          "explain: a removed reference is not found");
}

int main(void)
{
    char path[128];
    const char *uri = test_db_uri("inventory_refs", path);
    test_server_key(7);
    store *s = test_store_open(uri);
    if (!s) return check_summary();
    engine *e = test_engine_open(s);
    account a, b;
    CHECK(test_account(e, "inva", "A", &a) && test_account(e, "invb", "B", &b), "accounts");
    test_ip_prefix();
    test_seats_rule();
    test_events(e, &a, &b);
    test_analytics(e, &a, &b);
    test_concurrent_ingest(e);
    test_queued_ingest(s);
    test_burst_waits_for_the_writer(s);
    test_pricing(e, &a, &b);
    test_explain(e, &a, &b);
    test_analytics_log(s);
    return test_finish(e, s, uri, path);
}
