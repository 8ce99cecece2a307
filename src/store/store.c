/* Transactions over the two drivers. See store.h for the contract. */
#include "store/store.h"
#include "store/db_pg.h"
#include "store/analytics_store.h"
#include "store/idempotency_store.h"
#include "store/migrations.h"
#include "util/log.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* One retry budget for both databases: a transaction that lost a race
 * (deadlock, serialization failure, optimistic check) runs again this often. */
#define MAX_RETRIES 30
#define GROUP_MAX 1024
/* A background write waits for the foreground queue to empty, but no longer
 * than this: a saturating sale slows background work, never stops it. */
#define BACKGROUND_MAX_WAIT_US 500000
/* One channel for every notifying transaction (store_notify_on_commit). */
#define NOTIFY_CHANNEL "boxoffice_commit"

typedef struct write_job {
    store_fn fn;
    void *ctx;
    db_status status;
    bool done;
    bool notify; /* fn asked to notify on commit */
    bool background; /* store_write_background: acknowledged at commit, no fsync of its own */
    int64_t queued_us;
    struct write_job *next;
} write_job;

/* A stack of idle connections; connections are created on demand. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    db_conn **idle;
    size_t nidle, cap;
    size_t open, max; /* max 0 = unbounded */
} conn_pool;

/* PostgreSQL: a few connections per core serve best; more backends than that
 * only contend for the same cores and the same hot rows, and every process
 * sharing the database brings its own pool, so each stays small: a request
 * waiting for a connection here costs a condition variable, one waiting for a
 * row lock in the server costs a backend. BOXOFFICE_PG_POOL overrides. */
#define PG_CONNECTIONS_PER_CORE 2
#define PG_MIN_CONNECTIONS 2
#define PG_MAX_CONNECTIONS 64
/* A pool occurrence's seats are spread over this many inventory rows
 * (PostgreSQL): holds pick one at random, so that many commits can wait for
 * their fsync at once instead of queueing behind one row lock.
 * BOXOFFICE_PG_INVENTORY_SHARDS overrides (1 turns spreading off). */
#define PG_SHARDS_PER_CORE 8
#define PG_MAX_SHARDS 64

struct store {
    const db_driver *driver;
    char *target;
    conn_pool readers;  /* SQLite: read-only connections; PostgreSQL: every connection */
    /* SQLite group commit: the writer thread owns `writer`; the queue is
     * guarded by qlock. */
    db_conn *writer;
    pthread_t writer_thread;
    pthread_mutex_t qlock;
    pthread_cond_t qcond;    /* jobs queued, or stopping */
    pthread_cond_t donecond; /* some jobs finished */
    write_job *qhead, *qtail;
    write_job *bghead, *bgtail; /* store_write_background's jobs: run when qhead is empty */
    bool stopping;
    /* Pipelined durability: the writer commits with synchronous=NORMAL and
     * hands the batch to the syncer, which fsyncs the WAL and only then
     * acknowledges it, while the writer already runs the next batch. */
    char *wal_path, *analytics_wal_path;
    int wal_fd;
    /* store_write_analytics's own connection (opened at first use), one
     * transaction at a time */
    pthread_mutex_t analytics_lock;
    db_conn *analytics_writer;
    /* Checkpoints run on their own thread and connection, so the writer never
     * copies pages into the database file inside a batch (the writer's
     * automatic checkpoint is off). */
    pthread_t checkpoint_thread;
    pthread_cond_t checkpoint_cond;
    bool checkpoint_wanted, checkpoint_stopping;
    pthread_t syncer_thread;
    pthread_cond_t synccond;
    write_job *shead, *stail;
    bool syncer_stopping;
    /* group-commit figures, reported at close when BOXOFFICE_STORE_STATS is set */
    long batches, jobs;
    double fn_ms, commit_ms;
    atomic_long writes, reads; /* store_write / store_read calls, for store_stats_get */
    /* CLOCK_MONOTONIC µs of the last write refused for lack of room (0: none),
     * for readiness: a small probe may still fit where a booking does not */
    _Atomic int64_t full_at;
    /* the commit hook; hook_lock makes removing it wait for a running call */
    pthread_mutex_t hook_lock;
    store_commit_hook hook;
    void *hook_arg;
    int inventory_shards; /* handed to every connection's header */
    /* the inventory change hook: set once before writes, read without a lock */
    store_change_hook change_hook;
    void *change_arg;
    /* the raw analytics events' log (store/analytics_log.c), NULL: the
     * analytics_events table; set once before writes, read without a lock */
    analytics_log *analytics_log;
};

