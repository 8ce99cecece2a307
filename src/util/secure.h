/* Randomness and cryptography, all from libsodium. The server key (32 bytes)
 * keys credential hashes, encrypts secrets at rest and signs tokens; it is set
 * once at start-up before any thread runs and only read afterwards. */
#ifndef BO_SECURE_H
#define BO_SECURE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERVER_KEY_BYTES 32
bool secure_init(void);
void secure_set_server_key(const unsigned char key[SERVER_KEY_BYTES]);
typedef enum {
    KEY_LOADED,  /* read and set as the server key */
    KEY_ABSENT,  /* no file at the path */
    KEY_BROKEN,  /* a file, but unreadable or not SERVER_KEY_BYTES long */
} key_load;
/* Sets the server key from the file at `path`. */
key_load secure_load_key(const char *path);
/* Creates the file (mode 0600) with fresh random bytes and sets them as the
 * server key; if another process created it first, loads theirs instead. */
bool secure_create_key(const char *path);
/* A keyed BLAKE2b of a fixed text under the server key, hex (64 chars): the
 * database records it so that a process holding another key is refused. It
 * reveals nothing of the key and matches no credential hash (own personalisation). */
void secure_key_fingerprint(char out[65]);

void rand_uuid(char out[37]);
/* UUIDv7: a millisecond timestamp, then 74 random bits. Rows keyed by these
 * are appended at the end of their B-tree instead of dirtying a random page
 * per insert, which is what a batch commit pays for. Never for secrets. */
void time_uuid(char out[37]);
/* A UUIDv7 with 48 random bits instead of 74, the other 26 zero, so that its
 * 96 significant bits (time and randomness) fit 24 hex digits exactly:
 * uuid_hex24 and uuid_from_hex24(hex, '7', '8', "000000") map one to the
 * other (the Fourvenues dialect's 24-hex ticket ids). Within one millisecond
 * two ids clash with odds 2^-48 per pair. Never for secrets. */
void time_uuid96(char out[37]);
/* A UUID's text (lower-case) less its version digit, its variant digit and
 * its last six digits: all of a time_uuid96's significant bits, 96 of any
 * other UUID's; false when uuid is not a UUID's lower-case text. */
bool uuid_hex24(const char *uuid, char out[25]);
/* The UUID whose uuid_hex24 is hex, with the given version and variant digits
 * and last six digits; false when hex is not 24 lower-case hex digits. */
bool uuid_from_hex24(const char *hex, char version, char variant, const char tail[7], char out[37]);
/* `digits` decimal digits, uniformly random; 20 digits carry 66 bits. */
void rand_digits(char *out, int digits);
/* prefix + 2*bytes lowercase hex characters. */
void rand_token(const char *prefix, int bytes, char *out, size_t outlen);
uint32_t rand_below(uint32_t upper);

/* Keyed BLAKE2b of a credential, hex (64 chars). Credentials are looked up by
 * this hash, so the plain secret is never stored and lookup stays one index probe. */
void secret_hash(const char *secret, char out[65]);
bool secret_equal(const char *a, const char *b); /* constant time over equal lengths */

/* Encryption at rest for secrets the server must use itself (webhook signing
 * keys, provider keys): XSalsa20-Poly1305, output base64. Caller frees. */
char *secret_encrypt(const char *plain);
char *secret_decrypt(const char *sealed); /* NULL if tampered */

void hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t msglen, char out[65]);

/* A keyed BLAKE2b of msg under the server key, personalised by `purpose`
 * (at most 16 bytes, one per use), so a MAC made for one purpose never
 * verifies for another nor matches a credential hash; outlen 16..64. */
void secure_purpose_mac(const char *purpose, const void *msg, size_t msglen, unsigned char *out, size_t outlen);

/* Signed tokens: base64url(payload) "." base64url(mac). Caller frees. */
char *token_sign(const char *payload);
char *token_verify(const char *token); /* payload, or NULL when forged */
#endif
