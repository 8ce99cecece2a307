/* Ticket Tailor's webhook format (docs/WEBHOOKS.md): the engine records
 * canonical objects in its outbox; this turns them into what /tickettailor
 * would answer for the same resource, names that resource's API URL, wraps it
 * in Ticket Tailor's envelope and signs it as Ticket Tailor's docs verify:
 *   Tickettailor-Webhook-Signature: t=<unix>,v1=<hex hmac-sha256(secret, t + body)> */
#include "api/tickettailor/tickettailor.h"
#include "core/webhooks.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What /tickettailor would answer for the resource, and that answer's URL. */
static json_t *payload(engine *e, const account *a, const char *resource, json_t *object, char *url, size_t len)
{
    if (!resource || !json_is_object(object)) return NULL;
    const char *id = json_string_value(json_object_get(object, "id"));
    if (!strcmp(resource, "order")) {
        snprintf(url, len, "/tickettailor/v1/orders/or_%s", id ? id : "");
        return tt_eticket_urls(NULL, a, tt_order(e, a, object));
    }
    if (!strcmp(resource, "issued_ticket")) {
        snprintf(url, len, "/tickettailor/v1/issued_tickets/it_%s", id ? id : "");
        catalog_view *catalog = catalog_view_open(e, a);
        json_t *x = tt_issued_ticket(a, catalog ? catalog_view_model(catalog) : NULL, object);
        catalog_view_close(catalog);
        return tt_eticket_urls(NULL, a, x);
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

/* {id, created_at, event, resource_url, payload}; id is the same on every
 * retry. An object the payload cannot translate goes as recorded. */
static char *body(engine *e, const account *a, const webhook_event_info *ev, const char *recorded)
{
    json_t *object = json_loads(recorded, JSON_DECODE_ANY, NULL);
    char url[300];
    snprintf(url, sizeof url, "%s", ev->resource_url ? ev->resource_url : "");
    json_t *vendor = payload(e, a, ev->resource, object, url, sizeof url);
    if (!vendor) vendor = object ? json_incref(object) : json_null();
    char created[40];
    iso_format_seconds(ev->created_at, NULL, created, sizeof created);
    json_t *envelope = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", ev->id, "created_at", created, "event", ev->event,
                                 "resource_url", url, "payload", vendor);
    json_decref(object);
    char *text = envelope ? json_dumps(envelope, JSON_COMPACT) : NULL;
    json_decref(envelope);
    return text;
}

static bool sign(const char *secret, const char *body, instant_us now, webhook_headers *out)
{
    char t[24], mac[65];
    snprintf(t, sizeof t, "%lld", (long long)(now / US_PER_SEC));
    size_t tl = strlen(t), bl = strlen(body);
    char *msg = malloc(tl + bl + 1);
    if (!msg) return false;
    memcpy(msg, t, tl);
    memcpy(msg + tl, body, bl + 1);
    hmac_sha256_hex(secret, strlen(secret), msg, tl + bl, mac);
    free(msg);
    return webhook_header_add(out, "Tickettailor-Webhook-Signature: t=%s,v1=%s", t, mac);
}

static const webhook_format tickettailor_format = {
    .name = TICKETTAILOR_WEBHOOK_FORMAT, .body = body, .sign = sign};

void tickettailor_install(engine *e) { webhooks_register_format(e, &tickettailor_format); }
