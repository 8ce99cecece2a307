/* Price settings, the grid, the demand model and its estimator
 * (docs/PRICING.md). The optimiser is in price_optimizer.c. */
#include "core/price_model.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_HOUR 3600000000.0

const double DEMAND_PACE_BAND_END_HOURS[DEMAND_PACE_BANDS] = {
    3, 12, 24, 48, 96, 168, 336, 720, 1440, 2160, 4320, INFINITY,
};

price_settings_check price_settings_validate(const price_settings *s)
{
    if (s->step <= 0) return PRICE_SETTINGS_BAD_STEP;
    if (s->min_price <= 0 || s->max_price < s->min_price) return PRICE_SETTINGS_BAD_BOUNDS;
    if (s->gate_price <= 0) return PRICE_SETTINGS_BAD_GATE;
    if (s->average_target != 0 && (s->average_target < s->min_price || s->average_target > s->max_price))
        return PRICE_SETTINGS_BAD_TARGET;
    if (s->max_change_per_hour < 0) return PRICE_SETTINGS_BAD_CHANGE;
    return PRICE_SETTINGS_OK;
}

size_t price_grid_count(const price_settings *s)
{
    return (size_t)((s->max_price - s->min_price) / s->step) + 1;
}

int64_t price_grid_at(const price_settings *s, size_t index)
{
    return s->min_price + (int64_t)index * s->step;
}

static size_t grid_index_nearest(const price_settings *s, double price)
{
    size_t last = price_grid_count(s) - 1;
    if (!(price > (double)s->min_price)) return 0; /* also NaN */
    double k = ceil((price - (double)s->min_price) / (double)s->step - 0.5);
    return k >= (double)last ? last : (size_t)k;
}

int64_t price_grid_nearest(const price_settings *s, double price)
{
    return price_grid_at(s, grid_index_nearest(s, price));
}

int64_t price_rate_limit(const price_settings *s, int64_t previous, int64_t elapsed_us, int64_t wanted)
{
    if (previous <= 0 || s->max_change_per_hour == 0) return wanted;
    int64_t from = price_grid_nearest(s, (double)previous);
    double allowed = (double)s->max_change_per_hour * ((double)(elapsed_us > 0 ? elapsed_us : 0) / US_PER_HOUR);
    double distance = fabs((double)(wanted - from));
    if (distance <= allowed) return wanted;
    /* whole steps only, so the result stays on the grid and within the limit */
    int64_t steps = (int64_t)floor(allowed / (double)s->step);
    return wanted > from ? from + steps * s->step : from - steps * s->step;
}

/* ---- Demand ---------------------------------------------------------------- */

void demand_model_prior(demand_model *m, double reference_price, double elasticity, double orders_per_hour)
{
    memset(m, 0, sizeof *m);
    for (int b = 0; b < DEMAND_PACE_BANDS; b++) m->pace[b] = orders_per_hour;
    for (int w = 0; w < 7; w++) m->weekday[w] = 1;
    for (int d = 0; d < DEMAND_DAYPARTS; d++) m->daypart[d] = 1;
    for (int mo = 0; mo < 12; mo++) m->season[mo] = 1;
    m->elasticity = elasticity;
    m->reference_price = reference_price;
    m->group_share[0] = 1;
}

int demand_pace_band(int64_t lead_us)
{
    double hours = (double)(lead_us > 0 ? lead_us : 0) / US_PER_HOUR;
    int b = 0;
    while (b < DEMAND_PACE_BANDS - 1 && hours >= DEMAND_PACE_BAND_END_HOURS[b]) b++;
    return b;
}

static double calendar_factor(const demand_model *m, const price_occurrence *o)
{
    return m->weekday[o->weekday % 7] * m->daypart[(o->hour % 24) / 4] * m->season[(o->month + 11) % 12];
}

double demand_base_rate(const demand_model *m, const price_occurrence *o, int64_t lead_us)
{
    return m->pace[demand_pace_band(lead_us)] * calendar_factor(m, o);
}

double demand_price_response(const demand_model *m, double price)
{
    return pow(price / m->reference_price, -m->elasticity);
}

