/* Boxoffice's own management API, /admin/v1 (docs/ADMIN_API.md, docs/openapi.json).
 *
 * Every handler is: parse (a declarative body table or query parameters) ->
 * one engine call -> admin_fail() on a bo_status, or a JSON reply. Errors have
 * one shape: {"error": {"code", "message", "field"}}. The authenticated account
 * (api_account) confines every call; another account's id is simply 404. */
#ifndef BO_API_ADMIN_H
#define BO_API_ADMIN_H
#include "api/api.h"
#include "api/body.h"
#include <stdarg.h>

#define ADMIN_PREFIX "/admin/v1"
#define ADMIN_AUTH 1 /* auth_kind of every route but the OpenAPI document */

/* ---------- replies (common.c) ---------- */

/* Replies {"error": {...}}; message is printf-style. */
void admin_error(http_request *r, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The one bo_status -> HTTP mapping; engine field names are translated to ours. */
void admin_fail(http_request *r, const bo_error *err);
/* For engine calls that return a bare status (catalog_get, order_get ...). */
void admin_fail_status(http_request *r, bo_status st, const char *what);
/* 201 with a Location of ADMIN_PREFIX "/" collection "/" id (id percent-encoded). */
void admin_reply_created(http_request *r, const char *collection, const char *id, json_t *body);
/* {"data": items, "count": n} (+ "has_more" when has_more is non-NULL); steals items. */
json_t *admin_list(json_t *items, const bool *has_more);

/* ---------- request bodies (common.c) ---------- */


/* The request body as a JSON object (owned by the request), or NULL after replying 400. */
json_t *admin_body(http_request *r);
/* Same for a body that may be empty (*out = NULL then); false after replying 400. */
bool admin_body_optional(http_request *r, json_t **out);
/* Checks obj against the table: unknown fields, missing required ones and
 * wrong types are 400 (field named prefix + name). False after replying. */
bool admin_fields(http_request *r, json_t *obj, const char *prefix, const body_field *fields, size_t n);
#define ADMIN_FIELDS(r, obj, prefix, table) admin_fields(r, obj, prefix, table, sizeof table / sizeof table[0])

/* A customer object ({email, name, first_name, last_name, language, phone,
 * marketing_opt_in}); false after replying 400. NULL is fine. */
bool admin_customer(http_request *r, json_t *customer);

/* ---------- query parameters (common.c) ---------- */

/* 400 (false) if the query string names a parameter not in the NULL-terminated list. */
bool admin_query_known(http_request *r, const char *const *allowed);
/* Optional integer parameter in lo..hi; false after replying 400. */
bool admin_query_int(http_request *r, const char *name, int64_t lo, int64_t hi, int64_t *out);
/* Optional date YYYY-MM-DD; false after replying 400. *out unchanged when absent. */
bool admin_query_date(http_request *r, const char *name, civil_date *out);
/* Optional ISO 8601 instant (a local time is read in the account's zone); 0 when absent. */
bool admin_query_instant(http_request *r, const char *name, instant_us *out);

static inline engine *admin_engine(void *app_) { return ((app *)app_)->e; }

/* ---------- handlers, one file per resource ---------- */

/* catalog.c: list, create, get, replace, merge, delete for every catalog kind. */
#define ADMIN_CATALOG_KINDS(X)                                                                                         \
    X(location, CAT_LOCATION)                                                                                          \
    X(category, CAT_CATEGORY)                                                                                          \
    X(schedule, CAT_SCHEDULE)                                                                                          \
    X(event, CAT_EVENT)                                                                                                \
    X(pool, CAT_POOL)                                                                                                  \
    X(product, CAT_PRODUCT)                                                                                            \
    X(discount, CAT_DISCOUNT)                                                                                          \
    X(voucher, CAT_VOUCHER)                                                                                            \
    X(question, CAT_QUESTION)                                                                                           \
    X(ticket_group, CAT_TICKET_GROUP)                                                                                  \
    X(payment_method, CAT_PAYMENT_METHOD)                                                                              \
    X(guest_list, CAT_GUEST_LIST)
#define ADMIN_CATALOG_DECLARE(k, K)                                                                                    \
    void admin_##k##_list(http_request *r, void *app_);                                                                \
    void admin_##k##_create(http_request *r, void *app_);                                                              \
    void admin_##k##_get(http_request *r, void *app_);                                                                 \
    void admin_##k##_replace(http_request *r, void *app_);                                                             \
    void admin_##k##_merge(http_request *r, void *app_);                                                               \
    void admin_##k##_delete(http_request *r, void *app_);
ADMIN_CATALOG_KINDS(ADMIN_CATALOG_DECLARE)
#undef ADMIN_CATALOG_DECLARE
/* account.c */
void admin_account_get(http_request *r, void *app_);
void admin_account_update(http_request *r, void *app_);
/* mail.c */
void admin_mail_get(http_request *r, void *app_);
void admin_mail_put(http_request *r, void *app_);
void admin_webhooks_list(http_request *r, void *app_);
void admin_webhook_create(http_request *r, void *app_);
void admin_webhook_get(http_request *r, void *app_);
void admin_webhook_delete(http_request *r, void *app_);
void admin_webhook_deliveries(http_request *r, void *app_);
/* orders.c */
void admin_orders_list(http_request *r, void *app_);
void admin_order_get(http_request *r, void *app_);
void admin_order_create(http_request *r, void *app_);
void admin_order_cancel(http_request *r, void *app_);
void admin_order_apf(http_request *r, void *app_);
/* payments.c */
void admin_order_payment_start(http_request *r, void *app_);
void admin_payment_get(http_request *r, void *app_);
void admin_payment_settings_get(http_request *r, void *app_);
void admin_payment_settings_update(http_request *r, void *app_);
void admin_payment_provider_get(http_request *r, void *app_);
void admin_payment_provider_put(http_request *r, void *app_);
void admin_payment_provider_delete(http_request *r, void *app_);
/* GET, PATCH /channel_settings {platform_fee} (channel_settings.c). */
void admin_channel_settings_get(http_request *r, void *app_);
void admin_channel_settings_update(http_request *r, void *app_);
/* tickets.c */
/* Sets `download_url` on an order (and its tickets), a ticket, or each of an
 * array of them; returns obj (etickets.c). */
json_t *admin_eticket_urls(http_request *r, const account *a, json_t *obj);
void admin_ticket_get(http_request *r, void *app_);
void admin_ticket_void(http_request *r, void *app_);
/* carts.c */
void admin_cart_create(http_request *r, void *app_);
void admin_cart_get(http_request *r, void *app_);
/* availability.c */
void admin_availability_get(http_request *r, void *app_);
/* pricing.c: dynamic pricing per product */
void admin_pricing_settings_get(http_request *r, void *app_);
void admin_pricing_settings_put(http_request *r, void *app_);
void admin_pricing_model_get(http_request *r, void *app_);
void admin_pricing_explain(http_request *r, void *app_);
void admin_pricing_recompute(http_request *r, void *app_);
/* ... and per Convious pricing inventory reference */
void admin_pricing_reference_get(http_request *r, void *app_);
void admin_pricing_reference_explain(http_request *r, void *app_);
/* credentials.c */
void admin_credential_create(http_request *r, void *app_);
void admin_event_access_key_add(http_request *r, void *app_);
void admin_event_access_key_remove(http_request *r, void *app_);
/* test_clock.c */
void admin_test_clock(http_request *r, void *app_);
void admin_test_analytics_flush(http_request *r, void *app_);
/* openapi.c */
void admin_openapi_get(http_request *r, void *app_);

/* docs/openapi.json, generated into build/gen/openapi_json.c by the Makefile; NUL-terminated. */
extern const unsigned char openapi_json[];
extern const unsigned long openapi_json_len;
#endif
