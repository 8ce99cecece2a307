/* What the PostgreSQL driver offers beyond db_driver. */
#ifndef BO_DB_PG_H
#define BO_DB_PG_H
#include "store/db.h"

/* True once the connection to the server is lost (network, server restart,
 * backend terminated): every later call on it fails with DB_ERROR, so a pool
 * should drop it rather than hand it out again. False for a healthy
 * connection and for connections of other drivers. */
bool db_pg_broken(db_conn *c);
#endif
