/* Ticket rates: a ticket rate is a ticket product of an event at one of its
 * occurrences (a channel event). Rendered into events here. */
#include "api/fourvenues/fourvenues.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *product_id;
    int64_t sold;
} product_sold;

/* Tickets issued (paid or awaiting payment) per product at one occurrence. */
static bool count_sold(engine *e, const account *a, const char *occurrence, product_sold *counts, size_t n)
{
    char after[48] = "";
    ticket_query q = {.limit = 1000, .event_id = occurrence};
    for (;;) {
        ticket_page page = {0};
        bo_error err = {0};
        if (tickets_list(e, a, &q, &page, &err) != BO_OK) return false;
        for (size_t i = 0; i < page.n; i++) {
            const store_ticket_row *t = &page.tickets[i].ticket;
            if (strcmp(t->status, "valid") && strcmp(t->status, "unpaid")) continue;
            for (size_t k = 0; k < n; k++)
                if (!strcmp(counts[k].product_id, t->product_id)) counts[k].sold++;
        }
        bool more = page.has_more && page.n;
        if (more) snprintf(after, sizeof after, "%s", page.tickets[page.n - 1].ticket.id);
        ticket_page_free(&page);
        if (!more) return true;
        q.starting_after = after;
    }
}

/* What is left of p at ev's occurrence (-1: unlimited) and whether it is on sale there. */
static void slot_left(engine *e, const account *a, const cat_product *p, const fv_event *ev, int64_t *left, bool *open)
{
    civil_date day;
    int32_t secs;
    tz_instant_to_local(ev->timezone, ev->start, &day, &secs);
    slot *slots = NULL;
    size_t n = 0;
    bo_error err = {0};
    /* a day either side: the engine dates an occurrence in its own zone rule */
    if (availability_product(e, a, p->id, NULL, day - 1, day + 2, &slots, &n, &err) == BO_OK)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(slots[i].key, ev->occurrence->id)) *left = slots[i].available, *open = slots[i].open;
    free(slots);
}

/* A percentage in the vendor's form: 1000 basis points → 10, 250 → 2.5. */
static json_t *percent_json(int32_t bp) { return fv_money(bp, 2); }

static json_t *tier_json(const account *a, const cat_product *p, const cat_price_tier *t)
{
    char id[21];
    fv_numeric_id("price", p->id, t->id, id);
    bool percentage = t->fee_percent_bp >= 0;
    return json_pack("{s:s,s:s,s:o,s:o,s:I,s:s,s:o,s:s,s:s}", "_id", id, "name", t->name, "price",
                     fv_money(t->price, a->currency_decimals), "valid_until", fv_time(t->valid_until), "quantity",
                     (json_int_t)t->quantity, "fee_type", percentage ? "percentage" : "fixed", "fee_quantity",
                     percentage ? percent_json(t->fee_percent_bp) : fv_money(t->fee_amount, a->currency_decimals),
                     "includes", t->includes, "additional_info", t->additional_info);
}

/* A product without tiers sells at one price: its own (a dynamic product's
 * current one at this occurrence), with its booking fee as a fixed fee. */
static json_t *single_tier_json(engine *e, const account *a, const fv_event *ev, const cat_product *p,
                                const char *name)
{
    cat_price_tier only = {.id = "",
                           .name = name,
                           .price = api_listed_price(e, a, p, ev->occurrence->id, -1, -1),
                           .fee_amount = p->booking_fee,
                           .fee_percent_bp = -1,
                           .includes = "",
                           .additional_info = ""};
    return tier_json(a, p, &only);
}

static json_t *supplements_json(const account *a, const cat_product *p)
{
    json_t *list = json_array();
    for (size_t i = 0; i < p->nsupplements; i++) {
        char id[21];
        fv_numeric_id("supplement", p->id, p->supplements[i].id, id);
        json_array_append_new(list, json_pack("{s:s,s:s,s:o}", "_id", id, "name", p->supplements[i].name, "price",
                                              fv_money(p->supplements[i].price, a->currency_decimals)));
    }
    return list;
}

