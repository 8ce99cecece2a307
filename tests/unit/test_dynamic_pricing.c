/* Dynamic pricing in the engine (core/dynamic_pricing.c) on the database named
 * by BOXOFFICE_TEST_DB (default: a fresh SQLite file): settings are checked
 * and scoped by account; off means the price tables; on, a product shows the
 * gate price on the grid until its plan is built, then the plan's prices,
 * always on the grid within the bounds; a hold keeps the price it was made at
 * when the price moves; nothing sellable gives no price; a visitor's quote is
 * held for its life and never above the current price. The model's own
 * properties are tests/unit/test_price_model.c. */
#include "fixture.h"
#include "core/engine.h"
#include "util/seeded_random.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static engine *E;
static account A, B;
static civil_date TODAY;
static char SCHED[48], CAT[48], POOL[48], PRODUCT[48];

static bool put(const account *a, catalog_kind k, json_t *doc) { return test_catalog_put(E, a, k, doc); }

static void setup(void)
{
    int32_t secs;
    tz_instant_to_local("Europe/Amsterdam", clock_now(), &TODAY, &secs);
    char from[11], to[11];
    date_format(TODAY + 1, from);
    date_format(TODAY + 10, to);
    test_id(SCHED, 48, "sched"), test_id(CAT, 48, "cat"), test_id(POOL, 48, "pool"), test_id(PRODUCT, 48, "adult");
    bool ok = put(&A, CAT_SCHEDULE, json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "id", SCHED, "open", "09:00", "close",
                                              "12:00", "slot_minutes", 60, "valid_from", from, "valid_to", to)) &&
              put(&A, CAT_CATEGORY, json_pack("{s:s,s:{s:s},s:s,s:s}", "id", CAT, "name", "en", "Timed", "flow",
                                              "dated", "schedule_id", SCHED)) &&
              put(&A, CAT_POOL, json_pack("{s:s,s:i}", "id", POOL, "capacity", 20)) &&
              put(&A, CAT_PRODUCT, json_pack("{s:s,s:{s:s},s:i,s:[s],s:[{s:s,s:i}]}", "id", PRODUCT, "name", "en",
                                             "Adult", "price", 1000, "category_ids", CAT, "pools", "pool_id", POOL,
                                             "amount", 1));
    CHECK(ok, "catalog set up");
}

static slot slot_at(civil_date day, int hour)
{
    slot s = {0};
    bo_error err = {0};
    if (occurrence_resolve(E, &A, PRODUCT, CAT, day, hour * 3600, NULL, &s, &err) != BO_OK)
        CHECK(false, "slot resolves"); /* reported only when it fails: called for every slot */
    return s;
}

static price_quote price_of(const slot *s, int64_t quantity)
{
    price_quote q = {0};
    bo_error err = {0};
    if (price_for(E, &A, PRODUCT, s, quantity, &q, &err) != BO_OK) CHECK(false, "price_for answers");
    return q;
}

static bool refused(price_settings s, const char *field)
{
    pricing_product_settings out;
    bo_error err = {0};
    bo_status st = pricing_settings_put(E, &A, PRODUCT, &s, &out, &err);
    if (st == BO_INVALID && !strcmp(err.code, "invalid_pricing") && !strcmp(err.field, field)) return true;
    printf("# got %d %s %s: %s\n", st, err.code, err.field, err.message);
    return false;
}

static const price_settings ON = {true, 500, 3000, 100, 1500, 0, 0};

static void test_settings(void)
{
    price_settings s = ON;
    s.step = 0;
    CHECK(refused(s, "step"), "settings: a step of 0 refused on step");
    s = ON, s.min_price = 4000;
    CHECK(refused(s, "max_price"), "settings: min above max refused on max_price");
    s = ON, s.min_price = 0;
    CHECK(refused(s, "min_price"), "settings: a minimum of 0 refused on min_price");
    s = ON, s.gate_price = 0;
    CHECK(refused(s, "gate_price"), "settings: no gate price refused");
    s = ON, s.average_target = 3100;
    CHECK(refused(s, "average_target"), "settings: a target above max refused");
    s = ON, s.max_change_per_hour = -1;
    CHECK(refused(s, "max_change_per_hour"), "settings: a negative change refused");
    s = ON, s.min_price = 1, s.max_price = 1000000, s.step = 1;
    CHECK(refused(s, "step"), "settings: more than 65,535 grid points refused");

    pricing_product_settings got;
    bo_error err = {0};
    CHECK(pricing_settings_get(E, &A, PRODUCT, &got, &err) == BO_OK && !got.stored && !got.settings.dynamic,
          "settings: none stored after the refusals");
    CHECK(pricing_settings_get(E, &B, PRODUCT, &got, &err) == BO_NOT_FOUND, "settings: another account's product: 404");
    CHECK(pricing_settings_put(E, &B, PRODUCT, &ON, &got, &err) == BO_NOT_FOUND,
          "settings: another account cannot set them");
    CHECK(pricing_settings_put(E, &A, "nope", &ON, &got, &err) == BO_NOT_FOUND, "settings: unknown product: 404");
}

