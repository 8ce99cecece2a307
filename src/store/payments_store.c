/* SQL of the payment step (see payments_store.h). */
#include "store/payments_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

#define SESSION_COLUMNS                                                                                                \
    "id, account_id, order_id, provider, method, status, amount, fee, currency, due_at, success_url, failure_url,"   \
    " cancel_url, expired_url, csrf, provider_ref, reason, released_at, created_at, updated_at, redirect_url"

static void session_from_row(db_rows *r, store_payment_session *s)
{
    memset(s, 0, sizeof *s);
    copy(s->id, sizeof s->id, db_text(r, 0));
    copy(s->account_id, sizeof s->account_id, db_text(r, 1));
    copy(s->order_id, sizeof s->order_id, db_text(r, 2));
    copy(s->provider, sizeof s->provider, db_text(r, 3));
    copy(s->method, sizeof s->method, db_text(r, 4));
    copy(s->status, sizeof s->status, db_text(r, 5));
    s->amount = db_int(r, 6);
    s->fee = db_int(r, 7);
    copy(s->currency, sizeof s->currency, db_text(r, 8));
    s->due_at = db_int(r, 9);
    copy(s->success_url, sizeof s->success_url, db_text(r, 10));
    copy(s->failure_url, sizeof s->failure_url, db_text(r, 11));
    copy(s->cancel_url, sizeof s->cancel_url, db_text(r, 12));
    copy(s->expired_url, sizeof s->expired_url, db_text(r, 13));
    copy(s->csrf, sizeof s->csrf, db_text(r, 14));
    copy(s->provider_ref, sizeof s->provider_ref, db_isnull(r, 15) ? "" : db_text(r, 15));
    copy(s->reason, sizeof s->reason, db_isnull(r, 16) ? "" : db_text(r, 16));
    s->released_at = db_isnull(r, 17) ? 0 : db_int(r, 17);
    s->created_at = db_int(r, 18);
    s->updated_at = db_int(r, 19);
    copy(s->redirect_url, sizeof s->redirect_url, db_text(r, 20));
}

/* The first row of a session query into *out: STORE_OK or STORE_NOT_FOUND. */
static store_status one_session(db_conn *c, const char *sql, const db_param *p, int n, store_payment_session *out)
{
    db_rows *r;
    db_status st = db_query(c, sql, p, n, &r);
    if (st != DB_OK) return store_status_of(st);
    st = DB_NOTFOUND;
    if (db_next(r)) {
        session_from_row(r, out);
        st = DB_OK;
    }
    db_rows_free(r);
    return store_status_of(st);
}

static const char *nonempty(const char *s) { return s && *s ? s : NULL; }

store_status store_payment_session_insert(db_conn *c, const store_payment_session *s)
{
    db_status st = db_exec(
        c,
        "INSERT INTO payment_sessions (" SESSION_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, ?, ?)",
        DB_ARGS(DB_TEXT(s->id), DB_TEXT(s->account_id), DB_TEXT(s->order_id), DB_TEXT(s->provider),
                DB_TEXT(s->method), DB_TEXT(s->status), DB_INT(s->amount), DB_INT(s->fee), DB_TEXT(s->currency),
                DB_INT(s->due_at), DB_TEXT(s->success_url), DB_TEXT(s->failure_url), DB_TEXT(s->cancel_url),
                DB_TEXT(s->expired_url), DB_TEXT(s->csrf), DB_TEXT(nonempty(s->provider_ref)),
                DB_TEXT(nonempty(s->reason)), s->released_at ? DB_INT(s->released_at) : DB_NULL,
                DB_INT(s->created_at), DB_INT(s->updated_at), DB_TEXT(s->redirect_url)),
        NULL);
    return store_status_of(st);
}

store_status store_payment_session_get(db_conn *c, const char *account_id, const char *id, store_payment_session *out)
{
    memset(out, 0, sizeof *out);
    if (account_id)
        return one_session(c, "SELECT " SESSION_COLUMNS " FROM payment_sessions WHERE id = ? AND account_id = ?",
                           DB_ARGS(DB_TEXT(id), DB_TEXT(account_id)), out);
    return one_session(c, "SELECT " SESSION_COLUMNS " FROM payment_sessions WHERE id = ?", DB_ARGS(DB_TEXT(id)), out);
}

