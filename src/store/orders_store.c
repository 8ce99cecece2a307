/* SQL of reading orders, tickets and payments (see orders_store.h). */
#include "store/orders_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *text(db_rows *r, int col) { return strdup(db_text(r, col)); }
static char *text_or_null(db_rows *r, int col) { return db_isnull(r, col) ? NULL : strdup(db_text(r, col)); }
static int64_t int_or_null(db_rows *r, int col) { return db_isnull(r, col) ? STORE_NULL_INT : db_int(r, col); }

/* Grows *items (of `size` bytes each) to hold n + 1. */
static void *grow(void *items, size_t n, size_t size) { return realloc(items, (n + 1) * size); }

/* ---------------- rows ---------------- */

#define TICKET_COLUMNS                                                                                             \
    "t.id, t.account_id, t.order_id, t.line_id, t.product_id, t.event_id, t.occurrence, t.barcode, t.status,"     \
    " t.price_gross, t.price_net, t.discount, t.valid_from, t.valid_to, t.scan_limit, t.scan_times, t.max_scans,"   \
    " t.time_duration, t.scans_used, t.inside, t.first_scan_at, t.last_scan_at, t.redeemed_at, t.day_key,"         \
    " t.day_scans, t.invalidated_at, t.version, t.created_at, t.updated_at, t.doc, t.allow_overtime, t.in_out"
#define TICKET_NCOLS 32

static void ticket_from_row(db_rows *r, int k, store_ticket_row *t)
{
    t->id = text(r, k + 0);
    t->account_id = text(r, k + 1);
    t->order_id = text_or_null(r, k + 2);
    t->line_id = text(r, k + 3);
    t->product_id = text(r, k + 4);
    t->event_id = text_or_null(r, k + 5);
    t->occurrence = text(r, k + 6);
    t->barcode = text(r, k + 7);
    t->status = text(r, k + 8);
    t->price_gross = db_int(r, k + 9);
    t->price_net = db_int(r, k + 10);
    t->discount = db_int(r, k + 11);
    t->valid_from = int_or_null(r, k + 12);
    t->valid_to = int_or_null(r, k + 13);
    t->scan_limit = text(r, k + 14);
    t->scan_times = db_int(r, k + 15);
    t->max_scans = int_or_null(r, k + 16);
    t->time_duration = int_or_null(r, k + 17);
    t->scans_used = db_int(r, k + 18);
    t->inside = db_int(r, k + 19) != 0;
    t->first_scan_at = int_or_null(r, k + 20);
    t->last_scan_at = int_or_null(r, k + 21);
    t->redeemed_at = int_or_null(r, k + 22);
    t->day_key = text_or_null(r, k + 23);
    t->day_scans = db_int(r, k + 24);
    t->invalidated_at = int_or_null(r, k + 25);
    t->version = db_int(r, k + 26);
    t->created_at = db_int(r, k + 27);
    t->updated_at = db_int(r, k + 28);
    t->doc = text(r, k + 29);
    t->allow_overtime = db_int(r, k + 30) != 0;
    t->in_out = db_int(r, k + 31) != 0;
}

void store_ticket_row_free(store_ticket_row *t)
{
    if (!t) return;
    char *s[] = {t->id,         t->account_id, t->order_id,   t->line_id, t->product_id, t->event_id,
                 t->occurrence, t->barcode,    t->status,     t->scan_limit, t->day_key, t->doc};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) free(s[i]);
    memset(t, 0, sizeof *t);
}

#define ORDER_COLUMNS                                                                                              \
    "o.id, o.account_id, o.number, o.status, o.channel, o.cart_id, o.external_id, o.email, o.customer_name,"        \
    " o.reseller_id, o.visit_date, o.product_type, o.currency, o.total_gross, o.total_net, o.discount_total,"       \
    " o.created_at, o.updated_at, o.change_seq, o.doc"

