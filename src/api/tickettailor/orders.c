/* GET /v1/orders and /v1/orders/{id}: engine orders in Ticket Tailor's shape,
 * newest first. Any order appears here, whichever API sold it. */
#include "api/tickettailor/tickettailor.h"
#include <stdio.h>
#include <string.h>

/* The doc's custom question answer: {question, answer}, the question's label
 * in the account's text language (api_text), from the engine's answers. */
static json_t *custom_questions(const json_t *answers)
{
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(answers, i, x)
    json_array_append_new(out, json_pack("{s:s,s:O?}", "question", api_text(json_object_get(x, "label")), "answer",
                                         json_object_get(x, "answer")));
    return out;
}

json_t *tt_issued_ticket(const account *a, const catalog_model *m, const json_t *t)
{
    const char *status = json_string_value(json_object_get(t, "status"));
    json_t *scan = json_object_get(t, "scan");
    json_t *holder = json_object_get(t, "holder");
    const char *email = json_string_value(json_object_get(holder, "email"));
    if (!email) email = json_string_value(json_object_get(t, "order_email"));
    const char *full = json_string_value(json_object_get(holder, "full_name"));
    const char *occ = json_string_value(json_object_get(t, "occurrence"));
    json_t *inv = json_object_get(t, "invalidated_at");
    json_t *x = json_object();
    json_object_set_new(x, "object", json_string("issued_ticket"));
    json_object_set_new(x, "id", tt_id("it_", json_string_value(json_object_get(t, "id"))));
    json_object_set(x, "barcode", json_object_get(t, "barcode"));
    json_object_set_new(x, "barcode_url", json_null());
    json_object_set_new(x, "checked_in", json_string(json_integer_value(json_object_get(scan, "used")) > 0 ? "true" : "false"));
    json_object_set_new(x, "created_at", json_integer(json_integer_value(json_object_get(t, "created_at")) / US_PER_SEC));
    json_object_set_new(x, "custom_questions", custom_questions(json_object_get(t, "answers")));
    json_object_set_new(x, "description", json_string(api_text(json_object_get(t, "product_name"))));
    json_object_set_new(x, "email", email ? json_string(email) : json_null());
    json_object_set_new(x, "event_id",
                        tt_ticket_event_id(m, a, json_string_value(json_object_get(t, "product_id")), occ));
    json_t *ref = json_object_get(holder, "reference");
    json_object_set_new(x, "reference", json_is_string(ref) ? json_incref(ref) : json_null());
    json_object_set_new(x, "full_name", full ? json_string(full) : json_null());
    json_object_set_new(x, "first_name", json_null());
    json_object_set_new(x, "last_name", json_null());
    json_object_set_new(x, "status", json_string(!strcmp(status, "valid") || !strcmp(status, "unpaid") ? "valid" : "void"));
    json_object_set_new(x, "source", json_string("api"));
    json_object_set_new(x, "ticket_type_id", tt_id("tt_", json_string_value(json_object_get(t, "product_id"))));
    json_object_set_new(x, "updated_at", json_integer(json_integer_value(json_object_get(t, "updated_at")) / US_PER_SEC));
    json_object_set_new(x, "voided_at", json_is_integer(inv) ? json_integer(json_integer_value(inv) / US_PER_SEC) : json_null());
    json_object_set_new(x, "order_id", tt_id("or_", json_string_value(json_object_get(t, "order_id"))));
    json_object_set_new(x, "qr_code_url", json_null());
    return x;
}

