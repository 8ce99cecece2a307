/* Dynamic pricing in the engine (docs/PRICING.md, "In the engine"): the
 * settings of each product, the demand models fitted on the account's sales
 * history (product shrunk towards its category, category towards the account,
 * account towards the configured prior), and one price plan per occurrence.
 *
 * Fitting and planning cost seconds, so they run in one worker thread (after
 * sales, on a schedule, and for occurrences a request asked for that had no
 * plan) or in pricing_recompute; a request only looks its price up in the
 * cached plan. Everything cached lives in one pricing_cache guarded by its
 * lock; plans are built outside it and swapped in. */
#include "core/internal.h"
#include "core/inventory_refs.h"
#include "store/inventory_refs_store.h"
#include "store/pricing_store.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_INTERVAL_MS 600000u
#define DEFAULT_HORIZON_DAYS 14
#define DEFAULT_PRIOR_ORDERS_PER_HOUR 0.2
#define DEFAULT_PRIOR_ELASTICITY 1.5
/* after a sale the plans are rebuilt, but at most this often: a burst of
 * sales makes one recompute */
#define AFTER_SALES_SPACING_MS 30000u
/* settings another process wrote show within this */
#define SETTINGS_FRESH_US (5 * US_PER_SEC)
/* the history a fit reads: a year, at most this many orders */
#define HISTORY_US (366LL * 86400 * US_PER_SEC)
#define HISTORY_MAX_SALES 200000
/* exposure of an occurrence without an offer log: it was on sale this long
 * before it started (or since its first sale, if earlier) */
#define OFFER_WINDOW_US (30LL * 86400 * US_PER_SEC)
#define MAX_PLANS_PER_PRODUCT 500
#define MAX_WANTED 64
/* an occurrence a request found unplanned is planned within this */
#define WANTED_SPACING_MS 1000
#define VISITOR_HOLDS_MAX 200000
/* a full table of live quotes is swept for expired ones at most this often:
 * sweeping it for every new cell took seconds a request (bench/convious-pricing.sh) */
#define VISITOR_SWEEP_SPACING_US 1000000

typedef struct {
    char key[64];
    bool has_plan;        /* false: nothing can be sold there (closed, sold out) */
    price_plan plan;
    int32_t seats;        /* seats left when planned (INT32_MAX: unlimited) */
    bool unlimited;
    double observed, expected, factor;
    money shown;          /* the last price shown, for the rate limit; 0 none */
    instant_us shown_at;
} occ_plan;

typedef struct {
    char account_id[40];
    /* a product's id, or a reference's pricing id (inventory_ref_pricing_id) */
    char product_id[INVENTORY_REF_MAX * 4 + 8];
    bool is_ref; /* an inventory reference: its settings come with each request's read of it */
    char reference[INVENTORY_REF_MAX * 4 + 1];
    bool dynamic;
    price_settings settings;
    instant_us settings_read_at, updated_at;
    bool stored;
    demand_model model;
    bool fitted;
    double category_sales, account_sales, bias;
    instant_us fitted_at;
    occ_plan *plans;
    size_t nplans;
    GHashTable *plan_index; /* key -> index + 1 into plans (keys borrowed from plans) */
    char wanted[MAX_WANTED][64];
    size_t nwanted;
} product_pricing;

/* One visitor's quote, its key's strings stored after it (one allocation). */
typedef struct {
    const char *product_id, *occurrence;
    int64_t quantity;
    money price;
    instant_us expires;
} visitor_quote;

/* A visitor's quotes: rtp asks for hundreds of cells of one visitor, so the
 * visitor is found once and each cell looks up a small table keyed by
 * (product, occurrence, quantity), not a global one by built strings. */
typedef struct {
    GHashTable *quotes; /* visitor_quote* (key and value) */
} visitor_book;

struct pricing_cache {
    engine *e;
    pthread_mutex_t lock; /* the fields up to `stopping` */
    pthread_cond_t wake;
    GHashTable *products;        /* "account\x1fproduct" -> product_pricing* */
    GHashTable *dynamic_accounts; /* account id -> GINT count of dynamic products */
    GHashTable *ref_accounts;     /* account id -> GINT count of the references cached */
    GHashTable *sales_accounts, *wanted_accounts; /* account ids the worker recomputes soon */
    bool stopping;
    /* visitors alone: rtp's cells take it apart from the plans' lock */
    pthread_mutex_t visitor_lock;
    GHashTable *visitors; /* "account\x1fvisitor" -> visitor_book* */
    size_t nquotes;       /* over every book: at most VISITOR_HOLDS_MAX */
    instant_us visitors_swept_at;
    pthread_t worker;
    bool worker_running;
    /* only one recompute at a time (the worker's or an admin's): it owns the
     * fit's scratch and keeps the swaps in order */
    pthread_mutex_t recompute_lock;
};

static void plans_free(occ_plan *plans, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (plans[i].has_plan) price_plan_free(&plans[i].plan);
    free(plans);
}

/* Under the lock: the product's plans become plans[0..n) (taken), indexed by key. */
static void set_plans_locked(product_pricing *pp, occ_plan *plans, size_t n)
{
    plans_free(pp->plans, pp->nplans);
    if (pp->plan_index) g_hash_table_destroy(pp->plan_index);
    pp->plans = plans;
    pp->nplans = n;
    pp->plan_index = n ? g_hash_table_new(g_str_hash, g_str_equal) : NULL;
    for (size_t i = 0; i < n; i++) g_hash_table_insert(pp->plan_index, plans[i].key, GSIZE_TO_POINTER(i + 1));
}

static void product_free(gpointer p)
{
    product_pricing *pp = p;
    set_plans_locked(pp, NULL, 0);
    free(pp);
}

/* Into out (room for two ids and the separator); false if they do not fit.
 * Built without printf or malloc: rtp looks an entry up for every cell. */
static bool product_key(const char *account_id, const char *product_id, char *out, size_t outlen)
{
    size_t a = strlen(account_id), p = strlen(product_id);
    if (a + p + 2 > outlen) return false;
    memcpy(out, account_id, a);
    out[a] = '\x1f';
    memcpy(out + a + 1, product_id, p + 1);
    return true;
}

static void prior_of(const engine *e, double reference, demand_model *out)
{
    double rate = e->cfg.pricing_prior_orders_per_hour > 0 ? e->cfg.pricing_prior_orders_per_hour
                                                           : DEFAULT_PRIOR_ORDERS_PER_HOUR;
    double elasticity = e->cfg.pricing_prior_elasticity > 0 ? e->cfg.pricing_prior_elasticity
                                                            : DEFAULT_PRIOR_ELASTICITY;
    demand_model_prior(out, reference > 0 ? reference : 100, elasticity, rate);
}

static void settings_from_row(const store_pricing_settings *row, price_settings *out)
{
    *out = (price_settings){row->dynamic,    row->min_price,      row->max_price,          row->step,
                            row->gate_price, row->average_target, row->max_change_per_hour};
}

static void count_in(GHashTable *counts, const char *account_id, int delta)
{
    int n = GPOINTER_TO_INT(g_hash_table_lookup(counts, account_id)) + delta;
    if (n > 0) g_hash_table_replace(counts, g_strdup(account_id), GINT_TO_POINTER(n));
    else g_hash_table_remove(counts, account_id);
}

static void count_dynamic(struct pricing_cache *c, const char *account_id, int delta)
{
    count_in(c->dynamic_accounts, account_id, delta);
}

/* Under the lock: the entry, made when absent. */
static product_pricing *entry_locked(struct pricing_cache *c, const char *account_id, const char *product_id)
{
    char stack_key[256];
    char *key = product_key(account_id, product_id, stack_key, sizeof stack_key)
                    ? stack_key
                    : g_strdup_printf("%s\x1f%s", account_id, product_id);
    product_pricing *pp = g_hash_table_lookup(c->products, key);
    if (pp) {
        if (key != stack_key) g_free(key);
        return pp;
    }
    if (key == stack_key) key = g_strdup(stack_key);
    pp = calloc(1, sizeof *pp);
    snprintf(pp->account_id, sizeof pp->account_id, "%s", account_id);
    snprintf(pp->product_id, sizeof pp->product_id, "%s", product_id);
    pp->bias = 1;
    g_hash_table_insert(c->products, key, pp);
    return pp;
}

