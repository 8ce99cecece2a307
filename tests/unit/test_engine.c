/* The engine through its C API, on the database named by BOXOFFICE_TEST_DB
 * (default: a fresh SQLite file): catalog, availability, holds, booking,
 * cancelling, expiry, scanning, account isolation and the capacity invariant
 * under concurrent threads. */
#include "fixture.h"
#include "core/internal.h" /* USAGE_FRESH_MS */
#include "api/order_json.h"
#include "core/engine.h"
#include "core/webhooks.h"
#include "util/secure.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static engine *E;
static account A, B;
static civil_date TOMORROW;
static char POOL[40], PA[40], PB[40], PU[40], CAT[40];

static json_t *put(const account *a, catalog_kind k, json_t *doc)
{
    json_t *out = NULL;
    bo_error err = {0};
    bo_status st = catalog_put_json(E, a, k, NULL, doc, false, &out, &err);
    if (st != BO_OK) printf("# catalog_put %s: %s\n", catalog_kind_name(k), err.message);
    json_decref(doc);
    return out;
}

/* catalog_put borrows the document; this frees it after. */
static bo_status try_put(catalog_kind k, json_t *doc, bo_error *err)
{
    bo_status st = catalog_put_json(E, &A, k, NULL, doc, false, NULL, err);
    json_decref(doc);
    return st;
}

static void setup(void)
{
    bo_error err;
    CHECK(test_account(E, "t", "Test", &A), "account A created");
    CHECK(test_account(E, "u", "Other", &B), "account B created");
    CHECK(account_create(E, B.slug, "Dup", "Europe/Amsterdam", "EUR", NULL, &err) == BO_CONFLICT, "duplicate slug");
    CHECK(account_create(E, "BAD SLUG", "x", "Europe/Amsterdam", "EUR", NULL, &err) == BO_INVALID, "bad slug");
    CHECK(account_create(E, "zz", "x", "Nowhere/City", "EUR", NULL, &err) == BO_INVALID, "bad zone");
    int32_t secs;
    tz_instant_to_local(A.timezone, clock_now(), &TOMORROW, &secs);
    TOMORROW += 1;
    json_t *sch = put(&A, CAT_SCHEDULE, json_pack("{s:s,s:s,s:i}", "open", "09:00", "close", "17:00", "slot_minutes", 60));
    json_t *cat = put(&A, CAT_CATEGORY, json_pack("{s:s,s:s,s:s}", "name", "Dated", "flow", "dated", "schedule_id",
                                                  json_string_value(json_object_get(sch, "id"))));
    snprintf(CAT, sizeof CAT, "%s", json_string_value(json_object_get(cat, "id")));
    json_t *pool = put(&A, CAT_POOL, json_pack("{s:i}", "capacity", 10));
    snprintf(POOL, sizeof POOL, "%s", json_string_value(json_object_get(pool, "id")));
    json_t *taxes = json_pack("[{s:i}]", "rate_bp", 2000);
    json_t *pa = put(&A, CAT_PRODUCT, json_pack("{s:s,s:[s],s:i,s:O,s:[{s:s}],s:{s:s}}", "name", "A", "category_ids", CAT,
                                                "price", 500, "taxes", taxes, "pools", "pool_id", POOL, "scan",
                                                "limit", "once"));
    json_t *pb = put(&A, CAT_PRODUCT, json_pack("{s:s,s:[s],s:i,s:[{s:s,s:i}]}", "name", "B", "category_ids", CAT,
                                                "price", 300, "pools", "pool_id", POOL, "amount", 2));
    json_t *pu = put(&A, CAT_PRODUCT, json_pack("{s:s,s:i,s:i,s:{s:s}}", "name", "Unlimited", "price", 100,
                                                "booking_fee", 25, "scan", "limit", "none"));
    json_decref(taxes);
    CHECK(sch && cat && pool && pa && pb && pu, "catalog created");
    snprintf(PA, sizeof PA, "%s", json_string_value(json_object_get(pa, "id")));
    snprintf(PB, sizeof PB, "%s", json_string_value(json_object_get(pb, "id")));
    snprintf(PU, sizeof PU, "%s", json_string_value(json_object_get(pu, "id")));
    json_decref(sch);
    json_decref(cat);
    json_decref(pool);
    json_decref(pa);
    json_decref(pb);
    json_decref(pu);
    /* validation */
    CHECK(try_put(CAT_PRODUCT, json_pack("{s:s}", "name", "no price"), &err) == BO_INVALID &&
              !strcmp(err.field, "price"),
          "product without price rejected");
    CHECK(try_put(CAT_PRODUCT, json_pack("{s:s,s:i,s:s}", "name", "x", "price", 1, "colour", "red"), &err) == BO_INVALID &&
              !strcmp(err.code, "unknown_field"),
          "unknown field rejected");
    CHECK(try_put(CAT_PRODUCT, json_pack("{s:s,s:i,s:[s]}", "name", "x", "price", 1, "category_ids", "nope"), &err) == BO_INVALID,
          "dangling reference rejected");
    CHECK(try_put(CAT_SCHEDULE, json_pack("{s:s,s:s}", "open", "17:00", "close", "09:00"), &err) == BO_INVALID,
          "schedule closing before opening rejected");
    json_t *got;
    CHECK(catalog_get_json(E, &B, CAT_PRODUCT, PA, &got) == BO_NOT_FOUND, "other account cannot read product");
}

