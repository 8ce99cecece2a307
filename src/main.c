/* boxoffice: the command-line entry point. */
#include "api/api.h"
#include "core/mail.h"
#include "eticket/eticket.h"
#include "config.h"
#include "demo.h"
#include "server_key.h"
#include "store/analytics_store.h"
#include "util/log.h"
#include "util/secure.h"
#include <errno.h>
#include <libgen.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BOXOFFICE_VERSION "0.1.0"

static const char usage[] =
    "usage: boxoffice COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  serve      serve every API (--listen HOST:PORT, default 127.0.0.1:8080)\n"
    "  migrate    apply pending database migrations\n"
    "  demo       seed the demo account (idempotent)\n"
    "  account    create an account: --slug S --timezone TZ --currency CUR --admin-token T [--name N]\n"
    "  routes     print every served route: METHOD PATH AUTH (AUTH 0 = public)\n"
    "  version    print the version\n"
    "\n"
    "options (flags override BOXOFFICE_* environment variables, which override the config file):\n"
    "  --db URI            sqlite:PATH or postgresql://... (default sqlite:var/boxoffice.db)\n"
    "  --config FILE       key = value settings file\n"
    "  --listen HOST:PORT  address to serve on\n"
    "  --probe-listen HOST:PORT  also serve GET /healthz and /readyz alone on this address, with its own\n"
    "                      connections, so a probe is answered however busy --listen is\n"
    "  --threads N         HTTP threads: 0 = one per connection (default), N = a pool of N\n"
    "  --max-body BYTES    request body limit (default 1048576)\n"
    "  --request-timeout S seconds a client has to send a whole request or take a reply;\n"
    "                      trickling bytes does not extend it (default 10)\n"
    "  --max-connections N connections open at once (default 4096, lowered to the open-file limit)\n"
    "  --max-connections-per-ip N  connections from one client address (default 256; 0 = no limit,\n"
    "                      e.g. behind a reverse proxy)\n"
    "  --key-file PATH     server key for hashing credentials, sealing secrets and signing tokens\n"
    "                      (default: beside a SQLite database, PATH.key; required for PostgreSQL)\n"
    "  --hold-seconds N    default cart hold (default 900)\n"
    "  --rate-limit N      Ticket Tailor requests per API key per hour (default 2000)\n"
    "  --webhook-allow LIST  addresses webhooks and mail may reach although private or loopback,\n"
    "                      e.g. 127.0.0.1,::1 or 10.1.0.0/16 (local testing; default none)\n"
    "  --sqlite-max-pages N  refuse writes that would grow a SQLite database past N pages\n"
    "                      (a quota; answered like a full disk: 503; default 0, no cap)\n"
    "  --reply-cache-bytes N memory for rendered replies of read endpoints (default 32 MiB; 0: none)\n"
    "  --analytics-retention-days N  days Convious pricing analytics events and counters are kept\n"
    "                      (default 30)\n"
    "  --analytics-per-ip N, --analytics-per-cookie N  analytics events per minute from one /24 or\n"
    "                      /48 network and from one cookie (default 6000 and 600)\n"
    "  --analytics-dir PATH  directory of the raw analytics events' log, a gzip'd JSON-lines file a\n"
    "                      day (default: beside a SQLite database, PATH-analytics-events; for\n"
    "                      PostgreSQL, or when `none`, the database's analytics_events table)\n"
    "  --pricing-interval-ms N  how often dynamic prices are refitted and replanned (default 600000)\n"
    "  --pricing-horizon-days N days ahead the price plans cover (default 14)\n"
    "  --pricing-prior-orders-per-hour X, --pricing-prior-elasticity X\n"
    "                      the demand prior of products without sales (defaults 0.2 and 1.5)\n"
    "  --test-clock        allow POST /admin/v1/test/clock (tests only)\n"
    "  --no-access-log     do not log one line per request\n"
    "  --help              this text\n"
    "\n"
    "exit status: 0 done, 1 failed, 2 bad usage, 3 the server key is not the one the database was\n"
    "set up with (or is missing and must not be made anew)\n";

