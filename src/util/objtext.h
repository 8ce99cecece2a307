/* The top level of a JSON object held as text (a customer, extras, a stored
 * document), read and merged without building a tree: for the engine, which
 * keeps such objects as opaque text and only ever needs a shallow merge or a
 * string member. The input must be valid JSON (the edge validated it, or
 * jansson / jbuf wrote it); what is not an object reads as {}. */
#ifndef BO_OBJTEXT_H
#define BO_OBJTEXT_H
#include <stdbool.h>
#include <stddef.h>

/* The members of base with those of over set over them, as json_object_update
 * does: a key of both keeps base's place and takes over's value, over's other
 * keys follow in their order. NULL or "" is {}. Malloc'd; NULL out of memory. */
char *objtext_merge(const char *base, const char *over);
/* The string value of the top-level member `key` (unescaped, malloc'd), or
 * NULL when absent, not a string, or holding a NUL. */
char *objtext_string(const char *obj, const char *key);
/* The first top-level member's value that is a string (unescaped,
 * malloc'd): a translated text's first language. NULL when there is none. */
char *objtext_first_string(const char *obj);
/* The text of the top-level member `key`'s value as written (malloc'd), or
 * NULL when absent. */
char *objtext_member(const char *obj, const char *key);
/* The top-level members named keys[0..n) (plain keys: no character JSON
 * escapes) found in one pass: values[i] points at key i's value as written in
 * obj and lens[i] is its length (values[i] NULL when absent; the last one
 * when repeated, as a parser keeps it). False when obj is not one object
 * (nothing but blanks may follow its closing brace), or a value holds a
 * \u0000 (which a parser refuses): the caller then parses it instead. */
/* Where the top-level member `key`'s value is written in obj (not copied;
 * *len its length), or NULL when absent. */
const char *objtext_span(const char *obj, const char *key, size_t *len);
/* The elements of the JSON array written at arr, one per call: *at starts
 * at NULL; each call moves it to the next element's first character and
 * gives its length, false after the last (or when arr is no array). An
 * element that is an object can be read in place with the calls above, which
 * stop at its closing brace. */
bool objtext_next_element(const char *arr, const char **at, size_t *len);
bool objtext_members(const char *obj, const char *const *keys, size_t n, const char **values, size_t *lens);
#endif
