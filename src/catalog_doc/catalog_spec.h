/* Declarative validation of catalog documents: one table of fields per kind. */
#ifndef BO_CATALOG_SPEC_H
#define BO_CATALOG_SPEC_H
#include "core/engine.h"
#include <jansson.h>

typedef enum {
    F_STRING,     /* non-empty string up to 1000 chars */
    F_TEXT_MAP,   /* {"en": "...", "nl": "..."}; a plain string becomes {"en": s} */
    F_INT,        /* integer >= 0 */
    F_INT_OR_NULL,
    F_MONEY,      /* integer minor units >= 0 */
    F_BOOL,
    F_DATE,       /* "YYYY-MM-DD" */
    F_TIME,       /* "HH:MM[:SS]" */
    F_INSTANT,    /* ISO 8601 date-time */
    F_TIMEZONE,
    F_ENUM,       /* one of `choices` ("a|b|c") */
    F_REF,        /* id of another catalog object of kind `ref` */
    F_REF_LIST,   /* array of such ids */
    F_OBJECT,     /* free-form object (external ids, extras) */
    F_ARRAY,      /* array, checked by the kind's own validator */
} field_type;

typedef struct {
    const char *name;
    field_type type;
    bool required;
    const char *choices;
    catalog_kind ref;
} field_spec;

typedef struct {
    const field_spec *fields;
    size_t nfields;
    /* cross-field and nested checks after the table passed; may normalise doc */
    bo_status (*check)(json_t *doc, bo_error *err);
} kind_spec;

const kind_spec *kind_spec_for(catalog_kind k);
/* Validates and normalises doc in place against spec; refs checked with
 * exists(kind, id, ctx). */
bo_status spec_validate(const kind_spec *spec, json_t *doc, bool (*exists)(catalog_kind, const char *, void *),
                        void *ctx, bo_error *err);
#endif
