/* Compiles one stored catalog document into the typed model of
 * core/catalog_model.h, once per catalog version. This is the one place that
 * reads catalog JSON by key for the engine: a key misspelt here fails the unit
 * tests for the compiled catalog (tests/unit/test_catalog_model.c), not
 * silently at request time. */
#include "catalog_doc/catalog_doc.h"
#include "util/json_read.h"
#include <stdlib.h>
#include <string.h>

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

static const char *const *string_list(catalog_model *ar, const json_t *arr, size_t *n)
{
    *n = json_array_size(arr);
    if (!*n) return NULL;
    const char **out = model_alloc(ar, *n * sizeof *out);
    for (size_t i = 0; i < *n; i++) out[i] = model_strdup(ar, json_string_value(json_array_get(arr, i)));
    return out;
}

/* Every pools[].pool_id, limited pools or not. */
static const char *const *pool_id_list(catalog_model *ar, const json_t *pools, size_t *n)
{
    *n = 0;
    size_t count = json_array_size(pools);
    if (!count) return NULL;
    const char **out = model_alloc(ar, count * sizeof *out);
    for (size_t i = 0; i < count; i++) {
        const char *pool_id = jstr(json_array_get(pools, i), "pool_id");
        if (pool_id) out[(*n)++] = model_strdup(ar, pool_id);
    }
    return out;
}

/* ---- one compiler per kind ---- */

static void *compile_location(catalog_model *m, const json_t *doc)
{
    cat_location *l = model_alloc(m, sizeof *l);
    l->id = model_strdup(m, jstr(doc, "id"));
    l->timezone = model_strdup(m, jstr(doc, "timezone"));
    return l;
}

static void *compile_schedule(catalog_model *m, const json_t *doc)
{
    cat_schedule *s = model_alloc(m, sizeof *s);
    s->id = model_strdup(m, jstr(doc, "id"));
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
    civil_date *dates = n ? model_alloc(m, n * sizeof *dates) : NULL;
    for (size_t i = 0; i < n; i++) {
        civil_date d;
        if (date_parse(json_string_value(json_array_get(closed, i)), &d)) dates[s->nclosed++] = d;
    }
    model_sort_dates(dates, s->nclosed);
    s->closed_dates = dates;
    return s;
}

static void *compile_pool(catalog_model *m, const json_t *doc)
{
    cat_pool *p = model_alloc(m, sizeof *p);
    p->id = model_strdup(m, jstr(doc, "id"));
    json_t *cap = json_object_get(doc, "capacity");
    p->capacity = json_is_integer(cap) ? json_integer_value(cap) : -1;
    p->per_total = enum_is(doc, "per", "total");
    return p;
}

