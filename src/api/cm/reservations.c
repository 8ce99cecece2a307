/* Reservations: POST /events/{event_uuid}/reservations and PUT
 * .../reservations/{order_id}. A reservation is an engine cart of the "cm"
 * channel: its seats (and a limited discount code's use) are held until
 * due_at, all or nothing; order_id is the cart's id, which the order booked
 * from it keeps as cart_id (docs/dialects/cm.md). The buyer's customer_data
 * travels in the cart's customer document, the ?code in its extras. */
#include "api/cm/cm.h"
#include "api/cm/reservation.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ISO 3166-1 alpha-2, as Debian's iso-codes lists it (249 codes). */
static const char iso_countries[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCX"
    "CYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIR"
    "ISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNE"
    "NFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTF"
    "TGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

static bool country_known(const char *c)
{
    if (!c || strlen(c) != 2) return false;
    for (const char *p = iso_countries; *p; p += 2)
        if (p[0] == c[0] && p[1] == c[1]) return true;
    return false;
}

static bool email_plausible(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254) return false;
    const char *dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || !dot[1]) return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == ',' || *p == ';' || *p == '<' || *p == '>') return false;
    return true;
}

/* Every field of the doc's customer_data, in its order. */
static const char *const customer_fields[] = {
    "first_name", "last_name", "email", "mobile", "gender", "address_line_1", "address_line_1_building_number",
    "address_line_2", "address_line_2_building_number", "zipcode", "city", "state", "organisation_name",
    "position_name", "date_of_birth", "custom_field_1", "custom_field_2", "custom_field_3", "country_id"};
#define NCUSTOMER (sizeof customer_fields / sizeof customer_fields[0])
#define CUSTOMER_TEXT_MAX 255

/* The event's requirement that governs a field (address_data covers the address). */
static const char *requirement_of(const json_t *event_doc, const char *field)
{
    if (!strcmp(field, "address_line_1") || !strcmp(field, "zipcode") || !strcmp(field, "city") ||
        !strcmp(field, "country_id"))
        return cm_customer_requirement(event_doc, "address_data");
    if (!strncmp(field, "address_line_", 13) || !strcmp(field, "state")) return "OPTIONAL";
    return cm_customer_requirement(event_doc, field);
}

/* Checks customer_data; false after replying 400 naming the field. */
static bool customer_checked(http_request *r, const json_t *event_doc, const json_t *cd)
{
    char field[64];
    if (!json_is_object(cd)) {
        cm_error(r, 400, "CUSTOMER_DATA_REQUIRED", "customer_data", "customer_data must be an object");
        return false;
    }
    for (size_t i = 0; i < NCUSTOMER; i++) {
        const char *name = customer_fields[i];
        const json_t *v = json_object_get(cd, name);
        snprintf(field, sizeof field, "customer_data.%s", name);
        const char *s = json_string_value(v);
        if (v && !json_is_null(v) && (!s || strlen(s) > CUSTOMER_TEXT_MAX)) {
            cm_error(r, 400, "CUSTOMER_DATA_INVALID", field, "%s must be text of at most %d characters", name,
                     CUSTOMER_TEXT_MAX);
            return false;
        }
        bool given = s && *s;
        if (!given) {
            if (!strcmp(requirement_of(event_doc, name), "REQUIRED")) {
                cm_error(r, 400, "CUSTOMER_DATA_REQUIRED", field, "%s is required for this event", name);
                return false;
            }
            continue;
        }
        civil_date born;
        bool ok = strcmp(name, "email") ? true : email_plausible(s);
        if (!strcmp(name, "gender")) ok = !strcmp(s, "M") || !strcmp(s, "F") || !strcmp(s, "X");
        if (!strcmp(name, "country_id")) ok = country_known(s);
        if (!strcmp(name, "date_of_birth")) {
            civil_date today;
            int32_t secs;
            tz_instant_to_local("UTC", clock_now(), &today, &secs);
            ok = date_parse(s, &born) && born <= today;
        }
        if (!ok) {
            cm_error(r, 400, "CUSTOMER_DATA_INVALID", field,
                     !strcmp(name, "gender")       ? "gender is M, F or X"
                     : !strcmp(name, "country_id") ? "country_id is an ISO 3166-1 alpha-2 code, e.g. NL"
                     : !strcmp(name, "email")      ? "email is not an e-mail address"
                                                   : "date_of_birth is a past date, YYYY-MM-DD");
            return false;
        }
    }
    return true;
}