/* Under the lock: takes the stored settings into the entry. */
static void apply_settings_locked(struct pricing_cache *c, product_pricing *pp, const store_pricing_settings *row,
                                  bool stored, instant_us now)
{
    bool was = pp->dynamic;
    price_settings s = {0};
    if (stored) settings_from_row(row, &s);
    bool changed = memcmp(&s, &pp->settings, sizeof s) != 0;
    pp->settings = s;
    pp->stored = stored;
    pp->updated_at = stored ? row->updated_at : 0;
    pp->dynamic = stored && s.dynamic && price_settings_validate(&s) == PRICE_SETTINGS_OK;
    pp->settings_read_at = now;
    if (pp->dynamic != was) count_dynamic(c, pp->account_id, pp->dynamic ? 1 : -1);
    if (changed) { /* a plan of other bounds would answer off the grid */
        set_plans_locked(pp, NULL, 0);
    }
}

/* The settings as stored, read when the cached ones are older than
 * SETTINGS_FRESH_US (the read is outside the lock). */
static void refresh_settings(engine *e, const char *account_id, const char *product_id);

static bool settings_fresh(const product_pricing *pp, instant_us now)
{
    return pp->settings_read_at && now - pp->settings_read_at < SETTINGS_FRESH_US && now >= pp->settings_read_at;
}

/* Under the lock: the entry with settings at most SETTINGS_FRESH_US old. A
 * stale one is reread with the lock released (so the entry is looked up again). */
static product_pricing *fresh_entry_locked(engine *e, const char *account_id, const char *product_id)
{
    struct pricing_cache *c = e->pricing;
    product_pricing *pp = entry_locked(c, account_id, product_id);
    if (settings_fresh(pp, clock_now())) return pp;
    pthread_mutex_unlock(&c->lock);
    refresh_settings(e, account_id, product_id);
    pthread_mutex_lock(&c->lock);
    return entry_locked(c, account_id, product_id);
}

static void refresh_settings(engine *e, const char *account_id, const char *product_id)
{
    struct pricing_cache *c = e->pricing;
    instant_us now = clock_now();
    pthread_mutex_lock(&c->lock);
    bool fresh = settings_fresh(entry_locked(c, account_id, product_id), now);
    pthread_mutex_unlock(&c->lock);
    if (fresh) return;
    store_pricing_settings row;
    store_status st = store_pricing_settings_get(e->st, account_id, product_id, &row);
    if (st != STORE_OK && st != STORE_NOT_FOUND) return; /* keep what is cached; the next request retries */
    pthread_mutex_lock(&c->lock);
    apply_settings_locked(c, entry_locked(c, account_id, product_id), &row, st == STORE_OK, now);
    pthread_mutex_unlock(&c->lock);
}

static occ_plan *find_plan(product_pricing *pp, const char *key)
{
    size_t at = pp->plan_index ? GPOINTER_TO_SIZE(g_hash_table_lookup(pp->plan_index, key)) : 0;
    return at ? &pp->plans[at - 1] : NULL;
}

static void wake_for_locked(struct pricing_cache *c, const char *account_id)
{
    if (!g_hash_table_contains(c->wanted_accounts, account_id))
        g_hash_table_add(c->wanted_accounts, g_strdup(account_id));
    pthread_cond_signal(&c->wake);
}

static bool key_is_dated(const char *key);

/* An occurrence without a plan: the worker plans it soon. Only dated keys:
 * an event's own occurrence id says no day to look it up by, so beyond the
 * horizon it waits for the schedule to bring it within (and asking again
 * and again would only make the worker spin). */
static void want_locked(struct pricing_cache *c, product_pricing *pp, const char *key)
{
    if (!key_is_dated(key)) return;
    for (size_t i = 0; i < pp->nwanted; i++)
        if (!strcmp(pp->wanted[i], key)) return;
    if (pp->nwanted == MAX_WANTED) return; /* planned with the next scheduled run's horizon, or the next miss */
    snprintf(pp->wanted[pp->nwanted++], 64, "%s", key);
    wake_for_locked(c, pp->account_id);
}

/* ---- the sales history ---------------------------------------------------- */

typedef struct {
    char *product_id, *occurrence;
    instant_us sold_at;
    double scaled_price; /* the price paid, scaled to the product being fitted: paid x ref / its gate */
    money paid;
    int64_t quantity;
    money own_gate; /* a reference's sale: its gate price (a product's comes from the catalog) */
} sale_row;

typedef struct {
    sale_row *rows;
    size_t n, cap;
} sale_list;

static void sale_add(void *ctx, const store_pricing_sale *s)
{
    sale_list *l = ctx;
    if (s->unit_price <= 0 || s->quantity <= 0) return; /* free tickets say nothing about price */
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->rows = realloc(l->rows, l->cap * sizeof *l->rows);
    }
    l->rows[l->n++] = (sale_row){strdup(s->product_id), strdup(s->occurrence), s->sold_at, 0, s->unit_price,
                                 s->quantity, 0};
}

static void sales_free(sale_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->rows[i].product_id), free(l->rows[i].occurrence);
    free(l->rows);
}

/* An occurrence key's start in the account's zone: "YYYY-MM-DD" (local
 * midnight) or "YYYY-MM-DDTHH:MM"; false for other keys (event occurrence
 * ids), which the fit leaves out. */
static bool key_occurrence(const char *tz, const char *key, price_occurrence *out, civil_date *day_out)
{
    char date[11];
    size_t n = strlen(key);
    if (n != 10 && n != 16 && n != 19) return false; /* 19: a reference's start time with seconds */
    memcpy(date, key, 10), date[10] = 0;
    civil_date day;
    int32_t secs = 0;
    if (!date_parse(date, &day)) return false;
    if (n > 10 && (key[10] != 'T' || !time_of_day_parse(key + 11, &secs))) return false;
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    *out = (price_occurrence){tz_local_to_instant(tz, day, secs), (uint8_t)date_weekday(day),
                              (uint8_t)(n > 10 ? secs / 3600 : 12), (uint8_t)m};
    if (day_out) *day_out = day;
    return true;
}

static bool key_is_dated(const char *key)
{
    price_occurrence ignored;
    return key_occurrence("UTC", key, &ignored, NULL);
}

/* Only sales of the products keep() says belong to the level. */
typedef bool (*sale_filter)(const sale_row *row, const void *ctx);

typedef struct {
    price_occurrence *occurrences;
    char **keys;
    price_offer *offers;
    price_sale *sales;
    demand_history h;
} built_history;

static void history_free(built_history *b)
{
    free(b->occurrences), free(b->keys), free(b->offers), free(b->sales);
    memset(b, 0, sizeof *b);
}

/* The history of the sales keep() selects: one occurrence per key, one offer
 * per occurrence (OFFER_WINDOW_US before its start, or from its first sale,
 * to its start or now) at the mean price paid there, since Boxoffice keeps no
 * log of shown prices yet (docs/PRICING.md). */
static void history_build(const sale_list *l, const char *tz, instant_us now, sale_filter keep, const void *ctx,
                          built_history *b)
{
    memset(b, 0, sizeof *b);
    b->occurrences = calloc(l->n + 1, sizeof *b->occurrences);
    b->keys = calloc(l->n + 1, sizeof *b->keys);
    b->offers = calloc(l->n + 1, sizeof *b->offers);
    b->sales = calloc(l->n + 1, sizeof *b->sales);
    double *price_sum = calloc(l->n + 1, sizeof *price_sum), *count = calloc(l->n + 1, sizeof *count);
    instant_us *first = calloc(l->n + 1, sizeof *first), *last = calloc(l->n + 1, sizeof *last);
    GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal);
    size_t nocc = 0, nsales = 0;
    for (size_t i = 0; i < l->n; i++) {
        const sale_row *r = &l->rows[i];
        if (!keep(r, ctx)) continue;
        gpointer found;
        size_t k;
        if (g_hash_table_lookup_extended(index, r->occurrence, NULL, &found)) {
            k = (size_t)GPOINTER_TO_SIZE(found);
        } else {
            if (!key_occurrence(tz, r->occurrence, &b->occurrences[nocc], NULL)) continue;
            k = nocc++;
            b->keys[k] = r->occurrence;
            g_hash_table_insert(index, r->occurrence, GSIZE_TO_POINTER(k));
            first[k] = last[k] = r->sold_at;
        }
        if (r->sold_at < first[k]) first[k] = r->sold_at;
        if (r->sold_at > last[k]) last[k] = r->sold_at;
        price_sum[k] += r->scaled_price * (double)r->quantity;
        count[k] += (double)r->quantity;
        b->sales[nsales++] = (price_sale){(uint32_t)k, r->sold_at, (int64_t)llround(r->scaled_price),
                                          (int32_t)(r->quantity > INT32_MAX ? INT32_MAX : r->quantity)};
    }
    for (size_t k = 0; k < nocc; k++) {
        instant_us start = b->occurrences[k].start_us, from = start - OFFER_WINDOW_US;
        if (first[k] < from) from = first[k];
        instant_us to = start < now ? start : now;
        if (to <= last[k]) to = last[k] + US_PER_SEC; /* sold after it started: a day ticket on its day */
        int64_t price = (int64_t)llround(price_sum[k] / count[k]);
        b->offers[k] = (price_offer){(uint32_t)k, from, to, price > 0 ? price : 1};
    }
    b->h = (demand_history){b->occurrences, nocc, b->offers, nocc, b->sales, nsales};
    g_hash_table_destroy(index);
    free(price_sum), free(count), free(first), free(last);
}

