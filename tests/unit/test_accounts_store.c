/* The accounts store (store/accounts_store.c) on the database named by
 * BOXOFFICE_TEST_DB (default: a fresh SQLite file): accounts (insert, by id,
 * by slug, load as a step, update with its auth version bump), secrets, the
 * auth version, credentials (insert with and without a bump, duplicates,
 * revoke, lookup in one snapshot) and rate limits; each operation reaches each
 * status it documents, and a refused one writes nothing. */
#include "fixture.h"
#include "store/accounts_store.h"
#include "util/secure.h"
#include <string.h>

static store *S;
static store_account A, B;

static void unique(char *out, size_t n, const char *prefix)
{
    char u[37];
    rand_uuid(u);
    snprintf(out, n, "%s-%.24s", prefix, u);
}

static store_account account_new(const char *prefix)
{
    store_account a = {.hold_seconds = 900};
    rand_uuid(a.id);
    unique(a.slug, sizeof a.slug, prefix);
    snprintf(a.name, sizeof a.name, "Name %s", prefix);
    snprintf(a.timezone, sizeof a.timezone, "Europe/Amsterdam");
    snprintf(a.currency, sizeof a.currency, "EUR");
    return a;
}

static int64_t auth_version_now(void)
{
    int64_t v = -1;
    return store_auth_version(S, &v) == STORE_OK ? v : -1;
}

/* ---------------- accounts ---------------- */

typedef struct {
    const char *id;
    store_account out;
    store_status st;
} load_op;

static db_status load_fn(db_conn *c, void *arg)
{
    load_op *op = arg;
    op->st = store_account_load(c, op->id, &op->out);
    return DB_OK;
}

static void test_accounts(void)
{
    A = account_new("as");
    B = account_new("at");
    CHECK(store_account_insert(S, &A, clock_now()) == STORE_OK, "account_insert: OK");
    CHECK(store_account_insert(S, &B, clock_now()) == STORE_OK, "account_insert: a second account OK");

    store_account got;
    CHECK(store_account_by_id(S, A.id, &got) == STORE_OK && !strcmp(got.id, A.id) && !strcmp(got.slug, A.slug) &&
              !strcmp(got.name, A.name) && !strcmp(got.timezone, A.timezone) && !strcmp(got.currency, "EUR") &&
              got.hold_seconds == 900,
          "account_by_id: OK with every column");
    CHECK(store_account_by_slug(S, B.slug, &got) == STORE_OK && !strcmp(got.id, B.id),
          "account_by_slug: OK, the account of that slug");
    CHECK(store_account_by_id(S, "no-such-account", &got) == STORE_NOT_FOUND, "account_by_id: unknown NOT_FOUND");
    CHECK(store_account_by_slug(S, "no-such-slug", &got) == STORE_NOT_FOUND, "account_by_slug: unknown NOT_FOUND");
    CHECK(store_account_by_slug(S, A.id, &got) == STORE_NOT_FOUND, "account_by_slug: an id is no slug");

    load_op op = {.id = A.id};
    CHECK(store_read(S, load_fn, &op) == DB_OK && op.st == STORE_OK && !strcmp(op.out.slug, A.slug),
          "account_load: OK as a step");
    op = (load_op){.id = "no-such-account"};
    CHECK(store_read(S, load_fn, &op) == DB_OK && op.st == STORE_NOT_FOUND, "account_load: unknown NOT_FOUND");

    store_account dup = account_new("au");
    snprintf(dup.slug, sizeof dup.slug, "%s", A.slug);
    CHECK(store_account_insert(S, &dup, clock_now()) == STORE_CONFLICT, "account_insert: slug taken CONFLICT");
    CHECK(store_account_by_id(S, dup.id, &got) == STORE_NOT_FOUND, "account_insert CONFLICT: nothing written");
    dup = account_new("av");
    snprintf(dup.id, sizeof dup.id, "%s", A.id);
    CHECK(store_account_insert(S, &dup, clock_now()) == STORE_CONFLICT, "account_insert: id taken CONFLICT");
    CHECK(store_account_by_slug(S, dup.slug, &got) == STORE_NOT_FOUND, "account_insert CONFLICT (id): nothing written");

    int64_t before = auth_version_now(), v = -1;
    CHECK(store_account_update(S, A.id, "Renamed", 1200, clock_now(), &v) == STORE_OK, "account_update: OK");
    CHECK(v > before && auth_version_now() == v, "account_update: bumps the auth version, returns it");
    CHECK(store_account_by_id(S, A.id, &got) == STORE_OK && !strcmp(got.name, "Renamed") && got.hold_seconds == 1200,
          "account_update: name and hold written");
    CHECK(store_account_update(S, A.id, NULL, 600, clock_now(), &v) == STORE_OK &&
              store_account_by_id(S, A.id, &got) == STORE_OK && !strcmp(got.name, "Renamed") && got.hold_seconds == 600,
          "account_update: a NULL name keeps the name");
    before = auth_version_now();
    CHECK(store_account_update(S, "no-such-account", "X", 600, clock_now(), &v) == STORE_NOT_FOUND,
          "account_update: unknown NOT_FOUND");
    CHECK(v == 0 && auth_version_now() == before, "account_update NOT_FOUND: no bump");
    CHECK(store_account_by_id(S, B.id, &got) == STORE_OK && !strcmp(got.name, B.name) && got.hold_seconds == 900,
          "account_update: the other account unchanged");
}

