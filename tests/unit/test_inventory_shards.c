/* Hot pools spread over sub-rows (issue 10), on the database named by
 * BOXOFFICE_TEST_DB (default: a fresh SQLite file, where a pool keeps one
 * row): 64 threads hold, release and sell random amounts of one pool of 100
 * spread over 8 rows. While they run, a reader checks that what is used never
 * exceeds the capacity; at every quiescent point (all threads joined) what is
 * used equals what the threads were told they hold plus what they sold, every
 * sub-row lies within 0..its capacity, the capacities still sum to 100, and a
 * hold of exactly what is left succeeds even when it spans sub-rows. */
#include "fixture.h"
#include "store/sales.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define THREADS 64
#define ROUNDS 3
#define OPS_PER_ROUND 12
#define CAPACITY 100
#define SHARDS 8
#define POOL "hot-pool"
#define OCCURRENCE "2030-01-01T09:00"

static store *S;
static account A;
static instant_us NOW;
static atomic_long HELD, SOLD;   /* seats the threads were told they hold / sold */
static atomic_long OVER_CAPACITY; /* readings above capacity */
static atomic_bool RACING;

static void cart_of(store_cart *c, const char *id)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->account_id, sizeof c->account_id, "%s", A.id);
    snprintf(c->channel, sizeof c->channel, "test");
    snprintf(c->occurrence, sizeof c->occurrence, OCCURRENCE);
    snprintf(c->currency, sizeof c->currency, "EUR");
    c->day = -1;
    c->start_time = c->end_time = -1;
    c->expires_at = NOW + 3600LL * 1000000; /* no reaper runs here, and none of them expires */
    c->created_at = c->updated_at = NOW;
    c->extras = "{}";
}

static store_status hold(const char *cart_id, int64_t amount)
{
    store_cart c;
    cart_of(&c, cart_id);
    store_hold h = {.amount = amount, .capacity = CAPACITY};
    snprintf(h.pool_id, sizeof h.pool_id, POOL);
    snprintf(h.occurrence, sizeof h.occurrence, OCCURRENCE);
    return store_cart_create(S, &c, &h, 1);
}

typedef struct {
    const char *cart_id;
    store_status out;
} sell_op;

/* The booking's first step: the cart's seats stay used, now sold. */
static db_status sell_fn(db_conn *c, void *arg)
{
    sell_op *op = arg;
    store_cart cart;
    bool was_expired = false;
    char order_id[40];
    time_uuid(order_id);
    op->out = store_cart_claim(c, A.id, op->cart_id, order_id, NOW, &cart, &was_expired);
    store_cart_free(&cart);
    return store_db_status(op->out);
}

static store_status sell(const char *cart_id)
{
    sell_op op = {cart_id, STORE_ERROR};
    db_status st = store_write(S, sell_fn, &op);
    return st == DB_OK ? STORE_OK : op.out != STORE_OK ? op.out : store_status_of(st);
}

static void count_used(void *ctx, const char *occurrence, int64_t used)
{
    if (!strcmp(occurrence, OCCURRENCE)) *(int64_t *)ctx += used;
}

static int64_t used_now(void)
{
    int64_t used = 0;
    return store_inventory_used(S, A.id, POOL, NULL, NULL, count_used, &used) == STORE_OK ? used : -1;
}

/* Each thread's open carts, kept across rounds so that holds stay held at
 * the quiescent points. */
typedef struct {
    char id[ROUNDS * OPS_PER_ROUND][40];
    int64_t amount[ROUNDS * OPS_PER_ROUND];
    int n;
} open_carts;

typedef struct {
    int thread, round;
    open_carts *open;
    long failures; /* outcomes other than OK and SOLD_OUT */
} worker_ctx;

/* Holds half the time, releases most of the rest, sells now and then, so
 * the pool is neither always empty nor sold out within the first round. */
