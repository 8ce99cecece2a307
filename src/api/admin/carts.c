/* /admin/v1/carts: box-office sales hold capacity in a cart at the engine's
 * own prices (channel "admin"), then POST /orders books it. */
#include "api/admin/admin.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 50

/* An item's options [{option_id, quantity (per ticket, default 1)}]; false after replying 400. */
static bool parse_options(http_request *r, json_t *options, const char *item_prefix, cart_line_options *line,
                          cart_option *out)
{
    size_t i;
    json_t *o;
    line->options = out;
    line->n = 0;
    json_array_foreach(options, i, o)
    {
        char prefix[80];
        snprintf(prefix, sizeof prefix, "%soptions[%zu].", item_prefix, i);
        if (!json_is_object(o)) {
            admin_error(r, 400, "invalid_field", "options", "each option is an object {option_id, quantity}");
            return false;
        }
        const char *option_id = NULL;
        int64_t quantity = 1;
        const body_field fields[] = {
            {"option_id", BF_STRING, true, 1, 64, &option_id, NULL},
            {"quantity", BF_INT, false, 1, CART_OPTION_QUANTITY_MAX, &quantity, NULL},
        };
        if (!ADMIN_FIELDS(r, o, prefix, fields)) return false;
        out[line->n++] = (cart_option){option_id, quantity};
    }
    return true;
}

/* items[] -> cart lines and their options; false after replying 400. */
static bool parse_items(http_request *r, json_t *items, cart_line *lines, size_t *n, cart_line_options *line_options,
                        cart_option (*options)[STORE_LINE_OPTIONS_MAX])
{
    size_t i;
    json_t *item;
    if (json_array_size(items) == 0) {
        admin_error(r, 400, "invalid_field", "items", "items needs at least one {product_id, quantity}");
        return false;
    }
    json_array_foreach(items, i, item)
    {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "items[%zu].", i);
        if (!json_is_object(item)) {
            admin_error(r, 400, "invalid_field", "items", "each item is an object {product_id, quantity}");
            return false;
        }
        const char *product_id = NULL;
        int64_t quantity = 0;
        json_t *item_options = NULL;
        const body_field fields[] = {
            {"product_id", BF_STRING, true, 1, 64, &product_id, NULL},
            {"quantity", BF_INT, true, 1, 1000, &quantity, NULL},
            {"options", BF_ARRAY, false, 0, STORE_LINE_OPTIONS_MAX, &item_options, NULL},
        };
        if (!ADMIN_FIELDS(r, item, prefix, fields)) return false;
        lines[i] = (cart_line){product_id, quantity};
        if (!parse_options(r, item_options, prefix, &line_options[i], options[i])) return false;
    }
    *n = json_array_size(items);
    return true;
}

void admin_cart_create(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    json_t *items = NULL, *customer = NULL;
    const char *date = NULL, *start_time = NULL, *occurrence_id = NULL, *category_id = NULL, *external_id = NULL;
    int64_t hold_seconds = 0;
    const body_field fields[] = {
        {"items", BF_ARRAY, true, 0, MAX_ITEMS, &items, NULL},
        {"date", BF_STRING, false, 10, 10, &date, NULL},
        {"start_time", BF_STRING, false, 4, 8, &start_time, NULL},
        {"occurrence_id", BF_STRING, false, 1, 63, &occurrence_id, NULL},
        {"category_id", BF_STRING, false, 1, 64, &category_id, NULL},
        {"hold_seconds", BF_INT, false, 10, 7 * SECS_PER_DAY, &hold_seconds, NULL},
        {"external_id", BF_STRING, false, 1, 200, &external_id, NULL},
        {"customer", BF_OBJECT, false, 0, 0, &customer, NULL},
    };
    if (!ADMIN_FIELDS(r, body, "", fields) || !admin_customer(r, customer)) return;
    civil_date day = -1;
    int32_t start = -1;
    if (date && !date_parse(date, &day)) {
        admin_error(r, 400, "invalid_field", "date", "date must be YYYY-MM-DD");
        return;
    }
    if (start_time && !time_of_day_parse(start_time, &start)) {
        admin_error(r, 400, "invalid_field", "start_time", "start_time must be HH:MM or HH:MM:SS");
        return;
    }
    if (start_time && !date) {
        admin_error(r, 400, "missing_field", "date", "start_time needs a date");
        return;
    }
    cart_line lines[MAX_ITEMS];
    cart_line_options line_options[MAX_ITEMS];
    cart_option options[MAX_ITEMS][STORE_LINE_OPTIONS_MAX];
    size_t nlines = 0;
    if (!parse_items(r, items, lines, &nlines, line_options, options)) return;
    char *customer_text = customer ? json_dumps(customer, JSON_COMPACT) : NULL;
    cart_request req = {
        .channel = "admin",
        .category_id = category_id,
        .day = day,
        .start_time = start,
        .end_time = -1,
        .occurrence_id = occurrence_id,
        .lines = lines,
        .nlines = nlines,
        .use_engine_prices = true,
        .external_id = external_id,
        .customer = customer_text,
        .hold_seconds = hold_seconds,
        .line_options = line_options,
    };
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    cart_record cart;
    bo_error err = {0};
    bo_status st = cart_create(e, a, &req, &cart, &err);
    free(customer_text);
    if (st != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    admin_reply_created(r, "carts", cart.id, api_cart_json(a, &cart));
    cart_record_free(&cart);
}

void admin_cart_get(http_request *r, void *app_)
{
    cart_record cart;
    bo_status st = cart_get(admin_engine(app_), api_account(r), http_path_param(r, "id"), &cart);
    if (st != BO_OK) {
        admin_fail_status(r, st, "cart");
        return;
    }
    http_reply_json(r, 200, api_cart_json(api_account(r), &cart));
    cart_record_free(&cart);
}
