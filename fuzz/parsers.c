/* The pure parsers requests go through, one per selector (the input's first
 * byte), each with what it promises besides not crashing:
 *   money, rates      parse(format(parse(s))) gives the same amount
 *   dates, times      a parsed date formats back to its text; times,
 *                     instants and durations survive format and parse
 *   utf8_prefix/trim  never cut a character, never grow
 *   objtext           agrees with jansson on valid JSON objects
 *   body_fields       the field table every dialect decodes bodies with
 *   catalog documents the admin catalog's codec (src/catalog_doc): what it
 *                     accepts is JSON and compiles into the typed model
 * The rest of the input is the text (NUL-terminated copy) or JSON document. */
#include "api/body.h"
#include "catalog_doc/catalog_doc.h"
#include "core/catalog_model.h"
#include "util/money.h"
#include "util/objtext.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same as the HTTP layer's (src/http/request.c): strict UTF-8. */
bool utf8_valid(const char *s);

#define MUST(cond)                                                                                                 \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            fprintf(stderr, "fuzz/parsers: %s:%d: %s fails for \"%.200s\"\n", __FILE__, __LINE__, #cond, text);  \
            abort();                                                                                               \
        }                                                                                                          \
    } while (0)

static void money_rates(const char *text, int decimals)
{
    money m, again;
    if (money_parse(text, decimals, &m)) {
        char out[32];
        money_format(m, decimals, out, sizeof out);
        MUST(money_parse(out, decimals, &again) && again == m);
    }
    int32_t bp, bp_again;
    if (rate_parse(text, &bp)) {
        char out[32];
        rate_format(bp, out, sizeof out);
        MUST(rate_parse(out, &bp_again) && bp_again == bp);
    }
}

static void dates_times(const char *text, const char *tz)
{
    civil_date d;
    if (date_parse(text, &d)) {
        char out[11];
        date_format(d, out);
        MUST(!strcmp(out, text));
    }
    int32_t secs, secs_again;
    if (time_of_day_parse(text, &secs)) {
        char out[9];
        time_of_day_format(secs, out);
        MUST(time_of_day_parse(out, &secs_again) && secs_again == secs);
    }
    instant_us t, t_again;
    if (iso_parse(text, tz, &t)) {
        char out[64];
        iso_format(t, tz, out, sizeof out);
        MUST(iso_parse(out, tz, &t_again) && t_again == t);
    }
    int64_t dur, dur_again;
    if (duration_parse(text, &dur)) {
        char out[64];
        duration_format(dur, out, sizeof out);
        MUST(duration_parse(out, &dur_again) && dur_again == dur);
    }
}

static void utf8_cuts(const char *text, size_t max)
{
    int n = utf8_prefix(text, max);
    MUST(n >= 0 && (size_t)n <= max && (size_t)n <= strlen(text));
    if (utf8_valid(text)) {
        char *cut = strndup(text, (size_t)n);
        MUST(utf8_valid(cut));
        free(cut);
    }
    char *copy = strdup(text);
    if (strlen(copy) > max) copy[max] = 0;
    size_t before = strlen(copy);
    utf8_trim(copy);
    MUST(strlen(copy) <= before);
    if (utf8_valid(text)) MUST(utf8_valid(copy));
    free(copy);
}

/* objtext against jansson. objtext reads text jansson or jbuf wrote (its
 * header's contract), so it is given jansson's rendering of what jansson
 * accepts as an object (duplicate keys rejected), and asked for plain keys
 * only (no character JSON escapes). The second object is the input's second
 * line, or {"a":1}. */
static bool plain_key(const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) return false;
    return true;
}

