/* Events: each occurrence of an engine event is one Ticket Tailor event
 * (ev_<occurrence id>), with its ticket types (products of that event) and
 * live totals. Pages are newest start first. */
#include "api/tickettailor/tickettailor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const json_t *event;      /* engine event (borrowed from the catalog view) */
    const json_t *occurrence; /* one of its occurrences */
    instant_us start, end;
} tt_event_ref;

static int by_start_desc(const void *x, const void *y)
{
    const tt_event_ref *a = x, *b = y;
    if (a->start != b->start) return a->start < b->start ? 1 : -1;
    return -strcmp(json_string_value(json_object_get(a->occurrence, "id")),
                   json_string_value(json_object_get(b->occurrence, "id")));
}

/* What an event (one occurrence) and its event series (the engine event)
 * say alike, from the engine event. */
static json_t *event_common(const account *a, const json_t *event, const char *object, json_t *id)
{
    const char *status = json_string_value(json_object_get(event, "status"));
    char cur[4] = {(char)(a->currency[0] | 0x20), (char)(a->currency[1] | 0x20), (char)(a->currency[2] | 0x20), 0};
    json_t *x = json_object();
    json_object_set_new(x, "object", json_string(object));
    json_object_set_new(x, "id", id);
    json_object_set_new(x, "access_code", json_null());
    json_object_set_new(x, "call_to_action", json_string("Buy tickets"));
    json_object_set_new(x, "created_at", json_null());
    json_object_set_new(x, "currency", json_string(cur));
    json_object_set(x, "description", json_object_get(event, "description") ?: json_null());
    json_object_set_new(x, "images", json_pack("{s:n,s:n}", "header", "thumbnail"));
    json_object_set(x, "name", json_object_get(event, "name"));
    json_object_set_new(x, "online_event", json_string("false"));
    json_object_set_new(x, "private", json_string("false"));
    json_object_set_new(x, "status", json_string(status ? status : "published"));
    json_object_set_new(x, "timezone", json_string(a->timezone));
    json_object_set_new(x, "url", json_null());
    json_object_set_new(x, "venue", json_pack("{s:n,s:n}", "name", "postal_code"));
    return x;
}