static void order_from_row(db_rows *r, store_order_row *o)
{
    o->id = text(r, 0);
    o->account_id = text(r, 1);
    o->number = text(r, 2);
    o->status = text(r, 3);
    o->channel = text(r, 4);
    o->cart_id = text_or_null(r, 5);
    o->external_id = text_or_null(r, 6);
    o->email = text_or_null(r, 7);
    o->customer_name = text_or_null(r, 8);
    o->reseller_id = text_or_null(r, 9);
    o->visit_date = text_or_null(r, 10);
    o->product_type = text(r, 11);
    o->currency = text(r, 12);
    o->total_gross = db_int(r, 13);
    o->total_net = db_int(r, 14);
    o->discount_total = db_int(r, 15);
    o->created_at = db_int(r, 16);
    o->updated_at = db_int(r, 17);
    o->change_seq = db_int(r, 18);
    o->doc = text(r, 19);
}

void store_order_row_free(store_order_row *o)
{
    if (!o) return;
    char *s[] = {o->id,          o->account_id,  o->number,     o->status,       o->channel,
                 o->cart_id,     o->external_id, o->email,      o->customer_name, o->reseller_id,
                 o->visit_date,  o->product_type, o->currency,  o->doc};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) free(s[i]);
    memset(o, 0, sizeof *o);
}

static void payment_from_row(db_rows *r, store_payment_row *p)
{
    p->id = db_int(r, 0);
    p->account_id = text(r, 1);
    p->order_id = text(r, 2);
    p->kind = text(r, 3);
    p->provider = text_or_null(r, 4);
    p->method = text_or_null(r, 5);
    p->status = text(r, 6);
    p->amount = db_int(r, 7);
    p->reference = text_or_null(r, 8);
    p->created_at = db_int(r, 9);
    p->updated_at = db_int(r, 10);
    p->doc = text(r, 11);
}

void store_payment_row_free(store_payment_row *p)
{
    if (!p) return;
    char *s[] = {p->account_id, p->order_id, p->kind, p->provider, p->method, p->status, p->reference, p->doc};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) free(s[i]);
    memset(p, 0, sizeof *p);
}

void store_order_detail_free(store_order_detail *d)
{
    if (!d) return;
    store_order_row_free(&d->order);
    for (size_t i = 0; i < d->ntickets; i++) store_ticket_row_free(&d->tickets[i]);
    for (size_t i = 0; i < d->npayments; i++) store_payment_row_free(&d->payments[i]);
    free(d->tickets);
    free(d->payments);
    free(d->mail.last_error);
    memset(d, 0, sizeof *d);
}

void store_ticket_scan_free(store_ticket_scan *t)
{
    if (!t) return;
    store_ticket_row_free(&t->ticket);
    free(t->order_visit_date);
    free(t->order_doc);
    memset(t, 0, sizeof *t);
}

void store_ticket_listed_free(store_ticket_listed *t)
{
    if (!t) return;
    store_ticket_row_free(&t->ticket);
    free(t->order_email);
    free(t->order_name);
    memset(t, 0, sizeof *t);
}

void store_order_page_free(store_order_page *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) store_order_detail_free(&p->orders[i]);
    free(p->orders);
    memset(p, 0, sizeof *p);
}

void store_ticket_page_free(store_ticket_page *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) store_ticket_listed_free(&p->tickets[i]);
    free(p->tickets);
    memset(p, 0, sizeof *p);
}

/* ---------------- one order, one ticket ---------------- */

#define MAIL_COLUMNS "m.status, m.attempts, m.last_error, m.sent_at, m.order_id"

static void mail_from_row(db_rows *r, store_order_mail *m)
{
    m->queued = true;
    snprintf(m->status, sizeof m->status, "%s", db_text(r, 0));
    m->attempts = db_int(r, 1);
    free(m->last_error);
    m->last_error = text_or_null(r, 2);
    m->sent_at = db_isnull(r, 3) ? 0 : db_int(r, 3);
}

