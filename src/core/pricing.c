/* Prices: a product's price rules (by date range, weekday and time of day),
 * else its base price; and signed pricing tokens that pin quoted prices to
 * one cart at one occurrence until they expire. */
#include "core/internal.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool rule_matches(const cat_price_rule *rule, const slot *at)
{
    if (at->day >= 0) {
        if (rule->date_from >= 0 && at->day < rule->date_from) return false;
        if (rule->date_to >= 0 && at->day > rule->date_to) return false;
        if (!(rule->weekdays & (1u << date_weekday(at->day)))) return false;
    }
    if (at->time_from >= 0) {
        if (rule->time_from >= 0 && at->time_from < rule->time_from) return false;
        if (rule->time_to >= 0 && at->time_from >= rule->time_to) return false;
    }
    return true;
}

price_quote product_price_at(const cat_product *p, const slot *at)
{
    price_quote q = {.unit_price = p->price, .gate_price = p->gate_price, .includes_tax = p->price_includes_tax};
    for (size_t i = 0; i < p->nprices; i++)
        if (rule_matches(&p->prices[i], at)) {
            q.unit_price = p->prices[i].price;
            break;
        }
    return q;
}

bo_status price_for(engine *e, const account *a, const char *product_id, const slot *at, int64_t quantity,
                    price_quote *out, bo_error *err)
{
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return bo_fail(err, BO_INTERNAL, "internal_error", "", "catalog unavailable");
    const cat_product *p = model_product(cs->model, product_id);
    if (p) *out = engine_price_at(e, a, p, at, quantity);
    catalog_release(cs);
    if (!p) return bo_fail(err, BO_NOT_FOUND, "unknown_product", "product_id", "no product with id %s", product_id);
    return BO_OK;
}

/* ---- pricing tokens ----
 * The signed payload is text, not JSON: "pt2" SP account SP category SP
 * occurrence SP expiry SP lines (category empty when none; pt1, before
 * dynamic prices, had no category and is no longer accepted), each line "product~quantity~unit_price" and lines joined
 * by ",". Strings are percent-encoded (every byte outside [A-Za-z0-9._-]), so
 * the separators never occur inside a field. token_sign wraps the payload in
 * URL-safe base64 with its MAC; a new layout takes a new version tag. */
#define TOKEN_VERSION "pt2"
#define TOKEN_FIELDS 6

typedef struct {
    char *p;
    size_t len, cap;
} text_buf;

static void put_bytes(text_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void put_text(text_buf *b, const char *s) { put_bytes(b, s, strlen(s)); }

static void put_int(text_buf *b, int64_t v)
{
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)v);
    put_text(b, n);
}

static bool plain_byte(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
           ch == '-';
}

static void put_escaped(text_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char hex[4];
        if (plain_byte(*p)) put_bytes(b, (const char *)p, 1);
        else snprintf(hex, sizeof hex, "%%%02X", *p), put_bytes(b, hex, 3);
    }
}

char *pricing_token_make(const account *a, const char *category, const char *occurrence, const cart_line *lines,
                         const money *unit_prices, size_t n, int64_t ttl_seconds)
{
    text_buf b = {0};
    put_text(&b, TOKEN_VERSION " ");
    put_escaped(&b, a->id);
    put_text(&b, " ");
    put_escaped(&b, category ? category : "");
    put_text(&b, " ");
    put_escaped(&b, occurrence);
    put_text(&b, " ");
    put_int(&b, clock_now() / US_PER_SEC + ttl_seconds);
    put_text(&b, " ");
    for (size_t i = 0; i < n; i++) {
        if (i) put_text(&b, ",");
        put_escaped(&b, lines[i].product_id);
        put_text(&b, "~");
        put_int(&b, lines[i].quantity);
        put_text(&b, "~");
        put_int(&b, unit_prices[i]);
    }
    char *token = token_sign(b.p);
    free(b.p);
    return token;
}

/* Compares an escaped field [s, end) with the plain string want. */
static bool escaped_equals(const char *s, const char *end, const char *want)
{
    while (s < end) {
        unsigned int ch;
        if (*s == '%') {
            if (end - s < 3 || sscanf(s + 1, "%2x", &ch) != 1) return false;
            s += 3;
        } else {
            ch = (unsigned char)*s++;
        }
        if ((unsigned char)*want++ != ch || !ch) return false;
    }
    return !*want;
}

