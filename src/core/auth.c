/* Credentials: every kind is stored as a keyed hash of the secret (see
 * util/secure.h), so a database leak does not leak usable credentials, and a
 * lookup is one index probe.
 *
 * Lookups are cached in memory (auth_cache in internal.h): hash -> account and
 * the credential's expiry, so an authenticated request reads no SQL. Expiry is
 * checked on every hit. The cache is valid for one database-wide auth version,
 * which every write that changes a credential or an account's settings bumps
 * in its own transaction; the cache re-reads it at most every AUTH_RECHECK_MS
 * and drops everything when it moved. Every entry is read in the same snapshot
 * as the version it is filed under, so a read racing a write can never plant
 * a stale entry under the newer version. */
#include "core/internal.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bounds on memory: positives are bounded by the credentials in the database,
 * but a client can invent unknown secrets without end, so those are cached
 * only up to AUTH_CACHE_MAX_NEGATIVE and then simply not cached. */
#define AUTH_CACHE_MAX 16384
#define AUTH_CACHE_MAX_NEGATIVE 1024
#define AUTH_CACHE_BUCKETS 4096 /* power of two */

struct auth_entry {
    auth_entry *next;
    cred_kind kind;
    char hash[65];
    bool found;            /* false: no such live credential (unknown or revoked) */
    instant_us expires_at; /* 0: never */
    account acct;
};

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

/* Access tokens are added without bumping the auth version: they are random
 * 256-bit values that nobody can have looked up before they were issued, and a
 * bump per OAuth grant would empty every server process's cache each time.
 * The price: an unknown access token is never cached as such (a later add of
 * it would not invalidate that), see cache_store. */
static bool adds_bump_version(cred_kind kind) { return kind != CRED_ACCESS_TOKEN; }

/* An oauth secret is bound to its client id so equal secrets of two clients differ. */
static void cred_hash(cred_kind kind, const char *public_id, const char *secret, char out[65])
{
    if (kind != CRED_OAUTH_CLIENT) {
        secret_hash(secret, out);
        return;
    }
    size_t n = strlen(public_id) + strlen(secret) + 2;
    char *both = malloc(n);
    snprintf(both, n, "%s:%s", public_id, secret);
    secret_hash(both, out);
    free(both);
}

/* ---- the auth version ---- */

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the cache; every function named cache_* takes the lock itself ---- */

void auth_cache_init(auth_cache *c)
{
    pthread_mutex_init(&c->lock, NULL);
    c->buckets = calloc(AUTH_CACHE_BUCKETS, sizeof *c->buckets);
    c->entries = c->negatives = 0;
    c->version = -1;
    c->checked_ms = 0;
}

static void clear_locked(auth_cache *c)
{
    for (size_t b = 0; b < AUTH_CACHE_BUCKETS; b++) {
        for (auth_entry *en = c->buckets[b], *next; en; en = next) {
            next = en->next;
            free(en);
        }
        c->buckets[b] = NULL;
    }
    c->entries = c->negatives = 0;
}

void auth_cache_destroy(auth_cache *c)
{
    clear_locked(c);
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
}

/* The hash is keyed BLAKE2b output, uniform and unknown to clients, so its
 * first hex digits make a bucket index no client can aim at. */
static size_t bucket_of(const char *hash)
{
    char head[9];
    memcpy(head, hash, 8);
    head[8] = 0;
    return (size_t)strtoul(head, NULL, 16) & (AUTH_CACHE_BUCKETS - 1);
}

static auth_entry *find_locked(auth_cache *c, cred_kind kind, const char *hash)
{
    for (auth_entry *en = c->buckets[bucket_of(hash)]; en; en = en->next)
        if (en->kind == kind && secret_equal(en->hash, hash)) return en;
    return NULL;
}

/* Adopts a version read from the database at started_ms (monotonic): a newer
 * one empties the cache. False when the read is older than what the cache
 * already knows, so nothing read with it may be cached. */
static bool adopt_version_locked(auth_cache *c, int64_t version, int64_t started_ms)
{
    if (version < c->version) return false;
    if (version > c->version) {
        clear_locked(c);
        c->version = version;
    }
    if (started_ms > c->checked_ms) c->checked_ms = started_ms;
    return true;
}

typedef enum { PROBE_HIT, PROBE_MISS, PROBE_STALE } probe_result;

static probe_result cache_probe(auth_cache *c, cred_kind kind, const char *hash, auth_entry *out)
{
    int64_t now = monotonic_ms();
    pthread_mutex_lock(&c->lock);
    probe_result p = PROBE_STALE;
    if (c->version >= 0 && now - c->checked_ms < AUTH_RECHECK_MS) {
        auth_entry *en = find_locked(c, kind, hash);
        if (en) *out = *en;
        p = en ? PROBE_HIT : PROBE_MISS;
    }
    pthread_mutex_unlock(&c->lock);
    return p;
}

static void cache_confirm(auth_cache *c, int64_t version, int64_t started_ms)
{
    pthread_mutex_lock(&c->lock);
    adopt_version_locked(c, version, started_ms);
    pthread_mutex_unlock(&c->lock);
}