/* The inventory a connection's open transaction changed (store_inventory_touched). */
typedef struct {
    char account_id[40];
    char occurrence[64];
} store_touch;
struct store_touches {
    store_touch *items;
    size_t n, cap;
};

static bool *notify_flag(db_conn *c) { return &((struct db_conn_header *)c)->notify; }

static struct store_touches *touches_of(db_conn *c) { return ((struct db_conn_header *)c)->touches; }

static void touches_truncate(db_conn *c, size_t n)
{
    if (touches_of(c)) touches_of(c)->n = n;
}

static size_t touches_count(db_conn *c) { return touches_of(c) ? touches_of(c)->n : 0; }

/* Hands a committed transaction's notes to the change hook, then forgets them. */
static void report_touches(store *s, db_conn *c)
{
    struct store_touches *t = touches_of(c);
    if (!t) return;
    if (s->change_hook)
        for (size_t i = 0; i < t->n; i++) s->change_hook(s->change_arg, t->items[i].account_id, t->items[i].occurrence);
    t->n = 0;
}

static void conn_close(store *s, db_conn *c)
{
    struct store_touches *t = touches_of(c);
    if (t) free(t->items);
    free(t);
    s->driver->disconnect(c);
}

static void run_commit_hook(store *s)
{
    pthread_mutex_lock(&s->hook_lock);
    if (s->hook) s->hook(s->hook_arg);
    pthread_mutex_unlock(&s->hook_lock);
}

static db_conn *pool_get(store *s, char **err)
{
    conn_pool *p = &s->readers;
    pthread_mutex_lock(&p->lock);
    while (!p->nidle && p->max && p->open >= p->max) pthread_cond_wait(&p->freed, &p->lock);
    db_conn *c = p->nidle ? p->idle[--p->nidle] : NULL;
    if (!c) p->open++;
    pthread_mutex_unlock(&p->lock);
    if (c) return c;
    c = s->driver->connect(s->target, s->driver->dialect == DB_DIALECT_POSTGRES ? DB_CONN_WRITE : DB_CONN_READ, err);
    if (c) ((struct db_conn_header *)c)->inventory_shards = s->inventory_shards;
    if (!c) {
        pthread_mutex_lock(&p->lock);
        p->open--;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->lock);
    }
    return c;
}

/* pool_get for a transaction: a failure to connect is logged here. */
static db_conn *pool_get_logged(store *s)
{
    char *err = NULL;
    db_conn *c = pool_get(s, &err);
    if (!c) log_error("store: cannot connect: %s", err ? err : "?");
    free(err);
    return c;
}

