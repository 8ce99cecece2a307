/* The typed catalog: one account's catalog at one version, compiled once from
 * its stored documents into C structs with hash indexes by id. Requests
 * decide with these structs only. Each object keeps beside it the document
 * text it was compiled from (for /admin/v1 to echo) and the codec's decoded
 * form of it (opaque here: the dialects read free-form fields such as names,
 * descriptions, images and external ids from it). The engine never parses a
 * document: the catalog codec (engine_config.catalog_codec) does, and builds
 * the model through the functions at the end of this file.
 *
 * Everything hangs off one arena owned by the model: pointers into it stay
 * valid for the model's lifetime (the snapshot that holds it). */
#ifndef BO_CATALOG_MODEL_H
#define BO_CATALOG_MODEL_H
#include "util/money.h"
#include "util/timeutil.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kinds of catalog object, in the canonical shapes of docs/MODEL.md. */
typedef enum { CAT_LOCATION, CAT_CATEGORY, CAT_SCHEDULE, CAT_EVENT, CAT_POOL, CAT_PRODUCT, CAT_DISCOUNT, CAT_VOUCHER,
               CAT_QUESTION, CAT_TICKET_GROUP, CAT_PAYMENT_METHOD, CAT_GUEST_LIST, CAT__COUNT } catalog_kind;

#define WEEKDAYS_ALL 0x7f /* bit d set: open on weekday d (0 = Monday) */

typedef struct {
    const char *id;
    const char *timezone;
} cat_location;

typedef struct {
    const char *id;
    uint8_t weekdays;          /* WEEKDAYS_ALL when the document names none */
    int32_t open, close;       /* seconds after local midnight */
    int32_t slot_seconds;      /* 0: whole days */
    civil_date valid_from, valid_to; /* -1: unbounded */
    const civil_date *closed_dates;  /* sorted ascending */
    size_t nclosed;
} cat_schedule;

typedef enum { FLOW_UNDATED, FLOW_DATED, FLOW_RTP, FLOW_DATE_CHANGE, FLOW_DATE_RESERVATION } cat_flow;

typedef struct cat_category {
    const char *id;
    const char *parent_id;
    int64_t priority;
    bool enabled, show_in_checkout;
    bool has_flow;
    cat_flow flow;
    const cat_schedule *schedule;
    const cat_location *location;
} cat_category;

typedef struct {
    const char *id;
    const char *start_text, *end_text; /* as written: a local time is read in the venue's zone */
    bool cancelled;
} cat_occurrence;

typedef enum { EVENT_PUBLISHED, EVENT_DRAFT, EVENT_CANCELLED } cat_event_status;

typedef struct {
    const char *id;
    const cat_location *location;
    const cat_category *category;
    const cat_schedule *schedule;
    cat_event_status status;
    const cat_occurrence *occurrences;
    size_t noccurrences;
    const char *const *payment_method_ids; /* none: every enabled payment method of the account */
    size_t npayment_methods;
} cat_event;

typedef struct {
    const char *id;
    int64_t capacity;  /* -1: unlimited */
    bool per_total;    /* counted once over all occurrences, not per occurrence */
} cat_pool;

/* The one rule for where a pool counts seats. A pool with per = total has one
 * count over all occurrences, on occurrence key ""; any other pool has one
 * count per occurrence. Inline: the hold and availability paths ask once per
 * pool. */
static inline bool pool_counts_per_occurrence(const cat_pool *p) { return !p->per_total; }
/* The occurrence key of the inventory row a use of p at `occurrence` counts on. */
static inline const char *pool_occurrence(const cat_pool *p, const char *occurrence)
{
    return pool_counts_per_occurrence(p) ? occurrence : "";
}

typedef struct {
    const cat_pool *pool; /* never NULL: a product's pools are resolved at compile time */
    int32_t amount;       /* seats of the pool one ticket takes */
} cat_pool_use;

typedef struct {
    const char *type;     /* "VAT" unless named */
    int32_t rate_bp, proportion_bp;
} cat_tax;

