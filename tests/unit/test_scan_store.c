/* The scan store (store/scan_store.c) on the database named by
 * BOXOFFICE_TEST_DB (default: a fresh SQLite file): every status of every
 * operation, that a stale version writes nothing, that a check writes
 * nothing, and the migration that backfills the scan flags from ticket docs. */
#include "fixture.h"
#include "api/order_json.h"
#include "core/engine.h"
#include "store/migrations.h"
#include "store/scan_store.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static engine *E;
static store *S;
static account A, B;

/* Books one undated ticket of a fresh product with these scan options;
 * returns its barcode (caller frees) or NULL. */
static char *book_ticket(json_t *scan)
{
    json_t *doc = json_pack("{s:s,s:i,s:o}", "name", "Gate", "price", 100, "scan", scan), *p = NULL;
    bo_error err;
    catalog_put_json(E, &A, CAT_PRODUCT, NULL, doc, false, &p, &err);
    json_decref(doc);
    if (!p) return NULL;
    char order_id[40];
    cart_record cart = {0};
    bool created;
    cart_line l = {json_string_value(json_object_get(p, "id")), 1};
    cart_request r = {.day = -1, .start_time = -1, .end_time = -1, .lines = &l, .nlines = 1};
    book_request br = {.cart_id = cart.id};
    char *barcode = NULL;
    json_t *order;
    if (cart_create(E, &A, &r, &cart, &err) == BO_OK && order_book(E, &A, &br, order_id, &created, &err) == BO_OK &&
        order_get_json(E, &A, order_id, &order) == BO_OK) {
        json_t *t = json_array_get(json_object_get(order, "tickets"), 0);
        barcode = strdup(json_string_value(json_object_get(t, "barcode")));
        json_decref(order);
    }
    cart_record_free(&cart);
    json_decref(p);
    return barcode;
}

typedef struct {
    const char *sql;
    const char *arg;
    int64_t value;
} count_op;

static db_status count_fn(db_conn *c, void *arg)
{
    count_op *op = arg;
    return db_query_int(c, op->sql, DB_ARGS(DB_TEXT(op->arg)), &op->value);
}

static int64_t scans_logged(const char *barcode)
{
    count_op op = {"SELECT COUNT(*) FROM scans WHERE barcode = ?", barcode, -1};
    store_read(S, count_fn, &op);
    return op.value;
}

typedef struct {
    int calls;
    char ticket_id[40];
} view_seen;

static db_status see_view(db_conn *c, const char *account_id, const char *ticket_id, void *ctx)
{
    view_seen *v = ctx;
    v->calls++;
    snprintf(v->ticket_id, sizeof v->ticket_id, "%s", ticket_id);
    return DB_OK;
}

static void test_state_by_barcode(const char *barcode)
{
    ticket_scan_state t;
    view_seen seen = {0};
    store_ticket_view view = {see_view, &seen};
    CHECK(store_ticket_scan_state_by_barcode(S, A.id, barcode, &t, &view) == STORE_OK, "state: OK");
    CHECK(!strcmp(t.status, "valid") && !strcmp(t.limit, "none") && t.max_scans == -1 && t.time_seconds == -1,
          "state: status and limits");
    CHECK(t.allow_overtime && t.in_out, "state: scan flags come from the product, as columns");
    CHECK(t.version == 0 && t.scans_used == 0 && !t.inside && !t.first_scan_at && !t.day_key[0],
          "state: never scanned");
    CHECK(seen.calls == 1 && !strcmp(seen.ticket_id, t.id), "state: view loaded in the same snapshot");
    seen.calls = 0;
    CHECK(store_ticket_scan_state_by_barcode(S, A.id, "00000000000000000000", &t, &view) == STORE_NOT_FOUND &&
              seen.calls == 0,
          "state: unknown barcode NOT_FOUND, no view");
    CHECK(store_ticket_scan_state_by_barcode(S, B.id, barcode, &t, NULL) == STORE_NOT_FOUND,
          "state: another account's barcode NOT_FOUND");
}

