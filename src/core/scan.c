/* Gate scanning. The rules (in order): unknown or cancelled barcode, unpaid
 * order, direction out (must be inside; pay-per-minute overtime), validity
 * window, scan limits (once / times per day / total), in-while-inside.
 * A redeem writes with an optimistic version check, so two gates scanning one
 * barcode at the same instant serialise: the loser re-reads and sees the
 * winner's scan. */
#include "core/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *code_names[] = {"success",           "not_found",          "already_redeemed",
                                   "already_scanned_in", "scan_in_required",   "time_limit_reached",
                                   "not_scannable_code", "future_validity",    "past_validity"};

const char *scan_code_name(scan_code c) { return code_names[c]; }

typedef struct {
    const account *a;
    const scan_request *req;
    instant_us at;
    scan_result *res;
    bool found;
} scan_ctx;

typedef struct {
    char id[40];
    char status[16];
    char limit[16];
    int64_t times, scans_used, day_scans, version;
    int64_t max_scans;      /* -1 none */
    int64_t time_seconds;   /* -1 not pay-per-minute */
    bool inside;
    instant_us valid_from, valid_to, first_scan_at, last_in_at, redeemed_at;
    char day_key[12];
    bool in_out, allow_overtime;
} ticket_state;

static db_status load_state(db_conn *c, scan_ctx *x, ticket_state *t)
{
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, status, scan_limit, scan_times, scans_used, day_scans, version, max_scans,"
                            " time_duration, inside, valid_from, valid_to, first_scan_at, last_scan_at, redeemed_at,"
                            " day_key, doc FROM tickets WHERE barcode = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(x->req->barcode), DB_TEXT(x->a->id)), &r);
    if (st != DB_OK) return st;
    if (!db_next(r)) {
        db_rows_free(r);
        return DB_NOTFOUND;
    }
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", db_text(r, 0));
    snprintf(t->status, sizeof t->status, "%s", db_text(r, 1));
    snprintf(t->limit, sizeof t->limit, "%s", db_text(r, 2));
    t->times = db_int(r, 3);
    t->scans_used = db_int(r, 4);
    t->day_scans = db_int(r, 5);
    t->version = db_int(r, 6);
    t->max_scans = db_isnull(r, 7) ? -1 : db_int(r, 7);
    t->time_seconds = db_isnull(r, 8) ? -1 : db_int(r, 8);
    t->inside = db_int(r, 9) != 0;
    t->valid_from = db_isnull(r, 10) ? 0 : db_int(r, 10);
    t->valid_to = db_isnull(r, 11) ? 0 : db_int(r, 11);
    t->first_scan_at = db_isnull(r, 12) ? 0 : db_int(r, 12);
    t->last_in_at = db_isnull(r, 13) ? 0 : db_int(r, 13);
    t->redeemed_at = db_isnull(r, 14) ? 0 : db_int(r, 14);
    snprintf(t->day_key, sizeof t->day_key, "%s", db_text(r, 15));
    json_t *doc = json_loads(db_text(r, 16), 0, NULL);
    t->allow_overtime = jbool(doc, "allow_overtime", false);
    t->in_out = jbool(doc, "in_out", false) || t->time_seconds >= 0;
    json_decref(doc);
    db_rows_free(r);
    return DB_OK;
}

static scan_code judge(const ticket_state *t, const scan_request *req, instant_us at, const char *today,
                       scan_result *res)
{
    res->remaining_seconds = -1;
    res->overtime_seconds = 0;
    if (!strcmp(t->status, "voided") || !strcmp(t->status, "refunded")) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s was cancelled", req->barcode);
        return SCAN_NOT_FOUND;
    }
    if (!strcmp(t->status, "unpaid")) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s belongs to an unpaid order", req->barcode);
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
            snprintf(res->reason, sizeof res->reason, "Barcode %.40s must be scanned in first", req->barcode);
            return SCAN_IN_REQUIRED;
        }
        if (res->overtime_seconds > 0 && !t->allow_overtime) {
            snprintf(res->reason, sizeof res->reason, "Barcode %.40s is %lld seconds over its paid time", req->barcode,
                     (long long)res->overtime_seconds);
            return SCAN_TIME_LIMIT_REACHED;
        }
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s scanned out", req->barcode);
        return SCAN_SUCCESS;
    }
    if (t->valid_from && at < t->valid_from) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s is not valid yet", req->barcode);
        return SCAN_FUTURE_VALIDITY;
    }
    if (t->valid_to && at > t->valid_to) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s has expired", req->barcode);
        return SCAN_PAST_VALIDITY;
    }
    if (t->in_out && t->inside) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s is already scanned in", req->barcode);
        return SCAN_ALREADY_SCANNED_IN;
    }
    bool exhausted = false;
    if (!strcmp(t->limit, "once")) exhausted = t->scans_used >= 1;
    else if (!strcmp(t->limit, "times_per_day")) exhausted = !strcmp(t->day_key, today) && t->day_scans >= t->times;
    if (t->max_scans >= 0 && t->scans_used >= t->max_scans) exhausted = true;
    if (exhausted) {
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s has already been redeemed", req->barcode);
        return SCAN_ALREADY_REDEEMED;
    }
    snprintf(res->reason, sizeof res->reason, "Barcode %.40s is Valid", req->barcode);
    return SCAN_SUCCESS;
}

