/* POST /admin/v1/orders/{id}/payments: starts paying an open order through a
 * payment provider (the engine's payment step, docs/PAYMENTS.md), the call a
 * shop's checkout makes (CM's, until that dialect exists); GET
 * /admin/v1/payments/{id}: a payment session; GET and PATCH
 * /admin/v1/payment_settings: the account's test mode (where its providers'
 * settings will go). */
#include "api/admin/admin.h"
#include "core/payment.h"
#include "util/jbuf.h"
#include <stdio.h>
#include <string.h>

/* The redirect as a browser can follow it: a provider's absolute URL as is,
 * a path of this server (the test page) after the base URL the client used. */
static void absolute_redirect(http_request *r, const payment_session *s, jbuf *b)
{
    if (s->redirect_url[0] != '/') {
        jb_kstr(b, "redirect_url", s->redirect_url);
        return;
    }
    size_t n = strlen(http_base_url(r)) + strlen(s->redirect_url) + 1;
    char *url = http_alloc(r, n);
    snprintf(url, n, "%s%s", http_base_url(r), s->redirect_url);
    jb_kstr(b, "redirect_url", url);
}

static void reply_payment(http_request *r, int status, const payment_session *s)
{
    jbuf b;
    jb_init(&b, 1024);
    jb_obj(&b);
    jb_kstr(&b, "id", s->id);
    jb_kstr(&b, "order_id", s->order_id);
    jb_kstr(&b, "provider", s->provider);
    jb_kstr(&b, "method", s->method);
    jb_kstr(&b, "status", s->status);
    jb_kint(&b, "amount", s->amount);
    jb_kint(&b, "fee", s->fee);
    jb_kint(&b, "total", s->amount + s->fee);
    jb_kstr(&b, "currency", s->currency);
    jb_kint(&b, "due_at", s->due_at);
    absolute_redirect(r, s, &b);
    jb_key(&b, "callback_urls"), jb_obj(&b);
    jb_kstr(&b, "success", s->success_url);
    jb_kstr(&b, "failure", s->failure_url);
    jb_kstr(&b, "cancel", s->cancel_url);
    jb_kstr(&b, "expired", s->expired_url);
    jb_obj_end(&b);
    if (*s->reason) jb_kstr(&b, "reason", s->reason);
    else jb_knull(&b, "reason");
    jb_kint(&b, "created_at", s->created_at);
    jb_kint(&b, "updated_at", s->updated_at);
    jb_obj_end(&b);
    size_t len;
    char *body = jb_take(&b, &len);
    if (status == 201) {
        size_t n = strlen(ADMIN_PREFIX "/payments/") + strlen(s->id) + 1;
        char *location = http_alloc(r, n);
        snprintf(location, n, ADMIN_PREFIX "/payments/%s", s->id);
        http_add_header(r, "Location", location);
    }
    http_reply_owned(r, status, "application/json", body, len);
}

void admin_order_payment_start(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    payment_start_request req = {.test_server = ((app *)app_)->test_clock};
    json_t *urls = NULL;
    const body_field fields[] = {
        {"provider", BF_STRING, false, 1, 24, &req.provider, NULL},
        {"method", BF_STRING, true, 1, 64, &req.method, NULL},
        {"fee", BF_INT, false, 0, PAYMENT_MAX_FEE, &req.fee, NULL},
        {"deadline_seconds", BF_INT, false, PAYMENT_MIN_DEADLINE_SECONDS, PAYMENT_MAX_DEADLINE_SECONDS,
         &req.deadline_seconds, NULL},
        {"callback_urls", BF_OBJECT, true, 0, 0, &urls, NULL},
    };
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    const body_field url_fields[] = {
        {"success", BF_STRING, true, 1, PAYMENT_URL_MAX, &req.success_url, NULL},
        {"failure", BF_STRING, true, 1, PAYMENT_URL_MAX, &req.failure_url, NULL},
        {"cancel", BF_STRING, true, 1, PAYMENT_URL_MAX, &req.cancel_url, NULL},
        {"expired", BF_STRING, true, 1, PAYMENT_URL_MAX, &req.expired_url, NULL},
    };
    if (!ADMIN_FIELDS(r, urls, "callback_urls.", url_fields)) return;
    payment_session *s = http_alloc(r, sizeof *s);
    bool created = false;
    bo_error err = {0};
    if (payment_start(admin_engine(app_), api_account(r), http_path_param(r, "id"), &req, s, &created, &err) !=
        BO_OK) {
        /* admin_fail answers every 403 as "forbidden"; this one has its own code */
        if (err.status == BO_FORBIDDEN) return admin_error(r, 403, err.code, err.field, "%s", err.message);
        return admin_fail(r, &err);
    }
    reply_payment(r, created ? 201 : 200, s);
}

