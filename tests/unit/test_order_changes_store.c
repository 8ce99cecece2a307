/* The order-changes store (store/order_changes.c) on the database named by
 * BOXOFFICE_TEST_DB (default: a fresh SQLite file): each step reaches each
 * status it documents, a refusal that says "nothing written" writes nothing
 * even when its transaction commits, and every lookup is scoped by account.
 * Orders, tickets, payments and seats are seeded with the sales store's own
 * steps (store/sales.h); each step under test runs in a store_write of this
 * file's own. */
#include "fixture.h"
#include "store/order_changes.h"
#include "store/vouchers_store.h"
#include "util/secure.h"
#include <string.h>

static store *S;
static char A[48], B[48]; /* two accounts: ids only, the store needs no account row */
static instant_us NOW;

/* ---------------- seeding ---------------- */

#define MAX_TICKETS 4

/* An order of account A with n tickets of price 1000 less discount 100*i,
 * each holding one seat of POOL at OCC (taken when seeded). */
typedef struct {
    const char *status;        /* order status */
    const char *ticket_status; /* every ticket's */
    int n;
    char order_id[40];
    char ticket_ids[MAX_TICKETS][40];
} seed;

static const char POOL[] = "pool-main";
static char OCC[48];
static const char TICKET_DOC_FMT[] = "{\"pools\":[{\"pool_id\":\"%s\",\"occurrence\":\"%s\",\"amount\":1}]}";
static const char ORDER_DOC[] = "{\"extras\":{}}";

static db_status seed_fn(db_conn *c, void *arg)
{
    seed *sd = arg;
    char number[12], doc[256];
    rand_digits(number, 8);
    snprintf(doc, sizeof doc, TICKET_DOC_FMT, POOL, OCC);
    store_order o = {.id = sd->order_id, .number = number, .status = sd->status, .channel = "web",
                     .currency = "EUR", .doc = ORDER_DOC, .total_gross = 1000 * sd->n, .total_net = 1000 * sd->n,
                     .change_seq = 0};
    store_status ss = store_order_insert(c, A, &o, NOW);
    store_ticket t[MAX_TICKETS];
    memset(t, 0, sizeof t);
    store_hold h[MAX_TICKETS];
    for (int i = 0; i < sd->n; i++) {
        memcpy(t[i].id, sd->ticket_ids[i], sizeof t[i].id);
        rand_digits(t[i].barcode, 20);
        t[i].order_id = sd->order_id;
        t[i].line_id = "line-1";
        t[i].product_id = "prod-1";
        t[i].occurrence = OCC;
        t[i].status = sd->ticket_status;
        t[i].price_gross = 1000;
        t[i].price_net = 1000;
        t[i].discount = 100 * i;
        t[i].scan_limit = "once";
        t[i].scan_times = 1;
        t[i].max_scans = t[i].time_duration = -1;
        t[i].doc = doc;
        h[i] = test_hold(POOL, OCC, 1, 100);
    }
    if (ss == STORE_OK) ss = store_tickets_insert(c, A, t, (size_t)sd->n, NOW);
    if (ss == STORE_OK) ss = store_inventory_take(c, A, h, (size_t)sd->n);
    return store_db_status(ss);
}

static bool seed_order(seed *sd, const char *status, const char *ticket_status, int n)
{
    sd->status = status;
    sd->ticket_status = ticket_status;
    sd->n = n;
    test_id(sd->order_id, sizeof sd->order_id, "ord");
    for (int i = 0; i < n; i++) test_id(sd->ticket_ids[i], sizeof sd->ticket_ids[i], "tkt");
    return store_write(S, seed_fn, sd) == DB_OK;
}

typedef struct {
    const char *order_id;
    money amount;
    const char *status;
    const char *provider, *reference; /* NULL: cash, none */
} pay_seed;

