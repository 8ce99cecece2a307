/* The catalog store (store/catalog_store.c) and the voucher store
 * (store/vouchers_store.c) on the database named by BOXOFFICE_TEST_DB
 * (default: a fresh SQLite file): documents (insert, update, soft delete,
 * version bump, snapshot load in order), voucher codes (insert all or none,
 * list, void) and counters; each operation reaches each status it documents,
 * scoped by account, and a refused one writes nothing. Steps taking a db_conn
 * run inside store_write transactions of this file's own. */
#include "fixture.h"
#include "store/accounts_store.h"
#include "store/catalog_store.h"
#include "store/sales.h"
#include "store/vouchers_store.h"
#include "util/secure.h"
#include <string.h>

static store *S;
static store_account A, B;

static store_account account_new(const char *prefix)
{
    store_account a = {.hold_seconds = 900};
    rand_uuid(a.id);
    char u[37];
    rand_uuid(u);
    snprintf(a.slug, sizeof a.slug, "%s-%.24s", prefix, u);
    snprintf(a.name, sizeof a.name, "%s", prefix);
    snprintf(a.timezone, sizeof a.timezone, "Europe/Amsterdam");
    snprintf(a.currency, sizeof a.currency, "EUR");
    return a;
}

/* ---------------- catalog ---------------- */

typedef enum { OP_INSERT, OP_UPDATE, OP_DELETE } doc_verb;

typedef struct {
    doc_verb verb;
    const char *account_id, *kind, *id, *parent_id, *doc;
    bool touch, fail_after;
    store_status st, touched;
} doc_op;

static db_status doc_fn(db_conn *c, void *arg)
{
    doc_op *op = arg;
    instant_us now = clock_now();
    switch (op->verb) {
    case OP_INSERT: op->st = store_catalog_insert(c, op->account_id, op->kind, op->id, op->parent_id, op->doc, now); break;
    case OP_UPDATE: op->st = store_catalog_update(c, op->account_id, op->kind, op->id, op->parent_id, op->doc, now); break;
    case OP_DELETE: op->st = store_catalog_delete(c, op->account_id, op->kind, op->id, now); break;
    }
    if (op->st != STORE_OK) return store_db_status(op->st);
    if (op->touch) op->touched = store_catalog_touch(c, op->account_id);
    return op->fail_after ? DB_ABORT : DB_OK;
}

static store_status doc_write(doc_verb verb, const store_account *a, const char *kind, const char *id,
                              const char *doc)
{
    doc_op op = {verb, a->id, kind, id, NULL, doc, true, false, STORE_ERROR, STORE_ERROR};
    store_write(S, doc_fn, &op);
    return op.st == STORE_OK ? op.touched : op.st;
}

typedef struct {
    int n;
    char seen[8][64];
    char docs[8][64];
} rows_seen;

static void see_row(void *ctx, const store_catalog_row *row)
{
    rows_seen *r = ctx;
    if (r->n < 8) {
        snprintf(r->seen[r->n], sizeof r->seen[r->n], "%s/%s", row->kind, row->id);
        snprintf(r->docs[r->n], sizeof r->docs[r->n], "%s", row->doc);
    }
    r->n++;
}

static int64_t version_of(const store_account *a)
{
    int64_t v = -1;
    return store_catalog_version(S, a->id, &v) == STORE_OK ? v : -1;
}

