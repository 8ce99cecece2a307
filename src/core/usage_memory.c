/* Used seats per pool and day, kept in memory so that availability is
 * computed without a query per request. Entries are (account, pool, day):
 * a day's occurrences with their used counts, the day's inventory version they
 * were read at, and when. A request rereads, in one range query, the span of
 * days whose entry is missing, of an older version (this process wrote since)
 * or older than USAGE_FRESH_MS (another process may have). */
#include "core/internal.h"
#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* Beyond this many entries the memory is dropped and refilled on demand. */
#define USAGE_MAX_ENTRIES 200000

typedef struct {
    char *occurrence;
    int64_t used;
} usage_row;

typedef struct {
    uint64_t version;
    int64_t read_ms;
    size_t n;
    usage_row *rows;
} usage_day;

struct usage_memory {
    pthread_mutex_t lock;
    GHashTable *days; /* "account\x1fpool\x1fday" -> usage_day */
};

static void usage_day_free(void *p)
{
    usage_day *d = p;
    for (size_t i = 0; i < d->n; i++) g_free(d->rows[i].occurrence);
    g_free(d->rows);
    g_free(d);
}

struct usage_memory *usage_memory_new(void)
{
    struct usage_memory *m = calloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    m->days = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, usage_day_free);
    return m;
}

void usage_memory_free(struct usage_memory *m)
{
    if (!m) return;
    g_hash_table_destroy(m->days);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static void day_key(char *out, size_t size, const char *account_id, const char *pool_id, civil_date day)
{
    g_snprintf(out, size, "%s\x1f%s\x1f%d", account_id, pool_id, (int)day);
}

static int64_t now_ms(void) { return g_get_monotonic_time() / 1000; }

/* Rows read from the store, bucketed by day before they replace the entries. */
typedef struct {
    civil_date from;
    size_t ndays;
    GArray **rows; /* per day of the span; index ndays: undated keys (whole pool) */
} fresh_read;

static void take_row(void *ctx, const char *occurrence, int64_t used)
{
    fresh_read *f = ctx;
    civil_date day = occurrence_day(occurrence);
    size_t i = day >= f->from && (size_t)(day - f->from) < f->ndays ? (size_t)(day - f->from) : f->ndays;
    usage_row row = {g_strdup(occurrence), used};
    g_array_append_val(f->rows[i], row);
}

static bool current(const usage_day *d, uint64_t version, int64_t now)
{
    return d && d->version == version && now - d->read_ms < USAGE_FRESH_MS;
}

store_status usage_read(engine *e, const char *account_id, const char *pool_id, bool ranged, civil_date from,
                        civil_date to, void (*fn)(void *ctx, const char *occurrence, int64_t used), void *ctx)
{
    struct usage_memory *m = e->usage;
    /* a pool counted as a whole, or an event's occurrences: one entry, day -1,
     * following any inventory change of the account */
    if (!ranged) from = -1, to = 0;
    size_t ndays = (size_t)(to - from);
    uint64_t *versions = g_new(uint64_t, ndays);
    for (size_t i = 0; i < ndays; i++)
        versions[i] = inventory_day_version(e, account_id, ranged ? from + (civil_date)i : -1);
    char key[160];
    int64_t now = now_ms();
    civil_date stale_lo = to, stale_hi = from - 1;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < ndays; i++) {
        day_key(key, sizeof key, account_id, pool_id, from + (civil_date)i);
        if (!current(g_hash_table_lookup(m->days, key), versions[i], now)) {
            if (from + (civil_date)i < stale_lo) stale_lo = from + (civil_date)i;
            stale_hi = from + (civil_date)i;
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (stale_lo <= stale_hi) {
        fresh_read f = {ranged ? stale_lo : -1, (size_t)(stale_hi - stale_lo + 1), NULL};
        f.rows = g_new(GArray *, f.ndays + 1);
        for (size_t i = 0; i <= f.ndays; i++) f.rows[i] = g_array_new(FALSE, FALSE, sizeof(usage_row));
        store_status st;
        if (ranged) {
            char from_key[64], to_key[64];
            occurrence_key(stale_lo, -1, from_key);
            occurrence_key(stale_hi + 1, -1, to_key);
            st = store_inventory_used(e->st, account_id, pool_id, from_key, to_key, take_row, &f);
        } else {
            st = store_inventory_used(e->st, account_id, pool_id, NULL, NULL, take_row, &f);
        }
        if (!ranged) { /* everything is the one entry's */
            g_array_append_vals(f.rows[0], f.rows[1]->data, f.rows[1]->len);
            g_array_set_size(f.rows[1], 0);
        }
        pthread_mutex_lock(&m->lock);
        if (g_hash_table_size(m->days) > USAGE_MAX_ENTRIES) g_hash_table_remove_all(m->days);
        for (size_t i = 0; i < f.ndays; i++) {
            if (st == STORE_OK) {
                usage_day *d = g_new0(usage_day, 1);
                d->version = versions[(size_t)(f.from - from) + i];
                d->read_ms = now;
                d->n = f.rows[i]->len;
                d->rows = (usage_row *)(void *)g_array_free(f.rows[i], FALSE);
                day_key(key, sizeof key, account_id, pool_id, f.from + (civil_date)i);
                g_hash_table_replace(m->days, g_strdup(key), d);
            } else {
                for (guint j = 0; j < f.rows[i]->len; j++) g_free(g_array_index(f.rows[i], usage_row, j).occurrence);
                g_array_free(f.rows[i], TRUE);
            }
        }
        pthread_mutex_unlock(&m->lock);
        for (guint j = 0; j < f.rows[f.ndays]->len; j++) g_free(g_array_index(f.rows[f.ndays], usage_row, j).occurrence);
        g_array_free(f.rows[f.ndays], TRUE);
        g_free(f.rows);
        if (st != STORE_OK) {
            g_free(versions);
            return st;
        }
    }
    g_free(versions);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < ndays; i++) {
        day_key(key, sizeof key, account_id, pool_id, from + (civil_date)i);
        const usage_day *d = g_hash_table_lookup(m->days, key);
        for (size_t j = 0; d && j < d->n; j++) fn(ctx, d->rows[j].occurrence, d->rows[j].used);
    }
    pthread_mutex_unlock(&m->lock);
    return STORE_OK;
}
