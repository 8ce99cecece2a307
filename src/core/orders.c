/* Reading orders and tickets in their canonical JSON shape (docs/MODEL.md). */
#include "core/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKET_COLUMNS                                                                                             \
    "id, order_id, line_id, product_id, event_id, occurrence, barcode, status, price_gross, price_net, discount,"  \
    " valid_from, valid_to, scan_limit, scan_times, max_scans, time_duration, scans_used, inside, first_scan_at,"   \
    " last_scan_at, redeemed_at, invalidated_at, created_at, updated_at, doc"

static json_t *nullable_int(db_rows *r, int col) { return db_isnull(r, col) ? json_null() : json_integer(db_int(r, col)); }
static json_t *nullable_text(db_rows *r, int col)
{
    return db_isnull(r, col) ? json_null() : json_string(db_text(r, col));
}

static json_t *ticket_from_row(db_rows *r)
{
    json_t *doc = json_loads(db_text(r, 25), 0, NULL);
    if (!doc) doc = json_object();
    json_t *t = json_object();
    json_object_set_new(t, "id", json_string(db_text(r, 0)));
    json_object_set_new(t, "order_id", nullable_text(r, 1));
    json_object_set_new(t, "line_id", json_string(db_text(r, 2)));
    json_object_set_new(t, "product_id", json_string(db_text(r, 3)));
    json_object_set(t, "product_name", json_object_get(doc, "product_name") ? json_object_get(doc, "product_name")
                                                                              : json_object());
    json_object_set_new(t, "event_id", nullable_text(r, 4));
    json_object_set_new(t, "occurrence", json_string(db_text(r, 5)));
    json_object_set_new(t, "barcode", json_string(db_text(r, 6)));
    json_object_set(t, "barcode_format", json_object_get(doc, "barcode_format"));
    json_object_set_new(t, "status", json_string(db_text(r, 7)));
    json_object_set_new(t, "price_gross", json_integer(db_int(r, 8)));
    json_object_set_new(t, "price_net", json_integer(db_int(r, 9)));
    json_object_set_new(t, "discount", json_integer(db_int(r, 10)));
    json_object_set_new(t, "discounted_gross", json_integer(jint(doc, "discounted_gross", db_int(r, 8) - db_int(r, 10))));
    json_object_set_new(t, "discounted_net", json_integer(jint(doc, "discounted_net", db_int(r, 9))));
    json_object_set_new(t, "gate_price", json_integer(jint(doc, "gate_price", db_int(r, 8))));
    json_object_set_new(t, "booking_fee", json_integer(jint(doc, "booking_fee", 0)));
    json_object_set_new(t, "valid_from", nullable_int(r, 11));
    json_object_set_new(t, "valid_to", nullable_int(r, 12));
    json_object_set_new(t, "invalidated_at", nullable_int(r, 22));
    json_object_set(t, "refund", json_object_get(doc, "refund") ? json_object_get(doc, "refund") : json_null());
    json_object_set(t, "taxes", json_object_get(doc, "taxes") ? json_object_get(doc, "taxes") : json_array());
    json_object_set(t, "holder", json_object_get(doc, "holder") ? json_object_get(doc, "holder") : json_null());
    json_t *scan = json_object();
    json_object_set_new(scan, "limit", json_string(db_text(r, 13)));
    json_object_set_new(scan, "times", json_integer(db_int(r, 14)));
    json_object_set_new(scan, "max_scans", nullable_int(r, 15));
    json_object_set_new(scan, "time_seconds", nullable_int(r, 16));
    json_object_set_new(scan, "used", json_integer(db_int(r, 17)));
    json_object_set_new(scan, "inside", json_boolean(db_int(r, 18)));
    json_object_set_new(scan, "first_scan_at", nullable_int(r, 19));
    json_object_set_new(scan, "last_scan_at", nullable_int(r, 20));
    json_object_set_new(scan, "redeemed_at", nullable_int(r, 21));
    json_object_set_new(scan, "allow_overtime", json_boolean(jbool(doc, "allow_overtime", false)));
    json_object_set_new(t, "scan", scan);
    json_object_set_new(t, "created_at", json_integer(db_int(r, 23)));
    json_object_set_new(t, "updated_at", json_integer(db_int(r, 24)));
    json_decref(doc);
    return t;
}