static void test_catalog(void)
{
    CHECK(version_of(&A) == 0, "catalog_version: 0 before the first write, OK");
    rows_seen r = {0};
    int64_t v = -1;
    CHECK(store_catalog_load(S, A.id, &v, see_row, &r) == STORE_OK && v == 0 && r.n == 0,
          "catalog_load: empty catalog OK, version 0");

    CHECK(doc_write(OP_INSERT, &A, "product", "p1", "{\"id\":\"p1\"}") == STORE_OK, "catalog_insert + touch: OK");
    CHECK(version_of(&A) == 1, "catalog_touch: creates the version at 1");
    sleep_ms(2); /* created_at orders the load */
    CHECK(doc_write(OP_INSERT, &A, "pool", "x1", "{\"id\":\"x1\"}") == STORE_OK && version_of(&A) == 2,
          "catalog_touch: one more per write");
    CHECK(doc_write(OP_INSERT, &A, "product", "p1", "{\"dup\":true}") == STORE_CONFLICT,
          "catalog_insert: existing id CONFLICT");
    CHECK(version_of(&A) == 2, "catalog_insert CONFLICT: nothing written, no bump");
    sleep_ms(2);
    CHECK(doc_write(OP_INSERT, &A, "location", "p1", "{\"id\":\"p1\",\"k\":\"l\"}") == STORE_OK,
          "catalog_insert: same id, other kind OK");
    CHECK(doc_write(OP_INSERT, &B, "product", "p1", "{\"id\":\"p1\",\"b\":1}") == STORE_OK,
          "catalog_insert: same id in another account OK");
    CHECK(version_of(&A) == 3 && version_of(&B) == 1, "catalog_touch: versions are per account");

    CHECK(doc_write(OP_UPDATE, &A, "product", "p1", "{\"id\":\"p1\",\"v\":2}") == STORE_OK, "catalog_update: OK");
    CHECK(doc_write(OP_UPDATE, &A, "product", "nope", "{}") == STORE_NOT_FOUND, "catalog_update: unknown NOT_FOUND");
    CHECK(doc_write(OP_UPDATE, &A, "event", "p1", "{}") == STORE_NOT_FOUND, "catalog_update: other kind NOT_FOUND");

    memset(&r, 0, sizeof r);
    CHECK(store_catalog_load(S, A.id, &v, see_row, &r) == STORE_OK && v == 4 && r.n == 3,
          "catalog_load: OK with the version and every live row");
    CHECK(r.n == 3 && !strcmp(r.seen[0], "product/p1") && !strcmp(r.seen[1], "pool/x1") &&
              !strcmp(r.seen[2], "location/p1"),
          "catalog_load: oldest first");
    CHECK(r.n == 3 && !strcmp(r.docs[0], "{\"id\":\"p1\",\"v\":2}"), "catalog_load: the updated document");

    CHECK(doc_write(OP_DELETE, &A, "pool", "x1", NULL) == STORE_OK, "catalog_delete: OK");
    CHECK(doc_write(OP_DELETE, &A, "pool", "x1", NULL) == STORE_NOT_FOUND, "catalog_delete: deleted NOT_FOUND");
    CHECK(doc_write(OP_DELETE, &A, "pool", "nope", NULL) == STORE_NOT_FOUND, "catalog_delete: unknown NOT_FOUND");
    CHECK(doc_write(OP_UPDATE, &A, "pool", "x1", "{}") == STORE_NOT_FOUND, "catalog_update: deleted NOT_FOUND");
    CHECK(doc_write(OP_INSERT, &A, "pool", "x1", "{}") == STORE_CONFLICT, "catalog_insert: a deleted id CONFLICT");
    CHECK(doc_write(OP_INSERT, &A, "pool", "x2", "{}") == STORE_OK, "catalog_insert after failures: OK");
    CHECK(doc_write(OP_DELETE, &B, "location", "p1", NULL) == STORE_NOT_FOUND,
          "catalog_delete: another account's NOT_FOUND");

    memset(&r, 0, sizeof r);
    CHECK(store_catalog_load(S, A.id, &v, see_row, &r) == STORE_OK && r.n == 3 && v == version_of(&A),
          "catalog_load: deleted rows left out");
    bool x1 = false;
    for (int i = 0; i < r.n && i < 8; i++) x1 |= !strcmp(r.seen[i], "pool/x1");
    CHECK(!x1, "catalog_load: the deleted pool is gone");
    memset(&r, 0, sizeof r);
    CHECK(store_catalog_load(S, B.id, &v, see_row, &r) == STORE_OK && r.n == 1 && v == 1 &&
              !strcmp(r.docs[0], "{\"id\":\"p1\",\"b\":1}"),
          "catalog_load: only the account's own rows");

    int64_t before = version_of(&A);
    doc_op op = {OP_UPDATE, A.id, "product", "p1", NULL, "{\"rolled\":\"back\"}", true, true, STORE_ERROR,
                 STORE_ERROR};
    CHECK(store_write(S, doc_fn, &op) == DB_ABORT && op.st == STORE_OK && op.touched == STORE_OK,
          "catalog steps: composed in a transaction that then aborts");
    memset(&r, 0, sizeof r);
    CHECK(version_of(&A) == before && store_catalog_load(S, A.id, &v, see_row, &r) == STORE_OK &&
              !strcmp(r.docs[0], "{\"id\":\"p1\",\"v\":2}"),
          "catalog steps: rolled back with their transaction");
    CHECK(doc_write(OP_INSERT, &(store_account){.id = "no-such-account"}, "product", "p", "{}") == STORE_CONFLICT,
          "catalog_insert: unknown account CONFLICT");
}

