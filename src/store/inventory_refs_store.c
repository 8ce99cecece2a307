/* Inventory references, their seats and sales: the SQL of store/inventory_refs_store.h. */
#include "store/inventory_refs_store.h"
#include "store/db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static db_param availability_param(int64_t availability)
{
    return availability < 0 ? DB_NULL : DB_INT(availability);
}

store_status store_inventory_ref_put(db_conn *c, const char *account_id, const store_inventory_ref *ref, int64_t now)
{
    return store_status_of(db_exec(
        c,
        "INSERT INTO inventory_refs (account_id, reference, name, availability, min_price, max_price, step,"
        " gate_price, average_target, removed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"
        " ON CONFLICT (account_id, reference) DO UPDATE SET name = excluded.name,"
        " availability = excluded.availability, min_price = excluded.min_price, max_price = excluded.max_price,"
        " step = excluded.step, gate_price = excluded.gate_price, average_target = excluded.average_target,"
        " removed = 0, updated_at = excluded.updated_at",
        DB_ARGS(DB_TEXT(account_id), DB_TEXT(ref->reference), DB_TEXT(ref->name), availability_param(ref->availability),
                DB_INT(ref->min_price), DB_INT(ref->max_price), DB_INT(ref->step), DB_INT(ref->gate_price),
                DB_INT(ref->average_target), DB_INT(now), DB_INT(now)),
        NULL));
}

/* STORE_NOT_FOUND when the statement changed no row. */
static store_status changed_one(db_status st, int64_t changes)
{
    if (st != DB_OK) return store_status_of(st);
    return changes ? STORE_OK : STORE_NOT_FOUND;
}

store_status store_inventory_ref_set_pricing(db_conn *c, const char *account_id, const store_inventory_ref *ref,
                                             int64_t now)
{
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "UPDATE inventory_refs SET min_price = ?, max_price = ?, step = ?, gate_price = ?,"
                           " average_target = ?, updated_at = ? WHERE account_id = ? AND reference = ?",
                           DB_ARGS(DB_INT(ref->min_price), DB_INT(ref->max_price), DB_INT(ref->step),
                                   DB_INT(ref->gate_price), DB_INT(ref->average_target), DB_INT(now),
                                   DB_TEXT(account_id), DB_TEXT(ref->reference)),
                           &changes);
    return changed_one(st, changes);
}

store_status store_inventory_ref_remove(db_conn *c, const char *account_id, const char *reference, int64_t now)
{
    int64_t changes = 0;
    db_status st = db_exec(c, "UPDATE inventory_refs SET removed = 1, updated_at = ? WHERE account_id = ? AND reference = ?",
                           DB_ARGS(DB_INT(now), DB_TEXT(account_id), DB_TEXT(reference)), &changes);
    return changed_one(st, changes);
}

store_status store_inventory_ref_set_seats(db_conn *c, const char *account_id, const char *reference,
                                           const store_inventory_seats *seats, int64_t now)
{
    int64_t changes = 0;
    /* the reference's row decides whether there is anything to set: one statement */
    db_status st = db_exec(c,
                           "INSERT INTO inventory_ref_seats (account_id, reference, day, start_time, seats_left, updated_at)"
                           " SELECT account_id, reference, ?, ?, ?, ? FROM inventory_refs"
                           " WHERE account_id = ? AND reference = ?"
                           " ON CONFLICT (account_id, reference, day, start_time) DO UPDATE SET"
                           " seats_left = excluded.seats_left, updated_at = excluded.updated_at",
                           DB_ARGS(DB_INT(seats->day), DB_INT(seats->start_time), DB_INT(seats->seats_left), DB_INT(now),
                                   DB_TEXT(account_id), DB_TEXT(reference)),
                           &changes);
    return changed_one(st, changes);
}

typedef struct {
    const char *const *account_ids, *const *refs;
    size_t n;
    bool *active;
} refs_active;

