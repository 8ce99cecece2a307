/* What the PostgreSQL driver offers beyond db_driver. */
#ifndef BO_DB_PG_H
#define BO_DB_PG_H
#include "store/db.h"

/* True once the connection to the server is lost (network, server restart,
 * backend terminated): every later call on it fails with DB_ERROR, so a pool
 * should drop it rather than hand it out again. False for a healthy
 * connection and for connections of other drivers. */
bool db_pg_broken(db_conn *c);

/* LISTEN/NOTIFY on a connection dedicated to listening (store_listen):
 * db_pg_listen subscribes to channel; poll db_pg_socket for input; then
 * db_pg_notifications consumes it and returns how many notifications
 * arrived, or -1 once the connection is lost. */
bool db_pg_listen(db_conn *c, const char *channel);
int db_pg_socket(db_conn *c);
int db_pg_notifications(db_conn *c);
#endif
