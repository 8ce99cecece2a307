/* Analytics events from visitors' browsers (PageViewed ... Transaction) read
 * into the engine's analytics_event. Each names its account (accountId: the
 * account's slug, or its id), the visitor's cookie and when it happened. */
#include "api/convious_pricing/convious_pricing.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CP_ID_MAX 128      /* accountId, cookieId, orderId, productId */
#define CP_URL_MAX 2048    /* refererUrl, currentUrl */
#define CP_ITEMS_MAX 100   /* items of one order */
#define CP_AMOUNT_MAX 10000
#define CP_BATCH_ACCOUNTS 16 /* a site's batch names one account; a batch of many is refused early */

/* The wire's type names are the engine's kind names. */
static int analytics_kind_of(const char *type)
{
    for (int k = ANALYTICS_PAGE_VIEWED; k <= ANALYTICS_TRANSACTION; k++)
        if (!strcmp(type, analytics_kind_name((analytics_kind)k))) return k;
    return -1;
}

bool cp_analytics_type(const char *type) { return analytics_kind_of(type) >= 0; }

/* The parse of one batch: the accounts its events named so far, so a batch
 * of one site's events looks its account up once. */
typedef struct {
    cp_event_at at;
    engine *e;
    account *accounts;
    size_t naccounts;
} batch_parse;

static bool refuse(batch_parse *p, const char *code, const char *field, const char *why)
{
    return cp_refuse(&p->at, code, field, why);
}

/* A string of 1..max characters; absent or null is fine unless required. */
static bool text_member(batch_parse *p, json_t *event, json_t *payload, const char *name, size_t max, bool required,
                        const char **out)
{
    char field[64];
    json_t *v = cp_member(event, payload, name);
    snprintf(field, sizeof field, "%s%s", payload ? "payload." : "", name);
    if (!v || json_is_null(v)) return required ? refuse(p, "missing_field", field, "this field is required") : true;
    const char *s = json_string_value(v);
    size_t chars = s ? cp_chars(s) : 0;
    if (!s || (required && !chars) || chars > max) {
        char why[80];
        snprintf(why, sizeof why, "must be a string of %s%zu characters", required ? "1 to " : "at most ", max);
        return refuse(p, "invalid_field", field, why);
    }
    *out = s;
    return true;
}

static bool account_member(batch_parse *p, json_t *event, json_t *payload, const account **out)
{
    const char *id = NULL;
    if (!text_member(p, event, payload, "accountId", 63, true, &id)) return false;
    for (size_t i = 0; i < p->naccounts; i++)
        if (!strcmp(p->accounts[i].slug, id) || !strcmp(p->accounts[i].id, id)) return *out = &p->accounts[i], true;
    const char *field = payload ? "payload.accountId" : "accountId";
    if (p->naccounts == CP_BATCH_ACCOUNTS)
        return refuse(p, "too_many_accounts", field, "a batch names at most 16 accounts");
    account *a = &p->accounts[p->naccounts];
    bo_status st = account_by_slug(p->e, id, a);
    if (st == BO_NOT_FOUND) st = account_by_id(p->e, id, a);
    if (st == BO_NOT_FOUND) return refuse(p, "unknown_account", field, "no account has this accountId");
    if (st != BO_OK) {
        cv_error(p->at.r, 500, "internal_error", NULL, "storage failure; try again");
        return false;
    }
    p->naccounts++;
    *out = a;
    return true;
}

/* time: an ISO 8601 instant, or milliseconds since the epoch (Date.now()). */
static bool time_member(batch_parse *p, json_t *event, json_t *payload, instant_us *out)
{
    json_t *v = cp_member(event, payload, "time");
    if (!v || json_is_null(v)) return refuse(p, "missing_field", "payload.time", "this field is required");
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 32503680000000LL) {
        *out = (instant_us)json_integer_value(v) * 1000;
        return true;
    }
    if (json_is_string(v) && iso_parse(json_string_value(v), NULL, out)) return true;
    return refuse(p, "invalid_time", "payload.time",
                  "must be an ISO 8601 instant (2018-05-01T10:00:00Z) or milliseconds since 1970");
}

/* eventDate: the local day "2018-05-01"; an ISO instant's own date is taken as it is written. */
static bool day_member(batch_parse *p, json_t *v, const char *field, bool *has, civil_date *out)
{
    *has = false;
    if (!v || json_is_null(v)) return true;
    const char *s = json_string_value(v);
    char day[11];
    if (s && strlen(s) >= 10) {
        memcpy(day, s, 10), day[10] = 0;
        if (date_parse(day, out) && (!s[10] || s[10] == 'T')) return *has = true, true;
    }
    return refuse(p, "invalid_date", field, "must be a date YYYY-MM-DD");
}