/* The engine's customer document: its own keys (email, name, first_name,
 * last_name, phone) and every field of the doc's customer_data as sent, with
 * the customer_data uuid. Returns malloc'd text. */
static json_t *customer_object(const json_t *cd, const char *uuid, instant_us created_at)
{
    json_t *c = json_object();
    for (size_t i = 0; i < NCUSTOMER; i++) {
        const char *s = json_string_value(json_object_get(cd, customer_fields[i]));
        json_object_set_new(c, customer_fields[i], s && *s ? json_string(s) : json_null());
    }
    const char *first = json_string_value(json_object_get(c, "first_name")),
               *last = json_string_value(json_object_get(c, "last_name"));
    char name[2 * CUSTOMER_TEXT_MAX + 2];
    snprintf(name, sizeof name, "%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
    if (*name) json_object_set_new(c, "name", json_string(name));
    if (json_is_string(json_object_get(c, "mobile"))) json_object_set(c, "phone", json_object_get(c, "mobile"));
    json_object_set_new(c, "uuid", json_string(uuid));
    json_object_set_new(c, "created_at", json_integer(created_at));
    return c;
}

char *cm_customer_text(const json_t *cd, const char *uuid, instant_us created_at)
{
    json_t *c = customer_object(cd, uuid, created_at);
    char *text = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return text;
}

/* customer_data from the engine's customer document, decoded. */
static json_t *customer_json_of(const json_t *stored, instant_us updated_at)
{
    json_t *out = json_object();
    json_object_set(out, "uuid", json_object_get(stored, "uuid") ?: json_null());
    for (size_t i = 0; i < NCUSTOMER; i++)
        json_object_set(out, customer_fields[i], json_object_get(stored, customer_fields[i]) ?: json_null());
    json_int_t created = json_integer_value(json_object_get(stored, "created_at"));
    json_object_set_new(out, "created_at", cm_time(created));
    json_object_set_new(out, "updated_at", cm_time(updated_at ? updated_at : created));
    return out;
}

json_t *cm_customer_json(const char *customer_text, instant_us updated_at)
{
    json_t *stored = customer_text ? json_loads(customer_text, 0, NULL) : NULL;
    json_t *out = customer_json_of(stored, updated_at);
    json_decref(stored);
    return out;
}

/* Reads ticket_types into lines of the event's products; false after replying. */
static bool lines_checked(http_request *r, const catalog_model *m, const cm_event *ce, const json_t *types,
                          cart_line *lines, size_t *line_index, size_t *n)
{
    char field[64];
    *n = 0;
    if (!json_is_array(types) || json_array_size(types) == 0 || json_array_size(types) > CM_MAX_TYPES) {
        cm_error(r, 400, "TICKET_TYPES_INVALID", "ticket_types", "ticket_types is a list of 1 to %d ticket types",
                 CM_MAX_TYPES);
        return false;
    }
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t)
    {
        const char *uuid = json_string_value(json_object_get(t, "uuid"));
        json_t *amount = json_object_get(t, "amount");
        const cat_product *p = uuid ? model_product(m, uuid) : NULL;
        snprintf(field, sizeof field, "ticket_types[%zu].uuid", i);
        if (!p || !p->event_id || strcmp(p->event_id, ce->event->id) || p->kind != PRODUCT_TICKET) {
            cm_error(r, 400, "TICKET_TYPE_INVALID", field, "no such ticket type at this event");
            return false;
        }
        for (size_t k = 0; k < *n; k++)
            if (!strcmp(lines[k].product_id, p->id)) {
                cm_error(r, 400, "TICKET_TYPE_INVALID", field, "a ticket type appears twice; send its total amount");
                return false;
            }
        snprintf(field, sizeof field, "ticket_types[%zu].amount", i);
        json_int_t q = json_is_integer(amount) ? json_integer_value(amount) : -1;
        int64_t min = p->min_per_order > 0 ? p->min_per_order : 1;
        int64_t max = p->max_per_order >= 0 ? p->max_per_order : CM_MAX_AMOUNT;
        if (q == 0) continue; /* a type the buyer left at 0 */
        if (q < min || q > max || q > CM_MAX_AMOUNT) {
            cm_error(r, 400, "AMOUNT_INVALID", field, "amount of this ticket type is 0 or %lld to %lld",
                     (long long)min, (long long)max);
            return false;
        }
        snprintf(field, sizeof field, "ticket_types[%zu].uuid", i);
        if (!p->enabled) {
            cm_error(r, 400, "TICKET_TYPE_NOT_IN_SALE", field, "this ticket type is not on sale");
            return false;
        }
        line_index[*n] = i;
        lines[(*n)++] = (cart_line){p->id, q};
    }
    if (!*n) {
        cm_error(r, 400, "TICKET_TYPES_INVALID", "ticket_types", "at least one ticket type needs an amount");
        return false;
    }
    return true;
}

