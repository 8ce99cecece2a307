/* Price tiers, supplements and warranty (docs/MODEL.md, "Price tiers"): the
 * active tier rule, the fees, and the tiers' counts in the database. */
#include "core/internal.h"
#include "store/price_tiers_store.h"
#include <stdlib.h>

int price_tier_active(const cat_product *p, instant_us now, const int64_t *used)
{
    for (size_t i = 0; i < p->ntiers; i++) {
        const cat_price_tier *t = &p->tiers[i];
        if (t->valid_until && now >= t->valid_until) continue;
        if (t->quantity && used && used[i] >= t->quantity) continue;
        return (int)i;
    }
    return -1;
}

money price_tier_fee(const cat_price_tier *t)
{
    return t->fee_percent_bp >= 0 ? money_percent(t->price, t->fee_percent_bp) : t->fee_amount;
}

money warranty_price(const cat_warranty *w, money price) { return w->enabled ? money_percent(price, w->percent_bp) : 0; }

bo_status price_tier_usage(engine *e, const account *a, const cat_product *p, const char *occurrence, int64_t *used)
{
    if (!p->ntiers) return BO_OK;
    const char **ids = calloc(p->ntiers, sizeof *ids);
    if (!ids) return BO_INTERNAL;
    for (size_t i = 0; i < p->ntiers; i++) ids[i] = p->tiers[i].id;
    store_status st = store_price_tier_usage(e->st, a->id, p->id, occurrence ? occurrence : "", ids, p->ntiers, used);
    free(ids);
    return st == STORE_OK ? BO_OK : st == STORE_FULL ? BO_UNAVAILABLE : BO_INTERNAL;
}

typedef struct {
    const char *account_id, *product_id, *occurrence;
    const cat_price_tier *tier;
    int64_t n;
    bool give_back;
    store_status outcome;
} tier_change;

static db_status tier_change_fn(db_conn *c, void *arg)
{
    tier_change *t = arg;
    t->outcome = t->give_back ? store_price_tier_give_back(c, t->account_id, t->product_id, t->occurrence, t->tier->id,
                                                           t->n)
                              : store_price_tier_take(c, t->account_id, t->product_id, t->occurrence, t->tier->id,
                                                      t->tier->quantity, t->n);
    /* sold out changes nothing: the transaction commits empty */
    return t->outcome == STORE_OK || t->outcome == STORE_SOLD_OUT ? DB_OK : DB_ERROR;
}

static bo_status tier_change_run(engine *e, const account *a, const cat_product *p, const char *occurrence,
                                 const cat_price_tier *t, int64_t n, bool give_back, bo_error *err)
{
    if (n <= 0) return bo_fail(err, BO_INVALID, "invalid_amount", "quantity", "the number of tickets must be positive");
    tier_change ch = {a->id, p->id, occurrence ? occurrence : "", t, n, give_back, STORE_ERROR};
    db_status st = store_write(e->st, tier_change_fn, &ch);
    if (st == DB_FULL) return bo_fail(err, BO_UNAVAILABLE, "unavailable", "", "the database has no room");
    if (st != DB_OK) return bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure");
    if (ch.outcome == STORE_SOLD_OUT)
        return bo_fail(err, BO_SOLD_OUT, "tier_sold_out", "price_tier_id", "price tier %s is sold out", t->id);
    return BO_OK;
}

bo_status price_tier_take(engine *e, const account *a, const cat_product *p, const char *occurrence,
                          const cat_price_tier *t, int64_t n, bo_error *err)
{
    return tier_change_run(e, a, p, occurrence, t, n, false, err);
}

bo_status price_tier_give_back(engine *e, const account *a, const cat_product *p, const char *occurrence,
                               const cat_price_tier *t, int64_t n, bo_error *err)
{
    return tier_change_run(e, a, p, occurrence, t, n, true, err);
}
