/* Dynamic pricing's rows (docs/PRICING.md): each product's settings, and the
 * sales history the demand model is fitted on, read from the tickets. Every
 * row and lookup is scoped by account. */
#ifndef BO_STORE_PRICING_STORE_H
#define BO_STORE_PRICING_STORE_H
#include "store/store.h"
#include "util/money.h"
#include "util/timeutil.h"
#include <stdbool.h>

typedef struct {
    char account_id[40];
    char product_id[48];
    bool dynamic;
    money min_price, max_price, step, gate_price, average_target, max_change_per_hour;
    instant_us updated_at;
} store_pricing_settings;

/* STORE_NOT_FOUND when the product has none (its price tables apply). */
store_status store_pricing_settings_get(store *s, const char *account_id, const char *product_id,
                                        store_pricing_settings *out);
store_status store_pricing_settings_put(store *s, const store_pricing_settings *row);
/* Every account's products with dynamic pricing on, fn once per row. */
store_status store_pricing_settings_dynamic(store *s, void (*fn)(void *ctx, const store_pricing_settings *row),
                                            void *ctx);

/* One order's tickets of one product at one occurrence: a sale. */
typedef struct {
    const char *product_id, *occurrence;
    instant_us sold_at;
    money unit_price; /* mean price paid per ticket (gross) */
    int64_t quantity;
} store_pricing_sale;

/* The account's sales made at or after since, oldest first, at most limit;
 * void tickets count too (they were demand). */
store_status store_pricing_sales(store *s, const char *account_id, instant_us since, int limit,
                                 void (*fn)(void *ctx, const store_pricing_sale *sale), void *ctx);
#endif
