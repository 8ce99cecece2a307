/* The idempotency store (store/idempotency_store.c and the claim in
 * store_write) on the database named by BOXOFFICE_TEST_DB (default: a fresh
 * SQLite file): every status of every operation; that an armed claim commits
 * with the write it joins and rolls back with it; that a twin's write runs
 * nothing; that keys are per account; and the purge by age. */
#include "fixture.h"
#include "store/idempotency_store.h"
#include <pthread.h>
#include <string.h>

static engine *E;
static store *S;
static account A, B;

#define HASH1 "1111111111111111111111111111111111111111111111111111111111111111"
#define HASH2 "2222222222222222222222222222222222222222222222222222222222222222"

/* A business write: counts how often it ran; fails with `result`. */
typedef struct {
    int runs;
    db_status result;
} work;

static db_status work_fn(db_conn *c, void *arg)
{
    (void)c;
    work *w = arg;
    w->runs++;
    return w->result;
}

static bool row(const char *account_id, const char *key, store_idempotent_reply *out)
{
    return store_idempotency_get(S, account_id, key, out) == STORE_OK;
}

static void test_claim_then_answer(void)
{
    char key[64];
    test_id(key, sizeof key, "k");
    store_idempotent_reply r;
    CHECK(store_idempotency_get(S, A.id, key, &r) == STORE_NOT_FOUND, "get: unknown key NOT_FOUND");

    store_idempotency_claim claim = {.account_id = A.id, .key = key, .request_hash = HASH1, .now = 1000};
    store_idempotency_arm(&claim);
    work w = {0, DB_OK};
    CHECK(store_write(S, work_fn, &w) == DB_OK && w.runs == 1 && claim.claimed && !claim.twin,
          "claim: the first write claims the key and runs");
    CHECK(store_write(S, work_fn, &w) == DB_OK && w.runs == 2, "claim: later writes run as they are");
    store_idempotency_arm(NULL);
    CHECK(row(A.id, key, &r) && !r.answered && !strcmp(r.request_hash, HASH1) && r.created_at == 1000 && !r.body,
          "get: a claimed key is there without a response");
    store_idempotent_reply_free(&r);
    CHECK(store_idempotency_get(S, B.id, key, &r) == STORE_NOT_FOUND, "get: another account's key is not found");

    const char *body = "{\"id\":\"x\"}";
    CHECK(store_idempotency_answer(S, &claim, 201, "application/json", "/admin/v1/carts/x", body, strlen(body)) ==
              STORE_OK,
          "answer: the claimed row gets the response");
    CHECK(row(A.id, key, &r) && r.answered && r.status == 201 && !strcmp(r.content_type, "application/json") &&
              r.body_len == strlen(body) && !strcmp(r.body, body) && r.location &&
              !strcmp(r.location, "/admin/v1/carts/x"),
          "get: the stored response, with its Location");
    store_idempotent_reply_free(&r);
    CHECK(store_idempotency_answer(S, &claim, 200, NULL, NULL, "", 0) == STORE_NOT_FOUND,
          "answer: an answered row is not answered again");
    store_idempotency_claim other = claim;
    other.request_hash = HASH2;
    other.claimed = true;
    CHECK(store_idempotency_answer(S, &other, 200, NULL, NULL, "", 0) == STORE_NOT_FOUND,
          "answer: another request's hash does not answer the row");
}

static void test_twin_writes_nothing(void)
{
    char key[64];
    test_id(key, sizeof key, "t");
    store_idempotency_claim first = {.account_id = A.id, .key = key, .request_hash = HASH1, .now = 1};
    store_idempotency_arm(&first);
    work w = {0, DB_OK};
    store_write(S, work_fn, &w);
    store_idempotency_arm(NULL);
    store_idempotency_claim twin = {.account_id = A.id, .key = key, .request_hash = HASH1, .now = 2};
    store_idempotency_arm(&twin);
    work t = {0, DB_OK};
    CHECK(store_write(S, work_fn, &t) == DB_CONFLICT && t.runs == 0 && twin.twin && !twin.claimed,
          "twin: the key is taken, the write fails as a conflict and runs nothing");
    CHECK(store_write(S, work_fn, &t) == DB_CONFLICT && t.runs == 0, "twin: later writes on the thread fail too");
    store_idempotency_arm(NULL);
    CHECK(store_write(S, work_fn, &t) == DB_OK && t.runs == 1, "disarmed: writes run again");

    /* the same key in another account is another key */
    store_idempotency_claim theirs = {.account_id = B.id, .key = key, .request_hash = HASH2, .now = 3};
    store_idempotency_arm(&theirs);
    CHECK(store_write(S, work_fn, &t) == DB_OK && theirs.claimed, "per account: B claims A's key name");
    store_idempotency_arm(NULL);
}

