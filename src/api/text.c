/* Helpers every dialect uses on the engine's canonical documents. */
#include "api/api.h"

const char *api_text(const json_t *texts)
{
    const char *en = json_string_value(json_object_get(texts, "en"));
    if (en) return en;
    const char *lang;
    json_t *text;
    json_object_foreach((json_t *)texts, lang, text) return json_string_value(text) ? json_string_value(text) : "";
    return "";
}
