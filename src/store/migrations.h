/* Versioned schema migrations, applied in order, each once. Append new
 * versions at the end; never edit one that has shipped. */
#ifndef BO_MIGRATIONS_H
#define BO_MIGRATIONS_H
#include "store/db.h"
#include <stddef.h>

typedef struct {
    int version;
    const char *name;
    const char *sql; /* portable SQL; @ID@, @SQLITE@, @POSTGRES@, @BOTH@: see migration_sql */
} migration;

extern const migration migrations[];
extern const size_t migrations_count;
/* The migration's SQL for dialect d; caller frees. */
char *migration_sql(const migration *m, db_dialect d);
#endif
