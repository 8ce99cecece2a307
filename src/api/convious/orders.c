/* Orders: the timeline GET /api/v1/orders/, one order, and cancelling.
 * The timeline is ordered by the engine's change sequence, which follows
 * commit order: a cursor (the last sequence seen) never skips an order that
 * changes between pages; a changed order simply comes again later. */
#include "api/convious/convious.h"
#include "util/utf8.h"
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

/* The order reply is written straight into one buffer: byte for byte what
 * json_dumps(..., JSON_COMPACT) printed when it was a jansson tree (keys,
 * order, escapes; a key whose value jansson would have refused is left out). */

/* v under key as jansson prints it (NULL is null); the common scalars without a dump. */
static void kval(jbuf *b, const char *key, const json_t *v)
{
    if (!v || json_is_null(v)) return jb_knull(b, key);
    if (json_is_integer(v)) return jb_kint(b, key, json_integer_value(v));
    if (json_is_boolean(v)) return jb_kbool(b, key, json_is_true(v));
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t before = b->len;
        if (strlen(s) == json_string_length(v)) {
            jb_kstr(b, key, s);
            if (b->len != before || b->failed) return;
        }
    }
    jb_kjson(b, key, v);
}

/* json_object_set(x, key, v): the key is left out when v is NULL. */
static void kopt(jbuf *b, const char *key, const json_t *v)
{
    if (v) kval(b, key, v);
}

/* json_object_set_new(x, key, json_string(s)): left out when s is NULL (or not UTF-8). */
static void kstr_opt(jbuf *b, const char *key, const char *s)
{
    if (s) jb_kstr(b, key, s);
}

static void kmoney(jbuf *b, const account *a, const char *key, money amount)
{
    jb_key(b, key);
    cv_jb_money(b, a, amount);
}

static void krate(jbuf *b, const char *key, int64_t bp)
{
    char buf[16];
    rate_format((int32_t)bp, buf, sizeof buf);
    jb_kstr(b, key, buf);
}

static void kinstant(jbuf *b, const account *a, const char *key, const json_t *micros)
{
    jb_key(b, key);
    cv_jb_instant(b, a, json_is_integer(micros), json_integer_value(micros));
}

static void ktime(jbuf *b, const char *key, const json_t *secs)
{
    jb_key(b, key);
    cv_jb_time(b, json_is_integer(secs), (int32_t)json_integer_value(secs));
}

static void kempty_obj(jbuf *b, const char *key)
{
    jb_key(b, key);
    jb_obj(b);
    jb_obj_end(b);
}

static void write_taxes(jbuf *b, const account *a, const json_t *taxes)
{
    jb_key(b, "taxes");
    jb_arr(b);
    size_t i;
    json_t *t;
    json_array_foreach(taxes, i, t)
    {
        jb_obj(b);
        krate(b, "priceProportionPercentage", json_integer_value(json_object_get(t, "proportion_bp")));
        kmoney(b, a, "taxAmount", json_integer_value(json_object_get(t, "tax")));
        krate(b, "taxPercentage", json_integer_value(json_object_get(t, "rate_bp")));
        kopt(b, "type", json_object_get(t, "type"));
        kmoney(b, a, "taxableAmount", json_integer_value(json_object_get(t, "taxable")));
        jb_obj_end(b);
    }
    jb_arr_end(b);
}

static const char *item_status(const char *ticket_status, const char *order_status)
{
    if (!strcmp(ticket_status, "refunded")) return "refunded";
    if (!strcmp(ticket_status, "voided")) return "cancelled";
    if (!strcmp(ticket_status, "unpaid") || !strcmp(order_status, "open")) return "open";
    return "paid";
}

/* {"code","type","name","amount","externalId"} of one discount. */
static void write_discount(jbuf *b, const account *a, const json_t *d, money amount)
{
    jb_obj(b);
    kval(b, "code", json_object_get(d, "code"));
    kval(b, "type", json_object_get(d, "type"));
    kval(b, "name", json_object_get(d, "name"));
    kmoney(b, a, "amount", amount);
    kval(b, "externalId", json_object_get(d, "external_id"));
    jb_obj_end(b);
}

