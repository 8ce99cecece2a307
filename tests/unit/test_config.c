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

int main(void)
{
    test_key_path();
    test_max_pages();
    return check_summary();
}
