/* POST /convious-pricing/api/price/rtp: real-time prices per day x start time
 * for a visitor's cart (../shared/seeds/convious-pricing-api.txt, "Pricing
 * API"; docs/PRICING.md). Routed by the dialect's table (routes.c), whose auth
 * checks Accept-Version and the /convious OAuth bearer; errors in the partner
 * API's shape.
 *
 * A request is parsed whole into an rtp_request, each product resolved to a
 * priced subject (rtp_subject), then every cell priced. A subject is an
 * active inventory reference of the account (POST /events), else a Boxoffice
 * product, as analytics resolve product ids. */
#include "api/convious/convious.h"
#include "api/convious_pricing/rtp.h"
#include "core/inventory_refs.h"
#include "util/utf8.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTP_MAX_DAYS 92
#define RTP_MAX_PRODUCTS 50
#define RTP_MAX_TIMES 1440
#define RTP_MAX_CELLS 10000
#define RTP_QUOTE_TTL_SECONDS 900

typedef struct {
    const char *reference;
    int64_t items;
    /* what it prices: an inventory reference with its seats over the range ... */
    bool is_ref;
    inventory_ref_view ref;
    char pricing_id[INVENTORY_REF_MAX * 4 + 8];
    /* ... or a Boxoffice product, with its slots over the range */
    const cat_product *product;
    slot *slots;
    size_t nslots;
    size_t *day_first; /* day - from -> the first slot (or reference's seats row) of that day; days + 1 entries */
} rtp_subject;

typedef struct {
    const char *cookie, *ip, *timezone;
    civil_date from, to; /* inclusive */
    rtp_subject products[RTP_MAX_PRODUCTS];
    size_t nproducts;
    int32_t times[RTP_MAX_TIMES];
    size_t ntimes; /* 0: times null, one price per day */
} rtp_request;

/* A day: YYYY-MM-DD, or an ISO instant (the vendor's JS client sends
 * Date.toISOString()) read as its day in the request's time zone. */
static bool day_of(const char *text, const char *tz, civil_date *out)
{
    if (date_parse(text, out)) return true;
    instant_us t;
    if (strlen(text) <= 10 || !iso_parse(text, tz, &t)) return false;
    int32_t ignored;
    tz_instant_to_local(tz, t, out, &ignored);
    return true;
}

static bool time_strict(const char *text, int32_t *secs)
{
    return strlen(text) == 8 && text[2] == ':' && text[5] == ':' && time_of_day_parse(text, secs);
}

static bool ip_valid(const char *ip)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, ip, buf) == 1 || inet_pton(AF_INET6, ip, buf) == 1;
}

static bool parse_products(http_request *r, json_t *list, rtp_request *q)
{
    if (json_array_size(list) < 1) {
        cv_error(r, 400, "invalid_field", "products", "products must list 1 to %d products", RTP_MAX_PRODUCTS);
        return false;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "products[%zu].", i);
        rtp_subject *s = &q->products[i];
        const body_field fields[] = {
            {"productReference", BF_STRING, true, 1, 128, &s->reference, NULL},
            {"numberOfItems", BF_INT, true, 1, 1000, &s->items, NULL},
        };
        if (!json_is_object(item)) {
            cv_error(r, 400, "invalid_field", "products", "each product is an object");
            return false;
        }
        if (!CV_FIELDS(r, item, prefix, fields, NULL)) return false;
    }
    q->nproducts = json_array_size(list);
    return true;
}

static bool parse_times(http_request *r, json_t *list, rtp_request *q)
{
    if (!list) return true; /* null: one price per day */
    if (json_array_size(list) < 1) {
        cv_error(r, 400, "invalid_field", "times", "times must be null or a list of 1 to %d times", RTP_MAX_TIMES);
        return false;
    }
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t) {
        if (!json_is_string(t) || !time_strict(json_string_value(t), &q->times[i])) {
            char field[32];
            snprintf(field, sizeof field, "times[%zu]", i);
            cv_error(r, 400, "invalid_field", field, "times are HH:MM:SS");
            return false;
        }
    }
    q->ntimes = json_array_size(list);
    return true;
}

