/* Shared between the engine's modules; not for the dialects. */
#ifndef BO_CORE_INTERNAL_H
#define BO_CORE_INTERNAL_H
#include "core/catalog_model.h"
#include "core/engine.h"
#include "core/mail.h"
#include "core/sender.h"
#include "core/webhooks.h"
#include "store/accounts_store.h"
#include "store/order_changes.h"
#include "store/orders_store.h"
#include "store/sales.h"
#include <pthread.h>
#include <stdatomic.h>

/* An immutable copy of one account's catalog at one version; shared by
 * requests through a reference count, never modified once built. */
typedef struct catalog_snapshot {
    atomic_int refs;
    int64_t version;
    _Atomic int64_t checked_ms; /* when the version was last confirmed current */
    char account_id[40];
    catalog_model *model;        /* typed, with each object's document text: what requests decide with */
} catalog_snapshot;

/* The authentication cache (core/auth.c): keyed credential hash -> the
 * account it authenticates, so an authenticated request reads no SQL. Entries
 * are valid for one database-wide auth version; see auth.c for the rules. */
typedef struct auth_entry auth_entry;
typedef struct {
    /* One mutex over the table, the counts, version and checked_ms: a hit must
     * see entries and the version they belong to as one state, and it holds the
     * lock only for a hash probe and a struct copy (far shorter than the
     * request), so a rwlock would cost more than the contention it saves. */
    pthread_mutex_t lock;
    auth_entry **buckets;
    size_t entries, negatives;
    int64_t version;    /* auth version the entries were read at; -1 before the first read */
    int64_t checked_ms; /* monotonic ms when that version was last confirmed current */
} auth_cache;

#define INVENTORY_VERSION_SLOTS 4096
#define ACCESS_UNLOCKED_SLOTS 64

struct engine {
    store *st;
    engine_config cfg;
    pthread_mutex_t cache_lock; /* guards snapshots */
    catalog_snapshot **snapshots;
    size_t nsnapshots;
    pthread_t reaper;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
    bool reaper_running;
    /* webhook delivery (core/webhooks.c) */
    sender webhook_sender;
    /* confirmation mail (core/mail.c): its sender, and the PDF renderer
     * (mail_set_pdf_renderer: set at start-up, published with a release store) */
    sender mail_sender;
    _Atomic(order_pdf_renderer) mail_pdf_renderer;
    /* registered at start-up, never changed or removed: entries below the count
     * are immutable, the count is stored with release and loaded with acquire */
    webhook_format webhook_formats[WEBHOOK_MAX_FORMATS];
    _Atomic size_t webhook_nformats;
    /* the operator's allow list (engine_config.webhook_allow), set by engine_open */
    webhook_net webhook_allow[WEBHOOK_MAX_ALLOW];
    int webhook_nallow;
    /* the delivery worker's kept connections (core/webhooks.c): a curl multi
     * handle whose connection cache outlives a batch, so a busy endpoint gets
     * keep-alive instead of a connect per delivery; the lock keeps a second
     * caller of webhooks_deliver_due (tests) off it */
    pthread_mutex_t webhook_pool_lock;
    CURLM *webhook_pool;
    /* the outbox's renderer (events_set_renderer): written once at start-up,
     * then published with a release store of outbox_renderer_set */
    outbox_renderer outbox_render;
    _Atomic bool outbox_renderer_set;
    auth_cache auth;
    /* inventory versions (core/inventory.c): counters bumped after each commit
     * that changed inventory, by (account, day) hashed into a fixed table.
     * Two keys sharing a slot only cost a needless refresh, never a stale one */
    _Atomic uint64_t inventory_versions[INVENTORY_VERSION_SLOTS];
    struct usage_memory *usage; /* used seats per pool and day as last read (core/usage_memory.c) */
    /* bumped after this process changed an account's access keys or settings:
     * rare admin writes, so one counter for all accounts (a needless refresh
     * of others' cached replies, never a stale one) */
    _Atomic uint64_t access_version;
    /* accounts found with no access keys at all, each with the access_version
     * read before looking (core/access_keys.c): every shop request asks, few
     * accounts lock events, and a key added since has moved the version */
    pthread_mutex_t unlocked_lock;
    struct {
        char account_id[40]; /* "" empty slot */
        uint64_t version;
    } unlocked[ACCESS_UNLOCKED_SLOTS];
    struct pricing_cache *pricing; /* settings, models and plans (core/dynamic_pricing.c), its own lock */
    struct analytics_queue *analytics; /* accepted analytics not yet written (core/analytics.c), its own lock */
};
/* Sets e->pricing, then starts its worker (which reads e->pricing) when
 * e->cfg.start_workers. */
void pricing_cache_open(engine *e);
void pricing_cache_close(struct pricing_cache *c);
/* A commit changed the account's inventory: plans are rebuilt soon. */
void pricing_inventory_changed(engine *e, const char *account_id);
/* An OrderCreated sold inventory references of the account: their plans are
 * rebuilt as after a sale (when the cache prices any of the account's). */
void pricing_references_sold(engine *e, const char *account_id);

