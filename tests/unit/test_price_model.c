/* The dynamic pricing core (core/price_model.h), no database: the bounds as a
 * property over random settings and states; the optimiser's answers to
 * demand, all else equal; the average target over a simulated season; and the
 * estimator recovering known parameters from 5,000 synthetic sales. */
#include "check.h"
#include "core/price_model.h"
#include "util/seeded_random.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOUR 3600000000LL
#define DAY (24 * HOUR)
#define T0 (1800000000LL * 1000000LL) /* 2027-01-15, any instant does */

static int64_t random_between(seeded_random *r, int64_t low, int64_t high)
{
    return low + (int64_t)(seeded_random_next(r) % (uint64_t)(high - low + 1));
}

static bool on_grid(const price_settings *s, int64_t price)
{
    return price >= s->min_price && price <= s->max_price && (price - s->min_price) % s->step == 0;
}

static price_occurrence occurrence_at(int64_t start, int weekday, int hour)
{
    return (price_occurrence){.start_us = start, .weekday = (uint8_t)weekday, .hour = (uint8_t)hour, .month = 6};
}

/* ---- Bounds ------------------------------------------------------------------ */

static void test_bounds_property(void)
{
    seeded_random r = {.state = 14};
    bool valid = true, bounded = true, min_is_max = true, unsellable = true, limited = true, grid = true;
    int quoted = 0;
    for (int i = 0; i < 300; i++) {
        price_settings s = {.dynamic = true, .step = random_between(&r, 1, 500)};
        s.min_price = random_between(&r, 1, 20000);
        s.max_price = i % 5 == 0 ? s.min_price : s.min_price + random_between(&r, 0, 2000 * s.step);
        s.gate_price = random_between(&r, s.min_price, s.max_price);
        s.average_target = i % 3 == 0 ? random_between(&r, s.min_price, s.max_price) : 0;
        s.max_change_per_hour = i % 2 ? random_between(&r, 1, 3000) : 0;
        valid &= price_settings_validate(&s) == PRICE_SETTINGS_OK;

        demand_model m;
        demand_model_prior(&m, (double)s.min_price * (1 + seeded_random_unit(&r)), 0.2 + 4 * seeded_random_unit(&r),
                           0.01 + seeded_random_unit(&r));
        for (int b = 0; b < DEMAND_PACE_BANDS; b++) m.pace[b] *= 0.1 + 2 * seeded_random_unit(&r);
        for (int w = 0; w < 7; w++) m.weekday[w] = 0.5 + seeded_random_unit(&r);
        for (int k = 0; k < 4; k++) m.group_share[k] = seeded_random_unit(&r);

        dynamic_quote_request q = {
            .settings = &s,
            .model = &m,
            .occurrence = occurrence_at(T0 + random_between(&r, 0, 5 * DAY), (int)random_between(&r, 0, 6),
                                        (int)random_between(&r, 0, 23)),
            .now_us = T0,
            .seats_left = (int32_t)random_between(&r, 0, 40),
            .quantity = (int32_t)random_between(&r, 0, 5),
            .observed_orders = (double)random_between(&r, 0, 50),
            .expected_orders = (double)random_between(&r, 0, 50),
            .target_bias = 0.5 + seeded_random_unit(&r),
        };
        q.close_us = q.occurrence.start_us;
        if (i % 4 == 1) {
            q.previous_price = random_between(&r, 1, 2 * s.max_price);
            q.previous_at_us = T0 - random_between(&r, 0, 3 * HOUR);
        }
        dynamic_quote out;
        price_outcome outcome = dynamic_quote_compute(&q, &out);
        int32_t wanted = q.quantity < 1 ? 1 : q.quantity;
        bool sellable = q.seats_left >= wanted && q.close_us > q.now_us;
        if (!sellable) {
            unsellable &= outcome == PRICE_UNSELLABLE;
            continue;
        }
        quoted++;
        bounded &= outcome == PRICE_OK && on_grid(&s, out.price);
        if (s.min_price == s.max_price) min_is_max &= out.price == s.min_price;
        if (q.previous_price > 0 && s.max_change_per_hour > 0) {
            int64_t from = price_grid_nearest(&s, (double)q.previous_price);
            double allowed = (double)s.max_change_per_hour * (double)(q.now_us - q.previous_at_us) / (double)HOUR;
            limited &= fabs((double)(out.price - from)) <= allowed + 1e-9;
        }
        double wish = (double)random_between(&r, -1000, 3 * s.max_price);
        grid &= on_grid(&s, price_grid_nearest(&s, wish));
    }
    CHECK(valid, "bounds: the random settings are valid");
    CHECK(quoted > 150, "bounds: most random states are sellable");
    CHECK(bounded, "bounds: every price within [min, max] and on the step grid");
    CHECK(min_is_max, "bounds: min = max gives that price");
    CHECK(unsellable, "bounds: fewer seats than wanted, or closed, gives no price");
    CHECK(limited, "bounds: the rate limit holds the move within max change per hour");
    CHECK(grid, "bounds: the nearest grid point is on the grid for any wish");

    price_settings bad = {.dynamic = true, .min_price = 100, .max_price = 50, .step = 10, .gate_price = 80};
    CHECK(price_settings_validate(&bad) == PRICE_SETTINGS_BAD_BOUNDS, "settings: max < min is refused");
    bad = (price_settings){.dynamic = true, .min_price = 100, .max_price = 500, .step = 0, .gate_price = 80};
    CHECK(price_settings_validate(&bad) == PRICE_SETTINGS_BAD_STEP, "settings: a zero step is refused");
    bad.step = 10;
    bad.average_target = 600;
    CHECK(price_settings_validate(&bad) == PRICE_SETTINGS_BAD_TARGET, "settings: a target above max is refused");
    bad.average_target = 0;
    bad.max_change_per_hour = -1;
    CHECK(price_settings_validate(&bad) == PRICE_SETTINGS_BAD_CHANGE, "settings: a negative change is refused");

    /* hostile models and states: a price on the grid or a clear refusal, never garbage */
    demand_model hostile;
    demand_model_prior(&hostile, 2000, 1.5, 0.01);
    hostile.pace[0] = NAN;
    hostile.pace[1] = INFINITY;
    hostile.pace[2] = -5;
    hostile.group_share[1] = INFINITY;
    hostile.group_share[2] = NAN;
    price_settings fine = {.dynamic = true, .min_price = 100, .max_price = 100000, .step = 7, .gate_price = 2000};
    dynamic_quote_request hq = {.settings = &fine, .model = &hostile, .occurrence = occurrence_at(T0 + 2 * DAY, 0, 12),
                              .now_us = T0, .close_us = T0 + 2 * DAY, .seats_left = INT32_MAX, .quantity = 2,
                              .observed_orders = NAN, .expected_orders = -1};
    dynamic_quote hout;
    CHECK(dynamic_quote_compute(&hq, &hout) == PRICE_OK && on_grid(&fine, hout.price),
          "hostile: NaN, infinite and negative rates, unlimited seats: a price on the grid");
    hq.seats_left = 1;
    hq.quantity = 1;
    hostile.reference_price = 1e-300;
    hostile.elasticity = 9.5;
    CHECK(dynamic_quote_compute(&hq, &hout) == PRICE_OK && on_grid(&fine, hout.price),
          "hostile: an overflowing price response: a price on the grid");
    hostile.elasticity = NAN;
    CHECK(dynamic_quote_compute(&hq, &hout) == PRICE_BAD_SETTINGS, "hostile: a NaN elasticity is refused");
    hostile.elasticity = 1.5;
    hostile.reference_price = 0;
    CHECK(dynamic_quote_compute(&hq, &hout) == PRICE_BAD_SETTINGS, "hostile: a zero reference price is refused");
    hostile.reference_price = 2000;
    hq.target_bias = NAN;
    CHECK(dynamic_quote_compute(&hq, &hout) == PRICE_BAD_SETTINGS, "hostile: a NaN target bias is refused");
    price_settings huge_grid = {.dynamic = true, .min_price = 1, .max_price = 1000000, .step = 1, .gate_price = 5};
    hq.settings = &huge_grid;
    hq.target_bias = 1;
    CHECK(dynamic_quote_compute(&hq, &hout) == PRICE_BAD_SETTINGS, "hostile: a grid of a million prices is refused");

    /* the rate limit's arithmetic, by hand: 30.00 an hour, 2 hours, step 25 */
    price_settings limited_settings = {.dynamic = true, .min_price = 1000, .max_price = 9000, .step = 25,
                                       .gate_price = 2000, .max_change_per_hour = 3000};
    CHECK(price_rate_limit(&limited_settings, 2000, 2 * HOUR, 9000) == 8000, "rate limit: up by 60.00 over 2 hours");
    CHECK(price_rate_limit(&limited_settings, 8000, HOUR / 2, 1000) == 6500, "rate limit: down by 15.00 in 30 min");
    CHECK(price_rate_limit(&limited_settings, 2010, HOUR, 2500) == 2500, "rate limit: within the limit, as wanted");
    CHECK(price_rate_limit(&limited_settings, 0, 0, 4000) == 4000, "rate limit: no previous price, as wanted");
    limited_settings.max_change_per_hour = 1010; /* not a whole number of steps: rounds inwards */
    CHECK(price_rate_limit(&limited_settings, 2000, HOUR, 5000) == 3000, "rate limit: whole steps only");
    CHECK(price_grid_nearest(&limited_settings, 1012.4) == 1000 && price_grid_nearest(&limited_settings, 1012.6) == 1025,
          "grid: nearest point, anchored at the minimum");

    price_settings off = {.dynamic = false, .min_price = 100, .max_price = 500, .step = 10, .gate_price = 200};
    demand_model m;
    demand_model_prior(&m, 200, 1.5, 1);
    dynamic_quote out;
    dynamic_quote_request q = {.settings = &off, .model = &m, .occurrence = occurrence_at(T0 + DAY, 0, 12),
                             .now_us = T0, .close_us = T0 + DAY, .seats_left = 10, .quantity = 1};
    CHECK(dynamic_quote_compute(&q, &out) == PRICE_STATIC, "dynamic off: the price tables apply");
    q.settings = &bad;
    CHECK(dynamic_quote_compute(&q, &out) == PRICE_BAD_SETTINGS, "bad settings: no price is made up");
}

