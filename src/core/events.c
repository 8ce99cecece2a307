/* The outbox. A change event and one delivery row per interested webhook
 * subscription are inserted in the transaction that made the change; the
 * delivery worker (src/core/webhooks.c) sends them later, at least once. */
#include "core/internal.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *event_names[] = {"ORDER.CREATED",          "ORDER.UPDATED",   "ISSUED_TICKET.CREATED",
                                    "ISSUED_TICKET.UPDATED",  "EVENT.CREATED",   "EVENT.UPDATED",
                                    "EVENT.DELETED"};

const char *change_event_name(change_event ev) { return event_names[ev]; }

static const char *resource_of(change_event ev)
{
    switch (ev) {
    case EV_ORDER_CREATED:
    case EV_ORDER_UPDATED: return "order";
    case EV_TICKET_CREATED:
    case EV_TICKET_UPDATED: return "issued_ticket";
    default: return "event";
    }
}

db_status events_wanted(db_conn *c, const char *account_id, bool *any)
{
    int64_t n = 0;
    db_status st = db_query_int(c, "SELECT COUNT(*) FROM webhook_subscriptions WHERE account_id = ? AND active = 1",
                                DB_ARGS(DB_TEXT(account_id)), &n);
    *any = n > 0;
    return st;
}

db_status events_record(db_conn *c, const char *account_id, change_event ev, const char *object_id, json_t *payload)
{
    /* Only accounts with subscriptions pay for the outbox row. */
    db_rows *r;
    db_status st = db_query(c, "SELECT id, events FROM webhook_subscriptions WHERE account_id = ? AND active = 1",
                            DB_ARGS(DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    char (*subs)[40] = NULL;
    size_t n = 0;
    const char *name = event_names[ev];
    while (db_next(r)) {
        const char *events = db_text(r, 1);
        bool wants = !strcmp(events, "*");
        /* events is a comma-separated list of names */
        for (const char *p = events; !wants && p && *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            wants = len == strlen(name) && !strncmp(p, name, len);
            p = comma ? comma + 1 : NULL;
        }
        if (wants) {
            subs = realloc(subs, (n + 1) * sizeof *subs);
            snprintf(subs[n++], 40, "%s", db_text(r, 0));
        }
    }
    db_rows_free(r);
    if (n == 0) return DB_OK;
    char id[48];
    rand_token("wh_", 12, id, sizeof id);
    json_t *body = json_pack("{s:s,s:s,s:s,s:O}", "resource", resource_of(ev), "object_id", object_id, "account_id",
                             account_id, "object", payload ? payload : json_null());
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    instant_us now = clock_now();
    char resource_url[160];
    snprintf(resource_url, sizeof resource_url, "%s/%s", resource_of(ev), object_id);
    st = db_exec(c,
                 "INSERT INTO webhook_events (id, account_id, event, resource_url, payload, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)",
                 DB_ARGS(DB_TEXT(id), DB_TEXT(account_id), DB_TEXT(name), DB_TEXT(resource_url), DB_TEXT(text),
                         DB_INT(now)),
                 NULL);
    free(text);
    for (size_t i = 0; i < n && st == DB_OK; i++)
        st = db_exec(c,
                     "INSERT INTO webhook_deliveries (event_id, subscription_id, status, attempts, next_due)"
                     " VALUES (?, ?, 'pending', 0, ?)",
                     DB_ARGS(DB_TEXT(id), DB_TEXT(subs[i]), DB_INT(now)), NULL);
    free(subs);
    return st;
}
