/* Events and event series (docs/dialects/tickettailor.md). An event is one
 * occurrence: of an engine event (ev_<occurrence id>, in series es_<event
 * id>), or one timeslot of a timeslot group (engine.h): an event's schedule
 * (ev_<event id>@<key>, series es_<event id>) or a category's
 * (ev_cat:<category id>@<key>, series es_cat:<category id>). Lists are newest
 * start first; timeslots are generated from the schedule for the page alone. */
#include "api/tickettailor/tickettailor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATEGORY_GROUP_PREFIX "cat:"

typedef struct {
    char id[128];               /* the Ticket Tailor id without ev_ */
    instant_us start, end;
    const cat_event *event;     /* an engine event's own occurrence ... */
    const cat_occurrence *occurrence;
    bool timeslot;              /* ... or a timeslot of group */
    timeslot_group group;
    slot at;
} tt_event_ref;

/* The occurrence key of a ref: its own, never a pointer into a copy that moves. */
static const char *ref_key(const tt_event_ref *r) { return r->timeslot ? r->at.key : r->occurrence->id; }

/* The id of a group (its series id without es_). */
static void group_id(const timeslot_group *g, char *out, size_t len)
{
    if (g->event) snprintf(out, len, "%s", g->event->id);
    else snprintf(out, len, CATEGORY_GROUP_PREFIX "%s", g->category->id);
}

static void timeslot_ref(const timeslot_group *g, const slot *s, tt_event_ref *out)
{
    memset(out, 0, sizeof *out);
    char gid[64];
    group_id(g, gid, sizeof gid);
    snprintf(out->id, sizeof out->id, "%s@%s", gid, s->key);
    out->timeslot = true;
    out->group = *g;
    out->at = *s;
    out->start = s->starts_at;
    out->end = s->ends_at;
}

static bool occurrence_ref(const account *a, const cat_event *ev, const cat_occurrence *o, tt_event_ref *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", o->id);
    out->event = ev;
    out->occurrence = o;
    if (!iso_parse(o->start_text, a->timezone, &out->start)) return false;
    if (o->end_text) iso_parse(o->end_text, a->timezone, &out->end);
    return true;
}

/* Resolves an event id (without ev_): an engine event's occurrence first,
 * then a timeslot on a group's grid. *listed: whether lists show it. */
static bool ref_parse(const catalog_model *m, const account *a, const char *id, tt_event_ref *out, bool *listed)
{
    *listed = true;
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++) {
        const cat_event *ev = model_object_at(m, CAT_EVENT, i);
        for (size_t k = 0; k < ev->noccurrences; k++)
            if (!strcmp(ev->occurrences[k].id, id)) return occurrence_ref(a, ev, &ev->occurrences[k], out);
    }
    const char *at = strrchr(id, '@');
    if (!at) return false;
    char gid[128];
    snprintf(gid, sizeof gid, "%.*s", (int)(at - id), id);
    size_t plen = strlen(CATEGORY_GROUP_PREFIX);
    timeslot_group g;
    bool found = strncmp(gid, CATEGORY_GROUP_PREFIX, plen)
                     ? timeslot_group_find(m, a, CAT_EVENT, gid, &g)
                     : timeslot_group_find(m, a, CAT_CATEGORY, gid + plen, &g);
    slot s;
    if (!found || !timeslot_at(&g, at + 1, &s, listed)) return false;
    timeslot_ref(&g, &s, out);
    return true;
}

/* The day a timeslot id's reply depends on (its key's), -1 for any other id. */
static civil_date timeslot_day(const char *id)
{
    const char *at = id ? strrchr(id, '@') : NULL;
    char date[11];
    civil_date day;
    if (!at || strlen(at + 1) < 10) return -1;
    memcpy(date, at + 1, 10);
    date[10] = 0;
    return date_parse(date, &day) ? day : -1;
}

