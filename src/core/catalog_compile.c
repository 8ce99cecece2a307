/* Compiles one account's validated catalog documents into the typed model of
 * catalog_model.h, once per catalog version. This is the one place in the
 * engine that reads catalog JSON by key: a key misspelt here fails the unit
 * tests for the compiled catalog, not silently at request time. */
#include "core/catalog_compile.h"
#include "core/internal.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- arena: every struct and string of a model, freed at once ---- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    max_align_t data[];
} arena_chunk;

static void *arena_alloc(arena_chunk **head, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    arena_chunk *c = *head;
    if (!c || c->size - c->used < n) {
        size_t size = n > 16384 ? n : 16384;
        c = malloc(sizeof *c + size);
        c->next = *head;
        c->used = 0;
        c->size = size;
        *head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

static const char *arena_str(arena_chunk **head, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(head, n);
    memcpy(p, s, n);
    return p;
}

/* ---- index: open addressing over id strings ---- */

typedef struct {
    const char **keys;
    const void **values;
    size_t mask; /* capacity - 1; capacity a power of two, at most half full */
} id_index;

static uint64_t hash_id(const char *s, bool fold_case)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (fold_case && ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch - 'A' + 'a');
        h = (h ^ ch) * 1099511628211ULL;
    }
    return h;
}

static void index_init(arena_chunk **ar, id_index *ix, size_t n)
{
    size_t cap = 8;
    while (cap < n * 2) cap *= 2;
    ix->keys = arena_alloc(ar, cap * sizeof *ix->keys);
    ix->values = arena_alloc(ar, cap * sizeof *ix->values);
    ix->mask = cap - 1;
}

static void index_put(id_index *ix, const char *key, const void *value, bool fold_case)
{
    size_t i = hash_id(key, fold_case) & ix->mask;
    while (ix->keys[i]) {
        if (fold_case ? !strcasecmp(ix->keys[i], key) : !strcmp(ix->keys[i], key)) return; /* first wins */
        i = (i + 1) & ix->mask;
    }
    ix->keys[i] = key;
    ix->values[i] = value;
}

static const void *index_get(const id_index *ix, const char *key, bool fold_case)
{
    if (!key || !ix->keys) return NULL;
    for (size_t i = hash_id(key, fold_case) & ix->mask; ix->keys[i]; i = (i + 1) & ix->mask)
        if (fold_case ? !strcasecmp(ix->keys[i], key) : !strcmp(ix->keys[i], key)) return ix->values[i];
    return NULL;
}

struct catalog_model {
    arena_chunk *arena;
    id_index by_id[CAT__COUNT];
    id_index discount_codes;
};

/* ---- field readers (documents were validated when written) ---- */

static civil_date date_or_none(const json_t *o, const char *key)
{
    civil_date d;
    return jstr(o, key) && date_parse(jstr(o, key), &d) ? d : -1;
}

static int32_t time_or_none(const json_t *o, const char *key)
{
    int32_t t;
    return jstr(o, key) && time_of_day_parse(jstr(o, key), &t) ? t : -1;
}

static instant_us instant_or_zero(const json_t *o, const char *key)
{
    instant_us t;
    return jstr(o, key) && iso_parse(jstr(o, key), NULL, &t) ? t : 0;
}

static uint8_t weekday_mask(const json_t *arr)
{
    if (!json_is_array(arr)) return WEEKDAYS_ALL;
    uint8_t mask = 0;
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        json_int_t d = json_integer_value(x);
        if (d >= 0 && d <= 6) mask |= (uint8_t)(1u << d);
    }
    return mask;
}

static bool enum_is(const json_t *o, const char *key, const char *value)
{
    const char *s = jstr(o, key);
    return s && !strcmp(s, value);
}

static const char *const *string_list(arena_chunk **ar, const json_t *arr, size_t *n)
{
    *n = json_array_size(arr);
    if (!*n) return NULL;
    const char **out = arena_alloc(ar, *n * sizeof *out);
    for (size_t i = 0; i < *n; i++) out[i] = arena_str(ar, json_string_value(json_array_get(arr, i)));
    return out;
}

static int date_cmp(const void *x, const void *y)
{
    civil_date a = *(const civil_date *)x, b = *(const civil_date *)y;
    return (a > b) - (a < b);
}

/* ---- one compiler per kind ---- */

static void *compile_location(catalog_model *m, const json_t *doc)
{
    cat_location *l = arena_alloc(&m->arena, sizeof *l);
    l->id = arena_str(&m->arena, jstr(doc, "id"));
    l->timezone = arena_str(&m->arena, jstr(doc, "timezone"));
    return l;
}