static bool on_grid(money p, const price_settings *s)
{
    return p >= s->min_price && p <= s->max_price && (p - s->min_price) % s->step == 0;
}

/* rtp's batch calls answer what the one-cell calls do: every planned slot
 * of the horizon at once, and a visitor's quotes held cell by cell. */
static void test_batch_prices(void)
{
    catalog_view *v = catalog_view_open(E, &A);
    const cat_product *p = v ? model_product(catalog_view_model(v), PRODUCT) : NULL;
    CHECK(p != NULL, "batch: the product");
    if (!p) return catalog_view_close(v);
    slot slots[30];
    const slot *at[31];
    price_quote batch[31];
    size_t n = 0;
    for (civil_date d = TODAY + 1; d <= TODAY + 10; d++)
        for (int h = 9; h < 12; h++) slots[n] = slot_at(d, h), at[n] = &slots[n], n++;
    at[n++] = &slots[0]; /* the same occurrence twice in one batch */
    engine_prices_at(E, &A, p, at, n, 2, batch);
    bool same = true;
    for (size_t i = 0; i < n; i++) {
        price_quote one = engine_price_at(E, &A, p, at[i], 2);
        same &= batch[i].dynamic && one.unit_price == batch[i].unit_price && one.unsellable == batch[i].unsellable &&
                one.min_price == batch[i].min_price && one.max_price == batch[i].max_price;
    }
    CHECK(same, "batch: engine_prices_at gives engine_price_at's price for each occurrence");
    catalog_view_close(v);

    pricing_visitor_cell cells[] = {
        {"p", "k1", 1, 2000}, {"p", "k2", 1, -1}, {"p", "k1", 2, 2100}, {"q", "k1", 1, 900}};
    pricing_visitor_hold_cells(E, &A, "batch", cells, 4, 900);
    CHECK(cells[0].price == 2000 && cells[1].price == -1 && cells[2].price == 2100 && cells[3].price == 900,
          "batch: first quotes shown as they are, nothing sellable stays null");
    pricing_visitor_cell risen[] = {
        {"p", "k1", 1, 2500}, {"p", "k1", 2, 2000}, {"q", "k1", 1, 950}, {"p", "k2", 1, 700}};
    pricing_visitor_hold_cells(E, &A, "batch", risen, 4, 900);
    CHECK(risen[0].price == 2000 && risen[1].price == 2000 && risen[2].price == 900 && risen[3].price == 700,
          "batch: each cell held apart (product, occurrence and quantity), never above the current price");
    CHECK(pricing_visitor_hold(E, &A, "batch", "p", "k1", 1, 2600, 900) == 2000 &&
              pricing_visitor_hold(E, &B, "batch", "p", "k1", 1, 2600, 900) == 2600,
          "batch: the one-cell call reads the same quotes, scoped by account");
}

static void test_prices(void)
{
    slot s = slot_at(TODAY + 3, 10);
    price_quote q = price_of(&s, 1);
    CHECK(!q.dynamic && q.unit_price == 1000, "off: the product's price");
    CHECK(!pricing_account_dynamic(E, &A), "off: the account prices nothing dynamically");

    pricing_product_settings got;
    bo_error err = {0};
    CHECK(pricing_settings_put(E, &A, PRODUCT, &ON, &got, &err) == BO_OK && got.stored && got.settings.dynamic,
          "on: stored");
    CHECK(pricing_account_dynamic(E, &A) && !pricing_account_dynamic(E, &B), "on: this account, not another");
    q = price_of(&s, 1);
    CHECK(q.dynamic && q.unit_price == 1500 && q.gate_price == 1500 && q.min_price == 500 && q.max_price == 3000,
          "on, not planned yet: the gate price on the grid");

    CHECK(pricing_recompute(E, &A, PRODUCT, &err) == BO_OK, "recompute");
    pricing_model_info m;
    CHECK(pricing_model_get(E, &A, PRODUCT, &m, &err) == BO_OK && m.fitted && m.planned_occurrences == 30,
          "model: fitted, every slot of the horizon planned");
    bool all_on_grid = true;
    for (civil_date d = TODAY + 1; d <= TODAY + 10; d++)
        for (int h = 9; h < 12; h++) {
            slot at = slot_at(d, h);
            for (int64_t n = 1; n <= 4; n++) all_on_grid &= on_grid(price_of(&at, n).unit_price, &ON);
        }
    CHECK(all_on_grid, "planned: every price on the grid, within the bounds");
    test_batch_prices();

    pricing_explain_info x;
    CHECK(pricing_explain(E, &A, PRODUCT, TODAY + 3, 10 * 3600, &x, &err) == BO_OK && x.dynamic && x.planned &&
              x.seats_left == 20 && on_grid(x.price, &ON) && x.forecast_tickets >= 0,
          "explain: planned, 20 seats left, a price on the grid");
    CHECK(pricing_explain(E, &B, PRODUCT, TODAY + 3, 10 * 3600, &x, &err) == BO_NOT_FOUND,
          "explain: another account's product: 404");

    /* min = max: that price, everywhere */
    price_settings fixed = {true, 2200, 2200, 100, 1500, 0, 0};
    CHECK(pricing_settings_put(E, &A, PRODUCT, &fixed, &got, &err) == BO_OK &&
              pricing_recompute(E, &A, PRODUCT, &err) == BO_OK,
          "min = max: stored and planned");
    CHECK(price_of(&s, 2).unit_price == 2200, "min = max: that price");
}

