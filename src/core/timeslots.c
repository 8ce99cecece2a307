/* Timeslot groups: the occurrences that come from a schedule, listed from
 * the schedule itself so that a page of them costs what its slots cost,
 * however many days the schedule spans (engine.h). */
#include "core/schedule.h"
#include <stdlib.h>
#include <string.h>

static const char *zone_of(const account *a, const cat_location *l) { return l && l->timezone ? l->timezone : a->timezone; }

static bool event_group(const account *a, const cat_event *ev, timeslot_group *out)
{
    if (!ev || ev->noccurrences > 0 || !ev->schedule) return false;
    *out = (timeslot_group){.event = ev, .schedule = ev->schedule,
                            .timezone = event_timezone(ev, a->timezone)};
    return true;
}

static bool category_group(const account *a, const cat_category *c, timeslot_group *out)
{
    if (!c || !c->schedule) return false;
    *out = (timeslot_group){.category = c, .schedule = c->schedule, .timezone = zone_of(a, c->location)};
    return true;
}

/* A product's event times it when it has occurrences or a schedule of its
 * own; otherwise its category's schedule does (occurrence_source_for). */
static bool event_times(const cat_product *p) { return p->event && (p->event->noccurrences > 0 || p->event->schedule); }

bool timeslot_group_sells(const catalog_model *m, const account *a, const timeslot_group *g, const cat_product *p)
{
    (void)m;
    (void)a;
    if (g->event) return p->event == g->event;
    return !event_times(p) && product_in_category(p, g->category->id);
}

/* A category group counts only when some product sells in its slots. */
static bool category_sells(const catalog_model *m, const account *a, const timeslot_group *g)
{
    for (size_t i = 0; i < model_count(m, CAT_PRODUCT); i++)
        if (timeslot_group_sells(m, a, g, model_object_at(m, CAT_PRODUCT, i))) return true;
    return false;
}

size_t timeslot_groups(const catalog_model *m, const account *a, timeslot_group **out)
{
    size_t n = 0, cap = model_count(m, CAT_EVENT) + model_count(m, CAT_CATEGORY);
    *out = calloc(cap ? cap : 1, sizeof **out);
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++)
        if (event_group(a, model_object_at(m, CAT_EVENT, i), &(*out)[n])) n++;
    for (size_t i = 0; i < model_count(m, CAT_CATEGORY); i++)
        if (category_group(a, model_object_at(m, CAT_CATEGORY, i), &(*out)[n]) && category_sells(m, a, &(*out)[n])) n++;
    return n;
}

bool timeslot_group_find(const catalog_model *m, const account *a, catalog_kind k, const char *id, timeslot_group *out)
{
    if (!id) return false;
    if (k == CAT_EVENT) return event_group(a, model_event(m, id), out);
    return k == CAT_CATEGORY && category_group(a, model_category(m, id), out) && category_sells(m, a, out);
}

bool timeslot_group_for_product(const catalog_model *m, const account *a, const cat_product *p, timeslot_group *out)
{
    if (!p) return false;
    if (event_times(p)) return event_group(a, p->event, out);
    for (size_t i = 0; i < p->ncategories; i++)
        if (category_group(a, model_category(m, p->category_ids[i]), out)) return true;
    return false;
}

void timeslot_window(const timeslot_group *g, civil_date *lo, civil_date *hi)
{
    civil_date today;
    int32_t secs;
    tz_instant_to_local(g->timezone, clock_now(), &today, &secs);
    const cat_schedule *s = g->schedule;
    *lo = s->valid_from >= 0 ? s->valid_from : today - TIMESLOT_HORIZON_DAYS;
    *hi = s->valid_to >= 0 ? s->valid_to : today + TIMESLOT_HORIZON_DAYS;
}

static bool day_listed(const cat_schedule *s, civil_date day)
{
    if ((s->valid_from >= 0 && day < s->valid_from) || (s->valid_to >= 0 && day > s->valid_to)) return false;
    return (s->weekdays & (1u << date_weekday(day))) && !schedule_closed_on(s, day);
}

