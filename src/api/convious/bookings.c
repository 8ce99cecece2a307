/* POST /api/v1/accounts/<slug>/bookings/ — a cart becomes a confirmed order
 * (payment handled outside). Booking a cart twice answers with the same order. */
#include "api/convious/convious.h"
#include <stdio.h>
#include <string.h>

void cv_booking_create(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    json_t *body = cv_body(r);
    if (!body) return;
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    json_t *cart_id = json_object_get(body, "cartId"), *cust = json_object_get(body, "customer");
    json_t *extras = json_object_get(body, "extras"), *source = json_object_get(body, "source");
    if (!json_is_string(cart_id)) return cv_error(r, 400, "missing_field", "cartId", "cartId is required");
    if (cust && !json_is_null(cust) && !json_is_object(cust))
        return cv_error(r, 400, "invalid_field", "customer", "customer must be an object");
    if (extras && !json_is_null(extras) && !json_is_object(extras))
        return cv_error(r, 400, "invalid_field", "extras", "extras must be an object");
    if (source && !json_is_null(source) && !json_is_string(source))
        return cv_error(r, 400, "invalid_field", "source", "source must be a string");
    json_t *customer = NULL;
    if (json_is_object(cust)) {
        static const char *fields[] = {"email", "name", "language"};
        customer = json_object();
        for (size_t i = 0; i < 3; i++) {
            json_t *v = json_object_get(cust, fields[i]);
            if (!v || json_is_null(v)) continue;
            if (!json_is_string(v) || strlen(json_string_value(v)) > 254) {
                json_decref(customer);
                return cv_error(r, 400, "invalid_field", fields[i], "customer.%s must be a string", fields[i]);
            }
            json_object_set(customer, fields[i], v);
        }
        const char *email = json_string_value(json_object_get(customer, "email"));
        if (email && !strchr(email, '@')) {
            json_decref(customer);
            return cv_error(r, 400, "invalid_email", "customer.email", "customer.email is not an email address");
        }
    }
    payment_input pay = {.provider = "external", .method = "api", .amount = -1};
    book_request req = {.cart_id = json_string_value(cart_id), .customer = customer,
                        .extras = json_is_object(extras) ? extras : NULL, .channel = "convious", .payment = &pay};
    json_t *order = NULL;
    req.order_out = &order;
    char order_id[40];
    bool created;
    bo_error err = {0};
    bo_status st = order_book(e, a, &req, order_id, &created, &err);
    json_decref(customer);
    if (st != BO_OK) return cv_fail(r, &err);
    char url[300];
    snprintf(url, sizeof url, "%s/convious/api/v1/orders/%s/", http_base_url(r), order_id);
    http_add_header(r, "Location", url);
    cv_attach_location(e, a, order);
    http_reply_json(r, 200, cv_order_json(r, e, a, order, CV_INCLUDE_ALL));
    json_decref(order);
}
