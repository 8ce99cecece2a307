/* Ticket refunds and refund requests (core/ticket_refunds.c; docs/MODEL.md,
 * "Ticket refunds") against the database (BOXOFFICE_TEST_DB: SQLite or
 * PostgreSQL): partial and total refunds, the seat given back by the first,
 * the payments' refunded counts, refusals, concurrent refunds never passing
 * what was paid, another account's ticket, and warranty refund requests. */
#include "catalog_doc/catalog_doc.h"
#include "fixture.h"
#include "store/order_changes.h"
#include "util/objtext.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static engine *E;
static account A, B;
static char PRODUCT[48], EVENT[48];
#define OCCURRENCE "oc_refunds_1"

static void setup(void)
{
    bo_error err;
    json_t *pool = NULL, *product = NULL, *event = NULL;
    json_t *doc = json_pack("{s:i}", "capacity", 3);
    catalog_put_json(E, &A, CAT_POOL, NULL, doc, false, &pool, &err);
    json_decref(doc);
    /* an event in ten days: a warranty of up to 240 hours is still running */
    char start[40];
    iso_format_seconds(clock_now() + 10LL * 86400 * 1000000, NULL, start, sizeof start);
    doc = json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "name", "Refund night", "status", "published", "occurrences", "id",
                    OCCURRENCE, "start", start);
    catalog_put_json(E, &A, CAT_EVENT, NULL, doc, false, &event, &err);
    json_decref(doc);
    if (pool && event) {
        doc = json_pack("{s:{s:s},s:s,s:i,s:i,s:[{s:s}]}", "name", "en", "Entry", "event_id",
                        json_string_value(json_object_get(event, "id")), "price", 1000, "booking_fee", 50, "pools",
                        "pool_id", json_string_value(json_object_get(pool, "id")));
        catalog_put_json(E, &A, CAT_PRODUCT, NULL, doc, false, &product, &err);
        json_decref(doc);
    }
    CHECK(pool && event && product, "catalog made");
    if (product) snprintf(PRODUCT, sizeof PRODUCT, "%s", json_string_value(json_object_get(product, "id")));
    if (event) snprintf(EVENT, sizeof EVENT, "%s", json_string_value(json_object_get(event, "id")));
    json_decref(pool);
    json_decref(event);
    json_decref(product);
}

/* An order of n seats, paid in cash (or left open); its tickets' ids into ids. */
static bool book(int64_t n, bool open, char ids[][40])
{
    cart_line l = {PRODUCT, n};
    cart_request r = {.day = -1, .start_time = -1, .end_time = -1, .occurrence_id = OCCURRENCE, .lines = &l,
                      .nlines = 1, .use_engine_prices = true};
    cart_record cart;
    bo_error err;
    if (cart_create(E, &A, &r, &cart, &err) != BO_OK) return false;
    payment_input cash = {.provider = "cash", .amount = -1};
    order_record o = {0};
    char order_id[40];
    book_request br = {.cart_id = cart.id, .status = open ? "open" : NULL, .payment = open ? NULL : &cash,
                       .order_out = &o};
    bool created;
    bo_status st = order_book(E, &A, &br, order_id, &created, &err);
    cart_record_free(&cart);
    for (size_t i = 0; st == BO_OK && i < o.ntickets && i < (size_t)n; i++) snprintf(ids[i], 40, "%s", o.tickets[i].id);
    if (st == BO_OK) order_record_free(&o);
    return st == BO_OK;
}

static bo_status refund(const account *a, const char *ticket, money amount, ticket_refund_result *out,
                        bo_error *err)
{
    ticket_refund_request req = {.amount = amount, .by = "test", .channel = "chan"};
    return ticket_refund(E, a, ticket, &req, out, err);
}

/* The ticket's order's refund rows' sum and its payment's status. */
static bool payments_of(const char *ticket, money *refund_rows, char status[16])
{
    ticket_record t;
    if (ticket_get(E, &A, ticket, &t) != BO_OK) return false;
    order_record o;
    bool ok = order_get(E, &A, t.order_id, &o) == BO_OK;
    ticket_record_free(&t);
    *refund_rows = 0;
    for (size_t i = 0; ok && i < o.npayments; i++) {
        if (!strcmp(o.payments[i].kind, "refund")) *refund_rows += o.payments[i].amount;
        else snprintf(status, 16, "%s", o.payments[i].status);
    }
    if (ok) order_record_free(&o);
    return ok;
}

