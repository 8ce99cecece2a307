/* The payment step (core/payment.c; docs/PAYMENTS.md): an open order is paid
 * through a payment provider. Starting a payment makes a payment session and
 * extends the order's hold to the session's deadline; the provider reports an
 * outcome (its hosted page, or a notification to /payments/notify/{provider});
 * each outcome is one transaction with the order change and outbox events it
 * causes. Like engine.h, this speaks no HTTP, SQL or JSON. */
#ifndef BO_CORE_PAYMENT_H
#define BO_CORE_PAYMENT_H
#include "core/engine.h"
#include "store/payments_store.h"

#define PAYMENT_DEFAULT_DEADLINE_SECONDS 900
#define PAYMENT_MIN_DEADLINE_SECONDS 60
#define PAYMENT_MAX_DEADLINE_SECONDS 86400
#define PAYMENT_MAX_FEE 100000000 /* a million in major units: anything above is a mistake */
#define PAYMENT_TEST_PROVIDER "test"
#define PAYMENT_FAKE_PROVIDER "fake"

/* A payment session as stored (store/payments_store.h). */
typedef store_payment_session payment_session;

typedef enum {
    PAYMENT_PAID,
    PAYMENT_FAILED,
    PAYMENT_CANCELLED,
    PAYMENT_EXPIRED,
} payment_outcome;
/* "paid", "failed", "cancelled", "expired" */
const char *payment_outcome_name(payment_outcome o);
bool payment_outcome_parse(const char *name, payment_outcome *out);

/* A provider's notification as it arrived (the notify route's request). */
typedef struct {
    const char *body;
    size_t len;
    const char *content_type; /* NULL when none */
    const char *signature;    /* the provider's signature header, NULL when none */
} payment_notification;

/* An account's settings for one provider, opened from their sealed form
 * (payment_credentials_load): a real provider's create and status would sign
 * their API calls with api_key and check notifications with webhook_secret.
 * NULL fields are not set. */
typedef struct {
    char *api_key;
    char *webhook_secret;
} payment_credentials;
void payment_credentials_free(payment_credentials *c);

/* A payment provider. The engine calls these around its own transactions
 * (never inside one, except create: docs/PAYMENTS.md), each with the
 * account's credentials for it; each returns BO_OK or a refusal with err set.
 * The two built in: "test" (the hosted test page, /pay/{id}; test-mode
 * accounts only) and "fake" (confirms out of band through
 * /payments/notify/fake or only at its own end, found by the reconciler; only
 * on a server started with --test-clock). Real ones (Mollie, Stripe) map as
 * described in docs/PAYMENTS.md. */
typedef struct payment_provider {
    const char *name;
    bool test_mode_only;   /* only accounts in test mode may use it; their orders are marked test */
    bool test_server_only; /* only on a server started with test hooks (--test-clock) */
    bool uses_credentials; /* the account's settings are opened for its calls (else they get empty ones) */
    bool remote_status;    /* its status is its own, not the session row: the reconciler asks it */
    /* Registers a new session with the provider: *redirect (n bytes) gets
     * where the buyer goes to pay (a path on this server or the provider's
     * absolute URL), provider_ref the provider's own id for it ("" none). */
    bo_status (*create)(const payment_credentials *cred, const payment_session *s, char *redirect, size_t n,
                        char provider_ref[128], bo_error *err);
    /* The provider's view of the session: one of the outcome names, or "open". */
    bo_status (*status)(const payment_credentials *cred, const payment_session *s, char status[16], bo_error *err);
    /* Asks the provider to stop taking money for the session (replaced by another, or its order cancelled). */
    bo_status (*cancel)(const payment_credentials *cred, const payment_session *s, bo_error *err);
    /* Sends `amount` of the session's money back (a late payment that cannot be honoured). */
    bo_status (*refund)(const payment_credentials *cred, const payment_session *s, money amount, const char *reason,
                        bo_error *err);
    /* Reads a notification: the session id it is about (the session's id, or
     * what create put in provider_ref) and its outcome. BO_INVALID (err.field
     * names what is wrong) when it is not one this provider sent. */
    bo_status (*parse_notification)(const payment_notification *n, char session_id[72], payment_outcome *out,
                                    bo_error *err);
    /* Whether the notification really comes from the provider for the
     * account whose credentials these are (a signature under its webhook
     * secret): BO_UNAUTHORIZED when not. Asked once parse_notification named
     * the session, so the account is known. */
    bo_status (*authenticate)(const payment_credentials *cred, const payment_notification *n, bo_error *err);
} payment_provider;

/* The built-in provider of that name, NULL when none. */
const payment_provider *payment_provider_find(const char *name);