json_t *tt_order(engine *e, const account *a, const json_t *o)
{
    json_t *cust = json_object_get(o, "customer");
    const char *name = json_string_value(json_object_get(cust, "name"));
    json_t *x = json_object();
    json_object_set_new(x, "object", json_string("order"));
    json_object_set_new(x, "id", tt_id("or_", json_string_value(json_object_get(o, "id"))));
    json_object_set_new(
        x, "buyer_details",
        json_pack("{s:{s:n,s:n,s:n,s:n},s:o,s:O?,s:O?,s:O?,s:s?,s:O?}", "address", "address_1", "address_2",
                  "address_3", "postal_code", "custom_questions", custom_questions(json_object_get(o, "answers")), "email", json_object_get(cust, "email"), "first_name",
                  json_object_get(cust, "first_name"), "last_name", json_object_get(cust, "last_name"), "name", name,
                  "phone", json_object_get(cust, "phone")));
    json_object_set_new(x, "created_at", json_integer(json_integer_value(json_object_get(o, "created_at")) / US_PER_SEC));
    char code[4];
    const char *cur = json_string_value(json_object_get(o, "currency"));
    for (int i = 0; i < 3; i++) code[i] = (char)(cur && cur[i] ? cur[i] | 0x20 : '?');
    code[3] = 0;
    json_object_set_new(x, "currency", json_pack("{s:i,s:s}", "base_multiplier", a->currency_decimals ? 100 : 1, "code", code));
    /* the event of its tickets (one cart, one occurrence) */
    catalog_view *catalog = catalog_view_open(e, a);
    const catalog_model *m = catalog ? catalog_view_model(catalog) : NULL;
    json_t *first = json_array_get(json_object_get(o, "tickets"), 0);
    json_t *summary = m && first ? tt_order_event_summary(m, a, json_string_value(json_object_get(first, "product_id")),
                                                          json_string_value(json_object_get(first, "occurrence")))
                                 : json_null();
    json_object_set_new(x, "event_summary", summary);
    json_t *tickets = json_array(), *lines = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(o, "tickets"), i, t)
    {
        json_t *tc = json_deep_copy(t);
        json_object_set(tc, "order_email", json_object_get(cust, "email") ? json_object_get(cust, "email") : json_null());
        json_array_append_new(tickets, tt_issued_ticket(a, m, tc));
        json_decref(tc);
        /* one line item per order line (tickets of one line share line_id) */
        const char *line = json_string_value(json_object_get(t, "line_id"));
        json_t *li = NULL;
        size_t k;
        json_t *l;
        json_array_foreach(lines, k, l) if (!strcmp(json_string_value(json_object_get(l, "id")) + 3, line)) li = l;
        money value = json_integer_value(json_object_get(t, "discounted_gross"));
        money fee = json_integer_value(json_object_get(t, "booking_fee"));
        if (!li) {
            li = json_pack("{s:s,s:o,s:I,s:s,s:s,s:I,s:I,s:i}", "object", "line_item", "id", tt_id("li_", line),
                           "booking_fee", (json_int_t)fee, "description", api_text(json_object_get(t, "product_name")),
                           "type", "ticket", "total", (json_int_t)0, "value", (json_int_t)value, "quantity", 0);
            json_array_append_new(lines, li);
        }
        json_object_set_new(li, "quantity", json_integer(json_integer_value(json_object_get(li, "quantity")) + 1));
        json_object_set_new(li, "total", json_integer(json_integer_value(json_object_get(li, "total")) + value + fee));
    }
    catalog_view_close(catalog);
    json_object_set_new(x, "issued_tickets", tickets);
    json_object_set_new(x, "line_items", lines);
    json_t *pm = json_null();
    money refunded = 0;
    json_array_foreach(json_object_get(o, "payments"), i, t)
    {
        const char *kind = json_string_value(json_object_get(t, "kind"));
        if (!strcmp(kind, "refund")) refunded += json_integer_value(json_object_get(t, "amount"));
        else if (json_is_null(pm))
            pm = json_pack("{s:O?,s:o,s:n,s:O?,s:O?}", "external_id", json_object_get(t, "reference"), "id",
                           json_sprintf("pm_%lld", (long long)json_integer_value(json_object_get(t, "id"))),
                           "instructions", "name", json_object_get(t, "provider"), "type", json_object_get(t, "method"));
    }
    json_object_set_new(x, "payment_method", pm);
    json_t *extras = json_object_get(o, "extras");
    json_t *tag = json_object_get(extras, "referral_tag");
    json_object_set_new(x, "referral_tag", json_is_string(tag) ? json_incref(tag) : json_null());
    json_object_set_new(x, "refund_amount", json_integer(refunded));
    const char *st = json_string_value(json_object_get(o, "status"));
    json_object_set_new(x, "status", json_string(!strcmp(st, "confirmed") ? "completed" : !strcmp(st, "open") ? "pending" : "cancelled"));
    json_object_set(x, "status_message", json_object_get(o, "status_reason") ? json_object_get(o, "status_reason") : json_null());
    money total = json_integer_value(json_object_get(o, "total_after_discount_gross")) +
                  json_integer_value(json_object_get(o, "booking_fee_total"));
    money net = json_integer_value(json_object_get(o, "total_after_discount_net"));
    json_object_set_new(x, "subtotal", json_integer(json_integer_value(json_object_get(o, "total_after_discount_gross"))));
    json_object_set_new(x, "tax", json_integer(json_integer_value(json_object_get(o, "total_after_discount_gross")) - net));
    json_object_set_new(x, "total", json_integer(total));
    json_object_set(x, "txn_id", json_object_get(o, "external_id") ? json_object_get(o, "external_id") : json_null());
    return x;
}

