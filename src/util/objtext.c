/* Scanning JSON object text: a member is a key span and a value span of the
 * text itself, so nothing is parsed into values (util/objtext.h). */
#include "util/objtext.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key, *value; /* key includes its quotes */
    size_t key_len, value_len;
} member;

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* p at the opening quote: just past the closing one. */
static const char *skip_string(const char *p)
{
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1]) p++;
    return *p ? p + 1 : p;
}

static const char *skip_value(const char *p)
{
    if (*p == '"') return skip_string(p);
    if (*p != '{' && *p != '[') {
        while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
        return p;
    }
    int depth = 0;
    do {
        if (*p == '"') {
            p = skip_string(p);
            continue;
        }
        if (*p == '{' || *p == '[') depth++;
        else if (*p == '}' || *p == ']') depth--;
        p++;
    } while (*p && depth > 0);
    return p;
}

/* The next member after *p (inside the object); false at its end. */
static bool next_member(const char **p, member *m)
{
    const char *s = skip_ws(*p);
    if (*s == ',') s = skip_ws(s + 1);
    if (*s != '"') return false;
    m->key = s;
    s = skip_string(s);
    m->key_len = (size_t)(s - m->key);
    s = skip_ws(s);
    if (*s != ':') return false;
    s = skip_ws(s + 1);
    m->value = s;
    s = skip_value(s);
    m->value_len = (size_t)(s - m->value);
    *p = s;
    return m->value_len > 0;
}

/* Just inside the object's brace, or NULL when the text is no object. */
static const char *members_start(const char *obj)
{
    if (!obj) return NULL;
    const char *p = skip_ws(obj);
    return *p == '{' ? p + 1 : NULL;
}

static bool find_member(const char *obj, const char *key, size_t key_len, member *out)
{
    const char *p = members_start(obj);
    member m;
    while (p && next_member(&p, &m))
        if (m.key_len == key_len && !memcmp(m.key, key, key_len)) return *out = m, true;
    return false;
}

typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->failed) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *grown = realloc(t->p, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->p = grown, t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

static void put_member(text *t, bool *first, const char *key, size_t key_len, const char *value, size_t value_len)
{
    if (!*first) put(t, ",", 1);
    *first = false;
    put(t, key, key_len);
    put(t, ":", 1);
    put(t, value, value_len);
}

/* Up to MERGE_INDEX members of each side are scanned once into a list, so
 * a merge compares keys instead of rescanning the other text (skipping its
 * nested values) for every member: a ticket's document merged with a sales
 * channel's terms did that on the booking's write path. */
#define MERGE_INDEX 48

typedef struct {
    member m[MERGE_INDEX];
    size_t n;
} member_list;

/* false when obj has more members than the list holds */
static bool members_listed(const char *obj, member_list *out)
{
    out->n = 0;
    const char *p = members_start(obj);
    member m;
    while (p && next_member(&p, &m)) {
        if (out->n == MERGE_INDEX) return false;
        out->m[out->n++] = m;
    }
    return true;
}

static const member *listed(const member_list *l, const member *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->m[i].key_len == key->key_len && !memcmp(l->m[i].key, key->key, key->key_len)) return &l->m[i];
    return NULL;
}

