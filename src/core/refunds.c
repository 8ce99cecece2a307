/* What an order's tickets are owed and what a cancellation gives back
 * (docs/MODEL.md, "Money"): each live ticket is owed what was charged for it,
 * its price after discount plus its booking fee. Paying an open order later
 * charges that sum; cancelling gives it back, up to what was paid, to the
 * payments it came from (store_order_refund_payments), and each ticket's
 * refund amount is its part of what went back, so the tickets and the
 * payments always agree. */
#include "core/internal.h"
#include "store/order_changes.h"
#include "util/objtext.h"
#include <stdlib.h>
#include <string.h>

/* Read from its document: the fee is not a column. */
static money charged(money amount, const char *doc)
{
    char *fee = objtext_member(doc, "booking_fee");
    money v = fee ? strtoll(fee, NULL, 10) : 0;
    free(fee);
    return amount + v;
}

money ticket_charged(const store_ticket_state *t)
{
    return charged(t->amount, t->doc);
}

money order_rows_owed(const order_record *o)
{
    money owed = 0;
    for (size_t i = 0; i < o->ntickets; i++) {
        const store_ticket_row *t = &o->tickets[i];
        if (!strcmp(t->status, "valid") || !strcmp(t->status, "unpaid"))
            owed += charged(t->price_gross - t->discount, t->doc);
    }
    return owed;
}

db_status order_owed(db_conn *c, const char *account_id, const char *order_id, money *owed)
{
    store_ticket_state *t;
    size_t n;
    *owed = 0;
    db_status st = store_db_status(store_order_live_tickets(c, account_id, order_id, &t, &n));
    for (size_t i = 0; st == DB_OK && i < n; i++) *owed += ticket_charged(&t[i]);
    store_ticket_states_free(t, n);
    return st;
}

db_status order_refund(db_conn *c, const char *account_id, const char *order_id, const store_ticket_state *t, size_t n,
                       instant_us now, money *amounts, money *refunded)
{
    money owed = 0;
    for (size_t i = 0; i < n; i++) {
        amounts[i] = ticket_charged(&t[i]);
        owed += amounts[i];
    }
    db_status st = store_db_status(store_order_refund_payments(c, account_id, order_id, owed, now, refunded));
    /* less went back than was owed (the order was paid in part, or not at
     * all): the tickets take what did, in order */
    money left = st == DB_OK ? *refunded : 0;
    for (size_t i = 0; i < n; i++) {
        if (amounts[i] > left) amounts[i] = left;
        left -= amounts[i];
    }
    return st;
}
