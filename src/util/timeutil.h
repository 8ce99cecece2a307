/* Dates, times and time zones. Instants are int64 microseconds since the Unix
 * epoch (UTC); calendar dates are days since 1970-01-01; times of day are
 * seconds since local midnight. Zone rules come from the system tzdata via
 * GLib's GTimeZone, so DST transitions follow the IANA database. */
#ifndef BO_TIMEUTIL_H
#define BO_TIMEUTIL_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t instant_us;
typedef int32_t civil_date;   /* days since 1970-01-01 */
#define US_PER_SEC 1000000LL
#define SECS_PER_DAY 86400

/* The server clock. Tests may shift it forward (clock_advance) when the server
 * runs with a test clock; the shift is process-wide and atomic. */
instant_us clock_now(void);
void clock_advance(int64_t seconds);
int64_t clock_offset_seconds(void);
/* A condition variable whose timed waits take CLOCK_MONOTONIC deadlines, which
 * neither the test clock nor a wall-clock step moves. */
void monotonic_cond_init(pthread_cond_t *cond);

civil_date date_from_ymd(int y, int m, int d);
void date_to_ymd(civil_date day, int *y, int *m, int *d);
bool date_parse(const char *text, civil_date *out);        /* strict YYYY-MM-DD, rejects 2023-02-30 */
void date_format(civil_date day, char out[11]);
int date_weekday(civil_date day);                           /* 0 = Monday .. 6 = Sunday */

bool time_of_day_parse(const char *text, int32_t *secs);   /* HH:MM or HH:MM:SS */
void time_of_day_format(int32_t secs, char out[9]);        /* HH:MM:SS */

bool tz_valid(const char *tz);
/* UTC offset in seconds in zone `tz` at instant `t`. */
int32_t tz_offset_at(const char *tz, instant_us t);
/* The instant of local wall time (day, secs) in `tz`; in a DST gap the later
 * interpretation is used, in an overlap the earlier one. */
instant_us tz_local_to_instant(const char *tz, civil_date day, int32_t secs);
void tz_instant_to_local(const char *tz, instant_us t, civil_date *day, int32_t *secs);
void tz_offset_format(int32_t offset_secs, char out[7]);   /* +02:00 */
/* tz_offset_at for many instants of few days (a reply's timeslots): the memo
 * remembers the offset over the local day of the last lookup when the zone
 * has one offset all that day, so the zone is searched about once per day.
 * Start from TZ_OFFSET_MEMO_INIT; `tz` must outlive the memo's use. */
typedef struct {
    const char *tz;
    instant_us from, to; /* [from, to): offset holds */
    int32_t offset;
} tz_offset_memo;
#define TZ_OFFSET_MEMO_INIT {NULL, 0, 0, 0}
int32_t tz_offset_memo_at(tz_offset_memo *m, const char *tz, instant_us t);

/* ISO 8601: "2023-03-04T13:30:00Z", "...+01:00", fractions, or a bare date or
 * a local time without offset (interpreted in `tz_for_local`, UTC if NULL). */
bool iso_parse(const char *text, const char *tz_for_local, instant_us *out);
/* "2022-08-05T09:00:33.123456+00:00" rendered in zone tz (UTC if NULL). */
void iso_format(instant_us t, const char *tz, char *out, size_t outlen);
/* Same, no fractional part: "2022-08-05T09:00:33+00:00". */
void iso_format_seconds(instant_us t, const char *tz, char *out, size_t outlen);

/* ISO 8601 duration "PT1H30M", "P1D" -> seconds. */
bool duration_parse(const char *text, int64_t *secs);
void duration_format(int64_t secs, char *out, size_t outlen);
#endif
