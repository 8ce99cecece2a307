#include "util/secure.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char server_key[SERVER_KEY_BYTES];

bool secure_init(void) { return sodium_init() >= 0; }

void secure_set_server_key(const unsigned char key[SERVER_KEY_BYTES]) { memcpy(server_key, key, SERVER_KEY_BYTES); }

key_load secure_load_key(const char *path)
{
    unsigned char key[SERVER_KEY_BYTES + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? KEY_ABSENT : KEY_BROKEN;
    /* one byte more than a key: a longer file is not a key */
    ssize_t n = read(fd, key, sizeof key);
    close(fd);
    if (n == SERVER_KEY_BYTES) secure_set_server_key(key);
    sodium_memzero(key, sizeof key);
    return n == SERVER_KEY_BYTES ? KEY_LOADED : KEY_BROKEN;
}

/* Written under a temporary name and linked into place, so that a process
 * starting at the same moment finds either no key or a whole one. */
bool secure_create_key(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp) return false;
    unsigned char key[SERVER_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool written = fd >= 0 && write(fd, key, sizeof key) == (ssize_t)sizeof key && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    bool placed = written && link(tmp, path) == 0;
    int link_errno = errno;
    unlink(tmp);
    if (placed) {
        /* the link itself must survive a crash, or the database's fingerprint outlives its key */
        char *dir = strdup(path);
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(dir);
        placed = dfd >= 0 && fsync(dfd) == 0;
        if (dfd >= 0) close(dfd);
        if (placed) secure_set_server_key(key);
    }
    sodium_memzero(key, sizeof key);
    if (placed) return true;
    return written && link_errno == EEXIST && secure_load_key(path) == KEY_LOADED;
}

void secure_key_fingerprint(char out[65])
{
    static const char what[] = "boxoffice server key fingerprint";
    static const unsigned char personal[crypto_generichash_blake2b_PERSONALBYTES] = "bo-key-fprint-1";
    unsigned char h[32];
    crypto_generichash_blake2b_salt_personal(h, sizeof h, (const unsigned char *)what, sizeof what - 1, server_key,
                                             sizeof server_key, NULL, personal);
    sodium_bin2hex(out, 65, h, sizeof h);
}

void secure_purpose_mac(const char *purpose, const void *msg, size_t msglen, unsigned char *out, size_t outlen)
{
    unsigned char personal[crypto_generichash_blake2b_PERSONALBYTES] = {0};
    size_t n = strlen(purpose);
    memcpy(personal, purpose, n < sizeof personal ? n : sizeof personal);
    crypto_generichash_blake2b_salt_personal(out, outlen, msg, msglen, server_key, sizeof server_key, NULL, personal);
}

static void uuid_format(const unsigned char b[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = 0;
}

void rand_uuid(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

/* The first 48 bits of a UUIDv7: the Unix time in milliseconds, big-endian. */
static void unix_ms_bytes(unsigned char b[6])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = 0; i < 6; i++) b[i] = (unsigned char)(ms >> (40 - 8 * i));
}

void time_uuid(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b + 6, sizeof b - 6);
    unix_ms_bytes(b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void time_uuid96(char out[37])
{
    unsigned char r[6], b[16] = {0};
    randombytes_buf(r, sizeof r);
    unix_ms_bytes(b);
    /* tttttttt-tttt-7rrr-8rrr-rrrrrr000000: 12 random digits in the first
     * places time_uuid would give random bits, the rest fixed */
    b[6] = (unsigned char)(0x70 | r[0] >> 4);
    b[7] = (unsigned char)((r[0] & 15) << 4 | r[1] >> 4);
    b[8] = (unsigned char)(0x80 | (r[1] & 15));
    memcpy(b + 9, r + 2, 4);
    uuid_format(b, out);
}

static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* Where the 24 digits sit in a UUID's text: 8, then 4 after the first dash,
 * 3 after the version digit, 3 after the variant digit, 6 after the last dash. */
static const struct {
    int at, n;
} hex24_spans[] = {{0, 8}, {9, 4}, {15, 3}, {20, 3}, {24, 6}};

bool uuid_hex24(const char *uuid, char out[25])
{
    if (!uuid || strlen(uuid) != 36 || uuid[8] != '-' || uuid[13] != '-' || uuid[18] != '-' || uuid[23] != '-')
        return false;
    char *o = out;
    for (size_t i = 0; i < sizeof hex24_spans / sizeof hex24_spans[0]; i++) {
        if (!lower_hex(uuid + hex24_spans[i].at, (size_t)hex24_spans[i].n)) return false;
        memcpy(o, uuid + hex24_spans[i].at, (size_t)hex24_spans[i].n);
        o += hex24_spans[i].n;
    }
    *o = 0;
    return lower_hex(uuid + 14, 1) && lower_hex(uuid + 19, 1) && lower_hex(uuid + 30, 6);
}

bool uuid_from_hex24(const char *hex, char version, char variant, const char tail[7], char out[37])
{
    if (!hex || strlen(hex) != 24 || !lower_hex(hex, 24)) return false;
    snprintf(out, 37, "%.8s-%.4s-%c%.3s-%c%.3s-%.6s%.6s", hex, hex + 8, version, hex + 12, variant, hex + 15, hex + 18,
             tail);
    return true;
}

void rand_digits(char *out, int digits)
{
    /* One call for all the randomness: the kernel call dominates otherwise.
     * Rejection sampling on bytes keeps every digit uniform. */
    unsigned char pool[64];
    size_t used = sizeof pool;
    for (int i = 0; i < digits;) {
        if (used == sizeof pool) {
            randombytes_buf(pool, sizeof pool);
            used = 0;
        }
        unsigned char b = pool[used++];
        if (b >= 250) continue;
        int d = b % 10;
        if (i == 0 && d == 0) continue; /* no leading zero: some scanners strip it */
        out[i++] = (char)('0' + d);
    }
    out[digits] = '\0';
}

uint32_t rand_below(uint32_t upper) { return randombytes_uniform(upper); }

void rand_token(const char *prefix, int bytes, char *out, size_t outlen)
{
    unsigned char b[64];
    if (bytes > 64) bytes = 64;
    randombytes_buf(b, (size_t)bytes);
    size_t plen = strlen(prefix);
    if (outlen < plen + (size_t)bytes * 2 + 1) { out[0] = 0; return; }
    memcpy(out, prefix, plen);
    sodium_bin2hex(out + plen, outlen - plen, b, (size_t)bytes);
}

void secret_hash(const char *secret, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)secret, strlen(secret), server_key, sizeof server_key);
    sodium_bin2hex(out, 65, h, sizeof h);
}

