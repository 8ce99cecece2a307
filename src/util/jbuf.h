/* Writing JSON text straight into one growing buffer, for small replies whose
 * shape is fixed: no jansson tree to build, dump and free. The output is byte
 * for byte what json_dumps(..., JSON_COMPACT) prints for the same values
 * (insertion order, jansson's escapes); jb_json embeds any jansson value. */
#ifndef BO_JBUF_H
#define BO_JBUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* jansson's value, declared here so that writers of plain values (the engine)
 * do not include jansson; jansson spells it `typedef struct json_t json_t`. */
struct json_t;

typedef struct {
    char *p;
    size_t len, cap;
    bool comma; /* the next key or array element needs a ',' first */
    bool failed; /* out of memory: jb_take returns NULL */
} jbuf;

void jb_init(jbuf *b, size_t cap);
void jb_free(jbuf *b);
/* Empty again, keeping the allocation (a jbuf of zeroes gets one). */
void jb_reset(jbuf *b);
/* The text (NUL-terminated, malloc'd, owned by the caller); NULL if failed. */
char *jb_take(jbuf *b, size_t *len);

void jb_obj(jbuf *b);     /* { */
void jb_obj_end(jbuf *b); /* } */
void jb_newline(jbuf *b); /* a line break between top-level values (JSON lines) */
void jb_arr(jbuf *b);     /* [ */
void jb_arr_end(jbuf *b); /* ] */
void jb_key(jbuf *b, const char *key);
/* A key given as a string literal, quoted at compile time and copied in one
 * piece: for the keys of each element of a long list. The literal must need
 * no escaping (it is not checked). */
#define JB_KEY(b, literal) jb_key_quoted((b), "\"" literal "\":", sizeof("\"" literal "\":") - 1)
void jb_key_quoted(jbuf *b, const char *quoted, size_t n);
/* Values (in an array, or after jb_key). A NULL string is null. */
void jb_str(jbuf *b, const char *s);
void jb_int(jbuf *b, int64_t v);
/* Money in minor units as a JSON string with `decimals` places, as
 * money_format writes it: "49.20", "-0.05", "1500" for 0 decimals. */
void jb_money(jbuf *b, int64_t amount, int decimals);
/* A string the caller knows needs no escaping (digits, dates, times,
 * offsets: ASCII without '"', '\\' or control characters), n bytes. */
void jb_plain(jbuf *b, const char *s, size_t n);
void jb_bool(jbuf *b, bool v);
void jb_null(jbuf *b);
/* Text that already is JSON (a stored document); NULL or "" is null. */
void jb_raw(jbuf *b, const char *json);
/* The n bytes at json, which already are one JSON value. */
void jb_raw_n(jbuf *b, const char *json, size_t n);
/* Any jansson value, compact; NULL is null. */
void jb_json(jbuf *b, const struct json_t *v);

/* The text of jb_int and jb_money without snprintf, NUL-terminated; they
 * return its length. JB_INT_MAX holds INT64_MIN, JB_MONEY_MAX the same with
 * up to six decimals. */
#define JB_INT_MAX 21
#define JB_MONEY_MAX 28
size_t jb_format_int(int64_t v, char out[JB_INT_MAX]);
size_t jb_format_money(int64_t amount, int decimals, char out[JB_MONEY_MAX]);

/* key + value in one call. jb_kstr leaves the key out altogether when s is
 * not valid UTF-8, as json_object_set_new(o, key, json_string(s)) does. */
void jb_kstr(jbuf *b, const char *key, const char *s);
void jb_kint(jbuf *b, const char *key, int64_t v);
void jb_kbool(jbuf *b, const char *key, bool v);
void jb_knull(jbuf *b, const char *key);
void jb_kjson(jbuf *b, const char *key, const struct json_t *v);
#endif
