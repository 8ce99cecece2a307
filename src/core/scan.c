/* Gate scanning. The rules (in order): unknown or cancelled barcode, unpaid
 * order, direction out (must be inside; pay-per-minute overtime), validity
 * window, scan limits (once / times per day / total), in-while-inside.
 * The store reads the ticket's scan state, this file judges it, and the store
 * writes the next state only if the ticket's version is still the one it read,
 * all in one transaction (store/scan_store.c); so two gates scanning one
 * barcode at the same instant serialise: the loser reads again and sees the
 * winner's scan. */
#include "core/internal.h"
#include "util/utf8.h"
#include "store/scan_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *code_names[] = {"success",           "not_found",          "already_redeemed",
                                   "already_scanned_in", "scan_in_required",   "time_limit_reached",
                                   "not_scannable_code", "future_validity",    "past_validity"};

const char *scan_code_name(scan_code c) { return code_names[c]; }

static scan_code judge(const ticket_scan_state *t, const scan_request *req, instant_us at, const char *today,
                       scan_result *res)
{
    res->remaining_seconds = -1;
    res->overtime_seconds = 0;
    if (!strcmp(t->status, "voided") || !strcmp(t->status, "refunded")) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.*s was cancelled", utf8_prefix(req->barcode, 40), req->barcode);
        return SCAN_NOT_FOUND;
    }
    if (!strcmp(t->status, "unpaid")) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.*s belongs to an unpaid order", utf8_prefix(req->barcode, 40), req->barcode);
        return SCAN_NOT_SCANNABLE;
    }
    if (t->time_seconds >= 0 && t->inside && t->last_in_at) {
        int64_t elapsed = (at - t->last_in_at) / US_PER_SEC;
        res->overtime_seconds = elapsed > t->time_seconds ? elapsed - t->time_seconds : 0;
        res->remaining_seconds = elapsed < t->time_seconds ? t->time_seconds - elapsed : 0;
    } else if (t->time_seconds >= 0) {
        res->remaining_seconds = t->time_seconds;
    }
    if (req->direction_out) {
        if (!t->inside) {
            snprintf(res->reason, sizeof res->reason, "Barcode %.*s must be scanned in first", utf8_prefix(req->barcode, 40), req->barcode);
            return SCAN_IN_REQUIRED;
        }
        if (res->overtime_seconds > 0 && !t->allow_overtime) {
            snprintf(res->reason, sizeof res->reason, "Barcode %.*s is %lld seconds over its paid time", utf8_prefix(req->barcode, 40), req->barcode,
                     (long long)res->overtime_seconds);
            return SCAN_TIME_LIMIT_REACHED;
        }
        snprintf(res->reason, sizeof res->reason, "Barcode %.*s scanned out", utf8_prefix(req->barcode, 40), req->barcode);
        return SCAN_SUCCESS;
    }
    if (t->valid_from && at < t->valid_from) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.*s is not valid yet", utf8_prefix(req->barcode, 40), req->barcode);
        return SCAN_FUTURE_VALIDITY;
    }
    if (t->valid_to && at > t->valid_to) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.*s has expired", utf8_prefix(req->barcode, 40), req->barcode);
        return SCAN_PAST_VALIDITY;
    }
    /* pay-per-minute time is counted between in and out, so those tickets are in/out */
    bool in_out = t->in_out || t->time_seconds >= 0;
    if (in_out && t->inside) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.*s is already scanned in", utf8_prefix(req->barcode, 40), req->barcode);
        return SCAN_ALREADY_SCANNED_IN;
    }
    bool exhausted = false;
    if (!strcmp(t->limit, "once")) exhausted = t->scans_used >= 1;
    else if (!strcmp(t->limit, "times_per_day")) exhausted = !strcmp(t->day_key, today) && t->day_scans >= t->times;
    if (t->max_scans >= 0 && t->scans_used >= t->max_scans) exhausted = true;
    if (exhausted) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.*s has already been redeemed", utf8_prefix(req->barcode, 40), req->barcode);
        return SCAN_ALREADY_REDEEMED;
    }
    snprintf(res->reason, sizeof res->reason, "Barcode %.*s is Valid", utf8_prefix(req->barcode, 40), req->barcode);
    return SCAN_SUCCESS;
}

/* The ticket after a scan that lets its holder through (direction in unless
 * out), at `at`, on the venue's day `today`. Out-scans neither count nor move
 * the last entry, which pay-per-minute time is measured from. */
static ticket_scan_state after_scan(const ticket_scan_state *t, bool in, instant_us at, const char *today)
{
    ticket_scan_state n = *t;
    int64_t day_scans = !strcmp(t->day_key, today) ? t->day_scans : 0;
    n.scans_used += in ? 1 : 0;
    n.inside = in;
    if (!n.first_scan_at) n.first_scan_at = at;
    if (in) n.last_in_at = at;
    if (in && !n.redeemed_at) n.redeemed_at = at;
    snprintf(n.day_key, sizeof n.day_key, "%s", today);
    n.day_scans = in ? day_scans + 1 : day_scans;
    return n;
}