db_status ticket_load_json(db_conn *c, const char *account_id, const char *ticket_id, json_t **out)
{
    db_rows *r;
    db_status st = db_query(c, "SELECT " TICKET_COLUMNS " FROM tickets WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(ticket_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    st = DB_NOTFOUND;
    if (db_next(r)) {
        *out = ticket_from_row(r);
        st = DB_OK;
    }
    db_rows_free(r);
    return st;
}

db_status ticket_load_scan_json(db_conn *c, const char *account_id, const char *ticket_id, json_t **out)
{
    json_t *t;
    db_status st = ticket_load_json(c, account_id, ticket_id, &t);
    if (st != DB_OK) return st;
    const char *order_id = jstr(t, "order_id");
    db_rows *r;
    if (order_id &&
        db_query(c, "SELECT visit_date, doc FROM orders WHERE id = ?", DB_ARGS(DB_TEXT(order_id)), &r) == DB_OK) {
        if (db_next(r)) {
            json_t *doc = json_loads(db_text(r, 1), 0, NULL);
            json_t *order = json_object();
            json_object_set_new(order, "visit_date", db_isnull(r, 0) ? json_null() : json_string(db_text(r, 0)));
            json_t *vt = json_object_get(doc, "visit_time"), *ve = json_object_get(doc, "visit_end_time");
            json_object_set(order, "visit_time", vt ? vt : json_null());
            json_object_set(order, "visit_end_time", ve ? ve : json_null());
            json_t *cust = json_object_get(doc, "customer");
            json_object_set_new(order, "customer", cust ? json_incref(cust) : json_object());
            json_object_set_new(t, "order", order);
            json_decref(doc);
        }
        db_rows_free(r);
    }
    *out = t;
    return DB_OK;
}

db_status order_load_json(db_conn *c, const char *account_id, const char *timezone, const char *order_id,
                          json_t **out)
{
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, number, status, channel, product_type, external_id, reseller_id, visit_date,"
                            " currency, total_gross, total_net, discount_total, created_at, updated_at, change_seq,"
                            " cart_id, doc FROM orders WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    if (!db_next(r)) {
        db_rows_free(r);
        return DB_NOTFOUND;
    }
    json_t *doc = json_loads(db_text(r, 16), 0, NULL);
    if (!doc) doc = json_object();
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(db_text(r, 0)));
    json_object_set_new(o, "number", json_string(db_text(r, 1)));
    json_object_set_new(o, "account_id", json_string(account_id));
    json_object_set_new(o, "status", json_string(db_text(r, 2)));
    json_object_set_new(o, "channel", json_string(db_text(r, 3)));
    json_object_set_new(o, "product_type", json_string(db_text(r, 4)));
    json_object_set_new(o, "external_id", nullable_text(r, 5));
    json_object_set_new(o, "visit_date", nullable_text(r, 7));
    json_object_set_new(o, "currency", json_string(db_text(r, 8)));
    json_object_set_new(o, "total_gross", json_integer(db_int(r, 9)));
    json_object_set_new(o, "total_net", json_integer(db_int(r, 10)));
    json_object_set_new(o, "discount_total", json_integer(db_int(r, 11)));
    json_object_set_new(o, "created_at", json_integer(db_int(r, 12)));
    json_object_set_new(o, "updated_at", json_integer(db_int(r, 13)));
    json_object_set_new(o, "change_seq", json_integer(db_int(r, 14)));
    json_object_set_new(o, "cart_id", nullable_text(r, 15));
    json_object_set_new(o, "timezone", json_string(timezone));
    const char *copy[] = {"category_id", "event_id", "occurrence", "visit_time", "visit_end_time", "starts_at",
                          "quantity", "total_after_discount_gross", "total_after_discount_net", "booking_fee_total",
                          "customer", "extras", "discounts", "reseller", "status_reason", "cancelled_at",
                          "cancelled_by"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        json_t *v = json_object_get(doc, copy[i]);
        json_object_set(o, copy[i], v ? v : json_null());
    }
    if (!json_is_object(json_object_get(o, "customer"))) json_object_set_new(o, "customer", json_object());
    if (!json_is_object(json_object_get(o, "extras"))) json_object_set_new(o, "extras", json_object());
    if (!json_is_array(json_object_get(o, "discounts"))) json_object_set_new(o, "discounts", json_array());
    json_decref(doc);
    db_rows_free(r);

    json_t *tickets = json_array();
    st = db_query(c, "SELECT " TICKET_COLUMNS " FROM tickets WHERE order_id = ? ORDER BY created_at, line_id, id",
                  DB_ARGS(DB_TEXT(order_id)), &r);
    if (st != DB_OK) {
        json_decref(o);
        json_decref(tickets);
        return st;
    }
    while (db_next(r)) json_array_append_new(tickets, ticket_from_row(r));
    db_rows_free(r);
    json_object_set_new(o, "tickets", tickets);

    json_t *payments = json_array();
    st = db_query(c,
                  "SELECT id, kind, provider, method, status, amount, reference, created_at, updated_at FROM payments"
                  " WHERE order_id = ? ORDER BY id",
                  DB_ARGS(DB_TEXT(order_id)), &r);
    if (st != DB_OK) {
        json_decref(o);
        json_decref(payments);
        return st;
    }
    while (db_next(r))
        json_array_append_new(payments,
                              json_pack("{s:I,s:s,s:o,s:o,s:s,s:I,s:o,s:I,s:I}", "id", (json_int_t)db_int(r, 0), "kind",
                                        db_text(r, 1), "provider", nullable_text(r, 2), "method", nullable_text(r, 3),
                                        "status", db_text(r, 4), "amount", (json_int_t)db_int(r, 5), "reference",
                                        nullable_text(r, 6), "created_at", (json_int_t)db_int(r, 7), "updated_at",
                                        (json_int_t)db_int(r, 8)));
    db_rows_free(r);
    json_object_set_new(o, "payments", payments);
    *out = o;
    return DB_OK;
}

