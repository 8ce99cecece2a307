/* Voucher codes: value stored per code, spent by bookings (booking.c takes
 * what an order needs with a conditional update, so two orders cannot spend
 * the same value twice). */
#include "core/internal.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const account *a;
    const char *voucher_id, *code_id;
    json_t *codes, *out;
    money value;
    int64_t changes;
    bool duplicate;
} voucher_ctx;

static db_status add_codes(db_conn *c, void *arg)
{
    voucher_ctx *x = arg;
    instant_us now = clock_now();
    size_t i;
    json_t *code;
    json_array_foreach(x->codes, i, code)
    {
        char id[48];
        rand_token("", 12, id, sizeof id);
        db_status st = db_exec(c,
                               "INSERT INTO voucher_codes (id, account_id, voucher_id, code, remaining, status,"
                               " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'available', ?, ?)",
                               DB_ARGS(DB_TEXT(id), DB_TEXT(x->a->id), DB_TEXT(x->voucher_id),
                                       DB_TEXT(json_string_value(code)), DB_INT(x->value), DB_INT(now), DB_INT(now)),
                               NULL);
        if (st == DB_CONFLICT) x->duplicate = true;
        if (st != DB_OK) return st == DB_CONFLICT ? DB_ABORT : st;
    }
    return DB_OK;
}

bo_status voucher_codes_add(engine *e, const account *a, const char *voucher_id, json_t *codes, bo_error *err)
{
    json_t *v;
    if (catalog_get(e, a, CAT_VOUCHER, voucher_id, &v) != BO_OK)
        return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such voucher");
    money value = jint(v, "value", 0);
    json_decref(v);
    if (!json_is_array(codes)) return bo_fail(err, BO_INVALID, "invalid_codes", "codes", "codes must be a list");
    size_t i;
    json_t *code;
    json_array_foreach(codes, i, code)
    {
        const char *s = json_string_value(code);
        if (!s || !*s || strlen(s) > 64)
            return bo_fail(err, BO_INVALID, "invalid_codes", "codes", "codes are strings of 1 to 64 characters");
    }
    voucher_ctx x = {.a = a, .voucher_id = voucher_id, .codes = codes, .value = value};
    db_status st = store_write(e->st, add_codes, &x);
    if (x.duplicate) return bo_fail(err, BO_INVALID, "duplicate_code", "codes", "a voucher code is already in use");
    return bo_from_db(st, err);
}

static db_status list_codes(db_conn *c, void *arg)
{
    voucher_ctx *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, code, remaining, status, created_at, updated_at FROM voucher_codes"
                            " WHERE account_id = ? AND voucher_id = ? ORDER BY created_at, id",
                            DB_ARGS(DB_TEXT(x->a->id), DB_TEXT(x->voucher_id)), &r);
    if (st != DB_OK) return st;
    x->out = json_array();
    while (db_next(r)) {
        const char *status = db_text(r, 3);
        bool touched = strcmp(status, "available") || db_int(r, 2) < x->value;
        json_array_append_new(x->out, json_pack("{s:s,s:s,s:I,s:I,s:s,s:o,s:I}", "id", db_text(r, 0), "code",
                                                db_text(r, 1), "value", (json_int_t)x->value, "remaining",
                                                (json_int_t)db_int(r, 2), "status", status, "used_at",
                                                touched ? json_integer(db_int(r, 5)) : json_null(), "created_at",
                                                (json_int_t)db_int(r, 4)));
    }
    db_rows_free(r);
    return DB_OK;
}

bo_status voucher_codes_list(engine *e, const account *a, const char *voucher_id, json_t **out)
{
    json_t *v;
    if (catalog_get(e, a, CAT_VOUCHER, voucher_id, &v) != BO_OK) return BO_NOT_FOUND;
    voucher_ctx x = {.a = a, .voucher_id = voucher_id, .value = jint(v, "value", 0)};
    json_decref(v);
    if (store_read(e->st, list_codes, &x) != DB_OK) return BO_INTERNAL;
    *out = x.out;
    return BO_OK;
}

static db_status void_code(db_conn *c, void *arg)
{
    voucher_ctx *x = arg;
    return db_exec(c,
                   "UPDATE voucher_codes SET status = 'voided', updated_at = ? WHERE id = ? AND voucher_id = ?"
                   " AND account_id = ? AND status <> 'voided'",
                   DB_ARGS(DB_INT(clock_now()), DB_TEXT(x->code_id), DB_TEXT(x->voucher_id), DB_TEXT(x->a->id)),
                   &x->changes);
}

bo_status voucher_code_void(engine *e, const account *a, const char *voucher_id, const char *code_id, bo_error *err)
{
    voucher_ctx x = {.a = a, .voucher_id = voucher_id, .code_id = code_id};
    db_status st = store_write(e->st, void_code, &x);
    if (st != DB_OK) return bo_from_db(st, err);
    return x.changes ? BO_OK : bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such voucher code, or already void");
}
