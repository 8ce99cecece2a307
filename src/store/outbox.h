/* The webhook outbox's storage: subscriptions, the per-account subscription
 * version, change events and their deliveries. The engine decides (who wants
 * which event, what a payload looks like, when to retry, when to disable);
 * these functions hold all the SQL and report outcomes as a store_status.
 * Nothing here parses or builds JSON: payloads travel as JSON text.
 *
 * Functions taking a `store *` are whole transactions. Functions taking a
 * `db_conn *` are steps of a transaction the engine composes: recording an
 * event inside the transaction that made the change (core/events.c). */
#ifndef BO_STORE_OUTBOX_H
#define BO_STORE_OUTBOX_H
#include "store/store.h"
#include "util/timeutil.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------- subscription version (steps) ---------------- */

/* The account's subscription version: STORE_NOT_FOUND while it never had one. */
store_status store_webhook_version_get(db_conn *c, const char *account_id, int64_t *version);
/* Bumps it (creating it at 1) inside the transaction that changes who listens. */
store_status store_webhook_version_bump(db_conn *c, const char *account_id, int64_t *version);
/* In one statement: the version (0 when none) and whether the account has any
 * active subscription, so the answer belongs to that version on PostgreSQL too. */
store_status store_webhook_listening(db_conn *c, const char *account_id, int64_t *version, bool *any);

/* ---------------- subscriptions ---------------- */

typedef struct {
    const char *id;
    const char *account_id;
    const char *url;
    const char *format;     /* a registered webhook format's name */
    const char *events;     /* comma-separated event names, or "*" for every event */
    bool active;
    bool failing;           /* whether failing_since is set */
    instant_us failing_since;
    instant_us created_at;
    const char *name;       /* the subscriber's label; "" when none */
} store_subscription;

/* Inserts an active subscription and bumps the account's version (*version
 * gets it), in one transaction. secret_sealed: the sealed signing secret.
 * STORE_CONFLICT when the id is taken. */
store_status store_subscription_create(store *s, const store_subscription *sub, const char *secret_sealed,
                                       instant_us now, int64_t *version);
/* The account's subscriptions, oldest first, or only the one with id `id`
 * (NULL: all). fn gets each; its strings live until it returns. With an id,
 * STORE_NOT_FOUND when the account has no such subscription. */
store_status store_subscriptions_list(store *s, const char *account_id, const char *id,
                                      void (*fn)(void *ctx, const store_subscription *sub), void *ctx);
/* Deletes the subscription, cancels its pending deliveries and bumps the
 * account's version (*version), in one transaction. STORE_NOT_FOUND when the
 * account has no such subscription (nothing written). */
store_status store_subscription_delete(store *s, const char *account_id, const char *id, int64_t *version);

/* ---------------- recording (steps) ---------------- */

/* fn gets each active subscription of the account: its id and its events
 * (as in store_subscription); the strings live until it returns. */
store_status store_outbox_subscribers(db_conn *c, const char *account_id,
                                      void (*fn)(void *ctx, const char *subscription_id, const char *events),
                                      void *ctx);

typedef struct {
    const char *id;           /* the event id, sent on every attempt */
    const char *account_id;
    const char *event;        /* "ORDER.CREATED", ... */
    const char *resource_url;
    const char *payload;      /* JSON text */
    instant_us created_at;
} store_outbox_event;

/* Inserts the event and one pending delivery, due at ev->created_at, per
 * subscription id; once the transaction commits, the delivery worker is woken
 * (store_notify_on_commit). STORE_CONFLICT when the event id is taken. */
store_status store_outbox_record(db_conn *c, const store_outbox_event *ev, const char *const *subscription_ids,
                                 size_t n);

/* ---------------- deliveries ---------------- */

/* One (event, subscription) delivery as the history shows it. */
typedef struct {
    const char *event_id;
    const char *event;
    const char *status;       /* pending | delivered | failed | cancelled */
    int64_t attempts;
    bool has_status_code;
    int64_t last_status_code;
    const char *last_error;   /* NULL none */
    bool attempted;           /* whether last_attempt_at is set */
    instant_us last_attempt_at;
    instant_us next_due;
    instant_us created_at;    /* the event's */
} store_delivery;