static scan_record record(const ticket_scan_state *t, const char *barcode, const char *result, bool redeemed)
{
    return (scan_record){.account_id = A.id, .ticket_id = t->id, .barcode = barcode, .scanned_at = clock_now(),
                         .result = result, .redeemed = redeemed, .now = clock_now()};
}

static void test_redeem(const char *barcode)
{
    ticket_scan_state t, after;
    store_ticket_scan_state_by_barcode(S, A.id, barcode, &t, NULL);
    ticket_scan_state next = t;
    next.scans_used = 1;
    next.inside = true;
    next.first_scan_at = next.last_in_at = next.redeemed_at = 1700000000000000;
    snprintf(next.day_key, sizeof next.day_key, "2023-11-14");
    next.day_scans = 1;
    scan_record rec = record(&t, barcode, "success", true);
    view_seen seen = {0};
    store_ticket_view view = {see_view, &seen};
    CHECK(store_ticket_redeem(S, t.version, &next, &rec, &view) == STORE_OK, "redeem: OK");
    CHECK(seen.calls == 1 && !strcmp(seen.ticket_id, t.id), "redeem: view loaded in the same transaction");
    store_ticket_scan_state_by_barcode(S, A.id, barcode, &after, NULL);
    CHECK(after.version == t.version + 1 && after.scans_used == 1 && after.inside &&
              after.first_scan_at == 1700000000000000 && after.last_in_at == 1700000000000000 &&
              after.redeemed_at == 1700000000000000 && !strcmp(after.day_key, "2023-11-14") && after.day_scans == 1,
          "redeem: next state stored, version bumped");
    CHECK(scans_logged(barcode) == 1, "redeem: scan logged");

    /* a gate that read before that redeem */
    next.scans_used = 2;
    seen.calls = 0;
    CHECK(store_ticket_redeem(S, t.version, &next, &rec, &view) == STORE_CONFLICT, "redeem: stale version CONFLICT");
    store_ticket_scan_state_by_barcode(S, A.id, barcode, &t, NULL);
    CHECK(t.version == after.version && t.scans_used == 1 && scans_logged(barcode) == 1 && seen.calls == 0,
          "redeem: a conflict writes nothing");

    rec = record(&t, barcode, "already_scanned_in", false);
    CHECK(store_ticket_redeem(S, t.version - 1, NULL, &rec, NULL) == STORE_CONFLICT,
          "record only: stale version CONFLICT");
    CHECK(scans_logged(barcode) == 1, "record only: a conflict logs nothing");
    CHECK(store_ticket_redeem(S, t.version, NULL, &rec, NULL) == STORE_OK, "record only: OK");
    store_ticket_scan_state_by_barcode(S, A.id, barcode, &after, NULL);
    CHECK(after.version == t.version && after.scans_used == 1 && scans_logged(barcode) == 2,
          "record only: logged, ticket unchanged");

    rec.ticket_id = "no-such-ticket";
    CHECK(store_ticket_redeem(S, 0, &next, &rec, NULL) == STORE_NOT_FOUND, "redeem: unknown ticket NOT_FOUND");
    CHECK(store_ticket_redeem(S, 0, NULL, &rec, NULL) == STORE_NOT_FOUND, "record only: unknown ticket NOT_FOUND");
    rec.ticket_id = t.id;
    rec.account_id = B.id;
    CHECK(store_ticket_redeem(S, t.version, &next, &rec, NULL) == STORE_NOT_FOUND,
          "redeem: another account's ticket NOT_FOUND");
    CHECK(scans_logged(barcode) == 2, "NOT_FOUND logs nothing");
}

static bool decide_one_in(const ticket_scan_state *now, ticket_scan_state *next, scan_record *rec, void *ctx)
{
    int *calls = ctx;
    (*calls)++;
    *next = *now;
    next->scans_used = now->scans_used + 1;
    *rec = (scan_record){.barcode = "decided", .scanned_at = clock_now(), .result = "success", .redeemed = true,
                         .now = clock_now()};
    return true;
}