static int64_t avail_at(civil_date day, int32_t t, const char *product)
{
    slot *s;
    size_t n;
    bo_error err;
    if (availability_product(E, &A, product, NULL, day, day + 1, &s, &n, &err) != BO_OK) return -99;
    int64_t v = -98;
    for (size_t i = 0; i < n; i++)
        if (s[i].time_from == t) v = s[i].available;
    free(s);
    return v;
}

/* cart_create, keeping only the id of the cart it made. */
static bo_status make_cart(const account *a, const cart_request *r, char id[40], bo_error *err)
{
    cart_record cart;
    bo_status st = cart_create(E, a, r, &cart, err);
    if (st == BO_OK) memcpy(id, cart.id, 40);
    if (st == BO_OK) cart_record_free(&cart);
    return st;
}

static bo_status change_cart(const char *id, const cart_request *r, bo_error *err)
{
    cart_record cart;
    bo_status st = cart_update(E, &A, id, r, &cart, err);
    if (st == BO_OK) cart_record_free(&cart);
    return st;
}

static bo_status hold(const char *product, int64_t qty, int32_t t, char id[40], bo_error *err)
{
    cart_line l = {product, qty};
    cart_request r = {.channel = "test", .day = TOMORROW, .start_time = t, .end_time = -1, .lines = &l, .nlines = 1,
                      .use_engine_prices = true};
    return make_cart(&A, &r, id, err);
}

/* Catalog integrity: a product's pools must exist; a pool a product sells
 * from, or with seats held or sold, cannot be deleted; a product deleted under
 * a cart makes its booking fail cleanly (409 cart_outdated), never 500. */
/* A reply spans at most AVAILABILITY_MAX_SLOTS slots: PA has 8 a day, so
 * 2,500 days are the most one request may ask for (issue 9, defect 3). */
static void test_slot_bound(void)
{
    bo_error err;
    slot *s = NULL;
    size_t n = 0;
    civil_date most = AVAILABILITY_MAX_SLOTS / 8;
    CHECK(availability_product(E, &A, PA, NULL, TOMORROW, TOMORROW + most, &s, &n, &err) == BO_OK &&
              n == AVAILABILITY_MAX_SLOTS,
          "exactly the most slots answer");
    free(s);
    CHECK(availability_product(E, &A, PA, NULL, TOMORROW, TOMORROW + most + 1, &s, &n, &err) == BO_INVALID &&
              !strcmp(err.code, "too_many_slots") && !strcmp(err.field, "date_to"),
          "one day more is too_many_slots on date_to");
    cart_line lines[] = {{PA, 1}, {PB, 1}};
    CHECK(availability_cart(E, &A, NULL, lines, 2, TOMORROW, TOMORROW + most + 1, &s, &n, &err) == BO_INVALID &&
              !strcmp(err.code, "too_many_slots"),
          "a cart's range is bounded too");
    CHECK(availability_cart(E, &A, NULL, lines, 2, TOMORROW, TOMORROW + 2, &s, &n, &err) == BO_OK && n == 16,
          "a short cart range still answers");
    free(s);
}

static void test_catalog_integrity(void)
{
    bo_error err = {0};
    CHECK(try_put(CAT_PRODUCT, json_pack("{s:s,s:i,s:[{s:s}]}", "name", "Orphan", "price", 100, "pools", "pool_id",
                                         "no-such-pool"),
                  &err) == BO_INVALID &&
              !strcmp(err.code, "unknown_reference") && !strcmp(err.field, "pools"),
          "product naming a missing pool refused");
    CHECK(try_put(CAT_PRODUCT, json_pack("{s:s,s:i,s:[{s:s}]}", "name", "Other's", "price", 100, "pools", "pool_id",
                                         POOL),
                  &err) == BO_OK,
          "product naming an existing pool accepted");
    CHECK(catalog_delete(E, &A, CAT_POOL, POOL, &err) == BO_CONFLICT && !strcmp(err.code, "in_use"),
          "pool used by products cannot be deleted");
    json_t *pool = put(&A, CAT_POOL, json_pack("{s:i}", "capacity", 3));
    json_t *prod = put(&A, CAT_PRODUCT, json_pack("{s:s,s:[s],s:i,s:[{s:O}]}", "name", "Doomed", "category_ids", CAT,
                                                  "price", 700, "pools", "pool_id", json_object_get(pool, "id")));
    const char *pool_id = json_string_value(json_object_get(pool, "id"));
    const char *prod_id = json_string_value(json_object_get(prod, "id"));
    char cid[40], oid[40];
    CHECK(hold(prod_id, 2, 14 * 3600, cid, &err) == BO_OK, "hold the doomed product");
    CHECK(catalog_delete(E, &A, CAT_PRODUCT, prod_id, &err) == BO_OK, "product deleted under the cart");
    CHECK(catalog_delete(E, &A, CAT_POOL, pool_id, &err) == BO_CONFLICT && !strcmp(err.code, "in_use"),
          "pool with held seats cannot be deleted");
    book_request br = {.cart_id = cid};
    bool created = false;
    CHECK(order_book(E, &A, &br, oid, &created, &err) == BO_CONFLICT && !strcmp(err.code, "cart_outdated") &&
              !created,
          "cart holding a deleted product does not book");
    CHECK(cart_delete(E, &A, cid, &err) == BO_OK, "the outdated cart can be deleted");
    CHECK(catalog_delete(E, &A, CAT_POOL, pool_id, &err) == BO_OK, "unused pool with nothing held is deleted");
    json_decref(pool);
    json_decref(prod);
}