typedef struct {
    money price;
    civil_date date_from, date_to; /* -1: unbounded */
    uint8_t weekdays;
    int32_t time_from, time_to;    /* -1: unbounded */
} cat_price_rule;

typedef enum { SCAN_LIMIT_ONCE, SCAN_LIMIT_NONE, SCAN_LIMIT_TIMES_PER_DAY } scan_limit_kind;

typedef struct {
    scan_limit_kind limit;
    int64_t times;            /* per day, for SCAN_LIMIT_TIMES_PER_DAY */
    int64_t max_scans;        /* -1: no total limit */
    int64_t validity_seconds; /* 0: none */
    int64_t time_seconds;     /* -1: not pay-per-minute */
    bool allow_overtime, in_out;
} cat_scan_options;

typedef enum { PRODUCT_TICKET, PRODUCT_ADDON, PRODUCT_BUNDLE } cat_product_kind;

/* An extra priced choice sold with each ticket of a product (an audio guide):
 * priced in the product's tax mode, taxed with its own taxes or else the
 * product's. */
typedef struct {
    const char *id;
    const char *name_json;     /* the translated name as JSON text */
    money price;
    const cat_tax *taxes;      /* the product's when the option names none */
    size_t ntaxes;
    int64_t max_quantity;      /* per ticket; -1: no limit but the engine's */
} cat_option;

typedef enum { APF_TEXT, APF_EMAIL, APF_PHONE, APF_DATE, APF_NUMBER, APF_CHECKBOX } cat_apf_type;

/* A field of a product's after-payment form, asked per ticket after booking. */
typedef struct {
    const char *id;
    const char *label_json;    /* the translated label as JSON text */
    cat_apf_type type;
    bool required;
} cat_apf_field;
/* One step of a tiered price (docs/MODEL.md, "Price tiers"): sold while its
 * deadline has not passed and its quantity is not used up. */
typedef struct {
    const char *id, *name;
    money price;
    instant_us valid_until;  /* 0: no deadline */
    int64_t quantity;        /* tickets at this tier; 0: unlimited */
    money fee_amount;        /* the organization's fee per ticket: this, */
    int32_t fee_percent_bp;  /* or this share of the price (-1: fee_amount applies) */
    const char *includes, *additional_info; /* "" when none */
} cat_price_tier;

/* An extra a ticket may carry once (a drink, a cloakroom). */
typedef struct {
    const char *id, *name;
    money price;
} cat_supplement;

/* Refund insurance a buyer may add: percent_bp of the ticket price, letting
 * the holder ask for a refund until `hours` before the event. */
typedef struct {
    bool enabled;
    int32_t percent_bp;
    int64_t hours;
} cat_warranty;

typedef struct {
    const char *id;
    const char *name_json;      /* the translated name as JSON text, for documents that copy it */
    cat_product_kind kind;
    const char *const *category_ids;
    size_t ncategories;
    const char *event_id;       /* NULL when none */
    const cat_event *event;
    bool enabled, dated;
    int64_t priority;
    int64_t min_per_order, max_per_order; /* max -1: no limit */
    civil_date show_from, show_to, valid_from, valid_to; /* -1: unbounded */
    money price, gate_price, booking_fee; /* gate_price is price unless set */
    bool gate_price_set;
    bool price_includes_tax;
    const cat_tax *taxes;
    size_t ntaxes;
    const cat_price_rule *prices;
    size_t nprices;
    const cat_pool_use *pools; /* limited pools only; unlimited ones take nothing */
    size_t npools;
    const char *const *pool_ids; /* every pool the document names, limited or not (in-use checks) */
    size_t npool_ids;
    cat_scan_options scan;
    const char *barcode_format;
    const char *group_id;       /* its ticket group (cat_ticket_group); NULL when none */
    const cat_option *options;
    size_t noptions;
    bool apf_enabled;           /* the form is asked (apf_fields) */
    const cat_apf_field *apf_fields;
    size_t napf_fields;
    const cat_price_tier *tiers; /* in order; none: it sells at price */
    size_t ntiers;
    const cat_supplement *supplements;
    size_t nsupplements;
    cat_warranty warranty;
} cat_product;

