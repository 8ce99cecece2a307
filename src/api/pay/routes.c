/* The payment step's public routes: the test provider's page (/pay) and the
 * providers' notifications (/payments). Two tables because a table has one
 * prefix and the root table ("") answers everything else. */
#include "api/pay/pay.h"
#include <string.h>

/* Unmatched paths under these prefixes: a plain page or JSON, as the route's family speaks. */
static void pay_route_error(http_request *r, int status, const char *code, const char *message, void *app_)
{
    (void)app_, (void)code;
    const char *text = status == 405 ? "Method not allowed" : status == 404 ? "Not found" : message;
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_raw(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

static const http_route pay_routes[] = {
    {"GET", "/{payment_id}", pay_page_get, 0},
    {"POST", "/{payment_id}", pay_page_post, 0},
};

static const http_route_table pay_table = {
    .prefix = "/pay",
    .routes = pay_routes,
    .nroutes = sizeof pay_routes / sizeof pay_routes[0],
    .error = pay_route_error,
};

static const http_route notify_routes[] = {
    {"POST", "/notify/{provider}", payment_notify_post, 0},
    {"POST", "/fake/settle", payment_fake_settle_post, 0},
};

static const http_route_table notify_table = {
    .prefix = "/payments",
    .routes = notify_routes,
    .nroutes = sizeof notify_routes / sizeof notify_routes[0],
};

const http_route_table *pay_page_routes(void) { return &pay_table; }
const http_route_table *payment_notify_routes(void) { return &notify_table; }
