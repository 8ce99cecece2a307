#include "demo.h"
#include "catalog_doc/catalog_doc.h"
#include "core/payment.h"
#include "util/log.h"
#include <stdio.h>
#include <string.h>

/* Fixed ids so docs and scripts can name the demo objects. */
#define LOCATION_ID "d0000000-0000-4000-8000-000000000001"
#define SCHEDULE_ID "d0000000-0000-4000-8000-000000000002"
#define CATEGORY_ID "d0000000-0000-4000-8000-000000000003"
#define MUSEUM_POOL_ID "d0000000-0000-4000-8000-000000000004"
#define ADULT_ID "d0000000-0000-4000-8000-000000000005"
#define CHILD_ID "d0000000-0000-4000-8000-000000000006"
#define GUIDE_ID "d0000000-0000-4000-8000-000000000007"
#define CONCERT_ID "d0000000-0000-4000-8000-000000000008"
#define SEATS_POOL_ID "d0000000-0000-4000-8000-000000000009"
#define STANDARD_ID "d0000000-0000-4000-8000-00000000000a"
#define VIP_ID "d0000000-0000-4000-8000-00000000000b"
#define CONCERT_CAT_ID "d0000000-0000-4000-8000-00000000000c"

static bo_status put(engine *e, const account *a, catalog_kind k, const char *id, json_t *doc, bo_error *err)
{
    json_t *existing;
    if (catalog_get_json(e, a, k, id, &existing) == BO_OK) {
        json_decref(existing);
        json_decref(doc);
        return BO_OK;
    }
    json_object_set_new(doc, "id", json_string(id));
    bo_status st = catalog_put_json(e, a, k, NULL, doc, false, NULL, err);
    json_decref(doc);
    return st;
}

static bo_status seed_catalog(engine *e, const account *a, bo_error *err)
{
    civil_date today;
    int32_t secs;
    tz_instant_to_local(a->timezone, clock_now(), &today, &secs);
    char from[11], to[11], concert[40];
    date_format(today, from);
    date_format(today + 120, to);
    char cday[11];
    date_format(today + 30, cday);
    snprintf(concert, sizeof concert, "%sT20:00:00", cday);
    char concert_end[40];
    snprintf(concert_end, sizeof concert_end, "%sT23:00:00", cday);
    json_t *taxes = json_pack("[{s:s,s:i,s:i}]", "type", "VAT", "rate_bp", 2100, "proportion_bp", 10000);
    bo_status st;
    if ((st = put(e, a, CAT_LOCATION, LOCATION_ID,
                  json_pack("{s:s,s:s,s:s}", "name", "Amsterdam", "timezone", "Europe/Amsterdam", "address",
                            "Museumplein 1, Amsterdam"),
                  err)) ||
        (st = put(e, a, CAT_SCHEDULE, SCHEDULE_ID,
                  json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "name", "Museum opening hours", "open", "09:00", "close",
                            "17:00", "slot_minutes", 60, "valid_from", from, "valid_to", to),
                  err)) ||
        (st = put(e, a, CAT_CATEGORY, CATEGORY_ID,
                  json_pack("{s:{s:s,s:s},s:s,s:s,s:s,s:i,s:b}", "name", "en", "Museum tickets", "nl", "Museumtickets",
                            "flow", "dated", "schedule_id", SCHEDULE_ID, "location_id", LOCATION_ID, "priority", 1,
                            "enabled", 1),
                  err)) ||
        (st = put(e, a, CAT_POOL, MUSEUM_POOL_ID, json_pack("{s:s,s:i,s:s}", "name", "Museum timeslot", "capacity", 100,
                                                            "per", "occurrence"),
                  err)) ||
        (st = put(e, a, CAT_PRODUCT, ADULT_ID,
                  json_pack("{s:{s:s,s:s},s:{s:s},s:[s],s:i,s:i,s:O,s:b,s:[{s:s,s:i}],s:{s:s},s:i,s:i,s:i}", "name",
                            "en", "Adult", "nl", "Volwassene", "description", "en", "From 18 years", "category_ids",
                            CATEGORY_ID, "price", 1950, "gate_price", 2200, "taxes", taxes, "price_includes_tax", 1,
                            "pools", "pool_id", MUSEUM_POOL_ID, "amount", 1, "scan", "limit", "once", "priority", 1,
                            "min_per_order", 1, "max_per_order", 20),
                  err)) ||
        (st = put(e, a, CAT_PRODUCT, CHILD_ID,
                  json_pack("{s:{s:s,s:s},s:[s],s:i,s:i,s:O,s:b,s:[{s:s,s:i}],s:{s:s},s:i}", "name", "en", "Child", "nl",
                            "Kind", "category_ids", CATEGORY_ID, "price", 975, "gate_price", 1100, "taxes", taxes,
                            "price_includes_tax", 1, "pools", "pool_id", MUSEUM_POOL_ID, "amount", 1, "scan", "limit",
                            "once", "priority", 2),
                  err)) ||
        (st = put(e, a, CAT_PRODUCT, GUIDE_ID,
                  json_pack("{s:{s:s},s:i,s:O,s:b,s:{s:s}}", "name", "en", "Audio guide", "price", 450, "taxes", taxes,
                            "price_includes_tax", 1, "scan", "limit", "none"),
                  err)) ||
        (st = put(e, a, CAT_CATEGORY, CONCERT_CAT_ID,
                  json_pack("{s:{s:s},s:s,s:s}", "name", "en", "Concerts", "flow", "dated", "location_id", LOCATION_ID),
                  err)) ||
        (st = put(e, a, CAT_EVENT, CONCERT_ID,
                  json_pack("{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s}]}", "name", "Night at the Museum: Live Concert",
                            "description", "An evening concert in the great hall.", "location_id", LOCATION_ID,
                            "category_id", CONCERT_CAT_ID, "status", "published", "occurrences", "id",
                            "oc_concert_main", "start", concert, "end", concert_end),
                  err)) ||
        (st = put(e, a, CAT_POOL, SEATS_POOL_ID, json_pack("{s:s,s:i,s:s}", "name", "Concert seats", "capacity", 500,
                                                           "per", "occurrence"),
                  err)) ||
        (st = put(e, a, CAT_PRODUCT, STANDARD_ID,
                  json_pack("{s:{s:s},s:s,s:[s],s:i,s:O,s:b,s:i,s:[{s:s,s:i}],s:{s:s}}", "name", "en", "Standard",
                            "event_id", CONCERT_ID, "category_ids", CONCERT_CAT_ID, "price", 3500, "taxes", taxes,
                            "price_includes_tax", 1, "booking_fee", 150, "pools", "pool_id", SEATS_POOL_ID, "amount", 1,
                            "scan", "limit", "once"),
                  err)) ||
        (st = put(e, a, CAT_PRODUCT, VIP_ID,
                  json_pack("{s:{s:s},s:s,s:[s],s:i,s:O,s:b,s:i,s:[{s:s,s:i}],s:{s:s}}", "name", "en", "VIP", "event_id",
                            CONCERT_ID, "category_ids", CONCERT_CAT_ID, "price", 7500, "taxes", taxes,
                            "price_includes_tax", 1, "booking_fee", 250, "pools", "pool_id", SEATS_POOL_ID, "amount",
                            1, "scan", "limit", "once"),
                  err))) {
        json_decref(taxes);
        return st;
    }
    json_decref(taxes);
    return BO_OK;
}