/* The analytics ingest queue (core/analytics.c): opened by engine_open (its
 * writer thread when e->cfg.start_workers), closed by engine_close after
 * e->stopping is set, writing what is still queued. */
void analytics_queue_open(engine *e);
void analytics_queue_close(engine *e);

/* order_book with a step of the caller's run in the booking's transaction
 * once the order is written (rows: the order as booked, also when the cart
 * was booked before; created: by this transaction): its refusal (DB_ABORT) or failure undoes the booking,
 * and it runs again when the transaction does. payment_book_and_start uses it
 * so a checkout is one write transaction, not two. */
typedef db_status (*booked_step)(db_conn *c, const order_record *rows, bool created, void *arg);
bo_status order_book_then(engine *e, const account *a, const book_request *req, booked_step then, void *then_arg,
                          char order_id[40], bool *created, bo_error *err);

/* Access keys or account settings changed (core/access_keys.c): bumps access_version. */
void access_changed(engine *e);

/* The store's change hook (store_set_change_hook): a commit of this process
 * changed the inventory of (account, occurrence). */
void inventory_changed(void *e, const char *account_id, const char *occurrence);
/* The day an occurrence key counts on: YYYY-MM-DD or YYYY-MM-DDTHH:MM; -1 for
 * any other key (undated, a whole pool, an event's own occurrence id). */
civil_date occurrence_day(const char *occurrence);
/* Sum of the versions of [from, to) and of the account's undated slot;
 * from > to (or from < 0) asks for the version of any change of the account. */
uint64_t inventory_version(engine *e, const char *account_id, civil_date from, civil_date to);
/* The version of one day; day < 0: of any change of the account. */
uint64_t inventory_day_version(engine *e, const char *account_id, civil_date day);

/* The used seats of pools per occurrence, kept in memory for availability
 * (core/usage_memory.c). A day's figures are reread when this process changed
 * its inventory since (inventory_version) or they are USAGE_FRESH_MS old, so
 * other processes' writes show within that. Holds are still decided by the
 * database; this is for reading. */
#define USAGE_FRESH_MS 50
struct usage_memory *usage_memory_new(void);
void usage_memory_free(struct usage_memory *m);
/* Calls fn(ctx, occurrence, used) for every occurrence of pool with seats used on
 * the days [from, to) (every day when from_key is NULL: a pool counted as a
 * whole), from memory where current, else from the store. */
store_status usage_read(engine *e, const char *account_id, const char *pool_id, bool ranged, civil_date from,
                        civil_date to, void (*fn)(void *ctx, const char *occurrence, int64_t used), void *ctx);

/* The auth version is re-read at most every AUTH_RECHECK_MS, so a credential
 * revoked (or an account changed) by another server process stops working
 * within that time; this process's own writes apply at once. */
#define AUTH_RECHECK_MS 100
void auth_cache_init(auth_cache *c);
void auth_cache_destroy(auth_cache *c);
/* After a transaction that bumped the auth version (store_auth_version_bump,
 * which every credential or account change runs) committed. */
void auth_cache_advance(engine *e, int64_t version);
/* Entries cached, and how many of them say "no such credential" (tests). */
size_t auth_cache_size(engine *e, size_t *negatives);

/* Current snapshot for the account (loads if stale); release with catalog_release.
 * The version is re-read from the database at most every CATALOG_RECHECK_MS, so
 * a catalog change made by another server process shows within that time;
 * this process's own changes show at once. */
#define CATALOG_RECHECK_MS 50
catalog_snapshot *catalog_acquire(engine *e, const account *a);
void catalog_release(catalog_snapshot *s);
/* Bumps the account's catalog version inside a write transaction. */
db_status catalog_touch(db_conn *c, const char *account_id);


/* Seats one cart (or ticket) takes: the pool uses of every line at the
 * occurrence, merged per pool and sorted (a fixed lock order keeps PostgreSQL
 * free of deadlocks). Returns the count, or -1 with err set for an unknown
 * product. *out malloc'd. */
int pool_needs_for(const catalog_model *m, const char *occurrence, const cart_line *lines, size_t n,
                   store_hold **out, bo_error *err);
/* Adds to the n holds of *holds (sorted) the one use of the discount with
 * this code that a cart holds when the discount is limited; returns the new
 * count, or -1 with err set (unknown or expired code). */
int discount_use_hold(const catalog_model *m, const char *code, store_hold **holds, int n, bo_error *err);

/* A cart_create up to its write (core/cart.c): checks the request against the
 * catalog, fills *out with a new id and times, and *holds (malloc'd, nholds)
 * with the seats it takes. On failure nothing is left to free. */
bo_status cart_prepare(engine *e, const account *a, const cart_request *req, cart_record *out, store_hold **holds,
                       size_t *nholds, bo_error *err);

/* occurrence_resolve over a catalog model already acquired. */
bo_status occurrence_resolve_in(const catalog_model *m, const account *a, const cat_product *product,
                                const char *category_id, civil_date day, int32_t start_time, const char *occurrence_id,
                                slot *out, bo_error *err);

/* Price of one ticket of p at slot: the first matching price rule, else the base price. */
price_quote product_price_at(const cat_product *p, const slot *at);