static void *compile_schedule(catalog_model *m, const json_t *doc)
{
    cat_schedule *s = arena_alloc(&m->arena, sizeof *s);
    s->id = arena_str(&m->arena, jstr(doc, "id"));
    s->weekdays = weekday_mask(json_object_get(doc, "weekdays"));
    s->open = time_or_none(doc, "open");
    s->close = time_or_none(doc, "close");
    if (s->open < 0) s->open = 0;
    if (s->close < 0) s->close = SECS_PER_DAY;
    s->slot_seconds = (int32_t)jint(doc, "slot_minutes", 0) * 60;
    s->valid_from = date_or_none(doc, "valid_from");
    s->valid_to = date_or_none(doc, "valid_to");
    json_t *closed = json_object_get(doc, "closed_dates");
    size_t n = json_array_size(closed);
    civil_date *dates = n ? arena_alloc(&m->arena, n * sizeof *dates) : NULL;
    for (size_t i = 0; i < n; i++) {
        civil_date d;
        if (date_parse(json_string_value(json_array_get(closed, i)), &d)) dates[s->nclosed++] = d;
    }
    if (s->nclosed > 1) qsort(dates, s->nclosed, sizeof *dates, date_cmp);
    s->closed_dates = dates;
    return s;
}

static void *compile_pool(catalog_model *m, const json_t *doc)
{
    cat_pool *p = arena_alloc(&m->arena, sizeof *p);
    p->id = arena_str(&m->arena, jstr(doc, "id"));
    json_t *cap = json_object_get(doc, "capacity");
    p->capacity = json_is_integer(cap) ? json_integer_value(cap) : -1;
    p->per_total = enum_is(doc, "per", "total");
    return p;
}

static void *compile_category(catalog_model *m, const json_t *doc)
{
    static const char *flows[] = {"undated", "dated", "rtp", "date_change", "date_reservation"};
    cat_category *c = arena_alloc(&m->arena, sizeof *c);
    c->id = arena_str(&m->arena, jstr(doc, "id"));
    c->parent_id = arena_str(&m->arena, jstr(doc, "parent_id"));
    c->priority = jint(doc, "priority", 0);
    c->enabled = jbool(doc, "enabled", true);
    c->show_in_checkout = jbool(doc, "show_in_checkout", true);
    for (int f = 0; f < 5; f++)
        if (enum_is(doc, "flow", flows[f])) c->has_flow = true, c->flow = (cat_flow)f;
    c->schedule = model_schedule(m, jstr(doc, "schedule_id"));
    c->location = model_location(m, jstr(doc, "location_id"));
    return c;
}

static void *compile_event(catalog_model *m, const json_t *doc)
{
    cat_event *e = arena_alloc(&m->arena, sizeof *e);
    e->id = arena_str(&m->arena, jstr(doc, "id"));
    e->location = model_location(m, jstr(doc, "location_id"));
    e->category = model_category(m, jstr(doc, "category_id"));
    e->schedule = model_schedule(m, jstr(doc, "schedule_id"));
    e->status = enum_is(doc, "status", "cancelled") ? EVENT_CANCELLED
                : enum_is(doc, "status", "draft")   ? EVENT_DRAFT
                                                    : EVENT_PUBLISHED;
    json_t *occ = json_object_get(doc, "occurrences");
    e->noccurrences = json_array_size(occ);
    cat_occurrence *o = e->noccurrences ? arena_alloc(&m->arena, e->noccurrences * sizeof *o) : NULL;
    for (size_t i = 0; i < e->noccurrences; i++) {
        json_t *x = json_array_get(occ, i);
        o[i].id = arena_str(&m->arena, jstr(x, "id"));
        o[i].start_text = arena_str(&m->arena, jstr(x, "start"));
        o[i].end_text = arena_str(&m->arena, jstr(x, "end"));
        o[i].cancelled = enum_is(x, "status", "cancelled");
    }
    e->occurrences = o;
    return e;
}

static cat_scan_options compile_scan(const json_t *scan)
{
    cat_scan_options s = {.limit = SCAN_LIMIT_ONCE, .times = 1, .max_scans = -1, .time_seconds = -1};
    if (enum_is(scan, "limit", "none")) s.limit = SCAN_LIMIT_NONE;
    if (enum_is(scan, "limit", "times_per_day")) s.limit = SCAN_LIMIT_TIMES_PER_DAY, s.times = jint(scan, "times", 1);
    s.max_scans = jint(scan, "max_scans", -1);
    s.validity_seconds = jint(scan, "validity_seconds", 0);
    s.time_seconds = jint(scan, "time_seconds", -1);
    s.allow_overtime = jbool(scan, "allow_overtime", false);
    s.in_out = jbool(scan, "in_out", false); /* pay-per-minute implies it too: see scan.c */
    return s;
}