static void test_holds_and_booking(void)
{
    bo_error err;
    slot *s;
    size_t n;
    CHECK(availability_product(E, &A, PA, NULL, TOMORROW, TOMORROW + 2, &s, &n, &err) == BO_OK && n == 16,
          "two days of 8 hourly slots");
    CHECK(n > 0 && s[0].available == 10 && s[0].time_from == 9 * 3600 && s[0].time_to == 10 * 3600, "slot 09-10 has 10");
    free(s);
    CHECK(avail_at(TOMORROW, 10 * 3600, PB) == 5, "product B (2 seats each) shows 5");
    char c1[40], c2[40];
    CHECK(hold(PA, 3, 10 * 3600, c1, &err) == BO_OK, "hold 3");
    CHECK(avail_at(TOMORROW, 10 * 3600, PA) == 7, "7 left after hold");
    CHECK(hold(PB, 4, 10 * 3600, c2, &err) == BO_SOLD_OUT && !strcmp(err.code, "sold_out"), "B x4 = 8 seats sold out");
    CHECK(avail_at(TOMORROW, 10 * 3600, PA) == 7, "failed hold took nothing");
    CHECK(hold(PA, 1, 12 * 3600 + 1800, c2, &err) == BO_INVALID, "no slot at 12:30");
    CHECK(hold(PA, 0, 10 * 3600, c2, &err) == BO_INVALID, "zero amount rejected");
    CHECK(hold(PA, -1, 10 * 3600, c2, &err) == BO_INVALID, "negative amount rejected");
    cart_line bigger = {PA, 5};
    cart_request up = {.day = -1, .start_time = -1, .end_time = -1, .lines = &bigger, .nlines = 1, .use_engine_prices = true};
    CHECK(change_cart(c1, &up, &err) == BO_OK, "update cart to 5");
    CHECK(avail_at(TOMORROW, 10 * 3600, PA) == 5, "5 left after update");
    cart_line too_many = {PA, 11};
    up.lines = &too_many;
    CHECK(change_cart(c1, &up, &err) == BO_SOLD_OUT, "update beyond capacity fails");
    CHECK(avail_at(TOMORROW, 10 * 3600, PA) == 5, "failed update kept the old hold");
    cart_record cart;
    CHECK(cart_get(E, &A, c1, &cart) == BO_OK && cart.total == 2500 && cart.nlines == 1 && cart.lines[0].quantity == 5,
          "cart total 5 x 5.00");
    cart_record_free(&cart);
    CHECK(cart_get(E, &B, c1, &cart) == BO_NOT_FOUND, "other account cannot see cart");
    payment_input pay = {.provider = "test", .method = "card", .amount = -1};
    book_request br = {.cart_id = c1, .customer = "{\"email\":\"x@example.com\"}", .payment = &pay};
    char o1[40], o2[40];
    bool created;
    order_record booked_rows, again_rows;
    br.order_out = &booked_rows;
    CHECK(order_book(E, &A, &br, o1, &created, &err) == BO_OK && created, "book cart");
    br.order_out = &again_rows;
    CHECK(order_book(E, &A, &br, o2, &created, &err) == BO_OK && !created && !strcmp(o1, o2), "booking twice: same order");
    br.order_out = NULL;
    json_t *booked = order_json(&booked_rows, &A), *again = order_json(&again_rows, &A);
    order_record_free(&booked_rows);
    order_record_free(&again_rows);
    json_t *read_back = NULL;
    CHECK(order_get_json(E, &A, o1, &read_back) == BO_OK && json_equal(booked, read_back) && json_equal(again, read_back),
          "order_book returns the order as booked, the same as a read");
    json_decref(booked);
    json_decref(again);
    json_decref(read_back);
    CHECK(order_book(E, &B, &br, o2, &created, &err) == BO_NOT_FOUND, "other account cannot book the cart");
    CHECK(avail_at(TOMORROW, 10 * 3600, PA) == 5, "booked seats stay taken");
    json_t *order;
    CHECK(order_get_json(E, &A, o1, &order) == BO_OK, "order readable");
    json_t *tickets = json_object_get(order, "tickets");
    CHECK(json_array_size(tickets) == 5, "5 tickets");
    json_t *t0 = json_array_get(tickets, 0);
    CHECK(json_integer_value(json_object_get(t0, "price_gross")) == 500 &&
              json_integer_value(json_object_get(t0, "price_net")) == 417,
          "ticket 5.00 gross, 4.17 net");
    CHECK(json_integer_value(json_object_get(order, "total_gross")) == 2500 &&
              json_integer_value(json_object_get(order, "total_net")) == 2085,
          "order totals");
    CHECK(!strcmp(json_string_value(json_object_get(order, "status")), "confirmed"), "order confirmed");
    CHECK(json_array_size(json_object_get(order, "payments")) == 1, "one payment");
    json_t *hidden = NULL;
    CHECK(order_get_json(E, &B, o1, &hidden) == BO_NOT_FOUND, "other account cannot read the order");
    char barcode[64];
    snprintf(barcode, sizeof barcode, "%s", json_string_value(json_object_get(t0, "barcode")));
    CHECK(strlen(barcode) == 20, "barcode has 20 digits");
    json_decref(order);
    CHECK(order_cancel(E, &A, o1, "weather", "tester", &err) == BO_OK, "cancel order");
    CHECK(order_cancel(E, &A, o1, "again", "tester", &err) == BO_CONFLICT, "cancel twice conflicts");
    CHECK(avail_at(TOMORROW, 10 * 3600, PA) == 10, "cancel released the seats");
    CHECK(order_get_json(E, &A, o1, &order) == BO_OK, "cancelled order readable");
    CHECK(!strcmp(json_string_value(json_object_get(order, "status")), "cancelled"), "status cancelled");
    t0 = json_array_get(json_object_get(order, "tickets"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(t0, "status")), "refunded"), "tickets refunded");
    CHECK(json_array_size(json_object_get(order, "payments")) == 2, "refund payment recorded");
    json_decref(order);
    scan_request sr = {.barcode = barcode, .redeem = true};
    scan_result res = {0};
    CHECK(scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_NOT_FOUND, "refunded barcode does not scan");
    scan_result_free(&res);
    /* delete releases */
    char c3[40];
    CHECK(hold(PA, 4, 11 * 3600, c3, &err) == BO_OK && avail_at(TOMORROW, 11 * 3600, PA) == 6, "hold 4 at 11:00");
    CHECK(cart_delete(E, &A, c3, &err) == BO_OK && avail_at(TOMORROW, 11 * 3600, PA) == 10, "delete releases");
    CHECK(cart_delete(E, &A, c3, &err) == BO_CONFLICT, "delete twice conflicts");
    br.cart_id = c3;
    br.customer = NULL;
    CHECK(order_book(E, &A, &br, o2, &created, &err) == BO_CONFLICT, "deleted cart cannot be booked");
}

