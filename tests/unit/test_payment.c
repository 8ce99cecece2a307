/* The payment step (core/payment.c): the state machine as a table, callback
 * URLs, the fake provider's notifications, and the transitions against the
 * database (BOXOFFICE_TEST_DB: SQLite or PostgreSQL): start, idempotent
 * start, replacement, each outcome, expiry by the reaper's sweep, a late
 * success re-holding and one refunding, and no seat oversold; provider
 * settings sealed per account, the fake provider's signatures, the
 * reconciler, and a session cancelled with its order. */
#include "catalog_doc/catalog_doc.h"
#include "core/payment.h"
#include "fixture.h"
#include "store/accounts_store.h"
#include <string.h>

static engine *E;
static account A, B;

/* ---------- the state machine ---------- */

static void test_state_machine(void)
{
    static const struct {
        const char *status;
        payment_outcome o;
        bool past_due, from_page;
        payment_step want;
    } rows[] = {
        /* the page: only an open session, before its deadline, moves */
        {"open", PAYMENT_PAID, false, true, PAYMENT_STEP_MOVE},
        {"open", PAYMENT_FAILED, false, true, PAYMENT_STEP_MOVE},
        {"open", PAYMENT_CANCELLED, false, true, PAYMENT_STEP_MOVE},
        {"open", PAYMENT_EXPIRED, false, true, PAYMENT_STEP_EXPIRE},
        {"open", PAYMENT_PAID, true, true, PAYMENT_STEP_EXPIRE},
        {"open", PAYMENT_CANCELLED, true, true, PAYMENT_STEP_EXPIRE},
        {"paid", PAYMENT_PAID, false, true, PAYMENT_STEP_REFUSE},
        {"failed", PAYMENT_PAID, false, true, PAYMENT_STEP_REFUSE},
        {"cancelled", PAYMENT_PAID, false, true, PAYMENT_STEP_REFUSE},
        {"expired", PAYMENT_PAID, false, true, PAYMENT_STEP_REFUSE},
        {"refunded", PAYMENT_FAILED, false, true, PAYMENT_STEP_REFUSE},
        /* a provider is believed; the same report again changes nothing */
        {"open", PAYMENT_PAID, true, false, PAYMENT_STEP_MOVE},
        {"open", PAYMENT_FAILED, false, false, PAYMENT_STEP_MOVE},
        {"open", PAYMENT_EXPIRED, false, false, PAYMENT_STEP_EXPIRE},
        {"paid", PAYMENT_PAID, false, false, PAYMENT_STEP_SAME},
        {"failed", PAYMENT_FAILED, false, false, PAYMENT_STEP_SAME},
        {"expired", PAYMENT_EXPIRED, true, false, PAYMENT_STEP_SAME},
        {"refunded", PAYMENT_PAID, false, false, PAYMENT_STEP_SAME},
        {"failed", PAYMENT_PAID, false, false, PAYMENT_STEP_LATE_PAID},
        {"cancelled", PAYMENT_PAID, false, false, PAYMENT_STEP_LATE_PAID},
        {"expired", PAYMENT_PAID, true, false, PAYMENT_STEP_LATE_PAID},
        {"paid", PAYMENT_FAILED, false, false, PAYMENT_STEP_REFUSE},
        {"paid", PAYMENT_EXPIRED, true, false, PAYMENT_STEP_REFUSE},
        {"refunded", PAYMENT_CANCELLED, false, false, PAYMENT_STEP_REFUSE},
        {"failed", PAYMENT_CANCELLED, false, false, PAYMENT_STEP_REFUSE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "state machine: %s + %s%s%s", rows[i].status, payment_outcome_name(rows[i].o),
                 rows[i].past_due ? " past due" : "", rows[i].from_page ? " (page)" : " (provider)");
        CHECK(payment_next(rows[i].status, rows[i].o, rows[i].past_due, rows[i].from_page) == rows[i].want, name);
    }
    payment_outcome o;
    CHECK(payment_outcome_parse("cancelled", &o) && o == PAYMENT_CANCELLED, "outcome names parse");
    CHECK(!payment_outcome_parse("refunded", &o) && !payment_outcome_parse(NULL, &o), "refunded is no outcome");
}

