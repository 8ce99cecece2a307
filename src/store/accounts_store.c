/* SQL of accounts, credentials, secrets, the auth version and rate limits
 * (see accounts_store.h). */
#include "store/accounts_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

/* ---------------- accounts ---------------- */

#define ACCOUNT_COLUMNS "SELECT id, slug, name, timezone, currency, hold_seconds, created_at FROM accounts"

static db_status read_account(db_conn *c, bool by_id, const char *key, store_account *out)
{
    db_rows *r;
    db_status st = db_query(c, by_id ? ACCOUNT_COLUMNS " WHERE id = ?" : ACCOUNT_COLUMNS " WHERE slug = ?",
                            DB_ARGS(DB_TEXT(key)), &r);
    if (st != DB_OK) return st;
    bool found = db_next(r);
    if (found) {
        memset(out, 0, sizeof *out);
        copy(out->id, sizeof out->id, db_text(r, 0));
        copy(out->slug, sizeof out->slug, db_text(r, 1));
        copy(out->name, sizeof out->name, db_text(r, 2));
        copy(out->timezone, sizeof out->timezone, db_text(r, 3));
        copy(out->currency, sizeof out->currency, db_text(r, 4));
        out->hold_seconds = db_int(r, 5);
        out->created_at = db_int(r, 6);
    }
    db_rows_free(r);
    return found ? DB_OK : DB_NOTFOUND;
}

typedef struct {
    bool by_id;
    const char *key;
    store_account *out;
} account_read;

static db_status account_read_fn(db_conn *c, void *arg)
{
    account_read *rd = arg;
    return read_account(c, rd->by_id, rd->key, rd->out);
}

store_status store_account_by_id(store *s, const char *id, store_account *out)
{
    account_read rd = {true, id, out};
    return store_status_of(store_read(s, account_read_fn, &rd));
}

store_status store_account_by_slug(store *s, const char *slug, store_account *out)
{
    account_read rd = {false, slug, out};
    return store_status_of(store_read(s, account_read_fn, &rd));
}

store_status store_account_load(db_conn *c, const char *id, store_account *out)
{
    return store_status_of(read_account(c, true, id, out));
}

typedef struct {
    const store_account *a;
    instant_us now;
} account_insert;

static db_status account_insert_fn(db_conn *c, void *arg)
{
    account_insert *ins = arg;
    const store_account *a = ins->a;
    return db_exec(c,
                   "INSERT INTO accounts (id, slug, name, timezone, currency, hold_seconds, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(a->id), DB_TEXT(a->slug), DB_TEXT(a->name), DB_TEXT(a->timezone),
                           DB_TEXT(a->currency), DB_INT(a->hold_seconds), DB_INT(ins->now), DB_INT(ins->now)),
                   NULL);
}

store_status store_account_insert(store *s, const store_account *a, instant_us now)
{
    account_insert ins = {a, now};
    return store_status_of(store_write(s, account_insert_fn, &ins));
}

typedef struct {
    const char *id, *name;
    int64_t hold_seconds;
    instant_us now;
    int64_t *auth_version;
} account_update;

static db_status account_update_fn(db_conn *c, void *arg)
{
    account_update *u = arg;
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE accounts SET name = COALESCE(?, name), hold_seconds = ?, updated_at = ? WHERE id = ?",
                           DB_ARGS(DB_TEXT(u->name), DB_INT(u->hold_seconds), DB_INT(u->now), DB_TEXT(u->id)),
                           &changed);
    if (st != DB_OK) return st;
    if (changed != 1) return DB_NOTFOUND;
    return store_db_status(store_auth_version_bump(c, u->auth_version));
}

store_status store_account_update(store *s, const char *id, const char *name, int64_t hold_seconds, instant_us now,
                                  int64_t *auth_version)
{
    *auth_version = 0;
    account_update u = {id, name, hold_seconds, now, auth_version};
    return store_status_of(store_write(s, account_update_fn, &u));
}