static void *compile_product(catalog_model *m, const json_t *doc)
{
    arena_chunk **ar = &m->arena;
    cat_product *p = arena_alloc(ar, sizeof *p);
    p->id = arena_str(ar, jstr(doc, "id"));
    char *name = json_dumps(json_object_get(doc, "name"), JSON_COMPACT | JSON_ENCODE_ANY);
    p->name_json = arena_str(ar, name ? name : "null");
    free(name);
    p->kind = enum_is(doc, "kind", "addon") ? PRODUCT_ADDON : enum_is(doc, "kind", "bundle") ? PRODUCT_BUNDLE
                                                                                             : PRODUCT_TICKET;
    p->category_ids = string_list(ar, json_object_get(doc, "category_ids"), &p->ncategories);
    p->event_id = arena_str(ar, jstr(doc, "event_id"));
    p->event = model_event(m, p->event_id);
    p->enabled = jbool(doc, "enabled", true);
    p->dated = jbool(doc, "dated", false);
    p->priority = jint(doc, "priority", 0);
    p->min_per_order = jint(doc, "min_per_order", 0);
    p->max_per_order = jint(doc, "max_per_order", -1);
    p->show_from = date_or_none(doc, "show_from");
    p->show_to = date_or_none(doc, "show_to");
    p->valid_from = date_or_none(doc, "valid_from");
    p->valid_to = date_or_none(doc, "valid_to");
    p->price = jint(doc, "price", 0);
    p->gate_price = jint(doc, "gate_price", p->price);
    p->gate_price_set = json_is_integer(json_object_get(doc, "gate_price"));
    p->booking_fee = jint(doc, "booking_fee", 0);
    p->price_includes_tax = jbool(doc, "price_includes_tax", true);

    json_t *taxes = json_object_get(doc, "taxes");
    p->ntaxes = json_array_size(taxes);
    cat_tax *t = p->ntaxes ? arena_alloc(ar, p->ntaxes * sizeof *t) : NULL;
    for (size_t i = 0; i < p->ntaxes; i++) {
        json_t *x = json_array_get(taxes, i);
        t[i].type = arena_str(ar, jstr(x, "type") ? jstr(x, "type") : "VAT");
        t[i].rate_bp = (int32_t)jint(x, "rate_bp", 0);
        t[i].proportion_bp = (int32_t)jint(x, "proportion_bp", RATE_ONE);
    }
    p->taxes = t;

    json_t *prices = json_object_get(doc, "prices");
    p->nprices = json_array_size(prices);
    cat_price_rule *r = p->nprices ? arena_alloc(ar, p->nprices * sizeof *r) : NULL;
    for (size_t i = 0; i < p->nprices; i++) {
        json_t *x = json_array_get(prices, i);
        r[i].price = jint(x, "price", p->price);
        r[i].date_from = date_or_none(x, "date_from");
        r[i].date_to = date_or_none(x, "date_to");
        r[i].weekdays = weekday_mask(json_object_get(x, "weekdays"));
        r[i].time_from = time_or_none(x, "time_from");
        r[i].time_to = time_or_none(x, "time_to");
    }
    p->prices = r;

    json_t *pools = json_object_get(doc, "pools");
    size_t n = json_array_size(pools);
    cat_pool_use *u = n ? arena_alloc(ar, n * sizeof *u) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(pools, i);
        const cat_pool *pool = model_pool(m, jstr(x, "pool_id"));
        if (!pool || pool->capacity < 0) continue; /* unlimited: takes nothing */
        u[p->npools].pool = pool;
        u[p->npools++].amount = (int32_t)jint(x, "amount", 1);
    }
    p->pools = u;
    p->scan = compile_scan(json_object_get(doc, "scan"));
    p->barcode_format = arena_str(ar, jstr(doc, "barcode_format") ? jstr(doc, "barcode_format") : "code128");
    return p;
}

