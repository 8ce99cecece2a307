/* Availability: slots from the schedule, counts from the inventory rows. One
 * range query per pool keeps a 30-day calendar to a handful of queries. */
#include "core/schedule.h"
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *pool_id;
    const char *per;
    int64_t capacity;
    int64_t need;        /* units per whole cart (or per ticket for one product) */
    GHashTable *used;    /* occurrence -> used (int64 boxed in pointer) */
} pool_use;

typedef struct {
    pool_use *pools;
    size_t npools;
    const char *from_key, *to_key;
    bool keys_are_dates;
} usage_load;

static db_status load_usage(db_conn *c, void *arg)
{
    usage_load *u = arg;
    for (size_t i = 0; i < u->npools; i++) {
        pool_use *p = &u->pools[i];
        db_rows *r;
        db_status st;
        if (u->keys_are_dates && strcmp(p->per, "total") != 0)
            st = db_query(c,
                          "SELECT occurrence, used FROM inventory WHERE pool_id = ? AND occurrence >= ?"
                          " AND occurrence < ?",
                          DB_ARGS(DB_TEXT(p->pool_id), DB_TEXT(u->from_key), DB_TEXT(u->to_key)), &r);
        else
            st = db_query(c, "SELECT occurrence, used FROM inventory WHERE pool_id = ?", DB_ARGS(DB_TEXT(p->pool_id)),
                          &r);
        if (st != DB_OK) return st;
        while (db_next(r))
            g_hash_table_insert(p->used, g_strdup(db_text(r, 0)), (gpointer)(intptr_t)db_int(r, 1));
        db_rows_free(r);
    }
    return DB_OK;
}

/* Adds the pools the lines draw from; need is summed per pool. */
static bo_status collect_pools(const catalog_snapshot *cs, const cart_line *lines, size_t n, pool_use **out,
                               size_t *nout, bo_error *err)
{
    pool_use *pools = NULL;
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *product = snapshot_find(cs, CAT_PRODUCT, lines[i].product_id);
        if (!product) {
            free(pools);
            return bo_fail(err, BO_INVALID, "unknown_product", "products", "no product with id %s",
                           lines[i].product_id);
        }
        size_t j;
        json_t *use;
        json_array_foreach(json_object_get(product, "pools"), j, use)
        {
            const json_t *pool = snapshot_find(cs, CAT_POOL, jstr(use, "pool_id"));
            if (!pool || !json_is_integer(json_object_get(pool, "capacity"))) continue;
            size_t k;
            for (k = 0; k < np; k++)
                if (!strcmp(pools[k].pool_id, jstr(use, "pool_id"))) break;
            if (k == np) {
                pools = realloc(pools, (np + 1) * sizeof *pools);
                pools[np] = (pool_use){jstr(pool, "id"), jstr(pool, "per") ? jstr(pool, "per") : "occurrence",
                                       jint(pool, "capacity", 0), 0,
                                       g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
                np++;
            }
            pools[k].need += jint(use, "amount", 1) * lines[i].quantity;
        }
    }
    *out = pools;
    *nout = np;
    return BO_OK;
}

static void free_pools(pool_use *pools, size_t n)
{
    for (size_t i = 0; i < n; i++) g_hash_table_destroy(pools[i].used);
    free(pools);
}

/* How many whole units (carts, or tickets for one product) fit at slot. */
static int64_t fits(const pool_use *pools, size_t np, const slot *s)
{
    int64_t best = -1;
    for (size_t i = 0; i < np; i++) {
        const char *key = strcmp(pools[i].per, "total") ? s->key : "";
        int64_t used = (int64_t)(intptr_t)g_hash_table_lookup(pools[i].used, key);
        int64_t remaining = pools[i].capacity - used;
        int64_t n = pools[i].need > 0 ? (remaining > 0 ? remaining / pools[i].need : 0) : -1;
        if (n >= 0 && (best < 0 || n < best)) best = n;
    }
    return best;
}