/* ---- Responses to demand ------------------------------------------------------ */

static const price_settings SLOT = {.dynamic = true, .min_price = 1000, .max_price = 6000, .step = 50,
                                    .gate_price = 2000};

static demand_model slot_model(void)
{
    demand_model m;
    demand_model_prior(&m, 1000, 1.5, 0);
    const double pace[DEMAND_PACE_BANDS] = {6, 4, 3, 2, 1.5, 1, 0.5, 0.2, 0.05, 0.02, 0, 0};
    memcpy(m.pace, pace, sizeof pace);
    m.group_share[0] = 0.4;
    m.group_share[1] = 0.4;
    m.group_share[2] = 0.2;
    return m;
}

static int64_t quote(const demand_model *m, price_occurrence occ, int64_t now, int32_t seats, double observed,
                     double expected)
{
    dynamic_quote_request q = {.settings = &SLOT, .model = m, .occurrence = occ, .now_us = now,
                             .close_us = occ.start_us, .seats_left = seats, .quantity = 1,
                             .observed_orders = observed, .expected_orders = expected};
    dynamic_quote out;
    return dynamic_quote_compute(&q, &out) == PRICE_OK ? out.price : -1;
}

static void test_responses(void)
{
    demand_model m = slot_model();
    price_occurrence occ = occurrence_at(T0 + 10 * DAY, 5, 14);
    int64_t as_expected = quote(&m, occ, T0, 100, 20, 20), fast = quote(&m, occ, T0, 100, 60, 20);
    printf("# 10 days out, 100 seats: on pace %lld, three times the pace %lld\n", (long long)as_expected,
           (long long)fast);
    CHECK(fast > as_expected, "demand: a faster recent pace gives a higher price");

    demand_model_view view;
    demand_model_view_init(&view, &m, &occ, 1);
    price_plan plan;
    price_plan_request request = {.now_us = T0, .close_us = occ.start_us, .seats = 150};
    CHECK(price_plan_build(&SLOT, &view.demand, &request, &plan) == PRICE_OK, "plan: builds");
    bool monotone = true;
    for (size_t row = 0; row < plan.rows; row++) {
        int64_t at = T0 + (int64_t)row * plan.reprice_every_us;
        for (int32_t seats = 2; seats <= 150; seats++)
            monotone &= price_plan_lookup(&plan, at, seats, 1) <= price_plan_lookup(&plan, at, seats - 1, 1);
    }
    CHECK(monotone, "demand: fewer seats left gives a higher or equal price, at every hour");
    CHECK(price_plan_lookup(&plan, occ.start_us, 10, 1) == -1, "plan: no price once sales have closed");
    CHECK(price_plan_lookup(&plan, T0, 2, 3) == -1, "plan: no price for more tickets than seats left");
    printf("# plan: %zu rows, expected revenue %.0f for %.1f tickets\n", plan.rows, plan.expected_revenue,
           plan.expected_tickets);
    price_plan_free(&plan);

    /* the weekday with more learned demand: Saturdays sold 1.6x as fast */
    m.weekday[5] = 1.6;
    m.weekday[0] = 1.0;
    int64_t saturday = quote(&m, occurrence_at(T0 + 10 * DAY, 5, 14), T0, 100, 0, 0);
    int64_t monday = quote(&m, occurrence_at(T0 + 10 * DAY, 0, 14), T0, 100, 0, 0);
    printf("# Saturday %lld, Monday %lld\n", (long long)saturday, (long long)monday);
    CHECK(saturday > monday, "demand: the weekday with more learned demand gets the higher price");

    int64_t slow_close = quote(&m, occurrence_at(T0 + 6 * HOUR, 0, 14), T0, 90, 0, 30);
    CHECK(slow_close == SLOT.min_price, "demand: a slow occurrence close to its date goes to the minimum");
    int64_t sold_out = quote(&m, occ, T0, 0, 0, 0);
    CHECK(sold_out == -1, "demand: sold out gives no price");
}

