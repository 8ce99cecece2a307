/* The order read store (store/orders_store.c) on the database named by
 * BOXOFFICE_TEST_DB (default: a fresh SQLite file): one order (by id, by
 * number, through a connection) with its tickets and payments, one ticket
 * (alone and with the scan reply's order fields), and the order and ticket
 * list pages (keyset both ways, by change_seq, filters, has_more, unknown
 * cursors); every lookup is scoped by account. The rows are written with the
 * sales store's inserts, by this file's own transactions. */
#include "check.h"
#include "fixture.h"
#include "store/orders_store.h"
#include "store/sales.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *S;
static char A[40], B[40];
static instant_us T0 = 1700000000000000LL; /* orders created at T0 + k seconds */

typedef struct {
    char id[40], number[16], cart[40], email[64];
    char tickets[2][40], barcodes[2][24];
    int ntickets;
} order_fixture;

static order_fixture O1, O2, O3, OB;
static char LOOSE[40], LOOSE_BARCODE[24]; /* A's ticket without an order */
static char TAG[16];                       /* makes emails and names unique to this run */

typedef struct {
    const char *account_id;
    order_fixture *o;
    int seq;           /* change_seq and created_at offset */
    const char *status, *product_id, *visit_date;
    int ntickets;
    bool payment;
} order_insert;

static store_ticket ticket_of(const char *id, const char *order_id, const char *line_id, const char *product_id,
                              const char *barcode)
{
    store_ticket t = {.order_id = order_id, .line_id = line_id, .product_id = product_id, .event_id = NULL,
                      .occurrence = "2030-01-01", .status = "valid", .price_gross = 1210, .price_net = 1000,
                      .discount = 0, .scan_limit = "once", .scan_times = 1, .max_scans = -1, .time_duration = -1,
                      .doc = "{\"product_name\":{\"en\":\"Entry\"}}"};
    snprintf(t.id, sizeof t.id, "%s", id);
    snprintf(t.barcode, sizeof t.barcode, "%s", barcode);
    return t;
}

static db_status order_insert_fn(db_conn *c, void *arg)
{
    order_insert *x = arg;
    order_fixture *o = x->o;
    instant_us at = T0 + (instant_us)x->seq * 1000000;
    char doc[256];
    snprintf(doc, sizeof doc, "{\"customer\":{\"email\":\"%s\",\"name\":\"Buyer %s\"},\"visit_time\":\"10:00\"}",
             o->email, TAG);
    char name[64];
    snprintf(name, sizeof name, "Buyer %s", TAG);
    store_order ord = {.id = o->id, .number = o->number, .status = x->status, .channel = "web", .cart_id = o->cart,
                       .email = o->email, .customer_name = name, .visit_date = x->visit_date, .currency = "EUR",
                       .doc = doc, .total_gross = 1210 * x->ntickets, .total_net = 1000 * x->ntickets,
                       .change_seq = x->seq};
    store_status st = store_order_insert(c, x->account_id, &ord, at);
    if (st != STORE_OK) return store_db_status(st);
    o->ntickets = x->ntickets;
    for (int i = 0; i < x->ntickets; i++) {
        store_ticket t = ticket_of(o->tickets[i], o->id, "line-1", x->product_id, o->barcodes[i]);
        st = store_tickets_insert(c, x->account_id, &t, 1, at + i); /* the second one a microsecond later */
        if (st != STORE_OK) return store_db_status(st);
    }
    if (x->payment) {
        st = store_payment_insert(c, x->account_id, o->id, "stripe", NULL, "paid", 1210 * x->ntickets, "ref-1", at);
        if (st != STORE_OK) return store_db_status(st);
    }
    return DB_OK;
}

static void order_new(order_fixture *o, const char *account_id, int seq, const char *status, const char *product_id,
                      const char *visit_date, int ntickets, bool payment)
{
    memset(o, 0, sizeof *o);
    test_id(o->id, sizeof o->id, "ord");
    test_id(o->cart, sizeof o->cart, "cart");
    rand_digits(o->number, 10);
    snprintf(o->email, sizeof o->email, "buyer-%s-%d@example.com", TAG, seq);
    for (int i = 0; i < ntickets; i++) {
        test_id(o->tickets[i], sizeof o->tickets[i], "tkt");
        rand_digits(o->barcodes[i], 20);
    }
    order_insert x = {account_id, o, seq, status, product_id, visit_date, ntickets, payment};
    CHECK(store_write(S, order_insert_fn, &x) == DB_OK, "setup: order inserted");
}

