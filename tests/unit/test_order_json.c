/* The edge's rendering of the engine's typed order and ticket records into the
 * canonical documents of docs/MODEL.md (src/api/order_json.c), and the JSON
 * object text the engine merges and reads without a parser (util/objtext). */
#include "api/order_json.h"
#include "check.h"
#include "util/objtext.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same_json(const char *text, const char *want)
{
    json_t *a = text ? json_loads(text, 0, NULL) : NULL, *b = json_loads(want, 0, NULL);
    bool eq = a && b && json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return eq;
}

static void test_merge(void)
{
    char *m = objtext_merge("{\"email\":\"a@x\",\"name\":\"A\",\"n\":{\"k\":[1,{\"z\":\"}\"}]}}",
                            "{ \"name\" : \"B\", \"lang\":\"nl\" }");
    CHECK(m && !strcmp(m, "{\"email\":\"a@x\",\"name\":\"B\",\"n\":{\"k\":[1,{\"z\":\"}\"}]},\"lang\":\"nl\"}"),
          "merge: a key of both keeps its place and takes the booking's value; new keys follow; nesting kept");
    free(m);
    m = objtext_merge(NULL, "{\"a\":1}");
    CHECK(m && !strcmp(m, "{\"a\":1}"), "merge over nothing: the booking's object");
    free(m);
    m = objtext_merge("{\"a\":true}", NULL);
    CHECK(m && !strcmp(m, "{\"a\":true}"), "merge of nothing: the stored object");
    free(m);
    m = objtext_merge("", "");
    CHECK(m && !strcmp(m, "{}"), "empty text is {}");
    free(m);
    m = objtext_merge("[1,2]", "{\"a\":null}");
    CHECK(m && !strcmp(m, "{\"a\":null}"), "what is not an object reads as {}");
    free(m);
    /* more members than the merge lists at once: the same result by rescanning */
    char big[2048] = "{", over_big[2048] = "{";
    for (int i = 0; i < 60; i++) {
        snprintf(big + strlen(big), 32, "%s\"k%d\":%d", i ? "," : "", i, i);
        if (i % 2 == 0) snprintf(over_big + strlen(over_big), 32, "%s\"k%d\":\"o\"", i ? "," : "", i);
    }
    strcat(big, "}");
    strcat(over_big, ",\"new\":[1]}");
    m = objtext_merge(big, over_big);
    char *x = objtext_string(m, "k58"), *y = objtext_member(m, "k59"), *z = objtext_member(m, "new");
    CHECK(m && x && !strcmp(x, "o") && y && !strcmp(y, "59") && z && !strcmp(z, "[1]") && strstr(m, "\"k0\":\"o\",\"k1\":1,"),
          "merge of many members: the same rules");
    free(x), free(y), free(z), free(m);
    m = objtext_merge("{\"q\\\"k\":1,\"b\":2}", "{\"q\\\"k\":3}");
    CHECK(m && same_json(m, "{\"q\\\"k\":3,\"b\":2}"), "escaped keys compare as written");
    free(m);
}

static void test_string(void)
{
    const char *obj = "{\"x\":{\"email\":\"inner\"},\"email\":\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\n\",\"n\":5}";
    char *s = objtext_string(obj, "email");
    CHECK(s && !strcmp(s, "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80\n"), "string member: top level only, every escape decoded");
    free(s);
    CHECK(!objtext_string(obj, "n"), "a number is no string");
    CHECK(!objtext_string(obj, "missing"), "absent");
    CHECK(!objtext_string("{\"e\":\"a\\u0000b\"}", "e"), "a NUL cannot be a C string");
    CHECK(!objtext_string(NULL, "e"), "no text");
    char *v = objtext_member("{\"resource\":\"order\",\"object\":{\"id\":\"o1\",\"t\":[1]}}", "object");
    CHECK(v && !strcmp(v, "{\"id\":\"o1\",\"t\":[1]}"), "member: the value's text as written");
    free(v);
    v = objtext_member("{\"object\":null}", "object");
    CHECK(v && !strcmp(v, "null"), "member: null");
    free(v);
    const char *order = "{\"id\":\"o1\",\"tickets\": [ {\"id\":\"t1\",\"holder\":{\"id\":\"x\"},\"status\":\"valid\"} ,"
                        "{\"status\":\"voided\",\"id\":\"t]2\"},[1,2],\"s\" ],\"n\":1}";
    size_t len = 0;
    const char *arr = objtext_span(order, "tickets", &len), *at = NULL;
    CHECK(arr && len == strlen(order) - (size_t)(arr - order) - strlen(",\"n\":1}"), "span: the value in place");
    char *ids[4] = {0};
    size_t n = 0;
    while (n < 4 && objtext_next_element(arr, &at, &len)) ids[n++] = objtext_string(at, at[0] == '{' ? "id" : "x");
    CHECK(n == 4 && ids[0] && !strcmp(ids[0], "t1") && ids[1] && !strcmp(ids[1], "t]2") && !ids[2] && !ids[3],
          "elements: each in turn, an object read in place up to its own brace");
    for (size_t i = 0; i < n; i++) free(ids[i]);
    at = NULL;
    CHECK(!objtext_next_element("[ ]", &at, &len) && !objtext_next_element("{}", &at, &len) &&
              !objtext_span(order, "missing", &len),
          "elements: none in an empty list or what is no list; span: absent");
}