store_status store_payment_session_open_for_order(db_conn *c, const char *account_id, const char *order_id,
                                                  store_payment_session *out)
{
    memset(out, 0, sizeof *out);
    return one_session(c,
                       "SELECT " SESSION_COLUMNS " FROM payment_sessions WHERE account_id = ? AND order_id = ?"
                       " AND status = 'open' ORDER BY created_at DESC, id LIMIT 1",
                       DB_ARGS(DB_TEXT(account_id), DB_TEXT(order_id)), out);
}

store_status store_payment_session_move(db_conn *c, const char *account_id, const char *id, const char *from,
                                        const char *to, const char *reason, instant_us now)
{
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE payment_sessions SET status = ?, reason = COALESCE(CAST(? AS TEXT), reason),"
                           " updated_at = ? WHERE id = ? AND account_id = ? AND status = ?",
                           DB_ARGS(DB_TEXT(to), DB_TEXT(reason), DB_INT(now), DB_TEXT(id), DB_TEXT(account_id),
                                   DB_TEXT(from)),
                           &changed);
    if (st != DB_OK) return store_status_of(st);
    if (changed == 1) return STORE_OK;
    int64_t one = 0;
    st = db_query_int(c, "SELECT 1 FROM payment_sessions WHERE id = ? AND account_id = ?",
                      DB_ARGS(DB_TEXT(id), DB_TEXT(account_id)), &one);
    return st == DB_OK ? STORE_CONFLICT : store_status_of(st);
}

store_status store_payment_order_hold(db_conn *c, const char *account_id, const char *order_id, instant_us *due_at,
                                      instant_us *released_at)
{
    *due_at = 0;
    *released_at = 0;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT MAX(CASE WHEN released_at IS NULL THEN due_at END), MAX(released_at)"
                            " FROM payment_sessions WHERE account_id = ? AND order_id = ?",
                            DB_ARGS(DB_TEXT(account_id), DB_TEXT(order_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    if (db_next(r)) {
        *due_at = db_isnull(r, 0) ? 0 : db_int(r, 0);
        *released_at = db_isnull(r, 1) ? 0 : db_int(r, 1);
    }
    db_rows_free(r);
    return STORE_OK;
}

store_status store_payment_hold_end(db_conn *c, const char *account_id, const char *order_id, bool expire_open,
                                    instant_us now)
{
    db_status st = !expire_open ? DB_OK : db_exec(c,
                           "UPDATE payment_sessions SET status = 'expired', updated_at = ? WHERE account_id = ?"
                           " AND order_id = ? AND status = 'open'",
                           DB_ARGS(DB_INT(now), DB_TEXT(account_id), DB_TEXT(order_id)), NULL);
    if (st == DB_OK)
        st = db_exec(c,
                     "UPDATE payment_sessions SET released_at = ? WHERE account_id = ? AND order_id = ?"
                     " AND released_at IS NULL",
                     DB_ARGS(DB_INT(now), DB_TEXT(account_id), DB_TEXT(order_id)), NULL);
    return store_status_of(st);
}

store_status store_payment_holds_due(db_conn *c, instant_us now, int limit, store_payment_due **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT account_id, order_id FROM payment_sessions WHERE released_at IS NULL"
                            " GROUP BY account_id, order_id HAVING MAX(due_at) < ?"
                            " AND SUM(CASE WHEN status IN ('paid', 'refunded') THEN 1 ELSE 0 END) = 0 LIMIT ?",
                            DB_ARGS(DB_INT(now), DB_INT(limit)), &r);
    if (st != DB_OK) return store_status_of(st);
    size_t cap = 0;
    while (st == DB_OK && db_next(r)) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            store_payment_due *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                st = DB_ERROR;
                break;
            }
            *out = grown;
        }
        copy((*out)[*n].account_id, sizeof (*out)[*n].account_id, db_text(r, 0));
        copy((*out)[*n].order_id, sizeof (*out)[*n].order_id, db_text(r, 1));
        (*n)++;
    }
    db_rows_free(r);
    if (st != DB_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return store_status_of(st);
}