/* ---------- the state machine (pure: tests/unit/test_payment.c) ---------- */
typedef enum {
    PAYMENT_STEP_REFUSE,   /* the session is finished: nothing changes (409) */
    PAYMENT_STEP_SAME,     /* it is already there: nothing changes, answered as done (idempotent) */
    PAYMENT_STEP_MOVE,     /* open -> the outcome */
    PAYMENT_STEP_EXPIRE,   /* open past its deadline: -> expired, the order's seats released */
    PAYMENT_STEP_LATE_PAID /* money came for a session that had ended: re-hold the order or refund */
} payment_step;
/* What an outcome does to a session in `status`. from_page: the hosted test
 * page (a finished payment cannot be paid again there; past its deadline
 * every button expires it); else a provider's report, which is believed. */
payment_step payment_next(const char *status, payment_outcome o, bool past_due, bool from_page);

/* ---------- the engine's calls ---------- */
typedef struct {
    const char *provider; /* NULL: "test" */
    const char *method;   /* the payment method ("ideal", "card", ...), 1..64 characters */
    money fee;            /* the method's fee, added to what the order charges; 0..PAYMENT_MAX_FEE */
    /* where the buyer is sent back: absolute http(s) URLs of at most
     * PAYMENT_URL_MAX characters, with order_id and status added to the query */
    const char *success_url, *failure_url, *cancel_url, *expired_url;
    int64_t deadline_seconds; /* 0: PAYMENT_DEFAULT_DEADLINE_SECONDS */
    bool test_server;         /* the server runs with test hooks: test_server_only providers may serve */
} payment_start_request;

/* Starts paying the account's open order: amount = what the order charges
 * (docs/MODEL.md, "Money") plus the fee; the order's hold is extended to the
 * deadline. The same request again (provider, method, fee and URLs) while
 * the session is open returns it (*created false); another one cancels the
 * open session and starts a new one. out->redirect_url is where the buyer goes.
 * BO_NOT_FOUND (another account's order too), BO_CONFLICT "not_open" (the
 * order is paid, cancelled or its deadline passed), BO_FORBIDDEN
 * "test_mode_required", BO_INVALID naming the field. */
bo_status payment_start(engine *e, const account *a, const char *order_id, const payment_start_request *req,
                        payment_session *out, bool *created, bo_error *err);
/* The fee a payment method adds to an order as booked (a dialect's formula);
 * false when it cannot be computed or is out of range. */
typedef bool (*payment_fee_fn)(const order_record *o, void *arg, money *fee);
/* Books the cart (order_book; booking->status "open") and starts paying the
 * order as payment_start does, in one write transaction: either both happen or
 * neither. req->fee is ignored: fee_of computes it from the order as booked. A
 * cart booked before gives its order, and the same request its open session
 * (idempotent as both calls are). Refusals: order_book's, payment_start's, and
 * BO_INVALID "invalid_field" on "fee" when fee_of refuses. */
bo_status payment_book_and_start(engine *e, const account *a, const book_request *booking,
                                 const payment_start_request *req, payment_fee_fn fee_of, void *fee_arg,
                                 payment_session *out, bool *created, bo_error *err);
/* Where the buyer is sent back now: the session's callback URL for its
 * status (paid: success; cancelled: cancel; expired: expired; failed or
 * refunded: failure) with order_id (the order's number) and status (the
 * session's) added to its query, before any fragment. */
void payment_callback_url(const payment_session *s, const char *order_number, char *out, size_t n);
/* Whether u may be a callback URL (absolute http(s), at most PAYMENT_URL_MAX
 * characters, nothing a Location header or HTML attribute could be broken by):
 * for a dialect that checks its body before booking. */
bool payment_callback_url_ok(const char *u);
/* The session of this id, of any account (the id is the hosted page's
 * secret), and that account; a session past its deadline is expired first. */
bo_status payment_find(engine *e, const char *payment_id, payment_session *out, account *owner);
/* payment_find that also reads, in the same read transaction, the session's
 * order (order, optional: freed by the caller with order_record_free on
 * BO_OK, left empty otherwise) or its number (order_number, optional): the
 * hosted page's one read. */
bo_status payment_find_with_order(engine *e, const char *payment_id, payment_session *out, account *owner,
                                  order_record *order, char order_number[16]);
/* payment_find_with_order for a page that kept what it shows of the order
 * (the hosted page's GET, after its checkout): with known_change_seq >= 0 and
 * both order and order_number, the order's number and change number are read
 * and the whole order only when the change number differs (*order_read says
 * which; order is left empty when it was not read). */
bo_status payment_find_for_page(engine *e, const char *payment_id, payment_session *out, account *owner,
                                int64_t known_change_seq, order_record *order, bool *order_read,
                                char order_number[16]);
