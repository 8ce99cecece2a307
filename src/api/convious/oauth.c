/* POST /oauth/token/ — OAuth2 client_credentials (RFC 6749 section 4.4), form-encoded. */
#include "api/convious/convious.h"
#include <string.h>

static void oauth_error(http_request *r, int status, const char *error, const char *description)
{
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, status, json_pack("{s:s,s:s}", "error", error, "error_description", description));
}

void cv_oauth_token(http_request *r, void *app_)
{
    const char *grant = http_form(r, "grant_type");
    const char *id = http_form(r, "client_id"), *secret = http_form(r, "client_secret");
    const char *bad = NULL; /* a JSON field of the wrong type: RFC 6749's invalid_request */
    body_error e;
    if (!http_body_is_form(r)) {
        /* the doc posts a form; a JSON body is accepted too for convenience */
        json_t *body = http_body_json(r, NULL);
        grant = id = secret = NULL;
        const body_field fields[] = {
            {"grant_type", BF_STRING, false, 0, BF_UNLIMITED, &grant, NULL},
            {"client_id", BF_STRING, false, 0, BF_UNLIMITED, &id, NULL},
            {"client_secret", BF_STRING, false, 0, BF_UNLIMITED, &secret, NULL},
        };
        /* the fields before a failing one are filled: an unsupported grant still says so */
        if (body && !BODY_FIELDS(body, "", fields, false, &e)) bad = e.message;
    }
    if (!grant) return oauth_error(r, 400, "invalid_request", bad ? bad : "grant_type is required");
    if (strcmp(grant, "client_credentials"))
        return oauth_error(r, 400, "unsupported_grant_type", "only client_credentials is supported");
    if (bad || !id || !secret)
        return oauth_error(r, 400, "invalid_request", bad ? bad : "client_id and client_secret are required");
    app *ap = app_;
    account a;
    if (auth_oauth_client(ap->e, id, secret, &a) != BO_OK)
        return oauth_error(r, 401, "invalid_client", "client authentication failed");
    char token[80];
    int64_t ttl = ap->oauth_token_ttl > 0 ? ap->oauth_token_ttl : 3600;
    if (auth_issue_access_token(ap->e, &a, ttl, token) != BO_OK)
        return oauth_error(r, 500, "server_error", "could not issue a token");
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, json_pack("{s:s,s:s,s:I}", "token_type", "Bearer", "access_token", token, "expires_in",
                                      (json_int_t)ttl));
}
