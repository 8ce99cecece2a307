/* POST /admin/v1/events/{id}/access_keys and DELETE .../access_keys/{key}:
 * the keys that lock an event's shop (the CM.com shop's `?key=`). Only a
 * keyed hash is stored, so a key cannot be listed, only added or removed. */
#include "api/admin/admin.h"

void admin_event_access_key_add(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    const char *key = NULL, *label = NULL;
    const body_field fields[] = {
        {"key", BF_STRING, true, 1, EVENT_ACCESS_KEY_MAX, &key, NULL},
        {"label", BF_STRING, false, 1, 100, &label, NULL},
    };
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    const char *event_id = http_path_param(r, "id");
    bo_error err = {0};
    if (event_access_key_add(admin_engine(app_), api_account(r), event_id, key, label, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 201, json_pack("{s:s,s:s,s:s}", "event_id", event_id, "key", key, "label", label ? label : ""));
}

void admin_event_access_key_remove(http_request *r, void *app_)
{
    bo_error err = {0};
    if (event_access_key_remove(admin_engine(app_), api_account(r), http_path_param(r, "id"),
                                http_path_param(r, "key"), &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    http_reply_empty(r, 204);
}
