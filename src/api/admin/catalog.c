/* /admin/v1/{locations,categories,schedules,events,pools,products,discounts,vouchers,questions,
 *  ticket_groups,payment_methods}
 * and /{plural}/{id}: one set of handlers for every catalog kind. The catalog
 * codec checks documents against src/catalog_doc/catalog_spec.c, so unknown
 * fields, wrong types and missing fields come back as its BO_INVALID (400) with the field named. */
#include "api/admin/admin.h"
#include <string.h>

static const char *plurals[CAT__COUNT] = {
    [CAT_LOCATION] = "locations", [CAT_CATEGORY] = "categories", [CAT_SCHEDULE] = "schedules",
    [CAT_EVENT] = "events",       [CAT_POOL] = "pools",          [CAT_PRODUCT] = "products",
    [CAT_DISCOUNT] = "discounts", [CAT_VOUCHER] = "vouchers",
    [CAT_QUESTION] = "questions",
    [CAT_TICKET_GROUP] = "ticket_groups", [CAT_PAYMENT_METHOD] = "payment_methods",
    [CAT_GUEST_LIST] = "guest_lists",
};

/* The {id} of the path, or NULL after replying 404 (ids are at most 40 characters). */
static const char *path_id(http_request *r, catalog_kind k)
{
    const char *id = http_path_param(r, "id");
    if (!id || !*id || strlen(id) > 64) {
        admin_error(r, 404, "not_found", NULL, "no such %s", catalog_kind_name(k));
        return NULL;
    }
    return id;
}

/* A body may restate the id of the path, never another one. */
static bool body_id_matches(http_request *r, json_t *body, const char *id)
{
    json_t *given = json_object_get(body, "id");
    if (!given || (json_is_string(given) && !strcmp(json_string_value(given), id))) return true;
    admin_error(r, 400, "id_mismatch", "id", "the body's id differs from the id in the path");
    return false;
}

/* What shops read on every page view; the rest of the catalog is the back office's. */
static bool cached_kind(catalog_kind k) { return k == CAT_PRODUCT || k == CAT_CATEGORY || k == CAT_EVENT; }

static void list_kind(http_request *r, void *app_, catalog_kind k)
{
    /* a list takes no filters: one the client believes applied must not be ignored */
    static const char *const none[] = {NULL};
    if (!admin_query_known(r, none)) return;
    if (cached_kind(k) && api_reply_cached(r, app_, 0, 0)) return;
    json_t *docs = NULL;
    bo_status st = catalog_list_json(admin_engine(app_), api_account(r), k, &docs);
    if (st != BO_OK) {
        admin_fail_status(r, st, catalog_kind_name(k));
        return;
    }
    http_reply_json(r, 200, admin_list(docs, NULL));
}

static void create_kind(http_request *r, void *app_, catalog_kind k)
{
    json_t *body = admin_body(r);
    if (!body) return;
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    json_t *given = json_object_get(body, "id");
    if (given && !json_is_string(given)) {
        admin_error(r, 400, "invalid_field", "id", "id must be a string of 1 to 40 characters");
        return;
    }
    json_t *existing = NULL;
    /* checked here so that every kind answers duplicate_id (the engine reads a
     * pool's unique violation as a capacity conflict) */
    if (given && catalog_get_json(e, a, k, json_string_value(given), &existing) == BO_OK) {
        json_decref(existing);
        admin_error(r, 409, "duplicate_id", "id", "a %s with this id exists", catalog_kind_name(k));
        return;
    }
    json_t *doc = NULL;
    bo_error err = {0};
    if (catalog_put_json(e, a, k, NULL, body, false, &doc, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    const char *id = json_string_value(json_object_get(doc, "id"));
    admin_reply_created(r, plurals[k], id ? id : "", doc);
}

static void get_kind(http_request *r, void *app_, catalog_kind k)
{
    const char *id = path_id(r, k);
    if (!id) return;
    if (cached_kind(k) && api_reply_cached(r, app_, 0, 0)) return;
    json_t *doc = NULL;
    bo_status st = catalog_get_json(admin_engine(app_), api_account(r), k, id, &doc);
    if (st != BO_OK) {
        admin_fail_status(r, st, catalog_kind_name(k));
        return;
    }
    http_reply_json(r, 200, doc);
}

static void put_kind(http_request *r, void *app_, catalog_kind k, bool partial)
{
    const char *id = path_id(r, k);
    if (!id) return;
    json_t *body = admin_body(r);
    if (!body || !body_id_matches(r, body, id)) return;
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    if (!partial) {
        /* PUT replaces, it never creates: ids are chosen at POST */
        json_t *existing = NULL;
        bo_status st = catalog_get_json(e, a, k, id, &existing);
        if (st != BO_OK) {
            admin_fail_status(r, st, catalog_kind_name(k));
            return;
        }
        json_decref(existing);
    }
    json_t *doc = NULL;
    bo_error err = {0};
    if (catalog_put_json(e, a, k, id, body, partial, &doc, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    http_reply_json(r, 200, doc);
}

static void delete_kind(http_request *r, void *app_, catalog_kind k)
{
    const char *id = path_id(r, k);
    if (!id) return;
    bo_error err = {0};
    if (catalog_delete(admin_engine(app_), api_account(r), k, id, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    http_reply_empty(r, 204);
}

#define ADMIN_CATALOG_DEFINE(k, K)                                                                                     \
    void admin_##k##_list(http_request *r, void *app_) { list_kind(r, app_, K); }                                      \
    void admin_##k##_create(http_request *r, void *app_) { create_kind(r, app_, K); }                                  \
    void admin_##k##_get(http_request *r, void *app_) { get_kind(r, app_, K); }                                        \
    void admin_##k##_replace(http_request *r, void *app_) { put_kind(r, app_, K, false); }                             \
    void admin_##k##_merge(http_request *r, void *app_) { put_kind(r, app_, K, true); }                                \
    void admin_##k##_delete(http_request *r, void *app_) { delete_kind(r, app_, K); }
ADMIN_CATALOG_KINDS(ADMIN_CATALOG_DEFINE)
