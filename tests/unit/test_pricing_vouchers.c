/* Pricing tokens (core/pricing.c) and voucher codes (core/vouchers.c) on the
 * database named by BOXOFFICE_TEST_DB (default: a fresh SQLite file): the
 * token's signed text payload round-trips any product id and occurrence, is
 * URL-safe and versioned, and is refused for another account, occurrence,
 * cart, after expiry or when tampered with; voucher codes go in as a C array
 * and come back as typed rows; a voucher limited to events pays only for
 * their tickets (a refusal spends nothing); a ticket group's max_per_order
 * counts its products together. */
#include "fixture.h"
#include "core/engine.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static engine *E;
static store *S;
static account A, B;

static bool url_safe(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_' || *s == '.'))
            return false;
    return true;
}

/* tokens below are made for this category unless a test says otherwise */
static const char *token_category = "tours";

static bo_status check_token(const account *a, const char *token, const char *occurrence, const cart_line *lines,
                             size_t n, money *prices, const char *want_code, const char *what)
{
    bo_error err = {0};
    bo_status st = pricing_token_check(a, token, token_category, occurrence, lines, n, prices, &err);
    bool ok = want_code ? st == BO_INVALID && !strcmp(err.code, want_code) && !strcmp(err.field, "pricing_token")
                        : st == BO_OK;
    CHECK(ok, what);
    if (!ok) printf("# got %d %s: %s\n", st, err.code, err.message);
    return st;
}

static void test_pricing_tokens(void)
{
    /* ids with the payload's separators, escapes and non-ASCII in them */
    cart_line lines[] = {{"plain", 2}, {"a b,c~d%e", 1}, {"caf\xc3\xa9/\xe2\x82\xac", 3}};
    money prices[] = {1250, 0, 99999999};
    char *token = pricing_token_make(&A, "tours", "2026-11-24T09:00", lines, prices, 3, 600);
    CHECK(token && url_safe(token), "token: URL-safe characters only");
    char *payload = token_verify(token);
    CHECK(payload && !strncmp(payload, "pt2 ", 4) && !strchr(payload, '{'), "token: signed pt2 text, not JSON");
    free(payload);

    money got[3] = {-1, -1, -1};
    check_token(&A, token, "2026-11-24T09:00", lines, 3, got, NULL, "token: accepted for its own cart");
    CHECK(got[0] == 1250 && got[1] == 0 && got[2] == 99999999, "token: every line's unit price back");
    cart_line reordered[] = {lines[2], lines[0], lines[1]};
    check_token(&A, token, "2026-11-24T09:00", reordered, 3, got, NULL, "token: lines in another order match");
    CHECK(got[0] == 99999999 && got[1] == 1250 && got[2] == 0, "token: prices follow the lines");

    check_token(&B, token, "2026-11-24T09:00", lines, 3, got, "invalid_pricing_token", "token: another account");
    check_token(&A, token, "2026-11-24T10:00", lines, 3, got, "pricing_token_mismatch", "token: another occurrence");
    token_category = "museums";
    check_token(&A, token, "2026-11-24T09:00", lines, 3, got, "pricing_token_mismatch", "token: another category");
    token_category = NULL;
    check_token(&A, token, "2026-11-24T09:00", lines, 3, got, "pricing_token_mismatch", "token: no category");
    token_category = "tours";
    check_token(&A, token, "2026-11-24T09:00", lines, 2, got, "pricing_token_mismatch", "token: a line fewer");
    cart_line more[] = {{"plain", 3}, lines[1], lines[2]};
    check_token(&A, token, "2026-11-24T09:00", more, 3, got, "pricing_token_mismatch", "token: another quantity");
    cart_line other[] = {{"plain", 2}, {"a b,c~d%f", 1}, lines[2]};
    check_token(&A, token, "2026-11-24T09:00", other, 3, got, "pricing_token_mismatch", "token: another product id");

    char *tampered = strdup(token);
    tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
    check_token(&A, tampered, "2026-11-24T09:00", lines, 3, got, "invalid_pricing_token", "token: tampered");
    free(tampered);
    check_token(&A, "garbage", "", lines, 0, got, "invalid_pricing_token", "token: not a token");
    check_token(&A, NULL, "", lines, 0, got, "invalid_pricing_token", "token: none");
    char *foreign = token_sign("{\"a\":\"x\"}");
    check_token(&A, foreign, "", lines, 0, got, "invalid_pricing_token", "token: signed but not pt2");
    free(foreign);

    token_category = NULL;
    char *undated = pricing_token_make(&A, NULL, "", lines, prices, 0, 600);
    check_token(&A, undated, "", lines, 0, got, NULL, "token: undated, no lines, no category");
    free(undated);
    token_category = "tours";

    char *expired = pricing_token_make(&A, "tours", "2026-11-24", lines, prices, 1, -1);
    check_token(&A, expired, "2026-11-24", lines, 1, got, "pricing_token_expired", "token: past its expiry");
    free(expired);
    free(token);
}