bool tt_event_slot(const catalog_model *m, const account *a, const char *event_id, const char *product_id,
                   const char **occurrence_id, civil_date *day, int32_t *start_time)
{
    tt_event_ref ref;
    bool listed;
    *occurrence_id = event_id;
    *day = -1;
    *start_time = -1;
    if (!ref_parse(m, a, event_id, &ref, &listed) || !ref.timeslot) return true; /* the engine judges the id */
    const cat_product *p = model_product(m, product_id);
    if (p && !timeslot_group_sells(m, a, &ref.group, p)) return false;
    *occurrence_id = NULL;
    *day = ref.at.day;
    *start_time = ref.at.time_from;
    return true;
}

/* The products a group sells, into ids[0..8); false when it sells more than
 * a filter can name. */
static bool group_products(const catalog_model *m, const account *a, const timeslot_group *g, const char *ids[8])
{
    size_t n = 0;
    for (size_t i = 0; i < model_count(m, CAT_PRODUCT); i++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
        if (!timeslot_group_sells(m, a, g, p)) continue;
        if (n == 8) return false;
        ids[n++] = p->id;
    }
    return true;
}

bool tt_event_filter(const catalog_model *m, const account *a, const char *event_id, const char *series_id,
                     tt_ticket_scope *out)
{
    memset(out, 0, sizeof *out);
    size_t plen = strlen(CATEGORY_GROUP_PREFIX);
    timeslot_group g;
    if (series_id) {
        if (strncmp(series_id, CATEGORY_GROUP_PREFIX, plen) ||
            !timeslot_group_find(m, a, CAT_CATEGORY, series_id + plen, &g)) {
            out->event_id = series_id;
            return true;
        }
        return group_products(m, a, &g, out->product_ids);
    }
    tt_event_ref ref;
    bool listed;
    out->occurrence = event_id; /* an id that names nothing matches no ticket's occurrence */
    if (!ref_parse(m, a, event_id, &ref, &listed)) return true;
    if (!ref.timeslot) return true;
    out->occurrence = strrchr(event_id, '@') + 1; /* a timeslot's id ends in its key as spelt */
    if (ref.group.event) { /* the event names its tickets; its products narrow a ticket list too when few */
        out->event_id = ref.group.event->id;
        if (!group_products(m, a, &ref.group, out->product_ids)) memset(out->product_ids, 0, sizeof out->product_ids);
        return true;
    }
    return group_products(m, a, &ref.group, out->product_ids);
}

json_t *tt_ticket_event_id(const catalog_model *m, const account *a, const char *product_id, const char *occurrence)
{
    if (!occurrence || !*occurrence) return json_null();
    timeslot_group g;
    slot s;
    bool listed;
    const cat_product *p = m && product_id ? model_product(m, product_id) : NULL;
    if (p && timeslot_group_for_product(m, a, p, &g) && timeslot_at(&g, occurrence, &s, &listed)) {
        tt_event_ref ref;
        timeslot_ref(&g, &s, &ref);
        return tt_id("ev_", ref.id);
    }
    return tt_id("ev_", occurrence);
}

/* The status of a group's series: its event's, or published while its category is enabled. */
static const char *group_status(const timeslot_group *g, const json_t *event_doc)
{
    if (g->event) return json_string_value(json_object_get(event_doc, "status"));
    return g->category->enabled ? "published" : "draft";
}

/* What the series says of itself, as an engine event's document does
 * (name, description, status): a category's translated texts in English. */
static json_t *category_series_doc(const catalog_model *m, const cat_category *c)
{
    const json_t *doc = model_decoded(m, CAT_CATEGORY, c->id);
    json_t *desc = json_object_get(doc, "description");
    char id[64];
    snprintf(id, sizeof id, CATEGORY_GROUP_PREFIX "%s", c->id);
    return json_pack("{s:s,s:s,s:o,s:s}", "id", id, "name", api_text(json_object_get(doc, "name")), "description",
                     json_is_object(desc) ? json_string(api_text(desc)) : json_null(), "status",
                     c->enabled ? "published" : "draft");
}

