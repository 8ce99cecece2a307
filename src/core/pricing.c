/* Prices: a product's price rules (by date range, weekday and time of day),
 * else its base price; and signed pricing tokens that pin quoted prices to
 * one cart at one occurrence until they expire. */
#include "core/internal.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool rule_matches(const cat_price_rule *rule, const slot *at)
{
    if (at->day >= 0) {
        if (rule->date_from >= 0 && at->day < rule->date_from) return false;
        if (rule->date_to >= 0 && at->day > rule->date_to) return false;
        if (!(rule->weekdays & (1u << date_weekday(at->day)))) return false;
    }
    if (at->time_from >= 0) {
        if (rule->time_from >= 0 && at->time_from < rule->time_from) return false;
        if (rule->time_to >= 0 && at->time_from >= rule->time_to) return false;
    }
    return true;
}

price_quote product_price_at(const cat_product *p, const slot *at)
{
    price_quote q = {p->price, p->gate_price, p->price_includes_tax};
    for (size_t i = 0; i < p->nprices; i++)
        if (rule_matches(&p->prices[i], at)) {
            q.unit_price = p->prices[i].price;
            break;
        }
    return q;
}

bo_status price_for(engine *e, const account *a, const char *product_id, const slot *at, price_quote *out,
                    bo_error *err)
{
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    const cat_product *p = model_product(cs->model, product_id);
    if (p) *out = product_price_at(p, at);
    catalog_release(cs);
    if (!p) return bo_fail(err, BO_NOT_FOUND, "unknown_product", "product_id", "no product with id %s", product_id);
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
    if (!text) return bo_fail(err, BO_INVALID, "invalid_pricing_token", "pricing_token", "pricing token is not valid");
    json_t *p = json_loads(text, 0, NULL);
    free(text);
    bo_status st = BO_OK;
    json_t *l = json_object_get(p, "l");
    if (!p || !jstr(p, "a") || strcmp(jstr(p, "a"), a->id) || !json_is_array(l)) {
        st = bo_fail(err, BO_INVALID, "invalid_pricing_token", "pricing_token", "pricing token is not valid");
    } else if (jint(p, "x", 0) < clock_now() / US_PER_SEC) {
        st = bo_fail(err, BO_INVALID, "pricing_token_expired", "pricing_token", "pricing token has expired");
    } else if (strcmp(jstr(p, "o") ? jstr(p, "o") : "", occurrence)) {
        st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricing_token",
                     "pricing token was issued for another date or time");
    } else if (json_array_size(l) != n) {
        st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricing_token",
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
                st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricing_token",
                             "cart contents differ from the pricing token's");
        }
    }
    json_decref(p);
    return st;
}
