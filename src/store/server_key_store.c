/* SQL of the server key's fingerprint (see server_key_store.h). */
#include "store/server_key_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *mine;
    instant_us now;
    char *recorded; /* SERVER_KEY_FINGERPRINT_CHARS + 1 */
    bool *has_accounts;
} key_op;

static db_status read_recorded(db_conn *c, char *out)
{
    char *fingerprint = NULL;
    db_status st = db_query_text(c, "SELECT fingerprint FROM server_key WHERE id = 1", DB_NOARGS, &fingerprint);
    if (st == DB_OK) snprintf(out, SERVER_KEY_FINGERPRINT_CHARS + 1, "%s", fingerprint);
    free(fingerprint);
    return st;
}

/* Asked of the catalog rather than by failing on the table, so that a fresh
 * database logs no error for a question with an expected answer. */
static db_status has_record_table(db_conn *c)
{
    int64_t tables = 0;
    db_status st = db_query_int(c,
                                db_conn_dialect(c) == DB_DIALECT_POSTGRES
                                    ? "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'server_key'"
                                      " AND schemaname = ANY (current_schemas(false))"
                                    : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'server_key'",
                                DB_NOARGS, &tables);
    return st == DB_OK && tables == 0 ? DB_ERROR : st;
}

static db_status get_fn(db_conn *c, void *arg)
{
    key_op *op = arg;
    int64_t accounts = 0;
    db_status st = has_record_table(c);
    if (st == DB_OK) st = db_query_int(c, "SELECT COUNT(*) FROM accounts", DB_NOARGS, &accounts);
    if (st != DB_OK) return st;
    *op->has_accounts = accounts > 0;
    st = read_recorded(c, op->recorded);
    /* "none recorded" is an answer, not a failure of the snapshot */
    return st == DB_NOTFOUND ? DB_OK : st;
}

store_status store_server_key_get(store *s, char fingerprint[SERVER_KEY_FINGERPRINT_CHARS + 1], bool *has_accounts)
{
    fingerprint[0] = 0;
    key_op op = {.recorded = fingerprint, .has_accounts = has_accounts};
    store_status st = store_status_of(store_read(s, get_fn, &op));
    return st == STORE_OK && !fingerprint[0] ? STORE_NOT_FOUND : st;
}

static db_status record_fn(db_conn *c, void *arg)
{
    key_op *op = arg;
    db_status st = db_exec(c,
                           "INSERT INTO server_key (id, fingerprint, recorded_at) VALUES (1, ?, ?)"
                           " ON CONFLICT (id) DO NOTHING",
                           DB_ARGS(DB_TEXT(op->mine), DB_INT(op->now)), NULL);
    return st == DB_OK ? read_recorded(c, op->recorded) : st;
}

store_status store_server_key_record(store *s, const char *fingerprint, instant_us now,
                                     char recorded[SERVER_KEY_FINGERPRINT_CHARS + 1])
{
    recorded[0] = 0;
    key_op op = {.mine = fingerprint, .now = now, .recorded = recorded};
    store_status st = store_status_of(store_write(s, record_fn, &op));
    return st == STORE_OK && strcmp(recorded, fingerprint) ? STORE_CONFLICT : st;
}
