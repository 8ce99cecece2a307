/* /admin/v1/pricing/products/{id}...: a product's dynamic pricing settings,
 * what the engine learned about its demand, and why an occurrence has its
 * price (docs/ADMIN_API.md, "Dynamic pricing"; docs/PRICING.md). */
#include "api/admin/admin.h"
#include "core/inventory_refs.h"
#include <math.h>
#include <string.h>

#define MONEY_MAX 1000000000000LL /* ten billion in a currency of two decimals */

static json_t *price_settings_json(const price_settings *p)
{
    return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "dynamic", (int)p->dynamic, "min_price", (json_int_t)p->min_price,
                     "max_price", (json_int_t)p->max_price, "step", (json_int_t)p->step, "gate_price",
                     (json_int_t)p->gate_price, "average_target", (json_int_t)p->average_target,
                     "max_change_per_hour", (json_int_t)p->max_change_per_hour);
}

static json_t *settings_json(const char *product_id, const pricing_product_settings *s)
{
    json_t *o = json_pack("{s:s}", "product_id", product_id), *settings = price_settings_json(&s->settings);
    json_object_update(o, settings);
    json_decref(settings);
    json_object_set_new(o, "updated_at", s->stored ? json_integer(s->updated_at) : json_null());
    return o;
}

void admin_pricing_settings_get(http_request *r, void *app_)
{
    static const char *const none[] = {NULL};
    if (!admin_query_known(r, none)) return;
    const char *id = http_path_param(r, "id");
    pricing_product_settings s;
    bo_error err = {0};
    if (pricing_settings_get(admin_engine(app_), api_account(r), id, &s, &err) != BO_OK) return admin_fail(r, &err);
    http_reply_json(r, 200, settings_json(id, &s));
}

void admin_pricing_settings_put(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    price_settings in = {0};
    const body_field fields[] = {
        {"dynamic", BF_BOOL, true, 0, 0, &in.dynamic, NULL},
        {"min_price", BF_INT, true, 1, MONEY_MAX, &in.min_price, NULL},
        {"max_price", BF_INT, true, 1, MONEY_MAX, &in.max_price, NULL},
        {"step", BF_INT, true, 1, MONEY_MAX, &in.step, NULL},
        {"gate_price", BF_INT, true, 1, MONEY_MAX, &in.gate_price, NULL},
        {"average_target", BF_INT, false, 0, MONEY_MAX, &in.average_target, NULL},
        {"max_change_per_hour", BF_INT, false, 0, MONEY_MAX, &in.max_change_per_hour, NULL},
    };
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    const char *id = http_path_param(r, "id");
    pricing_product_settings out;
    bo_error err = {0};
    if (pricing_settings_put(admin_engine(app_), api_account(r), id, &in, &out, &err) != BO_OK)
        return admin_fail(r, &err);
    http_reply_json(r, 200, settings_json(id, &out));
}