/* ---------------- secrets ---------------- */

typedef struct {
    const char *account_id, *name, *sealed;
    char **out;
} secret_op;

static db_status secret_put_fn(db_conn *c, void *arg)
{
    secret_op *op = arg;
    db_status st = db_exec(c,
                           "INSERT INTO account_secrets (account_id, name, sealed) VALUES (?, ?, ?)"
                           " ON CONFLICT (account_id, name) DO UPDATE SET sealed = excluded.sealed",
                           DB_ARGS(DB_TEXT(op->account_id), DB_TEXT(op->name), DB_TEXT(op->sealed)), NULL);
    return st == DB_CONFLICT ? DB_NOTFOUND : st; /* ON CONFLICT covers the name: this is the account reference */
}

store_status store_account_secret_put(store *s, const char *account_id, const char *name, const char *sealed)
{
    secret_op op = {account_id, name, sealed, NULL};
    return store_status_of(store_write(s, secret_put_fn, &op));
}

static db_status secret_get_fn(db_conn *c, void *arg)
{
    secret_op *op = arg;
    return db_query_text(c, "SELECT sealed FROM account_secrets WHERE account_id = ? AND name = ?",
                         DB_ARGS(DB_TEXT(op->account_id), DB_TEXT(op->name)), op->out);
}

store_status store_account_secret_get(store *s, const char *account_id, const char *name, char **sealed)
{
    *sealed = NULL;
    secret_op op = {account_id, name, NULL, sealed};
    store_status st = store_status_of(store_read(s, secret_get_fn, &op));
    if (st != STORE_OK) {
        free(*sealed);
        *sealed = NULL;
    }
    return st;
}

/* ---------------- the auth version ---------------- */

static db_status read_auth_version(db_conn *c, int64_t *version)
{
    *version = 0;
    db_status st = db_query_int(c, "SELECT version FROM auth_version WHERE id = 1", DB_NOARGS, version);
    return st == DB_NOTFOUND ? DB_OK : st;
}

static db_status auth_version_fn(db_conn *c, void *arg) { return read_auth_version(c, arg); }

store_status store_auth_version(store *s, int64_t *version)
{
    return store_status_of(store_read(s, auth_version_fn, version));
}

store_status store_auth_version_bump(db_conn *c, int64_t *version)
{
    return store_status_of(db_query_int(c,
                                "INSERT INTO auth_version (id, version) VALUES (1, 1)"
                                " ON CONFLICT (id) DO UPDATE SET version = auth_version.version + 1 RETURNING version",
                                DB_NOARGS, version));
}

/* ---------------- credentials ---------------- */

typedef struct {
    const store_credential *cred;
    bool bump;
    int64_t *auth_version;
} cred_insert;

static db_status cred_insert_fn(db_conn *c, void *arg)
{
    cred_insert *ins = arg;
    const store_credential *cr = ins->cred;
    int64_t added = 0;
    *ins->auth_version = 0;
    db_status st =
        db_exec(c,
                "INSERT INTO credentials (id, account_id, kind, public_id, secret_hash, label, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, secret_hash) DO NOTHING",
                DB_ARGS(DB_TEXT(cr->id), DB_TEXT(cr->account_id), DB_TEXT(cr->kind), DB_TEXT(cr->public_id),
                        DB_TEXT(cr->secret_hash), DB_TEXT(cr->label), DB_INT(cr->created_at),
                        cr->expires_at ? DB_INT(cr->expires_at) : DB_NULL),
                &added);
    if (st == DB_CONFLICT) return DB_NOTFOUND; /* ON CONFLICT covers the hash: this is the account reference */
    if (st != DB_OK) return st;
    if (!added) return DB_CONFLICT;
    return ins->bump ? store_db_status(store_auth_version_bump(c, ins->auth_version)) : DB_OK;
}

