/* GET, PATCH /admin/v1/channel_settings: what the account's sales channels
 * add to each ticket they sell (the platform fee, Fourvenues' `discocil`).
 * A resource of its own: /payment_settings and /account have fixed shapes. */
#include "api/admin/admin.h"
#include "core/payment.h"

static void reply_settings(http_request *r, engine *e, const account *a)
{
    money platform_fee = 0;
    if (account_platform_fee_get(e, a, &platform_fee) != BO_OK)
        return admin_error(r, 500, "internal_error", NULL, "the channel settings could not be read");
    http_reply_json(r, 200, json_pack("{s:I}", "platform_fee", (json_int_t)platform_fee));
}

void admin_channel_settings_get(http_request *r, void *app_)
{
    reply_settings(r, admin_engine(app_), api_account(r));
}

void admin_channel_settings_update(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    int64_t platform_fee = 0;
    bool given = false;
    const body_field fields[] = {{"platform_fee", BF_INT, false, 0, PAYMENT_MAX_FEE, &platform_fee, &given}};
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    bo_error err = {0};
    if (given && account_platform_fee_set(admin_engine(app_), api_account(r), platform_fee, &err) != BO_OK)
        return admin_fail(r, &err);
    reply_settings(r, admin_engine(app_), api_account(r));
}
