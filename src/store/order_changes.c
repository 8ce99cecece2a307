/* SQL of changes to existing orders and tickets (see order_changes.h). */
#include "store/order_changes.h"
#include "store/vouchers_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

void store_order_state_free(store_order_state *o)
{
    if (!o) return;
    free(o->doc);
    o->doc = NULL;
}

void store_ticket_state_free(store_ticket_state *t)
{
    if (!t) return;
    free(t->doc);
    free(t->pools);
    t->doc = NULL;
    t->pools = NULL;
    t->npools = 0;
}

void store_ticket_states_free(store_ticket_state *t, size_t n)
{
    if (!t) return;
    for (size_t i = 0; i < n; i++) store_ticket_state_free(&t[i]);
    free(t);
}

/* Whether the account has this row: STORE_CONFLICT when it does (a
 * conditional write found it in another state), STORE_NOT_FOUND when not. */
static store_status exists_or_not_found(db_conn *c, const char *sql, const char *account_id, const char *id)
{
    int64_t one = 0;
    db_status st = db_query_int(c, sql, DB_ARGS(DB_TEXT(id), DB_TEXT(account_id)), &one);
    return st == DB_OK ? STORE_CONFLICT : store_status_of(st);
}

/* ---------------- reads ---------------- */

store_status store_order_state_get(db_conn *c, const char *account_id, const char *order_id, store_order_state *out)
{
    memset(out, 0, sizeof *out);
    db_rows *r;
    db_status st = db_query(c, "SELECT status, doc FROM orders WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    st = DB_NOTFOUND;
    if (db_next(r)) {
        copy(out->status, sizeof out->status, db_text(r, 0));
        out->doc = strdup(db_text(r, 1));
        st = out->doc ? DB_OK : DB_ERROR;
    }
    db_rows_free(r);
    return store_status_of(st);
}

#define TICKET_STATE_COLUMNS "id, status, order_id, price_gross - discount, doc, line_id, pools"

static bool ticket_state_from_row(db_rows *r, store_ticket_state *t)
{
    memset(t, 0, sizeof *t);
    copy(t->id, sizeof t->id, db_text(r, 0));
    copy(t->status, sizeof t->status, db_text(r, 1));
    copy(t->order_id, sizeof t->order_id, db_isnull(r, 2) ? "" : db_text(r, 2));
    t->amount = db_int(r, 3);
    t->doc = strdup(db_text(r, 4));
    copy(t->line_id, sizeof t->line_id, db_text(r, 5));
    return t->doc != NULL && store_holds_decode(db_text(r, 6), &t->pools, &t->npools);
}

store_status store_ticket_state_get(db_conn *c, const char *account_id, const char *ticket_id,
                                    store_ticket_state *out)
{
    memset(out, 0, sizeof *out);
    db_rows *r;
    db_status st = db_query(c, "SELECT " TICKET_STATE_COLUMNS " FROM tickets WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(ticket_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    st = DB_NOTFOUND;
    if (db_next(r)) st = ticket_state_from_row(r, out) ? DB_OK : DB_ERROR;
    db_rows_free(r);
    return store_status_of(st);
}

store_status store_order_live_tickets(db_conn *c, const char *account_id, const char *order_id,
                                      store_ticket_state **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT " TICKET_STATE_COLUMNS " FROM tickets WHERE order_id = ? AND account_id = ?"
                            " AND status IN ('valid', 'unpaid')",
                            DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    store_ticket_state *t = NULL;
    size_t k = 0, cap = 0;
    while (st == DB_OK && db_next(r)) {
        if (k == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            store_ticket_state *grown = realloc(t, ncap * sizeof *t);
            if (!grown) {
                st = DB_ERROR;
                break;
            }
            t = grown;
            cap = ncap;
        }
        if (!ticket_state_from_row(r, &t[k++])) st = DB_ERROR;
    }
    db_rows_free(r);
    if (st != DB_OK) {
        store_ticket_states_free(t, k);
        return store_status_of(st);
    }
    *out = t;
    *n = k;
    return STORE_OK;
}

/* ---------------- writes ---------------- */

/* A paid payment as a refund needs it. */
typedef struct {
    int64_t id;
    char *provider, *method, *reference; /* owned; NULL none */
    money amount;                        /* what of it has not gone back yet */
} paid_payment;

static char *text_or_null(db_rows *r, int col) { return db_isnull(r, col) ? NULL : strdup(db_text(r, col)); }

static void paid_payments_free(paid_payment *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++) {
        free(p[i].provider);
        free(p[i].method);
        free(p[i].reference);
    }
    free(p);
}

/* The order's paid payments, oldest first; *out malloc'd (NULL when none). */
static db_status paid_payments(db_conn *c, const char *account_id, const char *order_id, paid_payment **out,
                               size_t *n)
{
    *out = NULL;
    *n = 0;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, provider, method, reference, amount - refunded FROM payments WHERE order_id = ?"
                            " AND account_id = ? AND kind = 'payment' AND status = 'paid' ORDER BY created_at, id",
                            DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    size_t cap = 0;
    while (st == DB_OK && db_next(r)) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 4;
            paid_payment *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                st = DB_ERROR;
                break;
            }
            *out = grown;
        }
        paid_payment *p = &(*out)[(*n)++];
        *p = (paid_payment){db_int(r, 0), text_or_null(r, 1), text_or_null(r, 2), text_or_null(r, 3), db_int(r, 4)};
    }
    db_rows_free(r);
    return st;
}

