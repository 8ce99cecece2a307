#include "core/schedule.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *venue_timezone(const account *a, const cat_event *event, const cat_category *category)
{
    const cat_location *l = event && event->location ? event->location : category ? category->location : NULL;
    return l && l->timezone ? l->timezone : a->timezone;
}

bo_status occurrence_source_for(const catalog_model *m, const account *a, const cat_product *product,
                                const char *category_id, occurrence_source *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    out->timezone = a->timezone;
    if (category_id) {
        if (!product_in_category(product, category_id))
            return bo_fail(err, BO_INVALID, "category_mismatch", "category_id", "product %s is not in category %s",
                           product->id, category_id);
    } else if (product->ncategories > 0) {
        category_id = product->category_ids[0];
    }
    out->category_id = category_id;
    const cat_category *category = model_category(m, category_id);
    const cat_event *event = product->event;
    out->timezone = venue_timezone(a, event, category);
    if (event) {
        out->event = event;
        if (event->noccurrences > 0) {
            out->kind = SOURCE_EVENT;
            return BO_OK;
        }
        if ((out->schedule = event->schedule)) {
            out->kind = SOURCE_SCHEDULE;
            return BO_OK;
        }
    }
    if (category && (out->schedule = category->schedule)) {
        out->kind = SOURCE_SCHEDULE;
        return BO_OK;
    }
    bool dated = product->dated || (category && category->has_flow && category->flow != FLOW_UNDATED);
    out->kind = dated ? SOURCE_DAYS : SOURCE_UNDATED;
    return BO_OK;
}

bool product_open_on(const cat_product *p, civil_date day, civil_date today)
{
    if (p->valid_from >= 0 && day < p->valid_from) return false;
    if (p->valid_to >= 0 && day > p->valid_to) return false;
    if (p->show_from >= 0 && today < p->show_from) return false;
    if (p->show_to >= 0 && today > p->show_to) return false;
    return p->enabled;
}

/* Appends s; false once the list holds more than max slots (the caller stops:
 * the range is refused anyway, so neither memory nor time is spent on the rest). */
static bool push(slot **arr, size_t *n, size_t *cap, size_t max, const slot *s)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        slot *grown = realloc(*arr, *cap * sizeof **arr);
        if (!grown) abort();
        *arr = grown;
    }
    (*arr)[(*n)++] = *s;
    return *n <= max;
}

size_t occurrence_slots(const occurrence_source *src, const cat_product *product, civil_date from, civil_date to,
                        instant_us now, size_t max, slot **out)
{
    slot *arr = NULL;
    size_t n = 0, cap = 0;
    civil_date today;
    int32_t now_secs;
    tz_instant_to_local(src->timezone, now, &today, &now_secs);
    if (src->kind == SOURCE_UNDATED) {
        slot s = {.day = -1, .time_from = -1, .time_to = -1, .available = -1};
        s.open = product_open_on(product, today, today);
        push(&arr, &n, &cap, max, &s);
    } else if (src->kind == SOURCE_EVENT) {
        const cat_event *ev = src->event;
        for (size_t i = 0; i < ev->noccurrences; i++) {
            const cat_occurrence *o = &ev->occurrences[i];
            slot s = {.available = -1, .time_to = -1};
            iso_parse(o->start_text, src->timezone, &s.starts_at);
            if (o->end_text) iso_parse(o->end_text, src->timezone, &s.ends_at);
            tz_instant_to_local(src->timezone, s.starts_at, &s.day, &s.time_from);
            if (s.day < from || s.day >= to) continue;
            if (s.ends_at) {
                civil_date endday;
                tz_instant_to_local(src->timezone, s.ends_at, &endday, &s.time_to);
                if (endday != s.day) s.time_to = -1;
            }
            snprintf(s.key, sizeof s.key, "%s", o->id);
            instant_us closes = s.ends_at ? s.ends_at : s.starts_at;
            s.open = product_open_on(product, s.day, today) && closes > now && ev->status != EVENT_CANCELLED &&
                     !o->cancelled;
            if (!push(&arr, &n, &cap, max, &s)) break;
        }
    } else {
        const cat_schedule *sch = src->schedule;
        int32_t open = sch ? sch->open : 0, close = sch ? sch->close : SECS_PER_DAY;
        int64_t slot_secs = sch ? sch->slot_seconds : 0;
        if (to - from > 3660) to = from + 3660; /* ten years is plenty; bounds the loop */
        for (civil_date day = from; day < to; day++) {
            bool day_open = product_open_on(product, day, today);
            if (sch) {
                if ((sch->valid_from >= 0 && day < sch->valid_from) || (sch->valid_to >= 0 && day > sch->valid_to))
                    continue;
                if (!(sch->weekdays & (1u << date_weekday(day))) || schedule_closed_on(sch, day)) day_open = false;
            }
            if (slot_secs <= 0) {
                slot s = {.day = day, .time_from = -1, .time_to = -1, .available = -1};
                occurrence_key(day, -1, s.key);
                s.starts_at = tz_local_to_instant(src->timezone, day, 0);
                s.ends_at = tz_local_to_instant(src->timezone, day + 1, 0);
                s.open = day_open && s.ends_at > now;
                if (!push(&arr, &n, &cap, max, &s)) break;
                continue;
            }
            for (int32_t t = open; t + slot_secs <= close; t += (int32_t)slot_secs) {
                slot s = {.day = day, .time_from = t, .time_to = t + (int32_t)slot_secs, .available = -1};
                occurrence_key(day, t, s.key);
                s.starts_at = tz_local_to_instant(src->timezone, day, t);
                s.ends_at = tz_local_to_instant(src->timezone, day, s.time_to);
                /* across a DST change: a slot whose wall time is in the
                 * spring gap does not exist (it would share its start with
                 * the first slot after the gap), and one ending in the autumn
                 * overlap keeps its length instead of swallowing the hour */
                if (s.ends_at - s.starts_at > slot_secs * US_PER_SEC) s.ends_at = s.starts_at + slot_secs * US_PER_SEC;
                if (s.ends_at <= s.starts_at) continue;
                s.open = day_open && s.ends_at > now;
                if (!push(&arr, &n, &cap, max, &s)) goto done;
            }
        }
    }
done:
    *out = arr;
    return n;
}