static void test_expiry(void)
{
    bo_error err;
    char c[40];
    cart_line l = {PA, 6};
    cart_request r = {.day = TOMORROW, .start_time = 13 * 3600, .end_time = -1, .lines = &l, .nlines = 1,
                      .hold_seconds = 30, .use_engine_prices = true};
    CHECK(make_cart(&A, &r, c, &err) == BO_OK, "short hold");
    CHECK(avail_at(TOMORROW, 13 * 3600, PA) == 4, "held 6");
    clock_advance(31);
    cart_record cart;
    CHECK(cart_get(E, &A, c, &cart) == BO_OK && !strcmp(cart.status, "expired"), "cart reads expired after its time");
    cart_record_free(&cart);
    CHECK(cart_reap_expired(E) >= 1, "reaper released it");
    CHECK(avail_at(TOMORROW, 13 * 3600, PA) == 10, "seats back after expiry");
    char o[40];
    bool created;
    book_request br = {.cart_id = c};
    bo_status bst = order_book(E, &A, &br, o, &created, &err);
    if (bst) printf("# %s\n", err.message);
    CHECK(bst == BO_OK && created, "expired cart re-held and booked");
    CHECK(avail_at(TOMORROW, 13 * 3600, PA) == 4, "booking took the seats again");
    /* expired cart whose seats were sold meanwhile */
    r.start_time = 14 * 3600;
    r.hold_seconds = 30;
    CHECK(make_cart(&A, &r, c, &err) == BO_OK, "hold 6 at 14:00");
    clock_advance(31);
    cart_reap_expired(E);
    char c2[40];
    cart_line l2 = {PA, 6};
    cart_request r2 = {.day = TOMORROW, .start_time = 14 * 3600, .end_time = -1, .lines = &l2, .nlines = 1};
    CHECK(make_cart(&A, &r2, c2, &err) == BO_OK, "someone else holds 6");
    br.cart_id = c;
    CHECK(order_book(E, &A, &br, o, &created, &err) == BO_SOLD_OUT, "expired cart cannot take sold seats");
}

