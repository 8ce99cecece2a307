#include "util/timeutil.h"
#include <ctype.h>
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t clock_shift_secs;

instant_us clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (instant_us)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000 + atomic_load(&clock_shift_secs) * US_PER_SEC;
}

void clock_advance(int64_t seconds) { atomic_fetch_add(&clock_shift_secs, seconds); }
int64_t clock_offset_seconds(void) { return atomic_load(&clock_shift_secs); }

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
civil_date date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int)doe - 719468;
}

void monotonic_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

void date_to_ymd(civil_date z, int *y, int *m, int *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dim[m - 1];
}

static bool digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i])) return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

static bool parse_ymd(const char *p, civil_date *out)
{
    int y, m, d;
    if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &m) || p[7] != '-' || !digits(p + 8, 2, &d))
        return false;
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
    *out = date_from_ymd(y, m, d);
    return true;
}

bool date_parse(const char *text, civil_date *out)
{
    if (!text || strlen(text) != 10) return false;
    return parse_ymd(text, out);
}

/* Two decimal digits of v (0..99) at out: the formatters below run per
 * timeslot of a reply, where snprintf's format parsing was most of their cost. */
static void two_digits(char *out, int v)
{
    out[0] = (char)('0' + v / 10);
    out[1] = (char)('0' + v % 10);
}

void date_format(civil_date day, char out[11])
{
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    y %= 10000;
    if (y < 0) { /* before year 0: never a booking, but printed as snprintf always did */
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y, m, d);
        memcpy(out, tmp, 10);
        out[10] = 0;
        return;
    }
    two_digits(out, y / 100);
    two_digits(out + 2, y % 100);
    out[4] = '-';
    two_digits(out + 5, m);
    out[7] = '-';
    two_digits(out + 8, d);
    out[10] = 0;
}

int date_weekday(civil_date day)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int w = (day + 3) % 7;
    return w < 0 ? w + 7 : w;
}

static bool parse_hms(const char *p, size_t len, int32_t *secs, size_t *used)
{
    int h, mi, s = 0;
    if (len < 5 || !digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi)) return false;
    size_t n = 5;
    if (len >= 8 && p[5] == ':') {
        if (!digits(p + 6, 2, &s)) return false;
        n = 8;
    }
    if (h > 24 || mi > 59 || s > 59 || (h == 24 && (mi || s))) return false;
    *secs = h * 3600 + mi * 60 + s;
    *used = n;
    return true;
}

bool time_of_day_parse(const char *text, int32_t *secs)
{
    if (!text) return false;
    size_t used, len = strlen(text);
    if (!parse_hms(text, len, secs, &used)) return false;
    /* tolerate fractional seconds "14:15:00.000" */
    if (text[used] == '.') {
        used++;
        while (isdigit((unsigned char)text[used])) used++;
    }
    return text[used] == '\0';
}

void time_of_day_format(int32_t secs, char out[9])
{
    if (secs < 0) secs = 0;
    two_digits(out, (secs / 3600) % 100);
    out[2] = ':';
    two_digits(out + 3, (secs / 60) % 60);
    out[5] = ':';
    two_digits(out + 6, secs % 60);
    out[8] = 0;
}

/* GTimeZone objects are immutable and thread-safe; the cache saves re-reading
 * tzdata on every request. Entries are never removed, so a zone from it may be
 * borrowed for the life of the process. The lock guards the hash table; each
 * thread also remembers its last zone, which spares the lock on hot paths
 * (thread-local, so not shared state). */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *tz_cache;
static __thread char tls_tz_name[64];
static __thread GTimeZone *tls_tz;

/* An IANA zone name (UTC, Europe/Amsterdam, America/Argentina/Buenos_Aires,
 * Etc/GMT+5): components of letters, digits, '_', '+' and '-' joined by
 * single '/', the first starting with a letter. Never a path: GLib would open
 * any file named (/etc/passwd, ../x), so no leading '/', no '.', no "..". */
static bool tz_name_ok(const char *tz)
{
    if (!isalpha((unsigned char)tz[0])) return false;
    for (const char *p = tz; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '/') {
            if (!isalpha((unsigned char)p[1])) return false; /* no empty component, no trailing '/' */
            continue;
        }
        if (!(isascii(ch) && (isalnum(ch) || ch == '_' || ch == '+' || ch == '-'))) return false;
    }
    return true;
}

