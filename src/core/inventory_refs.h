/* Inventory references and browser analytics (the Convious pricing API,
 * docs/dialects/convious-pricing.md; docs/MODEL.md, "Inventory references").
 *
 * An inventory reference is a product in the caller's own id space (its
 * productReference), scoped by account and never aliasing a Boxoffice
 * product: its name, its pricing settings (price_model.h) and its seats left,
 * overall and per day or start time. Analytics events are what visitors'
 * browsers report; they are kept for a retention period, counted per day, and
 * their OrderCreated items are the sales history of references. */
#ifndef BO_CORE_INVENTORY_REFS_H
#define BO_CORE_INVENTORY_REFS_H
#include "core/engine.h"
#include "core/price_model.h"

#define INVENTORY_REF_MAX 128      /* characters of a productReference */
#define INVENTORY_REF_NAME_MAX 200 /* characters of its name */
#define INVENTORY_WHOLE_DAY (-1)   /* start_time of seats that hold for the whole day */

/* ---- Inventory events ---------------------------------------------------- */

typedef enum {
    INVENTORY_PRODUCT_CREATED,      /* creates, or updates an existing reference (batches are retried) */
    INVENTORY_PRICING_CHANGED,
    INVENTORY_PRODUCT_REMOVED,      /* then unknown to pricing; created again, it is back */
    INVENTORY_AVAILABILITY_CHANGED, /* seats left on one day, or at one start time of it */
} inventory_event_kind;

typedef struct {
    inventory_event_kind kind;
    const char *reference;
    const char *name;         /* PRODUCT_CREATED */
    bool unlimited;           /* PRODUCT_CREATED: availability null */
    int64_t availability;     /* PRODUCT_CREATED (unless unlimited), AVAILABILITY_CHANGED: seats left, >= 0 */
    price_settings settings;  /* PRODUCT_CREATED, PRICING_CHANGED: valid (price_settings_validate) */
    civil_date day;           /* AVAILABILITY_CHANGED */
    int32_t start_time;       /* AVAILABILITY_CHANGED: seconds after midnight, or INVENTORY_WHOLE_DAY */
} inventory_event;

/* Applies the events in order, all or none, in one transaction. An event
 * naming a reference never created (in this account, or earlier in the batch)
 * is BO_NOT_FOUND ("unknown_product", field "product_reference") and *failed_index
 * says which; nothing is applied then. Events on a removed reference are stored
 * and leave it removed, so a retried batch gives the same result. */
bo_status inventory_events_apply(engine *e, const account *a, const inventory_event *events, size_t n,
                                 size_t *failed_index, bo_error *err);

/* ---- Reading a reference (what the rtp endpoint prices with) -------------- */

typedef enum {
    INVENTORY_REF_ACTIVE,
    INVENTORY_REF_UNKNOWN, /* never created in this account */
    INVENTORY_REF_REMOVED,
} inventory_ref_presence;

typedef struct {
    civil_date day;
    int32_t start_time; /* or INVENTORY_WHOLE_DAY */
    int64_t seats_left;
} inventory_ref_seats;

typedef struct {
    inventory_ref_presence presence;
    char reference[INVENTORY_REF_MAX * 4 + 1];
    char name[INVENTORY_REF_NAME_MAX * 4 + 1];
    price_settings settings; /* dynamic is true */
    bool unlimited;          /* the reference's own availability, for days with no seats of their own */
    int64_t availability;
    inventory_ref_seats *seats; /* the days in [from, to] that have seats of their own; malloc'd */
    size_t nseats;
} inventory_ref_view;

/* The reference with its seats on days from..to (inclusive), read in one
 * snapshot. BO_OK with presence telling whether it is active, unknown or
 * removed; BO_INTERNAL when storage failed. Free with inventory_ref_view_free. */
bo_status inventory_ref_read(engine *e, const account *a, const char *reference, civil_date from, civil_date to,
                             inventory_ref_view *out);
void inventory_ref_view_free(inventory_ref_view *v);
/* Seats left on day at start_time (INVENTORY_WHOLE_DAY: the day as a whole),
 * -1 when unlimited: the start time's own seats, else the day's, else (for the
 * whole day) the most any start time of the day has, else the reference's
 * availability. The day must lie in the range the view was read for. */
int64_t inventory_ref_seats_left(const inventory_ref_view *v, civil_date day, int32_t start_time);

/* ---- Pricing a reference (core/dynamic_pricing.c, docs/PRICING.md) --------- */

/* The dynamic unit price of quantity items of the active reference v on day
 * at start_time (INVENTORY_WHOLE_DAY: the day as a whole), given the seats
 * left there now (inventory_ref_seats_left; -1 unlimited): -1 when nothing can
 * be sold (no seats, fewer than quantity, the start or the day past, or not
 * active). A lookup in the cached plan of that cell; a cell without a plan,
 * or planned with fewer seats than are left now, answers the gate price on
 * the grid and asks the pricing worker to plan it (*planned false). */
money inventory_ref_price(engine *e, const account *a, const inventory_ref_view *v, civil_date day,
                          int32_t start_time, int64_t seats_left, int64_t quantity, bool *planned);
/* inventory_ref_price for n cells of v (rtp's request), the pricing lock and
 * the reference's entry taken once; out (and planned, if not NULL) n entries. */
