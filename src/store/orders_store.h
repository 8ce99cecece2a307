/* Reading orders, their tickets and payments as typed rows: every column of
 * the row, the free-form doc as JSON text, nothing parsed. The engine builds
 * the canonical documents of docs/MODEL.md from these (core/orders.c). Every
 * lookup is scoped by account.
 *
 * Functions taking a `store *` are whole read transactions (one snapshot).
 * Functions taking a `db_conn *` read inside a transaction the caller already
 * runs (booking, scanning, the outbox record a change in it). */
#ifndef BO_STORE_ORDERS_H
#define BO_STORE_ORDERS_H
#include "store/store.h"
#include "util/timeutil.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An integer column that is SQL NULL. */
#define STORE_NULL_INT INT64_MIN

/* One row of tickets. Strings are owned; a nullable column is NULL when SQL
 * NULL, the others are never NULL. Nullable integers are STORE_NULL_INT. */
typedef struct {
    char *id, *account_id;
    char *order_id;             /* nullable: a ticket issued without an order */
    char *line_id, *product_id;
    char *event_id;             /* nullable */
    char *occurrence, *barcode, *status;
    int64_t price_gross, price_net, discount;
    int64_t valid_from, valid_to; /* nullable */
    char *scan_limit;
    int64_t scan_times;
    int64_t max_scans, time_duration; /* nullable */
    int64_t scans_used;
    bool inside;
    int64_t first_scan_at, last_scan_at, redeemed_at; /* nullable */
    char *day_key;              /* nullable */
    int64_t day_scans;
    int64_t invalidated_at;     /* nullable */
    int64_t version, created_at, updated_at;
    char *doc;                  /* JSON object text */
    bool allow_overtime, in_out;
} store_ticket_row;

/* One row of orders; strings owned, nullable ones NULL when SQL NULL. */
typedef struct {
    char *id, *account_id, *number, *status, *channel;
    char *cart_id, *external_id, *email, *customer_name, *reseller_id, *visit_date; /* nullable */
    char *product_type, *currency;
    int64_t total_gross, total_net, discount_total;
    int64_t created_at, updated_at, change_seq;
    char *doc;                  /* JSON object text */
} store_order_row;

/* One row of payments; strings owned, nullable ones NULL when SQL NULL. */
typedef struct {
    int64_t id;
    char *account_id, *order_id, *kind;
    char *provider, *method;    /* nullable */
    char *status;
    int64_t amount;
    char *reference;            /* nullable */
    int64_t created_at, updated_at;
    char *doc;                  /* JSON object text */
} store_payment_row;

/* The order's confirmation mail (mail_outbox), when one was queued. */
typedef struct {
    bool queued;                /* a mail was queued for the order; the rest is unset when not */
    char status[12];            /* queued | sent | failed */
    int64_t attempts;
    char *last_error;           /* nullable */
    int64_t sent_at;            /* 0 when not sent */
} store_order_mail;

/* An order with its tickets (by created_at, line_id, id), payments (by id)
 * and confirmation mail. */
typedef struct {
    store_order_row order;
    store_ticket_row *tickets;
    size_t ntickets;
    store_payment_row *payments;
    size_t npayments;
    store_order_mail mail;
} store_order_detail;

/* A ticket with what a scan reply shows of its order. */
typedef struct {
    store_ticket_row ticket;
    bool has_order;             /* the ticket names an order and it exists */
    char *order_visit_date;     /* nullable */
    char *order_doc;            /* the order's JSON text; NULL without an order */
} store_ticket_scan;

/* A ticket of a list page with its order's buyer. */
typedef struct {
    store_ticket_row ticket;
    bool has_order;             /* the ticket names an order and it exists */
    char *order_email, *order_name; /* nullable */
} store_ticket_listed;

void store_ticket_row_free(store_ticket_row *t);
void store_order_row_free(store_order_row *o);
void store_payment_row_free(store_payment_row *p);
void store_order_detail_free(store_order_detail *d);
void store_ticket_scan_free(store_ticket_scan *t);
void store_ticket_listed_free(store_ticket_listed *t);

