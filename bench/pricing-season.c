/* A synthetic season for the dynamic pricing engine (core/price_model.h;
 * docs/PRICING.md, docs/PERFORMANCE.md "Dynamic pricing: a synthetic season").
 *
 * 120 days x 8 hourly slots (10:00..17:00) of 100 seats, each on sale for 30
 * days, and a 5,000-seat concert on sale for 90 days. Buyers arrive as a
 * Poisson process whose rate depends on lead time (a pace curve), weekday
 * (weekends x1.6), the slot's hour and the season; each wants 1-4 tickets
 * and buys them all if the price is within a willingness to pay drawn from a
 * Pareto law (a constant elasticity of 1.5 above the minimum price), and if
 * that many seats are left. Every policy meets the same buyers (fixed seeds):
 *   (a) the static gate price;
 *   (b) the best single static price in hindsight (every grid price tried);
 *   (c) the engine given the true parameters, as its model can hold them
 *       (pace by lead-time band, weekday, four-hour daypart, month);
 *   (d) the engine learning from a wrong prior, refitting weekly from the
 *       offers and sales it has seen;
 *   (e) the optimal policy for the true model: dynamic programming over (time,
 *       seats left) with the exact pace, hour and day factors.
 * Prints revenue, tickets, load factor, mean price and the ratio to (e);
 * exits 1 if any policy sold above capacity, 2 if a target is missed.
 *
 * usage: pricing-season [--seed N] [--no-learning] */
#include "core/price_model.h"
#include "util/seeded_random.h"
#include "util/timeutil.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOUR 3600000000LL
#define DAY (24 * HOUR)
#define SEASON_DAYS 120
#define SLOTS_PER_DAY 8
#define FIRST_SLOT_HOUR 10
#define SLOT_SEATS 100
#define SLOT_ON_SALE_DAYS 30
#define CONCERT_SEATS 5000
#define CONCERT_ON_SALE_DAYS 90
#define CONCERT_DAY 100
#define SLOT_BUYERS 75.0       /* expected buyers of a slot with every factor 1 */
#define CONCERT_BUYERS 3500.0
#define WEEKEND 1.6
#define ELASTICITY 1.5
#define REFIT_EVERY (7 * DAY)
#define OCCURRENCES (SEASON_DAYS * SLOTS_PER_DAY + 1)
#define CONCERT (OCCURRENCES - 1)

static const price_settings SETTINGS = {
    .dynamic = true, .min_price = 1000, .max_price = 6000, .step = 50, .gate_price = 2000,
    .max_change_per_hour = 1000,
};
static const double GROUP_SHARE[DEMAND_GROUP_MAX] = {0.30, 0.40, 0.15, 0.15};
static const double SLOT_HOUR_FACTOR[SLOTS_PER_DAY] = {0.7, 0.9, 1.1, 1.2, 1.2, 1.1, 0.9, 0.8};

typedef struct {
    int64_t at_us;
    double willing; /* per ticket */
    int32_t quantity;
} buyer;

typedef struct {
    price_occurrence calendar;
    int64_t open_us;
    int32_t capacity;
    bool concert;
    double buyers_expected; /* over the whole sale, all factors applied */
    buyer *buyers;
    size_t buyer_count;
} occurrence;

static occurrence OCC[OCCURRENCES];
static int64_t SEASON_START_US;

/* The pace: the density of arrivals over lead time (per hour, integrating to
 * 1 over the sale): a flat share plus an exponential rush towards the date. */
static double pace_density(bool concert, double lead_hours)
{
    double window = (concert ? CONCERT_ON_SALE_DAYS : SLOT_ON_SALE_DAYS) * 24.0;
    double scale = concert ? 240 : 96, flat = 0.3;
    if (lead_hours < 0 || lead_hours > window) return 0;
    return flat / window + (1 - flat) * exp(-lead_hours / scale) / (scale * (1 - exp(-window / scale)));
}

static double season_factor(int day)
{
    return 0.7 + 0.6 * sin(M_PI * (day + 0.5) / SEASON_DAYS);
}

