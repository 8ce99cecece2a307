#include "config.h"
#include "core/webhooks.h"
#include "http/http.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->db, sizeof c->db, "sqlite:var/boxoffice.db");
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    c->threads = 0; /* one thread per connection */
    c->max_body = 1024 * 1024;
    c->request_timeout = HTTP_DEFAULT_REQUEST_TIMEOUT;
    c->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    c->max_connections_per_ip = HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP;
    c->hold_seconds = 900;
    c->reply_cache_bytes = 32L << 20;
    c->access_log = true;
    c->rate_limit_per_hour = 2000;
    c->oauth_token_ttl = 3600;
    c->reaper_interval_ms = 1000;
    c->analytics_retention_days = 30;
    c->analytics_per_ip_per_minute = 6000;
    c->analytics_per_cookie_per_minute = 600;
    c->pricing_interval_ms = 600000;
    c->pricing_horizon_days = 14;
    c->pricing_prior_orders_per_hour = 0.2;
    c->pricing_prior_elasticity = 1.5;
}

/* A finite decimal in [lo, hi]. */
static bool parse_double(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !(d >= lo && d <= hi)) return false;
    *out = d;
    return true;
}

static bool parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) return false;
    *out = x;
    return true;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) return *out = true, true;
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) return *out = false, true;
    return false;
}

static bool parse_host_port(const char *v, char *host, size_t host_size, unsigned short *port)
{
    const char *colon = strrchr(v, ':');
    long n;
    if (!colon || colon == v || (size_t)(colon - v) >= host_size || !parse_long(colon + 1, 0, 65535, &n)) return false;
    snprintf(host, host_size, "%.*s", (int)(colon - v), v);
    *port = (unsigned short)n;
    return true;
}

bool config_set(config *c, const char *key, const char *v, const char **why)
{
    long n;
    if (!strcmp(key, "db")) {
        if (strncmp(v, "sqlite:", 7) && strncmp(v, "postgresql://", 13) && strncmp(v, "postgres://", 11))
            return *why = "must be sqlite:PATH or a postgresql:// URI", false;
        if (strlen(v) >= sizeof c->db) return *why = "too long", false;
        snprintf(c->db, sizeof c->db, "%s", v);
    } else if (!strcmp(key, "listen")) {
        if (!parse_host_port(v, c->listen_host, sizeof c->listen_host, &c->listen_port))
            return *why = "must be HOST:PORT", false;
    } else if (!strcmp(key, "probe_listen")) {
        if (!*v) c->probe_host[0] = 0;
        else if (!parse_host_port(v, c->probe_host, sizeof c->probe_host, &c->probe_port))
            return *why = "must be HOST:PORT (or empty: none)", false;
    } else if (!strcmp(key, "threads")) {
        if (!parse_long(v, 0, 1024, &n)) return *why = "must be 0..1024", false;
        c->threads = (unsigned)n;
    } else if (!strcmp(key, "max_body")) {
        if (!parse_long(v, 1024, 64L * 1024 * 1024, &n)) return *why = "must be 1024..67108864 bytes", false;
        c->max_body = (size_t)n;
    } else if (!strcmp(key, "request_timeout")) {
        if (!parse_long(v, 1, 3600, &n)) return *why = "must be 1..3600 seconds", false;
        c->request_timeout = (unsigned)n;
    } else if (!strcmp(key, "max_connections")) {
        if (!parse_long(v, 16, 1000000, &n)) return *why = "must be 16..1000000", false;
        c->max_connections = (unsigned)n;
    } else if (!strcmp(key, "max_connections_per_ip")) {
        if (!parse_long(v, 0, 1000000, &n)) return *why = "must be 0 (no limit)..1000000", false;
        c->max_connections_per_ip = (unsigned)n;
    } else if (!strcmp(key, "key_file")) {
        if (!*v || strlen(v) >= sizeof c->key_file) return *why = "must be a path", false;
        snprintf(c->key_file, sizeof c->key_file, "%s", v);
    } else if (!strcmp(key, "hold_seconds")) {
        if (!parse_long(v, 10, 7 * 86400, &n)) return *why = "must be 10..604800", false;
        c->hold_seconds = n;
    } else if (!strcmp(key, "access_log")) {
        if (!parse_bool(v, &c->access_log)) return *why = "must be true or false", false;
    } else if (!strcmp(key, "test_clock")) {
        if (!parse_bool(v, &c->test_clock)) return *why = "must be true or false", false;
    } else if (!strcmp(key, "rate_limit_per_hour")) {
        if (!parse_long(v, 1, 100000000, &n)) return *why = "must be 1..100000000", false;
        c->rate_limit_per_hour = n;
    } else if (!strcmp(key, "oauth_token_ttl")) {
        if (!parse_long(v, 60, 30L * 86400, &n)) return *why = "must be 60..2592000 seconds", false;
        c->oauth_token_ttl = n;
    } else if (!strcmp(key, "reaper_interval_ms")) {
        if (!parse_long(v, 0, 3600000, &n)) return *why = "must be 0..3600000", false;
        c->reaper_interval_ms = (unsigned)n;
    } else if (!strcmp(key, "sqlite_max_pages")) {
        if (!parse_long(v, 0, 1L << 40, &n)) return *why = "must be 0 (no cap) .. 1099511627776 pages", false;
        c->sqlite_max_pages = n;
    } else if (!strcmp(key, "reply_cache_bytes")) {
        if (!parse_long(v, 0, 1L << 40, &n)) return *why = "must be 0 (no cache) .. 1099511627776 bytes", false;
        c->reply_cache_bytes = n;
    } else if (!strcmp(key, "pricing_interval_ms")) {
        if (!parse_long(v, 1000, 86400000, &n)) return *why = "must be 1000..86400000", false;
        c->pricing_interval_ms = (unsigned)n;
    } else if (!strcmp(key, "pricing_horizon_days")) {
        if (!parse_long(v, 1, 366, &n)) return *why = "must be 1..366", false;
        c->pricing_horizon_days = (int)n;
    } else if (!strcmp(key, "pricing_prior_orders_per_hour")) {
        if (!parse_double(v, 1e-6, 10000, &c->pricing_prior_orders_per_hour))
            return *why = "must be a number from 0.000001 to 10000", false;
    } else if (!strcmp(key, "pricing_prior_elasticity")) {
        if (!parse_double(v, 0.05, 20, &c->pricing_prior_elasticity))
            return *why = "must be a number from 0.05 to 20", false;
    } else if (!strcmp(key, "webhook_allow")) {
        webhook_net nets[WEBHOOK_MAX_ALLOW];
        int count;
        if (strlen(v) >= sizeof c->webhook_allow) return *why = "too long", false;
        if (!webhooks_parse_allow(v, nets, WEBHOOK_MAX_ALLOW, &count, why)) return false;
        snprintf(c->webhook_allow, sizeof c->webhook_allow, "%s", v);
    } else if (!strcmp(key, "analytics_retention_days")) {
        if (!parse_long(v, 1, 3650, &n)) return *why = "must be 1..3650 days", false;
        c->analytics_retention_days = (int)n;
    } else if (!strcmp(key, "analytics_per_ip_per_minute")) {
        if (!parse_long(v, 1, 100000000, &n)) return *why = "must be 1..100000000", false;
        c->analytics_per_ip_per_minute = n;
    } else if (!strcmp(key, "analytics_per_cookie_per_minute")) {
        if (!parse_long(v, 1, 100000000, &n)) return *why = "must be 1..100000000", false;
        c->analytics_per_cookie_per_minute = n;
    } else if (!strcmp(key, "analytics_dir")) {
        if (!*v || strlen(v) >= sizeof c->analytics_dir) return *why = "must be a path or none", false;
        snprintf(c->analytics_dir, sizeof c->analytics_dir, "%s", v);
    } else {
        return *why = "unknown setting", false;
    }
    return true;
}