static db_status pay_fn(db_conn *c, void *arg)
{
    pay_seed *p = arg;
    const char *provider = p->provider ? p->provider : "cash";
    return store_db_status(
        store_payment_insert(c, A, p->order_id, provider, provider, p->status, p->amount, p->reference, NOW));
}

static bool seed_payment(const char *order_id, money amount, const char *status)
{
    pay_seed p = {order_id, amount, status, NULL, NULL};
    return store_write(S, pay_fn, &p) == DB_OK;
}

/* ---------------- reading back with plain SQL ---------------- */

typedef struct {
    const char *sql;
    const char *id;
    int64_t value;
    char *text;
} probe;

static db_status probe_int_fn(db_conn *c, void *arg)
{
    probe *p = arg;
    db_status st = db_query_int(c, p->sql, DB_ARGS(DB_TEXT(p->id)), &p->value);
    if (st == DB_NOTFOUND) p->value = -1;
    return st == DB_NOTFOUND ? DB_OK : st;
}

static db_status probe_text_fn(db_conn *c, void *arg)
{
    probe *p = arg;
    db_status st = db_query_text(c, p->sql, DB_ARGS(DB_TEXT(p->id)), &p->text);
    return st == DB_NOTFOUND ? DB_OK : st;
}

/* First column of the first row as an integer; -1 when none, -2 on error. */
static int64_t int_of(const char *sql, const char *id)
{
    probe p = {sql, id, -1, NULL};
    return store_read(S, probe_int_fn, &p) == DB_OK ? p.value : -2;
}

/* First column of the first row as text (static buffer); "" when none. */
static const char *text_of(const char *sql, const char *id)
{
    static char buf[512];
    probe p = {sql, id, 0, NULL};
    buf[0] = 0;
    if (store_read(S, probe_text_fn, &p) == DB_OK && p.text) snprintf(buf, sizeof buf, "%s", p.text);
    free(p.text);
    return buf;
}

static int64_t used_seats(void)
{
    probe p = {"SELECT SUM(used) FROM inventory WHERE pool_id = 'pool-main' AND occurrence = ?", OCC, -1, NULL};
    /* scoped to A by the occurrence, which is unique to this run */
    return store_read(S, probe_int_fn, &p) == DB_OK ? p.value : -2;
}

static bool ticket_status_is(const char *ticket_id, const char *status)
{
    return !strcmp(text_of("SELECT status FROM tickets WHERE id = ?", ticket_id), status);
}

static bool order_status_is(const char *order_id, const char *status)
{
    return !strcmp(text_of("SELECT status FROM orders WHERE id = ?", order_id), status);
}

static int64_t change_seq_of(const char *order_id)
{
    return int_of("SELECT change_seq FROM orders WHERE id = ?", order_id);
}

/* ---------------- running one step ---------------- */

typedef enum {
    OP_ORDER_STATE,
    OP_TICKET_STATE,
    OP_LIVE_TICKETS,
    OP_REFUND,
    OP_INVALIDATE,
    OP_TOUCH,
    OP_CANCEL,
    OP_MARK_PAID
} op_kind;

typedef struct {
    op_kind kind;
    const char *account_id, *id;
    const char *status, *doc;   /* invalidate: new status; invalidate and cancel: new document */
    const store_hold *holds;
    size_t nholds;
    const store_payment *pay;
    bool commit;                /* commit whatever the step did, to check a refusal wrote nothing */
    store_status out;
    store_order_state order;
    store_ticket_state ticket;
    store_ticket_state *tickets;
    size_t ntickets;
    money amount;               /* refund: how much to give back */
    money refunded;
} op;

