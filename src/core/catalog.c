/* Catalog storage and the per-account snapshot cache. A write has the catalog
 * codec check the document (the engine reads none: it gets back the text to
 * store and the few facts it decides with), checks references on the typed
 * model, then stores the text and bumps the account's catalog version in one
 * transaction. Reads use an immutable snapshot, compiled by the codec when
 * that version moves, so every server process sees every other's writes on
 * its next request. */
#include "core/internal.h"
#include "store/catalog_store.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *kind_names[CAT__COUNT] = {"location", "category", "schedule", "event",
                                             "pool",     "product",  "discount", "voucher",
                                             "question", "ticket_group", "payment_method", "guest_list"};

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

/* The stored documents of one snapshot, per kind in load order, compiled
 * after the read transaction. */
typedef struct {
    char **docs[CAT__COUNT];
    size_t n[CAT__COUNT], cap[CAT__COUNT];
} loaded_docs;

static void add_row(void *ctx, const store_catalog_row *row)
{
    loaded_docs *l = ctx;
    catalog_kind k;
    if (!catalog_kind_parse(row->kind, &k)) return;
    if (l->n[k] == l->cap[k]) {
        l->cap[k] = l->cap[k] ? l->cap[k] * 2 : 16;
        l->docs[k] = realloc(l->docs[k], l->cap[k] * sizeof *l->docs[k]);
    }
    l->docs[k][l->n[k]++] = strdup(row->doc);
}

static catalog_snapshot *load_snapshot(engine *e, const char *account_id)
{
    const catalog_codec *codec = e->cfg.catalog_codec;
    if (!codec) return NULL;
    catalog_snapshot *s = calloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    snprintf(s->account_id, sizeof s->account_id, "%s", account_id);
    loaded_docs l = {0};
    bool loaded = store_catalog_load(e->st, account_id, &s->version, add_row, &l) == STORE_OK;
    if (loaded) s->model = catalog_model_new(codec->release);
    for (int c = 0; c < CAT__COUNT; c++) {
        catalog_kind k = catalog_compile_order[c];
        for (size_t i = 0; i < l.n[k]; i++) {
            if (loaded) codec->compile(s->model, k, l.docs[k][i]);
            free(l.docs[k][i]);
        }
        free(l.docs[k]);
    }
    if (!loaded) {
        catalog_release(s);
        return NULL;
    }
    return s;
}

void catalog_release(catalog_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
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
    catalog_snapshot *snap = load_snapshot(e, a->id);
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
    const catalog_doc *doc; /* NULL for a delete */
    bool create;
    instant_us now;
    bool pool_in_use; /* out: a pool delete found seats held or sold */
} catalog_write;

static db_status write_doc(db_conn *c, void *arg)
{
    catalog_write *w = arg;
    const char *kind = kind_names[w->kind];
    const catalog_doc *d = w->doc;
    if (!d && w->kind == CAT_POOL) {
        /* the seats held or sold from a pool stay counted against it: a pool
         * with any cannot go (sold tickets would lose their limit) */
        db_status st = store_db_status(store_inventory_pool_in_use(c, w->a->id, w->id, &w->pool_in_use));
        if (st != DB_OK) return st;
        if (w->pool_in_use) return DB_ABORT;
    }
    store_status ss = !d        ? store_catalog_delete(c, w->a->id, kind, w->id, w->now)
                      : w->create ? store_catalog_insert(c, w->a->id, kind, w->id, d->parent_id, d->text, w->now)
                                  : store_catalog_update(c, w->a->id, kind, w->id, d->parent_id, d->text, w->now);
    db_status st = step_status(ss);
    if (st != DB_OK) return st;
    if (w->kind == CAT_EVENT) {
        change_event ev = !d ? EV_EVENT_DELETED : w->create ? EV_EVENT_CREATED : EV_EVENT_UPDATED;
        st = events_record(c, w->a->id, ev, w->id, d ? d->text : NULL);
        if (st != DB_OK) return st;
    }
    if (w->kind == CAT_POOL && d && !w->create && d->capacity >= 0) {
        /* a capacity change applies to the occurrences already counted; the
         * CHECK constraint refuses to drop below what is held or sold */
        st = store_db_status(store_inventory_set_capacity(c, w->a->id, w->id, d->capacity));
        if (st != DB_OK) return st;
    }
    return catalog_touch(c, w->a->id);
}

