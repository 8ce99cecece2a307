/* Tickets sold per price tier (docs/MODEL.md, "Price tiers"): one row per
 * (account, product, occurrence, tier), taken with a conditional update like
 * capacity pools, a CHECK behind it, so a tier of 100 sells exactly 100
 * under any concurrency. */
#ifndef BO_STORE_PRICE_TIERS_H
#define BO_STORE_PRICE_TIERS_H
#include "store/store.h"

/* Adds n to the tier's count when it stays within quantity (0: unlimited),
 * as a step of an open transaction. STORE_SOLD_OUT (nothing changed) when it
 * would not. */
store_status store_price_tier_take(db_conn *c, const char *account_id, const char *product_id, const char *occurrence,
                                   const char *tier_id, int64_t quantity, int64_t n);
/* Takes n places again at the count's own recorded quantity (a late payment
 * re-holding tickets whose places were given back at the deadline), as a step
 * of an open transaction. STORE_SOLD_OUT (nothing changed) when they no longer fit. */
store_status store_price_tier_retake(db_conn *c, const char *account_id, const char *product_id,
                                     const char *occurrence, const char *tier_id, int64_t n);
/* Gives n back (a released hold, a void); never below 0. A step of an open transaction. */
store_status store_price_tier_give_back(db_conn *c, const char *account_id, const char *product_id,
                                        const char *occurrence, const char *tier_id, int64_t n);
/* The counts of the tiers named in tier_ids (n of them) into used[] (0 for a
 * tier with no row), read in one snapshot. */
store_status store_price_tier_usage(store *s, const char *account_id, const char *product_id, const char *occurrence,
                                    const char *const *tier_ids, size_t n, int64_t *used);
#endif
