/* Catalog storage and the per-account snapshot cache. Writes validate the
 * document, store it and bump the account's catalog version in one
 * transaction; reads use an immutable snapshot rebuilt when that version moves,
 * so every server process sees every other's writes on its next request. */
#include "core/catalog_compile.h"
#include "core/catalog_spec.h"
#include "core/internal.h"
#include "store/catalog_store.h"
#include "util/log.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *kind_names[CAT__COUNT] = {"location", "category", "schedule", "event",
                                             "pool",     "product",  "discount", "voucher"};

const char *catalog_kind_name(catalog_kind k) { return k < CAT__COUNT ? kind_names[k] : "?"; }

bool catalog_kind_parse(const char *name, catalog_kind *out)
{
    for (int k = 0; k < CAT__COUNT; k++)
        if (name && !strcmp(name, kind_names[k])) {
            *out = (catalog_kind)k;
            return true;
        }
    return false;
}

/* ---- snapshots ---- */

/* Files one stored document under its kind; the model is compiled afterwards,
 * outside the read transaction. */
static void add_row(void *ctx, const store_catalog_row *row)
{
    catalog_snapshot *s = ctx;
    catalog_kind k;
    if (!catalog_kind_parse(row->kind, &k)) return;
    json_t *doc = json_loads(row->doc, 0, NULL);
    if (doc) json_object_set_new(s->objects[k], row->id, doc);
}

static catalog_snapshot *load_snapshot(store *st, const char *account_id)
{
    catalog_snapshot *s = calloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    snprintf(s->account_id, sizeof s->account_id, "%s", account_id);
    for (int k = 0; k < CAT__COUNT; k++) s->objects[k] = json_object();
    if (store_catalog_load(st, account_id, &s->version, add_row, s) != STORE_OK) {
        catalog_release(s);
        return NULL;
    }
    s->model = catalog_model_compile(s->objects);
    return s;
}

