/* Inventory references of the Convious pricing API, their seats and their
 * sales history: the SQL of core/inventory_refs.h. Every row is scoped by
 * account; the steps (db_conn) run inside a transaction the engine composes. */
#ifndef BO_STORE_INVENTORY_REFS_H
#define BO_STORE_INVENTORY_REFS_H
#include "store/store.h"

/* A reference's row; prices in minor units, availability < 0: unlimited. */
typedef struct {
    char reference[513];
    char name[801];
    int64_t availability;
    int64_t min_price, max_price, step, gate_price, average_target;
    bool removed;
} store_inventory_ref;

typedef struct {
    int32_t day;
    int32_t start_time; /* -1: the whole day */
    int64_t seats_left;
} store_inventory_seats;

/* Creates the reference, or updates it and makes it active again. */
store_status store_inventory_ref_put(db_conn *c, const char *account_id, const store_inventory_ref *ref, int64_t now);
/* STORE_NOT_FOUND when the account has no such reference (removed ones count). */
store_status store_inventory_ref_set_pricing(db_conn *c, const char *account_id, const store_inventory_ref *ref,
                                             int64_t now);
store_status store_inventory_ref_remove(db_conn *c, const char *account_id, const char *reference, int64_t now);
store_status store_inventory_ref_set_seats(db_conn *c, const char *account_id, const char *reference,
                                           const store_inventory_seats *seats, int64_t now);
/* active[i]: account_ids[i] has an active (not removed) reference refs[i];
 * n lookups in one read snapshot. */
store_status store_inventory_refs_active(store *s, const char *const *account_ids, const char *const *refs, size_t n,
                                         bool *active);
/* The row and its seats on days from..to (inclusive; *seats malloc'd), in one
 * snapshot. STORE_NOT_FOUND when there is no such reference. */
store_status store_inventory_ref_get(store *s, const char *account_id, const char *reference, int32_t from, int32_t to,
                                     store_inventory_ref *out, store_inventory_seats **seats, size_t *nseats);

/* One line of an order; a line already stored (a retried event) is kept as it
 * was. Deferred (db_exec_deferred): its outcome shows in the transaction's. */
typedef struct {
    char order_id[513];
    int64_t line, quantity, unit_price;
    int32_t event_day; /* when has_day */
    bool has_day;
    int64_t sold_at;
} store_inventory_sale;
store_status store_inventory_sale_add(db_conn *c, const char *account_id, const char *reference,
                                      const store_inventory_sale *sale);
/* Every reference's sales of the account with sold_at >= since (the newest
 * `limit`), fn once per sale with its reference and that reference's gate
 * price (the pricing worker's history: the account level of the references'
 * demand model). */
store_status store_inventory_sales_all(store *s, const char *account_id, int64_t since, int limit,
                                       void (*fn)(void *ctx, const char *reference, int64_t gate_price,
                                                  const store_inventory_sale *sale),
                                       void *ctx);
/* The reference's sales with sold_at >= since, oldest first (*out malloc'd). */
store_status store_inventory_sales(store *s, const char *account_id, const char *reference, int64_t since,
                                   store_inventory_sale **out, size_t *n);
#endif