/* What discount d takes off an order line of `quantity` tickets at `unit`
 * (core/discounts.c): a percentage rounded once for the line, a fixed amount
 * per ticket (never more than the ticket). Ticket i of the line gets
 * money_share(total, quantity, i), so the tickets sum to the line's discount. */
money discount_line_total(const cat_discount *d, money unit, int64_t quantity);
/* What discount d takes off the booking fees of such a line, `fee` per ticket,
 * by the same rules: booking_fee_amount per ticket (never below a fee of 0),
 * booking_fee_percent_bp of the line's fees rounded once for the line, spread
 * over its tickets with money_share. */
money discount_line_fee_total(const cat_discount *d, money fee, int64_t quantity);

/* Custom questions (core/questions.c). answers_check: each answer against its
 * question (known, scope, type, options), before the booking's transaction;
 * answers_check_cart: against the cart inside it (ticket indexes, the products
 * a question is asked for, and every required question answered when
 * enforce_required). answers_json: the answers for ticket `index` (-1: the
 * order's) as JSON array text, malloc'd, or NULL when there are none. */
bo_status answers_check(const catalog_model *m, const question_answer *answers, size_t n, bo_error *err);
bo_status answers_check_cart(const catalog_model *m, const question_answer *answers, size_t n, bool enforce_required,
                             const store_cart *cart, bo_error *err);
char *answers_json(const catalog_model *m, const question_answer *answers, size_t n, int64_t index);

/* What was charged for a ticket: its price after discount and its booking
 * fee (core/refunds.c). */
money ticket_charged(const store_ticket_state *t);
/* What the order's live tickets were charged, booking fees included
 * (core/refunds.c): what paying an open order later takes. */
db_status order_owed(db_conn *c, const char *account_id, const char *order_id, money *owed);
/* The same sum from an order already read in the caller's transaction (its
 * rows as store_order_load gives them): no second read. */
money order_rows_owed(const order_record *o);
/* Refunds the order for its live tickets t[0..n) as a cancellation does
 * (core/refunds.c), in the caller's transaction: amounts[i] gets what went back
 * for ticket i, *refunded the sum, which is what the payments got back. */
db_status order_refund(db_conn *c, const char *account_id, const char *order_id, const store_ticket_state *t, size_t n,
                       instant_us now, money *amounts, money *refunded);

/* Gives a live ticket's seats back and marks it new_status (voided |
 * refunded) with doc (NULL keeps it), recording TICKET.UPDATED
 * (core/booking.c). *step: the store's answer (STORE_CONFLICT: not live). */
db_status release_ticket(engine *e, db_conn *c, const account *a, const store_ticket_state *t,
                         const char *new_status, const char *doc, instant_us now, store_status *step);
/* The order's document with status_reason, cancelled_at and cancelled_by set
 * (malloc'd text; core/booking.c). */
char *cancelled_doc(const char *doc_text, const char *reason, const char *by, instant_us now);

/* Maps a storage outcome onto the engine's status for storage failures. */
bo_status bo_from_store(store_status st, bo_error *err);

/* Whether any active webhook subscription of the account exists: callers skip
 * building event payloads when none does (the common case, and the hot path).
 * Answered from a per-account cache confirmed at most every
 * CATALOG_RECHECK_MS, so usually without a query (core/events.c). */
db_status events_wanted(db_conn *c, const char *account_id, bool *any);
/* After that transaction committed: this process's events_wanted stops
 * trusting any answer older than version. */
void events_subscriptions_changed(const char *account_id, int64_t version);
/* Outbox: records a change event, with the canonical object as it is now, in
 * the current transaction, so a crash can neither lose nor invent one
 * (core/events.c). object: the object's JSON text (borrowed), embedded as
 * is; NULL records null (a deleted object, or no renderer registered). */
db_status events_record(db_conn *c, const char *account_id, change_event ev, const char *object_id,
                        const char *object);
/* The order's / ticket's event, read through the change's connection and
 * rendered by the outbox renderer, when anyone subscribed (core/events.c). */
db_status events_record_order(engine *e, db_conn *c, const account *a, change_event ev, const char *order_id);
db_status events_record_ticket(engine *e, db_conn *c, const char *account_id, change_event ev,
                               const char *ticket_id);
/* The events of a booking (ORDER.CREATED, then ISSUED_TICKET.CREATED per
 * ticket) from the order as the booking's transaction read it. */
db_status events_record_booking(engine *e, db_conn *c, const account *a, const order_record *o);
/* Gives the order the account's next change sequence and records ORDER.UPDATED. */
db_status order_touch(engine *e, db_conn *c, const account *a, const char *order_id, instant_us now);


bo_status bo_from_db(db_status st, bo_error *err);

/* Background workers sleep here: false once the engine is stopping. */
bool engine_wait(engine *e, unsigned ms);

/* The engine's account from its stored row (the currency's minor units are derived). */
void account_from_store(const store_account *in, account *out);

/* Occurrence key from day + time (see engine.h). */
void occurrence_key(civil_date day, int32_t time_from, char out[64]);
#endif