void catalog_doc_clear(catalog_doc *d)
{
    free(d->text);
    free(d->parent_id);
    for (size_t i = 0; i < d->npool_ids; i++) free(d->pool_ids[i]);
    free(d->pool_ids);
    *d = (catalog_doc){0};
}

static bool snapshot_has(catalog_kind k, const char *id, void *ctx)
{
    return model_object(((const catalog_snapshot *)ctx)->model, k, id) != NULL;
}

/* A product's pools must be live pools of the account: a missing one would
 * otherwise sell without limit. */
static bo_status check_product_pools(const catalog_snapshot *snap, const catalog_doc *product, bo_error *err)
{
    for (size_t i = 0; i < product->npool_ids; i++)
        if (!model_pool(snap->model, product->pool_ids[i]))
            return bo_fail(err, BO_INVALID, "unknown_reference", "pools", "pools: no pool with id %s",
                           product->pool_ids[i]);
    return BO_OK;
}

static bool names(const char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ids[i], id)) return true;
    return false;
}

/* The references of ticket groups, payment methods and vouchers' and guest
 * lists' events: a product's group, an event's payment methods, a ticket
 * group's, a voucher's or a guest list's events. Each would otherwise name nothing (a voucher limited to
 * a deleted event could pay for nothing, silently). */
static const char *blocking_reference_more(const catalog_model *m, catalog_kind k, const char *id,
                                           catalog_kind *user_kind)
{
    if (k == CAT_TICKET_GROUP) {
        *user_kind = CAT_PRODUCT;
        for (size_t i = 0; i < model_count(m, CAT_PRODUCT); i++) {
            const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
            if (p->group_id && !strcmp(p->group_id, id)) return p->id;
        }
    } else if (k == CAT_PAYMENT_METHOD) {
        *user_kind = CAT_EVENT;
        for (size_t i = 0; i < model_count(m, CAT_EVENT); i++) {
            const cat_event *ev = model_object_at(m, CAT_EVENT, i);
            if (names(ev->payment_method_ids, ev->npayment_methods, id)) return ev->id;
        }
    } else if (k == CAT_EVENT) {
        *user_kind = CAT_TICKET_GROUP;
        for (size_t i = 0; i < model_count(m, CAT_TICKET_GROUP); i++) {
            const cat_ticket_group *g = model_object_at(m, CAT_TICKET_GROUP, i);
            if (g->event_id && !strcmp(g->event_id, id)) return g->id;
        }
        *user_kind = CAT_VOUCHER;
        for (size_t i = 0; i < model_count(m, CAT_VOUCHER); i++) {
            const cat_voucher *v = model_object_at(m, CAT_VOUCHER, i);
            if (names(v->event_ids, v->nevents, id)) return v->id;
        }
        *user_kind = CAT_GUEST_LIST;
        for (size_t i = 0; i < model_count(m, CAT_GUEST_LIST); i++) {
            const cat_guest_list *g = model_object_at(m, CAT_GUEST_LIST, i);
            if (!strcmp(g->event_id, id)) return g->id;
        }
    }
    return NULL;
}

/* The id of a live object that refers to (k, id) and keeps it from being
 * deleted, or NULL: a pool a product sells from, an event a product belongs
 * to, a product a discount names. Other references (locations, categories,
 * schedules) are descriptive and do not block a delete. */
static const char *blocking_reference(const catalog_model *m, catalog_kind k, const char *id, catalog_kind *user_kind)
{
    if (k == CAT_POOL || k == CAT_EVENT) {
        *user_kind = CAT_PRODUCT;
        for (size_t i = 0; i < model_count(m, CAT_PRODUCT); i++) {
            const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
            if (k == CAT_EVENT ? p->event_id && !strcmp(p->event_id, id) : names(p->pool_ids, p->npool_ids, id))
                return p->id;
        }
    } else if (k == CAT_PRODUCT) {
        *user_kind = CAT_DISCOUNT;
        for (size_t i = 0; i < model_count(m, CAT_DISCOUNT); i++) {
            const cat_discount *d = model_object_at(m, CAT_DISCOUNT, i);
            if (names(d->product_ids, d->nproducts, id)) return d->id;
        }
    }
    return blocking_reference_more(m, k, id, user_kind);
}

