/* GET /admin/v1/openapi.json: docs/openapi.json as embedded at build time
 * (build/gen/openapi_json.c, see the Makefile). Public: it holds no data. */
#include "api/admin/admin.h"

void admin_openapi_get(http_request *r, void *app_)
{
    http_add_header(r, "Cache-Control", "public, max-age=300");
    http_reply_raw(r, 200, "application/json", (const char *)openapi_json, (size_t)openapi_json_len);
}
