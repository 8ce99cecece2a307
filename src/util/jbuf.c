#include "util/jbuf.h"
#include "util/money.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jb_init(jbuf *b, size_t cap)
{
    *b = (jbuf){0};
    b->cap = cap ? cap : 256;
    b->p = malloc(b->cap);
    if (!b->p) b->failed = true;
}

void jb_free(jbuf *b)
{
    free(b->p);
    *b = (jbuf){0};
}

void jb_reset(jbuf *b)
{
    if (!b->p) return jb_init(b, 0);
    b->len = 0, b->comma = b->failed = false;
}

static bool reserve(jbuf *b, size_t n)
{
    if (b->failed) return false;
    if (b->len + n + 1 <= b->cap) return true;
    size_t cap = b->cap * 2;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void put(jbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void putc_(jbuf *b, char c)
{
    if (!reserve(b, 1)) return;
    b->p[b->len++] = c;
}

char *jb_take(jbuf *b, size_t *len)
{
    if (b->failed) {
        jb_free(b);
        return NULL;
    }
    b->p[b->len] = 0;
    char *p = b->p;
    if (len) *len = b->len;
    *b = (jbuf){0};
    return p;
}

static void sep(jbuf *b)
{
    if (b->comma) putc_(b, ',');
}

void jb_obj(jbuf *b)
{
    sep(b);
    putc_(b, '{');
    b->comma = false;
}

void jb_obj_end(jbuf *b)
{
    putc_(b, '}');
    b->comma = true;
}

void jb_newline(jbuf *b)
{
    putc_(b, '\n');
    b->comma = false;
}

void jb_arr(jbuf *b)
{
    sep(b);
    putc_(b, '[');
    b->comma = false;
}

void jb_arr_end(jbuf *b)
{
    putc_(b, ']');
    b->comma = true;
}

/* Length of the UTF-8 sequence at s if valid (jansson's rules: no overlongs,
 * no surrogates, nothing above U+10FFFF), else 0. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80) return 1;
    if (c < 0xc2 || c > 0xf4) return 0;
    if (c < 0xe0) n = 2, cp = c & 0x1f;
    else if (c < 0xf0) n = 3, cp = c & 0x0f;
    else n = 4, cp = c & 0x07;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Bytes that a JSON string cannot hold as they are ('"', '\\', controls) or
 * that start a UTF-8 sequence to check: 1 in the table. */
static const unsigned char special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Writes "s" escaped as jansson does; false (and nothing kept) if s is not UTF-8. */
static bool put_string(jbuf *b, const char *s)
{
    /* the common case, keys and ids: plain ASCII copied in one piece */
    const unsigned char *q = (const unsigned char *)s;
    while (!special[*q]) q++;
    if (!*q) {
        size_t n = (size_t)(q - (const unsigned char *)s);
        if (!reserve(b, n + 2)) return true; /* failed: jb_take reports it */
        b->p[b->len] = '"';
        memcpy(b->p + b->len + 1, s, n);
        b->p[b->len + 1 + n] = '"';
        b->len += n + 2;
        return true;
    }
    size_t mark = b->len;
    putc_(b, '"');
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        if (*p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) {
            p++;
            continue;
        }
        if (*p >= 0x80) {
            size_t n = utf8_seq(p);
            if (!n) {
                b->len = mark;
                return false;
            }
            p += n;
            continue;
        }
        put(b, (const char *)run, (size_t)(p - run));
        char esc[8];
        const char *e = esc;
        switch (*p) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default: snprintf(esc, sizeof esc, "\\u%04X", *p); break;
        }
        put(b, e, strlen(e));
        run = ++p;
    }
    put(b, (const char *)run, (size_t)(p - run));
    putc_(b, '"');
    return true;
}

void jb_key(jbuf *b, const char *key)
{
    sep(b);
    put_string(b, key);
    putc_(b, ':');
    b->comma = false;
}

void jb_key_quoted(jbuf *b, const char *quoted, size_t n)
{
    sep(b);
    put(b, quoted, n);
    b->comma = false;
}

void jb_str(jbuf *b, const char *s)
{
    if (!s) return jb_null(b);
    sep(b);
    if (!put_string(b, s)) put(b, "null", 4);
    b->comma = true;
}

