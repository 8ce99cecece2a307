/* The catalog's documents as JSON: the codec the engine is given
 * (engine_config.catalog_codec) to check written documents and compile stored
 * ones into the typed model, and the catalog calls the dialects make with
 * jansson values. The engine (src/core) never includes this: main.c and the
 * test fixture hand it catalog_doc_json_codec. */
#ifndef BO_CATALOG_DOC_H
#define BO_CATALOG_DOC_H
#include "core/engine.h"
#include <jansson.h>

extern const catalog_codec catalog_doc_json_codec;

/* The codec's two halves (catalog_doc.c, catalog_compile.c). The decoded form
 * each object keeps in the model is its document as a json_t. */
bo_status catalog_doc_prepare(catalog_kind k, const char *existing, const char *body, bool partial, const char *id,
                              bool (*exists)(catalog_kind, const char *, void *), void *ctx, catalog_doc *out,
                              bo_error *err);
void catalog_doc_compile(catalog_model *m, catalog_kind k, const char *doc);

/* ---- the catalog API over jansson values, for the dialects ---- */

/* catalog_put with the document as a value (borrowed); *out (optional) gets the stored document. */
bo_status catalog_put_json(engine *e, const account *a, catalog_kind k, const char *id, const json_t *doc,
                           bool partial, json_t **out, bo_error *err);
/* The stored document (caller decrefs), BO_NOT_FOUND, or BO_INTERNAL. */
bo_status catalog_get_json(engine *e, const account *a, catalog_kind k, const char *id, json_t **out);
/* All live documents of a kind, oldest first, as an array (caller decrefs). */
bo_status catalog_list_json(engine *e, const account *a, catalog_kind k, json_t **out);
/* A document of the view, borrowed until catalog_view_close; NULL if absent. */
const json_t *catalog_view_find(const catalog_view *v, catalog_kind k, const char *id);
#endif