/* The rows of the reply's ticket view, read in the same transaction as the
 * state it reports (the store calls this, on the writer for a redeem); the
 * dialect renders them after the transaction, off the writer. */
typedef struct {
    store_ticket_scan rows;
    bool loaded;
} ticket_view;

static db_status load_ticket_view(db_conn *c, const char *account_id, const char *ticket_id, void *ctx)
{
    ticket_view *v = ctx;
    if (v->loaded) store_ticket_scan_free(&v->rows); /* from an attempt that had to run again */
    store_status st = store_ticket_load_scan(c, account_id, ticket_id, &v->rows);
    v->loaded = st == STORE_OK;
    return store_db_status(st);
}

static store_status unknown_barcode(engine *e, const account *a, const scan_request *req, instant_us at,
                                    scan_result *res)
{
    res->code = SCAN_NOT_FOUND;
    snprintf(res->reason, sizeof res->reason, "Barcode %.*s was not found", utf8_prefix(req->barcode, 40), req->barcode);
    res->remaining_seconds = -1;
    res->overtime_seconds = 0;
    if (!req->redeem) return STORE_OK;
    scan_record rec = {.account_id = a->id, .barcode = req->barcode, .scanned_at = at, .out = req->direction_out,
                       .result = "not_found", .now = clock_now()};
    return store_scan_record_unknown(e->st, &rec);
}

typedef struct {
    const scan_request *req;
    instant_us at;
    const char *today;
    scan_result *res;
} scan_ctx;

/* The store calls this with the state it read in the redeem's transaction
 * (again, if that transaction had to be rerun). */
static bool decide_redeem(const ticket_scan_state *t, ticket_scan_state *next, scan_record *rec, void *arg)
{
    scan_ctx *x = arg;
    const scan_request *req = x->req;
    scan_result *res = x->res;
    res->code = judge(t, req, x->at, x->today, res);
    bool forced = false;
    if (res->code != SCAN_SUCCESS && req->force) {
        forced = true;
        snprintf(res->reason, sizeof res->reason, "Barcode %.*s redeemed by force", utf8_prefix(req->barcode, 40), req->barcode);
        res->code = SCAN_SUCCESS;
    }
    bool ok = res->code == SCAN_SUCCESS;
    *rec = (scan_record){.barcode = req->barcode, .scanned_at = x->at, .out = req->direction_out,
                         .result = forced ? "forced" : code_names[res->code], .redeemed = ok, .now = clock_now()};
    if (ok) *next = after_scan(t, !req->direction_out, x->at, x->today);
    return ok;
}

/* A check (redeem=false) is one read snapshot and writes nothing. */
static store_status scan_check(engine *e, const account *a, scan_ctx *x, ticket_view *tv)
{
    store_ticket_view view = {load_ticket_view, tv};
    ticket_scan_state t;
    store_status st = store_ticket_scan_state_by_barcode(e->st, a->id, x->req->barcode, &t, &view);
    if (st == STORE_OK) x->res->code = judge(&t, x->req, x->at, x->today, x->res);
    return st;
}

bo_status scan_barcode(engine *e, const account *a, const scan_request *req, scan_result *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    out->remaining_seconds = -1;
    if (!req->barcode || !*req->barcode || strlen(req->barcode) > 128)
        return bo_fail(err, BO_INVALID, "missing_field", "barcode", "barcode is required");
    instant_us at = req->scanned_at ? req->scanned_at : clock_now();
    civil_date day;
    int32_t secs;
    tz_instant_to_local(a->timezone, at, &day, &secs);
    char today[11];
    date_format(day, today);
    scan_ctx x = {req, at, today, out};
    ticket_view tv = {.loaded = false};
    store_ticket_view view = {load_ticket_view, &tv};
    store_status st = req->redeem ? store_ticket_scan_redeem(e->st, a->id, req->barcode, decide_redeem, &x, &view)
                                  : scan_check(e, a, &x, &tv);
    if (tv.loaded && st == STORE_OK) {
        out->ticket = tv.rows; /* handed over */
        out->has_ticket = true;
    } else if (tv.loaded) {
        store_ticket_scan_free(&tv.rows);
    }
    if (st == STORE_NOT_FOUND) st = unknown_barcode(e, a, req, at, out);
    if (st == STORE_OK) return BO_OK;
    scan_result_free(out);
    return bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure, nothing was changed");
}

void scan_result_free(scan_result *r)
{
    if (r->has_ticket) store_ticket_scan_free(&r->ticket);
    r->has_ticket = false;
}

bo_status check_ins_list(engine *e, const account *a, int64_t after_id, int64_t before_id, int limit, check_in *out,
                         size_t *n, bool *more, bo_error *err)
{
    *n = 0;
    *more = false;
    if (limit < 1 || limit > 100) return bo_fail(err, BO_INVALID, "invalid_field", "limit", "limit is 1 to 100");
    if (after_id < 0 || before_id < 0) return bo_fail(err, BO_INVALID, "invalid_field", "cursor", "unknown cursor");
    if (store_check_ins_page(e->st, a->id, after_id, before_id, limit, out, n, more) != STORE_OK)
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure");
    return BO_OK;
}
