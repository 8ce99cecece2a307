/* GET /admin/v1/tickets/{id} and POST /admin/v1/tickets/{id}/void. */
#include "api/admin/admin.h"

void admin_ticket_get(http_request *r, void *app_)
{
    json_t *ticket = NULL;
    bo_status st = ticket_get_json(admin_engine(app_), api_account(r), http_path_param(r, "id"), &ticket);
    if (st != BO_OK) {
        admin_fail_status(r, st, "ticket");
        return;
    }
    http_reply_json(r, 200, admin_eticket_urls(r, api_account(r), ticket));
}

/* Irreversible: the seat is freed and nothing is refunded (cancel the order to refund). */
void admin_ticket_void(http_request *r, void *app_)
{
    engine *e = admin_engine(app_);
    const account *a = api_account(r);
    const char *id = http_path_param(r, "id");
    bo_error err = {0};
    if (ticket_void(e, a, id, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    json_t *ticket = NULL;
    bo_status st = ticket_get_json(e, a, id, &ticket);
    if (st != BO_OK) {
        admin_fail_status(r, st, "ticket");
        return;
    }
    http_reply_json(r, 200, admin_eticket_urls(r, api_account(r), ticket));
}