static void objtext(const char *text, size_t flags)
{
    const char *nl = strchr(text, '\n');
    char *first_in = nl ? strndup(text, (size_t)(nl - text)) : strdup(text);
    json_t *a = json_loads(first_in, JSON_REJECT_DUPLICATES, NULL);
    json_t *b = json_loads(nl ? nl + 1 : "{\"a\":1}", JSON_REJECT_DUPLICATES, NULL);
    free(first_in);
    char *first = json_is_object(a) ? json_dumps(a, flags) : NULL;
    char *second = json_is_object(b) ? json_dumps(b, flags) : NULL;
    if (first) {
        const char *key;
        json_t *v;
        json_object_foreach(a, key, v)
        {
            if (!plain_key(key)) continue;
            char *s = objtext_string(first, key);
            if (json_is_string(v) && !memchr(json_string_value(v), 0, json_string_length(v))) {
                MUST(s && !strcmp(s, json_string_value(v)));
            } else MUST(!s);
            free(s);
            char *member = objtext_member(first, key);
            json_t *parsed = member ? json_loads(member, JSON_DECODE_ANY, NULL) : NULL;
            MUST(parsed && json_equal(parsed, v));
            json_decref(parsed);
            free(member);
        }
        if (second) {
            char *merged = objtext_merge(first, second);
            json_t *m = merged ? json_loads(merged, JSON_REJECT_DUPLICATES, NULL) : NULL;
            json_t *expect = json_deep_copy(a);
            json_object_update(expect, b);
            MUST(m && json_equal(m, expect));
            json_decref(m);
            json_decref(expect);
            free(merged);
        }
    }
    free(first);
    free(second);
    json_decref(a);
    json_decref(b);
}

static void fields(const char *text, int reject_unknown)
{
    json_t *doc = json_loads(text, 0, NULL);
    if (!json_is_object(doc)) return json_decref(doc);
    const char *s = NULL;
    int64_t i = -1;
    bool flag = false, s_given = false;
    json_t *obj = NULL, *arr = NULL;
    const body_field table[] = {
        {"name", BF_STRING, false, 1, 20, &s, &s_given},
        {"note", BF_STRING, false, 0, BF_UNLIMITED, NULL, NULL},
        {"amount", BF_INT, false, -5, 1000000, &i, NULL},
        {"flag", BF_BOOL, false, 0, 0, &flag, NULL},
        {"extras", BF_OBJECT, false, 0, 0, &obj, NULL},
        {"items", BF_ARRAY, false, 0, 3, &arr, NULL},
        {"id", BF_STRING, reject_unknown, 0, 64, NULL, NULL},
    };
    body_error err;
    memset(&err, 0, sizeof err);
    if (BODY_FIELDS(doc, "body.", table, reject_unknown, &err)) {
        MUST(!s || (strlen(s) >= 1 && strlen(s) <= 20 && s_given));
        MUST(i == -1 || (i >= -5 && i <= 1000000));
        MUST(!arr || json_array_size(arr) <= 3);
    } else {
        /* the message is echoed in a JSON reply: it must be text */
        MUST(err.code && utf8_valid(err.field) && utf8_valid(err.message));
    }
    json_decref(doc);
}

static bool exists(catalog_kind k, const char *id, void *ctx) { return id[0] && (id[0] & 1); }

/* The first line is the written document, the second (if any) the stored one
 * it is merged over. */
static void catalog_document(const char *text, catalog_kind k, bool partial)
{
    const char *nl = strchr(text, '\n');
    char *body = nl ? strndup(text, (size_t)(nl - text)) : strdup(text);
    catalog_doc out;
    memset(&out, 0, sizeof out);
    bo_error err;
    memset(&err, 0, sizeof err);
    if (catalog_doc_prepare(k, nl ? nl + 1 : NULL, body, partial, NULL, exists, NULL, &out, &err) == BO_OK) {
        json_t *stored = json_loads(out.text, 0, NULL);
        MUST(json_is_object(stored));
        json_decref(stored);
        catalog_model *m = catalog_model_new(catalog_doc_json_codec.release);
        catalog_doc_compile(m, k, out.text);
        catalog_model_free(m);
    } else MUST(utf8_valid(err.message));
    catalog_doc_clear(&out);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0];
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    switch (sel % 6) {
    case 0: money_rates(text, (sel >> 3) % 4); break;
    case 1: dates_times(text, (sel >> 3) & 1 ? "Europe/Amsterdam" : NULL); break;
    case 2: utf8_cuts(text, (sel >> 3) % 32); break;
    case 3: objtext(text, (sel >> 3) & 1 ? JSON_COMPACT : 0); break;
    case 4: fields(text, (sel >> 3) & 1); break;
    case 5: catalog_document(text, (catalog_kind)((sel >> 3) % CAT__COUNT), (sel >> 6) & 1); break;
    }
    free(text);
    return 0;
}
