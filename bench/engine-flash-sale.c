/* Flash sale through the engine's C API: N workers race to hold and book
 * tickets for one timeslot of capacity C until it is sold out. Prints holds/s,
 * bookings/s, p50/p99 latency and the final count, and exits non-zero if
 * anything oversold. It also prints what the engine costs: heap allocations
 * per ticket sold during the race (malloc & co. are interposed below), and the
 * SQL statements and transactions of one sequential 1-ticket cart + booking
 * (db_stats_get, store_stats_get). On SQLite it also measures two raw
 * references in the same run: the same conditional update + insert as bare
 * SQL from one C loop, one durable commit each, and batched BATCH per durable
 * commit as group commit does.
 *
 * usage: engine-flash-sale [--db URI] [--workers N] [--processes P] [--capacity C]
 *                          [--tickets-per-booking Q]
 * (--processes forks P processes of N workers each; PostgreSQL only, where it
 * shows several servers sharing one database.) */
#include "catalog_doc/catalog_doc.h"
#include "core/engine.h"
#include "util/secure.h"
#include <errno.h>
#include <malloc.h>
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
static int64_t QUANTITY = 1; /* tickets per booking */

/* Allocation counter. glibc 2.36 has no malloc hooks, so this executable
 * defines the allocation functions itself and forwards to glibc's exported
 * implementations; the shared libraries (sqlite, jansson, libpq, glib) and
 * libc's own strdup etc. resolve to these definitions, so their allocations
 * count too. Only the count is kept (relaxed atomic); the memory is glibc's. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
static atomic_ulong ALLOCS, REALLOCS;

static inline void count_alloc(atomic_ulong *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }
void *malloc(size_t n)
{
    count_alloc(&ALLOCS);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    count_alloc(&ALLOCS);
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    count_alloc(p ? &REALLOCS : &ALLOCS);
    return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
void *memalign(size_t align, size_t n)
{
    count_alloc(&ALLOCS);
    return __libc_memalign(align, n);
}
void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    void *p = memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

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
        cart_line line = {PRODUCT, QUANTITY};
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
    if (catalog_put_json(E, &A, k, NULL, doc, false, &out, &err) != BO_OK) fprintf(stderr, "setup: %s\n", err.message);
    json_decref(doc);
    return out;
}

/* Same work as a booking's hot path, as bare SQL: conditional update of one
 * counter row and an insert, `batch` of them per durable transaction (1: one
 * commit each; more: what group commit at best achieves). */
static double raw_sqlite_ceiling(const char *path, int n, int batch)
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
        if (i % batch == 0) sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_step(upd);
        sqlite3_reset(upd);
        sqlite3_bind_text(ins, 1, code, -1, SQLITE_TRANSIENT);
        sqlite3_step(ins);
        sqlite3_reset(ins);
        if ((i + 1) % batch == 0 || i == n - 1) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
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

/* One cart + booking of `quantity` tickets of PRODUCT on `day`, sequentially. */
static bool cart_and_book(civil_date day, int64_t quantity)
{
    char order[40];
    cart_record cart;
    bo_error err;
    bool created;
    cart_line line = {PRODUCT, quantity};
    cart_request r = {.channel = "bench", .day = day, .start_time = 9 * 3600, .end_time = -1, .lines = &line,
                      .nlines = 1, .use_engine_prices = true};
    if (cart_create(E, &A, &r, &cart, &err) == BO_OK) {
        book_request br = {.cart_id = cart.id};
        bo_status st = order_book(E, &A, &br, order, &created, &err);
        cart_record_free(&cart);
        if (st == BO_OK) return true;
    }
    fprintf(stderr, "sequential cart + booking failed: %s\n", err.message);
    return false;
}

typedef struct {
    db_stats db;
    store_stats tx;
} sql_counts;

static sql_counts sql_counts_now(void)
{
    sql_counts c;
    db_stats_get(&c.db);
    store_stats_get(engine_store(E), &c.tx);
    return c;
}

static sql_counts sql_counts_since(sql_counts before)
{
    sql_counts c = sql_counts_now();
    c.db.reads -= before.db.reads;
    c.db.writes -= before.db.writes;
    c.db.control -= before.db.control;
    c.tx.reads -= before.tx.reads;
    c.tx.writes -= before.tx.writes;
    return c;
}