static json_t *questions_json(const catalog_model *m, const cat_product *p)
{
    json_t *list = json_array();
    for (size_t i = 0; i < model_count(m, CAT_QUESTION); i++) {
        const cat_question *q = model_object_at(m, CAT_QUESTION, i);
        if (!q->per_ticket || !question_asked_for(q, p->id)) continue;
        char id[21];
        fv_numeric_id("question", q->id, NULL, id);
        json_t *label = json_loads(q->label_json ? q->label_json : "\"\"", JSON_DECODE_ANY, NULL);
        const char *text = json_is_string(label) ? json_string_value(label) : api_text(label);
        json_array_append_new(list, json_pack("{s:s,s:s,s:b}", "_id", id, "question", text ? text : "", "required",
                                              q->required));
        json_decref(label);
    }
    return list;
}

static void rate_slug(const catalog_model *m, const cat_product *p, char *out, size_t n)
{
    const json_t *doc = model_decoded(m, CAT_PRODUCT, p->id);
    const json_t *own = json_object_get(doc, "slug");
    if (json_is_string(own))
        snprintf(out, n, "%s", json_string_value(own));
    else
        fv_slugify(api_text(json_object_get(doc, "name")), out, n);
}

/* The prices and the active one (a new reference, or null): tiers in order
 * with the one the rule picks at the occurrence's counts; else the product's
 * own price. NULL when the counts cannot be read. */
static json_t *prices_json(engine *e, const account *a, const fv_event *ev, const cat_product *p, const char *name,
                           json_t **current)
{
    json_t *prices = json_array();
    *current = json_null();
    if (!p->ntiers) {
        json_array_append_new(prices, single_tier_json(e, a, ev, p, name));
        *current = json_incref(json_array_get(prices, 0));
        return prices;
    }
    int64_t *used = calloc(p->ntiers, sizeof *used);
    if (!used || price_tier_usage(e, a, p, ev->occurrence->id, used) != BO_OK) {
        free(used), json_decref(prices);
        return NULL;
    }
    int active = price_tier_active(p, clock_now(), used);
    for (size_t i = 0; i < p->ntiers; i++) json_array_append_new(prices, tier_json(a, p, &p->tiers[i]));
    if (active >= 0) *current = json_incref(json_array_get(prices, (size_t)active));
    free(used);
    return prices;
}

static json_t *rate_json(engine *e, const account *a, const catalog_model *m, const fv_event *ev,
                         const cat_product *p, int64_t sold, const char *organization_id)
{
    char id[FV_ID_LEN + 1], slug[100];
    fv_public_id("rate", p->id, ev->occurrence->id, id);
    rate_slug(m, p, slug, sizeof slug);
    const char *name = api_text(json_object_get(model_decoded(m, CAT_PRODUCT, p->id), "name"));
    json_t *current;
    json_t *prices = prices_json(e, a, ev, p, name, &current);
    if (!prices) return NULL;
    int64_t left = -1;
    bool open = false;
    slot_left(e, a, p, ev, &left, &open);
    instant_us now = clock_now();
    instant_us valid_from = p->show_from < 0 ? 0 : tz_local_to_instant(ev->timezone, p->show_from, 0);
    bool complete = left == 0 || json_is_null(current);
    bool on_sale = open && !complete && ev->end >= now && (!valid_from || valid_from <= now);
    if (!on_sale) json_decref(current), current = json_null();
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:s,s:b,s:o,s:o,s:o,s:{s:b,s:o,s:I},s:{s:I,s:o},s:b,s:I,"
                     "s:I,s:o,s:[]}",
                     "_id", id, "organization_id", organization_id, "event_id", ev->id, "name", name, "slug", slug,
                     "valid_from", fv_time(valid_from), "complete", complete, "type", "public", "show_all_prices", 1,
                     "prices", prices, "current_price", current, "supplements", supplements_json(a, p), "warranty",
                     "enabled", p->warranty.enabled, "percentage", percent_json(p->warranty.percent_bp), "hours",
                     (json_int_t)p->warranty.hours, "availability", "sold", (json_int_t)sold, "available",
                     left < 0 ? json_null() : json_integer(left), "available", on_sale, "min",
                     (json_int_t)(p->min_per_order > 0 ? p->min_per_order : 1), "max",
                     (json_int_t)(p->max_per_order < 0 ? 0 : p->max_per_order), "questions", questions_json(m, p),
                     "fields");
}

