/* Settings that decide where the server key lives and how large a SQLite
 * database may grow (src/config.c); no database. */
#include "check.h"
#include "config.h"
#include <string.h>

static void test_key_path(void)
{
    config c;
    char path[2048];
    const char *why = NULL;
    config_defaults(&c);
    CHECK(config_key_path(&c, path, sizeof path, &why) && !strcmp(path, "var/boxoffice.db.key"),
          "default: beside the default database");
    CHECK(config_set(&c, "db", "sqlite:/srv/box/sales.db", &why), "a SQLite database");
    CHECK(config_key_path(&c, path, sizeof path, &why) && !strcmp(path, "/srv/box/sales.db.key"),
          "beside the database, whatever the working directory");
    CHECK(config_set(&c, "db", "postgresql://localhost/box", &why), "a PostgreSQL database");
    why = NULL;
    CHECK(!config_key_path(&c, path, sizeof path, &why) && why && strstr(why, "--key-file"),
          "PostgreSQL without key_file: refused, saying what to set");
    CHECK(config_set(&c, "key_file", "/etc/boxoffice/server.key", &why), "key_file set");
    CHECK(config_key_path(&c, path, sizeof path, &why) && !strcmp(path, "/etc/boxoffice/server.key"),
          "key_file wins");
    CHECK(!config_set(&c, "key_file", "", &why), "an empty key_file is refused");
}

static void test_analytics_dir(void)
{
    config c;
    char path[2048];
    const char *why = NULL;
    config_defaults(&c);
    CHECK(config_set(&c, "db", "sqlite:/srv/box/sales.db", &why), "a SQLite database");
    CHECK(config_analytics_dir(&c, path, sizeof path) && !strcmp(path, "/srv/box/sales.db-analytics-events"),
          "analytics log: beside a SQLite database by default");
    CHECK(config_set(&c, "analytics_dir", "none", &why) && config_analytics_dir(&c, path, sizeof path) && !*path,
          "analytics log: none keeps raw events in the table");
    CHECK(config_set(&c, "db", "postgresql://localhost/box", &why) && config_set(&c, "analytics_dir", "", &why) == false,
          "analytics log: an empty path is refused");
    snprintf(c.analytics_dir, sizeof c.analytics_dir, "%s", "");
    CHECK(config_analytics_dir(&c, path, sizeof path) && !*path, "analytics log: PostgreSQL keeps the table by default");
    CHECK(config_set(&c, "analytics_dir", "/var/lib/boxoffice/events", &why) &&
              config_analytics_dir(&c, path, sizeof path) && !strcmp(path, "/var/lib/boxoffice/events"),
          "analytics log: a directory given is used on either database");
    CHECK(!config_analytics_dir(&c, path, 8), "analytics log: a path that does not fit is refused");
}

static void test_max_pages(void)
{
    config c;
    const char *why;
    config_defaults(&c);
    CHECK(c.sqlite_max_pages == 0, "no cap by default");
    CHECK(config_set(&c, "sqlite_max_pages", "5000", &why) && c.sqlite_max_pages == 5000, "a cap");
    CHECK(!config_set(&c, "sqlite_max_pages", "-1", &why) && !config_set(&c, "sqlite_max_pages", "many", &why),
          "a negative or non-numeric cap is refused");
}

static void test_pricing(void)
{
    config c;
    const char *why;
    config_defaults(&c);
    CHECK(c.pricing_interval_ms == 600000 && c.pricing_horizon_days == 14 && c.pricing_prior_orders_per_hour == 0.2 &&
              c.pricing_prior_elasticity == 1.5,
          "pricing: the documented defaults");
    CHECK(config_set(&c, "pricing_prior_orders_per_hour", "0.75", &why) && c.pricing_prior_orders_per_hour == 0.75 &&
              config_set(&c, "pricing_prior_elasticity", "2", &why) && c.pricing_prior_elasticity == 2 &&
              config_set(&c, "pricing_horizon_days", "30", &why) && c.pricing_horizon_days == 30 &&
              config_set(&c, "pricing_interval_ms", "60000", &why) && c.pricing_interval_ms == 60000,
          "pricing: set");
    CHECK(!config_set(&c, "pricing_prior_orders_per_hour", "0", &why) &&
              !config_set(&c, "pricing_prior_orders_per_hour", "nan", &why) &&
              !config_set(&c, "pricing_prior_orders_per_hour", "1e9", &why) &&
              !config_set(&c, "pricing_prior_elasticity", "1.5x", &why) &&
              !config_set(&c, "pricing_prior_elasticity", "", &why) && !config_set(&c, "pricing_horizon_days", "0", &why) &&
              !config_set(&c, "pricing_interval_ms", "10", &why),
          "pricing: zero, NaN, out of range or not a number refused");
    CHECK(c.pricing_prior_orders_per_hour == 0.75 && c.pricing_prior_elasticity == 2, "pricing: refusals changed nothing");
}

int main(void)
{
    test_key_path();
    test_analytics_dir();
    test_max_pages();
    test_pricing();
    return check_summary();
}