/* Buyers arrive as the model says and buy at the quoted price when their
 * willingness to pay (Pareto, the model's elasticity) reaches it. */
static void simulate_occurrence(const demand_model *m, const price_settings *s, price_occurrence occ, double bias,
                                seeded_random *r, int64_t *revenue, int64_t *tickets)
{
    demand_model_view view;
    demand_model_view_init(&view, m, &occ, 1);
    price_plan plan;
    price_plan_request request = {.now_us = occ.start_us - 7 * DAY, .close_us = occ.start_us, .seats = 40,
                                  .target_bias = bias};
    if (price_plan_build(s, &view.demand, &request, &plan) != PRICE_OK) return;
    int32_t seats = 40;
    for (int64_t hour = request.now_us; hour < occ.start_us; hour += HOUR) {
        double rate = demand_base_rate(m, &occ, occ.start_us - hour); /* at the reference price */
        for (double t = seeded_random_exponential(r, rate); t < 1; t += seeded_random_exponential(r, rate)) {
            int32_t wanted = 1 + (int32_t)(seeded_random_unit(r) * 2.5);
            double willing = m->reference_price * pow(seeded_random_unit(r), -1 / m->elasticity);
            int64_t price = price_plan_lookup(&plan, hour + (int64_t)(t * HOUR), seats, wanted);
            if (price > 0 && (double)price <= willing) {
                seats -= wanted;
                *revenue += price * wanted;
                *tickets += wanted;
            }
        }
    }
    price_plan_free(&plan);
}