static void pool_put(store *s, db_conn *c, bool broken)
{
    conn_pool *p = &s->readers;
    if (broken) conn_close(s, c);
    pthread_mutex_lock(&p->lock);
    if (broken) {
        p->open--;
    } else {
        if (p->nidle == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 16;
            p->idle = realloc(p->idle, p->cap * sizeof *p->idle);
        }
        p->idle[p->nidle++] = c;
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

static void backoff(int attempt)
{
    struct timespec ts = {0, (long)(100000 + (attempt * attempt % 50) * 200000)};
    nanosleep(&ts, NULL);
}

store_status store_status_of(db_status st)
{
    switch (st) {
    case DB_OK: return STORE_OK;
    case DB_NOTFOUND: return STORE_NOT_FOUND;
    case DB_CONFLICT:
    case DB_ABORT: return STORE_CONFLICT;
    case DB_RETRY: return STORE_RETRY;
    case DB_FULL: return STORE_FULL;
    case DB_ERROR: break;
    }
    return STORE_ERROR;
}

db_status store_db_status(store_status st)
{
    switch (st) {
    case STORE_OK: return DB_OK;
    case STORE_NOT_FOUND: return DB_NOTFOUND;
    case STORE_CONFLICT: return DB_CONFLICT;
    case STORE_SOLD_OUT: return DB_ABORT;
    case STORE_RETRY: return DB_RETRY;
    case STORE_FULL: return DB_FULL;
    case STORE_ERROR: break;
    }
    return DB_ERROR;
}

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- SQLite group commit ---- */

/* Runs one job of a batch inside the open transaction. With batch-mates it
 * runs in a SAVEPOINT, so its failure undoes only its own work; alone, the
 * transaction itself is the undo (rolled back and begun again). *lost: the
 * savepoint is gone because SQLite rolled the whole transaction back (it may,
 * on SQLITE_FULL or an I/O error), taking the batch-mates' work with it. */
static db_status run_job(db_conn *c, write_job *j, bool alone, bool *lost)
{
    for (int attempt = 0;; attempt++) {
        if (!alone && db_exec(c, "SAVEPOINT job", DB_NOARGS, NULL) != DB_OK) return DB_ERROR;
        *notify_flag(c) = false;
        size_t noted = touches_count(c);
        db_status st = j->fn(c, j->ctx);
        if (st == DB_OK) {
            j->notify = *notify_flag(c);
            if (!alone) db_exec(c, "RELEASE job", DB_NOARGS, NULL);
            return DB_OK;
        }
        touches_truncate(c, noted);
        if (alone) {
            db_exec(c, "ROLLBACK", DB_NOARGS, NULL);
            if (db_exec(c, "BEGIN IMMEDIATE", DB_NOARGS, NULL) != DB_OK) return DB_ERROR;
        } else if (db_exec(c, "ROLLBACK TO job", DB_NOARGS, NULL) != DB_OK) {
            *lost = true;
            return st;
        } else {
            db_exec(c, "RELEASE job", DB_NOARGS, NULL);
        }
        if (st != DB_RETRY || attempt + 1 >= MAX_RETRIES) return st;
    }
}

static void *writer_main(void *arg)
{
    store *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->qlock);
        while (!s->qhead && !s->bghead && !s->stopping) pthread_cond_wait(&s->qcond, &s->qlock);
        if (!s->qhead && !s->bghead && s->stopping) {
            pthread_mutex_unlock(&s->qlock);
            break;
        }
        write_job *batch, *last;
        int n = 1;
        if (s->bghead && (!s->qhead || monotonic_us() - s->bghead->queued_us > BACKGROUND_MAX_WAIT_US)) {
            /* alone: a foreground job never waits on background work inside its own batch */
            batch = last = s->bghead;
            s->bghead = batch->next;
            if (!s->bghead) s->bgtail = NULL;
        } else {
            batch = last = s->qhead;
            while (last->next && n < GROUP_MAX) {
                last = last->next;
                n++;
            }
            s->qhead = last->next;
            if (!s->qhead) s->qtail = NULL;
        }
        last->next = NULL;
        pthread_mutex_unlock(&s->qlock);

        db_status begin = DB_RETRY;
        for (int attempt = 0; attempt < MAX_RETRIES && begin == DB_RETRY; attempt++) {
            begin = db_exec(s->writer, "BEGIN IMMEDIATE", DB_NOARGS, NULL);
            if (begin == DB_RETRY) backoff(attempt);
        }
        if (begin == DB_OK) {
            struct timespec t0, t1, t2;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            for (write_job *j = batch; j; j = j->next) {
                bool lost = false;
                j->status = run_job(s->writer, j, n == 1, &lost);
                if (!lost) continue;
                /* never let the rest run outside a transaction: each would
                 * commit alone, unsynced, and be answered as failed */
                for (write_job *k = batch; k != j; k = k->next)
                    if (k->status == DB_OK) k->status = j->status == DB_FULL ? DB_FULL : DB_ERROR;
                db_exec(s->writer, "ROLLBACK", DB_NOARGS, NULL);
                touches_truncate(s->writer, 0);
                if (db_exec(s->writer, "BEGIN IMMEDIATE", DB_NOARGS, NULL) == DB_OK) continue;
                for (write_job *k = j->next; k; k = k->next) k->status = DB_ERROR;
                break;
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            db_status commit = db_exec(s->writer, "COMMIT", DB_NOARGS, NULL);
            clock_gettime(CLOCK_MONOTONIC, &t2);
            s->batches++;
            s->jobs += n;
            s->fn_ms += (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
            s->commit_ms += (t2.tv_sec - t1.tv_sec) * 1e3 + (t2.tv_nsec - t1.tv_nsec) / 1e6;
            /* before the syncer acknowledges any job of the batch */
            if (commit == DB_OK) report_touches(s, s->writer);
            touches_truncate(s->writer, 0);
            if (commit != DB_OK) {
                db_exec(s->writer, "ROLLBACK", DB_NOARGS, NULL);
                /* SQLite may roll the whole transaction back on SQLITE_FULL in
                 * one job; then its batch-mates were lost for lack of room too */
                bool full = commit == DB_FULL;
                for (write_job *j = batch; j; j = j->next) full |= j->status == DB_FULL;
                for (write_job *j = batch; j; j = j->next)
                    if (j->status == DB_OK) j->status = full ? DB_FULL : DB_ERROR;
            }
        } else {
            for (write_job *j = batch; j; j = j->next) j->status = DB_ERROR;
        }
        pthread_mutex_lock(&s->qlock);
        if (s->stail) s->stail->next = batch;
        else s->shead = batch;
        s->stail = last;
        pthread_cond_signal(&s->synccond);
        pthread_mutex_unlock(&s->qlock);
    }
    return NULL;
}

#define CHECKPOINT_WAL_BYTES (16L << 20)

static void *checkpoint_main(void *arg)
{
    store *s = arg;
    db_conn *c = NULL;
    pthread_mutex_lock(&s->qlock);
    for (;;) {
        while (!s->checkpoint_wanted && !s->checkpoint_stopping) pthread_cond_wait(&s->checkpoint_cond, &s->qlock);
        if (s->checkpoint_stopping) break;
        s->checkpoint_wanted = false;
        pthread_mutex_unlock(&s->qlock);
        char *err = NULL;
        if (!c) c = s->driver->connect(s->target, DB_CONN_WRITE, &err);
        /* PASSIVE: copies what no reader still needs, never blocks the writer */
        if (!c || db_exec(c, "PRAGMA wal_checkpoint(PASSIVE)", DB_NOARGS, NULL) != DB_OK)
            log_warn("store: checkpoint failed: %s", err ? err : "see above");
        free(err);
        pthread_mutex_lock(&s->qlock);
    }
    pthread_mutex_unlock(&s->qlock);
    if (c) conn_close(s, c);
    return NULL;
}

/* Asks for a checkpoint once the WAL has grown past CHECKPOINT_WAL_BYTES. A
 * WAL file never shrinks (its pages are reused in place, so its fsync changes
 * no file system metadata), so from then on every synced batch asks: the
 * checkpoints stay small and each of their fsyncs short. Rarer, larger ones
 * (every 1 MB of WAL, or every 25-100 ms) halved the bytes written but
 * lengthened the bookings' p99 beside analytics ingest (docs/PERFORMANCE.md,
 * issue 14). The analytics file's WAL is checkpointed by its own writer
 * (store_write_analytics). */
static void checkpoint_if_large(store *s)
{
    struct stat sb;
    if (!(s->wal_fd >= 0 && fstat(s->wal_fd, &sb) == 0 && sb.st_size >= CHECKPOINT_WAL_BYTES)) return;
    pthread_mutex_lock(&s->qlock);
    s->checkpoint_wanted = true;
    pthread_cond_signal(&s->checkpoint_cond);
    pthread_mutex_unlock(&s->qlock);
}

static void *syncer_main(void *arg)
{
    store *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->qlock);
        while (!s->shead && !s->syncer_stopping) pthread_cond_wait(&s->synccond, &s->qlock);
        write_job *jobs = s->shead;
        s->shead = s->stail = NULL;
        bool stop = !jobs && s->syncer_stopping;
        pthread_mutex_unlock(&s->qlock);
        if (stop) break;
        bool any_ok = false, background_ok = false, notify = false;
        /* background jobs alone are not synced: the next durable batch's fsync covers them */
        for (write_job *j = jobs; j; j = j->next) {
            any_ok |= j->status == DB_OK && !j->background;
            background_ok |= j->status == DB_OK && j->background;
        }
        if (any_ok) {
            if (s->wal_fd < 0) s->wal_fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
            /* fdatasync: the WAL's data and its size, which is what a restart reads */
            if (s->wal_fd < 0 || fdatasync(s->wal_fd) != 0) {
                /* committed but maybe not durable: never acknowledge that */
                log_error("store: fsync of %s failed; failing %s", s->wal_path, "the batch");
                for (write_job *j = jobs; j; j = j->next)
                    if (j->status == DB_OK) j->status = DB_ERROR;
            }
        }
        /* read before acknowledging: a job lives on its waiter's stack */
        for (write_job *j = jobs; j; j = j->next) notify |= j->status == DB_OK && j->notify;
        pthread_mutex_lock(&s->qlock);
        for (write_job *j = jobs, *next; j; j = next) {
            next = j->next;
            j->done = true;
        }
        pthread_cond_broadcast(&s->donecond);
        pthread_mutex_unlock(&s->qlock);
        if (notify) run_commit_hook(s);
        if (any_ok || background_ok) checkpoint_if_large(s);
    }
    return NULL;
}

