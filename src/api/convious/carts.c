/* Carts: create, read, update and delete under /api/v1/accounts/<slug>/carts/.
 * Creating or updating a cart holds its tickets (all or nothing) until
 * expiresAt; prices come from a pricingToken, or are 0 without one. */
#include "api/convious/convious.h"
#include "util/jbuf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 50

/* The cart reply, written straight into one buffer (the shape json_dumps
 * printed when this was a jansson tree: same keys, order and formats). */
static char *cart_reply(const account *a, const cart_record *c, size_t *len)
{
    /* a short human reference from the id's first 15 hex digits; the id stays the key */
    char hex[16], ref[24], day[11];
    size_t k = 0;
    for (const char *p = c->id; *p && k < 15; p++)
        if (*p != '-') hex[k++] = *p;
    hex[k] = 0;
    snprintf(ref, sizeof ref, "%.5s-%.5s-%.5s", hex, hex + (k > 5 ? 5 : k), hex + (k > 10 ? 10 : k));
    if (c->day >= 0) date_format(c->day, day);
    jbuf b;
    jb_init(&b, 1024 + c->nlines * 128);
    jb_obj(&b);
    jb_kstr(&b, "id", c->id);
    if (*c->category_id) jb_kstr(&b, "categoryId", c->category_id);
    else jb_knull(&b, "categoryId");
    if (c->day >= 0) jb_kstr(&b, "eventDate", day);
    else jb_knull(&b, "eventDate");
    jb_key(&b, "startTime");
    cv_jb_time(&b, c->start_time >= 0, c->start_time);
    jb_key(&b, "endTime");
    cv_jb_time(&b, c->end_time >= 0, c->end_time);
    if (c->external_id) jb_kstr(&b, "externalId", c->external_id);
    else jb_knull(&b, "externalId");
    static const char *const totals[] = {"totalPrice", "totalPriceAfterDiscount", "total", "totalAfterDiscount"};
    for (size_t i = 0; i < 4; i++) {
        jb_key(&b, totals[i]);
        cv_jb_money(&b, a, c->total);
    }
    jb_key(&b, "items");
    jb_arr(&b);
    for (size_t i = 0; i < c->nlines; i++) {
        jb_obj(&b);
        jb_kstr(&b, "productId", c->lines[i].product_id);
        jb_kint(&b, "amount", c->lines[i].quantity);
        jb_key(&b, "price");
        cv_jb_money(&b, a, c->lines[i].unit_price);
        jb_key(&b, "gatePrice");
        cv_jb_money(&b, a, c->lines[i].gate_price);
        if (c->lines[i].noptions) {
            jb_key(&b, "options");
            jb_arr(&b);
            for (size_t j = 0; j < c->lines[i].noptions; j++) {
                const store_cart_option *o = &c->lines[i].options[j];
                jb_obj(&b);
                jb_kstr(&b, "optionId", o->option_id);
                jb_kint(&b, "numberOfItems", o->quantity);
                jb_key(&b, "price");
                cv_jb_money(&b, a, o->unit_price);
                jb_obj_end(&b);
            }
            jb_arr_end(&b);
        }
        jb_obj_end(&b);
    }
    jb_arr_end(&b);
    jb_key(&b, "extras");
    json_t *extras = c->extras ? json_loads(c->extras, 0, NULL) : NULL;
    if (extras) jb_json(&b, extras);
    else {
        jb_obj(&b);
        jb_obj_end(&b);
    }
    json_decref(extras);
    jb_kbool(&b, "priceIncludesTax", c->price_includes_tax);
    jb_key(&b, "expiresAt");
    cv_jb_instant(&b, a, true, c->expires_at);
    jb_kstr(&b, "referenceId", ref);
    jb_key(&b, "createdAt");
    cv_jb_instant(&b, a, true, c->created_at);
    jb_key(&b, "updatedAt");
    cv_jb_instant(&b, a, true, c->updated_at);
    jb_kstr(&b, "timezone", a->timezone);
    jb_kstr(&b, "status", c->status);
    jb_obj_end(&b);
    return jb_take(&b, len);
}

