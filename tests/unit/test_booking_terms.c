/* Per-ticket terms of a booking (book_request.terms; docs/MODEL.md, "Price
 * tiers"): each ticket's own price, fee, extras, barcode and document; the
 * price tier taken in the booking's transaction (a tier with no room books
 * nothing) and given back when the ticket is released; a channel's barcode
 * in use refused. Runs on BOXOFFICE_TEST_DB (SQLite or PostgreSQL), else a
 * fresh SQLite file. */
#include "fixture.h"
#include "util/objtext.h"
#include <string.h>

static store *S;
static engine *E;
static account A;

static bool put(catalog_kind k, const char *id, const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    json_object_set_new(doc, "id", json_string(id));
    bo_error err = {0};
    bo_status st = catalog_put_json(E, &A, k, NULL, doc, false, NULL, &err);
    if (st != BO_OK) printf("# put %s: %s\n", id, err.message);
    json_decref(doc);
    return st == BO_OK;
}

/* A cart of n tickets of the tiered product at the event's occurrence. */
static bool held(int64_t n, cart_record *cart)
{
    cart_line line = {"bt-rate", n};
    money unit = 1000;
    cart_request req = {.channel = "test", .day = -1, .start_time = -1, .end_time = -1, .occurrence_id = "bt-night",
                        .lines = &line, .nlines = 1, .unit_prices = &unit};
    bo_error err = {0};
    bo_status st = cart_create(E, &A, &req, cart, &err);
    if (st != BO_OK) printf("# cart: %s\n", err.message);
    return st == BO_OK;
}

static const cat_product *product(catalog_view **v)
{
    *v = catalog_view_open(E, &A);
    return *v ? model_product(catalog_view_model(*v), "bt-rate") : NULL;
}

static void usage(int64_t used[2])
{
    catalog_view *v;
    const cat_product *p = product(&v);
    used[0] = used[1] = -1;
    if (p) price_tier_usage(E, &A, p, "bt-night", used);
    catalog_view_close(v);
}

static bo_status book(const char *cart_id, const ticket_terms *terms, size_t n, char order_id[40], bo_error *err)
{
    book_request req = {.cart_id = cart_id, .status = "open", .terms = terms, .nterms = n};
    return order_book(E, &A, &req, order_id, NULL, err);
}

static void test_terms(void)
{
    CHECK(put(CAT_POOL, "bt-pool", "{\"name\":\"Room\",\"capacity\":10}"), "catalog: pool");
    CHECK(put(CAT_EVENT, "bt-event",
              "{\"name\":\"Night\",\"status\":\"published\",\"occurrences\":[{\"id\":\"bt-night\","
              "\"start\":\"2031-01-10T20:00:00\",\"end\":\"2031-01-10T23:00:00\"}]}"),
          "catalog: event");
    CHECK(put(CAT_PRODUCT, "bt-rate",
              "{\"name\":{\"en\":\"Entry\"},\"event_id\":\"bt-event\",\"price\":1000,\"booking_fee\":50,"
              "\"pools\":[{\"pool_id\":\"bt-pool\",\"amount\":1}],\"price_tiers\":["
              "{\"id\":\"t1\",\"name\":\"First\",\"price\":1000,\"quantity\":2,\"fee_percent_bp\":1000},"
              "{\"id\":\"t2\",\"name\":\"Second\",\"price\":1500,\"fee_amount\":150}]}"),
          "catalog: tiered product");

    cart_record cart = {0};
    CHECK(held(3, &cart), "three tickets held");
    ticket_terms terms[3] = {
        {.price_tier_id = "t1", .price = 1000, .booking_fee = 150, .extras = 220, .barcode = "MY-CODE-123",
         .doc = "{\"holder\":{\"name\":\"Ana\"},\"sale_terms\":{\"x\":1}}"},
        {.price_tier_id = "t1", .price = 1000, .booking_fee = 150},
        {.price_tier_id = "t2", .price = 1500, .booking_fee = 200},
    };
    char order_id[40] = "";
    bo_error err = {0};
    CHECK(book(cart.id, terms, 2, order_id, &err) == BO_INVALID && !strcmp(err.code, "invalid_terms"),
          "terms: one per ticket of the cart, else refused");
    CHECK(book(cart.id, terms, 3, order_id, &err) == BO_OK, "terms: booked");
    int64_t used[2];
    usage(used);
    CHECK(used[0] == 2 && used[1] == 1, "terms: the tiers were taken with the booking");
    order_record o = {0};
    CHECK(order_get(E, &A, order_id, &o) == BO_OK && o.ntickets == 3, "terms: the order and its tickets");
    money owed = 0;
    const store_ticket_row *own = NULL;
    for (size_t i = 0; i < o.ntickets; i++) {
        char *fee = objtext_member(o.tickets[i].doc, "booking_fee");
        owed += o.tickets[i].price_gross - o.tickets[i].discount + (fee ? strtoll(fee, NULL, 10) : 0);
        free(fee);
        if (!strcmp(o.tickets[i].barcode, "MY-CODE-123")) own = &o.tickets[i];
    }
    CHECK(owed == 1000 + 150 + 220 + 1000 + 150 + 1500 + 200, "terms: the order owes each ticket's own terms");
    CHECK(own && own->price_gross == 1220, "terms: the channel's barcode, the extras in the ticket's price");
    char *holder = own ? objtext_member(own->doc, "holder") : NULL;
    char *tier = own ? objtext_member(own->doc, "price_tier") : NULL;
    CHECK(holder && strstr(holder, "Ana") && tier && strstr(tier, "\"t1\""),
          "terms: the ticket's document carries its own members and its tier");
    free(holder), free(tier);
    char own_id[40] = "";
    if (own) snprintf(own_id, sizeof own_id, "%s", own->id);
    order_record_free(&o);
    cart_record_free(&cart);

    CHECK(held(1, &cart), "one more held");
    ticket_terms one = {.price_tier_id = "t1", .price = 1000, .booking_fee = 150};
    CHECK(book(cart.id, &one, 1, order_id, &err) == BO_SOLD_OUT && !strcmp(err.code, "tier_sold_out"),
          "tiers: a full tier books nothing");
    usage(used);
    CHECK(used[0] == 2 && used[1] == 1, "tiers: the counts did not move");
    one.barcode = "MY-CODE-123";
    one.price_tier_id = "t2";
    CHECK(book(cart.id, &one, 1, order_id, &err) == BO_CONFLICT && !strcmp(err.code, "barcode_taken"),
          "barcode: one in use is refused");
    usage(used);
    CHECK(used[1] == 1, "barcode: the refused booking took no tier");
    one.price_tier_id = "nope";
    one.barcode = NULL;
    CHECK(book(cart.id, &one, 1, order_id, &err) == BO_INVALID && !strcmp(err.code, "unknown_price_tier"),
          "tiers: an unknown tier is refused");
    one.price_tier_id = "t2";
    CHECK(book(cart.id, &one, 1, order_id, &err) == BO_OK, "tiers: the next tier books");
    cart_record_free(&cart);

    CHECK(ticket_void(E, &A, own_id, &err) == BO_OK, "release: the ticket is voided");
    usage(used);
    CHECK(used[0] == 1 && used[1] == 2, "release: its tier place is given back with its seat");
}

