#include "util/utf8.h"
#include <limits.h>
#include <string.h>

int utf8_prefix(const char *s, size_t max)
{
    if (!s) return 0;
    if (max > INT_MAX) max = INT_MAX;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (n < max && p[n]) n++;
    if (p[n] == 0 || (p[n] & 0xc0) != 0x80) return (int)n; /* the next byte starts a character (or ends) */
    /* cut inside a character: step back to its lead byte and drop it */
    while (n > 0 && (p[n] & 0xc0) == 0x80) n--;
    return (int)n;
}

void utf8_trim(char *s)
{
    if (!s) return;
    unsigned char *p = (unsigned char *)s;
    size_t n = strlen(s), i = n;
    while (i > 0 && n - i < 4 && (p[i - 1] & 0xc0) == 0x80) i--;
    if (i == 0 || p[i - 1] < 0xc0) return; /* ends on ASCII, or no lead byte to judge by */
    unsigned char lead = p[i - 1];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (n - (i - 1) < want) p[i - 1] = 0;
}

/* The length of the valid UTF-8 character at p (1-4), or 0 when p starts none:
 * a stray continuation, an overlong form, a surrogate or a code point above U+10FFFF. */
static size_t utf8_char_len(const unsigned char *p)
{
    if (p[0] < 0x80) return 1;
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (!n || p[0] > 0xf4) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
    if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
    return n;
}

void utf8_scrub(char *s)
{
    if (!s) return;
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_char_len(p);
        if (n) p += n;
        else *p++ = '?';
    }
}