typedef struct {
    cart_line lines[MAX_ITEMS];
    money prices[MAX_ITEMS];
    cart_line_options line_options[MAX_ITEMS];
    cart_option options[MAX_ITEMS][STORE_LINE_OPTIONS_MAX];
    size_t n;
} parsed_items;

/* Codes Convious clients know for the cart's items; the other fields report
 * missing_field / invalid_field. */
static const cv_field_code cart_codes[] = {
    {"items", "invalid_items", NULL},
    {"items.productId", "invalid_items", NULL},
    {"items.amount", "invalid_amount", NULL},
    {"items.options", "invalid_options", NULL},
    {"items.options.optionId", "invalid_options", NULL},
    {"items.options.numberOfItems", "invalid_option_quantity", NULL},
    {NULL, NULL, NULL},
};

/* An item's options (a list the item's table checked): [{optionId,
 * numberOfItems (default 1)}], chosen with each of its tickets. */
static bool parse_options(http_request *r, json_t *options, cart_line_options *line, cart_option *out)
{
    size_t i;
    json_t *o;
    line->options = out;
    line->n = 0;
    json_array_foreach(options, i, o)
    {
        const char *id = NULL;
        int64_t count = 1;
        const body_field fields[] = {
            {"optionId", BF_STRING, true, 1, 64, &id, NULL},
            {"numberOfItems", BF_INT, false, 1, CART_OPTION_QUANTITY_MAX, &count, NULL},
        };
        if (!CV_FIELDS(r, o, "items.options.", fields, cart_codes)) return false;
        out[line->n++] = (cart_option){id, count};
    }
    return true;
}

/* items (a list the body's table already checked): [{productId, amount}];
 * replies 400 and returns false on bad input. */
static bool parse_items(http_request *r, json_t *items, parsed_items *out)
{
    if (json_array_size(items) == 0) {
        cv_error(r, 400, "invalid_items", "items", "items must be a non-empty list");
        return false;
    }
    out->n = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *pid = NULL;
        int64_t amount = 0;
        json_t *options = NULL;
        /* an item that is no object has no productId: invalid_items too */
        const body_field fields[] = {
            {"productId", BF_STRING, true, 0, 64, &pid, NULL},
            {"amount", BF_INT, true, 1, 1000, &amount, NULL},
            {"options", BF_ARRAY, false, 0, STORE_LINE_OPTIONS_MAX, &options, NULL},
        };
        if (!CV_FIELDS(r, it, "items.", fields, cart_codes)) return false;
        out->lines[out->n].product_id = pid;
        out->lines[out->n].quantity = amount;
        if (!parse_options(r, options, &out->line_options[out->n], out->options[out->n])) return false;
        out->n++;
    }
    return true;
}

/* Checks the pricing token against the cart it is used for; fills prices. */
static bool apply_token(http_request *r, engine *e, const account *a, const char *token, const char *category,
                        civil_date day, int32_t start, parsed_items *items)
{
    slot at;
    bo_error err = {0};
    if (occurrence_resolve(e, a, items->lines[0].product_id, category, day, start, NULL, &at, &err) != BO_OK) {
        cv_fail(r, &err);
        return false;
    }
    if (pricing_token_check(a, token, category, at.key, items->lines, items->n, items->prices, &err) != BO_OK) {
        cv_fail(r, &err);
        return false;
    }
    return true;
}

static void reply_cart(http_request *r, const account *a, cart_record *cart, bool with_location)
{
    if (with_location) {
        char url[300];
        snprintf(url, sizeof url, "%s/convious/api/v1/accounts/%s/carts/%s/", http_base_url(r), a->slug, cart->id);
        http_add_header(r, "Location", url);
    }
    size_t len;
    char *text = cart_reply(a, cart, &len);
    cart_record_free(cart);
    if (!text) return cv_error(r, 500, "internal_error", NULL, "reply could not be written");
    http_reply_owned(r, 200, "application/json", text, len);
}