/* Bounds as a property through the engine: random settings, and seats taken
 * between them, give every price on the grid within the bounds. */
static void test_random_settings(void)
{
    seeded_random r = {14};
    bool all_on_grid = true, all_planned = true;
    int taken = 0;
    for (int round = 0; round < 20; round++) {
        price_settings s = {.dynamic = true};
        s.min_price = 1 + (int64_t)(seeded_random_next(&r) % 5000);
        s.max_price = s.min_price + (round % 4 == 0 ? 0 : (int64_t)(seeded_random_next(&r) % 20000));
        s.step = 1 + (int64_t)(seeded_random_next(&r) % 700);
        if ((s.max_price - s.min_price) / s.step > 60000) s.step = (s.max_price - s.min_price) / 60000 + 1;
        s.gate_price = 1 + (int64_t)(seeded_random_next(&r) % 30000);
        s.average_target = round % 3 ? 0 : s.min_price + (s.max_price - s.min_price) / 2;
        s.max_change_per_hour = round % 2 ? 0 : (int64_t)(seeded_random_next(&r) % 1000);
        pricing_product_settings got;
        bo_error err = {0};
        if (pricing_settings_put(E, &A, PRODUCT, &s, &got, &err) != BO_OK ||
            pricing_recompute(E, &A, PRODUCT, &err) != BO_OK) {
            all_on_grid = false;
            printf("# round %d refused: %s\n", round, err.message);
            continue;
        }
        for (civil_date d = TODAY + 1; d <= TODAY + 10; d++)
            for (int h = 9; h < 12; h++) {
                slot at = slot_at(d, h);
                for (int64_t n = 1; n <= 3; n++) {
                    price_quote q = price_of(&at, n);
                    all_planned &= q.dynamic;
                    bool ok = q.unsellable || on_grid(q.unit_price, &s);
                    if (!ok) printf("# round %d: %lld off [%lld, %lld] step %lld\n", round, (long long)q.unit_price,
                                    (long long)s.min_price, (long long)s.max_price, (long long)s.step);
                    all_on_grid &= ok;
                }
            }
        /* a few seats go between rounds, so the states differ too */
        cart_line line = {PRODUCT, 1 + round % 3};
        cart_request req = {.channel = "admin", .category_id = CAT, .day = TODAY + 5 + round % 5, /* the hold test uses day 4 */
                            .start_time = (9 + round % 3) * 3600, .end_time = -1, .lines = &line, .nlines = 1,
                            .use_engine_prices = true};
        cart_record cart = {0};
        if (cart_create(E, &A, &req, &cart, &err) == BO_OK) taken++;
        cart_record_free(&cart);
    }
    CHECK(all_planned && all_on_grid, "property: 20 random settings, every price on the grid within the bounds");
    CHECK(taken > 0, "property: seats taken between the rounds");
}

