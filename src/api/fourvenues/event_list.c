/* The channel's events: one per live occurrence of a published engine event,
 * in start order, each with its public id and slug. Every resource that names
 * events (events, ticket rates, tickets) reads this list. */
#include "api/fourvenues/fourvenues.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        const char *tz = event_timezone(ev, a->timezone);
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

bool fv_rate_find(const account *a, const catalog_model *m, const char *rate_id, const cat_product **p_out,
                  fv_event *ev_out)
{
    /* A rate id is a hash of (product, occurrence): only the live occurrences
     * of the published events that sell the product can be named, so the
     * search stays off the whole event list (its slugs, its order). */
    for (size_t k = 0; k < model_count(m, CAT_PRODUCT); k++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, k);
        if (p->kind != PRODUCT_TICKET || !p->enabled || !p->event || p->event->status != EVENT_PUBLISHED) continue;
        const cat_event *ev = p->event;
        const char *tz = event_timezone(ev, a->timezone);
        for (size_t o = 0; o < ev->noccurrences; o++) {
            const cat_occurrence *oc = &ev->occurrences[o];
            instant_us start, end;
            if (oc->cancelled || !oc->start_text) continue;
            char id[FV_ID_LEN + 1];
            fv_public_id("rate", p->id, oc->id, id);
            if (strcmp(id, rate_id) || !iso_parse(oc->start_text, tz, &start)) continue;
            if (!oc->end_text || !iso_parse(oc->end_text, tz, &end)) end = start;
            for (size_t i = 0; i < model_count(m, CAT_EVENT); i++)
                if (model_object_at(m, CAT_EVENT, i) == ev) {
                    *ev_out = (fv_event){.event = ev, .doc = model_decoded_at(m, CAT_EVENT, i), .occurrence = oc,
                                         .timezone = tz, .start = start, .end = end};
                    fv_public_id("event", ev->id, oc->id, ev_out->id);
                    *p_out = p;
                    return true;
                }
        }
    }
    return false;
}
