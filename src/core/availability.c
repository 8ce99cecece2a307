/* Availability: slots from the schedule, counts from the inventory rows. One
 * range query per pool keeps a 30-day calendar to a handful of queries. */
#include "core/schedule.h"
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const cat_pool *pool;
    int64_t need;        /* units per whole cart (or per ticket for one product) */
    GHashTable *used;    /* occurrence -> used (int64 boxed in pointer) */
} pool_use;

static void remember_used(void *ctx, const char *occurrence, int64_t used)
{
    g_hash_table_insert(ctx, g_strdup(occurrence), (gpointer)(intptr_t)used);
}

/* Reads the counts of each pool, from memory where current (core/usage_memory.c). */
static store_status load_usage(engine *e, const account *a, pool_use *pools, size_t np, civil_date from, civil_date to,
                               bool keys_are_dates)
{
    for (size_t i = 0; i < np; i++) {
        bool ranged = keys_are_dates && pool_counts_per_occurrence(pools[i].pool);
        store_status st = usage_read(e, a->id, pools[i].pool->id, ranged, from, to, remember_used, pools[i].used);
        if (st != STORE_OK) return st;
    }
    return STORE_OK;
}

/* Adds the pools the lines draw from; need is summed per pool. */
static bo_status collect_pools(const catalog_model *m, const cart_line *lines, size_t n, pool_use **out,
                               size_t *nout, bo_error *err)
{
    pool_use *pools = NULL;
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        const cat_product *product = model_product(m, lines[i].product_id);
        if (!product) {
            free(pools);
            return bo_fail(err, BO_INVALID, "unknown_product", "products", "no product with id %s",
                           lines[i].product_id);
        }
        for (size_t j = 0; j < product->npools; j++) {
            const cat_pool_use *use = &product->pools[j];
            size_t k;
            for (k = 0; k < np && pools[k].pool != use->pool; k++) {}
            if (k == np) {
                pools = realloc(pools, (np + 1) * sizeof *pools);
                pools[np++] = (pool_use){use->pool, 0, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
            }
            pools[k].need += use->amount * lines[i].quantity;
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
        const char *key = pool_occurrence(pools[i].pool, s->key);
        int64_t used = (int64_t)(intptr_t)g_hash_table_lookup(pools[i].used, key);
        int64_t remaining = pools[i].pool->capacity - used;
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
    const cat_product *first = model_product(cs->model, lines[0].product_id);
    if (!first) {
        catalog_release(cs);
        return bo_fail(err, BO_NOT_FOUND, "unknown_product", "products", "no product with id %s",
                       lines[0].product_id);
    }
    occurrence_source src;
    if (occurrence_source_for(cs->model, a, first, category_id, &src, err) != BO_OK) {
        catalog_release(cs);
        return err->status;
    }
    pool_use *pools = NULL;
    size_t np = 0;
    if (collect_pools(cs->model, lines, nlines, &pools, &np, err) != BO_OK) {
        catalog_release(cs);
        return err->status;
    }
    slot *slots;
    instant_us now = clock_now();
    size_t ns = occurrence_slots(&src, first, from, to, now, AVAILABILITY_MAX_SLOTS, &slots);
    if (ns > AVAILABILITY_MAX_SLOTS) {
        free(slots);
        free_pools(pools, np);
        catalog_release(cs);
        return bo_fail(err, BO_INVALID, "too_many_slots", "date_to",
                       "the dates hold more than %d timeslots of this product; ask for fewer days",
                       AVAILABILITY_MAX_SLOTS);
    }
    /* Every product of the cart must be open in the slot too. The slots are the
     * source's, the same for every product; only the products' own windows
     * differ, so those are checked on the first product's slots rather than
     * building each product's (a 50-line cart would build them 50 times). */
    civil_date today;
    int32_t now_secs;
    tz_instant_to_local(src.timezone, now, &today, &now_secs);
    for (size_t l = 1; l < nlines; l++) {
        const cat_product *other = model_product(cs->model, lines[l].product_id);
        for (size_t i = 0; i < ns; i++)
            slots[i].open &= product_open_on(other, slots[i].day >= 0 ? slots[i].day : today, today);
    }
    store_status st = load_usage(e, a, pools, np, from, to,
                                 src.kind == SOURCE_SCHEDULE || src.kind == SOURCE_DAYS);
    if (st == STORE_OK)
        for (size_t i = 0; i < ns; i++) slots[i].available = slots[i].open ? fits(pools, np, &slots[i]) : 0;
    free_pools(pools, np);
    catalog_release(cs);
    if (st != STORE_OK) {
        free(slots);
        return bo_from_store(st, err);
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
            return bo_fail(err, BO_INVALID, "invalid_amount", "quantity", "amounts must be positive");
    return compute(e, a, category_id, lines, nlines, from, to, out, n, err);
}

bo_status occurrence_resolve_in(const catalog_model *m, const account *a, const cat_product *product,
                                const char *category_id, civil_date day, int32_t start_time, const char *occurrence_id,
                                slot *out, bo_error *err)
{
    occurrence_source src;
    if (occurrence_source_for(m, a, product, category_id, &src, err) != BO_OK) return err->status;
    slot *slots = NULL;
    size_t ns;
    bo_status result = BO_OK;
    instant_us now = clock_now();
    if (src.kind == SOURCE_UNDATED) {
        ns = occurrence_slots(&src, product, 0, 0, now, 1, &slots);
        *out = slots[0];
    } else if (src.kind == SOURCE_EVENT && occurrence_id) {
        ns = occurrence_slots(&src, product, -1000000, 1000000, now, SIZE_MAX, &slots);
        size_t i;
        for (i = 0; i < ns && strcmp(slots[i].key, occurrence_id); i++) {}
        if (i < ns) *out = slots[i];
        else result = bo_fail(err, BO_INVALID, "unknown_occurrence", "occurrence_id", "no occurrence %s", occurrence_id);
    } else if (day < 0) {
        result = bo_fail(err, BO_INVALID, "date_required", "date", "product %s needs a date", product->id);
    } else {
        ns = occurrence_slots(&src, product, day, day + 1, now, SIZE_MAX, &slots);
        size_t i, match = ns;
        for (i = 0; i < ns; i++) {
            if (start_time < 0 && ns == 1) match = i;
            if (start_time >= 0 && slots[i].time_from == start_time) match = i;
            if (start_time < 0 && slots[i].time_from < 0) match = i;
        }
        if (match < ns) *out = slots[match];
        else if (ns == 0) result = bo_fail(err, BO_INVALID, "date_unavailable", "date", "no sales on that date");
        else result = bo_fail(err, BO_INVALID, "unknown_timeslot", "start_time", "no timeslot starts at that time");
    }
    free(slots);
    return result;
}

bo_status occurrence_resolve(engine *e, const account *a, const char *product_id, const char *category_id,
                             civil_date day, int32_t start_time, const char *occurrence_id, slot *out, bo_error *err)
{
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    const cat_product *product = model_product(cs->model, product_id);
    bo_status result = product ? occurrence_resolve_in(cs->model, a, product, category_id, day, start_time,
                                                       occurrence_id, out, err)
                               : bo_fail(err, BO_INVALID, "unknown_product", "product_id", "no product with id %s",
                                         product_id);
    catalog_release(cs);
    return result;
}