/* The time slot of a calendar event: an id the day endpoint gave (its start
 * in UTC); false after replying. */
static bool slot_checked(http_request *r, engine *e, const account *a, const cm_event *ce, const json_t *ts,
                         const cart_line *first, cart_request *req)
{
    const char *text = json_string_value(ts);
    if (!ce->calendar) {
        if (!ts || json_is_null(ts)) {
            req->occurrence_id = ce->occurrence_id;
            return true;
        }
        cm_error(r, 400, "TIME_SLOT_INVALID", "time_slot_id", "this event has no calendar: send time_slot_id null");
        return false;
    }
    if (!ts || json_is_null(ts)) {
        cm_error(r, 400, "TIME_SLOT_REQUIRED", "time_slot_id", "this event has a calendar: choose a time slot");
        return false;
    }
    instant_us at = 0;
    civil_date day_only;
    /* a day's id (2026-12-05) names no slot: it is the month view's */
    if (!text || strlen(text) > 40 || date_parse(text, &day_only) || !iso_parse(text, "UTC", &at)) {
        cm_error(r, 400, "TIME_SLOT_INVALID", "time_slot_id", "time_slot_id is a slot's id from the day's calendar");
        return false;
    }
    civil_date day;
    int32_t secs;
    tz_instant_to_local(cm_event_timezone(a, ce), at, &day, &secs);
    slot *slots = NULL;
    size_t n = 0;
    bo_error err = {0};
    bool found = false;
    if (availability_product(e, a, first->product_id, NULL, day, day + 1, &slots, &n, &err) == BO_OK)
        for (size_t i = 0; i < n && !found; i++)
            if (slots[i].starts_at == at) {
                found = true;
                req->day = slots[i].day;
                req->start_time = slots[i].time_from;
            }
    free(slots);
    if (!found) cm_error(r, 400, "TIME_SLOT_INVALID", "time_slot_id", "no such time slot for these tickets");
    return found;
}

/* ?code: a discount code of this event, or a voucher code (which pays at
 * checkout); false after replying. */
static bool code_checked(http_request *r, engine *e, const account *a, const catalog_model *m, const cm_event *ce,
                         const char *code, cart_request *req, json_t *extras)
{
    if (!code) return true;
    const cat_discount *d = strlen(code) <= 64 ? model_discount_by_code(m, code) : NULL;
    if (d && cm_discount_for_event(m, ce, d)) {
        req->discount_code = d->code;
        json_object_set_new(extras, "discount_code", json_string(d->code));
        return true;
    }
    voucher_code_state vc;
    bo_status st = strlen(code) <= 64 && *code ? voucher_code_find(e, a, code, &vc) : BO_NOT_FOUND;
    if (st == BO_INTERNAL) {
        cm_error(r, 500, "INTERNAL_ERROR", NULL, "storage failure; try again");
        return false;
    }
    if (st != BO_OK || !vc.available || !model_voucher(m, vc.voucher_id)) {
        cm_error(r, 400, "CODE_INVALID", "code", "no such discount or voucher code for this event");
        return false;
    }
    json_object_set_new(extras, "voucher_code", json_string(code));
    return true;
}

/* With customer and extras (what the cart's texts were made from, this
 * request), those are not decoded again. */
