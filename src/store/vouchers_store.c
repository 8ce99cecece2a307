/* SQL of voucher codes and counters (see vouchers_store.h). */
#include "store/vouchers_store.h"

typedef struct {
    const char *account_id, *voucher_id, *code_id;
    const store_voucher_code_new *codes;
    size_t n;
    money value;
    instant_us now;
    void (*fn)(void *ctx, const store_voucher_code_row *row);
    void *ctx;
} voucher_op;

static db_status insert_fn(db_conn *c, void *arg)
{
    voucher_op *op = arg;
    for (size_t i = 0; i < op->n; i++) {
        db_status st = db_exec(c,
                               "INSERT INTO voucher_codes (id, account_id, voucher_id, code, remaining, status,"
                               " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'available', ?, ?)",
                               DB_ARGS(DB_TEXT(op->codes[i].id), DB_TEXT(op->account_id), DB_TEXT(op->voucher_id),
                                       DB_TEXT(op->codes[i].code), DB_INT(op->value), DB_INT(op->now),
                                       DB_INT(op->now)),
                               NULL);
        if (st != DB_OK) return st;
    }
    return DB_OK;
}

store_status store_voucher_codes_insert(store *s, const char *account_id, const char *voucher_id,
                                        const store_voucher_code_new *codes, size_t n, money value, instant_us now)
{
    voucher_op op = {.account_id = account_id, .voucher_id = voucher_id, .codes = codes, .n = n, .value = value,
                     .now = now};
    return store_status_of(store_write(s, insert_fn, &op));
}

static db_status list_fn(db_conn *c, void *arg)
{
    voucher_op *op = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, code, remaining, status, created_at, updated_at FROM voucher_codes"
                            " WHERE account_id = ? AND voucher_id = ? ORDER BY created_at, id",
                            DB_ARGS(DB_TEXT(op->account_id), DB_TEXT(op->voucher_id)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        store_voucher_code_row row = {db_text(r, 0), db_text(r, 1), db_int(r, 2), db_text(r, 3), db_int(r, 4),
                                      db_int(r, 5)};
        op->fn(op->ctx, &row);
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_voucher_codes_list(store *s, const char *account_id, const char *voucher_id,
                                      void (*fn)(void *ctx, const store_voucher_code_row *row), void *ctx)
{
    voucher_op op = {.account_id = account_id, .voucher_id = voucher_id, .fn = fn, .ctx = ctx};
    return store_status_of(store_read(s, list_fn, &op));
}

static db_status void_fn(db_conn *c, void *arg)
{
    voucher_op *op = arg;
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "UPDATE voucher_codes SET status = 'voided', updated_at = ? WHERE id = ? AND voucher_id = ?"
                           " AND account_id = ? AND status <> 'voided'",
                           DB_ARGS(DB_INT(op->now), DB_TEXT(op->code_id), DB_TEXT(op->voucher_id),
                                   DB_TEXT(op->account_id)),
                           &changes);
    if (st != DB_OK) return st;
    return changes ? DB_OK : DB_NOTFOUND;
}

store_status store_voucher_code_void(store *s, const char *account_id, const char *voucher_id, const char *code_id,
                                     instant_us now)
{
    voucher_op op = {.account_id = account_id, .voucher_id = voucher_id, .code_id = code_id, .now = now};
    return store_status_of(store_write(s, void_fn, &op));
}

store_status store_voucher_code_give_back(db_conn *c, const char *account_id, const char *code, const char *order_id,
                                          money amount, instant_us now)
{
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE voucher_codes SET remaining = remaining + ?, updated_at = ?,"
                           " status = CASE WHEN status = 'used' THEN 'available' ELSE status END"
                           " WHERE account_id = ? AND code = ? AND EXISTS (SELECT 1 FROM redemptions r"
                           " WHERE r.account_id = voucher_codes.account_id AND r.object_kind = 'voucher'"
                           " AND r.code = voucher_codes.code AND r.order_id = ?)",
                           DB_ARGS(DB_INT(amount), DB_INT(now), DB_TEXT(account_id), DB_TEXT(code), DB_TEXT(order_id)),
                           &changed);
    if (st == DB_OK && changed == 1)
        st = db_exec(c,
                     "INSERT INTO redemptions (account_id, object_kind, object_id, code, order_id, amount, created_at)"
                     " SELECT account_id, 'voucher', voucher_id, code, ?, ?, ? FROM voucher_codes"
                     " WHERE account_id = ? AND code = ?",
                     DB_ARGS(DB_TEXT(order_id), DB_INT(-amount), DB_INT(now), DB_TEXT(account_id), DB_TEXT(code)),
                     NULL);
    return store_status_of(st);
}

typedef struct {
    const char *account_id, *name;
    int64_t *value;
} counter_read;

static db_status counter_fn(db_conn *c, void *arg)
{
    counter_read *x = arg;
    db_status st = db_query_int(c, "SELECT value FROM counters WHERE account_id = ? AND name = ?",
                                DB_ARGS(DB_TEXT(x->account_id), DB_TEXT(x->name)), x->value);
    return st == DB_NOTFOUND ? DB_OK : st;
}

store_status store_counter_get(store *s, const char *account_id, const char *name, int64_t *value)
{
    *value = 0;
    counter_read x = {account_id, name, value};
    return store_status_of(store_read(s, counter_fn, &x));
}
