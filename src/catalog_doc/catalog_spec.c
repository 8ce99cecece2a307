/* Declarative validation of catalog documents: one table of fields per kind,
 * then each kind's own cross-field checks. */
#include "catalog_doc/catalog_spec.h"
#include "util/json_read.h"
#include "util/secure.h"

/* ten years of 366 days */
#define SCAN_SECONDS_MAX (10LL * 366 * 86400)
#include <stdio.h>
#include <string.h>

#define SPEC(arr, fn) {arr, sizeof arr / sizeof arr[0], fn}

static const field_spec location_fields[] = {
    {"name", F_STRING, true, NULL, 0},
    {"timezone", F_TIMEZONE, true, NULL, 0},
    {"address", F_STRING, false, NULL, 0},
    {"external_ids", F_OBJECT, false, NULL, 0},
};

static const field_spec category_fields[] = {
    {"name", F_TEXT_MAP, true, NULL, 0},
    {"description", F_TEXT_MAP, false, NULL, 0},
    {"parent_id", F_REF, false, NULL, CAT_CATEGORY},
    {"priority", F_INT, false, NULL, 0},
    {"enabled", F_BOOL, false, NULL, 0},
    {"show_in_checkout", F_BOOL, false, NULL, 0},
    {"flow", F_ENUM, false, "undated|dated|rtp|date_change|date_reservation", 0},
    {"schedule_id", F_REF, false, NULL, CAT_SCHEDULE},
    {"location_id", F_REF, false, NULL, CAT_LOCATION},
    {"images", F_ARRAY, false, NULL, 0},
    {"external_ids", F_OBJECT, false, NULL, 0},
};

static const field_spec schedule_fields[] = {
    {"name", F_STRING, false, NULL, 0},
    {"weekdays", F_ARRAY, false, NULL, 0},
    {"open", F_TIME, true, NULL, 0},
    {"close", F_TIME, true, NULL, 0},
    {"slot_minutes", F_INT, false, NULL, 0},
    {"closed_dates", F_ARRAY, false, NULL, 0},
    {"valid_from", F_DATE, false, NULL, 0},
    {"valid_to", F_DATE, false, NULL, 0},
};

static const field_spec event_fields[] = {
    {"name", F_STRING, true, NULL, 0},
    {"description", F_STRING, false, NULL, 0},
    {"location_id", F_REF, false, NULL, CAT_LOCATION},
    {"category_id", F_REF, false, NULL, CAT_CATEGORY},
    {"schedule_id", F_REF, false, NULL, CAT_SCHEDULE},
    {"status", F_ENUM, false, "draft|published|cancelled", 0},
    {"occurrences", F_ARRAY, false, NULL, 0},
    {"images", F_ARRAY, false, NULL, 0},
    {"external_ids", F_OBJECT, false, NULL, 0},
    {"extras", F_OBJECT, false, NULL, 0},
    {"payment_method_ids", F_REF_LIST, false, NULL, CAT_PAYMENT_METHOD},
    {"slug", F_STRING, false, NULL, 0},
};

static const field_spec pool_fields[] = {
    {"name", F_STRING, false, NULL, 0},
    {"capacity", F_INT_OR_NULL, true, NULL, 0},
    {"per", F_ENUM, false, "occurrence|total", 0},
};

static const field_spec product_fields[] = {
    {"name", F_TEXT_MAP, true, NULL, 0},
    {"description", F_TEXT_MAP, false, NULL, 0},
    {"kind", F_ENUM, false, "ticket|addon|bundle", 0},
    {"category_ids", F_REF_LIST, false, NULL, CAT_CATEGORY},
    {"event_id", F_REF, false, NULL, CAT_EVENT},
    {"enabled", F_BOOL, false, NULL, 0},
    {"priority", F_INT, false, NULL, 0},
    {"min_per_order", F_INT, false, NULL, 0},
    {"max_per_order", F_INT_OR_NULL, false, NULL, 0},
    {"show_from", F_DATE, false, NULL, 0},
    {"show_to", F_DATE, false, NULL, 0},
    {"valid_from", F_DATE, false, NULL, 0},
    {"valid_to", F_DATE, false, NULL, 0},
    {"dated", F_BOOL, false, NULL, 0},
    {"price", F_MONEY, true, NULL, 0},
    {"gate_price", F_MONEY, false, NULL, 0},
    {"price_includes_tax", F_BOOL, false, NULL, 0},
    {"booking_fee", F_MONEY, false, NULL, 0},
    {"taxes", F_ARRAY, false, NULL, 0},
    {"prices", F_ARRAY, false, NULL, 0},
    {"pools", F_ARRAY, false, NULL, 0},
    {"scan", F_OBJECT, false, NULL, 0},
    {"barcode_format", F_ENUM, false, "code128|qrcode|ean13|pdf417|aztec", 0},
    {"external_ids", F_OBJECT, false, NULL, 0},
    {"images", F_ARRAY, false, NULL, 0},
    {"apf_enabled", F_BOOL, false, NULL, 0},
    {"business_type", F_STRING, false, NULL, 0},
    {"group_id", F_REF, false, NULL, CAT_TICKET_GROUP},
    {"options", F_ARRAY, false, NULL, 0},
    {"apf_fields", F_ARRAY, false, NULL, 0},
    {"slug", F_STRING, false, NULL, 0},
    {"price_tiers", F_ARRAY, false, NULL, 0},
    {"supplements", F_ARRAY, false, NULL, 0},
    {"warranty", F_OBJECT, false, NULL, 0},
};

