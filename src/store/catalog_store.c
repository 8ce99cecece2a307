/* SQL of the catalog (see catalog_store.h). */
#include "store/catalog_store.h"

static db_status read_version(db_conn *c, const char *account_id, int64_t *version)
{
    *version = 0;
    db_status st = db_query_int(c, "SELECT version FROM catalog_versions WHERE account_id = ?",
                                DB_ARGS(DB_TEXT(account_id)), version);
    return st == DB_NOTFOUND ? DB_OK : st;
}

typedef struct {
    const char *account_id;
    int64_t *version;
    store_catalog_row_fn fn;
    void *ctx;
} catalog_load;

static db_status version_fn(db_conn *c, void *arg)
{
    catalog_load *l = arg;
    return read_version(c, l->account_id, l->version);
}

store_status store_catalog_version(store *s, const char *account_id, int64_t *version)
{
    catalog_load l = {account_id, version, NULL, NULL};
    return store_status_of(store_read(s, version_fn, &l));
}

static db_status load_fn(db_conn *c, void *arg)
{
    catalog_load *l = arg;
    db_status st = read_version(c, l->account_id, l->version);
    if (st != DB_OK) return st;
    db_rows *r;
    st = db_query(c, "SELECT kind, id, doc FROM catalog WHERE account_id = ? AND deleted = 0 ORDER BY created_at, id",
                  DB_ARGS(DB_TEXT(l->account_id)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        store_catalog_row row = {db_text(r, 0), db_text(r, 1), db_text(r, 2)};
        l->fn(l->ctx, &row);
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_catalog_load(store *s, const char *account_id, int64_t *version, store_catalog_row_fn fn,
                                void *ctx)
{
    catalog_load l = {account_id, version, fn, ctx};
    return store_status_of(store_read(s, load_fn, &l));
}

typedef struct {
    const char *account_id, *kind;
    store_catalog_place_fn fn;
    void *ctx;
} catalog_places;

static db_status places_fn(db_conn *c, void *arg)
{
    catalog_places *p = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, created_at, deleted FROM catalog WHERE account_id = ? AND kind = ?"
                            " ORDER BY created_at, id",
                            DB_ARGS(DB_TEXT(p->account_id), DB_TEXT(p->kind)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        store_catalog_place place = {db_text(r, 0), db_int(r, 1), db_int(r, 2) != 0};
        p->fn(p->ctx, &place);
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_catalog_places(store *s, const char *account_id, const char *kind, store_catalog_place_fn fn,
                                  void *ctx)
{
    catalog_places p = {account_id, kind, fn, ctx};
    return store_status_of(store_read(s, places_fn, &p));
}

/* ---- steps of a catalog write ---- */

static store_status changed(db_status st, int64_t changes)
{
    if (st != DB_OK) return store_status_of(st);
    return changes ? STORE_OK : STORE_NOT_FOUND;
}

store_status store_catalog_insert(db_conn *c, const char *account_id, const char *kind, const char *id,
                                  const char *parent_id, const char *doc, instant_us now)
{
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "INSERT INTO catalog (account_id, kind, id, parent_id, doc, created_at, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                           DB_ARGS(DB_TEXT(account_id), DB_TEXT(kind), DB_TEXT(id), DB_TEXT(parent_id), DB_TEXT(doc),
                                   DB_INT(now), DB_INT(now)),
                           &changes);
    return changed(st, changes);
}

store_status store_catalog_update(db_conn *c, const char *account_id, const char *kind, const char *id,
                                  const char *parent_id, const char *doc, instant_us now)
{
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "UPDATE catalog SET doc = ?, parent_id = ?, updated_at = ? WHERE account_id = ? AND kind = ?"
                           " AND id = ? AND deleted = 0",
                           DB_ARGS(DB_TEXT(doc), DB_TEXT(parent_id), DB_INT(now), DB_TEXT(account_id), DB_TEXT(kind),
                                   DB_TEXT(id)),
                           &changes);
    return changed(st, changes);
}

store_status store_catalog_delete(db_conn *c, const char *account_id, const char *kind, const char *id,
                                  instant_us now)
{
    int64_t changes = 0;
    db_status st = db_exec(c,
                           "UPDATE catalog SET deleted = 1, updated_at = ? WHERE account_id = ? AND kind = ? AND id = ?"
                           " AND deleted = 0",
                           DB_ARGS(DB_INT(now), DB_TEXT(account_id), DB_TEXT(kind), DB_TEXT(id)), &changes);
    return changed(st, changes);
}

store_status store_catalog_touch(db_conn *c, const char *account_id)
{
    return store_status_of(db_exec(c,
                           "INSERT INTO catalog_versions (account_id, version) VALUES (?, 1)"
                           " ON CONFLICT (account_id) DO UPDATE SET version = catalog_versions.version + 1",
                           DB_ARGS(DB_TEXT(account_id)), NULL));
}
