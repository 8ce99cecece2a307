/* Webhook payloads in Ticket Tailor's shapes: the engine records canonical
 * objects in its outbox; this turns them into what /tickettailor would answer
 * for the same resource, and names that resource's API URL. */
#include "api/tickettailor/tickettailor.h"
#include "core/webhooks.h"
#include <stdio.h>
#include <string.h>

static json_t *format(engine *e, const account *a, const char *resource, json_t *object, char *url, size_t len)
{
    if (!resource || !json_is_object(object)) return NULL;
    const char *id = json_string_value(json_object_get(object, "id"));
    if (!strcmp(resource, "order")) {
        snprintf(url, len, "/tickettailor/v1/orders/or_%s", id ? id : "");
        return tt_order(e, a, object);
    }
    if (!strcmp(resource, "issued_ticket")) {
        snprintf(url, len, "/tickettailor/v1/issued_tickets/it_%s", id ? id : "");
        return tt_issued_ticket(a, object);
    }
    /* an event series: its occurrences are the Ticket Tailor events */
    snprintf(url, len, "/tickettailor/v1/events?event_series_id=es_%s", id ? id : "");
    json_t *events = json_array();
    size_t i;
    json_t *oc;
    json_array_foreach(json_object_get(object, "occurrences"), i, oc)
        json_array_append_new(events, tt_id("ev_", json_string_value(json_object_get(oc, "id"))));
    return json_pack("{s:s,s:o,s:O?,s:O?,s:o}", "object", "event_series", "id", tt_id("es_", id), "name",
                     json_object_get(object, "name"), "status", json_object_get(object, "status"), "event_ids", events);
}

void tickettailor_install(engine *e) { webhooks_set_formatter(e, format); }