static void test_voucher_codes(void)
{
    bo_error err = {0};
    char *doc = NULL;
    CHECK(catalog_put(E, &A, CAT_VOUCHER, NULL, "{\"id\":\"gift\",\"name\":\"Gift\",\"value\":2500}", false, &doc,
                      &err) == BO_OK,
          "voucher created");
    free(doc);
    const char *codes[] = {"AAA-1", "BBB-2"};
    CHECK(voucher_codes_add(E, &A, "gift", codes, 2, &err) == BO_OK, "codes added from a C array");
    voucher_code_row *rows = NULL;
    size_t n = 0;
    const char *voided = "";
    CHECK(voucher_codes_list(E, &A, "gift", &rows, &n) == BO_OK && n == 2, "codes listed as typed rows");
    if (n == 2) {
        /* added in one call: same created_at, so their order is by row id */
        bool first_is_a = !strcmp(rows[0].code, "AAA-1");
        CHECK(!strcmp(rows[0].code, first_is_a ? "AAA-1" : "BBB-2") &&
                  !strcmp(rows[1].code, first_is_a ? "BBB-2" : "AAA-1"),
              "rows: both codes");
        CHECK(rows[0].value == 2500 && rows[0].remaining == 2500, "rows: value and remaining from the voucher");
        CHECK(!strcmp(rows[0].status, "available") && rows[0].used_at == 0 && rows[0].created_at > 0 && rows[0].id[0],
              "rows: available, untouched, created, with an id");
        CHECK(voucher_code_void(E, &A, "gift", rows[1].id, &err) == BO_OK, "a code voided");
        voided = rows[1].code;
    }
    char voided_code[72];
    snprintf(voided_code, sizeof voided_code, "%s", voided);
    free(rows);
    rows = NULL;
    CHECK(voucher_codes_list(E, &A, "gift", &rows, &n) == BO_OK && n == 2, "codes listed again");
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].code, voided_code))
            CHECK(!strcmp(rows[i].status, "voided") && rows[i].used_at > 0, "rows: a voided code says so, with when");
    free(rows);

    const char *bad[] = {"ok", NULL};
    CHECK(voucher_codes_add(E, &A, "gift", bad, 2, &err) == BO_INVALID && !strcmp(err.field, "codes"),
          "a missing code refused (codes)");
    const char *empty[] = {""};
    CHECK(voucher_codes_add(E, &A, "gift", empty, 1, &err) == BO_INVALID, "an empty code refused");
    const char *again[] = {"AAA-1"};
    CHECK(voucher_codes_add(E, &A, "gift", again, 1, &err) == BO_INVALID && !strcmp(err.code, "duplicate_code"),
          "a code in use refused");
    CHECK(voucher_codes_add(E, &B, "gift", again, 1, &err) == BO_NOT_FOUND, "another account's voucher: not found");
    CHECK(voucher_codes_list(E, &B, "gift", &rows, &n) == BO_NOT_FOUND, "another account's codes: not found");
}

static bool put_doc(catalog_kind k, const char *doc)
{
    bo_error err = {0};
    bool ok = catalog_put(E, &A, k, NULL, doc, false, NULL, &err) == BO_OK;
    if (!ok) printf("# %s: %s\n", doc, err.message);
    return ok;
}

/* A cart (of an occurrence, or undated), booked with a code: the outcome's code, "" when booked. */
static const char *book_with(const char *occurrence, const cart_line *lines, size_t n, const char *code,
                             bo_error *err)
{
    cart_request cr = {.channel = "test", .day = -1, .start_time = -1, .end_time = -1, .occurrence_id = occurrence,
                       .lines = lines, .nlines = n, .use_engine_prices = true};
    cart_record cart = {0};
    if (cart_create(E, &A, &cr, &cart, err) != BO_OK) return err->code;
    payment_input pay = {.provider = "cash", .amount = -1};
    book_request br = {.cart_id = cart.id, .voucher_code = code, .payment = &pay};
    char order_id[40];
    bool created = false;
    bo_status st = order_book(E, &A, &br, order_id, &created, err);
    cart_record_free(&cart);
    return st == BO_OK ? "" : err->code;
}

