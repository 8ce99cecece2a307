/* GET /events and GET /events/{event_uuid}: the shop's events are the
 * engine's published events (uuid = the engine event's id); an event's ticket
 * types are the products of that event, grouped by their first category. */
#include "api/cm/cm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *event_venue_name(const catalog_model *m, const cm_event *ce)
{
    const cat_location *loc = ce->event->location;
    if (!loc) return NULL;
    return json_string_value(json_object_get(model_decoded(m, CAT_LOCATION, loc->id), "name"));
}

/* Future and ongoing: a dated event until its last occurrence ends; a
 * calendar event until its schedule's last valid day. */
static bool event_current(const account *a, const cm_event *ce, instant_us now)
{
    if (!ce->calendar) return ce->end >= now;
    const cat_schedule *s = ce->event->schedule ? ce->event->schedule : ce->event->category->schedule;
    if (s->valid_to < 0) return true;
    civil_date today;
    int32_t secs;
    const char *tz = cm_event_timezone(a, ce);
    tz_instant_to_local(tz, now, &today, &secs);
    return s->valid_to >= today;
}

void cm_events_list(http_request *r, void *app_)
{
    engine *e = cm_engine(app_);
    const account *a = api_account(r);
    catalog_view *v = catalog_view_open(e, a);
    event_lock *locks = NULL;
    size_t nlocks = 0;
    if (!v || event_access_locks(e, a, http_query(r, "key"), &locks, &nlocks) != BO_OK) {
        if (v) catalog_view_close(v);
        return cm_error(r, 500, "INTERNAL_ERROR", NULL, "storage failure; try again");
    }
    const catalog_model *m = catalog_view_model(v);
    instant_us now = clock_now();
    json_t *list = json_array();
    for (size_t i = 0; i < model_count(m, CAT_EVENT); i++) {
        cm_event ce;
        if (!cm_event_resolve(a, m, i, &ce) || !event_current(a, &ce, now) ||
            !event_access_open(locks, nlocks, ce.event->id))
            continue;
        const char *venue = event_venue_name(m, &ce);
        json_array_append_new(list, json_pack("{s:s,s:O,s:o,s:o,s:s?}", "uuid", ce.event->id, "name",
                                              json_object_get(ce.doc, "name"), "start_at", cm_time(ce.start),
                                              "end_at", cm_time(ce.end), "venue_name", venue));
    }
    free(locks);
    catalog_view_close(v);
    cm_reply(r, 200, list);
}

/* ---- the event object ---- */

static json_t *first_image(const json_t *doc)
{
    const json_t *img = json_array_get(json_object_get(doc, "images"), 0);
    const char *url = json_is_string(img) ? json_string_value(img) : json_string_value(json_object_get(img, "url"));
    return url ? json_string(url) : json_null();
}

/* The start of a date's day in the venue's zone; 0 for an unbounded (-1) date. */
static instant_us day_start(const char *tz, civil_date d) { return d < 0 ? 0 : tz_local_to_instant(tz, d, 0); }

typedef struct {
    engine *e;
    const account *a;
    const catalog_model *m;
    const cm_event *ce;
    const char *tz;
    instant_us now;
} event_ctx;

/* ticket_status_type_id (docs/dialects/cm.md): the sale window and switch
 * first, then what is left at the event's (first) occurrence. */
static const char *ticket_status(const event_ctx *x, const cat_product *p)
{
    instant_us from = day_start(x->tz, p->show_from), till = p->show_to < 0 ? 0 : day_start(x->tz, p->show_to + 1);
    bool event_over = !x->ce->calendar && x->ce->end < x->now;
    if (!p->enabled || (from && x->now < from) || event_over) return "NOT_IN_SALE";
    /* the online sale closed, but a door price is set and the event has not ended */
    if (till && x->now >= till) return p->gate_price_set ? "DOOR_SALE" : "NOT_IN_SALE";
    if (x->ce->calendar || !p->npools) return "ONLINE";
    const cat_occurrence *first = NULL;
    for (size_t i = 0; i < x->ce->event->noccurrences && !first; i++)
        if (!x->ce->event->occurrences[i].cancelled) first = &x->ce->event->occurrences[i];
    if (!first) return "NOT_IN_SALE";
    civil_date day;
    int32_t secs;
    tz_instant_to_local(x->tz, x->ce->start, &day, &secs);
    slot *slots = NULL;
    size_t n = 0;
    bo_error err = {0};
    int64_t available = -1;
    if (availability_product(x->e, x->a, p->id, NULL, day - 1, day + 2, &slots, &n, &err) == BO_OK)
        for (size_t k = 0; k < n; k++)
            if (!strcmp(slots[k].key, first->id)) available = slots[k].available;
    free(slots);
    if (available != 0) return "ONLINE";
    /* none left: sold when issued tickets alone fill a pool the ticket needs */
    for (size_t k = 0; k < p->npools; k++) {
        const cat_pool *pool = p->pools[k].pool;
        /* what is used less what open carts hold: no walk over the tickets sold */
        int64_t sold = 0;
        if (pool_seats_sold(x->e, x->a, pool->id, pool_occurrence(pool, first->id), &sold) == BO_OK &&
            sold + p->pools[k].amount > pool->capacity)
            return "SOLD_OUT";
    }
    return "IN_RESERVATION";
}

