/* Vouchers and their codes. A voucher's value, expiry and event series
 * (the engine voucher's event_ids) are enforced when a code pays for an order
 * (core/booking.c). */
#include "api/tickettailor/tickettailor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *voucher_json(engine *e, const account *a, json_t *v)
{
    const char *id = json_string_value(json_object_get(v, "id"));
    voucher_code_row *codes = NULL;
    size_t total = 0, available = 0;
    if (voucher_codes_list(e, a, id, &codes, &total) == BO_OK) {
        for (size_t i = 0; i < total; i++) available += !strcmp(codes[i].status, "available");
        free(codes);
    }
    json_t *x = json_pack("{s:s,s:o,s:I,s:o}", "object", "voucher", "id", tt_id("vo_", id), "available_codes",
                          (json_int_t)available, "event_series_ids", tt_event_series_ids(v));
    instant_us exp;
    const char *e_at = json_string_value(json_object_get(v, "expires_at"));
    json_object_set_new(x, "expiry", e_at && iso_parse(e_at, NULL, &exp) ? tt_date(a, exp) : json_null());
    json_object_set(x, "name", json_object_get(v, "name"));
    json_object_set_new(x, "total_codes", json_integer((json_int_t)total));
    json_object_set_new(x, "value", json_integer(json_integer_value(json_object_get(v, "value"))));
    return x;
}

/* name, value, expiry from the body over `base` (NULL on create, when the
 * codes are read too); NULL after replying. */
static json_t *to_engine(http_request *r, json_t *base, json_t **codes)
{
    bool create = !base;
    const char *name = NULL;
    int64_t value = 0, expiry = 0;
    bool has_value = false, has_expiry = false;
    const body_field fields[] = {
        /* a JSON body must list its codes; a form says at most one, as codes[] (read below) */
        {"codes", BF_ARRAY, !http_body_is_form(r), 0, 1000000, codes, NULL},
        {"name", BF_STRING, create, 1, TT_TEXT_MAX, &name, NULL},
        {"value", BF_INT, create, 0, TT_AMOUNT_MAX, &value, &has_value},
        {"expiry", BF_INT, false, 0, TT_UNIX_MAX, &expiry, &has_expiry},
    };
    if (!tt_fields(r, fields + !create, sizeof fields / sizeof fields[0] - !create)) return NULL;
    /* required, but null says "never expires" */
    if (create && !tt_given(r, "expiry")) {
        tt_error(r, 422, "expiry", "expiry is required (null for none)");
        return NULL;
    }
    json_t *doc = base ? json_deep_copy(base) : json_object();
    json_object_del(doc, "id");
    if (name) json_object_set_new(doc, "name", json_string(name));
    if (has_value) json_object_set_new(doc, "value", json_integer(value));
    if (has_expiry) {
        char iso[40];
        iso_format_seconds(expiry * US_PER_SEC, NULL, iso, sizeof iso);
        json_object_set_new(doc, "expires_at", json_string(iso));
    }
    /* a list of es_ ids, or on update {es_id: "1"|"0"|""}; a form names one as event_series_ids[] */
    json_t *series = http_body_is_form(r) ? NULL : json_object_get(http_body_json(r, NULL), "event_series_ids");
    json_t *form_series = NULL;
    if (http_body_is_form(r) && http_form(r, "event_series_ids[]"))
        series = form_series = json_pack("[s]", http_form(r, "event_series_ids[]"));
    if (series && !json_is_null(series)) {
        json_t *ids = tt_associations(r, series, json_object_get(doc, "event_ids"), "event_series_ids", "es_");
        json_decref(form_series);
        if (!ids) {
            json_decref(doc);
            return NULL;
        }
        json_object_set_new(doc, "event_ids", ids);
    }
    return doc;
}

/* When each voucher was created, from where the catalog keeps it (the
 * document does not say): {id: unix microseconds}; NULL when storage failed. */
static json_t *created_times(engine *e, const account *a)
{
    catalog_place *places;
    size_t n;
    if (catalog_places(e, a, CAT_VOUCHER, &places, &n) != BO_OK) return NULL;
    json_t *created = json_object();
    for (size_t i = 0; i < n; i++) json_object_set_new(created, places[i].id, json_integer(places[i].created_at));
    free(places);
    return created;
}

static bool any_bound(const instant_us range[5])
{
    for (int i = 0; i < 5; i++)
        if (range[i] >= 0) return true;
    return false;
}

void tt_vouchers_list(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    instant_us gt, gte, lt, lte, created[5], expiry[5];
    /* tt_created_args checks the created_at bounds as every list does; the
     * range form then filters by whole seconds, as expiry_date does */
    if (!tt_created_args(r, &gt, &gte, &lt, &lte) || !tt_range_args(r, "created_at", created) ||
        !tt_range_args(r, "expiry_date", expiry))
        return;
    json_t *all, *matching = json_array(), *created_at = NULL;
    if (catalog_list_json(e, a, CAT_VOUCHER, &all) != BO_OK ||
        (any_bound(created) && !(created_at = created_times(e, a)))) {
        json_decref(matching);
        json_decref(all);
        return tt_error(r, 500, NULL, "unavailable");
    }
    bool by_expiry = any_bound(expiry);
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v)
    {
        instant_us at = 0;
        const char *exp = json_string_value(json_object_get(v, "expires_at"));
        bool has = exp && iso_parse(exp, NULL, &at);
        if (by_expiry && (!has || !tt_in_range(at, expiry))) continue;
        json_t *made = created_at ? json_object_get(created_at, json_string_value(json_object_get(v, "id"))) : NULL;
        if (created_at && (!made || !tt_in_range(json_integer_value(made), created))) continue;
        json_array_append(matching, v);
    }
    json_decref(all);
    json_decref(created_at);
    tt_reply_catalog_page(r, e, CAT_VOUCHER, matching, "/v1/vouchers", "vo_", voucher_json);
    json_decref(matching);
}