static db_status op_fn(db_conn *c, void *arg)
{
    op *o = arg;
    store_order_state_free(&o->order);
    store_ticket_state_free(&o->ticket);
    store_ticket_states_free(o->tickets, o->ntickets);
    o->tickets = NULL;
    o->ntickets = 0;
    switch (o->kind) {
    case OP_ORDER_STATE: o->out = store_order_state_get(c, o->account_id, o->id, &o->order); break;
    case OP_TICKET_STATE: o->out = store_ticket_state_get(c, o->account_id, o->id, &o->ticket); break;
    case OP_LIVE_TICKETS:
        o->out = store_order_live_tickets(c, o->account_id, o->id, &o->tickets, &o->ntickets);
        break;
    case OP_REFUND: o->out = store_order_refund_payments(c, o->account_id, o->id, o->amount, NOW, &o->refunded); break;
    case OP_INVALIDATE:
        o->out = store_ticket_invalidate(c, o->account_id, o->id, o->status, o->holds, o->nholds, o->doc, NOW);
        break;
    case OP_TOUCH: o->out = store_order_touch(c, o->account_id, o->id, NOW); break;
    case OP_CANCEL: o->out = store_order_cancel(c, o->account_id, o->id, o->doc, NOW); break;
    case OP_MARK_PAID: o->out = store_order_mark_paid(c, o->account_id, o->id, o->pay, NOW); break;
    }
    if (o->commit && o->out != STORE_ERROR && o->out != STORE_RETRY) return DB_OK;
    return store_db_status(o->out);
}

static store_status run(op *o)
{
    db_status st = store_write(S, op_fn, o);
    return st == DB_OK || st == DB_ABORT || st == DB_CONFLICT || st == DB_NOTFOUND ? o->out : STORE_ERROR;
}

static void op_free(op *o)
{
    store_order_state_free(&o->order);
    store_ticket_state_free(&o->ticket);
    store_ticket_states_free(o->tickets, o->ntickets);
}

/* ---------------- tests ---------------- */

static void test_reads(void)
{
    seed sd;
    CHECK(seed_order(&sd, "confirmed", "valid", 3), "seed: order with 3 tickets");

    op o = {.kind = OP_ORDER_STATE, .account_id = A, .id = sd.order_id};
    CHECK(run(&o) == STORE_OK && !strcmp(o.order.status, "confirmed") && o.order.doc &&
              !strcmp(o.order.doc, ORDER_DOC),
          "order_state_get: OK with status and document");
    o.account_id = B;
    CHECK(run(&o) == STORE_NOT_FOUND && !o.order.doc, "order_state_get: another account NOT_FOUND");
    o.account_id = A, o.id = "ord-no-such";
    CHECK(run(&o) == STORE_NOT_FOUND, "order_state_get: unknown order NOT_FOUND");
    op_free(&o);

    char doc[256];
    snprintf(doc, sizeof doc, TICKET_DOC_FMT, POOL, OCC);
    op t = {.kind = OP_TICKET_STATE, .account_id = A, .id = sd.ticket_ids[2]};
    CHECK(run(&t) == STORE_OK && !strcmp(t.ticket.id, sd.ticket_ids[2]) && !strcmp(t.ticket.status, "valid") &&
              !strcmp(t.ticket.order_id, sd.order_id) && t.ticket.amount == 800 && t.ticket.doc &&
              !strcmp(t.ticket.doc, doc),
          "ticket_state_get: OK with status, order, amount (gross less discount), document");
    t.account_id = B;
    CHECK(run(&t) == STORE_NOT_FOUND, "ticket_state_get: another account NOT_FOUND");
    t.account_id = A, t.id = "tkt-no-such";
    CHECK(run(&t) == STORE_NOT_FOUND, "ticket_state_get: unknown ticket NOT_FOUND");
    op_free(&t);

    /* one ticket voided: the live list has the other two */
    op v = {.kind = OP_INVALIDATE, .account_id = A, .id = sd.ticket_ids[0], .status = "voided"};
    CHECK(run(&v) == STORE_OK, "setup: void one ticket");
    op l = {.kind = OP_LIVE_TICKETS, .account_id = A, .id = sd.order_id};
    CHECK(run(&l) == STORE_OK && l.ntickets == 2, "order_live_tickets: OK, the 2 still valid");
    bool both = false;
    if (l.ntickets == 2) {
        const char *x = l.tickets[0].id, *y = l.tickets[1].id;
        both = (!strcmp(x, sd.ticket_ids[1]) && !strcmp(y, sd.ticket_ids[2])) ||
               (!strcmp(x, sd.ticket_ids[2]) && !strcmp(y, sd.ticket_ids[1]));
    }
    CHECK(both, "order_live_tickets: not the voided one");
    l.account_id = B;
    CHECK(run(&l) == STORE_OK && l.ntickets == 0 && !l.tickets, "order_live_tickets: another account's order: none");
    l.account_id = A, l.id = "ord-no-such";
    CHECK(run(&l) == STORE_OK && l.ntickets == 0, "order_live_tickets: unknown order: OK, none");
    op_free(&l);

    seed sd2;
    CHECK(seed_order(&sd2, "open", "unpaid", 2), "seed: open order with 2 unpaid tickets");
    l.id = sd2.order_id;
    CHECK(run(&l) == STORE_OK && l.ntickets == 2 && !strcmp(l.tickets[0].status, "unpaid"),
          "order_live_tickets: unpaid tickets are live");
    op_free(&l);
}

