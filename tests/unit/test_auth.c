/* The authentication cache (core/auth.c) through the engine's C API, on the
 * database named by BOXOFFICE_TEST_DB (default: a fresh SQLite file). Two
 * engines on one database stand for two server processes: each has its own
 * cache and learns of the other's writes only through the auth version. */
#include "fixture.h"
#include "core/internal.h"
#include "util/secure.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longer than AUTH_RECHECK_MS: by then every engine has re-read the version. */
#define PAST_RECHECK_US 150000

static engine *E1, *E2;
static store *ST;
static account A, B;

static void fresh_secret(const char *prefix, char out[80]) { rand_token(prefix, 16, out, 80); }

static bool authenticates(engine *e, cred_kind kind, const char *secret, account *who)
{
    account got;
    if (auth_lookup(e, kind, secret, &got) != BO_OK) return false;
    if (who) *who = got;
    return !strcmp(got.id, A.id) || !strcmp(got.id, B.id);
}

/* Revokes behind the engines' backs: the row changes, the auth version does not. */
static db_status revoke_silently(db_conn *c, void *arg)
{
    char hash[65];
    secret_hash(arg, hash);
    return db_exec(c, "UPDATE credentials SET revoked = 1 WHERE secret_hash = ?", DB_ARGS(DB_TEXT(hash)), NULL);
}

static db_status bump_version(db_conn *c, void *arg) { return store_db_status(store_auth_version_bump(c, arg)); }

static void test_hit_reads_no_sql(void)
{
    bo_error err;
    char key[80];
    fresh_secret("sk_", key);
    CHECK(credential_add(E1, &A, CRED_API_KEY, NULL, key, "t", 0, &err) == BO_OK, "api key added");
    account who;
    CHECK(authenticates(E1, CRED_API_KEY, key, &who) && !strcmp(who.id, A.id), "api key authenticates account A");
    CHECK(!strcmp(who.slug, A.slug) && who.hold_seconds == A.hold_seconds && !strcmp(who.currency, "EUR"),
          "the cached account carries its settings");
    CHECK(store_write(ST, revoke_silently, key) == DB_OK, "row revoked without a version bump");
    CHECK(authenticates(E1, CRED_API_KEY, key, NULL), "a hit is served from memory, not the credentials table");
    usleep(PAST_RECHECK_US);
    CHECK(authenticates(E1, CRED_API_KEY, key, NULL), "an unmoved version keeps the cache past the recheck");
    CHECK(!authenticates(E2, CRED_API_KEY, key, NULL), "an engine that never cached it reads the revoked row");
    int64_t version = 0;
    CHECK(store_write(ST, bump_version, &version) == DB_OK && version > 0, "auth version bumped");
    usleep(PAST_RECHECK_US);
    CHECK(!authenticates(E1, CRED_API_KEY, key, NULL), "a moved version drops the cache within the recheck");
}

static void test_revocation(void)
{
    bo_error err;
    char key[80];
    fresh_secret("sk_", key);
    CHECK(credential_add(E1, &A, CRED_API_KEY, NULL, key, "t", 0, &err) == BO_OK, "second api key added");
    CHECK(authenticates(E1, CRED_API_KEY, key, NULL) && authenticates(E2, CRED_API_KEY, key, NULL),
          "both engines cache the key");
    CHECK(credential_revoke(E1, &B, CRED_API_KEY, NULL, key, &err) == BO_NOT_FOUND,
          "another account cannot revoke it");
    CHECK(authenticates(E1, CRED_API_KEY, key, NULL), "still valid after the refused revoke");
    CHECK(credential_revoke(E1, &A, CRED_API_KEY, NULL, key, &err) == BO_OK, "key revoked");
    CHECK(!authenticates(E1, CRED_API_KEY, key, NULL), "the revoking engine refuses it at once");
    usleep(PAST_RECHECK_US);
    CHECK(!authenticates(E2, CRED_API_KEY, key, NULL), "the other engine refuses it within the recheck interval");
    CHECK(credential_revoke(E1, &A, CRED_API_KEY, NULL, key, &err) == BO_NOT_FOUND, "revoking twice: not found");
    CHECK(credential_add(E1, &A, CRED_API_KEY, NULL, key, "t", 0, &err) == BO_OK &&
              !authenticates(E1, CRED_API_KEY, key, NULL),
          "re-adding a revoked secret does not revive it");

    char client[40], secret[80];
    rand_token("ci_", 8, client, sizeof client);
    fresh_secret("cs_", secret);
    CHECK(credential_add(E1, &A, CRED_OAUTH_CLIENT, client, secret, "t", 0, &err) == BO_OK, "oauth client added");
    account who;
    CHECK(auth_oauth_client(E1, client, secret, &who) == BO_OK && !strcmp(who.id, A.id) &&
              auth_oauth_client(E2, client, secret, &who) == BO_OK,
          "oauth client authenticates on both engines");
    CHECK(auth_oauth_client(E1, client, "wrong-secret", &who) == BO_UNAUTHORIZED, "wrong client secret refused");
    CHECK(credential_revoke(E2, &A, CRED_OAUTH_CLIENT, client, secret, &err) == BO_OK, "oauth client revoked");
    CHECK(auth_oauth_client(E2, client, secret, &who) == BO_UNAUTHORIZED, "revoked client refused at once");
    usleep(PAST_RECHECK_US);
    CHECK(auth_oauth_client(E1, client, secret, &who) == BO_UNAUTHORIZED, "and by the other engine");
}

