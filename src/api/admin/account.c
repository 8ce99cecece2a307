/* GET and PATCH /admin/v1/account: the account the admin token belongs to. */
#include "api/admin/admin.h"
#include <string.h>

static json_t *account_json(const account *a)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", a->id, "slug", a->slug, "name", a->name, "timezone",
                     a->timezone, "currency", a->currency, "hold_seconds", (json_int_t)a->hold_seconds);
}

void admin_account_get(http_request *r, void *app_) { http_reply_json(r, 200, account_json(api_account(r))); }

void admin_account_update(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "name") && strcmp(key, "hold_seconds"))
            return admin_error(r, 400, "unknown_field", key, "only name and hold_seconds can change");
    }
    json_t *name = json_object_get(body, "name"), *hold = json_object_get(body, "hold_seconds");
    if (name && !json_is_string(name)) return admin_error(r, 400, "invalid_field", "name", "name must be a string");
    if (hold && !json_is_integer(hold))
        return admin_error(r, 400, "invalid_field", "hold_seconds", "hold_seconds must be an integer");
    account out;
    bo_error err = {0};
    if (account_update(admin_engine(app_), api_account(r), json_string_value(name),
                       hold ? json_integer_value(hold) : 0, &out, &err) != BO_OK)
        return admin_fail(r, &err);
    http_reply_json(r, 200, account_json(&out));
}