static void *compile_category(catalog_model *m, const json_t *doc)
{
    static const char *flows[] = {"undated", "dated", "rtp", "date_change", "date_reservation"};
    cat_category *c = model_alloc(m, sizeof *c);
    c->id = model_strdup(m, jstr(doc, "id"));
    c->parent_id = model_strdup(m, jstr(doc, "parent_id"));
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
    cat_event *e = model_alloc(m, sizeof *e);
    e->id = model_strdup(m, jstr(doc, "id"));
    e->location = model_location(m, jstr(doc, "location_id"));
    e->category = model_category(m, jstr(doc, "category_id"));
    e->schedule = model_schedule(m, jstr(doc, "schedule_id"));
    e->status = enum_is(doc, "status", "cancelled") ? EVENT_CANCELLED
                : enum_is(doc, "status", "draft")   ? EVENT_DRAFT
                                                    : EVENT_PUBLISHED;
    json_t *occ = json_object_get(doc, "occurrences");
    e->noccurrences = json_array_size(occ);
    cat_occurrence *o = e->noccurrences ? model_alloc(m, e->noccurrences * sizeof *o) : NULL;
    for (size_t i = 0; i < e->noccurrences; i++) {
        json_t *x = json_array_get(occ, i);
        o[i].id = model_strdup(m, jstr(x, "id"));
        o[i].start_text = model_strdup(m, jstr(x, "start"));
        o[i].end_text = model_strdup(m, jstr(x, "end"));
        o[i].cancelled = enum_is(x, "status", "cancelled");
    }
    e->occurrences = o;
    e->payment_method_ids = string_list(m, json_object_get(doc, "payment_method_ids"), &e->npayment_methods);
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

static const cat_tax *compile_taxes(catalog_model *ar, const json_t *taxes, size_t *n)
{
    *n = json_array_size(taxes);
    cat_tax *t = *n ? model_alloc(ar, *n * sizeof *t) : NULL;
    for (size_t i = 0; i < *n; i++) {
        json_t *x = json_array_get(taxes, i);
        t[i].type = model_strdup(ar, jstr(x, "type") ? jstr(x, "type") : "VAT");
        t[i].rate_bp = (int32_t)jint(x, "rate_bp", 0);
        t[i].proportion_bp = (int32_t)jint(x, "proportion_bp", RATE_ONE);
    }
    return t;
}

static const char *json_text(catalog_model *ar, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *copy = model_strdup(ar, text ? text : "null");
    free(text);
    return copy;
}

/* A product's options; one without taxes of its own is taxed as the product. */
static void compile_options(catalog_model *ar, cat_product *p, const json_t *options)
{
    p->noptions = json_array_size(options);
    cat_option *o = p->noptions ? model_alloc(ar, p->noptions * sizeof *o) : NULL;
    for (size_t i = 0; i < p->noptions; i++) {
        const json_t *x = json_array_get(options, i);
        o[i].id = model_strdup(ar, jstr(x, "id"));
        o[i].name_json = json_text(ar, json_object_get(x, "name"));
        o[i].price = jint(x, "price", 0);
        const json_t *taxes = json_object_get(x, "taxes");
        if (json_is_array(taxes)) o[i].taxes = compile_taxes(ar, taxes, &o[i].ntaxes);
        else {
            o[i].taxes = p->taxes;
            o[i].ntaxes = p->ntaxes;
        }
        o[i].max_quantity = jint(x, "max_quantity", -1);
    }
    p->options = o;
}

static void compile_apf_fields(catalog_model *ar, cat_product *p, const json_t *fields)
{
    static const char *const types[] = {[APF_TEXT] = "text",     [APF_EMAIL] = "email",
                                        [APF_PHONE] = "phone",   [APF_DATE] = "date",
                                        [APF_NUMBER] = "number", [APF_CHECKBOX] = "checkbox"};
    p->napf_fields = json_array_size(fields);
    cat_apf_field *f = p->napf_fields ? model_alloc(ar, p->napf_fields * sizeof *f) : NULL;
    for (size_t i = 0; i < p->napf_fields; i++) {
        const json_t *x = json_array_get(fields, i);
        f[i].id = model_strdup(ar, jstr(x, "id"));
        f[i].label_json = json_text(ar, json_object_get(x, "label"));
        f[i].required = jbool(x, "required", false);
        for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
            if (enum_is(x, "type", types[k])) f[i].type = (cat_apf_type)k;
    }
    p->apf_fields = f;
}

static const char *text_or_empty(catalog_model *ar, const json_t *o, const char *key)
{
    return model_strdup(ar, jstr(o, key) ? jstr(o, key) : "");
}

static void compile_tiers(catalog_model *ar, const json_t *doc, cat_product *p)
{
    json_t *tiers = json_object_get(doc, "price_tiers");
    p->ntiers = json_array_size(tiers);
    cat_price_tier *t = p->ntiers ? model_alloc(ar, p->ntiers * sizeof *t) : NULL;
    for (size_t i = 0; i < p->ntiers; i++) {
        json_t *x = json_array_get(tiers, i);
        t[i] = (cat_price_tier){.id = model_strdup(ar, jstr(x, "id")), .name = text_or_empty(ar, x, "name"),
                                .price = jint(x, "price", 0), .valid_until = instant_or_zero(x, "valid_until"),
                                .quantity = jint(x, "quantity", 0), .fee_amount = jint(x, "fee_amount", 0),
                                .fee_percent_bp = (int32_t)jint(x, "fee_percent_bp", -1),
                                .includes = text_or_empty(ar, x, "includes"),
                                .additional_info = text_or_empty(ar, x, "additional_info")};
    }
    p->tiers = t;
    json_t *supplements = json_object_get(doc, "supplements");
    p->nsupplements = json_array_size(supplements);
    cat_supplement *s = p->nsupplements ? model_alloc(ar, p->nsupplements * sizeof *s) : NULL;
    for (size_t i = 0; i < p->nsupplements; i++) {
        json_t *x = json_array_get(supplements, i);
        s[i] = (cat_supplement){.id = model_strdup(ar, jstr(x, "id")), .name = text_or_empty(ar, x, "name"),
                                .price = jint(x, "price", 0)};
    }
    p->supplements = s;
    json_t *w = json_object_get(doc, "warranty");
    p->warranty = (cat_warranty){.enabled = jbool(w, "enabled", false), .percent_bp = (int32_t)jint(w, "percent_bp", 0),
                                 .hours = jint(w, "hours", 0)};
}

static void *compile_product(catalog_model *m, const json_t *doc)
{
    catalog_model *ar = m;
    cat_product *p = model_alloc(ar, sizeof *p);
    p->id = model_strdup(ar, jstr(doc, "id"));
    char *name = json_dumps(json_object_get(doc, "name"), JSON_COMPACT | JSON_ENCODE_ANY);
    p->name_json = model_strdup(ar, name ? name : "null");
    free(name);
    p->kind = enum_is(doc, "kind", "addon") ? PRODUCT_ADDON : enum_is(doc, "kind", "bundle") ? PRODUCT_BUNDLE
                                                                                             : PRODUCT_TICKET;
    p->category_ids = string_list(ar, json_object_get(doc, "category_ids"), &p->ncategories);
    p->event_id = model_strdup(ar, jstr(doc, "event_id"));
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

    p->taxes = compile_taxes(ar, json_object_get(doc, "taxes"), &p->ntaxes);

    json_t *prices = json_object_get(doc, "prices");
    p->nprices = json_array_size(prices);
    cat_price_rule *r = p->nprices ? model_alloc(ar, p->nprices * sizeof *r) : NULL;
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
    cat_pool_use *u = n ? model_alloc(ar, n * sizeof *u) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(pools, i);
        const cat_pool *pool = model_pool(m, jstr(x, "pool_id"));
        if (!pool || pool->capacity < 0) continue; /* unlimited: takes nothing */
        u[p->npools].pool = pool;
        u[p->npools++].amount = (int32_t)jint(x, "amount", 1);
    }
    p->pools = u;
    p->pool_ids = pool_id_list(ar, pools, &p->npool_ids);
    p->scan = compile_scan(json_object_get(doc, "scan"));
    p->barcode_format = model_strdup(ar, jstr(doc, "barcode_format") ? jstr(doc, "barcode_format") : "code128");
    p->group_id = model_strdup(ar, jstr(doc, "group_id"));
    compile_options(ar, p, json_object_get(doc, "options"));
    p->apf_enabled = jbool(doc, "apf_enabled", false);
    compile_apf_fields(ar, p, json_object_get(doc, "apf_fields"));
    compile_tiers(ar, doc, p);
    return p;
}

