/* What every dialect does the same way: the credential check of its auth
 * function (a secret of 1 to 256 bytes looked up for one credential kind, its
 * account made the request's user; the dialect answers a refusal in its own
 * error shape), and the renaming of the engine's field names to its own. */
#include "api/api.h"
#include "util/utf8.h"
#include <stdio.h>
#include <string.h>

bo_status api_authenticate(http_request *r, void *app_, cred_kind kind, const char *secret)
{
    if (!secret || !*secret || strlen(secret) > 256) return BO_UNAUTHORIZED;
    account *a = http_alloc(r, sizeof *a);
    bo_status st = auth_lookup(((app *)app_)->e, kind, secret, a);
    if (st == BO_OK) http_set_user(r, a);
    return st == BO_OK || st == BO_INTERNAL ? st : BO_UNAUTHORIZED;
}

const char *api_wire_field(const api_field_name *names, size_t n, const char *engine_field)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(engine_field, names[i].engine)) return names[i].wire;
    return engine_field;
}

void api_message_v(char *out, size_t n, const char *fmt, va_list ap)
{
    vsnprintf(out, n, fmt, ap);
    utf8_trim(out);
}

json_t *api_absolute_url(http_request *r, const char *url)
{
    if (url[0] != '/') return json_string(url);
    size_t n = strlen(http_base_url(r)) + strlen(url) + 1;
    char *out = http_alloc(r, n);
    snprintf(out, n, "%s%s", http_base_url(r), url);
    return json_string(out);
}