static void test_refund_payments(void)
{
    seed sd;
    CHECK(seed_order(&sd, "confirmed", "valid", 1), "seed: order without payments");
    op o = {.kind = OP_REFUND, .account_id = A, .id = sd.order_id, .amount = 1000, .refunded = -1};
    CHECK(run(&o) == STORE_OK && o.refunded == 0, "refund_payments: none paid: OK, 0");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ?", sd.order_id) == 0,
          "refund_payments: none paid: no refund row");

    CHECK(seed_order(&sd, "confirmed", "valid", 1) && seed_payment(sd.order_id, 0, "paid"), "seed: a 0.00 payment");
    o.id = sd.order_id, o.refunded = -1;
    CHECK(run(&o) == STORE_OK && o.refunded == 0, "refund_payments: 0.00 paid: OK, 0");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND status = 'refunded' AND kind = 'payment'",
                 sd.order_id) == 1 &&
              int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND kind = 'refund'", sd.order_id) == 0,
          "refund_payments: the 0.00 payment is marked refunded, no refund row");

    CHECK(seed_order(&sd, "confirmed", "valid", 2) && seed_payment(sd.order_id, 500, "paid") &&
              seed_payment(sd.order_id, 300, "paid") && seed_payment(sd.order_id, 700, "pending"),
          "seed: two paid payments and a pending one");
    o.account_id = B, o.id = sd.order_id, o.refunded = -1;
    CHECK(run(&o) == STORE_OK && o.refunded == 0, "refund_payments: another account's order: OK, 0");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND status = 'paid'", sd.order_id) == 2,
          "refund_payments: another account changes nothing");
    o.account_id = A, o.refunded = -1;
    CHECK(run(&o) == STORE_OK && o.refunded == 800, "refund_payments: asked 1000: OK, refunded the 800 paid");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND kind = 'payment' AND status = 'refunded'",
                 sd.order_id) == 2,
          "refund_payments: both paid payments marked refunded");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND status = 'pending'", sd.order_id) == 1,
          "refund_payments: the pending payment untouched");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND kind = 'refund' AND provider = 'cash'"
                 " AND method = 'cash' AND status = 'refunded'",
                 sd.order_id) == 2 &&
              int_of("SELECT SUM(amount) FROM payments WHERE order_id = ? AND kind = 'refund'", sd.order_id) == 800,
          "refund_payments: one refund row per payment, to its provider and method, 800 in all");
    o.refunded = -1;
    CHECK(run(&o) == STORE_OK && o.refunded == 0 &&
              int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND kind = 'refund'", sd.order_id) == 2,
          "refund_payments: again: nothing left to refund");

    CHECK(seed_order(&sd, "confirmed", "valid", 2) && seed_payment(sd.order_id, 500, "paid") &&
              seed_payment(sd.order_id, 300, "paid"),
          "seed: two paid payments");
    o.id = sd.order_id, o.amount = 600, o.refunded = -1;
    CHECK(run(&o) == STORE_OK && o.refunded == 600, "refund_payments: part of what was paid: OK, 600");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND kind = 'payment' AND status = 'refunded'"
                 " AND amount = 500",
                 sd.order_id) == 1 &&
              int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND kind = 'payment' AND status = 'paid'"
                     " AND amount = 300",
                     sd.order_id) == 1,
          "refund_payments: the oldest goes back whole (refunded), the next in part (still paid)");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ? AND kind = 'refund'", sd.order_id) == 2 &&
              int_of("SELECT MIN(amount) FROM payments WHERE order_id = ? AND kind = 'refund'", sd.order_id) == 100,
          "refund_payments: refund rows of 500 and 100");
}

