/* What the unit tests that run on a database share: which database, opening
 * and migrating it, an engine and accounts on it, closing it all and removing
 * a throwaway SQLite file, and counting the write transactions of an idle
 * stretch. */
#ifndef BO_TEST_FIXTURE_H
#define BO_TEST_FIXTURE_H
#include "check.h"
#include "catalog_doc/catalog_doc.h"
#include "core/engine.h"
#include "store/sales.h"
#include "store/store.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* BOXOFFICE_TEST_DB, else a fresh SQLite file for test `name`, written into path. */
static inline const char *test_db_uri(const char *name, char path[128])
{
    const char *uri = getenv("BOXOFFICE_TEST_DB");
    if (uri) return uri;
    snprintf(path, 128, "sqlite:/tmp/boxoffice-test-%s-%d.db", name, (int)getpid());
    return path;
}

/* Opens the database and applies the migrations; NULL when it cannot open. */
static inline store *test_store_open(const char *uri)
{
    char *err = NULL;
    store *s = store_open(uri, &err);
    CHECK(s != NULL, "store opens");
    if (!s) printf("# %s\n", err ? err : "?");
    else CHECK(store_migrate(s, &err) == DB_OK, "migrations apply");
    free(err);
    return s;
}

/* Removes the SQLite files (the database, its analytics file, their WALs) that test_db_uri chose, if it chose one. */
static inline void test_db_remove(const char *uri, const char *path)
{
    if (uri != path) return;
    const char *suffix[] = {"", "-wal", "-shm", "-analytics", "-analytics-wal", "-analytics-shm"};
    for (int i = 0; i < 6; i++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", path + 7, suffix[i]);
        unlink(f);
    }
}

/* A server key whose first byte is `first` (the rest zero). */
static inline void test_server_key(unsigned char first)
{
    unsigned char key[SERVER_KEY_BYTES] = {first};
    secure_set_server_key(key);
}

/* An engine on s as most tests want it: 15-minute holds, no background workers. */
static inline engine *test_engine_open(store *s)
{
    engine_config cfg = {.default_hold_seconds = 900, .catalog_codec = &catalog_doc_json_codec};
    return engine_open(s, &cfg);
}

/* Creates an account named `name` (Europe/Amsterdam, EUR) whose slug is
 * slug_prefix and a random number; true when created. The caller checks it. */
static inline bool test_account(engine *e, const char *slug_prefix, const char *name, account *out)
{
    char slug[32];
    bo_error err;
    snprintf(slug, sizeof slug, "%s%u", slug_prefix, rand_below(1000000000));
    return account_create(e, slug, name, "Europe/Amsterdam", "EUR", out, &err) == BO_OK;
}

/* Writes a catalog object (doc, which it takes) for a; true when stored, else
 * prints the engine's message. */
static inline bool test_catalog_put(engine *e, const account *a, catalog_kind k, json_t *doc)
{
    bo_error err = {0};
    bo_status st = catalog_put_json(e, a, k, NULL, doc, false, NULL, &err);
    if (st != BO_OK) printf("# catalog_put %s: %s\n", catalog_kind_name(k), err.message);
    json_decref(doc);
    return st == BO_OK;
}

/* Closes the engine (may be NULL) and the store, removes the SQLite file
 * test_db_uri chose, and returns check_summary() for main to return. */
static inline int test_finish(engine *e, store *s, const char *uri, const char *path)
{
    engine_close(e);
    store_close(s);
    test_db_remove(uri, path);
    return check_summary();
}

/* prefix-<24 hex digits of a fresh random UUID>: ids no other run uses. */
static inline void test_id(char *out, size_t n, const char *prefix)
{
    char u[37];
    rand_uuid(u);
    snprintf(out, n, "%s-%.24s", prefix, u);
}

/* amount seats of pool at occ; capacity -1 takes the row's own. */
static inline store_hold test_hold(const char *pool, const char *occ, int64_t amount, int64_t capacity)
{
    store_hold h = {.amount = amount, .capacity = capacity};
    snprintf(h.pool_id, sizeof h.pool_id, "%s", pool);
    snprintf(h.occurrence, sizeof h.occurrence, "%s", occ);
    return h;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Write transactions on s over ms milliseconds of doing nothing. */
static inline long writes_while_idle(store *s, int ms)
{
    store_stats before, after;
    store_stats_get(s, &before);
    sleep_ms(ms);
    store_stats_get(s, &after);
    return (long)(after.writes - before.writes);
}
#endif