typedef struct {
    const char *account_id;
} loose_insert;

static db_status loose_fn(db_conn *c, void *arg)
{
    loose_insert *x = arg;
    store_ticket t = ticket_of(LOOSE, NULL, "line-loose", "prod-loose", LOOSE_BARCODE);
    t.event_id = "ev-1";
    t.valid_from = T0;
    t.max_scans = 3;
    return store_db_status(store_tickets_insert(c, x->account_id, &t, 1, T0 + 10 * 1000000));
}

/* ---------------- one order, one ticket ---------------- */

static void test_order_get(void)
{
    store_order_detail d;
    store_status st = store_order_get(S, A, O1.id, &d);
    CHECK(st == STORE_OK, "order_get: OK");
    if (st == STORE_OK) {
        CHECK(!strcmp(d.order.id, O1.id) && !strcmp(d.order.account_id, A) && !strcmp(d.order.number, O1.number) &&
                  !strcmp(d.order.status, "confirmed") && !strcmp(d.order.channel, "web") &&
                  !strcmp(d.order.cart_id, O1.cart) && !strcmp(d.order.email, O1.email) &&
                  !strcmp(d.order.product_type, "tickets") && !strcmp(d.order.currency, "EUR"),
              "order_get: text columns");
        CHECK(d.order.external_id == NULL && d.order.reseller_id == NULL, "order_get: SQL NULL is NULL");
        CHECK(d.order.visit_date && !strcmp(d.order.visit_date, "2030-01-01"), "order_get: visit_date");
        CHECK(d.order.total_gross == 2420 && d.order.total_net == 2000 && d.order.discount_total == 0 &&
                  d.order.created_at == T0 + 1000000 && d.order.change_seq == 1,
              "order_get: integer columns");
        CHECK(d.order.doc && strstr(d.order.doc, "visit_time"), "order_get: doc text");
        CHECK(d.ntickets == 2 && !strcmp(d.tickets[0].id, O1.tickets[0]) && !strcmp(d.tickets[1].id, O1.tickets[1]),
              "order_get: tickets in created order");
        if (d.ntickets == 2) {
            const store_ticket_row *t = &d.tickets[0];
            CHECK(!strcmp(t->order_id, O1.id) && !strcmp(t->barcode, O1.barcodes[0]) && !strcmp(t->status, "valid") &&
                      !strcmp(t->scan_limit, "once") && t->price_gross == 1210 && t->scans_used == 0 && !t->inside,
                  "order_get: ticket columns");
            CHECK(t->event_id == NULL && t->valid_from == STORE_NULL_INT && t->max_scans == STORE_NULL_INT &&
                      t->redeemed_at == STORE_NULL_INT && t->day_key == NULL,
                  "order_get: ticket NULLs");
        }
        CHECK(d.npayments == 1 && !strcmp(d.payments[0].kind, "payment") && !strcmp(d.payments[0].provider, "stripe") &&
                  d.payments[0].method == NULL && d.payments[0].amount == 2420 &&
                  !strcmp(d.payments[0].reference, "ref-1"),
              "order_get: payment");
    }
    store_order_detail_free(&d);

    CHECK(store_order_get(S, A, "ord-no-such", &d) == STORE_NOT_FOUND && d.ntickets == 0,
          "order_get: unknown NOT_FOUND");
    CHECK(store_order_get(S, A, OB.id, &d) == STORE_NOT_FOUND, "order_get: another account's order NOT_FOUND");
    CHECK(store_order_get(S, B, OB.id, &d) == STORE_OK && d.ntickets == 1 && d.npayments == 0,
          "order_get: the other account reads its own");
    store_order_detail_free(&d);

    CHECK(store_order_get_by_number(S, A, O2.number, &d) == STORE_OK && !strcmp(d.order.id, O2.id),
          "order_get_by_number: OK");
    store_order_detail_free(&d);
    CHECK(store_order_get_by_number(S, A, OB.number, &d) == STORE_NOT_FOUND,
          "order_get_by_number: another account's number NOT_FOUND");
    CHECK(store_order_get_by_number(S, A, "0", &d) == STORE_NOT_FOUND, "order_get_by_number: unknown NOT_FOUND");
}