/* The rates of ev whose slug is `slug` (NULL: every one). */
static json_t *rates_of(engine *e, const account *a, const catalog_model *m, const fv_event *ev, const char *slug)
{
    size_t n = 0, np = model_count(m, CAT_PRODUCT);
    product_sold *counts = np ? calloc(np, sizeof *counts) : NULL;
    const cat_product **products = np ? calloc(np, sizeof *products) : NULL;
    if (np && (!counts || !products)) return free(counts), free(products), NULL;
    for (size_t i = 0; i < np; i++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
        if (p->kind != PRODUCT_TICKET || !p->enabled || p->event != ev->event) continue;
        char own[100];
        rate_slug(m, p, own, sizeof own);
        if (slug && strcmp(own, slug)) continue;
        products[n] = p, counts[n].product_id = p->id, n++;
    }
    if (n && !count_sold(e, a, ev->occurrence->id, counts, n)) return free(counts), free(products), NULL;
    char organization_id[FV_ID_LEN + 1];
    fv_organization_id(a, organization_id);
    json_t *list = json_array();
    for (size_t i = 0; i < n && list; i++) {
        json_t *rate = rate_json(e, a, m, ev, products[i], counts[i].sold, organization_id);
        if (rate)
            json_array_append_new(list, rate);
        else
            json_decref(list), list = NULL;
    }
    free(counts), free(products);
    return list;
}

json_t *fv_event_rates_json(engine *e, const account *a, const catalog_model *m, const fv_event *ev)
{
    return rates_of(e, a, m, ev, NULL);
}

/* ---- the endpoints ---- */

bool fv_event_ids_arg(http_request *r, char ids[FV_MAX_EVENT_IDS][FV_ID_LEN + 1], size_t *n)
{
    *n = 0;
    const char *text = http_query(r, "event_id");
    if (!text) return true;
    for (const char *p = text;;) {
        size_t len = strcspn(p, ",");
        bool hex = len == FV_ID_LEN && strspn(p, "0123456789abcdef") >= FV_ID_LEN;
        if (!hex || *n == FV_MAX_EVENT_IDS) {
            fv_error(r, 400, "invalid_parameter", "event_id",
                     "event_id must be 1 to 50 event ids (24 hex digits) separated by commas");
            return false;
        }
        memcpy(ids[*n], p, FV_ID_LEN), ids[(*n)++][FV_ID_LEN] = 0;
        if (!p[len]) return true;
        p += len + 1;
    }
}

bool fv_event_named(char ids[FV_MAX_EVENT_IDS][FV_ID_LEN + 1], size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ids[i], id)) return true;
    return false;
}

/* What a rate read works on: the account's catalog and its channel events. */
typedef struct {
    engine *e;
    const account *a;
    catalog_view *v;
    const catalog_model *m;
    fv_event *evs;
    size_t n;
} rates_read;

/* Opens the catalog and lists the account's channel events; false after a 500. */
static bool rates_open(http_request *r, void *app_, rates_read *x)
{
    *x = (rates_read){.e = fv_engine(app_), .a = api_account(r)};
    x->v = catalog_view_open(x->e, x->a);
    if (!x->v) {
        fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
        return false;
    }
    x->m = catalog_view_model(x->v);
    x->evs = fv_events(x->a, x->m, &x->n);
    return true;
}

static void rates_close(rates_read *x)
{
    free(x->evs);
    catalog_view_close(x->v);
}

