/* Whole requests through the router and every endpoint's handler, on the
 * demo account in a throwaway SQLite database: routing, path parameters,
 * query arguments, authentication, body decoding (JSON and form) and each
 * dialect's validation and error shapes.
 *
 * A request without an Authorization header gets the demo credential of the
 * dialect its path names, so inputs reach the handlers rather than stopping
 * at 401. Besides the sanitizers, it checks what every handler promises:
 * exactly one reply per request, and a JSON reply that is valid JSON. A 5xx
 * answer to a client's input is a crash too: it means the server did not
 * recognise bad input as the client's mistake (FUZZ_ALLOW_5XX=1 turns that
 * check off). */
#include "api/api.h"
#include "catalog_doc/catalog_doc.h"
#include "demo.h"
#include "request.h"
#include "store/store.h"
#include "util/secure.h"
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

static http_server server;
static app application;
static char db_dir[64];
static char convious_auth[128];
static char tickettailor_auth[128];
static bool allow_5xx;

/* Every this many runs the database goes back to the seeded copy: what the
 * runs create (catalog versions, carts, orders) would otherwise slow every
 * later run, and a crash would depend on ever more history. */
#define RUNS_PER_DATABASE 1000
static unsigned long runs;

static void die(const char *what)
{
    fprintf(stderr, "fuzz/router: %s\n", what);
    exit(2);
}

static void db_path(char *out, size_t n, const char *file) { snprintf(out, n, "%s/%s", db_dir, file); }

static void remove_files(bool pristine_too)
{
    static const char *const files[] = {"fuzz.db", "fuzz.db-wal", "fuzz.db-shm", "pristine.db"};
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0] - !pristine_too; i++) {
        db_path(path, sizeof path, files[i]);
        unlink(path);
    }
}

static void remove_db(void)
{
    remove_files(true);
    rmdir(db_dir);
}

static void copy_file(const char *from_file, const char *to_file)
{
    char from[128], to[128];
    db_path(from, sizeof from, from_file);
    db_path(to, sizeof to, to_file);
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) die("cannot copy the seeded database");
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) die("cannot copy the seeded database");
    fclose(in);
    if (fclose(out)) die("cannot copy the seeded database");
}

static void open_engine(void)
{
    char uri[128], *err = NULL;
    snprintf(uri, sizeof uri, "sqlite:%s/fuzz.db", db_dir);
    store *st = store_open(uri, &err);
    if (!st || store_migrate(st, &err) != DB_OK) die(err ? err : "cannot open the database");
    engine_config ec = {.default_hold_seconds = 900, .catalog_codec = &catalog_doc_json_codec};
    application.e = engine_open(st, &ec);
    tickettailor_install(application.e);
    fourvenues_install(application.e);
    order_json_install(application.e);
}

/* Closing checkpoints the WAL into fuzz.db: the file alone is the database. */
static void close_engine(void)
{
    store *st = engine_store(application.e);
    engine_close(application.e);
    store_close(st);
    application.e = NULL;
}

static void reset_db(void)
{
    close_engine();
    remove_files(false);
    copy_file("pristine.db", "fuzz.db");
    open_engine();
}

/* Runs one request; finish() frees it and its fake connection. */
static http_request *run(const uint8_t *data, size_t len)
{
    fake_conn *c = malloc(sizeof *c);
    size_t body_at;
    http_request *r = fake_request(&server, c, data, len, &body_at);
    if (!http_header(r, "Authorization") && c->nheaders < FAKE_MAX_VALUES) {
        const char *auth = !strncmp(r->path, "/admin/", 7)          ? "Bearer demo-admin-token"
                           : !strncmp(r->path, "/convious/", 10)    ? convious_auth
                           : !strncmp(r->path, "/tickettailor/", 14) ? tickettailor_auth
                                                                     : NULL;
        if (auth) c->headers[c->nheaders++] = (fake_value){"Authorization", auth};
    }
    if (!strncmp(r->path, "/cm/", 4) && !http_header(r, "X-CM-PRODUCTTOKEN") && c->nheaders < FAKE_MAX_VALUES)
        c->headers[c->nheaders++] = (fake_value){"X-CM-PRODUCTTOKEN", "11111111-2222-3333-4444-555555555555"};
    if (!strncmp(r->path, "/fourvenues/", 12) && !http_header(r, "X-Api-Key") && c->nheaders < FAKE_MAX_VALUES)
        c->headers[c->nheaders++] = (fake_value){"X-Api-Key", "fv_demo_key"};
    if (router_route(r)) {
        size_t body_len = len - body_at;
        size_t limit = r->route->auth_kind ? server.cfg.max_body_bytes : HTTP_PUBLIC_BODY_MAX;
        if (body_len > limit) router_reply_error(r, 413, "payload_too_large", "request body exceeds the limit");
        else {
            fake_body(r, data + body_at, body_len);
            router_run(r);
        }
    }
    return r;
}

