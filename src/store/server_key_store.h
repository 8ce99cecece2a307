/* The fingerprint of the server key a database was set up with (migration 8),
 * so that a process holding another key is refused (src/server_key.c). */
#ifndef BO_STORE_SERVER_KEY_H
#define BO_STORE_SERVER_KEY_H
#include "store/store.h"
#include "util/timeutil.h"

#define SERVER_KEY_FINGERPRINT_CHARS 64

/* The recorded fingerprint: STORE_OK, or STORE_NOT_FOUND when none is
 * recorded yet; either way *has_accounts tells whether any account exists
 * (credentials hashed under some key). STORE_ERROR when the schema predates
 * the record (migration 8: not logged) or the database fails. */
store_status store_server_key_get(store *s, char fingerprint[SERVER_KEY_FINGERPRINT_CHARS + 1], bool *has_accounts);
/* Records `fingerprint` unless one is recorded already, in one transaction (two
 * processes starting at once record one): STORE_OK when the recorded one is
 * `fingerprint`, STORE_CONFLICT with the other in `recorded` when it is not. */
store_status store_server_key_record(store *s, const char *fingerprint, instant_us now,
                                     char recorded[SERVER_KEY_FINGERPRINT_CHARS + 1]);
#endif