void catalog_release(catalog_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    for (int k = 0; k < CAT__COUNT; k++) json_decref(s->objects[k]);
    catalog_model_free(s->model);
    free(s);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Marks the account's cached snapshot as needing a version check. */
static void catalog_invalidate(engine *e, const account *a)
{
    pthread_mutex_lock(&e->cache_lock);
    for (size_t i = 0; i < e->nsnapshots; i++)
        if (!strcmp(e->snapshots[i]->account_id, a->id)) atomic_store(&e->snapshots[i]->checked_ms, 0);
    pthread_mutex_unlock(&e->cache_lock);
}

catalog_snapshot *catalog_acquire(engine *e, const account *a)
{
    int64_t now = monotonic_ms();
    pthread_mutex_lock(&e->cache_lock);
    for (size_t i = 0; i < e->nsnapshots; i++) {
        catalog_snapshot *s = e->snapshots[i];
        if (!strcmp(s->account_id, a->id) && now - atomic_load(&s->checked_ms) < CATALOG_RECHECK_MS) {
            atomic_fetch_add(&s->refs, 1);
            pthread_mutex_unlock(&e->cache_lock);
            return s;
        }
    }
    pthread_mutex_unlock(&e->cache_lock);
    int64_t version;
    if (store_catalog_version(e->st, a->id, &version) != STORE_OK) return NULL;
    pthread_mutex_lock(&e->cache_lock);
    for (size_t i = 0; i < e->nsnapshots; i++) {
        catalog_snapshot *s = e->snapshots[i];
        if (!strcmp(s->account_id, a->id) && s->version == version) {
            atomic_store(&s->checked_ms, now);
            atomic_fetch_add(&s->refs, 1);
            pthread_mutex_unlock(&e->cache_lock);
            return s;
        }
    }
    pthread_mutex_unlock(&e->cache_lock);
    catalog_snapshot *snap = load_snapshot(e->st, a->id);
    if (!snap) return NULL;
    atomic_store(&snap->checked_ms, now);
    pthread_mutex_lock(&e->cache_lock);
    size_t i;
    for (i = 0; i < e->nsnapshots; i++)
        if (!strcmp(e->snapshots[i]->account_id, a->id)) break;
    if (i < e->nsnapshots) {
        if (e->snapshots[i]->version < snap->version) {
            catalog_release(e->snapshots[i]);
            e->snapshots[i] = snap;
            atomic_fetch_add(&snap->refs, 1);
        }
    } else {
        e->snapshots = realloc(e->snapshots, (e->nsnapshots + 1) * sizeof *e->snapshots);
        e->snapshots[e->nsnapshots++] = snap;
        atomic_fetch_add(&snap->refs, 1);
    }
    pthread_mutex_unlock(&e->cache_lock);
    return snap;
}

json_t *snapshot_find(const catalog_snapshot *s, catalog_kind k, const char *id)
{
    return (s && id && k < CAT__COUNT) ? json_object_get(s->objects[k], id) : NULL;
}

/* A store step's outcome inside a catalog write: a duplicate id stays
 * DB_CONFLICT (catalog_put names it), the rest as every composed transaction. */
static db_status step_status(store_status st) { return st == STORE_CONFLICT ? DB_CONFLICT : store_db_status(st); }

db_status catalog_touch(db_conn *c, const char *account_id)
{
    return step_status(store_catalog_touch(c, account_id));
}

/* ---- writes ---- */

typedef struct {
    const account *a;
    catalog_kind kind;
    const char *id;
    char *doc_text;
    const char *parent_id;
    bool create;
    bool is_delete;
    instant_us now;
    bool pool_in_use; /* out: a pool delete found seats held or sold */
} catalog_write;

static db_status write_doc(db_conn *c, void *arg)
{
    catalog_write *w = arg;
    const char *kind = kind_names[w->kind];
    if (w->is_delete && w->kind == CAT_POOL) {
        /* the seats held or sold from a pool stay counted against it: a pool
         * with any cannot go (sold tickets would lose their limit) */
        db_status st = store_db_status(store_inventory_pool_in_use(c, w->a->id, w->id, &w->pool_in_use));
        if (st != DB_OK) return st;
        if (w->pool_in_use) return DB_ABORT;
    }
    store_status ss = w->is_delete ? store_catalog_delete(c, w->a->id, kind, w->id, w->now)
                      : w->create  ? store_catalog_insert(c, w->a->id, kind, w->id, w->parent_id, w->doc_text, w->now)
                                   : store_catalog_update(c, w->a->id, kind, w->id, w->parent_id, w->doc_text, w->now);
    db_status st = step_status(ss);
    if (st != DB_OK) return st;
    if (w->kind == CAT_EVENT) {
        change_event ev = w->is_delete ? EV_EVENT_DELETED : w->create ? EV_EVENT_CREATED : EV_EVENT_UPDATED;
        st = events_record(c, w->a->id, ev, w->id, w->doc_text);
        if (st != DB_OK) return st;
    }
    if (w->kind == CAT_POOL && !w->is_delete && !w->create) {
        /* a capacity change applies to the occurrences already counted; the
         * CHECK constraint refuses to drop below what is held or sold */
        json_t *doc = json_loads(w->doc_text, 0, NULL);
        json_t *cap = json_object_get(doc, "capacity");
        if (json_is_integer(cap))
            st = store_db_status(store_inventory_set_capacity(c, w->a->id, w->id, json_integer_value(cap)));
        json_decref(doc);
        if (st != DB_OK) return st;
    }
    return catalog_touch(c, w->a->id);
}

static bool snapshot_has(catalog_kind k, const char *id, void *ctx)
{
    return snapshot_find(ctx, k, id) != NULL;
}

static const char *parent_of(catalog_kind k, const json_t *doc)
{
    switch (k) {
    case CAT_CATEGORY: return jstr(doc, "parent_id");
    case CAT_PRODUCT: return jstr(doc, "event_id");
    default: return NULL;
    }
}

/* A product's pools[].pool_id must name a live pool of the account: a missing
 * one would otherwise sell without limit. */
static bo_status check_product_pools(const catalog_snapshot *snap, const json_t *product, bo_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(product, "pools"), i, v)
    {
        const char *pool_id = jstr(v, "pool_id");
        if (!snapshot_find(snap, CAT_POOL, pool_id))
            return bo_fail(err, BO_INVALID, "unknown_reference", "pools", "pools: no pool with id %s",
                           pool_id ? pool_id : "");
    }
    return BO_OK;
}

/* The id of a live object that refers to (k, id) and keeps it from being
 * deleted, or NULL: a pool a product sells from, an event a product belongs
 * to, a product a discount names. Other references (locations, categories,
 * schedules) are descriptive and do not block a delete. */
static const char *blocking_reference(const catalog_snapshot *snap, catalog_kind k, const char *id,
                                      catalog_kind *user_kind)
{
    const char *key;
    json_t *doc;
    size_t i;
    json_t *v;
    if (k == CAT_POOL || k == CAT_EVENT) {
        *user_kind = CAT_PRODUCT;
        json_object_foreach(snap->objects[CAT_PRODUCT], key, doc)
        {
            if (k == CAT_EVENT) {
                const char *ev = jstr(doc, "event_id");
                if (ev && !strcmp(ev, id)) return key;
                continue;
            }
            json_array_foreach(json_object_get(doc, "pools"), i, v)
            {
                const char *pool_id = jstr(v, "pool_id");
                if (pool_id && !strcmp(pool_id, id)) return key;
            }
        }
    } else if (k == CAT_PRODUCT) {
        *user_kind = CAT_DISCOUNT;
        json_object_foreach(snap->objects[CAT_DISCOUNT], key, doc)
        {
            json_array_foreach(json_object_get(doc, "product_ids"), i, v)
            {
                if (json_is_string(v) && !strcmp(json_string_value(v), id)) return key;
            }
        }
    }
    return NULL;
}