static void write_refund_details(jbuf *b, const account *a, const json_t *o, const json_t *t)
{
    const json_t *refund = json_object_get(t, "refund");
    if (!json_is_object(refund)) return jb_knull(b, "refundDetails");
    const json_t *paid_at = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(o, "payments"), i, p) if (!paid_at) paid_at = json_object_get(p, "created_at");
    /* the whole member is left out when the name is no string, as json_pack's "s" refused it */
    size_t mark = b->len;
    bool comma = b->comma;
    jb_key(b, "refundDetails");
    jb_obj(b);
    const char *name = api_text(json_object_get(t, "product_name"));
    size_t before = b->len;
    if (name) jb_kstr(b, "itemName", name);
    if (b->len == before && !b->failed) {
        b->len = mark;
        b->comma = comma;
        return;
    }
    kmoney(b, a, "itemPriceInclTax", json_integer_value(json_object_get(t, "discounted_gross")));
    kval(b, "itemUuid", json_object_get(t, "line_id"));
    kval(b, "orderNumber", json_object_get(o, "number"));
    jb_knull(b, "conviousRefundFee");
    jb_key(b, "partnerRefundFee");
    jb_raw(b, "0.0");
    kval(b, "refundReason", json_object_get(refund, "reason"));
    kval(b, "refundedBy", json_object_get(refund, "by"));
    kval(b, "eventDate", json_object_get(o, "visit_date"));
    kinstant(b, a, "paymentDate", paid_at);
    kinstant(b, a, "refundedAt", json_object_get(refund, "at"));
    jb_kstr(b, "refundFeeType", "absolute");
    jb_obj_end(b);
}

static void write_item(jbuf *b, const account *a, const json_t *o, const json_t *t, unsigned inc,
                       const json_t *product)
{
#define M(key, field) kmoney(b, a, key, json_integer_value(json_object_get(t, field)))
    jb_obj(b);
    kopt(b, "id", json_object_get(t, "id"));
    kopt(b, "orderItemId", json_object_get(t, "line_id"));
    kopt(b, "productId", json_object_get(t, "product_id"));
    kstr_opt(b, "product", api_text(json_object_get(t, "product_name")));
    M("gatePrice", "gate_price");
    M("gatePriceInclTax", "gate_price");
    jb_kstr(b, "gatePriceExclTax", "");
    M("pricePerItem", "price_gross");
    M("priceInclTax", "price_gross");
    M("priceExclTax", "price_net");
    M("pricePerItemAfterDiscount", "discounted_gross");
    M("discountedPriceInclTax", "discounted_gross");
    M("discountedPriceExclTax", "discounted_net");
    /* the ticket's prices include its options (docs/MODEL.md, "Money"); these leave them out */
    money options_gross = json_integer_value(json_object_get(t, "options_gross"));
    money options_net = json_integer_value(json_object_get(t, "options_net"));
    kmoney(b, a, "pricePerItemWithoutOptionsAfterDiscount",
           json_integer_value(json_object_get(t, "discounted_gross")) - options_gross);
    kmoney(b, a, "discountedPriceWithoutOptionsInclTax",
           json_integer_value(json_object_get(t, "discounted_gross")) - options_gross);
    kmoney(b, a, "discountedPriceWithoutOptionsExclTax",
           json_integer_value(json_object_get(t, "discounted_net")) - options_net);
    kinstant(b, a, "invalidatedAt", json_object_get(t, "invalidated_at"));
    kinstant(b, a, "validFrom", json_object_get(t, "valid_from"));
    kinstant(b, a, "validTo", json_object_get(t, "valid_to"));
    const char *status = json_string_value(json_object_get(t, "status"));
    jb_kbool(b, "refunded", !strcmp(status, "refunded"));
    jb_kbool(b, "canRefund", !strcmp(status, "valid"));
    jb_kbool(b, "isBundle", false);
    cv_jb_after_payment_form(b, t);
    jb_knull(b, "printed");
    jb_knull(b, "downloaded");
    jb_kstr(b, "status", item_status(status, json_string_value(json_object_get(o, "status"))));
    if (inc & INC_BARCODE) {
        const json_t *scan = json_object_get(t, "scan");
        const char *limit = json_string_value(json_object_get(scan, "limit"));
        bool redeemed = json_is_integer(json_object_get(scan, "redeemed_at")) && limit && !strcmp(limit, "once");
        jb_key(b, "barcode");
        jb_obj(b);
        kval(b, "type", json_object_get(t, "barcode_format"));
        kval(b, "barcode", json_object_get(t, "barcode"));
        jb_kstr(b, "status", redeemed ? "redeemed" : "available");
        jb_kstr(b, "scanLimit", limit ? limit : "once");
        jb_kint(b, "scanLimitTimes", json_integer_value(json_object_get(scan, "times")));
        kinstant(b, a, "redeemed", json_object_get(scan, "redeemed_at"));
        jb_obj_end(b);
    }
    if (inc & INC_DISCOUNTS) {
        money off = json_integer_value(json_object_get(t, "discount"));
        jb_key(b, "discounts");
        jb_arr(b);
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(o, "discounts"), i, d) if (off > 0) write_discount(b, a, d, off);
        jb_arr_end(b);
    }
    if (inc & INC_EXTERNAL_IDS) {
        const json_t *pe = json_object_get(product, "external_ids");
        jb_key(b, "externalIds");
        jb_obj(b);
        kempty_obj(b, "account");
        if (json_is_object(pe)) jb_kjson(b, "product", pe);
        else kempty_obj(b, "product");
        jb_obj_end(b);
    }
    if (inc & INC_OPTIONS) cv_jb_ticket_options(b, a, t, inc & INC_TAXES);
    if (inc & INC_REFUND_DETAILS) write_refund_details(b, a, o, t);
    if (inc & INC_TAXES) write_taxes(b, a, json_object_get(t, "taxes"));
    jb_obj_end(b);