typedef enum { DISCOUNT_FIXED, DISCOUNT_PERCENTAGE } cat_discount_type;

typedef struct {
    const char *id, *code, *name, *external_id;
    cat_discount_type type;
    money amount;
    int32_t percent_bp;
    const char *const *product_ids; /* none: every product */
    size_t nproducts;
    instant_us expires_at;          /* 0: never */
    int64_t max_redemptions;        /* -1: unlimited */
    /* off each ticket's booking fee (0: nothing); at most one of the two is set */
    money booking_fee_amount;
    int32_t booking_fee_percent_bp;
} cat_discount;

typedef struct {
    const char *id, *name;
    money value;
    instant_us expires_at;          /* 0: never */
    bool partial_redemption;
    const char *const *event_ids;   /* none: pays for orders of any event */
    size_t nevents;
} cat_voucher;

/* A custom question asked when booking (docs/MODEL.md, "Custom questions"). */
typedef enum { QUESTION_TEXT, QUESTION_TEXTAREA, QUESTION_SELECT, QUESTION_CHECKBOX, QUESTION_EMAIL, QUESTION_PHONE,
               QUESTION_DATE, QUESTION_NUMBER } cat_question_type;

typedef struct {
    const char *id;
    const char *label_json;         /* the translated label as JSON text, copied into the answers */
    cat_question_type type;
    const char *const *options;     /* the choices of a select */
    size_t noptions;
    bool required;
    bool per_ticket;                /* scope ticket: answered for each ticket; else once for the order */
    const char *const *product_ids; /* asked only when these are booked; none: always */
    size_t nproducts;
} cat_question;

/* Products shown and limited together (Ticket Tailor's ticket groups): a
 * product joins one by its group_id. */
typedef struct {
    const char *id, *name;
    int64_t sort_order;
    int64_t max_per_order; /* tickets of all its products in one cart; -1: no limit */
    const char *event_id;  /* the event it is shown on even while empty; NULL: wherever its products are */
} cat_ticket_group;

/* A way the account takes payment, with what it charges for it: an order
 * paid this way costs fee_fixed + its total x fee_percent_bp / 10000 more
 * (a dialect that quotes payment fees, e.g. CM.com's, reads these). */
typedef struct {
    const char *id, *name;
    const char *kind;          /* card|cash|bank_transfer|offline|paypal|other */
    const char *instructions;  /* NULL when none */
    const char *external_id;   /* NULL when none */
    money fee_fixed;
    int32_t fee_percent_bp;
    bool enabled;
    int64_t sort_order;
} cat_payment_method;

/* One price of a guest list: who it is for (men, women, at least min_age
 * years old; 0 none), the door-entry window it holds in (valid_from ..
 * valid_until, 0: open) and from when it is shown (shown_from, 0: always). */
typedef struct {
    const char *id, *name;
    money price;
    instant_us shown_from, valid_from, valid_until;
    bool men, women;
    int64_t min_age;
} cat_guest_list_price;

/* A guest list of an event (Fourvenues' list rates): names put on it get in
 * at one of its prices. Read-only for the channels; managed through /admin/v1. */
typedef struct {
    const char *id, *name;
    const char *event_id;
    const char *slug;     /* NULL: derived from the name by the dialect */
    bool enabled;
    const cat_guest_list_price *prices; /* in order */
    size_t nprices;
} cat_guest_list;

typedef struct catalog_model catalog_model;

