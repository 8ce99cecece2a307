/* Timeslot groups (core/timeslots.c) and the live counts per occurrence
 * (store/occurrence_counts.c), through the engine's C API on the database
 * named by BOXOFFICE_TEST_DB (default: a fresh SQLite file). */
#include "fixture.h"
#include "core/engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static engine *E;
static account A, B;
static civil_date TODAY;
static char SCHED[48], WEEKDAY_SCHED[48], CAT[48], CAT2[48], EMPTY_CAT[48], EVENT[48], SCHED_EVENT[48];
static char POOL[48], PA[48], PC[48], PE[48], PS[48];

static bool put(const account *a, catalog_kind k, json_t *doc) { return test_catalog_put(E, a, k, doc); }

static void setup(void)
{
    int32_t secs;
    tz_instant_to_local("Europe/Amsterdam", clock_now(), &TODAY, &secs);
    char from[11], to[11], closed[11];
    date_format(TODAY + 1, from);
    date_format(TODAY + 10, to);
    date_format(TODAY + 2, closed);
    struct {
        char *id;
        const char *prefix;
    } fresh[] = {{SCHED, "sched"}, {WEEKDAY_SCHED, "wsched"}, {CAT, "cat"}, {CAT2, "cat2"}, {EMPTY_CAT, "empty"},
                 {EVENT, "event"}, {SCHED_EVENT, "sevent"}, {POOL, "pool"}, {PA, "pa"}, {PC, "pc"}, {PE, "pe"},
                 {PS, "ps"}};
    for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++) test_id(fresh[i].id, 48, fresh[i].prefix);
    bool ok =
        put(&A, CAT_SCHEDULE, json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:[s]}", "id", SCHED, "open", "09:00", "close", "12:00",
                                        "slot_minutes", 60, "valid_from", from, "valid_to", to, "closed_dates", closed)) &&
        put(&A, CAT_SCHEDULE, json_pack("{s:s,s:s,s:s,s:i,s:[i]}", "id", WEEKDAY_SCHED, "open", "10:00", "close",
                                        "11:00", "slot_minutes", 30, "weekdays", 0)) &&
        put(&A, CAT_CATEGORY, json_pack("{s:s,s:{s:s},s:s,s:s}", "id", CAT, "name", "en", "Timed", "flow", "dated",
                                        "schedule_id", SCHED)) &&
        put(&A, CAT_CATEGORY, json_pack("{s:s,s:{s:s},s:s}", "id", CAT2, "name", "en", "Also timed", "schedule_id",
                                        SCHED)) &&
        put(&A, CAT_CATEGORY, json_pack("{s:s,s:{s:s},s:s}", "id", EMPTY_CAT, "name", "en", "Nothing sold",
                                        "schedule_id", SCHED)) &&
        put(&A, CAT_POOL, json_pack("{s:s,s:i}", "id", POOL, "capacity", 10)) &&
        put(&A, CAT_EVENT, json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", EVENT, "name", "Gig", "occurrences", "id",
                                     "oc-1", "start", "2030-01-01T20:00:00")) &&
        put(&A, CAT_EVENT, json_pack("{s:s,s:s,s:s}", "id", SCHED_EVENT, "name", "Weekday tours", "schedule_id",
                                     WEEKDAY_SCHED)) &&
        put(&A, CAT_PRODUCT, json_pack("{s:s,s:{s:s},s:i,s:[s,s],s:[{s:s,s:i}]}", "id", PA, "name", "en", "Adult", "price",
                                       1000, "category_ids", CAT, CAT2, "pools", "pool_id", POOL, "amount", 1)) &&
        put(&A, CAT_PRODUCT, json_pack("{s:s,s:{s:s},s:i,s:[s]}", "id", PC, "name", "en", "Child", "price", 500,
                                       "category_ids", CAT2)) &&
        put(&A, CAT_PRODUCT, json_pack("{s:s,s:{s:s},s:i,s:s,s:[s]}", "id", PE, "name", "en", "Seat", "price", 500,
                                       "event_id", EVENT, "category_ids", CAT)) &&
        put(&A, CAT_PRODUCT, json_pack("{s:s,s:{s:s},s:i,s:s}", "id", PS, "name", "en", "Tour", "price", 500,
                                       "event_id", SCHED_EVENT));
    CHECK(ok, "catalog set up");
}