/* Calls piece(band, hours, ctx) for each part of [from, to) within one pace band. */
static void for_each_band_piece(int64_t start_us, int64_t from_us, int64_t to_us,
                                void (*piece)(int band, double hours, void *ctx), void *ctx)
{
    double lead_hi = (double)(start_us - from_us) / US_PER_HOUR; /* the piece's start, in lead hours */
    double lead_lo = (double)(start_us - to_us) / US_PER_HOUR;
    if (lead_lo < 0) lead_lo = 0; /* after the start nothing is on sale */
    while (lead_hi > lead_lo) {
        int band = demand_pace_band((int64_t)(lead_lo * US_PER_HOUR));
        double band_end = DEMAND_PACE_BAND_END_HOURS[band];
        double upper = lead_hi < band_end ? lead_hi : band_end;
        piece(band, upper - lead_lo, ctx);
        lead_lo = upper;
    }
}

typedef struct {
    const demand_model *model;
    double orders;
} expected_acc;

static void add_expected(int band, double hours, void *ctx)
{
    expected_acc *acc = ctx;
    acc->orders += acc->model->pace[band] * hours;
}

double demand_expected_orders(const demand_model *m, const price_occurrence *o, int64_t from_us, int64_t to_us,
                              double price)
{
    expected_acc acc = {m, 0};
    for_each_band_piece(o->start_us, from_us, to_us, add_expected, &acc);
    return acc.orders * calendar_factor(m, o) * demand_price_response(m, price);
}

double demand_mean_group(const demand_model *m)
{
    double mean = 0, total = 0;
    for (int k = 0; k < DEMAND_GROUP_MAX; k++) {
        mean += (k + 1) * m->group_share[k];
        total += m->group_share[k];
    }
    return total > 0 ? mean / total : 1;
}

double demand_occurrence_factor(double observed_orders, double expected_orders, double strength)
{
    if (strength <= 0) strength = 1;
    return (strength + (observed_orders > 0 ? observed_orders : 0)) /
           (strength + (expected_orders > 0 ? expected_orders : 0));
}

/* ---- The estimator ---------------------------------------------------------- */

/* One piece of exposure: hours on sale in one pace band at one log price. */
typedef struct {
    uint8_t band, weekday, daypart, month;
    double hours;
    double log_price; /* log(price / reference) */
} exposure_cell;

typedef struct {
    exposure_cell *cells;
    size_t count, capacity;
    exposure_cell current;
    bool failed;
} cell_list;

static void add_cell(int band, double hours, void *ctx)
{
    cell_list *list = ctx;
    if (hours <= 0 || list->failed) return;
    if (list->count == list->capacity) {
        size_t grown = list->capacity ? list->capacity * 2 : 1024;
        exposure_cell *cells = realloc(list->cells, grown * sizeof *cells);
        if (!cells) {
            list->failed = true;
            return;
        }
        list->cells = cells;
        list->capacity = grown;
    }
    exposure_cell cell = list->current;
    cell.band = (uint8_t)band;
    cell.hours = hours;
    list->cells[list->count++] = cell;
}

static int cell_order(const void *a, const void *b)
{
    const exposure_cell *x = a, *y = b;
    if (x->band != y->band) return x->band - y->band;
    if (x->weekday != y->weekday) return x->weekday - y->weekday;
    if (x->daypart != y->daypart) return x->daypart - y->daypart;
    if (x->month != y->month) return x->month - y->month;
    return (x->log_price > y->log_price) - (x->log_price < y->log_price);
}

/* Exposure at the same levels and price adds up: an engine logs a price per
 * hour per occurrence, but a season holds a few thousand distinct cells, and
 * every iteration of the fit walks them all. */
static void merge_cells(cell_list *list)
{
    if (list->count < 2) return;
    qsort(list->cells, list->count, sizeof *list->cells, cell_order);
    size_t kept = 0;
    for (size_t i = 1; i < list->count; i++) {
        if (cell_order(&list->cells[kept], &list->cells[i]) == 0) list->cells[kept].hours += list->cells[i].hours;
        else list->cells[++kept] = list->cells[i];
    }
    list->count = kept + 1;
}

/* The sufficient statistics of the sales: orders per level of each factor. */
typedef struct {
    double pace[DEMAND_PACE_BANDS], weekday[7], daypart[DEMAND_DAYPARTS], season[12];
    double log_price_sum;
    double groups[DEMAND_GROUP_MAX];
    double orders;
} sale_counts;