/* pool_seats_sold: what is used less what open carts hold (the CM shop's SOLD_OUT vs IN_RESERVATION). */
static void test_seats_sold(void)
{
    bo_error err;
    char held[40], booked[40], o[40];
    bool created;
    CHECK(hold(PA, 2, 16 * 3600, booked, &err) == BO_OK && hold(PA, 3, 16 * 3600, held, &err) == BO_OK,
          "hold 2 and 3 at 16:00");
    cart_record cart;
    CHECK(cart_get(E, &A, held, &cart) == BO_OK, "the cart reads back");
    char occurrence[64];
    snprintf(occurrence, sizeof occurrence, "%s", cart.occurrence);
    cart_record_free(&cart);
    int64_t sold = -1;
    CHECK(pool_seats_sold(E, &A, POOL, occurrence, &sold) == BO_OK && sold == 0, "holds are not sold");
    book_request br = {.cart_id = booked};
    CHECK(order_book(E, &A, &br, o, &created, &err) == BO_OK, "book the 2");
    CHECK(pool_seats_sold(E, &A, POOL, occurrence, &sold) == BO_OK && sold == 2, "2 sold beside 3 held");
    CHECK(pool_seats_sold(E, &B, POOL, occurrence, &sold) == BO_OK && sold == 0, "another account sells none of them");
    CHECK(pool_seats_sold(E, &A, POOL, "no-such-occurrence", &sold) == BO_OK && sold == 0, "nothing at another one");
    CHECK(cart_delete(E, &A, held, &err) == BO_OK, "give the 3 back");
    CHECK(pool_seats_sold(E, &A, POOL, occurrence, &sold) == BO_OK && sold == 2, "still 2 sold");
}

static void test_scans(void)
{
    bo_error err;
    char c[40], o[40];
    bool created;
    cart_line l = {PA, 2};
    cart_request r = {.day = TOMORROW, .start_time = 15 * 3600, .end_time = -1, .lines = &l, .nlines = 1};
    CHECK(make_cart(&A, &r, c, &err) == BO_OK, "hold for scans");
    book_request br = {.cart_id = c};
    CHECK(order_book(E, &A, &br, o, &created, &err) == BO_OK, "book for scans");
    json_t *order;
    order_get_json(E, &A, o, &order);
    const char *b1 = json_string_value(json_object_get(json_array_get(json_object_get(order, "tickets"), 0), "barcode"));
    const char *b2 = json_string_value(json_object_get(json_array_get(json_object_get(order, "tickets"), 1), "barcode"));
    instant_us visit = tz_local_to_instant(A.timezone, TOMORROW, 15 * 3600);
    scan_result res = {0};
    scan_request sr = {.barcode = b1, .scanned_at = visit - 2 * 86400 * US_PER_SEC, .redeem = true};
    CHECK(scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_FUTURE_VALIDITY, "future_validity");
    scan_result_free(&res);
    sr.scanned_at = visit + 2 * 86400 * US_PER_SEC;
    CHECK(scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_PAST_VALIDITY, "past_validity");
    scan_result_free(&res);
    sr.scanned_at = visit;
    sr.direction_out = true;
    CHECK(scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_IN_REQUIRED, "scan_in_required");
    scan_result_free(&res);
    sr.direction_out = false;
    sr.redeem = false;
    CHECK(scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_SUCCESS && res.has_ticket, "check succeeds");
    scan_result_free(&res);
    sr.redeem = true;
    CHECK(scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_SUCCESS, "redeem succeeds");
    scan_result_free(&res);
    CHECK(scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_ALREADY_REDEEMED, "already_redeemed");
    scan_result_free(&res);
    sr.force = true;
    CHECK(scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_SUCCESS, "forceScan redeems anyway");
    scan_result_free(&res);
    sr.force = false;
    scan_request other = {.barcode = b1, .redeem = true};
    CHECK(scan_barcode(E, &B, &other, &res, &err) == BO_OK && res.code == SCAN_NOT_FOUND, "other account: not_found");
    scan_result_free(&res);
    other.barcode = "00000000000000000000";
    CHECK(scan_barcode(E, &A, &other, &res, &err) == BO_OK && res.code == SCAN_NOT_FOUND, "unknown: not_found");
    scan_result_free(&res);
    /* b2 is untouched: used by the concurrent test */
    static char shared[32];
    snprintf(shared, sizeof shared, "%s", b2);
    json_decref(order);
    (void)shared;
}

typedef struct {
    const char *barcode;
    instant_us at;
    atomic_int *successes;
} race_arg;

static void *race_scan(void *p)
{
    race_arg *r = p;
    scan_request sr = {.barcode = r->barcode, .scanned_at = r->at, .redeem = true};
    scan_result res = {0};
    bo_error err;
    if (scan_barcode(E, &A, &sr, &res, &err) == BO_OK && res.code == SCAN_SUCCESS) atomic_fetch_add(r->successes, 1);
    scan_result_free(&res);
    return NULL;
}

static void test_scan_race(void)
{
    bo_error err;
    char c[40], o[40];
    bool created;
    cart_line l = {PA, 1};
    cart_request r = {.day = TOMORROW, .start_time = 16 * 3600, .end_time = -1, .lines = &l, .nlines = 1};
    make_cart(&A, &r, c, &err);
    book_request br = {.cart_id = c};
    CHECK(order_book(E, &A, &br, o, &created, &err) == BO_OK, "book for race");
    json_t *order;
    order_get_json(E, &A, o, &order);
    const char *bc = json_string_value(json_object_get(json_array_get(json_object_get(order, "tickets"), 0), "barcode"));
    atomic_int successes = 0;
    race_arg arg = {bc, tz_local_to_instant(A.timezone, TOMORROW, 16 * 3600), &successes};
    pthread_t th[8];
    for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, race_scan, &arg);
    for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
    CHECK(atomic_load(&successes) == 1, "8 gates at once: exactly one redeem succeeds");
    json_decref(order);
}