static db_status sqlite_write(store *s, store_fn fn, void *ctx, bool background)
{
    write_job job = {.fn = fn, .ctx = ctx, .background = background, .queued_us = monotonic_us()};
    pthread_mutex_lock(&s->qlock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->qlock);
        return DB_ERROR;
    }
    write_job **head = background ? &s->bghead : &s->qhead, **tail = background ? &s->bgtail : &s->qtail;
    if (*tail) (*tail)->next = &job;
    else *head = &job;
    *tail = &job;
    pthread_cond_signal(&s->qcond);
    while (!job.done) pthread_cond_wait(&s->donecond, &s->qlock);
    pthread_mutex_unlock(&s->qlock);
    return job.status;
}

/* ---- One transaction on one connection ---- */

/* `begin`, fn, COMMIT on c, run again on DB_RETRY a bounded number of times.
 * On PostgreSQL a function that asked to notify does so in the commit. */
static db_status transact(db_conn *c, const char *begin, store_fn fn, void *ctx)
{
    db_status st = DB_ERROR;
    for (int attempt = 0; attempt < MAX_RETRIES; attempt++) {
        *notify_flag(c) = false;
        touches_truncate(c, 0);
        /* BEGIN rides with the transaction's first statement (db_pg.c's pipeline) */
        st = db_exec_deferred(c, begin, DB_NOARGS, DB_CONFLICT, NULL);
        if (st == DB_OK) {
            st = fn(c, ctx);
            /* the server delivers it to every listener when (and only if) this commits */
            if (st == DB_OK && *notify_flag(c) && db_conn_dialect(c) == DB_DIALECT_POSTGRES)
                st = db_exec_deferred(c, "SELECT pg_notify('" NOTIFY_CHANNEL "', '')", DB_NOARGS, DB_CONFLICT, NULL);
            if (st == DB_OK) st = db_exec(c, "COMMIT", DB_NOARGS, NULL);
            else db_exec(c, "ROLLBACK", DB_NOARGS, NULL);
        }
        if (st != DB_RETRY) break;
        db_exec(c, "ROLLBACK", DB_NOARGS, NULL);
        backoff(attempt);
    }
    return st;
}