static ticket_record sample_ticket(void)
{
    ticket_record t = {
        .id = "t1", .account_id = "acc", .order_id = "o1", .line_id = "l1", .product_id = "p1", .event_id = NULL,
        .occurrence = "2026-11-24", .barcode = "12345678901234567890", .status = "refunded", .price_gross = 1000,
        .price_net = 826, .discount = 100, .valid_from = 5, .valid_to = STORE_NULL_INT, .scan_limit = "once",
        .scan_times = 1, .max_scans = STORE_NULL_INT, .time_duration = STORE_NULL_INT, .scans_used = 0,
        .first_scan_at = STORE_NULL_INT, .last_scan_at = STORE_NULL_INT, .redeemed_at = STORE_NULL_INT,
        .invalidated_at = 77, .created_at = 1, .updated_at = 2,
        .doc = "{\"product_name\":{\"en\":\"Adult\"},\"barcode_format\":\"qr\",\"taxes\":[{\"type\":\"VAT\"}],"
               "\"holder\":{\"full_name\":\"Ann\"},\"gate_price\":1200,\"booking_fee\":50,\"allow_overtime\":true,"
               "\"discounted_gross\":900,\"discounted_net\":744,\"refund\":{\"by\":\"admin\",\"at\":77,"
               "\"amount\":900,\"paid\":true}}"};
    return t;
}

static void test_ticket(void)
{
    ticket_record t = sample_ticket();
    json_t *j = ticket_json(&t);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    CHECK(same_json(text, "{\"id\":\"t1\",\"order_id\":\"o1\",\"line_id\":\"l1\",\"product_id\":\"p1\","
                          "\"product_name\":{\"en\":\"Adult\"},\"event_id\":null,\"occurrence\":\"2026-11-24\","
                          "\"barcode\":\"12345678901234567890\",\"barcode_format\":\"qr\",\"status\":\"refunded\","
                          "\"price_gross\":1000,\"price_net\":826,\"discount\":100,\"discounted_gross\":900,"
                          "\"discounted_net\":744,\"gate_price\":1200,\"booking_fee\":50,\"valid_from\":5,"
                          "\"valid_to\":null,\"invalidated_at\":77,\"refund\":{\"by\":\"admin\",\"at\":77,"
                          "\"amount\":900,\"paid\":true},\"taxes\":[{\"type\":\"VAT\"}],"
                          "\"holder\":{\"full_name\":\"Ann\"},\"answers\":[],\"scan\":{\"limit\":\"once\",\"times\":1,"
                          "\"max_scans\":null,\"time_seconds\":null,\"used\":0,\"inside\":false,"
                          "\"first_scan_at\":null,\"last_scan_at\":null,\"redeemed_at\":null,"
                          "\"allow_overtime\":true},\"created_at\":1,\"updated_at\":2}"),
          "ticket: columns and the doc's free-form parts, nulls for SQL NULL");
    free(text);
    t.doc = "{}";
    j = ticket_json(&t);
    CHECK(json_integer_value(json_object_get(j, "discounted_gross")) == 900 &&
              json_integer_value(json_object_get(j, "gate_price")) == 1000 &&
              json_is_null(json_object_get(j, "refund")) && json_is_array(json_object_get(j, "taxes")) &&
              json_is_object(json_object_get(j, "product_name")),
          "ticket with a bare doc: figures from the columns, empty defaults");
    json_decref(j);

    store_ticket_listed listed = {.ticket = sample_ticket(), .has_order = true, .order_email = "b@x", .order_name = NULL};
    j = ticket_listed_json(&listed);
    CHECK(!strcmp(json_string_value(json_object_get(j, "order_email")), "b@x") &&
              json_is_null(json_object_get(j, "order_name")),
          "listed ticket: its order's buyer");
    json_decref(j);

    scan_ticket scanned = {.ticket = sample_ticket(), .has_order = true, .order_visit_date = "2026-11-24",
                           .order_doc = "{\"visit_time\":36000,\"customer\":{\"email\":\"c@x\"}}"};
    j = scan_ticket_json(&scanned);
    text = json_dumps(json_object_get(j, "order"), JSON_COMPACT);
    CHECK(same_json(text, "{\"visit_date\":\"2026-11-24\",\"visit_time\":36000,\"visit_end_time\":null,"
                          "\"customer\":{\"email\":\"c@x\"}}"),
          "scanned ticket: the order summary a scan reply shows");
    free(text);
    json_decref(j);
    scanned.has_order = false;
    j = scan_ticket_json(&scanned);
    CHECK(!json_object_get(j, "order"), "scanned ticket without an order: no summary");
    json_decref(j);
}

