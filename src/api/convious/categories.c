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
    if (api_reply_cached(r, app_, 0, 0)) return; /* the catalog's alone */
    /* the snapshot's own documents, borrowed: nothing of the catalog is copied */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return cv_error(r, 500, "internal_error", NULL, "unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    /* straight into the reply's buffer, as jansson would print it */
    jbuf b;
    cv_jb_page_open(&b);
    for (size_t i = 0; i < model_count(m, CAT_CATEGORY); i++) {
        const json_t *c = model_decoded_at(m, CAT_CATEGORY, i);
        const char *pid = json_string_value(json_object_get(c, "parent_id"));
        if (parent && (!pid || strcmp(pid, parent))) continue;
        if (root && (!strcmp(root, "true")) != (pid == NULL)) continue;
        jb_obj(&b);
        const json_t *id = json_object_get(c, "id"), *name = json_object_get(c, "name");
        if (id) jb_kjson(&b, "id", id);
        jb_kstr(&b, "accountSlug", a->slug);
        jb_kint(&b, "priority", json_integer_value(json_object_get(c, "priority")));
        jb_kbool(&b, "enabled", !json_is_false(json_object_get(c, "enabled")));
        jb_kbool(&b, "showedInCheckout", !json_is_false(json_object_get(c, "show_in_checkout")));
        if ((inc & C_NAME) && name) jb_kjson(&b, "name", name);
        if (inc & C_TEXT) {
            const json_t *d = json_object_get(c, "description");
            jb_key(&b, "text");
            jb_obj(&b);
            jb_key(&b, "description");
            if (json_is_object(d)) jb_json(&b, d);
            else jb_raw(&b, "{}");
            jb_obj_end(&b);
        }
        if (inc & C_PARENT) {
            jb_key(&b, "parentCategory");
            if (pid) {
                jb_obj(&b);
                jb_kstr(&b, "id", pid);
                jb_obj_end(&b);
            } else {
                jb_null(&b);
            }
        }
        if (inc & C_IMAGES) {
            const json_t *im = json_object_get(c, "images");
            jb_key(&b, "images");
            if (json_is_array(im)) jb_json(&b, im);
            else jb_raw(&b, "[]");
        }
        jb_obj_end(&b);
    }
    catalog_view_close(catalog);
    cv_reply_page(r, &b);
}
