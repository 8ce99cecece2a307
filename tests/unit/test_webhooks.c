/* The webhook delivery worker, on the database named by BOXOFFICE_TEST_DB
 * (default: a fresh SQLite file): an idle worker runs no write transaction; a
 * commit that records a delivery wakes it at once; a commit made through
 * another store (as another server process would) wakes it through LISTEN on
 * PostgreSQL and through the safety recheck on SQLite; events_wanted's cache
 * follows this process's subscription changes at once.
 * Deliveries go to a closed port: each attempt fails at once and is recorded,
 * which is all these tests observe. */
#include "fixture.h"
#include "core/internal.h"
#include "core/webhooks.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEAD_URL "http://127.0.0.1:1/hook"

static store *ST;
static engine *E;
static account A;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
    const char *object_id;
    change_event ev;
} record_ctx;

static db_status record_event(db_conn *c, void *arg)
{
    record_ctx *x = arg;
    return events_record(c, A.id, x->ev, x->object_id, NULL);
}

static db_status ask_wanted(db_conn *c, void *arg) { return events_wanted(c, A.id, arg); }

/* What a booking's transaction would be told. */
static bool wanted_now(void)
{
    bool any = false;
    return store_write(ST, ask_wanted, &any) == DB_OK && any;
}

/* Deliveries of the subscription attempted at least once. */
static int attempted(const char *sub_id)
{
    json_t *list = NULL;
    int n = 0;
    if (webhook_deliveries_list(E, &A, sub_id, &list) != BO_OK) return 0;
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) n += jint(d, "attempts", 0) >= 1;
    json_decref(list);
    return n;
}

/* Seconds until n deliveries of the subscription were attempted, or -1
 * after timeout_s. */
static double attempted_after(const char *sub_id, int n, double timeout_s)
{
    double t0 = now_s();
    while (now_s() - t0 < timeout_s) {
        if (attempted(sub_id) >= n) return now_s() - t0;
        sleep_ms(10);
    }
    return -1;
}

static void test_idle(void)
{
    sleep_ms(300); /* the worker's first look */
    CHECK(writes_while_idle(ST, 1500) == 0, "an idle worker runs no write transaction");
}

static void test_wake_and_cache(const char *uri)
{
    CHECK(!wanted_now(), "events_wanted: no subscription yet");
    json_t *events = json_pack("[s]", "EVENT.UPDATED"), *sub = NULL;
    bo_error err;
    CHECK(webhook_subscription_create(E, &A, DEAD_URL, events, NULL, &sub, &err) == BO_OK, "subscription created");
    json_decref(events);
    if (!sub) return;
    char sub_id[48];
    snprintf(sub_id, sizeof sub_id, "%s", jstr(sub, "id"));
    json_decref(sub);
    CHECK(wanted_now(), "events_wanted sees this process's new subscription at once");

    /* in this process: the commit hook */
    record_ctx x = {.object_id = "ev_local", .ev = EV_EVENT_UPDATED};
    CHECK(store_write(ST, record_event, &x) == DB_OK, "event recorded");
    double t = attempted_after(sub_id, 1, 5);
    printf("# local commit to attempt: %.3f s\n", t);
    CHECK(t >= 0 && t < 0.5, "a commit that records a delivery wakes the worker at once");
    sleep_ms(200); /* the attempt's record */
    CHECK(writes_while_idle(ST, 1500) == 0, "with only a retry due later the worker stays idle");

    /* another store on the same database, as a second server process: no
     * hook of ours runs, so only LISTEN (PostgreSQL) or the recheck wake us */
    char *e2 = NULL;
    store *other = store_open(uri, &e2);
    CHECK(other != NULL, "a second store opens");
    if (other) {
        x.object_id = "ev_remote";
        CHECK(store_write(other, record_event, &x) == DB_OK, "event recorded through the second store");
        bool pg = store_dialect(ST) == DB_DIALECT_POSTGRES;
        double t2 = attempted_after(sub_id, 2, 8);
        printf("# other store's commit to attempt: %.3f s\n", t2);
        if (pg) CHECK(t2 >= 0 && t2 < 1.0, "PostgreSQL: another process's commit wakes the worker (LISTEN)");
        else CHECK(t2 >= 0 && t2 < 7.0, "SQLite: another process's delivery is picked up by the recheck");
        store_close(other);
    }
    free(e2);

    CHECK(webhook_subscription_delete(E, &A, sub_id, &err) == BO_OK, "subscription deleted");
    CHECK(!wanted_now(), "events_wanted sees the deletion at once");
}

int main(void)
{
    secure_init();
    unsigned char key[SERVER_KEY_BYTES] = {7};
    secure_set_server_key(key);
    char path[128];
    const char *uri = test_db_uri("webhooks", path);
    ST = test_store_open(uri);
    if (!ST) return check_summary();
    engine_config cfg = {.default_hold_seconds = 900, .start_workers = true}; /* no reaper (test_reaper covers it) */
    E = engine_open(ST, &cfg);
    char slug[32];
    bo_error berr;
    snprintf(slug, sizeof slug, "w%u", rand_below(1000000000));
    CHECK(account_create(E, slug, "Hooks", "Europe/Amsterdam", "EUR", &A, &berr) == BO_OK, "account created");
    test_idle();
    test_wake_and_cache(uri);
    engine_close(E);
    store_close(ST);
    test_db_remove(uri, path);
    return check_summary();
}
