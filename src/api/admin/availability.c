/* GET /admin/v1/availability?product_id=&from=&to=[&category_id=]: every
 * occurrence of a product in a date range with the tickets still available
 * there. `to` is inclusive; both default to a week from today (the account's
 * zone). A slot's date and start_time are what POST /carts takes. */
#include "api/admin/admin.h"
#include "util/jbuf.h"
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DAYS 7
#define MAX_DAYS 366

static void time_or_null(jbuf *b, const char *key, int32_t secs)
{
    if (secs < 0) return jb_knull(b, key);
    char t[9];
    time_of_day_format(secs, t);
    jb_kstr(b, key, t);
}

static void instant_or_null(jbuf *b, const char *key, instant_us t)
{
    if (t) jb_kint(b, key, t);
    else jb_knull(b, key);
}

/* Written straight into the reply's buffer: a year of a dense schedule is
 * thousands of slots, and a jansson tree of them costs ten times the text. */
static void slot_write(jbuf *b, const slot *s)
{
    char d[11];
    jb_obj(b);
    jb_kstr(b, "occurrence", s->key);
    if (s->day >= 0) {
        date_format(s->day, d);
        jb_kstr(b, "date", d);
    } else {
        jb_knull(b, "date");
    }
    time_or_null(b, "start_time", s->time_from);
    time_or_null(b, "end_time", s->time_to);
    instant_or_null(b, "starts_at", s->starts_at);
    instant_or_null(b, "ends_at", s->ends_at);
    if (s->available >= 0) jb_kint(b, "available", s->available);
    else jb_knull(b, "available");
    jb_kbool(b, "open", s->open);
    jb_obj_end(b);
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
    if (api_reply_cached(r, app_, from, to + 1)) return;
    slot *slots = NULL;
    size_t n = 0;
    bo_error err = {0};
    if (availability_product(admin_engine(app_), a, product_id, category_id, from, to + 1, &slots, &n, &err) != BO_OK) {
        admin_fail(r, &err);
        return;
    }
    jbuf b;
    jb_init(&b, 64 + n * 200);
    jb_obj(&b);
    jb_key(&b, "data");
    jb_arr(&b);
    for (size_t i = 0; i < n; i++) slot_write(&b, &slots[i]);
    jb_arr_end(&b);
    jb_kint(&b, "count", (int64_t)n);
    jb_obj_end(&b);
    free(slots);
    size_t len;
    char *text = jb_take(&b, &len);
    if (!text) return admin_error(r, 500, "internal_error", NULL, "the reply could not be written");
    http_reply_owned(r, 200, "application/json", text, len);
}
