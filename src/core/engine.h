/* The sales engine: one vendor-neutral model of accounts, catalog, capacity,
 * carts, orders, tickets and scans. It speaks no HTTP, no SQL dialect and no
 * JSON; the dialects in src/api translate to and from it, and render the
 * canonical shapes of docs/MODEL.md from what its read functions return.
 *
 * Conventions: money is int64 minor units; instants are int64 microseconds
 * (UTC); every function takes the authenticated account and never touches
 * another account's rows (an id of another account is simply not found). */
#ifndef BO_ENGINE_H
#define BO_ENGINE_H
#include "core/catalog_model.h"
#include "store/occurrence_counts.h"
#include "store/orders_store.h"
#include "store/sales.h"
#include "store/scan_store.h"
#include "store/access_keys_store.h"
#include "store/store.h"
#include "util/money.h"
#include "util/timeutil.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct engine engine;

typedef enum {
    BO_OK = 0,
    BO_INVALID,      /* bad input: err.field / err.message say which */
    BO_NOT_FOUND,    /* unknown id, or another account's */
    BO_SOLD_OUT,     /* not enough capacity; nothing was held */
    BO_CONFLICT,     /* state forbids it: cart booked/expired, order cancelled, duplicate code ... */
    BO_UNAUTHORIZED,
    BO_FORBIDDEN,
    BO_RATE_LIMITED,
    BO_INTERNAL,     /* storage failure; logged */
    BO_UNAVAILABLE,  /* storage has no room to write (disk full): nothing changed; retry later */
} bo_status;

/* bo_error.field names the offending input in the engine's own vocabulary,
 * never a vendor's: snake_case, after the engine's nouns and parameters.
 * Each dialect renames them to its documented names in one table, used by
 * its error helper: admin_field_names (src/api/admin/common.c, admin_fail),
 * cv_field_names (src/api/convious/common.c, cv_fail), tt_field_names
 * (src/api/tickettailor/common.c, tt_fail), cm_field_names (src/api/cm/common.c,
 * cm_fail); a name not in a dialect's table
 * goes out unchanged. The vocabulary:
 *   selling    cart_id, items (a cart's lines), product_id, quantity (of a line),
 *              category_id, date, start_time, occurrence_id, products (any
 *              product of an availability query), date_to, pricing_token,
 *              customer, extras, discount_code, voucher_code, payment, reason (of a
 *              cancellation), status (of an order), barcode, cursor (a page
 *              boundary: starting_after / ending_before), codes (voucher codes),
 *              answers (a booking's answers to the custom questions; one
 *              answer's fields "answers[i].question_id", ".ticket_index", ".answer"),
 *              options (a line's chosen options), option_id, option_quantity,
 *              ticket_id, apf_answers (after-payment form answers), apf_answer (one of them),
 *              amount (of a refund)
 *   access     event_id, access_key (an event's access keys)
 *   accounts   slug, name, timezone, currency, hold_seconds, secret, client_id
 *   webhooks   url, events, secret
 *   payments   provider, method, fee, deadline_seconds, callback_urls.<name>, outcome,
 *              api_key, webhook_secret (a provider's settings), X-Signature (a notification's), id, status
 *   catalog    the field of the canonical document (docs/MODEL.md) as written
 *              there, e.g. "amount", "percent_bp", "product_ids", "expires_at",
 *              "pools", a nested one dotted ("scan.limit"); plus "id" and
 *              "capacity"
 * Add a name here before using it in bo_fail. */
typedef struct {
    bo_status status;
    char code[48];     /* stable machine-readable code, e.g. "sold_out", "invalid_date" */
    char field[64];    /* offending input field (vocabulary above), "" if none */
    char message[256]; /* human-readable */
} bo_error;

