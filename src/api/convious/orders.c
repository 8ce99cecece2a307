/* Orders: the timeline GET /api/v1/orders/, one order, and cancelling.
 * The timeline is ordered by the engine's change sequence, which follows
 * commit order: a cursor (the last sequence seen) never skips an order that
 * changes between pages; a changed order simply comes again later. */
#include "api/convious/convious.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    INC_ITEMS = 1 << 0, INC_BARCODE = 1 << 1, INC_EXTERNAL_IDS = 1 << 2, INC_OPTIONS = 1 << 3,
    INC_REFUND_DETAILS = 1 << 4, INC_TAXES = 1 << 5, INC_CUSTOMER = 1 << 6, INC_DISCOUNTS = 1 << 7,
    INC_LOCATION = 1 << 8, INC_RESELLER = 1 << 9, INC_PAYMENTS = 1 << 10,
};
static const char *const includes[] = {"items",         "items.barcode", "items.external_ids", "items.options",
                                       "items.refund_details", "items.taxes", "customer", "discounts",
                                       "location",      "reseller",      "payments",          NULL};
#define INC_ANY_ITEM (INC_ITEMS | INC_BARCODE | INC_EXTERNAL_IDS | INC_OPTIONS | INC_REFUND_DETAILS | INC_TAXES)

static json_t *taxes_json(const account *a, const json_t *taxes)
{
    json_t *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(taxes, i, t)
    {
        json_t *x = json_object();
        json_object_set_new(x, "priceProportionPercentage", cv_rate(json_integer_value(json_object_get(t, "proportion_bp"))));
        json_object_set_new(x, "taxAmount", cv_money(a, json_integer_value(json_object_get(t, "tax"))));
        json_object_set_new(x, "taxPercentage", cv_rate(json_integer_value(json_object_get(t, "rate_bp"))));
        json_object_set(x, "type", json_object_get(t, "type"));
        json_object_set_new(x, "taxableAmount", cv_money(a, json_integer_value(json_object_get(t, "taxable"))));
        json_array_append_new(out, x);
    }
    return out;
}

static const char *item_status(const char *ticket_status, const char *order_status)
{
    if (!strcmp(ticket_status, "refunded")) return "refunded";
    if (!strcmp(ticket_status, "voided")) return "cancelled";
    if (!strcmp(ticket_status, "unpaid") || !strcmp(order_status, "open")) return "open";
    return "paid";
}