/* One order (by id or by number) or one ticket, read in one snapshot. */
typedef enum { ONE_ORDER, ONE_ORDER_BY_NUMBER, ONE_TICKET } one_kind;

typedef struct {
    const account *a;
    one_kind kind;
    const char *key;
    json_t *out;
} one_object;

static db_status load_one(db_conn *c, void *arg)
{
    one_object *x = arg;
    if (x->kind == ONE_TICKET) return ticket_load_json(c, x->a->id, x->key, &x->out);
    if (x->kind == ONE_ORDER) return order_load_json(c, x->a->id, x->a->timezone, x->key, &x->out);
    char *id = NULL;
    db_status st = db_query_text(c, "SELECT id FROM orders WHERE number = ? AND account_id = ?",
                                 DB_ARGS(DB_TEXT(x->key), DB_TEXT(x->a->id)), &id);
    if (st != DB_OK) return st;
    st = order_load_json(c, x->a->id, x->a->timezone, id, &x->out);
    free(id);
    return st;
}

static bo_status get_one(engine *e, const account *a, one_kind kind, const char *key, json_t **out)
{
    if (!key || strlen(key) > 64) return BO_NOT_FOUND;
    one_object x = {a, kind, key, NULL};
    db_status st = store_read(e->st, load_one, &x);
    if (st == DB_NOTFOUND) return BO_NOT_FOUND;
    if (st != DB_OK) return BO_INTERNAL;
    *out = x.out;
    return BO_OK;
}

bo_status order_get(engine *e, const account *a, const char *order_id, json_t **out)
{
    return get_one(e, a, ONE_ORDER, order_id, out);
}