/* Slots a day of the schedule has (1 for a whole-day schedule). */
static int32_t slots_per_day(const cat_schedule *s)
{
    if (s->slot_seconds <= 0) return 1;
    return s->close > s->open ? (s->close - s->open) / s->slot_seconds : 0;
}

/* The i-th slot of day. */
static void make_slot(const timeslot_group *g, civil_date day, int32_t i, bool listed, instant_us now, slot *s)
{
    const cat_schedule *sch = g->schedule;
    memset(s, 0, sizeof *s);
    s->day = day;
    s->available = -1;
    if (sch->slot_seconds <= 0) {
        s->time_from = s->time_to = -1;
        s->starts_at = tz_local_to_instant(g->timezone, day, 0);
        s->ends_at = tz_local_to_instant(g->timezone, day + 1, 0);
    } else {
        s->time_from = sch->open + i * sch->slot_seconds;
        s->time_to = s->time_from + sch->slot_seconds;
        s->starts_at = tz_local_to_instant(g->timezone, day, s->time_from);
        s->ends_at = tz_local_to_instant(g->timezone, day, s->time_to);
    }
    occurrence_key(day, s->time_from, s->key);
    s->open = listed && s->ends_at > now;
}

bool timeslot_at(const timeslot_group *g, const char *key, slot *out, bool *listed)
{
    char date[11];
    civil_date day;
    if (!key || strlen(key) < 10) return false;
    memcpy(date, key, 10);
    date[10] = 0;
    if (!date_parse(date, &day)) return false;
    const cat_schedule *sch = g->schedule;
    int32_t i = 0;
    if (sch->slot_seconds <= 0) {
        if (key[10]) return false;
    } else {
        int32_t t;
        if (key[10] != 'T' || strlen(key) != 16 || !time_of_day_parse(key + 11, &t)) return false;
        if (t < sch->open || (t - sch->open) % sch->slot_seconds) return false;
        i = (t - sch->open) / sch->slot_seconds;
        if (i >= slots_per_day(sch)) return false;
    }
    *listed = day_listed(sch, day);
    make_slot(g, day, i, *listed, clock_now(), out);
    return !strcmp(out->key, key); /* the canonical spelling only: one id per slot */
}

size_t timeslots_walk(const timeslot_group *g, civil_date lo, civil_date hi, instant_us from, bool descending,
                      slot *out, size_t max)
{
    size_t n = 0;
    int32_t per_day = slots_per_day(g->schedule);
    if (max == 0 || per_day == 0 || lo > hi) return 0;
    instant_us now = clock_now();
    civil_date day = descending ? hi : lo;
    if (from) {
        civil_date at;
        int32_t secs;
        tz_instant_to_local(g->timezone, from, &at, &secs);
        /* a slot may start the evening before in another zone's reckoning: one day of slack */
        if (descending && at + 1 < day) day = at + 1;
        if (!descending && at - 1 > day) day = at - 1;
    }
    for (; descending ? day >= lo : day <= hi; day += descending ? -1 : 1) {
        if (!day_listed(g->schedule, day)) continue;
        for (int32_t k = 0; k < per_day; k++) {
            slot s;
            make_slot(g, day, descending ? per_day - 1 - k : k, true, now, &s);
            if (from && (descending ? s.starts_at > from : s.starts_at < from)) continue;
            out[n++] = s;
            if (n == max) return n;
        }
    }
    return n;
}

size_t timeslots_count(const timeslot_group *g, civil_date lo, civil_date hi)
{
    size_t n = 0, per_day = (size_t)slots_per_day(g->schedule);
    for (civil_date day = lo; day <= hi; day++) n += day_listed(g->schedule, day) ? per_day : 0;
    return n;
}

bo_status occurrence_counts_read(engine *e, const account *a, const char *const *keys, size_t n,
                                 occurrence_counts *out, bo_error *err)
{
    if (n > STORE_COUNTS_MAX_KEYS)
        return bo_fail(err, BO_INVALID, "too_many_occurrences", "occurrence_id", "at most %d occurrences at once",
                       STORE_COUNTS_MAX_KEYS);
    return bo_from_store(store_occurrence_counts_read(e->st, a->id, keys, n, out), err);
}

void occurrence_counts_free(occurrence_counts *c) { store_occurrence_counts_free(c); }