void admin_payment_get(http_request *r, void *app_)
{
    payment_session *s = http_alloc(r, sizeof *s);
    bo_status st = payment_get(admin_engine(app_), api_account(r), http_path_param(r, "id"), s);
    if (st != BO_OK) return admin_fail_status(r, st, "payment");
    reply_payment(r, 200, s);
}

static void reply_settings(http_request *r, engine *e, const account *a)
{
    bool test_mode = false;
    if (account_test_mode_get(e, a, &test_mode) != BO_OK)
        return admin_error(r, 500, "internal_error", NULL, "the payment settings could not be read");
    http_reply_json(r, 200, json_pack("{s:b}", "test_mode", test_mode));
}

void admin_payment_settings_get(http_request *r, void *app_)
{
    reply_settings(r, admin_engine(app_), api_account(r));
}

void admin_payment_settings_update(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    bool test_mode = false, given = false;
    const body_field fields[] = {{"test_mode", BF_BOOL, false, 0, 0, &test_mode, &given}};
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    bo_error err = {0};
    if (given && account_test_mode_set(admin_engine(app_), api_account(r), test_mode, &err) != BO_OK)
        return admin_fail(r, &err);
    reply_settings(r, admin_engine(app_), api_account(r));
}

/* GET, PUT and DELETE /admin/v1/payment_providers/{provider}: the account's
 * settings for a payment provider. The secrets are sealed at rest and never
 * answered: only whether each is set and its last four characters. */
static void reply_provider_settings(http_request *r, const char *provider, const payment_provider_settings *ps)
{
    http_reply_json(r, 200,
                    json_pack("{s:s,s:b,s:{s:b,s:s?},s:{s:b,s:s?}}", "provider", provider, "configured",
                              ps->api_key_set, "api_key", "configured", ps->api_key_set, "last4",
                              ps->api_key_set ? ps->api_key_hint : NULL, "webhook_secret", "configured",
                              ps->webhook_secret_set, "last4",
                              ps->webhook_secret_set ? ps->webhook_secret_hint : NULL));
}

void admin_payment_provider_get(http_request *r, void *app_)
{
    payment_provider_settings ps;
    bo_error err = {0};
    const char *provider = http_path_param(r, "provider");
    if (payment_provider_settings_get(admin_engine(app_), api_account(r), provider, ((app *)app_)->test_clock, &ps,
                                      &err) != BO_OK)
        return admin_fail(r, &err);
    reply_provider_settings(r, provider, &ps);
}

void admin_payment_provider_put(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    const char *api_key = NULL, *webhook_secret = NULL;
    const body_field fields[] = {
        {"api_key", BF_STRING, true, PAYMENT_SECRET_MIN, PAYMENT_SECRET_MAX, &api_key, NULL},
        {"webhook_secret", BF_STRING, false, PAYMENT_SECRET_MIN, PAYMENT_SECRET_MAX, &webhook_secret, NULL},
    };
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    engine *e = admin_engine(app_);
    bool test_server = ((app *)app_)->test_clock;
    const char *provider = http_path_param(r, "provider");
    payment_provider_settings ps;
    bo_error err = {0};
    if (payment_provider_settings_put(e, api_account(r), provider, test_server, api_key, webhook_secret, &err) !=
            BO_OK ||
        payment_provider_settings_get(e, api_account(r), provider, test_server, &ps, &err) != BO_OK)
        return admin_fail(r, &err);
    reply_provider_settings(r, provider, &ps);
}

void admin_payment_provider_delete(http_request *r, void *app_)
{
    bo_error err = {0};
    if (payment_provider_settings_delete(admin_engine(app_), api_account(r), http_path_param(r, "provider"),
                                         ((app *)app_)->test_clock, &err) != BO_OK)
        return admin_fail(r, &err);
    http_reply_empty(r, 204);
}
