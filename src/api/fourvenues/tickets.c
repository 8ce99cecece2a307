/* GET /tickets and GET /tickets/{id}: the engine's tickets of channel events
 * (a ticket of a product of an event, at one of its occurrences) in the
 * seed's ticket shape, from the canonical ticket (docs/MODEL.md): scans give
 * enter and entry_time, the scan limit `for`, the ticket's refunds (or a
 * cancellation's) refunds. A ticket's id is the 24 hex digits that carry
 * its engine id (fv_ticket_id); other dialects show the engine's. */
#include "api/fourvenues/fourvenues.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fv_ticket_status(const char *engine_status)
{
    if (!engine_status) return "voided";
    if (!strcmp(engine_status, "valid")) return "active";
    if (!strcmp(engine_status, "unpaid")) return "pending_payment";
    return "voided"; /* voided, refunded */
}

static json_t *money_of(const account *a, const json_t *t, const char *key)
{
    return fv_money(json_integer_value(json_object_get(t, key)), a->currency_decimals);
}

static json_t *holder_text(const json_t *holder, const char *key, const char *fallback)
{
    const char *v = json_string_value(json_object_get(holder, key));
    return v ? json_string(v) : fallback ? json_string(fallback) : json_null();
}

static json_t *answers_json(const json_t *answers)
{
    json_t *list = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(answers, i, x)
    {
        const char *qid = json_string_value(json_object_get(x, "question_id"));
        if (!qid) continue;
        char id[21];
        fv_numeric_id("question", qid, NULL, id);
        json_t *answer = json_object_get(x, "answer");
        json_array_append_new(list, json_pack("{s:s,s:O}", "question_id", id, "answer",
                                               answer ? answer : json_null()));
    }
    return list;
}

/* Entries allowed in by one ticket: its scan limit (0: no limit, as a tier's
 * quantity 0 is unlimited); max_scans STORE_NULL_INT when it has none. */
int64_t fv_ticket_entries(const char *scan_limit, int64_t max_scans, int64_t times)
{
    if (!scan_limit || !strcmp(scan_limit, "once")) return 1;
    if (!strcmp(scan_limit, "none")) return 0;
    return max_scans != STORE_NULL_INT ? max_scans : times; /* times_per_day: its whole allowance when capped */
}

static json_t *entries_allowed(const json_t *scan)
{
    json_t *max = json_object_get(scan, "max_scans");
    return json_integer(fv_ticket_entries(json_string_value(json_object_get(scan, "limit")),
                                          json_is_integer(max) ? json_integer_value(max) : STORE_NULL_INT,
                                          json_integer_value(json_object_get(scan, "times"))));
}

/* The ticket's refunds one by one (ticket_refund records them), else the one a
 * cancellation gave (not through a channel). */
static json_t *refunds_json(const account *a, const json_t *t)
{
    json_t *list = json_array();
    const json_t *each = json_object_get(t, "refunds"), *refund = json_object_get(t, "refund");
    size_t i;
    json_t *x;
    json_array_foreach(each, i, x)
    {
        const char *channel = json_string_value(json_object_get(x, "channel"));
        json_array_append_new(list, json_pack("{s:o,s:o,s:o}", "channel_id", channel ? json_string(channel) : json_null(),
                                              "amount", money_of(a, x, "amount"), "at",
                                              fv_time(json_integer_value(json_object_get(x, "at")))));
    }
    if (!json_array_size(each) && json_is_object(refund))
        json_array_append_new(list, json_pack("{s:n,s:o,s:o}", "channel_id", "amount", money_of(a, refund, "amount"),
                                              "at", fv_time(json_integer_value(json_object_get(refund, "at")))));
    return list;
}

