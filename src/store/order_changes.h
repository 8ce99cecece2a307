/* Storage operations that change existing orders and tickets: cancelling an
 * order, marking a pay-later order paid, voiding a ticket, and bumping an
 * order's place in the account's change timeline. Every row and lookup is
 * scoped by account. Nothing here parses JSON: the documents travel as text
 * (the engine writes them whole), and what a change decides with is columns
 * (a ticket's pools are its `pools` column, encoded as carts encode holds).
 *
 * All of these are steps taking a `db_conn *`: the engine composes each change
 * inside one store_write together with its outbox events, whose payloads are
 * the canonical documents it loads in that same transaction. A step that
 * returns anything but STORE_OK may have written part of its work; the caller
 * rolls its transaction back (store_db_status).
 *
 * A step that finds a row's state changed since the caller read it in the
 * same transaction (another writer got there first, possible on PostgreSQL's
 * read committed) returns STORE_RETRY or STORE_CONFLICT as documented, never
 * overwrites it. */
#ifndef BO_STORE_ORDER_CHANGES_H
#define BO_STORE_ORDER_CHANGES_H
#include "store/sales.h"

/* What a change needs of an order. */
typedef struct {
    char status[16];  /* open | confirmed | cancelled */
    char *doc;        /* owned JSON object text */
} store_order_state;

void store_order_state_free(store_order_state *o);

/* What a change needs of a ticket. */
typedef struct {
    char id[40];
    char status[16];   /* valid | unpaid | voided | refunded */
    char order_id[40]; /* "" when issued without an order */
    char line_id[40];
    money amount;      /* what was charged for it: price_gross - discount */
    char *doc;         /* owned JSON object text (names, taxes, holder, refund) */
    store_hold *pools; /* owned: the seats it takes, by pool and occurrence */
    size_t npools;
} store_ticket_state;

void store_ticket_state_free(store_ticket_state *t);
/* Frees n states and the array. */
void store_ticket_states_free(store_ticket_state *t, size_t n);

/* Payment details of marking an order paid; any field may be NULL. */
typedef struct {
    const char *provider, *method, *reference;
    money amount; /* < 0: the sum of the order's tickets (price_gross - discount); the engine
                     passes what they were charged, booking fees included (order_owed) */
} store_payment;

/* Reads an order's status and document: STORE_OK or STORE_NOT_FOUND. The
 * caller frees with store_order_state_free (also after a refusal). */
store_status store_order_state_get(db_conn *c, const char *account_id, const char *order_id, store_order_state *out);

/* Reads a ticket's status, order, amount, document and pools: STORE_OK or
 * STORE_NOT_FOUND. Free with store_ticket_state_free (also after a refusal). */
store_status store_ticket_state_get(db_conn *c, const char *account_id, const char *ticket_id,
                                    store_ticket_state *out);

/* The order's live tickets (valid or unpaid); *out is malloc'd (NULL when
 * none): free with store_ticket_states_free. STORE_OK also when there are none. */
store_status store_order_live_tickets(db_conn *c, const char *account_id, const char *order_id,
                                      store_ticket_state **out, size_t *n);

/* Gives back up to `amount` of what was paid for the order, to where it came
 * from (docs/MODEL.md, "Money"): the paid payments are refunded oldest first,
 * each with a refund row of the part of it that goes back (its provider,
 * method and reference); a payment that goes back whole (a 0.00 one too) is
 * marked refunded, one that goes back in part stays paid (its `refunded`
 * counts what did: a later refund gives back only the rest). A voucher payment's
 * part goes back to its code (store_voucher_code_give_back). *refunded gets
 * the sum: min(amount, what was paid), 0 when nothing was. */
store_status store_order_refund_payments(db_conn *c, const char *account_id, const char *order_id, money amount,
                                         instant_us now, money *refunded);

/* Where one part of a refund went: a payment's provider and reference (the
 * payment session's id for a session's payment; NULL none), and how much. */
typedef struct {
    char *provider, *reference; /* owned */
    money amount;
} store_refund_part;
void store_refund_parts_free(store_refund_part *p, size_t n);
/* store_order_refund_payments, telling where the money went: *parts (malloc'd,
 * NULL when nothing went back) one entry per payment given something back. */
store_status store_order_refund_payments_to(db_conn *c, const char *account_id, const char *order_id, money amount,
                                            instant_us now, money *refunded, store_refund_part **parts,
                                            size_t *nparts);
/* What the order's paid payments can still give back: Σ (amount - refunded). */
store_status store_order_refundable(db_conn *c, const char *account_id, const char *order_id, money *left);

/* Replaces a refunded ticket's document (another refund of it recorded) if it
 * still is `old_doc`: STORE_OK, STORE_RETRY when it changed or is no longer
 * refunded (read it again). */
store_status store_ticket_refunded_doc_set(db_conn *c, const char *account_id, const char *ticket_id,
                                           const char *old_doc, const char *doc, instant_us now);

/* Takes a live ticket out of use: sets its status (voided | refunded),
 * invalidated_at, updated_at and document (NULL keeps it), bumps its version
 * and gives back its seats `holds`. STORE_NOT_FOUND, STORE_CONFLICT when the
 * ticket is no longer valid or unpaid; on either nothing is written. */
store_status store_ticket_invalidate(db_conn *c, const char *account_id, const char *ticket_id,
                                     const char *new_status, const store_hold *holds, size_t nholds,
                                     const char *doc, instant_us now);

/* Replaces a live ticket's document with `doc` if it still is `old_doc` (read
 * in this transaction), bumping its version and updated_at. STORE_NOT_FOUND;
 * STORE_CONFLICT when it is no longer valid or unpaid; STORE_RETRY when its
 * document changed since it was read (nothing written). */
store_status store_ticket_set_doc(db_conn *c, const char *account_id, const char *ticket_id, const char *old_doc,
                                  const char *doc, instant_us now);

/* Gives the order the account's next change sequence and sets updated_at.
 * The counter is a hot row: call this last in a transaction. STORE_NOT_FOUND. */
store_status store_order_touch(db_conn *c, const char *account_id, const char *order_id, instant_us now);

/* Marks the order cancelled with its new document (NULL keeps it), then
 * touches it (store_order_touch). STORE_NOT_FOUND, STORE_CONFLICT when it was
 * already cancelled (nothing written). */
store_status store_order_cancel(db_conn *c, const char *account_id, const char *order_id, const char *doc,
                                instant_us now);

/* Marks an open (pay-later) order paid: records a paid payment (p NULL: no
 * details, the ticket total), makes its unpaid tickets valid, confirms the
 * order and touches it (store_order_touch). STORE_NOT_FOUND, STORE_CONFLICT
 * when the order is not open (nothing written). */
store_status store_order_mark_paid(db_conn *c, const char *account_id, const char *order_id, const store_payment *p,
                                   instant_us now);
#endif
