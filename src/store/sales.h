/* Storage operations of the sales path: capacity, carts, orders and tickets.
 * The engine decides; these functions hold all the SQL and report outcomes
 * as a store_status. Every row and every lookup is scoped by account: two
 * accounts may use the same pool, product or code ids without sharing
 * anything.
 *
 * Functions taking a `store *` are whole transactions. Functions taking a
 * `db_conn *` are steps of the booking transaction, which the engine
 * composes inside store_write because its decisions (prices, discounts,
 * voucher expiry) depend on rows read in that same transaction. */
#ifndef BO_STORE_SALES_H
#define BO_STORE_SALES_H
#include "store/store.h"
#include "util/money.h"
#include "util/timeutil.h"

/* Seats of one pool at one occurrence that a cart holds or wants. */
typedef struct {
    char pool_id[48];
    char occurrence[64];
    int64_t amount;
    int64_t capacity; /* the pool's capacity, or -1 to use the row's own (re-taking a recorded hold) */
} store_hold;

/* An option chosen with each ticket of a line, priced when the cart was. */
#define STORE_LINE_OPTIONS_MAX 8
typedef struct {
    char option_id[72];
    int64_t quantity;  /* per ticket */
    money unit_price;  /* in the product's tax mode */
} store_cart_option;

typedef struct {
    char product_id[48];
    int64_t quantity;
    money unit_price, gate_price;
    money booking_fee; /* per ticket, as the booking will charge it */
    store_cart_option options[STORE_LINE_OPTIONS_MAX];
    size_t noptions;
} store_cart_line;

typedef struct {
    char id[40];
    char account_id[40];
    char status[12];       /* open | expired | booked | released; "expired" also when open past expires_at */
    char order_id[40];     /* "" until booked */
    char channel[24];
    char occurrence[64];
    char category_id[48];  /* "" none */
    civil_date day;        /* -1 undated */
    int32_t start_time, end_time; /* -1 none */
    instant_us starts_at, ends_at; /* 0 none */
    instant_us expires_at, created_at, updated_at;
    bool priced, price_includes_tax;
    money total;           /* the lines' value with tax, before discount and fees: the order's total_gross */
    char currency[4];
    char *external_id;     /* owned; NULL none */
    char *extras;          /* owned JSON object text */
    char *customer;        /* owned JSON object text; NULL none */
    store_cart_line *lines;/* owned */
    size_t nlines;
} store_cart;

void store_cart_free(store_cart *c);

/* Creates an open cart holding `holds` (all or nothing): STORE_SOLD_OUT when
 * any pool lacks room, and then nothing is written. */
store_status store_cart_create(store *s, const store_cart *cart, const store_hold *holds, size_t nholds);
/* store_cart_create as a step of the caller's transaction (a bulk booking). */
store_status store_cart_insert(db_conn *c, const store_cart *cart, const store_hold *holds, size_t nholds);
/* Replaces an open or expired cart's content and holds atomically (the old
 * holds are given back first). STORE_NOT_FOUND, STORE_CONFLICT when booked or
 * released, STORE_SOLD_OUT (the old content stays). */
store_status store_cart_replace(store *s, const store_cart *cart, const store_hold *holds, size_t nholds);
/* Gives back the holds and marks the cart released. */
store_status store_cart_release(store *s, const char *account_id, const char *cart_id, instant_us now);
/* Reads a cart with its lines; the caller frees with store_cart_free. */
store_status store_cart_get(store *s, const char *account_id, const char *cart_id, instant_us now, store_cart *out);
/* Expires up to `limit` carts whose hold ended before now and gives their
 * seats back; *released gets how many. */
store_status store_carts_reap(store *s, instant_us now, int limit, int *released);
/* Read only: whether any open cart's hold ended before now, so an idle reaper
 * runs no write transaction (on SQLite each one costs a WAL fsync). */
store_status store_carts_expired_exist(store *s, instant_us now, bool *any);

/* Remaining seats: used counts per occurrence of one pool, keys in [from, to)
 * (or every key when from is NULL). fn is called once per row. */
store_status store_inventory_used(store *s, const char *account_id, const char *pool_id, const char *from_key,
                                  const char *to_key, void (*fn)(void *ctx, const char *occurrence, int64_t used),
                                  void *ctx);
/* Seats of one pool occurrence held by the account's open carts (an expired
 * cart the reaper has not released yet included: its seats are still taken). */
store_status store_open_carts_held(store *s, const char *account_id, const char *pool_id, const char *occurrence,
                                   int64_t *held);
/* Sets a pool's capacity on every occurrence already counted (in a catalog
 * write). STORE_CONFLICT when it would drop below what is held or sold. */
store_status store_inventory_set_capacity(db_conn *c, const char *account_id, const char *pool_id,
                                          int64_t capacity);
