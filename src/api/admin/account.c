/* GET and PATCH /admin/v1/account: the account the admin token belongs to. */
#include "api/admin/admin.h"
#include "core/payment.h"
#include <string.h>

/* The account with its test mode (read from the store: the cached account
 * the credential found does not carry it); NULL after replying 500. */
static json_t *account_json(http_request *r, engine *e, const account *a)
{
    bool test_mode = false;
    if (account_test_mode_get(e, a, &test_mode) != BO_OK) {
        admin_error(r, 500, "internal_error", NULL, "the account could not be read");
        return NULL;
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:b}", "id", a->id, "slug", a->slug, "name", a->name, "timezone",
                     a->timezone, "currency", a->currency, "hold_seconds", (json_int_t)a->hold_seconds, "test_mode",
                     test_mode);
}

void admin_account_get(http_request *r, void *app_)
{
    json_t *j = account_json(r, admin_engine(app_), api_account(r));
    if (j) http_reply_json(r, 200, j);
}

void admin_account_update(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "name") && strcmp(key, "hold_seconds") && strcmp(key, "test_mode"))
            return admin_error(r, 400, "unknown_field", key, "only name, hold_seconds and test_mode can change");
    }
    json_t *name = json_object_get(body, "name"), *hold = json_object_get(body, "hold_seconds");
    if (name && !json_is_string(name)) return admin_error(r, 400, "invalid_field", "name", "name must be a string");
    if (hold && !json_is_integer(hold))
        return admin_error(r, 400, "invalid_field", "hold_seconds", "hold_seconds must be an integer");
    json_t *test_mode = json_object_get(body, "test_mode");
    if (test_mode && !json_is_boolean(test_mode))
        return admin_error(r, 400, "invalid_field", "test_mode", "test_mode must be true or false");
    account out;
    bo_error err = {0};
    if (account_update(admin_engine(app_), api_account(r), json_string_value(name),
                       hold ? json_integer_value(hold) : 0, &out, &err) != BO_OK)
        return admin_fail(r, &err);
    if (test_mode && account_test_mode_set(admin_engine(app_), &out, json_is_true(test_mode), &err) != BO_OK)
        return admin_fail(r, &err);
    json_t *j = account_json(r, admin_engine(app_), &out);
    if (j) http_reply_json(r, 200, j);
}