typedef struct {
    civil_date day;
    int32_t start_time;
    int64_t seats_left;
} inventory_ref_cell;
void inventory_ref_prices(engine *e, const account *a, const inventory_ref_view *v, const inventory_ref_cell *cells,
                          size_t n, int64_t quantity, money *out, bool *planned);
/* Why the active reference has its price on day at start_time
 * (INVENTORY_WHOLE_DAY: the day as a whole), for one item: the price rtp
 * answers a visitor with no held quote there, from the same lookup (and, like
 * it, asking the worker to plan an unplanned cell). seats_left is the cell's
 * now, which the plan is read with. BO_NOT_FOUND ("unknown_product", field
 * "reference") when unknown or removed in this account. */
bo_status inventory_ref_explain(engine *e, const account *a, const char *reference, civil_date day,
                                int32_t start_time, pricing_explain_info *out, bo_error *err);
/* The active reference (its settings, name and availability; no day's seats:
 * free with inventory_ref_view_free) and what the engine learned about its
 * demand, as pricing_model_get for a product: the prior at its gate price
 * before its first fit; category_sales 0 (a reference has no category).
 * BO_NOT_FOUND as inventory_ref_explain. */
bo_status inventory_ref_model_get(engine *e, const account *a, const char *reference, inventory_ref_view *ref,
                                  pricing_model_info *out, bo_error *err);
/* The id a reference is priced under (plans, visitors' held quotes): a prefix
 * no product id has, so a reference never shares a product's. */
void inventory_ref_pricing_id(const char *reference, char *out, size_t size);
/* A cell's occurrence key: YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS] at a start time. */
void inventory_ref_cell_key(civil_date day, int32_t start_time, char out[24]);

/* One sale of a reference, from an analytics OrderCreated item. */
typedef struct {
    char order_id[INVENTORY_REF_MAX * 4 + 1];
    int64_t quantity;
    int64_t unit_price;
    bool has_day;
    civil_date event_day;
    instant_us sold_at; /* when the server received it */
} inventory_ref_sale;

/* The reference's sales received at or after since, oldest first; *out is
 * malloc'd (the caller frees it). */
bo_status inventory_ref_sales(engine *e, const account *a, const char *reference, instant_us since,
                              inventory_ref_sale **out, size_t *n);

/* ---- Browser analytics ----------------------------------------------------- */

typedef enum {
    ANALYTICS_PAGE_VIEWED,
    ANALYTICS_ENTERED_CHECKOUT,
    ANALYTICS_SELECTED_DATE,
    ANALYTICS_VIEWED_PRODUCTS,
    ANALYTICS_VIEWED_PRICES,
    ANALYTICS_ADDED_TO_CART,
    ANALYTICS_ORDER_CREATED,
    ANALYTICS_TRANSACTION,
} analytics_kind;

/* The event's name as stored and counted ("PageViewed" ...). */
const char *analytics_kind_name(analytics_kind k);

typedef struct {
    const char *product_id; /* an inventory reference, else a Boxoffice product of the account */
    int64_t amount;         /* >= 1 */
    int64_t price;          /* per item, minor units, >= 0 */
    bool has_day;
    civil_date day;
} analytics_item;

typedef struct {
    analytics_kind kind;
    const account *acct; /* the event's accountId, resolved by the caller */
    const char *cookie_id;
    instant_us time;        /* as the browser reported it */
    const char *product_id; /* the event's product, if any (not OrderCreated) */
    const char *order_id;   /* ORDER_CREATED, TRANSACTION */
    const analytics_item *items;
    size_t nitems;
    const char *detail; /* the event as received, stored opaque with the raw event */
} analytics_event;

/* Accepts the events into the ingest queue, written with the other queued
 * batches within about 200 ms (at once when the engine runs no workers), and
 * counted per account, day, kind and product. client_ip (text, v4 or v6;
 * NULL or unparsable: none) is kept only as its /24 or /48 prefix, and it and
 * each cookie are rate limited: BO_RATE_LIMITED (nothing stored) when a
 * minute's events from the prefix or a cookie would pass the configured
 * limits; BO_UNAVAILABLE (nothing stored) when the queue is full. */
bo_status analytics_ingest(engine *e, const char *client_ip, const analytics_event *events, size_t n,
                           bo_error *err);
/* Events of kind on the account's local day that named product_key (an
 * inventory reference or product id as resolved; "" for none). */
bo_status analytics_daily_count(engine *e, const account *a, civil_date day, analytics_kind kind,
                                const char *product_key, int64_t *count);
/* The network prefix kept of an address: "203.0.113.0/24", "2001:db8:1::/48";
 * "" when ip is NULL or not an address. */
void analytics_ip_prefix(const char *ip, char out[64]);
/* Writes what is queued now, in about four transactions (the writer thread's
 * step; also a test hook and the flush before analytics are read);
 * *written (may be NULL) gets the number of events written. BO_INTERNAL
 * keeps them queued for the next try. */
bo_status analytics_flush(engine *e, size_t *written);

/* Deletes raw events and daily counters older than the retention (and the
 * analytics' spent rate-limit windows); *deleted (may be NULL) gets the number
 * of raw events deleted. Run by the reaper; exposed for tests. */
bo_status analytics_prune(engine *e, instant_us now, int *deleted);
#endif
