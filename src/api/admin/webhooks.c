/* /admin/v1/webhooks: subscriptions (URL, format, event types, shared secret)
 * and their delivery history. The secret is shown once, when created. */
#include "api/admin/admin.h"
#include "core/webhooks.h"
#include <string.h>

void admin_webhooks_list(http_request *r, void *app_)
{
    json_t *list = NULL;
    bo_status st = webhook_subscription_list(admin_engine(app_), api_account(r), &list);
    if (st != BO_OK) return admin_fail_status(r, st, "webhook");
    http_reply_json(r, 200, admin_list(list, NULL));
}

void admin_webhook_create(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "url") && strcmp(key, "format") && strcmp(key, "events") && strcmp(key, "secret"))
            return admin_error(r, 400, "unknown_field", key, "unknown field %s", key);
    }
    json_t *url = json_object_get(body, "url"), *secret = json_object_get(body, "secret"),
           *format = json_object_get(body, "format");
    if (!json_is_string(url)) return admin_error(r, 400, "missing_field", "url", "url is required");
    if (secret && !json_is_string(secret)) return admin_error(r, 400, "invalid_field", "secret", "secret must be a string");
    if (format && !json_is_string(format)) return admin_error(r, 400, "invalid_field", "format", "format must be a string");
    json_t *out = NULL;
    bo_error err = {0};
    if (webhook_subscription_create(admin_engine(app_), api_account(r), json_string_value(url),
                                    format ? json_string_value(format) : TICKETTAILOR_WEBHOOK_FORMAT,
                                    json_object_get(body, "events"), json_string_value(secret), &out, &err) != BO_OK)
        return admin_fail(r, &err);
    admin_reply_created(r, "webhooks", json_string_value(json_object_get(out, "id")), out);
}

void admin_webhook_get(http_request *r, void *app_)
{
    json_t *sub = NULL;
    bo_status st = webhook_subscription_get(admin_engine(app_), api_account(r), http_path_param(r, "id"), &sub);
    if (st != BO_OK) return admin_fail_status(r, st, "webhook");
    http_reply_json(r, 200, sub);
}

void admin_webhook_delete(http_request *r, void *app_)
{
    bo_error err = {0};
    if (webhook_subscription_delete(admin_engine(app_), api_account(r), http_path_param(r, "id"), &err) != BO_OK)
        return admin_fail(r, &err);
    http_reply_empty(r, 204);
}

void admin_webhook_deliveries(http_request *r, void *app_)
{
    json_t *list = NULL;
    bo_status st = webhook_deliveries_list(admin_engine(app_), api_account(r), http_path_param(r, "id"), &list);
    if (st != BO_OK) return admin_fail_status(r, st, "webhook");
    http_reply_json(r, 200, admin_list(list, NULL));
}