/* Narrows the products a query names (none: any) to those of `also` too; an
 * empty intersection names "", which no product is. */
static void intersect_products(const char *ids[16], const char *const also[8])
{
    const char *kept[16] = {0};
    size_t n = 0;
    for (size_t i = 0; i < 8 && also[i]; i++) {
        bool in = !ids[0];
        for (size_t k = 0; k < 16 && ids[k] && !in; k++) in = !strcmp(ids[k], also[i]);
        if (in) kept[n++] = also[i];
    }
    if (n == 0) kept[0] = "";
    memcpy(ids, kept, sizeof kept);
}

void tt_orders_list(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    order_query q;
    order_query_init(&q);
    q.sort = ORDER_BY_CREATED_DESC;
    if (!tt_page_args(r, "or_", &q.limit, &q.starting_after, &q.ending_before)) return;
    if (!tt_created_args(r, &q.created_gt, &q.created_gte, &q.created_lt, &q.created_lte)) return;
    q.name = http_query(r, "name");
    q.email = http_query(r, "email");
    q.external_id = http_query(r, "txn_id");
    q.barcode = http_query(r, "barcode");
    const char *v;
    const char *series = NULL, *event = NULL;
    if ((v = http_query(r, "event_series_id")) && !(series = tt_unprefix(r, v, "es_")))
        return tt_error(r, 400, "event_series_id", "event_series_id must be an id like es_123");
    if ((v = http_query(r, "event_id")) && !(event = tt_unprefix(r, v, "ev_")))
        return tt_error(r, 400, "event_id", "event_id must be an id like ev_123");
    if ((v = http_query(r, "status"))) {
        static const char *map[][2] = {{"completed", "confirmed"}, {"pending", "open"}, {"cancelled", "cancelled"}};
        size_t i;
        for (i = 0; i < 3 && strcmp(map[i][0], v); i++) {}
        if (i == 3) return tt_error(r, 400, "status", "status is completed, pending or cancelled");
        q.statuses[0] = map[i][1];
    }
    if ((v = http_query(r, "referral_tag")) && strlen(v) > 100)
        return tt_error(r, 400, "referral_tag", "referral_tag is too long");
    if (v) {
        q.extras_key = "referral_tag";
        q.extras_value = v;
    }
    /* the catalog says which tickets an event or series is; its ids live as long as the view */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    tt_ticket_scope series_scope, event_scope;
    if (series && !tt_event_filter(catalog_view_model(catalog), a, NULL, series, &series_scope)) {
        catalog_view_close(catalog);
        return tt_error(r, 422, "event_series_id", "this series has more than 8 ticket types: filter by event_id");
    }
    if (event && !tt_event_filter(catalog_view_model(catalog), a, event, NULL, &event_scope)) {
        catalog_view_close(catalog);
        return tt_error(r, 422, "event_id", "this event has more than 8 ticket types: filter by event_series_id");
    }
    if (series) {
        q.event_id = series_scope.event_id;
        memcpy(q.product_ids, series_scope.product_ids, sizeof series_scope.product_ids);
    }
    if (event) {
        q.occurrence = event_scope.occurrence;
        if (event_scope.event_id) q.event_id = event_scope.event_id;
        if (event_scope.product_ids[0]) intersect_products(q.product_ids, event_scope.product_ids);
    }
    json_t *orders;
    bool more;
    bo_error err = {0};
    bo_status listed = orders_list_json(e, a, &q, &orders, &more, &err);
    catalog_view_close(catalog);
    if (listed != BO_OK)
        return tt_list_fail(r, &err, q.ending_before != NULL, q.ending_before ? q.ending_before : q.starting_after);
    json_t *data = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(orders, i, o) json_array_append_new(data, tt_eticket_urls(r, a, tt_order(e, a, o)));
    json_decref(orders);
    http_reply_json(r, 200, tt_page(r, "/v1/orders", data, more, q.starting_after, q.ending_before));
}

void tt_order_get(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    const char *id = tt_unprefix(r, http_path_param(r, "order_id"), "or_");
    json_t *o;
    bo_status st = id ? order_get_json(e, a, id, &o) : BO_NOT_FOUND;
    if (st != BO_OK) return tt_missing(r, st);
    http_reply_json(r, 200, tt_eticket_urls(r, a, tt_order(e, a, o)));
    json_decref(o);
}