/* The tickets and payments of d->order (read already). */
static db_status order_children(db_conn *c, store_order_detail *d)
{
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT " TICKET_COLUMNS " FROM tickets t WHERE t.order_id = ?"
                            " ORDER BY t.created_at, t.line_id, t.id",
                            DB_ARGS(DB_TEXT(d->order.id)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        d->tickets = grow(d->tickets, d->ntickets, sizeof *d->tickets);
        ticket_from_row(r, 0, &d->tickets[d->ntickets++]);
    }
    db_rows_free(r);
    st = db_query(c,
                  "SELECT id, account_id, order_id, kind, provider, method, status, amount, reference, created_at,"
                  " updated_at, doc FROM payments WHERE order_id = ? ORDER BY id",
                  DB_ARGS(DB_TEXT(d->order.id)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        d->payments = grow(d->payments, d->npayments, sizeof *d->payments);
        payment_from_row(r, &d->payments[d->npayments++]);
    }
    db_rows_free(r);
    st = db_query(c, "SELECT " MAIL_COLUMNS " FROM mail_outbox m WHERE m.order_id = ? AND m.account_id = ?",
                  DB_ARGS(DB_TEXT(d->order.id), DB_TEXT(d->order.account_id)), &r);
    if (st != DB_OK) return st;
    if (db_next(r)) mail_from_row(r, &d->mail);
    db_rows_free(r);
    return DB_OK;
}

/* The account's order with this id, or with this number. */
static db_status order_read(db_conn *c, const char *account_id, bool by_number, const char *key,
                            store_order_detail *out)
{
    memset(out, 0, sizeof *out);
    db_rows *r;
    db_status st =
        by_number
            ? db_query(c, "SELECT " ORDER_COLUMNS " FROM orders o WHERE o.number = ? AND o.account_id = ?",
                       DB_ARGS(DB_TEXT(key), DB_TEXT(account_id)), &r)
            : db_query(c, "SELECT " ORDER_COLUMNS " FROM orders o WHERE o.id = ? AND o.account_id = ?",
                       DB_ARGS(DB_TEXT(key), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    st = DB_NOTFOUND;
    if (db_next(r)) {
        order_from_row(r, &out->order);
        st = DB_OK;
    }
    db_rows_free(r);
    if (st == DB_OK) st = order_children(c, out);
    if (st != DB_OK) store_order_detail_free(out);
    return st;
}

store_status store_order_load(db_conn *c, const char *account_id, const char *order_id, store_order_detail *out)
{
    return store_status_of(order_read(c, account_id, false, order_id, out));
}

typedef struct {
    const char *account_id, *key;
    bool by_number;
    store_order_detail *out;
} order_get_ctx;

static db_status order_get_fn(db_conn *c, void *arg)
{
    order_get_ctx *x = arg;
    return order_read(c, x->account_id, x->by_number, x->key, x->out);
}

store_status store_order_get(store *s, const char *account_id, const char *order_id, store_order_detail *out)
{
    order_get_ctx x = {account_id, order_id, false, out};
    memset(out, 0, sizeof *out);
    db_status st = store_read(s, order_get_fn, &x);
    if (st != DB_OK) store_order_detail_free(out);
    return store_status_of(st);
}

store_status store_order_get_by_number(store *s, const char *account_id, const char *number, store_order_detail *out)
{
    order_get_ctx x = {account_id, number, true, out};
    memset(out, 0, sizeof *out);
    db_status st = store_read(s, order_get_fn, &x);
    if (st != DB_OK) store_order_detail_free(out);
    return store_status_of(st);
}

static db_status ticket_read(db_conn *c, const char *account_id, const char *ticket_id, store_ticket_row *out)
{
    memset(out, 0, sizeof *out);
    db_rows *r;
    db_status st = db_query(c, "SELECT " TICKET_COLUMNS " FROM tickets t WHERE t.id = ? AND t.account_id = ?",
                            DB_ARGS(DB_TEXT(ticket_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    st = DB_NOTFOUND;
    if (db_next(r)) {
        ticket_from_row(r, 0, out);
        st = DB_OK;
    }
    db_rows_free(r);
    return st;
}

store_status store_ticket_load(db_conn *c, const char *account_id, const char *ticket_id, store_ticket_row *out)
{
    return store_status_of(ticket_read(c, account_id, ticket_id, out));
}

typedef struct {
    const char *account_id, *ticket_id;
    store_ticket_row *out;
} ticket_get_ctx;

static db_status ticket_get_fn(db_conn *c, void *arg)
{
    ticket_get_ctx *x = arg;
    return ticket_read(c, x->account_id, x->ticket_id, x->out);
}

store_status store_ticket_get(store *s, const char *account_id, const char *ticket_id, store_ticket_row *out)
{
    ticket_get_ctx x = {account_id, ticket_id, out};
    memset(out, 0, sizeof *out);
    db_status st = store_read(s, ticket_get_fn, &x);
    if (st != DB_OK) store_ticket_row_free(out);
    return store_status_of(st);
}

typedef struct {
    const char *account_id, *lo, *hi;
    char (*ids)[37];
    size_t max, *n;
} ticket_ids_ctx;

static db_status ticket_ids_fn(db_conn *c, void *arg)
{
    ticket_ids_ctx *x = arg;
    db_rows *r;
    /* a range of the primary key: ids are compared as text, which orders
     * lower-case UUIDs as their numbers. The account is a filter on the few
     * rows in range ("|| ''" keeps SQLite from scanning all the account's
     * tickets through tickets_account instead; PostgreSQL plans the same). */
    db_status st = db_query(c,
                            "SELECT id FROM tickets WHERE id >= ? AND id <= ? AND account_id || '' = ? ORDER BY id LIMIT ?",
                            DB_ARGS(DB_TEXT(x->lo), DB_TEXT(x->hi), DB_TEXT(x->account_id), DB_INT(x->max)), &r);
    if (st != DB_OK) return st;
    *x->n = 0;
    while (db_next(r) && *x->n < x->max) {
        const char *id = db_text(r, 0);
        snprintf(x->ids[(*x->n)++], 37, "%s", id ? id : "");
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_ticket_ids_between(store *s, const char *account_id, const char *lo, const char *hi,
                                      char (*ids)[37], size_t max, size_t *n)
{
    *n = 0;
    ticket_ids_ctx x = {account_id, lo, hi, ids, max, n};
    return store_status_of(store_read(s, ticket_ids_fn, &x));
}

store_status store_ticket_load_scan(db_conn *c, const char *account_id, const char *ticket_id, store_ticket_scan *out)
{
    memset(out, 0, sizeof *out);
    db_status st = ticket_read(c, account_id, ticket_id, &out->ticket);
    if (st != DB_OK || !out->ticket.order_id) return store_status_of(st);
    db_rows *r;
    st = db_query(c, "SELECT visit_date, doc FROM orders WHERE id = ? AND account_id = ?",
                  DB_ARGS(DB_TEXT(out->ticket.order_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) {
        store_ticket_scan_free(out);
        return store_status_of(st);
    }
    if (db_next(r)) {
        out->has_order = true;
        out->order_visit_date = text_or_null(r, 0);
        out->order_doc = text(r, 1);
    }
    db_rows_free(r);
    return STORE_OK;
}

/* ---------------- pages ---------------- */

/* Every filter is in the one static statement as "(param IS NULL OR ...)", so
 * each driver prepares it once. */
#define ORDER_FILTERS(extras_field)                                                                                 \
    " WHERE o.account_id = ?"                                                                                       \
    " AND (CAST(? AS TEXT) IS NULL OR " extras_field " = ?)"                                                        \
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
    " AND (CAST(? AS BIGINT) IS NULL OR t.created_at <= ?)"                                                         \
    " AND (CAST(? AS TEXT) IS NULL OR t.product_id IN (?, ?, ?, ?, ?, ?, ?, ?))"

/* Keyset paging, newest first by (created_at, id); orders and tickets share
 * it. A page starting after a cursor object takes the older rows, newest
 * first; a page ending before one takes the newer rows oldest first, and the
 * page is turned around. The bound is one row-value comparison, which both
 * databases turn into a range of the (account_id, created_at, id) index: the
 * page starts with a seek, so page 10,000 costs what page 1 does (an OR of
 * the two columns' conditions made them walk every newer row instead). A
 * first page is bounded by a position after every row, so it shares the
 * statement. Parameters: cursor created_at, cursor id, limit + 1. String
 * literals, so each statement stays static. */
#define KEYSET_OLDER(t)                                                                                            \
    " AND (" t ".created_at, " t ".id) < (?, ?) ORDER BY " t ".created_at DESC, " t ".id DESC LIMIT ?"
#define KEYSET_NEWER(t)                                                                                            \
    " AND (" t ".created_at, " t ".id) > (?, ?) ORDER BY " t ".created_at, " t ".id LIMIT ?"

/* A key of the order's extras (its doc's "extras" object), as each database
 * reads JSON text; the parameter is the key, which the engine keeps free of
 * quotes and backslashes. */
#define EXTRAS_FIELD_SQLITE "json_extract(o.doc, '$.extras.\"' || ? || '\"')"
#define EXTRAS_FIELD_POSTGRES "(CAST(o.doc AS jsonb) -> 'extras' ->> ?)"
#define ORDERS_FROM(extras_field) " FROM orders o" ORDER_FILTERS(extras_field)
#define TICKETS_FROM                                                                                               \
    ", o.id, o.email, o.customer_name FROM tickets t LEFT JOIN orders o ON o.id = t.order_id" TICKET_FILTERS

/* A filter a NULL parameter turns off: "(CAST(? AS T) IS NULL OR col = ?)". */
#define OPT_TEXT(v) DB_TEXT(v), DB_TEXT(v)
#define OPT_INT(v) ((v) ? DB_INT(v) : DB_NULL), ((v) ? DB_INT(v) : DB_NULL)

/* Where a cursor object sits in a created_at, id ordering; DB_NOTFOUND when
 * it is no row of this account. */
static db_status cursor_position(db_conn *c, const char *sql, const char *id, const char *account_id,
                                 int64_t *created, char out_id[64])
{
    db_rows *r;
    db_status st = db_query(c, sql, DB_ARGS(DB_TEXT(id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    if (db_next(r)) {
        *created = db_int(r, 0);
        snprintf(out_id, 64, "%s", db_text(r, 1));
    } else {
        st = DB_NOTFOUND;
    }
    db_rows_free(r);
    return st;
}

/* Appends the keyset's parameters to p[0..*n) for the cursor (NULL: first
 * page, bounded after every row: no created_at reaches INT64_MAX). Returns
 * DB_NOTFOUND for an unknown cursor. */
static db_status keyset_params(db_conn *c, const char *cursor_sql, const char *account_id, const char *starting_after,
                               const char *ending_before, int limit, db_param *p, int *n, char id[64])
{
    const char *cursor = ending_before ? ending_before : starting_after;
    int64_t created = INT64_MAX;
    if (cursor) {
        db_status st = cursor_position(c, cursor_sql, cursor, account_id, &created, id);
        if (st != DB_OK) return st;
    }
    int k = *n;
    p[k++] = DB_INT(created);
    p[k++] = DB_TEXT(cursor ? id : "");
    p[k++] = DB_INT(limit + 1);
    *n = k;
    return DB_OK;
}

/* An ending_before page came oldest first; it goes out newest first. */
static void reverse_orders(store_order_detail *d, size_t n)
{
    for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
        store_order_detail tmp = d[i];
        d[i] = d[j];
        d[j] = tmp;
    }
}

static void reverse_tickets(store_ticket_listed *t, size_t n)
{
    for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
        store_ticket_listed tmp = t[i];
        t[i] = t[j];
        t[j] = tmp;
    }
}

/* A page of orders in three static statements, the same parameters each: the
 * orders, then the tickets and the payments of every order of the page, the
 * page's own query naming them as a subquery (a statement per order made a
 * page of 100 cost 200 more round trips). The subquery's one order past the
 * page brings children nobody asked for; page_children drops them. On
 * PostgreSQL the subquery is an array: a generic plan guesses a LIMIT
 * parameter at a tenth of the table, and for `IN (subquery)` it then hashes
 * every payment; `= ANY (ARRAY(subquery))` is always an index lookup per id. */
#define SQLITE_IN(x, tail) " IN (SELECT o.id" ORDERS_FROM(x) tail ")"
#define POSTGRES_IN(x, tail) " = ANY (ARRAY(SELECT o.id" ORDERS_FROM(x) tail "))"
#define PAGE_CHILDREN_SQL(tail, x, in)                                                                             \
    {"SELECT " ORDER_COLUMNS ORDERS_FROM(x) tail,                                                                  \
     "SELECT " TICKET_COLUMNS " FROM tickets t WHERE t.order_id" in(x, tail)                                      \
     " ORDER BY t.order_id, t.created_at, t.line_id, t.id",                                                        \
     "SELECT p.id, p.account_id, p.order_id, p.kind, p.provider, p.method, p.status, p.amount, p.reference,"       \
     " p.created_at, p.updated_at, p.doc FROM payments p WHERE p.order_id" in(x, tail) " ORDER BY p.order_id, p.id",  \
     "SELECT " MAIL_COLUMNS " FROM mail_outbox m WHERE m.order_id" in(x, tail)}

typedef struct {
    const char *orders, *tickets, *payments, *mail;
} order_page_sql;

#define BY_CHANGE_SEQ " AND o.change_seq > ? ORDER BY o.change_seq LIMIT ?"
enum { PAGE_BY_CHANGE_SEQ, PAGE_OLDER_THAN_CURSOR, PAGE_NEWER_THAN_CURSOR };
/* [SQLite, PostgreSQL][which page] */
#define SQLITE_PAGES(tail) PAGE_CHILDREN_SQL(tail, EXTRAS_FIELD_SQLITE, SQLITE_IN)
#define POSTGRES_PAGES(tail) PAGE_CHILDREN_SQL(tail, EXTRAS_FIELD_POSTGRES, POSTGRES_IN)
static const order_page_sql page_sql[2][3] = {
    {SQLITE_PAGES(BY_CHANGE_SEQ), SQLITE_PAGES(KEYSET_OLDER("o")), SQLITE_PAGES(KEYSET_NEWER("o"))},
    {POSTGRES_PAGES(BY_CHANGE_SEQ), POSTGRES_PAGES(KEYSET_OLDER("o")), POSTGRES_PAGES(KEYSET_NEWER("o"))}};

static int detail_by_id(const void *a, const void *b)
{
    return strcmp((*(store_order_detail *const *)a)->order.id, (*(store_order_detail *const *)b)->order.id);
}

/* The page's order with this id; NULL for the one past the page. */
static store_order_detail *page_order(store_order_detail **by_id, size_t n, const char *id)
{
    store_order_detail key_detail = {.order.id = (char *)id}, *key = &key_detail;
    store_order_detail **hit = bsearch(&key, by_id, n, sizeof *by_id, detail_by_id);
    return hit ? *hit : NULL;
}

static db_status page_children(db_conn *c, const order_page_sql *sql, const db_param *p, int n, store_order_page *out)
{
    store_order_detail **by_id = malloc(out->n * sizeof *by_id);
    if (!by_id) return DB_ERROR;
    for (size_t i = 0; i < out->n; i++) by_id[i] = &out->orders[i];
    qsort(by_id, out->n, sizeof *by_id, detail_by_id);
    db_rows *r;
    db_status st = db_query(c, sql->tickets, p, n, &r);
    if (st == DB_OK) {
        while (db_next(r)) {
            store_order_detail *d = page_order(by_id, out->n, db_text(r, 2));
            if (!d) continue;
            d->tickets = grow(d->tickets, d->ntickets, sizeof *d->tickets);
            ticket_from_row(r, 0, &d->tickets[d->ntickets++]);
        }
        db_rows_free(r);
        st = db_query(c, sql->payments, p, n, &r);
    }
    if (st == DB_OK) {
        while (db_next(r)) {
            store_order_detail *d = page_order(by_id, out->n, db_text(r, 2));
            if (!d) continue;
            d->payments = grow(d->payments, d->npayments, sizeof *d->payments);
            payment_from_row(r, &d->payments[d->npayments++]);
        }
        db_rows_free(r);
        st = db_query(c, sql->mail, p, n, &r);
    }
    if (st == DB_OK) {
        while (db_next(r)) {
            store_order_detail *d = page_order(by_id, out->n, db_text(r, 4));
            if (d) mail_from_row(r, &d->mail);
        }
        db_rows_free(r);
    }
    free(by_id);
    return st;
}

typedef struct {
    const char *account_id;
    const store_order_filter *f;
    store_order_page *out;
} orders_page_ctx;

static db_status orders_page_fn(db_conn *c, void *arg)
{
    orders_page_ctx *x = arg;
    const store_order_filter *f = x->f;
    store_order_page *out = x->out;
    store_order_page_free(out);
    char visit_from[11], visit_to[11];
    if (f->visit_from >= 0) date_format(f->visit_from, visit_from);
    if (f->visit_to >= 0) date_format(f->visit_to, visit_to);
    char name_like[200];
    if (f->name) snprintf(name_like, sizeof name_like, "%%%s%%", f->name);
    db_param p[64];
    const db_param base[] = {
        DB_TEXT(x->account_id), DB_TEXT(f->extras_key ? f->extras_value : NULL), DB_TEXT(f->extras_key),
        DB_TEXT(f->extras_key ? f->extras_value : NULL), OPT_TEXT(f->number), OPT_TEXT(f->email), OPT_TEXT(f->external_id),
        OPT_TEXT(f->reseller_id), OPT_TEXT(f->name ? name_like : NULL), OPT_TEXT(f->channel),
        OPT_TEXT(f->product_type), DB_TEXT(f->statuses[0]), DB_TEXT(f->statuses[0]),
        DB_TEXT(f->statuses[0] ? f->statuses[1] : NULL),
        DB_TEXT(f->statuses[0] && f->statuses[1] ? f->statuses[2] : NULL),
        DB_TEXT(f->statuses[0] && f->statuses[1] && f->statuses[2] ? f->statuses[3] : NULL), OPT_INT(f->updated_from),
        OPT_INT(f->created_gt), OPT_INT(f->created_gte), OPT_INT(f->created_lt), OPT_INT(f->created_lte),
        OPT_TEXT(f->visit_from >= 0 ? visit_from : NULL), OPT_TEXT(f->visit_to >= 0 ? visit_to : NULL),
        OPT_TEXT(f->event_id), OPT_TEXT(f->barcode), OPT_TEXT(f->occurrence), DB_TEXT(f->product_ids[0])};
    memcpy(p, base, sizeof base);
    int n = (int)(sizeof base / sizeof base[0]);
    bool more = f->product_ids[0] != NULL;
    for (int i = 0; i < 8; i++) {
        more = more && f->product_ids[i];
        p[n++] = more ? DB_TEXT(f->product_ids[i]) : DB_NULL;
    }
    const order_page_sql *sql = page_sql[db_conn_dialect(c) == DB_DIALECT_POSTGRES];
    char cursor_id[64] = "";
    if (f->by_change_seq) {
        p[n++] = DB_INT(f->after_change_seq);
        p[n++] = DB_INT(f->limit + 1);
        sql += PAGE_BY_CHANGE_SEQ;
    } else {
        db_status st = keyset_params(c, "SELECT created_at, id FROM orders WHERE id = ? AND account_id = ?",
                                     x->account_id, f->starting_after, f->ending_before, f->limit, p, &n, cursor_id);
        if (st != DB_OK) return st;
        sql += f->ending_before ? PAGE_NEWER_THAN_CURSOR : PAGE_OLDER_THAN_CURSOR;
    }
    db_rows *r;
    db_status st = db_query(c, sql->orders, p, n, &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        if (out->n == (size_t)f->limit) { /* the one past the page */
            out->has_more = true;
            break;
        }
        out->orders = grow(out->orders, out->n, sizeof *out->orders);
        store_order_detail *d = &out->orders[out->n++];
        memset(d, 0, sizeof *d);
        order_from_row(r, &d->order);
    }
    db_rows_free(r);
    if (out->n) st = page_children(c, sql, p, n, out);
    if (st != DB_OK) return st;
    if (f->ending_before) reverse_orders(out->orders, out->n);
    return DB_OK;
}

store_status store_orders_page(store *s, const char *account_id, const store_order_filter *f, store_order_page *out)
{
    memset(out, 0, sizeof *out);
    orders_page_ctx x = {account_id, f, out};
    db_status st = store_read(s, orders_page_fn, &x);
    if (st != DB_OK) store_order_page_free(out);
    return store_status_of(st);
}

typedef struct {
    const char *account_id;
    const store_ticket_filter *f;
    store_ticket_page *out;
} tickets_page_ctx;

static db_status tickets_page_fn(db_conn *c, void *arg)
{
    tickets_page_ctx *x = arg;
    const store_ticket_filter *f = x->f;
    store_ticket_page *out = x->out;
    store_ticket_page_free(out);
    char name_like[200];
    if (f->name) snprintf(name_like, sizeof name_like, "%%%s%%", f->name);
    db_param p[40];
    const db_param base[] = {DB_TEXT(x->account_id), OPT_TEXT(f->order_id), OPT_TEXT(f->occurrence),
                             OPT_TEXT(f->barcode), OPT_TEXT(f->status), OPT_TEXT(f->email),
                             OPT_TEXT(f->name ? name_like : NULL), OPT_INT(f->created_gt), OPT_INT(f->created_gte),
                             OPT_INT(f->created_lt), OPT_INT(f->created_lte), DB_TEXT(f->product_ids[0])};
    memcpy(p, base, sizeof base);
    int n = (int)(sizeof base / sizeof base[0]);
    bool more = f->product_ids[0] != NULL;
    for (int i = 0; i < 8; i++) {
        more = more && f->product_ids[i];
        p[n++] = more ? DB_TEXT(f->product_ids[i]) : DB_NULL;
    }
    char cursor_id[64] = "";
    db_status st = keyset_params(c, "SELECT created_at, id FROM tickets WHERE id = ? AND account_id = ?",
                                 x->account_id, f->starting_after, f->ending_before, f->limit, p, &n, cursor_id);
    if (st != DB_OK) return st;
    db_rows *r;
    st = db_query(c,
                  f->ending_before ? "SELECT " TICKET_COLUMNS TICKETS_FROM KEYSET_NEWER("t")
                                   : "SELECT " TICKET_COLUMNS TICKETS_FROM KEYSET_OLDER("t"),
                  p, n, &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        if (out->n == (size_t)f->limit) {
            out->has_more = true;
            break;
        }
        out->tickets = grow(out->tickets, out->n, sizeof *out->tickets);
        store_ticket_listed *t = &out->tickets[out->n++];
        memset(t, 0, sizeof *t);
        ticket_from_row(r, 0, &t->ticket);
        t->has_order = t->ticket.order_id && !db_isnull(r, TICKET_NCOLS);
        if (t->has_order) {
            t->order_email = text_or_null(r, TICKET_NCOLS + 1);
            t->order_name = text_or_null(r, TICKET_NCOLS + 2);
        }
    }
    db_rows_free(r);
    if (f->ending_before) reverse_tickets(out->tickets, out->n);
    return DB_OK;
}

store_status store_tickets_page(store *s, const char *account_id, const store_ticket_filter *f, store_ticket_page *out)
{
    memset(out, 0, sizeof *out);
    tickets_page_ctx x = {account_id, f, out};
    db_status st = store_read(s, tickets_page_fn, &x);
    if (st != DB_OK) store_ticket_page_free(out);
    return store_status_of(st);
}
