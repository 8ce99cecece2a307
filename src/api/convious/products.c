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

/* A value of the document as it is; `key` left out when the document has none. */
static void jb_kdoc(jbuf *b, const char *key, const json_t *v)
{
    if (v) jb_kjson(b, key, v);
}

static void date_or_null(jbuf *b, const char *key, const json_t *p)
{
    const json_t *v = json_object_get(p, key);
    jb_json(b, json_is_string(v) ? v : NULL);
}

static void duration_or_null(jbuf *b, const json_t *scan, const char *key)
{
    const json_t *v = json_object_get(scan, key);
    if (!json_is_integer(v)) return jb_null(b);
    char text[48];
    duration_format(json_integer_value(v), text, sizeof text);
    jb_str(b, text);
}

/* {"id":..., "flow":...} of each category of the product that is (or is not) enabled. */
static void categories(jbuf *b, const catalog_view *catalog, const json_t *p, bool enabled)
{
    jb_arr(b);
    size_t i;
    const json_t *cid;
    json_array_foreach(json_object_get(p, "category_ids"), i, cid)
    {
        const json_t *cat = catalog_view_find(catalog, CAT_CATEGORY, json_string_value(cid));
        if (!cat || json_is_false(json_object_get(cat, "enabled")) == enabled) continue;
        const char *flow = json_string_value(json_object_get(cat, "flow"));
        jb_obj(b);
        jb_kjson(b, "id", cid);
        jb_kstr(b, "flow", flow ? flow : "dated");
        jb_obj_end(b);
    }
    jb_arr_end(b);
}

/* Written straight into the reply's buffer (a list is every product of the
 * catalog; a jansson tree of it cost more than its text). */
