/* Discounts: what a code takes off an order line and how that is spread over
 * the line's tickets, and its use, counted by the booking transaction that
 * redeems it (the counter also enforces max_redemptions there). */
#include "core/internal.h"
#include "store/vouchers_store.h"
#include <stdio.h>

money discount_line_total(const cat_discount *d, money unit, int64_t quantity)
{
    money line = unit * quantity;
    /* A percentage is rounded once for the whole line, so the order's discount
     * is within a cent of the percentage of what it discounts; rounding each
     * ticket's share would lose it (15% of 999 tickets at 0.01 is 1.50, not 0). */
    money off = d->type == DISCOUNT_PERCENTAGE ? money_percent(line, d->percent_bp)
                                               : (d->amount < unit ? d->amount : unit) * quantity;
    return off > line ? line : off;
}

money discount_line_fee_total(const cat_discount *d, money fee, int64_t quantity)
{
    money fees = fee * quantity;
    money off = d->booking_fee_percent_bp ? money_percent(fees, d->booking_fee_percent_bp)
                                          : (d->booking_fee_amount < fee ? d->booking_fee_amount : fee) * quantity;
    return off > fees ? fees : off < 0 ? 0 : off;
}

bo_status discount_times_redeemed(engine *e, const account *a, const char *discount_id, int64_t *count)
{
    char name[80];
    snprintf(name, sizeof name, "discount:%s", discount_id);
    return store_counter_get(e->st, a->id, name, count) == STORE_OK ? BO_OK : BO_INTERNAL;
}

static void add_used(void *ctx, const char *occurrence, int64_t used)
{
    (void)occurrence;
    *(int64_t *)ctx += used;
}

bo_status discount_uses_held(engine *e, const account *a, const char *discount_id, int64_t *held)
{
    char pool[64];
    snprintf(pool, sizeof pool, "%s%s", DISCOUNT_USE_POOL_PREFIX, discount_id);
    *held = 0;
    return store_inventory_used(e->st, a->id, pool, NULL, NULL, add_used, held) == STORE_OK ? BO_OK : BO_INTERNAL;
}