/* Files what a miss read from the database under the version read with it. */
static void cache_store(auth_cache *c, const auth_entry *read, int64_t version, int64_t started_ms)
{
    /* no row at all, for a kind added without a version bump: nothing would
     * ever drop such an entry when the credential appears */
    bool unknown = !read->found && !*read->acct.id;
    if (unknown && !adds_bump_version(read->kind)) return;
    pthread_mutex_lock(&c->lock);
    if (adopt_version_locked(c, version, started_ms) && !find_locked(c, read->kind, read->hash)) {
        /* a full cache is emptied rather than swept: O(1) amortised, and it
         * also drops the expired access tokens that fill it */
        if (read->found && c->entries - c->negatives >= AUTH_CACHE_MAX) clear_locked(c);
        if (read->found || c->negatives < AUTH_CACHE_MAX_NEGATIVE) {
            auth_entry *en = malloc(sizeof *en);
            *en = *read;
            size_t b = bucket_of(en->hash);
            en->next = c->buckets[b];
            c->buckets[b] = en;
            c->entries++;
            if (!en->found) c->negatives++;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

void auth_cache_advance(engine *e, int64_t version)
{
    cache_confirm(&e->auth, version, monotonic_ms());
}

size_t auth_cache_size(engine *e, size_t *negatives)
{
    pthread_mutex_lock(&e->auth.lock);
    size_t n = e->auth.entries;
    if (negatives) *negatives = e->auth.negatives;
    pthread_mutex_unlock(&e->auth.lock);
    return n;
}

/* ---- lookups ---- */

/* The credential, its account and the auth version, in one snapshot (*version
 * gets the latter). Expired and revoked rows are read too: the cache checks
 * expiry on every hit, and a revoked row is a negative that only a version
 * bump can change. An entry without an account is an unknown credential. */
static bool read_cred(engine *e, auth_entry *en, int64_t *version)
{
    store_credential_read rd;
    store_status st = store_credential_lookup(e->st, kind_name(en->kind), en->hash, &rd);
    if (st != STORE_OK && st != STORE_NOT_FOUND) return false;
    *version = rd.auth_version;
    if (st == STORE_OK && secret_equal(rd.secret_hash, en->hash)) {
        en->expires_at = rd.expires_at;
        account_from_store(&rd.account, &en->acct);
        en->found = !rd.revoked;
    }
    return true;
}

static bo_status verdict(const auth_entry *en, account *out)
{
    if (!en->found || (en->expires_at && en->expires_at <= clock_now())) return BO_UNAUTHORIZED;
    *out = en->acct;
    return BO_OK;
}

static bo_status lookup_hash(engine *e, cred_kind kind, const char hash[65], account *out)
{
    auth_entry hit;
    probe_result p = cache_probe(&e->auth, kind, hash, &hit);
    if (p == PROBE_STALE) {
        int64_t started = monotonic_ms(), version;
        if (store_auth_version(e->st, &version) == STORE_OK) {
            cache_confirm(&e->auth, version, started);
            p = cache_probe(&e->auth, kind, hash, &hit);
        }
    }
    if (p == PROBE_HIT) return verdict(&hit, out);
    auth_entry read = {.kind = kind};
    memcpy(read.hash, hash, sizeof read.hash);
    int64_t started = monotonic_ms(), version;
    if (!read_cred(e, &read, &version)) return BO_INTERNAL;
    cache_store(&e->auth, &read, version, started);
    return verdict(&read, out);
}

bo_status auth_lookup(engine *e, cred_kind kind, const char *secret, account *out)
{
    if (!secret || !*secret || strlen(secret) > 512) return BO_UNAUTHORIZED;
    char hash[65];
    secret_hash(secret, hash);
    return lookup_hash(e, kind, hash, out);
}

bo_status auth_oauth_client(engine *e, const char *client_id, const char *client_secret, account *out)
{
    if (!client_id || !client_secret || strlen(client_id) > 256 || strlen(client_secret) > 256) return BO_UNAUTHORIZED;
    char both[520], hash[65];
    snprintf(both, sizeof both, "%s:%s", client_id, client_secret);
    secret_hash(both, hash);
    return lookup_hash(e, CRED_OAUTH_CLIENT, hash, out);
}

/* ---- writes ---- */

bo_status credential_add(engine *e, const account *a, cred_kind kind, const char *public_id, const char *secret,
                         const char *label, instant_us expires_at, bo_error *err)
{
    if (!secret || strlen(secret) < 8 || strlen(secret) > 256)
        return bo_fail(err, BO_INVALID, "invalid_secret", "secret", "secret must be 8 to 256 characters");
    if (kind == CRED_OAUTH_CLIENT && (!public_id || !*public_id))
        return bo_fail(err, BO_INVALID, "invalid_client_id", "client_id", "client id required");
    char id[37], hash[65];
    rand_uuid(id);
    cred_hash(kind, public_id, secret, hash);
    store_credential cred = {id, a->id, kind_name(kind), public_id, hash, label, clock_now(), expires_at};
    int64_t version = 0;
    /* a new credential may have been cached as unknown */
    store_status st = store_credential_insert(e->st, &cred, adds_bump_version(kind), &version);
    switch (st) {
    case STORE_OK:
        if (version) auth_cache_advance(e, version);
        return BO_OK;
    case STORE_CONFLICT: return BO_OK; /* already there: adding it again changes nothing */
    default: return bo_from_store(st, err);
    }
}

bo_status credential_revoke(engine *e, const account *a, cred_kind kind, const char *public_id, const char *secret,
                            bo_error *err)
{
    if (!secret || (kind == CRED_OAUTH_CLIENT && !public_id))
        return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such credential");
    char hash[65];
    cred_hash(kind, public_id, secret, hash);
    int64_t version;
    store_status st = store_credential_revoke(e->st, a->id, kind_name(kind), hash, &version);
    if (st == STORE_OK) auth_cache_advance(e, version);
    return bo_from_store(st, err);
}

bo_status auth_issue_access_token(engine *e, const account *a, int64_t ttl_seconds, char token[80])
{
    rand_token("at_", 32, token, 80);
    bo_error err;
    return credential_add(e, a, CRED_ACCESS_TOKEN, NULL, token, "oauth", clock_now() + ttl_seconds * US_PER_SEC,
                          &err);
}