static json_t *reservation_json_with(const cart_record *cart, const json_t *customer, const json_t *extras_made)
{
    json_t *extras = extras_made ? json_incref((json_t *)extras_made)
                                 : json_loads(cart->extras ? cart->extras : "{}", 0, NULL);
    json_t *types = json_array();
    for (size_t i = 0; i < cart->nlines; i++)
        json_array_append_new(types, json_pack("{s:s,s:I}", "uuid", cart->lines[i].product_id, "amount",
                                               (json_int_t)cart->lines[i].quantity));
    json_t *time_slot = json_object_get(extras, "time_slot_id");
    json_t *out = json_pack("{s:s,s:o,s:O,s:o,s:o}", "order_id", cart->id, "due_at", cm_time(cart->expires_at),
                            "time_slot_id", time_slot ? time_slot : json_null(), "customer_data",
                            customer ? customer_json_of(customer, cart->updated_at)
                                     : cm_customer_json(cart->customer, cart->updated_at),
                            "ticket_types", types);
    json_decref(extras);
    return out;
}

json_t *cm_reservation_json(const cart_record *cart) { return reservation_json_with(cart, NULL, NULL); }

bool cm_reservation_parse(http_request *r, engine *e, const catalog_model *m, const cm_event *ce,
                          cm_reservation_input *in)
{
    const account *a = api_account(r);
    json_t *body = cm_body_object(r);
    if (!body) return false;
    in->body = body;
    if (!customer_checked(r, ce->doc, json_object_get(body, "customer_data")) ||
        !lines_checked(r, m, ce, json_object_get(body, "ticket_types"), in->lines, in->line_index, &in->nlines))
        return false;
    in->req = (cart_request){.channel = "cm", .day = -1, .start_time = -1, .end_time = -1, .lines = in->lines,
                             .nlines = in->nlines, .use_engine_prices = true};
    json_t *ts = json_object_get(body, "time_slot_id");
    if (!slot_checked(r, e, a, ce, ts, &in->lines[0], &in->req)) return false;
    in->extras = json_object();
    if (ce->calendar) json_object_set(in->extras, "time_slot_id", ts);
    if (!in->free_only && !code_checked(r, e, a, m, ce, http_query(r, "code"), &in->req, in->extras)) return false;
    return true;
}

catalog_view *cm_reservation_open(http_request *r, engine *e, cm_event *ce, cm_reservation_input *in)
{
    catalog_view *v = cm_event_open(r, e, ce);
    if (v && !cm_reservation_parse(r, e, catalog_view_model(v), ce, in)) {
        cm_reservation_input_clear(in);
        catalog_view_close(v);
        v = NULL;
    }
    return v;
}

void cm_reservation_texts(cm_reservation_input *in, const char *customer_uuid, instant_us created_at)
{
    in->customer_doc = customer_object(json_object_get(in->body, "customer_data"), customer_uuid, created_at);
    in->customer = json_dumps(in->customer_doc, JSON_COMPACT);
    in->extras_text = json_dumps(in->extras, JSON_COMPACT);
    in->req.customer = in->customer;
    in->req.extras = in->extras_text;
}

void cm_reservation_input_clear(cm_reservation_input *in)
{
    json_decref(in->extras);
    json_decref(in->customer_doc);
    free(in->customer);
    free(in->extras_text);
    in->extras = in->customer_doc = NULL;
    in->customer = in->extras_text = NULL;
}

/* A refused hold: the code's last use gone, or the seats. */
void cm_hold_failed(http_request *r, engine *e, const account *a, const catalog_model *m, const cart_request *req,
                    const bo_error *err)
{
    if (err->status == BO_SOLD_OUT && req->discount_code) {
        const cat_discount *d = model_discount_by_code(m, req->discount_code);
        int64_t held = 0;
        if (d && d->max_redemptions >= 0 && discount_uses_held(e, a, d->id, &held) == BO_OK &&
            held >= d->max_redemptions)
            return cm_error(r, 400, "CODE_SOLD_OUT", "code", "this code has no uses left");
    }
    if (err->status == BO_SOLD_OUT) return cm_error(r, 400, "SOLD_OUT", "ticket_types", "not enough tickets left");
    if (!strcmp(err->code, "discount_expired")) return cm_error(r, 400, "CODE_EXPIRED", "code", "this code has expired");
    if (!strcmp(err->code, "unknown_discount_code")) return cm_error(r, 400, "CODE_INVALID", "code", "no such code");
    cm_fail(r, err);
}