/* Each factor group is updated in turn to its posterior mean given the others
 * (a Gamma prior of `strength` pseudo-orders at the prior's value). */
#define FACTOR_LEVELS_MAX 12 /* the most levels of any group (pace bands, months) */
typedef enum { FACTOR_PACE, FACTOR_WEEKDAY, FACTOR_DAYPART, FACTOR_SEASON } factor_group;

static double *factor_values(demand_model *m, factor_group g, size_t *n)
{
    switch (g) {
    case FACTOR_PACE: *n = DEMAND_PACE_BANDS; return m->pace;
    case FACTOR_WEEKDAY: *n = 7; return m->weekday;
    case FACTOR_DAYPART: *n = DEMAND_DAYPARTS; return m->daypart;
    case FACTOR_SEASON: *n = 12; return m->season;
    }
    return NULL;
}

static size_t cell_level(const exposure_cell *c, factor_group g)
{
    switch (g) {
    case FACTOR_PACE: return c->band;
    case FACTOR_WEEKDAY: return c->weekday;
    case FACTOR_DAYPART: return c->daypart;
    case FACTOR_SEASON: return c->month;
    }
    return 0;
}

static double cell_mean(const demand_model *m, const exposure_cell *c)
{
    return c->hours * m->pace[c->band] * m->weekday[c->weekday] * m->daypart[c->daypart] * m->season[c->month] *
           exp(-m->elasticity * c->log_price);
}

static const double *count_values(const sale_counts *n, factor_group g)
{
    switch (g) {
    case FACTOR_PACE: return n->pace;
    case FACTOR_WEEKDAY: return n->weekday;
    case FACTOR_DAYPART: return n->daypart;
    case FACTOR_SEASON: return n->season;
    }
    return NULL;
}

static void update_factor(demand_model *m, const demand_model *prior, factor_group g, const cell_list *cells,
                          const sale_counts *counts, double strength, const bool *seen_bands)
{
    size_t n;
    double *values = factor_values(m, g, &n);
    const double *prior_values = factor_values((demand_model *)prior, g, &n);
    const double *observed = count_values(counts, g);
    double exposure[FACTOR_LEVELS_MAX] = {0}; /* expected orders without this factor, per level */
    for (size_t i = 0; i < cells->count; i++) {
        const exposure_cell *c = &cells->cells[i];
        size_t level = cell_level(c, g);
        if (values[level] > 0) exposure[level] += cell_mean(m, c) / values[level];
    }
    for (size_t k = 0; k < n; k++) {
        /* No exposure: nothing to learn from (sales without an offer are an
         * inconsistent history), so the level keeps its prior. */
        if (exposure[k] <= 0) continue;
        values[k] = (strength + observed[k]) / (strength / prior_values[k] + exposure[k]);
    }
    if (g == FACTOR_PACE) return;
    /* Calendar factors average 1 over the exposure that was seen (unseen
     * levels keep their prior); the scale moves into the pace curve. */
    double weighted = 0, weights = 0;
    for (size_t k = 0; k < n; k++) {
        weighted += exposure[k] * values[k];
        weights += exposure[k];
    }
    if (weights <= 0 || weighted <= 0) return;
    double mean = weighted / weights;
    for (size_t k = 0; k < n; k++)
        if (exposure[k] > 0) values[k] /= mean;
    /* only where that scale was seen: an unseen band keeps its prior */
    for (int b = 0; b < DEMAND_PACE_BANDS; b++)
        if (seen_bands[b]) m->pace[b] *= mean;
}

/* One Newton step on the penalised log-likelihood in the elasticity. */
static void update_elasticity(demand_model *m, const demand_model *prior, const cell_list *cells,
                              const sale_counts *counts, double prior_sd)
{
    /* d logL / d e = sum over cells of x mu - sum over sales of x, minus the prior's pull */
    double expected = 0, curvature = 0;
    for (size_t i = 0; i < cells->count; i++) {
        const exposure_cell *c = &cells->cells[i];
        double mu = cell_mean(m, c);
        expected += c->log_price * mu;
        curvature += c->log_price * c->log_price * mu;
    }
    double precision = 1.0 / (prior_sd * prior_sd);
    double gradient = expected - counts->log_price_sum - (m->elasticity - prior->elasticity) * precision;
    double move = gradient / (curvature + precision);
    /* damped: early iterations, with the rates still far off, can ask for wild moves */
    if (move > 0.5) move = 0.5;
    if (move < -0.5) move = -0.5;
    double next = m->elasticity + move;
    if (next < 0.05) next = 0.05;
    if (next > 10) next = 10;
    m->elasticity = next;
}