typedef struct {
    int n;
    char ids[8][64];
    bool deleted[8];
    instant_us created_at[8];
} places_seen;

static void see_place(void *ctx, const store_catalog_place *p)
{
    places_seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", p->id);
        s->deleted[s->n] = p->deleted;
        s->created_at[s->n] = p->created_at;
    }
    s->n++;
}

/* Runs after test_catalog: pool x1 (deleted), then pool x2, in account A. */
static void test_catalog_places(void)
{
    places_seen s = {0};
    CHECK(store_catalog_places(S, A.id, "pool", see_place, &s) == STORE_OK && s.n == 2,
          "catalog_places: OK, deleted rows included");
    CHECK(s.n == 2 && !strcmp(s.ids[0], "x1") && s.deleted[0] && !strcmp(s.ids[1], "x2") && !s.deleted[1],
          "catalog_places: in list order, each saying whether it is deleted");
    CHECK(s.n == 2 && s.created_at[0] > 0 && s.created_at[0] <= s.created_at[1], "catalog_places: created_at kept");
    memset(&s, 0, sizeof s);
    CHECK(store_catalog_places(S, A.id, "product", see_place, &s) == STORE_OK && s.n == 1 && !strcmp(s.ids[0], "p1"),
          "catalog_places: only the kind asked for");
    memset(&s, 0, sizeof s);
    CHECK(store_catalog_places(S, B.id, "pool", see_place, &s) == STORE_OK && s.n == 0,
          "catalog_places: only the account's own rows");
}

/* ---------------- vouchers ---------------- */

typedef struct {
    int n;
    char codes[8][16];
    store_voucher_code_row rows[8];
    char ids[8][48], statuses[8][16];
} codes_seen;

static void see_code(void *ctx, const store_voucher_code_row *row)
{
    codes_seen *c = ctx;
    if (c->n < 8) {
        snprintf(c->codes[c->n], sizeof c->codes[c->n], "%s", row->code);
        snprintf(c->ids[c->n], sizeof c->ids[c->n], "%s", row->id);
        snprintf(c->statuses[c->n], sizeof c->statuses[c->n], "%s", row->status);
        c->rows[c->n] = *row;
    }
    c->n++;
}

static codes_seen list(const store_account *a, const char *voucher_id, store_status *st)
{
    codes_seen c = {0};
    *st = store_voucher_codes_list(S, a->id, voucher_id, see_code, &c);
    return c;
}