/* Appends the seats of `text` (a ticket's pools column) to *holds. */
static bool append_holds(const char *text, store_hold **holds, size_t *n)
{
    store_hold *more;
    size_t nmore;
    if (!store_holds_decode(text, &more, &nmore)) return false;
    store_hold *grown = realloc(*holds, (*n + nmore + 1) * sizeof **holds);
    if (!grown) {
        free(more);
        return false;
    }
    if (nmore) memcpy(grown + *n, more, nmore * sizeof *more);
    *holds = grown;
    *n += nmore;
    free(more);
    return true;
}

static int hold_order(const void *a, const void *b)
{
    const store_hold *x = a, *y = b;
    int by_pool = strcmp(x->pool_id, y->pool_id);
    return by_pool ? by_pool : strcmp(x->occurrence, y->occurrence);
}

store_status store_payment_rehold(db_conn *c, const char *account_id, const char *order_id, instant_us released_at,
                                  instant_us now)
{
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT pools FROM tickets WHERE order_id = ? AND account_id = ? AND status = 'voided'"
                            " AND invalidated_at = ?",
                            DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id), DB_INT(released_at)), &r);
    if (st != DB_OK) return store_status_of(st);
    store_hold *holds = NULL;
    size_t n = 0;
    while (st == DB_OK && db_next(r))
        if (!append_holds(db_text(r, 0), &holds, &n)) st = DB_ERROR;
    db_rows_free(r);
    /* one fixed lock order, as every other take */
    if (n > 1) qsort(holds, n, sizeof *holds, hold_order);
    store_status ss = st == DB_OK ? store_inventory_take(c, account_id, holds, n) : store_status_of(st);
    free(holds);
    if (ss != STORE_OK) return ss;
    st = db_exec(c,
                 "UPDATE tickets SET status = 'unpaid', invalidated_at = NULL, updated_at = ?, version = version + 1"
                 " WHERE order_id = ? AND account_id = ? AND status = 'voided' AND invalidated_at = ?",
                 DB_ARGS(DB_INT(now), DB_TEXT(order_id), DB_TEXT(account_id), DB_INT(released_at)), NULL);
    if (st == DB_OK)
        st = db_exec(c, "UPDATE orders SET status = 'open' WHERE id = ? AND account_id = ? AND status = 'cancelled'",
                     DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), NULL);
    return store_status_of(st);
}

store_status store_payment_refunded_insert(db_conn *c, const char *account_id, const char *order_id,
                                           const char *provider, const char *method, const char *reference,
                                           money amount, const char *refund_doc, instant_us now)
{
    store_status ss = store_payment_insert(c, account_id, order_id, provider, method, "refunded", amount, reference, now);
    if (ss != STORE_OK) return ss;
    return store_status_of(db_exec(c,
                                   "INSERT INTO payments (account_id, order_id, kind, provider, method, status, amount,"
                                   " reference, created_at, updated_at, doc) VALUES (?, ?, 'refund', ?, ?, 'refunded',"
                                   " ?, ?, ?, ?, ?)",
                                   DB_ARGS(DB_TEXT(account_id), DB_TEXT(order_id), DB_TEXT(provider), DB_TEXT(method),
                                           DB_INT(amount), DB_TEXT(reference), DB_INT(now), DB_INT(now),
                                           DB_TEXT(refund_doc)),
                                   NULL));
}

store_status store_order_lock(db_conn *c, const char *account_id, const char *order_id)
{
    int64_t changed = 0;
    db_status st = db_exec(c, "UPDATE orders SET status = status WHERE id = ? AND account_id = ?",
                           DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &changed);
    if (st != DB_OK) return store_status_of(st);
    return changed == 1 ? STORE_OK : STORE_NOT_FOUND;
}

store_status store_order_doc_set(db_conn *c, const char *account_id, const char *order_id, const char *doc)
{
    int64_t changed = 0;
    db_status st = db_exec(c, "UPDATE orders SET doc = ? WHERE id = ? AND account_id = ?",
                           DB_ARGS(DB_TEXT(doc), DB_TEXT(order_id), DB_TEXT(account_id)), &changed);
    if (st != DB_OK) return store_status_of(st);
    return changed == 1 ? STORE_OK : STORE_NOT_FOUND;
}

