/* Storage of voucher codes and of redemption counts, outside the booking
 * transaction (which spends codes and counts redemptions through the steps in
 * sales.h). One function per operation, each a whole transaction, but for the
 * refund step below. */
#ifndef BO_STORE_VOUCHERS_H
#define BO_STORE_VOUCHERS_H
#include "store/store.h"
#include "util/money.h"
#include "util/timeutil.h"

/* A code to add: its row id (chosen by the caller) and the code itself. */
typedef struct {
    const char *id;
    const char *code;
} store_voucher_code_new;

/* Adds every code to the voucher, each with `value` remaining, all or none:
 * STORE_CONFLICT when any code is already in use in the account. */
store_status store_voucher_codes_insert(store *s, const char *account_id, const char *voucher_id,
                                        const store_voucher_code_new *codes, size_t n, money value, instant_us now);

/* One code of a voucher as listed; strings borrowed for the callback. */
typedef struct {
    const char *id, *code;
    money remaining;
    const char *status; /* available | used | voided */
    instant_us created_at, updated_at;
} store_voucher_code_row;
/* fn is called once per code of the voucher, oldest first (created_at, then id). */
store_status store_voucher_codes_list(store *s, const char *account_id, const char *voucher_id,
                                      void (*fn)(void *ctx, const store_voucher_code_row *row), void *ctx);
/* Voids a code: STORE_NOT_FOUND when the voucher has no such code or it is void already. */
store_status store_voucher_code_void(store *s, const char *account_id, const char *voucher_id, const char *code_id,
                                     instant_us now);

/* A step inside the caller's transaction (a cancellation's refund): gives
 * `amount` back to the code that paid it for the order, and records it as a
 * negative redemption. A used-up code becomes available again; a voided one
 * stays void (its owner took it out of use). Only a code that paid this order
 * (a voucher redemption of it names the order) gets anything: STORE_OK
 * either way. */
store_status store_voucher_code_give_back(db_conn *c, const char *account_id, const char *code, const char *order_id,
                                          money amount, instant_us now);

/* A per-account counter's value (redemptions of a discount are counted under
 * "discount:<id>"): 0 when never counted, still STORE_OK. */
store_status store_counter_get(store *s, const char *account_id, const char *name, int64_t *value);
#endif
