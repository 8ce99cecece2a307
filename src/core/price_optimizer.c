/* The revenue-maximising price of an occurrence: dynamic programming over
 * time x seats left (docs/PRICING.md, "The optimiser"). */
#include "core/price_model.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_HOUR 3600000000.0
/* Expected orders per fine time step at the lowest price: small enough that
 * two orders in one step (which the recursion ignores) are rare (~0.1%). */
#define STEP_ORDERS_MAX 0.05
/* Fine steps per plan row, whatever the demand: bounds the work of one build. */
#define STEPS_PER_ROW_MAX 1000
/* Seat-steps of one build (~0.3 s): a 5,000-seat venue gets 40,000 fine
 * steps over its sale, so a busy hour may hold more than STEP_ORDERS_MAX
 * expected orders per step; docs/PRICING.md measures what that costs. */
#define PLAN_WORK_MAX 2e8
/* The plan's table: rows x seats entries of two bytes each. */
#define PLAN_ENTRIES_MAX ((size_t)64 << 20)
/* Beyond this many seats capacity never binds in practice (and unlimited
 * availability arrives as INT32_MAX): the plan covers this many and a lookup
 * with more seats left reads its last column. */
#define PLAN_SEATS_MAX 1000000
/* An occurrence's own pace counts after this many orders as much as the model. */
#define OCCURRENCE_FACTOR_STRENGTH 10.0

double price_target_bias(const price_settings *s, double bias, int64_t revenue, int64_t tickets)
{
    if (!(bias > 0)) bias = 1;
    if (s->average_target <= 0 || tickets <= 0 || revenue <= 0) return bias;
    double average = (double)revenue / (double)tickets;
    /* Half the log-gap per call: an integral controller that settles without
     * overshooting when each update sees a day or more of sales. */
    double next = bias * sqrt((double)s->average_target / average);
    return next < 0.25 ? 0.25 : next > 4 ? 4 : next;
}

/* A model is data from a fit or from configuration: a rate that is not a
 * finite number >= 0 counts as no demand rather than poisoning the plan. */
static double rate_at(const price_demand *demand, int64_t at_us)
{
    double rate = demand->rate(demand->rate_context, at_us);
    return rate >= 0 && rate < 1e12 ? rate : 0;
}

static double model_view_rate(const void *context, int64_t at_us)
{
    const demand_model_view *view = context;
    return demand_base_rate(view->model, &view->occurrence, view->occurrence.start_us - at_us) *
           view->occurrence_factor;
}

void demand_model_view_init(demand_model_view *view, const demand_model *model, const price_occurrence *occurrence,
                            double occurrence_factor)
{
    view->model = model;
    view->occurrence = *occurrence;
    view->occurrence_factor = occurrence_factor > 0 ? occurrence_factor : 1;
    view->demand = (price_demand){
        .rate = model_view_rate,
        .rate_context = view,
        .elasticity = model->elasticity,
        .reference_price = model->reference_price,
    };
    memcpy(view->demand.group_share, model->group_share, sizeof model->group_share);
}

void price_plan_free(price_plan *plan)
{
    free(plan->grid_index);
    plan->grid_index = NULL;
    plan->rows = 0;
}

/* Everything one backward step needs that does not change with time. */
typedef struct {
    size_t grid_count;
    double *response; /* per grid point: (price / reference) ^ -elasticity */
    double *price;    /* per grid point */
    double min_price, per_step; /* per_step = 1 / step */
    double ideal_factor;        /* e / (e - 1); 0 when e <= 1: the top price */
    double bias;
    double share[DEMAND_GROUP_MAX];
    int largest_group;
    int32_t seats;
} recursion;

static size_t grid_floor(const recursion *r, double price)
{
    if (!(price > r->min_price)) return 0;
    double k = floor((price - r->min_price) * r->per_step);
    return k >= (double)(r->grid_count - 1) ? r->grid_count - 1 : (size_t)k;
}

/* The grid point maximising response(p) * (p * tickets - seat_value), the
 * expected gain of this step over keeping the seats: for elasticity > 1 the
 * continuous maximum is at e * seat_value / ((e - 1) * tickets) and the
 * function is unimodal, so one of its two grid neighbours wins; for e <= 1
 * revenue grows with price and the maximum is the top of the grid. */
