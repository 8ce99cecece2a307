/* Storage of the payment step (core/payment.c, docs/PAYMENTS.md): payment
 * sessions, the hold an order keeps while one runs, and the account's test
 * mode. One function per operation; every one but store_payment_session_get
 * is scoped by account. The session id is a 128-bit secret (the hosted page's
 * URL), so the page finds its session by id alone, as a bearer token.
 *
 * All are steps taking a `db_conn *`, composed by the engine in one
 * store_write with the order change and the outbox events of the transition
 * (or in a store_read for the reads). */
#ifndef BO_STORE_PAYMENTS_H
#define BO_STORE_PAYMENTS_H
#include "store/sales.h"

#define PAYMENT_URL_MAX 2048

/* One payment session. */
typedef struct {
    char id[72];
    char account_id[40];
    char order_id[40];
    char provider[24];
    char method[64];
    char status[16];      /* open | paid | failed | cancelled | expired | refunded */
    money amount;         /* what the order charges (docs/MODEL.md, "Money") */
    money fee;            /* the method's fee, given by the caller */
    char currency[4];
    instant_us due_at;    /* the order's hold deadline while this session runs */
    char success_url[PAYMENT_URL_MAX + 1], failure_url[PAYMENT_URL_MAX + 1];
    char cancel_url[PAYMENT_URL_MAX + 1], expired_url[PAYMENT_URL_MAX + 1];
    char csrf[72];        /* the hosted page form's token */
    char provider_ref[128]; /* the provider's own id for it; "" none */
    char redirect_url[PAYMENT_URL_MAX + 1]; /* where the buyer goes to pay (the provider's create) */
    char reason[160];     /* why it ended as it did (a refund's reason); "" none */
    instant_us released_at; /* 0 while the order's hold runs; when it ended: released at its
                               deadline, or turned into a sale by a payment */
    instant_us created_at, updated_at;
} store_payment_session;

store_status store_payment_session_insert(db_conn *c, const store_payment_session *s);
/* By id alone (the page's bearer secret), or also by account when account_id
 * is not NULL. STORE_OK or STORE_NOT_FOUND. */
store_status store_payment_session_get(db_conn *c, const char *account_id, const char *id, store_payment_session *out);
/* The order's open session, newest first: STORE_OK or STORE_NOT_FOUND. */
store_status store_payment_session_open_for_order(db_conn *c, const char *account_id, const char *order_id,
                                                  store_payment_session *out);
/* Moves a session from status `from` to `to` (reason NULL keeps it):
 * STORE_OK, STORE_CONFLICT when it is no longer in `from` (nothing written),
 * STORE_NOT_FOUND. */
store_status store_payment_session_move(db_conn *c, const char *account_id, const char *id, const char *from,
                                        const char *to, const char *reason, instant_us now);
/* When the order's hold ended (*released_at, 0 while it runs) and the latest
 * deadline of its sessions still running (*due_at, 0 when none). */
store_status store_payment_order_hold(db_conn *c, const char *account_id, const char *order_id, instant_us *due_at,
                                      instant_us *released_at);
/* Ends the order's hold at `now` on every session still running (sets
 * released_at); with expire_open its open sessions become expired. */
store_status store_payment_hold_end(db_conn *c, const char *account_id, const char *order_id, bool expire_open,
                                    instant_us now);

/* An order whose payment deadline passed with its seats still held. */
typedef struct {
    char account_id[40];
    char order_id[40];
} store_payment_due;
/* Up to `limit` orders whose latest unreleased session's deadline is before
 * now and none of whose sessions is paid; *out malloc'd (NULL when none). */
store_status store_payment_holds_due(db_conn *c, instant_us now, int limit, store_payment_due **out, size_t *n);

/* Takes the seats back for the order's tickets released at `released_at`
 * (voided at that instant by the release) and makes them unpaid again, the
 * order open again: STORE_OK, STORE_SOLD_OUT (run it in a savepoint: the
 * caller rolls back to it and refunds instead). */