store_status store_order_number_get(db_conn *c, const char *account_id, const char *order_id, char out[16])
{
    char *number = NULL;
    out[0] = 0;
    db_status st = db_query_text(c, "SELECT number FROM orders WHERE id = ? AND account_id = ?",
                                 DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &number);
    if (st == DB_OK) snprintf(out, 16, "%s", number);
    free(number);
    return store_status_of(st);
}

store_status store_order_number_and_change(db_conn *c, const char *account_id, const char *order_id, char number[16],
                                           int64_t *change_seq)
{
    number[0] = 0;
    *change_seq = -1;
    db_rows *r;
    db_status st = db_query(c, "SELECT number, change_seq FROM orders WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    st = DB_NOTFOUND;
    if (db_next(r)) {
        snprintf(number, 16, "%s", db_text(r, 0) ? db_text(r, 0) : "");
        *change_seq = db_int(r, 1);
        st = DB_OK;
    }
    db_rows_free(r);
    return store_status_of(st);
}

store_status store_account_test_mode_get(db_conn *c, const char *account_id, bool *on)
{
    int64_t v = 0;
    db_status st = db_query_int(c, "SELECT test_mode FROM accounts WHERE id = ?", DB_ARGS(DB_TEXT(account_id)), &v);
    *on = st == DB_OK && v != 0;
    return store_status_of(st);
}

store_status store_account_test_mode_set(db_conn *c, const char *account_id, bool on, instant_us now)
{
    int64_t changed = 0;
    db_status st = db_exec(c, "UPDATE accounts SET test_mode = ?, updated_at = ? WHERE id = ?",
                           DB_ARGS(DB_INT(on ? 1 : 0), DB_INT(now), DB_TEXT(account_id)), &changed);
    if (st != DB_OK) return store_status_of(st);
    return changed == 1 ? STORE_OK : STORE_NOT_FOUND;
}

/* ---------- provider settings ---------- */

static void credential_name(char *out, size_t n, const char *provider, const char *which)
{
    snprintf(out, n, "payment:%s:%s", provider, which);
}

static db_status secret_text(db_conn *c, const char *account_id, const char *name, char **out)
{
    *out = NULL;
    db_status st = db_query_text(c, "SELECT sealed FROM account_secrets WHERE account_id = ? AND name = ?",
                                 DB_ARGS(DB_TEXT(account_id), DB_TEXT(name)), out);
    return st == DB_NOTFOUND ? DB_OK : st;
}

store_status store_payment_credentials_get(db_conn *c, const char *account_id, const char *provider,
                                           char **sealed_api_key, char **sealed_webhook_secret)
{
    char key_name[64], secret_name[64];
    credential_name(key_name, sizeof key_name, provider, "api_key");
    credential_name(secret_name, sizeof secret_name, provider, "webhook_secret");
    db_status st = secret_text(c, account_id, key_name, sealed_api_key);
    if (st == DB_OK) st = secret_text(c, account_id, secret_name, sealed_webhook_secret);
    else *sealed_webhook_secret = NULL;
    if (st != DB_OK) {
        free(*sealed_api_key);
        free(*sealed_webhook_secret);
        *sealed_api_key = *sealed_webhook_secret = NULL;
    }
    return store_status_of(st);
}

store_status store_payment_credentials_delete(db_conn *c, const char *account_id, const char *provider)
{
    char key_name[64], secret_name[64];
    credential_name(key_name, sizeof key_name, provider, "api_key");
    credential_name(secret_name, sizeof secret_name, provider, "webhook_secret");
    return store_status_of(db_exec(c, "DELETE FROM account_secrets WHERE account_id = ? AND name IN (?, ?)",
                                   DB_ARGS(DB_TEXT(account_id), DB_TEXT(key_name), DB_TEXT(secret_name)), NULL));
}

store_status store_payment_credentials_put(db_conn *c, const char *account_id, const char *provider,
                                           const char *sealed_api_key, const char *sealed_webhook_secret)
{
    store_status ss = store_payment_credentials_delete(c, account_id, provider);
    const char *which[2] = {"api_key", "webhook_secret"}, *sealed[2] = {sealed_api_key, sealed_webhook_secret};
    for (int i = 0; i < 2 && ss == STORE_OK; i++) {
        if (!sealed[i]) continue;
        char name[64];
        credential_name(name, sizeof name, provider, which[i]);
        ss = store_status_of(db_exec(c, "INSERT INTO account_secrets (account_id, name, sealed) VALUES (?, ?, ?)",
                                     DB_ARGS(DB_TEXT(account_id), DB_TEXT(name), DB_TEXT(sealed[i])), NULL));
    }
    return ss;
}

/* ---------- reconciling ---------- */

store_status store_payment_sessions_to_reconcile(db_conn *c, const char *provider, instant_us asked_before, int limit,
                                                 store_payment_to_reconcile **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT account_id, id, provider FROM payment_sessions WHERE status = 'open'"
                            " AND provider = ? AND COALESCE(reconciled_at, created_at) < ?"
                            " ORDER BY COALESCE(reconciled_at, created_at), id LIMIT ?",
                            DB_ARGS(DB_TEXT(provider), DB_INT(asked_before), DB_INT(limit)), &r);
    if (st != DB_OK) return store_status_of(st);
    size_t cap = 0;
    while (st == DB_OK && db_next(r)) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            store_payment_to_reconcile *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                st = DB_ERROR;
                break;
            }
            *out = grown;
        }
        store_payment_to_reconcile *one = &(*out)[(*n)++];
        copy(one->account_id, sizeof one->account_id, db_text(r, 0));
        copy(one->id, sizeof one->id, db_text(r, 1));
        copy(one->provider, sizeof one->provider, db_text(r, 2));
    }
    db_rows_free(r);
    if (st != DB_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return store_status_of(st);
}

