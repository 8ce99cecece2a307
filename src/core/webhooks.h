/* Webhook subscriptions and their delivery. Changes are recorded in the
 * outbox by events.c in the same transaction as the change; the delivery
 * worker here sends each (event, subscription) at least once, with the same
 * id on every retry. Retry n (n >= 2) waits n^4 seconds after attempt n-1, up
 * to 22 attempts; a redirect or a network error is a failure; a subscription
 * failing for 10 days is disabled.
 *
 * Vendor-neutral: what a delivery looks like (payload, body, signature) is a
 * webhook_format that a dialect registers at start-up; each subscription names
 * its format, and the engine knows none of them. */
#ifndef BO_WEBHOOKS_H
#define BO_WEBHOOKS_H
#include "core/engine.h"
#include <curl/curl.h>

#define WEBHOOK_MAX_ATTEMPTS 22
#define WEBHOOK_DISABLE_AFTER_SECONDS (10LL * 86400)

/* ---------- formats ---------- */

#define WEBHOOK_MAX_FORMATS 8
#define WEBHOOK_MAX_HEADERS 4
#define WEBHOOK_HEADER_MAX 512

/* The delivery being built, as the envelope sees it. */
typedef struct {
    const char *id;           /* the event id: the same on every retry */
    const char *event;        /* "ORDER.CREATED", ... */
    const char *resource;     /* "order", "issued_ticket", "event" */
    const char *resource_url; /* as the payload function named it (else the outbox's) */
    instant_us created_at;    /* when the change was recorded */
} webhook_event_info;

/* Header lines ("Name: value") a signature adds to a delivery. */
typedef struct {
    char line[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_MAX];
    int n;
} webhook_headers;
/* Appends one formatted line; false (nothing added) when full, too long, or
 * holding a CR or LF. */
bool webhook_header_add(webhook_headers *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How one vendor's webhooks look. Every function is optional:
 * - body: the request body of one delivery, as JSON text (malloc'd; sent as
 *   application/json). `object` is the canonical object's JSON text as the
 *   outbox recorded it at the change ("null" when it recorded none); the
 *   vendor's payload, its URL (ev->resource_url is the outbox's) and envelope
 *   are the format's. NULL (function): the object itself is the body; NULL
 *   (result): the attempt fails.
 * - sign: the header lines proving the body (exactly the bytes sent) came from
 *   the holder of the subscription's secret; `now` is the send time. False
 *   fails the attempt. NULL: no signature.
 * The struct is copied on registration; name and what the functions use must
 * live as long as the engine. */
typedef struct {
    const char *name; /* what subscriptions name, e.g. the dialect's */
    char *(*body)(engine *e, const account *a, const webhook_event_info *ev, const char *object);
    bool (*sign)(const char *secret, const char *body, instant_us now, webhook_headers *out);
} webhook_format;

/* Registers a format under its name, at start-up: formats are added, never
 * changed or removed, so the delivery worker reads the table without a lock
 * (each entry is published with a release store of the count). Call from one
 * thread. False when the table is full, the name is empty or already taken. */
bool webhooks_register_format(engine *e, const webhook_format *f);
/* The registered format of that name, or NULL. */
const webhook_format *webhooks_find_format(engine *e, const char *name);

/* ---------- where deliveries may go ----------
 * A webhook URL is the account's choice, so the server must not become a way
 * into its own network: loopback, private, link-local, carrier-grade NAT,
 * unspecified, multicast and reserved addresses (IPv4 and IPv6, IPv4-mapped
 * included) are refused, both when a subscription is made (its host, a literal
 * or every address its name resolves to) and when a delivery connects (the
 * address actually connected to, so a changed DNS answer cannot reach one).
 * An operator's allow list (engine_config.webhook_allow, "127.0.0.1,::1" or
 * CIDR "10.1.0.0/16") lets such addresses through, for local testing. */

#define WEBHOOK_MAX_ALLOW 16

typedef struct {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network order; 4 bytes for AF_INET */
    int prefix;             /* bits that must match */
} webhook_net;

/* Parses a comma-separated list of addresses or CIDR networks (spaces
 * allowed; NULL or empty = none) into out (at most max); false with *why set
 * on a bad entry or too many. */
