#include "api/body.h"
#include "util/utf8.h"
#include <stdio.h>
#include <string.h>

static bool value_ok(const body_field *f, json_t *v)
{
    switch (f->type) {
    case BF_STRING: {
        size_t len = json_string_length(v);
        return json_is_string(v) && (int64_t)len >= f->min && (int64_t)len <= f->max;
    }
    case BF_INT: return json_is_integer(v) && json_integer_value(v) >= f->min && json_integer_value(v) <= f->max;
    case BF_BOOL: return json_is_boolean(v);
    case BF_OBJECT: return json_is_object(v);
    case BF_ARRAY: return json_is_array(v) && (int64_t)json_array_size(v) <= f->max;
    }
    return false;
}

static void expectation(const body_field *f, char *out, size_t n)
{
    switch (f->type) {
    case BF_STRING:
        if (f->max != BF_UNLIMITED)
            snprintf(out, n, "a string of %lld to %lld characters", (long long)f->min, (long long)f->max);
        else if (f->min > 0) snprintf(out, n, "a string of at least %lld characters", (long long)f->min);
        else snprintf(out, n, "a string");
        return;
    case BF_INT: snprintf(out, n, "an integer from %lld to %lld", (long long)f->min, (long long)f->max); return;
    case BF_BOOL: snprintf(out, n, "true or false"); return;
    case BF_OBJECT: snprintf(out, n, "an object"); return;
    case BF_ARRAY: snprintf(out, n, "a list of at most %lld items", (long long)f->max); return;
    }
}

bool body_fields(json_t *obj, const char *prefix, const body_field *fields, size_t n, bool reject_unknown,
                 body_error *err)
{
    const char *key;
    json_t *v;
    if (reject_unknown) {
        json_object_foreach(obj, key, v)
        {
            size_t i;
            for (i = 0; i < n && strcmp(fields[i].name, key); i++) {}
            if (i == n) {
                err->code = "unknown_field";
                snprintf(err->field, sizeof err->field, "%s%.*s", prefix, utf8_prefix(key, 100), key);
                utf8_trim(err->field);
                snprintf(err->message, sizeof err->message, "unknown field %s", err->field);
                return false;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        const body_field *f = &fields[i];
        v = json_object_get(obj, f->name);
        snprintf(err->field, sizeof err->field, "%s%s", prefix, f->name);
        if (!v || json_is_null(v)) {
            if (f->required) {
                err->code = "missing_field";
                snprintf(err->message, sizeof err->message, "%s is required", err->field);
                return false;
            }
            continue;
        }
        if (!value_ok(f, v)) {
            char expect[96];
            expectation(f, expect, sizeof expect);
            err->code = "invalid_field";
            snprintf(err->message, sizeof err->message, "%s must be %s", err->field, expect);
            return false;
        }
        if (f->present) *f->present = true;
        if (!f->dest) continue;
        switch (f->type) {
        case BF_STRING: *(const char **)f->dest = json_string_value(v); break;
        case BF_INT: *(int64_t *)f->dest = json_integer_value(v); break;
        case BF_BOOL: *(bool *)f->dest = json_is_true(v); break;
        case BF_OBJECT:
        case BF_ARRAY: *(json_t **)f->dest = v; break;
        }
    }
    return true;
}