static void test_groups(void)
{
    catalog_view *v = catalog_view_open(E, &A);
    const catalog_model *m = catalog_view_model(v);
    timeslot_group *groups;
    size_t n = timeslot_groups(m, &A, &groups);
    CHECK(n == 3 && groups[0].event && !strcmp(groups[0].event->id, SCHED_EVENT) && groups[1].category &&
              !strcmp(groups[1].category->id, CAT) && !strcmp(groups[2].category->id, CAT2),
          "groups: the scheduled event, then the categories that sell (not the empty one, not the gig)");
    free(groups);
    timeslot_group g, g2;
    CHECK(timeslot_group_find(m, &A, CAT_CATEGORY, CAT, &g) && g.schedule && !strcmp(g.timezone, "Europe/Amsterdam"),
          "find a category's group");
    CHECK(!timeslot_group_find(m, &A, CAT_CATEGORY, EMPTY_CAT, &g2), "a category selling nothing has none");
    CHECK(!timeslot_group_find(m, &A, CAT_EVENT, EVENT, &g2), "an event with occurrences has none");
    CHECK(!timeslot_group_find(m, &A, CAT_CATEGORY, "nope", &g2) && !timeslot_group_find(m, &A, CAT_EVENT, NULL, &g2),
          "unknown ids have none");
    CHECK(timeslot_group_for_product(m, &A, model_product(m, PA), &g2) && g2.category == g.category,
          "a product's group is its first scheduled category's");
    CHECK(timeslot_group_for_product(m, &A, model_product(m, PS), &g2) && g2.event &&
              !strcmp(g2.event->id, SCHED_EVENT),
          "an event's schedule times its products");
    CHECK(!timeslot_group_for_product(m, &A, model_product(m, PE), &g2), "an event's occurrences are not a group");
    CHECK(timeslot_group_sells(m, &A, &g, model_product(m, PA)) && !timeslot_group_sells(m, &A, &g, model_product(m, PC)) &&
              !timeslot_group_sells(m, &A, &g, model_product(m, PE)),
          "a category group sells its products the schedule times");

    civil_date lo, hi;
    timeslot_window(&g, &lo, &hi);
    CHECK(lo == TODAY + 1 && hi == TODAY + 10, "window: the schedule's validity");
    CHECK(timeslots_count(&g, lo, hi) == 9 * 3, "count: 10 days of 3 slots, one day closed");
    slot s;
    bool listed;
    char key[64], date[11];
    date_format(TODAY + 3, date);
    snprintf(key, sizeof key, "%sT10:00", date);
    CHECK(timeslot_at(&g, key, &s, &listed) && listed && s.day == TODAY + 3 && s.time_from == 36000 &&
              s.time_to == 39600 && !strcmp(s.key, key) && s.ends_at - s.starts_at == 3600 * US_PER_SEC,
          "a slot by its key");
    snprintf(key, sizeof key, "%sT10:30", date);
    CHECK(!timeslot_at(&g, key, &s, &listed), "off the grid: none");
    snprintf(key, sizeof key, "%sT12:00", date);
    CHECK(!timeslot_at(&g, key, &s, &listed), "after closing: none");
    CHECK(!timeslot_at(&g, date, &s, &listed) && !timeslot_at(&g, "2026-02-30T10:00", &s, &listed) &&
              !timeslot_at(&g, "", &s, &listed) && !timeslot_at(&g, NULL, &s, &listed),
          "malformed keys: none");
    date_format(TODAY + 2, date);
    snprintf(key, sizeof key, "%sT09:00", date);
    CHECK(timeslot_at(&g, key, &s, &listed) && !listed && !s.open, "a closed date's slot exists, unlisted");

    slot out[40];
    size_t k = timeslots_walk(&g, lo, hi, 0, true, out, 40);
    CHECK(k == 27, "walk: every listed slot");
    bool ordered = true;
    for (size_t i = 1; i < k; i++) ordered &= out[i].starts_at < out[i - 1].starts_at;
    CHECK(ordered && out[0].day == TODAY + 10 && out[0].time_from == 11 * 3600, "descending from the last slot");
    instant_us from = out[4].starts_at;
    slot page[3];
    CHECK(timeslots_walk(&g, lo, hi, from, true, page, 3) == 3 && page[0].starts_at == from &&
              page[2].starts_at == out[6].starts_at,
          "descending from a start, inclusive, max honoured");
    CHECK(timeslots_walk(&g, lo, hi, from, false, page, 3) == 3 && page[0].starts_at == from &&
              page[1].starts_at == out[3].starts_at,
          "ascending from a start");
    CHECK(timeslots_walk(&g, lo, hi, out[26].starts_at - 1, true, page, 3) == 0, "nothing before the first");
    CHECK(timeslots_walk(&g, hi + 1, hi, 0, true, page, 3) == 0, "an empty window");

    timeslot_group weekday;
    CHECK(timeslot_group_find(m, &A, CAT_EVENT, SCHED_EVENT, &weekday), "the scheduled event's group");
    timeslot_window(&weekday, &lo, &hi);
    CHECK(lo == TODAY - TIMESLOT_HORIZON_DAYS && hi == TODAY + TIMESLOT_HORIZON_DAYS,
          "an unbounded schedule is listed a horizon either side of today");
    size_t mondays = 0;
    for (civil_date d = lo; d <= hi; d++) mondays += date_weekday(d) == 0;
    CHECK(timeslots_count(&weekday, lo, hi) == mondays * 2, "only its weekdays, two half-hour slots each");
    catalog_view_close(v);
}

