/* What a buyer pays for an order with a payment method's fees: vendor-neutral
 * (the CM.com shop documents the formula; a hosted payment step charges the
 * same). Integer minor units throughout. */
#ifndef BO_FEES_H
#define BO_FEES_H
#include "util/money.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    money price;      /* per ticket, after discounts */
    money ticket_fee; /* per ticket (the product's booking fee) */
    int64_t amount;   /* tickets */
} fee_line;

/* sub_total = Σ (price + ticket_fee) × amount; total = sub_total + sub_total
 * × method_percent_bp (rounded half up to the minor unit, once, on the whole
 * sub-total) + method_fixed_fee. False (nothing set) on a negative input or
 * an overflow. */
bool fee_total(const fee_line *lines, size_t n, int32_t method_percent_bp, money method_fixed_fee, money *sub_total,
               money *total);
#endif