static void test_order(void)
{
    ticket_record tickets[1] = {sample_ticket()};
    store_payment_row payments[1] = {{.id = 3, .kind = "payment", .provider = "cash", .method = NULL,
                                      .status = "refunded", .amount = 950, .reference = NULL, .created_at = 1,
                                      .updated_at = 2}};
    order_record o = {
        .order = {.id = "o1", .number = "12345678", .status = "cancelled", .channel = "admin", .cart_id = "c1",
                  .external_id = NULL, .visit_date = "2026-11-24", .product_type = "ticket", .currency = "EUR",
                  .total_gross = 1000, .total_net = 826, .discount_total = 100, .created_at = 1, .updated_at = 2,
                  .change_seq = 9,
                  .doc = "{\"customer\":{\"email\":\"a@x\"},\"extras\":{\"k\":1},\"visit_time\":36000,"
                         "\"quantity\":1,\"discounts\":[],\"reseller\":{},\"status_reason\":\"rain\","
                         "\"cancelled_at\":7,\"cancelled_by\":null,\"event_id\":null}"},
        .tickets = tickets, .ntickets = 1, .payments = payments, .npayments = 1};
    account a = {.id = "acc", .timezone = "Europe/Amsterdam"};
    json_t *j = order_json(&o, &a);
    CHECK(!strcmp(json_string_value(json_object_get(j, "account_id")), "acc") &&
              !strcmp(json_string_value(json_object_get(j, "timezone")), "Europe/Amsterdam") &&
              json_integer_value(json_object_get(j, "change_seq")) == 9 &&
              json_is_null(json_object_get(j, "external_id")),
          "order: columns, account and zone");
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(j, "customer"), "email")), "a@x") &&
              json_integer_value(json_object_get(json_object_get(j, "extras"), "k")) == 1 &&
              !strcmp(json_string_value(json_object_get(j, "status_reason")), "rain") &&
              json_integer_value(json_object_get(j, "cancelled_at")) == 7 &&
              json_is_null(json_object_get(j, "visit_end_time")) && json_is_null(json_object_get(j, "category_id")),
          "order: the doc's parts, null when absent");
    CHECK(json_array_size(json_object_get(j, "tickets")) == 1 &&
              json_is_null(json_object_get(json_array_get(json_object_get(j, "payments"), 0), "method")) &&
              json_integer_value(json_object_get(json_array_get(json_object_get(j, "payments"), 0), "amount")) == 950,
          "order: tickets and payments");
    json_decref(j);
    o.order.doc = "not json";
    j = order_json(&o, &a);
    CHECK(json_is_object(json_object_get(j, "customer")) && json_is_object(json_object_get(j, "extras")) &&
              json_is_array(json_object_get(j, "discounts")),
          "order with an unreadable doc: empty customer, extras and discounts");
    json_decref(j);
}

/* The outbox's text (order_text, ticket_text) is json_dumps of the tree, byte for byte. */
static bool text_as_tree(const order_record *o, const account *a)
{
    json_t *j = order_json(o, a);
    char *fast = order_text(o, a), *tree = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    bool same = fast && tree && !strcmp(fast, tree);
    if (!same) fprintf(stderr, "order_text:\n  %s\ntree:\n  %s\n", fast ? fast : "(null)", tree ? tree : "(null)");
    free(fast);
    free(tree);
    return same;
}