static db_status refs_active_fn(db_conn *c, void *arg)
{
    refs_active *x = arg;
    for (size_t i = 0; i < x->n; i++) {
        int64_t removed = 1;
        db_status st = db_query_int(c, "SELECT removed FROM inventory_refs WHERE account_id = ? AND reference = ?",
                                    DB_ARGS(DB_TEXT(x->account_ids[i]), DB_TEXT(x->refs[i])), &removed);
        if (st != DB_OK && st != DB_NOTFOUND) return st;
        x->active[i] = st == DB_OK && removed == 0;
    }
    return DB_OK;
}

store_status store_inventory_refs_active(store *s, const char *const *account_ids, const char *const *refs, size_t n,
                                         bool *active)
{
    refs_active x = {account_ids, refs, n, active};
    return n ? store_status_of(store_read(s, refs_active_fn, &x)) : STORE_OK;
}

/* Room for one more of items (n used of *cap, each size bytes); false when memory ran out. */
static bool room_for_one(void **items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap) return true;
    size_t more = *cap ? *cap * 2 : 16;
    void *grown = realloc(*items, more * size);
    if (!grown) return false;
    *items = grown, *cap = more;
    return true;
}

typedef struct {
    const char *account_id, *reference;
    int32_t from, to;
    store_inventory_ref *out;
    store_inventory_seats *seats;
    size_t nseats;
    bool found;
} ref_read;

