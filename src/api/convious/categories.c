/* GET /api/v1/categories/ with parent_category, root and include. */
#include "api/convious/convious.h"
#include <string.h>

enum { C_NAME = 1, C_PARENT = 2, C_IMAGES = 4, C_TEXT = 8 };
static const char *const includes[] = {"name", "parent_category", "images", "text", NULL};

void cv_categories_list(http_request *r, void *app_)
{
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    unsigned inc;
    if (!cv_includes(r, includes, &inc)) return;
    const char *parent = http_query(r, "parent_category"), *root = http_query(r, "root");
    if (root && strcmp(root, "true") && strcmp(root, "false"))
        return cv_error(r, 400, "invalid_filter", "root", "root is true or false");
    /* the snapshot's own documents, borrowed: nothing of the catalog is copied */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return cv_error(r, 500, "internal_error", NULL, "unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    json_t *results = json_array();
    for (size_t i = 0; i < model_count(m, CAT_CATEGORY); i++) {
        const json_t *c = model_decoded_at(m, CAT_CATEGORY, i);
        const char *pid = json_string_value(json_object_get(c, "parent_id"));
        if (parent && (!pid || strcmp(pid, parent))) continue;
        if (root && (!strcmp(root, "true")) != (pid == NULL)) continue;
        json_t *x = json_object();
        json_object_set(x, "id", json_object_get(c, "id"));
        json_object_set_new(x, "accountSlug", json_string(a->slug));
        json_object_set_new(x, "priority", json_integer(json_integer_value(json_object_get(c, "priority"))));
        json_object_set_new(x, "enabled", json_boolean(!json_is_false(json_object_get(c, "enabled"))));
        json_object_set_new(x, "showedInCheckout", json_boolean(!json_is_false(json_object_get(c, "show_in_checkout"))));
        if (inc & C_NAME) json_object_set(x, "name", json_object_get(c, "name"));
        if (inc & C_TEXT) {
            json_t *d = json_object_get(c, "description");
            json_object_set_new(x, "text", json_pack("{s:o}", "description", json_is_object(d) ? json_incref(d) : json_object()));
        }
        if (inc & C_PARENT)
            json_object_set_new(x, "parentCategory", pid ? json_pack("{s:s}", "id", pid) : json_null());
        if (inc & C_IMAGES) {
            json_t *im = json_object_get(c, "images");
            json_object_set_new(x, "images", json_is_array(im) ? json_deep_copy(im) : json_array());
        }
        json_array_append_new(results, x);
    }
    catalog_view_close(catalog);
    http_reply_json(r, 200, json_pack("{s:n,s:n,s:o}", "next", "previous", "results", results));
}
