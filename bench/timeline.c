/* Builds the timeline benchmark's account: `--orders N` orders (1,000,000 by
 * default) booked through the engine's own bulk path (orders_book_many: the
 * store steps of cart_create and order_book, --batch orders per transaction),
 * one ticket and one payment each, spread over as many days as the pool's
 * capacity needs. The account (slug `timeline`) gets an admin token, a
 * Convious OAuth client and a Ticket Tailor key named below, hashed with the
 * server key in --key-file, so a server started on the same database answers
 * them. An account that already has orders gets only the missing ones.
 * Prints orders/s of the build.
 *
 * usage: timeline --db URI --key-file PATH [--orders N] [--batch B] */
#include "catalog_doc/catalog_doc.h"
#include "core/engine.h"
#include "server_key.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Orders per transaction: PostgreSQL slows down once a transaction holds
 * more than 64 subtransactions (each order's savepoint), SQLite gains from
 * large ones (one WAL sync each). */
#define BATCH_MAX 1000
#define POOL_CAPACITY 10000 /* seats per day: days = orders / this */

static engine *E;
static account A;

/* The engine's clock (no test clock runs here), in seconds. */
static double now_s(void) { return clock_now() / 1e6; }

static char *put(catalog_kind k, json_t *doc)
{
    json_t *out = NULL;
    bo_error err;
    if (catalog_put_json(E, &A, k, NULL, doc, false, &out, &err) != BO_OK) fprintf(stderr, "setup: %s\n", err.message);
    json_decref(doc);
    char *id = out ? strdup(json_string_value(json_object_get(out, "id"))) : NULL;
    json_decref(out);
    return id;
}

/* The account's product, made on first use; NULL on failure (malloc'd). */
static char *bench_product(void)
{
    json_t *products = NULL;
    if (catalog_list_json(E, &A, CAT_PRODUCT, &products) == BO_OK && json_array_size(products) > 0) {
        char *id = strdup(json_string_value(json_object_get(json_array_get(products, 0), "id")));
        json_decref(products);
        return id;
    }
    json_decref(products);
    char *sch = put(CAT_SCHEDULE, json_pack("{s:s,s:s,s:i}", "open", "09:00", "close", "10:00", "slot_minutes", 60));
    char *cat = sch ? put(CAT_CATEGORY, json_pack("{s:s,s:s,s:s}", "name", "Timeline", "flow", "dated", "schedule_id",
                                                  sch))
                    : NULL;
    char *pool = put(CAT_POOL, json_pack("{s:i}", "capacity", POOL_CAPACITY));
    char *prod = cat && pool ? put(CAT_PRODUCT, json_pack("{s:s,s:[s],s:i,s:[{s:s,s:i}],s:[{s:s}]}", "name", "Entry",
                                                          "category_ids", cat, "price", 1500, "taxes", "type", "VAT",
                                                          "rate_bp", 900, "pools", "pool_id", pool))
                             : NULL;
    free(sch);
    free(cat);
    free(pool);
    return prod;
}

/* Orders the account has: nothing but bookings changes it, so the newest
 * order's change sequence is their count. */
static long orders_now(void)
{
    order_query q;
    order_query_init(&q);
    q.sort = ORDER_BY_CREATED_DESC;
    q.limit = 1;
    order_page page;
    bo_error err;
    if (orders_list(E, &A, &q, &page, &err) != BO_OK) return -1;
    long seq = page.n ? (long)page.orders[0].order.change_seq : 0;
    order_page_free(&page);
    return seq;
}

int main(int argc, char **argv)
{
    const char *uri = NULL, *key_file = NULL;
    long orders = 1000000, batch = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) uri = argv[++i];
        else if (!strcmp(argv[i], "--key-file") && i + 1 < argc) key_file = argv[++i];
        else if (!strcmp(argv[i], "--orders") && i + 1 < argc) orders = atol(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s --db URI --key-file PATH [--orders N] [--batch B]\n", argv[0]);
            return 2;
        }
    }
    if (!uri || !key_file || orders < 1 || batch < 0 || batch > BATCH_MAX) {
        fprintf(stderr, "usage: %s --db URI --key-file PATH [--orders N] [--batch 1..%d]\n", argv[0], BATCH_MAX);
        return 2;
    }
    secure_init();
    char *err = NULL;
    store *st = store_open(uri, &err);
    if (!st || store_migrate(st, &err) != DB_OK) {
        fprintf(stderr, "store: %s\n", err ? err : "?");
        return 1;
    }
    char why[256];
    if (server_key_settle(st, key_file, true, why, sizeof why) != SERVER_KEY_OK) {
        fprintf(stderr, "server key: %s\n", why);
        return 1;
    }
    if (!batch) batch = store_dialect(st) == DB_DIALECT_SQLITE ? BATCH_MAX : 50;
    engine_config cfg = {.default_hold_seconds = 900, .catalog_codec = &catalog_doc_json_codec};
    E = engine_open(st, &cfg);
    bo_error berr;
    if (account_by_slug(E, "timeline", &A) != BO_OK &&
        account_create(E, "timeline", "Timeline bench", "Europe/Amsterdam", "EUR", &A, &berr) != BO_OK) {
        fprintf(stderr, "account: %s\n", berr.message);
        return 1;
    }
    if (credential_add(E, &A, CRED_ADMIN_TOKEN, NULL, "timeline-admin-token", "bench", 0, &berr) ||
        credential_add(E, &A, CRED_OAUTH_CLIENT, "timeline-client", "timeline-secret", "bench", 0, &berr) ||
        credential_add(E, &A, CRED_API_KEY, NULL, "sk_timeline", "bench", 0, &berr)) {
        fprintf(stderr, "credentials: %s\n", berr.message);
        return 1;
    }
    char *product = bench_product();
    if (!product) return 1;
    civil_date today;
    int32_t secs;
    tz_instant_to_local(A.timezone, clock_now(), &today, &secs);
    long have = orders_now();
    if (have < 0) return 1;
    cart_line line = {product, 1};
    cart_request carts[BATCH_MAX];
    char customers[BATCH_MAX][96];
    payment_input pay = {.provider = "bench", .method = "creditcard", .amount = -1};
    book_request booking = {.payment = &pay};
    db_stats sql0;
    db_stats_get(&sql0);
    double t0 = now_s(), last_report = t0;
    long made = 0;
    for (long next = have; next < orders;) {
        size_t n = orders - next < batch ? (size_t)(orders - next) : (size_t)batch;
        for (size_t i = 0; i < n; i++) {
            long k = next + (long)i;
            snprintf(customers[i], sizeof customers[i], "{\"email\":\"visitor%ld@example.com\",\"name\":\"Visitor %ld\"}",
                     k, k);
            carts[i] = (cart_request){.channel = "bench", .day = today + 1 + (civil_date)(k / POOL_CAPACITY),
                                      .start_time = 9 * 3600, .end_time = -1, .lines = &line, .nlines = 1,
                                      .use_engine_prices = true, .customer = customers[i]};
        }
        if (orders_book_many(E, &A, carts, n, &booking, &berr) != BO_OK) {
            fprintf(stderr, "bulk booking after %ld orders: %s\n", next, berr.message);
            return 1;
        }
        next += (long)n;
        made += (long)n;
        double t = now_s();
        if (t - last_report >= 10) {
            fprintf(stderr, "  %ld orders, %.0f/s\n", next, made / (t - t0));
            last_report = t;
        }
    }
    double elapsed = now_s() - t0;
    db_stats sql;
    db_stats_get(&sql);
    printf("timeline account: %ld orders (%ld booked now in %.1f s, %.0f orders/s, %d per transaction)\n",
           have + made, made, elapsed, made ? made / elapsed : 0.0, (int)batch);
    if (made)
        printf("  SQL per order: %.1f reads + %.1f writes, plus %.1f BEGIN/COMMIT/SAVEPOINT/RELEASE\n",
               (double)(sql.reads - sql0.reads) / made, (double)(sql.writes - sql0.writes) / made,
               (double)(sql.control - sql0.control) / made);
    free(product);
    engine_close(E);
    store_close(st);
    return 0;
}
