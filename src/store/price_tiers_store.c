/* Price tier counts: the SQL of store/price_tiers_store.h. */
#include "store/price_tiers_store.h"
#include "store/db.h"
#include <string.h>

store_status store_price_tier_take(db_conn *c, const char *account_id, const char *product_id, const char *occurrence,
                                   const char *tier_id, int64_t quantity, int64_t n)
{
    int64_t changes = 0;
    /* one round trip: the row is made on first use, else added to when it fits */
    db_status st = db_exec(c,
                           "INSERT INTO price_tier_sales (account_id, product_id, occurrence, tier_id, quantity, used)"
                           " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, product_id, occurrence, tier_id)"
                           " DO UPDATE SET used = price_tier_sales.used + excluded.used, quantity = excluded.quantity"
                           " WHERE excluded.quantity = 0 OR price_tier_sales.used + excluded.used <= excluded.quantity",
                           DB_ARGS(DB_TEXT(account_id), DB_TEXT(product_id), DB_TEXT(occurrence), DB_TEXT(tier_id),
                                   DB_INT(quantity), DB_INT(n)),
                           &changes);
    if (st == DB_CONFLICT) return STORE_SOLD_OUT; /* CHECK: a first take larger than the tier */
    if (st != DB_OK) return store_status_of(st);
    /* the active tier is what rates show: cached replies of the occurrence must see the change */
    if (changes) store_inventory_touched(c, account_id, occurrence);
    return changes ? STORE_OK : STORE_SOLD_OUT;
}

store_status store_price_tier_retake(db_conn *c, const char *account_id, const char *product_id,
                                     const char *occurrence, const char *tier_id, int64_t n)
{
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "UPDATE price_tier_sales SET used = used + ? WHERE account_id = ? AND product_id = ?"
                           " AND occurrence = ? AND tier_id = ? AND (quantity = 0 OR used + ? <= quantity)",
                           DB_ARGS(DB_INT(n), DB_TEXT(account_id), DB_TEXT(product_id), DB_TEXT(occurrence),
                                   DB_TEXT(tier_id), DB_INT(n)),
                           &changes);
    if (st == DB_CONFLICT) return STORE_SOLD_OUT;
    if (st != DB_OK) return store_status_of(st);
    if (changes) store_inventory_touched(c, account_id, occurrence);
    return changes ? STORE_OK : STORE_SOLD_OUT;
}

store_status store_price_tier_give_back(db_conn *c, const char *account_id, const char *product_id,
                                        const char *occurrence, const char *tier_id, int64_t n)
{
    db_status st = db_exec(c,
                           "UPDATE price_tier_sales SET used = CASE WHEN used > ? THEN used - ? ELSE 0 END"
                           " WHERE account_id = ? AND product_id = ? AND occurrence = ? AND tier_id = ?",
                           DB_ARGS(DB_INT(n), DB_INT(n), DB_TEXT(account_id), DB_TEXT(product_id), DB_TEXT(occurrence),
                                   DB_TEXT(tier_id)),
                           NULL);
    if (st == DB_OK) store_inventory_touched(c, account_id, occurrence);
    return store_status_of(st);
}

typedef struct {
    const char *account_id, *product_id, *occurrence;
    const char *const *tier_ids;
    size_t n;
    int64_t *used;
} usage_read;

static db_status usage_fn(db_conn *c, void *arg)
{
    usage_read *u = arg;
    memset(u->used, 0, u->n * sizeof *u->used);
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT tier_id, used FROM price_tier_sales WHERE account_id = ? AND product_id = ?"
                            " AND occurrence = ?",
                            DB_ARGS(DB_TEXT(u->account_id), DB_TEXT(u->product_id), DB_TEXT(u->occurrence)), &r);
    if (st != DB_OK) return st;
    while (db_next(r))
        for (size_t i = 0; i < u->n; i++)
            if (!strcmp(u->tier_ids[i], db_text(r, 0))) u->used[i] = db_int(r, 1);
    db_rows_free(r);
    return DB_OK;
}

store_status store_price_tier_usage(store *s, const char *account_id, const char *product_id, const char *occurrence,
                                    const char *const *tier_ids, size_t n, int64_t *used)
{
    usage_read u = {account_id, product_id, occurrence, tier_ids, n, used};
    return store_status_of(store_read(s, usage_fn, &u));
}