bo_status order_get_by_number(engine *e, const account *a, const char *number, json_t **out)
{
    return get_one(e, a, ONE_ORDER_BY_NUMBER, number, out);
}

bo_status ticket_get(engine *e, const account *a, const char *ticket_id, json_t **out)
{
    return get_one(e, a, ONE_TICKET, ticket_id, out);
}

void order_query_init(order_query *q)
{
    memset(q, 0, sizeof *q);
    q->limit = 100;
    q->visit_from = -1;
    q->visit_to = -1;
}

/* Every filter is in the one static statement as "(param IS NULL OR ...)", so
 * each driver prepares it once. */
#define ORDER_FILTERS                                                                                               \
    " WHERE o.account_id = ?"                                                                                       \
    " AND (CAST(? AS TEXT) IS NULL OR o.number = ?)"                                                                \
    " AND (CAST(? AS TEXT) IS NULL OR lower(o.email) = lower(?))"                                                   \
    " AND (CAST(? AS TEXT) IS NULL OR o.external_id = ?)"                                                           \
    " AND (CAST(? AS TEXT) IS NULL OR o.reseller_id = ?)"                                                           \
    " AND (CAST(? AS TEXT) IS NULL OR lower(o.customer_name) LIKE lower(?))"                                        \
    " AND (CAST(? AS TEXT) IS NULL OR o.channel = ?)"                                                               \
    " AND (CAST(? AS TEXT) IS NULL OR o.product_type = ?)"                                                          \
    " AND (CAST(? AS TEXT) IS NULL OR o.status IN (?, ?, ?, ?))"                                                    \
    " AND (CAST(? AS BIGINT) IS NULL OR o.updated_at >= ?)"                                                         \
    " AND (CAST(? AS BIGINT) IS NULL OR o.created_at > ?)"                                                          \
    " AND (CAST(? AS BIGINT) IS NULL OR o.created_at >= ?)"                                                         \
    " AND (CAST(? AS BIGINT) IS NULL OR o.created_at < ?)"                                                          \
    " AND (CAST(? AS BIGINT) IS NULL OR o.created_at <= ?)"                                                         \
    " AND (CAST(? AS TEXT) IS NULL OR o.visit_date >= ?)"                                                           \
    " AND (CAST(? AS TEXT) IS NULL OR o.visit_date <= ?)"                                                           \
    " AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id AND t.event_id = ?))" \
    " AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id AND t.barcode = ?))"  \
    " AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id"                      \
    " AND t.occurrence = ?))"                                                                                      \
    " AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id AND t.product_id IN"  \
    " (?, ?, ?, ?, ?, ?, ?, ?)))"

/* A page from a query of ids: at most `limit` objects loaded by `load`, and
 * whether more follow. `reverse`: the ids came oldest first (an ending_before
 * page), the page goes out newest first. */
typedef db_status (*object_loader)(db_conn *c, const account *a, const char *id, json_t **out);

static db_status load_page(db_conn *c, db_rows *r, int limit, bool reverse, object_loader load, const account *a,
                           json_t **out, bool *has_more)
{
    char (*ids)[40] = NULL;
    int count = 0;
    while (db_next(r)) {
        ids = realloc(ids, (size_t)(count + 1) * sizeof *ids);
        snprintf(ids[count++], 40, "%s", db_text(r, 0));
    }
    db_rows_free(r);
    *has_more = count > limit;
    if (count > limit) count = limit;
    json_t *page = json_array();
    db_status st = DB_OK;
    for (int i = 0; i < count && st == DB_OK; i++) {
        json_t *o;
        st = load(c, a, ids[i], &o);
        if (st != DB_OK) break;
        if (reverse) json_array_insert_new(page, 0, o);
        else json_array_append_new(page, o);
    }
    free(ids);
    if (st != DB_OK) json_decref(page);
    else *out = page;
    return st;
}

static db_status load_order(db_conn *c, const account *a, const char *id, json_t **out)
{
    return order_load_json(c, a->id, a->timezone, id, out);
}