void fv_ticket_rates_list(http_request *r, void *app_)
{
    static const char *const params[] = {"event_id", "limit", "offset", NULL};
    char ids[FV_MAX_EVENT_IDS][FV_ID_LEN + 1];
    size_t nids, limit, offset;
    if (!fv_query_known(r, params) || !fv_page_args(r, &limit, &offset) || !fv_event_ids_arg(r, ids, &nids) ||
        api_reply_cached_priced(r, app_, -1, -1))
        return;
    rates_read x;
    if (!rates_open(r, app_, &x)) return;
    instant_us now = clock_now();
    json_t *out = json_array();
    size_t skipped = 0;
    bool failed = false;
    for (size_t i = 0; i < x.n && !failed && json_array_size(out) < limit; i++) {
        /* without event_id: the rates of events not over yet, as GET /events lists them */
        if (nids ? !fv_event_named(ids, nids, x.evs[i].id) : x.evs[i].end < now) continue;
        json_t *rates = rates_of(x.e, x.a, x.m, &x.evs[i], NULL);
        failed = !rates;
        size_t k;
        json_t *rate;
        json_array_foreach(rates, k, rate)
        {
            if (skipped < offset) {
                skipped++;
                continue;
            }
            if (json_array_size(out) < limit) json_array_append(out, rate);
        }
        json_decref(rates);
    }
    rates_close(&x);
    if (failed) {
        json_decref(out);
        return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    }
    fv_reply(r, 200, out);
}

/* The one rate the path names: by id (slug NULL), or by slug within ?event_id. */
static void rate_reply(http_request *r, void *app_, const char *id, const char *slug, const char *event_id)
{
    if (api_reply_cached_priced(r, app_, -1, -1)) return;
    rates_read x;
    if (!rates_open(r, app_, &x)) return;
    json_t *found = NULL;
    bool failed = false;
    for (size_t i = 0; i < x.n && !found && !failed; i++) {
        if (event_id && strcmp(x.evs[i].id, event_id)) continue;
        for (size_t k = 0; id && k < model_count(x.m, CAT_PRODUCT) && !found && !failed; k++) {
            const cat_product *p = model_object_at(x.m, CAT_PRODUCT, k);
            char rid[FV_ID_LEN + 1];
            if (p->kind != PRODUCT_TICKET || !p->enabled || p->event != x.evs[i].event) continue;
            fv_public_id("rate", p->id, x.evs[i].occurrence->id, rid);
            if (strcmp(rid, id)) continue;
            product_sold sold = {p->id, 0};
            char organization_id[FV_ID_LEN + 1];
            fv_organization_id(x.a, organization_id);
            failed = !count_sold(x.e, x.a, x.evs[i].occurrence->id, &sold, 1) ||
                     !(found = rate_json(x.e, x.a, x.m, &x.evs[i], p, sold.sold, organization_id));
        }
        if (slug) {
            json_t *rates = rates_of(x.e, x.a, x.m, &x.evs[i], slug);
            failed = !rates;
            if (json_array_size(rates)) found = json_incref(json_array_get(rates, 0));
            json_decref(rates);
        }
    }
    rates_close(&x);
    if (failed) {
        json_decref(found);
        return fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
    }
    if (!found) return fv_error(r, 404, "not_found", slug ? "slug" : "id", "no such ticket rate");
    fv_reply(r, 200, found);
}

void fv_ticket_rate_get(http_request *r, void *app_)
{
    static const char *const no_params[] = {NULL};
    if (!fv_query_known(r, no_params)) return;
    rate_reply(r, app_, http_path_param(r, "id"), NULL, NULL);
}

void fv_ticket_rate_by_slug(http_request *r, void *app_)
{
    static const char *const params[] = {"event_id", NULL};
    if (!fv_query_known(r, params)) return;
    const char *event_id = http_query(r, "event_id");
    /* a rate's slug is its product's, the same on every date: the event says which */
    if (!event_id || strlen(event_id) != FV_ID_LEN || strspn(event_id, "0123456789abcdef") != FV_ID_LEN)
        return fv_error(r, 400, "invalid_parameter", "event_id", "event_id (24 hex digits) is required");
    rate_reply(r, app_, NULL, http_path_param(r, "slug"), event_id);
}
