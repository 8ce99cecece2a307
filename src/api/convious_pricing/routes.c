/* Every route of /convious-pricing (the vendor's three hosts share the prefix). */
#include "api/convious_pricing/convious_pricing.h"
#include "api/convious_pricing/rtp.h"

static const http_route routes[] = {
    /* the same OAuth clients and tokens as /convious: one token serves both prefixes */
    {"POST", "/oauth/token/", cv_oauth_token, 0},
    {"POST", "/events", cp_events_post, CP_AUTH_OPTIONAL},
    {"OPTIONS", "/events", cp_events_preflight, 0},
    /* real-time prices of Boxoffice products (rtp.c) */
    {"POST", "/api/price/rtp", cvp_rtp, CP_AUTH_TOKEN},
    /* the browser library: public, like any script a shop's page loads */
    {"GET", "/analytics.js", cp_library_classic_get, 0},
    {"GET", "/analytics.mjs", cp_library_module_get, 0},
};

static const http_route_table table = {"/convious-pricing", routes, sizeof routes / sizeof routes[0], cp_authenticate,
                                       cp_table_error, NULL};

const http_route_table *convious_pricing_routes(void) { return &table; }
