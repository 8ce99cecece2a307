/* A background sender: the loop that webhook deliveries and confirmation
 * mails share. Each outbox (webhook_deliveries, mail_outbox) has rows with a
 * due time; the sender reads when the earliest is due, claims and sends what
 * is due (its deliver_due), and sleeps until the next one.
 *
 * Idle means idle: claiming is a write transaction (an fsync on SQLite), so
 * it claims only when a read says something is due. It is woken early by a
 * commit that recorded work (sender_wake, from the store's commit hook in
 * this process, or a PostgreSQL NOTIFY from another), and reads again every
 * SENDER_RECHECK_MS anyway, which catches what nobody announces: another
 * process's retries, an SQLite database shared by several processes, the
 * leases of a crashed one. */
#ifndef BO_CORE_SENDER_H
#define BO_CORE_SENDER_H
#include "core/engine.h"
#include "store/store.h"
#include <pthread.h>
#include <stdbool.h>

#define SENDER_RECHECK_MS 5000

typedef struct {
    const char *name; /* the thread's name (at most 15 characters) */
    /* when the earliest pending row is due; STORE_NOT_FOUND when none is */
    store_status (*next_due)(store *s, instant_us *due);
    /* claims and sends what is due now; returns how many were attempted */
    int (*deliver_due)(engine *e);
    /* added to the thread's nice value (Linux: per thread): a sender whose
     * work is not urgent yields the CPU to requests */
    int nice;
    /* after waking, wait this long before claiming, so the commits of a busy
     * moment are claimed in a few full batches rather than one write
     * transaction each (0: claim at once) */
    int coalesce_ms;
    /* running state, owned by sender_start / sender_stop */
    engine *e;
    pthread_t thread;
    bool running;
    int wake_pipe[2];
} sender;

/* Starts the thread (name, next_due and deliver_due set by the caller);
 * false (logged) when it cannot. */
bool sender_start(sender *s, engine *e);
/* Asks a running sender to look again now; safe from any thread, and on a
 * sender that is not running. */
void sender_wake(sender *s);
/* After engine_close set e->stopping: wakes the thread and joins it. */
void sender_stop(sender *s);
#endif