static bool order_items(batch_parse *p, json_t *payload, const account *a, analytics_event *ev)
{
    json_t *items = json_object_get(payload, "items");
    if (!items || json_is_null(items)) return refuse(p, "missing_field", "payload.items", "this field is required");
    size_t n = json_array_size(items);
    if (!json_is_array(items) || n == 0 || n > CP_ITEMS_MAX)
        return refuse(p, "invalid_field", "payload.items", "must be an array of 1 to 100 items");
    analytics_item *out = http_alloc(p->at.r, n * sizeof *out);
    for (size_t k = 0; k < n; k++) {
        json_t *item = json_array_get(items, k);
        char field[64];
        if (!json_is_object(item)) {
            snprintf(field, sizeof field, "payload.items[%zu]", k);
            return refuse(p, "invalid_field", field, "must be an object");
        }
        const char *product = NULL;
        json_t *v = json_object_get(item, "productId");
        snprintf(field, sizeof field, "payload.items[%zu].productId", k);
        if (!v || json_is_null(v)) return refuse(p, "missing_field", field, "this field is required");
        product = json_string_value(v);
        if (!product || !*product || cp_chars(product) > CP_ID_MAX)
            return refuse(p, "invalid_field", field, "must be a string of 1 to 128 characters");
        out[k].product_id = product;
        v = json_object_get(item, "amount");
        snprintf(field, sizeof field, "payload.items[%zu].amount", k);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > CP_AMOUNT_MAX)
            return refuse(p, v ? "invalid_field" : "missing_field", field, "must be a whole number from 1 to 10000");
        out[k].amount = json_integer_value(v);
        v = json_object_get(item, "price");
        snprintf(field, sizeof field, "payload.items[%zu].price", k);
        if (!v || json_is_null(v)) return refuse(p, "missing_field", field, "this field is required");
        if (!cp_decimal(v, a->currency_decimals, &out[k].price))
            return refuse(p, "invalid_price", field, "must be a price such as 12.99, 0 or more");
        snprintf(field, sizeof field, "payload.items[%zu].eventDate", k);
        if (!day_member(p, json_object_get(item, "eventDate"), field, &out[k].has_day, &out[k].day)) return false;
        v = json_object_get(item, "location");
        snprintf(field, sizeof field, "payload.items[%zu].location", k);
        if (v && !json_is_null(v) && (!json_is_string(v) || cp_chars(json_string_value(v)) > 200))
            return refuse(p, "invalid_field", field, "must be a string of at most 200 characters");
    }
    ev->items = out, ev->nitems = n;
    return true;
}

static bool parse_event(batch_parse *p, json_t *event, analytics_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = (analytics_kind)analytics_kind_of(json_string_value(json_object_get(event, "type")));
    json_t *payload = json_object_get(event, "payload");
    if (payload && !json_is_null(payload) && !json_is_object(payload))
        return refuse(p, "invalid_field", "payload", "must be an object");
    if (!json_is_object(payload)) payload = NULL;
    if (!account_member(p, event, payload, &ev->acct) ||
        !text_member(p, event, payload, "cookieId", CP_ID_MAX, true, &ev->cookie_id) ||
        !time_member(p, event, payload, &ev->time))
        return false;
    json_t *fields = payload ? payload : event;
    const char *ignored = NULL;
    bool has_day;
    civil_date day;
    switch (ev->kind) {
    case ANALYTICS_PAGE_VIEWED:
        if (!text_member(p, event, payload, "refererUrl", CP_URL_MAX, false, &ignored) ||
            !text_member(p, event, payload, "currentUrl", CP_URL_MAX, false, &ignored))
            return false;
        break;
    case ANALYTICS_SELECTED_DATE:
    case ANALYTICS_VIEWED_PRICES:
    case ANALYTICS_ADDED_TO_CART:
        /* a Boxoffice extension: the day and product the visitor looked at */
        if (!text_member(p, event, payload, "productId", CP_ID_MAX, false, &ev->product_id) ||
            !day_member(p, json_object_get(fields, "eventDate"), "payload.eventDate", &has_day, &day))
            return false;
        break;
    case ANALYTICS_ORDER_CREATED:
        if (!text_member(p, event, payload, "orderId", CP_ID_MAX, true, &ev->order_id) ||
            !order_items(p, fields, ev->acct, ev))
            return false;
        break;
    case ANALYTICS_TRANSACTION: {
        if (!text_member(p, event, payload, "orderId", CP_ID_MAX, true, &ev->order_id)) return false;
        json_t *total = json_object_get(fields, "totalAmount");
        int64_t amount;
        if (!total || json_is_null(total))
            return refuse(p, "missing_field", "payload.totalAmount", "this field is required");
        if (!cp_decimal(total, ev->acct->currency_decimals, &amount))
            return refuse(p, "invalid_price", "payload.totalAmount", "must be an amount such as 25.98, 0 or more");
        break;
    }
    case ANALYTICS_ENTERED_CHECKOUT:
    case ANALYTICS_VIEWED_PRODUCTS: break;
    }
    char *detail = json_dumps(fields, JSON_COMPACT);
    ev->detail = detail ? http_strdup(p->at.r, detail) : "";
    free(detail);
    return true;
}

bool cp_analytics_parse(http_request *r, engine *e, json_t *batch, analytics_event *out)
{
    size_t n = json_array_size(batch);
    batch_parse p = {{r, 0}, e, http_alloc(r, CP_BATCH_ACCOUNTS * sizeof(account)), 0};
    for (size_t i = 0; i < n; i++) {
        p.at.index = i;
        if (!parse_event(&p, json_array_get(batch, i), &out[i])) return false;
    }
    return true;
}