/* Lookups by id; NULL when absent. */
const cat_location *model_location(const catalog_model *m, const char *id);
const cat_category *model_category(const catalog_model *m, const char *id);
const cat_schedule *model_schedule(const catalog_model *m, const char *id);
const cat_event *model_event(const catalog_model *m, const char *id);
const cat_pool *model_pool(const catalog_model *m, const char *id);
const cat_product *model_product(const catalog_model *m, const char *id);
const cat_voucher *model_voucher(const catalog_model *m, const char *id);
const cat_ticket_group *model_ticket_group(const catalog_model *m, const char *id);
const cat_payment_method *model_payment_method(const catalog_model *m, const char *id);
const cat_guest_list *model_guest_list(const catalog_model *m, const char *id);
/* Discount by its code, compared case-insensitively. */
const cat_discount *model_discount_by_code(const catalog_model *m, const char *code);
const cat_discount *model_discount(const catalog_model *m, const char *id);
const cat_question *model_question(const catalog_model *m, const char *id);

/* Any object by kind and id (a cat_* struct, which starts with its id). */
const void *model_object(const catalog_model *m, catalog_kind k, const char *id);
/* Objects of a kind, in the order they were added (oldest first): i < model_count. */
size_t model_count(const catalog_model *m, catalog_kind k);
const void *model_object_at(const catalog_model *m, catalog_kind k, size_t i);
/* The document text an object was compiled from; NULL when absent. */
const char *model_doc(const catalog_model *m, catalog_kind k, const char *id);
const char *model_doc_at(const catalog_model *m, catalog_kind k, size_t i);
const void *model_decoded_at(const catalog_model *m, catalog_kind k, size_t i);
/* The codec's decoded form of that document (opaque to the engine); NULL when absent. */
const void *model_decoded(const catalog_model *m, catalog_kind k, const char *id);

bool schedule_closed_on(const cat_schedule *s, civil_date day);
bool discount_applies_to(const cat_discount *d, const char *product_id);
bool product_in_category(const cat_product *p, const char *category_id);
/* An event's venue: its own location, else its category's; NULL when neither names one. */
const cat_location *event_venue(const cat_event *ev);
/* The zone of the event's venue, else fallback (the account's). */
const char *event_timezone(const cat_event *ev, const char *fallback);
/* Whether q is asked for a ticket of product_id (its product_ids list it, or it lists none). */
bool question_asked_for(const cat_question *q, const char *product_id);

/* Whether a code of v may pay for tickets of event_id (NULL: a product of no event). */
bool voucher_applies_to_event(const cat_voucher *v, const char *event_id);
/* Whether an order of event ev may be paid with pm: enabled, and named by the
 * event when the event names any. */
bool payment_method_offered(const cat_event *ev, const cat_payment_method *pm);
/* The methods an order of ev (NULL: of no event) may be paid with, by sort_order then catalog
 * order; *n of them in a calloc'd array the caller frees (NULL when out of memory). */
const cat_payment_method **model_payment_methods_offered(const catalog_model *m, const cat_event *ev, size_t *n);
/* One of the product's options by id; NULL when it has none of that id. */
const cat_option *product_option(const cat_product *p, const char *option_id);
const cat_apf_field *product_apf_field(const cat_product *p, const char *field_id);

/* ---- building a model: for the catalog codec ----
 * The codec compiles documents kind by kind in the order of
 * catalog_compile_order, so a reference (model_pool, model_event, ...) resolves
 * against the kinds added before it. */
extern const catalog_kind catalog_compile_order[CAT__COUNT];
/* release frees a decoded document (model_add's `decoded`) with the model; may be NULL. */
catalog_model *catalog_model_new(void (*release)(void *decoded));
void catalog_model_free(catalog_model *m);
/* Zeroed memory that lives as long as the model. */
void *model_alloc(catalog_model *m, size_t n);
/* A copy that lives as long as the model; NULL stays NULL. */
const char *model_strdup(catalog_model *m, const char *s);
/* Files obj (a cat_* struct of kind k, allocated with model_alloc) under its
 * id, with the document text it was compiled from (copied) and the codec's
 * decoded document (owned by the model from here on). The first object of an
 * id wins; a discount is also indexed by its code. */
void model_add(catalog_model *m, catalog_kind k, const void *obj, const char *doc, void *decoded);
/* Sorts a schedule's closed dates as schedule_closed_on expects them. */
void model_sort_dates(civil_date *dates, size_t n);
#endif