/* A voucher code of account A worth `value`, of which `spent` paid the order
 * (a voucher payment and its redemption, as a booking records them). */
typedef struct {
    const char *order_id, *code_id, *code;
    money spent;
} voucher_seed;

static db_status voucher_spend_fn(db_conn *c, void *arg)
{
    voucher_seed *v = arg;
    store_status ss = store_voucher_code_spend(c, v->code_id, v->spent, NOW);
    if (ss == STORE_OK)
        ss = store_payment_insert(c, A, v->order_id, "voucher", "voucher", "paid", v->spent, v->code, NOW);
    if (ss == STORE_OK) ss = store_redemption_insert(c, A, "voucher", "vch-1", v->code, v->order_id, v->spent, NOW);
    return store_db_status(ss);
}

static void test_refund_gives_voucher_value_back(void)
{
    seed sd;
    char code_id[48], code[48], other_id[48], other[48];
    test_id(code_id, sizeof code_id, "vcid");
    test_id(code, sizeof code, "GIFT");
    test_id(other_id, sizeof other_id, "vcid");
    test_id(other, sizeof other, "GIFT");
    store_voucher_code_new codes[] = {{code_id, code}, {other_id, other}};
    CHECK(seed_order(&sd, "confirmed", "valid", 2) &&
              store_voucher_codes_insert(S, A, "vch-1", codes, 2, 1000, NOW) == STORE_OK,
          "seed: an order and two voucher codes of 10.00");
    voucher_seed v = {sd.order_id, code_id, code, 1000};
    pay_seed named = {sd.order_id, 300, "paid", "voucher", other};
    CHECK(store_write(S, voucher_spend_fn, &v) == DB_OK && seed_payment(sd.order_id, 700, "paid") &&
              store_write(S, pay_fn, &named) == DB_OK,
          "seed: the code paid 10.00 of it, cash 7.00, and a payment named the other code 3.00");
    CHECK(!strcmp(text_of("SELECT status FROM voucher_codes WHERE id = ?", code_id), "used"), "seed: the code is used");
    op o = {.kind = OP_REFUND, .account_id = A, .id = sd.order_id, .amount = 2000, .refunded = -1};
    CHECK(run(&o) == STORE_OK && o.refunded == 2000, "refund_payments: voucher and others: OK, 2000");
    CHECK(int_of("SELECT remaining FROM voucher_codes WHERE id = ?", code_id) == 1000 &&
              !strcmp(text_of("SELECT status FROM voucher_codes WHERE id = ?", code_id), "available"),
          "refund_payments: the code has its 10.00 back and is available again");
    CHECK(int_of("SELECT amount FROM redemptions WHERE order_id = ? AND amount < 0", sd.order_id) == -1000,
          "refund_payments: a negative redemption records the value going back");
    CHECK(int_of("SELECT amount FROM payments WHERE order_id = ? AND kind = 'refund' AND provider = 'voucher'",
                 sd.order_id) == 1000,
          "refund_payments: the voucher's refund row");
    CHECK(int_of("SELECT remaining FROM voucher_codes WHERE id = ?", other_id) == 1000,
          "refund_payments: a code that never paid the order gets nothing, though a payment names it");

    CHECK(seed_order(&sd, "confirmed", "valid", 1) && seed_payment(sd.order_id, 500, "paid"), "seed: a cash order");
    voucher_seed w = {sd.order_id, code_id, code, 400};
    CHECK(store_write(S, voucher_spend_fn, &w) == DB_OK, "seed: the code pays 4.00 of it");
    CHECK(store_voucher_code_void(S, A, "vch-1", code_id, NOW) == STORE_OK, "seed: then the code is voided");
    o.id = sd.order_id, o.amount = 900, o.refunded = -1;
    CHECK(run(&o) == STORE_OK && o.refunded == 900 &&
              int_of("SELECT remaining FROM voucher_codes WHERE id = ?", code_id) == 1000 &&
              !strcmp(text_of("SELECT status FROM voucher_codes WHERE id = ?", code_id), "voided"),
          "refund_payments: a voided code gets its part back and stays void");
}