/* Books one ticket of a fresh undated product with the given scan options. */
static char *ticket_with_scan(json_t *scan)
{
    json_t *p = put(&A, CAT_PRODUCT, json_pack("{s:s,s:i,s:o}", "name", "Scan rules", "price", 100, "scan", scan));
    char c[40], o[40];
    bo_error err;
    bool created;
    cart_line l = {json_string_value(json_object_get(p, "id")), 1};
    cart_request r = {.day = -1, .start_time = -1, .end_time = -1, .lines = &l, .nlines = 1};
    char *barcode = NULL;
    if (make_cart(&A, &r, c, &err) == BO_OK) {
        book_request br = {.cart_id = c};
        json_t *order;
        if (order_book(E, &A, &br, o, &created, &err) == BO_OK && order_get_json(E, &A, o, &order) == BO_OK) {
            barcode = strdup(json_string_value(
                json_object_get(json_array_get(json_object_get(order, "tickets"), 0), "barcode")));
            json_decref(order);
        }
    }
    json_decref(p);
    return barcode;
}

static scan_code scan_at(const char *barcode, instant_us at, bool out, bool redeem, scan_result *res)
{
    scan_request sr = {.barcode = barcode, .scanned_at = at, .direction_out = out, .redeem = redeem};
    bo_error err;
    scan_result_free(res);
    if (scan_barcode(E, &A, &sr, res, &err) != BO_OK) return (scan_code)-1;
    return res->code;
}