static db_status ref_read_fn(db_conn *c, void *arg)
{
    ref_read *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT name, availability, min_price, max_price, step, gate_price, average_target, removed"
                            " FROM inventory_refs WHERE account_id = ? AND reference = ?",
                            DB_ARGS(DB_TEXT(x->account_id), DB_TEXT(x->reference)), &r);
    if (st != DB_OK) return st;
    x->found = db_next(r);
    if (x->found) {
        store_inventory_ref *o = x->out;
        snprintf(o->reference, sizeof o->reference, "%s", x->reference);
        snprintf(o->name, sizeof o->name, "%s", db_text(r, 0));
        o->availability = db_isnull(r, 1) ? -1 : db_int(r, 1);
        o->min_price = db_int(r, 2), o->max_price = db_int(r, 3), o->step = db_int(r, 4);
        o->gate_price = db_int(r, 5), o->average_target = db_int(r, 6), o->removed = db_int(r, 7) != 0;
    }
    db_rows_free(r);
    if (!x->found) return DB_OK;
    st = db_query(c,
                  "SELECT day, start_time, seats_left FROM inventory_ref_seats WHERE account_id = ? AND reference = ?"
                  " AND day >= ? AND day <= ? ORDER BY day, start_time",
                  DB_ARGS(DB_TEXT(x->account_id), DB_TEXT(x->reference), DB_INT(x->from), DB_INT(x->to)), &r);
    if (st != DB_OK) return st;
    size_t cap = 0;
    while (db_next(r)) {
        if (!room_for_one((void **)&x->seats, x->nseats, &cap, sizeof *x->seats)) {
            db_rows_free(r);
            return DB_ERROR;
        }
        x->seats[x->nseats++] = (store_inventory_seats){(int32_t)db_int(r, 0), (int32_t)db_int(r, 1), db_int(r, 2)};
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_inventory_ref_get(store *s, const char *account_id, const char *reference, int32_t from, int32_t to,
                                     store_inventory_ref *out, store_inventory_seats **seats, size_t *nseats)
{
    ref_read x = {account_id, reference, from, to, out, NULL, 0, false};
    db_status st = store_read(s, ref_read_fn, &x);
    if (st != DB_OK || !x.found) {
        free(x.seats);
        *seats = NULL, *nseats = 0;
        return st != DB_OK ? store_status_of(st) : STORE_NOT_FOUND;
    }
    *seats = x.seats, *nseats = x.nseats;
    return STORE_OK;
}

store_status store_inventory_sale_add(db_conn *c, const char *account_id, const char *reference,
                                      const store_inventory_sale *sale)
{
    return store_status_of(db_exec_deferred(
        c,
        "INSERT INTO inventory_ref_sales (account_id, order_id, line, reference, quantity, unit_price, event_day,"
        " sold_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, order_id, line) DO NOTHING",
        DB_ARGS(DB_TEXT(account_id), DB_TEXT(sale->order_id), DB_INT(sale->line), DB_TEXT(reference),
                DB_INT(sale->quantity), DB_INT(sale->unit_price), sale->has_day ? DB_INT(sale->event_day) : DB_NULL,
                DB_INT(sale->sold_at)),
        DB_CONFLICT, NULL));
}

typedef struct {
    const char *account_id, *reference;
    int64_t since;
    store_inventory_sale *out;
    size_t n;
} sales_read;

static db_status sales_read_fn(db_conn *c, void *arg)
{
    sales_read *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT order_id, line, quantity, unit_price, event_day, sold_at FROM inventory_ref_sales"
                            " WHERE account_id = ? AND reference = ? AND sold_at >= ? ORDER BY sold_at, order_id, line",
                            DB_ARGS(DB_TEXT(x->account_id), DB_TEXT(x->reference), DB_INT(x->since)), &r);
    if (st != DB_OK) return st;
    size_t cap = 0;
    while (db_next(r)) {
        if (!room_for_one((void **)&x->out, x->n, &cap, sizeof *x->out)) {
            db_rows_free(r);
            return DB_ERROR;
        }
        store_inventory_sale *s = &x->out[x->n++];
        snprintf(s->order_id, sizeof s->order_id, "%s", db_text(r, 0));
        s->line = db_int(r, 1), s->quantity = db_int(r, 2), s->unit_price = db_int(r, 3);
        s->has_day = !db_isnull(r, 4);
        s->event_day = s->has_day ? (int32_t)db_int(r, 4) : 0;
        s->sold_at = db_int(r, 5);
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_inventory_sales(store *s, const char *account_id, const char *reference, int64_t since,
                                   store_inventory_sale **out, size_t *n)
{
    sales_read x = {account_id, reference, since, NULL, 0};
    db_status st = store_read(s, sales_read_fn, &x);
    if (st != DB_OK) {
        free(x.out);
        x.out = NULL, x.n = 0;
    }
    *out = x.out, *n = x.n;
    return store_status_of(st);
}

typedef struct {
    const char *account_id;
    int64_t since;
    int limit;
    void (*fn)(void *ctx, const char *reference, int64_t gate_price, const store_inventory_sale *sale);
    void *ctx;
} all_sales_read;

static db_status all_sales_read_fn(db_conn *c, void *arg)
{
    all_sales_read *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT s.reference, r.gate_price, s.order_id, s.line, s.quantity, s.unit_price,"
                            " s.event_day, s.sold_at FROM inventory_ref_sales s JOIN inventory_refs r"
                            " ON r.account_id = s.account_id AND r.reference = s.reference"
                            " WHERE s.account_id = ? AND s.sold_at >= ? ORDER BY s.sold_at DESC LIMIT ?",
                            DB_ARGS(DB_TEXT(x->account_id), DB_INT(x->since), DB_INT(x->limit)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        store_inventory_sale sale = {.line = db_int(r, 3), .quantity = db_int(r, 4), .unit_price = db_int(r, 5),
                                     .has_day = !db_isnull(r, 6), .sold_at = db_int(r, 7)};
        snprintf(sale.order_id, sizeof sale.order_id, "%s", db_text(r, 2));
        sale.event_day = sale.has_day ? (int32_t)db_int(r, 6) : 0;
        x->fn(x->ctx, db_text(r, 0), db_int(r, 1), &sale);
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_inventory_sales_all(store *s, const char *account_id, int64_t since, int limit,
                                       void (*fn)(void *ctx, const char *reference, int64_t gate_price,
                                                  const store_inventory_sale *sale),
                                       void *ctx)
{
    all_sales_read x = {account_id, since, limit, fn, ctx};
    return store_status_of(store_read(s, all_sales_read_fn, &x));
}