/* A ticket with its order's buyer (order_email, order_name). */
static db_status load_ticket_with_buyer(db_conn *c, const account *a, const char *id, json_t **out)
{
    db_status st = ticket_load_json(c, a->id, id, out);
    const char *oid = st == DB_OK ? jstr(*out, "order_id") : NULL;
    db_rows *orow;
    if (oid && db_query(c, "SELECT email, customer_name FROM orders WHERE id = ?", DB_ARGS(DB_TEXT(oid)), &orow) == DB_OK) {
        if (db_next(orow)) {
            json_object_set_new(*out, "order_email", db_isnull(orow, 0) ? json_null() : json_string(db_text(orow, 0)));
            json_object_set_new(*out, "order_name", db_isnull(orow, 1) ? json_null() : json_string(db_text(orow, 1)));
        }
        db_rows_free(orow);
    }
    return st;
}

/* Keyset paging, newest first by (created_at, id), over the ids one filtered
 * statement selects; orders and tickets share it. A page starting after a
 * cursor object takes the older rows, newest first; a page ending before one
 * takes the newer rows oldest first, and load_page turns them around. */
typedef struct {
    const char *cursor_sql; /* "SELECT created_at, id FROM <table> WHERE id = ? AND account_id = ?" */
    const char *older_sql;  /* the filters, then KEYSET_OLDER */
    const char *newer_sql;  /* the filters, then KEYSET_NEWER */
    object_loader load;
} keyset_pager;

/* Keyset conditions on table alias `t`: parameters (cursor created_at or NULL
 * for a first page, the same twice, cursor id, limit + 1) and (created_at,
 * created_at, id, limit + 1). String literals, so each statement stays static. */
#define KEYSET_OLDER(t)                                                                                            \
    " AND (CAST(? AS BIGINT) IS NULL OR " t ".created_at < ? OR (" t ".created_at = ? AND " t ".id < ?))"          \
    " ORDER BY " t ".created_at DESC, " t ".id DESC LIMIT ?"
#define KEYSET_NEWER(t)                                                                                            \
    " AND (" t ".created_at > ? OR (" t ".created_at = ? AND " t ".id > ?)) ORDER BY " t ".created_at, " t ".id"   \
    " LIMIT ?"
/* The pager of `table` (alias t) over "SELECT t.id FROM <from_where>", objects read by load. */
#define KEYSET_PAGER(table, t, from_where, load)                                                                   \
    {"SELECT created_at, id FROM " table " WHERE id = ? AND account_id = ?",                                      \
     "SELECT " t ".id FROM " from_where KEYSET_OLDER(t), "SELECT " t ".id FROM " from_where KEYSET_NEWER(t), load}

/* What a list transaction is asked and answers; first member of each list's context. */
typedef struct {
    const account *a;
    const char *starting_after, *ending_before;
    int limit; /* clamped to 1..1000 */
    json_t *out;
    bool has_more, bad_cursor;
} page_ctx;

static int page_limit(int limit) { return limit < 1 ? 1 : limit > 1000 ? 1000 : limit; }

