/* Which server key a command runs with, and the check that it is the key the
 * database was set up with: credentials are stored as hashes keyed by it, so
 * a process with another key would store credentials that never authenticate
 * and fail every existing one, silently. */
#ifndef BO_SERVER_KEY_H
#define BO_SERVER_KEY_H
#include "store/store.h"
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SERVER_KEY_OK,        /* the key is set and recorded in the database */
    SERVER_KEY_NO_SCHEMA, /* the database predates the record: migrate first */
    SERVER_KEY_REFUSED,   /* another key than the database's, or none where it must not be made */
    SERVER_KEY_FAILED,    /* the key file or the database could not be read or written */
} server_key_outcome;

/* Loads the key at `path` (or creates it, only for a database that records
 * no key and, unless `path_chosen`, has no accounts yet), then records its
 * fingerprint in the database or compares it with the one recorded there.
 * Anything but SERVER_KEY_OK leaves a sentence in `why`. */
server_key_outcome server_key_settle(store *st, const char *path, bool path_chosen, char *why, size_t whylen);
#endif