typedef struct {
    const char *slug, *name, *timezone, *currency, *admin_token;
} account_args;

static int fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "boxoffice: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

/* Says why a command stopped; returns its exit status. */
static int complain(int status, const char *why)
{
    fprintf(stderr, "boxoffice: %s\n", why);
    return status;
}

/* Flags with a value, mapped to config keys. */
static const struct {
    const char *flag, *key;
} value_flags[] = {
    {"--db", "db"},           {"--listen", "listen"},           {"--probe-listen", "probe_listen"},           {"--threads", "threads"},
    {"--max-body", "max_body"}, {"--key-file", "key_file"},     {"--hold-seconds", "hold_seconds"},
    {"--request-timeout", "request_timeout"}, {"--max-connections", "max_connections"},
    {"--max-connections-per-ip", "max_connections_per_ip"},
    {"--rate-limit", "rate_limit_per_hour"}, {"--reaper-ms", "reaper_interval_ms"},
    {"--webhook-allow", "webhook_allow"}, {"--sqlite-max-pages", "sqlite_max_pages"},
    {"--reply-cache-bytes", "reply_cache_bytes"},
    {"--analytics-retention-days", "analytics_retention_days"},
    {"--analytics-per-ip", "analytics_per_ip_per_minute"},
    {"--analytics-per-cookie", "analytics_per_cookie_per_minute"}, {"--analytics-dir", "analytics_dir"},
    {"--pricing-interval-ms", "pricing_interval_ms"}, {"--pricing-horizon-days", "pricing_horizon_days"},
    {"--pricing-prior-orders-per-hour", "pricing_prior_orders_per_hour"},
    {"--pricing-prior-elasticity", "pricing_prior_elasticity"},
};

/* The account command. credential_add is idempotent on the secret: a token
 * another account already uses adds nothing and still answers BO_OK, so the
 * owner is checked before the account is made (nothing is stored then) and
 * again after the token is added (a concurrent taker). */
static int create_account(engine *e, const account_args *acct)
{
    account a, owner;
    bo_error err = {0};
    bo_status st = auth_lookup(e, CRED_ADMIN_TOKEN, acct->admin_token, &owner);
    if (st == BO_OK) {
        fprintf(stderr, "boxoffice: account: this admin token belongs to another account; choose another "
                        "(nothing was created)\n");
        return 1;
    }
    if (st == BO_INTERNAL) {
        fprintf(stderr, "boxoffice: account: cannot read credentials (nothing was created)\n");
        return 1;
    }
    if (account_create(e, acct->slug, acct->name, acct->timezone, acct->currency, &a, &err) != BO_OK ||
        credential_add(e, &a, CRED_ADMIN_TOKEN, NULL, acct->admin_token, "cli", 0, &err) != BO_OK) {
        fprintf(stderr, "boxoffice: account: %s\n", err.message);
        return 1;
    }
    if (auth_lookup(e, CRED_ADMIN_TOKEN, acct->admin_token, &owner) != BO_OK || strcmp(owner.id, a.id)) {
        fprintf(stderr,
                "boxoffice: account: this admin token was taken by another account meanwhile; account %s (%s) "
                "has no admin token: run the command again with another --slug and --admin-token\n",
                a.id, a.slug);
        return 1;
    }
    printf("%s\n", a.id);
    return 0;
}