store_status store_payment_rehold(db_conn *c, const char *account_id, const char *order_id, instant_us released_at,
                                  instant_us now);

/* Records a payment that came in for an order that cannot take it and went
 * straight back: a refunded payment row and its refund row (reason in its
 * doc, JSON object text), both of `amount`. */
store_status store_payment_refunded_insert(db_conn *c, const char *account_id, const char *order_id,
                                           const char *provider, const char *method, const char *reference,
                                           money amount, const char *refund_doc, instant_us now);

/* Locks the order's row until the transaction ends (a write that changes
 * nothing): STORE_OK or STORE_NOT_FOUND. */
store_status store_order_lock(db_conn *c, const char *account_id, const char *order_id);

/* Replaces the order's document (the engine merged its change into it). */
store_status store_order_doc_set(db_conn *c, const char *account_id, const char *order_id, const char *doc);

/* The order's number (what callbacks carry): STORE_OK or STORE_NOT_FOUND. */
store_status store_order_number_get(db_conn *c, const char *account_id, const char *order_id, char out[16]);
/* The order's number and its change number (which every change of the order
 * or its tickets moves) in one lookup: STORE_OK or STORE_NOT_FOUND. */
store_status store_order_number_and_change(db_conn *c, const char *account_id, const char *order_id, char number[16],
                                           int64_t *change_seq);

/* The account's test mode: whether the test provider may take its payments. */
store_status store_account_test_mode_get(db_conn *c, const char *account_id, bool *on);
store_status store_account_test_mode_set(db_conn *c, const char *account_id, bool on, instant_us now);

/* An account's settings for a payment provider, sealed by the caller with
 * the server key (rows of account_secrets named "payment:<provider>:api_key"
 * and ":webhook_secret"). get: malloc'd texts, NULL when not set (STORE_OK
 * either way). put replaces both (sealed_secret NULL: none). */
store_status store_payment_credentials_get(db_conn *c, const char *account_id, const char *provider,
                                           char **sealed_api_key, char **sealed_webhook_secret);
store_status store_payment_credentials_put(db_conn *c, const char *account_id, const char *provider,
                                           const char *sealed_api_key, const char *sealed_webhook_secret);
store_status store_payment_credentials_delete(db_conn *c, const char *account_id, const char *provider);

/* An open session to ask its provider about. */
typedef struct {
    char account_id[40];
    char id[72];
    char provider[24];
} store_payment_to_reconcile;
/* Up to `limit` open sessions of `provider` last asked (or, never asked,
 * created) before `asked_before`, least recently asked first; *out malloc'd. */
store_status store_payment_sessions_to_reconcile(db_conn *c, const char *provider, instant_us asked_before, int limit,
                                                 store_payment_to_reconcile **out, size_t *n);
/* Records that the session's provider was asked at `now`. */
store_status store_payment_session_reconciled(db_conn *c, const char *account_id, const char *id, instant_us now);

/* What vouchers paid towards the order (its paid voucher payments). */
store_status store_order_voucher_paid(db_conn *c, const char *account_id, const char *order_id, money *amount);
/* What went back to voucher codes from the order (its voucher refunds). */
store_status store_order_voucher_given_back(db_conn *c, const char *account_id, const char *order_id, money *amount);
/* The order's newest session, whatever its status: STORE_OK or STORE_NOT_FOUND. */
store_status store_payment_session_latest_for_order(db_conn *c, const char *account_id, const char *order_id,
                                                    store_payment_session *out);
/* The account's platform fee per ticket (minor units; a sales channel's, e.g.
 * Fourvenues' `discocil`), 0 unless set. */
store_status store_account_platform_fee_get(db_conn *c, const char *account_id, money *fee);
store_status store_account_platform_fee_set(db_conn *c, const char *account_id, money fee, instant_us now);
#endif