bool webhooks_parse_allow(const char *list, webhook_net *out, int max, int *n, const char **why);
/* Whether a delivery may connect to this address: a public one, or one on the
 * engine's allow list. */
struct sockaddr;
bool webhooks_address_allowed(engine *e, const struct sockaddr *sa);
/* Whether a host (a name or an address literal, IPv6 in brackets or not) may
 * be named in a setting: a literal that is allowed, or a name that resolves
 * to at least one allowed address (each connection is checked again when it
 * is made). False with why set, naming it as `what` ("url's host"). The same
 * rule covers every outgoing connection: webhooks and SMTP (core/mail.c). */
bool webhooks_host_allowed(engine *e, const char *host, const char *what, char *why, size_t why_len);
/* A curl CURLOPT_OPENSOCKETFUNCTION's work: the socket for an allowed
 * address, or CURL_SOCKET_BAD with why set (the address it refused), so a
 * disallowed address is never connected to, whatever DNS answered. */
curl_socket_t webhooks_open_socket(engine *e, curlsocktype purpose, struct curl_sockaddr *address, char *why,
                                   size_t why_len);

/* ---------- subscriptions ---------- */

/* A subscription as stored. Strings owned. */
typedef struct {
    char *id, *url, *format;
    char *events;              /* comma-separated event names; "*" = every event */
    bool active;
    bool failing;              /* whether failing_since is set */
    instant_us failing_since, created_at;
    char *secret;              /* only from webhook_subscription_create (shown that once); else NULL */
    char *name;                /* the subscriber's label; "" when none */
} webhook_subscription;
void webhook_subscription_free(webhook_subscription *s);

typedef struct {
    webhook_subscription *items; /* oldest first */
    size_t n;
} webhook_subscriptions;
void webhook_subscriptions_free(webhook_subscriptions *l);

/* One (event, subscription) delivery as the history shows it. Strings owned. */
typedef struct {
    char *event_id, *event;
    char *status;              /* pending | delivered | failed | cancelled */
    int64_t attempts;
    bool has_status_code;
    int64_t last_status_code;
    char *last_error;          /* NULL none */
    bool attempted;            /* whether last_attempt_at is set */
    instant_us last_attempt_at;
    instant_us next_due;       /* when pending */
    instant_us created_at;     /* the event's */
} webhook_delivery;

typedef struct {
    webhook_delivery *items;   /* newest event first */
    size_t n;
} webhook_delivery_list;
void webhook_delivery_list_free(webhook_delivery_list *l);

/* label: the subscription's name, at most 200 bytes (NULL: none; else BO_INVALID "invalid_name" on "name").
 * url: http:// or https:// whose host is allowed (see above; else
 * BO_INVALID "invalid_url", field "url"; a name that does not resolve too).
 * format: a registered format's name (else BO_INVALID, field "format").
 * events: nevents names like "ORDER.CREATED"; none = every event.
 * secret: NULL = generate one. *out shows the secret (only this once); free
 * it with webhook_subscription_free. */
bo_status webhook_subscription_create(engine *e, const account *a, const char *url, const char *format,
                                      const char *const *events, size_t nevents, const char *secret, const char *label,
                                      webhook_subscription *out, bo_error *err);
bo_status webhook_subscription_list(engine *e, const account *a, webhook_subscriptions *out);
/* BO_NOT_FOUND; on BO_OK free *out with webhook_subscription_free. */
bo_status webhook_subscription_get(engine *e, const account *a, const char *id, webhook_subscription *out);
bo_status webhook_subscription_delete(engine *e, const account *a, const char *id, bo_error *err);
/* Delivery history of a subscription, newest first (at most 500). BO_NOT_FOUND. */
bo_status webhook_deliveries_list(engine *e, const account *a, const char *subscription_id,
                                  webhook_delivery_list *out);

/* The background sender (started by engine_open when workers are on). */
void webhooks_start(engine *e);
void webhooks_stop(engine *e);
/* One pass: sends what is due now; returns how many were attempted. */
int webhooks_deliver_due(engine *e);
#endif
