/* JSON text exactly as JavaScript's JSON.stringify writes the same value:
 * receivers of Fourvenues webhooks often check the signature against
 * JSON.stringify(JSON.parse(body)) (the vendor's docs suggest it), so the body
 * signed must be what that gives back. Compact, keys in insertion order
 * (jansson keeps it), UTF-8 unescaped, control characters as lower-case
 * \u00xx, numbers in ECMAScript's Number::toString form. */
#include "api/fourvenues/fourvenues.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text being written; on running out of memory it stops growing and says so. */
typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} text_out;

static void put(text_out *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->p = grown, b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void put_string(text_out *b, const char *s, size_t n)
{
    put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        put(b, s + run, i - run);
        char esc[8];
        switch (ch) {
        case '"': strcpy(esc, "\\\""); break;
        case '\\': strcpy(esc, "\\\\"); break;
        case '\b': strcpy(esc, "\\b"); break;
        case '\f': strcpy(esc, "\\f"); break;
        case '\n': strcpy(esc, "\\n"); break;
        case '\r': strcpy(esc, "\\r"); break;
        case '\t': strcpy(esc, "\\t"); break;
        default: snprintf(esc, sizeof esc, "\\u%04x", ch); break;
        }
        put(b, esc, strlen(esc));
        run = i + 1;
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

void fv_js_number(double v, char out[40])
{
    if (!isfinite(v)) {
        strcpy(out, "null");
        return;
    }
    if (v == 0) {
        strcpy(out, "0");
        return;
    }
    /* the fewest significant digits that read back as v, as ECMAScript picks them */
    char sci[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(sci, sizeof sci, "%.*e", p - 1, v);
        if (strtod(sci, NULL) == v) break;
    }
    char digits[20];
    size_t k = 0;
    const char *q = sci + (sci[0] == '-');
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && k < sizeof digits - 1) digits[k++] = *q;
    while (k > 1 && digits[k - 1] == '0') k--;
    digits[k] = 0;
    int n = atoi(q + 1) + 1; /* the decimal point sits after n digits */
    char *o = out;
    if (v < 0) *o++ = '-';
    if ((int)k <= n && n <= 21) { /* an integer: the digits, then zeros */
        memcpy(o, digits, k), o += k;
        for (int i = (int)k; i < n; i++) *o++ = '0';
        *o = 0;
    } else if (0 < n && n <= 21) {
        memcpy(o, digits, (size_t)n), o += n;
        *o++ = '.';
        strcpy(o, digits + n);
    } else if (-6 < n && n <= 0) {
        *o++ = '0', *o++ = '.';
        for (int i = 0; i < -n; i++) *o++ = '0';
        strcpy(o, digits);
    } else {
        *o++ = digits[0];
        if (k > 1) *o++ = '.', memcpy(o, digits + 1, k - 1), o += k - 1;
        sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
}

static void put_value(text_out *b, const json_t *v)
{
    char num[40];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        put(b, "{", 1);
        const char *key;
        json_t *x;
        bool first = true;
        json_object_foreach((json_t *)v, key, x)
        {
            if (!first) put(b, ",", 1);
            first = false;
            put_string(b, key, strlen(key));
            put(b, ":", 1);
            put_value(b, x);
        }
        put(b, "}", 1);
        return;
    }
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) put(b, ",", 1);
            put_value(b, json_array_get(v, i));
        }
        put(b, "]", 1);
        return;
    case JSON_STRING: return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        return put(b, num, strlen(num));
    case JSON_REAL: fv_js_number(json_real_value(v), num); return put(b, num, strlen(num));
    case JSON_TRUE: return put(b, "true", 4);
    case JSON_FALSE: return put(b, "false", 5);
    default: return put(b, "null", 4);
    }
}

void fv_jb_str(jbuf *b, const char *s)
{
    if (!s) return jb_null(b);
    const unsigned char *p = (const unsigned char *)s;
    while (*p >= 0x20) p++;
    /* without control characters jbuf's escapes are JavaScript's (and the
     * text, which a parser or the catalog gave, is UTF-8) */
    if (!*p) return jb_str(b, s);
    text_out escaped = {0};
    put_string(&escaped, s, strlen(s));
    if (escaped.failed) b->failed = true;
    else jb_raw_n(b, escaped.p, escaped.len);
    free(escaped.p);
}

char *fv_stringify(const json_t *v, size_t *len)
{
    text_out b = {0};
    put_value(&b, v);
    if (b.failed || !b.p) {
        free(b.p);
        return NULL;
    }
    if (len) *len = b.len;
    return b.p;
}
