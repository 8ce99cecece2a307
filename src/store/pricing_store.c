/* Dynamic pricing's rows: the SQL of store/pricing_store.h. */
#include "store/pricing_store.h"
#include "store/db.h"
#include <stdio.h>
#include <string.h>

static const char settings_columns[] = "account_id, product_id, dynamic, min_price, max_price, step, gate_price,"
                                       " average_target, max_change_per_hour, updated_at";

static void settings_row(db_rows *r, store_pricing_settings *out)
{
    snprintf(out->account_id, sizeof out->account_id, "%s", db_text(r, 0));
    snprintf(out->product_id, sizeof out->product_id, "%s", db_text(r, 1));
    out->dynamic = db_int(r, 2) != 0;
    out->min_price = db_int(r, 3);
    out->max_price = db_int(r, 4);
    out->step = db_int(r, 5);
    out->gate_price = db_int(r, 6);
    out->average_target = db_int(r, 7);
    out->max_change_per_hour = db_int(r, 8);
    out->updated_at = db_int(r, 9);
}

/* Calls fn for each settings row matching where (with its parameters). */
static db_status settings_query(db_conn *c, const char *where, const db_param *params, int nparams,
                                void (*fn)(void *ctx, const store_pricing_settings *row), void *ctx)
{
    char sql[320];
    snprintf(sql, sizeof sql, "SELECT %s FROM pricing_settings WHERE %s", settings_columns, where);
    db_rows *r;
    db_status st = db_query(c, sql, params, nparams, &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        store_pricing_settings row;
        settings_row(r, &row);
        fn(ctx, &row);
    }
    db_rows_free(r);
    return DB_OK;
}

typedef struct {
    const char *account_id, *product_id;
    store_pricing_settings *out;
    bool found;
    void (*fn)(void *ctx, const store_pricing_settings *row);
    void *ctx;
} settings_op;

static void settings_found(void *ctx, const store_pricing_settings *row)
{
    settings_op *x = ctx;
    *x->out = *row;
    x->found = true;
}

static db_status settings_get_fn(db_conn *c, void *arg)
{
    settings_op *x = arg;
    db_status st = settings_query(c, "account_id = ? AND product_id = ?",
                                  DB_ARGS(DB_TEXT(x->account_id), DB_TEXT(x->product_id)), settings_found, x);
    return st == DB_OK && !x->found ? DB_NOTFOUND : st;
}

store_status store_pricing_settings_get(store *s, const char *account_id, const char *product_id,
                                        store_pricing_settings *out)
{
    memset(out, 0, sizeof *out);
    settings_op x = {.account_id = account_id, .product_id = product_id, .out = out};
    return store_status_of(store_read(s, settings_get_fn, &x));
}

static db_status settings_put_fn(db_conn *c, void *arg)
{
    const store_pricing_settings *m = arg;
    return db_exec(c,
                   "INSERT INTO pricing_settings (account_id, product_id, dynamic, min_price, max_price, step,"
                   " gate_price, average_target, max_change_per_hour, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                   " ON CONFLICT (account_id, product_id) DO UPDATE SET dynamic = excluded.dynamic,"
                   " min_price = excluded.min_price, max_price = excluded.max_price, step = excluded.step,"
                   " gate_price = excluded.gate_price, average_target = excluded.average_target,"
                   " max_change_per_hour = excluded.max_change_per_hour, updated_at = excluded.updated_at",
                   DB_ARGS(DB_TEXT(m->account_id), DB_TEXT(m->product_id), DB_INT(m->dynamic), DB_INT(m->min_price),
                           DB_INT(m->max_price), DB_INT(m->step), DB_INT(m->gate_price), DB_INT(m->average_target),
                           DB_INT(m->max_change_per_hour), DB_INT(m->updated_at)),
                   NULL);
}

store_status store_pricing_settings_put(store *s, const store_pricing_settings *row)
{
    return store_status_of(store_write(s, settings_put_fn, (void *)row));
}

static db_status settings_dynamic_fn(db_conn *c, void *arg)
{
    settings_op *x = arg;
    return settings_query(c, "dynamic = ? ORDER BY account_id, product_id", DB_ARGS(DB_INT(1)), x->fn, x->ctx);
}

store_status store_pricing_settings_dynamic(store *s, void (*fn)(void *ctx, const store_pricing_settings *row),
                                            void *ctx)
{
    settings_op x = {.fn = fn, .ctx = ctx};
    return store_status_of(store_read(s, settings_dynamic_fn, &x));
}

typedef struct {
    const char *account_id;
    instant_us since;
    int limit;
    void (*fn)(void *ctx, const store_pricing_sale *sale);
    void *ctx;
} sales_op;

static db_status sales_fn(db_conn *c, void *arg)
{
    sales_op *x = arg;
    db_rows *r;
    /* one order's tickets of a product at an occurrence are one purchase decision */
    db_status st = db_query(c,
                            "SELECT product_id, occurrence, MIN(created_at), SUM(price_gross), COUNT(*) FROM tickets"
                            " WHERE account_id = ? AND created_at >= ? AND order_id IS NOT NULL"
                            " GROUP BY order_id, product_id, occurrence ORDER BY MIN(created_at) LIMIT ?",
                            DB_ARGS(DB_TEXT(x->account_id), DB_INT(x->since), DB_INT(x->limit)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        int64_t n = db_int(r, 4);
        store_pricing_sale sale = {db_text(r, 0), db_text(r, 1), db_int(r, 2), n > 0 ? db_int(r, 3) / n : 0, n};
        x->fn(x->ctx, &sale);
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_pricing_sales(store *s, const char *account_id, instant_us since, int limit,
                                 void (*fn)(void *ctx, const store_pricing_sale *sale), void *ctx)
{
    sales_op x = {account_id, since, limit, fn, ctx};
    return store_status_of(store_read(s, sales_fn, &x));
}