typedef struct {
    long holds, bookings, tickets;
    unsigned long allocs, reallocs; /* during the race */
    sql_counts sql;                 /* during the race */
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
        else if (!strcmp(argv[i], "--tickets-per-booking") && i + 1 < argc) QUANTITY = atol(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--db URI] [--workers N] [--processes P] [--capacity C] [--tickets-per-booking Q]\n",
                    argv[0]);
            return 2;
        }
    }
    if (workers < 1 || workers > 1024 || processes < 1 || processes > 16 || capacity < 1 || QUANTITY < 1 ||
        QUANTITY > capacity)
        return 2;
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
    engine_config cfg = {.default_hold_seconds = 900, .catalog_codec = &catalog_doc_json_codec};
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
    /* SQL of one 1-ticket cart + booking, sequential, on the next day's
     * timeslot (its own inventory row, so the race below is untouched). The
     * first one on that timeslot warms caches and creates rows; the second is
     * measured. */
    if (!cart_and_book(DAY + 1, 1)) return 1;
    sql_counts one = sql_counts_now();
    if (!cart_and_book(DAY + 1, 1)) return 1;
    one = sql_counts_since(one);
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
        for (int i = 0; i < workers; i++) { /* no reallocs of the bench's own during the race */
            ws[i].cap = (size_t)(capacity / QUANTITY) + 1;
            ws[i].lat_ms = malloc(ws[i].cap * sizeof *ws[i].lat_ms);
        }
        unsigned long allocs0 = atomic_load(&ALLOCS), reallocs0 = atomic_load(&REALLOCS);
        sql_counts sql0 = sql_counts_now();
        double start = now_ms();
        for (int i = 0; i < workers; i++) pthread_create(&th[i], NULL, worker, &ws[i]);
        for (int i = 0; i < workers; i++) pthread_join(th[i], NULL);
        shared_result *res = (shared_result *)(shm + (size_t)p * (sizeof(shared_result) + per_proc_lat * sizeof(double)));
        res->elapsed_s = (now_ms() - start) / 1e3;
        res->allocs = atomic_load(&ALLOCS) - allocs0;
        res->reallocs = atomic_load(&REALLOCS) - reallocs0;
        res->sql = sql_counts_since(sql0);
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
    unsigned long allocs = 0, reallocs = 0;
    sql_counts race = {0};
    size_t nlat = 0;
    double *lat = malloc((size_t)processes * per_proc_lat * sizeof *lat);
    for (int p = 0; p < processes; p++) {
        shared_result *res = (shared_result *)(shm + (size_t)p * (sizeof(shared_result) + per_proc_lat * sizeof(double)));
        holds += res->holds;
        bookings += res->bookings;
        tickets += res->tickets;
        allocs += res->allocs;
        reallocs += res->reallocs;
        race.db.reads += res->sql.db.reads;
        race.db.writes += res->sql.db.writes;
        race.db.control += res->sql.db.control;
        race.tx.reads += res->sql.tx.reads;
        race.tx.writes += res->sql.tx.writes;
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
    printf("engine flash sale: %s, %d process(es) x %d workers, capacity %ld, %lld ticket(s) per booking\n",
           sqlite ? "sqlite" : "postgresql", processes, workers, capacity, (long long)QUANTITY);
    printf("  holds/s      %.0f\n", holds / elapsed);
    printf("  bookings/s   %.0f\n", bookings / elapsed);
    printf("  latency p50  %.2f ms (hold + book)\n", nlat ? lat[nlat / 2] : 0.0);
    printf("  latency p99  %.2f ms\n", nlat ? lat[(size_t)(nlat * 0.99)] : 0.0);
    printf("  sold %ld tickets in %ld bookings, %lld left, %.2f s\n", tickets, bookings, (long long)left, elapsed);
    double per_booking = bookings ? 1.0 / bookings : 0;
    printf("  allocations per ticket  %.0f (malloc/calloc/memalign/realloc(NULL) in the race / tickets sold; "
           "plus %.1f reallocs)\n",
           tickets ? (double)allocs / tickets : 0.0, tickets ? (double)reallocs / tickets : 0.0);
    printf("  SQL per 1-ticket cart+booking: %llu statements in %llu transactions (%llu writing); "
           "%llu reads + %llu writes, plus %llu BEGIN/COMMIT/SAVEPOINT/RELEASE\n",
           (unsigned long long)(one.db.reads + one.db.writes), (unsigned long long)(one.tx.reads + one.tx.writes),
           (unsigned long long)one.tx.writes, (unsigned long long)one.db.reads, (unsigned long long)one.db.writes,
           (unsigned long long)one.db.control);
    printf("  SQL per booking in the race: %.1f statements (%.1f reads + %.1f writes) in %.1f transactions "
           "(%.1f writing), plus %.1f BEGIN/COMMIT/SAVEPOINT/RELEASE\n",
           (race.db.reads + race.db.writes) * per_booking, race.db.reads * per_booking,
           race.db.writes * per_booking, (race.tx.reads + race.tx.writes) * per_booking,
           race.tx.writes * per_booking, race.db.control * per_booking);
    int rc = 0;
    if (tickets > capacity || left < 0 || tickets + left != capacity) {
        printf("  OVERSOLD or inconsistent: sold %ld + left %lld != capacity %ld\n", tickets, (long long)left, capacity);
        rc = 1;
    }
    if (sqlite) {
        enum { BATCH = 32 }; /* about what the writer groups per commit in this race */
        int n = (int)(capacity < 20000 ? capacity : 20000);
        char raw_path[64];
        snprintf(raw_path, sizeof raw_path, "/tmp/boxoffice-bench-raw-%d.db", (int)getpid());
        double raw = raw_sqlite_ceiling(raw_path, n, 1);
        double grouped = raw_sqlite_ceiling(raw_path, n, BATCH);
        printf("  raw sqlite ceiling (update+insert, one fsync'd commit each): %.0f tx/s\n", raw);
        printf("  engine / raw: %.0f%%\n", raw > 0 ? 100.0 * (bookings / elapsed) / raw : 0.0);
        printf("  raw sqlite, group commit (update+insert, batch of %d per fsync'd commit): %.0f tx/s\n", BATCH,
               grouped);
        printf("  engine / raw grouped: %.0f%%\n", grouped > 0 ? 100.0 * (bookings / elapsed) / grouped : 0.0);
    }
    engine_close(E);
    store_close(st);
    if (uri == path) unlink(path + 7);
    free(lat);
    return rc;
}