void cv_jb_product(jbuf *b, const account *a, const catalog_view *catalog, const json_t *p, unsigned inc)
{
    const json_t *scan = json_object_get(p, "scan");
    jb_obj(b);
    jb_kdoc(b, "id", json_object_get(p, "id"));
    jb_kstr(b, "accountSlug", a->slug);
    jb_kint(b, "priority", json_integer_value(json_object_get(p, "priority")));
    jb_kint(b, "minTickets", json_integer_value(json_object_get(p, "min_per_order")));
    const json_t *maxq = json_object_get(p, "max_per_order");
    jb_kjson(b, "maxTickets", json_is_integer(maxq) ? maxq : NULL);
    jb_key(b, "showFrom");
    date_or_null(b, "show_from", p);
    jb_key(b, "showTo");
    date_or_null(b, "show_to", p);
    jb_key(b, "validFrom");
    date_or_null(b, "valid_from", p);
    jb_key(b, "validTo");
    date_or_null(b, "valid_to", p);
    jb_key(b, "ticketDuration");
    duration_or_null(b, scan, "validity_seconds");
    jb_key(b, "ticketTimeDuration");
    duration_or_null(b, scan, "time_seconds");
    const char *kind = json_string_value(json_object_get(p, "kind"));
    jb_kbool(b, "isBundle", kind && !strcmp(kind, "bundle"));
    jb_kbool(b, "enabled", !json_is_false(json_object_get(p, "enabled")));
    jb_kbool(b, "apfEnabled", json_is_true(json_object_get(p, "apf_enabled")));
    const json_t *bt = json_object_get(p, "business_type");
    jb_kjson(b, "businessType", json_is_string(bt) ? bt : NULL);
    jb_kstr(b, "pricingType", json_array_size(json_object_get(p, "prices")) ? "dynamic" : "static");
    if (inc & P_NAME) jb_kdoc(b, "name", json_object_get(p, "name"));
    if (inc & P_ACCOUNT) {
        jb_key(b, "account");
        jb_obj(b);
        jb_kstr(b, "slug", a->slug);
        jb_kstr(b, "name", a->name);
        jb_obj_end(b);
    }
    if (inc & P_TEXT) {
        const json_t *d = json_object_get(p, "description");
        jb_key(b, "text");
        jb_obj(b);
        jb_key(b, "description");
        if (json_is_object(d)) jb_json(b, d);
        else jb_raw(b, "{}");
        jb_obj_end(b);
    }
    if (inc & P_CATEGORIES) {
        jb_key(b, "categories");
        categories(b, catalog, p, true);
        jb_key(b, "inactiveCategories");
        categories(b, catalog, p, false);
    }
    if (inc & P_RESOURCES) {
        jb_key(b, "resources");
        jb_arr(b);
        size_t i;
        const json_t *u;
        json_array_foreach(json_object_get(p, "pools"), i, u)
        {
            jb_obj(b);
            jb_kjson(b, "inventoryPoolId", json_object_get(u, "pool_id"));
            jb_knull(b, "categoryId");
            jb_kjson(b, "amountUsed", json_object_get(u, "amount"));
            jb_obj_end(b);
        }
        jb_arr_end(b);
    }
    if (inc & P_IMAGES) {
        const json_t *im = json_object_get(p, "images");
        jb_key(b, "images");
        if (json_is_array(im)) jb_json(b, im);
        else jb_raw(b, "[]");
    }
    if (inc & P_EXTERNAL_IDS) {
        const json_t *ex = json_object_get(p, "external_ids");
        jb_key(b, "externalIds");
        if (json_is_object(ex)) jb_json(b, ex);
        else jb_raw(b, "{}");
    }
    if (inc & P_BARCODE) {
        const char *f = json_string_value(json_object_get(p, "barcode_format"));
        jb_key(b, "barcode");
        jb_obj(b);
        jb_kstr(b, "format", f ? f : "code128");
        jb_obj_end(b);
    }
    if (inc & P_TAXES) {
        jb_key(b, "taxes");
        jb_arr(b);
        size_t i;
        const json_t *t;
        json_array_foreach(json_object_get(p, "taxes"), i, t)
        {
            jb_obj(b);
            jb_kjson(b, "type", json_object_get(t, "type"));
            jb_key(b, "priceProportionPercentage");
            jb_money(b, (int32_t)json_integer_value(json_object_get(t, "proportion_bp")), 2);
            jb_key(b, "taxPercentage");
            jb_money(b, (int32_t)json_integer_value(json_object_get(t, "rate_bp")), 2);
            jb_obj_end(b);
        }
        jb_arr_end(b);
    }
    if (inc & P_SCAN_OPTIONS) {
        const char *limit = json_string_value(json_object_get(scan, "limit"));
        const json_t *max = json_object_get(scan, "max_scans");
        jb_key(b, "scanOptions");
        jb_obj(b);
        jb_kstr(b, "scanLimit", limit ? limit : "once");
        jb_kstr(b, "scanLimitType", "scan_period_fixed");
        jb_kjson(b, "maxScans", json_is_integer(max) ? max : NULL);
        jb_kint(b, "maxScansPerDay",
                limit && !strcmp(limit, "times_per_day") ? json_integer_value(json_object_get(scan, "times")) : 0);
        jb_obj_end(b);
    }
    jb_obj_end(b);
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
    if (api_reply_cached(r, app_, 0, 0)) return; /* the catalog's alone */
    /* the snapshot's own objects, filtered on their typed fields: nothing of
     * the catalog is copied, only the products that go out are rendered */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return cv_error(r, 500, "internal_error", NULL, "unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    jbuf b;
    cv_jb_page_open(&b);
    for (size_t i = 0; i < model_count(m, CAT_PRODUCT); i++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
        const json_t *doc = model_decoded_at(m, CAT_PRODUCT, i);
        if (category && !in_category(p, category)) continue;
        if (ext && !json_object_get(json_object_get(doc, "external_ids"), ext)) continue;
        if (enabled && p->enabled != !strcmp(enabled, "true")) continue;
        cv_jb_product(&b, a, catalog, doc, inc);
    }
    catalog_view_close(catalog);
    cv_reply_page(r, &b);
}

void cv_product_get(http_request *r, void *app_)
{
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    unsigned inc;
    if (!cv_includes(r, includes, &inc)) return;
    if (api_reply_cached(r, app_, 0, 0)) return; /* the catalog's alone */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return cv_missing(r, BO_INTERNAL);
    const json_t *p = catalog_view_find(catalog, CAT_PRODUCT, http_path_param(r, "product_id"));
    if (!p) {
        catalog_view_close(catalog);
        return cv_missing(r, BO_NOT_FOUND);
    }
    jbuf b;
    jb_init(&b, 1024);
    cv_jb_product(&b, a, catalog, p, inc);
    catalog_view_close(catalog);
    cv_reply_jbuf(r, &b);
}