static json_t *item_json(const account *a, const json_t *o, const json_t *t, unsigned inc, const json_t *product)
{
#define M(key) cv_money(a, json_integer_value(json_object_get(t, key)))
    json_t *x = json_object();
    json_object_set(x, "id", json_object_get(t, "id"));
    json_object_set(x, "orderItemId", json_object_get(t, "line_id"));
    json_object_set(x, "productId", json_object_get(t, "product_id"));
    json_object_set_new(x, "product", json_string(api_text(json_object_get(t, "product_name"))));
    json_object_set_new(x, "gatePrice", M("gate_price"));
    json_object_set_new(x, "gatePriceInclTax", M("gate_price"));
    json_object_set_new(x, "gatePriceExclTax", json_string(""));
    json_object_set_new(x, "pricePerItem", M("price_gross"));
    json_object_set_new(x, "priceInclTax", M("price_gross"));
    json_object_set_new(x, "priceExclTax", M("price_net"));
    json_object_set_new(x, "pricePerItemAfterDiscount", M("discounted_gross"));
    json_object_set_new(x, "discountedPriceInclTax", M("discounted_gross"));
    json_object_set_new(x, "discountedPriceExclTax", M("discounted_net"));
    json_object_set_new(x, "pricePerItemWithoutOptionsAfterDiscount", M("discounted_gross"));
    json_object_set_new(x, "discountedPriceWithoutOptionsInclTax", M("discounted_gross"));
    json_object_set_new(x, "discountedPriceWithoutOptionsExclTax", M("discounted_net"));
    json_object_set_new(x, "invalidatedAt", cv_instant(a, json_object_get(t, "invalidated_at")));
    json_object_set_new(x, "validFrom", cv_instant(a, json_object_get(t, "valid_from")));
    json_object_set_new(x, "validTo", cv_instant(a, json_object_get(t, "valid_to")));
    const char *status = json_string_value(json_object_get(t, "status"));
    bool refunded = !strcmp(status, "refunded");
    json_object_set_new(x, "refunded", json_boolean(refunded));
    json_object_set_new(x, "canRefund", json_boolean(!strcmp(status, "valid")));
    json_object_set_new(x, "isBundle", json_false());
    json_t *holder = json_object_get(t, "holder");
    json_object_set_new(x, "afterPaymentForm", json_is_object(holder) ? json_deep_copy(holder) : json_object());
    json_object_set_new(x, "printed", json_null());
    json_object_set_new(x, "downloaded", json_null());
    json_object_set_new(x, "status", json_string(item_status(status, json_string_value(json_object_get(o, "status")))));
    json_t *scan = json_object_get(t, "scan");
    if (inc & INC_BARCODE) {
        const char *limit = json_string_value(json_object_get(scan, "limit"));
        bool redeemed = json_is_integer(json_object_get(scan, "redeemed_at")) && limit && !strcmp(limit, "once");
        json_object_set_new(x, "barcode",
                            json_pack("{s:O?,s:O?,s:s,s:s,s:I,s:o}", "type", json_object_get(t, "barcode_format"),
                                      "barcode", json_object_get(t, "barcode"), "status",
                                      redeemed ? "redeemed" : "available", "scanLimit", limit ? limit : "once",
                                      "scanLimitTimes", (json_int_t)json_integer_value(json_object_get(scan, "times")),
                                      "redeemed", cv_instant(a, json_object_get(scan, "redeemed_at"))));
    }
    if (inc & INC_DISCOUNTS) {
        json_t *ds = json_array();
        money off = json_integer_value(json_object_get(t, "discount"));
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(o, "discounts"), i, d) if (off > 0) json_array_append_new(
            ds, json_pack("{s:O?,s:O?,s:O?,s:o,s:O?}", "code", json_object_get(d, "code"), "type",
                          json_object_get(d, "type"), "name", json_object_get(d, "name"), "amount", cv_money(a, off),
                          "externalId", json_object_get(d, "external_id")));
        json_object_set_new(x, "discounts", ds);
    }
    if (inc & INC_EXTERNAL_IDS) {
        json_t *pe = json_object_get(product, "external_ids");
        json_object_set_new(x, "externalIds", json_pack("{s:{},s:o}", "account", "product",
                                                         json_is_object(pe) ? json_deep_copy(pe) : json_object()));
    }
    if (inc & INC_OPTIONS) json_object_set_new(x, "options", json_array());
    if (inc & INC_REFUND_DETAILS) {
        json_t *refund = json_object_get(t, "refund");
        json_t *paid_at = NULL;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(o, "payments"), i, p) if (!paid_at) paid_at = json_object_get(p, "created_at");
        if (json_is_object(refund))
            json_object_set_new(
                x, "refundDetails",
                json_pack("{s:s,s:o,s:O?,s:O?,s:n,s:f,s:O?,s:O?,s:O?,s:o,s:o,s:s}", "itemName",
                          api_text(json_object_get(t, "product_name")), "itemPriceInclTax", M("discounted_gross"),
                          "itemUuid", json_object_get(t, "line_id"), "orderNumber", json_object_get(o, "number"),
                          "conviousRefundFee", "partnerRefundFee", 0.0, "refundReason",
                          json_object_get(refund, "reason"), "refundedBy", json_object_get(refund, "by"), "eventDate",
                          json_object_get(o, "visit_date"), "paymentDate", cv_instant(a, paid_at), "refundedAt",
                          cv_instant(a, json_object_get(refund, "at")), "refundFeeType", "absolute"));
        else json_object_set_new(x, "refundDetails", json_null());
    }
    if (inc & INC_TAXES) json_object_set_new(x, "taxes", taxes_json(a, json_object_get(t, "taxes")));
    return x;
#undef M
}