static void test_scan_rules(void)
{
    scan_result res = {0};
    instant_us t0 = tz_local_to_instant(A.timezone, TOMORROW, 10 * 3600);
    instant_us day = 86400 * US_PER_SEC, minute = 60 * US_PER_SEC;
    char *b = ticket_with_scan(json_pack("{s:s,s:i}", "limit", "times_per_day", "times", 2));
    CHECK(b != NULL, "times_per_day ticket");
    CHECK(scan_at(b, t0, false, true, &res) == SCAN_SUCCESS, "times_per_day: first scan");
    CHECK(scan_at(b, t0 + minute, false, true, &res) == SCAN_SUCCESS, "times_per_day: second scan");
    CHECK(scan_at(b, t0 + 2 * minute, false, true, &res) == SCAN_ALREADY_REDEEMED, "times_per_day: third refused");
    CHECK(scan_at(b, t0 + day, false, true, &res) == SCAN_SUCCESS, "times_per_day: next day again");
    free(b);
    b = ticket_with_scan(json_pack("{s:s,s:i}", "limit", "none", "max_scans", 3));
    for (int i = 0; i < 3; i++) scan_at(b, t0 + i * minute, false, true, &res);
    CHECK(scan_at(b, t0 + 5 * minute, false, true, &res) == SCAN_ALREADY_REDEEMED, "max_scans total enforced");
    free(b);
    b = ticket_with_scan(json_pack("{s:s}", "limit", "none"));
    for (int i = 0; i < 5; i++) scan_at(b, t0 + i * minute, false, true, &res);
    CHECK(scan_at(b, t0 + 9 * minute, false, true, &res) == SCAN_SUCCESS, "unlimited scans");
    free(b);
    /* pay-per-minute: 30 paid minutes */
    b = ticket_with_scan(json_pack("{s:s,s:i}", "limit", "none", "time_seconds", 1800));
    CHECK(scan_at(b, t0, true, true, &res) == SCAN_IN_REQUIRED, "ppm: out before in");
    CHECK(scan_at(b, t0, false, true, &res) == SCAN_SUCCESS && res.remaining_seconds == 1800, "ppm: in, 1800 s left");
    CHECK(scan_at(b, t0 + minute, false, true, &res) == SCAN_ALREADY_SCANNED_IN, "ppm: in twice");
    CHECK(scan_at(b, t0 + 10 * minute, true, false, &res) == SCAN_SUCCESS && res.remaining_seconds == 1200 &&
              res.overtime_seconds == 0,
          "ppm: check after 10 min, 1200 s left");
    CHECK(scan_at(b, t0 + 40 * minute, true, true, &res) == SCAN_TIME_LIMIT_REACHED && res.overtime_seconds == 600,
          "ppm: out after 40 min, 600 s overtime");
    free(b);
    b = ticket_with_scan(json_pack("{s:s,s:i,s:b}", "limit", "none", "time_seconds", 1800, "allow_overtime", 1));
    scan_at(b, t0, false, true, &res);
    CHECK(scan_at(b, t0 + 40 * minute, true, true, &res) == SCAN_SUCCESS && res.overtime_seconds == 600,
          "ppm with overtime allowed: out succeeds, reports overtime");
    CHECK(scan_at(b, t0 + 41 * minute, false, true, &res) == SCAN_SUCCESS, "ppm: in again after out");
    free(b);
    /* validity_seconds: valid for one hour after purchase */
    b = ticket_with_scan(json_pack("{s:s,s:i}", "limit", "once", "validity_seconds", 3600));
    CHECK(scan_at(b, clock_now() + 2 * 3600 * US_PER_SEC, false, false, &res) == SCAN_PAST_VALIDITY,
          "validity_seconds expires");
    CHECK(scan_at(b, clock_now(), false, false, &res) == SCAN_SUCCESS, "validity_seconds valid now");
    free(b);
    scan_result_free(&res);
    /* unpaid order: not scannable until paid */
    char c[40], o[40];
    bo_error err;
    bool created;
    cart_line l = {PU, 1};
    cart_request r = {.day = -1, .start_time = -1, .end_time = -1, .lines = &l, .nlines = 1};
    make_cart(&A, &r, c, &err);
    book_request br = {.cart_id = c, .status = "open"};
    CHECK(order_book(E, &A, &br, o, &created, &err) == BO_OK, "pay-later order");
    json_t *order;
    order_get_json(E, &A, o, &order);
    b = strdup(json_string_value(json_object_get(json_array_get(json_object_get(order, "tickets"), 0), "barcode")));
    CHECK(!strcmp(json_string_value(json_object_get(order, "status")), "open"), "order open");
    json_decref(order);
    res.has_ticket = false;
    CHECK(scan_at(b, 0, false, true, &res) == SCAN_NOT_SCANNABLE, "unpaid: not_scannable_code");
    /* becoming paid is an event of its own (ORDER.PAID) beside ORDER.UPDATED */
    static const webhook_format quiet = {.name = "engine-test"};
    webhooks_register_format(E, &quiet);
    static const char *const paid_only[] = {"ORDER.PAID"};
    webhook_subscription sub;
    CHECK(webhook_subscription_create(E, &A, "http://93.184.216.34/hook", "engine-test", paid_only, 1, NULL, "paid",
                                      &sub, &err) == BO_OK &&
              !strcmp(sub.name, "paid"),
          "a subscription to ORDER.PAID, named");
    payment_input pay = {.provider = "cash", .amount = -1};
    CHECK(order_mark_paid(E, &A, o, &pay, &err) == BO_OK, "mark paid");
    webhook_delivery_list paid_events = {0};
    CHECK(sub.id && webhook_deliveries_list(E, &A, sub.id, &paid_events) == BO_OK && paid_events.n == 1 &&
              !strcmp(paid_events.items[0].event, "ORDER.PAID"),
          "mark paid: one ORDER.PAID, nothing else for that subscription");
    webhook_delivery_list_free(&paid_events);
    if (sub.id) webhook_subscription_delete(E, &A, sub.id, &err);
    webhook_subscription_free(&sub);
    order_get_json(E, &A, o, &order);
    json_t *ticket = json_array_get(json_object_get(order, "tickets"), 0);
    json_t *payment = json_array_get(json_object_get(order, "payments"), 0);
    CHECK(json_integer_value(json_object_get(ticket, "booking_fee")) == 25 &&
              json_integer_value(json_object_get(payment, "amount")) ==
                  json_integer_value(json_object_get(ticket, "discounted_gross")) + 25,
          "mark paid: the payment is the tickets' price after discount plus booking fees");
    json_decref(order);
    CHECK(scan_at(b, 0, false, true, &res) == SCAN_SUCCESS, "paid: scans");
    scan_result_free(&res);
    free(b);
}

static void test_orders_list(void)
{
    order_query q;
    order_query_init(&q);
    q.sort = ORDER_BY_CHANGE_ASC;
    q.limit = 2;
    json_t *page;
    bool more;
    bo_error err;
    int64_t last = 0, count = 0, pages = 0;
    do {
        q.after_change_seq = last;
        CHECK(orders_list_json(E, &A, &q, &page, &more, &err) == BO_OK, "timeline page");
        size_t i;
        json_t *o;
        json_array_foreach(page, i, o)
        {
            int64_t seq = json_integer_value(json_object_get(o, "change_seq"));
            if (seq <= last) CHECK(0, "timeline strictly increasing");
            last = seq;
            count++;
        }
        json_decref(page);
        pages++;
    } while (more && pages < 100);
    CHECK(count >= 5 && pages >= 3, "timeline pages through every order");
    order_query_init(&q);
    q.sort = ORDER_BY_CREATED_DESC;
    q.statuses[0] = "cancelled";
    CHECK(orders_list_json(E, &A, &q, &page, &more, &err) == BO_OK && json_array_size(page) == 1, "status filter");
    json_decref(page);
    order_query_init(&q);
    q.email = "X@EXAMPLE.COM";
    CHECK(orders_list_json(E, &A, &q, &page, &more, &err) == BO_OK && json_array_size(page) == 1, "email filter ignores case");
    json_decref(page);
    order_query_init(&q);
    q.sort = ORDER_BY_CREATED_DESC;
    q.starting_after = "no-such-order";
    CHECK(orders_list_json(E, &A, &q, &page, &more, &err) == BO_INVALID, "unknown cursor rejected");
    order_query_init(&q);
    CHECK(orders_list_json(E, &B, &q, &page, &more, &err) == BO_OK && json_array_size(page) == 0, "other account sees none");
    json_decref(page);
}

