/* See server_key.h. */
#include "server_key.h"
#include "store/server_key_store.h"
#include "util/secure.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The first characters of a fingerprint: enough to tell keys apart in a message. */
#define SHOWN 12

__attribute__((format(printf, 4, 5))) static server_key_outcome say(server_key_outcome o, char *why, size_t whylen,
                                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return o;
}

/* Sets the server key from `path`, making one only where no credential can
 * depend on another: the database records no key, and either the path was
 * chosen by the operator or the database has no accounts yet (an upgrade from
 * the working-directory default must not silently switch keys). */
static server_key_outcome load(store_status known, bool has_accounts, const char *recorded, const char *path,
                               bool path_chosen, char *why, size_t whylen)
{
    switch (secure_load_key(path)) {
    case KEY_LOADED: return SERVER_KEY_OK;
    case KEY_BROKEN:
        return say(SERVER_KEY_FAILED, why, whylen, "the server key %s is unreadable or not a %d-byte key", path,
                   SERVER_KEY_BYTES);
    case KEY_ABSENT: break;
    }
    if (known == STORE_OK)
        return say(SERVER_KEY_REFUSED, why, whylen,
                   "no server key at %s, but the database was set up with one (fingerprint %.*s...): point "
                   "--key-file (or key_file, BOXOFFICE_KEY_FILE) at it; a new key would lock out every credential",
                   path, SHOWN, recorded);
    if (has_accounts && !path_chosen)
        return say(SERVER_KEY_REFUSED, why, whylen,
                   "no server key at %s, but the database already has accounts, whose credentials are hashed with "
                   "some key: point --key-file at it (earlier versions kept it in var/server.key under the "
                   "working directory)",
                   path);
    if (!secure_create_key(path)) return say(SERVER_KEY_FAILED, why, whylen, "cannot create the server key %s", path);
    return SERVER_KEY_OK;
}

server_key_outcome server_key_settle(store *st, const char *path, bool path_chosen, char *why, size_t whylen)
{
    char recorded[SERVER_KEY_FINGERPRINT_CHARS + 1], mine[65];
    bool has_accounts = false;
    store_status known = store_server_key_get(st, recorded, &has_accounts);
    if (known != STORE_OK && known != STORE_NOT_FOUND)
        return say(SERVER_KEY_NO_SCHEMA, why, whylen,
                   "cannot read the database's server key record: run `boxoffice migrate` first");
    server_key_outcome o = load(known, has_accounts, recorded, path, path_chosen, why, whylen);
    if (o != SERVER_KEY_OK) return o;
    secure_key_fingerprint(mine);
    switch (store_server_key_record(st, mine, clock_now(), recorded)) {
    case STORE_OK: return SERVER_KEY_OK;
    case STORE_CONFLICT:
        return say(SERVER_KEY_REFUSED, why, whylen,
                   "the server key %s (fingerprint %.*s...) is not the key this database was set up with "
                   "(fingerprint %.*s...): its credentials would never authenticate; point --key-file at that key",
                   path, SHOWN, mine, SHOWN, recorded);
    default: return say(SERVER_KEY_FAILED, why, whylen, "cannot record the server key's fingerprint in the database");
    }
}