static bool parse_day(http_request *r, const char *text, const char *field, const char *tz, civil_date *out)
{
    if (day_of(text, tz, out)) return true;
    cv_error(r, 400, "invalid_field", field, "%s must be YYYY-MM-DD or an ISO 8601 instant", field);
    return false;
}

/* Fields the table does not know are ignored, as everywhere in this dialect
 * (a vendor's client sends more than it must). */
static bool parse_request(http_request *r, json_t *body, rtp_request *q)
{
    const char *from = NULL, *to = NULL;
    json_t *products = NULL, *times = NULL;
    const body_field fields[] = {
        {"cookieId", BF_STRING, true, 1, 256, &q->cookie, NULL},
        {"ip", BF_STRING, false, 1, 64, &q->ip, NULL},
        {"dateFrom", BF_STRING, true, 1, 40, &from, NULL},
        {"dateTo", BF_STRING, true, 1, 40, &to, NULL},
        {"timezone", BF_STRING, true, 1, 64, &q->timezone, NULL},
        {"products", BF_ARRAY, true, 0, RTP_MAX_PRODUCTS, &products, NULL},
        {"times", BF_ARRAY, false, 0, RTP_MAX_TIMES, &times, NULL},
    };
    if (!CV_FIELDS(r, body, "", fields, NULL)) return false;
    if (q->ip && !ip_valid(q->ip)) {
        cv_error(r, 400, "invalid_field", "ip", "ip must be an IPv4 or IPv6 address");
        return false;
    }
    if (!tz_valid(q->timezone)) {
        cv_error(r, 400, "invalid_field", "timezone", "timezone must be a tz database name, e.g. Europe/Amsterdam");
        return false;
    }
    if (!parse_day(r, from, "dateFrom", q->timezone, &q->from) || !parse_day(r, to, "dateTo", q->timezone, &q->to))
        return false;
    if (q->to < q->from) {
        cv_error(r, 400, "invalid_field", "dateTo", "dateTo must not be before dateFrom");
        return false;
    }
    if (q->to - q->from + 1 > RTP_MAX_DAYS) {
        cv_error(r, 400, "invalid_field", "dateTo", "at most %d days at once", RTP_MAX_DAYS);
        return false;
    }
    if (!parse_products(r, products, q) || !parse_times(r, times, q)) return false;
    int64_t cells = (int64_t)(q->to - q->from + 1) * (int64_t)(q->ntimes ? q->ntimes : 1) * (int64_t)q->nproducts;
    if (cells > RTP_MAX_CELLS) {
        cv_error(r, 400, "too_many_prices", "times",
                 "%lld prices (days x times x products) are more than %d at once; ask for fewer", (long long)cells,
                 RTP_MAX_CELLS);
        return false;
    }
    return true;
}

static int by_day(const void *x, const void *y)
{
    civil_date a = ((const slot *)x)->day, b = ((const slot *)y)->day;
    return (a > b) - (a < b);
}

