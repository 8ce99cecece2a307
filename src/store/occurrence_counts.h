/* Live counts of what is held and issued per occurrence and product: what an
 * event page shows of each of its ticket types (held seats, live tickets,
 * the orders behind them), for a page of occurrences in one read. */
#ifndef BO_STORE_OCCURRENCE_COUNTS_H
#define BO_STORE_OCCURRENCE_COUNTS_H
#include "store/store.h"

typedef struct {
    char occurrence[64];
    char product_id[48];
    int64_t held;   /* tickets the account's open carts want (their seats are held until booked or reaped) */
    int64_t issued; /* live tickets: valid or unpaid */
} store_product_count;

/* One order with a live ticket of product at occurrence (an order counts once
 * per product, however many tickets it has there). */
typedef struct {
    char occurrence[64];
    char product_id[48];
    char order_id[40];
} store_order_presence;

typedef struct {
    store_product_count *products; /* one row per (occurrence, product) with anything held or issued */
    size_t nproducts;
    store_order_presence *orders;
    size_t norders;
} store_occurrence_counts;

/* The counts of occurrences[0..n) (at most STORE_COUNTS_MAX_KEYS), in one read
 * snapshot: one statement for open carts, one for tickets (index
 * tickets_occurrence, migration 20). Free with store_occurrence_counts_free. */
#define STORE_COUNTS_MAX_KEYS 200
store_status store_occurrence_counts_read(store *s, const char *account_id, const char *const *occurrences, size_t n,
                                          store_occurrence_counts *out);
void store_occurrence_counts_free(store_occurrence_counts *c);
#endif
