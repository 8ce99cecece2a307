/* POST /webhooks/endpoints {name, url}, GET /webhooks/endpoints,
 * DELETE /webhooks/endpoints/{id}: the account's webhook subscriptions in the
 * Fourvenues format (the outbox's, one queue for every dialect). An endpoint
 * hears payment.success (ORDER.PAID) and ticket.request_refund
 * (ISSUED_TICKET.REFUND_REQUESTED); its sign_secret is generated, shown in
 * the create reply only, and kept sealed with the server key. */
#include "api/fourvenues/fourvenues.h"
#include "core/webhooks.h"
#include <string.h>

/* A subscription id is "ws_" and 24 hex digits: the channel's id is those digits. */
#define SUBSCRIPTION_PREFIX "ws_"

/* Characters of a UTF-8 text (jansson's strings are valid UTF-8). */
static size_t characters(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static json_t *endpoint_json(const webhook_subscription *s)
{
    const char *id = s->id && !strncmp(s->id, SUBSCRIPTION_PREFIX, 3) ? s->id + 3 : s->id;
    return json_pack("{s:s,s:s,s:s}", "_id", id ? id : "", "name", s->name ? s->name : "", "url", s->url);
}

void fv_webhook_endpoint_create(http_request *r, void *app_)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    static const char *const fields[] = {"name", "url", NULL};
    json_t *body = fv_body_fields(r, fields);
    if (!body) return;
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *url = json_string_value(json_object_get(body, "url"));
    if (!name || !*name || characters(name) > 100 || strlen(name) != json_string_length(json_object_get(body, "name")))
        return fv_error(r, 400, "invalid_field", "name", "name must be text of 1 to 100 characters");
    if (!url || strlen(url) != json_string_length(json_object_get(body, "url")))
        return fv_error(r, 400, "invalid_field", "url", "url must be an absolute http:// or https:// URL");
    static const char *const events[] = {"ORDER.PAID", "ISSUED_TICKET.REFUND_REQUESTED"};
    webhook_subscription made;
    bo_error err = {0};
    if (webhook_subscription_create(fv_engine(app_), api_account(r), url, FOURVENUES_WEBHOOK_FORMAT, events, 2, NULL,
                                    name, &made, &err) != BO_OK) {
        webhook_subscription_free(&made);
        return fv_fail(r, &err);
    }
    json_t *out = endpoint_json(&made);
    json_object_set_new(out, "sign_secret", json_string(made.secret));
    webhook_subscription_free(&made);
    fv_reply(r, 201, out);
}

void fv_webhook_endpoints_list(http_request *r, void *app_)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    webhook_subscriptions subs;
    if (webhook_subscription_list(fv_engine(app_), api_account(r), &subs) != BO_OK)
        return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    json_t *list = json_array();
    for (size_t i = 0; i < subs.n; i++)
        if (subs.items[i].format && !strcmp(subs.items[i].format, FOURVENUES_WEBHOOK_FORMAT))
            json_array_append_new(list, endpoint_json(&subs.items[i]));
    webhook_subscriptions_free(&subs);
    fv_reply(r, 200, list);
}

void fv_webhook_endpoint_delete(http_request *r, void *app_)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    engine *e = fv_engine(app_);
    const account *a = api_account(r);
    const char *id = http_path_param(r, "id");
    char sub_id[FV_ID_LEN + 4];
    webhook_subscription s = {0};
    bool hex = id && strlen(id) == FV_ID_LEN && strspn(id, "0123456789abcdef") == FV_ID_LEN;
    if (hex) snprintf(sub_id, sizeof sub_id, SUBSCRIPTION_PREFIX "%s", id);
    /* only this dialect's endpoints: an /admin/v1 subscription in another format is not one */
    bool found = hex && webhook_subscription_get(e, a, sub_id, &s) == BO_OK && s.format &&
                 !strcmp(s.format, FOURVENUES_WEBHOOK_FORMAT);
    webhook_subscription_free(&s);
    if (!found) return fv_error(r, 404, "not_found", "id", "no such webhook endpoint");
    bo_error err = {0};
    if (webhook_subscription_delete(e, a, sub_id, &err) != BO_OK) return fv_fail(r, &err);
    fv_reply(r, 200, json_pack("{s:s,s:b}", "_id", id, "deleted", 1));
}