/* What the reference prices; false after replying 400 for an unknown one. */
static bool rtp_subject_resolve(http_request *r, engine *e, const account *a, const catalog_model *m, rtp_request *q,
                                size_t i)
{
    rtp_subject *s = &q->products[i];
    if (inventory_ref_read(e, a, s->reference, q->from, q->to, &s->ref) != BO_OK) {
        cv_error(r, 500, "internal_error", NULL, "inventory unavailable");
        return false;
    }
    if (s->ref.presence == INVENTORY_REF_ACTIVE) {
        s->is_ref = true;
        inventory_ref_pricing_id(s->reference, s->pricing_id, sizeof s->pricing_id);
        /* its seats rows come by day: each cell reads its day's, not all of them */
        size_t days = (size_t)(q->to - q->from + 1), k = 0;
        s->day_first = http_alloc(r, (days + 1) * sizeof *s->day_first);
        for (size_t d = 0; d <= days; d++) {
            while (k < s->ref.nseats && s->ref.seats[k].day < q->from + (civil_date)d) k++;
            s->day_first[d] = k;
        }
        return true;
    }
    inventory_ref_view_free(&s->ref); /* removed or unknown: a product of that id, else unknown */
    s->product = model_product(m, s->reference);
    if (!s->product) {
        char field[48];
        snprintf(field, sizeof field, "products[%zu].productReference", i);
        cv_error(r, 400, "unknown_product", field, "no product %.*s", utf8_prefix(s->reference, 60), s->reference);
        return false;
    }
    bo_error err = {0};
    if (availability_product(e, a, s->product->id, NULL, q->from, q->to + 1, &s->slots, &s->nslots, &err) != BO_OK) {
        s->slots = NULL, s->nslots = 0; /* undated, or nothing in range: every cell null */
    }
    /* each cell then reads its own day's slots, not all of them (sorted: whatever order they came in) */
    if (s->nslots) qsort(s->slots, s->nslots, sizeof *s->slots, by_day);
    size_t days = (size_t)(q->to - q->from + 1), k = 0;
    s->day_first = http_alloc(r, (days + 1) * sizeof *s->day_first);
    for (size_t d = 0; d <= days; d++) {
        while (k < s->nslots && s->slots[k].day < q->from + (civil_date)d) k++;
        s->day_first[d] = k;
    }
    return true;
}

static bool sellable(const slot *s, int64_t items) { return s->open && (s->available < 0 || s->available >= items); }

/* The request's cells, priced in one pass per product before the reply is
 * written: a product's plans under one pricing lock, then every quote the
 * visitor is shown under one visitor lock (docs/PERFORMANCE.md, "Convious
 * pricing"). A cell is (day, time, product), index ((day - from) x times +
 * time) x products + product; its price is -1 when nothing can be sold. */
typedef struct {
    money *price;                 /* per cell */
    pricing_visitor_cell *quotes; /* what the visitor is shown, before the hold */
    size_t *quote_cell;           /* the cell each quote is a candidate for */
    char (*ref_keys)[24];         /* a reference's occurrence keys, borrowed by quotes */
    size_t nquotes, cap;
    bool failed; /* out of memory: the request answers 500 */
} rtp_cells;

/* Grows *p (n elements of size) to hold one more; false when out of memory. */
static bool grow(void **p, size_t size, size_t n, size_t *cap)
{
    if (n < *cap) return true;
    size_t more = *cap ? *cap * 2 : 256;
    void *grown = realloc(*p, more * size);
    if (!grown) return false;
    *p = grown;
    *cap = more;
    return true;
}

static void quote_add(rtp_cells *c, size_t cell, const char *product_id, const char *occurrence, int64_t items,
                      money unit)
{
    size_t cap = c->cap;
    if (!grow((void **)&c->quotes, sizeof *c->quotes, c->nquotes, &cap) ||
        !grow((void **)&c->quote_cell, sizeof *c->quote_cell, c->nquotes, &c->cap)) {
        c->failed = true;
        return;
    }
    c->quotes[c->nquotes] = (pricing_visitor_cell){product_id, occurrence, items, unit};
    c->quote_cell[c->nquotes++] = cell;
}

static size_t times_per_day(const rtp_request *q) { return q->ntimes ? q->ntimes : 1; }

static int32_t time_at(const rtp_request *q, size_t t) { return q->ntimes ? q->times[t] : -1; }