static size_t best_grid_point(const recursion *r, double tickets, double seat_value)
{
    if (!(tickets > 0)) return 0; /* no group fits the seats left: nothing sells */
    if (r->ideal_factor == 0) return grid_floor(r, r->price[r->grid_count - 1] * r->bias);
    double ideal = r->ideal_factor * seat_value / tickets;
    if (r->bias != 1) return grid_floor(r, ideal * r->bias + 0.5 / r->per_step);
    size_t low = grid_floor(r, ideal);
    if (low + 1 >= r->grid_count) return low;
    double gain_low = r->response[low] * (r->price[low] * tickets - seat_value);
    double gain_high = r->response[low + 1] * (r->price[low + 1] * tickets - seat_value);
    return gain_high > gain_low ? low + 1 : low;
}

/* One fine step backwards: value/sold at the step's end → at its start. */
static void step_back(const recursion *r, double orders, const double *value_next, const double *sold_next,
                      double *value, double *sold, uint16_t *choice)
{
    value[0] = 0;
    sold[0] = 0;
    /* From the most seats down, so the price can be kept from falling as
     * seats sell: with groups, 1 seat left can only go to a single buyer and
     * the unconstrained optimum there is sometimes lower than with 2 left.
     * A price that drops as an occurrence sells out reads as a glitch to
     * buyers, and the revenue it gives up is a fraction of one order. */
    size_t floor_index = 0;
    for (int32_t s = r->seats; s >= 1; s--) {
        double tickets = 0, seat_value = 0, seats_sold_later = 0;
        int largest = r->largest_group < s ? r->largest_group : s;
        for (int q = 1; q <= largest; q++) {
            double p = r->share[q - 1];
            tickets += p * q;
            seat_value += p * (value_next[s] - value_next[s - q]);
            seats_sold_later += p * (sold_next[s] - sold_next[s - q]);
        }
        size_t best = best_grid_point(r, tickets, seat_value);
        if (best < floor_index) best = floor_index;
        floor_index = best;
        double chance = orders * r->response[best];
        if (!(chance < 1)) chance = orders > 0 ? 1 : 0; /* also 0 x inf */
        double price = r->price[best];
        value[s] = value_next[s] + chance * (price * tickets - seat_value);
        sold[s] = sold_next[s] + chance * (tickets - seats_sold_later);
        if (choice) choice[s] = (uint16_t)best;
    }
}