json_t *cv_order_json(http_request *r, engine *e, const account *a, json_t *o, unsigned inc)
{
#define M(key) cv_money(a, json_integer_value(json_object_get(o, key)))
    json_t *x = json_object();
    json_object_set(x, "id", json_object_get(o, "id"));
    json_object_set(x, "number", json_object_get(o, "number"));
    json_object_set_new(x, "account", json_string(a->slug));
    json_object_set(x, "status", json_object_get(o, "status"));
    json_object_set(x, "productType", json_object_get(o, "product_type"));
    json_object_set(x, "categoryId", json_object_get(o, "category_id"));
    json_object_set_new(x, "orderDate", cv_instant(a, json_object_get(o, "created_at")));
    json_object_set_new(x, "updatedAt", cv_instant(a, json_object_get(o, "updated_at")));
    json_object_set(x, "visitDate", json_object_get(o, "visit_date"));
    json_object_set_new(x, "visitTime", cv_time_of_day(json_object_get(o, "visit_time")));
    json_object_set_new(x, "visitEndTime", cv_time_of_day(json_object_get(o, "visit_end_time")));
    json_object_set_new(x, "timezone", json_string(a->timezone));
    char url[256];
    snprintf(url, sizeof url, "%s/convious/api/v1/orders/%s/", r ? http_base_url(r) : "",
             json_string_value(json_object_get(o, "id")));
    json_object_set_new(x, "ticketDownloadUrl", json_string(url));
    json_object_set(x, "quantity", json_object_get(o, "quantity"));
    json_object_set_new(x, "total", M("total_gross"));
    json_object_set_new(x, "totalPriceInclTax", M("total_gross"));
    json_object_set_new(x, "totalPriceExclTax", M("total_net"));
    json_object_set_new(x, "totalAfterDiscount", M("total_after_discount_gross"));
    json_object_set_new(x, "totalDiscountedPriceInclTax", M("total_after_discount_gross"));
    json_object_set_new(x, "totalDiscountedPriceExclTax", M("total_after_discount_net"));
    json_object_set_new(x, "discountAmount", M("discount_total"));
    json_object_set(x, "currency", json_object_get(o, "currency"));
    json_t *location = json_object_get(o, "location");
    json_object_set(x, "locationId", json_is_object(location) ? json_object_get(location, "id") : json_null());
    json_object_set_new(x, "emailStatus", json_string("disabled"));
    json_object_set_new(x, "unfilledApf", json_false());
    json_object_set_new(x, "unfilledApfUrl", json_null());
    json_object_set_new(x, "printed", json_null());
    json_object_set_new(x, "downloaded", json_null());
    json_object_set(x, "externalId", json_object_get(o, "external_id"));
    const char *channel = json_string_value(json_object_get(o, "channel"));
    json_object_set_new(x, "orderSource", json_string(channel && !strcmp(channel, "convious") ? "api" : channel));
    json_object_set_new(x, "madeBy", json_string(""));
    json_t *cust = json_object_get(o, "customer");
    if (inc & INC_CUSTOMER)
        json_object_set_new(x, "customer",
                            json_pack("{s:O?,s:O?,s:b}", "email", json_object_get(cust, "email") ?: json_null(),
                                      "language", json_object_get(cust, "language") ?: json_null(), "marketingOptIn",
                                      json_is_true(json_object_get(cust, "marketing_opt_in"))));
    if (inc & INC_ANY_ITEM) {
        json_t *items = json_array();
        size_t i;
        json_t *t;
        catalog_view *catalog = inc & INC_EXTERNAL_IDS ? catalog_view_open(e, a) : NULL;
        json_array_foreach(json_object_get(o, "tickets"), i, t)
        {
            const json_t *product =
                catalog_view_find(catalog, CAT_PRODUCT, json_string_value(json_object_get(t, "product_id")));
            json_array_append_new(items, item_json(a, o, t, inc, product));
        }
        catalog_view_close(catalog);
        json_object_set_new(x, "items", items);
    }
    if (inc & INC_DISCOUNTS) {
        json_t *ds = json_array();
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(o, "discounts"), i, d)
            json_array_append_new(ds, json_pack("{s:O?,s:O?,s:O?,s:o,s:O?}", "code", json_object_get(d, "code"), "type",
                                                json_object_get(d, "type"), "name", json_object_get(d, "name"),
                                                "amount", cv_money(a, json_integer_value(json_object_get(d, "amount"))),
                                                "externalId", json_object_get(d, "external_id")));
        json_object_set_new(x, "discounts", ds);
    }
    if (inc & INC_LOCATION)
        json_object_set_new(x, "location", json_is_object(location) ? json_deep_copy(location)
                                                                     : json_pack("{s:n,s:n}", "id", "name"));
    if (inc & INC_RESELLER) {
        json_t *rs = json_object_get(o, "reseller");
        json_object_set_new(x, "reseller", json_pack("{s:O?,s:O?}", "id", json_object_get(rs, "id") ?: json_null(), "name",
                                                     json_object_get(rs, "name") ?: json_null()));
    }
    if (inc & INC_PAYMENTS) {
        json_t *ps = json_array();
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(o, "payments"), i, p)
        {
            if (strcmp(json_string_value(json_object_get(p, "kind")), "payment")) continue;
            json_array_append_new(ps, json_pack("{s:O?,s:O?,s:O?,s:O?,s:o}", "id", json_object_get(p, "id"),
                                                "paymentProvider", json_object_get(p, "provider"), "paymentMethod",
                                                json_object_get(p, "method"), "paymentStatus",
                                                json_object_get(p, "status"), "paymentDate",
                                                cv_instant(a, json_object_get(p, "created_at"))));
        }
        json_object_set_new(x, "payments", ps);
    }
    return x;