/* The document a ref's series is described by (a new reference). */
static json_t *series_doc_of(const catalog_model *m, const tt_event_ref *ref)
{
    if (ref->timeslot && ref->group.category) return category_series_doc(m, ref->group.category);
    const cat_event *ev = ref->timeslot ? ref->group.event : ref->event;
    return json_incref((json_t *)model_decoded(m, CAT_EVENT, ev->id));
}

/* What an event (one occurrence) and its event series say alike. */
static json_t *event_common(const account *a, const json_t *series, const char *object, json_t *id)
{
    const char *status = json_string_value(json_object_get(series, "status"));
    char cur[4] = {(char)(a->currency[0] | 0x20), (char)(a->currency[1] | 0x20), (char)(a->currency[2] | 0x20), 0};
    json_t *x = json_object();
    json_object_set_new(x, "object", json_string(object));
    json_object_set_new(x, "id", id);
    json_object_set_new(x, "access_code", json_null());
    json_object_set_new(x, "call_to_action", json_string("Buy tickets"));
    json_object_set_new(x, "created_at", json_null());
    json_object_set_new(x, "currency", json_string(cur));
    json_object_set(x, "description", json_object_get(series, "description") ?: json_null());
    json_object_set_new(x, "images", json_pack("{s:n,s:n}", "header", "thumbnail"));
    json_object_set(x, "name", json_object_get(series, "name") ?: json_null());
    json_object_set_new(x, "online_event", json_string("false"));
    json_object_set_new(x, "private", json_string("false"));
    json_object_set_new(x, "status", json_string(status ? status : "published"));
    json_object_set_new(x, "timezone", json_string(a->timezone));
    json_object_set_new(x, "url", json_null());
    json_object_set_new(x, "venue", json_pack("{s:n,s:n}", "name", "postal_code"));
    return x;
}

static bool ref_sells(const catalog_model *m, const account *a, const tt_event_ref *ref, const cat_product *p)
{
    if (ref->timeslot) return timeslot_group_sells(m, a, &ref->group, p);
    return p->event == ref->event;
}

/* What a page of events reads once for all of its events: the live counts of
 * their occurrences (one store read) and what is left of each product there
 * (one availability call per product and group over the page's days). */
typedef struct {
    occurrence_counts counts;
    json_t *available; /* "product\tkey" -> remaining (absent: unlimited) */
} page_facts;

static const char *category_hint(const tt_event_ref *ref)
{
    return ref->timeslot && ref->group.category ? ref->group.category->id : NULL;
}

static void availability_key(char *out, size_t len, const char *product_id, const char *key)
{
    snprintf(out, len, "%s\t%s", product_id, key);
}

/* Whether r's availability of p is read with category hint `hint` (one read serves them all). */
static bool same_read(const catalog_model *m, const account *a, const tt_event_ref *r, const cat_product *p,
                      const char *hint)
{
    const char *other = category_hint(r);
    return ref_sells(m, a, r, p) && (hint ? other && !strcmp(hint, other) : !other);
}

/* The day r starts on in its venue's zone. */
static civil_date ref_day(const account *a, const tt_event_ref *r)
{
    civil_date d;
    int32_t secs;
    tz_instant_to_local(r->timeslot ? r->group.timezone : a->timezone, r->start, &d, &secs);
    return d;
}

/* What is left of product on days [from, to), into available; false when unreadable. */
static bool remember_available(engine *e, const account *a, const char *product_id, const char *category_hint,
                               civil_date from, civil_date to, json_t *available)
{
    slot *slots = NULL;
    size_t ns = 0;
    bo_error err = {0};
    if (availability_product(e, a, product_id, category_hint, from, to, &slots, &ns, &err) != BO_OK) return false;
    for (size_t s = 0; s < ns; s++) {
        if (slots[s].available < 0) continue;
        char k[160];
        availability_key(k, sizeof k, product_id, slots[s].key);
        json_object_set_new(available, k, json_integer(slots[s].available));
    }
    free(slots);
    return true;
}

