/* Builds the typed catalog (catalog_model.h) from validated documents. */
#ifndef BO_CATALOG_COMPILE_H
#define BO_CATALOG_COMPILE_H
#include "core/catalog_model.h"
#include "core/engine.h"

/* objects[k]: id -> document, for every kind. Never fails on a validated
 * catalog: a reference that does not resolve reads as absent. */
catalog_model *catalog_model_compile(json_t *const objects[CAT__COUNT]);
void catalog_model_free(catalog_model *m);
#endif