#undef M
}

/* Adds the venue location to a canonical order from its category or event. */
void cv_attach_location(engine *e, const account *a, json_t *o)
{
    catalog_view *catalog = catalog_view_open(e, a);
    const char *cat = json_string_value(json_object_get(o, "category_id"));
    const char *ev = json_string_value(json_object_get(o, "event_id"));
    const char *loc_id = json_string_value(json_object_get(catalog_view_find(catalog, CAT_EVENT, ev), "location_id"));
    if (!loc_id)
        loc_id = json_string_value(json_object_get(catalog_view_find(catalog, CAT_CATEGORY, cat), "location_id"));
    const json_t *loc = catalog_view_find(catalog, CAT_LOCATION, loc_id);
    if (loc)
        json_object_set_new(o, "location", json_pack("{s:O?,s:O?}", "id", json_object_get(loc, "id"), "name",
                                                     json_object_get(loc, "name")));
    catalog_view_close(catalog);
}

static bool parse_list(http_request *r, const char *param, const char **out, size_t max, const char *const *allowed)
{
    const char *v = http_query(r, param);
    if (!v || !*v) return true;
    char *copy = http_strdup(r, v);
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n >= max) {
            cv_error(r, 400, "invalid_filter", param, "at most %zu values for %s", max, param);
            return false;
        }
        if (allowed) {
            size_t i;
            for (i = 0; allowed[i] && strcmp(allowed[i], tok); i++) {}
            if (!allowed[i]) {
                cv_error(r, 400, "invalid_filter", param, "unknown %s %.40s", param, tok);
                return false;
            }
        }
        out[n++] = tok;
    }
    return true;
}

