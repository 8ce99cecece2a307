/* /admin/v1/orders: list (newest first, filters, cursor pagination), get,
 * book a cart at the box office, cancel. Orders are the engine's canonical
 * documents (docs/MODEL.md) as they are. */
#include "api/admin/admin.h"
#include <stdio.h>
#include <string.h>

#define DEFAULT_LIMIT 50

/* "open,confirmed" -> q->statuses; false after replying 400. */
static bool parse_statuses(http_request *r, const char *list, order_query *q)
{
    char *copy = http_strdup(r, list);
    size_t n = 0;
    for (char *save = NULL, *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (strcmp(s, "open") && strcmp(s, "confirmed") && strcmp(s, "cancelled")) {
            admin_error(r, 400, "invalid_parameter", "status",
                        "status is a comma-separated list of open, confirmed, cancelled");
            return false;
        }
        if (n == 3) {
            admin_error(r, 400, "invalid_parameter", "status", "at most three statuses");
            return false;
        }
        q->statuses[n++] = s;
    }
    if (n == 0) {
        admin_error(r, 400, "invalid_parameter", "status",
                    "status is a comma-separated list of open, confirmed, cancelled");
        return false;
    }
    return true;
}

/* A text filter of at most max characters; false after replying 400. */
static bool text_param(http_request *r, const char *name, size_t max, const char **out)
{
    const char *v = http_query(r, name);
    if (v && (!*v || strlen(v) > max)) {
        admin_error(r, 400, "invalid_parameter", name, "%s must be 1 to %zu characters", name, max);
        return false;
    }
    *out = v;
    return true;
}

