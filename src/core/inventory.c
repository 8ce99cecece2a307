/* Capacity accounting: which seats of which pools a cart takes. The counting
 * itself (conditional updates backed by a CHECK constraint) lives in the
 * store, src/store/sales.c. */
#include "core/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hold_cmp(const void *x, const void *y)
{
    const store_hold *a = x, *b = y;
    int c = strcmp(a->pool_id, b->pool_id);
    return c ? c : strcmp(a->occurrence, b->occurrence);
}

int pool_needs_for(const catalog_model *m, const char *occurrence, const cart_line *lines, size_t n,
                   store_hold **out, bo_error *err)
{
    store_hold *holds = NULL;
    size_t count = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        const cat_product *product = model_product(m, lines[i].product_id);
        if (!product) {
            free(holds);
            bo_fail(err, BO_INVALID, "unknown_product", "product_id", "no product with id %s", lines[i].product_id);
            return -1;
        }
        for (size_t j = 0; j < product->npools; j++) {
            const cat_pool_use *use = &product->pools[j];
            const char *occ = pool_occurrence(use->pool, occurrence);
            size_t k;
            for (k = 0; k < count; k++)
                if (!strcmp(holds[k].pool_id, use->pool->id) && !strcmp(holds[k].occurrence, occ)) break;
            if (k == count) {
                if (count == cap) {
                    cap = cap ? cap * 2 : 4;
                    holds = realloc(holds, cap * sizeof *holds);
                }
                memset(&holds[count], 0, sizeof holds[count]);
                snprintf(holds[count].pool_id, sizeof holds[count].pool_id, "%s", use->pool->id);
                snprintf(holds[count].occurrence, sizeof holds[count].occurrence, "%s", occ);
                holds[count].capacity = use->pool->capacity;
                count++;
            }
            holds[k].amount += use->amount * lines[i].quantity;
        }
    }
    if (count > 1) qsort(holds, count, sizeof *holds, hold_cmp);
    *out = holds;
    return (int)count;
}

int discount_use_hold(const catalog_model *m, const char *code, store_hold **holds, int n, bo_error *err)
{
    const cat_discount *d = model_discount_by_code(m, code);
    if (!d || (d->expires_at && d->expires_at <= clock_now())) {
        free(*holds);
        *holds = NULL;
        bo_fail(err, BO_INVALID, d ? "discount_expired" : "unknown_discount_code", "discount_code",
                d ? "the discount code has expired" : "no such discount code");
        return -1;
    }
    if (d->max_redemptions < 0) return n;
    store_hold *grown = realloc(*holds, (size_t)(n + 1) * sizeof *grown);
    if (!grown) {
        bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
        return -1;
    }
    memset(&grown[n], 0, sizeof grown[n]);
    snprintf(grown[n].pool_id, sizeof grown[n].pool_id, "%s%s", DISCOUNT_USE_POOL_PREFIX, d->id);
    grown[n].amount = 1;
    grown[n].capacity = d->max_redemptions;
    qsort(grown, (size_t)n + 1, sizeof *grown, hold_cmp);
    *holds = grown;
    return n + 1;
}

/* ---------- inventory versions: what a cached read of the inventory depends on ---------- */

#define ANY_DAY INT64_MIN
#define NO_DAY (INT64_MIN + 1)

static size_t version_slot(const char *account_id, int64_t day)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = account_id; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h ^= (uint64_t)day * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    return (size_t)(h & (INVENTORY_VERSION_SLOTS - 1));
}

civil_date occurrence_day(const char *occurrence)
{
    size_t n = strlen(occurrence);
    if (n != 10 && !(n == 16 && occurrence[10] == 'T')) return -1;
    char d[11];
    memcpy(d, occurrence, 10);
    d[10] = 0;
    civil_date day;
    return date_parse(d, &day) ? day : -1;
}

void inventory_changed(void *arg, const char *account_id, const char *occurrence)
{
    engine *e = arg;
    civil_date day = occurrence_day(occurrence);
    atomic_fetch_add(&e->inventory_versions[version_slot(account_id, day >= 0 ? day : NO_DAY)], 1);
    atomic_fetch_add(&e->inventory_versions[version_slot(account_id, ANY_DAY)], 1);
    pricing_inventory_changed(e, account_id);
}

uint64_t inventory_day_version(engine *e, const char *account_id, civil_date day)
{
    return atomic_load(&e->inventory_versions[version_slot(account_id, day >= 0 ? day : ANY_DAY)]);
}

uint64_t inventory_version(engine *e, const char *account_id, civil_date from, civil_date to)
{
    if (from < 0 || from > to || to - from > INVENTORY_VERSION_SLOTS)
        return atomic_load(&e->inventory_versions[version_slot(account_id, ANY_DAY)]);
    /* a sum of counters that only grow changes whenever one of them does */
    uint64_t v = atomic_load(&e->inventory_versions[version_slot(account_id, NO_DAY)]);
    for (civil_date d = from; d < to; d++) v += atomic_load(&e->inventory_versions[version_slot(account_id, d)]);
    return v;
}

typedef struct {
    const char *occurrence;
    int64_t used;
} used_ctx;

static void add_used_of(void *ctx, const char *occurrence, int64_t used)
{
    used_ctx *x = ctx;
    if (!strcmp(occurrence, x->occurrence)) x->used += used;
}

bo_status pool_seats_sold(engine *e, const account *a, const char *pool_id, const char *occurrence, int64_t *sold)
{
    used_ctx x = {occurrence, 0};
    int64_t held = 0;
    *sold = 0;
    if (store_inventory_used(e->st, a->id, pool_id, NULL, NULL, add_used_of, &x) != STORE_OK ||
        store_open_carts_held(e->st, a->id, pool_id, occurrence, &held) != STORE_OK)
        return BO_INTERNAL;
    *sold = x.used > held ? x.used - held : 0;
    return BO_OK;
}