static GTimeZone *tz_get(const char *tz)
{
    if (!tz || !*tz) tz = "UTC";
    if (tls_tz && !strcmp(tls_tz_name, tz)) return tls_tz;
    if (!tz_name_ok(tz)) return NULL; /* never a file path for GLib to open */
    pthread_mutex_lock(&tz_lock);
    if (!tz_cache) tz_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_time_zone_unref);
    GTimeZone *z = g_hash_table_lookup(tz_cache, tz);
    if (!z) {
        z = g_time_zone_new_identifier(tz);
        if (z) g_hash_table_insert(tz_cache, g_strdup(tz), z);
    }
    pthread_mutex_unlock(&tz_lock);
    if (z && strlen(tz) < sizeof tls_tz_name) {
        snprintf(tls_tz_name, sizeof tls_tz_name, "%s", tz);
        tls_tz = z;
    }
    return z;
}

bool tz_valid(const char *tz)
{
    if (!tz || !*tz || strlen(tz) > 64 || !tz_name_ok(tz)) return false;
    return tz_get(tz) != NULL;
}

/* GLib finds a zone's interval by walking its list of transitions from the
 * first (about 180 for Europe/Amsterdam), which was a fifth of a 30-day
 * availability reply's CPU. Runs of lookups fall on the same few days, so
 * each thread remembers the last span of UTC seconds in which its zone had
 * one offset (thread-local: a memo, not shared state). */
typedef struct {
    GTimeZone *zone;
    gint64 from, to; /* [from, to) in seconds: UTC for the offset span, local for the day span */
    int32_t offset;
} offset_span;
static __thread offset_span tls_utc_span, tls_local_span;
#define SPAN_DAYS_LONG 32

/* The interval of GLib's zone that holds second `secs` (UTC), -1 if none. */
static int interval_at(GTimeZone *z, gint64 secs) { return g_time_zone_find_interval(z, G_TIME_TYPE_UNIVERSAL, secs); }

/* Spans tried, in local days from the day of the lookup: most weeks hold no
 * transition, so a span usually covers a whole reply; else one day. */
static const int span_days[] = {SPAN_DAYS_LONG, 1};

/* The offset at UTC second secs, and in *span the local days from the one
 * around it in which the zone keeps that offset (intervals are contiguous, so
 * a span's first and last second in the same interval say so), else that
 * second alone. */
static int32_t offset_and_span(GTimeZone *z, gint64 secs, offset_span *span)
{
    int interval = interval_at(z, secs);
    int32_t off = interval >= 0 ? g_time_zone_get_offset(z, interval) : 0;
    gint64 local = secs + off, day = local / SECS_PER_DAY - (local % SECS_PER_DAY < 0);
    gint64 first = day * SECS_PER_DAY - off;
    span->zone = z;
    span->offset = off;
    span->from = secs;
    span->to = secs + 1;
    if (interval < 0 || interval_at(z, first) != interval) return off;
    for (size_t i = 0; i < sizeof span_days / sizeof span_days[0]; i++)
        if (interval_at(z, first + span_days[i] * SECS_PER_DAY - 1) == interval) {
            span->from = first;
            span->to = first + span_days[i] * SECS_PER_DAY;
            break;
        }
    return off;
}

static gint64 floor_secs(instant_us t) { return t / US_PER_SEC - (t < 0 && t % US_PER_SEC); }

int32_t tz_offset_at(const char *tz, instant_us t)
{
    GTimeZone *z = tz_get(tz);
    if (!z) return 0;
    gint64 secs = floor_secs(t);
    if (tls_utc_span.zone == z && secs >= tls_utc_span.from && secs < tls_utc_span.to) return tls_utc_span.offset;
    return offset_and_span(z, secs, &tls_utc_span);
}

int32_t tz_offset_memo_at(tz_offset_memo *m, const char *tz, instant_us t)
{
    if (m->tz && tz && (m->tz == tz || !strcmp(m->tz, tz)) && t >= m->from && t < m->to) return m->offset;
    GTimeZone *z = tz_get(tz);
    if (!z) return 0;
    offset_span span;
    int32_t off = offset_and_span(z, floor_secs(t), &span);
    m->tz = tz;
    m->offset = off;
    m->from = span.from * US_PER_SEC;
    m->to = span.to * US_PER_SEC;
    return off;
}

