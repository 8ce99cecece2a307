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
    const char *cart_id = NULL;
    json_t *cust = NULL, *extras = NULL;
    const body_field fields[] = {
        {"cartId", BF_STRING, true, 0, BF_UNLIMITED, &cart_id, NULL},
        {"customer", BF_OBJECT, false, 0, 0, &cust, NULL},
        {"extras", BF_OBJECT, false, 0, 0, &extras, NULL},
        {"source", BF_STRING, false, 0, BF_UNLIMITED, NULL, NULL},
    };
    /* a cartId that is no string is reported as missing, as it always was */
    static const cv_field_code codes[] = {{"cartId", "missing_field", NULL}, {NULL, NULL, NULL}};
    if (!CV_FIELDS(r, body, "", fields, codes)) return;
    char *customer = NULL;
    if (cust) {
        static const char *const keys[] = {"email", "name", "language"};
        const char *values[3] = {NULL, NULL, NULL};
        const body_field customer_fields[] = {
            {keys[0], BF_STRING, false, 0, 254, &values[0], NULL},
            {keys[1], BF_STRING, false, 0, 254, &values[1], NULL},
            {keys[2], BF_STRING, false, 0, 254, &values[2], NULL},
        };
        /* these failures have always named the bare field, unlike invalid_email below */
        static const cv_field_code customer_codes[] = {
            {"customer.email", NULL, "email"},
            {"customer.name", NULL, "name"},
            {"customer.language", NULL, "language"},
            {NULL, NULL, NULL},
        };
        if (!CV_FIELDS(r, cust, "customer.", customer_fields, customer_codes)) return;
        if (values[0] && !strchr(values[0], '@'))
            return cv_error(r, 400, "invalid_email", "customer.email", "customer.email is not an email address");
        json_t *given = json_object();
        for (size_t i = 0; i < 3; i++)
            if (values[i]) json_object_set(given, keys[i], json_object_get(cust, keys[i]));
        customer = json_dumps(given, JSON_COMPACT);
        json_decref(given);
    }
    char *extras_text = extras ? json_dumps(extras, JSON_COMPACT) : NULL;
    payment_input pay = {.provider = "external", .method = "api", .amount = -1};
    book_request req = {.cart_id = cart_id, .customer = customer, .extras = extras_text, .channel = "convious",
                        .payment = &pay};
    order_record booked;
    req.order_out = &booked;
    char order_id[40];
    bool created;
    bo_error err = {0};
    bo_status st = order_book(e, a, &req, order_id, &created, &err);
    free(customer);
    free(extras_text);
    if (st != BO_OK) return cv_fail(r, &err);
    json_t *order = order_json(&booked, a);
    order_record_free(&booked);
    char url[300];
    snprintf(url, sizeof url, "%s/convious/api/v1/orders/%s/", http_base_url(r), order_id);
    http_add_header(r, "Location", url);
    cv_attach_location(e, a, order);
    cv_order_reply(r, e, a, order, CV_INCLUDE_ALL);
    json_decref(order);
}