/* The products of the event are found on the typed model; only theirs are read. */
static json_t *event_json(engine *e, const account *a, const tt_event_ref *ref, const catalog_model *m)
{
    const char *occ = json_string_value(json_object_get(ref->occurrence, "id"));
    const char *ev_id = json_string_value(json_object_get(ref->event, "id"));
    json_t *types = json_array();
    int64_t total_available = 0;
    bool any_limited = false;
    size_t i;
    civil_date day;
    int32_t secs;
    tz_instant_to_local(a->timezone, ref->start, &day, &secs);
    const cat_product **shown = calloc(model_count(m, CAT_PRODUCT) + 1, sizeof *shown);
    size_t nshown = 0;
    for (size_t pi = 0; pi < model_count(m, CAT_PRODUCT); pi++) {
        const cat_product *typed = model_object_at(m, CAT_PRODUCT, pi);
        if (!typed->event_id || strcmp(typed->event_id, ev_id)) continue;
        shown[nshown++] = typed;
        const json_t *p = model_decoded_at(m, CAT_PRODUCT, pi);
        slot *slots = NULL;
        size_t n = 0;
        bo_error err = {0};
        int64_t available = -1;
        if (availability_product(e, a, json_string_value(json_object_get(p, "id")), NULL, day, day + 1, &slots, &n,
                                 &err) == BO_OK)
            for (size_t k = 0; k < n; k++)
                if (!strcmp(slots[k].key, occ)) available = slots[k].available;
        free(slots);
        if (available >= 0) {
            any_limited = true;
            total_available += available;
        }
        json_t *maxq = json_object_get(p, "max_per_order");
        money price = json_integer_value(json_object_get(p, "price"));
        json_t *desc = json_object_get(json_object_get(p, "description"), "en");
        json_array_append_new(
            types, json_pack("{s:s,s:o,s:n,s:I,s:O?,s:n,s:o,s:I,s:O?,s:I,s:s,s:I,s:s,s:o}", "object", "ticket_type", "id",
                             tt_id("tt_", json_string_value(json_object_get(p, "id"))), "access_code", "booking_fee",
                             (json_int_t)json_integer_value(json_object_get(p, "booking_fee")), "description", desc,
                             "group_id", "max_per_order", json_is_integer(maxq) ? json_incref(maxq) : json_null(),
                             "min_per_order", (json_int_t)json_integer_value(json_object_get(p, "min_per_order")),
                             "name", json_object_get(json_object_get(p, "name"), "en"), "price", (json_int_t)price,
                             "status", json_is_false(json_object_get(p, "enabled")) ? "hidden" : "on_sale",
                             "sort_order", (json_int_t)json_integer_value(json_object_get(p, "priority")), "type",
                             price > 0 ? "paid" : "free", "quantity",
                             available >= 0 ? json_integer(available) : json_null()));
        json_object_set_new(json_array_get(types, json_array_size(types) - 1), "group_id", tt_group_id(typed));
    }
    /* totals from the engine's tickets of this occurrence */
    ticket_query q = {.limit = 1000, .event_id = occ, .status = "valid"};
    json_t *issued = NULL;
    bo_error err = {0};
    size_t nissued = 0, norders = 0;
    if (tickets_list_json(e, a, &q, &issued, NULL, &err) == BO_OK) {
        nissued = json_array_size(issued);
        json_t *seen = json_object();
        json_t *t;
        json_array_foreach(issued, i, t)
        {
            const char *oid = json_string_value(json_object_get(t, "order_id"));
            if (oid && !json_object_get(seen, oid)) json_object_set_new(seen, oid, json_true());
        }
        norders = json_object_size(seen);
        json_decref(seen);
        json_decref(issued);
    }
    json_t *x = event_common(a, ref->event, "event", tt_id("ev_", occ));
    json_object_set_new(x, "event_series_id", tt_id("es_", ev_id));
    json_object_set_new(x, "end", ref->end ? tt_date(a, ref->end) : json_null());
    json_object_set_new(x, "hidden", json_string("false"));
    json_object_set_new(x, "payment_methods", tt_payment_methods(m, model_event(m, ev_id)));
    json_object_set_new(x, "start", tt_date(a, ref->start));
    json_object_set_new(x, "ticket_groups", tt_ticket_groups(m, ev_id, shown, nshown));
    free(shown);
    json_object_set_new(x, "ticket_types", types);
    bool available = !any_limited || total_available > 0;
    json_object_set_new(x, "tickets_available", json_string(available ? "true" : "false"));
    json_object_set_new(x, "total_holds", json_integer(0));
    json_object_set_new(x, "total_issued_tickets", json_integer((json_int_t)nissued));
    json_object_set_new(x, "total_orders", json_integer((json_int_t)norders));
    json_object_set_new(x, "unavailable", json_string(available ? "false" : "true"));
    json_object_set_new(x, "unavailable_status", available ? json_null() : json_string("sold_out"));
    return x;
}

/* Every occurrence of every event, newest start first. */
static tt_event_ref *all_events(const account *a, const catalog_model *m, size_t *n)
{
    tt_event_ref *refs = NULL;
    *n = 0;
    size_t k;
    json_t *oc;
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++) {
        const json_t *ev = model_decoded_at(m, CAT_EVENT, i);
        json_array_foreach(json_object_get(ev, "occurrences"), k, oc)
        {
            refs = realloc(refs, (*n + 1) * sizeof *refs);
            tt_event_ref *r = &refs[(*n)++];
            r->event = ev;
            r->occurrence = oc;
            r->start = r->end = 0;
            iso_parse(json_string_value(json_object_get(oc, "start")), a->timezone, &r->start);
            if (json_is_string(json_object_get(oc, "end")))
                iso_parse(json_string_value(json_object_get(oc, "end")), a->timezone, &r->end);
        }
    }
    if (*n > 1) qsort(refs, *n, sizeof *refs, by_start_desc);
    return refs;
}