static void test_average_target(void)
{
    demand_model m = slot_model();
    for (int b = 0; b < DEMAND_PACE_BANDS; b++) m.pace[b] *= 0.3;
    price_settings s = SLOT;
    s.average_target = 2100;
    seeded_random r = {.state = 1414};
    int64_t revenue = 0, tickets = 0, free_revenue = 0, free_tickets = 0;
    double bias = 1;
    for (int day = 0; day < 90; day++) {
        price_occurrence occ = occurrence_at(T0 + (int64_t)day * DAY, day % 7, 14);
        seeded_random twin = r; /* the same buyers for the unsteered reference */
        simulate_occurrence(&m, &s, occ, 1, &twin, &free_revenue, &free_tickets);
        simulate_occurrence(&m, &s, occ, bias, &r, &revenue, &tickets);
        bias = price_target_bias(&s, bias, revenue, tickets);
    }
    double average = (double)revenue / (double)tickets, unsteered = (double)free_revenue / (double)free_tickets;
    printf("# average target 2100: steered %.0f over %lld tickets (bias %.2f), unsteered %.0f\n", average,
           (long long)tickets, bias, unsteered);
    CHECK(fabs(unsteered / 2100 - 1) > 0.05, "target: the unsteered season misses the target");
    CHECK(fabs(average / 2100 - 1) <= 0.05, "target: the season's average price is within 5% of the target");
}

