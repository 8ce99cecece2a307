/* Storage of confirmation mail: an account's SMTP settings and the mail
 * outbox (one row per confirmed order). The engine decides (who gets mail,
 * what it says, when to retry); these functions hold the SQL.
 *
 * Functions taking a `store *` are whole transactions; those taking a
 * `db_conn *` are steps of a transaction the engine composes (queueing a mail
 * inside the transaction that confirmed the order). */
#ifndef BO_STORE_MAIL_H
#define BO_STORE_MAIL_H
#include "store/store.h"
#include "util/timeutil.h"
#include <stdbool.h>
#include <stdint.h>

/* An account's settings; strings owned (store_mail_settings_free), NULL when unset. */
typedef struct {
    bool enabled;
    char *host;
    int64_t port;
    char *security;        /* starttls | tls | none */
    char *username;
    char *password_sealed; /* sealed with the server key; NULL: none */
    char *from_address, *from_name, *reply_to;
    instant_us updated_at;
} store_mail_settings;
void store_mail_settings_free(store_mail_settings *m);

/* STORE_NOT_FOUND when the account never saved any. */
store_status store_mail_settings_get(store *s, const char *account_id, store_mail_settings *out);
/* Inserts or replaces the account's settings (updated_at set by the caller). */
store_status store_mail_settings_put(store *s, const char *account_id, const store_mail_settings *m);

/* ---- the outbox ---- */

/* Step: queues the order's confirmation to `recipient`, due at `now`, if the
 * account has mail enabled and the order has none queued yet (one per order).
 * *queued tells whether a row was written; then the senders are woken on
 * commit (store_notify_on_commit). */
store_status store_mail_queue(db_conn *c, const char *mail_id, const char *account_id, const char *order_id,
                              const char *recipient, instant_us now, bool *queued);
/* Step: the same for an order already stored, to the e-mail it was booked with
 * (nothing when it has none). */
store_status store_mail_queue_order(db_conn *c, const char *mail_id, const char *account_id, const char *order_id,
                                    instant_us now, bool *queued);

/* When the earliest queued mail is due; STORE_NOT_FOUND when none is queued. */
store_status store_mail_next_due(store *s, instant_us *due);

typedef struct {
    char id[48], account_id[40], order_id[48];
    char recipient[256];
    int64_t attempts;         /* attempts made before this one */
    instant_us created_at;
} store_mail_claim;

/* Leases up to max queued mails due at `now` (earliest first) by moving their
 * next_due to lease_until, each only if no other process moved it first.
 * *n gets how many were leased (0 is OK). */
store_status store_mail_claim_due(store *s, instant_us now, instant_us lease_until, store_mail_claim *out, int max,
                                  int *n);

/* The outcome of one attempt. */
typedef struct {
    const char *id;
    const char *status;       /* queued (retry at next_due) | sent | failed */
    int64_t attempts;         /* this one included */
    const char *error;        /* NULL when sent */
    instant_us next_due, sent_at;
} store_mail_result;
/* Records attempts, in one transaction. */
store_status store_mail_results_record(store *s, const store_mail_result *r, size_t n);
#endif
