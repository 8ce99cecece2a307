/* Inventory events (ProductCreated, ProductPricingChanged, ProductRemoved,
 * ProductAvailabilityChanged) read into the engine's inventory_event. */
#include "api/convious_pricing/convious_pricing.h"
#include <stdio.h>
#include <string.h>

static const char *const inventory_types[] = {
    [INVENTORY_PRODUCT_CREATED] = "ProductCreated",
    [INVENTORY_PRICING_CHANGED] = "ProductPricingChanged",
    [INVENTORY_PRODUCT_REMOVED] = "ProductRemoved",
    [INVENTORY_AVAILABILITY_CHANGED] = "ProductAvailabilityChanged",
};
#define INVENTORY_TYPES (sizeof inventory_types / sizeof inventory_types[0])

bool cp_inventory_type(const char *type) { return cp_type_index(type, inventory_types, INVENTORY_TYPES) >= 0; }

/* The parse of one event: where a failure is reported, and the account's decimals. */
typedef struct {
    cp_event_at at;
    int decimals;
} event_parse;

static bool refuse(event_parse *p, const char *code, const char *field, const char *why)
{
    return cp_refuse(&p->at, code, field, why);
}

/* A required string of 1..max characters. */
static bool text_field(event_parse *p, json_t *payload, const char *name, const char *field, size_t max,
                       const char **out)
{
    json_t *v = json_object_get(payload, name);
    if (!v || json_is_null(v)) return refuse(p, "missing_field", field, "this field is required");
    const char *s = json_string_value(v);
    size_t chars = s ? cp_chars(s) : 0;
    if (!s || chars == 0 || chars > max) {
        char why[64];
        snprintf(why, sizeof why, "must be a string of 1 to %zu characters", max);
        return refuse(p, "invalid_field", field, why);
    }
    *out = s;
    return true;
}

/* Seats: an integer 0..10^9. */
static bool seats_field(event_parse *p, json_t *v, const char *field, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000000)
        return refuse(p, "invalid_field", field, "must be a whole number of seats, 0 or more");
    *out = json_integer_value(v);
    return true;
}

/* An optional price (absent or null: *given false); 0 counts as none where zero_is_none. */
static bool price_field(event_parse *p, json_t *pricing, const char *name, bool required, int64_t *out, bool *given)
{
    char field[80];
    snprintf(field, sizeof field, "payload.pricing.%s", name);
    json_t *v = json_object_get(pricing, name);
    *given = v && !json_is_null(v);
    if (!*given) return required ? refuse(p, "missing_field", field, "this field is required") : true;
    if (!cp_decimal(v, p->decimals, out))
        return refuse(p, "invalid_price", field,
                      p->decimals == 2 ? "must be a decimal such as \"12.50\" with at most 2 places, 0 or more"
                                       : "must be a decimal in the account's currency, 0 or more");
    return true;
}

/* The grid step: one minor unit, coarsened (1, 2, 5 x 10^k) until the
 * range holds at most this many prices, so the optimiser's grid stays small. */
#define CP_GRID_MAX_POINTS 10000

static int64_t grid_step(int64_t range)
{
    int64_t step = 1;
    for (int k = 0; range / step > CP_GRID_MAX_POINTS; k++) step = (k % 3 == 1 ? step / 2 * 5 : step * 2);
    return step;
}