static json_t *cm_ticket_type_json(const event_ctx *x, const cat_product *p, const json_t *doc)
{
    instant_us from = day_start(x->tz, p->show_from), till = p->show_to < 0 ? 0 : day_start(x->tz, p->show_to + 1) - US_PER_SEC;
    int decimals = x->a->currency_decimals;
    json_t *t = json_object();
    json_object_set_new(t, "uuid", json_string(p->id));
    /* a dated event's reservation holds its occurrence_id: a dynamic price shows as that hold would lock it;
     * a calendar event's slot is chosen later, so its detail shows the base price (docs/dialects/cm.md) */
    money price = x->ce->calendar ? p->price : api_listed_price(x->e, x->a, p, x->ce->occurrence_id, -1, -1);
    json_object_set_new(t, "price", cm_money(price, decimals));
    json_object_set_new(t, "fixed_fee", cm_money(p->booking_fee, decimals));
    json_object_set_new(t, "is_visible", json_boolean(p->enabled));
    json_object_set_new(t, "is_selectable_on_calendar", json_boolean(x->ce->calendar));
    json_object_set_new(t, "min_order_amount", json_integer(p->min_per_order > 0 ? p->min_per_order : 1));
    json_object_set_new(t, "max_order_amount", p->max_per_order < 0 ? json_null() : json_integer(p->max_per_order));
    json_object_set_new(t, "online_from", cm_time(from));
    json_object_set_new(t, "online_till", cm_time(till));
    json_object_set_new(t, "display_order", json_integer(p->priority));
    json_object_set_new(t, "name", cm_texts(json_object_get(doc, "name")));
    json_object_set_new(t, "subtitle", cm_texts(NULL));
    json_object_set_new(t, "description", cm_texts(json_object_get(doc, "description")));
    json_object_set_new(t, "ticket_status_type_id", json_string(ticket_status(x, p)));
    json_object_set_new(t, "tags", json_array());
    json_object_set_new(t, "is_unlimited", json_boolean(p->npools == 0));
    return t;
}

/* The event's products by their first category, categories in the order
 * the catalog lists them; products without one go in a category named after
 * the doc's example ("Tickets") whose uuid is the event's. */
static json_t *categories_json(const event_ctx *x)
{
    const catalog_model *m = x->m;
    json_t *categories = json_array(), *by_id = json_object();
    for (size_t i = 0; i < model_count(m, CAT_PRODUCT); i++) {
        const cat_product *p = model_object_at(m, CAT_PRODUCT, i);
        if (!p->event_id || strcmp(p->event_id, x->ce->event->id) || p->kind != PRODUCT_TICKET) continue;
        const char *cat_id = p->ncategories ? p->category_ids[0] : x->ce->event->id;
        json_t *cat = json_object_get(by_id, cat_id);
        if (!cat) {
            const cat_category *typed = p->ncategories ? model_category(m, cat_id) : NULL;
            const json_t *cdoc = typed ? model_decoded(m, CAT_CATEGORY, cat_id) : NULL;
            cat = json_pack("{s:s,s:I,s:b,s:b,s:o,s:[]}", "uuid", cat_id, "display_order",
                            (json_int_t)(typed ? typed->priority : 0), "is_visible", typed ? typed->enabled : 1,
                            "is_initialized", 1, "name",
                            cdoc ? cm_texts(json_object_get(cdoc, "name"))
                                 : cm_texts4("Tickets", "Tickets", "Des billets", "Tickets"),
                            "tickets");
            json_object_set_new(by_id, cat_id, cat);
            json_array_append(categories, cat);
        }
        json_array_append_new(json_object_get(cat, "tickets"), cm_ticket_type_json(x, p, model_decoded_at(m, CAT_PRODUCT, i)));
    }
    json_decref(by_id);
    return categories;
}