static void test_callback_urls(void)
{
    payment_session s = {0};
    snprintf(s.success_url, sizeof s.success_url, "https://a.example/ok");
    snprintf(s.failure_url, sizeof s.failure_url, "https://a.example/f?x=1");
    snprintf(s.cancel_url, sizeof s.cancel_url, "https://a.example/c?");
    snprintf(s.expired_url, sizeof s.expired_url, "https://a.example/e?x=1#frag");
    static const struct {
        const char *status, *want;
    } rows[] = {
        {"paid", "https://a.example/ok?order_id=42&status=paid"},
        {"failed", "https://a.example/f?x=1&order_id=42&status=failed"},
        {"refunded", "https://a.example/f?x=1&order_id=42&status=refunded"},
        {"cancelled", "https://a.example/c?order_id=42&status=cancelled"},
        {"expired", "https://a.example/e?x=1&order_id=42&status=expired#frag"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[256], name[96];
        snprintf(s.status, sizeof s.status, "%s", rows[i].status);
        payment_callback_url(&s, "42", out, sizeof out);
        snprintf(name, sizeof name, "callback url for %s", rows[i].status);
        CHECK(!strcmp(out, rows[i].want), name);
    }
}

static void test_fake_notifications(void)
{
    const payment_provider *p = payment_provider_find(PAYMENT_FAKE_PROVIDER);
    CHECK(p && !p->test_mode_only && p->test_server_only, "fake provider: test servers only");
    CHECK(payment_provider_find("mollie") == NULL, "no real provider is built");
    static const struct {
        const char *body;
        bool ok;
    } rows[] = {
        {"id=fk_pay_0123456789abcdef&status=paid", true},
        {"status=failed&id=fk_pay_0123456789abcdef", true},
        {"id=fk_pay_01&status=refunded", false},
        {"id=tr_123&status=paid", false},
        {"id=fk_pay%20x&status=paid", false},
        {"id=&status=paid", false},
        {"status=paid", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        payment_notification n = {.body = rows[i].body, .len = strlen(rows[i].body)};
        char id[72] = "";
        payment_outcome o;
        bo_error err;
        char name[128];
        snprintf(name, sizeof name, "fake notification \"%s\" %s", rows[i].body, rows[i].ok ? "read" : "refused");
        CHECK((p->parse_notification(&n, id, &o, &err) == BO_OK) == rows[i].ok, name);
        if (i == 0) CHECK(!strcmp(id, "pay_0123456789abcdef") && o == PAYMENT_PAID, "fake: session id and outcome");
    }
    payment_notification n = {.body = "id=fk_x&status=paid", .len = 19};
    payment_session s;
    bo_error err;
    CHECK(payment_notify(E, PAYMENT_FAKE_PROVIDER, &n, false, &s, &err) == BO_NOT_FOUND,
          "fake provider: unknown on a server without test hooks");
}

/* ---------- against the database ---------- */

static char PRODUCT[48];

/* A product of A's on a pool of its own; its id in id. */
static bool make_product(const char *name, int capacity, int price, int booking_fee, char id[48])
{
    bo_error err;
    json_t *pool = NULL, *product = NULL;
    json_t *doc = json_pack("{s:i}", "capacity", capacity);
    catalog_put_json(E, &A, CAT_POOL, NULL, doc, false, &pool, &err);
    json_decref(doc);
    doc = json_pack("{s:s,s:i,s:i,s:[{s:s?}]}", "name", name, "price", price, "booking_fee", booking_fee, "pools",
                    "pool_id", json_string_value(json_object_get(pool, "id")));
    catalog_put_json(E, &A, CAT_PRODUCT, NULL, doc, false, &product, &err);
    json_decref(doc);
    if (product) snprintf(id, 48, "%s", json_string_value(json_object_get(product, "id")));
    bool made = pool && product;
    json_decref(pool);
    json_decref(product);
    return made;
}

static void setup(void)
{
    CHECK(test_account(E, "pa", "Payments", &A) && test_account(E, "pb", "Other", &B), "accounts");
    bo_error err;
    CHECK(account_test_mode_set(E, &A, true, &err) == BO_OK, "test mode on for A");
    CHECK(make_product("Workshop", 3, 1000, 50, PRODUCT), "catalog made");
}

/* An order of n seats, open (unpaid) or paid at once. */
static bool book(int64_t n, bool open, char order_id[40])
{
    cart_line l = {PRODUCT, n};
    cart_request r = {.day = -1, .start_time = -1, .end_time = -1, .lines = &l, .nlines = 1,
                      .use_engine_prices = true};
    cart_record cart;
    bo_error err;
    if (cart_create(E, &A, &r, &cart, &err) != BO_OK) return false;
    payment_input cash = {.provider = "cash", .amount = -1};
    book_request br = {.cart_id = cart.id, .status = open ? "open" : NULL, .payment = open ? NULL : &cash};
    bool created;
    bo_status st = order_book(E, &A, &br, order_id, &created, &err);
    cart_record_free(&cart);
    return st == BO_OK;
}

static payment_start_request request(const char *provider, const char *method)
{
    return (payment_start_request){.provider = provider, .method = method, .fee = 35,
                                   .success_url = "https://s.example/ok", .failure_url = "https://s.example/f",
                                   .cancel_url = "https://s.example/c", .expired_url = "https://s.example/e",
                                   .test_server = true};
}

static bool order_is(const char *order_id, const char *status, const char *ticket_status, size_t npayments)
{
    order_record o;
    if (order_get(E, &A, order_id, &o) != BO_OK) return false;
    bool ok = !strcmp(o.order.status, status) && o.npayments == npayments;
    for (size_t i = 0; i < o.ntickets; i++) ok = ok && !strcmp(o.tickets[i].status, ticket_status);
    order_record_free(&o);
    return ok;
}

/* A session as a report answered it equals the stored one (the report may not read it back). */
static bool same_as_stored(const payment_session *s)
{
    payment_session stored;
    return payment_get(E, &A, s->id, &stored) == BO_OK && !strcmp(stored.status, s->status) &&
           stored.updated_at == s->updated_at && stored.released_at == s->released_at &&
           stored.due_at == s->due_at && !strcmp(stored.reason, s->reason) && stored.amount == s->amount;
}

static void test_start_and_outcomes(void)
{
    char order[40];
    CHECK(book(2, true, order), "open order of 2");
    payment_start_request req = request(NULL, "ideal");
    payment_session s, again, other;
    bool created = false;
    bo_error err;
    CHECK(payment_start(E, &A, order, &req, &s, &created, &err) == BO_OK && created, "start");
    CHECK(s.amount == 2 * (1000 + 50) && s.fee == 35 && !strcmp(s.status, "open"), "amount: tickets and fees");
    CHECK(!strncmp(s.redirect_url, "/pay/pay_", 9) && strlen(s.id) == 36, "redirect to the page; 128-bit id");
    CHECK(payment_start(E, &B, order, &req, &other, &created, &err) == BO_NOT_FOUND, "another account: not found");
    CHECK(payment_start(E, &A, order, &req, &again, &created, &err) == BO_OK && !created && !strcmp(again.id, s.id),
          "the same request: the same payment");
    payment_start_request card = request(NULL, "card");
    CHECK(payment_start(E, &A, order, &card, &other, &created, &err) == BO_OK && created && strcmp(other.id, s.id),
          "another method: a new payment");
    CHECK(payment_get(E, &A, s.id, &again) == BO_OK && !strcmp(again.status, "cancelled"), "the first is cancelled");
    CHECK(payment_get(E, &B, s.id, &again) == BO_NOT_FOUND, "payment_get is scoped by account");
    payment_step step;
    CHECK(payment_report(E, PAYMENT_TEST_PROVIDER, s.id, PAYMENT_PAID, true, &again, &step, &err) == BO_CONFLICT &&
              !strcmp(err.code, "payment_finished"),
          "the cancelled one cannot be paid on the page");
    CHECK(payment_report(E, PAYMENT_TEST_PROVIDER, other.id, PAYMENT_FAILED, true, &again, &step, &err) == BO_OK &&
              !strcmp(again.status, "failed"),
          "fail");
    CHECK(same_as_stored(&again), "the failed session as reported is the one stored");
    CHECK(order_is(order, "open", "unpaid", 0), "failed: the hold stays");
    CHECK(payment_start(E, &A, order, &card, &other, &created, &err) == BO_OK && created, "retry after a failure");
    CHECK(payment_report(E, PAYMENT_TEST_PROVIDER, other.id, PAYMENT_PAID, true, &again, &step, &err) == BO_OK &&
              !strcmp(again.status, "paid") && step == PAYMENT_STEP_MOVE,
          "pay");
    CHECK(same_as_stored(&again) && again.released_at, "the paid session as reported is the one stored");
    CHECK(order_is(order, "confirmed", "valid", 1), "paid: confirmed, tickets valid, one payment");
    CHECK(payment_report(E, PAYMENT_TEST_PROVIDER, other.id, PAYMENT_PAID, false, &again, &step, &err) == BO_OK &&
              step == PAYMENT_STEP_SAME,
          "the provider's second report changes nothing");
    CHECK(order_is(order, "confirmed", "valid", 1), "still one payment");
    CHECK(payment_start(E, &A, order, &card, &other, &created, &err) == BO_CONFLICT, "a paid order: not_open");
    CHECK(payment_report(E, PAYMENT_FAKE_PROVIDER, s.id, PAYMENT_PAID, false, &again, &step, &err) == BO_NOT_FOUND,
          "another provider's report of the session: not found");

    char off[40];
    CHECK(book(1, true, off), "an open order of B's account holder");
    CHECK(account_test_mode_set(E, &A, false, &err) == BO_OK, "test mode off");
    CHECK(payment_start(E, &A, off, &req, &s, &created, &err) == BO_FORBIDDEN, "test provider needs test mode");
    bool mode = true;
    money platform = -1;
    CHECK(account_platform_fee_set(E, &A, 75, &err) == BO_OK &&
              account_sale_settings_get(E, &A, &mode, &platform) == BO_OK && !mode && platform == 75,
          "sale settings: test mode and platform fee in one read");
    CHECK(account_platform_fee_set(E, &A, 0, &err) == BO_OK, "platform fee back to 0");
    CHECK(account_test_mode_set(E, &A, true, &err) == BO_OK, "test mode on again");
    CHECK(account_sale_settings_get(E, &A, &mode, &platform) == BO_OK && mode && platform == 0,
          "sale settings: as set again");
    payment_start_request bad = request(NULL, "ideal");
    bad.success_url = "javascript:alert(1)";
    CHECK(payment_start(E, &A, off, &bad, &s, &created, &err) == BO_INVALID && !strcmp(err.field, "callback_urls.success"),
          "bad callback url refused");
    bad = request("nope", "ideal");
    CHECK(payment_start(E, &A, off, &bad, &s, &created, &err) == BO_INVALID && !strcmp(err.field, "provider"),
          "unknown provider refused");
    bad = request(PAYMENT_FAKE_PROVIDER, "ideal");
    bad.test_server = false;
    CHECK(payment_start(E, &A, off, &bad, &s, &created, &err) == BO_INVALID, "fake provider only on test servers");
    order_cancel(E, &A, off, NULL, "test", &err);
}

static void test_expiry_and_late_success(void)
{
    /* the pool has 3 seats; 2 were sold above */
    CHECK(book(0, true, (char[40]){0}) == false, "zero seats is no order");
    char order[40], order2[40];
    /* capacity left: 1 (the first test's order holds 2) */
    CHECK(book(1, true, order), "open order of the last seat");
    payment_start_request req = request(PAYMENT_FAKE_PROVIDER, "card");
    req.deadline_seconds = 60;
    payment_session s, after;
    bool created;
    bo_error err;
    CHECK(payment_start(E, &A, order, &req, &s, &created, &err) == BO_OK, "fake payment started");
    CHECK(!book(1, true, order2), "sold out while held");
    clock_advance(61);
    CHECK(payments_expire_due(E) >= 1, "the sweep releases the order past its deadline");
    CHECK(order_is(order, "cancelled", "voided", 0), "released: cancelled, tickets voided");
    CHECK(payment_get(E, &A, s.id, &after) == BO_OK && !strcmp(after.status, "expired"), "session expired");
    CHECK(payments_expire_due(E) == 0, "nothing left to release");
    payment_step step;
    CHECK(payment_report(E, PAYMENT_FAKE_PROVIDER, s.id, PAYMENT_PAID, false, &after, &step, &err) == BO_OK &&
              step == PAYMENT_STEP_LATE_PAID && !strcmp(after.status, "paid"),
          "late success with the seat free: re-held and paid");
    CHECK(order_is(order, "confirmed", "valid", 1), "re-held: confirmed, tickets valid");
    CHECK(!book(1, true, order2), "and the seat counts again");

    /* the same again, but the seat is sold meanwhile */
    char victim[40];
    CHECK(order_cancel(E, &A, order, NULL, "test", &err) == BO_OK, "free the seat");
    CHECK(book(1, true, victim), "open order of the last seat");
    CHECK(payment_start(E, &A, victim, &req, &s, &created, &err) == BO_OK, "started");
    CHECK(payment_report(E, PAYMENT_FAKE_PROVIDER, s.id, PAYMENT_EXPIRED, false, &after, &step, &err) == BO_OK &&
              step == PAYMENT_STEP_EXPIRE,
          "the provider says expired: released");
    CHECK(book(1, false, order2), "someone else buys the seat");
    CHECK(payment_report(E, PAYMENT_FAKE_PROVIDER, s.id, PAYMENT_PAID, false, &after, &step, &err) == BO_OK &&
              !strcmp(after.status, "refunded") &&
              !strcmp(after.reason, "the seats were sold after the payment deadline"),
          "late success without the seat: refunded, and why");
    CHECK(order_is(victim, "cancelled", "voided", 2), "the order stays cancelled: a payment and its refund");
    CHECK(payment_report(E, PAYMENT_FAKE_PROVIDER, s.id, PAYMENT_PAID, false, &after, &step, &err) == BO_OK &&
              step == PAYMENT_STEP_SAME,
          "a repeated late success refunds nothing more");
    CHECK(order_is(victim, "cancelled", "voided", 2), "still two payment rows");
    CHECK(!book(1, true, order2), "never oversold");
}

/* ---------- booking and starting in one transaction ---------- */

static bool fee_35(const order_record *o, void *arg, money *fee)
{
    (void)arg;
    *fee = 35;
    return o->ntickets > 0;
}

static bool fee_refused(const order_record *o, void *arg, money *fee)
{
    (void)o, (void)arg;
    *fee = 0;
    return false;
}

/* A cart of n seats of product, held. */
static bool hold(const char *product, int64_t n, cart_record *cart)
{
    cart_line l = {product, n};
    cart_request r = {.day = -1, .start_time = -1, .end_time = -1, .lines = &l, .nlines = 1,
                      .use_engine_prices = true};
    bo_error err;
    return cart_create(E, &A, &r, cart, &err) == BO_OK;
}

/* Still a cart holding its seats, booked into no order. */
static bool cart_unbooked(const char *cart_id)
{
    cart_record c;
    if (cart_get(E, &A, cart_id, &c) != BO_OK) return false;
    bool ok = !strcmp(c.status, "open") && !*c.order_id;
    cart_record_free(&c);
    return ok;
}

static void test_book_and_start(void)
{
    bo_error err;
    char concert[48];
    CHECK(make_product("Concert", 10, 2000, 100, concert), "a product of its own");

    cart_record cart;
    CHECK(hold(concert, 2, &cart), "a cart of 2");
    order_record o;
    book_request br = {.cart_id = cart.id, .status = "open", .order_out = &o};
    payment_start_request req = request(NULL, "card");
    payment_session s, again;
    bool created = false;
    CHECK(payment_book_and_start(E, &A, &br, &req, fee_35, NULL, &s, &created, &err) == BO_OK && created,
          "booked and started");
    CHECK(s.amount == 2 * (2000 + 100) && s.fee == 35 && !strcmp(s.status, "open") && !strcmp(s.order_id, o.order.id),
          "the session pays the order as booked, with fee_of's fee");
    CHECK(!strcmp(o.order.status, "open") && *o.order.number && o.ntickets == 2, "the order as booked is handed back");
    CHECK(order_is(o.order.id, "open", "unpaid", 0), "an open order with unpaid tickets");
    order_record after;
    CHECK(order_get(E, &A, s.order_id, &after) == BO_OK && strstr(after.order.doc, "\"test\":true") &&
              after.order.change_seq == o.order.change_seq,
          "marked test in the same transaction, with the change number the booking took");
    order_record_free(&after);
    /* the hosted page's one read: the session, its account and its order or the order's number */
    payment_session found;
    account owner;
    order_record with;
    char number[16] = "";
    CHECK(payment_find_with_order(E, s.id, &found, &owner, &with, NULL) == BO_OK && !strcmp(owner.id, A.id) &&
              !strcmp(with.order.id, s.order_id) && with.ntickets == 2 && !strcmp(found.id, s.id),
          "payment_find_with_order: the session with its order");
    order_record_free(&with);
    CHECK(payment_find_with_order(E, s.id, &found, &owner, NULL, number) == BO_OK &&
              !strcmp(number, o.order.number),
          "payment_find_with_order: or just the order's number");
    CHECK(payment_find_with_order(E, "pay_00000000000000000000000000000000", &found, &owner, &with, number) ==
                  BO_NOT_FOUND &&
              !with.order.id && with.ntickets == 0,
          "an unknown session: not found, the order left empty");
    char order_id[40];
    snprintf(order_id, sizeof order_id, "%s", o.order.id);
    order_record_free(&o);
    CHECK(payment_book_and_start(E, &A, &br, &req, fee_35, NULL, &again, &created, &err) == BO_OK && !created &&
              !strcmp(again.id, s.id) && !strcmp(again.order_id, order_id),
          "the same cart and request again: the same order and payment");
    order_record_free(&o);
    cart_record_free(&cart);

    /* a refusal of either half undoes both: the cart is still held, unbooked */
    CHECK(hold(concert, 1, &cart), "another cart");
    br = (book_request){.cart_id = cart.id, .status = "open"};
    CHECK(payment_book_and_start(E, &A, &br, &req, fee_refused, NULL, &s, &created, &err) == BO_INVALID &&
              !strcmp(err.field, "fee"),
          "a fee the dialect cannot compute: refused on fee");
    CHECK(cart_unbooked(cart.id), "and nothing was booked");
    CHECK(account_test_mode_set(E, &A, false, &err) == BO_OK, "test mode off");
    CHECK(payment_book_and_start(E, &A, &br, &req, fee_35, NULL, &s, &created, &err) == BO_FORBIDDEN &&
              !strcmp(err.code, "test_mode_required"),
          "the test provider without test mode: refused");
    CHECK(cart_unbooked(cart.id), "and nothing was booked");
    CHECK(account_test_mode_set(E, &A, true, &err) == BO_OK, "test mode on again");
    payment_start_request bad = request(NULL, "card");
    bad.failure_url = "ftp://x.example/";
    CHECK(payment_book_and_start(E, &A, &br, &bad, fee_35, NULL, &s, &created, &err) ==
                  BO_INVALID &&
              !strcmp(err.field, "callback_urls.failure"),
          "a bad callback URL: refused before booking");
    CHECK(cart_unbooked(cart.id), "and nothing was booked");
    book_request other = {.cart_id = cart.id, .status = "open"};
    CHECK(payment_book_and_start(E, &B, &other, &req, fee_35, NULL, &s, &created, &err) == BO_NOT_FOUND,
          "another account's cart: not found");
    CHECK(payment_book_and_start(E, &A, &br, &req, fee_35, NULL, &s, &created, &err) == BO_OK && created,
          "then it books and starts");
    cart_record_free(&cart);
}

/* ---------- provider settings, the reconciler, cancelling with the order ---------- */

static void test_provider_settings(store *st)
{
    bo_error err;
    payment_provider_settings ps;
    const char *key = "sk_test_abcdef1234", *secret = "whsec_0123456789";
    CHECK(payment_provider_settings_put(E, &A, "fake", true, key, secret, &err) == BO_OK, "settings stored");
    CHECK(payment_provider_settings_get(E, &A, "fake", true, &ps, &err) == BO_OK && ps.api_key_set &&
              ps.webhook_secret_set && !strcmp(ps.api_key_hint, "1234") && !strcmp(ps.webhook_secret_hint, "6789"),
          "shown only as set, with the last four characters");
    CHECK(payment_provider_settings_get(E, &B, "fake", true, &ps, &err) == BO_OK && !ps.api_key_set &&
              !ps.webhook_secret_set,
          "another account has none");
    char *sealed = NULL;
    CHECK(store_account_secret_get(st, A.id, "payment:fake:api_key", &sealed) == STORE_OK && sealed &&
              !strstr(sealed, key) && !strstr(sealed, "abcdef1234"),
          "the row holds the sealed key, not the key");
    free(sealed);
    const payment_provider *fake = payment_provider_find(PAYMENT_FAKE_PROVIDER);
    payment_credentials cred;
    CHECK(payment_credentials_load(E, &A, fake, &cred) == BO_OK && cred.api_key && !strcmp(cred.api_key, key) &&
              cred.webhook_secret && !strcmp(cred.webhook_secret, secret),
          "the provider gets them opened");
    payment_credentials_free(&cred);
    CHECK(payment_credentials_load(E, &B, fake, &cred) == BO_OK && !cred.api_key && !cred.webhook_secret,
          "and another account's provider none of them");
    CHECK(payment_credentials_load(E, &A, payment_provider_find(PAYMENT_TEST_PROVIDER), &cred) == BO_OK &&
              !cred.api_key,
          "a provider that uses no credentials gets none");
    CHECK(payment_provider_settings_put(E, &A, "fake", false, key, NULL, &err) == BO_NOT_FOUND,
          "the fake provider is unknown on a server without test hooks");
    CHECK(payment_provider_settings_put(E, &A, "mollie", true, key, NULL, &err) == BO_NOT_FOUND, "unknown provider");
    CHECK(payment_provider_settings_put(E, &A, "fake", true, "short", NULL, &err) == BO_INVALID &&
              !strcmp(err.field, "api_key"),
          "a short key is refused");
    CHECK(payment_provider_settings_put(E, &A, "fake", true, key, "has space", &err) == BO_INVALID &&
              !strcmp(err.field, "webhook_secret"),
          "a secret with a space is refused");
    CHECK(payment_provider_settings_get(E, &A, "fake", true, &ps, &err) == BO_OK && ps.webhook_secret_set,
          "a refused put changes nothing");

    /* the fake provider signs with the secret */
    const char *body = "id=fk_pay_x&status=paid";
    char sig[65];
    hmac_sha256_hex(secret, strlen(secret), body, strlen(body), sig);
    payment_notification n = {body, strlen(body), NULL, sig};
    CHECK(payment_credentials_load(E, &A, fake, &cred) == BO_OK, "loaded");
    CHECK(fake->authenticate(&cred, &n, &err) == BO_OK, "a signed notification is authentic");
    n.signature = NULL;
    CHECK(fake->authenticate(&cred, &n, &err) == BO_UNAUTHORIZED, "an unsigned one is not");
    sig[0] = sig[0] == '0' ? '1' : '0';
    n.signature = sig;
    CHECK(fake->authenticate(&cred, &n, &err) == BO_UNAUTHORIZED, "nor a wrong signature");
    payment_credentials_free(&cred);
    CHECK(payment_provider_settings_delete(E, &A, "fake", true, &err) == BO_OK &&
              payment_provider_settings_get(E, &A, "fake", true, &ps, &err) == BO_OK && !ps.api_key_set,
          "deleted");
}

static void test_reconciler_and_cancel(void)
{
    bo_error err;
    CHECK(make_product("Reconciled", 10, 500, 0, PRODUCT), "a product of its own");

    char order[40], cancelled[40];
    CHECK(book(1, true, order) && book(1, true, cancelled), "two open orders");
    payment_start_request req = request(PAYMENT_FAKE_PROVIDER, "card");
    payment_session s, c2, after;
    bool created;
    CHECK(payment_start(E, &A, order, &req, &s, &created, &err) == BO_OK, "fake payment started");
    CHECK(payment_start(E, &A, cancelled, &req, &c2, &created, &err) == BO_OK, "another started");
    const payment_provider *fake = payment_provider_find(PAYMENT_FAKE_PROVIDER);
    payment_credentials none = {0};
    char status[16];
    CHECK(fake->status(&none, &s, status, &err) == BO_OK && !strcmp(status, "open"), "the provider knows nothing yet");
    char ref[80];
    snprintf(ref, sizeof ref, "fk_%s", s.id);
    CHECK(payment_fake_settle(ref, PAYMENT_PAID, &err) == BO_OK, "paid at the provider's end");
    CHECK(payment_fake_settle("tr_1", PAYMENT_PAID, &err) == BO_INVALID, "another provider's reference refused");
    CHECK(fake->status(&none, &s, status, &err) == BO_OK && !strcmp(status, "paid"), "its status says so");
    CHECK(payments_reconcile(E) == 0, "not asked before PAYMENT_RECONCILE_EVERY_SECONDS");
    CHECK(order_is(order, "open", "unpaid", 0), "still open");
    CHECK(order_cancel(E, &A, cancelled, NULL, "test", &err) == BO_OK, "the other order cancelled");
    CHECK(payment_get(E, &A, c2.id, &after) == BO_OK && !strcmp(after.status, "cancelled") &&
              !strcmp(after.reason, "the order was cancelled"),
          "its session is cancelled with it");
    clock_advance(PAYMENT_RECONCILE_EVERY_SECONDS + 1);
    CHECK(payments_reconcile(E) == 1, "the reconciler moves the one the provider settled");
    CHECK(order_is(order, "confirmed", "valid", 1), "and its order is paid");
    CHECK(payment_get(E, &A, s.id, &after) == BO_OK && !strcmp(after.status, "paid"), "session paid");
    CHECK(payments_reconcile(E) == 0, "nothing more to move");
}

int main(void)
{
    secure_init();
    test_server_key(9);
    test_state_machine();
    test_callback_urls();
    char path[128];
    const char *uri = test_db_uri("payment", path);
    store *st = test_store_open(uri);
    if (!st) return check_summary();
    E = test_engine_open(st);
    test_fake_notifications();
    setup();
    test_start_and_outcomes();
    test_expiry_and_late_success();
    test_book_and_start();
    test_provider_settings(st);
    test_reconciler_and_cancel();
    return test_finish(E, st, uri, path);
}
