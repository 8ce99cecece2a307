/* Storage of the catalog: one JSON document per object (kind, id) of an
 * account, soft-deleted, and a per-account catalog version that every write
 * bumps in its own transaction so that every server process can tell when its
 * snapshot is stale. Validation and compilation of the documents live in
 * src/core; nothing here parses JSON.
 *
 * Functions taking a `store *` are whole transactions. Functions taking a
 * `db_conn *` are steps of a catalog write, which the engine composes inside
 * store_write (it also records outbox events and capacity changes there). */
#ifndef BO_STORE_CATALOG_H
#define BO_STORE_CATALOG_H
#include "store/store.h"
#include "util/timeutil.h"

/* One live document, as the snapshot load hands it out. The strings are
 * borrowed: valid only during the callback. */
typedef struct {
    const char *kind; /* "location", "product", ... (core/catalog.c names them) */
    const char *id;
    const char *doc;  /* JSON object text */
} store_catalog_row;
typedef void (*store_catalog_row_fn)(void *ctx, const store_catalog_row *row);

/* The account's catalog version: 0 before its first write (still STORE_OK). */
store_status store_catalog_version(store *s, const char *account_id, int64_t *version);
/* The version and every live document of the account, read in one snapshot;
 * fn is called once per document, oldest first (created_at, then id). */
store_status store_catalog_load(store *s, const char *account_id, int64_t *version, store_catalog_row_fn fn,
                                void *ctx);

/* Where each object of one kind stands in the list order (created_at, then
 * id), deleted ones included: a deleted object keeps its place so that a
 * list resumed after it continues where it was. Borrowed strings, as above. */
typedef struct {
    const char *id;
    instant_us created_at;
    bool deleted;
} store_catalog_place;
typedef void (*store_catalog_place_fn)(void *ctx, const store_catalog_place *place);
store_status store_catalog_places(store *s, const char *account_id, const char *kind, store_catalog_place_fn fn,
                                  void *ctx);

/* ---- steps of a catalog write ---- */

/* STORE_CONFLICT when (kind, id) exists in the account, even deleted (or when
 * the account does not exist). */
store_status store_catalog_insert(db_conn *c, const char *account_id, const char *kind, const char *id,
                                  const char *parent_id, const char *doc, instant_us now);
/* Replaces a live document: STORE_NOT_FOUND when none (or deleted). */
store_status store_catalog_update(db_conn *c, const char *account_id, const char *kind, const char *id,
                                  const char *parent_id, const char *doc, instant_us now);
/* Soft delete: STORE_NOT_FOUND when no live document. */
store_status store_catalog_delete(db_conn *c, const char *account_id, const char *kind, const char *id,
                                  instant_us now);
/* Bumps the account's catalog version (creating it at 1). */
store_status store_catalog_touch(db_conn *c, const char *account_id);
#endif