/* ---------------- secrets ---------------- */

static void test_secrets(void)
{
    char *sealed = (char *)"untouched";
    CHECK(store_account_secret_get(S, A.id, "webhook", &sealed) == STORE_NOT_FOUND && sealed == NULL,
          "account_secret_get: none NOT_FOUND, NULL out");
    CHECK(store_account_secret_put(S, A.id, "webhook", "sealed-1") == STORE_OK, "account_secret_put: OK");
    CHECK(store_account_secret_get(S, A.id, "webhook", &sealed) == STORE_OK && sealed && !strcmp(sealed, "sealed-1"),
          "account_secret_get: OK, the text put");
    free(sealed);
    CHECK(store_account_secret_put(S, A.id, "webhook", "sealed-2") == STORE_OK, "account_secret_put: replace OK");
    CHECK(store_account_secret_get(S, A.id, "webhook", &sealed) == STORE_OK && sealed && !strcmp(sealed, "sealed-2"),
          "account_secret_get: the replacement");
    free(sealed);
    CHECK(store_account_secret_get(S, B.id, "webhook", &sealed) == STORE_NOT_FOUND,
          "account_secret_get: another account's NOT_FOUND");
    CHECK(store_account_secret_get(S, A.id, "other", &sealed) == STORE_NOT_FOUND,
          "account_secret_get: another name NOT_FOUND");
    CHECK(store_account_secret_put(S, "no-such-account", "webhook", "x") == STORE_NOT_FOUND,
          "account_secret_put: unknown account NOT_FOUND");
}

/* ---------------- the auth version ---------------- */

typedef struct {
    int64_t v1, v2;
    store_status st1, st2;
    bool fail;
} bump_op;

static db_status bump_fn(db_conn *c, void *arg)
{
    bump_op *op = arg;
    op->st1 = store_auth_version_bump(c, &op->v1);
    op->st2 = store_auth_version_bump(c, &op->v2);
    return op->fail ? DB_ABORT : DB_OK;
}

static void test_auth_version(void)
{
    int64_t before = auth_version_now();
    CHECK(before >= 0, "auth_version: OK");
    bump_op op = {0};
    CHECK(store_write(S, bump_fn, &op) == DB_OK && op.st1 == STORE_OK && op.st2 == STORE_OK, "auth_version_bump: OK");
    CHECK(op.v1 == before + 1 && op.v2 == before + 2, "auth_version_bump: one more each time");
    CHECK(auth_version_now() == before + 2, "auth_version: reads the bumped version");
    op = (bump_op){.fail = true};
    CHECK(store_write(S, bump_fn, &op) == DB_ABORT && auth_version_now() == before + 2,
          "auth_version_bump: rolled back with its transaction");
}

/* ---------------- credentials ---------------- */

