/* Storage of accounts (tenants) and what authenticates them: credentials
 * (kept as keyed hashes, see util/secure.h), sealed secrets, the database-wide
 * auth version that every credential or account change bumps, and the request
 * rate-limit counters. Hashing, sealing and the caches live in src/core.
 *
 * Functions taking a `store *` are whole transactions. Functions taking a
 * `db_conn *` are steps for a transaction the engine composes. */
#ifndef BO_STORE_ACCOUNTS_H
#define BO_STORE_ACCOUNTS_H
#include "store/store.h"
#include "util/timeutil.h"

typedef struct {
    char id[40];
    char slug[64];
    char name[128];
    char timezone[64];
    char currency[4];
    int64_t hold_seconds;
    instant_us created_at; /* read only; an insert stamps its own */
} store_account;

/* ---- accounts ---- */

/* STORE_NOT_FOUND when no account has this id / slug. */
store_status store_account_by_id(store *s, const char *id, store_account *out);
store_status store_account_by_slug(store *s, const char *slug, store_account *out);
/* The same read as a step of an open transaction. */
store_status store_account_load(db_conn *c, const char *id, store_account *out);
/* STORE_CONFLICT when the slug (or id) is taken; nothing written then. */
store_status store_account_insert(store *s, const store_account *a, instant_us now);
/* Sets the name (NULL keeps it) and hold time, and bumps the auth version in
 * the same transaction (caches hold copies of accounts); *auth_version gets
 * the new version. STORE_NOT_FOUND when there is no such account. */
store_status store_account_update(store *s, const char *id, const char *name, int64_t hold_seconds, instant_us now,
                                  int64_t *auth_version);

/* ---- secrets (sealed by the caller) ---- */

/* Sets or replaces the account's secret `name`; STORE_NOT_FOUND when the account does not exist. */
store_status store_account_secret_put(store *s, const char *account_id, const char *name, const char *sealed);
/* *sealed gets a malloc'd copy; STORE_NOT_FOUND when the account has none by that name. */
store_status store_account_secret_get(store *s, const char *account_id, const char *name, char **sealed);

/* ---- the auth version ---- */

/* The current version (0 before any bump). */
store_status store_auth_version(store *s, int64_t *version);
/* Bumps it inside the caller's transaction; *version gets the new value. */
store_status store_auth_version_bump(db_conn *c, int64_t *version);

/* ---- credentials ---- */

typedef struct {
    const char *id;        /* the row's own id (a UUID) */
    const char *account_id;
    const char *kind;      /* admin_token | oauth_client | access_token | api_key | product_token | channel_key */
    const char *public_id; /* NULL none */
    const char *secret_hash;
    const char *label;     /* NULL none */
    instant_us created_at;
    instant_us expires_at; /* 0 never */
} store_credential;

/* Adds a credential; when bump_version, bumps the auth version in the same
 * transaction and *auth_version gets it (else 0). STORE_CONFLICT when one of
 * this kind with this hash exists already: nothing is written, no bump.
 * STORE_NOT_FOUND when the account does not exist. */
store_status store_credential_insert(store *s, const store_credential *cred, bool bump_version,
                                     int64_t *auth_version);
/* Revokes the account's live credential of this kind and hash and bumps the
 * auth version (*auth_version). STORE_NOT_FOUND when there is none (unknown,
 * another account's, or already revoked): nothing is bumped. */
store_status store_credential_revoke(store *s, const char *account_id, const char *kind, const char *secret_hash,
                                     int64_t *auth_version);

/* What a credential lookup reads, all in one snapshot. */
typedef struct {
    int64_t auth_version;  /* always set, whatever the status */
    char secret_hash[65];  /* as stored, for a constant-time compare by the caller */
    instant_us expires_at; /* 0 never; expired rows are returned too */
    bool revoked;          /* revoked rows are returned too */
    store_account account;
} store_credential_read;
/* STORE_NOT_FOUND when no credential of this kind has this hash, or its
 * account is gone (out->auth_version is still set). */
store_status store_credential_lookup(store *s, const char *kind, const char *secret_hash,
                                     store_credential_read *out);

/* ---- rate limits ---- */

/* Counts one request of `key` in the window starting at window_start (seconds)
 * and gives the window's count so far, this one included. The key's older
 * windows are dropped when a new one begins. */
store_status store_rate_limit_hit(store *s, const char *key, int64_t window_start, int64_t *count);
#endif