/* The entries of a product's lists that are objects of their own: checked
 * with the same table machinery (check_entries), their ids by hand. */
static const field_spec option_fields[] = {
    {"name", F_TEXT_MAP, true, NULL, 0},
    {"price", F_MONEY, true, NULL, 0},
    {"taxes", F_ARRAY, false, NULL, 0},
    {"max_quantity", F_INT, false, NULL, 0},
};

static const field_spec apf_field_fields[] = {
    {"label", F_TEXT_MAP, true, NULL, 0},
    {"type", F_ENUM, false, "text|email|phone|date|number|checkbox", 0},
    {"required", F_BOOL, false, NULL, 0},
};

#define PRODUCT_LIST_MAX 50 /* options or form fields of one product */
#define ENTRY_ID_MAX 64

static const field_spec discount_fields[] = {
    {"code", F_STRING, true, NULL, 0},
    {"name", F_STRING, false, NULL, 0},
    {"type", F_ENUM, true, "fixed|percentage", 0},
    {"amount", F_MONEY, false, NULL, 0},
    {"percent_bp", F_INT, false, NULL, 0},
    {"product_ids", F_REF_LIST, false, NULL, CAT_PRODUCT},
    {"expires_at", F_INSTANT, false, NULL, 0},
    {"max_redemptions", F_INT_OR_NULL, false, NULL, 0},
    {"external_id", F_STRING, false, NULL, 0},
    {"booking_fee_amount", F_MONEY, false, NULL, 0},
    {"booking_fee_percent_bp", F_INT, false, NULL, 0},
};

static const field_spec voucher_fields[] = {
    {"name", F_STRING, true, NULL, 0},
    {"value", F_MONEY, true, NULL, 0},
    {"type", F_ENUM, false, "gift_card|credit", 0},
    {"expires_at", F_INSTANT, false, NULL, 0},
    {"partial_redemption", F_BOOL, false, NULL, 0},
    {"event_ids", F_REF_LIST, false, NULL, CAT_EVENT},
};

static const field_spec ticket_group_fields[] = {
    {"name", F_STRING, true, NULL, 0},
    {"sort_order", F_INT, false, NULL, 0},
    {"max_per_order", F_INT_OR_NULL, false, NULL, 0},
    {"event_id", F_REF, false, NULL, CAT_EVENT},
};

static const field_spec payment_method_fields[] = {
    {"name", F_STRING, true, NULL, 0},
    {"kind", F_ENUM, true, "card|cash|bank_transfer|offline|paypal|other", 0},
    {"instructions", F_STRING, false, NULL, 0},
    {"fee_fixed", F_MONEY, false, NULL, 0},
    {"fee_percent_bp", F_INT, false, NULL, 0},
    {"enabled", F_BOOL, false, NULL, 0},
    {"sort_order", F_INT, false, NULL, 0},
    {"external_id", F_STRING, false, NULL, 0},
};

static const field_spec guest_list_fields[] = {
    {"name", F_STRING, true, NULL, 0},
    {"event_id", F_REF, true, NULL, CAT_EVENT},
    {"slug", F_STRING, false, NULL, 0},
    {"enabled", F_BOOL, false, NULL, 0},
    {"prices", F_ARRAY, true, NULL, 0},
};

