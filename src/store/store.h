/* The store: transactions over a database, the same contract on both drivers.
 *
 * store_write runs `fn` inside a write transaction and returns only after the
 * commit is durable (fsync'd), so a 2xx sent after it survives kill -9.
 *  - SQLite: one writer thread owns the only write connection and commits
 *    queued transactions in batches (group commit); each queued function runs
 *    inside its own SAVEPOINT so one failure does not undo its batch-mates;
 *    a syncer thread fsyncs the WAL after each batch and only then returns,
 *    while the writer already runs the next batch.
 *    `fn` therefore runs on the writer thread: it must only touch the db and
 *    its ctx, never block on anything else.
 *  - PostgreSQL: a pooled connection runs BEGIN; fn; COMMIT.
 * On DB_RETRY (deadlock, serialization failure, optimistic check lost) the
 * transaction is run again, a bounded number of times. A function that returns
 * anything but DB_OK has its work rolled back, and that status is returned.
 *
 * store_read runs `fn` on a read connection inside one consistent snapshot. */
#ifndef BO_STORE_H
#define BO_STORE_H
#include "store/db.h"

typedef struct store store;

/* Outcome of one storage operation; the engine maps it with a switch. */
typedef enum {
    STORE_OK = 0,
    STORE_NOT_FOUND,  /* no such row in this account */
    STORE_SOLD_OUT,   /* a capacity pool lacks room; nothing was taken */
    STORE_CONFLICT,   /* the row's state forbids it (booked, released, duplicate) */
    STORE_RETRY,      /* lost a race or a serialization check; run it again */
    STORE_ERROR,      /* the database failed; logged by the driver */
    STORE_FULL,       /* the database has no room to write (disk full): nothing changed; retry later */
} store_status;

/* A statement's outcome as a store outcome; DB_ABORT (a step refused) reads
 * as STORE_CONFLICT. */
store_status store_status_of(db_status st);
/* A step's outcome as the db_status of the transaction composing it: any
 * refusal rolls the transaction back, STORE_SOLD_OUT as DB_ABORT. */
db_status store_db_status(store_status st);
typedef db_status (*store_fn)(db_conn *c, void *ctx);

/* uri: "sqlite:PATH" or "postgresql://..." / "postgres://..." */
store *store_open(const char *uri, char **err);
void store_close(store *s);
db_status store_write(store *s, store_fn fn, void *ctx);
/* store_write for work that may wait (sales of inventory references that
 * analytics report): on SQLite it runs when no store_write is queued (or has
 * waited 0.5 s), in a transaction of its own, and returns at commit without
 * an fsync of its own, so it never sits in front of a booking nor adds one to
 * its wait. A commit survives kill -9 (it is in the WAL); a power loss may
 * take the last ones until the next store_write's fsync. PostgreSQL:
 * store_write without an Idempotency-Key claim. */
db_status store_write_background(store *s, store_fn fn, void *ctx);
/* A write of the analytics tables alone (store/analytics_store.h), and of no
 * other: on SQLite they are a file of their own, written on a connection of
 * their own on the caller's thread, so the store's writer, and the bookings
 * queued on it, never wait for one nor carry its pages in their fsync. One at
 * a time (a caller waits for the one running); a commit survives kill -9 (it
 * is in that file's WAL), a power loss may take the last ones. PostgreSQL:
 * store_write_background. */
db_status store_write_analytics(store *s, store_fn fn, void *ctx);
db_status store_read(store *s, store_fn fn, void *ctx);
db_dialect store_dialect(store *s);
/* Whether a caller of store_write_analytics or store_write_background holds
 * nothing a request waits on, not even while its transaction runs: SQLite,
 * where the analytics have a connection of their own and background writes
 * run on the store's writer thread; not PostgreSQL, where either holds a
 * pooled connection. */
bool store_analytics_writes_apart(const store *s);
/* This store's counts of store_write and store_read calls since it opened (one per
 * call: retries and group commits are not counted), for benchmarks; the
 * statements inside them are counted by db_stats_get. */
typedef struct {
    uint64_t writes, reads;
} store_stats;
void store_stats_get(store *s, store_stats *out);
/* STORE_OK once the database answers a trivial query on a read connection,
 * STORE_ERROR otherwise (src/store/health.c). */
store_status store_ping(store *s);
/* Readiness (src/store/health.c): STORE_OK when a write to the health row
 * commits and no write was refused for lack of room in the last few seconds,
 * STORE_FULL when one was, STORE_ERROR when the probe fails otherwise. The
 * answer is reused for a second, so probes from many balancers stay cheap. */
store_status store_writable(store *s);
/* SQLite: writes that would grow the database past max_pages pages fail as if
 * the disk were full (STORE_FULL): a quota, and a full disk for tests. */
store_status store_cap_pages(store *s, int64_t max_pages);
/* Whether a write of this store was refused for lack of room (DB_FULL) less
 * than window_us ago. */
bool store_full_within(store *s, int64_t window_us);
/* PostgreSQL: how many inventory rows each pool occurrence's seats are spread
 * over when its rows are first made (default from the core count, or
 * BOXOFFICE_PG_INVENTORY_SHARDS); SQLite always uses one (its single writer
 * gains nothing from more). Rows made before keep their number. */
void store_set_inventory_shards(store *s, int shards);
/* Applies pending migrations (idempotent; safe with several processes). */
db_status store_migrate(store *s, char **err);

/* Commit notifications, for a waiter that should run as soon as some
 * transaction committed (the webhook sender) instead of polling with writes.
 * A write transaction's function calls store_notify_on_commit(c); once that
 * transaction is durable, this process's commit hook runs and, on PostgreSQL,
 * every process's listener becomes readable (NOTIFY, delivered on commit).
 * A transaction that rolls back notifies no one. */
void store_notify_on_commit(db_conn *c);
/* hook(arg) runs on the committing thread after a notifying transaction is
 * durable: it must be quick and must not call the store. NULL removes it;
 * once this returns, the previous hook no longer runs. */
typedef void (*store_commit_hook)(void *arg);
void store_set_commit_hook(store *s, store_commit_hook hook, void *arg);
/* Inventory change notes, so a process's caches of what is left follow its own
 * writes at once. A write transaction that changes inventory rows calls
 * store_inventory_touched(c, account, occurrence) for each; once it commits,
 * and before its writer is answered, the change hook gets every note (a
 * transaction that rolls back, or a group-commit job rolled back to its
 * savepoint, reports none). The hook runs on the committing thread: quick, no
 * store calls. Set it before writes start; it is never changed afterwards.
 * Other processes' writes are not reported: readers bound their staleness. */
void store_inventory_touched(db_conn *c, const char *account_id, const char *occurrence);
typedef void (*store_change_hook)(void *arg, const char *account_id, const char *occurrence);
void store_set_change_hook(store *s, store_change_hook hook, void *arg);
/* Where raw analytics events go (store/analytics_store.h): their log, or
 * NULL for the analytics_events table. Set before writes start; the store
 * owns the log (a log set before is written out and closed). */
typedef struct analytics_log analytics_log;
void store_set_analytics_log(store *s, analytics_log *log);
analytics_log *store_analytics_log(const store *s);
/* PostgreSQL: a dedicated connection that LISTENs for other processes'
 * notifications. NULL on SQLite (nothing to listen to) or when it cannot
 * connect. Poll store_listener_fd for input, then drain: false means the
 * connection is lost (close it and listen again later). */
typedef struct store_listener store_listener;
store_listener *store_listen(store *s);
int store_listener_fd(store_listener *l);
bool store_listener_drain(store_listener *l);
void store_listener_close(store_listener *l);
#endif