static bo_status compute(engine *e, const account *a, const char *category_id, const cart_line *lines, size_t nlines,
                         civil_date from, civil_date to, slot **out, size_t *n, bo_error *err)
{
    if (to < from) return bo_fail(err, BO_INVALID, "invalid_range", "date_to", "date_to is before date_from");
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    const json_t *first = snapshot_find(cs, CAT_PRODUCT, lines[0].product_id);
    if (!first) {
        catalog_release(cs);
        return bo_fail(err, BO_NOT_FOUND, "unknown_product", "product_id", "no product with id %s",
                       lines[0].product_id);
    }
    occurrence_source src;
    if (occurrence_source_for(cs, a, first, category_id, &src, err) != BO_OK) {
        catalog_release(cs);
        return err->status;
    }
    pool_use *pools = NULL;
    size_t np = 0;
    if (collect_pools(cs, lines, nlines, &pools, &np, err) != BO_OK) {
        catalog_release(cs);
        return err->status;
    }
    slot *slots;
    size_t ns = occurrence_slots(&src, first, from, to, clock_now(), &slots);
    /* every product of the cart must be open in the slot too */
    for (size_t l = 1; l < nlines; l++) {
        const json_t *p = snapshot_find(cs, CAT_PRODUCT, lines[l].product_id);
        slot *other;
        size_t no = occurrence_slots(&src, p, from, to, clock_now(), &other);
        for (size_t i = 0; i < ns && i < no; i++) slots[i].open &= other[i].open;
        free(other);
    }
    char from_key[64], to_key[64];
    occurrence_key(from, -1, from_key);
    occurrence_key(to, -1, to_key);
    usage_load u = {pools, np, from_key, to_key, src.kind == SOURCE_SCHEDULE || src.kind == SOURCE_DAYS};
    db_status st = np ? store_read(e->st, load_usage, &u) : DB_OK;
    if (st == DB_OK)
        for (size_t i = 0; i < ns; i++) slots[i].available = slots[i].open ? fits(pools, np, &slots[i]) : 0;
    free_pools(pools, np);
    catalog_release(cs);
    if (st != DB_OK) {
        free(slots);
        return bo_from_db(st, err);
    }
    *out = slots;
    *n = ns;
    return BO_OK;
}

bo_status availability_product(engine *e, const account *a, const char *product_id, const char *category_id,
                               civil_date from, civil_date to, slot **out, size_t *n, bo_error *err)
{
    cart_line one = {product_id, 1};
    return compute(e, a, category_id, &one, 1, from, to, out, n, err);
}

bo_status availability_cart(engine *e, const account *a, const char *category_id, const cart_line *lines,
                            size_t nlines, civil_date from, civil_date to, slot **out, size_t *n, bo_error *err)
{
    if (nlines == 0) return bo_fail(err, BO_INVALID, "empty_cart", "products", "at least one product is required");
    for (size_t i = 0; i < nlines; i++)
        if (lines[i].quantity <= 0)
            return bo_fail(err, BO_INVALID, "invalid_amount", "amount", "amounts must be positive");
    return compute(e, a, category_id, lines, nlines, from, to, out, n, err);
}

bo_status occurrence_resolve(engine *e, const account *a, const char *product_id, const char *category_id,
                             civil_date day, int32_t start_time, const char *occurrence_id, slot *out, bo_error *err)
{
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    const json_t *product = snapshot_find(cs, CAT_PRODUCT, product_id);
    if (!product) {
        catalog_release(cs);
        return bo_fail(err, BO_INVALID, "unknown_product", "productId", "no product with id %s", product_id);
    }
    occurrence_source src;
    if (occurrence_source_for(cs, a, product, category_id, &src, err) != BO_OK) {
        catalog_release(cs);
        return err->status;
    }
    slot *slots = NULL;
    size_t ns;
    bo_status result = BO_OK;
    if (src.kind == SOURCE_UNDATED) {
        ns = occurrence_slots(&src, product, 0, 0, clock_now(), &slots);
        *out = slots[0];
    } else if (src.kind == SOURCE_EVENT && occurrence_id) {
        ns = occurrence_slots(&src, product, -1000000, 1000000, clock_now(), &slots);
        size_t i;
        for (i = 0; i < ns && strcmp(slots[i].key, occurrence_id); i++) {}
        if (i < ns) *out = slots[i];
        else result = bo_fail(err, BO_INVALID, "unknown_occurrence", "occurrence", "no occurrence %s", occurrence_id);
    } else if (day < 0) {
        result = bo_fail(err, BO_INVALID, "date_required", "eventDate", "product %s needs a date", product_id);
    } else {
        ns = occurrence_slots(&src, product, day, day + 1, clock_now(), &slots);
        size_t i, match = ns;
        for (i = 0; i < ns; i++) {
            if (start_time < 0 && ns == 1) match = i;
            if (start_time >= 0 && slots[i].time_from == start_time) match = i;
            if (start_time < 0 && slots[i].time_from < 0) match = i;
        }
        if (match < ns) *out = slots[match];
        else if (ns == 0) result = bo_fail(err, BO_INVALID, "date_unavailable", "eventDate", "no sales on that date");
        else result = bo_fail(err, BO_INVALID, "unknown_timeslot", "startTime", "no timeslot starts at that time");
    }
    free(slots);
    catalog_release(cs);
    return result;
}