/* The answer types catalog_compile.c maps to cat_question_type, in that order. */
#define QUESTION_TYPES "text|textarea|select|checkbox|email|phone|date|number"

static const field_spec question_fields[] = {
    {"label", F_TEXT_MAP, true, NULL, 0},
    {"type", F_ENUM, true, QUESTION_TYPES, 0},
    {"options", F_ARRAY, false, NULL, 0},
    {"required", F_BOOL, false, NULL, 0},
    {"scope", F_ENUM, false, "order|ticket", 0},
    {"product_ids", F_REF_LIST, false, NULL, CAT_PRODUCT},
};

static bo_status check_weekday_list(json_t *arr, const char *field, bo_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 6)
            return bo_fail(err, BO_INVALID, "invalid_weekday", field, "%s holds weekdays 0 (Monday) to 6 (Sunday)",
                           field);
    }
    return BO_OK;
}

static bo_status check_schedule(json_t *doc, bo_error *err)
{
    int32_t open, close;
    time_of_day_parse(jstr(doc, "open"), &open);
    time_of_day_parse(jstr(doc, "close"), &close);
    if (close <= open) return bo_fail(err, BO_INVALID, "invalid_hours", "close", "close must be after open");
    int64_t slot_minutes = jint(doc, "slot_minutes", 0);
    if (slot_minutes > 1440) return bo_fail(err, BO_INVALID, "invalid_slot", "slot_minutes", "slot_minutes at most 1440");
    json_t *wd = json_object_get(doc, "weekdays");
    if (wd && check_weekday_list(wd, "weekdays", err) != BO_OK) return err->status;
    json_t *cd = json_object_get(doc, "closed_dates");
    size_t i;
    json_t *v;
    civil_date d;
    json_array_foreach(cd, i, v)
    {
        if (!date_parse(json_string_value(v), &d))
            return bo_fail(err, BO_INVALID, "invalid_date", "closed_dates", "closed_dates holds YYYY-MM-DD dates");
    }
    return BO_OK;
}

/* A slug names its object in a URL path (Fourvenues' by-slug reads): 1-100 of [a-z0-9-]. */
static bo_status check_slug(json_t *doc, bo_error *err)
{
    const char *slug = jstr(doc, "slug");
    if (!slug) return BO_OK;
    size_t n = strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-");
    if (!*slug || slug[n] || n > 100)
        return bo_fail(err, BO_INVALID, "invalid_slug", "slug", "slug must be 1-100 of a-z, 0-9 and -");
    return BO_OK;
}

static bo_status check_event(json_t *doc, bo_error *err)
{
    if (check_slug(doc, err) != BO_OK) return err->status;
    json_t *occ = json_object_get(doc, "occurrences");
    size_t i;
    json_t *o;
    json_array_foreach(occ, i, o)
    {
        instant_us s, en = 0;
        if (!json_is_object(o) || !iso_parse(jstr(o, "start"), NULL, &s))
            return bo_fail(err, BO_INVALID, "invalid_occurrence", "occurrences",
                           "each occurrence needs an ISO 8601 start");
        if (jstr(o, "end") && (!iso_parse(jstr(o, "end"), NULL, &en) || en < s))
            return bo_fail(err, BO_INVALID, "invalid_occurrence", "occurrences", "occurrence end must follow start");
        /* an occurrence's id is its capacity key (slot.key: 63 characters and a NUL) */
        if (jstr(o, "id") && strlen(jstr(o, "id")) >= sizeof ((slot *)0)->key)
            return bo_fail(err, BO_INVALID, "invalid_occurrence", "occurrences.id",
                           "an occurrence id is at most %zu characters", sizeof ((slot *)0)->key - 1);
        if (!jstr(o, "id")) {
            char id[40];
            rand_uuid(id);
            char full[48];
            snprintf(full, sizeof full, "oc_%.32s", id);
            json_object_set_new(o, "id", json_string(full));
        }
    }
    return BO_OK;
}

/* Whether every key of o is one of the NULL-terminated names. */
static bool keys_within(const json_t *o, const char *const *names)
{
    const char *key;
    json_t *ignored;
    json_object_foreach((json_t *)o, key, ignored)
    {
        bool known = false;
        for (size_t i = 0; names[i] && !known; i++) known = !strcmp(key, names[i]);
        if (!known) return false;
    }
    return true;
}

