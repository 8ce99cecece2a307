/* Discounts: list (by code), create, get, update, delete. Stored as engine
 * discounts; times_redeemed is counted from real bookings. Amounts in cents,
 * percentages as whole percents (the engine keeps basis points). */
#include "api/tickettailor/tickettailor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *discount_json(engine *e, const account *a, json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    int64_t used = 0;
    discount_times_redeemed(e, a, id, &used);
    json_t *types = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(d, "product_ids"), i, p) json_array_append_new(types, tt_id("tt_", json_string_value(p)));
    bool pct = !strcmp(json_string_value(json_object_get(d, "type")), "percentage");
    json_t *x = json_pack("{s:s,s:o,s:O?}", "object", "discount", "id", tt_id("di_", id), "code", json_object_get(d, "code"));
    instant_us exp;
    const char *expires = json_string_value(json_object_get(d, "expires_at"));
    if (expires && iso_parse(expires, NULL, &exp)) json_object_set_new(x, "expires", tt_date(a, exp));
    json_t *max = json_object_get(d, "max_redemptions");
    json_object_set_new(x, "max_redemptions", json_is_integer(max) ? json_incref(max) : json_null());
    json_object_set(x, "name", json_object_get(d, "name") ? json_object_get(d, "name") : json_object_get(d, "code"));
    if (pct) json_object_set_new(x, "price_percent", json_integer(json_integer_value(json_object_get(d, "percent_bp")) / 100));
    else json_object_set_new(x, "price", json_integer(json_integer_value(json_object_get(d, "amount"))));
    /* off the booking fee: cents per ticket, or whole percents (null when unset) */
    json_t *fee = json_object_get(d, "booking_fee_amount"), *fee_bp = json_object_get(d, "booking_fee_percent_bp");
    json_object_set_new(x, "booking_fee", json_is_integer(fee) ? json_incref(fee) : json_null());
    json_object_set_new(x, "booking_fee_percent",
                        json_is_integer(fee_bp) ? json_integer(json_integer_value(fee_bp) / 100) : json_null());
    json_object_set_new(x, "ticket_types", types);
    json_object_set_new(x, "times_redeemed", json_integer(used));
    json_object_set_new(x, "type", json_string(pct ? "percentage" : "fixed_amount"));
    return x;
}

/* Builds the engine document from the request, over `base` (NULL on create);
 * NULL after replying. */
static json_t *to_engine(http_request *r, json_t *base)
{
    bool create = !base;
    const char *code = NULL, *name = NULL, *type = NULL;
    const body_field what[] = {
        {"code", BF_STRING, create, 1, TT_TEXT_MAX, &code, NULL},
        {"name", BF_STRING, create, 1, TT_TEXT_MAX, &name, NULL},
        {"type", BF_STRING, create, 1, 20, &type, NULL},
    };
    if (!TT_FIELDS(r, what)) return NULL;
    if (type && strcmp(type, "fixed_amount") && strcmp(type, "percentage")) {
        tt_error(r, 422, "type", "type is fixed_amount or percentage");
        return NULL;
    }
    int64_t price = 0, percent = 0, max_redemptions = 0, expires = 0, fee = 0, fee_percent = 0;
    bool has_price = false, has_percent = false, has_max = false, has_expires = false, has_fee = false,
         has_fee_percent = false;
    const body_field amounts[] = {
        {"price", BF_INT, false, 0, TT_AMOUNT_MAX, &price, &has_price},
        {"price_percent", BF_INT, false, 0, 100, &percent, &has_percent},
        {"max_redemptions", BF_INT, false, 0, TT_AMOUNT_MAX, &max_redemptions, &has_max},
        {"expires", BF_INT, false, 0, TT_UNIX_MAX, &expires, &has_expires},
        {"booking_fee", BF_INT, false, 0, TT_AMOUNT_MAX, &fee, &has_fee},
        {"booking_fee_percent", BF_INT, false, 0, 100, &fee_percent, &has_fee_percent},
    };
    if (!TT_FIELDS(r, amounts)) return NULL;
    if (has_fee && has_fee_percent) {
        tt_error(r, 422, "booking_fee_percent", "a discount takes booking_fee or booking_fee_percent, not both");
        return NULL;
    }
    json_t *doc = base ? json_deep_copy(base) : json_object();
    json_object_del(doc, "id");
    if (code) json_object_set_new(doc, "code", json_string(code));
    if (name) json_object_set_new(doc, "name", json_string(name));
    if (type) json_object_set_new(doc, "type", json_string(!strcmp(type, "percentage") ? "percentage" : "fixed"));
    if (has_price) json_object_set_new(doc, "amount", json_integer(price));
    if (has_percent) json_object_set_new(doc, "percent_bp", json_integer(percent * 100));
    if (has_max) json_object_set_new(doc, "max_redemptions", json_integer(max_redemptions));
    /* one booking fee rule at a time: setting one replaces the other; null clears it */
    json_t *body = http_body_is_form(r) ? NULL : http_body_json(r, NULL);
    if (has_fee || has_fee_percent || json_is_null(json_object_get(body, "booking_fee")))
        json_object_del(doc, "booking_fee_amount");
    if (has_fee || has_fee_percent || json_is_null(json_object_get(body, "booking_fee_percent")))
        json_object_del(doc, "booking_fee_percent_bp");
    if (has_fee) json_object_set_new(doc, "booking_fee_amount", json_integer(fee));
    if (has_fee_percent) json_object_set_new(doc, "booking_fee_percent_bp", json_integer(fee_percent * 100));
    if (has_expires) {
        char iso[40];
        iso_format_seconds(expires * US_PER_SEC, NULL, iso, sizeof iso);
        json_object_set_new(doc, "expires_at", json_string(iso));
    }
    /* ticket_types: a list of ids (create) or {id: "1"|"0"|""} (update) */
    json_t *types = json_object_get(body, "ticket_types");
    if (types && (json_is_array(types) || json_is_object(types))) {
        json_t *ids = tt_associations(r, types, json_object_get(doc, "product_ids"), "ticket_types", "tt_");
        if (!ids) goto bad;
        json_object_set_new(doc, "product_ids", ids);
    }
    return doc;
bad:
    json_decref(doc);
    return NULL;
}

