/* UTF-8 helpers for text that echoes client input. */
#ifndef BO_UTF8_H
#define BO_UTF8_H
#include <stddef.h>

/* The length in bytes of the longest prefix of s of at most max bytes that
 * ends on a character boundary: for "%.*s" when a message echoes a client
 * value, so a cut never splits a multi-byte character (jansson refuses such
 * a string and the reply would lose its message). */
int utf8_prefix(const char *s, size_t max);

/* Drops an incomplete character from the end of s (what snprintf leaves when
 * it cuts a message at its buffer's size). */
void utf8_trim(char *s);

/* Replaces each byte of s that begins no valid UTF-8 character with '?', so a
 * message echoing client bytes (a method, an id) can always go into JSON. */
void utf8_scrub(char *s);

#endif