static money remaining_of(const char *voucher_id)
{
    voucher_code_row *rows = NULL;
    size_t n = 0;
    money left = -1;
    if (voucher_codes_list(E, &A, voucher_id, &rows, &n) == BO_OK && n) left = rows[0].remaining;
    free(rows);
    return left;
}

/* A voucher limited to events (event_ids) pays only for tickets of them, and
 * a refusal spends nothing; a ticket group's max_per_order counts its
 * products together. */
static void test_voucher_events_and_groups(void)
{
    bool ok = put_doc(CAT_EVENT, "{\"id\":\"fest\",\"name\":\"Fest\",\"occurrences\":[{\"id\":\"fest-1\","
                                 "\"start\":\"2031-05-01T18:00\"}]}");
    ok &= put_doc(CAT_EVENT, "{\"id\":\"gala\",\"name\":\"Gala\"}");
    ok &= put_doc(CAT_TICKET_GROUP, "{\"id\":\"early\",\"name\":\"Early\",\"max_per_order\":3}");
    ok &= put_doc(CAT_PRODUCT, "{\"id\":\"fa\",\"name\":\"Adult\",\"price\":1000,\"event_id\":\"fest\","
                               "\"group_id\":\"early\"}");
    ok &= put_doc(CAT_PRODUCT, "{\"id\":\"fs\",\"name\":\"Senior\",\"price\":800,\"event_id\":\"fest\","
                               "\"group_id\":\"early\"}");
    ok &= put_doc(CAT_PRODUCT, "{\"id\":\"fx\",\"name\":\"Extra\",\"price\":100}");
    ok &= put_doc(CAT_VOUCHER, "{\"id\":\"galaonly\",\"name\":\"Gala\",\"value\":500,\"event_ids\":[\"gala\"]}");
    ok &= put_doc(CAT_VOUCHER, "{\"id\":\"festonly\",\"name\":\"Fest\",\"value\":500,\"event_ids\":[\"fest\"]}");
    CHECK(ok, "event, group, products and limited vouchers written");
    bo_error err = {0};
    const char *gala[] = {"GALA-1"}, *fest[] = {"FEST-1"};
    CHECK(voucher_codes_add(E, &A, "galaonly", gala, 1, &err) == BO_OK &&
              voucher_codes_add(E, &A, "festonly", fest, 1, &err) == BO_OK,
          "codes of the limited vouchers added");

    cart_line two_and_two[] = {{"fa", 2}, {"fs", 2}}, two_and_one[] = {{"fa", 2}, {"fs", 1}};
    CHECK(!strcmp(book_with("fest-1", two_and_two, 2, NULL, &err), "invalid_amount") && !strcmp(err.field, "quantity"),
          "group: 4 tickets over its max_per_order of 3 refused (invalid_amount, quantity)");
    CHECK(!strcmp(book_with("fest-1", two_and_one, 2, "GALA-1", &err), "voucher_not_valid_for_event") &&
              !strcmp(err.field, "voucher_code"),
          "voucher of another event refused (voucher_not_valid_for_event, voucher_code)");
    CHECK(remaining_of("galaonly") == 500, "the refused code kept its value");
    cart_line no_event[] = {{"fx", 1}};
    CHECK(!strcmp(book_with(NULL, no_event, 1, "FEST-1", &err), "voucher_not_valid_for_event"),
          "voucher of an event refused for a product of no event");
    CHECK(remaining_of("festonly") == 500, "nothing spent on that order");
    CHECK(!strcmp(book_with("fest-1", two_and_one, 2, "FEST-1", &err), ""), "voucher of the order's event pays");
    CHECK(remaining_of("festonly") == 0, "its value spent");
}

int main(void)
{
    test_server_key(9);
    char path[128];
    const char *uri = test_db_uri("pricing-vouchers", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    E = test_engine_open(S);
    CHECK(test_account(E, "pv", "Pricing", &A), "account A");
    CHECK(test_account(E, "pw", "Other", &B), "account B");
    test_pricing_tokens();
    test_voucher_codes();
    test_voucher_events_and_groups();
    return test_finish(E, S, uri, path);
}
