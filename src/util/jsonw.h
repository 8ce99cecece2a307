/* A JSON writer that appends straight into one growing buffer: no tree, one
 * allocation per document in the common case. For documents the engine
 * stores (ticket and order documents) and replies built on hot paths. */
#ifndef BO_JSONW_H
#define BO_JSONW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16

typedef struct {
    char *buf;
    size_t len, cap;
    int depth;
    bool first[JSONW_MAX_DEPTH]; /* no member written yet at this depth */
    bool after_key;              /* a key was just written: the value needs no comma */
} jsonw;

void jw_init(jsonw *w, size_t initial_cap);
/* The document, NUL-terminated; the caller owns and frees it. */
char *jw_finish(jsonw *w);
void jw_free(jsonw *w);

void jw_object(jsonw *w);
void jw_object_end(jsonw *w);
void jw_array(jsonw *w);
void jw_array_end(jsonw *w);
void jw_key(jsonw *w, const char *key);
void jw_string(jsonw *w, const char *s); /* NULL writes null */
void jw_int(jsonw *w, int64_t v);
void jw_bool(jsonw *w, bool v);
void jw_null(jsonw *w);
/* Already-serialized JSON (a stored document's value); NULL or "" writes null. */
void jw_raw(jsonw *w, const char *json);
#endif
