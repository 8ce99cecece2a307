/* Reading orders and tickets: the typed rows of store/orders_store.h, handed
 * to the caller as they are (the SQL lives in the store, the canonical JSON
 * of docs/MODEL.md at the edge, src/api/order_json.c). */
#include "core/internal.h"
#include "store/orders_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void order_record_free(order_record *o) { store_order_detail_free(o); }
void ticket_record_free(ticket_record *t) { store_ticket_row_free(t); }
void order_page_free(order_page *p) { store_order_page_free(p); }
void ticket_page_free(ticket_page *p) { store_ticket_page_free(p); }

static bo_status get_status(store_status st)
{
    return st == STORE_OK ? BO_OK : st == STORE_NOT_FOUND ? BO_NOT_FOUND : BO_INTERNAL;
}

static bool key_ok(const char *key) { return key && strlen(key) <= 64; }

/* The store leaves *out empty unless it answers STORE_OK. */
bo_status order_get(engine *e, const account *a, const char *order_id, order_record *out)
{
    memset(out, 0, sizeof *out);
    if (!key_ok(order_id)) return BO_NOT_FOUND;
    return get_status(store_order_get(e->st, a->id, order_id, out));
}

bo_status order_get_by_number(engine *e, const account *a, const char *number, order_record *out)
{
    memset(out, 0, sizeof *out);
    if (!key_ok(number)) return BO_NOT_FOUND;
    return get_status(store_order_get_by_number(e->st, a->id, number, out));
}

bo_status ticket_get(engine *e, const account *a, const char *ticket_id, ticket_record *out)
{
    memset(out, 0, sizeof *out);
    if (!key_ok(ticket_id)) return BO_NOT_FOUND;
    return get_status(store_ticket_get(e->st, a->id, ticket_id, out));
}

bo_status ticket_ids_between(engine *e, const account *a, const char *lo, const char *hi, char (*ids)[37], size_t max,
                             size_t *n)
{
    *n = 0;
    if (!key_ok(lo) || !key_ok(hi) || !max) return BO_OK;
    return get_status(store_ticket_ids_between(e->st, a->id, lo, hi, ids, max, n)) == BO_INTERNAL ? BO_INTERNAL : BO_OK;
}

void order_query_init(order_query *q)
{
    memset(q, 0, sizeof *q);
    q->limit = 100;
    q->visit_from = -1;
    q->visit_to = -1;
}

static int page_limit(int limit) { return limit < 1 ? 1 : limit > 1000 ? 1000 : limit; }

/* A list's storage outcome: an unknown cursor object is the caller's error. */
static bo_status list_status(store_status st, bo_error *err)
{
    if (st == STORE_NOT_FOUND) return bo_fail(err, BO_INVALID, "invalid_cursor", "cursor", "unknown cursor object");
    return bo_from_store(st, err);
}

bo_status orders_list(engine *e, const account *a, const order_query *q, order_page *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    /* the key goes into a JSON path: no quote may end it early */
    if (q->extras_key && (!key_ok(q->extras_key) || !*q->extras_key || strpbrk(q->extras_key, "\"\\") ||
                          !q->extras_value))
        return bo_fail(err, BO_INVALID, "invalid_filter", "extras", "invalid extras filter");
    store_order_filter f = {
        .by_change_seq = q->sort == ORDER_BY_CHANGE_ASC,
        .after_change_seq = q->after_change_seq,
        .starting_after = q->starting_after,
        .ending_before = q->ending_before,
        .limit = page_limit(q->limit),
        .number = q->number,
        .email = q->email,
        .external_id = q->external_id,
        .reseller_id = q->reseller_id,
        .channel = q->channel,
        .product_type = q->product_type,
        .name = q->name,
        .event_id = q->event_id,
        .barcode = q->barcode,
        .occurrence = q->occurrence,
        .extras_key = q->extras_key,
        .extras_value = q->extras_value,
        .updated_from = q->updated_from,
        .created_gt = q->created_gt,
        .created_gte = q->created_gte,
        .created_lt = q->created_lt,
        .created_lte = q->created_lte,
        .visit_from = q->visit_from,
        .visit_to = q->visit_to,
    };
    memcpy(f.statuses, q->statuses, sizeof f.statuses);
    memcpy(f.product_ids, q->product_ids, sizeof f.product_ids); /* the first 8 */
    store_status st = store_orders_page(e->st, a->id, &f, out);
    return st == STORE_OK ? BO_OK : list_status(st, err);
}

bo_status tickets_list(engine *e, const account *a, const ticket_query *q, ticket_page *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    /* ticket_query.event_id names an occurrence key (Ticket Tailor's event) */
    store_ticket_filter f = {
        .starting_after = q->starting_after,
        .ending_before = q->ending_before,
        .limit = page_limit(q->limit),
        .order_id = q->order_id,
        .occurrence = q->event_id,
        .barcode = q->barcode,
        .status = q->status,
        .email = q->email,
        .name = q->name,
        .created_gt = q->created_gt,
        .created_gte = q->created_gte,
        .created_lt = q->created_lt,
        .created_lte = q->created_lte,
    };
    memcpy(f.product_ids, q->product_ids, sizeof f.product_ids);
    store_status st = store_tickets_page(e->st, a->id, &f, out);
    return st == STORE_OK ? BO_OK : list_status(st, err);
}
