/* Server settings: defaults, then the config file, then BOXOFFICE_* environment
 * variables, then command-line flags; each later source overrides. */
#ifndef BO_CONFIG_H
#define BO_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char db[1024];
    char listen_host[64];
    unsigned short listen_port;
    char probe_host[64];      /* "" = no probe listener */
    unsigned short probe_port; /* a second address serving only /healthz, with its own connections */
    unsigned threads;
    size_t max_body;
    unsigned request_timeout;       /* seconds a client has to send a request or take a reply */
    unsigned max_connections;       /* open at once */
    unsigned max_connections_per_ip; /* from one address; 0 = no limit (behind a proxy that is the only client) */
    char key_file[512]; /* "": beside a SQLite database (config_key_path) */
    int64_t hold_seconds;
    bool access_log;
    bool test_clock;
    long rate_limit_per_hour;
    int64_t oauth_token_ttl;
    unsigned reaper_interval_ms;
    /* SQLite: refuse writes that would grow the database past this many pages
     * (0: no cap); a quota, and how tests make a database full (tests/http/test_readiness.py) */
    int64_t sqlite_max_pages;
    /* rendered replies of read endpoints kept in memory (0: no reply cache) */
    int64_t reply_cache_bytes;
    char webhook_allow[512]; /* addresses webhooks may reach although private: "127.0.0.1,::1" (tests only) */
    /* Convious pricing analytics: retention in days; events per minute from one
     * /24 or /48 prefix and from one cookie */
    int analytics_retention_days;
    long analytics_per_ip_per_minute, analytics_per_cookie_per_minute;
    /* the raw analytics events' log directory (config_analytics_dir); "none": the database's table */
    char analytics_dir[512];
    /* dynamic pricing (docs/PRICING.md): the background recompute's period,
     * the days ahead it plans, and the prior of products without sales */
    unsigned pricing_interval_ms;
    int pricing_horizon_days;
    double pricing_prior_orders_per_hour, pricing_prior_elasticity;
} config;

void config_defaults(config *c);
/* Applies one setting by name ("db", "listen", ...); false with *why set on a bad value. */
bool config_set(config *c, const char *key, const char *value, const char **why);
bool config_load_file(config *c, const char *path, char *err, size_t errlen);
bool config_load_env(config *c, char *err, size_t errlen);
/* Where the server key lives: key_file when set, else beside a SQLite
 * database ("<database path>.key"), never relative to the working directory
 * unless the database path is. PostgreSQL has no file to sit beside, so it
 * needs key_file: false with *why then. */
bool config_key_path(const config *c, char *out, size_t outlen, const char **why);
/* Where raw analytics events are kept (store/analytics_log.c): analytics_dir
 * when set, else beside a SQLite database ("<database path>-analytics-events");
 * "" (the analytics_events table) for PostgreSQL without one, or when set to
 * "none". False when the path would not fit. */
bool config_analytics_dir(const config *c, char *out, size_t outlen);
#endif