json_t *fv_ticket_json(const account *a, const json_t *t)
{
    const char *event = json_string_value(json_object_get(t, "event_id"));
    const char *occurrence = json_string_value(json_object_get(t, "occurrence"));
    const char *product = json_string_value(json_object_get(t, "product_id"));
    if (!event || !occurrence || !product) return NULL;
    char event_id[FV_ID_LEN + 1], rate_id[FV_ID_LEN + 1], num[21];
    fv_public_id("event", event, occurrence, event_id);
    fv_public_id("rate", product, occurrence, rate_id);
    /* the price a product without tiers shows on its rate (ticket_rates.c) */
    fv_numeric_id("price", product, "", num);
    const json_t *holder = json_object_get(t, "holder");
    const json_t *scan = json_object_get(t, "scan"), *refund = json_object_get(t, "refund");
    money fee = json_integer_value(json_object_get(t, "booking_fee"));
    money price = json_integer_value(json_object_get(t, "discounted_gross"));
    int64_t used = json_integer_value(json_object_get(scan, "used"));
    json_t *first_scan = json_object_get(scan, "first_scan_at");
    json_t *refunds = refunds_json(a, t);
    const char *product_name = api_text(json_object_get(t, "product_name"));
    json_t *out = json_pack(
        "{s:o,s:s,s:s,s:O,s:s,s:{s:s,s:s,s:o,s:n,s:i,s:s,s:o,s:s,s:s},s:s,s:n,s:{s:o,s:i}}", "_id",
        fv_ticket_id_json(json_object_get(t, "id")), "event_id", event_id, "ticket_rate_id", rate_id, "qr_code",
        json_object_get(t, "barcode"), "status", fv_ticket_status(json_string_value(json_object_get(t, "status"))),
        "price", "_id", num, "name", product_name ? product_name : "", "price", money_of(a, t, "discounted_gross"),
        "valid_until", "quantity", 0, "fee_type", "fixed", "fee_quantity", fv_money(fee, a->currency_decimals),
        "includes", "", "additional_info", "", "payment_currency", a->currency, "channel_id", "fees", "organization",
        fv_money(fee, a->currency_decimals), "discocil", 0);
    if (!out) return NULL;
    json_object_set_new(out, "full_name", holder_text(holder, "name", json_string_value(json_object_get(t, "order_name"))));
    json_object_set_new(out, "phone", holder_text(holder, "phone", NULL));
    json_object_set_new(out, "email", holder_text(holder, "email", json_string_value(json_object_get(t, "order_email"))));
    json_t *gender = json_object_get(holder, "gender");
    json_object_set_new(out, "gender", json_is_integer(gender) ? json_incref(gender) : json_null());
    static const char *const texts[] = {"birthday", "address", "postal_code", "country_code", "personal_document_type",
                                        "personal_document_number"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        json_object_set_new(out, texts[i], holder_text(holder, texts[i], NULL));
    json_object_set_new(out, "answers", answers_json(json_object_get(t, "answers")));
    json_object_set_new(out, "supplements", json_array());
    json_object_set_new(out, "refunded",
                        fv_money(json_is_object(refund) ? json_integer_value(json_object_get(refund, "amount")) : 0,
                                 a->currency_decimals));
    json_object_set_new(out, "refunded_at",
                        json_is_object(refund) ? fv_time(json_integer_value(json_object_get(refund, "at")))
                                               : json_null());
    json_object_set_new(out, "refunds", refunds);
    json_object_set_new(out, "for", entries_allowed(scan));
    json_object_set_new(out, "enter", json_integer(used));
    json_object_set_new(out, "entry_time",
                        json_is_integer(first_scan) ? fv_time(json_integer_value(first_scan)) : json_null());
    json_object_set_new(out, "total_supplements", json_integer(0));
    json_object_set_new(out, "total_fees", fv_money(fee, a->currency_decimals));
    json_object_set_new(out, "total_price", fv_money(price + fee, a->currency_decimals));
    json_object_set_new(out, "warranty", json_pack("{s:i,s:i}", "total", 0, "hours", 0));
    fv_ticket_sale_terms(a, t, out); /* a checkout's ticket: its tier, fees, supplements, warranty */
    return out;
}

void fv_ticket_payment_id(const account *a, const json_t *t, char out[FV_ID_LEN + 1])
{
    /* a checkout's ticket names its payment; before checkout the order was the payment */
    const char *sold_in = json_string_value(json_object_get(json_object_get(t, "sale_terms"), "payment_id"));
    const char *order = json_string_value(json_object_get(t, "order_id"));
    if (sold_in) snprintf(out, FV_ID_LEN + 1, "%s", sold_in);
    else fv_public_id("payment", order ? order : "", a->id, out);
}

/* The filters of GET /tickets, in the channel's ids. */
typedef struct {
    const char *event_id, *rate_id, *payment_id, *status;
    const char *occurrence; /* the engine's key of event_id, once resolved */
} ticket_filter;

static bool matches(const account *a, const ticket_filter *f, const json_t *t, const json_t *item)
{
    if (f->event_id && strcmp(f->event_id, json_string_value(json_object_get(item, "event_id")))) return false;
    if (f->rate_id && strcmp(f->rate_id, json_string_value(json_object_get(item, "ticket_rate_id")))) return false;
    if (f->status && strcmp(f->status, json_string_value(json_object_get(item, "status")))) return false;
    if (f->payment_id) {
        char payment[FV_ID_LEN + 1];
        fv_ticket_payment_id(a, t, payment);
        if (strcmp(payment, f->payment_id)) return false;
    }
    return true;
}

static bool hex_id(const char *s) { return s && strlen(s) == FV_ID_LEN && strspn(s, "0123456789abcdef") == FV_ID_LEN; }

/* The engine occurrence key of a channel event id; false when the account has no such event. */
static bool occurrence_of(engine *e, const account *a, const char *event_id, char *out, size_t n)
{
    catalog_view *v = catalog_view_open(e, a);
    if (!v) return false;
    size_t count;
    fv_event *evs = fv_events(a, catalog_view_model(v), &count);
    bool found = false;
    for (size_t i = 0; i < count && !found; i++)
        if (!strcmp(evs[i].id, event_id)) found = true, snprintf(out, n, "%s", evs[i].occurrence->id);
    free(evs);
    catalog_view_close(v);
    return found;
}

#define SCAN_PAGE 500

void fv_tickets_list(http_request *r, void *app_)
{
    static const char *const params[] = {"event_id", "payment_id", "ticket_rate_id", "status", "start_date",
                                         "end_date", "limit", "offset", NULL};
    size_t limit, offset;
    instant_us from = 0, to = 0;
    bool from_set, to_set;
    if (!fv_query_known(r, params) || !fv_page_args(r, &limit, &offset) ||
        !fv_query_instant(r, "start_date", &from, &from_set) || !fv_query_instant(r, "end_date", &to, &to_set))
        return;
    ticket_filter f = {http_query(r, "event_id"), http_query(r, "ticket_rate_id"), http_query(r, "payment_id"),
                       http_query(r, "status"), NULL};
    static const char *const ids[] = {"event_id", "ticket_rate_id", "payment_id"};
    const char *values[] = {f.event_id, f.rate_id, f.payment_id};
    for (size_t i = 0; i < 3; i++)
        if (values[i] && !hex_id(values[i]))
            return fv_error(r, 400, "invalid_parameter", ids[i], "%s must be an id of 24 hex digits", ids[i]);
    if (f.status && strcmp(f.status, "active") && strcmp(f.status, "pending_payment") && strcmp(f.status, "voided"))
        return fv_error(r, 400, "invalid_parameter", "status", "status must be active, pending_payment or voided");
    if (from_set && to_set && to < from)
        return fv_error(r, 400, "invalid_parameter", "end_date", "end_date is before start_date");
    engine *e = fv_engine(app_);
    const account *a = api_account(r);
    char occurrence[64];
    if (f.event_id && !occurrence_of(e, a, f.event_id, occurrence, sizeof occurrence))
        return fv_reply(r, 200, json_array()); /* not an event of this account: none of its tickets */
    /* newest first, a page of the engine's at a time, filtered here: the channel's ids are hashes */
    ticket_query q = {.limit = SCAN_PAGE, .event_id = f.event_id ? occurrence : NULL, .created_gte = from_set ? from : 0,
                      .created_lte = to_set ? to : 0};
    char after[48] = "";
    json_t *out = json_array();
    size_t matched = 0;
    for (;;) {
        json_t *page = NULL;
        bool more = false;
        bo_error err = {0};
        if (tickets_list_json(e, a, &q, &page, &more, &err) != BO_OK) {
            json_decref(out);
            return fv_fail(r, &err);
        }
        size_t i;
        json_t *t;
        json_array_foreach(page, i, t)
        {
            json_t *item = json_array_size(out) < limit ? fv_ticket_json(a, t) : NULL;
            if (item && matches(a, &f, t, item) && matched++ >= offset)
                json_array_append(out, item);
            json_decref(item);
        }
        size_t n = json_array_size(page);
        if (n) snprintf(after, sizeof after, "%s", json_string_value(json_object_get(json_array_get(page, n - 1), "id")));
        json_decref(page);
        if (!more || !n || json_array_size(out) >= limit) break;
        q.starting_after = after;
    }
    fv_reply(r, 200, out);
}

void fv_ticket_reply(http_request *r, engine *e, const char *id)
{
    const account *a = api_account(r);
    json_t *t = NULL;
    bo_status st = fv_ticket_find(e, a, id, &t);
    const char *order_id = st == BO_OK ? json_string_value(json_object_get(t, "order_id")) : NULL;
    json_t *order = NULL;
    /* as a list page shows it: the buyer's name and e-mail where the holder has none */
    if (order_id && order_get_json(e, a, order_id, &order) == BO_OK) {
        const json_t *customer = json_object_get(order, "customer");
        json_object_set(t, "order_email", json_object_get(customer, "email"));
        json_object_set(t, "order_name", json_object_get(customer, "name"));
        json_decref(order);
    }
    if (st == BO_INTERNAL) return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    json_t *item = st == BO_OK ? fv_ticket_json(a, t) : NULL;
    json_decref(t);
    if (!item) return fv_error(r, 404, "not_found", "id", "no such ticket");
    fv_reply(r, 200, item);
}

void fv_ticket_get(http_request *r, void *app_)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    fv_ticket_reply(r, fv_engine(app_), http_path_param(r, "id"));
}