static int parse_args(int argc, char **argv, config *cfg, account_args *acct)
{
    const char *config_path = getenv("BOXOFFICE_CONFIG");
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) return fail("%s needs a value", "--config", NULL);
            config_path = argv[i + 1];
        }
    char err[512];
    if (config_path && !config_load_file(cfg, config_path, err, sizeof err)) return fail("%s", err, NULL);
    if (!config_load_env(cfg, err, sizeof err)) return fail("%s", err, NULL);
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--config")) {
            i++;
            continue;
        }
        if (!strcmp(arg, "--test-clock")) {
            cfg->test_clock = true;
            continue;
        }
        if (!strcmp(arg, "--no-access-log")) {
            cfg->access_log = false;
            continue;
        }
        const char **acct_field = NULL;
        if (!strcmp(arg, "--slug")) acct_field = &acct->slug;
        else if (!strcmp(arg, "--name")) acct_field = &acct->name;
        else if (!strcmp(arg, "--timezone")) acct_field = &acct->timezone;
        else if (!strcmp(arg, "--currency")) acct_field = &acct->currency;
        else if (!strcmp(arg, "--admin-token")) acct_field = &acct->admin_token;
        if (acct_field) {
            if (i + 1 >= argc) return fail("%s needs a value", arg, NULL);
            *acct_field = argv[++i];
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof value_flags / sizeof value_flags[0]; k++)
            if (!strcmp(arg, value_flags[k].flag)) break;
        if (k == sizeof value_flags / sizeof value_flags[0]) return fail("unknown option %s (see --help)", arg, NULL);
        if (i + 1 >= argc) return fail("%s needs a value", arg, NULL);
        const char *why;
        if (!config_set(cfg, value_flags[k].key, argv[++i], &why)) return fail("%s: %s", arg, why);
    }
    return 0;
}

static bool ensure_parent_dir(const char *path)
{
    char *copy = strdup(path);
    char *dir = dirname(copy);
    bool ok = mkdir(dir, 0700) == 0 || errno == EEXIST;
    free(copy);
    return ok;
}

static store *open_store(const config *cfg)
{
    if (!strncmp(cfg->db, "sqlite:", 7) && !ensure_parent_dir(cfg->db + 7)) {
        fprintf(stderr, "boxoffice: cannot create the directory of %s\n", cfg->db + 7);
        return NULL;
    }
    char *err = NULL;
    store *st = store_open(cfg->db, &err);
    if (!st) {
        fprintf(stderr, "boxoffice: cannot open database: %s\n", err ? err : "unknown error");
        free(err);
    }
    return st;
}

/* The route tables every server serves, in matching order. */
#define SERVED_TABLES 11
static size_t served_tables(const http_route_table *out[SERVED_TABLES])
{
    out[0] = root_routes(), out[1] = admin_routes(), out[2] = convious_routes(), out[3] = tickettailor_routes();
    out[4] = ticket_download_routes(), out[5] = order_download_routes(), out[6] = cm_routes();
    out[7] = pay_page_routes(), out[8] = payment_notify_routes();
    out[9] = fourvenues_routes();
    out[10] = convious_pricing_routes();
    return SERVED_TABLES;
}

/* For tests that must cover every route without listing them again. */
static int print_routes(void)
{
    const http_route_table *tables[SERVED_TABLES];
    size_t n = served_tables(tables);
    for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < tables[t]->nroutes; i++)
            printf("%s %s%s %d\n", tables[t]->routes[i].method, tables[t]->prefix, tables[t]->routes[i].pattern,
                   tables[t]->routes[i].auth_kind);
    return 0;
}

/* Exit status of a command refused because its server key is not the
 * database's (or is missing where it must not be made): scripts can tell it
 * from a failure worth retrying. */
#define EXIT_WRONG_KEY 3

/* 0 once the server key is set and matches the database's record, else the
 * exit status, after saying why. With `quiet_schema`, a database that
 * predates the record answers SERVER_KEY_NO_SCHEMA's -1 silently. */
static int settle_key(store *st, const char *key_path, bool chosen, bool quiet_schema)
{
    if (chosen && !ensure_parent_dir(key_path))
        return complain(1, "cannot create the directory of the server key");
    char why[768];
    switch (server_key_settle(st, key_path, chosen, why, sizeof why)) {
    case SERVER_KEY_OK: return 0;
    case SERVER_KEY_NO_SCHEMA: return quiet_schema ? -1 : complain(1, why);
    case SERVER_KEY_REFUSED: return complain(EXIT_WRONG_KEY, why);
    case SERVER_KEY_FAILED: break;
    }
    return complain(1, why);
}