static json_t *ticket_statuses_json(void)
{
    return json_pack(
        "[{s:s,s:o},{s:s,s:o},{s:s,s:o},{s:s,s:o},{s:s,s:o}]", "id", "NOT_IN_SALE", "status",
        cm_texts4("Momenteel niet in de verkoop", "Currently not in sale", "Actuellement pas en vente",
                  "Derzeit nicht im Verkauf"),
        "id", "DOOR_SALE", "status", cm_texts4("Deurverkoop", "Door sale", "Vente de porte", "Türverkauf"), "id",
        "IN_RESERVATION", "status",
        cm_texts4("Alles in reservering", "Everything in reservation", "Tout est réservé", "Alles ist reserviert"),
        "id", "ONLINE", "status", cm_texts4("Online", "Online", "En ligne", "Online"), "id", "SOLD_OUT", "status",
        cm_texts4("Uitverkocht", "Sold Out", "Épuisé", "Ausverkauft"));
}

/* What the shop asks of the buyer: the event's extras.customer_data may set
 * each field to REQUIRED, OPTIONAL or NOT_IN_USE; by default a ticket needs a
 * name and an e-mail address (where it is sent) and nothing else. */
static const char *const customer_fields[] = {"first_name", "last_name", "email", "mobile", "gender",
                                              "address_data", "position_name", "date_of_birth",
                                              "organisation_name", "custom_field_1", "custom_field_2",
                                              "custom_field_3"};

const char *cm_customer_requirement(const json_t *event_doc, const char *field)
{
    const char *set = json_string_value(json_object_get(json_object_get(json_object_get(event_doc, "extras"),
                                                                        "customer_data"),
                                                        field));
    if (set && (!strcmp(set, "REQUIRED") || !strcmp(set, "OPTIONAL") || !strcmp(set, "NOT_IN_USE"))) return set;
    return !strcmp(field, "first_name") || !strcmp(field, "last_name") || !strcmp(field, "email") ? "REQUIRED"
                                                                                                  : "NOT_IN_USE";
}

static json_t *customer_data_json(const json_t *event_doc)
{
    json_t *c = json_object();
    for (size_t i = 0; i < sizeof customer_fields / sizeof customer_fields[0]; i++) {
        json_object_set_new(c, customer_fields[i], json_string(cm_customer_requirement(event_doc, customer_fields[i])));
        if (!strncmp(customer_fields[i], "custom_field_", 13)) {
            char label[40];
            snprintf(label, sizeof label, "%s_label", customer_fields[i]);
            json_object_set_new(c, label, cm_texts(NULL));
        }
    }
    return c;
}

static const char *const ideal_issuers[][2] = {
    {"ABNANL2A", "ABN AMRO"}, {"ASNBNL21", "ASN Bank"},  {"BUNQNL2A", "bunq"},     {"INGBNL2A", "ING"},
    {"MOYONL21", "Moneyou"},  {"RABONL2U", "Rabobank"}, {"RBRBNL21", "RegioBank"}, {"KNABNL2H", "Knab"},
    {"SNSBNL2A", "SNS"},      {"TRIONL2U", "Triodos Bank"}, {"FVLBNL22", "Van Lanschot"},
};
#define NIDEAL_ISSUERS (sizeof ideal_issuers / sizeof ideal_issuers[0])

bool cm_ideal_issuer_known(const char *id)
{
    for (size_t i = 0; id && i < NIDEAL_ISSUERS; i++)
        if (!strcmp(id, ideal_issuers[i][0])) return true;
    return false;
}

static json_t *ideal_issuers_json(void)
{
    json_t *list = json_array();
    for (size_t i = 0; i < NIDEAL_ISSUERS; i++)
        json_array_append_new(list, json_pack("{s:s,s:s}", "id", ideal_issuers[i][0], "name", ideal_issuers[i][1]));
    return list;
}

static json_t *venue_json(const catalog_model *m, const cm_event *ce)
{
    const cat_location *loc = ce->event->location;
    const json_t *doc = loc ? model_decoded(m, CAT_LOCATION, loc->id) : NULL;
    return json_pack("{s:O?,s:O?,s:n,s:n,s:n,s:n}", "name", json_object_get(doc, "name"), "address_line_1",
                     json_object_get(doc, "address"), "address_line_2", "zipcode", "city", "country_id");
}

