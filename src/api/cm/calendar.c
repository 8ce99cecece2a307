/* The calendar (no path in the doc; docs/dialects/cm.md):
 *   GET /events/{event_uuid}/calendar/{year}/{month}        one entry per day
 *   GET /events/{event_uuid}/calendar/{year}/{month}/{day}  one entry per timeslot
 * and the same under /timeslots/. A calendar event is one sold per day or
 * slot of its schedule; its ticket types are the event's products, whose
 * slots and seats left the engine computes. */
#include "api/cm/cm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "7" or "07" within [lo, hi]; -1 otherwise. */
static int small_number(const char *text, size_t max_digits, int lo, int hi)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > max_digits) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

/* The slots of every ticket type of the event in [from, to), merged by slot
 * key: per slot the most seats any type has left (types sharing a pool see
 * the same seats; -1 when one is unlimited) and the types on sale there. */
typedef struct {
    slot at;
    int64_t stock;
    const cat_product *types[32];
    size_t ntypes;
} cal_slot;

static int by_start(const void *x, const void *y)
{
    const cal_slot *a = x, *b = y;
    if (a->at.starts_at != b->at.starts_at) return a->at.starts_at < b->at.starts_at ? -1 : 1;
    return strcmp(a->at.key, b->at.key);
}

static bo_status calendar_slots(engine *e, const account *a, const catalog_model *m, const cm_event *ce,
                                civil_date from, civil_date to, cal_slot **out, size_t *n, bo_error *err)
{
    cal_slot *all = NULL;
    size_t count = 0;
    for (size_t i = 0; i < model_count(m, CAT_PRODUCT); i++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
        if (!p->event_id || strcmp(p->event_id, ce->event->id) || p->kind != PRODUCT_TICKET || !p->enabled) continue;
        slot *slots = NULL;
        size_t ns = 0;
        bo_status st = availability_product(e, a, p->id, NULL, from, to, &slots, &ns, err);
        if (st != BO_OK) {
            free(all);
            return st;
        }
        for (size_t k = 0; k < ns; k++) {
            size_t j;
            for (j = 0; j < count && strcmp(all[j].at.key, slots[k].key); j++) {}
            if (j == count) {
                all = realloc(all, (count + 1) * sizeof *all);
                all[count++] = (cal_slot){.at = slots[k], .stock = 0};
            }
            cal_slot *c = &all[j];
            bool selling = slots[k].open && slots[k].available != 0;
            if (!selling) continue;
            c->at.open = true;
            if (c->stock >= 0) c->stock = slots[k].available < 0 ? -1 : c->stock > slots[k].available ? c->stock
                                                                                                        : slots[k].available;
            if (c->ntypes < sizeof c->types / sizeof c->types[0]) c->types[c->ntypes++] = p;
        }
        free(slots);
    }
    for (size_t j = 0; j < count; j++)
        if (!all[j].ntypes) all[j].at.open = false, all[j].stock = 0;
    if (count > 1) qsort(all, count, sizeof *all, by_start);
    *out = all;
    *n = count;
    return BO_OK;
}

static json_t *stock_json(int64_t stock) { return stock < 0 ? json_null() : json_integer(stock); }

static void reply_month(http_request *r, const cm_event *ce, const char *tz, civil_date first, civil_date next,
                        const cal_slot *slots, size_t n)
{
    json_t *days = json_array();
    for (civil_date d = first; d < next; d++) {
        int64_t stock = 0;
        for (size_t i = 0; i < n; i++)
            if (slots[i].at.day == d && slots[i].at.open)
                stock = stock < 0 || slots[i].stock < 0 ? -1 : stock + slots[i].stock;
        char id[11];
        date_format(d, id);
        instant_us start = tz_local_to_instant(tz, d, 0), end = tz_local_to_instant(tz, d + 1, 0) - US_PER_SEC;
        json_array_append_new(days, json_pack("{s:s,s:o,s:o,s:s,s:o}", "id", id, "start_at", cm_time(start), "end_at",
                                              cm_time(end), "status_id", stock != 0 ? "OPEN" : "CLOSED", "stock",
                                              stock_json(stock)));
    }
    (void)ce;
    cm_reply(r, 200, days);
}

static void reply_day(http_request *r, const catalog_model *m, civil_date day, const cal_slot *slots, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const cal_slot *s = &slots[i];
        if (s->at.day != day) continue;
        json_t *types = json_array();
        for (size_t k = 0; k < s->ntypes; k++)
            json_array_append_new(types, json_pack("{s:s,s:o}", "uuid", s->types[k]->id, "name",
                                                   cm_texts(json_object_get(model_decoded(m, CAT_PRODUCT,
                                                                                          s->types[k]->id),
                                                                            "name"))));
        json_t *start = cm_time(s->at.starts_at);
        json_array_append_new(list, json_pack("{s:O,s:o,s:o,s:s,s:o,s:o}", "id", start, "start_at", start, "end_at",
                                              cm_time(s->at.ends_at), "status_id", s->at.open ? "OPEN" : "CLOSED",
                                              "stock", stock_json(s->at.open ? s->stock : 0), "ticket_types",
                                              types));
    }
    cm_reply(r, 200, list);
}

void cm_calendar_get(http_request *r, void *app_)
{
    engine *e = cm_engine(app_);
    const account *a = api_account(r);
    cm_event ce;
    catalog_view *v = cm_event_open(r, e, &ce);
    if (!v) return;
    const catalog_model *m = catalog_view_model(v);
    const char *day_text = http_path_param(r, "day");
    int y = small_number(http_path_param(r, "year"), 4, 1970, 9999);
    int mo = small_number(http_path_param(r, "month"), 2, 1, 12);
    int d = day_text ? small_number(day_text, 2, 1, 31) : 1;
    const char *bad = y < 0 ? "year" : mo < 0 ? "month" : d < 0 ? "day" : NULL;
    civil_date first = bad ? -1 : date_from_ymd(y, mo, d);
    int cy, cm_, cd;
    if (!bad) {
        date_to_ymd(first, &cy, &cm_, &cd);
        if (cd != d || cm_ != mo) bad = "day"; /* 31 April rolls over: no such day */
    }
    if (bad) {
        catalog_view_close(v);
        return cm_error(r, 400, "DATE_INVALID", bad, "no such date");
    }
    if (!ce.calendar) {
        catalog_view_close(v);
        return cm_error(r, 400, "CALENDAR_NOT_ENABLED", "event_uuid", "this event has no calendar");
    }
    civil_date next = day_text ? first + 1 : date_from_ymd(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1);
    cal_slot *slots = NULL;
    size_t n = 0;
    bo_error err = {0};
    if (calendar_slots(e, a, m, &ce, first, next, &slots, &n, &err) != BO_OK) {
        catalog_view_close(v);
        return cm_fail(r, &err);
    }
    if (day_text) reply_day(r, m, first, slots, n);
    else reply_month(r, &ce, cm_event_timezone(a, &ce), first, next, slots, n);
    free(slots);
    catalog_view_close(v);
}
