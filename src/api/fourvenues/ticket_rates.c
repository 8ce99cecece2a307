/* Ticket rates: a ticket rate is a ticket product of an event at one of its
 * occurrences (a channel event). Rendered into events here. */
#include "api/fourvenues/fourvenues.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The vendor's price and supplement ids are numeric strings: 15 digits of a hash. */
static void numeric_id(const char *purpose, const char *part1, const char *part2, char out[21])
{
    char hex[FV_ID_LEN + 1];
    fv_public_id(purpose, part1, part2, hex);
    unsigned long long v = 0;
    for (int i = 0; i < 12; i++) v = v * 16 + (unsigned long long)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    snprintf(out, 21, "%llu", v % 1000000000000000ULL);
}

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

/* A product without tiers sells at one price: its own, with its booking fee as a fixed fee. */
static json_t *single_tier_json(const account *a, const cat_product *p, const char *name)
{
    char id[21];
    numeric_id("price", p->id, NULL, id);
    return json_pack("{s:s,s:s,s:o,s:n,s:i,s:s,s:o,s:s,s:s}", "_id", id, "name", name, "price",
                     fv_money(p->price, a->currency_decimals), "valid_until", "quantity", 0, "fee_type", "fixed",
                     "fee_quantity", fv_money(p->booking_fee, a->currency_decimals), "includes", "",
                     "additional_info", "");
}

static json_t *questions_json(const catalog_model *m, const cat_product *p)
{
    json_t *list = json_array();
    for (size_t i = 0; i < model_count(m, CAT_QUESTION); i++) {
        const cat_question *q = model_object_at(m, CAT_QUESTION, i);
        if (!q->per_ticket || !question_asked_for(q, p->id)) continue;
        char id[21];
        numeric_id("question", q->id, NULL, id);
        json_t *label = json_loads(q->label_json ? q->label_json : "\"\"", JSON_DECODE_ANY, NULL);
        const char *text = json_is_string(label) ? json_string_value(label) : api_text(label);
        json_array_append_new(list, json_pack("{s:s,s:s,s:b}", "_id", id, "question", text ? text : "", "required",
                                              q->required));
        json_decref(label);
    }
    return list;
}

static json_t *rate_json(engine *e, const account *a, const catalog_model *m, const fv_event *ev,
                         const cat_product *p, int64_t sold, const char *organization_id)
{
    char id[FV_ID_LEN + 1], slug[100];
    fv_public_id("rate", p->id, ev->occurrence->id, id);
    const json_t *doc = model_decoded(m, CAT_PRODUCT, p->id);
    const char *name = api_text(json_object_get(doc, "name"));
    const json_t *own_slug = json_object_get(doc, "slug");
    if (json_is_string(own_slug))
        snprintf(slug, sizeof slug, "%s", json_string_value(own_slug));
    else
        fv_slugify(name, slug, sizeof slug);
    int64_t left = -1;
    bool open = false;
    slot_left(e, a, p, ev, &left, &open);
    instant_us now = clock_now();
    instant_us valid_from = p->show_from < 0 ? 0 : tz_local_to_instant(ev->timezone, p->show_from, 0);
    bool complete = left == 0;
    bool on_sale = open && !complete && ev->end >= now && (!valid_from || valid_from <= now);
    json_t *tier = single_tier_json(a, p, name);
    json_t *rate = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:s,s:b,s:[O],s:o,s:[],s:{s:b,s:i,s:i},s:{s:I,s:o},s:b,s:I,"
                     "s:I,s:o,s:[]}",
                     "_id", id, "organization_id", organization_id, "event_id", ev->id, "name", name, "slug", slug,
                     "valid_from", fv_time(valid_from), "complete", complete, "type", "public", "show_all_prices", 1,
                     "prices", tier, "current_price", on_sale ? tier : json_null(), "supplements", "warranty",
                     "enabled", 0, "percentage", 0, "hours", 0, "availability", "sold", (json_int_t)sold,
                     "available", left < 0 ? json_null() : json_integer(left), "available", on_sale, "min",
                     (json_int_t)(p->min_per_order > 0 ? p->min_per_order : 1), "max",
                     (json_int_t)(p->max_per_order < 0 ? 0 : p->max_per_order), "questions", questions_json(m, p),
                     "fields");
    /* current_price took the tier's own reference only when it is shown */
    if (!on_sale) json_decref(tier);
    return rate;
}

json_t *fv_event_rates_json(engine *e, const account *a, const catalog_model *m, const fv_event *ev)
{
    size_t n = 0, np = model_count(m, CAT_PRODUCT);
    product_sold *counts = np ? calloc(np, sizeof *counts) : NULL;
    const cat_product **products = np ? calloc(np, sizeof *products) : NULL;
    if (np && (!counts || !products)) return free(counts), free(products), NULL;
    for (size_t i = 0; i < np; i++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
        if (p->kind != PRODUCT_TICKET || !p->enabled || p->event != ev->event) continue;
        products[n] = p, counts[n].product_id = p->id, n++;
    }
    if (n && !count_sold(e, a, ev->occurrence->id, counts, n)) return free(counts), free(products), NULL;
    char organization_id[FV_ID_LEN + 1];
    fv_organization_id(a, organization_id);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, rate_json(e, a, m, ev, products[i], counts[i].sold, organization_id));
    free(counts), free(products);
    return list;
}
