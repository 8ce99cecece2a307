/* Prices: a product's price rules (by date range, weekday and time of day),
 * else its base price; and signed pricing tokens that pin quoted prices to
 * one cart at one occurrence until they expire. */
#include "core/internal.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool rule_matches(const json_t *rule, const slot *at)
{
    civil_date d;
    int32_t t;
    if (at->day >= 0) {
        if (jstr(rule, "date_from") && date_parse(jstr(rule, "date_from"), &d) && at->day < d) return false;
        if (jstr(rule, "date_to") && date_parse(jstr(rule, "date_to"), &d) && at->day > d) return false;
        json_t *wd = json_object_get(rule, "weekdays");
        if (wd) {
            bool hit = false;
            size_t i;
            json_t *x;
            json_array_foreach(wd, i, x) hit |= json_integer_value(x) == date_weekday(at->day);
            if (!hit) return false;
        }
    }
    if (at->time_from >= 0) {
        if (jstr(rule, "time_from") && time_of_day_parse(jstr(rule, "time_from"), &t) && at->time_from < t)
            return false;
        if (jstr(rule, "time_to") && time_of_day_parse(jstr(rule, "time_to"), &t) && at->time_from >= t)
            return false;
    }
    return true;
}

bo_status price_for(engine *e, const account *a, const char *product_id, const slot *at, price_quote *out,
                    bo_error *err)
{
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    const json_t *p = snapshot_find(cs, CAT_PRODUCT, product_id);
    if (!p) {
        catalog_release(cs);
        return bo_fail(err, BO_NOT_FOUND, "unknown_product", "productId", "no product with id %s", product_id);
    }
    out->unit_price = jint(p, "price", 0);
    out->gate_price = jint(p, "gate_price", out->unit_price);
    out->includes_tax = jbool(p, "price_includes_tax", true);
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(p, "prices"), i, rule)
    {
        if (rule_matches(rule, at)) {
            out->unit_price = jint(rule, "price", out->unit_price);
            break;
        }
    }
    catalog_release(cs);
    return BO_OK;
}

char *pricing_token_make(const account *a, const char *occurrence, const cart_line *lines, const money *unit_prices,
                         size_t n, int64_t ttl_seconds)
{
    json_t *l = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(l, json_pack("[s,I,I]", lines[i].product_id, (json_int_t)lines[i].quantity,
                                           (json_int_t)unit_prices[i]));
    json_t *payload = json_pack("{s:s,s:s,s:o,s:I}", "a", a->id, "o", occurrence, "l", l, "x",
                                (json_int_t)(clock_now() / US_PER_SEC + ttl_seconds));
    char *text = json_dumps(payload, JSON_COMPACT);
    char *token = token_sign(text);
    free(text);
    json_decref(payload);
    return token;
}

bo_status pricing_token_check(const account *a, const char *token, const char *occurrence, const cart_line *lines,
                              size_t n, money *unit_prices, bo_error *err)
{
    char *text = token_verify(token);
    if (!text) return bo_fail(err, BO_INVALID, "invalid_pricing_token", "pricingToken", "pricing token is not valid");
    json_t *p = json_loads(text, 0, NULL);
    free(text);
    bo_status st = BO_OK;
    json_t *l = json_object_get(p, "l");
    if (!p || !jstr(p, "a") || strcmp(jstr(p, "a"), a->id) || !json_is_array(l)) {
        st = bo_fail(err, BO_INVALID, "invalid_pricing_token", "pricingToken", "pricing token is not valid");
    } else if (jint(p, "x", 0) < clock_now() / US_PER_SEC) {
        st = bo_fail(err, BO_INVALID, "pricing_token_expired", "pricingToken", "pricing token has expired");
    } else if (strcmp(jstr(p, "o") ? jstr(p, "o") : "", occurrence)) {
        st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricingToken",
                     "pricing token was issued for another date or time");
    } else if (json_array_size(l) != n) {
        st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricingToken",
                     "cart contents differ from the pricing token's");
    } else {
        for (size_t i = 0; i < n && st == BO_OK; i++) {
            size_t j;
            json_t *e;
            bool found = false;
            json_array_foreach(l, j, e)
            {
                if (!strcmp(json_string_value(json_array_get(e, 0)), lines[i].product_id) &&
                    json_integer_value(json_array_get(e, 1)) == lines[i].quantity) {
                    unit_prices[i] = json_integer_value(json_array_get(e, 2));
                    found = true;
                    break;
                }
            }
            if (!found)
                st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricingToken",
                             "cart contents differ from the pricing token's");
        }
    }
    json_decref(p);
    return st;
}