/* ---- PostgreSQL ---- */

static db_status pg_write(store *s, store_fn fn, void *ctx)
{
    db_conn *c = pool_get_logged(s);
    if (!c) return DB_ERROR;
    db_status st = transact(c, "BEGIN", fn, ctx);
    bool notify = st == DB_OK && *notify_flag(c);
    if (st == DB_OK) report_touches(s, c);
    touches_truncate(c, 0);
    pool_put(s, c, s->driver->dialect == DB_DIALECT_POSTGRES && db_pg_broken(c));
    if (notify) run_commit_hook(s);
    return st;
}

/* ---- SQLite: the analytics file's writer ---- */

/* A transaction on the analytics file alone, on its own connection and the
 * caller's thread. Its deferred BEGIN takes that file's write lock at the
 * first write and never the database's. Committed with synchronous=NORMAL:
 * in the WAL, not fsynced. */
static db_status sqlite_write_analytics(store *s, store_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->analytics_lock);
    char *err = NULL;
    if (!s->analytics_writer) s->analytics_writer = s->driver->connect(s->target, DB_CONN_WRITE_ALL, &err);
    db_status st = DB_ERROR;
    if (!s->analytics_writer) {
        log_error("store: cannot connect for analytics: %s", err ? err : "?");
        free(err);
    } else {
        st = transact(s->analytics_writer, "BEGIN", fn, ctx);
        /* the checkpoint of its WAL too, kept small as the database's is (checkpoint_if_large) */
        struct stat sb;
        if (st == DB_OK && stat(s->analytics_wal_path, &sb) == 0 && sb.st_size >= CHECKPOINT_WAL_BYTES &&
            db_exec(s->analytics_writer, "PRAGMA analytics.wal_checkpoint(PASSIVE)", DB_NOARGS, NULL) != DB_OK)
            log_warn("store: checkpoint of the analytics file failed");
    }
    pthread_mutex_unlock(&s->analytics_lock);
    return st;
}

/* ---- public ---- */

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* An integer setting from the environment, clamped; dflt when unset or not a number. */
static int env_int(const char *name, int dflt, int min, int max)
{
    const char *v = getenv(name);
    char *end;
    long n = v && *v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end) n = dflt;
    return n < min ? min : n > max ? max : (int)n;
}

void store_set_inventory_shards(store *s, int shards)
{
    if (s->driver->dialect == DB_DIALECT_POSTGRES && shards >= 1 && shards <= PG_MAX_SHARDS)
        s->inventory_shards = shards;
    pthread_mutex_lock(&s->readers.lock);
    for (size_t i = 0; i < s->readers.nidle; i++)
        ((struct db_conn_header *)s->readers.idle[i])->inventory_shards = s->inventory_shards;
    pthread_mutex_unlock(&s->readers.lock);
}

