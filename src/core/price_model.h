/* Dynamic pricing: settings, the demand model, its estimator and the
 * revenue-maximising optimiser (docs/PRICING.md explains the maths and the
 * approximations). Pure functions over typed structs: no HTTP, no JSON, no
 * SQL, no clock and no global state, so the engine, the unit tests and
 * bench/pricing-season call the same code. Money is integer minor units;
 * instants are microseconds since the epoch (util/timeutil.h). */
#ifndef BO_CORE_PRICE_MODEL_H
#define BO_CORE_PRICE_MODEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Settings and the price grid ---------------------------------------- */

/* One product's pricing settings (through /admin/v1 or inventory events). */
typedef struct {
    bool dynamic;                /* false: the product's price tables, as before */
    int64_t min_price;           /* > 0 */
    int64_t max_price;           /* >= min_price */
    int64_t step;                /* > 0; the grid is min_price + k * step */
    int64_t gate_price;          /* the box-office price (the "original" price) */
    int64_t average_target;      /* 0 = none; else within [min, max]; soft */
    int64_t max_change_per_hour; /* 0 = unlimited */
} price_settings;

typedef enum {
    PRICE_SETTINGS_OK,
    PRICE_SETTINGS_BAD_STEP,   /* step <= 0 */
    PRICE_SETTINGS_BAD_BOUNDS, /* min <= 0 or max < min */
    PRICE_SETTINGS_BAD_GATE,   /* gate <= 0 */
    PRICE_SETTINGS_BAD_TARGET, /* target outside [min, max] */
    PRICE_SETTINGS_BAD_CHANGE, /* max change per hour < 0 */
} price_settings_check;

price_settings_check price_settings_validate(const price_settings *settings);

/* The grid's points lie in [min, max]: min + k * step for k = 0 .. count-1.
 * min = max is a grid of one point. Callers validate the settings first. */
size_t price_grid_count(const price_settings *settings);
int64_t price_grid_at(const price_settings *settings, size_t index);
/* The grid point nearest to price (ties go down), clamped into [min, max]. */
int64_t price_grid_nearest(const price_settings *settings, double price);

/* previous moved towards wanted by at most max_change_per_hour * elapsed, then
 * back onto the grid without overshooting the limit (a previous price off the
 * grid, after the settings changed, is first snapped). No previous price
 * (previous <= 0) or no limit: wanted. */
int64_t price_rate_limit(const price_settings *settings, int64_t previous, int64_t elapsed_us,
                         int64_t wanted);

/* ---- The demand model ----------------------------------------------------- */

/* Lead-time bands of the pace curve; DEMAND_PACE_BAND_END_HOURS[b] is where
 * band b ends (lead time in hours before the occurrence starts); the last band
 * is open-ended. */
#define DEMAND_PACE_BANDS 12
extern const double DEMAND_PACE_BAND_END_HOURS[DEMAND_PACE_BANDS];
#define DEMAND_DAYPARTS 6 /* four-hour bands of the local start time */
#define DEMAND_GROUP_MAX 8 /* orders of more tickets count as this many */

/* The calendar of one occurrence, in the venue's local time (the caller
 * converts, keeping the model free of time zones). */
typedef struct {
    int64_t start_us;
    uint8_t weekday; /* 0 = Monday .. 6 = Sunday */
    uint8_t hour;    /* 0..23 */
    uint8_t month;   /* 1..12 */
} price_occurrence;

/* Orders per hour for one occurrence at lead time L and price p:
 *   pace[band(L)] * weekday[w] * daypart[h / 4] * season[m - 1]
 *       * (p / reference_price) ^ -elasticity
 * Each order is for k tickets with probability group_share[k - 1]. */
typedef struct {
    double pace[DEMAND_PACE_BANDS]; /* orders/hour at the reference price, factors 1 */
    double weekday[7];
    double daypart[DEMAND_DAYPARTS];
    double season[12];
    double elasticity;      /* > 0 */
    double reference_price; /* minor units, > 0 */
    double group_share[DEMAND_GROUP_MAX];
    double sales;           /* orders the estimate rests on: its confidence */
} demand_model;

/* A flat prior from configuration: orders_per_hour in every band, factors 1,
 * the given elasticity, one ticket per order. */
void demand_model_prior(demand_model *model, double reference_price, double elasticity,
                        double orders_per_hour);
int demand_pace_band(int64_t lead_us);
/* Orders per hour at the reference price (all calendar factors applied). */
double demand_base_rate(const demand_model *model, const price_occurrence *occurrence, int64_t lead_us);
/* The share of arrivals that still buy at price: (price / reference) ^ -elasticity. */
double demand_price_response(const demand_model *model, double price);
/* Expected orders over [from, to) at a constant price. */
double demand_expected_orders(const demand_model *model, const price_occurrence *occurrence,
                              int64_t from_us, int64_t to_us, double price);
/* Mean tickets per order. */
double demand_mean_group(const demand_model *model);
/* How much faster (> 1) or slower this occurrence sells than its model says,
 * shrunk towards 1 by strength pseudo-orders (Gamma-Poisson posterior mean). */
double demand_occurrence_factor(double observed_orders, double expected_orders, double strength);

/* ---- Sales history and the estimator -------------------------------------- */

/* The occurrence was on sale at price over [from, to): the exposure. The
 * engine logs its own price changes; an offer ends when the occurrence sells
 * out, which is what keeps sold-out occurrences from reading as low demand. */
typedef struct {
    uint32_t occurrence; /* index into demand_history.occurrences */
    int64_t from_us, to_us;
    int64_t price;
} price_offer;

typedef struct {
    uint32_t occurrence;
    int64_t sold_at_us;
    int64_t price_paid; /* per ticket */
    int32_t quantity;
} price_sale;