/* The sale's terms over the seed's ticket object fv_ticket_json made: the
 * tier, fees, supplements and warranty the ticket was sold with. */
void fv_ticket_sale_terms(const account *a, const json_t *t, json_t *item)
{
    const json_t *terms = json_object_get(t, "sale_terms");
    if (!json_is_object(terms) || !json_is_object(item)) return;
    int d = a->currency_decimals;
    const char *product = json_string_value(json_object_get(t, "product_id"));
    const char *tier_id = json_string_value(json_object_get(terms, "price_tier_id"));
    const json_t *fees = json_object_get(terms, "fees");
    money organization = json_integer_value(json_object_get(fees, "organization"));
    money platform = json_integer_value(json_object_get(fees, "platform"));
    money discount = json_integer_value(json_object_get(t, "discount"));
    json_t *price = json_object_get(item, "price");
    const json_t *tier = json_object_get(terms, "tier");
    if (json_is_object(price) && product) {
        char id[21];
        fv_numeric_id("price", product, tier_id ? tier_id : "", id);
        json_object_set_new(price, "_id", json_string(id));
        json_object_set_new(price, "price", fv_money(json_integer_value(json_object_get(terms, "price")), d));
    }
    if (json_is_object(price) && json_is_object(tier)) { /* the tier's own terms, as its rate showed them */
        json_int_t bp = json_integer_value(json_object_get(tier, "fee_percent_bp"));
        json_object_set(price, "name", json_object_get(tier, "name"));
        json_object_set_new(price, "valid_until", fv_time(json_integer_value(json_object_get(tier, "valid_until"))));
        json_object_set(price, "quantity", json_object_get(tier, "quantity"));
        json_object_set_new(price, "fee_type", json_string(bp >= 0 ? "percentage" : "fixed"));
        json_object_set_new(price, "fee_quantity", bp >= 0 ? fv_money(bp, 2) : fv_money(organization, d));
        json_object_set(price, "includes", json_object_get(tier, "includes"));
        json_object_set(price, "additional_info", json_object_get(tier, "additional_info"));
    } else if (json_is_object(price)) { /* the product's own price: its booking fee, fixed */
        json_object_set_new(price, "fee_quantity", fv_money(organization, d));
    }
    json_t *supplements = json_array();
    money total_supplements = 0;
    size_t k;
    json_t *s;
    json_array_foreach(json_object_get(terms, "supplements"), k, s)
    {
        char id[21];
        fv_numeric_id("supplement", product ? product : "", json_string_value(json_object_get(s, "id")), id);
        money amount = json_integer_value(json_object_get(s, "price"));
        total_supplements += amount;
        json_array_append_new(supplements, json_pack("{s:s,s:o}", "supplement_id", id, "price", fv_money(amount, d)));
    }
    const json_t *warranty = json_object_get(terms, "warranty");
    money warranty_total = json_integer_value(json_object_get(warranty, "price"));
    money fee_off = json_integer_value(json_object_get(t, "booking_fee_discount"));
    money price_paid = json_integer_value(json_object_get(terms, "price")) - discount;
    const char *channel = json_string_value(json_object_get(terms, "channel_id"));
    if (channel) json_object_set_new(item, "channel_id", json_string(channel));
    json_object_set_new(item, "fees", json_pack("{s:o,s:o}", "organization", fv_money(organization, d), "discocil",
                                                fv_money(platform, d)));
    json_object_set_new(item, "supplements", supplements);
    json_object_set_new(item, "total_supplements", fv_money(total_supplements, d));
    json_object_set_new(item, "total_fees", fv_money(organization + platform - fee_off, d));
    json_object_set_new(item, "total_price",
                        fv_money(price_paid + organization + platform - fee_off + total_supplements + warranty_total, d));
    json_object_set_new(item, "warranty",
                        json_pack("{s:o,s:I}", "total", fv_money(warranty_total, d), "hours",
                                  json_is_object(warranty) ? json_integer_value(json_object_get(warranty, "hours")) : 0));
}
