/* Products: GET /api/v1/products/ and /api/v1/products/<id>/. Catalogs are
 * small, so the list comes in one page (next and previous are null). */
#include "api/convious/convious.h"
#include <string.h>

enum {
    P_NAME = 1 << 0, P_ACCOUNT = 1 << 1, P_TEXT = 1 << 2, P_CATEGORIES = 1 << 3, P_RESOURCES = 1 << 4,
    P_IMAGES = 1 << 5, P_EXTERNAL_IDS = 1 << 6, P_BARCODE = 1 << 7, P_TAXES = 1 << 8, P_SCAN_OPTIONS = 1 << 9,
};
static const char *const includes[] = {"name",   "account",      "text",    "categories", "resources",
                                       "images", "external_ids", "barcode", "taxes",      "scan_options", NULL};

static json_t *date_or_null(const json_t *p, const char *key)
{
    json_t *v = json_object_get(p, key);
    return json_is_string(v) ? json_incref(v) : json_null();
}

static json_t *duration_or_null(const json_t *scan, const char *key)
{
    json_t *v = json_object_get(scan, key);
    if (!json_is_integer(v)) return json_null();
    char buf[48];
    duration_format(json_integer_value(v), buf, sizeof buf);
    return json_string(buf);
}

json_t *cv_product_json(const account *a, const catalog_view *catalog, const json_t *p, unsigned inc)
{
    json_t *scan = json_object_get(p, "scan");
    json_t *x = json_object();
    json_object_set(x, "id", json_object_get(p, "id"));
    json_object_set_new(x, "accountSlug", json_string(a->slug));
    json_object_set_new(x, "priority", json_integer(json_integer_value(json_object_get(p, "priority"))));
    json_object_set_new(x, "minTickets", json_integer(json_integer_value(json_object_get(p, "min_per_order"))));
    json_t *maxq = json_object_get(p, "max_per_order");
    json_object_set_new(x, "maxTickets", json_is_integer(maxq) ? json_incref(maxq) : json_null());
    json_object_set_new(x, "showFrom", date_or_null(p, "show_from"));
    json_object_set_new(x, "showTo", date_or_null(p, "show_to"));
    json_object_set_new(x, "validFrom", date_or_null(p, "valid_from"));
    json_object_set_new(x, "validTo", date_or_null(p, "valid_to"));
    json_object_set_new(x, "ticketDuration", duration_or_null(scan, "validity_seconds"));
    json_object_set_new(x, "ticketTimeDuration", duration_or_null(scan, "time_seconds"));
    json_object_set_new(x, "isBundle", json_boolean(json_string_value(json_object_get(p, "kind")) &&
                                                    !strcmp(json_string_value(json_object_get(p, "kind")), "bundle")));
    json_object_set_new(x, "enabled", json_boolean(!json_is_false(json_object_get(p, "enabled"))));
    json_object_set_new(x, "apfEnabled", json_boolean(json_is_true(json_object_get(p, "apf_enabled"))));
    json_t *bt = json_object_get(p, "business_type");
    json_object_set_new(x, "businessType", json_is_string(bt) ? json_incref(bt) : json_null());
    json_object_set_new(x, "pricingType", json_string(json_array_size(json_object_get(p, "prices")) ? "dynamic" : "static"));
    if (inc & P_NAME) json_object_set(x, "name", json_object_get(p, "name"));
    if (inc & P_ACCOUNT) json_object_set_new(x, "account", json_pack("{s:s,s:s}", "slug", a->slug, "name", a->name));
    if (inc & P_TEXT) {
        json_t *d = json_object_get(p, "description");
        json_object_set_new(x, "text", json_pack("{s:o}", "description", json_is_object(d) ? json_incref(d) : json_object()));
    }
    if (inc & P_CATEGORIES) {
        json_t *active = json_array(), *inactive = json_array();
        size_t i;
        json_t *cid;
        json_array_foreach(json_object_get(p, "category_ids"), i, cid)
        {
            const json_t *cat = catalog_view_find(catalog, CAT_CATEGORY, json_string_value(cid));
            if (!cat) continue;
            const char *flow = json_string_value(json_object_get(cat, "flow"));
            json_array_append_new(json_is_false(json_object_get(cat, "enabled")) ? inactive : active,
                                  json_pack("{s:O?,s:s}", "id", cid, "flow", flow ? flow : "dated"));
        }
        json_object_set_new(x, "categories", active);
        json_object_set_new(x, "inactiveCategories", inactive);
    }
    if (inc & P_RESOURCES) {
        json_t *res = json_array();
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(p, "pools"), i, u)
            json_array_append_new(res, json_pack("{s:O?,s:n,s:O?}", "inventoryPoolId", json_object_get(u, "pool_id"),
                                                 "categoryId", "amountUsed", json_object_get(u, "amount")));
        json_object_set_new(x, "resources", res);
    }
    if (inc & P_IMAGES) {
        json_t *im = json_object_get(p, "images");
        json_object_set_new(x, "images", json_is_array(im) ? json_deep_copy(im) : json_array());
    }
    if (inc & P_EXTERNAL_IDS) {
        json_t *ex = json_object_get(p, "external_ids");
        json_object_set_new(x, "externalIds", json_is_object(ex) ? json_deep_copy(ex) : json_object());
    }
    if (inc & P_BARCODE) {
        const char *f = json_string_value(json_object_get(p, "barcode_format"));
        json_object_set_new(x, "barcode", json_pack("{s:s}", "format", f ? f : "code128"));
    }
    if (inc & P_TAXES) {
        json_t *taxes = json_array();
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(p, "taxes"), i, t)
            json_array_append_new(taxes, json_pack("{s:O?,s:o,s:o}", "type", json_object_get(t, "type"),
                                                   "priceProportionPercentage",
                                                   cv_rate(json_integer_value(json_object_get(t, "proportion_bp"))),
                                                   "taxPercentage",
                                                   cv_rate(json_integer_value(json_object_get(t, "rate_bp")))));
        json_object_set_new(x, "taxes", taxes);
    }
    if (inc & P_SCAN_OPTIONS) {
        const char *limit = json_string_value(json_object_get(scan, "limit"));
        json_t *max = json_object_get(scan, "max_scans");
        json_object_set_new(x, "scanOptions",
                            json_pack("{s:s,s:s,s:O?,s:I}", "scanLimit", limit ? limit : "once", "scanLimitType",
                                      "scan_period_fixed", "maxScans", json_is_integer(max) ? max : json_null(),
                                      "maxScansPerDay", (json_int_t)(limit && !strcmp(limit, "times_per_day")
                                                                         ? json_integer_value(json_object_get(scan, "times"))
                                                                         : 0)));
    }
    return x;
}