static void test_account_change(void)
{
    bo_error err;
    char token[80];
    fresh_secret("adm_", token);
    CHECK(credential_add(E1, &A, CRED_ADMIN_TOKEN, NULL, token, "t", 0, &err) == BO_OK, "admin token added");
    account who;
    CHECK(authenticates(E1, CRED_ADMIN_TOKEN, token, &who) && !strcmp(who.name, "Test") &&
              authenticates(E2, CRED_ADMIN_TOKEN, token, &who),
          "both engines cache the account as it is");
    account updated;
    CHECK(account_update(E1, &A, "Renamed", 120, &updated, &err) == BO_OK, "account updated");
    CHECK(authenticates(E1, CRED_ADMIN_TOKEN, token, &who) && !strcmp(who.name, "Renamed") &&
              who.hold_seconds == 120,
          "the writing engine serves the new settings at once");
    usleep(PAST_RECHECK_US);
    CHECK(authenticates(E2, CRED_ADMIN_TOKEN, token, &who) && !strcmp(who.name, "Renamed") &&
              who.hold_seconds == 120,
          "the other engine serves them within the recheck interval");
    A = updated;
}

static void test_negatives(void)
{
    bo_error err;
    char key[80];
    size_t neg0, neg;
    fresh_secret("sk_", key);
    auth_cache_size(E1, &neg0);
    CHECK(!authenticates(E1, CRED_API_KEY, key, NULL), "unknown key refused");
    auth_cache_size(E1, &neg);
    CHECK(neg == neg0 + 1, "an unknown key is cached as unknown");
    CHECK(credential_add(E2, &A, CRED_API_KEY, NULL, key, "t", 0, &err) == BO_OK, "the key is added elsewhere");
    usleep(PAST_RECHECK_US);
    CHECK(authenticates(E1, CRED_API_KEY, key, NULL), "the cached unknown gives way within the recheck interval");
    fresh_secret("sk_", key);
    CHECK(!authenticates(E1, CRED_API_KEY, key, NULL), "another unknown key refused");
    CHECK(credential_add(E1, &A, CRED_API_KEY, NULL, key, "t", 0, &err) == BO_OK &&
              authenticates(E1, CRED_API_KEY, key, NULL),
          "an add by the same engine applies at once");

    auth_cache_size(E1, &neg0);
    fresh_secret("at_", key);
    CHECK(!authenticates(E1, CRED_ACCESS_TOKEN, key, NULL), "unknown access token refused");
    auth_cache_size(E1, &neg);
    CHECK(neg == neg0, "unknown access tokens are not cached (their issue bumps no version)");

    bool all_refused = true;
    for (int i = 0; i < 3000; i++) {
        fresh_secret("sk_", key);
        all_refused &= !authenticates(E1, CRED_API_KEY, key, NULL);
    }
    size_t total = auth_cache_size(E1, &neg);
    CHECK(all_refused, "3000 random keys refused");
    CHECK(neg <= 1024 && total <= 1024 + 100, "unknown secrets cannot fill memory: at most 1024 are cached");
    fresh_secret("sk_", key);
    CHECK(credential_add(E1, &A, CRED_API_KEY, NULL, key, "t", 0, &err) == BO_OK &&
              authenticates(E1, CRED_API_KEY, key, NULL),
          "known keys still authenticate with the unknowns capped");
}

typedef struct {
    const char *key;
    int ok;
} hammer_arg;

static void *hammer(void *arg)
{
    hammer_arg *h = arg;
    for (int i = 0; i < 400; i++) h->ok += authenticates(E1, CRED_API_KEY, h->key, NULL);
    return NULL;
}

static void test_concurrent(void)
{
    bo_error err;
    char key[80];
    fresh_secret("sk_", key);
    CHECK(credential_add(E1, &A, CRED_API_KEY, NULL, key, "t", 0, &err) == BO_OK, "key for threads added");
    pthread_t t[4];
    hammer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (hammer_arg){key, 0};
        pthread_create(&t[i], NULL, hammer, &args[i]);
    }
    /* writes that empty the cache while the threads read it */
    for (int i = 0; i < 5; i++) {
        account updated;
        account_update(E1, &A, NULL, 300 + i * 60, &updated, &err);
        A = updated;
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += args[i].ok;
    }
    CHECK(ok == 1600, "every concurrent lookup authenticates while writes invalidate the cache");
}

/* Last: it moves this process's clock forward. */
static void test_expiry(void)
{
    char token[80];
    CHECK(auth_issue_access_token(E1, &A, 10, token) == BO_OK, "access token issued");
    size_t before = auth_cache_size(E1, NULL);
    CHECK(authenticates(E1, CRED_ACCESS_TOKEN, token, NULL), "a new access token is found without a version bump");
    CHECK(auth_cache_size(E1, NULL) == before + 1, "and cached");
    clock_advance(5);
    CHECK(authenticates(E1, CRED_ACCESS_TOKEN, token, NULL), "valid before its expiry");
    clock_advance(6);
    CHECK(!authenticates(E1, CRED_ACCESS_TOKEN, token, NULL), "the cached token expires on time");
    CHECK(!authenticates(E2, CRED_ACCESS_TOKEN, token, NULL), "and is expired when read from the database");
}

int main(void)
{
    secure_init();
    test_server_key(9);
    char path[128];
    const char *uri = test_db_uri("auth", path);
    ST = test_store_open(uri);
    if (!ST) return check_summary();
    E1 = test_engine_open(ST);
    E2 = test_engine_open(ST);
    CHECK(test_account(E1, "auth", "Test", &A), "account A created");
    CHECK(test_account(E1, "auth", "Other", &B), "account B created");
    test_hit_reads_no_sql();
    test_revocation();
    test_account_change();
    test_negatives();
    test_concurrent();
    test_expiry();
    engine_close(E2);
    return test_finish(E1, ST, uri, path);
}
