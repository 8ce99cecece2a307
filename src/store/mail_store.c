/* SQL of confirmation mail (see mail_store.h). */
#include "store/mail_store.h"
#include "store/outbox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *text_or_null(db_rows *r, int col) { return db_isnull(r, col) ? NULL : strdup(db_text(r, col)); }

void store_mail_settings_free(store_mail_settings *m)
{
    if (!m) return;
    free(m->host);
    free(m->security);
    free(m->username);
    free(m->password_sealed);
    free(m->from_address);
    free(m->from_name);
    free(m->reply_to);
    memset(m, 0, sizeof *m);
}

typedef struct {
    const char *account_id;
    store_mail_settings *out;
} settings_op;

static db_status settings_get_fn(db_conn *c, void *arg)
{
    settings_op *x = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT enabled, host, port, security, username, password_sealed, from_address, from_name,"
                            " reply_to, updated_at FROM mail_settings WHERE account_id = ?",
                            DB_ARGS(DB_TEXT(x->account_id)), &r);
    if (st != DB_OK) return st;
    st = DB_NOTFOUND;
    if (db_next(r)) {
        store_mail_settings_free(x->out);
        *x->out = (store_mail_settings){
            .enabled = db_int(r, 0) != 0, .host = text_or_null(r, 1), .port = db_int(r, 2),
            .security = text_or_null(r, 3), .username = text_or_null(r, 4), .password_sealed = text_or_null(r, 5),
            .from_address = text_or_null(r, 6), .from_name = text_or_null(r, 7), .reply_to = text_or_null(r, 8),
            .updated_at = db_int(r, 9)};
        st = DB_OK;
    }
    db_rows_free(r);
    return st;
}

store_status store_mail_settings_get(store *s, const char *account_id, store_mail_settings *out)
{
    memset(out, 0, sizeof *out);
    settings_op x = {account_id, out};
    store_status st = store_status_of(store_read(s, settings_get_fn, &x));
    if (st != STORE_OK) store_mail_settings_free(out);
    return st;
}

typedef struct {
    const char *account_id;
    const store_mail_settings *m;
} settings_put_op;

static db_status settings_put_fn(db_conn *c, void *arg)
{
    settings_put_op *x = arg;
    const store_mail_settings *m = x->m;
    return db_exec(c,
                   "INSERT INTO mail_settings (account_id, enabled, host, port, security, username, password_sealed,"
                   " from_address, from_name, reply_to, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                   " ON CONFLICT (account_id) DO UPDATE SET enabled = excluded.enabled, host = excluded.host,"
                   " port = excluded.port, security = excluded.security, username = excluded.username,"
                   " password_sealed = excluded.password_sealed, from_address = excluded.from_address,"
                   " from_name = excluded.from_name, reply_to = excluded.reply_to, updated_at = excluded.updated_at",
                   DB_ARGS(DB_TEXT(x->account_id), DB_INT(m->enabled), DB_TEXT(m->host), DB_INT(m->port),
                           DB_TEXT(m->security), DB_TEXT(m->username), DB_TEXT(m->password_sealed),
                           DB_TEXT(m->from_address), DB_TEXT(m->from_name), DB_TEXT(m->reply_to),
                           DB_INT(m->updated_at)),
                   NULL);
}

store_status store_mail_settings_put(store *s, const char *account_id, const store_mail_settings *m)
{
    settings_put_op x = {account_id, m};
    return store_status_of(store_write(s, settings_put_fn, &x));
}

/* ---------------- the outbox ---------------- */

static store_status queued_outcome(db_conn *c, db_status st, int64_t changes, bool *queued)
{
    *queued = st == DB_OK && changes > 0;
    if (*queued) store_notify_on_commit(c);
    return store_status_of(st);
}

