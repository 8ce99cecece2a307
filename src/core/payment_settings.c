/* An account's settings for each payment provider (payment.h,
 * docs/PAYMENTS.md): an API key and a webhook signing secret the server must
 * use itself, so they are sealed with the server key (util/secure.c), never
 * hashed, and never shown again: only whether each is set and its last four
 * characters. */
#include "core/internal.h"
#include "core/payment.h"
#include "store/payments_store.h"
#include "util/log.h"
#include "util/secure.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An opened secret leaves memory wiped, not just freed. */
static void wipe_free(char *text)
{
    if (!text) return;
    sodium_memzero(text, strlen(text));
    free(text);
}

void payment_credentials_free(payment_credentials *c)
{
    if (!c) return;
    wipe_free(c->api_key);
    wipe_free(c->webhook_secret);
    c->api_key = c->webhook_secret = NULL;
}

/* The provider of that name as this server serves it. */
static const payment_provider *served(const char *name, bool test_server, bo_error *err)
{
    const payment_provider *p = payment_provider_find(name);
    if (!p || (p->test_server_only && !test_server)) {
        bo_fail(err, BO_NOT_FOUND, "unknown_provider", "provider", "no payment provider named so");
        return NULL;
    }
    return p;
}

typedef struct {
    const char *account_id, *provider;
    const char *sealed_api_key, *sealed_webhook_secret; /* put */
    char *got_api_key, *got_webhook_secret;             /* get */
} credentials_op;

static db_status credentials_get_fn(db_conn *c, void *arg)
{
    credentials_op *x = arg;
    free(x->got_api_key);
    free(x->got_webhook_secret);
    x->got_api_key = x->got_webhook_secret = NULL;
    return store_db_status(
        store_payment_credentials_get(c, x->account_id, x->provider, &x->got_api_key, &x->got_webhook_secret));
}

static db_status credentials_put_fn(db_conn *c, void *arg)
{
    credentials_op *x = arg;
    return store_db_status(store_payment_credentials_put(c, x->account_id, x->provider, x->sealed_api_key,
                                                         x->sealed_webhook_secret));
}

static db_status credentials_delete_fn(db_conn *c, void *arg)
{
    credentials_op *x = arg;
    return store_db_status(store_payment_credentials_delete(c, x->account_id, x->provider));
}

/* Opens a sealed secret; false when it was sealed under another key or tampered with. */
static bool open_sealed(const char *sealed, char **out)
{
    *out = NULL;
    if (!sealed) return true;
    *out = secret_decrypt(sealed);
    return *out != NULL;
}

static bo_status load(engine *e, const account *a, const char *provider, payment_credentials *out)
{
    memset(out, 0, sizeof *out);
    credentials_op x = {.account_id = a->id, .provider = provider};
    db_status st = store_read(e->st, credentials_get_fn, &x);
    bool opened = st == DB_OK && open_sealed(x.got_api_key, &out->api_key) &&
                  open_sealed(x.got_webhook_secret, &out->webhook_secret);
    free(x.got_api_key);
    free(x.got_webhook_secret);
    if (opened) return BO_OK;
    payment_credentials_free(out);
    log_warn("payments: the settings of provider %s for account %s could not be opened", provider, a->id);
    return BO_INTERNAL;
}

bo_status payment_credentials_load(engine *e, const account *a, const payment_provider *p, payment_credentials *out)
{
    memset(out, 0, sizeof *out);
    return p->uses_credentials ? load(e, a, p->name, out) : BO_OK;
}

static void hint_of(const char *secret, char hint[8])
{
    size_t n = secret ? strlen(secret) : 0;
    snprintf(hint, 8, "%s", n >= 4 ? secret + n - 4 : "");
}

bo_status payment_provider_settings_get(engine *e, const account *a, const char *provider, bool test_server,
                                        payment_provider_settings *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    const payment_provider *p = served(provider, test_server, err);
    if (!p) return err->status;
    payment_credentials cred;
    if (load(e, a, p->name, &cred) != BO_OK)
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "the provider's settings could not be opened");
    out->api_key_set = cred.api_key != NULL;
    out->webhook_secret_set = cred.webhook_secret != NULL;
    hint_of(cred.api_key, out->api_key_hint);
    hint_of(cred.webhook_secret, out->webhook_secret_hint);
    payment_credentials_free(&cred);
    return BO_OK;
}

/* A secret as an API gives it: PAYMENT_SECRET_MIN..MAX printable ASCII
 * characters without spaces (what a provider's dashboard copies). */
static bool secret_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < PAYMENT_SECRET_MIN || n > PAYMENT_SECRET_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

bo_status payment_provider_settings_put(engine *e, const account *a, const char *provider, bool test_server,
                                        const char *api_key, const char *webhook_secret, bo_error *err)
{
    const payment_provider *p = served(provider, test_server, err);
    if (!p) return err->status;
    if (!secret_ok(api_key))
        return bo_fail(err, BO_INVALID, "invalid_field", "api_key",
                       "api_key is %d to %d printable characters without spaces", PAYMENT_SECRET_MIN,
                       PAYMENT_SECRET_MAX);
    if (webhook_secret && !secret_ok(webhook_secret))
        return bo_fail(err, BO_INVALID, "invalid_field", "webhook_secret",
                       "webhook_secret is %d to %d printable characters without spaces", PAYMENT_SECRET_MIN,
                       PAYMENT_SECRET_MAX);
    char *sealed_key = secret_encrypt(api_key);
    char *sealed_secret = webhook_secret ? secret_encrypt(webhook_secret) : NULL;
    credentials_op x = {.account_id = a->id, .provider = p->name, .sealed_api_key = sealed_key,
                        .sealed_webhook_secret = sealed_secret};
    db_status st = sealed_key && (sealed_secret || !webhook_secret) ? store_write(e->st, credentials_put_fn, &x)
                                                                    : DB_ERROR;
    free(sealed_key);
    free(sealed_secret);
    return bo_from_db(st, err);
}

bo_status payment_provider_settings_delete(engine *e, const account *a, const char *provider, bool test_server,
                                           bo_error *err)
{
    const payment_provider *p = served(provider, test_server, err);
    if (!p) return err->status;
    credentials_op x = {.account_id = a->id, .provider = p->name};
    return bo_from_db(store_write(e->st, credentials_delete_fn, &x), err);
}