static bool int_within(const json_t *o, const char *key, int64_t lo, int64_t hi, bool required)
{
    json_t *v = json_object_get(o, key);
    if (!v) return !required;
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static bool text_within(const json_t *o, const char *key, size_t max, bool required)
{
    json_t *v = json_object_get(o, key);
    if (!v) return !required;
    return json_is_string(v) && json_string_length(v) >= (required ? 1 : 0) && json_string_length(v) <= max &&
           strlen(json_string_value(v)) == json_string_length(v);
}

#define MAX_TIERS 100
#define MAX_MONEY 1000000000000LL

/* Whether list's objects have unique string ids of 1-64 characters. */
static bool ids_unique(const json_t *list)
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *id = jstr(json_array_get(list, i), "id");
        if (!id || !*id || strlen(id) > 64) return false;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(id, jstr(json_array_get(list, k), "id"))) return false;
    }
    return true;
}

/* Price tiers, supplements and warranty (docs/MODEL.md, "Price tiers"). */
static bo_status check_tiers(json_t *doc, bo_error *err)
{
    static const char *const tier_keys[] = {"id", "name", "price", "valid_until", "quantity", "fee_amount",
                                            "fee_percent_bp", "includes", "additional_info", NULL};
    static const char *const supplement_keys[] = {"id", "name", "price", NULL};
    static const char *const warranty_keys[] = {"enabled", "percent_bp", "hours", NULL};
    json_t *tiers = json_object_get(doc, "price_tiers"), *supplements = json_object_get(doc, "supplements");
    size_t i;
    json_t *v;
    if (json_array_size(tiers) > MAX_TIERS || !ids_unique(tiers))
        return bo_fail(err, BO_INVALID, "invalid_price_tier", "price_tiers",
                       "at most 100 price tiers, each with its own id of 1-64 characters");
    json_array_foreach(tiers, i, v)
    {
        instant_us until;
        if (!json_is_object(v) || !keys_within(v, tier_keys) || !text_within(v, "name", 200, true) ||
            !int_within(v, "price", 0, MAX_MONEY, true) || !int_within(v, "quantity", 0, MAX_MONEY, false) ||
            !int_within(v, "fee_amount", 0, MAX_MONEY, false) || !int_within(v, "fee_percent_bp", 0, 10000, false) ||
            !text_within(v, "includes", 500, false) || !text_within(v, "additional_info", 500, false) ||
            (json_object_get(v, "valid_until") && !iso_parse(jstr(v, "valid_until"), NULL, &until)))
            return bo_fail(err, BO_INVALID, "invalid_price_tier", "price_tiers",
                           "each price tier needs id, name and price >= 0; quantity >= 0; fee_amount >= 0 or "
                           "fee_percent_bp 0..10000; valid_until an ISO 8601 time; texts of at most 500 characters");
        if (json_object_get(v, "fee_amount") && json_object_get(v, "fee_percent_bp"))
            return bo_fail(err, BO_INVALID, "invalid_price_tier", "price_tiers",
                           "a price tier's fee is fee_amount or fee_percent_bp, not both");
    }
    if (json_array_size(supplements) > MAX_TIERS || !ids_unique(supplements))
        return bo_fail(err, BO_INVALID, "invalid_supplement", "supplements",
                       "at most 100 supplements, each with its own id of 1-64 characters");
    json_array_foreach(supplements, i, v)
    {
        if (!json_is_object(v) || !keys_within(v, supplement_keys) || !text_within(v, "name", 200, true) ||
            !int_within(v, "price", 0, MAX_MONEY, true))
            return bo_fail(err, BO_INVALID, "invalid_supplement", "supplements",
                           "each supplement needs id, name and price >= 0");
    }
    json_t *w = json_object_get(doc, "warranty");
    if (w && (!keys_within(w, warranty_keys) || !json_is_boolean(json_object_get(w, "enabled")) ||
              !int_within(w, "percent_bp", 0, 10000, true) || !int_within(w, "hours", 0, 8760, true)))
        return bo_fail(err, BO_INVALID, "invalid_warranty", "warranty",
                       "warranty needs enabled (true/false), percent_bp 0..10000 and hours 0..8760");
    return BO_OK;
}