#undef M
}

void cv_order_write(jbuf *b, http_request *r, engine *e, const account *a, json_t *o, unsigned inc)
{
#define M(key, field) kmoney(b, a, key, json_integer_value(json_object_get(o, field)))
    jb_obj(b);
    kopt(b, "id", json_object_get(o, "id"));
    kopt(b, "number", json_object_get(o, "number"));
    kstr_opt(b, "account", a->slug);
    kopt(b, "status", json_object_get(o, "status"));
    kopt(b, "productType", json_object_get(o, "product_type"));
    kopt(b, "categoryId", json_object_get(o, "category_id"));
    kinstant(b, a, "orderDate", json_object_get(o, "created_at"));
    kinstant(b, a, "updatedAt", json_object_get(o, "updated_at"));
    kopt(b, "visitDate", json_object_get(o, "visit_date"));
    ktime(b, "visitTime", json_object_get(o, "visit_time"));
    ktime(b, "visitEndTime", json_object_get(o, "visit_end_time"));
    kstr_opt(b, "timezone", a->timezone);
    /* the order's e-tickets as one PDF (docs/dialects/convious.md); null for an
     * order that cannot have one (an imported id that is no UUID) */
    char url[256];
    if (api_eticket_url(r, ETICKET_ORDER, a->id, json_string_value(json_object_get(o, "id")), "pdf", url, sizeof url))
        jb_kstr(b, "ticketDownloadUrl", url);
    else
        jb_knull(b, "ticketDownloadUrl");
    kopt(b, "quantity", json_object_get(o, "quantity"));
    M("total", "total_gross");
    M("totalPriceInclTax", "total_gross");
    M("totalPriceExclTax", "total_net");
    M("totalAfterDiscount", "total_after_discount_gross");
    M("totalDiscountedPriceInclTax", "total_after_discount_gross");
    M("totalDiscountedPriceExclTax", "total_after_discount_net");
    M("discountAmount", "discount_total");
    kopt(b, "currency", json_object_get(o, "currency"));
    const json_t *location = json_object_get(o, "location");
    if (json_is_object(location)) kopt(b, "locationId", json_object_get(location, "id"));
    else jb_knull(b, "locationId");
    jb_kstr(b, "emailStatus", "disabled");
    cv_jb_unfilled_apf(b, r, e, a, o);
    jb_knull(b, "printed");
    jb_knull(b, "downloaded");
    kopt(b, "externalId", json_object_get(o, "external_id"));
    const char *channel = json_string_value(json_object_get(o, "channel"));
    kstr_opt(b, "orderSource", channel && !strcmp(channel, "convious") ? "api" : channel);
    jb_kstr(b, "madeBy", "");
    if (inc & INC_CUSTOMER) {
        const json_t *cust = json_object_get(o, "customer");
        jb_key(b, "customer");
        jb_obj(b);
        kval(b, "email", json_object_get(cust, "email"));
        kval(b, "language", json_object_get(cust, "language"));
        jb_kbool(b, "marketingOptIn", json_is_true(json_object_get(cust, "marketing_opt_in")));
        jb_obj_end(b);
    }
    if (inc & INC_ANY_ITEM) {
        jb_key(b, "items");
        jb_arr(b);
        size_t i;
        json_t *t;
        catalog_view *catalog = inc & INC_EXTERNAL_IDS ? catalog_view_open(e, a) : NULL;
        json_array_foreach(json_object_get(o, "tickets"), i, t)
        {
            const json_t *product =
                catalog_view_find(catalog, CAT_PRODUCT, json_string_value(json_object_get(t, "product_id")));
            write_item(b, a, o, t, inc, product);
        }
        catalog_view_close(catalog);
        jb_arr_end(b);
    }
    if (inc & INC_DISCOUNTS) {
        jb_key(b, "discounts");
        jb_arr(b);
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(o, "discounts"), i, d)
            write_discount(b, a, d, json_integer_value(json_object_get(d, "amount")));
        jb_arr_end(b);
    }
    if (inc & INC_LOCATION) {
        if (json_is_object(location)) jb_kjson(b, "location", location);
        else {
            jb_key(b, "location");
            jb_obj(b);
            jb_knull(b, "id");
            jb_knull(b, "name");
            jb_obj_end(b);
        }
    }
    if (inc & INC_RESELLER) {
        const json_t *rs = json_object_get(o, "reseller");
        jb_key(b, "reseller");
        jb_obj(b);
        kval(b, "id", json_object_get(rs, "id"));
        kval(b, "name", json_object_get(rs, "name"));
        jb_obj_end(b);
    }
    if (inc & INC_PAYMENTS) {
        jb_key(b, "payments");
        jb_arr(b);
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(o, "payments"), i, p)
        {
            if (strcmp(json_string_value(json_object_get(p, "kind")), "payment")) continue;
            jb_obj(b);
            kval(b, "id", json_object_get(p, "id"));
            kval(b, "paymentProvider", json_object_get(p, "provider"));
            kval(b, "paymentMethod", json_object_get(p, "method"));
            kval(b, "paymentStatus", json_object_get(p, "status"));
            kinstant(b, a, "paymentDate", json_object_get(p, "created_at"));
            jb_obj_end(b);
        }
        jb_arr_end(b);
    }
    jb_obj_end(b);
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