static bool page_facts_read(engine *e, const account *a, const catalog_model *m, const tt_event_ref *refs, size_t n,
                            page_facts *f)
{
    memset(f, 0, sizeof *f);
    f->available = json_object();
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    size_t nkeys = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        for (k = 0; k < nkeys && strcmp(keys[k], ref_key(&refs[i])); k++) {}
        if (k == nkeys) keys[nkeys++] = ref_key(&refs[i]);
    }
    bo_error err = {0};
    bool ok = occurrence_counts_read(e, a, keys, nkeys, &f->counts, &err) == BO_OK;
    free(keys);
    /* per (product, category hint): one availability call spanning its events' days */
    json_t *done = json_object();
    for (size_t pi = 0; ok && pi < model_count(m, CAT_PRODUCT); pi++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, pi);
        for (size_t i = 0; i < n; i++) {
            if (!ref_sells(m, a, &refs[i], p)) continue;
            const char *hint = category_hint(&refs[i]);
            char pair[120];
            snprintf(pair, sizeof pair, "%s\t%s", p->id, hint ? hint : "");
            if (json_object_get(done, pair)) continue;
            json_object_set_new(done, pair, json_true());
            civil_date lo = -1, hi = -1;
            for (size_t j = i; j < n; j++) {
                if (!same_read(m, a, &refs[j], p, hint)) continue;
                civil_date d = ref_day(a, &refs[j]);
                if (lo < 0 || d < lo) lo = d;
                if (d > hi) hi = d;
            }
            /* a day either side: an occurrence's day in the venue's zone may differ from the account's */
            if (!remember_available(e, a, p->id, hint, lo - 1, hi + 2, f->available))
                /* too many slots between (a filter left most of them out): each event's days alone */
                for (size_t j = i; j < n; j++)
                    if (same_read(m, a, &refs[j], p, hint))
                        remember_available(e, a, p->id, hint, ref_day(a, &refs[j]) - 1, ref_day(a, &refs[j]) + 2,
                                           f->available);
        }
    }
    json_decref(done);
    return ok;
}

static void page_facts_free(page_facts *f)
{
    occurrence_counts_free(&f->counts);
    json_decref(f->available);
}

