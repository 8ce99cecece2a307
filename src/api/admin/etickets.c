/* `download_url` on /admin/v1 orders and tickets: the e-ticket PDF of the
 * order (/orders/{token}.pdf) or of the ticket (/tickets/{token}.pdf), null
 * where there is nothing to download (a cancelled order, a voided or refunded
 * ticket: those links answer 404). Added at the edge, not in the canonical
 * document, so the outbox's recorded objects stay as they were. */
#include "api/admin/admin.h"
#include <string.h>

static bool ticket_live(const json_t *t)
{
    const char *status = json_string_value(json_object_get(t, "status"));
    return status && (!strcmp(status, "valid") || !strcmp(status, "unpaid"));
}

static void set_url(http_request *r, const account *a, json_t *obj, eticket_kind kind, bool live)
{
    char url[256];
    if (live && api_eticket_url(r, kind, a->id, json_string_value(json_object_get(obj, "id")), "pdf", url, sizeof url))
        json_object_set_new(obj, "download_url", json_string(url));
    else
        json_object_set_new(obj, "download_url", json_null());
}

json_t *admin_eticket_urls(http_request *r, const account *a, json_t *obj)
{
    if (json_is_array(obj)) {
        size_t i;
        json_t *item;
        json_array_foreach(obj, i, item) admin_eticket_urls(r, a, item);
        return obj;
    }
    json_t *tickets = json_object_get(obj, "tickets");
    if (!json_is_array(tickets)) {
        set_url(r, a, obj, ETICKET_TICKET, ticket_live(obj));
        return obj;
    }
    bool any_live = false;
    size_t i;
    json_t *t;
    json_array_foreach(tickets, i, t)
    {
        set_url(r, a, t, ETICKET_TICKET, ticket_live(t));
        any_live |= ticket_live(t);
    }
    const char *status = json_string_value(json_object_get(obj, "status"));
    set_url(r, a, obj, ETICKET_ORDER, any_live && status && strcmp(status, "cancelled"));
    return obj;
}