static void test_invalidate(void)
{
    seed sd;
    CHECK(seed_order(&sd, "confirmed", "valid", 2), "seed: order with 2 tickets");
    int64_t used = used_seats();
    const char *tid = sd.ticket_ids[0];
    int64_t version = int_of("SELECT version FROM tickets WHERE id = ?", tid);
    store_hold h = test_hold(POOL, OCC, 1, -1);

    op o = {.kind = OP_INVALIDATE, .account_id = B, .id = tid, .status = "voided", .holds = &h, .nholds = 1,
            .doc = "{\"refund\":{}}", .commit = true};
    CHECK(run(&o) == STORE_NOT_FOUND, "ticket_invalidate: another account's ticket NOT_FOUND");
    CHECK(ticket_status_is(tid, "valid") && used_seats() == used, "ticket_invalidate NOT_FOUND: nothing written");
    o.account_id = A, o.id = "tkt-no-such";
    CHECK(run(&o) == STORE_NOT_FOUND && used_seats() == used, "ticket_invalidate: unknown ticket NOT_FOUND");

    o.id = tid;
    CHECK(run(&o) == STORE_OK, "ticket_invalidate: OK");
    CHECK(ticket_status_is(tid, "voided"), "ticket_invalidate: status set");
    CHECK(int_of("SELECT version FROM tickets WHERE id = ?", tid) == version + 1, "ticket_invalidate: version bumped");
    CHECK(int_of("SELECT invalidated_at FROM tickets WHERE id = ?", tid) == NOW &&
              int_of("SELECT updated_at FROM tickets WHERE id = ?", tid) == NOW,
          "ticket_invalidate: invalidated_at and updated_at");
    CHECK(!strcmp(text_of("SELECT doc FROM tickets WHERE id = ?", tid), "{\"refund\":{}}"),
          "ticket_invalidate: document replaced");
    CHECK(used_seats() == used - 1, "ticket_invalidate: its seat given back");

    CHECK(run(&o) == STORE_CONFLICT, "ticket_invalidate: already voided CONFLICT");
    CHECK(used_seats() == used - 1 && int_of("SELECT version FROM tickets WHERE id = ?", tid) == version + 1,
          "ticket_invalidate CONFLICT: nothing written (no seat given back twice)");

    /* refunded, keeping the document */
    const char *tid2 = sd.ticket_ids[1];
    char before[512];
    snprintf(before, sizeof before, "%s", text_of("SELECT doc FROM tickets WHERE id = ?", tid2));
    op k = {.kind = OP_INVALIDATE, .account_id = A, .id = tid2, .status = "refunded", .holds = &h, .nholds = 1};
    CHECK(run(&k) == STORE_OK && ticket_status_is(tid2, "refunded") &&
              !strcmp(text_of("SELECT doc FROM tickets WHERE id = ?", tid2), before),
          "ticket_invalidate: NULL document keeps it");
    CHECK(used_seats() == used - 2, "ticket_invalidate: second seat given back");
    CHECK(run(&k) == STORE_CONFLICT, "ticket_invalidate: refunded CONFLICT");

    /* an unpaid ticket is live too */
    CHECK(seed_order(&sd, "open", "unpaid", 1), "seed: unpaid ticket");
    k.id = sd.ticket_ids[0], k.status = "voided";
    CHECK(run(&k) == STORE_OK && ticket_status_is(sd.ticket_ids[0], "voided"), "ticket_invalidate: unpaid OK");
}