static bool keep_all(const sale_row *r, const void *ctx) { return (void)r, (void)ctx, true; }
static bool keep_product(const sale_row *r, const void *ctx) { return !strcmp(r->product_id, ctx); }

typedef struct {
    const catalog_model *m;
    const char *category_id;
} category_ctx;

static bool keep_category(const sale_row *r, const void *ctx_)
{
    const category_ctx *ctx = ctx_;
    const cat_product *p = model_product(ctx->m, r->product_id);
    for (size_t i = 0; p && i < p->ncategories; i++)
        if (!strcmp(p->category_ids[i], ctx->category_id)) return true;
    return false;
}

/* prior -> out on the sales keep() selects; *sales gets their orders. No
 * sales: out = prior. */
static void fit_level(const sale_list *l, const char *tz, instant_us now, sale_filter keep, const void *ctx,
                      const demand_model *prior, demand_model *out, double *sales)
{
    built_history b;
    history_build(l, tz, now, keep, ctx, &b);
    *sales = (double)b.h.sale_count;
    demand_model fitted;
    if (b.h.sale_count && demand_fit(&b.h, prior, NULL, &fitted) == DEMAND_FIT_OK) *out = fitted;
    else *out = *prior;
    history_free(&b);
}

/* ---- planning --------------------------------------------------------------- */

typedef struct {
    demand_model model;
    double category_sales, account_sales, bias;
    occ_plan *plans;
    size_t nplans;
} product_result;

/* When the occurrence stops selling: its start, else its end, else the end
 * of its local day (a day ticket sells all day). */
static instant_us close_of(const account *a, const slot *s, instant_us now)
{
    if (s->starts_at > now) return s->starts_at;
    if (s->ends_at > now) return s->ends_at;
    return s->day >= 0 ? tz_local_to_instant(a->timezone, s->day + 1, 0) : now;
}

/* pace_known false: the sales do not say which occurrence they were for (a
 * reference's start time), so its recent pace is left out (factor 1). */
static void plan_slot(const account *a, const price_settings *settings, const demand_model *model, double bias,
                      const sale_list *sales, const char *product_id, const slot *s, bool pace_known, instant_us now,
                      occ_plan *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->key, sizeof out->key, "%s", s->key);
    out->unlimited = s->available < 0;
    out->seats = s->available < 0 || s->available > INT32_MAX ? INT32_MAX : (int32_t)s->available;
    instant_us close = close_of(a, s, now);
    price_occurrence occ;
    if (!key_occurrence(a->timezone, s->key, &occ, NULL))
        occ = (price_occurrence){s->starts_at ? s->starts_at : close, 0, 12, 1};
    for (size_t i = 0; pace_known && i < sales->n; i++)
        if (!strcmp(sales->rows[i].product_id, product_id) && !strcmp(sales->rows[i].occurrence, s->key))
            out->observed += 1;
    instant_us from = occ.start_us - OFFER_WINDOW_US;
    if (pace_known && from < now) out->expected = demand_expected_orders(model, &occ, from, now < close ? now : close,
                                                           settings->gate_price);
    out->factor = demand_occurrence_factor(out->observed, out->expected, 10);
    if (!s->open || s->available == 0 || close <= now) return;
    demand_model_view view;
    demand_model_view_init(&view, model, &occ, out->factor);
    price_plan_request request = {.now_us = now, .close_us = close, .seats = out->seats, .target_bias = bias};
    if (price_plan_build(settings, &view.demand, &request, &out->plan) == PRICE_OK) out->has_plan = true;
    else price_plan_free(&out->plan);
}

static int by_date(const void *x, const void *y)
{
    civil_date a = *(const civil_date *)x, b = *(const civil_date *)y;
    return (a > b) - (a < b);
}

/* Plans the occurrences named in extra (keys beyond the horizon) that are not
 * planned yet and still ahead, one availability read per day. */
static void plan_extra(engine *e, const account *a, const price_settings *settings, const sale_list *sales,
                       const char *product_id, char (*extra)[64], size_t nextra, civil_date today, instant_us now,
                       product_result *out, size_t capacity)
{
    GHashTable *planned = g_hash_table_new(g_str_hash, g_str_equal), *wanted = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < out->nplans; i++) g_hash_table_add(planned, out->plans[i].key);
    civil_date *days = calloc(nextra + 1, sizeof *days);
    size_t ndays = 0;
    for (size_t w = 0; w < nextra; w++) {
        price_occurrence ignored;
        civil_date day;
        if (g_hash_table_contains(planned, extra[w]) || !key_occurrence(a->timezone, extra[w], &ignored, &day) ||
            day < today)
            continue;
        g_hash_table_add(wanted, extra[w]);
        days[ndays++] = day;
    }
    qsort(days, ndays, sizeof *days, by_date);
    for (size_t d = 0; d < ndays && out->nplans < capacity; d++) {
        if (d && days[d] == days[d - 1]) continue;
        slot *slots = NULL;
        size_t n = 0;
        bo_error err;
        if (availability_product(e, a, product_id, NULL, days[d], days[d] + 1, &slots, &n, &err) != BO_OK) n = 0;
        for (size_t i = 0; i < n && out->nplans < capacity; i++)
            if (g_hash_table_contains(wanted, slots[i].key) && !g_hash_table_contains(planned, slots[i].key))
                plan_slot(a, settings, &out->model, out->bias, sales, product_id, &slots[i], true, now,
                          &out->plans[out->nplans++]);
        free(slots);
    }
    free(days);
    g_hash_table_destroy(wanted);
    g_hash_table_destroy(planned);
}

/* The model of one priced subject (a product, or a reference with no
 * category) and its average target's bias: the subject shrunk towards its
 * category (when it has one), the category towards the account, the account
 * towards the configured prior. */
static void fit_subject(engine *e, const account *a, const catalog_model *m, const sale_list *sales,
                        const price_settings *settings, const char *subject_id, const char *category_id,
                        instant_us now, product_result *out)
{
    double reference = settings->gate_price;
    /* every sale's price scaled to this subject's gate, so subjects of other
     * price levels inform its pace and calendar, not its level of price */
    for (size_t i = 0; i < sales->n; i++) {
        sale_row *r = &sales->rows[i];
        const cat_product *q = r->own_gate ? NULL : model_product(m, r->product_id);
        money gate = r->own_gate ? r->own_gate : q ? q->gate_price : 0;
        if (!strcmp(r->product_id, subject_id)) gate = settings->gate_price;
        r->scaled_price = gate > 0 ? (double)r->paid * reference / (double)gate : (double)r->paid;
    }
    demand_model prior, account_model, category_model;
    prior_of(e, reference, &prior);
    fit_level(sales, a->timezone, now, keep_all, NULL, &prior, &account_model, &out->account_sales);
    category_model = account_model;
    if (category_id) {
        category_ctx cc = {m, category_id};
        fit_level(sales, a->timezone, now, keep_category, &cc, &account_model, &category_model,
                  &out->category_sales);
    }
    double own = 0;
    fit_level(sales, a->timezone, now, keep_product, subject_id, &category_model, &out->model, &own);
    int64_t revenue = 0, tickets = 0;
    for (size_t i = 0; i < sales->n; i++)
        if (!strcmp(sales->rows[i].product_id, subject_id))
            revenue += sales->rows[i].paid * sales->rows[i].quantity, tickets += sales->rows[i].quantity;
    out->bias = price_target_bias(settings, 1, revenue, tickets);
}

/* Fits and plans one product: the slow part, on no lock but recompute_lock.
 * extra: occurrences beyond the horizon to plan as well (wanted by requests,
 * or planned before and still ahead). */