store_status store_payment_session_reconciled(db_conn *c, const char *account_id, const char *id, instant_us now)
{
    return store_status_of(db_exec(c, "UPDATE payment_sessions SET reconciled_at = ? WHERE id = ? AND account_id = ?",
                                   DB_ARGS(DB_INT(now), DB_TEXT(id), DB_TEXT(account_id)), NULL));
}

store_status store_order_voucher_paid(db_conn *c, const char *account_id, const char *order_id, money *amount)
{
    *amount = 0;
    return store_status_of(db_query_int(c,
                                        "SELECT COALESCE(SUM(amount), 0) FROM payments WHERE order_id = ?"
                                        " AND account_id = ? AND kind = 'payment' AND status = 'paid'"
                                        " AND provider = 'voucher'",
                                        DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), amount));
}

store_status store_order_voucher_given_back(db_conn *c, const char *account_id, const char *order_id, money *amount)
{
    *amount = 0;
    return store_status_of(db_query_int(c,
                                        "SELECT COALESCE(SUM(amount), 0) FROM payments WHERE order_id = ?"
                                        " AND account_id = ? AND kind = 'refund' AND provider = 'voucher'",
                                        DB_ARGS(DB_TEXT(order_id), DB_TEXT(account_id)), amount));
}

store_status store_payment_session_latest_for_order(db_conn *c, const char *account_id, const char *order_id,
                                                    store_payment_session *out)
{
    memset(out, 0, sizeof *out);
    return one_session(c,
                       "SELECT " SESSION_COLUMNS " FROM payment_sessions WHERE account_id = ? AND order_id = ?"
                       " ORDER BY created_at DESC, id DESC LIMIT 1",
                       DB_ARGS(DB_TEXT(account_id), DB_TEXT(order_id)), out);
}

store_status store_account_platform_fee_get(db_conn *c, const char *account_id, money *fee)
{
    int64_t v = 0;
    db_status st = db_query_int(c, "SELECT platform_fee FROM accounts WHERE id = ?", DB_ARGS(DB_TEXT(account_id)), &v);
    *fee = st == DB_OK ? v : 0;
    return store_status_of(st);
}

store_status store_account_platform_fee_set(db_conn *c, const char *account_id, money fee, instant_us now)
{
    int64_t changed = 0;
    db_status st = db_exec(c, "UPDATE accounts SET platform_fee = ?, updated_at = ? WHERE id = ?",
                           DB_ARGS(DB_INT(fee), DB_INT(now), DB_TEXT(account_id)), &changed);
    if (st != DB_OK) return store_status_of(st);
    return changed == 1 ? STORE_OK : STORE_NOT_FOUND;
}
