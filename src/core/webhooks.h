/* Webhook subscriptions and their delivery. Changes are recorded in the
 * outbox by events.c in the same transaction as the change; the delivery
 * worker here sends each (event, subscription) at least once, with the same
 * id on every retry, signed with the subscription's secret:
 *   Tickettailor-Webhook-Signature: t=<unix>,v1=<hex hmac-sha256(secret, t + body)>
 * Retry n (n >= 2) waits n^4 seconds after attempt n-1, up to 22 attempts;
 * a redirect or a network error is a failure; a subscription failing for 10
 * days is disabled. Vendor-neutral: a dialect may install a formatter that
 * turns the canonical object into its own payload shape. */
#ifndef BO_WEBHOOKS_H
#define BO_WEBHOOKS_H
#include "core/engine.h"

#define WEBHOOK_MAX_ATTEMPTS 22
#define WEBHOOK_DISABLE_AFTER_SECONDS (10LL * 86400)

/* Turns a canonical object into the delivered payload and its API URL. Returns
 * a new reference, or NULL to send the canonical object. */
typedef json_t *(*webhook_formatter)(engine *e, const account *a, const char *resource, json_t *canonical,
                                     char *resource_url, size_t url_len);
/* Set once at start-up, before serving. */
void webhooks_set_formatter(engine *e, webhook_formatter fmt);

/* events: NULL or empty = every event; else names like "ORDER.CREATED".
 * secret: NULL = generate one. *out shows the secret (only this once). */
bo_status webhook_subscription_create(engine *e, const account *a, const char *url, json_t *events, const char *secret,
                                      json_t **out, bo_error *err);
bo_status webhook_subscription_list(engine *e, const account *a, json_t **out);
bo_status webhook_subscription_get(engine *e, const account *a, const char *id, json_t **out);
bo_status webhook_subscription_delete(engine *e, const account *a, const char *id, bo_error *err);
/* Delivery history of a subscription, newest first: id, event, status,
 * attempts, last_status_code, last_error, last_attempt_at, next_due. */
bo_status webhook_deliveries_list(engine *e, const account *a, const char *subscription_id, json_t **out);

/* The background sender (started by engine_open when workers are on). */
void webhooks_start(engine *e);
void webhooks_stop(engine *e);
/* One pass: sends what is due now; returns how many were attempted. */
int webhooks_deliver_due(engine *e);
#endif