/* Two digits at a time from a table: a reply of thousands of numbers spent
 * more in snprintf's format parsing than in the digits. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* The decimal digits of v, right-aligned to end (no NUL); returns where they start. */
static char *digits_before(char *end, uint64_t v)
{
    while (v >= 100) {
        unsigned pair = (unsigned)(v % 100) * 2;
        v /= 100;
        *--end = digit_pairs[pair + 1];
        *--end = digit_pairs[pair];
    }
    if (v >= 10) {
        *--end = digit_pairs[v * 2 + 1];
        *--end = digit_pairs[v * 2];
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

/* |v| without overflow for INT64_MIN. */
static uint64_t magnitude(int64_t v) { return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v; }

size_t jb_format_int(int64_t v, char out[JB_INT_MAX])
{
    char tmp[JB_INT_MAX];
    char *end = tmp + sizeof tmp, *p = digits_before(end, magnitude(v));
    if (v < 0) *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    out[n] = 0;
    return n;
}

size_t jb_format_money(int64_t amount, int decimals, char out[JB_MONEY_MAX])
{
    if (decimals < 0 || decimals > 6) decimals = 2; /* as money_format */
    uint64_t abs = magnitude(amount), scale = (uint64_t)money_unit(decimals);
    char tmp[JB_MONEY_MAX];
    char *end = tmp + sizeof tmp, *p = end;
    if (decimals) {
        uint64_t frac = abs % scale;
        for (int i = 0; i < decimals; i++, frac /= 10) *--p = (char)('0' + frac % 10);
        *--p = '.';
    }
    p = digits_before(p, abs / scale);
    if (amount < 0) *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    out[n] = 0;
    return n;
}

void jb_int(jbuf *b, int64_t v)
{
    char num[JB_INT_MAX];
    size_t n = jb_format_int(v, num);
    sep(b);
    put(b, num, n);
    b->comma = true;
}

void jb_money(jbuf *b, int64_t amount, int decimals)
{
    char text[JB_MONEY_MAX];
    size_t n = jb_format_money(amount, decimals, text);
    sep(b);
    putc_(b, '"');
    put(b, text, n);
    putc_(b, '"');
    b->comma = true;
}

void jb_plain(jbuf *b, const char *s, size_t n)
{
    sep(b);
    putc_(b, '"');
    put(b, s, n);
    putc_(b, '"');
    b->comma = true;
}

void jb_bool(jbuf *b, bool v)
{
    sep(b);
    if (v) put(b, "true", 4);
    else put(b, "false", 5);
    b->comma = true;
}

void jb_null(jbuf *b)
{
    sep(b);
    put(b, "null", 4);
    b->comma = true;
}

void jb_raw(jbuf *b, const char *json)
{
    if (!json || !*json) return jb_null(b);
    sep(b);
    put(b, json, strlen(json));
    b->comma = true;
}

void jb_raw_n(jbuf *b, const char *json, size_t n)
{
    sep(b);
    put(b, json, n);
    b->comma = true;
}

static int dump_cb(const char *s, size_t n, void *data)
{
    jbuf *b = data;
    put(b, s, n);
    return b->failed ? -1 : 0;
}

void jb_json(jbuf *b, const json_t *v)
{
    if (!v) return jb_null(b);
    sep(b);
    if (json_dump_callback(v, dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY) != 0) b->failed = true;
    b->comma = true;
}

void jb_kstr(jbuf *b, const char *key, const char *s)
{
    if (!s) return jb_knull(b, key);
    size_t mark = b->len;
    bool comma = b->comma;
    jb_key(b, key);
    if (!put_string(b, s)) {
        b->len = mark;
        b->comma = comma;
        return;
    }
    b->comma = true;
}

void jb_kint(jbuf *b, const char *key, int64_t v)
{
    jb_key(b, key);
    jb_int(b, v);
}

void jb_kbool(jbuf *b, const char *key, bool v)
{
    jb_key(b, key);
    jb_bool(b, v);
}

void jb_knull(jbuf *b, const char *key)
{
    jb_key(b, key);
    jb_null(b);
}

void jb_kjson(jbuf *b, const char *key, const json_t *v)
{
    jb_key(b, key);
    jb_json(b, v);
}