/* A reference's cells: its seats each day, then every cell's plan price at once. */
static void ref_cells(engine *e, const account *a, const rtp_request *q, size_t i, rtp_cells *c)
{
    const rtp_subject *s = &q->products[i];
    size_t per_day = times_per_day(q), n = (size_t)(q->to - q->from + 1) * per_day;
    inventory_ref_cell *cells = malloc(n * sizeof *cells);
    money *unit = malloc(n * sizeof *unit);
    if (!cells || !unit) {
        c->failed = true;
        return free(cells), free(unit);
    }
    for (civil_date day = q->from; day <= q->to; day++) {
        size_t d = (size_t)(day - q->from);
        const inventory_ref_view that_day = {.seats = s->ref.seats + s->day_first[d],
                                             .nseats = s->day_first[d + 1] - s->day_first[d],
                                             .unlimited = s->ref.unlimited,
                                             .availability = s->ref.availability};
        for (size_t t = 0; t < per_day; t++) {
            int32_t time = time_at(q, t), start = time >= 0 ? time : INVENTORY_WHOLE_DAY;
            cells[d * per_day + t] = (inventory_ref_cell){day, start, inventory_ref_seats_left(&that_day, day, start)};
        }
    }
    inventory_ref_prices(e, a, &s->ref, cells, n, s->items, unit, NULL);
    for (size_t k = 0; k < n; k++) {
        if (unit[k] < 0) continue;
        size_t cell = k * q->nproducts + i;
        inventory_ref_cell_key(cells[k].day, cells[k].start_time, c->ref_keys[cell]);
        quote_add(c, cell, s->pricing_id, c->ref_keys[cell], s->items, unit[k]);
    }
    free(cells), free(unit);
}

/* A product's cells: the slot starting at the cell's time that day (no
 * times: each sellable slot of the day, the cheapest shown), all priced at once. */
static void product_cells(engine *e, const account *a, const rtp_request *q, size_t i, rtp_cells *c)
{
    const rtp_subject *s = &q->products[i];
    size_t per_day = times_per_day(q), n = 0, cap = 0, cell_cap = 0, *cell_of = NULL;
    const slot **at = NULL;
    for (civil_date day = q->from; day <= q->to; day++) {
        size_t d = (size_t)(day - q->from);
        for (size_t t = 0; t < per_day; t++) {
            int32_t time = time_at(q, t);
            for (size_t k = s->day_first[d]; k < s->day_first[d + 1]; k++) {
                const slot *sl = &s->slots[k];
                if (sl->day != day || (time >= 0 && sl->time_from != time) || !sellable(sl, s->items)) continue;
                if (!grow((void **)&at, sizeof *at, n, &cap) ||
                    !grow((void **)&cell_of, sizeof *cell_of, n, &cell_cap)) {
                    c->failed = true;
                    return free(at), free(cell_of);
                }
                at[n] = sl, cell_of[n++] = (d * per_day + t) * q->nproducts + i;
            }
        }
    }
    price_quote *priced = n ? malloc(n * sizeof *priced) : NULL;
    if (n && !priced) c->failed = true;
    if (priced) engine_prices_at(e, a, s->product, at, n, s->items, priced);
    for (size_t k = 0; priced && k < n; k++)
        if (!priced[k].unsellable)
            quote_add(c, cell_of[k], s->product->id, at[k]->key, s->items, priced[k].unit_price);
    free(at), free(cell_of), free(priced);
}

/* Every cell's price as the visitor is shown it; false when out of memory. */
static bool price_cells(engine *e, const account *a, const rtp_request *q, size_t ncells, rtp_cells *c)
{
    c->price = malloc(ncells * sizeof *c->price);
    c->ref_keys = malloc(ncells * sizeof *c->ref_keys);
    if (!c->price || !c->ref_keys) return false;
    for (size_t k = 0; k < ncells; k++) c->price[k] = -1;
    for (size_t i = 0; i < q->nproducts; i++) {
        if (q->products[i].is_ref) ref_cells(e, a, q, i, c);
        else product_cells(e, a, q, i, c);
    }
    if (c->failed) return false;
    pricing_visitor_hold_cells(e, a, q->cookie, c->quotes, c->nquotes, RTP_QUOTE_TTL_SECONDS);
    for (size_t k = 0; k < c->nquotes; k++) {
        money unit = c->quotes[k].price, *best = &c->price[c->quote_cell[k]];
        if (unit >= 0 && (*best < 0 || unit < *best)) *best = unit;
    }
    return true;
}

