/* Dynamic pricing in the engine (docs/PRICING.md, "In the engine"): each
 * product's settings, the demand models fitted on the sales history, and the
 * cached price plans requests read. Fitting and planning run in a background
 * worker (after sales and on a schedule) or in pricing_recompute; a request
 * only looks a price up. Included by core/engine.h. */
#ifndef BO_CORE_DYNAMIC_PRICING_H
#define BO_CORE_DYNAMIC_PRICING_H
#include "core/price_model.h"

/* A product's stored settings; stored = false: never set (dynamic off). */
typedef struct {
    price_settings settings;
    bool stored;
    instant_us updated_at;
} pricing_product_settings;

bo_status pricing_settings_get(engine *e, const account *a, const char *product_id, pricing_product_settings *out,
                               bo_error *err);
/* Validates (price_settings_validate) and stores; the product's plans are
 * rebuilt in the background. */
bo_status pricing_settings_put(engine *e, const account *a, const char *product_id, const price_settings *in,
                               pricing_product_settings *out, bo_error *err);

/* What the engine learned about a product: its model (shrunk towards its
 * category's and account's) and the sales behind each level. */
typedef struct {
    demand_model model;
    bool fitted;           /* false: the configured prior, nothing fitted yet */
    double category_sales, account_sales;
    instant_us fitted_at;
    size_t planned_occurrences;
} pricing_model_info;
bo_status pricing_model_get(engine *e, const account *a, const char *product_id, pricing_model_info *out,
                            bo_error *err);

/* Why an occurrence has its price. */
typedef struct {
    slot at;
    bool dynamic, planned; /* planned false: no plan yet, the provisional price (gate on the grid) */
    money price;           /* per ticket; -1 nothing can be sold (or, for a product, dynamic pricing is off) */
    money wanted;          /* the plan's price before the rate limit */
    bool at_min, at_max, rate_limited;
    int64_t seats_left;    /* -1 unlimited; a product's when planned, a reference's now */
    double forecast_tickets, observed_orders, expected_orders, occurrence_factor, target_bias;
    instant_us planned_at;
} pricing_explain_info;
bo_status pricing_explain(engine *e, const account *a, const char *product_id, civil_date day, int32_t start_time,
                          pricing_explain_info *out, bo_error *err);

/* Refits and replans a product now (product_id NULL: every dynamic product of
 * the account), on the caller's thread. */
bo_status pricing_recompute(engine *e, const account *a, const char *product_id, bo_error *err);

/* The current dynamic unit price of quantity tickets of p at `at`, the price
 * a hold then locks: false when p is not dynamic (its price tables apply).
 * *unit = -1 when the plan says nothing can be sold; bounds gets the
 * product's min and max (colour scales). */
typedef struct {
    money unit, gate, min_price, max_price;
    money provisional; /* the gate price on the grid: what shows before a plan */
    bool planned;
} pricing_current;
bool pricing_dynamic_price(engine *e, const account *a, const cat_product *p, const slot *at, int64_t quantity,
                           pricing_current *out);
/* pricing_dynamic_price for n occurrences of one product (rtp's cells), the
 * lock and the product's entry taken once; out has n entries. */
bool pricing_dynamic_prices(engine *e, const account *a, const cat_product *p, const slot *const *at, size_t n,
                            int64_t quantity, pricing_current *out);
/* engine_price_at for n occurrences of one product, priced as one pass. */
void engine_prices_at(engine *e, const account *a, const cat_product *p, const slot *const *at, size_t n,
                      int64_t quantity, price_quote *out);
/* Whether any product of the account prices dynamically. */
bool pricing_account_dynamic(engine *e, const account *a);
/* Whether this product does (replies quoting its price skip reply caches:
 * dynamic prices move with time). */
bool pricing_product_dynamic(engine *e, const account *a, const char *product_id);

/* A visitor's quotes (rtp's cookieId), held for their life: the price shown
 * is never above what this visitor was quoted within ttl for the same
 * product, occurrence and quantity. Returns the price to show. */
money pricing_visitor_hold(engine *e, const account *a, const char *visitor, const char *product_id,
                           const char *occurrence, int64_t quantity, money current, int64_t ttl_seconds);
/* pricing_visitor_hold for many cells of one visitor (rtp's whole request),
 * the visitor found once: each cell's price (-1: nothing sellable) becomes
 * the price to show. */
typedef struct {
    const char *product_id, *occurrence;
    int64_t quantity;
    money price;
} pricing_visitor_cell;
void pricing_visitor_hold_cells(engine *e, const account *a, const char *visitor, pricing_visitor_cell *cells,
                                size_t n, int64_t ttl_seconds);
#endif
