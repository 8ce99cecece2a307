/* Idempotency-Key on every authenticated POST of every dialect: the around fn
 * of the admin, Convious and Ticket Tailor route tables (docs/ARCHITECTURE.md,
 * "Idempotency"). A retry with the same key and the same request gets the
 * first response again and runs nothing; the same key with another request
 * gets 422; a key whose first request has not answered (still running, or
 * applied and its reply lost in a crash) gets 409.
 *
 * The key's row is inserted by the request's first write transaction, inside
 * it (store_idempotency_arm): a request that wrote anything has its key
 * committed with it, so a retry after a kill finds the key and cannot create
 * twice. Requests that write nothing store their response afterwards. */
#include "api/api.h"
#include "store/idempotency_store.h"
#include "util/log.h"
#include "util/timeutil.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define IDEMPOTENCY_KEY_MAX 255

static bool key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > IDEMPOTENCY_KEY_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x21 || key[i] > 0x7e) return false;
    return true;
}

/* What makes two requests the same request: method, path, query and body,
 * each ended by a NUL so that no two different requests run together. */
static void request_hash(http_request *r, char out[IDEMPOTENCY_HASH_HEX])
{
    crypto_generichash_state st;
    unsigned char digest[32];
    size_t body_len;
    const char *body = http_body(r, &body_len);
    const char *parts[] = {http_method(r), http_path(r), http_query_string(r)};
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        crypto_generichash_update(&st, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    if (body_len) crypto_generichash_update(&st, (const unsigned char *)body, body_len);
    crypto_generichash_final(&st, digest, sizeof digest);
    sodium_bin2hex(out, IDEMPOTENCY_HASH_HEX, digest, sizeof digest);
}

static void reply_in_use(http_request *r)
{
    http_reply_error(r, 409, "idempotency_key_in_use",
                     "a request with this Idempotency-Key has not answered yet: it is still "
                     "running, or it was applied and its reply was lost; retry later, or look the object up");
}

/* Answers from the key's row: the stored response, or why there is none. */
static void answer_from(http_request *r, const store_idempotent_reply *prior, const char *hash)
{
    if (strcmp(prior->request_hash, hash)) {
        http_reply_error(r, 422, "idempotency_key_reused",
                         "this Idempotency-Key was sent with another request; use a new key "
                         "for a new request");
        return;
    }
    if (!prior->answered) {
        reply_in_use(r);
        return;
    }
    http_add_header(r, "Idempotent-Replayed", "true");
    if (prior->location) http_add_header(r, "Location", http_strdup(r, prior->location));
    http_reply_raw(r, prior->status, prior->content_type ? http_strdup(r, prior->content_type) : NULL,
                   prior->body, prior->body_len);
}

/* Stores the handler's response for the retries. A server error is not kept
 * (a retry may succeed), nor a reply marked Cache-Control: no-store (a new
 * secret must not wait in the database), nor one that is not JSON: a key whose write committed then
 * stays unanswered, and its retries get 409. */
static void keep_response(http_request *r, store *s, const store_idempotency_claim *claim)
{
    int status = http_reply_status(r);
    const char *no_store = http_reply_header(r, "Cache-Control");
    if (status == 0 || status >= 500 || (no_store && strstr(no_store, "no-store"))) return;
    size_t len;
    const char *content_type;
    const char *body = http_reply_body(r, &len, &content_type);
    /* a JSON reply is UTF-8 text, as the column must be; nothing else is kept */
    if (content_type && !strstr(content_type, "json")) return;
    store_status st =
        store_idempotency_answer(s, claim, status, content_type, http_reply_header(r, "Location"), body, len);
    if (st != STORE_OK && !(st == STORE_CONFLICT && !claim->claimed))
        log_warn("%s: reply of Idempotency-Key %s not kept (%d)", http_request_id(r), claim->key, (int)st);
}

void api_idempotent(http_request *r, http_handler handler, void *app_)
{
    const char *key = http_header(r, "Idempotency-Key");
    if (!key || strcmp(http_method(r), "POST")) {
        handler(r, app_);
        return;
    }
    if (!key_valid(key)) {
        http_reply_error(r, 400, "invalid_idempotency_key",
                         "Idempotency-Key must be 1 to 255 printable ASCII characters");
        return;
    }
    const account *a = api_account(r);
    store *s = engine_store(((app *)app_)->e);
    char hash[IDEMPOTENCY_HASH_HEX];
    request_hash(r, hash);
    store_idempotent_reply prior;
    store_status st = store_idempotency_get(s, a->id, key, &prior);
    if (st == STORE_OK) {
        answer_from(r, &prior, hash);
        store_idempotent_reply_free(&prior);
        return;
    }
    if (st != STORE_NOT_FOUND) {
        http_reply_error(r, 500, "internal_error", "the Idempotency-Key could not be checked; try again");
        return;
    }
    store_idempotency_claim claim = {.account_id = a->id, .key = key, .request_hash = hash, .now = clock_now()};
    store_idempotency_arm(&claim);
    handler(r, app_);
    store_idempotency_arm(NULL);
    if (claim.twin) { /* a twin holds the key: its write ran, ours wrote nothing */
        http_reply_retract(r);
        reply_in_use(r);
        return;
    }
    keep_response(r, s, &claim);
}