static bo_status check_taxes(json_t *taxes, const char *field, bo_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(taxes, i, v)
    {
        json_t *rate = json_object_get(v, "rate_bp");
        if (!json_is_object(v) || !json_is_integer(rate) || json_integer_value(rate) < 0 ||
            json_integer_value(rate) > 10000)
            return bo_fail(err, BO_INVALID, "invalid_tax", field, "each tax needs rate_bp 0..10000");
        json_t *prop = json_object_get(v, "proportion_bp");
        if (prop && (!json_is_integer(prop) || json_integer_value(prop) < 0 || json_integer_value(prop) > 10000))
            return bo_fail(err, BO_INVALID, "invalid_tax", field, "proportion_bp must be 0..10000");
        if (!prop) json_object_set_new(v, "proportion_bp", json_integer(10000));
        if (!jstr(v, "type")) json_object_set_new(v, "type", json_string("VAT"));
    }
    return BO_OK;
}

/* A list of objects with ids unique in the list (a product's options or form
 * fields), each checked against `fields`; errors name "<list>.<field>". */
static bo_status check_entries(json_t *list, const char *name, const field_spec *fields, size_t nfields,
                               bo_error *err)
{
    if (json_array_size(list) > PRODUCT_LIST_MAX)
        return bo_fail(err, BO_INVALID, "invalid_field", name, "%s holds at most %d entries", name, PRODUCT_LIST_MAX);
    const kind_spec spec = {fields, nfields, NULL};
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        char field[64];
        const char *id = jstr(v, "id");
        snprintf(field, sizeof field, "%s.id", name);
        if (!json_is_object(v) || !id || !*id || strlen(id) > ENTRY_ID_MAX)
            return bo_fail(err, BO_INVALID, "invalid_field", field, "each entry of %s needs an id of 1 to %d characters",
                           name, ENTRY_ID_MAX);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(id, jstr(json_array_get(list, j), "id")))
                return bo_fail(err, BO_INVALID, "duplicate_id", field, "%s names %s twice", name, id);
        json_t *created = json_object_get(v, "created_at"), *updated = json_object_get(v, "updated_at");
        if (created || updated)
            return bo_fail(err, BO_INVALID, "unknown_field", name, "unknown field in %s", name);
        if (spec_validate(&spec, v, NULL, NULL, err) != BO_OK) {
            char dotted[sizeof err->field + 16];
            snprintf(dotted, sizeof dotted, "%s.%s", name, err->field);
            snprintf(err->field, sizeof err->field, "%.*s", (int)sizeof err->field - 1, dotted);
            return err->status;
        }
    }
    return BO_OK;
}

