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