bo_status catalog_put(engine *e, const account *a, catalog_kind k, const char *id, const char *doc, bool partial,
                      char **out, bo_error *err)
{
    if (k >= CAT__COUNT) return bo_fail(err, BO_INVALID, "invalid_kind", "", "unknown catalog kind");
    if (!e->cfg.catalog_codec) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    catalog_snapshot *snap = catalog_acquire(e, a);
    if (!snap) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    const char *existing = id ? model_doc(snap->model, k, id) : NULL;
    if (partial && !existing) {
        catalog_release(snap);
        return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no %s with id %s", kind_names[k], id ? id : "");
    }
    bool create = existing == NULL && !partial;
    catalog_doc prepared = {0};
    bo_status bs = e->cfg.catalog_codec->prepare(k, existing, doc, partial, id, snapshot_has, snap, &prepared, err);
    if (bs == BO_OK && k == CAT_PRODUCT) bs = check_product_pools(snap, &prepared, err);
    catalog_release(snap);
    if (bs != BO_OK) {
        catalog_doc_clear(&prepared);
        return bs;
    }
    catalog_write w = {a, k, prepared.id, &prepared, create, clock_now(), false};
    db_status st = store_write(e->st, write_doc, &w);
    if (st == DB_OK || st == DB_CONFLICT) catalog_invalidate(e, a);
    if (st == DB_CONFLICT) {
        catalog_doc_clear(&prepared);
        if (k == CAT_POOL && !create)
            return bo_fail(err, BO_CONFLICT, "capacity_below_sold", "capacity",
                           "capacity cannot drop below tickets already held or sold");
        return bo_fail(err, BO_CONFLICT, "duplicate_id", "id", "a %s with this id exists", kind_names[k]);
    }
    if (st == DB_OK && out) {
        *out = prepared.text;
        prepared.text = NULL;
    }
    catalog_doc_clear(&prepared);
    return st == DB_OK ? BO_OK : bo_from_db(st, err);
}

bo_status catalog_get(engine *e, const account *a, catalog_kind k, const char *id, char **out)
{
    catalog_snapshot *snap = catalog_acquire(e, a);
    if (!snap) return BO_INTERNAL;
    const char *doc = model_doc(snap->model, k, id);
    *out = doc ? strdup(doc) : NULL;
    catalog_release(snap);
    return doc ? BO_OK : BO_NOT_FOUND;
}

catalog_view *catalog_view_open(engine *e, const account *a) { return catalog_acquire(e, a); }
const catalog_model *catalog_view_model(const catalog_view *v) { return v ? v->model : NULL; }
void catalog_view_close(catalog_view *v) { catalog_release(v); }

bo_status catalog_delete(engine *e, const account *a, catalog_kind k, const char *id, bo_error *err)
{
    if (k >= CAT__COUNT || !id) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "not found");
    catalog_snapshot *snap = catalog_acquire(e, a);
    if (!snap) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    catalog_kind user_kind = CAT_PRODUCT;
    const char *user = model_object(snap->model, k, id) ? blocking_reference(snap->model, k, id, &user_kind) : NULL;
    if (user) {
        bo_fail(err, BO_CONFLICT, "in_use", "", "%s %s is used by %s %s", kind_names[k], id, kind_names[user_kind],
                user);
        catalog_release(snap);
        return BO_CONFLICT;
    }
    catalog_release(snap);
    catalog_write w = {a, k, id, NULL, false, clock_now(), false};
    db_status st = store_write(e->st, write_doc, &w);
    if (st == DB_OK) catalog_invalidate(e, a);
    if (w.pool_in_use)
        return bo_fail(err, BO_CONFLICT, "in_use", "", "pool %s has tickets held or sold", id);
    if (st == DB_NOTFOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no %s with id %s", kind_names[k], id);
    return bo_from_db(st, err);
}

typedef struct {
    catalog_place *places;
    size_t n, cap;
    bool oom;
} place_list;

static void add_place(void *ctx, const store_catalog_place *row)
{
    place_list *l = ctx;
    if (l->oom) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        catalog_place *grown = realloc(l->places, cap * sizeof *grown);
        if (!grown) {
            l->oom = true;
            return;
        }
        l->places = grown;
        l->cap = cap;
    }
    catalog_place *p = &l->places[l->n++];
    snprintf(p->id, sizeof p->id, "%s", row->id);
    p->created_at = row->created_at;
    p->deleted = row->deleted;
}

bo_status catalog_places(engine *e, const account *a, catalog_kind k, catalog_place **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (k >= CAT__COUNT) return BO_INVALID;
    place_list l = {0};
    store_status st = store_catalog_places(e->st, a->id, kind_names[k], add_place, &l);
    if (st != STORE_OK || l.oom) {
        free(l.places);
        return BO_INTERNAL;
    }
    *out = l.places;
    *n = l.n;
    return BO_OK;
}