price_outcome price_plan_build(const price_settings *settings, const price_demand *demand,
                               const price_plan_request *request, price_plan *out)
{
    memset(out, 0, sizeof *out);
    if (price_settings_validate(settings) != PRICE_SETTINGS_OK || price_grid_count(settings) > UINT16_MAX ||
        !(demand->reference_price > 0) || !(demand->elasticity > 0))
        return PRICE_BAD_SETTINGS;
    if (!settings->dynamic) return PRICE_STATIC;
    out->settings = *settings;
    out->now_us = request->now_us;
    out->close_us = request->close_us;
    out->seats = request->seats <= 0 ? 0 : request->seats > PLAN_SEATS_MAX ? PLAN_SEATS_MAX : request->seats;
    out->grid_count = price_grid_count(settings);
    if (!(request->target_bias >= 0) || request->target_bias > 1e6) return PRICE_BAD_SETTINGS;
    if (out->seats == 0 || request->close_us <= request->now_us) return PRICE_UNSELLABLE;

    recursion r = {
        .grid_count = out->grid_count,
        .min_price = (double)settings->min_price,
        .per_step = 1.0 / (double)settings->step,
        .ideal_factor = demand->elasticity > 1 ? demand->elasticity / (demand->elasticity - 1) : 0,
        .bias = request->target_bias > 0 ? request->target_bias : 1,
    };
    double share_total = 0, mean_group = 0;
    for (int k = 0; k < DEMAND_GROUP_MAX; k++)
        if (isfinite(demand->group_share[k]) && demand->group_share[k] > 0) share_total += demand->group_share[k];
    for (int k = 0; k < DEMAND_GROUP_MAX; k++) {
        double share = isfinite(demand->group_share[k]) && demand->group_share[k] > 0 ? demand->group_share[k] : 0;
        r.share[k] = share_total > 0 ? share / share_total : (k == 0);
        if (r.share[k] > 0) r.largest_group = k + 1;
        mean_group += r.share[k] * (k + 1);
    }
    r.response = calloc(2 * r.grid_count, sizeof *r.response); /* calloc: gcc cannot see grid_count >= 1 */
    if (!r.response) return PRICE_NO_MEMORY;
    r.price = r.response + r.grid_count;
    for (size_t i = 0; i < r.grid_count; i++) {
        r.price[i] = (double)price_grid_at(settings, i);
        r.response[i] = pow(r.price[i] / demand->reference_price, -demand->elasticity);
    }
    double top_response = r.response[0] > 1 ? r.response[0] : 1;

    /* Seats beyond what could ever sell change nothing but the cost (and
     * unlimited availability arrives as INT32_MAX): the plan covers at most
     * three times the tickets expected at the lowest price, plus 100. */
    int64_t window = request->close_us - request->now_us;
    double demand_at_min = 0;
    for (int64_t at = request->now_us; at < request->close_us; at += (int64_t)US_PER_HOUR) {
        int64_t to = at + (int64_t)US_PER_HOUR < request->close_us ? at + (int64_t)US_PER_HOUR : request->close_us;
        demand_at_min += rate_at(demand, at + (to - at) / 2) * ((double)(to - at) / US_PER_HOUR);
    }
    double could_sell = 3 * demand_at_min * top_response * mean_group + 100;
    if (could_sell < (double)out->seats) out->seats = (int32_t)could_sell;
    r.seats = out->seats;

    int64_t every = request->reprice_every_us > 0 ? request->reprice_every_us : (int64_t)US_PER_HOUR;
    size_t width = (size_t)out->seats + 1;
    size_t rows = (size_t)((window + every - 1) / every);
    if (rows * width > PLAN_ENTRIES_MAX) { /* a coarser table rather than no table */
        rows = PLAN_ENTRIES_MAX / width;
        if (rows == 0) rows = 1;
        every = (window + (int64_t)rows - 1) / (int64_t)rows;
        rows = (size_t)((window + every - 1) / every);
    }
    out->reprice_every_us = every;

    double *buffers = malloc(4 * width * sizeof *buffers);
    out->grid_index = malloc(rows * width * sizeof *out->grid_index);
    int *steps_of = malloc(rows * sizeof *steps_of);
    if (!buffers || !out->grid_index || !steps_of) {
        free(r.response);
        free(buffers);
        free(steps_of);
        price_plan_free(out);
        return PRICE_NO_MEMORY;
    }
    out->rows = rows;
    double *value_next = buffers, *value = buffers + width, *sold_next = buffers + 2 * width,
           *sold = buffers + 3 * width;
    memset(value_next, 0, width * sizeof *value_next);
    memset(sold_next, 0, width * sizeof *sold_next);

    /* Fine steps per row: the fastest of the row's ends and middle sets its
     * step; then, if the whole plan would exceed its work budget (large
     * venues), every row gives up steps in proportion. */
    double total_steps = 0;
    for (size_t row = 0; row < rows; row++) {
        int64_t from = request->now_us + (int64_t)row * every;
        int64_t to = row + 1 == rows ? request->close_us : from + every;
        double fastest = fmax(rate_at(demand, from), fmax(rate_at(demand, from + (to - from) / 2),
                                                          rate_at(demand, to - 1)));
        double wanted = ceil(fastest * top_response * ((double)(to - from) / US_PER_HOUR) / STEP_ORDERS_MAX);
        steps_of[row] = !(wanted >= 1) ? 1 : wanted > STEPS_PER_ROW_MAX ? STEPS_PER_ROW_MAX : (int)wanted;
        total_steps += steps_of[row];
    }
    double budget = PLAN_WORK_MAX / (double)width;
    if (total_steps > budget && total_steps > (double)rows)
        for (size_t row = 0; row < rows; row++) {
            double scaled = floor(steps_of[row] * budget / total_steps);
            steps_of[row] = scaled < 1 ? 1 : (int)scaled;
        }

    for (size_t row = rows; row-- > 0;) {
        int64_t from = request->now_us + (int64_t)row * every;
        int64_t to = row + 1 == rows ? request->close_us : from + every;
        double hours = (double)(to - from) / US_PER_HOUR;
        int steps = steps_of[row];
        double step_hours = hours / steps;
        for (int j = steps; j-- > 0;) {
            int64_t middle = from + (int64_t)(((double)j + 0.5) * step_hours * US_PER_HOUR);
            double orders = rate_at(demand, middle) * step_hours;
            step_back(&r, orders, value_next, sold_next, value, sold, j == 0 ? out->grid_index + row * width : NULL);
            double *t = value_next;
            value_next = value;
            value = t;
            t = sold_next;
            sold_next = sold;
            sold = t;
        }
    }
    out->expected_revenue = value_next[out->seats];
    out->expected_tickets = sold_next[out->seats];
    free(r.response);
    free(buffers);
    free(steps_of);
    return PRICE_OK;
}