/* An integer filling [s, end) exactly. */
static bool int_field(const char *s, const char *end, int64_t *out)
{
    if (s == end || end - s > 19) return false;
    int64_t v = 0;
    bool neg = *s == '-';
    for (const char *p = s + neg; p < end; p++) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return end > s + neg;
}

typedef struct {
    const char *product, *product_end;
    int64_t quantity, unit_price;
} token_line;

typedef struct {
    const char *acct, *acct_end, *category, *category_end, *occ, *occ_end;
    int64_t expiry;
} token_head;

/* Splits the payload into its fields; false when it is not a pt2 payload. */
static bool token_parse(const char *text, token_head *h, token_line **lines, size_t *nlines)
{
    enum { LINES = TOKEN_FIELDS - 1 };
    const char *f[TOKEN_FIELDS], *e[TOKEN_FIELDS];
    const char *p = text;
    for (int i = 0; i < TOKEN_FIELDS; i++) {
        f[i] = p;
        const char *sp = i < LINES ? strchr(p, ' ') : p + strlen(p);
        if (!sp) return false;
        e[i] = sp;
        p = sp + 1;
    }
    if (e[0] - f[0] != 3 || strncmp(f[0], TOKEN_VERSION, 3) || !int_field(f[4], e[4], &h->expiry)) return false;
    h->acct = f[1], h->acct_end = e[1], h->category = f[2], h->category_end = e[2], h->occ = f[3], h->occ_end = e[3];
    size_t n = f[LINES] == e[LINES] ? 0 : 1;
    for (const char *q = f[LINES]; q < e[LINES]; q++) n += *q == ',';
    token_line *l = calloc(n ? n : 1, sizeof *l);
    const char *q = f[LINES];
    for (size_t i = 0; i < n; i++) {
        const char *line_end = memchr(q, ',', (size_t)(e[LINES] - q));
        if (!line_end) line_end = e[LINES];
        const char *t1 = memchr(q, '~', (size_t)(line_end - q));
        const char *t2 = t1 ? memchr(t1 + 1, '~', (size_t)(line_end - t1 - 1)) : NULL;
        if (!t2 || !int_field(t1 + 1, t2, &l[i].quantity) || !int_field(t2 + 1, line_end, &l[i].unit_price)) {
            free(l);
            return false;
        }
        l[i].product = q, l[i].product_end = t1;
        q = line_end + 1;
    }
    *lines = l;
    *nlines = n;
    return true;
}

bo_status pricing_token_check(const account *a, const char *token, const char *category, const char *occurrence,
                              const cart_line *lines, size_t n, money *unit_prices, bo_error *err)
{
    char *text = token_verify(token);
    token_head h;
    token_line *l = NULL;
    size_t nl = 0;
    bool parsed = text && token_parse(text, &h, &l, &nl);
    bo_status st = BO_OK;
    if (!parsed || !escaped_equals(h.acct, h.acct_end, a->id)) {
        st = bo_fail(err, BO_INVALID, "invalid_pricing_token", "pricing_token", "pricing token is not valid");
    } else if (h.expiry < clock_now() / US_PER_SEC) {
        st = bo_fail(err, BO_INVALID, "pricing_token_expired", "pricing_token", "pricing token has expired");
    } else if (!escaped_equals(h.category, h.category_end, category ? category : "")) {
        st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricing_token",
                     "pricing token was issued for another category");
    } else if (!escaped_equals(h.occ, h.occ_end, occurrence)) {
        st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricing_token",
                     "pricing token was issued for another date or time");
    } else if (nl != n) {
        st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricing_token",
                     "cart contents differ from the pricing token's");
    } else {
        for (size_t i = 0; i < n && st == BO_OK; i++) {
            bool found = false;
            for (size_t j = 0; j < nl && !found; j++)
                if (l[j].quantity == lines[i].quantity &&
                    escaped_equals(l[j].product, l[j].product_end, lines[i].product_id)) {
                    unit_prices[i] = l[j].unit_price;
                    found = true;
                }
            if (!found)
                st = bo_fail(err, BO_INVALID, "pricing_token_mismatch", "pricing_token",
                             "cart contents differ from the pricing token's");
        }
    }
    free(l);
    free(text);
    return st;
}