static void *compile_discount(catalog_model *m, const json_t *doc)
{
    cat_discount *d = model_alloc(m, sizeof *d);
    d->id = model_strdup(m, jstr(doc, "id"));
    d->code = model_strdup(m, jstr(doc, "code"));
    d->name = model_strdup(m, jstr(doc, "name") ? jstr(doc, "name") : jstr(doc, "code"));
    d->external_id = model_strdup(m, jstr(doc, "external_id"));
    d->type = enum_is(doc, "type", "percentage") ? DISCOUNT_PERCENTAGE : DISCOUNT_FIXED;
    d->amount = jint(doc, "amount", 0);
    d->percent_bp = (int32_t)jint(doc, "percent_bp", 0);
    d->product_ids = string_list(m, json_object_get(doc, "product_ids"), &d->nproducts);
    d->expires_at = instant_or_zero(doc, "expires_at");
    d->max_redemptions = jint(doc, "max_redemptions", -1);
    d->booking_fee_amount = jint(doc, "booking_fee_amount", 0);
    d->booking_fee_percent_bp = (int32_t)jint(doc, "booking_fee_percent_bp", 0);
    return d;
}

static void *compile_voucher(catalog_model *m, const json_t *doc)
{
    cat_voucher *v = model_alloc(m, sizeof *v);
    v->id = model_strdup(m, jstr(doc, "id"));
    v->name = model_strdup(m, jstr(doc, "name"));
    v->value = jint(doc, "value", 0);
    v->expires_at = instant_or_zero(doc, "expires_at");
    v->partial_redemption = jbool(doc, "partial_redemption", true);
    v->event_ids = string_list(m, json_object_get(doc, "event_ids"), &v->nevents);
    return v;
}