static bo_status check_product(json_t *doc, bo_error *err)
{
    size_t i;
    json_t *v;
    if (check_slug(doc, err) != BO_OK || check_tiers(doc, err) != BO_OK) return err->status;
    if (check_taxes(json_object_get(doc, "taxes"), "taxes", err) != BO_OK) return err->status;
    json_t *options = json_object_get(doc, "options");
    if (check_entries(options, "options", option_fields, sizeof option_fields / sizeof option_fields[0], err) != BO_OK)
        return err->status;
    json_array_foreach(options, i, v)
    {
        if (check_taxes(json_object_get(v, "taxes"), "options.taxes", err) != BO_OK) return err->status;
        int64_t max = jint(v, "max_quantity", 1);
        if (max < 1 || max > 1000)
            return bo_fail(err, BO_INVALID, "invalid_field", "options.max_quantity", "max_quantity must be 1..1000");
    }
    if (check_entries(json_object_get(doc, "apf_fields"), "apf_fields", apf_field_fields,
                      sizeof apf_field_fields / sizeof apf_field_fields[0], err) != BO_OK)
        return err->status;
    json_array_foreach(json_object_get(doc, "pools"), i, v)
    {
        if (!json_is_object(v) || !jstr(v, "pool_id"))
            return bo_fail(err, BO_INVALID, "invalid_pool", "pools", "each pool entry needs pool_id");
        int64_t amount = jint(v, "amount", 1);
        if (amount < 1 || amount > 1000)
            return bo_fail(err, BO_INVALID, "invalid_pool", "pools", "pool amount must be 1..1000");
        json_object_set_new(v, "amount", json_integer(amount));
    }
    json_array_foreach(json_object_get(doc, "prices"), i, v)
    {
        civil_date d;
        int32_t t;
        json_t *p = json_object_get(v, "price");
        if (!json_is_object(v) || !json_is_integer(p) || json_integer_value(p) < 0)
            return bo_fail(err, BO_INVALID, "invalid_price_rule", "prices", "each price rule needs price >= 0");
        if ((jstr(v, "date_from") && !date_parse(jstr(v, "date_from"), &d)) ||
            (jstr(v, "date_to") && !date_parse(jstr(v, "date_to"), &d)) ||
            (jstr(v, "time_from") && !time_of_day_parse(jstr(v, "time_from"), &t)) ||
            (jstr(v, "time_to") && !time_of_day_parse(jstr(v, "time_to"), &t)))
            return bo_fail(err, BO_INVALID, "invalid_price_rule", "prices", "bad date or time in a price rule");
        json_t *wd = json_object_get(v, "weekdays");
        if (wd && check_weekday_list(wd, "prices", err) != BO_OK) return err->status;
    }
    json_t *scan = json_object_get(doc, "scan");
    if (scan) {
        const char *limit = jstr(scan, "limit");
        if (limit && strcmp(limit, "once") && strcmp(limit, "none") && strcmp(limit, "times_per_day"))
            return bo_fail(err, BO_INVALID, "invalid_scan_limit", "scan.limit",
                           "scan.limit is once, none or times_per_day");
        /* durations at most ten years (valid_from + validity must not overflow), counts as F_INT */
        const char *ints[] = {"times", "max_scans", "validity_seconds", "time_seconds"};
        const int64_t max[] = {1000000000000LL, 1000000000000LL, SCAN_SECONDS_MAX, SCAN_SECONDS_MAX};
        for (size_t k = 0; k < 4; k++) {
            json_t *x = json_object_get(scan, ints[k]);
            if (x && !json_is_null(x) && (!json_is_integer(x) || json_integer_value(x) < 0))
                return bo_fail(err, BO_INVALID, "invalid_scan", ints[k], "%s must be a non-negative integer",
                               ints[k]);
            if (x && json_is_integer(x) && json_integer_value(x) > max[k])
                return bo_fail(err, BO_INVALID, "invalid_scan", ints[k], "%s must be at most %lld", ints[k],
                               (long long)max[k]);
        }
    }
    int64_t minq = jint(doc, "min_per_order", 0), maxq = jint(doc, "max_per_order", -1);
    if (maxq >= 0 && minq > maxq)
        return bo_fail(err, BO_INVALID, "invalid_limits", "min_per_order", "min_per_order exceeds max_per_order");
    return BO_OK;
}

static bo_status check_discount(json_t *doc, bo_error *err)
{
    const char *type = jstr(doc, "type");
    bool fee_amount = json_object_get(doc, "booking_fee_amount") != NULL,
         fee_percent = json_object_get(doc, "booking_fee_percent_bp") != NULL;
    if (fee_amount && fee_percent)
        return bo_fail(err, BO_INVALID, "invalid_field", "booking_fee_percent_bp",
                       "a discount takes booking_fee_amount or booking_fee_percent_bp, not both");
    if (fee_percent && jint(doc, "booking_fee_percent_bp", 0) > 10000)
        return bo_fail(err, BO_INVALID, "invalid_percentage", "booking_fee_percent_bp",
                       "booking_fee_percent_bp is 0..10000");
    /* a discount of the booking fee alone needs no amount off the price */
    if (!strcmp(type, "fixed") && !json_is_integer(json_object_get(doc, "amount")) && !fee_amount && !fee_percent)
        return bo_fail(err, BO_INVALID, "missing_field", "amount", "a fixed discount needs amount");
    if (!strcmp(type, "percentage") && (json_object_get(doc, "percent_bp") || (!fee_amount && !fee_percent))) {
        int64_t bp = jint(doc, "percent_bp", -1);
        if (bp < 0 || bp > 10000)
            return bo_fail(err, BO_INVALID, "invalid_percentage", "percent_bp",
                           "a percentage discount needs percent_bp 0..10000");
    }
    return BO_OK;
}

/* Options are the select's choices: 1..100 distinct non-empty strings, and
 * only a select has them (an answer is checked against them). */
static bo_status check_question(json_t *doc, bo_error *err)
{
    json_t *options = json_object_get(doc, "options");
    bool select = !strcmp(jstr(doc, "type"), "select");
    if (select && json_array_size(options) == 0)
        return bo_fail(err, BO_INVALID, "missing_field", "options", "a select question needs options");
    if (!select && options)
        return bo_fail(err, BO_INVALID, "invalid_field", "options", "only a select question has options");
    if (json_array_size(options) > 100)
        return bo_fail(err, BO_INVALID, "invalid_field", "options", "at most 100 options");
    size_t i, k;
    json_t *v;
    json_array_foreach(options, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !*s || strlen(s) > 200)
            return bo_fail(err, BO_INVALID, "invalid_field", "options", "options are non-empty strings of 200 bytes at most");
        for (k = 0; k < i; k++)
            if (!strcmp(json_string_value(json_array_get(options, k)), s))
                return bo_fail(err, BO_INVALID, "invalid_field", "options", "option %s is listed twice", s);
    }
    return BO_OK;
}

