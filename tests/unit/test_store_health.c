/* On a fresh SQLite file of its own (a size cap and a key record must not
 * touch the shared test database): a write refused for lack of room is
 * DB_FULL / STORE_FULL, never half done, batch-mates included (acknowledged
 * exactly when committed); readiness says so; the server key's fingerprint is
 * recorded once and another is refused. */
#include "fixture.h"
#include "store/server_key_store.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITERS 16

static db_status make_table(db_conn *c, void *ctx)
{
    return db_exec(c, "CREATE TABLE fill (id INTEGER PRIMARY KEY, pad TEXT NOT NULL)", DB_NOARGS, NULL);
}

/* 3000 bytes: more than a 2 KiB page, so every row needs new pages */
static db_status insert_row(db_conn *c, void *ctx)
{
    char pad[3001];
    memset(pad, 'x', 3000);
    pad[3000] = 0;
    return db_exec(c, "INSERT INTO fill (pad) VALUES (?)", DB_ARGS(DB_TEXT(pad)), NULL);
}

static db_status count_rows(db_conn *c, void *n) { return db_query_int(c, "SELECT COUNT(*) FROM fill", DB_NOARGS, n); }

static db_status page_count(db_conn *c, void *n) { return db_query_int(c, "PRAGMA page_count", DB_NOARGS, n); }

typedef struct {
    store *s;
    db_status st;
} writer_arg;

static void *writer(void *arg)
{
    writer_arg *w = arg;
    w->st = store_write(w->s, insert_row, NULL);
    return NULL;
}

/* WRITERS concurrent inserts (so the writer batches them); returns how many
 * succeeded, and whether every other one was DB_FULL. */
static int burst(store *s, bool *others_full)
{
    pthread_t t[WRITERS];
    writer_arg w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (writer_arg){s, DB_ERROR};
        pthread_create(&t[i], NULL, writer, &w[i]);
    }
    int ok = 0;
    *others_full = true;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].st == DB_OK;
        *others_full &= w[i].st == DB_OK || w[i].st == DB_FULL;
    }
    return ok;
}

static void test_full(store *s)
{
    CHECK(store_status_of(DB_FULL) == STORE_FULL && store_db_status(STORE_FULL) == DB_FULL, "full maps both ways");
    CHECK(store_writable(s) == STORE_OK, "ready while there is room");
    CHECK(store_write(s, make_table, NULL) == DB_OK, "scratch table");
    /* Several times over, the cap raised a little each time: room for a few
     * rows only, then bursts until one is wholly refused. Every refusal must
     * be DB_FULL, and what is stored exactly what was acknowledged, batch-mates
     * of a refused write included (which write meets the cap, and with which
     * batch-mates, depends on timing: hence the repetitions). */
    bool capped = true, all_full = true, filled = true;
    int acknowledged = 0;
    for (int cap = 0; cap < 8; cap++) {
        int64_t pages = 0;
        capped &= store_read(s, page_count, &pages) == DB_OK && store_cap_pages(s, pages + 6) == STORE_OK;
        int rounds = 0, ok;
        do {
            bool others_full;
            ok = burst(s, &others_full);
            all_full &= others_full;
            acknowledged += ok;
        } while (ok > 0 && ++rounds < 50);
        filled &= ok == 0;
    }
    int64_t rows = -1;
    CHECK(capped, "size capped, and raised");
    CHECK(filled, "each time the cap is reached: a whole burst is refused");
    CHECK(all_full, "each refused write is DB_FULL, none DB_ERROR");
    CHECK(store_read(s, count_rows, &rows) == DB_OK && rows == acknowledged, "rows stored == writes acknowledged");
    CHECK(store_full_within(s, 5000000), "the refusal is remembered");
    CHECK(store_writable(s) == STORE_FULL, "not ready while writes are refused for lack of room");
}

static void test_key_record(store *s)
{
    char recorded[SERVER_KEY_FINGERPRINT_CHARS + 1], mine[65], other[65];
    bool has_accounts = true;
    CHECK(store_server_key_get(s, recorded, &has_accounts) == STORE_NOT_FOUND && !has_accounts,
          "a fresh database records no key and has no accounts");
    test_server_key(1);
    secure_key_fingerprint(mine);
    test_server_key(2);
    secure_key_fingerprint(other);
    CHECK(strlen(mine) == 64 && strcmp(mine, other), "fingerprints are 64 hex and differ per key");
    CHECK(store_server_key_record(s, mine, 1, recorded) == STORE_OK && !strcmp(recorded, mine), "first key recorded");
    CHECK(store_server_key_record(s, mine, 2, recorded) == STORE_OK, "the same key again is fine");
    CHECK(store_server_key_record(s, other, 3, recorded) == STORE_CONFLICT && !strcmp(recorded, mine),
          "another key is refused, with the recorded one");
    CHECK(store_server_key_get(s, recorded, &has_accounts) == STORE_OK && !strcmp(recorded, mine), "read back");
}

int main(void)
{
    char path[128];
    snprintf(path, sizeof path, "sqlite:/tmp/boxoffice-test-health-%d.db", (int)getpid());
    store *s = test_store_open(path);
    if (!s) return check_summary();
    test_key_record(s);
    test_full(s);
    return test_finish(NULL, s, path, path);
}