typedef struct {
    const price_occurrence *occurrences;
    size_t occurrence_count;
    const price_offer *offers;
    size_t offer_count;
    const price_sale *sales;
    size_t sale_count;
} demand_history;

typedef struct {
    double strength;      /* pseudo-orders behind each prior factor (shrinkage) */
    double elasticity_sd; /* prior standard deviation of the elasticity */
    int iterations;
} demand_fit_options;

#define DEMAND_FIT_DEFAULTS ((demand_fit_options){.strength = 5, .elasticity_sd = 0.5, .iterations = 60})

typedef enum {
    DEMAND_FIT_OK,
    DEMAND_FIT_BAD_HISTORY, /* an index out of range, an offer ending before it starts */
    DEMAND_FIT_NO_MEMORY,
} demand_fit_status;

/* Penalised Poisson maximum likelihood (docs/PRICING.md): every factor has a
 * Gamma prior centred on prior's value, the elasticity a normal one, so a
 * product with few sales stays near its prior. The hierarchy is built by the
 * caller: account = fit(all sales, configured prior), category =
 * fit(category's sales, account), product = fit(product's sales, category).
 * out may be prior. */
demand_fit_status demand_fit(const demand_history *history, const demand_model *prior,
                             const demand_fit_options *options, demand_model *out);

/* ---- The optimiser ----------------------------------------------------------- */

/* Orders per hour at the reference price at an instant, for one occurrence:
 * the optimiser's only view of demand, so the benchmark can hand it the true
 * curve and the engine its model. */
typedef double (*demand_rate_fn)(const void *context, int64_t at_us);

typedef struct {
    demand_rate_fn rate;
    const void *rate_context;
    double elasticity;
    double reference_price;
    double group_share[DEMAND_GROUP_MAX];
} price_demand;

/* The price_demand of a model for one occurrence, its recent pace folded in
 * (rate_context is this struct). */
typedef struct {
    price_demand demand;
    const demand_model *model;
    price_occurrence occurrence;
    double occurrence_factor;
} demand_model_view;
void demand_model_view_init(demand_model_view *view, const demand_model *model,
                            const price_occurrence *occurrence, double occurrence_factor);

typedef struct {
    int64_t now_us;
    int64_t close_us;           /* sales end: the occurrence's start, or earlier */
    int32_t seats;              /* seats left now: the plan covers 0..seats */
    int64_t reprice_every_us;   /* the plan's rows: one per interval; 0 = one hour */
    double target_bias;         /* price_target_bias(); 0 or 1 = none */
} price_plan_request;

/* Prices by (interval, seats left), from dynamic programming over time x seats. */
typedef struct {
    int64_t now_us, close_us, reprice_every_us;
    int32_t seats;
    size_t rows;
    uint16_t *grid_index; /* rows x (seats + 1); entry [r][0] unused */
    size_t grid_count;
    price_settings settings;
    double expected_revenue; /* at now with all seats, minor units */
    double expected_tickets;
} price_plan;

typedef enum {
    PRICE_OK,
    PRICE_STATIC,       /* dynamic pricing is off: the price tables apply */
    PRICE_UNSELLABLE,   /* closed, sold out, or fewer seats than wanted: no price */
    PRICE_BAD_SETTINGS,
    PRICE_NO_MEMORY,
    PRICE_BAD_HISTORY,  /* dynamic_quote_from_history: demand_fit refused the history */
} price_outcome;

/* Builds the plan (the caller frees it with price_plan_free). */
price_outcome price_plan_build(const price_settings *settings, const price_demand *demand,
                               const price_plan_request *request, price_plan *out);
void price_plan_free(price_plan *plan);
/* The unit price for quantity tickets at at_us with seats_left, or -1 when
 * nothing can be sold (closed, too few seats). Not rate-limited. */
int64_t price_plan_lookup(const price_plan *plan, int64_t at_us, int32_t seats_left, int32_t quantity);

/* The steering towards the average target: a multiplier on the optimiser's
 * prices, moved by the ratio of the target to the average sold so far. */
double price_target_bias(const price_settings *settings, double bias, int64_t revenue, int64_t tickets);

/* ---- One quote: what a future rtp handler calls ------------------------------- */

typedef struct {
    const price_settings *settings;
    const demand_model *model; /* the product's fitted model */
    price_occurrence occurrence;
    int64_t now_us, close_us;
    int32_t seats_left, quantity;
    double observed_orders, expected_orders; /* this occurrence so far: its recent pace */
    int64_t previous_price, previous_at_us;  /* for the rate limit; 0 = none */
    double target_bias;
} dynamic_quote_request;

typedef struct {
    int64_t price;    /* per ticket */
    bool at_min, at_max, rate_limited;
    double forecast_tickets; /* expected sales to close under the plan */
    double occurrence_factor;
} dynamic_quote;

price_outcome dynamic_quote_compute(const dynamic_quote_request *request, dynamic_quote *out);

/* The whole path from a product's history to one price: fit the product's
 * model on its history (shrunk to prior: its category's model), count the
 * occurrence's orders so far against what the fitted model expected over its
 * offers (its recent pace), and quote. What a future rtp handler calls until
 * the engine caches fitted models and plans. */
typedef struct {
    const price_settings *settings;
    const demand_model *prior;
    const demand_history *history; /* the product's offers and sales */
    uint32_t occurrence;           /* index into history->occurrences */
    int64_t now_us, close_us;
    int32_t seats_left, quantity;
    int64_t previous_price, previous_at_us;
    double target_bias;
} dynamic_history_quote_request;

price_outcome dynamic_quote_from_history(const dynamic_history_quote_request *request, dynamic_quote *out);
#endif
