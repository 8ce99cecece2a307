/* Event access keys (core/access_keys.c, store/access_keys_store.c) and the
 * discount uses carts hold (cart_request.discount_code): per account, hashed,
 * all or nothing. Runs on BOXOFFICE_TEST_DB (SQLite or PostgreSQL), else a
 * fresh SQLite file. */
#include "fixture.h"
#include <string.h>

static store *S;
static engine *E;
static account A, B;

static bool put(const account *a, catalog_kind k, const char *id, const char *fmt)
{
    json_t *doc = json_loads(fmt, 0, NULL);
    json_object_set_new(doc, "id", json_string(id));
    bo_error err = {0};
    bo_status st = catalog_put_json(E, a, k, NULL, doc, false, NULL, &err);
    if (st != BO_OK) printf("# put %s: %s\n", id, err.message);
    json_decref(doc);
    return st == BO_OK;
}

static bool opens(const account *a, const char *key, const char *event_id)
{
    event_lock *locks = NULL;
    size_t n = 0;
    bool ok = event_access_locks(E, a, key, &locks, &n) == BO_OK && event_access_open(locks, n, event_id);
    free(locks);
    return ok;
}

static void test_keys(void)
{
    CHECK(put(&A, CAT_EVENT, "ev1", "{\"name\":\"One\"}") && put(&A, CAT_EVENT, "ev2", "{\"name\":\"Two\"}") &&
              put(&B, CAT_EVENT, "ev1", "{\"name\":\"B's one\"}"),
          "events of the same id in two accounts");
    bo_error err = {0};
    CHECK(opens(&A, NULL, "ev1"), "an event without keys is open");
    CHECK(event_access_key_add(E, &A, "ev1", "KEY123", "press", &err) == BO_OK, "a key is added");
    CHECK(event_access_key_add(E, &A, "ev1", "KEY123", NULL, &err) == BO_OK, "adding it again is fine");
    CHECK(!opens(&A, NULL, "ev1") && !opens(&A, "WRONG", "ev1") && !opens(&A, "key123", "ev1"),
          "locked without the key (case-sensitive)");
    CHECK(opens(&A, "KEY123", "ev1") && opens(&A, NULL, "ev2"), "the key opens it; other events stay open");
    CHECK(opens(&B, NULL, "ev1"), "B's event of the same id is not locked");
    CHECK(event_access_key_add(E, &B, "ev1", "OTHER", NULL, &err) == BO_OK && !opens(&B, "KEY123", "ev1"),
          "A's key does not open B's event");
    CHECK(event_access_key_add(E, &A, "nope", "KEY123", NULL, &err) == BO_NOT_FOUND && !strcmp(err.field, "event_id"),
          "an unknown event is not found");
    CHECK(event_access_key_add(E, &A, "ev1", "has space", NULL, &err) == BO_INVALID &&
              !strcmp(err.field, "access_key"),
          "a key with a space is refused");
    char long_key[80];
    memset(long_key, 'k', 65);
    long_key[65] = 0;
    CHECK(event_access_key_add(E, &A, "ev1", long_key, NULL, &err) == BO_INVALID, "a 65-character key is refused");
    CHECK(!opens(&A, long_key, "ev1"), "a malformed key opens nothing");
    CHECK(event_access_key_remove(E, &B, "ev1", "KEY123", &err) == BO_NOT_FOUND, "B cannot remove A's key");
    CHECK(event_access_key_remove(E, &A, "ev1", "KEY123", &err) == BO_OK && opens(&A, NULL, "ev1"),
          "removing the last key unlocks");
    CHECK(event_access_key_remove(E, &A, "ev1", "KEY123", &err) == BO_NOT_FOUND, "removing it twice is not found");
}

static void test_discount_uses(void)
{
    CHECK(put(&A, CAT_POOL, "p1", "{\"capacity\":100}") &&
              put(&A, CAT_PRODUCT, "t1", "{\"name\":{\"en\":\"T\"},\"price\":1000,\"pools\":[{\"pool_id\":\"p1\",\"amount\":1}]}") &&
              put(&A, CAT_DISCOUNT, "d1", "{\"code\":\"TWO\",\"type\":\"fixed\",\"amount\":100,\"max_redemptions\":2}") &&
              put(&A, CAT_DISCOUNT, "d2", "{\"code\":\"ANY\",\"type\":\"fixed\",\"amount\":100}") &&
              put(&A, CAT_DISCOUNT, "d3", "{\"code\":\"OLD\",\"type\":\"fixed\",\"amount\":100,\"expires_at\":\"2001-01-01T00:00:00Z\"}"),
          "a product and discounts");
    cart_line line = {"t1", 1};
    cart_request req = {.channel = "test", .day = -1, .start_time = -1, .end_time = -1, .lines = &line, .nlines = 1,
                        .use_engine_prices = true, .discount_code = "two"};
    cart_record carts[3];
    bo_error err = {0};
    CHECK(cart_create(E, &A, &req, &carts[0], &err) == BO_OK && cart_create(E, &A, &req, &carts[1], &err) == BO_OK,
          "two carts hold the code's two uses (its code compared case-insensitively)");
    int64_t held = -1;
    CHECK(discount_uses_held(E, &A, "d1", &held) == BO_OK && held == 2, "both uses are held");
    CHECK(cart_create(E, &A, &req, &carts[2], &err) == BO_SOLD_OUT, "a third cart is refused");
    cart_line more = {"t1", 3};
    cart_request without = req;
    without.discount_code = NULL;
    without.lines = &more;
    without.keep_expiry = true;
    cart_record changed;
    CHECK(cart_update(E, &A, carts[0].id, &without, &changed, &err) == BO_OK &&
              changed.expires_at == carts[0].expires_at,
          "an update without the code keeps the expiry");
    CHECK(discount_uses_held(E, &A, "d1", &held) == BO_OK && held == 1, "and gives its use back");
    cart_record_free(&changed);
    CHECK(cart_create(E, &A, &req, &carts[2], &err) == BO_OK, "so a third cart may take it");
    req.discount_code = "ANY";
    cart_record unlimited;
    CHECK(cart_create(E, &A, &req, &unlimited, &err) == BO_OK, "an unlimited discount holds nothing");
    cart_record_free(&unlimited);
    req.discount_code = "OLD";
    CHECK(cart_create(E, &A, &req, &unlimited, &err) == BO_INVALID && !strcmp(err.code, "discount_expired"),
          "an expired code is refused");
    req.discount_code = "NOPE";
    CHECK(cart_create(E, &A, &req, &unlimited, &err) == BO_INVALID && !strcmp(err.field, "discount_code"),
          "an unknown code is refused");
    CHECK(discount_uses_held(E, &B, "d1", &held) == BO_OK && held == 0, "B holds none of A's uses");
    for (int i = 0; i < 3; i++) cart_record_free(&carts[i]);
}

int main(void)
{
    test_server_key(19);
    char path[128];
    const char *uri = test_db_uri("access-keys", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    E = test_engine_open(S);
    CHECK(test_account(E, "ak", "Access A", &A), "account A");
    CHECK(test_account(E, "bk", "Access B", &B), "account B");
    test_keys();
    test_discount_uses();
    return test_finish(E, S, uri, path);
}