void cv_orders_list(http_request *r, void *app_)
{
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    unsigned inc;
    if (!cv_includes(r, includes, &inc)) return;
    order_query q;
    order_query_init(&q);
    q.sort = ORDER_BY_CHANGE_ASC;
    q.number = http_query(r, "order_number");
    q.email = http_query(r, "email");
    q.reseller_id = http_query(r, "reseller_id");
    const char *v;
    if ((v = http_query(r, "product_type"))) {
        if (strcmp(v, "tickets") && strcmp(v, "date_change"))
            return cv_error(r, 400, "invalid_filter", "product_type", "product_type is tickets or date_change");
        q.product_type = v;
    }
    static const char *const statuses[] = {"open", "confirmed", "cancelled", NULL};
    if (!parse_list(r, "status", q.statuses, 3, statuses)) return;
    if (!parse_list(r, "products", q.product_ids, 8, NULL)) return;
    if ((v = http_query(r, "from_updated_at")) && !iso_parse(v, a->timezone, &q.updated_from))
        return cv_error(r, 400, "invalid_date", "from_updated_at", "from_updated_at must be an ISO 8601 date-time");
    if ((v = http_query(r, "from_visit_date")) && !cv_date_arg(r, v, "from_visit_date", &q.visit_from)) return;
    if ((v = http_query(r, "to_visit_date")) && !cv_date_arg(r, v, "to_visit_date", &q.visit_to)) return;
    q.limit = 100;
    if ((v = http_query(r, "page_size"))) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 500) return cv_error(r, 400, "invalid_page_size", "page_size", "page_size is 1 to 500");
        q.limit = (int)n;
    }
    if ((v = http_query(r, "cursor"))) {
        unsigned char raw[32];
        size_t len;
        char seq[33];
        if (strlen(v) > 40 || sodium_base642bin(raw, sizeof raw - 1, v, strlen(v), NULL, &len, NULL,
                                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            len < 3 || raw[0] != 's' || raw[1] != '=')
            return cv_error(r, 400, "invalid_cursor", "cursor", "invalid cursor");
        memcpy(seq, raw + 2, len - 2);
        seq[len - 2] = 0;
        char *end;
        q.after_change_seq = strtoll(seq, &end, 10);
        if (*end || q.after_change_seq < 0) return cv_error(r, 400, "invalid_cursor", "cursor", "invalid cursor");
    }
    json_t *orders;
    bool more;
    bo_error err = {0};
    if (orders_list(e, a, &q, &orders, &more, &err) != BO_OK) return cv_fail(r, &err);
    json_t *results = json_array();
    size_t i;
    json_t *o;
    int64_t last = q.after_change_seq;
    json_array_foreach(orders, i, o)
    {
        cv_attach_location(e, a, o);
        json_array_append_new(results, cv_order_json(r, e, a, o, inc));
        last = json_integer_value(json_object_get(o, "change_seq"));
    }
    json_decref(orders);
    json_t *next = json_null();
    if (more) {
        /* the original query, minus any old cursor, plus the new one */
        char cur[64], enc[96];
        snprintf(cur, sizeof cur, "s=%lld", (long long)last);
        sodium_bin2base64(enc, sizeof enc, (const unsigned char *)cur, strlen(cur),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        const char *qs = http_query_string(r);
        size_t cap = strlen(qs) + 256 + strlen(http_base_url(r));
        char *url = http_alloc(r, cap);
        snprintf(url, cap, "%s/convious/api/v1/orders/?", http_base_url(r));
        char *copy = http_strdup(r, qs);
        bool first = true;
        for (char *save = NULL, *tok = strtok_r(copy, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
            if (!strncmp(tok, "cursor=", 7)) continue;
            if (!first) strcat(url, "&");
            strcat(url, tok);
            first = false;
        }
        strcat(url, first ? "cursor=" : "&cursor=");
        strcat(url, enc);
        next = json_string(url);
    }
    http_reply_json(r, 200, json_pack("{s:o,s:n,s:o}", "next", next, "previous", "results", results));
}

void cv_order_get(http_request *r, void *app_)
{
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    unsigned inc;
    if (!cv_includes(r, includes, &inc)) return;
    json_t *o;
    bo_status st = order_get(e, a, http_path_param(r, "order_id"), &o);
    if (st != BO_OK) return cv_missing(r, st);
    cv_attach_location(e, a, o);
    http_reply_json(r, 200, cv_order_json(r, e, a, o, inc));
    json_decref(o);
}

void cv_order_status(http_request *r, void *app_)
{
    json_t *body = cv_body(r);
    if (!body) return;
    const char *status = NULL, *reason = NULL;
    const body_field fields[] = {
        {"status", BF_STRING, true, 0, BF_UNLIMITED, &status, NULL},
        {"statusReason", BF_STRING, false, 0, BF_UNLIMITED, &reason, NULL},
    };
    /* a status that is no string is reported as missing, as it always was */
    static const cv_field_code codes[] = {{"status", "missing_field", NULL}, {NULL, NULL, NULL}};
    /* status (its type, then its value) is reported before statusReason */
    if (!cv_fields(r, body, "", fields, 1, codes)) return;
    if (strcmp(status, "cancelled"))
        return cv_error(r, 400, "invalid_status", "status", "only \"cancelled\" is accepted");
    if (!cv_fields(r, body, "", fields + 1, 1, codes)) return;
    bo_error err = {0};
    if (order_cancel(cv_engine(app_), api_account(r), http_path_param(r, "order_id"), reason, "api",
                     &err) != BO_OK)
        return cv_fail(r, &err);
    http_reply_json(r, 200, json_pack("{s:s}", "status", "cancelled"));
}
