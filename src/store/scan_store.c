/* Scan state and scan log in SQL (see scan_store.h). */
#include "store/scan_store.h"
#include <stdio.h>
#include <string.h>

static int64_t int_or(db_rows *r, int col, int64_t dflt) { return db_isnull(r, col) ? dflt : db_int(r, col); }

static void state_from_row(db_rows *r, ticket_scan_state *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", db_text(r, 0));
    snprintf(t->status, sizeof t->status, "%s", db_text(r, 1));
    snprintf(t->limit, sizeof t->limit, "%s", db_text(r, 2));
    t->times = db_int(r, 3);
    t->max_scans = int_or(r, 4, -1);
    t->time_seconds = int_or(r, 5, -1);
    t->allow_overtime = db_int(r, 6) != 0;
    t->in_out = db_int(r, 7) != 0;
    t->valid_from = int_or(r, 8, 0);
    t->valid_to = int_or(r, 9, 0);
    t->scans_used = db_int(r, 10);
    t->inside = db_int(r, 11) != 0;
    t->first_scan_at = int_or(r, 12, 0);
    t->last_in_at = int_or(r, 13, 0);
    t->redeemed_at = int_or(r, 14, 0);
    snprintf(t->day_key, sizeof t->day_key, "%s", db_text(r, 15));
    t->day_scans = db_int(r, 16);
    t->version = db_int(r, 17);
}

typedef struct {
    const char *account_id, *barcode;
    ticket_scan_state *out;
    const store_ticket_view *view;
} state_op;

static db_status load_view(db_conn *c, const store_ticket_view *view, const char *account_id, const char *ticket_id)
{
    return view && view->load ? view->load(c, account_id, ticket_id, view->ctx) : DB_OK;
}

static db_status read_state(db_conn *c, const char *account_id, const char *barcode, ticket_scan_state *out)
{
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, status, scan_limit, scan_times, max_scans, time_duration, allow_overtime,"
                            " in_out, valid_from, valid_to, scans_used, inside, first_scan_at, last_scan_at,"
                            " redeemed_at, day_key, day_scans, version FROM tickets"
                            " WHERE barcode = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(barcode), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    bool found = db_next(r);
    if (found) state_from_row(r, out);
    db_rows_free(r);
    return found ? DB_OK : DB_NOTFOUND;
}

static db_status state_fn(db_conn *c, void *arg)
{
    state_op *op = arg;
    db_status st = read_state(c, op->account_id, op->barcode, op->out);
    return st == DB_OK ? load_view(c, op->view, op->account_id, op->out->id) : st;
}

store_status store_ticket_scan_state_by_barcode(store *s, const char *account_id, const char *barcode,
                                                ticket_scan_state *out, const store_ticket_view *view)
{
    state_op op = {account_id, barcode, out, view};
    return store_status_of(store_read(s, state_fn, &op));
}

static db_status insert_record(db_conn *c, const scan_record *rec)
{
    return db_exec(c,
                   "INSERT INTO scans (account_id, ticket_id, barcode, scanned_at, direction, result, redeemed,"
                   " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(rec->account_id), DB_TEXT(rec->ticket_id), DB_TEXT(rec->barcode),
                           DB_INT(rec->scanned_at), DB_TEXT(rec->out ? "out" : "in"), DB_TEXT(rec->result),
                           DB_INT(rec->redeemed ? 1 : 0), DB_INT(rec->now)),
                   NULL);
}

static db_param instant_or_null(int64_t at) { return at ? DB_INT(at) : DB_NULL; }

typedef struct {
    int64_t expected_version;
    const ticket_scan_state *next;
    const scan_record *rec;
    const store_ticket_view *view;
} redeem_op;

/* DB_NOTFOUND when the ticket is gone, DB_ABORT when its version is not the
 * expected one, else `same`. */
static db_status check_version(db_conn *c, const redeem_op *op, db_status same)
{
    int64_t version;
    db_status st = db_query_int(c, "SELECT version FROM tickets WHERE id = ? AND account_id = ?",
                                DB_ARGS(DB_TEXT(op->rec->ticket_id), DB_TEXT(op->rec->account_id)), &version);
    if (st != DB_OK) return st;
    return version == op->expected_version ? same : DB_ABORT;
}

/* The version in the WHERE clause is the whole concurrency story: of two
 * gates that read one version, the second UPDATE matches no row (PostgreSQL
 * re-checks it after the first commits), so only one redeem lands. */
static db_status move_ticket(db_conn *c, const redeem_op *op)
{
    const ticket_scan_state *n = op->next;
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "UPDATE tickets SET scans_used = ?, inside = ?, first_scan_at = ?, last_scan_at = ?,"
                           " redeemed_at = ?, day_key = ?, day_scans = ?, updated_at = ?, version = version + 1"
                           " WHERE id = ? AND account_id = ? AND version = ?",
                           DB_ARGS(DB_INT(n->scans_used), DB_INT(n->inside ? 1 : 0), instant_or_null(n->first_scan_at),
                                   instant_or_null(n->last_in_at), instant_or_null(n->redeemed_at),
                                   DB_TEXT(n->day_key[0] ? n->day_key : NULL), DB_INT(n->day_scans),
                                   DB_INT(op->rec->now), DB_TEXT(op->rec->ticket_id), DB_TEXT(op->rec->account_id),
                                   DB_INT(op->expected_version)),
                           &changes);
    if (st != DB_OK) return st;
    /* no row: either the version moved on or the ticket is gone; tell which */
    return changes ? DB_OK : check_version(c, op, DB_ABORT);
}