static bool ticket_status_is(const char *id, const char *status)
{
    ticket_record t;
    if (ticket_get(E, &A, id, &t) != BO_OK) return false;
    bool ok = !strcmp(t.status, status);
    ticket_record_free(&t);
    return ok;
}

static void test_partial_and_total(void)
{
    char ids[3][40];
    CHECK(book(3, false, ids), "an order of 3 paid (the pool's whole capacity)");
    char more[1][40];
    CHECK(!book(1, false, more), "sold out");
    ticket_refund_result out;
    bo_error err;
    CHECK(refund(&A, ids[0], 400, &out, &err) == BO_OK && out.refunded == 400 && out.left == 650,
          "a partial refund: 4.00 of 10.50");
    CHECK(ticket_status_is(ids[0], "refunded"), "the first refund takes the ticket out of use");
    CHECK(book(1, false, more), "its seat is back");
    CHECK(refund(&A, ids[0], 651, &out, &err) == BO_INVALID && !strcmp(err.code, "amount_too_large") &&
              !strcmp(err.field, "amount"),
          "more than is left: refused");
    CHECK(refund(&A, ids[0], 650, &out, &err) == BO_OK && out.refunded == 1050 && out.left == 0, "the rest");
    CHECK(refund(&A, ids[0], 1, &out, &err) == BO_INVALID && !strcmp(err.code, "amount_too_large"),
          "nothing is left");
    money rows;
    char status[16] = "";
    CHECK(payments_of(ids[0], &rows, status) && rows == 1050 && !strcmp(status, "paid"),
          "the payment gave back 10.50 of 31.50 and stays paid");
    CHECK(refund(&A, ids[1], 1050, &out, &err) == BO_OK && refund(&A, ids[2], 1050, &out, &err) == BO_OK,
          "the other two, whole");
    CHECK(payments_of(ids[0], &rows, status) && rows == 3150 && !strcmp(status, "refunded"),
          "the payment went back whole: refunded");
    CHECK(refund(&A, ids[1], 0, &out, &err) == BO_INVALID && !strcmp(err.code, "invalid_amount"), "0 is refused");
    CHECK(refund(&A, ids[1], -5, &out, &err) == BO_INVALID && !strcmp(err.code, "invalid_amount"),
          "a negative amount is refused");
    CHECK(refund(&A, "nope", 1, &out, &err) == BO_NOT_FOUND, "an unknown ticket");
    CHECK(refund(&B, more[0], 1, &out, &err) == BO_NOT_FOUND, "another account's ticket is not found");
    CHECK(ticket_status_is(more[0], "valid"), "and is untouched");
    CHECK(ticket_void(E, &A, more[0], &err) == BO_OK, "free the seat");
}

static void test_refusals(void)
{
    char ids[1][40];
    ticket_refund_result out;
    bo_error err;
    CHECK(book(1, true, ids), "an open order");
    CHECK(refund(&A, ids[0], 1, &out, &err) == BO_INVALID && !strcmp(err.code, "not_paid"), "unpaid: refused");
    CHECK(ticket_void(E, &A, ids[0], &err) == BO_OK, "voided");
    CHECK(refund(&A, ids[0], 1, &out, &err) == BO_INVALID && !strcmp(err.code, "not_refundable"),
          "voided without a refund: refused");
}

typedef struct {
    const char *ticket;
    bo_status st;
} refunder;

static void *refund_one(void *arg)
{
    refunder *x = arg;
    bo_error err;
    ticket_refund_result out;
    x->st = refund(&A, x->ticket, 300, &out, &err);
    return NULL;
}

#define REFUNDERS 8

static void test_concurrent(void)
{
    char ids[1][40];
    CHECK(book(1, false, ids), "a paid ticket of 10.50");
    refunder x[REFUNDERS];
    pthread_t threads[REFUNDERS];
    size_t started = 0;
    for (size_t i = 0; i < REFUNDERS; i++) {
        x[i] = (refunder){ids[0], BO_INTERNAL};
        if (pthread_create(&threads[i], NULL, refund_one, &x[i])) break;
        started++;
    }
    for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    int ok = 0, refused = 0;
    for (size_t i = 0; i < started; i++) ok += x[i].st == BO_OK, refused += x[i].st == BO_INVALID;
    CHECK(started == REFUNDERS && ok == 3 && refused == REFUNDERS - 3,
          "8 concurrent refunds of 3.00 on 10.50: exactly 3 go through");
    money rows;
    char status[16];
    CHECK(payments_of(ids[0], &rows, status) && rows == 900, "the payment gave back 9.00");
}