static void *compile_discount(catalog_model *m, const json_t *doc)
{
    cat_discount *d = arena_alloc(&m->arena, sizeof *d);
    d->id = arena_str(&m->arena, jstr(doc, "id"));
    d->code = arena_str(&m->arena, jstr(doc, "code"));
    d->name = arena_str(&m->arena, jstr(doc, "name") ? jstr(doc, "name") : jstr(doc, "code"));
    d->external_id = arena_str(&m->arena, jstr(doc, "external_id"));
    d->type = enum_is(doc, "type", "percentage") ? DISCOUNT_PERCENTAGE : DISCOUNT_FIXED;
    d->amount = jint(doc, "amount", 0);
    d->percent_bp = (int32_t)jint(doc, "percent_bp", 0);
    d->product_ids = string_list(&m->arena, json_object_get(doc, "product_ids"), &d->nproducts);
    d->expires_at = instant_or_zero(doc, "expires_at");
    d->max_redemptions = jint(doc, "max_redemptions", -1);
    if (d->code) index_put(&m->discount_codes, d->code, d, true);
    return d;
}

static void *compile_voucher(catalog_model *m, const json_t *doc)
{
    cat_voucher *v = arena_alloc(&m->arena, sizeof *v);
    v->id = arena_str(&m->arena, jstr(doc, "id"));
    v->name = arena_str(&m->arena, jstr(doc, "name"));
    v->value = jint(doc, "value", 0);
    v->expires_at = instant_or_zero(doc, "expires_at");
    v->partial_redemption = jbool(doc, "partial_redemption", true);
    return v;
}

/* In dependency order: a kind's references point at kinds compiled before it. */
static const struct {
    catalog_kind kind;
    void *(*compile)(catalog_model *m, const json_t *doc);
} compilers[] = {
    {CAT_LOCATION, compile_location}, {CAT_SCHEDULE, compile_schedule}, {CAT_POOL, compile_pool},
    {CAT_CATEGORY, compile_category}, {CAT_EVENT, compile_event},       {CAT_PRODUCT, compile_product},
    {CAT_DISCOUNT, compile_discount}, {CAT_VOUCHER, compile_voucher},
};

catalog_model *catalog_model_compile(json_t *const objects[CAT__COUNT])
{
    catalog_model *m = calloc(1, sizeof *m);
    index_init(&m->arena, &m->discount_codes, json_object_size(objects[CAT_DISCOUNT]));
    for (size_t c = 0; c < sizeof compilers / sizeof compilers[0]; c++) {
        catalog_kind k = compilers[c].kind;
        index_init(&m->arena, &m->by_id[k], json_object_size(objects[k]));
        const char *id;
        json_t *doc;
        json_object_foreach(objects[k], id, doc)
        {
            void *obj = compilers[c].compile(m, doc);
            index_put(&m->by_id[k], *(const char *const *)obj, obj, false); /* every struct starts with its id */
        }
    }
    return m;
}

void catalog_model_free(catalog_model *m)
{
    if (!m) return;
    for (arena_chunk *c = m->arena, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(m);
}

/* ---- lookups ---- */

#define LOOKUP(fn, type, kind)                                                                                     \
    const type *fn(const catalog_model *m, const char *id) { return m ? index_get(&m->by_id[kind], id, false) : NULL; }
LOOKUP(model_location, cat_location, CAT_LOCATION)
LOOKUP(model_category, cat_category, CAT_CATEGORY)
LOOKUP(model_schedule, cat_schedule, CAT_SCHEDULE)
LOOKUP(model_event, cat_event, CAT_EVENT)
LOOKUP(model_pool, cat_pool, CAT_POOL)
LOOKUP(model_product, cat_product, CAT_PRODUCT)
LOOKUP(model_voucher, cat_voucher, CAT_VOUCHER)
LOOKUP(model_discount, cat_discount, CAT_DISCOUNT)

const cat_discount *model_discount_by_code(const catalog_model *m, const char *code)
{
    return m ? index_get(&m->discount_codes, code, true) : NULL;
}

bool schedule_closed_on(const cat_schedule *s, civil_date day)
{
    return s->nclosed && bsearch(&day, s->closed_dates, s->nclosed, sizeof day, date_cmp) != NULL;
}

bool discount_applies_to(const cat_discount *d, const char *product_id)
{
    if (!d->nproducts) return true;
    for (size_t i = 0; i < d->nproducts; i++)
        if (!strcmp(d->product_ids[i], product_id)) return true;
    return false;
}

bool product_in_category(const cat_product *p, const char *category_id)
{
    for (size_t i = 0; i < p->ncategories; i++)
        if (!strcmp(p->category_ids[i], category_id)) return true;
    return false;
}