void tt_voucher_create(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    json_t *codes = NULL; /* borrowed from a JSON body */
    json_t *doc = to_engine(r, NULL, &codes);
    if (!doc) return;
    codes = codes ? json_incref(codes) : json_array();
    if (http_body_is_form(r) && http_form(r, "codes[]")) json_array_append_new(codes, json_string(http_form(r, "codes[]")));
    json_t *out = NULL;
    bo_error err = {0};
    if (catalog_put_json(e, a, CAT_VOUCHER, NULL, doc, false, &out, &err) != BO_OK) {
        json_decref(doc);
        json_decref(codes);
        return tt_fail(r, &err);
    }
    json_decref(doc);
    const char *id = json_string_value(json_object_get(out, "id"));
    size_t ncodes = json_array_size(codes);
    const char **code_texts = calloc(ncodes + 1, sizeof *code_texts);
    for (size_t i = 0; i < ncodes; i++) code_texts[i] = json_string_value(json_array_get(codes, i)); /* NULL: refused */
    bo_status added = voucher_codes_add(e, a, id, code_texts, ncodes, &err);
    free(code_texts);
    if (added != BO_OK) {
        bo_error ignore;
        catalog_delete(e, a, CAT_VOUCHER, id, &ignore); /* all or nothing for the client */
        json_decref(out);
        json_decref(codes);
        return tt_fail(r, &err);
    }
    json_decref(codes);
    http_reply_json(r, 201, voucher_json(e, a, out));
    json_decref(out);
}

static json_t *find(http_request *r, void *app_, const char **id_out)
{
    const char *id = tt_unprefix(r, http_path_param(r, "voucher_id"), "vo_");
    json_t *v = NULL;
    bo_status st = id ? catalog_get_json(tt_engine(app_), api_account(r), CAT_VOUCHER, id, &v) : BO_NOT_FOUND;
    if (st != BO_OK) {
        tt_missing(r, st);
        return NULL;
    }
    if (id_out) *id_out = id;
    return v;
}

void tt_voucher_get(http_request *r, void *app_)
{
    json_t *v = find(r, app_, NULL);
    if (!v) return;
    http_reply_json(r, 200, voucher_json(tt_engine(app_), api_account(r), v));
    json_decref(v);
}

void tt_voucher_update(http_request *r, void *app_)
{
    const char *id;
    json_t *v = find(r, app_, &id);
    if (!v) return;
    json_t *doc = to_engine(r, v, NULL);
    json_decref(v);
    if (!doc) return;
    json_t *out = NULL;
    bo_error err = {0};
    bo_status st = catalog_put_json(tt_engine(app_), api_account(r), CAT_VOUCHER, id, doc, false, &out, &err);
    json_decref(doc);
    if (st != BO_OK) return tt_fail(r, &err);
    http_reply_json(r, 200, voucher_json(tt_engine(app_), api_account(r), out));
    json_decref(out);
}

void tt_voucher_delete(http_request *r, void *app_)
{
    const char *id;
    json_t *v = find(r, app_, &id);
    if (!v) return;
    json_decref(v);
    bo_error err = {0};
    if (catalog_delete(tt_engine(app_), api_account(r), CAT_VOUCHER, id, &err) != BO_OK) return tt_fail(r, &err);
    http_reply_json(r, 200, json_pack("{s:s,s:s,s:b}", "id", http_path_param(r, "voucher_id"), "object", "voucher",
                                      "deleted", 1));
}

void tt_voucher_codes(http_request *r, void *app_)
{
    const char *id;
    json_t *v = find(r, app_, &id);
    if (!v) return;
    const account *a = api_account(r);
    voucher_code_row *codes = NULL;
    size_t ncodes = 0;
    if (voucher_codes_list(tt_engine(app_), a, id, &codes, &ncodes) != BO_OK) {
        json_decref(v);
        return tt_error(r, 500, NULL, "unavailable");
    }
    instant_us exp = 0;
    const char *e_at = json_string_value(json_object_get(v, "expires_at"));
    if (e_at) iso_parse(e_at, NULL, &exp);
    json_t *data = json_array();
    for (size_t i = 0; i < ncodes; i++) {
        const voucher_code_row *c = &codes[i];
        json_array_append_new(data, json_pack("{s:s,s:o,s:s,s:o,s:o,s:I,s:o,s:s}", "object", "voucher_code", "id",
                                              tt_id("vc_", c->id), "code", c->code, "expiry",
                                              exp ? tt_date(a, exp) : json_null(), "used",
                                              c->used_at ? tt_date(a, c->used_at) : json_null(), "value",
                                              (json_int_t)c->remaining, "voucher_id", tt_id("vo_", id), "status",
                                              c->status));
    }
    free(codes);
    json_decref(v);
    http_reply_json(r, 200, tt_page(r, "/v1/vouchers", data, false, false, false));
}

void tt_voucher_code_void(http_request *r, void *app_)
{
    const char *id;
    json_t *v = find(r, app_, &id);
    if (!v) return;
    json_decref(v);
    const char *raw = http_path_param(r, "voucher_code_id");
    const char *code_id = tt_unprefix(r, raw, "vc_");
    bo_error err = {0};
    if (!code_id || voucher_code_void(tt_engine(app_), api_account(r), id, code_id, &err) != BO_OK)
        return tt_error(r, 404, NULL, "The requested resource does not exist.");
    http_reply_json(r, 200, json_pack("{s:s,s:s,s:b}", "id", raw, "object", "voucher_code", "voided", 1));
}