void tt_events_list(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    int limit;
    const char *after, *before;
    if (!tt_page_args(r, "ev_", &limit, &after, &before)) return;
    instant_us start[5], end[5];
    if (!tt_range_args(r, "start_at", start) || !tt_range_args(r, "end_at", end)) return;
    const char *status = http_query(r, "status");
    if (api_reply_cached(r, app_, -1, -1)) return; /* events show what is left of every day */
    /* the snapshot's own documents, borrowed: nothing of the catalog is copied */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    size_t n;
    tt_event_ref *refs = all_events(a, m, &n);
    /* the cursor's position in the full, filtered list */
    json_t *data = json_array();
    size_t first = 0, matched = 0; /* keep[first..last) is the page */
    tt_event_ref **keep = calloc(n ? n : 1, sizeof *keep);
    for (size_t i = 0; i < n; i++) {
        const char *st = json_string_value(json_object_get(refs[i].event, "status"));
        if (status && !strstr(status, st ? st : "published")) continue;
        if (!tt_in_range(refs[i].start, start) || (refs[i].end && !tt_in_range(refs[i].end, end))) continue;
        keep[matched++] = &refs[i];
    }
    const char *cursor = before ? before : after;
    if (cursor) {
        size_t i;
        for (i = 0; i < matched && strcmp(json_string_value(json_object_get(keep[i]->occurrence, "id")), cursor); i++) {}
        if (i == matched) {
            free(keep);
            free(refs);
            catalog_view_close(catalog);
            json_decref(data);
            /* a well-formed id that names nothing: 422, as every other list's cursor (tt_reply_catalog_page) */
            return tt_error(r, 422, before ? "ending_before" : "starting_after", "unknown event %s", cursor);
        }
        first = before ? (i > (size_t)limit ? i - (size_t)limit : 0) : i + 1;
        if (before) matched = i; /* the page ends just before the cursor */
    }
    size_t last = first + (size_t)limit < matched ? first + (size_t)limit : matched;
    for (size_t i = first; i < last; i++) json_array_append_new(data, event_json(e, a, keep[i], m));
    bool more = before ? first > 0 : last < matched;
    free(keep);
    free(refs);
    catalog_view_close(catalog);
    http_reply_json(r, 200, tt_page(r, "/v1/events", data, more, after != NULL, before != NULL));
}

void tt_event_get(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    const char *occ = tt_unprefix(r, http_path_param(r, "event_id"), "ev_");
    if (api_reply_cached(r, app_, -1, -1)) return;
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    size_t n;
    tt_event_ref *refs = all_events(a, m, &n);
    json_t *found = NULL;
    for (size_t i = 0; occ && i < n && !found; i++)
        if (!strcmp(json_string_value(json_object_get(refs[i].occurrence, "id")), occ))
            found = event_json(e, a, &refs[i], m);
    free(refs);
    catalog_view_close(catalog);
    if (!found) return tt_error(r, 404, NULL, "The requested resource does not exist.");
    http_reply_json(r, 200, found);
}

/* An event series is one engine event: its occurrences are the series'
 * events (docs/dialects/tickettailor.md). */
static json_t *series_json(engine *e, const account *a, json_t *event)
{
    (void)e;
    json_t *x = event_common(a, event, "event_series", tt_id("es_", json_string_value(json_object_get(event, "id"))));
    json_t *occurrences = json_object_get(event, "occurrences");
    json_object_set_new(x, "total_occurrences", json_integer((json_int_t)json_array_size(occurrences)));
    return x;
}

/* The account's events in catalog order (oldest first), borrowed from the view. */
static json_t *series_oldest_first(const catalog_model *m)
{
    json_t *all = json_array();
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++)
        json_array_append(all, (json_t *)model_decoded_at(m, CAT_EVENT, i));
    return all;
}

void tt_event_series_list(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    catalog_view *catalog = catalog_view_open(e, api_account(r));
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    json_t *all = series_oldest_first(catalog_view_model(catalog));
    tt_reply_catalog_page(r, e, CAT_EVENT, all, "/v1/event_series", "es_", series_json);
    json_decref(all);
    catalog_view_close(catalog);
}

void tt_event_series_get(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const char *id = tt_unprefix(r, http_path_param(r, "event_series_id"), "es_");
    catalog_view *catalog = catalog_view_open(e, api_account(r));
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    const json_t *event = id ? catalog_view_find(catalog, CAT_EVENT, id) : NULL;
    json_t *x = event ? series_json(e, api_account(r), (json_t *)event) : NULL;
    catalog_view_close(catalog);
    if (!x) return tt_error(r, 404, NULL, "The requested resource does not exist.");
    http_reply_json(r, 200, x);
}