static bo_status check_payment_method(json_t *doc, bo_error *err)
{
    if (jint(doc, "fee_percent_bp", 0) > 10000)
        return bo_fail(err, BO_INVALID, "invalid_percentage", "fee_percent_bp", "fee_percent_bp is 0..10000");
    return BO_OK;
}

/* A guest list's prices (docs/MODEL.md, "Guest lists"): 1-100, each with its
 * own id, a name, a price, for men and/or women, a minimum age, and times. */
static bo_status check_guest_list(json_t *doc, bo_error *err)
{
    static const char *const price_keys[] = {"id", "name", "price", "shown_from", "valid_from", "valid_until",
                                             "men", "women", "min_age", NULL};
    static const char *const times[] = {"shown_from", "valid_from", "valid_until"};
    if (check_slug(doc, err) != BO_OK) return err->status;
    json_t *prices = json_object_get(doc, "prices");
    if (!json_array_size(prices) || json_array_size(prices) > MAX_TIERS || !ids_unique(prices))
        return bo_fail(err, BO_INVALID, "invalid_guest_list_price", "prices",
                       "1 to 100 prices, each with its own id of 1-64 characters");
    size_t i;
    json_t *v;
    json_array_foreach(prices, i, v)
    {
        instant_us at[3] = {0, 0, 0};
        bool ok = json_is_object(v) && keys_within(v, price_keys) && text_within(v, "name", 200, true) &&
                  int_within(v, "price", 0, MAX_MONEY, true) && int_within(v, "min_age", 0, 150, false);
        for (size_t k = 0; ok && k < 3; k++)
            ok = !json_object_get(v, times[k]) || iso_parse(jstr(v, times[k]), NULL, &at[k]);
        for (size_t k = 0; ok && k < 2; k++) {
            json_t *b = json_object_get(v, k ? "women" : "men");
            ok = !b || json_is_boolean(b);
        }
        if (!ok)
            return bo_fail(err, BO_INVALID, "invalid_guest_list_price", "prices",
                           "each price needs id, name and price >= 0; men and women true or false; min_age "
                           "0..150; shown_from, valid_from and valid_until ISO 8601 times");
        if (at[1] && at[2] && at[2] < at[1])
            return bo_fail(err, BO_INVALID, "invalid_guest_list_price", "prices",
                           "a price's valid_until must not be before its valid_from");
    }
    return BO_OK;
}

static const kind_spec specs[CAT__COUNT] = {
    [CAT_LOCATION] = SPEC(location_fields, NULL), [CAT_CATEGORY] = SPEC(category_fields, NULL),
    [CAT_SCHEDULE] = SPEC(schedule_fields, check_schedule), [CAT_EVENT] = SPEC(event_fields, check_event),
    [CAT_POOL] = SPEC(pool_fields, NULL), [CAT_PRODUCT] = SPEC(product_fields, check_product),
    [CAT_DISCOUNT] = SPEC(discount_fields, check_discount), [CAT_VOUCHER] = SPEC(voucher_fields, NULL),
    [CAT_QUESTION] = SPEC(question_fields, check_question),
    [CAT_TICKET_GROUP] = SPEC(ticket_group_fields, NULL),
    [CAT_PAYMENT_METHOD] = SPEC(payment_method_fields, check_payment_method),
    [CAT_GUEST_LIST] = SPEC(guest_list_fields, check_guest_list),
};

const kind_spec *kind_spec_for(catalog_kind k) { return k < CAT__COUNT ? &specs[k] : NULL; }

