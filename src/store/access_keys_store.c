/* SQL of event access keys (see access_keys_store.h). */
#include "store/access_keys_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *account_id, *event_id, *key_hash, *label;
    int64_t now, changes;
} key_op;

static db_status add_fn(db_conn *c, void *arg)
{
    key_op *op = arg;
    return db_exec(c,
                   "INSERT INTO event_access_keys (account_id, event_id, key_hash, label, created_at)"
                   " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, event_id, key_hash) DO NOTHING",
                   DB_ARGS(DB_TEXT(op->account_id), DB_TEXT(op->event_id), DB_TEXT(op->key_hash),
                           DB_TEXT(op->label), DB_INT(op->now)),
                   NULL);
}

store_status store_access_key_add(store *s, const char *account_id, const char *event_id, const char *key_hash,
                                  const char *label, int64_t now)
{
    key_op op = {account_id, event_id, key_hash, label, now, 0};
    return store_status_of(store_write(s, add_fn, &op));
}

static db_status delete_fn(db_conn *c, void *arg)
{
    key_op *op = arg;
    db_status st = db_exec(c, "DELETE FROM event_access_keys WHERE account_id = ? AND event_id = ? AND key_hash = ?",
                           DB_ARGS(DB_TEXT(op->account_id), DB_TEXT(op->event_id), DB_TEXT(op->key_hash)),
                           &op->changes);
    return st == DB_OK && op->changes == 0 ? DB_NOTFOUND : st;
}

store_status store_access_key_delete(store *s, const char *account_id, const char *event_id, const char *key_hash)
{
    key_op op = {account_id, event_id, key_hash, NULL, 0, 0};
    return store_status_of(store_write(s, delete_fn, &op));
}

typedef struct {
    const char *account_id, *key_hash;
    store_event_lock *out;
    size_t n;
} locks_op;

static db_status locks_fn(db_conn *c, void *arg)
{
    locks_op *op = arg;
    db_rows *r;
    /* one row per locked event: a read of the account's few keys, no join */
    db_status st = db_query(c,
                            "SELECT event_id, COUNT(*), SUM(CASE WHEN key_hash = ? THEN 1 ELSE 0 END)"
                            " FROM event_access_keys WHERE account_id = ? GROUP BY event_id ORDER BY event_id",
                            DB_ARGS(DB_TEXT(op->key_hash ? op->key_hash : ""), DB_TEXT(op->account_id)), &r);
    if (st != DB_OK) return st;
    free(op->out);
    op->out = NULL;
    op->n = 0;
    while (db_next(r)) {
        store_event_lock *grown = realloc(op->out, (op->n + 1) * sizeof *grown);
        if (!grown) {
            db_rows_free(r);
            return DB_ERROR;
        }
        op->out = grown;
        store_event_lock *l = &op->out[op->n++];
        snprintf(l->event_id, sizeof l->event_id, "%s", db_text(r, 0));
        l->keys = db_int(r, 1);
        l->opened = op->key_hash && db_int(r, 2) > 0;
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_event_locks(store *s, const char *account_id, const char *key_hash, store_event_lock **out,
                               size_t *n)
{
    locks_op op = {account_id, key_hash, NULL, 0};
    store_status st = store_status_of(store_read(s, locks_fn, &op));
    if (st != STORE_OK) {
        free(op.out);
        op.out = NULL;
        op.n = 0;
    }
    *out = op.out;
    *n = op.n;
    return st;
}
