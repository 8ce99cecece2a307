/* The Convious pricing API dialect, served under /convious-pricing
 * (docs/dialects/convious-pricing.md). Errors are the Convious partner API's
 * shape (cv_error); its OAuth clients and access tokens are Convious' own. */
#ifndef BO_CONVIOUS_PRICING_H
#define BO_CONVIOUS_PRICING_H
#include "api/convious/convious.h"
#include "core/inventory_refs.h"

#define CP_AUTH_TOKEN 1    /* Accept-Version and an OAuth2 bearer token */
#define CP_AUTH_OPTIONAL 2 /* Accept-Version; a bearer token when given must be valid (browsers send none) */

#define CP_MAX_EVENTS 1000 /* per POST /events */

/* The route table's auth fn: Accept-Version 1.0.x (else 400 naming the
 * supported versions), then the bearer token as CP_AUTH_TOKEN or
 * CP_AUTH_OPTIONAL ask; CORS headers on CP_AUTH_OPTIONAL routes. */
bool cp_authenticate(http_request *r, int kind, void *app);
/* Unmatched routes (404, 405) in the Convious error shape. */
void cp_table_error(http_request *r, int status, const char *code, const char *message, void *app);
/* Where a batch's parse stands: the request and the event being read. */
typedef struct {
    http_request *r;
    size_t index;
} cp_event_at;
/* Replies 400 code on the event's field (cp_event_error) and returns false. */
bool cp_refuse(const cp_event_at *at, const char *code, const char *field, const char *why);
/* The index of type in names (n of them), or -1. */
int cp_type_index(const char *type, const char *const *names, size_t n);

/* A 400 (or other status) on one event of a batch: the Convious error shape
 * with "field" "[index].<field>" and "index". */
void cp_event_error(http_request *r, int status, const char *code, size_t index, const char *field, const char *fmt,
                    ...) __attribute__((format(printf, 6, 7)));
/* The CORS headers browsers need to post analytics from any site. */
void cp_cors(http_request *r);

/* A decimal amount of money: a string "12.50" or a JSON number, at most
 * decimals places, 0 .. 10^12 minor units. */
bool cp_decimal(const json_t *v, int decimals, int64_t *out);
/* Characters (not bytes) of a UTF-8 string, as jansson hands it out. */
size_t cp_chars(const char *s);
/* A member of an event: its payload's, else the event's own (browsers may
 * send accountId, cookieId and time beside the type). */
json_t *cp_member(json_t *event, json_t *payload, const char *name);

/* POST /events, split by what the batch holds (events.c): inventory events
 * (inventory.c, bearer required) or browser analytics (analytics.c). */
void cp_events_post(http_request *r, void *app);
void cp_events_preflight(http_request *r, void *app);
/* The batch's events as inventory events; false after replying 400. */
bool cp_inventory_parse(http_request *r, const account *a, json_t *batch, inventory_event *out);
/* The batch's events as analytics events; false after replying 400. */
bool cp_analytics_parse(http_request *r, engine *e, json_t *batch, analytics_event *out);
/* Whether the type names an inventory event / an analytics event. */
bool cp_inventory_type(const char *type);
bool cp_analytics_type(const char *type);

/* GET /analytics.js (classic script, global conviousPricing) and /analytics.mjs
 * (ES module): the browser library, public (library.c). */
void cp_library_classic_get(http_request *r, void *app);
void cp_library_module_get(http_request *r, void *app);
#endif