demand_fit_status demand_fit(const demand_history *h, const demand_model *prior_in,
                             const demand_fit_options *options, demand_model *out)
{
    demand_model prior = *prior_in; /* out may alias the prior */
    demand_fit_options o = options ? *options : DEMAND_FIT_DEFAULTS;
    if (o.strength <= 0) o.strength = 1;
    if (o.elasticity_sd <= 0) o.elasticity_sd = 0.5;
    if (o.iterations <= 0) o.iterations = DEMAND_FIT_DEFAULTS.iterations;

    cell_list cells = {0};
    for (size_t i = 0; i < h->offer_count; i++) {
        const price_offer *offer = &h->offers[i];
        if (offer->occurrence >= h->occurrence_count || offer->to_us < offer->from_us || offer->price <= 0) {
            free(cells.cells);
            return DEMAND_FIT_BAD_HISTORY;
        }
        const price_occurrence *occ = &h->occurrences[offer->occurrence];
        cells.current = (exposure_cell){
            .weekday = occ->weekday % 7,
            .daypart = (uint8_t)((occ->hour % 24) / 4),
            .month = (uint8_t)((occ->month + 11) % 12),
            .log_price = log((double)offer->price / prior.reference_price),
        };
        for_each_band_piece(occ->start_us, offer->from_us, offer->to_us, add_cell, &cells);
    }
    if (cells.failed) {
        free(cells.cells);
        return DEMAND_FIT_NO_MEMORY;
    }
    merge_cells(&cells);
    sale_counts counts = {0};
    for (size_t i = 0; i < h->sale_count; i++) {
        const price_sale *sale = &h->sales[i];
        if (sale->occurrence >= h->occurrence_count || sale->price_paid <= 0) {
            free(cells.cells);
            return DEMAND_FIT_BAD_HISTORY;
        }
        const price_occurrence *occ = &h->occurrences[sale->occurrence];
        counts.pace[demand_pace_band(occ->start_us - sale->sold_at_us)] += 1;
        counts.weekday[occ->weekday % 7] += 1;
        counts.daypart[(occ->hour % 24) / 4] += 1;
        counts.season[(occ->month + 11) % 12] += 1;
        counts.log_price_sum += log((double)sale->price_paid / prior.reference_price);
        int q = sale->quantity < 1 ? 1 : sale->quantity > DEMAND_GROUP_MAX ? DEMAND_GROUP_MAX : sale->quantity;
        counts.groups[q - 1] += 1;
        counts.orders += 1;
    }

    bool seen_bands[DEMAND_PACE_BANDS] = {0};
    for (size_t i = 0; i < cells.count; i++) seen_bands[cells.cells[i].band] = true;
    demand_model m = prior;
    for (int it = 0; it < o.iterations; it++) {
        update_factor(&m, &prior, FACTOR_PACE, &cells, &counts, o.strength, seen_bands);
        update_factor(&m, &prior, FACTOR_WEEKDAY, &cells, &counts, o.strength, seen_bands);
        update_factor(&m, &prior, FACTOR_DAYPART, &cells, &counts, o.strength, seen_bands);
        update_factor(&m, &prior, FACTOR_SEASON, &cells, &counts, o.strength, seen_bands);
        update_elasticity(&m, &prior, &cells, &counts, o.elasticity_sd);
    }
    /* group sizes: a Dirichlet posterior mean around the prior's shares */
    double prior_total = 0;
    for (int k = 0; k < DEMAND_GROUP_MAX; k++) prior_total += prior.group_share[k];
    for (int k = 0; k < DEMAND_GROUP_MAX; k++) {
        double prior_share = prior_total > 0 ? prior.group_share[k] / prior_total : (k == 0);
        m.group_share[k] = (o.strength * prior_share + counts.groups[k]) / (o.strength + counts.orders);
    }
    m.sales = counts.orders;
    free(cells.cells);
    *out = m;
    return DEMAND_FIT_OK;
}
