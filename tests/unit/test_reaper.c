/* The cart reaper, on the database named by BOXOFFICE_TEST_DB (default: a
 * fresh SQLite file): with nothing expired it runs no write transaction (it
 * checks with a read first); an expired cart is still released by the
 * background thread. */
#include "fixture.h"
#include "core/internal.h"
#include "util/secure.h"
#include <string.h>

static store *ST;
static engine *E;
static account A;

/* 1: some open cart's hold ended by now, 0: none, -1: the check failed. */
static int expired_exist(void)
{
    bool any = false;
    if (store_carts_expired_exist(ST, clock_now(), &any) != STORE_OK) return -1;
    return any;
}

static void test_idle(void)
{
    sleep_ms(300); /* the reaper's and the webhook worker's first look */
    CHECK(expired_exist() == 0, "no expired cart yet");
    CHECK(writes_while_idle(ST, 1500) == 0, "an idle reaper runs no write transaction");
}

static void new_cart(instant_us expires_at)
{
    instant_us now = clock_now();
    store_cart cart = {.day = -1, .start_time = -1, .end_time = -1, .expires_at = expires_at, .created_at = now,
                       .updated_at = now};
    snprintf(cart.id, sizeof cart.id, "ct_reaper%u", rand_below(1000000000));
    snprintf(cart.account_id, sizeof cart.account_id, "%s", A.id);
    snprintf(cart.channel, sizeof cart.channel, "test");
    snprintf(cart.currency, sizeof cart.currency, "EUR");
    char extras[] = "{}";
    cart.extras = extras;
    CHECK(store_cart_create(ST, &cart, NULL, 0) == STORE_OK, "cart written");
}

static void test_reaps(void)
{
    /* an open cart whose hold ends in an hour: expired then, not now */
    instant_us later = clock_now() + 3600 * 1000000LL;
    new_cart(later);
    bool any = false;
    CHECK(store_carts_expired_exist(ST, later, &any) == STORE_OK && any, "the check sees a hold ended by then");
    CHECK(expired_exist() == 0, "and none ended now");
    /* one whose hold already ended: the background reaper releases it */
    store_stats before, after;
    store_stats_get(ST, &before);
    new_cart(clock_now() - 1000000);
    int left = 1;
    for (int i = 0; i < 100 && left == 1; i++) {
        sleep_ms(20);
        left = expired_exist();
    }
    store_stats_get(ST, &after);
    CHECK(left == 0, "the background reaper released it");
    CHECK(after.writes >= before.writes + 2, "releasing it was a write transaction");
    sleep_ms(200);
    CHECK(writes_while_idle(ST, 1500) == 0, "idle again afterwards");
}

int main(void)
{
    secure_init();
    test_server_key(7);
    char path[128];
    const char *uri = test_db_uri("reaper", path);
    ST = test_store_open(uri);
    if (!ST) return check_summary();
    /* the reaper every 100 ms: fifteen looks in the idle window */
    engine_config cfg = {.default_hold_seconds = 900, .reaper_interval_ms = 100, .start_workers = true,
                         .catalog_codec = &catalog_doc_json_codec};
    E = engine_open(ST, &cfg);
    CHECK(test_account(E, "r", "Reaper", &A), "account created");
    test_idle();
    test_reaps();
    return test_finish(E, ST, uri, path);
}