int64_t price_plan_lookup(const price_plan *plan, int64_t at_us, int32_t seats_left, int32_t quantity)
{
    if (quantity < 1) quantity = 1;
    if (!plan->grid_index || at_us >= plan->close_us || seats_left < quantity) return -1;
    if (seats_left > plan->seats) seats_left = plan->seats; /* more seats than planned: the plan's lowest price */
    size_t row = at_us <= plan->now_us ? 0 : (size_t)((at_us - plan->now_us) / plan->reprice_every_us);
    if (row >= plan->rows) row = plan->rows - 1;
    return price_grid_at(&plan->settings, plan->grid_index[row * ((size_t)plan->seats + 1) + (size_t)seats_left]);
}

price_outcome dynamic_quote_compute(const dynamic_quote_request *q, dynamic_quote *out)
{
    memset(out, 0, sizeof *out);
    if (price_settings_validate(q->settings) != PRICE_SETTINGS_OK) return PRICE_BAD_SETTINGS;
    if (!q->settings->dynamic) return PRICE_STATIC;
    int32_t quantity = q->quantity < 1 ? 1 : q->quantity;
    if (q->seats_left < quantity || q->now_us >= q->close_us) return PRICE_UNSELLABLE;
    out->occurrence_factor =
        demand_occurrence_factor(q->observed_orders, q->expected_orders, OCCURRENCE_FACTOR_STRENGTH);
    demand_model_view view;
    demand_model_view_init(&view, q->model, &q->occurrence, out->occurrence_factor);
    price_plan plan;
    price_plan_request request = {
        .now_us = q->now_us,
        .close_us = q->close_us,
        .seats = q->seats_left,
        .target_bias = q->target_bias,
    };
    price_outcome outcome = price_plan_build(q->settings, &view.demand, &request, &plan);
    if (outcome != PRICE_OK) {
        price_plan_free(&plan);
        return outcome;
    }
    int64_t wanted = price_plan_lookup(&plan, q->now_us, q->seats_left, quantity);
    out->forecast_tickets = plan.expected_tickets;
    price_plan_free(&plan);
    out->price = price_rate_limit(q->settings, q->previous_price, q->now_us - q->previous_at_us, wanted);
    out->rate_limited = out->price != wanted;
    out->at_min = out->price == q->settings->min_price;
    out->at_max = out->price == q->settings->max_price;
    return PRICE_OK;
}

price_outcome dynamic_quote_from_history(const dynamic_history_quote_request *q, dynamic_quote *out)
{
    memset(out, 0, sizeof *out);
    const demand_history *h = q->history;
    if (q->occurrence >= h->occurrence_count) return PRICE_BAD_HISTORY;
    demand_model fitted;
    switch (demand_fit(h, q->prior, NULL, &fitted)) {
    case DEMAND_FIT_OK: break;
    case DEMAND_FIT_BAD_HISTORY: return PRICE_BAD_HISTORY;
    case DEMAND_FIT_NO_MEMORY: return PRICE_NO_MEMORY;
    }
    const price_occurrence *occurrence = &h->occurrences[q->occurrence];
    double observed = 0, expected = 0;
    for (size_t i = 0; i < h->sale_count; i++)
        if (h->sales[i].occurrence == q->occurrence) observed += 1;
    for (size_t i = 0; i < h->offer_count; i++)
        if (h->offers[i].occurrence == q->occurrence)
            expected += demand_expected_orders(&fitted, occurrence, h->offers[i].from_us, h->offers[i].to_us,
                                               (double)h->offers[i].price);
    dynamic_quote_request request = {
        .settings = q->settings,
        .model = &fitted,
        .occurrence = *occurrence,
        .now_us = q->now_us,
        .close_us = q->close_us,
        .seats_left = q->seats_left,
        .quantity = q->quantity,
        .observed_orders = observed,
        .expected_orders = expected,
        .previous_price = q->previous_price,
        .previous_at_us = q->previous_at_us,
        .target_bias = q->target_bias,
    };
    return dynamic_quote_compute(&request, out);
}
