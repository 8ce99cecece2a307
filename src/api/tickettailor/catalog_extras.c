/* What Ticket Tailor shows of ticket groups, payment methods and a voucher's
 * event series (docs/dialects/tickettailor.md): rendered from the typed
 * catalog, and the doc's two ways of naming associated ids in a body. */
#include "api/tickettailor/tickettailor.h"
#include <stdlib.h>
#include <string.h>

json_t *tt_group_id(const cat_product *p) { return p->group_id ? tt_id("tg_", p->group_id) : json_null(); }

/* Ticket groups are listed by sort_order, then catalog order. */
static const cat_ticket_group **groups_by_sort_order(const catalog_model *m, size_t *n)
{
    *n = model_count(m, CAT_TICKET_GROUP);
    const cat_ticket_group **sorted = calloc(*n + 1, sizeof *sorted);
    for (size_t i = 0; i < *n; i++) {
        const cat_ticket_group *g = model_object_at(m, CAT_TICKET_GROUP, i);
        size_t at = i;
        /* insertion keeps equal sort orders in catalog order; an account has a handful */
        for (; at > 0 && sorted[at - 1]->sort_order > g->sort_order; at--) sorted[at] = sorted[at - 1];
        sorted[at] = g;
    }
    return sorted;
}

json_t *tt_ticket_groups(const catalog_model *m, const char *event_id, const cat_product *const *products,
                         size_t nproducts)
{
    json_t *groups = json_array();
    size_t n;
    const cat_ticket_group **sorted = groups_by_sort_order(m, &n);
    for (size_t i = 0; i < n; i++) {
        const cat_ticket_group *g = sorted[i];
        json_t *ticket_ids = json_array();
        for (size_t k = 0; k < nproducts; k++)
            if (products[k]->group_id && !strcmp(products[k]->group_id, g->id))
                json_array_append_new(ticket_ids, tt_id("tt_", products[k]->id));
        bool shown_here = g->event_id && event_id && !strcmp(g->event_id, event_id);
        if (!shown_here && !json_array_size(ticket_ids)) {
            json_decref(ticket_ids);
            continue;
        }
        json_array_append_new(groups, json_pack("{s:o,s:o,s:s,s:I,s:o}", "id", tt_id("tg_", g->id), "max_per_order",
                                                g->max_per_order >= 0 ? json_integer(g->max_per_order) : json_null(),
                                                "name", g->name, "sort_order", (json_int_t)g->sort_order,
                                                "ticket_ids", ticket_ids));
    }
    free(sorted);
    return groups;
}

json_t *tt_payment_methods(const catalog_model *m, const cat_event *event)
{
    json_t *methods = json_array();
    size_t n;
    const cat_payment_method **offered = model_payment_methods_offered(m, event, &n);
    for (size_t i = 0; i < n; i++) {
        const cat_payment_method *pm = offered[i];
        json_array_append_new(methods, json_pack("{s:s?,s:o,s:s?,s:s,s:s}", "external_id", pm->external_id, "id",
                                                 tt_id("pm_", pm->id), "instructions", pm->instructions, "name",
                                                 pm->name, "type", pm->kind));
    }
    free(offered);
    return methods;
}

json_t *tt_event_series_ids(const json_t *voucher)
{
    json_t *ids = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(voucher, "event_ids"), i, id)
        json_array_append_new(ids, tt_id("es_", json_string_value(id)));
    return ids;
}

/* The index of id in ids, or -1. */
static long index_of(const json_t *ids, const char *id)
{
    size_t i;
    json_t *x;
    json_array_foreach(ids, i, x)
        if (!strcmp(json_string_value(x), id)) return (long)i;
    return -1;
}

/* Ids one body may associate: keeps the duplicate checks below (quadratic) small. */
#define TT_ASSOCIATIONS_MAX 1000

json_t *tt_associations(http_request *r, const json_t *given, const json_t *current, const char *field,
                        const char *prefix)
{
    if (json_array_size(given) > TT_ASSOCIATIONS_MAX || json_object_size(given) > TT_ASSOCIATIONS_MAX) {
        tt_error(r, 422, field, "%s names at most %d ids", field, TT_ASSOCIATIONS_MAX);
        return NULL;
    }
    json_t *ids = json_is_array(current) ? json_deep_copy(current) : json_array();
    if (json_is_array(given)) {
        json_array_clear(ids);
        size_t i;
        json_t *t;
        json_array_foreach(given, i, t)
        {
            const char *id = tt_unprefix(r, json_string_value(t), prefix);
            if (!id) {
                json_decref(ids);
                tt_error(r, 422, field, "%s holds ids like %s123", field, prefix);
                return NULL;
            }
            if (index_of(ids, id) < 0) json_array_append_new(ids, json_string(id));
        }
        return ids;
    }
    if (!json_is_object(given)) {
        json_decref(ids);
        tt_error(r, 422, field, "%s is a list of ids or an object of id: \"1\", \"0\" or \"\"", field);
        return NULL;
    }
    const char *k;
    json_t *t;
    json_object_foreach((json_t *)given, k, t)
    {
        const char *id = tt_unprefix(r, k, prefix), *op = json_string_value(t);
        if (!id || !op) {
            json_decref(ids);
            tt_error(r, 422, field, "%s maps %s ids to \"1\", \"0\" or \"\"", field, prefix);
            return NULL;
        }
        long at = index_of(ids, id);
        if (!strcmp(op, "1") && at < 0) json_array_append_new(ids, json_string(id));
        if (!strcmp(op, "0") && at >= 0) json_array_remove(ids, (size_t)at);
    }
    if (json_array_size(ids) > TT_ASSOCIATIONS_MAX) {
        json_decref(ids);
        tt_error(r, 422, field, "%s names at most %d ids", field, TT_ASSOCIATIONS_MAX);
        return NULL;
    }
    return ids;
}