/* The true arrival rate (buyers per hour willing to pay the minimum). */
static double true_rate(const void *context, int64_t at_us)
{
    const occurrence *o = context;
    return o->buyers_expected * pace_density(o->concert, (double)(o->calendar.start_us - at_us) / HOUR);
}

static price_occurrence calendar_of(int64_t start_us)
{
    civil_date day = (civil_date)(start_us / DAY);
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    return (price_occurrence){.start_us = start_us, .weekday = (uint8_t)date_weekday(day),
                              .hour = (uint8_t)((start_us % DAY) / HOUR), .month = (uint8_t)m};
}

/* Buyers by inverse sampling of the pace: a flat share, else the rush. */
static void draw_buyers(occurrence *o, seeded_random *r)
{
    double window = (o->concert ? CONCERT_ON_SALE_DAYS : SLOT_ON_SALE_DAYS) * 24.0;
    double scale = o->concert ? 240 : 96;
    size_t n = 0;
    for (double t = seeded_random_exponential(r, o->buyers_expected); t < 1;
         t += seeded_random_exponential(r, o->buyers_expected))
        n++;
    o->buyers = malloc((n ? n : 1) * sizeof *o->buyers);
    o->buyer_count = n;
    for (size_t i = 0; i < n; i++) {
        double lead;
        if (seeded_random_unit(r) < 0.3) lead = window * seeded_random_unit(r);
        else lead = -scale * log(1 - seeded_random_unit(r) * (1 - exp(-window / scale)));
        double u = seeded_random_unit(r), cumulative = 0;
        int quantity = 1;
        for (int k = 0; k < 4; k++) {
            cumulative += GROUP_SHARE[k];
            if (u <= cumulative) {
                quantity = k + 1;
                break;
            }
        }
        o->buyers[i] = (buyer){
            .at_us = o->calendar.start_us - (int64_t)(lead * HOUR) - 1,
            .willing = (double)SETTINGS.min_price * pow(seeded_random_unit(r), -1 / ELASTICITY),
            .quantity = quantity,
        };
    }
    for (size_t i = 1; i < n; i++) /* insertion sort by time: a few hundred each */
        for (size_t j = i; j > 0 && o->buyers[j].at_us < o->buyers[j - 1].at_us; j--) {
            buyer b = o->buyers[j];
            o->buyers[j] = o->buyers[j - 1];
            o->buyers[j - 1] = b;
        }
}

static void build_season(uint64_t seed)
{
    SEASON_START_US = (int64_t)date_from_ymd(2027, 5, 3) * DAY; /* a Monday; local time = UTC here */
    seeded_random r = {.state = seed};
    for (int day = 0; day < SEASON_DAYS; day++)
        for (int slot = 0; slot < SLOTS_PER_DAY; slot++) {
            occurrence *o = &OCC[day * SLOTS_PER_DAY + slot];
            o->calendar = calendar_of(SEASON_START_US + day * DAY + (FIRST_SLOT_HOUR + slot) * HOUR);
            o->open_us = o->calendar.start_us - SLOT_ON_SALE_DAYS * DAY;
            o->capacity = SLOT_SEATS;
            o->buyers_expected = SLOT_BUYERS * (o->calendar.weekday >= 5 ? WEEKEND : 1) * season_factor(day) *
                                 SLOT_HOUR_FACTOR[slot];
            draw_buyers(o, &r);
        }
    occurrence *c = &OCC[CONCERT];
    c->calendar = calendar_of(SEASON_START_US + CONCERT_DAY * DAY + 20 * HOUR);
    c->open_us = c->calendar.start_us - CONCERT_ON_SALE_DAYS * DAY;
    c->capacity = CONCERT_SEATS;
    c->concert = true;
    c->buyers_expected = CONCERT_BUYERS;
    draw_buyers(c, &r);
}

/* ---- Policies ----------------------------------------------------------------- */