/* ---- Learning ------------------------------------------------------------------- */

static const double TRUE_PACE[DEMAND_PACE_BANDS] = {1.0, 0.8, 0.6, 0.45, 0.3, 0.2, 0.12, 0.06, 0, 0, 0, 0};
#define TRUE_ELASTICITY 1.5
#define WEEKEND 1.6

typedef struct {
    price_occurrence *occurrences;
    price_offer *offers;
    price_sale *sales;
    size_t occurrence_count, offer_count, sale_count, sale_capacity;
} synthetic_history;

static int by_time(const void *a, const void *b)
{
    const price_sale *x = a, *y = b;
    return (x->sold_at_us > y->sold_at_us) - (x->sold_at_us < y->sold_at_us);
}

/* 90 days x 2 shows, each on sale for 30 days at a price drawn every day
 * from 0.6..1.6 x the reference, then cut where the 5,000th sale happened. */
static synthetic_history draw_history(seeded_random *r, size_t keep)
{
    synthetic_history h = {0};
    h.occurrences = calloc(180, sizeof *h.occurrences);
    h.offers = calloc(180 * 30, sizeof *h.offers);
    h.sale_capacity = 65536;
    h.sales = malloc(h.sale_capacity * sizeof *h.sales);
    for (int day = 0; day < 90; day++)
        for (int show = 0; show < 2; show++) {
            uint32_t index = (uint32_t)h.occurrence_count++;
            int weekday = day % 7;
            price_occurrence occ = {.start_us = T0 + (int64_t)day * DAY + (show ? 15 : 10) * HOUR,
                                    .weekday = (uint8_t)weekday, .hour = show ? 15 : 10, .month = 1 + day / 30};
            h.occurrences[index] = occ;
            double calendar = weekday >= 5 ? WEEKEND : 1;
            for (int before = 30; before > 0; before--) {
                int64_t from = occ.start_us - (int64_t)before * DAY, to = from + DAY;
                int64_t price = 1000 + 50 * random_between(r, -8, 12);
                h.offers[h.offer_count++] = (price_offer){index, from, to, price};
                double response = pow(price / 1000.0, -TRUE_ELASTICITY);
                for (int64_t hour = from; hour < to; hour += HOUR) {
                    double rate = TRUE_PACE[demand_pace_band(occ.start_us - hour - HOUR / 2)] * calendar * response;
                    if (rate <= 0) continue;
                    for (double t = seeded_random_exponential(r, rate); t < 1; t += seeded_random_exponential(r, rate)) {
                        if (h.sale_count == h.sale_capacity) {
                            h.sale_capacity *= 2;
                            h.sales = realloc(h.sales, h.sale_capacity * sizeof *h.sales);
                        }
                        h.sales[h.sale_count++] = (price_sale){index, hour + (int64_t)(t * HOUR), price,
                                                               1 + (int32_t)(seeded_random_unit(r) * 4)};
                    }
                }
            }
        }
    qsort(h.sales, h.sale_count, sizeof *h.sales, by_time);
    if (h.sale_count > keep) {
        int64_t cut = h.sales[keep - 1].sold_at_us + 1;
        h.sale_count = keep;
        for (size_t i = 0; i < h.offer_count; i++) {
            if (h.offers[i].to_us > cut) h.offers[i].to_us = cut;
            if (h.offers[i].from_us > cut) h.offers[i].from_us = cut;
        }
    }
    return h;
}

static bool within(double estimate, double truth, double tolerance)
{
    return fabs(estimate / truth - 1) <= tolerance;
}