static void test_scan_redeem(const char *barcode)
{
    ticket_scan_state before, after;
    store_ticket_scan_state_by_barcode(S, A.id, barcode, &before, NULL);
    int calls = 0;
    view_seen seen = {0};
    store_ticket_view view = {see_view, &seen};
    CHECK(store_ticket_scan_redeem(S, A.id, barcode, decide_one_in, &calls, &view) == STORE_OK && calls == 1 &&
              seen.calls == 1 && !strcmp(seen.ticket_id, before.id),
          "read-decide-write: OK, decided once, view loaded");
    store_ticket_scan_state_by_barcode(S, A.id, barcode, &after, NULL);
    CHECK(after.version == before.version + 1 && after.scans_used == before.scans_used + 1,
          "read-decide-write: decided state stored");
    count_op op = {"SELECT COUNT(*) FROM scans WHERE ticket_id = ? AND barcode = 'decided'", before.id, -1};
    store_read(S, count_fn, &op);
    CHECK(op.value == 1, "read-decide-write: logged against the ticket read");
    calls = 0;
    CHECK(store_ticket_scan_redeem(S, A.id, "00000000000000000000", decide_one_in, &calls, NULL) == STORE_NOT_FOUND &&
              calls == 0,
          "read-decide-write: unknown barcode NOT_FOUND, nothing decided");
    CHECK(store_ticket_scan_redeem(S, B.id, barcode, decide_one_in, &calls, NULL) == STORE_NOT_FOUND && calls == 0,
          "read-decide-write: another account's barcode NOT_FOUND");
}

static void test_record_unknown(void)
{
    scan_record rec = {.account_id = A.id, .barcode = "11111111111111111111", .scanned_at = clock_now(),
                       .result = "not_found", .now = clock_now()};
    int64_t before = scans_logged(rec.barcode);
    CHECK(store_scan_record_unknown(S, &rec) == STORE_OK && scans_logged(rec.barcode) == before + 1,
          "unknown barcode: OK, logged");
    count_op op = {"SELECT COUNT(*) FROM scans WHERE barcode = ? AND ticket_id IS NULL", rec.barcode, -1};
    store_read(S, count_fn, &op);
    CHECK(op.value == before + 1, "unknown barcode: logged without a ticket");
}

/* redeem=false reads one snapshot and writes nothing, not even the log. */
static void test_check_writes_nothing(const char *barcode)
{
    ticket_scan_state before, after;
    store_ticket_scan_state_by_barcode(S, A.id, barcode, &before, NULL);
    int64_t logged = scans_logged(barcode);
    scan_request req = {.barcode = barcode, .redeem = false};
    scan_result res = {0};
    bo_error err;
    CHECK(scan_barcode(E, &A, &req, &res, &err) == BO_OK && res.code == SCAN_SUCCESS && res.has_ticket,
          "check: success with the ticket");
    scan_result_free(&res);
    req.barcode = "22222222222222222222";
    CHECK(scan_barcode(E, &A, &req, &res, &err) == BO_OK && res.code == SCAN_NOT_FOUND && !res.has_ticket,
          "check: unknown barcode not_found");
    store_ticket_scan_state_by_barcode(S, A.id, barcode, &after, NULL);
    CHECK(after.version == before.version && scans_logged(barcode) == logged && scans_logged(req.barcode) == 0,
          "check: nothing written");
}

/* The products' in_out flag reaches the rules now: a second entry while
 * inside is refused even without pay-per-minute. */
