/* The Convious partner API dialect (docs/dialects/convious.md). */
#ifndef BO_CONVIOUS_H
#define BO_CONVIOUS_H
#include "api/api.h"
#include "api/body.h"
#include "util/jbuf.h"

#define CV_AUTH_TOKEN 1 /* route needs an OAuth2 bearer token */

engine *cv_engine(void *app);
/* {"error": code, "message": ..., "field"?: ...} with the given status. */
void cv_error(http_request *r, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The request's OAuth2 bearer token (an access token of /convious or
 * /convious-pricing: one kind of credential) makes its account the request's
 * user; else replies 401 in Convious' shape and returns false. */
bool cv_bearer(http_request *r, void *app);
/* Maps an engine failure onto one HTTP reply. */
void cv_fail(http_request *r, const bo_error *err);
/* A getter's failure: 404 "not_found" when the object is absent, 500 when storage failed. */
void cv_missing(http_request *r, bo_status st);
/* The path's <account_slug> must be the token's account: else replies 404. */
bool cv_own_slug(http_request *r);
/* The JSON object body, or NULL after replying 400. */
json_t *cv_body(http_request *r);

/* A field the table reports otherwise than missing_field / invalid_field
 * under its own path: the codes and field names Convious clients already see. */
typedef struct {
    const char *field; /* prefix + name, as body_fields names it */
    const char *code;  /* replaces missing_field and invalid_field; NULL keeps them */
    const char *as;    /* the field name the reply shows instead; NULL keeps it */
} cv_field_code;
/* body_fields (api/body.h) for Convious: unknown fields are ignored (its
 * clients send more than they must); a failure replies 400 in Convious' error
 * shape, its code and field renamed by `codes` (ended by a {NULL} row, or NULL).
 * Strings Convious never limited (ids, barcodes, reasons) are BF_UNLIMITED: the
 * engine's lookup decides, so an unknown long id stays 404 rather than 400. */
bool cv_fields(http_request *r, json_t *obj, const char *prefix, const body_field *t, size_t n,
               const cv_field_code *codes);
#define CV_FIELDS(r, obj, prefix, table, codes) cv_fields(r, obj, prefix, table, sizeof table / sizeof table[0], codes)

/* Formatting as the doc shows it. */
json_t *cv_money(const account *a, money amount); /* "49.20" */
json_t *cv_rate(int64_t bp);                       /* "20.00" */
json_t *cv_time_of_day(const json_t *secs);        /* "13:00:00" or null */
/* Dates from the path or query: strict YYYY-MM-DD, else replies 400. */
bool cv_date_arg(http_request *r, const char *text, const char *field, civil_date *out);
/* Values of Convious replies written into a jbuf (after jb_key, or in a list):
 * money as "49.20", instants in the account's zone, times of day "13:00:00";
 * null when not present. */
void cv_jb_money(jbuf *b, const account *a, money amount);
void cv_jb_instant(jbuf *b, const account *a, bool present, instant_us t);
void cv_jb_time(jbuf *b, bool present, int32_t secs);
/* timeFrom, timeFromOffset, timeTo, timeToOffset of a slot (keys and values).
 * One memo (TZ_OFFSET_MEMO_INIT) per reply: the zone is searched once per day. */
void cv_jb_slot_times(jbuf *b, const account *a, const slot *s, tz_offset_memo *offsets);
/* Answers 200 with b's text (taking it), or 500 when it could not be written. */
void cv_reply_jbuf(http_request *r, jbuf *b);
/* A list that is always one page: cv_jb_page_open starts b with
 * {"next":null,"previous":null,"results":[, the caller writes the results,
 * cv_reply_page closes the list and answers 200 with it. */
void cv_jb_page_open(jbuf *b);
void cv_reply_page(http_request *r, jbuf *b);

/* A list of the doc's include names; unknown names reply 400. Bit set of `known`. */
bool cv_includes(http_request *r, const char *const *known, unsigned *out);

/* Every include at once, as the booking reply shows the new order. */
#define CV_INCLUDE_ALL 0x7ffu
/* One order object (a canonical order, after cv_attach_location) into b;
 * cv_order_reply answers 200 with it alone. */
void cv_order_write(jbuf *b, http_request *r, engine *e, const account *a, json_t *order, unsigned includes);
void cv_order_reply(http_request *r, engine *e, const account *a, json_t *order, unsigned includes);
void cv_attach_location(engine *e, const account *a, json_t *order);
/* Parts of an order's items and of the order (order_apf.c): a ticket's
 * options (with their taxes when asked), its afterPaymentForm (the holder's
 * fields with the form's answers over them), and the order's unfilledApf and
 * unfilledApfUrl from the live tickets' answers and their products' forms. */
void cv_jb_ticket_options(jbuf *b, const account *a, const json_t *ticket, bool with_taxes);
void cv_jb_after_payment_form(jbuf *b, const json_t *ticket);
void cv_jb_unfilled_apf(jbuf *b, http_request *r, engine *e, const account *a, const json_t *order);
/* A product of the open view `catalog` (its decoded document, borrowed) in the
 * Convious shape, written into b. */
void cv_jb_product(jbuf *b, const account *a, const catalog_view *catalog, const json_t *product, unsigned includes);

/* handlers */
void cv_oauth_token(http_request *r, void *app);
void cv_orders_list(http_request *r, void *app);
void cv_order_get(http_request *r, void *app);
void cv_order_status(http_request *r, void *app);
void cv_cart_create(http_request *r, void *app);
void cv_cart_get(http_request *r, void *app);
void cv_cart_update(http_request *r, void *app);
void cv_cart_delete(http_request *r, void *app);
void cv_booking_create(http_request *r, void *app);
void cv_products_list(http_request *r, void *app);
void cv_product_get(http_request *r, void *app);
void cv_product_availability(http_request *r, void *app);
void cv_availability_period(http_request *r, void *app);
void cv_availability_day(http_request *r, void *app);
void cv_categories_list(http_request *r, void *app);
void cv_pricing_period(http_request *r, void *app);
void cv_pricing_day(http_request *r, void *app);
void cv_scan_check(http_request *r, void *app);
void cv_scan_redeem(http_request *r, void *app);
void cv_order_apf_get(http_request *r, void *app);
void cv_order_apf_post(http_request *r, void *app);
#endif