void cm_reservation_create(http_request *r, void *app_)
{
    engine *e = cm_engine(app_);
    const account *a = api_account(r);
    cm_event ce;
    cm_reservation_input in = {0};
    catalog_view *v = cm_reservation_open(r, e, &ce, &in);
    if (!v) return;
    char uuid[37];
    rand_uuid(uuid);
    cm_reservation_texts(&in, uuid, clock_now());
    cart_record cart;
    bo_error err = {0};
    if (cart_create(e, a, &in.req, &cart, &err) != BO_OK) {
        cm_hold_failed(r, e, a, catalog_view_model(v), &in.req, &err);
    } else {
        /* the cart stores the texts as given (a new cart): its reply is made
         * from the objects they were made from, not decoded again */
        cm_reply(r, 201, reservation_json_with(&cart, in.customer_doc, in.extras));
        cart_record_free(&cart);
    }
    cm_reservation_input_clear(&in);
    catalog_view_close(v);
}

bool cm_reservation_find(http_request *r, engine *e, const account *a, const catalog_model *m,
                              const cm_event *ce, const char *order_id, cart_record *cart)
{
    bool ok = cart_get(e, a, order_id, cart) == BO_OK && !strcmp(cart->channel, "cm") && cart->nlines;
    const cat_product *p = ok ? model_product(m, cart->lines[0].product_id) : NULL;
    ok = ok && p && p->event_id && !strcmp(p->event_id, ce->event->id);
    if (!ok) {
        if (*cart->id) cart_record_free(cart);
        cm_error(r, 404, "ORDER_NOT_FOUND", "order_id", "no such reservation at this event");
    }
    return ok;
}

void cm_reservation_update(http_request *r, void *app_)
{
    engine *e = cm_engine(app_);
    const account *a = api_account(r);
    const char *order_id = http_path_param(r, "order_id");
    cm_event ce;
    cart_record old = {0};
    cm_reservation_input in = {0};
    catalog_view *v = cm_event_open(r, e, &ce);
    if (!v) return;
    const catalog_model *m = catalog_view_model(v);
    if (!cm_reservation_find(r, e, a, m, &ce, order_id, &old)) {
        catalog_view_close(v);
        return;
    }
    bool done = !cm_reservation_parse(r, e, m, &ce, &in);
    const char *body_order = done ? NULL : json_string_value(json_object_get(in.body, "order_id"));
    if (!done && (!body_order || strcmp(body_order, order_id))) {
        cm_error(r, 400, "ORDER_ID_MISMATCH", "order_id", "the body's order_id must be the path's");
        done = true;
    }
    if (!done && strcmp(old.status, "open")) {
        bool booked = !strcmp(old.status, "booked");
        cm_error(r, 400, booked ? "RESERVATION_COMPLETED" : "RESERVATION_EXPIRED", "order_id",
                 booked ? "the reservation is in checkout or completed" : "the reservation has expired");
        done = true;
    }
    if (!done) {
        json_t *stored = json_loads(old.customer ? old.customer : "{}", 0, NULL);
        const char *uuid = json_string_value(json_object_get(stored, "uuid"));
        char kept[37];
        snprintf(kept, sizeof kept, "%s", uuid ? uuid : "");
        if (!*kept) rand_uuid(kept);
        cm_reservation_texts(&in, kept, json_integer_value(json_object_get(stored, "created_at")) ?: old.created_at);
        json_decref(stored);
        in.req.keep_expiry = true;
        cart_record cart;
        bo_error err = {0};
        if (cart_update(e, a, old.id, &in.req, &cart, &err) != BO_OK) {
            /* a checkout booked it after it was read above: as if it had been before */
            if (!strcmp(err.code, "cart_closed"))
                cm_error(r, 400, "RESERVATION_COMPLETED", "order_id", "the reservation is in checkout or completed");
            else
                cm_hold_failed(r, e, a, m, &in.req, &err);
        } else {
            cm_reply(r, 200, cm_reservation_json(&cart));
            cart_record_free(&cart);
        }
    }
    cm_reservation_input_clear(&in);
    cart_record_free(&old);
    catalog_view_close(v);
}
