/* Small accessors over JSON documents read by key, for the code that still
 * handles documents as jansson values (dialects, the catalog codec). */
#ifndef BO_JSON_READ_H
#define BO_JSON_READ_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

const char *jstr(const json_t *o, const char *key);          /* NULL if absent / not string */
int64_t jint(const json_t *o, const char *key, int64_t dflt); /* dflt if absent / not integer */
bool jbool(const json_t *o, const char *key, bool dflt);
#endif