/* The subscription's deliveries, newest event first, at most `limit`. fn gets
 * each; its strings live until it returns. STORE_NOT_FOUND when the account
 * has no such subscription. */
store_status store_deliveries_list(store *s, const char *account_id, const char *subscription_id, int limit,
                                   void (*fn)(void *ctx, const store_delivery *d), void *ctx);

/* When the earliest pending delivery is due: STORE_NOT_FOUND when none is
 * pending. A read, so an idle worker writes nothing. */
store_status store_deliveries_next_due(store *s, instant_us *due);
/* The same read for any outbox (the mail outbox too): sql selects the
 * earliest due time of its pending rows, NULL (STORE_NOT_FOUND) for none. */
store_status store_outbox_next_due(store *s, const char *sql, instant_us *due);

typedef struct {
    char event_id[48], subscription_id[48];
    int64_t attempts;         /* attempts made before this one */
} store_delivery_claim;

/* Leases up to max deliveries due at `now` (earliest first) by moving their
 * next_due to lease_until, each only if no other process moved it first, so
 * other processes skip them meanwhile. *n gets how many were leased (0 is OK). */
store_status store_deliveries_claim(store *s, instant_us now, instant_us lease_until, store_delivery_claim *out,
                                    int max, int *n);

/* The claim of any outbox (webhook deliveries, mail), in one transaction:
 * select_sql (parameters: now, max) reads the due rows, earliest first, each
 * as its nkeys key columns, more columns up to ncols, and next_due last
 * (column ncols); update_sql (parameters: lease_until, the key columns, the
 * next_due read) moves a row's next_due to the lease's end only if it is
 * still the one read, so a row another process leased meanwhile is skipped.
 * fn gets each leased row's columns as text (valid until it returns) and its
 * index among the leased (0, 1, ...: a transaction run again starts over);
 * *n how many were leased. */
store_status store_outbox_claim(store *s, const char *select_sql, const char *update_sql, int nkeys, int ncols,
                                instant_us now, instant_us lease_until, int max,
                                void (*fn)(void *ctx, int index, const char *const *cols), void *ctx, int *n);

/* What sending one delivery needs; strings owned (store_delivery_job_free). */
typedef struct {
    char account_id[40];
    char *event, *resource_url, *payload; /* payload: JSON text as recorded */
    instant_us created_at;
    char *url, *secret_sealed, *format;   /* the subscription's */
} store_delivery_job;

/* STORE_NOT_FOUND when the event or the subscription is gone. */
store_status store_delivery_load(store *s, const char *event_id, const char *subscription_id,
                                 store_delivery_job *out);
void store_delivery_job_free(store_delivery_job *j);

/* A claimed delivery with what sending it needs, read in the claim's own
 * transaction: the worker makes no read per delivery. */
typedef struct {
    store_delivery_claim claim;
    bool found;               /* false: the event or the subscription is gone (job empty) */
    store_delivery_job job;   /* owned: store_delivery_job_free */
} store_delivery_claimed;

/* store_deliveries_claim, each leased row with its job. */
store_status store_deliveries_claim_jobs(store *s, instant_us now, instant_us lease_until, store_delivery_claimed *out,
                                         int max, int *n);

/* The outcome of one attempt, as the engine judged it. */
typedef struct {
    const char *event_id, *subscription_id;
    bool ok;                  /* delivered */
    const char *status;       /* the delivery's new status */
    int64_t attempts;         /* attempts made, this one included */
    int64_t status_code;      /* HTTP status; 0 none */
    const char *error;        /* NULL when ok */
    instant_us next_due;
} store_delivery_result;

/* Records attempts made at `now`, in one transaction. A delivered attempt
 * clears its subscription's failing_since; a failed one sets it if unset, and
 * a subscription failing for disable_after_us or longer is deactivated, which
 * bumps its account's version. */
store_status store_delivery_results_record(store *s, const store_delivery_result *r, size_t n, instant_us now,
                                           int64_t disable_after_us);
#endif
