/* GET /auth: the channel the X-Api-Key opens and its one host organization
 * (the account). The channel's id is derived from the key's stored hash, so
 * each key is its own channel and the id tells nothing about the key. */
#include "api/fourvenues/fourvenues.h"
#include "util/secure.h"

void fv_channel_id(http_request *r, char out[FV_ID_LEN + 1])
{
    char key_hash[65];
    secret_hash(http_header(r, "X-Api-Key"), key_hash);
    fv_public_id("channel", api_account(r)->id, key_hash, out);
}

void fv_auth_get(http_request *r, void *app_)
{
    (void)app_;
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    const account *a = api_account(r);
    char channel_id[FV_ID_LEN + 1], organization_id[FV_ID_LEN + 1];
    fv_channel_id(r, channel_id);
    fv_organization_id(a, organization_id);
    json_t *host = json_pack("{s:s,s:s,s:s,s:o}", "_id", organization_id, "name", a->name, "slug", a->slug,
                             "created_at", fv_time(a->created_at));
    fv_reply(r, 200,
             json_pack("{s:s,s:{s:s,s:s,s:s,s:[o]}}", "message", "Authed", "channel", "_id", channel_id, "name",
                       a->name, "slug", a->slug, "hosts", host));
}