void admin_orders_list(http_request *r, void *app_)
{
    static const char *const known[] = {"status",      "email",          "number", "event_id", "created_gte",
                                        "created_lte", "starting_after", "limit",  NULL};
    if (!admin_query_known(r, known)) return;
    order_query q;
    order_query_init(&q);
    q.sort = ORDER_BY_CREATED_DESC;
    int64_t limit = DEFAULT_LIMIT;
    const char *status = http_query(r, "status");
    if (!admin_query_int(r, "limit", 1, 1000, &limit) || (status && !parse_statuses(r, status, &q)) ||
        !text_param(r, "email", 254, &q.email) || !text_param(r, "number", 64, &q.number) ||
        !text_param(r, "event_id", 64, &q.event_id) || !text_param(r, "starting_after", 64, &q.starting_after) ||
        !admin_query_instant(r, "created_gte", &q.created_gte) ||
        !admin_query_instant(r, "created_lte", &q.created_lte))
        return;
    q.limit = (int)limit;
    json_t *orders = NULL;
    bool has_more = false;
    bo_error err = {0};
    if (orders_list_json(admin_engine(app_), api_account(r), &q, &orders, &has_more, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    http_reply_json(r, 200, admin_list(admin_eticket_urls(r, api_account(r), orders), &has_more));
}

void admin_order_get(http_request *r, void *app_)
{
    json_t *order = NULL;
    bo_status st = order_get_json(admin_engine(app_), api_account(r), http_path_param(r, "id"), &order);
    if (st != BO_OK) {
        admin_fail_status(r, st, "order");
        return;
    }
    http_reply_json(r, 200, admin_eticket_urls(r, api_account(r), order));
}

#define ANSWERS_MAX 1000

/* answers: [{question_id, ticket_index?, answer}] -> typed answers in the
 * request's memory (a checkbox may answer true or false); false after
 * replying 400. The engine checks them against the questions. */
static bool parse_answers(http_request *r, json_t *list, question_answer **out, size_t *n)
{
    *n = json_array_size(list);
    *out = http_alloc(r, (*n ? *n : 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        json_t *el = json_array_get(list, i);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "answers[%zu].", i);
        if (!json_is_object(el)) {
            admin_error(r, 400, "invalid_field", "answers", "each answer is an object");
            return false;
        }
        json_t *answer = json_object_get(el, "answer");
        char field[48];
        snprintf(field, sizeof field, "%sanswer", prefix);
        if (!answer || json_is_null(answer)) {
            admin_error(r, 400, "missing_field", field, "%s is required", field);
            return false;
        }
        if (!json_is_string(answer) && !json_is_boolean(answer)) {
            admin_error(r, 400, "invalid_field", field, "%s must be a string (true or false for a checkbox)", field);
            return false;
        }
        question_answer *x = &(*out)[i];
        int64_t ticket_index = -1;
        json_t *rest = json_copy(el); /* the other fields, by the table */
        json_object_del(rest, "answer");
        const body_field fields[] = {
            {"question_id", BF_STRING, true, 1, 64, &x->question_id, NULL},
            {"ticket_index", BF_INT, false, 0, 1000000, &ticket_index, NULL},
        };
        bool ok = admin_fields(r, rest, prefix, fields, sizeof fields / sizeof fields[0]);
        json_decref(rest); /* its values are el's too: question_id stays valid */
        if (!ok) return false;
        x->ticket_index = ticket_index;
        x->answer = json_is_string(answer) ? json_string_value(answer) : json_is_true(answer) ? "true" : "false";
    }
    return true;
}

/* Books a cart (POST /carts) into an order with tickets. Booking the same cart
 * again returns the first order with 200 instead of 201. */
void admin_order_create(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    const char *cart_id = NULL, *discount_code = NULL, *voucher_code = NULL;
    bool pay_later = false;
    json_t *customer = NULL, *payment = NULL, *extras = NULL, *answers = NULL;
    const body_field fields[] = {
        {"cart_id", BF_STRING, true, 1, 64, &cart_id, NULL},
        {"customer", BF_OBJECT, false, 0, 0, &customer, NULL},
        {"payment", BF_OBJECT, false, 0, 0, &payment, NULL},
        {"discount_code", BF_STRING, false, 1, 64, &discount_code, NULL},
        {"voucher_code", BF_STRING, false, 1, 64, &voucher_code, NULL},
        {"extras", BF_OBJECT, false, 0, 0, &extras, NULL},
        {"answers", BF_ARRAY, false, 0, ANSWERS_MAX, &answers, NULL},
        {"pay_later", BF_BOOL, false, 0, 0, &pay_later, NULL},
    };
    if (!ADMIN_FIELDS(r, body, "", fields) || !admin_customer(r, customer)) return;
    /* booked open and unpaid, to be paid through POST /orders/{id}/payments */
    if (pay_later && payment)
        return admin_error(r, 400, "invalid_field", "payment", "an order paid later takes no payment now");
    payment_input pay = {.amount = -1};
    if (payment) {
        const body_field pay_fields[] = {
            {"provider", BF_STRING, true, 1, 64, &pay.provider, NULL},
            {"method", BF_STRING, false, 1, 64, &pay.method, NULL},
            {"reference", BF_STRING, false, 1, 200, &pay.reference, NULL},
        };
        if (!ADMIN_FIELDS(r, payment, "payment.", pay_fields)) return;
    }
    question_answer *typed_answers;
    size_t nanswers;
    if (!parse_answers(r, answers, &typed_answers, &nanswers)) return;
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    char *customer_text = customer ? json_dumps(customer, JSON_COMPACT) : NULL;
    char *extras_text = extras ? json_dumps(extras, JSON_COMPACT) : NULL;
    book_request br = {.cart_id = cart_id,
                       .customer = customer_text,
                       .extras = extras_text,
                       .discount_code = discount_code,
                       .voucher_code = voucher_code,
                       .status = pay_later ? "open" : NULL,
                       .payment = payment ? &pay : NULL,
                       /* the box office can ask every question: required ones are enforced */
                       .answers = typed_answers,
                       .nanswers = nanswers};
    order_record booked;
    br.order_out = &booked;
    char order_id[40];
    bool created = false;
    bo_error err = {0};
    bo_status st = order_book(e, a, &br, order_id, &created, &err);
    free(customer_text);
    free(extras_text);
    if (st != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    json_t *order = admin_eticket_urls(r, a, order_json(&booked, a));
    order_record_free(&booked);
    if (created)
        admin_reply_created(r, "orders", order_id, order);
    else
        http_reply_json(r, 200, order);
}

/* Releases capacity, refunds what was paid for the live tickets and marks
 * them refunded (docs/MODEL.md, "Money"). */
void admin_order_cancel(http_request *r, void *app_)
{
    json_t *body;
    if (!admin_body_optional(r, &body)) return;
    const char *reason = NULL;
    const body_field fields[] = {{"reason", BF_STRING, false, 1, 500, &reason, NULL}};
    if (body && !ADMIN_FIELDS(r, body, "", fields)) return;
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    const char *id = http_path_param(r, "id");
    bo_error err = {0};
    if (order_cancel(e, a, id, reason, "admin", &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    json_t *order = NULL;
    bo_status st = order_get_json(e, a, id, &order);
    if (st != BO_OK) {
        admin_fail_status(r, st, "order");
        return;
    }
    http_reply_json(r, 200, admin_eticket_urls(r, api_account(r), order));
}