static void test_credentials(void)
{
    char hash[65], id[37], other[65];
    /* hashes unique to this run: the database may be shared */
    char secret[80];
    unique(secret, sizeof secret, "s");
    secret_hash(secret, hash);
    unique(secret, sizeof secret, "t");
    secret_hash(secret, other);

    store_credential_read rd;
    int64_t before = auth_version_now(), v = -1;
    CHECK(store_credential_lookup(S, "api_key", hash, &rd) == STORE_NOT_FOUND && rd.auth_version == before &&
              !*rd.account.id,
          "credential_lookup: unknown NOT_FOUND, with the auth version");

    rand_uuid(id);
    instant_us now = clock_now(), expires = now + 3600 * US_PER_SEC;
    store_credential cr = {id, A.id, "api_key", NULL, hash, "test", now, expires};
    CHECK(store_credential_insert(S, &cr, true, &v) == STORE_OK, "credential_insert: OK");
    CHECK(v == before + 1 && auth_version_now() == v, "credential_insert: bumps the auth version when asked");
    CHECK(store_credential_lookup(S, "api_key", hash, &rd) == STORE_OK && rd.auth_version == v &&
              !strcmp(rd.secret_hash, hash) && rd.expires_at == expires && !rd.revoked && !strcmp(rd.account.id, A.id) &&
              !strcmp(rd.account.slug, A.slug),
          "credential_lookup: OK with expiry, account and version");
    CHECK(store_credential_lookup(S, "admin_token", hash, &rd) == STORE_NOT_FOUND,
          "credential_lookup: another kind NOT_FOUND");

    before = auth_version_now();
    char id2[37];
    rand_uuid(id2);
    store_credential again = {id2, B.id, "api_key", NULL, hash, "again", now, 0};
    CHECK(store_credential_insert(S, &again, true, &v) == STORE_CONFLICT, "credential_insert: same hash CONFLICT");
    CHECK(v == 0 && auth_version_now() == before, "credential_insert CONFLICT: no bump");
    CHECK(store_credential_lookup(S, "api_key", hash, &rd) == STORE_OK && !strcmp(rd.account.id, A.id),
          "credential_insert CONFLICT: the first one stays");
    again.kind = "channel_key"; /* the same hash under another kind is another credential */
    CHECK(store_credential_insert(S, &again, true, &v) == STORE_OK && v == before + 1,
          "credential_insert: same hash, other kind OK");

    before = auth_version_now();
    char id3[37];
    rand_uuid(id3);
    store_credential token = {id3, A.id, "access_token", NULL, other, "oauth", now, 0};
    CHECK(store_credential_insert(S, &token, false, &v) == STORE_OK && v == 0 && auth_version_now() == before,
          "credential_insert: OK without a bump when not asked");
    CHECK(store_credential_lookup(S, "access_token", other, &rd) == STORE_OK && rd.expires_at == 0,
          "credential_lookup: no expiry reads 0");

    char id4[37], h4[65];
    rand_uuid(id4);
    unique(secret, sizeof secret, "u");
    secret_hash(secret, h4);
    store_credential orphan = {id4, "no-such-account", "api_key", NULL, h4, NULL, now, 0};
    CHECK(store_credential_insert(S, &orphan, true, &v) == STORE_NOT_FOUND && auth_version_now() == before,
          "credential_insert: unknown account NOT_FOUND, no bump");
    CHECK(store_credential_lookup(S, "api_key", h4, &rd) == STORE_NOT_FOUND, "credential_insert NOT_FOUND: nothing written");

    CHECK(store_credential_revoke(S, B.id, "api_key", hash, &v) == STORE_NOT_FOUND && v == 0 &&
              auth_version_now() == before,
          "credential_revoke: another account's NOT_FOUND, no bump");
    CHECK(store_credential_revoke(S, A.id, "admin_token", hash, &v) == STORE_NOT_FOUND,
          "credential_revoke: another kind NOT_FOUND");
    CHECK(store_credential_revoke(S, A.id, "api_key", hash, &v) == STORE_OK && v == before + 1 &&
              auth_version_now() == v,
          "credential_revoke: OK, bumps the auth version");
    CHECK(store_credential_lookup(S, "api_key", hash, &rd) == STORE_OK && rd.revoked && !strcmp(rd.account.id, A.id),
          "credential_lookup: a revoked row reads revoked");
    CHECK(store_credential_revoke(S, A.id, "api_key", hash, &v) == STORE_NOT_FOUND && v == 0,
          "credential_revoke: already revoked NOT_FOUND");
}

/* ---------------- rate limits ---------------- */

typedef struct {
    const char *key;
    int64_t rows;
} rows_op;

static db_status rows_fn(db_conn *c, void *arg)
{
    rows_op *op = arg;
    return db_query_int(c, "SELECT COUNT(*) FROM rate_limits WHERE key = ?", DB_ARGS(DB_TEXT(op->key)), &op->rows);
}

static void test_rate_limits(void)
{
    char key[64], other[64];
    unique(key, sizeof key, "rl");
    unique(other, sizeof other, "rm");
    int64_t n1 = 0, n2 = 0, n3 = 0, m = 0;
    CHECK(store_rate_limit_hit(S, key, 7200, &n1) == STORE_OK && n1 == 1, "rate_limit_hit: first hit counts 1");
    CHECK(store_rate_limit_hit(S, key, 7200, &n2) == STORE_OK && n2 == 2, "rate_limit_hit: second hit counts 2");
    CHECK(store_rate_limit_hit(S, other, 7200, &m) == STORE_OK && m == 1, "rate_limit_hit: another key counts apart");
    CHECK(store_rate_limit_hit(S, key, 10800, &n3) == STORE_OK && n3 == 1, "rate_limit_hit: a new window starts at 1");
    rows_op op = {key, -1};
    CHECK(store_read(S, rows_fn, &op) == DB_OK && op.rows == 1, "rate_limit_hit: the key's old window dropped");
    op = (rows_op){other, -1};
    CHECK(store_read(S, rows_fn, &op) == DB_OK && op.rows == 1, "rate_limit_hit: other keys' windows kept");
}

int main(void)
{
    unsigned char key[SERVER_KEY_BYTES] = {7};
    secure_init();
    secure_set_server_key(key);
    char path[128];
    const char *uri = test_db_uri("accounts-store", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    test_accounts();
    test_secrets();
    test_auth_version();
    test_credentials();
    test_rate_limits();
    store_close(S);
    test_db_remove(uri, path);
    return check_summary();
}
