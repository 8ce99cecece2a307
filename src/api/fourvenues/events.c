/* GET /events, /events/{id}, /events/by-slug/{slug}: a channel event is one
 * live occurrence of a published engine event (a Fourvenues event is one dated
 * night), with its venue and its ticket rates. */
#include "api/fourvenues/fourvenues.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *event_timezone(const account *a, const cat_event *ev)
{
    const cat_location *l = ev->location ? ev->location : ev->category ? ev->category->location : NULL;
    return l && l->timezone ? l->timezone : a->timezone;
}

static const cat_location *event_location(const cat_event *ev)
{
    return ev->location ? ev->location : ev->category ? ev->category->location : NULL;
}

/* The local start "YYYY-MM-DD" and "HHMM" of an instant in the venue's zone. */
static void local_stamp(const char *tz, instant_us t, char day[11], char hhmm[5])
{
    civil_date d;
    int32_t secs;
    tz_instant_to_local(tz, t, &d, &secs);
    date_format(d, day);
    unsigned minutes = (unsigned)secs / 60 % 1440;
    snprintf(hhmm, 5, "%02u%02u", minutes / 60 % 24, minutes % 60);
}

static int by_start(const void *x, const void *y)
{
    const fv_event *a = x, *b = y;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Slugs are the event's slug (its document's, else its name's) and the local
 * day; when two occurrences of one event start on the same day, the start
 * time too, so that every slug names one event. */
static void name_slugs(fv_event *evs, size_t first, size_t count)
{
    for (size_t i = first; i < first + count; i++) {
        const json_t *slug = json_object_get(evs[i].doc, "slug");
        char base[100], day[11], hhmm[5];
        if (json_is_string(slug))
            snprintf(base, sizeof base, "%s", json_string_value(slug));
        else
            fv_slugify(json_string_value(json_object_get(evs[i].doc, "name")), base, sizeof base);
        local_stamp(evs[i].timezone, evs[i].start, day, hhmm);
        bool same_day = false;
        for (size_t k = first; k < first + count; k++) {
            char other[11], ignored[5];
            local_stamp(evs[k].timezone, evs[k].start, other, ignored);
            same_day = same_day || (k != i && !strcmp(other, day));
        }
        if (same_day)
            snprintf(evs[i].slug, sizeof evs[i].slug, "%s%s%s-%s", base, *base ? "-" : "", day, hhmm);
        else
            snprintf(evs[i].slug, sizeof evs[i].slug, "%s%s%s", base, *base ? "-" : "", day);
    }
}

fv_event *fv_events(const account *a, const catalog_model *m, size_t *n)
{
    *n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++)
        cap += ((const cat_event *)model_object_at(m, CAT_EVENT, i))->noccurrences;
    fv_event *out = cap ? calloc(cap, sizeof *out) : NULL;
    if (!out) return NULL;
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++) {
        const cat_event *ev = model_object_at(m, CAT_EVENT, i);
        if (ev->status != EVENT_PUBLISHED) continue;
        const char *tz = event_timezone(a, ev);
        size_t first = *n;
        for (size_t k = 0; k < ev->noccurrences; k++) {
            const cat_occurrence *oc = &ev->occurrences[k];
            instant_us start, end;
            if (oc->cancelled || !oc->start_text || !iso_parse(oc->start_text, tz, &start)) continue;
            if (!oc->end_text || !iso_parse(oc->end_text, tz, &end)) end = start;
            fv_event *fe = &out[(*n)++];
            *fe = (fv_event){.event = ev, .doc = model_decoded_at(m, CAT_EVENT, i), .occurrence = oc,
                             .timezone = tz, .start = start, .end = end};
            fv_public_id("event", ev->id, oc->id, fe->id);
        }
        name_slugs(out, first, *n - first);
    }
    qsort(out, *n, sizeof *out, by_start);
    return out;
}

static json_t *location_json(const catalog_model *m, const fv_event *ev)
{
    const cat_location *l = event_location(ev->event);
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
    if (api_reply_cached(r, app_, -1, -1)) return;
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
            const cat_location *l = event_location(ev->event);
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
    if (!fv_query_known(r, no_params) || api_reply_cached(r, app_, -1, -1)) return;
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
