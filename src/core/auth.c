/* Credentials: every kind is stored as a keyed hash of the secret (see
 * util/secure.h), so a database leak does not leak usable credentials, and a
 * lookup is one index probe. */
#include "core/internal.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(cred_kind k)
{
    switch (k) {
    case CRED_ADMIN_TOKEN: return "admin_token";
    case CRED_OAUTH_CLIENT: return "oauth_client";
    case CRED_ACCESS_TOKEN: return "access_token";
    case CRED_API_KEY: return "api_key";
    case CRED_PRODUCT_TOKEN: return "product_token";
    case CRED_CHANNEL_KEY: return "channel_key";
    }
    return "?";
}

typedef struct {
    const account *a;
    cred_kind kind;
    const char *public_id, *label;
    char hash[65];
    instant_us expires_at;
} cred_insert;

static db_status insert_cred(db_conn *c, void *arg)
{
    cred_insert *ci = arg;
    char id[37];
    rand_uuid(id);
    return db_exec(c,
                   "INSERT INTO credentials (id, account_id, kind, public_id, secret_hash, label, created_at, expires_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, secret_hash) DO NOTHING",
                   DB_ARGS(DB_TEXT(id), DB_TEXT(ci->a->id), DB_TEXT(kind_name(ci->kind)), DB_TEXT(ci->public_id),
                           DB_TEXT(ci->hash), DB_TEXT(ci->label), DB_INT(clock_now()),
                           ci->expires_at ? DB_INT(ci->expires_at) : DB_NULL),
                   NULL);
}

bo_status credential_add(engine *e, const account *a, cred_kind kind, const char *public_id, const char *secret,
                         const char *label, instant_us expires_at, bo_error *err)
{
    if (!secret || strlen(secret) < 8 || strlen(secret) > 256)
        return bo_fail(err, BO_INVALID, "invalid_secret", "secret", "secret must be 8 to 256 characters");
    if (kind == CRED_OAUTH_CLIENT && (!public_id || !*public_id))
        return bo_fail(err, BO_INVALID, "invalid_client_id", "client_id", "client id required");
    cred_insert ci = {a, kind, public_id, label, {0}, expires_at};
    /* an oauth secret is bound to its client id so equal secrets of two clients differ */
    if (kind == CRED_OAUTH_CLIENT) {
        size_t n = strlen(public_id) + strlen(secret) + 2;
        char *both = malloc(n);
        snprintf(both, n, "%s:%s", public_id, secret);
        secret_hash(both, ci.hash);
        free(both);
    } else {
        secret_hash(secret, ci.hash);
    }
    return bo_from_db(store_write(e->st, insert_cred, &ci), err);
}

typedef struct {
    cred_kind kind;
    char hash[65];
    account *out;
} cred_lookup;

static db_status find_cred(db_conn *c, void *arg)
{
    cred_lookup *l = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT account_id, secret_hash FROM credentials WHERE kind = ? AND secret_hash = ?"
                            " AND revoked = 0 AND (expires_at IS NULL OR expires_at > ?)",
                            DB_ARGS(DB_TEXT(kind_name(l->kind)), DB_TEXT(l->hash), DB_INT(clock_now())), &r);
    if (st != DB_OK) return st;
    char account_id[40] = "";
    if (db_next(r) && secret_equal(db_text(r, 1), l->hash)) snprintf(account_id, sizeof account_id, "%s", db_text(r, 0));
    db_rows_free(r);
    /* the account in the same snapshot: one read per authenticated request */
    return *account_id ? account_load(c, account_id, l->out) : DB_NOTFOUND;
}

static bo_status lookup_hash(engine *e, cred_lookup *l, account *out)
{
    l->out = out;
    db_status st = store_read(e->st, find_cred, l);
    if (st == DB_NOTFOUND) return BO_UNAUTHORIZED;
    return st == DB_OK ? BO_OK : BO_INTERNAL;
}

bo_status auth_lookup(engine *e, cred_kind kind, const char *secret, account *out)
{
    if (!secret || !*secret || strlen(secret) > 512) return BO_UNAUTHORIZED;
    cred_lookup l = {.kind = kind};
    secret_hash(secret, l.hash);
    return lookup_hash(e, &l, out);
}

bo_status auth_oauth_client(engine *e, const char *client_id, const char *client_secret, account *out)
{
    if (!client_id || !client_secret || strlen(client_id) > 256 || strlen(client_secret) > 256) return BO_UNAUTHORIZED;
    char both[520];
    snprintf(both, sizeof both, "%s:%s", client_id, client_secret);
    cred_lookup l = {.kind = CRED_OAUTH_CLIENT};
    secret_hash(both, l.hash);
    return lookup_hash(e, &l, out);
}

bo_status auth_issue_access_token(engine *e, const account *a, int64_t ttl_seconds, char token[80])
{
    rand_token("at_", 32, token, 80);
    bo_error err;
    return credential_add(e, a, CRED_ACCESS_TOKEN, NULL, token, "oauth", clock_now() + ttl_seconds * US_PER_SEC,
                          &err);
}
