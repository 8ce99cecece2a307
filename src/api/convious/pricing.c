/* Pricing: per day (the cheapest open timeslot) and per timeslot, with a
 * signed pricingToken per timeslot that a cart can later present. Prices come
 * from the engine: dynamic prices where a product has them on, else its price
 * rules. Colours run from 5 (cheapest, dark green) to 1 (dearest, red): where
 * the cart's price sits between its dynamic bounds (the sum of each line's
 * min and max), or, for a cart of static prices only, its rank within the
 * period; see docs/dialects/convious.md. */
#include "api/convious/convious.h"
#include <stdlib.h>
#include <string.h>

#define TOKEN_TTL_SECONDS 1800
/* Every slot is priced for every product of the cart: 100,000 quotes are 60
 * days of a 15-minute schedule open 12 hours for a 34-product cart, and about
 * a tenth of a second in a release build (docs/dialects/convious.md). */
#define MAX_PRICE_QUOTES 100000
static const char *const palette[] = {"", "#E53935", "#FB8C00", "#FDD835", "#00AC1E", "#00701A"};

bool cv_cart_lines(http_request *r, json_t *body, cart_line *lines, size_t max, size_t *n, const char **category);
bool cv_period_args(http_request *r, civil_date *from, civil_date *to);

typedef struct {
    slot s;
    money price, original;
    money lowest, highest; /* the cart's price at every dynamic line's min / max */
    bool dynamic;
    money unit[50];
} priced_slot;

static bool price_slots(http_request *r, void *app_, civil_date from, civil_date to, priced_slot **out, size_t *n,
                        cart_line *lines, size_t *nl, const char **category)
{
    json_t *body = cv_body(r);
    if (!body) return false;
    if (!cv_cart_lines(r, body, lines, 50, nl, category)) return false;
    engine *e = cv_engine(app_);
    const account *a = api_account(r);
    slot *slots;
    size_t ns;
    bo_error err = {0};
    if (availability_cart(e, a, *category, lines, *nl, from, to, &slots, &ns, &err) != BO_OK) {
        cv_fail(r, &err);
        return false;
    }
    if (ns * *nl > MAX_PRICE_QUOTES) {
        free(slots);
        cv_error(r, 400, "too_many_slots", "date_to",
                 "%zu timeslots for %zu products are more than %d prices at once; ask for fewer days", ns, *nl,
                 MAX_PRICE_QUOTES);
        return false;
    }
    priced_slot *ps = calloc(ns ? ns : 1, sizeof *ps);
    for (size_t i = 0; i < ns; i++) {
        ps[i].s = slots[i];
        for (size_t l = 0; l < *nl; l++) {
            price_quote q;
            if (price_for(e, a, lines[l].product_id, &slots[i], lines[l].quantity, &q, &err) != BO_OK) continue;
            ps[i].unit[l] = q.unit_price;
            ps[i].price += q.unit_price * lines[l].quantity;
            ps[i].original += q.gate_price * lines[l].quantity;
            ps[i].dynamic |= q.dynamic;
            ps[i].lowest += (q.dynamic ? q.min_price : q.unit_price) * lines[l].quantity;
            ps[i].highest += (q.dynamic ? q.max_price : q.unit_price) * lines[l].quantity;
        }
    }
    free(slots);
    *out = ps;
    *n = ns;
    return true;
}

/* Whether the reply may come from the reply cache: not when the cart has a
 * dynamic product (its price moves with time), nor when the body is one
 * price_slots will refuse anyway. */
static bool cacheable(http_request *r, void *app_)
{
    json_t *body = http_body_json(r, NULL), *products = json_object_get(body, "products"), *line;
    if (!json_is_array(products)) return false;
    size_t i;
    json_array_foreach(products, i, line) {
        json_t *id = json_object_get(line, "id");
        if (!json_is_string(id) || pricing_product_dynamic(cv_engine(app_), api_account(r), json_string_value(id)))
            return false;
    }
    return true;
}

static int colour(money price, money lo, money hi)
{
    if (hi <= lo) return 5;
    if (price <= lo) return 5;
    if (price >= hi) return 1;
    return 5 - (int)((price - lo) * 4 / (hi - lo));
}

