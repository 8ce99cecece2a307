/* POST /admin/v1/orders/{id}/apf: answers to the after-payment forms of the
 * order's tickets ({tickets: [{ticket_id, answers {field id: value}}]}), all
 * or none; replies with the order, each answered ticket's `apf` set. */
#include "api/admin/admin.h"
#include <stdlib.h>
#include <string.h>

#define APF_TICKETS_PER_REQUEST 1000
#define APF_ANSWERS_PER_TICKET 50 /* a form's fields at most (catalog_spec.c) */

/* A ticket's answers: strings, true/false (checkboxes), null to clear; false after replying 400. */
static bool parse_answers(http_request *r, json_t *answers, apf_ticket_answers *t, apf_answer *out)
{
    const char *key;
    json_t *v;
    t->answers = out;
    t->nanswers = 0;
    if (json_object_size(answers) > APF_ANSWERS_PER_TICKET) {
        admin_error(r, 400, "invalid_field", "answers", "at most %d answers per ticket", APF_ANSWERS_PER_TICKET);
        return false;
    }
    json_object_foreach(answers, key, v)
    {
        const char *text = json_is_string(v) ? json_string_value(v)
                           : json_is_null(v) ? ""
                           : json_is_boolean(v) ? (json_is_true(v) ? "true" : "false")
                                                : NULL;
        if (!text) {
            admin_error(r, 400, "invalid_field", "answers", "answer %s must be a string, true, false or null", key);
            return false;
        }
        out[t->nanswers++] = (apf_answer){key, text};
    }
    return true;
}

void admin_order_apf(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    json_t *list = NULL;
    const body_field fields[] = {{"tickets", BF_ARRAY, true, 0, APF_TICKETS_PER_REQUEST, &list, NULL}};
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    size_t n = json_array_size(list);
    if (!n) return admin_error(r, 400, "invalid_field", "tickets", "tickets needs at least one {ticket_id, answers}");
    apf_ticket_answers *tickets = calloc(n + 1, sizeof *tickets);
    apf_answer *answers = calloc((n + 1) * APF_ANSWERS_PER_TICKET, sizeof *answers);
    bool ok = tickets && answers;
    if (!ok) admin_error(r, 500, "internal_error", NULL, "out of memory");
    for (size_t i = 0; ok && i < n; i++) {
        json_t *item = json_array_get(list, i), *given = NULL;
        char prefix[40];
        snprintf(prefix, sizeof prefix, "tickets[%zu].", i);
        const body_field item_fields[] = {
            {"ticket_id", BF_STRING, true, 1, 64, &tickets[i].ticket_id, NULL},
            {"answers", BF_OBJECT, true, 0, 0, &given, NULL},
        };
        if (!json_is_object(item)) {
            admin_error(r, 400, "invalid_field", "tickets", "each entry is an object {ticket_id, answers}");
            ok = false;
        } else {
            ok = ADMIN_FIELDS(r, item, prefix, item_fields) &&
                 parse_answers(r, given, &tickets[i], answers + i * APF_ANSWERS_PER_TICKET);
        }
    }
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    const char *id = http_path_param(r, "id");
    bo_error err = {0};
    if (ok && order_apf_answer(e, a, id, tickets, n, &err) != BO_OK) {
        admin_fail(r, &err);
        ok = false;
    }
    free(tickets);
    free(answers);
    if (!ok) return;
    json_t *order = NULL;
    bo_status st = order_get_json(e, a, id, &order);
    if (st != BO_OK) return admin_fail_status(r, st, "order");
    http_reply_json(r, 200, order);
}