static void test_ticket_get(void)
{
    store_ticket_row t;
    CHECK(store_ticket_get(S, A, LOOSE, &t) == STORE_OK && !strcmp(t.id, LOOSE) && t.order_id == NULL &&
              !strcmp(t.event_id, "ev-1") && t.valid_from == T0 && t.valid_to == STORE_NULL_INT && t.max_scans == 3 &&
              !strcmp(t.line_id, "line-loose") && strstr(t.doc, "Entry"),
          "ticket_get: OK, columns");
    store_ticket_row_free(&t);
    CHECK(store_ticket_get(S, A, OB.tickets[0], &t) == STORE_NOT_FOUND, "ticket_get: another account's NOT_FOUND");
    CHECK(store_ticket_get(S, A, "tkt-no-such", &t) == STORE_NOT_FOUND, "ticket_get: unknown NOT_FOUND");
}

typedef struct {
    const char *account_id;
    char id[40], barcode[24];
} ranged_insert;

static db_status ranged_fn(db_conn *c, void *arg)
{
    ranged_insert *x = arg;
    store_ticket t = ticket_of(x->id, NULL, "line-ranged", "prod-ranged", x->barcode);
    return store_db_status(store_tickets_insert(c, x->account_id, &t, 1, T0));
}

/* A range of ticket ids (how the Fourvenues dialect finds a ticket made
 * before its 24-hex ids): in id order, the account's only, at most max. */
static void test_ticket_ids_between(void)
{
    char stem[9], lo[40], hi[40];
    snprintf(stem, sizeof stem, "%08x", rand_below(0xffffffffu));
    static const char *const tails[] = {"-0000-7abc-a123-456789abcdef", "-0000-7abc-8123-456789000000",
                                        "-0000-7abc-b999-999999999999", "-0000-7abd-8000-000000000000"};
    static const char *const owners[] = {"A", "A", "B", "A"};
    for (size_t i = 0; i < 4; i++) {
        ranged_insert x = {owners[i][0] == 'A' ? A : B, "", ""};
        snprintf(x.id, sizeof x.id, "%s%s", stem, tails[i]);
        rand_digits(x.barcode, 20);
        CHECK(store_write(S, ranged_fn, &x) == DB_OK, "setup: ticket with a chosen id");
    }
    snprintf(lo, sizeof lo, "%s-0000-7abc-8000-000000000000", stem);
    snprintf(hi, sizeof hi, "%s-0000-7abc-bfff-ffffffffffff", stem);
    char ids[4][37];
    size_t n = 9;
    CHECK(store_ticket_ids_between(S, A, lo, hi, ids, 4, &n) == STORE_OK && n == 2 &&
              !strcmp(ids[0] + 8, tails[1]) && !strcmp(ids[1] + 8, tails[0]),
          "ticket_ids_between: the account's ids in the range, in order");
    CHECK(store_ticket_ids_between(S, A, lo, hi, ids, 1, &n) == STORE_OK && n == 1 && !strcmp(ids[0] + 8, tails[1]),
          "ticket_ids_between: at most max");
    CHECK(store_ticket_ids_between(S, B, lo, hi, ids, 4, &n) == STORE_OK && n == 1 && !strcmp(ids[0] + 8, tails[2]),
          "ticket_ids_between: another account's apart");
    snprintf(lo, sizeof lo, "%s-0000-7abd-8000-000000000001", stem);
    snprintf(hi, sizeof hi, "%s-0000-7abd-bfff-ffffffffffff", stem);
    CHECK(store_ticket_ids_between(S, A, lo, hi, ids, 4, &n) == STORE_OK && n == 0, "ticket_ids_between: bounds kept");
}