store *store_open(const char *uri, char **err)
{
    store *s = calloc(1, sizeof *s);
    s->inventory_shards = 1;
    pthread_mutex_init(&s->readers.lock, NULL);
    pthread_cond_init(&s->readers.freed, NULL);
    pthread_mutex_init(&s->hook_lock, NULL);
    if (strncmp(uri, "sqlite:", 7) == 0) {
        s->driver = &db_driver_sqlite;
        s->target = strdup(uri + 7);
    } else if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
        s->driver = &db_driver_postgres;
        s->target = strdup(uri);
        s->readers.max = (size_t)env_int("BOXOFFICE_PG_POOL", PG_CONNECTIONS_PER_CORE * cores(), PG_MIN_CONNECTIONS,
                                         PG_MAX_CONNECTIONS);
        s->inventory_shards = env_int("BOXOFFICE_PG_INVENTORY_SHARDS", PG_SHARDS_PER_CORE * cores(), 1, PG_MAX_SHARDS);
    } else {
        if (err) *err = strdup("database must be sqlite:PATH or a postgresql:// URI");
        free(s);
        return NULL;
    }
    if (s->driver->dialect == DB_DIALECT_SQLITE) {
        s->writer = s->driver->connect(s->target, DB_CONN_WRITE, err);
        if (!s->writer) {
            free(s->target);
            free(s);
            return NULL;
        }
        pthread_mutex_init(&s->qlock, NULL);
        pthread_mutex_init(&s->analytics_lock, NULL);
        pthread_cond_init(&s->qcond, NULL);
        pthread_cond_init(&s->donecond, NULL);
        pthread_cond_init(&s->synccond, NULL);
        size_t n = strlen(s->target) + 8;
        s->wal_path = malloc(n);
        snprintf(s->wal_path, n, "%s-wal", s->target);
        n += strlen(DB_SQLITE_ANALYTICS_SUFFIX);
        s->analytics_wal_path = malloc(n);
        snprintf(s->analytics_wal_path, n, "%s" DB_SQLITE_ANALYTICS_SUFFIX "-wal", s->target);
        s->wal_fd = -1;
        pthread_create(&s->writer_thread, NULL, writer_main, s);
        pthread_create(&s->syncer_thread, NULL, syncer_main, s);
        pthread_cond_init(&s->checkpoint_cond, NULL);
        pthread_create(&s->checkpoint_thread, NULL, checkpoint_main, s);
        pthread_setname_np(s->writer_thread, "bo-writer");
        pthread_setname_np(s->syncer_thread, "bo-syncer");
        pthread_setname_np(s->checkpoint_thread, "bo-checkpoint");
    } else {
        db_conn *c = pool_get(s, err);
        if (!c) {
            free(s->target);
            free(s);
            return NULL;
        }
        pool_put(s, c, false);
    }
    return s;
}

void store_close(store *s)
{
    if (!s) return;
    if (s->writer) {
        pthread_mutex_lock(&s->qlock);
        s->stopping = true;
        pthread_cond_signal(&s->qcond);
        pthread_mutex_unlock(&s->qlock);
        pthread_join(s->writer_thread, NULL);
        pthread_mutex_lock(&s->qlock);
        s->syncer_stopping = true;
        pthread_cond_signal(&s->synccond);
        pthread_mutex_unlock(&s->qlock);
        pthread_join(s->syncer_thread, NULL);
        pthread_mutex_lock(&s->qlock);
        s->checkpoint_stopping = true;
        pthread_cond_signal(&s->checkpoint_cond);
        pthread_mutex_unlock(&s->qlock);
        pthread_join(s->checkpoint_thread, NULL);
        if (s->wal_fd >= 0) close(s->wal_fd);
        free(s->wal_path);
        free(s->analytics_wal_path);
        if (s->analytics_writer) conn_close(s, s->analytics_writer);
        pthread_mutex_destroy(&s->analytics_lock);
        if (getenv("BOXOFFICE_STORE_STATS") && s->batches)
            log_info("store: %ld transactions in %ld commits (%.1f per commit), %.3f ms work + %.3f ms commit each",
                     s->jobs, s->batches, (double)s->jobs / s->batches, s->fn_ms / s->jobs,
                     s->commit_ms / s->batches);
        conn_close(s, s->writer);
    }
    for (size_t i = 0; i < s->readers.nidle; i++) conn_close(s, s->readers.idle[i]);
    free(s->readers.idle);
    free(s->target);
    store_analytics_log_close(s->analytics_log);
    free(s);
}

db_dialect store_dialect(store *s) { return s->driver->dialect; }

/* Transaction counters: process-wide relaxed atomics, for the reasons given
 * beside the statement counters in db.c (statistics only, no lock). */