typedef struct policy policy;
struct policy {
    const char *name;
    /* the displayed unit price, or -1: nothing to sell */
    int64_t (*price)(policy *self, size_t occ, int64_t at_us, int32_t seats);
    void (*tick)(policy *self, int64_t now_us); /* once per simulated day, before its sales */
    void (*sold)(policy *self, size_t occ, int64_t at_us, int64_t price, int32_t quantity);
    void (*offered)(policy *self, size_t occ, int64_t from_us, int64_t to_us, int64_t price);
    int64_t fixed_price;
};

static int64_t fixed_price(policy *self, size_t occ, int64_t at_us, int32_t seats)
{
    return seats > 0 ? self->fixed_price : -1;
}

/* The engine's pricing: plans from a model per product (slots, concert), the
 * slots' plans shared by every slot of the same calendar factors since a plan
 * depends on the start only through the lead time; rate-limited per occurrence. */
typedef struct {
    policy base;
    demand_model slot_model, concert_model;
    price_plan *slot_plans[7 * DEMAND_DAYPARTS * 12];
    price_plan concert_plan;
    bool concert_planned;
    int64_t previous_price[OCCURRENCES], previous_at[OCCURRENCES];
    /* learning (d) */
    bool learns;
    demand_model prior;
    price_offer *offers;
    size_t offer_count, offer_capacity;
    price_sale *sales;
    size_t sale_count, sale_capacity;
    int64_t last_fit_us;
    int fits;
    price_occurrence calendars[OCCURRENCES];
} engine_policy;

static void forget_plans(engine_policy *e)
{
    for (size_t i = 0; i < sizeof e->slot_plans / sizeof *e->slot_plans; i++)
        if (e->slot_plans[i]) {
            price_plan_free(e->slot_plans[i]);
            free(e->slot_plans[i]);
            e->slot_plans[i] = NULL;
        }
    if (e->concert_planned) price_plan_free(&e->concert_plan);
    e->concert_planned = false;
}

static const price_plan *slot_plan(engine_policy *e, const occurrence *o)
{
    const price_occurrence *c = &o->calendar;
    size_t key = ((size_t)c->weekday * DEMAND_DAYPARTS + c->hour / 4) * 12 + (size_t)(c->month - 1);
    if (!e->slot_plans[key]) {
        demand_model_view view;
        demand_model_view_init(&view, &e->slot_model, c, 1);
        price_plan_request request = {.now_us = o->open_us, .close_us = c->start_us, .seats = SLOT_SEATS};
        e->slot_plans[key] = calloc(1, sizeof(price_plan));
        if (price_plan_build(&SETTINGS, &view.demand, &request, e->slot_plans[key]) != PRICE_OK) {
            fprintf(stderr, "a slot plan failed\n");
            exit(3);
        }
    }
    return e->slot_plans[key];
}

static const price_plan *concert_plan(engine_policy *e, int64_t now_us)
{
    if (!e->concert_planned) {
        const occurrence *o = &OCC[CONCERT];
        demand_model_view view;
        demand_model_view_init(&view, &e->concert_model, &o->calendar, 1);
        price_plan_request request = {.now_us = now_us > o->open_us ? now_us : o->open_us,
                                      .close_us = o->calendar.start_us, .seats = CONCERT_SEATS};
        if (price_plan_build(&SETTINGS, &view.demand, &request, &e->concert_plan) != PRICE_OK) {
            fprintf(stderr, "the concert plan failed\n");
            exit(3);
        }
        e->concert_planned = true;
    }
    return &e->concert_plan;
}

static int64_t engine_price(policy *self, size_t occ, int64_t at_us, int32_t seats)
{
    engine_policy *e = (engine_policy *)self;
    const price_plan *plan;
    int64_t plan_at = at_us;
    if (occ == CONCERT) plan = concert_plan(e, at_us);
    else { /* a shared plan: the same lead time on its own clock */
        plan = slot_plan(e, &OCC[occ]);
        plan_at = plan->close_us - (OCC[occ].calendar.start_us - at_us);
    }
    int64_t wanted = price_plan_lookup(plan, plan_at, seats, 1);
    if (wanted < 0) return -1;
    int64_t price = price_rate_limit(&SETTINGS, e->previous_price[occ], at_us - e->previous_at[occ], wanted);
    e->previous_price[occ] = price;
    e->previous_at[occ] = at_us;
    return price;
}