void cv_cart_create(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    json_t *body = cv_body(r);
    if (!body) return;
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    const char *category = NULL, *date = NULL, *start = NULL, *end = NULL, *external = NULL, *token = NULL;
    json_t *items_json = NULL, *extras = NULL;
    const body_field fields[] = {
        {"categoryId", BF_STRING, false, 0, 64, &category, NULL},
        {"eventDate", BF_STRING, false, 0, 10, &date, NULL},
        {"startTime", BF_STRING, false, 0, 15, &start, NULL},
        {"endTime", BF_STRING, false, 0, 15, &end, NULL},
        {"externalId", BF_STRING, false, 0, 200, &external, NULL},
        {"pricingToken", BF_STRING, false, 0, 4096, &token, NULL},
        {"items", BF_ARRAY, true, 0, MAX_ITEMS, &items_json, NULL},
        {"extras", BF_OBJECT, false, 0, 0, &extras, NULL},
    };
    /* in the order failures were always reported: the fields, the items, then extras (the last row) */
    const size_t n = sizeof fields / sizeof fields[0];
    parsed_items items;
    if (!cv_fields(r, body, "", fields, n - 1, cart_codes) || !parse_items(r, items_json, &items) ||
        !cv_fields(r, body, "", fields + n - 1, 1, cart_codes))
        return;
    civil_date day = -1;
    int32_t t_start = -1, t_end = -1;
    if (date && !cv_date_arg(r, date, "eventDate", &day)) return;
    if (start && !time_of_day_parse(start, &t_start))
        return cv_error(r, 400, "invalid_time", "startTime", "startTime must be HH:MM:SS");
    if (end && !time_of_day_parse(end, &t_end))
        return cv_error(r, 400, "invalid_time", "endTime", "endTime must be HH:MM:SS");
    if (token && !apply_token(r, e, a, token, category, day, t_start, &items)) return;
    char *extras_text = extras ? json_dumps(extras, JSON_COMPACT) : NULL;
    cart_request req = {.channel = "convious", .category_id = category, .day = day, .start_time = t_start,
                        .end_time = t_end, .lines = items.lines, .nlines = items.n,
                        .unit_prices = token ? items.prices : NULL, .external_id = external,
                        .extras = extras_text, .line_options = items.line_options};
    cart_record cart;
    bo_error err = {0};
    bo_status st = cart_create(e, a, &req, &cart, &err);
    free(extras_text);
    if (st != BO_OK) return cv_fail(r, &err);
    reply_cart(r, a, &cart, true);
}

void cv_cart_get(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    cart_record cart;
    bo_status st = cart_get(cv_engine(app_), api_account(r), http_path_param(r, "cart_id"), &cart);
    if (st != BO_OK) return cv_missing(r, st);
    reply_cart(r, api_account(r), &cart, false);
}

void cv_cart_update(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    json_t *body = cv_body(r);
    if (!body) return;
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    const char *cart_id = http_path_param(r, "cart_id"), *token = NULL;
    json_t *items_json = NULL;
    const body_field fields[] = {
        {"pricingToken", BF_STRING, false, 0, 4096, &token, NULL},
        {"items", BF_ARRAY, true, 0, MAX_ITEMS, &items_json, NULL},
    };
    parsed_items items;
    if (!CV_FIELDS(r, body, "", fields, cart_codes) || !parse_items(r, items_json, &items)) return;
    cart_record old;
    bo_status found = cart_get(e, a, cart_id, &old);
    if (found != BO_OK) return cv_missing(r, found);
    bool ok = !token || apply_token(r, e, a, token, *old.category_id ? old.category_id : NULL, old.day,
                                    old.start_time, &items);
    cart_record_free(&old);
    if (!ok) return;
    cart_request req = {.day = -1, .start_time = -1, .end_time = -1, .lines = items.lines, .nlines = items.n,
                        .unit_prices = token ? items.prices : NULL, .line_options = items.line_options};
    bo_error err = {0};
    cart_record cart;
    if (cart_update(e, a, cart_id, &req, &cart, &err) != BO_OK) return cv_fail(r, &err);
    reply_cart(r, a, &cart, false);
}

void cv_cart_delete(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    bo_error err = {0};
    if (cart_delete(cv_engine(app_), api_account(r), http_path_param(r, "cart_id"), &err) != BO_OK)
        return cv_fail(r, &err);
    http_reply_json(r, 200, json_object());
}