static json_t *event_json(engine *e, const account *a, const catalog_model *m, const tt_event_ref *ref,
                          const page_facts *f)
{
    json_t *types = json_array();
    int64_t total_available = 0, holds = 0, issued = 0;
    bool any_limited = false;
    const cat_product **shown = calloc(model_count(m, CAT_PRODUCT) + 1, sizeof *shown);
    size_t nshown = 0;
    for (size_t pi = 0; pi < model_count(m, CAT_PRODUCT); pi++) {
        const cat_product *typed = model_object_at(m, CAT_PRODUCT, pi);
        if (!ref_sells(m, a, ref, typed)) continue;
        shown[nshown++] = typed;
        const json_t *p = model_decoded_at(m, CAT_PRODUCT, pi);
        char k[160];
        availability_key(k, sizeof k, typed->id, ref_key(ref));
        json_t *left = json_object_get(f->available, k);
        int64_t held = 0, live = 0;
        for (size_t c = 0; c < f->counts.nproducts; c++) {
            const store_product_count *pc = &f->counts.products[c];
            if (!strcmp(pc->occurrence, ref_key(ref)) && !strcmp(pc->product_id, typed->id)) {
                held = pc->held;
                live = pc->issued;
            }
        }
        holds += held;
        issued += live;
        if (left) {
            any_limited = true;
            total_available += json_integer_value(left);
        }
        json_t *desc = json_object_get(json_object_get(p, "description"), "en");
        /* as ticket_issue resolves this event: a timeslot by day and time, an occurrence by id */
        money price = ref->timeslot ? api_listed_price(e, a, typed, NULL, ref->at.day, ref->at.time_from)
                                    : api_listed_price(e, a, typed, ref_key(ref), -1, -1);
        json_t *type = json_pack(
            "{s:s,s:o,s:n,s:I,s:O?,s:n,s:o,s:I,s:O?,s:I,s:s,s:I,s:s}", "object", "ticket_type", "id",
            tt_id("tt_", typed->id), "access_code", "booking_fee", (json_int_t)typed->booking_fee, "description", desc,
            "group_id", "max_per_order", typed->max_per_order >= 0 ? json_integer(typed->max_per_order) : json_null(),
            "min_per_order", (json_int_t)typed->min_per_order, "name", json_object_get(json_object_get(p, "name"), "en"),
            "price", (json_int_t)price, "status", typed->enabled ? "on_sale" : "hidden", "sort_order",
            (json_int_t)typed->priority, "type", price > 0 ? "paid" : "free");
        /* remaining, held, issued; the total is all three (the doc's example: 10000 + 0 + 5000 = 15000) */
        json_object_set_new(type, "group_id", tt_group_id(typed));
        json_object_set_new(type, "quantity", left ? json_incref(left) : json_null());
        json_object_set_new(type, "quantity_held", json_integer(held));
        json_object_set_new(type, "quantity_issued", json_integer(live));
        json_object_set_new(type, "quantity_total",
                            left ? json_integer(json_integer_value(left) + held + live) : json_null());
        json_array_append_new(types, type);
    }
    /* orders with a live ticket of this event's products at its occurrence, each once */
    json_t *orders = json_object();
    for (size_t i = 0; i < f->counts.norders; i++) {
        const store_order_presence *o = &f->counts.orders[i];
        if (strcmp(o->occurrence, ref_key(ref))) continue;
        const cat_product *p = model_product(m, o->product_id);
        if (p && ref_sells(m, a, ref, p)) json_object_set_new(orders, o->order_id, json_true());
    }
    size_t norders = json_object_size(orders);
    json_decref(orders);
    json_t *series = series_doc_of(m, ref);
    json_t *x = event_common(a, series, "event", tt_id("ev_", ref->id));
    json_decref(series);
    char gid[64];
    if (ref->timeslot) group_id(&ref->group, gid, sizeof gid);
    json_object_set_new(x, "event_series_id", tt_id("es_", ref->timeslot ? gid : ref->event->id));
    json_object_set_new(x, "end", ref->end ? tt_date(a, ref->end) : json_null());
    json_object_set_new(x, "hidden", json_string("false"));
    /* an engine event's (or its schedule's) own; a category's slots offer every enabled method */
    const cat_event *event = ref->timeslot ? ref->group.event : ref->event;
    json_object_set_new(x, "payment_methods", tt_payment_methods(m, event));
    json_object_set_new(x, "start", tt_date(a, ref->start));
    json_object_set_new(x, "ticket_groups", tt_ticket_groups(m, event ? event->id : NULL, shown, nshown));
    free(shown);
    json_object_set_new(x, "ticket_types", types);
    bool available = (!any_limited || total_available > 0) && (!ref->timeslot || ref->at.open);
    json_object_set_new(x, "tickets_available", json_string(available ? "true" : "false"));
    json_object_set_new(x, "total_holds", json_integer(holds));
    json_object_set_new(x, "total_issued_tickets", json_integer(issued));
    json_object_set_new(x, "total_orders", json_integer((json_int_t)norders));
    json_object_set_new(x, "unavailable", json_string(available ? "false" : "true"));
    json_object_set_new(x, "unavailable_status", available ? json_null() : json_string("sold_out"));
    return x;
}

/* ---- the list: a keyset page over (start, id), newest first ---- */

/* Whether x comes after the position (start, id) in the walk's direction. */
static bool beyond(const tt_event_ref *x, instant_us start, const char *id, bool descending)
{
    if (x->start != start) return descending ? x->start < start : x->start > start;
    int c = strcmp(x->id, id);
    return descending ? c < 0 : c > 0;
}

static int newest_first(const void *x, const void *y)
{
    const tt_event_ref *a = x, *b = y;
    if (a->start != b->start) return a->start < b->start ? 1 : -1;
    return -strcmp(a->id, b->id);
}

