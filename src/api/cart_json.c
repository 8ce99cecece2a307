/* The engine's canonical cart document (docs/MODEL.md), rendered from the
 * typed cart record: what /admin/v1 serves. */
#include "api/api.h"

static json_t *text_object(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *int_or_null(bool present, int64_t v) { return present ? json_integer(v) : json_null(); }

json_t *api_cart_json(const account *a, const cart_record *c)
{
    json_t *lines = json_array();
    for (size_t i = 0; i < c->nlines; i++) {
        json_t *line = json_pack("{s:s,s:I,s:I,s:I}", "product_id", c->lines[i].product_id, "quantity",
                                 (json_int_t)c->lines[i].quantity, "unit_price", (json_int_t)c->lines[i].unit_price,
                                 "gate_price", (json_int_t)c->lines[i].gate_price);
        /* a line without options keeps the shape it always had */
        json_t *options = c->lines[i].noptions ? json_array() : NULL;
        for (size_t k = 0; k < c->lines[i].noptions; k++)
            json_array_append_new(options, json_pack("{s:s,s:I,s:I}", "option_id", c->lines[i].options[k].option_id,
                                                     "quantity", (json_int_t)c->lines[i].options[k].quantity,
                                                     "unit_price", (json_int_t)c->lines[i].options[k].unit_price));
        if (options) json_object_set_new(line, "options", options);
        json_array_append_new(lines, line);
    }
    char day[11];
    if (c->day >= 0) date_format(c->day, day);
    json_t *doc = json_object();
    json_object_set_new(doc, "channel", json_string(c->channel));
    json_object_set_new(doc, "category_id", *c->category_id ? json_string(c->category_id) : json_null());
    json_object_set_new(doc, "occurrence", json_string(c->occurrence));
    json_object_set_new(doc, "day", c->day >= 0 ? json_string(day) : json_null());
    json_object_set_new(doc, "start_time", int_or_null(c->start_time >= 0, c->start_time));
    json_object_set_new(doc, "end_time", int_or_null(c->end_time >= 0, c->end_time));
    json_object_set_new(doc, "starts_at", int_or_null(c->starts_at != 0, c->starts_at));
    json_object_set_new(doc, "ends_at", int_or_null(c->ends_at != 0, c->ends_at));
    json_object_set_new(doc, "external_id", c->external_id ? json_string(c->external_id) : json_null());
    json_t *extras = text_object(c->extras);
    json_object_set_new(doc, "extras", json_is_object(extras) ? extras : (json_decref(extras), json_object()));
    json_object_set_new(doc, "customer", text_object(c->customer));
    json_object_set_new(doc, "lines", lines);
    json_object_set_new(doc, "priced", json_boolean(c->priced));
    json_object_set_new(doc, "price_includes_tax", json_boolean(c->price_includes_tax));
    money fees = 0;
    for (size_t i = 0; i < c->nlines; i++) fees += c->lines[i].booking_fee * c->lines[i].quantity;
    json_object_set_new(doc, "total", json_integer(c->total));
    json_object_set_new(doc, "total_gross", json_integer(c->total));
    json_object_set_new(doc, "booking_fee_total", json_integer(fees));
    json_object_set_new(doc, "total_due", json_integer(c->total + fees));
    json_object_set_new(doc, "currency", json_string(c->currency));
    json_object_set_new(doc, "id", json_string(c->id));
    json_object_set_new(doc, "status", json_string(c->status));
    json_object_set_new(doc, "expires_at", json_integer(c->expires_at));
    json_object_set_new(doc, "created_at", json_integer(c->created_at));
    json_object_set_new(doc, "updated_at", json_integer(c->updated_at));
    json_object_set_new(doc, "order_id", *c->order_id ? json_string(c->order_id) : json_null());
    json_object_set_new(doc, "timezone", json_string(a->timezone));
    return doc;
}