static void test_in_out_enforced(void)
{
    char *barcode = book_ticket(json_pack("{s:s,s:b}", "limit", "none", "in_out", 1));
    scan_request req = {.barcode = barcode, .redeem = true};
    scan_result res = {0};
    bo_error err;
    CHECK(barcode && scan_barcode(E, &A, &req, &res, &err) == BO_OK && res.code == SCAN_SUCCESS, "in_out: in");
    scan_result_free(&res);
    CHECK(scan_barcode(E, &A, &req, &res, &err) == BO_OK && res.code == SCAN_ALREADY_SCANNED_IN, "in_out: in twice");
    scan_result_free(&res);
    req.direction_out = true;
    CHECK(scan_barcode(E, &A, &req, &res, &err) == BO_OK && res.code == SCAN_SUCCESS, "in_out: out");
    scan_result_free(&res);
    free(barcode);
}

/* Runs migration 3's text against a temporary `tickets` table (it shadows the
 * real one inside this transaction, which is then rolled back). */
static db_status backfill_fn(db_conn *c, void *arg)
{
    int64_t *flags = arg;
    const migration *m = NULL;
    for (size_t i = 0; i < migrations_count; i++)
        if (migrations[i].version == 3) m = &migrations[i];
    if (!m) return DB_ERROR;
    db_status st = db_exec_script(c, "CREATE TEMP TABLE tickets (id TEXT, doc TEXT NOT NULL);"
                                     "INSERT INTO tickets VALUES ('t1', '{\"allow_overtime\":true,\"in_out\":true}');"
                                     "INSERT INTO tickets VALUES ('t2', '{\"allow_overtime\":false}');"
                                     "INSERT INTO tickets VALUES ('t3', '{\"allow_overtime\":1}');"
                                     "INSERT INTO tickets VALUES ('t4', '{}')");
    char *sql = migration_sql(m, db_conn_dialect(c));
    if (st == DB_OK) st = db_exec_script(c, sql);
    free(sql);
    if (st == DB_OK)
        st = db_query_int(c,
                          "SELECT SUM(CASE id WHEN 't1' THEN allow_overtime * 1000 + in_out * 100 ELSE"
                          " allow_overtime * 10 + in_out END) FROM tickets",
                          DB_NOARGS, flags);
    return st == DB_OK ? DB_ABORT : st;
}

static void test_migration(void)
{
    migration m = {99, "sections", "A @ID@;@SQLITE@ B;@POSTGRES@ C @ID@;@BOTH@ D;"};
    char *lite = migration_sql(&m, DB_DIALECT_SQLITE), *pg = migration_sql(&m, DB_DIALECT_POSTGRES);
    CHECK(!strcmp(lite, "A INTEGER PRIMARY KEY AUTOINCREMENT; B; D;"), "migration text: SQLite sections");
    CHECK(!strcmp(pg, "A BIGSERIAL PRIMARY KEY; C BIGSERIAL PRIMARY KEY; D;"), "migration text: PostgreSQL sections");
    free(lite);
    free(pg);
    for (size_t i = 1; i < migrations_count; i++)
        CHECK(migrations[i].version > migrations[i - 1].version, "migrations ascend");
    int64_t flags = -1;
    CHECK(store_write(S, backfill_fn, &flags) == DB_ABORT && flags == 1100,
          "migration 3 backfills the flags from the doc (true only)");
}

int main(void)
{
    test_server_key(9);
    char path[128];
    const char *uri = test_db_uri("scan-store", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    E = test_engine_open(S);
    CHECK(test_account(E, "s", "Scans", &A), "account A");
    CHECK(test_account(E, "r", "Other", &B), "account B");
    char *barcode = book_ticket(json_pack("{s:s,s:b,s:b}", "limit", "none", "allow_overtime", 1, "in_out", 1));
    CHECK(barcode != NULL, "ticket booked");
    if (barcode) {
        test_state_by_barcode(barcode);
        test_check_writes_nothing(barcode);
        test_redeem(barcode);
        test_scan_redeem(barcode);
    }
    free(barcode);
    test_record_unknown();
    test_in_out_enforced();
    test_migration();
    return test_finish(E, S, uri, path);
}