/* Whether any occurrence of the pool has seats held or sold (a catalog write's
 * step, before deleting the pool). */
store_status store_inventory_pool_in_use(db_conn *c, const char *account_id, const char *pool_id, bool *in_use);

/* ---- steps of the booking transaction ---- */

/* Reads the cart and claims it for booking in the state read (open or
 * expired), so a concurrent booking, delete or reaper makes this attempt
 * retry. STORE_CONFLICT: already booked (out->order_id set) or released. */
store_status store_cart_claim(db_conn *c, const char *account_id, const char *cart_id, const char *order_id,
                              instant_us now, store_cart *out, bool *was_expired);
/* Takes the seats an expired cart had recorded again: STORE_SOLD_OUT if gone. */
store_status store_cart_retake(db_conn *c, const char *account_id, const char *cart_id);
/* Takes every hold, hot rows last in a fixed order: STORE_SOLD_OUT when any lacks room. */
store_status store_inventory_take(db_conn *c, const char *account_id, const store_hold *holds, size_t n);
store_status store_inventory_give_back(db_conn *c, const char *account_id, const store_hold *holds, size_t n);

typedef struct {
    char id[40];
    const char *order_id, *line_id, *product_id, *event_id, *occurrence, *status;
    char barcode[72]; /* generated: 20 digits; a channel's own: up to 64 characters */
    money price_gross, price_net, discount;
    instant_us valid_from, valid_to; /* 0 none */
    const char *scan_limit;
    int64_t scan_times, max_scans, time_duration; /* -1 none for the last two */
    bool allow_overtime, in_out;
    const char *doc;       /* JSON text: the free-form part (names, taxes, holder) */
    /* the seats the ticket takes, released when it is voided or refunded,
     * stored in its `pools` column; consecutive tickets pointing at the same
     * array (the tickets of one line) are encoded once */
    const store_hold *pools;
    size_t npools;
} store_ticket;

/* Inserts tickets with few statements (one per ROWS_PER_INSERT); tickets of
 * one line must be consecutive. STORE_RETRY on a barcode collision. */
store_status store_tickets_insert(db_conn *c, const char *account_id, const store_ticket *t, size_t n,
                                  instant_us now);
/* Whether any ticket, of any account, has this barcode (barcodes are unique
 * in the store): a step before inserting a ticket whose barcode a caller chose. */
store_status store_barcode_taken(db_conn *c, const char *barcode, bool *taken);

/* Holds as text, as carts and tickets store them: one record per hold,
 * "pool_id TAB occurrence TAB amount NL", ids escaping '%', tab and newline
 * as %XX. Encode returns malloc'd text; decode fills a malloc'd array
 * (capacity -1) and returns false on malformed text. */
char *store_holds_encode(const store_hold *holds, size_t n);
bool store_holds_decode(const char *text, store_hold **out, size_t *n);
/* A cart's `lines` column into out->lines (malloc'd, out->nlines); false when malformed. */
bool store_cart_lines_decode(const char *text, store_cart *out);

typedef struct {
    const char *id, *number, *status, *channel, *cart_id, *external_id, *email, *customer_name, *reseller_id,
        *visit_date, *currency, *doc;
    money total_gross, total_net, discount_total;
    int64_t change_seq;
} store_order;

/* STORE_RETRY when the order number is taken. */
store_status store_order_insert(db_conn *c, const char *account_id, const store_order *o, instant_us now);
/* store_order_insert with the account's next order-change number
 * (o->change_seq is set on SQLite; -1 on PostgreSQL, where the counter and
 * the insert are one statement sent with the COMMIT, so the hot counter row
 * is locked for the commit alone). Call it as the transaction's last write;
 * its failure may only show at the commit. */
store_status store_order_insert_next_change(db_conn *c, const char *account_id, store_order *o, instant_us now);
store_status store_payment_insert(db_conn *c, const char *account_id, const char *order_id, const char *provider,
                                  const char *method, const char *status, money amount, const char *reference,
                                  instant_us now);
/* Next value of a per-account counter. */
store_status store_counter_next(db_conn *c, const char *account_id, const char *name, int64_t *out);
store_status store_redemption_insert(db_conn *c, const char *account_id, const char *kind, const char *object_id,
                                     const char *code, const char *order_id, money amount, instant_us now);

typedef struct {
    char id[48], voucher_id[48];
    money remaining;
    bool available;
} store_voucher_code;
store_status store_voucher_code_find(db_conn *c, const char *account_id, const char *code, store_voucher_code *out);
/* Spends `amount` if the code still has it: STORE_RETRY when a concurrent order spent it first. */
store_status store_voucher_code_spend(db_conn *c, const char *code_id, money amount, instant_us now);

#endif