/* The db_conn variants, inside a read transaction of this file's own. */
typedef struct {
    const char *account_id, *order_id, *ticket_id;
    store_status order, ticket, scan;
    store_order_detail d;
    store_ticket_row t;
    store_ticket_scan s;
} conn_read;

static db_status conn_read_fn(db_conn *c, void *arg)
{
    conn_read *x = arg;
    x->order = store_order_load(c, x->account_id, x->order_id, &x->d);
    x->ticket = store_ticket_load(c, x->account_id, x->ticket_id, &x->t);
    x->scan = store_ticket_load_scan(c, x->account_id, x->ticket_id, &x->s);
    return DB_OK;
}

static conn_read conn(const char *account_id, const char *order_id, const char *ticket_id)
{
    conn_read x = {.account_id = account_id, .order_id = order_id, .ticket_id = ticket_id};
    if (store_read(S, conn_read_fn, &x) != DB_OK) x.order = x.ticket = x.scan = STORE_ERROR;
    return x;
}

static void conn_free(conn_read *x)
{
    store_order_detail_free(&x->d);
    store_ticket_row_free(&x->t);
    store_ticket_scan_free(&x->s);
}

static void test_conn_loads(void)
{
    conn_read x = conn(A, O2.id, O2.tickets[0]);
    CHECK(x.order == STORE_OK && !strcmp(x.d.order.id, O2.id) && x.d.ntickets == 1, "order_load: OK");
    CHECK(x.ticket == STORE_OK && !strcmp(x.t.id, O2.tickets[0]), "ticket_load: OK");
    CHECK(x.scan == STORE_OK && !strcmp(x.s.ticket.id, O2.tickets[0]) && x.s.has_order &&
              x.s.order_visit_date == NULL && strstr(x.s.order_doc, O2.email),
          "ticket_load_scan: OK with the order's visit_date (NULL) and doc");
    conn_free(&x);

    x = conn(A, O1.id, LOOSE);
    CHECK(x.scan == STORE_OK && !x.s.has_order && x.s.order_doc == NULL && x.s.order_visit_date == NULL,
          "ticket_load_scan: a ticket without an order has none");
    conn_free(&x);

    x = conn(A, O1.id, O1.tickets[1]);
    CHECK(x.scan == STORE_OK && x.s.has_order && !strcmp(x.s.order_visit_date, "2030-01-01"),
          "ticket_load_scan: visit_date");
    conn_free(&x);

    x = conn(A, OB.id, OB.tickets[0]);
    CHECK(x.order == STORE_NOT_FOUND && x.d.order.id == NULL, "order_load: another account's NOT_FOUND");
    CHECK(x.ticket == STORE_NOT_FOUND, "ticket_load: another account's NOT_FOUND");
    CHECK(x.scan == STORE_NOT_FOUND && !x.s.has_order, "ticket_load_scan: another account's NOT_FOUND");
    conn_free(&x);

    x = conn(A, "ord-no-such", "tkt-no-such");
    CHECK(x.order == STORE_NOT_FOUND && x.ticket == STORE_NOT_FOUND && x.scan == STORE_NOT_FOUND,
          "db_conn loads: unknown ids NOT_FOUND");
    conn_free(&x);
}

/* ---------------- pages ---------------- */

static store_order_filter order_filter(int limit)
{
    store_order_filter f = {.limit = limit, .visit_from = -1, .visit_to = -1};
    return f;
}

/* The page's order ids joined by ',' as "1,2,3" of O1..O3 (or "?" for another). */
static const char *page_ids(const store_order_page *p, char out[64])
{
    out[0] = 0;
    for (size_t i = 0; i < p->n; i++) {
        const char *id = p->orders[i].order.id;
        const char *k = !strcmp(id, O1.id) ? "1" : !strcmp(id, O2.id) ? "2" : !strcmp(id, O3.id) ? "3" : "?";
        snprintf(out + strlen(out), 64 - strlen(out), "%s%s", i ? "," : "", k);
    }
    return out;
}