void tt_discounts_list(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const char *code = http_query(r, "code");
    json_t *all, *matching = json_array();
    if (catalog_list_json(e, api_account(r), CAT_DISCOUNT, &all) != BO_OK) return tt_error(r, 500, NULL, "unavailable");
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) if (!code || !strcasecmp(json_string_value(json_object_get(d, "code")), code))
        json_array_append(matching, d);
    json_decref(all);
    tt_reply_catalog_page(r, e, CAT_DISCOUNT, matching, "/v1/discounts", "di_", discount_json);
    json_decref(matching);
}

void tt_discount_create(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    json_t *doc = to_engine(r, NULL);
    if (!doc) return;
    json_t *out = NULL;
    bo_error err = {0};
    bo_status st = catalog_put_json(e, a, CAT_DISCOUNT, NULL, doc, false, &out, &err);
    json_decref(doc);
    if (st != BO_OK) return tt_fail(r, &err);
    http_reply_json(r, 201, discount_json(e, a, out));
    json_decref(out);
}

void tt_discount_get(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const char *id = tt_unprefix(r, http_path_param(r, "discount_id"), "di_");
    json_t *d;
    bo_status st = id ? catalog_get_json(e, api_account(r), CAT_DISCOUNT, id, &d) : BO_NOT_FOUND;
    if (st != BO_OK) return tt_missing(r, st);
    http_reply_json(r, 200, discount_json(e, api_account(r), d));
    json_decref(d);
}

void tt_discount_update(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    const char *id = tt_unprefix(r, http_path_param(r, "discount_id"), "di_");
    json_t *d;
    bo_status found = id ? catalog_get_json(e, a, CAT_DISCOUNT, id, &d) : BO_NOT_FOUND;
    if (found != BO_OK) return tt_missing(r, found);
    json_t *doc = to_engine(r, d);
    json_decref(d);
    if (!doc) return;
    json_t *out = NULL;
    bo_error err = {0};
    bo_status st = catalog_put_json(e, a, CAT_DISCOUNT, id, doc, false, &out, &err);
    json_decref(doc);
    if (st != BO_OK) return tt_fail(r, &err);
    http_reply_json(r, 200, discount_json(e, a, out));
    json_decref(out);
}

void tt_discount_delete(http_request *r, void *app_)
{
    const char *raw = http_path_param(r, "discount_id");
    const char *id = tt_unprefix(r, raw, "di_");
    bo_error err = {0};
    if (!id || catalog_delete(tt_engine(app_), api_account(r), CAT_DISCOUNT, id, &err) != BO_OK)
        return tt_error(r, 404, NULL, "The requested resource does not exist.");
    http_reply_json(r, 200, json_pack("{s:s,s:s,s:b}", "id", raw, "object", "discount", "deleted", 1));
}