/* Where a cursor object sits in a created_at, id ordering. */
static db_status cursor_position(db_conn *c, const char *sql, const char *id, const char *account_id,
                                 int64_t *created, char out_id[40])
{
    db_rows *r;
    db_status st = db_query(c, sql, DB_ARGS(DB_TEXT(id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    if (db_next(r)) {
        *created = db_int(r, 0);
        snprintf(out_id, 40, "%s", db_text(r, 1));
    } else {
        st = DB_NOTFOUND;
    }
    db_rows_free(r);
    return st;
}

/* One page: p[0..n) are the filters' parameters, with room for the five of
 * the keyset after them. An unknown cursor sets bad_cursor and aborts. */
static db_status keyset_page(db_conn *c, const keyset_pager *pg, db_param *p, int n, page_ctx *x)
{
    const char *cursor = x->ending_before ? x->ending_before : x->starting_after;
    int64_t created = 0;
    char id[40] = "";
    if (cursor) {
        db_status st = cursor_position(c, pg->cursor_sql, cursor, x->a->id, &created, id);
        if (st == DB_NOTFOUND) x->bad_cursor = true;
        if (st != DB_OK) return st == DB_NOTFOUND ? DB_ABORT : st;
    }
    if (!x->ending_before) p[n++] = cursor ? DB_INT(created) : DB_NULL;
    p[n++] = cursor ? DB_INT(created) : DB_NULL;
    p[n++] = cursor ? DB_INT(created) : DB_NULL;
    p[n++] = DB_TEXT(cursor ? id : NULL);
    p[n++] = DB_INT(x->limit + 1);
    db_rows *r;
    db_status st = db_query(c, x->ending_before ? pg->newer_sql : pg->older_sql, p, n, &r);
    if (st != DB_OK) return st;
    return load_page(c, r, x->limit, x->ending_before != NULL, pg->load, x->a, &x->out, &x->has_more);
}

/* Runs a list transaction whose context starts with its page_ctx. */
static bo_status list_run(engine *e, store_fn fn, page_ctx *x, json_t **out,
                          bool *has_more, bo_error *err)
{
    db_status st = store_read(e->st, fn, x);
    if (x->bad_cursor) return bo_fail(err, BO_INVALID, "invalid_cursor", "cursor", "unknown cursor object");
    if (st != DB_OK) return bo_from_db(st, err);
    *out = x->out;
    if (has_more) *has_more = x->has_more;
    return BO_OK;
}

/* A filter a NULL parameter turns off: "(CAST(? AS T) IS NULL OR col = ?)". */
#define OPT_TEXT(v) DB_TEXT(v), DB_TEXT(v)
#define OPT_INT(v) ((v) ? DB_INT(v) : DB_NULL), ((v) ? DB_INT(v) : DB_NULL)

typedef struct {
    page_ctx page;
    const order_query *q;
} list_ctx;

static const keyset_pager order_pager = KEYSET_PAGER("orders", "o", "orders o" ORDER_FILTERS, load_order);

static db_status list_fn(db_conn *c, void *arg)
{
    list_ctx *x = arg;
    const order_query *q = x->q;
    char visit_from[11], visit_to[11];
    if (q->visit_from >= 0) date_format(q->visit_from, visit_from);
    if (q->visit_to >= 0) date_format(q->visit_to, visit_to);
    char name_like[200];
    if (q->name) snprintf(name_like, sizeof name_like, "%%%s%%", q->name);
    db_param params[64];
    int n = 0;
    const db_param base[] = {
        DB_TEXT(x->page.a->id), OPT_TEXT(q->number), OPT_TEXT(q->email), OPT_TEXT(q->external_id),
        OPT_TEXT(q->reseller_id), OPT_TEXT(q->name ? name_like : NULL), OPT_TEXT(q->channel),
        OPT_TEXT(q->product_type), DB_TEXT(q->statuses[0]), DB_TEXT(q->statuses[0]),
        DB_TEXT(q->statuses[0] ? q->statuses[1] : NULL), DB_TEXT(q->statuses[0] && q->statuses[1] ? q->statuses[2] : NULL),
        DB_TEXT(q->statuses[0] && q->statuses[1] && q->statuses[2] ? q->statuses[3] : NULL), OPT_INT(q->updated_from),
        OPT_INT(q->created_gt), OPT_INT(q->created_gte), OPT_INT(q->created_lt), OPT_INT(q->created_lte),
        OPT_TEXT(q->visit_from >= 0 ? visit_from : NULL), OPT_TEXT(q->visit_to >= 0 ? visit_to : NULL),
        OPT_TEXT(q->event_id), OPT_TEXT(q->barcode), OPT_TEXT(q->occurrence), DB_TEXT(q->product_ids[0])};
    memcpy(params, base, sizeof base);
    n = (int)(sizeof base / sizeof base[0]);
    bool more = q->product_ids[0] != NULL;
    for (int i = 0; i < 8; i++) {
        more = more && q->product_ids[i];
        params[n++] = more ? DB_TEXT(q->product_ids[i]) : DB_NULL;
    }
    if (q->sort != ORDER_BY_CHANGE_ASC) return keyset_page(c, &order_pager, params, n, &x->page);
    params[n++] = DB_INT(q->after_change_seq);
    params[n++] = DB_INT(x->page.limit + 1);
    db_rows *r;
    db_status st = db_query(
        c, "SELECT o.id FROM orders o" ORDER_FILTERS " AND o.change_seq > ? ORDER BY o.change_seq LIMIT ?", params,
        n, &r);
    if (st != DB_OK) return st;
    return load_page(c, r, x->page.limit, q->ending_before != NULL, load_order, x->page.a, &x->page.out,
                     &x->page.has_more);
}

bo_status orders_list(engine *e, const account *a, const order_query *q, json_t **out, bool *has_more, bo_error *err)
{
    list_ctx x = {{a, q->starting_after, q->ending_before, page_limit(q->limit), NULL, false, false}, q};
    return list_run(e, list_fn, &x.page, out, has_more, err);
}

#define TICKET_FILTERS                                                                                              \
    " WHERE t.account_id = ?"                                                                                       \
    " AND (CAST(? AS TEXT) IS NULL OR t.order_id = ?)"                                                              \
    " AND (CAST(? AS TEXT) IS NULL OR t.occurrence = ?)"                                                            \
    " AND (CAST(? AS TEXT) IS NULL OR t.barcode = ?)"                                                               \
    " AND (CAST(? AS TEXT) IS NULL OR t.status = ?)"                                                                \
    " AND (CAST(? AS TEXT) IS NULL OR lower(o.email) = lower(?))"                                                   \
    " AND (CAST(? AS TEXT) IS NULL OR lower(o.customer_name) LIKE lower(?))"                                        \
    " AND (CAST(? AS BIGINT) IS NULL OR t.created_at > ?)"                                                          \
    " AND (CAST(? AS BIGINT) IS NULL OR t.created_at >= ?)"                                                         \
    " AND (CAST(? AS BIGINT) IS NULL OR t.created_at < ?)"                                                          \
    " AND (CAST(? AS BIGINT) IS NULL OR t.created_at <= ?)"

typedef struct {
    page_ctx page;
    const ticket_query *q;
} ticket_list_ctx;

static const keyset_pager ticket_pager =
    KEYSET_PAGER("tickets", "t", "tickets t LEFT JOIN orders o ON o.id = t.order_id" TICKET_FILTERS,
                 load_ticket_with_buyer);

static db_status ticket_list_fn(db_conn *c, void *arg)
{
    ticket_list_ctx *x = arg;
    const ticket_query *q = x->q;
    char name_like[200];
    if (q->name) snprintf(name_like, sizeof name_like, "%%%s%%", q->name);
    db_param p[40];
    const db_param base[] = {DB_TEXT(x->page.a->id), OPT_TEXT(q->order_id), OPT_TEXT(q->event_id), OPT_TEXT(q->barcode),
                             OPT_TEXT(q->status), OPT_TEXT(q->email), OPT_TEXT(q->name ? name_like : NULL),
                             OPT_INT(q->created_gt), OPT_INT(q->created_gte), OPT_INT(q->created_lt),
                             OPT_INT(q->created_lte)};
    memcpy(p, base, sizeof base);
    return keyset_page(c, &ticket_pager, p, (int)(sizeof base / sizeof base[0]), &x->page);
}

bo_status tickets_list(engine *e, const account *a, const ticket_query *q, json_t **out, bool *has_more,
                       bo_error *err)
{
    ticket_list_ctx x = {{a, q->starting_after, q->ending_before, page_limit(q->limit), NULL, false, false}, q};
    return list_run(e, ticket_list_fn, &x.page, out, has_more, err);
}