static bool orders_are(const store_order_filter *f, const char *want, bool has_more)
{
    store_order_page p;
    char ids[64];
    store_status st = store_orders_page(S, A, f, &p);
    bool ok = st == STORE_OK && !strcmp(page_ids(&p, ids), want) && p.has_more == has_more;
    if (!ok) printf("# status %d, page %s, has_more %d\n", (int)st, st == STORE_OK ? ids : "-", (int)p.has_more);
    store_order_page_free(&p);
    return ok;
}

static void test_orders_page(void)
{
    store_order_filter f = order_filter(2);
    CHECK(orders_are(&f, "3,2", true), "orders_page: newest first, has_more");
    f.starting_after = O2.id;
    CHECK(orders_are(&f, "1", false), "orders_page: starting_after, last page");
    f = order_filter(1);
    f.ending_before = O1.id;
    CHECK(orders_are(&f, "2", true), "orders_page: ending_before, has_more");
    f.limit = 5;
    CHECK(orders_are(&f, "3,2", false), "orders_page: ending_before page newest first");

    store_order_page p;
    f = order_filter(5);
    f.starting_after = "ord-no-such";
    CHECK(store_orders_page(S, A, &f, &p) == STORE_NOT_FOUND && p.n == 0, "orders_page: unknown cursor NOT_FOUND");
    f.starting_after = NULL;
    f.ending_before = OB.id;
    CHECK(store_orders_page(S, A, &f, &p) == STORE_NOT_FOUND, "orders_page: another account's cursor NOT_FOUND");

    f = order_filter(5);
    CHECK(store_orders_page(S, A, &f, &p) == STORE_OK && p.n == 3 && p.orders[2].ntickets == 2 &&
              p.orders[2].npayments == 1 && p.orders[0].ntickets == 0,
          "orders_page: orders come with their tickets and payments");
    store_order_page_free(&p);

    f = order_filter(2);
    f.by_change_seq = true;
    CHECK(orders_are(&f, "1,2", true), "orders_page: by change_seq ascending, has_more");
    f.after_change_seq = 2;
    CHECK(orders_are(&f, "3", false), "orders_page: after change_seq");
    f.starting_after = "ord-no-such"; /* not a keyset page: the cursor is not read */
    CHECK(orders_are(&f, "3", false), "orders_page: by change_seq ignores cursors");

    char upper[64];
    snprintf(upper, sizeof upper, "%s", O2.email);
    upper[0] = 'B';
    f = order_filter(10);
    f.email = upper;
    CHECK(orders_are(&f, "2", false), "orders_page: email, case-insensitive");
    f = order_filter(10);
    f.name = TAG;
    CHECK(orders_are(&f, "3,2,1", false), "orders_page: name substring");
    f = order_filter(10);
    f.statuses[0] = "cancelled";
    f.statuses[1] = "open";
    CHECK(orders_are(&f, "3", false), "orders_page: statuses");
    f = order_filter(10);
    f.product_ids[0] = "prod-x";
    f.product_ids[1] = "prod-b";
    CHECK(orders_are(&f, "2", false), "orders_page: product ids");
    f = order_filter(10);
    f.barcode = O1.barcodes[1];
    CHECK(orders_are(&f, "1", false), "orders_page: barcode");
    f = order_filter(10);
    f.visit_from = 21915; /* 2030-01-01 */
    CHECK(orders_are(&f, "1", false), "orders_page: visit_from");
    f = order_filter(10);
    f.created_gte = T0 + 2000000;
    CHECK(orders_are(&f, "3,2", false), "orders_page: created_gte");
    f.number = O3.number;
    CHECK(orders_are(&f, "3", false), "orders_page: number");
    f.number = OB.number;
    CHECK(orders_are(&f, "", false), "orders_page: another account's number: empty page");
}

static store_ticket_filter ticket_filter(int limit)
{
    store_ticket_filter f = {.limit = limit};
    return f;
}