static bool compute_product(engine *e, const account *a, const catalog_model *m, const sale_list *sales,
                            const price_settings *settings, const char *product_id, char (*extra)[64],
                            size_t nextra, instant_us now, product_result *out)
{
    memset(out, 0, sizeof *out);
    const cat_product *p = model_product(m, product_id);
    if (!p) return false;
    fit_subject(e, a, m, sales, settings, product_id, p->ncategories ? p->category_ids[0] : NULL, now, out);

    civil_date today;
    int32_t ignored;
    tz_instant_to_local(a->timezone, now, &today, &ignored);
    int horizon = e->cfg.pricing_horizon_days > 0 ? e->cfg.pricing_horizon_days : DEFAULT_HORIZON_DAYS;
    slot *slots = NULL;
    size_t n = 0;
    bo_error err;
    if (availability_product(e, a, product_id, NULL, today, today + horizon, &slots, &n, &err) != BO_OK) n = 0;
    size_t capacity = 2 * MAX_PLANS_PER_PRODUCT;
    out->plans = calloc(capacity, sizeof *out->plans);
    for (size_t i = 0; i < n && out->nplans < MAX_PLANS_PER_PRODUCT; i++)
        plan_slot(a, settings, &out->model, out->bias, sales, product_id, &slots[i], true, now,
                  &out->plans[out->nplans++]);
    free(slots);
    plan_extra(e, a, settings, sales, product_id, extra, nextra, today, now, out, capacity);
    return true;
}

/* Swaps a product's new plans in, keeping each occurrence's last shown price
 * (the rate limit runs from it). */
static void install_locked(product_pricing *pp, product_result *r, instant_us now)
{
    for (size_t i = 0; i < r->nplans; i++) {
        occ_plan *old = find_plan(pp, r->plans[i].key);
        if (old) r->plans[i].shown = old->shown, r->plans[i].shown_at = old->shown_at;
    }
    set_plans_locked(pp, r->plans, r->nplans);
    pp->model = r->model;
    pp->fitted = true;
    pp->category_sales = r->category_sales;
    pp->account_sales = r->account_sales;
    pp->bias = r->bias;
    pp->fitted_at = now;
    /* what was wanted is planned now, or is not an occurrence that sells */
    pp->nwanted = 0;
    r->plans = NULL;
    r->nplans = 0;
}

/* Whether the price x shows sits on a bound of s. */
static void bounds_hit(pricing_explain_info *x, const price_settings *s)
{
    x->at_min = x->price == s->min_price;
    x->at_max = x->price == s->max_price;
}

/* Under the lock: what the entry learned (a product's or a reference's), or
 * the configured prior at its gate price before its first fit. */
static void model_info_locked(const engine *e, const product_pricing *pp, pricing_model_info *out)
{
    if (pp->fitted) {
        out->model = pp->model;
        out->fitted = true;
        out->category_sales = pp->category_sales;
        out->account_sales = pp->account_sales;
        out->fitted_at = pp->fitted_at;
        out->planned_occurrences = pp->nplans;
    } else {
        prior_of(e, (double)pp->settings.gate_price, &out->model);
    }
}

/* ---- inventory references ------------------------------------------------------ */

static void current_locked(struct pricing_cache *c, product_pricing *pp, const char *key, int64_t quantity,
                           int64_t live_seats, instant_us now, pricing_explain_info *x);

/* A reference is priced like a product, in the same cache under its pricing
 * id (a prefix no product id has, so the two never alias), with two
 * differences: its settings and seats come from the request's read of it
 * (inventory_ref_read), and it has no calendar of occurrences, so the cells
 * planned are those requests asked for (and, once planned, kept while ahead). */
#define REF_PREFIX "\x1eref:"

void inventory_ref_pricing_id(const char *reference, char *out, size_t size)
{
    snprintf(out, size, REF_PREFIX "%s", reference);
}

void inventory_ref_cell_key(civil_date day, int32_t start_time, char out[24])
{
    char d[11], t[9];
    date_format(day, d);
    if (start_time < 0) {
        snprintf(out, 24, "%s", d);
        return;
    }
    time_of_day_format(start_time, t);
    /* HH:MM as products' keys are, seconds only when there are any */
    snprintf(out, 24, "%sT%.*s", d, start_time % 60 ? 8 : 5, t);
}

static bool ref_cell_of_key(const char *key, civil_date *day, int32_t *start_time)
{
    price_occurrence ignored;
    if (!key_occurrence("UTC", key, &ignored, day)) return false;
    *start_time = INVENTORY_WHOLE_DAY;
    return strlen(key) == 10 || time_of_day_parse(key + 11, start_time);
}

/* Under the lock: the reference's settings as just read take the entry's place. */
static void ref_settings_locked(struct pricing_cache *c, product_pricing *pp, const inventory_ref_view *v,
                                instant_us now)
{
    if (!pp->is_ref) {
        pp->is_ref = true;
        count_in(c->ref_accounts, pp->account_id, 1);
        snprintf(pp->reference, sizeof pp->reference, "%s", v->reference);
    }
    if (memcmp(&v->settings, &pp->settings, sizeof v->settings) != 0) {
        pp->settings = v->settings;
        set_plans_locked(pp, NULL, 0); /* a plan of other bounds would answer off the grid */
    }
    pp->dynamic = price_settings_validate(&pp->settings) == PRICE_SETTINGS_OK &&
                  price_grid_count(&pp->settings) <= 65535;
    pp->stored = true;
    pp->settings_read_at = now;
}

/* Under the lock: one cell of the reference whose entry pp is, and why it
 * has that price (x): what rtp answers and the admin explain shows. */
static money ref_cell_price_locked(struct pricing_cache *c, product_pricing *pp, const account *a,
                                   const inventory_ref_cell *cell, int64_t quantity, instant_us now,
                                   pricing_explain_info *x)
{
    memset(x, 0, sizeof *x);
    x->dynamic = pp->dynamic;
    x->price = x->wanted = -1;
    int64_t seats_left = x->seats_left = cell->seats_left;
    if (quantity < 1 || seats_left == 0 || (seats_left > 0 && seats_left < quantity)) return -1;
    /* a start time sells until it starts; the whole day until it ends */
    instant_us close = cell->start_time >= 0 ? tz_local_to_instant(a->timezone, cell->day, cell->start_time)
                                             : tz_local_to_instant(a->timezone, cell->day + 1, 0);
    if (close <= now) return -1;
    if (!pp->dynamic) return x->price = x->wanted = pp->settings.gate_price;
    char key[24];
    inventory_ref_cell_key(cell->day, cell->start_time, key);
    occ_plan *op = find_plan(pp, key);
    /* planned with fewer seats than are left now (or sold out then): the
     * plan cannot say, so the worker replans it */
    bool stale = op && (!op->has_plan || (!op->unlimited && (seats_left < 0 || seats_left > op->seats)));
    if (stale) want_locked(c, pp, key);
    if (op && !op->has_plan) {
        x->price = x->wanted = price_grid_nearest(&pp->settings, (double)pp->settings.gate_price);
        bounds_hit(x, &pp->settings);
    } else {
        current_locked(c, pp, key, quantity, seats_left, now, x);
    }
    x->seats_left = seats_left; /* what the plan was read with: the seats left now */
    x->planned = x->planned && !stale;
    return x->price;
}

money inventory_ref_price(engine *e, const account *a, const inventory_ref_view *v, civil_date day,
                          int32_t start_time, int64_t seats_left, int64_t quantity, bool *planned)
{
    inventory_ref_cell cell = {day, start_time, seats_left};
    money price;
    if (planned) *planned = false;
    inventory_ref_prices(e, a, v, &cell, 1, quantity, &price, planned);
    return price;
}

/* Under the lock: the active reference v's entry, its settings as just read. */
static product_pricing *ref_entry_locked(struct pricing_cache *c, const account *a, const inventory_ref_view *v,
                                         instant_us now)
{
    char id[sizeof ((product_pricing *)0)->product_id];
    inventory_ref_pricing_id(v->reference, id, sizeof id);
    product_pricing *pp = entry_locked(c, a->id, id);
    ref_settings_locked(c, pp, v, now);
    return pp;
}

void inventory_ref_prices(engine *e, const account *a, const inventory_ref_view *v, const inventory_ref_cell *cells,
                          size_t n, int64_t quantity, money *out, bool *planned)
{
    struct pricing_cache *c = e->pricing;
    for (size_t i = 0; i < n; i++) out[i] = -1;
    if (!c || v->presence != INVENTORY_REF_ACTIVE || quantity < 1 || !n) return;
    instant_us now = clock_now();
    pthread_mutex_lock(&c->lock);
    product_pricing *pp = ref_entry_locked(c, a, v, now);
    for (size_t i = 0; i < n; i++) {
        pricing_explain_info x;
        out[i] = ref_cell_price_locked(c, pp, a, &cells[i], quantity, now, &x);
        if (planned) planned[i] = x.planned;
    }
    pthread_mutex_unlock(&c->lock);
}