/* Sets err and returns its status; printf-style message. */
bo_status bo_fail(bo_error *err, bo_status st, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

typedef struct {
    char id[40];
    char slug[64];
    char name[128];
    char timezone[64];
    char currency[4];
    int currency_decimals;
    int64_t hold_seconds;
    instant_us created_at;
} account;

typedef struct {
    int64_t default_hold_seconds; /* 900 */
    unsigned reaper_interval_ms;  /* background release of expired holds; 0 = off */
    bool start_workers;           /* reaper (and webhook delivery once present) */
    /* addresses webhooks may reach although private or loopback, for local
     * testing: "127.0.0.1,::1", CIDR allowed; NULL = none (core/webhooks.h).
     * Read by engine_open only. */
    const char *webhook_allow;
    /* reads and writes catalog documents; required (src/catalog_doc) */
    const struct catalog_codec *catalog_codec;
    /* browser analytics (core/inventory_refs.h): days raw events and daily
     * counters are kept (0: 30), and events per minute from one /24 or /48
     * prefix and from one cookie (0: 6000 and 600) */
    int analytics_retention_days;
    long analytics_per_ip_per_minute, analytics_per_cookie_per_minute;
    /* dynamic pricing (core/dynamic_pricing.c), 0 = the default in brackets:
     * the background recompute's period [600000 ms], the days ahead it plans
     * [14], and the prior of products without sales: orders per hour [0.2]
     * and price elasticity [1.5] */
    unsigned pricing_interval_ms;
    int pricing_horizon_days;
    double pricing_prior_orders_per_hour, pricing_prior_elasticity;
} engine_config;

engine *engine_open(store *st, const engine_config *cfg);
void engine_close(engine *e);
store *engine_store(engine *e);
/* Whether the engine can serve: its database answers (GET /healthz). */
bool engine_ready(engine *e);
/* Whether it can take writes (GET /readyz): BO_OK, BO_UNAVAILABLE while the
 * database has no room, BO_INTERNAL when the probe write fails otherwise. */
bo_status engine_writable(engine *e);

/* ---------- accounts and credentials (core/accounts.c, core/auth.c) ---------- */

typedef enum {
    CRED_ADMIN_TOKEN = 1,
    CRED_OAUTH_CLIENT,    /* public_id = client_id, secret = client secret */
    CRED_ACCESS_TOKEN,    /* issued by oauth, expires */
    CRED_API_KEY,         /* Ticket Tailor style */
    CRED_PRODUCT_TOKEN,   /* CM style */
    CRED_CHANNEL_KEY,     /* Fourvenues style */
} cred_kind;

bo_status account_create(engine *e, const char *slug, const char *name, const char *timezone, const char *currency,
                         account *out, bo_error *err);
bo_status account_by_slug(engine *e, const char *slug, account *out);
/* Changes the display name (NULL keeps it) and the cart hold time (0 keeps it;
 * 60 s to 7 days). *out gets the account as stored. */
bo_status account_update(engine *e, const account *a, const char *name, int64_t hold_seconds, account *out,
                         bo_error *err);
bo_status account_by_id(engine *e, const char *id, account *out);
/* Stores a credential (hashed). public_id only for CRED_OAUTH_CLIENT. Idempotent on (kind, secret). */
bo_status credential_add(engine *e, const account *a, cred_kind kind, const char *public_id, const char *secret,
                         const char *label, instant_us expires_at, bo_error *err);
/* Revokes the account's credential with this secret (and client id, for
 * CRED_OAUTH_CLIENT). Every server process refuses it within 100 ms; this one
 * at once. BO_NOT_FOUND when the account has no such live credential. */
bo_status credential_revoke(engine *e, const account *a, cred_kind kind, const char *public_id, const char *secret,
                            bo_error *err);
/* Finds the account a secret belongs to; constant-time compare, expiry checked.
 * Served from an in-memory cache (no SQL) once the credential has been seen. */
bo_status auth_lookup(engine *e, cred_kind kind, const char *secret, account *out);
bo_status auth_oauth_client(engine *e, const char *client_id, const char *client_secret, account *out);
/* Issues an access token valid ttl seconds; token is "at_" + 64 hex chars. */
bo_status auth_issue_access_token(engine *e, const account *a, int64_t ttl_seconds, char token[80]);
/* Secrets the server must use itself (encrypted with the server key at rest). */
bo_status account_secret_put(engine *e, const account *a, const char *name, const char *plain);
char *account_secret_get(engine *e, const account *a, const char *name); /* caller frees; NULL if none */

/* ---------- catalog (core/catalog.c) ----------
 * Catalog objects are documents in the canonical shapes of docs/MODEL.md
 * (JSON text), checked on every write and compiled into the typed model of
 * catalog_model.h per catalog version. The engine never parses them: the
 * catalog codec of engine_config does (src/catalog_doc is the JSON one).
 * Kinds: location, category, schedule, event, pool, product, discount,
 * voucher, question (catalog_kind, in catalog_model.h). */
const char *catalog_kind_name(catalog_kind k);
bool catalog_kind_parse(const char *name, catalog_kind *out);

/* Creates (id NULL or unused: a new id is made unless the document has one) or
 * replaces (partial=false) / merges (partial=true) a document; doc is its
 * text. *out (optional) gets the stored document's text: caller frees. */
bo_status catalog_put(engine *e, const account *a, catalog_kind k, const char *id, const char *doc, bool partial,
                      char **out, bo_error *err);
/* The stored document's text (caller frees), BO_NOT_FOUND, or BO_INTERNAL. */
bo_status catalog_get(engine *e, const account *a, catalog_kind k, const char *id, char **out);
bo_status catalog_delete(engine *e, const account *a, catalog_kind k, const char *id, bo_error *err);
/* Where each object of kind k stands in list order (created_at, then id),
 * deleted objects included: a list resumed after a deleted object continues
 * from its place. *out is the caller's to free. */
typedef struct {
    char id[48];
    instant_us created_at;
    bool deleted;
} catalog_place;
bo_status catalog_places(engine *e, const account *a, catalog_kind k, catalog_place **out, size_t *n);
/* The account's current catalog, held for reading many objects: everything
 * it hands out is borrowed, valid until catalog_view_close. */
typedef struct catalog_snapshot catalog_view;
catalog_view *catalog_view_open(engine *e, const account *a); /* NULL when storage failed */
void catalog_view_close(catalog_view *v);
/* The typed catalog: model_product(catalog_view_model(v), id), model_count ... */
const catalog_model *catalog_view_model(const catalog_view *v);

/* What the catalog codec makes of a written document. */
typedef struct {
    char id[48];          /* the object's id: the path's, the document's own, or a new one */
    char *text;           /* the normalised document to store (malloc'd) */
    char *parent_id;      /* a category's parent_id, a product's event_id; malloc'd, NULL when none */
    int64_t capacity;     /* a pool's capacity, -1 when unlimited */
    char **pool_ids;      /* a product's pools[].pool_id (malloc'd, each too), for the engine's check */
    size_t npool_ids;
} catalog_doc;
void catalog_doc_clear(catalog_doc *d);

/* The codec: what reads and writes catalog documents, so that the engine does
 * not (src/catalog_doc holds the JSON one). Set in
 * engine_config by main.c and the test fixture. */
typedef struct catalog_codec {
    /* Checks and normalises a written document (body, its text). existing is
     * the stored document of that id, NULL for a new object; partial merges
     * body over it. id is the path's id or NULL (then the body's, else a new
     * one). References are checked with exists(kind, id, ctx). BO_INVALID
     * with err naming the field (docs/MODEL.md) when refused. */
    bo_status (*prepare)(catalog_kind k, const char *existing, const char *body, bool partial, const char *id,
                         bool (*exists)(catalog_kind, const char *, void *), void *ctx, catalog_doc *out,
                         bo_error *err);
    /* Compiles one stored document into m (catalog_model.h: model_alloc, then
     * model_add with the codec's decoded document), references resolving
     * against the kinds already added. A document it cannot read is left out. */
    void (*compile)(catalog_model *m, catalog_kind k, const char *doc);
    /* Frees a decoded document that compile handed to model_add. */
    void (*release)(void *decoded);
} catalog_codec;

/* ---------- occurrences and availability (core/schedule.c, core/availability.c) ----------
 * An occurrence is when a dated product is used: a timeslot of a schedule
 * ("2026-11-24T09:00"), a whole day ("2026-11-24"), an event occurrence (its id),
 * or "" for undated products. Capacity pools count per occurrence. */
typedef struct {
    char key[64];
    civil_date day;         /* -1 when undated */
    int32_t time_from;      /* seconds after local midnight, -1 = full day / undated */
    int32_t time_to;        /* -1 = no end */
    instant_us starts_at;   /* 0 when undated */
    instant_us ends_at;     /* 0 when open-ended */
    int64_t available;      /* -1 = unlimited */
    bool open;              /* false: closed date, outside validity, not for sale */
} slot;

/* An option chosen with every ticket of a cart line (cat_option). */
typedef struct {
    const char *option_id;
    int64_t quantity;          /* per ticket, 1..its max_quantity (else 1..CART_OPTION_QUANTITY_MAX) */
} cart_option;
#define CART_OPTION_QUANTITY_MAX 100

/* The options chosen for one line, at most STORE_LINE_OPTIONS_MAX. */
typedef struct {
    const cart_option *options;
    size_t n;
} cart_line_options;

typedef struct {
    const char *product_id;
    int64_t quantity;
} cart_line;

/* What a reply read from an account's catalog and inventory depends on, for
 * caches of rendered replies: two stamps are equal only if neither the catalog
 * nor the inventory of days [from, to) changed in between (from < 0 or from >
 * to: of any day; from == to >= 0: a reply of the catalog alone), nor the test clock moved. Exact for this process's own
 * writes; another process's catalog writes show within 100 ms, its inventory
 * writes not at all: a cache must also bound its entries' age. Read the stamp
 * before reading what the reply shows. False when the catalog cannot be read. */
typedef struct {
    uint64_t catalog, inventory;
    int64_t clock_offset;
    /* access keys and account settings (hold length): a reply that checks a
     * ?key= or shows a setting changes with this too */
    uint64_t access;
} read_stamp;
bool engine_read_stamp(engine *e, const account *a, civil_date from, civil_date to, read_stamp *out);

/* The most slots one availability or pricing request may span: a year of a
 * 15-minute schedule open 12 hours a day (17,568) fits; a year of 1-minute
 * slots (527,040, a 96 MB reply) does not. Beyond it both functions below fail
 * with "too_many_slots" on date_to. Documented in docs/ADMIN_API.md and
 * docs/dialects/convious.md. */
#define AVAILABILITY_MAX_SLOTS 20000

/* Every slot of the product between from (inclusive) and to (exclusive), with
 * the tickets of that product still available there. *out is malloc'd. */
bo_status availability_product(engine *e, const account *a, const char *product_id, const char *category_id,
                               civil_date from, civil_date to, slot **out, size_t *n, bo_error *err);
/* Slots where the whole cart (all lines at once, pools shared) fits. available
 * is the number of whole carts that still fit, -1 unlimited, 0 not available. */
bo_status availability_cart(engine *e, const account *a, const char *category_id, const cart_line *lines,
                            size_t nlines, civil_date from, civil_date to, slot **out, size_t *n, bo_error *err);
/* Resolves one occurrence of a product: a date (+ optional start time), or an
 * event occurrence id, or undated. Fails with BO_INVALID / BO_NOT_FOUND. */
bo_status occurrence_resolve(engine *e, const account *a, const char *product_id, const char *category_id,
                             civil_date day, int32_t start_time, const char *occurrence_id, slot *out, bo_error *err);

/* ---------- timeslot groups and live counts (core/timeslots.c) ----------
 * Products whose occurrences come from a schedule (docs/MODEL.md, "Where a
 * product's occurrences come from") form groups by where the schedule is
 * named: an event with a schedule and no occurrences of its own (its
 * products), or a category with a schedule (its products no event times).
 * Each slot of the group's schedule is one occurrence of the group; two
 * groups may share occurrence keys (two museums both open at 10:00). */
typedef struct {
    const cat_event *event;       /* the group is an event's ... */
    const cat_category *category; /* ... or a category's: exactly one is set */
    const cat_schedule *schedule;
    const char *timezone;         /* the venue's */
} timeslot_group;

/* How far from today a schedule without a validity bound is listed. */
#define TIMESLOT_HORIZON_DAYS 366
/* The account's groups: events' first, then categories', each in catalog
 * order. Borrowed from m; *out malloc'd (caller frees). */
size_t timeslot_groups(const catalog_model *m, const account *a, timeslot_group **out);
/* The group of the event (CAT_EVENT) or category (CAT_CATEGORY) with this id;
 * false when it has none. */
bool timeslot_group_find(const catalog_model *m, const account *a, catalog_kind k, const char *id,
                         timeslot_group *out);
/* The group a product's occurrences come from: its event's, else its first
 * category whose schedule times it; false when they come from elsewhere. */
bool timeslot_group_for_product(const catalog_model *m, const account *a, const cat_product *p, timeslot_group *out);
/* Whether p sells in g's slots (its event's group, or g's category times it). */
bool timeslot_group_sells(const catalog_model *m, const account *a, const timeslot_group *g, const cat_product *p);
/* The days g's slots are listed on: the schedule's validity, an open end
 * bounded TIMESLOT_HORIZON_DAYS from today. */
void timeslot_window(const timeslot_group *g, civil_date *lo, civil_date *hi);
/* The slot of g whose occurrence key is `key`, when the key lies on the
 * schedule's grid (any day); *listed says whether the schedule opens that
 * day (validity, weekdays, closed dates). open = listed and not yet ended. */
bool timeslot_at(const timeslot_group *g, const char *key, slot *out, bool *listed);
/* Up to max listed slots of g on days [lo, hi], in start order (descending
 * or ascending), beginning at `from` inclusive (0: at the window's edge).
 * Built from the schedule alone, so a page costs what its slots cost. */
size_t timeslots_walk(const timeslot_group *g, civil_date lo, civil_date hi, instant_us from, bool descending,
                      slot *out, size_t max);
/* How many listed slots g has on days [lo, hi]. */
size_t timeslots_count(const timeslot_group *g, civil_date lo, civil_date hi);

/* What is held and issued per (occurrence, product) of up to
 * STORE_COUNTS_MAX_KEYS occurrence keys, and the orders behind the live
 * tickets (store/occurrence_counts.h), in one read. Free with
 * occurrence_counts_free. */
typedef store_occurrence_counts occurrence_counts;
bo_status occurrence_counts_read(engine *e, const account *a, const char *const *keys, size_t n,
                                 occurrence_counts *out, bo_error *err);
void occurrence_counts_free(occurrence_counts *c);

/* ---------- prices (core/pricing.c) ---------- */
typedef struct {
    money unit_price;     /* what the customer pays per ticket, in the product's tax mode */
    money gate_price;
    bool includes_tax;
    /* dynamic pricing (core/dynamic_pricing.h): the plan's price for the
     * quantity asked; unsellable when the plan says nothing can be sold */
    bool dynamic, unsellable;
    money min_price, max_price; /* dynamic: the settings' bounds */
} price_quote;
/* Price of one ticket of product at slot, when buying quantity of them: the
 * dynamic price if the product has it on, else its price rules, else the
 * base price. */
bo_status price_for(engine *e, const account *a, const char *product_id, const slot *at, int64_t quantity,
                    price_quote *out, bo_error *err);
/* Signed pricing token binding prices to (category, products, quantities,
 * occurrence: date and times), valid ttl: URL-safe, versioned ("pt2" payload,
 * see pricing.c). category NULL = none. Caller frees. */
char *pricing_token_make(const account *a, const char *category, const char *occurrence, const cart_line *lines,
                         const money *unit_prices, size_t n, int64_t ttl_seconds);
/* Verifies a token against the given cart; fills unit_prices (n entries). */
bo_status pricing_token_check(const account *a, const char *token, const char *category, const char *occurrence,
                              const cart_line *lines, size_t n, money *unit_prices, bo_error *err);
/* The price of quantity tickets of p at `at` that a hold locks: dynamic when
 * on (a provisional price when the plan says unsellable: the holds decide),
 * else the price rules. */
price_quote engine_price_at(engine *e, const account *a, const cat_product *p, const slot *at, int64_t quantity);

/* ---------- carts: capacity held until expiry (core/cart.c) ---------- */
typedef struct {
    const char *channel;       /* the selling API: "admin" or a dialect's name */
    const char *category_id;   /* optional */
    civil_date day;            /* -1 undated */
    int32_t start_time;        /* -1 none */
    int32_t end_time;          /* -1 none */
    const char *occurrence_id; /* event occurrence id, alternative to day/time */
    const cart_line *lines;
    size_t nlines;
    const money *unit_prices;  /* NULL: price 0 (Convious without pricing token) or engine prices if use_engine_prices */
    bool use_engine_prices;
    const char *external_id;
    const char *extras;        /* JSON object text, optional */
    const char *customer;      /* JSON object text, optional */
    int64_t hold_seconds;      /* 0 = account default */
    const cart_line_options *line_options; /* NULL: no options; else one entry per line */
    /* a discount code the cart is to be booked with (NULL: none): it must
     * exist and not have expired, and a discount limited to N redemptions has
     * one of them held with the seats (DISCOUNT_USE_POOL_PREFIX + its id), so
     * no more carts hold it than it has uses: BO_SOLD_OUT when none is left */
    const char *discount_code;
    bool keep_expiry;          /* cart_update: the hold keeps its expiry instead of being renewed */
} cart_request;
/* The inventory pool that counts a limited discount's uses held by carts and
 * kept by their orders (catalog ids cannot contain '/'). */
#define DISCOUNT_USE_POOL_PREFIX "d/"

/* A cart as stored: what the dialects render (see store/sales.h for the
 * fields). Free with cart_record_free. */
typedef store_cart cart_record;
void cart_record_free(cart_record *c);

/* Holds capacity for every line atomically (all or nothing; BO_SOLD_OUT
 * leaves nothing held). *out gets the cart as made. */
bo_status cart_create(engine *e, const account *a, const cart_request *req, cart_record *out, bo_error *err);
/* Replaces the cart's lines (and prices) and re-holds atomically; refreshes
 * expiry. *out gets the cart as changed. */
bo_status cart_update(engine *e, const account *a, const char *cart_id, const cart_request *req, cart_record *out,
                      bo_error *err);
/* BO_NOT_FOUND, or BO_INTERNAL when storage failed. */
bo_status cart_get(engine *e, const account *a, const char *cart_id, cart_record *out);
bo_status cart_delete(engine *e, const account *a, const char *cart_id, bo_error *err);
/* Releases every hold whose cart expired before now; returns carts released. */
int cart_reap_expired(engine *e);

/* ---------- orders and tickets (core/booking.c, core/orders.c) ---------- */
typedef struct {
    const char *provider, *method, *reference, *status; /* status default "paid" */
    money amount;        /* -1 = the order total */
} payment_input;

/* An order as stored: its row, tickets (by created_at, line_id, id) and
 * payments, typed (store_order_detail in store/orders_store.h); the free-form
 * parts (customer, extras, names, taxes, holder, refund) are JSON text in the
 * rows' docs. src/api/order_json.c renders the canonical document of
 * docs/MODEL.md from it. Free with order_record_free. */
typedef store_order_detail order_record;
void order_record_free(order_record *o);
/* A ticket as stored (store_ticket_row). Free with ticket_record_free. */
typedef store_ticket_row ticket_record;
void ticket_record_free(ticket_record *t);

/* One answer to a custom question (catalog kind `question`) given when booking. */
typedef struct {
    const char *question_id;
    int64_t ticket_index; /* -1: the order (scope order); else the ticket, 0-based over the cart's lines in order */
    const char *answer;   /* UTF-8 text; a checkbox is "true" or "false" */
} question_answer;

/* What one ticket of a booking is charged and carries when its channel
 * decides it (book_request.terms; docs/MODEL.md, "Price tiers"). */
typedef struct {
    /* the price tier the ticket is sold at (NULL: none): taken in the
     * booking's transaction (price_tier_take's count, one per ticket), so a
     * booking that would pass the tier's quantity books nothing (BO_SOLD_OUT
     * "tier_sold_out"); given back when the ticket is voided or refunded */
    const char *price_tier_id;
    money price;         /* charged per ticket instead of the cart line's unit price (discounts apply to it) */
    money booking_fee;   /* instead of the product's booking fee (e.g. organization + platform fee) */
    money extras;        /* added to the ticket's price, never discounted, untaxed (supplements, warranty) */
    const char *barcode; /* NULL: generated; else 1..64 characters: BO_CONFLICT "barcode_taken" when in use */
    const char *doc;     /* NULL or JSON object text merged into the ticket's document (holder, choices) */
} ticket_terms;

typedef struct {
    const char *cart_id;
    /* JSON object text, validated by the caller; the engine stores it without
     * parsing. customer: {email, name, first_name, last_name, language, phone,
     * marketing_opt_in}; merged over the cart's customer, extras over its
     * extras (shallow: a key of both takes the booking's value) */
    const char *customer;
    const char *extras;
    const char *channel;    /* overrides the cart's channel when set */
    const char *status;     /* "confirmed" (default) or "open" (pay later: barcodes not scannable) */
    const payment_input *payment; /* NULL: no payment row */
    const char *discount_code;    /* optional */
    const char *voucher_code;     /* optional: pays up to its remaining value */
    const char *reseller_id, *reseller_name;
    order_record *order_out;      /* optional: filled with the order as booked, read in the booking's
                                     transaction, so the caller need not read it back; when order_book
                                     returns BO_OK the caller frees it with order_record_free */
    /* Answers to the account's custom questions, checked against them before
     * anything is written (docs/MODEL.md, "Custom questions"). NULL: the
     * channel cannot carry answers, so required questions are not enforced;
     * non-NULL (nanswers may be 0): every required question must be answered. */
    const question_answer *answers;
    size_t nanswers;
    /* Per-ticket terms (a sales channel that prices each ticket itself, e.g.
     * Fourvenues' tiers): NULL, or one per ticket in the cart's line order
     * (nterms = the cart's tickets, else BO_INVALID on "items"). */
    const ticket_terms *terms;
    size_t nterms;
    /* true: the order's document says "test" from its insert (paid through a
     * test-mode provider; payment_book_and_start sets it for a booking whose
     * payment starts in the same transaction, instead of an update after) */
    bool test;
    /* NULL: cart_id names a cart held before. Else the cart is made as
     * cart_create makes it and held in the booking's own write transaction
     * (cart_id is ignored): one transaction for hold and booking, and a
     * booking refused holds nothing. cart_create's refusals then come from
     * order_book (BO_SOLD_OUT "sold_out" on "items" when the seats are not there). */
    const cart_request *hold;
} book_request;

/* Converts a cart into an order with tickets, atomically. Booking the same
 * cart twice returns the first order (created=false). A cart whose hold
 * expired is re-held if capacity allows, else BO_SOLD_OUT. */
bo_status order_book(engine *e, const account *a, const book_request *req, char order_id[40], bool *created,
                     bo_error *err);
/* Bulk booking (benchmarks, imports): carts[0..n) made and booked as
 * cart_create and order_book make and book them, through the same store
 * steps, all in one transaction; each order runs in a savepoint, so a lost
 * race (an order number taken) reruns that order alone. Every order is booked
 * with `booking` (its cart_id and order_out are ignored; discount and voucher
 * codes are refused). BO_OK when all n were booked; otherwise none was. */
bo_status orders_book_many(engine *e, const account *a, const cart_request *carts, size_t n,
                           const book_request *booking, bo_error *err);
/* Cancels: releases capacity, refunds what was paid for the live tickets (booking
 * fees included) to the payments it came from, marks the tickets refunded
 * (docs/MODEL.md, "Money"). */
bo_status order_cancel(engine *e, const account *a, const char *order_id, const char *reason, const char *by,
                       bo_error *err);
/* Marks an open (pay-later) order paid. */
bo_status order_mark_paid(engine *e, const account *a, const char *order_id, const payment_input *p, bo_error *err);

typedef enum { ORDER_BY_CHANGE_ASC, ORDER_BY_CREATED_DESC } order_sort;
typedef struct {
    order_sort sort;
    int limit;                   /* 1..1000 */
    int64_t after_change_seq;    /* ORDER_BY_CHANGE_ASC: strictly after this */
    /* ORDER_BY_CREATED_DESC: page boundaries by (created_at, id) of an order id */
    const char *starting_after;  /* older than this order */
    const char *ending_before;   /* newer than this order (page returned newest first) */
    /* filters; NULL / 0 = none */
    const char *number, *email, *external_id, *reseller_id, *event_id, *barcode, *name, *channel, *product_type;
    const char *occurrence;      /* orders with a ticket for this occurrence key */
    /* orders whose extras object has extras_value at extras_key (a key of at
     * most 64 characters without quotes or backslashes; else invalid_filter
     * on "extras") */
    const char *extras_key, *extras_value;
    const char *statuses[4];     /* NULL-terminated list */
    const char *product_ids[16]; /* NULL-terminated list */
    instant_us updated_from;
    instant_us created_gt, created_gte, created_lt, created_lte;
    civil_date visit_from, visit_to; /* -1 = none; inclusive */
} order_query;
void order_query_init(order_query *q);
/* A page of orders, in the query's order; has_more tells whether another page
 * follows in that direction. Free with order_page_free. */
typedef store_order_page order_page;
void order_page_free(order_page *p);
bo_status orders_list(engine *e, const account *a, const order_query *q, order_page *out, bo_error *err);
/* BO_NOT_FOUND, BO_INTERNAL; on BO_OK free *out with order_record_free. */
bo_status order_get(engine *e, const account *a, const char *order_id, order_record *out);
bo_status order_get_by_number(engine *e, const account *a, const char *number, order_record *out);

typedef struct {
    int limit;                   /* 1..1000 */
    const char *starting_after;  /* ticket id: older than it */
    const char *ending_before;   /* ticket id: newer than it (page still newest first) */
    const char *order_id, *event_id, *barcode, *status, *email, *name;
    instant_us created_gt, created_gte, created_lt, created_lte; /* 0 = none */
    const char *product_ids[8];  /* tickets of any of these products; NULL-terminated unless full */
} ticket_query;
/* A page of tickets, newest first, each with its order's buyer (email, name);
 * has_more as for orders. Free with ticket_page_free. */
typedef store_ticket_page ticket_page;
void ticket_page_free(ticket_page *p);
bo_status tickets_list(engine *e, const account *a, const ticket_query *q, ticket_page *out, bo_error *err);

/* Voucher codes (core/vouchers.c): each code carries the voucher's value and
 * pays for orders until spent; codes are unique per account. */
bo_status voucher_codes_add(engine *e, const account *a, const char *voucher_id, const char *const *codes, size_t n,
                            bo_error *err);
typedef struct {
    char id[48];
    char code[72];
    money value, remaining;
    char status[12];      /* available | used | voided */
    instant_us used_at;   /* when last spent or voided; 0 when untouched */
    instant_us created_at;
} voucher_code_row;
/* The voucher's codes, oldest first; *out malloc'd (caller frees), BO_NOT_FOUND for no such voucher. */
bo_status voucher_codes_list(engine *e, const account *a, const char *voucher_id, voucher_code_row **out, size_t *n);
bo_status voucher_code_void(engine *e, const account *a, const char *voucher_id, const char *code_id, bo_error *err);

/* The code's state as a booking would find it (exact match, as booking
 * compares): BO_NOT_FOUND when the account has no such code. */
typedef store_voucher_code voucher_code_state;
bo_status voucher_code_find(engine *e, const account *a, const char *code, voucher_code_state *out);

/* Uses of a discount held or kept by carts made with cart_request.discount_code. */
bo_status discount_uses_held(engine *e, const account *a, const char *discount_id, int64_t *held);

/* Seats of a pool occurrence taken by issued tickets (valid or unpaid), not
 * by carts' holds: what is used minus what open carts hold. Two reads, so a
 * figure to show, not to decide a sale on. */
bo_status pool_seats_sold(engine *e, const account *a, const char *pool_id, const char *occurrence, int64_t *sold);

/* How often a discount was redeemed by orders (cancelled ones included). */
bo_status discount_times_redeemed(engine *e, const account *a, const char *discount_id, int64_t *count);

/* Counts one request against a fixed hourly window for `key` (a credential
 * hash, say), in the database so several server processes share the count.
 * *remaining may be negative when over; *reset_seconds until the window ends. */
bo_status ratelimit_hit(engine *e, const char *key, long limit, long *remaining, long *reset_seconds);

/* Issues a ticket without an order, from the product's inventory (held and
 * sold at once). BO_SOLD_OUT when none left. */
bo_status ticket_issue(engine *e, const account *a, const char *product_id, const char *occurrence_id,
                       civil_date day, int32_t start_time, const char *holder, const char *channel,
                       char ticket_id[40], bo_error *err);
/* holder above: JSON object text validated by the caller, or NULL; stored as is. */
/* Irreversible: frees the seat, no refund. */
bo_status ticket_void(engine *e, const account *a, const char *ticket_id, bo_error *err);
/* On BO_OK free *out with ticket_record_free. */
bo_status ticket_get(engine *e, const account *a, const char *ticket_id, ticket_record *out);
/* The account's ticket ids from lo to hi (compared as text, both included),
 * in order, at most max of them (*n): a dialect that shows ticket ids in
 * another spelling finds a ticket by a range of them. */
bo_status ticket_ids_between(engine *e, const account *a, const char *lo, const char *hi, char (*ids)[37], size_t max,
                             size_t *n);

/* ---------- ticket refunds (core/ticket_refunds.c; docs/MODEL.md, "Ticket refunds") ---------- */
typedef struct {
    money amount;        /* > 0, minor units */
    const char *by;      /* who refunds ("fourvenues"), NULL none */
    const char *channel; /* the selling channel's id as its dialect shows it, NULL none */
    const char *reason;  /* at most 500 bytes, NULL none */
} ticket_refund_request;
typedef struct {
    money refunded; /* what went back for the ticket in all, this refund included */
    money left;     /* what may still go back */
} ticket_refund_result;
/* Gives `amount` of what was paid for a valid or refunded ticket back to its
 * order's payments, all or nothing. The first refund takes the ticket out of
 * use (seats back, status refunded); later ones add to it until what it was
 * charged (its price after discount and booking fee, at most what the order's
 * payments can still give back) has gone back. BO_NOT_FOUND; BO_INVALID
 * "invalid_amount" / "amount_too_large" on amount, "not_paid" (unpaid, no
 * order, nothing paid), "not_refundable" (voided without a refund). */
bo_status ticket_refund(engine *e, const account *a, const char *ticket_id, const ticket_refund_request *req,
                        ticket_refund_result *out, bo_error *err);

typedef struct {
    instant_us requested_at; /* when the holder asked (the first time) */
    instant_us deadline;     /* until when the warranty allowed asking */
    bool created;            /* false: asked before, nothing new recorded */
} ticket_refund_request_result;
/* The holder of a valid ticket bought with a refund warranty (its document's
 * sale_terms.warranty {price, hours}) asks for a refund, up to `hours` before
 * its event starts: records refund_request {at, reason?} in the ticket's
 * document and the outbox event ISSUED_TICKET.REFUND_REQUESTED, once (asking
 * again answers the first request). The seller decides and refunds
 * (ticket_refund). BO_NOT_FOUND; BO_CONFLICT "not_refundable" (not valid),
 * "no_warranty", "warranty_expired"; BO_INVALID on reason (at most 500 bytes). */
bo_status ticket_request_refund(engine *e, const account *a, const char *ticket_id, const char *reason,
                                ticket_refund_request_result *out, bo_error *err);

/* ---------- after-payment forms (core/apf.c) ----------
 * A product with apf_enabled asks its apf_fields per ticket after booking;
 * the answers are the ticket document's `apf` object (field id -> text). */
typedef struct {
    const char *field_id;
    const char *value;       /* text; "" clears the answer; a checkbox is "true" or "false" */
} apf_answer;
typedef struct {
    const char *ticket_id;
    const apf_answer *answers;
    size_t nanswers;
} apf_ticket_answers;
#define APF_TICKETS_MAX 1000
/* Records answers for tickets of the order, all or none, over the answers
 * given before. BO_NOT_FOUND (order, or a ticket not of it: unknown_ticket),
 * BO_INVALID (apf_not_enabled, unknown_apf_field, invalid_answer),
 * BO_CONFLICT (order_cancelled, ticket_not_live). The order moves in the
 * change timeline. */
bo_status order_apf_answer(engine *e, const account *a, const char *order_id, const apf_ticket_answers *tickets,
                           size_t n, bo_error *err);
/* Whether any of n tickets (product_ids[i], answers[i]: the ticket's `apf`
 * object text or NULL) leaves a required field of its product's form empty.
 * Pass live tickets only. */
bo_status apf_unfilled(engine *e, const account *a, size_t n, const char *const *product_ids,
                       const char *const *answers, bool *unfilled);

/* ---------- scanning (core/scan.c) ---------- */
typedef enum {
    SCAN_SUCCESS = 0,
    SCAN_NOT_FOUND,
    SCAN_ALREADY_REDEEMED,
    SCAN_ALREADY_SCANNED_IN,
    SCAN_IN_REQUIRED,
    SCAN_TIME_LIMIT_REACHED,
    SCAN_NOT_SCANNABLE,
    SCAN_FUTURE_VALIDITY,
    SCAN_PAST_VALIDITY,
} scan_code;
const char *scan_code_name(scan_code c); /* "success", "not_found", ... as the Convious doc spells them */

typedef struct {
    const char *barcode;
    instant_us scanned_at;   /* 0 = now */
    bool direction_out;
    bool force;              /* redeem even if invalid */
    bool redeem;             /* false: check only, nothing written */
} scan_request;

/* The scanned ticket with its order's visit date and document (what a scan
 * reply shows of the order), as read in the scan's transaction. */
typedef store_ticket_scan scan_ticket;

typedef struct {
    scan_code code;
    char reason[160];
    int64_t overtime_seconds;
    int64_t remaining_seconds;  /* -1 = not applicable (null) */
    bool has_ticket;            /* false when not found */
    scan_ticket ticket;         /* with has_ticket; free with scan_result_free */
} scan_result;
/* Frees what scan_barcode put into *r (nothing when it has no ticket). */
void scan_result_free(scan_result *r);
/* Concurrent redeems of one barcode are serialised: exactly as many succeed as
 * its scan limit allows. */
bo_status scan_barcode(engine *e, const account *a, const scan_request *req, scan_result *out, bo_error *err);

/* Check-ins: the scans that moved a ticket (in or out), newest first, as a
 * keyset page over the scan log (store_check_ins_page: after_id / before_id
 * are scan ids, 0 for none; out has room for limit, 1..100). */
typedef store_check_in check_in;
bo_status check_ins_list(engine *e, const account *a, int64_t after_id, int64_t before_id, int limit, check_in *out,
                         size_t *n, bool *more, bo_error *err);

/* ---------- change notification (core/events.c) ----------
 * Every state change records an outbox event in the same transaction. */
typedef enum { EV_ORDER_CREATED, EV_ORDER_UPDATED, EV_TICKET_CREATED, EV_TICKET_UPDATED, EV_EVENT_CREATED,
               EV_EVENT_UPDATED, EV_EVENT_DELETED,
               EV_ORDER_PAID /* an order became paid: booked paid, or marked paid later */,
               EV_TICKET_REFUND_REQUESTED /* a holder asked for a refund under the ticket's warranty */ } change_event;
const char *change_event_name(change_event ev); /* "ORDER.CREATED", ... */

/* What an outbox event records as its object: the canonical document of the
 * order or ticket as JSON text (malloc'd, NULL on failure). The document is a
 * shape of the edge (docs/MODEL.md), so the engine is handed its renderer at
 * start-up (src/api/order_json.c) and records what it returns; without one,
 * order and ticket events record a null object. */
typedef struct {
    char *(*order)(const order_record *o, const account *a);
    char *(*ticket)(const ticket_record *t);
} outbox_renderer;
/* At start-up, before requests: copied; later calls are ignored. */
void events_set_renderer(engine *e, const outbox_renderer *r);

/* ---------- event access keys (core/access_keys.c) ----------
 * An event locked with keys is sold only to requests that name one of them.
 * Keys are stored as keyed hashes; adding a key the event has changes nothing. */
#define EVENT_ACCESS_KEY_MAX 64
bo_status event_access_key_add(engine *e, const account *a, const char *event_id, const char *key,
                               const char *label, bo_error *err);
/* BO_NOT_FOUND when the event has no such key. */
bo_status event_access_key_remove(engine *e, const account *a, const char *event_id, const char *key,
                                  bo_error *err);
/* The account's locked events, each with whether `key` (NULL or malformed:
 * none) opens it; *out malloc'd (caller frees). */
typedef store_event_lock event_lock;
bo_status event_access_locks(engine *e, const account *a, const char *key, event_lock **out, size_t *n);
/* Whether the event is open to the key the locks were read with (an event
 * without keys always is). */
bool event_access_open(const event_lock *locks, size_t n, const char *event_id);

/* ---------- price tiers (core/price_tiers.c; docs/MODEL.md, "Price tiers") ---------- */
/* The tier a sale at `now` gets: the first in order whose valid_until has not
 * passed and whose quantity (0: unlimited) is not used up by used[i] (NULL:
 * nothing used). -1 when none is left, or p has no tiers. */
int price_tier_active(const cat_product *p, instant_us now, const int64_t *used);
/* The organization's fee on one ticket at tier t: fee_amount, or
 * fee_percent_bp of the tier's price rounded half up to the minor unit. */
money price_tier_fee(const cat_price_tier *t);
/* The warranty's price on one ticket of `price`: percent_bp of it, half up; 0 when not enabled. */
money warranty_price(const cat_warranty *w, money price);
/* Tickets of p taken at each of its tiers at an occurrence (its key; "" undated):
 * used[i] for p->tiers[i], 0 for a tier never taken. BO_INTERNAL, BO_UNAVAILABLE. */
bo_status price_tier_usage(engine *e, const account *a, const cat_product *p, const char *occurrence, int64_t *used);
/* Takes n tickets of tier t (durably, a transaction of its own): BO_SOLD_OUT
 * ("tier_sold_out" on price_tier_id) when that would pass the tier's quantity;
 * nothing is taken then. The database decides, so concurrent takes never pass it. */
bo_status price_tier_take(engine *e, const account *a, const cat_product *p, const char *occurrence,
                          const cat_price_tier *t, int64_t n, bo_error *err);
/* Gives n tickets of tier t back (a released hold, a void); never below 0. */
bo_status price_tier_give_back(engine *e, const account *a, const cat_product *p, const char *occurrence,
                               const cat_price_tier *t, int64_t n, bo_error *err);
#include "core/dynamic_pricing.h"
#endif
