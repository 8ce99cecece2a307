/* Voucher codes: value stored per code, spent by bookings (booking.c takes
 * what an order needs with a conditional update, so two orders cannot spend
 * the same value twice). */
#include "core/internal.h"
#include "store/vouchers_store.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    size_t n = json_array_size(codes);
    store_voucher_code_new *rows = calloc(n ? n : 1, sizeof *rows);
    char (*ids)[48] = calloc(n ? n : 1, sizeof *ids);
    json_array_foreach(codes, i, code)
    {
        rand_token("", 12, ids[i], sizeof ids[i]);
        rows[i] = (store_voucher_code_new){ids[i], json_string_value(code)};
    }
    store_status st = store_voucher_codes_insert(e->st, a->id, voucher_id, rows, n, value, clock_now());
    free(rows);
    free(ids);
    if (st == STORE_CONFLICT)
        return bo_fail(err, BO_INVALID, "duplicate_code", "codes", "a voucher code is already in use");
    return bo_from_store(st, err);
}

typedef struct {
    money value;
    json_t *out;
} code_list;

static void add_code(void *ctx, const store_voucher_code_row *row)
{
    code_list *l = ctx;
    bool touched = strcmp(row->status, "available") || row->remaining < l->value;
    json_array_append_new(l->out, json_pack("{s:s,s:s,s:I,s:I,s:s,s:o,s:I}", "id", row->id, "code", row->code, "value",
                                            (json_int_t)l->value, "remaining", (json_int_t)row->remaining, "status",
                                            row->status, "used_at",
                                            touched ? json_integer(row->updated_at) : json_null(), "created_at",
                                            (json_int_t)row->created_at));
}

bo_status voucher_codes_list(engine *e, const account *a, const char *voucher_id, json_t **out)
{
    json_t *v;
    if (catalog_get(e, a, CAT_VOUCHER, voucher_id, &v) != BO_OK) return BO_NOT_FOUND;
    code_list l = {jint(v, "value", 0), json_array()};
    json_decref(v);
    if (store_voucher_codes_list(e->st, a->id, voucher_id, add_code, &l) != STORE_OK) {
        json_decref(l.out);
        return BO_INTERNAL;
    }
    *out = l.out;
    return BO_OK;
}

bo_status voucher_code_void(engine *e, const account *a, const char *voucher_id, const char *code_id, bo_error *err)
{
    store_status st = store_voucher_code_void(e->st, a->id, voucher_id, code_id, clock_now());
    if (st == STORE_NOT_FOUND)
        return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such voucher code, or already void");
    return bo_from_store(st, err);
}