bool secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return false;
    return sodium_memcmp(a, b, la) == 0;
}

char *secret_encrypt(const char *plain)
{
    size_t plen = strlen(plain);
    size_t clen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plen;
    unsigned char *c = malloc(clen);
    randombytes_buf(c, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(c + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, plen, c, server_key);
    size_t blen = sodium_base64_encoded_len(clen, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(blen);
    sodium_bin2base64(out, blen, c, clen, sodium_base64_VARIANT_ORIGINAL);
    free(c);
    return out;
}

char *secret_decrypt(const char *sealed)
{
    size_t slen = strlen(sealed);
    unsigned char *c = malloc(slen + 1);
    size_t clen;
    if (sodium_base642bin(c, slen, sealed, slen, NULL, &clen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        clen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        free(c);
        return NULL;
    }
    size_t plen = clen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *plain = malloc(plen + 1);
    if (crypto_secretbox_open_easy((unsigned char *)plain, c + crypto_secretbox_NONCEBYTES,
                                   clen - crypto_secretbox_NONCEBYTES, c, server_key) != 0) {
        free(c);
        free(plain);
        return NULL;
    }
    plain[plen] = 0;
    free(c);
    return plain;
}

void hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t msglen, char out[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, msg, msglen);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

static char *b64url(const unsigned char *bin, size_t len)
{
    size_t blen = sodium_base64_encoded_len(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = malloc(blen);
    sodium_bin2base64(out, blen, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

char *token_sign(const char *payload)
{
    unsigned char mac[crypto_auth_BYTES];
    size_t plen = strlen(payload);
    crypto_auth(mac, (const unsigned char *)payload, plen, server_key);
    char *p = b64url((const unsigned char *)payload, plen);
    char *m = b64url(mac, sizeof mac);
    size_t n = strlen(p) + strlen(m) + 2;
    char *out = malloc(n);
    snprintf(out, n, "%s.%s", p, m);
    free(p);
    free(m);
    return out;
}

char *token_verify(const char *token)
{
    if (!token) return NULL;
    const char *dot = strchr(token, '.');
    if (!dot || strlen(token) > 8192) return NULL;
    size_t plen_enc = (size_t)(dot - token);
    unsigned char *payload = malloc(plen_enc + 1);
    size_t plen;
    unsigned char mac[crypto_auth_BYTES];
    size_t maclen;
    if (sodium_base642bin(payload, plen_enc, token, plen_enc, NULL, &plen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        sodium_base642bin(mac, sizeof mac, dot + 1, strlen(dot + 1), NULL, &maclen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        maclen != sizeof mac || crypto_auth_verify(mac, payload, plen, server_key) != 0) {
        free(payload);
        return NULL;
    }
    payload[plen] = 0;
    return (char *)payload;
}