bo_status catalog_put(engine *e, const account *a, catalog_kind k, const char *id, json_t *doc, bool partial,
                      json_t **out, bo_error *err)
{
    if (k >= CAT__COUNT) return bo_fail(err, BO_INVALID, "invalid_kind", "", "unknown catalog kind");
    if (!json_is_object(doc)) return bo_fail(err, BO_INVALID, "invalid_body", "", "expected a JSON object");
    catalog_snapshot *snap = catalog_acquire(e, a);
    if (!snap) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    json_t *existing = id ? snapshot_find(snap, k, id) : NULL;
    json_t *merged;
    if (partial) {
        if (!existing) {
            catalog_release(snap);
            return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no %s with id %s", kind_names[k], id ? id : "");
        }
        merged = json_deep_copy(existing);
        json_object_update(merged, doc);
    } else {
        merged = json_deep_copy(doc);
    }
    json_object_del(merged, "created_at");
    json_object_del(merged, "updated_at");
    char newid[48];
    if (!id) {
        const char *given = jstr(merged, "id");
        if (given) {
            if (strlen(given) > 40 || strlen(given) < 1 || strchr(given, '/')) {
                json_decref(merged);
                catalog_release(snap);
                return bo_fail(err, BO_INVALID, "invalid_id", "id", "id must be 1 to 40 characters without '/'");
            }
            snprintf(newid, sizeof newid, "%s", given);
        } else {
            rand_uuid(newid);
        }
        id = newid;
    }
    bool create = existing == NULL && !partial;
    json_object_set_new(merged, "id", json_string(id));
    bo_status bs = spec_validate(kind_spec_for(k), merged, snapshot_has, snap, err);
    if (bs == BO_OK && k == CAT_PRODUCT) bs = check_product_pools(snap, merged, err);
    catalog_release(snap);
    if (bs != BO_OK) {
        json_decref(merged);
        return bs;
    }
    catalog_write w = {a, k, id, json_dumps(merged, JSON_COMPACT), parent_of(k, merged), create, false, clock_now(),
                       false};
    db_status st = store_write(e->st, write_doc, &w);
    free(w.doc_text);
    if (st == DB_OK || st == DB_CONFLICT) catalog_invalidate(e, a);
    if (st == DB_CONFLICT) {
        json_decref(merged);
        if (k == CAT_POOL && !create)
            return bo_fail(err, BO_CONFLICT, "capacity_below_sold", "capacity",
                           "capacity cannot drop below tickets already held or sold");
        return bo_fail(err, BO_CONFLICT, "duplicate_id", "id", "a %s with this id exists", kind_names[k]);
    }
    if (st != DB_OK) {
        json_decref(merged);
        return bo_from_db(st, err);
    }
    if (out) *out = merged;
    else json_decref(merged);
    return BO_OK;
}

bo_status catalog_get(engine *e, const account *a, catalog_kind k, const char *id, json_t **out)
{
    catalog_snapshot *snap = catalog_acquire(e, a);
    if (!snap) return BO_INTERNAL;
    json_t *doc = snapshot_find(snap, k, id);
    *out = doc ? json_deep_copy(doc) : NULL;
    catalog_release(snap);
    return doc ? BO_OK : BO_NOT_FOUND;
}

catalog_view *catalog_view_open(engine *e, const account *a) { return catalog_acquire(e, a); }
const json_t *catalog_view_find(const catalog_view *v, catalog_kind k, const char *id) { return snapshot_find(v, k, id); }
void catalog_view_close(catalog_view *v) { catalog_release(v); }

bo_status catalog_list(engine *e, const account *a, catalog_kind k, json_t **out)
{
    catalog_snapshot *snap = catalog_acquire(e, a);
    if (!snap) return BO_INTERNAL;
    json_t *arr = json_array();
    const char *key;
    json_t *doc;
    json_object_foreach(snap->objects[k], key, doc) json_array_append_new(arr, json_deep_copy(doc));
    catalog_release(snap);
    *out = arr;
    return BO_OK;
}

bo_status catalog_delete(engine *e, const account *a, catalog_kind k, const char *id, bo_error *err)
{
    if (k >= CAT__COUNT || !id) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "not found");
    catalog_snapshot *snap = catalog_acquire(e, a);
    if (!snap) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    catalog_kind user_kind = CAT_PRODUCT;
    const char *user = snapshot_find(snap, k, id) ? blocking_reference(snap, k, id, &user_kind) : NULL;
    if (user) {
        bo_fail(err, BO_CONFLICT, "in_use", "", "%s %s is used by %s %s", kind_names[k], id, kind_names[user_kind],
                user);
        catalog_release(snap);
        return BO_CONFLICT;
    }
    catalog_release(snap);
    catalog_write w = {a, k, id, NULL, NULL, false, true, clock_now(), false};
    db_status st = store_write(e->st, write_doc, &w);
    if (st == DB_OK) catalog_invalidate(e, a);
    if (w.pool_in_use)
        return bo_fail(err, BO_CONFLICT, "in_use", "", "pool %s has tickets held or sold", id);
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no %s with id %s", kind_names[k], id);
    return bo_from_db(st, err);
}
