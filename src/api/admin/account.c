/* GET /admin/v1/account: the account the admin token belongs to. */
#include "api/admin/admin.h"

void admin_account_get(http_request *r, void *app_)
{
    const account *a = api_account(r);
    http_reply_json(r, 200,
                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", a->id, "slug", a->slug, "name", a->name, "timezone",
                              a->timezone, "currency", a->currency, "hold_seconds", (json_int_t)a->hold_seconds));
}