/* How many local days from `day` on (SPAN_DAYS_LONG, 1 or 0) have one offset,
 * `off`, from two days before to two days after them: then each of their wall
 * times names exactly one instant, wall time minus `off` (no gap, no overlap:
 * another reading would differ by the difference of two offsets, under 48
 * hours, and fall in another interval). */
static int plain_days(GTimeZone *z, civil_date day, int32_t off)
{
    gint64 first = (gint64)day * SECS_PER_DAY - off;
    int interval = interval_at(z, first);
    if (interval < 0 || interval_at(z, first - 2 * SECS_PER_DAY) != interval) return 0;
    for (size_t i = 0; i < sizeof span_days / sizeof span_days[0]; i++)
        if (interval_at(z, first + (span_days[i] + 2) * SECS_PER_DAY - 1) == interval) return span_days[i];
    return 0;
}

instant_us tz_local_to_instant(const char *tz, civil_date day, int32_t secs)
{
    GTimeZone *z = tz_get(tz);
    gint64 local = (gint64)day * SECS_PER_DAY + secs;
    int32_t off = 0;
    /* a timeslot reply converts hundreds of wall times of a few days */
    if (z && tls_local_span.zone == z && local >= tls_local_span.from && local < tls_local_span.to)
        return (local - tls_local_span.offset) * US_PER_SEC;
    if (z) {
        gint64 t = local;
        int interval = g_time_zone_adjust_time(z, G_TIME_TYPE_STANDARD, &t);
        if (interval >= 0) off = g_time_zone_get_offset(z, interval);
        int days = interval >= 0 && t == local && secs >= 0 && secs < SECS_PER_DAY ? plain_days(z, day, off) : 0;
        if (days) tls_local_span = (offset_span){z, (gint64)day * SECS_PER_DAY, (gint64)(day + days) * SECS_PER_DAY, off};
        /* adjust_time moves a time in a gap forward; honour that shift */
        local = t;
    }
    return (local - off) * US_PER_SEC;
}

/* The wall clock at t under a fixed offset. */
static void local_at_offset(instant_us t, int32_t off, civil_date *day, int32_t *secs)
{
    int64_t s = t / US_PER_SEC;
    if (t < 0 && t % US_PER_SEC) s--;
    s += off;
    int64_t d = s / SECS_PER_DAY;
    int64_t r = s % SECS_PER_DAY;
    if (r < 0) { r += SECS_PER_DAY; d--; }
    *day = (civil_date)d;
    *secs = (int32_t)r;
}

void tz_instant_to_local(const char *tz, instant_us t, civil_date *day, int32_t *secs)
{
    local_at_offset(t, tz_offset_at(tz, t), day, secs);
}

void tz_offset_format(int32_t off, char out[7])
{
    out[0] = off < 0 ? '-' : '+';
    int64_t mag = off < 0 ? -(int64_t)off : off; /* INT32_MIN has no positive int32 */
    two_digits(out + 1, (int)(mag / 3600 % 100));
    out[3] = ':';
    two_digits(out + 4, (int)(mag / 60 % 60));
    out[6] = 0;
}