/* The fields of one price, into an object the caller opened (and closes).
 * lo and hi rank a static cart's price within the period; a dynamic one is
 * placed between its own bounds. */
static void price_fields(jbuf *b, const account *a, const priced_slot *p, money lo, money hi)
{
    char day[11];
    date_format(p->s.day, day);
    int c = p->dynamic ? colour(p->price, p->lowest, p->highest) : colour(p->price, lo, hi);
    JB_KEY(b, "day");
    jb_plain(b, day, 10);
    JB_KEY(b, "available");
    jb_bool(b, p->s.open && p->s.available != 0);
    JB_KEY(b, "price");
    cv_jb_money(b, a, p->price);
    JB_KEY(b, "originalPrice");
    cv_jb_money(b, a, p->original);
    JB_KEY(b, "color");
    jb_int(b, c);
    JB_KEY(b, "colorCode");
    jb_plain(b, palette[c], strlen(palette[c]));
}

static void range_of(const priced_slot *ps, size_t n, money *lo, money *hi)
{
    *lo = *hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (!ps[i].s.open || ps[i].s.available == 0) continue;
        if (*lo < 0 || ps[i].price < *lo) *lo = ps[i].price;
        if (ps[i].price > *hi) *hi = ps[i].price;
    }
}

void cv_pricing_period(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    civil_date from, to;
    if (!cv_period_args(r, &from, &to)) return;
    if (cacheable(r, app_) && api_reply_cached(r, app_, from, to)) return;
    priced_slot *ps;
    size_t n, nl;
    cart_line lines[50];
    const char *category;
    if (!price_slots(r, app_, from, to, &ps, &n, lines, &nl, &category)) return;
    money lo, hi;
    range_of(ps, n, &lo, &hi);
    jbuf b;
    jb_init(&b, 64 + (size_t)(to - from) * 160);
    jb_obj(&b);
    jb_key(&b, "prices");
    jb_arr(&b);
    for (civil_date d = from; d < to; d++) {
        const priced_slot *best = NULL, *any = NULL;
        for (size_t i = 0; i < n; i++) {
            if (ps[i].s.day != d) continue;
            if (!any) any = &ps[i];
            if (ps[i].s.open && ps[i].s.available != 0 && (!best || ps[i].price < best->price)) best = &ps[i];
        }
        if (!best && !any) continue;
        jb_obj(&b);
        price_fields(&b, api_account(r), best ? best : any, lo, hi);
        jb_obj_end(&b);
    }
    jb_arr_end(&b);
    jb_obj_end(&b);
    free(ps);
    cv_reply_jbuf(r, &b);
}

void cv_pricing_day(http_request *r, void *app_)
{
    if (!cv_own_slug(r)) return;
    civil_date day;
    if (!cv_date_arg(r, http_path_param(r, "date"), "date", &day)) return;
    if (cacheable(r, app_) && api_reply_cached(r, app_, day, day + 1)) return;
    priced_slot *ps;
    size_t n, nl;
    cart_line lines[50];
    const char *category;
    if (!price_slots(r, app_, day, day + 1, &ps, &n, lines, &nl, &category)) return;
    money lo, hi;
    range_of(ps, n, &lo, &hi);
    const account *a = api_account(r);
    /* straight into the reply's buffer: a dense schedule's day is a thousand
     * priced slots, each with its token */
    jbuf b;
    jb_init(&b, 64 + n * (400 + nl * 40));
    jb_obj(&b);
    jb_key(&b, "prices");
    jb_arr(&b);
    tz_offset_memo offsets = TZ_OFFSET_MEMO_INIT;
    for (size_t i = 0; i < n; i++) {
        jb_obj(&b);
        price_fields(&b, a, &ps[i], lo, hi);
        cv_jb_slot_times(&b, a, &ps[i].s, &offsets);
        char *token = pricing_token_make(a, category, ps[i].s.key, lines, ps[i].unit, nl, TOKEN_TTL_SECONDS);
        jb_kstr(&b, "pricingToken", token);
        free(token);
        jb_obj_end(&b);
    }
    jb_arr_end(&b);
    jb_obj_end(&b);
    free(ps);
    cv_reply_jbuf(r, &b);
}