static void test_hold_lock(void)
{
    bo_error err = {0};
    pricing_product_settings got;
    price_settings low = {true, 600, 600, 100, 1500, 0, 0}, high = {true, 2600, 2600, 100, 1500, 0, 0};
    CHECK(pricing_settings_put(E, &A, PRODUCT, &low, &got, &err) == BO_OK &&
              pricing_recompute(E, &A, PRODUCT, &err) == BO_OK,
          "hold: priced at 600");
    cart_line line = {PRODUCT, 2};
    cart_request req = {.channel = "admin", .category_id = CAT, .day = TODAY + 4, .start_time = 9 * 3600,
                        .end_time = -1, .lines = &line, .nlines = 1, .use_engine_prices = true};
    cart_record cart = {0};
    CHECK(cart_create(E, &A, &req, &cart, &err) == BO_OK && cart.nlines == 1 && cart.lines[0].unit_price == 600,
          "hold: made at the current dynamic price");
    CHECK(pricing_settings_put(E, &A, PRODUCT, &high, &got, &err) == BO_OK &&
              pricing_recompute(E, &A, PRODUCT, &err) == BO_OK,
          "hold: the price moves to 2600");
    slot s = slot_at(TODAY + 4, 9);
    CHECK(price_of(&s, 1).unit_price == 2600, "hold: new quotes at the new price");
    cart_record again = {0};
    CHECK(cart_get(E, &A, cart.id, &again) == BO_OK && again.nlines == 1 && again.lines[0].unit_price == 600,
          "hold: the held cart keeps its price");
    cart_record_free(&again);
    cart_record_free(&cart);

    /* sold out: every seat held, the plan says nothing can be sold */
    line.quantity = 18;
    cart_record rest = {0};
    CHECK(cart_create(E, &A, &req, &rest, &err) == BO_OK, "the other 18 seats held");
    cart_record_free(&rest);
    pricing_explain_info x;
    CHECK(pricing_recompute(E, &A, PRODUCT, &err) == BO_OK &&
              pricing_explain(E, &A, PRODUCT, TODAY + 4, 9 * 3600, &x, &err) == BO_OK && x.planned && x.price == -1,
          "sold out: no price");
}

static void test_visitor_holds(void)
{
    CHECK(pricing_visitor_hold(E, &A, "v1", "p", "k", 1, 2000, 900) == 2000, "visitor: first quote");
    CHECK(pricing_visitor_hold(E, &A, "v1", "p", "k", 1, 2500, 900) == 2000, "visitor: held when the price rises");
    CHECK(pricing_visitor_hold(E, &A, "v2", "p", "k", 1, 2500, 900) == 2500, "visitor: another sees the current price");
    CHECK(pricing_visitor_hold(E, &B, "v1", "p", "k", 1, 2500, 900) == 2500, "visitor: scoped by account");
    CHECK(pricing_visitor_hold(E, &A, "v1", "p", "k", 1, 1800, 900) == 1800, "visitor: never above the current price");
    CHECK(pricing_visitor_hold(E, &A, "v1", "p", "k", 1, -1, 900) == -1, "visitor: nothing sellable stays null");
    CHECK(pricing_visitor_hold(E, &A, "v3", "p", "k", 1, 900, -1) == 900 &&
              pricing_visitor_hold(E, &A, "v3", "p", "k", 1, 1900, 900) == 1900,
          "visitor: an expired quote is not held");
}

/* A table full of live quotes (a flood of cookies) answers new visitors at
 * once with the current price, instead of sweeping the whole table for every
 * cell; once the quotes expire, new visitors are held again. Runs last: it
 * moves the clock. */
static void test_visitor_holds_full(void)
{
    char visitor[32];
    for (int i = 0; i < 200000; i++) {
        snprintf(visitor, sizeof visitor, "flood-%d", i);
        pricing_visitor_hold(E, &A, visitor, "p", "k", 1, 2000, 60); /* live for the whole test */
    }
    CHECK(pricing_visitor_hold(E, &A, "late", "p", "k", 1, 2000, 900) == 2000 &&
              pricing_visitor_hold(E, &A, "late", "p", "k", 1, 2500, 900) == 2500,
          "visitor: a full table shows a new visitor the current price, unheld");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20000; i++) {
        snprintf(visitor, sizeof visitor, "later-%d", i);
        pricing_visitor_hold(E, &A, visitor, "p", "k", 1, 2000, 900);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* a sweep per call was 200,000 entries each: minutes for these 20,000 */
    printf("# 20,000 new visitors on a full table: %.3f s\n", secs);
    CHECK(secs < 5, "visitor: a full table is not swept for every new visitor");
    clock_advance(61);
    CHECK(pricing_visitor_hold(E, &A, "after", "p", "k", 1, 2000, 900) == 2000 &&
              pricing_visitor_hold(E, &A, "after", "p", "k", 1, 2500, 900) == 2000,
          "visitor: once the flood's quotes expire, a new visitor is held again");
}

int main(void)
{
    test_server_key(11);
    char path[128];
    const char *uri = test_db_uri("dynamic-pricing", path);
    store *s = test_store_open(uri);
    if (!s) return check_summary();
    E = test_engine_open(s);
    CHECK(test_account(E, "dp", "Dynamic", &A), "account A");
    CHECK(test_account(E, "dq", "Other", &B), "account B");
    setup();
    test_settings();
    test_prices();
    test_random_settings();
    test_hold_lock();
    test_visitor_holds();
    test_visitor_holds_full();
    return test_finish(E, s, uri, path);
}