static void cells_free(rtp_cells *c) { free(c->price), free(c->quotes), free(c->quote_cell), free(c->ref_keys); }

/* The reply, from the priced cells: each product's reference escaped once,
 * dates and times formatted once, keys copied as literals. */
static void write_prices(jbuf *b, const account *a, const rtp_request *q, const rtp_cells *c, const char **refs)
{
    size_t per_day = times_per_day(q), cell = 0;
    char(*times)[9] = malloc((q->ntimes + 1) * sizeof *times); /* up to 13 kB: not on a server thread's stack */
    if (!times) return (void)(b->failed = true);
    for (size_t t = 0; t < q->ntimes; t++) time_of_day_format(q->times[t], times[t]);
    JB_KEY(b, "prices");
    jb_arr(b);
    for (civil_date day = q->from; day <= q->to; day++) {
        char d[11];
        date_format(day, d);
        for (size_t t = 0; t < per_day; t++) {
            jb_obj(b);
            JB_KEY(b, "priceDate");
            jb_plain(b, d, 10);
            JB_KEY(b, "priceTime");
            if (q->ntimes) jb_plain(b, times[t], 8);
            else jb_null(b);
            JB_KEY(b, "products");
            jb_arr(b);
            for (size_t i = 0; i < q->nproducts; i++, cell++) {
                jb_obj(b);
                JB_KEY(b, "productReference");
                jb_raw(b, refs[i]);
                JB_KEY(b, "numberOfItems");
                jb_int(b, q->products[i].items);
                JB_KEY(b, "price");
                if (c->price[cell] >= 0) jb_money(b, c->price[cell], a->currency_decimals);
                else jb_null(b);
                jb_obj_end(b);
            }
            jb_arr_end(b);
            jb_obj_end(b);
        }
    }
    jb_arr_end(b);
    free(times);
}

void cvp_rtp(http_request *r, void *app_)
{
    json_t *body = cv_body(r);
    if (!body) return;
    rtp_request *q = http_alloc(r, sizeof *q);
    memset(q, 0, sizeof *q);
    if (!parse_request(r, body, q)) return;
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    catalog_view *catalog = catalog_view_open(e, a);
    const catalog_model *m = catalog ? catalog_view_model(catalog) : NULL;
    bool ok = m != NULL;
    if (!ok) cv_error(r, 500, "internal_error", NULL, "catalog unavailable");
    size_t resolved = 0;
    while (ok && resolved < q->nproducts) ok = rtp_subject_resolve(r, e, a, m, q, resolved++);
    size_t ncells = (size_t)(q->to - q->from + 1) * times_per_day(q) * q->nproducts;
    rtp_cells cells = {0};
    if (ok && !price_cells(e, a, q, ncells, &cells)) {
        cv_error(r, 500, "internal_error", NULL, "out of memory");
        ok = false;
    }
    if (ok) {
        const char *refs[RTP_MAX_PRODUCTS];
        for (size_t i = 0; i < q->nproducts; i++) {
            jbuf one;
            jb_init(&one, 64);
            jb_str(&one, q->products[i].reference);
            char *text = jb_take(&one, NULL);
            refs[i] = text ? http_strdup(r, text) : "null";
            free(text);
        }
        jbuf b;
        jb_init(&b, 256 + (size_t)(q->to - q->from + 1) * times_per_day(q) * (64 + q->nproducts * 96));
        jb_obj(&b);
        write_prices(&b, a, q, &cells, refs);
        jb_obj_end(&b);
        cv_reply_jbuf(r, &b);
    }
    cells_free(&cells);
    for (size_t i = 0; i < resolved; i++) free(q->products[i].slots), inventory_ref_view_free(&q->products[i].ref);
    catalog_view_close(catalog);
}
