/* What every dialect shares: the application handle its handlers receive as
 * `app`, and the route table each dialect exports. Dialects translate between
 * a vendor's documented API and the engine; nothing vendor-specific goes
 * below this directory. */
#ifndef BO_API_H
#define BO_API_H
#include "catalog_doc/catalog_doc.h"
#include "api/order_json.h"
#include "core/engine.h"
#include "eticket/eticket.h"
#include "http/http.h"
#include <stdarg.h>

typedef struct {
    engine *e;
    bool test_clock;           /* /admin/v1/test/clock may move the clock (tests only) */
    int64_t oauth_token_ttl;   /* seconds */
    long rate_limit_per_hour;  /* Ticket Tailor: per API key */
    http_reply_cache *replies; /* rendered replies of read endpoints; NULL: none */
} app;

/* How long a cached reply may serve: what another server process changed shows
 * within this (this process's own changes show at once: the stamps). */
#define API_REPLY_MAX_AGE_MS 50
/* Answers r from the reply cache when nothing it depends on changed: the
 * account's catalog, and its inventory on days [from, to) (from < 0: any day).
 * Else arms r so that the 200 the handler gives is kept. True when answered. */
bool api_reply_cached(http_request *r, void *app, civil_date from, civil_date to);
/* api_reply_cached for replies that show prices: never answered from the
 * cache when the account prices any product dynamically (src/api/listed_price.c). */
bool api_reply_cached_priced(http_request *r, void *app, civil_date from, civil_date to);
/* The price a listing shows for one ticket of p at an occurrence (an id, or a
 * day and start time as occurrence_resolve takes them): a dynamic product's
 * current price there, which a hold made now locks; else p's base price. */
money api_listed_price(engine *e, const account *a, const cat_product *p, const char *occurrence_id, civil_date day,
                       int32_t start_time);

/* A translated text ({"en": ..., "nl": ...}) in English, else its first
 * language, else "" (src/api/text.c). */
const char *api_text(const json_t *texts);

/* Where a payment sends the buyer, as an absolute URL: a path on this server
 * (the hosted page, /pay/{id}) after the base URL the client used; a
 * provider's absolute URL as it is (src/api/dialect.c). */
json_t *api_absolute_url(http_request *r, const char *url);

/* The canonical cart document of docs/MODEL.md (src/api/cart_json.c). */
json_t *api_cart_json(const account *a, const cart_record *c);

/* The authenticated account of a request (set by the dialect's auth fn). */
static inline const account *api_account(const http_request *r) { return (const account *)http_user(r); }

/* Looks the secret (1-256 bytes) up as a credential of `kind` and makes its
 * account the request's user (api_account): BO_OK, BO_UNAUTHORIZED (none,
 * unknown, revoked, expired), or BO_INTERNAL; the caller answers refusals in
 * its dialect's shape (src/api/dialect.c). */
bo_status api_authenticate(http_request *r, void *app, cred_kind kind, const char *secret);

/* One row of a dialect's table renaming the engine's field names (engine.h)
 * to its own; names not listed are the same in both. */
typedef struct {
    const char *engine, *wire;
} api_field_name;
/* The dialect's name for engine_field in names (n rows). */
const char *api_wire_field(const api_field_name *names, size_t n, const char *engine_field);

/* An error message from printf-style arguments, cut to n bytes on a
 * character boundary (jansson refuses a split UTF-8 character). */
void api_message_v(char *out, size_t n, const char *fmt, va_list ap);

/* The around fn of every dialect's route table: Idempotency-Key on every
 * authenticated POST (src/api/idempotency.c). */
void api_idempotent(http_request *r, http_handler handler, void *app);

const http_route_table *admin_routes(void);
const http_route_table *convious_routes(void);
const http_route_table *tickettailor_routes(void);
const http_route_table *cm_routes(void);
const http_route_table *fourvenues_routes(void);
const http_route_table *convious_pricing_routes(void); /* /convious-pricing (src/api/convious_pricing/) */
const http_route_table *root_routes(void); /* /healthz, /readyz */
/* E-ticket downloads, public (the token is the credential): /tickets/{token}.pdf
 * and .svg, /orders/{token}.pdf (src/api/downloads.c). */
const http_route_table *ticket_download_routes(void);
/* POST /tickets/{token}/refund-request: the holder asks for a refund under the
 * ticket's warranty (src/api/refund_requests.c), on the downloads' table. */
void api_ticket_refund_request(http_request *r, void *app);
const http_route_table *order_download_routes(void);
/* The absolute URL of an object's e-ticket ("{base}/tickets/{token}.pdf"; kind
 * ETICKET_ORDER: /orders/...; ext "pdf" or, for a ticket, "svg"), built from
 * the request's base URL (r NULL: a path alone). False when the id can have no
 * token (not a UUID). */
bool api_eticket_url(http_request *r, eticket_kind kind, const char *account_id, const char *id, const char *ext,
                     char *out, size_t n);
/* The test provider's hosted payment page, /pay/{payment_id}, and providers'
 * notifications, /payments/notify/{provider} (src/api/pay/). Public: the
 * payment id is the page's secret. */
const http_route_table *pay_page_routes(void);
const http_route_table *payment_notify_routes(void);
/* Headers of a 503 the client should retry later (BO_UNAVAILABLE, an unready
 * /readyz); src/api/health.c. */
void api_retry_later(http_request *r);
/* Registers the Ticket Tailor webhook format (before serving). Its name is
 * what /admin/v1 subscriptions get when they name no format. */
#define TICKETTAILOR_WEBHOOK_FORMAT "tickettailor"
void tickettailor_install(engine *e);
/* Registers the Fourvenues webhook format (src/api/fourvenues/webhooks.c). */
#define FOURVENUES_WEBHOOK_FORMAT "fourvenues"
void fourvenues_install(engine *e);
#endif
