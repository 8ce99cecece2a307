/* Discount use, counted by the booking transaction that redeems it (the
 * counter also enforces max_redemptions there). */
#include "core/internal.h"
#include "store/vouchers_store.h"
#include <stdio.h>

bo_status discount_times_redeemed(engine *e, const account *a, const char *discount_id, int64_t *count)
{
    char name[80];
    snprintf(name, sizeof name, "discount:%s", discount_id);
    return store_counter_get(e->st, a->id, name, count) == STORE_OK ? BO_OK : BO_INTERNAL;
}
