/* Availability: of one product over a date range, and of a whole cart per day
 * or per timeslot. Dates are venue-local; date_to is exclusive. */
#include "api/convious/convious.h"
#include <stdlib.h>
#include <string.h>

#define MAX_PRODUCT_RANGE_DAYS 366
#define MAX_CART_RANGE_DAYS 60

/* timeFrom/timeFromOffset/timeTo/timeToOffset of a slot. */
void cv_jb_slot_times(jbuf *b, const account *a, const slot *s, tz_offset_memo *offsets)
{
    char off[7];
    JB_KEY(b, "timeFrom");
    cv_jb_time(b, s->time_from >= 0, s->time_from);
    JB_KEY(b, "timeFromOffset");
    if (s->time_from >= 0) {
        tz_offset_format(tz_offset_memo_at(offsets, a->timezone, s->starts_at), off);
        jb_plain(b, off, 6);
    } else {
        jb_null(b);
    }
    JB_KEY(b, "timeTo");
    cv_jb_time(b, s->time_to >= 0, s->time_to);
    JB_KEY(b, "timeToOffset");
    if (s->time_to >= 0) {
        tz_offset_format(tz_offset_memo_at(offsets, a->timezone, s->ends_at ? s->ends_at : s->starts_at), off);
        jb_plain(b, off, 6);
    } else {
        jb_null(b);
    }
}

void cv_product_availability(http_request *r, void *app_)
{
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    const char *product = http_path_param(r, "product_id"), *category = http_query(r, "category_id");
    civil_date from, to;
    if (!http_query(r, "date_from")) return cv_error(r, 400, "missing_field", "date_from", "date_from is required");
    if (!http_query(r, "date_to")) return cv_error(r, 400, "missing_field", "date_to", "date_to is required");
    if (!cv_date_arg(r, http_query(r, "date_from"), "date_from", &from) ||
        !cv_date_arg(r, http_query(r, "date_to"), "date_to", &to))
        return;
    if (to < from) return cv_error(r, 400, "invalid_range", "date_to", "date_to is before date_from");
    if (to - from > MAX_PRODUCT_RANGE_DAYS)
        return cv_error(r, 400, "range_too_long", "date_to", "at most %d days at once", MAX_PRODUCT_RANGE_DAYS);
    if (api_reply_cached(r, app_, from, to)) return;
    /* the typed product, borrowed from the snapshot (no copy of its document) */
    catalog_view *catalog = catalog_view_open(e, a);
    if (!catalog) return cv_missing(r, BO_INTERNAL);
    const cat_product *p = model_product(catalog_view_model(catalog), product);
    if (!p) {
        catalog_view_close(catalog);
        return cv_missing(r, BO_NOT_FOUND);
    }
    if (!category && p->ncategories) category = p->category_ids[0];
    slot *slots;
    size_t n;
    bo_error err = {0};
    bo_status st = availability_product(e, a, product, http_query(r, "category_id"), from, to, &slots, &n, &err);
    if (st != BO_OK) {
        catalog_view_close(catalog);
        return cv_fail(r, &err);
    }
    /* straight into the reply's buffer: thousands of slots as a jansson tree
     * cost ten times their text */
    jbuf b;
    jb_init(&b, 64 + n * 256);
    jb_obj(&b);
    jb_key(&b, "results");
    jb_arr(&b);
    tz_offset_memo offsets = TZ_OFFSET_MEMO_INIT;
    char d[11];
    civil_date shown = -1; /* the day in d: slots come day by day */
    for (size_t i = 0; i < n; i++) {
        if (slots[i].day < 0) continue; /* undated products have no calendar */
        if (slots[i].day != shown) date_format(shown = slots[i].day, d);
        jb_obj(&b);
        JB_KEY(&b, "productId");
        jb_str(&b, product); /* a product of the catalog: UTF-8 */
        JB_KEY(&b, "categoryId");
        jb_str(&b, category); /* NULL: null */
        JB_KEY(&b, "day");
        jb_plain(&b, d, 10);
        cv_jb_slot_times(&b, a, &slots[i], &offsets);
        JB_KEY(&b, "availability");
        if (slots[i].available < 0) jb_null(&b);
        else jb_int(&b, slots[i].open ? slots[i].available : 0);
        jb_obj_end(&b);
    }
    jb_arr_end(&b);
    jb_obj_end(&b);
    free(slots);
    catalog_view_close(catalog); /* category may point into it */
    cv_reply_jbuf(r, &b);
}

/* The body of the availability and pricing requests:
 * {categoryId?, products: [{id, amount}]}. Replies 400 and returns false on bad input. */