static void *compile_question(catalog_model *m, const json_t *doc)
{
    static const char *const types[] = {"text", "textarea", "select", "checkbox", "email", "phone", "date", "number"};
    cat_question *q = model_alloc(m, sizeof *q);
    q->id = model_strdup(m, jstr(doc, "id"));
    char *label = json_dumps(json_object_get(doc, "label"), JSON_COMPACT);
    q->label_json = model_strdup(m, label ? label : "{}");
    free(label);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (enum_is(doc, "type", types[i])) q->type = (cat_question_type)i;
    q->options = string_list(m, json_object_get(doc, "options"), &q->noptions);
    q->required = jbool(doc, "required", false);
    q->per_ticket = enum_is(doc, "scope", "ticket");
    q->product_ids = string_list(m, json_object_get(doc, "product_ids"), &q->nproducts);
    return q;
}

static void *compile_ticket_group(catalog_model *m, const json_t *doc)
{
    cat_ticket_group *g = model_alloc(m, sizeof *g);
    g->id = model_strdup(m, jstr(doc, "id"));
    g->name = model_strdup(m, jstr(doc, "name"));
    g->sort_order = jint(doc, "sort_order", 0);
    g->max_per_order = jint(doc, "max_per_order", -1);
    g->event_id = model_strdup(m, jstr(doc, "event_id"));
    return g;
}

static void *compile_payment_method(catalog_model *m, const json_t *doc)
{
    cat_payment_method *pm = model_alloc(m, sizeof *pm);
    pm->id = model_strdup(m, jstr(doc, "id"));
    pm->name = model_strdup(m, jstr(doc, "name"));
    pm->kind = model_strdup(m, jstr(doc, "kind") ? jstr(doc, "kind") : "other");
    pm->instructions = model_strdup(m, jstr(doc, "instructions"));
    pm->external_id = model_strdup(m, jstr(doc, "external_id"));
    pm->fee_fixed = jint(doc, "fee_fixed", 0);
    pm->fee_percent_bp = (int32_t)jint(doc, "fee_percent_bp", 0);
    pm->enabled = jbool(doc, "enabled", true);
    pm->sort_order = jint(doc, "sort_order", 0);
    return pm;
}

static void *compile_guest_list(catalog_model *m, const json_t *doc)
{
    cat_guest_list *g = model_alloc(m, sizeof *g);
    g->id = model_strdup(m, jstr(doc, "id"));
    g->name = model_strdup(m, jstr(doc, "name"));
    g->event_id = model_strdup(m, jstr(doc, "event_id"));
    g->slug = model_strdup(m, jstr(doc, "slug"));
    g->enabled = jbool(doc, "enabled", true);
    json_t *prices = json_object_get(doc, "prices");
    g->nprices = json_array_size(prices);
    cat_guest_list_price *p = g->nprices ? model_alloc(m, g->nprices * sizeof *p) : NULL;
    for (size_t i = 0; i < g->nprices; i++) {
        json_t *x = json_array_get(prices, i);
        /* a price names whom it is for; naming neither means everyone */
        bool men = jbool(x, "men", true), women = jbool(x, "women", true);
        p[i] = (cat_guest_list_price){.id = model_strdup(m, jstr(x, "id")), .name = text_or_empty(m, x, "name"),
                                      .price = jint(x, "price", 0), .shown_from = instant_or_zero(x, "shown_from"),
                                      .valid_from = instant_or_zero(x, "valid_from"),
                                      .valid_until = instant_or_zero(x, "valid_until"), .men = men, .women = women,
                                      .min_age = jint(x, "min_age", 0)};
    }
    g->prices = p;
    return g;
}

static void *(*const compilers[CAT__COUNT])(catalog_model *m, const json_t *doc) = {
    [CAT_LOCATION] = compile_location, [CAT_SCHEDULE] = compile_schedule, [CAT_POOL] = compile_pool,
    [CAT_CATEGORY] = compile_category, [CAT_EVENT] = compile_event,       [CAT_PRODUCT] = compile_product,
    [CAT_DISCOUNT] = compile_discount, [CAT_VOUCHER] = compile_voucher,
    [CAT_QUESTION] = compile_question,
    [CAT_TICKET_GROUP] = compile_ticket_group, [CAT_PAYMENT_METHOD] = compile_payment_method,
    [CAT_GUEST_LIST] = compile_guest_list,
};

void catalog_doc_compile(catalog_model *m, catalog_kind k, const char *doc)
{
    json_t *decoded = k < CAT__COUNT ? json_loads(doc, 0, NULL) : NULL;
    if (!json_is_object(decoded) || !jstr(decoded, "id")) {
        json_decref(decoded);
        return;
    }
    model_add(m, k, compilers[k](m, decoded), doc, decoded);
}
