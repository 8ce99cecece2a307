/* GET /list-rates?event_id=a,b and GET /list-rates/by-slug/{slug}[?event_id=]:
 * the guest lists (catalog kind guest_list) of channel events, read-only. A
 * list rate is one enabled guest list at one of its event's dated nights, as
 * a ticket rate is one product at one night; its prices are the list's
 * prices already shown (shown_from passed), in the list's order. */
#include "api/fourvenues/fourvenues.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *price_json(const account *a, const cat_guest_list *g, const cat_guest_list_price *p)
{
    char id[21];
    fv_numeric_id("list_price", g->id, p->id, id);
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:b,s:b,s:I}", "_id", id, "name", p->name, "price",
                     fv_money(p->price, a->currency_decimals), "from", fv_time(p->shown_from), "valid_from",
                     fv_time(p->valid_from), "valid_until", fv_time(p->valid_until), "men", p->men, "women",
                     p->women, "age", (json_int_t)p->min_age);
}

static void list_slug(const cat_guest_list *g, char *out, size_t n)
{
    if (g->slug) snprintf(out, n, "%s", g->slug);
    else fv_slugify(g->name, out, n);
}

static json_t *list_rate_json(const account *a, const fv_event *ev, const cat_guest_list *g, instant_us now)
{
    char id[FV_ID_LEN + 1], organization_id[FV_ID_LEN + 1], slug[128];
    fv_public_id("list", g->id, ev->occurrence->id, id);
    fv_organization_id(a, organization_id);
    list_slug(g, slug, sizeof slug);
    json_t *prices = json_array();
    for (size_t i = 0; i < g->nprices; i++)
        if (!g->prices[i].shown_from || g->prices[i].shown_from <= now)
            json_array_append_new(prices, price_json(a, g, &g->prices[i]));
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "_id", id, "organization_id", organization_id, "event_id", ev->id,
                     "name", g->name, "slug", slug, "prices", prices);
}

/* Calls visit with each enabled guest list of each channel event (in event
 * order, then catalog order) until it returns false; false after a 500. */
typedef bool (*list_visit)(void *ctx, const fv_event *ev, const cat_guest_list *g);

static bool each_list_rate(http_request *r, void *app_, list_visit visit, void *ctx)
{
    const account *a = api_account(r);
    catalog_view *v = catalog_view_open(fv_engine(app_), a);
    if (!v) {
        fv_error(r, 500, "internal_error", NULL, "storage failure; try again");
        return false;
    }
    const catalog_model *m = catalog_view_model(v);
    size_t n;
    fv_event *evs = fv_events(a, m, &n);
    bool more = true;
    for (size_t i = 0; i < n && more; i++)
        for (size_t k = 0; k < model_count(m, CAT_GUEST_LIST) && more; k++) {
            const cat_guest_list *g = model_object_at(m, CAT_GUEST_LIST, k);
            if (g->enabled && !strcmp(g->event_id, evs[i].event->id)) more = visit(ctx, &evs[i], g);
        }
    free(evs);
    catalog_view_close(v);
    return true;
}

typedef struct {
    const account *a;
    char (*ids)[FV_ID_LEN + 1];
    size_t nids, limit, offset, skipped;
    const char *slug;
    instant_us now;
    json_t *out;
} list_read;

static bool collect(void *ctx, const fv_event *ev, const cat_guest_list *g)
{
    list_read *x = ctx;
    if (x->nids && !fv_event_named(x->ids, x->nids, ev->id)) return true;
    if (x->slug) {
        char slug[128];
        list_slug(g, slug, sizeof slug);
        /* without event_id: the first night not over yet */
        if (strcmp(slug, x->slug) || (!x->nids && ev->end < x->now)) return true;
    }
    if (x->skipped < x->offset) {
        x->skipped++;
        return true;
    }
    json_array_append_new(x->out, list_rate_json(x->a, ev, g, x->now));
    return json_array_size(x->out) < x->limit;
}

void fv_list_rates_list(http_request *r, void *app_)
{
    static const char *const params[] = {"event_id", "limit", "offset", NULL};
    char ids[FV_MAX_EVENT_IDS][FV_ID_LEN + 1];
    list_read x = {.a = api_account(r), .ids = ids, .now = clock_now()};
    if (!fv_query_known(r, params) || !fv_page_args(r, &x.limit, &x.offset) || !fv_event_ids_arg(r, ids, &x.nids))
        return;
    if (!x.nids) return fv_error(r, 400, "invalid_parameter", "event_id", "event_id (24 hex digits) is required");
    if (api_reply_cached(r, app_, -1, -1)) return;
    x.out = json_array();
    if (!each_list_rate(r, app_, collect, &x)) return json_decref(x.out);
    fv_reply(r, 200, x.out);
}

void fv_list_rate_by_slug(http_request *r, void *app_)
{
    static const char *const params[] = {"event_id", NULL};
    char ids[FV_MAX_EVENT_IDS][FV_ID_LEN + 1];
    list_read x = {.a = api_account(r), .ids = ids, .limit = 1, .slug = http_path_param(r, "slug"), .now = clock_now()};
    if (!fv_query_known(r, params) || !fv_event_ids_arg(r, ids, &x.nids)) return;
    if (x.nids > 1) return fv_error(r, 400, "invalid_parameter", "event_id", "event_id names one event");
    if (api_reply_cached(r, app_, -1, -1)) return;
    x.out = json_array();
    if (!each_list_rate(r, app_, collect, &x)) return json_decref(x.out);
    json_t *found = json_incref(json_array_get(x.out, 0));
    json_decref(x.out);
    if (!found) return fv_error(r, 404, "not_found", "slug", "no such list rate");
    fv_reply(r, 200, found);
}