/* The true model as the engine's model can hold it: band, daypart and month
 * averages of the true curves. */
static void true_models(demand_model *slots, demand_model *concert)
{
    demand_model *models[2] = {slots, concert};
    for (int which = 0; which < 2; which++) {
        demand_model *m = models[which];
        demand_model_prior(m, (double)SETTINGS.min_price, ELASTICITY, 0);
        memcpy(m->group_share, GROUP_SHARE, sizeof GROUP_SHARE);
        double buyers = which ? CONCERT_BUYERS : SLOT_BUYERS;
        double from = 0;
        for (int b = 0; b < DEMAND_PACE_BANDS && isfinite(DEMAND_PACE_BAND_END_HOURS[b]); b++) {
            double to = DEMAND_PACE_BAND_END_HOURS[b], sum = 0;
            int n = 0;
            for (double lead = from + 0.05; lead < to; lead += 0.1, n++) sum += pace_density(which, lead);
            m->pace[b] = buyers * sum / n;
            from = to;
        }
    }
    slots->weekday[5] = slots->weekday[6] = WEEKEND;
    for (int part = 0; part < DEMAND_DAYPARTS; part++) {
        double sum = 0;
        int n = 0;
        for (int slot = 0; slot < SLOTS_PER_DAY; slot++)
            if ((FIRST_SLOT_HOUR + slot) / 4 == part) sum += SLOT_HOUR_FACTOR[slot], n++;
        if (n) slots->daypart[part] = sum / n;
    }
    for (int month = 1; month <= 12; month++) {
        double sum = 0;
        int n = 0;
        for (int day = 0; day < SEASON_DAYS; day++)
            if (OCC[day * SLOTS_PER_DAY].calendar.month == month) sum += season_factor(day), n++;
        if (n) slots->season[month - 1] = sum / n;
    }
}

/* ---- Learning (d) ---------------------------------------------------------------- */

static void *grow(void *array, size_t *capacity, size_t count, size_t size)
{
    if (count < *capacity) return array;
    *capacity = *capacity ? *capacity * 2 : 4096;
    void *grown = realloc(array, *capacity * size);
    if (!grown) {
        fprintf(stderr, "out of memory\n");
        exit(3);
    }
    return grown;
}

static void learner_sold(policy *self, size_t occ, int64_t at_us, int64_t price, int32_t quantity)
{
    engine_policy *e = (engine_policy *)self;
    e->sales = grow(e->sales, &e->sale_capacity, e->sale_count, sizeof *e->sales);
    e->sales[e->sale_count++] = (price_sale){(uint32_t)occ, at_us, price, quantity};
}

static void learner_offered(policy *self, size_t occ, int64_t from_us, int64_t to_us, int64_t price)
{
    engine_policy *e = (engine_policy *)self;
    e->offers = grow(e->offers, &e->offer_capacity, e->offer_count, sizeof *e->offers);
    e->offers[e->offer_count++] = (price_offer){(uint32_t)occ, from_us, to_us, price};
}

/* One product's history: its offers and sales only (the occurrence indexes
 * stay global, so the calendar array is shared). */
static demand_history product_history(engine_policy *e, bool concert, price_offer *offers, price_sale *sales,
                                      price_occurrence *calendars)
{
    demand_history h = {.occurrences = calendars, .occurrence_count = OCCURRENCES, .offers = offers,
                        .sales = sales};
    size_t n = 0;
    for (size_t i = 0; i < e->offer_count; i++)
        if ((e->offers[i].occurrence == CONCERT) == concert) offers[n++] = e->offers[i];
    h.offer_count = n;
    n = 0;
    for (size_t i = 0; i < e->sale_count; i++)
        if ((e->sales[i].occurrence == CONCERT) == concert) sales[n++] = e->sales[i];
    h.sale_count = n;
    return h;
}