static void test_text(void)
{
    ticket_record tickets[3] = {sample_ticket(), sample_ticket(), sample_ticket()};
    tickets[1].doc = "{}";
    tickets[1].event_id = "ev1";
    tickets[1].valid_to = 9;
    tickets[1].inside = true;
    /* a channel's ticket: holder, nested sale terms, a price tier, refunds and keys written with escapes */
    tickets[2].doc = "{\"product_name\":{\"en\":\"Entrada \\\"VIP\\\" \u00e9\"},\"taxes\":[],\"price_tier\":{\"id\":\"early\","
                     "\"product_id\":\"p1\"},\"holder\":{\"name\":\"A\\nB\",\"gender\":1},\"sale_terms\":{\"tier\":"
                     "{\"id\":\"early\",\"price\":1200},\"fees\":{\"organization\":120,\"platform\":50},"
                     "\"supplements\":[],\"warranty\":null,\"payment_id\":\"abc\",\"index\":0},\"refunds\":[{\"amount\":5}],"
                     "\"options\":[],\"discounted_gross\":-3,\"booking_fee\":\"x\",\"gate_price\":1.5,\"extras_gross\":0}";
    store_payment_row payments[2] = {{.id = 3, .kind = "payment", .provider = "cash", .method = NULL, .status = "paid",
                                      .amount = 950, .reference = "r\"1", .created_at = 1, .updated_at = 2},
                                     {.id = 4, .kind = "refund", .provider = NULL, .method = "card", .status = "paid",
                                      .amount = -5, .reference = NULL, .created_at = 3, .updated_at = 4}};
    order_record o = {
        .order = {.id = "o1", .number = "12345678", .status = "confirmed", .channel = "fourvenues", .cart_id = NULL,
                  .external_id = "pay1", .visit_date = NULL, .product_type = "ticket", .currency = "EUR",
                  .total_gross = 1000, .total_net = 826, .discount_total = 0, .created_at = 1, .updated_at = 2,
                  .change_seq = 9,
                  .doc = "{\"customer\":{\"email\":\"a@x\"},\"extras\":{\"payment_id\":\"pay1\",\"metadata\":{\"k\":[1,{}]}},"
                         "\"quantity\":3,\"discounts\":[{\"code\":\"X\"}],\"reseller\":{},\"test\":true,"
                         "\"answers\":[{\"q\":\"a\"}],\"event_id\":\"ev1\",\"occurrence\":\"oc1\"}"},
        .tickets = tickets, .ntickets = 3, .payments = payments, .npayments = 2,
        .mail = {.queued = true, .status = "sent", .attempts = 1, .last_error = NULL, .sent_at = 8}};
    account a = {.id = "acc", .timezone = "Europe/Madrid"};
    CHECK(text_as_tree(&o, &a), "outbox text: every column, doc member and default as the tree prints them");
    o.order.doc = "{\"customer\":null,\"extras\":[1],\"discounts\":{},\"test\":false}";
    o.mail = (store_order_mail){.queued = true, .status = "failed", .attempts = 3, .last_error = "boom"};
    CHECK(text_as_tree(&o, &a), "outbox text: customer, extras and discounts of the wrong type take the defaults");
    o.order.doc = "{}";
    o.mail = (store_order_mail){0};
    o.ntickets = 0;
    o.npayments = 0;
    CHECK(text_as_tree(&o, &a), "outbox text: a bare order");
    /* what the parser must decide: the tree's path, the same text */
    o.ntickets = 3;
    char *odd[] = {"not json", "{\"customer\":{\"name\":\"a\\u0000b\"}}", "{\"a\":1} x", "{\"a\":1,}"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        o.order.doc = odd[i];
        CHECK(text_as_tree(&o, &a), "outbox text: an order doc the scan refuses goes to the parser");
    }
    o.order.doc = "{}";
    tickets[0].doc = "{\"discounted_gross\":12345678901234567890}";
    CHECK(text_as_tree(&o, &a), "outbox text: a figure past int64 goes to the parser");
    tickets[0].doc = "{\"holder\":\"\\u0000\"}";
    CHECK(text_as_tree(&o, &a), "outbox text: a ticket doc with a NUL goes to the parser");
    json_t *j = ticket_json(&tickets[2]);
    char *t = ticket_text(&tickets[2]), *tree = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    CHECK(t && tree && !strcmp(t, tree), "outbox text: a ticket alone");
    free(t);
    free(tree);
}

int main(void)
{
    test_merge();
    test_string();
    test_ticket();
    test_order();
    test_text();
    return check_summary();
}
