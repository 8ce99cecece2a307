#include "core/schedule.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *venue_timezone(const catalog_snapshot *cs, const account *a, const json_t *event,
                                  const json_t *category)
{
    const char *loc = event ? jstr(event, "location_id") : NULL;
    if (!loc && category) loc = jstr(category, "location_id");
    const json_t *l = loc ? snapshot_find(cs, CAT_LOCATION, loc) : NULL;
    return l && jstr(l, "timezone") ? jstr(l, "timezone") : a->timezone;
}

bo_status occurrence_source_for(const catalog_snapshot *cs, const account *a, const json_t *product,
                                const char *category_id, occurrence_source *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    out->timezone = a->timezone;
    const json_t *cats = json_object_get(product, "category_ids");
    if (category_id) {
        bool member = false;
        size_t i;
        json_t *c;
        json_array_foreach(cats, i, c) member |= !strcmp(json_string_value(c), category_id);
        if (!member)
            return bo_fail(err, BO_INVALID, "category_mismatch", "categoryId",
                           "product %s is not in category %s", jstr(product, "id"), category_id);
    } else if (json_array_size(cats) > 0) {
        category_id = json_string_value(json_array_get(cats, 0));
    }
    out->category_id = category_id;
    const json_t *category = category_id ? snapshot_find(cs, CAT_CATEGORY, category_id) : NULL;
    const char *event_id = jstr(product, "event_id");
    const json_t *event = event_id ? snapshot_find(cs, CAT_EVENT, event_id) : NULL;
    out->timezone = venue_timezone(cs, a, event, category);
    if (event) {
        out->event = event;
        if (json_array_size(json_object_get(event, "occurrences")) > 0) {
            out->kind = SOURCE_EVENT;
            return BO_OK;
        }
        const char *sid = jstr(event, "schedule_id");
        if (sid && (out->schedule = snapshot_find(cs, CAT_SCHEDULE, sid))) {
            out->kind = SOURCE_SCHEDULE;
            return BO_OK;
        }
    }
    const char *sid = category ? jstr(category, "schedule_id") : NULL;
    if (sid && (out->schedule = snapshot_find(cs, CAT_SCHEDULE, sid))) {
        out->kind = SOURCE_SCHEDULE;
        return BO_OK;
    }
    bool dated = jbool(product, "dated", false) || (category && jstr(category, "flow") &&
                                                    strcmp(jstr(category, "flow"), "undated") != 0);
    out->kind = dated ? SOURCE_DAYS : SOURCE_UNDATED;
    return BO_OK;
}

static bool int_in(const json_t *arr, int v)
{
    if (!arr) return true;
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (json_integer_value(x) == v) return true;
    return false;
}

static bool str_in(const json_t *arr, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (!strcmp(json_string_value(x), v)) return true;
    return false;
}

static bool date_field(const json_t *o, const char *key, civil_date *out)
{
    return jstr(o, key) && date_parse(jstr(o, key), out);
}

/* The product may be used on day (valid window) and sold now (show window). */
static bool product_open_on(const json_t *product, civil_date day, civil_date today)
{
    civil_date d;
    if (date_field(product, "valid_from", &d) && day < d) return false;
    if (date_field(product, "valid_to", &d) && day > d) return false;
    if (date_field(product, "show_from", &d) && today < d) return false;
    if (date_field(product, "show_to", &d) && today > d) return false;
    return jbool(product, "enabled", true);
}

static void push(slot **arr, size_t *n, size_t *cap, const slot *s)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *arr = realloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*n)++] = *s;
}

size_t occurrence_slots(const occurrence_source *src, const json_t *product, civil_date from, civil_date to,
                        instant_us now, slot **out)
{
    slot *arr = NULL;
    size_t n = 0, cap = 0;
    civil_date today;
    int32_t now_secs;
    tz_instant_to_local(src->timezone, now, &today, &now_secs);
    if (src->kind == SOURCE_UNDATED) {
        slot s = {.day = -1, .time_from = -1, .time_to = -1, .available = -1};
        s.open = product_open_on(product, today, today);
        push(&arr, &n, &cap, &s);
    } else if (src->kind == SOURCE_EVENT) {
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(src->event, "occurrences"), i, o)
        {
            slot s = {.available = -1, .time_to = -1};
            iso_parse(jstr(o, "start"), src->timezone, &s.starts_at);
            if (jstr(o, "end")) iso_parse(jstr(o, "end"), src->timezone, &s.ends_at);
            tz_instant_to_local(src->timezone, s.starts_at, &s.day, &s.time_from);
            if (s.day < from || s.day >= to) continue;
            if (s.ends_at) {
                civil_date endday;
                tz_instant_to_local(src->timezone, s.ends_at, &endday, &s.time_to);
                if (endday != s.day) s.time_to = -1;
            }
            snprintf(s.key, sizeof s.key, "%s", jstr(o, "id"));
            instant_us closes = s.ends_at ? s.ends_at : s.starts_at;
            s.open = product_open_on(product, s.day, today) && closes > now &&
                     !(jstr(src->event, "status") && !strcmp(jstr(src->event, "status"), "cancelled")) &&
                     !(jstr(o, "status") && !strcmp(jstr(o, "status"), "cancelled"));
            push(&arr, &n, &cap, &s);
        }
    } else {
        const json_t *sch = src->schedule;
        int32_t open = 0, close = SECS_PER_DAY;
        int64_t slot_secs = 0;
        civil_date vf = -1, vt = -1;
        if (sch) {
            time_of_day_parse(jstr(sch, "open"), &open);
            time_of_day_parse(jstr(sch, "close"), &close);
            slot_secs = jint(sch, "slot_minutes", 0) * 60;
            date_field(sch, "valid_from", &vf);
            date_field(sch, "valid_to", &vt);
        }
        if (to - from > 3660) to = from + 3660; /* ten years is plenty; bounds the loop */
        for (civil_date day = from; day < to; day++) {
            bool day_open = product_open_on(product, day, today);
            if (sch) {
                if ((vf >= 0 && day < vf) || (vt >= 0 && day > vt)) continue;
                char ds[11];
                date_format(day, ds);
                if (!int_in(json_object_get(sch, "weekdays"), date_weekday(day)) ||
                    str_in(json_object_get(sch, "closed_dates"), ds))
                    day_open = false;
            }
            if (slot_secs <= 0) {
                slot s = {.day = day, .time_from = -1, .time_to = -1, .available = -1};
                occurrence_key(day, -1, s.key);
                s.starts_at = tz_local_to_instant(src->timezone, day, 0);
                s.ends_at = tz_local_to_instant(src->timezone, day + 1, 0);
                s.open = day_open && s.ends_at > now;
                push(&arr, &n, &cap, &s);
                continue;
            }
            for (int32_t t = open; t + slot_secs <= close; t += (int32_t)slot_secs) {
                slot s = {.day = day, .time_from = t, .time_to = t + (int32_t)slot_secs, .available = -1};
                occurrence_key(day, t, s.key);
                s.starts_at = tz_local_to_instant(src->timezone, day, t);
                s.ends_at = tz_local_to_instant(src->timezone, day, s.time_to);
                s.open = day_open && s.ends_at > now;
                push(&arr, &n, &cap, &s);
            }
        }
    }
    *out = arr;
    return n;
}
