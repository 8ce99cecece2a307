/* SQL of the webhook outbox (see outbox.h). */
#include "store/outbox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- subscription version ---------------- */

store_status store_webhook_version_get(db_conn *c, const char *account_id, int64_t *version)
{
    return store_status_of(db_query_int(c, "SELECT version FROM webhook_versions WHERE account_id = ?",
                                DB_ARGS(DB_TEXT(account_id)), version));
}

store_status store_webhook_version_bump(db_conn *c, const char *account_id, int64_t *version)
{
    return store_status_of(db_query_int(c,
                                "INSERT INTO webhook_versions (account_id, version) VALUES (?, 1) ON CONFLICT"
                                " (account_id) DO UPDATE SET version = webhook_versions.version + 1 RETURNING version",
                                DB_ARGS(DB_TEXT(account_id)), version));
}

store_status store_webhook_listening(db_conn *c, const char *account_id, int64_t *version, bool *any)
{
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT COALESCE((SELECT version FROM webhook_versions WHERE account_id = ?), 0),"
                            " (SELECT COUNT(*) FROM webhook_subscriptions WHERE account_id = ? AND active = 1)",
                            DB_ARGS(DB_TEXT(account_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    if (db_next(r)) {
        *version = db_int(r, 0);
        *any = db_int(r, 1) > 0;
    } else {
        st = DB_ERROR;
    }
    db_rows_free(r);
    return store_status_of(st);
}

/* ---------------- subscriptions ---------------- */

typedef struct {
    const store_subscription *sub;
    const char *sealed;
    instant_us now;
    int64_t *version;
} sub_create;

static db_status create_fn(db_conn *c, void *arg)
{
    sub_create *x = arg;
    const store_subscription *s = x->sub;
    db_status st = db_exec(c,
                           "INSERT INTO webhook_subscriptions (id, account_id, url, format, events, secret_sealed,"
                           " active, created_at, updated_at, name) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
                           DB_ARGS(DB_TEXT(s->id), DB_TEXT(s->account_id), DB_TEXT(s->url), DB_TEXT(s->format),
                                   DB_TEXT(s->events), DB_TEXT(x->sealed), DB_INT(x->now), DB_INT(x->now),
                                   DB_TEXT(s->name ? s->name : "")),
                           NULL);
    return st == DB_OK ? store_db_status(store_webhook_version_bump(c, s->account_id, x->version)) : st;
}

store_status store_subscription_create(store *s, const store_subscription *sub, const char *secret_sealed,
                                       instant_us now, int64_t *version)
{
    sub_create x = {sub, secret_sealed, now, version};
    return store_status_of(store_write(s, create_fn, &x));
}

typedef struct {
    const char *account_id, *id;
    void (*fn)(void *ctx, const store_subscription *sub);
    void *ctx;
} sub_list;

static db_status list_fn(db_conn *c, void *arg)
{
    sub_list *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, url, events, active, failing_since, created_at, format, name FROM webhook_subscriptions"
                            " WHERE account_id = ? AND (CAST(? AS TEXT) IS NULL OR id = ?) ORDER BY created_at, id",
                            DB_ARGS(DB_TEXT(x->account_id), DB_TEXT(x->id), DB_TEXT(x->id)), &r);
    if (st != DB_OK) return st;
    bool found = false;
    while (db_next(r)) {
        store_subscription sub = {
            .id = db_text(r, 0),
            .account_id = x->account_id,
            .url = db_text(r, 1),
            .events = db_text(r, 2),
            .active = db_int(r, 3) != 0,
            .failing = !db_isnull(r, 4),
            .failing_since = db_isnull(r, 4) ? 0 : db_int(r, 4),
            .created_at = db_int(r, 5),
            .format = db_text(r, 6),
            .name = db_text(r, 7),
        };
        found = true;
        x->fn(x->ctx, &sub);
    }
    db_rows_free(r);
    return found || !x->id ? DB_OK : DB_NOTFOUND;
}

store_status store_subscriptions_list(store *s, const char *account_id, const char *id,
                                      void (*fn)(void *ctx, const store_subscription *sub), void *ctx)
{
    sub_list x = {account_id, id, fn, ctx};
    return store_status_of(store_read(s, list_fn, &x));
}

typedef struct {
    const char *account_id, *id;
    int64_t *version;
} sub_delete;

static db_status delete_fn(db_conn *c, void *arg)
{
    sub_delete *x = arg;
    int64_t changes = 0;
    db_status st = db_exec(c, "DELETE FROM webhook_subscriptions WHERE id = ? AND account_id = ?",
                           DB_ARGS(DB_TEXT(x->id), DB_TEXT(x->account_id)), &changes);
    if (st != DB_OK) return st;
    if (!changes) return DB_NOTFOUND;
    st = db_exec(c, "UPDATE webhook_deliveries SET status = 'cancelled' WHERE subscription_id = ? AND status = 'pending'",
                 DB_ARGS(DB_TEXT(x->id)), NULL);
    return st == DB_OK ? store_db_status(store_webhook_version_bump(c, x->account_id, x->version)) : st;
}

store_status store_subscription_delete(store *s, const char *account_id, const char *id, int64_t *version)
{
    sub_delete x = {account_id, id, version};
    return store_status_of(store_write(s, delete_fn, &x));
}

/* ---------------- recording ---------------- */

store_status store_outbox_subscribers(db_conn *c, const char *account_id,
                                      void (*fn)(void *ctx, const char *subscription_id, const char *events),
                                      void *ctx)
{
    db_rows *r;
    db_status st = db_query(c, "SELECT id, events FROM webhook_subscriptions WHERE account_id = ? AND active = 1",
                            DB_ARGS(DB_TEXT(account_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    while (db_next(r)) fn(ctx, db_text(r, 0), db_text(r, 1));
    db_rows_free(r);
    return STORE_OK;
}

store_status store_outbox_record(db_conn *c, const store_outbox_event *ev, const char *const *subscription_ids,
                                 size_t n)
{
    db_status st = db_exec(c,
                           "INSERT INTO webhook_events (id, account_id, event, resource_url, payload, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?)",
                           DB_ARGS(DB_TEXT(ev->id), DB_TEXT(ev->account_id), DB_TEXT(ev->event),
                                   DB_TEXT(ev->resource_url), DB_TEXT(ev->payload), DB_INT(ev->created_at)),
                           NULL);
    for (size_t i = 0; i < n && st == DB_OK; i++)
        st = db_exec(c,
                     "INSERT INTO webhook_deliveries (event_id, subscription_id, status, attempts, next_due)"
                     " VALUES (?, ?, 'pending', 0, ?)",
                     DB_ARGS(DB_TEXT(ev->id), DB_TEXT(subscription_ids[i]), DB_INT(ev->created_at)), NULL);
    /* wakes the delivery worker once this commits (core/webhooks.c) */
    if (st == DB_OK) store_notify_on_commit(c);
    return store_status_of(st);
}

/* ---------------- deliveries ---------------- */

typedef struct {
    const char *account_id, *subscription_id;
    int limit;
    void (*fn)(void *ctx, const store_delivery *d);
    void *ctx;
} deliveries_read;

static db_status deliveries_fn(db_conn *c, void *arg)
{
    deliveries_read *x = arg;
    int64_t owned = 0;
    db_status st = db_query_int(c, "SELECT COUNT(*) FROM webhook_subscriptions WHERE id = ? AND account_id = ?",
                                DB_ARGS(DB_TEXT(x->subscription_id), DB_TEXT(x->account_id)), &owned);
    if (st != DB_OK) return st;
    if (!owned) return DB_NOTFOUND;
    db_rows *r;
    st = db_query(c,
                  "SELECT d.event_id, e.event, d.status, d.attempts, d.last_status_code, d.last_error,"
                  " d.last_attempt_at, d.next_due, e.created_at FROM webhook_deliveries d JOIN webhook_events e"
                  " ON e.id = d.event_id WHERE d.subscription_id = ? ORDER BY e.created_at DESC, d.event_id LIMIT ?",
                  DB_ARGS(DB_TEXT(x->subscription_id), DB_INT(x->limit)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        store_delivery d = {
            .event_id = db_text(r, 0),
            .event = db_text(r, 1),
            .status = db_text(r, 2),
            .attempts = db_int(r, 3),
            .has_status_code = !db_isnull(r, 4),
            .last_status_code = db_isnull(r, 4) ? 0 : db_int(r, 4),
            .last_error = db_isnull(r, 5) ? NULL : db_text(r, 5),
            .attempted = !db_isnull(r, 6),
            .last_attempt_at = db_isnull(r, 6) ? 0 : db_int(r, 6),
            .next_due = db_int(r, 7),
            .created_at = db_int(r, 8),
        };
        x->fn(x->ctx, &d);
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_deliveries_list(store *s, const char *account_id, const char *subscription_id, int limit,
                                   void (*fn)(void *ctx, const store_delivery *d), void *ctx)
{
    deliveries_read x = {account_id, subscription_id, limit, fn, ctx};
    return store_status_of(store_read(s, deliveries_fn, &x));
}

typedef struct {
    const char *sql;
    int64_t due;
} next_due_op;

static db_status next_due_fn(db_conn *c, void *arg)
{
    next_due_op *x = arg;
    return db_query_int(c, x->sql, DB_NOARGS, &x->due);
}

store_status store_outbox_next_due(store *s, const char *sql, instant_us *due)
{
    next_due_op x = {sql, 0};
    store_status st = store_status_of(store_read(s, next_due_fn, &x));
    if (st == STORE_OK) *due = x.due;
    return st;
}

store_status store_deliveries_next_due(store *s, instant_us *due)
{
    return store_outbox_next_due(s, "SELECT MIN(next_due) FROM webhook_deliveries WHERE status = 'pending'", due);
}

typedef struct {
    const char *select_sql, *update_sql;
    int nkeys, ncols, max;
    instant_us now, lease_until;
    void (*fn)(void *ctx, int index, const char *const *cols);
    void *ctx;
    int *n;
} claim_op;

static db_status claim_fn(db_conn *c, void *arg)
{
    claim_op *x = arg;
    *x->n = 0;
    db_rows *r;
    db_status st = db_query(c, x->select_sql, DB_ARGS(DB_INT(x->now), DB_INT(x->max)), &r);
    if (st != DB_OK) return st;
    /* copied out before the updates: they move the very index the query walks */
    size_t width = (size_t)x->ncols + 1;
    char **rows = calloc((size_t)(x->max > 0 ? x->max : 1) * width, sizeof *rows);
    int n = 0;
    while (rows && n < x->max && db_next(r)) {
        for (int k = 0; k <= x->ncols; k++) rows[(size_t)n * width + (size_t)k] = strdup(db_text(r, k));
        n++;
    }
    db_rows_free(r);
    if (!rows) st = DB_ERROR;
    db_param params[8];
    for (int i = 0; i < n && st == DB_OK; i++) {
        char **row = rows + (size_t)i * width;
        int np = 0;
        params[np++] = DB_INT(x->lease_until);
        for (int k = 0; k < x->nkeys; k++) params[np++] = DB_TEXT(row[k]);
        params[np++] = DB_INT(strtoll(row[x->ncols], NULL, 10));
        int64_t got = 0;
        st = db_exec(c, x->update_sql, params, np, &got);
        if (st == DB_OK && got == 1) {
            x->fn(x->ctx, *x->n, (const char *const *)row);
            (*x->n)++;
        }
    }
    for (size_t i = 0; rows && i < (size_t)n * width; i++) free(rows[i]);
    free(rows);
    return st;
}

store_status store_outbox_claim(store *s, const char *select_sql, const char *update_sql, int nkeys, int ncols,
                                instant_us now, instant_us lease_until, int max,
                                void (*fn)(void *ctx, int index, const char *const *cols), void *ctx, int *n)
{
    *n = 0;
    if (nkeys < 1 || nkeys > 6 || ncols < nkeys) return STORE_ERROR;
    claim_op x = {select_sql, update_sql, nkeys, ncols, max, now, lease_until, fn, ctx, n};
    return store_status_of(store_write(s, claim_fn, &x));
}

/* Leases one webhook delivery still as the claim read it (store_outbox_claim's update_sql). */
#define LEASE_DELIVERY_SQL                                                                                  \
    "UPDATE webhook_deliveries SET next_due = ? WHERE event_id = ? AND subscription_id = ?"                \
    " AND status = 'pending' AND next_due = ?"

static void delivery_claimed(void *ctx, int index, const char *const *cols)
{
    store_delivery_claim *d = (store_delivery_claim *)ctx + index;
    snprintf(d->event_id, sizeof d->event_id, "%s", cols[0]);
    snprintf(d->subscription_id, sizeof d->subscription_id, "%s", cols[1]);
    d->attempts = strtoll(cols[2], NULL, 10);
}

store_status store_deliveries_claim(store *s, instant_us now, instant_us lease_until, store_delivery_claim *out,
                                    int max, int *n)
{
    store_status st = store_outbox_claim(
        s,
        "SELECT event_id, subscription_id, attempts, next_due FROM webhook_deliveries"
        " WHERE status = 'pending' AND next_due <= ? ORDER BY next_due LIMIT ?",
        LEASE_DELIVERY_SQL,
        2, 3, now, lease_until, max, delivery_claimed, out, n);
    if (st != STORE_OK) *n = 0;
    return st;
}

/* A job from its columns as text: account_id, event, resource_url, payload,
 * created_at, url, secret_sealed, format. */
static void job_fill(store_delivery_job *j, const char *const *cols)
{
    snprintf(j->account_id, sizeof j->account_id, "%s", cols[0]);
    j->event = strdup(cols[1]);
    j->resource_url = strdup(cols[2]);
    j->payload = strdup(cols[3]);
    j->created_at = strtoll(cols[4], NULL, 10);
    j->url = strdup(cols[5]);
    j->secret_sealed = strdup(cols[6]);
    j->format = strdup(cols[7]);
}

static void delivery_claimed_job(void *ctx, int index, const char *const *cols)
{
    store_delivery_claimed *d = (store_delivery_claimed *)ctx + index;
    store_delivery_job_free(&d->job); /* a transaction run again starts over */
    delivery_claimed(&d->claim, 0, cols);
    d->found = !strcmp(cols[3], "1");
    if (!d->found) return;
    job_fill(&d->job, cols + 4);
}

store_status store_deliveries_claim_jobs(store *s, instant_us now, instant_us lease_until, store_delivery_claimed *out,
                                         int max, int *n)
{
    for (int i = 0; i < max; i++) memset(&out[i], 0, sizeof out[i]);
    /* left joins: a delivery whose event or subscription is gone is still
     * claimed, so its attempt is recorded as failed rather than left due */
    store_status st = store_outbox_claim(
        s,
        "SELECT d.event_id, d.subscription_id, d.attempts,"
        " CASE WHEN e.id IS NULL OR s.id IS NULL THEN 0 ELSE 1 END, COALESCE(e.account_id, ''),"
        " COALESCE(e.event, ''), COALESCE(e.resource_url, ''), COALESCE(e.payload, 'null'), COALESCE(e.created_at, 0),"
        " COALESCE(s.url, ''), COALESCE(s.secret_sealed, ''), COALESCE(s.format, ''), d.next_due"
        " FROM webhook_deliveries d LEFT JOIN webhook_events e ON e.id = d.event_id"
        " LEFT JOIN webhook_subscriptions s ON s.id = d.subscription_id"
        " WHERE d.status = 'pending' AND d.next_due <= ? ORDER BY d.next_due LIMIT ?",
        LEASE_DELIVERY_SQL,
        2, 12, now, lease_until, max, delivery_claimed_job, out, n);
    if (st != STORE_OK) *n = 0;
    for (int i = *n; i < max; i++) store_delivery_job_free(&out[i].job); /* leased in a run that was retried */
    return st;
}

typedef struct {
    const char *event_id, *subscription_id;
    store_delivery_job *out;
} load_op;

static db_status load_fn(db_conn *c, void *arg)
{
    load_op *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT e.account_id, e.event, e.resource_url, e.payload, e.created_at, s.url,"
                            " s.secret_sealed, s.format FROM webhook_events e JOIN webhook_subscriptions s ON s.id = ?"
                            " WHERE e.id = ?",
                            DB_ARGS(DB_TEXT(x->subscription_id), DB_TEXT(x->event_id)), &r);
    if (st != DB_OK) return st;
    st = DB_NOTFOUND;
    if (db_next(r)) {
        store_delivery_job_free(x->out);
        const char *cols[8];
        for (int k = 0; k < 8; k++) cols[k] = db_text(r, k);
        job_fill(x->out, cols);
        st = DB_OK;
    }
    db_rows_free(r);
    return st;
}

store_status store_delivery_load(store *s, const char *event_id, const char *subscription_id,
                                 store_delivery_job *out)
{
    memset(out, 0, sizeof *out);
    load_op x = {event_id, subscription_id, out};
    store_status st = store_status_of(store_read(s, load_fn, &x));
    if (st != STORE_OK) store_delivery_job_free(out);
    return st;
}

void store_delivery_job_free(store_delivery_job *j)
{
    if (!j) return;
    free(j->event);
    free(j->resource_url);
    free(j->payload);
    free(j->url);
    free(j->secret_sealed);
    free(j->format);
    memset(j, 0, sizeof *j);
}

typedef struct {
    const store_delivery_result *r;
    size_t n;
    instant_us now;
    int64_t disable_after_us;
} results_op;

/* Marks the subscription failing; one failing for disable_after_us is
 * deactivated, which changes who listens: that bumps the account's version. */
static db_status note_failure(db_conn *c, const char *sub_id, instant_us now, int64_t disable_after_us)
{
    db_status st =
        db_exec(c, "UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, ?) WHERE id = ?",
                DB_ARGS(DB_INT(now), DB_TEXT(sub_id)), NULL);
    if (st != DB_OK) return st;
    char *account_id = NULL;
    st = db_query_text(c,
                       "UPDATE webhook_subscriptions SET active = 0 WHERE id = ? AND active = 1"
                       " AND ? - failing_since >= ? RETURNING account_id",
                       DB_ARGS(DB_TEXT(sub_id), DB_INT(now), DB_INT(disable_after_us)), &account_id);
    if (st == DB_NOTFOUND) return DB_OK;
    int64_t version;
    if (st == DB_OK) st = store_db_status(store_webhook_version_bump(c, account_id, &version));
    free(account_id);
    return st;
}

/* Whether the next result for r[i]'s subscription in this batch is a
 * success too, which clears failing_since itself: a batch of one endpoint's
 * deliveries then writes its subscription once, not once per delivery. A
 * failure next still sees the clear, so its failing_since starts at it. */
static bool cleared_later(const results_op *x, size_t i)
{
    for (size_t k = i + 1; k < x->n; k++)
        if (!strcmp(x->r[k].subscription_id, x->r[i].subscription_id)) return x->r[k].ok;
    return false;
}

static db_status results_fn(db_conn *c, void *arg)
{
    results_op *x = arg;
    for (size_t i = 0; i < x->n; i++) {
        const store_delivery_result *d = &x->r[i];
        db_status st = db_exec(c,
                               "UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status_code = ?,"
                               " last_error = ?, last_attempt_at = ?, next_due = ? WHERE event_id = ?"
                               " AND subscription_id = ?",
                               DB_ARGS(DB_TEXT(d->status), DB_INT(d->attempts),
                                       d->status_code ? DB_INT(d->status_code) : DB_NULL, DB_TEXT(d->error),
                                       DB_INT(x->now), DB_INT(d->next_due), DB_TEXT(d->event_id),
                                       DB_TEXT(d->subscription_id)),
                               NULL);
        if (st == DB_OK && d->ok && !cleared_later(x, i))
            st = db_exec(c, "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = ?",
                         DB_ARGS(DB_TEXT(d->subscription_id)), NULL);
        if (st == DB_OK && !d->ok) st = note_failure(c, d->subscription_id, x->now, x->disable_after_us);
        if (st != DB_OK) return st;
    }
    return DB_OK;
}

store_status store_delivery_results_record(store *s, const store_delivery_result *r, size_t n, instant_us now,
                                           int64_t disable_after_us)
{
    results_op x = {r, n, now, disable_after_us};
    return store_status_of(store_write(s, results_fn, &x));
}