static json_t *number_array(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

/* id_key: "product_id" or "reference", whose model m is. */
static json_t *model_json(const char *id_key, const char *id, const pricing_model_info *m)
{
    static const char *const weekdays[] = {"monday", "tuesday", "wednesday", "thursday",
                                           "friday", "saturday", "sunday"};
    json_t *pace = json_array();
    for (int b = 0; b < DEMAND_PACE_BANDS; b++) {
        double end = DEMAND_PACE_BAND_END_HOURS[b];
        json_array_append_new(pace, json_pack("{s:o,s:f}", "until_hours", isfinite(end) ? json_real(end) : json_null(),
                                              "orders_per_hour", m->model.pace[b]));
    }
    json_t *weekday = json_object();
    for (int d = 0; d < 7; d++) json_object_set_new(weekday, weekdays[d], json_real(m->model.weekday[d]));
    return json_pack("{s:s,s:b,s:o,s:o,s:o,s:o,s:f,s:f,s:o,s:{s:f,s:f,s:f},s:o,s:I}", id_key, id,
                     "fitted", (int)m->fitted, "pace", pace, "weekday_factors", weekday, "daypart_factors",
                     number_array(m->model.daypart, DEMAND_DAYPARTS), "season_factors",
                     number_array(m->model.season, 12), "elasticity", m->model.elasticity, "reference_price",
                     m->model.reference_price, "group_shares", number_array(m->model.group_share, DEMAND_GROUP_MAX),
                     "confidence", "product_orders", m->model.sales, "category_orders", m->category_sales,
                     "account_orders", m->account_sales, "fitted_at",
                     m->fitted ? json_integer(m->fitted_at) : json_null(), "planned_occurrences",
                     (json_int_t)m->planned_occurrences);
}

static void reply_model(http_request *r, void *app_, const char *id)
{
    pricing_model_info m;
    bo_error err = {0};
    if (pricing_model_get(admin_engine(app_), api_account(r), id, &m, &err) != BO_OK) return admin_fail(r, &err);
    http_reply_json(r, 200, model_json("product_id", id, &m));
}

void admin_pricing_model_get(http_request *r, void *app_)
{
    static const char *const none[] = {NULL};
    if (!admin_query_known(r, none)) return;
    reply_model(r, app_, http_path_param(r, "id"));
}

void admin_pricing_recompute(http_request *r, void *app_)
{
    static const char *const none[] = {NULL};
    if (!admin_query_known(r, none)) return;
    const char *id = http_path_param(r, "id");
    bo_error err = {0};
    if (pricing_recompute(admin_engine(app_), api_account(r), id, &err) != BO_OK) return admin_fail(r, &err);
    reply_model(r, app_, id);
}

static json_t *money_or_null(money m) { return m >= 0 ? json_integer(m) : json_null(); }

/* The explain's date (required) and time (optional: INVENTORY_WHOLE_DAY, -1);
 * false after replying 400. */
static bool explain_query(http_request *r, civil_date *day, int32_t *start)
{
    static const char *const known[] = {"date", "time", NULL};
    if (!admin_query_known(r, known)) return false;
    *day = -1, *start = -1;
    if (!admin_query_date(r, "date", day)) return false;
    if (*day < 0) return admin_error(r, 400, "missing_parameter", "date", "date (YYYY-MM-DD) is required"), false;
    const char *time = http_query(r, "time");
    if (time && !time_of_day_parse(time, start))
        return admin_error(r, 400, "invalid_parameter", "time", "time must be HH:MM or HH:MM:SS"), false;
    return true;
}

/* id_key: "product_id" or "reference", whose occurrence x explains. */
static json_t *explain_json(const char *id_key, const char *id, const pricing_explain_info *x)
{
    json_t *bounds = json_pack("{s:b,s:b,s:b}", "at_min", (int)x->at_min, "at_max", (int)x->at_max, "rate_limited",
                               (int)x->rate_limited);
    json_t *forecast = json_pack("{s:f,s:f,s:f,s:f}", "tickets_to_close", x->forecast_tickets, "orders_so_far",
                                 x->observed_orders, "orders_expected_so_far", x->expected_orders, "pace_factor",
                                 x->occurrence_factor);
    return json_pack("{s:s,s:s,s:b,s:b,s:o,s:o,s:o,s:o,s:o,s:f,s:o}", id_key, id, "occurrence", x->at.key, "dynamic",
                     (int)x->dynamic, "planned", (int)x->planned, "price", money_or_null(x->price), "plan_price",
                     x->planned ? money_or_null(x->wanted) : json_null(), "seats_left",
                     x->seats_left >= 0 ? json_integer(x->seats_left) : json_null(), "bounds_hit", bounds,
                     "forecast", forecast, "target_bias", x->target_bias, "planned_at",
                     x->planned_at ? json_integer(x->planned_at) : json_null());
}

/* A product's explain, or (reference) an inventory reference's. */
static void reply_explain(http_request *r, void *app_, bool reference)
{
    civil_date day;
    int32_t start;
    if (!explain_query(r, &day, &start)) return;
    const char *id = http_path_param(r, reference ? "reference" : "id");
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    pricing_explain_info x;
    bo_error err = {0};
    bo_status st = reference ? inventory_ref_explain(e, a, id, day, start, &x, &err)
                             : pricing_explain(e, a, id, day, start, &x, &err);
    if (st != BO_OK) return admin_fail(r, &err);
    http_reply_json(r, 200, explain_json(reference ? "reference" : "product_id", id, &x));
}

void admin_pricing_explain(http_request *r, void *app_) { reply_explain(r, app_, false); }

/* ---- inventory references (the Convious pricing API's productReference) ---- */

void admin_pricing_reference_get(http_request *r, void *app_)
{
    static const char *const none[] = {NULL};
    if (!admin_query_known(r, none)) return;
    const char *reference = http_path_param(r, "reference");
    inventory_ref_view ref;
    pricing_model_info m;
    bo_error err = {0};
    if (inventory_ref_model_get(admin_engine(app_), api_account(r), reference, &ref, &m, &err) != BO_OK)
        return admin_fail(r, &err);
    json_t *o = model_json("reference", ref.reference, &m);
    json_object_set_new(o, "name", json_string(ref.name));
    json_object_set_new(o, "availability", ref.unlimited ? json_null() : json_integer(ref.availability));
    json_object_set_new(o, "settings", price_settings_json(&ref.settings));
    inventory_ref_view_free(&ref);
    http_reply_json(r, 200, o);
}

void admin_pricing_reference_explain(http_request *r, void *app_) { reply_explain(r, app_, true); }