char *objtext_merge(const char *base, const char *over)
{
    text t = {0};
    bool first = true;
    put(&t, "{", 1);
    member_list lists[2]; /* ~3 KiB */
    if (members_listed(base, &lists[0]) && members_listed(over, &lists[1])) {
        for (size_t i = 0; i < lists[0].n; i++) {
            const member *m = &lists[0].m[i], *o = listed(&lists[1], m);
            put_member(&t, &first, m->key, m->key_len, (o ? o : m)->value, (o ? o : m)->value_len);
        }
        for (size_t i = 0; i < lists[1].n; i++) {
            const member *o = &lists[1].m[i];
            if (!listed(&lists[0], o)) put_member(&t, &first, o->key, o->key_len, o->value, o->value_len);
        }
    } else {
        const char *p = members_start(base);
        member m, o;
        while (p && next_member(&p, &m)) {
            if (find_member(over, m.key, m.key_len, &o)) put_member(&t, &first, m.key, m.key_len, o.value, o.value_len);
            else put_member(&t, &first, m.key, m.key_len, m.value, m.value_len);
        }
        p = members_start(over);
        while (p && next_member(&p, &o))
            if (!find_member(base, o.key, o.key_len, &m)) put_member(&t, &first, o.key, o.key_len, o.value, o.value_len);
    }
    put(&t, "}", 1);
    if (t.failed) {
        free(t.p);
        return NULL;
    }
    return t.p;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
               o[2] = (char)(0x80 | (cp & 0x3f)), 3;
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The member named key (a plain key: no character JSON escapes). */
static bool find_named(const char *obj, const char *key, member *m)
{
    size_t klen = strlen(key);
    char *quoted = malloc(klen + 3);
    if (!quoted) return false;
    quoted[0] = '"';
    memcpy(quoted + 1, key, klen);
    quoted[klen + 1] = '"';
    quoted[klen + 2] = 0;
    bool found = find_member(obj, quoted, klen + 2, m);
    free(quoted);
    return found;
}

char *objtext_member(const char *obj, const char *key)
{
    member m;
    if (!find_named(obj, key, &m)) return NULL;
    char *out = malloc(m.value_len + 1);
    if (!out) return NULL;
    memcpy(out, m.value, m.value_len);
    out[m.value_len] = 0;
    return out;
}

/* A member's string value, unescaped (malloc'd); NULL when not a string or holding a NUL. */
static char *string_value(const member *mp)
{
    member m = *mp;
    if (*m.value != '"' || m.value_len < 2) return NULL;
    /* an escape never grows: \uXXXX (6 bytes) is at most 4 in UTF-8, a pair (12) 4 */
    char *out = malloc(m.value_len), *o = out;
    if (!out) return NULL;
    const char *s = m.value + 1, *end = m.value + m.value_len - 1;
    while (s < end) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        char c = s[1];
        s += 2;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            int hi = end - s >= 4 ? hex4(s) : -1;
            if (hi <= 0) goto bad; /* malformed, or a NUL the C string cannot hold */
            s += 4;
            uint32_t cp = (uint32_t)hi;
            if (hi >= 0xd800 && hi < 0xdc00 && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                int lo = hex4(s + 2);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                    s += 6;
                }
            }
            o += put_utf8(o, cp);
            break;
        }
        default: *o++ = c; /* \" \\ \/ */
        }
    }
    *o = 0;
    return out;
bad:
    free(out);
    return NULL;
}

char *objtext_string(const char *obj, const char *key)
{
    member m;
    return find_named(obj, key, &m) ? string_value(&m) : NULL;
}

char *objtext_first_string(const char *obj)
{
    const char *p = members_start(obj);
    member m;
    while (p && next_member(&p, &m))
        if (*m.value == '"') return string_value(&m);
    return NULL;
}

bool objtext_members(const char *obj, const char *const *keys, size_t n, const char **values, size_t *lens)
{
    for (size_t i = 0; i < n; i++) values[i] = NULL, lens[i] = 0;
    const char *p = members_start(obj);
    if (!p) return false;
    member m;
    while (next_member(&p, &m)) {
        for (size_t i = 0; i < n; i++) {
            size_t klen = strlen(keys[i]);
            if (m.key_len == klen + 2 && !memcmp(m.key + 1, keys[i], klen)) {
                values[i] = m.value, lens[i] = m.value_len;
                break;
            }
        }
    }
    p = skip_ws(p);
    if (*p != '}' || *skip_ws(p + 1)) return false;
    return !strstr(obj, "\\u0000");
}

const char *objtext_span(const char *obj, const char *key, size_t *len)
{
    member m;
    if (!find_named(obj, key, &m)) return NULL;
    *len = m.value_len;
    return m.value;
}

bool objtext_next_element(const char *arr, const char **at, size_t *len)
{
    const char *p;
    if (!*at) {
        p = arr ? skip_ws(arr) : NULL;
        if (!p || *p != '[') return false;
        p = skip_ws(p + 1);
    } else {
        p = skip_ws(*at + *len);
        if (*p != ',') return false;
        p = skip_ws(p + 1);
    }
    if (!*p || *p == ']') return false;
    const char *end = skip_value(p);
    if (end == p) return false;
    *at = p;
    *len = (size_t)(end - p);
    return true;
}