static int oldest_first(const void *x, const void *y) { return -newest_first(x, y); }

typedef struct {
    const char *statuses;     /* the status filter, NULL for any */
    instant_us start[5], end[5];
    bool descending;
    bool positioned;          /* a cursor gave the position below */
    instant_us pos_start;
    const char *pos_id;
    size_t want;              /* limit + 1: one more says whether another page follows */
} page_query;

static bool status_wanted(const page_query *q, const char *status)
{
    return !q->statuses || strstr(q->statuses, status ? status : "published");
}

static bool ref_wanted(const page_query *q, const tt_event_ref *r)
{
    if (!tt_in_range(r->start, q->start) || (r->end && !tt_in_range(r->end, q->end))) return false;
    return !q->positioned || beyond(r, q->pos_start, q->pos_id, q->descending);
}

typedef struct {
    tt_event_ref *refs;
    size_t n, cap;
} ref_list;

static void ref_push(ref_list *l, const tt_event_ref *r)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 128;
        tt_event_ref *grown = realloc(l->refs, l->cap * sizeof *grown);
        if (!grown) abort();
        l->refs = grown;
    }
    l->refs[l->n++] = *r;
}

/* The start_at filter as a window of days in zone tz (a day of slack each side). */
static void narrow_days(const page_query *q, const char *tz, civil_date *lo, civil_date *hi)
{
    const instant_us *v = q->start; /* eq, gt, gte, lt, lte in unix seconds; -1 absent */
    int64_t min = -1, max = -1;
    if (v[0] >= 0) min = max = v[0];
    if (v[1] >= 0 && (min < 0 || v[1] + 1 > min)) min = v[1] + 1;
    if (v[2] >= 0 && (min < 0 || v[2] > min)) min = v[2];
    if (v[3] >= 0 && (max < 0 || v[3] - 1 < max)) max = v[3] - 1;
    if (v[4] >= 0 && (max < 0 || v[4] < max)) max = v[4];
    civil_date d;
    int32_t secs;
    if (min >= 0) {
        tz_instant_to_local(tz, min * US_PER_SEC, &d, &secs);
        if (d - 1 > *lo) *lo = d - 1;
    }
    if (max >= 0) {
        tz_instant_to_local(tz, max * US_PER_SEC, &d, &secs);
        if (d + 1 < *hi) *hi = d + 1;
    }
}

/* The first q->want wanted slots of g beyond the position, from the schedule. */
static void group_candidates(const timeslot_group *g, const page_query *q, ref_list *out)
{
    civil_date lo, hi;
    timeslot_window(g, &lo, &hi);
    narrow_days(q, g->timezone, &lo, &hi);
    size_t chunk = q->want + 1, found = 0;
    slot *slots = calloc(chunk, sizeof *slots);
    instant_us from = q->positioned ? q->pos_start : 0;
    for (;;) {
        size_t n = timeslots_walk(g, lo, hi, from, q->descending, slots, chunk);
        for (size_t i = 0; i < n && found < q->want; i++) {
            tt_event_ref r;
            timeslot_ref(g, &slots[i], &r);
            if (ref_wanted(q, &r)) {
                ref_push(out, &r);
                found++;
            }
        }
        if (n < chunk || found >= q->want) break;
        /* the next chunk begins just past this one's last slot (a group's slots never share a start) */
        from = slots[n - 1].starts_at + (q->descending ? -1 : 1);
    }
    free(slots);
}

/* Candidates of every source beyond the position, sorted in the walk's
 * direction: at most want from each, so the first want are the page's. */