static void test_touch(void)
{
    seed sd;
    CHECK(seed_order(&sd, "confirmed", "valid", 1), "seed: order");
    int64_t seq = change_seq_of(sd.order_id);
    op o = {.kind = OP_TOUCH, .account_id = A, .id = sd.order_id};
    CHECK(run(&o) == STORE_OK, "order_touch: OK");
    int64_t seq1 = change_seq_of(sd.order_id);
    CHECK(seq1 > seq && int_of("SELECT updated_at FROM orders WHERE id = ?", sd.order_id) == NOW,
          "order_touch: next change sequence, updated_at");
    CHECK(run(&o) == STORE_OK && change_seq_of(sd.order_id) == seq1 + 1, "order_touch: again: one more");
    o.account_id = B;
    CHECK(run(&o) == STORE_NOT_FOUND && change_seq_of(sd.order_id) == seq1 + 1,
          "order_touch: another account's order NOT_FOUND");
    o.account_id = A, o.id = "ord-no-such";
    CHECK(run(&o) == STORE_NOT_FOUND, "order_touch: unknown order NOT_FOUND");
}

static void test_cancel(void)
{
    seed sd;
    CHECK(seed_order(&sd, "confirmed", "valid", 1), "seed: order");
    int64_t seq = change_seq_of(sd.order_id);
    op o = {.kind = OP_CANCEL, .account_id = B, .id = sd.order_id, .doc = "{\"cancelled_at\":1}", .commit = true};
    CHECK(run(&o) == STORE_NOT_FOUND && order_status_is(sd.order_id, "confirmed"),
          "order_cancel: another account's order NOT_FOUND");
    o.account_id = A, o.id = "ord-no-such";
    CHECK(run(&o) == STORE_NOT_FOUND, "order_cancel: unknown order NOT_FOUND");
    o.id = sd.order_id;
    CHECK(run(&o) == STORE_OK, "order_cancel: OK");
    CHECK(order_status_is(sd.order_id, "cancelled") &&
              !strcmp(text_of("SELECT doc FROM orders WHERE id = ?", sd.order_id), "{\"cancelled_at\":1}"),
          "order_cancel: status and document");
    int64_t seq1 = change_seq_of(sd.order_id);
    CHECK(seq1 > seq, "order_cancel: touched (next change sequence)");
    o.doc = "{\"cancelled_at\":2}";
    CHECK(run(&o) == STORE_CONFLICT, "order_cancel: already cancelled CONFLICT");
    CHECK(!strcmp(text_of("SELECT doc FROM orders WHERE id = ?", sd.order_id), "{\"cancelled_at\":1}") &&
              change_seq_of(sd.order_id) == seq1,
          "order_cancel CONFLICT: nothing written");

    CHECK(seed_order(&sd, "open", "unpaid", 1), "seed: open order");
    o.id = sd.order_id, o.doc = NULL;
    CHECK(run(&o) == STORE_OK && order_status_is(sd.order_id, "cancelled") &&
              !strcmp(text_of("SELECT doc FROM orders WHERE id = ?", sd.order_id), ORDER_DOC),
          "order_cancel: open order OK, NULL document keeps it");
}