/* ---- capacity invariant under concurrency ---- */

static char RACE_POOL[40], RACE_PRODUCT[40];
static atomic_int held_total, sold_total;

static void *race_hold(void *p)
{
    (void)p;
    for (int i = 0; i < 40; i++) {
        char c[40], o[40];
        bo_error err;
        bool created;
        cart_line l = {RACE_PRODUCT, 1 + (int)rand_below(3)};
        cart_request r = {.day = TOMORROW, .start_time = -1, .end_time = -1, .lines = &l, .nlines = 1};
        if (make_cart(&A, &r, c, &err) != BO_OK) continue;
        atomic_fetch_add(&held_total, (int)l.quantity);
        book_request br = {.cart_id = c};
        if (rand_below(2) && order_book(E, &A, &br, o, &created, &err) == BO_OK)
            atomic_fetch_add(&sold_total, (int)l.quantity);
        else if (rand_below(2) && cart_delete(E, &A, c, &err) == BO_OK)
            atomic_fetch_add(&held_total, -(int)l.quantity);
    }
    return NULL;
}

static void test_capacity_race(void)
{
    json_t *pool = put(&A, CAT_POOL, json_pack("{s:i}", "capacity", 60));
    snprintf(RACE_POOL, sizeof RACE_POOL, "%s", json_string_value(json_object_get(pool, "id")));
    json_t *p = put(&A, CAT_PRODUCT, json_pack("{s:s,s:b,s:i,s:[{s:s}]}", "name", "Race", "dated", 1, "price", 100, "pools",
                                               "pool_id", RACE_POOL));
    snprintf(RACE_PRODUCT, sizeof RACE_PRODUCT, "%s", json_string_value(json_object_get(p, "id")));
    json_decref(pool);
    json_decref(p);
    pthread_t th[16];
    for (int i = 0; i < 16; i++) pthread_create(&th[i], NULL, race_hold, NULL);
    for (int i = 0; i < 16; i++) pthread_join(th[i], NULL);
    slot *s;
    size_t n;
    bo_error err;
    CHECK(availability_product(E, &A, RACE_PRODUCT, NULL, TOMORROW, TOMORROW + 1, &s, &n, &err) == BO_OK && n == 1,
          "race slot readable");
    int64_t left = n ? s[0].available : -1;
    free(s);
    printf("# race: held+sold %d, left %lld\n", atomic_load(&held_total), (long long)left);
    CHECK(atomic_load(&held_total) + left == 60, "16 threads: held + sold + left == capacity");
    CHECK(left >= 0 && atomic_load(&held_total) <= 60, "never oversold");
}

/* Availability reads used seats from memory (core/usage_memory.c): this
 * process's holds show at once; another process's (a second store and engine
 * on the same database) once the memory is USAGE_FRESH_MS old, never later. */
static void test_other_process_holds(const char *uri)
{
    store *st2 = test_store_open(uri);
    engine *e2 = st2 ? test_engine_open(st2) : NULL;
    CHECK(e2 != NULL, "a second engine on the same database");
    if (!e2) return;
    int32_t t = 15 * 3600;
    int64_t before = avail_at(TOMORROW, t, PA);
    cart_line l = {PA, 2};
    cart_request r = {.channel = "test", .day = TOMORROW, .start_time = t, .end_time = -1, .lines = &l, .nlines = 1,
                      .use_engine_prices = true};
    cart_record cart;
    bo_error err;
    CHECK(cart_create(e2, &A, &r, &cart, &err) == BO_OK, "the other engine holds 2");
    cart_record_free(&cart);
    usleep((USAGE_FRESH_MS + 20) * 1000);
    CHECK(avail_at(TOMORROW, t, PA) == before - 2, "the other engine's hold shows here after USAGE_FRESH_MS");
    CHECK(hold(PA, 1, t, cart.id, &err) == BO_OK && avail_at(TOMORROW, t, PA) == before - 3,
          "this engine's own hold shows at once");
    engine_close(e2);
    store_close(st2);
}

int main(void)
{
    secure_init();
    test_server_key(7);
    char path[128];
    const char *uri = test_db_uri("engine", path);
    store *st = test_store_open(uri);
    if (!st) return check_summary();
    char *err = NULL;
    CHECK(store_migrate(st, &err) == DB_OK, "migrations are idempotent");
    free(err);
    E = test_engine_open(st);
    setup();
    test_holds_and_booking();
    test_expiry();
    test_seats_sold();
    test_scans();
    test_scan_race();
    test_scan_rules();
    test_orders_list();
    test_capacity_race();
    test_catalog_integrity();
    test_slot_bound();
    test_other_process_holds(uri);
    return test_finish(E, st, uri, path);
}