static void page_candidates(const catalog_model *m, const account *a, const page_query *q, ref_list *out)
{
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++) {
        const cat_event *ev = model_object_at(m, CAT_EVENT, i);
        const json_t *doc = model_decoded_at(m, CAT_EVENT, i);
        if (!status_wanted(q, json_string_value(json_object_get(doc, "status")))) continue;
        for (size_t k = 0; k < ev->noccurrences; k++) {
            tt_event_ref r;
            if (occurrence_ref(a, ev, &ev->occurrences[k], &r) && ref_wanted(q, &r)) ref_push(out, &r);
        }
    }
    timeslot_group *groups;
    size_t ng = timeslot_groups(m, a, &groups);
    for (size_t i = 0; i < ng; i++)
        if (status_wanted(q, group_status(&groups[i], groups[i].event ? model_decoded(m, CAT_EVENT, groups[i].event->id)
                                                                         : NULL)))
            group_candidates(&groups[i], q, out);
    free(groups);
    if (out->n > 1) qsort(out->refs, out->n, sizeof *out->refs, q->descending ? newest_first : oldest_first);
}

void tt_events_list(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    int limit;
    const char *after, *before;
    if (!tt_page_args(r, "ev_", &limit, &after, &before)) return;
    page_query q = {.statuses = http_query(r, "status"), .descending = before == NULL, .want = (size_t)limit + 1};
    if (!tt_range_args(r, "start_at", q.start) || !tt_range_args(r, "end_at", q.end)) return;
    if (api_reply_cached_priced(r, app_, -1, -1)) return; /* events show what is left of every day */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    const char *cursor = before ? before : after;
    if (cursor) {
        tt_event_ref at;
        bool listed;
        if (!ref_parse(m, a, cursor, &at, &listed)) {
            catalog_view_close(catalog);
            /* a well-formed id that names nothing: 422, as every other list's cursor */
            return tt_cursor_unknown(r, cursor, before != NULL);
        }
        q.positioned = true;
        q.pos_start = at.start;
        q.pos_id = cursor;
    }
    ref_list found = {0};
    page_candidates(m, a, &q, &found);
    bool more = found.n > (size_t)limit;
    size_t n = more ? (size_t)limit : found.n;
    if (!q.descending) /* read oldest first to stay next to the cursor; served newest first */
        for (size_t i = 0; i < n / 2; i++) {
            tt_event_ref tmp = found.refs[i];
            found.refs[i] = found.refs[n - 1 - i];
            found.refs[n - 1 - i] = tmp;
        }
    page_facts facts;
    bool ok = page_facts_read(e, a, m, found.refs, n, &facts);
    json_t *data = json_array();
    for (size_t i = 0; ok && i < n; i++) json_array_append_new(data, event_json(e, a, m, &found.refs[i], &facts));
    page_facts_free(&facts);
    free(found.refs);
    catalog_view_close(catalog);
    if (!ok) {
        json_decref(data);
        return tt_error(r, 500, NULL, "storage failure; try again");
    }
    http_reply_json(r, 200, tt_page(r, "/v1/events", data, more, after != NULL, before != NULL));
}

void tt_event_get(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    const char *id = tt_unprefix(r, http_path_param(r, "event_id"), "ev_");
    civil_date day = timeslot_day(id);
    /* a timeslot's totals move only with its own day's inventory */
    if (api_reply_cached_priced(r, app_, day, day < 0 ? -1 : day + 1)) return;
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    tt_event_ref ref;
    bool listed = false, ok = true;
    json_t *found = NULL;
    if (id && ref_parse(m, a, id, &ref, &listed)) {
        page_facts facts;
        ok = page_facts_read(e, a, m, &ref, 1, &facts);
        /* a slot the schedule no longer opens stays readable while it has tickets or holds */
        bool used = facts.counts.nproducts > 0;
        if (ok && (listed || used)) found = event_json(e, a, m, &ref, &facts);
        page_facts_free(&facts);
    }
    catalog_view_close(catalog);
    if (!ok) return tt_error(r, 500, NULL, "storage failure; try again");
    if (!found) return tt_error(r, 404, NULL, "The requested resource does not exist.");
    http_reply_json(r, 200, found);
}

/* ---- event series: one per engine event, one per category timeslot group ---- */

/* The series' document with its total_occurrences: the engine event's own
 * occurrences, or the slots its group lists. A new reference. */