bool cv_cart_lines(http_request *r, json_t *body, cart_line *lines, size_t max, size_t *n, const char **category)
{
    /* every failure of the list or of an entry has always been invalid_products on "products" */
    static const cv_field_code codes[] = {
        {"products", "invalid_products", NULL},
        {"products.id", "invalid_products", "products"},
        {"products.amount", "invalid_products", "products"},
        {NULL, NULL, NULL},
    };
    json_t *products = NULL;
    *category = NULL;
    const body_field fields[] = {
        {"categoryId", BF_STRING, false, 0, BF_UNLIMITED, category, NULL},
        {"products", BF_ARRAY, true, 0, (int64_t)max, &products, NULL},
    };
    if (!CV_FIELDS(r, body, "", fields, codes)) return false;
    if (json_array_size(products) == 0) {
        cv_error(r, 400, "invalid_products", "products", "products must be a list of 1 to %zu items", max);
        return false;
    }
    *n = 0;
    size_t i;
    json_t *it;
    json_array_foreach(products, i, it)
    {
        const char *id = NULL;
        int64_t amount = 0;
        const body_field entry[] = {
            {"id", BF_STRING, true, 0, BF_UNLIMITED, &id, NULL},
            {"amount", BF_INT, true, 1, 1000, &amount, NULL},
        };
        if (!CV_FIELDS(r, it, "products.", entry, codes)) return false;
        lines[*n].product_id = id;
        lines[*n].quantity = amount;
        (*n)++;
    }
    return true;
}

/* Shared by the period and day variants: the cart's slots in [from, to). */
static bool cart_slots(http_request *r, void *app_, civil_date from, civil_date to, slot **out, size_t *n)
{
    json_t *body = cv_body(r);
    if (!body) return false;
    cart_line lines[50];
    size_t nl;
    const char *category;
    if (!cv_cart_lines(r, body, lines, 50, &nl, &category)) return false;
    bo_error err = {0};
    if (availability_cart(cv_engine(app_), api_account(r), category, lines, nl, from, to, out, n, &err) != BO_OK) {
        cv_fail(r, &err);
        return false;
    }
    return true;
}

bool cv_period_args(http_request *r, civil_date *from, civil_date *to)
{
    if (!cv_date_arg(r, http_path_param(r, "date_from"), "date_from", from) ||
        !cv_date_arg(r, http_path_param(r, "date_to"), "date_to", to))
        return false;
    if (*to <= *from) {
        cv_error(r, 400, "invalid_range", "date_to", "date_to must be after date_from");
        return false;
    }
    if (*to - *from > MAX_CART_RANGE_DAYS) {
        cv_error(r, 400, "range_too_long", "date_to", "the period may not exceed %d days", MAX_CART_RANGE_DAYS);
        return false;
    }
    return true;
}

void cv_availability_period(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    civil_date from, to;
    if (!cv_period_args(r, &from, &to)) return;
    if (api_reply_cached(r, app_, from, to)) return;
    slot *slots;
    size_t n;
    if (!cart_slots(r, app_, from, to, &slots, &n)) return;
    json_t *results = json_array();
    for (civil_date d = from; d < to; d++) {
        bool any = false;
        for (size_t i = 0; i < n; i++)
            if ((slots[i].day == d || slots[i].day < 0) && slots[i].open && slots[i].available != 0) any = true;
        char ds[11];
        date_format(d, ds);
        json_array_append_new(results, json_pack("{s:s,s:b}", "day", ds, "available", any));
    }
    free(slots);
    http_reply_json(r, 200, json_pack("{s:o}", "results", results));
}

void cv_availability_day(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    civil_date day;
    if (!cv_date_arg(r, http_path_param(r, "date"), "date", &day)) return;
    if (api_reply_cached(r, app_, day, day + 1)) return;
    slot *slots;
    size_t n;
    if (!cart_slots(r, app_, day, day + 1, &slots, &n)) return;
    jbuf b;
    jb_init(&b, 64 + n * 200);
    jb_obj(&b);
    jb_key(&b, "results");
    jb_arr(&b);
    char ds[11];
    date_format(day, ds);
    tz_offset_memo offsets = TZ_OFFSET_MEMO_INIT;
    for (size_t i = 0; i < n; i++) {
        jb_obj(&b);
        JB_KEY(&b, "day");
        jb_plain(&b, ds, 10);
        cv_jb_slot_times(&b, api_account(r), &slots[i], &offsets);
        JB_KEY(&b, "available");
        jb_bool(&b, slots[i].open && slots[i].available != 0);
        jb_obj_end(&b);
    }
    jb_arr_end(&b);
    jb_obj_end(&b);
    free(slots);
    cv_reply_jbuf(r, &b);
}
