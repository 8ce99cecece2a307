/* Accounts (tenants) and the secrets the server keeps for them. */
#include "core/internal.h"
#include "util/secure.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key; /* slug or id */
    bool by_id;
    account *out;
} account_lookup;

static db_status load_account(db_conn *c, void *arg)
{
    account_lookup *l = arg;
    db_rows *r;
    const char *sql_slug = "SELECT id, slug, name, timezone, currency, hold_seconds FROM accounts WHERE slug = ?";
    const char *sql_id = "SELECT id, slug, name, timezone, currency, hold_seconds FROM accounts WHERE id = ?";
    db_status st = db_query(c, l->by_id ? sql_id : sql_slug, DB_ARGS(DB_TEXT(l->key)), &r);
    if (st != DB_OK) return st;
    if (!db_next(r)) {
        db_rows_free(r);
        return DB_NOTFOUND;
    }
    account *a = l->out;
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", db_text(r, 0));
    snprintf(a->slug, sizeof a->slug, "%s", db_text(r, 1));
    snprintf(a->name, sizeof a->name, "%s", db_text(r, 2));
    snprintf(a->timezone, sizeof a->timezone, "%s", db_text(r, 3));
    snprintf(a->currency, sizeof a->currency, "%s", db_text(r, 4));
    a->hold_seconds = db_int(r, 5);
    /* ISO 4217 minor units: the few zero-decimal currencies we are likely to meet */
    a->currency_decimals = (!strcmp(a->currency, "JPY") || !strcmp(a->currency, "KRW") || !strcmp(a->currency, "ISK"))
                               ? 0
                               : 2;
    db_rows_free(r);
    return DB_OK;
}

db_status account_load(db_conn *c, const char *id, account *out)
{
    account_lookup l = {id, true, out};
    return load_account(c, &l);
}

bo_status account_by_slug(engine *e, const char *slug, account *out)
{
    if (!slug || !*slug || strlen(slug) >= sizeof out->slug) return BO_NOT_FOUND;
    account_lookup l = {slug, false, out};
    db_status st = store_read(e->st, load_account, &l);
    return st == DB_OK ? BO_OK : st == DB_NOTFOUND ? BO_NOT_FOUND : BO_INTERNAL;
}

bo_status account_by_id(engine *e, const char *id, account *out)
{
    if (!id || !*id || strlen(id) >= sizeof out->id) return BO_NOT_FOUND;
    account_lookup l = {id, true, out};
    db_status st = store_read(e->st, load_account, &l);
    return st == DB_OK ? BO_OK : st == DB_NOTFOUND ? BO_NOT_FOUND : BO_INTERNAL;
}

typedef struct {
    account *a;
    int64_t now;
} account_insert;

static db_status insert_account(db_conn *c, void *arg)
{
    account_insert *ins = arg;
    account *a = ins->a;
    return db_exec(c,
                   "INSERT INTO accounts (id, slug, name, timezone, currency, hold_seconds, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(a->id), DB_TEXT(a->slug), DB_TEXT(a->name), DB_TEXT(a->timezone),
                           DB_TEXT(a->currency), DB_INT(a->hold_seconds), DB_INT(ins->now), DB_INT(ins->now)),
                   NULL);
}

static bool slug_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') return false;
    return true;
}

bo_status account_create(engine *e, const char *slug, const char *name, const char *timezone, const char *currency,
                         account *out, bo_error *err)
{
    if (!slug || !slug_valid(slug))
        return bo_fail(err, BO_INVALID, "invalid_slug", "slug", "slug must be 1-63 of a-z 0-9 - _");
    if (!timezone || !tz_valid(timezone))
        return bo_fail(err, BO_INVALID, "invalid_timezone", "timezone", "unknown IANA time zone");
    if (!currency || strlen(currency) != 3 || !isupper((unsigned char)currency[0]) ||
        !isupper((unsigned char)currency[1]) || !isupper((unsigned char)currency[2]))
        return bo_fail(err, BO_INVALID, "invalid_currency", "currency", "currency must be an ISO 4217 code");
    account a = {0};
    rand_uuid(a.id);
    snprintf(a.slug, sizeof a.slug, "%s", slug);
    snprintf(a.name, sizeof a.name, "%s", name ? name : slug);
    snprintf(a.timezone, sizeof a.timezone, "%s", timezone);
    snprintf(a.currency, sizeof a.currency, "%s", currency);
    a.hold_seconds = e->cfg.default_hold_seconds;
    a.currency_decimals = 2;
    account_insert ins = {&a, clock_now()};
    db_status st = store_write(e->st, insert_account, &ins);
    if (st == DB_CONFLICT) return bo_fail(err, BO_CONFLICT, "slug_taken", "slug", "an account with this slug exists");
    if (st != DB_OK) return bo_from_db(st, err);
    if (out) *out = a;
    return BO_OK;
}

