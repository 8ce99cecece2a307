#include "util/jsonw.h"
#include <stdlib.h>
#include <string.h>

static void reserve(jsonw *w, size_t more)
{
    if (w->len + more + 1 <= w->cap) return;
    while (w->len + more + 1 > w->cap) w->cap *= 2;
    w->buf = realloc(w->buf, w->cap);
}

static void put(jsonw *w, const char *s, size_t n)
{
    reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void putc_(jsonw *w, char c)
{
    reserve(w, 1);
    w->buf[w->len++] = c;
}

/* A comma before every value but the first of its container, unless it follows its key. */
static void separate(jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth - 1]) putc_(w, ',');
        w->first[w->depth - 1] = false;
    }
}

void jw_init(jsonw *w, size_t initial_cap)
{
    memset(w, 0, sizeof *w);
    w->cap = initial_cap < 16 ? 16 : initial_cap;
    w->buf = malloc(w->cap);
}

char *jw_finish(jsonw *w)
{
    w->buf[w->len] = 0;
    char *out = w->buf;
    w->buf = NULL;
    return out;
}

void jw_free(jsonw *w)
{
    free(w->buf);
    w->buf = NULL;
}

static void open_(jsonw *w, char c)
{
    separate(w);
    putc_(w, c);
    if (w->depth < JSONW_MAX_DEPTH) w->first[w->depth] = true;
    w->depth++;
}

static void close_(jsonw *w, char c)
{
    w->depth--;
    putc_(w, c);
}

void jw_object(jsonw *w) { open_(w, '{'); }
void jw_object_end(jsonw *w) { close_(w, '}'); }
void jw_array(jsonw *w) { open_(w, '['); }
void jw_array_end(jsonw *w) { close_(w, ']'); }

static void quoted(jsonw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    putc_(w, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != '"' && *p != '\\') p++;
        put(w, (const char *)run, (size_t)(p - run));
        if (!*p) break;
        char esc[6] = {'\\', 0};
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            put(w, "\\u00", 4);
            putc_(w, hex[*p >> 4]);
            putc_(w, hex[*p & 15]);
            continue;
        }
        put(w, esc, 2);
    }
    putc_(w, '"');
}

void jw_key(jsonw *w, const char *key)
{
    separate(w);
    quoted(w, key);
    putc_(w, ':');
    w->after_key = true;
}

void jw_string(jsonw *w, const char *s)
{
    if (!s) return jw_null(w);
    separate(w);
    quoted(w, s);
}

void jw_int(jsonw *w, int64_t v)
{
    separate(w);
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) *--p = '-';
    put(w, p, (size_t)(tmp + sizeof tmp - p));
}

void jw_bool(jsonw *w, bool v)
{
    separate(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jsonw *w)
{
    separate(w);
    put(w, "null", 4);
}

void jw_raw(jsonw *w, const char *json)
{
    if (!json || !*json) return jw_null(w);
    separate(w);
    put(w, json, strlen(json));
}
