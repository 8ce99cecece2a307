/* Capacity accounting. A row per (pool, occurrence) counts used = held + sold
 * against capacity; every change is a conditional update, and a CHECK
 * constraint backs it, so no interleaving of server processes can oversell. */
#include "core/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int need_cmp(const void *x, const void *y)
{
    const pool_need *a = x, *b = y;
    int c = strcmp(a->pool_id, b->pool_id);
    return c ? c : strcmp(a->occurrence, b->occurrence);
}

int pool_needs_for(const catalog_snapshot *cs, const char *occurrence, const cart_line *lines, size_t n,
                   pool_need **out, bo_error *err)
{
    pool_need *needs = NULL;
    size_t count = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *product = snapshot_find(cs, CAT_PRODUCT, lines[i].product_id);
        if (!product) {
            free(needs);
            bo_fail(err, BO_INVALID, "unknown_product", "productId", "no product with id %s", lines[i].product_id);
            return -1;
        }
        size_t j;
        json_t *use;
        json_array_foreach(json_object_get(product, "pools"), j, use)
        {
            const json_t *pool = snapshot_find(cs, CAT_POOL, jstr(use, "pool_id"));
            if (!pool || !json_is_integer(json_object_get(pool, "capacity"))) continue; /* unlimited */
            const char *per = jstr(pool, "per");
            const char *occ = per && !strcmp(per, "total") ? "" : occurrence;
            int64_t amount = jint(use, "amount", 1) * lines[i].quantity;
            size_t k;
            for (k = 0; k < count; k++)
                if (!strcmp(needs[k].pool_id, jstr(use, "pool_id")) && !strcmp(needs[k].occurrence, occ)) break;
            if (k == count) {
                if (count == cap) {
                    cap = cap ? cap * 2 : 4;
                    needs = realloc(needs, cap * sizeof *needs);
                }
                memset(&needs[count], 0, sizeof needs[count]);
                snprintf(needs[count].pool_id, sizeof needs[count].pool_id, "%s", jstr(use, "pool_id"));
                snprintf(needs[count].occurrence, sizeof needs[count].occurrence, "%s", occ);
                needs[count].capacity = jint(pool, "capacity", 0);
                count++;
            }
            needs[k].amount += amount;
        }
    }
    /* a fixed lock order across transactions keeps PostgreSQL free of deadlocks */
    if (count > 1) qsort(needs, count, sizeof *needs, need_cmp);
    *out = needs;
    return (int)count;
}

db_status inventory_take(db_conn *c, const char *account_id, const pool_need *needs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (needs[i].amount <= 0) continue;
        int64_t changes = 0;
        db_status st;
        if (needs[i].capacity < 0) {
            /* re-taking a recorded hold: its row exists, capacity is the row's */
            st = db_exec(c,
                         "UPDATE inventory SET used = used + ? WHERE pool_id = ? AND occurrence = ?"
                         " AND used + ? <= capacity",
                         DB_ARGS(DB_INT(needs[i].amount), DB_TEXT(needs[i].pool_id), DB_TEXT(needs[i].occurrence),
                                 DB_INT(needs[i].amount)),
                         &changes);
            if (st != DB_OK) return st;
            if (changes == 0) return DB_ABORT;
            continue;
        }
        /* one round trip: create the row on first use, else add if it fits */
        st = db_exec(c,
                               "INSERT INTO inventory (pool_id, occurrence, account_id, capacity, used)"
                               " VALUES (?, ?, ?, ?, ?)"
                               " ON CONFLICT (pool_id, occurrence) DO UPDATE SET used = inventory.used + excluded.used"
                               " WHERE inventory.used + excluded.used <= inventory.capacity",
                               DB_ARGS(DB_TEXT(needs[i].pool_id), DB_TEXT(needs[i].occurrence), DB_TEXT(account_id),
                                       DB_INT(needs[i].capacity), DB_INT(needs[i].amount)),
                               &changes);
        if (st == DB_CONFLICT) return DB_ABORT; /* CHECK: a first hold larger than capacity */
        if (st != DB_OK) return st;
        if (changes == 0) return DB_ABORT;
    }
    return DB_OK;
}

db_status inventory_give_back(db_conn *c, const pool_need *needs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        db_status st = db_exec(c, "UPDATE inventory SET used = used - ? WHERE pool_id = ? AND occurrence = ?",
                               DB_ARGS(DB_INT(needs[i].amount), DB_TEXT(needs[i].pool_id),
                                       DB_TEXT(needs[i].occurrence)),
                               NULL);
        if (st != DB_OK) return st;
    }
    return DB_OK;
}

db_status inventory_remaining(db_conn *c, const char *pool_id, const char *occurrence, int64_t capacity,
                              int64_t *remaining)
{
    int64_t used = 0;
    db_status st = db_query_int(c, "SELECT used FROM inventory WHERE pool_id = ? AND occurrence = ?",
                                DB_ARGS(DB_TEXT(pool_id), DB_TEXT(occurrence)), &used);
    if (st == DB_NOTFOUND) st = DB_OK;
    *remaining = capacity - used;
    if (*remaining < 0) *remaining = 0;
    return st;
}
