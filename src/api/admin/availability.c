/* GET /admin/v1/availability?product_id=&from=&to=[&category_id=]: every
 * occurrence of a product in a date range with the tickets still available
 * there. `to` is inclusive; both default to a week from today (the account's
 * zone). A slot's date and start_time are what POST /carts takes. */
#include "api/admin/admin.h"
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DAYS 7
#define MAX_DAYS 366

static json_t *time_or_null(int32_t secs)
{
    if (secs < 0) return json_null();
    char t[9];
    time_of_day_format(secs, t);
    return json_string(t);
}

static json_t *slot_json(const slot *s)
{
    char d[11];
    if (s->day >= 0) date_format(s->day, d);
    json_t *o = json_object();
    json_object_set_new(o, "occurrence", json_string(s->key));
    json_object_set_new(o, "date", s->day >= 0 ? json_string(d) : json_null());
    json_object_set_new(o, "start_time", time_or_null(s->time_from));
    json_object_set_new(o, "end_time", time_or_null(s->time_to));
    json_object_set_new(o, "starts_at", s->starts_at ? json_integer(s->starts_at) : json_null());
    json_object_set_new(o, "ends_at", s->ends_at ? json_integer(s->ends_at) : json_null());
    json_object_set_new(o, "available", s->available >= 0 ? json_integer(s->available) : json_null());
    json_object_set_new(o, "open", json_boolean(s->open));
    return o;
}

void admin_availability_get(http_request *r, void *app_)
{
    static const char *const known[] = {"product_id", "category_id", "from", "to", NULL};
    if (!admin_query_known(r, known)) return;
    const account *a = api_account(r);
    const char *product_id = http_query(r, "product_id"), *category_id = http_query(r, "category_id");
    if (!product_id || !*product_id || strlen(product_id) > 64) {
        admin_error(r, 400, "missing_parameter", "product_id", "product_id is required");
        return;
    }
    if (category_id && (!*category_id || strlen(category_id) > 64)) {
        admin_error(r, 400, "invalid_parameter", "category_id", "category_id must be 1 to 64 characters");
        return;
    }
    civil_date today;
    int32_t secs;
    tz_instant_to_local(a->timezone, clock_now(), &today, &secs);
    civil_date from = today, to = -1;
    if (!admin_query_date(r, "from", &from) || !admin_query_date(r, "to", &to)) return;
    if (to < 0) to = from + DEFAULT_DAYS - 1;
    if (to < from || to - from >= MAX_DAYS) {
        admin_error(r, 400, "invalid_parameter", "to", "to must be on or after from, at most %d days later",
                    MAX_DAYS - 1);
        return;
    }
    slot *slots = NULL;
    size_t n = 0;
    bo_error err = {0};
    if (availability_product(admin_engine(app_), a, product_id, category_id, from, to + 1, &slots, &n, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(data, slot_json(&slots[i]));
    free(slots);
    http_reply_json(r, 200, admin_list(data, NULL));
}
