/* The Ticket Tailor API dialect (docs/dialects/tickettailor.md). */
#ifndef BO_TICKETTAILOR_H
#define BO_TICKETTAILOR_H
#include "api/api.h"
#include "api/body.h"

#define TT_AUTH_KEY 1

engine *tt_engine(void *app);
/* {status, error_code, message, errors: [{field, messages}]} */
void tt_error(http_request *r, int status, const char *field, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tt_fail(http_request *r, const bo_error *err);
/* A getter's failure: 404 when the object is absent (or id is NULL), 500 when storage failed. */
void tt_missing(http_request *r, bo_status st);
/* Ticket Tailor's date object for an instant, in the account's zone. */
json_t *tt_date(const account *a, instant_us t);
/* "or_" + id; and the engine id from a prefixed one (NULL when the prefix is wrong). */
json_t *tt_id(const char *prefix, const char *id);
const char *tt_unprefix(http_request *r, const char *value, const char *prefix);
/* limit, starting_after, ending_before; false after replying 400. */
bool tt_page_args(http_request *r, const char *prefix, int *limit, const char **after, const char **before);
/* created_at and its .gt/.gte/.lt/.lte forms (unix seconds); false after replying 400. */
bool tt_created_args(http_request *r, instant_us *gt, instant_us *gte, instant_us *lt, instant_us *lte);
/* `base`, `base.gt`, `.gte`, `.lt`, `.lte` as unix seconds into v[5] (-1 when
 * absent); false after replying 400. tt_in_range tests an instant against them. */
bool tt_range_args(http_request *r, const char *base, instant_us v[5]);
bool tt_in_range(instant_us t, const instant_us v[5]);
/* {"data": [...], "links": {next, previous}} for a newest-first page. */
json_t *tt_page(http_request *r, const char *path, json_t *data, bool has_more, bool had_after, bool had_before);
/* One page of catalog documents of kind k (given oldest first, served newest
 * first), each rendered by `render`; replies itself. A cursor naming an
 * object deleted since (or filtered out) continues from that object's place;
 * one the account never had is a 422 (tt_cursor_unknown). */
void tt_reply_catalog_page(http_request *r, engine *e, catalog_kind k, json_t *oldest_first, const char *path,
                           const char *prefix, json_t *(*render)(engine *, const account *, json_t *));
/* The one reply for a well-formed cursor that names nothing: 422 naming the
 * parameter given (starting_after or ending_before), on every list. */
void tt_cursor_unknown(http_request *r, const char *cursor, bool before);
/* tt_fail, but an engine list's unknown cursor answers as tt_cursor_unknown. */
void tt_list_fail(http_request *r, const bo_error *err, bool before, const char *cursor);

/* Checks the body (JSON object or form) against a table (api/body.h) and
 * fills the destinations; false after replying: 400 when the body is neither,
 * 422 naming the field otherwise. Fields not in the table are ignored. Text
 * for a BF_INT or BF_BOOL field is converted first (a form's "10" is 10, as
 * is JSON's). Lists and objects come only from JSON (a form's `name[]` is
 * the handler's to read). Destinations point into the request and live as
 * long as it does. */
bool tt_fields(http_request *r, const body_field *t, size_t n);
#define TT_FIELDS(r, table) tt_fields(r, table, sizeof table / sizeof table[0])
/* Whether the body names the field at all, null included. */
bool tt_given(http_request *r, const char *name);
/* Limits the engine applies too (catalog_doc/catalog_spec.c), so the reply is the same
 * whichever refuses first; unix seconds stop where an instant would overflow. */
#define TT_TEXT_MAX 1000
#define TT_AMOUNT_MAX 1000000000000LL
#define TT_UNIX_MAX 99999999999LL

/* catalog_extras.c. A product's group_id: "tg_<id>", or null. */
json_t *tt_group_id(const cat_product *p);
/* An event's ticket_groups: the groups its products (those of the event,
 * products[0..n)) belong to, with those products as ticket_ids, and the
 * groups shown on event_id while empty; by sort_order. */
json_t *tt_ticket_groups(const catalog_model *m, const char *event_id, const cat_product *const *products,
                         size_t nproducts);
/* An event's payment_methods: the enabled ones it names, else every enabled
 * one (also when event is NULL); by sort_order. */
json_t *tt_payment_methods(const catalog_model *m, const cat_event *event);
/* A voucher document's event_ids as ["es_<id>", ...]. */
json_t *tt_event_series_ids(const json_t *voucher);
/* The ids a body associates under `field` (prefixed `prefix`), over the
 * engine ids `current`: a list replaces them, an object {"<prefix>id": "1"
 * (add) | "0" (remove) | "" (keep)} edits them; at most 1,000 ids. A new
 * array of engine ids, or NULL after replying 422 naming field. */
json_t *tt_associations(http_request *r, const json_t *given, const json_t *current, const char *field,
                        const char *prefix);

/* The issued ticket of a canonical ticket document; m (the account's catalog,
 * NULL when unreadable) names the event its occurrence is (tt_ticket_event_id). */
json_t *tt_issued_ticket(const account *a, const catalog_model *m, const json_t *ticket);
/* The event id a ticket of product at occurrence carries (events.c): a
 * timeslot's ev_<group>@<key> when the product's occurrences come from a
 * schedule, else ev_<occurrence>; null when undated. A new reference. */
json_t *tt_ticket_event_id(const catalog_model *m, const account *a, const char *product_id, const char *occurrence);
/* Where a ticket of product_id issued for event_id (without ev_) goes: a
 * timeslot's day and start time, else the id as an occurrence id for the
 * engine to judge. False when the timeslot's group does not sell the product. */
bool tt_event_slot(const catalog_model *m, const account *a, const char *event_id, const char *product_id,
                   const char **occurrence_id, civil_date *day, int32_t *start_time);
/* What an event_id (without ev_) or event_series_id (without es_) filter
 * narrows tickets to: an occurrence key, an engine event, products (NULL
 * when not narrowed). False when a category's series sells more products
 * than a filter can name (8). Points into m and the ids. */
typedef struct {
    const char *occurrence, *event_id;
    const char *product_ids[8];
} tt_ticket_scope;
bool tt_event_filter(const catalog_model *m, const account *a, const char *event_id, const char *series_id,
                     tt_ticket_scope *out);
/* An order's event_summary {id, end_date, name, start_date} from its first
 * ticket's product and occurrence; null when that event does not resolve. */
json_t *tt_order_event_summary(const catalog_model *m, const account *a, const char *product_id,
                               const char *occurrence);
json_t *tt_order(engine *e, const account *a, const json_t *order);
/* Sets the e-ticket URLs (barcode_url, qr_code_url) of an issued ticket, or
 * of every issued ticket of an order; r NULL (a webhook body) gives paths.
 * Returns object (etickets.c). */
json_t *tt_eticket_urls(http_request *r, const account *a, json_t *object);

void tt_ping(http_request *r, void *app);
void tt_orders_list(http_request *r, void *app);
void tt_order_get(http_request *r, void *app);
void tt_tickets_list(http_request *r, void *app);
void tt_ticket_get(http_request *r, void *app);
void tt_ticket_create(http_request *r, void *app);
void tt_ticket_void(http_request *r, void *app);
void tt_events_list(http_request *r, void *app);
void tt_discounts_list(http_request *r, void *app);
void tt_vouchers_list(http_request *r, void *app);
void tt_voucher_create(http_request *r, void *app);
void tt_voucher_get(http_request *r, void *app);
void tt_voucher_update(http_request *r, void *app);
void tt_voucher_delete(http_request *r, void *app);
void tt_voucher_codes(http_request *r, void *app);
void tt_voucher_code_void(http_request *r, void *app);
void tt_discount_create(http_request *r, void *app);
void tt_discount_get(http_request *r, void *app);
void tt_discount_update(http_request *r, void *app);
void tt_discount_delete(http_request *r, void *app);
void tt_event_get(http_request *r, void *app);
void tt_event_series_list(http_request *r, void *app);
void tt_event_series_get(http_request *r, void *app);
void tt_check_ins_list(http_request *r, void *app);
#endif