static void test_vouchers(void)
{
    char code1[16], code2[16], code3[16];
    snprintf(code1, sizeof code1, "V%u", rand_below(1000000000));
    snprintf(code2, sizeof code2, "W%u", rand_below(1000000000));
    snprintf(code3, sizeof code3, "X%u", rand_below(1000000000));
    instant_us now = clock_now();
    /* codes added together share created_at: ids in the order they should list */
    char u[37], i1[48], i2[48], i3[48], i4[48];
    rand_uuid(u);
    snprintf(i1, sizeof i1, "c1-%.24s", u);
    snprintf(i2, sizeof i2, "c2-%.24s", u);
    snprintf(i3, sizeof i3, "c3-%.24s", u);
    snprintf(i4, sizeof i4, "c4-%.24s", u);
    store_status st;

    codes_seen c = list(&A, "v1", &st);
    CHECK(st == STORE_OK && c.n == 0, "voucher_codes_list: none OK");
    store_voucher_code_new two[] = {{i1, code1}, {i2, code2}};
    CHECK(store_voucher_codes_insert(S, A.id, "v1", two, 2, 500, now) == STORE_OK, "voucher_codes_insert: OK");
    c = list(&A, "v1", &st);
    CHECK(st == STORE_OK && c.n == 2 && !strcmp(c.ids[0], i1) && !strcmp(c.codes[0], code1) &&
              !strcmp(c.codes[1], code2) && c.rows[0].remaining == 500 && !strcmp(c.statuses[0], "available") &&
              c.rows[0].created_at == now && c.rows[0].updated_at == now,
          "voucher_codes_list: OK, every column, in order");

    store_voucher_code_new clash[] = {{i3, code3}, {i4, code1}};
    CHECK(store_voucher_codes_insert(S, A.id, "v2", clash, 2, 100, now) == STORE_CONFLICT,
          "voucher_codes_insert: a code in use CONFLICT");
    c = list(&A, "v2", &st);
    CHECK(st == STORE_OK && c.n == 0, "voucher_codes_insert CONFLICT: none of the batch written");
    store_voucher_code_new same[] = {{i3, code3}, {i4, code3}};
    CHECK(store_voucher_codes_insert(S, A.id, "v2", same, 2, 100, now) == STORE_CONFLICT,
          "voucher_codes_insert: a code twice in one batch CONFLICT");
    CHECK(store_voucher_codes_insert(S, B.id, "v1", clash, 2, 100, now) == STORE_OK,
          "voucher_codes_insert: another account's codes apart OK");
    c = list(&B, "v1", &st);
    CHECK(st == STORE_OK && c.n == 2, "voucher_codes_list: only the account's own codes");

    CHECK(store_voucher_code_void(S, A.id, "v1", i1, now + 5) == STORE_OK, "voucher_code_void: OK");
    c = list(&A, "v1", &st);
    CHECK(c.n == 2 && !strcmp(c.statuses[0], "voided") && c.rows[0].updated_at == now + 5 &&
              !strcmp(c.statuses[1], "available"),
          "voucher_code_void: that code voided, the other not");
    CHECK(store_voucher_code_void(S, A.id, "v1", i1, now) == STORE_NOT_FOUND, "voucher_code_void: already void NOT_FOUND");
    CHECK(store_voucher_code_void(S, A.id, "v1", "no-such-code", now) == STORE_NOT_FOUND,
          "voucher_code_void: unknown NOT_FOUND");
    CHECK(store_voucher_code_void(S, A.id, "v9", i2, now) == STORE_NOT_FOUND,
          "voucher_code_void: another voucher's code NOT_FOUND");
    CHECK(store_voucher_code_void(S, A.id, "v1", i3, now) == STORE_NOT_FOUND,
          "voucher_code_void: another account's code NOT_FOUND");
}

/* ---------------- counters ---------------- */

typedef struct {
    const char *account_id, *name;
    int64_t value;
} next_op;

static db_status next_fn(db_conn *c, void *arg)
{
    next_op *op = arg;
    return store_db_status(store_counter_next(c, op->account_id, op->name, &op->value));
}

static void test_counters(void)
{
    int64_t v = -1;
    CHECK(store_counter_get(S, A.id, "discount:d1", &v) == STORE_OK && v == 0, "counter_get: never counted 0, OK");
    next_op op = {A.id, "discount:d1", 0};
    store_write(S, next_fn, &op);
    store_write(S, next_fn, &op);
    CHECK(store_counter_get(S, A.id, "discount:d1", &v) == STORE_OK && v == 2 && v == op.value,
          "counter_get: what counter_next counted");
    CHECK(store_counter_get(S, B.id, "discount:d1", &v) == STORE_OK && v == 0, "counter_get: per account");
    CHECK(store_counter_get(S, A.id, "discount:d2", &v) == STORE_OK && v == 0, "counter_get: per name");
}

int main(void)
{
    unsigned char key[SERVER_KEY_BYTES] = {9};
    secure_init();
    secure_set_server_key(key);
    char path[128];
    const char *uri = test_db_uri("catalog-store", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    A = account_new("cs");
    B = account_new("ct");
    CHECK(store_account_insert(S, &A, clock_now()) == STORE_OK && store_account_insert(S, &B, clock_now()) == STORE_OK,
          "accounts A and B");
    test_catalog();
    test_catalog_places();
    test_vouchers();
    test_counters();
    store_close(S);
    test_db_remove(uri, path);
    return check_summary();
}
