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
    json_object_set_new(x, "ticket_types", types);
    json_object_set_new(x, "times_redeemed", json_integer(used));
    json_object_set_new(x, "type", json_string(pct ? "percentage" : "fixed_amount"));
    return x;
}

static bool int_field(http_request *r, const char *name, bool *present, int64_t *out)
{
    json_t *v = tt_field(r, name);
    *present = v && !json_is_null(v);
    bool ok = true;
    if (*present) {
        if (json_is_integer(v)) *out = json_integer_value(v);
        else if (json_is_string(v)) {
            char *end;
            *out = strtoll(json_string_value(v), &end, 10);
            ok = *json_string_value(v) && !*end;
        } else ok = false;
        if (!ok || *out < 0) {
            tt_error(r, 422, name, "%s must be a non-negative integer", name);
            ok = false;
        }
    }
    json_decref(v);
    return ok;
}

/* Builds the engine document from the request, over `base` (NULL on create). */
static json_t *to_engine(http_request *r, const account *a, json_t *base)
{
    json_t *doc = base ? json_deep_copy(base) : json_object();
    json_object_del(doc, "id");
    json_t *v;
    if ((v = tt_field(r, "code"))) {
        json_object_set_new(doc, "code", v);
    }
    if ((v = tt_field(r, "name"))) json_object_set_new(doc, "name", v);
    if ((v = tt_field(r, "type"))) {
        const char *t = json_string_value(v);
        if (!t || (strcmp(t, "fixed_amount") && strcmp(t, "percentage"))) {
            json_decref(v);
            json_decref(doc);
            tt_error(r, 422, "type", "type is fixed_amount or percentage");
            return NULL;
        }
        json_object_set_new(doc, "type", json_string(!strcmp(t, "percentage") ? "percentage" : "fixed"));
        json_decref(v);
    }
    bool has;
    int64_t n;
    if (!int_field(r, "price", &has, &n)) goto bad;
    if (has) json_object_set_new(doc, "amount", json_integer(n));
    if (!int_field(r, "price_percent", &has, &n)) goto bad;
    if (has) {
        if (n > 100) {
            tt_error(r, 422, "price_percent", "price_percent is at most 100");
            goto bad;
        }
        json_object_set_new(doc, "percent_bp", json_integer(n * 100));
    }
    if (!int_field(r, "max_redemptions", &has, &n)) goto bad;
    if (has) json_object_set_new(doc, "max_redemptions", json_integer(n));
    if (!int_field(r, "expires", &has, &n)) goto bad;
    if (has) {
        char iso[40];
        iso_format_seconds(n * US_PER_SEC, NULL, iso, sizeof iso);
        json_object_set_new(doc, "expires_at", json_string(iso));
    }
    /* ticket_types: a list of ids (create) or {id: "1"|"0"|""} (update) */
    json_t *types = http_body_is_form(r) ? NULL : json_object_get(http_body_json(r, NULL), "ticket_types");
    if (types) {
        json_t *ids = json_is_array(json_object_get(doc, "product_ids")) ? json_deep_copy(json_object_get(doc, "product_ids"))
                                                                         : json_array();
        if (json_is_array(types)) {
            json_array_clear(ids);
            size_t i;
            json_t *t;
            json_array_foreach(types, i, t)
            {
                const char *pid = tt_unprefix(r, json_string_value(t), "tt_");
                if (!pid) {
                    json_decref(ids);
                    tt_error(r, 422, "ticket_types", "ticket types are ids like tt_123");
                    goto bad;
                }
                json_array_append_new(ids, json_string(pid));
            }
        } else if (json_is_object(types)) {
            const char *k;
            json_t *t;
            json_object_foreach(types, k, t)
            {
                const char *pid = tt_unprefix(r, k, "tt_"), *op = json_string_value(t);
                if (!pid || !op) {
                    json_decref(ids);
                    tt_error(r, 422, "ticket_types", "ticket_types maps tt_ ids to \"1\", \"0\" or \"\"");
                    goto bad;
                }
                size_t i, at = (size_t)-1;
                json_t *x;
                json_array_foreach(ids, i, x) if (!strcmp(json_string_value(x), pid)) at = i;
                if (!strcmp(op, "1") && at == (size_t)-1) json_array_append_new(ids, json_string(pid));
                if (!strcmp(op, "0") && at != (size_t)-1) json_array_remove(ids, at);
            }
        }
        json_object_set_new(doc, "product_ids", ids);
    }
    (void)a;
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
    if (catalog_list(e, api_account(r), CAT_DISCOUNT, &all) != BO_OK) return tt_error(r, 500, NULL, "unavailable");
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) if (!code || !strcasecmp(json_string_value(json_object_get(d, "code")), code))
        json_array_append(matching, d);
    json_decref(all);
    tt_reply_catalog_page(r, e, matching, "/v1/discounts", "di_", discount_json);
    json_decref(matching);
}

void tt_discount_create(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    if (!http_body_is_form(r) && !json_is_object(http_body_json(r, NULL)))
        return tt_error(r, 400, NULL, "the body must be a JSON object or a form");
    json_t *code = tt_field(r, "code"), *name = tt_field(r, "name"), *type = tt_field(r, "type");
    bool ok = json_is_string(code) && json_is_string(name) && json_is_string(type);
    json_decref(code);
    json_decref(name);
    json_decref(type);
    if (!ok) return tt_error(r, 422, !json_is_string(code) ? "code" : !json_is_string(name) ? "name" : "type",
                             "code, name and type are required");
    json_t *doc = to_engine(r, a, NULL);
    if (!doc) return;
    json_t *out = NULL;
    bo_error err = {0};
    bo_status st = catalog_put(e, a, CAT_DISCOUNT, NULL, doc, false, &out, &err);
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
    bo_status st = id ? catalog_get(e, api_account(r), CAT_DISCOUNT, id, &d) : BO_NOT_FOUND;
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
    bo_status found = id ? catalog_get(e, a, CAT_DISCOUNT, id, &d) : BO_NOT_FOUND;
    if (found != BO_OK) return tt_missing(r, found);
    if (!http_body_is_form(r) && !json_is_object(http_body_json(r, NULL))) {
        json_decref(d);
        return tt_error(r, 400, NULL, "the body must be a JSON object or a form");
    }
    json_t *doc = to_engine(r, a, d);
    json_decref(d);
    if (!doc) return;
    json_t *out = NULL;
    bo_error err = {0};
    bo_status st = catalog_put(e, a, CAT_DISCOUNT, id, doc, false, &out, &err);
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
