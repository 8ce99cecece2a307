/* Flash sale through the engine's C API: N workers race to hold and book
 * tickets for one timeslot of capacity C until it is sold out. Prints holds/s,
 * bookings/s, p50/p99 latency and the final count, and exits non-zero if
 * anything oversold. On SQLite it also measures the raw ceiling in the same
 * run: the same conditional update + insert as bare SQL, one durable commit
 * each, from one C loop.
 *
 * usage: engine-flash-sale [--db URI] [--workers N] [--processes P] [--capacity C]
 * (--processes forks P processes of N workers each; PostgreSQL only, where it
 * shows several servers sharing one database.) */
#include "core/engine.h"
#include "util/secure.h"
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static engine *E;
static account A;
static char PRODUCT[40];
static civil_date DAY;

typedef struct {
    double *lat_ms;
    size_t n, cap;
    long holds, bookings, tickets;
} worker_stats;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *worker(void *arg)
{
    worker_stats *ws = arg;
    for (;;) {
        char order[40];
        cart_record cart;
        bo_error err;
        bool created;
        cart_line line = {PRODUCT, 1};
        cart_request r = {.channel = "bench", .day = DAY, .start_time = 9 * 3600, .end_time = -1, .lines = &line,
                          .nlines = 1, .use_engine_prices = true};
        double t0 = now_ms();
        bo_status st = cart_create(E, &A, &r, &cart, &err);
        if (st == BO_SOLD_OUT) break;
        if (st != BO_OK) {
            fprintf(stderr, "hold failed: %s\n", err.message);
            continue;
        }
        ws->holds++;
        book_request br = {.cart_id = cart.id};
        bo_status booked = order_book(E, &A, &br, order, &created, &err);
        cart_record_free(&cart);
        if (booked != BO_OK) {
            fprintf(stderr, "book failed: %s\n", err.message);
            continue;
        }
        ws->bookings++;
        ws->tickets += line.quantity;
        if (ws->n == ws->cap) {
            ws->cap = ws->cap ? ws->cap * 2 : 1024;
            ws->lat_ms = realloc(ws->lat_ms, ws->cap * sizeof *ws->lat_ms);
        }
        ws->lat_ms[ws->n++] = now_ms() - t0;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool setup_catalog(const char *slug)
{
    bo_error err;
    if (account_by_slug(E, slug, &A) != BO_OK &&
        account_create(E, slug, "Bench", "Europe/Amsterdam", "EUR", &A, &err) != BO_OK)
        return false;
    return true;
}

static json_t *put(catalog_kind k, json_t *doc)
{
    json_t *out = NULL;
    bo_error err;
    if (catalog_put(E, &A, k, NULL, doc, false, &out, &err) != BO_OK) fprintf(stderr, "setup: %s\n", err.message);
    json_decref(doc);
    return out;
}

/* Same work as a booking's hot path, as bare SQL: conditional update of one
 * counter row and an insert, one durable transaction each. */
static double raw_sqlite_ceiling(const char *path, int n)
{
    sqlite3 *db;
    unlink(path);
    if (sqlite3_open(path, &db) != SQLITE_OK) return 0;
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE inv (id INTEGER PRIMARY KEY, used INTEGER, capacity INTEGER);"
                 "CREATE TABLE tix (id INTEGER PRIMARY KEY, barcode TEXT);"
                 "INSERT INTO inv VALUES (1, 0, 1000000000);",
                 NULL, NULL, NULL);
    sqlite3_stmt *upd, *ins;
    sqlite3_prepare_v2(db, "UPDATE inv SET used = used + 1 WHERE id = 1 AND used + 1 <= capacity", -1, &upd, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO tix (barcode) VALUES (?)", -1, &ins, NULL);
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        char code[21];
        rand_digits(code, 20);
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_step(upd);
        sqlite3_reset(upd);
        sqlite3_bind_text(ins, 1, code, -1, SQLITE_TRANSIENT);
        sqlite3_step(ins);
        sqlite3_reset(ins);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double secs = (now_ms() - t0) / 1e3;
    sqlite3_finalize(upd);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    char wal[600];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    return n / secs;
}

typedef struct {
    long holds, bookings, tickets;
    double elapsed_s;
    size_t nlat;
    double lat[]; /* p50, p99 computed per process then merged approximately */
} shared_result;

int main(int argc, char **argv)
{
    const char *uri = NULL;
    int workers = 64, processes = 1;
    long capacity = 10000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) uri = argv[++i];
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc) workers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--processes") && i + 1 < argc) processes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--capacity") && i + 1 < argc) capacity = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--db URI] [--workers N] [--processes P] [--capacity C]\n", argv[0]);
            return 2;
        }
    }
    if (workers < 1 || workers > 1024 || processes < 1 || processes > 16 || capacity < 1) return 2;
    char path[256];
    if (!uri) {
        snprintf(path, sizeof path, "sqlite:/tmp/boxoffice-bench-%d.db", (int)getpid());
        unlink(path + 7);
        uri = path;
    }
    secure_init();
    unsigned char key[SERVER_KEY_BYTES] = {42};
    secure_set_server_key(key);
    char *err = NULL;
    store *st = store_open(uri, &err);
    if (!st || store_migrate(st, &err) != DB_OK) {
        fprintf(stderr, "store: %s\n", err ? err : "?");
        return 1;
    }
    engine_config cfg = {.default_hold_seconds = 900};
    E = engine_open(st, &cfg);
    char slug[32];
    snprintf(slug, sizeof slug, "bench%u", rand_below(1000000));
    if (!setup_catalog(slug)) return 1;
    json_t *sch = put(CAT_SCHEDULE, json_pack("{s:s,s:s,s:i}", "open", "09:00", "close", "10:00", "slot_minutes", 60));
    json_t *cat = put(CAT_CATEGORY, json_pack("{s:s,s:s,s:s}", "name", "Flash", "flow", "dated", "schedule_id",
                                              json_string_value(json_object_get(sch, "id"))));
    json_t *pool = put(CAT_POOL, json_pack("{s:I}", "capacity", (json_int_t)capacity));
    json_t *prod = put(CAT_PRODUCT, json_pack("{s:s,s:[s],s:i,s:[{s:i}],s:[{s:s}]}", "name", "Flash ticket",
                                              "category_ids", json_string_value(json_object_get(cat, "id")), "price",
                                              2500, "taxes", "rate_bp", 2100, "pools", "pool_id",
                                              json_string_value(json_object_get(pool, "id"))));
    if (!prod) return 1;
    snprintf(PRODUCT, sizeof PRODUCT, "%s", json_string_value(json_object_get(prod, "id")));
    json_decref(sch);
    json_decref(cat);
    json_decref(pool);
    json_decref(prod);
    int32_t secs;
    tz_instant_to_local(A.timezone, clock_now(), &DAY, &secs);
    DAY += 1;
    bool sqlite = store_dialect(st) == DB_DIALECT_SQLITE;
    if (sqlite) processes = 1;
    /* results of every process land in shared memory */
    size_t per_proc_lat = (size_t)capacity + 16;
    size_t shm_size = (size_t)processes * (sizeof(shared_result) + per_proc_lat * sizeof(double));
    unsigned char *shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    engine_close(E);
    store_close(st);
    double t0 = now_ms();
    for (int p = 0; p < processes; p++) {
        pid_t pid = processes > 1 ? fork() : 0;
        if (pid != 0) continue;
        st = store_open(uri, &err);
        E = engine_open(st, &cfg);
        worker_stats *ws = calloc((size_t)workers, sizeof *ws);
        pthread_t *th = calloc((size_t)workers, sizeof *th);
        double start = now_ms();
        for (int i = 0; i < workers; i++) pthread_create(&th[i], NULL, worker, &ws[i]);
        for (int i = 0; i < workers; i++) pthread_join(th[i], NULL);
        shared_result *res = (shared_result *)(shm + (size_t)p * (sizeof(shared_result) + per_proc_lat * sizeof(double)));
        res->elapsed_s = (now_ms() - start) / 1e3;
        for (int i = 0; i < workers; i++) {
            res->holds += ws[i].holds;
            res->bookings += ws[i].bookings;
            res->tickets += ws[i].tickets;
            for (size_t k = 0; k < ws[i].n && res->nlat < per_proc_lat; k++) res->lat[res->nlat++] = ws[i].lat_ms[k];
            free(ws[i].lat_ms);
        }
        free(ws);
        free(th);
        engine_close(E);
        store_close(st);
        if (processes > 1) _exit(0);
    }
    if (processes > 1)
        while (wait(NULL) > 0) {}
    double elapsed = (now_ms() - t0) / 1e3;
    long holds = 0, bookings = 0, tickets = 0;
    size_t nlat = 0;
    double *lat = malloc((size_t)processes * per_proc_lat * sizeof *lat);
    for (int p = 0; p < processes; p++) {
        shared_result *res = (shared_result *)(shm + (size_t)p * (sizeof(shared_result) + per_proc_lat * sizeof(double)));
        holds += res->holds;
        bookings += res->bookings;
        tickets += res->tickets;
        memcpy(lat + nlat, res->lat, res->nlat * sizeof *lat);
        nlat += res->nlat;
    }
    qsort(lat, nlat, sizeof *lat, cmp_double);
    /* the database's own count is the verdict */
    st = store_open(uri, &err);
    E = engine_open(st, &cfg);
    slot *slots;
    size_t ns;
    bo_error berr;
    int64_t left = -1;
    if (availability_product(E, &A, PRODUCT, NULL, DAY, DAY + 1, &slots, &ns, &berr) == BO_OK && ns > 0) {
        left = slots[0].available;
        free(slots);
    }
    printf("engine flash sale: %s, %d process(es) x %d workers, capacity %ld\n", sqlite ? "sqlite" : "postgresql",
           processes, workers, capacity);
    printf("  holds/s      %.0f\n", holds / elapsed);
    printf("  bookings/s   %.0f\n", bookings / elapsed);
    printf("  latency p50  %.2f ms (hold + book)\n", nlat ? lat[nlat / 2] : 0.0);
    printf("  latency p99  %.2f ms\n", nlat ? lat[(size_t)(nlat * 0.99)] : 0.0);
    printf("  sold %ld tickets in %ld bookings, %lld left, %.2f s\n", tickets, bookings, (long long)left, elapsed);
    int rc = 0;
    if (tickets > capacity || left < 0 || tickets + left != capacity) {
        printf("  OVERSOLD or inconsistent: sold %ld + left %lld != capacity %ld\n", tickets, (long long)left, capacity);
        rc = 1;
    }
    if (sqlite) {
        double raw = raw_sqlite_ceiling("/tmp/boxoffice-bench-raw.db", (int)(capacity < 20000 ? capacity : 20000));
        printf("  raw sqlite ceiling (update+insert, one fsync'd commit each): %.0f tx/s\n", raw);
        printf("  engine / raw: %.0f%%\n", raw > 0 ? 100.0 * (bookings / elapsed) / raw : 0.0);
    }
    engine_close(E);
    store_close(st);
    if (uri == path) unlink(path + 7);
    free(lat);
    return rc;
}