/* The migrate command. The key is checked before migrating when the database
 * can tell (so a wrong key changes nothing), and recorded after. */
static int migrate(store *st, const char *key_path, bool chosen)
{
    int rc = settle_key(st, key_path, chosen, true);
    if (rc > 0) return rc;
    char *err = NULL;
    db_status ds = store_migrate(st, &err);
    if (ds != DB_OK) fprintf(stderr, "boxoffice: %s\n", err ? err : "migration failed");
    free(err);
    if (ds != DB_OK) return 1;
    return rc < 0 ? settle_key(st, key_path, chosen, false) : 0;
}

static int run_serve(const config *cfg, engine *e)
{
    tickettailor_install(e);
    fourvenues_install(e);
    order_json_install(e);
    mail_set_pdf_renderer(e, eticket_order_pdf); /* confirmation mails attach the order's e-tickets */
    app a = {.e = e, .test_clock = cfg->test_clock, .oauth_token_ttl = cfg->oauth_token_ttl,
             .rate_limit_per_hour = cfg->rate_limit_per_hour,
             .replies = http_reply_cache_new((size_t)cfg->reply_cache_bytes, API_REPLY_MAX_AGE_MS)};
    const http_route_table *tables[SERVED_TABLES];
    size_t ntables = served_tables(tables);
    http_config hc = {.host = cfg->listen_host, .port = cfg->listen_port, .threads = cfg->threads,
                      .max_body_bytes = cfg->max_body, .request_timeout_seconds = cfg->request_timeout,
                      .max_connections = cfg->max_connections,
                      .max_connections_per_ip = cfg->max_connections_per_ip ? (int)cfg->max_connections_per_ip : -1,
                      .access_log = cfg->access_log};
    /* Block the stop signals in every thread; main waits for them below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
    /* A large reply (a dense schedule's availability: a few MB) is one buffer.
     * glibc raises its mmap threshold after the first such buffer is freed, so
     * later ones stay in the thread arenas after their reply; a fixed threshold
     * keeps each in its own mapping, returned on free (docs/PERFORMANCE.md). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
    char *err = NULL;
    http_server *srv = http_start(&hc, tables, ntables, &a, &err);
    if (!srv) {
        fprintf(stderr, "boxoffice: cannot serve on %s:%u: %s\n", cfg->listen_host, cfg->listen_port,
                err ? err : "unknown error");
        free(err);
        http_reply_cache_free(a.replies);
        return 1;
    }
    /* The probe listener has connections of its own, so a flood of the main
     * address (whatever its source addresses) never reaches them. Probes are
     * few and quick: a small budget and a short deadline. */
    http_server *probe_srv = NULL;
    const http_route_table *probe_tables[] = {root_routes()}; /* the server keeps this pointer */
    if (*cfg->probe_host) {
        http_config pc = {.host = cfg->probe_host, .port = cfg->probe_port, .threads = 0, .max_body_bytes = 1024,
                          .request_timeout_seconds = 2, .max_connections = 64, .max_connections_per_ip = -1,
                          .access_log = false};
        probe_srv = http_start(&pc, probe_tables, 1, &a, &err);
        if (!probe_srv) {
            fprintf(stderr, "boxoffice: cannot serve probes on %s:%u: %s\n", cfg->probe_host, cfg->probe_port,
                    err ? err : "unknown error");
            free(err);
            http_stop(srv);
            http_reply_cache_free(a.replies);
            return 1;
        }
        log_info("probes on http://%s:%u/healthz", cfg->probe_host, http_port(probe_srv));
    }
    http_config limits = http_limits(srv);
    char per_ip[32] = "no limit";
    if (limits.max_connections_per_ip > 0) snprintf(per_ip, sizeof per_ip, "%d", limits.max_connections_per_ip);
    log_info("serving on http://%s:%u (db %s; at most %u connections, per address %s, request timeout %us)",
             cfg->listen_host, http_port(srv), strncmp(cfg->db, "sqlite:", 7) ? "postgresql" : cfg->db,
             limits.max_connections, per_ip, limits.request_timeout_seconds);
    int sig = 0;
    sigwait(&stop, &sig);
    log_info("signal %d: finishing in-flight requests", sig);
    http_stop(srv);
    http_stop(probe_srv);
    http_reply_cache_free(a.replies);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        }
    if (!strcmp(cmd, "version")) {
        printf("boxoffice %s\n", BOXOFFICE_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "routes")) return print_routes();
    bool known = !strcmp(cmd, "serve") || !strcmp(cmd, "migrate") || !strcmp(cmd, "demo") || !strcmp(cmd, "account");
    if (!known) return fail("unknown command %s (see --help)", cmd, NULL);
    config cfg;
    config_defaults(&cfg);
    account_args acct = {0};
    int rc = parse_args(argc, argv, &cfg, &acct);
    if (rc) return rc;
    if (!secure_init()) return fail("%s", "libsodium failed to initialise", NULL);
    char key_path[sizeof cfg.db + sizeof ".key"];
    const char *why;
    if (!config_key_path(&cfg, key_path, sizeof key_path, &why)) return fail("%s", why, NULL);
    if (cfg.sqlite_max_pages && strncmp(cfg.db, "sqlite:", 7))
        return fail("%s", "--sqlite-max-pages is for SQLite databases only", NULL);
    store *st = open_store(&cfg);
    if (!st) return 1;
    if (cfg.sqlite_max_pages && store_cap_pages(st, cfg.sqlite_max_pages) != STORE_OK) {
        store_close(st);
        return complain(1, "cannot cap the database's size");
    }
    char analytics_dir[sizeof cfg.db + sizeof "-analytics-events"];
    if (!config_analytics_dir(&cfg, analytics_dir, sizeof analytics_dir)) {
        store_close(st);
        return fail("%s", "the analytics directory's path is too long", NULL);
    }
    char *log_err = NULL;
    if (!strcmp(cmd, "serve") && analytics_dir[0] && store_analytics_log_open(st, analytics_dir, &log_err) != STORE_OK) {
        store_close(st);
        rc = complain(1, log_err ? log_err : "cannot open the analytics log");
        free(log_err);
        return rc;
    }
    if (!strcmp(cmd, "migrate")) {
        rc = migrate(st, key_path, cfg.key_file[0] != 0);
        store_close(st);
        return rc;
    }
    rc = settle_key(st, key_path, cfg.key_file[0] != 0, false);
    if (rc) {
        store_close(st);
        return rc;
    }
    engine_config ec = {.default_hold_seconds = cfg.hold_seconds, .reaper_interval_ms = cfg.reaper_interval_ms,
                        .start_workers = !strcmp(cmd, "serve"), .webhook_allow = cfg.webhook_allow,
                        .catalog_codec = &catalog_doc_json_codec,
                        .analytics_retention_days = cfg.analytics_retention_days,
                        .analytics_per_ip_per_minute = cfg.analytics_per_ip_per_minute,
                        .analytics_per_cookie_per_minute = cfg.analytics_per_cookie_per_minute,
                        .pricing_interval_ms = cfg.pricing_interval_ms, .pricing_horizon_days = cfg.pricing_horizon_days,
                        .pricing_prior_orders_per_hour = cfg.pricing_prior_orders_per_hour,
                        .pricing_prior_elasticity = cfg.pricing_prior_elasticity};
    engine *e = engine_open(st, &ec);
    if (!strcmp(cmd, "demo")) {
        bo_error err = {0};
        rc = demo_seed(e, &err) == BO_OK ? 0 : 1;
        if (rc) fprintf(stderr, "boxoffice: demo: %s\n", err.message);
    } else if (!strcmp(cmd, "account")) {
        if (!acct.slug || !acct.timezone || !acct.currency || !acct.admin_token) {
            rc = fail("%s", "account needs --slug, --timezone, --currency and --admin-token", NULL);
        } else {
            rc = create_account(e, &acct);
        }
    } else {
        rc = run_serve(&cfg, e);
    }
    engine_close(e);
    store_close(st);
    return rc;
}
