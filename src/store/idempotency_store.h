/* Idempotency keys: what a creating POST sent with an Idempotency-Key did,
 * per account, kept 24 hours so that a retry is answered with the first
 * response instead of being run again (src/api/idempotency.c decides; nothing
 * here judges a request).
 *
 * The key's row is written in two steps. The claim (hash, no response yet) is
 * inserted by the request's first committed write transaction, in that same
 * transaction: store_idempotency_arm names the claim, and the next store_write
 * on the calling thread inserts it before running its own function. So the
 * business write and the key commit together or not at all, and a kill can
 * never leave an applied request whose key a retry does not find. Once the
 * handler has answered, store_idempotency_answer stores the response. */
#ifndef BO_IDEMPOTENCY_STORE_H
#define BO_IDEMPOTENCY_STORE_H
#include "store/store.h"
#include <stdbool.h>
#include <stdint.h>

#define IDEMPOTENCY_HASH_HEX 65 /* 32 bytes as hex, and the NUL */
/* How long a key is kept: a retry within it is answered from the row; the
 * reaper deletes older rows (src/core/engine.c), so a later retry runs anew. */
#define IDEMPOTENCY_RETENTION_US (24LL * 3600 * 1000000)

/* A key's row as stored. */
typedef struct {
    char request_hash[IDEMPOTENCY_HASH_HEX];
    bool answered;        /* a response is stored; false while the request runs, or if its reply was lost */
    int status;
    char *content_type;   /* malloc'd; NULL when the response had none */
    char *location;       /* malloc'd: the response's Location header; NULL when it had none */
    char *body;           /* malloc'd; NULL when unanswered */
    size_t body_len;
    int64_t created_at;
} store_idempotent_reply;
void store_idempotent_reply_free(store_idempotent_reply *r);

/* The row of (account_id, key): STORE_OK, STORE_NOT_FOUND, or STORE_ERROR. */
store_status store_idempotency_get(store *s, const char *account_id, const char *key, store_idempotent_reply *out);

/* A key to claim in the calling thread's next write transaction. */
typedef struct {
    const char *account_id, *key, *request_hash;
    int64_t now;
    /* set by store_write: */
    bool claimed; /* a committed transaction inserted the row */
    bool twin;    /* the row was there already (another request with this key): that write and every
                     later one on the thread fail as STORE_CONFLICT and write nothing */
} store_idempotency_claim;

/* Arms claim for the calling thread's next store_write (NULL disarms). Until
 * the claim is claimed or found a twin, every store_write on this thread
 * inserts it first, in its own transaction; a write that rolls back takes the
 * row with it, so the next write tries again. The claim must outlive the
 * armed stretch; disarm before it goes out of scope. */
void store_idempotency_arm(store_idempotency_claim *claim);

/* Stores the response of the request that sent key with request_hash.
 * claimed: the request's write inserted the row, which gets the response
 * (STORE_NOT_FOUND if it is gone or already answered). Not claimed (the
 * request wrote nothing): inserts the answered row, STORE_CONFLICT when the
 * key is taken meanwhile. location: the response's Location header, or NULL.
 * body: len bytes of UTF-8 text without NUL. */
store_status store_idempotency_answer(store *s, const store_idempotency_claim *claim, int status,
                                      const char *content_type, const char *location, const char *body, size_t len);

/* Deletes the rows created before `before` (every account's); *deleted (may be NULL) gets the count. */
store_status store_idempotency_purge(store *s, int64_t before, int *deleted);

/* For store.c: inserts the claim's row in the open transaction; DB_CONFLICT if the key is taken. */
db_status store_idempotency_insert_claim(db_conn *c, const store_idempotency_claim *claim);
#endif
