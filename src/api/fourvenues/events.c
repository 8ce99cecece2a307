/* GET /events, /events/{id}, /events/by-slug/{slug}: a channel event is one
 * live occurrence of a published engine event (a Fourvenues event is one dated
 * night), with its venue and its ticket rates. */
#include "api/fourvenues/fourvenues.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *location_json(const catalog_model *m, const fv_event *ev)
{
    const cat_location *l = event_venue(ev->event);
    if (!l) return json_null();
    const json_t *doc = model_decoded(m, CAT_LOCATION, l->id);
    char id[FV_ID_LEN + 1];
    fv_public_id("location", l->id, NULL, id);
    const char *address = json_string_value(json_object_get(doc, "address"));
    return json_pack("{s:s,s:O,s:s?,s:s}", "_id", id, "name", json_object_get(doc, "name"), "address", address,
                     "timezone", l->timezone);
}

static json_t *first_image(const json_t *doc)
{
    const json_t *img = json_array_get(json_object_get(doc, "images"), 0);
    const char *url = json_is_string(img) ? json_string_value(img) : json_string_value(json_object_get(img, "url"));
    return url ? json_string(url) : json_null();
}

json_t *fv_event_json(engine *e, const account *a, const catalog_model *m, const fv_event *ev)
{
    char organization_id[FV_ID_LEN + 1];
    fv_organization_id(a, organization_id);
    const char *description = json_string_value(json_object_get(ev->doc, "description"));
    json_t *rates = fv_event_rates_json(e, a, m, ev);
    if (!rates) return NULL;
    return json_pack("{s:s,s:s,s:O,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:o}", "_id", ev->id, "organization_id",
                     organization_id, "name", json_object_get(ev->doc, "name"), "slug", ev->slug, "description",
                     description ? description : "", "start_date", fv_time(ev->start), "end_date", fv_time(ev->end),
                     "timezone", ev->timezone, "image_url", first_image(ev->doc), "location", location_json(m, ev),
                     "ticket_rates", rates);
}

static const char *const list_params[] = {"start_date", "end_date", "organization_id", "location_id", "limit", "offset",
                                          NULL};

void fv_events_list(http_request *r, void *app_)
{
    engine *e = fv_engine(app_);
    const account *a = api_account(r);
    size_t limit, offset;
    instant_us from = 0, to = 0;
    bool from_set, to_set;
    if (!fv_query_known(r, list_params) || !fv_page_args(r, &limit, &offset) ||
        !fv_query_instant(r, "start_date", &from, &from_set) || !fv_query_instant(r, "end_date", &to, &to_set))
        return;
    if (from_set && to_set && to < from)
        return fv_error(r, 400, "invalid_parameter", "end_date", "end_date is before start_date");
    /* without start_date a channel sees what it can still sell: events not over yet */
    if (!from_set) from = clock_now();
    /* what it shows moves with the catalog and with any day's sales */
    if (api_reply_cached_priced(r, app_, -1, -1)) return;
    char organization_id[FV_ID_LEN + 1];
    fv_organization_id(a, organization_id);
    const char *organization = http_query(r, "organization_id"), *location = http_query(r, "location_id");
    catalog_view *v = catalog_view_open(e, a);
    if (!v) return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    const catalog_model *m = catalog_view_model(v);
    size_t n;
    fv_event *evs = fv_events(a, m, &n);
    json_t *list = json_array();
    size_t matched = 0;
    for (size_t i = 0; i < n && json_array_size(list) < limit; i++) {
        const fv_event *ev = &evs[i];
        if (ev->end < from || (to_set && ev->start > to)) continue;
        if (organization && strcmp(organization, organization_id)) continue;
        if (location) {
            const cat_location *l = event_venue(ev->event);
            char lid[FV_ID_LEN + 1] = "";
            if (l) fv_public_id("location", l->id, NULL, lid);
            if (strcmp(location, lid)) continue;
        }
        if (matched++ < offset) continue;
        json_t *item = fv_event_json(e, a, m, ev);
        if (!item) {
            json_decref(list), free(evs), catalog_view_close(v);
            return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
        }
        json_array_append_new(list, item);
    }
    free(evs);
    catalog_view_close(v);
    fv_reply(r, 200, list);
}

/* The one event whose id (by_slug false) or slug equals the path's. */
static void event_reply(http_request *r, void *app_, bool by_slug)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params) || api_reply_cached_priced(r, app_, -1, -1)) return;
    engine *e = fv_engine(app_);
    const account *a = api_account(r);
    const char *wanted = http_path_param(r, by_slug ? "slug" : "id");
    catalog_view *v = catalog_view_open(e, a);
    if (!v) return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    const catalog_model *m = catalog_view_model(v);
    size_t n;
    fv_event *evs = fv_events(a, m, &n);
    json_t *found = NULL;
    bool failed = false;
    for (size_t i = 0; i < n && !found && !failed; i++)
        if (!strcmp(by_slug ? evs[i].slug : evs[i].id, wanted ? wanted : "")) {
            found = fv_event_json(e, a, m, &evs[i]);
            failed = !found;
        }
    free(evs);
    catalog_view_close(v);
    if (failed) return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    if (!found) return fv_error(r, 404, "not_found", by_slug ? "slug" : "id", "no such event");
    fv_reply(r, 200, found);
}

void fv_event_get(http_request *r, void *app_) { event_reply(r, app_, false); }
void fv_event_by_slug(http_request *r, void *app_) { event_reply(r, app_, true); }