static void test_rollback_takes_the_claim(void)
{
    char key[64];
    test_id(key, sizeof key, "r");
    store_idempotency_claim claim = {.account_id = A.id, .key = key, .request_hash = HASH1, .now = 5};
    store_idempotency_arm(&claim);
    work failing = {0, DB_ABORT};
    CHECK(store_write(S, work_fn, &failing) == DB_ABORT && !claim.claimed && !claim.twin,
          "rollback: a failed write does not claim");
    store_idempotent_reply r;
    CHECK(store_idempotency_get(S, A.id, key, &r) == STORE_NOT_FOUND, "rollback: the key's row went with it");
    work w = {0, DB_OK};
    CHECK(store_write(S, work_fn, &w) == DB_OK && claim.claimed, "rollback: the next write claims");
    store_idempotency_arm(NULL);
    CHECK(row(A.id, key, &r) && !r.answered, "rollback: then the row is there");
    store_idempotent_reply_free(&r);
}

static void test_answer_without_claim(void)
{
    char key[64];
    test_id(key, sizeof key, "a");
    store_idempotency_claim read_only = {.account_id = A.id, .key = key, .request_hash = HASH1, .now = 7};
    CHECK(store_idempotency_answer(S, &read_only, 200, "application/json", NULL, "[]", 2) == STORE_OK,
          "answer unclaimed: a request that wrote nothing inserts its response");
    store_idempotent_reply r;
    CHECK(row(A.id, key, &r) && r.answered && r.status == 200 && !strcmp(r.body, "[]"), "answer unclaimed: stored");
    store_idempotent_reply_free(&r);
    CHECK(store_idempotency_answer(S, &read_only, 200, "application/json", NULL, "{}", 2) == STORE_CONFLICT,
          "answer unclaimed: a taken key is a conflict, and stays as it was");
    CHECK(row(A.id, key, &r) && !strcmp(r.body, "[]"), "answer unclaimed: the first response stays");
    store_idempotent_reply_free(&r);
    char nul_key[64];
    test_id(nul_key, sizeof nul_key, "n");
    store_idempotency_claim binary = {.account_id = A.id, .key = nul_key, .request_hash = HASH1, .now = 7};
    CHECK(store_idempotency_answer(S, &binary, 200, "application/json", NULL, "a\0b", 3) == STORE_CONFLICT &&
              store_idempotency_get(S, A.id, nul_key, &r) == STORE_NOT_FOUND,
          "answer: a body with a NUL is not kept");
    store_idempotency_claim no_type = {.account_id = A.id, .key = nul_key, .request_hash = HASH1, .now = 7};
    CHECK(store_idempotency_answer(S, &no_type, 204, NULL, NULL, "", 0) == STORE_OK && row(A.id, nul_key, &r) &&
              r.status == 204 && !r.content_type && r.body_len == 0,
          "answer: an empty reply without a content type");
    store_idempotent_reply_free(&r);
}

static void test_purge(void)
{
    char old_key[64], new_key[64];
    test_id(old_key, sizeof old_key, "old");
    test_id(new_key, sizeof new_key, "new");
    int64_t now = clock_now();
    store_idempotency_claim old = {.account_id = A.id, .key = old_key, .request_hash = HASH1,
                                   .now = now - IDEMPOTENCY_RETENTION_US - 1};
    store_idempotency_claim fresh = {.account_id = A.id, .key = new_key, .request_hash = HASH1, .now = now};
    store_idempotency_answer(S, &old, 200, NULL, NULL, "", 0);
    store_idempotency_answer(S, &fresh, 200, NULL, NULL, "", 0);
    int deleted = -1;
    CHECK(store_idempotency_purge(S, now - IDEMPOTENCY_RETENTION_US, &deleted) == STORE_OK && deleted >= 1,
          "purge: rows past the retention are deleted");
    store_idempotent_reply r;
    CHECK(store_idempotency_get(S, A.id, old_key, &r) == STORE_NOT_FOUND, "purge: the old key is gone");
    CHECK(row(A.id, new_key, &r), "purge: the fresh key stays");
    store_idempotent_reply_free(&r);
    store_stats before, after;
    store_stats_get(S, &before);
    CHECK(store_idempotency_purge(S, now - IDEMPOTENCY_RETENTION_US, &deleted) == STORE_OK && deleted == 0,
          "purge: nothing left to delete");
    store_stats_get(S, &after);
    CHECK(after.writes == before.writes, "purge: with nothing to delete it writes nothing");
}

int main(void)
{
    test_server_key(11);
    char path[128];
    const char *uri = test_db_uri("idempotency-store", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    E = test_engine_open(S);
    CHECK(test_account(E, "i", "Idempotency", &A), "account A");
    CHECK(test_account(E, "j", "Other", &B), "account B");
    test_claim_then_answer();
    test_twin_writes_nothing();
    test_rollback_takes_the_claim();
    test_answer_without_claim();
    test_purge();
    return test_finish(E, S, uri, path);
}