/* The active reference, read with its seats on day (from..to empty: none);
 * BO_NOT_FOUND when it is unknown or removed. */
static bo_status ref_read_active(engine *e, const account *a, const char *reference, civil_date from, civil_date to,
                                 inventory_ref_view *v, bo_error *err)
{
    if (inventory_ref_read(e, a, reference, from, to, v) != BO_OK)
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "the reference could not be read");
    if (v->presence == INVENTORY_REF_ACTIVE) return BO_OK;
    inventory_ref_view_free(v);
    return bo_fail(err, BO_NOT_FOUND, "unknown_product", "reference", "no reference %.*s", utf8_prefix(reference, 60),
                   reference);
}

bo_status inventory_ref_explain(engine *e, const account *a, const char *reference, civil_date day,
                                int32_t start_time, pricing_explain_info *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    struct pricing_cache *c = e->pricing;
    inventory_ref_view v;
    if (ref_read_active(e, a, reference, day, day, &v, err) != BO_OK) return err->status;
    inventory_ref_cell cell = {day, start_time, inventory_ref_seats_left(&v, day, start_time)};
    instant_us now = clock_now();
    if (c) {
        pthread_mutex_lock(&c->lock);
        ref_cell_price_locked(c, ref_entry_locked(c, a, &v, now), a, &cell, 1, now, out);
        pthread_mutex_unlock(&c->lock);
    } else {
        out->price = out->wanted = -1, out->seats_left = cell.seats_left;
    }
    inventory_ref_view_free(&v);
    slot *at = &out->at;
    inventory_ref_cell_key(day, start_time, at->key);
    at->day = day, at->time_from = start_time, at->time_to = -1, at->open = true, at->available = cell.seats_left;
    at->starts_at = start_time >= 0 ? tz_local_to_instant(a->timezone, day, start_time) : 0;
    return BO_OK;
}

bo_status inventory_ref_model_get(engine *e, const account *a, const char *reference, inventory_ref_view *ref,
                                  pricing_model_info *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    /* its settings and availability; no day's seats (from after to) */
    if (ref_read_active(e, a, reference, 1, 0, ref, err) != BO_OK) return err->status;
    struct pricing_cache *c = e->pricing;
    if (!c) {
        prior_of(e, (double)ref->settings.gate_price, &out->model);
        return BO_OK;
    }
    pthread_mutex_lock(&c->lock);
    model_info_locked(e, ref_entry_locked(c, a, ref, clock_now()), out);
    pthread_mutex_unlock(&c->lock);
    return BO_OK;
}

typedef struct {
    char id[sizeof ((product_pricing *)0)->product_id], reference[INVENTORY_REF_MAX * 4 + 1];
    price_settings settings;
    char (*keys)[64];
    size_t nkeys;
} ref_job;

typedef struct {
    ref_job *jobs;
    size_t n;
} ref_jobs;

static void ref_jobs_free(ref_jobs *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->jobs[i].keys);
    free(r->jobs);
    memset(r, 0, sizeof *r);
}

static void sale_add_ref(void *ctx, const char *reference, int64_t gate_price, const store_inventory_sale *s)
{
    sale_list *l = ctx;
    if (s->unit_price <= 0 || s->quantity <= 0) return; /* free items say nothing about price */
    char day[11] = "", id[sizeof ((product_pricing *)0)->product_id];
    if (s->has_day) date_format(s->event_day, day); /* no day: kept out of the fit, as undated keys are */
    inventory_ref_pricing_id(reference, id, sizeof id);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->rows = realloc(l->rows, l->cap * sizeof *l->rows);
    }
    l->rows[l->n++] = (sale_row){strdup(id), strdup(day), s->sold_at, 0, s->unit_price, s->quantity,
                                 gate_price > 0 ? gate_price : 1};
}

/* The account's references the cache prices (requests asked for them), each
 * with the cells to plan (wanted, and planned before). */
static void refs_take(engine *e, const account *a, ref_jobs *out)
{
    struct pricing_cache *c = e->pricing;
    pthread_mutex_lock(&c->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->products);
    size_t cap = 0;
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        product_pricing *pp = value;
        if (!pp->is_ref || !pp->dynamic || strcmp(pp->account_id, a->id)) continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            out->jobs = realloc(out->jobs, cap * sizeof *out->jobs);
        }
        ref_job *job = &out->jobs[out->n++];
        memset(job, 0, sizeof *job);
        snprintf(job->id, sizeof job->id, "%s", pp->product_id);
        snprintf(job->reference, sizeof job->reference, "%s", pp->reference);
        job->settings = pp->settings;
        size_t most = pp->nwanted + (pp->nplans < MAX_PLANS_PER_PRODUCT ? pp->nplans : MAX_PLANS_PER_PRODUCT);
        job->keys = malloc((most + 1) * sizeof *job->keys);
        for (size_t w = 0; w < pp->nwanted; w++) memcpy(job->keys[job->nkeys++], pp->wanted[w], 64);
        for (size_t k = 0; k < pp->nplans && job->nkeys < most; k++) memcpy(job->keys[job->nkeys++], pp->plans[k].key, 64);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Fits a reference (shrunk towards the account: it has no category) and
 * plans its cells still ahead with the seats left now. False: the reference
 * could not be read (plans kept); *gone: it is removed or unknown now. */
static bool compute_ref(engine *e, const account *a, const catalog_model *m, const sale_list *sales,
                        const ref_job *job, instant_us now, product_result *out, bool *gone)
{
    memset(out, 0, sizeof *out);
    *gone = false;
    fit_subject(e, a, m, sales, &job->settings, job->id, NULL, now, out);
    civil_date today, lo = 0, hi = 0;
    int32_t ignored;
    tz_instant_to_local(a->timezone, now, &today, &ignored);
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    size_t *cells = calloc(job->nkeys + 1, sizeof *cells), ncells = 0;
    for (size_t k = 0; k < job->nkeys && ncells < MAX_PLANS_PER_PRODUCT; k++) {
        civil_date day;
        int32_t start;
        if (!ref_cell_of_key(job->keys[k], &day, &start) || day < today || g_hash_table_contains(seen, job->keys[k]))
            continue;
        g_hash_table_add(seen, job->keys[k]);
        if (!ncells || day < lo) lo = day;
        if (!ncells || day > hi) hi = day;
        cells[ncells++] = k;
    }
    g_hash_table_destroy(seen);
    out->plans = calloc(ncells + 1, sizeof *out->plans);
    inventory_ref_view v = {0};
    bool read = !ncells || inventory_ref_read(e, a, job->reference, lo, hi, &v) == BO_OK;
    *gone = read && ncells && v.presence != INVENTORY_REF_ACTIVE;
    for (size_t i = 0; read && !*gone && i < ncells; i++) {
        /* hundreds of cells take a while: a closing engine does not wait for them */
        pthread_mutex_lock(&e->pricing->lock);
        bool stopping = e->pricing->stopping;
        pthread_mutex_unlock(&e->pricing->lock);
        if (stopping) {
            read = false; /* nothing installed */
            break;
        }
        civil_date day;
        int32_t start;
        ref_cell_of_key(job->keys[cells[i]], &day, &start);
        slot sl = {.day = day, .time_from = start, .time_to = -1, .open = true};
        snprintf(sl.key, sizeof sl.key, "%s", job->keys[cells[i]]);
        sl.starts_at = start >= 0 ? tz_local_to_instant(a->timezone, day, start) : 0;
        sl.available = inventory_ref_seats_left(&v, day, start);
        /* OrderCreated names a day, not a start time: only a whole day's pace is known */
        plan_slot(a, &job->settings, &out->model, out->bias, sales, job->id, &sl, start < 0, now,
                  &out->plans[out->nplans++]);
    }
    inventory_ref_view_free(&v);
    free(cells);
    return read;
}

/* The references' history is the account's Boxoffice sales and every
 * reference's (the account level they shrink towards), read after the
 * products were fitted: a product's prices never move with a reference's
 * sales, which another system reports. */
