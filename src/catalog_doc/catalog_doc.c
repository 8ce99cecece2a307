/* Checking written catalog documents (the field tables of catalog_spec.c) and
 * the jansson face of the catalog API for the dialects. */
#include "catalog_doc/catalog_doc.h"
#include "catalog_doc/catalog_spec.h"
#include "util/json_read.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void release_decoded(void *decoded) { json_decref(decoded); }

const catalog_codec catalog_doc_json_codec = {catalog_doc_prepare, catalog_doc_compile, release_decoded};

static char *copy_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* What the engine needs to know of a checked document without reading it. */
static void describe(catalog_kind k, const json_t *doc, catalog_doc *out)
{
    out->text = json_dumps(doc, JSON_COMPACT);
    out->parent_id = copy_or_null(k == CAT_CATEGORY ? jstr(doc, "parent_id")
                                  : k == CAT_PRODUCT ? jstr(doc, "event_id")
                                                     : NULL);
    out->capacity = k == CAT_POOL ? jint(doc, "capacity", -1) : -1;
    if (k != CAT_PRODUCT) return;
    const json_t *pools = json_object_get(doc, "pools");
    out->pool_ids = calloc(json_array_size(pools) + 1, sizeof *out->pool_ids);
    size_t i;
    const json_t *use;
    json_array_foreach(pools, i, use)
    {
        const char *pool_id = jstr(use, "pool_id"); /* required by the product check */
        out->pool_ids[out->npool_ids++] = strdup(pool_id ? pool_id : "");
    }
}

bo_status catalog_doc_prepare(catalog_kind k, const char *existing, const char *body, bool partial, const char *id,
                              bool (*exists)(catalog_kind, const char *, void *), void *ctx, catalog_doc *out,
                              bo_error *err)
{
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    if (!json_is_object(doc) || k >= CAT__COUNT) {
        json_decref(doc);
        return bo_fail(err, BO_INVALID, "invalid_body", "", "expected a JSON object");
    }
    json_t *merged = doc;
    if (partial) {
        merged = existing ? json_loads(existing, 0, NULL) : json_object();
        json_object_update(merged, doc);
        json_decref(doc);
    }
    json_object_del(merged, "created_at");
    json_object_del(merged, "updated_at");
    if (id) {
        snprintf(out->id, sizeof out->id, "%s", id);
    } else if (jstr(merged, "id")) {
        const char *given = jstr(merged, "id");
        if (strlen(given) > 40 || strchr(given, '/')) {
            json_decref(merged);
            return bo_fail(err, BO_INVALID, "invalid_id", "id", "id must be 1 to 40 characters without '/'");
        }
        snprintf(out->id, sizeof out->id, "%s", given);
    } else {
        rand_uuid(out->id);
    }
    if (!out->id[0]) {
        json_decref(merged);
        return bo_fail(err, BO_INVALID, "invalid_id", "id", "id must be 1 to 40 characters without '/'");
    }
    json_object_set_new(merged, "id", json_string(out->id));
    bo_status st = spec_validate(kind_spec_for(k), merged, exists, ctx, err);
    if (st == BO_OK) describe(k, merged, out);
    json_decref(merged);
    return st;
}

bo_status catalog_put_json(engine *e, const account *a, catalog_kind k, const char *id, const json_t *doc,
                           bool partial, json_t **out, bo_error *err)
{
    if (!json_is_object(doc)) return bo_fail(err, BO_INVALID, "invalid_body", "", "expected a JSON object");
    char *text = json_dumps(doc, JSON_COMPACT);
    char *stored = NULL;
    bo_status st = catalog_put(e, a, k, id, text, partial, out ? &stored : NULL, err);
    free(text);
    if (st == BO_OK && out) *out = json_loads(stored, 0, NULL);
    free(stored);
    return st;
}

bo_status catalog_get_json(engine *e, const account *a, catalog_kind k, const char *id, json_t **out)
{
    catalog_view *v = catalog_view_open(e, a);
    if (!v) return BO_INTERNAL;
    const json_t *doc = catalog_view_find(v, k, id);
    *out = doc ? json_deep_copy(doc) : NULL;
    catalog_view_close(v);
    return doc ? BO_OK : BO_NOT_FOUND;
}

bo_status catalog_list_json(engine *e, const account *a, catalog_kind k, json_t **out)
{
    catalog_view *v = catalog_view_open(e, a);
    if (!v) return BO_INTERNAL;
    const catalog_model *m = catalog_view_model(v);
    json_t *docs = json_array();
    for (size_t i = 0; i < model_count(m, k); i++)
        json_array_append_new(docs, json_deep_copy(model_decoded_at(m, k, i)));
    catalog_view_close(v);
    *out = docs;
    return BO_OK;
}

const json_t *catalog_view_find(const catalog_view *v, catalog_kind k, const char *id)
{
    return model_decoded(catalog_view_model(v), k, id);
}
