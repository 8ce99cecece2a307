/* POST /admin/v1/test/clock: moves the process-wide clock forward, so tests
 * can expire holds and pass validity windows without waiting. Only when the
 * server runs with --test-clock; otherwise the route does not exist (404). */
#include "api/admin/admin.h"
#include "core/inventory_refs.h"

#define TEN_YEARS (10LL * 366 * SECS_PER_DAY)

void admin_test_clock(http_request *r, void *app_)
{
    if (!((app *)app_)->test_clock) {
        admin_error(r, 404, "route_not_found", NULL, "no such endpoint: %s %s", http_method(r), http_path(r));
        return;
    }
    json_t *body = admin_body(r);
    if (!body) return;
    int64_t seconds = 0;
    const body_field fields[] = {{"advance_seconds", BF_INT, true, 0, TEN_YEARS, &seconds, NULL}};
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    clock_advance(seconds);
    http_reply_json(r, 200, json_pack("{s:I}", "offset_seconds", (json_int_t)clock_offset_seconds()));
}

/* POST /admin/v1/test/analytics-flush: writes the queued Convious pricing
 * analytics now, so a test can read the database right after posting them.
 * Only with --test-clock, like the clock. */
void admin_test_analytics_flush(http_request *r, void *app_)
{
    if (!((app *)app_)->test_clock) {
        admin_error(r, 404, "route_not_found", NULL, "no such endpoint: %s %s", http_method(r), http_path(r));
        return;
    }
    size_t written = 0;
    if (analytics_flush(admin_engine(app_), &written) != BO_OK) {
        admin_error(r, 500, "internal_error", NULL, "storage failure; the events stay queued");
        return;
    }
    http_reply_json(r, 200, json_pack("{s:I}", "written", (json_int_t)written));
}