static bool pricing_field(event_parse *p, json_t *payload, price_settings *out)
{
    json_t *pricing = json_object_get(payload, "pricing");
    if (!pricing || json_is_null(pricing)) return refuse(p, "missing_field", "payload.pricing", "this field is required");
    if (!json_is_object(pricing)) return refuse(p, "invalid_field", "payload.pricing", "must be an object");
    int64_t min = 0, max = 0, target = 0, gate = 0;
    bool has_min, has_max, has_target, has_gate;
    if (!price_field(p, pricing, "minAcceptedPrice", false, &min, &has_min) ||
        !price_field(p, pricing, "maxAcceptedPrice", true, &max, &has_max) ||
        !price_field(p, pricing, "averageTargetPrice", false, &target, &has_target) ||
        !price_field(p, pricing, "boxOfficePrice", false, &gate, &has_gate))
        return false;
    if (max <= 0) return refuse(p, "invalid_price", "payload.pricing.maxAcceptedPrice", "must be more than 0");
    if (has_min && min > max)
        return refuse(p, "invalid_price", "payload.pricing.minAcceptedPrice", "must not exceed maxAcceptedPrice");
    if (has_target && target > 0 && (target > max || (has_min && target < min)))
        return refuse(p, "invalid_price", "payload.pricing.averageTargetPrice",
                      "must lie between minAcceptedPrice and maxAcceptedPrice");
    if (has_gate && gate <= 0) return refuse(p, "invalid_price", "payload.pricing.boxOfficePrice", "must be more than 0");
    bool no_min = !has_min || min == 0; /* "0.00" is read as no minimum, as null is */
    int64_t step = grid_step(max - (no_min ? 0 : min));
    *out = (price_settings){.dynamic = true,
                            .min_price = no_min ? step : min,
                            .max_price = max,
                            .step = step,
                            .gate_price = has_gate ? gate : max,
                            .average_target = has_target ? target : 0};
    if (out->min_price > out->max_price) out->max_price = out->min_price; /* a maximum under one step */
    if (out->average_target && out->average_target < out->min_price)
        return refuse(p, "invalid_price", "payload.pricing.averageTargetPrice",
                      "must lie between minAcceptedPrice and maxAcceptedPrice");
    if (price_settings_validate(out) != PRICE_SETTINGS_OK)
        return refuse(p, "invalid_price", "payload.pricing", "these prices do not make a valid price range");
    return true;
}

static bool availability_day(event_parse *p, json_t *payload, inventory_event *ev)
{
    json_t *date = json_object_get(payload, "eventDate");
    const char *field = "payload.eventDate";
    if (!date) date = json_object_get(payload, "eventdate"), field = date ? "payload.eventdate" : field;
    if (!date || json_is_null(date)) return refuse(p, "missing_field", field, "this field is required");
    if (!json_is_string(date) || !date_parse(json_string_value(date), &ev->day))
        return refuse(p, "invalid_date", field, "must be a date YYYY-MM-DD");
    json_t *time = json_object_get(payload, "startTime");
    ev->start_time = INVENTORY_WHOLE_DAY;
    if (time && !json_is_null(time) &&
        (!json_is_string(time) || !time_of_day_parse(json_string_value(time), &ev->start_time)))
        return refuse(p, "invalid_time", "payload.startTime", "must be a time HH:MM:SS, or null for the whole day");
    json_t *seats = json_object_get(payload, "availability");
    if (!seats || json_is_null(seats)) return refuse(p, "missing_field", "payload.availability", "this field is required");
    return seats_field(p, seats, "payload.availability", &ev->availability);
}

static bool parse_event(event_parse *p, json_t *event, inventory_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = (inventory_event_kind)cp_type_index(json_string_value(json_object_get(event, "type")),
                                                   inventory_types, INVENTORY_TYPES);
    json_t *payload = json_object_get(event, "payload");
    if (!payload || json_is_null(payload)) return refuse(p, "missing_field", "payload", "this field is required");
    if (!json_is_object(payload)) return refuse(p, "invalid_field", "payload", "must be an object");
    if (!text_field(p, payload, "productReference", "payload.productReference", INVENTORY_REF_MAX, &ev->reference))
        return false;
    switch (ev->kind) {
    case INVENTORY_PRODUCT_CREATED: {
        if (!text_field(p, payload, "name", "payload.name", INVENTORY_REF_NAME_MAX, &ev->name)) return false;
        json_t *seats = json_object_get(payload, "availability");
        ev->unlimited = !seats || json_is_null(seats);
        if (!ev->unlimited && !seats_field(p, seats, "payload.availability", &ev->availability)) return false;
        return pricing_field(p, payload, &ev->settings);
    }
    case INVENTORY_PRICING_CHANGED: return pricing_field(p, payload, &ev->settings);
    case INVENTORY_PRODUCT_REMOVED: return true;
    case INVENTORY_AVAILABILITY_CHANGED: return availability_day(p, payload, ev);
    }
    return false;
}

bool cp_inventory_parse(http_request *r, const account *a, json_t *batch, inventory_event *out)
{
    for (size_t i = 0; i < json_array_size(batch); i++) {
        event_parse p = {{r, i}, a->currency_decimals};
        if (!parse_event(&p, json_array_get(batch, i), &out[i])) return false;
    }
    return true;
}
