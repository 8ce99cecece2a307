/* Accounts (tenants) and the secrets the server keeps for them. */
#include "core/internal.h"
#include "util/secure.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void account_from_store(const store_account *in, account *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", in->id);
    snprintf(a->slug, sizeof a->slug, "%s", in->slug);
    snprintf(a->name, sizeof a->name, "%s", in->name);
    snprintf(a->timezone, sizeof a->timezone, "%s", in->timezone);
    snprintf(a->currency, sizeof a->currency, "%s", in->currency);
    a->hold_seconds = in->hold_seconds;
    a->created_at = in->created_at;
    /* ISO 4217 minor units: the few zero-decimal currencies we are likely to meet */
    a->currency_decimals = (!strcmp(a->currency, "JPY") || !strcmp(a->currency, "KRW") || !strcmp(a->currency, "ISK"))
                               ? 0
                               : 2;
}

static bo_status account_found(store_status st, const store_account *row, account *out)
{
    switch (st) {
    case STORE_OK: account_from_store(row, out); return BO_OK;
    case STORE_NOT_FOUND: return BO_NOT_FOUND;
    default: return BO_INTERNAL;
    }
}

bo_status account_by_slug(engine *e, const char *slug, account *out)
{
    if (!slug || !*slug || strlen(slug) >= sizeof out->slug) return BO_NOT_FOUND;
    store_account row;
    return account_found(store_account_by_slug(e->st, slug, &row), &row, out);
}

bo_status account_by_id(engine *e, const char *id, account *out)
{
    if (!id || !*id || strlen(id) >= sizeof out->id) return BO_NOT_FOUND;
    store_account row;
    return account_found(store_account_by_id(e->st, id, &row), &row, out);
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
    store_account row = {.hold_seconds = a.hold_seconds};
    snprintf(row.id, sizeof row.id, "%s", a.id);
    snprintf(row.slug, sizeof row.slug, "%s", a.slug);
    snprintf(row.name, sizeof row.name, "%s", a.name);
    snprintf(row.timezone, sizeof row.timezone, "%s", a.timezone);
    snprintf(row.currency, sizeof row.currency, "%s", a.currency);
    store_status st = store_account_insert(e->st, &row, clock_now());
    if (st == STORE_CONFLICT) return bo_fail(err, BO_CONFLICT, "slug_taken", "slug", "an account with this slug exists");
    if (st != STORE_OK) return bo_from_store(st, err);
    if (out) *out = a;
    return BO_OK;
}

bo_status account_update(engine *e, const account *a, const char *name, int64_t hold_seconds, account *out,
                         bo_error *err)
{
    if (name && (!*name || strlen(name) >= sizeof a->name))
        return bo_fail(err, BO_INVALID, "invalid_name", "name", "name must be 1 to %zu characters", sizeof a->name - 1);
    if (hold_seconds && (hold_seconds < 60 || hold_seconds > 7 * 86400))
        return bo_fail(err, BO_INVALID, "invalid_hold", "hold_seconds", "hold_seconds must be 60 to 604800");
    /* authentication caches hold a copy of the account: the store bumps the auth version */
    int64_t auth_version;
    store_status st = store_account_update(e->st, a->id, name, hold_seconds ? hold_seconds : a->hold_seconds,
                                           clock_now(), &auth_version);
    if (st != STORE_OK) return bo_from_store(st, err);
    auth_cache_advance(e, auth_version);
    access_changed(e); /* the hold length is shown in cached replies */
    return account_by_id(e, a->id, out) == BO_OK ? BO_OK : bo_fail(err, BO_INTERNAL, "internal_error", "", "reload failed");
}

bo_status account_secret_put(engine *e, const account *a, const char *name, const char *plain)
{
    char *sealed = secret_encrypt(plain);
    store_status st = store_account_secret_put(e->st, a->id, name, sealed);
    free(sealed);
    return st == STORE_OK ? BO_OK : BO_INTERNAL;
}

char *account_secret_get(engine *e, const account *a, const char *name)
{
    char *sealed;
    if (store_account_secret_get(e->st, a->id, name, &sealed) != STORE_OK) return NULL;
    char *plain = secret_decrypt(sealed);
    free(sealed);
    return plain;
}
