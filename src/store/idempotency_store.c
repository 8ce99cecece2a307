/* SQL of idempotency keys (see idempotency_store.h). */
#include "store/idempotency_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_idempotent_reply_free(store_idempotent_reply *r)
{
    free(r->content_type);
    free(r->location);
    free(r->body);
    r->content_type = r->location = r->body = NULL;
}

typedef struct {
    const char *account_id, *key;
    store_idempotent_reply *out;
} get_op;

static db_status get_fn(db_conn *c, void *arg)
{
    get_op *op = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT request_hash, status, content_type, body, created_at, location FROM idempotency_keys"
                            " WHERE account_id = ? AND idempotency_key = ?",
                            DB_ARGS(DB_TEXT(op->account_id), DB_TEXT(op->key)), &r);
    if (st != DB_OK) return st;
    st = DB_NOTFOUND;
    if (db_next(r)) {
        store_idempotent_reply *o = op->out;
        snprintf(o->request_hash, sizeof o->request_hash, "%s", db_text(r, 0));
        o->answered = !db_isnull(r, 1);
        o->status = o->answered ? (int)db_int(r, 1) : 0;
        o->content_type = o->answered && !db_isnull(r, 2) ? strdup(db_text(r, 2)) : NULL;
        o->location = o->answered && !db_isnull(r, 5) ? strdup(db_text(r, 5)) : NULL;
        if (o->answered) {
            const char *body = db_text(r, 3);
            o->body_len = strlen(body);
            o->body = strdup(body);
        }
        o->created_at = db_int(r, 4);
        st = DB_OK;
    }
    db_rows_free(r);
    return st;
}

store_status store_idempotency_get(store *s, const char *account_id, const char *key, store_idempotent_reply *out)
{
    memset(out, 0, sizeof *out);
    get_op op = {account_id, key, out};
    store_status st = store_status_of(store_read(s, get_fn, &op));
    if (st != STORE_OK) store_idempotent_reply_free(out);
    return st;
}

db_status store_idempotency_insert_claim(db_conn *c, const store_idempotency_claim *claim)
{
    return db_exec(c,
                   "INSERT INTO idempotency_keys (account_id, idempotency_key, request_hash, created_at)"
                   " VALUES (?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(claim->account_id), DB_TEXT(claim->key), DB_TEXT(claim->request_hash),
                           DB_INT(claim->now)),
                   NULL);
}

typedef struct {
    const store_idempotency_claim *claim;
    int status;
    const char *content_type, *location, *body;
} answer_op;

static db_status answer_fn(db_conn *c, void *arg)
{
    answer_op *op = arg;
    const store_idempotency_claim *k = op->claim;
    int64_t changes = 0;
    db_status st;
    if (k->claimed)
        st = db_exec(c,
                     "UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, body = ?"
                     " WHERE account_id = ? AND idempotency_key = ? AND request_hash = ? AND status IS NULL",
                     DB_ARGS(DB_INT(op->status), DB_TEXT(op->content_type), DB_TEXT(op->location), DB_TEXT(op->body),
                             DB_TEXT(k->account_id), DB_TEXT(k->key), DB_TEXT(k->request_hash)),
                     &changes);
    else
        st = db_exec(c,
                     "INSERT INTO idempotency_keys (account_id, idempotency_key, request_hash, status,"
                     " content_type, location, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                     " ON CONFLICT (account_id, idempotency_key) DO NOTHING",
                     DB_ARGS(DB_TEXT(k->account_id), DB_TEXT(k->key), DB_TEXT(k->request_hash),
                             DB_INT(op->status), DB_TEXT(op->content_type), DB_TEXT(op->location), DB_TEXT(op->body),
                             DB_INT(k->now)),
                     &changes);
    if (st != DB_OK) return st;
    if (changes == 0) return k->claimed ? DB_NOTFOUND : DB_CONFLICT;
    return DB_OK;
}

store_status store_idempotency_answer(store *s, const store_idempotency_claim *claim, int status,
                                      const char *content_type, const char *location, const char *body, size_t len)
{
    if (memchr(body, 0, len)) return STORE_CONFLICT; /* a TEXT column holds no NUL */
    answer_op op = {claim, status, content_type, location, body};
    return store_status_of(store_write(s, answer_fn, &op));
}

typedef struct {
    int64_t before, count;
} purge_op;

static db_status purge_check_fn(db_conn *c, void *arg)
{
    purge_op *op = arg;
    return db_query_int(c, "SELECT COUNT(*) FROM (SELECT 1 FROM idempotency_keys WHERE created_at < ? LIMIT 1) x",
                        DB_ARGS(DB_INT(op->before)), &op->count);
}

static db_status purge_fn(db_conn *c, void *arg)
{
    purge_op *op = arg;
    return db_exec(c, "DELETE FROM idempotency_keys WHERE created_at < ?", DB_ARGS(DB_INT(op->before)),
                   &op->count);
}

store_status store_idempotency_purge(store *s, int64_t before, int *deleted)
{
    purge_op op = {before, 0};
    if (deleted) *deleted = 0;
    /* read first: an idle server writes nothing */
    store_status st = store_status_of(store_read(s, purge_check_fn, &op));
    if (st != STORE_OK || op.count == 0) return st;
    st = store_status_of(store_write(s, purge_fn, &op));
    if (st == STORE_OK && deleted) *deleted = (int)op.count;
    return st;
}
