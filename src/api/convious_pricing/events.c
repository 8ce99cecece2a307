/* POST /events: a batch of inventory events (from the caller's server, with
 * a bearer token) or of analytics events (from visitors' browsers, with none).
 * Either way the whole batch is checked first, then stored in one transaction:
 * a 400 names the event's index and field, and nothing of the batch is kept. */
#include "api/convious_pricing/convious_pricing.h"
#include <string.h>

void cp_events_preflight(http_request *r, void *app_)
{
    (void)app_;
    cp_cors(r);
    http_reply_empty(r, 204);
}

/* The event's type, or NULL after replying 400. */
static const char *event_type(http_request *r, json_t *event, size_t index)
{
    if (!json_is_object(event)) {
        cp_event_error(r, 400, "invalid_event", index, "type", "each event must be an object with type and payload");
        return NULL;
    }
    json_t *type = json_object_get(event, "type");
    if (!type) {
        cp_event_error(r, 400, "missing_field", index, "type", "type is required");
        return NULL;
    }
    const char *t = json_string_value(type);
    if (!t || (!cp_inventory_type(t) && !cp_analytics_type(t))) {
        cp_event_error(r, 400, "invalid_event_type", index, "type",
                       "type must be ProductCreated, ProductPricingChanged, ProductRemoved, "
                       "ProductAvailabilityChanged or an analytics event");
        return NULL;
    }
    return t;
}

static void post_inventory(http_request *r, engine *e, json_t *batch)
{
    const account *a = api_account(r);
    inventory_event *events = http_alloc(r, json_array_size(batch) * sizeof *events);
    if (!cp_inventory_parse(r, a, batch, events)) return;
    bo_error err = {0};
    size_t failed = 0;
    bo_status st = inventory_events_apply(e, a, events, json_array_size(batch), &failed, &err);
    if (st == BO_NOT_FOUND)
        return cp_event_error(r, 400, err.code, failed, "payload.productReference",
                              "no product with this productReference was created (ProductCreated comes first)");
    if (st != BO_OK) return cv_fail(r, &err);
    http_reply_empty(r, 200);
}

static void post_analytics(http_request *r, engine *e, json_t *batch)
{
    analytics_event *events = http_alloc(r, json_array_size(batch) * sizeof *events);
    if (!cp_analytics_parse(r, e, batch, events)) return;
    bo_error err = {0};
    bo_status st = analytics_ingest(e, http_client_ip(r), events, json_array_size(batch), &err);
    if (st == BO_RATE_LIMITED) http_add_header(r, "Retry-After", "60");
    if (st != BO_OK) return cv_fail(r, &err);
    http_reply_empty(r, 200);
}

void cp_events_post(http_request *r, void *app_)
{
    const char *why = NULL;
    json_t *batch = http_body_json(r, &why);
    if (!batch) return cv_error(r, 400, "invalid_json", NULL, "%s", why ? why : "invalid JSON");
    if (!json_is_array(batch))
        return cv_error(r, 400, "invalid_json", NULL, "the body must be a JSON array of events");
    size_t n = json_array_size(batch);
    if (n == 0) return cv_error(r, 400, "empty_batch", NULL, "the array must hold at least one event");
    if (n > CP_MAX_EVENTS)
        return cv_error(r, 400, "too_many_events", NULL, "at most %d events per request", CP_MAX_EVENTS);
    bool inventory = false;
    for (size_t i = 0; i < n; i++) {
        const char *type = event_type(r, json_array_get(batch, i), i);
        if (!type) return;
        bool this_inventory = cp_inventory_type(type);
        if (i == 0) inventory = this_inventory;
        else if (this_inventory != inventory)
            return cp_event_error(r, 400, "mixed_batch", i, "type",
                                  "a batch holds inventory events or analytics events, not both");
    }
    /* browsers hold no token: inventory changes come from the caller's server alone */
    if (inventory && !api_account(r))
        return cv_error(r, 401, "not_authenticated", NULL, "Authentication credentials were not provided.");
    if (inventory) post_inventory(r, cv_engine(app_), batch);
    else post_analytics(r, cv_engine(app_), batch);
}
