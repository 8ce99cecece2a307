/* Check-ins: the engine's redeeming scans (gate scans that moved a ticket in
 * or out), ch_<scan id>, newest first, paged on the scan log's key. The doc
 * has no check-in object: it follows the issued ticket list's conventions
 * (docs/dialects/tickettailor.md). */
#include "api/tickettailor/tickettailor.h"
#include <stdio.h>
#include <stdlib.h>

static json_t *check_in_json(const account *a, const catalog_model *m, const check_in *c)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    json_int_t at = (json_int_t)(c->scanned_at / 1000000), created = (json_int_t)(c->created_at / 1000000);
    /* a scan out is a negative quantity: the sum over a ticket is whether it is inside */
    return json_pack("{s:s,s:o,s:I,s:I,s:o,s:o,s:i,s:o,s:I}", "object", "check_in", "id", tt_id("ch_", id), "checkin_at",
                     at, "created_at", created, "event_id", tt_ticket_event_id(m, a, c->product_id, c->occurrence), "issued_ticket_id",
                     tt_id("it_", c->ticket_id), "quantity", c->out ? -1 : 1, "ticket_type_id",
                     tt_id("tt_", c->product_id), "updated_at", created);
}

/* The scan id of a cursor already stripped of ch_: a positive integer, else 0. */
static int64_t cursor_id(const char *v)
{
    char *end;
    long long n = v && *v ? strtoll(v, &end, 10) : 0;
    return v && *v && !*end && n > 0 ? (int64_t)n : 0;
}

void tt_check_ins_list(http_request *r, void *app_)
{
    int limit;
    const char *after, *before;
    if (!tt_page_args(r, "ch_", &limit, &after, &before)) return;
    int64_t after_id = cursor_id(after), before_id = cursor_id(before);
    if ((after && !after_id) || (before && !before_id))
        return tt_error(r, 422, before ? "ending_before" : "starting_after", "unknown check-in ch_%.60s",
                        before ? before : after);
    check_in *rows = calloc((size_t)limit, sizeof *rows);
    size_t n;
    bool more;
    bo_error err = {0};
    if (check_ins_list(tt_engine(app_), api_account(r), after_id, before_id, limit, rows, &n, &more, &err) != BO_OK) {
        free(rows);
        return tt_fail(r, &err);
    }
    json_t *data = json_array();
    catalog_view *catalog = catalog_view_open(tt_engine(app_), api_account(r));
    const catalog_model *m = catalog ? catalog_view_model(catalog) : NULL;
    for (size_t i = 0; i < n; i++) json_array_append_new(data, check_in_json(api_account(r), m, &rows[i]));
    catalog_view_close(catalog);
    free(rows);
    http_reply_json(r, 200, tt_page(r, "/v1/check_ins", data, more, after != NULL, before != NULL));
}
