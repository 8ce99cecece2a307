/* /admin/v1/webhooks: subscriptions (URL, format, event types, shared secret)
 * and their delivery history. The secret is shown once, when created. */
#include "api/admin/admin.h"
#include "core/webhooks.h"
#include <stdlib.h>
#include <string.h>

static json_t *instant_or_null(bool present, instant_us at) { return present ? json_integer(at) : json_null(); }

static json_t *subscription_json(const webhook_subscription *sub)
{
    json_t *events = json_array();
    char *copy = strdup(sub->events ? sub->events : "*");
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcmp(t, "*")) json_array_append_new(events, json_string(t));
    free(copy);
    json_t *out = json_pack("{s:s,s:s,s:s,s:o,s:b,s:o,s:I}", "id", sub->id, "url", sub->url, "format", sub->format,
                            "events", events, "active", (int)sub->active, "failing_since",
                            instant_or_null(sub->failing, sub->failing_since), "created_at",
                            (json_int_t)sub->created_at);
    if (sub->secret) json_object_set_new(out, "secret", json_string(sub->secret));
    return out;
}

static json_t *delivery_json(const webhook_delivery *d)
{
    bool pending = !strcmp(d->status, "pending");
    return json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:I}", "id", d->event_id, "event", d->event, "status",
                     d->status, "attempts", (json_int_t)d->attempts, "last_status_code",
                     d->has_status_code ? json_integer(d->last_status_code) : json_null(), "last_error",
                     d->last_error ? json_string(d->last_error) : json_null(), "last_attempt_at",
                     instant_or_null(d->attempted, d->last_attempt_at), "next_due",
                     instant_or_null(pending, d->next_due), "created_at", (json_int_t)d->created_at);
}

void admin_webhooks_list(http_request *r, void *app_)
{
    static const char *const none[] = {NULL}; /* no filters (see catalog lists) */
    if (!admin_query_known(r, none)) return;
    webhook_subscriptions subs;
    bo_status st = webhook_subscription_list(admin_engine(app_), api_account(r), &subs);
    if (st != BO_OK) return admin_fail_status(r, st, "webhook");
    json_t *list = json_array();
    for (size_t i = 0; i < subs.n; i++) json_array_append_new(list, subscription_json(&subs.items[i]));
    webhook_subscriptions_free(&subs);
    http_reply_json(r, 200, admin_list(list, NULL));
}

#define MAX_EVENTS 32

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
           *format = json_object_get(body, "format"), *events = json_object_get(body, "events");
    if (!json_is_string(url)) return admin_error(r, 400, "missing_field", "url", "url is required");
    if (secret && !json_is_string(secret)) return admin_error(r, 400, "invalid_field", "secret", "secret must be a string");
    if (format && !json_is_string(format)) return admin_error(r, 400, "invalid_field", "format", "format must be a string");
    if (events && !json_is_null(events) && !json_is_array(events))
        return admin_error(r, 400, "invalid_events", "events", "events must be a list");
    const char *names[MAX_EVENTS];
    size_t nnames = json_array_size(events);
    if (nnames > MAX_EVENTS) return admin_error(r, 400, "invalid_events", "events", "at most %d events", MAX_EVENTS);
    for (size_t i = 0; i < nnames; i++) names[i] = json_string_value(json_array_get(events, i));
    webhook_subscription made;
    bo_error err = {0};
    if (webhook_subscription_create(admin_engine(app_), api_account(r), json_string_value(url),
                                    format ? json_string_value(format) : TICKETTAILOR_WEBHOOK_FORMAT, names, nnames,
                                    json_string_value(secret), NULL, &made, &err) != BO_OK) {
        webhook_subscription_free(&made);
        return admin_fail(r, &err);
    }
    json_t *out = subscription_json(&made);
    admin_reply_created(r, "webhooks", made.id, out);
    webhook_subscription_free(&made);
}

void admin_webhook_get(http_request *r, void *app_)
{
    webhook_subscription sub;
    bo_status st = webhook_subscription_get(admin_engine(app_), api_account(r), http_path_param(r, "id"), &sub);
    if (st != BO_OK) return admin_fail_status(r, st, "webhook");
    json_t *out = subscription_json(&sub);
    webhook_subscription_free(&sub);
    http_reply_json(r, 200, out);
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
    webhook_delivery_list deliveries;
    bo_status st = webhook_deliveries_list(admin_engine(app_), api_account(r), http_path_param(r, "id"), &deliveries);
    if (st != BO_OK) return admin_fail_status(r, st, "webhook");
    json_t *list = json_array();
    for (size_t i = 0; i < deliveries.n; i++) json_array_append_new(list, delivery_json(&deliveries.items[i]));
    webhook_delivery_list_free(&deliveries);
    http_reply_json(r, 200, admin_list(list, NULL));
}
