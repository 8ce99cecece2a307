/* Voucher codes: value stored per code, spent by bookings (booking.c takes
 * what an order needs with a conditional update, so two orders cannot spend
 * the same value twice). */
#include "core/internal.h"
#include "store/vouchers_store.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The voucher's value, from the current catalog: BO_NOT_FOUND when there is no such voucher. */
static bo_status voucher_value(engine *e, const account *a, const char *voucher_id, money *value)
{
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return BO_INTERNAL;
    const cat_voucher *v = model_voucher(cs->model, voucher_id);
    if (v) *value = v->value;
    catalog_release(cs);
    return v ? BO_OK : BO_NOT_FOUND;
}

bo_status voucher_codes_add(engine *e, const account *a, const char *voucher_id, const char *const *codes, size_t n,
                            bo_error *err)
{
    money value = 0;
    bo_status found = voucher_value(e, a, voucher_id, &value);
    if (found == BO_NOT_FOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such voucher");
    if (found != BO_OK) return bo_fail(err, found, "internal_error", "", "catalog unavailable");
    for (size_t i = 0; i < n; i++)
        if (!codes[i] || !*codes[i] || strlen(codes[i]) > 64)
            return bo_fail(err, BO_INVALID, "invalid_codes", "codes", "codes are strings of 1 to 64 characters");
    store_voucher_code_new *rows = calloc(n ? n : 1, sizeof *rows);
    char (*ids)[48] = calloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        rand_token("", 12, ids[i], sizeof ids[i]);
        rows[i] = (store_voucher_code_new){ids[i], codes[i]};
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
    voucher_code_row *codes;
    size_t n, cap;
} code_list;

static void add_code(void *ctx, const store_voucher_code_row *row)
{
    code_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->codes = realloc(l->codes, l->cap * sizeof *l->codes);
    }
    voucher_code_row *c = &l->codes[l->n++];
    *c = (voucher_code_row){.value = l->value, .remaining = row->remaining, .created_at = row->created_at};
    snprintf(c->id, sizeof c->id, "%s", row->id);
    snprintf(c->code, sizeof c->code, "%s", row->code);
    snprintf(c->status, sizeof c->status, "%s", row->status);
    /* a code spent in part or voided was last touched when it changed */
    bool touched = strcmp(row->status, "available") || row->remaining < l->value;
    c->used_at = touched ? row->updated_at : 0;
}

bo_status voucher_codes_list(engine *e, const account *a, const char *voucher_id, voucher_code_row **out, size_t *n)
{
    code_list l = {0};
    bo_status found = voucher_value(e, a, voucher_id, &l.value);
    if (found != BO_OK) return found;
    if (store_voucher_codes_list(e->st, a->id, voucher_id, add_code, &l) != STORE_OK) {
        free(l.codes);
        return BO_INTERNAL;
    }
    *out = l.codes;
    *n = l.n;
    return BO_OK;
}

bo_status voucher_code_void(engine *e, const account *a, const char *voucher_id, const char *code_id, bo_error *err)
{
    store_status st = store_voucher_code_void(e->st, a->id, voucher_id, code_id, clock_now());
    if (st == STORE_NOT_FOUND)
        return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such voucher code, or already void");
    return bo_from_store(st, err);
}

typedef struct {
    const char *account_id, *code;
    voucher_code_state *out;
    store_status found;
} code_find_op;

static db_status code_find_fn(db_conn *c, void *arg)
{
    code_find_op *op = arg;
    op->found = store_voucher_code_find(c, op->account_id, op->code, op->out);
    return op->found == STORE_OK || op->found == STORE_NOT_FOUND ? DB_OK : DB_ERROR;
}

bo_status voucher_code_find(engine *e, const account *a, const char *code, voucher_code_state *out)
{
    memset(out, 0, sizeof *out);
    code_find_op op = {a->id, code, out, STORE_ERROR};
    if (store_read(e->st, code_find_fn, &op) != DB_OK) return BO_INTERNAL;
    return op.found == STORE_OK ? BO_OK : BO_NOT_FOUND;
}