static void refs_compute(engine *e, const account *a, const catalog_model *m, sale_list *sales,
                         const ref_jobs *refs, instant_us now)
{
    struct pricing_cache *c = e->pricing;
    if (!refs->n) return;
    if (store_inventory_sales_all(e->st, a->id, now - HISTORY_US, HISTORY_MAX_SALES, sale_add_ref, sales) != STORE_OK)
        return; /* plans kept; the next run retries */
    for (size_t i = 0; i < refs->n; i++) {
        const ref_job *job = &refs->jobs[i];
        pthread_mutex_lock(&c->lock);
        bool stopping = c->stopping;
        pthread_mutex_unlock(&c->lock);
        if (stopping) break;
        product_result r;
        bool gone;
        if (!compute_ref(e, a, m, sales, job, now, &r, &gone)) {
            plans_free(r.plans, r.nplans);
            continue;
        }
        char *key = g_strdup_printf("%s\x1f%s", a->id, job->id); /* the worker's pace: no need for the stack */
        pthread_mutex_lock(&c->lock);
        product_pricing *pp = g_hash_table_lookup(c->products, key);
        /* removed: forgotten until a request finds it active again */
        if (pp && gone) {
            count_in(c->ref_accounts, a->id, -1);
            g_hash_table_remove(c->products, key);
        }
        else if (pp && memcmp(&pp->settings, &job->settings, sizeof job->settings) == 0) install_locked(pp, &r, now);
        pthread_mutex_unlock(&c->lock);
        g_free(key);
        plans_free(r.plans, r.nplans);
    }
}

/* Under the lock: adds the accounts of the references the cache prices to ids. */
static void ref_accounts_locked(struct pricing_cache *c, GPtrArray *ids)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->products);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const product_pricing *pp = value;
        bool listed = !pp->is_ref;
        for (guint i = 0; !listed && i < ids->len; i++) listed = !strcmp(g_ptr_array_index(ids, i), pp->account_id);
        if (!listed) g_ptr_array_add(ids, g_strdup(pp->account_id));
    }
}

/* Refits and replans the account's products named (all dynamic ones when
 * product_id is NULL). The caller holds recompute_lock. */
static bo_status recompute_account(engine *e, const account *a, const char *product_id)
{
    struct pricing_cache *c = e->pricing;
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return BO_INTERNAL;
    instant_us now = clock_now();
    sale_list sales = {0};
    store_status st = store_pricing_sales(e->st, a->id, now - HISTORY_US, HISTORY_MAX_SALES, sale_add, &sales);
    if (st != STORE_OK) {
        sales_free(&sales);
        catalog_release(cs);
        return BO_INTERNAL;
    }
    ref_jobs refs = {0};
    if (!product_id) refs_take(e, a, &refs);
    size_t np = model_count(cs->model, CAT_PRODUCT);
    for (size_t i = 0; i < np; i++) {
        const cat_product *p = model_object_at(cs->model, CAT_PRODUCT, i);
        if (product_id && strcmp(p->id, product_id)) continue;
        pthread_mutex_lock(&c->lock);
        bool stopping = c->stopping; /* the engine is closing: the rest can wait for the next start */
        pthread_mutex_unlock(&c->lock);
        if (stopping) break;
        refresh_settings(e, a->id, p->id);
        pthread_mutex_lock(&c->lock);
        product_pricing *pp = entry_locked(c, a->id, p->id);
        bool dynamic = pp->dynamic;
        price_settings settings = pp->settings;
        /* what requests wanted, and what was planned before: an occurrence
         * beyond the horizon stays planned once asked for */
        size_t nextra = 0, most = pp->nwanted + (pp->nplans < MAX_PLANS_PER_PRODUCT ? pp->nplans : MAX_PLANS_PER_PRODUCT);
        char(*extra)[64] = malloc((most + 1) * sizeof *extra);
        for (size_t w = 0; w < pp->nwanted; w++) memcpy(extra[nextra++], pp->wanted[w], 64);
        for (size_t k = 0; k < pp->nplans && nextra < most; k++) memcpy(extra[nextra++], pp->plans[k].key, 64);
        pthread_mutex_unlock(&c->lock);
        product_result r;
        bool computed = dynamic && compute_product(e, a, cs->model, &sales, &settings, p->id, extra, nextra, now, &r);
        free(extra);
        if (!computed) continue;
        pthread_mutex_lock(&c->lock);
        pp = entry_locked(c, a->id, p->id);
        if (memcmp(&pp->settings, &settings, sizeof settings) == 0) install_locked(pp, &r, now);
        pthread_mutex_unlock(&c->lock);
        plans_free(r.plans, r.nplans);
    }
    refs_compute(e, a, cs->model, &sales, &refs, now);
    ref_jobs_free(&refs);
    sales_free(&sales);
    catalog_release(cs);
    return BO_OK;
}

/* ---- the worker ------------------------------------------------------------------ */

typedef struct {
    GPtrArray *accounts; /* distinct account ids with a dynamic product */
} dynamic_rows;

static void note_dynamic(void *ctx, const store_pricing_settings *row)
{
    dynamic_rows *d = ctx;
    GPtrArray *l = d->accounts;
    if (!l->len || strcmp(g_ptr_array_index(l, l->len - 1), row->account_id))
        g_ptr_array_add(l, g_strdup(row->account_id));
}

static void recompute_ids(engine *e, GPtrArray *ids)
{
    for (guint i = 0; i < ids->len; i++) {
        account a;
        if (account_by_id(e, g_ptr_array_index(ids, i), &a) != BO_OK) continue;
        pthread_mutex_lock(&e->pricing->recompute_lock);
        if (recompute_account(e, &a, NULL) != BO_OK) log_warn("pricing: recompute of account %s failed", a.id);
        pthread_mutex_unlock(&e->pricing->recompute_lock);
    }
}

static void recompute_all(engine *e)
{
    dynamic_rows d = {g_ptr_array_new_with_free_func(g_free)};
    if (store_pricing_settings_dynamic(e->st, note_dynamic, &d) != STORE_OK)
        log_warn("pricing: settings unreadable; products' plans kept, retrying on schedule");
    pthread_mutex_lock(&e->pricing->lock);
    ref_accounts_locked(e->pricing, d.accounts);
    pthread_mutex_unlock(&e->pricing->lock);
    recompute_ids(e, d.accounts);
    g_ptr_array_free(d.accounts, TRUE);
}

/* Under the lock: the set's account ids, moved into a new array (the caller frees). */
static GPtrArray *take_ids_locked(GHashTable *set)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_ptr_array_add(ids, key);
        g_hash_table_iter_steal(&it);
    }
    return ids;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Three reasons to run, each with its own pace: the schedule (every account
 * with a dynamic product), sales (the accounts whose inventory changed, at
 * most every AFTER_SALES_SPACING_MS) and wants (accounts with new settings or
 * an occurrence a request found unplanned, at most every WANTED_SPACING_MS). */
static void *worker_main(void *arg)
{
    struct pricing_cache *c = arg;
    engine *e = c->e;
    int64_t interval = e->cfg.pricing_interval_ms ? e->cfg.pricing_interval_ms : DEFAULT_INTERVAL_MS;
    int64_t next_run = monotonic_ms(), last_sales = 0, last_wanted = 0; /* a first run at start */
    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        int64_t now = monotonic_ms(), sales_due = last_sales + AFTER_SALES_SPACING_MS,
                wanted_due = last_wanted + WANTED_SPACING_MS;
        bool sales = g_hash_table_size(c->sales_accounts) > 0, wanted = g_hash_table_size(c->wanted_accounts) > 0;
        GPtrArray *ids = NULL;
        if (now >= next_run) {
            g_hash_table_remove_all(c->sales_accounts);
            g_hash_table_remove_all(c->wanted_accounts);
            next_run = now + interval;
            last_sales = last_wanted = now;
        } else if (wanted && now >= wanted_due) {
            ids = take_ids_locked(c->wanted_accounts);
            last_wanted = now;
        } else if (sales && now >= sales_due) {
            ids = take_ids_locked(c->sales_accounts);
            last_sales = now;
        } else {
            int64_t until = next_run;
            if (wanted && wanted_due < until) until = wanted_due;
            if (sales && sales_due < until) until = sales_due;
            struct timespec ts = {until / 1000, (long)(until % 1000) * 1000000L};
            pthread_cond_timedwait(&c->wake, &c->lock, &ts);
            continue;
        }
        pthread_mutex_unlock(&c->lock);
        if (ids) recompute_ids(e, ids);
        else recompute_all(e);
        if (ids) g_ptr_array_free(ids, TRUE);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static guint visitor_quote_hash(gconstpointer p)
{
    const visitor_quote *q = p;
    return g_str_hash(q->product_id) * 31u + g_str_hash(q->occurrence) * 17u + (guint)q->quantity;
}

static gboolean visitor_quote_equal(gconstpointer x, gconstpointer y)
{
    const visitor_quote *a = x, *b = y;
    return a->quantity == b->quantity && !strcmp(a->occurrence, b->occurrence) && !strcmp(a->product_id, b->product_id);
}

static void visitor_book_free(gpointer p)
{
    visitor_book *book = p;
    g_hash_table_destroy(book->quotes);
    free(book);
}

void pricing_cache_open(engine *e)
{
    struct pricing_cache *c = calloc(1, sizeof *c);
    c->e = e;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->recompute_lock, NULL);
    pthread_mutex_init(&c->visitor_lock, NULL);
    monotonic_cond_init(&c->wake);
    c->products = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, product_free);
    c->dynamic_accounts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    c->ref_accounts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    c->visitors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, visitor_book_free);
    c->sales_accounts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    c->wanted_accounts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    e->pricing = c; /* before the worker starts: it reads it */
    if (e->cfg.start_workers) {
        c->worker_running = pthread_create(&c->worker, NULL, worker_main, c) == 0;
        if (c->worker_running) pthread_setname_np(c->worker, "bo-pricing");
    }
}