static void finish(http_request *r)
{
    fake_conn *c = (fake_conn *)r->conn;
    request_free(r);
    free(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    allow_5xx = getenv("FUZZ_ALLOW_5XX") && !strcmp(getenv("FUZZ_ALLOW_5XX"), "1");
    if (!secure_init()) die("libsodium failed to initialise");
    unsigned char key[SERVER_KEY_BYTES] = {42};
    secure_set_server_key(key);
    /* in memory where there is a tmpfs: every commit writes the WAL. Named
     * by the process id so scripts/fuzz.sh can remove it after a crash
     * (which skips atexit). */
    snprintf(db_dir, sizeof db_dir, "/dev/shm/boxoffice-fuzz-%d", (int)getpid());
    if (mkdir(db_dir, 0700)) {
        snprintf(db_dir, sizeof db_dir, "/tmp/boxoffice-fuzz-%d", (int)getpid());
        if (mkdir(db_dir, 0700)) die("cannot make a directory for the database");
    }
    atexit(remove_db);
    /* a rate limit no run reaches, and tokens that outlive any run */
    application = (app){.oauth_token_ttl = 10 * 365 * 86400, .rate_limit_per_hour = 1000000000};
    open_engine();
    bo_error be = {0};
    if (demo_seed(application.e, &be) != BO_OK) die(be.message);
    static const http_route_table *tables[11];
    tables[0] = root_routes();
    tables[1] = admin_routes();
    tables[2] = convious_routes();
    tables[3] = tickettailor_routes();
    tables[4] = ticket_download_routes();
    tables[5] = order_download_routes();
    tables[6] = pay_page_routes();
    tables[7] = payment_notify_routes();
    tables[8] = cm_routes();
    tables[9] = fourvenues_routes();
    tables[10] = convious_pricing_routes();
    server = (http_server){.tables = tables, .ntables = 11, .app = &application,
                           .cfg = {.max_body_bytes = 1024 * 1024}};

    char b64[96];
    static const char key_user[] = "sk_demo_tickettailor:";
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)key_user, strlen(key_user),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(tickettailor_auth, sizeof tickettailor_auth, "Basic %s", b64);

    static const char token_request[] = "POST /convious/oauth/token/\n"
                                        "Content-Type: application/x-www-form-urlencoded\n\n"
                                        "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret";
    http_request *r = run((const uint8_t *)token_request, strlen(token_request));
    json_t *reply = r->reply_body ? json_loads(r->reply_body, 0, NULL) : NULL;
    const char *token = json_string_value(json_object_get(reply, "access_token"));
    if (r->status != 200 || !token) die("the demo OAuth client got no token");
    snprintf(convious_auth, sizeof convious_auth, "Bearer %s", token);
    json_decref(reply);
    finish(r);
    /* the seeded state, token included, is what reset_db goes back to */
    close_engine();
    copy_file("fuzz.db", "pristine.db");
    open_engine();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (++runs % RUNS_PER_DATABASE == 0) reset_db();
    http_request *r = run(data, size);
    if (!r->replied) {
        fprintf(stderr, "fuzz/router: %s %s got no reply\n", r->method, r->path);
        abort();
    }
    if (r->content_type && !strncmp(r->content_type, "application/json", 16) && r->reply_bytes) {
        json_error_t je;
        json_t *j = json_loadb(r->reply_body, r->reply_bytes, JSON_DECODE_ANY, &je);
        if (!j) {
            fprintf(stderr, "fuzz/router: %s %s replied %d with invalid JSON (%s): %.300s\n", r->method, r->path,
                    r->status, je.text, r->reply_body);
            abort();
        }
        json_decref(j);
    }
    if (r->status >= 500 && !allow_5xx) {
        fprintf(stderr, "fuzz/router: %s %s answered %d: %.300s\n", r->method, r->path, r->status,
                r->reply_body ? r->reply_body : "");
        abort();
    }
    finish(r);
    return 0;
}