static void test_mark_paid(void)
{
    seed sd;
    CHECK(seed_order(&sd, "open", "unpaid", 3), "seed: open order, 3 unpaid tickets");
    int64_t seq = change_seq_of(sd.order_id);
    op o = {.kind = OP_MARK_PAID, .account_id = B, .id = sd.order_id, .commit = true};
    CHECK(run(&o) == STORE_NOT_FOUND && order_status_is(sd.order_id, "open") &&
              int_of("SELECT COUNT(*) FROM payments WHERE order_id = ?", sd.order_id) == 0,
          "order_mark_paid: another account's order NOT_FOUND, nothing written");
    o.account_id = A, o.id = "ord-no-such";
    CHECK(run(&o) == STORE_NOT_FOUND, "order_mark_paid: unknown order NOT_FOUND");

    o.id = sd.order_id;
    CHECK(run(&o) == STORE_OK, "order_mark_paid: OK without payment details");
    CHECK(order_status_is(sd.order_id, "confirmed"), "order_mark_paid: order confirmed");
    CHECK(ticket_status_is(sd.ticket_ids[0], "valid") && ticket_status_is(sd.ticket_ids[2], "valid"),
          "order_mark_paid: tickets valid");
    /* 1000 + 900 + 800 */
    CHECK(int_of("SELECT amount FROM payments WHERE order_id = ? AND kind = 'payment' AND status = 'paid'"
                 " AND provider IS NULL",
                 sd.order_id) == 2700,
          "order_mark_paid: one paid payment of the tickets' total");
    int64_t seq1 = change_seq_of(sd.order_id);
    CHECK(seq1 > seq, "order_mark_paid: touched (next change sequence)");
    /* the counter moved with it (SQLite sets both in mark_paid's own statements) */
    CHECK(int_of("SELECT value FROM counters WHERE name = 'order_change' AND account_id = ?", A) == seq1,
          "order_mark_paid: the account's change counter is at the order's new change number");

    CHECK(run(&o) == STORE_CONFLICT, "order_mark_paid: confirmed order CONFLICT");
    CHECK(int_of("SELECT COUNT(*) FROM payments WHERE order_id = ?", sd.order_id) == 1 &&
              change_seq_of(sd.order_id) == seq1,
          "order_mark_paid CONFLICT: nothing written");

    CHECK(seed_order(&sd, "open", "unpaid", 1), "seed: another open order");
    store_payment pay = {"stripe", "card", "pi_123", 1234};
    o.id = sd.order_id, o.pay = &pay;
    CHECK(run(&o) == STORE_OK, "order_mark_paid: OK with payment details");
    CHECK(int_of("SELECT amount FROM payments WHERE order_id = ? AND provider = 'stripe' AND method = 'card'"
                 " AND reference = 'pi_123' AND status = 'paid'",
                 sd.order_id) == 1234,
          "order_mark_paid: the given provider, method, reference and amount");

    CHECK(seed_order(&sd, "open", "unpaid", 2), "seed: a third open order");
    store_payment total = {"cash", NULL, NULL, -1};
    o.id = sd.order_id, o.pay = &total;
    CHECK(run(&o) == STORE_OK &&
              int_of("SELECT amount FROM payments WHERE order_id = ? AND provider = 'cash'", sd.order_id) == 1900,
          "order_mark_paid: amount -1 pays the tickets' total");

    CHECK(seed_order(&sd, "cancelled", "refunded", 1), "seed: a cancelled order");
    o.id = sd.order_id;
    CHECK(run(&o) == STORE_CONFLICT && ticket_status_is(sd.ticket_ids[0], "refunded"),
          "order_mark_paid: cancelled order CONFLICT");
}

int main(void)
{
    char path[128];
    const char *uri = test_db_uri("order-changes-store", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    test_id(A, sizeof A, "acct-a");
    test_id(B, sizeof B, "acct-b");
    test_id(OCC, sizeof OCC, "occ");
    NOW = clock_now();

    test_reads();
    test_refund_payments();
    test_refund_gives_voucher_value_back();
    test_invalidate();
    test_touch();
    test_cancel();
    test_mark_paid();

    store_close(S);
    test_db_remove(uri, path);
    return check_summary();
}