static bool enum_has(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static bo_status check_field(const field_spec *f, json_t *doc, json_t *v,
                             bool (*exists)(catalog_kind, const char *, void *), void *ctx, bo_error *err)
{
    const char *s = json_string_value(v);
    civil_date d;
    int32_t t;
    instant_us in;
    switch (f->type) {
    case F_STRING:
        if (!s || !*s || strlen(s) > 1000) goto bad;
        return BO_OK;
    case F_TEXT_MAP:
        if (s) {
            if (!*s || strlen(s) > 1000) goto bad;
            json_object_set_new(doc, f->name, json_pack("{s:s}", "en", s));
            return BO_OK;
        }
        if (!json_is_object(v) || json_object_size(v) == 0) goto bad;
        {
            const char *k;
            json_t *x;
            json_object_foreach(v, k, x)
            {
                if (!json_is_string(x) || strlen(k) > 16) goto bad;
            }
        }
        return BO_OK;
    case F_INT:
    case F_MONEY:
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000000000LL) goto bad;
        return BO_OK;
    case F_INT_OR_NULL:
        if (json_is_null(v)) return BO_OK;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000000000LL) goto bad;
        return BO_OK;
    case F_BOOL:
        if (!json_is_boolean(v)) goto bad;
        return BO_OK;
    case F_DATE:
        if (!date_parse(s, &d)) goto bad;
        return BO_OK;
    case F_TIME:
        if (!time_of_day_parse(s, &t)) goto bad;
        return BO_OK;
    case F_INSTANT:
        if (!iso_parse(s, NULL, &in)) goto bad;
        return BO_OK;
    case F_TIMEZONE:
        if (!tz_valid(s)) goto bad;
        return BO_OK;
    case F_ENUM:
        if (!s || !enum_has(f->choices, s)) goto bad;
        return BO_OK;
    case F_REF:
        if (json_is_null(v)) return BO_OK;
        if (!s) goto bad;
        if (!exists(f->ref, s, ctx))
            return bo_fail(err, BO_INVALID, "unknown_reference", f->name, "%s: no %s with id %s", f->name,
                           catalog_kind_name(f->ref), s);
        return BO_OK;
    case F_REF_LIST: {
        if (!json_is_array(v)) goto bad;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x)) goto bad;
            if (!exists(f->ref, json_string_value(x), ctx))
                return bo_fail(err, BO_INVALID, "unknown_reference", f->name, "%s: no %s with id %s", f->name,
                               catalog_kind_name(f->ref), json_string_value(x));
        }
        return BO_OK;
    }
    case F_OBJECT:
        if (!json_is_object(v)) goto bad;
        return BO_OK;
    case F_ARRAY:
        if (!json_is_array(v)) goto bad;
        return BO_OK;
    }
bad:;
    static const char *expect[] = {"a non-empty string", "a map of language to text", "a non-negative integer",
                                   "a non-negative integer or null", "an integer amount in minor units",
                                   "true or false", "a date YYYY-MM-DD", "a time HH:MM:SS",
                                   "an ISO 8601 date-time", "an IANA time zone", "one of", "an id",
                                   "a list of ids", "an object", "a list"};
    return bo_fail(err, BO_INVALID, "invalid_field", f->name, "%s must be %s%s%s", f->name, expect[f->type],
                   f->type == F_ENUM ? " " : "", f->type == F_ENUM ? f->choices : "");
}

bo_status spec_validate(const kind_spec *spec, json_t *doc, bool (*exists)(catalog_kind, const char *, void *),
                        void *ctx, bo_error *err)
{
    if (!json_is_object(doc)) return bo_fail(err, BO_INVALID, "invalid_body", "", "expected a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (!strcmp(key, "id") || !strcmp(key, "created_at") || !strcmp(key, "updated_at")) continue;
        bool known = false;
        for (size_t i = 0; i < spec->nfields && !known; i++) known = !strcmp(spec->fields[i].name, key);
        if (!known) return bo_fail(err, BO_INVALID, "unknown_field", key, "unknown field %s", key);
    }
    for (size_t i = 0; i < spec->nfields; i++) {
        const field_spec *f = &spec->fields[i];
        json_t *fv = json_object_get(doc, f->name);
        if (!fv || (json_is_null(fv) && f->type != F_INT_OR_NULL && f->type != F_REF)) {
            if (f->required) return bo_fail(err, BO_INVALID, "missing_field", f->name, "%s is required", f->name);
            if (fv) json_object_del(doc, f->name);
            continue;
        }
        if (f->required && json_is_null(fv) && f->type == F_REF)
            return bo_fail(err, BO_INVALID, "missing_field", f->name, "%s is required", f->name);
        if (check_field(f, doc, fv, exists, ctx, err) != BO_OK) return err->status;
    }
    return spec->check ? spec->check(doc, err) : BO_OK;
}