void cv_order_reply(http_request *r, engine *e, const account *a, json_t *order, unsigned inc)
{
    jbuf b;
    jb_init(&b, 2048 + json_array_size(json_object_get(order, "tickets")) * 2048);
    cv_order_write(&b, r, e, a, order, inc);
    cv_reply_jbuf(r, &b);
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
                cv_error(r, 400, "invalid_filter", param, "unknown %s %.*s", param, utf8_prefix(tok, 40), tok);
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
    if (orders_list_json(e, a, &q, &orders, &more, &err) != BO_OK) return cv_fail(r, &err);
    size_t n = json_array_size(orders);
    int64_t last = n ? json_integer_value(json_object_get(json_array_get(orders, n - 1), "change_seq"))
                     : q.after_change_seq;
    const char *next = NULL;
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
        next = url;
    }
    jbuf b;
    jb_init(&b, 256 + n * (inc & INC_ANY_ITEM ? 4096 : 1536));
    jb_obj(&b);
    size_t before = b.len;
    jb_kstr(&b, "next", next);
    if (b.len == before && !b.failed) {
        /* a next link that is not UTF-8: the reply jansson could not build, {} */
        jb_free(&b);
        json_decref(orders);
        return http_reply_json(r, 200, NULL);
    }
    jb_knull(&b, "previous");
    jb_key(&b, "results");
    jb_arr(&b);
    size_t i;
    json_t *o;
    json_array_foreach(orders, i, o)
    {
        cv_attach_location(e, a, o);
        cv_order_write(&b, r, e, a, o, inc);
    }
    json_decref(orders);
    jb_arr_end(&b);
    jb_obj_end(&b);
    cv_reply_jbuf(r, &b);
}

void cv_order_get(http_request *r, void *app_)
{
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    unsigned inc;
    if (!cv_includes(r, includes, &inc)) return;
    json_t *o;
    bo_status st = order_get_json(e, a, http_path_param(r, "order_id"), &o);
    if (st != BO_OK) return cv_missing(r, st);
    cv_attach_location(e, a, o);
    cv_order_reply(r, e, a, o, inc);
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