static void test_tickets_page(void)
{
    /* A's tickets newest first: LOOSE (T0+10s), O3 none, O2 (T0+2s), O1 #2, O1 #1 */
    store_ticket_page p;
    store_ticket_filter f = ticket_filter(2);
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_OK && p.n == 2 && p.has_more &&
              !strcmp(p.tickets[0].ticket.id, LOOSE) && !strcmp(p.tickets[1].ticket.id, O2.tickets[0]),
          "tickets_page: newest first, has_more");
    if (p.n == 2)
        CHECK(!p.tickets[0].has_order && p.tickets[0].order_email == NULL && p.tickets[1].has_order &&
                  !strcmp(p.tickets[1].order_email, O2.email) && strstr(p.tickets[1].order_name, TAG),
              "tickets_page: the order's buyer");
    store_ticket_page_free(&p);

    f.starting_after = O2.tickets[0];
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_OK && p.n == 2 && !p.has_more &&
              !strcmp(p.tickets[0].ticket.id, O1.tickets[1]) && !strcmp(p.tickets[1].ticket.id, O1.tickets[0]),
          "tickets_page: starting_after, last page");
    store_ticket_page_free(&p);

    f = ticket_filter(1);
    f.ending_before = O1.tickets[1];
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_OK && p.n == 1 && p.has_more &&
              !strcmp(p.tickets[0].ticket.id, O2.tickets[0]),
          "tickets_page: ending_before, has_more");
    store_ticket_page_free(&p);
    f.limit = 10;
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_OK && p.n == 2 && !p.has_more &&
              !strcmp(p.tickets[0].ticket.id, LOOSE) && !strcmp(p.tickets[1].ticket.id, O2.tickets[0]),
          "tickets_page: ending_before page newest first");
    store_ticket_page_free(&p);

    f = ticket_filter(10);
    f.starting_after = "tkt-no-such";
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_NOT_FOUND && p.n == 0, "tickets_page: unknown cursor NOT_FOUND");
    f.starting_after = OB.tickets[0];
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_NOT_FOUND, "tickets_page: another account's cursor NOT_FOUND");

    f = ticket_filter(10);
    f.order_id = O1.id;
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_OK && p.n == 2 && !p.has_more, "tickets_page: order_id");
    store_ticket_page_free(&p);
    f = ticket_filter(10);
    f.barcode = LOOSE_BARCODE;
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_OK && p.n == 1 && !strcmp(p.tickets[0].ticket.id, LOOSE),
          "tickets_page: barcode");
    store_ticket_page_free(&p);
    f = ticket_filter(10);
    f.email = O1.email;
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_OK && p.n == 2, "tickets_page: the order's email");
    store_ticket_page_free(&p);
    f = ticket_filter(10);
    f.barcode = OB.barcodes[0];
    CHECK(store_tickets_page(S, A, &f, &p) == STORE_OK && p.n == 0, "tickets_page: another account's: empty page");
    store_ticket_page_free(&p);
    CHECK(store_tickets_page(S, B, &f, &p) == STORE_OK && p.n == 1 && p.tickets[0].has_order,
          "tickets_page: the other account sees its own");
    store_ticket_page_free(&p);
}

int main(void)
{
    unsigned char key[SERVER_KEY_BYTES] = {7};
    secure_set_server_key(key);
    char path[128];
    const char *uri = test_db_uri("orders-store", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    test_id(A, sizeof A, "acct-a");
    test_id(B, sizeof B, "acct-b");
    snprintf(TAG, sizeof TAG, "t%u", rand_below(1000000000));
    order_new(&O1, A, 1, "confirmed", "prod-a", "2030-01-01", 2, true);
    order_new(&O2, A, 2, "confirmed", "prod-b", NULL, 1, false);
    order_new(&O3, A, 3, "cancelled", "prod-a", NULL, 0, false);
    order_new(&OB, B, 1, "confirmed", "prod-a", NULL, 1, false);
    test_id(LOOSE, sizeof LOOSE, "tkt");
    rand_digits(LOOSE_BARCODE, 20);
    loose_insert li = {A};
    CHECK(store_write(S, loose_fn, &li) == DB_OK, "setup: ticket without an order");

    test_order_get();
    test_ticket_get();
    test_conn_loads();
    test_orders_page();
    test_tickets_page();
    test_ticket_ids_between(); /* last: its tickets would show in the pages */

    store_close(S);
    test_db_remove(uri, path);
    return check_summary();
}