/* One order with its tickets and payments: STORE_OK or STORE_NOT_FOUND (no
 * such order in this account). *out is zeroed first and left empty on failure;
 * free with store_order_detail_free. */
store_status store_order_load(db_conn *c, const char *account_id, const char *order_id, store_order_detail *out);
store_status store_order_get(store *s, const char *account_id, const char *order_id, store_order_detail *out);
store_status store_order_get_by_number(store *s, const char *account_id, const char *number,
                                       store_order_detail *out);

/* One ticket: STORE_OK or STORE_NOT_FOUND. Free with store_ticket_row_free. */
store_status store_ticket_load(db_conn *c, const char *account_id, const char *ticket_id, store_ticket_row *out);
store_status store_ticket_get(store *s, const char *account_id, const char *ticket_id, store_ticket_row *out);
/* One ticket and its order's visit_date and doc: STORE_OK or STORE_NOT_FOUND
 * (of the ticket; a missing order leaves has_order false). */
/* The account's ticket ids from lo to hi (as text, both included), in order,
 * at most max of them into ids (*n). */
store_status store_ticket_ids_between(store *s, const char *account_id, const char *lo, const char *hi,
                                      char (*ids)[37], size_t max, size_t *n);
store_status store_ticket_load_scan(db_conn *c, const char *account_id, const char *ticket_id,
                                    store_ticket_scan *out);

/* ---- list pages ---- */

/* Which orders a page holds. Text filters are NULL for none, instants 0. */
typedef struct {
    /* true: by change_seq ascending, strictly after after_change_seq (the
     * cursors are not looked up). false: newest first by (created_at, id),
     * after starting_after (older orders) or before ending_before (newer). */
    bool by_change_seq;
    int64_t after_change_seq;
    const char *starting_after, *ending_before; /* order ids */
    int limit;                  /* 1..1000 */
    const char *number, *email, *external_id, *reseller_id, *channel, *product_type;
    const char *name;           /* substring of the customer name, case-insensitive */
    const char *event_id, *barcode, *occurrence; /* orders with such a ticket */
    const char *extras_key, *extras_value; /* orders whose extras hold this string at this key */
    const char *statuses[4];    /* NULL-terminated unless full */
    const char *product_ids[8]; /* orders with a ticket of any; NULL-terminated unless full */
    instant_us updated_from, created_gt, created_gte, created_lt, created_lte;
    civil_date visit_from, visit_to; /* inclusive; -1 none */
} store_order_filter;

/* Which tickets a page holds: newest first by (created_at, id). */
typedef struct {
    const char *starting_after, *ending_before; /* ticket ids */
    int limit;                  /* 1..1000 */
    const char *order_id, *occurrence, *barcode, *status, *email;
    const char *name;           /* substring of the order's customer name, case-insensitive */
    instant_us created_gt, created_gte, created_lt, created_lte;
    const char *product_ids[8]; /* tickets of any; NULL-terminated unless full */
} store_ticket_filter;

typedef struct {
    store_order_detail *orders; /* in the page's order */
    size_t n;
    bool has_more;              /* another page follows in that direction */
} store_order_page;

typedef struct {
    store_ticket_listed *tickets; /* newest first */
    size_t n;
    bool has_more;
} store_ticket_page;

void store_order_page_free(store_order_page *p);
void store_ticket_page_free(store_ticket_page *p);

/* One page of the account's orders: STORE_OK, or STORE_NOT_FOUND when the
 * cursor names no order of this account (nothing is returned). */
store_status store_orders_page(store *s, const char *account_id, const store_order_filter *f, store_order_page *out);
/* One page of the account's tickets: STORE_OK, or STORE_NOT_FOUND when the
 * cursor names no ticket of this account. */
store_status store_tickets_page(store *s, const char *account_id, const store_ticket_filter *f,
                                store_ticket_page *out);
#endif
