/* GET /healthz: 200 {"status":"ok"} once the engine is ready (its database
 * answers a trivial query), 503 otherwise, for load balancers and orchestrators. Public. */
#include "api/api.h"

static void healthz(http_request *r, void *app_)
{
    bool up = engine_ready(((app *)app_)->e);
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, up ? 200 : 503, json_pack("{s:s}", "status", up ? "ok" : "unavailable"));
}

static const http_route routes[] = {
    {"GET", "/healthz", healthz, 0},
};

static const http_route_table table = {
    .prefix = "",
    .routes = routes,
    .nroutes = sizeof routes / sizeof routes[0],
    .authenticate = NULL,
    .error = NULL,
};

const http_route_table *root_routes(void) { return &table; }