static bool in_category(const cat_product *p, const char *category)
{
    for (size_t i = 0; i < p->ncategories; i++)
        if (!strcmp(p->category_ids[i], category)) return true;
    return false;
}

void cv_products_list(http_request *r, void *app_)
{
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    unsigned inc;
    if (!cv_includes(r, includes, &inc)) return;
    const char *category = http_query(r, "category_id"), *ext = http_query(r, "has_external_id");
    const char *enabled = http_query(r, "enabled");
    if (enabled && strcmp(enabled, "true") && strcmp(enabled, "false"))
        return cv_error(r, 400, "invalid_filter", "enabled", "enabled is true or false");
    /* the snapshot's own objects, filtered on their typed fields: nothing of
     * the catalog is copied, only the products that go out are rendered */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return cv_error(r, 500, "internal_error", NULL, "unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    json_t *results = json_array();
    for (size_t i = 0; i < model_count(m, CAT_PRODUCT); i++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
        const json_t *doc = model_decoded_at(m, CAT_PRODUCT, i);
        if (category && !in_category(p, category)) continue;
        if (ext && !json_object_get(json_object_get(doc, "external_ids"), ext)) continue;
        if (enabled && p->enabled != !strcmp(enabled, "true")) continue;
        json_array_append_new(results, cv_product_json(a, catalog, doc, inc));
    }
    catalog_view_close(catalog);
    http_reply_json(r, 200, json_pack("{s:n,s:n,s:o}", "next", "previous", "results", results));
}

void cv_product_get(http_request *r, void *app_)
{
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    unsigned inc;
    if (!cv_includes(r, includes, &inc)) return;
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return cv_missing(r, BO_INTERNAL);
    const json_t *p = catalog_view_find(catalog, CAT_PRODUCT, http_path_param(r, "product_id"));
    json_t *reply = p ? cv_product_json(a, catalog, p, inc) : NULL;
    catalog_view_close(catalog);
    if (!reply) return cv_missing(r, BO_NOT_FOUND);
    http_reply_json(r, 200, reply);
}