/* book_request.hold: the cart made and held in the booking's own transaction. */
static bo_status book_holding(int64_t n, const ticket_terms *terms, char order_id[40], bo_error *err)
{
    cart_line line = {"bt-rate", n};
    money unit = 1000;
    cart_request hold = {.channel = "test", .day = -1, .start_time = -1, .end_time = -1, .occurrence_id = "bt-night",
                         .lines = &line, .nlines = 1, .unit_prices = &unit};
    book_request req = {.hold = &hold, .status = "open", .terms = terms, .nterms = (size_t)n};
    return order_book(E, &A, &req, order_id, NULL, err);
}

static void test_hold_in_booking(void)
{
    /* after test_terms: 3 of the pool's 10 seats are taken (4 sold, 1 voided), tier t2 counts 2 */
    int64_t before[2], after[2];
    usage(before);
    ticket_terms two[2] = {{.price_tier_id = "t2", .price = 1500, .booking_fee = 200},
                           {.price_tier_id = "t2", .price = 1500, .booking_fee = 200}};
    char order_id[40] = "";
    bo_error err = {0};
    CHECK(book_holding(2, two, order_id, &err) == BO_OK, "hold in the booking: held and booked in one call");
    order_record o = {0};
    CHECK(order_get(E, &A, order_id, &o) == BO_OK && o.ntickets == 2 && o.order.cart_id && *o.order.cart_id,
          "hold in the booking: the order has its tickets and the cart it was held in");
    order_record_free(&o);
    usage(after);
    CHECK(after[1] == before[1] + 2, "hold in the booking: the tier was taken with it");

    ticket_terms six[6];
    for (size_t i = 0; i < 6; i++) six[i] = two[0];
    err = (bo_error){0};
    CHECK(book_holding(6, six, order_id, &err) == BO_SOLD_OUT && !strcmp(err.code, "sold_out") &&
              !strcmp(err.field, "items"),
          "hold in the booking: more than the 5 seats left is sold out");
    usage(before);
    CHECK(before[1] == after[1], "hold in the booking: a sold-out hold took no tier");
    six[4].price_tier_id = "nope";
    CHECK(book_holding(5, six, order_id, &err) == BO_INVALID && !strcmp(err.code, "unknown_price_tier"),
          "hold in the booking: a refused booking is refused whole");
    cart_record cart = {0};
    CHECK(held(5, &cart), "hold in the booking: the refused one held nothing (all 5 seats left can be held)");
    CHECK(cart_delete(E, &A, cart.id, &err) == BO_OK, "the seats go back");
    cart_record_free(&cart);
}

int main(void)
{
    test_server_key(23);
    char path[128];
    const char *uri = test_db_uri("booking-terms", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    E = test_engine_open(S);
    CHECK(test_account(E, "bt", "Booking terms", &A), "account");
    test_terms();
    test_hold_in_booking();
    return test_finish(E, S, uri, path);
}
