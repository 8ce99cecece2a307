/* /admin/v1: the route table, bearer-token authentication and the error shape
 * for unmatched routes. Every route here is documented in docs/openapi.json
 * (tests/http/test_admin_openapi.py keeps the two in sync). */
#include "api/admin/admin.h"
#include <string.h>
#include <strings.h>

static bool authenticate(http_request *r, int auth_kind, void *app_)
{
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        admin_error(r, 401, "unauthorized", NULL, "send Authorization: Bearer <admin token>");
        return false;
    }
    const char *token = h + 7;
    while (*token == ' ') token++;
    account found;
    bo_status st = auth_lookup(admin_engine(app_), CRED_ADMIN_TOKEN, token, &found);
    if (st == BO_INTERNAL) {
        admin_error(r, 500, "internal_error", NULL, "credentials could not be checked");
        return false;
    }
    if (st != BO_OK) {
        admin_error(r, 401, "unauthorized", NULL, "unknown or revoked admin token");
        return false;
    }
    account *a = http_alloc(r, sizeof *a);
    *a = found;
    http_set_user(r, a);
    return true;
}

static void route_error(http_request *r, int status, const char *code, const char *message, void *app_)
{
    if (status == 405)
        admin_error(r, 405, "method_not_allowed", NULL, "%s is not allowed here", http_method(r));
    else if (status == 404)
        admin_error(r, 404, "route_not_found", NULL, "no such endpoint: %s %s", http_method(r), http_path(r));
    else
        admin_error(r, status, code ? code : "error", NULL, "%s", message ? message : "error");
}