bool config_key_path(const config *c, char *out, size_t outlen, const char **why)
{
    if (c->key_file[0]) {
        if ((size_t)snprintf(out, outlen, "%s", c->key_file) >= outlen) return *why = "key_file is too long", false;
        return true;
    }
    if (strncmp(c->db, "sqlite:", 7))
        return *why = "a PostgreSQL database needs the server key's path: --key-file, key_file or BOXOFFICE_KEY_FILE",
               false;
    if ((size_t)snprintf(out, outlen, "%s.key", c->db + 7) >= outlen) return *why = "the database path is too long", false;
    return true;
}

bool config_analytics_dir(const config *c, char *out, size_t outlen)
{
    if (!strcmp(c->analytics_dir, "none")) return snprintf(out, outlen, "%s", "") >= 0;
    if (c->analytics_dir[0]) return (size_t)snprintf(out, outlen, "%s", c->analytics_dir) < outlen;
    if (strncmp(c->db, "sqlite:", 7)) return snprintf(out, outlen, "%s", "") >= 0;
    return (size_t)snprintf(out, outlen, "%s-analytics-events", c->db + 7) < outlen;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

bool config_load_file(config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read config file %s", path);
        return false;
    }
    char line[2048];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
            fclose(f);
            return false;
        }
        *eq = 0;
        const char *why;
        char *key = trim(s), *val = trim(eq + 1);
        if (!config_set(c, key, val, &why)) {
            snprintf(err, errlen, "%s:%d: %s %s", path, lineno, key, why);
            fclose(f);
            return false;
        }
    }
    fclose(f);
    return true;
}

bool config_load_env(config *c, char *err, size_t errlen)
{
    static const char *keys[] = {"db", "listen", "probe_listen", "threads", "max_body", "request_timeout", "max_connections",
                                 "max_connections_per_ip", "key_file", "hold_seconds", "access_log", "test_clock",
                                 "rate_limit_per_hour", "oauth_token_ttl", "reaper_interval_ms", "webhook_allow",
                                 "sqlite_max_pages", "reply_cache_bytes", "analytics_retention_days",
                                 "analytics_per_ip_per_minute", "analytics_per_cookie_per_minute", "analytics_dir",
                                 "pricing_interval_ms", "pricing_horizon_days", "pricing_prior_orders_per_hour",
                                 "pricing_prior_elasticity"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "BOXOFFICE_");
        for (size_t j = 0; keys[i][j] && j < 50; j++) {
            name[10 + j] = (char)toupper((unsigned char)keys[i][j]);
            name[11 + j] = 0;
        }
        const char *v = getenv(name), *why;
        if (v && !config_set(c, keys[i], v, &why)) {
            snprintf(err, errlen, "%s: %s", name, why);
            return false;
        }
    }
    return true;
}