void store_stats_get(store *s, store_stats *out)
{
    out->writes = (uint64_t)atomic_load_explicit(&s->writes, memory_order_relaxed);
    out->reads = (uint64_t)atomic_load_explicit(&s->reads, memory_order_relaxed);
}

/* The Idempotency-Key a request on this thread is to claim in its first
 * committed write (store_idempotency_arm). Thread-local rather than a
 * parameter because the claim must join whichever write the handler makes
 * first, deep inside the engine, and threading it through every engine and
 * store function would put an HTTP concern into all of them; a request runs
 * on one thread from its handler to its reply, so the thread names the
 * request. Only its own thread reads or writes it: no lock is needed. */
static _Thread_local store_idempotency_claim *armed_claim;

void store_idempotency_arm(store_idempotency_claim *claim) { armed_claim = claim; }

typedef struct {
    store_idempotency_claim *claim;
    store_fn fn;
    void *ctx;
    bool twin;
} claiming_job;

/* Runs on the writer (SQLite) or the pooled connection (PostgreSQL): the key
 * first, so a twin request is turned away before doing any work. */
static db_status claiming_fn(db_conn *c, void *arg)
{
    claiming_job *j = arg;
    db_status st = store_idempotency_insert_claim(c, j->claim);
    j->twin = st == DB_CONFLICT;
    return st == DB_OK ? j->fn(c, j->ctx) : st;
}

static db_status write_now(store *s, store_fn fn, void *ctx)
{
    db_status st = s->writer ? sqlite_write(s, fn, ctx, false) : pg_write(s, fn, ctx);
    if (st == DB_FULL) atomic_store_explicit(&s->full_at, monotonic_us(), memory_order_relaxed);
    return st;
}

db_status store_write(store *s, store_fn fn, void *ctx)
{
    atomic_fetch_add_explicit(&s->writes, 1, memory_order_relaxed);
    store_idempotency_claim *claim = armed_claim;
    if (!claim || claim->claimed) return write_now(s, fn, ctx);
    if (claim->twin) return DB_CONFLICT; /* the key is another request's: this one writes nothing */
    claiming_job job = {claim, fn, ctx, false};
    db_status st = write_now(s, claiming_fn, &job);
    if (st == DB_OK) claim->claimed = true;
    else if (job.twin) claim->twin = true;
    return st;
}

db_status store_write_background(store *s, store_fn fn, void *ctx)
{
    atomic_fetch_add_explicit(&s->writes, 1, memory_order_relaxed);
    db_status st = s->writer ? sqlite_write(s, fn, ctx, true) : pg_write(s, fn, ctx);
    if (st == DB_FULL) atomic_store_explicit(&s->full_at, monotonic_us(), memory_order_relaxed);
    return st;
}

db_status store_write_analytics(store *s, store_fn fn, void *ctx)
{
    atomic_fetch_add_explicit(&s->writes, 1, memory_order_relaxed);
    db_status st = s->writer ? sqlite_write_analytics(s, fn, ctx) : pg_write(s, fn, ctx);
    if (st == DB_FULL) atomic_store_explicit(&s->full_at, monotonic_us(), memory_order_relaxed);
    return st;
}

bool store_full_within(store *s, int64_t window_us)
{
    int64_t at = atomic_load_explicit(&s->full_at, memory_order_relaxed);
    return at && monotonic_us() - at < window_us;
}

db_status store_read(store *s, store_fn fn, void *ctx)
{
    atomic_fetch_add_explicit(&s->reads, 1, memory_order_relaxed);
    db_conn *c = pool_get_logged(s);
    if (!c) return DB_ERROR;
    const char *begin = s->driver->dialect == DB_DIALECT_POSTGRES ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                                                  : "BEGIN";
    db_status st = db_exec_deferred(c, begin, DB_NOARGS, DB_CONFLICT, NULL);
    if (st == DB_OK) {
        st = fn(c, ctx);
        db_exec(c, st == DB_OK ? "COMMIT" : "ROLLBACK", DB_NOARGS, NULL);
    }
    pool_put(s, c, s->driver->dialect == DB_DIALECT_POSTGRES && db_pg_broken(c));
    return st;
}


/* ---- commit notifications ---- */

void store_notify_on_commit(db_conn *c) { *notify_flag(c) = true; }

void store_inventory_touched(db_conn *c, const char *account_id, const char *occurrence)
{
    struct db_conn_header *h = (struct db_conn_header *)c;
    if (!h->touches) h->touches = calloc(1, sizeof *h->touches);
    struct store_touches *t = h->touches;
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->items[i].occurrence, occurrence) && !strcmp(t->items[i].account_id, account_id)) return;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->items = realloc(t->items, t->cap * sizeof *t->items);
    }
    store_touch *it = &t->items[t->n++];
    snprintf(it->account_id, sizeof it->account_id, "%s", account_id);
    snprintf(it->occurrence, sizeof it->occurrence, "%s", occurrence);
}

