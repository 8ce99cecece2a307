/* The CM.com Ticketing Shop API dialect (docs/dialects/cm.md), served under
 * /cm + the doc's paths (/cm/ticketingapi/v2.0/ticketshop/...). */
#ifndef BO_CM_H
#define BO_CM_H
#include "api/api.h"
#include "api/body.h"

#define CM_AUTH_PRODUCT_TOKEN 1

engine *cm_engine(void *app);
/* {message, code, errors: [{field, message}]}; errors is empty without a field. */
void cm_error(http_request *r, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The request's body when it is a JSON object sent as application/json
 * (borrowed from the request); else NULL after replying 400
 * CONTENT_TYPE_INVALID or BODY_INVALID. */
json_t *cm_body_object(http_request *r);
/* An engine error in the shape above, its field renamed by cm_field_names. */
void cm_fail(http_request *r, const bo_error *err);
/* body as the shop's JSON text (money as the shortest decimal); caller frees. */
char *cm_dumps(const json_t *body);
/* Replies with body (a reference is stolen), money printed as the shortest decimal. */
void cm_reply(http_request *r, int status, json_t *body);

/* A JSON number in major units from integer minor units: 68 → 0.68, 1950 →
 * 19.5, 1000 → 10 (an integer when whole, so never "10.0"). */
json_t *cm_money(money amount, int decimals);
/* A percentage from basis points: 260 → 2.6. */
json_t *cm_percent(int32_t bp);
/* ISO 8601 in UTC with "+00:00"; null for 0. */
json_t *cm_time(instant_us t);
/* {nl, en, fr, de} from a {lang: text} object (missing: ""), or from a plain
 * string (then every language has it: a text written once is the shop's text
 * in whatever language it is shown); NULL or anything else: all "". */
json_t *cm_texts(const json_t *texts);
/* The fixed translations the doc's examples show (labels the engine has no field for). */
json_t *cm_texts4(const char *nl, const char *en, const char *fr, const char *de);

/* The shop's view of one event: the engine event, resolved. */
typedef struct {
    const cat_event *event;
    const json_t *doc;          /* its decoded document (names, description, images, extras) */
    bool calendar;              /* sold per day/timeslot of a schedule, not on fixed occurrences */
    instant_us start, end;      /* first occurrence's start, last one's end (or start); 0 for calendars */
    const char *occurrence_id;  /* what a reservation of a dated event holds: its first occurrence not yet
                                   over (CM events have one date), else its first; NULL for calendars */
} cm_event;
/* Opens the account's catalog and fills *out for the path's event_uuid when
 * it is in the shop (published, not cancelled) and open to ?key=: the caller
 * closes the view. Else replies 404 EVENT_NOT_FOUND, 400 ACCESS_KEY_INVALID
 * or 500 and returns NULL. */
catalog_view *cm_event_open(http_request *r, engine *e, cm_event *out);
/* The venue's zone: the event's location's, else its category's, else the account's (the engine's rule). */
const char *cm_event_timezone(const account *a, const cm_event *ce);
/* False when the event is not sold in the shop (draft, cancelled). */
bool cm_event_resolve(const account *a, const catalog_model *m, size_t index, cm_event *out);

/* REQUIRED, OPTIONAL or NOT_IN_USE: what the event asks of a buyer's field. */
const char *cm_customer_requirement(const json_t *event_doc, const char *field);

/* The text a base64 code path segment names (codes.c); false when it is not base64 of a short UTF-8 text. */
bool cm_code_decode(const char *text, char out[73]);

void cm_events_list(http_request *r, void *app);
void cm_event_get(http_request *r, void *app);
void cm_code_get(http_request *r, void *app);
void cm_calendar_get(http_request *r, void *app);
void cm_reservation_create(http_request *r, void *app);
void cm_reservation_update(http_request *r, void *app);
void cm_reservation_generate(http_request *r, void *app);
void cm_checkout(http_request *r, void *app);
/* Whether id is one of the iDEAL issuers the shop lists (events.c). */
bool cm_ideal_issuer_known(const char *id);
#endif