/* Weekly: account = fit(all, configured prior), product = fit(product, account). */
static void learner_tick(policy *self, int64_t now_us)
{
    engine_policy *e = (engine_policy *)self;
    if (e->last_fit_us && now_us - e->last_fit_us < REFIT_EVERY) return;
    e->last_fit_us = now_us;
    if (e->sale_count == 0) return;
    price_occurrence *calendars = e->calendars;
    for (size_t i = 0; i < OCCURRENCES; i++) calendars[i] = OCC[i].calendar;
    demand_fit_options options = DEMAND_FIT_DEFAULTS;
    demand_history all = {calendars, OCCURRENCES, e->offers, e->offer_count, e->sales, e->sale_count};
    demand_model account;
    price_offer *offers = malloc(e->offer_count * sizeof *offers);
    price_sale *sales = malloc(e->sale_count * sizeof *sales);
    demand_history slots = product_history(e, false, offers, sales, calendars);
    if (demand_fit(&all, &e->prior, &options, &account) != DEMAND_FIT_OK ||
        demand_fit(&slots, &account, &options, &e->slot_model) != DEMAND_FIT_OK) {
        fprintf(stderr, "a fit failed\n");
        exit(3);
    }
    demand_history concert = product_history(e, true, offers, sales, calendars);
    if (demand_fit(&concert, &account, &options, &e->concert_model) != DEMAND_FIT_OK) exit(3);
    free(offers);
    free(sales);
    e->fits++;
    forget_plans(e);
}

/* CPU time of the calling thread: (d) runs beside the others. */
static double thread_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* ---- The simulation ---------------------------------------------------------------- */

typedef struct {
    double revenue, tickets;
    double concert_revenue, concert_tickets; /* of which the concert */
    double seconds;
    bool oversold;
} outcome;

/* One day-major pass over the season: each day, each occurrence on sale
 * shows a price every hour and after each sale; its buyers come in order. */
static outcome simulate(policy *p)
{
    struct {
        int32_t seats, sold; /* sold is counted apart from seats: the capacity check */
        size_t next_buyer;
        int64_t shown, shown_since;
    } *state = calloc(OCCURRENCES, sizeof *state);
    outcome out = {0};
    double started = thread_seconds();
    int64_t first = OCC[0].open_us, last = 0;
    for (size_t i = 0; i < OCCURRENCES; i++) {
        state[i].seats = OCC[i].capacity;
        state[i].sold = 0;
        state[i].next_buyer = 0;
        state[i].shown = -1;
        if (OCC[i].open_us < first) first = OCC[i].open_us;
        if (OCC[i].calendar.start_us > last) last = OCC[i].calendar.start_us;
    }
    for (int64_t day = first; day < last; day += DAY) {
        /* the offer log is cut at midnight, so a refit sees today's exposure */
        for (size_t i = 0; i < OCCURRENCES && p->offered; i++)
            if (state[i].shown > 0) {
                p->offered(p, i, state[i].shown_since, day, state[i].shown);
                state[i].shown_since = day;
            }
        if (p->tick) p->tick(p, day);
        for (size_t i = 0; i < OCCURRENCES; i++) {
            occurrence *o = &OCC[i];
            if (o->open_us >= day + DAY || o->calendar.start_us <= day) continue;
            for (int64_t hour = day; hour < day + DAY; hour += HOUR) {
                if (hour < o->open_us || hour >= o->calendar.start_us) continue;
                int64_t hour_end = hour + HOUR;
                int64_t at = hour;
                while (true) {
                    int64_t price = state[i].seats > 0 ? p->price(p, i, at, state[i].seats) : -1;
                    if (price != state[i].shown) { /* the offer log: what was on sale when */
                        if (state[i].shown > 0 && p->offered) p->offered(p, i, state[i].shown_since, at, state[i].shown);
                        state[i].shown = price;
                        state[i].shown_since = at;
                    }
                    if (state[i].next_buyer >= o->buyer_count || o->buyers[state[i].next_buyer].at_us >= hour_end) break;
                    const buyer *b = &o->buyers[state[i].next_buyer++];
                    if (price <= 0 || b->quantity > state[i].seats || (double)price > b->willing) continue;
                    state[i].seats -= b->quantity;
                    state[i].sold += b->quantity;
                    out.revenue += (double)(price * b->quantity);
                    out.tickets += b->quantity;
                    if (o->concert) {
                        out.concert_revenue += (double)(price * b->quantity);
                        out.concert_tickets += b->quantity;
                    }
                    if (p->sold) p->sold(p, i, b->at_us, price, b->quantity);
                    at = b->at_us;
                }
            }
            if (o->calendar.start_us <= day + DAY && state[i].shown > 0) { /* sales close */
                if (p->offered) p->offered(p, i, state[i].shown_since, o->calendar.start_us, state[i].shown);
                state[i].shown = -1;
            }
        }
    }
    for (size_t i = 0; i < OCCURRENCES; i++)
        if (state[i].sold > OCC[i].capacity || state[i].seats < 0) out.oversold = true;
    free(state);
    out.seconds = thread_seconds() - started;
    return out;
}