static json_t *series_doc(const json_t *doc, const timeslot_group *g)
{
    json_t *x = json_copy((json_t *)doc);
    size_t total = json_array_size(json_object_get(doc, "occurrences"));
    if (g) {
        civil_date lo, hi;
        timeslot_window(g, &lo, &hi);
        total = timeslots_count(g, lo, hi);
    }
    json_object_set_new(x, "total_occurrences", json_integer((json_int_t)total));
    return x;
}

static json_t *series_json(engine *e, const account *a, json_t *doc)
{
    (void)e;
    json_t *x = event_common(a, doc, "event_series", tt_id("es_", json_string_value(json_object_get(doc, "id"))));
    json_object_set(x, "total_occurrences", json_object_get(doc, "total_occurrences"));
    return x;
}

/* Every series, oldest first as tt_reply_catalog_page takes them: the engine
 * events in catalog order, then the category groups (so they are served
 * first, and an event deleted since keeps its place among the events). */
static json_t *series_oldest_first(const catalog_model *m, const account *a)
{
    json_t *all = json_array();
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++) {
        timeslot_group g;
        const cat_event *ev = model_object_at(m, CAT_EVENT, i);
        bool timed = timeslot_group_find(m, a, CAT_EVENT, ev->id, &g);
        json_array_append_new(all, series_doc(model_decoded_at(m, CAT_EVENT, i), timed ? &g : NULL));
    }
    timeslot_group *groups;
    size_t ng = timeslot_groups(m, a, &groups);
    for (size_t i = 0; i < ng; i++) {
        if (!groups[i].category) continue;
        json_t *doc = category_series_doc(m, groups[i].category);
        json_array_append_new(all, series_doc(doc, &groups[i]));
        json_decref(doc);
    }
    free(groups);
    return all;
}

void tt_event_series_list(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    json_t *all = series_oldest_first(catalog_view_model(catalog), a);
    tt_reply_catalog_page(r, e, CAT_EVENT, all, "/v1/event_series", "es_", series_json);
    json_decref(all);
    catalog_view_close(catalog);
}

void tt_event_series_get(http_request *r, void *app_)
{
    engine *e = tt_engine(app_);
    const account *a = api_account(r);
    const char *id = tt_unprefix(r, http_path_param(r, "event_series_id"), "es_");
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return tt_error(r, 500, NULL, "catalog unavailable");
    const catalog_model *m = catalog_view_model(catalog);
    size_t plen = strlen(CATEGORY_GROUP_PREFIX);
    timeslot_group g;
    json_t *doc = NULL;
    if (id && !strncmp(id, CATEGORY_GROUP_PREFIX, plen) && timeslot_group_find(m, a, CAT_CATEGORY, id + plen, &g)) {
        json_t *texts = category_series_doc(m, g.category);
        doc = series_doc(texts, &g);
        json_decref(texts);
    } else if (id && model_event(m, id)) {
        bool timed = timeslot_group_find(m, a, CAT_EVENT, id, &g);
        doc = series_doc(model_decoded(m, CAT_EVENT, id), timed ? &g : NULL);
    }
    json_t *x = doc ? series_json(e, a, doc) : NULL;
    json_decref(doc);
    catalog_view_close(catalog);
    if (!x) return tt_error(r, 404, NULL, "The requested resource does not exist.");
    http_reply_json(r, 200, x);
}

json_t *tt_order_event_summary(const catalog_model *m, const account *a, const char *product_id, const char *occurrence)
{
    json_t *id = tt_ticket_event_id(m, a, product_id, occurrence);
    tt_event_ref ref;
    bool listed;
    json_t *summary = json_null();
    if (json_is_string(id) && ref_parse(m, a, json_string_value(id) + 3, &ref, &listed)) {
        json_t *series = series_doc_of(m, &ref);
        summary = json_pack("{s:O,s:o,s:O?,s:o}", "id", id, "end_date", ref.end ? tt_date(a, ref.end) : json_null(),
                            "name", json_object_get(series, "name"), "start_date", tt_date(a, ref.start));
        json_decref(series);
    }
    json_decref(id);
    return summary;
}