/* Gives `part` of payment p back to where it came from. The payment counts
 * what went back (`refunded`): ticket refunds give a payment back piece by
 * piece, and the guard keeps two of them from giving back more than it took. */
static store_status refund_payment(db_conn *c, const char *account_id, const char *order_id, const paid_payment *p,
                                   money part, instant_us now)
{
    if (part == 0 && p->amount > 0) return STORE_OK; /* nothing of this one goes back */
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE payments SET refunded = refunded + ?, updated_at = ?,"
                           " status = CASE WHEN ? = 1 THEN 'refunded' ELSE status END"
                           " WHERE id = ? AND account_id = ? AND status = 'paid' AND refunded + ? <= amount",
                           DB_ARGS(DB_INT(part), DB_INT(now), DB_INT(part == p->amount ? 1 : 0), DB_INT(p->id),
                                   DB_TEXT(account_id), DB_INT(part)),
                           &changed);
    if (st == DB_OK && changed != 1) return STORE_RETRY; /* another refund got there first */
    if (st == DB_OK && part > 0)
        st = db_exec(c,
                     "INSERT INTO payments (account_id, order_id, kind, provider, method, status, amount, reference,"
                     " created_at, updated_at) VALUES (?, ?, 'refund', ?, ?, 'refunded', ?, ?, ?, ?)",
                     DB_ARGS(DB_TEXT(account_id), DB_TEXT(order_id), DB_TEXT(p->provider), DB_TEXT(p->method),
                             DB_INT(part), DB_TEXT(p->reference), DB_INT(now), DB_INT(now)),
                     NULL);
    if (st != DB_OK) return store_status_of(st);
    if (part > 0 && p->reference && p->provider && !strcmp(p->provider, "voucher"))
        return store_voucher_code_give_back(c, account_id, p->reference, order_id, part, now);
    return STORE_OK;
}

void store_refund_parts_free(store_refund_part *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++) {
        free(p[i].provider);
        free(p[i].reference);
    }
    free(p);
}

store_status store_order_refund_payments_to(db_conn *c, const char *account_id, const char *order_id, money amount,
                                            instant_us now, money *refunded, store_refund_part **parts,
                                            size_t *nparts)
{
    *refunded = 0;
    if (parts) *parts = NULL, *nparts = 0;
    paid_payment *p;
    size_t n;
    db_status st = paid_payments(c, account_id, order_id, &p, &n);
    store_status ss = store_status_of(st);
    if (ss == STORE_OK && parts && n && !(*parts = calloc(n, sizeof **parts))) ss = STORE_ERROR;
    money left = amount > 0 ? amount : 0;
    for (size_t i = 0; i < n && ss == STORE_OK; i++) {
        money part = p[i].amount < left ? p[i].amount : left;
        ss = refund_payment(c, account_id, order_id, &p[i], part, now);
        left -= part;
        *refunded += part;
        if (ss == STORE_OK && parts && part > 0) {
            store_refund_part *out = &(*parts)[(*nparts)++];
            out->amount = part;
            out->provider = p[i].provider, p[i].provider = NULL;
            out->reference = p[i].reference, p[i].reference = NULL;
        }
    }
    paid_payments_free(p, n);
    if (ss != STORE_OK) {
        *refunded = 0;
        if (parts) store_refund_parts_free(*parts, *nparts), *parts = NULL, *nparts = 0;
    }
    return ss;
}

store_status store_order_refund_payments(db_conn *c, const char *account_id, const char *order_id, money amount,
                                         instant_us now, money *refunded)
{
    return store_order_refund_payments_to(c, account_id, order_id, amount, now, refunded, NULL, NULL);
}

