/* The Fourvenues channels API dialect (docs/dialects/fourvenues.md), served
 * under /fourvenues. A channel API key (X-Api-Key) is one sales channel of one
 * account; the account is the channel's only host organization. */
#ifndef BO_FOURVENUES_H
#define BO_FOURVENUES_H
#include "api/api.h"
#include "util/jbuf.h"

#define FV_AUTH_CHANNEL_KEY 1
/* The vendor's ids are 24 lowercase hex digits (MongoDB object ids). */
#define FV_ID_LEN 24

engine *fv_engine(void *app);

/* {"data": null, "success": false, "error": {code, message, fields}};
 * fields lists the offending input's name, empty when none. */
void fv_error(http_request *r, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An engine error in that shape, its field renamed by fv_field_names. */
void fv_fail(http_request *r, const bo_error *err);
/* {"data": data, "success": true} (data stolen), money in JavaScript's number form. */
void fv_reply(http_request *r, int status, json_t *data);

/* v as JavaScript's JSON.stringify writes it (stringify.c): compact, keys in
 * insertion order, UTF-8 unescaped, numbers in ECMAScript's form; malloc'd,
 * NULL when out of memory. */
char *fv_stringify(const json_t *v, size_t *len);
/* A double as ECMAScript's Number::toString prints it ("1.1", "1e+21", "null" when not finite). */
void fv_js_number(double v, char out[40]);
/* Values written into a jbuf as fv_stringify writes the same jansson value, for
 * replies written straight into text: a string with JavaScript's escapes (NULL
 * is null), money as fv_money makes it, an instant as fv_time does. */
void fv_jb_str(jbuf *b, const char *s);
void fv_jb_money(jbuf *b, money amount, int decimals);
void fv_jb_time(jbuf *b, instant_us t);

/* The request's body as a JSON object (owned by the request), or NULL after
 * a 400 invalid_body (not application/json, not a JSON object). */
json_t *fv_body_object(http_request *r);
/* fv_body_object whose keys are all in allowed (NULL-terminated), or NULL
 * after a 400 (invalid_field naming the first other key). */
json_t *fv_body_fields(http_request *r, const char *const *allowed);

/* Money as JavaScript prints a number of major units: 1210 → 12.1, 1200 → 12. */
json_t *fv_money(money amount, int decimals);
/* "2022-01-01T00:00:00.000Z"; null for 0. */
json_t *fv_time(instant_us t);
/* The public id of an engine object: 24 hex digits of a hash of the purpose
 * ("event", "rate", ...) and the engine's key parts, stable across restarts
 * and servers. out gets FV_ID_LEN + 1 bytes. */
void fv_public_id(const char *purpose, const char *part1, const char *part2, char out[FV_ID_LEN + 1]);
/* The vendor's price, supplement and question ids are numeric strings: up to 15 digits of the same hash. */
void fv_numeric_id(const char *purpose, const char *part1, const char *part2, char out[21]);
/* A slug from a name: lower-case ASCII letters and digits, other runs as one "-". */
void fv_slugify(const char *name, char *out, size_t n);

/* Refuses (400 invalid_parameter) a query parameter not named in allowed
 * (NULL-terminated); true when all are known. */
bool fv_query_known(http_request *r, const char *const *allowed);
/* ?limit (1-100, default 50) and ?offset (≥ 0, default 0); false after a 400. */
bool fv_page_args(http_request *r, size_t *limit, size_t *offset);
/* ?name as a date (YYYY-MM-DD, the start of that day in UTC) or an ISO 8601
 * instant; *set false when absent. False after a 400. */
bool fv_query_instant(http_request *r, const char *name, instant_us *out, bool *set);

#define FV_MAX_EVENT_IDS 50
/* ?event_id=a,b: up to 50 channel event ids; *n = 0 when absent. False after a 400. */
bool fv_event_ids_arg(http_request *r, char ids[FV_MAX_EVENT_IDS][FV_ID_LEN + 1], size_t *n);
/* Whether id is one of ids[0..n). */
bool fv_event_named(char ids[FV_MAX_EVENT_IDS][FV_ID_LEN + 1], size_t n, const char *id);

/* One Fourvenues event: one live occurrence of a published engine event. */
typedef struct {
    const cat_event *event;
    const json_t *doc;     /* the event's decoded document */
    const cat_occurrence *occurrence;
    const char *timezone;  /* the venue's: the location's, else the category's, else the account's */
    instant_us start, end; /* end = start when the occurrence names no end */
    char id[FV_ID_LEN + 1];
    char slug[160];
} fv_event;

/* The account's Fourvenues events, in start order, into a calloc'd array the
 * caller frees (*n of them; NULL with *n = 0 when none or out of memory). */
fv_event *fv_events(const account *a, const catalog_model *m, size_t *n);
/* The ticket rate rate_id names (an enabled ticket product at a live
 * occurrence of a published event) and its event, without the event's slug;
 * false when none. */
bool fv_rate_find(const account *a, const catalog_model *m, const char *rate_id, const cat_product **p,
                  fv_event *ev);
/* The ticket rates of ev (its enabled ticket products) as a JSON list. */
json_t *fv_event_rates_json(engine *e, const account *a, const catalog_model *m, const fv_event *ev);
json_t *fv_event_json(engine *e, const account *a, const catalog_model *m, const fv_event *ev);
/* The organization (account) id as the channel sees it. */
void fv_organization_id(const account *a, char out[FV_ID_LEN + 1]);

/* A ticket's id as the channel sees it: the 24 hex digits that carry the
 * engine's UUIDv7 (time_uuid96, util/secure.h), never a UUID. */
void fv_ticket_id(const char *engine_id, char out[FV_ID_LEN + 1]);
/* fv_ticket_id of a JSON string, as a JSON string. */
json_t *fv_ticket_id_json(const json_t *engine_id);
/* The account's ticket the channel id fv_id names, canonical (ticket_get_json;
 * the caller frees *ticket); BO_NOT_FOUND for anything else, a UUID too. */
bo_status fv_ticket_find(engine *e, const account *a, const char *fv_id, json_t **ticket);
/* The seed's ticket object from a canonical ticket (docs/MODEL.md; order_email
 * and order_name used when the holder names none); NULL when the ticket is
 * not of a channel event (no event or occurrence). */
json_t *fv_ticket_json(const account *a, const json_t *ticket);
/* A ticket's status as the channel names it (active, pending_payment, voided). */
const char *fv_ticket_status(const char *engine_status);
/* How many entries a ticket allows (its `for`) from its scan limit: 0 is no limit. */
int64_t fv_ticket_entries(const char *scan_limit, int64_t max_scans, int64_t times);
/* The channel's id of the payment that paid for the canonical ticket t. */
void fv_ticket_payment_id(const account *a, const json_t *t, char out[FV_ID_LEN + 1]);

/* The id of the channel the request's X-Api-Key opens (GET /auth's channel._id). */
void fv_channel_id(http_request *r, char out[FV_ID_LEN + 1]);
/* Replies 200 with the account's ticket `id` in the seed's shape, or 404. */
void fv_ticket_reply(http_request *r, engine *e, const char *id);

void fv_auth_get(http_request *r, void *app);
void fv_events_list(http_request *r, void *app);
void fv_event_get(http_request *r, void *app);
void fv_event_by_slug(http_request *r, void *app);
void fv_ticket_rates_list(http_request *r, void *app);
void fv_ticket_rate_get(http_request *r, void *app);
void fv_ticket_rate_by_slug(http_request *r, void *app);
void fv_tickets_list(http_request *r, void *app);
void fv_ticket_get(http_request *r, void *app);
void fv_ticket_refund(http_request *r, void *app);
void fv_list_rates_list(http_request *r, void *app);
void fv_list_rate_by_slug(http_request *r, void *app);
void fv_webhook_endpoint_create(http_request *r, void *app);
void fv_webhook_endpoints_list(http_request *r, void *app);
void fv_webhook_endpoint_delete(http_request *r, void *app);
/* POST /tickets/checkout (checkout.c), GET /payments, /payments/{id} (payments.c). */
void fv_checkout(http_request *r, void *app);
void fv_payments_list(http_request *r, void *app);
void fv_payment_get(http_request *r, void *app);
/* Sets the sale's terms a checkout recorded in the canonical ticket t
 * ("sale_terms": tier, fees, supplements, warranty) over item, the seed's
 * ticket object fv_ticket_json made of t; nothing for a ticket without them. */
void fv_ticket_sale_terms(const account *a, const json_t *t, json_t *item);
#endif
