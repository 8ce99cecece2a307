/* Discount use, counted by the booking transaction that redeems it (the
 * counter also enforces max_redemptions there). */
#include "core/internal.h"
#include <stdio.h>

typedef struct {
    const account *a;
    const char *id;
    int64_t count;
} redeemed_ctx;

static db_status read_count(db_conn *c, void *arg)
{
    redeemed_ctx *x = arg;
    char name[80];
    snprintf(name, sizeof name, "discount:%s", x->id);
    db_status st = db_query_int(c, "SELECT value FROM counters WHERE account_id = ? AND name = ?",
                                DB_ARGS(DB_TEXT(x->a->id), DB_TEXT(name)), &x->count);
    return st == DB_NOTFOUND ? DB_OK : st;
}

bo_status discount_times_redeemed(engine *e, const account *a, const char *discount_id, int64_t *count)
{
    redeemed_ctx x = {a, discount_id, 0};
    if (store_read(e->st, read_count, &x) != DB_OK) return BO_INTERNAL;
    *count = x.count;
    return BO_OK;
}