store_status store_mail_queue(db_conn *c, const char *mail_id, const char *account_id, const char *order_id,
                              const char *recipient, instant_us now, bool *queued)
{
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "INSERT INTO mail_outbox (id, account_id, order_id, recipient, status, next_due, created_at)"
                           " SELECT ?, account_id, ?, ?, 'queued', ?, ? FROM mail_settings WHERE account_id = ?"
                           " AND enabled = 1 ON CONFLICT (order_id, account_id) DO NOTHING",
                           DB_ARGS(DB_TEXT(mail_id), DB_TEXT(order_id), DB_TEXT(recipient), DB_INT(now), DB_INT(now),
                                   DB_TEXT(account_id)),
                           &changes);
    return queued_outcome(c, st, changes, queued);
}

store_status store_mail_queue_order(db_conn *c, const char *mail_id, const char *account_id, const char *order_id,
                                    instant_us now, bool *queued)
{
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "INSERT INTO mail_outbox (id, account_id, order_id, recipient, status, next_due, created_at)"
                           " SELECT ?, o.account_id, o.id, o.email, 'queued', ?, ? FROM orders o JOIN mail_settings m"
                           " ON m.account_id = o.account_id AND m.enabled = 1 WHERE o.id = ? AND o.account_id = ?"
                           " AND o.email IS NOT NULL AND o.email <> '' ON CONFLICT (order_id, account_id) DO NOTHING",
                           DB_ARGS(DB_TEXT(mail_id), DB_INT(now), DB_INT(now), DB_TEXT(order_id), DB_TEXT(account_id)),
                           &changes);
    return queued_outcome(c, st, changes, queued);
}

store_status store_mail_next_due(store *s, instant_us *due)
{
    return store_outbox_next_due(s, "SELECT MIN(next_due) FROM mail_outbox WHERE status = 'queued'", due);
}

static void mail_claimed(void *ctx, int index, const char *const *cols)
{
    store_mail_claim *m = (store_mail_claim *)ctx + index;
    snprintf(m->id, sizeof m->id, "%s", cols[0]);
    snprintf(m->account_id, sizeof m->account_id, "%s", cols[1]);
    snprintf(m->order_id, sizeof m->order_id, "%s", cols[2]);
    snprintf(m->recipient, sizeof m->recipient, "%s", cols[3]);
    m->attempts = strtoll(cols[4], NULL, 10);
    m->created_at = strtoll(cols[5], NULL, 10);
}

store_status store_mail_claim_due(store *s, instant_us now, instant_us lease_until, store_mail_claim *out, int max,
                                  int *n)
{
    store_status st = store_outbox_claim(
        s,
        "SELECT id, account_id, order_id, recipient, attempts, created_at, next_due FROM mail_outbox"
        " WHERE status = 'queued' AND next_due <= ? ORDER BY next_due LIMIT ?",
        "UPDATE mail_outbox SET next_due = ? WHERE id = ? AND status = 'queued' AND next_due = ?", 1, 6, now,
        lease_until, max, mail_claimed, out, n);
    if (st != STORE_OK) *n = 0;
    return st;
}

typedef struct {
    const store_mail_result *r;
    size_t n;
} results_op;

static db_status results_fn(db_conn *c, void *arg)
{
    results_op *x = arg;
    for (size_t i = 0; i < x->n; i++) {
        const store_mail_result *m = &x->r[i];
        db_status st = db_exec(c,
                               "UPDATE mail_outbox SET status = ?, attempts = ?, last_error = ?, next_due = ?,"
                               " sent_at = ? WHERE id = ?",
                               DB_ARGS(DB_TEXT(m->status), DB_INT(m->attempts), DB_TEXT(m->error),
                                       DB_INT(m->next_due), m->sent_at ? DB_INT(m->sent_at) : DB_NULL, DB_TEXT(m->id)),
                               NULL);
        if (st != DB_OK) return st;
    }
    return DB_OK;
}

store_status store_mail_results_record(store *s, const store_mail_result *r, size_t n)
{
    results_op x = {r, n};
    return store_status_of(store_write(s, results_fn, &x));
}
