/* GET /healthz (liveness): 200 {"status":"ok"} while the database answers a
 * trivial read, 503 otherwise. GET /readyz (readiness): 200 {"status":"ready"}
 * while the database takes writes, 503 with the reason ("full": a write was
 * refused for lack of room, or "unavailable") otherwise, so a balancer stops
 * sending sales to a server whose disk is full without restarting it. Public. */
#include "api/api.h"

/* Seconds: freeing disk space takes a person, not a retry loop. */
#define RETRY_AFTER_SECONDS "30"

void api_retry_later(http_request *r) { http_add_header(r, "Retry-After", RETRY_AFTER_SECONDS); }

static void healthz(http_request *r, void *app_)
{
    bool up = engine_ready(((app *)app_)->e);
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, up ? 200 : 503, json_pack("{s:s}", "status", up ? "ok" : "unavailable"));
}

static void readyz(http_request *r, void *app_)
{
    bo_status st = engine_writable(((app *)app_)->e);
    http_add_header(r, "Cache-Control", "no-store");
    if (st == BO_OK) {
        http_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
        return;
    }
    api_retry_later(r);
    http_reply_json(r, 503, json_pack("{s:s,s:s}", "status", "unavailable", "reason",
                                      st == BO_UNAVAILABLE ? "full" : "unavailable"));
}

static const http_route routes[] = {
    {"GET", "/healthz", healthz, 0},
    {"GET", "/readyz", readyz, 0},
};

static const http_route_table table = {
    .prefix = "",
    .routes = routes,
    .nroutes = sizeof routes / sizeof routes[0],
    .authenticate = NULL,
    .error = NULL,
};

const http_route_table *root_routes(void) { return &table; }