void store_set_change_hook(store *s, store_change_hook hook, void *arg)
{
    s->change_hook = hook;
    s->change_arg = arg;
}

void store_set_analytics_log(store *s, analytics_log *log)
{
    store_analytics_log_close(s->analytics_log);
    s->analytics_log = log;
}

analytics_log *store_analytics_log(const store *s) { return s->analytics_log; }

bool store_analytics_writes_apart(const store *s) { return s->writer != NULL; }

void store_set_commit_hook(store *s, store_commit_hook hook, void *arg)
{
    pthread_mutex_lock(&s->hook_lock);
    s->hook = hook;
    s->hook_arg = arg;
    pthread_mutex_unlock(&s->hook_lock);
}

struct store_listener {
    store *s;
    db_conn *c;
};

store_listener *store_listen(store *s)
{
    if (s->driver->dialect != DB_DIALECT_POSTGRES) return NULL;
    char *err = NULL;
    db_conn *c = s->driver->connect(s->target, DB_CONN_WRITE, &err);
    if (!c || !db_pg_listen(c, NOTIFY_CHANNEL)) {
        log_warn("store: cannot listen for commits: %s", err ? err : "LISTEN failed");
        free(err);
        if (c) conn_close(s, c);
        return NULL;
    }
    store_listener *l = malloc(sizeof *l);
    *l = (store_listener){s, c};
    return l;
}

int store_listener_fd(store_listener *l) { return db_pg_socket(l->c); }

bool store_listener_drain(store_listener *l) { return db_pg_notifications(l->c) >= 0; }

void store_listener_close(store_listener *l)
{
    if (!l) return;
    conn_close(l->s, l->c);
    free(l);
}

/* ---- migrations ---- */

typedef struct {
    char *err;
    int applied;
} migrate_ctx;

static db_status migrate_fn(db_conn *c, void *arg)
{
    migrate_ctx *m = arg;
    db_dialect d = db_conn_dialect(c);
    if (d == DB_DIALECT_POSTGRES) {
        /* several servers may start at once against one database */
        db_status st = db_exec(c, "SELECT pg_advisory_xact_lock(7310001)", DB_NOARGS, NULL);
        if (st != DB_OK) return st;
    }
    db_status st = db_exec(c,
                           "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT "
                           "NULL, applied_at TEXT NOT NULL)",
                           DB_NOARGS, NULL);
    if (st != DB_OK) return st;
    int64_t current = 0;
    db_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", DB_NOARGS, &current);
    for (size_t i = 0; i < migrations_count; i++) {
        const migration *mg = &migrations[i];
        if (mg->version <= current) continue;
        char *sql = migration_sql(mg, d);
        st = db_exec_script(c, sql);
        free(sql);
        if (st != DB_OK) {
            char buf[128];
            snprintf(buf, sizeof buf, "migration %d (%s) failed", mg->version, mg->name);
            m->err = strdup(buf);
            return st;
        }
        st = db_exec(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 'now')",
                     DB_ARGS(DB_INT(mg->version), DB_TEXT(mg->name)), NULL);
        if (st != DB_OK) return st;
        m->applied++;
    }
    return DB_OK;
}

/* SQLite: on a connection of its own, since the writer's has no analytics
 * file attached and migrations change that file's tables too; BEGIN
 * IMMEDIATE takes both files' write locks, synchronous=FULL makes the commit
 * durable. */
static db_status sqlite_migrate(store *s, migrate_ctx *m)
{
    char *err = NULL;
    db_conn *c = s->driver->connect(s->target, DB_CONN_WRITE_ALL, &err);
    if (!c) {
        m->err = err ? err : strdup("cannot connect");
        return DB_ERROR;
    }
    db_status st = db_exec_script(c, "PRAGMA main.synchronous=FULL; PRAGMA analytics.synchronous=FULL;");
    if (st == DB_OK) st = transact(c, "BEGIN IMMEDIATE", migrate_fn, m);
    conn_close(s, c);
    return st;
}

db_status store_migrate(store *s, char **err)
{
    migrate_ctx m = {0};
    db_status st = s->writer ? sqlite_migrate(s, &m) : store_write(s, migrate_fn, &m);
    if (st != DB_OK && err) *err = m.err ? m.err : strdup("migration failed");
    else free(m.err);
    if (st == DB_OK && m.applied) log_info("store: applied %d migration(s)", m.applied);
    return st;
}