static void *worker(void *arg)
{
    worker_ctx *w = arg;
    open_carts *o = w->open;
    unsigned seed = (unsigned)(w->thread * 7919 + w->round * 104729);
    for (int op = 0; op < OPS_PER_ROUND; op++) {
        int pick = rand_r(&seed) % 20;
        if (pick < 10 || o->n == 0) {
            char id[40];
            time_uuid(id); /* cart ids are unique across accounts and runs */
            int64_t amount = 1 + rand_r(&seed) % 3;
            store_status st = hold(id, amount);
            if (st == STORE_OK) {
                atomic_fetch_add(&HELD, amount);
                memcpy(o->id[o->n], id, sizeof id);
                o->amount[o->n++] = amount;
            } else if (st != STORE_SOLD_OUT) {
                printf("# hold of %lld: status %d\n", (long long)amount, st);
                w->failures++;
            }
            continue;
        }
        bool selling = pick == 19;
        int k = rand_r(&seed) % o->n;
        store_status st = selling ? sell(o->id[k]) : store_cart_release(S, A.id, o->id[k], NOW);
        if (st != STORE_OK) {
            printf("# %s: status %d\n", selling ? "sale" : "release", st);
            w->failures++;
            continue;
        }
        atomic_fetch_sub(&HELD, o->amount[k]);
        if (selling) atomic_fetch_add(&SOLD, o->amount[k]);
        memmove(o->id[k], o->id[o->n - 1], sizeof o->id[k]);
        o->amount[k] = o->amount[--o->n];
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    while (atomic_load(&RACING)) {
        int64_t used = used_now();
        if (used > CAPACITY) atomic_fetch_add(&OVER_CAPACITY, 1);
    }
    return NULL;
}

typedef struct {
    long rows, bad_rows;
    int64_t capacity;
} rows_probe;

static db_status rows_fn(db_conn *c, void *arg)
{
    rows_probe *p = arg;
    db_rows *r;
    db_status st = db_query(c, "SELECT capacity, used FROM inventory WHERE account_id = ? AND pool_id = ?"
                               " AND occurrence = ?",
                            DB_ARGS(DB_TEXT(A.id), DB_TEXT(POOL), DB_TEXT(OCCURRENCE)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        int64_t capacity = db_int(r, 0), used = db_int(r, 1);
        p->rows++;
        p->capacity += capacity;
        if (used < 0 || used > capacity) p->bad_rows++;
    }
    db_rows_free(r);
    return DB_OK;
}

/* A cart holding many pools with long ids: the functions' array arguments
 * outgrow their inline buffer (sales.c) and must still name every pool. */
static void test_many_pools(void)
{
    enum { POOLS = 9 };
    store_hold h[POOLS];
    for (int i = 0; i < POOLS; i++) {
        memset(&h[i], 0, sizeof h[i]);
        snprintf(h[i].pool_id, sizeof h[i].pool_id, "pool-with-a-long-name-\"quoted\"-and\\-%02d", i);
        snprintf(h[i].occurrence, sizeof h[i].occurrence, OCCURRENCE);
        h[i].amount = i + 1;
        h[i].capacity = 20;
    }
    store_cart c;
    char id[40];
    time_uuid(id);
    cart_of(&c, id);
    CHECK(store_cart_create(S, &c, h, POOLS) == STORE_OK, "many pools: one cart holds all nine");
    bool all = true;
    for (int i = 0; i < POOLS; i++) {
        int64_t used = 0;
        all &= store_inventory_used(S, A.id, h[i].pool_id, NULL, NULL, count_used, &used) == STORE_OK &&
               used == i + 1;
    }
    CHECK(all, "many pools: each pool, quotes and backslashes in its id, holds its own amount");
    CHECK(store_cart_release(S, A.id, id, NOW) == STORE_OK, "many pools: released");
    for (int i = 0; i < POOLS; i++) {
        int64_t used = 0;
        all &= store_inventory_used(S, A.id, h[i].pool_id, NULL, NULL, count_used, &used) == STORE_OK && used == 0;
    }
    CHECK(all, "many pools: every pool given back");
}

int main(void)
{
    test_server_key(11);
    char path[128];
    const char *uri = test_db_uri("inventory-shards", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    store_set_inventory_shards(S, SHARDS);
    engine *e = test_engine_open(S);
    CHECK(test_account(e, "sh", "Shards", &A), "account");
    NOW = clock_now();
    bool postgres = store_dialect(S) == DB_DIALECT_POSTGRES;
    static open_carts open[THREADS];

    test_many_pools();
    for (int round = 0; round < ROUNDS; round++) {
        atomic_store(&RACING, true);
        pthread_t r, th[THREADS];
        worker_ctx w[THREADS];
        pthread_create(&r, NULL, reader, NULL);
        for (int i = 0; i < THREADS; i++) {
            w[i] = (worker_ctx){.thread = i, .round = round, .open = &open[i]};
            pthread_create(&th[i], NULL, worker, &w[i]);
        }
        long failures = 0;
        for (int i = 0; i < THREADS; i++) {
            pthread_join(th[i], NULL);
            failures += w[i].failures;
        }
        atomic_store(&RACING, false);
        pthread_join(r, NULL);

        long held = atomic_load(&HELD), sold = atomic_load(&SOLD);
        int64_t used = used_now();
        printf("# round %d: held %ld, sold %ld, used %lld\n", round, held, sold, (long long)used);
        CHECK(failures == 0, "round: every release and sale of an open cart succeeds, holds are OK or SOLD_OUT");
        CHECK(held + sold <= CAPACITY, "round: sold + held never exceeds the capacity");
        CHECK(atomic_load(&OVER_CAPACITY) == 0, "round: used never read above the capacity while racing");
        CHECK(used == held + sold, "round: availability equals capacity - sold - held at the quiescent point");
        rows_probe p = {0};
        CHECK(store_read(S, rows_fn, &p) == DB_OK && p.bad_rows == 0 && p.capacity == CAPACITY,
              "round: every sub-row within 0..its capacity; capacities sum to the pool's");
        CHECK(p.rows == (postgres ? SHARDS : 1), "round: the pool occurrence has its sub-rows (one on SQLite)");

        /* what is left can be held in one go, however it is spread over the sub-rows */
        int64_t left = CAPACITY - used;
        if (left > 0) {
            char id[40], one_more[40];
            time_uuid(id);
            time_uuid(one_more);
            CHECK(hold(id, left) == STORE_OK && used_now() == CAPACITY, "round: a hold of exactly what is left");
            CHECK(hold(one_more, 1) == STORE_SOLD_OUT, "round: then one more is sold out");
            CHECK(store_cart_release(S, A.id, id, NOW) == STORE_OK && used_now() == used,
                  "round: released, the same seats are free again");
        }
    }
    return test_finish(e, S, uri, path);
}
