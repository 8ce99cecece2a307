/* The timeline at scale (issue 10, item 5), on the database BOXOFFICE_TEST_DB
 * names: keyset pages when many orders and tickets share one created_at (the
 * id breaks the tie; every row once, forwards and backwards), a page's
 * tickets and payments attached to their own orders, and the engine's bulk
 * booking path (all or nothing, no codes). */
#include "fixture.h"
#include "store/orders_store.h"
#include <string.h>

#define TIED 23 /* orders sharing one created_at */
#define PAGE 4

static store *S;
static engine *E;
static char ACCOUNT[40];
static char ORDER_IDS[TIED][40], TICKET_IDS[TIED][40];

typedef struct {
    int k;
} tied_insert;

/* Order k and its ticket, both at the same instant as every other. */
static db_status tied_fn(db_conn *c, void *arg)
{
    int k = ((tied_insert *)arg)->k;
    instant_us at = 1800000000000000LL;
    char number[12], line[40];
    rand_digits(number, 10);
    test_id(line, sizeof line, "line");
    store_order o = {.id = ORDER_IDS[k], .number = number, .status = "confirmed", .channel = "web",
                     .currency = "EUR", .doc = "{}", .change_seq = k + 1};
    store_status st = store_order_insert(c, ACCOUNT, &o, at);
    store_ticket t = {.order_id = ORDER_IDS[k], .line_id = line, .product_id = "prod", .occurrence = "",
                      .status = "valid", .scan_limit = "once", .scan_times = 1, .max_scans = -1,
                      .time_duration = -1, .doc = "{}"};
    snprintf(t.id, sizeof t.id, "%s", TICKET_IDS[k]);
    rand_digits(t.barcode, 20);
    if (st == STORE_OK) st = store_tickets_insert(c, ACCOUNT, &t, 1, at);
    if (st == STORE_OK) st = store_payment_insert(c, ACCOUNT, ORDER_IDS[k], "cash", NULL, "paid", 100 + k, NULL, at);
    return store_db_status(st);
}

static int index_of(char ids[][40], const char *id)
{
    for (int i = 0; i < TIED; i++)
        if (!strcmp(ids[i], id)) return i;
    return -1;
}

/* Walks the orders newest first from the top (or, backwards, newer than
 * `start` up to the top) in pages of PAGE; counts how often each appears and
 * whether ids only fall (rise). */
static void walk_orders(bool backwards, const char *start, int seen[TIED], bool *ordered)
{
    char cursor[40] = "";
    if (start) snprintf(cursor, sizeof cursor, "%s", start);
    *ordered = true;
    char last[40] = "";
    for (int pages = 0; pages < 100; pages++) {
        store_order_filter f = {.limit = PAGE, .visit_from = -1, .visit_to = -1};
        if (*cursor) *(backwards ? &f.ending_before : &f.starting_after) = cursor;
        store_order_page p;
        if (store_orders_page(S, ACCOUNT, &f, &p) != STORE_OK) {
            *ordered = false;
            return;
        }
        /* a backward page still comes newest first: read it from its end */
        for (size_t j = 0; j < p.n; j++) {
            const store_order_detail *d = &p.orders[backwards ? p.n - 1 - j : j];
            int k = index_of(ORDER_IDS, d->order.id);
            if (k >= 0) seen[k]++;
            if (*last && (backwards ? strcmp(d->order.id, last) <= 0 : strcmp(d->order.id, last) >= 0))
                *ordered = false;
            snprintf(last, sizeof last, "%s", d->order.id);
            /* children belong to their own order */
            if (k < 0 || d->ntickets != 1 || strcmp(d->tickets[0].id, TICKET_IDS[k]) || d->npayments != 1 ||
                d->payments[0].amount != 100 + k)
                *ordered = false;
        }
        bool more = p.has_more;
        if (p.n) snprintf(cursor, sizeof cursor, "%s", p.orders[backwards ? 0 : p.n - 1].order.id);
        store_order_page_free(&p);
        if (!more) return;
    }
    *ordered = false;
}