static db_status redeem_fn(db_conn *c, void *arg)
{
    redeem_op *op = arg;
    db_status st = op->next ? move_ticket(c, op) : check_version(c, op, DB_OK);
    if (st == DB_OK) st = insert_record(c, op->rec);
    if (st == DB_OK) st = load_view(c, op->view, op->rec->account_id, op->rec->ticket_id);
    return st;
}

store_status store_ticket_redeem(store *s, int64_t expected_version, const ticket_scan_state *next,
                                 const scan_record *rec, const store_ticket_view *view)
{
    if (!rec->ticket_id) return STORE_NOT_FOUND;
    redeem_op op = {expected_version, next, rec, view};
    return store_status_of(store_write(s, redeem_fn, &op));
}

typedef struct {
    const char *account_id, *barcode;
    store_scan_decider decide;
    void *ctx;
    const store_ticket_view *view;
} scan_redeem_op;

static db_status scan_redeem_fn(db_conn *c, void *arg)
{
    scan_redeem_op *op = arg;
    ticket_scan_state now, next;
    db_status st = read_state(c, op->account_id, op->barcode, &now);
    if (st != DB_OK) return st;
    scan_record rec = {0};
    bool move = op->decide(&now, &next, &rec, op->ctx);
    rec.account_id = op->account_id;
    rec.ticket_id = now.id;
    redeem_op redeem = {now.version, move ? &next : NULL, &rec, op->view};
    st = redeem_fn(c, &redeem);
    /* only a concurrent transaction (PostgreSQL) moves the version between
     * our read and our write: run again, reading what it wrote */
    return st == DB_ABORT ? DB_RETRY : st;
}

store_status store_ticket_scan_redeem(store *s, const char *account_id, const char *barcode,
                                      store_scan_decider decide, void *ctx, const store_ticket_view *view)
{
    scan_redeem_op op = {account_id, barcode, decide, ctx, view};
    return store_status_of(store_write(s, scan_redeem_fn, &op));
}

static db_status unknown_fn(db_conn *c, void *arg) { return insert_record(c, arg); }

store_status store_scan_record_unknown(store *s, const scan_record *rec)
{
    scan_record r = *rec;
    r.ticket_id = NULL;
    return store_status_of(store_write(s, unknown_fn, &r));
}

typedef struct {
    const char *account_id;
    int64_t after_id, before_id;
    int limit;
    store_check_in *out;
    size_t n;
    bool more;
} check_ins_op;

#define CHECK_INS_SELECT                                                                                            \
    "SELECT s.id, s.ticket_id, t.product_id, t.occurrence, s.scanned_at, s.created_at, s.direction FROM scans s"  \
    " JOIN tickets t ON t.id = s.ticket_id AND t.account_id = s.account_id"                                         \
    " WHERE s.account_id = ? AND s.redeemed = 1"

static db_status check_ins_fn(db_conn *c, void *arg)
{
    check_ins_op *op = arg;
    bool backwards = op->before_id > 0;
    db_rows *r;
    /* one row past the page says whether there is more */
    db_status st = backwards ? db_query(c, CHECK_INS_SELECT " AND s.id > ? ORDER BY s.id LIMIT ?",
                                        DB_ARGS(DB_TEXT(op->account_id), DB_INT(op->before_id), DB_INT(op->limit + 1)), &r)
                             : db_query(c, CHECK_INS_SELECT " AND s.id < ? ORDER BY s.id DESC LIMIT ?",
                                        DB_ARGS(DB_TEXT(op->account_id), DB_INT(op->after_id > 0 ? op->after_id : INT64_MAX),
                                                DB_INT(op->limit + 1)),
                                        &r);
    if (st != DB_OK) return st;
    op->n = 0;
    op->more = false;
    while (db_next(r)) {
        if (op->n == (size_t)op->limit) {
            op->more = true;
            break;
        }
        store_check_in *x = &op->out[op->n++];
        memset(x, 0, sizeof *x);
        x->id = db_int(r, 0);
        snprintf(x->ticket_id, sizeof x->ticket_id, "%s", db_text(r, 1));
        snprintf(x->product_id, sizeof x->product_id, "%s", db_text(r, 2));
        snprintf(x->occurrence, sizeof x->occurrence, "%s", db_text(r, 3));
        x->scanned_at = db_int(r, 4);
        x->created_at = db_int(r, 5);
        x->out = !strcmp(db_text(r, 6), "out");
    }
    db_rows_free(r);
    if (backwards) /* read oldest first to stay next to the cursor; served newest first */
        for (size_t i = 0; i < op->n / 2; i++) {
            store_check_in tmp = op->out[i];
            op->out[i] = op->out[op->n - 1 - i];
            op->out[op->n - 1 - i] = tmp;
        }
    return DB_OK;
}

store_status store_check_ins_page(store *s, const char *account_id, int64_t after_id, int64_t before_id, int limit,
                                  store_check_in *out, size_t *n, bool *more)
{
    check_ins_op op = {account_id, after_id, before_id, limit, out, 0, false};
    store_status st = store_status_of(store_read(s, check_ins_fn, &op));
    *n = op.n;
    *more = op.more;
    return st;
}
