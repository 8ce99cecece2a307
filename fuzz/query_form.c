/* The request-reading layer alone, on the request format of fuzz/request.h:
 * form bodies (http_form: splitting, percent-decoding, '+' as a space, the
 * UTF-8 filter), query arguments and the router's encoding checks
 * (router_route on an empty route table: the query must be UTF-8, the path
 * must not hide a NUL), the Host header's cleaning for http_base_url, and
 * path parameters matched against a table of patterns.
 *
 * What it checks besides the sanitizers: every form value a handler can see
 * is UTF-8 (handlers see only text), a value found for a name is the value of
 * the first pair with that name, the base URL keeps to host characters, and
 * a path parameter is UTF-8 or empty and holds no '/' unless the client sent
 * it encoded (%2F is data, not a separator) or the parameter takes the rest
 * of the path ({name*}). */
#include "request.h"

static int hits;
static void handler(http_request *r, void *app) { hits++; }

/* A table whose patterns take parameters at every depth. */
static const http_route routes[] = {
    {"GET", "/a/{x}", handler, 0},
    {"GET", "/a/{x}/b/{y}/", handler, 0},
    {"POST", "/a/{x}/{y}/{z}", handler, 0},
    {"GET", "/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}/{p7}/{p8}/{p9}", handler, 0},
    {"GET", "/r/{rest*}", handler, 0},
};
static const http_route_table table = {"/t", routes, sizeof routes / sizeof routes[0], NULL, NULL, NULL};
static const http_route_table *const tables[] = {&table};
static http_server server = {.tables = tables, .ntables = 1};

#define MUST(cond)                                                                                                 \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            fprintf(stderr, "fuzz/query_form: %s:%d: %s\n", __FILE__, __LINE__, #cond);                           \
            abort();                                                                                               \
        }                                                                                                          \
    } while (0)

static void check_form(http_request *r)
{
    static const char *const names[] = {"grant_type", "client_id", "", "a", "a b", "x[]", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = http_form(r, names[i]);
        MUST(!v || utf8_valid(v));
    }
    /* after the first lookup the pairs are parsed: each is text, and a
     * lookup by a pair's own name finds the first pair of that name */
    for (size_t i = 0; r->form[i]; i += 2) {
        MUST(utf8_valid(r->form[i]) && utf8_valid(r->form[i + 1]));
        size_t first = 0;
        while (strcmp(r->form[first], r->form[i])) first += 2;
        MUST(http_form(r, r->form[i]) == r->form[first + 1]);
    }
    (void)http_body_is_form(r);
}

/* Whether the raw path (not its query) holds an encoded slash. */
static bool path_has_encoded_slash(const char *raw_uri)
{
    size_t end = strcspn(raw_uri, "?#");
    for (size_t i = 0; i + 2 < end; i++)
        if (raw_uri[i] == '%' && raw_uri[i + 1] == '2' && (raw_uri[i + 2] | 0x20) == 'f') return true;
    return false;
}

static void check_route(http_request *r)
{
    if (router_route(r)) {
        MUST(r->route && r->nparams <= MAX_PATH_PARAMS);
        for (int i = 0; i < r->nparams; i++) {
            /* a slash in a value is data the client sent encoded (%2F), or the
             * rest of the path a last {name*} parameter takes; else it separates */
            bool rest = r->param_names[i][r->param_name_lens[i]] == '*';
            MUST(!strchr(r->param_values[i], '/') || rest || path_has_encoded_slash(r->raw_uri));
            MUST(utf8_valid(r->param_values[i]));
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)r->param_name_lens[i], r->param_names[i]);
            MUST(http_path_param(r, name) != NULL);
        }
        router_run(r);
    } else MUST(r->replied);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fake_conn c;
    size_t body_at;
    http_request *r = fake_request(&server, &c, data, size, &body_at);
    fake_body(r, data + body_at, size - body_at);
    check_form(r);
    const char *url = http_base_url(r);
    MUST(!strncmp(url, "http://", 7));
    for (const char *p = url + 7; *p; p++) MUST(isalnum((unsigned char)*p) || strchr(".:-[]", *p));
    (void)http_query_string(r);
    for (int i = 0; i < c.nargs; i++) (void)http_query(r, c.args[i].key);
    check_route(r);
    request_free(r);
    return 0;
}
