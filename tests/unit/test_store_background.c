/* store_write_background and store_write_analytics on the database named by
 * BOXOFFICE_TEST_DB (default: a fresh SQLite file): a background write
 * commits like store_write, and on SQLite a foreground write queued after it
 * still runs first, so background work never sits in front of a booking; an
 * analytics write commits while a foreground write holds the writer, so a
 * booking never waits for one, nor one for a booking. */
#include "fixture.h"
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static char order[16]; /* the jobs' letters in the order the writer ran them */

static db_status insert_fn(db_conn *c, void *ctx)
{
    const char *letter = ctx;
    pthread_mutex_lock(&order_lock);
    strncat(order, letter, sizeof order - strlen(order) - 1);
    pthread_mutex_unlock(&order_lock);
    if (!strcmp(letter, "1")) sleep_ms(200); /* holds the writer while the others queue */
    return db_exec(c, "INSERT INTO bg_probe (letter) VALUES (?)", DB_ARGS(DB_TEXT(letter)), NULL);
}

/* The writer's job that waits, up to 5 s, for the test to post `released`. */
static sem_t released;
static bool released_in_time;

static db_status hold_fn(db_conn *c, void *ctx)
{
    (void)c, (void)ctx;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int rc;
    while ((rc = sem_timedwait(&released, &until)) != 0 && errno == EINTR) {}
    released_in_time = rc == 0;
    return DB_OK;
}


static db_status rate_fn(db_conn *c, void *ctx)
{
    return db_exec(c, "INSERT INTO analytics_rates (key, window_start, count) VALUES (?, 0, 1)",
                   DB_ARGS(DB_TEXT(ctx)), NULL);
}

static db_status rate_count_fn(db_conn *c, void *ctx)
{
    return db_query_int(c, "SELECT COUNT(*) FROM analytics_rates WHERE key = 'bg-probe'", DB_NOARGS, ctx);
}

static db_status rate_drop_fn(db_conn *c, void *ctx)
{
    (void)ctx;
    return db_exec(c, "DELETE FROM analytics_rates WHERE key = 'bg-probe'", DB_NOARGS, NULL);
}

static db_status create_fn(db_conn *c, void *ctx)
{
    (void)ctx;
    return db_exec(c, "CREATE TABLE IF NOT EXISTS bg_probe (letter TEXT NOT NULL)", DB_NOARGS, NULL);
}

static db_status drop_fn(db_conn *c, void *ctx)
{
    (void)ctx;
    return db_exec(c, "DROP TABLE bg_probe", DB_NOARGS, NULL);
}

static db_status count_fn(db_conn *c, void *ctx)
{
    return db_query_int(c, "SELECT COUNT(*) FROM bg_probe", DB_NOARGS, ctx);
}

typedef struct {
    store *st;
    const char *letter;
    bool background;
    db_status status;
} job;

static void *hold_writer(void *arg)
{
    job *j = arg;
    j->status = store_write(j->st, hold_fn, NULL);
    return NULL;
}

static void *run(void *arg)
{
    job *j = arg;
    j->status = j->background ? store_write_background(j->st, insert_fn, (void *)j->letter)
                              : store_write(j->st, insert_fn, (void *)j->letter);
    return NULL;
}

int main(void)
{
    char path[128];
    const char *uri = test_db_uri("background", path);
    store *st = test_store_open(uri);
    if (!st) return check_summary();
    CHECK(store_write(st, create_fn, NULL) == DB_OK, "probe table created");

    int64_t n = 0;
    CHECK(store_write_background(st, insert_fn, "0") == DB_OK, "a background write commits");
    CHECK(store_read(st, count_fn, &n) == DB_OK && n == 1, "and a read sees it at once");

    /* "1" holds the writer; then background "b" queues, then foreground "f" */
    order[0] = 0;
    job jobs[] = {{st, "1", false, DB_ERROR}, {st, "b", true, DB_ERROR}, {st, "f", false, DB_ERROR}};
    pthread_t threads[3];
    for (int i = 0; i < 3; i++) {
        pthread_create(&threads[i], NULL, run, &jobs[i]);
        sleep_ms(50);
    }
    for (int i = 0; i < 3; i++) pthread_join(threads[i], NULL);
    CHECK(jobs[0].status == DB_OK && jobs[1].status == DB_OK && jobs[2].status == DB_OK, "all three commit");
    CHECK(store_read(st, count_fn, &n) == DB_OK && n == 4, "four rows");
    if (store_dialect(st) == DB_DIALECT_SQLITE)
        CHECK(!strcmp(order, "1fb"), "the foreground write queued later ran before the background one");
    else
        CHECK(strlen(order) == 3, "PostgreSQL runs them side by side, in no set order");
    printf("# order the writer ran them: %s\n", order);

    /* the writer held by a foreground write until the analytics write returns */
    sem_init(&released, 0, 0);
    job hold = {st, "h", false, DB_ERROR};
    pthread_t holder;
    pthread_create(&holder, NULL, hold_writer, &hold);
    sleep_ms(50);
    CHECK(store_write_analytics(st, rate_fn, "bg-probe") == DB_OK, "an analytics write commits");
    sem_post(&released);
    pthread_join(holder, NULL);
    CHECK(hold.status == DB_OK && released_in_time, "while a foreground write held the writer");
    CHECK(store_read(st, rate_count_fn, &n) == DB_OK && n == 1, "and a read sees it");
    CHECK(store_write_analytics(st, rate_fn, "bg-probe") == DB_CONFLICT, "a failed analytics write says why");
    CHECK(store_write_analytics(st, rate_drop_fn, NULL) == DB_OK, "analytics probe rows deleted");
    sem_destroy(&released);
    CHECK(store_write(st, drop_fn, NULL) == DB_OK, "probe table dropped");
    return test_finish(NULL, st, uri, path);
}