void pricing_cache_close(struct pricing_cache *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->worker_running) pthread_join(c->worker, NULL);
    g_hash_table_destroy(c->products);
    g_hash_table_destroy(c->dynamic_accounts);
    g_hash_table_destroy(c->ref_accounts);
    g_hash_table_destroy(c->visitors);
    g_hash_table_destroy(c->sales_accounts);
    g_hash_table_destroy(c->wanted_accounts);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->recompute_lock);
    pthread_mutex_destroy(&c->visitor_lock);
    free(c);
}

void pricing_inventory_changed(engine *e, const char *account_id)
{
    struct pricing_cache *c = e->pricing;
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    if (g_hash_table_contains(c->dynamic_accounts, account_id) &&
        !g_hash_table_contains(c->sales_accounts, account_id)) {
        g_hash_table_add(c->sales_accounts, g_strdup(account_id));
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
}

void pricing_references_sold(engine *e, const char *account_id)
{
    struct pricing_cache *c = e->pricing;
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    if (g_hash_table_contains(c->ref_accounts, account_id) && !g_hash_table_contains(c->sales_accounts, account_id)) {
        g_hash_table_add(c->sales_accounts, g_strdup(account_id));
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
}

/* ---- the engine's calls ------------------------------------------------------------ */

static bool product_exists(engine *e, const account *a, const char *product_id, bo_error *err)
{
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable"), false;
    bool found = model_product(cs->model, product_id) != NULL;
    catalog_release(cs);
    if (!found) bo_fail(err, BO_NOT_FOUND, "unknown_product", "product_id", "no product with id %s", product_id);
    return found;
}

bo_status pricing_settings_get(engine *e, const account *a, const char *product_id, pricing_product_settings *out,
                               bo_error *err)
{
    memset(out, 0, sizeof *out);
    if (!product_exists(e, a, product_id, err)) return err->status;
    store_pricing_settings row;
    store_status st = store_pricing_settings_get(e->st, a->id, product_id, &row);
    if (st == STORE_NOT_FOUND) return BO_OK;
    if (st != STORE_OK) return bo_from_store(st, err);
    settings_from_row(&row, &out->settings);
    out->stored = true;
    out->updated_at = row.updated_at;
    return BO_OK;
}

bo_status pricing_settings_put(engine *e, const account *a, const char *product_id, const price_settings *in,
                               pricing_product_settings *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    static const char *const fields[] = {
        [PRICE_SETTINGS_BAD_STEP] = "step",         [PRICE_SETTINGS_BAD_BOUNDS] = "min_price",
        [PRICE_SETTINGS_BAD_GATE] = "gate_price",   [PRICE_SETTINGS_BAD_TARGET] = "average_target",
        [PRICE_SETTINGS_BAD_CHANGE] = "max_change_per_hour"};
    static const char *const why[] = {
        [PRICE_SETTINGS_BAD_STEP] = "step must be at least 1",
        [PRICE_SETTINGS_BAD_BOUNDS] = "min_price must be at least 1 and at most max_price",
        [PRICE_SETTINGS_BAD_GATE] = "gate_price must be at least 1",
        [PRICE_SETTINGS_BAD_TARGET] = "average_target must be 0 (none) or within [min_price, max_price]",
        [PRICE_SETTINGS_BAD_CHANGE] = "max_change_per_hour must be 0 (unlimited) or more"};
    price_settings_check check = price_settings_validate(in);
    if (check != PRICE_SETTINGS_OK) {
        /* min > max names max_price: the one the caller most likely meant */
        const char *field = check == PRICE_SETTINGS_BAD_BOUNDS && in->min_price > 0 ? "max_price" : fields[check];
        return bo_fail(err, BO_INVALID, "invalid_pricing", field, "%s", why[check]);
    }
    if (price_grid_count(in) > 65535)
        return bo_fail(err, BO_INVALID, "invalid_pricing", "step",
                       "(max_price - min_price) / step must be below 65,535 price points");
    if (!product_exists(e, a, product_id, err)) return err->status;
    store_pricing_settings row = {.dynamic = in->dynamic,
                                  .min_price = in->min_price,
                                  .max_price = in->max_price,
                                  .step = in->step,
                                  .gate_price = in->gate_price,
                                  .average_target = in->average_target,
                                  .max_change_per_hour = in->max_change_per_hour,
                                  .updated_at = clock_now()};
    snprintf(row.account_id, sizeof row.account_id, "%s", a->id);
    snprintf(row.product_id, sizeof row.product_id, "%s", product_id);
    store_status st = store_pricing_settings_put(e->st, &row);
    if (st != STORE_OK) return bo_from_store(st, err);
    struct pricing_cache *c = e->pricing;
    pthread_mutex_lock(&c->lock);
    apply_settings_locked(c, entry_locked(c, a->id, product_id), &row, true, clock_now());
    wake_for_locked(c, a->id); /* plan it now, not at the next scheduled run */
    pthread_mutex_unlock(&c->lock);
    out->settings = *in;
    out->stored = true;
    out->updated_at = row.updated_at;
    return BO_OK;
}

bo_status pricing_recompute(engine *e, const account *a, const char *product_id, bo_error *err)
{
    if (product_id && !product_exists(e, a, product_id, err)) return err->status;
    pthread_mutex_lock(&e->pricing->recompute_lock);
    bo_status st = recompute_account(e, a, product_id);
    pthread_mutex_unlock(&e->pricing->recompute_lock);
    if (st != BO_OK) return bo_fail(err, st, "internal_error", "", "the sales history could not be read");
    return BO_OK;
}

bo_status pricing_model_get(engine *e, const account *a, const char *product_id, pricing_model_info *out,
                            bo_error *err)
{
    memset(out, 0, sizeof *out);
    if (!product_exists(e, a, product_id, err)) return err->status;
    refresh_settings(e, a->id, product_id);
    struct pricing_cache *c = e->pricing;
    pthread_mutex_lock(&c->lock);
    model_info_locked(e, entry_locked(c, a->id, product_id), out);
    pthread_mutex_unlock(&c->lock);
    return BO_OK;
}

/* live_seats: PLANNED_SEATS, the seats left when the occurrence was planned
 * (a product's plans are rebuilt after every sale); else the seats left now
 * (-1 unlimited), which a reference's request has just read: the plan covers
 * every count up to the one it was made with. */
#define PLANNED_SEATS (-2)

/* Under the lock: the price of quantity tickets at the occurrence `key`,
 * moving the shown price (rate limit) when it does. */
static void current_locked(struct pricing_cache *c, product_pricing *pp, const char *key, int64_t quantity,
                           int64_t live_seats, instant_us now, pricing_explain_info *x)
{
    const price_settings *s = &pp->settings;
    occ_plan *op = find_plan(pp, key);
    if (!op) {
        /* not planned yet: the gate price on the grid until the worker's plan */
        want_locked(c, pp, key);
        x->price = x->wanted = price_grid_nearest(s, (double)s->gate_price);
        x->seats_left = -1;
        bounds_hit(x, s);
        return;
    }
    x->planned = true;
    x->planned_at = pp->fitted_at;
    x->seats_left = op->unlimited ? -1 : op->seats;
    x->observed_orders = op->observed, x->expected_orders = op->expected, x->occurrence_factor = op->factor;
    x->target_bias = pp->bias;
    if (!op->has_plan) {
        x->price = x->wanted = -1;
        return;
    }
    x->forecast_tickets = op->plan.expected_tickets;
    int64_t q = quantity < 1 ? 1 : quantity > INT32_MAX ? INT32_MAX : quantity;
    int32_t seats = live_seats == PLANNED_SEATS ? op->seats
                    : live_seats < 0 || live_seats > INT32_MAX ? INT32_MAX
                                                               : (int32_t)live_seats;
    x->wanted = price_plan_lookup(&op->plan, now, seats, (int32_t)q);
    if (x->wanted < 0) {
        x->price = -1;
        return;
    }
    x->price = price_rate_limit(s, op->shown, op->shown ? now - op->shown_at : 0, x->wanted);
    x->rate_limited = x->price != x->wanted;
    /* the limit runs from the last change: an unchanged price leaves shown_at */
    if (x->price != op->shown) op->shown = x->price, op->shown_at = now;
    bounds_hit(x, s);
}

bool pricing_dynamic_price(engine *e, const account *a, const cat_product *p, const slot *at, int64_t quantity,
                           pricing_current *out)
{
    return pricing_dynamic_prices(e, a, p, &at, 1, quantity, out);
}

bool pricing_dynamic_prices(engine *e, const account *a, const cat_product *p, const slot *const *at, size_t n,
                            int64_t quantity, pricing_current *out)
{
    struct pricing_cache *c = e->pricing;
    memset(out, 0, n * sizeof *out);
    if (!c) return false;
    pthread_mutex_lock(&c->lock);
    product_pricing *pp = fresh_entry_locked(e, a->id, p->id);
    bool dynamic = pp->dynamic;
    if (dynamic) {
        instant_us now = clock_now();
        money provisional = price_grid_nearest(&pp->settings, (double)pp->settings.gate_price);
        for (size_t i = 0; i < n; i++) {
            pricing_explain_info x = {0};
            current_locked(c, pp, at[i]->key, quantity, PLANNED_SEATS, now, &x);
            out[i] = (pricing_current){x.price,          pp->settings.gate_price, pp->settings.min_price,
                                       pp->settings.max_price, provisional,     x.planned};
        }
    }
    pthread_mutex_unlock(&c->lock);
    return dynamic;
}

bo_status pricing_explain(engine *e, const account *a, const char *product_id, civil_date day, int32_t start_time,
                          pricing_explain_info *out, bo_error *err)
{
    memset(out, 0, sizeof *out);
    if (!product_exists(e, a, product_id, err)) return err->status;
    bo_status st = occurrence_resolve(e, a, product_id, NULL, day, start_time, NULL, &out->at, err);
    if (st != BO_OK) return st;
    refresh_settings(e, a->id, product_id);
    struct pricing_cache *c = e->pricing;
    pthread_mutex_lock(&c->lock);
    product_pricing *pp = entry_locked(c, a->id, product_id);
    out->dynamic = pp->dynamic;
    out->price = out->wanted = -1; /* dynamic pricing off: the engine sets no price (the tables do) */
    if (pp->dynamic) current_locked(c, pp, out->at.key, 1, PLANNED_SEATS, clock_now(), out);
    pthread_mutex_unlock(&c->lock);
    return BO_OK;
}

bool pricing_account_dynamic(engine *e, const account *a)
{
    struct pricing_cache *c = e->pricing;
    if (!c) return false;
    pthread_mutex_lock(&c->lock);
    bool any = g_hash_table_contains(c->dynamic_accounts, a->id);
    pthread_mutex_unlock(&c->lock);
    return any;
}

bool pricing_product_dynamic(engine *e, const account *a, const char *product_id)
{
    struct pricing_cache *c = e->pricing;
    if (!c || !product_id) return false;
    pthread_mutex_lock(&c->lock);
    bool dynamic = fresh_entry_locked(e, a->id, product_id)->dynamic;
    pthread_mutex_unlock(&c->lock);
    return dynamic;
}

static gboolean visitor_expired(gpointer key, gpointer value, gpointer now)
{
    (void)key;
    return ((visitor_quote *)value)->expires <= *(instant_us *)now;
}

/* Under the visitor lock: drops every expired quote, and books left empty. */
static gboolean visitor_book_sweep(gpointer key, gpointer value, gpointer ctx)
{
    (void)key;
    visitor_book *book = value;
    struct pricing_cache *c = ((void **)ctx)[0];
    c->nquotes -= g_hash_table_foreach_remove(book->quotes, visitor_expired, ((void **)ctx)[1]);
    return g_hash_table_size(book->quotes) == 0;
}

money pricing_visitor_hold(engine *e, const account *a, const char *visitor, const char *product_id,
                           const char *occurrence, int64_t quantity, money current, int64_t ttl_seconds)
{
    pricing_visitor_cell cell = {product_id, occurrence, quantity, current};
    pricing_visitor_hold_cells(e, a, visitor, &cell, 1, ttl_seconds);
    return cell.price;
}

void pricing_visitor_hold_cells(engine *e, const account *a, const char *visitor, pricing_visitor_cell *cells,
                                size_t n, int64_t ttl_seconds)
{
    struct pricing_cache *c = e->pricing;
    if (!c || !visitor || !*visitor || !n) return;
    char stack_key[256];
    char *key = product_key(a->id, visitor, stack_key, sizeof stack_key)
                    ? stack_key
                    : g_strdup_printf("%s\x1f%s", a->id, visitor);
    instant_us now = clock_now();
    pthread_mutex_lock(&c->visitor_lock);
    visitor_book *book = g_hash_table_lookup(c->visitors, key);
    for (size_t i = 0; i < n; i++) {
        pricing_visitor_cell *cell = &cells[i];
        if (cell->price < 0) continue; /* nothing sellable stays null */
        visitor_quote probe = {cell->product_id, cell->occurrence, cell->quantity, 0, 0};
        visitor_quote *held = book ? g_hash_table_lookup(book->quotes, &probe) : NULL;
        if (held && held->expires > now && held->price <= cell->price) {
            cell->price = held->price; /* quoted this or lower within the quote's life: kept, its life unchanged */
            continue;
        }
        if (c->nquotes >= VISITOR_HOLDS_MAX &&
            (now < c->visitors_swept_at || now - c->visitors_swept_at >= VISITOR_SWEEP_SPACING_US)) {
            void *ctx[] = {c, &now};
            g_hash_table_foreach_remove(c->visitors, visitor_book_sweep, ctx);
            c->visitors_swept_at = now;
            book = g_hash_table_lookup(c->visitors, key); /* the sweep may have dropped it */
            held = book ? g_hash_table_lookup(book->quotes, &probe) : NULL;
        }
        if (held) { /* lower now, or expired but not swept yet: a new quote */
            held->price = cell->price;
            held->expires = now + ttl_seconds * US_PER_SEC;
            continue;
        }
        if (c->nquotes >= VISITOR_HOLDS_MAX) continue; /* full of live quotes: this visitor sees the current price */
        if (!book) {
            book = calloc(1, sizeof *book);
            book->quotes = g_hash_table_new_full(visitor_quote_hash, visitor_quote_equal, free, NULL);
            g_hash_table_insert(c->visitors, g_strdup(key), book);
        }
        size_t plen = strlen(cell->product_id) + 1, olen = strlen(cell->occurrence) + 1;
        visitor_quote *q = malloc(sizeof *q + plen + olen);
        char *strings = (char *)(q + 1);
        memcpy(strings, cell->product_id, plen);
        memcpy(strings + plen, cell->occurrence, olen);
        *q = (visitor_quote){strings, strings + plen, cell->quantity, cell->price, now + ttl_seconds * US_PER_SEC};
        g_hash_table_add(book->quotes, q);
        c->nquotes++;
    }
    pthread_mutex_unlock(&c->visitor_lock);
    if (key != stack_key) g_free(key);
}

price_quote engine_price_at(engine *e, const account *a, const cat_product *p, const slot *at, int64_t quantity)
{
    price_quote q;
    engine_prices_at(e, a, p, &at, 1, quantity, &q);
    return q;
}

void engine_prices_at(engine *e, const account *a, const cat_product *p, const slot *const *at, size_t n,
                      int64_t quantity, price_quote *out)
{
    for (size_t i = 0; i < n; i++) out[i] = product_price_at(p, at[i]);
    pricing_current stack_current[16];
    pricing_current *cur = n <= 16 ? stack_current : malloc(n * sizeof *cur);
    if (pricing_dynamic_prices(e, a, p, at, n, quantity, cur)) {
        for (size_t i = 0; i < n; i++) {
            price_quote *q = &out[i];
            q->dynamic = true;
            q->gate_price = cur[i].gate;
            q->min_price = cur[i].min_price;
            q->max_price = cur[i].max_price;
            q->unsellable = cur[i].unit < 0;
            /* the plan may lag a released hold: the holds decide whether seats are
             * left, and an unsellable plan prices at the gate on the grid */
            q->unit_price = cur[i].unit >= 0 ? cur[i].unit : cur[i].provisional;
        }
    }
    if (cur != stack_current) free(cur);
}
