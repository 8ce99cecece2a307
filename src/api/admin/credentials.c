/* POST /admin/v1/credentials: adds a credential to the account, for the
 * dialects (api_key, oauth_client, product_token, channel_key) or for this
 * API (admin_token). Only a keyed hash is stored, so the secret appears in
 * this one reply and never again; when none is given, one is generated. */
#include "api/admin/admin.h"
#include "util/secure.h"
#include <string.h>

static const struct {
    const char *name;
    cred_kind kind;
    const char *prefix; /* of generated secrets; NULL: a UUID (CM product tokens look like one) */
} kinds[] = {
    {"admin_token", CRED_ADMIN_TOKEN, "adm_"},  {"api_key", CRED_API_KEY, "sk_"},
    {"oauth_client", CRED_OAUTH_CLIENT, "cs_"}, {"product_token", CRED_PRODUCT_TOKEN, NULL},
    {"channel_key", CRED_CHANNEL_KEY, "fv_"},
};

void admin_credential_create(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    const char *kind_name = NULL, *secret = NULL, *client_id = NULL, *label = NULL;
    const body_field fields[] = {
        {"kind", BF_STRING, true, 1, 32, &kind_name, NULL},
        {"secret", BF_STRING, false, 8, 256, &secret, NULL},
        {"client_id", BF_STRING, false, 1, 128, &client_id, NULL},
        {"label", BF_STRING, false, 1, 100, &label, NULL},
    };
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    size_t k;
    for (k = 0; k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].name, kind_name); k++) {}
    if (k == sizeof kinds / sizeof kinds[0]) {
        admin_error(r, 400, "invalid_field", "kind",
                    "kind must be one of admin_token, api_key, oauth_client, product_token, channel_key");
        return;
    }
    cred_kind kind = kinds[k].kind;
    if (client_id && kind != CRED_OAUTH_CLIENT) {
        admin_error(r, 400, "invalid_field", "client_id", "client_id is only for oauth_client credentials");
        return;
    }
    char generated[80], generated_client[40];
    if (!secret) {
        if (kinds[k].prefix)
            rand_token(kinds[k].prefix, 24, generated, sizeof generated);
        else
            rand_uuid(generated);
        secret = generated;
    }
    if (kind == CRED_OAUTH_CLIENT && !client_id) {
        rand_token("ci_", 8, generated_client, sizeof generated_client);
        client_id = generated_client;
    }
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    bo_error err = {0};
    if (credential_add(e, a, kind, client_id, secret, label ? label : "admin", 0, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    /* credential_add is idempotent on (kind, secret): when the secret already
     * belongs to another account nothing was added. Saying so reveals nothing
     * a login attempt with the same secret would not. */
    account owner;
    bo_status st = kind == CRED_OAUTH_CLIENT ? auth_oauth_client(e, client_id, secret, &owner)
                                             : auth_lookup(e, kind, secret, &owner);
    if (st == BO_INTERNAL) {
        admin_fail_status(r, st, "credential");
        return;
    }
    if (st != BO_OK || strcmp(owner.id, a->id)) {
        admin_error(r, 409, "secret_unavailable", "secret", "this secret cannot be used; choose another");
        return;
    }
    json_t *reply =
        json_pack("{s:s,s:s,s:s}", "kind", kinds[k].name, "label", label ? label : "admin", "secret", secret);
    if (kind == CRED_OAUTH_CLIENT) json_object_set_new(reply, "client_id", json_string(client_id));
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 201, reply);
}
