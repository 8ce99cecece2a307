/* Ticket Tailor's `barcode_url` and `qr_code_url` (the doc: "URL to barcode
 * image", "URL to QR code image"): both name the ticket's QR code as an SVG
 * image, /tickets/{token}.svg, since Boxoffice draws every barcode as a QR
 * code; the same token with .pdf is the ticket's PDF (docs/dialects/tickettailor.md). */
#include "api/tickettailor/tickettailor.h"
#include <string.h>

static void ticket_urls(http_request *r, const account *a, json_t *ticket)
{
    const char *id = json_string_value(json_object_get(ticket, "id"));
    const char *status = json_string_value(json_object_get(ticket, "status"));
    char url[256];
    /* a void ticket has no image: its URL would only answer 404 */
    if (!id || strncmp(id, "it_", 3) || (status && strcmp(status, "valid")) ||
        !api_eticket_url(r, ETICKET_TICKET, a->id, id + 3, "svg", url, sizeof url))
        return;
    json_object_set_new(ticket, "barcode_url", json_string(url));
    json_object_set_new(ticket, "qr_code_url", json_string(url));
}

json_t *tt_eticket_urls(http_request *r, const account *a, json_t *object)
{
    const char *kind = json_string_value(json_object_get(object, "object"));
    if (kind && !strcmp(kind, "issued_ticket")) {
        ticket_urls(r, a, object);
    } else if (kind && !strcmp(kind, "order")) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(object, "issued_tickets"), i, t) ticket_urls(r, a, t);
    }
    return object;
}