/* A few orders so the order APIs have something to show on first start. */
static bo_status seed_orders(engine *e, const account *a, bo_error *err)
{
    order_query q;
    order_query_init(&q);
    q.limit = 1;
    order_page page;
    if (orders_list(e, a, &q, &page, err) != BO_OK) return err->status;
    size_t existing = page.n;
    order_page_free(&page);
    if (existing > 0) return BO_OK;
    civil_date today;
    int32_t secs;
    tz_instant_to_local(a->timezone, clock_now(), &today, &secs);
    static const char *emails[] = {"anna@example.com", "bram@example.com", "chen@example.com"};
    for (int i = 0; i < 3; i++) {
        cart_line lines[2] = {{ADULT_ID, 2}, {CHILD_ID, 1}};
        cart_request cr = {.channel = "admin", .category_id = CATEGORY_ID, .day = today + 1 + i,
                           .start_time = (10 + i) * 3600, .end_time = -1, .lines = lines, .nlines = 2,
                           .use_engine_prices = true};
        char order_id[40];
        cart_record cart;
        if (cart_create(e, a, &cr, &cart, err) != BO_OK) return err->status;
        char customer[160];
        snprintf(customer, sizeof customer, "{\"email\":\"%s\",\"name\":\"Demo visitor\",\"language\":\"en\"}",
                 emails[i]);
        payment_input pay = {.provider = "demo", .method = "creditcard", .amount = -1};
        book_request br = {.cart_id = cart.id, .customer = customer, .payment = &pay};
        bool created;
        bo_status st = order_book(e, a, &br, order_id, &created, err);
        cart_record_free(&cart);
        if (st != BO_OK) return st;
        if (i == 2 && order_cancel(e, a, order_id, "customer request", "demo", err) != BO_OK) return err->status;
    }
    return BO_OK;
}

bo_status demo_seed(engine *e, bo_error *err)
{
    account a;
    if (account_by_slug(e, "demo", &a) != BO_OK &&
        account_create(e, "demo", "Boxoffice Demo Museum", "Europe/Amsterdam", "EUR", &a, err) != BO_OK)
        return err->status;
    bo_status st;
    if ((st = credential_add(e, &a, CRED_ADMIN_TOKEN, NULL, "demo-admin-token", "demo", 0, err)) ||
        (st = credential_add(e, &a, CRED_OAUTH_CLIENT, "demo-client", "demo-secret", "demo", 0, err)) ||
        (st = credential_add(e, &a, CRED_API_KEY, NULL, "sk_demo_tickettailor", "demo", 0, err)) ||
        (st = credential_add(e, &a, CRED_PRODUCT_TOKEN, NULL, "11111111-2222-3333-4444-555555555555", "demo", 0, err)) ||
        (st = credential_add(e, &a, CRED_CHANNEL_KEY, NULL, "fv_demo_key", "demo", 0, err)))
        return st;
    /* the demo sells through the hosted test payment page (docs/PAYMENTS.md) */
    if ((st = account_test_mode_set(e, &a, true, err)) != BO_OK) return st;
    if ((st = seed_catalog(e, &a, err)) != BO_OK) return st;
    if ((st = seed_orders(e, &a, err)) != BO_OK) return st;
    log_info("demo account ready (slug demo)");
    return BO_OK;
}