/* (e): a plan per occurrence from the true rate itself; no rate limit. */
typedef struct {
    policy base;
    price_plan plans[OCCURRENCES];
} optimal_policy;

static int64_t optimal_price(policy *self, size_t occ, int64_t at_us, int32_t seats)
{
    optimal_policy *o = (optimal_policy *)self;
    return price_plan_lookup(&o->plans[occ], at_us, seats, 1);
}

static void optimal_plans(optimal_policy *o)
{
    price_settings unlimited = SETTINGS;
    unlimited.max_change_per_hour = 0;
    for (size_t i = 0; i < OCCURRENCES; i++) {
        price_demand demand = {.rate = true_rate, .rate_context = &OCC[i], .elasticity = ELASTICITY,
                               .reference_price = (double)SETTINGS.min_price};
        memcpy(demand.group_share, GROUP_SHARE, sizeof GROUP_SHARE);
        price_plan_request request = {.now_us = OCC[i].open_us, .close_us = OCC[i].calendar.start_us,
                                      .seats = OCC[i].capacity};
        if (price_plan_build(&unlimited, &demand, &request, &o->plans[i]) != PRICE_OK) {
            fprintf(stderr, "an optimal plan failed\n");
            exit(3);
        }
    }
}

static double total_capacity(void)
{
    double seats = 0;
    for (size_t i = 0; i < OCCURRENCES; i++) seats += OCC[i].capacity;
    return seats;
}

typedef struct {
    policy *policy;
    outcome *result;
} learning_run;

static void *run_learning(void *context)
{
    learning_run *run = context;
    *run->result = simulate(run->policy);
    return NULL;
}

static void print_row(const char *name, const outcome *o, double optimum)
{
    printf("%-44s %12.2f %8.0f %6.1f%% %9.2f %7.1f%% %7.1f s   concert %10.2f %5.0f\n", name, o->revenue / 100,
           o->tickets, 100 * o->tickets / total_capacity(), o->tickets > 0 ? o->revenue / o->tickets / 100 : 0,
           100 * o->revenue / optimum, o->seconds, o->concert_revenue / 100, o->concert_tickets);
}