/* The account's session: BO_OK or BO_NOT_FOUND. */
bo_status payment_get(engine *e, const account *a, const char *payment_id, payment_session *out);
/* Applies an outcome to a session of `provider` (payment_next); *out gets the
 * session as it is afterwards. BO_CONFLICT "payment_finished" for
 * PAYMENT_STEP_REFUSE, BO_NOT_FOUND. *step (optional) says what was done. */
bo_status payment_report(engine *e, const char *provider, const char *payment_id, payment_outcome o, bool from_page,
                         payment_session *out, payment_step *step, bo_error *err);
/* payment_report of a session the caller has just read with payment_find,
 * whose account is owner: the session is not looked up twice. */
bo_status payment_report_owned(engine *e, const account *owner, const char *provider, const char *payment_id,
                               payment_outcome o, bool from_page, payment_session *out, payment_step *step,
                               bo_error *err);
/* The number of the account's order (what callback URLs carry as order_id):
 * BO_OK or BO_NOT_FOUND; a read of one column, not of the whole order. */
bo_status payment_order_number(engine *e, const account *a, const char *order_id, char out[16]);
/* A provider's notification: parsed by the provider, then payment_report.
 * BO_NOT_FOUND for an unknown provider (or one not served here). */
bo_status payment_notify(engine *e, const char *provider, const payment_notification *n, bool test_server,
                         payment_session *out, bo_error *err);
/* Releases the seats of orders whose payment deadline passed (the reaper);
 * returns how many orders. */
int payments_expire_due(engine *e);

/* Asks the providers of open sessions (those with remote_status) what
 * became of each not asked within PAYMENT_RECONCILE_EVERY_SECONDS, and
 * applies what they answer as if they had notified it (the reaper), so a
 * payment confirmed without a notification still completes its order.
 * Returns how many sessions moved. */
#define PAYMENT_RECONCILE_EVERY_SECONDS 10
int payments_reconcile(engine *e);

/* Ends the order's open session with the order (its cancellation, in the
 * caller's transaction): the session becomes cancelled ("the order was
 * cancelled") and its hold ends. *closed gets it (id "" when there was none);
 * after the commit, payment_session_cancel_at_provider tells its provider. */
db_status payment_sessions_end_with_order(db_conn *c, const account *a, const char *order_id, instant_us now,
                                          payment_session *closed);
void payment_session_cancel_at_provider(engine *e, const account *a, const payment_session *closed);

/* The fake provider's test hook (test servers only): records at "its end"
 * that the session of provider_ref (fk_...) ended with o, without notifying
 * us; its status then says so and the reconciler finds it. BO_INVALID "id". */
bo_status payment_fake_settle(const char *provider_ref, payment_outcome o, bo_error *err);

/* ---------- per-account provider settings (core/payment_settings.c) ---------- */
#define PAYMENT_SECRET_MIN 8
#define PAYMENT_SECRET_MAX 512
/* What may be shown of them: never the secrets, only whether they are set
 * and their last four characters. */
typedef struct {
    bool api_key_set, webhook_secret_set;
    char api_key_hint[8], webhook_secret_hint[8];
} payment_provider_settings;
/* BO_NOT_FOUND "unknown_provider" for a provider not served here. */
bo_status payment_provider_settings_get(engine *e, const account *a, const char *provider, bool test_server,
                                        payment_provider_settings *out, bo_error *err);
/* Replaces the account's settings for the provider, sealed with the server
 * key; webhook_secret NULL: none. BO_INVALID naming the field. */
bo_status payment_provider_settings_put(engine *e, const account *a, const char *provider, bool test_server,
                                        const char *api_key, const char *webhook_secret, bo_error *err);
bo_status payment_provider_settings_delete(engine *e, const account *a, const char *provider, bool test_server,
                                           bo_error *err);
/* The account's credentials for the provider, opened ({NULL, NULL} when not
 * set or the provider does not use them). BO_INTERNAL when they cannot be
 * read or opened (sealed under another key). */
bo_status payment_credentials_load(engine *e, const account *a, const payment_provider *p, payment_credentials *out);

/* The account's test mode (the test provider may take its payments). */
bo_status account_test_mode_get(engine *e, const account *a, bool *on);
bo_status account_test_mode_set(engine *e, const account *a, bool on, bo_error *err);

/* The order's newest payment session, whatever its status: BO_OK or BO_NOT_FOUND. */
bo_status payment_for_order(engine *e, const account *a, const char *order_id, payment_session *out);

/* The platform fee a sales channel adds to each ticket (minor units,
 * 0..PAYMENT_MAX_FEE; default 0): Fourvenues' `discocil`. */
bo_status account_platform_fee_get(engine *e, const account *a, money *fee);
bo_status account_platform_fee_set(engine *e, const account *a, money fee, bo_error *err);
/* Both of the above in one read transaction: what a channel's checkout asks first. */
bo_status account_sale_settings_get(engine *e, const account *a, bool *test_mode, money *platform_fee);
#endif
