/* The /convious-pricing route table. This branch serves only the browser
 * library; the dialect's other routes (oauth, events, rtp) join this table. */
#include "api/convious_pricing/convious_pricing.h"

static const http_route routes[] = {
    {"GET", "/analytics.js", cp_library_classic_get, 0},
    {"GET", "/analytics.mjs", cp_library_module_get, 0},
};

static const http_route_table table = {"/convious-pricing", routes, sizeof routes / sizeof routes[0], NULL, NULL,
                                       NULL};

const http_route_table *convious_pricing_routes(void) { return &table; }
