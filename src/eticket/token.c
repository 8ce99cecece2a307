/* Download tokens of e-tickets: stateless, so there is nothing to store,
 * expire or leak from the database. 49 bytes before encoding: the kind, the
 * account's and the object's UUIDs, and a 16-byte MAC over those 33 bytes. */
#include "eticket/eticket.h"
#include "util/secure.h"
#include <sodium.h>
#include <string.h>

#define UUID_BYTES 16
#define MAC_BYTES 16 /* 128 bits: guessing one is out of reach */
#define SIGNED_BYTES (1 + 2 * UUID_BYTES)
#define TOKEN_BYTES (SIGNED_BYTES + MAC_BYTES)
/* Its own personalisation: no other MAC or hash of the server key verifies here. */
#define TOKEN_PURPOSE "bo-eticket-url-1"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Only the canonical lowercase form, so each UUID has one token. */
static bool uuid_parse(const char *s, unsigned char out[UUID_BYTES])
{
    if (!s || strlen(s) != 36) return false;
    size_t k = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
            continue;
        }
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[k++] = (unsigned char)(hi << 4 | lo);
        i++;
    }
    return true;
}

static void uuid_text(const unsigned char b[UUID_BYTES], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < UUID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
        out[k++] = hex[b[i] >> 4];
        out[k++] = hex[b[i] & 15];
    }
    out[k] = 0;
}

bool eticket_token_make(eticket_kind kind, const char *account_id, const char *object_id,
                        char out[ETICKET_TOKEN_MAX])
{
    unsigned char raw[TOKEN_BYTES];
    raw[0] = (unsigned char)kind;
    if (!uuid_parse(account_id, raw + 1) || !uuid_parse(object_id, raw + 1 + UUID_BYTES)) return false;
    secure_purpose_mac(TOKEN_PURPOSE, raw, SIGNED_BYTES, raw + SIGNED_BYTES, MAC_BYTES);
    sodium_bin2base64(out, ETICKET_TOKEN_MAX, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return true;
}

bool eticket_token_read(const char *token, eticket_kind kind, char account_id[37], char object_id[37])
{
    unsigned char raw[TOKEN_BYTES], mac[MAC_BYTES];
    size_t n = 0;
    const char *end = NULL;
    size_t tlen = token ? strlen(token) : 0;
    /* the exact length first: libsodium would accept a token cut inside its
     * last character's padding bits, and base64 has no other slack */
    if (tlen != sodium_base64_ENCODED_LEN(TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1) return false;
    if (sodium_base642bin(raw, sizeof raw, token, tlen, NULL, &n, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        n != TOKEN_BYTES || *end)
        return false;
    if (raw[0] != (unsigned char)kind) return false;
    secure_purpose_mac(TOKEN_PURPOSE, raw, SIGNED_BYTES, mac, MAC_BYTES);
    if (sodium_memcmp(mac, raw + SIGNED_BYTES, MAC_BYTES)) return false;
    /* one spelling per token: re-encoding must give back the same text, so no
     * second string (other trailing bits) names the same object */
    char again[ETICKET_TOKEN_MAX];
    sodium_bin2base64(again, sizeof again, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (strcmp(again, token)) return false;
    uuid_text(raw + 1, account_id);
    uuid_text(raw + 1 + UUID_BYTES, object_id);
    return true;
}