/* The entry point a future rtp handler calls: history in, one price out. */
static void test_quote_from_history(synthetic_history *h, const demand_model *prior)
{
    /* the last occurrence with a sale: on sale at the cut, with a pace of its own */
    uint32_t target = h->sales[h->sale_count - 1].occurrence;
    int64_t now = h->sales[h->sale_count - 1].sold_at_us + 1;
    demand_history history = {h->occurrences, h->occurrence_count, h->offers, h->offer_count, h->sales,
                              h->sale_count};
    dynamic_history_quote_request q = {.settings = &SLOT, .prior = prior, .history = &history,
                                       .occurrence = target, .now_us = now,
                                       .close_us = h->occurrences[target].start_us, .seats_left = 30,
                                       .quantity = 2};
    dynamic_quote normal, busy;
    CHECK(dynamic_quote_from_history(&q, &normal) == PRICE_OK && on_grid(&SLOT, normal.price),
          "history quote: a price on the grid");

    /* the same history with this occurrence's sales counted four times over */
    size_t extra = 0;
    for (size_t i = 0; i < h->sale_count; i++) extra += h->sales[i].occurrence == target;
    price_sale *sales = malloc((h->sale_count + 3 * extra + 20) * sizeof *sales);
    memcpy(sales, h->sales, h->sale_count * sizeof *sales);
    size_t n = h->sale_count;
    for (int copy = 0; copy < 3; copy++)
        for (size_t i = 0; i < h->sale_count; i++)
            if (h->sales[i].occurrence == target) sales[n++] = h->sales[i];
    for (int i = 0; i < 20; i++) /* and a rush in the last hour */
        sales[n++] = (price_sale){target, now - 1 - i * 60000000LL, 1000, 2};
    history.sales = sales;
    history.sale_count = n;
    CHECK(dynamic_quote_from_history(&q, &busy) == PRICE_OK, "history quote: the busy history quotes");
    printf("# history quote: %lld (pace x%.2f), busy %lld (pace x%.2f)\n", (long long)normal.price,
           normal.occurrence_factor, (long long)busy.price, busy.occurrence_factor);
    CHECK(busy.occurrence_factor > normal.occurrence_factor && busy.price >= normal.price,
          "history quote: an occurrence selling faster quotes higher or equal");
    q.occurrence = (uint32_t)h->occurrence_count;
    CHECK(dynamic_quote_from_history(&q, &busy) == PRICE_BAD_HISTORY, "history quote: an unknown occurrence");
    q.occurrence = target;
    q.seats_left = 1;
    CHECK(dynamic_quote_from_history(&q, &busy) == PRICE_UNSELLABLE, "history quote: 2 wanted, 1 left: no price");
    free(sales);
}