#define A ADMIN_AUTH
static const http_route routes[] = {
    {"GET", "/openapi.json", admin_openapi_get, 0},
    {"GET", "/account", admin_account_get, A},
    {"PATCH", "/account", admin_account_update, A},
    {"GET", "/account/mail", admin_mail_get, A},
    {"PUT", "/account/mail", admin_mail_put, A},

    {"GET", "/locations", admin_location_list, A},
    {"POST", "/locations", admin_location_create, A},
    {"GET", "/locations/{id}", admin_location_get, A},
    {"PUT", "/locations/{id}", admin_location_replace, A},
    {"PATCH", "/locations/{id}", admin_location_merge, A},
    {"DELETE", "/locations/{id}", admin_location_delete, A},

    {"GET", "/categories", admin_category_list, A},
    {"POST", "/categories", admin_category_create, A},
    {"GET", "/categories/{id}", admin_category_get, A},
    {"PUT", "/categories/{id}", admin_category_replace, A},
    {"PATCH", "/categories/{id}", admin_category_merge, A},
    {"DELETE", "/categories/{id}", admin_category_delete, A},

    {"GET", "/schedules", admin_schedule_list, A},
    {"POST", "/schedules", admin_schedule_create, A},
    {"GET", "/schedules/{id}", admin_schedule_get, A},
    {"PUT", "/schedules/{id}", admin_schedule_replace, A},
    {"PATCH", "/schedules/{id}", admin_schedule_merge, A},
    {"DELETE", "/schedules/{id}", admin_schedule_delete, A},

    {"GET", "/events", admin_event_list, A},
    {"POST", "/events", admin_event_create, A},
    {"GET", "/events/{id}", admin_event_get, A},
    {"PUT", "/events/{id}", admin_event_replace, A},
    {"PATCH", "/events/{id}", admin_event_merge, A},
    {"DELETE", "/events/{id}", admin_event_delete, A},
    {"POST", "/events/{id}/access_keys", admin_event_access_key_add, A},
    {"DELETE", "/events/{id}/access_keys/{key}", admin_event_access_key_remove, A},

    {"GET", "/pools", admin_pool_list, A},
    {"POST", "/pools", admin_pool_create, A},
    {"GET", "/pools/{id}", admin_pool_get, A},
    {"PUT", "/pools/{id}", admin_pool_replace, A},
    {"PATCH", "/pools/{id}", admin_pool_merge, A},
    {"DELETE", "/pools/{id}", admin_pool_delete, A},

    {"GET", "/products", admin_product_list, A},
    {"POST", "/products", admin_product_create, A},
    {"GET", "/products/{id}", admin_product_get, A},
    {"PUT", "/products/{id}", admin_product_replace, A},
    {"PATCH", "/products/{id}", admin_product_merge, A},
    {"DELETE", "/products/{id}", admin_product_delete, A},

    {"GET", "/discounts", admin_discount_list, A},
    {"POST", "/discounts", admin_discount_create, A},
    {"GET", "/discounts/{id}", admin_discount_get, A},
    {"PUT", "/discounts/{id}", admin_discount_replace, A},
    {"PATCH", "/discounts/{id}", admin_discount_merge, A},
    {"DELETE", "/discounts/{id}", admin_discount_delete, A},

    {"GET", "/vouchers", admin_voucher_list, A},
    {"POST", "/vouchers", admin_voucher_create, A},
    {"GET", "/vouchers/{id}", admin_voucher_get, A},
    {"PUT", "/vouchers/{id}", admin_voucher_replace, A},
    {"PATCH", "/vouchers/{id}", admin_voucher_merge, A},
    {"DELETE", "/vouchers/{id}", admin_voucher_delete, A},

    {"GET", "/questions", admin_question_list, A},
    {"POST", "/questions", admin_question_create, A},
    {"GET", "/questions/{id}", admin_question_get, A},
    {"PUT", "/questions/{id}", admin_question_replace, A},
    {"PATCH", "/questions/{id}", admin_question_merge, A},
    {"DELETE", "/questions/{id}", admin_question_delete, A},

    {"GET", "/ticket_groups", admin_ticket_group_list, A},
    {"POST", "/ticket_groups", admin_ticket_group_create, A},
    {"GET", "/ticket_groups/{id}", admin_ticket_group_get, A},
    {"PUT", "/ticket_groups/{id}", admin_ticket_group_replace, A},
    {"PATCH", "/ticket_groups/{id}", admin_ticket_group_merge, A},
    {"DELETE", "/ticket_groups/{id}", admin_ticket_group_delete, A},

    {"GET", "/payment_methods", admin_payment_method_list, A},
    {"POST", "/payment_methods", admin_payment_method_create, A},
    {"GET", "/payment_methods/{id}", admin_payment_method_get, A},
    {"PUT", "/payment_methods/{id}", admin_payment_method_replace, A},
    {"PATCH", "/payment_methods/{id}", admin_payment_method_merge, A},
    {"DELETE", "/payment_methods/{id}", admin_payment_method_delete, A},
    {"GET", "/guest_lists", admin_guest_list_list, A},
    {"POST", "/guest_lists", admin_guest_list_create, A},
    {"GET", "/guest_lists/{id}", admin_guest_list_get, A},
    {"PUT", "/guest_lists/{id}", admin_guest_list_replace, A},
    {"PATCH", "/guest_lists/{id}", admin_guest_list_merge, A},
    {"DELETE", "/guest_lists/{id}", admin_guest_list_delete, A},

    {"GET", "/availability", admin_availability_get, A},
    {"GET", "/pricing/products/{id}", admin_pricing_model_get, A},
    {"GET", "/pricing/products/{id}/settings", admin_pricing_settings_get, A},
    {"PUT", "/pricing/products/{id}/settings", admin_pricing_settings_put, A},
    {"GET", "/pricing/products/{id}/explain", admin_pricing_explain, A},
    {"POST", "/pricing/products/{id}/recompute", admin_pricing_recompute, A},
    {"GET", "/pricing/references/{reference}", admin_pricing_reference_get, A},
    {"GET", "/pricing/references/{reference}/explain", admin_pricing_reference_explain, A},
    {"POST", "/carts", admin_cart_create, A},
    {"GET", "/carts/{id}", admin_cart_get, A},
    {"GET", "/orders", admin_orders_list, A},
    {"POST", "/orders", admin_order_create, A},
    {"GET", "/orders/{id}", admin_order_get, A},
    {"POST", "/orders/{id}/cancel", admin_order_cancel, A},
    {"POST", "/orders/{id}/apf", admin_order_apf, A},
    {"POST", "/orders/{id}/payments", admin_order_payment_start, A},
    {"GET", "/payments/{id}", admin_payment_get, A},
    {"GET", "/payment_settings", admin_payment_settings_get, A},
    {"PATCH", "/payment_settings", admin_payment_settings_update, A},
    {"GET", "/payment_providers/{provider}", admin_payment_provider_get, A},
    {"PUT", "/payment_providers/{provider}", admin_payment_provider_put, A},
    {"DELETE", "/payment_providers/{provider}", admin_payment_provider_delete, A},
    {"GET", "/channel_settings", admin_channel_settings_get, A},
    {"PATCH", "/channel_settings", admin_channel_settings_update, A},
    {"GET", "/tickets/{id}", admin_ticket_get, A},
    {"POST", "/tickets/{id}/void", admin_ticket_void, A},

    {"POST", "/credentials", admin_credential_create, A},
    {"GET", "/webhooks", admin_webhooks_list, A},
    {"POST", "/webhooks", admin_webhook_create, A},
    {"GET", "/webhooks/{id}", admin_webhook_get, A},
    {"DELETE", "/webhooks/{id}", admin_webhook_delete, A},
    {"GET", "/webhooks/{id}/deliveries", admin_webhook_deliveries, A},

    {"POST", "/test/clock", admin_test_clock, A},
    {"POST", "/test/analytics-flush", admin_test_analytics_flush, A},
};
#undef A

static const http_route_table table = {
    .prefix = ADMIN_PREFIX,
    .routes = routes,
    .nroutes = sizeof routes / sizeof routes[0],
    .authenticate = authenticate,
    .error = route_error,
    .around = api_idempotent,
};

const http_route_table *admin_routes(void) { return &table; }