bool iso_parse(const char *text, const char *tz_for_local, instant_us *out)
{
    if (!text) return false;
    size_t len = strlen(text);
    if (len < 10 || len > 40) return false;
    civil_date day;
    if (!parse_ymd(text, &day)) return false;
    const char *p = text + 10;
    int32_t secs = 0;
    int64_t frac_us = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        size_t used;
        if (!parse_hms(p, strlen(p), &secs, &used)) return false;
        p += used;
        if (*p == '.' || *p == ',') {
            p++;
            int n = 0;
            if (!isdigit((unsigned char)*p)) return false;
            while (isdigit((unsigned char)*p)) {
                if (n < 6) { frac_us = frac_us * 10 + (*p - '0'); n++; }
                p++;
            }
            while (n++ < 6) frac_us *= 10;
        }
    } else if (*p) {
        return false;
    }
    if (*p == 'Z' || *p == 'z') {
        if (p[1]) return false;
        *out = ((instant_us)day * SECS_PER_DAY + secs) * US_PER_SEC + frac_us;
        return true;
    }
    if (*p == '+' || *p == '-') {
        int oh, om = 0;
        const char *q = p + 1;
        if (!digits(q, 2, &oh)) return false;
        q += 2;
        if (*q == ':') q++;
        if (*q) {
            if (!digits(q, 2, &om)) return false;
            q += 2;
        }
        if (*q || oh > 18 || om > 59) return false;
        int32_t off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        *out = ((instant_us)day * SECS_PER_DAY + secs - off) * US_PER_SEC + frac_us;
        return true;
    }
    if (*p) return false;
    *out = tz_local_to_instant(tz_for_local ? tz_for_local : "UTC", day, secs) + frac_us;
    return true;
}

static void format_common(instant_us t, const char *tz, char *out, size_t outlen, bool fraction)
{
    /* Offsets before standard time had seconds (Amsterdam +00:19:32 until
     * 1937), which ±HH:MM cannot carry: print the wall clock of the offset
     * printed, so the text still names exactly this instant. */
    int32_t off = tz_offset_at(tz, t);
    off -= off % 60;
    civil_date day;
    int32_t secs;
    local_at_offset(t, off, &day, &secs);
    char d[11], tod[9], offs[7];
    date_format(day, d);
    time_of_day_format(secs, tod);
    tz_offset_format(off, offs);
    int64_t us = t % US_PER_SEC;
    if (us < 0) us += US_PER_SEC;
    if (fraction)
        snprintf(out, outlen, "%sT%s.%06lld%s", d, tod, (long long)us, offs);
    else
        snprintf(out, outlen, "%sT%s%s", d, tod, offs);
}

void iso_format(instant_us t, const char *tz, char *out, size_t outlen) { format_common(t, tz, out, outlen, true); }
void iso_format_seconds(instant_us t, const char *tz, char *out, size_t outlen)
{
    format_common(t, tz, out, outlen, false);
}

#define DURATION_MAX_DAYS 1000000000LL

bool duration_parse(const char *text, int64_t *secs)
{
    if (!text || text[0] != 'P' || !text[1]) return false;
    const char *p = text + 1;
    bool in_time = false, any = false;
    int64_t total = 0;
    while (*p) {
        if (*p == 'T') {
            if (in_time) return false;
            in_time = true;
            p++;
            continue;
        }
        if (!isdigit((unsigned char)*p)) return false;
        int64_t v = 0;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (++n > 9) return false;
            v = v * 10 + (*p++ - '0');
        }
        char unit = *p++;
        int64_t mult;
        if (!in_time && unit == 'D') mult = SECS_PER_DAY;
        else if (!in_time && unit == 'W') mult = 7 * SECS_PER_DAY;
        else if (in_time && unit == 'H') mult = 3600;
        else if (in_time && unit == 'M') mult = 60;
        else if (in_time && unit == 'S') mult = 1;
        else return false;
        total += v * mult;
        /* designators may repeat ("P1W1W..."): bound the sum so it cannot
         * overflow and duration_format's days stay parseable (9 digits) */
        if (total >= DURATION_MAX_DAYS * SECS_PER_DAY) return false;
        any = true;
    }
    if (!any) return false;
    *secs = total;
    return true;
}

void duration_format(int64_t secs, char *out, size_t outlen)
{
    int64_t d = secs / SECS_PER_DAY, h = (secs % SECS_PER_DAY) / 3600, m = (secs % 3600) / 60, s = secs % 60;
    int n = snprintf(out, outlen, "P");
    if (d) n += snprintf(out + n, outlen - (size_t)n, "%lldD", (long long)d);
    if (h || m || s || !d) {
        n += snprintf(out + n, outlen - (size_t)n, "T");
        if (h) n += snprintf(out + n, outlen - (size_t)n, "%lldH", (long long)h);
        if (m) n += snprintf(out + n, outlen - (size_t)n, "%lldM", (long long)m);
        if (s || (!h && !m)) snprintf(out + n, outlen - (size_t)n, "%lldS", (long long)s);
    }
}
