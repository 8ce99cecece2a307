/* Access keys: an event's shop can be locked with keys the organiser hands
 * out; a request that names none of them does not see the event. Keys are
 * stored as keyed hashes, as credentials are: the server only ever compares
 * them, so it has no reason to be able to read them back. */
#include "core/internal.h"
#include "store/access_keys_store.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Its own prefix, so an access key's hash never equals a credential's of the same text. */
static void access_key_hash(const char *key, char out[65])
{
    char prefixed[80];
    snprintf(prefixed, sizeof prefixed, "event-access-key:%s", key);
    secret_hash(prefixed, out);
}

static bool access_key_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n < 1 || n > EVENT_ACCESS_KEY_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] == 0x7f) return false;
    return true;
}

/* After the commit: a cached reply that checked a ?key= is stale now (read_stamp.access). */
void access_changed(engine *e) { atomic_fetch_add(&e->access_version, 1); }

static bo_status event_known(engine *e, const account *a, const char *event_id, bo_error *err)
{
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    bool known = event_id && model_event(cs->model, event_id);
    catalog_release(cs);
    return known ? BO_OK : bo_fail(err, BO_NOT_FOUND, "not_found", "event_id", "no such event");
}

static bo_status key_checked(const char *key, bo_error *err)
{
    if (access_key_valid(key)) return BO_OK;
    return bo_fail(err, BO_INVALID, "invalid_access_key", "access_key",
                   "an access key is 1 to %d printable characters without spaces", EVENT_ACCESS_KEY_MAX);
}

bo_status event_access_key_add(engine *e, const account *a, const char *event_id, const char *key,
                               const char *label, bo_error *err)
{
    bo_status st = key_checked(key, err);
    if (st == BO_OK) st = event_known(e, a, event_id, err);
    if (st != BO_OK) return st;
    char hash[65];
    access_key_hash(key, hash);
    switch (store_access_key_add(e->st, a->id, event_id, hash, label ? label : "", clock_now())) {
    case STORE_OK: access_changed(e); return BO_OK;
    case STORE_FULL: return bo_fail(err, BO_UNAVAILABLE, "storage_full", "", "no room to store the key");
    default: return bo_fail(err, BO_INTERNAL, "internal_error", "", "the key could not be stored");
    }
}

bo_status event_access_key_remove(engine *e, const account *a, const char *event_id, const char *key, bo_error *err)
{
    bo_status st = key_checked(key, err);
    if (st != BO_OK) return st;
    char hash[65];
    access_key_hash(key, hash);
    switch (store_access_key_delete(e->st, a->id, event_id, hash)) {
    case STORE_OK: access_changed(e); return BO_OK;
    case STORE_NOT_FOUND: return bo_fail(err, BO_NOT_FOUND, "not_found", "access_key", "the event has no such key");
    case STORE_FULL: return bo_fail(err, BO_UNAVAILABLE, "storage_full", "", "no room to write");
    default: return bo_fail(err, BO_INTERNAL, "internal_error", "", "the key could not be removed");
    }
}

static size_t unlocked_slot(const char *account_id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = account_id; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)(h % ACCESS_UNLOCKED_SLOTS);
}

/* True when the account was seen without keys at this very version. */
static bool known_unlocked(engine *e, const char *account_id, uint64_t version)
{
    size_t i = unlocked_slot(account_id);
    pthread_mutex_lock(&e->unlocked_lock);
    bool known = e->unlocked[i].version == version && !strcmp(e->unlocked[i].account_id, account_id);
    pthread_mutex_unlock(&e->unlocked_lock);
    return known;
}

static void remember_unlocked(engine *e, const char *account_id, uint64_t version)
{
    size_t i = unlocked_slot(account_id);
    pthread_mutex_lock(&e->unlocked_lock);
    snprintf(e->unlocked[i].account_id, sizeof e->unlocked[i].account_id, "%s", account_id);
    e->unlocked[i].version = version;
    pthread_mutex_unlock(&e->unlocked_lock);
}

bo_status event_access_locks(engine *e, const account *a, const char *key, event_lock **out, size_t *n)
{
    /* read before looking: a key added while this reads has moved it, so what
     * is remembered below is never taken for the account after the key */
    uint64_t version = atomic_load(&e->access_version);
    *out = NULL;
    *n = 0;
    if (strlen(a->id) < sizeof e->unlocked[0].account_id && known_unlocked(e, a->id, version)) return BO_OK;
    char hash[65];
    bool given = access_key_valid(key);
    if (given) access_key_hash(key, hash);
    /* a malformed key opens nothing, but still lists what is locked */
    if (store_event_locks(e->st, a->id, given ? hash : NULL, out, n) != STORE_OK) return BO_INTERNAL;
    if (*n == 0 && strlen(a->id) < sizeof e->unlocked[0].account_id) remember_unlocked(e, a->id, version);
    return BO_OK;
}

bool event_access_open(const event_lock *locks, size_t n, const char *event_id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(locks[i].event_id, event_id)) return locks[i].opened;
    return true;
}