store_status store_order_refundable(db_conn *c, const char *account_id, const char *order_id, money *left)
{
    return store_status_of(db_query_int(c,
                                        "SELECT COALESCE(SUM(amount - refunded), 0) FROM payments WHERE order_id = ?"
                                        " AND account_id = ? AND kind = 'payment' AND status = 'paid'",
                                        DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), left));
}

store_status store_ticket_invalidate(db_conn *c, const char *account_id, const char *ticket_id,
                                     const char *new_status, const store_hold *holds, size_t nholds,
                                     const char *doc, instant_us now)
{
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE tickets SET status = ?, invalidated_at = ?, updated_at = ?, version = version + 1,"
                           " doc = COALESCE(CAST(? AS TEXT), doc) WHERE id = ? AND account_id = ?"
                           " AND status IN ('valid', 'unpaid')",
                           DB_ARGS(DB_TEXT(new_status), DB_INT(now), DB_INT(now), DB_TEXT(doc), DB_TEXT(ticket_id),
                                   DB_TEXT(account_id)),
                           &changed);
    if (st != DB_OK) return store_status_of(st);
    if (changed != 1)
        return exists_or_not_found(c, "SELECT 1 FROM tickets WHERE id = ? AND account_id = ?", account_id, ticket_id);
    return store_inventory_give_back(c, account_id, holds, nholds);
}

/* Replaces a ticket's document if it still is old_doc and the ticket is live
 * (or, with refunded, refunded): *changed is 1 when it was. */
static db_status swap_doc(db_conn *c, const char *account_id, const char *ticket_id, const char *old_doc,
                          const char *doc, instant_us now, bool refunded, int64_t *changed)
{
    return db_exec(c,
                   refunded ? "UPDATE tickets SET doc = ?, updated_at = ?, version = version + 1 WHERE id = ?"
                              " AND account_id = ? AND status = 'refunded' AND doc = ?"
                            : "UPDATE tickets SET doc = ?, updated_at = ?, version = version + 1 WHERE id = ?"
                              " AND account_id = ? AND status IN ('valid', 'unpaid') AND doc = ?",
                   DB_ARGS(DB_TEXT(doc), DB_INT(now), DB_TEXT(ticket_id), DB_TEXT(account_id), DB_TEXT(old_doc)),
                   changed);
}

store_status store_ticket_refunded_doc_set(db_conn *c, const char *account_id, const char *ticket_id,
                                           const char *old_doc, const char *doc, instant_us now)
{
    int64_t changed = 0;
    db_status st = swap_doc(c, account_id, ticket_id, old_doc, doc, now, true, &changed);
    if (st != DB_OK) return store_status_of(st);
    return changed == 1 ? STORE_OK : STORE_RETRY;
}

store_status store_ticket_set_doc(db_conn *c, const char *account_id, const char *ticket_id, const char *old_doc,
                                  const char *doc, instant_us now)
{
    int64_t changed = 0;
    db_status st = swap_doc(c, account_id, ticket_id, old_doc, doc, now, false, &changed);
    if (st != DB_OK) return store_status_of(st);
    if (changed == 1) return STORE_OK;
    char *status = NULL;
    st = db_query_text(c, "SELECT status FROM tickets WHERE id = ? AND account_id = ?",
                       DB_ARGS(DB_TEXT(ticket_id), DB_TEXT(account_id)), &status);
    if (st == DB_NOTFOUND) return STORE_NOT_FOUND;
    if (st != DB_OK) return store_status_of(st);
    bool live = !strcmp(status, "valid") || !strcmp(status, "unpaid");
    free(status);
    return live ? STORE_RETRY : STORE_CONFLICT;
}

store_status store_order_touch(db_conn *c, const char *account_id, const char *order_id, instant_us now)
{
    int64_t seq;
    store_status ss = store_counter_next(c, account_id, "order_change", &seq);
    if (ss != STORE_OK) return ss;
    int64_t changed = 0;
    db_status st = db_exec(c, "UPDATE orders SET updated_at = ?, change_seq = ? WHERE id = ? AND account_id = ?",
                           DB_ARGS(DB_INT(now), DB_INT(seq), DB_TEXT(order_id), DB_TEXT(account_id)), &changed);
    if (st != DB_OK) return store_status_of(st);
    return changed == 1 ? STORE_OK : STORE_NOT_FOUND;
}

