/* Request bodies checked against a declarative table of fields, for every
 * dialect: one parser, and each dialect renders its failure in its own error
 * shape. */
#ifndef BO_API_BODY_H
#define BO_API_BODY_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    BF_STRING, /* dest: const char ** (borrowed from the body); min..max characters */
    BF_INT,    /* dest: int64_t *; min..max */
    BF_BOOL,   /* dest: bool * */
    BF_OBJECT, /* dest: json_t ** (borrowed) */
    BF_ARRAY,  /* dest: json_t ** (borrowed); at most max elements */
} body_type;

/* A BF_STRING max for strings the table itself does not limit (the body size does). */
#define BF_UNLIMITED INT64_MAX

typedef struct {
    const char *name;
    body_type type;
    bool required;
    int64_t min, max; /* BF_STRING: length (max BF_UNLIMITED: none); BF_INT: range; BF_ARRAY: max elements */
    void *dest;       /* left untouched when the field is absent or null */
    bool *present;    /* optional: set when the field was given (not null) */
} body_field;

typedef struct {
    const char *code;  /* unknown_field | missing_field | invalid_field */
    char field[160];   /* prefix + name */
    char message[320];
} body_error;

/* Checks obj against the table and fills the destinations. Fields not in the
 * table are an error when reject_unknown (our own API), ignored otherwise (a
 * vendor's clients send more than they must). False with *err filled. */
bool body_fields(json_t *obj, const char *prefix, const body_field *fields, size_t n, bool reject_unknown,
                 body_error *err);
#define BODY_FIELDS(obj, prefix, table, reject_unknown, err)                                                       \
    body_fields(obj, prefix, table, sizeof table / sizeof table[0], reject_unknown, err)
#endif
