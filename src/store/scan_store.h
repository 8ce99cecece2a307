/* Gate scanning's storage: typed reads and writes of a ticket's scan state
 * and the scan log, one transaction per call. The rules that decide a scan
 * live in core/scan.c; nothing here judges, and nothing here parses JSON. */
#ifndef BO_SCAN_STORE_H
#define BO_SCAN_STORE_H
#include "store/store.h"
#include <stdbool.h>
#include <stdint.h>

/* What the scan rules need of one ticket. Instants are microseconds since the
 * epoch, 0 when unset. */
typedef struct {
    char id[40];
    char status[16];        /* valid | unpaid | voided | refunded */
    char limit[16];         /* once | none | times_per_day */
    int64_t times;          /* scans per day under times_per_day */
    int64_t max_scans;      /* -1: no total limit */
    int64_t time_seconds;   /* -1: not pay-per-minute */
    bool allow_overtime, in_out;
    int64_t valid_from, valid_to;
    /* what the scans so far did; a redeem replaces these */
    int64_t scans_used;
    bool inside;
    int64_t first_scan_at, redeemed_at;
    int64_t last_in_at;     /* column last_scan_at: only in-scans set it (pay-per-minute counts from it) */
    char day_key[12];       /* venue-local day day_scans counts, YYYY-MM-DD; "" none */
    int64_t day_scans;
    int64_t version;        /* bumped by every redeem: the optimistic check */
} ticket_scan_state;

/* One row of the scan log. */
typedef struct {
    const char *account_id;
    const char *ticket_id;  /* NULL: the barcode named no ticket */
    const char *barcode;
    int64_t scanned_at;
    bool out;               /* direction */
    const char *result;     /* "success", "already_redeemed", ..., "forced" */
    bool redeemed;          /* whether the ticket's state changed */
    int64_t now;            /* when it was recorded */
} scan_record;

/* Transitional: lets the caller load what it shows about the ticket inside
 * the same transaction as the read or the redeem (the scan reply's ticket is
 * still a JSON document). NULL for none. */
typedef struct {
    db_status (*load)(db_conn *c, const char *account_id, const char *ticket_id, void *ctx);
    void *ctx;
} store_ticket_view;

/* The scan state of the account's ticket with this barcode: STORE_OK or
 * STORE_NOT_FOUND. One read snapshot, writes nothing. */
store_status store_ticket_scan_state_by_barcode(store *s, const char *account_id, const char *barcode,
                                                ticket_scan_state *out, const store_ticket_view *view);

/* Logs rec and, when next is given, moves the ticket (rec->ticket_id) to
 * next's scan fields and bumps its version, all in one transaction, only if
 * the ticket is still at expected_version: else nothing is written and
 * STORE_CONFLICT says to read again. Without next the version is checked too,
 * so the logged result always belongs to the state it was judged on. A
 * conflict is not retried here: the caller's loop is the one retry budget. */
store_status store_ticket_redeem(store *s, int64_t expected_version, const ticket_scan_state *next,
                                 const scan_record *rec, const store_ticket_view *view);

/* Decides one scan of the state read inside the redeem's transaction: fills
 * *rec (its ticket_id is set by the store) and returns true with *next filled
 * to move the ticket, false to only log the scan. Runs on the store's writer;
 * it must only compute. */
typedef bool (*store_scan_decider)(const ticket_scan_state *now, ticket_scan_state *next, scan_record *rec,
                                   void *ctx);

/* Read, decide and write in one transaction: store_ticket_redeem with the
 * state read in the same transaction, so concurrent gates queue on the
 * writer (SQLite) instead of losing races; where they can still race
 * (PostgreSQL), the lost version check reruns the whole transaction under the
 * store's retry budget, and the rerun sees the winner. STORE_NOT_FOUND when
 * the barcode names no ticket of the account (nothing logged). */
store_status store_ticket_scan_redeem(store *s, const char *account_id, const char *barcode,
                                      store_scan_decider decide, void *ctx, const store_ticket_view *view);

/* Logs a scan of a barcode that named no ticket. */
store_status store_scan_record_unknown(store *s, const scan_record *rec);

/* One scan that moved a ticket (a redeem, in or out), with the ticket's
 * product and occurrence. Instants are microseconds since the epoch. */
typedef struct {
    int64_t id;             /* the scan log's key: its order is the list's */
    char ticket_id[40];
    char product_id[40];
    char occurrence[64];
    int64_t scanned_at, created_at;
    bool out;
} store_check_in;

/* A keyset page of the account's redeems, newest first: those with an id
 * below after_id (0: from the newest), or, when before_id is set, the
 * nearest ones above it (still served newest first). Fills up to `limit`
 * rows into out (room for limit rows) and sets *more when there are more in
 * that direction. One statement. */
store_status store_check_ins_page(store *s, const char *account_id, int64_t after_id, int64_t before_id, int limit,
                                  store_check_in *out, size_t *n, bool *more);
#endif