/* The account's payment methods this event offers (the engine's payment_method objects), with their fees. */
static json_t *payment_methods_json(const event_ctx *x)
{
    json_t *methods = json_array();
    size_t n;
    const cat_payment_method **offered = model_payment_methods_offered(x->m, x->ce->event, &n);
    for (size_t i = 0; i < n; i++) {
        const cat_payment_method *pm = offered[i];
        json_array_append_new(methods, json_pack("{s:s,s:s,s:s?,s:o,s:o,s:n,s:I,s:s}", "uuid", pm->id, "name",
                                                 pm->name, "description", pm->instructions, "fixed_fee",
                                                 cm_money(pm->fee_fixed, x->a->currency_decimals), "percentage_fee",
                                                 cm_percent(pm->fee_percent_bp), "image_uri", "display_order",
                                                 (json_int_t)pm->sort_order, "currency_id", x->a->currency));
    }
    free(offered);
    return methods;
}

void cm_event_get(http_request *r, void *app_)
{
    engine *e = cm_engine(app_);
    const account *a = api_account(r);
    /* ticket statuses show what is left (any day: a pool may be shared);
     * the stamp's access version covers the ?key= this reply opened with, so
     * a key removed locks the event at once (docs/dialects/cm.md) */
    if (api_reply_cached_priced(r, app_, -1, -1)) return;
    cm_event ce;
    catalog_view *v = cm_event_open(r, e, &ce);
    if (!v) return;
    const catalog_model *m = catalog_view_model(v);
    event_ctx x = {e, a, m, &ce, cm_event_timezone(a, &ce), clock_now()};
    bool discounts = model_count(m, CAT_DISCOUNT) || model_count(m, CAT_VOUCHER);
    bool ongoing = ce.calendar || (ce.start <= x.now && x.now <= ce.end);
    json_t *event = json_object();
    json_object_set_new(event, "uuid", json_string(ce.event->id));
    json_object_set(event, "name", json_object_get(ce.doc, "name"));
    json_object_set_new(event, "start_at", cm_time(ce.start));
    json_object_set_new(event, "end_at", cm_time(ce.end));
    json_object_set_new(event, "online_from", json_null());
    json_object_set_new(event, "online_till", json_null());
    json_object_set_new(event, "is_ongoing", json_boolean(ongoing));
    json_object_set_new(event, "description", cm_texts(json_object_get(ce.doc, "description")));
    json_object_set_new(event, "discount_label", cm_texts4("Korting", "Discount", "Code promotionnel", "Rabatt"));
    json_object_set_new(event, "minutes_to_order", json_integer(a->hold_seconds / 60));
    json_object_set_new(event, "shop_image", first_image(ce.doc));
    json_object_set_new(event, "is_discount_enabled", json_boolean(discounts));
    json_object_set_new(event, "is_calendar_enabled", json_boolean(ce.calendar));
    json_object_set_new(event, "is_order_invoicing_enabled", json_false());
    static const char *const unset[] = {"google_analytics_tracking_code", "google_adwords_conversion_code",
                                        "google_adwords_conversion_label", "google_adwords_remarketing_code",
                                        "google_adwords_remarketing_label", "facebook_pixel_tracking_code",
                                        "support_email", "organiser_entity", "privacy_policy_url"};
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) json_object_set_new(event, unset[i], json_null());
    json_object_set_new(event, "newsletter_label",
                        cm_texts4("Nieuwsbrief en updates ontvangen", "Subscribe for newsletter and updates",
                                  "Je m’abonne à la newsletter", "Newsletter abonnieren"));
    json_object_set_new(event, "terms_and_conditions_url", json_null());
    json_t *style = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "general_background_color", "transparent",
                              "general_font_color", "#333333", "general_link_color", "#337ab7",
                              "category_background_color", "#F4F4F4", "category_font_color", "#333333",
                              "category_background_color_highlight", "#259bdb", "category_font_color_highlight",
                              "#FFFFFF");
    json_t *body = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "event", event, "shop_style", style, "venue",
                             venue_json(m, &ce), "categories", categories_json(&x), "ticket_statuses",
                             ticket_statuses_json(), "customer_data", customer_data_json(ce.doc), "payment_methods",
                             payment_methods_json(&x), "ideal_issuers", ideal_issuers_json());
    catalog_view_close(v);
    cm_reply(r, 200, body);
}