int main(int argc, char **argv)
{
    uint64_t seed = 14;
    bool learning = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-learning")) learning = false; /* a quick look at the others */
        else {
            fprintf(stderr, "usage: %s [--seed N] [--no-learning]\n", argv[0]);
            return 64;
        }
    }
    struct timespec began;
    clock_gettime(CLOCK_MONOTONIC, &began);
    setvbuf(stdout, NULL, _IOLBF, 0);
    build_season(seed);
    size_t buyers = 0;
    for (size_t i = 0; i < OCCURRENCES; i++) buyers += OCC[i].buyer_count;
    printf("season: %d slots of %d seats + a %d-seat concert (%.0f seats), %zu buyers, seed %llu\n",
           SEASON_DAYS * SLOTS_PER_DAY, SLOT_SEATS, CONCERT_SEATS, total_capacity(), buyers,
           (unsigned long long)seed);

    /* (d) is the long one: it runs on the second core beside the others */
    engine_policy *d = calloc(1, sizeof *d);
    d->base = (policy){.price = engine_price, .tick = learner_tick, .sold = learner_sold, .offered = learner_offered};
    /* wrong: too elastic, a flat pace far below the true level, no weekday or season */
    demand_model_prior(&d->prior, (double)SETTINGS.min_price, 2.5, 0.03);
    d->slot_model = d->concert_model = d->prior;
    outcome dd = {0};
    learning_run run = {&d->base, &dd};
    pthread_t learner;
    if (learning && pthread_create(&learner, NULL, run_learning, &run) != 0) {
        fprintf(stderr, "no thread for (d)\n");
        return 3;
    }

    policy gate = {.name = "(a) static gate price", .price = fixed_price, .fixed_price = SETTINGS.gate_price};
    outcome a = simulate(&gate);
    printf("# (a) done\n");

    double started = thread_seconds();
    outcome b = {0};
    int64_t best_static = 0;
    for (size_t i = 0; i < price_grid_count(&SETTINGS); i++) {
        policy fixed = {.price = fixed_price, .fixed_price = price_grid_at(&SETTINGS, i)};
        outcome tried = simulate(&fixed);
        b.oversold |= tried.oversold;
        if (tried.revenue > b.revenue) {
            bool oversold = b.oversold;
            b = tried;
            b.oversold = oversold;
            best_static = fixed.fixed_price;
        }
    }
    b.seconds = thread_seconds() - started;

    engine_policy *c = calloc(1, sizeof *c);
    c->base = (policy){.price = engine_price};
    true_models(&c->slot_model, &c->concert_model);
    outcome cc = simulate(&c->base);
    printf("# (c) done: %.1f s\n", cc.seconds);


    optimal_policy *e = calloc(1, sizeof *e);
    e->base = (policy){.price = optimal_price};
    started = thread_seconds();
    optimal_plans(e);
    outcome ee = simulate(&e->base);
    ee.seconds = thread_seconds() - started;

    if (learning) pthread_join(learner, NULL);
    printf("# (d) done: %.1f s\n", dd.seconds);
    char best_name[64];
    snprintf(best_name, sizeof best_name, "(b) best static price in hindsight (%.2f)", (double)best_static / 100);
    printf("%-44s %12s %8s %7s %9s %8s %9s   %-7s %10s %5s\n", "policy", "revenue", "tickets", "load", "mean", "vs (e)",
           "CPU", "(of it)", "revenue", "tix");
    print_row("(a) static gate price (20.00)", &a, ee.revenue);
    print_row(best_name, &b, ee.revenue);
    print_row("(c) engine, true parameters", &cc, ee.revenue);
    print_row("(d) engine, learning from a wrong prior", &dd, ee.revenue);
    print_row("(e) optimal DP for the true model", &ee, ee.revenue);
    printf("(d) refitted %d times; its last slot model: elasticity %.2f, weekend/weekday %.2f\n", d->fits,
           d->slot_model.elasticity, d->slot_model.weekday[5] / d->slot_model.weekday[1]);

    int status = 0;
    const outcome *all[] = {&a, &b, &cc, &dd, &ee};
    for (size_t i = 0; i < 5; i++)
        if (all[i]->oversold) {
            printf("FAIL: policy (%c) sold above capacity\n", (char)('a' + i));
            status = 1;
        }
    struct {
        const char *what;
        bool met;
    } targets[] = {
        {"(c) >= 97% of (e)", cc.revenue >= 0.97 * ee.revenue},
        {"(c) >= 110% of (a)", cc.revenue >= 1.10 * a.revenue},
        {"(d) >= 110% of (a)", !learning || dd.revenue >= 1.10 * a.revenue},
    };
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        printf("%s: %s\n", targets[i].what, targets[i].met ? "met" : "MISSED");
        if (!targets[i].met && !status) status = 2;
    }
    struct timespec ended;
    clock_gettime(CLOCK_MONOTONIC, &ended);
    printf("total: %.1f s of CPU, %.1f s wall\n", (double)clock() / CLOCKS_PER_SEC,
           (double)(ended.tv_sec - began.tv_sec) + (double)(ended.tv_nsec - began.tv_nsec) / 1e9);
    return status;
}
