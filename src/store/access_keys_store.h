/* Event access keys: the keyed hashes of the keys that lock an event's shop,
 * per account (src/core/access_keys.c decides; nothing here judges a key). */
#ifndef BO_ACCESS_KEYS_STORE_H
#define BO_ACCESS_KEYS_STORE_H
#include "store/store.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Adds a key's hash to the event's; adding one it has is STORE_OK and changes nothing. */
store_status store_access_key_add(store *s, const char *account_id, const char *event_id, const char *key_hash,
                                  const char *label, int64_t now);
/* STORE_NOT_FOUND when the event has no such key. */
store_status store_access_key_delete(store *s, const char *account_id, const char *event_id, const char *key_hash);

/* The events of the account that are locked, each with whether key_hash
 * (NULL: no key given) opens it. *out is malloc'd (caller frees). */
typedef struct {
    char event_id[48];
    bool opened;
    int64_t keys; /* how many keys lock it */
} store_event_lock;
store_status store_event_locks(store *s, const char *account_id, const char *key_hash, store_event_lock **out,
                               size_t *n);
#endif