static void test_counts(void)
{
    char date[11], key[64], other_key[64];
    date_format(TODAY + 4, date);
    snprintf(key, sizeof key, "%sT09:00", date);
    snprintf(other_key, sizeof other_key, "%sT10:00", date);
    cart_line two = {PA, 2}, one = {PA, 1};
    cart_request held = {.channel = "admin", .category_id = CAT, .day = TODAY + 4, .start_time = 9 * 3600,
                         .end_time = -1, .lines = &two, .nlines = 1, .use_engine_prices = true};
    cart_request booked = held;
    booked.lines = &one;
    cart_record c1, c2;
    bo_error err = {0};
    CHECK(cart_create(E, &A, &held, &c1, &err) == BO_OK, "hold two");
    CHECK(cart_create(E, &A, &booked, &c2, &err) == BO_OK, "hold one");
    char order_id[40];
    bool created;
    book_request br = {.cart_id = c2.id};
    CHECK(order_book(E, &A, &br, order_id, &created, &err) == BO_OK, "book one");
    char ticket_id[40];
    CHECK(ticket_issue(E, &A, PA, NULL, TODAY + 4, 9 * 3600, NULL, "admin", ticket_id, &err) == BO_OK,
          "issue one without an order");
    const char *keys[] = {key, other_key, "no-such-occurrence"};
    occurrence_counts counts;
    CHECK(occurrence_counts_read(E, &A, keys, 3, &counts, &err) == BO_OK, "counts read");
    CHECK(counts.nproducts == 1 && !strcmp(counts.products[0].occurrence, key) &&
              !strcmp(counts.products[0].product_id, PA) && counts.products[0].held == 2 &&
              counts.products[0].issued == 2,
          "one row: two held, two issued (an order's and one without)");
    CHECK(counts.norders == 1 && !strcmp(counts.orders[0].order_id, order_id), "one order behind them");
    occurrence_counts_free(&counts);
    occurrence_counts other;
    CHECK(occurrence_counts_read(E, &B, keys, 3, &other, &err) == BO_OK && other.nproducts == 0 && other.norders == 0,
          "another account counts nothing of these");
    occurrence_counts_free(&other);
    CHECK(ticket_void(E, &A, ticket_id, &err) == BO_OK && cart_delete(E, &A, c1.id, &err) == BO_OK,
          "void the one, release the hold");
    CHECK(occurrence_counts_read(E, &A, keys, 1, &counts, &err) == BO_OK && counts.nproducts == 1 &&
              counts.products[0].held == 0 && counts.products[0].issued == 1,
          "counts follow a void and a release");
    occurrence_counts_free(&counts);
    CHECK(order_cancel(E, &A, order_id, "test", "test", &err) == BO_OK, "cancel");
    CHECK(occurrence_counts_read(E, &A, keys, 1, &counts, &err) == BO_OK && counts.nproducts == 0 &&
              counts.norders == 0,
          "a cancelled order counts nothing");
    occurrence_counts_free(&counts);
    CHECK(occurrence_counts_read(E, &A, keys, 0, &counts, &err) == BO_OK && counts.nproducts == 0, "no keys: nothing");
    const char **many = calloc(STORE_COUNTS_MAX_KEYS + 1, sizeof *many);
    for (size_t i = 0; i <= STORE_COUNTS_MAX_KEYS; i++) many[i] = key;
    CHECK(occurrence_counts_read(E, &A, many, STORE_COUNTS_MAX_KEYS + 1, &counts, &err) == BO_INVALID,
          "too many keys at once: refused");
    free(many);
    cart_record_free(&c1);
    cart_record_free(&c2);
}

int main(void)
{
    secure_init();
    test_server_key(9);
    char path[128];
    const char *uri = test_db_uri("timeslots", path);
    store *st = test_store_open(uri);
    if (!st) return check_summary();
    E = test_engine_open(st);
    CHECK(test_account(E, "ts-a-", "Timeslots A", &A) && test_account(E, "ts-b-", "Timeslots B", &B), "accounts");
    setup();
    test_groups();
    test_counts();
    return test_finish(E, st, uri, path);
}