static void test_tied_orders(void)
{
    bool inserted = true;
    for (int k = 0; k < TIED; k++) {
        test_id(ORDER_IDS[k], sizeof ORDER_IDS[k], "ord");
        test_id(TICKET_IDS[k], sizeof TICKET_IDS[k], "tkt");
        tied_insert x = {k};
        inserted = inserted && store_write(S, tied_fn, &x) == DB_OK;
    }
    CHECK(inserted, "setup: orders with a ticket and a payment each, all at one instant");
    int seen[TIED] = {0};
    bool ordered;
    walk_orders(false, NULL, seen, &ordered);
    bool once = true;
    for (int k = 0; k < TIED; k++) once = once && seen[k] == 1;
    CHECK(once, "tied orders, newest first: every order exactly once");
    CHECK(ordered, "tied orders, newest first: ids fall, children on their own order");

    /* backwards from the oldest: everything newer than it, once */
    int oldest = 0;
    for (int k = 1; k < TIED; k++)
        if (strcmp(ORDER_IDS[k], ORDER_IDS[oldest]) < 0) oldest = k;
    int back[TIED] = {0};
    char oldest_id[40];
    snprintf(oldest_id, sizeof oldest_id, "%s", ORDER_IDS[oldest]);
    store_order_filter f = {.limit = PAGE, .visit_from = -1, .visit_to = -1, .ending_before = oldest_id};
    store_order_page p;
    CHECK(store_orders_page(S, ACCOUNT, &f, &p) == STORE_OK && p.n == PAGE && p.has_more,
          "tied orders: a page newer than the oldest is full and has more");
    store_order_page_free(&p);
    walk_orders(true, oldest_id, back, &ordered);
    once = back[oldest] == 0;
    for (int k = 0; k < TIED; k++) once = once && (k == oldest || back[k] == 1);
    CHECK(once && ordered, "tied orders, oldest first through ending_before: every order once, ids rise");

    /* tickets share the instant too */
    int tickets_seen[TIED] = {0};
    char cursor[40] = "";
    for (int pages = 0; pages < 100; pages++) {
        store_ticket_filter tf = {.limit = PAGE, .starting_after = *cursor ? cursor : NULL};
        store_ticket_page tp;
        if (store_tickets_page(S, ACCOUNT, &tf, &tp) != STORE_OK) break;
        for (size_t j = 0; j < tp.n; j++) {
            int k = index_of(TICKET_IDS, tp.tickets[j].ticket.id);
            if (k >= 0) tickets_seen[k]++;
        }
        bool more = tp.has_more;
        if (tp.n) snprintf(cursor, sizeof cursor, "%s", tp.tickets[tp.n - 1].ticket.id);
        store_ticket_page_free(&tp);
        if (!more) break;
    }
    once = true;
    for (int k = 0; k < TIED; k++) once = once && tickets_seen[k] == 1;
    CHECK(once, "tied tickets, newest first: every ticket exactly once");
}

/* ---------------- the bulk booking path ---------------- */

static char *put(const account *a, catalog_kind k, json_t *doc)
{
    json_t *out = NULL;
    bo_error err;
    bo_status st = catalog_put_json(E, a, k, NULL, doc, false, &out, &err);
    json_decref(doc);
    char *id = st == BO_OK ? strdup(json_string_value(json_object_get(out, "id"))) : NULL;
    json_decref(out);
    return id;
}

/* The account's orders (the timeline's first 1,000). */
static size_t orders_of(const account *a)
{
    order_query q;
    order_query_init(&q);
    q.limit = 1000;
    order_page p;
    bo_error err;
    size_t n = orders_list(E, a, &q, &p, &err) == BO_OK ? p.n : (size_t)-1;
    if (n == (size_t)-1) return n;
    order_page_free(&p);
    return n;
}

static void test_book_many(void)
{
    account a;
    CHECK(test_account(E, "bulk", "Bulk", &a), "setup: account");
    char *pool = put(&a, CAT_POOL, json_pack("{s:i,s:s}", "capacity", 5, "per", "total"));
    char *product = pool ? put(&a, CAT_PRODUCT, json_pack("{s:s,s:i,s:[{s:s,s:i}]}", "name", "Entry", "price", 1000,
                                                         "pools", "pool_id", pool, "amount", 1))
                         : NULL;
    CHECK(product != NULL, "setup: an undated product of 5 seats");
    if (!product) return;
    cart_line line = {product, 1};
    cart_request carts[6];
    for (int i = 0; i < 6; i++)
        carts[i] = (cart_request){.channel = "bench", .day = -1, .start_time = -1, .end_time = -1, .lines = &line,
                                  .nlines = 1, .use_engine_prices = true};
    payment_input pay = {.provider = "cash", .amount = -1};
    book_request booking = {.payment = &pay, .customer = "{\"email\":\"bulk@example.com\"}"};
    bo_error err;
    CHECK(orders_book_many(E, &a, carts, 6, &booking, &err) == BO_SOLD_OUT && orders_of(&a) == 0,
          "book_many: six orders on five seats sell none");
    CHECK(orders_book_many(E, &a, carts, 5, &booking, &err) == BO_OK && orders_of(&a) == 5,
          "book_many: five orders on five seats sell five");
    CHECK(orders_book_many(E, &a, carts, 1, &booking, &err) == BO_SOLD_OUT && orders_of(&a) == 5,
          "book_many: then the sixth is sold out");
    order_query q;
    order_query_init(&q);
    q.sort = ORDER_BY_CHANGE_ASC;
    order_page p;
    bool listed = orders_list(E, &a, &q, &p, &err) == BO_OK, whole = listed && p.n == 5;
    for (size_t i = 0; whole && i < p.n; i++)
        whole = p.orders[i].ntickets == 1 && p.orders[i].npayments == 1 && p.orders[i].payments[0].amount == 1000 &&
                p.orders[i].order.email && !strcmp(p.orders[i].order.email, "bulk@example.com") &&
                !strcmp(p.orders[i].order.status, "confirmed") && (i == 0 || p.orders[i].order.change_seq >
                                                                                  p.orders[i - 1].order.change_seq);
    if (listed) order_page_free(&p);
    CHECK(whole, "book_many: each order as order_book makes it, a ticket, a payment, a change sequence each");
    book_request coded = {.discount_code = "SPRING"};
    CHECK(orders_book_many(E, &a, carts, 1, &coded, &err) == BO_INVALID && !strcmp(err.field, "discount_code"),
          "book_many: codes are refused");
    free(pool);
    free(product);
}

int main(void)
{
    test_server_key(11);
    char path[128];
    const char *uri = test_db_uri("timeline", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    E = test_engine_open(S);
    test_id(ACCOUNT, sizeof ACCOUNT, "acct-tl");
    test_tied_orders();
    test_book_many();
    return test_finish(E, S, uri, path);
}