store_status store_credential_insert(store *s, const store_credential *cred, bool bump_version, int64_t *auth_version)
{
    cred_insert ins = {cred, bump_version, auth_version};
    return store_status_of(store_write(s, cred_insert_fn, &ins));
}

typedef struct {
    const char *account_id, *kind, *secret_hash;
    int64_t *auth_version;
} cred_revoke;

static db_status cred_revoke_fn(db_conn *c, void *arg)
{
    cred_revoke *rv = arg;
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE credentials SET revoked = 1 WHERE account_id = ? AND kind = ? AND secret_hash = ?"
                           " AND revoked = 0",
                           DB_ARGS(DB_TEXT(rv->account_id), DB_TEXT(rv->kind), DB_TEXT(rv->secret_hash)), &changed);
    if (st != DB_OK) return st;
    if (!changed) return DB_NOTFOUND;
    return store_db_status(store_auth_version_bump(c, rv->auth_version));
}

store_status store_credential_revoke(store *s, const char *account_id, const char *kind, const char *secret_hash,
                                     int64_t *auth_version)
{
    *auth_version = 0;
    cred_revoke rv = {account_id, kind, secret_hash, auth_version};
    return store_status_of(store_write(s, cred_revoke_fn, &rv));
}

typedef struct {
    const char *kind, *secret_hash;
    store_credential_read *out;
} cred_lookup;

static db_status cred_lookup_fn(db_conn *c, void *arg)
{
    cred_lookup *l = arg;
    store_credential_read *out = l->out;
    db_status st = read_auth_version(c, &out->auth_version);
    if (st != DB_OK) return st;
    db_rows *r;
    st = db_query(c,
                  "SELECT account_id, secret_hash, expires_at, revoked FROM credentials WHERE kind = ?"
                  " AND secret_hash = ?",
                  DB_ARGS(DB_TEXT(l->kind), DB_TEXT(l->secret_hash)), &r);
    if (st != DB_OK) return st;
    char account_id[40] = "";
    if (db_next(r)) {
        copy(account_id, sizeof account_id, db_text(r, 0));
        copy(out->secret_hash, sizeof out->secret_hash, db_text(r, 1));
        out->expires_at = db_isnull(r, 2) ? 0 : db_int(r, 2);
        out->revoked = db_int(r, 3) != 0;
    }
    db_rows_free(r);
    if (!*account_id) return DB_NOTFOUND;
    return read_account(c, true, account_id, &out->account);
}

store_status store_credential_lookup(store *s, const char *kind, const char *secret_hash, store_credential_read *out)
{
    memset(out, 0, sizeof *out);
    cred_lookup l = {kind, secret_hash, out};
    db_status st = store_read(s, cred_lookup_fn, &l);
    if (st == DB_NOTFOUND) { /* keep the version read with the miss; nothing else */
        int64_t version = out->auth_version;
        memset(out, 0, sizeof *out);
        out->auth_version = version;
    }
    return store_status_of(st);
}

/* ---------------- rate limits ---------------- */

typedef struct {
    const char *key;
    int64_t window;
    int64_t *count;
} rate_hit;

static db_status rate_hit_fn(db_conn *c, void *arg)
{
    rate_hit *h = arg;
    db_status st = db_query_int(c,
                                "INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)"
                                " ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1"
                                " RETURNING count",
                                DB_ARGS(DB_TEXT(h->key), DB_INT(h->window)), h->count);
    /* old windows are dead weight: drop this key's, now and then */
    if (st == DB_OK && *h->count == 1)
        st = db_exec(c, "DELETE FROM rate_limits WHERE key = ? AND window_start < ?",
                     DB_ARGS(DB_TEXT(h->key), DB_INT(h->window)), NULL);
    return st;
}

store_status store_rate_limit_hit(store *s, const char *key, int64_t window_start, int64_t *count)
{
    *count = 0;
    rate_hit h = {key, window_start, count};
    return store_status_of(store_write(s, rate_hit_fn, &h));
}