store_status store_order_cancel(db_conn *c, const char *account_id, const char *order_id, const char *doc,
                                instant_us now)
{
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE orders SET status = 'cancelled', doc = COALESCE(CAST(? AS TEXT), doc)"
                           " WHERE id = ? AND account_id = ? AND status <> 'cancelled'",
                           DB_ARGS(DB_TEXT(doc), DB_TEXT(order_id), DB_TEXT(account_id)), &changed);
    if (st != DB_OK) return store_status_of(st);
    if (changed != 1)
        return exists_or_not_found(c, "SELECT 1 FROM orders WHERE id = ? AND account_id = ?", account_id, order_id);
    return store_order_touch(c, account_id, order_id, now);
}

store_status store_order_mark_paid(db_conn *c, const char *account_id, const char *order_id, const store_payment *p,
                                   instant_us now)
{
    /* confirmed first: the order's status is read only when it was not open.
     * SQLite (one writer) gives it its next change number in the same
     * statement and moves the counter after: two statements where
     * store_order_touch at the end takes three more. PostgreSQL takes the
     * counter's row lock last (store_order_touch), to hold it for the commit
     * alone. */
    bool returning = db_conn_dialect(c) == DB_DIALECT_POSTGRES;
    int64_t changed = 0;
    db_status st =
        returning
            ? db_exec(c, "UPDATE orders SET status = 'confirmed' WHERE id = ? AND account_id = ? AND status = 'open'",
                      DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &changed)
            : db_exec(c,
                      "UPDATE orders SET status = 'confirmed', updated_at = ?, change_seq = COALESCE((SELECT value"
                      " FROM counters WHERE account_id = ? AND name = 'order_change'), 0) + 1"
                      " WHERE id = ? AND account_id = ? AND status = 'open'",
                      DB_ARGS(DB_INT(now), DB_TEXT(account_id), DB_TEXT(order_id), DB_TEXT(account_id)), &changed);
    if (st != DB_OK) return store_status_of(st);
    if (changed != 1)
        return exists_or_not_found(c, "SELECT 1 FROM orders WHERE id = ? AND account_id = ?", account_id, order_id);
    if (!returning)
        st = db_exec(c,
                     "INSERT INTO counters (account_id, name, value) VALUES (?, 'order_change', 1)"
                     " ON CONFLICT (account_id, name) DO UPDATE SET value = counters.value + 1",
                     DB_ARGS(DB_TEXT(account_id)), NULL);
    if (st != DB_OK) return store_status_of(st);
    money amount = p ? p->amount : -1;
    if (amount < 0)
        st = db_query_int(c,
                          "SELECT COALESCE(SUM(price_gross - discount), 0) FROM tickets WHERE order_id = ?"
                          " AND account_id = ?",
                          DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &amount);
    if (st != DB_OK) return store_status_of(st);
    store_status ss = store_payment_insert(c, account_id, order_id, p ? p->provider : NULL, p ? p->method : NULL,
                                           "paid", amount, p ? p->reference : NULL, now);
    if (ss != STORE_OK) return ss;
    db_rows *valid;
    /* SQLite runs RETURNING through a temporary table opened per call (a
     * tenth of the writer's time on the CM checkout path, docs/PERFORMANCE.md):
     * there the occurrences are read first, in the same transaction */
    st = returning ? db_query(c,
                              "UPDATE tickets SET status = 'valid', updated_at = ? WHERE order_id = ? AND account_id = ?"
                              " AND status = 'unpaid' RETURNING occurrence",
                              DB_ARGS(DB_INT(now), DB_TEXT(order_id), DB_TEXT(account_id)), &valid)
                   : db_query(c,
                              "SELECT DISTINCT occurrence FROM tickets WHERE order_id = ? AND account_id = ?"
                              " AND status = 'unpaid'",
                              DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &valid);
    if (st != DB_OK) return store_status_of(st);
    /* replies counting an occurrence's valid tickets follow the payment at once */
    while (db_next(valid)) store_inventory_touched(c, account_id, db_text(valid, 0));
    db_rows_free(valid);
    if (!returning)
        st = db_exec(c,
                     "UPDATE tickets SET status = 'valid', updated_at = ? WHERE order_id = ? AND account_id = ?"
                     " AND status = 'unpaid'",
                     DB_ARGS(DB_INT(now), DB_TEXT(order_id), DB_TEXT(account_id)), NULL);
    if (st != DB_OK) return store_status_of(st);
    return returning ? store_order_touch(c, account_id, order_id, now) : STORE_OK;
}
