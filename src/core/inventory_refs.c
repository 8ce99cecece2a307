/* Inventory references of the Convious pricing API (core/inventory_refs.h):
 * the events that create and change them, and the reads pricing uses. */
#include "core/inventory_refs.h"
#include "core/internal.h"
#include "store/inventory_refs_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ref_row(const inventory_event *ev, store_inventory_ref *row)
{
    memset(row, 0, sizeof *row);
    snprintf(row->reference, sizeof row->reference, "%s", ev->reference);
    snprintf(row->name, sizeof row->name, "%s", ev->name ? ev->name : "");
    row->availability = ev->unlimited ? -1 : ev->availability;
    row->min_price = ev->settings.min_price, row->max_price = ev->settings.max_price;
    row->step = ev->settings.step, row->gate_price = ev->settings.gate_price;
    row->average_target = ev->settings.average_target;
}

typedef struct {
    const account *a;
    const inventory_event *events;
    size_t n, failed;
    bool unknown;
    instant_us now;
} events_apply;

static store_status apply_one(db_conn *c, const char *account_id, const inventory_event *ev, instant_us now)
{
    store_inventory_ref row;
    switch (ev->kind) {
    case INVENTORY_PRODUCT_CREATED: ref_row(ev, &row); return store_inventory_ref_put(c, account_id, &row, now);
    case INVENTORY_PRICING_CHANGED: ref_row(ev, &row); return store_inventory_ref_set_pricing(c, account_id, &row, now);
    case INVENTORY_PRODUCT_REMOVED: return store_inventory_ref_remove(c, account_id, ev->reference, now);
    case INVENTORY_AVAILABILITY_CHANGED: {
        store_inventory_seats seats = {ev->day, ev->start_time, ev->availability};
        return store_inventory_ref_set_seats(c, account_id, ev->reference, &seats, now);
    }
    }
    return STORE_ERROR;
}

static db_status events_apply_fn(db_conn *c, void *arg)
{
    events_apply *x = arg;
    x->unknown = false;
    for (size_t i = 0; i < x->n; i++) {
        store_status st = apply_one(c, x->a->id, &x->events[i], x->now);
        if (st == STORE_NOT_FOUND) {
            x->unknown = true, x->failed = i;
            return DB_ABORT;
        }
        if (st != STORE_OK) return store_db_status(st);
    }
    return DB_OK;
}

bo_status inventory_events_apply(engine *e, const account *a, const inventory_event *events, size_t n,
                                 size_t *failed_index, bo_error *err)
{
    events_apply x = {a, events, n, 0, false, clock_now()};
    db_status st = store_write(e->st, events_apply_fn, &x);
    if (x.unknown && st == DB_ABORT) {
        *failed_index = x.failed;
        return bo_fail(err, BO_NOT_FOUND, "unknown_product", "product_reference",
                       "no product with this productReference was created");
    }
    return bo_from_db(st, err);
}

bo_status inventory_ref_read(engine *e, const account *a, const char *reference, civil_date from, civil_date to,
                             inventory_ref_view *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->reference, sizeof out->reference, "%s", reference);
    out->presence = INVENTORY_REF_UNKNOWN;
    if (strlen(reference) >= sizeof out->reference) return BO_OK; /* longer than any stored one */
    store_inventory_ref row;
    store_inventory_seats *seats = NULL;
    size_t nseats = 0;
    store_status st = store_inventory_ref_get(e->st, a->id, reference, from, to, &row, &seats, &nseats);
    if (st == STORE_NOT_FOUND) return BO_OK;
    if (st != STORE_OK) return BO_INTERNAL;
    out->presence = row.removed ? INVENTORY_REF_REMOVED : INVENTORY_REF_ACTIVE;
    snprintf(out->name, sizeof out->name, "%s", row.name);
    out->settings = (price_settings){.dynamic = true,
                                     .min_price = row.min_price,
                                     .max_price = row.max_price,
                                     .step = row.step,
                                     .gate_price = row.gate_price,
                                     .average_target = row.average_target};
    out->unlimited = row.availability < 0;
    out->availability = out->unlimited ? 0 : row.availability;
    out->seats = calloc(nseats ? nseats : 1, sizeof *out->seats);
    if (!out->seats) {
        free(seats);
        return BO_INTERNAL;
    }
    for (size_t i = 0; i < nseats; i++)
        out->seats[i] = (inventory_ref_seats){seats[i].day, seats[i].start_time, seats[i].seats_left};
    out->nseats = nseats;
    free(seats);
    return BO_OK;
}

void inventory_ref_view_free(inventory_ref_view *v)
{
    free(v->seats);
    v->seats = NULL, v->nseats = 0;
}

int64_t inventory_ref_seats_left(const inventory_ref_view *v, civil_date day, int32_t start_time)
{
    int64_t whole_day = -2, most_of_a_time = -2;
    for (size_t i = 0; i < v->nseats; i++) {
        const inventory_ref_seats *s = &v->seats[i];
        if (s->day != day) continue;
        if (s->start_time == start_time) return s->seats_left;
        if (s->start_time == INVENTORY_WHOLE_DAY) whole_day = s->seats_left;
        else if (s->seats_left > most_of_a_time) most_of_a_time = s->seats_left;
    }
    if (whole_day >= 0) return whole_day;
    /* the day as a whole sells while any of its start times does */
    if (start_time == INVENTORY_WHOLE_DAY && most_of_a_time >= 0) return most_of_a_time;
    return v->unlimited ? -1 : v->availability;
}

bo_status inventory_ref_sales(engine *e, const account *a, const char *reference, instant_us since,
                              inventory_ref_sale **out, size_t *n)
{
    *out = NULL, *n = 0;
    store_inventory_sale *rows;
    size_t count;
    if (store_inventory_sales(e->st, a->id, reference, since, &rows, &count) != STORE_OK) return BO_INTERNAL;
    *out = calloc(count ? count : 1, sizeof **out);
    if (!*out) {
        free(rows);
        return BO_INTERNAL;
    }
    for (size_t i = 0; i < count; i++) {
        inventory_ref_sale *s = &(*out)[i];
        snprintf(s->order_id, sizeof s->order_id, "%s", rows[i].order_id);
        s->quantity = rows[i].quantity, s->unit_price = rows[i].unit_price;
        s->has_day = rows[i].has_day, s->event_day = rows[i].event_day, s->sold_at = rows[i].sold_at;
    }
    *n = count;
    free(rows);
    return BO_OK;
}