static json_t *ticket_with_order(db_conn *c, scan_ctx *x, const char *ticket_id)
{
    json_t *t;
    if (ticket_load_json(c, x->a->id, ticket_id, &t) != DB_OK) return NULL;
    const char *order_id = jstr(t, "order_id");
    if (order_id) {
        db_rows *r;
        if (db_query(c, "SELECT visit_date, doc FROM orders WHERE id = ?", DB_ARGS(DB_TEXT(order_id)), &r) == DB_OK) {
            if (db_next(r)) {
                json_t *doc = json_loads(db_text(r, 1), 0, NULL);
                json_t *order = json_object();
                json_object_set_new(order, "visit_date", db_isnull(r, 0) ? json_null() : json_string(db_text(r, 0)));
                json_t *vt = json_object_get(doc, "visit_time"), *ve = json_object_get(doc, "visit_end_time");
                json_object_set(order, "visit_time", vt ? vt : json_null());
                json_object_set(order, "visit_end_time", ve ? ve : json_null());
                json_t *cust = json_object_get(doc, "customer");
                json_object_set(order, "customer", cust ? cust : json_object());
                json_object_set_new(t, "order", order);
                json_decref(doc);
            }
            db_rows_free(r);
        }
    }
    return t;
}

static db_status scan_fn(db_conn *c, void *arg)
{
    scan_ctx *x = arg;
    const scan_request *req = x->req;
    scan_result *res = x->res;
    ticket_state t;
    db_status st = load_state(c, x, &t);
    if (st == DB_NOTFOUND) {
        res->code = SCAN_NOT_FOUND;
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s was not found", req->barcode);
        res->remaining_seconds = -1;
        x->found = false;
        if (req->redeem)
            return db_exec(c,
                           "INSERT INTO scans (account_id, ticket_id, barcode, scanned_at, direction, result, redeemed,"
                           " created_at) VALUES (?, NULL, ?, ?, ?, 'not_found', 0, ?)",
                           DB_ARGS(DB_TEXT(x->a->id), DB_TEXT(req->barcode), DB_INT(x->at),
                                   DB_TEXT(req->direction_out ? "out" : "in"), DB_INT(clock_now())),
                           NULL);
        return DB_OK;
    }
    if (st != DB_OK) return st;
    x->found = true;
    civil_date day;
    int32_t secs;
    tz_instant_to_local(x->a->timezone, x->at, &day, &secs);
    char today[11];
    date_format(day, today);
    res->code = judge(&t, req, x->at, today, res);
    bool forced = false;
    if (res->code != SCAN_SUCCESS && req->force && req->redeem) {
        forced = true;
        snprintf(res->reason, sizeof res->reason, "Barcode %.40s redeemed by force", req->barcode);
        res->code = SCAN_SUCCESS;
    }
    json_decref(res->ticket);
    res->ticket = NULL;
    if (req->redeem) {
        bool ok = res->code == SCAN_SUCCESS;
        if (ok) {
            int64_t changes = 0;
            bool in = !req->direction_out;
            int64_t day_scans = !strcmp(t.day_key, today) ? t.day_scans : 0;
            st = db_exec(c,
                         "UPDATE tickets SET scans_used = scans_used + ?, inside = ?,"
                         " first_scan_at = COALESCE(first_scan_at, ?), last_scan_at = ?,"
                         " redeemed_at = COALESCE(redeemed_at, ?), day_key = ?, day_scans = ?, updated_at = ?,"
                         " version = version + 1 WHERE id = ? AND version = ?",
                         DB_ARGS(DB_INT(in ? 1 : 0), DB_INT(in ? 1 : 0), DB_INT(x->at),
                                 in ? DB_INT(x->at) : (t.last_in_at ? DB_INT(t.last_in_at) : DB_NULL),
                                 in ? DB_INT(x->at) : DB_NULL, DB_TEXT(today), DB_INT(in ? day_scans + 1 : day_scans),
                                 DB_INT(clock_now()), DB_TEXT(t.id), DB_INT(t.version)),
                         &changes);
            if (st != DB_OK) return st;
            if (changes == 0) return DB_RETRY; /* another gate scanned it meanwhile */
        }
        st = db_exec(c,
                     "INSERT INTO scans (account_id, ticket_id, barcode, scanned_at, direction, result, redeemed,"
                     " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     DB_ARGS(DB_TEXT(x->a->id), DB_TEXT(t.id), DB_TEXT(req->barcode), DB_INT(x->at),
                             DB_TEXT(req->direction_out ? "out" : "in"),
                             DB_TEXT(forced ? "forced" : code_names[res->code]), DB_INT(ok ? 1 : 0),
                             DB_INT(clock_now())),
                     NULL);
        if (st != DB_OK) return st;
    }
    res->ticket = ticket_with_order(c, x, t.id);
    return DB_OK;
}

bo_status scan_barcode(engine *e, const account *a, const scan_request *req, scan_result *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    out->remaining_seconds = -1;
    if (!req->barcode || !*req->barcode || strlen(req->barcode) > 128)
        return bo_fail(err, BO_INVALID, "missing_field", "barcode", "barcode is required");
    scan_ctx x = {a, req, req->scanned_at ? req->scanned_at : clock_now(), out, false};
    db_status st = req->redeem ? store_write(e->st, scan_fn, &x) : store_read(e->st, scan_fn, &x);
    if (st != DB_OK) {
        json_decref(out->ticket);
        out->ticket = NULL;
        return bo_from_db(st, err);
    }
    return BO_OK;
}