static void test_learning(void)
{
    seeded_random r = {.state = 5000};
    synthetic_history h = draw_history(&r, 5000);
    CHECK(h.sale_count == 5000, "learning: the history holds 5,000 sales");
    demand_history history = {h.occurrences, h.occurrence_count, h.offers, h.offer_count, h.sales, h.sale_count};
    demand_model prior, fit;
    demand_model_prior(&prior, 1000, 1.0, 0.3); /* a wrong prior: elasticity 1, flat pace */
    demand_fit_options options = DEMAND_FIT_DEFAULTS;
    CHECK(demand_fit(&history, &prior, &options, &fit) == DEMAND_FIT_OK, "learning: the fit runs");
    printf("# elasticity %.3f; Saturday/Monday %.3f, Sunday/Wednesday %.3f; pace", fit.elasticity,
           fit.weekday[5] / fit.weekday[0], fit.weekday[6] / fit.weekday[2]);
    for (int b = 0; b < 8; b++) printf(" %.3f", fit.pace[b] * fit.weekday[0] * fit.daypart[2] * fit.season[0]);
    printf("\n");
    CHECK(within(fit.elasticity, TRUE_ELASTICITY, 0.15), "learning: elasticity 1.5 within 15%");
    CHECK(within(fit.weekday[5] / fit.weekday[0], WEEKEND, 0.15), "learning: Saturdays x1.6 within 15%");
    CHECK(within(fit.weekday[6] / fit.weekday[2], WEEKEND, 0.15), "learning: Sundays x1.6 within 15%");
    bool pace = true;
    /* the pace of a weekday morning show in January, against the truth's */
    for (int b = 0; b < 8; b++)
        pace &= within(fit.pace[b] * fit.weekday[0] * fit.daypart[2] * fit.season[0], TRUE_PACE[b], 0.15);
    CHECK(pace, "learning: the pace curve within 15% in every band with sales");
    CHECK(within(demand_mean_group(&fit), 2.5, 0.15), "learning: tickets per order");
    CHECK(fit.sales == 5000, "learning: the confidence counts the sales");
    /* what was learned moves prices: the same show, seats and lead time on the learned busier day */
    int64_t learned_saturday = quote(&fit, occurrence_at(T0 + 10 * DAY, 5, 10), T0, 40, 0, 0);
    int64_t learned_monday = quote(&fit, occurrence_at(T0 + 10 * DAY, 0, 10), T0, 40, 0, 0);
    printf("# learned model, 40 seats 10 days out: Saturday %lld, Monday %lld\n", (long long)learned_saturday,
           (long long)learned_monday);
    CHECK(learned_saturday > learned_monday, "learning: the weekday with more learned demand gets the higher price");

    /* a product with a handful of sales stays near its category's model */
    demand_model category = fit, sparse_fit;
    category.elasticity = 2.5;
    category.weekday[5] = category.weekday[0];
    seeded_random other = {.state = 55};
    synthetic_history few = draw_history(&other, 5);
    demand_history sparse = {few.occurrences, few.occurrence_count, few.offers, few.offer_count, few.sales,
                             few.sale_count};
    CHECK(demand_fit(&sparse, &category, &options, &sparse_fit) == DEMAND_FIT_OK, "shrinkage: fits");
    printf("# five sales: elasticity %.3f, Saturday/Monday %.3f\n", sparse_fit.elasticity,
           sparse_fit.weekday[5] / sparse_fit.weekday[0]);
    CHECK(within(sparse_fit.elasticity, 2.5, 0.1) && within(sparse_fit.weekday[5] / sparse_fit.weekday[0], 1, 0.1),
          "shrinkage: five sales leave the estimate near the category's");
    free(few.occurrences);
    free(few.offers);
    free(few.sales);

    price_offer bad_offer = {.occurrence = 9999, .from_us = 0, .to_us = 1, .price = 100};
    demand_history bad = {h.occurrences, h.occurrence_count, &bad_offer, 1, NULL, 0};
    CHECK(demand_fit(&bad, &fit, &options, &prior) == DEMAND_FIT_BAD_HISTORY, "fit: an unknown occurrence is refused");
    bad_offer = (price_offer){.occurrence = 0, .from_us = T0, .to_us = T0 - 1, .price = 100};
    CHECK(demand_fit(&bad, &fit, &options, &prior) == DEMAND_FIT_BAD_HISTORY, "fit: an offer ending before it starts");
    bad_offer = (price_offer){.occurrence = 0, .from_us = T0, .to_us = T0 + 1, .price = 0};
    CHECK(demand_fit(&bad, &fit, &options, &prior) == DEMAND_FIT_BAD_HISTORY, "fit: an offer at no price");
    price_sale bad_sale = {.occurrence = 0, .sold_at_us = T0, .price_paid = -5, .quantity = 1};
    demand_history bad_sales = {h.occurrences, h.occurrence_count, NULL, 0, &bad_sale, 1};
    CHECK(demand_fit(&bad_sales, &fit, &options, &prior) == DEMAND_FIT_BAD_HISTORY, "fit: a sale at a negative price");
    demand_history empty = {h.occurrences, h.occurrence_count, NULL, 0, NULL, 0};
    CHECK(demand_fit(&empty, &fit, NULL, &prior) == DEMAND_FIT_OK && prior.elasticity == fit.elasticity &&
              prior.pace[3] == fit.pace[3] && prior.sales == 0,
          "fit: no history gives the prior back");
    test_quote_from_history(&h, &prior);
    free(h.occurrences);
    free(h.offers);
    free(h.sales);
}

static void timed(void (*test)(void), const char *name)
{
    clock_t started = clock();
    test();
    printf("# %s: %.2f s of CPU\n", name, (double)(clock() - started) / CLOCKS_PER_SEC);
}

int main(void)
{
    timed(test_bounds_property, "bounds");
    timed(test_responses, "responses");
    timed(test_average_target, "average target");
    timed(test_learning, "learning");
    return check_summary();
}