typedef struct {
    const char *ticket, *doc;
} doc_change;

/* Writes sale_terms into a ticket's document, as a channel's checkout records them. */
static db_status set_terms_fn(db_conn *c, void *arg)
{
    doc_change *x = arg;
    store_ticket_state t;
    store_status ss = store_ticket_state_get(c, A.id, x->ticket, &t);
    char *doc = ss == STORE_OK ? objtext_merge(t.doc, x->doc) : NULL;
    if (ss == STORE_OK) ss = doc ? store_ticket_set_doc(c, A.id, x->ticket, t.doc, doc, clock_now()) : STORE_ERROR;
    free(doc);
    store_ticket_state_free(&t);
    return store_db_status(ss);
}

static bool set_terms(const char *ticket, const char *terms)
{
    doc_change x = {ticket, terms};
    return store_write(engine_store(E), set_terms_fn, &x) == DB_OK;
}

static void test_requests(void)
{
    char ids[3][40];
    ticket_refund_request_result out;
    bo_error err;
    CHECK(book(3, false, ids), "three paid tickets");
    CHECK(ticket_request_refund(E, &A, ids[0], NULL, &out, &err) == BO_CONFLICT && !strcmp(err.code, "no_warranty"),
          "no warranty: refused");
    CHECK(set_terms(ids[0], "{\"sale_terms\":{\"warranty\":{\"price\":100,\"hours\":12}}}") &&
              set_terms(ids[1], "{\"sale_terms\":{\"warranty\":{\"price\":100,\"hours\":480}}}") &&
              set_terms(ids[2], "{\"sale_terms\":{\"warranty\":null}}"),
          "warranties recorded");
    CHECK(ticket_request_refund(E, &A, ids[0], "ill", &out, &err) == BO_OK && out.created &&
              out.deadline - out.requested_at > 9LL * 86400 * 1000000,
          "asked within the warranty");
    instant_us first = out.requested_at;
    CHECK(ticket_request_refund(E, &A, ids[0], NULL, &out, &err) == BO_OK && !out.created &&
              out.requested_at == first,
          "asked again: the first request stands");
    ticket_record t;
    CHECK(ticket_get(E, &A, ids[0], &t) == BO_OK && strstr(t.doc, "\"refund_request\":{\"at\":") &&
              strstr(t.doc, "\"reason\":\"ill\"") && !strcmp(t.status, "valid"),
          "recorded in the ticket's document; the ticket stays valid");
    if (t.doc) ticket_record_free(&t);
    CHECK(ticket_request_refund(E, &A, ids[1], NULL, &out, &err) == BO_CONFLICT &&
              !strcmp(err.code, "warranty_expired"),
          "a 480-hour warranty ended before an event ten days away");
    CHECK(ticket_request_refund(E, &A, ids[2], NULL, &out, &err) == BO_CONFLICT && !strcmp(err.code, "no_warranty"),
          "a null warranty is none");
    CHECK(ticket_request_refund(E, &B, ids[0], NULL, &out, &err) == BO_NOT_FOUND, "another account: not found");
    char reason[600];
    memset(reason, 'x', sizeof reason - 1), reason[sizeof reason - 1] = 0;
    CHECK(ticket_request_refund(E, &A, ids[0], reason, &out, &err) == BO_INVALID && !strcmp(err.field, "reason"),
          "a reason over 500 bytes");
    ticket_refund_result done;
    CHECK(refund(&A, ids[0], 1050, &done, &err) == BO_OK, "the seller refunds");
    CHECK(ticket_request_refund(E, &A, ids[0], NULL, &out, &err) == BO_CONFLICT &&
              !strcmp(err.code, "not_refundable"),
          "a refunded ticket cannot ask");
}

int main(void)
{
    secure_init();
    test_server_key(9);
    char path[128];
    const char *uri = test_db_uri("ticket_refunds", path);
    store *st = test_store_open(uri);
    CHECK(st != NULL, "store opens");
    if (!st) return check_summary();
    E = test_engine_open(st);
    CHECK(E && test_account(E, "refunds", "Refunds", &A) && test_account(E, "refunds-b", "Refunds B", &B),
          "engine and accounts");
    setup();
    test_partial_and_total();
    test_refusals();
    test_concurrent();
    test_requests();
    return test_finish(E, st, uri, path);
}