typedef struct {
    const account *a;
    const char *name;
    int64_t hold_seconds;
    int64_t auth_version; /* out */
} account_change;

static db_status update_account(db_conn *c, void *arg)
{
    account_change *ch = arg;
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE accounts SET name = COALESCE(?, name), hold_seconds = ?, updated_at = ? WHERE id = ?",
                           DB_ARGS(DB_TEXT(ch->name), DB_INT(ch->hold_seconds), DB_INT(clock_now()),
                                   DB_TEXT(ch->a->id)),
                           &changed);
    if (st == DB_OK && changed != 1) return DB_NOTFOUND;
    /* authentication caches hold a copy of the account */
    return st == DB_OK ? auth_touch(c, &ch->auth_version) : st;
}

bo_status account_update(engine *e, const account *a, const char *name, int64_t hold_seconds, account *out,
                         bo_error *err)
{
    if (name && (!*name || strlen(name) >= sizeof a->name))
        return bo_fail(err, BO_INVALID, "invalid_name", "name", "name must be 1 to %zu characters", sizeof a->name - 1);
    if (hold_seconds && (hold_seconds < 60 || hold_seconds > 7 * 86400))
        return bo_fail(err, BO_INVALID, "invalid_hold", "hold_seconds", "hold_seconds must be 60 to 604800");
    account_change ch = {a, name, hold_seconds ? hold_seconds : a->hold_seconds, 0};
    db_status st = store_write(e->st, update_account, &ch);
    if (st != DB_OK) return bo_from_db(st, err);
    auth_cache_advance(e, ch.auth_version);
    return account_by_id(e, a->id, out) == BO_OK ? BO_OK : bo_fail(err, BO_INTERNAL, "internal_error", "", "reload failed");
}

typedef struct {
    const char *account_id, *name, *sealed;
    char *plain_out;
} secret_op;

static db_status put_secret(db_conn *c, void *arg)
{
    secret_op *op = arg;
    return db_exec(c,
                   "INSERT INTO account_secrets (account_id, name, sealed) VALUES (?, ?, ?)"
                   " ON CONFLICT (account_id, name) DO UPDATE SET sealed = excluded.sealed",
                   DB_ARGS(DB_TEXT(op->account_id), DB_TEXT(op->name), DB_TEXT(op->sealed)), NULL);
}

static db_status get_secret(db_conn *c, void *arg)
{
    secret_op *op = arg;
    return db_query_text(c, "SELECT sealed FROM account_secrets WHERE account_id = ? AND name = ?",
                         DB_ARGS(DB_TEXT(op->account_id), DB_TEXT(op->name)), &op->plain_out);
}

bo_status account_secret_put(engine *e, const account *a, const char *name, const char *plain)
{
    char *sealed = secret_encrypt(plain);
    secret_op op = {a->id, name, sealed, NULL};
    db_status st = store_write(e->st, put_secret, &op);
    free(sealed);
    return st == DB_OK ? BO_OK : BO_INTERNAL;
}

char *account_secret_get(engine *e, const account *a, const char *name)
{
    secret_op op = {a->id, name, NULL, NULL};
    if (store_read(e->st, get_secret, &op) != DB_OK) return NULL;
    char *plain = secret_decrypt(op.plain_out);
    free(op.plain_out);
    return plain;
}
